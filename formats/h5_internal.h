/*
 * h5_internal.h — what the HDF5 reader (h5.c) and its crash guard (h5guard.c) share inside
 * formats/ (not part of the formats API).
 */
#ifndef HUSAI_H5_INTERNAL_H
#define HUSAI_H5_INTERNAL_H

#include <hdf5.h>
#include <stddef.h>
#include <sys/types.h>

#include "formats.h"

/* The guard's walk, run in the validator process: open the file (or the image `image` of `n`
 * bytes, named `path`), check the root attributes and read every object, attribute and
 * dataset once (h5r_describe), close everything.  Returns H5G_WALK_OK, H5G_WALK_INVALID (the
 * caller reports the precise error itself, its calls taking the same paths), or
 * H5G_WALK_UNWALKABLE with libhdf5's reason in `why` (the caller must refuse the file); a
 * libhdf5 crash ends the process. */
enum { H5G_WALK_OK = 0, H5G_WALK_INVALID = 10, H5G_WALK_UNWALKABLE = 11 };
int h5_guard_walk(const char *path, const void *image, size_t n, const char *format,
                  int max_version, char *why, size_t whylen);

/* How many objects (files, groups, datasets, attributes, types, spaces) libhdf5 holds open. */
long h5_guard_open_objects(void);

/* Walk the file in the validator process (h5guard.c) before the caller opens it in-process:
 * 0 to go on (valid, or invalid in a way the caller will report), or a HUS_EINPUT error
 * naming `path` when libhdf5 crashed on it.  HUSAI_H5_NO_GUARD=1 turns the guard off. */
int h5_guard(const char *path, const void *image, size_t n, const char *format,
             int max_version, struct hus_err *err);

/* The running validator's pid (0: none yet, or it died), and ending it (the next open forks a
 * fresh one, which also sees the environment as it is now); for tests. */
pid_t h5_guard_pid(void);
void h5_guard_stop(void);

/* The access property lists every reader's name lookups and dataset opens go through (h5.c):
 * external-link traversal refused by callback, at most one soft link, external raw-data and
 * VDS source prefixes in a directory that does not exist.  Owned by h5.c; for tests. */
hid_t h5_read_lapl(void);
hid_t h5_read_dapl(void);

#endif
