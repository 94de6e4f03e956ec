/*
 * test_pwmcc.c — decoder-similarity metrics of analyze/: blocked PWMCC against the naive
 * formula (square, rectangular, sizes off the block grid, zero columns), invariance to
 * permutation and sign flips, NaN refusal, bit-identity for 1 vs 2 threads, pair enumeration
 * (§5.2), Hungarian matching against brute force and on permuted copies, mutual nearest
 * neighbours, per-feature stability and subspace overlap; the sparse assignment against the
 * dense one and its heap form against the per-step form it replaced (issue #20).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

/* doubles compared with a stated tolerance; the failure shows both values */
#define assert_near(a, b, eps)                                                              \
	do {                                                                                \
		double a_ = (a), b_ = (b), e_ = (eps);                                      \
		if (!(fabs(a_ - b_) <= e_))                                                 \
			fail_msg("%s = %.17g, expected %.17g within %g", #a, a_, b_, e_);   \
	} while (0)

/* deterministic test data: torch-randn decoders (formats/torch_rng.c) */
static float *gauss(size_t d, size_t m, uint64_t seed)
{
	float *W = malloc(sizeof(float) * d * m);
	assert_non_null(W);
	assert_int_equal(torch_randn_f32(W, d * m, seed), 0);
	return W;
}

static void test_blocked_equals_naive(void **state)
{
	(void)state;
	/* (d, m_A, m_B): square, rectangular both ways, off the 64-row block grid */
	const size_t cases[][3] = { { 16, 64, 64 }, { 32, 100, 37 }, { 8, 10, 200 }, { 24, 130, 130 } };
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t d = cases[c][0], mA = cases[c][1], mB = cases[c][2];
		/* numel must be a multiple of 16 for randn: pad and use a prefix */
		float *A = gauss(d, mA + 16, 11 + c), *B = gauss(d, mB + 16, 99 + c);
		struct pwmcc_result r;
		struct hus_err err = { 0 };
		assert_int_equal(pwmcc_blocked(&r, A, B, d, mA, mB, &err), 0);
		double ref = pwmcc_ref(A, B, d, mA, mB);
		assert_near(r.pwmcc, ref, 2e-6);
		assert_true(r.pwmcc > 0 && r.pwmcc < 1);
		/* symmetric */
		struct pwmcc_result s;
		assert_int_equal(pwmcc_blocked(&s, B, A, d, mB, mA, &err), 0);
		assert_near(s.pwmcc, r.pwmcc, 1e-7);
		assert_near(s.r_a, r.r_b, 1e-7);
		free(A), free(B);
	}
}

static void test_identical_and_permuted_signflipped(void **state)
{
	(void)state;
	size_t d = 32, m = 96;
	float *A = gauss(d, m, 5), *B = malloc(sizeof(float) * d * m);
	int64_t perm[96];
	torch_randperm(perm, (int64_t)m, 3);
	for (size_t r = 0; r < d; r++)
		for (size_t j = 0; j < m; j++) /* B column j = ± 2.5 · A column perm[j] */
			B[r * m + j] = (j % 3 ? 2.5f : -2.5f) * A[r * m + (size_t)perm[j]];
	struct pwmcc_result r;
	struct hus_err err = { 0 };
	assert_int_equal(pwmcc_blocked(&r, A, A, d, m, m, &err), 0);
	assert_near(r.pwmcc, 1.0, 1e-6);
	assert_int_equal(pwmcc_blocked(&r, A, B, d, m, m, &err), 0);
	assert_near(r.pwmcc, 1.0, 1e-6);

	/* Hungarian on the permuted copy recovers the permutation, both kinds */
	float *At = malloc(sizeof(float) * m * d), *Bt = malloc(sizeof(float) * m * d), sim[96];
	int32_t got[96];
	assert_int_equal(pwmcc_normalize(At, NULL, A, d, m, &err), 0);
	assert_int_equal(pwmcc_normalize(Bt, NULL, B, d, m, &err), 0);
	struct match_result mr;
	assert_int_equal(match_hungarian(&mr, got, sim, Bt, At, d, m, m, MATCH_ABS, 0.9, &err), 0);
	for (size_t j = 0; j < m; j++)
		assert_int_equal(got[j], perm[j]);
	assert_near(mr.mean_sim, 1.0, 1e-6);
	assert_near(mr.frac_05, 1.0, 0);
	assert_near(mr.frac_thr, 1.0, 0);
	/* signed (Song et al.): a flipped copy is no longer a perfect match ... */
	struct match_result ms;
	assert_int_equal(match_hungarian(&ms, got, sim, Bt, At, d, m, m, MATCH_SIGNED, 0.5, &err), 0);
	assert_true(ms.mean_sim < 0.9);
	for (size_t j = 0; j < m; j++)
		if (j % 3)
			assert_int_equal(got[j], perm[j]);
	/* ... but an unflipped permuted copy is, and the permutation is recovered */
	for (size_t r = 0; r < d; r++)
		for (size_t j = 0; j < m; j++)
			B[r * m + j] = 0.5f * A[r * m + (size_t)perm[j]];
	assert_int_equal(pwmcc_normalize(Bt, NULL, B, d, m, &err), 0);
	assert_int_equal(match_hungarian(&ms, got, sim, Bt, At, d, m, m, MATCH_SIGNED, 0.5, &err), 0);
	for (size_t j = 0; j < m; j++)
		assert_int_equal(got[j], perm[j]);
	assert_near(ms.mean_sim, 1.0, 1e-6);
	free(A), free(B), free(At), free(Bt);
}

