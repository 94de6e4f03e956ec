/*
 * run_jobs.c — the job engine under `husai run`.  An experiment is a sequence of jobs; each job
 * is one husai verb run as a child process (stages talk only through files), with its stderr
 * kept in RUN_DIR/logs/<job>.log.  A job that succeeds leaves RUN_DIR/jobs/<job>.done.json
 * listing the sha256 of its outputs.  Invariants:
 *  (1) a job is skipped only when its done record exists and every output still hashes to
 *      the recorded value; a mismatch is a corrupt artifact, reported by name (--redo reruns);
 *  (2) a done record is written (atomically) only after the child exited 0 and every declared
 *      output exists, so a run killed at any point reruns exactly the unfinished jobs;
 *  (3) children inherit HUSAI_QUIET so only the parent draws the progress line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_internal.h"

extern char **environ;

/* Remove NAME.tmp-PID files whose writer is gone (a killed run leaves them; invariant (1) of
 * atomic.c means no final name is ever partial, so only these need cleaning). */
static int remove_if_stale(const char *rel, const char *full, void *ctx)
{
	(void)ctx;
	const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	const char *t = strstr(name, ".tmp-");
	if (!t)
		return 0;
	char *end;
	long pid = strtol(t + 5, &end, 10);
	if (!*end && pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		unlink(full);
	return 0;
}

int runner_init(struct runner *r, const char *run_dir, int redo, struct hus_err *err)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->run_dir, sizeof(r->run_dir), "%s", run_dir);
	r->redo = redo;
	ssize_t n = readlink("/proc/self/exe", r->exe, sizeof(r->exe) - 1);
	if (n <= 0)
		return hus_errf(err, HUS_EIO, "/proc/self/exe", NULL,
				"cannot find the husai executable to run jobs");
	r->exe[n] = 0;
	hus_walk_files(run_dir, remove_if_stale, NULL);
	char sub[PATH_MAX + 16];
	snprintf(sub, sizeof(sub), "%s/jobs", run_dir);
	int rc = hus_mkdirs(sub, err);
	if (!rc) {
		snprintf(sub, sizeof(sub), "%s/logs", run_dir);
		rc = hus_mkdirs(sub, err);
	}
	return rc;
}

/* "sae/k_sweep k=8" -> "sae_k_sweep_k_8": a file-name-safe form of a job name. */
static void safe_name(const char *name, char *out, size_t n)
{
	size_t o = 0;
	for (const char *p = name; *p && o + 1 < n; p++)
		out[o++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
					  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'
				  ? *p : '_');
	out[o] = 0;
}

static void done_path(const struct runner *r, const char *name, char *out, size_t n)
{
	char safe[256];
	safe_name(name, safe, sizeof(safe));
	snprintf(out, n, "%s/jobs/%s.done.json", r->run_dir, safe);
}

/* 1 = done and verified, 0 = not done, negative = corrupt output (err filled). */
static int check_done(const struct runner *r, const char *name, struct hus_err *err)
{
	char dp[PATH_MAX + 300];
	done_path(r, name, dp, sizeof(dp));
	if (!hus_file_exists(dp))
		return 0;
	hj *d;
	int rc = hj_read_file(dp, &d, err);
	if (rc)
		return rc;
	hj *outs = hj_get(d, "outputs");
	for (size_t i = 0; outs && i < hj_len(outs); i++) {
		const char *rel = hj_get_str(hj_at(outs, i), "path");
		const char *sha = hj_get_str(hj_at(outs, i), "sha256");
		if (!rel || !sha) {
			hj_free(d);
			return hus_errf(err, HUS_EINPUT, dp, "outputs", "expected {path, sha256} entries");
		}
		char full[PATH_MAX * 2], hex[65];
		snprintf(full, sizeof(full), "%s/%s", r->run_dir, rel);
		struct hus_err e2 = { 0 };
		if (hus_sha256_file(full, hex, NULL, &e2) || strcmp(hex, sha)) {
			rc = hus_errf(err, HUS_EMISMATCH, full, NULL,
				      "output of job '%s' is %s since the job finished; rerun with "
				      "--redo to recompute it",
				      name, e2.code ? "missing" : "changed");
			hj_free(d);
			return rc;
		}
	}
	hj_free(d);
	return 1;
}

