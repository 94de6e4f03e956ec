/*
 * artifact_analysis.h — husai.analysis files (formats/artifact_analysis.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_ARTIFACT_ANALYSIS_H
#define HUSAI_FORMATS_ARTIFACT_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "h5.h"

/* == analysis artifacts (formats/artifact_analysis.c) == */

/*
 * husai.analysis, version 1 (docs/decisions.md §10).  Layout:
 *   /pairs/<group>/{seed_a, seed_b} int64 [n], /pairs/<group>/<metric> float64 [n]
 *       (pwmcc, r_a, r_b, and whatever metrics the analysis adds, one value per pair);
 *   /controls/<group>/<kind>/... the same columns for a sampled control (kind r1, r2);
 *   /per_feature/<group>/<seed>/stability float32 [d_sae];
 *   /matching/<group>/<seed_a>_<seed_b>/{perm int32, sim float32} [d_sae of seed_a]
 *       (absolute-cosine Hungarian matching; signed_perm, signed_sim for Song et al.'s);
 *   root attributes: groups (comma list), control_kinds, bootstrap_B, bootstrap seeds.
 * Group names are [A-Za-z0-9_.-]+ so that they are safe as HDF5 path components.
 */
#define ANALYSIS_FORMAT HUS_FORMAT_ANALYSIS
#define ANALYSIS_VERSION 1
#define ANA_MAX_COLS 24
struct ana_pairs {
	size_t n;                         /* pairs */
	int64_t *seed_a, *seed_b;         /* (n) */
	size_t ncols;                     /* named float64 columns, pwmcc first */
	char col_name[ANA_MAX_COLS][48];
	double *col[ANA_MAX_COLS];        /* (n) each */
};
int ana_group_name_ok(const char *name); /* 1 if usable as a group name */
int ana_open(struct h5w **w, const char *path, const struct hus_provenance *prov,
             struct hus_err *err);
/* Describe every dataset (the analysis's dataset table, h5w_describe_all), then h5w_commit.
 * Frees w whatever happens; on error nothing is left at the path. */
int ana_commit(struct h5w *w, struct hus_err *err);
/* prefix: "/pairs/<group>" or "/controls/<group>/<kind>" */
int ana_write_pairs(struct h5w *w, const char *prefix, const struct ana_pairs *p,
                    struct hus_err *err);
int ana_write_per_feature(struct h5w *w, const char *group, int64_t seed, const float *stab,
                          size_t m, struct hus_err *err);
int ana_write_matching(struct h5w *w, const char *group, int64_t seed_a, int64_t seed_b,
                       const char *kind /* "" or "signed_" */, const int32_t *perm,
                       const float *sim, size_t m, struct hus_err *err);
/* Read back the pair table at prefix: seeds and every float64 column found in `names`
 * (NULL-terminated; absent columns are an error).  Release with ana_pairs_release. */
int ana_read_pairs(struct h5r *r, const char *prefix, const char *const *names,
                   struct ana_pairs *p, struct hus_err *err);
void ana_pairs_release(struct ana_pairs *p);
int ana_read_per_feature(struct h5r *r, const char *group, int64_t seed, float **stab,
                         size_t *m, struct hus_err *err);
/* The matching of seed_a's latents to seed_b's that ana_write_matching stored (kind "" for |cos|,
 * "signed_"): *perm (malloc'ed, *m entries); a missing matching is a named error. */
int ana_read_matching(struct h5r *r, const char *group, int64_t seed_a, int64_t seed_b,
                      const char *kind, int32_t **perm, size_t *m, struct hus_err *err);

/* == end analysis == */

#endif
