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
	"Print husai's version, the git commit it was built from, the versions of HDF5, GSL,",
	"cairo, libyaml and jansson it is linked against, whether it was built with MPI (husai run",
	"under mpirun/srun), and the numeric path in use: the numeric core's version and the",
	"instruction set its matrix products run on (the best this CPU has, or the one the",
	"environment variable HUSAI_ISA=scalar|avx2|avx512|neon forces).  Every path gives the same",
	"bits; the path is recorded in every artifact.",
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
	printf("husai %s (commit %s)\n%smpi: %s\nisa: %s\n", hus_version(), hus_git_commit(), libs,
	       HUSAI_MPI_DESC, hus_isa_name(hus_isa_current()));
	return 0;
}
