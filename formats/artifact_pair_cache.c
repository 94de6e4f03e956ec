/*
 * artifact_pair_cache.c — the husai.pair_cache HDF5 artifact (docs/artifacts.md "Pair
 * cache"): one pair's product results (row and column maxima of |Âᵀ·B̂|, with argmaxes when
 * asked) keyed by the sha256 of the two normalised decoders.  Written by a pair job
 * (`husai analyze --pair-only`), read by its group's analysis (`--pair-cache`); the one
 * writer and the one reader of the format live here.  The reader trusts nothing: format,
 * version, key, shapes, value ranges, the argmaxes' consistency with the maxima and the
 * payload's sha256 are all checked, and any failure is an error naming the file and place.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

static const struct h5_doc pc_doc[] = {
	{ "/rowmax", "feature_a", "per feature of decoder a: the largest |cos| with any feature "
	                          "of decoder b (docs/formulas.md §5.1)", NULL },
	{ "/colmax", "feature_b", "per feature of decoder b: the largest |cos| with any feature "
	                          "of decoder a", NULL },
	{ "/argrow", "feature_a", "the feature of b where each rowmax is reached (first in index "
	                          "order)", NULL },
	{ "/argcol", "feature_b", "the feature of a where each colmax is reached (first in index "
	                          "order)", NULL },
	{ NULL, NULL, NULL, NULL },
};

static void payload_sha(const struct pair_cache_key *k, const float *rowmax, const float *colmax,
                        const int32_t *argrow, const int32_t *argcol, char hex[65])
{
	size_t n = (k->m_a + k->m_b) * (k->with_argmax ? 8 : 4);
	unsigned char *buf = malloc(n ? n : 1);
	if (!buf) {
		hex[0] = 0; /* never equal to a stored hash: the read fails, named */
		return;
	}
	size_t o = 0;
	memcpy(buf + o, rowmax, 4 * k->m_a), o += 4 * k->m_a;
	memcpy(buf + o, colmax, 4 * k->m_b), o += 4 * k->m_b;
	if (k->with_argmax) {
		memcpy(buf + o, argrow, 4 * k->m_a), o += 4 * k->m_a;
		memcpy(buf + o, argcol, 4 * k->m_b), o += 4 * k->m_b;
	}
	hus_sha256_buf(buf, o, hex);
	free(buf);
}

int pair_cache_write(const char *path, const struct pair_cache_key *k, const float *rowmax,
                     const float *colmax, const int32_t *argrow, const int32_t *argcol,
                     struct hus_err *err)
{
	static const struct h5_doc *const tables[] = { pc_doc, NULL };
	struct hus_provenance prov = { "", "" };
	struct h5w *w = NULL;
	char sha[65];
	size_t da[1] = { k->m_a }, db[1] = { k->m_b };
	payload_sha(k, rowmax, colmax, argrow, argcol, sha);
	int rc = h5w_open(&w, path, PAIR_CACHE_FORMAT, PAIR_CACHE_VERSION, &prov, err);
	if (rc)
		return rc;
	if ((rc = h5w_f32(w, "/rowmax", rowmax, 1, da, err)) ||
	    (rc = h5w_f32(w, "/colmax", colmax, 1, db, err)) ||
	    (k->with_argmax && (rc = h5w_i32(w, "/argrow", argrow, 1, da, err))) ||
	    (k->with_argmax && (rc = h5w_i32(w, "/argcol", argcol, 1, db, err))) ||
	    (rc = h5w_attr_str(w, "/", "key_a", k->key_a, err)) ||
	    (rc = h5w_attr_str(w, "/", "key_b", k->key_b, err)) ||
	    (rc = h5w_attr_i64(w, "/", "d_model", (int64_t)k->d_model, err)) ||
	    (rc = h5w_attr_i64(w, "/", "m_a", (int64_t)k->m_a, err)) ||
	    (rc = h5w_attr_i64(w, "/", "m_b", (int64_t)k->m_b, err)) ||
	    (rc = h5w_attr_i64(w, "/", "with_argmax", k->with_argmax ? 1 : 0, err)) ||
	    (rc = h5w_attr_str(w, "/", "payload_sha256", sha, err)) ||
	    (rc = h5w_describe_all(w, tables, err))) {
		h5w_abort(w);
		return rc;
	}
	return h5w_commit(w, err);
}

static int want_str(struct h5r *r, const char *name, const char *expect, struct hus_err *err)
{
	char *v = NULL;
	int rc = h5r_attr_str(r, "/", name, &v, err);
	if (!rc && strcmp(v, expect))
		rc = hus_errf(err, HUS_EINPUT, h5r_path(r), name, "expected %s %.64s, got %.64s: %s",
		              name, expect, v,
		              strcmp(name, "payload_sha256") ? "the cache was made for other decoders"
		                                             : "the stored values were changed");
	free(v);
	return rc;
}

