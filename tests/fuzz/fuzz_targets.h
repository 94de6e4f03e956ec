/*
 * fuzz_targets.h — one entry point per untrusted-input reader.  libFuzzer drives them
 * (tests/fuzz/libfuzzer_main.c, `scripts/fuzz.sh`), and tests/test_fuzz_replay.c replays the
 * committed corpus in every test run.  Each returns 0; a bug shows as a crash, a sanitizer
 * report, or abort() on a broken invariant.
 */
#ifndef HUSAI_FUZZ_TARGETS_H
#define HUSAI_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

int fuzz_config(const uint8_t *data, size_t n); /* YAML config loader and getters */
int fuzz_h5(const uint8_t *data, size_t n);     /* HDF5 artifact reader (file image) */
int fuzz_json(const uint8_t *data, size_t n);   /* JSON reader and path getters */
int fuzz_safetensors(const uint8_t *data, size_t n); /* safetensors reader (husai import) */
int fuzz_pt(const uint8_t *data, size_t n);     /* torch .pt (zip) or a bare data.pkl */
int fuzz_rundir(const uint8_t *data, size_t n); /* a run directory: audit, report, records */

struct fuzz_target {
	const char *name;
	int (*fn)(const uint8_t *data, size_t n);
};
extern const struct fuzz_target fuzz_targets[];
extern const size_t fuzz_ntargets;

#endif
