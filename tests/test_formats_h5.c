/*
 * test_formats_h5.c — HDF5 artifacts: round trips of every element type and attribute kind,
 * provenance attributes, and every way a reader must refuse a file (wrong format, version,
 * rank, dims, dtype; truncated, empty and non-HDF5 files), plus atomic-write failure paths
 * and the dataset tables (h5w_describe_all).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/husai_test_h5_%d", (int)getpid());
	return hus_mkdirs(dir, NULL);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void path_of(char *buf, const char *name) { snprintf(buf, 300, "%s/%s", dir, name); }

static void write_sample(const char *path, const char *format, int version)
{
	struct hus_err err = { 0 };
	struct h5w *w;
	struct hus_provenance prov = { "a: 1\n", "abc123" };
	assert_int_equal(h5w_open(&w, path, format, version, &prov, &err), 0);
	float f[6] = { 1, 2, 3, 4, 5, 6.5f };
	double d[3] = { 0.1, 0.2, 1e-300 };
	int32_t i32[4] = { -1, 0, 1, 2147483647 };
	int64_t i64[2] = { -5, (int64_t)1 << 40 };
	size_t d23[2] = { 2, 3 }, d3[1] = { 3 }, d4[1] = { 4 }, d2[1] = { 2 };
	assert_int_equal(h5w_f32(w, "/params/W", f, 2, d23, &err), 0);
	assert_int_equal(h5w_f64(w, "/metrics/loss", d, 1, d3, &err), 0);
	assert_int_equal(h5w_i32(w, "/idx", i32, 1, d4, &err), 0);
	assert_int_equal(h5w_i64(w, "/optimizer/step", i64, 1, d2, &err), 0);
	assert_int_equal(h5w_attr_str(w, "/", "architecture", "topk", &err), 0);
	assert_int_equal(h5w_attr_i64(w, "/", "k", 32, &err), 0);
	assert_int_equal(h5w_attr_f64(w, "/params/W", "scale", 0.25, &err), 0);
	assert_int_equal(h5w_commit(w, &err), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	char p[300];
	path_of(p, "rt.h5");
	write_sample(p, "husai.test", 1);
	struct hus_err err = { 0 };
	struct h5r *r;
	assert_int_equal(h5r_open(&r, p, "husai.test", 1, &err), 0);
	float f[6];
	size_t dims[2] = { 2, 3 };
	assert_int_equal(h5r_read(r, "/params/W", HUS_F32, f, 6, 2, dims, &err), 0);
	assert_true(f[5] == 6.5f);
	double *d;
	size_t any[1] = { 0 };
	assert_int_equal(h5r_read_alloc(r, "/metrics/loss", HUS_F64, (void **)&d, 1, any, &err), 0);
	assert_int_equal(any[0], 3);
	assert_true(d[2] == 1e-300);
	free(d);
	int64_t *i64;
	any[0] = 0;
	assert_int_equal(h5r_read_alloc(r, "/optimizer/step", HUS_I64, (void **)&i64, 1, any, &err), 0);
	assert_true(i64[1] == (int64_t)1 << 40);
	free(i64);
	char *s;
	assert_int_equal(h5r_attr_str(r, "/", "architecture", &s, &err), 0);
	assert_string_equal(s, "topk");
	free(s);
	assert_int_equal(h5r_attr_str(r, "/", "config_hash", &s, &err), 0);
	assert_string_equal(s, "abc123");
	free(s);
	assert_int_equal(h5r_attr_str(r, "/", "git_commit", &s, &err), 0);
	free(s);
	assert_int_equal(h5r_attr_str(r, "/", "created_utc", &s, &err), 0);
	assert_int_equal(strlen(s), 25);
	free(s);
	int64_t k;
	assert_int_equal(h5r_attr_i64(r, "/", "k", &k, &err), 0);
	assert_int_equal(k, 32);
	double sc;
	assert_int_equal(h5r_attr_f64(r, "/params/W", "scale", &sc, &err), 0);
	assert_true(sc == 0.25);
	assert_true(h5r_has(r, "/params/W"));
	assert_false(h5r_has(r, "/params/missing"));
	assert_false(h5r_has(r, "/nope/W"));
	assert_false(h5r_has(r, "/params")); /* a group, not a dataset */
	FILE *devnull = fopen("/dev/null", "w");
	assert_int_equal(h5r_describe(r, devnull, &err), 0);
	fclose(devnull);
	h5r_close(r);
}

