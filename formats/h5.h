/*
 * h5.h — HDF5 artifacts: the writer (h5w_*) and the validating reader (h5r_*) of typed n-d
 * datasets and attributes, self-describing datasets, and `husai inspect`'s description
 * (formats/h5.c, formats/h5guard.c, formats/inspect.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_H5_H
#define HUSAI_FORMATS_H5_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "errors.h"

/* ---------------------------------------------------------------- HDF5 artifacts ---- */

/* The format names of husai's artifacts (the root attribute husai_format), defined here once;
 * each is owned by its formats/artifact_*.c reader and writer (docs/artifacts.md). */
#define HUS_FORMAT_TRANSFORMER "husai.transformer_checkpoint"
#define HUS_FORMAT_ACTIVATIONS "husai.activation_set"
#define HUS_FORMAT_SAE "husai.sae_checkpoint"
#define HUS_FORMAT_ANALYSIS "husai.analysis"
#define HUS_FORMAT_PAIR_CACHE "husai.pair_cache"

/* What every artifact records beside its format (Foundation issue, docs/decisions.md §10). */
struct hus_provenance {
	const char *config_yaml; /* resolved config, "" if none */
	const char *config_hash; /* hex sha256 of the scientific config, "" if none */
};

enum h5_type { HUS_F32, HUS_F64, HUS_I32, HUS_I64, HUS_U8 };
#define H5_MAX_RANK 8
size_t h5_type_size(enum h5_type t);      /* bytes of one element; 0 for no type */
const char *h5_type_name(enum h5_type t); /* "float32", "float64", "int32", "int64", "uint8" */

struct h5w; /* an artifact being written (under its temporary name) */
struct h5r; /* an artifact open for reading, already validated for format and version */

/* Create NAME.tmp-PID, write the root attributes husai_format, husai_format_version,
 * husai_version, created_utc, config_yaml, config_hash, git_commit and library versions. */
int h5w_open(struct h5w **w, const char *path, const char *format, int format_version,
             const struct hus_provenance *prov, struct hus_err *err);
/* Write a dataset; intermediate groups are created.  dims has `rank` entries. */
int h5w_write(struct h5w *w, const char *dset, enum h5_type type, const void *data, int rank,
              const size_t *dims, struct hus_err *err);
int h5w_f32(struct h5w *w, const char *dset, const float *data, int rank, const size_t *dims,
            struct hus_err *err);
int h5w_f64(struct h5w *w, const char *dset, const double *data, int rank, const size_t *dims,
            struct hus_err *err);
int h5w_i32(struct h5w *w, const char *dset, const int32_t *data, int rank, const size_t *dims,
            struct hus_err *err);
int h5w_i64(struct h5w *w, const char *dset, const int64_t *data, int rank, const size_t *dims,
            struct hus_err *err);
/* Streaming: create a dataset of the given shape (rank >= 1) without data, then write
 * consecutive slabs along its first dimension (rows row0 .. row0+nrows-1, every other
 * dimension whole).  For matrices larger than memory (husai import-activations). */
int h5w_create(struct h5w *w, const char *dset, enum h5_type type, int rank, const size_t *dims,
               struct hus_err *err);
int h5w_write_rows(struct h5w *w, const char *dset, enum h5_type type, size_t row0,
                   size_t nrows, const void *data, struct hus_err *err);
/* Attributes on `obj` ("/" for the root, or a dataset/group path that exists). */
int h5w_attr_str(struct h5w *w, const char *obj, const char *name, const char *val,
                 struct hus_err *err);
int h5w_attr_i64(struct h5w *w, const char *obj, const char *name, int64_t val,
                 struct hus_err *err);
int h5w_attr_f64(struct h5w *w, const char *obj, const char *name, double val,
                 struct hus_err *err);
/* Self-describing datasets (docs/artifacts.md): every dataset of every artifact carries two
 * string attributes, `description` (what it holds, in words) and `dims` (its dimension names,
 * outermost first, comma-separated; "" for a scalar).  h5w_describe writes them on one dataset
 * and refuses (HUS_EINTERNAL) empty text or dims whose count of names is not the rank.
 * Attributes only: the datasets' bytes and digests do not change. */
int h5w_describe(struct h5w *w, const char *dset, const char *description, const char *dims,
                 struct hus_err *err);
