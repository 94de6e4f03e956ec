/*
 * sae_eval.c — the metrics of docs/formulas.md §4.8 over a whole activation matrix, inference mode:
 * mse, l0 (#z ≠ 0 per row), l1, explained_variance = ev_scalar (1 − var_all(X − X̂)/var_all(X),
 * unbiased, one global mean; the upstream definition, A4), ev_fvu (1 − Σ‖x − x̂‖² /
 * Σ_j Σ_b (x_bj − x̄_j)²), and dead latents (fewer than dead_threshold firings |z| > fire_eps).
 * Sums are double and run in row order, so results do not depend on the thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sae_internal.h"

int sae_xstats_of(struct sae_xstats *xs, const float *X, size_t N, size_t d)
{
	double *mean_j = calloc(d ? d : 1, sizeof(double));
	if (!mean_j)
		return HUS_ENOMEM;
	/* per-dimension means, global mean */
	double sx = 0;
	for (size_t b = 0; b < N; b++)
		for (size_t i = 0; i < d; i++)
			mean_j[i] += X[b * d + i];
	for (size_t i = 0; i < d; i++) {
		sx += mean_j[i];
		mean_j[i] /= (double)N;
	}
	double nel = (double)N * (double)d, gmean = sx / nel, ssx = 0, ssx_dim = 0;
	for (size_t b = 0; b < N; b++)
		for (size_t i = 0; i < d; i++) {
			double x = X[b * d + i];
			ssx += (x - gmean) * (x - gmean);
			ssx_dim += (x - mean_j[i]) * (x - mean_j[i]);
		}
	xs->gmean = gmean, xs->ssx = ssx, xs->ssx_dim = ssx_dim;
	free(mean_j);
	return 0;
}

void sae_eval(struct sae_model *s, struct sae_work *w, const float *X, size_t N,
              const struct sae_xstats *xs, struct sae_metrics *out, int64_t *fire_counts)
{
	size_t d = w->d, m = w->m;
	memset(out, 0, sizeof(*out));
	int64_t *fc = fire_counts ? fire_counts : calloc(m, sizeof(int64_t));
	struct sae_xstats own;
	if (!fc || (!xs && sae_xstats_of(&own, X, N, d))) {
		out->mse = out->l0 = out->l1 = out->explained_variance = out->ev_fvu = NAN;
		if (!fire_counts)
			free(fc);
		return;
	}
	if (!xs)
		xs = &own;
	memset(fc, 0, m * sizeof(int64_t));
	double nel = (double)N * (double)d;
	double sr = 0, srr = 0, l0 = 0, l1 = 0;
	for (size_t b0 = 0; b0 < N; b0 += w->B) {
		size_t B = N - b0 < w->B ? N - b0 : w->B;
		const float *xb = X + b0 * d;
		sae_infer(s, w, xb, B);
		for (size_t q = 0; q < B * d; q++) {
			double r = (double)xb[q] - w->xhat[q];
			sr += r;
			srr += r * r;
		}
		if (w->code_dense) {
			for (size_t q = 0; q < B * m; q++) {
				float z = w->z[q];
				l0 += z != 0.0f;
				l1 += fabsf(z);
				fc[q % m] += fabsf(z) > s->h.fire_eps;
			}
		} else {
			for (size_t e = 0; e < w->row_off[B]; e++) {
				float z = w->val[e];
				l0 += z != 0.0f;
				l1 += fabsf(z);
				fc[w->idx[e]] += fabsf(z) > s->h.fire_eps;
			}
		}
	}
	out->mse = srr / nel;
	out->l0 = l0 / (double)N;
	out->l1 = l1 / (double)N;
	double var_r = (srr - sr * sr / nel) / (nel - 1), var_x = xs->ssx / (nel - 1);
	out->explained_variance = 1.0 - var_r / var_x;
	out->ev_fvu = 1.0 - srr / xs->ssx_dim;
	for (size_t j = 0; j < m; j++)
		out->dead += fc[j] < s->h.dead_threshold;
	if (!fire_counts)
		free(fc);
}
