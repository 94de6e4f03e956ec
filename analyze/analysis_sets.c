/*
 * analysis_sets.c — the model sets of an analysis (trained checkpoints of a group, sampled
 * R1/R2 controls): loading and validating checkpoints in numerically sorted seed order (spec
 * §5.2), normalising their decoders once, every pair's PWMCC (with argmaxes and per-feature
 * sums when asked), and the pooled matrix of two sets for the permutation test.  Every product
 * of two decoders goes through pair_maxes, which numbers them in the order the analysis makes
 * them and reads or writes their pair caches (docs/reproducibility.md "Pairs as jobs").
 */
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"

/* ---------------------------------------------------------------- model sets -------- */


void mset_release(struct mset *s)
{
	for (size_t i = 0; s->At && i < s->n; i++)
		free(s->At[i]);
	for (size_t i = 0; s->file && i < s->n; i++)
		free(s->file[i]);
	free(s->At), free(s->seed), free(s->m), free(s->zeros), free(s->file), free(s->key);
	memset(s, 0, sizeof(*s));
}

int mset_alloc(struct mset *s, size_t n, size_t d, struct hus_err *err)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->d = d;
	s->seed = calloc(n ? n : 1, sizeof(int64_t));
	s->m = calloc(n ? n : 1, sizeof(size_t));
	s->At = calloc(n ? n : 1, sizeof(float *));
	s->zeros = calloc(n ? n : 1, sizeof(size_t));
	s->file = calloc(n ? n : 1, sizeof(char *));
	s->key = calloc(n ? n : 1, sizeof(*s->key));
	if (!s->seed || !s->m || !s->At || !s->zeros || !s->file || !s->key) {
		mset_release(s);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %zu models", n);
	}
	return 0;
}

/* Normalise W (d, m) into slot i. */
int mset_put(struct mset *s, size_t i, const float *W, size_t m, int64_t seed,
                    const char *file, struct hus_err *err)
{
	s->At[i] = malloc(sizeof(float) * m * s->d);
	if (!s->At[i])
		return hus_errf(err, HUS_ENOMEM, file, NULL, "out of memory for a %zu x %zu decoder",
		                s->d, m);
	s->m[i] = m;
	s->seed[i] = seed;
	int rc = pwmcc_normalize(s->At[i], &s->zeros[i], W, s->d, m, err);
	if (rc && file && err) {
		snprintf(err->file, sizeof(err->file), "%s", file);
		snprintf(err->where, sizeof(err->where), "/params/W_dec");
	}
	if (file) {
		free(s->file[i]);
		s->file[i] = strdup(file);
	}
	/* a zero decoder column has no direction: its cosines count as 0, which lowers PWMCC
	 * without a word unless said (an SAE trained on all-zero inputs is all such columns) */
	if (!rc && file && s->zeros[i])
		fprintf(stderr,
			"husai: warning: %s:/params/W_dec: %zu of %zu decoder columns are zero%s; "
			"their cosines count as 0 in PWMCC and matching\n",
			file, s->zeros[i], m, s->zeros[i] == m ? " (all of them: was it trained on all-zero inputs?)" : "");
	return rc;
}


const char *mset_key(const struct mset *s, size_t i)
{
	if (!s->key[i][0])
		hus_sha256_buf(s->At[i], sizeof(float) * s->m[i] * s->d, s->key[i]);
	return s->key[i];
}

/* docs/artifacts.md "Pair cache": <dir>/<group>_<product>.h5 */
void analysis_pair_cache_path(char *out, size_t n, const char *dir, const char *group,
                              size_t product)
{
	snprintf(out, n, "%s/%s_%zu.h5", dir, group, product);
}

static size_t n_pairs(size_t n)
{
	return n < 2 ? 0 : n * (n - 1) / 2;
}

/* a control's cross products exist when the seed-level test is run (its pooled matrix) */
static size_t cross_products(size_t n, size_t nc)
{
	return n >= 2 && nc >= 2 &&
	       stats_seed_test_runs(n, nc, ANALYSIS_PERM_MAX_EXACT, ANALYSIS_PERM_B) ? n * nc : 0;
}

size_t analysis_pair_products(size_t n, size_t n1, size_t n2)
{
	size_t p = n_pairs(n);
	if (n1)
		p += n_pairs(n1) + cross_products(n, n1);
	if (n2)
		p += n_pairs(n2) + cross_products(n, n2);
	return p;
}

