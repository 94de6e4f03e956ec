/*
 * legend.c — the key: entries (a line, dashed line, marker, band or line+marker swatch and a
 * label) laid out in rows above the plot area, so a legend never hides data.  Measured before
 * the panel layout (fig_legend_reserve), drawn after it.  A series the overlap check found
 * hidden under another gets a note row under the entries naming both (overlap.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"

static double flow_entries(cairo_t *cr, const struct fig_legend_entry *e, size_t n, double x0,
                           double y0, double wmax, int draw);

#define SWATCH 12.0
#define SEP 3.0
#define ENTRY_GAP 8.0

static double row_h(cairo_t *cr)
{
	double w, h;
	fig_text_extent(cr, "Ag", FIG_PT_TICK, &w, &h);
	return h + 1;
}

/* The notes on hidden series (overlap.c) whose series is among the entries: "R1 under R2,
 * drawn wider".  Returns how many, written to notes[]. */
static size_t notes_for(cairo_t *cr, const struct fig_legend_entry *e, size_t n,
                        char notes[][256], size_t cap)
{
	const struct fig_canvas *c = fig_canvas_of(cr);
	size_t k = 0;
	for (size_t i = 0; c && i < c->n_nested && k < cap; i++)
		for (size_t j = 0; j < n; j++) /* the entry's series, or one named after it */
			if (!strncmp(e[j].label, c->nested[i].label, strlen(e[j].label))) {
				snprintf(notes[k++], 256, "%s lies under %s (within line width): drawn wider",
				         c->nested[i].label, c->nested[i].over);
				break;
			}
	return k;
}

/* A note's size: the tick size less one, smaller if it would not fit the width. */
static double note_pt(cairo_t *cr, const char *note, double wmax)
{
	double pt = FIG_PT_TICK - 1, w, h;
	fig_text_extent(cr, note, pt, &w, &h);
	return w > wmax ? fmax(3.5, pt * wmax / w) : pt;
}

/* Lays out entries from (x, y) across width w; draws when `draw`; returns the height used. */
static double flow(cairo_t *cr, const struct fig_legend_entry *e, size_t n, double x0, double y0,
                   double wmax, int draw)
{
	char notes[4][256];
	size_t nnotes = notes_for(cr, e, n, notes, 4);
	double used = flow_entries(cr, e, n, x0, y0, wmax, draw);
	for (size_t i = 0; i < nnotes; i++) { /* each on a row of its own, under the entries */
		double pt = note_pt(cr, notes[i], wmax), w, h;
		fig_text_extent(cr, notes[i], pt, &w, &h);
		if (draw) {
			cairo_save(cr);
			fig_set_colour(cr, FIG_BLACK, 1);
			fig_text(cr, x0, y0 + used, notes[i], pt, 0, 0, 0);
			cairo_restore(cr);
		}
		used += h + 1;
	}
	return used;
}

static double flow_entries(cairo_t *cr, const struct fig_legend_entry *e, size_t n, double x0,
                           double y0, double wmax, int draw)
{
	double rh = row_h(cr), x = x0, y = y0;
	for (size_t i = 0; i < n; i++) {
		double w, h;
		fig_text_extent(cr, e[i].label, FIG_PT_TICK, &w, &h);
		double ew = SWATCH + SEP + w;
		if (x > x0 && x + ew > x0 + wmax) {
			x = x0;
			y += rh;
		}
		if (draw) {
			double cy = y + rh / 2;
			cairo_save(cr);
			fig_set_colour(cr, e[i].colour, 1);
			cairo_set_line_width(cr, FIG_LW);
			switch (e[i].key) {
			case FIG_KEY_BAND:
				fig_set_colour(cr, e[i].colour, 0.25);
				cairo_rectangle(cr, x, cy - 3, SWATCH, 6);
				cairo_fill(cr);
				fig_set_colour(cr, e[i].colour, 1);
				/* a band is drawn with its mean line */
				__attribute__((fallthrough));
			case FIG_KEY_LINE:
			case FIG_KEY_LINE_MARKER:
				cairo_move_to(cr, x, cy);
				cairo_line_to(cr, x + SWATCH, cy);
				cairo_stroke(cr);
				if (e[i].key == FIG_KEY_LINE_MARKER) {
					cairo_arc(cr, x + SWATCH / 2, cy, FIG_MARKER_R, 0, 2 * M_PI);
					cairo_fill(cr);
				}
				break;
			case FIG_KEY_DASH: {
				double d[] = { 3, 2 };
				cairo_set_dash(cr, d, 2, 0);
				cairo_move_to(cr, x, cy);
				cairo_line_to(cr, x + SWATCH, cy);
				cairo_stroke(cr);
				break;
			}
			case FIG_KEY_MARKER:
				cairo_arc(cr, x + SWATCH / 2, cy, FIG_MARKER_R, 0, 2 * M_PI);
				cairo_fill(cr);
				break;
			}
			cairo_restore(cr);
			cairo_save(cr);
			fig_set_colour(cr, FIG_BLACK, 1);
			fig_text(cr, x + SWATCH + SEP, cy, e[i].label, FIG_PT_TICK, 0, 0.5, 0);
			cairo_restore(cr);
		}
		x += ew + ENTRY_GAP;
	}
	return n ? y - y0 + rh : 0;
}

double fig_legend_measure(cairo_t *cr, const struct fig_legend_entry *e, size_t n, double w)
{
	return flow(cr, e, n, 0, 0, w, 0);
}

void fig_legend_reserve(struct fig_panel *p, cairo_t *cr, const struct fig_legend_entry *e,
                        size_t n)
{
	p->legend_h = fig_legend_measure(cr, e, n, p->ow - 8);
}

void fig_legend_draw(const struct fig_panel *p, cairo_t *cr, const struct fig_legend_entry *e,
                     size_t n)
{
	double w, th = 0;
	if (p->title[0])
		fig_text_extent(cr, p->title, FIG_PT_TITLE, &w, &th);
	flow(cr, e, n, p->ox + 4, p->oy + (th > 0 ? th + 2 : 2) + 1, p->ow - 8, 1);
}
