/*
 * plot.h — the plotting layer of report/ (report/plot/, the library husai_report_plot; STYLE.md
 * "Plots"): device primitives on cairo + pango in points, the axis layer (scales, nice ticks,
 * panels, legends) and the plot elements figures call.  One element per file; this header
 * only declares them.  Nothing here calls the rest of report/.
 *
 * Coordinates: everything is drawn in points (1/72 in).  A PNG canvas scales points to
 * pixels at 300 dpi; SVG and PDF surfaces are in points already, so the same drawing code
 * serves all three devices (PLplot's device table, in miniature).
 *
 * Invariants:
 *  (1) the only data -> device mapping is fig_map() (scale.c); tests check it against the SVG;
 *  (2) non-finite data never reach cairo: they are skipped, counted in canvas->n_nonfinite,
 *      and lines/bands break at them (a gap, never a zero);
 *  (3) every data marker is logged in canvas->marks (device coordinates) so tests can find it.
 */
#ifndef HUSAI_REPORT_PLOT_H
#define HUSAI_REPORT_PLOT_H

#include <cairo.h>
#include <stddef.h>
#include <stdint.h>

#include "formats.h"

/* ------------------------------------------------------------------ canvas.c ------ */

/* FIG_REC: an unbounded cairo recording surface (no file): the overlap pre-pass and the
 * tests' ink check (everything drawn must stay inside 0..w x 0..h). */
enum fig_device { FIG_PNG = 1, FIG_SVG = 2, FIG_PDF = 4, FIG_REC = 8 };
#define FIG_DPI 300.0 /* the default PNG resolution (style.c can change it) */

struct fig_scale {
	double lo, hi; /* data range */
	int log2;      /* 1: log2 axis (data must be > 0) */
	double d0, d1; /* device positions of lo and hi */
};

struct fig_mark {
	double x, y;             /* position on the page, points (user space + margin) */
	double dx, dy;           /* the data values drawn there (NaN for heatmap cells) */
	struct fig_scale xs, ys; /* the transform used, so tests can map the SVG back */
	int series;              /* caller's series id */
	double r;                /* marker radius drawn (points), 0 for other marks */
};

/* A text's bounding box on the page, points (user space + margin), axis-aligned round its
 * rotated layout; `annot`: 1, a label placed at a data point (fig_annot); 2, the label of a
 * reference line (fig_vline). */
struct fig_box {
	double x0, y0, x1, y1;
	int annot;
};

/* overlap.c: the named data series of a figure and the geometry they drew. */
#define FIG_MAX_SERIES 32
struct fig_series_info {
	char label[64];
	int depth;              /* 0, or how many series it lies under (drawn wider by that) */
};
struct fig_nested {         /* a series found hidden by the pre-pass */
	char label[64];
	char over[160];         /* the series over it, comma-separated */
	int depth;
};
enum { FIG_GEOM_LINE, FIG_GEOM_MARKER };
struct fig_geom {
	int series, kind, dashed;
	double size;            /* line width or marker radius, points */
	size_t off, n;          /* n points at pts[off..off + 2n) */
	double x0, y0, x1, y1;  /* bounding box */
	size_t hint;            /* segment of the last point found under it (overlap.c) */
};

