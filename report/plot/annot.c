/*
 * annot.c — annotations: a horizontal reference line across a panel (the analytic null, an
 * EV floor) and a vertical one (the selected k), each with a small label, and free text
 * anchored at a data point, placed clear of the text already drawn (fig_annot_clear: labels
 * of points that lie close together never overprint).  Lines with a non-finite position are
 * not drawn (counted).
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

/* Is the box (x0, y0, w, h) in user space a place for a label: inside the plot area of p and
 * clear of every text already on the canvas (whose boxes are in page space)? */
static int place_is_free(const struct fig_canvas *c, const struct fig_panel *p, double x0,
                         double y0, double w, double h)
{
	if (x0 < p->x || x0 + w > p->x + p->w || y0 < p->y || y0 + h > p->y + p->h)
		return 0;
	for (size_t i = 0; i < c->n_texts; i++) {
		const struct fig_box *b = &c->texts[i];
		if (x0 + c->margin < b->x1 && b->x0 < x0 + w + c->margin && y0 + c->margin < b->y1 &&
		    b->y0 < y0 + h + c->margin)
			return 0;
	}
	return 1;
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
	if (label && label[0]) {
		/* beside the line, right of it where it fits, else left; from the top of the panel
		 * down half a line at a time to the first place clear of the data series and of
		 * other text (a label over a curve is what a reviewer marks); none clear: the top */
		double tw, th, lx = 0, ly = p->y + 1;
		int found = 0;
		fig_text_extent(cr, label, FIG_PT_TICK - 1, &tw, &th);
		const double xs[2] = { dx + 2, dx - 2 - tw };
		for (double y = p->y + 1; y + th <= p->y + p->h && !found; y += th / 2)
			for (int side = 0; side < 2 && !found; side++)
				if (place_is_free(c, p, xs[side], y, tw, th) &&
				    !fig_geom_meets(c, xs[side], y, tw, th)) {
					found = 1;
					lx = xs[side], ly = y;
				}
		if (!found)
			lx = dx + 2 + tw > p->x + p->w ? xs[1] : xs[0];
		fig_text(cr, lx, ly, label, FIG_PT_TICK - 1, 0, 0, 0);
		if (c->n_texts)
			c->texts[c->n_texts - 1].annot = 2;
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
	if (c->n_texts)
		c->texts[c->n_texts - 1].annot = 1;
	cairo_restore(c->cr);
}

void fig_annot_clear(struct fig_canvas *c, const struct fig_panel *p, double x, double y,
                     const char *txt)
{
	/* the four places round the point (above right, above left, below right, below left),
	 * then the same moved away from the point a line at a time; the first that stays in the
	 * plot area and clear of every text drawn so far */
	static const double anchors[4][2] = { { -0.08, 1.1 }, { 1.08, 1.1 }, { -0.08, -0.1 },
		                              { 1.08, -0.1 } };
	double px = fig_map(&p->xs, x), py = fig_map(&p->ys, y), tw, th;
	if (!isfinite(px) || !isfinite(py)) {
		c->n_nonfinite++;
		return;
	}
	fig_text_extent(c->cr, txt, FIG_PT_TICK - 1, &tw, &th);
	int pick = -1;
	double shift = 0;
	for (int k = 0; k <= 8 && pick < 0; k++)
		for (int a = 0; a < 4 && pick < 0; a++) {
			double s = (a < 2 ? -1.0 : 1.0) * k * th;
			double x0 = px - anchors[a][0] * tw, y0 = py - anchors[a][1] * th + s;
			if (place_is_free(c, p, x0, y0, tw, th))
				pick = a, shift = s;
		}
	if (pick < 0) /* nowhere clear: beside the point, on the side with room */
		pick = px + tw + 2 > p->x + p->w ? 1 : 0;
	cairo_save(c->cr);
	if (shift != 0) { /* moved off its point: a hairline leads back to it */
		fig_set_colour(c->cr, FIG_GREY, 1);
		cairo_set_line_width(c->cr, 0.4);
		cairo_move_to(c->cr, px, py);
		cairo_line_to(c->cr, px - anchors[pick][0] * tw + (pick % 2 ? tw : 0),
		              py + shift + (pick < 2 ? -0.1 : 0.1) * th);
		cairo_stroke(c->cr);
	}
	fig_set_colour(c->cr, FIG_BLACK, 1);
	fig_text(c->cr, px, py + shift, txt, FIG_PT_TICK - 1, anchors[pick][0], anchors[pick][1], 0);
	if (c->n_texts)
		c->texts[c->n_texts - 1].annot = 1;
	cairo_restore(c->cr);
}
