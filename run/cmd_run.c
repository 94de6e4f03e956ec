/*
 * cmd_run.c — `husai run`: parses the command line into a struct run_request and calls
 * run_experiment (run_experiment.c), which runs a whole experiment from one config into one
 * run directory, resumably, under MPI too.
 */
#include <stdio.h>

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

int cmd_run(int argc, char **argv)
{
	struct run_request q = { .argc = argc, .argv = argv };
	const struct hus_opt opts[] = {
		HUS_OPT_STR("out", 'o', &q.out),
		HUS_OPT_SET("set", 's', &q.sets),
		HUS_OPT_FLAG("redo", 0, &q.redo),
		HUS_OPT_FLAG("dry-run", 0, &q.dry_run),
		HUS_OPT_FLAG("aggregate-only", 0, &q.aggregate_only),
		HUS_OPT_I64("jobs", 'j', &q.jobs, 1, RUN_MAX_SLOTS),
		HUS_OPT_STR("plan-out", 0, &q.plan_out),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "run", run_usage, opts, 1, 1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if (q.plan_out && !q.aggregate_only)
		return hus_cli_misuse(&cli, "--plan-out applies to --aggregate-only only");
	q.config = argv[first];
	struct hus_err err = { 0 };
	int rc = run_experiment(&q, &err);
	if (rc)
		hus_err_print(&err);
	return hus_err_status(rc);
}
