/*
 * cmd_audit.c — `husai audit`: recompute the sha256 of every file a run directory's
 * manifest.json lists, and report missing, changed and unlisted files.  Exit 0 when the run
 * directory is exactly what its manifest says, 1 otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "analyze.h"
#include "formats.h"

static const char *const audit_usage[] = {
	"usage: husai audit [--quiet] [--recompute] <run-dir>...",
	"",
	"Check a run directory against its manifest.json: every listed artifact and input is",
	"re-hashed (sha256) and compared; files present but not listed are reported too.",
	"",
	"    -q, --quiet    print only the summary line",
	"    --recompute    also rerun every analysis the run recorded, from its archived SAE",
	"                   checkpoints, and compare the outputs with the archive (results.json",
	"                   and CSVs byte for byte, analysis.h5 dataset by dataset); then rebuild",
	"                   the run's own results.json, CSVs and summaries from its jobs' files",
	"                   and compare them too (JSON without run_metadata).  A suite's sub-runs",
	"                   are each recomputed the same way.",
	NULL,
};

static void usage(FILE *out) { hus_print_lines(out, audit_usage); }

/* --recompute for a run directory and, for a suite, each of its sub-runs; 0 when all agree */
static int recompute_run(const char *run_dir, int quiet)
{
	struct hus_err err = { 0 };
	char **dirs;
	size_t n;
	if (audit_run_dirs(run_dir, &dirs, &n, &err)) {
		hus_err_print(&err);
		return 1;
	}
	int status = 0;
	FILE *out = quiet ? NULL : stdout;
	for (size_t i = 0; i < n; i++) {
		size_t checked, differ;
		if (audit_recompute(dirs[i], out, &checked, &differ, &err)) {
			hus_err_print(&err);
			status = 1;
		} else {
			printf("%s: ok, %zu analysis outputs recomputed from the archived checkpoints "
			       "are identical\n", dirs[i], checked);
		}
		memset(&err, 0, sizeof(err));
		if (audit_aggregate(dirs[i], out, &checked, &differ, &err)) {
			hus_err_print(&err);
			status = 1;
		} else {
			printf("%s: ok, %zu run outputs rebuilt from the archived jobs are identical\n",
			       dirs[i], checked);
		}
		memset(&err, 0, sizeof(err));
	}
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	return status;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "recompute", no_argument, NULL, 'r' },
					      { 0, 0, 0, 0 } };
	int c, quiet = 0, recompute = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'q') {
			quiet = 1;
			continue;
		}
		if (c == 'r') {
			recompute = 1;
			continue;
		}
		usage(stderr);
		return 2;
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	int status = 0;
	for (int i = optind; i < argc; i++) {
		struct hus_err err = { 0 };
		struct audit_report rep;
		int rc = manifest_audit(argv[i], quiet ? NULL : stdout, &rep, &err);
		if (rc) {
			hus_err_print(&err);
			status = 1;
		} else {
			printf("%s: ok, %zu files match the manifest\n", argv[i], rep.checked);
		}
		if (recompute && recompute_run(argv[i], quiet))
			status = 1;
	}
	return status;
}
