/*
 * sae.h — the SAE family, its multi-seed trainer, streamed activation sets, run checkpoints
 * and `husai train-sae` (train/sae_*.c).
 * It is part of train.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_TRAIN_SAE_H
#define HUSAI_TRAIN_SAE_H

#include <stddef.h>
#include <stdint.h>

#include "formats.h"
#include "adam.h"

/* == SAE family and trainer == */

/*
 * The SAE family (docs/formulas.md §4, docs/decisions.md §3).  Internally the decoder is held as W_decT
 * (d_sae, d_model): row j is feature j's direction, the same numbers as column j of the
 * stored /params/W_dec [d_model, d_sae] (docs/decisions.md §10); only formats/artifact_sae.c transposes.
 *
 *   struct sae_hparams h;  sae_hparams_default(&h, SAE_TOPK, 128, 1024, 32);
 *   struct sae_model *s;   sae_model_alloc(&s, &h, 42, &err);   // seeded init (§4.2)
 *   struct sae_work *w;    sae_work_alloc(&w, &h, 2048, &err);  // all step buffers
 *   sae_step(s, w, xb, 2048, &st);                              // one Adam step, no malloc
 */
enum sae_arch {
	SAE_TOPK_UPSTREAM, /* §4.2–4.3: signed top-k, no ReLU, no b_dec (parity) */
	SAE_TOPK,          /* Gao et al. 2024: b_dec, ReLU on kept values, AuxK */
	SAE_RELU,          /* §4.4: ReLU + L1 */
	SAE_BATCHTOPK,     /* Bussmann et al. 2024: top k*B over the batch, EMA threshold */
	SAE_JUMPRELU,      /* Rajamanoharan et al. 2024: learned thresholds, STE, L0 */
	SAE_MATRYOSHKA,    /* BatchTopK + nested prefix reconstruction losses */
	SAE_N_ARCH
};
const char *sae_arch_name(enum sae_arch a);
int sae_arch_parse(const char *s, enum sae_arch *a); /* 0 or -1 */

#define SAE_MAX_PREFIX 16
struct sae_hparams {
	enum sae_arch arch;
	size_t d_model, d_sae, k;
	int use_b_dec;        /* forced 0 for topk_upstream */
	int upstream_aux;     /* topk_upstream: the §4.5 "aux" term */
	double aux_coef;      /* its coefficient; default 1/k */
	size_t k_aux;         /* topk AuxK: latents used to model the residual */
	double auxk_coef;     /* AuxK coefficient (Gao: 1/32) */
	int64_t dead_tokens;  /* AuxK dead window: not fired in this many tokens */
	double l1_coef;       /* relu: L1 coefficient (§4.5 default 1e-3) */
	int l1_decnorm;       /* relu: weight |z_j| by ||W_dec[:,j]|| */
	double jr_bandwidth;  /* jumprelu: STE kernel width epsilon */
	double jr_l0_coef;    /* jumprelu: L0 penalty coefficient */
	double jr_init_threshold;
	double bt_ema;        /* batchtopk/matryoshka: threshold EMA decay */
	size_t n_prefix;      /* matryoshka: prefix widths, increasing, last == d_sae */
	size_t prefix[SAE_MAX_PREFIX];
	double align_lambda;  /* §6.5 decoder-alignment penalty weight (needs a reference) */
	int grad_project;     /* remove the gradient component parallel to each decoder column */
	double lr, beta1, beta2, eps;
	int64_t warmup_steps; /* linear warm-up of the LR over this many steps; 0 = constant */
	double fire_eps;      /* |z| > fire_eps counts as firing (docs/formulas.md §4.8: 1e-8) */
	int64_t dead_threshold; /* dead latent: fewer firings than this in an epoch (10) */
};
void sae_hparams_default(struct sae_hparams *h, enum sae_arch arch, size_t d_model,
                         size_t d_sae, size_t k);
/* Validate; clamps k to d_sae with a warning on stderr (docs/formulas.md §4.3).  d_sae = 0 is an error. */
int sae_hparams_check(struct sae_hparams *h, const char *src, struct hus_err *err);

