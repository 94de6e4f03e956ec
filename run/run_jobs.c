/*
 * run_jobs.c — the job engine under `husai run`.  An experiment is a sequence of jobs; each job
 * is one husai verb run as a child process (stages talk only through files), with its stderr
 * kept in RUN_DIR/logs/<job>.log.  A job that succeeds leaves RUN_DIR/jobs/<job>.done.json
 * listing the sha256 of its outputs.  Invariants:
 *  (1) a job is skipped only when its done record exists and every output still hashes to
 *      the recorded value; a mismatch is a corrupt artifact, reported by name (--redo reruns);
 *  (2) a done record is written (atomically) only after the child exited 0 and every declared
 *      output exists, so a run killed at any point reruns exactly the unfinished jobs;
 *  (3) children inherit HUSAI_QUIET so only the parent draws the progress line;
 *  (4) under MPI, a job runs only on the rank that owns it (run_batch.c), which alone checks
 *      and writes its done record; children never inherit the MPI launcher's environment;
 *  (5) stale temporaries are removed by rank 0 before any job starts, then the ranks meet:
 *      a temporary's pid means nothing on another node, and no job is running yet;
 *  (6) with --aggregate-only no job runs: a job counts as finished when every output it
 *      declares is listed, with a checksum that still holds, by some done record in jobs/
 *      (whatever that record's name: the archive may come from another husai version).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

extern char **environ;

#define RUN_ERR_FD 3 /* in a job: a copy of the run's stderr (HUSAI_ERR_FD) */
#define RUN_ERR_FD_STR "3"

/* ---------------------------------------------------------------- signals ----------- */
/* SIGTERM, SIGINT or SIGHUP to `husai run` (timeout, Slurm, systemd, a terminal) is forwarded
 * to every running job; no new job starts; the engine waits for the running ones, which
 * checkpoint or die, and the run exits 3 (rerun to resume).  A job also dies with its parent
 * (PR_SET_PDEATHSIG), so nothing outlives a run killed outright. */
static volatile sig_atomic_t stop_sig;
static volatile sig_atomic_t child_pids[RUN_MAX_SLOTS];

static void on_stop_signal(int sig)
{
	int saved = errno;
	stop_sig = sig;
	for (int i = 0; i < RUN_MAX_SLOTS; i++)
		if (child_pids[i] > 0)
			kill((pid_t)child_pids[i], sig);
	errno = saved;
}

void runner_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal; /* no SA_RESTART: a blocking wait returns to look */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int runner_stop_signal(void) { return stop_sig; }

static int stopped_error(const struct runner *r, struct hus_err *err)
{
	return hus_errf(err, HUS_EINTR, r->run_dir, NULL,
			"interrupted by %s; every finished job is recorded: rerun the same command "
			"to resume", stop_sig == SIGTERM ? "SIGTERM" : stop_sig == SIGINT ? "SIGINT"
								 : stop_sig == SIGHUP ? "SIGHUP" : "a signal");
}

static void child_forget(pid_t pid)
{
	for (int i = 0; i < RUN_MAX_SLOTS; i++)
		if (child_pids[i] == (sig_atomic_t)pid)
			child_pids[i] = 0;
}

/* A process that can still write: it exists and is not a zombie (a job whose rank was killed
 * is reparented, and a zombie waits there until someone reaps it). */
static int writer_alive(pid_t pid)
{
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	char p[64], buf[256];
	snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return 1; /* no /proc: trust kill() */
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *close_paren = strrchr(buf, ')'); /* "pid (comm) S ..." */
	return !(close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X'));
}

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
	if (!*end && pid > 0 && !writer_alive((pid_t)pid))
		unlink(full);
	return 0;
}

int runner_init(struct runner *r, const char *run_dir, int redo, struct hus_err *err)
{
	struct run_group g = r->group;
	int dry = r->dry_run;
	memset(r, 0, sizeof(*r));
	r->group = g;
	r->dry_run = dry;
	snprintf(r->run_dir, sizeof(r->run_dir), "%s", run_dir);
	r->redo = redo;
	int rc = 0;
	ssize_t n = readlink("/proc/self/exe", r->exe, sizeof(r->exe) - 1);
	if (n <= 0)
		rc = hus_errf(err, HUS_EIO, "/proc/self/exe", NULL,
			      "cannot find the husai executable to run jobs");
	else
		r->exe[n] = 0;
	if (!rc && runner_writes(r) && !r->dry_run) { /* invariant (5); a dry run writes nothing */
		hus_walk_files(run_dir, remove_if_stale, NULL);
		char sub[PATH_MAX + 16];
		run_path(sub, sizeof(sub), run_dir, RUN_JOBS_DIR);
		rc = hus_mkdirs(sub, err);
		if (!rc) {
			run_path(sub, sizeof(sub), run_dir, RUN_LOGS_DIR);
			rc = hus_mkdirs(sub, err);
		}
	}
	return run_group_sync(&r->group, rc, err);
}

