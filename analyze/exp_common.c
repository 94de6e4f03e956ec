/*
 * exp_common.c — the steps every experiment shares: the transformer and activation jobs (or
 * reuse of given files), one train-sae job for all (condition, seed) runs in one pass, one
 * analyze job per condition, reading an SAE checkpoint's final metrics, upstream-style metric
 * summaries (spec §6.0), and writing the run's results.json.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

int exp_activations(struct runner *r, struct cfg *c, const struct experiment *ex, char *acts,
                    size_t n, struct hus_err *err)
{
	if (ex->activations && *ex->activations) {
		snprintf(acts, n, "%s", ex->activations);
		return hus_file_exists(acts) ? 0
					     : hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.activations",
							"no such activation set '%s'", acts);
	}
	char tf[PATH_MAX + 64], job[PATH_MAX + 64];
	int rc;
	if (ex->transformer && *ex->transformer) {
		snprintf(tf, sizeof(tf), "%s", ex->transformer);
		if (!hus_file_exists(tf))
			return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.transformer",
					"no such transformer checkpoint '%s'", tf);
	} else {
		static const char *const secs[] = { "data", "transformer", NULL };
		if ((rc = exp_job_config(r, c, "transformer", secs, job, sizeof(job), err)))
			return rc;
		char out[PATH_MAX + 32];
		snprintf(out, sizeof(out), "%s/transformer", r->run_dir);
		const char *argv[] = { "train-transformer", "--out", out, job, NULL };
		const char *outs[] = { "transformer/transformer_final.h5", NULL };
		if ((rc = runner_job(r, "transformer", argv, outs, err)))
			return rc;
		snprintf(tf, sizeof(tf), "%s/transformer/transformer_final.h5", r->run_dir);
	}
	static const char *const esecs[] = { "extract", NULL };
	if ((rc = exp_job_config(r, c, "extract", esecs, job, sizeof(job), err)))
		return rc;
	snprintf(acts, n, "%s/activations.h5", r->run_dir);
	const char *argv[] = { "extract", "--config", job, "--out", acts, tf, NULL };
	const char *outs[] = { "activations.h5", NULL };
	return runner_job(r, "extract", argv, outs, err);
}

/* The `sae:` section plus generated conditions, as the train-sae job config. */
int exp_train_saes(struct runner *r, struct cfg *c, const char *job, const char *acts,
                   const char *conditions_yaml, const int64_t *seeds, size_t nseeds,
                   const char *const *outputs, struct hus_err *err)
{
	static const char *const secs[] = { "sae", NULL };
	char *base = cfg_sections_yaml(c, secs);
	if (!base)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	if (conditions_yaml && strstr(base, "\n  conditions:")) {
		free(base);
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "sae.conditions",
				"this experiment generates its own conditions; remove sae.conditions");
	}
	size_t len = strlen(base) + (conditions_yaml ? strlen(conditions_yaml) : 0) + 32;
	char *text = malloc(len);
	if (!text) {
		free(base);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	snprintf(text, len, "%s%s%s", *base ? base : "sae:\n", conditions_yaml ? "  conditions:\n" : "",
		 conditions_yaml ? conditions_yaml : "");
	free(base);
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/jobs/%s.yaml", r->run_dir, job);
	char *old = NULL;
	int rc = 0;
	if (r->validate_only) {
		free(text);
		return 0;
	}
	if (!hus_file_exists(path) || hus_read_file(path, &old, NULL, NULL) || strcmp(old, text))
		rc = hus_write_file(path, text, strlen(text), err);
	free(old);
	free(text);
	if (rc)
		return rc;
	char seedlist[1024] = "", out[PATH_MAX + 32];
	for (size_t i = 0; i < nseeds; i++)
		snprintf(seedlist + strlen(seedlist), sizeof(seedlist) - strlen(seedlist), "%s%" PRId64,
			 i ? "," : "", seeds[i]);
	snprintf(out, sizeof(out), "%s/sae", r->run_dir);
	const char *argv[] = { "train-sae", "--config", path, "--activations", acts, "--out", out,
			       "--seeds", seedlist, NULL };
	return runner_job(r, job, argv, outputs, err);
}