/* Parameters in one allocation with named views (each (d_sae, d_model) block row-major). */
struct sae_params {
	float *mem;
	size_t n;
	float *W_enc;     /* (d_sae, d_model) */
	float *b_enc;     /* (d_sae) */
	float *W_decT;    /* (d_sae, d_model): row j = column j of W_dec */
	float *b_dec;     /* (d_model); stays 0 when !use_b_dec */
	float *threshold; /* (d_sae): jumprelu learned; batchtopk EMA inference threshold */
};

struct sae_model {
	struct sae_hparams h;
	uint64_t seed;
	struct sae_params p, g, m, v; /* parameters, gradients, Adam moments */
	int64_t step;                 /* optimizer steps taken */
	int threshold_set;            /* batchtopk: EMA initialised */
	double *feature_counts;       /* (d_sae) cumulative firings over training */
	int64_t *since_fired;         /* (d_sae) tokens since last firing (AuxK dead window) */
	int64_t *epoch_fired;         /* (d_sae) firings in the current epoch */
	const float *ref_T;           /* alignment reference (m_ref, d_model), rows unit; or NULL */
	size_t m_ref;
};

/* Allocate and initialise (§4.2): W_enc ~ U(±sqrt(6/d_model)), b_enc = 0, W_dec ~
 * U(±sqrt(6/d_sae)) drawn in [d_model, d_sae] order then unit columns; from MT19937(seed)
 * with torch's 24-bit float uniform.  Moments zero, step 0. */
int sae_model_alloc(struct sae_model **s, const struct sae_hparams *h, uint64_t seed,
                    struct hus_err *err);
void sae_model_free(struct sae_model *s);
void sae_params_view(struct sae_params *p, float *mem, const struct sae_hparams *h);
/* Unit-norm each decoder column: w /= max(||w||, 1e-12) (§4.6). */
void sae_renorm_decoder(float *W_decT, size_t d_sae, size_t d_model);

struct sae_work; /* every buffer a step or an evaluation needs, for batches up to B */
int sae_work_alloc(struct sae_work **w, const struct sae_hparams *h, size_t B,
                   struct hus_err *err);
void sae_work_free(struct sae_work *w);

struct sae_step_stats {
	double loss, mse, aux, l1, l0, align; /* this batch; l0 = mean #(z != 0) per row */
};
/* Forward (train mode) on xb (B, d_model), losses, backward into s->g, optional alignment
 * penalty, optional gradient projection, Adam, decoder renorm, firing bookkeeping.
 * B must not exceed the workspace's.  No allocation. */
void sae_step(struct sae_model *s, struct sae_work *w, const float *xb, size_t B,
              struct sae_step_stats *st);
/* Loss and gradients only (s->g overwritten), for gradient checks; returns the loss. */
double sae_loss_grad(struct sae_model *s, struct sae_work *w, const float *xb, size_t B,
                     int train, struct sae_step_stats *st);
/* Inference forward: xhat (B, d_model) and l0 count per row; z_dense (B, d_sae) if non-NULL. */
void sae_forward(struct sae_model *s, struct sae_work *w, const float *xb, size_t B,
                 float *xhat, float *z_dense);

/* Decoder-alignment penalty (§6.5): P = 1 - mean_i max_j |<w_i/|w_i|, r_j>| with rows r_j of
 * ref_T unit; adds lambda * dP/dW_decT into g_T when g_T != NULL.  Returns P. */
double sae_align_penalty(float *g_T, const float *W_decT, const float *ref_T, size_t d_sae,
                         size_t m_ref, size_t d_model, double lambda);

/* Metrics of §4.8 over a whole matrix X (N, d_model), inference mode. */
struct sae_metrics {
	double mse, l0, l1, explained_variance /* ev_scalar */, ev_fvu;
	int64_t dead;      /* latents firing fewer than dead_threshold times over X */
};
/* The statistics of X the metrics need (constant while a trainer runs over X). */
struct sae_xstats {
	double gmean, ssx, ssx_dim; /* global mean; Σ (x - gmean)²; Σ_j Σ_b (x_bj - x̄_j)² */
};
int sae_xstats_of(struct sae_xstats *xs, const float *X, size_t N, size_t d);
/* xs: X's statistics from sae_xstats_of, or NULL to compute them here. */
void sae_eval(struct sae_model *s, struct sae_work *w, const float *X, size_t N,
              const struct sae_xstats *xs, struct sae_metrics *out,
              int64_t *fire_counts /* (d_sae) OUT or NULL */);

