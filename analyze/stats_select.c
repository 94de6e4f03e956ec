/*
 * stats_select.c — the selection helpers of the adaptive-L0 and consistency sweeps (spec
 * §6.4 pick_best, §6.5 choose_lambda): the lexicographic argmax of (conservative LCB, delta,
 * third) over eligible records, with an EV floor (inclusive) or a maximum EV drop from the
 * λ = 0 baseline; when nothing is eligible every record is.  Python compares tuples with
 * max(); here NaN ranks below every number and the first of equal records wins, as max()
 * keeps the first maximum.  (Selection on the reported runs is a winner's-curse risk, spec
 * §8.9; these helpers only reproduce the rule.)
 */
#include <math.h>

#include "analyze.h"

/* 1 if a > b, treating NaN as -infinity */
static int gt(double a, double b)
{
	if (isnan(a))
		return 0;
	if (isnan(b))
		return 1;
	return a > b;
}

static int eq(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static long argmax3(const double *k1, const double *k2, const double *k3, const int *elig,
                    size_t n)
{
	long best = -1;
	for (size_t i = 0; i < n; i++) {
		if (elig && !elig[i])
			continue;
		if (best < 0) {
			best = (long)i;
			continue;
		}
		size_t b = (size_t)best;
		int better = gt(k1[i], k1[b]) ||
		             (eq(k1[i], k1[b]) &&
		              (gt(k2[i], k2[b]) || (eq(k2[i], k2[b]) && gt(k3[i], k3[b]))));
		if (better)
			best = (long)i;
	}
	return best;
}

long stats_select_ev_floor(const double *lcb, const double *delta, const double *ev, size_t n,
                           double ev_floor)
{
	int elig[n ? n : 1];
	size_t any = 0;
	for (size_t i = 0; i < n; i++)
		any += (elig[i] = ev[i] >= ev_floor);
	return argmax3(lcb, delta, ev, any ? elig : NULL, n);
}

long stats_select_ev_drop(const double *lcb, const double *delta, const double *align,
                          const double *ev, const double *lambda, size_t n, double max_drop)
{
	if (!n)
		return -1;
	size_t base = 0;
	long zero = -1;
	for (size_t i = 0; i < n; i++) {
		if (zero < 0 && fabs(lambda[i]) < 1e-12)
			zero = (long)i;
		if (fabs(lambda[i]) < fabs(lambda[base]))
			base = i;
	}
	if (zero >= 0)
		base = (size_t)zero;
	int elig[n];
	size_t any = 0;
	for (size_t i = 0; i < n; i++)
		any += (elig[i] = (ev[base] - ev[i]) <= max_drop);
	return argmax3(lcb, delta, align, any ? elig : NULL, n);
}
