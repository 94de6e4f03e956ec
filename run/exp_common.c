/*
 * exp_common.c — the steps every experiment shares: the transformer and activation jobs (or
 * reuse of given files), one train-sae job per condition (all its seeds in one pass; a
 * condition trained alone has the same bytes in every dataset as in a multi-condition pass,
 * sae_trainer.c), one analyze job per condition, reading an SAE checkpoint's final metrics, upstream-style metric
 * summaries (docs/formulas.md §6.0), and writing the run's results.json.
 */
#include <gsl/gsl_sort.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
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
		run_path(out, sizeof(out), r->run_dir, RUN_TRANSFORMER_DIR);
		const char *argv[] = { "train-transformer", "--out", out, job, NULL };
		const char *outs[] = { RUN_TRANSFORMER_FINAL, NULL };
		if ((rc = runner_job(r, "transformer", argv, outs, err)))
			return rc;
		run_path(tf, sizeof(tf), r->run_dir, RUN_TRANSFORMER_FINAL);
	}
	static const char *const esecs[] = { "extract", NULL };
	if ((rc = exp_job_config(r, c, "extract", esecs, job, sizeof(job), err)))
		return rc;
	run_path(acts, n, r->run_dir, RUN_ACTIVATIONS);
	const char *argv[] = { "extract", "--config", job, "--out", acts, tf, NULL };
	const char *outs[] = { RUN_ACTIVATIONS, NULL };
	return runner_job(r, "extract", argv, outs, err);
}

/* The `sae:` section plus generated conditions, as the train-sae job config. */
int exp_train_saes(struct runner *r, struct cfg *c, const char *job, const char *acts,
                   const struct exp_cond *cond, const int64_t *seeds, size_t nseeds,
                   const char *const *outputs, struct hus_err *err)
{
	return exp_train_saes_epochs(r, c, job, acts, cond, seeds, nseeds, 0, outputs,
				     err);
}

int exp_train_saes_epochs(struct runner *r, struct cfg *c, const char *job, const char *acts,
                          const struct exp_cond *cond, const int64_t *seeds, size_t nseeds,
                          int64_t epochs, const char *const *outputs, struct hus_err *err)
{
	return exp_train_saes_set(r, c, job, acts, cond, seeds, nseeds, epochs, NULL,
				  outputs, err);
}

/* The job config: the experiment's sae section with `cond` (if any) as its only condition,
 * built through the config API and written by the config emitter. */
static int train_config_text(char **out, struct cfg *c, const struct exp_cond *cond,
                             const char *name, struct hus_err *err)
{
	*out = NULL;
	static const char *const secs[] = { "sae", NULL };
	if (cond && cfg_has(c, "sae.conditions")) {
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "sae.conditions",
				"this experiment generates its own conditions; remove sae.conditions");
	}
	char *base = cfg_sections_yaml(c, secs), *text = NULL;
	struct cfg *job = NULL;
	if (!base)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	int rc = *base ? cfg_load_string(&job, base, name, err)
		       : ((job = cfg_empty(name)) ? cfg_put_map(job, "sae", err)
						  : hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory"));
	free(base);
	if (!rc && cond) {
		char key[512];
		if (strchr(cond->name, '.') || cond->n > EXP_COND_SETTINGS)
			rc = hus_errf(err, HUS_EINPUT, name, NULL, "bad generated condition '%s'",
				      cond->name);
		snprintf(key, sizeof(key), "sae.conditions.%s", cond->name);
		if (!rc)
			rc = cfg_put_map(job, key, err);
		for (size_t i = 0; !rc && i < cond->n; i++) {
			const struct exp_setting *st = &cond->set[i];
			snprintf(key, sizeof(key), "sae.conditions.%s.%s", cond->name, st->key);
			rc = st->s	 ? cfg_put_str(job, key, st->s, err)
			     : st->is_f64 ? cfg_put_f64(job, key, st->f, err)
					  : cfg_put_int(job, key, st->i, err);
		}
	}
	if (!rc && !(text = cfg_sections_yaml(job, secs)))
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	cfg_free(job);
	*out = text;
	return rc;
}

/* Write a training job's config as jobs/<config_name>.yaml: rank 0 writes it, before the
 * batch runs; every rank gets its path. */
static int train_config(struct runner *r, struct cfg *c, const char *config_name,
                        const struct exp_cond *cond, char *path, size_t pathn, struct hus_err *err)
{
	run_job_path(path, pathn, r->run_dir, RUN_JOB_CONFIG, config_name);
	char *text = NULL, *old = NULL;
	int rc = train_config_text(&text, c, cond, path, err);
	if (!rc && !r->validate_only && !r->dry_run && runner_writes(r) &&
	    (!hus_file_exists(path) || hus_read_file(path, &old, NULL, NULL) || strcmp(old, text)))
		rc = hus_write_file(path, text, strlen(text), err);
	free(old);
	free(text);
	return rc;
}