/* The same statistics and metrics fed a piece of X at a time, in row order (a set streamed
 * from disk, train/sae_batches.c): the same bits as the whole-matrix calls above.  xstats: begin
 * (mean_j: d doubles of workspace), pass1 over every row, mid, pass2 over every row, end.
 * eval: begin (fire_counts: d_sae entries, zeroed), rows in pieces cut at multiples of the
 * workspace's batch, end. */
struct sae_xstats_acc {
	double *mean_j, gmean, ssx, ssx_dim;
	size_t d, n;
};
void sae_xstats_begin(struct sae_xstats_acc *a, double *mean_j, size_t d);
void sae_xstats_pass1(struct sae_xstats_acc *a, const float *X, size_t n);
void sae_xstats_mid(struct sae_xstats_acc *a);
void sae_xstats_pass2(struct sae_xstats_acc *a, const float *X, size_t n);
void sae_xstats_end(const struct sae_xstats_acc *a, struct sae_xstats *xs);
struct sae_eval_acc {
	double sr, srr, l0, l1;
	int64_t *fc;
	size_t n;
};
void sae_eval_begin(struct sae_eval_acc *a, int64_t *fire_counts, size_t d_sae);
void sae_eval_rows(struct sae_eval_acc *a, struct sae_model *s, struct sae_work *w,
                   const float *X, size_t n);
void sae_eval_end(const struct sae_eval_acc *a, const struct sae_model *s, size_t d_model,
                  const struct sae_xstats *xs, struct sae_metrics *out);

/* Top-k of one row: hus_topk (numeric/topk.c). */

/* ---- the multi-seed trainer (train/sae_trainer.c) ---- */

struct sae_train_opts {
	int64_t epochs;       /* used when max_steps == 0 */
	int64_t max_steps;    /* 0 = epochs decide */
	size_t batch;
	int drop_last;        /* default 0 (A6) */
	uint64_t shuffle_seed;
	int per_seed_order;   /* 1: each seed shuffles with shuffle_seed + its seed */
	int64_t checkpoint_every; /* 0 = none */
	int shuffle_blocks;   /* sae.shuffle: blocks (train/sae_batches.c); 0 = rows, the default */
	size_t block_rows;    /* sae.shuffle_block: rows per logical block */
	size_t window_blocks; /* sae.shuffle_window: blocks whose rows are shuffled together */
};
/* Steps in one epoch: ceil(N/B), or floor with drop_last (§4.7: 7 / 6 at 2048 on 12769). */
int64_t sae_steps_per_epoch(size_t N, size_t B, int drop_last);

/* Batch order: a Fisher–Yates permutation drawn from an MT19937 stream. */
void sae_shuffle(int64_t *perm, size_t N, struct mt19937 *g);
/* Fisher–Yates of the N entries of perm as they are (sae_shuffle starts from the identity). */
void sae_permute(int64_t *perm, size_t N, struct mt19937 *g);
/* An epoch's order as the options say: sae_shuffle (rows), or the block shuffle of
 * train/sae_batches.c (blocks).  HUS_ENOMEM when its scratch cannot be had. */
int sae_order_draw(int64_t *perm, size_t N, const struct sae_train_opts *o, struct mt19937 *g);

struct sae_history { /* metrics per epoch */
	size_t n, cap;
	double *v[9]; /* loss, mse, l0, l1, explained_variance, ev_fvu, dead, step, aux */
};
extern const char *const sae_history_names[9];

