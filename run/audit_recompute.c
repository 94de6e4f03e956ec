/*
 * audit_recompute.c — `husai audit --recompute`: every analysis a run directory records
 * (RUN/jobs/<job>.done.json with argv[0] = "analyze") is run again from the archived SAE
 * checkpoints into a scratch directory, and its outputs are compared with the archived ones
 * (audit_compare.c: identical, within N ULP, or differs): the record's declared outputs
 * (results.json, analysis.h5 dataset by dataset) and every archived CSV beside them.  The recorded command is read strictly and its paths are mapped into the audited run
 * directory (audit_argv.c), so the archive can neither send outputs elsewhere nor have the
 * audit read files outside it.  Every reported pairwise statistic, CI, test and control of
 * the analyses is thereby re-derived from the HDF5 files.
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

/* One done record: a `husai analyze` job is rerun and compared; other verbs are skipped. */
static int one_record(const char *rel, const char *full, void *ctx)
{
	struct recompute *x = ctx;
	size_t len = strlen(rel);
	if (strchr(rel, '/') || len < 10 || strcmp(rel + len - 10, ".done.json"))
		return 0;
	char rec_name[PATH_MAX + 16];
	snprintf(rec_name, sizeof(rec_name), "%s/jobs/%s", x->run_dir, rel);
	hj *rec;
	int rc = hj_read_file(full, &rec, x->err);
	if (rc)
		return rc;
	hj *argv = hj_get(rec, "argv");
	const char *verb = hj_get_str(rec, "argv.0");
	if (!hj_is_arr(argv) || !verb) {
		hj_free(rec);
		return hus_errf(x->err, HUS_EINPUT, rec_name, "argv",
				"expected the job's command (a list of strings, verb first); a record "
				"without one (made before husai recorded commands) cannot be recomputed");
	}
	if (strcmp(verb, "analyze")) {
		hj_free(rec);
		return 0;
	}
	char tmp[] = "/tmp/husai_audit_XXXXXX";
	if (!mkdtemp(tmp)) {
		hj_free(rec);
		return hus_errf(x->err, HUS_EIO, "/tmp", NULL, "cannot make a temporary directory");
	}
	char scratch[sizeof(tmp) + 8], log[sizeof(tmp) + 8];
	snprintf(scratch, sizeof(scratch), "%s/out", tmp);
	snprintf(log, sizeof(log), "%s/log", tmp);
	struct audit_job job;
	rc = audit_job_read(rec, rec_name, x->run_abs, scratch, &job, x->err);
	hj_free(rec);
	int code = 0;
	if (!rc)
		rc = audit_run_husai(job.argv, log, &code, x->err);
	if (!rc && code) {
		fprintf(stderr, "husai: the recomputation of %s failed (status %d); its log:\n",
			rec_name, code);
		audit_print_log(log);
		rc = hus_errf(x->err, HUS_EINPUT, rec_name, NULL,
			      "`husai analyze` failed on the archived inputs (above)");
	}
	if (!rc) {
		/* the recomputed outputs name the audited run's files: read them as the archive
		 * spelled the run directory */
		struct audit_cmp c = *x->c;
		c.from = x->run_abs;
		c.to = job.prefix;
		c.note = "(recomputed from the archived checkpoints)";
		for (size_t i = 0; !rc && i < job.n_outputs; i++) {
			char archived[PATH_MAX * 2], recomputed[PATH_MAX * 2], real[PATH_MAX];
			snprintf(archived, sizeof(archived), "%s/%s", x->run_dir, job.outputs[i]);
			size_t rl = strlen(x->run_abs);
			if (realpath(archived, real) && (strncmp(real, x->run_abs, rl) || real[rl] != '/')) {
				rc = hus_errf(x->err, HUS_EINPUT, rec_name, NULL,
					      "outputs.%zu.path '%s' leads outside the run directory (to '%s', "
					      "through a symbolic link)",
					      i, job.outputs[i], real);
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

int audit_recompute(const char *run_dir, const struct audit_cmp *c, struct audit_tally *t,
                    struct hus_err *err)
{
	struct recompute x = { .run_dir = run_dir, .c = c, .t = t, .err = err };
	char jobs[PATH_MAX + 16];
	snprintf(jobs, sizeof(jobs), "%s/jobs", run_dir);
	struct stat st;
	if (stat(jobs, &st) || !S_ISDIR(st.st_mode))
		return hus_errf(err, HUS_EINPUT, jobs, NULL,
				"no job records: is this a `husai run` directory?");
	if (!realpath(run_dir, x.run_abs))
		return hus_errf(err, HUS_EINPUT, run_dir, NULL, "cannot resolve the run directory");
	return hus_walk_files(jobs, one_record, &x);
}
