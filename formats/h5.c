/*
 * h5.c — HDF5 artifacts: typed n-d datasets and attributes, written under a temporary name and
 * renamed into place (atomic.c invariants), and read back with validation of the format name,
 * version, ranks, dims (overflow-checked) and element types.  Every failure names the file and
 * the dataset or attribute path.  Every dataset an artifact writes is described (attributes
 * `description` and `dims`, h5w_describe) from the artifact's one table (h5w_describe_all).
 * The only file in husai that talks to the HDF5 C API, apart from the per-artifact schema
 * files, which go through these functions.  Every open is first
 * walked by the crash guard's validator process (h5guard.c, running h5_guard_walk below).
 */
#include <fnmatch.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats.h"
#include "h5_internal.h"

#define ELEMS_MAX ((size_t)1 << 36) /* refuse datasets above 64 Gi elements: not ours */

struct h5w {
	hid_t file;
	struct hus_atomic at;
};

struct h5r {
	hid_t file;
	char path[4096];
	int version;
};

/* ---------------------------------------------------------------- helpers ----------- */

static herr_t first_error(unsigned n, const H5E_error2_t *e, void *data)
{
	char *buf = data;
	if (n != 0 || !e->desc)
		return 0;
	/* the POSIX driver's message is long ("file write failed: time = ..., filename = ...,
	 * errno = 27, error message = 'File too large', ..."): keep what it says went wrong */
	const char *m = strstr(e->desc, "error message = '");
	if (m) {
		m += strlen("error message = '");
		size_t len = strcspn(m, "'");
		size_t head = strcspn(e->desc, ":");
		snprintf(buf, 200, "%.*s: %.*s", (int)(head < 80 ? head : 80), e->desc, (int)len, m);
	} else {
		snprintf(buf, 200, "%s", e->desc);
	}
	return 0;
}

/* The innermost HDF5 error message, for "what the library said". */
static const char *h5_reason(void)
{
	static char buf[200];
	buf[0] = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_error, buf);
	H5Eclear2(H5E_DEFAULT);
	return buf[0] ? buf : "unknown HDF5 error";
}

/*
 * The second line behind check_inside (which refuses, at every open, each link that is not a
 * hard link and each dataset stored outside the file, before anything is looked up by name):
 * every name a reader asks libhdf5 to resolve goes through these access property lists, and
 * h5r_has resolves paths one hard link at a time (path_is_hard).
 *  - h5_read_lapl (every H5Oopen, H5Aopen_by_name, H5Lexists, H5Oget_info_by_name of a reader):
 *    its external-link callback refuses every traversal of an external link (libhdf5 then
 *    fails the call: "traversal operator failed"), and at most one soft link is followed.
 *  - h5_read_dapl (every H5Dopen2 of a reader): the same, and the external-storage and
 *    virtual-dataset source prefixes point at a directory that does not exist, so a relative
 *    raw-data or source file name cannot be found (an absolute one is still caught by
 *    dataset_storage_ok before each H5Dread).
 * Made once per process and never closed (libhdf5's own exit handler releases them).  With
 * HUSAI_H5_NO_INSIDE_CHECK=1 (tests only) check_inside is skipped, so that this line can be
 * tested on its own (test_hostile_h5).
 */
#define H5_NO_SUCH_DIR "/nonexistent-husai-refuses-external-data/"

static herr_t refuse_external_link(const char *parent_file, const char *parent_group,
                                   const char *child_file, const char *child_object,
                                   unsigned *acc_flags, hid_t fapl, void *op_data)
{
	(void)parent_file, (void)parent_group, (void)child_file, (void)child_object;
	(void)acc_flags, (void)fapl, (void)op_data;
	return -1; /* never open another file */
}

static void refuse_outside(hid_t l)
{
	H5Pset_elink_cb(l, refuse_external_link, NULL);
	H5Pset_nlinks(l, 1);
}

hid_t h5_read_lapl(void)
{
	static hid_t l = -1;
	if (l < 0 && (l = H5Pcreate(H5P_LINK_ACCESS)) >= 0)
		refuse_outside(l);
	return l >= 0 ? l : H5P_DEFAULT;
}

hid_t h5_read_dapl(void)
{
	static hid_t d = -1;
	if (d < 0 && (d = H5Pcreate(H5P_DATASET_ACCESS)) >= 0) {
		refuse_outside(d);
		H5Pset_efile_prefix(d, H5_NO_SUCH_DIR);
		H5Pset_virtual_prefix(d, H5_NO_SUCH_DIR);
	}
	return d >= 0 ? d : H5P_DEFAULT;
}

/* An element type's HDF5 type: little-endian on file, native in memory. */
static hid_t hdf5_type(enum h5_type t, int on_file)
{
	switch (t) {
	case HUS_F32: return on_file ? H5T_IEEE_F32LE : H5T_NATIVE_FLOAT;
	case HUS_F64: return on_file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE;
	case HUS_I32: return on_file ? H5T_STD_I32LE : H5T_NATIVE_INT32;
	case HUS_I64: return on_file ? H5T_STD_I64LE : H5T_NATIVE_INT64;
	case HUS_U8:  return on_file ? H5T_STD_U8LE : H5T_NATIVE_UINT8;
	}
	return -1;
}

/* the element types' names and sizes, in enum h5_type's order */
static const struct {
	const char *name;
	size_t size;
} type_info[] = { { "float32", 4 }, { "float64", 8 }, { "int32", 4 }, { "int64", 8 }, { "uint8", 1 } };

size_t h5_type_size(enum h5_type t)
{
	return (unsigned)t < sizeof(type_info) / sizeof(type_info[0]) ? type_info[t].size : 0;
}

const char *h5_type_name(enum h5_type t)
{
	return (unsigned)t < sizeof(type_info) / sizeof(type_info[0]) ? type_info[t].name : "?";
}

/* Element count of dims with overflow checks; 0 on overflow or above ELEMS_MAX (and *ok=0). */
static size_t checked_count(int rank, const size_t *dims, int *ok)
{
	size_t n = 1;
	*ok = 1;
	for (int i = 0; i < rank; i++) {
		if (dims[i] && n > ELEMS_MAX / dims[i]) {
			*ok = 0;
			return 0;
		}
		n *= dims[i];
	}
	return n;
}

static void dims_str(char *buf, size_t n, int rank, const size_t *dims)
{
	size_t off = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < rank && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%zu", i ? ", " : "", dims[i]);
	if (off < n)
		snprintf(buf + off, n - off, "]");
}

/* ---------------------------------------------------------------- writer ------------ */

