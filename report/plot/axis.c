/*
 * axis.c — draws a laid-out panel's frame, light horizontal grid, outward ticks with their
 * labels, the axis titles (a second y axis on the right when the panel has one) and the
 * panel title.  Lines are snapped to device pixels in PNG (kplot plotctx.c).
 */
#include <math.h>

#include "plot.h"

#define TICK_LEN 3.0
#define GAP 2.0

void fig_axes_draw(const struct fig_panel *p, struct fig_canvas *c)
{
	cairo_t *cr = c->cr;
	double w, h;
	cairo_save(cr);
	cairo_set_line_width(cr, FIG_LW_AXIS * 0.6);
	fig_set_colour(cr, FIG_GREY, 0.35);
	for (size_t i = 0; i < (p->no_grid ? 0 : p->yt.n); i++) { /* grid */
		double y = fig_snap(c, fig_map(&p->ys, p->yt.v[i]), FIG_LW_AXIS * 0.6);
		cairo_move_to(cr, p->x, y);
		cairo_line_to(cr, p->x + p->w, y);
	}
	cairo_stroke(cr);

	cairo_set_line_width(cr, FIG_LW_AXIS);
	fig_set_colour(cr, FIG_BLACK, 1);
	double x0 = fig_snap(c, p->x, FIG_LW_AXIS), x1 = fig_snap(c, p->x + p->w, FIG_LW_AXIS);
	double y0 = fig_snap(c, p->y + p->h, FIG_LW_AXIS), y1 = fig_snap(c, p->y, FIG_LW_AXIS);
	cairo_rectangle(cr, x0, y1, x1 - x0, y0 - y1);
	for (size_t i = 0; i < p->xt.n; i++) {
		double x = fig_snap(c, fig_map(&p->xs, p->xt.v[i]), FIG_LW_AXIS);
		cairo_move_to(cr, x, y0);
		cairo_line_to(cr, x, y0 + TICK_LEN);
	}
	for (size_t i = 0; i < p->yt.n; i++) {
		double y = fig_snap(c, fig_map(&p->ys, p->yt.v[i]), FIG_LW_AXIS);
		cairo_move_to(cr, x0, y);
		cairo_line_to(cr, x0 - TICK_LEN, y);
	}
	if (p->has_y2)
		for (size_t i = 0; i < p->y2t.n; i++) {
			double y = fig_snap(c, fig_map(&p->y2s, p->y2t.v[i]), FIG_LW_AXIS);
			cairo_move_to(cr, x1, y);
			cairo_line_to(cr, x1 + TICK_LEN, y);
		}
	cairo_stroke(cr);

	double xth = 0, ywmax = 0, y2wmax = 0;
	for (size_t i = 0; i < p->xt.n; i++) {
		if (p->x_rotate)
			fig_text(cr, fig_map(&p->xs, p->xt.v[i]), y0 + TICK_LEN + GAP, p->xt.label[i],
			         FIG_PT_TICK, 1, 0.5, -90);
		else
			fig_text(cr, fig_map(&p->xs, p->xt.v[i]), y0 + TICK_LEN + GAP, p->xt.label[i],
			         FIG_PT_TICK, 0.5, 0, 0);
		fig_text_extent(cr, p->xt.label[i], FIG_PT_TICK, &w, &h);
		xth = fmax(xth, p->x_rotate ? w : h);
	}
	for (size_t i = 0; i < p->yt.n; i++) {
		fig_text(cr, x0 - TICK_LEN - GAP, fig_map(&p->ys, p->yt.v[i]), p->yt.label[i],
		         FIG_PT_TICK, 1, 0.5, 0);
		fig_text_extent(cr, p->yt.label[i], FIG_PT_TICK, &w, &h);
		ywmax = fmax(ywmax, w);
	}
	if (p->has_y2)
		for (size_t i = 0; i < p->y2t.n; i++) {
			fig_text(cr, x1 + TICK_LEN + GAP, fig_map(&p->y2s, p->y2t.v[i]), p->y2t.label[i],
			         FIG_PT_TICK, 0, 0.5, 0);
			fig_text_extent(cr, p->y2t.label[i], FIG_PT_TICK, &w, &h);
			y2wmax = fmax(y2wmax, w);
		}
	if (p->xlabel[0])
		fig_text(cr, p->x + p->w / 2, y0 + TICK_LEN + 2 * GAP + xth, p->xlabel, FIG_PT_LABEL,
		         0.5, 0, 0);
	if (p->ylabel[0])
		fig_text(cr, x0 - TICK_LEN - 2 * GAP - ywmax, p->y + p->h / 2, p->ylabel, FIG_PT_LABEL,
		         0.5, 1, -90);
	if (p->has_y2 && p->y2label[0])
		fig_text(cr, x1 + TICK_LEN + 2 * GAP + y2wmax, p->y + p->h / 2, p->y2label,
		         FIG_PT_LABEL, 0.5, 1, 90);
	if (p->title[0])
		fig_text(cr, p->ox, p->oy, p->title, FIG_PT_TITLE, 0, 0, 0);
	cairo_restore(cr);
}
