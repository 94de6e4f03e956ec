/*
 * test_formats_text.c — JSON (order, indent, NaN -> null, dotted getters, parse errors with
 * line:column), CSV (header, LF, round-trippable floats, quoting), manifests (relative paths,
 * sha256, sizes) and the audit (a flipped byte, a missing file, an unlisted file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/husai_test_text_%d", (int)getpid());
	return hus_mkdirs(dir, NULL);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_json_round_trip(void **state)
{
	(void)state;
	char p[300];
	snprintf(p, sizeof(p), "%s/r.json", dir);
	hj *root = hj_obj(), *t = hj_obj();
	hj_set(root, "zeta", hj_int(1));
	hj_set(root, "alpha", hj_str("a\"b"));
	hj_set(t, "mean", hj_num(0.1 + 0.2));
	hj_set(t, "bad", hj_num(NAN));
	hj_set(t, "inf", hj_num(INFINITY));
	double vals[3] = { 1.5, NAN, -2 };
	hj_set(t, "values", hj_f64_array(vals, 3));
	hj_set(root, "trained", t);
	struct hus_err err = { 0 };
	assert_int_equal(hj_write_file(p, root, &err), 0);
	hj_free(root);
	char *text;
	size_t n;
	assert_int_equal(hus_read_file(p, &text, &n, &err), 0);
	/* insertion order kept, 2-space indent, null for non-finite, trailing newline */
	assert_true(strstr(text, "\"zeta\"") < strstr(text, "\"alpha\""));
	assert_non_null(strstr(text, "\n  \"zeta\": 1,\n"));
	assert_non_null(strstr(text, "\"bad\": null"));
	assert_non_null(strstr(text, "\"inf\": null"));
	assert_null(strstr(text, "NaN"));
	assert_int_equal(text[n - 1], '\n');
	free(text);
	hj *back;
	assert_int_equal(hj_read_file(p, &back, &err), 0);
	double m;
	assert_int_equal(hj_get_f64(back, "trained.mean", &m), 0);
	assert_true(m == 0.1 + 0.2); /* exact round trip */
	assert_int_equal(hj_get_f64(back, "trained.bad", &m), 0);
	assert_true(isnan(m));
	assert_int_equal(hj_get_f64(back, "trained.values.2", &m), 0);
	assert_true(m == -2);
	assert_int_equal(hj_get_f64(back, "trained.nothing", &m), -1);
	assert_string_equal(hj_get_str(back, "alpha"), "a\"b");
	int64_t z;
	assert_int_equal(hj_get_i64(back, "zeta", &z), 0);
	assert_int_equal(z, 1);
	hj_free(back);
	/* malformed JSON: line and column */
	assert_int_equal(hus_write_file(p, "{\n  \"a\": 1,\n  \"b\": ]\n}\n", 22, &err), 0);
	assert_int_equal(hj_read_file(p, &back, &err), HUS_EINPUT);
	assert_string_equal(err.where, "3:8");
	assert_string_equal(err.file, p);
}

static void test_csv(void **state)
{
	(void)state;
	char p[300];
	snprintf(p, sizeof(p), "%s/t.csv", dir);
	static const char *const header[] = { "seed_a", "seed_b", "pwmcc", "note" };
	struct csvw *w;
	struct hus_err err = { 0 };
	assert_int_equal(csvw_open(&w, p, header, 4, &err), 0);
	csvw_i64(w, 42);
	csvw_i64(w, 123);
	csvw_f64(w, 0.1 + 0.2);
	csvw_str(w, "a,b");
	assert_int_equal(csvw_end_row(w, &err), 0);
	csvw_i64(w, 1);
	csvw_i64(w, 2);
	csvw_f32(w, 0.3f);
	csvw_str(w, "plain");
	assert_int_equal(csvw_end_row(w, &err), 0);
	csvw_i64(w, 1);
	csvw_f64(w, NAN);
	csvw_f64(w, 1);
	csvw_str(w, "");
	assert_int_equal(csvw_end_row(w, &err), 0);
	assert_int_equal(csvw_commit(w, &err), 0);
	char *text;
	assert_int_equal(hus_read_file(p, &text, NULL, &err), 0);
	assert_string_equal(text, "seed_a,seed_b,pwmcc,note\n"
				  "42,123,0.30000000000000004,\"a,b\"\n"
				  "1,2,0.300000012,plain\n"
				  "1,,1,\n");
	free(text);
	/* a short row is refused and nothing appears */
	snprintf(p, sizeof(p), "%s/bad.csv", dir);
	assert_int_equal(csvw_open(&w, p, header, 4, &err), 0);
	csvw_i64(w, 1);
	assert_int_equal(csvw_end_row(w, &err), HUS_EINTERNAL);
	assert_int_equal(csvw_commit(w, &err), HUS_EINTERNAL);
	assert_false(hus_file_exists(p));
}

