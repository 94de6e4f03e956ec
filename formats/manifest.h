/*
 * manifest.h — run manifests (manifest.json) and their audit (formats/manifest.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_MANIFEST_H
#define HUSAI_FORMATS_MANIFEST_H

#include <stddef.h>
#include <stdio.h>

#include "errors.h"
#include "json.h"

/* ---------------------------------------------------------------- manifests --------- */

/*
 * manifest.json in a run directory: run_metadata (timestamp_utc, git_commit, command,
 * config_hash, husai_version), versions, rng, config_hash_fields, inputs [{path, sha256,
 * bytes}], artifacts [{path, sha256, bytes}] with paths relative to the run directory.
 */
struct manifest;
struct manifest *manifest_new(const char *run_dir);
void manifest_free(struct manifest *m);
int manifest_add_input(struct manifest *m, const char *path, struct hus_err *err);
int manifest_add_artifact(struct manifest *m, const char *path, struct hus_err *err);
/* An input read from outside the run (activation set, transformer, imported SAE checkpoint),
 * with a `role` saying what it was; a file already listed is not listed again. */
int manifest_add_input_role(struct manifest *m, const char *path, const char *role,
                            struct hus_err *err);
void manifest_set(struct manifest *m, const char *key, hj *val); /* extra top-level key */
int manifest_write(struct manifest *m, const char *command, const char *config_hash,
                   struct hus_err *err);

struct audit_report {
	size_t checked, missing, changed, unlisted;
	size_t refused; /* listed or present but not a regular file inside the run (never read) */
	size_t outside; /* inputs listed outside the run directory (not read) */
	size_t inputs_checked; /* of `checked`: inputs outside the run, read (manifest_audit_ex) */
};
/* Recompute every sha256 in RUN_DIR/manifest.json; list problems on `out` (may be NULL).
 * Returns 0 if all match, HUS_EMISMATCH otherwise (err says what), other codes on bad input.
 * Reads only regular files inside RUN_DIR: a listed path that is absolute or has a `..`
 * component is an error for an artifact, and an input outside the run (not read, listed as
 * "outside"); a listed symbolic link (also in a directory component), FIFO, socket or device
 * is refused unread; every symbolic link or special file in the run counts as refused. */
int manifest_audit(const char *run_dir, FILE *out, struct audit_report *rep, struct hus_err *err);
/* The same; with `outside` set, the inputs outside the run directory are read too (each a
 * regular file, opened without blocking; a FIFO or device is refused unread) and their sha256
 * compared: a missing or changed input fails the audit like an artifact. */
int manifest_audit_ex(const char *run_dir, FILE *out, struct audit_report *rep, int outside,
                      struct hus_err *err);

#endif