/* Declare one train-sae job over `seeds` with the config at `path`. */
static int train_job(struct runner *r, const char *job, const char *path, const char *acts,
                     const int64_t *seeds, size_t nseeds, int64_t epochs, const char *extra_set,
                     const char *const *outputs, struct hus_err *err)
{
	if (r->validate_only)
		return 0;
	char seedlist[1024] = "", out[PATH_MAX + 32];
	for (size_t i = 0; i < nseeds; i++)
		snprintf(seedlist + strlen(seedlist), sizeof(seedlist) - strlen(seedlist), "%s%" PRId64,
			 i ? "," : "", seeds[i]);
	run_path(out, sizeof(out), r->run_dir, RUN_SAE_DIR);
	char set[64];
	snprintf(set, sizeof(set), "sae.epochs=%" PRId64, epochs);
	const char *argv[16] = { "train-sae", "--config", path, "--activations", acts, "--out", out,
				 "--seeds", seedlist };
	size_t a = 9;
	if (epochs) {
		argv[a++] = "--set";
		argv[a++] = set;
	}
	if (extra_set) {
		argv[a++] = "--set";
		argv[a++] = extra_set;
	}
	argv[a] = NULL;
	return runner_job(r, job, argv, outputs, err);
}

int exp_train_saes_set(struct runner *r, struct cfg *c, const char *job, const char *acts,
                       const struct exp_cond *cond, const int64_t *seeds, size_t nseeds,
                       int64_t epochs, const char *extra_set, const char *const *outputs,
                       struct hus_err *err)
{
	char path[PATH_MAX + 64];
	int rc = train_config(r, c, job, cond, path, sizeof(path), err);
	return rc ? rc : train_job(r, job, path, acts, seeds, nseeds, epochs, extra_set, outputs, err);
}

/* One job per seed (named <job>_seed<S>, sharing the config jobs/<job>.yaml): a seed's SAE
 * is the same bytes whether trained alone or beside others (sae_trainer.c), and small jobs
 * keep every CPU and every MPI rank busy to the end of a batch. */
int exp_train_condition(struct runner *r, struct cfg *c, const char *job, const char *acts,
                        const struct exp_cond *cond, const int64_t *seeds, size_t nseeds,
                        int64_t epochs, const char *extra_set, struct hus_err *err)
{
	char path[PATH_MAX + 64];
	int rc = train_config(r, c, job, cond, path, sizeof(path), err);
	for (size_t s = 0; !rc && s < nseeds; s++) {
		char out[256], name[256];
		run_sae_path(out, sizeof(out), NULL, cond->name, seeds[s], NULL);
		snprintf(name, sizeof(name), "%s_seed%" PRId64, job, seeds[s]);
		const char *outs[] = { out, NULL };
		rc = train_job(r, name, path, acts, &seeds[s], 1, epochs, extra_set, outs, err);
	}
	return rc;
}

/* analysis.pair_jobs (README "Running on many machines", docs/reproducibility.md "Pairs as
 * jobs"): one job per product of two decoders (analysis.pair_job_products per job) before a
 * group's analysis.  auto: under MPI with at least two ranks, for groups of d_sae >= PAIR_JOBS_AUTO_D_SAE
 * (read from the group's first checkpoint, which exists once the SAE batch has ended). */
#define PAIR_JOBS_AUTO_D_SAE 32768 /* each pair job loads the whole group: below this the
                                    * loads outweigh the product (EXPERIMENTS.md "Pairs as jobs") */
