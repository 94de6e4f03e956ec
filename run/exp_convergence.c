/*
 * exp_convergence.c — the convergence sweep behind the default SAE step count (issue 7: "choose
 * and justify the default step count with a convergence plot of EV against steps").  The
 * default SAEs (the `sae:` section: architecture, d_sae, lr, batch) are trained at several k
 * over several seeds for a long horizon, one train-sae pass per k with periodic checkpoints
 * (sae.checkpoint_every); the per-epoch history of each run gives EV, MSE, L0 and the dead
 * fraction against steps (docs/formulas.md §4.7 a.5, §4.8), and the checkpoints give the cross-seed PWMCC
 * (docs/formulas.md §5.1-5.2) with its bootstrap CI (docs/formulas.md §6.0) at each checkpoint step.
 *
 * The criterion, computed per k on the mean EV over seeds (linear between logged steps):
 *   EV step    = the first logged step t after which every gain EV(t' + W) - EV(t') over the
 *                next W steps stays below `ev_gain_threshold` (defaults: W 100 steps, 0.001,
 *                i.e. < 0.1 % of EV per 100 steps);
 *   PWMCC step = the first checkpoint before the horizon after which every checkpoint's mean
 *                PWMCC lies inside the 95 % CI of the mean PWMCC at the horizon (none: PWMCC
 *                still moves at the horizon);
 *   converged  = max(EV step, PWMCC step); the chosen step is the largest over k.
 * results.json records every input of that rule, the chosen step, and whether the default
 * step count (experiment.default_steps) reaches it; convergence.csv holds (step, k, seed, mse,
 * explained_variance, l0, dead_fraction) per logged step and convergence_pwmcc.csv (step, k,
 * n_pairs, pwmcc mean and CI) per checkpoint.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

/* value of the piecewise-linear curve (x ascending) at t, clamped to its ends */
static double interp(const double *x, const double *y, size_t n, double t)
{
	if (t <= x[0])
		return y[0];
	for (size_t i = 1; i < n; i++)
		if (t <= x[i])
			return y[i - 1] + (y[i] - y[i - 1]) * (t - x[i - 1]) / (x[i] - x[i - 1]);
	return y[n - 1];
}

/* EV step of the rule above; -1 when the last full window still gains >= thr */
static int64_t ev_step(const double *st, const double *ev, size_t n, double window, double thr)
{
	if (n == 0)
		return -1;
	size_t j0 = SIZE_MAX;
	for (size_t j = n; j-- > 0;) {
		if (st[j] + window > st[n - 1])
			continue; /* no full window after t */
		if (interp(st, ev, n, st[j] + window) - ev[j] >= thr)
			break;
		j0 = j;
	}
	return j0 == SIZE_MAX ? -1 : (int64_t)st[j0];
}

/* Cross-seed PWMCC of the seeds' checkpoints at one step: the pairwise values (seeds sorted,
 * pairs lexicographic, §5.2) and their summary. */
static int pwmcc_at(const char *run_dir, const char *cond, const int64_t *seeds, size_t ns,
                    int64_t step, int64_t final_step, const struct exp_stats *st, hj **rec,
                    struct hus_err *err)
{
	char (*path)[PATH_MAX + 200] = calloc(ns ? ns : 1, sizeof(*path));
	const char **paths = calloc(ns ? ns : 1, sizeof(*paths));
	size_t np = ns * (ns - 1) / 2;
	double *vals = calloc(np + 1, sizeof(double));
	struct decoder_set s = { 0 };
	int rc = (!path || !paths || !vals) ? hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory") : 0;
	for (size_t i = 0; i < ns && !rc; i++) {
		char suffix[32] = "";
		if (step != final_step)
			snprintf(suffix, sizeof(suffix), "_step%" PRId64, step);
		run_sae_path(path[i], sizeof(path[i]), run_dir, cond, seeds[i],
			     step == final_step ? NULL : suffix);
		paths[i] = path[i];
	}
	if (!rc)
		rc = decoder_set_load(&s, paths, ns, err);
	for (size_t i = 0; i < s.n && !rc; i++) {
		const struct decoder *d = &s.dec[i];
		if (d->step >= 0 && d->step != step)
			rc = hus_errf(err, HUS_EINPUT, paths[i], RJK_STEP, "expected step %" PRId64 ", found %" PRId64,
				      step, d->step);
		else if (d->d_sae != s.dec[0].d_sae)
			rc = hus_errf(err, HUS_EINPUT, paths[i], "/params/W_dec",
				      "shape [%zu, %zu] differs from [%zu, %zu] of seed %" PRId64, d->d_model,
				      d->d_sae, s.dec[0].d_model, s.dec[0].d_sae, seeds[0]);
	}
	/* seeds are given sorted (checked by the caller): pairs (i<j) lexicographic */
	if (!rc)
		rc = pwmcc_pairs(vals, s.At, s.m, s.n, s.d, NULL, NULL, err);
	if (!rc) {
		hj *sm = exp_summary_json(vals, np, st->bootstrap, (uint64_t)st->seed_trained, err);
		if (!sm)
			rc = err ? err->code : HUS_EINTERNAL;
		else {
			*rec = hj_obj();
			hj_set(*rec, RJK_STEP, hj_int(step));
			hj_set(*rec, RJK_PWMCC, sm);
			hj_set(*rec, RJK_PWMCC_VALUES, hj_f64_array(vals, np));
		}
	}
	decoder_set_release(&s);
	free(path), free(paths), free(vals);
	return rc;
}

