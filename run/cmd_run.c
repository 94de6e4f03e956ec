/*
 * cmd_run.c — `husai run`: a whole experiment from one config.  Loads the experiment config,
 * applies --set overrides, refuses a run directory made from a different config (naming the
 * fields that differ), writes the resolved config, runs the experiment's jobs through the job
 * engine (run_jobs.c), and writes manifest.json over everything the run directory holds.
 * Started by mpirun or srun, it is one rank of the run (run_mpi.c, run_batch.c): every rank
 * reads the config and declares the same jobs, rank 0 alone writes the run's shared files
 * (config.yaml, job configs, results, manifest) and draws the progress line.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "run.h"

static const char *const run_usage[] = {
	"usage: husai run [--out <run-dir>] [--set <key>=<value>]... [--jobs <n>] [--redo] [--dry-run]",
	"                 [--aggregate-only] <config.yaml>",
	"",
	"Run a whole experiment: train or reuse the transformer, extract activations, train every",
	"(condition, seed) SAE and the random controls, analyse, and write one self-contained run",
	"directory (config.yaml, HDF5 artifacts, results.json, CSVs, manifest.json).  Rerunning the",
	"same command skips every job whose outputs exist and still match their checksums, so a",
	"killed run finishes where it stopped.",
	"",
	"    --out <run-dir>      where the run goes (default: artifacts/<experiment.name>)",
	"    --set <key>=<value>  override a config value, e.g. --set sae.seeds=1,2,3",
	"    --redo               rerun every job even if its outputs verify",
	"    --dry-run            list the jobs instead of running them",
	"    -j, --jobs <n>       jobs of a batch run at once on this machine (default: one per",
	"                         CPU, or per thread of OMP_NUM_THREADS, each single-threaded;",
	"                         1 per rank under MPI); results do not depend on it",
	"    --aggregate-only     run no job (each must have finished: its outputs listed by a",
	"                         done record, of any name, whose checksums still hold); only",
	"                         rebuild results.json, the CSVs and summaries from the jobs' files",
	"    --plan-out <file>    with --aggregate-only: also write every job this husai declares",
	"                         for the config (name, command, outputs) to <file> as JSON (what",
	"                         `husai audit --recompute` reruns, instead of the recorded commands)",
	"",
	"Experiment kinds (experiment.kind): see configs/*.yaml.",
	"",
	"Under mpirun or srun (mpirun -np N husai run ...), the ranks share the jobs; the run",
	"directory must be on a filesystem every rank sees.  Results never depend on N.",
	NULL,
};

static void usage(FILE *out) { hus_print_lines(out, run_usage); }

int (*husai_run_sections_check)(struct cfg *c, struct hus_err *err);

/* Check the stage sections the jobs will read (data, transformer, sae) on a fresh load of the
 * user's file with the same overrides, so that a bad value is reported against the user's
 * file and line:column before any job runs, and the run's own config is left as it was. */