static void test_zero_and_nan_columns(void **state)
{
	(void)state;
	size_t d = 16, m = 32;
	float *A = gauss(d, m, 1), *B = gauss(d, m, 2);
	for (size_t r = 0; r < d; r++)
		A[r * m + 7] = 0; /* feature 7 of A is dead */
	struct pwmcc_result r;
	struct hus_err err = { 0 };
	assert_int_equal(pwmcc_blocked(&r, A, B, d, m, m, &err), 0);
	assert_int_equal(r.zero_a, 1);
	assert_int_equal(r.zero_b, 0);
	assert_true(isfinite(r.pwmcc));
	assert_near(r.pwmcc, pwmcc_ref(A, B, d, m, m), 2e-6);
	A[3 * m + 5] = NAN;
	assert_int_equal(pwmcc_blocked(&r, A, B, d, m, m, &err), HUS_EINPUT);
	assert_int_equal(err.code, HUS_EINPUT);
	assert_non_null(strstr(err.msg, "feature 5"));
	free(A), free(B);
}

static void test_threads_bit_identical(void **state)
{
	(void)state;
	/* big enough (> 1 GFLOP) that pwmcc_maxes really uses two threads; off the block grid;
	 * one thread takes panels of PWMCC_BLOCK_TALL rows, two of PWMCC_BLOCK: the same bits */
	size_t d = 128, mA = 2053, mB = 2100;
	float *A = gauss(d, mA + 3, 7), *B = gauss(d, mB, 8);
	float *At = malloc(sizeof(float) * mA * d), *Bt = malloc(sizeof(float) * mB * d);
	float *r1 = malloc(sizeof(float) * mA), *r2 = malloc(sizeof(float) * mA);
	float *r3 = malloc(sizeof(float) * mA), *c1 = malloc(sizeof(float) * mB);
	float *c2 = malloc(sizeof(float) * mB), *c3 = malloc(sizeof(float) * mB);
	int32_t *ar1 = malloc(sizeof(int32_t) * mA), *ar2 = malloc(sizeof(int32_t) * mA);
	int32_t *ac1 = malloc(sizeof(int32_t) * mB), *ac2 = malloc(sizeof(int32_t) * mB);
	struct hus_err err = { 0 };
	assert_int_equal(pwmcc_normalize(At, NULL, A, d, mA, &err), 0);
	assert_int_equal(pwmcc_normalize(Bt, NULL, B, d, mB, &err), 0);
	int saved = omp_get_max_threads();
	omp_set_num_threads(1);
	assert_int_equal(pwmcc_maxes(r1, c1, ar1, ac1, At, Bt, d, mA, mB, &err), 0);
	/* every instruction-set path of the numeric core, 2 threads: the same bits */
	enum hus_isa isa0 = hus_isa_current();
	for (int isa = HUS_ISA_SCALAR; isa <= HUS_ISA_NEON; isa++) {
		if (!hus_isa_supported((enum hus_isa)isa))
			continue;
		assert_int_equal(hus_isa_force((enum hus_isa)isa), 0);
		omp_set_num_threads(2);
		assert_int_equal(pwmcc_maxes(r2, c2, ar2, ac2, At, Bt, d, mA, mB, &err), 0);
		/* the vectorised maxima-only path gives the same maxima */
		assert_int_equal(pwmcc_maxes(r3, c3, NULL, NULL, At, Bt, d, mA, mB, &err), 0);
		assert_memory_equal(r1, r2, sizeof(float) * mA);
		assert_memory_equal(c1, c2, sizeof(float) * mB);
		assert_memory_equal(ar1, ar2, sizeof(int32_t) * mA);
		assert_memory_equal(ac1, ac2, sizeof(int32_t) * mB);
		assert_memory_equal(r1, r3, sizeof(float) * mA);
		assert_memory_equal(c1, c3, sizeof(float) * mB);
	}
	assert_int_equal(hus_isa_force(isa0), 0);
	omp_set_num_threads(saved);
	/* argmaxes point at the maxima */
	for (size_t i = 0; i < mA; i += 7) {
		float v = 0;
		for (size_t r = 0; r < d; r++)
			v += At[i * d + r] * Bt[(size_t)ar1[i] * d + r];
		assert_float_equal(fabsf(v), r1[i], 1e-5);
	}
	for (size_t j = 0; j < mB; j += 7) {
		float v = 0;
		for (size_t r = 0; r < d; r++)
			v += At[(size_t)ac1[j] * d + r] * Bt[j * d + r];
		assert_float_equal(fabsf(v), c1[j], 1e-5);
	}
	free(A), free(B), free(At), free(Bt), free(r1), free(r2), free(r3), free(c1), free(c2);
	free(c3), free(ar1), free(ar2), free(ac1), free(ac2);
}

