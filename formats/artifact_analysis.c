/*
 * artifact_analysis.c — the husai.analysis HDF5 artifact (docs/decisions.md §10): per-pair
 * tables of stability metrics for each group and control, per-feature stability vectors and
 * Hungarian matchings, written through h5w_* (every dataset described by one table, ana_doc)
 * and read back with validation through h5r_*.  What the numbers mean is analyze/'s
 * business; this file owns only their layout on disk.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

/* What every dataset of analysis.h5 holds (docs/artifacts.md "Analysis"); `*` is a group
 * name, a seed or a pair "<a>_<b>".  The numbers' definitions are in docs/formulas.md §5. */
static const struct h5_doc ana_doc[] = {
	{ "/pairs/*/seed_a", "pair", "first seed of each pair (seeds sorted, pairs in lexicographic "
	                             "order)", NULL },
	{ "/pairs/*/seed_b", "pair", "second seed of each pair", NULL },
	{ "/pairs/*/pwmcc", "pair", "PWMCC of the pair: the mean of r_a and r_b", NULL },
	{ "/pairs/*/r_a", "pair", "mean over a's features of the best |cos| with b's", NULL },
	{ "/pairs/*/r_b", "pair", "mean over b's features of the best |cos| with a's", NULL },
	{ "/pairs/*/mnn_fraction", "pair", "fraction of mutual nearest neighbours above the MNN "
	                                   "threshold", NULL },
	{ "/pairs/*/hungarian_abs_mean", "pair", "one-to-one matching on |cos|: mean matched "
	                                         "similarity (NaN: not computed)", NULL },
	{ "/pairs/*/hungarian_abs_frac_0.5", "pair", "one-to-one matching on |cos|: fraction of "
	                                             "matches >= 0.5", NULL },
	{ "/pairs/*/hungarian_abs_frac_0.7", "pair", "one-to-one matching on |cos|: fraction of "
	                                             "matches >= 0.7", NULL },
	{ "/pairs/*/hungarian_abs_frac_thr", "pair", "one-to-one matching on |cos|: fraction of "
	                                             "matches >= --threshold", NULL },
	{ "/pairs/*/hungarian_signed_mean", "pair", "one-to-one matching on signed cosines: mean "
	                                            "matched similarity", NULL },
	{ "/pairs/*/hungarian_signed_frac_0.5", "pair", "one-to-one matching on signed cosines: "
	                                                "fraction of matches >= 0.5", NULL },
	{ "/pairs/*/sinkhorn_abs_mean", "pair", "Sinkhorn matching: mean |cos| of each feature's "
	                                        "largest-plan-entry partner", NULL },
	{ "/pairs/*/sinkhorn_abs_frac_0.5", "pair", "Sinkhorn matching: fraction of partners with "
	                                            "|cos| >= 0.5", NULL },
	{ "/pairs/*/sinkhorn_ot_cost", "pair", "Sinkhorn matching: transport cost", NULL },
	{ "/pairs/*/sinkhorn_one_to_one", "pair", "Sinkhorn matching: share of distinct partners",
	  NULL },
	{ "/pairs/*/sinkhorn_iterations", "pair", "Sinkhorn matching: scaling iterations", NULL },
	{ "/pairs/*/subspace_overlap", "pair", "||U1^T U2||_F^2 / k of the top-k left singular "
	                                       "vectors of the two decoders", NULL },
	{ "/pairs/*/grassmann_distance", "pair", "L2 norm of the principal angles between the two "
	                                         "top-k subspaces", NULL },
	{ "/pairs/*/null_expected_pwmcc", "pair", "the analytic null PWMCC for the pair's shape",
	  NULL },
	{ "/pairs/*/act_abs_pearson", "pair", "|Pearson r| of the two models' latent activations on "
	                                      "the activation set's first rows", NULL },
	{ "/pairs/*/act_topk_jaccard", "pair", "mean top-k Jaccard of the two models' active "
	                                       "latents on the activation set's first rows", NULL },
	{ "/controls/*/*/seed_a", "pair", "first seed of each pair of control models (r1: "
	                                  "Gaussian, r2: untrained)", NULL },
	{ "/controls/*/*/seed_b", "pair", "second seed of each pair of control models", NULL },
	{ "/controls/*/*/pwmcc", "pair", "PWMCC of each pair of control models", NULL },
	{ "/per_feature/*/*/stability", "d_sae", "per feature of the model: mean over the other "
	                                         "models of its best |cos|", NULL },
	{ "/matching/*/*/perm", "d_sae", "|cos| Hungarian matching: the matched column of b for "
	                                 "each feature of a", NULL },
	{ "/matching/*/*/sim", "d_sae", "|cos| of each feature of a with its matched feature", NULL },
	{ "/matching/*/*/signed_perm", "d_sae", "signed-cosine matching: the matched column of b "
	                                        "for each feature of a", NULL },
	{ "/matching/*/*/signed_sim", "d_sae", "signed cosine of each matched pair of features",
	  NULL },
	{ "/matching/*/*/sinkhorn_perm", "d_sae", "Sinkhorn: the partner in b read off the "
	                                          "transport plan for each feature of a", NULL },
	{ "/matching/*/*/sinkhorn_sim", "d_sae", "Sinkhorn: |cos| with that partner", NULL },
	{ "/truth/*/*/best_cos", "true_feature", "best |cos| of each true feature over the model's "
	                                         "latents", NULL },
	{ "/truth/*/*/match", "true_feature", "the latent Hungarian-matched to each true feature "
	                                      "(-1: none)", NULL },
	{ "/truth/*/*/match_cos", "true_feature", "|cos| of each true feature with its matched "
	                                          "latent", NULL },
	{ "/stability_prob/*/unstable_angles", "pair,k", "principal angles (radians) between the "
	                                                 "top-k spans of two models' unstable "
	                                                 "features", NULL },
	{ "/stability_prob/*/*", "d_sae", "per feature of the model: fraction of the other models "
	                                  "holding a feature within the stability threshold", NULL },
	{ NULL, NULL, NULL, NULL },
};

