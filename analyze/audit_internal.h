/*
 * audit_internal.h — private to analyze/: the pieces `husai audit --recompute`'s two halves
 * (audit_recompute.c: the analyses; audit_aggregate.c: the run's own outputs) share.
 */
#ifndef HUSAI_AUDIT_INTERNAL_H
#define HUSAI_AUDIT_INTERNAL_H

#include "analyze.h"

/* Run this husai executable with args (verb first, NULL-terminated) and wait: stdout to /dev/null
 * (log NULL, stderr kept) or stdout and stderr to the file log.  *code: its exit status, or
 * 128 + the signal that ended it.  Nonzero only when it could not be started. */
int audit_run_husai(char *const *args, const char *log, int *code, struct hus_err *err);
/* rm -rf dir; 0 when it is gone. */
int audit_remove_tree(const char *dir);
/* The same bytes; for HDF5 (hdf5 = 1) the same dataset checksums (attributes may differ). */
int audit_same_file(const char *a, const char *b, int hdf5);

#endif
