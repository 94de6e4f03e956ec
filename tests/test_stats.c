/*
 * test_stats.c — statistics of analyze/ (docs/formulas.md §6.0, §8.8, Appendix A): Mann–Whitney against
 * Appendix A's U1 = 98 / 82 / 100 p-values and against the enumerated exact null of small
 * samples, ties and alternatives; numpy-linear bootstrap positions 249.975 / 9749.025 at
 * B = 10 000; summarize (known moments, n = 0 / 1, the documented GSL mt19937 resampling);
 * the mean-difference bootstrap; Cohen's d, ratio, conservative LCB; the §6.4 / §6.5
 * selection rules on their published tables; seed-level bootstrap and permutation test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

#define assert_near(a, b, eps)                                                              \
	do {                                                                                \
		double a_ = (a), b_ = (b), e_ = (eps);                                      \
		if (!(fabs(a_ - b_) <= e_))                                                 \
			fail_msg("%s = %.17g, expected %.17g within %g", #a, a_, b_, e_);   \
	} while (0)

/* x gets the pooled ranks in xr (1-based, of 1..nx+ny), y the rest; values = ranks */
static void split_ranks(double *x, double *y, const int *xr, size_t nx, size_t ny)
{
	unsigned char in[64] = { 0 };
	for (size_t i = 0; i < nx; i++) {
		x[i] = xr[i];
		in[xr[i]] = 1;
	}
	size_t k = 0;
	for (size_t r = 1; r <= nx + ny; r++)
		if (!in[r])
			y[k++] = (double)r;
}

static void test_mwu_appendix_a(void **state)
{
	(void)state;
	/* n = 10 vs 10, no ties; U1 = Σ ranks of x − 55 */
	const int r100[10] = { 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }; /* 155 */
	const int r98[10] = { 9, 12, 13, 14, 15, 16, 17, 18, 19, 20 };   /* 153 */
	const int r82[10] = { 2, 3, 13, 14, 15, 16, 17, 18, 19, 20 };    /* 137 */
	double x[10], y[10];
	struct mwu_result r, t, l;
	struct hus_err err = { 0 };
	split_ranks(x, y, r100, 10, 10);
	assert_int_equal(stats_mannwhitney(&r, x, 1, 10, y, 1, 10, MWU_GREATER, &err), 0);
	assert_near(r.u1, 100, 0);
	assert_int_equal(r.exact, 0); /* both n > 8: normal approximation */
	assert_near(r.p, 9.13e-5, 0.005e-5);
	split_ranks(x, y, r98, 10, 10);
	assert_int_equal(stats_mannwhitney(&r, x, 1, 10, y, 1, 10, MWU_GREATER, &err), 0);
	assert_near(r.u1, 98, 0);
	assert_near(r.p, 1.649e-4, 0.0005e-4);
	split_ranks(x, y, r82, 10, 10);
	assert_int_equal(stats_mannwhitney(&r, x, 1, 10, y, 1, 10, MWU_GREATER, &err), 0);
	assert_near(r.u1, 82, 0);
	assert_near(r.p, 8.629e-3, 0.0005e-3);
	/* two-sided doubles; "less" of the swapped samples is the same test */
	assert_int_equal(stats_mannwhitney(&t, x, 1, 10, y, 1, 10, MWU_TWO_SIDED, &err), 0);
	assert_near(t.p, 2 * r.p, 1e-15);
	assert_int_equal(stats_mannwhitney(&l, y, 1, 10, x, 1, 10, MWU_LESS, &err), 0);
	assert_near(l.p, r.p, 1e-15);
	assert_near(l.u1, 18, 0);
	/* strided input reads every other element */
	double xs[20];
	for (size_t i = 0; i < 10; i++)
		xs[2 * i] = x[i], xs[2 * i + 1] = -1e9;
	assert_int_equal(stats_mannwhitney(&t, xs, 2, 10, y, 1, 10, MWU_GREATER, &err), 0);
	assert_near(t.p, r.p, 0);
}

