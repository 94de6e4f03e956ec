/*
 * experiments.h — private to analyze/: the experiment kinds `husai run` knows, each a function
 * that turns the experiment config into jobs for the job engine (run_internal.h) and then
 * aggregates the per-job outputs into the run's results.json, CSVs and summaries.
 */
#ifndef HUSAI_EXPERIMENTS_H
#define HUSAI_EXPERIMENTS_H

#include "run_internal.h"

/* The top-level config sections a stage verb reads; the runner hands each job its sections. */
#define EXPERIMENT_SECTIONS "experiment", "data", "transformer", "extract", "sae", "analysis", "report"

struct experiment {
	const char *kind;      /* smoke, demo, phase4a, core_ablations, adaptive_l0, ... */
	const char *name;      /* run directory name under artifacts/ */
	const char *transformer; /* an existing transformer checkpoint to reuse, or NULL */
	const char *activations; /* an existing activation set to reuse, or NULL */
	uint64_t estimated_jobs; /* for the progress line */
};

/* Read experiment.* and mark the stage sections as handed out. */
int experiment_read(struct cfg *c, struct experiment *ex, struct hus_err *err);
void experiment_release(struct experiment *ex);
/* The effective config text (all sections, overrides applied): the run's identity. */
char *experiment_config_text(struct cfg *c);
/* The run's config hash: the stage sections (scientific settings, no paths) + input sha256s. */
void experiment_hash(struct cfg *c, char hex[65]);
int experiment_run(struct runner *r, struct cfg *c, const struct experiment *ex,
                   const char *config_path, struct hus_err *err);
int experiment_manifest(struct runner *r, struct cfg *c, const char *config_path, int argc,
                        char **argv, struct hus_err *err);

#endif
