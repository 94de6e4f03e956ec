/*
 * sae_eval.c — the metrics of docs/formulas.md §4.8 over a whole activation matrix, inference mode:
 * mse, l0 (#z ≠ 0 per row), l1, explained_variance = ev_scalar (1 − var_all(X − X̂)/var_all(X),
 * unbiased, one global mean; the upstream definition, A4), ev_fvu (1 − Σ‖x − x̂‖² /
 * Σ_j Σ_b (x_bj − x̄_j)²), and dead latents (fewer than dead_threshold firings |z| > fire_eps).
 * Sums are double and run in row order, so results do not depend on the thread count; the
 * accumulators (sae_xstats_*, sae_eval_*) let a streamed set be fed a piece at a time to the
 * same bits (train/sae_batches.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sae_internal.h"

void sae_xstats_begin(struct sae_xstats_acc *a, double *mean_j, size_t d)
{
	memset(a, 0, sizeof(*a));
	memset(mean_j, 0, (d ? d : 1) * sizeof(double));
	a->mean_j = mean_j;
	a->d = d;
}

/* pass 1: per-dimension sums, in row order */
void sae_xstats_pass1(struct sae_xstats_acc *a, const float *X, size_t n)
{
	size_t d = a->d;
	for (size_t b = 0; b < n; b++)
		for (size_t i = 0; i < d; i++)
			a->mean_j[i] += X[b * d + i];
	a->n += n;
}

/* between the passes: per-dimension means, global mean */
void sae_xstats_mid(struct sae_xstats_acc *a)
{
	double sx = 0;
	for (size_t i = 0; i < a->d; i++) {
		sx += a->mean_j[i];
		a->mean_j[i] /= (double)a->n;
	}
	a->gmean = sx / ((double)a->n * (double)a->d);
}

/* pass 2: squared deviations, in row order */
void sae_xstats_pass2(struct sae_xstats_acc *a, const float *X, size_t n)
{
	size_t d = a->d;
	for (size_t b = 0; b < n; b++)
		for (size_t i = 0; i < d; i++) {
			double x = X[b * d + i];
			a->ssx += (x - a->gmean) * (x - a->gmean);
			a->ssx_dim += (x - a->mean_j[i]) * (x - a->mean_j[i]);
		}
}

void sae_xstats_end(const struct sae_xstats_acc *a, struct sae_xstats *xs)
{
	xs->gmean = a->gmean, xs->ssx = a->ssx, xs->ssx_dim = a->ssx_dim;
}

int sae_xstats_of(struct sae_xstats *xs, const float *X, size_t N, size_t d)
{
	double *mean_j = calloc(d ? d : 1, sizeof(double));
	if (!mean_j)
		return HUS_ENOMEM;
	struct sae_xstats_acc a;
	sae_xstats_begin(&a, mean_j, d);
	sae_xstats_pass1(&a, X, N);
	sae_xstats_mid(&a);
	sae_xstats_pass2(&a, X, N);
	sae_xstats_end(&a, xs);
	free(mean_j);
	return 0;
}

void sae_eval_begin(struct sae_eval_acc *a, int64_t *fire_counts, size_t m)
{
	memset(a, 0, sizeof(*a));
	a->fc = fire_counts;
	memset(fire_counts, 0, m * sizeof(int64_t));
}

/* rows X (n, d_model) in tiles of the workspace's batch, from the first row: a caller feeding
 * pieces must cut them at multiples of w->B so the tiles are those of one whole pass */
void sae_eval_rows(struct sae_eval_acc *a, struct sae_model *s, struct sae_work *w,
                   const float *X, size_t N)
{
	size_t d = w->d, m = w->m;
	int64_t *fc = a->fc;
	for (size_t b0 = 0; b0 < N; b0 += w->B) {
		size_t B = N - b0 < w->B ? N - b0 : w->B;
		const float *xb = X + b0 * d;
		sae_infer(s, w, xb, B);
		for (size_t q = 0; q < B * d; q++) {
			double r = (double)xb[q] - w->xhat[q];
			a->sr += r;
			a->srr += r * r;
		}
		if (w->code_dense) {
			for (size_t q = 0; q < B * m; q++) {
				float z = w->z[q];
				a->l0 += z != 0.0f;
				a->l1 += fabsf(z);
				fc[q % m] += fabsf(z) > s->h.fire_eps;
			}
		} else {
			for (size_t e = 0; e < w->row_off[B]; e++) {
				float z = w->val[e];
				a->l0 += z != 0.0f;
				a->l1 += fabsf(z);
				fc[w->idx[e]] += fabsf(z) > s->h.fire_eps;
			}
		}
	}
	a->n += N;
}

void sae_eval_end(const struct sae_eval_acc *a, const struct sae_model *s, size_t d,
                  const struct sae_xstats *xs, struct sae_metrics *out)
{
	size_t N = a->n, m = s->h.d_sae;
	memset(out, 0, sizeof(*out));
	double nel = (double)N * (double)d, sr = a->sr, srr = a->srr;
	out->mse = srr / nel;
	out->l0 = a->l0 / (double)N;
	out->l1 = a->l1 / (double)N;
	double var_r = (srr - sr * sr / nel) / (nel - 1), var_x = xs->ssx / (nel - 1);
	out->explained_variance = 1.0 - var_r / var_x;
	out->ev_fvu = 1.0 - srr / xs->ssx_dim;
	for (size_t j = 0; j < m; j++)
		out->dead += a->fc[j] < s->h.dead_threshold;
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
	struct sae_eval_acc a;
	sae_eval_begin(&a, fc, m);
	sae_eval_rows(&a, s, w, X, N);
	sae_eval_end(&a, s, d, xs, out);
	if (!fire_counts)
		free(fc);
}
