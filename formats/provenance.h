/*
 * provenance.h — husai's version, the build's commit, the libraries' versions and the UTC
 * clock (formats/versions.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_PROVENANCE_H
#define HUSAI_FORMATS_PROVENANCE_H

#include <stddef.h>

/* ---------------------------------------------------------------- provenance -------- */

const char *hus_version(void);    /* husai's own version */
const char *hus_git_commit(void); /* 40-hex commit of the build, or "unknown" */
/* One line per library: "HDF5 1.10.8", "GSL 2.7.1", ... written into buf. */
void hus_library_versions(char *buf, size_t n);
/* Individual versions for attributes: name is hdf5, gsl, cairo, libyaml, jansson, or numeric
 * (the numeric core's path, hus_numeric_path()). */
const char *hus_library_version(const char *name);
void hus_utc_now(char buf[32]); /* ISO-8601 "2026-11-24T05:17:24+00:00" */

#endif
