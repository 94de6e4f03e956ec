/*
 * gemm_kernel_scalar.c — the portable micro-kernel of the matrix product (gemm_internal.h):
 * plain C with fmaf, what HUSAI_ISA=scalar runs and what any CPU without a vector path gets.
 * Written by hand like the vector kernels because the product's reduction order is fixed by
 * husai, not by a BLAS (docs/reproducibility.md): every element is one fmaf chain over k.
 * A 4 x 8 tile keeps 32 independent chains in flight.
 */
#include <math.h>

#include "gemm_internal.h"

#define MR 4
#define NR 8

static void tile_scalar(size_t kc, const float *a, size_t a_cs, const float *b, size_t b_rs,
                        float *c, size_t ldc, size_t mr, size_t nr, int init, float beta)
{
	float acc[MR][NR];
	for (size_t r = 0; r < MR; r++)
		for (size_t j = 0; j < NR; j++) {
			float v = 0.0f;
			if (r < mr && j < nr && init != HUS_INIT_ZERO) {
				v = c[r * ldc + j];
				if (init == HUS_INIT_SCALE)
					v = beta * v;
			}
			acc[r][j] = v;
		}
	for (size_t k = 0; k < kc; k++, a += a_cs, b += b_rs)
		for (size_t r = 0; r < MR; r++) {
			const float ar = a[r];
			for (size_t j = 0; j < NR; j++)
				acc[r][j] = fmaf(ar, b[j], acc[r][j]);
		}
	for (size_t r = 0; r < mr; r++)
		for (size_t j = 0; j < nr; j++)
			c[r * ldc + j] = acc[r][j];
}

const struct hus_gemm_kernel hus_gemm_kernel_scalar = { HUS_ISA_SCALAR, MR, NR, tile_scalar,
                                                      NULL, NULL };
