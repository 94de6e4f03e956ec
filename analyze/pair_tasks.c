/*
 * pair_tasks.c — the trained pairs' work that is not a matrix product, solved as one set of
 * tasks on the analysis's threads: each model's subspace basis (subspace.c, a symmetric
 * eigensolver, single-threaded and memory-bound) and each pair's two sparse assignments (|cos|
 * and signed, match_sparse_kind, single-threaded).  One after another they left a core idle
 * half of the time (three bases on two threads, then six assignments in a row: ~13 s of the
 * 768 x 16 384 analysis, EXPERIMENTS.md); as tasks the longest start first and the others fill
 * in.  Every task reads only the models and the candidates and writes only its own outputs, so
 * the split over threads changes no bit; the first failing task in a fixed order (bases in
 * model order, then pairs in order, |cos| before signed) reports.
 *
 * The bases need no product, so they need not wait for one: pair_tasks_bases_begin computes
 * them on a thread of its own while the trained pass forms its products on the others (the
 * eigensolver is memory-bound and the panels compute-bound: side by side they share two cores
 * far better than two eigensolvers do, which ran at ~1.1x the speed of one, EXPERIMENTS.md).
 * pair_tasks_bases_end joins it, or computes them as tasks when no thread was started.
 *
 * The candidates come from the trained pass (pwmcc_maxes_also, pairwork's slots) or, for a pair
 * read from its pair cache or beyond the slots, from a pass of their own here (the same panels,
 * the same bits: analyze.h, match_candidates).
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"

void pair_tasks_release(struct pair_tasks *x)
{
	if (x->th_running)
		thrd_join(x->th, NULL);
	free(x->brc), free(x->berr);
	for (size_t i = 0; x->U && i < x->n; i++)
		free(x->U[i]);
	free(x->U), free(x->pi), free(x->pj), free(x->so), free(x->perm), free(x->sim);
	memset(x, 0, sizeof(*x));
}

int pair_tasks_init(struct pair_tasks *x, const struct mset *t, size_t k, size_t chunk,
                    struct hus_err *err)
{
	memset(x, 0, sizeof(*x));
	x->n = t->n, x->k = k, x->chunk = chunk;
	x->np = t->n < 2 ? 0 : t->n * (t->n - 1) / 2;
	for (size_t i = 0; i < t->n; i++)
		x->mmax = t->m[i] > x->mmax ? t->m[i] : x->mmax;
	size_t slots = 2 * (chunk ? chunk : 1);
	x->U = calloc(t->n ? t->n : 1, sizeof(double *));
	x->pi = malloc(sizeof(size_t) * (x->np ? x->np : 1));
	x->pj = malloc(sizeof(size_t) * (x->np ? x->np : 1));
	x->so = calloc(slots, sizeof(*x->so));
	x->perm = malloc(sizeof(int32_t) * slots * (x->mmax ? x->mmax : 1));
	x->sim = malloc(sizeof(float) * slots * (x->mmax ? x->mmax : 1));
	x->brc = calloc(t->n ? t->n : 1, sizeof(int));
	x->berr = calloc(t->n ? t->n : 1, sizeof(struct hus_err));
	int ok = x->U && x->pi && x->pj && x->so && x->perm && x->sim && x->brc && x->berr;
	for (size_t i = 0; ok && k && i < t->n; i++)
		ok = (x->U[i] = malloc(sizeof(double) * t->d * k)) != NULL;
	if (!ok) {
		pair_tasks_release(x);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for pair metrics");
	}
	pairs_index(x->pi, x->pj, t->n);
	return 0;
}

int32_t *pair_tasks_perm(const struct pair_tasks *x, size_t p0, size_t p, int kind)
{
	return x->perm + (2 * (p - p0) + (size_t)kind) * x->mmax;
}

float *pair_tasks_sim(const struct pair_tasks *x, size_t p0, size_t p, int kind)
{
	return x->sim + (2 * (p - p0) + (size_t)kind) * x->mmax;
}

/* the bases, one model after another, on their own thread (its own products single-threaded:
 * the other threads are the trained pass's) */
static int bases_thread(void *arg)
{
	struct pair_tasks *x = arg;
	omp_set_num_threads(1);
	for (size_t i = 0; i < x->n; i++)
		x->brc[i] = subspace_basis_t(x->U[i], x->t->At[i], x->t->d, x->t->m[i], x->k,
		                             &x->berr[i]);
	atomic_store(&x->bases_done, 1);
	return 0;
}

int pair_tasks_bases_begin(struct pair_tasks *x, const struct mset *t)
{
	x->t = t;
	if (!x->k || t->n < 2 || t->d < 256 || omp_get_max_threads() < 2)
		return 0;
	atomic_store(&x->bases_done, 0);
	if (thrd_create(&x->th, bases_thread, x) != thrd_success)
		return 0; /* no thread: pair_tasks_bases_end computes them as tasks */
	x->th_running = 1;
	return 1;
}

