/*
 * test_functional.c — the functional-consistency test of matched SAE features
 * (train/functional.c, docs/formulas.md §11) on a tiny transformer: substituting an SAE with
 * itself under the identity matching changes nothing (Δloss exactly 0), nor does a copy with
 * its latents permuted under the true permutation; the random control does change the loss;
 * fingerprints of a latent and its copy agree; the results are the same bits on every
 * instruction-set path and thread count; the activation-set check refuses rows that are not
 * the model's own; a derangement moves every index.
 */
#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train.h"

#define D 16
#define M 24
#define K 4

static struct tf_config cfg;
static float *params;
static struct fn_model model;
static struct sae_model *sae;

static int setup(void **state)
{
	(void)state;
	struct tf_layout lay;
	struct hus_err err;
	hus_libs_init();
	tf_config_default(&cfg);
	cfg.p = 11;
	cfg.train_fraction = 0.5;
	cfg.n_layers = 1;
	cfg.d_model = D;
	cfg.n_heads = 2;
	cfg.d_mlp = 32;
	cfg.init_seed = 5;
	tf_layout_init(&lay, &cfg);
	params = malloc(lay.n_params * sizeof(float));
	if (!params || tf_params_init(params, &lay, &cfg, &err))
		return -1;
	if (fn_model_init(&model, &cfg, params, &err))
		return -1;
	struct sae_hparams h;
	sae_hparams_default(&h, SAE_TOPK, D, M, K);
	if (sae_hparams_check(&h, "test", &err) || sae_model_alloc(&sae, &h, 7, &err))
		return -1;
	/* a decoder bias, so the reconstruction is not a plain sum of latents */
	for (size_t i = 0; i < D; i++)
		sae->p.b_dec[i] = 0.01f * (float)i;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fn_model_release(&model);
	sae_model_free(sae);
	free(params);
	return 0;
}

/* a checkpoint view of the test SAE; with sigma, latent i moved to sigma[i] */
static void ckpt_of(struct sae_ckpt *ck, float *buf, const size_t *sigma, int64_t seed)
{
	memset(ck, 0, sizeof(*ck));
	ck->d_model = D;
	ck->d_sae = M;
	ck->k = K;
	ck->seed = seed;
	ck->has_b_dec = 1;
	snprintf(ck->architecture, sizeof(ck->architecture), "%s", sae_arch_name(SAE_TOPK));
	memcpy(buf, sae->p.mem, sae->p.n * sizeof(float));
	if (sigma) {
		struct sae_params v;
		sae_params_view(&v, buf, &sae->h);
		for (size_t i = 0; i < M; i++) {
			size_t j = sigma[i];
			memcpy(v.W_enc + j * D, sae->p.W_enc + i * D, D * sizeof(float));
			memcpy(v.W_decT + j * D, sae->p.W_decT + i * D, D * sizeof(float));
			v.b_enc[j] = sae->p.b_enc[i];
			v.threshold[j] = sae->p.threshold[i];
		}
	}
	ck->params = buf;
}

static void build(struct fn_sae *s, const size_t *sigma, int64_t seed)
{
	struct sae_ckpt ck;
	struct hus_err err;
	float *buf = malloc(sae->p.n * sizeof(float));
	assert_non_null(buf);
	ckpt_of(&ck, buf, sigma, seed);
	if (fn_sae_init(s, &model, &ck, "test", &err))
		fail_msg("%s: %s", err.where, err.msg);
	free(buf);
}

static void test_identity_changes_nothing(void **state)
{
	(void)state;
	struct fn_sae a;
	struct fn_pair_result r;
	struct hus_err err;
	int32_t perm[M];
	build(&a, NULL, 1);
	for (int i = 0; i < M; i++)
		perm[i] = i;
	assert_int_equal(fn_pair(&model, &a, &a, perm, 3, &r, &err), 0);
	assert_true(r.n_features > 0);
	assert_true(r.matched_dloss == 0.0 && r.matched_abs_dloss == 0.0);
	assert_true(r.matched_dacc == 0.0);
	assert_true(r.random_abs_dloss > 0.0); /* a random latent does change the loss */
	assert_true(fabs(r.fp_cos_matched - 1.0) < 1e-12);
	assert_true(r.fp_cos_random < r.fp_cos_matched);
	/* the spliced reconstruction differs from the clean model */
	assert_true(a.loss != model.clean_loss);
	fn_sae_release(&a);
}

