/*
 * run_batch.c — batches of independent jobs, and how the ranks of an MPI run share them
 * (DESIGN §9, issue #10).  Every rank runs the same experiment driver, so every rank declares
 * the same jobs in the same order; nothing here depends on the number of ranks but who runs
 * what, so one process (no MPI, or N = 1) takes exactly this path with size 1 and produces the
 * same job list, done records and outputs.
 *
 * Invariants:
 *  (1) job i of a batch (declaration order) runs on rank runner_owner(i, size) and nowhere
 *      else; a job declared outside a batch is a batch of one, run by rank 0;
 *  (2) batch end is a barrier in two halves: the ranks meet before running (rank 0 wrote the
 *      job configs while declaring) and after (every output of the batch exists), agreeing on
 *      the status, so a failure on one rank fails every rank instead of leaving them waiting;
 *  (3) all meetings are the same collective (run_mpi_sum), so a rank that fails between two
 *      meetings and skips ahead still pairs with the others' next meeting; after a failure is
 *      known nobody meets again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

int runner_owner(size_t i, int size) { return size > 1 ? (int)(i % (size_t)size) : 0; }

int runner_writes(const struct runner *r) { return r->group.rank == 0; }

/* sums[0] counts failed ranks; sums[1..n) are summed as well. */
static int group_meet(struct run_group *g, int rc, int64_t *sums, size_t n, struct hus_err *err)
{
	if (g->size <= 1)
		return rc;
	if (g->failed) /* invariant (3) */
		return rc ? rc : hus_errf(err, HUS_EINPUT, NULL, NULL, "another rank failed");
	sums[0] = rc ? 1 : 0;
	struct hus_err e2 = { 0 };
	int mrc = run_mpi_sum(sums, n, &e2);
	if (mrc) {
		g->failed = 1;
		if (!rc)
			*err = e2;
		return rc ? rc : mrc;
	}
	if (sums[0] == 0)
		return 0;
	g->failed = 1;
	if (rc)
		return rc;
	return hus_errf(err, HUS_EINPUT, NULL, NULL,
			"%lld of %d ranks failed (their messages are above); rerun the same command "
			"to finish the run",
			(long long)sums[0], g->size);
}

int run_group_sync(struct run_group *g, int rc, struct hus_err *err)
{
	int64_t s[1];
	return group_meet(g, rc, s, 1, err);
}

int runner_finish(struct runner *r, int rc, struct hus_err *err)
{
	int64_t s[4] = { 0, (int64_t)r->jobs_run, (int64_t)r->jobs_skipped,
			 (int64_t)(r->seconds * 1e3) };
	rc = group_meet(&r->group, rc, s, 4, err);
	if (!rc && r->group.size > 1) {
		r->jobs_run = (size_t)s[1];
		r->jobs_skipped = (size_t)s[2];
		r->seconds = (double)s[3] / 1e3;
	}
	return rc;
}

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
	q->name = strdup(name);
	q->argv = copy_list(argv);
	q->outputs = copy_list(outputs);
	r->nqueue++;
	r->jobs_seen++;
	if (!q->name || !q->argv || !q->outputs)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	return alone ? runner_batch_end(r, 0, err) : 0;
}

int runner_batch_end(struct runner *r, int rc, struct hus_err *err)
{
	r->in_batch = 0;
	if (r->validate_only) {
		free_queue(r);
		return rc;
	}
	/* invariant (2), first half: the job configs rank 0 wrote are in place */
	rc = run_group_sync(&r->group, rc, err);
	r->progress.done = r->batch_first_seen;
	for (size_t i = 0; i < r->nqueue && !rc; i++) {
		/* a dry run lists every job on rank 0, in order */
		int owner = r->dry_run ? 0 : runner_owner(i, r->group.size);
		if (owner == r->group.rank)
			rc = runner_job_here(r, r->queue[i].name, (const char *const *)r->queue[i].argv,
					     (const char *const *)r->queue[i].outputs, err);
	}
	const char *last = r->nqueue ? r->queue[r->nqueue - 1].name : NULL;
	rc = run_group_sync(&r->group, rc, err); /* second half: every output exists */
	if (!rc)
		hus_progress_update(&r->progress, r->jobs_seen, last);
	free_queue(r);
	return rc;
}
