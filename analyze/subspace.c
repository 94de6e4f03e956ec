/*
 * subspace.c — subspace overlap of two decoders (docs/formulas.md §5.4, upstream
 * validate_subspace_overlap.py and exp_subspace_stability.py): U_k = the top-k left singular
 * vectors of W_dec [d_model, d_sae]; overlap = ‖U1ᵀU2‖_F²/k; principal angles = arccos of the
 * clamped singular values of U1ᵀU2; Grassmann distance = ‖angles‖₂; mean cos² of the angles.
 * U_k comes from GSL's SVD (from d_model 512 on, its symmetric eigensolver) of the Gram matrix
 * W_dec·W_decᵀ (d_model × d_model), formed by the
 * numeric core in a fixed order (hus_gram_f64): the same left singular vectors as the SVD of
 * W_decᵀ that §5.4 suggests, at a fraction of the cost for wide decoders (see
 * subspace_basis).  GSL's own BLAS calls inside the SVD go to its reference CBLAS
 * (libgslcblas, plain loops in a fixed order): husai links no optimised BLAS.
 */
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>

#include "analyze.h"

/* From this d_model on, U comes from the symmetric eigensolver instead of the SVD of G. */
#define SUBSPACE_EIGEN_MIN_D 512

/* W[r][j] at W[r*rs + j*js]: W (d, m) row-major, or its transpose (m, d) as pwmcc_normalize
 * stores a decoder. */
static int basis(double *U, const float *W, size_t rs, size_t js, size_t d_model, size_t m,
                 size_t k, struct hus_err *err)
{
	size_t mn = d_model < m ? d_model : m;
	if (!k || k > mn)
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "subspace k = %zu must be in [1, min(d_model, d_sae) = %zu]", k, mn);
	for (size_t r = 0; r < d_model; r++)
		for (size_t j = 0; j < m; j++)
			if (!isfinite(W[r * rs + j * js]))
				return hus_errf(err, HUS_EINPUT, NULL, NULL,
				                "decoder entry [%zu, %zu] is not finite", r, j);
	/* The left singular vectors of W (d_model, m) are those of its Gram matrix G = W·Wᵀ
	 * (d_model, d_model), whose SVD is its eigendecomposition with σ_G = σ_W².  Forming G
	 * (O(d²m)) and taking GSL's SVD of the small G replaces a Householder SVD of
	 * the tall W_decᵀ (O(m·d²) in level-2 loops: minutes at 512 x 16384) with the same
	 * subspace.  Only the top-k vectors are used, so squaring the spectrum costs nothing
	 * that matters here. */
	gsl_matrix *G = gsl_matrix_alloc(d_model, d_model), *V = gsl_matrix_alloc(d_model, d_model);
	gsl_vector *S = gsl_vector_alloc(d_model), *work = gsl_vector_alloc(d_model);
	int rc = 0;
	if (!G || !V || !S || !work) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a %zu x %zu SVD", d_model,
		              d_model);
		goto cleanup;
	}
	/* G = W·Wᵀ in double, one fma chain per element (G's rows are contiguous: tda == d) */
	if (js == 1)
		hus_gram_f64(G->data, W, d_model, m);
	else
		hus_gram_t_f64(G->data, W, d_model, m);
	if (d_model >= SUBSPACE_EIGEN_MIN_D) {
		/* G is symmetric positive semi-definite: its eigenvectors by decreasing eigenvalue
		 * are the same U.  GSL's symmetric eigensolver (tridiagonal QR) needs ~2.5x less
		 * work than its general SVD, which at d_model 768 took ~13 CPU-seconds per decoder
		 * (EXPERIMENTS.md, analysis at language-model scale).  Smaller d_model keep the SVD
		 * so archived subspace values keep their bits. */
		gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(d_model);
		if (!ws) {
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a %zu x %zu "
			              "eigendecomposition", d_model, d_model);
			goto cleanup;
		}
		int st = gsl_eigen_symmv(G, S, V, ws);
		gsl_eigen_symmv_free(ws);
		if (st || gsl_eigen_symmv_sort(S, V, GSL_EIGEN_SORT_VAL_DESC)) {
			rc = hus_errf(err, HUS_EINTERNAL, NULL, NULL, "eigendecomposition of a %zu x %zu "
			              "Gram matrix failed", d_model, d_model);
			goto cleanup;
		}
		for (size_t r = 0; r < d_model; r++)
			for (size_t c = 0; c < k; c++)
				U[r * k + c] = gsl_matrix_get(V, r, c);
		goto cleanup;
	}
	/* HUSAI_FAULT=subspace_svd: GSL's failure, which no input was found to provoke (tests) */
	if (hus_fault("subspace_svd") || gsl_linalg_SV_decomp(G, V, S, work)) {
		rc = hus_errf(err, HUS_EINTERNAL, NULL, NULL, "SVD of a %zu x %zu Gram matrix failed",
		              d_model, d_model);
		goto cleanup;
	}
	/* singular values come sorted descending; G now holds U */
	for (size_t r = 0; r < d_model; r++)
		for (size_t c = 0; c < k; c++)
			U[r * k + c] = gsl_matrix_get(G, r, c);
cleanup:
	gsl_matrix_free(G), gsl_matrix_free(V);
	gsl_vector_free(S), gsl_vector_free(work);
	return rc;
}

int subspace_basis(double *U, const float *W, size_t d_model, size_t m, size_t k,
                   struct hus_err *err)
{
	return basis(U, W, m, 1, d_model, m, k, err);
}

int subspace_basis_t(double *U, const float *Wt, size_t d_model, size_t m, size_t k,
                     struct hus_err *err)
{
	return basis(U, Wt, 1, d_model, d_model, m, k, err);
}

int subspace_compare(struct subspace_result *res, double *angles, const double *U1,
                     const double *U2, size_t d_model, size_t k, struct hus_err *err)
{
	gsl_matrix *M = gsl_matrix_alloc(k, k), *V = gsl_matrix_alloc(k, k);
	gsl_vector *S = gsl_vector_alloc(k), *work = gsl_vector_alloc(k);
	int rc = 0;
	if (!M || !V || !S || !work) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a %zu x %zu SVD", k, k);
		goto cleanup;
	}
	double fro = 0;
	for (size_t a = 0; a < k; a++)
		for (size_t b = 0; b < k; b++) {
			double s = 0;
			for (size_t r = 0; r < d_model; r++)
				s += U1[r * k + a] * U2[r * k + b];
			gsl_matrix_set(M, a, b, s);
			fro += s * s;
		}
	int st = hus_fault("subspace_compare_svd") ? GSL_EFAILED : gsl_linalg_SV_decomp(M, V, S, work);
	if (st) {
		rc = hus_errf(err, HUS_EINTERNAL, NULL, NULL, "SVD of U1'U2 (%zu x %zu) failed", k, k);
		goto cleanup;
	}
	double g = 0, c2 = 0;
	for (size_t a = 0; a < k; a++) {
		double s = gsl_vector_get(S, a);
		s = s > 1 ? 1 : (s < -1 ? -1 : s);
		double th = hus_acos(s); /* husai's own (numeric/): libm's varies by CPU */
		if (angles)
			angles[a] = th;
		g += th * th;
		c2 += s * s;
	}
	res->overlap = fro / (double)k;
	res->grassmann = sqrt(g);
	res->mean_cos2 = c2 / (double)k;
cleanup:
	gsl_matrix_free(M), gsl_matrix_free(V);
	gsl_vector_free(S), gsl_vector_free(work);
	return rc;
}
