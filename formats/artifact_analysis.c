/*
 * artifact_analysis.c — the husai.analysis HDF5 artifact (docs/decisions.md §10): per-pair tables of
 * stability metrics for each group and control, per-feature stability vectors and Hungarian
 * matchings, written through h5w_* and read back with validation through h5r_*.  What the
 * numbers mean is analyze/'s business; this file owns only their layout on disk.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

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
