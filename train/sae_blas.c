/*
 * sae_blas.c — row-major sgemm for the SAE kernels, bound to OpenBLAS by its Fortran symbol.
 * Why not cblas_sgemm: GSL's pkg-config line brings libgslcblas, which also exports
 * cblas_sgemm, and on the current link lines it comes before libopenblas, so cblas_sgemm binds
 * to GSL's reference loop (measured ~50x slower).  Only OpenBLAS exports sgemm_, so calling it
 * is immune to link order.  Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ.
 * OpenBLAS does not split K across threads, so every element is summed in one fixed order.
 */
#include "sae_internal.h"

void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc);

void sae_sgemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
               const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
               size_t ldc)
{
	const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
	const int m = (int)N, n = (int)M, k = (int)K;
	const int ia = (int)lda, ib = (int)ldb, ic = (int)ldc;
	if (M == 0 || N == 0)
		return;
	sgemm_(&tb, &ta, &m, &n, &k, &alpha, B, &ib, A, &ia, &beta, C, &ic);
}
