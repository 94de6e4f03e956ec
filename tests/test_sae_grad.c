/*
 * test_sae_grad.c — finite-difference gradient checks of every SAE architecture's loss
 * (MSE, upstream aux, AuxK, L1 with and without decoder-norm weighting, BatchTopK,
 * Matryoshka prefixes, the alignment penalty of §6.5), and JumpReLU's straight-through
 * threshold gradient against an independent naive evaluation of its definition.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train.h"

enum { D = 8, M = 24, NB = 6 };

static float X[NB * D];

static void make_x(uint32_t seed)
{
	struct mt19937 g;
	mt_seed(&g, seed);
	for (int i = 0; i < NB * D; i++)
		X[i] = (float)((mt_next32(&g) / 4294967296.0) * 2.0 - 1.0);
}

static double loss_at(struct sae_model *s, struct sae_work *w)
{
	struct sae_step_stats st;
	return sae_loss_grad(s, w, X, NB, 1, &st);
}

/* Compare dL/dp[i] with the central difference for the parameter indices in [lo, hi). */
static int check_range(struct sae_model *s, struct sae_work *w, float *base, size_t lo,
                       size_t hi, size_t stride, double *worst)
{
	struct sae_step_stats st;
	sae_loss_grad(s, w, X, NB, 1, &st);
	size_t n = s->p.n;
	float *g = malloc(n * sizeof(float));
	memcpy(g, s->g.mem, n * sizeof(float));
	int bad = 0;
	for (size_t i = lo; i < hi; i += stride) {
		size_t q = (size_t)(base - s->p.mem) + i;
		float keep = s->p.mem[q];
		const float h = 1e-3f;
		s->p.mem[q] = keep + h;
		double lp = loss_at(s, w);
		s->p.mem[q] = keep - h;
		double lm = loss_at(s, w);
		s->p.mem[q] = keep;
		double fd = (lp - lm) / (2.0 * (double)h), an = g[q];
		double diff = fabs(fd - an);
		if (diff > *worst)
			*worst = diff;
		if (diff > 2e-4 + 2e-2 * fabs(an)) {
			printf("  param %zu: analytic %.8g finite-difference %.8g\n", q, an, fd);
			bad++;
		}
	}
	free(g);
	return bad;
}

static void check_all(struct sae_model *s, const char *label)
{
	struct sae_work *w;
	struct hus_err err;
	assert_int_equal(sae_work_alloc(&w, &s->h, NB, &err), 0);
	double worst = 0;
	int bad = 0;
	size_t md = (size_t)M * D;
	bad += check_range(s, w, s->p.W_enc, 0, md, 5, &worst);
	bad += check_range(s, w, s->p.b_enc, 0, M, 1, &worst);
	bad += check_range(s, w, s->p.W_decT, 0, md, 5, &worst);
	if (s->h.use_b_dec)
		bad += check_range(s, w, s->p.b_dec, 0, D, 1, &worst);
	printf("%s: largest |analytic - finite difference| %.3g\n", label, worst);
	assert_int_equal(bad, 0);
	sae_work_free(w);
}

static struct sae_model *model(enum sae_arch a, size_t k, uint64_t seed)
{
	struct sae_hparams h;
	struct hus_err err;
	sae_hparams_default(&h, a, D, M, k);
	assert_int_equal(sae_hparams_check(&h, "test", &err), 0);
	struct sae_model *s;
	assert_int_equal(sae_model_alloc(&s, &h, seed, &err), 0);
	/* move off the init so biases matter: a small deterministic perturbation */
	for (size_t i = 0; i < M; i++)
		s->p.b_enc[i] = 0.05f * (float)((int)(i % 7) - 3);
	if (h.use_b_dec)
		for (size_t i = 0; i < D; i++)
			s->p.b_dec[i] = 0.03f * (float)((int)(i % 5) - 2);
	return s;
}

static void test_topk_upstream_mse(void **state)
{
	(void)state;
	make_x(1);
	struct sae_model *s = model(SAE_TOPK_UPSTREAM, 4, 42);
	check_all(s, "topk_upstream mse");
	sae_model_free(s);
}

