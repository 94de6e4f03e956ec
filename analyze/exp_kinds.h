/*
 * exp_kinds.h — private to analyze/: the experiment drivers, one file each (exp_<kind>.c),
 * and the helpers they share.
 */
#ifndef HUSAI_EXP_KINDS_H
#define HUSAI_EXP_KINDS_H

#include "experiments.h"

typedef int (*exp_fn)(struct runner *r, struct cfg *c, const struct experiment *ex,
                      struct hus_err *err);

struct exp_kind {
	const char *name;
	exp_fn run;
	uint64_t estimated_jobs;
	const char *help;
};

int exp_smoke(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err);
int exp_demo(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err);

/* Write RUN/jobs/<job>.yaml holding the given sections of the experiment config; path OUT. */
int exp_job_config(struct runner *r, struct cfg *c, const char *job, const char *const *sections,
                   char *path, size_t n, struct hus_err *err);

#endif
