/*
 * test_sae_torch.c — husai's SAEs against PyTorch (fixture tests/fixtures/sae_torch.json from
 * the committed generator gen_sae_torch.py): the seeded init equals upstream's TopKSAE under
 * torch.manual_seed (W_enc bit for bit, so step-0 checkpoints are upstream's control R2; W_dec
 * within float rounding of F.normalize), and the loss and the parameters after one forward,
 * backward, Adam step and decoder renorm agree within 1e-5, for topk_upstream, topk, relu and
 * batchtopk.
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

static hj *fx;

static int setup(void **state)
{
	(void)state;
	struct hus_err err;
	if (hj_read_file(HUSAI_FIXTURES "/sae_torch.json", &fx, &err)) {
		hus_err_print(&err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hj_free(fx);
	return 0;
}

static double maxdiff_arr(hj *a, const float *v, size_t n, size_t stride_t, size_t d, size_t m)
{
	/* stride_t: compare a [d, m] row-major array with v laid out (m, d) */
	assert_int_equal(hj_len(a), n);
	double worst = 0;
	for (size_t q = 0; q < n; q++) {
		double want = hj_as_f64(hj_at(a, q));
		double got = stride_t ? v[(q % m) * d + q / m] : v[q];
		double diff = fabs(want - got);
		if (diff > worst)
			worst = diff;
	}
	return worst;
}

static void load_f32(hj *a, float *v, size_t n)
{
	assert_int_equal(hj_len(a), n);
	for (size_t q = 0; q < n; q++)
		v[q] = (float)hj_as_f64(hj_at(a, q));
}

static void test_against_torch(void **state)
{
	(void)state;
	hj *cases = hj_get(fx, "cases");
	assert_non_null(cases);
	assert_true(hj_len(cases) >= 4);
	for (size_t ci = 0; ci < hj_len(cases); ci++) {
		hj *c = hj_at(cases, ci);
		int64_t seed, d, m, k, B;
		double lr, l1;
		assert_int_equal(hj_get_i64(c, "seed", &seed), 0);
		assert_int_equal(hj_get_i64(c, "d_model", &d), 0);
		assert_int_equal(hj_get_i64(c, "d_sae", &m), 0);
		assert_int_equal(hj_get_i64(c, "k", &k), 0);
		assert_int_equal(hj_get_i64(c, "batch", &B), 0);
		assert_int_equal(hj_get_f64(c, "lr", &lr), 0);
		assert_int_equal(hj_get_f64(c, "l1_coef", &l1), 0);
		enum sae_arch a;
		assert_int_equal(sae_arch_parse(hj_get_str(c, "arch"), &a), 0);
		struct sae_hparams h;
		struct hus_err err;
		sae_hparams_default(&h, a, (size_t)d, (size_t)m, (size_t)k);
		h.lr = lr;
		h.l1_coef = l1;
		assert_int_equal(sae_hparams_check(&h, "fixture", &err), 0);
		struct sae_model *s;
		assert_int_equal(sae_model_alloc(&s, &h, (uint64_t)seed, &err), 0);
		size_t md = (size_t)(m * d);
		/* init: W_enc bit for bit, W_dec (stored [d, m]) within rounding of F.normalize */
		double e_enc = maxdiff_arr(hj_get(c, "init_W_enc"), s->p.W_enc, md, 0, d, m);
		double e_dec = maxdiff_arr(hj_get(c, "init_W_dec"), s->p.W_decT, md, 1, d, m);
		assert_true(e_enc == 0.0);
		assert_true(e_dec < 1e-6);
		load_f32(hj_get(c, "b_enc"), s->p.b_enc, (size_t)m);
		load_f32(hj_get(c, "b_dec"), s->p.b_dec, (size_t)d);
		float *X = malloc((size_t)(B * d) * sizeof(float));
		load_f32(hj_get(c, "X"), X, (size_t)(B * d));
		struct sae_work *w;
		assert_int_equal(sae_work_alloc(&w, &h, (size_t)B, &err), 0);
		struct sae_step_stats st;
		sae_step(s, w, X, (size_t)B, &st);
		double loss, mse, l0;
		assert_int_equal(hj_get_f64(c, "loss", &loss), 0);
		assert_int_equal(hj_get_f64(c, "mse", &mse), 0);
		assert_int_equal(hj_get_f64(c, "l0", &l0), 0);
		double e[4] = {
			maxdiff_arr(hj_get(c, "W_enc"), s->p.W_enc, md, 0, d, m),
			maxdiff_arr(hj_get(c, "b_enc_after"), s->p.b_enc, (size_t)m, 0, d, m),
			maxdiff_arr(hj_get(c, "W_dec"), s->p.W_decT, md, 1, d, m),
			maxdiff_arr(hj_get(c, "b_dec_after"), s->p.b_dec, (size_t)d, 0, d, m),
		};
		printf("%-14s init |dW_enc| %.1e |dW_dec| %.1e; loss %.7f (torch %.7f); after one "
		       "Adam step max |diff| W_enc %.1e b_enc %.1e W_dec %.1e b_dec %.1e\n",
		       hj_get_str(c, "arch"), e_enc, e_dec, st.loss, loss, e[0], e[1], e[2], e[3]);
		assert_true(fabs(st.loss - loss) <= 1e-5 * fabs(loss) + 1e-7);
		assert_true(fabs(st.mse - mse) <= 1e-5 * fabs(mse) + 1e-7);
		assert_true(fabs(st.l0 - l0) < 1e-9);
		for (int q = 0; q < 4; q++)
			assert_true(e[q] <= 1e-5);
		sae_work_free(w);
		sae_model_free(s);
		free(X);
	}
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_torch),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
