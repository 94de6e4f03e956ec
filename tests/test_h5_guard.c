/*
 * test_h5_guard.c — the crash guard of the HDF5 reader (formats/h5guard.c): one validator
 * process serves many opens; a crash in it refuses the file with a named error and husai goes
 * on; a crash of a validator that had served earlier files is retried in a fresh one; the
 * validator keeps none of the caller's descriptors open; a file libhdf5 cannot walk is refused
 * at the open; and the libhdf5 findings (inputs that crash HDF5 1.10.8 itself) end in a clean
 * error, in-process too (the ASan build checks that nothing is read out of bounds).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats.h"
#include "h5_internal.h"

static char dir[256], good[300];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/husai_test_h5_guard_%d", (int)getpid());
	snprintf(good, sizeof(good), "%s/good.h5", dir);
	struct hus_err err = { 0 };
	struct h5w *w;
	if (hus_mkdirs(dir, &err) || h5w_open(&w, good, "husai.test", 1, NULL, &err))
		return -1;
	float f[3] = { 1, 2, 3 };
	size_t d[1] = { 3 };
	if (h5w_f32(w, "/x", f, 1, d, &err) || h5w_attr_i64(w, "/", "k", 7, &err) ||
	    h5w_commit(w, &err))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h5_guard_stop();
	unlink(good);
	rmdir(dir);
	return 0;
}

/* Gone: no such process, or a zombie waiting for a reaper (a container's pid 1 may not reap). */
static int process_gone(pid_t pid)
{
	char p[64], buf[256] = "";
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *close_paren = strrchr(buf, ')');
	return close_paren && (close_paren[2] == 'Z' || close_paren[2] == 'X');
}

static int open_good(struct hus_err *err)
{
	struct h5r *r = NULL;
	int rc = h5r_open(&r, good, "husai.test", 1, err);
	if (!rc) {
		int64_t k = 0;
		rc = h5r_attr_i64(r, "/", "k", &k, err);
		if (!rc && k != 7)
			rc = -1;
		h5r_close(r);
	}
	return rc;
}

static void test_one_validator_serves_many_opens(void **state)
{
	(void)state;
	h5_guard_stop();
	struct hus_err err = { 0 };
	assert_int_equal(open_good(&err), 0);
	pid_t pid = h5_guard_pid();
	assert_true(pid > 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(open_good(&err), 0);
	assert_int_equal(h5_guard_pid(), pid);
	assert_int_equal(kill(pid, 0), 0); /* still serving */
}

static void test_crash_refuses_the_file(void **state)
{
	(void)state;
	h5_guard_stop();
	setenv("HUSAI_FAULT", "h5_guard_walk:1", 1); /* every fresh validator crashes on its first walk */
	struct hus_err err = { 0 };
	struct h5r *r = NULL;
	assert_int_equal(h5r_open(&r, good, "husai.test", 1, &err), HUS_EINPUT);
	assert_null(r);
	assert_string_equal(err.file, good);
	assert_non_null(strstr(err.msg, "HDF5 library crashed reading it (signal 11)"));
	assert_int_equal(h5_guard_pid(), 0);
	unsetenv("HUSAI_FAULT");
	/* the caller goes on: the next open gets a fresh validator */
	struct hus_err e2 = { 0 };
	assert_int_equal(open_good(&e2), 0);
	assert_true(h5_guard_pid() > 0);
}

static void test_older_validator_crash_is_retried(void **state)
{
	(void)state;
	h5_guard_stop();
	setenv("HUSAI_FAULT", "h5_guard_walk:2", 1); /* each validator crashes on its second walk */
	struct hus_err err = { 0 };
	assert_int_equal(open_good(&err), 0);
	pid_t first = h5_guard_pid();
	/* the second walk kills the first validator; a fresh one walks the file again */
	assert_int_equal(open_good(&err), 0);
	pid_t second = h5_guard_pid();
	assert_true(second > 0);
	assert_int_not_equal(second, first);
	int status;
	assert_int_equal(waitpid(first, &status, WNOHANG), -1); /* reaped, no zombie left */
	unsetenv("HUSAI_FAULT");
	h5_guard_stop();
}

static void test_validator_keeps_no_descriptor(void **state)
{
	(void)state;
	h5_guard_stop();
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct hus_err err = { 0 };
	assert_int_equal(open_good(&err), 0); /* the validator is forked while the pipe is open */
	close(fds[1]);
	char c;
	/* EOF at once: the validator closed its copy of the write end (else this blocks) */
	alarm(20);
	assert_int_equal(read(fds[0], &c, 1), 0);
	alarm(0);
	close(fds[0]);
}

static void test_validator_ends_with_its_owner(void **state)
{
	(void)state;
	h5_guard_stop();
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) { /* a husai process: opens a file, reports its validator, exits */
		struct hus_err err = { 0 };
		int rc = open_good(&err);
		pid_t v = h5_guard_pid();
		if (write(fds[1], &v, sizeof(v)) != sizeof(v))
			rc = 1;
		_exit(rc ? 1 : 0);
	}
	close(fds[1]);
	pid_t v = 0;
	assert_int_equal(read(fds[0], &v, sizeof(v)), sizeof(v));
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(v > 0);
	/* the validator (reparented, not ours to reap) sees its socket close and exits */
	int gone = 0;
	for (int i = 0; i < 200 && !gone; i++) {
		gone = process_gone(v);
		if (!gone)
			usleep(10000);
	}
	assert_true(gone);
}

