/*
 * transformer.h — the modular-addition dataset (train/dataset.c), the transformer: config,
 * parameters, forward, backward, kernels, training and checkpoints (train/tf_*.c), and
 * activation extraction (train/extract.c, train/extract_run.c).
 * It is part of train.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_TRAIN_TRANSFORMER_H
#define HUSAI_TRAIN_TRANSFORMER_H

#include <stddef.h>
#include <stdint.h>
#include <gsl/gsl_rng.h>

#include "formats.h"
#include "adam.h"

/* == dataset, transformer, extraction == */

/* ---- dataset (train/dataset.c), docs/formulas.md §1 ---- */

#define DS_SEQ_LEN 7 /* [BOS, a, +, b, =, c, EOS], docs/formulas.md §1.2 */
/* Token ids for modulus p (docs/formulas.md §1.1): digits 0..p-1, BOS p, EOS p+1, '=' p+2, '+' p+3. */
#define DS_BOS(p) ((int32_t)(p))
#define DS_EOS(p) ((int32_t)(p) + 1)
#define DS_EQUALS(p) ((int32_t)(p) + 2)
#define DS_PLUS(p) ((int32_t)(p) + 3)

/* All p*p examples a-major (example e = a*p + b), docs/formulas.md §1.3.
 * tokens (p*p, 7) OUT; labels (p*p) OUT = (a+b) mod p.  Either may be NULL. */
void ds_examples(int32_t *tokens, int32_t *labels, int64_t p);
/* Train size floor(N*train_fraction) of N examples (docs/formulas.md §1.4). */
size_t ds_train_size(size_t N, double train_fraction);
/* The upstream split: perm (N) OUT = torch.randperm(N, seed); first ds_train_size are train. */
void ds_split(int64_t *perm, size_t N, uint64_t seed);

/* ---- transformer configuration (train/tf_config.c), docs/formulas.md §2.1, docs/decisions.md §3 ---- */

enum tf_act { TF_RELU = 0, TF_GELU = 1, TF_GELU_NEW = 2 };
#define TF_MAX_LAYERS 16
#define TF_MAX_DHEAD 256 /* d_model / n_heads at most */

struct tf_config {
	int64_t p;             /* data.p: modulus; vocabulary p + 4 */
	double train_fraction; /* data.train_fraction */
	int64_t split_seed;    /* data.split_seed: torch randperm seed of the split */
	int64_t n_layers, d_model, n_heads, d_mlp;
	enum tf_act act;
	int answer_index;      /* 4 (`equals`, default) or 5 (`upstream`), docs/formulas.md §1.5, docs/decisions.md §3 */
	double lr, beta1, beta2, eps, weight_decay;
	int decay_all;         /* 1: decay every parameter (torch's one group); 0: only W_* */
	int64_t batch_size, epochs;
	int64_t init_seed;     /* gsl_rng_mt19937 seed for the GPT-2 init */
	int64_t shuffle_seed;  /* gsl_rng_mt19937 seed for the per-epoch shuffles */
	int64_t checkpoint_every; /* epochs between periodic checkpoints; 0 = none */
	double grok_train_acc, grok_val_acc; /* "grokked" when val >= after train >= (docs/formulas.md §2.4) */
};

const char *tf_act_name(enum tf_act a);
const char *tf_answer_name(int answer_index); /* "equals" / "upstream" */
/* The scientific default of configs/transformer.yaml (seed config, answer at equals). */
void tf_config_default(struct tf_config *c);
/* Check the values that make a model: p >= 2, d_model % n_heads == 0, ...  `where` names
 * the config for the error. */
int tf_config_check(const struct tf_config *c, const char *where, struct hus_err *err);
/* Read `data:` (p, train_fraction, split_seed) and `transformer:` keys with cfg_* getters,
 * defaults from tf_config_default, then tf_config_check. */
int tf_config_read(struct cfg *cf, struct tf_config *c, struct hus_err *err);

