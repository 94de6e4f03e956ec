/*
 * test_transformer.c — the transformer's parameters, forward and backward (docs/formulas.md §2.2-2.3):
 * the seed configuration has 427 765 parameters with the state-dict shapes; logits and every
 * hook equal a naive double-precision reference (tf_ref.h); every parameter block's gradient
 * equals central finite differences of that reference (relative error < 1e-4); gradients are
 * bit-identical with 1 and 2 threads; the seeded init is reproducible with std 0.8/sqrt(d).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <omp.h>

#include "tf_ref.h"
#include "train.h"


#define assert_near(a, b, tol) do { double a_ = (a), b_ = (b); \
	if (!(fabs(a_ - b_) <= (tol))) print_error("%.9g vs %.9g (tol %.3g)\n", a_, b_, (double)(tol)); \
	assert_true(fabs(a_ - b_) <= (tol)); } while (0)

static uint64_t lcg_state;
static double lcg_uniform(void) /* [-0.5, 0.5) */
{
	lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(lcg_state >> 11) / 9007199254740992.0 - 0.5;
}

static void tiny_config(struct tf_config *c, enum tf_act act, int answer, int64_t L)
{
	tf_config_default(c);
	c->p = 5;
	c->n_layers = L;
	c->d_model = 8;
	c->n_heads = 2;
	c->d_mlp = 12;
	c->act = act;
	c->answer_index = answer;
}

/* random parameters: W_* and biases ~ U(-0.5, 0.5) * scale, LN weights 1 + U * 0.4 */
static void random_params(float *P, const struct tf_layout *lay, uint64_t seed)
{
	lcg_state = seed;
	for (size_t i = 0; i < lay->n_tensors; i++) {
		const struct tf_tensor *t = &lay->t[i];
		size_t len = strlen(t->name);
		int lnw = !strcmp(t->name + len - 2, ".w");
		for (size_t j = 0; j < t->n; j++)
			P[t->offset + j] = lnw ? (float)(1.0 + 0.4 * lcg_uniform())
			                       : (float)((t->is_weight ? 1.2 : 0.4) * lcg_uniform());
	}
}

static void batch(int32_t *tok, int32_t *lab, size_t B, int64_t p, uint64_t seed)
{
	int32_t *all = malloc((size_t)(p * p) * DS_SEQ_LEN * sizeof(int32_t));
	int32_t *lab_all = malloc((size_t)(p * p) * sizeof(int32_t));
	ds_examples(all, lab_all, p);
	lcg_state = seed;
	for (size_t b = 0; b < B; b++) {
		size_t e = (size_t)((lcg_uniform() + 0.5) * (double)(p * p));
		memcpy(tok + b * DS_SEQ_LEN, all + e * DS_SEQ_LEN, DS_SEQ_LEN * sizeof(int32_t));
		lab[b] = lab_all[e];
	}
	free(all);
	free(lab_all);
}

static void test_param_count(void **state)
{
	(void)state;
	struct tf_config c;
	struct tf_layout lay;
	tf_config_default(&c);
	tf_layout_init(&lay, &c);
	assert_int_equal(lay.n_params, 427765);
	assert_int_equal(lay.n_tensors, 2 + 2 * 16 + 4);
	assert_string_equal(lay.t[0].name, "embed.W_E");
	assert_int_equal(lay.t[0].dims[0], 117);
	assert_string_equal(lay.t[6].name, "blocks.0.attn.W_Q");
	assert_int_equal(lay.t[6].rank, 3);
	assert_int_equal(lay.t[6].dims[0], 4);
	assert_int_equal(lay.t[6].dims[1], 128);
	assert_int_equal(lay.t[6].dims[2], 32);
	assert_string_equal(lay.t[lay.n_tensors - 1].name, "unembed.b_U");
	/* views point where the table says */
	float *base = (float *)0x1000;
	struct tf_params v;
	tf_params_view(&v, base, &c);
	assert_ptr_equal(v.blocks[1].W_out, base + lay.t[2 + 16 + 14].offset);
	assert_ptr_equal(v.b_U, base + lay.t[lay.n_tensors - 1].offset);
}

