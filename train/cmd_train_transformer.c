/*
 * cmd_train_transformer.c — `husai train-transformer`.  Placeholder until its issue lands: says so and fails.
 */
#include <stdio.h>
#include <string.h>

#include "builtin.h"

int cmd_train_transformer(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: husai train-transformer [<options>]\n\n(not implemented yet)\n");
		return 0;
	}
	if (argc > 1 && argv[1][0] == '-')
		return 2;
	fprintf(stderr, "husai: 'train-transformer' is not implemented yet\n");
	return 1;
}
