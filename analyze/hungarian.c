/*
 * hungarian.c — exact linear assignment (GSL has none) and the Hungarian PW-MCC built on it
 * (docs/formulas.md §5.4; Song et al. for the signed variant).
 *
 * The solver is the shortest-augmenting-path method with row/column potentials (Jonker &
 * Volgenant 1987; the O(n²m) Dijkstra form): rows are inserted one at a time and each is
 * routed to a free column along the cheapest alternating path under reduced costs, so the
 * assignment stays optimal for the rows inserted so far.  Exact for any real costs; ties
 * resolve to the lowest column index.  Rectangular inputs with more rows than columns are
 * solved on the transpose.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "analyze.h"

/* cost (n, m) with n <= m, row-major; p (m+1) gets the row (1-based) matched to column j. */
static int lsap_rows_le_cols(int32_t *row_to_col, const double *cost, size_t n, size_t m)
{
	double *u = calloc(n + 1, sizeof(double)), *v = calloc(m + 1, sizeof(double));
	double *minv = malloc(sizeof(double) * (m + 1));
	size_t *p = calloc(m + 1, sizeof(size_t)), *way = calloc(m + 1, sizeof(size_t));
	unsigned char *used = malloc(m + 1);
	int rc = HUS_ENOMEM;
	if (!u || !v || !minv || !p || !way || !used)
		goto cleanup;
	for (size_t i = 1; i <= n; i++) {
		p[0] = i;
		size_t j0 = 0;
		for (size_t j = 0; j <= m; j++) {
			minv[j] = DBL_MAX;
			used[j] = 0;
		}
		do {
			used[j0] = 1;
			size_t i0 = p[j0], j1 = 0;
			double delta = DBL_MAX;
			const double *c_i0 = cost + (i0 - 1) * m - 1; /* 1-based columns */
			double ui0 = u[i0];
			for (size_t j = 1; j <= m; j++) {
				if (used[j])
					continue;
				double cur = c_i0[j] - ui0 - v[j];
				if (cur < minv[j]) {
					minv[j] = cur;
					way[j] = j0;
				}
				if (minv[j] < delta) {
					delta = minv[j];
					j1 = j;
				}
			}
			for (size_t j = 0; j <= m; j++) {
				if (used[j]) {
					u[p[j]] += delta;
					v[j] -= delta;
				} else {
					minv[j] -= delta;
				}
			}
			j0 = j1;
		} while (p[j0] != 0);
		do {
			size_t j1 = way[j0];
			p[j0] = p[j1];
			j0 = j1;
		} while (j0);
	}
	for (size_t i = 0; i < n; i++)
		row_to_col[i] = -1;
	for (size_t j = 1; j <= m; j++)
		if (p[j])
			row_to_col[p[j] - 1] = (int32_t)(j - 1);
	rc = 0;
cleanup:
	free(u), free(v), free(minv), free(p), free(way), free(used);
	return rc;
}

int hungarian_solve(int32_t *row_to_col, double *total, const double *cost, size_t n_rows,
                    size_t n_cols, struct hus_err *err)
{
	if (n_rows > INT32_MAX || n_cols > INT32_MAX)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "assignment too large (%zu x %zu)",
		                n_rows, n_cols);
	for (size_t e = 0; e < n_rows * n_cols; e++)
		if (!isfinite(cost[e]))
			return hus_errf(err, HUS_EINPUT, NULL, NULL,
			                "cost [%zu, %zu] is not finite", e / n_cols, e % n_cols);
	int rc;
	if (n_rows <= n_cols) {
		rc = lsap_rows_le_cols(row_to_col, cost, n_rows, n_cols);
	} else {
		double *ct = malloc(sizeof(double) * n_rows * n_cols);
		int32_t *c2r = malloc(sizeof(int32_t) * n_cols);
		rc = HUS_ENOMEM;
		if (ct && c2r) {
			for (size_t i = 0; i < n_rows; i++)
				for (size_t j = 0; j < n_cols; j++)
					ct[j * n_rows + i] = cost[i * n_cols + j];
			rc = lsap_rows_le_cols(c2r, ct, n_cols, n_rows);
			if (!rc) {
				for (size_t i = 0; i < n_rows; i++)
					row_to_col[i] = -1;
				for (size_t j = 0; j < n_cols; j++)
					if (c2r[j] >= 0)
						row_to_col[c2r[j]] = (int32_t)j;
			}
		}
		free(ct), free(c2r);
	}
	if (rc)
		return hus_errf(err, rc, NULL, NULL, "out of memory for a %zu x %zu assignment",
		                n_rows, n_cols);
	double t = 0;
	for (size_t i = 0; i < n_rows; i++)
		if (row_to_col[i] >= 0)
			t += cost[i * n_cols + (size_t)row_to_col[i]];
	if (total)
		*total = t;
	return 0;
}

void match_summarize(struct match_result *res, const float *sim, size_t m, double thr)
{
	size_t nm = 0, n05 = 0, n07 = 0, nthr = 0;
	double s = 0;
	for (size_t i = 0; i < m; i++) {
		float v = sim[i];
		if (isnan(v))
			continue; /* unmatched */
		s += v;
		nm++;
		n05 += v >= 0.5f;
		n07 += v >= 0.7f;
		nthr += v >= thr;
	}
	res->n_matched = nm;
	res->mean_sim = nm ? s / (double)nm : NAN;
	res->frac_05 = nm ? (double)n05 / (double)nm : NAN;
	res->frac_07 = nm ? (double)n07 / (double)nm : NAN;
	res->frac_thr = nm ? (double)nthr / (double)nm : NAN;
}

int match_hungarian(struct match_result *res, int32_t *perm, float *sim, const float *At,
                    const float *Bt, size_t d_model, size_t m_A, size_t m_B,
                    enum match_kind kind, double thr, struct hus_err *err)
{
	if (!m_A || !m_B || !d_model)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "empty decoder in matching");
	float *C = malloc(sizeof(float) * m_A * m_B);
	double *cost = malloc(sizeof(double) * m_A * m_B);
	int rc = HUS_ENOMEM;
	if (!C || !cost) {
		hus_errf(err, rc, NULL, NULL, "out of memory for a %zu x %zu matching", m_A, m_B);
		goto cleanup;
	}
	/* C = Âᵀ·B̂ (m_A, m_B); cost = 1 − |C| (upstream) or −C (signed, Song et al.) */
	hus_gemm(0, 1, m_A, m_B, d_model, At, d_model, Bt, d_model, 0.0f, C, m_B);
	for (size_t e = 0; e < m_A * m_B; e++)
		cost[e] = kind == MATCH_SIGNED ? -(double)C[e] : 1.0 - fabs((double)C[e]);
	if ((rc = hungarian_solve(perm, NULL, cost, m_A, m_B, err)))
		goto cleanup;
	for (size_t i = 0; i < m_A; i++) {
		float c = perm[i] < 0 ? NAN : C[i * m_B + (size_t)perm[i]];
		sim[i] = kind == MATCH_SIGNED ? c : fabsf(c);
	}
	match_summarize(res, sim, m_A, thr);
cleanup:
	free(C), free(cost);
	return rc;
}
