/*
 * activation_agreement.c — activation-level agreement between two SAEs on the same rows
 * (docs/formulas.md §5.4, upstream alternative_stability_metrics.py): |Pearson r| between the flattened
 * latent matrices, and the mean Jaccard overlap of the per-sample top-k |z| index sets.
 * Also owns computing latents from archived encoder parameters for the architectures husai
 * trains (docs/formulas.md §4.3/§4.4; docs/decisions.md §3 "TopK SAE"); every top-k is
 * hus_topk (numeric/topk.c), the trainer's own selection: ties go to the lowest index (A12).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

int latent_arch_parse(const char *name)
{
	if (!name)
		return -1;
	if (!strcmp(name, "topk"))
		return LATENT_TOPK;
	if (!strcmp(name, "topk_upstream") || !strcmp(name, "topk_signed"))
		return LATENT_TOPK_UPSTREAM;
	if (!strcmp(name, "relu"))
		return LATENT_RELU;
	if (!strcmp(name, "jumprelu") || !strcmp(name, "batchtopk") || !strcmp(name, "matryoshka"))
		return LATENT_THRESHOLD;
	return -1;
}

int sae_latents(float *z, const struct sae_encoder *e, const float *x, size_t N,
                struct hus_err *err)
{
	size_t d = e->d_model, m = e->d_sae, k = e->k;
	if (e->arch == LATENT_THRESHOLD && !e->threshold)
		return hus_errf(err, HUS_EINPUT, NULL, "/params/threshold",
		                "a thresholded SAE needs its per-latent thresholds");
	if ((e->arch == LATENT_TOPK || e->arch == LATENT_TOPK_UPSTREAM) && (k == 0 || k > m))
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "top-k SAE needs 1 <= k <= d_sae (k = %zu, d_sae = %zu)",
		                k, m);
	if (d > INT32_MAX || m > INT32_MAX || N > INT32_MAX)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "sizes too large (over 2^31 rows or features)");
	float *bias = malloc(sizeof(float) * m);
	int32_t *heap = malloc(sizeof(int32_t) * (k ? k : 1));
	int32_t *ti = malloc(sizeof(int32_t) * (k ? k : 1));
	float *row = malloc(sizeof(float) * m);
	int rc = 0;
	if (!bias || !heap || !ti || !row) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for latents");
		goto cleanup;
	}
	/* pre = (x − b_dec)·W_encᵀ + b_enc = x·W_encᵀ + (b_enc − W_enc·b_dec) */
	for (size_t j = 0; j < m; j++) {
		double b = e->b_enc ? e->b_enc[j] : 0;
		if (e->b_dec && e->arch != LATENT_TOPK_UPSTREAM)
			for (size_t r = 0; r < d; r++)
				b -= (double)e->W_enc[j * d + r] * e->b_dec[r];
		bias[j] = (float)b;
	}
	hus_gemm(0, 1, N, m, d, x, d, e->W_enc, d, 0.0f, z, m);
	for (size_t n = 0; n < N; n++) {
		float *z_n = z + n * m;
		for (size_t j = 0; j < m; j++)
			z_n[j] += bias[j];
		if (e->arch == LATENT_RELU) {
			for (size_t j = 0; j < m; j++)
				z_n[j] = z_n[j] > 0 ? z_n[j] : 0;
			continue;
		}
		if (e->arch == LATENT_THRESHOLD) {
			for (size_t j = 0; j < m; j++)
				z_n[j] = (z_n[j] > e->threshold[j] && z_n[j] > 0) ? z_n[j] : 0;
			continue;
		}
		hus_topk(ti, z_n, m, k, heap);
		memset(row, 0, sizeof(float) * m);
		for (size_t a = 0; a < k; a++) {
			float v = z_n[ti[a]];
			if (e->arch == LATENT_TOPK && v < 0)
				v = 0; /* ReLU'd top-k */
			row[ti[a]] = v;
		}
		memcpy(z_n, row, sizeof(float) * m);
	}
cleanup:
	free(bias), free(heap), free(ti), free(row);
	return rc;
}

int act_agreement(struct act_agreement *res, const float *z1, const float *z2, size_t N,
                  size_t d_sae, size_t k, struct hus_err *err)
{
	if (!N || !d_sae || !k || k > d_sae)
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "agreement needs rows and 1 <= k <= d_sae (N %zu, d_sae %zu, k %zu)", N,
		                d_sae, k);
	size_t total = N * d_sae;
	double s1 = 0, s2 = 0;
	for (size_t e = 0; e < total; e++) {
		s1 += z1[e];
		s2 += z2[e];
	}
	double m1 = s1 / (double)total, m2 = s2 / (double)total, sxy = 0, sxx = 0, syy = 0;
	for (size_t e = 0; e < total; e++) {
		double a = z1[e] - m1, b = z2[e] - m2;
		sxy += a * b;
		sxx += a * a;
		syy += b * b;
	}
	res->abs_pearson = (sxx > 0 && syy > 0) ? fabs(sxy / sqrt(sxx * syy)) : NAN;

	if (d_sae > INT32_MAX)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "d_sae %zu is over 2^31 features", d_sae);
	float *key = malloc(sizeof(float) * d_sae);
	int32_t *heap = malloc(sizeof(int32_t) * k);
	int32_t *i1 = malloc(sizeof(int32_t) * k), *i2 = malloc(sizeof(int32_t) * k);
	unsigned char *mark = calloc(d_sae, 1);
	if (!key || !heap || !i1 || !i2 || !mark) {
		free(key), free(heap), free(i1), free(i2), free(mark);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for top-k sets");
	}
	double jac = 0;
	for (size_t n = 0; n < N; n++) {
		for (size_t j = 0; j < d_sae; j++)
			key[j] = fabsf(z1[n * d_sae + j]);
		hus_topk(i1, key, d_sae, k, heap);
		for (size_t j = 0; j < d_sae; j++)
			key[j] = fabsf(z2[n * d_sae + j]);
		hus_topk(i2, key, d_sae, k, heap);
		for (size_t a = 0; a < k; a++)
			mark[i1[a]] = 1;
		size_t inter = 0;
		for (size_t a = 0; a < k; a++)
			inter += mark[i2[a]];
		for (size_t a = 0; a < k; a++)
			mark[i1[a]] = 0;
		jac += (double)inter / (double)(2 * k - inter);
	}
	res->jaccard = jac / (double)N;
	free(key), free(heap), free(i1), free(i2), free(mark);
	return 0;
}