static void expect_open_error(const char *p, const char *format, int maxv, const char *where,
                              const char *msg_part)
{
	struct hus_err err = { 0 };
	struct h5r *r = NULL;
	int rc = h5r_open(&r, p, format, maxv, &err);
	assert_int_equal(rc, HUS_EINPUT);
	assert_string_equal(err.file, p);
	if (where)
		assert_string_equal(err.where, where);
	if (!strstr(err.msg, msg_part))
		fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
}

static void test_wrong_format_and_version(void **state)
{
	(void)state;
	char p[300];
	path_of(p, "fmt.h5");
	write_sample(p, "husai.other", 1);
	expect_open_error(p, "husai.test", 1, "/@husai_format", "expected 'husai.test'");
	path_of(p, "ver.h5");
	write_sample(p, "husai.test", 7);
	expect_open_error(p, "husai.test", 1, "/@husai_format_version", "found 7");
}

static void test_wrong_rank_dims_dtype(void **state)
{
	(void)state;
	char p[300];
	path_of(p, "shape.h5");
	write_sample(p, "husai.test", 1);
	struct hus_err err = { 0 };
	struct h5r *r;
	assert_int_equal(h5r_open(&r, p, "husai.test", 1, &err), 0);
	float f[6];
	size_t d1[1] = { 6 };
	assert_int_equal(h5r_read(r, "/params/W", HUS_F32, f, 6, 1, d1, &err), HUS_EINPUT);
	assert_string_equal(err.where, "/params/W");
	assert_non_null(strstr(err.msg, "expected rank 1"));
	size_t d32[2] = { 3, 2 };
	assert_int_equal(h5r_read(r, "/params/W", HUS_F32, f, 6, 2, d32, &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, "expected shape [3, 2]"));
	double dd[6];
	size_t d23[2] = { 2, 3 };
	assert_int_equal(h5r_read(r, "/params/W", HUS_F64, dd, 6, 2, d23, &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, "expected float64, found float32"));
	assert_int_equal(h5r_read(r, "/params/W", HUS_F32, f, 5, 2, d23, &err), HUS_EINPUT);
	assert_int_equal(h5r_read(r, "/params/none", HUS_F32, f, 6, 2, d23, &err), HUS_EINPUT);
	assert_string_equal(err.where, "/params/none");
	int64_t k;
	assert_int_equal(h5r_attr_i64(r, "/", "architecture", &k, &err), HUS_EINPUT);
	assert_string_equal(err.where, "/@architecture");
	assert_int_equal(h5r_attr_i64(r, "/", "absent", &k, &err), HUS_EINPUT);
	h5r_close(r);
}

static void test_bad_files(void **state)
{
	(void)state;
	char p[300], q[300];
	path_of(p, "empty.h5");
	assert_int_equal(hus_write_file(p, "", 0, NULL), 0);
	expect_open_error(p, "husai.test", 1, NULL, "not an HDF5 file");
	path_of(p, "random.h5");
	char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 + 7);
	assert_int_equal(hus_write_file(p, junk, sizeof(junk), NULL), 0);
	expect_open_error(p, "husai.test", 1, NULL, "not an HDF5 file");
	path_of(p, "absent.h5");
	expect_open_error(p, "husai.test", 1, NULL, "cannot read");
	/* truncated copies of a valid file at several lengths: an error or a failed read, never a crash */
	path_of(q, "full.h5");
	write_sample(q, "husai.test", 1);
	char *buf;
	size_t n;
	assert_int_equal(hus_read_file(q, &buf, &n, NULL), 0);
	size_t cuts[] = { 8, 100, n / 2, n - 200, n - 1 };
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		path_of(p, "trunc.h5");
		assert_int_equal(hus_write_file(p, buf, cuts[c], NULL), 0);
		struct hus_err err = { 0 };
		struct h5r *r = NULL;
		int rc = h5r_open(&r, p, "husai.test", 1, &err);
		if (rc == 0) {
			FILE *devnull = fopen("/dev/null", "w");
			rc = h5r_describe(r, devnull, &err);
			fclose(devnull);
			h5r_close(r);
		}
		if (rc == 0)
			fail_msg("truncated to %zu of %zu bytes but accepted", cuts[c], n);
		assert_string_equal(err.file, p);
	}
	free(buf);
}

/* h5w_describe_all: every dataset from the table (first match wins, `*` one path component,
 * a mirrored row takes its twin's dims and text); a dataset no row matches and dims whose
 * count differs from the rank are internal errors naming the dataset. */