/* enumerate every split of ranks 1..n1+n2: counts[u] of U1 = u */
static void enumerate_u(double *counts, size_t n1, size_t n2)
{
	size_t n = n1 + n2;
	memset(counts, 0, sizeof(double) * (n1 * n2 + 1));
	for (unsigned mask = 0; mask < (1u << n); mask++) {
		if ((size_t)__builtin_popcount(mask) != n1)
			continue;
		size_t rs = 0;
		for (size_t b = 0; b < n; b++)
			if (mask >> b & 1)
				rs += b + 1;
		counts[rs - n1 * (n1 + 1) / 2] += 1;
	}
}

static void test_mwu_exact_enumerated(void **state)
{
	(void)state;
	double counts[100];
	for (size_t n1 = 1; n1 <= 6; n1++)
		for (size_t n2 = 1; n2 <= 7; n2++) {
			enumerate_u(counts, n1, n2);
			double total = 0;
			for (size_t u = 0; u <= n1 * n2; u++)
				total += counts[u];
			double tail = 0;
			for (size_t u = n1 * n2 + 1; u-- > 0;) {
				tail += counts[u];
				assert_near(stats_mwu_exact_sf((double)u, n1, n2), tail / total, 1e-13);
			}
		}
	/* through the test: 4 vs 5, no ties -> exact */
	const int xr[4] = { 3, 6, 8, 9 };
	double x[4], y[5];
	split_ranks(x, y, xr, 4, 5);
	struct mwu_result r;
	struct hus_err err = { 0 };
	assert_int_equal(stats_mannwhitney(&r, x, 1, 4, y, 1, 5, MWU_GREATER, &err), 0);
	assert_int_equal(r.exact, 1);
	enumerate_u(counts, 4, 5);
	double want = 0;
	for (size_t u = (size_t)r.u1; u <= 20; u++)
		want += counts[u];
	assert_near(r.p, want / 126.0, 1e-13);
	/* a large-vs-small pair is still exact (scipy: exact unless both > 8) */
	double big[12];
	for (size_t i = 0; i < 12; i++)
		big[i] = 0.5 + (double)i;
	assert_int_equal(stats_mannwhitney(&r, x, 1, 4, big, 1, 12, MWU_TWO_SIDED, &err), 0);
	assert_int_equal(r.exact, 1);
	assert_true(r.p > 0 && r.p <= 1);
}

static void test_mwu_ties_and_errors(void **state)
{
	(void)state;
	double x[5] = { 1, 2, 2, 3, 5 }, y[4] = { 2, 3, 4, 4 };
	struct mwu_result r, s;
	struct hus_err err = { 0 };
	assert_int_equal(stats_mannwhitney(&r, x, 1, 5, y, 1, 4, MWU_GREATER, &err), 0);
	assert_int_equal(r.ties, 1);
	assert_int_equal(r.exact, 0); /* ties -> normal approximation */
	/* average ranks: 1→1, 2→3 (×3), 3→5.5 (×2), 4→7.5 (×2), 5→9; R_x = 1+3+3+5.5+9 */
	assert_near(r.u1, 21.5 - 15, 1e-12);
	/* tie-corrected σ, continuity-corrected z, by hand: T = (27-3) + (8-2)·2 = 36, n(n-1) = 72 */
	double sigma = sqrt(20.0 / 12 * (10 - 36.0 / 72));
	assert_near(r.p, 0.5 * erfc((6.5 - 10 - 0.5) / sigma / sqrt(2)), 1e-12);
	assert_int_equal(stats_mannwhitney(&s, y, 1, 4, x, 1, 5, MWU_LESS, &err), 0);
	assert_near(s.p, r.p, 1e-15);
	assert_int_equal(stats_mannwhitney(&r, x, 1, 0, y, 1, 4, MWU_GREATER, &err), HUS_EINPUT);
	x[1] = NAN;
	assert_int_equal(stats_mannwhitney(&r, x, 1, 5, y, 1, 4, MWU_GREATER, &err), HUS_EINPUT);
}

static void test_bootstrap_positions(void **state)
{
	(void)state;
	/* numpy linear rule: position q(B−1); with sorted[i] = i the quantile IS the position */
	size_t B = 10000;
	double *v = malloc(sizeof(double) * B);
	for (size_t i = 0; i < B; i++)
		v[i] = (double)i;
	assert_near(stats_quantile_sorted(v, B, 0.025), 249.975, 1e-9);
	assert_near(stats_quantile_sorted(v, B, 0.975), 9749.025, 1e-9);
	assert_true(isnan(stats_quantile_sorted(v, 0, 0.5)));
	free(v);
}

