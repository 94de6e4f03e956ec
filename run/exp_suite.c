/*
 * exp_suite.c — the seed suite: several experiment configs run in sequence into one directory
 * tree (RUN/<name>/ each, every one a complete run directory of its own, resumable like any
 * run), then the benchmark slice over the phase 4a and core-ablation runs when both are in
 * the suite.  `husai report` over the run directories then writes the follow-up report over all of them.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

int exp_suite(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err)
{
	(void)ex;
	char **names = NULL;
	size_t n = 0;
	int rc = cfg_keys(c, "experiment.runs", &names, &n, err);
	if (rc)
		return rc;
	if (!n) {
		free(names);
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.runs",
				"expected a mapping of run names to config files");
	}
	const char *phase4a = NULL, *core = NULL;
	runner_batch_begin(r); /* the runs are independent: the ranks of an MPI run share them */
	for (size_t i = 0; i < n && !rc; i++) {
		char key[256];
		const char *conf;
		snprintf(key, sizeof(key), "experiment.runs.%s", names[i]);
		if ((rc = cfg_path(c, key, NULL, &conf, err)))
			break;
		if (!conf || !hus_file_exists(conf)) {
			rc = hus_errf(err, HUS_EINPUT, cfg_name(c), key, "no such config file '%s'",
				      conf ? conf : "");
			break;
		}
		if (strchr(names[i], '/') || names[i][0] == '.') {
			rc = hus_errf(err, HUS_EINPUT, cfg_name(c), key, "expected a plain run name");
			break;
		}
		char out[PATH_MAX + 300], manifest[PATH_MAX + 320];
		snprintf(out, sizeof(out), "%s/%s", r->run_dir, names[i]);
		snprintf(manifest, sizeof(manifest), "%s/manifest.json", names[i]);
		const char *argv[] = { "run", "--out", out, conf, NULL };
		const char *outs[] = { manifest, NULL };
		rc = runner_job(r, names[i], argv, outs, err);
		if (!strcmp(names[i], "phase4a"))
			phase4a = names[i];
		if (!strcmp(names[i], "core_ablations"))
			core = names[i];
	}
	rc = runner_batch_end(r, rc, err);
	if (!rc && phase4a && core && !r->validate_only && !r->dry_run) {
		char out[PATH_MAX + 64], a[PATH_MAX + 300], b[PATH_MAX + 300], conf[PATH_MAX + 64];
		snprintf(out, sizeof(out), "%s/benchmark_slice", r->run_dir);
		snprintf(a, sizeof(a), "experiment.phase4a_run=%s/%s", r->run_dir, phase4a);
		snprintf(b, sizeof(b), "experiment.core_ablations_run=%s/%s", r->run_dir, core);
		snprintf(conf, sizeof(conf), "%s/configs/benchmark_slice.yaml", HUSAI_SOURCE_DIR);
		const char *argv[] = { "run", "--out", out, "--set", a, "--set", b, conf, NULL };
		const char *outs[] = { "benchmark_slice/manifest.json", NULL };
		rc = runner_job(r, "benchmark_slice", argv, outs, err);
	}
	free(names);
	return rc;
}
