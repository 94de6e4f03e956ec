/*
 * import.h — the public face of formats/import/ (the library husai_formats_import): the
 * foreign files husai reads and writes.  The readers of safetensors, torch .pt (zip + pickle)
 * and .npy files, the mapping of SAELens / sparsify / dictionary_learning / upstream tensors
 * to husai artifacts (`husai import`, `husai import-activations`), and the way back out
 * (`husai export`, the safetensors writer).  It builds on formats/ (errors, HDF5 artifacts,
 * JSON), which never calls into it; formats.h includes this header, so every user of
 * formats.h sees these declarations as before.
 */
#ifndef HUSAI_FORMATS_IMPORT_H
#define HUSAI_FORMATS_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "formats.h"

/* == import (formats/import/safetensors.c, formats/import/torch_pickle.c,
 *    formats/import/torch_zip.c, formats/import/import_map.c, formats/import/cmd_import.c) == */

/*
 * Foreign files read for `husai import` (issue 9).  Both readers take untrusted bytes from
 * memory, validate every length, offset and shape before touching data, convert F32/F16/BF16
 * to float32 exactly as torch's .float() does, and never execute anything.
 *
 *   struct imp_tensors ts;
 *   if (st_read_buf(&ts, buf, n, "sae.safetensors", &err)) ...   // or st_read_file
 *   const struct imp_tensor *W = imp_find(&ts, "W_dec");
 *   imp_tensors_release(&ts);
 */
struct imp_tensor {
	char name[256];
	char dtype[24];             /* as stored: F32, F16, BF16, or the torch storage (Float, ...) */
	int rank;
	size_t dims[H5_MAX_RANK];
	size_t numel;
	float *data;                /* (numel) row-major float32; NULL for non-float tensors */
	int64_t *ints;              /* (numel) row-major, for integer tensors (Int, Long); else NULL */
};
struct imp_tensors {
	size_t n;
	struct imp_tensor *t;       /* (n), in file order */
};
void imp_tensors_release(struct imp_tensors *ts);
const struct imp_tensor *imp_find(const struct imp_tensors *ts, const char *name);
/* Half / bfloat16 bits to float32, as torch converts (exact; NaN payloads kept). */
float imp_f16_to_f32(uint16_t h);
float imp_bf16_to_f32(uint16_t h);

/* safetensors: 8-byte LE header length, JSON header {name: {dtype, shape, data_offsets}},
 * raw LE data.  Offsets must tile the data area exactly (no overlap, no gap, in range). */
#define ST_MAX_HEADER (100u << 20)
int st_read_buf(struct imp_tensors *out, const void *buf, size_t n, const char *name,
                struct hus_err *err);
int st_read_file(struct imp_tensors *out, const char *path, struct hus_err *err);
/* Write n float32 tensors (data, name, rank, dims, numel used) as a safetensors file, in that
 * order, with an optional "__metadata__" object of strings; atomic (husai export). */
int st_write_file(const char *path, const struct imp_tensor *t, size_t n, hj *metadata,
                  struct hus_err *err);

/* `husai export` (export.c; the verb only parses into this): husai SAE checkpoints in another
 * library's layout, <out>/<name>/ per SAE (<name>: the file name without .h5). */
struct export_request {
	const char *to;           /* "saelens" or "sparsify" */
	const char *out;          /* the output directory (created) */
	const char *hookpoint;    /* sparsify's folder; NULL: the recorded hook if a plain name,
	                           * else "sae" */
	int force;                /* overwrite existing files */
	char *const *saes;        /* the checkpoints, n_saes of them */
	size_t n_saes;
};
/* Read and check every checkpoint (the layout can express it, no two go to one folder,
 * nothing is overwritten without force) before writing any; one line printed per SAE.
 * Two going to one folder is HUS_EUSAGE (status 2). */
int hus_export(const struct export_request *q, struct hus_err *err);
/* 1 when s can be one folder's name (no '/', not "." or "..", under 200 bytes). */
int hus_export_plain_name(const char *s);

/* `husai import-activations` (import_activations.c; the verb only parses into this): a
 * matrix from a .npy, .safetensors, HDF5 or torch .pt file (source "FILE" or "FILE:NAME")
 * converted into a husai activation set at `out`, with the provenance given. */