int h5w_open(struct h5w **wp, const char *path, const char *format, int format_version,
             const struct hus_provenance *prov, struct hus_err *err)
{
	struct h5w *w = calloc(1, sizeof(*w));
	if (!w)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	int rc = hus_atomic_open(&w->at, path, 0, err);
	if (rc) {
		free(w);
		return rc;
	}
	hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
	H5Pset_obj_track_times(fcpl, 0); /* no timestamps inside objects: reproducible files */
	w->file = H5Fcreate(w->at.tmp_path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
	H5Pclose(fcpl);
	if (w->file < 0) {
		rc = hus_errf(err, HUS_EIO, path, NULL, "cannot create HDF5 file '%s': %s",
			      w->at.tmp_path, h5_reason());
		free(w);
		return rc;
	}
	char now[32];
	hus_utc_now(now);
	const char *cfg_yaml = prov && prov->config_yaml ? prov->config_yaml : "";
	const char *cfg_hash = prov && prov->config_hash ? prov->config_hash : "";
	if ((rc = h5w_attr_str(w, "/", "husai_format", format, err)) ||
	    (rc = h5w_attr_i64(w, "/", "husai_format_version", format_version, err)) ||
	    (rc = h5w_attr_str(w, "/", "husai_version", hus_version(), err)) ||
	    (rc = h5w_attr_str(w, "/", "created_utc", now, err)) ||
	    (rc = h5w_attr_str(w, "/", "config_yaml", cfg_yaml, err)) ||
	    (rc = h5w_attr_str(w, "/", "config_hash", cfg_hash, err)) ||
	    (rc = h5w_attr_str(w, "/", "git_commit", hus_git_commit(), err)) ||
	    (rc = h5w_attr_str(w, "/", "hdf5_version", hus_library_version("hdf5"), err)) ||
	    (rc = h5w_attr_str(w, "/", "gsl_version", hus_library_version("gsl"), err)) ||
	    (rc = h5w_attr_str(w, "/", "cairo_version", hus_library_version("cairo"), err)) ||
	    (rc = h5w_attr_str(w, "/", "libyaml_version", hus_library_version("libyaml"), err)) ||
	    (rc = h5w_attr_str(w, "/", "numeric_path", hus_numeric_path(), err))) {
		h5w_abort(w);
		return rc;
	}
	*wp = w;
	return 0;
}

/* Create `dset` (intermediate groups made, no timestamps, so the bytes depend on the content
 * alone) and, when `write` is set, write `data` into it whole.  The one place both writers create a
 * dataset: h5w_write (rank 0 is a scalar) and h5w_create (filled later by h5w_write_rows). */
static int create_dataset(struct h5w *w, const char *dset, enum h5_type type, int write,
                          const void *data, int rank, const size_t *dims, struct hus_err *err)
{
	if (hus_fault("h5_write"))
		return hus_errf(err, HUS_EIO, w->at.final_path, dset, "injected write failure");
	hsize_t hd[H5_MAX_RANK];
	for (int i = 0; i < rank; i++)
		hd[i] = dims[i];
	hid_t space = rank ? H5Screate_simple(rank, hd, NULL) : H5Screate(H5S_SCALAR);
	hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
	H5Pset_create_intermediate_group(lcpl, 1);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_obj_track_times(dcpl, 0);
	hid_t d = H5Dcreate2(w->file, dset, hdf5_type(type, 1), space, lcpl, dcpl, H5P_DEFAULT);
	int rc = 0;
	if (d < 0)
		rc = hus_errf(err, HUS_EIO, w->at.final_path, dset, "cannot create dataset: %s",
			      h5_reason());
	else if (write && H5Dwrite(d, hdf5_type(type, 0), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
		rc = hus_errf(err, HUS_EIO, w->at.final_path, dset, "cannot write dataset: %s",
			      h5_reason());
	if (d >= 0)
		H5Dclose(d);
	H5Pclose(dcpl);
	H5Pclose(lcpl);
	H5Sclose(space);
	return rc;
}

int h5w_write(struct h5w *w, const char *dset, enum h5_type type, const void *data, int rank,
              const size_t *dims, struct hus_err *err)
{
	if (rank < 0 || rank > H5_MAX_RANK)
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, dset, "rank %d not supported", rank);
	return create_dataset(w, dset, type, 1, data, rank, dims, err);
}

int h5w_create(struct h5w *w, const char *dset, enum h5_type type, int rank, const size_t *dims,
               struct hus_err *err)
{
	if (rank < 1 || rank > H5_MAX_RANK)
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, dset, "rank %d not supported", rank);
	return create_dataset(w, dset, type, 0, NULL, rank, dims, err);
}

int h5w_write_rows(struct h5w *w, const char *dset, enum h5_type type, size_t row0,
                   size_t nrows, const void *data, struct hus_err *err)
{
	if (hus_fault("h5_write"))
		return hus_errf(err, HUS_EIO, w->at.final_path, dset, "injected write failure");
	hid_t d = H5Dopen2(w->file, dset, H5P_DEFAULT);
	if (d < 0)
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, dset, "no such dataset: %s",
				h5_reason());
	hid_t fs = H5Dget_space(d);
	int rank = H5Sget_simple_extent_ndims(fs);
	hsize_t hd[H5_MAX_RANK], start[H5_MAX_RANK] = { 0 }, count[H5_MAX_RANK];
	int rc = 0;
	if (rank < 1 || rank > H5_MAX_RANK || H5Sget_simple_extent_dims(fs, hd, NULL) < 0 ||
	    row0 + nrows > hd[0] || row0 + nrows < row0) {
		rc = hus_errf(err, HUS_EINTERNAL, w->at.final_path, dset,
			      "rows %zu..%zu outside the dataset", row0, row0 + nrows);
	} else if (nrows) {
		for (int i = 0; i < rank; i++)
			count[i] = hd[i];
		start[0] = row0;
		count[0] = nrows;
		hid_t ms = H5Screate_simple(rank, count, NULL);
		if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
		    H5Dwrite(d, hdf5_type(type, 0), ms, fs, H5P_DEFAULT, data) < 0)
			rc = hus_errf(err, HUS_EIO, w->at.final_path, dset, "cannot write rows %zu..%zu: %s",
				      row0, row0 + nrows, h5_reason());
		H5Sclose(ms);
	}
	H5Sclose(fs);
	H5Dclose(d);
	return rc;
}

int h5w_f32(struct h5w *w, const char *dset, const float *data, int rank, const size_t *dims,
            struct hus_err *err)
{
	return h5w_write(w, dset, HUS_F32, data, rank, dims, err);
}

int h5w_f64(struct h5w *w, const char *dset, const double *data, int rank, const size_t *dims,
            struct hus_err *err)
{
	return h5w_write(w, dset, HUS_F64, data, rank, dims, err);
}

int h5w_i32(struct h5w *w, const char *dset, const int32_t *data, int rank, const size_t *dims,
            struct hus_err *err)
{
	return h5w_write(w, dset, HUS_I32, data, rank, dims, err);
}

int h5w_i64(struct h5w *w, const char *dset, const int64_t *data, int rank, const size_t *dims,
            struct hus_err *err)
{
	return h5w_write(w, dset, HUS_I64, data, rank, dims, err);
}

/* Create (or replace) attribute `name` on object `obj` with the given type and scalar value. */
static int write_attr(struct h5w *w, const char *obj, const char *name, hid_t type,
                      const void *val, struct hus_err *err)
{
	char where[512];
	snprintf(where, sizeof(where), "%s@%s", obj, name);
	hid_t o = H5Oopen(w->file, obj, H5P_DEFAULT);
	if (o < 0)
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, where, "no such object: %s",
				h5_reason());
	if (H5Aexists(o, name) > 0)
		H5Adelete(o, name);
	hid_t space = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(o, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
	int rc = 0;
	if (a < 0 || H5Awrite(a, type, val) < 0)
		rc = hus_errf(err, HUS_EIO, w->at.final_path, where, "cannot write attribute: %s",
			      h5_reason());
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(space);
	H5Oclose(o);
	return rc;
}