/* One row of an artifact's dataset table.  Tables end with a row whose pattern is NULL. */
struct h5_doc {
	const char *pattern;     /* the dataset path; `*` stands for one path component
	                          * (fnmatch, FNM_PATHNAME); the first matching row wins */
	const char *dims;        /* dimension names, as h5w_describe's */
	const char *description; /* what it holds */
	const char *mirror;      /* non-NULL: shaped like <mirror>/<this dataset's last component>
	                          * (an optimizer moment): dims from that row, description =
	                          * this row's text followed by that row's */
};
/* Describe every dataset written so far from `tables` (a NULL-terminated list of tables); a
 * dataset no row matches is an internal error naming it, so none goes out undescribed.
 * Call it last, before h5w_commit. */
int h5w_describe_all(struct h5w *w, const struct h5_doc *const *tables, struct hus_err *err);
/* Close, fsync, rename to the final name.  Frees w whatever happens. */
int h5w_commit(struct h5w *w, struct hus_err *err);
/* Close and unlink the temporary.  Frees w.  NULL is fine. */
void h5w_abort(struct h5w *w);

/* Open, check it is HDF5, that /husai_format == format and husai_format_version is in
 * [1, max_version].  format may be NULL to accept any husai artifact (inspect). */
int h5r_open(struct h5r **r, const char *path, const char *format, int max_version,
             struct hus_err *err);
/* The same from an in-memory file image (fuzzing, archives); `name` is used in errors. */
int h5r_open_image(struct h5r **r, const void *buf, size_t n, const char *name,
                   const char *format, int max_version, struct hus_err *err);
void h5r_close(struct h5r *r);
const char *h5r_path(const struct h5r *r);
int h5r_format_version(const struct h5r *r);
int h5r_has(struct h5r *r, const char *dset); /* 1 if a dataset of that path exists */
/* Shape of a dataset (rank <= H5_MAX_RANK), with its element type. */
int h5r_shape(struct h5r *r, const char *dset, enum h5_type *type, int *rank, size_t *dims,
              struct hus_err *err);
/*
 * Read a dataset into caller memory.  The stored dataset must have exactly `rank` dims equal
 * to `dims` (an entry of 0 in dims means "any", and the found size is written back), the
 * stored class must match `type` (float for HUS_F32/HUS_F64, integer for HUS_I32/HUS_I64), and the total size
 * must equal `cap` elements.  Use h5r_read_alloc when the size is not known.
 */
int h5r_read(struct h5r *r, const char *dset, enum h5_type type, void *out, size_t cap,
             int rank, size_t *dims, struct hus_err *err);
/* Same, allocating the buffer (malloc; caller frees).  dims as above; 0 entries = any. */
int h5r_read_alloc(struct h5r *r, const char *dset, enum h5_type type, void **out, int rank,
                   size_t *dims, struct hus_err *err);
/* Rows [row0, row0 + nrows) of a rank-2 dataset of `ncols` columns (a hyperslab; any layout,
 * contiguous or chunked), converted to `type`; refuses rows outside the dataset. */
int h5r_read_rows(struct h5r *r, const char *dset, enum h5_type type, size_t row0, size_t nrows,
                  size_t ncols, void *out, struct hus_err *err);
int h5r_attr_str(struct h5r *r, const char *obj, const char *name, char **val,
                 struct hus_err *err); /* malloc'ed */
int h5r_attr_i64(struct h5r *r, const char *obj, const char *name, int64_t *val,
                 struct hus_err *err);
int h5r_attr_f64(struct h5r *r, const char *obj, const char *name, double *val,
                 struct hus_err *err);
int h5r_has_attr(struct h5r *r, const char *obj, const char *name);
/* Print attributes and datasets (with shapes and types) to `out`; used by `husai inspect`. */
int h5r_describe(struct h5r *r, FILE *out, struct hus_err *err);
/* The same, with the sha256 of each dataset's values when `checksums` is set: two files hold
 * bit-identical data exactly when these lines agree (attributes such as created_utc aside). */
int h5r_describe_ex(struct h5r *r, FILE *out, int checksums, struct hus_err *err);
/* `husai inspect` on one file (inspect.c): h5r_describe_ex to out, then a known husai format
 * is read by its stage's own reader (version, shapes, finite values), so a file passes exactly
 * when the stages would accept it. */
int hus_inspect_file(const char *path, int checksums, FILE *out, struct hus_err *err);
/* The path of every dataset in the file ("/pairs/k8/pwmcc"), in name order; *paths and its
 * entries are malloc'ed (h5r_free_list frees them).  Bounded like h5r_describe: a file with
 * more than 100 000 objects or a path above 256 bytes is refused.  For comparing two files
 * dataset by dataset (h5r_shape and h5r_read_alloc then read each one in its stored type). */
int h5r_list_datasets(struct h5r *r, char ***paths, size_t *n, struct hus_err *err);
void h5r_free_list(char **paths, size_t n);

#endif
