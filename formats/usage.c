/*
 * usage.c — printing a verb's usage text, kept as a NULL-terminated array of lines beside its
 * option table (git's usage arrays): `--help` prints it to stdout, misuse to stderr.
 */
#include <stdio.h>

#include "formats.h"

void hus_print_lines(FILE *out, const char *const *lines)
{
	for (const char *const *l = lines; *l; l++)
		fprintf(out, "%s\n", *l);
}
