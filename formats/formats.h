/*
 * formats.h — the public face of formats/, which owns every byte husai reads or writes:
 * the shared error record, atomic file writes, SHA-256, HDF5 artifacts (typed n-d datasets
 * and attributes, with validation on read), YAML configs (typed getters, line:column errors,
 * unknown-key detection, --set overrides, the canonical config hash), JSON (jansson behind a
 * thin API), CSV, run manifests, terminal progress, and the torch-compatible generators that
 * make archived upstream numbers reproducible (MT19937, randperm, randn).
 *
 * No other folder includes hdf5.h, yaml.h or jansson.h.  Every function that can fail takes a
 * `struct hus_err *err` last, returns 0 on success or a negative HUS_E* code, fills `err`, and
 * leaves its outputs untouched on failure.  Nothing here exits or aborts.
 *
 * This is an umbrella: each concept has its own header in this folder (and the foreign files
 * theirs in formats/import/), included below in order; users include formats.h.
 */
#ifndef HUSAI_FORMATS_H
#define HUSAI_FORMATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "numeric.h" /* the deterministic numeric core and torch's generator (numeric/) */
#include "cli.h"     /* the verbs' option parser, --set, usage (cli.c) */

struct json_t; /* jansson's value type; callers never see its definition */

#include "errors.h" /* the error record (errors.c) */
#include "atomic.h" /* atomic writes, reads, walks (atomic.c, walk.c) */
#include "sha256.h" /* SHA-256 (sha256.c) */
#include "provenance.h" /* versions and commit (versions.c) */
#include "h5.h" /* HDF5 artifacts (h5.c, h5guard.c, inspect.c) */
#include "config.h" /* YAML configs (config.c) */
#include "json.h" /* JSON (json.c) */
#include "results_schema.h" /* results.json keys report/ reads, and their check (results_schema.c) */
#include "csv.h" /* CSV (csv.c) */
#include "manifest.h" /* manifests and their audit (manifest.c) */
#include "run_layout.h" /* run directory layout (run_layout.c) */
#include "progress.h" /* progress line (progress.c) */

/* ---------------------------------------------------------------- artifact schemas -- */
/* Each artifact kind's typed reader/writer (docs/decisions.md §10) lives in its own formats/ file and
 * declares itself in the section below named for it. */
#include "artifact_transformer.h" /* activation sets, transformer checkpoints */
#include "artifact_sae.h" /* SAE checkpoints (artifact_sae.c) */
#include "artifact_analysis.h" /* analysis artifacts (artifact_analysis.c) */
#include "artifact_pair_cache.h" /* one pair's product results (artifact_pair_cache.c) */

/* == import: formats/import/import.h (husai_formats_import) == */
#include "import/import.h"

#endif