int ana_group_name_ok(const char *name)
{
	if (!name || !*name || strlen(name) > 64 || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '_' || *c == '.' || *c == '-'))
			return 0;
	return 1;
}

int ana_open(struct h5w **w, const char *path, const struct hus_provenance *prov,
             struct hus_err *err)
{
	return h5w_open(w, path, ANALYSIS_FORMAT, ANALYSIS_VERSION, prov, err);
}

int ana_commit(struct h5w *w, struct hus_err *err)
{
	static const struct h5_doc *const tables[] = { ana_doc, NULL };
	int rc = h5w_describe_all(w, tables, err);
	if (rc) {
		h5w_abort(w);
		return rc;
	}
	return h5w_commit(w, err);
}

int ana_write_pairs(struct h5w *w, const char *prefix, const struct ana_pairs *p,
                    struct hus_err *err)
{
	char ds[512];
	size_t dims[1] = { p->n };
	int rc;
	snprintf(ds, sizeof(ds), "%s/seed_a", prefix);
	if ((rc = h5w_i64(w, ds, p->seed_a, 1, dims, err)))
		return rc;
	snprintf(ds, sizeof(ds), "%s/seed_b", prefix);
	if ((rc = h5w_i64(w, ds, p->seed_b, 1, dims, err)))
		return rc;
	for (size_t c = 0; c < p->ncols; c++) {
		snprintf(ds, sizeof(ds), "%s/%s", prefix, p->col_name[c]);
		if ((rc = h5w_f64(w, ds, p->col[c], 1, dims, err)))
			return rc;
	}
	return 0;
}

int ana_write_per_feature(struct h5w *w, const char *group, int64_t seed, const float *stab,
                          size_t m, struct hus_err *err)
{
	char ds[512];
	size_t dims[1] = { m };
	snprintf(ds, sizeof(ds), "/per_feature/%s/%" PRId64 "/stability", group, seed);
	return h5w_f32(w, ds, stab, 1, dims, err);
}