static int write_done(const struct runner *r, const char *name, const char *const *argv,
                      const char *const *outputs, struct hus_err *err)
{
	hj *d = hj_obj(), *outs = hj_arr(), *args = hj_arr();
	hj_set(d, "job", hj_str(name));
	for (size_t i = 0; argv && argv[i]; i++)
		hj_push(args, hj_str(argv[i]));
	hj_set(d, "argv", args); /* the husai command that made the outputs: audit reruns it */
	for (size_t i = 0; outputs && outputs[i]; i++) {
		char full[PATH_MAX * 2], hex[65];
		snprintf(full, sizeof(full), "%s/%s", r->run_dir, outputs[i]);
		int rc = hus_sha256_file(full, hex, NULL, err);
		if (rc) {
			hj_free(d);
			hj_free(outs);
			return hus_errf(err, HUS_EINTERNAL, full, NULL,
					"job '%s' succeeded but did not write this output", name);
		}
		hj *o = hj_obj();
		hj_set(o, "path", hj_str(outputs[i]));
		hj_set(o, "sha256", hj_str(hex));
		hj_push(outs, o);
	}
	hj_set(d, "outputs", outs);
	char dp[PATH_MAX + 300];
	done_path(r, name, dp, sizeof(dp));
	int rc = hj_write_file(dp, d, err);
	hj_free(d);
	return rc;
}

static void print_log_tail(const char *log)
{
	FILE *f = fopen(log, "r");
	if (!f)
		return;
	char line[1024];
	long count = 0;
	while (fgets(line, sizeof(line), f))
		count++;
	rewind(f);
	long skip = count > 15 ? count - 15 : 0;
	for (long i = 0; fgets(line, sizeof(line), f); i++)
		if (i >= skip)
			fprintf(stderr, "  | %s", line);
	fclose(f);
}

int runner_job(struct runner *r, const char *name, const char *const *argv,
               const char *const *outputs, struct hus_err *err)
{
	if (r->validate_only)
		return 0;
	r->jobs_seen++;
	if (!r->redo) {
		int st = check_done(r, name, err);
		if (st < 0)
			return st;
		if (st == 1) {
			r->jobs_skipped++;
			hus_progress_update(&r->progress, r->jobs_seen, name);
			return 0;
		}
	}
	if (r->aggregate_only)
		return hus_errf(err, HUS_EINPUT, r->run_dir, NULL,
				"job '%s' has not finished, so the run's results cannot be rebuilt "
				"from its jobs; finish the run first (rerun `husai run`)", name);
	if (r->dry_run) {
		printf("would run %s:", name);
		for (size_t i = 0; argv[i]; i++)
			printf(" %s", argv[i]);
		printf("\n");
		return 0;
	}
	hus_progress_update(&r->progress, r->jobs_seen - 1, name);
	char log[PATH_MAX + 300], safe[256];
	safe_name(name, safe, sizeof(safe));
	snprintf(log, sizeof(log), "%s/logs/%s.log", r->run_dir, safe);
	/* child argv: the husai executable, then the verb and its arguments */
	size_t n = 0;
	while (argv[n])
		n++;
	char **cargv = calloc(n + 2, sizeof(*cargv));
	if (!cargv)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	cargv[0] = r->exe;
	for (size_t i = 0; i < n; i++)
		cargv[i + 1] = (char *)argv[i];
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
	setenv("HUSAI_QUIET", "1", 1);
	pid_t pid;
	double t0 = hus_now();
	int sp = posix_spawn(&pid, r->exe, &fa, NULL, cargv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(cargv);
	if (!r->quiet_env)
		unsetenv("HUSAI_QUIET");
	if (sp)
		return hus_errf(err, HUS_EIO, r->exe, NULL, "cannot start job '%s': %s", name,
				strerror(sp));
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return hus_errf(err, HUS_EIO, NULL, NULL, "lost job '%s': %s", name,
					strerror(errno));
	}
	r->seconds += hus_now() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		hus_progress_end(&r->progress);
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		fprintf(stderr, "husai: job '%s' failed (status %d); its log, %s:\n", name, code, log);
		print_log_tail(log);
		if (code == 3)
			return hus_errf(err, HUS_EINTR, r->run_dir, NULL,
					"interrupted; rerun the same command to resume");
		return hus_errf(err, HUS_EINPUT, r->run_dir, NULL, "job '%s' failed", name);
	}
	r->jobs_run++;
	int rc = write_done(r, name, argv, outputs, err);
	hus_progress_update(&r->progress, r->jobs_seen, name);
	return rc;
}