static void test_topk_upstream_aux(void **state)
{
	(void)state;
	make_x(2);
	struct sae_model *s = model(SAE_TOPK_UPSTREAM, 4, 43);
	s->h.upstream_aux = 1;
	s->h.aux_coef = 0.5; /* large, so the term is visible */
	check_all(s, "topk_upstream mse+aux");
	sae_model_free(s);
}

static void test_topk_mse(void **state)
{
	(void)state;
	make_x(3);
	struct sae_model *s = model(SAE_TOPK, 4, 44);
	s->h.auxk_coef = 0; /* no dead latents anyway */
	check_all(s, "topk mse");
	sae_model_free(s);
}

/* AuxK: the residual is detached, so check it on latents that are dead and never in the main
 * top-k: perturbing them leaves x̂ unchanged and the loss changes through AuxK only. */
static void test_topk_auxk(void **state)
{
	(void)state;
	make_x(4);
	struct sae_model *s = model(SAE_TOPK, 2, 45);
	s->h.k_aux = 6;
	s->h.auxk_coef = 0.7;
	s->h.dead_tokens = 100;
	struct sae_work *w;
	struct hus_err err;
	assert_int_equal(sae_work_alloc(&w, &s->h, NB, &err), 0);
	float z[NB * M];
	sae_forward(s, w, X, NB, NULL, z);
	int used[M] = { 0 };
	for (int q = 0; q < NB * M; q++)
		used[q % M] |= z[q] != 0.0f;
	int ndead = 0;
	for (int j = 0; j < M; j++)
		if (!used[j]) {
			s->since_fired[j] = 1000;
			ndead++;
		}
	assert_true(ndead >= 6);
	struct sae_step_stats st;
	sae_loss_grad(s, w, X, NB, 1, &st);
	assert_true(st.aux > 0);
	double worst = 0;
	int bad = 0;
	for (int j = 0; j < M; j++) {
		if (used[j])
			continue;
		bad += check_range(s, w, s->p.W_enc + (size_t)j * D, 0, D, 1, &worst);
		bad += check_range(s, w, s->p.W_decT + (size_t)j * D, 0, D, 1, &worst);
		bad += check_range(s, w, s->p.b_enc + j, 0, 1, 1, &worst);
	}
	printf("topk auxk (dead latents): largest difference %.3g, %d dead\n", worst, ndead);
	assert_int_equal(bad, 0);
	sae_work_free(w);
	sae_model_free(s);
}

static void test_relu_l1(void **state)
{
	(void)state;
	make_x(5);
	struct sae_model *s = model(SAE_RELU, 0, 46);
	s->h.l1_coef = 0.05;
	check_all(s, "relu mse+l1");
	s->h.l1_decnorm = 1;
	/* off unit norm, so the decoder-norm weighting has a gradient */
	for (size_t i = 0; i < (size_t)M * D; i++)
		s->p.W_decT[i] *= 1.0f + 0.01f * (float)(i % 13);
	check_all(s, "relu mse+decnorm l1");
	sae_model_free(s);
}

static void test_batchtopk(void **state)
{
	(void)state;
	make_x(6);
	struct sae_model *s = model(SAE_BATCHTOPK, 3, 47);
	check_all(s, "batchtopk");
	sae_model_free(s);
}

static void test_matryoshka(void **state)
{
	(void)state;
	make_x(7);
	struct sae_hparams h;
	struct hus_err err;
	sae_hparams_default(&h, SAE_MATRYOSHKA, D, M, 4);
	h.n_prefix = 3;
	h.prefix[0] = 4, h.prefix[1] = 10, h.prefix[2] = M;
	assert_int_equal(sae_hparams_check(&h, "test", &err), 0);
	struct sae_model *s;
	assert_int_equal(sae_model_alloc(&s, &h, 48, &err), 0);
	check_all(s, "matryoshka 4/10/24");
	sae_model_free(s);
}

static void test_jumprelu_mse(void **state)
{
	(void)state;
	make_x(8);
	struct sae_model *s = model(SAE_JUMPRELU, 0, 49);
	for (size_t j = 0; j < M; j++)
		s->p.threshold[j] = 0.1f;
	check_all(s, "jumprelu (mse and L0 via W, b)");
	sae_model_free(s);
}

