/*
 * sinkhorn.c — Sinkhorn matching: entropic optimal transport (Cuturi, NeurIPS 2013) between
 * the features of two decoders, on the cost 1 − |cos| with uniform marginals, the matching
 * read off the transport plan (docs/formulas.md §5.4 "Sinkhorn matching").
 *
 * Reproducibility (docs/reproducibility.md): the kernel K = exp(−cost/ε) is computed with
 * husai's hus_exp, the two scalings with hand-written matrix–vector sums whose order is
 * written out (each row sum over j ascending, each column sum over i ascending, in double, no
 * fused operation): OpenMP splits rows (or column blocks), never a sum, so the bits are the
 * same for any thread count and instruction set.  The stopping rule reads only those numbers,
 * so the iteration count is deterministic too.  (No library offers an OT solver with a fixed
 * reduction order, hence the hand-written loops.)
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "numeric.h"

/* Column blocks of the transposed product: wide enough to stream rows of K, narrow enough to
 * share out over threads. */
#define SINKHORN_COL_BLOCK 256

int sinkhorn_scale(double *u, double *v, size_t *iterations, double *marginal_err,
                   const double *K, size_t m_A, size_t m_B, size_t max_iter, double tol,
                   struct hus_err *err)
{
	double *s = malloc(sizeof(double) * m_A), *t = malloc(sizeof(double) * m_B);
	if (!s || !t) {
		free(s), free(t);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for Sinkhorn scalings");
	}
	const double a = 1.0 / (double)m_A, b = 1.0 / (double)m_B;
	for (size_t j = 0; j < m_B; j++)
		v[j] = 1.0;
	for (size_t i = 0; i < m_A; i++)
		u[i] = 1.0;
	size_t it = 0;
	double e = INFINITY;
	int bad = 0;
	for (;;) {
		/* s = K·v, each row in j order */
#pragma omp parallel for schedule(static) if (m_A * m_B >= 65536)
		for (size_t i = 0; i < m_A; i++) {
			const double *Ki = K + i * m_B;
			double acc = 0;
			for (size_t j = 0; j < m_B; j++)
				acc += Ki[j] * v[j];
			s[i] = acc;
		}
		/* the plan's row marginals are u_i·s_i (its column marginals are exact after the
		 * v update): L1 distance to the uniform one, summed in i order */
		if (it) {
			e = 0;
			for (size_t i = 0; i < m_A; i++)
				e += fabs(u[i] * s[i] - a);
			if (e <= tol || it >= max_iter)
				break;
		}
		for (size_t i = 0; i < m_A; i++) {
			if (!(s[i] > 0) || !isfinite(s[i]))
				bad = 1;
			u[i] = a / s[i];
		}
		/* t = Kᵀ·u, each column in i order (column blocks share out over threads) */
		size_t nb = (m_B + SINKHORN_COL_BLOCK - 1) / SINKHORN_COL_BLOCK;
#pragma omp parallel for schedule(static) if (m_A * m_B >= 65536)
		for (size_t blk = 0; blk < nb; blk++) {
			size_t j0 = blk * SINKHORN_COL_BLOCK;
			size_t j1 = j0 + SINKHORN_COL_BLOCK < m_B ? j0 + SINKHORN_COL_BLOCK : m_B;
			for (size_t j = j0; j < j1; j++)
				t[j] = 0;
			for (size_t i = 0; i < m_A; i++) {
				const double *Ki = K + i * m_B;
				double ui = u[i];
				for (size_t j = j0; j < j1; j++)
					t[j] += Ki[j] * ui;
			}
		}
		for (size_t j = 0; j < m_B; j++) {
			if (!(t[j] > 0) || !isfinite(t[j]))
				bad = 1;
			v[j] = b / t[j];
		}
		it++;
		if (bad)
			break;
	}
	free(s), free(t);
	if (bad)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "Sinkhorn scaling under- or overflowed "
		                "after %zu iterations: choose a larger epsilon", it);
	*iterations = it;
	*marginal_err = e;
	return 0;
}

