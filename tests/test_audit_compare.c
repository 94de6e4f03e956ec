/*
 * test_audit_compare.c — the audit's verdicts (run/audit_compare.c) and its reading of a
 * recorded `husai analyze` command (run/audit_argv.c): ULP distances in float32 and
 * float64, the report's print formats, conclusion keys; identical / within N ULP / differs
 * for JSON, CSV and HDF5 files, each difference named; a recorded command mapped into the
 * audited run (--name=value, the output in scratch) and its hostile forms refused.
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

#include "audit_internal.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/husai_test_audit_%d", (int)getpid());
	return hus_mkdirs(dir, NULL);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void put(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(hus_write_file(p, text, strlen(text), NULL), 0);
}

/* Compare dir/a and dir/b (named rel) with bound ulp; the lines printed go to *lines. */
static enum audit_verdict cmp(const char *a, const char *b, const char *rel, uint64_t ulp,
                              int strip, char **lines, struct audit_tally *t)
{
	char pa[512], pb[512];
	snprintf(pa, sizeof(pa), "%s/%s", dir, a);
	snprintf(pb, sizeof(pb), "%s/%s", dir, b);
	size_t n;
	FILE *f = open_memstream(lines, &n);
	struct audit_cmp c = { .ulp = ulp, .out = f, .strip_metadata = strip };
	struct audit_tally local = { 0 };
	enum audit_verdict v = audit_compare(pa, pb, rel, &c, t ? t : &local);
	fclose(f);
	return v;
}

static void expect(const char *a, const char *b, const char *rel, enum audit_verdict want,
                   const char *says)
{
	char *lines = NULL;
	enum audit_verdict v = cmp(a, b, rel, 4, 0, &lines, NULL);
	if (v != want || (says && !strstr(lines, says)))
		fail_msg("%s vs %s: verdict %d (wanted %d), lines:\n%s(wanted \"%s\")", a, b, v, want,
			 lines, says ? says : "");
	free(lines);
}

static void test_ulp(void **state)
{
	(void)state;
	assert_int_equal(audit_ulp_f64(1.0, nextafter(1.0, 2.0)), 1);
	assert_int_equal(audit_ulp_f64(1.0, 1.0), 0);
	assert_int_equal(audit_ulp_f64(0.0, -0.0), 0);
	assert_int_equal(audit_ulp_f64(-4.9e-324, 4.9e-324), 2);
	assert_int_equal(audit_ulp_f64(NAN, NAN), 0);
	assert_true(audit_ulp_f64(NAN, 1.0) == UINT64_MAX);
	assert_true(audit_ulp_f64(INFINITY, 1e308) == UINT64_MAX);
	assert_int_equal(audit_ulp_f64(INFINITY, INFINITY), 0);
	assert_true(audit_ulp_f64(-1e308, 1e308) > ((uint64_t)1 << 62));
	assert_int_equal(audit_ulp_f32(0.25f, nextafterf(0.25f, 1.0f)), 1);
	assert_int_equal(audit_ulp_f32(-0.0f, 0.0f), 0);
	assert_int_equal(audit_ulp_f32(-1.4e-45f, 1.4e-45f), 2);
	/* JSON/CSV numbers: float32 units when both are float32 values */
	assert_int_equal(audit_ulp_number(0.25, (double)nextafterf(0.25f, 1.0f)), 1);
	assert_int_equal(audit_ulp_number(0.1, nextafter(0.1, 1.0)), 1);
	assert_int_equal(audit_ulp_number(0.25, nextafter(0.25, 1.0)), 1);
}

static void test_printed(void **state)
{
	(void)state;
	const char *fmt = NULL;
	assert_true(audit_same_printed(0.123456789, 0.1234567891, &fmt));
	assert_false(audit_same_printed(-0.0, 0.0, &fmt)); /* the report's %.3e shows the sign */
	assert_string_equal(fmt, "%.3e");
	assert_false(audit_same_printed(0.12345, 0.12346, &fmt));
	assert_string_equal(fmt, "%.6g");
	assert_false(audit_same_printed(0.123449999, 0.12345001, &fmt));
	assert_string_equal(fmt, "%.4f");
	assert_false(audit_same_printed(0.125, nextafter(0.125, 1.0), &fmt));
	assert_string_equal(fmt, "%.2f");
	assert_false(audit_same_printed(nextafter(2.5, 0.0), 2.5, &fmt));
	assert_string_equal(fmt, "%d");
	assert_non_null(strstr(audit_report_formats(), "%.3e"));
}

