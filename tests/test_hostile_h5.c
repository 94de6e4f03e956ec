/*
 * test_hostile_h5.c — HDF5 files that point outside themselves (RELIABILITY.md, "Untrusted
 * archives"): an external link to another file (intact, and corrupt: that one crashed husai in
 * H5Dread), a soft link (resolving inside the file, and dangling), a virtual dataset whose
 * source is another file, a dataset with external raw-data storage, and an external link in a
 * nested group.  Each is written here with the HDF5 API and must be refused at the open, with
 * the guard and without it, naming the file and the object path; `husai inspect` must exit 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats.h"
#include "h5_internal.h"

static char dir[256];

static void pathof(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

static void attr_str(hid_t f, const char *name, const char *val)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, strlen(val) + 1);
	hid_t s = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(f, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(a >= 0);
	assert_true(H5Awrite(a, t, val) >= 0);
	H5Aclose(a);
	H5Sclose(s);
	H5Tclose(t);
}

/* A husai artifact ("husai.test" version 1) with /x = float32 [1, 2, 3]; returns it open. */
static hid_t base_file(const char *name)
{
	char p[512];
	pathof(p, sizeof(p), name);
	hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(f >= 0);
	attr_str(f, "husai_format", "husai.test");
	int64_t v = 1;
	hid_t s = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(f, "husai_format_version", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_INT64, &v);
	H5Aclose(a);
	H5Sclose(s);
	hsize_t d = 3;
	float x[3] = { 1, 2, 3 };
	s = H5Screate_simple(1, &d, NULL);
	hid_t ds = H5Dcreate2(f, "/x", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	assert_true(ds >= 0);
	H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
	H5Dclose(ds);
	H5Sclose(s);
	return f;
}

static int setup(void **state)
{
	(void)state;
	/* HUSAI_HOSTILE_H5_DIR: write the files there and keep them (how the tests/fuzz/corpus/h5/
	 * hostile_*.h5 files were made) */
	const char *keep = getenv("HUSAI_HOSTILE_H5_DIR");
	if (keep && *keep)
		snprintf(dir, sizeof(dir), "%s", keep);
	else
		snprintf(dir, sizeof(dir), "/tmp/husai_test_hostile_h5_%d", (int)getpid());
	struct hus_err err = { 0 };
	if (hus_mkdirs(dir, &err))
		return -1;
	char p[512];

	/* the files pointed at: an intact artifact, and a corrupt one (an HDF5 signature, then junk) */
	H5Fclose(base_file("target.h5"));
	pathof(p, sizeof(p), "corrupt.h5");
	FILE *c = fopen(p, "wb");
	if (!c)
		return -1;
	static const unsigned char sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
	fwrite(sig, 1, 8, c);
	for (int i = 0; i < 4096; i++)
		fputc((i * 131 + 7) & 0xff, c);
	fclose(c);
	pathof(p, sizeof(p), "raw.bin");
	c = fopen(p, "wb");
	if (!c)
		return -1;
	float raw[3] = { 4, 5, 6 };
	fwrite(raw, sizeof(float), 3, c);
	fclose(c);

	hid_t f = base_file("elink.h5"); /* /activations -> target.h5:/x */
	H5Lcreate_external("target.h5", "/x", f, "/activations", H5P_DEFAULT, H5P_DEFAULT);
	H5Fclose(f);
	f = base_file("elink_corrupt.h5"); /* /activations -> corrupt.h5:/x */
	H5Lcreate_external("corrupt.h5", "/x", f, "/activations", H5P_DEFAULT, H5P_DEFAULT);
	H5Fclose(f);
	f = base_file("elink_nested.h5"); /* /g/h/ext -> target.h5:/x */
	hid_t g = H5Gcreate2(f, "/g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	hid_t h = H5Gcreate2(g, "h", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Lcreate_external("target.h5", "/x", h, "ext", H5P_DEFAULT, H5P_DEFAULT);
	H5Gclose(h);
	H5Gclose(g);
	H5Fclose(f);
	f = base_file("soft.h5"); /* /y -> /x: inside the file, still refused */
	H5Lcreate_soft("/x", f, "/y", H5P_DEFAULT, H5P_DEFAULT);
	H5Fclose(f);
	f = base_file("soft_dangling.h5"); /* /y -> /nowhere */
	H5Lcreate_soft("/nowhere", f, "/y", H5P_DEFAULT, H5P_DEFAULT);
	H5Fclose(f);

	f = base_file("vds.h5"); /* /v: virtual, source target.h5:/x */
	hsize_t d = 3;
	hid_t vs = H5Screate_simple(1, &d, NULL), ss = H5Screate_simple(1, &d, NULL);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_virtual(dcpl, vs, "target.h5", "/x", ss);
	hid_t v = H5Dcreate2(f, "/v", H5T_IEEE_F32LE, vs, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (v < 0)
		return -1;
	H5Dclose(v);
	H5Pclose(dcpl);
	H5Fclose(f);

	f = base_file("external.h5"); /* /e: raw data in raw.bin */
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_external(dcpl, "raw.bin", 0, 3 * sizeof(float));
	v = H5Dcreate2(f, "/e", H5T_IEEE_F32LE, ss, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (v < 0)
		return -1;
	H5Dclose(v);
	H5Pclose(dcpl);
	H5Sclose(vs);
	H5Sclose(ss);
	H5Fclose(f);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	h5_guard_stop();
	const char *keep = getenv("HUSAI_HOSTILE_H5_DIR");
	if (keep && *keep)
		return 0;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct {
	const char *file, *where, *what;
} hostile[] = {
	{ "elink.h5", "/activations", "an external link (to '/x' in file 'target.h5')" },
	{ "elink_corrupt.h5", "/activations", "an external link (to '/x' in file 'corrupt.h5')" },
	{ "elink_nested.h5", "/g/h/ext", "an external link" },
	{ "soft.h5", "/y", "a soft link (to '/x')" },
	{ "soft_dangling.h5", "/y", "a soft link (to '/nowhere')" },
	{ "vds.h5", "/v", "a virtual dataset" },
	{ "external.h5", "/e", "external storage (1 raw-data file outside this file, the first 'raw.bin')" },
};
#define N_HOSTILE (sizeof(hostile) / sizeof(hostile[0]))

/* Refused at the open with the file, the object path and what was found: behind the guard
 * and in-process alone. */
static void test_refused_at_open(void **state)
{
	(void)state;
	for (int guarded = 1; guarded >= 0; guarded--) {
		if (!guarded)
			setenv("HUSAI_H5_NO_GUARD", "1", 1);
		for (size_t i = 0; i < N_HOSTILE; i++) {
			char p[512];
			pathof(p, sizeof(p), hostile[i].file);
			struct hus_err err = { 0 };
			struct h5r *r = NULL;
			int rc = h5r_open(&r, p, NULL, 0, &err);
			if (!rc) {
				fprintf(stderr, "%s: accepted\n", hostile[i].file);
				h5r_close(r);
			}
			assert_int_equal(rc, HUS_EINPUT);
			assert_null(r);
			assert_string_equal(err.file, p);
			if (strcmp(err.where, hostile[i].where) || !strstr(err.msg, hostile[i].what))
				fprintf(stderr, "%s: where '%s' msg '%s'\n", hostile[i].file, err.where,
					err.msg);
			assert_string_equal(err.where, hostile[i].where);
			assert_non_null(strstr(err.msg, hostile[i].what));
			assert_non_null(strstr(err.msg, "refusing it"));
		}
		/* with the expected format too (the typed readers' open) */
		char p[512];
		pathof(p, sizeof(p), "elink_corrupt.h5");
		struct hus_err err = { 0 };
		struct h5r *r = NULL;
		assert_int_equal(h5r_open(&r, p, "husai.test", 1, &err), HUS_EINPUT);
		assert_string_equal(err.where, "/activations");
	}
	unsetenv("HUSAI_H5_NO_GUARD");
	h5_guard_stop();
}

/* The second line (h5.c: h5_read_lapl, h5_read_dapl, path_is_hard in h5r_has), each on its
 * own: libhdf5 itself follows what check_inside refuses (so these could fail), and through
 * husai's access lists it does not. */
static void test_second_line(void **state)
{
	(void)state;
	char p[512];
	/* the external-link callback: H5Oopen through an external link */
	pathof(p, sizeof(p), "elink.h5");
	hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f >= 0);
	hid_t o = H5Oopen(f, "/activations", H5P_DEFAULT);
	assert_true(o >= 0); /* libhdf5 alone opens target.h5 */
	H5Oclose(o);
	assert_true(H5Oopen(f, "/activations", h5_read_lapl()) < 0);
	assert_true(H5Dopen2(f, "/activations", h5_read_dapl()) < 0);
	H5Fclose(f);
	/* the corrupt target is never opened: no crash, a clean failure */
	pathof(p, sizeof(p), "elink_corrupt.h5");
	f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f >= 0);
	assert_true(H5Dopen2(f, "/activations", h5_read_dapl()) < 0);
	H5Fclose(f);
	/* external storage with a relative name: not found through the reader's dataset access */
	pathof(p, sizeof(p), "external.h5");
	f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
	assert_true(f >= 0);
	float x[3] = { 0, 0, 0 };
	hid_t d = H5Dopen2(f, "/e", H5P_DEFAULT);
	assert_true(d >= 0);
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0); /* libhdf5 alone reads raw.bin relative to the cwd */
	assert_true(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0);
	assert_true(x[2] == 6.0f);
	H5Dclose(d);
	d = H5Dopen2(f, "/e", h5_read_dapl());
	x[2] = 0;
	assert_true(d < 0 || H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) < 0);
	if (d >= 0)
		H5Dclose(d);
	assert_int_equal(chdir(cwd), 0);
	H5Fclose(f);
	H5Eclear2(H5E_DEFAULT);

	/* husai's readers with check_inside off (and no guard): still nothing outside is read */
	setenv("HUSAI_H5_NO_GUARD", "1", 1);
	setenv("HUSAI_H5_NO_INSIDE_CHECK", "1", 1);
	static const struct {
		const char *file, *obj;
	} cases[] = { { "elink.h5", "/activations" }, { "elink_corrupt.h5", "/activations" },
		      { "elink_nested.h5", "/g/h/ext" }, { "soft.h5", "/y" },
		      { "soft_dangling.h5", "/y" },     { "vds.h5", "/v" },
		      { "external.h5", "/e" } };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pathof(p, sizeof(p), cases[i].file);
		struct hus_err err = { 0 };
		struct h5r *r = NULL;
		assert_int_equal(h5r_open(&r, p, NULL, 0, &err), 0); /* the first line is off */
		size_t dims[1] = { 0 };
		void *buf = NULL;
		int rc = h5r_read_alloc(r, cases[i].obj, HUS_F32, &buf, 1, dims, &err);
		free(buf);
		if (rc != HUS_EINPUT)
			fprintf(stderr, "%s: read through the second line (rc %d)\n", cases[i].file, rc);
		assert_int_equal(rc, HUS_EINPUT);
		assert_string_equal(err.file, p);
		assert_string_equal(err.where, cases[i].obj);
		h5r_close(r);
	}
	unsetenv("HUSAI_H5_NO_INSIDE_CHECK");
	unsetenv("HUSAI_H5_NO_GUARD");
	h5_guard_stop();
}

