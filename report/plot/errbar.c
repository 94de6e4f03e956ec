/*
 * errbar.c — error bars (CI whiskers) with caps, vertical or horizontal.  A bar with a
 * non-finite end is not drawn and is counted (plot.h invariant 2).
 */
#include <math.h>

#include "plot.h"

static void bars(struct fig_canvas *c, const struct fig_scale *along, const struct fig_scale *at,
                 const double *pos, const double *lo, const double *hi, size_t n, int colour,
                 double cap, int vertical)
{
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
		if (vertical) {
			cairo_move_to(cr, p, a);
			cairo_line_to(cr, p, b);
			cairo_move_to(cr, p - cap, a);
			cairo_line_to(cr, p + cap, a);
			cairo_move_to(cr, p - cap, b);
			cairo_line_to(cr, p + cap, b);
		} else {
			cairo_move_to(cr, a, p);
			cairo_line_to(cr, b, p);
			cairo_move_to(cr, a, p - cap);
			cairo_line_to(cr, a, p + cap);
			cairo_move_to(cr, b, p - cap);
			cairo_line_to(cr, b, p + cap);
		}
	}
	cairo_stroke(cr);
	cairo_restore(cr);
}

void fig_errbars(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                 const double *x, const double *lo, const double *hi, size_t n, int colour,
                 double cap)
{
	if (fig_series_skipped(c))
		return;
	bars(c, ys, xs, x, lo, hi, n, colour, cap, 1);
}

void fig_errbars_h(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                   const double *y, const double *lo, const double *hi, size_t n, int colour,
                   double cap)
{
	if (fig_series_skipped(c))
		return;
	bars(c, xs, ys, y, lo, hi, n, colour, cap, 0);
}
