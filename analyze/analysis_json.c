/*
 * analysis_json.c — the pieces of results.json and the pair CSVs the analysis writes: upstream's
 * summary keys (docs/formulas.md §6.2: seeds, n_pairs, pwmcc_values, mean, std, min, max, median, ci95_low,
 * ci95_high, n), its comparison / statistical_test / conclusion blocks, the permutation-test
 * block, the seed-level verdict (docs/formulas.md §8.8) and `seed_a,seed_b,pwmcc` CSVs.  Non-finite numbers become null (hj_num).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis_internal.h"

/* ---------------------------------------------------------------- JSON helpers ------ */

hj *summary_json(const struct stats_summary *s, const int64_t *seeds, size_t n_seeds,
                        const double *vals, size_t n_pairs, uint64_t boot_seed, size_t B)
{
	hj *o = hj_obj();
	hj_set(o, RJK_SEEDS, hj_i64_array(seeds, n_seeds));
	hj_set(o, "n_pairs", hj_int((int64_t)n_pairs));
	hj_set(o, RJK_PWMCC_VALUES, hj_f64_array(vals, n_pairs));
	hj_set(o, RJK_MEAN, hj_num(s->mean));
	hj_set(o, RJK_STD, hj_num(s->std));
	hj_set(o, RJK_MIN, hj_num(s->min));
	hj_set(o, RJK_MAX, hj_num(s->max));
	hj_set(o, RJK_MEDIAN, hj_num(s->median));
	hj_set(o, RJK_CI95_LOW, hj_num(s->ci95_low));
	hj_set(o, RJK_CI95_HIGH, hj_num(s->ci95_high));
	hj_set(o, RJK_N, hj_int((int64_t)s->n));
	hj *bs = hj_obj();
	hj_set(bs, "method", hj_str("percentile bootstrap of the mean over pairs, linear interpolation"));
	hj_set(bs, "rng", hj_str("GSL mt19937, gsl_rng_uniform_int (not numpy PCG64: CIs differ "
	                         "from upstream's around the 5th decimal)"));
	hj_set(bs, "seed", hj_int((int64_t)boot_seed));
	hj_set(bs, "n_bootstrap", hj_int((int64_t)B));
	hj_set(o, "bootstrap", bs);
	if (n_seeds < 2) {
		char why[96];
		snprintf(why, sizeof(why), "fewer than two seeds (n = %zu): no pairs", n_seeds);
		hj_set(o, "reason", hj_str(why));
	}
	return o;
}

/* comparison, statistical_test and conclusion of trained vs one control (docs/formulas.md §6.2) */
int compare_json(hj *into, const struct stats_summary *t, const double *tv, size_t nt,
                        const struct stats_summary *c, const double *cv, size_t nc,
                        struct hus_err *err)
{
	hj *cmp = hj_obj();
	double delta = t->mean - c->mean;
	hj_set(cmp, "difference", hj_num(delta));
	hj_set(cmp, "ratio", hj_num(stats_ratio(t->mean, c->mean)));
	hj_set(cmp, "effect_size_cohens_d", hj_num(stats_cohens_d(tv, 1, nt, cv, 1, nc)));
	hj_set(cmp, RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE, hj_num(stats_conservative_lcb(t, c)));
	hj_set(into, "comparison", cmp);
	hj *st = hj_obj();
	hj_set(st, "test", hj_str("Mann-Whitney U (one-sided, trained > random)"));
	double p = NAN, u = NAN;
	int exact = -1;
	if (nt && nc) {
		struct mwu_result m;
		int rc = stats_mannwhitney(&m, tv, 1, nt, cv, 1, nc, MWU_GREATER, err);
		if (rc) {
			hj_free(st);
			return rc;
		}
		p = m.p, u = m.u1, exact = m.exact;
	}
	hj_set(st, "statistic", hj_num(u));
	hj_set(st, "p_value", hj_num(p));
	hj_set(st, "alpha", hj_num(0.05));
	hj_set(st, "reject_null", isnan(p) ? hj_null() : hj_bool(p < 0.05));
	hj_set(st, "method", exact < 0 ? hj_null() : hj_str(exact ? "exact" : "asymptotic"));
	hj_set(st, "unit", hj_str("pairs (treated as independent, as upstream; see seed_level)"));
	hj_set(st, "role", hj_str("parity with upstream only: pairs that share a model are not "
	                          "independent; the verdict is seed_level_verdict"));
	if (isnan(p))
		hj_set(st, "reason", hj_str("fewer than two seeds in a group: no pairs"));
	/* upstream's conclusion rule, kept as a labelled parity field */
	const char *concl = isnan(p) ? NULL
	                             : (delta > 0 && p < 0.05 ? "training_signal_present"
	                                                      : "no_training_signal");
	hj_set(st, "parity_conclusion", concl ? hj_str(concl) : hj_null());
	hj_set(into, "statistical_test", st);
	return 0;
}