struct fig_canvas {
	enum fig_device dev;
	double w, h;            /* drawing area in points, inside the blank margin */
	double page_w, page_h;  /* the whole surface in points: w + 2 margin, h + 2 margin */
	double margin;          /* FIG_MARGIN: user space starts at (margin, margin) of the page */
	double dpi;             /* PNG pixels per inch (the style's) */
	cairo_surface_t *surf;
	cairo_t *cr;
	unsigned char *buf;     /* serialised bytes (SVG/PDF streams, PNG at save) */
	size_t len, cap;
	int oom;                /* the stream writer ran out of memory */
	char date[32];          /* PDF CreationDate/ModDate, fixed from the run (ISO-8601) */
	size_t n_nonfinite;     /* data values skipped as NaN/Inf (invariant 2) */
	struct fig_mark *marks; /* invariant 3 */
	size_t n_marks, cap_marks;
	char skip_series[64];   /* tests: the series (overlap.c) whose drawing is left out */
	struct fig_series_info series[FIG_MAX_SERIES];
	size_t n_series;
	int cur_series;         /* index into series, -1: not a named series */
	struct fig_nested nested[8]; /* set before drawing, from a first drawing's log */
	size_t n_nested;
	struct fig_geom *geom;  /* lines and markers of named series, in drawing order */
	size_t n_geom, cap_geom;
	double *pts;
	size_t n_pts, cap_pts;
	struct fig_box *texts;  /* every text's box on the page (tests: labels apart) */
	size_t n_texts, cap_texts;
};

/* Open a canvas of w x h points (the whole page; figures draw in the (w - 2 FIG_MARGIN) x
 * (h - 2 FIG_MARGIN) area inside the margin, whose top-left is user (0, 0)).  `date`
 * (ISO-8601, may be NULL) fixes the PDF dates. */
int fig_canvas_open(struct fig_canvas *c, enum fig_device dev, double w, double h,
                    const char *date, struct hus_err *err);
/* Finish the surface and write the file atomically (SVG ids normalised, PNG tagged 300 dpi). */
int fig_canvas_save(struct fig_canvas *c, const char *path, struct hus_err *err);
void fig_canvas_release(struct fig_canvas *c);
/* The canvas a cairo context draws for (NULL for a context not made by fig_canvas_open). */
struct fig_canvas *fig_canvas_of(cairo_t *cr);
extern const cairo_user_data_key_t fig_canvas_key;
/* The canvas's growing arrays (the logs below, texts, geometry, the serialised bytes): the
 * array a of *cap entries of `size` bytes with room for `need` entries, its capacity doubled
 * (from `first` when empty) as often as it takes; NULL only when out of memory (then a and
 * *cap are kept). */
void *fig_grow(void *a, size_t *cap, size_t need, size_t first, size_t size);
/* Snap a coordinate so a line of width lw (points) lands on whole/half device pixels. */
double fig_snap(const struct fig_canvas *c, double v, double lw);
void fig_mark_log(struct fig_canvas *c, double x, double y, int series);
void fig_mark_log_data(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                       double dx, double dy, int series);
/* Renumber cairo's per-process ids (surfaceN, glyphN-M, clipN, ...) in first-use order. */
int fig_svg_normalise(const unsigned char *in, size_t n, unsigned char **out, size_t *outn);
/* Insert a pHYs chunk (dpi) after IHDR.  Returns a new malloc'ed buffer or NULL. */
unsigned char *fig_png_set_dpi(const unsigned char *png, size_t n, double dpi, size_t *outn);

/* ------------------------------------------------------------------ overlap.c ----- */

/* What follows draws the series `label` (legend wording); NULL: not a data series. */
void fig_series(struct fig_canvas *c, const char *label);
int fig_series_skipped(const struct fig_canvas *c); /* drawing of this series left out */
int fig_series_depth(const struct fig_canvas *c);   /* > 0: draw wider / larger */
void fig_geom_log(struct fig_canvas *c, int kind, const double *xy, size_t n, double size,
                  int dashed);
/* The device points (at most npts) a line or the markers of the current series draw, gathered
 * for fig_geom_log (xy NULL: not a named series, nothing is logged). */
struct fig_geom_buf {
	double *xy;
	size_t n;
};
/* Begin drawing the current series: 0 when its drawing is left out (tests: skip_series); else
 * b gathers its geometry.  fig_geom_buf_flush logs what b holds as one line (or marker set)
 * and empties it; fig_series_draw_end flushes and frees b. */
