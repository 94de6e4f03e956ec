/*
 * gemm_internal.h — the interface between the matrix-product driver (gemm.c) and its
 * micro-kernels (gemm_kernel_<isa>.c).  Not part of husai's API.
 *
 * A micro-kernel computes one tile of C, at most MR rows by NR columns, over one block of
 * kc steps of k, from packed operands:
 *   a  the A micro-panel: for step k the MR values op(A)[i0+r][k0+k] at a[k*a_cs + r]
 *      (a_cs == MR for the driver's packed panels);
 *      a kernel may read all MR values of every step and all NR of b (the driver reads an
 *      operand in place, a_cs = lda or b_rs = ldb, only for full panels);
 *   b  the B micro-panel: for step k the NR values op(B)[k0+k][j0+c] at b[k*b_rs + c]
 *      (b_rs == NR for the driver's packed panels);
 *   c  the tile's top-left element of C, rows ldc floats apart; only the mr x nr elements of
 *      the tile are read or written (edge tiles: mr < MR, nr < NR; the panels are zero-padded
 *      there, and the padded rows and columns never reach memory).
 * Every element is one fused multiply-add chain over k in index order, from
 *   init == HUS_INIT_ZERO:  0            (C is not read: it may hold NaN)
 *   init == HUS_INIT_LOAD:  C            (beta == 1, or a later block of k resuming the chain)
 *   init == HUS_INIT_SCALE: beta·C       (one rounded product)
 * and the tile is stored back after the last step, so the driver's blocking of k is the same
 * chain as numeric.h's reference loop, bit for bit (docs/reproducibility.md).
 */
#ifndef HUSAI_GEMM_INTERNAL_H
#define HUSAI_GEMM_INTERNAL_H

#include <stddef.h>

#include "numeric.h"

enum { HUS_INIT_ZERO = 0, HUS_INIT_LOAD = 1, HUS_INIT_SCALE = 2 };

typedef void (*hus_gemm_tile_fn)(size_t kc, const float *a, size_t a_cs, const float *b,
                                 size_t b_rs, float *c, size_t ldc, size_t mr, size_t nr,
                                 int init, float beta);

/* Packing by transposition: for r < rows (<= width) and k < kc, dst[k*width + r] =
 * src[r*lds + k], and dst[k*width + r] = 0 for rows <= r < width.  Packs op(A) panels when A is
 * not transposed (width MR) and op(B) panels when B is (width NR).  Only moves bits. */
typedef void (*hus_gemm_pack_t_fn)(float *dst, size_t width, const float *src, size_t lds,
                                   size_t rows, size_t kc);
/* A pack function may also write up to HUS_PACK_SLACK floats past the panel it fills: the
 * driver packs the panels of a block in order and keeps that much slack after its buffer. */
#define HUS_PACK_SLACK 16

/* Packing by copy: for c < cols (<= width) and k < kc, dst[k*width + c] = src[k*lds + c], and
 * dst[k*width + c] = 0 for cols <= c < width.  Packs op(A) panels when A is transposed (width
 * MR) and op(B) panels when B is not (width NR). */
typedef void (*hus_gemm_pack_n_fn)(float *dst, size_t width, const float *src, size_t lds,
                                   size_t cols, size_t kc);

struct hus_gemm_kernel {
	enum hus_isa isa;
	size_t mr, nr;         /* the tile: MR rows (broadcast from A) by NR columns (vectors of B) */
	hus_gemm_tile_fn tile; /* mr <= MR, nr <= NR */
	hus_gemm_pack_t_fn pack_t; /* NULL: the driver's portable loop */
	hus_gemm_pack_n_fn pack_n; /* NULL: the driver's portable loop */
};

#if defined(__x86_64__)
/* gemm_kernel_avx2.c: pack_t by 8 x 8 transposes in ymm registers (AVX2 and AVX-512 paths) */
void hus_gemm_pack_t_avx2(float *dst, size_t width, const float *src, size_t lds, size_t rows,
                          size_t kc);
/* gemm_kernel_avx2.c: pack_n by (masked) ymm loads and stores */
void hus_gemm_pack_n_avx2(float *dst, size_t width, const float *src, size_t lds, size_t cols,
                          size_t kc);
#endif

/* The kernels this build has; each is defined only where its instruction set can exist
 * (x86-64 for AVX2 and AVX-512, aarch64 for NEON).  hus_gemm_kernel_for(isa) is the one the
 * driver uses for a path, or NULL if the build has none. */
extern const struct hus_gemm_kernel hus_gemm_kernel_scalar;
#if defined(__x86_64__)
#define HUS_HAVE_X86_KERNELS 1
extern const struct hus_gemm_kernel hus_gemm_kernel_avx2;
extern const struct hus_gemm_kernel hus_gemm_kernel_avx512;
#endif
#if defined(__aarch64__)
#define HUS_HAVE_NEON_KERNEL 1
extern const struct hus_gemm_kernel hus_gemm_kernel_neon;
#endif

const struct hus_gemm_kernel *hus_gemm_kernel_for(enum hus_isa isa);

#endif
