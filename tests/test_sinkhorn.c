/*
 * test_sinkhorn.c — Sinkhorn matching (analyze/sinkhorn.c): against a dense log-domain
 * reference written here in long double with libm (small sizes), recovery of a permuted
 * identity, bits identical for 1 and 4 threads, epsilon out of range refused, and the
 * analysis's `--sinkhorn` columns in results.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "numeric.h"

/* unit rows (m, d) from torch's randn */
static float *unit_rows(size_t m, size_t d, uint64_t seed)
{
	float *W = malloc(sizeof(float) * m * d);
	assert_non_null(W);
	torch_randn_f32(W, m * d, seed);
	for (size_t i = 0; i < m; i++) {
		double n = 0;
		for (size_t k = 0; k < d; k++)
			n += (double)W[i * d + k] * W[i * d + k];
		for (size_t k = 0; k < d; k++)
			W[i * d + k] = (float)(W[i * d + k] / sqrt(n));
	}
	return W;
}

/* log Σ_k exp((pot[k] − M[k·stride])/e), shifted by the largest term */
static long double lse(const long double *pot, const long double *M, size_t stride, size_t n,
                       long double e)
{
	long double mx = -INFINITY, s = 0;
	for (size_t k = 0; k < n; k++)
		mx = fmaxl(mx, (pot[k] - M[k * stride]) / e);
	for (size_t k = 0; k < n; k++)
		s += expl((pot[k] - M[k * stride]) / e - mx);
	return mx + logl(fmaxl(s, 1)); /* s >= 1: the largest term is exp(0) */
}

/* The textbook log-domain iteration (Peyré & Cuturi, "Computational Optimal Transport",
 * §4.4) on the cost 1 − |cos| computed in long double from the same float inputs: f, g
 * potentials, the same update order and stopping rule; read-out argmax per row. */
static void reference(int32_t *perm, long double *cost_out, const float *At, const float *Bt,
                      size_t d, size_t mA, size_t mB, double eps)
{
	long double *M = malloc(sizeof(long double) * mA * mB), *f = calloc(mA, sizeof(long double)),
	            *g = calloc(mB, sizeof(long double));
	assert_non_null(M), assert_non_null(f), assert_non_null(g);
	for (size_t i = 0; i < mA; i++)
		for (size_t j = 0; j < mB; j++) {
			long double c = 0;
			for (size_t k = 0; k < d; k++)
				c += (long double)At[i * d + k] * Bt[j * d + k];
			M[i * mB + j] = 1 - fabsl(c);
		}
	long double la = logl(1.0L / mA), lb = logl(1.0L / mB), e = eps;
	for (int it = 0; it < 5000; it++) {
		long double errs = 0;
		for (size_t i = 0; i < mA; i++) {
			long double fn = e * la - e * lse(g, M + i * mB, 1, mB, e);
			if (it)
				errs += fabsl(expl((f[i] - fn) / e) / mA - 1.0L / mA);
			f[i] = fn;
		}
		if (it && errs < 1e-12L)
			break;
		for (size_t j = 0; j < mB; j++) {
			g[j] = e * lb - e * lse(f, M + j, mB, mA, e);
		}
	}
	long double cost = 0;
	for (size_t i = 0; i < mA; i++) {
		long double best = -1;
		for (size_t j = 0; j < mB; j++) {
			long double p = expl((f[i] + g[j] - M[i * mB + j]) / e);
			cost += p * M[i * mB + j];
			if (p > best)
				best = p, perm[i] = (int32_t)j;
		}
	}
	*cost_out = cost;
	free(M), free(f), free(g);
}

static void test_against_reference(void **state)
{
	(void)state;
	const size_t shapes[][3] = { { 16, 12, 12 }, { 8, 20, 30 }, { 32, 40, 40 } };
	const double eps[] = { 0.05, 0.2, 1.0 };
	for (size_t s = 0; s < 3; s++)
		for (size_t e = 0; e < 3; e++) {
			size_t d = shapes[s][0], mA = shapes[s][1], mB = shapes[s][2];
			float *A = unit_rows(mA, d, 10 + s), *B = unit_rows(mB, d, 20 + s);
			int32_t perm[64], rperm[64];
			float sim[64];
			struct sinkhorn_result r;
			long double rcost;
			struct hus_err err = { 0 };
			assert_int_equal(match_sinkhorn(&r, perm, sim, A, B, d, mA, mB, eps[e], 0.5, &err), 0);
			reference(rperm, &rcost, A, B, d, mA, mB, eps[e]);
			assert_true(r.marginal_err <= SINKHORN_TOL);
			assert_true(r.iterations >= 1 && r.iterations < SINKHORN_MAX_ITER);
			if (fabs(r.ot_cost - (double)rcost) > 1e-7)
				fail_msg("shape %zu eps %g: OT cost %.12g vs reference %.12Lg", s, eps[e],
				         r.ot_cost, rcost);
			double sm = 0;
			for (size_t i = 0; i < mA; i++) {
				assert_int_equal(perm[i], rperm[i]);
				assert_true(sim[i] == fabsf(sim[i]) && sim[i] <= 1.0f);
				sm += sim[i];
			}
			assert_true(fabs(r.mean_sim - sm / (double)mA) < 1e-12);
			free(A), free(B);
		}
}

