/*
 * exp_slice.c — the external benchmark-aligned slice (docs/formulas.md §6.6): trains nothing; reads an
 * archived phase 4a run and a core-ablation run (each first checked against its manifest),
 * picks the best k and d_sae records (EV mean > 0, then max delta), and applies the gates:
 * consistency (phase 4a trained > random with p < 0.05), robustness (both best deltas > 0).
 * The readiness for an external claim stays false, as upstream, until an official benchmark
 * is run; husai adds the seed-level result and the analytic null beside each gate.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

static int load_run(const char *dir, const char *kind, hj **out, struct hus_err *err)
{
	struct audit_report rep;
	int rc = manifest_audit(dir, NULL, &rep, err);
	if (rc)
		return rc;
	char p[PATH_MAX + 32];
	run_path(p, sizeof(p), dir, RUN_RESULTS);
	if ((rc = hj_read_file(p, out, err)))
		return rc;
	const char *k = hj_get_str(*out, RJK_EXPERIMENT);
	if (!k || strcmp(k, kind)) {
		hj_free(*out);
		return hus_errf(err, HUS_EINPUT, p, RJK_EXPERIMENT, "expected a %s run, found '%s'", kind,
				k ? k : "(none)");
	}
	return 0;
}

/* best_record (docs/formulas.md §6.6): among records with EV mean > 0 (all if none), max delta_pwmcc. */
static hj *best_record(hj *records)
{
	hj *best = NULL;
	int any_ev = 0;
	for (size_t i = 0; i < hj_len(records); i++)
		any_ev |= exp_jnum(hj_at(records, i), RJ_PATH2(RJK_EXPLAINED_VARIANCE, RJK_MEAN)) > 0.0;
	for (size_t i = 0; i < hj_len(records); i++) {
		hj *r = hj_at(records, i);
		if (any_ev && !(exp_jnum(r, RJ_PATH2(RJK_EXPLAINED_VARIANCE, RJK_MEAN)) > 0.0))
			continue;
		if (!best || exp_jnum(r, RJK_DELTA_PWMCC) > exp_jnum(best, RJK_DELTA_PWMCC))
			best = r;
	}
	return best;
}

int exp_slice(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err)
{
	(void)ex;
	const char *p4, *core;
	int rc;
	if ((rc = cfg_path(c, "experiment.phase4a_run", NULL, &p4, err)) ||
	    (rc = cfg_path(c, "experiment.core_ablations_run", NULL, &core, err)))
		return rc;
	if (!p4 || !core)
		/* the config's section: not a results.json key */
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment",
				"expected experiment.phase4a_run and experiment.core_ablations_run "
				"(run directories)");
	if (r->validate_only || r->dry_run || !runner_writes(r))
		return 0;
	hj *a = NULL, *b = NULL;
	if ((rc = load_run(p4, "phase4a", &a, err)) || (rc = load_run(core, "core_ablations", &b, err))) {
		hj_free(a);
		return rc;
	}
	hj *res = hj_obj(), *meta = exp_run_metadata(r, NULL);
	hj_set(meta, "core_ablations_source", hj_str(core));
	hj_set(meta, "phase4a_source", hj_str(p4));
	hj_set(res, RJK_EXPERIMENT, hj_str("benchmark_slice"));
	hj_set(res, RJK_RUN_METADATA, meta);
	hj *proto = hj_obj(), *cats = hj_arr();
	hj_set(proto, "name", hj_str("SAEBench/CE-Bench-aligned slice"));
	hj_set(proto, "is_official_suite", hj_bool(0));
	hj_push(cats, hj_str("consistency_vs_random_control"));
	hj_push(cats, hj_str("hyperparameter_robustness"));
	hj_push(cats, hj_str("causal_faithfulness_proxy"));
	hj_set(proto, "alignment_categories", cats);
	hj_set(proto, "notes", hj_str("aggregates archived husai runs; trains nothing"));
	hj_set(res, "protocol", proto);
	double tm = exp_jnum(a, RJ_PATH2(RJK_TRAINED, RJK_MEAN)), rm = exp_jnum(a, RJ_PATH2(RJK_RANDOM, RJK_MEAN)),
	       pv = exp_jnum(a, "statistical_test.p_value");
	int cons = tm > rm && pv < 0.05;
	hj *cc = hj_obj(), *ci = hj_arr(), *ri = hj_arr();
	hj_set(cc, "trained_pwmcc_mean", hj_num(tm));
	hj_push(ci, hj_num(exp_jnum(a, RJ_PATH2(RJK_TRAINED, RJK_CI95_LOW))));
	hj_push(ci, hj_num(exp_jnum(a, RJ_PATH2(RJK_TRAINED, RJK_CI95_HIGH))));
	hj_set(cc, "trained_ci95", ci);
	hj_set(cc, "random_pwmcc_mean", hj_num(rm));
	hj_push(ri, hj_num(exp_jnum(a, RJ_PATH2(RJK_RANDOM, RJK_CI95_LOW))));
	hj_push(ri, hj_num(exp_jnum(a, RJ_PATH2(RJK_RANDOM, RJK_CI95_HIGH))));
	hj_set(cc, "random_ci95", ri);
	hj_set(cc, "p_value_one_sided", hj_num(pv));
	hj_set(cc, "delta", hj_num(tm - rm));
	hj_set(cc, "pass", hj_bool(cons));
	hj_set(cc, RJK_SEED_LEVEL, hj_ref(hj_get(a, RJK_SEED_LEVEL)));
	/* the seed-level verdict (docs/formulas.md §8.8); "pass" keeps upstream's pair-level rule */
	hj_set(cc, RJK_VERDICT, hj_get(a, RJK_VERDICT) ? hj_ref(hj_get(a, RJK_VERDICT)) : hj_null());
	hj_set(cc, RJK_CONTROLS, hj_ref(hj_get(a, RJK_CONTROLS)));
	hj_set(res, "consistency_control", cc);
	hj *bk = best_record(hj_get(b, RJK_K_SWEEP)), *bd = best_record(hj_get(b, RJK_D_SAE_SWEEP));
	int robust = bk && bd && exp_jnum(bk, RJK_DELTA_PWMCC) > 0 && exp_jnum(bd, RJK_DELTA_PWMCC) > 0;
	hj *rob = hj_obj();
	hj_set(rob, "best_k_condition", bk ? hj_ref(bk) : hj_null());
	hj_set(rob, "best_d_sae_condition", bd ? hj_ref(bd) : hj_null());
	hj_set(rob, "pass", hj_bool(robust));
	hj_set(res, "robustness", rob);
	hj *cp = hj_obj();
	hj_set(cp, "available", hj_bool(0));
	hj_set(cp, "method", hj_null());
	hj_set(cp, "stable_effect_mean", hj_null());
	hj_set(cp, "unstable_effect_mean", hj_null());
	hj_set(cp, "delta", hj_null());
	hj_set(cp, "reason", hj_str("no causal-ablation artifact in husai yet"));
	hj_set(res, "causal_faithfulness_proxy", cp);
	hj *ov = hj_obj();
	hj_set(ov, "internal_gating_pass", hj_bool(cons && robust));
	hj_set(ov, "ready_for_external_benchmark_claim", hj_bool(0));
	hj_set(ov, "blocking_note", hj_str("official SAEBench/CE-Bench not run"));
	hj_set(res, "overall_readout", ov);
	char p[PATH_MAX + 32];
	run_path(p, sizeof(p), r->run_dir, RUN_RESULTS);
	rc = hj_write_file(p, res, err);
	hj_free(res);
	hj_free(a);
	hj_free(b);
	return rc;
}
