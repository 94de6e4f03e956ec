/*
 * run_layout.h — the names and path builders of a run directory (formats/run_layout.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_RUN_LAYOUT_H
#define HUSAI_FORMATS_RUN_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- run layout -------- */

/* The run directory's layout (formats/run_layout.c, docs/artifacts.md): every path below a
 * run directory is one of these names or built by the functions below.  Each builder writes
 * "<run_dir>/<path>", or the path relative to the run directory when run_dir is NULL, and
 * returns 0, or -1 when it did not fit in n bytes. */
#define RUN_TRANSFORMER_DIR "transformer"
#define RUN_TRANSFORMER_FINAL "transformer/transformer_final.h5"
#define RUN_ACTIVATIONS "activations.h5"
#define RUN_SAE_DIR "sae"
#define RUN_ANALYSIS_DIR "analysis"
#define RUN_ANALYSIS_FILE "analysis.h5"
#define RUN_RESULTS "results.json"
#define RUN_PAIR_CACHE_DIR "pairs" /* analysis/<cond>/pairs: the pair jobs' caches */
#define RUN_MANIFEST "manifest.json"
#define RUN_JOBS_DIR "jobs"
#define RUN_LOGS_DIR "logs"
int run_path(char *out, size_t n, const char *run_dir, const char *rel);
/* sae/<cond>/sae_seed<seed><suffix>.h5 (suffix NULL, "" or "_step0") */
int run_sae_path(char *out, size_t n, const char *run_dir, const char *cond, int64_t seed,
                 const char *suffix);
/* analysis/<cond>, or analysis/<cond>/<file> when file is non-NULL */
int run_analysis_path(char *out, size_t n, const char *run_dir, const char *cond,
                      const char *file);
/* A job's files: jobs/<job>.yaml (its config; job is a driver's name), and, with the job
 * name made file-name safe (run_job_safe_name), jobs/<safe>.done.json, logs/<safe>.log. */
enum run_job_file { RUN_JOB_CONFIG, RUN_JOB_DONE, RUN_JOB_LOG };
int run_job_path(char *out, size_t n, const char *run_dir, enum run_job_file what,
                 const char *job);
void run_job_safe_name(const char *name, char *out, size_t n);

#endif
