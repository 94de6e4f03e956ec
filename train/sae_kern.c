/*
 * sae_kern.c — the inner loops of the sparse SAE kernels, compiled for several instruction
 * sets (GCC target_clones: baseline x86-64, AVX2, AVX-512; the loader picks one at start-up),
 * since husai is built without -march.  The results are the same bits on every clone:
 * products and sums stay separate (-ffp-contract=off), element-wise loops do not reorder
 * anything, and dot products accumulate in 16 fixed lanes summed in a fixed tree (hus_dot16,
 * numeric.h), so the vector width never changes the order of additions.
 */
#include <string.h>

#include "sae_internal.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define SAE_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define SAE_CLONES
#endif

/*
 * Register blocking: a row's accumulator is cut into 64-float chunks held in four vector
 * registers (GCC vector types) while every entry is added to it, instead of a load-add-store
 * of the whole row per entry.  Each element still gets its terms in entry order, one rounded
 * product and one rounded sum each (-ffp-contract=off), so the sums are the same bits.
 */
typedef float sae_v16 __attribute__((vector_size(64)));

/* macros, not functions: a 64-byte vector argument or return value trips -Wpsabi in the
 * baseline clone */
#define V16_LOAD(v, p) memcpy(&(v), (p), sizeof(sae_v16))
#define V16_STORE(p, v) memcpy((p), &(v), sizeof(sae_v16))

SAE_CLONES
void sae_k_decode_row(float *restrict xh_b, const float *restrict b_dec,
                      const int32_t *restrict idx, const float *restrict val, size_t e0,
                      size_t e1, const float *restrict W_decT, size_t d)
{
	size_t i0 = 0;
	for (; i0 + 64 <= d; i0 += 64) {
		sae_v16 a0, a1, a2, a3, w0, w1, w2, w3;
		V16_LOAD(a0, b_dec + i0), V16_LOAD(a1, b_dec + i0 + 16);
		V16_LOAD(a2, b_dec + i0 + 32), V16_LOAD(a3, b_dec + i0 + 48);
		for (size_t e = e0; e < e1; e++) {
			float z = val[e];
			if (z == 0.0f)
				continue;
			const float *w_j = W_decT + (size_t)idx[e] * d + i0;
			V16_LOAD(w0, w_j), V16_LOAD(w1, w_j + 16);
			V16_LOAD(w2, w_j + 32), V16_LOAD(w3, w_j + 48);
			a0 += z * w0, a1 += z * w1, a2 += z * w2, a3 += z * w3;
		}
		V16_STORE(xh_b + i0, a0), V16_STORE(xh_b + i0 + 16, a1);
		V16_STORE(xh_b + i0 + 32, a2), V16_STORE(xh_b + i0 + 48, a3);
	}
	if (i0 == d)
		return;
#pragma omp simd
	for (size_t i = i0; i < d; i++)
		xh_b[i] = b_dec[i];
	for (size_t e = e0; e < e1; e++) {
		float z = val[e];
		if (z == 0.0f)
			continue;
		const float *restrict w_j = W_decT + (size_t)idx[e] * d;
#pragma omp simd
		for (size_t i = i0; i < d; i++)
			xh_b[i] += z * w_j[i];
	}
}

SAE_CLONES
void sae_k_row_dots(float *restrict out, const float *restrict g_b, const int32_t *restrict idx,
                    size_t e0, size_t e1, const float *restrict W_decT, size_t d)
{
	for (size_t e = e0; e < e1; e++)
		out[e - e0] = hus_dot16(g_b, W_decT + (size_t)idx[e] * d, d);
}

SAE_CLONES
float sae_k_dot(const float *restrict a, const float *restrict b, size_t n)
{
	return hus_dot16(a, b, n);
}

SAE_CLONES
float sae_k_latent_acc(float *restrict dwd_j, float *restrict dwe_j, const int32_t *restrict order,
                       size_t t0, size_t t1, const int32_t *restrict e_b,
                       const float *restrict e_z, const float *restrict e_g,
                       const uint8_t *restrict e_src, const float *const *G,
                       const float *restrict x_in, size_t d)
{
	float gb = 0.0f;
	for (size_t t = t0; t < t1; t++) {
		size_t e = (size_t)order[t];
		size_t b = (size_t)e_b[e];
		float z = e_z[e], g = e_g[e];
		if (z != 0.0f) {
			const float *restrict G_b = G[e_src[e]] + b * d;
#pragma omp simd
			for (size_t i = 0; i < d; i++)
				dwd_j[i] += z * G_b[i];
		}
		if (g != 0.0f) {
			const float *restrict x_b = x_in + b * d;
#pragma omp simd
			for (size_t i = 0; i < d; i++)
				dwe_j[i] += g * x_b[i];
			gb += g;
		}
	}
	return gb;
}

