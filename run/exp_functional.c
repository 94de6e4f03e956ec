/*
 * exp_functional.c — the optional functional-consistency step of an experiment
 * (`experiment.functional: true`, docs/formulas.md §11): one `husai functional` job per
 * condition after its analysis (the matchings come from the analysis.h5), and the record's
 * `functional` block built from the job's functional.json: summaries with bootstrap CIs over
 * the pairs and over the seeds (each seed's mean over the pairs it is in), beside the
 * condition's geometric PW-MCC.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

int exp_functional_read(struct cfg *c, const struct experiment *ex, int *on, int64_t *seed,
                        int64_t *boot_seed, struct hus_err *err)
{
	int rc;
	if ((rc = cfg_bool(c, "experiment.functional", 0, on, err)) ||
	    (rc = cfg_int(c, "experiment.functional_seed", 0, 0, INT32_MAX, seed, err)) ||
	    (rc = cfg_int(c, "experiment.bootstrap_seed_functional", 47, 0, INT64_MAX, boot_seed,
	                  err)))
		return rc;
	if (*on && ex->activations && *ex->activations && !(ex->transformer && *ex->transformer))
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.functional",
		                "the functional test runs the transformer: with "
		                "experiment.activations, also give experiment.transformer");
	return 0;
}

int exp_functional_job(struct runner *r, const struct experiment *ex, const char *cond,
                       const char *src, const char *acts, const int64_t *seeds, size_t ns,
                       int64_t seed, struct hus_err *err)
{
	char tf[PATH_MAX + 64], match[PATH_MAX + 64], out[PATH_MAX + 64], sd[32], name[160];
	if (ex->transformer && *ex->transformer)
		snprintf(tf, sizeof(tf), "%s", ex->transformer);
	else
		snprintf(tf, sizeof(tf), "%s/transformer/transformer_final.h5", r->run_dir);
	snprintf(match, sizeof(match), "%s/analysis/%s/analysis.h5", r->run_dir, cond);
	snprintf(out, sizeof(out), "%s/functional/%s", r->run_dir, cond);
	snprintf(sd, sizeof(sd), "%" PRId64, seed);
	snprintf(name, sizeof(name), "functional_%s", cond);
	size_t cap = 64 + strlen(cond) + ns * (PATH_MAX / 4);
	char *group = malloc(cap);
	if (!group)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	int g = snprintf(group, cap, "%s=", cond);
	for (size_t i = 0; i < ns; i++)
		g += snprintf(group + g, cap - (size_t)g, "%s%s/sae/%s/sae_seed%" PRId64 ".h5",
		              i ? "," : "", r->run_dir, src, seeds[i]);
	/* a verb: not a results.json key */
	const char *argv[] = { "functional", "--transformer", tf,   "--activations", acts,
		               "--matching", match,        "--group", group,    "--out",
		               out,          "--seed",     sd,        NULL };
	char o1[PATH_MAX];
	snprintf(o1, sizeof(o1), "functional/%s/functional.json", cond);
	const char *outs[] = { o1, NULL };
	int rc = runner_job(r, name, argv, outs, err);
	free(group);
	return rc;
}

/* each seed's mean of v over the pairs it belongs to (pairs with a NaN value skipped) */
static size_t per_seed(const double *v, hj *sa, hj *sb, size_t np, double *out)
{
	int64_t seen[256];
	size_t n = 0;
	for (size_t p = 0; p < 2 * np; p++) {
		int64_t s;
		if (hj_get_i64(hj_at(p < np ? sa : sb, p % np), "", &s))
			continue;
		size_t k = 0;
		while (k < n && seen[k] != s)
			k++;
		if (k == n && n < 256)
			seen[n++] = s;
	}
	for (size_t k = 0; k < n; k++) {
		double sum = 0.0;
		size_t c = 0;
		for (size_t p = 0; p < np; p++) {
			int64_t a = -1, b = -1;
			hj_get_i64(hj_at(sa, p), "", &a);
			hj_get_i64(hj_at(sb, p), "", &b);
			if ((a == seen[k] || b == seen[k]) && !isnan(v[p]))
				sum += v[p], c++;
		}
		out[k] = c ? sum / (double)c : NAN;
	}
	return n;
}

static int vec(hj *pairs, const char *key, double *v, size_t np)
{
	hj *a = hj_get(pairs, key);
	if (!hj_is_arr(a) || hj_len(a) != np)
		return -1;
	for (size_t p = 0; p < np; p++)
		v[p] = hj_as_f64(hj_at(a, p));
	return 0;
}