static int pair_jobs_count(struct runner *r, struct cfg *c, const char *cond,
                           const char *const *dirs, const int64_t *seeds, size_t nseeds,
                           const struct exp_stats *st, size_t *products, struct hus_err *err)
{
	static const char *const choices[] = { "auto", "on", "off", NULL };
	const char *mode;
	*products = 0;
	int64_t size;
	int rc = cfg_str(c, "analysis.pair_jobs", "auto", choices, &mode, err);
	if (!rc) /* read here too, so that the first (validate-only) pass knows the key */
		rc = cfg_int(c, "analysis.pair_job_products", 1, 1, 1 << 20, &size, err);
	if (rc || r->validate_only || !strcmp(mode, "off") || nseeds < 1)
		return rc;
	if (!strcmp(mode, "auto")) {
		if (r->group.size < 2)
			return 0;
		char p[PATH_MAX + 256];
		struct exp_sae_final m;
		struct hus_err e2 = { 0 };
		run_sae_path(p, sizeof(p), r->run_dir, dirs ? dirs[0] : cond, seeds[0], NULL);
		if (!hus_file_exists(p) || exp_sae_final(p, &m, &e2))
			return 0; /* a dry run before training: no pair jobs */
		size_t d_sae = m.d_sae;
		exp_sae_final_release(&m);
		if (d_sae < PAIR_JOBS_AUTO_D_SAE)
			return 0;
	}
	/* the products of the analysis (analysis_pair_products): R1 over the given seeds, the
	 * config's list, or one per trained seed; R2 over the step-0 checkpoints, one per seed */
	/* the config's choices: not a results.json key */
	int r1 = strcmp(st->controls, "r2") != 0, r2 = strcmp(st->controls, "r1") != 0;
	size_t n1 = st->n_r1_seeds ? st->n_r1_seeds : nseeds;
	if (!st->n_r1_seeds && cfg_has(c, "analysis.r1_seeds")) {
		int64_t *l = NULL;
		if ((rc = cfg_int_list(c, "analysis.r1_seeds", NULL, 0, &l, &n1, err)))
			return rc;
		free(l);
	}
	*products = analysis_pair_products(nseeds, r1 ? n1 : 0, r2 ? nseeds : 0);
	return 0;
}

/* Jobs pair_<cond>_<p>: the group's analysis command (argv, `a` entries, ending in
 * --pair-cache DIR) for products p .. p+size-1 alone (analysis.pair_job_products), without
 * --out. */
static int exp_pair_jobs(struct runner *r, struct cfg *c, const char *cond,
                         const char *const *argv, size_t a, size_t products,
                         struct hus_err *err)
{
	int64_t size = 1;
	int rc = cfg_int(c, "analysis.pair_job_products", 1, 1, 1 << 20, &size, err);
	const char *pv[48];
	size_t k = 0;
	for (size_t i = 0; i < a; i++) {
		if (!strcmp(argv[i], "--out")) {
			i++;
			continue;
		}
		pv[k++] = argv[i];
	}
	pv[k] = argv[a], pv[k + 1] = argv[a + 1]; /* --pair-cache DIR */
	if ((size_t)size > products) /* a job never holds more products than the group has */
		size = (int64_t)(products ? products : 1);
	char (*cache)[PATH_MAX] = calloc((size_t)size, sizeof(*cache));
	const char **outs = calloc((size_t)size + 1, sizeof(*outs));
	if (!rc && (!cache || !outs))
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	for (size_t p = 0; p < products && !rc; p += (size_t)size) {
		char num[32], cnt[32], name[160], rel[PATH_MAX + 64];
		size_t n = products - p < (size_t)size ? products - p : (size_t)size;
		snprintf(num, sizeof(num), "%zu", p);
		snprintf(cnt, sizeof(cnt), "%zu", n);
		snprintf(name, sizeof(name), "pair_%s_%zu", cond, p);
		run_analysis_path(rel, sizeof(rel), NULL, cond, RUN_PAIR_CACHE_DIR);
		for (size_t j = 0; j < n; j++) {
			analysis_pair_cache_path(cache[j], sizeof(cache[j]), rel, cond, p + j);
			outs[j] = cache[j];
		}
		outs[n] = NULL;
		pv[k + 2] = "--pair-only";
		pv[k + 3] = num;
		pv[k + 4] = n > 1 ? "--pair-count" : NULL;
		pv[k + 5] = cnt;
		pv[k + 6] = NULL;
		rc = runner_job(r, name, pv, outs, err);
	}
	free(cache);
	free(outs);
	return rc;
}

int exp_analyze(struct runner *r, struct cfg *c, const char *cond, const int64_t *seeds,
                size_t nseeds, const struct exp_stats *st, struct hus_err *err)
{
	return exp_analyze_dirs(r, c, cond, NULL, seeds, nseeds, st, err);
}

