/*
 * line.c — a data polyline, solid or dashed, broken into separate runs wherever a point is
 * non-finite (a NaN is a gap in the line, never a zero; plot.h invariant 2).
 */
#include <math.h>

#include "plot.h"

void fig_line(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
              const double *x, const double *y, size_t n, int colour, int dashed)
{
	cairo_t *cr = c->cr;
	cairo_save(cr);
	fig_set_colour(cr, colour, 1);
	cairo_set_line_width(cr, FIG_LW);
	if (dashed) {
		double d[] = { 3.5, 2 };
		cairo_set_dash(cr, d, 2, 0);
	}
	int open = 0;
	for (size_t i = 0; i < n; i++) {
		double dx = fig_map(xs, x[i]), dy = fig_map(ys, y[i]);
		if (!isfinite(dx) || !isfinite(dy)) {
			c->n_nonfinite++;
			open = 0;
			continue;
		}
		if (open)
			cairo_line_to(cr, dx, dy);
		else
			cairo_move_to(cr, dx, dy);
		open = 1;
	}
	cairo_stroke(cr);
	cairo_restore(cr);
}
