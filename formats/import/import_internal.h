/*
 * import_internal.h — what the import readers share inside formats/import/ (not part of the formats
 * API): the accepted pickle globals, a tensor's view of its storage, the pickle document,
 * the pickle VM entry point used by the zip container reader, and the transformer mapping
 * called by imp_file.
 */
#ifndef HUSAI_IMPORT_INTERNAL_H
#define HUSAI_IMPORT_INTERNAL_H

#include "formats.h"

enum { G_ODICT, G_REBUILD, G_FLOAT, G_HALF, G_BF16, G_BOOL, G_INT, G_LONG, PT_NGLOBALS };
struct pt_global {
	const char *module, *name;
	int elsize;        /* storages: bytes per element */
	const char *dtype; /* storages: recorded as imp_tensor.dtype */
};
extern const struct pt_global pt_globals[PT_NGLOBALS];

/* a tensor's view of its storage; the public imp_tensor comes first */
struct pt_tensor {
	struct imp_tensor t;
	struct pt_value *storage; /* PT_STORAGE: s = key, i = global id, n = numel */
	uint64_t offset;
	uint64_t stride[H5_MAX_RANK];
};

struct pt_doc {
	struct pt_value **vals; /* arena: every value ever created */
	size_t nvals, capvals;
	struct pt_value *root;
};

/* Run the pickle VM over data.pkl, adding every value to doc's arena; *root is the result.
 * Tensors get shapes and views, not data (torch_zip.c loads them). */
int pt_run_pickle(struct pt_doc *doc, const unsigned char *pkl, size_t n, const char *file,
                  struct pt_value **root, struct hus_err *err);

/* import_transformer.c: an upstream transformer checkpoint dict (docs/formulas.md §2.5) to a
 * husai.transformer_checkpoint at out. */
int imp_transformer_write(const char *out, const struct pt_value *root, const char *src,
                          const char *sha, struct hus_err *err);

#endif