static void done_path(const struct runner *r, const char *name, char *out, size_t n)
{
	run_job_path(out, n, r->run_dir, RUN_JOB_DONE, name);
}

/* A done record's outputs: {path, sha256} entries, every path below the run directory. */
static int record_outputs(const char *dp, hj *d, hj **outs, struct hus_err *err)
{
	*outs = hj_get(d, "outputs");
	for (size_t i = 0; *outs && i < hj_len(*outs); i++) {
		const char *rel = hj_get_str(hj_at(*outs, i), "path");
		const char *sha = hj_get_str(hj_at(*outs, i), "sha256");
		char where[48];
		snprintf(where, sizeof(where), "outputs.%zu", i);
		if (!rel || !sha)
			return hus_errf(err, HUS_EINPUT, dp, where, "expected {path, sha256}");
		if (!hus_path_is_below(rel))
			return hus_errf(err, HUS_EINPUT, dp, where,
					"expected a path inside the run directory (relative, no '..'), "
					"found '%.300s'",
					rel);
	}
	return 0;
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
	hj *outs;
	if ((rc = record_outputs(dp, d, &outs, err))) {
		hj_free(d);
		return rc;
	}
	for (size_t i = 0; outs && i < hj_len(outs); i++) {
		const char *rel = hj_get_str(hj_at(outs, i), "path");
		const char *sha = hj_get_str(hj_at(outs, i), "sha256");
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

/* Every output any done record in jobs/ lists -> [[sha256, record], ...] (a record may be a
 * symbolic link: the audit's mirror links the archive's). */
static int index_records(const char *jobs, hj *index, struct hus_err *err)
{
	struct dirent **ents = NULL;
	int ne = scandir(jobs, &ents, NULL, alphasort), rc = 0;
	if (ne < 0)
		return hus_errf(err, HUS_EINPUT, jobs, NULL, "cannot list the done records: %s",
				strerror(errno));
	for (int e = 0; e < ne; e++) {
		const char *name = ents[e]->d_name;
		size_t n = strlen(name);
		char full[PATH_MAX * 2];
		snprintf(full, sizeof(full), "%s/%s", jobs, name);
		hj *d = NULL, *outs;
		if (!rc && n > 10 && !strcmp(name + n - 10, ".done.json") &&
		    !(rc = hj_read_file(full, &d, err)) && !(rc = record_outputs(full, d, &outs, err))) {
			for (size_t i = 0; outs && i < hj_len(outs); i++) {
				const char *path = hj_get_str(hj_at(outs, i), "path");
				hj *list = hj_member(index, path), *entry = hj_arr();
				if (!list) {
					list = hj_arr();
					hj_set(index, path, list);
				}
				hj_push(entry, hj_str(hj_get_str(hj_at(outs, i), "sha256")));
				char rec[PATH_MAX + 8];
				snprintf(rec, sizeof(rec), "jobs/%s", name);
				hj_push(entry, hj_str(rec));
				hj_push(list, entry);
			}
		}
		hj_free(d);
		free(ents[e]);
	}
	free(ents);
	return rc;
}

/* --aggregate-only, the audit's rebuild of an archive that another husai version may have
 * made: its job list and job names may not be this version's (older versions trained all
 * seeds of a condition in one job, sae_<cond>, where this one trains sae_<cond>_seed<S>).
 * What ran is what the archive's done records say: a job counts as finished when every
 * output it declares is listed by some done record in jobs/, whatever that record's name,
 * and still has the checksum that record gives. */
static int recorded_by_any_job(struct runner *r, const struct run_queued *q, struct hus_err *err)
{
	if (!r->done_outputs) {
		char jobs[PATH_MAX + 16];
		run_path(jobs, sizeof(jobs), r->run_dir, RUN_JOBS_DIR);
		hj *index = hj_obj();
		int rc = index ? index_records(jobs, index, err)
			       : hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		if (rc) {
			hj_free(index);
			return rc;
		}
		r->done_outputs = index;
	}
	for (size_t i = 0; q->outputs && q->outputs[i]; i++) {
		const char *rel = q->outputs[i];
		hj *list = hj_member(r->done_outputs, rel);
		if (!list)
			return hus_errf(err, HUS_EINPUT, r->run_dir, NULL,
					"job '%s' has not finished: no done record in jobs/ lists its "
					"output '%s', so the run's results cannot be rebuilt from its jobs; "
					"finish the run first (rerun `husai run`)",
					q->name, rel);
		char full[PATH_MAX * 2], hex[65];
		snprintf(full, sizeof(full), "%s/%s", r->run_dir, rel);
		struct hus_err e2 = { 0 };
		int found = !hus_sha256_file(full, hex, NULL, &e2);
		size_t k = 0;
		while (found && k < hj_len(list) && strcmp(hj_get_str(hj_at(list, k), "0"), hex))
			k++;
		if (!found || k == hj_len(list))
			return hus_errf(err, HUS_EMISMATCH, full, NULL,
					"output of job '%s' is %s since %s recorded it; rerun with --redo "
					"to recompute it",
					q->name, found ? "changed" : "missing",
					hj_get_str(hj_at(list, 0), "1"));
	}
	r->jobs_skipped++;
	hus_progress_update(&r->progress, r->progress.done + 1, q->name);
	return 0;
}

/* The job as this husai declares it: {job, argv (verb first), outputs (run-relative)}. */
static int plan_add(hj *plan, const struct run_queued *q)
{
	hj *j = hj_obj(), *argv = hj_arr(), *outs = hj_arr();
	if (!j || !argv || !outs) {
		hj_free(j), hj_free(argv), hj_free(outs);
		return -1;
	}
	hj_set(j, "job", hj_str(q->name));
	for (size_t i = 0; q->argv[i]; i++)
		hj_push(argv, hj_str(q->argv[i]));
	for (size_t i = 0; q->outputs && q->outputs[i]; i++)
		hj_push(outs, hj_str(q->outputs[i]));
	hj_set(j, "argv", argv);
	hj_set(j, "outputs", outs);
	return hj_push(plan, j);
}

static int write_done(const struct runner *r, const char *name, const char *const *argv,
                      const char *const *outputs, double seconds, double cpu,
                      struct hus_err *err)
{
	hj *d = hj_obj(), *outs = hj_arr(), *args = hj_arr();
	hj_set(d, "job", hj_str(name));
	/* the job's wall time and CPU time (user + system): a record, not a result */
	hj_set(d, "seconds", hj_num(seconds));
	hj_set(d, "cpu_seconds", hj_num(cpu));
	hj_set(d, "rank", hj_int(r->group.rank)); /* which MPI rank ran it (0 without MPI) */
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

void run_print_log_tail(const char *log, long lines)
{
	struct stat st;
	if (stat(log, &st) || !S_ISREG(st.st_mode)) /* e.g. a device: never read forever */
		return;
	FILE *f = fopen(log, "r");
	if (!f)
		return;
	long from = st.st_size > 65536 ? (long)(st.st_size - 65536) : 0; /* the tail is in the last 64 KB */
	fseek(f, from, SEEK_SET);
	char line[1024];
	long count = 0;
	while (fgets(line, sizeof(line), f))
		count++;
	fseek(f, from, SEEK_SET); /* back to where the lines were counted */
	long skip = count > lines ? count - lines : 0;
	for (long i = 0; fgets(line, sizeof(line), f); i++)
		if (i >= skip)
			fprintf(stderr, "  | %s%s", line, strchr(line, '\n') ? "" : "\n");
	fclose(f);
}

/* The environment of a job: ours without the MPI launcher's variables (invariant (4)), and
 * with the batch's thread count when jobs share the budget (run_batch.c plan_slots). */
static char **child_environment(const struct runner *r, char *threads, size_t tn)
{
	size_t n = 0, o = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 4, sizeof(*env));
	for (size_t i = 0; env && i < n; i++)
		if (!run_mpi_env_is_launcher(environ[i]) && strncmp(environ[i], "HUSAI_ERR_FD=", 13) &&
		    !(r->child_threads > 0 && !strncmp(environ[i], "OMP_NUM_THREADS=", 16)))
			env[o++] = environ[i];
	if (env && r->child_threads > 0) {
		snprintf(threads, tn, "OMP_NUM_THREADS=%d", r->child_threads);
		env[o++] = threads;
	}
	/* a job stopped by a signal leaves no interrupt checkpoint: the engine reruns it whole */
	static char job_flag[] = "HUSAI_JOB=1";
	if (env && !getenv("HUSAI_JOB"))
		env[o++] = job_flag;
	/* an error the job cannot write to its log (a full disk) reaches the run's stderr */
	static char err_fd[] = "HUSAI_ERR_FD=" RUN_ERR_FD_STR;
	if (env)
		env[o++] = err_fd;
	return env;
}

int runner_job_start(struct runner *r, const struct run_queued *q, struct run_child *c,
                     struct hus_err *err)
{
	const char *name = q->name;
	const char *const *argv = (const char *const *)q->argv;
	c->pid = 0;
	if (r->aggregate_only) {
		if (!r->plan)
			return recorded_by_any_job(r, q, err);
		if (plan_add(r->plan, q))
			return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		struct hus_err e = { 0 };
		int rc = recorded_by_any_job(r, q, &e);
		if (rc && !r->plan_rc) { /* the first one is the run's error; plan on */
			r->plan_rc = rc;
			r->plan_err = e;
		}
		return 0;
	}
	if (!r->redo) {
		int st = check_done(r, name, err);
		if (st < 0)
			return st;
		if (st == 1) {
			r->jobs_skipped++;
			hus_progress_update(&r->progress, r->progress.done + 1, name);
			return 0;
		}
	}
	if (stop_sig)
		return stopped_error(r, err);
	if (r->dry_run) {
		printf("would run %s:", name);
		for (size_t i = 0; argv[i]; i++)
			printf(" %s", argv[i]);
		printf("\n");
		return 0;
	}
	hus_progress_update(&r->progress, r->progress.done, name);
	char log[PATH_MAX + 300];
	run_job_path(log, sizeof(log), r->run_dir, RUN_JOB_LOG, name);
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
	setenv("HUSAI_QUIET", "1", 1);
	char threads[32];
	char **env = child_environment(r, threads, sizeof(threads));
	if (!env) {
		free(cargv);
		if (!r->quiet_env)
			unsetenv("HUSAI_QUIET");
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	c->t0 = hus_now();
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		/* the child, until exec: async-signal-safe calls only */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* die with the run, even on its SIGKILL */
		if (getppid() != parent)          /* the run died before prctl took effect */
			_exit(127);
		dup2(STDERR_FILENO, RUN_ERR_FD); /* the run's stderr, for when the log is full */
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			static const char m[] = "husai: cannot open the job's log\n";
			ssize_t wr = write(STDERR_FILENO, m, sizeof(m) - 1);
			(void)wr;
			_exit(126);
		}
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execve(r->exe, cargv, env);
		_exit(127);
	}
	int sp = pid < 0 ? errno : 0;
	free(cargv);
	free(env);
	if (!r->quiet_env)
		unsetenv("HUSAI_QUIET");
	if (sp) {
		c->pid = 0;
		return hus_errf(err, HUS_EIO, r->exe, NULL, "cannot start job '%s': %s", name,
				strerror(sp));
	}
	c->pid = pid;
	for (int i = 0; i < RUN_MAX_SLOTS; i++)
		if (child_pids[i] == 0) {
			child_pids[i] = pid;
			break;
		}
	if (stop_sig) /* arrived while the child was being started */
		kill(pid, stop_sig);
	return 0;
}

int runner_job_wait(struct runner *r, const struct run_queued *q, struct run_child *c, int block,
                    struct hus_err *err)
{
	int status;
	struct rusage ru = { 0 };
	pid_t w;
	while ((w = wait4(c->pid, &status, block ? 0 : WNOHANG, &ru)) < 0) {
		if (errno != EINTR) {
			c->pid = 0;
			return hus_errf(err, HUS_EIO, NULL, NULL, "lost job '%s': %s", q->name,
					strerror(errno));
		}
	}
	if (w == 0)
		return 1; /* still running */
	child_forget(c->pid);
	c->pid = 0;
	const char *name = q->name;
	double took = hus_now() - c->t0;
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	r->seconds += took;
	if ((!WIFEXITED(status) || WEXITSTATUS(status) != 0) && stop_sig) {
		hus_progress_end(&r->progress);
		return stopped_error(r, err); /* the job was stopped with the run: no log tail */
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char log[PATH_MAX + 300];
		run_job_path(log, sizeof(log), r->run_dir, RUN_JOB_LOG, name);
		hus_progress_end(&r->progress);
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		fprintf(stderr, "husai: job '%s' failed (status %d); its log, %s:\n", name, code, log);
		run_print_log_tail(log, 15);
		if (code == 3)
			return hus_errf(err, HUS_EINTR, r->run_dir, NULL,
					"interrupted; rerun the same command to resume");
		return hus_errf(err, HUS_EINPUT, r->run_dir, NULL, "job '%s' failed", name);
	}
	r->jobs_run++;
	int rc = write_done(r, name, (const char *const *)q->argv, (const char *const *)q->outputs,
			    took, cpu, err);
	hus_progress_update(&r->progress, r->progress.done + 1, name);
	return rc;
}

int runner_job_here(struct runner *r, const struct run_queued *q, struct hus_err *err)
{
	struct run_child c = { 0 };
	int rc = runner_job_start(r, q, &c, err);
	if (!rc && c.pid > 0)
		rc = runner_job_wait(r, q, &c, 1, err);
	return rc;
}
