/*
 * match_sparse.c — one-to-one matching of two large dictionaries without the m_A × m_B cost
 * matrix (docs/formulas.md §5.4, "Hungarian at scale"): each row's K best candidates are
 * collected while Âᵀ·B̂ is formed in panels by hus_gemm (memory pwmcc_panel_rows·m_B per thread
 * plus m_A·K candidates), then the minimum-cost assignment restricted to those candidates is
 * solved exactly by the sparse form of the shortest-augmenting-path method with potentials
 * (Jonker & Volgenant 1987, the same method as hungarian.c, visiting only candidate edges).
 *
 * Certificate.  The solver keeps dual potentials (u, v) feasible on the candidate edges and
 * tight on the matched ones, so Σu + Σv = the matching's cost.  An edge outside the
 * candidates of row i costs at least c_i = the cost of row i's K-th candidate, so with
 * L = min_i (c_i − u_i) and v'_j = min(v_j, L) the pair (u, v') is dual-feasible for the WHOLE
 * matrix and LB = Σu + Σv' is a lower bound on the exact optimum (LP duality).  LB equals the
 * cost (to rounding) exactly when no left-out edge could improve the matching: the value is
 * then the exact Hungarian optimum; otherwise the gap is printed beside the value.
 *
 * Search (issue #20).  Row i's search is Dijkstra on the reduced costs c_rj − u_r − v_j ≥ 0
 * (u, v as at the start of the search) from row i: d_j is column j's distance from the start,
 * never shifted, and the reached unvisited columns sit in a binary heap keyed (d_j, j), so one
 * step costs O(K log reached) instead of two O(reached) scans.  The nearest column is visited
 * next, equal distances to the lowest column index: the order of the per-step form (e-maxx),
 * whose minv_j is d_j − D_now (tests/test_pwmcc.c checks the same choices against it).  When
 * the search reaches a free column at distance D, the potentials move once: the per-step form
 * shifts every visited column by each later step's δ, and those δ sum to D − d_j, so
 * v_j −= D − d_j and u_p(j) += D − d_j for each visited column j (the new row, column 0 at
 * d = 0, gets D).  These are the per-step potentials to rounding, and the bound above reads
 * only the final (u, v), so its formula is unchanged; feasibility and tightness still hold: for
 * a visited row r (its column at distance d_r) and an unvisited column j, c − u − v drops by
 * D − d_r ≤ d_j − d_r ≤ the reduced cost before (d_j ≥ D); between visited columns it changes by
 * d_r − d_j ≥ −(reduced cost before), with equality on the path's edges.
 *
 * Hand-written: no Debian package provides a sparse linear assignment solver in C (GSL has no
 * assignment at all; LEMON/OR-tools are C++ and not in the dependency set).
 *
 * Invariants: candidates are a set chosen by value with ties to the lower column index, sorted
 * by column, so they do not depend on the thread count; rows are inserted in index order.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

/* One row's K candidates: the K largest |C_i[j]| (absval) or C_i[j] by hus_topk, the same
 * selection as the trainer's TopK (ties: the lower column), sorted by column, with their
 * signed values.  absrow: m_B floats of workspace, heap: K. */
static void row_candidates(int32_t *idx, float *val, float *absrow, int32_t *heap, size_t K,
                           const float *C_i, size_t m_B, int absval)
{
	const float *key = C_i;
	if (absval) {
		for (size_t j = 0; j < m_B; j++)
			absrow[j] = fabsf(C_i[j]);
		key = absrow;
	}
	hus_topk(idx, key, m_B, K, heap);
	for (size_t a = 0; a < K; a++)
		val[a] = C_i[idx[a]];
}

/* match_candidates' fold (and pwmcc_maxes_also's second fold): each row of a panel gives its
 * candidates of either kind */
void match_cand_fold(void *ctx, int t, size_t i0, size_t bi, const float *C)
{
	const struct match_cand_fold *f = ctx;
	size_t m_B = f->m_B, K = f->K;
	float *abs_t = f->absrow + (size_t)t * m_B;
	int32_t *heap_t = f->heap + (size_t)t * K;
	for (size_t i = 0; i < bi; i++) {
		size_t r = i0 + i;
		if (f->cand_abs)
			row_candidates(f->cand_abs + r * K, f->cval_abs + r * K, abs_t, heap_t, K,
			               C + i * m_B, m_B, 1);
		if (f->cand_sgn)
			row_candidates(f->cand_sgn + r * K, f->cval_sgn + r * K, abs_t, heap_t, K,
			               C + i * m_B, m_B, 0);
	}
}

