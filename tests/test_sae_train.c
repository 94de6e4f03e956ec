/*
 * test_sae_train.c — the SAE init statistics (§4.2, Appendix A), the top-k tie rule (A12),
 * steps per epoch (§4.7: 7 at batch 2048 on 12 769 rows, 6 with drop_last), the multi-seed
 * trainer (every seed bit-identical to training it alone, shared and per-seed order), the same
 * bits with 1 and 2 threads, and recovery of a known sparse dictionary.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train.h"
#include "sae_internal.h" /* sae_topk_row_radix */


static struct sae_model *make(enum sae_arch a, size_t d, size_t m, size_t k, uint64_t seed)
{
	struct sae_hparams h;
	struct hus_err err;
	sae_hparams_default(&h, a, d, m, k);
	assert_int_equal(sae_hparams_check(&h, "test", &err), 0);
	struct sae_model *s;
	assert_int_equal(sae_model_alloc(&s, &h, seed, &err), 0);
	return s;
}

static void test_init_stats(void **state)
{
	(void)state;
	struct sae_model *s = make(SAE_TOPK_UPSTREAM, 128, 1024, 32, 42);
	double bound = sqrt(6.0 / 128.0), mx = 0, sum = 0, sq = 0;
	size_t n = 128 * 1024;
	for (size_t i = 0; i < n; i++) {
		double v = s->p.W_enc[i];
		if (fabs(v) > mx)
			mx = fabs(v);
		sum += v;
		sq += v * v;
	}
	printf("encoder bound %.6f, max |W_enc| %.6f, mean %.2e, var %.6f (uniform: %.6f)\n", bound,
	       mx, sum / n, sq / n, bound * bound / 3);
	assert_true(fabs(bound - 0.216506) < 1e-6);
	assert_true(mx <= bound && mx > 0.99 * bound);
	assert_true(fabs(sum / n) < 2e-3);
	assert_true(fabs(sq / n - bound * bound / 3) < 2e-4);
	for (size_t j = 0; j < 1024; j++) {
		double ss = 0;
		for (size_t i = 0; i < 128; i++)
			ss += (double)s->p.W_decT[j * 128 + i] * s->p.W_decT[j * 128 + i];
		assert_true(fabs(sqrt(ss) - 1.0) < 1e-6);
	}
	for (size_t j = 0; j < 1024; j++)
		assert_true(s->p.b_enc[j] == 0.0f);
	/* a different seed gives a different init, the same seed the same bits */
	struct sae_model *t = make(SAE_TOPK_UPSTREAM, 128, 1024, 32, 42);
	struct sae_model *u = make(SAE_TOPK_UPSTREAM, 128, 1024, 32, 123);
	assert_memory_equal(s->p.mem, t->p.mem, s->p.n * sizeof(float));
	assert_memory_not_equal(s->p.mem, u->p.mem, s->p.n * sizeof(float));
	sae_model_free(s), sae_model_free(t), sae_model_free(u);
}

static void test_topk_ties(void **state)
{
	(void)state;
	float v[10] = { 1, 3, 2, 3, 3, 0, 5, 3, -1, 2 };
	int32_t idx[4], heap[8];
	hus_topk(idx, v, 10, 4, heap);
	/* 5 (6), then the 3s at 1, 3, 4 (lowest indices win over 7) */
	int32_t want[4] = { 1, 3, 4, 6 };
	assert_memory_equal(idx, want, sizeof(want));
	/* random rows against a sort-based reference */
	struct mt19937 g;
	mt_seed(&g, 7);
	for (int rep = 0; rep < 200; rep++) {
		float r[300];
		int32_t got[40], hp[80];
		for (int i = 0; i < 300; i++)
			r[i] = (float)(mt_next32(&g) % 50) - 25.0f; /* many ties */
		size_t k = 1 + rep % 40;
		hus_topk(got, r, 300, k, hp);
		/* reference: repeatedly take the max with the lowest index */
		char taken[300] = { 0 };
		int32_t ref[40];
		for (size_t q = 0; q < k; q++) {
			int best = -1;
			for (int i = 0; i < 300; i++)
				if (!taken[i] && (best < 0 || r[i] > r[best]))
					best = i;
			taken[best] = 1;
			ref[q] = best;
		}
		for (size_t a = 1; a < k; a++) /* sort ref */
			for (size_t b = a; b > 0 && ref[b - 1] > ref[b]; b--) {
				int32_t t = ref[b];
				ref[b] = ref[b - 1];
				ref[b - 1] = t;
			}
		assert_memory_equal(got, ref, k * sizeof(int32_t));
	}
	/* the radix selection used in training chooses exactly the same set */
	for (int rep = 0; rep < 300; rep++) {
		size_t n = 50 + rep * 7, k = 1 + (size_t)rep % 64;
		float *r = malloc(n * sizeof(float)), *tmp = malloc(n * sizeof(float));
		int32_t *a = malloc(k * sizeof(int32_t)), *b = malloc(k * sizeof(int32_t));
		int32_t *hp = malloc(2 * k * sizeof(int32_t)), *cand = malloc(2 * n * sizeof(int32_t));
		uint32_t *hist = malloc(SAE_RADIX_BUCKETS * sizeof(uint32_t));
		for (size_t i = 0; i < n; i++) {
			uint32_t u = mt_next32(&g);
			r[i] = rep % 3 == 0 ? (float)(u % 9) - 4.0f /* heavy ties, ±0 */
					    : (float)((u / 4294967296.0 - 0.5) * (1 + rep));
			if (rep % 3 == 0 && r[i] == 0.0f && (u & 1))
				r[i] = -0.0f;
		}
		hus_topk(a, r, n, k, hp);
		sae_topk_row_radix(b, r, n, k, hp, hist, cand, tmp);
		assert_memory_equal(a, b, (k < n ? k : n) * sizeof(int32_t));
		free(r), free(tmp), free(a), free(b), free(hp), free(cand), free(hist);
	}
}

