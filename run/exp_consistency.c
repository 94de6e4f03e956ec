/*
 * exp_consistency.c — the consistency-first objective sweep (docs/formulas.md §6.5): a reference SAE
 * trained once with plain MSE (A13), then for each λ the train seeds with loss = MSE +
 * λ·(1 − mean_i max_j |cos(w_i, r_j)|) against the reference decoder; each λ's five models
 * {reference, train seeds} are analysed together; alignment_to_ref (the one-directional
 * match to the reference) is computed here from the archived decoders; λ is selected by the
 * conservative LCB under the EV-drop constraint, and the gain over λ = 0 gets a bootstrap CI.
 * After the reference, each λ is one train-sae job and one analysis, each stage a batch
 * (shared by the ranks of an MPI run); the records are aggregated by rank 0.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

/* mean_i max_j |cos(w_i, r_j)| of a checkpoint's decoder against the reference (docs/formulas.md §6.5). */
static int alignment_to_ref(double *out, const char *path, const struct decoder *ref,
                            const float *ref_t, struct hus_err *err)
{
	struct decoder d;
	int rc = decoder_load(&d, path, 0, err);
	if (rc)
		return rc;
	float *At = malloc(d.d_model * d.d_sae * sizeof(float)), *rowmax = malloc(d.d_sae * sizeof(float)),
	      *colmax = malloc(ref->d_sae * sizeof(float));
	size_t zero;
	if (!At || !rowmax || !colmax)
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	else if (d.d_model != ref->d_model)
		rc = hus_errf(err, HUS_EINPUT, path, "/params/W_dec", "d_model differs from the reference");
	if (!rc && !(rc = pwmcc_normalize(At, &zero, d.W_dec, d.d_model, d.d_sae, err)) &&
	    !(rc = pwmcc_maxes(rowmax, colmax, NULL, NULL, At, ref_t, d.d_model, d.d_sae, ref->d_sae,
			       err))) {
		double s = 0;
		for (size_t i = 0; i < d.d_sae; i++)
			s += rowmax[i];
		*out = s / (double)d.d_sae;
	}
	free(At), free(rowmax), free(colmax);
	decoder_release(&d);
	return rc;
}

