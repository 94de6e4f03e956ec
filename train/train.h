/*
 * train.h — the public face of train/: the modular-addition dataset, tensor kernels, the
 * transformer (forward, backward, AdamW, training with checkpoints), activation extraction,
 * and the SAE family with its multi-seed trainer.  All I/O goes through formats/.
 */
#ifndef HUSAI_TRAIN_H
#define HUSAI_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "formats.h"

/* ---- optimizer (train/adam.c), shared by the transformer and the SAEs ---- */

struct adam_hparams {
	double lr;           /* learning rate for this step (after any warm-up) */
	double beta1, beta2; /* torch defaults 0.9, 0.999 */
	double eps;          /* 1e-8 */
	double weight_decay; /* AdamW decoupled decay; 0 = plain Adam */
};
/* One Adam(W) step on a flat block of n parameters, torch semantics (docs/formulas.md §2.4):
 * p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).  `step` counts from 1. */
void adam_step(float *param, float *m, float *v, const float *grad, size_t n,
               const struct adam_hparams *h, int64_t step);

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

/* Top-k of one row by (value desc, index asc): the lowest index wins ties (A12).  idx gets the
 * k chosen indices in ascending order.  `heap` is workspace of 2*k entries. */
void sae_topk_row(int32_t *idx, const float *v, size_t n, size_t k, int32_t *heap);

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


/* == functional consistency of matched features (functional.c, docs/formulas.md §11) == */

/* The transformer and its held-out rows at the hook: the validation examples of its own split
 * (data.split_seed, data.train_fraction), in split order, and the last layer's resid_post at
 * the answer position of each (the input of the final LN). */
struct fn_model {
	struct tf_config cfg;
	struct tf_params pv;     /* views into the caller's parameters (kept alive by the caller) */
	struct tf_work w;        /* last_only; the head runs on w.x[n_layers] */
	size_t n, d, V;          /* held-out rows, d_model, d_vocab */
	int32_t *tokens, *labels; /* (n, 7), (n) */
	float *h;                /* (n, d) the model's own hook rows */
	double clean_loss, clean_acc; /* the model unedited on those rows */
};
int fn_model_init(struct fn_model *m, const struct tf_config *cfg, float *params,
                  struct hus_err *err);
void fn_model_release(struct fn_model *m);
/* The activation set the SAEs were trained on must be this model's last-layer resid_post at
 * the answer (hook, layer, position, p, d, transformer sha256 when recorded), and its rows of
 * held-out examples the model's own values bit for bit. */
int fn_model_check_acts(const struct fn_model *m, const struct acts_set *s, const char *path,
                        const char *tf_sha256, struct hus_err *err);

/* One SAE on those rows: its reconstruction spliced into the head and its fingerprints. */
struct fn_sae {
	size_t m;                /* d_sae */
	int64_t seed;
	float *xhat, *z, *dec;   /* (n, d) reconstruction, (n, m) codes, (m, d) decoder rows */
	double *rowloss;         /* (n) cross-entropy of each row with x̂ in place of the hook */
	uint8_t *ok;             /* (n) 1 when that row's argmax is the answer */
	float *logits;           /* (n, d_vocab) */
	double *fp;              /* (m, p) mean Δ answer logits when latent i is zeroed */
	double loss, acc;        /* means over the rows */
};
int fn_sae_init(struct fn_sae *s, struct fn_model *m, const struct sae_ckpt *ck,
                const char *path, struct hus_err *err);
void fn_sae_release(struct fn_sae *s);

/* The substitution test and fingerprint agreement of one ordered pair (A, B) under the
 * matching perm (A's latent i -> B's perm[i], one-to-one), against the random unmatched map
 * i -> rho(perm[i]) with rho a derangement drawn from `seed` (docs/formulas.md §11).  Means
 * over A's latents that fire on some held-out row (n_features of them). */
struct fn_pair_result {
	size_t n_features, n_fp_matched, n_fp_random;
	double matched_dloss, random_dloss, matched_abs_dloss, random_abs_dloss;
	double matched_dacc, random_dacc;
	double fp_cos_matched, fp_cos_random;
};
int fn_pair(struct fn_model *m, const struct fn_sae *A, const struct fn_sae *B,
            const int32_t *perm, uint64_t seed, struct fn_pair_result *res, struct hus_err *err);
/* A uniform derangement of 0..n-1 (no fixed point): torch.randperm with seed, seed+1, ... until
 * one has none.  -1 when n < 2. */
int fn_derangement(int64_t *rho, size_t n, uint64_t seed);

/* `husai functional` (train/functional_run.c; the verb only parses into this). */
struct functional_request {
	const char *transformer;  /* the checkpoint the activations were extracted from */
	const char *activations;  /* the set the SAEs were trained on */
	const char *matching;     /* the group's analysis.h5 (matchings on) */
	const char *group;        /* the group's name there */
	const char *const *saes;  /* its SAE checkpoints, in the group's order (2 or more) */
	size_t n_saes;
	const char *out;          /* directory for functional.json */
	int64_t seed;             /* seed of the random control */
};
/* Every pair of the group's SAEs through fn_pair, into <out>/functional.json; one line
 * printed. */
int functional_run(const struct functional_request *q, struct hus_err *err);

/* == planted-feature activation sets (planted.c, docs/formulas.md §10) == */
struct planted_spec {
	int64_t n, d, rows, seed;       /* features, width, rows, seed of every stream */
	double max_abs_cos;             /* redraw directions closer than this (1: never) */
	const char *freq_law;           /* zipf or uniform */
	double zipf_exponent, l0;       /* w_i = (i+1)^-a; expected active root features per row */
	int64_t parents, children;      /* features [0, P) are parents, each with C children */
	double child_prob;              /* P(child fires | parent fires) */
	int64_t groups, group_size;     /* correlated groups after the hierarchy */
	double rho;                     /* P(member uses its group's shared draw) */
	const char *mag_law;            /* lognormal (mu, sigma), uniform (low, high), constant */
	double mag_a, mag_b;
	double noise_std;               /* dense Gaussian noise per element */
};
/* Read the `plant:` section (keys and defaults in docs/formulas.md §10). */
int planted_spec_read(struct cfg *c, struct planted_spec *s, struct hus_err *err);
void planted_describe(const struct planted_spec *s, char *buf, size_t n);
/* Draw the set and write it to `out` (atomically, streamed). */
int planted_generate(const char *out, const struct planted_spec *s,
                     const struct hus_provenance *prov, struct hus_err *err);

/* `husai plant` (train/plant_run.c; the verb only parses into this). */
struct plant_request {
	const char *out;          /* the activation set written */
	const char *config;       /* a YAML file whose `plant:` section is read, or NULL */
	struct hus_sets sets;     /* --set overrides, applied in order after loading */
};
/* Read the settings (every other section of a run's job config is left alone), record the
 * plant section as the set's config and write the set; *s: the settings, for the caller's
 * line. */
int plant_run(const struct plant_request *q, struct planted_spec *s, struct hus_err *err);

#endif
