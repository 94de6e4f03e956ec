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
	if (fig_series_skipped(c))
		return 0;
	double *s = malloc((n ? n : 1) * sizeof(*s));
	if (!s)
		return -1;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i]))
			s[m++] = v[i];
	c->n_nonfinite += n - m;
	qsort(s, m, sizeof(*s), cmp);
	cairo_t *cr = c->cr;
	double lw = FIG_LW_AT(fig_series_depth(c));
	/* the step line's corners, for the overlap check of a named series (overlap.c) */
	double *xy = c->cur_series >= 0 && m ? malloc((4 * m + 2) * sizeof(*xy)) : NULL;
	size_t nxy = 0;
	cairo_save(cr);
	fig_set_colour(cr, colour, 1);
	cairo_set_line_width(cr, lw);
	if (dashed) {
		double d[] = { 3.5, 2 };
		cairo_set_dash(cr, d, 2, 0);
	}
	if (m) {
		double x0 = fig_map(xs, s[0]), y0 = fig_map(ys, 0);
		cairo_move_to(cr, x0, y0);
		if (xy)
			xy[2 * nxy] = x0, xy[2 * nxy + 1] = y0, nxy++;
		for (size_t i = 0; i < m; i++) {
			double x = fig_map(xs, s[i]), ya = fig_map(ys, (double)i / m),
			       yb = fig_map(ys, (double)(i + 1) / m);
			cairo_line_to(cr, x, ya);
			cairo_line_to(cr, x, yb);
			if (xy) {
				xy[2 * nxy] = x, xy[2 * nxy + 1] = ya, nxy++;
				xy[2 * nxy] = x, xy[2 * nxy + 1] = yb, nxy++;
			}
		}
		cairo_stroke(cr);
	}
	cairo_restore(cr);
	if (xy)
		fig_geom_log(c, FIG_GEOM_LINE, xy, nxy, lw, dashed);
	free(xy);
	free(s);
	return (int)m;
}
