/*
 * fig_f10_convergence.c — F10, EV and PWMCC against SAE steps (the convergence sweep, issue 7;
 * run/exp_convergence.c).  Top: the seed-mean explained variance of each k against steps
 * (records[].curve).  Bottom: the mean cross-seed PWMCC at each checkpoint with its 95 % CI band
 * (records[].pwmcc_checkpoints) and the analytic null.  Both mark the default step count
 * (default_steps) and the step the criterion chose (chosen_step) when the run has them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#define MAXK 8

static const int palette[MAXK] = { FIG_BLUE, FIG_VERMILION, FIG_GREEN, FIG_ORANGE,
	                           FIG_SKY, FIG_PURPLE, FIG_BLACK, FIG_YELLOW };

struct f10_cond {
	double *st, *ev;  /* the EV curve */
	size_t n;
	double *cs, *pm, *plo, *phi; /* checkpoints */
	size_t nc;
	char label[32];
};

static void cond_release(struct f10_cond *k)
{
	free(k->st), free(k->ev), free(k->cs), free(k->pm), free(k->plo), free(k->phi);
}

static int cond_read(const struct rep_run *r, hj *rec, size_t i, struct f10_cond *k,
                     struct hus_err *err)
{
	char base[64], cb[96], pb[96];
	snprintf(base, sizeof(base), "records.%zu", i);
	double kv = NAN;
	int rc = rep_num(r, rec, base, RJK_K, 1, &kv, err);
	if (rc)
		return rc;
	snprintf(k->label, sizeof(k->label), "k = %g", kv);
	snprintf(cb, sizeof(cb), "%s.curve", base);
	hj *curve = hj_get(rec, RJK_CURVE);
	size_t ne;
	if ((rc = rep_num_array(r, curve, cb, RJK_STEP, 1, &k->st, &k->n, err)) ||
	    (rc = rep_num_array(r, curve, cb, RJK_EXPLAINED_VARIANCE_MEAN, 1, &k->ev, &ne, err)))
		return rc;
	if (ne != k->n)
		return hus_errf(err, HUS_EINPUT, r->results_path, rep_path(cb, sizeof(cb), cb,
		                RJK_EXPLAINED_VARIANCE_MEAN),
		                "expected %zu values (one per step), found %zu", k->n, ne);
	hj *cps;
	snprintf(pb, sizeof(pb), "%s.pwmcc_checkpoints", base);
	if ((rc = rep_records(r, rec, base, RJK_PWMCC_CHECKPOINTS, 1, &cps, err)))
		return rc;
	k->nc = hj_len(cps);
	k->cs = rep_nan_alloc(k->nc + 1);
	k->pm = rep_nan_alloc(k->nc + 1);
	k->plo = rep_nan_alloc(k->nc + 1);
	k->phi = rep_nan_alloc(k->nc + 1);
	if (!k->cs || !k->pm || !k->plo || !k->phi)
		return hus_errf(err, HUS_ENOMEM, r->results_path, pb, "out of memory");
	for (size_t j = 0; j < k->nc && !rc; j++) {
		char eb[128], sb[160];
		snprintf(eb, sizeof(eb), "%s.%zu", pb, j);
		snprintf(sb, sizeof(sb), "%s.pwmcc", eb);
		hj *cp = hj_at(cps, j), *s = hj_get(cp, RJK_PWMCC);
		if ((rc = rep_num(r, cp, eb, RJK_STEP, 1, &k->cs[j], err)) ||
		    (rc = rep_num(r, s, sb, RJK_MEAN, 1, &k->pm[j], err)) ||
		    (rc = rep_num(r, s, sb, RJK_CI95_LOW, 0, &k->plo[j], err)) ||
		    (rc = rep_num(r, s, sb, RJK_CI95_HIGH, 0, &k->phi[j], err)))
			return rc;
	}
	return 0;
}