int match_cand_fold_begin(struct match_cand_fold *f, int32_t *cand_abs, float *cval_abs,
                          int32_t *cand_sgn, float *cval_sgn, size_t d_model, size_t m_A,
                          size_t m_B, size_t K, struct hus_err *err)
{
	memset(f, 0, sizeof(*f));
	if (K > m_B || !K)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "%zu candidates per row of %zu", K, m_B);
	int nthr = pwmcc_panel_threads(d_model, m_A, m_B);
	f->absrow = malloc(sizeof(float) * m_B * (size_t)nthr);
	f->heap = malloc(sizeof(int32_t) * K * (size_t)nthr);
	if (!f->absrow || !f->heap) {
		match_cand_fold_end(f);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %d x %zu candidates",
		                nthr, m_B);
	}
	f->cand_abs = cand_abs, f->cval_abs = cval_abs;
	f->cand_sgn = cand_sgn, f->cval_sgn = cval_sgn;
	f->m_B = m_B, f->K = K;
	return 0;
}

void match_cand_fold_end(struct match_cand_fold *f)
{
	free(f->absrow), free(f->heap);
	f->absrow = NULL, f->heap = NULL;
}

int match_candidates(int32_t *cand_abs, float *cval_abs, int32_t *cand_sgn, float *cval_sgn,
                     const float *At, const float *Bt, size_t d_model, size_t m_A, size_t m_B,
                     size_t K, struct hus_err *err)
{
	struct match_cand_fold f;
	int rc = match_cand_fold_begin(&f, cand_abs, cval_abs, cand_sgn, cval_sgn, d_model, m_A,
	                               m_B, K, err);
	if (rc)
		return rc;
	/* the same panels as pwmcc_maxes: every element has the same bits */
	rc = pwmcc_panel_pass(At, Bt, d_model, m_A, m_B, pwmcc_panel_threads(d_model, m_A, m_B),
	                      match_cand_fold, &f, err);
	match_cand_fold_end(&f);
	return rc;
}

/* The reached, not yet visited columns of one row's search: a binary min-heap on (d_j, j), so
 * the nearest column comes first and equal distances go to the lowest column index; pos[j] is
 * j's place in it (SIZE_MAX when absent), for decrease-key. */
struct col_heap {
	size_t *h, *pos, n;
	const double *d;
};

/* whether column a comes before column b: the smaller distance, ties to the lower index */
static int col_before(const struct col_heap *q, size_t a, size_t b)
{
	if (q->d[a] != q->d[b])
		return q->d[a] < q->d[b];
	return a < b;
}

/* put column j at place k of the heap and record where it went */
static void heap_set(struct col_heap *q, size_t k, size_t j)
{
	q->h[k] = j;
	q->pos[j] = k;
}

/* insert column j, or move it up after its distance decreased: O(log n) */
static void heap_lower(struct col_heap *q, size_t j)
{
	size_t k = q->pos[j] == SIZE_MAX ? q->n++ : q->pos[j];
	while (k > 0 && col_before(q, j, q->h[(k - 1) / 2])) {
		heap_set(q, k, q->h[(k - 1) / 2]);
		k = (k - 1) / 2;
	}
	heap_set(q, k, j);
}

/* remove and return the first column (the heap is not empty): O(log n) */
static size_t heap_pop(struct col_heap *q)
{
	size_t top = q->h[0], last = q->h[--q->n], k = 0;
	q->pos[top] = SIZE_MAX;
	if (!q->n)
		return top;
	for (;;) {
		size_t c = 2 * k + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && col_before(q, q->h[c + 1], q->h[c]))
			c++;
		if (!col_before(q, q->h[c], last))
			break;
		heap_set(q, k, q->h[c]);
		k = c;
	}
	heap_set(q, k, last);
	return top;
}

/* The minimum-cost assignment of n rows to m >= n columns using only the K candidate edges of
 * each row (cand, ccost: n × K, columns 0-based): row_to_col, its cost and the certificate LB
 * (top of file); HUS_EINPUT when some row has no augmenting path among the candidates. */
