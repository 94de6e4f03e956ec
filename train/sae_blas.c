/*
 * sae_blas.c — row-major sgemm for the SAE kernels, bound to OpenBLAS by its Fortran symbol.
 * Why not cblas_sgemm: GSL's pkg-config line brings libgslcblas, which also exports
 * cblas_sgemm, and on the current link lines it comes before libopenblas, so cblas_sgemm binds
 * to GSL's reference loop (measured ~50x slower).  Only OpenBLAS exports sgemm_, so calling it
 * is immune to link order.  Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ.
 *
 * Threading: OpenBLAS's own pthreads and OpenMP's workers spin against each other on two
 * cores, so the product is split here instead: row blocks of a FIXED size (SAE_GEMM_ROWS,
 * independent of the thread count) are handed to OpenMP threads, each running single-threaded
 * sgemm on its block.  Every block is the same call with the same operands whatever the thread
 * count, so the bits are too; OpenBLAS's thread setting is restored afterwards.
 */
#include "sae_internal.h"

#define SAE_GEMM_ROWS 128

int openblas_get_num_threads(void);
void openblas_set_num_threads(int);

void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc);

void sae_sgemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
               const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
               size_t ldc)
{
	const char ta = trans_a ? 'T' : 'N', tb = trans_b ? 'T' : 'N';
	const int m = (int)N, k = (int)K;
	const int ia = (int)lda, ib = (int)ldb, ic = (int)ldc;
	if (M == 0 || N == 0)
		return;
	size_t nblk = (M + SAE_GEMM_ROWS - 1) / SAE_GEMM_ROWS;
	int saved = openblas_get_num_threads();
	openblas_set_num_threads(1);
#pragma omp parallel for schedule(static) if (nblk > 1 && M * N * K > (size_t)1 << 20)
	for (size_t q = 0; q < nblk; q++) {
		size_t r0 = q * SAE_GEMM_ROWS, r1 = r0 + SAE_GEMM_ROWS < M ? r0 + SAE_GEMM_ROWS : M;
		const int n = (int)(r1 - r0);
		/* rows r0..r1 of row-major C = op(A)[r0..r1] op(B): A's rows, or A's columns if trans */
		const float *A_q = trans_a ? A + r0 : A + r0 * lda;
		sgemm_(&tb, &ta, &m, &n, &k, &alpha, B, &ib, A_q, &ia, &beta, C + r0 * ldc, &ic);
	}
	openblas_set_num_threads(saved);
}
