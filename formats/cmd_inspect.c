/* cmd_inspect.c — `husai inspect` (being written). */
#include <stdio.h>
#include "builtin.h"
int cmd_inspect(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "husai: 'inspect' is not implemented yet\n");
	return 1;
}
