/*
 * gemm_kernel_neon.c — the AArch64 Advanced SIMD micro-kernel of the matrix product
 * (gemm_internal.h): a tile of 8 rows by 3 vectors of 4 floats (24 accumulators, 3 vectors of
 * B and 2 of A in the 32 q registers), each lane one vfmaq_laneq_f32 chain over k in index
 * order (FMLA by element is a fused multiply-add per lane: the bits of fmaf, of every other
 * path and of hus_gemm_ref).  Hand-written because no BLAS fixes its reduction order
 * (docs/reproducibility.md).  Edge tiles run the full tile on a copy of their part of C.
 */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <string.h>

#include "gemm_internal.h"

#define MR 8
#define NR 12

#define FMA_ROW(r, av, lane)                                                                   \
	do {                                                                                   \
		c##r##0 = vfmaq_laneq_f32(c##r##0, b0, av, lane);                              \
		c##r##1 = vfmaq_laneq_f32(c##r##1, b1, av, lane);                              \
		c##r##2 = vfmaq_laneq_f32(c##r##2, b2, av, lane);                              \
	} while (0)
#define INIT_ROW(r)                                                                            \
	do {                                                                                   \
		if (init == HUS_INIT_ZERO) {                                                   \
			c##r##0 = c##r##1 = c##r##2 = vdupq_n_f32(0.0f);                       \
		} else {                                                                       \
			c##r##0 = vld1q_f32(c + r * ldc);                                      \
			c##r##1 = vld1q_f32(c + r * ldc + 4);                                  \
			c##r##2 = vld1q_f32(c + r * ldc + 8);                                  \
			if (init == HUS_INIT_SCALE) {                                          \
				c##r##0 = vmulq_f32(vb, c##r##0);                              \
				c##r##1 = vmulq_f32(vb, c##r##1);                              \
				c##r##2 = vmulq_f32(vb, c##r##2);                              \
			}                                                                      \
		}                                                                              \
	} while (0)
#define STORE_ROW(r)                                                                           \
	do {                                                                                   \
		vst1q_f32(c + r * ldc, c##r##0);                                               \
		vst1q_f32(c + r * ldc + 4, c##r##1);                                           \
		vst1q_f32(c + r * ldc + 8, c##r##2);                                           \
	} while (0)

/* the full 8 x 12 tile */
static void tile_full(size_t kc, const float *a, size_t a_cs, const float *b, size_t b_rs,
                      float *c, size_t ldc, int init, float beta)
{
	const float32x4_t vb = vdupq_n_f32(beta);
	float32x4_t c00, c01, c02, c10, c11, c12, c20, c21, c22, c30, c31, c32;
	float32x4_t c40, c41, c42, c50, c51, c52, c60, c61, c62, c70, c71, c72;
	INIT_ROW(0);
	INIT_ROW(1);
	INIT_ROW(2);
	INIT_ROW(3);
	INIT_ROW(4);
	INIT_ROW(5);
	INIT_ROW(6);
	INIT_ROW(7);
	for (size_t k = 0; k < kc; k++, a += a_cs, b += b_rs) {
		const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
		const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
		FMA_ROW(0, a0, 0);
		FMA_ROW(1, a0, 1);
		FMA_ROW(2, a0, 2);
		FMA_ROW(3, a0, 3);
		FMA_ROW(4, a1, 0);
		FMA_ROW(5, a1, 1);
		FMA_ROW(6, a1, 2);
		FMA_ROW(7, a1, 3);
	}
	STORE_ROW(0);
	STORE_ROW(1);
	STORE_ROW(2);
	STORE_ROW(3);
	STORE_ROW(4);
	STORE_ROW(5);
	STORE_ROW(6);
	STORE_ROW(7);
}

static void tile_neon(size_t kc, const float *a, size_t a_cs, const float *b, size_t b_rs,
                      float *c, size_t ldc, size_t mr, size_t nr, int init, float beta)
{
	if (mr == MR && nr == NR) {
		tile_full(kc, a, a_cs, b, b_rs, c, ldc, init, beta);
		return;
	}
	/* an edge tile: its elements in a full-size copy (the rest zero), the same chains there */
	float t[MR * NR];
	memset(t, 0, sizeof(t));
	if (init != HUS_INIT_ZERO)
		for (size_t r = 0; r < mr; r++)
			memcpy(t + r * NR, c + r * ldc, nr * sizeof(float));
	tile_full(kc, a, a_cs, b, b_rs, t, NR, init, beta);
	for (size_t r = 0; r < mr; r++)
		memcpy(c + r * ldc, t + r * NR, nr * sizeof(float));
}

const struct hus_gemm_kernel hus_gemm_kernel_neon = { HUS_ISA_NEON, MR, NR, tile_neon, NULL,
                                                    NULL };

#else
typedef int hus_gemm_kernel_neon_empty; /* ISO C: a translation unit is not empty */
#endif
