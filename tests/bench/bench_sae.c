/*
 * bench_sae.c — the TopK SAE training step the torch peer times in torch_peer.py case_sae:
 * random X (n, d), a batch of rows drawn with replacement, forward, MSE, backward, Adam,
 * decoder renorm.  The peer's TopK is signed top-k without decoder bias, i.e. husai's
 * `topk_upstream`; that is what runs here (sae_small: d 128, m 1024, k 32, batch 2048;
 * sae_large: d 512, m 16384, k 64, batch 4096).  Reports steps/s and peak RSS.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "train.h"

static int sae_case(struct bench_result *r, size_t d, size_t m, size_t k, size_t B, size_t n,
                    int steps)
{
	struct sae_hparams h;
	struct hus_err err;
	sae_hparams_default(&h, SAE_TOPK_UPSTREAM, d, m, k);
	struct sae_model *s = NULL;
	struct sae_work *w = NULL;
	float *X = malloc(n * d * sizeof(float)), *xb = malloc(B * d * sizeof(float));
	int64_t *idx = malloc(steps * B * sizeof(int64_t) + 3 * B * sizeof(int64_t));
	if (!X || !xb || !idx || sae_hparams_check(&h, "bench", &err) ||
	    sae_model_alloc(&s, &h, 0, &err) || sae_work_alloc(&w, &h, B, &err)) {
		snprintf(r->note, sizeof(r->note), "setup failed: %.200s", err.msg);
		free(X), free(xb), free(idx), sae_model_free(s), sae_work_free(w);
		return 1;
	}
	struct mt19937 g;
	mt_seed(&g, 0);
	for (size_t i = 0; i < n * d; i++) { /* roughly N(0,1): sum of 4 uniforms, scaled */
		double u = 0;
		for (int q = 0; q < 4; q++)
			u += mt_next32(&g) / 4294967296.0;
		X[i] = (float)((u - 2.0) * 1.7320508);
	}
	for (size_t i = 0; i < (size_t)(steps + 3) * B; i++)
		idx[i] = mt_next32(&g) % n;
	struct sae_step_stats st;
	double t0 = 0;
	for (int i = 0; i < steps + 3; i++) {
		if (i == 3)
			t0 = hus_now();
		for (size_t b = 0; b < B; b++) /* gather: part of the step, as in the peer */
			memcpy(xb + b * d, X + idx[(size_t)i * B + b] * d, d * sizeof(float));
		sae_step(s, w, xb, B, &st);
	}
	double dt = hus_now() - t0;
	r->unit = "steps_per_s";
	r->value = steps / dt;
	r->peak_rss_mb = bench_peak_rss_mb();
	snprintf(r->note, sizeof(r->note),
		 "topk_upstream d%zu m%zu k%zu b%zu, %d timed steps, %d OpenMP threads, last mse %.4f",
		 d, m, k, B, steps, omp_get_max_threads(), st.mse);
	free(X), free(xb), free(idx);
	sae_model_free(s);
	sae_work_free(w);
	return 0;
}

int bench_sae_small(struct bench_result *r) { return sae_case(r, 128, 1024, 32, 2048, 12769, 60); }

int bench_sae_large(struct bench_result *r) { return sae_case(r, 512, 16384, 64, 4096, 65536, 10); }