hj *verdict_json(const struct perm_result *pr, size_t n1, size_t n2, double ci_lo, double ci_hi,
                 double alpha, size_t max_exact, size_t B)
{
	hj *o = hj_obj();
	double pmin = stats_perm_min_p(n1, n2, max_exact, B);
	const char *v = stats_seed_verdict(pr->p_greater, pmin, pr->stat, alpha);
	hj_set(o, "unit", hj_str("model (seed)"));
	hj_set(o, "test", hj_str("permutation test over model labels, one-sided (trained > "
	                         "control); exact when every relabelling is enumerated"));
	hj_set(o, RJK_N_MODELS_TRAINED, hj_int((int64_t)n1));
	hj_set(o, "n_models_control", hj_int((int64_t)n2));
	hj_set(o, RJK_EFFECT, hj_num(pr->stat));
	hj_set(o, "effect_ci95_low", hj_num(ci_lo));
	hj_set(o, "effect_ci95_high", hj_num(ci_hi));
	hj_set(o, "p_value", hj_num(pr->p_greater));
	hj_set(o, RJK_MIN_ATTAINABLE_P, hj_num(pmin));
	hj_set(o, "alpha", hj_num(alpha));
	hj_set(o, RJK_VERDICT, v ? hj_str(v) : hj_null());
	size_t need = stats_perm_seeds_needed(alpha, 1, max_exact, B);
	hj_set(o, RJK_SEEDS_NEEDED, v && !strcmp(v, "underpowered") && need ? hj_int((int64_t)need)
	                                                                  : hj_null());
	hj_set(o, "permutation_max_exact", hj_int((int64_t)max_exact));
	hj_set(o, "permutation_samples", hj_int((int64_t)B));
	if (!v)
		hj_set(o, "reason", hj_str("each group needs at least two models"));
	return o;
}

hj *permutation_json(const struct perm_result *pr, uint64_t seed)
{
	hj *o = hj_obj();
	hj_set(o, "definition", hj_str("models of both groups pooled with every cross PWMCC; "
	                               "statistic = mean within-trained pairs - mean within-control "
	                               "pairs; labels permuted over models"));
	hj_set(o, "statistic", hj_num(pr->stat));
	hj_set(o, "p_value_greater", hj_num(pr->p_greater));
	hj_set(o, "p_value_two_sided", hj_num(pr->p_two_sided));
	hj_set(o, "n_permutations", hj_int((int64_t)pr->n_perm));
	hj_set(o, "exact", hj_bool(pr->exact));
	hj_set(o, "seed", pr->exact ? hj_null() : hj_int((int64_t)seed));
	if (isnan(pr->stat))
		hj_set(o, "reason", hj_str("each group needs at least two seeds"));
	else if (pr->skipped) {
		hj_set(o, "computed", hj_bool(0));
		hj_set(o, "reason", hj_str("not run: the smallest p this design can give is not below "
		                           "0.05, so the verdict is underpowered whatever the "
		                           "relabellings give; the cross-group PWMCCs were not computed"));
	}
	return o;
}

int write_pairs_csv(const char *dir, const char *name, const int64_t *sa,
                           const int64_t *sb, const double *v, size_t n, struct manifest *man,
                           struct hus_err *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* CSV columns: not a results.json key */
	static const char *const hdr[3] = { "seed_a", "seed_b", "pwmcc" };
	struct csvw *w;
	int rc = csvw_open(&w, path, hdr, 3, err);
	if (rc)
		return rc;
	for (size_t p = 0; p < n; p++) {
		csvw_i64(w, sa[p]);
		csvw_i64(w, sb[p]);
		csvw_f64(w, v[p]);
		if ((rc = csvw_end_row(w, err))) {
			csvw_abort(w);
			return rc;
		}
	}
	if ((rc = csvw_commit(w, err)))
		return rc;
	return manifest_add_artifact(man, path, err);
}

