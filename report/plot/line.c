/*
 * line.c — a data polyline, solid or dashed, broken into separate runs wherever a point is
 * non-finite (a NaN is a gap in the line, never a zero; plot.h invariant 2).  A named series
 * (overlap.c) logs its runs and is drawn wider when the pre-pass found it hidden.
 */
#include <math.h>
#include <stdlib.h>

#include "plot.h"

void fig_line(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
              const double *x, const double *y, size_t n, int colour, int dashed)
{
	if (fig_series_skipped(c))
		return;
	cairo_t *cr = c->cr;
	double lw = FIG_LW_AT(fig_series_depth(c));
	double *run = c->cur_series >= 0 ? malloc(2 * (n ? n : 1) * sizeof(double)) : NULL;
	size_t nrun = 0;
	cairo_save(cr);
	fig_set_colour(cr, colour, 1);
	cairo_set_line_width(cr, lw);
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
			if (run && nrun) /* the overlap check sees each run on its own */
				fig_geom_log(c, FIG_GEOM_LINE, run, nrun, lw, dashed);
			nrun = 0;
			continue;
		}
		if (open)
			cairo_line_to(cr, dx, dy);
		else
			cairo_move_to(cr, dx, dy);
		open = 1;
		if (run) {
			run[2 * nrun] = dx;
			run[2 * nrun + 1] = dy;
			nrun++;
		}
	}
	cairo_stroke(cr);
	cairo_restore(cr);
	if (run && nrun)
		fig_geom_log(c, FIG_GEOM_LINE, run, nrun, lw, dashed);
	free(run);
}
