/*
 * artifact_pair_cache.h — husai.pair_cache files (formats/artifact_pair_cache.c): what the
 * analysis needs from the product of one pair of normalised decoders, computed by a pair job
 * and read back by its group's analysis (docs/artifacts.md "Pair cache").
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_ARTIFACT_PAIR_CACHE_H
#define HUSAI_FORMATS_ARTIFACT_PAIR_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "h5.h"

/* == pair cache (formats/artifact_pair_cache.c) == */

/*
 * husai.pair_cache, version 1.  Layout:
 *   /rowmax float32 [m_a], /colmax float32 [m_b]: the row and column maxima of |Âᵀ·B̂|;
 *   /argrow int32 [m_a], /argcol int32 [m_b]: their argmaxes (only when with_argmax is 1);
 *   root attributes: key_a, key_b (hex sha256 of the bytes of each normalised decoder, (m, d)
 *   float32 in memory order), d_model, m_a, m_b, with_argmax, and payload_sha256 (the sha256
 *   of rowmax, colmax[, argrow, argcol] bytes in that order).
 * A reader states the key it expects; any difference, a bad shape, a value out of range, or a
 * payload whose sha256 differs is an error naming the file and the place.
 */
#define PAIR_CACHE_FORMAT HUS_FORMAT_PAIR_CACHE
#define PAIR_CACHE_VERSION 1
struct pair_cache_key {
	char key_a[65], key_b[65];
	size_t d_model, m_a, m_b;
	int with_argmax;
};
/* Write path atomically (NAME.tmp-PID, then rename).  argrow/argcol are read only when
 * k->with_argmax. */
int pair_cache_write(const char *path, const struct pair_cache_key *k, const float *rowmax,
                     const float *colmax, const int32_t *argrow, const int32_t *argcol,
                     struct hus_err *err);
/* Read path into the caller's buffers (m_a, m_b entries; argrow/argcol only when
 * k->with_argmax), validating it against the key the caller expects. */
int pair_cache_read(const char *path, const struct pair_cache_key *k, float *rowmax,
                    float *colmax, int32_t *argrow, int32_t *argcol, struct hus_err *err);

/* == end pair cache == */

#endif