/* CSV columns: not a results.json key */
static const char *const csv_cols[] = { "step", "k", "seed", "mse", "explained_variance", "l0",
					"dead_fraction" };
/* CSV columns: not a results.json key */
static const char *const pw_cols[] = { "step", "k", "n_pairs", "pwmcc_mean", "pwmcc_ci95_low",
				        "pwmcc_ci95_high" };

/* One k: curves of every seed (CSV rows), the mean EV curve, PWMCC at every checkpoint, the
 * criterion.  *out gets the condition's record. */
static int conv_condition(struct runner *r, const char *cond, int64_t k, const int64_t *seeds,
                          size_t ns, int64_t every, const struct exp_stats *st, double window,
                          double thr, int64_t default_steps, struct csvw *csv, struct csvw *pcsv,
                          hj *curves, hj **out, struct hus_err *err)
{
	struct exp_sae_final *m = calloc(ns, sizeof(*m));
	double *ev_mean = NULL, *mse_mean = NULL;
	hj *rec = hj_obj(), *pw = hj_arr();
	int rc = m ? 0 : hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < ns && !rc; i++) {
		char p[PATH_MAX + 200];
		run_sae_path(p, sizeof(p), r->run_dir, cond, seeds[i], NULL);
		if ((rc = exp_sae_final(p, &m[i], err)))
			break;
		if (!m[i].curve[0] || !m[i].curve[2] || m[i].curve_n == 0)
			rc = hus_errf(err, HUS_EINPUT, p, "/metrics/explained_variance",
				      "expected a per-epoch training history");
		else if (i && (m[i].curve_n != n || m[i].steps != m[0].steps))
			rc = hus_errf(err, HUS_EINPUT, p, "/metrics/step",
				      "%zu logged steps up to %" PRId64 ", seed %" PRId64 " has %zu up to %" PRId64,
				      m[i].curve_n, m[i].steps, seeds[0], n, m[0].steps);
		n = m[i].curve_n;
	}
	if (!rc && !(ev_mean = calloc(n, sizeof(double))))
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	if (!rc && !(mse_mean = calloc(n, sizeof(double))))
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	/* per-seed rows, the seed-mean curves and the training curves of F8 */
	for (size_t i = 0; i < ns && !rc; i++) {
		static const char *const names[] = { RJK_STEP, RJK_MSE, RJK_EXPLAINED_VARIANCE, RJK_L0,
						     RJK_DEAD_FRACTION };
		hj *cv = hj_obj();
		for (int q = 0; q < 5; q++)
			if (m[i].curve[q])
				hj_set(cv, names[q], hj_f64_array(m[i].curve[q], n));
		char key[160];
		snprintf(key, sizeof(key), "%s/%" PRId64, cond, seeds[i]);
		hj_set(curves, key, cv);
		for (size_t j = 0; j < n && !rc; j++) {
			ev_mean[j] += m[i].curve[2][j] / (double)ns;
			mse_mean[j] += (m[i].curve[1] ? m[i].curve[1][j] : NAN) / (double)ns;
			csvw_i64(csv, (int64_t)m[i].curve[0][j]);
			csvw_i64(csv, k);
			csvw_i64(csv, seeds[i]);
			for (int q = 1; q < 5; q++)
				csvw_f64(csv, m[i].curve[q] ? m[i].curve[q][j] : NAN);
			rc = csvw_end_row(csv, err);
		}
	}
	const double *stp = rc ? NULL : m[0].curve[0];
	int64_t final_step = rc ? 0 : m[0].steps;
	/* PWMCC at step 0 (the R2 files), every checkpoint_every steps, and the horizon */
	for (int64_t t = 0; !rc;) {
		hj *pr = NULL;
		if ((rc = pwmcc_at(r->run_dir, cond, seeds, ns, t, final_step, st, &pr, err)))
			break;
		csvw_i64(pcsv, t);
		csvw_i64(pcsv, k);
		csvw_i64(pcsv, (int64_t)(ns * (ns - 1) / 2));
		csvw_f64(pcsv, exp_jnum(pr, RJ_PATH2(RJK_PWMCC, RJK_MEAN)));
		csvw_f64(pcsv, exp_jnum(pr, RJ_PATH2(RJK_PWMCC, RJK_CI95_LOW)));
		csvw_f64(pcsv, exp_jnum(pr, RJ_PATH2(RJK_PWMCC, RJK_CI95_HIGH)));
		rc = csvw_end_row(pcsv, err);
		hj_push(pw, pr);
		if (t == final_step)
			break;
		t = every > 0 && t + every < final_step ? t + every : final_step;
	}
	if (!rc) {
		size_t nc = hj_len(pw);
		hj *last = hj_at(pw, nc - 1);
		double lo = exp_jnum(last, RJ_PATH2(RJK_PWMCC, RJK_CI95_LOW)), hi = exp_jnum(last, RJ_PATH2(RJK_PWMCC, RJK_CI95_HIGH));
		/* the horizon lies in its own CI trivially: a PWMCC step needs an earlier
		 * checkpoint, else PWMCC has not settled within the horizon (null) */
		int64_t p_step = -1;
		for (size_t i = nc - 1; i-- > 0;) {
			double v = exp_jnum(hj_at(pw, i), RJ_PATH2(RJK_PWMCC, RJK_MEAN));
			if (!(v >= lo && v <= hi))
				break;
			p_step = (int64_t)exp_jnum(hj_at(pw, i), RJK_STEP);
		}
		int64_t e_step = ev_step(stp, ev_mean, n, window, thr);
		int64_t conv = e_step < 0 || p_step < 0 ? -1 : (e_step > p_step ? e_step : p_step);
		hj_set(rec, RJK_CONDITION, hj_str(cond));
		hj_set(rec, RJK_K, hj_int(k));
		hj_set(rec, RJK_SEEDS, hj_i64_array(seeds, ns));
		hj_set(rec, "steps_trained", hj_int(final_step));
		hj *evc = hj_obj();
		hj_set(evc, RJK_STEP, hj_f64_array(stp, n));
		hj_set(evc, RJK_EXPLAINED_VARIANCE_MEAN, hj_f64_array(ev_mean, n));
		hj_set(evc, "mse_mean", hj_f64_array(mse_mean, n));
		hj_set(rec, RJK_CURVE, evc);
		hj_set(rec, RJK_PWMCC_CHECKPOINTS, hj_ref(pw));
		hj_set(rec, "ev_step", e_step < 0 ? hj_null() : hj_int(e_step));
		hj_set(rec, "pwmcc_step", p_step < 0 ? hj_null() : hj_int(p_step));
		hj_set(rec, "converged_step", conv < 0 ? hj_null() : hj_int(conv));
		hj_set(rec, "explained_variance_final", hj_num(ev_mean[n - 1]));
		hj_set(rec, "pwmcc_final", hj_ref(hj_get(last, RJK_PWMCC)));
		/* how fast PWMCC still moves at the end: mean over the last checkpoint interval */
		if (nc > 1)
			hj_set(rec, "pwmcc_gain_last_interval",
			       hj_num(exp_jnum(last, RJ_PATH2(RJK_PWMCC, RJK_MEAN)) -
				      exp_jnum(hj_at(pw, nc - 2), RJ_PATH2(RJK_PWMCC, RJK_MEAN))));
		if (default_steps > 0) {
			double ev_d = interp(stp, ev_mean, n, (double)default_steps);
			hj_set(rec, "explained_variance_at_default", hj_num(ev_d));
			hj_set(rec, "ev_gain_after_default", hj_num(ev_mean[n - 1] - ev_d));
			hj_set(rec, "ev_gain_per_window_at_default",
			       (double)default_steps + window <= stp[n - 1]
				       ? hj_num(interp(stp, ev_mean, n, (double)default_steps + window) - ev_d)
				       : hj_null());
			/* the checkpoint at the default step, when there is one */
			for (size_t i = 0; i < nc; i++)
				if ((int64_t)exp_jnum(hj_at(pw, i), RJK_STEP) == default_steps)
					hj_set(rec, "pwmcc_at_default",
					       hj_ref(hj_get(hj_at(pw, i), RJK_PWMCC)));
		}
	}
	for (size_t i = 0; m && i < ns; i++)
		exp_sae_final_release(&m[i]);
	free(m), free(ev_mean), free(mse_mean);
	hj_free(pw);
	if (rc)
		hj_free(rec);
	else
		*out = rec;
	return rc;
}