/* The maxima of product w->product (model i of a by model j of b) into w's buffers: read from
 * its pair cache when there is one (validated against this pair's key), else computed; in
 * pair-only mode computed and written for the products asked, zeros for the others. */
static int pair_maxes(struct pairwork *w, const struct mset *a, size_t i, const struct mset *b,
                      size_t j, struct hus_err *err)
{
	size_t product = w->product++, mA = a->m[i], mB = b->m[j], d = a->d;
	if (w->pair_only && (product < w->only || product >= w->only_end)) {
		memset(w->rowmax, 0, sizeof(float) * mA), memset(w->colmax, 0, sizeof(float) * mB);
		memset(w->argrow, 0, sizeof(int32_t) * mA), memset(w->argcol, 0, sizeof(int32_t) * mB);
		return 0;
	}
	char path[4200];
	struct pair_cache_key k;
	memset(&k, 0, sizeof(k));
	if (w->cache_dir) {
		analysis_pair_cache_path(path, sizeof(path), w->cache_dir, w->cache_group, product);
		memcpy(k.key_a, mset_key(a, i), 65);
		memcpy(k.key_b, mset_key(b, j), 65);
		k.d_model = d, k.m_a = mA, k.m_b = mB, k.with_argmax = w->want_arg;
	}
	if (w->cache_dir && !w->pair_only && hus_file_exists(path)) {
		int rc = pair_cache_read(path, &k, w->rowmax, w->colmax, w->argrow, w->argcol, err);
		if (!rc && w->man)
			rc = manifest_add_input(w->man, path, err);
		return rc;
	}
	if (w->threads_after_bases && pair_tasks_bases_finished(w->bases))
		pairwork_threads_back(w); /* the bases' core is free again */
	int rc;
	if (w->cand_fold && !w->pair_only && w->cand_pair < w->cand_slots && mA <= mB) {
		/* the sparse matching's candidates from the same panels (trained_extras) */
		struct match_cand_fold f;
		size_t K = w->cand_K < mB ? w->cand_K : mB, off = w->cand_pair * w->cand_stride;
		rc = match_cand_fold_begin(&f, w->cand_abs + off, w->cval_abs + off, w->cand_sgn + off,
		                           w->cval_sgn + off, d, mA, mB, K, err);
		if (!rc)
			rc = pwmcc_maxes_also(w->rowmax, w->colmax, w->want_arg ? w->argrow : NULL,
			                      w->want_arg ? w->argcol : NULL, a->At[i], b->At[j], d, mA,
			                      mB, match_cand_fold, &f, err);
		match_cand_fold_end(&f);
		if (!rc)
			w->cand_done[w->cand_pair] = 1;
	} else {
		rc = pwmcc_maxes(w->rowmax, w->colmax, w->want_arg ? w->argrow : NULL,
		                 w->want_arg ? w->argcol : NULL, a->At[i], b->At[j], d, mA, mB, err);
	}
	if (!rc && w->pair_only) {
		rc = pair_cache_write(path, &k, w->rowmax, w->colmax, w->argrow, w->argcol, err);
		w->only_done += !rc;
	}
	return rc;
}

int pair_pwmcc(double *v, double *r_a, double *r_b, struct pairwork *w, const struct mset *a,
               size_t i, const struct mset *b, size_t j, struct hus_err *err)
{
	size_t mA = a->m[i], mB = b->m[j];
	int rc = pair_maxes(w, a, i, b, j, err);
	if (rc)
		return rc;
	analysis_progress_step(w, a->d, mA, mB);
	double ra = 0, rb = 0;
	for (size_t f = 0; f < mA; f++)
		ra += w->rowmax[f];
	for (size_t f = 0; f < mB; f++)
		rb += w->colmax[f];
	*r_a = ra / (double)mA;
	*r_b = rb / (double)mB;
	*v = (*r_a + *r_b) / 2;
	return 0;
}

void analysis_progress_step(struct pairwork *w, size_t d, size_t mA, size_t mB)
{
	if (!w->prog)
		return;
	w->flops += 2.0 * (double)d * (double)mA * (double)mB;
	double el = hus_now() - w->prog->t_start;
	char detail[64];
	snprintf(detail, sizeof(detail), "products, %.1f GFLOP/s", el > 0 ? w->flops / el / 1e9 : 0.0);
	hus_progress_update(w->prog, w->prog->done + 1, detail);
}