/* The same sums by entry order instead of by latent (for latents j0 <= j < j1): each entry's
 * rows G_src[b], x_in[b] are read where they lie, in row order, and added into its latent's
 * rows of dW; every element gets its terms in the same order as sae_k_latent_acc gives them,
 * so the bits agree.  gsum[j] collects Σ g for the db_enc term. */
SAE_CLONES
void sae_k_entries_scatter(float *restrict dWd, float *restrict dWe, float *restrict gsum,
                           size_t j0, size_t j1, size_t n, const int32_t *restrict e_j,
                           const int32_t *restrict e_b, const float *restrict e_z,
                           const float *restrict e_g, const uint8_t *restrict e_src,
                           const float *const *G, const float *restrict x_in, size_t d)
{
	for (size_t e = 0; e < n; e++) {
		int32_t jj = e_j[e];
		if (jj < (int32_t)j0 || jj >= (int32_t)j1)
			continue;
		size_t j = (size_t)jj, b = (size_t)e_b[e];
		float z = e_z[e], g = e_g[e];
		if (z != 0.0f) {
			const float *restrict G_b = G[e_src[e]] + b * d;
			float *restrict dwd_j = dWd + j * d;
#pragma omp simd
			for (size_t i = 0; i < d; i++)
				dwd_j[i] += z * G_b[i];
		}
		if (g != 0.0f) {
			const float *restrict x_b = x_in + b * d;
			float *restrict dwe_j = dWe + j * d;
#pragma omp simd
			for (size_t i = 0; i < d; i++)
				dwe_j[i] += g * x_b[i];
			gsum[j] += g;
		}
	}
}


/*
 * Exact top-k of ng <= SAE_TOPK_GROUP rows of v (row stride n), indices ascending, ties to the
 * lowest index: the same set as hus_topk.  The rows are laid side by side, one per vector
 * lane (key[i] holds element i of every row), and each row's k-th largest key t is found bit
 * by bit: t gets a bit when at least k keys are >= t with it, a vertical compare-and-count per
 * bit with no horizontal sums.  Then every key > t is kept and the lowest-index keys == t fill
 * the rest.  32 passes over the rows: faster than the radix/heap selection for rows of up to
 * ~2k latents.  key: n * SAE_TOPK_GROUP words of scratch.
 */
typedef uint32_t sae_u16 __attribute__((vector_size(64), aligned(4))); /* any alignment */

SAE_CLONES
void sae_k_topk_rows(int32_t *restrict idx, const float *restrict v, size_t n, size_t k,
                     size_t ng, uint32_t *restrict key)
{
	for (size_t r = 0; r < SAE_TOPK_GROUP; r++)
		for (size_t i = 0; i < n; i++)
			key[i * SAE_TOPK_GROUP + r] = r < ng ? sae_fkey(v[r * n + i]) : 0;
	const sae_u16 *kv = (const sae_u16 *)(void *)key;
	sae_u16 t = { 0 }, kk = { 0 };
	kk += (uint32_t)k;
	for (int bit = 31; bit >= 0; bit--) {
		sae_u16 try = t | (1u << bit), c = { 0 };
		for (size_t i = 0; i < n; i++)
			c -= (sae_u16)(kv[i] >= try); /* a true lane is all ones: -1 */
		sae_u16 keep = (sae_u16)(c >= kk);
		t = (try & keep) | (t & ~keep);
	}
	sae_u16 ge = { 0 }, eq = { 0 };
	for (size_t i = 0; i < n; i++) {
		ge -= (sae_u16)(kv[i] >= t);
		eq -= (sae_u16)(kv[i] == t);
	}
	for (size_t r = 0; r < ng; r++) {
		int32_t *restrict ig = idx + r * k;
		uint32_t tr = t[r];
		size_t o = 0;
		if (ge[r] == k) { /* no tie beyond the k-th: keep every key >= t, branch-free */
			for (size_t i = 0; o < k; i++) { /* never writes past ig[k - 1] */
				ig[o] = (int32_t)i;
				o += key[i * SAE_TOPK_GROUP + r] >= tr;
			}
		} else { /* keys == t fill the last k - #(> t) places, lowest indices first */
			size_t fill = k - (ge[r] - eq[r]);
			for (size_t i = 0; o < k; i++) {
				uint32_t x = key[i * SAE_TOPK_GROUP + r];
				if (x > tr || (x == tr && fill)) {
					ig[o++] = (int32_t)i;
					fill -= x == tr;
				}
			}
		}
	}
}
