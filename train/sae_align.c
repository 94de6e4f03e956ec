/*
 * sae_align.c — the consistency sweep's decoder-alignment penalty (docs/formulas.md §6.5) and its exact
 * gradient:  P = 1 − (1/m) Σ_i max_j |ŵ_i · r_j|,  ŵ_i = w_i / max(‖w_i‖, 1e-12), r_j unit.
 * Only the argmax entry of each row (lowest j on ties, A12) receives gradient, with sign s_i
 * (sign(0) = 0):  ∂P/∂w_i = −(s_i / (m ‖w_i‖)) (r_j* − ŵ_i (ŵ_i · r_j*)).
 * Computed once per step on the whole matrix; row i is one thread's, so the result does not
 * depend on the thread count.  Needs no buffer: C is never materialised.
 */
#include <math.h>

#include "sae_internal.h"

double sae_align_penalty(float *g_T, const float *W_decT, const float *ref_T, size_t d_sae,
                         size_t m_ref, size_t d_model, double lambda)
{
	size_t d = d_model;
	double total = 0;
	const size_t CH = 64;
	size_t nch = (d_sae + CH - 1) / CH;
	double part[nch ? nch : 1];
#pragma omp parallel for schedule(dynamic, 1) if ((size_t)(d_sae * m_ref * d) > SAE_PAR_MIN)
	for (size_t c = 0; c < nch; c++) {
		double ps = 0;
		size_t i1 = (c + 1) * CH < d_sae ? (c + 1) * CH : d_sae;
		for (size_t i = c * CH; i < i1; i++) {
			const float *w_i = W_decT + i * d;
			double ss = 0;
			for (size_t q = 0; q < d; q++)
				ss += (double)w_i[q] * w_i[q];
			double n = sqrt(ss);
			if (n < 1e-12)
				n = 1e-12;
			float inv = (float)(1.0 / n);
			float best = -1.0f, best_signed = 0.0f;
			size_t jb = 0;
			for (size_t j = 0; j < m_ref; j++) {
				const float *r_j = ref_T + j * d;
				float dot = hus_dot16(w_i, r_j, d) * inv;
				if (fabsf(dot) > best) {
					best = fabsf(dot);
					best_signed = dot;
					jb = j;
				}
			}
			ps += best;
			if (g_T && lambda != 0.0) {
				float sg = (float)((best_signed > 0) - (best_signed < 0));
				float coef = (float)(-lambda / ((double)d_sae * n)) * sg;
				const float *r = ref_T + jb * d;
				float *g_i = g_T + i * d;
				for (size_t q = 0; q < d; q++)
					g_i[q] += coef * (r[q] - (w_i[q] * inv) * best_signed);
			}
		}
		part[c] = ps;
	}
	for (size_t c = 0; c < nch; c++)
		total += part[c];
	return 1.0 - total / (double)d_sae;
}
