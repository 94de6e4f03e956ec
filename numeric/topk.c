/*
 * topk.c — the one top-k selection of husai: the indices of the k largest values of a row,
 * in the order (value descending, index ascending), so the lowest index wins ties and the
 * chosen set is a function of the values alone (docs/formulas.md §4.3, A12).  The SAE
 * trainer's TopK (train/sae_select.c, whose radix variant narrows a row to one bucket and
 * finishes with this), the encoder of archived SAEs and activation agreement
 * (analyze/activation_agreement.c) and the sparse matching's candidates (analyze/match_sparse.c)
 * all select with it.  A k-heap scan is O(n) in practice: after the first few hundred values
 * almost none beats the heap's root.  Values must not be NaN (callers validate their inputs).
 */
#include <stdlib.h>
#include <string.h>

#include "numeric.h"

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

void hus_sort_i32(int32_t *a, size_t n)
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

void hus_topk(int32_t *idx, const float *v, size_t n, size_t k, int32_t *heap)
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
	hus_sort_i32(idx, k);
}