/* the grouped threshold selection against the heap: ties, ±0, k up to n, ragged groups, and
 * nothing written past each row's k indices */
static void test_topk_threshold_rows(void **state)
{
	(void)state;
	struct mt19937 g;
	mt_seed(&g, 11);
	for (int rep = 0; rep < 400; rep++) {
		size_t n = 1 + mt_next32(&g) % 600, k = 1 + mt_next32(&g) % n;
		size_t ng = 1 + (size_t)rep % SAE_TOPK_GROUP;
		float *v = malloc(ng * n * sizeof(float));
		uint32_t *key = malloc(SAE_TOPK_GROUP * n * sizeof(uint32_t));
		int32_t *idx = malloc((ng * k + 1) * sizeof(int32_t)), *ref = malloc(k * sizeof(int32_t));
		int32_t *heap = malloc(2 * k * sizeof(int32_t));
		for (size_t i = 0; i < ng * n; i++) {
			uint32_t u = mt_next32(&g);
			v[i] = rep % 2 ? (float)(u % 9) - 4.0f : (float)(u / 4294967296.0 - 0.5);
			if (v[i] == 0.0f && (u & 2))
				v[i] = -0.0f;
		}
		idx[ng * k] = -7; /* canary */
		sae_k_topk_rows(idx, v, n, k, ng, key);
		for (size_t r = 0; r < ng; r++) {
			hus_topk(ref, v + r * n, n, k, heap);
			assert_memory_equal(idx + r * k, ref, k * sizeof(int32_t));
		}
		assert_int_equal(idx[ng * k], -7);
		free(v), free(key), free(idx), free(ref), free(heap);
	}
}

/* the training selection (block-maximum prefilter, then radix) against the heap, with ties */
static void test_topk_rows_prefilter(void **state)
{
	(void)state;
	size_t shapes[3][2] = { { 256, 4 }, { 1024, 16 }, { 96, 8 } };
	struct mt19937 g;
	mt_seed(&g, 8);
	for (int sh = 0; sh < 3; sh++) {
		size_t m = shapes[sh][0], k = shapes[sh][1], B = 40;
		struct sae_hparams h;
		struct hus_err err;
		sae_hparams_default(&h, SAE_TOPK_UPSTREAM, 8, m, k);
		struct sae_work *w;
		assert_int_equal(sae_work_alloc(&w, &h, B, &err), 0);
		float *pre = malloc(B * m * sizeof(float));
		for (size_t q = 0; q < B * m; q++) {
			uint32_t u = mt_next32(&g);
			pre[q] = (q / m) % 2 ? (float)(u % 7) : (float)(u / 4294967296.0 - 0.5);
		}
		sae_select_topk_rows(w, pre, B, k);
		int32_t ref[16], heap[32];
		for (size_t b = 0; b < B; b++) {
			hus_topk(ref, pre + b * m, m, k, heap);
			assert_memory_equal(w->idx + b * k, ref, k * sizeof(int32_t));
		}
		free(pre);
		sae_work_free(w);
	}
}

