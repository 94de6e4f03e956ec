/*
 * sae_batches.c — where an SAE trainer's rows come from when the activation set may not fit in
 * memory (docs/reproducibility.md "Training larger than memory"): the block shuffle, the memory
 * plan (whole matrix in memory, or streamed), and the streamed source: a cache of logical
 * blocks of rows filled by a prefetching reader thread, plus the in-order passes the statistics
 * and the metrics need.
 *
 * The order is a function of the settings and the seed alone (sae.shuffle: blocks,
 * shuffle_block B rows, shuffle_window W blocks): permute the ceil(N/B) blocks, cut the result
 * into windows of W blocks, permute the rows of each window; every draw comes from the run's
 * MT19937 order stream, in that sequence.  The cache only decides when rows are read, never
 * which rows a batch holds, so a set trained streamed or loaded whole gives the same bytes
 * whatever the memory setting.
 *
 * The reader thread loads blocks in the order of their first use in the epoch and frees a
 * block once the trainer has passed its last use; a batch needs at most (ceil(batch/(W B)) + 1)
 * W blocks at once (it touches that many windows), which is what the memory must hold.  libhdf5
 * here is built thread-safe; reads of the set are also serialised by `io` below.
 */
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sae_internal.h"

int sae_order_draw(int64_t *perm, size_t N, const struct sae_train_opts *o, struct mt19937 *g)
{
	if (!o->shuffle_blocks) {
		sae_shuffle(perm, N, g);
		return 0;
	}
	size_t Bk = o->block_rows, W = o->window_blocks, nb = (N + Bk - 1) / Bk, pos = 0;
	int64_t *bp = malloc((nb ? nb : 1) * sizeof(int64_t));
	if (!bp)
		return HUS_ENOMEM;
	sae_shuffle(bp, nb, g); /* the blocks' order */
	for (size_t w0 = 0; w0 < nb; w0 += W) {
		size_t start = pos;
		for (size_t j = w0; j < nb && j < w0 + W; j++) {
			size_t r0 = (size_t)bp[j] * Bk, r1 = r0 + Bk < N ? r0 + Bk : N;
			for (size_t r = r0; r < r1; r++)
				perm[pos++] = (int64_t)r;
		}
		sae_permute(perm + start, pos - start, g); /* the rows inside this window */
	}
	free(bp);
	return 0;
}

/* ------------------------------------------------------------------ memory plan -------- */

static size_t blocks_at_once(const struct sae_train_opts *o, size_t nb)
{
	size_t wr = o->block_rows * o->window_blocks;
	size_t need = ((o->batch + wr - 1) / wr + 1) * o->window_blocks;
	return need < nb ? need : nb;
}

static void fmt_bytes(char *buf, size_t n, double b)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	while (b >= 1024 && i < 4)
		b /= 1024, i++;
	snprintf(buf, n, "%.1f %s", b, u[i]);
}

int sae_memory_plan(size_t budget, size_t N, size_t d, size_t n_runs,
                    const struct sae_train_opts *o, const char *path, size_t *nslots,
                    struct hus_err *err)
{
	*nslots = 0;
	size_t row = d * sizeof(float), nth = (size_t)omp_get_max_threads();
	size_t batches = (nth + 2) * o->batch * row;     /* gather buffers and the pass piece */
	size_t orders = n_runs * N * sizeof(int64_t);     /* each run's order of the epoch */
	size_t whole = N * row + orders + batches;
	if (budget == 0 || whole <= budget)
		return 0;
	char have[32], want[32], set[32];
	fmt_bytes(have, sizeof(have), (double)budget);
	fmt_bytes(set, sizeof(set), (double)N * (double)row);
	if (!o->shuffle_blocks)
		return hus_errf(err, HUS_EINPUT, path, NULL,
				"the activation set (%s) does not fit in the memory setting (%s) with "
				"sae.shuffle: rows, whose batches draw rows from the whole set; set "
				"sae.shuffle: blocks to stream it from disk (docs/reproducibility.md), or "
				"raise the memory setting",
				set, have);
	if (o->per_seed_order && n_runs > 1)
		return hus_errf(err, HUS_EINPUT, path, NULL,
				"a streamed activation set is read in one order shared by every run; "
				"sae.per_seed_order gives each seed its own: unset it or raise the memory "
				"setting to %zu bytes so the set is loaded whole", whole);
	size_t nb = (N + o->block_rows - 1) / o->block_rows, blk = o->block_rows * row;
	size_t fixed = orders + batches + 5 * nb * sizeof(int64_t) +
		       (N / o->batch + 2) * sizeof(int64_t);
	size_t least = blocks_at_once(o, nb), need = fixed + least * blk;
	if (budget < need) {
		fmt_bytes(want, sizeof(want), (double)need);
		return hus_errf(err, HUS_EINPUT, path, NULL,
				"the memory setting (%s) is too small to stream this set: one batch of "
				"%zu rows with shuffle windows of %zu blocks of %zu rows needs %s (%zu "
				"blocks held at once, the runs' batch orders and buffers); raise it, or "
				"lower sae.shuffle_window or sae.batch_size",
				have, o->batch, o->window_blocks, o->block_rows, want, least);
	}
	*nslots = (budget - fixed) / blk; /* every block the budget holds: the rest prefetches */
	if (*nslots > nb)
		*nslots = nb;
	return 0;
}

