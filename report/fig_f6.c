/*
 * fig_f6.c — F6, seed x seed PWMCC heatmaps, annotated with each value (docs/formulas.md §7.3 paper
 * figure 1, data-driven).  Sources, in order: phase4a trained/random/controls.r2 summaries'
 * "pairwise" lists; for sweeps, each record's trained_pwmcc.pairwise (or the record's own
 * "pairwise").  One colour scale across panels (data min to max), four panels per row.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAXP 12
#define PER_ROW 4
#define ROW_H 145.0
#define BAR_W 46.0

struct hm {
	char title[96], path[160];
	hj *list;
};

static size_t collect(const struct rep_run *r, struct hm *h)
{
	size_t n = 0;
	if (r->kind == REP_PHASE4A || r->kind == REP_SMOKE || r->kind == REP_DEMO) {
		static const char *const keys[] = { "trained", "random", "controls.r2" };
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
	static const char *const lists[] = { "k_sweep", "d_sae_sweep", "search_records", "records",
		                              "retrain_record" };
	for (size_t li = 0; li < sizeof(lists) / sizeof(lists[0]); li++) {
		hj *a = hj_get(r->res, lists[li]);
		if (!a)
			continue;
		size_t m = hj_is_arr(a) ? hj_len(a) : 1;
		for (size_t i = 0; i < m && n < MAXP; i++) {
			hj *rec = hj_is_arr(a) ? hj_at(a, i) : a;
			char base[96];
			if (hj_is_arr(a))
				snprintf(base, sizeof(base), "%s.%zu", lists[li], i);
			else
				snprintf(base, sizeof(base), "%s", lists[li]);
			hj *l = hj_get(rec, "trained_pwmcc.pairwise");
			const char *sub = "trained_pwmcc.pairwise";
			if (!l) {
				l = hj_get(rec, "pairwise");
				sub = "pairwise";
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
	size_t n = collect(r, hm);
	size_t rows = n ? (n + PER_ROW - 1) / PER_ROW : 1;
	size_t cols = n < PER_ROW ? (n ? n : 1) : PER_ROW;
	*w = cols * 126.0 + BAR_W;
	*h = 16 + rows * ROW_H;
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
	double pw = (c->w - BAR_W) / (np < PER_ROW ? np : PER_ROW);
	for (size_t i = 0; i < np; i++) {
		size_t row = i / PER_ROW, col = i % PER_ROW, n = ns[i];
		struct fig_panel p;
		fig_panel_init(&p, col * pw, 16 + row * ROW_H, pw, ROW_H);
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
	}
	fig_colorbar(c, c->w - BAR_W + 6, 36, 8, ROW_H - 70, vlo, vhi, "PWMCC");
cleanup:
	for (size_t i = 0; i < np; i++) {
		free(m[i]);
		free(seeds[i]);
	}
	return rc;
}