int h5w_attr_str(struct h5w *w, const char *obj, const char *name, const char *val,
                 struct hus_err *err)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, strlen(val) + 1);
	H5Tset_strpad(t, H5T_STR_NULLTERM);
	H5Tset_cset(t, H5T_CSET_UTF8);
	int rc = write_attr(w, obj, name, t, val, err);
	H5Tclose(t);
	return rc;
}

int h5w_attr_i64(struct h5w *w, const char *obj, const char *name, int64_t val,
                 struct hus_err *err)
{
	return write_attr(w, obj, name, H5T_NATIVE_INT64, &val, err);
}

int h5w_attr_f64(struct h5w *w, const char *obj, const char *name, double val,
                 struct hus_err *err)
{
	return write_attr(w, obj, name, H5T_NATIVE_DOUBLE, &val, err);
}

int h5w_commit(struct h5w *w, struct hus_err *err)
{
	int rc = 0;
	if (H5Fflush(w->file, H5F_SCOPE_GLOBAL) < 0 || H5Fclose(w->file) < 0) {
		rc = hus_errf(err, HUS_EIO, w->at.final_path, NULL, "cannot finish HDF5 file: %s",
			      h5_reason());
		unlink(w->at.tmp_path);
	} else {
		rc = hus_fsync_rename(w->at.tmp_path, w->at.final_path, err);
	}
	free(w);
	return rc;
}

void h5w_abort(struct h5w *w)
{
	if (!w)
		return;
	H5Fclose(w->file);
	unlink(w->at.tmp_path);
	free(w);
}

/* ---------------------------------------------------------------- dataset docs ------ */

static int list_datasets(hid_t file, const char *path, char ***paths, size_t *n,
                         struct hus_err *err);

/* How many comma-separated names `dims` holds ("" names none: a scalar). */
static int dims_names(const char *dims)
{
	int n = *dims != 0;
	for (const char *p = dims; *p; p++)
		n += *p == ',';
	return n;
}

int h5w_describe(struct h5w *w, const char *dset, const char *description, const char *dims,
                 struct hus_err *err)
{
	if (!description || !*description || !dims)
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, dset,
				"a dataset needs a non-empty description and dims");
	hid_t d = H5Dopen2(w->file, dset, H5P_DEFAULT);
	if (d < 0)
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, dset,
				"no such dataset to describe: %s", h5_reason());
	hid_t s = H5Dget_space(d);
	int rank = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
	if (s >= 0)
		H5Sclose(s);
	H5Dclose(d);
	if (rank != dims_names(dims))
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, dset,
				"dims '%s' names %d dimensions, the dataset has rank %d", dims,
				dims_names(dims), rank);
	int rc = h5w_attr_str(w, dset, "description", description, err);
	return rc ? rc : h5w_attr_str(w, dset, "dims", dims, err);
}

/* The first row of the tables whose pattern matches `dset`, or NULL. */
static const struct h5_doc *doc_find(const struct h5_doc *const *tables, const char *dset)
{
	for (size_t t = 0; tables[t]; t++)
		for (const struct h5_doc *row = tables[t]; row->pattern; row++)
			if (!fnmatch(row->pattern, dset, FNM_PATHNAME))
				return row;
	return NULL;
}

static int describe_from(struct h5w *w, const struct h5_doc *const *tables, const char *dset,
                         struct hus_err *err)
{
	const struct h5_doc *row = doc_find(tables, dset);
	if (!row)
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, dset,
				"the artifact's table describes no such dataset (add a row; "
				"docs/artifacts.md)");
	if (!row->mirror)
		return h5w_describe(w, dset, row->description, row->dims, err);
	char twin[1024], text[2048];
	snprintf(twin, sizeof(twin), "%s/%s", row->mirror, strrchr(dset, '/') + 1);
	const struct h5_doc *of = doc_find(tables, twin);
	if (!of || of->mirror)
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, dset,
				"shaped like '%s', which the artifact's table does not describe", twin);
	snprintf(text, sizeof(text), "%s%s", row->description, of->description);
	return h5w_describe(w, dset, text, of->dims, err);
}

int h5w_describe_all(struct h5w *w, const struct h5_doc *const *tables, struct hus_err *err)
{
	char **paths = NULL;
	size_t n = 0;
	int rc = list_datasets(w->file, w->at.final_path, &paths, &n, err);
	for (size_t i = 0; i < n && !rc; i++)
		rc = describe_from(w, tables, paths[i], err);
	h5r_free_list(paths, n);
	return rc;
}

/* ---------------------------------------------------------------- reader ------------ */

struct attr_match {
	const char *name;
	int found;
};

static herr_t attr_match(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
	(void)loc, (void)info;
	struct attr_match *m = data;
	m->found = !strcmp(name, m->name);
	return m->found; /* nonzero stops the iteration */
}

/*
 * Does `obj` have attribute `name`?  1 yes, 0 no, -1 when its attributes cannot be read (the
 * HDF5 error is left for h5_reason).  Not H5Aexists_by_name: in HDF5 1.10.8 it reads past a
 * corrupt attribute message that iteration rejects cleanly (tests/fuzz/corpus/h5/
 * hdf5_lib_crash_attr_exists.h5).  Iterating the names in the order the guard's walk
 * (describe_obj) iterates them on every object means a file the guard walked without a
 * crash takes no new path through libhdf5 here.
 */
static int attr_find(hid_t file, const char *obj, const char *name)
{
	struct attr_match m = { name, 0 };
	hsize_t idx = 0;
	if (H5Aiterate_by_name(file, obj, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_match, &m,
			       h5_read_lapl()) < 0)
		return -1;
	return m.found;
}

/* Read a scalar string attribute of any HDF5 string flavour (fixed or variable length);
 * `known`: the caller got `name` from iterating `obj` (no lookup needed). */
static int read_attr_str(hid_t file, const char *path, const char *obj, const char *name,
                         int known, char **val, struct hus_err *err)
{
	char where[512];
	snprintf(where, sizeof(where), "%s@%s", obj, name);
	int found = known ? 1 : attr_find(file, obj, name);
	if (found < 0)
		return hus_errf(err, HUS_EINPUT, path, where, "unreadable attributes: %s", h5_reason());
	if (!found)
		return hus_errf(err, HUS_EINPUT, path, where, "missing attribute, expected a string");
	hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, h5_read_lapl());
	hid_t t = a >= 0 ? H5Aget_type(a) : -1;
	hid_t s = a >= 0 ? H5Aget_space(a) : -1;
	int rc = 0;
	if (a < 0 || t < 0 || s < 0) {
		rc = hus_errf(err, HUS_EINPUT, path, where, "unreadable attribute: %s", h5_reason());
	} else if (H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_npoints(s) != 1) {
		rc = hus_errf(err, HUS_EINPUT, path, where, "expected a scalar string attribute");
	} else if (H5Tis_variable_str(t) > 0) {
		hid_t mt = H5Tcopy(H5T_C_S1);
		H5Tset_size(mt, H5T_VARIABLE);
		H5Tset_cset(mt, H5Tget_cset(t));
		char *p = NULL;
		if (H5Aread(a, mt, &p) < 0 || !p) {
			rc = hus_errf(err, HUS_EINPUT, path, where, "unreadable string: %s", h5_reason());
		} else {
			*val = strdup(p);
			H5free_memory(p);
			if (!*val)
				rc = hus_errf(err, HUS_ENOMEM, path, where, "out of memory");
		}
		H5Tclose(mt);
	} else {
		size_t n = H5Tget_size(t);
		char *p = n < ((size_t)1 << 30) ? calloc(1, n + 1) : NULL;
		hid_t mt = H5Tcopy(H5T_C_S1);
		H5Tset_size(mt, n ? n : 1);
		H5Tset_cset(mt, H5Tget_cset(t));
		H5Tset_strpad(mt, H5Tget_strpad(t));
		if (!p)
			rc = hus_errf(err, HUS_EINPUT, path, where, "string attribute too large");
		else if (H5Aread(a, mt, p) < 0) {
			rc = hus_errf(err, HUS_EINPUT, path, where, "unreadable string: %s", h5_reason());
			free(p);
		} else
			*val = p;
		H5Tclose(mt);
	}
	if (s >= 0)
		H5Sclose(s);
	if (t >= 0)
		H5Tclose(t);
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