static void test_manifest_and_audit(void **state)
{
	(void)state;
	char run[300], sub[320], a[340], b[340], in[300];
	snprintf(run, sizeof(run), "%s/run", dir);
	snprintf(sub, sizeof(sub), "%s/sae", run);
	assert_int_equal(hus_mkdirs(sub, NULL), 0);
	snprintf(a, sizeof(a), "%s/results.json", run);
	snprintf(b, sizeof(b), "%s/seed_42.h5", sub);
	snprintf(in, sizeof(in), "%s/acts.h5", dir);
	assert_int_equal(hus_write_file(a, "{}\n", 3, NULL), 0);
	assert_int_equal(hus_write_file(b, "0123456789", 10, NULL), 0);
	assert_int_equal(hus_write_file(in, "input", 5, NULL), 0);
	struct hus_err err = { 0 };
	struct manifest *m = manifest_new(run);
	assert_int_equal(manifest_add_artifact(m, a, &err), 0);
	assert_int_equal(manifest_add_artifact(m, b, &err), 0);
	assert_int_equal(manifest_add_input(m, in, &err), 0);
	manifest_set(m, "rng", hj_str("gsl mt19937"));
	assert_int_equal(manifest_write(m, "husai test", "abc", &err), 0);
	manifest_free(m);
	char mp[340];
	snprintf(mp, sizeof(mp), "%s/manifest.json", run);
	hj *j;
	assert_int_equal(hj_read_file(mp, &j, &err), 0);
	assert_string_equal(hj_get_str(j, "artifacts.1.path"), "sae/seed_42.h5");
	assert_string_equal(hj_get_str(j, "inputs.0.path"), "../acts.h5");
	int64_t bytes;
	assert_int_equal(hj_get_i64(j, "artifacts.1.bytes", &bytes), 0);
	assert_int_equal(bytes, 10);
	assert_string_equal(hj_get_str(j, "artifacts.1.sha256"),
			    "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882");
	assert_string_equal(hj_get_str(j, "run_metadata.config_hash"), "abc");
	hj_free(j);
	struct audit_report rep;
	assert_int_equal(manifest_audit(run, NULL, &rep, &err), 0);
	/* the input ../acts.h5 lies outside the run: not read (nothing outside the run is) */
	assert_int_equal(rep.checked, 2);
	assert_int_equal(rep.outside, 1);
	/* flip one byte */
	assert_int_equal(hus_write_file(b, "0123456788", 10, NULL), 0);
	assert_int_equal(manifest_audit(run, NULL, &rep, &err), HUS_EMISMATCH);
	assert_int_equal(rep.changed, 1);
	assert_non_null(strstr(err.msg, "1 changed"));
	/* restore, then add an unlisted file and remove a listed one */
	assert_int_equal(hus_write_file(b, "0123456789", 10, NULL), 0);
	char extra[340];
	snprintf(extra, sizeof(extra), "%s/stray.txt", sub);
	assert_int_equal(hus_write_file(extra, "x", 1, NULL), 0);
	unlink(a);
	assert_int_equal(manifest_audit(run, NULL, &rep, &err), HUS_EMISMATCH);
	assert_int_equal(rep.unlisted, 1);
	assert_int_equal(rep.missing, 1);
	/* a manifest that is not one */
	assert_int_equal(hus_write_file(mp, "[1, 2]", 6, NULL), 0);
	assert_int_equal(manifest_audit(run, NULL, &rep, &err), HUS_EINPUT);
	const char *abs_path = "{\"artifacts\": [{\"path\": \"/etc/passwd\", \"sha256\": "
			       "\"0000000000000000000000000000000000000000000000000000000000000000\"}]}";
	assert_int_equal(hus_write_file(mp, abs_path, strlen(abs_path), NULL), 0);
	assert_int_equal(manifest_audit(run, NULL, &rep, &err), HUS_EINPUT);
	assert_string_equal(err.where, "artifacts.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_manifest_and_audit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