int exp_analyze_dirs(struct runner *r, struct cfg *c, const char *cond, const char *const *dirs,
                     const int64_t *seeds, size_t nseeds, const struct exp_stats *st,
                     struct hus_err *err)
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
		const char *dir = dirs ? dirs[i] : cond;
		char tr[PATH_MAX + 256], r0[PATH_MAX + 256];
		run_sae_path(tr, sizeof(tr), r->run_dir, dir, seeds[i], NULL);
		run_sae_path(r0, sizeof(r0), r->run_dir, dir, seeds[i], "_step0");
		g += snprintf(group + g, cap - (size_t)g, "%s%s", i ? "," : "", tr);
		h += snprintf(r2 + h, cap - (size_t)h, "%s%s", i ? "," : "", r0);
	}
	char out[PATH_MAX + 64], boot[32], s_tr[32], s_r1[32], off[32], r1seeds[512] = "";
	run_analysis_path(out, sizeof(out), r->run_dir, cond, NULL);
	snprintf(boot, sizeof(boot), "%zu", st->bootstrap);
	snprintf(s_tr, sizeof(s_tr), "%" PRId64, st->seed_trained);
	snprintf(s_r1, sizeof(s_r1), "%" PRId64, st->seed_random);
	snprintf(off, sizeof(off), "%" PRId64, st->r1_offset);
	for (size_t i = 0; i < st->n_r1_seeds; i++)
		snprintf(r1seeds + strlen(r1seeds), sizeof(r1seeds) - strlen(r1seeds), "%s%" PRId64,
			 i ? "," : "", st->r1_seeds[i]);
	const char *argv[40] = { "analyze", "--config", job, "--group", group, "--r2-from", r2,
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
	for (size_t i = 0; st->analyze_extra && st->analyze_extra[i] && a < 35; i++)
		argv[a++] = st->analyze_extra[i];
	argv[a] = NULL;
	char o1[PATH_MAX], o2[PATH_MAX];
	run_analysis_path(o1, sizeof(o1), NULL, cond, RUN_RESULTS);
	run_analysis_path(o2, sizeof(o2), NULL, cond, RUN_ANALYSIS_FILE);
	const char *outs[] = { o1, o2, NULL };
	size_t products = 0;
	char cache[PATH_MAX + 64]; /* argv holds it until the analysis job is declared */
	rc = pair_jobs_count(r, c, cond, dirs, seeds, nseeds, st, &products, err);
	if (!rc && products) {
		/* pair jobs first (phase 0), the group's analysis after them (phase 1), reading
		 * their caches; the same analysis bytes either way (docs/reproducibility.md) */
		run_analysis_path(cache, sizeof(cache), r->run_dir, cond, RUN_PAIR_CACHE_DIR);
		argv[a] = "--pair-cache";
		argv[a + 1] = cache;
		argv[a + 2] = NULL;
		rc = exp_pair_jobs(r, c, cond, argv, a, products, err);
		a += 2;
		r->job_phase = 1;
	}
	if (!rc)
		rc = runner_job(r, name, argv, outs, err);
	r->job_phase = 0;
	free(group);
	free(r2);
	return rc;
}

int exp_stats_read(struct cfg *c, struct exp_stats *st, uint64_t def_trained, uint64_t def_random,
                   struct hus_err *err)
{
	int64_t v;
	/* the config's choices: not a results.json key */
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
		rc = cfg_int(c, "experiment.bootstrap_seed_seed_level", 41, 0, INT64_MAX, &st->seed_level,
			     err);
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
	/* formats/artifact_sae.c is the checkpoint's one reader */
	struct sae_file s;
	int rc = sae_file_read(path, SAE_READ_CURVES, &s, err);
	if (rc)
		return rc;
	if (!s.have_final || s.step < 0) {
		rc = hus_errf(err, HUS_EINPUT, path, "final_mse",
		              "no final evaluation recorded (a checkpoint of an unfinished training?)");
		goto done;
	}
	/* sae_ckpt_final_names: mse, l0, l1, explained_variance, ev_fvu, dead_latents */
	m->mse = s.final[0], m->l0 = s.final[1], m->ev = s.final[3], m->ev_fvu = s.final[4];
	m->steps = s.step;
	m->d_sae = s.d_sae, m->k = s.k;
	double d_sae = (double)s.d_sae;
	m->dead_fraction = s.final[5] / d_sae;
	/* training curve: /metrics/{step,mse,explained_variance,l0,dead_latents} per epoch */
	/* datasets of the checkpoint: not a results.json key */
	static const char *const names[5] = { "step", "mse", "explained_variance", "l0",
					       "dead_latents" };
	m->curve_n = 0;
	for (int i = 0; i < 5; i++)
		for (int q = 0; q < SAE_CKPT_NHIST; q++)
			if (!strcmp(sae_ckpt_hist_names[q], names[i]) && s.hist[q]) {
				m->curve[i] = s.hist[q];
				m->curve_n = s.hist_n[q];
				s.hist[q] = NULL; /* now m's */
			}
	for (size_t j = 0; m->curve[4] && j < m->curve_n; j++)
		m->curve[4][j] /= d_sae;
done:
	sae_file_release(&s);
	return rc;
}

void exp_sae_final_release(struct exp_sae_final *m)
{
	for (int i = 0; i < 5; i++) {
		free(m->curve[i]);
		m->curve[i] = NULL;
	}
}

const char *const exp_sae_final_keys_short[] = { RJK_MSE, RJK_EXPLAINED_VARIANCE, RJK_L0,
						 "steps_trained", RJK_DEAD_FRACTION, NULL };

