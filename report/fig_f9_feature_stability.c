/*
 * fig_f9_feature_stability.c — F9, per-feature stability: for each condition in results.json
 * "per_feature_stability": {"<condition>": {"trained": [...], "control": [...]}}, the ECDF of
 * the features' best-match similarity across seeds, trained (solid) against its random
 * control (dashed), one colour per condition.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

#define MAXCOND 8

static const int palette[MAXCOND] = { FIG_BLUE, FIG_VERMILION, FIG_GREEN, FIG_ORANGE,
	                              FIG_SKY, FIG_PURPLE, FIG_BLACK, FIG_YELLOW };

int fig_f9_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                struct hus_err *err)
{
	hj *pf = hj_get(r->res, RJK_PER_FEATURE_STABILITY);
	if (!pf || (hj_is_obj(pf) && hj_len(pf) == 0)) {
		snprintf(skip, nskip, "results.json has no 'per_feature_stability'");
		return 1;
	}
	if (!hj_is_obj(pf))
		return hus_errf(err, HUS_EINPUT, r->results_path, RJK_PER_FEATURE_STABILITY,
		                "expected an object {\"<condition>\": {trained: [...], control: [...]}}");
	size_t nc = hj_len(pf);
	if (nc > MAXCOND)
		nc = MAXCOND;
	double *tv[MAXCOND] = { 0 }, *cv[MAXCOND] = { 0 };
	size_t tn[MAXCOND] = { 0 }, cn[MAXCOND] = { 0 };
	struct fig_legend_entry leg[MAXCOND + 2];
	char words[MAXCOND][96]; /* "k = 8, d_sae = 256", not the condition id (labels.c) */
	int rc = 0;
	double lo = NAN, hi = NAN;
	for (size_t i = 0; i < nc; i++) {
		hj *o;
		const char *key = hj_obj_at(pf, i, &o);
		char base[256];
		snprintf(base, sizeof(base), "per_feature_stability.%s", key);
		if (!hj_is_obj(o)) {
			rc = hus_errf(err, HUS_EINPUT, r->results_path, base,
			              "expected an object {trained: [...], control: [...]}");
			goto cleanup;
		}
		if ((rc = rep_num_array(r, o, base, RJK_TRAINED, 1, &tv[i], &tn[i], err)) ||
		    (rc = rep_num_array(r, o, base, RJK_CONTROL, 0, &cv[i], &cn[i], err)))
			goto cleanup;
		fig_range(tv[i], tn[i], &lo, &hi);
		fig_range(cv[i], cn[i], &lo, &hi);
		rep_condition_label(r, key, words[i], sizeof(words[i]));
		leg[i] = (struct fig_legend_entry){ words[i], palette[i], FIG_KEY_LINE };
	}
	leg[nc] = (struct fig_legend_entry){ "trained (solid)", FIG_GREY, FIG_KEY_LINE };
	leg[nc + 1] = (struct fig_legend_entry){ "control (dashed)", FIG_GREY, FIG_KEY_DASH };
	struct fig_panel p;
	fig_panel_init(&p, 0, 0, c->w, c->h);
	snprintf(p.title, sizeof(p.title), "Per-feature stability");
	snprintf(p.xlabel, sizeof(p.xlabel), "best-match |cos| across seeds");
	snprintf(p.ylabel, sizeof(p.ylabel), "fraction of features ≤ x");
	fig_panel_xrange(&p, lo, hi, 0);
	fig_panel_yrange(&p, 0, 1);
	fig_legend_reserve(&p, c->cr, leg, nc + 2);
	fig_panel_layout(&p, c->cr);
	fig_axes_draw(&p, c);
	fig_legend_draw(&p, c->cr, leg, nc + 2);
	for (size_t i = 0; i < nc; i++) {
		/* trained and control are series of their own: controls often coincide (the same
		 * random decoders serve every condition) and one would hide the other (plot/overlap.c) */
		char ctl[128];
		snprintf(ctl, sizeof(ctl), "%s control", leg[i].label);
		fig_series(c, leg[i].label);
		int rt = fig_ecdf(c, &p.xs, &p.ys, tv[i], tn[i], palette[i], 0);
		fig_series(c, ctl);
		if (rt < 0 || (cv[i] && fig_ecdf(c, &p.xs, &p.ys, cv[i], cn[i], palette[i], 1) < 0)) {
			rc = hus_errf(err, HUS_ENOMEM, r->results_path, RJK_PER_FEATURE_STABILITY,
			              "out of memory");
			goto cleanup;
		}
	}
	fig_series(c, NULL);
cleanup:
	for (size_t i = 0; i < nc; i++) {
		free(tv[i]);
		free(cv[i]);
	}
	return rc;
}
