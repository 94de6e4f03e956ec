/*
 * sweep.c — the core-ablation sweep plot shared by F2 (k) and F3 (d_sae), docs/formulas.md §6.3 and
 * §7.3: trained and random mean PWMCC with 95% CI bands against x on a log2 axis, the R2
 * control and the analytic null when the records carry them, and EV (explained_variance
 * mean) on a second axis.  Also the panel every sweep figure (F2-F5) is built from
 * (fig_sweep_panel: words, ranges, the EV axis, the legend), the EV series drawn on it
 * (fig_sweep_ev) and the mark of an adaptive search's selected x (fig_sweep_selected).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void fig_sweep_panel(struct fig_canvas *c, struct fig_panel *p, double oy, double oh,
                     const struct fig_panel_spec *s, enum rep_ev_axis ev, double elo, double ehi,
                     const struct fig_legend_entry *leg, size_t nl)
{
	fig_panel_open(p, 0, oy, c->w, oh, s);
	if (ev != REP_EV_NONE) {
		fig_panel_y2range(p, elo, ehi);
		snprintf(p->y2label, sizeof(p->y2label), "explained variance");
	}
	fig_legend_reserve(p, c->cr, leg, nl);
	fig_panel_layout(p, c->cr);
	if (ev == REP_EV_MARGIN)
		p->has_y2 = 0; /* margin kept, axis not drawn */
	fig_axes_draw(p, c);
	fig_legend_draw(p, c->cr, leg, nl);
}

void fig_sweep_ev(struct fig_canvas *c, const struct fig_panel *p, const double *x,
                  const double *ev, size_t n, int series)
{
	fig_series(c, "EV (right)");
	fig_line(c, &p->xs, &p->y2s, x, ev, n, FIG_C_EV, 0);
	fig_markers(c, &p->xs, &p->y2s, x, ev, n, FIG_C_EV, series);
}

void fig_sweep_selected(struct fig_canvas *c, const struct fig_panel *p, double sel,
                        const char *label)
{
	fig_series(c, NULL);
	if (isfinite(sel))
		fig_vline(c, p, sel, FIG_BLACK, 1, label);
}

