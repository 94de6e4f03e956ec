/*
 * truth.c — recovery of planted features (docs/formulas.md §10.2): for an SAE trained on a
 * planted activation set (husai plant), how well its decoder recovers the true dictionary
 * and its latents the true codes.  MCC to the truth: the mean over true features of the
 * matched |cos| of a one-to-one Hungarian assignment (MATCH_ABS, the solver of cross-seed
 * matching; a true feature left unmatched when d_sae < n counts 0), as SynthSAEBench scores
 * SAEs; per-true-feature recovery: the best |cos| over all latents; code precision and
 * recall: a latent matched to true feature i "fires" when its latent is non-zero, and over
 * the first rows of the set, pooled over matched pairs, precision = both fire / latent fires
 * and recall = both fire / feature fires.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis_internal.h"

int truth_recovery(struct truth_recovery *res, float *best, int32_t *match, float *match_cos,
                   const float *Tt, const float *At, size_t d, size_t n, size_t m,
                   struct hus_err *err)
{
	float *colmax = malloc(sizeof(float) * (m ? m : 1));
	if (!colmax)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	int rc = pwmcc_maxes(best, colmax, NULL, NULL, Tt, At, d, n, m, err);
	free(colmax);
	struct match_result mr;
	if (!rc)
		rc = match_hungarian(&mr, match, match_cos, Tt, At, d, n, m, MATCH_ABS, 0.5, err);
	if (rc)
		return rc;
	double s = 0, sb = 0;
	size_t r09 = 0, r07 = 0;
	for (size_t i = 0; i < n; i++) { /* in index order, in double */
		if (match[i] >= 0 && !isnan(match_cos[i]))
			s += match_cos[i];
		sb += best[i];
		r09 += best[i] >= 0.9f;
		r07 += best[i] >= 0.7f;
	}
	res->mcc = s / (double)n;
	res->recovery_mean = sb / (double)n;
	res->recovered_09 = (double)r09 / (double)n;
	res->recovered_07 = (double)r07 / (double)n;
	return 0;
}

void truth_codes(double *precision, double *recall, const int32_t *match, const float *Z,
                 size_t rows, size_t m, const int64_t *indptr, const int32_t *indices, size_t n)
{
	/* latent j -> the true feature matched to it (or -1) */
	int32_t *inv = malloc(sizeof(int32_t) * (m ? m : 1));
	if (!inv) {
		*precision = *recall = NAN;
		return;
	}
	for (size_t j = 0; j < m; j++)
		inv[j] = -1;
	for (size_t i = 0; i < n; i++)
		if (match[i] >= 0)
			inv[match[i]] = (int32_t)i;
	uint64_t both = 0, lat = 0, tru = 0;
	for (size_t r = 0; r < rows; r++) {
		const float *z = Z + r * m;
		for (size_t j = 0; j < m; j++)
			lat += inv[j] >= 0 && z[j] != 0.0f;
		for (int64_t q = indptr[r]; q < indptr[r + 1]; q++) {
			int32_t j = match[indices[q]];
			if (j < 0)
				continue;
			tru++;
			both += z[j] != 0.0f;
		}
	}
	free(inv);
	*precision = lat ? (double)both / (double)lat : NAN;
	*recall = tru ? (double)both / (double)tru : NAN;
}

/* Latents (rows, d_sae) of X under the checkpoint at path (its own architecture). */
static int latents_of(float **Z, size_t *m, const char *path, const float *X, size_t rows,
                      size_t d, struct hus_err *err)
{
	struct decoder dec;
	int rc = decoder_load(&dec, path, 1, err);
	if (rc)
		return rc;
	int arch = latent_arch_parse(dec.architecture);
	if (dec.d_model != d)
		rc = hus_errf(err, HUS_EINPUT, path, "/params/W_enc",
			      "expected d_model %zu like the planted set, got %zu", d, dec.d_model);
	else if (arch < 0)
		rc = hus_errf(err, HUS_EINPUT, path, "/architecture", "unknown architecture '%s'",
			      dec.architecture);
	if (!rc) {
		size_t k = dec.k > 0 ? (size_t)dec.k : 32;
		if (k > dec.d_sae)
			k = dec.d_sae;
		struct sae_encoder e = { (enum latent_arch)arch, d, dec.d_sae, k, dec.W_enc, dec.b_enc,
					 dec.b_dec, dec.threshold };
		*m = dec.d_sae;
		*Z = malloc(sizeof(float) * rows * dec.d_sae);
		if (!*Z)
			rc = hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory for latents");
		else if ((rc = sae_latents(*Z, &e, X, rows, err))) {
			free(*Z);
			*Z = NULL;
		}
	}
	decoder_release(&dec);
	return rc;
}