static void test_steps_per_epoch(void **state)
{
	(void)state;
	assert_int_equal(sae_steps_per_epoch(12769, 2048, 0), 7);
	assert_int_equal(sae_steps_per_epoch(12769, 2048, 1), 6);
	assert_int_equal(sae_steps_per_epoch(12769, 256, 0), 50);
	assert_int_equal(sae_steps_per_epoch(12769, 256, 1), 49);
	struct sae_train_opts o = { .epochs = 20, .batch = 2048 };
	assert_int_equal(sae_total_steps(12769, &o), 140);
	o.drop_last = 1;
	assert_int_equal(sae_total_steps(12769, &o), 120);
}

/* synthetic activations: N rows of Gaussian-ish noise with structure */
static float *synth(size_t N, size_t d, uint32_t seed)
{
	float *X = malloc(N * d * sizeof(float));
	struct mt19937 g;
	mt_seed(&g, seed);
	for (size_t i = 0; i < N * d; i++)
		X[i] = (float)(mt_next32(&g) / 4294967296.0 - 0.5) * (1.0f + (float)(i % d) / d);
	return X;
}

struct counter {
	int64_t calls;
};
static int count_hook(void *ctx, struct sae_run *runs, size_t n, int final)
{
	(void)runs, (void)n, (void)final;
	((struct counter *)ctx)->calls++;
	return 0;
}

/* train the given seeds together; copy each final parameter block + history into out */
static void train_seeds(enum sae_arch a, const uint64_t *seeds, size_t ns, const float *X,
                        size_t N, const struct sae_train_opts *o, float **params, double **hist,
                        int64_t *steps)
{
	struct sae_run runs[4];
	struct hus_err err;
	for (size_t i = 0; i < ns; i++) {
		struct sae_model *s = make(a, 16, 64, 4, seeds[i]);
		assert_int_equal(sae_run_init(&runs[i], s, N, o, &err), 0);
	}
	struct counter c = { 0 };
	assert_int_equal(sae_train(runs, ns, X, N, o, count_hook, &c, &err), 0);
	for (size_t i = 0; i < ns; i++) {
		struct sae_model *s = runs[i].s;
		params[i] = malloc(s->p.n * sizeof(float));
		memcpy(params[i], s->p.mem, s->p.n * sizeof(float));
		size_t nh = runs[i].hist.n;
		hist[i] = malloc(9 * nh * sizeof(double) + 1);
		for (int q = 0; q < 9; q++)
			memcpy(hist[i] + q * nh, runs[i].hist.v[q], nh * sizeof(double));
		steps[i] = s->step;
		assert_true(runs[i].have_final);
		sae_model_free(s);
		sae_run_release(&runs[i]);
	}
	assert_int_equal(c.calls, steps[0]);
}

static void check_multi_equals_single(enum sae_arch a, int per_seed)
{
	size_t N = 700, d = 16;
	float *X = synth(N, d, 3);
	struct sae_train_opts o = { .epochs = 3, .batch = 128, .shuffle_seed = 5,
				    .per_seed_order = per_seed };
	uint64_t seeds[3] = { 42, 123, 456 };
	float *pm[3], *ps[3];
	double *hm[3], *hs[3];
	int64_t sm[3], ss[3];
	train_seeds(a, seeds, 3, X, N, &o, pm, hm, sm);
	for (int i = 0; i < 3; i++)
		train_seeds(a, &seeds[i], 1, X, N, &o, &ps[i], &hs[i], &ss[i]);
	size_t np = 2 * 64 * 16 + 2 * 64 + 16;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sm[i], 18); /* 3 epochs of ceil(700/128) = 6 */
		assert_int_equal(sm[i], ss[i]);
		assert_memory_equal(pm[i], ps[i], np * sizeof(float));
		assert_memory_equal(hm[i], hs[i], 9 * 3 * sizeof(double));
		free(pm[i]), free(ps[i]), free(hm[i]), free(hs[i]);
	}
	free(X);
}

static void test_multi_seed_equals_single(void **state)
{
	(void)state;
	check_multi_equals_single(SAE_TOPK_UPSTREAM, 0);
	check_multi_equals_single(SAE_TOPK, 1);
	check_multi_equals_single(SAE_RELU, 0);
	check_multi_equals_single(SAE_BATCHTOPK, 0);
}