int pairwork_buffers(struct pairwork *w, const struct mset *t, size_t *mmax,
                     struct hus_err *err)
{
	size_t m = 0;
	for (size_t i = 0; i < t->n; i++)
		m = t->m[i] > m ? t->m[i] : m;
	*mmax = m;
	w->rowmax = malloc(sizeof(float) * (m ? m : 1));
	w->colmax = malloc(sizeof(float) * (m ? m : 1));
	w->argrow = malloc(sizeof(int32_t) * (m ? m : 1));
	w->argcol = malloc(sizeof(int32_t) * (m ? m : 1));
	if (!w->rowmax || !w->colmax || !w->argrow || !w->argcol)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for pair buffers");
	return 0;
}

void pairwork_threads_back(struct pairwork *w)
{
	if (w->threads_after_bases)
		omp_set_num_threads(w->threads_after_bases);
	w->threads_after_bases = 0;
}

int pair_cands_alloc(struct pairwork *w, size_t n_pairs, size_t mmax, size_t budget,
                     struct hus_err *err)
{
	size_t K = MATCH_SPARSE_K, stride = mmax * K;
	size_t per_pair = stride * 2 * (sizeof(int32_t) + sizeof(float));
	size_t slots = per_pair ? budget / per_pair : n_pairs;
	slots = slots < 1 ? 1 : slots > n_pairs ? n_pairs : slots;
	w->cand_abs = malloc(sizeof(int32_t) * stride * slots);
	w->cand_sgn = malloc(sizeof(int32_t) * stride * slots);
	w->cval_abs = malloc(sizeof(float) * stride * slots);
	w->cval_sgn = malloc(sizeof(float) * stride * slots);
	w->cand_done = calloc(n_pairs ? n_pairs : 1, 1);
	if (!w->cand_abs || !w->cand_sgn || !w->cval_abs || !w->cval_sgn || !w->cand_done)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for the candidates of %zu "
		                "pairs of %zu features", slots, mmax);
	w->cand_fold = 1, w->cand_K = K, w->cand_slots = slots, w->cand_stride = stride;
	return 0;
}

void pairwork_release(struct pairwork *w)
{
	free(w->rowmax), free(w->colmax), free(w->argrow), free(w->argcol);
	free(w->cand_abs), free(w->cand_sgn), free(w->cval_abs), free(w->cval_sgn);
	free(w->cand_done);
	w->rowmax = w->colmax = NULL, w->argrow = w->argcol = NULL;
	w->cand_abs = w->cand_sgn = NULL, w->cval_abs = w->cval_sgn = NULL, w->cand_done = NULL;
	w->cand_fold = 0, w->cand_K = w->cand_slots = 0;
}

/* PWMCC of every pair in the pooled list a ∪ b, into P ((na+nb)²). */
int pooled_matrix(double *P, const struct mset *a, const struct mset *b,
                         const double *Pa, const double *Pb, int with_cross, struct pairwork *w,
                         struct hus_err *err)
{
	size_t na = a->n, nb = b->n, N = na + nb;
	for (size_t i = 0; i < N; i++)
		P[i * N + i] = 1;
	for (size_t i = 0; i < na; i++)
		for (size_t j = i + 1; j < na; j++)
			P[i * N + j] = P[j * N + i] = Pa[i * na + j];
	for (size_t i = 0; i < nb; i++)
		for (size_t j = i + 1; j < nb; j++)
			P[(na + i) * N + na + j] = P[(na + j) * N + na + i] = Pb[i * nb + j];
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++) {
			if (!with_cross) {
				P[i * N + na + j] = P[(na + j) * N + i] = NAN;
				continue;
			}
			double v, ra, rb;
			int rc = pair_pwmcc(&v, &ra, &rb, w, a, i, b, j, err);
			if (rc)
				return rc;
			P[i * N + na + j] = P[(na + j) * N + i] = v;
		}
	return 0;
}

void pairset_release(struct pairset *p)
{
	free(p->v), free(p->P), free(p->ra), free(p->rb), free(p->sa), free(p->sb), free(p->mnn);
	memset(p, 0, sizeof(*p));
}

