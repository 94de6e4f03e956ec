/*
 * pwmcc.c — PWMCC between two decoders (docs/formulas.md §5.1) and the pair enumeration of §5.2.
 *
 * Owns the hot path: Â and B̂ are column-normalised once (stored transposed, one feature per
 * row), then Âᵀ·B̂ is formed a panel of rows at a time (pwmcc_panel_rows) by hus_gemm and the
 * row and column maxima of its absolute value are folded in before the next panel (docs/decisions.md §5).  Memory is
 * O((m_A + m_B)·block·threads); the m_A × m_B matrix never exists.  Keeps the naive formula as
 * pwmcc_ref for tests.
 *
 * Invariants:
 *  (1) every element of a panel is hus_gemm's canonical chain (numeric/), whatever the panel
 *      and the thread; maxima are exact in any order, so the OpenMP split cannot change a bit;
 *  (2) ties of the argmax resolve to the lowest index (docs/formulas.md A12);
 *  (3) the final means are summed in double in index order.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

int pwmcc_normalize(float *At, size_t *n_zero, const float *A, size_t d_model, size_t m,
                    struct hus_err *err)
{
	size_t zeros = 0;
	double *nrm = calloc(m ? m : 1, sizeof(double));
	if (!nrm)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %zu norms", m);
	for (size_t r = 0; r < d_model; r++) {
		const float *A_r = A + r * m;
		for (size_t j = 0; j < m; j++) {
			if (!isfinite(A_r[j])) {
				free(nrm);
				return hus_errf(err, HUS_EINPUT, NULL, NULL,
				                "decoder entry [%zu, %zu] (feature %zu) is not finite", r,
				                j, j);
			}
			nrm[j] += (double)A_r[j] * A_r[j];
		}
	}
	for (size_t j = 0; j < m; j++) {
		double n = sqrt(nrm[j]);
		if (n == 0)
			zeros++;
		/* x / max(‖x‖, 1e-12), docs/formulas.md §5.1 */
		nrm[j] = 1.0 / (n > 1e-12 ? n : 1e-12);
	}
	/* transpose in 32 x 32 tiles so reads and writes both stay in cache */
	for (size_t r0 = 0; r0 < d_model; r0 += 32)
		for (size_t j0 = 0; j0 < m; j0 += 32) {
			size_t r1 = r0 + 32 < d_model ? r0 + 32 : d_model, j1 = j0 + 32 < m ? j0 + 32 : m;
			for (size_t j = j0; j < j1; j++)
				for (size_t r = r0; r < r1; r++)
					At[j * d_model + r] = (float)(A[r * m + j] * nrm[j]);
		}
	free(nrm);
	if (n_zero)
		*n_zero = zeros;
	return 0;
}

int pwmcc_panel_threads(size_t d_model, size_t m_A, size_t m_B)
{
	size_t npanel = (m_A + PWMCC_BLOCK - 1) / PWMCC_BLOCK;
	int nthr = omp_get_max_threads();
	if (nthr < 1)
		nthr = 1;
	if ((size_t)nthr > npanel)
		nthr = npanel ? (int)npanel : 1;
	/* A second thread only pays when each has real work: below ~0.5 GFLOP per thread the
	 * barrier at the end of the region (GOMP workers spin there) costs more than it saves on
	 * a loaded machine.  Results do not depend on the thread count (invariant 1). */
	double flops = 2.0 * (double)d_model * (double)m_A * (double)m_B;
	while (nthr > 1 && flops / nthr < 5e8)
		nthr--;
	return nthr;
}

size_t pwmcc_panel_rows(size_t m_A, int nthr)
{
	size_t tall = (size_t)PWMCC_BLOCK_TALL * 2 * (size_t)(nthr > 1 ? nthr : 1);
	return m_A >= tall ? PWMCC_BLOCK_TALL : PWMCC_BLOCK;
}

