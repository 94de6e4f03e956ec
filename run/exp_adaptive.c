/*
 * exp_adaptive.c — adaptive L0 calibration (docs/formulas.md §6.4): a search over k candidates with the
 * search seeds, selection of the k with the best conservative LCB among conditions whose EV
 * meets the floor (ties broken by delta, then EV), a retrain of the selected k with more seeds
 * and epochs, the matched control k retrained the same way, and the bootstrap CI of the
 * difference between the two retrains' trained PWMCC (the "fair comparison").  Each condition
 * is one train-sae job; a stage's conditions form a batch (shared by the ranks of an MPI run),
 * and every rank reads the search's analyses to make the same selection.  Selection and
 * report use the same runs (docs/formulas.md §8.9, winner's curse): results.json says so.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

/* A record with the keys of docs/formulas.md §6.4 for condition `cond` trained at (d_sae, k). */
static int adaptive_record(struct runner *r, const char *cond, int64_t d_sae, int64_t k,
                           const int64_t *seeds, size_t ns, const struct exp_stats *st,
                           int64_t ev_seed, int64_t mse_seed, hj **out, struct hus_err *err)
{
	hj *root, *g;
	int rc = exp_read_group(r, cond, &root, &g, err);
	if (rc)
		return rc;
	double *ev = calloc(ns, sizeof(double)), *mse = calloc(ns, sizeof(double));
	hj *rec = hj_obj(), *per_seed = hj_arr();
	int64_t steps = -1;
	for (size_t i = 0; i < ns && !rc && ev && mse; i++) {
		char p[PATH_MAX + 300], rel[256];
		run_sae_path(rel, sizeof(rel), NULL, cond, seeds[i], NULL);
		run_sae_path(p, sizeof(p), r->run_dir, cond, seeds[i], NULL);
		struct exp_sae_final m = { 0 };
		if ((rc = exp_sae_final(p, &m, err)) || (rc = exp_sae_matches(&m, p, d_sae, k, err))) {
			exp_sae_final_release(&m);
			break;
		}
		ev[i] = m.ev, mse[i] = m.mse, steps = m.steps;
		hj *s = hj_obj();
		hj_set(s, "seed", hj_int(seeds[i]));
		hj_set(s, "checkpoint", hj_str(rel));
		exp_sae_final_put(s, &m, exp_sae_final_keys_short);
		hj_push(per_seed, s);
		exp_sae_final_release(&m);
	}
	if (!rc) {
		hj_set(rec, RJK_CONDITION, hj_str(cond));
		hj_set(rec, RJK_D_SAE, hj_int(d_sae));
		hj_set(rec, RJK_K, hj_int(k));
		hj_set(rec, RJK_N_SEEDS, hj_int((int64_t)ns));
		exp_record_pwmcc(rec, g);
		hj *s = exp_summary_json(ev, ns, st->bootstrap, (uint64_t)ev_seed, err);
		hj_set(rec, RJK_EXPLAINED_VARIANCE, s);
		if (s && !(s = exp_summary_json(mse, ns, st->bootstrap, (uint64_t)mse_seed, err)))
			rc = err->code;
		else if (!s)
			rc = err->code;
		hj_set(rec, RJK_MSE, s);
		hj_set(rec, "runtime_sec", hj_null());
		hj_set(rec, "steps_trained", hj_int(steps));
		hj_set(rec, RJK_PER_SEED_METRICS, per_seed);
		per_seed = NULL;
		exp_record_controls(rec, g, st);
	}
	hj_free(per_seed);
	free(ev), free(mse);
	hj_free(root);
	if (rc) {
		hj_free(rec);
		return rc;
	}
	*out = rec;
	return 0;
}

/* Condition names <prefix>_dsae<d>_k<k> for each k. */
static void condition_names(const char *prefix, int64_t d_sae, const int64_t *ks, size_t nk,
                            char names[][96])
{
	for (size_t i = 0; i < nk; i++)
		snprintf(names[i], 96, "%s_dsae%" PRId64 "_k%" PRId64, prefix, d_sae, ks[i]);
}

/* One batch: a train-sae job per condition (job sae_<name>), `epochs` epochs over `seeds`. */
static int train_batch(struct runner *r, struct cfg *c, const char *acts, char names[][96],
                       int64_t d_sae, const int64_t *ks, size_t nk, const int64_t *seeds,
                       size_t ns, int64_t epochs, struct hus_err *err)
{
	int rc = 0;
	runner_batch_begin(r);
	for (size_t i = 0; i < nk && !rc; i++) {
		char job[128];
		snprintf(job, sizeof(job), "sae_%s", names[i]);
		/* config keys: not a results.json key */
		struct exp_cond cond = { names[i], { { "d_sae", d_sae, 0, 0, NULL }, { "k", ks[i], 0, 0, NULL } }, 2 };
		rc = exp_train_condition(r, c, job, acts, &cond, seeds, ns, epochs, NULL, err);
	}
	return runner_batch_end(r, rc, err);
}

