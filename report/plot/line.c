/*
 * line.c — a data polyline, solid or dashed, broken into separate runs wherever a point is
 * non-finite (a NaN is a gap in the line, never a zero; plot.h invariant 2).  A named series
 * (overlap.c) logs its runs and is drawn wider when the pre-pass found it hidden.  Also the
 * pen every data line is drawn with (fig_line_pen; the ECDF's step line uses it too).
 */
#include <math.h>

#include "plot.h"

double fig_line_pen(struct fig_canvas *c, int colour, int dashed)
{
	double lw = FIG_LW_AT(fig_series_depth(c));
	cairo_save(c->cr);
	fig_set_colour(c->cr, colour, 1);
	cairo_set_line_width(c->cr, lw);
	if (dashed) {
		double d[] = { 3.5, 2 };
		cairo_set_dash(c->cr, d, 2, 0);
	}
	return lw;
}

void fig_line(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
              const double *x, const double *y, size_t n, int colour, int dashed)
{
	struct fig_geom_buf run;
	if (!fig_series_draw_begin(c, &run, n))
		return;
	cairo_t *cr = c->cr;
	double lw = fig_line_pen(c, colour, dashed);
	int open = 0;
	for (size_t i = 0; i < n; i++) {
		double dx = fig_map(xs, x[i]), dy = fig_map(ys, y[i]);
		if (!isfinite(dx) || !isfinite(dy)) {
			c->n_nonfinite++;
			open = 0;
			/* the overlap check sees each run on its own */
			fig_geom_buf_flush(c, &run, FIG_GEOM_LINE, lw, dashed);
			continue;
		}
		if (open)
			cairo_line_to(cr, dx, dy);
		else
			cairo_move_to(cr, dx, dy);
		open = 1;
		fig_geom_buf_add(&run, dx, dy);
	}
	cairo_stroke(cr);
	cairo_restore(cr);
	fig_series_draw_end(c, &run, FIG_GEOM_LINE, lw, dashed);
}
