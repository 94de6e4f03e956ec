/*
 * artifact_planted.c — a planted-feature activation set (docs/artifacts.md "Planted activation
 * sets", docs/formulas.md §10): an ordinary husai.activation_set (/activations [N, d] float32,
 * /stats/{mean, std, min, max}, root attributes) whose rows were drawn from a known
 * dictionary, plus the truth: /truth/dictionary [d, n] float32 (column i = feature i, unit
 * norm, like an SAE's W_dec), /truth/codes/{indptr [N+1] int64, indices [nnz] int32, values
 * [nnz] float32} (row r's active features and magnitudes, CSR, indices increasing),
 * /truth/frequency [n] float64 (firing probability), /truth/parent [n] int32 (-1 none),
 * /truth/group [n] int32 (-1 none); every dataset described (description, dims) by the
 * activation set's table and planted_doc.  Written streamed, one block of rows at a time, so the
 * rows never need to be in memory at once; the reader loads the truth only (the rows are
 * read like any activation set).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

/* An activation set without the modular-addition task columns is version 2 (an older husai
 * refuses it by its version; docs/artifacts.md "Activation set"). */
#define PLANTED_ACTS_VERSION 2

/* The /truth datasets (docs/artifacts.md "Planted activation sets"); /activations and /stats
 * are described by the activation set's own table. */
