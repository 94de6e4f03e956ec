/*
 * colorbar.c — the heatmap's key: a vertical strip of the colour map from vmin (bottom) to
 * vmax (top) in a given box, with nice ticks and an optional label on its right.
 */
#include <math.h>

#include "plot.h"

#define NSTRIP 64

/* The widest tick label of the bar's ticks inside [vmin, vmax]. */
static double max_tick_w(cairo_t *cr, double vmin, double vmax)
{
	struct fig_ticks t;
	double lo = vmin, hi = vmax, maxw = 0, tw, th;
	fig_ticks_linear(&lo, &hi, &t);
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i] < fmin(vmin, vmax) - 1e-12 || t.v[i] > fmax(vmin, vmax) + 1e-12)
			continue;
		fig_text_extent(cr, t.label[i], FIG_PT_TICK - 1, &tw, &th);
		maxw = fmax(maxw, tw);
	}
	return maxw;
}

double fig_colorbar_width(cairo_t *cr, double w, double vmin, double vmax, const char *label)
{
	double lw = 0, lh = 0;
	if (label && label[0])
		fig_text_extent(cr, label, FIG_PT_TICK, &lw, &lh);
	return w + 3 + max_tick_w(cr, vmin, vmax) + (lh > 0 ? 2 + lh : 0);
}

void fig_colorbar(struct fig_canvas *c, double x, double y, double w, double h, double vmin,
                  double vmax, const char *label)
{
	cairo_t *cr = c->cr;
	cairo_save(cr);
	for (int k = 0; k < NSTRIP; k++) {
		fig_set_rgb(cr, fig_colormap((k + 0.5) / NSTRIP), 1);
		cairo_rectangle(cr, x, y + h - (k + 1) * h / NSTRIP, w, h / NSTRIP + 0.05);
		cairo_fill(cr);
	}
	fig_set_colour(cr, FIG_BLACK, 1);
	cairo_set_line_width(cr, FIG_LW_AXIS);
	cairo_rectangle(cr, x, y, w, h);
	cairo_stroke(cr);
	struct fig_scale s;
	struct fig_ticks t;
	double lo = vmin, hi = vmax;
	fig_ticks_linear(&lo, &hi, &t);
	fig_scale_set(&s, vmin, vmax, 0);
	s.d0 = y + h;
	s.d1 = y;
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i] < fmin(vmin, vmax) - 1e-12 || t.v[i] > fmax(vmin, vmax) + 1e-12)
			continue;
		double ty = fig_map(&s, t.v[i]);
		cairo_move_to(cr, x + w, ty);
		cairo_line_to(cr, x + w + 2, ty);
		cairo_stroke(cr);
		fig_text(cr, x + w + 3, ty, t.label[i], FIG_PT_TICK - 1, 0, 0.5, 0);
	}
	/* rotated 90°: the text's top faces the tick labels, its box spans [.., + its height] */
	if (label && label[0])
		fig_text(cr, x + w + 5 + max_tick_w(cr, vmin, vmax), y + h / 2, label, FIG_PT_TICK,
		         0.5, 1, 90);
	cairo_restore(cr);
}
