/*
 * marker.c — data markers: one filled circle per finite point, each its own path (so a test
 * can find it in the SVG) and logged on the canvas with its series id (plot.h invariant 3).
 */
#include <math.h>
#include <stdlib.h>

#include "plot.h"

void fig_markers(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                 const double *x, const double *y, size_t n, int colour, int series)
{
	if (fig_series_skipped(c))
		return;
	cairo_t *cr = c->cr;
	double r = FIG_MARKER_R_AT(fig_series_depth(c));
	double *at = c->cur_series >= 0 ? malloc(2 * (n ? n : 1) * sizeof(double)) : NULL;
	size_t nat = 0;
	cairo_save(cr);
	fig_set_colour(cr, colour, 1);
	for (size_t i = 0; i < n; i++) {
		double dx = fig_map(xs, x[i]), dy = fig_map(ys, y[i]);
		if (!isfinite(dx) || !isfinite(dy)) {
			c->n_nonfinite++;
			continue;
		}
		cairo_new_sub_path(cr);
		cairo_arc(cr, dx, dy, r, 0, 2 * M_PI);
		cairo_fill(cr);
		fig_mark_log_data(c, xs, ys, x[i], y[i], series);
		if (c->n_marks)
			c->marks[c->n_marks - 1].r = r;
		if (at) {
			at[2 * nat] = dx;
			at[2 * nat + 1] = dy;
			nat++;
		}
	}
	cairo_restore(cr);
	if (at && nat)
		fig_geom_log(c, FIG_GEOM_MARKER, at, nat, r, 0);
	free(at);
}