int sparse_lap(int32_t *row_to_col, double *cost_out, double *lower_bound, const int32_t *cand,
               const double *ccost, size_t n, size_t m, size_t K, struct hus_err *err)
{
	if (n > m)
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "sparse assignment needs rows <= columns (%zu > %zu)", n, m);
	double *u = calloc(n + 1, sizeof(double)), *v = calloc(m + 1, sizeof(double));
	double *d = malloc(sizeof(double) * (m + 1));
	size_t *p = calloc(m + 1, sizeof(size_t)), *way = calloc(m + 1, sizeof(size_t));
	size_t *heap = malloc(sizeof(size_t) * (m + 1)), *pos = malloc(sizeof(size_t) * (m + 1));
	size_t *done = malloc(sizeof(size_t) * (m + 1));
	unsigned char *used = calloc(m + 1, 1);
	int rc = 0;
	if (!u || !v || !d || !p || !way || !heap || !pos || !done || !used) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a sparse %zu x %zu "
		              "assignment", n, m);
		goto cleanup;
	}
	struct col_heap q = { heap, pos, 0, d };
	for (size_t j = 0; j <= m; j++)
		d[j] = DBL_MAX, pos[j] = SIZE_MAX;
	for (size_t i = 1; i <= n; i++) {
		p[0] = i;
		d[0] = 0;
		size_t j0 = 0, ndone = 0;
		double D = 0; /* the distance of the column visited last */
		do {
			used[j0] = 1;
			done[ndone++] = j0;
			size_t i0 = p[j0];
			double ui0 = u[i0];
			/* relax the candidate edges of row i0 (columns 1-based) */
			for (size_t e = 0; e < K; e++) {
				size_t j = (size_t)cand[(i0 - 1) * K + e] + 1;
				if (used[j])
					continue;
				double dj = D + (ccost[(i0 - 1) * K + e] - ui0 - v[j]);
				if (dj < d[j]) {
					d[j] = dj;
					way[j] = j0;
					heap_lower(&q, j);
				}
			}
			if (!q.n) { /* no augmenting path among the candidates */
				rc = hus_errf(err, HUS_EINPUT, NULL, NULL, "row %zu has no augmenting path "
				              "among its %zu candidates", i - 1, K);
				goto cleanup;
			}
			/* the nearest unvisited column reached so far (ties: lowest index) */
			j0 = heap_pop(&q);
			D = d[j0];
		} while (p[j0] != 0);
		/* the potentials, once: each visited column j (and its row) took part in every step
		 * after its own, whose shifts sum to D − d_j; the new row (column 0) in all, D */
		for (size_t t = 0; t < ndone; t++) {
			size_t j = done[t];
			u[p[j]] += D - d[j];
			if (j)
				v[j] -= D - d[j];
		}
		/* augment along the way back from the free column j0 */
		size_t jend = j0;
		do {
			size_t j1 = way[j0];
			p[j0] = p[j1];
			j0 = j1;
		} while (j0);
		d[jend] = DBL_MAX;
		for (size_t t = 0; t < q.n; t++)
			d[heap[t]] = DBL_MAX, pos[heap[t]] = SIZE_MAX;
		q.n = 0;
		for (size_t t = 0; t < ndone; t++)
			used[done[t]] = 0, d[done[t]] = DBL_MAX;
	}
	for (size_t i = 0; i < n; i++)
		row_to_col[i] = -1;
	double cost = 0;
	for (size_t j = 1; j <= m; j++)
		if (p[j])
			row_to_col[p[j] - 1] = (int32_t)(j - 1);
	for (size_t i = 0; i < n; i++)
		for (size_t e = 0; e < K; e++)
			if (cand[i * K + e] == row_to_col[i]) {
				cost += ccost[i * K + e];
				break;
			}
	/* the certificate (top of file): L = min over rows of (worst candidate cost − u_i) */
	double L = DBL_MAX, lb = 0;
	for (size_t i = 0; i < n; i++) {
		double worst = -DBL_MAX;
		for (size_t e = 0; e < K; e++)
			worst = ccost[i * K + e] > worst ? ccost[i * K + e] : worst;
		if (K < m && worst - u[i + 1] < L)
			L = worst - u[i + 1];
		lb += u[i + 1];
	}
	/* columns: matched ones carry their potential; with n < m the unmatched columns' v_j
	 * must be <= 0 for the rectangular dual (Σ over matched only is the bound) */
	for (size_t j = 1; j <= m; j++) {
		double vj = v[j] < L ? v[j] : L;
		if (p[j])
			lb += vj;
		else if (vj < 0)
			lb += vj;
	}
	*cost_out = cost;
	*lower_bound = lb;