static void test_pairs(void **state)
{
	(void)state;
	int64_t seeds[5] = { 456, 42, 1011, 123, 789 };
	size_t order[5], pi[10], pj[10];
	assert_int_equal(pairs_order(order, seeds, 5), 10);
	const int64_t want[5] = { 42, 123, 456, 789, 1011 };
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(seeds[order[i]], want[i]);
	pairs_index(pi, pj, 5);
	assert_int_equal(pi[0], 0), assert_int_equal(pj[0], 1);
	assert_int_equal(pi[3], 0), assert_int_equal(pj[3], 4);
	assert_int_equal(pi[4], 1), assert_int_equal(pj[4], 2);
	assert_int_equal(pi[9], 3), assert_int_equal(pj[9], 4);
	assert_int_equal(pairs_order(order, seeds, 1), 0);
}

/* brute force over all permutations of n <= 7 */
static double brute(const double *c, size_t n, size_t m, int32_t *best_assign)
{
	/* rows n <= cols m: enumerate injective maps recursively */
	double best = INFINITY;
	int32_t cur[8];
	unsigned char used[8] = { 0 };
	size_t depth = 0;
	int32_t next[8];
	for (size_t i = 0; i < 8; i++)
		next[i] = 0;
	/* iterative DFS */
	for (;;) {
		if (depth == n) {
			double s = 0;
			for (size_t i = 0; i < n; i++)
				s += c[i * m + (size_t)cur[i]];
			if (s < best - 1e-12) {
				best = s;
				memcpy(best_assign, cur, sizeof(int32_t) * n);
			}
			depth--;
			used[cur[depth]] = 0;
			continue;
		}
		int32_t j = next[depth];
		while (j < (int32_t)m && used[j])
			j++;
		if (j >= (int32_t)m) {
			next[depth] = 0;
			if (depth == 0)
				break;
			depth--;
			used[cur[depth]] = 0;
			continue;
		}
		cur[depth] = j;
		used[j] = 1;
		next[depth] = j + 1;
		depth++;
	}
	return best;
}

static void test_hungarian_brute_force(void **state)
{
	(void)state;
	struct mt19937 g;
	mt_seed(&g, 12345);
	for (int trial = 0; trial < 60; trial++) {
		size_t n = 1 + (size_t)(mt_next32(&g) % 6), m = n + (size_t)(mt_next32(&g) % 3);
		int transpose = trial % 2;
		double c[64], ct[64];
		for (size_t e = 0; e < n * m; e++) /* coarse values force ties */
			c[e] = (double)(mt_next32(&g) % 7) / 7.0;
		int32_t bf[8], got[8];
		double want = brute(c, n, m, bf), total;
		struct hus_err err = { 0 };
		if (!transpose) {
			assert_int_equal(hungarian_solve(got, &total, c, n, m, &err), 0);
		} else { /* same problem as (m, n): more rows than columns */
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < m; j++)
					ct[j * n + i] = c[i * m + j];
			int32_t gt[8];
			assert_int_equal(hungarian_solve(gt, &total, ct, m, n, &err), 0);
			size_t matched = 0;
			for (size_t j = 0; j < m; j++)
				matched += gt[j] >= 0;
			assert_int_equal(matched, n);
		}
		assert_near(total, want, 1e-9);
		if (!transpose) {
			unsigned char seen[8] = { 0 };
			for (size_t i = 0; i < n; i++) {
				assert_true(got[i] >= 0 && (size_t)got[i] < m);
				assert_false(seen[got[i]]);
				seen[got[i]] = 1;
			}
		}
	}
	/* larger: a permutation, and no exchange of two rows' columns lowers the cost (a
	 * necessary condition of optimality that a wrong solver rarely meets at n = 300) */
	size_t n = 300;
	double *c = malloc(sizeof(double) * n * n), total;
	int32_t *a = malloc(sizeof(int32_t) * n);
	for (size_t e = 0; e < n * n; e++)
		c[e] = (double)mt_next32(&g) / 4294967296.0;
	struct hus_err e2 = { 0 };
	assert_int_equal(hungarian_solve(a, &total, c, n, n, &e2), 0);
	unsigned char *seen = calloc(n, 1);
	for (size_t i = 0; i < n; i++) {
		assert_true(a[i] >= 0 && (size_t)a[i] < n && !seen[a[i]]);
		seen[a[i]] = 1;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double now = c[i * n + (size_t)a[i]] + c[j * n + (size_t)a[j]];
			double swapped = c[i * n + (size_t)a[j]] + c[j * n + (size_t)a[i]];
			assert_true(swapped >= now - 1e-12);
		}
	/* and it beats the greedy row-by-row assignment */
	memset(seen, 0, n);
	double greedy = 0;
	for (size_t i = 0; i < n; i++) {
		size_t bj = 0;
		double bv = INFINITY;
		for (size_t j = 0; j < n; j++)
			if (!seen[j] && c[i * n + j] < bv)
				bv = c[i * n + j], bj = j;
		seen[bj] = 1;
		greedy += bv;
	}
	assert_true(total <= greedy);
	free(c), free(a), free(seen);
	double bad[4] = { 0, NAN, 1, 2 };
	int32_t out[2];
	struct hus_err err = { 0 };
	assert_int_equal(hungarian_solve(out, NULL, bad, 2, 2, &err), HUS_EINPUT);
}

