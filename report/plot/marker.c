/*
 * marker.c — data markers: one filled circle per finite point, each its own path (so a test
 * can find it in the SVG) and logged on the canvas with its series id (plot.h invariant 3).
 */
#include <math.h>

#include "plot.h"

void fig_markers(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                 const double *x, const double *y, size_t n, int colour, int series)
{
	struct fig_geom_buf at;
	if (!fig_series_draw_begin(c, &at, n))
		return;
	cairo_t *cr = c->cr;
	double r = FIG_MARKER_R_AT(fig_series_depth(c));
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
		fig_geom_buf_add(&at, dx, dy);
	}
	cairo_restore(cr);
	fig_series_draw_end(c, &at, FIG_GEOM_MARKER, r, 0);
}