int exp_convergence(struct runner *r, struct cfg *c, const struct experiment *ex,
                    struct hus_err *err)
{
	static const int64_t def_seeds[] = { 42, 123, 456 };
	static const int64_t def_k[] = { 8, 32 };
	int64_t *seeds = NULL, *ks = NULL, default_steps, window, every;
	size_t ns = 0, nk = 0;
	double thr;
	struct exp_stats st = { 0 };
	hj *res = NULL, *recs = NULL, *curves = NULL;
	struct csvw *csv = NULL, *pcsv = NULL;
	int rc;
	if ((rc = cfg_int_list(c, "experiment.seeds", def_seeds, 3, &seeds, &ns, err)) ||
	    (rc = cfg_int_list(c, "experiment.k_values", def_k, 2, &ks, &nk, err)) ||
	    (rc = cfg_int(c, "experiment.default_steps", 0, 0, INT64_MAX, &default_steps, err)) ||
	    (rc = cfg_int(c, "experiment.ev_window_steps", 100, 1, INT64_MAX, &window, err)) ||
	    (rc = cfg_f64(c, "experiment.ev_gain_threshold", 0.001, &thr, err)) ||
	    (rc = cfg_int(c, "sae.checkpoint_every", 0, 0, INT64_MAX, &every, err)) ||
	    (rc = exp_stats_read(c, &st, 17, 29, err)))
		goto done;
	if (ns < 2 || nk < 1) {
		rc = hus_errf(err, HUS_EINPUT, cfg_name(c), ns < 2 ? "experiment.seeds" : "experiment.k_values",
			      "expected at least two seeds and one k");
		goto done;
	}
	for (size_t i = 1; i < ns; i++)
		if (seeds[i] <= seeds[i - 1]) {
			rc = hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.seeds",
				      "expected distinct seeds in increasing order");
			goto done;
		}
	char acts[PATH_MAX];
	if ((rc = exp_activations(r, c, ex, acts, sizeof(acts), err)))
		goto done;
	/* one train-sae job per k (all seeds in one pass), a batch the ranks of an MPI run share */
	runner_batch_begin(r);
	for (size_t i = 0; i < nk && !rc; i++) {
		char job[64], cname[48];
		snprintf(cname, sizeof(cname), "k%" PRId64, ks[i]);
		snprintf(job, sizeof(job), "sae_k%" PRId64, ks[i]);
		/* config keys: not a results.json key */
		struct exp_cond cond = { cname, { { "k", ks[i], 0, 0, NULL } }, 1 };
		rc = exp_train_condition(r, c, job, acts, &cond, seeds, ns, 0, NULL, err);
	}
	if ((rc = runner_batch_end(r, rc, err)) || r->dry_run || r->validate_only || !runner_writes(r))
		goto done; /* the curves, CSVs and results.json: rank 0 */
	char p[PATH_MAX + 64], pp[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/convergence.csv", r->run_dir);
	snprintf(pp, sizeof(pp), "%s/convergence_pwmcc.csv", r->run_dir);
	if ((rc = csvw_open(&csv, p, csv_cols, 7, err)) || (rc = csvw_open(&pcsv, pp, pw_cols, 6, err)))
		goto done;
	recs = hj_arr();
	curves = hj_obj();
	int64_t chosen = 0;
	size_t d_model = 0, d_sae = 0;
	for (size_t i = 0; i < nk && !rc; i++) {
		char cond[64];
		hj *rec = NULL;
		snprintf(cond, sizeof(cond), "k%" PRId64, ks[i]);
		if ((rc = conv_condition(r, cond, ks[i], seeds, ns, every, &st, (double)window, thr,
					 default_steps, csv, pcsv, curves, &rec, err)))
			break;
		int64_t cs;
		if (chosen >= 0 && !hj_get_i64(rec, "converged_step", &cs))
			chosen = cs > chosen ? cs : chosen;
		else
			chosen = -1; /* some k has not converged within the horizon */
		hj_push(recs, rec);
	}
	if (rc)
		goto done;
	if ((rc = csvw_commit(csv, err))) {
		csv = NULL;
		goto done;
	}
	csv = NULL;
	if ((rc = csvw_commit(pcsv, err))) {
		pcsv = NULL;
		goto done;
	}
	pcsv = NULL;
	{ /* the architecture, from one final checkpoint */
		struct decoder d;
		char cond[32];
		snprintf(cond, sizeof(cond), "k%" PRId64, ks[0]);
		run_sae_path(p, sizeof(p), r->run_dir, cond, seeds[0], NULL);
		if ((rc = decoder_load(&d, p, 0, err)))
			goto done;
		d_model = d.d_model;
		d_sae = d.d_sae;
		res = hj_obj();
		hj_set(res, RJK_EXPERIMENT, hj_str("convergence"));
		hj_set(res, RJK_RUN_METADATA, exp_run_metadata(r, NULL));
		hj *arch = hj_obj();
		hj_set(arch, "architecture", hj_str(d.architecture));
		hj_set(arch, "d_model", hj_int((int64_t)d_model));
		hj_set(arch, RJK_D_SAE, hj_int((int64_t)d_sae));
		hj_set(res, "architecture", arch);
		decoder_release(&d);
	}
	double null = NAN;
	if ((rc = null_expected_pwmcc(&null, d_model, d_sae, d_sae, err)))
		goto done;
	hj_set(res, "k_values", hj_i64_array(ks, nk));
	hj_set(res, RJK_SEEDS, hj_i64_array(seeds, ns));
	hj_set(res, "checkpoint_every", hj_int(every));
	hj_set(res, RJK_ANALYTIC_NULL, hj_num(null));
	hj *crit = hj_obj();
	hj_set(crit, "description",
	       hj_str("per k: EV step = first logged step after which the seed-mean EV gains less "
		      "than ev_gain_threshold over every following window of ev_window_steps steps; "
		      "PWMCC step = first checkpoint before the horizon after which every checkpoint's "
		      "mean cross-seed PWMCC lies inside the 95 % CI of the mean at the horizon; "
		      "converged step = the "
		      "larger of the two; chosen step = the largest over k (null: not converged "
		      "within the horizon)"));
	hj_set(crit, "ev_window_steps", hj_int(window));
	hj_set(crit, "ev_gain_threshold", hj_num(thr));
	hj_set(res, "criterion", crit);
	hj_set(res, RJK_RECORDS, hj_ref(recs));
	hj_set(res, RJK_CHOSEN_STEP, chosen < 0 ? hj_null() : hj_int(chosen));
	if (default_steps > 0) {
		hj_set(res, RJK_DEFAULT_STEPS, hj_int(default_steps));
		/* not converged within the horizon: a default below the horizon is not justified
		 * either; one beyond it cannot be judged (null) */
		int64_t horizon = 0;
		hj_get_i64(hj_at(recs, 0), "steps_trained", &horizon);
		hj_set(res, "default_justified",
		       chosen >= 0 ? hj_bool(chosen <= default_steps)
				   : default_steps <= horizon ? hj_bool(0) : hj_null());
	}
	hj_set(res, "csv", hj_str("convergence.csv"));
	hj_set(res, "pwmcc_csv", hj_str("convergence_pwmcc.csv"));
	hj_set(res, RJK_TRAINING_CURVES, hj_ref(curves));
	run_path(p, sizeof(p), r->run_dir, RUN_RESULTS);
	rc = hj_write_file(p, res, err);
done:
	if (csv)
		csvw_abort(csv);
	if (pcsv)
		csvw_abort(pcsv);
	hj_free(res);
	hj_free(recs);
	hj_free(curves);
	free(seeds);
	free(ks);
	exp_stats_release(&st);
	return rc;
}
