/*
 * sae_trainer.c — the multi-seed SAE trainer over an in-memory activation matrix X (N, d).
 * Every run (seed × condition) advances one optimizer step per outer step; with the default
 * shared batch order the batch is gathered from X once and every model trains on it, so one
 * pass over the data updates them all.  A run's arithmetic never reads another run's state,
 * so each result is bit-identical to training that seed alone.
 *
 * Invariants:
 *  (1) a run's order stream is seeded from shuffle_seed (+ its seed with per_seed_order) and
 *      draws one Fisher–Yates permutation per epoch, so batch order is independent of init;
 *  (2) (epoch, pos, step, order stream, perm, moments, counters, history) is the whole state:
 *      saving and reloading it continues the run to the same bits (formats/artifact_sae.c);
 *  (3) metrics are evaluated over all of X at each epoch end (docs/formulas.md §4.7 a.5, §4.8).
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "sae_internal.h"

const char *const sae_history_names[9] = {
	"loss", "mse", "l0", "l1", "explained_variance", "ev_fvu", "dead_latents", "step", "aux",
};

int64_t sae_steps_per_epoch(size_t N, size_t B, int drop_last)
{
	if (B == 0)
		return 0;
	return drop_last ? (int64_t)(N / B) : (int64_t)((N + B - 1) / B);
}

int64_t sae_total_steps(size_t N, const struct sae_train_opts *o)
{
	if (o->max_steps > 0)
		return o->max_steps;
	return o->epochs * sae_steps_per_epoch(N, o->batch, o->drop_last);
}

/* uniform integer in [0, n) by rejection on 32-bit draws (n < 2^32) */
static uint32_t uniform_below(struct mt19937 *g, uint32_t n)
{
	if (n <= 1)
		return 0;
	uint64_t lim = 0x100000000ull - (0x100000000ull % n); /* accept r < lim */
	for (;;) {
		uint32_t r = mt_next32(g);
		if ((uint64_t)r < lim)
			return r % n;
	}
}

void sae_shuffle(int64_t *perm, size_t N, struct mt19937 *g)
{
	for (size_t i = 0; i < N; i++)
		perm[i] = (int64_t)i;
	sae_permute(perm, N, g);
}

void sae_permute(int64_t *perm, size_t N, struct mt19937 *g)
{
	for (size_t i = N; i > 1; i--) { /* Fisher–Yates, from the end */
		size_t j = uniform_below(g, (uint32_t)i);
		int64_t t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}

int sae_history_push(struct sae_history *h, const double row[9])
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		for (int c = 0; c < 9; c++) {
			double *p = realloc(h->v[c], cap * sizeof(double));
			if (!p)
				return HUS_ENOMEM;
			h->v[c] = p;
		}
		h->cap = cap;
	}
	for (int c = 0; c < 9; c++)
		h->v[c][h->n] = row[c];
	h->n++;
	return 0;
}

void sae_history_release(struct sae_history *h)
{
	for (int c = 0; c < 9; c++)
		free(h->v[c]);
	memset(h, 0, sizeof(*h));
}

int sae_run_init(struct sae_run *r, struct sae_model *s, size_t N,
                 const struct sae_train_opts *o, struct hus_err *err)
{
	memset(r, 0, sizeof(*r));
	r->s = s;
	r->condition = "";
	r->perm = malloc((N ? N : 1) * sizeof(int64_t));
	r->final_counts = calloc(s->h.d_sae ? s->h.d_sae : 1, sizeof(int64_t));
	if (!r->perm || !r->final_counts) {
		free(r->perm);
		free(r->final_counts);
		r->perm = NULL;
		r->final_counts = NULL;
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a batch order");
	}
	int rc = sae_work_alloc(&r->w, &s->h, o->batch, err);
	if (rc) {
		free(r->perm);
		free(r->final_counts);
		r->perm = NULL;
		r->final_counts = NULL;
		return rc;
	}
	uint64_t os = o->shuffle_seed + (o->per_seed_order ? s->seed : 0);
	mt_seed(&r->order, (uint32_t)(os & 0xffffffffu));
	if (sae_order_draw(r->perm, N, o, &r->order)) {
		sae_run_release(r);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a batch order");
	}
	return 0;
}

void sae_run_release(struct sae_run *r)
{
	free(r->perm);
	free(r->final_counts);
	r->final_counts = NULL;
	sae_work_free(r->w);
	sae_history_release(&r->hist);
	r->perm = NULL;
	r->w = NULL;
}

static void gather(float *xb, const float *X, const int64_t *perm, size_t pos, size_t B, size_t d)
{
	for (size_t b = 0; b < B; b++)
		memcpy(xb + b * d, X + (size_t)perm[pos + b] * d, d * sizeof(float));
}

/* end of an epoch: metrics over X (mt), history row, counters reset, next permutation; after
 * the last step the same evaluation is the run's final one (with the firing counts) */
