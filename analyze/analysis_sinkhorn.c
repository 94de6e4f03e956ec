/*
 * analysis_sinkhorn.c — the analysis's Sinkhorn matching (`husai analyze --sinkhorn <ε>`):
 * every trained pair matched by entropic optimal transport (sinkhorn.c), its values as
 * columns of the pair table (analysis.h5 /pairs/<group>), metrics.sinkhorn_* in results.json
 * and, with the matchings, /matching/<group>/<a>_<b>/sinkhorn_{perm,sim}.  Off by default, so
 * analyses without the option keep their bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"

int sinkhorn_group(hj *metrics, struct ana_pairs *tab, struct h5w *h5, const char *group,
                   const struct mset *t, double eps, double thr, int write_matchings,
                   struct pairwork *w, struct hus_err *err)
{
	const char *names[] = { "sinkhorn_abs_mean", "sinkhorn_abs_frac_0.5", "sinkhorn_ot_cost",
		                "sinkhorn_one_to_one", "sinkhorn_iterations" };
	size_t nc = sizeof(names) / sizeof(names[0]), c0 = tab->ncols, np = tab->n, mmax = 0;
	if (c0 + nc > ANA_MAX_COLS)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "too many pair columns for Sinkhorn");
	for (size_t i = 0; i < t->n; i++)
		mmax = t->m[i] > mmax ? t->m[i] : mmax;
	int fits = mmax <= SINKHORN_MAX_D_SAE;
	for (size_t c = 0; c < nc; c++) {
		snprintf(tab->col_name[c0 + c], sizeof(tab->col_name[0]), "%s", names[c]);
		if (!(tab->col[c0 + c] = malloc(sizeof(double) * (np ? np : 1))))
			return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for pair metrics");
		tab->ncols = c0 + c + 1;
		for (size_t p = 0; p < np; p++)
			tab->col[c0 + c][p] = NAN;
	}
	int32_t *perm = malloc(sizeof(int32_t) * (mmax ? mmax : 1));
	float *sim = malloc(sizeof(float) * (mmax ? mmax : 1));
	double *err_marg = malloc(sizeof(double) * (np ? np : 1));
	int rc = 0;
	if (!perm || !sim || !err_marg) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for Sinkhorn matching");
		goto cleanup;
	}
	size_t p = 0;
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = i + 1; j < t->n; j++, p++) {
			err_marg[p] = NAN;
			if (!fits)
				continue;
			struct sinkhorn_result r;
			if ((rc = match_sinkhorn(&r, perm, sim, t->At[i], t->At[j], t->d, t->m[i], t->m[j],
			                         eps, thr, err)))
				goto cleanup;
			analysis_progress_step(w, t->d, t->m[i], t->m[j]);
			tab->col[c0 + 0][p] = r.mean_sim;
			tab->col[c0 + 1][p] = r.frac_05;
			tab->col[c0 + 2][p] = r.ot_cost;
			tab->col[c0 + 3][p] = r.one_to_one;
			tab->col[c0 + 4][p] = (double)r.iterations;
			err_marg[p] = r.marginal_err;
			if (write_matchings &&
			    (rc = ana_write_matching(h5, group, t->seed[i], t->seed[j], "sinkhorn_", perm,
			                             sim, t->m[i], err)))
				goto cleanup;
		}
	for (size_t c = 0; c < nc; c++) {
		double sm = 0;
		for (size_t q = 0; q < np; q++)
			sm += tab->col[c0 + c][q];
		hj *m = hj_obj();
		hj_set(m, "mean_over_pairs", hj_num(np ? sm / (double)np : NAN));
		hj_set(m, "values", hj_f64_array(tab->col[c0 + c], np));
		hj_set(metrics, names[c], m);
	}
	hj *s = hj_obj();
	hj_set(s, "method", hj_str("entropic optimal transport (Sinkhorn, Cuturi 2013) on the cost "
	                           "1 - |cos| with uniform marginals; each feature of the first "
	                           "model matched to the column of its row's largest plan entry "
	                           "(docs/formulas.md 5.4)"));
	hj_set(s, "epsilon", hj_num(eps));
	hj_set(s, "max_iterations", hj_int(SINKHORN_MAX_ITER));
	hj_set(s, "tolerance_row_marginal_l1", hj_num(SINKHORN_TOL));
	hj_set(s, "row_marginal_error", hj_f64_array(err_marg, np));
	hj_set(s, "computed", hj_bool(fits));
	if (!fits) {
		char why[256];
		snprintf(why, sizeof(why), "not computed: d_sae %zu is above %d, where the dense "
		         "transport plan (d_sae^2 doubles) is formed; the values are NaN", mmax,
		         SINKHORN_MAX_D_SAE);
		hj_set(s, "reason", hj_str(why));
		fprintf(stderr, "husai: group '%s': Sinkhorn matching %s\n", group, why);
	}
	hj_set(metrics, "sinkhorn_parameters", s);
cleanup:
	free(perm), free(sim), free(err_marg);
	return rc;
}