int fig_sweep_draw(struct fig_canvas *c, const struct rep_run *r, const char *grid,
                   const char *xkey, char *skip, size_t nskip, struct hus_err *err)
{
	const char *xlabel = xkey;
	hj *recs;
	int rc = rep_records(r, r->res, "", grid, 0, &recs, err);
	if (rc)
		return rc;
	if (!recs || hj_len(recs) == 0) {
		snprintf(skip, nskip, "results.json has no '%s' records", grid);
		return 1;
	}
	size_t n = hj_len(recs), nr2 = 0, nnull = 0, nev = 0;
	size_t *order = malloc(n * sizeof(*order));
	double *x, *tm, *tl, *th, *rm, *rl, *rh, *r2, *nul, *ev;
	double *cols = rep_nan_columns(n, (double **const[]){ &x, &tm, &tl, &th, &rm, &rl, &rh, &r2,
		                                              &nul, &ev, NULL });
	if (!order || !cols) {
		rc = hus_errf(err, HUS_ENOMEM, r->results_path, grid, "out of memory");
		goto cleanup;
	}
	if ((rc = rep_rec_order(r, recs, grid, xkey, x, order, err)) ||
	    (rc = rep_rec_summary(r, recs, grid, order, n, RJK_TRAINED_PWMCC, 1, tm, tl, th, NULL, err)) ||
	    (rc = rep_rec_summary(r, recs, grid, order, n, RJK_RANDOM_PWMCC, 1, rm, rl, rh, NULL, err)) ||
	    (rc = rep_rec_summary(r, recs, grid, order, n, RJ_PATH2(RJK_CONTROLS, RJK_R2), 0, r2, NULL, NULL, &nr2, err)) ||
	    (rc = rep_rec_num(r, recs, grid, order, n, RJ_PATH2(RJK_CONTROLS, RJK_ANALYTIC_NULL), 0, nul, &nnull, err)) ||
	    (rc = rep_rec_summary(r, recs, grid, order, n, RJK_EXPLAINED_VARIANCE, 0, ev, NULL, NULL, &nev, err)))
		goto cleanup;

	double lo = NAN, hi = NAN, xlo = NAN, xhi = NAN, elo = NAN, ehi = NAN;
	fig_range(x, n, &xlo, &xhi);
	fig_range(tl, n, &lo, &hi);
	fig_range(th, n, &lo, &hi);
	fig_range(tm, n, &lo, &hi);
	fig_range(rl, n, &lo, &hi);
	fig_range(rh, n, &lo, &hi);
	fig_range(rm, n, &lo, &hi);
	fig_range(r2, n, &lo, &hi);
	fig_range(nul, n, &lo, &hi);
	fig_range(ev, n, &elo, &ehi);

	struct fig_panel p;
	char title[160], xl[96];
	snprintf(title, sizeof(title), "Core ablation: PWMCC against %s", xlabel);
	snprintf(xl, sizeof(xl), "%s (log₂ axis)", xlabel);
	struct fig_legend_entry leg[5];
	size_t nl = 0;
	/* words, not a results.json key: */
	leg[nl++] = (struct fig_legend_entry){ "trained", FIG_C_TRAINED, FIG_KEY_BAND };
	leg[nl++] = (struct fig_legend_entry){ "random R1", FIG_C_R1, FIG_KEY_BAND };
	if (nr2)
		leg[nl++] = (struct fig_legend_entry){ "untrained R2", FIG_C_R2, FIG_KEY_LINE_MARKER };
	if (nnull)
		leg[nl++] = (struct fig_legend_entry){ "analytic null", FIG_C_NULL, FIG_KEY_DASH };
	if (nev)
		leg[nl++] = (struct fig_legend_entry){ "EV (right)", FIG_C_EV, FIG_KEY_LINE_MARKER };
	fig_sweep_panel(c, &p, 0, c->h,
	                &(struct fig_panel_spec){ .title = title, .xlabel = xl, .ylabel = "PWMCC",
	                                          .xlo = xlo, .xhi = xhi, .log2 = 1, .ylo = lo,
	                                          .yhi = hi },
	                nev ? REP_EV_AXIS : REP_EV_NONE, elo, ehi, leg, nl);
	/* series named as in the legend, so a hidden one is drawn wider and noted (plot/overlap.c) */
	fig_series(c, leg[0].label);
	fig_band(c, &p.xs, &p.ys, x, tl, th, n, FIG_C_TRAINED);
	fig_series(c, leg[1].label);
	fig_band(c, &p.xs, &p.ys, x, rl, rh, n, FIG_C_R1);
	fig_series(c, leg[0].label);
	fig_line(c, &p.xs, &p.ys, x, tm, n, FIG_C_TRAINED, 0);
	fig_series(c, leg[1].label);
	fig_line(c, &p.xs, &p.ys, x, rm, n, FIG_C_R1, 0);
	fig_series(c, leg[0].label);
	fig_markers(c, &p.xs, &p.ys, x, tm, n, FIG_C_TRAINED, 0);
	fig_series(c, leg[1].label);
	fig_markers(c, &p.xs, &p.ys, x, rm, n, FIG_C_R1, 1);
	if (nr2) {
		fig_series(c, "untrained R2");
		fig_line(c, &p.xs, &p.ys, x, r2, n, FIG_C_R2, 0);
		fig_markers(c, &p.xs, &p.ys, x, r2, n, FIG_C_R2, 2);
	}
	if (nnull) {
		fig_series(c, "analytic null");
		fig_line(c, &p.xs, &p.ys, x, nul, n, FIG_C_NULL, 1);
	}
	if (nev)
		fig_sweep_ev(c, &p, x, ev, n, 3);
	fig_series(c, NULL);
cleanup:
	free(order);
	free(cols);
	return rc;
}
