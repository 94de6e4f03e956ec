/*
 * fig_f4_adaptive_l0.c — F4, adaptive L0 calibration (docs/formulas.md §6.4, §7.3 F4).  Top: trained and random mean
 * PWMCC with 95% CI bands against k (log2).  Bottom: the conservative LCB
 * (delta_pwmcc_ci_low_conservative) and delta against k with a zero line, EV on the right axis
 * with the EV floor (selection.ev_floor).  The selected k (selection.selected_k) is marked in
 * both.  Reads search_records and selection.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

int fig_f4_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                struct hus_err *err)
{
	hj *recs;
	size_t n, nev = 0;
	int rc = rep_rec_list(r, RJK_SEARCH_RECORDS, &recs, &n, skip, nskip, err);
	if (rc)
		return rc;
	size_t *order = malloc(n * sizeof(*order));
	double *x, *tm, *tl, *th, *rm, *rl, *rh, *lcb, *dl, *ev;
	double *cols = rep_nan_columns(n, (double **const[]){ &x, &tm, &tl, &th, &rm, &rl, &rh, &lcb,
		                                              &dl, &ev, NULL });
	double sel = NAN, floor_ev = NAN, zero = 0;
	if (!order || !cols) {
		rc = hus_errf(err, HUS_ENOMEM, r->results_path, RJK_SEARCH_RECORDS, "out of memory");
		goto cleanup;
	}
	const char *P = RJK_SEARCH_RECORDS;
	hj *selo = hj_get(r->res, RJK_SELECTION);
	if ((rc = rep_rec_order(r, recs, P, RJK_K, x, order, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, RJK_TRAINED_PWMCC, 1, tm, tl, th, NULL, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, RJK_RANDOM_PWMCC, 1, rm, rl, rh, NULL, err)) ||
	    (rc = rep_rec_num(r, recs, P, order, n, RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE, 1, lcb, NULL, err)) ||
	    (rc = rep_rec_num(r, recs, P, order, n, RJK_DELTA_PWMCC, 1, dl, NULL, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, RJK_EXPLAINED_VARIANCE, 0, ev, NULL, NULL, &nev, err)) ||
	    (rc = rep_num(r, selo, RJK_SELECTION, RJK_SELECTED_K, 0, &sel, err)) ||
	    (rc = rep_num(r, selo, RJK_SELECTION, RJK_EV_FLOOR, 0, &floor_ev, err)))
		goto cleanup;

	double xlo = NAN, xhi = NAN, lo = NAN, hi = NAN, dlo = NAN, dhi = NAN, elo = NAN, ehi = NAN;
	fig_range(x, n, &xlo, &xhi);
	fig_range(tl, n, &lo, &hi);
	fig_range(th, n, &lo, &hi);
	fig_range(rl, n, &lo, &hi);
	fig_range(rh, n, &lo, &hi);
	fig_range(tm, n, &lo, &hi);
	fig_range(rm, n, &lo, &hi);
	fig_range(lcb, n, &dlo, &dhi);
	fig_range(dl, n, &dlo, &dhi);
	fig_range(&zero, 1, &dlo, &dhi);
	fig_range(ev, n, &elo, &ehi);
	fig_range(&floor_ev, 1, &elo, &ehi);

	char sel_label[48] = "";
	if (isfinite(sel))
		snprintf(sel_label, sizeof(sel_label), "selected k = %g", sel);

	struct fig_panel a, b;
	double split = c->h * 0.5;
	struct fig_legend_entry la[] = {
		{ "trained", FIG_C_TRAINED, FIG_KEY_BAND }, /* words, not a results.json key */
		{ "random R1", FIG_C_R1, FIG_KEY_BAND },
	};
	/* the EV axis's margin in the top panel too, so the x axes line up */
	fig_sweep_panel(c, &a, 0, split,
	                &(struct fig_panel_spec){ .title = "Adaptive L0: search over k",
	                                          .ylabel = "PWMCC", .xlo = xlo, .xhi = xhi,
	                                          .log2 = 1, .ylo = lo, .yhi = hi },
	                nev ? REP_EV_MARGIN : REP_EV_NONE, elo, ehi, la, 2);
	fig_series(c, la[0].label);
	fig_band(c, &a.xs, &a.ys, x, tl, th, n, FIG_C_TRAINED);
	fig_line(c, &a.xs, &a.ys, x, tm, n, FIG_C_TRAINED, 0);
	fig_markers(c, &a.xs, &a.ys, x, tm, n, FIG_C_TRAINED, 0);
	fig_series(c, la[1].label);
	fig_band(c, &a.xs, &a.ys, x, rl, rh, n, FIG_C_R1);
	fig_line(c, &a.xs, &a.ys, x, rm, n, FIG_C_R1, 0);
	fig_markers(c, &a.xs, &a.ys, x, rm, n, FIG_C_R1, 1);
	fig_sweep_selected(c, &a, sel, sel_label);

	struct fig_legend_entry lb[] = {
		{ "conservative LCB", FIG_C_LCB, FIG_KEY_LINE_MARKER },
		{ "delta", FIG_C_LCB, FIG_KEY_DASH },
		{ "EV (right)", FIG_C_EV, FIG_KEY_LINE_MARKER },
		{ "EV floor", FIG_C_EV, FIG_KEY_DASH },
	};
	size_t nlb = nev ? (isfinite(floor_ev) ? 4 : 3) : 2;
	fig_sweep_panel(c, &b, split, c->h - split,
	                &(struct fig_panel_spec){ .xlabel = "k (log₂ axis)", .ylabel = "Δ PWMCC",
	                                          .xlo = xlo, .xhi = xhi, .log2 = 1, .ylo = dlo,
	                                          .yhi = dhi },
	                nev ? REP_EV_AXIS : REP_EV_NONE, elo, ehi, lb, nlb);
	fig_hline(c, &b, &b.ys, 0, FIG_GREY, 0, "");
	fig_series(c, "conservative LCB");
	fig_line(c, &b.xs, &b.ys, x, lcb, n, FIG_C_LCB, 0);
	fig_markers(c, &b.xs, &b.ys, x, lcb, n, FIG_C_LCB, 2);
	fig_series(c, "delta");
	fig_line(c, &b.xs, &b.ys, x, dl, n, FIG_C_LCB, 1);
	if (nev) {
		fig_sweep_ev(c, &b, x, ev, n, 3);
		if (isfinite(floor_ev)) {
			fig_series(c, "EV floor");
			fig_hline(c, &b, &b.y2s, floor_ev, FIG_C_EV, 1, "EV floor");
		}
	}
	fig_sweep_selected(c, &b, sel, "");
cleanup:
	free(order);
	free(cols);
	return rc;
}
