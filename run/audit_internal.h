/*
 * audit_internal.h — private to run/: the pieces `husai audit --recompute`'s two halves
 * (audit_recompute.c: the analyses; audit_aggregate.c: the run's own outputs) share: running
 * husai (audit_common.c), the three verdicts on two versions of an output (audit_compare.c)
 * and the strict reading of a planned `husai analyze` command (audit_argv.c).
 */
#ifndef HUSAI_AUDIT_INTERNAL_H
#define HUSAI_AUDIT_INTERNAL_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "run.h"

/* Run this husai executable with args (verb first, NULL-terminated) and wait: stdout to /dev/null
 * (log NULL, stderr kept) or stdout and stderr to the file log.  *code: its exit status, or
 * 128 + the signal that ended it.  Nonzero only when it could not be started. */
int audit_run_husai(char *const *args, const char *log, int *code, struct hus_err *err);
/* rm -rf dir; 0 when it is gone. */
int audit_remove_tree(const char *dir);

/* ---------------------------------------------------------------- verdicts ----------- */

/* The verdict on one output (or dataset), in increasing gravity. */
enum audit_verdict { AUDIT_IDENTICAL = 0, AUDIT_WITHIN = 1, AUDIT_DIFFERS = 2 };

#define AUDIT_DEFAULT_ULP 4

/* How outputs are compared and reported. */
struct audit_cmp {
	uint64_t ulp;       /* the most units in the last place a `within` verdict allows */
	FILE *out;          /* a line per output and per dataset that is not identical; NULL: none */
	int strip_metadata; /* JSON: every run_metadata object (time and command) is left out */
	/* in the recomputed file's text, the prefix from + "/" is read as to + "/" (the audited
	 * run directory back to the spelling the archive recorded); NULL: no mapping */
	const char *from, *to;
	const char *note;   /* after the file's name on its line, e.g. "(rebuilt from the jobs)" */
};

/* Counts over every output compared, for the summary. */
struct audit_tally {
	size_t identical, within, differ;
	uint64_t max_ulp; /* the largest ULP difference among `within` outputs */
};

/* Compare the archived file `archived` with the recomputed `recomputed` (named `rel` in the
 * lines): HDF5 (.h5) dataset by dataset, JSON (.json) and CSV (.csv) value by value, anything
 * else byte for byte.  Prints the verdict lines, counts the output in *t, returns the verdict;
 * an output that is missing or unreadable on either side differs (its line says why). */
enum audit_verdict audit_compare(const char *archived, const char *recomputed, const char *rel,
                                 const struct audit_cmp *c, struct audit_tally *t);

/* The pieces of a verdict, for tests.  ULP distance of two values (0 for the same value, +0
 * and -0 included; UINT64_MAX when one is NaN or infinite and the other is not the same). */
uint64_t audit_ulp_f32(float a, float b);
uint64_t audit_ulp_f64(double a, double b);
/* A JSON/CSV number's ULP distance: in float32 units when both values are float32 values (the
 * CSV and JSON numbers made from float32 data), else in float64 units. */
uint64_t audit_ulp_number(double a, double b);
/* 1 when a and b print alike in every format the report uses (report/template.c's default
 * %.6g and the templates' %g %.6f %.5f %.4f %.2f %.3e, and %d as the report rounds it; a
 * flag such as + changes nothing that is equal); else 0 and the first format that tells
 * them apart in *fmt.  test_audit_recompute.sh checks the templates use no other. */
int audit_same_printed(double a, double b, const char **fmt);
/* 1 for a results.json key that states a conclusion (a selection, a gate, a verdict): its
 * value, or each element of its list, must be equal whatever its type; an object under it
 * (a selected record) is judged member by member. */
int audit_conclusion_key(const char *key);
/* The formats audit_same_printed checks, for the help text ("%.6g %.6f ..."). */
const char *audit_report_formats(void);

/* ---------------------------------------------------------------- recorded commands -- */

/* A planned `husai analyze` command (in the shape of a done record: argv and outputs), read
 * strictly and mapped into the audited run directory (audit_argv.c). */
struct audit_job {
	char **argv;            /* "analyze", "--name=value"..., "--out=<scratch>", NULL */
	char prefix[4096];      /* the run directory as the record spells it (its --out's) */
	char out_rel[1024];     /* the job's output directory inside the run ("analysis/k8") */
	char **outputs;         /* the record's outputs, checked: relative, inside out_rel */
	size_t n_outputs;
};
/* Read the done record `rec` (file rec_path, for errors) of an analysis of the run directory
 * run_abs (an absolute path without symbolic links): only the options of `husai analyze`,
 * each as --name VALUE or --name=VALUE, at most once except --group and --r2-from; every input
 * path must lie in the run directory the record names and is mapped to the same file under
 * run_abs (which must exist there, symbolic links resolved inside run_abs); the output goes to
 * `scratch`.  The --config file must name no input files of its own.  Errors name rec_path,
 * the argv entry and what was expected. */
int audit_job_read(hj *rec, const char *rec_path, const char *run_abs, const char *scratch,
                   struct audit_job *job, struct hus_err *err);
void audit_job_free(struct audit_job *job);

/* ---------------------------------------------------------------- the two halves ----- */

/* Rerun every analysis a run directory records and compare its outputs (audit_recompute.c);
 * rebuild the run's own outputs from its jobs and compare them (audit_aggregate.c).  Both
 * count into *t and return nonzero (err filled) only when the audit itself could not be
 * done: a record refused, a recomputation that failed. */
/* The jobs this husai declares for a run's config (`husai run --aggregate-only --plan-out`):
 * a list of {job, argv, outputs}, their paths under run_dir (the audit's mirror of the run),
 * never read from the archive's done records. */
struct audit_plan {
	hj *jobs;
	char run_dir[PATH_MAX];
};
void audit_plan_free(struct audit_plan *plan);
/* audit_aggregate runs first and fills *plan (zeroed when it fails); audit_recompute reruns
 * the plan's `analyze` jobs. */
int audit_recompute(const char *run_dir, const struct audit_plan *plan, const struct audit_cmp *c,
                    struct audit_tally *t, struct hus_err *err);
int audit_aggregate(const char *run_dir, const struct audit_cmp *c, struct audit_tally *t,
                    struct audit_plan *plan, struct hus_err *err);
/* The run directories to audit: run_dir and, for a suite, each of its sub-runs. */
int audit_run_dirs(const char *run_dir, char ***dirs, size_t *n, struct hus_err *err);

/* ---------------------------------------------------------------- reports ------------ */

/* audit_report.c: the report directory of `dir` (dir itself when it holds
 * report.sources.json, else a subdirectory that does) in buf, or NULL when it holds none. */
const char *audit_report_root(const char *dir, char *buf, size_t n);
/* Check every sidecar of the report in root (report.sources.json, <kind>/summary.sources.json)
 * against the runs it names, found among args (the command line's directories), beside the
 * report, or holding it.  A line on out per problem; *checked counts the entries; 1 when any
 * problem was found. */
int audit_report(const char *root, char *const *args, size_t nargs, FILE *out, size_t *checked);

#endif
