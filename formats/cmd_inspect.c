/*
 * cmd_inspect.c — `husai inspect`: parses the command line and calls hus_inspect_file
 * (inspect.c) on every file, which prints its attributes and datasets and validates it; exit 0
 * when every file is a valid husai artifact, 1 otherwise.
 */
#include <stdio.h>

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


int cmd_inspect(int argc, char **argv)
{
	int checksums = 0;
	const struct hus_opt opts[] = {
		HUS_OPT_FLAG("checksums", 0, &checksums),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "inspect", inspect_usage, opts, 1, -1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	int status = 0;
	for (int i = first; i < argc; i++) {
		struct hus_err err = { 0 };
		if (hus_inspect_file(argv[i], checksums, stdout, &err)) {
			hus_err_print(&err);
			status = 1;
		}
	}
	return status;
}