static void test_summarize(void **state)
{
	(void)state;
	double x[6] = { 0.30, 0.31, 0.29, 0.305, 0.295, 0.32 };
	struct stats_summary s, s2;
	struct hus_err err = { 0 };
	assert_int_equal(stats_summarize(&s, x, 1, 6, 10000, 17, &err), 0);
	assert_near(s.mean, 1.82 / 6, 1e-15);
	double ss = 0;
	for (int i = 0; i < 6; i++)
		ss += (x[i] - s.mean) * (x[i] - s.mean);
	assert_near(s.std, sqrt(ss / 5), 1e-15); /* ddof = 1 */
	assert_near(s.min, 0.29, 0); assert_near(s.max, 0.32, 0);
	assert_near(s.median, (0.30 + 0.305) / 2, 1e-15); /* even n: mean of middle two */
	assert_int_equal(s.n, 6);
	assert_true(s.ci95_low < s.mean && s.mean < s.ci95_high);
	/* the documented resampling: GSL mt19937(seed), gsl_rng_uniform_int row by row */
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 17);
	double *m = malloc(sizeof(double) * 10000);
	for (size_t b = 0; b < 10000; b++) {
		double t = 0;
		for (size_t i = 0; i < 6; i++)
			t += x[gsl_rng_uniform_int(r, 6)];
		m[b] = t / 6;
	}
	gsl_sort(m, 1, 10000);
	assert_near(s.ci95_low, m[249] + 0.975 * (m[250] - m[249]), 1e-15);
	assert_near(s.ci95_high, m[9749] + 0.025 * (m[9750] - m[9749]), 1e-15);
	gsl_rng_free(r);
	free(m);
	/* deterministic, seed-dependent */
	assert_int_equal(stats_summarize(&s2, x, 1, 6, 10000, 17, &err), 0);
	assert_memory_equal(&s, &s2, sizeof(s));
	assert_int_equal(stats_summarize(&s2, x, 1, 6, 10000, 29, &err), 0);
	assert_true(s2.ci95_low != s.ci95_low || s2.ci95_high != s.ci95_high);
	/* n = 1: sd 0 and a degenerate CI; n = 0: NaN (docs/formulas.md §8.13) */
	assert_int_equal(stats_summarize(&s, x, 1, 1, 100, 1, &err), 0);
	assert_near(s.std, 0, 0); assert_near(s.ci95_low, 0.30, 0); assert_near(s.ci95_high, 0.30, 0);
	assert_int_equal(stats_summarize(&s, x, 1, 0, 100, 1, &err), 0);
	assert_true(isnan(s.mean) && isnan(s.std) && isnan(s.ci95_low));
	assert_int_equal(s.n, 0);
	x[2] = INFINITY;
	assert_int_equal(stats_summarize(&s, x, 1, 6, 100, 1, &err), HUS_EINPUT);
}

