/*
 * fig_f1_trained_vs_random.c — F1, phase 4a (docs/formulas.md §6.2, §7.3 F1; also smoke/demo runs that compare): for trained, random (R1) and, when present,
 * the R2 control: a violin and every pairwise PWMCC as a jittered point, beside the mean with
 * its 95% bootstrap CI whisker; the analytic null (docs/decisions.md §8) as a dashed line.  Reads
 * trained, random, controls.r2, controls.analytic_null.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

#define MAXG 3

int fig_f1_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                struct hus_err *err)
{
	struct rep_summary s[MAXG];
	memset(s, 0, sizeof(s));
	const char *labels[MAXG] = { "Trained", "Random (R1)", "Untrained (R2)" };
	const int colours[MAXG] = { FIG_C_TRAINED, FIG_C_R1, FIG_C_R2 };
	size_t ng = 2;
	double null = NAN;
	/* required in phase 4a; a smoke or demo run may not have compared anything */
	if (r->kind != REP_PHASE4A && (!hj_get(r->res, RJK_TRAINED) || !hj_get(r->res, RJK_RANDOM))) {
		snprintf(skip, nskip, "results.json has no 'trained' and 'random' summaries");
		return 1;
	}
	int rc = rep_summary_get(r, r->res, "", RJK_TRAINED, 1, &s[0], err);
	if (!rc)
		rc = rep_summary_get(r, r->res, "", RJK_RANDOM, 1, &s[1], err);
	hj *ctrl = hj_get(r->res, RJK_CONTROLS);
	if (!rc) {
		rc = rep_summary_get(r, ctrl, RJK_CONTROLS, RJK_R2, 0, &s[2], err);
		if (rc == 1) {
			rc = 0;
		} else if (!rc) {
			ng = 3;
		}
	}
	if (!rc)
		rc = rep_num(r, ctrl, RJK_CONTROLS, RJK_ANALYTIC_NULL, 0, &null, err);
	if (rc)
		goto cleanup;

	double lo = NAN, hi = NAN;
	for (size_t g = 0; g < ng; g++) {
		double v[3] = { s[g].mean, s[g].lo, s[g].hi };
		fig_range(v, 3, &lo, &hi);
		fig_range(s[g].values, s[g].nvalues, &lo, &hi);
	}
	fig_range(&null, 1, &lo, &hi);

	struct fig_panel p;
	fig_panel_init(&p, 0, 0, c->w, c->h);
	if (r->kind == REP_PHASE4A)
		snprintf(p.title, sizeof(p.title), "Phase 4a: trained vs random PWMCC");
	else
		snprintf(p.title, sizeof(p.title), "Trained vs random PWMCC (%s run)", rep_kind_name(r->kind));
	snprintf(p.ylabel, sizeof(p.ylabel), "PWMCC");
	fig_panel_xcategories(&p, labels, ng);
	fig_panel_yrange(&p, lo, hi);
	struct fig_legend_entry leg[3] = {
		{ "mean, 95% CI", FIG_BLACK, FIG_KEY_LINE_MARKER },
		{ "pairwise values", FIG_GREY, FIG_KEY_MARKER },
		{ "analytic null", FIG_C_NULL, FIG_KEY_DASH },
	};
	size_t nleg = isfinite(null) ? 3 : 2;
	fig_legend_reserve(&p, c->cr, leg, nleg);
	fig_panel_layout(&p, c->cr);
	fig_axes_draw(&p, c);
	fig_legend_draw(&p, c->cr, leg, nleg);
	if (isfinite(null)) {
		fig_series(c, "analytic null");
		fig_hline(c, &p, &p.ys, null, FIG_C_NULL, 1, "");
	}
	for (size_t g = 0; g < ng; g++) {
		fig_series(c, labels[g]); /* each group is its own series (plot/overlap.c) */
		double xp = (double)g - 0.15, xm = (double)g + 0.22;
		if (s[g].nvalues >= 5) /* a density needs more than a handful */
			fig_violin(c, &p.xs, &p.ys, xp, 0.2, s[g].values, s[g].nvalues, colours[g]);
		fig_jitter(c, &p.xs, &p.ys, xp, 0.1, s[g].values, s[g].nvalues, 42 + (uint32_t)g,
		           colours[g], 10 + (int)g);
		fig_errbars(c, &p.xs, &p.ys, &xm, &s[g].lo, &s[g].hi, 1, FIG_BLACK, 2.5,
		            FIG_VERTICAL);
		fig_markers(c, &p.xs, &p.ys, &xm, &s[g].mean, 1, FIG_BLACK, (int)g);
	}
	fig_series(c, NULL);
cleanup:
	for (size_t g = 0; g < MAXG; g++)
		rep_summary_release(&s[g]);
	return rc;
}
