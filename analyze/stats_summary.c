/*
 * stats_summary.c — upstream's `summarize` and percentile bootstraps (docs/formulas.md §6.0): mean, sd
 * (ddof=1), min, max, median, the percentile-bootstrap 95 % CI of the mean, and the bootstrap
 * CI of a mean difference (B resample-means of x, then B of y, from one generator).
 *
 * RNG (docs/formulas.md A7): GSL mt19937 seeded with the recorded seed, indices by gsl_rng_uniform_int(r, n)
 * drawn resample by resample (row-major B × n, as numpy's rng.choice(size=(B, n)) lays them
 * out).  Upstream used numpy's PCG64 + Lemire; the CIs therefore differ from upstream's
 * around the 5th decimal while the point statistics are identical.
 * Quantiles: numpy's default linear rule, position q·(B−1) (249.975 and 9749.025 at B=10 000),
 * the same rule as gsl_stats_quantile_from_sorted_data.
 */
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

#include "analyze.h"

double stats_quantile_sorted(const double *sorted, size_t n, double q)
{
	if (!n)
		return NAN;
	return gsl_stats_quantile_from_sorted_data(sorted, 1, n, q);
}

/* means (B) OUT: B resample means of x drawn from r. */
static void resample_means(double *means, gsl_rng *r, const double *x, size_t stride, size_t n,
                           size_t B)
{
	for (size_t b = 0; b < B; b++) {
		double s = 0;
		for (size_t i = 0; i < n; i++)
			s += x[gsl_rng_uniform_int(r, n) * stride];
		means[b] = s / (double)n;
	}
}

static gsl_rng *seeded_rng(uint64_t seed)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	if (r)
		gsl_rng_set(r, (unsigned long)seed);
	return r;
}

int stats_summarize(struct stats_summary *s, const double *x, size_t stride, size_t n,
                    size_t B, uint64_t seed, struct hus_err *err)
{
	struct stats_summary o = { NAN, NAN, NAN, NAN, NAN, NAN, NAN, n };
	if (!n) {
		*s = o;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i * stride]))
			return hus_errf(err, HUS_EINPUT, NULL, NULL, "value %zu of %zu is not finite", i, n);
	double *sorted = malloc(sizeof(double) * n), *means = malloc(sizeof(double) * (B ? B : 1));
	gsl_rng *r = seeded_rng(seed);
	if (!sorted || !means || !r) {
		free(sorted), free(means), gsl_rng_free(r);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a bootstrap of %zu", B);
	}
	o.mean = gsl_stats_mean(x, stride, n);
	o.std = n > 1 ? gsl_stats_sd_m(x, stride, n, o.mean) : 0.0;
	gsl_stats_minmax(&o.min, &o.max, x, stride, n);
	for (size_t i = 0; i < n; i++)
		sorted[i] = x[i * stride];
	gsl_sort(sorted, 1, n);
	o.median = gsl_stats_median_from_sorted_data(sorted, 1, n);
	if (B) {
		resample_means(means, r, x, stride, n, B);
		gsl_sort(means, 1, B);
		o.ci95_low = stats_quantile_sorted(means, B, 0.025);
		o.ci95_high = stats_quantile_sorted(means, B, 0.975);
	}
	free(sorted), free(means), gsl_rng_free(r);
	*s = o;
	return 0;
}

int stats_bootstrap_mean_diff(double *point, double *lo, double *hi, const double *x,
                              size_t sx, size_t nx, const double *y, size_t sy, size_t ny,
                              size_t B, uint64_t seed, struct hus_err *err)
{
	if (!nx || !ny || !B) {
		*point = *lo = *hi = NAN;
		return 0;
	}
	double *mx = malloc(sizeof(double) * B), *my = malloc(sizeof(double) * B);
	gsl_rng *r = seeded_rng(seed);
	if (!mx || !my || !r) {
		free(mx), free(my), gsl_rng_free(r);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a bootstrap of %zu", B);
	}
	resample_means(mx, r, x, sx, nx, B); /* B of x, then B of y: one generator (§6.0) */
	resample_means(my, r, y, sy, ny, B);
	for (size_t b = 0; b < B; b++)
		mx[b] -= my[b];
	gsl_sort(mx, 1, B);
	*point = gsl_stats_mean(x, sx, nx) - gsl_stats_mean(y, sy, ny);
	*lo = stats_quantile_sorted(mx, B, 0.025);
	*hi = stats_quantile_sorted(mx, B, 0.975);
	free(mx), free(my), gsl_rng_free(r);
	return 0;
}