/* ---- parameters (train/tf_params.c), docs/formulas.md §2.2-2.3 ---- */

/* One named parameter tensor inside the flat block, in TransformerLens state-dict order. */
struct tf_tensor {
	char name[48];   /* state-dict key, e.g. "blocks.0.attn.W_Q" */
	size_t offset, n; /* position and size inside the flat block */
	int rank;
	size_t dims[3];
	int is_weight;   /* name contains "W_": GPT-2 normal init (docs/formulas.md §2.3) */
};

struct tf_block {
	float *ln1_w, *ln1_b;      /* (d_model) */
	float *ln2_w, *ln2_b;      /* (d_model) */
	float *W_Q, *W_K, *W_V;    /* (n_heads, d_model, d_head) */
	float *W_O;                /* (n_heads, d_head, d_model) */
	float *b_Q, *b_K, *b_V;    /* (n_heads, d_head) */
	float *b_O;                /* (d_model) */
	float *W_in;               /* (d_model, d_mlp) */
	float *b_in;               /* (d_mlp) */
	float *W_out;              /* (d_mlp, d_model) */
	float *b_out;              /* (d_model) */
};

/* Named views into one flat block (parameters, gradients or a moment). */
struct tf_params {
	float *W_E;   /* (d_vocab, d_model) */
	float *W_pos; /* (n_ctx, d_model) */
	struct tf_block blocks[TF_MAX_LAYERS];
	float *lnf_w, *lnf_b; /* (d_model) */
	float *W_U;   /* (d_model, d_vocab) */
	float *b_U;   /* (d_vocab) */
};

struct tf_layout {
	size_t n_params;
	size_t n_tensors;
	struct tf_tensor t[8 + 16 * TF_MAX_LAYERS];
};

void tf_layout_init(struct tf_layout *lay, const struct tf_config *c);
void tf_params_view(struct tf_params *v, float *base, const struct tf_config *c);
/* GPT-2 init (docs/formulas.md §2.3): W_* ~ N(0, (0.8/sqrt(d_model))^2) drawn with gsl_rng_mt19937 seeded
 * with init_seed, tensor by tensor in state-dict order, row-major; biases 0; LN w 1, b 0. */
/* One N(0, sigma²) draw from a GSL generator: GSL's polar method with husai's own log. */
double tf_gaussian(gsl_rng *r, double sigma);
int tf_params_init(float *params, const struct tf_layout *lay, const struct tf_config *c,
                   struct hus_err *err);

/* ---- forward / backward (train/tf_forward.c, train/tf_backward.c) ---- */

/*
 * Workspace for a batch of B sequences of T positions (T = answer_index + 1 in training).
 * last_only: in the last layer only the final position (the answer row) gets Q, attention
 * output, MLP, final LN and unembedding (docs/decisions.md §5); otherwise every row is computed and no
 * logits are made (extraction).  All buffers are allocated once here.
 */
