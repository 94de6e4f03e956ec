/*
 * gemm_kernel_avx512.c — the AVX-512F micro-kernel of the matrix product (gemm_internal.h):
 * a tile of MR rows by NV vectors of 16 floats, one accumulator register per 16 elements,
 * each lane one _mm512_fmadd_ps chain over k in index order (a lane of a vector FMA rounds
 * exactly like fmaf, so the bits are those of the scalar path and of hus_gemm_ref).
 * Hand-written because no BLAS fixes its reduction order (docs/reproducibility.md).
 * Only these functions are compiled for AVX-512 (target attribute); the build stays baseline
 * x86-64 and the driver calls them only when the CPU has AVX-512F.
 *
 * Edge tiles: a variant per row count (1..MR) and vector count (1..NV), so a short tile does
 * only its own work; the last vector of a ragged tile loads and stores C under a lane mask.
 */
#if defined(__x86_64__)
#include <immintrin.h>

#include "gemm_internal.h"

/* 8 x 48: 24 accumulators, 3 vectors of B and a broadcast of A in the 32 zmm registers; per
 * step of k, 24 FMAs for 3 loads and 8 broadcasts (measured on Zen 5 against 12 x 32,
 * 14 x 32 and 6 x 64: as fast or faster on every shape of bench_gemm.c) */
#define MR 8
#define NV 3
#define NR (16 * NV)

#define TGT __attribute__((target("avx512f")))

static inline TGT __attribute__((always_inline)) void
tile_body(const int mr, const int nv, size_t kc, const float *a, size_t a_cs, const float *b,
          size_t b_rs, float *c, size_t ldc, size_t nr, int init, float beta)
{
	__m512 acc[MR][NV];
	/* lanes of the last vector that are inside the tile */
	const size_t tail = nr - 16 * (size_t)(nv - 1);
	const __mmask16 last = tail >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << tail) - 1);
	const int ragged = tail < 16;
	if (init == HUS_INIT_ZERO) {
#pragma GCC unroll 16
		for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
			for (int v = 0; v < nv; v++)
				acc[r][v] = _mm512_setzero_ps();
	} else {
		const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
		for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
			for (int v = 0; v < nv; v++) {
				const float *p = c + (size_t)r * ldc + 16 * v;
				__m512 x = v == nv - 1 && ragged ? _mm512_maskz_loadu_ps(last, p)
				                                 : _mm512_loadu_ps(p);
				acc[r][v] = init == HUS_INIT_SCALE ? _mm512_mul_ps(vb, x) : x;
			}
	}
	for (size_t k = 0; k < kc; k++) {
		__m512 bv[NV];
#pragma GCC unroll 4
		for (int v = 0; v < nv; v++)
			bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
		for (int r = 0; r < mr; r++) {
			const __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 4
			for (int v = 0; v < nv; v++)
				acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
		}
		a += a_cs;
		b += b_rs;
	}
#pragma GCC unroll 16
	for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
		for (int v = 0; v < nv; v++) {
			float *p = c + (size_t)r * ldc + 16 * v;
			if (v == nv - 1 && ragged)
				_mm512_mask_storeu_ps(p, last, acc[r][v]);
			else
				_mm512_storeu_ps(p, acc[r][v]);
		}
}

/* one function per (rows, vectors): the loops above unroll into registers */
#define TILE_FN(R, V)                                                                          \
	static TGT void tile_##R##_##V(size_t kc, const float *a, size_t a_cs, const float *b,  \
	                               size_t b_rs, float *c, size_t ldc, size_t nr, int init,   \
	                               float beta)                                             \
	{                                                                                      \
		tile_body(R, V, kc, a, a_cs, b, b_rs, c, ldc, nr, init, beta);                 \
	}
#define TILE_ROW(R) TILE_FN(R, 1) TILE_FN(R, 2) TILE_FN(R, 3)
TILE_ROW(1)
TILE_ROW(2)
TILE_ROW(3)
TILE_ROW(4)
TILE_ROW(5)
TILE_ROW(6)
TILE_ROW(7)
TILE_ROW(8)

typedef void (*tile_var)(size_t, const float *, size_t, const float *, size_t, float *, size_t,
                         size_t, int, float);
#define VARS(R) { tile_##R##_1, tile_##R##_2, tile_##R##_3 }
static const tile_var variants[MR][NV] = { VARS(1), VARS(2), VARS(3), VARS(4),
	                                   VARS(5), VARS(6), VARS(7), VARS(8) };

static void tile_avx512(size_t kc, const float *a, size_t a_cs, const float *b, size_t b_rs,
                       float *c, size_t ldc, size_t mr, size_t nr, int init, float beta)
{
	variants[mr - 1][(nr + 15) / 16 - 1](kc, a, a_cs, b, b_rs, c, ldc, nr, init, beta);
}

const struct hus_gemm_kernel hus_gemm_kernel_avx512 = { HUS_ISA_AVX512, MR, NR, tile_avx512,
                                                      hus_gemm_pack_t_avx2,
                                                      hus_gemm_pack_n_avx2 };

#else
typedef int hus_gemm_kernel_avx512_empty; /* ISO C: a translation unit is not empty */
#endif