/* acc (optional): per model, per feature running sums of best |cos| (per_feature.c) */
int set_pairs(struct pairset *ps, const struct mset *s, struct pairwork *w, double **acc,
                     struct hus_err *err)
{
	size_t n = s->n, np = n < 2 ? 0 : n * (n - 1) / 2;
	memset(ps, 0, sizeof(*ps));
	ps->np = np;
	ps->v = calloc(np ? np : 1, sizeof(double));
	ps->P = calloc(n ? n * n : 1, sizeof(double));
	ps->sa = calloc(np ? np : 1, sizeof(int64_t));
	ps->sb = calloc(np ? np : 1, sizeof(int64_t));
	ps->ra = calloc(np ? np : 1, sizeof(double));
	ps->rb = calloc(np ? np : 1, sizeof(double));
	ps->mnn = calloc(np ? np : 1, sizeof(double));
	if (!ps->v || !ps->P || !ps->sa || !ps->sb || !ps->ra || !ps->rb || !ps->mnn) {
		pairset_release(ps);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %zu pairs", np);
	}
	size_t p = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++, p++) {
			w->cand_pair = p;
			int rc = pair_pwmcc(&ps->v[p], &ps->ra[p], &ps->rb[p], w, s, i, s, j, err);
			if (rc) {
				pairset_release(ps);
				return rc;
			}
			ps->P[i * n + j] = ps->P[j * n + i] = ps->v[p];
			if (acc)
				per_feature_accumulate(acc[i], acc[j], w->rowmax, w->colmax, s->m[i], s->m[j]);
			ps->mnn[p] = NAN;
			if (w->want_arg)
				mnn_count(&ps->mnn[p], w->rowmax, w->argrow, w->argcol, s->m[i], s->m[j],
				          w->mnn_thr);
			ps->sa[p] = s->seed[i];
			ps->sb[p] = s->seed[j];
		}
	return 0;
}

/* Per-feature stability of every model of s (sorted seeds), concatenated, as a JSON array;
 * also written to h5 under /per_feature/<group>/<seed>/stability when h5 is given. */
int per_feature_json(hj **out, struct pf_summary *sum, const struct mset *s,
                            struct pairwork *w, struct pairset *ps, struct h5w *h5,
                            const char *group, struct hus_err *err)
{
	double **acc = calloc(s->n ? s->n : 1, sizeof(double *));
	size_t mmax = 0;
	int rc = 0;
	*out = NULL;
	if (!acc)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		mmax = s->m[i] > mmax ? s->m[i] : mmax;
		if (!(acc[i] = calloc(s->m[i], sizeof(double)))) {
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
			goto cleanup;
		}
	}
	if ((rc = set_pairs(ps, s, w, acc, err)))
		goto cleanup;
	float *stab = malloc(sizeof(float) * (mmax ? mmax : 1));
	if (!stab) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto cleanup;
	}
	hj *arr = hj_arr();
	double fs = 0, fmin = INFINITY, fmax = -INFINITY;
	size_t fn = 0;
	for (size_t i = 0; i < s->n && s->n > 1; i++) {
		per_feature_finish(stab, acc[i], s->m[i], s->n);
		if (h5 && group && (rc = ana_write_per_feature(h5, group, s->seed[i], stab, s->m[i], err))) {
			free(stab);
			hj_free(arr);
			goto cleanup;
		}
		for (size_t f = 0; f < s->m[i]; f++) {
			hj_push(arr, hj_num(stab[f]));
			fs += stab[f];
			fmin = stab[f] < fmin ? stab[f] : fmin;
			fmax = stab[f] > fmax ? stab[f] : fmax;
			fn++;
		}
	}
	free(stab);
	if (sum) {
		sum->mean = fn ? fs / (double)fn : NAN;
		sum->min = fn ? fmin : NAN;
		sum->max = fn ? fmax : NAN;
	}
	*out = arr;
cleanup:
	for (size_t i = 0; i < s->n; i++)
		free(acc[i]);
	free(acc);
	return rc;
}