struct tf_work {
	size_t B, T, L;
	size_t Bcap;                    /* B the workspace was allocated for */
	size_t loss_B;                  /* the loss is a mean over this many samples (0: B);
	                                   set when a batch is processed in chunks */
	int last_only;
	size_t rows_out[TF_MAX_LAYERS]; /* rows after attention in layer l: B*T or B */
	/* caches, per layer l */
	float *x[TF_MAX_LAYERS + 1];    /* x[l] = resid_pre of layer l (B*T, d); x[L] final */
	float *ln1_mean[TF_MAX_LAYERS], *ln1_rstd[TF_MAX_LAYERS], *y1[TF_MAX_LAYERS];
	float *qkv[TF_MAX_LAYERS];      /* (B*T, 3*d): [q heads | k heads | v heads] */
	float *att[TF_MAX_LAYERS];      /* (B, H, nq, T) softmax pattern */
	float *z[TF_MAX_LAYERS];        /* (rows_out, d) */
	float *attn_out[TF_MAX_LAYERS]; /* (rows_out, d) */
	float *mid[TF_MAX_LAYERS];      /* resid_mid (rows_out, d) */
	float *ln2_mean[TF_MAX_LAYERS], *ln2_rstd[TF_MAX_LAYERS], *y2[TF_MAX_LAYERS];
	float *pre[TF_MAX_LAYERS], *post[TF_MAX_LAYERS]; /* (rows_out, d_mlp) */
	float *mlp_out[TF_MAX_LAYERS];  /* (rows_out, d) */
	float *lnf_mean, *lnf_rstd, *yf; /* (B), (B), (B, d) */
	float *logits;                   /* (B, V) */
	float *probs;                    /* (B, V) softmax */
	double *rowloss;                 /* (B) per-row cross-entropy (a block of 2B floats) */
	float *Wqkv;                     /* (L, d, 3d) packed W_Q|W_K|W_V */
	/* backward scratch */
	float *dx, *dx2, *dy, *dqkv, *dz, *dmid, *dpre, *dlogits, *dyf, *dWqkv;
	/* layer 0 sees each (token, position) pair's embedding many times in a batch: LN1 and
	 * q, k, v are computed once per distinct row (docs/decisions.md §5, compute only what is needed) */
	int uniq;                 /* 1 when layer 0 uses the distinct-row path */
	size_t U;                 /* distinct rows in the current batch */
	int32_t *urow;            /* (B*T) row -> distinct row */
	int32_t *usrc;            /* (U) distinct row -> first row holding it */
	int32_t *ukey;            /* (d_vocab * T) (token, position) -> distinct row or -1 */
	float *xu;                /* (U, d) the distinct layer-0 inputs */
	float *dqkv_u, *dxu;      /* (U, 3d), (U, d) their gradients */
	float *mem;
};

int tf_work_alloc(struct tf_work *w, const struct tf_config *c, size_t B, size_t T,
                  int last_only, struct hus_err *err);
void tf_work_release(struct tf_work *w);
/* Pack W_Q/W_K/W_V of every layer into w->Wqkv; call after every parameter change. */
void tf_pack_qkv(struct tf_work *w, const struct tf_params *pv, const struct tf_config *c);
/* Forward pass over tokens (B, tok_stride) using their first T positions (docs/formulas.md §2.2).
 * With last_only and labels != NULL: logits of the last position, probs, and the mean
 * cross-entropy over all d_vocab logits (returned in *loss) and correct count. */
void tf_forward(struct tf_work *w, const struct tf_params *pv, const struct tf_config *c,
                const int32_t *tokens, size_t tok_stride, size_t B, const int32_t *labels,
                double *loss, int64_t *correct);
/* The head alone on the first B rows of w->x[L] (a last_only workspace): final LN, logits
 * (w->logits, B x d_vocab) and, with labels, each row's cross-entropy in w->rowloss (doubles),
 * their mean in *loss and the correct count.  tf_forward ends with it. */
void tf_forward_head(struct tf_work *w, const struct tf_params *pv, const struct tf_config *c,
                     size_t B, const int32_t *labels, double *loss, int64_t *correct);
/* Backward of the mean cross-entropy after tf_forward(last_only); accumulates into grads g
 * (the caller zeroes it once per step). */
void tf_backward(struct tf_work *w, struct tf_params *g, const struct tf_params *pv,
                 const struct tf_config *c, const int32_t *tokens, size_t tok_stride, size_t B,
                 const int32_t *labels);

/* Loops with less work than this many elements run on the calling thread only (the split
 * never changes results; it only avoids thread wake-ups for tiny models). */
#define TF_PAR_MIN 32768

/* ---- kernels (train/tf_kernels.c) ---- */

/* Row-wise LayerNorm, population variance (docs/formulas.md §2.2): x (R, d) -> y (R, d), mean, rstd (R). */
void tf_layernorm_forward(float *y, float *mean, float *rstd, const float *x, const float *w,
                          const float *b, size_t R, size_t d, size_t x_stride);