static void test_mnn_per_feature(void **state)
{
	(void)state;
	/* A = identity columns e0..e3 in R^4; B = e0, e1, (e2+e3)/√2·… */
	float A[16] = { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1 };
	float B[12] = { 1, 0, 0, /* rows: d=4, m_B=3 */
		        0, -1, 0, 0, 0, 0.8f, 0, 0, 0.6f };
	float At[16], Bt[12], rmax[4], cmax[3];
	int32_t ar[4], ac[3];
	struct hus_err err = { 0 };
	assert_int_equal(pwmcc_normalize(At, NULL, A, 4, 4, &err), 0);
	assert_int_equal(pwmcc_normalize(Bt, NULL, B, 4, 3, &err), 0);
	assert_int_equal(pwmcc_maxes(rmax, cmax, ar, ac, At, Bt, 4, 4, 3, &err), 0);
	assert_int_equal(ar[0], 0), assert_int_equal(ar[1], 1), assert_int_equal(ar[2], 2);
	assert_int_equal(ac[2], 2); /* e2 has 0.8 > 0.6 */
	double frac;
	assert_int_equal(mnn_count(&frac, rmax, ar, ac, 4, 3, 0.3), 3);
	assert_near(frac, 1.0, 1e-12);
	assert_int_equal(mnn_count(&frac, rmax, ar, ac, 4, 3, 0.9), 2);
	double acc_a[4] = { 0 }, acc_b[3] = { 0 };
	per_feature_accumulate(acc_a, acc_b, rmax, cmax, 4, 3);
	per_feature_accumulate(acc_a, acc_b, rmax, cmax, 4, 3);
	float st[4];
	per_feature_finish(st, acc_a, 4, 3); /* 2 other models */
	assert_float_equal(st[0], 1.0f, 1e-6);
	assert_float_equal(st[3], 0.6f, 1e-6);
	double v = pwmcc_from_maxes(rmax, 4, cmax, 3);
	assert_near(v, ((1 + 1 + 0.8 + 0.6) / 4 + (1 + 1 + 0.8) / 3) / 2, 1e-6);
}

static void test_subspace(void **state)
{
	(void)state;
	size_t d = 16, m = 48, k = 4;
	float *A = gauss(d, m, 21), *B = gauss(d, m, 22);
	float *A2 = malloc(sizeof(float) * d * m);
	/* A2: A with columns permuted, sign-flipped and scaled: same column space, same U_k */
	for (size_t r = 0; r < d; r++)
		for (size_t j = 0; j < m; j++)
			A2[r * m + j] = -A[r * m + (m - 1 - j)];
	double U1[192], U2[64], U3[64], ang[4]; /* U1 is reused for d_model = 48 */
	struct hus_err err = { 0 };
	assert_int_equal(subspace_basis(U1, A, d, m, k, &err), 0);
	assert_int_equal(subspace_basis(U2, A2, d, m, k, &err), 0);
	assert_int_equal(subspace_basis(U3, B, d, m, k, &err), 0);
	struct subspace_result sr;
	assert_int_equal(subspace_compare(&sr, ang, U1, U2, d, k, &err), 0);
	assert_near(sr.overlap, 1.0, 1e-9);
	assert_true(sr.grassmann < 1e-5);
	assert_int_equal(subspace_compare(&sr, ang, U1, U3, d, k, &err), 0);
	assert_true(sr.overlap < 0.9 && sr.overlap > 0);
	assert_near(sr.mean_cos2, sr.overlap, 1e-9); /* ‖M‖_F² = Σσ² */
	/* orthonormal columns */
	for (size_t a = 0; a < k; a++) {
		double s = 0;
		for (size_t r = 0; r < d; r++)
			s += U1[r * k + a] * U1[r * k + a];
		assert_near(s, 1.0, 1e-9);
	}
	assert_int_equal(subspace_basis(U1, A, d, m, 17, &err), HUS_EINPUT);
	/* d_sae < d_model works too */
	assert_int_equal(subspace_basis(U1, A, m, d, k, &err), 0);
	free(A), free(B), free(A2);
	/* the basis has the same bits whatever the thread count */
	size_t dd = 256, mm = 4096, kk = 8;
	float *W = gauss(dd, mm, 23);
	double *Ua = malloc(sizeof(double) * dd * kk), *Ub = malloc(sizeof(double) * dd * kk);
	omp_set_num_threads(1);
	assert_int_equal(subspace_basis(Ua, W, dd, mm, kk, &err), 0);
	omp_set_num_threads(2);
	assert_int_equal(subspace_basis(Ub, W, dd, mm, kk, &err), 0);
	assert_memory_equal(Ua, Ub, sizeof(double) * dd * kk);
	free(W), free(Ua), free(Ub);
	/* d_model >= 512 takes the symmetric eigensolver: a decoder whose columns live mostly in
	 * span(e_0..e_3) has that span as its top-4 subspace, from either layout, same bits */
	size_t de = 512, me = 640, ke = 4;
	float *We = gauss(de, me, 24), *Wt = malloc(sizeof(float) * de * me);
	for (size_t r = 0; r < de; r++)
		for (size_t j = 0; j < me; j++)
			We[r * me + j] *= r < ke ? 10.0f : 0.1f;
	for (size_t r = 0; r < de; r++)
		for (size_t j = 0; j < me; j++)
			Wt[j * de + r] = We[r * me + j];
	double *Ue = malloc(sizeof(double) * de * ke), *Ut = malloc(sizeof(double) * de * ke);
	double *E = calloc(de * ke, sizeof(double));
	for (size_t c = 0; c < ke; c++)
		E[c * ke + c] = 1;
	assert_int_equal(subspace_basis(Ue, We, de, me, ke, &err), 0);
	assert_int_equal(subspace_basis_t(Ut, Wt, de, me, ke, &err), 0);
	assert_memory_equal(Ue, Ut, sizeof(double) * de * ke);
	assert_int_equal(subspace_compare(&sr, NULL, Ue, E, de, ke, &err), 0);
	assert_true(sr.overlap > 0.999);
	free(We), free(Wt), free(Ue), free(Ut), free(E);
}

