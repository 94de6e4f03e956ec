/*
 * cmd_audit.c — `husai audit`: parses the command line into a struct audit_request and calls
 * audit_run (audit_run.c), which re-hashes run directories against their manifests, checks
 * report directories against their sources and, with --recompute, re-derives a run's outputs
 * and gives each a verdict.  Exit 0 when everything is identical, 4 when the only differences
 * are within N ULP, 1 for any difference or error, 2 for a wrong command line.
 */
#include <stdint.h>
#include <stdio.h>

#include "builtin.h"
#include "audit_internal.h"
#include "formats.h"

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

int cmd_audit(int argc, char **argv)
{
	struct audit_request q = { .ulp = UINT64_MAX }; /* UINT64_MAX: --ulp not given */
	const struct hus_opt opts[] = {
		HUS_OPT_FLAG("quiet", 'q', &q.quiet),
		HUS_OPT_FLAG("recompute", 0, &q.recompute),
		HUS_OPT_FLAG("inputs", 0, &q.inputs),
		HUS_OPT_U64("ulp", 0, &q.ulp, UINT64_C(1) << 62),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "audit", audit_usage, opts, 1, -1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if (q.ulp != UINT64_MAX && !q.recompute)
		return hus_cli_misuse(&cli, "--ulp applies to --recompute only");
	if (q.ulp == UINT64_MAX)
		q.ulp = AUDIT_DEFAULT_ULP;
	q.dirs = argv + first;
	q.n_dirs = (size_t)(argc - first);
	return audit_run(&q);
}