int sae_memory_parse(const char *text, size_t *bytes, const char *where, struct hus_err *err)
{
	char *end;
	double v = strtod(text, &end);
	double mult = 1;
	switch (*end) {
	case 'k': case 'K': mult = 1024.0; end++; break;
	case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'i' && end[-1] != 0 && mult > 1)
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (end == text || *end || !(v > 0) || v * mult > 1e18)
		return hus_errf(err, HUS_EUSAGE, where, NULL,
				"'%s' is not a memory size: expected a positive number of bytes with an "
				"optional K, M, G or T suffix (powers of 1024), e.g. 4G",
				text);
	*bytes = (size_t)(v * mult);
	return 0;
}

/* ------------------------------------------------------------------ the stream --------- */

struct sae_stream {
	struct acts_rows *src;
	char path[4096];
	size_t N, d, Bk, nb, nslots, batch;
	float *slots;         /* nslots blocks of Bk rows */
	int64_t *slot_block;  /* (nslots) the block a slot holds, -1 none */
	int64_t *block_slot;  /* (nb) the slot holding a block, -1 not loaded */
	int64_t *first, *last, *order; /* (nb) this epoch's plan: first/last use, load order */
	size_t n_order, next; /* the next entry of order to load */
	int64_t cpos;         /* the trainer has consumed every position before cpos */
	int64_t planned;      /* the epoch planned (-1 none); a tag for in-flight loads */
	int stop, failed;
	struct hus_err ioerr;
	pthread_mutex_t mu, io;
	pthread_cond_t cv;
	pthread_t th;
	int started;
	float *piece;         /* (batch, d) for the in-order passes */
	struct sae_xstats xs;
};

static int read_rows(struct sae_stream *st, size_t r0, size_t n, float *out, struct hus_err *err)
{
	pthread_mutex_lock(&st->io);
	int rc = acts_rows_read(st->src, r0, n, out, err);
	pthread_mutex_unlock(&st->io);
	return rc;
}

