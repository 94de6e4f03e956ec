/*
 * functional.h — the functional consistency of matched SAE features: substitution and
 * ablation fingerprints (train/functional.c, train/functional_run.c).
 * It is part of train.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_TRAIN_FUNCTIONAL_H
#define HUSAI_TRAIN_FUNCTIONAL_H

#include <stddef.h>
#include <stdint.h>

#include "formats.h"
#include "transformer.h"
#include "sae.h"

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

#endif