void exp_sae_final_put(hj *o, const struct exp_sae_final *m, const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++) {
		const char *k = keys[i];
		if (!strcmp(k, "steps_trained"))
			hj_set(o, k, hj_int(m->steps));
		else if (!strcmp(k, RJK_MSE))
			hj_set(o, k, hj_num(m->mse));
		else if (!strcmp(k, RJK_EXPLAINED_VARIANCE))
			hj_set(o, k, hj_num(m->ev));
		else if (!strcmp(k, "ev_fvu"))
			hj_set(o, k, hj_num(m->ev_fvu));
		else if (!strcmp(k, RJK_L0))
			hj_set(o, k, hj_num(m->l0));
		else if (!strcmp(k, RJK_DEAD_FRACTION))
			hj_set(o, k, hj_num(m->dead_fraction));
	}
}

hj *exp_summary_json(const double *x, size_t n, size_t B, uint64_t seed, struct hus_err *err)
{
	struct stats_summary s;
	if (stats_summarize(&s, x, 1, n, B, seed, err))
		return NULL;
	hj *o = hj_obj();
	hj_set(o, RJK_MEAN, hj_num(s.mean));
	hj_set(o, RJK_STD, hj_num(s.std));
	hj_set(o, RJK_MIN, hj_num(s.min));
	hj_set(o, RJK_MAX, hj_num(s.max));
	hj_set(o, RJK_MEDIAN, hj_num(s.median));
	hj_set(o, RJK_CI95_LOW, hj_num(s.ci95_low));
	hj_set(o, RJK_CI95_HIGH, hj_num(s.ci95_high));
	hj_set(o, RJK_N, hj_int((int64_t)s.n));
	return o;
}

hj *exp_run_metadata(struct runner *r, const char *run_id)
{
	char now[32];
	hus_utc_now(now);
	hj *m = hj_obj();
	hj_set(m, RJK_TIMESTAMP_UTC, hj_str(now));
	hj_set(m, "git_commit", hj_str(hus_git_commit()));
	hj_set(m, RJK_COMMAND, hj_str(r->command));
	hj_set(m, "config_hash", hj_str(r->config_hash));
	if (run_id)
		hj_set(m, RJK_RUN_ID, hj_str(run_id));
	return m;
}

int exp_sae_matches(const struct exp_sae_final *m, const char *path, int64_t d_sae, int64_t k,
                    struct hus_err *err)
{
	if (d_sae > 0 && m->d_sae != (size_t)d_sae)
		/* the checkpoint's attributes: not a results.json key */
		return hus_errf(err, HUS_EINPUT, path, "d_sae",
		                "the checkpoint has d_sae %zu, its condition in the config %lld: the "
		                "run directory holds SAEs of another config", m->d_sae, (long long)d_sae);
	if (k > 0 && m->k > 0 && m->k != k)
		/* the checkpoint's attributes: not a results.json key */
		return hus_errf(err, HUS_EINPUT, path, "k",
		                "the checkpoint has k %lld, its condition in the config %lld: the run "
		                "directory holds SAEs of another config", (long long)m->k, (long long)k);
	return 0;
}