/* One batch: the analysis of each condition over `seeds`. */
static int analyze_batch(struct runner *r, struct cfg *c, char names[][96], size_t nk,
                         const int64_t *seeds, size_t ns, const struct exp_stats *st,
                         struct hus_err *err)
{
	int rc = 0;
	runner_batch_begin(r);
	for (size_t i = 0; i < nk && !rc; i++)
		rc = exp_analyze(r, c, names[i], seeds, ns, st, err);
	return runner_batch_end(r, rc, err);
}

int exp_adaptive(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err)
{
	static const int64_t def_k[] = { 4, 8, 12, 16, 24, 32, 48, 64 };
	static const int64_t def_search[] = { 42, 123, 456, 789, 1011 };
	static const int64_t def_retrain[] = { 42, 123, 456, 789, 1011, 2022, 2023, 2024 };
	int64_t *ks = NULL, *search = NULL, *retrain = NULL, d_sae, search_epochs, retrain_epochs,
		control_k, ev_seed, mse_seed, fair_seed;
	size_t nk, nsearch, nretrain;
	double ev_floor;
	struct exp_stats st = { 0 };
	char (*names)[96] = NULL;
	hj *res = NULL;
	int rc;
	if ((rc = cfg_int_list(c, "experiment.k_candidates", def_k, 8, &ks, &nk, err)) ||
	    (rc = cfg_int_list(c, "experiment.search_seeds", def_search, 5, &search, &nsearch, err)) ||
	    (rc = cfg_int_list(c, "experiment.retrain_seeds", def_retrain, 8, &retrain, &nretrain, err)) ||
	    (rc = cfg_int(c, "experiment.d_sae", 128, 1, 1 << 24, &d_sae, err)) ||
	    (rc = cfg_int(c, "experiment.search_epochs", 25, 1, 1 << 24, &search_epochs, err)) ||
	    (rc = cfg_int(c, "experiment.retrain_epochs", 40, 1, 1 << 24, &retrain_epochs, err)) ||
	    (rc = cfg_int(c, "experiment.control_k", 32, 1, 1 << 24, &control_k, err)) ||
	    (rc = cfg_f64(c, "experiment.ev_floor", 0.20, &ev_floor, err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_explained_variance", 31, 0, INT64_MAX, &ev_seed,
			  err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_mse", 37, 0, INT64_MAX, &mse_seed, err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_fair_comparison", 37, 0, INT64_MAX, &fair_seed,
			  err)) ||
	    (rc = exp_stats_read(c, &st, 11, 23, err)))
		goto done;
	if (!nk || nsearch < 2 || nretrain < 2) {
		/* the config's section: not a results.json key */
		rc = hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment",
			      "expected k candidates and at least two search and retrain seeds");
		goto done;
	}
	names = calloc(nk, sizeof(*names));
	if (!names) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	condition_names("search", d_sae, ks, nk, names);
	char acts[PATH_MAX];
	if ((rc = exp_activations(r, c, ex, acts, sizeof(acts), err)) ||
	    (rc = train_batch(r, c, acts, names, d_sae, ks, nk, search, nsearch, search_epochs, err)) ||
	    (rc = analyze_batch(r, c, names, nk, search, nsearch, &st, err)))
		goto done;
	/* selection needs the search's numbers; in the validating pass the search has not run */
	int64_t selected_k = ks[0];
	hj *search_records = hj_arr();
	res = hj_obj();
	hj_set(res, RJK_EXPERIMENT, hj_str("adaptive_l0"));
	hj_set(res, RJK_RUN_METADATA, exp_run_metadata(r, NULL));
	hj_set(res, RJK_SEARCH_RECORDS, search_records);
	long pick = 0;
	if (!r->validate_only && !r->dry_run) {
		double *lcb = calloc(nk, sizeof(double)), *delta = calloc(nk, sizeof(double)),
		       *ev = calloc(nk, sizeof(double));
		for (size_t i = 0; i < nk && !rc; i++) {
			hj *rec;
			if ((rc = adaptive_record(r, names[i], d_sae, ks[i], search, nsearch, &st, ev_seed,
						  mse_seed, &rec, err)))
				break;
			lcb[i] = exp_jnum(rec, RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE);
			delta[i] = exp_jnum(rec, RJK_DELTA_PWMCC);
			ev[i] = exp_jnum(rec, RJ_PATH2(RJK_EXPLAINED_VARIANCE, RJK_MEAN));
			hj_push(search_records, rec);
		}
		if (!rc) {
			pick = stats_select_ev_floor(lcb, delta, ev, nk, ev_floor);
			selected_k = ks[pick < 0 ? 0 : pick];
		}
		free(lcb), free(delta), free(ev);
		if (rc)
			goto done;
	}
	/* retrain the selected k and the matched control k with the retrain seeds */
	int64_t rk[2] = { selected_k, control_k };
	size_t nr = selected_k == control_k ? 1 : 2;
	char rnames[2][96];
	condition_names("retrain", d_sae, rk, nr, rnames);
	/* each retrain job is named by its condition, which names its k: the control k's retrain
	 * is the same job whatever was selected */
	if ((rc = train_batch(r, c, acts, rnames, d_sae, rk, nr, retrain, nretrain, retrain_epochs,
			      err)) ||
	    (rc = analyze_batch(r, c, rnames, nr, retrain, nretrain, &st, err)))
		goto done;
	if (r->validate_only || r->dry_run || !runner_writes(r))
		goto done; /* the records and results.json: rank 0 */
	hj *rrec[2] = { NULL, NULL };
	for (size_t i = 0; i < nr && !rc; i++)
		rc = adaptive_record(r, rnames[i], d_sae, rk[i], retrain, nretrain, &st, ev_seed, mse_seed,
				     &rrec[i], err);
	if (rc) {
		hj_free(rrec[0]);
		goto done;
	}
	/* two families of tests: the search, and the confirmatory retrain (Holm within each) */
	exp_apply_verdicts_lists(&search_records, 1);
	exp_apply_verdicts(rrec, nr);
	hj *sel = hj_obj();
	hj_set(sel, "criterion", hj_str("max delta_pwmcc_ci_low_conservative with EV floor"));
	hj_set(sel, RJK_EV_FLOOR, hj_num(ev_floor));
	hj_set(sel, RJK_SELECTED_K, hj_int(selected_k));
	hj_set(sel, "selected_record", hj_ref(hj_at(search_records, (size_t)(pick < 0 ? 0 : pick))));
	hj_set(sel, "caveat", hj_str("k is selected on the same runs that report it (docs/formulas.md §8.9): the "
				     "retrain with other seeds is the honest estimate"));
	hj_set(res, RJK_SELECTION, sel);
	hj_set(res, RJK_RETRAIN_RECORD, rrec[0]);
	if (nr == 2)
		hj_set(res, "control_record", rrec[1]);
	/* fair comparison: trained PWMCC pairs at the selected k minus at the control k (§6.0) */
	char desc[200];
	snprintf(desc, sizeof(desc), "trained PWMCC, k=%" PRId64 " minus k=%" PRId64 " (retrain seeds), "
		 "bootstrap of the mean difference over pairs", selected_k, control_k);
	hj *fair;
	if (nr == 2) {
		fair = exp_fair_comparison(desc, hj_get(rrec[0], RJ_PATH2(RJK_TRAINED_PWMCC, RJK_PWMCC_VALUES)),
					   hj_get(rrec[1], RJ_PATH2(RJK_TRAINED_PWMCC, RJK_PWMCC_VALUES)), st.bootstrap,
					   (uint64_t)fair_seed, err);
		if (!fair) {
			rc = err->code;
			goto done;
		}
	} else {
		fair = hj_obj();
		hj_set(fair, "description", hj_str(desc));
		hj_set(fair, "difference", hj_null());
		hj_set(fair, RJK_CI95_LOW, hj_null());
		hj_set(fair, RJK_CI95_HIGH, hj_null());
		hj_set(fair, "reason", hj_str("the selected k is the control k"));
	}
	hj_set(res, "fair_comparison", fair);
	if (rc)
		goto done;
	/* the CSV's family column: not a results.json key */
	const struct exp_tidy_family fam[3] = { { "search", NULL, NULL, search_records },
						{ "retrain", NULL, NULL, rrec[0] },
						{ "control", NULL, NULL, nr == 2 ? rrec[1] : NULL } };
	if ((rc = exp_write_tidy_csv(r->run_dir, "adaptive_l0", fam, 3, err)))
		goto done;
	char p[PATH_MAX + 64];
	run_path(p, sizeof(p), r->run_dir, RUN_RESULTS);
	rc = hj_write_file(p, res, err);
done:
	hj_free(res);
	free(names);
	free(ks), free(search), free(retrain);
	exp_stats_release(&st);
	return rc;
}
