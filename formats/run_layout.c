/*
 * run_layout.c — the run directory's layout (docs/artifacts.md, docs/architecture.md "the job
 * engine"): every path below RUN that the job engine, the drivers and audit build or read,
 * made here once.  A path is built relative to the run directory when run_dir is NULL, else
 * as "<run_dir>/<relative path>".  The fixed names (transformer, activation set, results,
 * job records and logs) are the RUN_* macros of formats.h.
 */
#include <inttypes.h>
#include <stdio.h>

#include "formats.h"

/* "<run_dir>/<rel>", or rel alone when run_dir is NULL; 0, or -1 when it did not fit */
static int join(char *out, size_t n, const char *run_dir, const char *rel)
{
	int w = run_dir ? snprintf(out, n, "%s/%s", run_dir, rel) : snprintf(out, n, "%s", rel);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

int run_path(char *out, size_t n, const char *run_dir, const char *rel)
{
	return join(out, n, run_dir, rel);
}

int run_sae_path(char *out, size_t n, const char *run_dir, const char *cond, int64_t seed,
                 const char *suffix)
{
	char rel[1024];
	snprintf(rel, sizeof(rel), RUN_SAE_DIR "/%s/sae_seed%" PRId64 "%s.h5", cond, seed,
	         suffix ? suffix : "");
	return join(out, n, run_dir, rel);
}

int run_analysis_path(char *out, size_t n, const char *run_dir, const char *cond,
                      const char *file)
{
	char rel[1024];
	if (file)
		snprintf(rel, sizeof(rel), RUN_ANALYSIS_DIR "/%s/%s", cond, file);
	else
		snprintf(rel, sizeof(rel), RUN_ANALYSIS_DIR "/%s", cond);
	return join(out, n, run_dir, rel);
}

/* "sae/k_sweep k=8" -> "sae_k_sweep_k_8": a file-name-safe form of a job name. */
void run_job_safe_name(const char *name, char *out, size_t n)
{
	size_t o = 0;
	for (const char *p = name; *p && o + 1 < n; p++)
		out[o++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
					  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
				  ? *p : '_');
	out[o] = 0;
}

int run_job_path(char *out, size_t n, const char *run_dir, enum run_job_file what,
                 const char *job)
{
	char safe[256], rel[1024];
	if (what == RUN_JOB_CONFIG) /* the driver's own name, already file-name safe */
		snprintf(rel, sizeof(rel), RUN_JOBS_DIR "/%s.yaml", job);
	else {
		run_job_safe_name(job, safe, sizeof(safe));
		snprintf(rel, sizeof(rel), "%s/%s%s", what == RUN_JOB_LOG ? RUN_LOGS_DIR : RUN_JOBS_DIR,
		         safe, what == RUN_JOB_LOG ? ".log" : ".done.json");
	}
	return join(out, n, run_dir, rel);
}