static const struct h5_doc planted_doc[] = {
	{ "/truth/dictionary", "d_model,true_feature", "the true features, unit columns (column i = "
	                                               "feature i, as an SAE's W_dec)", NULL },
	{ "/truth/codes/indptr", "row_boundary", "CSR row pointers (N + 1): row r's codes are "
	                                         "entries indptr[r] to indptr[r+1] - 1", NULL },
	{ "/truth/codes/indices", "code", "active true feature of each code, increasing within a row",
	  NULL },
	{ "/truth/codes/values", "code", "magnitude of each code", NULL },
	{ "/truth/frequency", "true_feature", "firing probability of each true feature", NULL },
	{ "/truth/parent", "true_feature", "parent feature of each true feature (-1: none)", NULL },
	{ "/truth/group", "true_feature", "correlated group of each true feature (-1: none)", NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct h5_doc *const planted_tables[] = { acts_doc, planted_doc, NULL };

struct planted_writer {
	struct h5w *w;
	char path[4096];
	size_t N, d, n, nnz, row, nz;
	int64_t *indptr;
	double mean, m2, lo, hi; /* Welford over every element, in row-major order */
	size_t count;
};

int planted_open(struct planted_writer **out, const char *path, size_t N, size_t d, size_t n,
                 size_t nnz, const struct hus_provenance *prov, struct hus_err *err)
{
	if (!N || !d || !n)
		return hus_errf(err, HUS_EINPUT, path, "/activations", "empty planted set");
	struct planted_writer *p = calloc(1, sizeof(*p));
	if (!p || !(p->indptr = malloc((N + 1) * sizeof(int64_t)))) {
		free(p);
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	}
	snprintf(p->path, sizeof(p->path), "%s", path);
	p->N = N, p->d = d, p->n = n, p->nnz = nnz;
	p->lo = INFINITY, p->hi = -INFINITY;
	p->indptr[0] = 0;
	int rc = h5w_open(&p->w, path, HUS_FORMAT_ACTIVATIONS, PLANTED_ACTS_VERSION, prov, err);
	if (rc) {
		free(p->indptr);
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int planted_rows(struct planted_writer *p, const float *x, size_t nrows, const int64_t *row_nnz,
                 const int32_t *indices, const float *values, struct hus_err *err)
{
	size_t dims[2] = { p->N, p->d }, zd[1] = { p->nnz }, add = 0;
	for (size_t r = 0; r < nrows; r++)
		add += (size_t)row_nnz[r];
	if (p->row + nrows > p->N || p->nz + add > p->nnz)
		return hus_errf(err, HUS_EINTERNAL, p->path, "/truth/codes",
				"more rows or codes than announced");
	for (size_t e = 0; e < nrows * p->d; e++) {
		double v = x[e], delta = v - p->mean;
		p->count++;
		p->mean += delta / (double)p->count;
		p->m2 += delta * (v - p->mean);
		if (v < p->lo)
			p->lo = v;
		if (v > p->hi)
			p->hi = v;
	}
	int rc = 0;
	if (!p->row) { /* the datasets, created whole before the first block */
		rc = h5w_create(p->w, "/activations", HUS_F32, 2, dims, err);
		if (!rc && p->nnz)
			rc = h5w_create(p->w, "/truth/codes/indices", HUS_I32, 1, zd, err);
		if (!rc && p->nnz)
			rc = h5w_create(p->w, "/truth/codes/values", HUS_F32, 1, zd, err);
	}
	if (!rc)
		rc = h5w_write_rows(p->w, "/activations", HUS_F32, p->row, nrows, x, err);
	if (!rc && add)
		rc = h5w_write_rows(p->w, "/truth/codes/indices", HUS_I32, p->nz, add, indices, err);
	if (!rc && add)
		rc = h5w_write_rows(p->w, "/truth/codes/values", HUS_F32, p->nz, add, values, err);
	for (size_t r = 0; r < nrows; r++)
		p->indptr[p->row + r + 1] = p->indptr[p->row + r] + row_nnz[r];
	p->row += nrows;
	p->nz += add;
	return rc;
}

int planted_commit(struct planted_writer *p, const struct planted_meta *m, struct hus_err *err)
{
	int rc = 0;
	if (p->row != p->N || p->nz != p->nnz)
		rc = hus_errf(err, HUS_EINTERNAL, p->path, "/activations",
			      "%zu of %zu rows and %zu of %zu codes written", p->row, p->N, p->nz,
			      p->nnz);
	double mean = p->mean, std = p->count > 1 ? sqrt(p->m2 / (double)(p->count - 1)) : NAN;
	size_t dn[2] = { p->d, p->n }, n1[1] = { p->n }, ip[1] = { p->N + 1 }, z[1] = { 0 };
	int32_t none = 0;
	float nonef = 0;
	if (!rc && !p->nnz) { /* no code at all: empty datasets still say so */
		rc = h5w_i32(p->w, "/truth/codes/indices", &none, 1, z, err);
		if (!rc)
			rc = h5w_f32(p->w, "/truth/codes/values", &nonef, 1, z, err);
	}
	if (!rc) rc = h5w_i64(p->w, "/truth/codes/indptr", p->indptr, 1, ip, err);
	if (!rc) rc = h5w_f32(p->w, "/truth/dictionary", m->dictionary, 2, dn, err);
	if (!rc) rc = h5w_f64(p->w, "/truth/frequency", m->frequency, 1, n1, err);
	if (!rc) rc = h5w_i32(p->w, "/truth/parent", m->parent, 1, n1, err);
	if (!rc) rc = h5w_i32(p->w, "/truth/group", m->group, 1, n1, err);
	if (!rc) rc = h5w_f64(p->w, "/stats/mean", &mean, 0, NULL, err);
	if (!rc) rc = h5w_f64(p->w, "/stats/std", &std, 0, NULL, err);
	if (!rc) rc = h5w_f64(p->w, "/stats/min", &p->lo, 0, NULL, err);
	if (!rc) rc = h5w_f64(p->w, "/stats/max", &p->hi, 0, NULL, err);
	if (!rc) rc = h5w_attr_str(p->w, "/", "hook", "planted", err);
	if (!rc) rc = h5w_attr_i64(p->w, "/", "layer", 0, err);
	if (!rc) rc = h5w_attr_str(p->w, "/", "position", "planted", err);
	if (!rc) rc = h5w_attr_str(p->w, "/", "rows", "all", err);
	if (!rc) rc = h5w_attr_str(p->w, "/", "source", "planted", err);
	if (!rc) rc = h5w_attr_str(p->w, "/", "row_order",
				   "planted: row r is the generator's r-th sample (docs/formulas.md §10)",
				   err);
	if (!rc) rc = h5w_attr_str(p->w, "/", "planted_description", m->description, err);
	if (!rc) rc = h5w_attr_f64(p->w, "/", "planted_mean_l0",
				   (double)p->nnz / (double)p->N, err);
	if (!rc) rc = h5w_describe_all(p->w, planted_tables, err);
	if (rc) {
		h5w_abort(p->w);
	} else {
		rc = h5w_commit(p->w, err);
	}
	free(p->indptr);
	free(p);
	return rc;
}

void planted_abort(struct planted_writer *p)
{
	if (!p)
		return;
	h5w_abort(p->w);
	free(p->indptr);
	free(p);
}

int planted_is(const char *path)
{
	struct h5r *r = NULL;
	struct hus_err e = { 0 };
	if (h5r_open(&r, path, HUS_FORMAT_ACTIVATIONS, PLANTED_ACTS_VERSION, &e))
		return 0;
	int yes = h5r_has(r, "/truth/dictionary");
	h5r_close(r);
	return yes;
}

int planted_truth_read(const char *path, struct planted_truth *t, struct hus_err *err)
{
	struct h5r *r = NULL;
	memset(t, 0, sizeof(*t));
	int rc = h5r_open(&r, path, HUS_FORMAT_ACTIVATIONS, PLANTED_ACTS_VERSION, err);
	if (rc)
		return rc;
	if (!h5r_has(r, "/truth/dictionary")) {
		rc = hus_errf(err, HUS_EINPUT, path, "/truth/dictionary",
			      "not a planted activation set (made by `husai plant`)");
		goto done;
	}
	size_t dn[2] = { 0, 0 }, ad[2] = { 0, 0 }, ip[1] = { 0 }, zi[1] = { 0 }, zv[1] = { 0 };
	enum h5_type ty;
	int rank;
	if ((rc = h5r_shape(r, "/activations", &ty, &rank, ad, err)))
		goto done;
	if (rank != 2) {
		rc = hus_errf(err, HUS_EINPUT, path, "/activations", "expected [N, d]");
		goto done;
	}
	if ((rc = h5r_read_alloc(r, "/truth/dictionary", HUS_F32, (void **)&t->dictionary, 2, dn,
				 err)))
		goto done;
	t->d = dn[0], t->n = dn[1], t->N = ad[0];
	if (t->d != ad[1] || !t->n) {
		rc = hus_errf(err, HUS_EINPUT, path, "/truth/dictionary",
			      "expected [%zu, n >= 1] like /activations' width, found [%zu, %zu]",
			      ad[1], t->d, t->n);
		goto done;
	}
	for (size_t e = 0; e < t->d * t->n; e++)
		if (!isfinite(t->dictionary[e])) {
			rc = hus_errf(err, HUS_EINPUT, path, "/truth/dictionary",
				      "element %zu is not finite", e);
			goto done;
		}
	ip[0] = t->N + 1;
	if ((rc = h5r_read_alloc(r, "/truth/codes/indptr", HUS_I64, (void **)&t->indptr, 1, ip, err)) ||
	    (rc = h5r_read_alloc(r, "/truth/codes/indices", HUS_I32, (void **)&t->indices, 1, zi, err)) ||
	    (rc = h5r_read_alloc(r, "/truth/codes/values", HUS_F32, (void **)&t->values, 1, zv, err)))
		goto done;
	t->nnz = zi[0];
	if (zv[0] != t->nnz || t->indptr[0] != 0 || t->indptr[t->N] != (int64_t)t->nnz) {
		rc = hus_errf(err, HUS_EINPUT, path, "/truth/codes",
			      "indptr, indices and values disagree (expected indptr from 0 to %zu)",
			      t->nnz);
		goto done;
	}
	for (size_t i = 0; i < t->N; i++) {
		if (t->indptr[i + 1] < t->indptr[i]) {
			rc = hus_errf(err, HUS_EINPUT, path, "/truth/codes/indptr",
				      "decreases at row %zu", i);
			goto done;
		}
		for (int64_t q = t->indptr[i]; q < t->indptr[i + 1]; q++)
			if (t->indices[q] < 0 || (size_t)t->indices[q] >= t->n ||
			    (q > t->indptr[i] && t->indices[q] <= t->indices[q - 1])) {
				char where[64];
				snprintf(where, sizeof(where), "/truth/codes/indices[%lld]", (long long)q);
				rc = hus_errf(err, HUS_EINPUT, path, where,
					      "row %zu: expected increasing feature indices below %zu", i,
					      t->n);
				goto done;
			}
	}
done:
	h5r_close(r);
	if (rc)
		planted_truth_release(t);
	return rc;
}

void planted_truth_release(struct planted_truth *t)
{
	free(t->dictionary);
	free(t->indptr);
	free(t->indices);
	free(t->values);
	memset(t, 0, sizeof(*t));
}

hj *planted_summary_json(const char *path, const char *file, struct hus_err *err)
{
	struct h5r *h;
	if (h5r_open(&h, path, HUS_FORMAT_ACTIVATIONS, PLANTED_ACTS_VERSION, err))
		return NULL;
	char *desc = NULL;
	double l0 = NAN;
	size_t dims[H5_MAX_RANK] = { 0 }, dd[H5_MAX_RANK] = { 0 };
	enum h5_type ty;
	int rank;
	hj *pl = NULL;
	if (!h5r_attr_str(h, "/", "planted_description", &desc, err) &&
	    !h5r_attr_f64(h, "/", "planted_mean_l0", &l0, err) &&
	    !h5r_shape(h, "/activations", &ty, &rank, dims, err) &&
	    !h5r_shape(h, "/truth/dictionary", &ty, &rank, dd, err)) {
		pl = hj_obj();
		hj_set(pl, "file", hj_str(file));
		hj_set(pl, "description", hj_str(desc));
		hj_set(pl, "rows", hj_int((int64_t)dims[0]));
		hj_set(pl, "d", hj_int((int64_t)dims[1]));
		hj_set(pl, "n_features", hj_int((int64_t)dd[1]));
		hj_set(pl, "mean_l0", hj_num(l0));
	}
	free(desc);
	h5r_close(h);
	return pl;
}