/* θ gradient: naive double evaluation of the STE definition in sae_dense.c's comment */
static void test_jumprelu_ste(void **state)
{
	(void)state;
	make_x(9);
	struct sae_model *s = model(SAE_JUMPRELU, 0, 50);
	s->h.jr_bandwidth = 0.2;
	s->h.jr_l0_coef = 0.3;
	for (size_t j = 0; j < M; j++)
		s->p.threshold[j] = 0.05f + 0.01f * (float)j;
	struct sae_work *w;
	struct hus_err err;
	assert_int_equal(sae_work_alloc(&w, &s->h, NB, &err), 0);
	struct sae_step_stats st;
	sae_loss_grad(s, w, X, NB, 1, &st);
	double eps = s->h.jr_bandwidth, worst = 0;
	int in_window = 0;
	for (size_t j = 0; j < M; j++) {
		double want = 0;
		for (size_t b = 0; b < NB; b++) {
			/* pre, z and x̂ naively */
			double xh[D];
			for (size_t i = 0; i < D; i++)
				xh[i] = s->p.b_dec[i];
			for (size_t jj = 0; jj < M; jj++) {
				double p = s->p.b_enc[jj];
				for (size_t i = 0; i < D; i++)
					p += (double)s->p.W_enc[jj * D + i] * (X[b * D + i] - s->p.b_dec[i]);
				double z = p > s->p.threshold[jj] ? p : 0;
				for (size_t i = 0; i < D; i++)
					xh[i] += z * s->p.W_decT[jj * D + i];
			}
			double p = s->p.b_enc[j];
			for (size_t i = 0; i < D; i++)
				p += (double)s->p.W_enc[j * D + i] * (X[b * D + i] - s->p.b_dec[i]);
			double th = s->p.threshold[j], u = (p - th) / eps;
			if (fabs(u) >= 0.5)
				continue;
			in_window++;
			double dz = 0;
			for (size_t i = 0; i < D; i++)
				dz += 2.0 * (xh[i] - X[b * D + i]) / (NB * D) * s->p.W_decT[j * D + i];
			want += dz * (-th / eps) + s->h.jr_l0_coef / NB * (-1.0 / eps);
		}
		double diff = fabs(want - s->g.threshold[j]);
		if (diff > worst)
			worst = diff;
		assert_true(diff <= 1e-4 + 1e-4 * fabs(want));
	}
	printf("jumprelu STE: %d (row, latent) pairs in the window, largest difference %.3g\n",
	       in_window, worst);
	assert_true(in_window > 0);
	sae_work_free(w);
	sae_model_free(s);
}

static void test_alignment(void **state)
{
	(void)state;
	make_x(10);
	struct sae_model *s = model(SAE_TOPK_UPSTREAM, 4, 51);
	struct sae_model *ref = model(SAE_TOPK_UPSTREAM, 4, 52);
	s->ref_T = ref->p.W_decT;
	s->m_ref = M;
	s->h.align_lambda = 0.8;
	/* off unit norm: the penalty differentiates through the normalisation */
	for (size_t i = 0; i < (size_t)M * D; i++)
		s->p.W_decT[i] *= 1.0f + 0.02f * (float)(i % 11);
	check_all(s, "topk_upstream mse + 0.8 alignment");
	/* P alone: identical decoders give P = 0; the penalty is in [0, 1] */
	double p = sae_align_penalty(NULL, ref->p.W_decT, ref->p.W_decT, M, M, D, 0);
	assert_true(fabs(p) < 1e-6);
	double p2 = sae_align_penalty(NULL, s->p.W_decT, ref->p.W_decT, M, M, D, 0);
	assert_true(p2 > 0.05 && p2 < 1.0);
	sae_model_free(s);
	sae_model_free(ref);
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topk_upstream_mse), cmocka_unit_test(test_topk_upstream_aux),
		cmocka_unit_test(test_topk_mse),          cmocka_unit_test(test_topk_auxk),
		cmocka_unit_test(test_relu_l1),           cmocka_unit_test(test_batchtopk),
		cmocka_unit_test(test_matryoshka),        cmocka_unit_test(test_jumprelu_mse),
		cmocka_unit_test(test_jumprelu_ste),      cmocka_unit_test(test_alignment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