static void test_describe_table(void **state)
{
	(void)state;
	static const struct h5_doc doc[] = {
		{ "/p/*/w", "rows,cols", "a weight", NULL },
		{ "/m/*", NULL, "moment of: ", "/p/x" },
		{ "/p/*/*", "", "a scalar", NULL },
		{ NULL, NULL, NULL, NULL },
	};
	static const struct h5_doc *const tables[] = { doc, NULL };
	char p[300];
	path_of(p, "described.h5");
	struct hus_err err = { 0 };
	struct h5w *w;
	float f[6] = { 0 };
	size_t d2[2] = { 2, 3 };
	assert_int_equal(h5w_open(&w, p, "husai.test", 1, NULL, &err), 0);
	assert_int_equal(h5w_f32(w, "/p/x/w", f, 2, d2, &err), 0);
	assert_int_equal(h5w_f32(w, "/p/x/s", f, 0, NULL, &err), 0);
	assert_int_equal(h5w_f32(w, "/m/w", f, 2, d2, &err), 0);
	assert_int_equal(h5w_describe_all(w, tables, &err), 0);
	assert_int_equal(h5w_commit(w, &err), 0);
	struct h5r *r;
	char *v = NULL;
	assert_int_equal(h5r_open(&r, p, "husai.test", 1, &err), 0);
	assert_int_equal(h5r_attr_str(r, "/p/x/w", "dims", &v, &err), 0);
	assert_string_equal(v, "rows,cols");
	free(v);
	assert_int_equal(h5r_attr_str(r, "/p/x/s", "dims", &v, &err), 0);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(h5r_attr_str(r, "/m/w", "description", &v, &err), 0);
	assert_string_equal(v, "moment of: a weight");
	free(v);
	assert_int_equal(h5r_attr_str(r, "/m/w", "dims", &v, &err), 0);
	assert_string_equal(v, "rows,cols");
	free(v);
	h5r_close(r);
	/* a dataset the table does not describe */
	assert_int_equal(h5w_open(&w, p, "husai.test", 1, NULL, &err), 0);
	assert_int_equal(h5w_f32(w, "/q", f, 0, NULL, &err), 0);
	assert_int_equal(h5w_describe_all(w, tables, &err), HUS_EINTERNAL);
	assert_string_equal(err.where, "/q");
	h5w_abort(w);
	/* dims naming the wrong number of dimensions */
	memset(&err, 0, sizeof(err));
	assert_int_equal(h5w_open(&w, p, "husai.test", 1, NULL, &err), 0);
	assert_int_equal(h5w_f32(w, "/p/y/s", f, 2, d2, &err), 0);
	assert_int_equal(h5w_describe_all(w, tables, &err), HUS_EINTERNAL);
	assert_string_equal(err.where, "/p/y/s");
	assert_non_null(strstr(err.msg, "rank 2"));
	assert_int_equal(h5w_describe(w, "/p/y/s", "", "a,b", &err), HUS_EINTERNAL);
	h5w_abort(w);
}

static void test_atomic_failure_leaves_nothing(void **state)
{
	(void)state;
	char p[300];
	path_of(p, "fail.h5");
	struct hus_err err = { 0 };
	struct h5w *w;
	setenv("HUSAI_FAULT", "h5_write:2", 1);
	assert_int_equal(h5w_open(&w, p, "husai.test", 1, NULL, &err), 0);
	float f[2] = { 1, 2 };
	size_t d[1] = { 2 };
	assert_int_equal(h5w_f32(w, "/a", f, 1, d, &err), 0);
	assert_int_equal(h5w_f32(w, "/b", f, 1, d, &err), HUS_EIO);
	h5w_abort(w);
	unsetenv("HUSAI_FAULT");
	assert_false(hus_file_exists(p));
	char tmp[400];
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", p, (int)getpid());
	assert_false(hus_file_exists(tmp));
	/* failure at fsync time: commit reports it and the final name never appears */
	setenv("HUSAI_FAULT", "atomic_fsync", 1);
	assert_int_equal(h5w_open(&w, p, "husai.test", 1, NULL, &err), 0);
	assert_int_equal(h5w_f32(w, "/a", f, 1, d, &err), 0);
	assert_int_equal(h5w_commit(w, &err), HUS_EIO);
	unsetenv("HUSAI_FAULT");
	assert_false(hus_file_exists(p));
	assert_false(hus_file_exists(tmp));
	/* and a plain text write failing at rename */
	setenv("HUSAI_FAULT", "atomic_rename", 1);
	assert_int_equal(hus_write_file(p, "x", 1, &err), HUS_EIO);
	unsetenv("HUSAI_FAULT");
	assert_false(hus_file_exists(p));
	assert_false(hus_file_exists(tmp));
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong_format_and_version),
		cmocka_unit_test(test_wrong_rank_dims_dtype),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_atomic_failure_leaves_nothing),
		cmocka_unit_test(test_describe_table),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