hj *exp_functional_json(struct runner *r, const char *cond, size_t B, uint64_t boot_seed,
                        struct hus_err *err)
{
	static const char *const keys[] = { RJK_MATCHED_ABS_DLOSS, RJK_RANDOM_ABS_DLOSS, "matched_dloss",
		                            "random_dloss", "matched_dacc", "random_dacc",
		                            RJK_FINGERPRINT_COS_MATCHED, RJK_FINGERPRINT_COS_RANDOM };
	enum { NK = sizeof(keys) / sizeof(keys[0]) };
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/functional/%s/functional.json", r->run_dir, cond);
	hj *root = NULL, *out = NULL;
	if (hj_read_file(path, &root, err))
		return NULL;
	hj *pairs = hj_get(root, "pairs"), *sa = hj_get(pairs, RJK_SEED_A), *sb = hj_get(pairs, RJK_SEED_B);
	size_t np = hj_is_arr(sa) ? hj_len(sa) : 0;
	double *v = calloc(NK * (np ? np : 1), sizeof(double)), *d = calloc(np ? np : 1, sizeof(double));
	double *s = calloc(2 * np + 1, sizeof(double));
	if (!v || !d || !s) {
		hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	if (np == 0 || !hj_is_arr(sb) || hj_len(sb) != np) {
		hus_errf(err, HUS_EINPUT, path, "pairs", "expected the seed_a and seed_b of >= 1 pair");
		goto done;
	}
	for (size_t k = 0; k < NK; k++)
		if (vec(pairs, keys[k], v + k * np, np)) {
			hus_errf(err, HUS_EINPUT, path, keys[k], "expected one number per pair");
			goto done;
		}
	out = hj_obj();
	hj_set(out, "definition", hj_str("docs/formulas.md section 11"));
	hj_set(out, "output", hj_str(path + strlen(r->run_dir) + 1));
	hj_set(out, "n_pairs", hj_int((int64_t)np));
	hj_set(out, "n_rows", hj_ref(hj_get(root, "n_rows")));
	hj_set(out, "clean_loss", hj_ref(hj_get(root, "clean_loss")));
	hj_set(out, "clean_accuracy", hj_ref(hj_get(root, "clean_accuracy")));
	/* every statistic over the pairs where it is defined (a fingerprint cosine is not when
	 * every partner is silent), each with its own bootstrap stream */
	for (size_t k = 0; k < NK; k++) {
		size_t nf = 0;
		for (size_t p = 0; p < np; p++)
			if (isfinite(v[k * np + p]))
				d[nf++] = v[k * np + p];
		hj *sum = nf ? exp_summary_json(d, nf, B, boot_seed + k, err) : hj_null();
		if (!sum)
			goto fail;
		hj_set(out, keys[k], sum);
	}
	/* the test: matched minus random |Δloss| per pair, and per seed */
	size_t nd = 0;
	for (size_t p = 0; p < np; p++)
		if (isfinite(v[0 * np + p] - v[1 * np + p]))
			d[nd++] = v[0 * np + p] - v[1 * np + p];
	if (nd != np) { /* no firing latent in some pair: the test is not defined */
		hus_errf(err, HUS_EINPUT, path, RJK_MATCHED_ABS_DLOSS,
		         "a pair has no latent firing on a held-out row: nothing to compare");
		goto fail;
	}
	hj *dp = exp_summary_json(d, np, B, boot_seed + NK, err);
	if (!dp)
		goto fail;
	hj_set(out, "abs_dloss_matched_minus_random", dp);
	size_t n_seeds = per_seed(d, sa, sb, np, s);
	hj *ds = exp_summary_json(s, n_seeds, B, boot_seed + NK + 1, err);
	if (!ds)
		goto fail;
	hj_set(out, "abs_dloss_matched_minus_random_seed_level", ds);
	/* the conclusion: the matched substitution changes the loss less than the random one, at
	 * the seed level (the CI of the per-seed differences lies below 0) */
	double hi = exp_jnum(out, "abs_dloss_matched_minus_random_seed_level.ci95_high");
	hj_set(out, RJK_MATCHED_LESS_THAN_RANDOM_PASS, hj_bool(!isnan(hi) && hi < 0.0));
	goto done;
fail:
	if (!err->code)
		hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	hj_free(out);
	out = NULL;
done:
	free(v), free(d), free(s);
	hj_free(root);
	return out;
}
