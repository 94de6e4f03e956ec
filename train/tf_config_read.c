/*
 * tf_config_read.c — reads the transformer's configuration from a YAML config through the
 * cfg_* getters: keys under `data:` (p, train_fraction, split_seed) and `transformer:` (the
 * model, the loss position, AdamW, batches, epochs, seeds, checkpoints, grokking thresholds),
 * so `husai run` can embed them in a larger config.  Defaults are tf_config_default's.
 */
#include <stdlib.h>
#include <string.h>

#include "train.h"

int tf_config_read(struct cfg *cf, struct tf_config *c, struct hus_err *err)
{
	static const char *const acts[] = { "relu", "gelu", "gelu_new", NULL };
	static const char *const answers[] = { "equals", "upstream", NULL };
	static const char *const decays[] = { "all", "weights", NULL };
	struct tf_config d;
	tf_config_default(&d);
	*c = d;
	const char *s;
	double *betas = NULL;
	size_t nb = 0;
	int rc;
#define INT(key, field, lo, hi) \
	if ((rc = cfg_int(cf, key, d.field, lo, hi, &c->field, err))) return rc
#define F64(key, field, lo, lo_open, hi, hi_open) \
	if ((rc = cfg_f64_in(cf, key, d.field, lo, lo_open, hi, hi_open, &c->field, err))) return rc
	INT("data.p", p, 2, 46340);
	F64("data.train_fraction", train_fraction, 0, 1, 1, 1);
	INT("data.split_seed", split_seed, 0, INT64_MAX);
	INT("transformer.n_layers", n_layers, 1, TF_MAX_LAYERS);
	INT("transformer.d_model", d_model, 1, 1 << 16);
	INT("transformer.n_heads", n_heads, 1, 1 << 16);
	INT("transformer.d_mlp", d_mlp, 1, 1 << 20);
	if ((rc = cfg_str(cf, "transformer.activation", "relu", acts, &s, err)))
		return rc;
	c->act = !strcmp(s, "relu") ? TF_RELU : !strcmp(s, "gelu") ? TF_GELU : TF_GELU_NEW;
	if ((rc = cfg_str(cf, "transformer.answer_position", "equals", answers, &s, err)))
		return rc;
	c->answer_index = !strcmp(s, "equals") ? 4 : 5;
	F64("transformer.lr", lr, 0, 1, 10, 0); /* > 10: a typo, never a setting */
	double defb[2] = { d.beta1, d.beta2 };
	if ((rc = cfg_f64_list(cf, "transformer.betas", defb, 2, &betas, &nb, err)))
		return rc;
	if (nb != 2) {
		free(betas);
		return hus_errf(err, HUS_EINPUT, cfg_name(cf), "transformer.betas",
		                "expected two betas, got %zu", nb);
	}
	for (size_t i = 0; i < 2; i++)
		if (!(betas[i] >= 0 && betas[i] < 1)) {
			char where[300] = "transformer.betas";
			cfg_where(cf, "transformer.betas", where, sizeof(where));
			rc = hus_errf(err, HUS_EINPUT, cfg_name(cf), where,
				      "'transformer.betas': expected two numbers in [0, 1), item %zu is %g",
				      i + 1, betas[i]);
			free(betas);
			return rc;
		}
	c->beta1 = betas[0];
	c->beta2 = betas[1];
	free(betas);
	F64("transformer.eps", eps, 0, 1, 1, 0);
	F64("transformer.weight_decay", weight_decay, 0, 0, 1e6, 0);
	if ((rc = cfg_str(cf, "transformer.decay_params", "all", decays, &s, err)))
		return rc;
	c->decay_all = !strcmp(s, "all");
	INT("transformer.batch_size", batch_size, 1, 1 << 24);
	INT("transformer.epochs", epochs, 0, INT64_MAX);
	INT("transformer.init_seed", init_seed, 0, UINT32_MAX);
	INT("transformer.shuffle_seed", shuffle_seed, 0, UINT32_MAX);
	INT("transformer.checkpoint_every", checkpoint_every, 0, INT64_MAX);
	F64("transformer.grok_train_acc", grok_train_acc, 0, 0, 1, 0);
	F64("transformer.grok_val_acc", grok_val_acc, 0, 0, 1, 0);
#undef INT
#undef F64
	return tf_config_check(c, cfg_name(cf), err);
}
