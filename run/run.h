/*
 * run.h — the public face of run/: `husai run` and `husai audit`.  A layer above the stages:
 * an experiment kind turns its config into jobs (husai verbs run as child processes, so the
 * stages still talk only through files), the job engine skips verified finished jobs and
 * records new ones, and the kind aggregates what its jobs wrote into the run's results.json,
 * CSVs and summaries.  Under mpirun/srun every rank runs the same driver and so declares the
 * same jobs; a batch's jobs are shared out over the ranks (run_batch.c), the ranks meet in
 * run_group.c, and the only MPI calls live in run_mpi.c.  docs/architecture.md "The run
 * engine" describes the files; docs/decisions.md §9 the scale-out.
 *
 * Files and who calls whom (no circle):
 *   cmd_run.c ─► run_experiment.c ─► experiments.c ─► exp_<kind>.c ─► exp_common.c ─► run_batch.c ─► run_jobs.c
 *   run_batch.c, run_jobs.c ─► run_group.c ─► run_mpi.c;  cmd_audit.c ─► audit_run.c ─► audit_*.c
 *
 * Adding an experiment kind (checklist):
 *  1. write `int exp_<kind>(struct runner *r, struct cfg *c, const struct experiment *ex,
 *     struct hus_err *err)` in run/exp_<kind>.c: read its settings from `c` with the typed
 *     getters (checked when the config loads: an error names the user's file and line),
 *     declare its jobs through exp_common.c (exp_train_condition, exp_analyze, ...) inside
 *     runner_batch_begin/end where they are independent, then aggregate: read back from the
 *     artifacts the jobs wrote (never from the driver's memory) and write results.json
 *     through exp_record_* so report/ finds the keys of docs/artifacts.md;
 *  2. declare it in exp_kinds.h and add a row (name, function, estimated jobs, one-line help)
 *     to kinds[] in experiments.c; `husai run --help` lists it from there;
 *  3. add a config under configs/ and, if report/ should draw it, a template under templates/;
 *  4. make `husai audit --recompute` rebuild it (audit_recompute.c replays its job kinds);
 *  5. test it: a small config run twice (identical bytes, resume after kill), in tests/;
 *  6. document it: README's experiment table, docs/artifacts.md for any new results key.
 */
#ifndef HUSAI_RUN_H
#define HUSAI_RUN_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyze.h"

/* The processes one `husai run` is spread over: rank 0 of 1 without MPI. */
struct run_group {
	int rank, size;
	int failed; /* a rank has failed: no more collectives, every rank is on its way out */
};

/* One job declared inside a batch, waiting for runner_batch_end. */
struct run_queued {
	char *name;
	int phase; /* 0, or 1: runs after the batch's phase-0 jobs (a group's analysis after its
	            * pair jobs) */
	char **argv, **outputs; /* NULL-terminated copies */
};

struct runner {
	char run_dir[PATH_MAX];
	char exe[PATH_MAX]; /* this husai executable, run for every job */
	int redo;           /* rerun jobs even when their done record verifies */
	int dry_run;        /* print the jobs instead of running them */
	int validate_only;  /* read the config, write and run nothing (a first pass) */
	int aggregate_only; /* run no job: every one must have finished (audit's rebuild) */
	hj *done_outputs;   /* aggregate-only: output path -> [[sha256, record], ...] over every
			     * done record in jobs/ (run_jobs.c); freed by runner_finish */
	hj *plan;           /* aggregate-only, when set: every declared job appended as
			     * {job, argv, outputs}, the commands this husai builds from the
			     * run's config (audit --recompute runs these, never a record's);
			     * a job that has not finished does not stop the plan: its error is
			     * kept in plan_err (plan_rc) and returned at the end */
	int plan_rc;
	struct hus_err plan_err;
	int quiet_env;      /* HUSAI_QUIET was set by the user: leave it set */
	size_t jobs_seen, jobs_run, jobs_skipped;
	double seconds;     /* wall time spent in jobs this invocation */
	char command[4096]; /* the husai command line, for run_metadata */
	char config_hash[65];
	struct hus_progress progress; /* drawn by rank 0 only */
	struct run_group group; /* kept by runner_init: set it before (zero: one process) */
	int jobs;           /* --jobs: most jobs of a batch this process runs at once (0: decide) */
	int slots;          /* jobs at once in the current batch (run_batch.c plan_slots) */
	int child_threads;  /* OMP_NUM_THREADS given to jobs (0: inherit), set per batch */
	int in_batch;
	int job_phase;      /* the phase of the jobs declared next (run_queued.phase) */
	struct run_queued *queue;
	size_t nqueue, capqueue;
	size_t batch_first_seen; /* jobs_seen when the batch began */
	char **external;    /* files read from outside the run by the kind (imported SAE
			     * checkpoints): listed as inputs in manifest.json; runner_finish frees */
	size_t n_external;
};
/* Record a file the kind reads from outside the run (its sha256 goes into manifest.json). */
int runner_add_external(struct runner *r, const char *path, struct hus_err *err);

/* Clears everything but r->group and r->dry_run (a dry run makes and removes nothing).  Rank 0 removes the stale temporaries of dead writers and
 * makes jobs/ and logs/, then every rank meets (a run with several ranks must call it on
 * every rank). */
