/*
 * overlap.c — no data series hidden by another (docs/figures.md "Coinciding series").  A
 * figure names each series before drawing it (fig_series); lines and markers log their page
 * geometry under that name (gathered from fig_series_draw_begin to fig_series_draw_end).
 * fig_overlap_resolve reads the log of a first drawing: a series whose every line sample and
 * marker lies within line width under later series of other names is hidden, and gets a
 * depth (1 + the depth of what covers it).  The real drawing then draws it wider (lines) or
 * larger (markers) by its depth, so it shows as a rim round the series on top, and the legend
 * says so in a note.  Same data, same place: nothing moves.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

/* A line (marker) is hidden where the rim it shows beside the one over it, distance of the
 * centres + its half width (radius) - the other's, is at most this many points: "within
 * line width".  Drawn one depth wider (FIG_LW_AT) the rim is 0.8 pt, above both. */
#define LINE_RIM 0.6
#define MARK_RIM 0.8

void fig_series(struct fig_canvas *c, const char *label)
{
	c->cur_series = -1;
	if (!label || !label[0])
		return;
	for (size_t i = 0; i < c->n_series; i++)
		if (!strcmp(c->series[i].label, label)) {
			c->cur_series = (int)i;
			return;
		}
	if (c->n_series == FIG_MAX_SERIES)
		return; /* untracked: drawn as is */
	struct fig_series_info *s = &c->series[c->n_series];
	snprintf(s->label, sizeof(s->label), "%s", label);
	/* the depth the pre-pass found for this name, kept across drawings of the figure */
	s->depth = 0;
	for (size_t i = 0; i < c->n_nested; i++)
		if (!strcmp(c->nested[i].label, label))
			s->depth = c->nested[i].depth;
	c->cur_series = (int)c->n_series++;
}

int fig_series_skipped(const struct fig_canvas *c)
{
	return c->cur_series >= 0 && c->skip_series[0] &&
	       !strcmp(c->series[c->cur_series].label, c->skip_series);
}

int fig_series_depth(const struct fig_canvas *c)
{
	return c->cur_series >= 0 ? c->series[c->cur_series].depth : 0;
}

int fig_series_draw_begin(struct fig_canvas *c, struct fig_geom_buf *b, size_t npts)
{
	b->xy = NULL;
	b->n = 0;
	if (fig_series_skipped(c))
		return 0;
	if (c->cur_series >= 0) /* out of memory: the check is lost, the drawing is not */
		b->xy = malloc(2 * (npts ? npts : 1) * sizeof(double));
	return 1;
}

void fig_geom_buf_add(struct fig_geom_buf *b, double x, double y)
{
	if (!b->xy)
		return;
	b->xy[2 * b->n] = x;
	b->xy[2 * b->n + 1] = y;
	b->n++;
}

void fig_geom_buf_flush(struct fig_canvas *c, struct fig_geom_buf *b, int kind, double size,
                        int dashed)
{
	if (b->xy && b->n)
		fig_geom_log(c, kind, b->xy, b->n, size, dashed);
	b->n = 0;
}

void fig_series_draw_end(struct fig_canvas *c, struct fig_geom_buf *b, int kind, double size,
                         int dashed)
{
	fig_geom_buf_flush(c, b, kind, size, dashed);
	free(b->xy);
	b->xy = NULL;
}

void fig_geom_log(struct fig_canvas *c, int kind, const double *xy, size_t n, double size,
                  int dashed)
{
	if (c->cur_series < 0 || !n)
		return;
	struct fig_geom *g = fig_grow(c->geom, &c->cap_geom, c->n_geom + 1, 64, sizeof(*g));
	if (!g)
		return; /* the check is lost, the drawing is not */
	c->geom = g;
	double *p = fig_grow(c->pts, &c->cap_pts, c->n_pts + 2 * n, 256, sizeof(*p));
	if (!p)
		return;
	c->pts = p;
	g = &c->geom[c->n_geom++];
	g->series = c->cur_series;
	g->kind = kind;
	g->size = size;
	g->dashed = dashed;
	g->off = c->n_pts;
	g->n = n;
	g->hint = 0;
	g->x0 = g->y0 = INFINITY;
	g->x1 = g->y1 = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		g->x0 = fmin(g->x0, xy[2 * i]);
		g->x1 = fmax(g->x1, xy[2 * i]);
		g->y0 = fmin(g->y0, xy[2 * i + 1]);
		g->y1 = fmax(g->y1, xy[2 * i + 1]);
	}
	memcpy(c->pts + c->n_pts, xy, 2 * n * sizeof(double));
	c->n_pts += 2 * n;
}

