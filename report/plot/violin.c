/*
 * violin.c — a violin: the Gaussian kernel density of the finite values, bandwidth by
 * Silverman's rule (1.06 sigma n^-1/5), evaluated on 64 points between min and max, mirrored
 * about the category and scaled so its widest point is `half` data units.
 */
#include <math.h>
#include <stdlib.h>

#include "plot.h"

#define NGRID 64

void fig_violin(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                double x0, double half, const double *y, size_t n, int colour)
{
	if (fig_series_skipped(c))
		return;
	double lo = NAN, hi = NAN, s = 0, ss = 0;
	size_t m = 0;
	fig_range(y, n, &lo, &hi);
	for (size_t i = 0; i < n; i++)
		if (isfinite(y[i])) {
			s += y[i];
			m++;
		}
	c->n_nonfinite += n - m;
	if (m < 2 || !(hi > lo))
		return;
	double mean = s / m;
	for (size_t i = 0; i < n; i++)
		if (isfinite(y[i]))
			ss += (y[i] - mean) * (y[i] - mean);
	double sd = sqrt(ss / (m - 1));
	double bw = 1.06 * sd * pow((double)m, -0.2);
	if (!(bw > 0))
		return;
	double dens[NGRID], yy[NGRID], dmax = 0;
	for (int k = 0; k < NGRID; k++) {
		yy[k] = lo + (hi - lo) * k / (NGRID - 1);
		double d = 0;
		for (size_t i = 0; i < n; i++)
			if (isfinite(y[i])) {
				double z = (yy[k] - y[i]) / bw;
				d += exp(-0.5 * z * z);
			}
		dens[k] = d;
		if (d > dmax)
			dmax = d;
	}
	cairo_t *cr = c->cr;
	cairo_save(cr);
	for (int k = 0; k < NGRID; k++) {
		double px = fig_map(xs, x0 + half * dens[k] / dmax), py = fig_map(ys, yy[k]);
		if (k == 0)
			cairo_move_to(cr, px, py);
		else
			cairo_line_to(cr, px, py);
	}
	for (int k = NGRID; k-- > 0;)
		cairo_line_to(cr, fig_map(xs, x0 - half * dens[k] / dmax), fig_map(ys, yy[k]));
	cairo_close_path(cr);
	fig_set_colour(cr, colour, 0.18);
	cairo_fill_preserve(cr);
	fig_set_colour(cr, colour, 0.6);
	cairo_set_line_width(cr, FIG_LW_AXIS);
	cairo_stroke(cr);
	cairo_restore(cr);
}
