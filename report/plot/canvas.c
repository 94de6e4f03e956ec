/*
 * canvas.c — the device layer: one cairo surface per figure, chosen at the end by device
 * (PNG at the style's dpi, 300 by default; SVG; PDF; or a recording surface for checks), all
 * drawn in points.  Owns serialising the surface to bytes,
 * the fixed PDF dates, SVG id normalisation (svgnorm.c), the PNG dpi tag (pngdpi.c), the
 * atomic write, half-pixel snapping, the marker log tests use, and how the canvas's arrays
 * grow (fig_grow: the stream buffer and the marker, text and geometry logs).  Not the drawing
 * itself.
 */
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

const cairo_user_data_key_t fig_canvas_key;

struct fig_canvas *fig_canvas_of(cairo_t *cr)
{
	return cairo_get_user_data(cr, &fig_canvas_key);
}

void *fig_grow(void *a, size_t *cap, size_t need, size_t first, size_t size)
{
	if (a && need <= *cap)
		return a;
	size_t n = *cap ? *cap : first; /* an empty array gets `first` entries even for need 0 */
	while (n < need)
		n *= 2;
	void *t = realloc(a, n * size);
	if (t)
		*cap = n;
	return t;
}

static cairo_status_t stream_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct fig_canvas *c = closure;
	unsigned char *nb = fig_grow(c->buf, &c->cap, c->len + len, 65536, 1);
	if (!nb) {
		c->oom = 1;
		return CAIRO_STATUS_NO_MEMORY;
	}
	c->buf = nb;
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	return CAIRO_STATUS_SUCCESS;
}

int fig_canvas_open(struct fig_canvas *c, enum fig_device dev, double w, double h,
                    const char *date, struct hus_err *err)
{
	memset(c, 0, sizeof(*c));
	c->dev = dev;
	c->cur_series = -1;
	c->page_w = w;
	c->page_h = h;
	c->margin = FIG_MARGIN;
	c->w = w - 2 * c->margin;
	c->h = h - 2 * c->margin;
	c->dpi = fig_style_cur()->dpi;
	/* A fixed date keeps re-rendered PDFs comparable; the run's own timestamp by default. */
	snprintf(c->date, sizeof(c->date), "%s", date && date[0] ? date : "2000-01-01T00:00:00Z");
	switch (dev) {
	case FIG_PNG:
		c->surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32,
		                                     (int)ceil(w * c->dpi / 72.0),
		                                     (int)ceil(h * c->dpi / 72.0));
		break;
	case FIG_REC:
		c->surf = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, NULL);
		break;
	case FIG_SVG:
		c->surf = cairo_svg_surface_create_for_stream(stream_write, c, w, h);
		if (cairo_surface_status(c->surf) == CAIRO_STATUS_SUCCESS)
			cairo_svg_surface_restrict_to_version(c->surf, CAIRO_SVG_VERSION_1_1);
		break;
	case FIG_PDF:
		c->surf = cairo_pdf_surface_create_for_stream(stream_write, c, w, h);
		if (cairo_surface_status(c->surf) == CAIRO_STATUS_SUCCESS) {
			cairo_pdf_surface_set_metadata(c->surf, CAIRO_PDF_METADATA_CREATOR, "husai report");
			cairo_pdf_surface_set_metadata(c->surf, CAIRO_PDF_METADATA_CREATE_DATE, c->date);
			cairo_pdf_surface_set_metadata(c->surf, CAIRO_PDF_METADATA_MOD_DATE, c->date);
		}
		break;
	default:
		return hus_errf(err, HUS_EINTERNAL, NULL, NULL, "unknown figure device %d", (int)dev);
	}
	if (cairo_surface_status(c->surf) != CAIRO_STATUS_SUCCESS) {
		int st = cairo_surface_status(c->surf);
		cairo_surface_destroy(c->surf);
		c->surf = NULL;
		return hus_errf(err, HUS_EINTERNAL, NULL, NULL, "cairo cannot create a surface: %s",
		                cairo_status_to_string(st));
	}
	c->cr = cairo_create(c->surf);
	cairo_set_user_data(c->cr, &fig_canvas_key, c, NULL); /* legend.c finds its notes */
	if (dev == FIG_PNG)
		cairo_scale(c->cr, c->dpi / 72.0, c->dpi / 72.0);
	/* the background on every device, so PNG pixels and SVG agree */
	fig_set_rgb(c->cr, fig_background(), 1);
	cairo_rectangle(c->cr, 0, 0, w, h);
	if (dev != FIG_REC) /* a recording measures the ink drawn, not the page */
		cairo_fill(c->cr);
	cairo_new_path(c->cr);
	cairo_translate(c->cr, c->margin, c->margin);
	cairo_set_line_join(c->cr, CAIRO_LINE_JOIN_ROUND);
	return 0;
}