int fig_f10_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                 struct hus_err *err)
{
	hj *recs;
	size_t nk;
	int rc = rep_rec_list(r, RJK_RECORDS, &recs, &nk, skip, nskip, err);
	if (rc)
		return rc;
	if (nk > MAXK)
		nk = MAXK;
	struct f10_cond k[MAXK] = { 0 };
	double def = NAN, chosen = NAN, null = NAN;
	/* chosen_step is null when some k has not converged: nothing to mark, not a gap */
	if ((rc = rep_num(r, r->res, "", RJK_DEFAULT_STEPS, 0, &def, err)) ||
	    (hj_is_num(hj_get(r->res, RJK_CHOSEN_STEP)) &&
	     (rc = rep_num(r, r->res, "", RJK_CHOSEN_STEP, 0, &chosen, err))) ||
	    (rc = rep_num(r, r->res, "", RJK_ANALYTIC_NULL, 0, &null, err)))
		return rc;
	double xlo = NAN, xhi = NAN, elo = NAN, ehi = NAN, plo = NAN, phi = NAN;
	for (size_t i = 0; i < nk && !rc; i++) {
		if ((rc = cond_read(r, hj_at(recs, i), i, &k[i], err)))
			break;
		fig_range(k[i].st, k[i].n, &xlo, &xhi);
		fig_range(k[i].cs, k[i].nc, &xlo, &xhi);
		/* the EV axis covers the curve from the first checkpoint after step 0 on: the
		 * first few steps start far below 0 and would flatten everything after them */
		double from = k[i].nc > 1 ? k[i].cs[1] : 0;
		for (size_t j = 0; j < k[i].n; j++)
			if (k[i].st[j] >= from)
				fig_range(&k[i].ev[j], 1, &elo, &ehi);
		fig_range(k[i].pm, k[i].nc, &plo, &phi);
		fig_range(k[i].plo, k[i].nc, &plo, &phi);
		fig_range(k[i].phi, k[i].nc, &plo, &phi);
	}
	if (rc)
		goto cleanup;
	fig_range(&null, 1, &plo, &phi);
	struct fig_legend_entry leg[MAXK + 1];
	for (size_t i = 0; i < nk; i++)
		leg[i] = (struct fig_legend_entry){ k[i].label, palette[i], FIG_KEY_LINE };
	size_t nl = nk;
	if (isfinite(null))
		leg[nl++] = (struct fig_legend_entry){ "analytic null", FIG_C_NULL, FIG_KEY_DASH };
	char def_label[48] = "", ch_label[48] = "";
	if (isfinite(def))
		snprintf(def_label, sizeof(def_label), "default %.0f", def);
	if (isfinite(chosen))
		snprintf(ch_label, sizeof(ch_label), "criterion %.0f", chosen);

	struct fig_panel a, b;
	double split = c->h * 0.5;
	fig_panel_open(&a, 0, 0, c->w, split,
	               &(struct fig_panel_spec){ .title = "EV and PWMCC against SAE steps",
	                                         .ylabel = "explained variance (seed mean)",
	                                         .xlo = xlo, .xhi = xhi, .ylo = elo, .yhi = ehi });
	fig_legend_reserve(&a, c->cr, leg, nl);
	fig_panel_layout(&a, c->cr);
	fig_panel_open(&b, 0, split, c->w, c->h - split,
	               &(struct fig_panel_spec){ .xlabel = "SAE training step",
	                                         .ylabel = "cross-seed PWMCC, 95% CI", .xlo = xlo,
	                                         .xhi = xhi, .ylo = plo, .yhi = phi });
	fig_panel_layout(&b, c->cr);
	/* one x axis for both panels: the wider left margin wins */
	double left = a.x > b.x ? a.x : b.x;
	struct fig_panel *pp[2] = { &a, &b };
	for (int i = 0; i < 2; i++) {
		pp[i]->w -= left - pp[i]->x;
		pp[i]->x = left;
		pp[i]->xs.d0 = left;
		pp[i]->xs.d1 = left + pp[i]->w;
	}
	fig_axes_draw(&a, c);
	fig_legend_draw(&a, c->cr, leg, nl);
	fig_panel_clip(&a, c->cr);
	for (size_t i = 0; i < nk; i++) {
		fig_series(c, k[i].label);
		fig_line(c, &a.xs, &a.ys, k[i].st, k[i].ev, k[i].n, palette[i], 0);
	}
	fig_series(c, NULL);
	cairo_restore(c->cr);
	if (isfinite(def))
		fig_vline(c, &a, def, FIG_GREY, 1, def_label);
	if (isfinite(chosen))
		fig_vline(c, &a, chosen, FIG_BLACK, 1, ch_label);

	fig_axes_draw(&b, c);
	for (size_t i = 0; i < nk; i++) {
		fig_series(c, k[i].label);
		fig_band(c, &b.xs, &b.ys, k[i].cs, k[i].plo, k[i].phi, k[i].nc, palette[i]);
		fig_line(c, &b.xs, &b.ys, k[i].cs, k[i].pm, k[i].nc, palette[i], 0);
		fig_markers(c, &b.xs, &b.ys, k[i].cs, k[i].pm, k[i].nc, palette[i], (int)i);
	}
	fig_series(c, isfinite(null) ? "analytic null" : NULL);
	if (isfinite(null))
		fig_hline(c, &b, &b.ys, null, FIG_C_NULL, 1, "");
	fig_series(c, NULL);
	if (isfinite(def))
		fig_vline(c, &b, def, FIG_GREY, 1, "");
	if (isfinite(chosen))
		fig_vline(c, &b, chosen, FIG_BLACK, 1, "");
cleanup:
	for (size_t i = 0; i < nk; i++)
		cond_release(&k[i]);
	return rc;
}