/* B's features are A's, permuted (and some negated: |cos| ignores the sign): the read-out is
 * the permutation, one-to-one, every matched |cos| 1 to rounding. */
static void test_permuted_identity(void **state)
{
	(void)state;
	size_t d = 64, m = 48;
	float *A = unit_rows(m, d, 7), *B = malloc(sizeof(float) * m * d);
	assert_non_null(B);
	int32_t pi[48], perm[48];
	float sim[48];
	for (size_t i = 0; i < m; i++)
		pi[i] = (int32_t)((i * 17 + 5) % m); /* 17 is prime to 48: a permutation */
	for (size_t i = 0; i < m; i++)
		for (size_t k = 0; k < d; k++)
			B[(size_t)pi[i] * d + k] = (i % 3 ? 1.0f : -1.0f) * A[i * d + k];
	for (int e = 0; e < 2; e++) {
		struct sinkhorn_result r;
		struct hus_err err = { 0 };
		assert_int_equal(match_sinkhorn(&r, perm, sim, A, B, d, m, m, e ? 0.1 : 0.01, 0.9,
		                                &err), 0);
		for (size_t i = 0; i < m; i++) {
			assert_int_equal(perm[i], pi[i]);
			assert_true(sim[i] > 0.9999f);
		}
		assert_true(r.one_to_one == 1.0);
		assert_true(r.frac_thr == 1.0);
		assert_true(r.mean_sim > 0.9999);
	}
	free(A), free(B);
}

/* One thread and four, and every instruction set: the same bits (each sum has one order,
 * threads split rows). */
static void test_threads_bit_identical(void **state)
{
	(void)state;
	size_t d = 32, mA = 300, mB = 420; /* above the size where the loops go parallel */
	float *A = unit_rows(mA, d, 3), *B = unit_rows(mB, d, 4);
	int32_t *p1 = malloc(sizeof(int32_t) * mA), *p4 = malloc(sizeof(int32_t) * mA);
	float *s1 = malloc(sizeof(float) * mA), *s4 = malloc(sizeof(float) * mA);
	assert_non_null(p1), assert_non_null(p4), assert_non_null(s1), assert_non_null(s4);
	struct sinkhorn_result r1, r4;
	struct hus_err err = { 0 };
	int nt = omp_get_max_threads();
	omp_set_num_threads(1);
	assert_int_equal(match_sinkhorn(&r1, p1, s1, A, B, d, mA, mB, 0.05, 0.5, &err), 0);
	omp_set_num_threads(4);
	assert_int_equal(match_sinkhorn(&r4, p4, s4, A, B, d, mA, mB, 0.05, 0.5, &err), 0);
	omp_set_num_threads(nt);
	assert_memory_equal(&r1, &r4, sizeof(r1));
	assert_memory_equal(p1, p4, sizeof(int32_t) * mA);
	assert_memory_equal(s1, s4, sizeof(float) * mA);
	/* and every instruction set this machine has: the same bits */
	enum hus_isa cur = hus_isa_current();
	for (int isa = HUS_ISA_SCALAR; isa <= HUS_ISA_NEON; isa++) {
		if (!hus_isa_supported((enum hus_isa)isa))
			continue;
		assert_int_equal(hus_isa_force((enum hus_isa)isa), 0);
		assert_int_equal(match_sinkhorn(&r4, p4, s4, A, B, d, mA, mB, 0.05, 0.5, &err), 0);
		assert_memory_equal(&r1, &r4, sizeof(r1));
		assert_memory_equal(p1, p4, sizeof(int32_t) * mA);
		assert_memory_equal(s1, s4, sizeof(float) * mA);
	}
	hus_isa_force(cur);
	free(A), free(B), free(p1), free(p4), free(s1), free(s4);
}

static void test_bad_epsilon(void **state)
{
	(void)state;
	float A[4] = { 1, 0, 0, 1 };
	int32_t perm[2];
	float sim[2];
	struct sinkhorn_result r;
	struct hus_err err = { 0 };
	assert_int_equal(match_sinkhorn(&r, perm, sim, A, A, 2, 2, 2, 0.001, 0.5, &err), HUS_EUSAGE);
	assert_non_null(strstr(err.msg, "epsilon"));
	assert_int_equal(match_sinkhorn(&r, perm, sim, A, A, 2, 2, 2, NAN, 0.5, &err), HUS_EUSAGE);
}

/* `husai analyze --sinkhorn`: the columns reach results.json and analysis.h5; without the
 * option there is no sinkhorn key (earlier analyses keep their bytes). */