int match_sinkhorn(struct sinkhorn_result *res, int32_t *perm, float *sim, const float *At,
                   const float *Bt, size_t d_model, size_t m_A, size_t m_B, double eps,
                   double thr, struct hus_err *err)
{
	if (!m_A || !m_B || !d_model)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "empty decoder in matching");
	if (!(eps >= SINKHORN_EPS_MIN && eps <= SINKHORN_EPS_MAX))
		return hus_errf(err, HUS_EUSAGE, NULL, NULL, "Sinkhorn epsilon must be in [%g, %g], "
		                "got %g", SINKHORN_EPS_MIN, SINKHORN_EPS_MAX, eps);
	float *C = malloc(sizeof(float) * m_A * m_B);
	double *K = malloc(sizeof(double) * m_A * m_B);
	double *u = malloc(sizeof(double) * m_A), *v = malloc(sizeof(double) * m_B);
	double *rowcost = malloc(sizeof(double) * m_A);
	unsigned char *hit = calloc(m_B, 1);
	int rc = HUS_ENOMEM;
	if (!C || !K || !u || !v || !rowcost || !hit) {
		hus_errf(err, rc, NULL, NULL, "out of memory for a %zu x %zu transport plan", m_A, m_B);
		goto cleanup;
	}
	/* C = Âᵀ·B̂ (m_A, m_B) by the canonical product; K = exp(−(1 − |C|)/ε) in [e^(−1/ε), 1]
	 * (ε >= 0.01 keeps it a normal double) */
	hus_gemm(0, 1, m_A, m_B, d_model, At, d_model, Bt, d_model, 0.0f, C, m_B);
	double inv = 1.0 / eps;
#pragma omp parallel for schedule(static) if (m_A * m_B >= 65536)
	for (size_t i = 0; i < m_A; i++)
		for (size_t j = 0; j < m_B; j++)
			K[i * m_B + j] = hus_exp(-(1.0 - fabs((double)C[i * m_B + j])) * inv);
	if ((rc = sinkhorn_scale(u, v, &res->iterations, &res->marginal_err, K, m_A, m_B,
	                         SINKHORN_MAX_ITER, SINKHORN_TOL, err)))
		goto cleanup;
	/* read-out: P_ij = u_i K_ij v_j; each row's argmax (lowest column on ties) and its
	 * transport cost, row by row, then summed in i order */
#pragma omp parallel for schedule(static) if (m_A * m_B >= 65536)
	for (size_t i = 0; i < m_A; i++) {
		const double *Ki = K + i * m_B;
		const float *Ci = C + i * m_B;
		double best = -1, c = 0;
		int32_t arg = 0;
		for (size_t j = 0; j < m_B; j++) {
			double p = u[i] * Ki[j] * v[j];
			if (p > best) {
				best = p;
				arg = (int32_t)j;
			}
			c += p * (1.0 - fabs((double)Ci[j]));
		}
		perm[i] = arg;
		sim[i] = fabsf(Ci[arg]);
		rowcost[i] = c;
	}
	double s = 0, cost = 0;
	size_t n05 = 0, n07 = 0, nthr = 0, distinct = 0;
	for (size_t i = 0; i < m_A; i++) {
		float x = sim[i];
		s += x;
		cost += rowcost[i];
		n05 += x >= 0.5f;
		n07 += x >= 0.7f;
		nthr += x >= thr;
		distinct += !hit[perm[i]];
		hit[perm[i]] = 1;
	}
	res->mean_sim = s / (double)m_A;
	res->frac_05 = (double)n05 / (double)m_A;
	res->frac_07 = (double)n07 / (double)m_A;
	res->frac_thr = (double)nthr / (double)m_A;
	res->ot_cost = cost;
	res->one_to_one = (double)distinct / (double)m_A;
	rc = 0;
cleanup:
	free(C), free(K), free(u), free(v), free(rowcost), free(hit);
	return rc;
}