int pwmcc_panel_pass(const float *At, const float *Bt, size_t d_model, size_t m_A, size_t m_B,
                     int nthr, pwmcc_panel_fn fold, void *ctx, struct hus_err *err)
{
	size_t blk = pwmcc_panel_rows(m_A, nthr), npanel = (m_A + blk - 1) / blk;
	float *C = malloc(sizeof(float) * blk * m_B * (size_t)nthr); /* one panel per thread */
	if (!C)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %d panels of %zu x %zu",
		                nthr, blk, m_B);
	/* OpenMP threads each run the product single-threaded on whole panels (hus_gemm does not
	 * start threads inside a parallel region).  Small problems: no team; hus_gemm splits each
	 * panel's rows and columns over threads itself (never K, so the bits are the same). */
#pragma omp parallel num_threads(nthr) if (nthr > 1)
	{
		int t = omp_get_thread_num();
		float *C_t = C + (size_t)t * blk * m_B;
#pragma omp for schedule(dynamic, 1)
		for (size_t p = 0; p < npanel; p++) {
			size_t i0 = p * blk, bi = m_A - i0 < blk ? m_A - i0 : blk;
			/* C_t (bi, m_B) = Ât[i0:i0+bi] (bi, d) · B̂t (m_B, d)ᵀ: the same call whatever
			 * the thread count and schedule, so every element has the same bits (invariant 1) */
			hus_gemm(0, 1, bi, m_B, d_model, At + i0 * d_model, d_model, Bt, d_model, 0.0f,
			         C_t, m_B);
			fold(ctx, t, i0, bi, C_t);
		}
	}
	free(C);
	return 0;
}

/* pwmcc_maxes' fold: row maxima (and argmaxes) of a panel, column maxima per thread */
struct maxes_fold {
	float *rowmax, *cmax; /* cmax, carg: m_B per thread */
	int32_t *argrow, *carg;
	size_t m_B;
	int args; /* argmaxes asked for */
	pwmcc_panel_fn also; /* a second fold of the same panel (pwmcc_maxes_also), or NULL */
	void *also_ctx;
};

static void fold_maxes(void *ctx, int t, size_t i0, size_t bi, const float *C)
{
	struct maxes_fold *f = ctx;
	size_t m_B = f->m_B;
	if (f->also)
		f->also(f->also_ctx, t, i0, bi, C);
	float *cm = f->cmax + (size_t)t * m_B;
	int32_t *ca = f->carg + (size_t)t * m_B;
	if (!f->args) { /* maxima only: branch-free, vectorised */
		for (size_t i = 0; i < bi; i++) {
			const float *C_i = C + i * m_B;
			float best = -1.0f;
#pragma omp simd reduction(max : best)
			for (size_t j = 0; j < m_B; j++) {
				float v = fabsf(C_i[j]);
				best = v > best ? v : best;
				cm[j] = v > cm[j] ? v : cm[j];
			}
			f->rowmax[i0 + i] = best;
		}
		return;
	}
	for (size_t i = 0; i < bi; i++) {
		const float *C_i = C + i * m_B;
		float best = -1.0f;
		int32_t barg = -1;
		for (size_t j = 0; j < m_B; j++) {
			float v = fabsf(C_i[j]);
			if (v > best) {
				best = v;
				barg = (int32_t)j;
			}
			if (v > cm[j]) {
				cm[j] = v;
				ca[j] = (int32_t)(i0 + i);
			}
		}
		f->rowmax[i0 + i] = best;
		if (f->argrow)
			f->argrow[i0 + i] = barg;
	}
}

int pwmcc_maxes(float *rowmax, float *colmax, int32_t *argrow, int32_t *argcol, const float *At,
                const float *Bt, size_t d_model, size_t m_A, size_t m_B, struct hus_err *err)
{
	return pwmcc_maxes_also(rowmax, colmax, argrow, argcol, At, Bt, d_model, m_A, m_B, NULL,
	                        NULL, err);
}

