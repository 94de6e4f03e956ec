/*
 * exp_core.c — core ablations (docs/formulas.md §6.3) and the demo: a k sweep at fixed d_sae and a d_sae
 * sweep at fixed k, each condition trained over the same seeds in one job (the conditions'
 * jobs form one batch, shared by the ranks of an MPI run, then their analyses), each analysed
 * against R1, R2 and the analytic null, aggregated into results.json records with the
 * upstream keys (grid, d_sae, k, n_seeds, trained_pwmcc, random_pwmcc, delta_pwmcc,
 * ratio_pwmcc, mse, explained_variance, l0, runtime_sec, per_seed_metrics, pairwise values)
 * plus husai's additions (controls, seed_level, steps_trained, ev_fvu, training curves,
 * per-feature stability), and the two summary CSVs of §6.3.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

struct core_cond {
	char name[96];
	const char *grid; /* k_sweep or d_sae_sweep */
	int64_t d_sae, k;
	const char *src;  /* the condition whose SAEs it analyses: itself, or an earlier one of the
			   * same (d_sae, k) (the grids cross at fixed_d_sae, fixed_k: training is
			   * deterministic, so the same SAEs are trained once and analysed for both) */
};

/* CSV columns: not a results.json key */
static const char *const csv_cols[] = {
	"grid", "d_sae", "k", "n_seeds", "trained_pwmcc_mean", "trained_pwmcc_ci95_low",
	"trained_pwmcc_ci95_high", "random_pwmcc_mean", "random_pwmcc_ci95_low",
	"random_pwmcc_ci95_high", "delta_pwmcc", "ratio_pwmcc", "mse_mean", "mse_ci95_low",
	"mse_ci95_high", "explained_variance_mean", "explained_variance_ci95_low",
	"explained_variance_ci95_high", "l0_mean", "l0_ci95_low", "l0_ci95_high", "runtime_sec",
};
#define NCOLS (sizeof(csv_cols) / sizeof(csv_cols[0]))

/* The <name>_mean, <name>_ci95_low, <name>_ci95_high columns of a summary (docs/formulas.md §6.3). */
static void csv_summary(struct csvw *w, hj *record, const char *name)
{
	static const char *const fields[] = { RJK_MEAN, RJK_CI95_LOW, RJK_CI95_HIGH };
	for (int f = 0; f < 3; f++) {
		char p[64];
		snprintf(p, sizeof(p), "%s.%s", name, fields[f]);
		csvw_f64(w, exp_jnum(record, p));
	}
}

static int write_csv(const char *path, hj *records, struct hus_err *err)
{
	struct csvw *w;
	int rc = csvw_open(&w, path, csv_cols, NCOLS, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < hj_len(records); i++) {
		hj *r = hj_at(records, i);
		csvw_str(w, hj_get_str(r, "grid"));
		csvw_f64(w, exp_jnum(r, RJK_D_SAE));
		csvw_f64(w, exp_jnum(r, RJK_K));
		csvw_f64(w, exp_jnum(r, RJK_N_SEEDS));
		csv_summary(w, r, RJK_TRAINED_PWMCC);
		csv_summary(w, r, RJK_RANDOM_PWMCC);
		csvw_f64(w, exp_jnum(r, RJK_DELTA_PWMCC));
		csvw_f64(w, exp_jnum(r, "ratio_pwmcc"));
		csv_summary(w, r, RJK_MSE);
		csv_summary(w, r, RJK_EXPLAINED_VARIANCE);
		csv_summary(w, r, RJK_L0);
		csvw_f64(w, exp_jnum(r, "runtime_sec"));
		if ((rc = csvw_end_row(w, err))) {
			csvw_abort(w);
			return rc;
		}
	}
	return csvw_commit(w, err);
}