static int epoch_close(struct sae_run *r, struct sae_metrics mt, size_t N,
                       const struct sae_train_opts *o, int last)
{
	struct sae_model *s = r->s;
	if (last) {
		r->final = mt;
		r->have_final = 1;
	}
	int64_t dead = 0;
	for (size_t j = 0; j < s->h.d_sae; j++) {
		dead += s->epoch_fired[j] < s->h.dead_threshold;
		s->epoch_fired[j] = 0;
	}
	double nb = r->ep_batches ? (double)r->ep_batches : 1.0;
	double row[9] = { r->ep_loss / nb, mt.mse, mt.l0, mt.l1, mt.explained_variance,
			  mt.ev_fvu, (double)dead, (double)s->step, r->ep_aux / nb };
	if (sae_history_push(&r->hist, row))
		return HUS_ENOMEM;
	r->ep_loss = r->ep_aux = 0;
	r->ep_batches = 0;
	r->epoch++;
	r->pos = 0;
	return sae_order_draw(r->perm, N, o, &r->order);
}

static int end_epoch(struct sae_run *r, const float *X, size_t N, const struct sae_xstats *xs,
                     const struct sae_train_opts *o, int last)
{
	struct sae_metrics mt;
	sae_eval(r->s, r->w, X, N, xs, &mt, last ? r->final_counts : NULL);
	return epoch_close(r, mt, N, o, last);
}

/* One optimizer step of run r on the batch at its position; xb caches the last batch gathered
 * into it as (*g_epoch, *g_pos), so runs in lockstep on a shared order gather it once.  A
 * streamed set (X NULL) gives the batch in xb already and defers the evaluations an epoch's end
 * or the last step asks for to one pass over the file for every run (*pending 1: epoch end,
 * 2: the final evaluation alone). */
static int run_step(struct sae_run *r, const float *X, size_t N, const struct sae_xstats *xs,
                    const struct sae_train_opts *o, int64_t total, float *xb, int64_t *g_epoch,
                    int64_t *g_pos, int *pending)
{
	struct sae_model *s = r->s;
	size_t d = s->h.d_model, Bmax = o->batch, pos = (size_t)r->pos;
	size_t B = N - pos < Bmax ? N - pos : Bmax;
	if (X && (o->per_seed_order || *g_epoch != r->epoch || *g_pos != r->pos)) {
		gather(xb, X, r->perm, pos, B, d);
		*g_epoch = r->epoch;
		*g_pos = r->pos;
	}
	struct sae_step_stats st;
	sae_step(s, r->w, xb, B, &st);
	r->last_loss = st.loss;
	r->ep_loss += st.loss;
	r->ep_aux += st.aux;
	r->ep_batches++;
	r->pos += (int64_t)B;
	size_t next = (size_t)r->pos;
	int epoch_end = next >= N || (o->drop_last && N - next < Bmax);
	if (!X) {
		*pending = epoch_end ? 1 : s->step >= total ? 2 : 0;
		return 0;
	}
	if (epoch_end && end_epoch(r, X, N, xs, o, s->step >= total))
		return HUS_ENOMEM;
	if (s->step >= total && !epoch_end) {
		sae_eval(s, r->w, X, N, xs, &r->final, r->final_counts);
		r->have_final = 1;
	}
	return 0;
}

/* The evaluations the runs' last steps deferred (a streamed set): one pass over the file for
 * all of them, then each epoch's close, as end_epoch does in memory. */
static int finish_pending(struct sae_run *runs, size_t n_runs, struct sae_stream *st,
                          const int *pending, int64_t *const *scratch,
                          const struct sae_train_opts *o, int64_t total, struct sae_metrics *mt,
                          int64_t **counts, struct hus_err *err)
{
	size_t N = sae_stream_rows(st);
	int any = 0;
	for (size_t i = 0; i < n_runs; i++) {
		int last = runs[i].s->step >= total;
		counts[i] = last ? runs[i].final_counts : scratch[i];
		any |= pending[i];
	}
	if (!any)
		return 0;
	int rc = sae_stream_eval(st, runs, n_runs, pending, counts, mt, err);
	for (size_t i = 0; i < n_runs && !rc; i++) {
		struct sae_run *r = &runs[i];
		int last = r->s->step >= total;
		if (pending[i] == 1 && epoch_close(r, mt[i], N, o, last))
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for the metrics history");
		if (pending[i] == 2) {
			r->final = mt[i];
			r->have_final = 1;
		}
	}
	return rc;
}

/*
 * Threads: with several runs, whole runs go to threads (each step single-threaded inside), which
 * beats splitting every small step across threads; with fewer runs than would balance, each
 * step is split instead.  A run's arithmetic is the same either way (every kernel gives the
 * same bits on any thread count), so the choice never changes a result.  X is the matrix in
 * memory, or NULL with st the streamed set (one batch order shared by every run).
 */