static int read_attr_num(hid_t file, const char *path, const char *obj, const char *name,
                         int known, H5T_class_t want, hid_t memt, void *val, struct hus_err *err)
{
	char where[512];
	snprintf(where, sizeof(where), "%s@%s", obj, name);
	int found = known ? 1 : attr_find(file, obj, name);
	if (found < 0)
		return hus_errf(err, HUS_EINPUT, path, where, "unreadable attributes: %s", h5_reason());
	if (!found)
		return hus_errf(err, HUS_EINPUT, path, where, "missing attribute, expected %s",
				want == H5T_INTEGER ? "an integer" : "a number");
	hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, h5_read_lapl());
	hid_t t = a >= 0 ? H5Aget_type(a) : -1;
	hid_t s = a >= 0 ? H5Aget_space(a) : -1;
	int rc = 0;
	H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
	int ok_class = cls == want || (want == H5T_FLOAT && cls == H5T_INTEGER);
	if (a < 0 || t < 0 || s < 0)
		rc = hus_errf(err, HUS_EINPUT, path, where, "unreadable attribute: %s", h5_reason());
	else if (!ok_class || H5Sget_simple_extent_npoints(s) != 1)
		rc = hus_errf(err, HUS_EINPUT, path, where, "expected a scalar %s attribute",
			      want == H5T_INTEGER ? "integer" : "numeric");
	else if (H5Aread(a, memt, val) < 0)
		rc = hus_errf(err, HUS_EINPUT, path, where, "unreadable value: %s", h5_reason());
	if (s >= 0)
		H5Sclose(s);
	if (t >= 0)
		H5Tclose(t);
	if (a >= 0)
		H5Aclose(a);
	return rc;
}

/* ------------------------------------------------ nothing outside the file ---------- */

/*
 * husai reads only bytes stored in the artifact itself (RELIABILITY.md, "Untrusted archives"):
 * libhdf5 would otherwise follow an external link into another file (a corrupt one crashed
 * husai in H5Dread; an intact one made it train on data outside the artifact), read a virtual
 * dataset's source files, or a dataset's external raw-data files.  So every link in the file
 * must be a hard link, and no dataset may have virtual layout or external storage.  Soft links
 * are refused too (also one that resolves inside the file: husai never writes them, and a
 * soft link can name anything, also a path through an external link).
 */
/* Bounds of a walk: far beyond any husai artifact, and reached quickly by a corrupt file whose
 * group contains itself (libhdf5 1.10.8 visits it again and again, the path growing by one
 * level each time: fuzzing, tests/fuzz/corpus/h5/hdf5_group_cycle.h5, ran for minutes). */
#define WALK_MAX_OBJECTS 100000
#define WALK_MAX_PATH 256

struct links_ctx {
	const char *path; /* the file, for errors */
	struct hus_err *err;
	size_t n;
	int refused;
};

/* A dataset's storage must be in the file: not virtual (sources in other files or datasets),
 * no external raw-data files. */
static int dataset_storage_ok(hid_t d, const char *path, const char *dset, struct hus_err *err)
{
	hid_t dcpl = H5Dget_create_plist(d);
	if (dcpl < 0)
		return hus_errf(err, HUS_EINPUT, path, dset, "unreadable dataset creation properties: %s",
				h5_reason());
	H5D_layout_t layout = H5Pget_layout(dcpl);
	int next = H5Pget_external_count(dcpl);
	int rc = 0;
	if (layout == H5D_VIRTUAL) {
		rc = hus_errf(err, HUS_EINPUT, path, dset,
			      "a virtual dataset (its data lives in other datasets or files); expected "
			      "data stored in this file: refusing it");
	} else if (layout < 0 || next < 0) {
		rc = hus_errf(err, HUS_EINPUT, path, dset, "unreadable dataset layout: %s", h5_reason());
	} else if (next > 0) {
		char name[256] = "";
		off_t off;
		hsize_t size;
		if (H5Pget_external(dcpl, 0, sizeof(name), name, &off, &size) < 0)
			H5Eclear2(H5E_DEFAULT);
		name[sizeof(name) - 1] = 0;
		rc = hus_errf(err, HUS_EINPUT, path, dset,
			      "external storage (%d raw-data file%s outside this file, the first '%.200s'); "
			      "expected data stored in this file: refusing it",
			      next, next == 1 ? "" : "s", name);
	}
	H5Pclose(dcpl);
	return rc;
}

static herr_t check_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
	struct links_ctx *c = data;
	char where[WALK_MAX_PATH + 8];
	if (++c->n > WALK_MAX_OBJECTS || strlen(name) > WALK_MAX_PATH) {
		hus_errf(c->err, HUS_EINPUT, c->path, NULL,
			 "more than %d links or a path longer than %d bytes (a group that contains "
			 "itself?)",
			 WALK_MAX_OBJECTS, WALK_MAX_PATH);
		return -1;
	}
	snprintf(where, sizeof(where), "/%s", name);
	if (info->type == H5L_TYPE_HARD) {
		hid_t o = H5Oopen(g, name, h5_read_lapl());
		if (o < 0) { /* libhdf5 cannot read the file's structure here: unwalkable */
			hus_errf(c->err, HUS_EINPUT, c->path, where, "cannot open object: %s",
				 h5_reason());
			return -1;
		}
		int rc = H5Iget_type(o) == H5I_DATASET ? dataset_storage_ok(o, c->path, where, c->err)
						       : 0;
		H5Oclose(o);
		if (rc) {
			c->refused = 1;
			return -1;
		}
		return 0;
	}
	char val[512] = "";
	size_t len = info->u.val_size < sizeof(val) ? info->u.val_size : sizeof(val);
	if (info->type == H5L_TYPE_SOFT || info->type == H5L_TYPE_EXTERNAL) {
		if (H5Lget_val(g, name, val, len, h5_read_lapl()) < 0)
			H5Eclear2(H5E_DEFAULT);
		val[sizeof(val) - 1] = 0;
	}
	if (info->type == H5L_TYPE_SOFT) {
		hus_errf(c->err, HUS_EINPUT, c->path, where,
			 "a soft link (to '%.200s'); expected a dataset or group stored in this file "
			 "(husai follows hard links only): refusing it",
			 val);
	} else if (info->type == H5L_TYPE_EXTERNAL) {
		const char *file = "?", *obj = "?";
		unsigned flags;
		if (len < sizeof(val) && H5Lunpack_elink_val(val, len, &flags, &file, &obj) < 0) {
			H5Eclear2(H5E_DEFAULT);
			file = obj = "?";
		}
		hus_errf(c->err, HUS_EINPUT, c->path, where,
			 "an external link (to '%.200s' in file '%.200s'); expected a dataset or group "
			 "stored in this file (husai reads nothing outside the artifact): refusing it",
			 obj, file);
	} else {
		hus_errf(c->err, HUS_EINPUT, c->path, where,
			 "a user-defined link (type %d); expected a dataset or group stored in this "
			 "file (husai follows hard links only): refusing it",
			 (int)info->type);
	}
	c->refused = 1;
	return -1;
}