int exp_read_group(struct runner *r, const char *cond, hj **root, hj **group, struct hus_err *err)
{
	char p[PATH_MAX + 64];
	run_analysis_path(p, sizeof(p), r->run_dir, cond, RUN_RESULTS);
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

hj *exp_controls_json(hj *group)
{
	hj *out = hj_obj(), *ctl = hj_get(group, RJK_CONTROLS);
	hj *v;
	if ((v = hj_get(ctl, RJK_R1)))
		hj_set(out, RJK_R1, hj_ref(v));
	if ((v = hj_get(ctl, RJK_R2)))
		hj_set(out, RJK_R2, hj_ref(v));
	double null = NAN;
	hj_get_f64(ctl, "analytic_null.expected_pwmcc", &null);
	hj_set(out, RJK_ANALYTIC_NULL, hj_num(null));
	if ((v = hj_get(ctl, RJK_ANALYTIC_NULL)))
		hj_set(out, "analytic_null_detail", hj_ref(v));
	return out;
}

/* Per-feature stability (docs/formulas.md §5.4) pooled over the models of `paths`: for each model and
 * feature, the mean over the other models of the best |cos|.  Returns a JSON array of all
 * n·d_sae values (model order as given), or NULL with err set. */
struct feature_sums {
	const struct decoder_set *s;
	double **acc; /* per model, per feature: the running sum of best |cos| */
};

static int feature_sums_add(void *ctx, size_t i, size_t j, const float *rowmax,
                            const float *colmax, struct hus_err *err)
{
	(void)err;
	struct feature_sums *fs = ctx;
	per_feature_accumulate(fs->acc[i], fs->acc[j], rowmax, colmax, fs->s->m[i], fs->s->m[j]);
	return 0;
}

hj *exp_feature_stability(const char *const *paths, size_t n, struct hus_err *err)
{
	struct decoder_set s;
	if (decoder_set_load(&s, paths, n, err))
		return NULL;
	double **acc = calloc(n ? n : 1, sizeof(*acc));
	int rc = !acc ? hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory") : 0;
	for (size_t i = 0; i < n && !rc; i++)
		if (!(acc[i] = calloc(s.m[i] ? s.m[i] : 1, sizeof(double))))
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	struct feature_sums fs = { &s, acc };
	if (!rc)
		rc = pwmcc_pairs(NULL, s.At, s.m, n, s.d, feature_sums_add, &fs, err);
	hj *out = rc ? NULL : hj_arr();
	for (size_t i = 0; out && i < n; i++) {
		float *stab = malloc(s.m[i] * sizeof(float));
		if (!stab) {
			hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
			hj_free(out);
			out = NULL;
			break;
		}
		per_feature_finish(stab, acc[i], s.m[i], n);
		for (size_t f = 0; f < s.m[i]; f++)
			hj_push(out, hj_num(stab[f]));
		free(stab);
	}
	for (size_t i = 0; acc && i < n; i++)
		free(acc[i]);
	free(acc);
	decoder_set_release(&s);
	return out;
}

hj *exp_pairwise_json(hj *summary)
{
	hj *seeds = hj_get(summary, RJK_SEEDS), *vals = hj_get(summary, RJK_PWMCC_VALUES);
	hj *out = hj_arr();
	size_t n = hj_len(seeds), p = 0;
	int64_t *s = calloc(n ? n : 1, sizeof(*s));
	for (size_t i = 0; s && i < n; i++)
		s[i] = (int64_t)hj_as_f64(hj_at(seeds, i));
	/* the analysis lists pairs over the numerically sorted seeds, lexicographically (§5.2) */
	for (size_t i = 1; s && i < n; i++)
		for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
			int64_t t = s[j];
			s[j] = s[j - 1];
			s[j - 1] = t;
		}
	for (size_t i = 0; s && i < n; i++)
		for (size_t j = i + 1; j < n && p < hj_len(vals); j++, p++) {
			hj *o = hj_obj();
			hj_set(o, RJK_SEED_A, hj_int(s[i]));
			hj_set(o, RJK_SEED_B, hj_int(s[j]));
			hj_set(o, RJK_PWMCC, hj_num(hj_as_f64(hj_at(vals, p))));
			hj_push(out, o);
		}
	free(s);
	return out;
}

/* The pair matrix (n×n, symmetric, diagonal unused) of a summary's pwmcc_values. */
/* The (n, n) pair matrix of a summary's pwmcc_values; NULL when it has fewer than two models
 * (or no full pair list), or, with *oom set, when memory ran out. */
static double *pair_matrix(hj *summary, size_t *n_out, int *oom)
{
	size_t n = hj_len(hj_get(summary, RJK_SEEDS)), p = 0;
	hj *vals = hj_get(summary, RJK_PWMCC_VALUES);
	if (n < 2 || hj_len(vals) != n * (n - 1) / 2)
		return NULL;
	double *m = calloc(n * n, sizeof(double));
	*oom |= !m;
	for (size_t i = 0; m && i < n; i++)
		for (size_t j = i + 1; j < n; j++, p++)
			m[i * n + j] = m[j * n + i] = hj_as_f64(hj_at(vals, p));
	*n_out = n;
	return m;
}

hj *exp_seed_level(hj *trained, hj *control, hj *permutation, size_t B, uint64_t seed)
{
	hj *o = hj_obj();
	hj_set(o, "definition",
	       hj_str("model-level bootstrap of mean(trained pairs) - mean(control pairs): each group's "
		      "models resampled independently with replacement, pairs of one model with itself "
		      "skipped (docs/formulas.md §8.8); GSL mt19937"));
	hj_set(o, "seed", hj_int((int64_t)seed));
	hj_set(o, "n_bootstrap", hj_int((int64_t)B));
	size_t nt = 0, nc = 0;
	int oom = 0;
	double *mt = pair_matrix(trained, &nt, &oom), *mc = pair_matrix(control, &nc, &oom);
	double lo = NAN, hi = NAN;
	struct hus_err err = { 0 };
	if (oom || !mt || !mc || B < 2 ||
	    stats_seed_bootstrap_diff(&lo, &hi, mt, nt, mc, nc, B, seed, &err)) {
		/* out of memory is said as such, never passed off as too few models */
		hj_set(o, RJK_BOOTSTRAP_CI95_LOW, hj_null());
		hj_set(o, RJK_BOOTSTRAP_CI95_HIGH, hj_null());
		hj_set(o, "reason", hj_str(oom || err.code == HUS_ENOMEM
		                           ? "out of memory for the seed-level bootstrap"
		                           : err.code ? err.msg
		                           : "fewer than two models in a group (docs/formulas.md §8.13)"));
	} else {
		hj_set(o, RJK_BOOTSTRAP_CI95_LOW, hj_num(lo));
		hj_set(o, RJK_BOOTSTRAP_CI95_HIGH, hj_num(hi));
	}
	double p = NAN;
	hj_get_f64(permutation, "p_value_greater", &p);
	hj_set(o, "permutation_p", hj_num(p));
	hj_set(o, "permutation", hj_ref(permutation));
	hj_set(o, RJK_N_MODELS_TRAINED, hj_int((int64_t)nt));
	hj_set(o, "n_models_control", hj_int((int64_t)nc));
	free(mt), free(mc);
	return o;
}