/* dx (R, d) += ...; dw, db (d) += ... (fixed order over rows). */
void tf_layernorm_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                           const float *mean, const float *rstd, const float *w, size_t R,
                           size_t d, size_t x_stride, size_t dx_stride);
/* Serial (called inside threaded loops): post = act(pre) */
void tf_act_forward(float *post, const float *pre, size_t n, enum tf_act a);
/* Serial: dpre = act'(pre) * dpost (dpre may alias dpost) */
void tf_act_backward(float *dpre, const float *dpost, const float *pre, size_t n, enum tf_act a);
/* out (n) += column sums of x (R, n) with row stride ldx, rows in order. */
void tf_colsum(float *out, const float *x, size_t R, size_t n, size_t ldx);
/* pre (R, n) += bias, then post = act(pre). */
void tf_bias_act_forward(float *post, float *pre, const float *bias, size_t R, size_t n,
                         enum tf_act a);
/* dpre (R, n) = act'(pre) * dpre in place; db (n) += column sums of the result. */
void tf_act_backward_colsum(float *dpre, float *db, const float *pre, size_t R, size_t n,
                            enum tf_act a);


/* ---- training (train/tf_train.c) and its checkpoints (train/tf_ckpt.c) ---- */

/*
 * One training run's state.  The shuffle generator is gsl_rng_mt19937 seeded with
 * shuffle_seed; each epoch shuffles the train part (in split order) with gsl_ran_shuffle, and
 * the generator's state at the start of the epoch in progress is what checkpoints store, so
 * a resumed run replays the same order and skips the steps already taken (docs/decisions.md §4, §6).
 */
struct tf_trainer {
	struct tf_config cfg;
	struct tf_layout lay;
	float *params, *grads, *m, *v;  /* (n_params) each, one allocation */
	struct tf_params pv, gv;
	struct tf_work w;               /* last_only, B = batch_size, T = answer_index + 1 */
	int32_t *tokens, *labels;       /* (N, 7), (N): every example, a-major */
	int64_t *split;                 /* (N) split permutation: train part, then val part */
	size_t N, n_train, n_val;
	int64_t *order;                 /* (n_train) this epoch's order */
	int32_t *btok, *blab;           /* (batch_size, 7), (batch_size) gathered batch */
	void *rng;                      /* gsl_rng * (mt19937), the shuffle generator */
	unsigned char *epoch_rng;       /* its state at the start of the current epoch */
	size_t rng_size;
	int64_t step, epoch, step_in_epoch;
	double part_loss_sum;
	int64_t part_correct, part_seen;
	double *train_loss, *train_acc, *val_loss, *val_acc; /* (epochs) history */
	size_t metrics_cap;
	int64_t best_epoch, train_fit_epoch, grokked_epoch;
	double best_val_acc;
};

/* Allocate everything for cfg and initialise parameters (init_seed) and generator. */
int tf_trainer_init(struct tf_trainer *tr, const struct tf_config *cfg, struct hus_err *err);
void tf_trainer_release(struct tf_trainer *tr);
#define TF_CHUNK 512 /* samples per forward/backward pass inside a training step */
/* One AdamW step on a batch (tokens (B, 7), labels (B), B <= batch_size): zero grads,
 * forward, backward, adam_step, repack.  Mean loss and correct count of the batch. */
void tf_train_step(struct tf_trainer *tr, const int32_t *tokens, const int32_t *labels,
                   size_t B, double *loss, int64_t *correct);
/* Mean loss and accuracy over examples idx (n), in batches of batch_size. */
void tf_evaluate(struct tf_trainer *tr, const int64_t *idx, size_t n, double *loss, double *acc);

