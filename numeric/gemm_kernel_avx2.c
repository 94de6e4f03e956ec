/*
 * gemm_kernel_avx2.c — the AVX2+FMA micro-kernel of the matrix product (gemm_internal.h): a
 * tile of MR rows by NV vectors of 8 floats (6 x 16: twelve accumulators, two vectors of B and
 * one broadcast of A in the sixteen ymm registers), each lane one _mm256_fmadd_ps chain over k
 * in index order (a lane of a vector FMA rounds exactly like fmaf, so the bits are those of
 * every other path and of hus_gemm_ref).  Hand-written because no BLAS fixes its reduction
 * order (docs/reproducibility.md).  Only these functions are compiled for AVX2 (target
 * attribute); the build stays baseline x86-64 and the driver calls them only when the CPU has
 * AVX2 and FMA.  Edge tiles: a variant per row and vector count; the last vector of a ragged
 * tile loads and stores C under a lane mask.
 */
#if defined(__x86_64__)
#include <immintrin.h>

#include "gemm_internal.h"

#define MR 6
#define NV 2
#define NR (8 * NV)

#define TGT __attribute__((target("avx2,fma")))

static inline TGT __attribute__((always_inline)) void
tile_body(const int mr, const int nv, size_t kc, const float *a, size_t a_cs, const float *b,
          float *c, size_t ldc, size_t nr, int init, float beta)
{
	__m256 acc[MR][NV];
	const size_t tail = nr - 8 * (size_t)(nv - 1);
	const int ragged = tail < 8;
	const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)tail),
	                                        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
	if (init == HUS_INIT_ZERO) {
#pragma GCC unroll 8
		for (int r = 0; r < mr; r++)
#pragma GCC unroll 2
			for (int v = 0; v < nv; v++)
				acc[r][v] = _mm256_setzero_ps();
	} else {
		const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
		for (int r = 0; r < mr; r++)
#pragma GCC unroll 2
			for (int v = 0; v < nv; v++) {
				const float *p = c + (size_t)r * ldc + 8 * v;
				__m256 x = v == nv - 1 && ragged ? _mm256_maskload_ps(p, last)
				                                 : _mm256_loadu_ps(p);
				acc[r][v] = init == HUS_INIT_SCALE ? _mm256_mul_ps(vb, x) : x;
			}
	}
	for (size_t k = 0; k < kc; k++) {
		__m256 bv[NV];
#pragma GCC unroll 2
		for (int v = 0; v < nv; v++)
			bv[v] = _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 8
		for (int r = 0; r < mr; r++) {
			const __m256 av = _mm256_broadcast_ss(a + r);
#pragma GCC unroll 2
			for (int v = 0; v < nv; v++)
				acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
		}
		a += a_cs;
		b += NR;
	}
#pragma GCC unroll 8
	for (int r = 0; r < mr; r++)
#pragma GCC unroll 2
		for (int v = 0; v < nv; v++) {
			float *p = c + (size_t)r * ldc + 8 * v;
			if (v == nv - 1 && ragged)
				_mm256_maskstore_ps(p, last, acc[r][v]);
			else
				_mm256_storeu_ps(p, acc[r][v]);
		}
}

#define TILE_FN(R, V)                                                                          \
	static TGT void tile_##R##_##V(size_t kc, const float *a, size_t a_cs, const float *b,  \
	                               float *c, size_t ldc, size_t nr, int init, float beta)     \
	{                                                                                      \
		tile_body(R, V, kc, a, a_cs, b, c, ldc, nr, init, beta);                       \
	}
#define TILE_ROW(R) TILE_FN(R, 1) TILE_FN(R, 2)
TILE_ROW(1)
TILE_ROW(2)
TILE_ROW(3)
TILE_ROW(4)
TILE_ROW(5)
TILE_ROW(6)

typedef void (*tile_var)(size_t, const float *, size_t, const float *, float *, size_t, size_t,
                         int, float);
#define VARS(R) { tile_##R##_1, tile_##R##_2 }
static const tile_var variants[MR][NV] = { VARS(1), VARS(2), VARS(3), VARS(4), VARS(5), VARS(6) };

static void tile_avx2(size_t kc, const float *a, size_t a_cs, const float *b, float *c,
                      size_t ldc, size_t mr, size_t nr, int init, float beta)
{
	variants[mr - 1][(nr + 7) / 8 - 1](kc, a, a_cs, b, c, ldc, nr, init, beta);
}

const struct hus_gemm_kernel hus_gemm_kernel_avx2 = { HUS_ISA_AVX2, MR, NR, tile_avx2 };

#else
typedef int hus_gemm_kernel_avx2_empty; /* ISO C: a translation unit is not empty */
#endif