/* The sparse assignment (match_sparse.c) against the dense Hungarian: on related decoders the
 * certificate closes (gap 0) and the values are the dense optimum; on unrelated ones the dual
 * bound still bounds the dense optimum from above and the sparse value from below. */
static void sparse_vs_dense(size_t d, size_t m, float noise, int expect_exact)
{
	float *A = gauss(d, m, 51), *E = gauss(d, m, 52), *B = malloc(sizeof(float) * d * m);
	for (size_t r = 0; r < d; r++)
		for (size_t j = 0; j < m; j++) /* B = A with columns reversed, plus noise */
			B[r * m + j] = A[r * m + (m - 1 - j)] + noise * E[r * m + j];
	float *At = malloc(sizeof(float) * d * m), *Bt = malloc(sizeof(float) * d * m);
	struct hus_err err = { 0 };
	assert_int_equal(pwmcc_normalize(At, NULL, A, d, m, &err), 0);
	assert_int_equal(pwmcc_normalize(Bt, NULL, B, d, m, &err), 0);
	int32_t *pa = malloc(sizeof(int32_t) * m), *ps = malloc(sizeof(int32_t) * m);
	int32_t *pd = malloc(sizeof(int32_t) * m);
	float *sa = malloc(sizeof(float) * m), *ss = malloc(sizeof(float) * m);
	float *sd = malloc(sizeof(float) * m);
	struct match_sparse_result sr;
	assert_int_equal(match_sparse(&sr, pa, sa, ps, ss, At, Bt, d, m, m, MATCH_SPARSE_K, 0.5, &err),
	                 0);
	for (int kind = 0; kind < 2; kind++) {
		struct match_result dr;
		struct match_sparse_one *o = kind ? &sr.sgn : &sr.abs;
		assert_int_equal(match_hungarian(&dr, pd, sd, At, Bt, d, m, m,
		                                 kind ? MATCH_SIGNED : MATCH_ABS, 0.5, &err), 0);
		assert_true(o->perfect);
		assert_true(o->dual_bound >= dr.mean_sim - 1e-9); /* a true upper bound */
		assert_true(o->m.mean_sim <= dr.mean_sim + 1e-9); /* a feasible matching */
		assert_true(o->gap >= -1e-9);
		if (expect_exact) {
			assert_true(o->gap < 1e-9);
			assert_near(o->m.mean_sim, dr.mean_sim, 1e-9);
		}
		if (o->gap < 1e-12) /* exact: the same optimum as the dense solver */
			assert_near(o->m.mean_sim, dr.mean_sim, 1e-9);
	}
	free(A), free(E), free(B), free(At), free(Bt), free(pa), free(ps), free(pd), free(sa),
		free(ss), free(sd);
}