struct tf_run_opts {
	const char *out_dir;                  /* checkpoints go here */
	const struct hus_provenance *prov;    /* resolved config and hash for every artifact */
	volatile int *stop;                   /* set by a signal handler: stop after this step */
	int64_t max_steps;                    /* > 0: behave as if interrupted after this many
	                                         steps of this invocation (tests) */
	FILE *log;                            /* per-epoch lines, NULL for none */
};
/* Train until cfg.epochs, writing periodic/best/final checkpoints.  On a stop request
 * writes OUT_DIR/transformer_interrupt.h5 and returns HUS_EINTR (err says how to resume). */
int tf_train_run(struct tf_trainer *tr, const struct tf_run_opts *o, struct hus_err *err);

/* Write the trainer's state as a checkpoint of the given kind (periodic, best, final,
 * interrupt). */
int tf_ckpt_save(const struct tf_trainer *tr, const char *path, const char *kind,
                 const struct hus_provenance *prov, struct hus_err *err);
/* Restore a trainer (already initialised with the checkpoint's config) from a checkpoint. */
int tf_ckpt_restore(struct tf_trainer *tr, const char *path, struct hus_err *err);
/* Read a checkpoint's config: the model shape from its attributes and the rest from its
 * resolved config_yaml (*yaml malloc'ed, may be NULL to ignore). */
int tf_ckpt_config(const char *path, struct tf_config *cfg, char **yaml, struct hus_err *err);
/* Load only the parameters (params malloc'ed, n_params floats) and config of a checkpoint. */
int tf_ckpt_load_params(const char *path, struct tf_config *cfg, float **params,
                        struct hus_err *err);

/* ---- extraction (train/extract.c), docs/formulas.md §3 ---- */

enum tf_hook { TF_HOOK_RESID_PRE, TF_HOOK_RESID_MID, TF_HOOK_RESID_POST, TF_HOOK_ATTN_OUT,
	       TF_HOOK_MLP_OUT };
/* Parse "resid_pre" ... and "answer", "equals", "bos", "first_operand", "all".  Return 0 or
 * HUS_EINPUT with a named error. */
int tf_hook_parse(const char *s, enum tf_hook *h, struct hus_err *err);
struct tf_extract_opts {
	enum tf_hook hook;
	int64_t layer;
	const char *position;     /* answer, equals, bos, first_operand, all */
	int64_t split_seed;       /* default 42 */
	double split_fraction;    /* default 0.8 (docs/formulas.md §3) */
	size_t batch_size;        /* accepted for upstream's CLI; never changes a value (the
	                             forward runs on fixed blocks of TF_EXTRACT_BLOCK) */
	int train_rows;           /* 1: only the train part of the split, the first
	                             floor(p² split_fraction) permuted examples (docs/formulas.md §1.4,
	                             train_simple_sae; `rows: train`); 0: every example */
};
#define TF_EXTRACT_BLOCK 64
/* Fill an activation set from a loaded model (rows in the upstream order, docs/formulas.md §3). */
int tf_extract(struct acts_set *out, const struct tf_config *cfg, const float *params,
               const struct tf_extract_opts *o, struct hus_err *err);

/* `husai extract` (train/extract_run.c; the verb only parses into this).  Unset choices come
 * from the job config's `extract:` section, else the defaults. */
struct extract_request {
	const char *checkpoint;   /* the transformer checkpoint read */
	const char *out;          /* the activation set written */
	const char *config;       /* a job config whose `extract:` section fills unset choices */
	const char *hook, *position, *rows; /* NULL: unset (resid_post, answer, all) */
	int64_t layer;            /* -2: unset (the last layer); -1: the last layer */
	int64_t split_seed;       /* -1: unset (42) */
	double split_fraction;    /* NaN: unset (0.8) */
	int64_t batch_size;       /* 0: unset (256) */
};
/* Extract, record the choices in the set's config, write it atomically; one line printed. */
int tf_extract_run(const struct extract_request *q, struct hus_err *err);

/* == end transformer == */

#endif
