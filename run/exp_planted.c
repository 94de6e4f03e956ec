/*
 * exp_planted.c — planted ground truth (issue 21; docs/formulas.md §10): one planted activation
 * set (`husai plant` from the config's `plant:` section), SAEs of every listed architecture
 * over the seeds, one analysis per architecture with --truth (MCC to the true dictionary,
 * per-feature recovery, code precision/recall) and --stability-threshold (per-feature
 * stability probability, unstable subspaces), then results.json: per architecture the
 * cross-seed PW-MCC beside the MCC to the truth, the two rankings, and how PW-MCC and MCC
 * correlate across seeds (each seed's mean PW-MCC to the other seeds against its MCC) and
 * across architectures (condition means): is PW-MCC a proxy for the truth?
 */
#include <gsl/gsl_statistics_double.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

static const char *const known_archs[] = { "topk", "topk_upstream", "relu", "batchtopk",
					    "jumprelu", "matryoshka", NULL };

#define MAX_ARCH 8

/* Pearson and Spearman correlation of x and y (n >= 3), NaN otherwise. */
static hj *correlation_json(const double *x, const double *y, size_t n, const char *what)
{
	hj *o = hj_obj();
	double pr = NAN, sr = NAN;
	if (n >= 3) {
		double *work = malloc(sizeof(double) * 2 * n);
		pr = gsl_stats_correlation(x, 1, y, 1, n);
		if (work)
			sr = gsl_stats_spearman(x, 1, y, 1, n, work);
		free(work);
	}
	hj_set(o, "definition", hj_str(what));
	hj_set(o, RJK_N, hj_int((int64_t)n));
	hj_set(o, "pearson", hj_num(pr));
	hj_set(o, RJK_SPEARMAN, hj_num(sr));
	return o;
}

/* Names of the conditions sorted by value, descending (stable: ties keep config order). */
static hj *ranking_json(char names[][32], const double *v, size_t n)
{
	size_t idx[MAX_ARCH];
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = 1; i < n; i++) /* insertion sort: n is tiny */
		for (size_t j = i; j > 0 && (v[idx[j]] > v[idx[j - 1]] ||
					     (isnan(v[idx[j - 1]]) && !isnan(v[idx[j]]))); j--) {
			size_t t = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	hj *a = hj_arr();
	for (size_t i = 0; i < n; i++) {
		hj *e = hj_obj();
		hj_set(e, RJK_CONDITION, hj_str(names[idx[i]]));
		hj_set(e, "value", hj_num(v[idx[i]]));
		hj_push(a, e);
	}
	return a;
}

