/*
 * audit_aggregate.c — the second half of `husai audit --recompute`: a run's own outputs
 * (results.json, the CSVs and summaries its experiment driver writes after the jobs) are
 * rebuilt from the archive and compared with it.  A scratch directory mirrors the run
 * directory with symbolic links to every file a finished job produced (its done records list
 * them) plus the jobs' records, logs and the resolved config; `husai run --aggregate-only`
 * over that mirror verifies every job's outputs by checksum, runs no job (an unfinished one
 * is an error), and writes the aggregation into the mirror, never into the archive.  Then
 * every file of the run the jobs did not produce is compared (audit_compare.c): JSON without
 * run_metadata (the time and command line of the run), CSVs value by value, everything else
 * byte for byte.  The aggregate run also writes the plan: every job this husai declares for
 * the run's config (--plan-out), which audit_recompute reruns instead of any recorded command.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_internal.h"

struct owned {
	char **rel; /* sorted is not needed: few hundred entries at most per run */
	size_t n, cap;
};

static int owned_add(struct owned *o, const char *rel)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		char **p = realloc(o->rel, cap * sizeof(*p));
		if (!p)
			return HUS_ENOMEM;
		o->rel = p, o->cap = cap;
	}
	if (!(o->rel[o->n] = strdup(rel)))
		return HUS_ENOMEM;
	o->n++;
	return 0;
}

static int owned_has(const struct owned *o, const char *rel)
{
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->rel[i], rel))
			return 1;
	return 0;
}

static void owned_free(struct owned *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->rel[i]);
	free(o->rel);
}

/* every output a done record (RUN/jobs/<job>.done.json) lists */
static int collect_outputs(const char *rel, const char *full, void *ctx)
{
	struct owned *o = ctx;
	size_t n = strlen(rel);
	if (strchr(rel, '/') || n < 10 || strcmp(rel + n - 10, ".done.json"))
		return 0;
	hj *d;
	struct hus_err e = { 0 };
	if (hj_read_file(full, &d, &e))
		return 0; /* the aggregate run reports a bad record by name */
	hj *outs = hj_get(d, "outputs");
	int rc = 0;
	for (size_t i = 0; !rc && outs && i < hj_len(outs); i++) {
		const char *p = hj_get_str(hj_at(outs, i), "path");
		if (p && !strstr(p, ".."))
			rc = owned_add(o, p);
	}
	hj_free(d);
	return rc;
}

/* A job's file: its records, logs, the config, a declared output, or any file in or below the
 * directory of a declared output under the run's top level (a job's directory also holds what
 * it made without declaring it, such as the step-0 checkpoints of the R2 control, and a
 * suite's sub-run job makes its whole directory). */
static int is_job_file(const struct owned *o, const char *rel)
{
	if (!strncmp(rel, "jobs/", 5) || !strncmp(rel, "logs/", 5) ||
	    !strcmp(rel, "config.yaml") || owned_has(o, rel))
		return 1;
	for (size_t i = 0; i < o->n; i++) {
		const char *s = strrchr(o->rel[i], '/');
		size_t dl = s ? (size_t)(s - o->rel[i]) : 0;
		if (dl && !strncmp(o->rel[i], rel, dl) && rel[dl] == '/')
			return 1;
	}
	return 0;
}

struct mirror {
	const struct owned *o;
	const char *dst;
	int rc;
	struct hus_err *err;
};

static int link_one(const char *rel, const char *full, void *ctx)
{
	struct mirror *m = ctx;
	if (!is_job_file(m->o, rel))
		return 0;
	char target[PATH_MAX], link[PATH_MAX * 2];
	if (!realpath(full, target))
		return m->rc = hus_errf(m->err, HUS_EIO, full, NULL, "cannot resolve: %s",
					 strerror(errno));
	snprintf(link, sizeof(link), "%s/%s", m->dst, rel);
	char *slash = strrchr(link, '/');
	*slash = 0;
	if ((m->rc = hus_mkdirs(link, m->err)))
		return m->rc;
	*slash = '/';
	if (symlink(target, link))
		return m->rc = hus_errf(m->err, HUS_EIO, link, NULL, "cannot link: %s",
					 strerror(errno));
	return 0;
}

