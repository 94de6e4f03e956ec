/*
 * annot.c — annotations: a horizontal reference line across a panel (the analytic null, an
 * EV floor) and a vertical one (the selected k), each with a small label, and free text
 * anchored at a data point.  Lines with a non-finite position are not drawn (counted).
 */
#include <math.h>

#include "plot.h"

void fig_hline(struct fig_canvas *c, const struct fig_panel *p, const struct fig_scale *ys,
               double y, int colour, int dashed, const char *label)
{
	double dy = fig_map(ys, y);
	if (fig_series_skipped(c))
		return;
	if (!isfinite(dy)) {
		c->n_nonfinite++;
		return;
	}
	double xy[4] = { p->x, dy, p->x + p->w, dy };
	fig_geom_log(c, FIG_GEOM_LINE, xy, 2, FIG_LW_AXIS, dashed);
	cairo_t *cr = c->cr;
	cairo_save(cr);
	fig_set_colour(cr, colour, 1);
	cairo_set_line_width(cr, FIG_LW_AXIS);
	if (dashed) {
		double d[] = { 3, 2 };
		cairo_set_dash(cr, d, 2, 0);
	}
	cairo_move_to(cr, p->x, dy);
	cairo_line_to(cr, p->x + p->w, dy);
	cairo_stroke(cr);
	if (label && label[0])
		fig_text(cr, p->x + p->w - 2, dy - 1, label, FIG_PT_TICK - 1, 1, 1, 0);
	cairo_restore(cr);
}

void fig_vline(struct fig_canvas *c, const struct fig_panel *p, double x, int colour,
               int dashed, const char *label)
{
	double dx = fig_map(&p->xs, x);
	if (!isfinite(dx)) {
		c->n_nonfinite++;
		return;
	}
	cairo_t *cr = c->cr;
	cairo_save(cr);
	fig_set_colour(cr, colour, 1);
	cairo_set_line_width(cr, FIG_LW_AXIS);
	if (dashed) {
		double d[] = { 1.5, 1.5 };
		cairo_set_dash(cr, d, 2, 0);
	}
	cairo_move_to(cr, dx, p->y);
	cairo_line_to(cr, dx, p->y + p->h);
	cairo_stroke(cr);
	if (label && label[0]) { /* right of the line, or left of it near the right edge */
		double tw, th;
		fig_text_extent(cr, label, FIG_PT_TICK - 1, &tw, &th);
		if (dx + 2 + tw > p->x + p->w)
			fig_text(cr, dx - 2, p->y + 1, label, FIG_PT_TICK - 1, 1, 0, 0);
		else
			fig_text(cr, dx + 2, p->y + 1, label, FIG_PT_TICK - 1, 0, 0, 0);
	}
	cairo_restore(cr);
}

void fig_annot(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
               double x, double y, const char *txt, double ax, double ay)
{
	double dx = fig_map(xs, x), dy = fig_map(ys, y);
	if (!isfinite(dx) || !isfinite(dy)) {
		c->n_nonfinite++;
		return;
	}
	cairo_save(c->cr);
	fig_set_colour(c->cr, FIG_BLACK, 1);
	fig_text(c->cr, dx, dy, txt, FIG_PT_TICK - 1, ax, ay, 0);
	cairo_restore(c->cr);
}