static void *prefetch(void *arg)
{
	struct sae_stream *st = arg;
	pthread_mutex_lock(&st->mu);
	while (!st->stop) {
		while (st->next < st->n_order &&
		       (st->last[st->order[st->next]] < st->cpos || st->block_slot[st->order[st->next]] >= 0))
			st->next++;
		int64_t slot = -1;
		for (size_t s = 0; st->next < st->n_order && s < st->nslots && slot < 0; s++)
			if (st->slot_block[s] < 0 || st->last[st->slot_block[s]] < st->cpos)
				slot = (int64_t)s;
		if (st->failed || slot < 0) {
			pthread_cond_wait(&st->cv, &st->mu);
			continue;
		}
		int64_t b = st->order[st->next], tag = st->planned;
		if (st->slot_block[slot] >= 0)
			st->block_slot[st->slot_block[slot]] = -1;
		st->slot_block[slot] = -1;
		pthread_mutex_unlock(&st->mu);
		size_t r0 = (size_t)b * st->Bk, n = r0 + st->Bk < st->N ? st->Bk : st->N - r0;
		struct hus_err e = { 0 };
		int rc = read_rows(st, r0, n, st->slots + (size_t)slot * st->Bk * st->d, &e);
		pthread_mutex_lock(&st->mu);
		if (rc) {
			st->failed = rc;
			st->ioerr = e;
		} else if (tag == st->planned) { /* else a new epoch was planned meanwhile: drop it */
			st->slot_block[slot] = b;
			st->block_slot[b] = slot;
			st->next++;
		}
		pthread_cond_broadcast(&st->cv);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

void sae_stream_close(struct sae_stream *st)
{
	if (!st)
		return;
	if (st->started) {
		pthread_mutex_lock(&st->mu);
		st->stop = 1;
		pthread_cond_broadcast(&st->cv);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->th, NULL);
	}
	if (st->started >= 0) {
		pthread_mutex_destroy(&st->mu);
		pthread_mutex_destroy(&st->io);
		pthread_cond_destroy(&st->cv);
	}
	acts_rows_close(st->src);
	free(st->slots), free(st->slot_block), free(st->block_slot);
	free(st->first), free(st->last), free(st->order), free(st->piece);
	free(st);
}

/* X's statistics in two in-order passes (each row checked finite on the way), the same bits as
 * sae_xstats_of on the whole matrix */
static int stream_xstats(struct sae_stream *st, struct hus_err *err)
{
	double *mean_j = malloc(st->d * sizeof(double));
	if (!mean_j)
		return hus_errf(err, HUS_ENOMEM, st->path, NULL, "out of memory");
	struct sae_xstats_acc a;
	sae_xstats_begin(&a, mean_j, st->d);
	int rc = 0;
	for (int pass = 1; pass <= 2 && !rc; pass++) {
		for (size_t r0 = 0; r0 < st->N && !rc; r0 += st->batch) {
			size_t n = st->N - r0 < st->batch ? st->N - r0 : st->batch;
			if (!(rc = read_rows(st, r0, n, st->piece, err)))
				(pass == 1 ? sae_xstats_pass1 : sae_xstats_pass2)(&a, st->piece, n);
		}
		if (pass == 1)
			sae_xstats_mid(&a);
	}
	sae_xstats_end(&a, &st->xs);
	free(mean_j);
	return rc;
}

int sae_stream_open(struct sae_stream **out, const char *path, size_t nslots,
                    const struct sae_train_opts *o, struct hus_err *err)
{
	struct sae_stream *st = calloc(1, sizeof(*st));
	if (!st)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	st->started = -1;
	snprintf(st->path, sizeof(st->path), "%s", path);
	int rc = acts_rows_open(&st->src, path, &st->N, &st->d, err);
	if (rc) {
		sae_stream_close(st);
		return rc;
	}
	st->Bk = o->block_rows;
	st->batch = o->batch;
	st->nb = (st->N + st->Bk - 1) / st->Bk;
	st->nslots = nslots;
	st->planned = -1;
	size_t nb = st->nb;
	st->slots = malloc(nslots * st->Bk * st->d * sizeof(float));
	st->slot_block = malloc(nslots * sizeof(int64_t));
	st->block_slot = malloc(nb * sizeof(int64_t));
	st->first = malloc(nb * sizeof(int64_t));
	st->last = malloc(nb * sizeof(int64_t));
	st->order = malloc(nb * sizeof(int64_t));
	st->piece = malloc(st->batch * st->d * sizeof(float));
	if (!st->slots || !st->slot_block || !st->block_slot || !st->first || !st->last ||
	    !st->order || !st->piece) {
		sae_stream_close(st);
		return hus_errf(err, HUS_ENOMEM, path, NULL,
				"out of memory for the stream's %zu blocks of %zu rows", nslots, st->Bk);
	}
	for (size_t s = 0; s < nslots; s++)
		st->slot_block[s] = -1;
	for (size_t b = 0; b < nb; b++)
		st->block_slot[b] = -1;
	pthread_mutex_init(&st->mu, NULL);
	pthread_mutex_init(&st->io, NULL);
	pthread_cond_init(&st->cv, NULL);
	st->started = 0;
	if ((rc = stream_xstats(st, err))) {
		sae_stream_close(st);
		return rc;
	}
	pthread_attr_t attr; /* a small stack: address space is what a memory limit counts */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, (size_t)1 << 20);
	int bad = pthread_create(&st->th, &attr, prefetch, st);
	pthread_attr_destroy(&attr);
	if (bad) {
		sae_stream_close(st);
		return hus_errf(err, HUS_ENOMEM, path, NULL, "cannot start the reader thread");
	}
	st->started = 1;
	*out = st;
	return 0;
}

