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
	int rc = rep_records(r, r->res, "", "records", 1, &recs, err);
	if (rc)
		return rc;
	size_t n = hj_len(recs), nev = 0, nal = 0;
	if (!n) {
		snprintf(skip, nskip, "results.json has an empty 'records' list");
		return 1;
	}
	size_t *order = malloc(n * sizeof(*order));
	double *x = rep_nan_alloc(n), *dl = rep_nan_alloc(n), *lcb = rep_nan_alloc(n),
	       *ev = rep_nan_alloc(n), *am = rep_nan_alloc(n), *al = rep_nan_alloc(n),
	       *ah = rep_nan_alloc(n);
	double sel = NAN, zero = 0;
	if (!order || !x || !dl || !lcb || !ev || !am || !al || !ah) {
		rc = hus_errf(err, HUS_ENOMEM, r->results_path, "records", "out of memory");
		goto cleanup;
	}
	const char *P = "records";
	if ((rc = rep_rec_order(r, recs, P, "lambda_consistency", x, order, err)) ||
	    (rc = rep_rec_num(r, recs, P, order, n, "delta_pwmcc", 1, dl, NULL, err)) ||
	    (rc = rep_rec_num(r, recs, P, order, n, "delta_pwmcc_ci_low_conservative", 0, lcb, NULL, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, "explained_variance", 0, ev, NULL, NULL, &nev, err)) ||
	    (rc = rep_rec_summary(r, recs, P, order, n, "alignment_to_ref", 0, am, al, ah, &nal, err)) ||
	    (rc = rep_num(r, hj_get(r->res, "selection"), "selection", "selected_lambda", 0, &sel, err)))
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
	fig_panel_init(&a, 0, 0, c->w, split);
	snprintf(a.title, sizeof(a.title), "Consistency objective sweep");
	snprintf(a.ylabel, sizeof(a.ylabel), "Δ PWMCC");
	if (!nal)
		snprintf(a.xlabel, sizeof(a.xlabel), "λ (consistency weight)");
	fig_panel_xrange(&a, xlo, xhi, 0);
	fig_panel_yrange(&a, dlo, dhi);
	if (nev) {
		fig_panel_y2range(&a, elo, ehi);
		snprintf(a.y2label, sizeof(a.y2label), "explained variance");
	}
	struct fig_legend_entry la[] = {
		{ "delta (trained − random)", FIG_C_TRAINED, FIG_KEY_LINE_MARKER },
		{ "conservative LCB", FIG_C_LCB, FIG_KEY_LINE_MARKER },
		{ "EV (right)", FIG_C_EV, FIG_KEY_LINE_MARKER },
	};
	size_t nla = nev ? 3 : 2;
	fig_legend_reserve(&a, c->cr, la, nla);
	fig_panel_layout(&a, c->cr);
	fig_axes_draw(&a, c);
	fig_legend_draw(&a, c->cr, la, nla);
	fig_hline(c, &a, &a.ys, 0, FIG_GREY, 0, "");
	fig_series(c, la[0].label);
	fig_line(c, &a.xs, &a.ys, x, dl, n, FIG_C_TRAINED, 0);
	fig_markers(c, &a.xs, &a.ys, x, dl, n, FIG_C_TRAINED, 0);
	fig_series(c, la[1].label);
	fig_line(c, &a.xs, &a.ys, x, lcb, n, FIG_C_LCB, 0);
	fig_markers(c, &a.xs, &a.ys, x, lcb, n, FIG_C_LCB, 1);
	if (nev) {
		fig_series(c, la[2].label);
		fig_line(c, &a.xs, &a.y2s, x, ev, n, FIG_C_EV, 0);
		fig_markers(c, &a.xs, &a.y2s, x, ev, n, FIG_C_EV, 2);
	}
	fig_series(c, NULL);
	if (isfinite(sel))
		fig_vline(c, &a, sel, FIG_BLACK, 1, sel_label);

	if (nal) {
		fig_panel_init(&b, 0, split, c->w, c->h - split);
		snprintf(b.xlabel, sizeof(b.xlabel), "λ (consistency weight)");
		snprintf(b.ylabel, sizeof(b.ylabel), "alignment to ref");
		fig_panel_xrange(&b, xlo, xhi, 0);
		fig_panel_yrange(&b, alo, ahi);
		if (nev) { /* keep the x axes aligned with the top panel */
			fig_panel_y2range(&b, elo, ehi);
			snprintf(b.y2label, sizeof(b.y2label), "explained variance");
		}
		struct fig_legend_entry lb[] = {
			{ "alignment to reference, 95% CI", FIG_C_ALIGN, FIG_KEY_BAND },
		};
		fig_legend_reserve(&b, c->cr, lb, 1);
		fig_panel_layout(&b, c->cr);
		b.has_y2 = 0;
		fig_axes_draw(&b, c);
		fig_legend_draw(&b, c->cr, lb, 1);
		fig_series(c, lb[0].label);
		fig_band(c, &b.xs, &b.ys, x, al, ah, n, FIG_C_ALIGN);
		fig_line(c, &b.xs, &b.ys, x, am, n, FIG_C_ALIGN, 0);
		fig_markers(c, &b.xs, &b.ys, x, am, n, FIG_C_ALIGN, 3);
		fig_series(c, NULL);
		if (isfinite(sel))
			fig_vline(c, &b, sel, FIG_BLACK, 1, "");
	}
cleanup:
	free(order);
	free(x);
	free(dl);
	free(lcb);
	free(ev);
	free(am);
	free(al);
	free(ah);
	return rc;
}
