/*
 * tf_params.c — the transformer's parameters: their names, shapes and places in one flat
 * float block (TransformerLens state-dict order, docs/formulas.md §2.2-2.3), named views into such a
 * block (parameters, gradients and Adam moments share the layout), and the seeded GPT-2
 * initialisation.  The forward and backward passes live in tf_forward.c / tf_backward.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "train.h"

static void add(struct tf_layout *lay, const char *name, int is_weight, int rank, size_t d0,
                size_t d1, size_t d2)
{
	struct tf_tensor *t = &lay->t[lay->n_tensors++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->rank = rank;
	t->dims[0] = d0;
	t->dims[1] = d1;
	t->dims[2] = d2;
	t->n = d0 * (rank > 1 ? d1 : 1) * (rank > 2 ? d2 : 1);
	t->offset = lay->n_params;
	t->is_weight = is_weight;
	lay->n_params += t->n;
}

/* The order below is the TL state-dict order (HookedTransformer: embed, pos_embed, blocks
 * (ln1, ln2, attn W_Q W_K W_V W_O b_Q b_K b_V b_O, mlp W_in b_in W_out b_out), ln_final,
 * unembed); tf_params_view walks the same order. */
void tf_layout_init(struct tf_layout *lay, const struct tf_config *c)
{
	size_t d = (size_t)c->d_model, H = (size_t)c->n_heads, dh = d / H, m = (size_t)c->d_mlp;
	size_t V = (size_t)c->p + 4;
	char nm[48];
	memset(lay, 0, sizeof(*lay));
	add(lay, "embed.W_E", 1, 2, V, d, 0);
	add(lay, "pos_embed.W_pos", 1, 2, DS_SEQ_LEN, d, 0);
	for (int64_t l = 0; l < c->n_layers; l++) {
#define B(s) (snprintf(nm, sizeof(nm), "blocks.%d.%s", (int)l, s), nm)
		add(lay, B("ln1.w"), 0, 1, d, 0, 0);
		add(lay, B("ln1.b"), 0, 1, d, 0, 0);
		add(lay, B("ln2.w"), 0, 1, d, 0, 0);
		add(lay, B("ln2.b"), 0, 1, d, 0, 0);
		add(lay, B("attn.W_Q"), 1, 3, H, d, dh);
		add(lay, B("attn.W_K"), 1, 3, H, d, dh);
		add(lay, B("attn.W_V"), 1, 3, H, d, dh);
		add(lay, B("attn.W_O"), 1, 3, H, dh, d);
		add(lay, B("attn.b_Q"), 0, 2, H, dh, 0);
		add(lay, B("attn.b_K"), 0, 2, H, dh, 0);
		add(lay, B("attn.b_V"), 0, 2, H, dh, 0);
		add(lay, B("attn.b_O"), 0, 1, d, 0, 0);
		add(lay, B("mlp.W_in"), 1, 2, d, m, 0);
		add(lay, B("mlp.b_in"), 0, 1, m, 0, 0);
		add(lay, B("mlp.W_out"), 1, 2, m, d, 0);
		add(lay, B("mlp.b_out"), 0, 1, d, 0, 0);
#undef B
	}
	add(lay, "ln_final.w", 0, 1, d, 0, 0);
	add(lay, "ln_final.b", 0, 1, d, 0, 0);
	add(lay, "unembed.W_U", 1, 2, d, V, 0);
	add(lay, "unembed.b_U", 0, 1, V, 0, 0);
}

void tf_params_view(struct tf_params *v, float *base, const struct tf_config *c)
{
	struct tf_layout lay;
	tf_layout_init(&lay, c);
	size_t i = 0;
#define NEXT (base + lay.t[i++].offset)
	memset(v, 0, sizeof(*v));
	v->W_E = NEXT;
	v->W_pos = NEXT;
	for (int64_t l = 0; l < c->n_layers; l++) {
		struct tf_block *b = &v->blocks[l];
		b->ln1_w = NEXT;
		b->ln1_b = NEXT;
		b->ln2_w = NEXT;
		b->ln2_b = NEXT;
		b->W_Q = NEXT;
		b->W_K = NEXT;
		b->W_V = NEXT;
		b->W_O = NEXT;
		b->b_Q = NEXT;
		b->b_K = NEXT;
		b->b_V = NEXT;
		b->b_O = NEXT;
		b->W_in = NEXT;
		b->b_in = NEXT;
		b->W_out = NEXT;
		b->b_out = NEXT;
	}
	v->lnf_w = NEXT;
	v->lnf_b = NEXT;
	v->W_U = NEXT;
	v->b_U = NEXT;
#undef NEXT
}

/* GSL's gsl_ran_gaussian (the Box–Muller polar method, GSL 2.x randist/gauss.c) drawn from the
 * same generator, with husai's own logarithm in place of libm's, whose last bit depends on
 * the CPU (docs/reproducibility.md).  Same draws as GSL's wherever the two logarithms agree. */
double tf_gaussian(gsl_rng *r, double sigma)
{
	double x, y, r2;
	do {
		x = -1 + 2 * gsl_rng_uniform_pos(r);
		y = -1 + 2 * gsl_rng_uniform_pos(r);
		r2 = x * x + y * y;
	} while (r2 > 1.0 || r2 == 0);
	return sigma * y * sqrt(-2.0 * hus_log(r2) / r2);
}

int tf_params_init(float *params, const struct tf_layout *lay, const struct tf_config *c,
                   struct hus_err *err)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	if (!r)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "cannot allocate the init generator");
	gsl_rng_set(r, (unsigned long)c->init_seed);
	/* docs/formulas.md §2.3: initializer_range = 0.8 / sqrt(d_model) */
	const double std = 0.8 / sqrt((double)c->d_model);
	for (size_t i = 0; i < lay->n_tensors; i++) {
		const struct tf_tensor *t = &lay->t[i];
		float *x = params + t->offset;
		size_t len = strlen(t->name);
		int is_ln_w = len >= 2 && !strcmp(t->name + len - 2, ".w");
		for (size_t j = 0; j < t->n; j++)
			x[j] = t->is_weight ? (float)tf_gaussian(r, std) : is_ln_w ? 1.0f : 0.0f;
	}
	gsl_rng_free(r);
	return 0;
}
