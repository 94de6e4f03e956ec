/*
 * fig_f11_pwmcc_vs_truth.c — F11, cross-seed PW-MCC against MCC to the planted truth (run kind planted,
 * issue 21; docs/formulas.md §10.2): one marker per (architecture, seed) at the seed's
 * MCC to the true dictionary and its mean PW-MCC to the other seeds, one colour per
 * architecture, one more at the architecture's mean with its label, the y = x diagonal, and
 * the across-seed Spearman correlation from results.json in the title.  Everything drawn is
 * read from results.json (conditions[].per_seed, mcc_truth_mean, trained_pwmcc.mean,
 * correlation_pwmcc_mcc).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MAXC 8
#define MAXS 64

int fig_f11_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                 struct hus_err *err)
{
	(void)err;
	static const int colours[MAXC] = { FIG_BLUE, FIG_ORANGE, FIG_GREEN, FIG_VERMILION,
					   FIG_PURPLE, FIG_SKY, FIG_YELLOW, FIG_BLACK };
	hj *conds = hj_get(r->res, RJK_CONDITIONS);
	size_t nc = conds && hj_is_arr(conds) ? hj_len(conds) : 0;
	if (!nc) {
		snprintf(skip, nskip, "results.json has no 'conditions' with a planted truth");
		return 1;
	}
	if (nc > MAXC)
		nc = MAXC;
	double sx[MAXC][MAXS], sy[MAXC][MAXS], mx[MAXC], my[MAXC];
	size_t ns[MAXC];
	const char *names[MAXC];
	double all[2 * MAXC * (MAXS + 1)];
	size_t na = 0;
	for (size_t i = 0; i < nc; i++) {
		hj *rec = hj_at(conds, i), *per = hj_get(rec, RJK_PER_SEED);
		names[i] = hj_get_str(rec, RJK_CONDITION);
		if (!names[i])
			names[i] = "?";
		mx[i] = NAN;
		my[i] = NAN;
		hj_get_f64(rec, RJK_MCC_TRUTH_MEAN, &mx[i]);
		hj_get_f64(rec, RJ_PATH2(RJK_TRAINED_PWMCC, RJK_MEAN), &my[i]);
		ns[i] = 0;
		for (size_t s = 0; per && s < hj_len(per) && s < MAXS; s++) {
			double x = NAN, y = NAN;
			hj_get_f64(hj_at(per, s), RJK_MCC_TRUTH, &x);
			hj_get_f64(hj_at(per, s), RJK_PWMCC_MEAN_TO_OTHERS, &y);
			sx[i][ns[i]] = x;
			sy[i][ns[i]] = y;
			ns[i]++;
			all[na++] = x;
			all[na++] = y;
		}
		all[na++] = mx[i];
		all[na++] = my[i];
	}
	double lo = NAN, hi = NAN;
	fig_range(all, na, &lo, &hi);
	if (!isfinite(lo) || !isfinite(hi)) {
		snprintf(skip, nskip, "no finite MCC or PW-MCC in results.json");
		return 1;
	}
	double sp = NAN;
	hj_get_f64(r->res, RJ_PATH3(RJK_CORRELATION_PWMCC_MCC, RJK_ACROSS_SEEDS, RJK_SPEARMAN), &sp);
	struct fig_panel p;
	fig_panel_init(&p, 0, 0, c->w, c->h);
	if (isfinite(sp))
		snprintf(p.title, sizeof(p.title), "PW-MCC vs truth (Spearman %.2f over seeds)", sp);
	else
		snprintf(p.title, sizeof(p.title), "PW-MCC vs truth");
	snprintf(p.xlabel, sizeof(p.xlabel), "MCC to the planted dictionary");
	snprintf(p.ylabel, sizeof(p.ylabel), "cross-seed PW-MCC");
	fig_panel_xrange(&p, lo, hi, 0);
	fig_panel_yrange(&p, lo, hi);
	struct fig_legend_entry leg[MAXC];
	for (size_t i = 0; i < nc; i++)
		leg[i] = (struct fig_legend_entry){ names[i], colours[i], FIG_KEY_MARKER };
	fig_legend_reserve(&p, c->cr, leg, nc);
	fig_panel_layout(&p, c->cr);
	fig_axes_draw(&p, c);
	fig_legend_draw(&p, c->cr, leg, nc);
	double dx[2] = { lo, hi }, dy[2] = { lo, hi };
	fig_line(c, &p.xs, &p.ys, dx, dy, 2, FIG_GREY, 1); /* y = x */
	for (size_t i = 0; i < nc; i++) {
		fig_markers(c, &p.xs, &p.ys, sx[i], sy[i], ns[i], colours[i], (int)i);
		fig_markers(c, &p.xs, &p.ys, &mx[i], &my[i], 1, colours[i], (int)i);
	}
	for (size_t i = 0; i < nc; i++) { /* labels last, clear of each other (plot/annot.c) */
		if (isfinite(mx[i]) && isfinite(my[i]))
			fig_annot_clear(c, &p, mx[i], my[i], names[i]);
	}
	return 0;
}
