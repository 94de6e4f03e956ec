/*
 * fig_f8_training_curves.c — F8, training curves from the checkpoint histories the run recorded
 * (results.json "training_curves": {"<condition>/<seed>": {step, mse, explained_variance, l0,
 * dead_fraction}}): four panels against steps, one colour per condition, one line per seed.
 * A metric a curve lacks is simply not drawn; null entries are gaps.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAXCOND 8

static const int palette[MAXCOND] = { FIG_BLUE, FIG_VERMILION, FIG_GREEN, FIG_ORANGE,
	                              FIG_SKY, FIG_PURPLE, FIG_BLACK, FIG_YELLOW };

static int cond_index(char conds[][64], size_t *nc, const char *key)
{
	char c[64];
	snprintf(c, sizeof(c), "%s", key);
	char *slash = strrchr(c, '/');
	if (slash)
		*slash = 0;
	for (size_t i = 0; i < *nc; i++)
		if (!strcmp(conds[i], c))
			return (int)i;
	if (*nc == MAXCOND)
		return MAXCOND - 1;
	snprintf(conds[*nc], 64, "%s", c);
	return (int)(*nc)++;
}

int fig_f8_draw(struct fig_canvas *c, const struct rep_run *r, char *skip, size_t nskip,
                struct hus_err *err)
{
	hj *tc = hj_get(r->res, RJK_TRAINING_CURVES);
	if (!tc || (hj_is_obj(tc) && hj_len(tc) == 0)) {
		snprintf(skip, nskip, "results.json has no 'training_curves'");
		return 1;
	}
	if (!hj_is_obj(tc))
		return hus_errf(err, HUS_EINPUT, r->results_path, RJK_TRAINING_CURVES,
		                "expected an object {\"<condition>/<seed>\": {step, mse, ...}}");
	static const char *const metrics[4] = { RJK_MSE, RJK_EXPLAINED_VARIANCE, RJK_L0, RJK_DEAD_FRACTION };
	/* "loss" stands in for "mse" in a history that records the training loss under that name */
	static const char *const ylabels[4] = { "MSE (loss)", "explained variance", "L0", "dead fraction" };
	size_t ncurves = hj_len(tc);
	/* pass 1: validate and find ranges */
	double xlo = NAN, xhi = NAN, lo[4] = { NAN, NAN, NAN, NAN }, hi[4] = { NAN, NAN, NAN, NAN };
	char conds[MAXCOND][64];
	size_t nc = 0;
	int rc = 0;
	for (size_t i = 0; i < ncurves; i++) {
		hj *cv;
		const char *key = hj_obj_at(tc, i, &cv);
		char base[256];
		snprintf(base, sizeof(base), "training_curves.%s", key);
		if (!hj_is_obj(cv))
			return hus_errf(err, HUS_EINPUT, r->results_path, base,
			                "expected an object {step, mse, explained_variance, l0, dead_fraction}");
		double *v;
		size_t n, ns;
		double *st;
		if ((rc = rep_num_array(r, cv, base, RJK_STEP, 1, &st, &ns, err)))
			return rc;
		fig_range(st, ns, &xlo, &xhi);
		free(st);
		for (int k = 0; k < 4; k++) {
			const char *mk = k == 0 && !hj_get(cv, RJK_MSE) && hj_get(cv, RJK_LOSS) ? RJK_LOSS
			                                                                     : metrics[k];
			if ((rc = rep_num_array(r, cv, base, mk, 0, &v, &n, err)))
				return rc;
			if (v && n != ns) {
				free(v);
				char p[300];
				return hus_errf(err, HUS_EINPUT, r->results_path,
				                rep_path(p, sizeof(p), base, mk),
				                "expected %zu values (one per step), found %zu", ns, n);
			}
			fig_range(v, n, &lo[k], &hi[k]);
			free(v);
		}
		cond_index(conds, &nc, key);
	}
	struct fig_legend_entry leg[MAXCOND];
	char words[MAXCOND][96]; /* "k = 8, d_sae = 256", not the condition id (labels.c) */
	for (size_t i = 0; i < nc; i++) {
		rep_condition_label(r, conds[i], words[i], sizeof(words[i]));
		leg[i] = (struct fig_legend_entry){ words[i], palette[i], FIG_KEY_LINE };
	}
	double w, th;
	fig_text_extent(c->cr, "Training curves", FIG_PT_TITLE, &w, &th);
	fig_set_colour(c->cr, FIG_BLACK, 1);
	fig_text(c->cr, 0, 0, "Training curves", FIG_PT_TITLE, 0, 0, 0);
	double lh = fig_legend_measure(c->cr, leg, nc, c->w - 8);
	struct fig_panel lp;
	fig_panel_init(&lp, 0, th + 2, c->w, lh);
	fig_legend_draw(&lp, c->cr, leg, nc);
	double top = th + lh + 6, ph = (c->h - top) / 2, pw = c->w / 2;
	for (int k = 0; k < 4; k++) {
		struct fig_panel p;
		fig_panel_init(&p, (k % 2) * pw, top + (k / 2) * ph, pw, ph);
		snprintf(p.ylabel, sizeof(p.ylabel), "%s", ylabels[k]);
		snprintf(p.xlabel, sizeof(p.xlabel), "step"); /* words, not a results.json key */
		fig_panel_xrange(&p, xlo, xhi, 0);
		fig_panel_yrange(&p, lo[k], hi[k]);
		fig_panel_layout(&p, c->cr);
		fig_axes_draw(&p, c);
		for (size_t i = 0; i < ncurves; i++) {
			hj *cv;
			const char *key = hj_obj_at(tc, i, &cv);
			char base[256];
			snprintf(base, sizeof(base), "training_curves.%s", key);
			double *st = NULL, *v = NULL;
			size_t ns, n;
			const char *mk = k == 0 && !hj_get(cv, RJK_MSE) && hj_get(cv, RJK_LOSS) ? RJK_LOSS
			                                                                     : metrics[k];
			if ((rc = rep_num_array(r, cv, base, RJK_STEP, 1, &st, &ns, err)) ||
			    (rc = rep_num_array(r, cv, base, mk, 0, &v, &n, err))) {
				free(st);
				return rc;
			}
			int ci = cond_index(conds, &nc, key);
			fig_series(c, leg[ci].label); /* a condition is a series (plot/overlap.c) */
			if (v)
				fig_line(c, &p.xs, &p.ys, st, v, n, palette[ci], 0);
			fig_series(c, NULL);
			free(st);
			free(v);
		}
	}
	return 0;
}
