/*
 * atomic.h — atomic writes, whole-file reads of regular files only, mkdir -p (formats/atomic.c)
 * and the sorted directory walks (formats/walk.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_ATOMIC_H
#define HUSAI_FORMATS_ATOMIC_H

#include <stddef.h>
#include <stdio.h>

#include "errors.h"

/* ---------------------------------------------------------------- atomic files ------ */

/*
 * Atomic writes.  Invariants:
 *  (1) a file never appears under its final name before it is complete and fsync'ed;
 *  (2) the temporary is NAME.tmp-PID in the same directory, so rename(2) is atomic;
 *  (3) on any failure the temporary is unlinked and the final name is untouched.
 */
struct hus_atomic {
	char final_path[4096];
	char tmp_path[4200];
	FILE *f; /* open on tmp_path while writing (NULL for writers that open it themselves) */
};
int hus_atomic_open(struct hus_atomic *a, const char *path, int open_stdio, struct hus_err *err);
int hus_atomic_commit(struct hus_atomic *a, struct hus_err *err); /* fflush, fsync, rename */
void hus_atomic_abort(struct hus_atomic *a);                     /* close and unlink tmp */
/* fsync an already-closed file by name, then rename it over `final_path`, then fsync the dir */
int hus_fsync_rename(const char *tmp_path, const char *final_path, struct hus_err *err);
/* Write a whole buffer atomically. */
int hus_write_file(const char *path, const void *buf, size_t n, struct hus_err *err);
/* Read a whole file (NUL-terminated copy; *n excludes the NUL).  Caller frees.  Only a regular
 * file (a FIFO, device, socket or directory is refused with an error naming what it is, before
 * anything is read), of at most `max` bytes (checked against its size before any allocation);
 * hus_read_file: at most HUS_READ_MAX. */
#define HUS_READ_MAX ((size_t)16 << 30)
int hus_read_file(const char *path, char **buf, size_t *n, struct hus_err *err);
int hus_read_file_max(const char *path, size_t max, char **buf, size_t *n, struct hus_err *err);
#define CFG_MAX_BYTES ((size_t)1 << 20) /* a YAML config: 1 MiB */
#define HJ_MAX_BYTES ((size_t)256 << 20) /* a JSON file (manifest, results, cfg.json): 256 MiB */
/* open(2) `path` read-only for a regular file only (`flags`: e.g. O_NOFOLLOW): a FIFO is
 * opened without waiting for a writer and refused like a device, socket or directory.  The
 * descriptor (blocking), or the (negative) hus_code of the error filled in `err`; *st if
 * non-NULL. */
struct stat;
int hus_open_regular(const char *path, int flags, struct stat *st, struct hus_err *err);
/* "a FIFO", "a symbolic link", "a character device", ... for an st_mode */
const char *hus_file_kind(unsigned mode);
int hus_mkdirs(const char *path, struct hus_err *err); /* mkdir -p */
/* Call fn(relative path, full path, ctx) for every regular file under root, recursively, in
 * sorted order, without following links; a non-zero return stops the walk and is returned. */
typedef int (*hus_walk_fn)(const char *rel, const char *full, void *ctx);
int hus_walk_files(const char *root, hus_walk_fn fn, void *ctx);
/* The same walk, calling fn for every entry that is neither a regular file nor a directory
 * (symbolic links, FIFOs, sockets, devices; none followed). */
int hus_walk_special(const char *root, hus_walk_fn fn, void *ctx);
/* The immediate subdirectories of dir (links followed) that hold `entry` (a file or directory),
 * as "dir/name" in sorted order; the caller frees each and the list.  HUS_ENOMEM on failure
 * (the list made so far is still returned). */
int hus_subdirs_having(const char *dir, const char *entry, char ***out, size_t *n);
int hus_file_exists(const char *path);
/* 1 for a relative path of plain components ("sae/k8/sae_seed1.h5"): not empty, no leading or
 * trailing '/', no empty, "." or ".." component; such a path stays below the directory it is
 * joined to (symbolic links aside). */
int hus_path_is_below(const char *rel);

#endif
