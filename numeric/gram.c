/*
 * gram.c — the Gram matrix W·Wᵀ in double with a fixed reduction order (numeric.h): one fma
 * chain per element over the columns in index order.  Written by hand instead of BLAS dsyrk
 * because BLAS fixes no order (docs/reproducibility.md).
 *
 * Blocked for speed without touching that order: the columns are taken KB at a time, packed
 * transposed into a panel of doubles (step k: the n values W[·][k], contiguous), and every
 * 4 x 8 tile of the lower triangle resumes its 32 chains from G, runs them over the block's
 * steps and stores them back.  The chains are independent, so computing 8 of them in one
 * vector fma (AVX2, a correctly rounded fma per lane like libm's fma()) gives the bits of the
 * scalar loop; the scalar path (HUSAI_ISA=scalar, edges) runs the same chains with fma().
 * The threads split tiles inside a block and meet between blocks, so the thread count
 * cannot change a bit.  At 768 x 16384 this is ~40x the former row-by-row loop, which
 * called libm's fma once per term (analysis at language-model scale, EXPERIMENTS.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numeric.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define GRAM_TGT __attribute__((target("avx2,fma")))
#endif

#define GRAM_KB 64 /* steps per packed block: 64 x n doubles (393 KB at n = 768) */

/* rows i0..i0+ri-1 by columns j0..j0+cj-1 of G, chains resumed over kb steps of panel P */
static void tile_scalar(double *G, size_t n, const double *P, size_t kb, size_t i0, size_t ri,
                        size_t j0, size_t cj)
{
	for (size_t r = 0; r < ri; r++)
		for (size_t c = 0; c < cj; c++) {
			double a = G[(i0 + r) * n + j0 + c];
			for (size_t k = 0; k < kb; k++)
				a = fma(P[k * n + i0 + r], P[k * n + j0 + c], a);
			G[(i0 + r) * n + j0 + c] = a;
		}
}

#if defined(__x86_64__)
/* a full 4 x 8 tile: 8 ymm accumulators of 4 chains each */
GRAM_TGT static void tile_avx2(double *G, size_t n, const double *P, size_t kb, size_t i0,
                               size_t j0)
{
	double *g0 = G + i0 * n + j0, *g1 = g0 + n, *g2 = g1 + n, *g3 = g2 + n;
	__m256d c00 = _mm256_loadu_pd(g0), c01 = _mm256_loadu_pd(g0 + 4);
	__m256d c10 = _mm256_loadu_pd(g1), c11 = _mm256_loadu_pd(g1 + 4);
	__m256d c20 = _mm256_loadu_pd(g2), c21 = _mm256_loadu_pd(g2 + 4);
	__m256d c30 = _mm256_loadu_pd(g3), c31 = _mm256_loadu_pd(g3 + 4);
	for (size_t k = 0; k < kb; k++) {
		const double *p = P + k * n;
		__m256d b0 = _mm256_loadu_pd(p + j0), b1 = _mm256_loadu_pd(p + j0 + 4);
		__m256d a = _mm256_broadcast_sd(p + i0);
		c00 = _mm256_fmadd_pd(a, b0, c00), c01 = _mm256_fmadd_pd(a, b1, c01);
		a = _mm256_broadcast_sd(p + i0 + 1);
		c10 = _mm256_fmadd_pd(a, b0, c10), c11 = _mm256_fmadd_pd(a, b1, c11);
		a = _mm256_broadcast_sd(p + i0 + 2);
		c20 = _mm256_fmadd_pd(a, b0, c20), c21 = _mm256_fmadd_pd(a, b1, c21);
		a = _mm256_broadcast_sd(p + i0 + 3);
		c30 = _mm256_fmadd_pd(a, b0, c30), c31 = _mm256_fmadd_pd(a, b1, c31);
	}
	_mm256_storeu_pd(g0, c00), _mm256_storeu_pd(g0 + 4, c01);
	_mm256_storeu_pd(g1, c10), _mm256_storeu_pd(g1 + 4, c11);
	_mm256_storeu_pd(g2, c20), _mm256_storeu_pd(g2 + 4, c21);
	_mm256_storeu_pd(g3, c30), _mm256_storeu_pd(g3 + 4, c31);
}
#endif

/* W[r][k] at W[r*rs + k*ks]: (rs, ks) = (m, 1) for W (n, m), (1, n) for Wᵀ stored (m, n) */
static void gram_strided(double *G, const float *W, size_t rs, size_t ks, size_t n, size_t m)
{
	memset(G, 0, sizeof(double) * n * n);
	double *P = malloc(sizeof(double) * GRAM_KB * (n ? n : 1));
	int vec = 0;
#if defined(__x86_64__)
	enum hus_isa isa = hus_isa_current();
	vec = isa == HUS_ISA_AVX2 || isa == HUS_ISA_AVX512;
#endif
	size_t ntile_i = (n + 3) / 4;
	if (!P) { /* no panel: the plain chains, same bits */
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j <= i; j++) {
				double a = 0;
				for (size_t k = 0; k < m; k++)
					a = fma((double)W[i * rs + k * ks], (double)W[j * rs + k * ks], a);
				G[i * n + j] = a;
			}
		goto mirror;
	}
#pragma omp parallel if (n * n * m > (1u << 22))
	for (size_t k0 = 0; k0 < m; k0 += GRAM_KB) {
		size_t kb = m - k0 < GRAM_KB ? m - k0 : GRAM_KB;
#pragma omp for schedule(static)
		for (size_t r = 0; r < n; r++)
			for (size_t k = 0; k < kb; k++)
				P[k * n + r] = (double)W[r * rs + (k0 + k) * ks];
		/* tile rows of 4 (the last may be shorter); columns of 8 up to the diagonal */
#pragma omp for schedule(dynamic, 4)
		for (size_t ti = 0; ti < ntile_i; ti++) {
			size_t i0 = ti * 4, ri = n - i0 < 4 ? n - i0 : 4, jend = i0 + ri;
			for (size_t j0 = 0; j0 < jend; j0 += 8) {
				size_t cj = jend - j0 < 8 ? jend - j0 : 8;
#if defined(__x86_64__)
				if (vec && ri == 4 && cj == 8) {
					tile_avx2(G, n, P, kb, i0, j0);
					continue;
				}
#endif
				tile_scalar(G, n, P, kb, i0, ri, j0, cj);
			}
		}
	}
	free(P);
mirror:
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			G[i * n + j] = G[j * n + i];
}

void hus_gram_f64(double *G, const float *W, size_t n, size_t m)
{
	gram_strided(G, W, m, 1, n, m);
}

void hus_gram_t_f64(double *G, const float *Wt, size_t n, size_t m)
{
	gram_strided(G, Wt, 1, n, n, m);
}