static void test_permuted_copy_under_true_permutation(void **state)
{
	(void)state;
	struct fn_sae a, b;
	struct fn_pair_result r, rw;
	struct hus_err err;
	size_t sigma[M];
	int32_t perm[M], wrong[M];
	for (size_t i = 0; i < M; i++)
		sigma[i] = (i * 7 + 5) % M; /* 7 is prime to 24: a permutation */
	build(&a, NULL, 1);
	build(&b, sigma, 2);
	for (size_t i = 0; i < M; i++) {
		perm[i] = (int32_t)sigma[i];
		wrong[i] = (int32_t)sigma[(i + 1) % M];
	}
	assert_int_equal(fn_pair(&model, &a, &b, perm, 3, &r, &err), 0);
	assert_true(r.matched_dloss == 0.0 && r.matched_abs_dloss == 0.0 && r.matched_dacc == 0.0);
	assert_true(r.random_abs_dloss > 0.0);
	assert_true(fabs(r.fp_cos_matched - 1.0) < 1e-12);
	/* the same copy under a wrong matching is no longer free */
	assert_int_equal(fn_pair(&model, &a, &b, wrong, 3, &rw, &err), 0);
	assert_true(rw.matched_abs_dloss > 0.0);
	/* a matching that is not one-to-one is a named error */
	wrong[1] = wrong[0];
	assert_int_not_equal(fn_pair(&model, &a, &b, wrong, 3, &rw, &err), 0);
	assert_non_null(strstr(err.msg, "one-to-one"));
	fn_sae_release(&a);
	fn_sae_release(&b);
}

static void test_bits_across_isas_and_threads(void **state)
{
	(void)state;
	size_t sigma[M];
	int32_t perm[M];
	struct fn_pair_result ref, r;
	struct hus_err err;
	for (size_t i = 0; i < M; i++) {
		sigma[i] = (i * 5 + 1) % M;
		perm[i] = (int32_t)((i * 11 + 3) % M); /* some matching, not the true one */
	}
	int have_ref = 0;
	for (int t = 1; t <= 2; t++) {
		omp_set_num_threads(t);
		for (int i = 0; i < 4; i++) {
			if (!hus_isa_supported((enum hus_isa)i))
				continue;
			assert_int_equal(hus_isa_force((enum hus_isa)i), 0);
			struct fn_model m2;
			struct fn_sae a, b;
			assert_int_equal(fn_model_init(&m2, &cfg, params, &err), 0);
			struct fn_model keep = model;
			model = m2; /* build() uses the global model */
			build(&a, NULL, 1);
			build(&b, sigma, 2);
			assert_int_equal(fn_pair(&model, &a, &b, perm, 9, &r, &err), 0);
			if (!have_ref) {
				ref = r;
				have_ref = 1;
			} else {
				assert_memory_equal(&ref, &r, sizeof(r));
			}
			fn_sae_release(&a);
			fn_sae_release(&b);
			fn_model_release(&model);
			model = keep;
		}
	}
	assert_true(have_ref);
}

static void test_acts_check(void **state)
{
	(void)state;
	struct hus_err err;
	struct acts_set s;
	struct tf_extract_opts o = { TF_HOOK_RESID_POST, 0, "answer", 42, 0.8, 64, 0 };
	assert_int_equal(tf_extract(&s, &cfg, params, &o, &err), 0);
	assert_int_equal(fn_model_check_acts(&model, &s, "set.h5", NULL, &err), 0);
	for (size_t r = 0; r < s.N; r++) /* the held-out rows among them no longer match */
		s.x[r * D] += 1.0f;
	int rc = fn_model_check_acts(&model, &s, "set.h5", NULL, &err);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(err.msg, "not extracted from this checkpoint"));
	snprintf(s.hook, sizeof(s.hook), "mlp_out");
	assert_int_not_equal(fn_model_check_acts(&model, &s, "set.h5", NULL, &err), 0);
	assert_non_null(strstr(err.msg, "resid_post"));
	acts_release(&s);
}

static void test_derangement(void **state)
{
	(void)state;
	int64_t rho[50];
	for (uint64_t seed = 0; seed < 20; seed++) {
		assert_int_equal(fn_derangement(rho, 50, seed), 0);
		int seen[50] = { 0 };
		for (int i = 0; i < 50; i++) {
			assert_true(rho[i] != i);
			seen[rho[i]]++;
		}
		for (int i = 0; i < 50; i++)
			assert_int_equal(seen[i], 1);
	}
	assert_int_equal(fn_derangement(rho, 1, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_changes_nothing),
		cmocka_unit_test(test_permuted_copy_under_true_permutation),
		cmocka_unit_test(test_bits_across_isas_and_threads),
		cmocka_unit_test(test_acts_check),
		cmocka_unit_test(test_derangement),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