static int check_sections(const char *path, const char *const *sets, int nsets,
                          struct hus_err *err)
{
	if (!husai_run_sections_check)
		return 0;
	static const char *const other[] = { "experiment", "extract", "analysis", "report", NULL };
	struct cfg *c = NULL;
	int rc = cfg_load(&c, path, err);
	for (int i = 0; !rc && i < nsets; i++)
		rc = cfg_set(c, sets[i], err);
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

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },     { "out", required_argument, NULL, 'o' },
		{ "set", required_argument, NULL, 's' }, { "redo", no_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },   { "aggregate-only", no_argument, NULL, 'a' },
		{ "jobs", required_argument, NULL, 'j' }, { "plan-out", required_argument, NULL, 'p' },
		{ 0, 0, 0, 0 },
	};
	const char *out = NULL, *sets[64], *plan_out = NULL;
	int nsets = 0, redo = 0, dry = 0, aggregate_only = 0, jobs = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:s:j:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'o':
			out = optarg;
			break;
		case 's':
			if (nsets == 64) {
				fprintf(stderr, "husai: too many --set options\n");
				return 2;
			}
			sets[nsets++] = optarg;
			break;
		case 'r':
			redo = 1;
			break;
		case 'n':
			dry = 1;
			break;
		case 'a':
			aggregate_only = 1;
			break;
		case 'p':
			plan_out = optarg;
			break;
		case 'j': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > RUN_MAX_SLOTS) {
				fprintf(stderr, "husai: run: --jobs: expected a number from 1 to %d, got '%s'\n",
					RUN_MAX_SLOTS, optarg);
				return 2;
			}
			jobs = (int)v;
			break;
		}
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || (plan_out && !aggregate_only)) {
		if (plan_out && !aggregate_only)
			fprintf(stderr, "husai: run: --plan-out applies to --aggregate-only only\n");
		usage(stderr);
		return 2;
	}
	const char *config_path = argv[optind];
	struct hus_err err = { 0 };
	struct cfg *cf = NULL;
	struct experiment ex = { 0 };
	struct runner r = { 0 };
	char *resolved = NULL, *old = NULL;
	int rc = run_mpi_init(&r.group.rank, &r.group.size, &err);
	if (rc) { /* before any collective: every rank fails the same way */
		hus_err_print(&err);
		return hus_err_status(rc);
	}
	rc = cfg_load(&cf, config_path, &err);
	for (int i = 0; !rc && i < nsets; i++)
		rc = cfg_set(cf, sets[i], &err);
	if (!rc)
		rc = experiment_read(cf, &ex, &err);
	if (!rc)
		rc = check_sections(config_path, sets, nsets, &err);
	if (!rc) { /* first pass: the experiment reads every key it uses, runs nothing */
		struct runner probe = { 0 };
		probe.validate_only = 1;
		snprintf(probe.run_dir, sizeof(probe.run_dir), "%s", ".");
		rc = experiment_run(&probe, cf, &ex, config_path, &err);
	}
	char run_dir[PATH_MAX];
	snprintf(run_dir, sizeof(run_dir), "%s", out ? out : "");
	if (!out)
		snprintf(run_dir, sizeof(run_dir), "artifacts/%s", ex.name ? ex.name : "");
	/* the whole effective config (file + overrides) identifies the run; stage sections were
	 * checked above (check_sections), the rest by the drivers' first pass */
	if (!rc)
		rc = cfg_finish(cf, &err);
	char cpath[PATH_MAX + 32];
	snprintf(cpath, sizeof(cpath), "%s/config.yaml", run_dir);
	/* rank 0 makes the directory and checks or writes config.yaml; the others wait for its
	 * verdict at the meeting below */
	if (!rc && runner_writes(&r) && (dry || !(rc = hus_mkdirs(run_dir, &err)))) {
		resolved = experiment_config_text(cf);
		if (!hus_file_exists(cpath)) {
			if (!dry) /* a dry run writes nothing */
				rc = hus_write_file(cpath, resolved, strlen(resolved), &err);
		} else if (!(rc = hus_read_file(cpath, &old, NULL, &err)) && strcmp(old, resolved)) {
			char diff[1024];
			describe_difference(old, resolved, diff, sizeof(diff));
			rc = hus_errf(&err, HUS_EINPUT, cpath, NULL,
				      "this run directory was made from a different config (%s); "
				      "use another --out, or remove the directory to start over",
				      diff);
		}
	}
	if ((rc = run_group_sync(&r.group, rc, &err)))
		goto done;
	if (!dry)
		runner_signals_install(); /* forwarded to the jobs; the run stops resumably */
	r.dry_run = dry; /* kept by runner_init: a dry run makes no directory, removes nothing */
	if ((rc = runner_init(&r, run_dir, redo, &err)))
		goto done;
	r.aggregate_only = aggregate_only;
	if (plan_out && !(r.plan = hj_arr())) {
		rc = hus_errf(&err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	r.jobs = jobs;
	snprintf(r.command, sizeof(r.command), "husai");
	for (int i = 0; i < argc; i++)
		snprintf(r.command + strlen(r.command), sizeof(r.command) - strlen(r.command), " %s",
			 argv[i]);
	experiment_hash(cf, r.config_hash);
	const char *q = getenv("HUSAI_QUIET");
	r.quiet_env = q && *q;
	if (runner_writes(&r))
		hus_progress_begin(&r.progress, ex.name, ex.estimated_jobs);
	rc = experiment_run(&r, cf, &ex, config_path, &err);
	hus_progress_end(&r.progress);
	if (plan_out && runner_writes(&r)) { /* written also when a job had not finished */
		struct hus_err e = { 0 };
		int prc = hj_write_file(plan_out, r.plan, &e);
		if (r.plan_rc) {
			rc = r.plan_rc;
			err = r.plan_err;
		} else if (!rc && prc) {
			rc = prc;
			err = e;
		}
	}
	if (!rc && !dry && runner_writes(&r))
		rc = experiment_manifest(&r, cf, config_path, argc, argv, &err);
	rc = runner_finish(&r, rc, &err); /* every rank: the run's status and job counts */
	if (!rc && !dry && runner_writes(&r))
		printf("%s: %zu jobs run, %zu reused, %.1f s in jobs%s\n", run_dir, r.jobs_run,
		       r.jobs_skipped, r.seconds,
		       r.group.size > 1 ? " (over all ranks)" : "");
done:
	if (rc)
		hus_err_print(&err);
	hj_free(r.plan);
	run_mpi_finalize(); /* every path here has met the other ranks with its status */
	free(old);
	free(resolved);
	experiment_release(&ex);
	cfg_free(cf);
	return hus_err_status(rc);
}
