/*
 * artifact_transformer.h — the artifacts of the transformer side: activation sets (whole,
 * streamed by rows, planted) and transformer checkpoints (formats/artifact_activations.c,
 * formats/acts_rows.c, formats/artifact_planted.c, formats/artifact_transformer.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_ARTIFACT_TRANSFORMER_H
#define HUSAI_FORMATS_ARTIFACT_TRANSFORMER_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "h5.h"
#include "json.h"

/* == transformer checkpoints and activation sets (formats/artifact_transformer.c,
 *    formats/artifact_activations.c) == */

/* Activation set (husai.activation_set), docs/artifacts.md "Activation set".  Two layers:
 *  - what every set has: the matrix x (N, d) float32 with its statistics, and optional
 *    metadata (model, hook, layer, position; per-row token ids; the source file it was
 *    imported from with its sha256 and dtype).  Strings "" and layer < 0 mean unknown.
 *  - the modular-addition task columns (example_index, a, b, c, pos) with modulus, split and
 *    answer_position: present exactly when a != NULL (acts_has_task).  A writer gives all five
 *    columns or none; husai extract gives them, imports and planted-feature sets do not.
 * A set with the task columns is written as version 1 (byte for byte what husai always wrote);
 * one without as version 2, so an older husai refuses it by its version.  Task rows are in
 * the upstream order: the split_seed permutation of the examples, train part then val part. */
struct acts_set {
	size_t N, d;               /* rows, width */
	float *x;                  /* (N, d) activations */
	/* optional metadata, every set */
	char model[128];           /* the model the activations come from ("" unknown) */
	char hook[128];            /* task sets: resid_pre, resid_mid, resid_post, attn_out,
	                              mlp_out; imports: any hook name ("" unknown) */
	int64_t layer;             /* 0-based block index; < 0 unknown (imports only) */
	char position[32];         /* task sets: answer, equals, bos, first_operand, all; imports:
	                              free text ("" unknown) */
	int32_t *token_ids;        /* (N) token id of each row, or NULL */
	char source_file[256];     /* imports: the file converted (its name as given), "" else */
	char source_dataset[256];  /* imports: the tensor / dataset / key inside it */
	char source_dtype[16];     /* imports: float16, float32, float64 */
	char source_sha256[65];    /* imports: sha256 of source_file */
	/* the modular-addition task (all NULL / 0 in a set without them) */
	int32_t *example_index;    /* (N) example e = a*p + b of each row */
	int32_t *a, *b, *c;        /* (N) operands and answer */
	int32_t *pos;              /* (N) token position of each row (all positions: 0..T-1) */
	char answer_position[16];  /* the transformer's: equals (index 4) or upstream (index 5) */
	int64_t modulus, split_seed;
	double split_fraction;
	char rows[8];              /* "all" (every example; "" is written as all) or "train": only
	                              the first floor(p² split_fraction) examples of the split
	                              permutation (docs/formulas.md §1.4, train_simple_sae); attribute `rows`,
	                              absent in older files = all */
	char transformer_sha256[65];
	double mean, std, min, max; /* over all elements; std unbiased (docs/formulas.md §3) */
};
/* 1 when the set carries the modular-addition task columns. */
int acts_has_task(const struct acts_set *s);
/* For a consumer that needs the task columns: 0 when present, else a HUS_EINPUT error naming
 * `path`, saying `what` needs them and that this set (an import?) has none. */
int acts_require_task(const struct acts_set *s, const char *path, const char *what,
                      struct hus_err *err);
/* The same from the file alone (reads no matrix): 1 with task columns, 0 without, < 0 error. */
int acts_file_has_task(const char *path, struct hus_err *err);
/* Write atomically; computes the statistics from x.  On error nothing is left at path. */
int acts_write(const char *path, const struct acts_set *s, const struct hus_provenance *prov,
               struct hus_err *err);
/* The table describing an activation set's datasets (h5w_describe_all); a planted set
 * (artifact_planted.c) adds its /truth rows to it. */
extern const struct h5_doc acts_doc[];
/* Read and validate (format, version, shapes, finite values: a NaN/Inf row is named; with
 * task columns: each row agrees with the modulus, `rows` all or train, and a train set holds
 * exactly the train part of the split, in order). */