struct sae_run {              /* one model being trained, and its batch-order stream */
	struct sae_model *s;
	struct sae_work *w;       /* its workspace (batch = opts.batch) */
	const char *condition;    /* name of its condition in a sweep ("" if none) */
	struct mt19937 order;     /* shuffle stream (shared streams are kept equal) */
	int64_t *perm;            /* (N) current epoch's order */
	int64_t epoch, pos;       /* epoch index, next position within perm */
	struct sae_history hist;
	double ep_loss, ep_aux;   /* running sums of the train loss this epoch */
	double last_loss;         /* the last step's train loss (a diverged run is caught by it) */
	int64_t ep_batches;
	struct sae_metrics final; /* eval over X after the last step */
	int64_t *final_counts;    /* (d_sae) firings of each latent over X in that eval */
	int have_final;
};
/* Append one row to a history (grows; returns HUS_ENOMEM on failure). */
int sae_history_push(struct sae_history *h, const double row[9]);
void sae_history_release(struct sae_history *h);
/* Hook called after every step (and at step 0 before training); a non-zero return stops
 * training with that code.  `final` is 1 after the last step. */
typedef int (*sae_hook_fn)(void *ctx, struct sae_run *runs, size_t n_runs, int final);

int sae_run_init(struct sae_run *r, struct sae_model *s, size_t N,
                 const struct sae_train_opts *o, struct hus_err *err);
void sae_run_release(struct sae_run *r);
/* Train every run over X (N, d_model), each step gathering its batch once per distinct
 * order; resumes from each run's (epoch, pos, step).  The hook runs after every step. */
int sae_train(struct sae_run *runs, size_t n_runs, const float *X, size_t N,
              const struct sae_train_opts *o, sae_hook_fn hook, void *ctx, struct hus_err *err);
/* ---- activation sets larger than memory (train/sae_batches.c) ---- */
/* A memory setting ("4G", "512M", "1e9"; powers of 1024) in bytes; `where` names its origin. */
int sae_memory_parse(const char *text, size_t *bytes, const char *where, struct hus_err *err);
/* How a training of n_runs over N x d rows keeps within `budget` bytes (0: no limit) of
 * activation data (the set, the runs' batch orders, the batch buffers; the models come on top):
 * *nslots 0 = load the set whole; else stream it through that many blocks.  A set that does not
 * fit with sae.shuffle: rows, or a budget below what one batch needs, is a HUS_EINPUT error
 * saying what to change. */
int sae_memory_plan(size_t budget, size_t N, size_t d, size_t n_runs,
                    const struct sae_train_opts *o, const char *path, size_t *nslots,
                    struct hus_err *err);
struct sae_stream;
/* Open `path` for streaming through nslots blocks: X's statistics are computed in two passes
 * over it (every row validated finite) before this returns; then a reader thread prefetches. */
int sae_stream_open(struct sae_stream **st, const char *path, size_t nslots,
                    const struct sae_train_opts *o, struct hus_err *err);
void sae_stream_close(struct sae_stream *st); /* NULL is fine */
size_t sae_stream_rows(const struct sae_stream *st);
size_t sae_stream_width(const struct sae_stream *st);
const struct sae_xstats *sae_stream_xstats(const struct sae_stream *st);
/* The n rows at the lead run's (epoch, pos) of its order, into out (n, d). */
int sae_stream_batch(struct sae_stream *st, const struct sae_run *lead, size_t n, float *out,
                     struct hus_err *err);
/* One in-order pass evaluating every run with which[i] set into mt[i] (firing counts into
 * counts[i]), the same bits as sae_eval over the whole matrix. */
int sae_stream_eval(struct sae_stream *st, struct sae_run *runs, size_t n_runs, const int *which,
                    int64_t *const *counts, struct sae_metrics *mt, struct hus_err *err);
/* sae_train over a streamed set: the same bytes as sae_train on the whole matrix. */
int sae_train_streamed(struct sae_run *runs, size_t n_runs, struct sae_stream *st,
                       const struct sae_train_opts *o, sae_hook_fn hook, void *ctx,
                       struct hus_err *err);
/* The activation set of a training, whole in memory or streamed (sae_train_run.c).  open: the
 * memory setting from memory_arg (--memory) or the config's sae.memory (outside the hash);
 * without one the set is read whole now, as always; with one only its header and sha256.
 * ready (once the runs are known): load whole if it fits, else open the stream (or say what to
 * change).  train: sae_train or sae_train_streamed. */