int pwmcc_maxes_also(float *rowmax, float *colmax, int32_t *argrow, int32_t *argcol,
                     const float *At, const float *Bt, size_t d_model, size_t m_A, size_t m_B,
                     pwmcc_panel_fn also, void *also_ctx, struct hus_err *err)
{
	if (m_A > INT32_MAX || m_B > INT32_MAX || d_model > INT32_MAX)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "decoder too large (%zu x %zu)", m_A, m_B);
	int nthr = pwmcc_panel_threads(d_model, m_A, m_B);
	/* per thread: its own column maxima */
	float *cmax = malloc(sizeof(float) * m_B * (size_t)nthr);
	int32_t *carg = malloc(sizeof(int32_t) * m_B * (size_t)nthr);
	if (!cmax || !carg) {
		free(cmax), free(carg);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %d x %zu column maxima",
		                nthr, m_B);
	}
	for (size_t e = 0; e < m_B * (size_t)nthr; e++) {
		cmax[e] = -1.0f;
		carg[e] = -1;
	}
	struct maxes_fold f = { rowmax, cmax, argrow, carg, m_B, argrow || argcol, also, also_ctx };
	int rc = pwmcc_panel_pass(At, Bt, d_model, m_A, m_B, nthr, fold_maxes, &f, err);
	if (rc) {
		free(cmax), free(carg);
		return rc;
	}
	/* merge column maxima: larger value wins, equal values keep the lower row (invariant 2),
	 * which does not depend on which thread saw which panel */
	for (size_t j = 0; j < m_B; j++) {
		float best = cmax[j];
		int32_t barg = carg[j];
		for (int t = 1; t < nthr; t++) {
			float v = cmax[(size_t)t * m_B + j];
			int32_t a = carg[(size_t)t * m_B + j];
			if (v > best || (v == best && a < barg)) {
				best = v;
				barg = a;
			}
		}
		colmax[j] = best;
		if (argcol)
			argcol[j] = barg;
	}
	free(cmax), free(carg);
	return 0;
}

double pwmcc_from_maxes(const float *rowmax, size_t m_A, const float *colmax, size_t m_B)
{
	double ra = 0, rb = 0;
	for (size_t i = 0; i < m_A; i++)
		ra += rowmax[i];
	for (size_t j = 0; j < m_B; j++)
		rb += colmax[j];
	return (ra / (double)m_A + rb / (double)m_B) / 2;
}

int pwmcc_pairs(double *v, float *const *At, const size_t *m, size_t n, size_t d,
                pwmcc_pair_fn each, void *ctx, struct hus_err *err)
{
	size_t mmax = 1;
	for (size_t i = 0; i < n; i++)
		mmax = m[i] > mmax ? m[i] : mmax;
	float *rowmax = malloc(mmax * sizeof(float)), *colmax = malloc(mmax * sizeof(float));
	int rc = (!rowmax || !colmax) ? hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory") : 0;
	size_t p = 0;
	for (size_t i = 0; i < n && !rc; i++)
		for (size_t j = i + 1; j < n && !rc; j++, p++) {
			rc = pwmcc_maxes(rowmax, colmax, NULL, NULL, At[i], At[j], d, m[i], m[j], err);
			if (!rc && v)
				v[p] = pwmcc_from_maxes(rowmax, m[i], colmax, m[j]);
			if (!rc && each)
				rc = each(ctx, i, j, rowmax, colmax, err);
		}
	free(rowmax), free(colmax);
	return rc;
}

