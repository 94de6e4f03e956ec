/*
 * sae_batchtopk.c — BatchTopK (Bussmann et al. 2024): keep the k·B largest ReLU'd
 * pre-activations of the whole batch (lowest flat index b*d_sae + j wins ties, A12), and record
 * the smallest kept value for the EMA inference threshold (applied in sae_step.c).  Also the
 * Matryoshka reconstruction (Bussmann et al. 2025): the same code, with the loss averaged over
 * nested prefixes of the dictionary, L = (1/L) Σ_l MSE(x, b_dec + Σ_{j < P_l} z_j w_j).
 */
#include <string.h>

#include "sae_internal.h"

void sae_batch_select(struct sae_model *s, struct sae_work *w, size_t B, int train)
{
	(void)train;
	size_t m = w->m, K = s->h.k * B, npos = 0;
	const float *pre = w->pre;
	for (size_t q = 0; q < B * m; q++)
		if (pre[q] > 0.0f)
			w->bsel[npos++] = pre[q];
	float t = 0.0f;
	size_t budget = 0;
	if (npos > K) {
		t = sae_quickselect_desc(w->bsel, npos, K - 1); /* the K-th largest */
		size_t greater = 0;
		for (size_t q = 0; q < B * m; q++)
			greater += pre[q] > t;
		budget = K - greater; /* values equal to t, taken in flat order */
	} else {
		budget = 0; /* keep every positive value */
	}
	float vmin = 0.0f;
	int have = 0;
	size_t e = 0;
	for (size_t b = 0; b < B; b++) {
		w->row_off[b] = e;
		const float *pre_b = pre + b * m;
		for (size_t j = 0; j < m; j++) {
			float v = pre_b[j];
			if (!(v > 0.0f))
				continue;
			int keep = v > t || (npos <= K);
			if (!keep && v == t && budget > 0) {
				keep = 1;
				budget--;
			}
			if (!keep)
				continue;
			w->idx[e] = (int32_t)j;
			w->val[e] = v;
			e++;
			if (!have || v < vmin)
				vmin = v, have = 1;
		}
	}
	w->row_off[B] = e;
	w->bt_min = vmin;
}

double sae_matryoshka_recon(struct sae_model *s, struct sae_work *w, const float *xb,
                            size_t B)
{
	size_t d = w->d, L = w->n_lvl;
	const float c = (float)(2.0 / ((double)B * (double)d * (double)L));
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(B * d) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		float *xh_b = w->xhat + b * d;
		const float *x_b = xb + b * d;
		memcpy(xh_b, s->p.b_dec, d * sizeof(float));
		size_t e = w->row_off[b], e1 = w->row_off[b + 1];
		double acc = 0;
		for (size_t l = 0; l < L; l++) {
			for (; e < e1 && (size_t)w->idx[e] < s->h.prefix[l]; e++) {
				const float *w_j = s->p.W_decT + (size_t)w->idx[e] * d;
				float z = w->val[e];
				for (size_t i = 0; i < d; i++)
					xh_b[i] += z * w_j[i];
			}
			float *g = w->lvl + (l * B + b) * d;
			for (size_t i = 0; i < d; i++) {
				float r = xh_b[i] - x_b[i];
				acc += (double)r * r;
				g[i] = c * r;
			}
		}
		/* G^(l) = Σ_{l' >= l} g^(l'): latent j in level l(j) sees every prefix containing it */
		for (size_t l = L - 1; l-- > 0;) {
			float *g = w->lvl + (l * B + b) * d;
			const float *gn = w->lvl + ((l + 1) * B + b) * d;
			for (size_t i = 0; i < d; i++)
				g[i] += gn[i];
		}
		memcpy(w->dxhat + b * d, w->lvl + b * d, d * sizeof(float));
		w->rowacc[b] = acc;
	}
	double sse = 0;
	for (size_t b = 0; b < B; b++)
		sse += w->rowacc[b];
	return sse / ((double)B * (double)d * (double)L);
}
