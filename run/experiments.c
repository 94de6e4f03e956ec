/*
 * experiments.c — what every experiment kind shares: reading the `experiment:` section,
 * handing each stage its config sections as a job config file, dispatching to the kind's
 * driver (exp_<kind>.c), and the run's manifest over every file the run directory holds.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "exp_kinds.h"

static const char *const stage_sections[] = { "data", "transformer", "extract", "sae",
					       "analysis", "report", "plant", NULL };

static const struct exp_kind kinds[] = {
	{ "planted", exp_planted, 13, "planted ground truth: MCC to the true features beside PW-MCC per architecture (issue 21)" },
	{ "smoke", exp_smoke, 5, "1-epoch transformer, extraction, one SAE (docs/formulas.md §6.1)" },
	{ "core_ablations", exp_core, 11, "k sweep and d_sae sweep over seeds (docs/formulas.md §6.3)" },
	{ "phase4a", exp_phase4a, 4, "trained vs random PWMCC at 128 x 1024, k 32 (docs/formulas.md §6.2)" },
	{ "consistency_sweep", exp_consistency, 10, "decoder-alignment lambda sweep (docs/formulas.md §6.5)" },
	{ "suite", exp_suite, 6, "several experiments in sequence into one tree, then the slice" },
	{ "benchmark_slice", exp_slice, 0, "gates over archived phase 4a and core runs (docs/formulas.md §6.6)" },
	{ "adaptive_l0", exp_adaptive, 15, "k search, selection by conservative LCB, retrain (docs/formulas.md §6.4)" },
	{ "stability", exp_stability, 5, "seeds x a grid of (d_sae, k) on a given activation set, e.g. an imported one" },
	{ "convergence", exp_convergence, 3, "EV and PWMCC against SAE steps: the default step count (issue 7)" },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

int experiment_read(struct cfg *c, struct experiment *ex, struct hus_err *err)
{
	const char *names[NKINDS + 1];
	for (size_t i = 0; i < NKINDS; i++)
		names[i] = kinds[i].name;
	names[NKINDS] = NULL;
	int rc = cfg_str(c, "experiment.kind", NULL, names, &ex->kind, err);
	if (!rc && !ex->kind)
		rc = hus_errf(err, HUS_EINPUT, cfg_name(c), NULL,
			      "missing 'experiment.kind' (this looks like a stage config: give it to the stage's verb, or see configs/demo.yaml)");
	if (!rc)
		rc = cfg_str(c, "experiment.name", ex->kind, NULL, &ex->name, err);
	if (!rc)
		rc = cfg_path(c, "experiment.transformer", NULL, &ex->transformer, err);
	if (!rc)
		rc = cfg_path(c, "experiment.activations", NULL, &ex->activations, err);
	if (rc)
		return rc;
	if (!*ex->name || strchr(ex->name, '/'))
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.name",
				"expected a plain directory name, found '%s'", ex->name);
	for (size_t i = 0; i < NKINDS; i++)
		if (!strcmp(kinds[i].name, ex->kind))
			ex->estimated_jobs = kinds[i].estimated_jobs;
	/* stage sections are read by the stage verbs; husai run checks them first (cmd_run.c) */
	free(cfg_sections_yaml(c, stage_sections));
	return 0;
}

void experiment_release(struct experiment *ex) { (void)ex; }

char *experiment_config_text(struct cfg *c)
{
	static const char *const all[] = { EXPERIMENT_SECTIONS, NULL };
	return cfg_sections_yaml(c, all);
}

