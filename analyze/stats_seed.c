/*
 * stats_seed.c — statistics that respect that the C(n,2) pairwise PWMCC values share models
 * (docs/formulas.md §8.8, docs/decisions.md §3 "statistics").  Reported beside upstream's pair-level bootstrap and
 * Mann–Whitney, never instead of them.
 *
 * Seed-level (model-level) bootstrap of mean PWMCC.  The unit resampled is the model: draw n
 * model indices with replacement; the statistic of a resample is the mean of PWMCC(a, b) over
 * resampled positions p < q whose models differ (two copies of one model are not a cross-seed
 * comparison; including them as 1.0 would inflate the mean); a resample whose draws are all
 * one model is redrawn.  CI = 2.5/97.5 % percentiles with linear interpolation.
 *
 * Permutation test over seed labels.  Pool the n1 + n2 models of two groups (e.g. trained and
 * its random control) with every cross PWMCC; the statistic is mean within-group-1 pairwise
 * PWMCC − mean within-group-2.  Under H0 (labels exchangeable) every split of the pool into
 * n1 + n2 is equally likely: enumerate all C(n1+n2, n1) when small, else sample B splits.
 *
 * RNG: GSL mt19937 seeded with the given seed, gsl_rng_uniform_int.
 */
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>

#include "analyze.h"

int stats_seed_bootstrap(double *mean, double *lo, double *hi, const double *pair,
                         size_t n_models, size_t B, uint64_t seed, struct hus_err *err)
{
	size_t n = n_models;
	if (n < 2) {
		*mean = *lo = *hi = NAN;
		return 0;
	}
	double obs = 0;
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++)
			obs += pair[a * n + b];
	*mean = obs / (double)(n * (n - 1) / 2);
	if (!B) {
		*lo = *hi = NAN;
		return 0;
	}
	double *stat = malloc(sizeof(double) * B);
	size_t *idx = malloc(sizeof(size_t) * n);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	if (!stat || !idx || !r) {
		free(stat), free(idx), gsl_rng_free(r);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a seed bootstrap");
	}
	gsl_rng_set(r, (unsigned long)seed);
	for (size_t b = 0; b < B; b++) {
		double s;
		size_t cnt;
		do {
			for (size_t p = 0; p < n; p++)
				idx[p] = gsl_rng_uniform_int(r, n);
			s = 0;
			cnt = 0;
			for (size_t p = 0; p < n; p++)
				for (size_t q = p + 1; q < n; q++)
					if (idx[p] != idx[q]) {
						s += pair[idx[p] * n + idx[q]];
						cnt++;
					}
		} while (!cnt);
		stat[b] = s / (double)cnt;
	}
	gsl_sort(stat, 1, B);
	*lo = stats_quantile_sorted(stat, B, 0.025);
	*hi = stats_quantile_sorted(stat, B, 0.975);
	free(stat), free(idx), gsl_rng_free(r);
	return 0;
}

/* mean within-group pairs minus mean within-complement pairs; in1[m] = 1 for group 1 */
static double split_stat(const double *pair, const unsigned char *in1, size_t N)
{
	double s1 = 0, s2 = 0;
	size_t c1 = 0, c2 = 0;
	for (size_t a = 0; a < N; a++)
		for (size_t b = a + 1; b < N; b++) {
			if (in1[a] && in1[b]) {
				s1 += pair[a * N + b];
				c1++;
			} else if (!in1[a] && !in1[b]) {
				s2 += pair[a * N + b];
				c2++;
			}
		}
	return s1 / (double)c1 - s2 / (double)c2;
}

static double binom(size_t n, size_t k)
{
	double c = 1;
	for (size_t i = 1; i <= k; i++)
		c = c * (double)(n - k + i) / (double)i;
	return floor(c + 0.5);
}

