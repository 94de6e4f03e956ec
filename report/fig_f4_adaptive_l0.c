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
	int rc = rep_records(r, r->res, "", "search_records", 1, &recs, err);
	if (rc)
		return rc;
	size_t n = hj_len(recs), nev = 0;
	if (!n) {
		snprintf(skip, nskip, "results.json has an empty 'search_records' list");
		return 1;
	}
	size_t *order = malloc(n * sizeof(*order));
	double *x = rep_nan_alloc(n), *tm = rep_nan_alloc(n), *tl = rep_nan_alloc(n),
	       *th = rep_nan_alloc(n), *rm = rep_nan_alloc(n), *rl = rep_nan_alloc(n),
	       *rh = rep_nan_alloc(n), *lcb = rep_nan_alloc(n), *dl = rep_nan_alloc(n),
	       *ev = rep_nan_alloc(n);
	double sel = NAN, floor_ev = NAN, zero = 0;
	if (!order || !x || !tm || !tl || !th || !rm || !rl || !rh || !lcb || !dl || !ev) {
		rc = hus_errf(err, HUS_ENOMEM, r->results_path, "search_records", "out of memory");
		goto cleanup;
	}
	const char *P = "search_records";
	hj *selo = hj_get(r->res, "selection");
	if ((rc = rep_rec_order(r, recs, P, "k", x, order, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, "trained_pwmcc", 1, tm, tl, th, NULL, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, "random_pwmcc", 1, rm, rl, rh, NULL, err)) ||
	    (rc = rep_rec_num(r, recs, P, order, n, "delta_pwmcc_ci_low_conservative", 1, lcb, NULL, err)) ||
	    (rc = rep_rec_num(r, recs, P, order, n, "delta_pwmcc", 1, dl, NULL, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, "explained_variance", 0, ev, NULL, NULL, &nev, err)) ||
	    (rc = rep_num(r, selo, "selection", "selected_k", 0, &sel, err)) ||
	    (rc = rep_num(r, selo, "selection", "ev_floor", 0, &floor_ev, err)))
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
	fig_panel_init(&a, 0, 0, c->w, split);
	snprintf(a.title, sizeof(a.title), "Adaptive L0: search over k");
	snprintf(a.ylabel, sizeof(a.ylabel), "PWMCC");
	fig_panel_xrange(&a, xlo, xhi, 1);
	fig_panel_yrange(&a, lo, hi);
	if (nev) { /* same right margin in both panels so the x axes line up */
		fig_panel_y2range(&a, elo, ehi);
		snprintf(a.y2label, sizeof(a.y2label), "explained variance");
	}
	struct fig_legend_entry la[] = {
		{ "trained", FIG_C_TRAINED, FIG_KEY_BAND },
		{ "random R1", FIG_C_R1, FIG_KEY_BAND },
	};
	fig_legend_reserve(&a, c->cr, la, 2);
	fig_panel_layout(&a, c->cr);
	a.has_y2 = 0; /* margin kept, axis not drawn */
	fig_axes_draw(&a, c);
	fig_legend_draw(&a, c->cr, la, 2);
	fig_series(c, "trained");
	fig_band(c, &a.xs, &a.ys, x, tl, th, n, FIG_C_TRAINED);
	fig_line(c, &a.xs, &a.ys, x, tm, n, FIG_C_TRAINED, 0);
	fig_markers(c, &a.xs, &a.ys, x, tm, n, FIG_C_TRAINED, 0);
	fig_series(c, "random R1");
	fig_band(c, &a.xs, &a.ys, x, rl, rh, n, FIG_C_R1);
	fig_line(c, &a.xs, &a.ys, x, rm, n, FIG_C_R1, 0);
	fig_markers(c, &a.xs, &a.ys, x, rm, n, FIG_C_R1, 1);
	fig_series(c, NULL);
	if (isfinite(sel))
		fig_vline(c, &a, sel, FIG_BLACK, 1, sel_label);

	fig_panel_init(&b, 0, split, c->w, c->h - split);
	snprintf(b.xlabel, sizeof(b.xlabel), "k (log₂ axis)");
	snprintf(b.ylabel, sizeof(b.ylabel), "Δ PWMCC");
	fig_panel_xrange(&b, xlo, xhi, 1);
	fig_panel_yrange(&b, dlo, dhi);
	if (nev) {
		fig_panel_y2range(&b, elo, ehi);
		snprintf(b.y2label, sizeof(b.y2label), "explained variance");
	}
	struct fig_legend_entry lb[] = {
		{ "conservative LCB", FIG_C_LCB, FIG_KEY_LINE_MARKER },
		{ "delta", FIG_C_LCB, FIG_KEY_DASH },
		{ "EV (right)", FIG_C_EV, FIG_KEY_LINE_MARKER },
		{ "EV floor", FIG_C_EV, FIG_KEY_DASH },
	};
	size_t nlb = nev ? (isfinite(floor_ev) ? 4 : 3) : 2;
	fig_legend_reserve(&b, c->cr, lb, nlb);
	fig_panel_layout(&b, c->cr);
	fig_axes_draw(&b, c);
	fig_legend_draw(&b, c->cr, lb, nlb);
	fig_hline(c, &b, &b.ys, 0, FIG_GREY, 0, "");
	fig_series(c, "conservative LCB");
	fig_line(c, &b.xs, &b.ys, x, lcb, n, FIG_C_LCB, 0);
	fig_markers(c, &b.xs, &b.ys, x, lcb, n, FIG_C_LCB, 2);
	fig_series(c, "delta");
	fig_line(c, &b.xs, &b.ys, x, dl, n, FIG_C_LCB, 1);
	if (nev) {
		fig_series(c, "EV (right)");
		fig_line(c, &b.xs, &b.y2s, x, ev, n, FIG_C_EV, 0);
		fig_markers(c, &b.xs, &b.y2s, x, ev, n, FIG_C_EV, 3);
		if (isfinite(floor_ev)) {
			fig_series(c, "EV floor");
			fig_hline(c, &b, &b.y2s, floor_ev, FIG_C_EV, 1, "EV floor");
		}
	}
	fig_series(c, NULL);
	if (isfinite(sel))
		fig_vline(c, &b, sel, FIG_BLACK, 1, "");
cleanup:
	free(order);
	free(x);
	free(tm);
	free(tl);
	free(th);
	free(rm);
	free(rl);
	free(rh);
	free(lcb);
	free(dl);
	free(ev);
	return rc;
}
