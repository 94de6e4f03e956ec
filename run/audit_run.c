/*
 * audit_run.c — the work of `husai audit` (struct audit_request in run.h; the verb,
 * cmd_audit.c, only parses the command line): recompute the sha256 of every file a run
 * directory's manifest.json lists, and report missing, changed and unlisted files; check a
 * report directory's numbers against their sources; with --recompute, also re-derive the run's
 * outputs from its archive and give each one a verdict (identical, within N ULP, differs).
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit_internal.h"
#include "formats.h"

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

/* A report directory (or a directory holding one): its numbers against their sources; 1 when
 * they do not all match. */
static int audit_one_report(const char *root, char *const *args, size_t nargs)
{
	size_t n = 0;
	if (audit_report(root, args, nargs, stdout, &n)) {
		printf("%s: the report's numbers do not all match their sources (above)\n", root);
		return 1;
	}
	printf("%s: ok, %zu numbers of the report match their sources\n", root, n);
	return 0;
}

int audit_run(const struct audit_request *q)
{
	struct audit_cmp cmp = { .ulp = q->ulp, .out = q->quiet ? NULL : stdout };
	int failed = 0, manifest_bad = 0;
	struct audit_tally all = { 0 };
	for (size_t i = 0; i < q->n_dirs; i++) {
		const char *dir = q->dirs[i];
		struct hus_err err = { 0 };
		struct audit_report rep;
		char rroot[PATH_MAX], mp[PATH_MAX + 16];
		snprintf(mp, sizeof(mp), "%s/manifest.json", dir);
		if (audit_report_root(dir, rroot, sizeof(rroot))) { /* a report: its sidecars */
			failed |= audit_one_report(rroot, q->dirs, q->n_dirs);
			if (!hus_file_exists(mp))
				continue;
		}
		int rc = manifest_audit_ex(dir, q->quiet ? NULL : stdout, &rep, q->inputs, &err);
		if (rc) {
			hus_err_print(&err);
			manifest_bad = 1;
		} else {
			printf("%s: ok, %zu files match the manifest%s", dir, rep.checked,
			       rep.inputs_checked ? "" : "\n");
			if (rep.inputs_checked)
				printf(" (%zu of them inputs outside the run)\n", rep.inputs_checked);
		}
		if (q->recompute && recompute_run(dir, &cmp, &all))
			failed = 1;
	}
	int status = failed || manifest_bad || all.differ ? 1 : all.within ? AUDIT_EXIT_WITHIN : 0;
	if (q->recompute) {
		printf("audit: %zu outputs recomputed: %zu identical, %zu within %" PRIu64
		       " ULP (largest %" PRIu64 "), %zu differ%s%s; exit %d\n",
		       all.identical + all.within + all.differ, all.identical, all.within, cmp.ulp,
		       all.max_ulp, all.differ, manifest_bad ? "; the manifest does not match" : "",
		       failed ? "; the audit could not be completed (errors above)" : "", status);
	}
	return status;
}