void fig_canvas_release(struct fig_canvas *c)
{
	if (c->cr)
		cairo_destroy(c->cr);
	if (c->surf)
		cairo_surface_destroy(c->surf);
	free(c->buf);
	free(c->marks);
	free(c->geom);
	free(c->pts);
	free(c->texts);
	memset(c, 0, sizeof(*c));
}

int fig_canvas_save(struct fig_canvas *c, const char *path, struct hus_err *err)
{
	int st = cairo_status(c->cr);
	if (st != CAIRO_STATUS_SUCCESS)
		return hus_errf(err, HUS_EINTERNAL, path, NULL, "cairo drawing failed: %s",
		                cairo_status_to_string(st));
	cairo_destroy(c->cr);
	c->cr = NULL;
	if (c->dev == FIG_REC)
		return hus_errf(err, HUS_EINTERNAL, path, NULL, "a recording canvas has no file");
	if (c->dev == FIG_PNG) {
		cairo_surface_flush(c->surf);
		st = cairo_surface_write_to_png_stream(c->surf, stream_write, c);
	} else {
		cairo_surface_finish(c->surf);
		st = cairo_surface_status(c->surf);
	}
	if (c->oom)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory serialising the figure");
	if (st != CAIRO_STATUS_SUCCESS)
		return hus_errf(err, HUS_EINTERNAL, path, NULL, "cairo cannot serialise the figure: %s",
		                cairo_status_to_string(st));
	unsigned char *out = NULL;
	size_t outn = 0;
	if (c->dev == FIG_SVG) {
		if (fig_svg_normalise(c->buf, c->len, &out, &outn))
			return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory normalising the SVG");
	} else if (c->dev == FIG_PNG) {
		out = fig_png_set_dpi(c->buf, c->len, c->dpi, &outn);
		if (!out)
			return hus_errf(err, HUS_EINTERNAL, path, NULL, "cairo wrote an unexpected PNG");
	}
	int rc = hus_write_file(path, out ? out : c->buf, out ? outn : c->len, err);
	free(out);
	return rc;
}

double fig_snap(const struct fig_canvas *c, double v, double lw)
{
	/* kplot's kplotctx_line_fix: an odd-width line centred on a pixel edge smears over two
	 * pixels; centre it on a pixel instead.  Only raster output needs it. */
	if (c->dev != FIG_PNG)
		return v;
	double s = c->dpi / 72.0;
	long px = lround(lw * s);
	double d = (v + c->margin) * s; /* user space starts at the margin */
	d = (px % 2) ? floor(d) + 0.5 : round(d);
	return d / s - c->margin;
}

void fig_mark_log(struct fig_canvas *c, double x, double y, int series)
{
	struct fig_mark *m = fig_grow(c->marks, &c->cap_marks, c->n_marks + 1, 64, sizeof(*m));
	if (!m)
		return; /* the log is a test aid; drawing goes on */
	c->marks = m;
	m = &c->marks[c->n_marks++];
	memset(m, 0, sizeof(*m));
	m->x = x + c->margin;
	m->y = y + c->margin;
	m->dx = m->dy = NAN;
	m->series = series;
}

void fig_mark_log_data(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                       double dx, double dy, int series)
{
	size_t n = c->n_marks;
	fig_mark_log(c, fig_map(xs, dx), fig_map(ys, dy), series);
	if (c->n_marks == n + 1) {
		struct fig_mark *m = &c->marks[n];
		m->dx = dx;
		m->dy = dy;
		m->xs = *xs;
		m->ys = *ys;
	}
}
