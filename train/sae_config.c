/*
 * sae_config.c — the `sae:` section of an experiment config, read through the cfg_* getters
 * (so every key lands in the resolved config and the config hash, and unknown keys are
 * rejected by cfg_finish).  Defaults are the seed experiments' (docs/formulas.md §4.7 a): TopK, lr 3e-4,
 * batch 2048, drop_last false (A6), constant LR; sweeps list `sae.conditions.<name>` with the
 * same hyper-parameter keys.  One function each, reusable by the experiment runner.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

/* the largest learning rate a config may ask for: far above any that trains (Adam steps are
 * ~lr per entry), low enough that a typo such as 1e30 is caught before any job runs */
#define SAE_MAX_LR 10.0

static const char *const arch_choices[] = {
	"topk_upstream", "topk", "relu", "batchtopk", "jumprelu", "matryoshka", NULL,
};

/* read the hyper-parameter keys under `prefix` ("sae" or "sae.conditions.<name>") with the
 * values already in *h as defaults */
static int read_hparams(struct cfg *c, const char *prefix, struct sae_hparams *h,
                        struct hus_err *err)
{
	char key[256];
	int rc;
	int64_t v;
	int b;
	const char *str;
#define KEY(name) (snprintf(key, sizeof(key), "%s.%s", prefix, name), key)
	if ((rc = cfg_str(c, KEY("architecture"), sae_arch_name(h->arch), arch_choices, &str, err)))
		return rc;
	enum sae_arch a;
	sae_arch_parse(str, &a);
	if (a != h->arch) { /* architecture-dependent defaults */
		struct sae_hparams d;
		sae_hparams_default(&d, a, h->d_model, h->d_sae, h->k);
		h->arch = a;
		h->use_b_dec = d.use_b_dec;
	}
	if ((rc = cfg_int(c, KEY("d_sae"), (int64_t)h->d_sae, 0, (int64_t)1 << 26, &v, err)))
		return rc;
	h->d_sae = (size_t)v;
	if ((rc = cfg_int(c, KEY("k"), (int64_t)h->k, 0, (int64_t)1 << 26, &v, err)))
		return rc;
	if ((size_t)v != h->k && fabs(h->aux_coef * (double)h->k - 1.0) < 1e-12)
		h->aux_coef = v ? 1.0 / (double)v : 0.0; /* default 1/k follows k */
	h->k = (size_t)v;
	if ((rc = cfg_bool(c, KEY("decoder_bias"), h->use_b_dec, &b, err)))
		return rc;
	h->use_b_dec = b;
	if ((rc = cfg_bool(c, KEY("upstream_aux"), h->upstream_aux, &b, err)))
		return rc;
	h->upstream_aux = b;
	if ((rc = cfg_f64_in(c, KEY("aux_coef"), h->aux_coef, 0, 0, INFINITY, 1, &h->aux_coef, err)))
		return rc;
	if ((rc = cfg_int(c, KEY("k_aux"), (int64_t)h->k_aux, 1, (int64_t)1 << 26, &v, err)))
		return rc;
	h->k_aux = (size_t)v;
	if ((rc = cfg_f64_in(c, KEY("auxk_coef"), h->auxk_coef, 0, 0, INFINITY, 1, &h->auxk_coef, err)) ||
	    (rc = cfg_int(c, KEY("dead_tokens"), h->dead_tokens, 1, INT64_MAX, &h->dead_tokens, err)) ||
	    (rc = cfg_f64_in(c, KEY("l1_coef"), h->l1_coef, 0, 0, INFINITY, 1, &h->l1_coef, err)))
		return rc;
	if ((rc = cfg_bool(c, KEY("l1_decnorm"), h->l1_decnorm, &b, err)))
		return rc;
	h->l1_decnorm = b;
	if ((rc = cfg_f64_in(c, KEY("jumprelu.bandwidth"), h->jr_bandwidth, 0, 1, INFINITY, 1,
			     &h->jr_bandwidth, err)) ||
	    (rc = cfg_f64_in(c, KEY("jumprelu.l0_coef"), h->jr_l0_coef, 0, 0, INFINITY, 1,
			     &h->jr_l0_coef, err)) ||
	    (rc = cfg_f64_in(c, KEY("jumprelu.init_threshold"), h->jr_init_threshold, 0, 0,
			     INFINITY, 1, &h->jr_init_threshold, err)) ||
	    (rc = cfg_f64_in(c, KEY("batchtopk.threshold_ema"), h->bt_ema, 0, 0, 1, 0, &h->bt_ema, err)))
		return rc;
	if (h->arch == SAE_MATRYOSHKA || cfg_has(c, KEY("matryoshka.prefixes"))) {
		int64_t def[SAE_MAX_PREFIX], *pl = NULL;
		size_t nd = h->n_prefix, np = 0;
		for (size_t i = 0; i < nd; i++)
			def[i] = (int64_t)h->prefix[i];
		if ((rc = cfg_int_list(c, KEY("matryoshka.prefixes"), def, nd, &pl, &np, err)))
			return rc;
		if (np > SAE_MAX_PREFIX) {
			free(pl);
			return hus_errf(err, HUS_EINPUT, cfg_name(c), key, "at most %d prefixes",
					SAE_MAX_PREFIX);
		}
		for (size_t i = 0; i < np; i++)
			h->prefix[i] = pl[i] > 0 ? (size_t)pl[i] : 0;
		h->n_prefix = np;
		free(pl);
	}
	if (h->arch == SAE_MATRYOSHKA && h->n_prefix == 0) {
		/* without prefixes the nested losses reduce to one: a BatchTopK under another name */
		char where[300] = "";
		cfg_where(c, KEY("architecture"), where, sizeof(where));
		return hus_errf(err, HUS_EINPUT, cfg_name(c), where[0] ? where : key,
				"'%s': a matryoshka SAE needs its nested widths in "
				"'%s.matryoshka.prefixes' (e.g. [%zu, %zu]); without them it would "
				"train a BatchTopK",
				key, prefix, h->d_sae / 4 ? h->d_sae / 4 : 1, h->d_sae);
	}
	if ((rc = cfg_f64_in(c, KEY("alignment.lambda"), h->align_lambda, 0, 0, INFINITY, 1,
			      &h->align_lambda, err)))
		return rc;
	if ((rc = cfg_bool(c, KEY("grad_project"), h->grad_project, &b, err)))
		return rc;
	h->grad_project = b;
	if ((rc = cfg_f64_in(c, KEY("lr"), h->lr, 0, 1, SAE_MAX_LR, 0, &h->lr, err)) ||
	    (rc = cfg_f64_in(c, KEY("beta1"), h->beta1, 0, 0, 1, 1, &h->beta1, err)) ||
	    (rc = cfg_f64_in(c, KEY("beta2"), h->beta2, 0, 0, 1, 1, &h->beta2, err)) ||
	    (rc = cfg_f64_in(c, KEY("eps"), h->eps, 0, 1, 1, 0, &h->eps, err)) ||
	    (rc = cfg_int(c, KEY("warmup_steps"), h->warmup_steps, 0, INT64_MAX, &h->warmup_steps,
			  err)) ||
	    (rc = cfg_f64_in(c, KEY("fire_eps"), h->fire_eps, 0, 0, INFINITY, 1, &h->fire_eps, err)) ||
	    (rc = cfg_int(c, KEY("dead_threshold"), h->dead_threshold, 0, INT64_MAX,
			  &h->dead_threshold, err)))
		return rc;
#undef KEY
	return sae_hparams_check(h, cfg_name(c), err);
}