static int spawn_aggregate(const char *mirror, const char *plan_out, struct hus_err *err)
{
	char cfg[PATH_MAX + 32], log[PATH_MAX + 32];
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", mirror);
	snprintf(log, sizeof(log), "%s.log", mirror);
	char *argv[] = { "run", "--aggregate-only", "--plan-out", (char *)plan_out,
			 "--out", (char *)mirror, cfg, NULL };
	setenv("HUSAI_QUIET", "1", 1);
	int code, rc = audit_run_husai(argv, log, &code, err);
	if (!rc && code) {
		char *text = NULL;
		size_t tn = 0;
		struct hus_err e2 = { 0 };
		if (!hus_read_file(log, &text, &tn, &e2))
			fputs(text, stderr);
		free(text);
		rc = hus_errf(err, HUS_EINPUT, mirror, NULL,
			      "rebuilding the run's results from its archived jobs failed (above)");
	}
	unlink(log);
	return rc;
}

struct compare {
	const struct owned *o;
	const char *mirror;
	struct audit_cmp c;
	struct audit_tally *t;
};

static int compare_one(const char *rel, const char *full, void *ctx)
{
	struct compare *c = ctx;
	if (is_job_file(c->o, rel) || !strcmp(rel, "manifest.json"))
		return 0;
	char other[PATH_MAX * 2];
	snprintf(other, sizeof(other), "%s/%s", c->mirror, rel);
	audit_compare(full, other, rel, &c->c, c->t);
	return 0;
}

int audit_aggregate(const char *run_dir, const struct audit_cmp *cmp, struct audit_tally *t,
                    struct audit_plan *plan, struct hus_err *err)
{
	memset(plan, 0, sizeof(*plan));
	struct owned o = { 0 };
	char cfg[PATH_MAX + 32];
	snprintf(cfg, sizeof(cfg), "%s/config.yaml", run_dir);
	if (!hus_file_exists(cfg))
		return hus_errf(err, HUS_EINPUT, cfg, NULL, "missing: is this a `husai run` directory?");
	char jobs[PATH_MAX + 8];
	run_path(jobs, sizeof(jobs), run_dir, RUN_JOBS_DIR);
	int rc = hus_walk_files(jobs, collect_outputs, &o);
	if (rc) {
		owned_free(&o);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	char mirror[] = "/tmp/husai_audit_XXXXXX";
	if (!mkdtemp(mirror)) {
		owned_free(&o);
		return hus_errf(err, HUS_EIO, "/tmp", NULL, "cannot make a temporary directory");
	}
	struct mirror m = { &o, mirror, 0, err };
	hus_walk_files(run_dir, link_one, &m);
	rc = m.rc;
	char plan_out[sizeof(mirror) + 16];
	snprintf(plan_out, sizeof(plan_out), "%s.plan.json", mirror);
	int spawned = 0;
	if (!rc) {
		rc = spawn_aggregate(mirror, plan_out, err);
		spawned = 1;
	}
	/* the jobs as this husai declares them for the run's config, with the mirror's name for
	 * the run directory: what audit_recompute reruns; written also when the rebuild failed
	 * on an unfinished or changed job (its analyses are still recomputed and compared) */
	struct hus_err e2 = { 0 };
	if (spawned && hus_file_exists(plan_out) && !hj_read_file(plan_out, &plan->jobs, &e2) &&
	    hj_is_arr(plan->jobs))
		snprintf(plan->run_dir, sizeof(plan->run_dir), "%s", mirror);
	else
		audit_plan_free(plan);
	unlink(plan_out);
	if (!rc) {
		struct compare c = { &o, mirror, *cmp, t };
		c.c.strip_metadata = 1;
		c.c.note = "(rebuilt from the archived jobs)";
		hus_walk_files(run_dir, compare_one, &c);
	}
	audit_remove_tree(mirror);
	owned_free(&o);
	return rc;
}

/* A suite's sub-runs are run directories of their own (config.yaml + jobs/). */
int audit_run_dirs(const char *run_dir, char ***dirs, size_t *n, struct hus_err *err)
{
	char **subs = NULL;
	size_t ns = 0;
	struct owned all = { 0 };
	int rc = hus_subdirs_having(run_dir, "config.yaml", &subs, &ns);
	if (!rc)
		rc = owned_add(&all, run_dir);
	for (size_t i = 0; i < ns; i++) {
		char jobs[PATH_MAX + 8];
		run_path(jobs, sizeof(jobs), subs[i], RUN_JOBS_DIR);
		struct stat st;
		if (!rc && !stat(jobs, &st) && S_ISDIR(st.st_mode))
			rc = owned_add(&all, subs[i]);
		free(subs[i]);
	}
	free(subs);
	if (rc) {
		owned_free(&all);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	*dirs = all.rel;
	*n = all.n;
	return 0;
}

void audit_plan_free(struct audit_plan *plan)
{
	hj_free(plan->jobs);
	memset(plan, 0, sizeof(*plan));
}