int pair_tasks_bases_finished(struct pair_tasks *x)
{
	return !x->th_running || atomic_load(&x->bases_done);
}

/* the first failing basis in model order, named by its checkpoint */
static int bases_report(const struct pair_tasks *x, const struct mset *t, struct hus_err *err)
{
	for (size_t i = 0; i < x->n; i++) {
		if (!x->brc[i])
			continue;
		if (err)
			*err = x->berr[i];
		if (err && t->file[i]) {
			snprintf(err->file, sizeof(err->file), "%s", t->file[i]);
			snprintf(err->where, sizeof(err->where), "/params/W_dec");
		}
		return x->brc[i];
	}
	return 0;
}

int pair_tasks_bases_end(struct pair_tasks *x, const struct mset *t, struct hus_err *err)
{
	if (!x->th_running)
		return 0;
	thrd_join(x->th, NULL);
	x->th_running = 0;
	x->bases_ready = 1;
	return bases_report(x, t, err);
}

/* one task: model `task`'s basis (task < nb), else assignment `task - nb` of the chunk's list */
struct task_ctx {
	const struct pair_tasks *x;
	const struct mset *t;
	const struct pairwork *w;
	const size_t *lap_pair; /* pair of each assignment task (two per pair: |cos|, signed) */
	size_t p0, nb;
	double thr;
};

static int run_task(const struct task_ctx *c, size_t task, struct hus_err *err)
{
	const struct pair_tasks *x = c->x;
	const struct mset *t = c->t;
	if (task < c->nb)
		return subspace_basis_t(x->U[task], t->At[task], t->d, t->m[task], x->k, err);
	size_t l = task - c->nb, p = c->lap_pair[l / 2], slot = p - c->p0;
	int kind = (int)(l % 2);
	size_t i = x->pi[p], j = x->pj[p];
	size_t K = c->w->cand_K < t->m[j] ? c->w->cand_K : t->m[j], off = slot * c->w->cand_stride;
	return match_sparse_kind(&x->so[2 * slot + (size_t)kind], pair_tasks_perm(x, c->p0, p, kind),
	                         pair_tasks_sim(x, c->p0, p, kind),
	                         (kind ? c->w->cand_sgn : c->w->cand_abs) + off,
	                         (kind ? c->w->cval_sgn : c->w->cval_abs) + off, t->m[i], t->m[j], K,
	                         kind, c->thr, err);
}

int pair_tasks_solve(struct pair_tasks *x, const struct mset *t, struct pairwork *w, size_t p0,
                     size_t p1, int bases, int sparse, double thr, struct hus_err *err)
{
	size_t d = t->d, nb = bases && x->k && !x->bases_ready ? x->n : 0, nl = 0;
	size_t *lap_pair = malloc(sizeof(size_t) * (p1 > p0 ? p1 - p0 : 1));
	if (!lap_pair)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for pair metrics");
	int rc = 0;
	/* candidates of the chunk's pairs that the trained pass did not fold */
	for (size_t p = p0; p < p1 && sparse && !rc; p++) {
		size_t i = x->pi[p], j = x->pj[p], slot = p - p0;
		if (t->m[i] > t->m[j])
			continue; /* rows must not outnumber columns: left out (trained_extras counts it) */
		lap_pair[nl++] = p;
		if (p < w->cand_slots && w->cand_done[p])
			continue;
		size_t K = w->cand_K < t->m[j] ? w->cand_K : t->m[j], off = slot * w->cand_stride;
		rc = match_candidates(w->cand_abs + off, w->cval_abs + off, w->cand_sgn + off,
		                      w->cval_sgn + off, t->At[i], t->At[j], d, t->m[i], t->m[j], K,
		                      err);
		if (!rc)
			analysis_progress_step(w, d, t->m[i], t->m[j]);
	}
	size_t ntask = nb + 2 * nl;
	int *trc = calloc(ntask ? ntask : 1, sizeof(int));
	struct hus_err *terr = calloc(ntask ? ntask : 1, sizeof(struct hus_err));
	if (!rc && (!trc || !terr))
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for pair metrics");
	if (!rc) {
		struct task_ctx c = { x, t, w, lap_pair, p0, nb, thr };
		/* dynamic: the bases (the longest) are taken first, the assignments fill in */
#pragma omp parallel for schedule(dynamic, 1) if (ntask > 1 && (d >= 256 || nl))
		for (size_t task = 0; task < ntask; task++) {
			if (task < nb)
				x->brc[task] = run_task(&c, task, &x->berr[task]);
			else
				trc[task] = run_task(&c, task, &terr[task]);
		}
		if (nb) {
			x->bases_ready = 1;
			rc = bases_report(x, t, err);
		}
		for (size_t task = nb; task < ntask && !rc; task++)
			if ((rc = trc[task]) && err)
				*err = terr[task];
	}
	free(trc), free(terr), free(lap_pair);
	return rc;
}
