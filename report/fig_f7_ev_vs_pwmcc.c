/*
 * fig_f7_ev_vs_pwmcc.c — F7, explained variance against trained PWMCC, one point per condition with 95%
 * CI whiskers on both axes and the condition's label (docs/formulas.md §7.3 "reconstruction stability",
 * here read entirely from the run: explained_variance and trained_pwmcc of every record in
 * k_sweep, d_sae_sweep, search_records, retrain_record or records).
 */
#include <math.h>
#include <string.h>

#include "internal.h"

#define MAXPTS 64

int fig_f7_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                struct hus_err *err)
{
	static const char *const lists[] = { RJK_K_SWEEP, RJK_D_SAE_SWEEP, RJK_SEARCH_RECORDS,
		                             RJK_RETRAIN_RECORD, RJK_RECORDS };
	static const int colours[] = { FIG_BLUE, FIG_ORANGE, FIG_BLUE, FIG_VERMILION, FIG_BLUE };
	static const char *const names[] = { "k sweep", "d_sae sweep", "search", "retrain",
		                             "λ sweep" };
	double ex[MAXPTS], el[MAXPTS], eh[MAXPTS], py[MAXPTS], pl[MAXPTS], ph[MAXPTS];
	int col[MAXPTS];
	char lab[MAXPTS][48];
	size_t n = 0;
	int used[5] = { 0 };
	for (size_t li = 0; li < 5; li++) {
		char base[64];
		hj *rec;
		for (size_t i = 0;
		     n < MAXPTS && (rec = rep_rec_each(r->res, lists[li], i, base, sizeof(base))); i++) {
			struct rep_summary ev, tp;
			int rc = rep_summary_get(r, rec, base, RJK_EXPLAINED_VARIANCE, 0, &ev, err);
			if (rc < 0)
				return rc;
			rep_summary_release(&ev);
			if (rc == 1)
				continue;
			rc = rep_summary_get(r, rec, base, RJK_TRAINED_PWMCC, 1, &tp, err);
			if (rc)
				return rc;
			rep_summary_release(&tp);
			ex[n] = ev.mean;
			el[n] = ev.lo;
			eh[n] = ev.hi;
			py[n] = tp.mean;
			pl[n] = tp.lo;
			ph[n] = tp.hi;
			col[n] = colours[li];
			double kk = NAN, dd = NAN;
			hj_get_f64(rec, RJK_K, &kk);
			hj_get_f64(rec, RJK_D_SAE, &dd);
			if (li == 0) /* short labels: the grid fixes the other parameter */
				snprintf(lab[n], sizeof(lab[n]), "k = %g", kk);
			else if (li == 1)
				snprintf(lab[n], sizeof(lab[n]), "d_sae = %g", dd);
			else
				rep_record_label(r, rec, lab[n], sizeof(lab[n]));
			used[li] = 1;
			n++;
		}
	}
	if (!n) {
		snprintf(skip, nskip, "no record in results.json has an 'explained_variance' summary");
		return 1;
	}
	double xlo = NAN, xhi = NAN, ylo = NAN, yhi = NAN;
	fig_range(ex, n, &xlo, &xhi);
	fig_range(el, n, &xlo, &xhi);
	fig_range(eh, n, &xlo, &xhi);
	fig_range(py, n, &ylo, &yhi);
	fig_range(pl, n, &ylo, &yhi);
	fig_range(ph, n, &ylo, &yhi);
	struct fig_panel p;
	fig_panel_init(&p, 0, 0, c->w, c->h);
	snprintf(p.title, sizeof(p.title), "Reconstruction vs stability per condition");
	snprintf(p.xlabel, sizeof(p.xlabel), "%s", "explained variance (mean, 95% CI)");
	snprintf(p.ylabel, sizeof(p.ylabel), "trained PWMCC");
	fig_panel_xrange(&p, xlo, xhi, 0);
	fig_panel_yrange(&p, ylo, yhi);
	struct fig_legend_entry leg[5];
	size_t nl = 0;
	for (size_t li = 0; li < 5; li++)
		if (used[li])
			leg[nl++] = (struct fig_legend_entry){ names[li], colours[li], FIG_KEY_MARKER };
	fig_legend_reserve(&p, c->cr, leg, nl);
	fig_panel_layout(&p, c->cr);
	fig_axes_draw(&p, c);
	fig_legend_draw(&p, c->cr, leg, nl);
	for (size_t i = 0; i < n; i++) {
		fig_series(c, lab[i]); /* each condition is a series (plot/overlap.c) */
		fig_errbars(c, &p.xs, &p.ys, &ex[i], &pl[i], &ph[i], 1, FIG_GREY, 1.5,
		            FIG_VERTICAL);
		fig_errbars(c, &p.xs, &p.ys, &py[i], &el[i], &eh[i], 1, FIG_GREY, 1.5,
		            FIG_HORIZONTAL);
	}
	/* labels: the first of four places around the point that stays inside the plot and
	 * clear of the labels already placed */
	static const double anchors[4][2] = { { -0.08, 1.1 }, { 1.08, 1.1 }, { -0.08, -0.1 },
		                              { 1.08, -0.1 } };
	double boxes[MAXPTS][4];
	size_t nboxes = 0;
	for (size_t i = 0; i < n; i++) {
		fig_series(c, lab[i]);
		fig_markers(c, &p.xs, &p.ys, &ex[i], &py[i], 1, col[i], (int)i);
		fig_series(c, NULL);
		double px = fig_map(&p.xs, ex[i]), pyd = fig_map(&p.ys, py[i]), tw, th;
		if (!isfinite(px) || !isfinite(pyd))
			continue;
		fig_text_extent(c->cr, lab[i], FIG_PT_TICK - 1, &tw, &th);
		int pick = -1;
		for (int a = 0; a < 4 && pick < 0; a++) {
			double x0 = px - anchors[a][0] * tw, y0 = pyd - anchors[a][1] * th;
			if (x0 < p.x || x0 + tw > p.x + p.w || y0 < p.y || y0 + th > p.y + p.h)
				continue;
			int clash = 0;
			for (size_t b = 0; b < nboxes && !clash; b++)
				clash = x0 < boxes[b][2] && boxes[b][0] < x0 + tw && y0 < boxes[b][3] &&
				        boxes[b][1] < y0 + th;
			if (!clash)
				pick = a;
		}
		if (pick < 0)
			pick = px + tw + 2 > p.x + p.w ? 1 : 0;
		double x0 = px - anchors[pick][0] * tw, y0 = pyd - anchors[pick][1] * th;
		boxes[nboxes][0] = x0;
		boxes[nboxes][1] = y0;
		boxes[nboxes][2] = x0 + tw;
		boxes[nboxes][3] = y0 + th;
		nboxes++;
		fig_annot(c, &p.xs, &p.ys, ex[i], py[i], lab[i], anchors[pick][0], anchors[pick][1]);
	}
	return 0;
}
