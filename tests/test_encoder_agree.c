/*
 * test_encoder_agree.c — analyze/'s SAE encoder (sae_latents, activation_agreement.c: the
 * latents behind activation agreement, truth recovery and the functional test's firing rows)
 * against train/'s inference forward (sae_forward) on the same model, for every architecture:
 * the same latents fire on every row and their values agree to float rounding.  The two are
 * written separately (analyze/ reads checkpoints and never links the trainer's workspace), so
 * this test is what ties them: a change of one architecture's inference rule in either place
 * fails here.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze.h"
#include "train.h"

enum { D = 16, M = 48, N = 64 };

/* A model of `arch` off its initialisation: deterministic biases, b_dec and thresholds, so
 * every term of the inference rule matters. */
static struct sae_model *model(enum sae_arch arch, size_t k, uint64_t seed)
{
	struct sae_hparams h;
	struct hus_err err;
	sae_hparams_default(&h, arch, D, M, k);
	assert_int_equal(sae_hparams_check(&h, "test", &err), 0);
	struct sae_model *s;
	assert_int_equal(sae_model_alloc(&s, &h, seed, &err), 0);
	for (size_t j = 0; j < M; j++) {
		s->p.b_enc[j] = 0.04f * (float)((int)(j % 7) - 3);
		if (s->p.threshold)
			s->p.threshold[j] = 0.02f * (float)(j % 5);
	}
	if (h.use_b_dec)
		for (size_t r = 0; r < D; r++)
			s->p.b_dec[r] = 0.05f * (float)((int)(r % 5) - 2);
	s->threshold_set = 1;
	return s;
}

static void check_arch(enum sae_arch arch, size_t k)
{
	static float X[N * D], z_train[N * M], z_ana[N * M];
	struct mt19937 g;
	mt_seed(&g, 7 + (uint32_t)arch);
	for (size_t i = 0; i < N * D; i++)
		X[i] = (float)((mt_next32(&g) / 4294967296.0) * 2.0 - 1.0);
	struct sae_model *s = model(arch, k, 100 + arch);
	struct sae_work *w;
	struct hus_err err = { 0 };
	assert_int_equal(sae_work_alloc(&w, &s->h, N, &err), 0);
	sae_forward(s, w, X, N, NULL, z_train);

	int la = latent_arch_parse(sae_arch_name(arch));
	assert_true(la >= 0);
	struct sae_encoder e = { (enum latent_arch)la, D, M, k, s->p.W_enc, s->p.b_enc,
	                         s->h.use_b_dec ? s->p.b_dec : NULL,
	                         la == LATENT_THRESHOLD ? s->p.threshold : NULL };
	assert_int_equal(sae_latents(z_ana, &e, X, N, &err), 0);

	size_t fired = 0, support = 0, value = 0;
	double worst = 0;
	for (size_t q = 0; q < N * M; q++) {
		fired += z_train[q] != 0.0f;
		if ((z_train[q] != 0.0f) != (z_ana[q] != 0.0f)) {
			support++;
			continue;
		}
		double diff = fabs((double)z_train[q] - z_ana[q]);
		worst = fmax(worst, diff);
		value += diff > 1e-5 * (1.0 + fabs((double)z_train[q]));
	}
	printf("%-14s %zu latents fire, support differs at %zu, values at %zu (largest %.2g)\n",
	       sae_arch_name(arch), fired, support, value, worst);
	assert_true(fired > N);   /* the rule fires: the comparison is not of zeros */
	assert_true(fired < N * M); /* and it is sparse */
	assert_int_equal(support, 0);
	assert_int_equal(value, 0);
	sae_work_free(w);
	sae_model_free(s);
}

static void test_topk_upstream(void **state) { (void)state; check_arch(SAE_TOPK_UPSTREAM, 6); }
static void test_topk(void **state) { (void)state; check_arch(SAE_TOPK, 6); }
static void test_relu(void **state) { (void)state; check_arch(SAE_RELU, 0); }
static void test_batchtopk(void **state) { (void)state; check_arch(SAE_BATCHTOPK, 6); }
static void test_jumprelu(void **state) { (void)state; check_arch(SAE_JUMPRELU, 0); }
static void test_matryoshka(void **state) { (void)state; check_arch(SAE_MATRYOSHKA, 6); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topk_upstream), cmocka_unit_test(test_topk),
		cmocka_unit_test(test_relu),          cmocka_unit_test(test_batchtopk),
		cmocka_unit_test(test_jumprelu),      cmocka_unit_test(test_matryoshka),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
