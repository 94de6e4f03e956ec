/*
 * audit_recompute.c — `husai audit --recompute`: every analysis (and functional test,
 * docs/formulas.md §11) a run's config declares is run again from the archived SAE checkpoints
 * into a scratch directory, and its outputs are compared with the archived ones
 * (audit_compare.c: identical, within N ULP, or differs): the job's declared outputs
 * (results.json, analysis.h5 dataset by dataset; functional.json) and every archived CSV beside
 * them.  No command recorded in the archive is ever run: the commands are the plan
 * (audit_aggregate.c), the jobs this husai declares for the run's validated config.yaml, and
 * each one's paths are mapped into the audited run directory (audit_argv.c: inputs must lie
 * inside it, symbolic links resolved; the output always goes to a scratch directory the audit
 * owns), so an edited done record changes nothing that is run or written.  Every reported
 * pairwise statistic, CI, test and control of the analyses is thereby re-derived from the
 * HDF5 files.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit_internal.h"

struct recompute {
	const char *run_dir;
	char run_abs[PATH_MAX];
	const struct audit_cmp *c;
	struct audit_tally *t;
	struct hus_err *err;
	size_t jobs;
};

/* The CSVs beside a job's declared outputs, compared too: every archived one (a CSV the
 * recomputation no longer writes differs), and a note for a recomputed one the archive lacks
 * (a newer husai may write more; it reports nothing the archive did). */
struct extra {
	struct recompute *x;
	const struct audit_job *job;
	const struct audit_cmp *c;
	const char *scratch;
	int archive_side;
};

static int compare_extra(const char *rel, const char *full, void *ctx)
{
	struct extra *e = ctx;
	size_t n = strlen(rel);
	if (strchr(rel, '/') || n < 4 || strcmp(rel + n - 4, ".csv"))
		return 0;
	for (size_t i = 0; i < e->job->n_outputs; i++)
		if (!strcmp(strrchr(e->job->outputs[i], '/') + 1, rel))
			return 0; /* a declared output: compared already */
	char archived[PATH_MAX * 2], recomputed[PATH_MAX * 2], name[PATH_MAX * 2];
	snprintf(archived, sizeof(archived), "%s/%s/%s", e->x->run_dir, e->job->out_rel, rel);
	snprintf(recomputed, sizeof(recomputed), "%s/%s", e->scratch, rel);
	snprintf(name, sizeof(name), "%s/%s", e->job->out_rel, rel);
	if (e->archive_side)
		audit_compare(full, recomputed, name, e->c, e->x->t);
	else if (!hus_file_exists(archived) && e->c->out)
		fprintf(e->c->out, "note: %s is written by this husai but not in the archive (not "
				   "compared)\n",
			name);
	return 0;
}

/* How the archive spelled the run directory, for comparing the path strings the analysis
 * writes (its results.json names its checkpoints): the text before "/<rel>\"" in the archived
 * results.json, where rel is the job's first checkpoint; run_abs when it is not there.  Only a
 * text mapping for the comparison: nothing is read or run from it. */
static void archived_spelling(const char *archived_json, const char *rel, const char *run_abs,
                              char *out, size_t n)
{
	snprintf(out, n, "%s", run_abs);
	char *text = NULL, needle[PATH_MAX + 4];
	struct hus_err e = { 0 };
	snprintf(needle, sizeof(needle), "/%s\"", rel);
	if (!*rel || hus_read_file(archived_json, &text, NULL, &e))
		return;
	char *at = strstr(text, needle);
	if (at) {
		char *q = at;
		while (q > text && q[-1] != '"')
			q--;
		if (q > text && (size_t)(at - q) < n && at > q) {
			memcpy(out, q, (size_t)(at - q));
			out[at - q] = 0;
		}
	}
	free(text);
}

/* The first checkpoint a planned command names (a --group file), relative to the plan's run
 * directory; "" if none. */
static void first_checkpoint(hj *argv, const char *plan_dir, char *rel, size_t n)
{
	size_t pl = strlen(plan_dir);
	rel[0] = 0;
	for (size_t i = 0; i < hj_len(argv); i++) {
		const char *a = hj_get_str(hj_at(argv, i), "");
		const char *eq = a ? strchr(a, '=') : NULL;
		if (!a || strcmp(a, "--group") || i + 1 >= hj_len(argv))
			continue;
		a = hj_get_str(hj_at(argv, i + 1), "");
		eq = a ? strchr(a, '=') : NULL;
		if (eq && !strncmp(eq + 1, plan_dir, pl) && eq[1 + pl] == '/') {
			size_t len = strcspn(eq + 2 + pl, ",");
			if (len < n) {
				memcpy(rel, eq + 2 + pl, len);
				rel[len] = 0;
			}
		}
		return;
	}
}

/* One job of the plan: an `analyze` or `functional` job is rerun and compared; other verbs are
 * skipped. */