/* The same bytes through a file image (the fuzz target's and the importers' path). */
static void test_refused_as_image(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_HOSTILE; i++) {
		char p[512];
		pathof(p, sizeof(p), hostile[i].file);
		FILE *f = fopen(p, "rb");
		assert_non_null(f);
		static char buf[1 << 16];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		struct hus_err err = { 0 };
		struct h5r *r = NULL;
		assert_int_equal(h5r_open_image(&r, buf, n, hostile[i].file, NULL, 0, &err),
				 HUS_EINPUT);
		assert_null(r);
		assert_string_equal(err.where, hostile[i].where);
	}
}

/* The target files themselves are fine: the rule is about links, not about the data. */
static void test_plain_file_still_reads(void **state)
{
	(void)state;
	char p[512];
	pathof(p, sizeof(p), "target.h5");
	struct hus_err err = { 0 };
	struct h5r *r = NULL;
	assert_int_equal(h5r_open(&r, p, "husai.test", 1, &err), 0);
	float x[3];
	size_t d[1] = { 3 };
	assert_int_equal(h5r_read(r, "/x", HUS_F32, x, 3, 1, d, &err), 0);
	assert_true(x[2] == 3.0f);
	h5r_close(r);
}

/* `husai inspect` exits 1 on every one of them and names the file and object. */
static void test_inspect_refuses(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_HOSTILE; i++) {
		char p[512], out[600], cmd[2048];
		pathof(p, sizeof(p), hostile[i].file);
		pathof(out, sizeof(out), "inspect.err");
		snprintf(cmd, sizeof(cmd), "'%s' inspect '%s' >/dev/null 2>'%s'", HUSAI_BIN, p, out);
		int st = system(cmd);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 1);
		FILE *f = fopen(out, "r");
		assert_non_null(f);
		char msg[2048] = "";
		size_t n = fread(msg, 1, sizeof(msg) - 1, f);
		fclose(f);
		msg[n] = 0;
		assert_non_null(strstr(msg, p));
		assert_non_null(strstr(msg, hostile[i].where));
	}
}

