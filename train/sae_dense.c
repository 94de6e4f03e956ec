/*
 * sae_dense.c — the dense-code SAEs: `relu` (ReLU + L1, optionally decoder-norm-weighted,
 * docs/formulas.md §4.4–4.5) and `jumprelu` (Rajamanoharan et al. 2024: z = pre·H(pre − θ) with learned
 * per-latent θ, L0 penalty, straight-through estimator with a rectangle kernel of width ε).
 * Also the thresholded inference code of batchtopk/matryoshka.  Every product is husai's
 * canonical one (hus_gemm: one fma chain per element in k order); column sums run in row order.
 *
 * JumpReLU STE as defined here (the paper's eqs. 11–12):
 *   ∂z_bj/∂θ_j   := −(θ_j/ε) K((pre_bj − θ_j)/ε),   ∂H_bj/∂θ_j := −(1/ε) K((pre_bj − θ_j)/ε),
 *   K(u) = 1[|u| < 1/2];  ∂z/∂pre = H(pre − θ) as usual, and no gradient of L0 to pre.
 */
#include <math.h>
#include <string.h>

#include "sae_internal.h"

void sae_dense_code(const struct sae_model *s, struct sae_work *w, size_t B)
{
	size_t m = w->m, d = w->d;
	enum sae_arch a = s->h.arch;
	const float *th = s->p.threshold;
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(B * m) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		const float *pre_b = w->pre + b * m;
		float *z_b = w->z + b * m;
		if (a == SAE_RELU) {
			for (size_t j = 0; j < m; j++)
				z_b[j] = pre_b[j] > 0.0f ? pre_b[j] : 0.0f;
		} else { /* jumprelu, and batch archs at inference: pre [pre > θ], θ >= 0 */
			for (size_t j = 0; j < m; j++)
				z_b[j] = (pre_b[j] > th[j] && pre_b[j] > 0.0f) ? pre_b[j] : 0.0f;
		}
		memcpy(w->xhat + b * d, s->p.b_dec, d * sizeof(float));
	}
	/* x̂ = b_dec + z W_decT */
	hus_gemm(0, 0, B, d, m, w->z, m, s->p.W_decT, d, 1.0f, w->xhat, d);
}

double sae_dense_loss_grad(struct sae_model *s, struct sae_work *w, const float *xb, size_t B,
                           struct sae_step_stats *st)
{
	const struct sae_hparams *h = &s->h;
	size_t m = w->m, d = w->d;
	sae_encode(s, w, xb, B);
	sae_dense_code(s, w, B);
	w->code_dense = 1;
	double loss = st->mse = sae_mse_grad(w->dxhat, w->xhat, xb, B, d, 1.0, w->rowacc);
	/* dz = dx̂ W_decTᵀ  (B, m) */
	hus_gemm(0, 1, B, m, d, w->dxhat, d, s->p.W_decT, d, 0.0f, w->dz, m);
	/* dW_decT += zᵀ dx̂ */
	hus_gemm(1, 0, m, d, B, w->z, m, w->dxhat, d, 1.0f, s->g.W_decT, d);
	/* per-latent decoder norms (relu decnorm L1) */
	for (size_t j = 0; j < m; j++)
		w->colnorm[j] = 1.0f;
	if (h->arch == SAE_RELU && h->l1_decnorm) {
#pragma omp parallel for schedule(static) if ((size_t)(m * d) > SAE_PAR_MIN)
		for (size_t j = 0; j < m; j++) {
			double ss = 0;
			for (size_t i = 0; i < d; i++)
				ss += (double)s->p.W_decT[j * d + i] * s->p.W_decT[j * d + i];
			w->colnorm[j] = (float)sqrt(ss);
		}
	}
	const float cB = (float)((h->arch == SAE_RELU ? h->l1_coef : h->jr_l0_coef) / (double)B);
	const float inv_eps = (float)(1.0 / h->jr_bandwidth), half = (float)(0.5 * h->jr_bandwidth);
	const float *th = s->p.threshold;
	/* dpre in place of dz; per-row penalty sums */
#pragma omp parallel for schedule(static) if ((size_t)(B * m) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		float *dz_b = w->dz + b * m;
		const float *pre_b = w->pre + b * m, *z_b = w->z + b * m;
		double pen = 0;
		if (h->arch == SAE_RELU) {
			/* L1 = coef/B Σ_b Σ_j n_j |z_bj| (§4.5); d/dpre = (dz + coef n_j / B) [pre > 0] */
			for (size_t j = 0; j < m; j++) {
				pen += (double)w->colnorm[j] * z_b[j];
				dz_b[j] = pre_b[j] > 0.0f ? dz_b[j] + cB * w->colnorm[j] : 0.0f;
			}
		} else {
			for (size_t j = 0; j < m; j++) {
				pen += z_b[j] != 0.0f;
				dz_b[j] = z_b[j] != 0.0f ? dz_b[j] : 0.0f;
			}
		}
		w->rowacc[b] = pen;
	}
	double pen = 0;
	for (size_t b = 0; b < B; b++)
		pen += w->rowacc[b];
	pen *= (h->arch == SAE_RELU ? h->l1_coef : h->jr_l0_coef) / (double)B;
	loss += pen;
	st->aux = pen;
	/* column work, each latent's rows in order: θ gradient (STE), decnorm, db_enc, stats */
#pragma omp parallel for schedule(static) if ((size_t)(B * m) > SAE_PAR_MIN)
	for (size_t j = 0; j < m; j++) {
		double gb = 0, gth = 0, zs = 0;
		for (size_t b = 0; b < B; b++) {
			float dp = w->dz[b * m + j], z = w->z[b * m + j];
			gb += dp;
			zs += z;
			if (h->arch == SAE_JUMPRELU) {
				float u = w->pre[b * m + j] - th[j];
				if (u > -half && u < half) {
					/* recover dz (before gating) for ∂z/∂θ: dL/dx̂_b · w_j */
					float dzr = 0;
					for (size_t i = 0; i < d; i++)
						dzr += w->dxhat[b * d + i] * s->p.W_decT[j * d + i];
					gth += -(double)inv_eps * (th[j] * dzr + cB);
				}
			}
		}
		s->g.b_enc[j] += (float)gb;
		if (h->arch == SAE_JUMPRELU)
			s->g.threshold[j] += (float)gth;
		if (h->arch == SAE_RELU && h->l1_decnorm) {
			float c = (float)(cB * zs) / (w->colnorm[j] > 1e-12f ? w->colnorm[j] : 1e-12f);
			for (size_t i = 0; i < d; i++)
				s->g.W_decT[j * d + i] += c * s->p.W_decT[j * d + i];
		}
	}
	double l0 = 0, l1 = 0; /* serial: the same sum for any thread count */
	for (size_t q = 0; q < B * m; q++) {
		l0 += w->z[q] != 0.0f;
		l1 += fabsf(w->z[q]);
	}
	st->l0 = l0 / (double)B;
	st->l1 = l1 / (double)B;
	/* dW_enc += dpreᵀ x_in */
	hus_gemm(1, 0, m, d, B, w->dz, m, w->x_in, d, 1.0f, s->g.W_enc, d);
	if (h->use_b_dec)
		sae_db_dec_grad(s->g.b_dec, w->dxhat, s->g.b_enc, s->p.W_enc, B, d, m, w->dacc);
	return loss;
}