static void test_init(void **state)
{
	(void)state;
	struct tf_config c;
	struct tf_layout lay;
	struct hus_err err;
	tf_config_default(&c);
	c.init_seed = 7;
	tf_layout_init(&lay, &c);
	float *a = malloc(lay.n_params * sizeof(float)), *b = malloc(lay.n_params * sizeof(float));
	assert_int_equal(tf_params_init(a, &lay, &c, &err), 0);
	assert_int_equal(tf_params_init(b, &lay, &c, &err), 0);
	assert_memory_equal(a, b, lay.n_params * sizeof(float));
	double ss = 0;
	size_t nw = 0;
	for (size_t i = 0; i < lay.n_tensors; i++) {
		const struct tf_tensor *t = &lay.t[i];
		for (size_t j = 0; j < t->n; j++) {
			float x = a[t->offset + j];
			if (t->is_weight) {
				ss += (double)x * x;
				nw++;
			} else if (strstr(t->name, ".w")) {
				assert_true(x == 1.0f);
			} else {
				assert_true(x == 0.0f);
			}
		}
	}
	/* docs/formulas.md §2.3: std 0.8/sqrt(128) = 0.0707107 (n ~ 4e5, so 1% is > 10 sigma) */
	assert_near(sqrt(ss / (double)nw), 0.0707107, 0.0707107 * 0.01);
	c.init_seed = 8;
	assert_int_equal(tf_params_init(b, &lay, &c, &err), 0);
	assert_memory_not_equal(a, b, lay.n_params * sizeof(float));
	free(a);
	free(b);
}

/* float forward/backward vs double reference and finite differences */
static void grad_check(enum tf_act act, int answer, int64_t L)
{
	struct tf_config c;
	struct tf_layout lay;
	struct hus_err err;
	tiny_config(&c, act, answer, L);
	tf_layout_init(&lay, &c);
	const size_t n = lay.n_params, B = 6, T = (size_t)answer + 1, V = (size_t)c.p + 4;
	float *P = calloc(n, sizeof(float)), *G = calloc(n, sizeof(float));
	double *Pd = calloc(n, sizeof(double)), *logits_ref = calloc(B * V, sizeof(double));
	int32_t tok[6 * DS_SEQ_LEN], lab[6];
	random_params(P, &lay, 1234 + (uint64_t)act * 10 + (uint64_t)answer);
	batch(tok, lab, B, c.p, 99);
	for (size_t i = 0; i < n; i++)
		Pd[i] = P[i];
	struct tf_params pv, gv;
	tf_params_view(&pv, P, &c);
	tf_params_view(&gv, G, &c);
	struct tf_work w;
	assert_int_equal(tf_work_alloc(&w, &c, B, T, 1, &err), 0);
	tf_pack_qkv(&w, &pv, &c);
	double loss;
	int64_t correct;
	tf_forward(&w, &pv, &c, tok, DS_SEQ_LEN, B, lab, &loss, &correct);
	tf_backward(&w, &gv, &pv, &c, tok, DS_SEQ_LEN, B, lab);
	double loss_ref = tf_ref_forward(Pd, &c, tok, DS_SEQ_LEN, B, T, lab, logits_ref, NULL);
	assert_near(loss, loss_ref, 1e-5 * (1 + fabs(loss_ref)));
	double maxd = 0;
	for (size_t i = 0; i < B * V; i++)
		maxd = fmax(maxd, fabs(w.logits[i] - logits_ref[i]));
	assert_true(maxd < 1e-5);
	/* central differences in double, per parameter block */
	const double h = 1e-5;
	for (size_t ti = 0; ti < lay.n_tensors; ti++) {
		const struct tf_tensor *t = &lay.t[ti];
		double num = 0, den = 0;
		for (size_t j = 0; j < t->n; j++) {
			size_t i = t->offset + j;
			double keep = Pd[i];
			Pd[i] = keep + h;
			double lp = tf_ref_forward(Pd, &c, tok, DS_SEQ_LEN, B, T, lab, NULL, NULL);
			Pd[i] = keep - h;
			double lm = tf_ref_forward(Pd, &c, tok, DS_SEQ_LEN, B, T, lab, NULL, NULL);
			Pd[i] = keep;
			double fd = (lp - lm) / (2 * h);
			num += (G[i] - fd) * (G[i] - fd);
			den += fd * fd;
		}
		/* b_K has a zero true gradient (softmax is shift-invariant): there the
		 * difference itself must be at rounding level */
		double rel = sqrt(den) > 1e-6 ? sqrt(num / den) : sqrt(num) / 1e-3;
		if (!(rel < 1e-4))
			print_error("%s (%s, answer %d): gradient relative error %.3g\n", t->name,
			            tf_act_name(act), answer, rel);
		assert_true(rel < 1e-4);
	}
	tf_work_release(&w);
	free(P), free(G), free(Pd), free(logits_ref);
}

static void test_grad_relu_equals(void **state) { (void)state; grad_check(TF_RELU, 4, 2); }
static void test_grad_gelu_upstream(void **state) { (void)state; grad_check(TF_GELU, 5, 2); }
static void test_grad_gelu_new_equals(void **state) { (void)state; grad_check(TF_GELU_NEW, 4, 2); }
static void test_grad_one_layer(void **state) { (void)state; grad_check(TF_GELU, 4, 1); }