int runner_init(struct runner *r, const char *run_dir, int redo, struct hus_err *err);
/* Run `argv` (verb first, NULL-terminated) unless it already finished with these outputs
 * (paths relative to the run directory, NULL-terminated).  See run_jobs.c for the rules.
 * Inside a batch the job is only queued; outside, it is a batch of one. */
int runner_job(struct runner *r, const char *name, const char *const *argv,
               const char *const *outputs, struct hus_err *err);
/* The last `lines` lines of a job's log on stderr, each behind "  | " (a failed job's reason);
 * only a regular file is read, and only its last 64 KB. */
void run_print_log_tail(const char *log, long lines);
/* The job itself, on this process (run_jobs.c; run_batch.c decides who calls it): start its
 * child (c->pid 0 when there is nothing to run: done and verified, or a dry run), then wait
 * for it, blocking or not (returns 1 while it runs), recording the outcome; or both at once. */
struct run_child {
	pid_t pid;
	double t0;
};
#define RUN_MAX_SLOTS 64 /* most jobs one process runs at once */
int runner_job_start(struct runner *r, const struct run_queued *q, struct run_child *c,
                     struct hus_err *err);
int runner_job_wait(struct runner *r, const struct run_queued *q, struct run_child *c, int block,
                    struct hus_err *err);
int runner_job_here(struct runner *r, const struct run_queued *q, struct hus_err *err);

/* SIGTERM, SIGINT and SIGHUP: forwarded to the running jobs; no job starts after one
 * (runner_job_start fails with HUS_EINTR), the running ones are waited for. */
void runner_signals_install(void);
int runner_stop_signal(void); /* the signal received, 0 if none */

/* Batches of independent jobs (run_batch.c).  Every rank declares the same jobs between
 * begin and end; end hands them out in declaration order from a work queue on rank 0 (rank 0
 * runs jobs too), then all ranks agree on the status: a job that failed anywhere fails the
 * run on every rank.  End is a barrier, so files written by a batch's jobs are there for
 * whatever follows. */
void runner_batch_begin(struct runner *r);
/* `rc`: the status of declaring the batch here (nonzero: nothing runs, the failure is shared). */
int runner_batch_end(struct runner *r, int rc, struct hus_err *err);
/* This process writes the run's shared files (job configs, results, manifest): rank 0. */
int runner_writes(const struct runner *r);
/* All ranks meet and agree on `rc` (0 or a negative code): returns rc if it is nonzero here,
 * a failure naming the other ranks if one of them failed, else 0.  Once a failure is known no
 * rank communicates again, so a rank that fails between meetings meets exactly once more. */
int run_group_sync(struct run_group *g, int rc, struct hus_err *err);
/* The same, also summing the runner's job counters and job seconds over the ranks. */
int runner_finish(struct runner *r, int rc, struct hus_err *err);

/* run_mpi.c: the only MPI calls. */
#define RUN_MPI_MAXSUM 8
int run_mpi_available(void);  /* built with MPI */
int run_mpi_launched(void);   /* the environment says mpirun/srun started this process */
int run_mpi_env_is_launcher(const char *entry); /* "NAME=value" that a job must not inherit */
int run_mpi_init(int *rank, int *size, struct hus_err *err); /* rank 0 of 1 unless launched */
int run_mpi_sum(int64_t *v, size_t n, struct hus_err *err);  /* in place over all ranks */
/* The work queue's messages: one int64 to a rank; take one from any rank if there is one
 * (returns 1, 0 if none); wait for one from a given rank (without spinning). */
int run_mpi_send(int to, int64_t v, struct hus_err *err);
int run_mpi_poll(int *from, int64_t *v, struct hus_err *err);
int run_mpi_recv(int from, int64_t *v, struct hus_err *err);
void run_mpi_finalize(void);


/* The top-level config sections a stage verb reads; the runner hands each job its sections. */
#define EXPERIMENT_SECTIONS "experiment", "data", "transformer", "extract", "sae", "analysis", "report", "plant"

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

/* `husai run` (run_experiment.c; the verb only parses into this). */
struct run_request {
	const char *config;       /* the experiment config */
	const char *out;          /* the run directory; NULL: artifacts/<experiment.name> */
	struct hus_sets sets;     /* --set overrides, applied in order after loading */
	int redo, dry_run, aggregate_only;
	int64_t jobs;             /* jobs of a batch at once on this machine; 0: the default */
	const char *plan_out;     /* with aggregate_only: every declared job written here */
	int argc;                 /* the command line, recorded in the done records and manifest */
	char **argv;
};
/* Run (or resume) the experiment into its run directory, every rank of an MPI launch alike;
 * prints one line when done. */
int run_experiment(const struct run_request *q, struct hus_err *err);

/* `husai audit` (audit_run.c; the verb only parses into this). */
struct audit_request {
	int quiet;                /* only the summary lines */
	int inputs;               /* also re-hash the inputs outside the run directory */
	int recompute;            /* also rerun the analyses and rebuild the outputs */
	uint64_t ulp;             /* the ULP bound of a `within` verdict */
	char *const *dirs;        /* run and report directories, n_dirs of them */
	size_t n_dirs;
};
#define AUDIT_EXIT_WITHIN 4 /* 3 is husai's "interrupted" (hus_err_status) */
/* Audit every directory, printing a line per check and the errors; returns the exit status:
 * 0 everything identical, AUDIT_EXIT_WITHIN only within-N-ULP differences, 1 otherwise. */
int audit_run(const struct audit_request *q);

#endif
