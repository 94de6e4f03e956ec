/*
 * fig_f6_pairwise_heatmaps.c — F6, seed x seed PWMCC heatmaps, annotated with each value (docs/formulas.md §7.3 paper
 * figure 1, data-driven).  Sources, in order: phase4a trained/random/controls.r2 summaries'
 * "pairwise" lists; for sweeps, each record's trained_pwmcc.pairwise (or the record's own
 * "pairwise").  One colour scale across panels (data min to max), up to four panels per row
 * (fewer when the style's width is narrow), the colour bar measured before the panels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAXP 12
#define MAX_PER_ROW 4
#define MIN_PANEL_W 105.0 /* narrower and the seed labels crowd the cells */
#define MAX_PANEL_W 140.0
#define BAR_STRIP 8.0
#define BAR_W_EST 48.0    /* the colour bar's width before it is measured (for the size) */
#define TITLE_H 16.0

static size_t per_row(double w, size_t np)
{
	size_t k = (size_t)fmax(1, floor((w - BAR_W_EST) / MIN_PANEL_W));
	k = k > MAX_PER_ROW ? MAX_PER_ROW : k;
	return np < k ? (np ? np : 1) : k;
}

/* A row: a square heatmap the panel's width minus its seed labels, plus title and x axis. */
static double row_h(double pw)
{
	return fmin(150.0, pw + 22.0);
}

struct hm {
	char title[96], path[160];
	hj *list;
};

static size_t collect(const struct rep_run *r, struct hm *h)
{
	size_t n = 0;
	if (r->kind == REP_PHASE4A || r->kind == REP_SMOKE || r->kind == REP_DEMO) {
		static const char *const keys[] = { RJK_TRAINED, RJK_RANDOM, RJ_PATH2(RJK_CONTROLS, RJK_R2) };
		/* words, not a results.json key: */
		static const char *const titles[] = { "trained", "random R1", "untrained R2" };
		for (size_t i = 0; i < 3 && n < MAXP; i++) {
			char p[96];
			snprintf(p, sizeof(p), "%s.pairwise", keys[i]);
			hj *l = hj_get(r->res, p);
			if (l) {
				snprintf(h[n].title, sizeof(h[n].title), "%s", titles[i]);
				snprintf(h[n].path, sizeof(h[n].path), "%s", p);
				h[n++].list = l;
			}
		}
		return n;
	}
	static const char *const lists[] = { RJK_K_SWEEP, RJK_D_SAE_SWEEP, RJK_SEARCH_RECORDS, RJK_RECORDS,
		                              RJK_RETRAIN_RECORD };
	for (size_t li = 0; li < sizeof(lists) / sizeof(lists[0]); li++) {
		char base[96];
		hj *rec;
		for (size_t i = 0;
		     n < MAXP && (rec = rep_rec_each(r->res, lists[li], i, base, sizeof(base))); i++) {
			hj *l = hj_get(rec, RJ_PATH2(RJK_TRAINED_PWMCC, RJK_PAIRWISE));
			const char *sub = RJ_PATH2(RJK_TRAINED_PWMCC, RJK_PAIRWISE);
			if (!l) {
				l = hj_get(rec, RJK_PAIRWISE);
				sub = RJK_PAIRWISE;
			}
			if (!l)
				continue;
			rep_record_label(r, rec, h[n].title, sizeof(h[n].title));
			snprintf(h[n].path, sizeof(h[n].path), "%s.%s", base, sub);
			h[n++].list = l;
		}
	}
	return n;
}

void fig_f6_size(const struct rep_run *r, double *w, double *h)
{
	struct hm hm[MAXP];
	size_t n = collect(r, hm), cols = per_row(*w - 2 * FIG_MARGIN, n);
	size_t rows = n ? (n + cols - 1) / cols : 1;
	/* a few panels do not stretch over the whole width */
	double pw = fmin(MAX_PANEL_W, (*w - 2 * FIG_MARGIN - BAR_W_EST) / cols);
	*w = ceil(2 * FIG_MARGIN + cols * pw + BAR_W_EST);
	*h = ceil(2 * FIG_MARGIN + TITLE_H + rows * row_h(pw));
}

