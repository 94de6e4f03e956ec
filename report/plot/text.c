/*
 * text.c — all text goes through pango (DejaVu Sans), laid out at 72 dpi so a size in points
 * is a size in user units on every device, with hinting off so PNG, SVG and PDF measure the
 * same.  Owns measuring (for "measure, then draw") and anchored, rotated drawing, and releasing the font caches at exit.
 */
#include <math.h>
#include <pango/pangocairo.h>

#include "plot.h"

static PangoLayout *layout_for(cairo_t *cr, const char *txt, double pt)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoContext *ctx = pango_layout_get_context(l);
	pango_cairo_context_set_resolution(ctx, 72.0);
	cairo_font_options_t *fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
	cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
	pango_cairo_context_set_font_options(ctx, fo);
	cairo_font_options_destroy(fo);
	pango_layout_context_changed(l);
	PangoFontDescription *fd = pango_font_description_from_string(FIG_FONT);
	pango_font_description_set_absolute_size(fd, pt * PANGO_SCALE);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	pango_layout_set_text(l, txt, -1);
	return l;
}

void fig_text_shutdown(void)
{
	/* pango's default font map holds fontconfig's caches for the life of the process.  They
	 * are NOT torn down with FcFini()/cairo_debug_reset_static_data(): pango initialises
	 * fontconfig on a thread of its own, and finalising under it aborted husai now and then
	 * (SIGABRT from fontconfig's cache assertions).  Leak checkers are told about these
	 * process-lifetime caches instead (tests/lsan.supp). */
	pango_cairo_font_map_set_default(NULL);
}

void fig_text_extent(cairo_t *cr, const char *txt, double pt, double *w, double *h)
{
	PangoLayout *l = layout_for(cr, txt, pt);
	PangoRectangle lr;
	pango_layout_get_extents(l, NULL, &lr);
	*w = (double)lr.width / PANGO_SCALE;
	*h = (double)lr.height / PANGO_SCALE;
	g_object_unref(l);
}

void fig_text(cairo_t *cr, double x, double y, const char *txt, double pt, double ax, double ay,
              double angle_deg)
{
	PangoLayout *l = layout_for(cr, txt, pt);
	PangoRectangle lr;
	pango_layout_get_extents(l, NULL, &lr);
	double w = (double)lr.width / PANGO_SCALE, h = (double)lr.height / PANGO_SCALE;
	cairo_save(cr);
	cairo_translate(cr, x, y);
	if (angle_deg != 0)
		cairo_rotate(cr, angle_deg * G_PI / 180.0);
	cairo_move_to(cr, -ax * w - (double)lr.x / PANGO_SCALE, -ay * h - (double)lr.y / PANGO_SCALE);
	pango_cairo_show_layout(cr, l);
	fig_text_box_log(cr, -ax * w, -ay * h, w, h);
	cairo_restore(cr);
	g_object_unref(l);
}

/* the box (x, y, w, h) in the current user space, on the page, into the canvas's text log */
void fig_text_box_log(cairo_t *cr, double x, double y, double w, double h)
{
	struct fig_canvas *c = fig_canvas_of(cr);
	if (!c)
		return;
	struct fig_box *t = fig_grow(c->texts, &c->cap_texts, c->n_texts + 1, 64, sizeof(*t));
	if (!t)
		return; /* the log is a test aid; drawing goes on */
	c->texts = t;
	double s = c->dev == FIG_PNG ? c->dpi / 72.0 : 1.0;
	struct fig_box b = { INFINITY, INFINITY, -INFINITY, -INFINITY, 0 };
	for (int k = 0; k < 4; k++) {
		double px = x + ((k & 1) ? w : 0), py = y + ((k & 2) ? h : 0);
		cairo_user_to_device(cr, &px, &py);
		b.x0 = fmin(b.x0, px / s), b.x1 = fmax(b.x1, px / s);
		b.y0 = fmin(b.y0, py / s), b.y1 = fmax(b.y1, py / s);
	}
	c->texts[c->n_texts++] = b;
}