int exp_analyze(struct runner *r, struct cfg *c, const char *cond, const int64_t *seeds,
                size_t nseeds, const struct exp_stats *st, struct hus_err *err)
{
	static const char *const secs[] = { "analysis", NULL };
	char job[PATH_MAX + 64], name[160];
	snprintf(name, sizeof(name), "analysis_%s", cond);
	int rc = exp_job_config(r, c, "analysis", secs, job, sizeof(job), err);
	if (rc)
		return rc;
	/* the checkpoint lists, relative to the run directory's parent-independent paths */
	size_t cap = 64 + nseeds * (PATH_MAX / 4);
	char *group = malloc(cap), *r2 = malloc(cap);
	if (!group || !r2) {
		free(group);
		free(r2);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	int g = snprintf(group, cap, "%s=", cond), h = snprintf(r2, cap, "%s=", cond);
	for (size_t i = 0; i < nseeds; i++) {
		g += snprintf(group + g, cap - (size_t)g, "%s%s/sae/%s/sae_seed%" PRId64 ".h5", i ? "," : "",
			      r->run_dir, cond, seeds[i]);
		h += snprintf(r2 + h, cap - (size_t)h, "%s%s/sae/%s/sae_seed%" PRId64 "_step0.h5",
			      i ? "," : "", r->run_dir, cond, seeds[i]);
	}
	char out[PATH_MAX + 64], boot[32], s_tr[32], s_r1[32], off[32], r1seeds[512] = "";
	snprintf(out, sizeof(out), "%s/analysis/%s", r->run_dir, cond);
	snprintf(boot, sizeof(boot), "%zu", st->bootstrap);
	snprintf(s_tr, sizeof(s_tr), "%" PRId64, st->seed_trained);
	snprintf(s_r1, sizeof(s_r1), "%" PRId64, st->seed_random);
	snprintf(off, sizeof(off), "%" PRId64, st->r1_offset);
	for (size_t i = 0; i < st->n_r1_seeds; i++)
		snprintf(r1seeds + strlen(r1seeds), sizeof(r1seeds) - strlen(r1seeds), "%s%" PRId64,
			 i ? "," : "", st->r1_seeds[i]);
	const char *argv[24] = { "analyze", "--config", job, "--group", group, "--r2-from", r2,
				 "--out", out, "--bootstrap", boot, "--seed-trained", s_tr,
				 "--seed-random", s_r1, "--control", st->controls };
	size_t a = 17;
	if (st->n_r1_seeds) {
		argv[a++] = "--r1-seeds";
		argv[a++] = r1seeds;
	} else {
		argv[a++] = "--r1-offset";
		argv[a++] = off;
	}
	argv[a] = NULL;
	char o1[PATH_MAX], o2[PATH_MAX];
	snprintf(o1, sizeof(o1), "analysis/%s/results.json", cond);
	snprintf(o2, sizeof(o2), "analysis/%s/analysis.h5", cond);
	const char *outs[] = { o1, o2, NULL };
	rc = runner_job(r, name, argv, outs, err);
	free(group);
	free(r2);
	return rc;
}

int exp_stats_read(struct cfg *c, struct exp_stats *st, uint64_t def_trained, uint64_t def_random,
                   struct hus_err *err)
{
	int64_t v;
	static const char *const controls[] = { "r1", "r2", "both", NULL };
	int rc = cfg_int(c, "experiment.bootstrap_samples", 10000, 1, 10000000, &v, err);
	st->bootstrap = (size_t)v;
	if (!rc)
		rc = cfg_int(c, "experiment.bootstrap_seed_trained", (int64_t)def_trained, 0, INT64_MAX,
			     &st->seed_trained, err);
	if (!rc)
		rc = cfg_int(c, "experiment.bootstrap_seed_random", (int64_t)def_random, 0, INT64_MAX,
			     &st->seed_random, err);
	if (!rc)
		rc = cfg_int(c, "experiment.r1_offset", 100000, 0, INT64_MAX, &st->r1_offset, err);
	if (!rc)
		rc = cfg_str(c, "experiment.controls", "both", controls, &st->controls, err);
	if (!rc)
		rc = cfg_int_list(c, "experiment.r1_seeds", NULL, 0, &st->r1_seeds, &st->n_r1_seeds, err);
	return rc;
}

void exp_stats_release(struct exp_stats *st)
{
	free(st->r1_seeds);
	st->r1_seeds = NULL;
}

int exp_sae_final(const char *path, struct exp_sae_final *m, struct hus_err *err)
{
	struct h5r *h;
	int rc = h5r_open(&h, path, "husai.sae_checkpoint", 1, err);
	if (rc)
		return rc;
	int64_t dead = 0, d_sae = 0;
	if ((rc = h5r_attr_f64(h, "/", "final_mse", &m->mse, err)) ||
	    (rc = h5r_attr_f64(h, "/", "final_explained_variance", &m->ev, err)) ||
	    (rc = h5r_attr_f64(h, "/", "final_ev_fvu", &m->ev_fvu, err)) ||
	    (rc = h5r_attr_f64(h, "/", "final_l0", &m->l0, err)) ||
	    (rc = h5r_attr_i64(h, "/", "step", &m->steps, err)) ||
	    (rc = h5r_attr_i64(h, "/", "final_dead_latents", &dead, err)) ||
	    (rc = h5r_attr_i64(h, "/", "d_sae", &d_sae, err)))
		goto done;
	m->dead_fraction = d_sae > 0 ? (double)dead / (double)d_sae : 0;
	/* training curve: /metrics/{step,mse,explained_variance,l0,dead_latents} per epoch */
	static const char *const names[] = { "step", "mse", "explained_variance", "l0",
					     "dead_latents" };
	m->curve_n = 0;
	for (int i = 0; i < 5; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/metrics/%s", names[i]);
		size_t dims[1] = { 0 };
		void *buf = NULL;
		if (!h5r_has(h, p) || h5r_read_alloc(h, p, HUS_F64, &buf, 1, dims, err)) {
			free(buf);
			continue;
		}
		m->curve[i] = buf;
		m->curve_n = dims[0];
	}
	for (size_t j = 0; m->curve[4] && j < m->curve_n && d_sae > 0; j++)
		m->curve[4][j] /= (double)d_sae;
done:
	h5r_close(h);
	return rc;
}

void exp_sae_final_release(struct exp_sae_final *m)
{
	for (int i = 0; i < 5; i++) {
		free(m->curve[i]);
		m->curve[i] = NULL;
	}
}

hj *exp_summary_json(const double *x, size_t n, size_t B, uint64_t seed, struct hus_err *err)
{
	struct stats_summary s;
	if (stats_summarize(&s, x, 1, n, B, seed, err))
		return NULL;
	hj *o = hj_obj();
	hj_set(o, "mean", hj_num(s.mean));
	hj_set(o, "std", hj_num(s.std));
	hj_set(o, "min", hj_num(s.min));
	hj_set(o, "max", hj_num(s.max));
	hj_set(o, "median", hj_num(s.median));
	hj_set(o, "ci95_low", hj_num(s.ci95_low));
	hj_set(o, "ci95_high", hj_num(s.ci95_high));
	hj_set(o, "n", hj_int((int64_t)s.n));
	return o;
}

hj *exp_run_metadata(struct runner *r, const char *run_id)
{
	char now[32];
	hus_utc_now(now);
	hj *m = hj_obj();
	hj_set(m, "timestamp_utc", hj_str(now));
	hj_set(m, "git_commit", hj_str(hus_git_commit()));
	hj_set(m, "command", hj_str(r->command));
	hj_set(m, "config_hash", hj_str(r->config_hash));
	if (run_id)
		hj_set(m, "run_id", hj_str(run_id));
	return m;
}

int exp_read_group(struct runner *r, const char *cond, hj **root, hj **group, struct hus_err *err)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/analysis/%s/results.json", r->run_dir, cond);
	int rc = hj_read_file(p, root, err);
	if (rc)
		return rc;
	char key[200];
	snprintf(key, sizeof(key), "groups.%s", cond);
	*group = hj_get(*root, key);
	if (!hj_is_obj(*group)) {
		hj_free(*root);
		return hus_errf(err, HUS_EINPUT, p, key, "expected the analysis of group '%s'", cond);
	}
	return 0;
}