static herr_t count_obj(hid_t loc, const char *name, const H5O_info_t *info, void *data)
{
	(void)loc, (void)info;
	struct links_ctx *c = data;
	if (++c->n > WALK_MAX_OBJECTS || strlen(name) > WALK_MAX_PATH) {
		hus_errf(c->err, HUS_EINPUT, c->path, NULL,
			 "more than %d objects or a path longer than %d bytes (a group that contains "
			 "itself?)",
			 WALK_MAX_OBJECTS, WALK_MAX_PATH);
		return -1;
	}
	return 0;
}

/* Every link a hard link, every dataset's data in the file; *unwalkable when libhdf5 could not
 * walk the groups (not a refusal of what it found). */
static int check_inside(hid_t file, const char *path, int *unwalkable, struct hus_err *err)
{
	struct links_ctx c = { path, err, 0, 0 };
	*unwalkable = 0;
	/* first the objects alone, through hard links only (what the walk always did first): a
	 * corrupt file fails here cleanly, where H5Lvisit made libhdf5 ask for 8 EiB
	 * (hdf5_lib_huge_alloc_name_lookup.h5) */
	if (H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, count_obj, &c) < 0) {
		*unwalkable = 1;
		if (!err->code)
			hus_errf(err, HUS_EINPUT, path, NULL, "cannot walk the file: %s", h5_reason());
		H5Eclear2(H5E_DEFAULT);
		return err->code ? err->code : HUS_EINPUT;
	}
	c.n = 0;
	if (H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, check_link, &c) < 0) {
		if (c.refused)
			return err->code ? err->code : HUS_EINPUT;
		*unwalkable = 1;
		if (!err->code)
			hus_errf(err, HUS_EINPUT, path, NULL, "cannot walk the file: %s", h5_reason());
		H5Eclear2(H5E_DEFAULT);
		return err->code ? err->code : HUS_EINPUT;
	}
	return 0;
}

/* Check the root attributes of an open file and that everything in it is stored in it; on
 * success *rp owns `file`.  *unwalkable (may be NULL): libhdf5 could not walk its groups. */
static int open_checked_ex(struct h5r **rp, hid_t file, const char *path, const char *format,
                           int max_version, int *unwalkable, struct hus_err *err);

static int open_checked(struct h5r **rp, hid_t file, const char *path, const char *format,
                        int max_version, struct hus_err *err)
{
	int unwalkable;
	return open_checked_ex(rp, file, path, format, max_version, &unwalkable, err);
}