static void test_conclusion_keys(void **state)
{
	(void)state;
	const char *yes[] = { "selected_k", "selected_lambda", "selected_record", "pass",
			      "internal_gating_pass", "ev_step", "chosen_step", "converged_step",
			      "verdict", "best_k_condition", "reject_null", "default_justified",
			      "ready_for_external_benchmark_claim", "conclusion", "gate", NULL };
	const char *no[] = { "mean", "ci95_low", "pwmcc", "steps_trained", "default_steps",
			     "k", "p_value", "ev_window_steps", NULL };
	for (size_t i = 0; yes[i]; i++)
		if (!audit_conclusion_key(yes[i]))
			fail_msg("%s should be a conclusion", yes[i]);
	for (size_t i = 0; no[i]; i++)
		if (audit_conclusion_key(no[i]))
			fail_msg("%s should not be a conclusion", no[i]);
}

static void json_with(const char *name, double mean, int64_t k, const char *label, double lambda,
                      const char *meta)
{
	char t[1024];
	snprintf(t, sizeof(t),
		 "{\"run_metadata\": {\"t\": \"%s\"}, \"groups\": {\"g.1\": {\"mean\": %.17g, \"k\": %lld, "
		 "\"label\": \"%s\"}}, \"selected_lambda\": %.17g, \"list\": [1.5, 2.5]}\n",
		 meta, mean, (long long)k, label, lambda);
	put(name, t);
}

static void test_json(void **state)
{
	(void)state;
	double m = 0.2538437225157395, l = 0.03;
	json_with("a.json", m, 8, "stable", l, "x");
	json_with("same.json", m, 8, "stable", l, "x");
	expect("a.json", "same.json", "results.json", AUDIT_IDENTICAL, "identical        results.json");
	json_with("ulp1.json", nextafter(m, 1), 8, "stable", l, "x");
	struct audit_tally t = { 0 };
	char *lines = NULL;
	assert_int_equal(cmp("a.json", "ulp1.json", "results.json", 4, 0, &lines, &t), AUDIT_WITHIN);
	assert_non_null(strstr(lines, "within 4 ULP     results.json: max |diff|"));
	assert_non_null(strstr(lines, "max 1 ULP"));
	assert_int_equal(t.within, 1);
	assert_int_equal(t.max_ulp, 1);
	free(lines);
	lines = NULL;
	assert_int_equal(cmp("a.json", "ulp1.json", "results.json", 0, 0, &lines, NULL),
			 AUDIT_DIFFERS); /* --ulp 0 */
	free(lines);
	double far = m;
	for (int i = 0; i < 10; i++)
		far = nextafter(far, 1);
	json_with("ulp10.json", far, 8, "stable", l, "x");
	expect("a.json", "ulp10.json", "results.json", AUDIT_DIFFERS,
	       "groups.g.1.mean: 0.2538437225157395 archived, 0.25384372251574006 recomputed (10 ULP, "
	       "more than 4)");
	json_with("int.json", m, 16, "stable", l, "x");
	expect("a.json", "int.json", "r.json", AUDIT_DIFFERS,
	       "groups.g.1.k: 8 archived, 16 recomputed (integers must be equal)");
	json_with("str.json", m, 8, "unstable", l, "x");
	expect("a.json", "str.json", "r.json", AUDIT_DIFFERS,
	       "groups.g.1.label: \"stable\" archived, \"unstable\" recomputed");
	json_with("sel.json", m, 8, "stable", nextafter(l, 1), "x");
	expect("a.json", "sel.json", "r.json", AUDIT_DIFFERS, "selected_lambda: 0.029999999999999999 "
							    "archived, 0.030000000000000002 recomputed (a conclusion");
	json_with("meta.json", m, 8, "stable", l, "another time");
	expect("a.json", "meta.json", "r.json", AUDIT_DIFFERS, "run_metadata.t");
	lines = NULL;
	assert_int_equal(cmp("a.json", "meta.json", "r.json", 4, 1, &lines, NULL), AUDIT_IDENTICAL);
	free(lines);
	/* a 1-ULP change that crosses a printed digit */
	json_with("p1.json", 0.125, 8, "stable", l, "x");
	json_with("p2.json", nextafter(0.125, 1), 8, "stable", l, "x");
	expect("p1.json", "p2.json", "r.json", AUDIT_DIFFERS,
	       "(1 ULP, but the report's %.2f prints them differently)");
	/* under a selected record, a statistic may move within the bound; the selection not */
	put("sel1.json", "{\"selected_record\": {\"k\": 8, \"mean\": 0.1}, \"selected_ks\": [8, 0.5]}\n");
	put("sel2.json", "{\"selected_record\": {\"k\": 8, \"mean\": 0.10000000000000002}, "
			 "\"selected_ks\": [8, 0.5]}\n");
	put("sel3.json", "{\"selected_record\": {\"k\": 8, \"mean\": 0.1}, "
			 "\"selected_ks\": [8, 0.50000000000000011]}\n");
	expect("sel1.json", "sel2.json", "r.json", AUDIT_WITHIN, "max 1 ULP");
	expect("sel1.json", "sel3.json", "r.json", AUDIT_DIFFERS, "selected_ks.1: 0.5 archived");
	put("keys1.json", "{\"a\": 1.5, \"b\": 2}\n");
	put("keys2.json", "{\"a\": 1.5}\n");
	expect("keys1.json", "keys2.json", "r.json", AUDIT_DIFFERS, "b: only in the archived file");
	put("kind.json", "{\"a\": 1.5, \"b\": 2.0}\n");
	expect("keys1.json", "kind.json", "r.json", AUDIT_DIFFERS,
	       "b: an integer archived, a real recomputed");
	put("order.json", "{\"b\": 2, \"a\": 1.5}\n");
	expect("keys1.json", "order.json", "r.json", AUDIT_WITHIN, "max 0 ULP");
	put("bad.json", "{\"a\": \n");
	expect("keys1.json", "bad.json", "r.json", AUDIT_DIFFERS, "the recomputed file is not JSON");
	expect("keys1.json", "missing.json", "r.json", AUDIT_DIFFERS,
	       "not written by the recomputation");
	expect("missing.json", "keys1.json", "r.json", AUDIT_DIFFERS, "missing from the archive");
}

