/*
 * cmd_version.c — `husai version`: husai's version and commit, and the libraries it runs on.
 */
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "formats.h"

static const char *const version_usage[] = {
	"usage: husai version",
	"",
	"Print husai's version, the git commit it was built from, and the versions of HDF5, GSL,",
	"cairo, libyaml, jansson and OpenBLAS it is linked against, and whether it was built with",
	"MPI (husai run under mpirun/srun).",
	NULL,
};

int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		hus_print_lines(stdout, version_usage);
		return 0;
	}
	if (argc > 1) {
		hus_print_lines(stderr, version_usage);
		return 2;
	}
	char libs[1024];
	hus_library_versions(libs, sizeof(libs));
	printf("husai %s (commit %s)\n%smpi: %s\n", hus_version(), hus_git_commit(), libs,
	       HUSAI_MPI_DESC);
	return 0;
}