/* A file whose groups libhdf5 cannot walk is refused at the open: the validator never read
 * what lies past the failure, and a name lookup there made libhdf5 ask for 8 EiB. */
static void test_unwalkable_file_is_refused(void **state)
{
	(void)state;
	/* the second: a group that contains itself, visited again and again for minutes before
	 * the walk was bounded */
	static const char *const files[] = { "hdf5_lib_huge_alloc_name_lookup.h5",
					     "hdf5_group_cycle.h5" };
	static const char *const why[] = { "libhdf5 cannot walk it (cannot walk the file: ",
					   "libhdf5 cannot walk it (" };
	for (size_t i = 0; i < 2; i++) {
		char p[1024];
		snprintf(p, sizeof(p), "%s/../fuzz/corpus/h5/%s", HUSAI_FIXTURES, files[i]);
		struct hus_err err = { 0 };
		struct h5r *r = NULL;
		assert_int_equal(h5r_open(&r, p, NULL, 0, &err), HUS_EINPUT);
		assert_null(r);
		assert_string_equal(err.file, p);
		assert_non_null(strstr(err.msg, why[i]));
		assert_true(h5_guard_pid() > 0); /* invalid is no crash: the validator goes on */
	}
}

/* The libhdf5 findings: a clean, named error with and without the guard. */
static void test_library_findings_get_a_clean_error(void **state)
{
	(void)state;
	static const char *const files[] = { "hdf5_lib_crash_attr_exists.h5",
					     "hdf5_lib_crash_attr_iterate.h5" };
	for (int guarded = 1; guarded >= 0; guarded--) {
		if (!guarded)
			setenv("HUSAI_H5_NO_GUARD", "1", 1);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char p[1024];
			snprintf(p, sizeof(p), "%s/../fuzz/corpus/h5/%s", HUSAI_FIXTURES, files[i]);
			if (!guarded && strstr(files[i], "iterate"))
				continue; /* crashes inside H5Aiterate itself: only the guard helps */
			struct hus_err err = { 0 };
			struct h5r *r = NULL;
			int rc = h5r_open(&r, p, NULL, 0, &err);
			if (!rc) { /* the open may pass; then the lookup that crashed must not */
				int64_t k;
				rc = h5r_attr_i64(r, "/", "k", &k, &err);
				h5r_close(r);
			}
			assert_int_equal(rc, HUS_EINPUT);
			assert_string_equal(err.file, p);
			assert_true(err.msg[0] != 0);
		}
	}
	unsetenv("HUSAI_H5_NO_GUARD");
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_validator_serves_many_opens),
		cmocka_unit_test(test_crash_refuses_the_file),
		cmocka_unit_test(test_older_validator_crash_is_retried),
		cmocka_unit_test(test_validator_keeps_no_descriptor),
		cmocka_unit_test(test_validator_ends_with_its_owner),
		cmocka_unit_test(test_unwalkable_file_is_refused),
		cmocka_unit_test(test_library_findings_get_a_clean_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
