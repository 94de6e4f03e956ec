/*
 * sae_select.c — top-k selection for the TopK family.  Order is (value descending, index
 * ascending): the lowest index wins ties (spec §4.3, A12), so the chosen set is a function of
 * the values alone.  One row is one thread's work; a k-heap scan is O(m) in practice because
 * after the first few hundred values almost none beats the heap's root.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "sae_internal.h"

/* heap of indices; the root is the worst kept: smallest value, larger index on equal values */
static inline int worse(const float *v, int32_t a, int32_t b)
{
	return v[a] < v[b] || (v[a] == v[b] && a > b);
}

static void sift_down(int32_t *h, size_t n, size_t i, const float *v)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		if (l < n && worse(v, h[l], h[w]))
			w = l;
		if (r < n && worse(v, h[r], h[w]))
			w = r;
		if (w == i)
			return;
		int32_t t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

static void sort_i32(int32_t *a, size_t n)
{
	if (n > 32) {
		qsort(a, n, sizeof(*a), cmp_i32);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		int32_t t = a[i];
		size_t j = i;
		for (; j > 0 && a[j - 1] > t; j--)
			a[j] = a[j - 1];
		a[j] = t;
	}
}

void sae_topk_row(int32_t *idx, const float *v, size_t n, size_t k, int32_t *heap)
{
	if (k > n)
		k = n;
	if (k == 0)
		return;
	for (size_t i = 0; i < k; i++)
		heap[i] = (int32_t)i;
	for (size_t i = k / 2; i-- > 0;)
		sift_down(heap, k, i, v);
	float root = v[heap[0]];
	for (size_t i = k; i < n; i++) {
		/* later index: only a strictly larger value beats the root */
		if (v[i] > root) {
			heap[0] = (int32_t)i;
			sift_down(heap, k, 0, v);
			root = v[heap[0]];
		}
	}
	memcpy(idx, heap, k * sizeof(*idx));
	sort_i32(idx, k);
}

/* order-preserving map of a float to uint32 (-0 taken as +0, so equal values share a key) */
static inline uint32_t fkey(float f)
{
	f += 0.0f; /* -0 + +0 = +0 */
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	uint32_t neg = (uint32_t)((int32_t)u >> 31); /* all ones for negative values */
	return u ^ (neg | 0x80000000u);               /* branch-free */
}

/*
 * The same selection as sae_topk_row, without its branch-heavy heap for the common case: a
 * histogram of the top SAE_RADIX_BITS bits of each value's order key finds the bucket holding
 * the k-th largest; every value in a higher bucket is kept, and the rest are chosen among that
 * bucket's values by sae_topk_row (so ties still go to the lowest index).
 * tmp: n floats; cand: 2n ints; hist: SAE_RADIX_BUCKETS; heap: 2k.
 */
void sae_topk_row_radix(int32_t *idx, const float *v, size_t n, size_t k, int32_t *heap,
                        uint32_t *hist, int32_t *cand, float *tmp)
{
	if (k > n)
		k = n;
	if (k == 0)
		return;
	const int sh = 32 - SAE_RADIX_BITS;
	memset(hist, 0, SAE_RADIX_BUCKETS * sizeof(*hist));
	uint32_t maxb = 0;
	for (size_t j = 0; j < n; j++) {
		uint32_t b = fkey(v[j]) >> sh;
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
		uint32_t b = fkey(v[j]) >> sh;
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
		sae_topk_row(chosen, tmp, nc, need, heap);
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

void sae_select_topk_rows(struct sae_work *w, const float *pre, size_t B, size_t k)
{
	size_t m = w->m;
	size_t kh = k > w->ka ? k : w->ka;
	if (kh == 0)
		kh = 1;
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(B * m) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		int t = omp_get_thread_num();
		int32_t *heap = w->heap + (size_t)t * 2 * kh;
		const float *pre_b = pre + b * m;
		int32_t *idx_b = w->idx + b * k;
		sae_topk_row_radix(idx_b, pre_b, m, k, heap, w->hist + (size_t)t * SAE_RADIX_BUCKETS,
				   w->cand + (size_t)t * 2 * m, w->scratch + (size_t)t * m);
		for (size_t e = 0; e < k; e++)
			w->val[b * k + e] = pre_b[idx_b[e]];
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
