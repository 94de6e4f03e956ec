/*
 * band.c — a translucent confidence band between lo(x) and hi(x), drawn as one polygon per
 * run of consecutive finite points: a NaN anywhere in a point splits the band there.
 */
#include <math.h>

#include "plot.h"

static int ok(const struct fig_scale *xs, const struct fig_scale *ys, double x, double lo,
              double hi)
{
	return isfinite(fig_map(xs, x)) && isfinite(fig_map(ys, lo)) && isfinite(fig_map(ys, hi));
}

void fig_band(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
              const double *x, const double *lo, const double *hi, size_t n, int colour)
{
	if (fig_series_skipped(c))
		return;
	cairo_t *cr = c->cr;
	cairo_save(cr);
	fig_set_colour(cr, colour, 0.22);
	size_t i = 0;
	while (i < n) {
		if (!ok(xs, ys, x[i], lo[i], hi[i])) {
			c->n_nonfinite++;
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && ok(xs, ys, x[j], lo[j], hi[j]))
			j++;
		/* run [i, j) */
		cairo_move_to(cr, fig_map(xs, x[i]), fig_map(ys, lo[i]));
		for (size_t k = i + 1; k < j; k++)
			cairo_line_to(cr, fig_map(xs, x[k]), fig_map(ys, lo[k]));
		for (size_t k = j; k-- > i;)
			cairo_line_to(cr, fig_map(xs, x[k]), fig_map(ys, hi[k]));
		cairo_close_path(cr);
		cairo_fill(cr);
		i = j;
	}
	cairo_restore(cr);
}
