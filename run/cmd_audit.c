/*
 * cmd_audit.c — `husai audit`: recompute the sha256 of every file a run directory's
 * manifest.json lists, and report missing, changed and unlisted files; with --recompute, also
 * re-derive the run's outputs from its archive and give each one a verdict (identical, within
 * N ULP, differs).  Exit 0 when everything is identical, 4 when the only differences are
 * within N ULP, 1 for any difference or error, 2 for a wrong command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "audit_internal.h"
#include "formats.h"

#define AUDIT_EXIT_WITHIN 4 /* 3 is husai's "interrupted" (hus_err_status) */

static const char *const audit_usage[] = {
	"usage: husai audit [--quiet] [--recompute [--ulp N]] <run-dir>...",
	"",
	"Check a run directory against its manifest.json: every listed artifact and input is",
	"re-hashed (sha256) and compared; files present but not listed are reported too.",
	"",
	"    -q, --quiet    print only the summary lines",
	"    --recompute    also rerun every analysis the run recorded, from its archived SAE",
	"                   checkpoints, and compare the outputs with the archive (analysis.h5",
	"                   dataset by dataset, results.json and the CSVs value by value); then",
	"                   rebuild the run's own results.json, CSVs and summaries from its jobs'",
	"                   files and compare them too (JSON without run_metadata).  A suite's",
	"                   sub-runs are each recomputed the same way.  Each output gets a verdict:",
	"                     identical      the same bytes (HDF5: the same values in every dataset)",
	"                     within N ULP   same datasets, shapes, types, keys, strings, integers",
	"                                    and booleans; every float at most N units in the last",
	"                                    place away (float32 units for float32 data), every",
	"                                    JSON/CSV number printing the same in each format the",
	"                                    report uses (%g %.6g %.6f %.5f %.4f %.3f %.2f %.3g %.3e %d), and",
	"                                    every conclusion equal (selected_*, best_*, chosen*,",
	"                                    converged*, *_step, pass, *_pass, *verdict*, *gate*,",
	"                                    *decision*, conclusion, selection, reject_null,",
	"                                    default_justified, ready_for_*); the line gives the",
	"                                    largest absolute and ULP differences",
	"                     differs        anything else; the line names the dataset, JSON key",
	"                                    path or CSV cell and the first differing element",
	"                   When an archived HDF5 file records its numeric_path and the recomputed",
	"                   one differs, both are printed.  The recorded commands are read",
	"                   strictly: only `husai analyze` options, inputs only from inside the",
	"                   audited run directory (a copied run is recomputed from its own files),",
	"                   outputs only into a scratch directory.",
	"    --ulp N        the ULP bound of `within` (default 4)",
	"",
	"Exit status: 0 everything identical (and the manifest matches); 4 only within-N-ULP",
	"differences; 1 any other difference, or an archive that cannot be audited; 2 a wrong",
	"command line.",
	NULL,
};

static void usage(FILE *out) { hus_print_lines(out, audit_usage); }

/* --recompute for a run directory and, for a suite, each of its sub-runs; 1 when the audit
 * could not be done somewhere (the verdicts are counted in *all) */
static int recompute_run(const char *run_dir, const struct audit_cmp *c, struct audit_tally *all)
{
	struct hus_err err = { 0 };
	char **dirs;
	size_t n;
	if (audit_run_dirs(run_dir, &dirs, &n, &err)) {
		hus_err_print(&err);
		return 1;
	}
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		static const char *const what[2] = {
			"analysis outputs recomputed from the archived checkpoints",
			"run outputs rebuilt from the archived jobs",
		};
		for (int half = 0; half < 2; half++) {
			struct audit_tally t = { 0 };
			memset(&err, 0, sizeof(err));
			int rc = half ? audit_aggregate(dirs[i], c, &t, &err)
				      : audit_recompute(dirs[i], c, &t, &err);
			size_t total = t.identical + t.within + t.differ;
			if (rc) {
				hus_err_print(&err);
				failed = 1;
			} else if (total == t.identical) {
				printf("%s: ok, %zu %s are identical\n", dirs[i], total, what[half]);
			} else {
				printf("%s: %zu %s: %zu identical, %zu within %" PRIu64 " ULP, %zu differ\n",
				       dirs[i], total, what[half], t.identical, t.within, c->ulp, t.differ);
			}
			all->identical += t.identical;
			all->within += t.within;
			all->differ += t.differ;
			if (t.max_ulp > all->max_ulp)
				all->max_ulp = t.max_ulp;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
	return failed;
}

int cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { "quiet", no_argument, NULL, 'q' },
					      { "recompute", no_argument, NULL, 'r' },
					      { "ulp", required_argument, NULL, 'u' },
					      { 0, 0, 0, 0 } };
	int c, quiet = 0, recompute = 0, ulp_given = 0;
	struct audit_cmp cmp = { .ulp = AUDIT_DEFAULT_ULP };
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
		if (c == 'u') {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || v > (1ULL << 62)) {
				fprintf(stderr, "husai: audit: --ulp expects a whole number of units in "
						"the last place (0 to 2^62), got '%s'\n",
					optarg);
				return 2;
			}
			cmp.ulp = v;
			ulp_given = 1;
			continue;
		}
		usage(stderr);
		return 2;
	}
	if (optind >= argc || (ulp_given && !recompute)) {
		if (ulp_given && !recompute)
			fprintf(stderr, "husai: audit: --ulp applies to --recompute only\n");
		usage(stderr);
		return 2;
	}
	cmp.out = quiet ? NULL : stdout;
	int failed = 0, manifest_bad = 0;
	struct audit_tally all = { 0 };
	for (int i = optind; i < argc; i++) {
		struct hus_err err = { 0 };
		struct audit_report rep;
		int rc = manifest_audit(argv[i], quiet ? NULL : stdout, &rep, &err);
		if (rc) {
			hus_err_print(&err);
			manifest_bad = 1;
		} else {
			printf("%s: ok, %zu files match the manifest\n", argv[i], rep.checked);
		}
		if (recompute && recompute_run(argv[i], &cmp, &all))
			failed = 1;
	}
	int status = failed || manifest_bad || all.differ ? 1 : all.within ? AUDIT_EXIT_WITHIN : 0;
	if (recompute) {
		printf("audit: %zu outputs recomputed: %zu identical, %zu within %" PRIu64
		       " ULP (largest %" PRIu64 "), %zu differ%s%s; exit %d\n",
		       all.identical + all.within + all.differ, all.identical, all.within, cmp.ulp,
		       all.max_ulp, all.differ, manifest_bad ? "; the manifest does not match" : "",
		       failed ? "; the audit could not be completed (errors above)" : "", status);
	}
	return status;
}