int acts_read(const char *path, struct acts_set *s, struct hus_err *err);
/* The statistics of /stats in two passes over the values in file order (the sum, min and max
 * first, then the squared deviations from that mean), so a streamed matrix gets the same bits
 * as acts_write on the whole of it. */
struct acts_stats {
	double s, lo, hi, ss;
	size_t n;
};
void acts_stats_init(struct acts_stats *st);
void acts_stats_pass1(struct acts_stats *st, const float *x, size_t n);
void acts_stats_pass2(struct acts_stats *st, const float *x, size_t n); /* after every pass1 */
void acts_stats_result(const struct acts_stats *st, double *mean, double *std, double *mn,
                       double *mx);
/* Streaming writer for sets larger than memory: open with the metadata (meta->x unused, N and
 * d the final shape; columns, if any, borrowed until commit), append rows in order, commit
 * with the statistics of every row.  Atomic: nothing at path unless commit succeeds. */
struct acts_stream;
int acts_stream_open(struct acts_stream **st, const char *path, const struct acts_set *meta,
                     const struct hus_provenance *prov, struct hus_err *err);
int acts_stream_rows(struct acts_stream *st, const float *x, size_t nrows, struct hus_err *err);
int acts_stream_commit(struct acts_stream *st, const struct acts_stats *stats,
                       struct hus_err *err); /* frees st */
void acts_stream_abort(struct acts_stream *st); /* frees st; NULL is fine */
void acts_release(struct acts_set *s);
/* results.json's `activation_set` of a run on a user's set (formats/artifact_activations.c):
 * path, sha256, rows, d_model, task_columns and the set's metadata attributes (model, hook,
 * layer, source_*); NULL with err set on error. */
hj *acts_summary_json(const char *path, struct hus_err *err);
/* An activation set read a range of rows at a time (formats/acts_rows.c), for sets larger than
 * memory: the open checks the format, version, /activations (float32, rank 2, non-empty) and
 * /stats; each read checks its rows are finite (a bad row is named). */
struct acts_rows;
int acts_rows_open(struct acts_rows **a, const char *path, size_t *N, size_t *d,
                   struct hus_err *err);
int acts_rows_read(struct acts_rows *a, size_t row0, size_t n, float *out, struct hus_err *err);
void acts_rows_close(struct acts_rows *a); /* NULL is fine */
/* The first min(N, max_rows) rows of an activation set (an extracted, imported or planted
 * one), checked as acts_rows_open and acts_rows_read check them; only those rows are read.
 * *X is malloc'ed (rows, d). */
int acts_head_read(const char *path, size_t max_rows, float **X, size_t *rows, size_t *d,
                   struct hus_err *err);

/* Planted activation sets (formats/artifact_planted.c, docs/formulas.md §10): an activation
 * set drawn from a known dictionary, with the truth under /truth (docs/artifacts.md).
 * Written streamed: open with the totals, hand over blocks of rows in order, commit. */
struct planted_writer;
struct planted_meta {
	const float *dictionary;   /* (d, n): column i = feature i */
	const double *frequency;   /* (n) firing probability */
	const int32_t *parent;     /* (n) parent feature or -1 */
	const int32_t *group;      /* (n) correlated group or -1 */
	const char *description;   /* one line: the generator's laws and parameters */
};
int planted_open(struct planted_writer **p, const char *path, size_t N, size_t d, size_t n,
                 size_t nnz, const struct hus_provenance *prov, struct hus_err *err);
/* x (nrows, d); row r of the block has row_nnz[r] codes, the block's indices/values in order. */
int planted_rows(struct planted_writer *p, const float *x, size_t nrows, const int64_t *row_nnz,
                 const int32_t *indices, const float *values, struct hus_err *err);
int planted_commit(struct planted_writer *p, const struct planted_meta *m, struct hus_err *err);
void planted_abort(struct planted_writer *p);
/* results.json's `planted` block of a planted run (formats/artifact_planted.c): {file (as
 * given), description, rows, d, n_features, mean_l0} from the set's attributes and shapes;
 * NULL with err set when the file is not a planted set. */
