/*
 * tf_gemm.c — the transformer's matrix products: CBLAS sgemm (OpenBLAS) in a fixed number of
 * row blocks of the output, run by OpenMP threads with OpenBLAS itself single-threaded.
 * The blocks depend only on the shape, never on the thread count, and sgemm never splits
 * the reduction dimension, so every element is summed in the same order with 1 or 2
 * threads; and only one pool of threads exists, so OpenMP and OpenBLAS workers never fight
 * over the cores (DESIGN §5).
 */
#include <cblas.h>

#include "train.h"

void openblas_set_num_threads(int);

#define GEMM_BLOCKS 2

void tf_gemm_init(void)
{
	openblas_set_num_threads(1);
}

/* C (M, N) = op(A) (M, K) · op(B) (K, N) + beta C, row-major. */
void tf_gemm(int ta, int tb, size_t M, size_t N, size_t K, const float *A, size_t lda,
             const float *Bm, size_t ldb, float beta, float *C, size_t ldc)
{
	size_t nblk = M >= 64 ? GEMM_BLOCKS : 1;
	size_t step = ((M + nblk - 1) / nblk + 15) & ~(size_t)15;
#pragma omp parallel for schedule(static, 1) if (M * N * K >= 512 * TF_PAR_MIN)
	for (size_t k = 0; k < nblk; k++) {
		size_t m0 = k * step, m1 = m0 + step < M ? m0 + step : M;
		if (m0 >= m1)
			continue;
		/* rows m0.. of op(A): row offset when A is not transposed, column offset if it is */
		const float *A_k = ta ? A + m0 : A + m0 * lda;
		cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
		            tb ? CblasTrans : CblasNoTrans, (int)(m1 - m0), (int)N, (int)K, 1.0f, A_k,
		            (int)lda, Bm, (int)ldb, beta, C + m0 * ldc, (int)ldc);
	}
}
