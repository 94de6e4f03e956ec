/*
 * libfuzzer_main.c — one libFuzzer binary per target: FUZZ_TARGET names the entry point
 * (set by tests/fuzz/CMakeLists.txt).  Library error handlers are tamed once.
 */
#include <stddef.h>
#include <stdint.h>

#include "formats.h"
#include "fuzz_targets.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	hus_libs_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) { return FUZZ_TARGET(data, n); }
