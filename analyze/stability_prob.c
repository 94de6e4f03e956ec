/*
 * stability_prob.c — per-feature stability probability across all seeds and the subspace of
 * the unstable features (docs/formulas.md §10.3, after Kurochkin & Gavrilov 2026).  For model
 * i and feature f: p_if = the fraction of the other models j that hold a feature g with
 * |cos(d_if, d_jg)| >= thr (nearest neighbour, not one-to-one).  A feature is unstable when
 * p < 1/2.  The unstable features of each model span a subspace; its top-k left singular
 * vectors (k = min(k_max, unstable counts, d)) of two models are compared by principal
 * angles (subspace.c): the overlap ‖U1ᵀU2‖²_F / k beside k / d, its expectation for two
 * uniformly random k-dimensional subspaces of R^d.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"

struct near_counts {
	const struct mset *t;
	uint32_t **cnt; /* per model, per feature: the other models holding a near feature */
	float thr;
};

static int count_near(void *ctx, size_t i, size_t j, const float *rowmax, const float *colmax,
                      struct hus_err *err)
{
	(void)err;
	struct near_counts *nc = ctx;
	for (size_t f = 0; f < nc->t->m[i]; f++)
		nc->cnt[i][f] += rowmax[f] >= nc->thr;
	for (size_t g = 0; g < nc->t->m[j]; g++)
		nc->cnt[j][g] += colmax[g] >= nc->thr;
	return 0;
}

int stability_prob_group(hj *out, struct h5w *h5, const char *group, const struct mset *t,
                         double thr, size_t k_max, struct hus_err *err)
{
	size_t S = t->n, d = t->d, mmax = 0;
	for (size_t i = 0; i < S; i++)
		mmax = t->m[i] > mmax ? t->m[i] : mmax;
	uint32_t **cnt = calloc(S, sizeof(uint32_t *));
	float *p = malloc(sizeof(float) * (mmax ? mmax : 1));
	double **U = calloc(S, sizeof(double *));
	size_t *nu = calloc(S, sizeof(size_t));
	uint64_t *hist = calloc(S, sizeof(uint64_t)); /* bins 0/(S-1) .. (S-1)/(S-1) */
	int rc = 0;
	if (!cnt || !p || !U || !nu || !hist) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for stability probabilities");
		goto done;
	}
	for (size_t i = 0; i < S; i++)
		if (!(cnt[i] = calloc(t->m[i] ? t->m[i] : 1, sizeof(uint32_t)))) {
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
			goto done;
		}
	struct near_counts nc = { t, cnt, (float)thr };
	if ((rc = pwmcc_pairs(NULL, t->At, t->m, S, d, count_near, &nc, err)))
		goto done;
	double sum = 0;
	uint64_t total = 0, unstable = 0, stable = 0;
	for (size_t i = 0; i < S; i++) {
		size_t m = t->m[i];
		for (size_t f = 0; f < m; f++) {
			p[f] = (float)((double)cnt[i][f] / (double)(S - 1));
			sum += p[f];
			hist[cnt[i][f]]++;
			nu[i] += 2 * cnt[i][f] < S - 1;
			stable += cnt[i][f] == S - 1;
		}
		total += m;
		unstable += nu[i];
		char ds[256];
		size_t n1[1] = { m };
		snprintf(ds, sizeof(ds), "/stability_prob/%s/%lld", group, (long long)t->seed[i]);
		if ((rc = h5w_f32(h5, ds, p, 1, n1, err)))
			goto done;
	}
	/* the subspace of each model's unstable features */
	size_t k = k_max < d ? k_max : d;
	for (size_t i = 0; i < S; i++)
		k = nu[i] < k ? nu[i] : k;
	for (size_t i = 0; i < S && k; i++) {
		float *W = malloc(sizeof(float) * d * nu[i]);
		U[i] = malloc(sizeof(double) * d * k);
		if (!W || !U[i]) {
			free(W);
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for an SVD");
			goto done;
		}
		size_t c = 0;
		for (size_t f = 0; f < t->m[i]; f++)
			if (2 * cnt[i][f] < S - 1) {
				for (size_t r = 0; r < d; r++)
					W[r * nu[i] + c] = t->At[i][f * d + r];
				c++;
			}
		rc = subspace_basis(U[i], W, d, nu[i], k, err);
		free(W);
		if (rc)
			goto done;
	}
	size_t np = S * (S - 1) / 2, q = 0;
	double *ov = calloc(np ? np : 1, sizeof(double)), *ang = calloc((np ? np : 1) * (k ? k : 1),
									 sizeof(double));
	if (!ov || !ang) {
		free(ov), free(ang);
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	double ovs = 0;
	for (size_t i = 0; i < S && k; i++)
		for (size_t j = i + 1; j < S; j++, q++) {
			struct subspace_result sr;
			if ((rc = subspace_compare(&sr, ang + q * k, U[i], U[j], d, k, err)))
				break;
			ov[q] = sr.overlap;
			ovs += sr.overlap;
		}
	if (!rc && k) {
		char ds[256];
		size_t dims[2] = { np, k };
		snprintf(ds, sizeof(ds), "/stability_prob/%s/unstable_angles", group);
		rc = h5w_f64(h5, ds, ang, 2, dims, err);
	}
	if (!rc) {
		hj_set(out, "definition",
		       hj_str("per feature of every model: fraction of the other models holding a "
			      "feature with |cos| >= threshold (docs/formulas.md 10.3); unstable: < 1/2; "
			      "vectors in analysis.h5 /stability_prob/<group>/<seed>"));
		hj_set(out, "threshold", hj_num(thr));
		hj_set(out, RJK_N_MODELS, hj_int((int64_t)S));
		hj_set(out, RJK_MEAN, hj_num(total ? sum / (double)total : NAN));
		hj_set(out, "fraction_stable", hj_num(total ? (double)stable / (double)total : NAN));
		hj_set(out, "fraction_unstable", hj_num(total ? (double)unstable / (double)total : NAN));
		int64_t hv[64];
		size_t nh = S < 64 ? S : 64;
		for (size_t b = 0; b < nh; b++)
			hv[b] = (int64_t)hist[b];
		hj_set(out, "histogram", hj_i64_array(hv, nh));
		hj *sub = hj_obj();
		hj_set(sub, "definition",
		       hj_str("top-k left singular vectors of each model's unstable decoder columns; "
			      "overlap = ||U1'U2||_F^2 / k per seed pair; principal angles (radians) in "
			      "analysis.h5 /stability_prob/<group>/unstable_angles [pairs, k]; "
			      "random_expectation = k / d"));
		hj_set(sub, RJK_K, hj_int((int64_t)k));
		hj_set(sub, "overlap_mean", hj_num(k && np ? ovs / (double)np : NAN));
		hj_set(sub, "overlap_values", hj_f64_array(ov, k ? np : 0));
		hj_set(sub, "random_expectation", hj_num(k ? (double)k / (double)d : NAN));
		hj_set(out, "unstable_subspace", sub);
	}
	free(ov), free(ang);
done:
	for (size_t i = 0; cnt && i < S; i++)
		free(cnt[i]);
	for (size_t i = 0; U && i < S; i++)
		free(U[i]);
	free(cnt), free(p), free(U), free(nu), free(hist);
	return rc;
}