/* One condition's record from its analysis and its checkpoints' final metrics. */
static int core_record(struct runner *r, const struct core_cond *cc, const int64_t *seeds,
                       size_t ns, const struct exp_stats *st, const int64_t metric_seeds[3],
                       hj *curves, hj *stability, int64_t fn_boot, hj **out,
                       struct hus_err *err)
{
	hj *root, *g;
	int rc = exp_read_group(r, cc->name, &root, &g, err);
	if (rc)
		return rc;
	double *mse = calloc(ns, sizeof(double)), *ev = calloc(ns, sizeof(double)),
	       *l0 = calloc(ns, sizeof(double)), *fvu = calloc(ns, sizeof(double));
	hj *rec = hj_obj(), *per_seed = hj_arr();
	int64_t steps = -1;
	for (size_t i = 0; i < ns && !rc; i++) {
		char p[PATH_MAX + 300], rel[256];
		run_sae_path(rel, sizeof(rel), NULL, cc->src, seeds[i], NULL);
		run_sae_path(p, sizeof(p), r->run_dir, cc->src, seeds[i], NULL);
		struct exp_sae_final m = { 0 };
		if ((rc = exp_sae_final(p, &m, err)) ||
		    (rc = exp_sae_matches(&m, p, cc->d_sae, cc->k, err))) {
			exp_sae_final_release(&m);
			break;
		}
		mse[i] = m.mse, ev[i] = m.ev, l0[i] = m.l0, fvu[i] = m.ev_fvu;
		steps = m.steps;
		hj *s = hj_obj();
		hj_set(s, "seed", hj_int(seeds[i]));
		hj_set(s, "checkpoint", hj_str(rel));
		static const char *const keys[] = { RJK_MSE, RJK_L0, RJK_EXPLAINED_VARIANCE, "ev_fvu",
						    "steps_trained", RJK_DEAD_FRACTION, NULL };
		exp_sae_final_put(s, &m, keys);
		hj_push(per_seed, s);
		if (m.curve_n && curves) {
			static const char *const names[] = { RJK_STEP, RJK_MSE, RJK_EXPLAINED_VARIANCE, RJK_L0,
							     RJK_DEAD_FRACTION };
			hj *cv = hj_obj();
			for (int k = 0; k < 5; k++)
				if (m.curve[k])
					hj_set(cv, names[k], hj_f64_array(m.curve[k], m.curve_n));
			char key[160];
			snprintf(key, sizeof(key), "%s/%" PRId64, cc->name, seeds[i]);
			hj_set(curves, key, cv);
		}
		exp_sae_final_release(&m);
	}
	if (!rc) {
		hj_set(rec, "grid", hj_str(cc->grid));
		hj_set(rec, RJK_CONDITION, hj_str(cc->name));
		if (strcmp(cc->src, cc->name)) /* the same SAEs as that condition (struct core_cond) */
			hj_set(rec, "sae_shared_with", hj_str(cc->src));
		hj_set(rec, RJK_D_SAE, hj_int(cc->d_sae));
		hj_set(rec, RJK_K, hj_int(cc->k));
		hj_set(rec, RJK_N_SEEDS, hj_int((int64_t)ns));
		exp_record_pwmcc(rec, g);
		hj *s;
		if (!(s = exp_summary_json(mse, ns, st->bootstrap, (uint64_t)metric_seeds[0], err)))
			rc = err->code;
		hj_set(rec, RJK_MSE, s);
		if (!rc && !(s = exp_summary_json(ev, ns, st->bootstrap, (uint64_t)metric_seeds[1], err)))
			rc = err->code;
		hj_set(rec, RJK_EXPLAINED_VARIANCE, s);
		if (!rc && !(s = exp_summary_json(l0, ns, st->bootstrap, (uint64_t)metric_seeds[2], err)))
			rc = err->code;
		hj_set(rec, RJK_L0, s);
		if (!rc && !(s = exp_summary_json(fvu, ns, st->bootstrap, (uint64_t)metric_seeds[1], err)))
			rc = err->code;
		hj_set(rec, "ev_fvu", s);
		hj_set(rec, "runtime_sec", hj_null()); /* see notes.runtime_sec */
		hj_set(rec, "steps_trained", hj_int(steps));
		hj_set(rec, RJK_PER_SEED_METRICS, per_seed);
		per_seed = NULL;
		exp_record_controls(rec, g, st);
		hj_set(rec, "statistical_test", hj_ref(hj_get(g, "statistical_test")));
		hj_set(rec, "metrics", hj_ref(hj_get(g, "metrics")));
		if (stability && !rc) {
			/* trained SAEs against the same SAEs untrained (R2, step 0) */
			const char **tp = calloc(ns, sizeof(*tp)), **cp = calloc(ns, sizeof(*cp));
			char **bufs = calloc(2 * ns, sizeof(*bufs));
			for (size_t i = 0; tp && cp && bufs && i < ns; i++) {
				bufs[2 * i] = malloc(PATH_MAX + 300);
				bufs[2 * i + 1] = malloc(PATH_MAX + 300);
				if (!bufs[2 * i] || !bufs[2 * i + 1])
					continue;
				run_sae_path(bufs[2 * i], PATH_MAX + 300, r->run_dir, cc->src, seeds[i],
					     NULL);
				run_sae_path(bufs[2 * i + 1], PATH_MAX + 300, r->run_dir, cc->src,
					     seeds[i], "_step0");
				tp[i] = bufs[2 * i];
				cp[i] = bufs[2 * i + 1];
			}
			hj *t = tp && cp && bufs ? exp_feature_stability(tp, ns, err) : NULL;
			hj *u = t ? exp_feature_stability(cp, ns, err) : NULL;
			if (!t || !u) {
				rc = err->code ? err->code : HUS_ENOMEM;
				hj_free(t);
			} else {
				hj *fs = hj_obj();
				hj_set(fs, RJK_TRAINED, t);
				hj_set(fs, RJK_CONTROL, u);
				hj_set(fs, "control_kind", hj_str("r2: the same SAEs at step 0"));
				hj_set(stability, cc->name, fs);
			}
			for (size_t i = 0; bufs && i < 2 * ns; i++)
				free(bufs[i]);
			free(bufs), free(tp), free(cp);
		}
		hj_set(rec, "analysis", hj_str("analysis/")); /* + condition: the per-condition outputs */
		if (fn_boot >= 0 && !rc) { /* beside the geometric PW-MCC above (docs/formulas.md §11) */
			hj *f = exp_functional_json(r, cc->src, st->bootstrap, (uint64_t)fn_boot, err);
			if (!f)
				rc = err->code ? err->code : HUS_EINPUT;
			else
				hj_set(rec, RJK_FUNCTIONAL, f);
		}
	}
	hj_free(per_seed);
	free(mse), free(ev), free(l0), free(fvu);
	hj_free(root);
	if (rc) {
		hj_free(rec);
		return rc;
	}
	*out = rec;
	return 0;
}