struct import_acts_request {
	const char *source, *dataset, *model, *hook, *position, *meta, *token_ids, *out;
	int64_t layer;      /* < 0: unknown */
	int64_t chunk_rows; /* rows per block converted; 0: ~8 MiB */
	int force;          /* overwrite `out` */
};
/* On success *m describes the set written (its matrix is not kept). */
int import_activations_run(const struct import_acts_request *q, struct acts_set *m,
                           struct hus_err *err);

/* torch .pt (zip container, pickle protocol 2).  Values form a tree (shared by the pickle
 * memo, so possibly a DAG); a pt_doc owns them all.  Accepted globals:
 * collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.{Float,Half,BFloat16}Storage,
 * torch.{Int,Long}Storage (integer buffers, read into imp_tensor.ints) and torch.BoolStorage
 * (buffers such as attn.mask: shape kept, data not loaded); anything else
 * is refused by name. */
enum pt_kind { PT_NONE, PT_BOOL, PT_INT, PT_FLOAT, PT_STR, PT_LIST, PT_TUPLE, PT_DICT, PT_TENSOR,
               PT_GLOBAL, PT_STORAGE /* the last two only inside the VM and tensor views */ };
struct pt_value {
	enum pt_kind kind;
	int64_t i;                  /* PT_INT, PT_BOOL; PT_GLOBAL: which global */
	double f;                   /* PT_FLOAT */
	char *s;                    /* PT_STR (NUL-terminated, len bytes); PT_STORAGE: its key */
	size_t len;
	size_t n, cap;              /* PT_LIST, PT_TUPLE: n items; PT_DICT: n pairs (2n entries) */
	struct pt_value **items;
	struct imp_tensor *tensor;  /* PT_TENSOR (data loaded by pt_read_buf) */
};
#define PT_MAX_PICKLE (16u << 20)          /* data.pkl absolute cap */
#define PT_MAX_TOTAL ((size_t)8 << 30)     /* all storages together; all tensor outputs together */
struct pt_doc;
/* Read a torch.save zip archive from memory; on error *doc is untouched and err names the
 * entry (or data.pkl:<byte offset>) and what was expected. */
int pt_read_buf(struct pt_doc **doc, const void *buf, size_t n, const char *name,
                struct hus_err *err);
int pt_read_file(struct pt_doc **doc, const char *path, struct hus_err *err);
/* A bare data.pkl, without its archive: tensors keep their shapes, data stay NULL (fuzzing,
 * inspection). */
int pt_read_pickle(struct pt_doc **doc, const void *pkl, size_t n, const char *name,
                   struct hus_err *err);
struct pt_value *pt_root(struct pt_doc *doc);
void pt_free(struct pt_doc *doc);
/* Dict lookup by string key (NULL if absent or not a dict). */
struct pt_value *pt_get(const struct pt_value *dict, const char *key);
/* Copy a dict of tensors (a state dict) into `out`, in order; non-tensor values are an error
 * naming the key.  Data are copied, so `out` outlives the doc. */
int pt_state_dict(struct imp_tensors *out, const struct pt_value *dict, const char *file,
                  const char *where, struct hus_err *err);
/* A pickled value as JSON (dicts with string or int keys, lists, numbers, strings; tensors
 * as {"tensor": [shape]}), depth-limited.  NULL on failure. */
hj *pt_to_json(const struct pt_value *v);

/* Mapping foreign tensors to husai artifacts (docs/decisions.md §10).  `layout` names the source
 * convention; orientation comes from it, never from shapes. */
enum imp_layout { IMP_AUTO, IMP_SAELENS, IMP_SPARSIFY, IMP_UPSTREAM, IMP_DICTLEARN,
                  IMP_USER_MAP };
struct imp_opts {
	enum imp_layout layout;
	const char *map_path;       /* user mapping file (IMP_USER_MAP), JSON */
	const char *cfg_path;       /* cfg.json for safetensors; NULL: the one beside the file */
	const char *condition;      /* recorded as `condition`; NULL: "imported" */
	int64_t seed;               /* recorded as `seed` when >= 0 (overrides cfg) */
	int64_t order_seed;         /* the seed when neither `seed` nor the source's cfg gives one
	                             * (husai import: the file's place in the command; never -1) */
};
/* Import one source file into out_path (an HDF5 artifact written atomically; nothing is
 * left at out_path on error).  *kind receives "sae" or "transformer". */
int imp_file(const char *src, const char *out_path, const struct imp_opts *o, const char **kind,
             struct hus_err *err);

/* == end import == */

#endif
