/*
 * sae_sparse.c — the sparse kernels of the TopK family (docs/decisions.md §5): only k of d_sae latents are
 * active per row, so the decoder forward, the decoder backward and the encoder backward each
 * cost B*k*d_model instead of B*d_sae*d_model.  Only the encoder forward is dense (hus_gemm).
 * Gradient "entries" are applied in entry order per latent, so each latent's gradient row sums
 * its rows in a fixed order whatever the thread count: by walking the entries when the
 * gradient rows fit in cache, else latent by latent after a stable counting sort.
 */
#include <math.h>
#include <string.h>

#include "sae_internal.h"

/* xhat_b = b_dec + sum_{e in row b} val_e * W_decT[idx_e]  (docs/formulas.md §4.3 step 3) */
void sae_sparse_decode(float *xhat, const struct sae_work *w, const float *W_decT,
                       const float *b_dec, size_t B, size_t d)
{
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(w->row_off[B] * d) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++)
		sae_k_decode_row(xhat + b * d, b_dec, w->idx, w->val, w->row_off[b], w->row_off[b + 1],
				 W_decT, d);
}

/*
 * Sort the entries by latent (stable) and apply them:
 *   dW_decT[j] += z_e * G_src[b_e]   (x̂_b = Σ z_bj w_j)
 *   dW_enc[j]  += g_e * x_in[b_e]    (pre_b = W_enc x_in_b + b_enc)
 *   db_enc[j]  += g_e
 * G sources: 0 = dxhat, 1 = dres (AuxK), 2 + l = matryoshka level l.
 */
void sae_entries_accumulate(struct sae_model *s, struct sae_work *w, size_t B)
{
	size_t m = w->m, d = w->d, n = w->ent_cap;
	const float *G[2 + SAE_MAX_PREFIX];
	G[0] = w->dxhat;
	G[1] = w->dres;
	for (size_t l = 0; l < w->n_lvl; l++)
		G[2 + l] = w->lvl + l * B * d;
	float *dWe = s->g.W_enc, *dWd = s->g.W_decT, *dbe = s->g.b_enc;
	if (m * d * 2 * sizeof(float) <= SAE_SCATTER_MAX) {
		/* dW fits in cache: walk the entries in order and add into their latents' rows, each
		 * thread owning a fixed range of latents (same per-latent order, same bits) */
		float *gsum = w->gsum;
		memset(gsum, 0, m * sizeof(float));
		size_t nt = (size_t)w->nthreads;
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(n * d) > SAE_PAR_MIN)
		for (size_t t = 0; t < nt; t++)
			sae_k_entries_scatter(dWd, dWe, gsum, t * m / nt, (t + 1) * m / nt, n, w->e_j,
					      w->e_b, w->e_z, w->e_g, w->e_src, G, w->x_in, d);
		for (size_t j = 0; j < m; j++)
			dbe[j] += gsum[j];
		return;
	}
	size_t *col = w->col_off;
	memset(col, 0, (m + 1) * sizeof(*col));
	for (size_t e = 0; e < n; e++)
		if (w->e_j[e] >= 0)
			col[w->e_j[e] + 1]++;
	for (size_t j = 0; j < m; j++)
		col[j + 1] += col[j];
	/* place: use fired[] as a per-latent cursor */
	int32_t *cur = w->fired;
	for (size_t j = 0; j < m; j++)
		cur[j] = 0;
	for (size_t e = 0; e < n; e++) {
		int32_t j = w->e_j[e];
		if (j >= 0)
			w->order[col[j] + (size_t)cur[j]++] = (int32_t)e;
	}
#pragma omp parallel for schedule(dynamic, 16) num_threads(w->nthreads) if ((size_t)(n * d) > SAE_PAR_MIN)
	for (size_t j = 0; j < m; j++)
		dbe[j] += sae_k_latent_acc(dWd + j * d, dWe + j * d, w->order, col[j], col[j + 1], w->e_b,
					   w->e_z, w->e_g, w->e_src, G, w->x_in, d);
}

/* b_dec enters twice (Gao et al.): x̂ = ... + b_dec and x_in = x - b_dec, so
 * dL/db_dec = Σ_b G_b - Σ_j (Σ_b dpre_bj) W_enc[j] = colsum(G) - Σ_j db_enc[j] W_enc[j]. */
void sae_db_dec_grad(float *g_b_dec, const float *G, const float *g_b_enc, const float *W_enc,
                     size_t B, size_t d, size_t m, double *dacc)
{
	memset(dacc, 0, d * sizeof(double));
	const size_t CH = 64;
	size_t nch = (d + CH - 1) / CH;
#pragma omp parallel for schedule(static) if ((size_t)((B + m) * d) > SAE_PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		size_t i0 = c * CH, i1 = i0 + CH < d ? i0 + CH : d;
		for (size_t b = 0; b < B; b++)
			for (size_t i = i0; i < i1; i++)
				dacc[i] += G[b * d + i];
		for (size_t j = 0; j < m; j++) {
			double gj = g_b_enc[j];
			if (gj == 0.0)
				continue;
			for (size_t i = i0; i < i1; i++)
				dacc[i] -= gj * W_enc[j * d + i];
		}
	}
	for (size_t i = 0; i < d; i++)
		g_b_dec[i] += (float)dacc[i];
}

/* fired[j] = #rows of this batch where latent j fired (|z| > fire_eps), main code only */
void sae_count_fired_sparse(struct sae_work *w, size_t B, double fire_eps)
{
	memset(w->fired, 0, w->m * sizeof(int32_t));
	size_t n = w->row_off[B];
	for (size_t e = 0; e < n; e++)
		if (fabsf(w->val[e]) > fire_eps)
			w->fired[w->idx[e]]++;
}
