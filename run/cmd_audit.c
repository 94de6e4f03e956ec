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
	"usage: husai audit [--quiet] [--inputs] [--recompute [--ulp N]] <run-dir>...",
	"       husai audit <report-dir> [<run-dir>...]",
	"",
	"Check a run directory against its manifest.json: every listed artifact and input is",
	"re-hashed (sha256) and compared; files present but not listed are reported too.",
	"A report directory (from `husai report --out`, or a directory holding one) is checked",
	"against its sources sidecars: every number its Markdown prints must come from the",
	"results.json key path the sidecar names, print the same, and every number in a table",
	"must be listed; the runs are found by name on the command line or beside the report.",
	"",
	"    -q, --quiet    print only the summary lines",
	"    --inputs       also verify the inputs read from outside the run directory (the",
	"                   activation set or transformer named by experiment.activations /",
	"                   experiment.transformer, imported SAE checkpoints, the config file):",
	"                   each must still be a regular file with the sha256 the manifest lists.",
	"                   Without it, those inputs are listed as 'outside' and not read.",
	"    --recompute    also rerun every analysis the run declares, from its archived SAE",
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
	"                   one differs, both are printed.  No recorded command is ever run:",
	"                   each analysis's command is rebuilt by this husai from the run's",
	"                   config.yaml (and its jobs/<job>.yaml), inputs only from inside the",
	"                   audited run directory (a copied run is recomputed from its own files),",
	"                   outputs only into a scratch directory the audit owns.",
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
		/* the rebuild first: it also declares the jobs for the run's config (the plan),
		 * whose analyses are then rerun; the lines keep their order */
		struct audit_tally t[2] = { { 0 }, { 0 } };
		struct hus_err errs[2] = { { 0 }, { 0 } };
		struct audit_plan plan;
		int rcs[2];
		rcs[1] = audit_aggregate(dirs[i], c, &t[1], &plan, &errs[1]);
		if (!plan.jobs)
			rcs[0] = hus_errf(&errs[0], HUS_EINPUT, dirs[i], NULL,
					  "the analyses cannot be recomputed: their commands are "
					  "rebuilt from the run's config.yaml, which failed (below)");
		else
			rcs[0] = audit_recompute(dirs[i], &plan, c, &t[0], &errs[0]);
		audit_plan_free(&plan);
		for (int half = 0; half < 2; half++) {
			size_t total = t[half].identical + t[half].within + t[half].differ;
			if (rcs[half]) {
				hus_err_print(&errs[half]);
				failed = 1;
			} else if (total == t[half].identical) {
				printf("%s: ok, %zu %s are identical\n", dirs[i], total, what[half]);
			} else {
				printf("%s: %zu %s: %zu identical, %zu within %" PRIu64 " ULP, %zu differ\n",
				       dirs[i], total, what[half], t[half].identical, t[half].within, c->ulp,
				       t[half].differ);
			}
			all->identical += t[half].identical;
			all->within += t[half].within;
			all->differ += t[half].differ;
			if (t[half].max_ulp > all->max_ulp)
				all->max_ulp = t[half].max_ulp;
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
					      { "inputs", no_argument, NULL, 'i' },
					      { "ulp", required_argument, NULL, 'u' },
					      { 0, 0, 0, 0 } };
	int c, quiet = 0, recompute = 0, ulp_given = 0, inputs = 0;
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
		if (c == 'i') {
			inputs = 1;
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
		char rroot[PATH_MAX], mp[PATH_MAX + 16];
		snprintf(mp, sizeof(mp), "%s/manifest.json", argv[i]);
		if (audit_report_root(argv[i], rroot, sizeof(rroot))) { /* a report: its sidecars */
			size_t n = 0;
			if (audit_report(rroot, argv + optind, (size_t)(argc - optind), stdout, &n))
				failed = 1, printf("%s: the report's numbers do not all match their sources "
				                   "(above)\n", rroot);
			else
				printf("%s: ok, %zu numbers of the report match their sources\n", rroot, n);
			if (!hus_file_exists(mp))
				continue;
		}
		int rc = manifest_audit_ex(argv[i], quiet ? NULL : stdout, &rep, inputs, &err);
		if (rc) {
			hus_err_print(&err);
			manifest_bad = 1;
		} else {
			printf("%s: ok, %zu files match the manifest%s", argv[i], rep.checked,
			       rep.inputs_checked ? "" : "\n");
			if (rep.inputs_checked)
				printf(" (%zu of them inputs outside the run)\n", rep.inputs_checked);
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
