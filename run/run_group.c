/*
 * run_group.c — the processes one `husai run` is spread over (docs/decisions.md §9): who
 * writes the run's shared files (rank 0), and the meeting where all ranks agree on a status
 * and sum their job counters.  Every meeting is the same collective (run_mpi_sum), so a rank
 * that fails between two meetings and skips ahead still pairs with the others' next one;
 * after a failure is known nobody meets again.  With one process every function is a no-op
 * that returns the local status.  The job engine (run_jobs.c) and the batches (run_batch.c)
 * both meet here, so neither calls the other's meeting code.
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"

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

int runner_add_external(struct runner *r, const char *path, struct hus_err *err)
{
	char **n = realloc(r->external, (r->n_external + 1) * sizeof(*n));
	if (!n || !(n[r->n_external] = strdup(path))) {
		if (n)
			r->external = n;
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	r->external = n;
	r->n_external++;
	return 0;
}

int runner_finish(struct runner *r, int rc, struct hus_err *err)
{
	hj_free(r->done_outputs);
	r->done_outputs = NULL;
	for (size_t i = 0; i < r->n_external; i++)
		free(r->external[i]);
	free(r->external);
	r->external = NULL;
	r->n_external = 0;
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
