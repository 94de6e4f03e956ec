/*
 * run_batch.c — batches of independent jobs, and how the ranks of an MPI run share them
 * (docs/decisions.md §9, issue #10).  Every rank runs the same experiment driver, so every rank declares
 * the same jobs in the same order; nothing here depends on the number of ranks but who runs
 * what, so one process (no MPI, or N = 1) takes exactly this path with size 1 and produces the
 * same job list, done records and outputs.
 *
 * Invariants:
 *  (1) a batch's jobs are handed out by rank 0 in declaration order, each to exactly one rank
 *      (a work queue: whoever is free takes the next job, rank 0 included), so uneven jobs
 *      balance; a job declared outside a batch is a batch of one, run by rank 0.  Which rank
 *      runs a job never changes what it writes;
 *  (2) batch end is a barrier in two halves: the ranks meet before running (rank 0 wrote the
 *      job configs while declaring, and every rank declared the batch) and after (every
 *      output of the batch exists), agreeing on the status, so a failure on one rank fails
 *      every rank instead of leaving them waiting; once a job failed, rank 0 hands out no more;
 *  (3) all meetings are the same collective (run_mpi_sum), so a rank that fails between two
 *      meetings and skips ahead still pairs with the others' next meeting; after a failure is
 *      known nobody meets again;
 *  (4) a job declared with phase 1 (runner.job_phase) depends on the batch's phase-0 jobs: the
 *      batch runs as two, phase 0 first (runner_batch_end), so a group's analysis starts only
 *      once every pair job of the batch has finished on whichever rank ran it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

void runner_batch_begin(struct runner *r)
{
	r->in_batch = 1;
	r->batch_first_seen = r->jobs_seen;
}

static char **copy_list(const char *const *l)
{
	size_t n = 0;
	while (l && l[n])
		n++;
	char **c = calloc(n + 1, sizeof(*c));
	for (size_t i = 0; c && i < n; i++)
		if (!(c[i] = strdup(l[i]))) {
			for (size_t j = 0; j < i; j++)
				free(c[j]);
			free(c);
			return NULL;
		}
	return c;
}

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static void free_queue(struct runner *r)
{
	for (size_t i = 0; i < r->nqueue; i++) {
		free(r->queue[i].name);
		free_list(r->queue[i].argv);
		free_list(r->queue[i].outputs);
	}
	free(r->queue);
	r->queue = NULL;
	r->nqueue = r->capqueue = 0;
}

int runner_job(struct runner *r, const char *name, const char *const *argv,
               const char *const *outputs, struct hus_err *err)
{
	if (r->validate_only)
		return 0;
	int alone = !r->in_batch;
	if (alone)
		runner_batch_begin(r);
	if (r->nqueue == r->capqueue) {
		size_t cap = r->capqueue ? 2 * r->capqueue : 16;
		struct run_queued *q = realloc(r->queue, cap * sizeof(*q));
		if (!q)
			return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		r->queue = q;
		r->capqueue = cap;
	}
	struct run_queued *q = &r->queue[r->nqueue];
	q->phase = r->job_phase;
	q->name = strdup(name);
	q->argv = copy_list(argv);
	q->outputs = copy_list(outputs);
	r->nqueue++;
	r->jobs_seen++;
	if (!q->name || !q->argv || !q->outputs)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	return alone ? runner_batch_end(r, 0, err) : 0;
}

/* A rank other than 0: ask rank 0 for a job, run it, report and ask again, until told -1. */
static int queue_worker(struct runner *r, struct hus_err *err)
{
	int rc = 0;
	int64_t report = 0; /* 0: ready (the last job succeeded), 1: the last job failed */
	for (;;) {
		int64_t i;
		int mrc = run_mpi_send(0, report, err);
		if (!mrc)
			mrc = run_mpi_recv(0, &i, err);
		if (mrc)
			return rc ? rc : mrc;
		if (i < 0 || (size_t)i >= r->nqueue)
			return rc;
		int jrc = runner_job_here(r, &r->queue[i], err);
		if (jrc && !rc)
			rc = jrc;
		report = jrc ? 1 : 0;
	}
}

/* Rank 0: hand out the jobs in declaration order to whoever asks, and run up to r->slots of
 * them itself at once, while it listens; once a job has failed anywhere, hand out nothing
 * more (the jobs already running finish). */