int stats_seed_permutation(struct perm_result *res, const double *pair, size_t n1, size_t n2,
                           size_t max_exact, size_t B, uint64_t seed, struct hus_err *err)
{
	struct perm_result o = { NAN, NAN, NAN, 0, 0, 0 };
	if (n1 < 2 || n2 < 2) {
		*res = o; /* no within-group pair on one side: the statistic is undefined */
		return 0;
	}
	size_t N = n1 + n2;
	unsigned char *in1 = calloc(N, 1);
	size_t *comb = malloc(sizeof(size_t) * N);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	if (!in1 || !comb || !r) {
		free(in1), free(comb), gsl_rng_free(r);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a permutation test");
	}
	gsl_rng_set(r, (unsigned long)seed);
	for (size_t a = 0; a < n1; a++)
		in1[a] = 1;
	o.stat = split_stat(pair, in1, N);
	double tol = 1e-12 * (fabs(o.stat) + 1);
	size_t ge = 0, ge2 = 0;
	if (binom(N, n1) <= (double)max_exact) {
		o.exact = 1;
		for (size_t a = 0; a < n1; a++)
			comb[a] = a; /* lexicographic combinations of n1 out of N */
		for (;;) {
			for (size_t a = 0; a < N; a++)
				in1[a] = 0;
			for (size_t a = 0; a < n1; a++)
				in1[comb[a]] = 1;
			double st = split_stat(pair, in1, N);
			ge += st >= o.stat - tol;
			ge2 += fabs(st) >= fabs(o.stat) - tol;
			o.n_perm++;
			size_t a = n1;
			while (a > 0 && comb[a - 1] == N - n1 + a - 1)
				a--;
			if (!a)
				break;
			comb[a - 1]++;
			for (size_t b = a; b < n1; b++)
				comb[b] = comb[b - 1] + 1;
		}
		o.p_greater = (double)ge / (double)o.n_perm;
		o.p_two_sided = (double)ge2 / (double)o.n_perm;
	} else {
		for (size_t a = 0; a < N; a++)
			comb[a] = a;
		for (size_t b = 0; b < B; b++) {
			/* Fisher–Yates shuffle; the first n1 form group 1 */
			for (size_t a = N - 1; a > 0; a--) {
				size_t z = gsl_rng_uniform_int(r, a + 1), t = comb[a];
				comb[a] = comb[z];
				comb[z] = t;
			}
			for (size_t a = 0; a < N; a++)
				in1[a] = 0;
			for (size_t a = 0; a < n1; a++)
				in1[comb[a]] = 1;
			double st = split_stat(pair, in1, N);
			ge += st >= o.stat - tol;
			ge2 += fabs(st) >= fabs(o.stat) - tol;
		}
		o.n_perm = B;
		o.p_greater = (double)(ge + 1) / (double)(B + 1);
		o.p_two_sided = (double)(ge2 + 1) / (double)(B + 1);
	}
	free(in1), free(comb), gsl_rng_free(r);
	*res = o;
	return 0;
}

/* ---------------------------------------------------------------- seed-level verdicts */

/* One-sided draw of mean(group 1 pairs) − mean(group 2 pairs): each group's models resampled
 * independently (the trained draw first, then the control's, from one generator). */
static double resampled_mean(const double *m, size_t n, const size_t *idx)
{
	double sum = 0;
	size_t cnt = 0;
	for (size_t p = 0; p < n; p++)
		for (size_t q = p + 1; q < n; q++)
			if (idx[p] != idx[q]) {
				sum += m[idx[p] * n + idx[q]];
				cnt++;
			}
	return cnt ? sum / (double)cnt : NAN;
}

static double draw_mean(const double *m, size_t n, size_t *idx, gsl_rng *g)
{
	for (;;) { /* a resample with every index equal has no cross-seed pair: draw again */
		for (size_t i = 0; i < n; i++)
			idx[i] = gsl_rng_uniform_int(g, n);
		double v = resampled_mean(m, n, idx);
		if (!isnan(v))
			return v;
	}
}