int exp_core_grid(struct runner *r, struct cfg *c, const struct experiment *ex, const char *kind,
                  struct hus_err *err)
{
	static const int64_t def_seeds[] = { 42, 123, 456 }, def_k[] = { 8, 16, 32, 64 },
			     def_d[] = { 64, 128, 256, 512 };
	int64_t *seeds = NULL, *ks = NULL, *ds = NULL, fixed_d, fixed_k, mseed, evseed, l0seed;
	int64_t fn_seed, fn_boot;
	int fn_on;
	size_t ns, nk, nd;
	struct exp_stats st = { 0 };
	struct core_cond *conds = NULL;
	hj *res = NULL;
	int rc;
	if ((rc = cfg_int_list(c, "experiment.seeds", def_seeds, 3, &seeds, &ns, err)) ||
	    (rc = cfg_int_list(c, "experiment.k_values", def_k, 4, &ks, &nk, err)) ||
	    (rc = cfg_int_list(c, "experiment.d_sae_values", def_d, 4, &ds, &nd, err)) ||
	    (rc = cfg_int(c, "experiment.fixed_d_sae", 128, 1, 1 << 24, &fixed_d, err)) ||
	    (rc = cfg_int(c, "experiment.fixed_k", 32, 1, 1 << 24, &fixed_k, err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_mse", 37, 0, INT64_MAX, &mseed, err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_explained_variance", 41, 0, INT64_MAX, &evseed,
			  err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_l0", 43, 0, INT64_MAX, &l0seed, err)) ||
	    (rc = exp_stats_read(c, &st, 11, 23, err)) ||
	    (rc = exp_functional_read(c, ex, &fn_on, &fn_seed, &fn_boot, err)))
		goto done;
	if (ns < 1) {
		rc = hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.seeds", "expected at least one seed");
		goto done;
	}
	size_t nc = nk + nd;
	conds = calloc(nc ? nc : 1, sizeof(*conds));
	if (!conds) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < nc; i++) {
		struct core_cond *cc = &conds[i];
		cc->grid = i < nk ? RJK_K_SWEEP : RJK_D_SAE_SWEEP;
		cc->d_sae = i < nk ? fixed_d : ds[i - nk];
		cc->k = i < nk ? ks[i] : fixed_k;
		snprintf(cc->name, sizeof(cc->name), "%s_dsae%" PRId64 "_k%" PRId64, cc->grid, cc->d_sae,
			 cc->k);
		cc->src = cc->name;
		for (size_t j = 0; j < i; j++)
			if (conds[j].d_sae == cc->d_sae && conds[j].k == cc->k && conds[j].src == conds[j].name) {
				cc->src = conds[j].name;
				break;
			}
	}
	char acts[PATH_MAX];
	if ((rc = exp_activations(r, c, ex, acts, sizeof(acts), err)))
		goto done;
	runner_batch_begin(r);
	for (size_t i = 0; i < nc && !rc; i++) {
		if (conds[i].src != conds[i].name)
			continue; /* trained once, under the first condition of its (d_sae, k) */
		char job[128];
		snprintf(job, sizeof(job), "sae_%s", conds[i].name);
		/* config keys: not a results.json key */
		struct exp_cond cond = { conds[i].name,
					 { { "d_sae", conds[i].d_sae, 0, 0, NULL }, { "k", conds[i].k, 0, 0, NULL } },
					 2 };
		rc = exp_train_condition(r, c, job, acts, &cond, seeds, ns, 0, NULL, err);
	}
	if ((rc = runner_batch_end(r, rc, err)))
		goto done;
	runner_batch_begin(r);
	for (size_t i = 0; i < nc && !rc; i++) {
		const char **dirs = calloc(ns, sizeof(*dirs));
		for (size_t s = 0; dirs && s < ns; s++)
			dirs[s] = conds[i].src;
		rc = dirs ? exp_analyze_dirs(r, c, conds[i].name, dirs, seeds, ns, &st, err)
			  : hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		free(dirs);
	}
	if ((rc = runner_batch_end(r, rc, err)))
		goto done;
	if (fn_on) { /* the functional test of each trained group, after its matchings exist */
		runner_batch_begin(r);
		for (size_t i = 0; i < nc && !rc; i++)
			if (conds[i].src == conds[i].name)
				rc = exp_functional_job(r, ex, conds[i].name, conds[i].src, acts, seeds, ns,
				                        fn_seed, err);
		if ((rc = runner_batch_end(r, rc, err)))
			goto done;
	}
	/* aggregation: rank 0, once every analysis is in */
	if (r->dry_run || r->validate_only || !runner_writes(r))
		goto done;
	/* aggregate */
	res = hj_obj();
	hj_set(res, RJK_EXPERIMENT, hj_str(kind));
	hj_set(res, RJK_RUN_METADATA, exp_run_metadata(r, NULL));
	if (!strcmp(kind, "stability")) {
		hj *set = acts_summary_json(acts, err);
		if (!set) {
			rc = err->code ? err->code : HUS_EINPUT;
			goto done;
		}
		hj_set(res, "activation_set", set);
	}
	hj *grids[2] = { hj_arr(), hj_arr() }, *curves = hj_obj(), *stab = hj_obj();
	hj_set(res, RJK_K_SWEEP, grids[0]); /* res owns them; the names stay valid borrowed pointers */
	hj_set(res, RJK_D_SAE_SWEEP, grids[1]);
	hj_set(res, RJK_TRAINING_CURVES, curves);
	hj_set(res, RJK_PER_FEATURE_STABILITY, stab);
	const int64_t mseeds[3] = { mseed, evseed, l0seed };
	for (size_t i = 0; i < nc && !rc; i++) {
		hj *rec;
		if (!(rc = core_record(r, &conds[i], seeds, ns, &st, mseeds, curves, stab,
		                       fn_on ? fn_boot : -1, &rec, err)))
			hj_push(grids[i < nk ? 0 : 1], rec);
	}
	if (!rc) /* one family: every condition of both grids (a shared condition counts twice: conservative) */
		exp_apply_verdicts_lists(grids, 2);
	hj *notes = hj_obj();
	hj_set(notes, "decoder_orientation",
	       hj_str("W_dec is [d_model, d_sae] for every condition; the upstream transpose-by-shape "
		      "(docs/formulas.md §5.1, §8.6) is not reproduced, so d_sae < d_model compares like with like"));
	hj_set(notes, "runtime_sec", hj_str("null: a timing is not a result (it depends on the machine, "
					    "the load and the number of ranks); see logs/ for timings"));
	hj_set(res, "notes", notes);
	if (rc)
		goto done;
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/k_sweep_summary.csv", r->run_dir);
	if ((rc = write_csv(p, grids[0], err)))
		goto done;
	snprintf(p, sizeof(p), "%s/d_sae_sweep_summary.csv", r->run_dir);
	if ((rc = write_csv(p, grids[1], err)))
		goto done;
	/* the CSV's family column: not a results.json key */
	const struct exp_tidy_family fam[2] = { { "k_sweep", NULL, NULL, grids[0] },
						{ "d_sae_sweep", NULL, NULL, grids[1] } };
	if ((rc = exp_write_tidy_csv(r->run_dir, "core_ablations", fam, 2, err)))
		goto done;
	run_path(p, sizeof(p), r->run_dir, RUN_RESULTS);
	rc = hj_write_file(p, res, err);
done:
	hj_free(res);
	free(conds);
	free(seeds), free(ks), free(ds);
	exp_stats_release(&st);
	return rc;
}

int exp_core(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err)
{
	return exp_core_grid(r, c, ex, "core_ablations", err);
}