void exp_apply_verdicts_lists(hj *const *arrays, size_t n_arrays)
{
	size_t n = 0, k = 0;
	for (size_t a = 0; a < n_arrays; a++)
		n += hj_len(arrays[a]);
	hj **recs = calloc(n ? n : 1, sizeof(*recs));
	if (!recs)
		return;
	for (size_t a = 0; a < n_arrays; a++)
		for (size_t i = 0; i < hj_len(arrays[a]); i++)
			recs[k++] = hj_at(arrays[a], i);
	exp_apply_verdicts(recs, n);
	free(recs);
}

void exp_seed_level_params(hj *seed_level, hj *group)
{
	/* the analysis's permutation settings, for the seeds a design needs */
	static const char *const keys[] = { "permutation_max_exact", "permutation_samples" };
	for (int k = 0; k < 2; k++) {
		char p[96];
		snprintf(p, sizeof(p), "seed_level_verdict.%s", keys[k]);
		hj *v = hj_get(group, p);
		hj_set(seed_level, keys[k], v ? hj_ref(v) : hj_null());
	}
}

/* 1 when the record's seed-level permutation test was not run (`computed`: false) */
static int exp_permutation_skipped(hj *rec)
{
	hj *c = hj_get(rec, "seed_level.permutation.computed");
	return c && hj_kind_of(c) == HJ_FALSE;
}

/* The smallest one-sided p a permutation block can give: 1/#relabellings when enumerated,
 * 1/(B+1) when sampled (stats_seed.c). */
static double block_min_p(hj *perm)
{
	double n = NAN;
	hj_get_f64(perm, "n_permutations", &n);
	enum hj_kind ex = hj_kind_of(hj_get(perm, "exact"));
	if (!(n > 0) || (ex != HJ_TRUE && ex != HJ_FALSE))
		return NAN;
	return ex == HJ_TRUE ? 1.0 / n : 1.0 / (n + 1);
}

void exp_apply_verdicts(hj *const *recs, size_t n)
{
	const double alpha = 0.05;
	double *p = calloc(n ? n : 1, sizeof(double)), *adj = calloc(n ? n : 1, sizeof(double));
	unsigned char *skipped = calloc(n ? n : 1, 1);
	if (!p || !adj || !skipped) {
		free(p), free(adj), free(skipped);
		return;
	}
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		p[i] = exp_jnum(recs[i], "seed_level.permutation_p");
		/* a test not run because it could not reject (docs/formulas.md §8.8) stays in the
		 * family with p = 1: Holm's adjusted p-values only grow with an input, so the others'
		 * adjustment is at least as strict as with its real p */
		skipped[i] = exp_permutation_skipped(recs[i]);
		if (isnan(p[i]) && skipped[i])
			p[i] = 1;
		m += !isnan(p[i]);
	}
	stats_holm(adj, p, n);
	char corr[160];
	if (m > 1)
		snprintf(corr, sizeof(corr), "Holm step-down over the %zu conditions tested", m);
	else
		snprintf(corr, sizeof(corr), "none (one condition tested)");
	for (size_t i = 0; i < n; i++) {
		hj *sl = hj_get(recs[i], RJK_SEED_LEVEL);
		if (!sl)
			continue;
		double pmin = block_min_p(hj_get(sl, "permutation"));
		double pmin_adj = isnan(pmin) ? NAN : fmin(1.0, (double)(m ? m : 1) * pmin);
		double effect = exp_jnum(sl, "permutation.statistic");
		const char *v = stats_seed_verdict(adj[i], pmin_adj, effect, alpha);
		hj_set(sl, "alpha", hj_num(alpha));
		hj_set(sl, "correction", hj_str(corr));
		hj_set(sl, RJK_N_TESTS, hj_int((int64_t)m));
		hj_set(sl, RJK_EFFECT, hj_num(effect));
		hj_set(sl, RJK_PERMUTATION_P_ADJUSTED, hj_num(skipped[i] ? NAN : adj[i]));
		hj_set(sl, RJK_MIN_ATTAINABLE_P, hj_num(pmin));
		hj_set(sl, RJK_MIN_ATTAINABLE_P_ADJUSTED, hj_num(pmin_adj));
		double max_exact = exp_jnum(sl, "permutation_max_exact"),
		       samples = exp_jnum(sl, "permutation_samples");
		size_t need = 0;
		if (v && !strcmp(v, "underpowered") && max_exact >= 0 && samples >= 1)
			need = stats_perm_seeds_needed(alpha, m ? m : 1, (size_t)max_exact,
						       (size_t)samples);
		hj_set(sl, RJK_SEEDS_NEEDED, need ? hj_int((int64_t)need) : hj_null());
		hj_set(sl, RJK_VERDICT, v ? hj_str(v) : hj_null());
		hj_set(recs[i], RJK_VERDICT, v ? hj_str(v) : hj_null());
	}
	free(p), free(adj), free(skipped);
}