int stats_seed_bootstrap_diff(double *lo, double *hi, const double *p1, size_t n1,
                              const double *p2, size_t n2, size_t B, uint64_t seed,
                              struct hus_err *err)
{
	*lo = *hi = NAN;
	if (n1 < 2 || n2 < 2 || B < 2)
		return 0;
	double *diffs = malloc(B * sizeof(double));
	size_t *idx = malloc((n1 + n2) * sizeof(size_t));
	gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
	if (!diffs || !idx || !g) {
		free(diffs), free(idx);
		if (g)
			gsl_rng_free(g);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a seed bootstrap");
	}
	gsl_rng_set(g, (unsigned long)seed);
	for (size_t b = 0; b < B; b++) {
		double t = draw_mean(p1, n1, idx, g);
		diffs[b] = t - draw_mean(p2, n2, idx, g);
	}
	gsl_sort(diffs, 1, B);
	*lo = stats_quantile_sorted(diffs, B, 0.025);
	*hi = stats_quantile_sorted(diffs, B, 0.975);
	free(diffs), free(idx), gsl_rng_free(g);
	return 0;
}

int stats_seed_permutation_design(struct perm_result *res, const double *pair, size_t n1,
                                  size_t n2, size_t max_exact, size_t B, struct hus_err *err)
{
	struct perm_result o = { NAN, NAN, NAN, 0, 0, 1 };
	size_t N = n1 + n2;
	if (n1 >= 2 && n2 >= 2) {
		unsigned char *in1 = calloc(N, 1);
		if (!in1)
			return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a permutation test");
		for (size_t a = 0; a < n1; a++)
			in1[a] = 1;
		o.stat = split_stat(pair, in1, N); /* the observed labelling reads no cross entry */
		free(in1);
		double c = binom(N, n1);
		o.exact = c <= (double)max_exact;
		o.n_perm = o.exact ? (size_t)c : B;
	}
	*res = o;
	return 0;
}

double stats_perm_min_p(size_t n1, size_t n2, size_t max_exact, size_t B)
{
	if (n1 < 2 || n2 < 2)
		return NAN;
	double c = binom(n1 + n2, n1);
	if (c <= (double)max_exact)
		return 1.0 / c; /* only the observed labelling reaches the observed statistic */
	return 1.0 / (double)(B + 1);
}

int stats_seed_test_runs(size_t n1, size_t n2, size_t max_exact, size_t B)
{
	return stats_perm_min_p(n1, n2, max_exact, B) < 0.05;
}

size_t stats_perm_seeds_needed(double alpha, size_t m_tests, size_t max_exact, size_t B)
{
	if (!m_tests)
		m_tests = 1;
	for (size_t n = 2; n <= 64; n++)
		if ((double)m_tests * stats_perm_min_p(n, n, max_exact, B) < alpha)
			return n;
	return 0;
}

void stats_holm(double *adj, const double *p, size_t n)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += !isnan(p[i]);
	/* rank the finite p-values ascending (stable insertion: n is small) */
	size_t *ord = malloc((n ? n : 1) * sizeof(size_t));
	if (!ord) {
		for (size_t i = 0; i < n; i++)
			adj[i] = NAN;
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!isnan(p[i])) {
			size_t j = k++;
			while (j > 0 && p[ord[j - 1]] > p[i]) {
				ord[j] = ord[j - 1];
				j--;
			}
			ord[j] = i;
		}
	for (size_t i = 0; i < n; i++)
		adj[i] = NAN;
	double run = 0;
	for (size_t r = 0; r < m; r++) {
		double v = (double)(m - r) * p[ord[r]];
		v = v > 1 ? 1 : v;
		run = v > run ? v : run; /* step-down: adjusted p-values never decrease with rank */
		adj[ord[r]] = run;
	}
	free(ord);
}

const char *stats_seed_verdict(double p_adjusted, double min_p_adjusted, double effect,
                               double alpha)
{
	if (isnan(min_p_adjusted))
		return NULL;
	if (min_p_adjusted >= alpha)
		return "underpowered"; /* whatever p is, or when it was not computed */
	if (isnan(p_adjusted))
		return NULL;
	return p_adjusted < alpha && effect > 0 ? "training_signal_present" : "no_training_signal";
}
