/*
 * config.h — YAML configs: typed getters, --set overrides, unknown-key detection, the resolved
 * config and its hash (formats/config.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_CONFIG_H
#define HUSAI_FORMATS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

/* ---------------------------------------------------------------- YAML configs ------ */

/*
 * A config is a YAML mapping tree.  Stages read it through typed getters with defaults, by
 * dotted key ("sae.k").  Every getter marks the key as used; cfg_finish() then rejects any
 * key that no getter asked for, with a "did you mean" hint.  The resolved config (every key
 * read, with its final value, defaults included) is what artifacts record, and the config
 * hash is the sha256 of its scientific part (keys read with cfg_path are excluded: paths and
 * output locations never enter it) plus the sha256 of every input file registered.
 *
 *   struct cfg *c;
 *   if (cfg_load(&c, "configs/demo.yaml", &err)) ...
 *   cfg_set(c, "sae.k=16", &err);                      // --set overrides
 *   int64_t k; cfg_int(c, "sae.k", 32, 1, 1 << 20, &k, &err);
 *   double lr; cfg_f64(c, "sae.lr", 3e-4, &lr, &err);  // accepts 3e-4, 0.0003, 1e-3
 *   cfg_finish(c, &err);                               // unknown keys -> error
 */
struct cfg;
int cfg_load(struct cfg **c, const char *path, struct hus_err *err);
int cfg_load_string(struct cfg **c, const char *text, const char *name, struct hus_err *err);
struct cfg *cfg_empty(const char *name);
void cfg_free(struct cfg *c);
const char *cfg_name(const struct cfg *c);
/* Override "a.b.c=value"; creates the key if absent.  Recorded in the resolved config. */
int cfg_set(struct cfg *c, const char *assignment, struct hus_err *err);
/* Typed puts for configs built by code (job configs): the key is created if absent, the
 * value formatted so it reads back exactly; cfg_put_map makes an empty section (or keeps an
 * existing one).  Never build YAML as text. */
int cfg_put_int(struct cfg *c, const char *key, int64_t v, struct hus_err *err);
int cfg_put_f64(struct cfg *c, const char *key, double v, struct hus_err *err);
int cfg_put_str(struct cfg *c, const char *key, const char *v, struct hus_err *err);
int cfg_put_map(struct cfg *c, const char *key, struct hus_err *err);
int cfg_has(struct cfg *c, const char *key);
/* Where a key's value was given: "line:col" in the file, or "--set <key>"; -1 if absent. */
int cfg_where(struct cfg *c, const char *key, char *buf, size_t len);
int cfg_int(struct cfg *c, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out,
            struct hus_err *err);
/* A finite number (.inf and .nan are refused, naming the key and its line:column). */
int cfg_f64(struct cfg *c, const char *key, double def, double *out, struct hus_err *err);
/* The same, within lo..hi: an open end when lo_open / hi_open (hi may be INFINITY). */
int cfg_f64_in(struct cfg *c, const char *key, double def, double lo, int lo_open, double hi,
               int hi_open, double *out, struct hus_err *err);
int cfg_bool(struct cfg *c, const char *key, int def, int *out, struct hus_err *err);
/* String; if `choices` is non-NULL (NULL-terminated), the value must be one of them.
 * The returned pointer lives as long as c. */
int cfg_str(struct cfg *c, const char *key, const char *def, const char *const *choices,
            const char **out, struct hus_err *err);
/* A path or output location: read like cfg_str but excluded from the config hash. */
int cfg_path(struct cfg *c, const char *key, const char *def, const char **out,
             struct hus_err *err);
/* Lists, as YAML sequences or "1,2,3" strings.  *out is malloc'ed; def used when absent. */
int cfg_int_list(struct cfg *c, const char *key, const int64_t *def, size_t ndef, int64_t **out,
                 size_t *n, struct hus_err *err);
int cfg_f64_list(struct cfg *c, const char *key, const double *def, size_t ndef, double **out,
                 size_t *n, struct hus_err *err);
/* Keys directly under a mapping (e.g. the conditions of a sweep), in file order. */
int cfg_keys(struct cfg *c, const char *key, char ***names, size_t *n, struct hus_err *err);
/* Register an input file: its sha256 enters the config hash under `role`. */
int cfg_add_input(struct cfg *c, const char *role, const char *path, struct hus_err *err);
/* Reject unread keys (error names file:line:column and suggests the nearest known key). */
int cfg_finish(struct cfg *c, struct hus_err *err);
/* The resolved config as canonical YAML (sorted keys, every key read).  Caller frees. */
char *cfg_resolved_yaml(struct cfg *c);
/* sha256 hex of the canonical scientific serialisation + input checksums. */
void cfg_hash(struct cfg *c, char hex[65]);
/* The named top-level sections as written (overrides applied), as YAML text every getter
 * reads back identically; marks them used.  For handing one stage its part of an experiment
 * config.  Caller frees. */
char *cfg_sections_yaml(struct cfg *c, const char *const *sections);

#endif