size_t sae_stream_rows(const struct sae_stream *st) { return st->N; }
size_t sae_stream_width(const struct sae_stream *st) { return st->d; }
const struct sae_xstats *sae_stream_xstats(const struct sae_stream *st) { return &st->xs; }

/* A new epoch's order: each block's first and last use and the load order (first uses in
 * order), from position pos on (a resumed epoch skips what it has consumed).  Loaded blocks
 * are dropped: their slots are refilled in the new order. */
static int stream_plan(struct sae_stream *st, const int64_t *perm, int64_t pos, int64_t epoch,
                       struct hus_err *err)
{
	pthread_mutex_lock(&st->mu);
	size_t nb = st->nb, B = st->batch, nbat = st->N / B + 2, peak = 0;
	for (size_t b = 0; b < nb; b++)
		st->first[b] = -1, st->block_slot[b] = -1;
	for (size_t s = 0; s < st->nslots; s++)
		st->slot_block[s] = -1;
	st->n_order = 0;
	for (size_t i = 0; i < st->N; i++) {
		int64_t b = perm[i] / (int64_t)st->Bk;
		if (st->first[b] < 0) {
			st->first[b] = (int64_t)i;
			st->order[st->n_order++] = b;
		}
		st->last[b] = (int64_t)i;
	}
	/* the most blocks one batch needs at once (a batch [kB, kB+B) needs every block used in
	 * it or used both before and after it): must fit the slots, or the reader would stall */
	int64_t *live = calloc(nbat, sizeof(int64_t));
	if (live) {
		for (size_t b = 0; b < nb; b++) {
			live[(size_t)st->first[b] / B]++;
			live[(size_t)st->last[b] / B + 1]--;
		}
		int64_t run = 0;
		for (size_t k = 0; k < nbat; k++) {
			run += live[k];
			if ((size_t)run > peak)
				peak = (size_t)run;
		}
		free(live);
	}
	st->next = 0;
	st->cpos = pos;
	st->planned = epoch;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	if (!live)
		return hus_errf(err, HUS_ENOMEM, st->path, NULL, "out of memory");
	if (peak > st->nslots)
		return hus_errf(err, HUS_EINTERNAL, st->path, NULL,
				"epoch %lld's order needs %zu blocks at once, the stream holds %zu",
				(long long)epoch, peak, st->nslots);
	return 0;
}

/* rows perm[pos .. pos+n) into out, waiting for the reader where it has not loaded them yet */
static int stream_gather(struct sae_stream *st, const int64_t *perm, size_t pos, size_t n,
                         float *out, struct hus_err *err)
{
	size_t d = st->d;
	pthread_mutex_lock(&st->mu);
	if ((int64_t)pos > st->cpos) {
		st->cpos = (int64_t)pos;
		pthread_cond_broadcast(&st->cv);
	}
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		int64_t b = perm[pos + i] / (int64_t)st->Bk;
		while (st->block_slot[b] < 0 && !st->failed)
			pthread_cond_wait(&st->cv, &st->mu);
		if (st->failed) {
			*err = st->ioerr;
			rc = st->failed;
			break;
		}
		size_t off = (size_t)(perm[pos + i] % (int64_t)st->Bk);
		memcpy(out + i * d, st->slots + ((size_t)st->block_slot[b] * st->Bk + off) * d,
		       d * sizeof(float));
	}
	st->cpos = (int64_t)(pos + n); /* the batch is copied: its blocks may go */
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int sae_stream_batch(struct sae_stream *st, const struct sae_run *lead, size_t n, float *out,
                     struct hus_err *err)
{
	int rc = 0;
	if (st->planned != lead->epoch)
		rc = stream_plan(st, lead->perm, lead->pos, lead->epoch, err);
	return rc ? rc : stream_gather(st, lead->perm, (size_t)lead->pos, n, out, err);
}