int fig_series_draw_begin(struct fig_canvas *c, struct fig_geom_buf *b, size_t npts);
void fig_geom_buf_add(struct fig_geom_buf *b, double x, double y);
void fig_geom_buf_flush(struct fig_canvas *c, struct fig_geom_buf *b, int kind, double size,
                        int dashed);
void fig_series_draw_end(struct fig_canvas *c, struct fig_geom_buf *b, int kind, double size,
                         int dashed);
/* The series of a drawing that lie wholly under later series (within line width). */
size_t fig_overlap_resolve(const struct fig_canvas *c, struct fig_nested *out, size_t cap);
/* Does the box (x0, y0, w, h), user space, meet a logged line or marker of a data series? */
int fig_geom_meets(const struct fig_canvas *c, double x0, double y0, double w, double h);
/* Line width and marker radius at a depth. */
#define FIG_LW_AT(d) (FIG_LW * (1.0 + 1.6 * (d)))
#define FIG_MARKER_R_AT(d) (FIG_MARKER_R * (1.0 + 0.6 * (d)))

/* ------------------------------------------------------------------ style.c ------- */

struct fig_rgb {
	double r, g, b;
};
/* Okabe & Ito (2008) colour-blind-safe palette. */
enum fig_colour {
	FIG_BLACK, FIG_ORANGE, FIG_SKY, FIG_GREEN, FIG_YELLOW, FIG_BLUE, FIG_VERMILION, FIG_PURPLE,
	FIG_GREY, FIG_NCOLOURS
};
struct fig_rgb fig_colour(int i);
void fig_set_colour(cairo_t *cr, int colour, double alpha);
void fig_set_rgb(cairo_t *cr, struct fig_rgb c, double alpha);
/* Sequential colour-blind-safe map (viridis anchors), t in [0, 1]. */
struct fig_rgb fig_colormap(double t);
/* The style every figure is drawn in: process state, chosen once by `husai report` (--style,
 * --font-size, --dpi, --theme) before any figure is drawn; the default is "screen". */
struct fig_style {
	char name[16];      /* screen, paper, paper-1col, paper-2col */
	double narrow_w;    /* width of a one-panel figure, points */
	double wide_w;      /* width of a multi-panel figure (F6, F8), points */
	double pt;          /* tick-label size; axis labels are pt + 1, titles pt + 1.5 */
	double dpi;         /* PNG resolution */
	int dark;           /* light text and lines on a dark background */
};
/* Fill s with the named style's defaults; -1 for an unknown name. */
int fig_style_preset(const char *name, struct fig_style *s);
void fig_style_use(const struct fig_style *s); /* NULL: back to "screen" */
const struct fig_style *fig_style_cur(void);
/* Width and height (points) of a figure designed at w x h points for the "screen" style,
 * in the current style (wide: a multi-panel figure). */
void fig_style_size(double w, double h, int wide, double *ow, double *oh);
struct fig_rgb fig_background(void);
#define FIG_FONT "DejaVu Sans"
#define FIG_PT_TICK (fig_style_cur()->pt)
#define FIG_PT_LABEL (fig_style_cur()->pt + 1.0)
#define FIG_PT_TITLE (fig_style_cur()->pt + 1.5)
#define FIG_MARGIN 4.0    /* blank border around every figure, points */
#define FIG_LW 1.0        /* data lines */
#define FIG_LW_AXIS 0.6   /* axes and ticks */
#define FIG_MARKER_R 1.8  /* marker radius, points */
/* Series colours used consistently by every figure. */
#define FIG_C_TRAINED FIG_BLUE
#define FIG_C_R1 FIG_VERMILION
#define FIG_C_R2 FIG_ORANGE
#define FIG_C_NULL FIG_BLACK
#define FIG_C_EV FIG_GREEN
#define FIG_C_LCB FIG_PURPLE
#define FIG_C_ALIGN FIG_SKY

/* ------------------------------------------------------------------ text.c -------- */

/* Anchor (ax, ay) in [0,1]: 0,0 = top-left of the text box, 0.5,0.5 = centre. */
void fig_text(cairo_t *cr, double x, double y, const char *txt, double pt, double ax, double ay,
              double angle_deg);