/* the full path (every row, T = 7) gives every hook of the reference */
static void test_hooks_full(void **state)
{
	(void)state;
	struct tf_config c;
	struct tf_layout lay;
	struct hus_err err;
	tiny_config(&c, TF_GELU, 4, 2);
	tf_layout_init(&lay, &c);
	const size_t n = lay.n_params, B = 5, T = DS_SEQ_LEN, d = (size_t)c.d_model;
	float *P = calloc(n, sizeof(float));
	double *Pd = calloc(n, sizeof(double)), *hooks = calloc(2 * 5 * B * T * d, sizeof(double));
	int32_t tok[5 * DS_SEQ_LEN], lab[5];
	random_params(P, &lay, 77);
	batch(tok, lab, B, c.p, 5);
	for (size_t i = 0; i < n; i++)
		Pd[i] = P[i];
	tf_ref_forward(Pd, &c, tok, DS_SEQ_LEN, B, T, lab, NULL, hooks);
	struct tf_params pv;
	tf_params_view(&pv, P, &c);
	struct tf_work w;
	assert_int_equal(tf_work_alloc(&w, &c, B, T, 0, &err), 0);
	tf_pack_qkv(&w, &pv, &c);
	tf_forward(&w, &pv, &c, tok, DS_SEQ_LEN, B, NULL, NULL, NULL);
	for (size_t l = 0; l < 2; l++) {
		const float *got[5] = { w.x[l], w.mid[l], w.x[l + 1], w.attn_out[l], w.mlp_out[l] };
		for (size_t k = 0; k < 5; k++) {
			double maxd = 0;
			for (size_t i = 0; i < B * T * d; i++)
				maxd = fmax(maxd, fabs(got[k][i] - hooks[(l * 5 + k) * B * T * d + i]));
			if (!(maxd < 1e-5))
				print_error("layer %zu hook %zu: max difference %.3g\n", l, k, maxd);
			assert_true(maxd < 1e-5);
		}
	}
	tf_work_release(&w);
	free(P), free(Pd), free(hooks);
}

/* gradients of the seed-sized model are bit-identical with 1 and 2 threads */
static void test_threads_identical(void **state)
{
	(void)state;
	struct tf_config c;
	struct tf_layout lay;
	struct hus_err err;
	tf_config_default(&c);
	c.p = 23;
	tf_layout_init(&lay, &c);
	const size_t n = lay.n_params, B = 96, T = 5;
	float *P = calloc(n, sizeof(float)), *G1 = calloc(n, sizeof(float)), *G2 = calloc(n, sizeof(float));
	int32_t *tok = malloc(B * DS_SEQ_LEN * sizeof(int32_t)), *lab = malloc(B * sizeof(int32_t));
	c.init_seed = 3;
	assert_int_equal(tf_params_init(P, &lay, &c, &err), 0);
	batch(tok, lab, B, c.p, 11);
	struct tf_params pv, g1, g2;
	tf_params_view(&pv, P, &c);
	tf_params_view(&g1, G1, &c);
	tf_params_view(&g2, G2, &c);
	struct tf_work w;
	assert_int_equal(tf_work_alloc(&w, &c, B, T, 1, &err), 0);
	tf_pack_qkv(&w, &pv, &c);
	/* the same bits under every instruction-set path of the numeric core and 1 or 2 threads */
	double l1, l2;
	enum hus_isa isa0 = hus_isa_current();
	omp_set_num_threads(1);
	assert_int_equal(hus_isa_force(HUS_ISA_SCALAR), 0);
	tf_forward(&w, &pv, &c, tok, DS_SEQ_LEN, B, lab, &l1, NULL);
	tf_backward(&w, &g1, &pv, &c, tok, DS_SEQ_LEN, B, lab);
	for (int isa = HUS_ISA_SCALAR; isa <= HUS_ISA_NEON; isa++)
		for (int nt = 1; nt <= 2; nt++) {
			if (!hus_isa_supported((enum hus_isa)isa))
				continue;
			assert_int_equal(hus_isa_force((enum hus_isa)isa), 0);
			omp_set_num_threads(nt);
			memset(G2, 0, n * sizeof(float));
			tf_forward(&w, &pv, &c, tok, DS_SEQ_LEN, B, lab, &l2, NULL);
			tf_backward(&w, &g2, &pv, &c, tok, DS_SEQ_LEN, B, lab);
			assert_memory_equal(&l1, &l2, sizeof(double));
			assert_memory_equal(G1, G2, n * sizeof(float));
		}
	assert_int_equal(hus_isa_force(isa0), 0);
	tf_work_release(&w);
	free(P), free(G1), free(G2), free(tok), free(lab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_param_count),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_grad_relu_equals),
		cmocka_unit_test(test_grad_gelu_upstream),
		cmocka_unit_test(test_grad_gelu_new_equals),
		cmocka_unit_test(test_grad_one_layer),
		cmocka_unit_test(test_hooks_full),
		cmocka_unit_test(test_threads_identical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