static int write_ckpt(const char *path, int64_t seed, size_t d, size_t m, const float *W)
{
	struct h5w *w;
	struct hus_provenance prov = { "", "" };
	size_t dd[2] = { d, m };
	struct hus_err err = { 0 };
	if (h5w_open(&w, path, HUS_FORMAT_SAE, 1, &prov, &err))
		return -1;
	if (h5w_f32(w, "/params/W_dec", W, 2, dd, &err) ||
	    h5w_attr_str(w, "/", "architecture", "topk", &err) ||
	    h5w_attr_i64(w, "/", "k", 4, &err) || h5w_attr_i64(w, "/", "seed", seed, &err) ||
	    h5w_attr_i64(w, "/", "step", 0, &err) ||
	    h5w_attr_str(w, "/", "condition", "t", &err) ||
	    h5w_attr_str(w, "/", "control", "none", &err) ||
	    h5w_attr_i64(w, "/", "d_model", (int64_t)d, &err) ||
	    h5w_attr_i64(w, "/", "d_sae", (int64_t)m, &err)) {
		h5w_abort(w);
		return -1;
	}
	return h5w_commit(w, &err);
}

static void test_analysis_option(void **state)
{
	(void)state;
	char dir[128], paths[3][200], out[2][200];
	snprintf(dir, sizeof(dir), "/tmp/husai_test_sinkhorn_%d", (int)getpid());
	assert_int_equal(hus_mkdirs(dir, NULL), 0);
	size_t d = 16, m = 24;
	const char *pv[3];
	for (int s = 0; s < 3; s++) {
		float *W = unit_rows(m, d, 100 + s), *Wd = malloc(sizeof(float) * d * m);
		assert_non_null(Wd);
		for (size_t j = 0; j < m; j++) /* W_dec (d, m): column j = feature j */
			for (size_t k = 0; k < d; k++)
				Wd[k * m + j] = W[j * d + k];
		snprintf(paths[s], sizeof(paths[s]), "%s/s%d.h5", dir, s);
		pv[s] = paths[s];
		assert_int_equal(write_ckpt(paths[s], s, d, m, Wd), 0);
		free(W), free(Wd);
	}
	hj *res[2] = { NULL, NULL };
	for (int k = 0; k < 2; k++) {
		struct analysis_request q;
		analysis_request_defaults(&q);
		struct analysis_group g = { "g", pv, 3, NULL, 0 };
		q.groups = &g, q.n_groups = 1, q.r1 = 0, q.r2 = 0, q.bootstrap_B = 100;
		snprintf(out[k], sizeof(out[k]), "%s/a%d", dir, k);
		q.out_dir = out[k];
		q.sinkhorn_eps = k ? 0.05 : 0;
		struct hus_err err = { 0 };
		assert_int_equal(analysis_run(&q, &res[k], &err), 0);
	}
	assert_null(hj_get(res[0], "groups.g.metrics.sinkhorn_abs_mean"));
	hj *v = hj_get(res[1], "groups.g.metrics.sinkhorn_abs_mean.values");
	assert_non_null(v);
	assert_int_equal(hj_len(v), 3);
	double hung = hj_as_f64(hj_get(res[1], "groups.g.metrics.hungarian_abs_mean.mean_over_pairs"));
	double sk = hj_as_f64(hj_get(res[1], "groups.g.metrics.sinkhorn_abs_mean.mean_over_pairs"));
	assert_true(sk > 0 && sk <= 1 && hung > 0);
	double eps = hj_as_f64(hj_get(res[1], "parameters.sinkhorn_epsilon"));
	assert_true(eps == 0.05);
	assert_true(hj_as_f64(hj_get(res[1], "groups.g.metrics.sinkhorn_ot_cost.mean_over_pairs")) > 0);
	/* the pair table in analysis.h5 holds the column */
	char h5[300];
	snprintf(h5, sizeof(h5), "%s/analysis.h5", out[1]);
	struct h5r *r;
	struct hus_err err = { 0 };
	assert_int_equal(h5r_open(&r, h5, ANALYSIS_FORMAT, ANALYSIS_VERSION, &err), 0);
	struct ana_pairs p;
	const char *names[] = { "pwmcc", "sinkhorn_abs_mean", NULL };
	assert_int_equal(ana_read_pairs(r, "/pairs/g", names, &p, &err), 0);
	assert_int_equal(p.n, 3);
	int found = 0;
	for (size_t c = 0; c < p.ncols; c++)
		if (!strcmp(p.col_name[c], "sinkhorn_abs_mean")) {
			found = 1;
			assert_true(fabs(p.col[c][0] - hj_as_f64(hj_at(v, 0))) == 0);
		}
	assert_true(found);
	ana_pairs_release(&p);
	h5r_close(r);
	hj_free(res[0]), hj_free(res[1]);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_permuted_identity),
		cmocka_unit_test(test_threads_bit_identical),
		cmocka_unit_test(test_bad_epsilon),
		cmocka_unit_test(test_analysis_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
