/*
 * cmd_inspect.c — `husai inspect`: print an artifact's attributes and datasets with shapes and
 * element types, reading every dataset once so a truncated or corrupt file is caught; exit 0
 * when every file is a valid husai artifact, 1 otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "formats.h"

static const char *const inspect_usage[] = {
	"usage: husai inspect [--checksums] <file.h5>...",
	"",
	"Show and validate husai HDF5 artifacts: format name and version, provenance attributes,",
	"every dataset's path, element type and shape.  Every dataset is read once, so a",
	"truncated file is reported; a known husai format is also read by the stage's own reader",
	"(version, shapes, finite values).  Exit status 0 if all files are valid, 1 otherwise.",
	"",
	"    --checksums    also print the sha256 of every dataset's values, to compare runs",
	"                   bit for bit (timestamps live in attributes, not datasets)",
	NULL,
};

static void usage(FILE *out) { hus_print_lines(out, inspect_usage); }

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
	return 0; /* another format (tests, imports of other kinds): the generic checks only */
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { "checksums", no_argument, NULL, 'c' },
					      { 0, 0, 0, 0 } };
	int c, checksums = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'c') {
			checksums = 1;
			continue;
		}
		usage(stderr);
		return 2;
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	int status = 0;
	for (int i = optind; i < argc; i++) {
		struct hus_err err = { 0 };
		struct h5r *r = NULL;
		if (h5r_open(&r, argv[i], NULL, 0, &err)) {
			hus_err_print(&err);
			status = 1;
			continue;
		}
		char *format = NULL;
		if (h5r_describe_ex(r, stdout, checksums, &err)) {
			hus_err_print(&err);
			status = 1;
		} else if (!h5r_attr_str(r, "/", "husai_format", &format, &err) &&
		           typed_check(argv[i], format, &err)) {
			hus_err_print(&err);
			status = 1;
		}
		free(format);
		h5r_close(r);
	}
	return status;
}