static void test_csv(void **state)
{
	(void)state;
	float v = 0.31415927f;
	char t[512];
	snprintf(t, sizeof(t), "seed_a,seed_b,pwmcc,label\n1,2,%.9g,\"a,b\"\n1,3,0.5,x\n", v);
	put("a.csv", t);
	put("same.csv", t);
	expect("a.csv", "same.csv", "g_trained_pairwise_pwmcc.csv", AUDIT_IDENTICAL, NULL);
	snprintf(t, sizeof(t), "seed_a,seed_b,pwmcc,label\n1,2,%.9g,\"a,b\"\n1,3,0.5,x\n",
		 nextafterf(nextafterf(v, 1), 1));
	put("ulp2.csv", t);
	expect("a.csv", "ulp2.csv", "x.csv", AUDIT_WITHIN, "max 2 ULP");
	snprintf(t, sizeof(t), "seed_a,seed_b,pwmcc,label\n1,2,%.9g,\"a,c\"\n1,3,0.5,x\n", v);
	put("str.csv", t);
	expect("a.csv", "str.csv", "x.csv", AUDIT_DIFFERS,
	       "line 2, column 'label': \"a,b\" archived, \"a,c\" recomputed");
	snprintf(t, sizeof(t), "seed_a,seed_b,pwmcc,label\n1,4,%.9g,\"a,b\"\n1,3,0.5,x\n", v);
	put("int.csv", t);
	expect("a.csv", "int.csv", "x.csv", AUDIT_DIFFERS,
	       "line 2, column 'seed_b': 2 archived, 4 recomputed (integers must be equal)");
	snprintf(t, sizeof(t), "seed_a,seed_b,pwmcc,label\n1,2,%.9g,\"a,b\"\n", v);
	put("short.csv", t);
	expect("a.csv", "short.csv", "x.csv", AUDIT_DIFFERS, "3 rows archived, 2 recomputed");
	put("quote.csv", "seed_a\n\"1\n");
	expect("a.csv", "quote.csv", "x.csv", AUDIT_DIFFERS, "the recomputed file is not CSV");
}

static void h5_with(const char *name, const float *x, const int64_t *n, int extra,
                    const char *numeric_path)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	struct hus_err err = { 0 };
	struct h5w *w;
	struct hus_provenance prov = { "", "" };
	assert_int_equal(h5w_open(&w, p, HUS_FORMAT_ANALYSIS, 1, &prov, &err), 0);
	size_t d3[1] = { 3 }, d22[2] = { 2, 2 }, d4[1] = { 4 };
	assert_int_equal(h5w_f32(w, "/pairs/g/sim", x, 1, d3, &err), 0);
	assert_int_equal(h5w_i64(w, "/pairs/g/seed", n, 2, d22, &err), 0);
	double d[4] = { 0.1, 0.2, 0.3, 0.4 };
	assert_int_equal(h5w_f64(w, extra ? "/pairs/g/extra" : "/pairs/g/pwmcc", d, 1, d4, &err), 0);
	if (numeric_path)
		assert_int_equal(h5w_attr_str(w, "/", "numeric_path", numeric_path, &err), 0);
	assert_int_equal(h5w_commit(w, &err), 0);
}

