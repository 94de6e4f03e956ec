/*
 * inspect.c — the work of `husai inspect` on one file (hus_inspect_file in formats.h; the verb,
 * cmd_inspect.c, only parses the command line and calls it per file): print an artifact's
 * attributes and datasets with shapes and element types, reading every dataset once so a
 * truncated or corrupt file is caught, then read a known husai format with its stage's reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

/* A known husai format is also read by its typed reader, so inspect accepts exactly what the
 * stages accept (format version, shapes, finite values, non-empty rows): it exited 0 on files
 * those readers refuse (RELIABILITY.md, "Untrusted archives"). */
static int typed_check(const char *path, const char *format, struct hus_err *err)
{
	if (!strcmp(format, HUS_FORMAT_SAE)) {
		struct h5r *r = NULL;
		char *kind = NULL;
		int imported = 0;
		if (!h5r_open(&r, path, NULL, 0, NULL)) {
			imported = h5r_has_attr(r, "/", "kind") &&
			           !h5r_attr_str(r, "/", "kind", &kind, NULL) && !strcmp(kind, "imported");
			free(kind);
			h5r_close(r);
		}
		if (imported)
			return sae_imported_check(path, err);
		struct sae_ckpt c;
		memset(&c, 0, sizeof(c));
		int rc = sae_ckpt_read(path, &c, err);
		if (!rc)
			sae_ckpt_release(&c);
		return rc;
	}
	if (!strcmp(format, HUS_FORMAT_ACTIVATIONS)) {
		struct acts_set a;
		memset(&a, 0, sizeof(a));
		int rc = acts_read(path, &a, err);
		if (!rc)
			acts_release(&a);
		return rc;
	}
	if (!strcmp(format, HUS_FORMAT_TRANSFORMER)) {
		struct tfck ck;
		memset(&ck, 0, sizeof(ck));
		int rc = tfck_read(path, &ck, err);
		if (!rc)
			tfck_release(&ck);
		return rc;
	}
	if (!strcmp(format, ANALYSIS_FORMAT)) {
		struct h5r *r = NULL;
		int rc = h5r_open(&r, path, ANALYSIS_FORMAT, ANALYSIS_VERSION, err);
		h5r_close(r);
		return rc;
	}
	if (!strcmp(format, PAIR_CACHE_FORMAT)) { /* the key is checked by the analysis reading it */
		struct h5r *r = NULL;
		int rc = h5r_open(&r, path, PAIR_CACHE_FORMAT, PAIR_CACHE_VERSION, err);
		h5r_close(r);
		return rc;
	}
	return 0; /* another format (tests, imports of other kinds): the generic checks only */
}

int hus_inspect_file(const char *path, int checksums, FILE *out, struct hus_err *err)
{
	struct h5r *r = NULL;
	int rc = h5r_open(&r, path, NULL, 0, err);
	if (rc)
		return rc;
	char *format = NULL;
	/* h5r_open checked the format attribute; should it not read here, the generic checks
	 * stand alone */
	if (!(rc = h5r_describe_ex(r, out, checksums, err)) &&
	    !h5r_attr_str(r, "/", "husai_format", &format, NULL))
		rc = typed_check(path, format, err);
	free(format);
	h5r_close(r);
	return rc;
}
