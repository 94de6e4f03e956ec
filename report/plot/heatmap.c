/*
 * heatmap.c — an n x n matrix as coloured cells filling a panel's plot area (row 0 at the
 * top), each annotated with its value in black or white for contrast; a NaN cell is left
 * white with no text (the diagonal, a missing pair).  The panel's scales must be categorical
 * [-0.5, n-0.5] on both axes; row i is drawn at y category n-1-i.
 */
#include <math.h>
#include <stdio.h>
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* fmt is the caller's */

#include "plot.h"

void fig_heatmap(struct fig_canvas *c, const struct fig_panel *p, const double *m, size_t n,
                 double vmin, double vmax, const char *fmt)
{
	cairo_t *cr = c->cr;
	double cw = p->w / n, ch = p->h / n;
	/* "measure, then draw": the widest label must fit 85% of a cell */
	double pt = FIG_PT_TICK - 1, widest = 0;
	for (size_t i = 0; i < n * n; i++)
		if (isfinite(m[i])) {
			char buf[32];
			double w, h;
			snprintf(buf, sizeof(buf), fmt, m[i]);
			fig_text_extent(cr, buf, pt, &w, &h);
			widest = fmax(widest, w);
		}
	if (widest > 0.85 * cw)
		pt *= 0.85 * cw / widest;
	cairo_save(cr);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double v = m[i * n + j];
			double x = p->x + j * cw, y = p->y + i * ch;
			if (!isfinite(v))
				continue;
			double t = vmax > vmin ? (v - vmin) / (vmax - vmin) : 0.5;
			struct fig_rgb col = fig_colormap(t);
			fig_set_rgb(cr, col, 1);
			cairo_rectangle(cr, x, y, cw, ch);
			cairo_fill(cr);
			double lum = 0.299 * col.r + 0.587 * col.g + 0.114 * col.b;
			cairo_set_source_rgb(cr, lum > 0.5 ? 0 : 1, lum > 0.5 ? 0 : 1, lum > 0.5 ? 0 : 1);
			char buf[32];
			snprintf(buf, sizeof(buf), fmt, v);
			fig_text(cr, x + cw / 2, y + ch / 2, buf, pt, 0.5, 0.5, 0);
			/* logged inside the cell, clear of its label */
			fig_mark_log(c, x + 0.12 * cw, y + 0.12 * ch, (int)(i * n + j));
		}
	cairo_restore(cr);
}
