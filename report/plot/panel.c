/*
 * panel.c — one plot panel inside a figure: its words and axis ranges (widened to nice ticks;
 * fig_panel_open sets them from one spec), then "measure, then draw" (kplot label.c): tick
 * labels, axis titles and the legend are measured with pango first, the margins sized from
 * them, and only then are the scales' device ranges fixed.  Drawing the axes is axis.c's job.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"

#define TICK_LEN 3.0
#define GAP 2.0

void fig_panel_init(struct fig_panel *p, double ox, double oy, double ow, double oh)
{
	memset(p, 0, sizeof(*p));
	p->ox = ox;
	p->oy = oy;
	p->ow = ow;
	p->oh = oh;
	fig_panel_xrange(p, 0, 1, 0);
	fig_panel_yrange(p, 0, 1);
}

void fig_panel_open(struct fig_panel *p, double ox, double oy, double ow, double oh,
                    const struct fig_panel_spec *s)
{
	fig_panel_init(p, ox, oy, ow, oh);
	if (s->title)
		snprintf(p->title, sizeof(p->title), "%s", s->title);
	if (s->xlabel)
		snprintf(p->xlabel, sizeof(p->xlabel), "%s", s->xlabel);
	if (s->ylabel)
		snprintf(p->ylabel, sizeof(p->ylabel), "%s", s->ylabel);
	fig_panel_xrange(p, s->xlo, s->xhi, s->log2);
	fig_panel_yrange(p, s->ylo, s->yhi);
}

void fig_panel_xrange(struct fig_panel *p, double lo, double hi, int log2)
{
	p->x_categorical = 0;
	if (log2)
		fig_ticks_log2(&lo, &hi, &p->xt);
	else
		fig_ticks_linear(&lo, &hi, &p->xt);
	fig_scale_set(&p->xs, lo, hi, log2);
}

void fig_panel_yrange(struct fig_panel *p, double lo, double hi)
{
	fig_ticks_linear(&lo, &hi, &p->yt);
	fig_scale_set(&p->ys, lo, hi, 0);
}

void fig_panel_y2range(struct fig_panel *p, double lo, double hi)
{
	p->has_y2 = 1;
	fig_ticks_linear(&lo, &hi, &p->y2t);
	fig_scale_set(&p->y2s, lo, hi, 0);
}

void fig_panel_xcategories(struct fig_panel *p, const char *const *labels, size_t n)
{
	p->x_categorical = 1;
	memset(&p->xt, 0, sizeof(p->xt));
	for (size_t i = 0; i < n && i < FIG_MAX_TICKS; i++) {
		p->xt.v[i] = (double)i;
		snprintf(p->xt.label[i], sizeof(p->xt.label[i]), "%s", labels[i]);
		p->xt.n++;
	}
	fig_scale_set(&p->xs, -0.5, (double)n - 0.5, 0);
}

static double max_label_w(cairo_t *cr, const struct fig_ticks *t, double *h)
{
	double mw = 0, w, hh = 0;
	for (size_t i = 0; i < t->n; i++) {
		fig_text_extent(cr, t->label[i], FIG_PT_TICK, &w, &hh);
		if (w > mw)
			mw = w;
	}
	if (h)
		*h = t->n ? hh : 0;
	return mw;
}

void fig_panel_layout(struct fig_panel *p, cairo_t *cr)
{
	double w, h, th = 0, lh = 0, xlh = 0;
	if (p->title[0])
		fig_text_extent(cr, p->title, FIG_PT_TITLE, &w, &th);
	double top = p->oy + (th > 0 ? th + GAP : GAP) + p->legend_h + 4;
	double left = max_label_w(cr, &p->yt, NULL) + TICK_LEN + 2 * GAP;
	if (p->ylabel[0]) {
		fig_text_extent(cr, p->ylabel, FIG_PT_LABEL, &w, &lh);
		left += lh + GAP;
	}
	double right = 6;
	if (p->has_y2) {
		right = max_label_w(cr, &p->y2t, NULL) + TICK_LEN + 2 * GAP;
		if (p->y2label[0]) {
			fig_text_extent(cr, p->y2label, FIG_PT_LABEL, &w, &h);
			right += h + GAP;
		}
	} else if (p->xt.n) {
		/* room for half of the last x tick label */
		fig_text_extent(cr, p->xt.label[p->xt.n - 1], FIG_PT_TICK, &w, &h);
		right = fmax(right, w / 2 + 1);
	}
	double xth = 0, sumw = 0;
	double xmaxw = max_label_w(cr, &p->xt, &xth);
	for (size_t i = 0; i < p->xt.n; i++) {
		fig_text_extent(cr, p->xt.label[i], FIG_PT_TICK, &w, &h);
		sumw += w + 3;
	}
	/* crowded x labels (many seeds) stand on end instead of overlapping */
	p->x_rotate = p->xt.n > 1 && sumw > p->ow - left - right;
	if (p->x_rotate)
		xth = xmaxw;
	double bottom = TICK_LEN + GAP + xth + GAP;
	if (p->xlabel[0]) {
		fig_text_extent(cr, p->xlabel, FIG_PT_LABEL, &w, &xlh);
		bottom += xlh + GAP;
	}
	p->x = p->ox + left;
	p->y = top;
	p->w = fmax(10, p->ow - left - right);
	p->h = fmax(10, p->oy + p->oh - bottom - top);
	p->xs.d0 = p->x;
	p->xs.d1 = p->x + p->w;
	p->ys.d0 = p->y + p->h;
	p->ys.d1 = p->y;
	p->y2s.d0 = p->y + p->h;
	p->y2s.d1 = p->y;
}

void fig_panel_clip(const struct fig_panel *p, cairo_t *cr)
{
	cairo_save(cr);
	cairo_rectangle(cr, p->x, p->y, p->w, p->h);
	cairo_clip(cr);
}