/* Log the box (x, y, w, h) of the current user space as a text on the page (text.c). */
void fig_text_box_log(cairo_t *cr, double x, double y, double w, double h);
void fig_text_extent(cairo_t *cr, const char *txt, double pt, double *w, double *h);
/* Release pango/fontconfig global caches (call once, when no text will be drawn again). */
void fig_text_shutdown(void);

/* ------------------------------------------------------------------ scale.c ------- */

void fig_scale_set(struct fig_scale *s, double lo, double hi, int log2);
/* Data -> device.  NaN for non-finite input or non-positive input on a log axis. */
double fig_map(const struct fig_scale *s, double v);
double fig_unmap(const struct fig_scale *s, double dev);

/* ------------------------------------------------------------------ ticks.c ------- */

#define FIG_MAX_TICKS 24
struct fig_ticks {
	size_t n;
	double v[FIG_MAX_TICKS];
	char label[FIG_MAX_TICKS][24];
};
/* Nice linear ticks: step 1, 2 or 5 x 10^n giving 3-7 intervals; [*lo, *hi] widened to whole
 * steps; labels with the precision the step needs (PLplot pldtik/pldprec). */
void fig_ticks_linear(double *lo, double *hi, struct fig_ticks *t);
/* Powers of two covering [lo, hi] (lo > 0); [*lo, *hi] widened to powers of two. */
void fig_ticks_log2(double *lo, double *hi, struct fig_ticks *t);
/* Data range of finite values of v[0..n) (stride), widened by lo2/hi2 if finite. */
void fig_range(const double *v, size_t n, double *lo, double *hi);

/* ------------------------------------------------------------------ panel.c ------- */

struct fig_panel {
	double ox, oy, ow, oh;      /* outer box (points) given to the panel */
	double x, y, w, h;          /* plot area, computed by fig_panel_layout */
	struct fig_scale xs, ys, y2s;
	struct fig_ticks xt, yt, y2t;
	int has_y2, x_categorical, no_grid;
	int x_rotate;               /* x tick labels drawn vertically (set by layout when crowded) */
	char title[160], xlabel[96], ylabel[96], y2label[96];
	double legend_h;            /* space reserved above the plot for the legend */
};
/* Set ranges (widened to nice ticks) before layout.  log2 for x only. */
void fig_panel_init(struct fig_panel *p, double ox, double oy, double ow, double oh);
void fig_panel_xrange(struct fig_panel *p, double lo, double hi, int log2);
void fig_panel_yrange(struct fig_panel *p, double lo, double hi);
void fig_panel_y2range(struct fig_panel *p, double lo, double hi);
/* A panel's words and ranges: title and axis labels (NULL: none), the x range (log2 axis or
 * linear) and the y range. */
struct fig_panel_spec {
	const char *title, *xlabel, *ylabel;
	double xlo, xhi;
	int log2;
	double ylo, yhi;
};
/* fig_panel_init, then the labels and ranges of s. */
void fig_panel_open(struct fig_panel *p, double ox, double oy, double ow, double oh,
                    const struct fig_panel_spec *s);
/* Categorical x axis with n slots at 0..n-1 and the given labels. */
void fig_panel_xcategories(struct fig_panel *p, const char *const *labels, size_t n);
/* Measure tick labels and titles, size the margins, set device ranges of the scales. */
void fig_panel_layout(struct fig_panel *p, cairo_t *cr);
/* Draw frame, ticks, labels, title (axis.c). */
void fig_axes_draw(const struct fig_panel *p, struct fig_canvas *c);
void fig_panel_clip(const struct fig_panel *p, cairo_t *cr); /* cairo_save + clip to plot */

/* ------------------------------------------------------------------ legend.c ------ */

