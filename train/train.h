/*
 * train.h — the public face of train/: the modular-addition dataset, tensor kernels, the
 * transformer (forward, backward, AdamW, training with checkpoints), activation extraction,
 * and the SAE family with its multi-seed trainer.  All I/O goes through formats/.
 */
#ifndef HUSAI_TRAIN_H
#define HUSAI_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "formats.h"

/* ---- optimizer (train/adam.c), shared by the transformer and the SAEs ---- */

struct adam_hparams {
	double lr;           /* learning rate for this step (after any warm-up) */
	double beta1, beta2; /* torch defaults 0.9, 0.999 */
	double eps;          /* 1e-8 */
	double weight_decay; /* AdamW decoupled decay; 0 = plain Adam */
};
/* One Adam(W) step on a flat block of n parameters, torch semantics (spec §2.4):
 * p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).  `step` counts from 1. */
void adam_step(float *param, float *m, float *v, const float *grad, size_t n,
               const struct adam_hparams *h, int64_t step);

/* == dataset, transformer, extraction == */

/* ---- dataset (train/dataset.c), spec §1 ---- */

#define DS_SEQ_LEN 7 /* [BOS, a, +, b, =, c, EOS], spec §1.2 */
/* Token ids for modulus p (spec §1.1): digits 0..p-1, BOS p, EOS p+1, '=' p+2, '+' p+3. */
#define DS_BOS(p) ((int32_t)(p))
#define DS_EOS(p) ((int32_t)(p) + 1)
#define DS_EQUALS(p) ((int32_t)(p) + 2)
#define DS_PLUS(p) ((int32_t)(p) + 3)

/* All p*p examples a-major (example e = a*p + b), spec §1.3.
 * tokens (p*p, 7) OUT; labels (p*p) OUT = (a+b) mod p.  Either may be NULL. */
void ds_examples(int32_t *tokens, int32_t *labels, int64_t p);
/* Train size floor(N*train_fraction) of N examples (spec §1.4). */
size_t ds_train_size(size_t N, double train_fraction);
/* The upstream split: perm (N) OUT = torch.randperm(N, seed); first ds_train_size are train. */
void ds_split(int64_t *perm, size_t N, uint64_t seed);

/* ---- transformer configuration (train/tf_config.c), spec §2.1, DESIGN §3 ---- */

enum tf_act { TF_RELU = 0, TF_GELU = 1, TF_GELU_NEW = 2 };
#define TF_MAX_LAYERS 16

struct tf_config {
	int64_t p;             /* data.p: modulus; vocabulary p + 4 */
	double train_fraction; /* data.train_fraction */
	int64_t split_seed;    /* data.split_seed: torch randperm seed of the split */
	int64_t n_layers, d_model, n_heads, d_mlp;
	enum tf_act act;
	int answer_index;      /* 4 (`equals`, default) or 5 (`upstream`), spec §1.5, DESIGN §3 */
	double lr, beta1, beta2, eps, weight_decay;
	int decay_all;         /* 1: decay every parameter (torch's one group); 0: only W_* */
	int64_t batch_size, epochs;
	int64_t init_seed;     /* gsl_rng_mt19937 seed for the GPT-2 init */
	int64_t shuffle_seed;  /* gsl_rng_mt19937 seed for the per-epoch shuffles */
	int64_t checkpoint_every; /* epochs between periodic checkpoints; 0 = none */
	double grok_train_acc, grok_val_acc; /* "grokked" when val >= after train >= (spec §2.4) */
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

/* ---- parameters (train/tf_params.c), spec §2.2-2.3 ---- */

/* One named parameter tensor inside the flat block, in TransformerLens state-dict order. */
struct tf_tensor {
	char name[48];   /* state-dict key, e.g. "blocks.0.attn.W_Q" */
	size_t offset, n; /* position and size inside the flat block */
	int rank;
	size_t dims[3];
	int is_weight;   /* name contains "W_": GPT-2 normal init (spec §2.3) */
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
/* GPT-2 init (spec §2.3): W_* ~ N(0, (0.8/sqrt(d_model))^2) drawn with gsl_rng_mt19937 seeded
 * with init_seed, tensor by tensor in state-dict order, row-major; biases 0; LN w 1, b 0. */
int tf_params_init(float *params, const struct tf_layout *lay, const struct tf_config *c,
                   struct hus_err *err);

/* ---- forward / backward (train/tf_forward.c, train/tf_backward.c) ---- */

/*
 * Workspace for a batch of B sequences of T positions (T = answer_index + 1 in training).
 * last_only: in the last layer only the final position (the answer row) gets Q, attention
 * output, MLP, final LN and unembedding (DESIGN §5); otherwise every row is computed and no
 * logits are made (extraction).  All buffers are allocated once here.
 */
struct tf_work {
	size_t B, T, L;
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
	float *rowloss;                  /* (B) doubles: per-row cross-entropy */
	float *Wqkv;                     /* (L, d, 3d) packed W_Q|W_K|W_V */
	/* backward scratch */
	float *dx, *dx2, *dy, *dqkv, *dz, *dmid, *dpre, *dlogits, *dyf, *dWqkv;
	float *mem;
};

int tf_work_alloc(struct tf_work *w, const struct tf_config *c, size_t B, size_t T,
                  int last_only, struct hus_err *err);
void tf_work_release(struct tf_work *w);
/* Pack W_Q/W_K/W_V of every layer into w->Wqkv; call after every parameter change. */
void tf_pack_qkv(struct tf_work *w, const struct tf_params *pv, const struct tf_config *c);
/* Forward pass over tokens (B, tok_stride) using their first T positions (spec §2.2).
 * With last_only and labels != NULL: logits of the last position, probs, and the mean
 * cross-entropy over all d_vocab logits (returned in *loss) and correct count. */
void tf_forward(struct tf_work *w, const struct tf_params *pv, const struct tf_config *c,
                const int32_t *tokens, size_t tok_stride, size_t B, const int32_t *labels,
                double *loss, int64_t *correct);
/* Backward of the mean cross-entropy after tf_forward(last_only); accumulates into grads g
 * (the caller zeroes it once per step). */
void tf_backward(struct tf_work *w, struct tf_params *g, const struct tf_params *pv,
                 const struct tf_config *c, const int32_t *tokens, size_t tok_stride, size_t B,
                 const int32_t *labels);

/* ---- kernels (train/tf_kernels.c) ---- */

/* Row-wise LayerNorm, population variance (spec §2.2): x (R, d) -> y (R, d), mean, rstd (R). */
void tf_layernorm_forward(float *y, float *mean, float *rstd, const float *x, const float *w,
                          const float *b, size_t R, size_t d, size_t x_stride);
/* dx (R, d) += ...; dw, db (d) += ... (fixed order over rows). */
void tf_layernorm_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                           const float *mean, const float *rstd, const float *w, size_t R,
                           size_t d, size_t x_stride, size_t dx_stride);
void tf_act_forward(float *post, const float *pre, size_t n, enum tf_act a);
/* dpre = act'(pre) * dpost */
void tf_act_backward(float *dpre, const float *dpost, const float *pre, size_t n, enum tf_act a);
/* out (n) += column sums of x (R, n) with row stride ldx, rows in order. */
void tf_colsum(float *out, const float *x, size_t R, size_t n, size_t ldx);

/* == end transformer == */



/* == SAE family and trainer == */

/* == end SAE == */

#endif
