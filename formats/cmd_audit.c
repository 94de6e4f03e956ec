/* cmd_audit.c — `husai audit` (being written). */
#include <stdio.h>
#include "builtin.h"
int cmd_audit(int argc, char **argv)
{
	(void)argc, (void)argv;
	fprintf(stderr, "husai: 'audit' is not implemented yet\n");
	return 1;
}