void experiment_hash(struct cfg *c, char hex[65])
{
	/* plant: absent from every config but the planted kind's, so the others' hashes stay */
	static const char *const secs[] = { "data", "transformer", "extract", "sae", "analysis",
					    "plant", NULL };
	char *text = cfg_sections_yaml(c, secs);
	const char *inputs[2] = { NULL, NULL };
	cfg_path(c, "experiment.transformer", NULL, &inputs[0], NULL);
	cfg_path(c, "experiment.activations", NULL, &inputs[1], NULL);
	size_t len = (text ? strlen(text) : 0) + 200;
	char *buf = malloc(len);
	if (!buf) {
		free(text);
		memset(hex, '0', 64);
		hex[64] = 0;
		return;
	}
	size_t o = (size_t)snprintf(buf, len, "%s", text ? text : "");
	for (int i = 0; i < 2; i++) {
		char sha[65];
		if (inputs[i] && *inputs[i] && !hus_sha256_file(inputs[i], sha, NULL, NULL))
			o += (size_t)snprintf(buf + o, len - o, "input%d=%s\n", i, sha);
	}
	hus_sha256_buf(buf, o, hex);
	free(buf);
	free(text);
}

int experiment_run(struct runner *r, struct cfg *c, const struct experiment *ex,
                   const char *config_path, struct hus_err *err)
{
	(void)config_path;
	for (size_t i = 0; i < NKINDS; i++)
		if (!strcmp(kinds[i].name, ex->kind))
			return kinds[i].run(r, c, ex, err);
	return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.kind", "unknown kind '%s'",
			ex->kind);
}

int exp_job_config(struct runner *r, struct cfg *c, const char *job, const char *const *sections,
                   char *path, size_t n, struct hus_err *err)
{
	char *text = cfg_sections_yaml(c, sections);
	if (!text)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	run_job_path(path, n, r->run_dir, RUN_JOB_CONFIG, job);
	if (r->validate_only || r->dry_run || !runner_writes(r)) { /* rank 0 writes, before the batch runs */
		free(text);
		return 0;
	}
	int rc = 0;
	/* rewrite only when different, so a resumed run sees the same bytes */
	char *old = NULL;
	if (!hus_file_exists(path) || hus_read_file(path, &old, NULL, NULL) || strcmp(old, text))
		rc = hus_write_file(path, text, strlen(text), err);
	free(old);
	free(text);
	return rc;
}

/* ---------------------------------------------------------------- manifest ---------- */

struct tree_ctx {
	struct manifest *m;
	struct hus_err *err;
};

static int add_file(const char *rel, const char *full, void *ctx)
{
	struct tree_ctx *t = ctx;
	if (!strcmp(rel, "manifest.json") || strstr(rel, ".tmp-"))
		return 0;
	return manifest_add_artifact(t->m, full, t->err);
}

int experiment_manifest(struct runner *r, struct cfg *c, const char *config_path, int argc,
                        char **argv, struct hus_err *err)
{
	struct manifest *m = manifest_new(r->run_dir);
	if (!m)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	struct tree_ctx t = { m, err };
	int rc = hus_walk_files(r->run_dir, add_file, &t);
	if (!rc)
		rc = manifest_add_input(m, config_path, err);
	/* the files read from outside the run: their sha256 lets `husai audit --inputs` verify them */
	const char *ext[2] = { NULL, NULL };
	cfg_path(c, "experiment.transformer", NULL, &ext[0], NULL);
	cfg_path(c, "experiment.activations", NULL, &ext[1], NULL);
	static const char *const roles[2] = { "transformer", "activation_set" };
	for (int i = 0; i < 2 && !rc; i++)
		if (ext[i] && *ext[i])
			rc = manifest_add_input_role(m, ext[i], roles[i], err);
	for (size_t i = 0; i < r->n_external && !rc; i++)
		rc = manifest_add_input_role(m, r->external[i], "sae_checkpoint", err);
	char command[4096] = "husai";
	for (int i = 0; i < argc; i++) {
		strncat(command, " ", sizeof(command) - strlen(command) - 1);
		strncat(command, argv[i], sizeof(command) - strlen(command) - 1);
	}
	char hash[65];
	experiment_hash(c, hash);
	hj *rng = hj_obj();
	hj_set(rng, "description",
	       hj_str("every seed is explicit in config.yaml; each artifact records its generator "
		      "(see its /rng datasets and attributes)"));
	manifest_set(m, "rng", rng);
	if (!rc)
		rc = manifest_write(m, command, hash, err);
	manifest_free(m);
	return rc;
}