int sae_config_read(struct cfg *c, size_t d_model, struct sae_hparams *h,
                    struct sae_train_opts *o, struct hus_err *err)
{
	sae_hparams_default(h, SAE_TOPK, d_model, 8 * d_model, 32); /* §4.7: expansion 8, k 32 */
	int rc = read_hparams(c, "sae", h, err);
	if (rc)
		return rc;
	memset(o, 0, sizeof(*o));
	int64_t v;
	int b;
	if ((rc = cfg_int(c, "sae.epochs", 20, 0, INT64_MAX, &o->epochs, err)) ||
	    (rc = cfg_int(c, "sae.max_steps", 0, 0, INT64_MAX, &o->max_steps, err)) ||
	    (rc = cfg_int(c, "sae.batch_size", 2048, 1, (int64_t)1 << 24, &v, err)))
		return rc;
	o->batch = (size_t)v;
	if ((rc = cfg_bool(c, "sae.drop_last", 0, &b, err)))
		return rc;
	o->drop_last = b;
	if ((rc = cfg_int(c, "sae.shuffle_seed", 0, 0, UINT32_MAX, &v, err)))
		return rc;
	o->shuffle_seed = (uint64_t)v;
	if ((rc = cfg_bool(c, "sae.per_seed_order", 0, &b, err)))
		return rc;
	o->per_seed_order = b;
	if ((rc = cfg_int(c, "sae.checkpoint_every", 0, 0, INT64_MAX, &o->checkpoint_every, err)))
		return rc;
	/* the batch order (train/sae_batches.c, docs/reproducibility.md): read only when present,
	 * so configs without it keep their hash and their row shuffle */
	static const char *const shuffles[] = { "rows", "blocks", NULL };
	const char *sh = "rows";
	if (cfg_has(c, "sae.shuffle") && (rc = cfg_str(c, "sae.shuffle", "rows", shuffles, &sh, err)))
		return rc;
	o->shuffle_blocks = !strcmp(sh, "blocks");
	const char *const block_keys[2] = { "sae.shuffle_block", "sae.shuffle_window" };
	for (int i = 0; i < 2 && !o->shuffle_blocks; i++)
		if (cfg_has(c, block_keys[i]))
			return hus_errf(err, HUS_EINPUT, cfg_name(c), block_keys[i],
					"'%s' applies to sae.shuffle: blocks; this config shuffles rows",
					block_keys[i]);
	if (o->shuffle_blocks) {
		if ((rc = cfg_int(c, "sae.shuffle_block", 4096, 1, (int64_t)1 << 24, &v, err)))
			return rc;
		o->block_rows = (size_t)v;
		if ((rc = cfg_int(c, "sae.shuffle_window", 16, 1, (int64_t)1 << 20, &v, err)))
			return rc;
		o->window_blocks = (size_t)v;
		if (o->block_rows * o->window_blocks > ((size_t)1 << 31))
			return hus_errf(err, HUS_EINPUT, cfg_name(c), "sae.shuffle_window",
					"a window of %zu blocks of %zu rows exceeds 2^31 rows",
					o->window_blocks, o->block_rows);
	}
	/* the memory setting changes no byte: read as a path, outside the config hash */
	const char *mem;
	size_t bytes;
	if (cfg_has(c, "sae.memory") && ((rc = cfg_path(c, "sae.memory", "", &mem, err)) ||
					 (rc = sae_memory_parse(mem, &bytes, cfg_name(c), err))))
		return rc;
	/* which phase-4a preset (docs/formulas.md A2) made this SAE: a label recorded in the artifact's
	 * config, read only when present so configs without it keep their hash */
	static const char *const presets[] = { "husai", "run29", "legacy", NULL };
	const char *sv;
	if (cfg_has(c, "sae.preset") && (rc = cfg_str(c, "sae.preset", NULL, presets, &sv, err)))
		return rc;
	if (o->epochs == 0 && o->max_steps == 0)
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "sae.epochs",
				"expected epochs > 0 or max_steps > 0");
	return 0;
}

