/*
 * ecdf.c — an empirical CDF as a step line: F(v) = (number of finite values <= v) / m over
 * the m finite values (non-finite ones are counted, not plotted).  Returns m.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int fig_ecdf(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
             const double *v, size_t n, int colour, int dashed)
{
	/* the step line's corners, for the overlap check of a named series (overlap.c) */
	struct fig_geom_buf xy;
	if (!fig_series_draw_begin(c, &xy, 2 * n + 1))
		return 0;
	double *s = malloc((n ? n : 1) * sizeof(*s));
	if (!s) {
		fig_series_draw_end(c, &xy, FIG_GEOM_LINE, 0, 0); /* nothing gathered: nothing logged */
		return -1;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]))
			s[m++] = v[i];
	c->n_nonfinite += n - m;
	qsort(s, m, sizeof(*s), cmp);
	cairo_t *cr = c->cr;
	double lw = fig_line_pen(c, colour, dashed);
	if (m) {
		double x0 = fig_map(xs, s[0]), y0 = fig_map(ys, 0);
		cairo_move_to(cr, x0, y0);
		fig_geom_buf_add(&xy, x0, y0);
		for (size_t i = 0; i < m; i++) {
			double x = fig_map(xs, s[i]), ya = fig_map(ys, (double)i / m),
			       yb = fig_map(ys, (double)(i + 1) / m);
			cairo_line_to(cr, x, ya);
			cairo_line_to(cr, x, yb);
			fig_geom_buf_add(&xy, x, ya);
			fig_geom_buf_add(&xy, x, yb);
		}
		cairo_stroke(cr);
	}
	cairo_restore(cr);
	fig_series_draw_end(c, &xy, FIG_GEOM_LINE, lw, dashed);
	free(s);
	return (int)m;
}