cleanup:
	free(u), free(v), free(d), free(p), free(way), free(heap), free(pos), free(done), free(used);
	return rc;
}

int match_sparse_kind(struct match_sparse_one *o, int32_t *perm, float *sim,
                      const int32_t *cand, const float *val, size_t m_A, size_t m_B, size_t K,
                      int signed_kind, double thr, struct hus_err *err)
{
	size_t ne = m_A * K;
	double *cost = malloc(sizeof(double) * (ne ? ne : 1));
	if (!cost)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %zu x %zu candidates",
		                m_A, K);
	/* the per-element costs of match_hungarian: 1 − |C| or −C */
	for (size_t e = 0; e < ne; e++)
		cost[e] = signed_kind ? -(double)val[e] : 1.0 - fabs((double)val[e]);
	struct hus_err lerr = { 0 };
	double total = NAN, lb = NAN;
	o->m.mean_sim = o->m.frac_05 = o->m.frac_07 = o->m.frac_thr = NAN;
	o->m.n_matched = 0;
	o->dual_bound = o->gap = NAN;
	o->perfect = 0;
	int lrc = sparse_lap(perm, &total, &lb, cand, cost, m_A, m_B, K, &lerr);
	free(cost);
	if (lrc == HUS_ENOMEM) {
		if (err)
			*err = lerr;
		return lrc;
	}
	if (lrc) { /* the candidates admit no perfect matching: said, not skipped */
		for (size_t i = 0; i < m_A; i++)
			perm[i] = -1, sim[i] = NAN;
		return 0;
	}
	o->perfect = 1;
	for (size_t i = 0; i < m_A; i++) {
		float c = NAN;
		for (size_t e = 0; e < K; e++)
			if (cand[i * K + e] == perm[i])
				c = val[i * K + e];
		sim[i] = signed_kind ? c : fabsf(c);
	}
	match_summarize(&o->m, sim, m_A, thr);
	size_t nm = o->m.n_matched;
	/* the bound on the mean similarity: cost = n − Σ|c| (abs) or −Σc (signed) */
	o->dual_bound = signed_kind ? -lb / (double)nm : ((double)nm - lb) / (double)nm;
	o->gap = (total - lb) / (double)nm;
	return 0;
}

int match_sparse(struct match_sparse_result *res, int32_t *perm_abs, float *sim_abs,
                 int32_t *perm_sgn, float *sim_sgn, const float *At, const float *Bt,
                 size_t d_model, size_t m_A, size_t m_B, size_t K, double thr,
                 struct hus_err *err)
{
	if (!m_A || !m_B || !d_model)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "empty decoder in matching");
	if (K > m_B)
		K = m_B;
	int32_t *ca = malloc(sizeof(int32_t) * m_A * K), *cs = malloc(sizeof(int32_t) * m_A * K);
	float *va = malloc(sizeof(float) * m_A * K), *vs = malloc(sizeof(float) * m_A * K);
	int rc = HUS_ENOMEM;
	if (!ca || !cs || !va || !vs) {
		hus_errf(err, rc, NULL, NULL, "out of memory for %zu x %zu candidates", m_A, K);
		goto cleanup;
	}
	if ((rc = match_candidates(ca, va, cs, vs, At, Bt, d_model, m_A, m_B, K, err)) ||
	    (rc = match_sparse_kind(&res->abs, perm_abs, sim_abs, ca, va, m_A, m_B, K, 0, thr,
	                            err)) ||
	    (rc = match_sparse_kind(&res->sgn, perm_sgn, sim_sgn, cs, vs, m_A, m_B, K, 1, thr, err)))
		goto cleanup;
	res->k = K;
cleanup:
	free(ca), free(cs), free(va), free(vs);
	return rc;
}
