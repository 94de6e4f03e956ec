/*
 * sae_select.c — top-k selection for the TopK family.  Order is (value descending, index
 * ascending): the lowest index wins ties (docs/formulas.md §4.3, A12), so the chosen set is a function of
 * the values alone.  One row is one thread's work; a k-heap scan is O(m) in practice because
 * after the first few hundred values almost none beats the heap's root.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "sae_internal.h"

/*
 * The same selection as hus_topk, without its branch-heavy heap for the common case: a
 * histogram of the top SAE_RADIX_BITS bits of each value's order key finds the bucket holding
 * the k-th largest; every value in a higher bucket is kept, and the rest are chosen among that
 * bucket's values by hus_topk (so ties still go to the lowest index).
 * tmp: n floats; cand: 2n ints; hist: SAE_RADIX_BUCKETS; heap: 2k.
 */
void sae_topk_row_radix(int32_t *idx, const float *v, size_t n, size_t k, int32_t *heap,
                        uint32_t *hist, int32_t *cand, float *tmp)
{
	if (k > n)
		k = n;
	if (k == 0)
		return;
	if (n <= 2 * k) { /* nearly everything is kept: the heap is cheap here */
		hus_topk(idx, v, n, k, heap);
		return;
	}
	const int sh = 32 - SAE_RADIX_BITS;
	memset(hist, 0, SAE_RADIX_BUCKETS * sizeof(*hist));
	uint32_t maxb = 0;
	for (size_t j = 0; j < n; j++) {
		uint32_t b = sae_fkey(v[j]) >> sh;
		hist[b]++;
		maxb = b > maxb ? b : maxb;
	}
	size_t above = 0;
	uint32_t kb = maxb;
	for (;; kb--) {
		if (above + hist[kb] >= k)
			break;
		above += hist[kb];
	}
	size_t need = k - above, na = 0, nc = 0;
	int32_t *taken = cand, *inb = cand + n;
	for (size_t j = 0; j < n; j++) {
		uint32_t b = sae_fkey(v[j]) >> sh;
		if (b > kb)
			taken[na++] = (int32_t)j;
		else if (b == kb) {
			tmp[nc] = v[j];
			inb[nc++] = (int32_t)j;
		}
	}
	int32_t *chosen = heap + k; /* heap needs `need` slots; chosen the next `need` */
	if (need == nc) {
		for (size_t q = 0; q < nc; q++)
			chosen[q] = (int32_t)q;
	} else {
		hus_topk(chosen, tmp, nc, need, heap);
	}
	/* merge two ascending lists: taken (original indices) and inb[chosen] */
	size_t a = 0, c = 0, o = 0;
	while (a < na || c < need) {
		if (c >= need || (a < na && taken[a] < inb[chosen[c]]))
			idx[o++] = taken[a++];
		else
			idx[o++] = inb[chosen[c++]];
	}
}

/*
 * Block-maximum prefilter (exact): with the row cut into blocks, let T be the k-th largest
 * block maximum.  The k blocks holding those maxima each have an element >= T, so the k-th
 * largest element is >= T, and every element of the top k lies in a block whose maximum is
 * >= T.  Only those elements are candidates; the exact choice among them (ties to the lowest
 * index) is sae_topk_row_radix's.  bmax: n/bs floats; cidx: n ints; cval: n floats.
 */