static int want_int(struct h5r *r, const char *name, int64_t expect, struct hus_err *err)
{
	int64_t v = 0;
	int rc = h5r_attr_i64(r, "/", name, &v, err);
	if (!rc && v != expect)
		rc = hus_errf(err, HUS_EINPUT, h5r_path(r), name,
		              "expected %s %lld (this pair's), got %lld: the cache was made for other "
		              "decoders or settings", name, (long long)expect, (long long)v);
	return rc;
}

/* maxima of |cos| between unit (or zero) vectors: in [0, 1] up to float rounding */
static int check_max(struct h5r *r, const char *ds, const float *v, size_t n, struct hus_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (!(v[i] >= 0.0f && v[i] <= 1.001f))
			return hus_errf(err, HUS_EINPUT, h5r_path(r), ds,
			                "expected a largest |cos| in [0, 1] at index %zu, got %g", i,
			                (double)v[i]);
	return 0;
}

static int check_arg(struct h5r *r, const char *ds, const int32_t *arg, const float *mx, size_t n,
                     const float *other, size_t n_other, struct hus_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (arg[i] < 0 || (size_t)arg[i] >= n_other)
			return hus_errf(err, HUS_EINPUT, h5r_path(r), ds,
			                "expected a feature index in [0, %zu) at index %zu, got %d",
			                n_other, i, (int)arg[i]);
		/* the partner's own maximum is at least this entry */
		if (other[arg[i]] < mx[i])
			return hus_errf(err, HUS_EINPUT, h5r_path(r), ds,
			                "index %zu points at feature %d whose largest |cos| %g is below "
			                "this one's %g: not the argmax of the stored maxima", i,
			                (int)arg[i], (double)other[arg[i]], (double)mx[i]);
	}
	return 0;
}

int pair_cache_read(const char *path, const struct pair_cache_key *k, float *rowmax,
                    float *colmax, int32_t *argrow, int32_t *argcol, struct hus_err *err)
{
	struct h5r *r = NULL;
	int rc = h5r_open(&r, path, PAIR_CACHE_FORMAT, PAIR_CACHE_VERSION, err);
	if (rc)
		return rc;
	size_t da[1] = { k->m_a }, db[1] = { k->m_b };
	if ((rc = want_str(r, "key_a", k->key_a, err)) || (rc = want_str(r, "key_b", k->key_b, err)) ||
	    (rc = want_int(r, "d_model", (int64_t)k->d_model, err)) ||
	    (rc = want_int(r, "m_a", (int64_t)k->m_a, err)) ||
	    (rc = want_int(r, "m_b", (int64_t)k->m_b, err)) ||
	    (rc = want_int(r, "with_argmax", k->with_argmax ? 1 : 0, err)) ||
	    (rc = h5r_read(r, "/rowmax", HUS_F32, rowmax, k->m_a, 1, da, err)) ||
	    (rc = h5r_read(r, "/colmax", HUS_F32, colmax, k->m_b, 1, db, err)) ||
	    (rc = check_max(r, "/rowmax", rowmax, k->m_a, err)) ||
	    (rc = check_max(r, "/colmax", colmax, k->m_b, err)))
		goto out;
	if (!k->with_argmax && (h5r_has(r, "/argrow") || h5r_has(r, "/argcol"))) {
		rc = hus_errf(err, HUS_EINPUT, path, "/argrow",
		              "expected no argmaxes (with_argmax 0), found a dataset of them");
		goto out;
	}
	if (k->with_argmax &&
	    ((rc = h5r_read(r, "/argrow", HUS_I32, argrow, k->m_a, 1, da, err)) ||
	     (rc = h5r_read(r, "/argcol", HUS_I32, argcol, k->m_b, 1, db, err)) ||
	     (rc = check_arg(r, "/argrow", argrow, rowmax, k->m_a, colmax, k->m_b, err)) ||
	     (rc = check_arg(r, "/argcol", argcol, colmax, k->m_b, rowmax, k->m_a, err))))
		goto out;
	/* both ways the largest entry of the one product */
	float ga = 0, gb = 0;
	for (size_t i = 0; i < k->m_a; i++)
		ga = rowmax[i] > ga ? rowmax[i] : ga;
	for (size_t j = 0; j < k->m_b; j++)
		gb = colmax[j] > gb ? colmax[j] : gb;
	if (k->m_a && k->m_b && ga != gb) {
		rc = hus_errf(err, HUS_EINPUT, path, "/rowmax",
		              "expected the largest row maximum to equal the largest column maximum "
		              "(%g != %g): not the maxima of one product", (double)ga, (double)gb);
		goto out;
	}
	char sha[65];
	payload_sha(k, rowmax, colmax, argrow, argcol, sha);
	rc = want_str(r, "payload_sha256", sha, err);
out:
	h5r_close(r);
	return rc;
}
