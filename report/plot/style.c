/*
 * style.c — the figure style (sizes for screen or a paper's one- and two-column widths, font
 * size, PNG resolution, light or dark theme; docs/figures.md "Styles") and colours: the
 * Okabe & Ito (2008) colour-blind-safe palette used for every series, and a sequential map
 * (viridis anchors, linearly interpolated) for heatmaps.  Series-to-colour assignments are
 * the macros in plot.h.
 */
#include <math.h>
#include <string.h>

#include "plot.h"

/* 252 pt = 3.5 in; a paper column is 3.25 in (234 pt), both columns 6.75 in (486 pt). */
static const struct fig_style presets[] = {
	{ "screen", 252, 504, 7.0, FIG_DPI, 0 },
	{ "paper", 234, 486, 7.0, FIG_DPI, 0 },
	{ "paper-1col", 234, 234, 7.0, FIG_DPI, 0 },
	{ "paper-2col", 486, 486, 7.0, FIG_DPI, 0 },
};
static struct fig_style current = { "screen", 252, 504, 7.0, FIG_DPI, 0 };

int fig_style_preset(const char *name, struct fig_style *s)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (!strcmp(presets[i].name, name)) {
			*s = presets[i];
			return 0;
		}
	return -1;
}

void fig_style_use(const struct fig_style *s)
{
	current = s ? *s : presets[0];
}

const struct fig_style *fig_style_cur(void)
{
	return &current;
}

void fig_style_size(double w, double h, int wide, double *ow, double *oh)
{
	*ow = wide ? current.wide_w : current.narrow_w;
	/* the height follows the width, but a one-column multi-panel figure keeps most of its
	 * height (its panels would be too flat) and a two-column figure does not grow as tall */
	double ratio = *ow / w;
	*oh = round(h * fmin(fmax(ratio, 0.8), 1.4)); /* whole points */
}

struct fig_rgb fig_background(void)
{
	return current.dark ? (struct fig_rgb){ 0.12, 0.12, 0.13 } : (struct fig_rgb){ 1, 1, 1 };
}

static const struct fig_rgb okabe_ito[FIG_NCOLOURS] = {
	{ 0x00 / 255.0, 0x00 / 255.0, 0x00 / 255.0 }, /* black */
	{ 0xE6 / 255.0, 0x9F / 255.0, 0x00 / 255.0 }, /* orange */
	{ 0x56 / 255.0, 0xB4 / 255.0, 0xE9 / 255.0 }, /* sky blue */
	{ 0x00 / 255.0, 0x9E / 255.0, 0x73 / 255.0 }, /* bluish green */
	{ 0xF0 / 255.0, 0xE4 / 255.0, 0x42 / 255.0 }, /* yellow */
	{ 0x00 / 255.0, 0x72 / 255.0, 0xB2 / 255.0 }, /* blue */
	{ 0xD5 / 255.0, 0x5E / 255.0, 0x00 / 255.0 }, /* vermilion */
	{ 0xCC / 255.0, 0x79 / 255.0, 0xA7 / 255.0 }, /* reddish purple */
	{ 0x99 / 255.0, 0x99 / 255.0, 0x99 / 255.0 }, /* grey (frames, reference lines) */
};

struct fig_rgb fig_colour(int i)
{
	if (i < 0 || i >= FIG_NCOLOURS)
		i = FIG_BLACK;
	if (i == FIG_BLACK && current.dark) /* the foreground: text, axes, the null */
		return (struct fig_rgb){ 0.92, 0.92, 0.92 };
	return okabe_ito[i];
}

void fig_set_rgb(cairo_t *cr, struct fig_rgb c, double alpha)
{
	if (alpha >= 1.0)
		cairo_set_source_rgb(cr, c.r, c.g, c.b);
	else
		cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

void fig_set_colour(cairo_t *cr, int colour, double alpha)
{
	fig_set_rgb(cr, fig_colour(colour), alpha);
}

/* matplotlib's viridis sampled at t = 0, 1/8, ..., 1 */
static const struct fig_rgb viridis[9] = {
	{ 0.267004, 0.004874, 0.329415 }, { 0.278826, 0.175490, 0.483397 },
	{ 0.229739, 0.322361, 0.545706 }, { 0.172719, 0.448791, 0.557885 },
	{ 0.127568, 0.566949, 0.550556 }, { 0.157851, 0.683765, 0.501686 },
	{ 0.369214, 0.788888, 0.382914 }, { 0.678489, 0.863742, 0.189503 },
	{ 0.993248, 0.906157, 0.143936 },
};

struct fig_rgb fig_colormap(double t)
{
	if (!(t > 0))
		t = 0;
	if (t > 1)
		t = 1;
	double u = t * 8;
	int i = (int)floor(u);
	if (i >= 8)
		return viridis[8];
	double f = u - i;
	struct fig_rgb a = viridis[i], b = viridis[i + 1];
	return (struct fig_rgb){ a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b) };
}