int ana_write_matching(struct h5w *w, const char *group, int64_t seed_a, int64_t seed_b,
                       const char *kind, const int32_t *perm, const float *sim, size_t m,
                       struct hus_err *err)
{
	char ds[512];
	size_t dims[1] = { m };
	int rc;
	snprintf(ds, sizeof(ds), "/matching/%s/%" PRId64 "_%" PRId64 "/%sperm", group, seed_a, seed_b,
	         kind);
	if ((rc = h5w_i32(w, ds, perm, 1, dims, err)))
		return rc;
	snprintf(ds, sizeof(ds), "/matching/%s/%" PRId64 "_%" PRId64 "/%ssim", group, seed_a, seed_b,
	         kind);
	return h5w_f32(w, ds, sim, 1, dims, err);
}

void ana_pairs_release(struct ana_pairs *p)
{
	free(p->seed_a);
	free(p->seed_b);
	for (size_t c = 0; c < p->ncols; c++)
		free(p->col[c]);
	memset(p, 0, sizeof(*p));
}

int ana_read_pairs(struct h5r *r, const char *prefix, const char *const *names,
                   struct ana_pairs *p, struct hus_err *err)
{
	struct ana_pairs o;
	memset(&o, 0, sizeof(o));
	char ds[512];
	size_t dims[1] = { 0 };
	int rc;
	snprintf(ds, sizeof(ds), "%s/seed_a", prefix);
	if ((rc = h5r_read_alloc(r, ds, HUS_I64, (void **)&o.seed_a, 1, dims, err)))
		return rc;
	o.n = dims[0];
	snprintf(ds, sizeof(ds), "%s/seed_b", prefix);
	if ((rc = h5r_read_alloc(r, ds, HUS_I64, (void **)&o.seed_b, 1, dims, err)))
		goto fail;
	for (size_t c = 0; names && names[c]; c++) {
		if (c >= ANA_MAX_COLS) {
			rc = hus_errf(err, HUS_EINPUT, h5r_path(r), prefix, "more than %d columns asked",
			              ANA_MAX_COLS);
			goto fail;
		}
		snprintf(ds, sizeof(ds), "%s/%s", prefix, names[c]);
		dims[0] = o.n; /* every column has one value per pair */
		if ((rc = h5r_read_alloc(r, ds, HUS_F64, (void **)&o.col[c], 1, dims, err)))
			goto fail;
		snprintf(o.col_name[c], sizeof(o.col_name[c]), "%s", names[c]);
		o.ncols = c + 1;
	}
	*p = o;
	return 0;
fail:
	ana_pairs_release(&o);
	return rc;
}

int ana_read_per_feature(struct h5r *r, const char *group, int64_t seed, float **stab,
                         size_t *m, struct hus_err *err)
{
	char ds[512];
	size_t dims[1] = { 0 };
	snprintf(ds, sizeof(ds), "/per_feature/%s/%" PRId64 "/stability", group, seed);
	int rc = h5r_read_alloc(r, ds, HUS_F32, (void **)stab, 1, dims, err);
	if (!rc)
		*m = dims[0];
	return rc;
}

int ana_read_matching(struct h5r *r, const char *group, int64_t seed_a, int64_t seed_b,
                      const char *kind, int32_t **perm, size_t *m, struct hus_err *err)
{
	char ds[512];
	size_t dims[1] = { 0 };
	snprintf(ds, sizeof(ds), "/matching/%s/%" PRId64 "_%" PRId64 "/%sperm", group, seed_a, seed_b,
	         kind);
	if (!h5r_has(r, ds))
		return hus_errf(err, HUS_EINPUT, h5r_path(r), ds,
		                "no matching of seeds %" PRId64 " and %" PRId64 " in group '%s' (the "
		                "analysis was run with --no-matchings, or on other seeds)",
		                seed_a, seed_b, group);
	int rc = h5r_read_alloc(r, ds, HUS_I32, (void **)perm, 1, dims, err);
	if (!rc)
		*m = dims[0];
	return rc;
}
