/*
 * planted.h — planted-feature activation sets and `husai plant` (train/planted.c,
 * train/plant_run.c).
 * It is part of train.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_TRAIN_PLANTED_H
#define HUSAI_TRAIN_PLANTED_H

#include <stddef.h>
#include <stdint.h>

#include "formats.h"

/* == planted-feature activation sets (planted.c, docs/formulas.md §10) == */
struct planted_spec {
	int64_t n, d, rows, seed;       /* features, width, rows, seed of every stream */
	double max_abs_cos;             /* redraw directions closer than this (1: never) */
	const char *freq_law;           /* zipf or uniform */
	double zipf_exponent, l0;       /* w_i = (i+1)^-a; expected active root features per row */
	int64_t parents, children;      /* features [0, P) are parents, each with C children */
	double child_prob;              /* P(child fires | parent fires) */
	int64_t groups, group_size;     /* correlated groups after the hierarchy */
	double rho;                     /* P(member uses its group's shared draw) */
	const char *mag_law;            /* lognormal (mu, sigma), uniform (low, high), constant */
	double mag_a, mag_b;
	double noise_std;               /* dense Gaussian noise per element */
};
/* Read the `plant:` section (keys and defaults in docs/formulas.md §10). */
int planted_spec_read(struct cfg *c, struct planted_spec *s, struct hus_err *err);
void planted_describe(const struct planted_spec *s, char *buf, size_t n);
/* Draw the set and write it to `out` (atomically, streamed). */
int planted_generate(const char *out, const struct planted_spec *s,
                     const struct hus_provenance *prov, struct hus_err *err);

/* `husai plant` (train/plant_run.c; the verb only parses into this). */
struct plant_request {
	const char *out;          /* the activation set written */
	const char *config;       /* a YAML file whose `plant:` section is read, or NULL */
	struct hus_sets sets;     /* --set overrides, applied in order after loading */
};
/* Read the settings (every other section of a run's job config is left alone), record the
 * plant section as the set's config and write the set; *s: the settings, for the caller's
 * line. */
int plant_run(const struct plant_request *q, struct planted_spec *s, struct hus_err *err);

#endif