static int train_loop(struct sae_run *runs, size_t n_runs, const float *X, struct sae_stream *st,
                      size_t N, const struct sae_train_opts *o, sae_hook_fn hook, void *ctx,
                      struct hus_err *err)
{
	if (n_runs == 0)
		return 0;
	if (N == 0)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "no activation rows to train on");
	size_t d = runs[0].s->h.d_model, Bmax = o->batch;
	if (Bmax == 0)
		return hus_errf(err, HUS_EINPUT, NULL, "sae.batch_size", "expected a batch size >= 1");
	if (o->drop_last && N < Bmax)
		return hus_errf(err, HUS_EINPUT, NULL, "sae.drop_last",
				"drop_last with batch %zu > %zu rows leaves no step", Bmax, N);
	if (st && o->per_seed_order && n_runs > 1)
		return hus_errf(err, HUS_EINPUT, NULL, "sae.per_seed_order",
				"a streamed set is read in one order shared by every run");
	size_t m_all = 0;
	for (size_t i = 0; i < n_runs; i++) {
		if (runs[i].s->h.d_model != d)
			return hus_errf(err, HUS_EINPUT, NULL, NULL, "runs disagree on d_model");
		m_all += runs[i].s->h.d_sae;
	}
	int64_t total = sae_total_steps(N, o);
	size_t nth = (size_t)omp_get_max_threads();
	int by_run = nth > 1 && n_runs > 1 && (n_runs >= 2 * nth || n_runs % nth == 0);
	size_t nbuf = st ? 1 : by_run ? nth : 1;
	float *xbs = malloc(nbuf * Bmax * d * sizeof(float));
	int64_t *cache = malloc(2 * nbuf * sizeof(int64_t)); /* (epoch, pos) in each buffer */
	int *pending = calloc(n_runs, sizeof(int));
	int64_t *scratch = st ? malloc((m_all ? m_all : 1) * sizeof(int64_t)) : NULL;
	struct sae_metrics *mt = calloc(n_runs, sizeof(*mt));
	int64_t **counts = calloc(2 * n_runs, sizeof(*counts)), **scr = counts + n_runs;
	struct sae_xstats xs;
	int bad = !xbs || !cache || !pending || !mt || !counts || (st && !scratch);
	if (!bad && st)
		xs = *sae_stream_xstats(st);
	else if (!bad)
		bad = sae_xstats_of(&xs, X, N, d) != 0;
	if (bad) {
		free(xbs), free(cache), free(pending), free(scratch), free(mt), free(counts);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a batch");
	}
	/* the runs' d_sae differ by condition: each one's scratch counts start at its offset */
	for (size_t i = 0, off = 0; st && i < n_runs; off += runs[i].s->h.d_sae, i++)
		scr[i] = scratch + off;
	int rc = 0;
	for (;;) {
		int any = 0, fail = 0;
		size_t lead = n_runs;
		for (size_t i = 0; i < n_runs; i++) {
			any |= runs[i].s->step < total;
			if (runs[i].s->step < total && lead == n_runs)
				lead = i;
			pending[i] = 0;
		}
		if (!any)
			break;
		for (size_t q = 0; q < 2 * nbuf; q++)
			cache[q] = -1;
		if (st) { /* one batch for every run (they step in lockstep on one order) */
			size_t pos = (size_t)runs[lead].pos, B = N - pos < Bmax ? N - pos : Bmax;
			if ((rc = sae_stream_batch(st, &runs[lead], B, xbs, err)))
				break;
		}
		if (by_run) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth)
			for (size_t i = 0; i < n_runs; i++) {
				size_t t = st ? 0 : (size_t)omp_get_thread_num();
				if (runs[i].s->step < total &&
				    run_step(&runs[i], X, N, &xs, o, total, xbs + t * Bmax * d,
					     &cache[2 * t], &cache[2 * t + 1], &pending[i]))
#pragma omp atomic write
					fail = 1;
			}
		} else {
			for (size_t i = 0; i < n_runs && !fail; i++)
				if (runs[i].s->step < total)
					fail = run_step(&runs[i], X, N, &xs, o, total, xbs, &cache[0],
							&cache[1], &pending[i]);
		}
		if (fail) {
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for the metrics history");
			break;
		}
		if (st && (rc = finish_pending(runs, n_runs, st, pending, scr, o, total, mt, counts,
					       err)))
			break;
		int final = 1;
		for (size_t i = 0; i < n_runs; i++)
			final &= runs[i].s->step >= total;
		if (hook && (rc = hook(ctx, runs, n_runs, final)))
			break;
		if (final)
			break;
	}
	free(xbs), free(cache), free(pending), free(scratch), free(mt), free(counts);
	return rc;
}

int sae_train(struct sae_run *runs, size_t n_runs, const float *X, size_t N,
              const struct sae_train_opts *o, sae_hook_fn hook, void *ctx, struct hus_err *err)
{
	return train_loop(runs, n_runs, X, NULL, N, o, hook, ctx, err);
}

int sae_train_streamed(struct sae_run *runs, size_t n_runs, struct sae_stream *st,
                       const struct sae_train_opts *o, sae_hook_fn hook, void *ctx,
                       struct hus_err *err)
{
	return train_loop(runs, n_runs, NULL, st, sae_stream_rows(st), o, hook, ctx, err);
}
