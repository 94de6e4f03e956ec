/*
 * stats_effect.c — the derived comparison quantities of docs/formulas.md §6.0: Cohen's d (pooled, ddof=1
 * variances), ratio, and upstream's "conservative LCB" (trained ci95_low − random ci95_high,
 * a difference of two independent percentile bounds, not a CI of the difference; kept for
 * parity, docs/formulas.md §8.8).  delta is a plain subtraction and needs no function.
 */
#include <gsl/gsl_statistics_double.h>
#include <math.h>

#include "analyze.h"

double stats_cohens_d(const double *x, size_t sx, size_t nx, const double *y, size_t sy,
                      size_t ny)
{
	if (nx < 2 || ny < 2)
		return NAN;
	double ma = gsl_stats_mean(x, sx, nx), mb = gsl_stats_mean(y, sy, ny);
	double va = gsl_stats_variance_m(x, sx, nx, ma), vb = gsl_stats_variance_m(y, sy, ny, mb);
	double pooled = sqrt(((double)(nx - 1) * va + (double)(ny - 1) * vb) / (double)(nx + ny - 2));
	if (!(pooled > 0))
		return NAN;
	return (ma - mb) / pooled;
}

double stats_ratio(double trained_mean, double random_mean)
{
	return random_mean > 0 ? trained_mean / random_mean : NAN;
}

double stats_conservative_lcb(const struct stats_summary *trained,
                              const struct stats_summary *random)
{
	return trained->ci95_low - random->ci95_high;
}