hj *planted_summary_json(const char *path, const char *file, struct hus_err *err);
/* The truth of a planted set, validated (shapes, finite dictionary, CSR well formed). */
struct planted_truth {
	size_t d, n, N, nnz;
	float *dictionary;          /* (d, n) */
	int64_t *indptr;            /* (N + 1) */
	int32_t *indices;           /* (nnz) */
	float *values;              /* (nnz) */
};
int planted_truth_read(const char *path, struct planted_truth *t, struct hus_err *err);
void planted_truth_release(struct planted_truth *t);
int planted_is(const char *path); /* 1 for an activation set with /truth (no error reported) */

/* Transformer checkpoint (husai.transformer_checkpoint, version 1), docs/decisions.md §10, docs/formulas.md §2.5.
 * The caller describes the parameter tensors (names, shapes, places in one flat block); the
 * file holds /params/<name>, /optimizer/{step, exp_avg/<name>, exp_avg_sq/<name>},
 * /rng/{state, seed_init, seed_shuffle} (+ algorithm attribute), /metrics/{train_loss,
 * train_acc, val_loss, val_acc} [epochs], /progress/{epoch, step_in_epoch, part_loss_sum,
 * part_correct, part_seen, best_epoch, best_val_acc, train_fit_epoch, grokked_epoch} and,
 * as root attributes, the model shape, answer position (index and name), kind and best rule. */
struct tfck_entry {
	char name[48]; /* state-dict key */
	int rank;
	size_t dims[3];
	size_t offset, n; /* place inside the flat blocks */
};
struct tfck {
	/* model shape: root attributes, readable alone with tfck_peek */
	int64_t p, n_layers, d_model, n_heads, d_mlp, answer_index;
	char act[16];            /* relu, gelu, gelu_new */
	/* tensors: supplied by the caller for both write and read */
	size_t n_params, n_tensors;
	const struct tfck_entry *t;
	float *params, *exp_avg, *exp_avg_sq; /* (n_params) each; read fills caller memory */
	int64_t opt_step;        /* Adam steps taken */
	int64_t epoch;           /* completed epochs */
	int64_t step_in_epoch;   /* steps taken in the epoch in progress (0 at an epoch end) */
	double part_loss_sum;    /* sums over that partial epoch */
	int64_t part_correct, part_seen;
	int64_t best_epoch;      /* -1 when none */
	double best_val_acc;
	int64_t train_fit_epoch, grokked_epoch; /* -1 when not (yet) */
	char kind[16];           /* periodic, best, final, interrupt */
	char best_rule[160];
	char rng_algorithm[32];  /* "gsl_rng_mt19937" */
	uint8_t rng_state[8192]; /* shuffle generator state at the start of the current epoch */
	size_t rng_state_size;
	int64_t init_seed, shuffle_seed;
	size_t n_epochs;         /* metrics history length (== epoch) */
	double *train_loss, *train_acc, *val_loss, *val_acc; /* (n_epochs); read allocates */
	char *config_yaml;       /* read: malloc'ed resolved config */
};
/* Write atomically; on error nothing is left at path. */
int tfck_write(const char *path, const struct tfck *ck, const struct hus_provenance *prov,
               struct hus_err *err);
/* Describe every dataset of a transformer checkpoint being written (its dataset table; also
 * for husai import's converter, formats/import/import_transformer.c). */
int tfck_describe(struct h5w *w, struct hus_err *err);
/* Read the format, version and model-shape attributes (and config_yaml, malloc'ed) only. */
int tfck_peek(const char *path, struct tfck *ck, struct hus_err *err);
/* Read everything; ck->t, n_tensors, n_params and the three blocks are supplied by the
 * caller (from the peeked shape); every dataset's shape is validated against them, and
 * parameters must be finite. */
int tfck_read(const char *path, struct tfck *ck, struct hus_err *err);
/* Free what tfck_peek / tfck_read allocated (metrics, config_yaml), not the caller's blocks. */
void tfck_release(struct tfck *ck);

/* == end transformer == */

#endif