static int queue_master(struct runner *r, int workers, struct hus_err *err)
{
	int rc = 0, failed = 0, running = 0, slots = r->slots > 0 ? r->slots : 1;
	size_t next = 0;
	struct run_child c[RUN_MAX_SLOTS] = { 0 };
	size_t mine[RUN_MAX_SLOTS] = { 0 };
	if (slots > RUN_MAX_SLOTS)
		slots = RUN_MAX_SLOTS;
	while (workers > 0 || running || (next < r->nqueue && !failed && !rc)) {
		int progressed = 0, from, got;
		int64_t report;
		while ((got = run_mpi_poll(&from, &report, err)) == 1) {
			progressed = 1;
			failed |= report != 0;
			int give = next < r->nqueue && !failed && !rc;
			int mrc = run_mpi_send(from, give ? (int64_t)next : -1, err);
			if (mrc)
				return mrc; /* a rank is gone: the launcher ends the run */
			if (give)
				next++;
			else
				workers--;
		}
		if (got < 0)
			return got;
		for (int s = 0; s < slots && next < r->nqueue && !failed && !rc; s++) {
			if (c[s].pid > 0)
				continue;
			mine[s] = next++;
			progressed = 1;
			if ((rc = runner_job_start(r, &r->queue[mine[s]], &c[s], err)) == 0 && c[s].pid > 0)
				running++;
		}
		for (int s = 0; s < slots && running; s++) {
			if (c[s].pid <= 0)
				continue;
			struct hus_err e2 = { 0 };
			int w = runner_job_wait(r, &r->queue[mine[s]], &c[s], 0, &e2);
			if (w != 1) {
				running--;
				progressed = 1;
				if (w < 0 && !rc) {
					rc = w;
					*err = e2;
				}
			}
		}
		if (!progressed) {
			struct timespec ts = { 0, 2000000 }; /* 2 ms: a job takes seconds */
			nanosleep(&ts, NULL);
		}
	}
	return rc;
}

/* How many of a batch's jobs this process runs at once, and with how many threads each.  The
 * budget is OMP_NUM_THREADS when set (so a run started by another run keeps to its share),
 * else the CPUs: alone on the machine, one job per thread of the budget, each single-threaded
 * (several SAE trainings side by side use the cores better than one training split across
 * them); with a single job, or under MPI (the ranks share the work), one at a time with the
 * whole budget. */
static void plan_slots(struct runner *r)
{
	int requested = r->dry_run ? 1 : r->jobs;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *omp = getenv("OMP_NUM_THREADS");
	long budget = omp && atol(omp) > 0 ? atol(omp) : cpus > 0 ? cpus : 1;
	long n = requested > 0 ? requested : (r->group.size > 1 ? 1 : budget);
	if ((size_t)n > r->nqueue)
		n = (long)r->nqueue;
	if (n < 1)
		n = 1;
	if (n > RUN_MAX_SLOTS)
		n = RUN_MAX_SLOTS;
	r->slots = (int)n;
	r->child_threads = n > 1 ? (int)(budget / n > 1 ? budget / n : 1) : 0;
}

static int batch_run(struct runner *r, int rc, struct hus_err *err)
{
	r->in_batch = 0;
	if (r->validate_only) {
		free_queue(r);
		return rc;
	}
	/* invariant (2), first half: every rank declared the batch */
	rc = run_group_sync(&r->group, rc, err);
	r->progress.done = r->batch_first_seen;
	if (!rc) {
		/* a dry run lists every job on rank 0, in order */
		int workers = r->dry_run || r->group.size < 1 ? 0 : r->group.size - 1;
		plan_slots(r);
		if (runner_writes(r))
			rc = queue_master(r, workers, err);
		else if (workers)
			rc = queue_worker(r, err);
	}
	const char *last = r->nqueue ? r->queue[r->nqueue - 1].name : NULL;
	rc = run_group_sync(&r->group, rc, err); /* second half: every output exists */
	if (!rc)
		hus_progress_update(&r->progress, r->jobs_seen, last);
	free_queue(r);
	return rc;
}

/* Invariant (4): a batch whose jobs have phases runs as two batches, phase 0 then phase 1,
 * each in declaration order, on every rank alike (all declared the same jobs); a failure in
 * the first is shared at its end, and the second then runs nothing. */
int runner_batch_end(struct runner *r, int rc, struct hus_err *err)
{
	size_t later = 0;
	for (size_t i = 0; i < r->nqueue; i++)
		later += r->queue[i].phase > 0;
	if (!later || r->validate_only)
		return batch_run(r, rc, err);
	struct run_queued *second = malloc(later * sizeof(*second));
	if (!second && !rc)
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	size_t k = 0, n = 0;
	for (size_t i = 0; i < r->nqueue; i++) {
		if (r->queue[i].phase > 0 && second) {
			second[n] = r->queue[i];
			second[n++].phase = 0;
		} else if (r->queue[i].phase > 0) { /* no room: dropped, the batch fails */
			free(r->queue[i].name), free_list(r->queue[i].argv), free_list(r->queue[i].outputs);
		} else {
			r->queue[k++] = r->queue[i];
		}
	}
	r->nqueue = k;
	rc = batch_run(r, rc, err);
	r->in_batch = 0;
	r->queue = second;
	r->nqueue = r->capqueue = n;
	return batch_run(r, rc, err);
}