static void test_mean_diff_and_effects(void **state)
{
	(void)state;
	double x[5] = { 0.32, 0.33, 0.31, 0.325, 0.315 }, y[5] = { 0.26, 0.27, 0.265, 0.255, 0.262 };
	double pt, lo, hi;
	struct hus_err err = { 0 };
	assert_int_equal(stats_bootstrap_mean_diff(&pt, &lo, &hi, x, 1, 5, y, 1, 5, 10000, 37, &err), 0);
	assert_near(pt, 0.32 - 0.2624, 1e-12);
	assert_true(lo < pt && pt < hi && lo > 0);
	/* one generator: B of x, then B of y */
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 37);
	double *d = malloc(sizeof(double) * 10000);
	for (size_t b = 0; b < 10000; b++) {
		double t = 0;
		for (int i = 0; i < 5; i++)
			t += x[gsl_rng_uniform_int(r, 5)];
		d[b] = t / 5;
	}
	for (size_t b = 0; b < 10000; b++) {
		double t = 0;
		for (int i = 0; i < 5; i++)
			t += y[gsl_rng_uniform_int(r, 5)];
		d[b] -= t / 5;
	}
	gsl_sort(d, 1, 10000);
	assert_near(lo, stats_quantile_sorted(d, 10000, 0.025), 0);
	assert_near(hi, stats_quantile_sorted(d, 10000, 0.975), 0);
	gsl_rng_free(r);
	free(d);

	double a[3] = { 1, 2, 3 }, b[3] = { 4, 5, 6 }, c[3] = { 2, 2, 2 };
	assert_near(stats_cohens_d(a, 1, 3, b, 1, 3), -3.0, 1e-15);
	assert_true(isnan(stats_cohens_d(a, 1, 1, b, 1, 3)));
	assert_true(isnan(stats_cohens_d(c, 1, 3, c, 1, 3)));
	assert_near(stats_ratio(0.3, 0.25), 1.2, 1e-15);
	assert_true(isnan(stats_ratio(0.3, 0)));
	struct stats_summary t = { .ci95_low = 0.30 }, rr = { .ci95_high = 0.29 };
	assert_near(stats_conservative_lcb(&t, &rr), 0.01, 1e-15);
}

static void test_selection(void **state)
{
	(void)state;
	/* docs/formulas.md §6.4 search table (k = 4 … 64): selected k = 4 */
	const double lcb[8] = { 0.01016, 0.00651, 0.00516, 0.00434, 0.00419, 0.00308, 0.00202, 0.00199 };
	const double dl[8] = { 0.01435, 0.01094, 0.00952, 0.00864, 0.00797, 0.00669, 0.00586, 0.00584 };
	const double ev[8] = { 0.2644, 0.3165, 0.3528, 0.3808, 0.4247, 0.4575, 0.5061, 0.5338 };
	assert_int_equal(stats_select_ev_floor(lcb, dl, ev, 8, 0.20), 0);
	assert_int_equal(stats_select_ev_floor(lcb, dl, ev, 8, 0.3165), 1); /* floor inclusive */
	assert_int_equal(stats_select_ev_floor(lcb, dl, ev, 8, 0.9), 0);    /* none eligible */
	/* ties on LCB fall to delta, then EV; NaN ranks last */
	const double l2[3] = { NAN, 0.01, 0.01 }, d2[3] = { 1, 0.02, 0.02 }, e2[3] = { 1, 0.3, 0.4 };
	assert_int_equal(stats_select_ev_floor(l2, d2, e2, 3, 0), 2);
	/* docs/formulas.md §6.5 table (λ = 0 … 0.002): selected λ = 0.002 */
	const double lam[5] = { 0.0, 0.0001, 0.0005, 0.001, 0.002 };
	const double lc5[5] = { 0.02456, 0.02476, 0.02492, 0.02510, 0.02543 };
	const double dl5[5] = { 0.02866, 0.02881, 0.02893, 0.02906, 0.02933 };
	const double ev5[5] = { 0.35892, 0.35893, 0.35894, 0.35897, 0.35897 };
	const double al5[5] = { 0.27247, 0.27287, 0.27324, 0.27365, 0.27444 };
	assert_int_equal(stats_select_ev_drop(lc5, dl5, al5, ev5, lam, 5, 0.05), 4);
	/* an EV drop beyond the limit makes a record ineligible */
	const double ev6[5] = { 0.36, 0.36, 0.36, 0.36, 0.20 };
	assert_int_equal(stats_select_ev_drop(lc5, dl5, al5, ev6, lam, 5, 0.05), 3);
	assert_int_equal(stats_select_ev_floor(lcb, dl, ev, 0, 0.2), -1);
}

