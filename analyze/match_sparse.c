/*
 * match_sparse.c — one-to-one matching of two large dictionaries without the m_A × m_B cost
 * matrix (docs/formulas.md §5.4, "Hungarian at scale"): each row's K best candidates are
 * collected while Âᵀ·B̂ is formed in panels by hus_gemm (memory PWMCC_BLOCK·m_B per thread
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
 * Hand-written: no Debian package provides a sparse linear assignment solver in C (GSL has no
 * assignment at all; LEMON/OR-tools are C++ and not in the dependency set).
 *
 * Invariants: candidates are a set chosen by value with ties to the lower column index, sorted
 * by column, so they do not depend on the thread count; rows are inserted in index order.
 */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

/* keep the K largest of `key` (ties: lower index, since j increases), unsorted */
static void topk_row(int32_t *idx, float *val, float *key, size_t K, const float *C_i,
                     size_t m_B, int absval)
{
	size_t n = 0, worst = 0;
	for (size_t j = 0; j < m_B; j++) {
		float v = absval ? fabsf(C_i[j]) : C_i[j];
		if (n < K) {
			idx[n] = (int32_t)j, val[n] = C_i[j], key[n] = v;
			if (n == 0 || v < key[worst] || (v == key[worst] && idx[worst] < (int32_t)j))
				worst = n;
			n++;
			continue;
		}
		if (!(v > key[worst]))
			continue;
		idx[worst] = (int32_t)j, val[worst] = C_i[j], key[worst] = v;
		/* new worst: smallest key, ties to the highest index (dropped first) */
		worst = 0;
		for (size_t e = 1; e < K; e++)
			if (key[e] < key[worst] || (key[e] == key[worst] && idx[e] > idx[worst]))
				worst = e;
	}
	/* sort by column (insertion sort: K is small) */
	for (size_t a = 1; a < n; a++) {
		int32_t ti = idx[a];
		float tv = val[a], tk = key[a];
		size_t b = a;
		while (b > 0 && idx[b - 1] > ti) {
			idx[b] = idx[b - 1], val[b] = val[b - 1], key[b] = key[b - 1];
			b--;
		}
		idx[b] = ti, val[b] = tv, key[b] = tk;
	}
}

int match_candidates(int32_t *cand_abs, float *cval_abs, int32_t *cand_sgn, float *cval_sgn,
                     const float *At, const float *Bt, size_t d_model, size_t m_A, size_t m_B,
                     size_t K, struct hus_err *err)
{
	if (K > m_B || !K)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "%zu candidates per row of %zu", K, m_B);
	size_t blk = PWMCC_BLOCK, npanel = (m_A + blk - 1) / blk;
	int nthr = omp_get_max_threads();
	if (nthr < 1)
		nthr = 1;
	if ((size_t)nthr > npanel)
		nthr = npanel ? (int)npanel : 1;
	float *C = malloc(sizeof(float) * blk * m_B * (size_t)nthr);
	float *key = malloc(sizeof(float) * K * (size_t)nthr);
	if (!C || !key) {
		free(C), free(key);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %d panels of %zu x %zu",
		                nthr, blk, m_B);
	}
#pragma omp parallel num_threads(nthr) if (nthr > 1)
	{
		int t = omp_get_thread_num();
		float *C_t = C + (size_t)t * blk * m_B, *key_t = key + (size_t)t * K;
#pragma omp for schedule(dynamic, 1)
		for (size_t p = 0; p < npanel; p++) {
			size_t i0 = p * blk, bi = m_A - i0 < blk ? m_A - i0 : blk;
			/* the same call as pwmcc_maxes: every element has the same bits */
			hus_gemm(0, 1, bi, m_B, d_model, At + i0 * d_model, d_model, Bt, d_model, 0.0f,
			         C_t, m_B);
			for (size_t i = 0; i < bi; i++) {
				size_t r = i0 + i;
				if (cand_abs)
					topk_row(cand_abs + r * K, cval_abs + r * K, key_t, K, C_t + i * m_B, m_B,
					         1);
				if (cand_sgn)
					topk_row(cand_sgn + r * K, cval_sgn + r * K, key_t, K, C_t + i * m_B, m_B,
					         0);
			}
		}
	}
	free(C), free(key);
	return 0;
}

