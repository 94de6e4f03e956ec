/*
 * errbar.c — error bars (CI whiskers) with caps, vertical or horizontal.  A bar with a
 * non-finite end is not drawn and is counted (plot.h invariant 2).
 */
#include <math.h>

#include "plot.h"

/* The segment from (p0, a0) to (p1, a1), p across the bar and a along it: x and y for a
 * vertical bar, swapped for a horizontal one. */
static void segment(cairo_t *cr, int vertical, double p0, double a0, double p1, double a1)
{
	if (vertical) {
		cairo_move_to(cr, p0, a0);
		cairo_line_to(cr, p1, a1);
	} else {
		cairo_move_to(cr, a0, p0);
		cairo_line_to(cr, a1, p1);
	}
}

void fig_errbars(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                 const double *pos, const double *lo, const double *hi, size_t n, int colour,
                 double cap, enum fig_orient o)
{
	if (fig_series_skipped(c))
		return;
	int vertical = o == FIG_VERTICAL;
	const struct fig_scale *along = vertical ? ys : xs, *at = vertical ? xs : ys;
	cairo_t *cr = c->cr;
	cairo_save(cr);
	fig_set_colour(cr, colour, 1);
	cairo_set_line_width(cr, FIG_LW);
	for (size_t i = 0; i < n; i++) {
		double p = fig_map(at, pos[i]), a = fig_map(along, lo[i]), b = fig_map(along, hi[i]);
		if (!isfinite(p) || !isfinite(a) || !isfinite(b)) {
			c->n_nonfinite++;
			continue;
		}
		segment(cr, vertical, p, a, p, b);             /* the whisker */
		segment(cr, vertical, p - cap, a, p + cap, a); /* its caps */
		segment(cr, vertical, p - cap, b, p + cap, b);
	}
	cairo_stroke(cr);
	cairo_restore(cr);
}
