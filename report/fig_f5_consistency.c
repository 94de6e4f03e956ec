/*
 * fig_f5_consistency.c — F5, the consistency-objective sweep (docs/formulas.md §6.5, §7.3 F5).  Top: delta PWMCC and
 * its conservative LCB against λ (linear axis: λ = 0 is a condition) with a zero line and EV
 * on the right axis.  Bottom: alignment_to_ref mean with its 95% CI band.  The selected λ
 * (selection.selected_lambda) is marked.  Reads records and selection.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

int fig_f5_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                struct hus_err *err)
{
	hj *recs;
	size_t n, nev = 0, nal = 0;
	int rc = rep_rec_list(r, RJK_RECORDS, &recs, &n, skip, nskip, err);
	if (rc)
		return rc;
	size_t *order = malloc(n * sizeof(*order));
	double *x, *dl, *lcb, *ev, *am, *al, *ah;
	double *cols = rep_nan_columns(n, (double **const[]){ &x, &dl, &lcb, &ev, &am, &al, &ah,
		                                              NULL });
	double sel = NAN, zero = 0;
	if (!order || !cols) {
		rc = hus_errf(err, HUS_ENOMEM, r->results_path, RJK_RECORDS, "out of memory");
		goto cleanup;
	}
	const char *P = RJK_RECORDS;
	if ((rc = rep_rec_order(r, recs, P, RJK_LAMBDA_CONSISTENCY, x, order, err)) ||
	    (rc = rep_rec_num(r, recs, P, order, n, RJK_DELTA_PWMCC, 1, dl, NULL, err)) ||
	    (rc = rep_rec_num(r, recs, P, order, n, RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE, 0, lcb, NULL, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, RJK_EXPLAINED_VARIANCE, 0, ev, NULL, NULL, &nev, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, RJK_ALIGNMENT_TO_REF, 0, am, al, ah, &nal, err)) ||
	    (rc = rep_num(r, hj_get(r->res, RJK_SELECTION), RJK_SELECTION, RJK_SELECTED_LAMBDA, 0, &sel, err)))
		goto cleanup;

	double xlo = NAN, xhi = NAN, dlo = NAN, dhi = NAN, elo = NAN, ehi = NAN, alo = NAN, ahi = NAN;
	fig_range(x, n, &xlo, &xhi);
	fig_range(dl, n, &dlo, &dhi);
	fig_range(lcb, n, &dlo, &dhi);
	fig_range(&zero, 1, &dlo, &dhi);
	fig_range(ev, n, &elo, &ehi);
	fig_range(am, n, &alo, &ahi);
	fig_range(al, n, &alo, &ahi);
	fig_range(ah, n, &alo, &ahi);
	char sel_label[48] = "";
	if (isfinite(sel))
		snprintf(sel_label, sizeof(sel_label), "selected λ = %g", sel);

	struct fig_panel a, b;
	double split = nal ? c->h * 0.55 : c->h;
	const char *xlabel = "λ (consistency weight)"; /* under the lowest panel */
	struct fig_legend_entry la[] = {
		{ "delta (trained − random)", FIG_C_TRAINED, FIG_KEY_LINE_MARKER },
		{ "conservative LCB", FIG_C_LCB, FIG_KEY_LINE_MARKER },
		{ "EV (right)", FIG_C_EV, FIG_KEY_LINE_MARKER },
	};
	size_t nla = nev ? 3 : 2;
	fig_sweep_panel(c, &a, 0, split,
	                &(struct fig_panel_spec){ .title = "Consistency objective sweep",
	                                          .xlabel = nal ? NULL : xlabel,
	                                          .ylabel = "Δ PWMCC", .xlo = xlo, .xhi = xhi,
	                                          .ylo = dlo, .yhi = dhi },
	                nev ? REP_EV_AXIS : REP_EV_NONE, elo, ehi, la, nla);
	fig_hline(c, &a, &a.ys, 0, FIG_GREY, 0, "");
	fig_series(c, la[0].label);
	fig_line(c, &a.xs, &a.ys, x, dl, n, FIG_C_TRAINED, 0);
	fig_markers(c, &a.xs, &a.ys, x, dl, n, FIG_C_TRAINED, 0);
	fig_series(c, la[1].label);
	fig_line(c, &a.xs, &a.ys, x, lcb, n, FIG_C_LCB, 0);
	fig_markers(c, &a.xs, &a.ys, x, lcb, n, FIG_C_LCB, 1);
	if (nev)
		fig_sweep_ev(c, &a, x, ev, n, 2);
	fig_sweep_selected(c, &a, sel, sel_label);

	if (nal) {
		struct fig_legend_entry lb[] = {
			{ "alignment to reference, 95% CI", FIG_C_ALIGN, FIG_KEY_BAND },
		};
		/* the EV axis's margin kept, so the x axes line up with the top panel */
		fig_sweep_panel(c, &b, split, c->h - split,
		                &(struct fig_panel_spec){ .xlabel = xlabel, .ylabel = "alignment to ref",
		                                          .xlo = xlo, .xhi = xhi, .ylo = alo, .yhi = ahi },
		                nev ? REP_EV_MARGIN : REP_EV_NONE, elo, ehi, lb, 1);
		fig_series(c, lb[0].label);
		fig_band(c, &b.xs, &b.ys, x, al, ah, n, FIG_C_ALIGN);
		fig_line(c, &b.xs, &b.ys, x, am, n, FIG_C_ALIGN, 0);
		fig_markers(c, &b.xs, &b.ys, x, am, n, FIG_C_ALIGN, 3);
		fig_sweep_selected(c, &b, sel, "");
	}
cleanup:
	free(order);
	free(cols);
	return rc;
}
