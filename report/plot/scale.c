/*
 * scale.c — the one data -> device transform (kplot's kpoint_to_real), linear or log2, with
 * a zero-width range widened instead of dividing by zero.  Non-finite data, and non-positive
 * data on a log axis, map to NaN so callers skip them (plot.h invariant 2).
 */
#include <math.h>

#include "plot.h"

void fig_scale_set(struct fig_scale *s, double lo, double hi, int log2)
{
	s->log2 = log2;
	if (!isfinite(lo) || !isfinite(hi) || (log2 && (lo <= 0 || hi <= 0))) {
		lo = log2 ? 1 : 0;
		hi = log2 ? 2 : 1;
	}
	if (hi < lo) {
		double t = lo;
		lo = hi;
		hi = t;
	}
	if (hi == lo) {
		if (log2) {
			lo /= 2;
			hi *= 2;
		} else {
			double d = lo != 0 ? fabs(lo) * 0.05 : 0.5;
			lo -= d;
			hi += d;
		}
	}
	s->lo = lo;
	s->hi = hi;
}

double fig_map(const struct fig_scale *s, double v)
{
	if (!isfinite(v))
		return NAN;
	double t;
	if (s->log2) {
		if (v <= 0)
			return NAN;
		t = (log2(v) - log2(s->lo)) / (log2(s->hi) - log2(s->lo));
	} else {
		t = (v - s->lo) / (s->hi - s->lo);
	}
	return s->d0 + t * (s->d1 - s->d0);
}

double fig_unmap(const struct fig_scale *s, double dev)
{
	double t = (dev - s->d0) / (s->d1 - s->d0);
	if (s->log2)
		return exp2(log2(s->lo) + t * (log2(s->hi) - log2(s->lo)));
	return s->lo + t * (s->hi - s->lo);
}
