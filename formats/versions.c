/*
 * versions.c — provenance every artifact carries: husai's version, the git commit it was
 * built from, library versions, and UTC timestamps.
 */
#include <cairo.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "formats.h"

#include "git_commit.h" /* generated at build time: HUSAI_GIT_COMMIT */

const char *hus_version(void) { return HUSAI_VERSION; }

const char *hus_git_commit(void)
{
	/* 40 hex digits or "unknown"; anything else (a dirty describe) is reported as is */
	return HUSAI_GIT_COMMIT;
}

const char *hus_library_version(const char *name)
{
	static char hdf5[32];
	if (!strcmp(name, "hdf5")) {
		unsigned maj, min, rel;
		H5get_libversion(&maj, &min, &rel);
		snprintf(hdf5, sizeof(hdf5), "%u.%u.%u", maj, min, rel);
		return hdf5;
	}
	if (!strcmp(name, "gsl"))
		return gsl_version;
	if (!strcmp(name, "cairo"))
		return cairo_version_string();
	if (!strcmp(name, "libyaml"))
		return yaml_get_version_string();
	if (!strcmp(name, "jansson"))
		return jansson_version_str();
	if (!strcmp(name, "numeric"))
		return hus_numeric_path(); /* husai's own numeric core (numeric/) and its ISA path */
	return "unknown";
}

void hus_library_versions(char *buf, size_t n)
{
	snprintf(buf, n, "HDF5 %s\nGSL %s\ncairo %s\nlibyaml %s\njansson %s\nnumeric core %s\n",
		 hus_library_version("hdf5"), hus_library_version("gsl"),
		 hus_library_version("cairo"), hus_library_version("libyaml"),
		 hus_library_version("jansson"), hus_library_version("numeric"));
}

void hus_utc_now(char buf[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

double hus_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}