static int open_checked_ex(struct h5r **rp, hid_t file, const char *path, const char *format,
                           int max_version, int *unwalkable, struct hus_err *err)
{
	*unwalkable = 0;
	struct h5r *r = calloc(1, sizeof(*r));
	if (!r) {
		H5Fclose(file);
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->file = file;
	char *fmt = NULL;
	int64_t version = 0;
	int rc = read_attr_str(r->file, path, "/", "husai_format", 0, &fmt, err);
	if (!rc)
		rc = read_attr_num(r->file, path, "/", "husai_format_version", 0, H5T_INTEGER,
				   H5T_NATIVE_INT64, &version, err);
	if (!rc && format && strcmp(fmt, format))
		rc = hus_errf(err, HUS_EINPUT, path, "/@husai_format", "expected '%s', found '%s'",
			      format, fmt);
	if (!rc && (version < 1 || (max_version > 0 && version > max_version)))
		rc = hus_errf(err, HUS_EINPUT, path, "/@husai_format_version",
			      "expected version 1..%d, found %" PRId64 "%s", max_version, version,
			      version > max_version ? " (written by a newer husai?)" : "");
	const char *skip = getenv("HUSAI_H5_NO_INSIDE_CHECK"); /* tests of the second line only */
	if (!rc && !(skip && !strcmp(skip, "1")))
		rc = check_inside(r->file, path, unwalkable, err);
	free(fmt);
	if (rc) {
		H5Fclose(r->file);
		free(r);
		return rc;
	}
	r->version = (int)version;
	*rp = r;
	return 0;
}

/*
 * The crash guard's walk (h5guard.c runs it in the validator process before the caller opens
 * the file): open, check the root attributes, read every object, attribute and dataset once
 * (describe), close.  H5G_WALK_OK when it all reads cleanly; H5G_WALK_INVALID when something
 * is merely invalid (the caller's own calls then take the same paths through libhdf5 and
 * name the error); H5G_WALK_UNWALKABLE, with the library's reason in `why`, when libhdf5
 * cannot walk the groups: the objects past that point were never read here, so the caller
 * must not look them up by name either (fuzzing: a name lookup in such a file made libhdf5
 * allocate 8 EiB from a corrupt local heap).
 */
static int describe_run(struct h5r *r, FILE *out, int checksums, int *unwalkable,
                        struct hus_err *err);

int h5_guard_walk(const char *path, const void *image, size_t n, const char *format,
                  int max_version, char *why, size_t whylen)
{
	struct hus_err e = { 0 };
	struct h5r *r = NULL;
	hid_t fapl = H5P_DEFAULT;
	if (image) {
		fapl = H5Pcreate(H5P_FILE_ACCESS);
		H5Pset_fapl_core(fapl, 1 << 16, 0);
		H5Pset_file_image(fapl, (void *)image, n);
	}
	hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	if (image)
		H5Pclose(fapl);
	int unwalkable_links = 0;
	int rc = file < 0 || open_checked_ex(&r, file, path, format, max_version, &unwalkable_links,
					     &e)
			 ? H5G_WALK_INVALID
			 : H5G_WALK_OK;
	if (unwalkable_links) {
		/* the caller must not take a path through libhdf5 past this failure */
		rc = H5G_WALK_UNWALKABLE;
		snprintf(why, whylen, "%s%s%.80s", e.msg, e.where[0] ? " at " : "", e.where);
	}
	if (rc == H5G_WALK_OK) {
		FILE *devnull = fopen("/dev/null", "w");
		int unwalkable = 0;
		if (devnull && describe_run(r, devnull, 0, &unwalkable, &e))
			rc = unwalkable ? H5G_WALK_UNWALKABLE : H5G_WALK_INVALID;
		if (devnull)
			fclose(devnull);
		if (unwalkable)
			snprintf(why, whylen, "%s%s%.80s", e.msg, e.where[0] ? " at " : "", e.where);
		h5r_close(r);
	}
	H5Eclear2(H5E_DEFAULT);
	return rc;
}

long h5_guard_open_objects(void)
{
	return (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
}

int h5r_open(struct h5r **rp, const char *path, const char *format, int max_version,
             struct hus_err *err)
{
	if (access(path, R_OK))
		return hus_errf(err, HUS_EINPUT, path, NULL, "cannot read the file (missing or not permitted)");
	/* libhdf5 would open a FIFO and wait for a writer, or read a device */
	struct stat st = { 0 };
	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return hus_errf(err, HUS_EINPUT, path, NULL, "%s; expected a regular file (an HDF5 file)",
				hus_file_kind(st.st_mode));
	htri_t is = H5Fis_hdf5(path);
	H5Eclear2(H5E_DEFAULT);
	if (is <= 0)
		return hus_errf(err, HUS_EINPUT, path, NULL,
				"not an HDF5 file%s", format ? "" : " (husai artifacts are HDF5)");
	int rc = h5_guard(path, NULL, 0, format, max_version, err);
	if (rc)
		return rc;
	hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (file < 0)
		return hus_errf(err, HUS_EINPUT, path, NULL, "cannot open HDF5 file (truncated or corrupt?): %s",
				h5_reason());
	return open_checked(rp, file, path, format, max_version, err);
}

int h5r_open_image(struct h5r **rp, const void *buf, size_t n, const char *name,
                   const char *format, int max_version, struct hus_err *err)
{
	/* HDF5's superblock signature; anything without it is refused before the library parses */
	static const unsigned char sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
	int found = 0;
	for (size_t off = 0; off + 8 <= n && !found; off = off ? off * 2 : 512)
		found = !memcmp((const char *)buf + off, sig, 8);
	if (!found)
		return hus_errf(err, HUS_EINPUT, name, NULL, "not an HDF5 file");
	int rc = h5_guard(name, buf, n, format, max_version, err);
	if (rc)
		return rc;
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_fapl_core(fapl, 1 << 16, 0);
	H5Pset_file_image(fapl, (void *)buf, n);
	hid_t file = H5Fopen(name, H5F_ACC_RDONLY, fapl);
	H5Pclose(fapl);
	if (file < 0)
		return hus_errf(err, HUS_EINPUT, name, NULL, "cannot open HDF5 image (corrupt?): %s",
				h5_reason());
	return open_checked(rp, file, name, format, max_version, err);
}

void h5r_close(struct h5r *r)
{
	if (!r)
		return;
	H5Fclose(r->file);
	free(r);
}

const char *h5r_path(const struct h5r *r) { return r->path; }
int h5r_format_version(const struct h5r *r) { return r->version; }

int h5r_has(struct h5r *r, const char *dset)
{
	/* walk the path one link at a time: H5Lexists fails on a missing intermediate group */
	char buf[1024];
	if (snprintf(buf, sizeof(buf), "%s", dset) >= (int)sizeof(buf) || buf[0] != '/')
		return 0;
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == 0) {
			char c = *p;
			*p = 0;
			htri_t e = H5Lexists(r->file, buf, h5_read_lapl());
			H5L_info_t li;
			/* a path is resolved through hard links only (the second line beside
			 * check_inside): a soft or external link on the way is as good as missing */
			if (e <= 0 || H5Lget_info(r->file, buf, &li, h5_read_lapl()) < 0 ||
			    li.type != H5L_TYPE_HARD) {
				H5Eclear2(H5E_DEFAULT);
				return 0;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	H5O_info_t info;
	if (H5Oget_info_by_name(r->file, dset, &info, h5_read_lapl()) < 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	return info.type == H5O_TYPE_DATASET;
}

static int classify(hid_t t, enum h5_type *out)
{
	H5T_class_t c = H5Tget_class(t);
	size_t sz = H5Tget_size(t);
	if (c == H5T_FLOAT && sz == 4)
		*out = HUS_F32;
	else if (c == H5T_FLOAT && sz == 8)
		*out = HUS_F64;
	else if (c == H5T_INTEGER && sz == 4 && H5Tget_sign(t) == H5T_SGN_2)
		*out = HUS_I32;
	else if (c == H5T_INTEGER && sz == 8 && H5Tget_sign(t) == H5T_SGN_2)
		*out = HUS_I64;
	else if (c == H5T_INTEGER && sz == 1 && H5Tget_sign(t) == H5T_SGN_NONE)
		*out = HUS_U8;
	else
		return -1;
	return 0;
}

int h5r_shape(struct h5r *r, const char *dset, enum h5_type *type, int *rank, size_t *dims,
              struct hus_err *err)
{
	if (!h5r_has(r, dset))
		return hus_errf(err, HUS_EINPUT, r->path, dset, "missing dataset");
	hid_t d = H5Dopen2(r->file, dset, h5_read_dapl());
	if (d < 0)
		return hus_errf(err, HUS_EINPUT, r->path, dset, "cannot open dataset: %s", h5_reason());
	hid_t t = H5Dget_type(d), s = H5Dget_space(d);
	int rc = 0;
	int nd = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
	if (t < 0 || s < 0 || nd < 0) {
		rc = hus_errf(err, HUS_EINPUT, r->path, dset, "unreadable dataset header: %s",
			      h5_reason());
	} else if (nd > H5_MAX_RANK) {
		rc = hus_errf(err, HUS_EINPUT, r->path, dset, "rank %d exceeds %d", nd, H5_MAX_RANK);
	} else if (classify(t, type)) {
		rc = hus_errf(err, HUS_EINPUT, r->path, dset,
			      "unsupported element type (expected float32/64, int32/64 or uint8)");
	} else {
		hsize_t hd[H5_MAX_RANK];
		H5Sget_simple_extent_dims(s, hd, NULL);
		*rank = nd;
		for (int i = 0; i < nd; i++)
			dims[i] = (size_t)hd[i];
	}
	if (t >= 0)
		H5Tclose(t);
	if (s >= 0)
		H5Sclose(s);
	H5Dclose(d);
	return rc;
}

/* Validate the stored dataset against the request; fill dims' 0 entries; return the count. */
static int check_dataset(struct h5r *r, const char *dset, enum h5_type type, int rank,
                         size_t *dims, size_t *count, struct hus_err *err)
{
	enum h5_type found;
	int found_rank;
	size_t fd[H5_MAX_RANK];
	int rc = h5r_shape(r, dset, &found, &found_rank, fd, err);
	if (rc)
		return rc;
	if (found != type)
		return hus_errf(err, HUS_EINPUT, r->path, dset, "expected %s, found %s",
				h5_type_name(type), h5_type_name(found));
	char want[128], got[128];
	dims_str(got, sizeof(got), found_rank, fd);
	if (found_rank != rank)
		return hus_errf(err, HUS_EINPUT, r->path, dset, "expected rank %d, found rank %d %s",
				rank, found_rank, got);
	for (int i = 0; i < rank; i++) {
		if (dims[i] && dims[i] != fd[i]) {
			dims_str(want, sizeof(want), rank, dims);
			return hus_errf(err, HUS_EINPUT, r->path, dset,
					"expected shape %s (0 = any), found %s", want, got);
		}
	}
	int ok;
	size_t n = checked_count(rank, fd, &ok);
	if (!ok)
		return hus_errf(err, HUS_EINPUT, r->path, dset, "shape %s is too large", got);
	/* a corrupt header can claim far more data than the file holds: refuse before allocating
	 * (husai writes uncompressed data, so its datasets never exceed the file) */
	hsize_t fsize = 0;
	H5Fget_filesize(r->file, &fsize);
	if (n > 0 && n * h5_type_size(type) > (size_t)fsize * 64 + ((size_t)1 << 20))
		return hus_errf(err, HUS_EINPUT, r->path, dset,
				"shape %s claims %zu bytes but the file has %llu: corrupt header", got,
				n * h5_type_size(type), (unsigned long long)fsize);
	for (int i = 0; i < rank; i++)
		dims[i] = fd[i];
	*count = n;
	return 0;
}

static int read_into(struct h5r *r, const char *dset, enum h5_type type, void *out,
                     struct hus_err *err)
{
	hid_t d = H5Dopen2(r->file, dset, h5_read_dapl());
	if (d < 0)
		return hus_errf(err, HUS_EINPUT, r->path, dset, "cannot open dataset: %s", h5_reason());
	/* checked at the open already (check_inside); again here, right before the read */
	int rc = dataset_storage_ok(d, r->path, dset, err);
	if (rc) {
		H5Dclose(d);
		return rc;
	}
	if (H5Dread(d, hdf5_type(type, 0), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
		rc = hus_errf(err, HUS_EINPUT, r->path, dset,
			      "cannot read dataset (truncated file?): %s", h5_reason());
	H5Dclose(d);
	return rc;
}

int h5r_read(struct h5r *r, const char *dset, enum h5_type type, void *out, size_t cap,
             int rank, size_t *dims, struct hus_err *err)
{
	size_t tmp[H5_MAX_RANK] = { 0 }, n;
	if (rank < 0 || rank > H5_MAX_RANK)
		return hus_errf(err, HUS_EINTERNAL, r->path, dset, "bad rank request");
	if (dims)
		memcpy(tmp, dims, sizeof(size_t) * (size_t)rank);
	int rc = check_dataset(r, dset, type, rank, tmp, &n, err);
	if (rc)
		return rc;
	if (n != cap)
		return hus_errf(err, HUS_EINPUT, r->path, dset, "expected %zu elements, found %zu",
				cap, n);
	if (n && (rc = read_into(r, dset, type, out, err)))
		return rc;
	if (dims)
		memcpy(dims, tmp, sizeof(size_t) * (size_t)rank);
	return 0;
}

/* Rows [row0, row0 + nrows) of a rank-2 dataset, all columns, as a hyperslab: the only read
 * of part of a dataset (the streamed activation reader, formats/acts_rows.c); the storage is
 * checked before each read as for a whole read. */
int h5r_read_rows(struct h5r *r, const char *dset, enum h5_type type, size_t row0, size_t nrows,
                  size_t ncols, void *out, struct hus_err *err)
{
	hid_t d = H5Dopen2(r->file, dset, h5_read_dapl());
	if (d < 0)
		return hus_errf(err, HUS_EINPUT, r->path, dset, "cannot open dataset: %s", h5_reason());
	int rc = dataset_storage_ok(d, r->path, dset, err);
	hid_t fs = H5Dget_space(d);
	hsize_t hd[2] = { 0, 0 };
	if (!rc && (fs < 0 || H5Sget_simple_extent_ndims(fs) != 2 ||
		    H5Sget_simple_extent_dims(fs, hd, NULL) < 0 || hd[1] != ncols ||
		    row0 + nrows > hd[0] || row0 + nrows < row0))
		rc = hus_errf(err, HUS_EINPUT, r->path, dset,
			      "rows %zu..%zu of %zu columns are not inside the dataset (%llu x %llu)",
			      row0, row0 + nrows, ncols, (unsigned long long)hd[0],
			      (unsigned long long)hd[1]);
	if (!rc && nrows) {
		hsize_t start[2] = { row0, 0 }, count[2] = { nrows, ncols };
		hid_t ms = H5Screate_simple(2, count, NULL);
		if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
		    H5Dread(d, hdf5_type(type, 0), ms, fs, H5P_DEFAULT, out) < 0)
			rc = hus_errf(err, HUS_EINPUT, r->path, dset,
				      "cannot read rows %zu..%zu (truncated file?): %s", row0,
				      row0 + nrows, h5_reason());
		H5Sclose(ms);
	}
	if (fs >= 0)
		H5Sclose(fs);
	H5Dclose(d);
	return rc;
}

int h5r_read_alloc(struct h5r *r, const char *dset, enum h5_type type, void **out, int rank,
                   size_t *dims, struct hus_err *err)
{
	size_t tmp[H5_MAX_RANK] = { 0 }, n;
	if (rank < 0 || rank > H5_MAX_RANK)
		return hus_errf(err, HUS_EINTERNAL, r->path, dset, "bad rank request");
	if (dims)
		memcpy(tmp, dims, sizeof(size_t) * (size_t)rank);
	int rc = check_dataset(r, dset, type, rank, tmp, &n, err);
	if (rc)
		return rc;
	void *p = malloc(n ? n * h5_type_size(type) : 1);
	if (!p)
		return hus_errf(err, HUS_ENOMEM, r->path, dset, "out of memory for %zu elements", n);
	if (n && (rc = read_into(r, dset, type, p, err))) {
		free(p);
		return rc;
	}
	if (dims)
		memcpy(dims, tmp, sizeof(size_t) * (size_t)rank);
	*out = p;
	return 0;
}

int h5r_attr_str(struct h5r *r, const char *obj, const char *name, char **val,
                 struct hus_err *err)
{
	return read_attr_str(r->file, r->path, obj, name, 0, val, err);
}

int h5r_attr_i64(struct h5r *r, const char *obj, const char *name, int64_t *val,
                 struct hus_err *err)
{
	return read_attr_num(r->file, r->path, obj, name, 0, H5T_INTEGER, H5T_NATIVE_INT64, val, err);
}

int h5r_attr_f64(struct h5r *r, const char *obj, const char *name, double *val,
                 struct hus_err *err)
{
	return read_attr_num(r->file, r->path, obj, name, 0, H5T_FLOAT, H5T_NATIVE_DOUBLE, val, err);
}

int h5r_has_attr(struct h5r *r, const char *obj, const char *name)
{
	int e = attr_find(r->file, obj, name);
	H5Eclear2(H5E_DEFAULT);
	return e > 0;
}

/* ---------------------------------------------------------------- describe ---------- */

struct describe_ctx {
	struct h5r *r;
	FILE *out;
	const char *obj;
	int failed;
	int checksums; /* print the sha256 of every dataset's values */
	struct hus_err *err;
	size_t objects; /* visited so far */
};

static herr_t describe_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
	(void)loc, (void)info;
	struct describe_ctx *c = data;
	hid_t a = H5Aopen_by_name(c->r->file, c->obj, name, H5P_DEFAULT, h5_read_lapl());
	if (a < 0) {
		c->failed = 1;
		return 0;
	}
	hid_t t = H5Aget_type(a);
	H5T_class_t cls = H5Tget_class(t);
	H5Tclose(t);
	H5Aclose(a);
	if (cls == H5T_STRING) {
		char *v = NULL;
		if (read_attr_str(c->r->file, c->r->path, c->obj, name, 1, &v, c->err)) {
			c->failed = 1;
			return 0;
		}
		size_t len = strcspn(v, "\n");
		if (v[len] || len > 100)
			fprintf(c->out, "    @%s = \"%.*s…\" (%zu bytes)\n", name,
				(int)(len > 100 ? 100 : len), v, strlen(v));
		else
			fprintf(c->out, "    @%s = \"%s\"\n", name, v);
		free(v);
	} else if (cls == H5T_INTEGER) {
		int64_t v;
		if (read_attr_num(c->r->file, c->r->path, c->obj, name, 1, H5T_INTEGER, H5T_NATIVE_INT64,
				  &v, c->err))
			c->failed = 1;
		else
			fprintf(c->out, "    @%s = %" PRId64 "\n", name, v);
	} else if (cls == H5T_FLOAT) {
		double v;
		if (read_attr_num(c->r->file, c->r->path, c->obj, name, 1, H5T_FLOAT, H5T_NATIVE_DOUBLE,
				  &v, c->err))
			c->failed = 1;
		else
			fprintf(c->out, "    @%s = %.17g\n", name, v);
	} else {
		fprintf(c->out, "    @%s = (unsupported attribute type)\n", name);
	}
	return 0;
}

static herr_t describe_obj(hid_t loc, const char *name, const H5O_info_t *info, void *data)
{
	(void)loc;
	struct describe_ctx *c = data;
	if (++c->objects > WALK_MAX_OBJECTS || strlen(name) > WALK_MAX_PATH) {
		if (!c->failed)
			hus_errf(c->err, HUS_EINPUT, c->r->path, NULL,
				 "more than %d objects or a path longer than %d bytes (a group that "
				 "contains itself?)",
				 WALK_MAX_OBJECTS, WALK_MAX_PATH);
		c->failed = 1;
		return -1; /* stops H5Ovisit */
	}
	char path[1024];
	snprintf(path, sizeof(path), "/%s", strcmp(name, ".") ? name : "");
	if (info->type == H5O_TYPE_DATASET) {
		enum h5_type t;
		int rank;
		size_t dims[H5_MAX_RANK];
		if (h5r_shape(c->r, path, &t, &rank, dims, c->err)) {
			fprintf(c->out, "  %s  (%s)\n", path, c->err->msg);
			c->failed = 1;
		} else {
			char ds[128];
			dims_str(ds, sizeof(ds), rank, dims);
			void *data = NULL;
			size_t any[H5_MAX_RANK] = { 0 };
			/* read every dataset once: a truncated file shows here, not in a later stage */
			int bad = h5r_read_alloc(c->r, path, t, &data, rank, any, c->err);
			char hex[65] = "";
			if (!bad && c->checksums) {
				int ok;
				size_t n = checked_count(rank, dims, &ok);
				hus_sha256_buf(data, n * h5_type_size(t), hex);
			}
			free(data);
			fprintf(c->out, "  %-40s %-8s %s%s%s%s\n", path, h5_type_name(t), ds,
				bad ? "  UNREADABLE" : "", hex[0] ? "  sha256 " : "", hex);
			if (bad)
				c->failed = 1;
		}
	} else if (info->type == H5O_TYPE_GROUP) {
		fprintf(c->out, "  %s  (group)\n", path);
	}
	/* every object, also one that claims no attributes: attr_find iterates on any object */
	c->obj = path;
	hsize_t idx = 0;
	if (H5Aiterate_by_name(c->r->file, path, H5_INDEX_NAME, H5_ITER_INC, &idx, describe_attr,
			       c, h5_read_lapl()) < 0 && !c->failed) {
		hus_errf(c->err, HUS_EINPUT, c->r->path, path, "unreadable attributes: %s",
			 h5_reason());
		c->failed = 1;
	}
	return 0;
}


/* ---------------------------------------------------------------- listing ----------- */

struct list_ctx {
	char **paths;
	size_t n, cap, objects;
	int failed;       /* err is filled */
	const char *file; /* for errors */
	struct hus_err *err;
};

static herr_t list_obj(hid_t loc, const char *name, const H5O_info_t *info, void *data)
{
	(void)loc;
	struct list_ctx *c = data;
	if (++c->objects > WALK_MAX_OBJECTS || strlen(name) > WALK_MAX_PATH) {
		hus_errf(c->err, HUS_EINPUT, c->file, NULL,
			 "more than %d objects or a path longer than %d bytes (a group that "
			 "contains itself?)",
			 WALK_MAX_OBJECTS, WALK_MAX_PATH);
		c->failed = 1;
		return -1;
	}
	if (info->type != H5O_TYPE_DATASET)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		char **p = realloc(c->paths, cap * sizeof(*p));
		if (!p)
			goto oom;
		c->paths = p, c->cap = cap;
	}
	size_t len = strlen(name) + 2;
	if (!(c->paths[c->n] = malloc(len)))
		goto oom;
	snprintf(c->paths[c->n++], len, "/%s", name);
	return 0;
oom:
	hus_errf(c->err, HUS_ENOMEM, c->file, NULL, "out of memory");
	c->failed = 1;
	return -1;
}

/* Every dataset of an open file (reader's or writer's), by name. */
static int list_datasets(hid_t file, const char *path, char ***paths, size_t *n,
                         struct hus_err *err)
{
	struct list_ctx c = { .file = path, .err = err };
	*paths = NULL;
	*n = 0;
	if (H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, list_obj, &c) < 0 || c.failed) {
		if (!c.failed)
			hus_errf(err, HUS_EINPUT, path, NULL, "cannot walk the file: %s", h5_reason());
		H5Eclear2(H5E_DEFAULT);
		h5r_free_list(c.paths, c.n);
		return err && err->code ? err->code : HUS_EINPUT;
	}
	*paths = c.paths;
	*n = c.n;
	return 0;
}

int h5r_list_datasets(struct h5r *r, char ***paths, size_t *n, struct hus_err *err)
{
	return list_datasets(r->file, r->path, paths, n, err);
}

void h5r_free_list(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

int h5r_describe(struct h5r *r, FILE *out, struct hus_err *err)
{
	return h5r_describe_ex(r, out, 0, err);
}

int h5r_describe_ex(struct h5r *r, FILE *out, int checksums, struct hus_err *err)
{
	int unwalkable;
	return describe_run(r, out, checksums, &unwalkable, err);
}

/* *unwalkable: H5Ovisit itself failed (not just one object). */
static int describe_run(struct h5r *r, FILE *out, int checksums, int *unwalkable,
                        struct hus_err *err)
{
	struct describe_ctx c = { r, out, "/", 0, checksums, err, 0 };
	fprintf(out, "%s: husai artifact, format version %d\n", r->path, r->version);
	*unwalkable = 0;
	if (H5Ovisit(r->file, H5_INDEX_NAME, H5_ITER_INC, describe_obj, &c) < 0) {
		*unwalkable = 1;
		if (!c.failed)
			hus_errf(err, HUS_EINPUT, r->path, NULL, "cannot walk the file: %s", h5_reason());
		return err->code ? err->code : HUS_EINPUT;
	}
	if (c.failed)
		return err->code ? err->code : HUS_EINPUT;
	return 0;
}