int sparse_lap(int32_t *row_to_col, double *cost_out, double *lower_bound, const int32_t *cand,
               const double *ccost, size_t n, size_t m, size_t K, struct hus_err *err)
{
	if (n > m)
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "sparse assignment needs rows <= columns (%zu > %zu)", n, m);
	double *u = calloc(n + 1, sizeof(double)), *v = calloc(m + 1, sizeof(double));
	double *minv = malloc(sizeof(double) * (m + 1));
	size_t *p = calloc(m + 1, sizeof(size_t)), *way = calloc(m + 1, sizeof(size_t));
	size_t *todo = malloc(sizeof(size_t) * (m + 1)), *done = malloc(sizeof(size_t) * (m + 1));
	unsigned char *used = calloc(m + 1, 1), *intodo = calloc(m + 1, 1);
	int rc = 0;
	if (!u || !v || !minv || !p || !way || !todo || !done || !used || !intodo) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a sparse %zu x %zu "
		              "assignment", n, m);
		goto cleanup;
	}
	for (size_t j = 0; j <= m; j++)
		minv[j] = DBL_MAX;
	for (size_t i = 1; i <= n; i++) {
		p[0] = i;
		size_t j0 = 0, ntodo = 0, ndone = 0;
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
				double cur = ccost[(i0 - 1) * K + e] - ui0 - v[j];
				if (cur < minv[j]) {
					minv[j] = cur;
					way[j] = j0;
					if (!intodo[j]) {
						intodo[j] = 1;
						todo[ntodo++] = j;
					}
				}
			}
			/* the nearest unvisited column reached so far (ties: lowest index) */
			size_t j1 = 0, at = 0;
			double delta = DBL_MAX;
			for (size_t t = 0; t < ntodo; t++) {
				size_t j = todo[t];
				/* cppcheck-suppress arrayIndexThenCheck ; j < j1 is the tie rule, not a bound */
				if (minv[j] < delta || (minv[j] == delta && j < j1)) {
					delta = minv[j];
					j1 = j;
					at = t;
				}
			}
			if (!j1) { /* no augmenting path among the candidates */
				rc = HUS_EINPUT;
				for (size_t t = 0; t < ntodo; t++)
					minv[todo[t]] = DBL_MAX, intodo[todo[t]] = 0;
				for (size_t t = 0; t < ndone; t++)
					used[done[t]] = 0;
				hus_errf(err, HUS_EINPUT, NULL, NULL, "row %zu has no augmenting path among "
				         "its %zu candidates", i - 1, K);
				goto cleanup;
			}
			todo[at] = todo[--ntodo];
			intodo[j1] = 0;
			for (size_t t = 0; t < ndone; t++) {
				size_t j = done[t];
				u[p[j]] += delta;
				if (j)
					v[j] -= delta;
			}
			for (size_t t = 0; t < ntodo; t++)
				minv[todo[t]] -= delta;
			minv[j1] = DBL_MAX;
			j0 = j1;
		} while (p[j0] != 0);
		/* the virtual column 0 absorbed the potential shifts of the new row only */
		do {
			size_t j1 = way[j0];
			p[j0] = p[j1];
			j0 = j1;
		} while (j0);
		for (size_t t = 0; t < ntodo; t++)
			minv[todo[t]] = DBL_MAX, intodo[todo[t]] = 0;
		for (size_t t = 0; t < ndone; t++)
			used[done[t]] = 0;
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
	free(u), free(v), free(minv), free(p), free(way), free(todo), free(done), free(used),
		free(intodo);
	return rc;
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
	double *cost = malloc(sizeof(double) * m_A * K);
	int rc = HUS_ENOMEM;
	if (!ca || !cs || !va || !vs || !cost) {
		hus_errf(err, rc, NULL, NULL, "out of memory for %zu x %zu candidates", m_A, K);
		goto cleanup;
	}
	if ((rc = match_candidates(ca, va, cs, vs, At, Bt, d_model, m_A, m_B, K, err)))
		goto cleanup;
	for (int kind = 0; kind < 2; kind++) {
		struct match_sparse_one *o = kind ? &res->sgn : &res->abs;
		int32_t *cand = kind ? cs : ca, *perm = kind ? perm_sgn : perm_abs;
		float *val = kind ? vs : va, *sim = kind ? sim_sgn : sim_abs;
		/* the per-element costs of match_hungarian: 1 − |C| or −C */
		for (size_t e = 0; e < m_A * K; e++)
			cost[e] = kind ? -(double)val[e] : 1.0 - fabs((double)val[e]);
		struct hus_err lerr = { 0 };
		double total = NAN, lb = NAN;
		o->m.mean_sim = o->m.frac_05 = o->m.frac_07 = o->m.frac_thr = NAN;
		o->m.n_matched = 0;
		o->dual_bound = o->gap = NAN;
		o->perfect = 0;
		int lrc = sparse_lap(perm, &total, &lb, cand, cost, m_A, m_B, K, &lerr);
		if (lrc == HUS_ENOMEM) {
			*err = lerr;
			rc = lrc;
			goto cleanup;
		}
		if (lrc) { /* the candidates admit no perfect matching: said, not skipped */
			for (size_t i = 0; i < m_A; i++)
				perm[i] = -1, sim[i] = NAN;
			continue;
		}
		o->perfect = 1;
		size_t nm = 0, n05 = 0, n07 = 0, nthr = 0;
		double s = 0;
		for (size_t i = 0; i < m_A; i++) {
			float c = NAN;
			for (size_t e = 0; e < K; e++)
				if (cand[i * K + e] == perm[i])
					c = val[i * K + e];
			float v = kind ? c : fabsf(c);
			sim[i] = v;
			s += v;
			nm++;
			n05 += v >= 0.5f;
			n07 += v >= 0.7f;
			nthr += v >= thr;
		}
		o->m.n_matched = nm;
		o->m.mean_sim = s / (double)nm;
		o->m.frac_05 = (double)n05 / (double)nm;
		o->m.frac_07 = (double)n07 / (double)nm;
		o->m.frac_thr = (double)nthr / (double)nm;
		/* the bound on the mean similarity: cost = n − Σ|c| (abs) or −Σc (signed) */
		o->dual_bound = kind ? -lb / (double)nm : ((double)nm - lb) / (double)nm;
		o->gap = (total - lb) / (double)nm;
	}
	res->k = K;
	rc = 0;
cleanup:
	free(ca), free(cs), free(va), free(vs), free(cost);
	return rc;
}