static void test_seed_level(void **state)
{
	(void)state;
	/* 10 models: 0-4 group 1 (pairs 0.5), 5-9 group 2 (pairs 0.3), cross pairs 0.3 */
	double P[100];
	for (size_t a = 0; a < 10; a++)
		for (size_t b = 0; b < 10; b++)
			P[a * 10 + b] = (a < 5 && b < 5) ? 0.5 : 0.3;
	struct perm_result pr;
	struct hus_err err = { 0 };
	assert_int_equal(stats_seed_permutation(&pr, P, 5, 5, 1000, 0, 1, &err), 0);
	assert_int_equal(pr.exact, 1);
	assert_int_equal(pr.n_perm, 252);
	assert_near(pr.stat, 0.2, 1e-12);
	assert_near(pr.p_greater, 1.0 / 252, 1e-15);
	assert_near(pr.p_two_sided, 2.0 / 252, 1e-15);
	assert_int_equal(stats_seed_permutation(&pr, P, 5, 5, 100, 999, 1, &err), 0);
	assert_int_equal(pr.exact, 0);
	assert_true(pr.p_greater < 0.02 && pr.p_greater >= 1.0 / 1000);
	/* exchangeable groups: nothing to see */
	for (size_t e = 0; e < 100; e++)
		P[e] = 0.3 + 0.001 * (double)((e * 7919) % 13);
	for (size_t a = 0; a < 10; a++)
		for (size_t b = 0; b < a; b++)
			P[a * 10 + b] = P[b * 10 + a];
	assert_int_equal(stats_seed_permutation(&pr, P, 5, 5, 1000, 0, 1, &err), 0);
	assert_true(pr.p_two_sided > 0.05);
	assert_int_equal(stats_seed_permutation(&pr, P, 1, 5, 1000, 0, 1, &err), 0);
	assert_true(isnan(pr.stat) && isnan(pr.p_greater));

	/* seed-level bootstrap: constant pairs -> degenerate CI; spread -> CI around the mean */
	double Q[25];
	for (size_t e = 0; e < 25; e++)
		Q[e] = 0.4;
	double mean, lo, hi;
	assert_int_equal(stats_seed_bootstrap(&mean, &lo, &hi, Q, 5, 2000, 3, &err), 0);
	assert_near(mean, 0.4, 1e-15); assert_near(lo, 0.4, 1e-15); assert_near(hi, 0.4, 1e-15);
	for (size_t a = 0; a < 5; a++) /* model 0 is an outlier: all its pairs are high */
		for (size_t b = 0; b < 5; b++)
			Q[a * 5 + b] = (a == 0 || b == 0) ? 0.6 : 0.4;
	assert_int_equal(stats_seed_bootstrap(&mean, &lo, &hi, Q, 5, 2000, 3, &err), 0);
	assert_near(mean, (4 * 0.6 + 6 * 0.4) / 10, 1e-15);
	assert_true(lo < mean && mean < hi);
	assert_true(lo >= 0.4 - 1e-12 && hi <= 0.6 + 1e-12);
	/* wider than the pair-level bootstrap, which treats the 10 pairs as independent */
	double pairs[10];
	size_t pi[10], pj[10];
	pairs_index(pi, pj, 5);
	for (size_t p = 0; p < 10; p++)
		pairs[p] = Q[pi[p] * 5 + pj[p]];
	struct stats_summary s;
	assert_int_equal(stats_summarize(&s, pairs, 1, 10, 2000, 3, &err), 0);
	assert_true(hi - lo > s.ci95_high - s.ci95_low);
	assert_int_equal(stats_seed_bootstrap(&mean, &lo, &hi, Q, 1, 2000, 3, &err), 0);
	assert_true(isnan(mean) && isnan(lo));
}

