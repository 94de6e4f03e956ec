/*
 * gram.c — the Gram matrix W·Wᵀ in double with a fixed reduction order (numeric.h): one fma
 * chain per element over the columns in index order.  Written by hand instead of BLAS dsyrk
 * because BLAS fixes no order (docs/reproducibility.md).  Four rows of W against one at a time
 * so each loaded element is used four times; the chains themselves are independent.
 */
#include <math.h>

#include "numeric.h"

void hus_gram_f64(double *G, const float *W, size_t n, size_t m)
{
#pragma omp parallel for schedule(dynamic, 4) if (n * n * m > (1u << 22))
	for (size_t i = 0; i < n; i++) {
		const float *Wi = W + i * m;
		size_t j = 0;
		for (; j + 4 <= i + 1; j += 4) {
			const float *W0 = W + j * m, *W1 = W0 + m, *W2 = W1 + m, *W3 = W2 + m;
			double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
			for (size_t k = 0; k < m; k++) {
				double w = Wi[k];
				a0 = fma(w, (double)W0[k], a0);
				a1 = fma(w, (double)W1[k], a1);
				a2 = fma(w, (double)W2[k], a2);
				a3 = fma(w, (double)W3[k], a3);
			}
			G[i * n + j] = a0, G[i * n + j + 1] = a1, G[i * n + j + 2] = a2, G[i * n + j + 3] = a3;
		}
		for (; j <= i; j++) {
			const float *Wj = W + j * m;
			double a = 0;
			for (size_t k = 0; k < m; k++)
				a = fma((double)Wi[k], (double)Wj[k], a);
			G[i * n + j] = a;
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			G[i * n + j] = G[j * n + i];
}
