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
          size_t b_rs, float *c, size_t ldc, size_t nr, int init, float beta)
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
		b += b_rs;
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
	                               size_t b_rs, float *c, size_t ldc, size_t nr, int init,   \
	                               float beta)                                             \
	{                                                                                      \
		tile_body(R, V, kc, a, a_cs, b, b_rs, c, ldc, nr, init, beta);                 \
	}
#define TILE_ROW(R) TILE_FN(R, 1) TILE_FN(R, 2)
TILE_ROW(1)
TILE_ROW(2)
TILE_ROW(3)
TILE_ROW(4)
TILE_ROW(5)
TILE_ROW(6)

typedef void (*tile_var)(size_t, const float *, size_t, const float *, size_t, float *, size_t,
                         size_t, int, float);
#define VARS(R) { tile_##R##_1, tile_##R##_2 }
static const tile_var variants[MR][NV] = { VARS(1), VARS(2), VARS(3), VARS(4), VARS(5), VARS(6) };

static void tile_avx2(size_t kc, const float *a, size_t a_cs, const float *b, size_t b_rs,
                     float *c, size_t ldc, size_t mr, size_t nr, int init, float beta)
{
	variants[mr - 1][(nr + 7) / 8 - 1](kc, a, a_cs, b, b_rs, c, ldc, nr, init, beta);
}

/* pack_t (gemm_internal.h): blocks of 8 rows by 8 steps of k transposed in registers */
static inline TGT __attribute__((always_inline)) void transpose8(__m256 r[8])
{
	const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
	const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
	const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
	const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
	const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
	const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
	const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
	const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
	r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
	r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
	r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
	r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
	r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
	r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
	r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
	r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

TGT void hus_gemm_pack_t_avx2(float *dst, size_t width, const float *src, size_t lds,
                              size_t rows, size_t kc)
{
	if (width < 8) {
		/* one group of rows (this path's 6-row panels): every step is stored as 8 lanes; the
		 * lanes past width land on the next step's slots, which are stored next (or, after
		 * the last step, on the next panel or the buffer's slack, see gemm_internal.h) */
		size_t k = 0;
		for (; k + 8 <= kc; k += 8) {
			__m256 v[8];
			for (size_t i = 0; i < 8; i++)
				v[i] = i < rows ? _mm256_loadu_ps(src + i * lds + k) : _mm256_setzero_ps();
			transpose8(v);
			for (size_t i = 0; i < 8; i++)
				_mm256_storeu_ps(dst + (k + i) * width, v[i]);
		}
		for (; k < kc; k++)
			for (size_t r = 0; r < width; r++)
				dst[k * width + r] = r < rows ? src[r * lds + k] : 0.0f;
		return;
	}
	size_t r0 = 0;
	for (; r0 + 8 <= rows; r0 += 8) {
		const float *s = src + r0 * lds;
		size_t k = 0;
		for (; k + 8 <= kc; k += 8) {
			__m256 v[8];
			for (int i = 0; i < 8; i++)
				v[i] = _mm256_loadu_ps(s + i * lds + k);
			transpose8(v);
			for (int i = 0; i < 8; i++)
				_mm256_storeu_ps(dst + (k + i) * width + r0, v[i]);
		}
		for (; k < kc; k++)
			for (size_t i = 0; i < 8; i++)
				dst[k * width + r0 + i] = s[i * lds + k];
	}
	for (size_t r = r0; r < rows; r++)
		for (size_t k = 0; k < kc; k++)
			dst[k * width + r] = src[r * lds + k];
	for (size_t r = rows; r < width; r++)
		for (size_t k = 0; k < kc; k++)
			dst[k * width + r] = 0.0f;
}

/* pack_n (gemm_internal.h): each step of k is width floats, loaded and stored 8 at a time */
TGT void hus_gemm_pack_n_avx2(float *dst, size_t width, const float *src, size_t lds,
                              size_t cols, size_t kc)
{
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	for (size_t c0 = 0; c0 < width; c0 += 8) {
		/* lanes to load (the rest read as 0) and lanes to store */
		const size_t nl = cols > c0 ? (cols - c0 < 8 ? cols - c0 : 8) : 0;
		const size_t ns = width - c0 < 8 ? width - c0 : 8;
		const __m256i ml = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)nl), lane);
		const __m256i ms = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)ns), lane);
		const float *s = src + c0;
		float *d = dst + c0;
		if (nl == 8 && ns == 8)
			for (size_t k = 0; k < kc; k++)
				_mm256_storeu_ps(d + k * width, _mm256_loadu_ps(s + k * lds));
		else if (ns == 8 || width < 8)
			/* width < 8 (one group): 8 lanes stored per step, as in pack_t above */
			for (size_t k = 0; k < kc; k++)
				_mm256_storeu_ps(d + k * width, _mm256_maskload_ps(s + k * lds, ml));
		else
			for (size_t k = 0; k < kc; k++)
				_mm256_maskstore_ps(d + k * width, ms, _mm256_maskload_ps(s + k * lds, ml));
	}
}

const struct hus_gemm_kernel hus_gemm_kernel_avx2 = { HUS_ISA_AVX2, MR, NR, tile_avx2,
	                                              hus_gemm_pack_t_avx2, hus_gemm_pack_n_avx2 };

#else
typedef int hus_gemm_kernel_avx2_empty; /* ISO C: a translation unit is not empty */
#endif