/* Seed-level verdicts (docs/formulas.md §8.8 "verdict"): the unit is the model. */
static void test_seed_verdict(void **state)
{
	(void)state;
	struct hus_err err = { 0 };
	/* 3 vs 3 models: 20 relabellings, so no outcome can give p < 0.05 */
	assert_near(stats_perm_min_p(3, 3, 20000, 9999), 1.0 / 20, 1e-15);
	assert_near(stats_perm_min_p(5, 5, 20000, 9999), 1.0 / 252, 1e-15);
	assert_near(stats_perm_min_p(5, 5, 100, 999), 1.0 / 1000, 1e-15);
	assert_true(isnan(stats_perm_min_p(1, 3, 20000, 9999)));
	assert_int_equal(stats_perm_seeds_needed(0.05, 1, 20000, 9999), 4);   /* 1/70 < 0.05 */
	assert_int_equal(stats_perm_seeds_needed(0.05, 4, 20000, 9999), 5);   /* 4/70 >= 0.05 */
	assert_int_equal(stats_perm_seeds_needed(0.05, 13, 20000, 9999), 6);  /* 13/252 >= 0.05 */
	/* a huge effect with 3 seeds (issue: trained 0.732 vs random 0.373) is underpowered */
	double P6[36];
	for (size_t a = 0; a < 6; a++)
		for (size_t b = 0; b < 6; b++)
			P6[a * 6 + b] = (a < 3 && b < 3) ? 0.732 : (a >= 3 && b >= 3) ? 0.373 : 0.37;
	struct perm_result pr;
	assert_int_equal(stats_seed_permutation(&pr, P6, 3, 3, 20000, 9999, 1, &err), 0);
	assert_near(pr.p_greater, 1.0 / 20, 1e-15);
	assert_string_equal(stats_seed_verdict(pr.p_greater, stats_perm_min_p(3, 3, 20000, 9999),
	                                       pr.stat, 0.05), "underpowered");
	/* 5 vs 5 with a large effect: a seed-level verdict with its CI */
	double P[100], T[25], C[25];
	for (size_t a = 0; a < 10; a++)
		for (size_t b = 0; b < 10; b++)
			P[a * 10 + b] = (a < 5 && b < 5) ? 0.55 + 0.01 * (double)((a + b) % 3)
			              : (a >= 5 && b >= 5) ? 0.13 + 0.01 * (double)((a + b) % 2) : 0.12;
	for (size_t a = 0; a < 5; a++)
		for (size_t b = 0; b < 5; b++) {
			T[a * 5 + b] = P[a * 10 + b];
			C[a * 5 + b] = P[(a + 5) * 10 + b + 5];
		}
	assert_int_equal(stats_seed_permutation(&pr, P, 5, 5, 20000, 9999, 1, &err), 0);
	assert_int_equal(pr.exact, 1);
	double lo, hi;
	assert_int_equal(stats_seed_bootstrap_diff(&lo, &hi, T, 5, C, 5, 2000, 41, &err), 0);
	assert_true(lo > 0.35 && hi < 0.5 && lo <= pr.stat && pr.stat <= hi);
	assert_near(pr.p_greater, 1.0 / 252, 1e-15);
	assert_string_equal(stats_seed_verdict(pr.p_greater, stats_perm_min_p(5, 5, 20000, 9999),
	                                       pr.stat, 0.05), "training_signal_present");
	/* a negative effect is no signal; an undefined p has no verdict */
	assert_string_equal(stats_seed_verdict(0.01, 0.004, -0.1, 0.05), "no_training_signal");
	assert_string_equal(stats_seed_verdict(0.30, 0.004, 0.1, 0.05), "no_training_signal");
	assert_null(stats_seed_verdict(NAN, 0.004, 0.1, 0.05));
	assert_int_equal(stats_seed_bootstrap_diff(&lo, &hi, T, 1, C, 5, 2000, 41, &err), 0);
	assert_true(isnan(lo) && isnan(hi));
	/* Holm: p = (0.01, 0.04, 0.03, NaN): m = 3; sorted 0.01, 0.03, 0.04 ->
	 * 0.03, max(0.03, 0.06) = 0.06, max(0.06, 0.04) = 0.06 */
	const double p[4] = { 0.01, 0.04, 0.03, NAN };
	double adj[4];
	stats_holm(adj, p, 4);
	assert_near(adj[0], 0.03, 1e-15);
	assert_near(adj[2], 0.06, 1e-15);
	assert_near(adj[1], 0.06, 1e-15);
	assert_true(isnan(adj[3]));
	const double big[2] = { 0.6, 0.7 };
	stats_holm(adj, big, 2);
	assert_near(adj[0], 1.0, 1e-15);
	assert_near(adj[1], 1.0, 1e-15);
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mwu_appendix_a),
		cmocka_unit_test(test_mwu_exact_enumerated),
		cmocka_unit_test(test_mwu_ties_and_errors),
		cmocka_unit_test(test_bootstrap_positions),
		cmocka_unit_test(test_summarize),
		cmocka_unit_test(test_mean_diff_and_effects),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_seed_level),
		cmocka_unit_test(test_seed_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