/* Load, validate and sort a group's checkpoints into `s`; d_model must agree. */
int load_set(struct mset *s, hj *manifest_json, const char *const *paths, size_t n,
                    size_t *d_model, struct decoder *first, struct manifest *man,
                    const char **sorted_paths, struct hus_err *err)
{
	struct decoder *dec = calloc(n ? n : 1, sizeof(struct decoder));
	int64_t *seeds = calloc(n ? n : 1, sizeof(int64_t));
	size_t *order = calloc(n ? n : 1, sizeof(size_t));
	int rc = 0;
	memset(s, 0, sizeof(*s));
	if (!dec || !seeds || !order) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %zu checkpoints", n);
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = decoder_load(&dec[i], paths[i], 0, err)))
			goto cleanup;
		if (*d_model == 0)
			*d_model = dec[i].d_model;
		if (dec[i].d_model != *d_model) {
			rc = hus_errf(err, HUS_EINPUT, paths[i], "/params/W_dec",
			              "expected d_model %zu like the other decoders, got %zu", *d_model,
			              dec[i].d_model);
			goto cleanup;
		}
		seeds[i] = dec[i].seed;
		for (size_t j = 0; j < i; j++)
			if (seeds[j] == seeds[i]) {
				rc = hus_errf(err, HUS_EINPUT, paths[i], "/", "seed %" PRId64
				              " already given by '%s'", seeds[i], paths[j]);
				goto cleanup;
			}
		if (man && (rc = manifest_add_input(man, paths[i], err)))
			goto cleanup;
	}
	pairs_order(order, seeds, n);
	if ((rc = mset_alloc(s, n, *d_model, err)))
		goto cleanup;
	for (size_t k = 0; k < n; k++) {
		struct decoder *d = &dec[order[k]];
		if (sorted_paths)
			sorted_paths[k] = paths[order[k]];
		if ((rc = mset_put(s, k, d->W_dec, d->d_sae, d->seed, d->path, err)))
			goto cleanup;
		if (manifest_json) {
			hj *e = hj_obj();
			hj_set(e, "seed", hj_int(d->seed));
			hj_set(e, "checkpoint", hj_str(d->path));
			hj_set(e, "sha256", hj_str(d->sha256));
			int64_t shape[2] = { (int64_t)d->d_model, (int64_t)d->d_sae };
			hj_set(e, "shape", hj_i64_array(shape, 2));
			hj_set(e, RJK_STEP, hj_int(d->step));
			hj_set(e, RJK_CONTROL, hj_str(d->control));
			hj_set(e, "zero_columns", hj_int((int64_t)s->zeros[k]));
			hj_push(manifest_json, e);
		}
	}
	if (first && n) {
		*first = dec[order[0]];
		first->W_dec = NULL;
		for (size_t i = 0; i < n && !first->source_format[0]; i++) /* any import counts */
			memcpy(first->source_format, dec[i].source_format, sizeof(first->source_format));
	}
cleanup:
	for (size_t i = 0; dec && i < n; i++)
		decoder_release(&dec[i]);
	free(dec), free(seeds), free(order);
	if (rc)
		mset_release(s);
	return rc;
}

/* Sampled control set: R1 from torch randn, R2 from the init recipe, same d_sae per model. */
int make_control(struct mset *c, int kind, const struct mset *t, const int64_t *seeds,
                        size_t n, struct hus_err *err)
{
	int rc = mset_alloc(c, n, t->d, err);
	if (rc)
		return rc;
	int *crc = calloc(n ? n : 1, sizeof(int));
	struct hus_err *cerr = calloc(n ? n : 1, sizeof(struct hus_err));
	if (!crc || !cerr) {
		free(crc), free(cerr);
		mset_release(c);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a control");
	}
	/* one model per thread: each is drawn from its own seed and normalised alone, so the
	 * split changes no bit; the first failing model (in order) reports */
#pragma omp parallel for schedule(dynamic, 1) if (n > 1 && t->d >= 256)
	for (size_t i = 0; i < n; i++) {
		size_t m = t->m[i < t->n ? i : 0];
		float *W = malloc(sizeof(float) * t->d * m);
		if (!W) {
			crc[i] = hus_errf(&cerr[i], HUS_ENOMEM, NULL, NULL, "out of memory for a control");
			continue;
		}
		crc[i] = kind == 1 ? control_r1(W, (uint64_t)seeds[i], t->d, m, &cerr[i])
		                   : control_r2(W, (uint64_t)seeds[i], t->d, m, &cerr[i]);
		if (!crc[i])
			crc[i] = mset_put(c, i, W, m, seeds[i], NULL, &cerr[i]);
		free(W);
	}
	for (size_t i = 0; i < n && !rc; i++)
		if ((rc = crc[i]) && err)
			*err = cerr[i];
	free(crc), free(cerr);
	if (rc)
		mset_release(c);
	return rc;
}