int exp_consistency(struct runner *r, struct cfg *c, const struct experiment *ex,
                    struct hus_err *err)
{
	static const int64_t def_train[] = { 123, 456, 789, 1011 };
	static const double def_lambda[] = { 0.0, 0.0001, 0.0005, 0.001, 0.002 };
	int64_t *train = NULL, d_sae, k, seed_ref, epochs, ev_seed, mse_seed, align_seed, gain_seed;
	double *lambdas = NULL, max_drop;
	size_t nt, nl;
	struct exp_stats st = { 0 };
	char (*names)[96] = NULL;
	hj *res = NULL;
	float *ref_t = NULL;
	struct decoder ref = { 0 };
	int have_ref = 0, rc;
	if ((rc = cfg_int_list(c, "experiment.train_seeds", def_train, 4, &train, &nt, err)) ||
	    (rc = cfg_f64_list(c, "experiment.lambdas", def_lambda, 5, &lambdas, &nl, err)) ||
	    (rc = cfg_int(c, "experiment.d_sae", 128, 1, 1 << 24, &d_sae, err)) ||
	    (rc = cfg_int(c, "experiment.k", 8, 1, 1 << 24, &k, err)) ||
	    (rc = cfg_int(c, "experiment.seed_ref", 42, 0, INT64_MAX, &seed_ref, err)) ||
	    (rc = cfg_int(c, "experiment.epochs", 30, 1, 1 << 24, &epochs, err)) ||
	    (rc = cfg_f64(c, "experiment.max_ev_drop", 0.05, &max_drop, err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_explained_variance", 31, 0, INT64_MAX, &ev_seed,
			  err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_mse", 37, 0, INT64_MAX, &mse_seed, err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_alignment", 43, 0, INT64_MAX, &align_seed, err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_gain", 53, 0, INT64_MAX, &gain_seed, err)) ||
	    (rc = exp_stats_read(c, &st, 13, 29, err)))
		goto done;
	if (!nl || nt < 1) {
		/* the config's section: not a results.json key */
		rc = hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment",
			      "expected lambdas and at least one train seed");
		goto done;
	}
	size_t nm = nt + 1; /* models per lambda: the reference and the train seeds */
	char acts[PATH_MAX], ref_rel[160], set[PATH_MAX + 256];
	run_sae_path(ref_rel, sizeof(ref_rel), NULL, "reference", seed_ref, NULL);
	if ((rc = exp_activations(r, c, ex, acts, sizeof(acts), err)))
		goto done;
	/* 1. the reference, plain MSE, trained once (A13) */
	/* config keys: not a results.json key */
	const struct exp_cond refc = { "reference", { { "d_sae", d_sae, 0, 0, NULL }, { "k", k, 0, 0, NULL } }, 2 };
	const char *refouts[] = { ref_rel, NULL };
	if ((rc = exp_train_saes_epochs(r, c, "sae_reference", acts, &refc, &seed_ref, 1, epochs,
					refouts, err)))
		goto done;
	/* 2. every lambda over the train seeds, against the reference decoder: a job each */
	names = calloc(nl, sizeof(*names));
	if (!names) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	snprintf(set, sizeof(set), "sae.alignment.reference=%s/%s", r->run_dir, ref_rel);
	runner_batch_begin(r);
	for (size_t i = 0; i < nl && !rc; i++) {
		char job[128];
		snprintf(names[i], 96, "lambda_%zu", i);
		snprintf(job, sizeof(job), "sae_%s", names[i]);
		/* config keys: not a results.json key */
		struct exp_cond cond = { names[i],
					 { { "d_sae", d_sae, 0, 0, NULL },
					   { "k", k, 0, 0, NULL },
					   { "alignment.lambda", 0, lambdas[i], 1, NULL } },
					 3 };
		rc = exp_train_condition(r, c, job, acts, &cond, train, nt, epochs, set, err);
	}
	if ((rc = runner_batch_end(r, rc, err)))
		goto done;
	/* 3. each lambda's five models analysed together */
	int64_t *mseeds = calloc(nm, sizeof(int64_t));
	const char **dirs = calloc(nm, sizeof(char *));
	if (!mseeds || !dirs) {
		free(mseeds), free(dirs);
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	mseeds[0] = seed_ref;
	dirs[0] = "reference";
	for (size_t s = 0; s < nt; s++)
		mseeds[s + 1] = train[s];
	runner_batch_begin(r);
	for (size_t i = 0; i < nl && !rc; i++) {
		for (size_t s = 0; s < nt; s++)
			dirs[s + 1] = names[i];
		rc = exp_analyze_dirs(r, c, names[i], dirs, mseeds, nm, &st, err);
	}
	rc = runner_batch_end(r, rc, err);
	if (rc || r->validate_only || r->dry_run || !runner_writes(r)) {
		free(mseeds), free(dirs);
		goto done;
	}
	/* 4. records */
	char refpath[PATH_MAX + 200];
	snprintf(refpath, sizeof(refpath), "%s/%s", r->run_dir, ref_rel);
	if (!(rc = decoder_load(&ref, refpath, 0, err))) {
		have_ref = 1;
		size_t zero;
		ref_t = malloc(ref.d_model * ref.d_sae * sizeof(float));
		rc = ref_t ? pwmcc_normalize(ref_t, &zero, ref.W_dec, ref.d_model, ref.d_sae, err)
			   : hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	res = hj_obj();
	hj_set(res, RJK_EXPERIMENT, hj_str("consistency_sweep"));
	hj_set(res, RJK_RUN_METADATA, exp_run_metadata(r, NULL));
	hj *records = hj_arr();
	hj_set(res, RJK_RECORDS, records);
	double *lcb = calloc(nl, sizeof(double)), *delta = calloc(nl, sizeof(double)),
	       *evm = calloc(nl, sizeof(double)), *alm = calloc(nl, sizeof(double));
	double *ev = calloc(nm, sizeof(double)), *mse = calloc(nm, sizeof(double)),
	       *al = calloc(nm, sizeof(double));
	for (size_t i = 0; i < nl && !rc; i++) {
		hj *root, *g;
		if ((rc = exp_read_group(r, names[i], &root, &g, err)))
			break;
		hj *rec = hj_obj(), *per_seed = hj_arr();
		for (size_t s = 0; s < nm && !rc; s++) {
			char p[PATH_MAX + 300], rel[256];
			const char *dir = dirs[s] ? (s ? names[i] : "reference") : "";
			run_sae_path(rel, sizeof(rel), NULL, dir, mseeds[s], NULL);
			run_sae_path(p, sizeof(p), r->run_dir, dir, mseeds[s], NULL);
			struct exp_sae_final m = { 0 };
			if ((rc = exp_sae_final(p, &m, err)) ||
			    (rc = exp_sae_matches(&m, p, d_sae, k, err))) {
				exp_sae_final_release(&m);
				break;
			}
			ev[s] = m.ev, mse[s] = m.mse;
			al[s] = 1.0;
			if (s && (rc = alignment_to_ref(&al[s], p, &ref, ref_t, err))) {
				exp_sae_final_release(&m);
				break;
			}
			hj *o = hj_obj();
			hj_set(o, "seed", hj_int(mseeds[s]));
			hj_set(o, "checkpoint", hj_str(rel));
			hj_set(o, RJK_LAMBDA_CONSISTENCY, hj_num(s ? lambdas[i] : 0.0));
			hj_set(o, RJK_ALIGNMENT_TO_REF, hj_num(al[s]));
			exp_sae_final_put(o, &m, exp_sae_final_keys_short);
			hj_push(per_seed, o);
			exp_sae_final_release(&m);
		}
		if (!rc) {
			hj_set(rec, RJK_CONDITION, hj_str(names[i]));
			hj_set(rec, RJK_LAMBDA_CONSISTENCY, hj_num(lambdas[i]));
			hj_set(rec, RJK_D_SAE, hj_int(d_sae));
			hj_set(rec, RJK_K, hj_int(k));
			hj_set(rec, RJK_N_MODELS, hj_int((int64_t)nm));
			hj_set(rec, "seed_ref", hj_int(seed_ref));
			hj_set(rec, "train_seeds", hj_i64_array(train, nt));
			exp_record_pwmcc(rec, g);
			hj *s1 = exp_summary_json(ev, nm, st.bootstrap, (uint64_t)ev_seed, err);
			hj *s2 = s1 ? exp_summary_json(mse, nm, st.bootstrap, (uint64_t)mse_seed, err) : NULL;
			hj *s3 = s2 ? exp_summary_json(al + 1, nt, st.bootstrap, (uint64_t)align_seed, err)
				    : NULL;
			if (!s3)
				rc = err->code ? err->code : HUS_ENOMEM;
			hj_set(rec, RJK_EXPLAINED_VARIANCE, s1);
			hj_set(rec, RJK_MSE, s2);
			hj_set(rec, RJK_ALIGNMENT_TO_REF, s3);
			hj_set(rec, "runtime_sec", hj_null());
			hj_set(rec, RJK_PER_SEED_METRICS, per_seed);
			per_seed = NULL;
			exp_record_controls(rec, g, &st);
			lcb[i] = exp_jnum(rec, RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE);
			delta[i] = exp_jnum(rec, RJK_DELTA_PWMCC);
			evm[i] = exp_jnum(rec, RJ_PATH2(RJK_EXPLAINED_VARIANCE, RJK_MEAN));
			alm[i] = exp_jnum(rec, RJ_PATH2(RJK_ALIGNMENT_TO_REF, RJK_MEAN));
		}
		hj_free(per_seed);
		hj_push(records, rec);
		hj_free(root);
	}
	free(ev), free(mse), free(al), free(mseeds), free(dirs);
	if (!rc)
		exp_apply_verdicts_lists(&records, 1);
	if (!rc) {
		long pick = stats_select_ev_drop(lcb, delta, alm, evm, lambdas, nl, max_drop);
		long base = 0;
		for (size_t i = 0; i < nl; i++)
			if (fabs(lambdas[i]) < fabs(lambdas[base]))
				base = (long)i;
		hj *sel = hj_obj();
		hj_set(sel, "criterion", hj_str("max delta_pwmcc_ci_low_conservative under EV-drop constraint"));
		hj_set(sel, "max_ev_drop", hj_num(max_drop));
		hj_set(sel, RJK_SELECTED_LAMBDA, hj_num(pick >= 0 ? lambdas[pick] : NAN));
		if (pick >= 0)
			hj_set(sel, "selected_record", hj_ref(hj_at(records, (size_t)pick)));
		hj_set(sel, "caveat", hj_str("lambda is selected on the same runs that report it (docs/formulas.md §8.9)"));
		hj_set(res, RJK_SELECTION, sel);
		/* the gain of the selected lambda over the baseline: bootstrap of the mean difference */
		hj *fair = exp_fair_comparison(
			"trained PWMCC, selected lambda minus lambda = 0, bootstrap of the mean difference "
			"over pairs",
			hj_get(hj_at(records, (size_t)(pick >= 0 ? pick : 0)), RJ_PATH2(RJK_TRAINED_PWMCC, RJK_PWMCC_VALUES)),
			hj_get(hj_at(records, (size_t)base), RJ_PATH2(RJK_TRAINED_PWMCC, RJK_PWMCC_VALUES)), st.bootstrap,
			(uint64_t)gain_seed, err);
		if (!fair)
			rc = err->code;
		hj_set(res, "fair_comparison", fair);
	}
	free(lcb), free(delta), free(evm), free(alm);
	const struct exp_tidy_family fam = { "lambda", NULL, NULL, records };
	if (!rc)
		rc = exp_write_tidy_csv(r->run_dir, "consistency_sweep", &fam, 1, err);
	if (!rc) {
		char p[PATH_MAX + 64];
		run_path(p, sizeof(p), r->run_dir, RUN_RESULTS);
		rc = hj_write_file(p, res, err);
	}
done:
	if (have_ref)
		decoder_release(&ref);
	free(ref_t);
	hj_free(res);
	free(names), free(train), free(lambdas);
	exp_stats_release(&st);
	return rc;
}