struct sae_data {
	float *X;              /* (N, d) when whole */
	struct sae_stream *st; /* when streamed */
	size_t N, d, budget;
	char sha[65];
	const char *path;
};
int sae_data_open(struct sae_data *D, const char *path, const char *memory_arg, struct cfg *c,
                  struct hus_err *err);
int sae_data_ready(struct sae_data *D, size_t n_runs, const struct sae_train_opts *o,
                   struct hus_err *err);
int sae_data_train(struct sae_data *D, struct sae_run *runs, size_t n_runs,
                   const struct sae_train_opts *o, sae_hook_fn hook, void *ctx,
                   struct hus_err *err);
void sae_data_release(struct sae_data *D);
/* Total optimizer steps the options imply on N rows. */
int64_t sae_total_steps(size_t N, const struct sae_train_opts *o);

/* Read the `sae:` section of a config (cfg_* getters; defaults of §4.7): hyper-parameters
 * and training options.  Keys: architecture, d_sae, k, decoder_bias, upstream_aux, aux_coef,
 * k_aux, auxk_coef, dead_tokens, l1_coef, l1_decnorm, jumprelu.{bandwidth,l0_coef,
 * init_threshold}, batchtopk.threshold_ema, matryoshka.prefixes, alignment.lambda,
 * grad_project, lr, beta1, beta2, eps, warmup_steps, fire_eps, dead_threshold, epochs,
 * max_steps, batch_size, drop_last, shuffle_seed, per_seed_order, checkpoint_every. */
/* Every key train-transformer and train-sae read from an experiment config's data:,
 * transformer: and sae: sections (husai run checks the user's file with it before any job). */
int train_sections_check(struct cfg *c, struct hus_err *err);
int sae_config_read(struct cfg *c, size_t d_model, struct sae_hparams *h,
                    struct sae_train_opts *o, struct hus_err *err);
/* A sweep condition `sae.conditions.<name>`: the same hyper-parameter keys, defaulting to
 * `base` (training options are shared by all conditions: one pass over the data). */
int sae_config_condition(struct cfg *c, const char *name, const struct sae_hparams *base,
                         struct sae_hparams *h, struct hus_err *err);

/* ---- checkpoints of runs (train/sae_ckpt.c; the file format is formats/artifact_sae.c) ---- */

/* A checkpoint view of a run: pointers into the run, nothing copied.  kind: step0, periodic,
 * interrupt, final; control: "R2 step 0" for step 0, else "none". */
void sae_run_ckpt_view(struct sae_run *r, struct sae_ckpt *c, size_t N, const char *kind,
                       const char *activation_sha256);
/* Load a checkpoint's state into a run built from the same config; refuses (HUS_EINPUT,
 * naming the attribute) a checkpoint of another architecture, shape, k, seed, data size or
 * config hash (config_hash NULL = not checked). */
int sae_run_restore(struct sae_run *r, const struct sae_ckpt *c, size_t N,
                    const char *config_hash, const char *path, struct hus_err *err);

/* ---- `husai train-sae` (train/sae_train_run.c; the verb only parses into this) ---- */

struct train_sae_request {
	const char *config;       /* experiment config; its `sae:` section is read */
	const char *activations;  /* the husai.activation_set trained on */
	const char *out;          /* checkpoints: out/[<condition>/]sae_seed<S>[_step<T>].h5 */
	const char *seeds;        /* "42,123" over sae.seeds, or NULL */
	struct hus_sets sets;     /* --set overrides, applied in order after loading */
	int resume;               /* continue every run from its newest checkpoint in out */
	int64_t stop_after;       /* > 0: stop as if interrupted after this many steps (tests) */
	const char *memory;       /* --memory "4G": bound on the activation data, or NULL */
};
/* Train every (condition, seed) SAE of the config in one pass over the activations, with
 * step-0, periodic and final checkpoints; prints one line per run.  SIGINT/SIGTERM: every
 * run is checkpointed and HUS_EINTR returned (status 3). */
int sae_train_run(const struct train_sae_request *q, struct hus_err *err);

/* == end SAE == */

#endif