int sae_config_condition(struct cfg *c, const char *name, const struct sae_hparams *base,
                         struct sae_hparams *h, struct hus_err *err)
{
	char prefix[256];
	snprintf(prefix, sizeof(prefix), "sae.conditions.%s", name);
	*h = *base;
	return read_hparams(c, prefix, h, err);
}

int train_sections_check(struct cfg *c, struct hus_err *err)
{
	/* what train-transformer reads from data: and transformer: */
	struct tf_config tf;
	const char *s;
	int rc = tf_config_read(c, &tf, err);
	if (!rc)
		rc = cfg_path(c, "transformer.out_dir", "artifacts/transformer", &s, err);
	if (rc)
		return rc;
	/* what train-sae reads from sae: (the SAE's d_model is the activations' width, known only
	 * after extraction: the transformer's stands in) */
	struct sae_hparams base, h;
	struct sae_train_opts o;
	if ((rc = sae_config_read(c, (size_t)tf.d_model, &base, &o, err)))
		return rc;
	int64_t *seeds = NULL;
	size_t nseeds = 0;
	static const int64_t def_seeds[3] = { 42, 123, 456 };
	if ((rc = cfg_int_list(c, "sae.seeds", def_seeds, 3, &seeds, &nseeds, err)))
		return rc;
	free(seeds);
	char **conds = NULL;
	size_t nconds = 0;
	if ((rc = cfg_keys(c, "sae.conditions", &conds, &nconds, err)))
		return rc;
	for (size_t i = 0; i < nconds && !rc; i++)
		rc = sae_config_condition(c, conds[i], &base, &h, err);
	free(conds); /* the names belong to c */
	if (!rc)
		rc = cfg_path(c, "sae.alignment.reference", "", &s, err);
	if (!rc && cfg_has(c, "plant")) { /* what husai plant reads (docs/formulas.md §10) */
		struct planted_spec ps;
		rc = planted_spec_read(c, &ps, err);
	}
	return rc;
}
