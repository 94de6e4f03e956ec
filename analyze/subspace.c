/*
 * subspace.c — subspace overlap of two decoders (spec §5.4, upstream
 * validate_subspace_overlap.py and exp_subspace_stability.py): U_k = the top-k left singular
 * vectors of W_dec [d_model, d_sae]; overlap = ‖U1ᵀU2‖_F²/k; principal angles = arccos of the
 * clamped singular values of U1ᵀU2; Grassmann distance = ‖angles‖₂; mean cos² of the angles.
 * GSL's SV_decomp needs rows >= cols, so it decomposes W_decᵀ (d_sae × d_model) when d_sae >=
 * d_model (W_dec's left vectors are then W_decᵀ's right vectors) and W_dec itself otherwise.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>

#include "analyze.h"

int subspace_basis(double *U, const float *W, size_t d_model, size_t m, size_t k,
                   struct hus_err *err)
{
	size_t mn = d_model < m ? d_model : m;
	if (!k || k > mn)
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "subspace k = %zu must be in [1, min(d_model, d_sae) = %zu]", k, mn);
	for (size_t e = 0; e < d_model * m; e++)
		if (!isfinite(W[e]))
			return hus_errf(err, HUS_EINPUT, NULL, NULL, "decoder entry [%zu, %zu] is not finite",
			                e / m, e % m);
	int transposed = m >= d_model; /* decompose W_decᵀ (m × d_model) */
	size_t rows = transposed ? m : d_model, cols = transposed ? d_model : m;
	gsl_matrix *A = gsl_matrix_alloc(rows, cols), *V = gsl_matrix_alloc(cols, cols);
	gsl_vector *S = gsl_vector_alloc(cols), *work = gsl_vector_alloc(cols);
	int rc = 0;
	if (!A || !V || !S || !work) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a %zu x %zu SVD", rows, cols);
		goto cleanup;
	}
	for (size_t r = 0; r < d_model; r++)
		for (size_t j = 0; j < m; j++) {
			if (transposed)
				gsl_matrix_set(A, j, r, W[r * m + j]);
			else
				gsl_matrix_set(A, r, j, W[r * m + j]);
		}
	if (gsl_linalg_SV_decomp(A, V, S, work)) {
		rc = hus_errf(err, HUS_EINTERNAL, NULL, NULL, "SVD of a %zu x %zu decoder failed", rows,
		              cols);
		goto cleanup;
	}
	/* singular values come sorted descending */
	for (size_t r = 0; r < d_model; r++)
		for (size_t c = 0; c < k; c++)
			U[r * k + c] = transposed ? gsl_matrix_get(V, r, c) : gsl_matrix_get(A, r, c);
cleanup:
	gsl_matrix_free(A), gsl_matrix_free(V);
	gsl_vector_free(S), gsl_vector_free(work);
	return rc;
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
	if (gsl_linalg_SV_decomp(M, V, S, work)) {
		rc = hus_errf(err, HUS_EINTERNAL, NULL, NULL, "SVD of U1'U2 (%zu x %zu) failed", k, k);
		goto cleanup;
	}
	double g = 0, c2 = 0;
	for (size_t a = 0; a < k; a++) {
		double s = gsl_vector_get(S, a);
		s = s > 1 ? 1 : (s < -1 ? -1 : s);
		double th = acos(s);
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