static void topk_row_blockmax(int32_t *idx, const float *v, size_t n, size_t k, size_t bs,
                              int32_t *heap, uint32_t *hist, int32_t *cand, float *tmp,
                              float *bmax, int32_t *cidx, float *cval)
{
	size_t nb = n / bs;
	if (nb <= k || n % bs) { /* prefilter cannot help */
		sae_topk_row_radix(idx, v, n, k, heap, hist, cand, tmp);
		return;
	}
	for (size_t q = 0; q < nb; q++) {
		const float *v_q = v + q * bs;
		float mx = v_q[0];
		for (size_t i = 1; i < bs; i++)
			mx = v_q[i] > mx ? v_q[i] : mx;
		bmax[q] = mx;
	}
	/* T = the k-th largest block maximum */
	sae_topk_row_radix(cidx, bmax, nb, k, heap, hist, cand, tmp);
	float T = bmax[cidx[0]];
	for (size_t q = 1; q < k; q++)
		T = bmax[cidx[q]] < T ? bmax[cidx[q]] : T;
	size_t nc = 0;
	for (size_t q = 0; q < nb; q++) {
		if (!(bmax[q] >= T))
			continue;
		const float *v_q = v + q * bs;
		for (size_t i = 0; i < bs; i++)
			if (v_q[i] >= T) {
				cval[nc] = v_q[i];
				cidx[nc++] = (int32_t)(q * bs + i);
			}
	}
	sae_topk_row_radix(idx, cval, nc, k, heap, hist, cand, tmp);
	for (size_t q = 0; q < k; q++) /* candidate positions -> row indices (both ascending) */
		idx[q] = cidx[idx[q]];
}

void sae_select_topk_rows(struct sae_work *w, const float *pre, size_t B, size_t k)
{
	size_t m = w->m;
	size_t kh = k > w->ka ? k : w->ka;
	if (kh == 0)
		kh = 1;
	/* Wide rows with k << m: the block-maximum prefilter skips most of each row.  Otherwise
	 * the bit-by-bit threshold search of sae_k_topk_rows, four rows at a time. */
	int prefilter = m >= 64 * k && m % 16 == 0 && m / 16 > k;
	size_t kk = k < m ? k : m;
	if (!prefilter && kk > 0) {
		size_t ngroups = (B + SAE_TOPK_GROUP - 1) / SAE_TOPK_GROUP;
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(B * m) > SAE_PAR_MIN)
		for (size_t q = 0; q < ngroups; q++) {
			int t = omp_get_thread_num();
			size_t b0 = q * SAE_TOPK_GROUP;
			size_t ng = B - b0 < SAE_TOPK_GROUP ? B - b0 : SAE_TOPK_GROUP;
			int32_t *idx_q = w->idx + b0 * k;
			sae_k_topk_rows(idx_q, pre + b0 * m, m, kk, ng,
					w->keys + (size_t)t * SAE_TOPK_GROUP * m);
			for (size_t g = 0; g < ng; g++)
				for (size_t e = 0; e < kk; e++)
					w->val[(b0 + g) * k + e] = pre[(b0 + g) * m + (size_t)idx_q[g * k + e]];
		}
	} else {
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(B * m) > SAE_PAR_MIN)
		for (size_t b = 0; b < B; b++) {
			int t = omp_get_thread_num();
			int32_t *heap = w->heap + (size_t)t * 2 * kh;
			const float *pre_b = pre + b * m;
			int32_t *idx_b = w->idx + b * k;
			size_t bs = prefilter ? 16 : m;
			float *sc = w->scratch + (size_t)t * 3 * m;
			int32_t *cd = w->cand + (size_t)t * 3 * m;
			topk_row_blockmax(idx_b, pre_b, m, k, bs, heap,
					  w->hist + (size_t)t * SAE_RADIX_BUCKETS, cd, sc, sc + m, cd + 2 * m,
					  sc + 2 * m);
			for (size_t e = 0; e < k; e++)
				w->val[b * k + e] = pre_b[idx_b[e]];
		}
	}
	for (size_t b = 0; b <= B; b++)
		w->row_off[b] = b * k;
}

/* r-th largest (0-based) of v[0..n), reordering v; deterministic median-of-three pivots. */
float sae_quickselect_desc(float *v, size_t n, size_t r)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		float a = v[lo], b = v[mid], c = v[hi];
		float piv = (a > b) ? ((b > c) ? b : (a > c ? c : a)) : ((a > c) ? a : (b > c ? c : b));
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] > piv)
				i++;
			while (v[j] < piv)
				j--;
			if (i <= j) {
				float t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (r <= j && j != (size_t)-1 && j >= lo)
			hi = j;
		else if (r >= i)
			lo = i;
		else
			return v[r];
	}
	return v[lo];
}