int truth_group(hj *out, struct h5w *h5, const char *group, const struct mset *t,
                const char *const *paths, const struct planted_truth *tr, const float *X,
                size_t rows, struct hus_err *err)
{
	size_t n = tr->n, d = tr->d, S = t->n;
	if (t->d != d)
		return hus_errf(err, HUS_EINPUT, paths[0], "/params/W_dec",
				"expected d_model %zu like the planted set, got %zu", d, t->d);
	float *Tt = malloc(sizeof(float) * n * d), *best = malloc(sizeof(float) * n);
	float *mcos = malloc(sizeof(float) * n);
	int32_t *match = malloc(sizeof(int32_t) * n);
	double *col[7];
	for (int c = 0; c < 7; c++)
		col[c] = calloc(S ? S : 1, sizeof(double));
	int rc = 0;
	size_t nz;
	if (!Tt || !best || !mcos || !match || !col[0] || !col[1] || !col[2] || !col[3] || !col[4] ||
	    !col[5] || !col[6]) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for the truth metrics");
		goto done;
	}
	if ((rc = pwmcc_normalize(Tt, &nz, tr->dictionary, d, n, err)))
		goto done;
	for (size_t i = 0; i < S; i++) {
		struct truth_recovery tv;
		if ((rc = truth_recovery(&tv, best, match, mcos, Tt, t->At[i], d, n, t->m[i], err)))
			goto done;
		float *Z = NULL;
		size_t m = 0;
		if ((rc = latents_of(&Z, &m, paths[i], X, rows, d, err)))
			goto done;
		double prec, rec;
		truth_codes(&prec, &rec, match, Z, rows, m, tr->indptr, tr->indices, n);
		free(Z);
		col[0][i] = tv.mcc, col[1][i] = tv.recovery_mean, col[2][i] = tv.recovered_09;
		col[3][i] = tv.recovered_07, col[4][i] = prec, col[5][i] = rec;
		col[6][i] = prec + rec > 0 ? 2 * prec * rec / (prec + rec) : NAN;
		char ds[256];
		size_t n1[1] = { n };
		snprintf(ds, sizeof(ds), "/truth/%s/%lld/best_cos", group, (long long)t->seed[i]);
		if ((rc = h5w_f32(h5, ds, best, 1, n1, err)))
			goto done;
		snprintf(ds, sizeof(ds), "/truth/%s/%lld/match", group, (long long)t->seed[i]);
		if ((rc = h5w_i32(h5, ds, match, 1, n1, err)))
			goto done;
		snprintf(ds, sizeof(ds), "/truth/%s/%lld/match_cos", group, (long long)t->seed[i]);
		if ((rc = h5w_f32(h5, ds, mcos, 1, n1, err)))
			goto done;
	}
	static const char *const names[7] = { "mcc", "recovery_mean", "recovered_frac_0.9",
					      "recovered_frac_0.7", "code_precision", "code_recall",
					      "code_f1" };
	hj_set(out, "definition",
	       hj_str("against the planted dictionary (docs/formulas.md 10.2): mcc = mean over true "
		      "features of the Hungarian-matched |cos| (unmatched count 0); recovery = best "
		      "|cos| per true feature; code precision/recall pooled over matched pairs on the "
		      "first `rows` rows (a latent fires when non-zero); vectors in analysis.h5 "
		      "/truth/<group>/<seed>/{best_cos, match, match_cos}"));
	hj_set(out, "n_true_features", hj_int((int64_t)n));
	hj_set(out, "rows", hj_int((int64_t)rows));
	hj_set(out, RJK_SEEDS, hj_i64_array(t->seed, S));
	for (int c = 0; c < 7; c++) {
		double s = 0;
		size_t k = 0;
		for (size_t i = 0; i < S; i++)
			if (!isnan(col[c][i]))
				s += col[c][i], k++;
		hj *o = hj_obj();
		hj_set(o, RJK_MEAN, hj_num(k ? s / (double)k : NAN));
		hj_set(o, "values", hj_f64_array(col[c], S));
		hj_set(out, names[c], o);
	}
done:
	free(Tt), free(best), free(mcos), free(match);
	for (int c = 0; c < 7; c++)
		free(col[c]);
	return rc;
}