int exp_planted(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err)
{
	static const int64_t def_seeds[] = { 1, 2, 3, 4, 5 };
	int64_t *seeds = NULL;
	size_t ns = 0, na = 0;
	struct exp_stats st = { 0 };
	const char *arch_list;
	char archs[MAX_ARCH][32];
	double thr, mcc_m[MAX_ARCH], pw_m[MAX_ARCH];
	hj *res = NULL;
	double *xs = NULL, *ys = NULL;
	int rc;
	if ((rc = cfg_int_list(c, "experiment.seeds", def_seeds, 5, &seeds, &ns, err)) ||
	    (rc = cfg_str(c, "experiment.architectures", "topk,relu,batchtopk,jumprelu,matryoshka",
			  NULL, &arch_list, err)) ||
	    (rc = cfg_f64_in(c, "experiment.stability_threshold", 0.7, 0, 1, 1, 0, &thr, err)) ||
	    (rc = exp_stats_read(c, &st, 17, 29, err)))
		goto done;
	if (ns < 2) {
		rc = hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.seeds",
			      "expected at least two seeds (PW-MCC compares seeds)");
		goto done;
	}
	for (const char *p = arch_list; *p;) {
		size_t len = strcspn(p, ", ");
		if (len) {
			int ok = 0;
			for (size_t k = 0; known_archs[k]; k++)
				ok |= strlen(known_archs[k]) == len && !strncmp(known_archs[k], p, len);
			for (size_t k = 0; ok && k < na; k++)
				ok = strlen(archs[k]) != len || strncmp(archs[k], p, len);
			if (!ok || na == MAX_ARCH) {
				rc = hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.architectures",
					      "'%.*s' is not a new SAE architecture (expected up to %d of "
					      "topk, topk_upstream, relu, batchtopk, jumprelu, matryoshka, "
					      "separated by commas)", (int)len, p, MAX_ARCH);
				goto done;
			}
			snprintf(archs[na++], sizeof(archs[0]), "%.*s", (int)len, p);
		}
		p += len;
		p += strspn(p, ", ");
	}
	if (!na) {
		rc = hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.architectures",
			      "expected at least one architecture");
		goto done;
	}
	if (ex->activations && *ex->activations) {
		rc = hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.activations",
			      "the planted kind makes its own activation set from `plant:`; remove "
			      "experiment.activations");
		goto done;
	}
	/* the planted set */
	char job[PATH_MAX + 64], acts[PATH_MAX + 64];
	static const char *const psecs[] = { "plant", NULL };
	if ((rc = exp_job_config(r, c, "plant", psecs, job, sizeof(job), err)))
		goto done;
	snprintf(acts, sizeof(acts), "%s/planted.h5", r->run_dir);
	{
		const char *argv[] = { "plant", "--out", acts, job, NULL };
		const char *outs[] = { "planted.h5", NULL };
		if ((rc = runner_job(r, "plant", argv, outs, err)))
			goto done;
	}
	/* SAEs: one condition per architecture (matryoshka nested at d_sae/4, d_sae/2, d_sae
	 * unless the sae section says otherwise) */
	int64_t d_sae = 0;
	if ((rc = cfg_int(c, "sae.d_sae", 1024, 1, (int64_t)1 << 26, &d_sae, err)))
		goto done;
	runner_batch_begin(r);
	for (size_t i = 0; i < na && !rc; i++) {
		char jn[96], prefixes[96];
		snprintf(jn, sizeof(jn), "sae_%s", archs[i]);
		struct exp_cond cond = { archs[i], { { "architecture", 0, 0, 0, archs[i] } }, 1 };
		if (!strcmp(archs[i], "matryoshka") && !cfg_has(c, "sae.matryoshka.prefixes")) {
			snprintf(prefixes, sizeof(prefixes), "%" PRId64 ",%" PRId64 ",%" PRId64,
				 d_sae / 4 ? d_sae / 4 : 1, d_sae / 2 ? d_sae / 2 : 1, d_sae);
			cond.set[cond.n++] = (struct exp_setting){ "matryoshka.prefixes", 0, 0, 0, prefixes };
		}
		rc = exp_train_condition(r, c, jn, acts, &cond, seeds, ns, 0, NULL, err);
	}
	if ((rc = runner_batch_end(r, rc, err)))
		goto done;
	/* analyses with the truth */
	char thr_s[32];
	snprintf(thr_s, sizeof(thr_s), "%.17g", thr);
	const char *extra[] = { "--truth", acts, "--stability-threshold", thr_s, NULL };
	st.analyze_extra = extra;
	runner_batch_begin(r);
	for (size_t i = 0; i < na && !rc; i++)
		rc = exp_analyze(r, c, archs[i], seeds, ns, &st, err);
	if ((rc = runner_batch_end(r, rc, err)) || r->dry_run || r->validate_only || !runner_writes(r))
		goto done;
	/* aggregate, from the analyses' results.json */
	res = hj_obj();
	hj_set(res, RJK_EXPERIMENT, hj_str("planted"));
	hj_set(res, RJK_RUN_METADATA, exp_run_metadata(r, NULL));
	{
		hj *pl = planted_summary_json(acts, "planted.h5", err);
		if (!pl) {
			rc = err->code ? err->code : HUS_EINTERNAL;
			goto done;
		}
		hj_set(res, "planted", pl);
	}
	hj_set(res, "stability_threshold", hj_num(thr));
	hj *conds = hj_arr();
	hj_set(res, RJK_CONDITIONS, conds);
	xs = calloc(na * ns, sizeof(double));
	ys = calloc(na * ns, sizeof(double));
	if (!xs || !ys) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	size_t npts = 0;
	for (size_t i = 0; i < na && !rc; i++) {
		hj *root, *g;
		if ((rc = exp_read_group(r, archs[i], &root, &g, err)))
			break;
		hj *rec = hj_obj();
		hj_set(rec, RJK_CONDITION, hj_str(archs[i]));
		hj_set(rec, "architecture", hj_str(archs[i]));
		hj_set(rec, RJK_N_SEEDS, hj_int((int64_t)ns));
		exp_record_pwmcc(rec, g);
		hj *truth = hj_get(g, "truth"), *sp = hj_get(g, "stability_probability");
		hj_set(rec, "truth", truth ? hj_ref(truth) : hj_null());
		hj_set(rec, "stability_probability", sp ? hj_ref(sp) : hj_null());
		{ /* the histogram as one line for the report's table */
			hj *h = sp ? hj_get(sp, "histogram") : NULL;
			char txt[512] = "";
			for (size_t b = 0; h && b < hj_len(h) && strlen(txt) < sizeof(txt) - 32; b++)
				snprintf(txt + strlen(txt), sizeof(txt) - strlen(txt), "%s%.0f",
					 b ? ", " : "", hj_as_f64(hj_at(h, b)));
			hj_set(rec, "stability_histogram_text", hj_str(txt));
		}
		hj_set(rec, "analysis", hj_str("analysis/")); /* + condition */
		/* per seed: MCC to the truth and mean PW-MCC to the other seeds */
		hj *tseeds = hj_get(g, RJ_PATH2(RJK_TRAINED, RJK_SEEDS)), *pv = hj_get(g, RJ_PATH2(RJK_TRAINED, RJK_PWMCC_VALUES));
		hj *mv = hj_get(g, "truth.mcc.values");
		size_t n = hj_len(tseeds);
		hj *per = hj_arr();
		mcc_m[i] = exp_jnum(g, "truth.mcc.mean");
		pw_m[i] = exp_jnum(g, RJ_PATH2(RJK_TRAINED, RJK_MEAN));
		for (size_t s = 0; s < n && n == hj_len(mv) && hj_len(pv) == n * (n - 1) / 2; s++) {
			double sum = 0;
			size_t p = 0;
			for (size_t a = 0; a < n; a++) /* pairs (a<b) in lexicographic order */
				for (size_t b = a + 1; b < n; b++, p++)
					if (a == s || b == s)
						sum += hj_as_f64(hj_at(pv, p));
			double m = sum / (double)(n - 1), t = hj_as_f64(hj_at(mv, s));
			hj *e = hj_obj();
			hj_set(e, "seed", hj_ref(hj_at(tseeds, s)));
			hj_set(e, RJK_MCC_TRUTH, hj_num(t));
			hj_set(e, RJK_PWMCC_MEAN_TO_OTHERS, hj_num(m));
			hj_push(per, e);
			if (isfinite(m) && isfinite(t)) {
				xs[npts] = m;
				ys[npts] = t;
				npts++;
			}
		}
		hj_set(rec, RJK_PER_SEED, per);
		hj_set(rec, RJK_MCC_TRUTH_MEAN, hj_num(mcc_m[i]));
		hj_push(conds, rec);
		hj_free(root);
	}
	if (rc)
		goto done;
	hj *rank = hj_obj();
	hj_set(rank, "by_mcc_truth", ranking_json(archs, mcc_m, na));
	hj_set(rank, "by_pwmcc", ranking_json(archs, pw_m, na));
	hj_set(res, "ranking", rank);
	hj *cor = hj_obj();
	hj_set(cor, RJK_ACROSS_SEEDS,
	       correlation_json(xs, ys, npts, "every (architecture, seed): the seed's mean PW-MCC "
				"to the other seeds of its architecture against its MCC to the truth"));
	hj_set(cor, "across_conditions",
	       correlation_json(pw_m, mcc_m, na, "per architecture: mean PW-MCC against mean MCC "
				"to the truth"));
	hj_set(res, RJK_CORRELATION_PWMCC_MCC, cor);
	char p[PATH_MAX + 64];
	run_path(p, sizeof(p), r->run_dir, RUN_RESULTS);
	rc = hj_write_file(p, res, err);
done:
	hj_free(res);
	free(xs), free(ys);
	free(seeds);
	exp_stats_release(&st);
	return rc;
}
