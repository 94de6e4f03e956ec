/*
 * run_experiment.c — the work of `husai run` (struct run_request in run.h; the verb, cmd_run.c,
 * only parses the command line): a whole experiment from one config.  Loads the experiment config,
 * applies --set overrides, refuses a run directory made from a different config (naming the
 * fields that differ), writes the resolved config, runs the experiment's jobs through the job
 * engine (run_jobs.c), and writes manifest.json over everything the run directory holds.
 * Started by mpirun or srun, it is one rank of the run (run_mpi.c, run_batch.c): every rank
 * reads the config and declares the same jobs, rank 0 alone writes the run's shared files
 * (config.yaml, job configs, results, manifest) and draws the progress line.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "run.h"


int (*husai_run_sections_check)(struct cfg *c, struct hus_err *err);

/* Check the stage sections the jobs will read (data, transformer, sae) on a fresh load of the
 * user's file with the same overrides, so that a bad value is reported against the user's
 * file and line:column before any job runs, and the run's own config is left as it was. */
static int check_sections(const char *path, const struct hus_sets *sets, struct hus_err *err)
{
	if (!husai_run_sections_check)
		return 0;
	static const char *const other[] = { "experiment", "extract", "analysis", "report", NULL };
	struct cfg *c = NULL;
	int rc = cfg_load(&c, path, err);
	if (!rc)
		rc = hus_sets_apply(sets, c, err);
	if (!rc)
		rc = husai_run_sections_check(c, err);
	if (!rc) {
		free(cfg_sections_yaml(c, other)); /* checked elsewhere: only mark them read */
		rc = cfg_finish(c, err);           /* unknown keys in data, transformer, sae */
	}
	cfg_free(c);
	return rc;
}

/* Name the first keys whose resolved values differ between two resolved configs. */
static void describe_difference(const char *old, const char *new, char *out, size_t n)
{
	size_t o = 0;
	out[0] = 0;
	const char *a = old, *b = new;
	int shown = 0;
	while ((*a || *b) && shown < 5) {
		size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
		if (la != lb || strncmp(a, b, la)) {
			o += (size_t)snprintf(out + o, n > o ? n - o : 0, "%s'%.*s' now '%.*s'",
					      shown ? "; " : "", (int)(la > 60 ? 60 : la), a,
					      (int)(lb > 60 ? 60 : lb), b);
			shown++;
		}
		a += la + (a[la] == '\n');
		b += lb + (b[lb] == '\n');
	}
}

/* Rank 0 makes the run directory and writes its config.yaml, or checks that the one there
 * was made from the same config; a dry run writes nothing. */
static int claim_run_dir(struct runner *r, struct cfg *cf, const char *run_dir, int dry,
                         char **resolved, char **old, struct hus_err *err)
{
	char cpath[PATH_MAX + 32];
	int rc = 0;
	snprintf(cpath, sizeof(cpath), "%s/config.yaml", run_dir);
	if (!runner_writes(r) || (!dry && (rc = hus_mkdirs(run_dir, err))))
		return rc;
	*resolved = experiment_config_text(cf);
	if (!hus_file_exists(cpath)) {
		if (!dry) /* a dry run writes nothing */
			rc = hus_write_file(cpath, *resolved, strlen(*resolved), err);
	} else if (!(rc = hus_read_file(cpath, old, NULL, err)) && strcmp(*old, *resolved)) {
		char diff[1024];
		describe_difference(*old, *resolved, diff, sizeof(diff));
		rc = hus_errf(err, HUS_EINPUT, cpath, NULL,
		              "this run directory was made from a different config (%s); "
		              "use another --out, or remove the directory to start over",
		              diff);
	}
	return rc;
}

int run_experiment(const struct run_request *q, struct hus_err *err)
{
	const char *config_path = q->config, *out = q->out;
	int dry = q->dry_run;
	struct cfg *cf = NULL;
	struct experiment ex = { 0 };
	struct runner r = { 0 };
	char *resolved = NULL, *old = NULL;
	int rc = run_mpi_init(&r.group.rank, &r.group.size, err);
	if (rc) /* before any collective: every rank fails the same way */
		return rc;
	rc = cfg_load(&cf, config_path, err);
	if (!rc)
		rc = hus_sets_apply(&q->sets, cf, err);
	if (!rc)
		rc = experiment_read(cf, &ex, err);
	if (!rc)
		rc = check_sections(config_path, &q->sets, err);
	if (!rc) { /* first pass: the experiment reads every key it uses, runs nothing */
		struct runner probe = { 0 };
		probe.validate_only = 1;
		snprintf(probe.run_dir, sizeof(probe.run_dir), "%s", ".");
		rc = experiment_run(&probe, cf, &ex, config_path, err);
	}
	char run_dir[PATH_MAX];
	snprintf(run_dir, sizeof(run_dir), "%s", out ? out : "");
	if (!out)
		snprintf(run_dir, sizeof(run_dir), "artifacts/%s", ex.name ? ex.name : "");
	/* the whole effective config (file + overrides) identifies the run; stage sections were
	 * checked above (check_sections), the rest by the drivers' first pass */
	if (!rc)
		rc = cfg_finish(cf, err);
	/* rank 0 makes the directory and checks or writes config.yaml; the others wait for its
	 * verdict at the meeting below */
	if (!rc)
		rc = claim_run_dir(&r, cf, run_dir, dry, &resolved, &old, err);
	if ((rc = run_group_sync(&r.group, rc, err)))
		goto done;
	if (!dry)
		runner_signals_install(); /* forwarded to the jobs; the run stops resumably */
	r.dry_run = dry; /* kept by runner_init: a dry run makes no directory, removes nothing */
	if ((rc = runner_init(&r, run_dir, q->redo, err)))
		goto done;
	r.aggregate_only = q->aggregate_only;
	if (q->plan_out && !(r.plan = hj_arr())) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	r.jobs = (int)q->jobs;
	hus_cli_command_line(r.command, sizeof(r.command), q->argc, q->argv);
	experiment_hash(cf, r.config_hash);
	const char *quiet = getenv("HUSAI_QUIET");
	r.quiet_env = quiet && *quiet;
	if (runner_writes(&r))
		hus_progress_begin(&r.progress, ex.name, ex.estimated_jobs);
	rc = experiment_run(&r, cf, &ex, config_path, err);
	hus_progress_end(&r.progress);
	if (q->plan_out && runner_writes(&r)) { /* written also when a job had not finished */
		struct hus_err e = { 0 };
		int prc = hj_write_file(q->plan_out, r.plan, &e);
		if (r.plan_rc) {
			rc = r.plan_rc;
			*err = r.plan_err;
		} else if (!rc && prc) {
			rc = prc;
			*err = e;
		}
	}
	if (!rc && !dry && runner_writes(&r))
		rc = experiment_manifest(&r, cf, config_path, q->argc, q->argv, err);
	rc = runner_finish(&r, rc, err); /* every rank: the run's status and job counts */
	if (!rc && !dry && runner_writes(&r))
		printf("%s: %zu jobs run, %zu reused, %.1f s in jobs%s\n", run_dir, r.jobs_run,
		       r.jobs_skipped, r.seconds,
		       r.group.size > 1 ? " (over all ranks)" : "");
done:
	hj_free(r.plan);
	run_mpi_finalize(); /* every path here has met the other ranks with its status */
	free(old);
	free(resolved);
	experiment_release(&ex);
	cfg_free(cf);
	return rc;
}
