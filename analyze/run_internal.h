/*
 * run_internal.h — private to analyze/: the job engine and experiment drivers behind
 * `husai run`.  An experiment turns its config into jobs (husai verbs run as child processes);
 * the engine skips verified finished jobs and records new ones.
 */
#ifndef HUSAI_RUN_INTERNAL_H
#define HUSAI_RUN_INTERNAL_H

#include <limits.h>

#include "analyze.h"

struct runner {
	char run_dir[PATH_MAX];
	char exe[PATH_MAX]; /* this husai executable, run for every job */
	int redo;           /* rerun jobs even when their done record verifies */
	int dry_run;        /* print the jobs instead of running them */
	int validate_only;  /* read the config, write and run nothing (a first pass) */
	int aggregate_only; /* run no job: every one must have finished (audit's rebuild) */
	int quiet_env;      /* HUSAI_QUIET was set by the user: leave it set */
	size_t jobs_seen, jobs_run, jobs_skipped;
	double seconds;     /* wall time spent in jobs this invocation */
	char command[4096]; /* the husai command line, for run_metadata */
	char config_hash[65];
	struct hus_progress progress;
};

int runner_init(struct runner *r, const char *run_dir, int redo, struct hus_err *err);
/* Run `argv` (verb first, NULL-terminated) unless it already finished with these outputs
 * (paths relative to the run directory, NULL-terminated).  See run_jobs.c for the rules. */
int runner_job(struct runner *r, const char *name, const char *const *argv,
               const char *const *outputs, struct hus_err *err);

#endif