static void test_sparse_matching(void **state)
{
	(void)state;
	sparse_vs_dense(64, 512, 0.5f, 1);
	sparse_vs_dense(32, 512, 5.0f, 0);
	sparse_vs_dense(96, 2048, 0.5f, 1);
	/* a candidate graph with no perfect matching is reported, not solved */
	int32_t cand[4] = { 0, 1, 0, 1 }, r2c[3];
	double cost[4] = { 0, 1, 0, 1 }, tot, lb;
	struct hus_err err = { 0 };
	int32_t c3[3] = { 0, 0, 0 };
	double k3[3] = { 1, 1, 1 };
	assert_int_equal(sparse_lap(r2c, &tot, &lb, cand, cost, 2, 2, 2, &err), 0);
	assert_near(tot, 1.0, 0);
	assert_int_equal(sparse_lap(r2c, &tot, &lb, c3, k3, 3, 3, 1, &err), HUS_EINPUT);
}

/* sparse_lap as it was before issue #20 (per-step potentials, two O(reached) scans per step),
 * kept only here: the reference the heap form must reproduce bit for bit */
static int sparse_lap_reference(int32_t *row_to_col, double *cost_out, double *lower_bound,
                                const int32_t *cand, const double *ccost, size_t n, size_t m,
                                size_t K, struct hus_err *err)
{
	if (n > m)
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "sparse assignment needs rows <= columns (%zu > %zu)", n, m);
	double *u = calloc(n + 1, sizeof(double)), *v = calloc(m + 1, sizeof(double));
	double *minv = malloc(sizeof(double) * (m + 1));
	size_t *p = calloc(m + 1, sizeof(size_t)), *way = calloc(m + 1, sizeof(size_t));
	size_t *todo = malloc(sizeof(size_t) * (m + 1)), *done = malloc(sizeof(size_t) * (m + 1));
	unsigned char *used = calloc(m + 1, 1), *intodo = calloc(m + 1, 1);
	int rc = 0;
	if (!u || !v || !minv || !p || !way || !todo || !done || !used || !intodo) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a sparse %zu x %zu "
		              "assignment", n, m);
		goto cleanup;
	}
	for (size_t j = 0; j <= m; j++)
		minv[j] = DBL_MAX;
	for (size_t i = 1; i <= n; i++) {
		p[0] = i;
		size_t j0 = 0, ntodo = 0, ndone = 0;
		do {
			used[j0] = 1;
			done[ndone++] = j0;
			size_t i0 = p[j0];
			double ui0 = u[i0];
			/* relax the candidate edges of row i0 (columns 1-based) */
			for (size_t e = 0; e < K; e++) {
				size_t j = (size_t)cand[(i0 - 1) * K + e] + 1;
				if (used[j])
					continue;
				double cur = ccost[(i0 - 1) * K + e] - ui0 - v[j];
				if (cur < minv[j]) {
					minv[j] = cur;
					way[j] = j0;
					if (!intodo[j]) {
						intodo[j] = 1;
						todo[ntodo++] = j;
					}
				}
			}
			/* the nearest unvisited column reached so far (ties: lowest index) */
			size_t j1 = 0, at = 0;
			double delta = DBL_MAX;
			for (size_t t = 0; t < ntodo; t++) {
				size_t j = todo[t];
				/* cppcheck-suppress arrayIndexThenCheck ; j < j1 is the tie rule, not a bound */
				if (minv[j] < delta || (minv[j] == delta && j < j1)) {
					delta = minv[j];
					j1 = j;
					at = t;
				}
			}
			if (!j1) { /* no augmenting path among the candidates */
				rc = HUS_EINPUT;
				for (size_t t = 0; t < ntodo; t++)
					minv[todo[t]] = DBL_MAX, intodo[todo[t]] = 0;
				for (size_t t = 0; t < ndone; t++)
					used[done[t]] = 0;
				hus_errf(err, HUS_EINPUT, NULL, NULL, "row %zu has no augmenting path among "
				         "its %zu candidates", i - 1, K);
				goto cleanup;
			}
			todo[at] = todo[--ntodo];
			intodo[j1] = 0;
			for (size_t t = 0; t < ndone; t++) {
				size_t j = done[t];
				u[p[j]] += delta;
				if (j)
					v[j] -= delta;
			}
			for (size_t t = 0; t < ntodo; t++)
				minv[todo[t]] -= delta;
			minv[j1] = DBL_MAX;
			j0 = j1;
		} while (p[j0] != 0);
		/* the virtual column 0 absorbed the potential shifts of the new row only */
		do {
			size_t j1 = way[j0];
			p[j0] = p[j1];
			j0 = j1;
		} while (j0);
		for (size_t t = 0; t < ntodo; t++)
			minv[todo[t]] = DBL_MAX, intodo[todo[t]] = 0;
		for (size_t t = 0; t < ndone; t++)
			used[done[t]] = 0;
	}
	for (size_t i = 0; i < n; i++)
		row_to_col[i] = -1;
	double cost = 0;
	for (size_t j = 1; j <= m; j++)
		if (p[j])
			row_to_col[p[j] - 1] = (int32_t)(j - 1);
	for (size_t i = 0; i < n; i++)
		for (size_t e = 0; e < K; e++)
			if (cand[i * K + e] == row_to_col[i]) {
				cost += ccost[i * K + e];
				break;
			}
	/* the certificate (top of file): L = min over rows of (worst candidate cost − u_i) */
	double L = DBL_MAX, lb = 0;
	for (size_t i = 0; i < n; i++) {
		double worst = -DBL_MAX;
		for (size_t e = 0; e < K; e++)
			worst = ccost[i * K + e] > worst ? ccost[i * K + e] : worst;
		if (K < m && worst - u[i + 1] < L)
			L = worst - u[i + 1];
		lb += u[i + 1];
	}
	/* columns: matched ones carry their potential; with n < m the unmatched columns' v_j
	 * must be <= 0 for the rectangular dual (Σ over matched only is the bound) */
	for (size_t j = 1; j <= m; j++) {
		double vj = v[j] < L ? v[j] : L;
		if (p[j])
			lb += vj;
		else if (vj < 0)
			lb += vj;
	}
	*cost_out = cost;
	*lower_bound = lb;