static void test_h5(void **state)
{
	(void)state;
	float x[3] = { 0.5f, 0.25f, -0.125f };
	int64_t n[4] = { 1, 2, 3, 4 };
	h5_with("a.h5", x, n, 0, "husai-numeric/1 avx2");
	sleep(1); /* another created_utc: the files' bytes differ, their datasets do not */
	h5_with("same.h5", x, n, 0, "husai-numeric/1 avx2");
	expect("a.h5", "same.h5", "analysis.h5", AUDIT_IDENTICAL, "identical        analysis.h5\n");
	float y[3] = { 0.5f, nextafterf(nextafterf(0.25f, 1), 1), -0.125f };
	h5_with("ulp.h5", y, n, 0, "husai-numeric/1 avx512");
	expect("a.h5", "ulp.h5", "analysis.h5", AUDIT_WITHIN,
	       "  within 4 ULP     /pairs/g/sim: max |diff| 5.96e-08, max 2 ULP [numeric_path "
	       "archived \"husai-numeric/1 avx2\", recomputed \"husai-numeric/1 avx512\"]");
	float z[3] = { 0.5f, 0.25f, -0.126f };
	h5_with("far.h5", z, n, 0, NULL);
	expect("a.h5", "far.h5", "analysis.h5", AUDIT_DIFFERS,
	       "  differs          /pairs/g/sim: element [2]: -0.125 archived, -0.126000002 recomputed "
	       "(first beyond 4 ULP)");
	/* every file husai writes records the path that made it (here: this process's) */
	char says[128];
	snprintf(says, sizeof(says), "recomputed \"%s\"", hus_numeric_path());
	expect("a.h5", "far.h5", "analysis.h5", AUDIT_DIFFERS, says);
	int64_t m[4] = { 1, 2, 5, 4 };
	h5_with("int.h5", x, m, 0, NULL);
	expect("a.h5", "int.h5", "analysis.h5", AUDIT_DIFFERS,
	       "/pairs/g/seed: element [1, 0]: 3 archived, 5 recomputed (integers must be equal)");
	h5_with("extra.h5", x, n, 1, NULL);
	expect("a.h5", "extra.h5", "analysis.h5", AUDIT_DIFFERS,
	       "/pairs/g/extra: only in the recomputed file");
	expect("a.h5", "extra.h5", "analysis.h5", AUDIT_DIFFERS,
	       "/pairs/g/pwmcc: only in the archived file");
	put("junk.h5", "not hdf5");
	expect("a.h5", "junk.h5", "analysis.h5", AUDIT_DIFFERS, "the recomputed file is unreadable");
}

/* ---------------------------------------------------------------- recorded commands -- */

static char run[300];

static void make_run(void)
{
	snprintf(run, sizeof(run), "%s/run", dir);
	char p[600];
	snprintf(p, sizeof(p), "%s/sae/g", run);
	assert_int_equal(hus_mkdirs(p, NULL), 0);
	snprintf(p, sizeof(p), "%s/jobs", run);
	assert_int_equal(hus_mkdirs(p, NULL), 0);
	put("run/jobs/analysis.yaml", "analysis:\n  threshold: 0.5\n");
	put("run/sae/g/s1.h5", "x");
	put("run/sae/g/s2.h5", "x");
}

/* A record of `analyze ARGS` made at /orig/run, outputs in analysis/g; read it. */
static int read_job(const char *args_json, struct audit_job *job, struct hus_err *err)
{
	char text[4096];
	snprintf(text, sizeof(text),
		 "{\"argv\": [\"analyze\", %s], \"outputs\": [{\"path\": \"analysis/g/results.json\", "
		 "\"sha256\": \"0\"}, {\"path\": \"analysis/g/analysis.h5\", \"sha256\": \"0\"}]}",
		 args_json);
	hj *rec;
	assert_int_equal(hj_parse(text, strlen(text), "rec", &rec, NULL), 0);
	char real[4096];
	assert_non_null(realpath(run, real));
	memset(err, 0, sizeof(*err));
	int rc = audit_job_read(rec, "jobs/x.done.json", real, "/scratch/out", job, err);
	hj_free(rec);
	return rc;
}

