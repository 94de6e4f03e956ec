/*
 * exp_phase4a.c — phase 4a (docs/formulas.md §6.2): SAEs trained over five seeds at 128 × 1024, k 32 (the
 * `sae:` section says how: Run-29 preset by default, the legacy preset in configs/parity),
 * legacy preset (docs/formulas.md A2, §4.7 c: train rows only, batch 256, MSE + aux) in exp_preset.c),
 * compared with R1 Gaussian decoders of seeds 1000–1004, R2 (the same SAEs at step 0) and the
 * analytic null; results.json keeps upstream's keys (architecture, trained, random,
 * comparison, statistical_test, checkpoint_manifest, conclusion) and adds the controls,
 * seed-level statistics and steps trained.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

int exp_phase4a(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err)
{
	static const int64_t def_seeds[] = { 42, 123, 456, 789, 1011 };
	static const int64_t def_r1[] = { 1000, 1001, 1002, 1003, 1004 };
	int64_t *seeds = NULL;
	size_t ns;
	const char *preset;
	struct exp_stats st = { 0 };
	hj *res = NULL, *root = NULL, *g, *deviations = NULL;
	char **outs = NULL;
	int rc;
	if ((rc = cfg_int_list(c, "experiment.seeds", def_seeds, 5, &seeds, &ns, err)) ||
	    (rc = cfg_str(c, "experiment.preset", "run29", exp_preset_names, &preset, err)) ||
	    (rc = exp_preset_apply(c, preset, &deviations, err)) ||
	    (rc = exp_stats_read(c, &st, 17, 29, err)))
		goto done;
	if (!st.n_r1_seeds) { /* phase 4a's fixed control seeds, not seed + offset */
		free(st.r1_seeds);
		st.r1_seeds = malloc(sizeof(def_r1));
		if (!st.r1_seeds) {
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
			goto done;
		}
		memcpy(st.r1_seeds, def_r1, sizeof(def_r1));
		st.n_r1_seeds = 5;
	}
	outs = calloc(ns + 1, sizeof(*outs));
	for (size_t s = 0; outs && s < ns; s++) {
		char buf[128];
		run_sae_path(buf, sizeof(buf), NULL, "phase4a", seeds[s], NULL);
		outs[s] = strdup(buf);
	}
	char acts[PATH_MAX];
	if ((rc = exp_activations(r, c, ex, acts, sizeof(acts), err)) ||
	    (ex->activations && *ex->activations &&
	     (rc = exp_preset_check_acts(preset, acts, err))) ||
	    (rc = exp_train_saes(r, c, "sae", acts, &(const struct exp_cond){ "phase4a", { { 0 } }, 0 }, seeds, ns,
				 (const char *const *)outs, err)) ||
	    (rc = exp_analyze(r, c, "phase4a", seeds, ns, &st, err)))
		goto done;
	if (r->dry_run || r->validate_only || !runner_writes(r))
		goto done;
	if ((rc = exp_read_group(r, "phase4a", &root, &g, err)))
		goto done;
	res = hj_obj();
	hj_set(res, RJK_EXPERIMENT, hj_str("phase4a"));
	hj_set(res, RJK_RUN_METADATA, exp_run_metadata(r, NULL));
	hj_set(res, "preset", hj_str(preset));
	hj_set(res, "preset_settings", exp_preset_settings(preset));
	hj_set(res, "preset_deviations", hj_ref(deviations));
	hj_set(res, "architecture", hj_ref(hj_get(g, "architecture")));
	hj_set(res, RJK_TRAINED, hj_ref(hj_get(g, RJK_TRAINED)));
	hj_set(hj_get(res, RJK_TRAINED), RJK_PAIRWISE, exp_pairwise_json(hj_get(g, RJK_TRAINED)));
	hj_set(res, RJK_RANDOM, hj_ref(hj_get(g, RJK_RANDOM)));
	hj_set(res, "comparison", hj_ref(hj_get(g, "comparison")));
	hj_set(res, "statistical_test", hj_ref(hj_get(g, "statistical_test")));
	hj_set(res, "checkpoint_manifest", hj_ref(hj_get(g, "checkpoint_manifest")));
	hj_set(res, "conclusion", hj_ref(hj_get(g, "conclusion")));
	hj_set(res, RJK_CONTROLS, exp_controls_json(g));
	hj_set(res, "seed_level_bootstrap", hj_ref(hj_get(g, "seed_level_bootstrap")));
	hj *sl = exp_seed_level(hj_get(g, RJK_TRAINED), hj_get(g, RJK_RANDOM),
				hj_get(g, "controls.r1.seed_level_permutation"), st.bootstrap,
				(uint64_t)st.seed_level);
	hj_set(res, RJK_SEED_LEVEL, sl);
	exp_seed_level_params(sl, g);
	exp_apply_verdicts(&res, 1);
	hj_set(res, "metrics", hj_ref(hj_get(g, "metrics")));
	/* steps and reconstruction of what was trained: upstream's 120-step SAEs barely moved */
	hj *per_seed = hj_arr();
	for (size_t i = 0; i < ns && !rc; i++) {
		char p[PATH_MAX + 128];
		run_sae_path(p, sizeof(p), r->run_dir, "phase4a", seeds[i], NULL);
		struct exp_sae_final m = { 0 };
		if ((rc = exp_sae_final(p, &m, err)))
			break;
		hj *s = hj_obj();
		hj_set(s, "seed", hj_int(seeds[i]));
		static const char *const keys[] = { "steps_trained", RJK_MSE, RJK_EXPLAINED_VARIANCE,
						    "ev_fvu", RJK_L0, RJK_DEAD_FRACTION, NULL };
		exp_sae_final_put(s, &m, keys);
		hj_push(per_seed, s);
		if (i == 0)
			hj_set(res, "steps_trained", hj_int(m.steps));
		exp_sae_final_release(&m);
	}
	hj_set(res, RJK_PER_SEED_METRICS, per_seed);
	if (rc)
		goto done;
	/* the two CSVs of §6.2, seed_a,seed_b,pwmcc, copied from the analysis */
	/* file names: not a results.json key */
	static const char *const kinds[][2] = { { "trained", "trained_pairwise_pwmcc.csv" },
						{ "r1", "random_pairwise_pwmcc.csv" } };
	for (int k = 0; k < 2 && !rc; k++) {
		char src[PATH_MAX + 64], dst[PATH_MAX + 64], *text;
		size_t n;
		snprintf(src, sizeof(src), "%s/analysis/phase4a/phase4a_%s_pairwise_pwmcc.csv", r->run_dir,
			 kinds[k][0]);
		snprintf(dst, sizeof(dst), "%s/%s", r->run_dir, kinds[k][1]);
		if (!(rc = hus_read_file(src, &text, &n, err))) {
			rc = hus_write_file(dst, text, n, err);
			free(text);
		}
	}
	const struct exp_tidy_family fam = { "phase4a", "phase4a", "sae", res };
	if (!rc)
		rc = exp_write_tidy_csv(r->run_dir, "phase4a", &fam, 1, err);
	char p[PATH_MAX + 64];
	run_path(p, sizeof(p), r->run_dir, RUN_RESULTS);
	if (!rc)
		rc = hj_write_file(p, res, err);
done:
	hj_free(deviations);
	hj_free(res);
	hj_free(root);
	for (size_t i = 0; outs && outs[i]; i++)
		free(outs[i]);
	free(outs);
	free(seeds);
	exp_stats_release(&st);
	return rc;
}
