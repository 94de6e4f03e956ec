/*
 * cmd_report.c — `husai report`.  Placeholder until its issue lands: says so and fails.
 */
#include <stdio.h>
#include <string.h>

#include "builtin.h"

int cmd_report(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: husai report [<options>]\n\n(not implemented yet)\n");
		return 0;
	}
	if (argc > 1 && argv[1][0] == '-')
		return 2;
	fprintf(stderr, "husai: 'report' is not implemented yet\n");
	return 1;
}
