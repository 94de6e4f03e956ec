/*
 * test_fuzz_replay.c — replays every file of the committed fuzz corpus (tests/fuzz/corpus/
 * <target>/, seeds and every crash ever found) through its reader, looking only for crashes,
 * sanitizer reports, leaks (SQLite's fuzzcheck) and hangs (an alarm per target: a reader that
 * waits on a FIFO or reads /dev/zero fails the test).  Also feeds each reader a few hostile
 * inputs built here: empty, one byte, a truncated HDF5 superblock.  The rundir corpus holds
 * whole run directories (fuzz_rundir: manifest, results.json, done records, special files),
 * the h5 corpus every hostile HDF5 file (external and soft links, VDS, external storage).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"
#include "fuzz/fuzz_targets.h"

static void test_replay_corpus(void **state)
{
	(void)state;
	size_t files = 0;
	for (size_t t = 0; t < fuzz_ntargets; t++) {
		char dir[1024];
		snprintf(dir, sizeof(dir), "%s/%s", HUSAI_CORPUS, fuzz_targets[t].name);
		DIR *d = opendir(dir);
		if (!d)
			fail_msg("missing corpus directory %s", dir);
		alarm(600); /* a hang is a failure (SIGALRM ends the test) */
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char path[2048];
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			char *buf;
			size_t n;
			if (hus_read_file(path, &buf, &n, NULL))
				continue;
			fuzz_targets[t].fn((const uint8_t *)buf, n);
			free(buf);
			files++;
		}
		closedir(d);
		alarm(0);
	}
	assert_true(files >= 6);
}

static void test_hostile_inputs(void **state)
{
	(void)state;
	static const uint8_t one[1] = { 0x89 };
	static const uint8_t sig[16] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0, 0, 0, 0, 0 };
	for (size_t t = 0; t < fuzz_ntargets; t++) {
		fuzz_targets[t].fn(one, 0);
		fuzz_targets[t].fn(one, 1);
		fuzz_targets[t].fn(sig, sizeof(sig));
	}
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_corpus),
		cmocka_unit_test(test_hostile_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