static double seg_dist(double px, double py, double ax, double ay, double bx, double by)
{
	double vx = bx - ax, vy = by - ay, l2 = vx * vx + vy * vy;
	double t = l2 > 0 ? ((px - ax) * vx + (py - ay) * vy) / l2 : 0;
	t = t < 0 ? 0 : t > 1 ? 1 : t;
	double dx = ax + t * vx - px, dy = ay + t * vy - py;
	return sqrt(dx * dx + dy * dy);
}

/* Is point (x, y) of a primitive of size `size` and kind under geometry g? */
static int point_under(const struct fig_canvas *c, const struct fig_geom *g, int kind,
                       double size, int dashed, double x, double y)
{
	const double *p = c->pts + g->off;
	if (g->kind != kind || (g->dashed && !dashed))
		return 0; /* a dashed line shows a solid one under it; the same dashes hide dashes */
	if (kind == FIG_GEOM_LINE) {
		double tol = (g->size - size) / 2 + LINE_RIM;
		if (x < g->x0 - tol || x > g->x1 + tol || y < g->y0 - tol || y > g->y1 + tol)
			return 0;
		if (g->n == 1)
			return hypot(x - p[0], y - p[1]) <= tol;
		/* start where the last sample was found: coinciding lines advance together, so a
		 * long ECDF costs one segment per sample, not all of them */
		size_t nseg = g->n - 1, h = g->hint < nseg ? g->hint : 0;
		for (size_t k = 0; k < nseg; k++) {
			size_t i = (h + k) % nseg;
			if (seg_dist(x, y, p[2 * i], p[2 * i + 1], p[2 * i + 2], p[2 * i + 3]) <= tol) {
				((struct fig_geom *)g)->hint = i;
				return 1;
			}
		}
		return 0;
	}
	for (size_t i = 0; i < g->n; i++) /* markers: centres */
		if (hypot(x - p[2 * i], y - p[2 * i + 1]) <= g->size - size + MARK_RIM)
			return 1;
	return 0;
}

/* Every sample of geometry a under geometries of other series drawn after it?  Sets the
 * bits of the series that cover it in *by. */
static int geom_hidden(const struct fig_canvas *c, size_t a, uint64_t *by)
{
	const struct fig_geom *g = &c->geom[a];
	const double *p = c->pts + g->off;
	size_t ns = g->kind == FIG_GEOM_LINE && g->n > 1 ? 4 * (g->n - 1) + 1 : g->n;
	for (size_t s = 0; s < ns; s++) {
		double x, y;
		if (g->kind == FIG_GEOM_LINE && g->n > 1) {
			size_t i = s / 4 < g->n - 1 ? s / 4 : g->n - 2;
			double t = s / 4 < g->n - 1 ? (s % 4) / 4.0 : 1.0;
			x = p[2 * i] + t * (p[2 * i + 2] - p[2 * i]);
			y = p[2 * i + 1] + t * (p[2 * i + 3] - p[2 * i + 1]);
		} else {
			x = p[2 * s];
			y = p[2 * s + 1];
		}
		int under = 0;
		for (size_t b = a + 1; b < c->n_geom && !under; b++)
			if (c->geom[b].series != g->series &&
			    point_under(c, &c->geom[b], g->kind, g->size, g->dashed, x, y)) {
				under = 1;
				*by |= (uint64_t)1 << c->geom[b].series;
			}
		if (!under)
			return 0;
	}
	return 1;
}

