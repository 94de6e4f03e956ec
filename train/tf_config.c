/*
 * tf_config.c — the transformer's configuration values: the scientific defaults
 * (configs/transformer.yaml, docs/decisions.md §3), names of the choices, and the checks that make a
 * model buildable.  Reading them from YAML is tf_config_read.c.
 */
#include <math.h>
#include <string.h>

#include "train.h"

const char *tf_act_name(enum tf_act a)
{
	switch (a) {
	case TF_RELU:
		return "relu";
	case TF_GELU:
		return "gelu";
	case TF_GELU_NEW:
		return "gelu_new";
	}
	return "?";
}

const char *tf_answer_name(int answer_index)
{
	return answer_index == 5 ? "upstream" : "equals";
}

void tf_config_default(struct tf_config *c)
{
	memset(c, 0, sizeof(*c));
	c->p = 113;
	c->train_fraction = 0.9;
	c->split_seed = 42;
	c->n_layers = 2;
	c->d_model = 128;
	c->n_heads = 4;
	c->d_mlp = 512;
	c->act = TF_RELU;
	c->answer_index = 4;
	c->lr = 1e-3;
	c->beta1 = 0.9;
	c->beta2 = 0.98;
	c->eps = 1e-8;
	c->weight_decay = 0.01;
	c->decay_all = 1;
	c->batch_size = 512;
	c->epochs = 100;
	c->init_seed = 0;
	c->shuffle_seed = 0;
	c->checkpoint_every = 0;
	c->grok_train_acc = 0.99;
	c->grok_val_acc = 0.95;
}

int tf_config_check(const struct tf_config *c, const char *where, struct hus_err *err)
{
	if (c->p < 2 || c->p > 46340)
		return hus_errf(err, HUS_EINPUT, where, "data.p",
		                "expected a modulus in [2, 46340], got %lld", (long long)c->p);
	if (!(c->train_fraction > 0.0 && c->train_fraction < 1.0))
		return hus_errf(err, HUS_EINPUT, where, "data.train_fraction",
		                "expected a fraction in (0, 1), got %g", c->train_fraction);
	size_t N = (size_t)(c->p * c->p), ntr = ds_train_size(N, c->train_fraction);
	if (ntr == 0 || ntr == N)
		return hus_errf(err, HUS_EINPUT, where, "data.train_fraction",
		                "train fraction %g of %zu examples leaves an empty train or val part",
		                c->train_fraction, N);
	if (c->n_layers < 1 || c->n_layers > TF_MAX_LAYERS)
		return hus_errf(err, HUS_EINPUT, where, "transformer.n_layers",
		                "expected 1..%d layers, got %lld", TF_MAX_LAYERS, (long long)c->n_layers);
	if (c->d_model < 1 || c->n_heads < 1 || c->d_mlp < 1)
		return hus_errf(err, HUS_EINPUT, where, "transformer.d_model",
		                "d_model, n_heads and d_mlp must be positive");
	if (c->d_model % c->n_heads)
		return hus_errf(err, HUS_EINPUT, where, "transformer.n_heads",
		                "d_model %lld is not divisible by n_heads %lld", (long long)c->d_model,
		                (long long)c->n_heads);
	if (c->d_model / c->n_heads > TF_MAX_DHEAD)
		return hus_errf(err, HUS_EINPUT, where, "transformer.n_heads",
		                "d_head = d_model / n_heads = %lld exceeds %d",
		                (long long)(c->d_model / c->n_heads), TF_MAX_DHEAD);
	if (c->answer_index != 4 && c->answer_index != 5)
		return hus_errf(err, HUS_EINPUT, where, "transformer.answer_position",
		                "expected equals (index 4) or upstream (index 5)");
	if (!(c->lr > 0) || !isfinite(c->lr))
		return hus_errf(err, HUS_EINPUT, where, "transformer.lr", "expected lr > 0, got %g", c->lr);
	if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
		return hus_errf(err, HUS_EINPUT, where, "transformer.betas",
		                "expected betas in [0, 1), got %g, %g", c->beta1, c->beta2);
	if (!(c->eps > 0) || !(c->weight_decay >= 0) || !isfinite(c->weight_decay))
		return hus_errf(err, HUS_EINPUT, where, "transformer.weight_decay",
		                "expected eps > 0 and weight_decay >= 0");
	if (c->batch_size < 1 || c->epochs < 0 || c->checkpoint_every < 0)
		return hus_errf(err, HUS_EINPUT, where, "transformer.batch_size",
		                "expected batch_size >= 1, epochs >= 0, checkpoint_every >= 0");
	return 0;
}
