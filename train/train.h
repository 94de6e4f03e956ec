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

/* == end transformer == */



/* == SAE family and trainer == */

/*
 * The SAE family (spec §4, DESIGN §3).  Internally the decoder is held as W_decT
 * (d_sae, d_model): row j is feature j's direction, the same numbers as column j of the
 * stored /params/W_dec [d_model, d_sae] (DESIGN §10); only formats/artifact_sae.c transposes.
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
	double fire_eps;      /* |z| > fire_eps counts as firing (spec §4.8: 1e-8) */
	int64_t dead_threshold; /* dead latent: fewer firings than this in an epoch (10) */
};
void sae_hparams_default(struct sae_hparams *h, enum sae_arch arch, size_t d_model,
                         size_t d_sae, size_t k);
/* Validate; clamps k to d_sae with a warning on stderr (spec §4.3).  d_sae = 0 is an error. */
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
void sae_eval(struct sae_model *s, struct sae_work *w, const float *X, size_t N,
              struct sae_metrics *out, int64_t *fire_counts /* (d_sae) OUT or NULL */);

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
};
/* Steps in one epoch: ceil(N/B), or floor with drop_last (§4.7: 7 / 6 at 2048 on 12769). */
int64_t sae_steps_per_epoch(size_t N, size_t B, int drop_last);

/* Batch order: a Fisher–Yates permutation drawn from an MT19937 stream. */
void sae_shuffle(int64_t *perm, size_t N, struct mt19937 *g);

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
/* Total optimizer steps the options imply on N rows. */
int64_t sae_total_steps(size_t N, const struct sae_train_opts *o);

/* Read the `sae:` section of a config (cfg_* getters; defaults of §4.7): hyper-parameters
 * and training options.  Keys: architecture, d_sae, k, decoder_bias, upstream_aux, aux_coef,
 * k_aux, auxk_coef, dead_tokens, l1_coef, l1_decnorm, jumprelu.{bandwidth,l0_coef,
 * init_threshold}, batchtopk.threshold_ema, matryoshka.prefixes, alignment.lambda,
 * grad_project, lr, beta1, beta2, eps, warmup_steps, fire_eps, dead_threshold, epochs,
 * max_steps, batch_size, drop_last, shuffle_seed, per_seed_order, checkpoint_every. */
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

/* == end SAE == */

#endif