/* large enough that every parallel loop really runs on 2 threads (SAE_PAR_MIN) */
static void test_threads_identical(void **state)
{
	(void)state;
	const size_t N = 600, d = 32, m = 512, k = 16;
	float *X = synth(N, d, 4);
	struct sae_train_opts o = { .epochs = 1, .batch = 256, .shuffle_seed = 9 };
	enum sae_arch archs[] = { SAE_TOPK_UPSTREAM, SAE_TOPK, SAE_RELU, SAE_BATCHTOPK,
				  SAE_JUMPRELU, SAE_MATRYOSHKA };
	struct hus_err err;
	for (size_t a = 0; a < sizeof(archs) / sizeof(archs[0]); a++) {
		float *p[2];
		double *hv[2];
		size_t np = 0;
		for (int t = 0; t < 2; t++) {
			omp_set_num_threads(t + 1);
			struct sae_hparams h;
			sae_hparams_default(&h, archs[a], d, m, k);
			h.k_aux = 32;
			h.dead_tokens = 300; /* AuxK active from the second step */
			if (archs[a] == SAE_MATRYOSHKA) {
				h.n_prefix = 2;
				h.prefix[0] = 64, h.prefix[1] = m;
			}
			assert_int_equal(sae_hparams_check(&h, "test", &err), 0);
			struct sae_model *s;
			assert_int_equal(sae_model_alloc(&s, &h, 42, &err), 0);
			struct sae_run r;
			assert_int_equal(sae_run_init(&r, s, N, &o, &err), 0);
			assert_int_equal(sae_train(&r, 1, X, N, &o, NULL, NULL, &err), 0);
			np = s->p.n;
			p[t] = malloc(np * sizeof(float));
			memcpy(p[t], s->p.mem, np * sizeof(float));
			hv[t] = malloc(9 * sizeof(double));
			for (int q = 0; q < 9; q++)
				hv[t][q] = r.hist.v[q][0];
			sae_run_release(&r);
			sae_model_free(s);
		}
		assert_memory_equal(p[0], p[1], np * sizeof(float));
		assert_memory_equal(hv[0], hv[1], 9 * sizeof(double));
		free(p[0]), free(p[1]), free(hv[0]), free(hv[1]);
	}
	omp_set_num_threads(1);
	free(X);
}