double exp_jnum(hj *v, const char *path)
{
	double d = NAN;
	hj_get_f64(v, path, &d);
	return d;
}

hj *exp_fair_comparison(const char *description, hj *a, hj *b, size_t B, uint64_t seed,
                        struct hus_err *err)
{
	hj *fair = hj_obj();
	hj_set(fair, "description", hj_str(description));
	size_t na = hj_len(a), nb = hj_len(b);
	double *x = calloc(na + 1, sizeof(double)), *y = calloc(nb + 1, sizeof(double));
	for (size_t i = 0; x && i < na; i++)
		x[i] = hj_as_f64(hj_at(a, i));
	for (size_t i = 0; y && i < nb; i++)
		y[i] = hj_as_f64(hj_at(b, i));
	double point = NAN, lo = NAN, hi = NAN;
	int rc = (!x || !y) ? hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory") : 0;
	if (!rc && na && nb)
		rc = stats_bootstrap_mean_diff(&point, &lo, &hi, x, 1, na, y, 1, nb, B, seed, err);
	free(x), free(y);
	if (rc) {
		hj_free(fair);
		return NULL;
	}
	hj_set(fair, "difference", hj_num(point));
	hj_set(fair, RJK_CI95_LOW, hj_num(lo));
	hj_set(fair, RJK_CI95_HIGH, hj_num(hi));
	hj_set(fair, "seed", hj_int((int64_t)seed));
	return fair;
}

void exp_record_pwmcc(hj *rec, hj *group)
{
	hj *t = hj_ref(hj_get(group, RJK_TRAINED));
	hj_set(t, RJK_PAIRWISE, exp_pairwise_json(hj_get(group, RJK_TRAINED)));
	hj_set(rec, RJK_TRAINED_PWMCC, t);
	hj_set(rec, RJK_RANDOM_PWMCC, hj_ref(hj_get(group, RJK_RANDOM)));
	hj_set(rec, RJK_DELTA_PWMCC, hj_num(exp_jnum(group, "comparison.difference")));
	hj_set(rec, RJK_DELTA_PWMCC_CI_LOW_CONSERVATIVE,
	       hj_num(exp_jnum(group, "comparison.delta_pwmcc_ci_low_conservative")));
	hj_set(rec, "ratio_pwmcc", hj_num(exp_jnum(group, "comparison.ratio")));
}

void exp_record_controls(hj *rec, hj *group, const struct exp_stats *st)
{
	hj_set(rec, "trained_pairwise_pwmcc_values", hj_ref(hj_get(group, RJ_PATH2(RJK_TRAINED, RJK_PWMCC_VALUES))));
	hj_set(rec, "random_pairwise_pwmcc_values", hj_ref(hj_get(group, RJ_PATH2(RJK_RANDOM, RJK_PWMCC_VALUES))));
	hj_set(rec, RJK_CONTROLS, exp_controls_json(group));
	/* the permutation test against the control the analysis reported as "random" */
	const char *rk = hj_get_str(group, "random_control");
	char pp[96];
	snprintf(pp, sizeof(pp), "controls.%s.seed_level_permutation", rk ? rk : RJK_R1);
	hj *sl = exp_seed_level(hj_get(group, RJK_TRAINED), hj_get(group, RJK_RANDOM), hj_get(group, pp),
				st->bootstrap, (uint64_t)st->seed_level);
	hj_set(rec, RJK_SEED_LEVEL, sl);
	exp_seed_level_params(sl, group);
	/* the pair-level Mann–Whitney of upstream, labelled as parity (not the verdict) */
	hj_set(rec, "mann_whitney_parity", hj_ref(hj_get(group, "statistical_test")));
}
