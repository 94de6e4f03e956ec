/*
 * formats.h — the public face of formats/, which owns every byte husai reads or writes:
 * the shared error record, atomic file writes, SHA-256, HDF5 artifacts (typed n-d datasets
 * and attributes, with validation on read), YAML configs (typed getters, line:column errors,
 * unknown-key detection, --set overrides, the canonical config hash), JSON (jansson behind a
 * thin API), CSV, run manifests, terminal progress, and the torch-compatible generators that
 * make archived upstream numbers reproducible (MT19937, randperm, randn).
 *
 * No other folder includes hdf5.h, yaml.h or jansson.h.  Every function that can fail takes a
 * `struct hus_err *err` last, returns 0 on success or a negative HUS_E* code, fills `err`, and
 * leaves its outputs untouched on failure.  Nothing here exits or aborts.
 */
#ifndef HUSAI_FORMATS_H
#define HUSAI_FORMATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "numeric.h" /* the deterministic numeric core and torch's generator (numeric/) */
#include "cli.h"     /* the verbs' option parser, --set, usage (cli.c) */

struct json_t; /* jansson's value type; callers never see its definition */

/* ---------------------------------------------------------------- errors ------------ */

enum hus_code {
	HUS_OK = 0,
	HUS_EINPUT = -1,    /* a file or argument is not what was expected */
	HUS_EIO = -2,       /* the operating system refused a read or write */
	HUS_ENOMEM = -3,    /* an allocation failed */
	HUS_EUSAGE = -4,    /* the command line is wrong */
	HUS_EINTR = -5,     /* interrupted by SIGINT/SIGTERM; state was saved */
	HUS_EINTERNAL = -6, /* a library failed in a way input cannot explain */
	HUS_EMISMATCH = -7, /* audit: a checksum or recomputed value differs */
};

struct hus_err {
	int code;        /* one of enum hus_code */
	char file[512];  /* the file read or written, "" when none */
	char where[256]; /* "12:7" in YAML, "/params/W_dec" in HDF5, "" when none */
	char msg[512];   /* what was expected and what was found */
};