static void test_argv_mapped(void **state)
{
	(void)state;
	make_run();
	struct audit_job job;
	struct hus_err err;
	assert_int_equal(read_job("\"--config\", \"/orig/run/jobs/analysis.yaml\", "
				  "\"--group\", \"g=/orig/run/sae/g/s1.h5,/orig/run/sae/g/s2.h5\", "
				  "\"--out\", \"/orig/run/analysis/g\", \"--bootstrap=500\", "
				  "\"--no-matchings\", \"--control\", \"both\"",
				  &job, &err),
			 0);
	char real[4096];
	assert_non_null(realpath(run, real));
	char want[6][9000];
	snprintf(want[0], sizeof(want[0]), "analyze");
	snprintf(want[1], sizeof(want[1]), "--config=%s/jobs/analysis.yaml", real);
	snprintf(want[2], sizeof(want[2]), "--group=g=%s/sae/g/s1.h5,%s/sae/g/s2.h5", real, real);
	snprintf(want[3], sizeof(want[3]), "--bootstrap=500");
	snprintf(want[4], sizeof(want[4]), "--no-matchings");
	snprintf(want[5], sizeof(want[5]), "--control=both");
	for (int i = 0; i < 6; i++)
		assert_string_equal(job.argv[i], want[i]);
	assert_string_equal(job.argv[6], "--out=/scratch/out");
	assert_null(job.argv[7]);
	assert_string_equal(job.prefix, "/orig/run");
	assert_string_equal(job.out_rel, "analysis/g");
	assert_int_equal(job.n_outputs, 2);
	audit_job_free(&job);
	/* a run recorded with a relative --out */
	assert_int_equal(read_job("\"--group\", \"g=artifacts/r/sae/g/s1.h5\", \"--out\", "
				  "\"artifacts/r/analysis/g/\"",
				  &job, &err),
			 0);
	assert_string_equal(job.prefix, "artifacts/r");
	audit_job_free(&job);
}

static void test_argv_refused(void **state)
{
	(void)state;
	make_run();
	static const struct {
		const char *args, *where, *says;
	} bad[] = {
		{ "\"--out=/tmp/PWNED\"", "argv.1", "is not <run>/analysis/g" },
		{ "\"--ou\", \"/orig/run/analysis/g\"", "argv.1", "'--ou' is not an option" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--out\", \"/x/analysis/g\"", "argv.3",
		  "a second --out (the first is argv.1)" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--group\", \"g=/etc/passwd\"", "argv.4",
		  "not a file inside the run directory '/orig/run'" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--group\", \"g=/orig/run/../../etc/passwd\"",
		  "argv.4", "not a file inside" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--group\", \"a/b=/orig/run/sae/g/s1.h5\"",
		  "argv.4", "with a plain name" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--group\", \"g=/orig/run/sae/g/s1.h5,\"",
		  "argv.4", "an empty or overlong file" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--activations\", \"/orig/run/nope.h5\"",
		  "argv.4", "which has no such file" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"stray\"", "argv.3", "expected an option" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--\"", "argv.3", "expected an option" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--=x\"", "argv.3", "expected an option" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--seed-r2\"", "argv.3",
		  "expected a value after --seed-r2, found the end of the command" },
		{ "\"--out\", \"/orig/run/analysis/g\", \"--no-matchings=1\"", "argv.3",
		  "takes no value" },
		{ "\"--bootstrap\", \"--out=/x\"", "argv.1", "expected a value after --bootstrap" },
		{ "\"--bootstrap\", \"5\"", "argv", "expected --out <run>/analysis/g" },
		{ "1", "argv.1", "expected a string" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct audit_job job;
		struct hus_err err;
		if (!read_job(bad[i].args, &job, &err)) {
			audit_job_free(&job);
			fail_msg("accepted: %s", bad[i].args);
		}
		if (strcmp(err.file, "jobs/x.done.json") || strcmp(err.where, bad[i].where) ||
		    !strstr(err.msg, bad[i].says))
			fail_msg("%s: got %s:%s: %s", bad[i].args, err.file, err.where, err.msg);
		assert_null(job.argv);
	}
	/* a config that names files of its own */
	put("run/jobs/analysis.yaml", "analysis:\n  groups:\n    g: /etc/passwd\n");
	struct audit_job job;
	struct hus_err err;
	assert_int_not_equal(read_job("\"--config\", \"/orig/run/jobs/analysis.yaml\", \"--out\", "
				      "\"/orig/run/analysis/g\"",
				      &job, &err),
			     0);
	assert_non_null(strstr(err.msg, "sets analysis.groups"));
	put("run/jobs/analysis.yaml", "analysis:\n  threshold: 0.5\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ulp),
		cmocka_unit_test(test_printed),
		cmocka_unit_test(test_conclusion_keys),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_h5),
		cmocka_unit_test(test_argv_mapped),
		cmocka_unit_test(test_argv_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