/* `husai inspect`: exit status and stderr of one file */
static int inspect(const char *p, char *msg, size_t cap)
{
	char out[600], cmd[2048];
	pathof(out, sizeof(out), "inspect.err");
	snprintf(cmd, sizeof(cmd), "'%s' inspect '%s' >/dev/null 2>'%s'", HUSAI_BIN, p, out);
	int st = system(cmd);
	FILE *f = fopen(out, "r");
	size_t n = f ? fread(msg, 1, cap - 1, f) : 0;
	if (f)
		fclose(f);
	msg[n] = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* inspect runs the typed reader of a known format: a file the stages refuse (format version
 * 99, NaN values, zero rows) is not called valid (it exited 0 on each). */
static void test_inspect_runs_the_typed_readers(void **state)
{
	(void)state;
	float x[6] = { 1, 2, 3, 4, 5, 6 };
	int32_t ex[2] = { 0, 1 }, aa[2] = { 0, 0 }, bb[2] = { 0, 1 }, pos[2] = { 5, 5 };
	struct acts_set a;
	memset(&a, 0, sizeof(a));
	a.N = 2, a.d = 3, a.x = x, a.example_index = ex, a.a = aa, a.b = bb, a.c = bb, a.pos = pos;
	snprintf(a.hook, sizeof(a.hook), "resid_post");
	snprintf(a.position, sizeof(a.position), "answer");
	snprintf(a.answer_position, sizeof(a.answer_position), "equals");
	snprintf(a.rows, sizeof(a.rows), "all");
	a.modulus = 2, a.split_seed = 0, a.split_fraction = 0.5;
	char good[512], nan_file[512], v99[512], empty[512], msg[2048];
	pathof(good, sizeof(good), "acts_good.h5");
	pathof(nan_file, sizeof(nan_file), "acts_nan.h5");
	pathof(v99, sizeof(v99), "acts_v99.h5");
	pathof(empty, sizeof(empty), "acts_empty.h5");
	struct hus_err err = { 0 };
	assert_int_equal(acts_write(good, &a, NULL, &err), 0);
	struct acts_set back;
	if (acts_read(good, &back, &err))
		fprintf(stderr, "%s: %s\n", err.where, err.msg);
	else
		acts_release(&back);
	assert_int_equal(inspect(good, msg, sizeof(msg)), 0);
	x[4] = NAN;
	assert_int_equal(acts_write(nan_file, &a, NULL, &err), 0);
	assert_int_equal(inspect(nan_file, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, nan_file));
	x[4] = 5;
	/* version 99 and zero rows: written with the generic writer */
	struct h5w *w;
	size_t d2[2] = { 2, 3 }, d0[2] = { 0, 3 };
	assert_int_equal(h5w_open(&w, v99, HUS_FORMAT_ACTIVATIONS, 99, NULL, &err), 0);
	assert_int_equal(h5w_f32(w, "/activations", x, 2, d2, &err), 0);
	assert_int_equal(h5w_commit(w, &err), 0);
	assert_int_equal(inspect(v99, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "husai_format_version"));
	assert_int_equal(h5w_open(&w, empty, HUS_FORMAT_ACTIVATIONS, 1, NULL, &err), 0);
	assert_int_equal(h5w_f32(w, "/activations", x, 2, d0, &err), 0);
	assert_int_equal(h5w_commit(w, &err), 0);
	assert_int_equal(inspect(empty, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, empty));
	assert_int_equal(h5w_open(&w, v99, HUS_FORMAT_SAE, 99, NULL, &err), 0);
	assert_int_equal(h5w_commit(w, &err), 0);
	assert_int_equal(inspect(v99, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "husai_format_version"));
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_at_open),
		cmocka_unit_test(test_refused_as_image),
		cmocka_unit_test(test_second_line),
		cmocka_unit_test(test_plain_file_still_reads),
		cmocka_unit_test(test_inspect_refuses),
		cmocka_unit_test(test_inspect_runs_the_typed_readers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