/* Fill `err` (if non-NULL) and return `code`.  `file` and `where` may be NULL. */
int hus_errf(struct hus_err *err, int code, const char *file, const char *where,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Print "husai: <file>:<where>: <msg>" on stderr. */
void hus_err_print(const struct hus_err *err);
/* Exit status for a code: 0 ok, 2 usage, 3 interrupted, 1 otherwise. */
int hus_err_status(int code);
/* Turn off library default error handlers (GSL abort, HDF5 auto-print).  Call once. */
void hus_libs_init(void);

/* Fault injection for tests (SQLite's sqlite3FaultSim): returns non-zero when the named site
 * should fail.  Sites are armed through the environment, HUSAI_FAULT=<site>[:<nth>]. */
int hus_fault(const char *site);

/* ---------------------------------------------------------------- atomic files ------ */

/*
 * Atomic writes.  Invariants:
 *  (1) a file never appears under its final name before it is complete and fsync'ed;
 *  (2) the temporary is NAME.tmp-PID in the same directory, so rename(2) is atomic;
 *  (3) on any failure the temporary is unlinked and the final name is untouched.
 */
struct hus_atomic {
	char final_path[4096];
	char tmp_path[4200];
	FILE *f; /* open on tmp_path while writing (NULL for writers that open it themselves) */
};
int hus_atomic_open(struct hus_atomic *a, const char *path, int open_stdio, struct hus_err *err);
int hus_atomic_commit(struct hus_atomic *a, struct hus_err *err); /* fflush, fsync, rename */
void hus_atomic_abort(struct hus_atomic *a);                     /* close and unlink tmp */
/* fsync an already-closed file by name, then rename it over `final_path`, then fsync the dir */
int hus_fsync_rename(const char *tmp_path, const char *final_path, struct hus_err *err);
/* Write a whole buffer atomically. */
int hus_write_file(const char *path, const void *buf, size_t n, struct hus_err *err);
/* Read a whole file (NUL-terminated copy; *n excludes the NUL).  Caller frees.  Only a regular
 * file (a FIFO, device, socket or directory is refused with an error naming what it is, before
 * anything is read), of at most `max` bytes (checked against its size before any allocation);
 * hus_read_file: at most HUS_READ_MAX. */
#define HUS_READ_MAX ((size_t)16 << 30)
int hus_read_file(const char *path, char **buf, size_t *n, struct hus_err *err);
int hus_read_file_max(const char *path, size_t max, char **buf, size_t *n, struct hus_err *err);
#define CFG_MAX_BYTES ((size_t)1 << 20) /* a YAML config: 1 MiB */
#define HJ_MAX_BYTES ((size_t)256 << 20) /* a JSON file (manifest, results, cfg.json): 256 MiB */
/* open(2) `path` read-only for a regular file only (`flags`: e.g. O_NOFOLLOW): a FIFO is
 * opened without waiting for a writer and refused like a device, socket or directory.  The
 * descriptor (blocking), or the (negative) hus_code of the error filled in `err`; *st if
 * non-NULL. */
struct stat;
int hus_open_regular(const char *path, int flags, struct stat *st, struct hus_err *err);
/* "a FIFO", "a symbolic link", "a character device", ... for an st_mode */
const char *hus_file_kind(unsigned mode);
int hus_mkdirs(const char *path, struct hus_err *err); /* mkdir -p */
/* Call fn(relative path, full path, ctx) for every regular file under root, recursively, in
 * sorted order, without following links; a non-zero return stops the walk and is returned. */
typedef int (*hus_walk_fn)(const char *rel, const char *full, void *ctx);
int hus_walk_files(const char *root, hus_walk_fn fn, void *ctx);
/* The same walk, calling fn for every entry that is neither a regular file nor a directory
 * (symbolic links, FIFOs, sockets, devices; none followed). */
int hus_walk_special(const char *root, hus_walk_fn fn, void *ctx);
/* The immediate subdirectories of dir (links followed) that hold `entry` (a file or directory),
 * as "dir/name" in sorted order; the caller frees each and the list.  HUS_ENOMEM on failure
 * (the list made so far is still returned). */
int hus_subdirs_having(const char *dir, const char *entry, char ***out, size_t *n);
int hus_file_exists(const char *path);
/* 1 for a relative path of plain components ("sae/k8/sae_seed1.h5"): not empty, no leading or
 * trailing '/', no empty, "." or ".." component; such a path stays below the directory it is
 * joined to (symbolic links aside). */
int hus_path_is_below(const char *rel);

/* ---------------------------------------------------------------- sha256 ------------ */

/* of a regular file only (a FIFO or device is refused, never read) */
int hus_sha256_file(const char *path, char hex[65], uint64_t *bytes, struct hus_err *err);
/* of what is left to read on `fd` (named `path` in errors) */
int hus_sha256_fd(int fd, const char *path, char hex[65], uint64_t *bytes, struct hus_err *err);
void hus_sha256_buf(const void *buf, size_t n, char hex[65]);

/* ---------------------------------------------------------------- provenance -------- */

const char *hus_version(void);    /* husai's own version */
const char *hus_git_commit(void); /* 40-hex commit of the build, or "unknown" */
/* One line per library: "HDF5 1.10.8", "GSL 2.7.1", ... written into buf. */
void hus_library_versions(char *buf, size_t n);
/* Individual versions for attributes: name is hdf5, gsl, cairo, libyaml, jansson, or numeric
 * (the numeric core's path, hus_numeric_path()). */
const char *hus_library_version(const char *name);
void hus_utc_now(char buf[32]); /* ISO-8601 "2026-11-24T05:17:24+00:00" */

/* ---------------------------------------------------------------- HDF5 artifacts ---- */

/* The format names of husai's artifacts (the root attribute husai_format), defined here once;
 * each is owned by its formats/artifact_*.c reader and writer (docs/artifacts.md). */
#define HUS_FORMAT_TRANSFORMER "husai.transformer_checkpoint"
#define HUS_FORMAT_ACTIVATIONS "husai.activation_set"
#define HUS_FORMAT_SAE "husai.sae_checkpoint"
#define HUS_FORMAT_ANALYSIS "husai.analysis"

/* What every artifact records beside its format (Foundation issue, docs/decisions.md §10). */
struct hus_provenance {
	const char *config_yaml; /* resolved config, "" if none */
	const char *config_hash; /* hex sha256 of the scientific config, "" if none */
};

enum h5_type { HUS_F32, HUS_F64, HUS_I32, HUS_I64, HUS_U8 };
#define H5_MAX_RANK 8

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

/* ---------------------------------------------------------------- YAML configs ------ */

/*
 * A config is a YAML mapping tree.  Stages read it through typed getters with defaults, by
 * dotted key ("sae.k").  Every getter marks the key as used; cfg_finish() then rejects any
 * key that no getter asked for, with a "did you mean" hint.  The resolved config (every key
 * read, with its final value, defaults included) is what artifacts record, and the config
 * hash is the sha256 of its scientific part (keys read with cfg_path are excluded: paths and
 * output locations never enter it) plus the sha256 of every input file registered.
 *
 *   struct cfg *c;
 *   if (cfg_load(&c, "configs/demo.yaml", &err)) ...
 *   cfg_set(c, "sae.k=16", &err);                      // --set overrides
 *   int64_t k; cfg_int(c, "sae.k", 32, 1, 1 << 20, &k, &err);
 *   double lr; cfg_f64(c, "sae.lr", 3e-4, &lr, &err);  // accepts 3e-4, 0.0003, 1e-3
 *   cfg_finish(c, &err);                               // unknown keys -> error
 */
struct cfg;
int cfg_load(struct cfg **c, const char *path, struct hus_err *err);
int cfg_load_string(struct cfg **c, const char *text, const char *name, struct hus_err *err);
struct cfg *cfg_empty(const char *name);
void cfg_free(struct cfg *c);
const char *cfg_name(const struct cfg *c);
/* Override "a.b.c=value"; creates the key if absent.  Recorded in the resolved config. */
int cfg_set(struct cfg *c, const char *assignment, struct hus_err *err);
/* Typed puts for configs built by code (job configs): the key is created if absent, the
 * value formatted so it reads back exactly; cfg_put_map makes an empty section (or keeps an
 * existing one).  Never build YAML as text. */
int cfg_put_int(struct cfg *c, const char *key, int64_t v, struct hus_err *err);
int cfg_put_f64(struct cfg *c, const char *key, double v, struct hus_err *err);
int cfg_put_str(struct cfg *c, const char *key, const char *v, struct hus_err *err);
int cfg_put_map(struct cfg *c, const char *key, struct hus_err *err);
int cfg_has(struct cfg *c, const char *key);
/* Where a key's value was given: "line:col" in the file, or "--set <key>"; -1 if absent. */
int cfg_where(struct cfg *c, const char *key, char *buf, size_t len);
int cfg_int(struct cfg *c, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out,
            struct hus_err *err);
/* A finite number (.inf and .nan are refused, naming the key and its line:column). */
int cfg_f64(struct cfg *c, const char *key, double def, double *out, struct hus_err *err);
/* The same, within lo..hi: an open end when lo_open / hi_open (hi may be INFINITY). */
int cfg_f64_in(struct cfg *c, const char *key, double def, double lo, int lo_open, double hi,
               int hi_open, double *out, struct hus_err *err);
int cfg_bool(struct cfg *c, const char *key, int def, int *out, struct hus_err *err);
/* String; if `choices` is non-NULL (NULL-terminated), the value must be one of them.
 * The returned pointer lives as long as c. */
int cfg_str(struct cfg *c, const char *key, const char *def, const char *const *choices,
            const char **out, struct hus_err *err);
/* A path or output location: read like cfg_str but excluded from the config hash. */
int cfg_path(struct cfg *c, const char *key, const char *def, const char **out,
             struct hus_err *err);
/* Lists, as YAML sequences or "1,2,3" strings.  *out is malloc'ed; def used when absent. */
int cfg_int_list(struct cfg *c, const char *key, const int64_t *def, size_t ndef, int64_t **out,
                 size_t *n, struct hus_err *err);
int cfg_f64_list(struct cfg *c, const char *key, const double *def, size_t ndef, double **out,
                 size_t *n, struct hus_err *err);
/* Keys directly under a mapping (e.g. the conditions of a sweep), in file order. */
int cfg_keys(struct cfg *c, const char *key, char ***names, size_t *n, struct hus_err *err);
/* Register an input file: its sha256 enters the config hash under `role`. */
int cfg_add_input(struct cfg *c, const char *role, const char *path, struct hus_err *err);
/* Reject unread keys (error names file:line:column and suggests the nearest known key). */
int cfg_finish(struct cfg *c, struct hus_err *err);
/* The resolved config as canonical YAML (sorted keys, every key read).  Caller frees. */
char *cfg_resolved_yaml(struct cfg *c);
/* sha256 hex of the canonical scientific serialisation + input checksums. */
void cfg_hash(struct cfg *c, char hex[65]);
/* The named top-level sections as written (overrides applied), as YAML text every getter
 * reads back identically; marks them used.  For handing one stage its part of an experiment
 * config.  Caller frees. */
char *cfg_sections_yaml(struct cfg *c, const char *const *sections);

/* ---------------------------------------------------------------- JSON -------------- */

/*
 * A thin layer over jansson so stages build results without including jansson.h.
 * Objects keep insertion order; the writer uses 2-space indent, a trailing newline, and
 * writes non-finite numbers as null (docs/formulas.md §8.15, A11).  Values are reference-counted by
 * jansson: the *_set / *_push functions steal the reference of `val`.
 */
typedef struct json_t hj;
hj *hj_obj(void);
hj *hj_arr(void);
hj *hj_num(double v);     /* non-finite -> null */
hj *hj_int(int64_t v);
hj *hj_str(const char *s);
hj *hj_bool(int b);
hj *hj_null(void);
hj *hj_f64_array(const double *v, size_t n);
hj *hj_i64_array(const int64_t *v, size_t n);
int hj_set(hj *obj, const char *key, hj *val); /* steals val */
int hj_push(hj *arr, hj *val);                 /* steals val */
void hj_free(hj *v);                           /* decref */
hj *hj_ref(hj *v);                             /* incref, returns v */
int hj_del(hj *obj, const char *key);          /* remove a key (0), -1 if absent */
int hj_write_file(const char *path, hj *v, struct hus_err *err); /* atomic */
char *hj_dumps(hj *v);                                          /* caller frees */
/* Reading: parse with a line:column error; get by dotted path ("trained.mean", "records.3.k"). */
int hj_read_file(const char *path, hj **v, struct hus_err *err);
int hj_parse(const char *text, size_t n, const char *name, hj **v, struct hus_err *err);
hj *hj_get(hj *v, const char *path); /* borrowed; NULL if absent */
int hj_get_f64(hj *v, const char *path, double *out); /* 0 ok (null -> NaN), -1 absent/not a number */
int hj_get_i64(hj *v, const char *path, int64_t *out);
const char *hj_get_str(hj *v, const char *path);
size_t hj_len(hj *v);            /* array or object size */
hj *hj_at(hj *arr, size_t i);    /* borrowed */
int hj_is_obj(hj *v);
int hj_is_arr(hj *v);
int hj_is_num(hj *v);            /* integer or real */
double hj_as_f64(hj *v);         /* NaN for null/non-number */
/* Iterate an object: returns the i-th key and value (borrowed), NULL when i is past the end. */
const char *hj_obj_at(hj *obj, size_t i, hj **val);
/* What a value is: JSON keeps integers ("3") and reals ("3.0") apart. */
enum hj_kind { HJ_NULL, HJ_FALSE, HJ_TRUE, HJ_INT, HJ_REAL, HJ_STR, HJ_ARR, HJ_OBJ };
enum hj_kind hj_kind_of(hj *v); /* HJ_NULL for NULL */
hj *hj_member(hj *obj, const char *key); /* borrowed; the key taken whole (dots and all) */

/* ---------------------------------------------------------------- CSV --------------- */

/* Header row, LF endings, round-trippable floats (%.9g float32, %.17g double, NaN empty). */
struct csvw;
int csvw_open(struct csvw **w, const char *path, const char *const *header, size_t ncols,
              struct hus_err *err);
void csvw_str(struct csvw *w, const char *s); /* quoted when needed */
void csvw_f32(struct csvw *w, float v);
void csvw_f64(struct csvw *w, double v);
void csvw_i64(struct csvw *w, int64_t v);
int csvw_end_row(struct csvw *w, struct hus_err *err); /* checks the column count */
int csvw_commit(struct csvw *w, struct hus_err *err);  /* frees w */
void csvw_abort(struct csvw *w);                       /* frees w */

/* ---------------------------------------------------------------- manifests --------- */

/*
 * manifest.json in a run directory: run_metadata (timestamp_utc, git_commit, command,
 * config_hash, husai_version), versions, rng, config_hash_fields, inputs [{path, sha256,
 * bytes}], artifacts [{path, sha256, bytes}] with paths relative to the run directory.
 */
struct manifest;
struct manifest *manifest_new(const char *run_dir);
void manifest_free(struct manifest *m);
int manifest_add_input(struct manifest *m, const char *path, struct hus_err *err);
int manifest_add_artifact(struct manifest *m, const char *path, struct hus_err *err);
/* An input read from outside the run (activation set, transformer, imported SAE checkpoint),
 * with a `role` saying what it was; a file already listed is not listed again. */
int manifest_add_input_role(struct manifest *m, const char *path, const char *role,
                            struct hus_err *err);
void manifest_set(struct manifest *m, const char *key, hj *val); /* extra top-level key */
int manifest_write(struct manifest *m, const char *command, const char *config_hash,
                   struct hus_err *err);

struct audit_report {
	size_t checked, missing, changed, unlisted;
	size_t refused; /* listed or present but not a regular file inside the run (never read) */
	size_t outside; /* inputs listed outside the run directory (not read) */
	size_t inputs_checked; /* of `checked`: inputs outside the run, read (manifest_audit_ex) */
};
/* Recompute every sha256 in RUN_DIR/manifest.json; list problems on `out` (may be NULL).
 * Returns 0 if all match, HUS_EMISMATCH otherwise (err says what), other codes on bad input.
 * Reads only regular files inside RUN_DIR: a listed path that is absolute or has a `..`
 * component is an error for an artifact, and an input outside the run (not read, listed as
 * "outside"); a listed symbolic link (also in a directory component), FIFO, socket or device
 * is refused unread; every symbolic link or special file in the run counts as refused. */
int manifest_audit(const char *run_dir, FILE *out, struct audit_report *rep, struct hus_err *err);
/* The same; with `outside` set, the inputs outside the run directory are read too (each a
 * regular file, opened without blocking; a FIFO or device is refused unread) and their sha256
 * compared: a missing or changed input fails the audit like an artifact. */
int manifest_audit_ex(const char *run_dir, FILE *out, struct audit_report *rep, int outside,
                      struct hus_err *err);

/* ---------------------------------------------------------------- run layout -------- */

/* The run directory's layout (formats/run_layout.c, docs/artifacts.md): every path below a
 * run directory is one of these names or built by the functions below.  Each builder writes
 * "<run_dir>/<path>", or the path relative to the run directory when run_dir is NULL, and
 * returns 0, or -1 when it did not fit in n bytes. */
#define RUN_TRANSFORMER_DIR "transformer"
#define RUN_TRANSFORMER_FINAL "transformer/transformer_final.h5"
#define RUN_ACTIVATIONS "activations.h5"
#define RUN_SAE_DIR "sae"
#define RUN_ANALYSIS_DIR "analysis"
#define RUN_ANALYSIS_FILE "analysis.h5"
#define RUN_RESULTS "results.json"
#define RUN_MANIFEST "manifest.json"
#define RUN_JOBS_DIR "jobs"
#define RUN_LOGS_DIR "logs"
int run_path(char *out, size_t n, const char *run_dir, const char *rel);
/* sae/<cond>/sae_seed<seed><suffix>.h5 (suffix NULL, "" or "_step0") */
int run_sae_path(char *out, size_t n, const char *run_dir, const char *cond, int64_t seed,
                 const char *suffix);
/* analysis/<cond>, or analysis/<cond>/<file> when file is non-NULL */
int run_analysis_path(char *out, size_t n, const char *run_dir, const char *cond,
                      const char *file);
/* A job's files: jobs/<job>.yaml (its config; job is a driver's name), and, with the job
 * name made file-name safe (run_job_safe_name), jobs/<safe>.done.json, logs/<safe>.log. */
enum run_job_file { RUN_JOB_CONFIG, RUN_JOB_DONE, RUN_JOB_LOG };
int run_job_path(char *out, size_t n, const char *run_dir, enum run_job_file what,
                 const char *job);
void run_job_safe_name(const char *name, char *out, size_t n);

/* ---------------------------------------------------------------- progress ---------- */

/* One line on a terminal, updated in place at most ~10 times a second; silent when stderr is
 * not a tty or HUSAI_QUIET is set. */
struct hus_progress {
	const char *label;
	uint64_t total, done;
	double t_start, t_last;
	int active;
	/* the ETA's rate: seconds per unit, smoothed over the units' completions (an exponential
	 * average, so one slow or fast job does not swing it) */
	double sec_per_unit, t_prev;
	uint64_t prev_done;
};
void hus_progress_begin(struct hus_progress *p, const char *label, uint64_t total);
void hus_progress_update(struct hus_progress *p, uint64_t done, const char *detail);
void hus_progress_end(struct hus_progress *p);
double hus_now(void); /* monotonic seconds */

/* ---------------------------------------------------------------- artifact schemas -- */
/* Each artifact kind's typed reader/writer (docs/decisions.md §10) lives in its own formats/ file and
 * declares itself in the section below named for it. */

/* == transformer checkpoints and activation sets (formats/artifact_transformer.c,
 *    formats/artifact_activations.c) == */

/* Activation set (husai.activation_set), docs/artifacts.md "Activation set".  Two layers:
 *  - what every set has: the matrix x (N, d) float32 with its statistics, and optional
 *    metadata (model, hook, layer, position; per-row token ids; the source file it was
 *    imported from with its sha256 and dtype).  Strings "" and layer < 0 mean unknown.
 *  - the modular-addition task columns (example_index, a, b, c, pos) with modulus, split and
 *    answer_position: present exactly when a != NULL (acts_has_task).  A writer gives all five
 *    columns or none; husai extract gives them, imports and planted-feature sets do not.
 * A set with the task columns is written as version 1 (byte for byte what husai always wrote);
 * one without as version 2, so an older husai refuses it by its version.  Task rows are in
 * the upstream order: the split_seed permutation of the examples, train part then val part. */
struct acts_set {
	size_t N, d;               /* rows, width */
	float *x;                  /* (N, d) activations */
	/* optional metadata, every set */
	char model[128];           /* the model the activations come from ("" unknown) */
	char hook[128];            /* task sets: resid_pre, resid_mid, resid_post, attn_out,
	                              mlp_out; imports: any hook name ("" unknown) */
	int64_t layer;             /* 0-based block index; < 0 unknown (imports only) */
	char position[32];         /* task sets: answer, equals, bos, first_operand, all; imports:
	                              free text ("" unknown) */
	int32_t *token_ids;        /* (N) token id of each row, or NULL */
	char source_file[256];     /* imports: the file converted (its name as given), "" else */
	char source_dataset[256];  /* imports: the tensor / dataset / key inside it */
	char source_dtype[16];     /* imports: float16, float32, float64 */
	char source_sha256[65];    /* imports: sha256 of source_file */
	/* the modular-addition task (all NULL / 0 in a set without them) */
	int32_t *example_index;    /* (N) example e = a*p + b of each row */
	int32_t *a, *b, *c;        /* (N) operands and answer */
	int32_t *pos;              /* (N) token position of each row (all positions: 0..T-1) */
	char answer_position[16];  /* the transformer's: equals (index 4) or upstream (index 5) */
	int64_t modulus, split_seed;
	double split_fraction;
	char rows[8];              /* "all" (every example; "" is written as all) or "train": only
	                              the first floor(p² split_fraction) examples of the split
	                              permutation (docs/formulas.md §1.4, train_simple_sae); attribute `rows`,
	                              absent in older files = all */
	char transformer_sha256[65];
	double mean, std, min, max; /* over all elements; std unbiased (docs/formulas.md §3) */
};
/* 1 when the set carries the modular-addition task columns. */
int acts_has_task(const struct acts_set *s);
/* For a consumer that needs the task columns: 0 when present, else a HUS_EINPUT error naming
 * `path`, saying `what` needs them and that this set (an import?) has none. */
int acts_require_task(const struct acts_set *s, const char *path, const char *what,
                      struct hus_err *err);
/* The same from the file alone (reads no matrix): 1 with task columns, 0 without, < 0 error. */
int acts_file_has_task(const char *path, struct hus_err *err);
/* Write atomically; computes the statistics from x.  On error nothing is left at path. */
int acts_write(const char *path, const struct acts_set *s, const struct hus_provenance *prov,
               struct hus_err *err);
/* The table describing an activation set's datasets (h5w_describe_all); a planted set
 * (artifact_planted.c) adds its /truth rows to it. */
extern const struct h5_doc acts_doc[];
/* Read and validate (format, version, shapes, finite values: a NaN/Inf row is named; with
 * task columns: each row agrees with the modulus, `rows` all or train, and a train set holds
 * exactly the train part of the split, in order). */
int acts_read(const char *path, struct acts_set *s, struct hus_err *err);
/* The statistics of /stats in two passes over the values in file order (the sum, min and max
 * first, then the squared deviations from that mean), so a streamed matrix gets the same bits
 * as acts_write on the whole of it. */
struct acts_stats {
	double s, lo, hi, ss;
	size_t n;
};
void acts_stats_init(struct acts_stats *st);
void acts_stats_pass1(struct acts_stats *st, const float *x, size_t n);
void acts_stats_pass2(struct acts_stats *st, const float *x, size_t n); /* after every pass1 */
void acts_stats_result(const struct acts_stats *st, double *mean, double *std, double *mn,
                       double *mx);
/* Streaming writer for sets larger than memory: open with the metadata (meta->x unused, N and
 * d the final shape; columns, if any, borrowed until commit), append rows in order, commit
 * with the statistics of every row.  Atomic: nothing at path unless commit succeeds. */
struct acts_stream;
int acts_stream_open(struct acts_stream **st, const char *path, const struct acts_set *meta,
                     const struct hus_provenance *prov, struct hus_err *err);
int acts_stream_rows(struct acts_stream *st, const float *x, size_t nrows, struct hus_err *err);
int acts_stream_commit(struct acts_stream *st, const struct acts_stats *stats,
                       struct hus_err *err); /* frees st */
void acts_stream_abort(struct acts_stream *st); /* frees st; NULL is fine */
void acts_release(struct acts_set *s);
/* An activation set read a range of rows at a time (formats/acts_rows.c), for sets larger than
 * memory: the open checks the format, version, /activations (float32, rank 2, non-empty) and
 * /stats; each read checks its rows are finite (a bad row is named). */
struct acts_rows;
int acts_rows_open(struct acts_rows **a, const char *path, size_t *N, size_t *d,
                   struct hus_err *err);
int acts_rows_read(struct acts_rows *a, size_t row0, size_t n, float *out, struct hus_err *err);
void acts_rows_close(struct acts_rows *a); /* NULL is fine */

/* Planted activation sets (formats/artifact_planted.c, docs/formulas.md §10): an activation
 * set drawn from a known dictionary, with the truth under /truth (docs/artifacts.md).
 * Written streamed: open with the totals, hand over blocks of rows in order, commit. */
struct planted_writer;
struct planted_meta {
	const float *dictionary;   /* (d, n): column i = feature i */
	const double *frequency;   /* (n) firing probability */
	const int32_t *parent;     /* (n) parent feature or -1 */
	const int32_t *group;      /* (n) correlated group or -1 */
	const char *description;   /* one line: the generator's laws and parameters */
};
int planted_open(struct planted_writer **p, const char *path, size_t N, size_t d, size_t n,
                 size_t nnz, const struct hus_provenance *prov, struct hus_err *err);
/* x (nrows, d); row r of the block has row_nnz[r] codes, the block's indices/values in order. */
int planted_rows(struct planted_writer *p, const float *x, size_t nrows, const int64_t *row_nnz,
                 const int32_t *indices, const float *values, struct hus_err *err);
int planted_commit(struct planted_writer *p, const struct planted_meta *m, struct hus_err *err);
void planted_abort(struct planted_writer *p);
/* The truth of a planted set, validated (shapes, finite dictionary, CSR well formed). */
struct planted_truth {
	size_t d, n, N, nnz;
	float *dictionary;          /* (d, n) */
	int64_t *indptr;            /* (N + 1) */
	int32_t *indices;           /* (nnz) */
	float *values;              /* (nnz) */
};
int planted_truth_read(const char *path, struct planted_truth *t, struct hus_err *err);
void planted_truth_release(struct planted_truth *t);
/* The first max_rows rows of /activations (finite), X malloc'ed (rows, d). */
int planted_rows_read(const char *path, size_t max_rows, float **X, size_t *rows, size_t *d,
                      struct hus_err *err);
int planted_is(const char *path); /* 1 for an activation set with /truth (no error reported) */

/* Transformer checkpoint (husai.transformer_checkpoint, version 1), docs/decisions.md §10, docs/formulas.md §2.5.
 * The caller describes the parameter tensors (names, shapes, places in one flat block); the
 * file holds /params/<name>, /optimizer/{step, exp_avg/<name>, exp_avg_sq/<name>},
 * /rng/{state, seed_init, seed_shuffle} (+ algorithm attribute), /metrics/{train_loss,
 * train_acc, val_loss, val_acc} [epochs], /progress/{epoch, step_in_epoch, part_loss_sum,
 * part_correct, part_seen, best_epoch, best_val_acc, train_fit_epoch, grokked_epoch} and,
 * as root attributes, the model shape, answer position (index and name), kind and best rule. */
struct tfck_entry {
	char name[48]; /* state-dict key */
	int rank;
	size_t dims[3];
	size_t offset, n; /* place inside the flat blocks */
};
struct tfck {
	/* model shape: root attributes, readable alone with tfck_peek */
	int64_t p, n_layers, d_model, n_heads, d_mlp, answer_index;
	char act[16];            /* relu, gelu, gelu_new */
	/* tensors: supplied by the caller for both write and read */
	size_t n_params, n_tensors;
	const struct tfck_entry *t;
	float *params, *exp_avg, *exp_avg_sq; /* (n_params) each; read fills caller memory */
	int64_t opt_step;        /* Adam steps taken */
	int64_t epoch;           /* completed epochs */
	int64_t step_in_epoch;   /* steps taken in the epoch in progress (0 at an epoch end) */
	double part_loss_sum;    /* sums over that partial epoch */
	int64_t part_correct, part_seen;
	int64_t best_epoch;      /* -1 when none */
	double best_val_acc;
	int64_t train_fit_epoch, grokked_epoch; /* -1 when not (yet) */
	char kind[16];           /* periodic, best, final, interrupt */
	char best_rule[160];
	char rng_algorithm[32];  /* "gsl_rng_mt19937" */
	uint8_t rng_state[8192]; /* shuffle generator state at the start of the current epoch */
	size_t rng_state_size;
	int64_t init_seed, shuffle_seed;
	size_t n_epochs;         /* metrics history length (== epoch) */
	double *train_loss, *train_acc, *val_loss, *val_acc; /* (n_epochs); read allocates */
	char *config_yaml;       /* read: malloc'ed resolved config */
};
/* Write atomically; on error nothing is left at path. */
int tfck_write(const char *path, const struct tfck *ck, const struct hus_provenance *prov,
               struct hus_err *err);
/* Describe every dataset of a transformer checkpoint being written (its dataset table; also
 * for husai import's converter, formats/import/import_transformer.c). */
int tfck_describe(struct h5w *w, struct hus_err *err);
/* Read the format, version and model-shape attributes (and config_yaml, malloc'ed) only. */
int tfck_peek(const char *path, struct tfck *ck, struct hus_err *err);
/* Read everything; ck->t, n_tensors, n_params and the three blocks are supplied by the
 * caller (from the peeked shape); every dataset's shape is validated against them, and
 * parameters must be finite. */
int tfck_read(const char *path, struct tfck *ck, struct hus_err *err);
/* Free what tfck_peek / tfck_read allocated (metrics, config_yaml), not the caller's blocks. */
void tfck_release(struct tfck *ck);

/* == end transformer == */



/* == SAE checkpoints (formats/artifact_sae.c) == */

/*
 * husai.sae_checkpoint, version 1 (docs/decisions.md §10).  Datasets: /params/W_enc [d_sae, d_model],
 * /params/b_enc [d_sae], /params/W_dec [d_model, d_sae] (column j = feature j, always; never
 * guessed from shape), /params/b_dec [d_model] (only when the architecture has one),
 * /params/threshold [d_sae]; /optimizer/step [1], /optimizer/exp_avg/<name>,
 * /optimizer/exp_avg_sq/<name> (same shapes); /rng/order_mt19937 [625] (state words, then
 * the position) and /rng/order_perm [N]; /state/feature_counts [d_sae] f64,
 * /state/since_fired, /state/epoch_fired [d_sae] i64, /state/counters [4] i64 (epoch, pos,
 * batches this epoch, threshold_set), /state/epoch_sums [2] f64; /metrics/<name> [epochs] f64,
 * and with the final evaluation /metrics/final_fire_counts [d_sae] i64 (firings over all X).
 * Root attributes: architecture, k, seed, step, epoch, condition, activation_sha256, control
 * ("none" or "R2 step 0"), kind (step0, periodic, final), d_model, d_sae, and final_<metric>
 * when the final evaluation is known.
 *
 * In memory a parameter block is the train stage's flat layout (train.h struct sae_params):
 * W_enc (d_sae*d_model), b_enc (d_sae), W_decT (d_sae*d_model, row j = feature j),
 * b_dec (d_model), threshold (d_sae); this file transposes W_decT <-> /params/W_dec.
 */
#define SAE_CKPT_NHIST 9
struct sae_ckpt {
	size_t d_model, d_sae;
	char architecture[32], condition[128], activation_sha256[65], control[32], kind[16];
	int64_t k, seed, step, epoch, pos, ep_batches, threshold_set;
	int has_b_dec;
	float *params, *exp_avg, *exp_avg_sq;   /* flat blocks, layout above */
	double *feature_counts;                 /* (d_sae) */
	int64_t *since_fired, *epoch_fired;     /* (d_sae) */
	uint32_t order_mt[624];
	int32_t order_mti;
	int64_t *perm;                          /* (N) current epoch's batch order */
	size_t N;
	double ep_sums[2];                      /* train loss and aux summed this epoch */
	size_t n_hist;                          /* epochs recorded */
	const char *hist_names[SAE_CKPT_NHIST];
	double *hist[SAE_CKPT_NHIST];           /* (n_hist) each */
	int have_final;
	double final[6];                        /* mse, l0, l1, explained_variance, ev_fvu, dead */
	int64_t *final_counts;                  /* (d_sae) firings per latent in the final eval */
	char config_hash[65];                   /* filled by the reader */
};
extern const char *const sae_ckpt_final_names[6];
size_t sae_ckpt_nparams(size_t d_model, size_t d_sae);
/* Write atomically (nothing at path on failure). */
int sae_ckpt_write(const char *path, const struct sae_ckpt *c, const struct hus_provenance *prov,
                   struct hus_err *err);
/* Read and validate shapes, types and finiteness of the parameters; allocates the arrays
 * (release with sae_ckpt_release).  hist_names point at static strings. */
int sae_ckpt_read(const char *path, struct sae_ckpt *c, struct hus_err *err);
void sae_ckpt_release(struct sae_ckpt *c);
/* An imported SAE (root kind "imported": /params and attributes only): shapes and finite
 * values of its parameters. */
int sae_imported_check(const char *path, struct hus_err *err);
/* Write an imported SAE atomically (husai import plans it, formats/import/import_map.c).  param:
 * W_enc [d_sae, d_model], b_enc [d_sae], W_dec [d_model, d_sae], b_dec [d_model], threshold
 * [d_sae], feature_counts [d_sae] (stored float64 under /state), each NULL when absent. */
struct sae_imported {
	size_t d_model, d_sae;
	const float *param[6];
	const char *architecture, *condition;
	int64_t k, seed, step;
	const char *imported_from, *source_sha256, *source_format, *key_mapping, *seed_source;
	const char *source_model, *source_hook, *source_dataset, *source_cfg;
	int has_source_threshold;
	double source_threshold;
};
int sae_imported_write(const char *path, const struct sae_imported *s, struct hus_err *err);
/* The checkpoint's one reader for everything short of resuming training (analysis, drivers,
 * inspect): the root attributes, and on request (`what`, SAE_READ_* bits) the decoder, the
 * encoder parameters or the training curves; each parameter read is validated against
 * d_model/d_sae and must be finite.  Also reads imported SAEs.  Release with
 * sae_file_release. */
extern const char *const sae_ckpt_hist_names[SAE_CKPT_NHIST]; /* /metrics/<name>, hist order */
enum { SAE_READ_DECODER = 1, SAE_READ_ENCODER = 2, SAE_READ_CURVES = 4 };
struct sae_file {
	size_t d_model, d_sae;
	int64_t seed, k, step, epoch;   /* k, step, epoch: -1 when not recorded */
	char architecture[32], condition[128], control[32], kind[16];
	char source_format[64];         /* an imported SAE's source layout ("" for husai-trained) */
	int have_final;
	double final[6];                /* sae_ckpt_final_names order, when have_final */
	float *W_dec;                   /* [d_model, d_sae] as stored: SAE_READ_DECODER */
	float *W_enc, *b_enc;           /* [d_sae, d_model], [d_sae]: SAE_READ_ENCODER */
	float *b_dec, *threshold;       /* [d_model], [d_sae] when stored: SAE_READ_ENCODER */
	double *hist[SAE_CKPT_NHIST];   /* SAE_READ_CURVES: /metrics/<hist name> when present */
	size_t hist_n[SAE_CKPT_NHIST];
};
int sae_file_read(const char *path, unsigned what, struct sae_file *m, struct hus_err *err);
void sae_file_release(struct sae_file *m);

/* The activation matrix of a husai.activation_set (what the SAE trainer needs of it), with the
 * file's sha256: acts_read's validation (a file that is not one, a NaN/Inf row named), then
 * only X is kept.  X is malloc'ed (N, d). */
int sae_acts_load(const char *path, float **X, size_t *N, size_t *d, char sha256[65],
                  struct hus_err *err);

/* == end SAE == */



/* == analysis artifacts (formats/artifact_analysis.c) == */

/*
 * husai.analysis, version 1 (docs/decisions.md §10).  Layout:
 *   /pairs/<group>/{seed_a, seed_b} int64 [n], /pairs/<group>/<metric> float64 [n]
 *       (pwmcc, r_a, r_b, and whatever metrics the analysis adds, one value per pair);
 *   /controls/<group>/<kind>/... the same columns for a sampled control (kind r1, r2);
 *   /per_feature/<group>/<seed>/stability float32 [d_sae];
 *   /matching/<group>/<seed_a>_<seed_b>/{perm int32, sim float32} [d_sae of seed_a]
 *       (absolute-cosine Hungarian matching; signed_perm, signed_sim for Song et al.'s);
 *   root attributes: groups (comma list), control_kinds, bootstrap_B, bootstrap seeds.
 * Group names are [A-Za-z0-9_.-]+ so that they are safe as HDF5 path components.
 */
#define ANALYSIS_FORMAT HUS_FORMAT_ANALYSIS
#define ANALYSIS_VERSION 1
#define ANA_MAX_COLS 24
struct ana_pairs {
	size_t n;                         /* pairs */
	int64_t *seed_a, *seed_b;         /* (n) */
	size_t ncols;                     /* named float64 columns, pwmcc first */
	char col_name[ANA_MAX_COLS][48];
	double *col[ANA_MAX_COLS];        /* (n) each */
};
int ana_group_name_ok(const char *name); /* 1 if usable as a group name */
int ana_open(struct h5w **w, const char *path, const struct hus_provenance *prov,
             struct hus_err *err);
/* Describe every dataset (the analysis's dataset table, h5w_describe_all), then h5w_commit.
 * Frees w whatever happens; on error nothing is left at the path. */
int ana_commit(struct h5w *w, struct hus_err *err);
/* prefix: "/pairs/<group>" or "/controls/<group>/<kind>" */
int ana_write_pairs(struct h5w *w, const char *prefix, const struct ana_pairs *p,
                    struct hus_err *err);
int ana_write_per_feature(struct h5w *w, const char *group, int64_t seed, const float *stab,
                          size_t m, struct hus_err *err);
int ana_write_matching(struct h5w *w, const char *group, int64_t seed_a, int64_t seed_b,
                       const char *kind /* "" or "signed_" */, const int32_t *perm,
                       const float *sim, size_t m, struct hus_err *err);
/* Read back the pair table at prefix: seeds and every float64 column found in `names`
 * (NULL-terminated; absent columns are an error).  Release with ana_pairs_release. */
int ana_read_pairs(struct h5r *r, const char *prefix, const char *const *names,
                   struct ana_pairs *p, struct hus_err *err);
void ana_pairs_release(struct ana_pairs *p);
int ana_read_per_feature(struct h5r *r, const char *group, int64_t seed, float **stab,
                         size_t *m, struct hus_err *err);
/* The matching of seed_a's latents to seed_b's that ana_write_matching stored (kind "" for |cos|,
 * "signed_"): *perm (malloc'ed, *m entries); a missing matching is a named error. */
int ana_read_matching(struct h5r *r, const char *group, int64_t seed_a, int64_t seed_b,
                      const char *kind, int32_t **perm, size_t *m, struct hus_err *err);

/* == end analysis == */



/* == import: formats/import/import.h (husai_formats_import) == */
#include "import/import.h"


#endif