enum fig_key { FIG_KEY_LINE, FIG_KEY_DASH, FIG_KEY_MARKER, FIG_KEY_BAND, FIG_KEY_LINE_MARKER };
struct fig_legend_entry {
	const char *label;
	int colour;
	enum fig_key key;
};
/* Height needed to draw the entries in rows across width w. */
double fig_legend_measure(cairo_t *cr, const struct fig_legend_entry *e, size_t n, double w);
/* Reserve the legend's height above the plot area of p (call before layout). */
void fig_legend_reserve(struct fig_panel *p, cairo_t *cr, const struct fig_legend_entry *e,
                        size_t n);
void fig_legend_draw(const struct fig_panel *p, cairo_t *cr, const struct fig_legend_entry *e,
                     size_t n);

/* ------------------------------------------------------------------ elements ------ */

/* line.c: polyline through (x[i], y[i]) on scales xs/ys, broken at non-finite points. */
void fig_line(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
              const double *x, const double *y, size_t n, int colour, int dashed);
/* line.c: the pen of a data line of the current series: cairo state saved (the caller
 * restores it), colour, width by the series' depth (returned), dashed or solid. */
double fig_line_pen(struct fig_canvas *c, int colour, int dashed);
/* marker.c: filled circle markers at finite points, logged with `series`. */
void fig_markers(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                 const double *x, const double *y, size_t n, int colour, int series);
/* errbar.c: whiskers from lo[i] to hi[i] with caps (half-width cap pts): vertical ones at
 * x = pos[i], or horizontal ones (x from lo to hi) at y = pos[i]. */
enum fig_orient { FIG_VERTICAL, FIG_HORIZONTAL };
void fig_errbars(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                 const double *pos, const double *lo, const double *hi, size_t n, int colour,
                 double cap, enum fig_orient o);
/* band.c: translucent band between lo and hi, split into runs of finite points. */
void fig_band(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
              const double *x, const double *lo, const double *hi, size_t n, int colour);
/* jitter.c: points at category x0 with seeded uniform x jitter of +-half (data units). */
void fig_jitter(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                double x0, double half, const double *y, size_t n, uint32_t seed, int colour,
                int series);
/* violin.c: Gaussian-KDE violin (Silverman bandwidth) of y at category x0, max half-width. */
void fig_violin(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
                double x0, double half, const double *y, size_t n, int colour);
/* annot.c: reference lines with a label, and free text at a data point. */
void fig_hline(struct fig_canvas *c, const struct fig_panel *p, const struct fig_scale *ys,
               double y, int colour, int dashed, const char *label);
void fig_vline(struct fig_canvas *c, const struct fig_panel *p, double x, int colour,
               int dashed, const char *label);
void fig_annot(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
               double x, double y, const char *txt, double ax, double ay);
/* A label at a data point of panel p: beside it where the plot area has room and no text is
 * drawn yet, else moved away line by line with a hairline back to the point. */
void fig_annot_clear(struct fig_canvas *c, const struct fig_panel *p, double x, double y,
                     const char *txt);
/* heatmap.c: n x n matrix (row-major, NaN = empty cell) in p's plot area, values
 * annotated with fmt; colours from [vmin, vmax]. */
void fig_heatmap(struct fig_canvas *c, const struct fig_panel *p, const double *m, size_t n,
                 double vmin, double vmax, const char *fmt);
/* colorbar.c: vertical colour bar in box (x, y, w, h) with nice ticks on its right. */
void fig_colorbar(struct fig_canvas *c, double x, double y, double w, double h, double vmin,
                  double vmax, const char *label);
/* The width the colour bar of strip width w takes with its tick labels and label. */
double fig_colorbar_width(cairo_t *cr, double w, double vmin, double vmax, const char *label);
/* ecdf.c: step ECDF of finite values (sorted copy), on scales xs and ys = [0, 1]. */
int fig_ecdf(struct fig_canvas *c, const struct fig_scale *xs, const struct fig_scale *ys,
             const double *v, size_t n, int colour, int dashed);

#endif