cleanup:
	free(u), free(v), free(minv), free(p), free(way), free(todo), free(done), free(used),
		free(intodo);
	return rc;
}

/* a random candidate graph of n rows over m columns: each row's K distinct columns sorted (as
 * match_candidates gives them), drawn from [0, pool) for the rows marked in `narrow` and from
 * [0, m) otherwise; costs by `mode`: 0 uniform doubles, 1 integers 0-3 and 2 eighths in [0, 2]
 * (many exact ties), 3 1 − |c| of a float c (the costs match_sparse builds) */
static void random_candidates(int32_t *cand, double *cost, unsigned char *mark, size_t n,
                              size_t m, size_t K, size_t pool, const unsigned char *narrow,
                              int mode, struct mt19937 *g)
{
	for (size_t i = 0; i < n; i++) {
		size_t P = narrow && narrow[i] ? pool : m;
		int32_t *c = cand + i * K;
		for (size_t j = P - K, e = 0; j < P; j++, e++) { /* Floyd's sample of K of P */
			size_t t = mt_next32(g) % (j + 1);
			t = mark[t] ? j : t;
			mark[t] = 1;
			c[e] = (int32_t)t;
		}
		for (size_t a = 1; a < K; a++)
			for (size_t b = a; b > 0 && c[b - 1] > c[b]; b--) {
				int32_t x = c[b];
				c[b] = c[b - 1], c[b - 1] = x;
			}
		for (size_t e = 0; e < K; e++) {
			mark[c[e]] = 0;
			uint32_t r = mt_next32(g);
			double *x = cost + i * K + e;
			if (mode == 0)
				*x = ((double)r + (double)mt_next32(g) / 4294967296.0) / 4294967296.0;
			else if (mode == 1)
				*x = (double)(r % 4);
			else if (mode == 2)
				*x = (double)(r % 17) / 8.0;
			else
				*x = 1.0 - fabs((double)((float)r / 2147483648.0f - 1.0f));
		}
	}
}

/* The heap form of sparse_lap (issue #20) against the per-step reference on random candidate
 * graphs (n 1-600, K 1-32, square and rectangular, exact ties, some without a perfect matching):
 * the same return code and message, row_to_col and cost; the bound within 1e-9 relative and not
 * above the cost.  Up to n = 150 also the dense Hungarian on the same costs (left-out entries
 * 1 000, more than any all-candidate matching): the same optimum, or ≥ 1 000 when infeasible. */
