/*
 * artifact_sae.h — SAE checkpoints, trained and imported (formats/artifact_sae.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_ARTIFACT_SAE_H
#define HUSAI_FORMATS_ARTIFACT_SAE_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "h5.h"

/* == SAE checkpoints (formats/artifact_sae.c) == */

/*
 * husai.sae_checkpoint, version 1 (docs/decisions.md §10).  Datasets: /params/W_enc [d_sae, d_model],
 * /params/b_enc [d_sae], /params/W_dec [d_model, d_sae] (column j = feature j, always; never
 * guessed from shape), /params/b_dec [d_model] (only when the architecture has one),
 * /params/threshold [d_sae]; /optimizer/step [1], /optimizer/exp_avg/<name>,
 * /optimizer/exp_avg_sq/<name> (same shapes); /rng/order_mt19937 [625] (state words, then
 * the position) and /rng/order_perm [N]; /state/feature_counts [d_sae] f64,
 * /state/since_fired, /state/epoch_fired [d_sae] i64, /state/counters [4] i64 (epoch, pos,
 * batches this epoch, threshold_set), /state/epoch_sums [2] f64; /metrics/<name> [epochs] f64,
 * and with the final evaluation /metrics/final_fire_counts [d_sae] i64 (firings over all X).
 * Root attributes: architecture, k, seed, step, epoch, condition, activation_sha256, control
 * ("none" or "R2 step 0"), kind (step0, periodic, final), d_model, d_sae, and final_<metric>
 * when the final evaluation is known.
 *
 * In memory a parameter block is the train stage's flat layout (train.h struct sae_params):
 * W_enc (d_sae*d_model), b_enc (d_sae), W_decT (d_sae*d_model, row j = feature j),
 * b_dec (d_model), threshold (d_sae); this file transposes W_decT <-> /params/W_dec.
 */
#define SAE_CKPT_NHIST 9
struct sae_ckpt {
	size_t d_model, d_sae;
	char architecture[32], condition[128], activation_sha256[65], control[32], kind[16];
	int64_t k, seed, step, epoch, pos, ep_batches, threshold_set;
	int has_b_dec;
	float *params, *exp_avg, *exp_avg_sq;   /* flat blocks, layout above */
	double *feature_counts;                 /* (d_sae) */
	int64_t *since_fired, *epoch_fired;     /* (d_sae) */
	uint32_t order_mt[624];
	int32_t order_mti;
	int64_t *perm;                          /* (N) current epoch's batch order */
	size_t N;
	double ep_sums[2];                      /* train loss and aux summed this epoch */
	size_t n_hist;                          /* epochs recorded */
	const char *hist_names[SAE_CKPT_NHIST];
	double *hist[SAE_CKPT_NHIST];           /* (n_hist) each */
	int have_final;
	double final[6];                        /* mse, l0, l1, explained_variance, ev_fvu, dead */
	int64_t *final_counts;                  /* (d_sae) firings per latent in the final eval */
	char config_hash[65];                   /* filled by the reader */
};
extern const char *const sae_ckpt_final_names[6];
size_t sae_ckpt_nparams(size_t d_model, size_t d_sae);
/* Write atomically (nothing at path on failure). */
int sae_ckpt_write(const char *path, const struct sae_ckpt *c, const struct hus_provenance *prov,
                   struct hus_err *err);
/* Read and validate shapes, types and finiteness of the parameters; allocates the arrays
 * (release with sae_ckpt_release).  hist_names point at static strings. */
int sae_ckpt_read(const char *path, struct sae_ckpt *c, struct hus_err *err);
void sae_ckpt_release(struct sae_ckpt *c);
/* An imported SAE (root kind "imported": /params and attributes only): shapes and finite
 * values of its parameters. */
int sae_imported_check(const char *path, struct hus_err *err);
/* Write an imported SAE atomically (husai import plans it, formats/import/import_map.c).  param:
 * W_enc [d_sae, d_model], b_enc [d_sae], W_dec [d_model, d_sae], b_dec [d_model], threshold
 * [d_sae], feature_counts [d_sae] (stored float64 under /state), each NULL when absent. */
struct sae_imported {
	size_t d_model, d_sae;
	const float *param[6];
	const char *architecture, *condition;
	int64_t k, seed, step;
	const char *imported_from, *source_sha256, *source_format, *key_mapping, *seed_source;
	const char *source_model, *source_hook, *source_dataset, *source_cfg;
	int has_source_threshold;
	double source_threshold;
};
int sae_imported_write(const char *path, const struct sae_imported *s, struct hus_err *err);
/* The checkpoint's one reader for everything short of resuming training (analysis, drivers,
 * inspect): the root attributes, and on request (`what`, SAE_READ_* bits) the decoder, the
 * encoder parameters or the training curves; each parameter read is validated against
 * d_model/d_sae and must be finite.  Also reads imported SAEs.  Release with
 * sae_file_release. */
extern const char *const sae_ckpt_hist_names[SAE_CKPT_NHIST]; /* /metrics/<name>, hist order */
enum { SAE_READ_DECODER = 1, SAE_READ_ENCODER = 2, SAE_READ_CURVES = 4 };
struct sae_file {
	size_t d_model, d_sae;
	int64_t seed, k, step, epoch;   /* k, step, epoch: -1 when not recorded */
	char architecture[32], condition[128], control[32], kind[16];
	char source_format[64];         /* an imported SAE's source layout ("" for husai-trained) */
	int have_final;
	double final[6];                /* sae_ckpt_final_names order, when have_final */
	float *W_dec;                   /* [d_model, d_sae] as stored: SAE_READ_DECODER */
	float *W_enc, *b_enc;           /* [d_sae, d_model], [d_sae]: SAE_READ_ENCODER */
	float *b_dec, *threshold;       /* [d_model], [d_sae] when stored: SAE_READ_ENCODER */
	double *hist[SAE_CKPT_NHIST];   /* SAE_READ_CURVES: /metrics/<hist name> when present */
	size_t hist_n[SAE_CKPT_NHIST];
};
int sae_file_read(const char *path, unsigned what, struct sae_file *m, struct hus_err *err);
void sae_file_release(struct sae_file *m);

/* The activation matrix of a husai.activation_set (what the SAE trainer needs of it), with the
 * file's sha256: acts_read's validation (a file that is not one, a NaN/Inf row named), then
 * only X is kept.  X is malloc'ed (N, d). */
int sae_acts_load(const char *path, float **X, size_t *N, size_t *d, char sha256[65],
                  struct hus_err *err);

/* == end SAE == */

#endif