size_t fig_overlap_resolve(const struct fig_canvas *c, struct fig_nested *out, size_t cap)
{
	int depth[FIG_MAX_SERIES] = { 0 }, hidden[FIG_MAX_SERIES], any[FIG_MAX_SERIES] = { 0 };
	uint64_t by[FIG_MAX_SERIES] = { 0 };
	for (size_t s = 0; s < c->n_series; s++)
		hidden[s] = 1;
	for (size_t a = 0; a < c->n_geom; a++) {
		int s = c->geom[a].series;
		any[s] = 1;
		if (hidden[s] && !geom_hidden(c, a, &by[s]))
			hidden[s] = 0;
	}
	/* depth: one more than the deepest series over it (they are drawn later: no cycles,
	 * but iterate to a fixed point rather than rely on the order of names) */
	for (int it = 0; it < FIG_MAX_SERIES; it++)
		for (size_t s = 0; s < c->n_series; s++) {
			if (!any[s] || !hidden[s])
				continue;
			int d = 0;
			for (size_t t = 0; t < c->n_series; t++)
				if (by[s] >> t & 1)
					d = depth[t] > d ? depth[t] : d;
			depth[s] = d + 1 > 3 ? 3 : d + 1;
		}
	size_t n = 0;
	for (size_t s = 0; s < c->n_series && n < cap; s++) {
		if (!depth[s])
			continue;
		struct fig_nested *o = &out[n++];
		memset(o, 0, sizeof(*o));
		snprintf(o->label, sizeof(o->label), "%s", c->series[s].label);
		o->depth = depth[s];
		for (size_t t = 0; t < c->n_series; t++)
			if (by[s] >> t & 1) {
				size_t l = strlen(o->over);
				snprintf(o->over + l, sizeof(o->over) - l, "%s%s", l ? ", " : "",
				         c->series[t].label);
			}
	}
	return n;
}

/* Does segment (ax, ay)-(bx, by) meet the box [x0, x1] x [y0, y1]?  Liang–Barsky clipping. */
static int seg_meets_box(double ax, double ay, double bx, double by, double x0, double y0,
                         double x1, double y1)
{
	double t0 = 0, t1 = 1, dx = bx - ax, dy = by - ay;
	const double p[4] = { -dx, dx, -dy, dy }, q[4] = { ax - x0, x1 - ax, ay - y0, y1 - ay };
	for (int i = 0; i < 4; i++) {
		if (p[i] == 0) {
			if (q[i] < 0)
				return 0;
			continue;
		}
		double r = q[i] / p[i];
		if (p[i] < 0)
			t0 = fmax(t0, r);
		else
			t1 = fmin(t1, r);
		if (t0 > t1)
			return 0;
	}
	return 1;
}

int fig_geom_meets(const struct fig_canvas *c, double x0, double y0, double w, double h)
{
	for (size_t k = 0; k < c->n_geom; k++) {
		const struct fig_geom *g = &c->geom[k];
		const double *p = c->pts + g->off;
		double pad = g->kind == FIG_GEOM_LINE ? g->size / 2 + LINE_RIM : g->size + MARK_RIM;
		double bx0 = x0 - pad, by0 = y0 - pad, bx1 = x0 + w + pad, by1 = y0 + h + pad;
		if (g->x1 < bx0 || g->x0 > bx1 || g->y1 < by0 || g->y0 > by1)
			continue;
		if (g->kind == FIG_GEOM_MARKER || g->n == 1) {
			for (size_t i = 0; i < g->n; i++)
				if (p[2 * i] >= bx0 && p[2 * i] <= bx1 && p[2 * i + 1] >= by0 &&
				    p[2 * i + 1] <= by1)
					return 1;
			continue;
		}
		for (size_t i = 0; i + 1 < g->n; i++)
			if (seg_meets_box(p[2 * i], p[2 * i + 1], p[2 * i + 2], p[2 * i + 3], bx0, by0,
			                  bx1, by1))
				return 1;
	}
	return 0;
}
