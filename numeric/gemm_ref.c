/*
 * gemm_ref.c — the canonical matrix product written as the naive triple loop (numeric.h):
 * one fmaf chain per output element over k in index order, from beta·C.  The reference every
 * fast kernel is tested against bit for bit; never used on a hot path.
 */
#include <math.h>

#include "numeric.h"

void hus_gemm_ref(int trans_a, int trans_b, size_t M, size_t N, size_t K, const float *A,
                  size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
	for (size_t i = 0; i < M; i++)
		for (size_t j = 0; j < N; j++) {
			float acc = beta == 0.0f ? 0.0f : beta == 1.0f ? C[i * ldc + j] : beta * C[i * ldc + j];
			for (size_t k = 0; k < K; k++) {
				float a = trans_a ? A[k * lda + i] : A[i * lda + k];
				float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
				acc = fmaf(a, b, acc);
			}
			C[i * ldc + j] = acc;
		}
}
