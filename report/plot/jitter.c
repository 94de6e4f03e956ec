/*
 * jitter.c — a strip of points at one category with seeded horizontal jitter: the same seed
 * gives the same picture (MT19937 from formats, uniform in [-half, +half] data units).  Each
 * point is a marker (marker.c), so it is logged and findable.
 */
#include <math.h>
#include <stdlib.h>

#include "plot.h"

void fig_jitter(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                double x0, double half, const double *y, size_t n, uint32_t seed, int colour,
                int series)
{
	if (fig_series_skipped(c))
		return;
	struct mt19937 g;
	mt_seed(&g, seed);
	for (size_t i = 0; i < n; i++) {
		double u = mt_next32(&g) / 4294967296.0; /* [0, 1) */
		double x = x0 + (2 * u - 1) * half;
		fig_markers(c, xs, ys, &x, &y[i], 1, colour, series);
	}
}