/* X = codes · D with n_true unit directions in R^d; a TopK SAE should find them */
static void test_dictionary_recovery(void **state)
{
	(void)state;
	const size_t d = 32, n_true = 200, N = 8000, m = 400, k = 3;
	struct mt19937 g;
	mt_seed(&g, 11);
	float *Dt = malloc(n_true * d * sizeof(float));
	for (size_t t = 0; t < n_true; t++) {
		double ss = 0;
		for (size_t i = 0; i < d; i++) {
			/* Box–Muller Gaussian */
			double u1 = (mt_next32(&g) + 1.0) / 4294967297.0, u2 = mt_next32(&g) / 4294967296.0;
			Dt[t * d + i] = (float)(sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
			ss += (double)Dt[t * d + i] * Dt[t * d + i];
		}
		for (size_t i = 0; i < d; i++)
			Dt[t * d + i] /= (float)sqrt(ss);
	}
	float *X = calloc(N * d, sizeof(float));
	for (size_t b = 0; b < N; b++)
		for (size_t q = 0; q < k; q++) {
			size_t t = mt_next32(&g) % n_true;
			float c = 0.5f + (float)(mt_next32(&g) / 4294967296.0);
			for (size_t i = 0; i < d; i++)
				X[b * d + i] += c * Dt[t * d + i];
		}
	struct sae_hparams h;
	struct hus_err err;
	sae_hparams_default(&h, SAE_TOPK, d, m, k);
	h.lr = 5e-3;
	h.k_aux = 16;
	h.dead_tokens = 4 * N;
	assert_int_equal(sae_hparams_check(&h, "test", &err), 0);
	struct sae_model *s;
	assert_int_equal(sae_model_alloc(&s, &h, 42, &err), 0);
	struct sae_train_opts o = { .epochs = 20, .batch = 256, .shuffle_seed = 1 };
	struct sae_run r;
	assert_int_equal(sae_run_init(&r, s, N, &o, &err), 0);
	assert_int_equal(sae_train(&r, 1, X, N, &o, NULL, NULL, &err), 0);
	double mean_max = 0;
	for (size_t t = 0; t < n_true; t++) {
		double best = 0;
		for (size_t j = 0; j < m; j++) {
			double c = 0;
			for (size_t i = 0; i < d; i++)
				c += (double)Dt[t * d + i] * s->p.W_decT[j * d + i];
			if (fabs(c) > best)
				best = fabs(c);
		}
		mean_max += best / n_true;
	}
	printf("dictionary recovery: mean max |cos| %.4f after %lld steps; EV %.4f, l0 %.2f\n",
	       mean_max, (long long)s->step, r.final.explained_variance, r.final.l0);
	assert_true(mean_max > 0.9);
	sae_run_release(&r);
	sae_model_free(s);
	free(X), free(Dt);
}

/* warm-up: Adam's first step moves each coordinate by ~lr; with warm-up over 10 steps, lr/10.
 * Gradient projection: the decoder rows' gradients lose their component along the row. */
static void test_warmup_and_projection(void **state)
{
	(void)state;
	const size_t N = 64, d = 16, m = 64;
	float *X = synth(N, d, 12);
	double moved[2];
	for (int t = 0; t < 2; t++) {
		struct sae_hparams h;
		struct hus_err err;
		sae_hparams_default(&h, SAE_TOPK, d, m, 4);
		h.warmup_steps = t ? 10 : 0;
		assert_int_equal(sae_hparams_check(&h, "test", &err), 0);
		struct sae_model *s;
		struct sae_work *w;
		assert_int_equal(sae_model_alloc(&s, &h, 42, &err), 0);
		assert_int_equal(sae_work_alloc(&w, &h, N, &err), 0);
		float *before = malloc(m * d * sizeof(float));
		memcpy(before, s->p.W_enc, m * d * sizeof(float));
		struct sae_step_stats st;
		sae_step(s, w, X, N, &st);
		moved[t] = 0;
		for (size_t i = 0; i < m * d; i++)
			moved[t] = fmax(moved[t], fabs((double)s->p.W_enc[i] - before[i]));
		free(before);
		sae_work_free(w);
		sae_model_free(s);
	}
	printf("largest first-step move of W_enc: %.3e without warm-up, %.3e with 10 steps\n",
	       moved[0], moved[1]);
	assert_true(fabs(moved[0] - 3e-4) < 1e-5);
	assert_true(fabs(moved[1] - 3e-5) < 1e-6);
	/* projection: with grad_project, the step's decoder gradient is orthogonal to each row */
	struct sae_hparams h;
	struct hus_err err;
	sae_hparams_default(&h, SAE_TOPK_UPSTREAM, d, m, 4);
	h.grad_project = 1;
	assert_int_equal(sae_hparams_check(&h, "test", &err), 0);
	struct sae_model *s;
	struct sae_work *w;
	assert_int_equal(sae_model_alloc(&s, &h, 43, &err), 0);
	assert_int_equal(sae_work_alloc(&w, &h, N, &err), 0);
	float *W0 = malloc(m * d * sizeof(float));
	memcpy(W0, s->p.W_decT, m * d * sizeof(float));
	struct sae_step_stats st;
	sae_step(s, w, X, N, &st); /* s->g holds the projected gradient */
	double worst = 0, any = 0;
	for (size_t j = 0; j < m; j++) {
		double dot = 0, gn = 0;
		for (size_t i = 0; i < d; i++) {
			dot += (double)s->g.W_decT[j * d + i] * W0[j * d + i];
			gn += (double)s->g.W_decT[j * d + i] * s->g.W_decT[j * d + i];
		}
		worst = fmax(worst, fabs(dot));
		any = fmax(any, sqrt(gn));
	}
	assert_true(any > 1e-4);
	assert_true(worst < 1e-6 * (1 + any));
	free(W0);
	sae_work_free(w);
	sae_model_free(s);
	free(X);
}

static void test_bad_hparams(void **state)
{
	(void)state;
	struct sae_hparams h;
	struct hus_err err;
	sae_hparams_default(&h, SAE_TOPK, 16, 0, 4);
	assert_int_equal(sae_hparams_check(&h, "c.yaml", &err), HUS_EINPUT);
	assert_string_equal(err.where, "sae.d_sae");
	sae_hparams_default(&h, SAE_TOPK, 16, 8, 32);
	assert_int_equal(sae_hparams_check(&h, "c.yaml", &err), 0);
	assert_int_equal(h.k, 8); /* clamped, as upstream's min(k, d_sae) */
}

int main(void)
{
	hus_libs_init();
	/* one thread except where threads are the subject (test_threads_identical): OpenMP's
	 * spinning workers make small steps crawl on a loaded 2-core machine */
	omp_set_num_threads(1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_stats),
		cmocka_unit_test(test_topk_ties),
		cmocka_unit_test(test_topk_threshold_rows),
		cmocka_unit_test(test_topk_rows_prefilter),
		cmocka_unit_test(test_steps_per_epoch),
		cmocka_unit_test(test_multi_seed_equals_single),
		cmocka_unit_test(test_threads_identical),
		cmocka_unit_test(test_dictionary_recovery),
		cmocka_unit_test(test_warmup_and_projection),
		cmocka_unit_test(test_bad_hparams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