static int one_job(struct recompute *x, const struct audit_plan *plan, hj *planned)
{
	const char *name = hj_get_str(planned, "job");
	hj *argv = hj_get(planned, "argv");
	const char *verb = hj_get_str(planned, "argv.0");
	if (!name || !hj_is_arr(argv) || !verb || !hj_is_arr(hj_get(planned, "outputs")))
		return hus_errf(x->err, HUS_EINTERNAL, x->run_dir, NULL,
				"the rebuilt plan of the run has a malformed job");
	if (strcmp(verb, "analyze") && strcmp(verb, "functional"))
		return 0;
	/* a pair job (--pair-only) writes a cache its group's analysis reads; that analysis is
	 * rerun without the caches (audit_argv.c drops --pair-cache), which recomputes every
	 * product the pair jobs made and compares what they fed into */
	for (size_t i = 1; i < hj_len(argv); i++) {
		const char *a = hj_get_str(hj_at(argv, i), "");
		if (a && (!strcmp(a, "--pair-only") || !strncmp(a, "--pair-only=", 12)))
			return 0;
	}
	/* where errors point: the job as the run's config declares it */
	char rec_name[PATH_MAX + 256];
	snprintf(rec_name, sizeof(rec_name), "%s/config.yaml (job '%s')", x->run_dir, name);
	/* the planned command in the shape of a record, its outputs as declared */
	hj *rec = hj_obj();
	if (!rec)
		return hus_errf(x->err, HUS_ENOMEM, NULL, NULL, "out of memory");
	hj_set(rec, "argv", hj_ref(argv));
	hj *outs = hj_arr();
	hj *pouts = hj_get(planned, "outputs");
	for (size_t i = 0; i < hj_len(pouts); i++) {
		hj *o = hj_obj();
		hj_set(o, "path", hj_str(hj_get_str(hj_at(pouts, i), "") ? hj_get_str(hj_at(pouts, i), "") : ""));
		hj_push(outs, o);
	}
	hj_set(rec, "outputs", outs);
	char tmp[] = "/tmp/husai_audit_XXXXXX";
	if (!mkdtemp(tmp)) {
		hj_free(rec);
		return hus_errf(x->err, HUS_EIO, "/tmp", NULL, "cannot make a temporary directory");
	}
	char scratch[sizeof(tmp) + 8], log[sizeof(tmp) + 8];
	snprintf(scratch, sizeof(scratch), "%s/out", tmp);
	snprintf(log, sizeof(log), "%s/log", tmp);
	struct audit_job job;
	/* every input path must lie in the plan's run directory and is read from the same place
	 * in the audited run; the output goes to scratch */
	int rc = audit_job_read(rec, rec_name, x->run_abs, scratch, &job, x->err);
	char first[PATH_MAX];
	first_checkpoint(argv, plan->run_dir, first, sizeof(first));
	hj_free(rec);
	int code = 0;
	if (!rc)
		rc = audit_run_husai(job.argv, log, &code, x->err);
	if (!rc && code) {
		fprintf(stderr, "husai: the recomputation of job '%s' failed (status %d); its log:\n",
			name, code);
		run_print_log_tail(log, 20);
		rc = hus_errf(x->err, HUS_EINPUT, rec_name, NULL,
			      "`husai %s` failed on the archived inputs (above)", verb);
	}
	if (!rc) {
		/* the recomputed outputs name the audited run's files: read them as the archive
		 * spelled the run directory */
		char spelled[PATH_MAX], results[PATH_MAX * 2];
		snprintf(results, sizeof(results), "%s/%s/" RUN_RESULTS, x->run_dir, job.out_rel);
		archived_spelling(results, first, x->run_abs, spelled, sizeof(spelled));
		struct audit_cmp c = *x->c;
		c.from = x->run_abs;
		c.to = spelled;
		c.note = "(recomputed from the archived checkpoints)";
		for (size_t i = 0; !rc && i < job.n_outputs; i++) {
			char archived[PATH_MAX * 2], recomputed[PATH_MAX * 2], real[PATH_MAX];
			snprintf(archived, sizeof(archived), "%s/%s", x->run_dir, job.outputs[i]);
			size_t rl = strlen(x->run_abs);
			if (realpath(archived, real) && (strncmp(real, x->run_abs, rl) || real[rl] != '/')) {
				rc = hus_errf(x->err, HUS_EINPUT, archived, NULL,
					      "leads outside the run directory (to '%s', through a "
					      "symbolic link)", real);
				break;
			}
			snprintf(recomputed, sizeof(recomputed), "%s/%s", scratch,
				 strrchr(job.outputs[i], '/') + 1);
			audit_compare(archived, recomputed, job.outputs[i], &c, x->t);
		}
		struct extra e = { x, &job, &c, scratch, 1 };
		char out_dir[PATH_MAX * 2], real[PATH_MAX];
		snprintf(out_dir, sizeof(out_dir), "%s/%s", x->run_dir, job.out_rel);
		size_t rl = strlen(x->run_abs);
		if (!rc && realpath(out_dir, real) && !strncmp(real, x->run_abs, rl) && real[rl] == '/')
			hus_walk_files(out_dir, compare_extra, &e);
		e.archive_side = 0;
		if (!rc)
			hus_walk_files(scratch, compare_extra, &e);
		x->jobs++;
	}
	audit_job_free(&job);
	if (audit_remove_tree(tmp) != 0)
		fprintf(stderr, "husai: note: could not remove %s\n", tmp);
	return rc;
}

int audit_recompute(const char *run_dir, const struct audit_plan *plan, const struct audit_cmp *c,
                    struct audit_tally *t, struct hus_err *err)
{
	struct recompute x = { .run_dir = run_dir, .c = c, .t = t, .err = err };
	if (!realpath(run_dir, x.run_abs))
		return hus_errf(err, HUS_EINPUT, run_dir, NULL, "cannot resolve the run directory");
	int rc = 0;
	for (size_t i = 0; !rc && i < hj_len(plan->jobs); i++)
		rc = one_job(&x, plan, hj_at(plan->jobs, i));
	return rc;
}
