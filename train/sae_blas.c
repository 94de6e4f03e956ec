/*
 * sae_blas.c — row-major sgemm for the SAE kernels, bound to OpenBLAS by its Fortran symbol.
 * Why not cblas_sgemm: GSL's pkg-config line brings libgslcblas, which also exports
 * cblas_sgemm, and on the current link lines it comes before libopenblas, so cblas_sgemm binds
 * to GSL's reference loop (measured ~50x slower).  Only OpenBLAS exports sgemm_, so calling it
 * is immune to link order.  Row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ.
 *
 * Threading: OpenBLAS's own pthreads and OpenMP's workers spin against each other on two
 * cores, so the product is split here instead: blocks of C whose size depends only on the
 * shapes (never on the thread count) are handed to OpenMP threads, each running single-threaded
 * sgemm on its block.  Every block is the same call with the same operands whatever the thread
 * count, so the bits are too; OpenBLAS's thread setting is restored afterwards.
 */
#include <omp.h>

#include "sae_internal.h"

#define SAE_GEMM_BLOCKS 8     /* blocks per product (shapes only decide their size) */
#define SAE_GEMM_MIN_BLOCK 64

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
	const int k = (int)K, ia = (int)lda, ib = (int)ldb, ic = (int)ldc;
	if (M == 0 || N == 0)
		return;
	/* Split C into SAE_GEMM_BLOCKS blocks along the dimension whose operand is larger, so the
	 * smaller operand is the one every block re-packs.  Block sizes depend on the shapes only. */
	int by_rows = M * K >= N * K ? 1 : 0; /* A (M x K) larger: split M */
	size_t dim = by_rows ? M : N;
	size_t bs = (dim + SAE_GEMM_BLOCKS - 1) / SAE_GEMM_BLOCKS;
	if (bs < SAE_GEMM_MIN_BLOCK)
		bs = SAE_GEMM_MIN_BLOCK;
	size_t nblk = (dim + bs - 1) / bs;
	/* inside a parallel region (runs trained side by side) the region's owner has already
	 * made OpenBLAS single-threaded; its thread setting is global, so only the owner sets it */
	int inner = omp_in_parallel();
	int saved = inner ? 1 : sae_blas_single_thread();
#pragma omp parallel for schedule(static) if (nblk > 1 && M * N * K > (size_t)1 << 20)
	for (size_t q = 0; q < nblk; q++) {
		size_t r0 = q * bs, r1 = r0 + bs < dim ? r0 + bs : dim;
		if (by_rows) {
			/* rows r0..r1 of C = op(A)[r0..r1] op(B): A's rows, or A's columns if trans */
			const float *A_q = trans_a ? A + r0 : A + r0 * lda;
			const int m = (int)N, n = (int)(r1 - r0);
			sgemm_(&tb, &ta, &m, &n, &k, &alpha, B, &ib, A_q, &ia, &beta, C + r0 * ldc, &ic);
		} else {
			/* columns r0..r1 of C = op(A) op(B)[:, r0..r1]: B's columns, or B's rows if trans */
			const float *B_q = trans_b ? B + r0 * ldb : B + r0;
			const int m = (int)(r1 - r0), n = (int)M;
			sgemm_(&tb, &ta, &m, &n, &k, &alpha, B_q, &ib, A, &ia, &beta, C + r0, &ic);
		}
	}
	if (!inner)
		sae_blas_restore_threads(saved);
}

int sae_blas_single_thread(void)
{
	int saved = openblas_get_num_threads();
	openblas_set_num_threads(1);
	return saved;
}

void sae_blas_restore_threads(int saved)
{
	openblas_set_num_threads(saved);
}