int fig_f6_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                struct hus_err *err)
{
	struct hm hm[MAXP];
	size_t np = collect(r, hm);
	if (!np) {
		snprintf(skip, nskip, "results.json has no seed-by-seed 'pairwise' lists");
		return 1;
	}
	double *m[MAXP] = { 0 };
	int64_t *seeds[MAXP] = { 0 };
	size_t ns[MAXP] = { 0 };
	int rc = 0;
	double vlo = NAN, vhi = NAN;
	for (size_t i = 0; i < np; i++) {
		rc = rep_pairwise_matrix(r, hm[i].list, hm[i].path, &m[i], &seeds[i], &ns[i], err);
		if (rc < 0)
			goto cleanup;
		rc = 0;
		fig_range(m[i], ns[i] * ns[i], &vlo, &vhi);
	}
	/* enough decimals to tell the cells apart: one more than the spread needs */
	int digits = 3;
	if (vhi > vlo)
		digits = (int)fmin(5, fmax(2, ceil(-log10(vhi - vlo)) + 1));
	char fmt[24];
	snprintf(fmt, sizeof(fmt), "%%.%df", digits);
	fig_set_colour(c->cr, FIG_BLACK, 1);
	fig_text(c->cr, 0, 0, "Seed × seed PWMCC", FIG_PT_TITLE, 0, 0, 0);
	/* measure, then draw: the colour bar's labels decide how much width the panels get */
	double bar_w = fig_colorbar_width(c->cr, BAR_STRIP, vlo, vhi, "PWMCC") + 6;
	size_t cols = per_row(c->w, np);
	double pw = (c->w - bar_w) / cols, rh = row_h((c->w - BAR_W_EST) / cols);
	double bar_y = TITLE_H + 20, bar_h = 60;
	for (size_t i = 0; i < np; i++) {
		size_t row = i / cols, col = i % cols, n = ns[i];
		struct fig_panel p;
		fig_panel_init(&p, col * pw, TITLE_H + row * rh, pw, rh);
		rep_strcpy(p.title, sizeof(p.title), hm[i].title);
		const char *lab[FIG_MAX_TICKS];
		char buf[FIG_MAX_TICKS][24];
		for (size_t k = 0; k < n && k < FIG_MAX_TICKS; k++) {
			snprintf(buf[k], sizeof(buf[k]), "%lld", (long long)seeds[i][k]);
			lab[k] = buf[k];
		}
		fig_panel_xcategories(&p, lab, n < FIG_MAX_TICKS ? n : FIG_MAX_TICKS);
		memset(&p.yt, 0, sizeof(p.yt));
		for (size_t k = 0; k < n && k < FIG_MAX_TICKS; k++) { /* row 0 on top */
			p.yt.v[k] = (double)(n - 1 - k);
			rep_strcpy(p.yt.label[k], sizeof(p.yt.label[k]), buf[k]);
			p.yt.n++;
		}
		fig_scale_set(&p.ys, -0.5, (double)n - 0.5, 0);
		snprintf(p.xlabel, sizeof(p.xlabel), "seed");
		p.no_grid = 1;
		fig_panel_layout(&p, c->cr);
		double side = fmin(p.w, p.h); /* square cells */
		p.w = p.h = side;
		p.xs.d1 = p.x + side;
		p.ys.d0 = p.y + side;
		fig_heatmap(c, &p, m[i], n, vlo, vhi, fmt);
		fig_axes_draw(&p, c);
		if (i == 0) { /* the bar spans the first row's heatmap */
			bar_y = p.y;
			bar_h = side;
		}
	}
	fig_colorbar(c, c->w - bar_w + 6, bar_y, BAR_STRIP, bar_h, vlo, vhi, "PWMCC");
cleanup:
	for (size_t i = 0; i < np; i++) {
		free(m[i]);
		free(seeds[i]);
	}
	return rc;
}