static void test_sparse_lap_heap(void **state)
{
	(void)state;
	struct mt19937 g;
	mt_seed(&g, 2020);
	size_t NMAX = 600, MMAX = 2 * NMAX + 32;
	int32_t *cand = malloc(sizeof(int32_t) * NMAX * 32), *r1 = malloc(sizeof(int32_t) * NMAX);
	int32_t *r2 = malloc(sizeof(int32_t) * NMAX);
	double *cost = malloc(sizeof(double) * NMAX * 32), *dense = malloc(sizeof(double) * 150 * MMAX);
	unsigned char *mark = calloc(MMAX, 1), *narrow = malloc(NMAX);
	assert_non_null(cand), assert_non_null(r1), assert_non_null(r2), assert_non_null(cost);
	assert_non_null(dense), assert_non_null(mark), assert_non_null(narrow);
	size_t n_fail = 0, n_tie = 0;
	for (int trial = 0; trial < 400; trial++) {
		size_t n = 1 + mt_next32(&g) % (trial % 4 ? 80 : NMAX);
		size_t K = 1 + mt_next32(&g) % 32, m = n;
		if (trial % 3 == 1) /* rectangular n < m */
			m = n + 1 + mt_next32(&g) % (n + 1);
		m = m < K ? K : m;
		if (trial % 10 == 9 && m <= 32) /* every column a candidate */
			K = m;
		int mode = (int)(mt_next32(&g) % 4);
		size_t pool = m;
		unsigned char *nar = NULL;
		if (trial % 6 == 5) { /* some rows share too few columns: often no perfect matching */
			size_t cnt = 0;
			for (size_t i = 0; i < n; i++)
				cnt += narrow[i] = (unsigned char)(mt_next32(&g) % 2);
			pool = cnt * 3 / 4 < K ? K : cnt * 3 / 4;
			nar = narrow;
		}
		random_candidates(cand, cost, mark, n, m, K, pool, nar, mode, &g);
		struct hus_err e1 = { 0 }, e2 = { 0 };
		double c1 = NAN, c2 = NAN, lb1 = NAN, lb2 = NAN;
		int rc1 = sparse_lap_reference(r1, &c1, &lb1, cand, cost, n, m, K, &e1);
		int rc2 = sparse_lap(r2, &c2, &lb2, cand, cost, n, m, K, &e2);
		assert_int_equal(rc2, rc1);
		if (rc1) {
			assert_int_equal(rc1, HUS_EINPUT);
			assert_string_equal(e2.msg, e1.msg);
			n_fail++;
		} else {
			assert_memory_equal(r2, r1, sizeof(int32_t) * n);
			assert_memory_equal(&c2, &c1, sizeof(double));
			assert_near(lb2, lb1, 1e-9 * fmax(1.0, fabs(lb1)));
			assert_true(lb2 <= c2 + 1e-12 * fmax(1.0, fabs(c2)));
			n_tie += mode == 1 || mode == 2;
		}
		if (n > 150)
			continue;
		for (size_t e = 0; e < n * m; e++)
			dense[e] = 1000.0;
		for (size_t i = 0; i < n; i++)
			for (size_t e = 0; e < K; e++)
				dense[i * m + (size_t)cand[i * K + e]] = cost[i * K + e];
		double dt;
		assert_int_equal(hungarian_solve(r1, &dt, dense, n, m, &e1), 0);
		if (rc2)
			assert_true(dt >= 1000.0);
		else {
			assert_near(c2, dt, 1e-9 * fmax(1.0, fabs(dt)));
			assert_true(lb2 <= dt + 1e-9 * fmax(1.0, fabs(dt)));
		}
	}
	assert_true(n_fail >= 10 && n_tie >= 50); /* both kinds were exercised */
	free(cand), free(r1), free(r2), free(cost), free(dense), free(mark), free(narrow);
}

static void test_latents_and_agreement(void **state)
{
	(void)state;
	size_t d = 8, m = 16, N = 20, k = 3;
	float *W = gauss(m, d, 31), *x = gauss(N, d, 32);
	float b[16] = { 0 }, z[320], z2[320];
	struct sae_encoder e = { LATENT_TOPK_UPSTREAM, d, m, k, W, b, NULL, NULL };
	struct hus_err err = { 0 };
	assert_int_equal(sae_latents(z, &e, x, N, &err), 0);
	for (size_t n = 0; n < N; n++) {
		size_t nz = 0;
		for (size_t j = 0; j < m; j++)
			nz += z[n * m + j] != 0;
		assert_int_equal(nz, k);
	}
	e.arch = LATENT_RELU;
	assert_int_equal(sae_latents(z2, &e, x, N, &err), 0);
	for (size_t i = 0; i < N * m; i++)
		assert_true(z2[i] >= 0);
	struct act_agreement ag;
	/* thresholded (jumprelu / batch archs at inference): only pre > θ_j and > 0 survive */
	float th[16], z3[320];
	for (size_t j = 0; j < m; j++)
		th[j] = 0.5f;
	e.arch = LATENT_THRESHOLD;
	e.threshold = th;
	assert_int_equal(sae_latents(z3, &e, x, N, &err), 0);
	for (size_t i = 0; i < N * m; i++)
		assert_true(z3[i] == 0 || (z3[i] > 0.5f && z3[i] == z2[i]));
	e.threshold = NULL;
	assert_int_equal(sae_latents(z3, &e, x, N, &err), HUS_EINPUT);
	assert_int_equal(latent_arch_parse("jumprelu"), LATENT_THRESHOLD);
	assert_int_equal(act_agreement(&ag, z, z, N, m, k, &err), 0);
	assert_near(ag.abs_pearson, 1.0, 1e-9);
	assert_near(ag.jaccard, 1.0, 1e-12);
	assert_int_equal(act_agreement(&ag, z, z2, N, m, k, &err), 0);
	assert_true(ag.jaccard > 0 && ag.jaccard <= 1);
	assert_int_equal(latent_arch_parse("topk"), LATENT_TOPK);
	assert_int_equal(latent_arch_parse("gated"), -1);
	free(W), free(x);
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocked_equals_naive),
		cmocka_unit_test(test_identical_and_permuted_signflipped),
		cmocka_unit_test(test_zero_and_nan_columns),
		cmocka_unit_test(test_threads_bit_identical),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_hungarian_brute_force),
		cmocka_unit_test(test_mnn_per_feature),
		cmocka_unit_test(test_subspace),
		cmocka_unit_test(test_sparse_matching),
		cmocka_unit_test(test_sparse_lap_heap),
		cmocka_unit_test(test_latents_and_agreement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
