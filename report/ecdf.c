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
	cairo_save(cr);
	fig_set_colour(cr, colour, 1);
	cairo_set_line_width(cr, FIG_LW);
	if (dashed) {
		double d[] = { 3.5, 2 };
		cairo_set_dash(cr, d, 2, 0);
	}
	if (m) {
		cairo_move_to(cr, fig_map(xs, s[0]), fig_map(ys, 0));
		for (size_t i = 0; i < m; i++) {
			double x = fig_map(xs, s[i]);
			cairo_line_to(cr, x, fig_map(ys, (double)i / m));
			cairo_line_to(cr, x, fig_map(ys, (double)(i + 1) / m));
		}
		cairo_stroke(cr);
	}
	cairo_restore(cr);
	free(s);
	return (int)m;
}