int sae_stream_eval(struct sae_stream *st, struct sae_run *runs, size_t n_runs, const int *which,
                    int64_t *const *counts, struct sae_metrics *mt, struct hus_err *err)
{
	struct sae_eval_acc *acc = calloc(n_runs, sizeof(*acc));
	if (!acc)
		return hus_errf(err, HUS_ENOMEM, st->path, NULL, "out of memory");
	for (size_t i = 0; i < n_runs; i++)
		if (which[i])
			sae_eval_begin(&acc[i], counts[i], runs[i].s->h.d_sae);
	int rc = 0;
	for (size_t r0 = 0; r0 < st->N && !rc; r0 += st->batch) { /* pieces of one batch: the tiles */
		size_t n = st->N - r0 < st->batch ? st->N - r0 : st->batch;
		if ((rc = read_rows(st, r0, n, st->piece, err)))
			break;
		for (size_t i = 0; i < n_runs; i++)
			if (which[i])
				sae_eval_rows(&acc[i], runs[i].s, runs[i].w, st->piece, n);
	}
	for (size_t i = 0; i < n_runs && !rc; i++)
		if (which[i])
			sae_eval_end(&acc[i], runs[i].s, st->d, &st->xs, &mt[i]);
	free(acc);
	return rc;
}

/* ------------------------------------------------------------------ the data of a training */

int sae_data_open(struct sae_data *D, const char *path, const char *memory_arg, struct cfg *c,
                  struct hus_err *err)
{
	memset(D, 0, sizeof(*D));
	D->path = path;
	const char *mem = memory_arg;
	int rc = 0;
	if (!mem && cfg_has(c, "sae.memory") && (rc = cfg_path(c, "sae.memory", "", &mem, err)))
		return rc;
	if (mem && (rc = sae_memory_parse(mem, &D->budget, memory_arg ? "--memory" : cfg_name(c),
					  err)))
		return rc;
	if (!D->budget) /* no limit: read whole now, as always */
		return sae_acts_load(path, &D->X, &D->N, &D->d, D->sha, err);
	struct acts_rows *a = NULL;
	uint64_t bytes;
	if ((rc = acts_rows_open(&a, path, &D->N, &D->d, err)))
		return rc;
	acts_rows_close(a);
	return hus_sha256_file(path, D->sha, &bytes, err);
}

int sae_data_ready(struct sae_data *D, size_t n_runs, const struct sae_train_opts *o,
                   struct hus_err *err)
{
	size_t nslots;
	int rc;
	if (D->X || D->st)
		return 0;
	if ((rc = sae_memory_plan(D->budget, D->N, D->d, n_runs, o, D->path, &nslots, err)))
		return rc;
	if (!nslots) { /* it fits: whole, the same bytes as streamed */
		size_t N, d;
		char sha[65];
		return sae_acts_load(D->path, &D->X, &N, &d, sha, err);
	}
	if ((rc = sae_stream_open(&D->st, D->path, nslots, o, err)))
		return rc;
	char set[32], cache[32];
	fmt_bytes(set, sizeof(set), (double)D->N * (double)D->d * sizeof(float));
	fmt_bytes(cache, sizeof(cache), (double)nslots * o->block_rows * D->d * sizeof(float));
	printf("train-sae: streaming the activation set (%s) through %zu blocks of %zu rows (%s); "
	       "memory setting %zu bytes\n", set, nslots, o->block_rows, cache, D->budget);
	return 0;
}

int sae_data_train(struct sae_data *D, struct sae_run *runs, size_t n_runs,
                   const struct sae_train_opts *o, sae_hook_fn hook, void *ctx,
                   struct hus_err *err)
{
	if (D->st)
		return sae_train_streamed(runs, n_runs, D->st, o, hook, ctx, err);
	return sae_train(runs, n_runs, D->X, D->N, o, hook, ctx, err);
}

void sae_data_release(struct sae_data *D)
{
	free(D->X);
	sae_stream_close(D->st);
	D->X = NULL;
	D->st = NULL;
}