int pwmcc_blocked(struct pwmcc_result *res, const float *A, const float *B, size_t d_model,
                  size_t m_A, size_t m_B, struct hus_err *err)
{
	if (!d_model || !m_A || !m_B)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "empty decoder (%zu x %zu vs %zu x %zu)",
		                d_model, m_A, d_model, m_B);
	int rc = HUS_ENOMEM;
	float *At = malloc(sizeof(float) * m_A * d_model), *Bt = malloc(sizeof(float) * m_B * d_model);
	float *rowmax = malloc(sizeof(float) * m_A), *colmax = malloc(sizeof(float) * m_B);
	struct pwmcc_result r = { 0 };
	if (!At || !Bt || !rowmax || !colmax) {
		hus_errf(err, rc, NULL, NULL, "out of memory for decoders %zu x (%zu, %zu)", d_model,
		         m_A, m_B);
		goto cleanup;
	}
	if ((rc = pwmcc_normalize(At, &r.zero_a, A, d_model, m_A, err)))
		goto cleanup;
	if ((rc = pwmcc_normalize(Bt, &r.zero_b, B, d_model, m_B, err)))
		goto cleanup;
	if ((rc = pwmcc_maxes(rowmax, colmax, NULL, NULL, At, Bt, d_model, m_A, m_B, err)))
		goto cleanup;
	double ra = 0, rb = 0;
	for (size_t i = 0; i < m_A; i++)
		ra += rowmax[i];
	for (size_t j = 0; j < m_B; j++)
		rb += colmax[j];
	r.r_a = ra / (double)m_A;
	r.r_b = rb / (double)m_B;
	r.pwmcc = (r.r_a + r.r_b) / 2;
	*res = r;
cleanup:
	free(At), free(Bt), free(rowmax), free(colmax);
	return rc;
}

double pwmcc_ref(const float *A, const float *B, size_t d_model, size_t m_A, size_t m_B)
{
	double *na = calloc(m_A, sizeof(double)), *nb = calloc(m_B, sizeof(double));
	double *rowm = calloc(m_A, sizeof(double)), *colm = calloc(m_B, sizeof(double));
	double out = NAN;
	if (!na || !nb || !rowm || !colm)
		goto cleanup;
	for (size_t r = 0; r < d_model; r++) {
		for (size_t i = 0; i < m_A; i++)
			na[i] += (double)A[r * m_A + i] * A[r * m_A + i];
		for (size_t j = 0; j < m_B; j++)
			nb[j] += (double)B[r * m_B + j] * B[r * m_B + j];
	}
	for (size_t i = 0; i < m_A; i++)
		na[i] = fmax(sqrt(na[i]), 1e-12);
	for (size_t j = 0; j < m_B; j++)
		nb[j] = fmax(sqrt(nb[j]), 1e-12);
	for (size_t i = 0; i < m_A; i++)
		for (size_t j = 0; j < m_B; j++) {
			double c = 0;
			for (size_t r = 0; r < d_model; r++)
				c += (double)A[r * m_A + i] * B[r * m_B + j];
			c = fabs(c / (na[i] * nb[j]));
			if (c > rowm[i])
				rowm[i] = c;
			if (c > colm[j])
				colm[j] = c;
		}
	double ra = 0, rb = 0;
	for (size_t i = 0; i < m_A; i++)
		ra += rowm[i];
	for (size_t j = 0; j < m_B; j++)
		rb += colm[j];
	out = (ra / (double)m_A + rb / (double)m_B) / 2;
cleanup:
	free(na), free(nb), free(rowm), free(colm);
	return out;
}

/* ---------------------------------------------------------------- pairs (§5.2) ------ */

size_t pairs_order(size_t *order, const int64_t *seeds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	/* stable insertion sort by seed: n is a handful of seeds */
	for (size_t i = 1; i < n; i++) {
		size_t v = order[i], k = i;
		while (k > 0 && seeds[order[k - 1]] > seeds[v]) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = v;
	}
	return n < 2 ? 0 : n * (n - 1) / 2;
}

void pairs_index(size_t *pi, size_t *pj, size_t n)
{
	size_t p = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++, p++) {
			pi[p] = i;
			pj[p] = j;
		}
}
