/*
 * test_analyze.c — the analysis driver end to end on small SAE checkpoints written here with
 * h5w_* in the husai.sae_checkpoint schema (docs/decisions.md §10): results.json keys and values
 * against the naive PWMCC of the sorted pairs, CSVs, the analysis HDF5 read back, identical
 * bytes on a second run, the CLI verb, and bad input (mismatched d_model, NaN weights,
 * duplicate seeds, a single seed, missing files, bad group names).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "builtin.h"

#define assert_near(a, b, eps)                                                              \
	do {                                                                                \
		double a_ = (a), b_ = (b), e_ = (eps);                                      \
		if (!(fabs(a_ - b_) <= e_))                                                 \
			fail_msg("%s = %.17g, expected %.17g within %g", #a, a_, b_, e_);   \
	} while (0)

#define D 16
#define M 32

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/husai_test_analyze_%d", (int)getpid());
	return hus_mkdirs(dir, NULL);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* A "trained" decoder: a shared base (seed 7) plus per-seed noise, so pairs agree more than
 * random ones do.  Shape (d, m), column j = feature j. */
static void trained_decoder(float *W, size_t d, size_t m, int64_t seed, float noise)
{
	float *base = malloc(sizeof(float) * d * m), *eps = malloc(sizeof(float) * d * m);
	assert_int_equal(torch_randn_f32(base, d * m, 7), 0);
	assert_int_equal(torch_randn_f32(eps, d * m, (uint64_t)seed), 0);
	for (size_t e = 0; e < d * m; e++)
		W[e] = base[e] + noise * eps[e];
	free(base), free(eps);
}

static void write_ckpt(const char *path, int64_t seed, size_t d, size_t m, const float *W_dec,
                       const char *control)
{
	struct hus_err err = { 0 };
	struct h5w *w;
	struct hus_provenance prov = { "", "" };
	assert_int_equal(h5w_open(&w, path, HUS_FORMAT_SAE, 1, &prov, &err), 0);
	size_t dd[2] = { d, m }, de[2] = { m, d }, db[1] = { m };
	float *W_enc = calloc(m * d, sizeof(float)), *b_enc = calloc(m, sizeof(float));
	for (size_t j = 0; j < m; j++)
		for (size_t r = 0; r < d; r++)
			W_enc[j * d + r] = W_dec[r * m + j];
	assert_int_equal(h5w_f32(w, "/params/W_dec", W_dec, 2, dd, &err), 0);
	assert_int_equal(h5w_f32(w, "/params/W_enc", W_enc, 2, de, &err), 0);
	assert_int_equal(h5w_f32(w, "/params/b_enc", b_enc, 1, db, &err), 0);
	assert_int_equal(h5w_attr_str(w, "/", "architecture", "topk", &err), 0);
	assert_int_equal(h5w_attr_i64(w, "/", "k", 4, &err), 0);
	assert_int_equal(h5w_attr_i64(w, "/", "seed", seed, &err), 0);
	assert_int_equal(h5w_attr_i64(w, "/", "step", 100, &err), 0);
	assert_int_equal(h5w_attr_str(w, "/", "condition", "test", &err), 0);
	assert_int_equal(h5w_attr_str(w, "/", "control", control, &err), 0);
	assert_int_equal(h5w_attr_i64(w, "/", "d_model", (int64_t)d, &err), 0);
	assert_int_equal(h5w_attr_i64(w, "/", "d_sae", (int64_t)m, &err), 0);
	assert_int_equal(h5w_commit(w, &err), 0);
	free(W_enc), free(b_enc);
}

static const int64_t seeds[4] = { 456, 42, 1011, 123 }; /* deliberately unsorted */
static char paths[4][300];
static const char *pathv[4];

static void make_group(void)
{
	float W[D * M];
	for (int i = 0; i < 4; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/sae_seed%d.h5", dir, (int)seeds[i]);
		pathv[i] = paths[i];
		trained_decoder(W, D, M, seeds[i], 0.3f);
		write_ckpt(paths[i], seeds[i], D, M, W, "none");
	}
}

static void request(struct analysis_request *q, struct analysis_group *g, const char *out)
{
	analysis_request_defaults(q);
	g->name = "g1";
	g->paths = pathv;
	g->n = 4;
	g->r2_paths = NULL;
	g->n_r2 = 0;
	q->groups = g;
	q->n_groups = 1;
	q->bootstrap_B = 500;
	q->perm_B = 199;
	q->out_dir = out;
}

static char *slurp(const char *path)
{
	char *buf;
	size_t n;
	struct hus_err err = { 0 };
	assert_int_equal(hus_read_file(path, &buf, &n, &err), 0);
	return buf;
}

static void test_end_to_end(void **state)
{
	(void)state;
	make_group();
	struct analysis_request q;
	struct analysis_group g;
	char out[300];
	snprintf(out, sizeof(out), "%s/run1", dir);
	request(&q, &g, out);
	struct hus_err err = { 0 };
	hj *res = NULL;
	int rc = analysis_run(&q, &res, &err);
	if (rc)
		fail_msg("analysis_run: %s: %s: %s", err.file, err.where, err.msg);
	/* upstream keys (docs/formulas.md §6.2) */
	int64_t np;
	assert_int_equal(hj_get_i64(res, "groups.g1.trained.n_pairs", &np), 0);
	assert_int_equal(np, 6);
	hj *vals = hj_get(res, "groups.g1.trained.pwmcc_values");
	assert_int_equal(hj_len(vals), 6);
	/* pair 0 is (42, 123): the two smallest seeds, in that order (§5.2) */
	float A[D * M], B[D * M];
	trained_decoder(A, D, M, 42, 0.3f);
	trained_decoder(B, D, M, 123, 0.3f);
	assert_near(hj_as_f64(hj_at(vals, 0)), pwmcc_ref(A, B, D, M, M), 2e-6);
	trained_decoder(A, D, M, 456, 0.3f);
	trained_decoder(B, D, M, 1011, 0.3f);
	assert_near(hj_as_f64(hj_at(vals, 5)), pwmcc_ref(A, B, D, M, M), 2e-6);
	double tm, rm, diff, p;
	assert_int_equal(hj_get_f64(res, "groups.g1.trained.mean", &tm), 0);
	assert_int_equal(hj_get_f64(res, "groups.g1.random.mean", &rm), 0);
	assert_int_equal(hj_get_f64(res, "groups.g1.comparison.difference", &diff), 0);
	assert_near(diff, tm - rm, 1e-15);
	assert_true(tm > rm + 0.1);
	assert_int_equal(hj_get_f64(res, "groups.g1.statistical_test.p_value", &p), 0);
	assert_true(p < 0.05);
	assert_string_equal(hj_get_str(res, "groups.g1.conclusion"), "training_signal_present");
	assert_string_equal(hj_get_str(res, "groups.g1.random_control"), "r1");
	/* R1 seeds = seed + 100000, sorted */
	int64_t s0;
	assert_int_equal(hj_get_i64(res, "groups.g1.controls.r1.seeds.0", &s0), 0);
	assert_int_equal(s0, 100042);
	/* R1 pair 0 is the naive PWMCC of those torch-randn matrices */
	float R[D * M], S[D * M];
	struct hus_err e2 = { 0 };
	assert_int_equal(control_r1(R, 100042, D, M, &e2), 0);
	assert_int_equal(control_r1(S, 100123, D, M, &e2), 0);
	assert_near(hj_as_f64(hj_at(hj_get(res, "groups.g1.controls.r1.pwmcc_values"), 0)),
	            pwmcc_ref(R, S, D, M, M), 2e-6);
	/* husai's additions are present beside the upstream numbers */
	double v;
	assert_int_equal(hj_get_f64(res, "groups.g1.controls.r2.mean", &v), 0);
	assert_int_equal(hj_get_f64(res, "groups.g1.controls.analytic_null.expected_pwmcc", &v), 0);
	double want;
	assert_int_equal(null_expected_pwmcc(&want, D, M, M, &e2), 0);
	assert_near(v, want, 1e-12);
	assert_int_equal(hj_get_f64(res, "groups.g1.seed_level_bootstrap.ci95_low", &v), 0);
	assert_true(v <= tm);
	assert_int_equal(hj_get_f64(res, "groups.g1.controls.r1.seed_level_permutation.p_value_greater", &v), 0);
	assert_near(v, 1.0 / 70, 1e-12); /* C(8,4) = 70 splits; only the true one is as extreme */
	assert_int_equal(hj_get_f64(res, "groups.g1.metrics.hungarian_abs_mean.mean_over_pairs", &v), 0);
	assert_true(v > 0.5 && v <= 1);
	assert_int_equal(hj_get_f64(res, "groups.g1.metrics.per_feature_stability.mean", &v), 0);
	assert_true(v > 0.5 && v <= 1);
	/* per-feature arrays for reports: every feature of every model, trained and control; the
	 * mean over all features equals the mean PWMCC when all models have the same d_sae */
	hj *pft = hj_get(res, "groups.g1.per_feature_stability.trained");
	hj *pfc = hj_get(res, "groups.g1.per_feature_stability.control");
	assert_int_equal(hj_len(pft), 4 * M);
	assert_int_equal(hj_len(pfc), 4 * M);
	double st = 0, sc = 0;
	for (size_t i = 0; i < 4 * M; i++) {
		st += hj_as_f64(hj_at(pft, i));
		sc += hj_as_f64(hj_at(pfc, i));
	}
	assert_near(st / (4 * M), tm, 1e-6);
	assert_near(sc / (4 * M), rm, 1e-6);
	hj_free(res);

	/* CSV */
	char path[400];
	snprintf(path, sizeof(path), "%s/g1_trained_pairwise_pwmcc.csv", out);
	char *csv = slurp(path);
	assert_memory_equal(csv, "seed_a,seed_b,pwmcc\n42,123,", 25);
	free(csv);
	/* the analysis artifact */
	struct h5r *r;
	snprintf(path, sizeof(path), "%s/analysis.h5", out);
	assert_int_equal(h5r_open(&r, path, ANALYSIS_FORMAT, ANALYSIS_VERSION, &err), 0);
	struct ana_pairs tab;
	const char *names[] = { "pwmcc", "r_a", "r_b", "mnn_fraction", "subspace_overlap", NULL };
	assert_int_equal(ana_read_pairs(r, "/pairs/g1", names, &tab, &err), 0);
	assert_int_equal(tab.n, 6);
	assert_int_equal(tab.seed_a[0], 42);
	assert_int_equal(tab.seed_b[5], 1011);
	assert_near(tab.col[0][5], pwmcc_ref(A, B, D, M, M), 2e-6);
	assert_near(tab.col[0][2], (tab.col[1][2] + tab.col[2][2]) / 2, 1e-15);
	ana_pairs_release(&tab);
	float *stab;
	size_t m;
	assert_int_equal(ana_read_per_feature(r, "g1", 123, &stab, &m, &err), 0);
	assert_int_equal(m, M);
	free(stab);
	assert_true(h5r_has(r, "/matching/g1/42_123/perm"));
	assert_true(h5r_has(r, "/matching/g1/42_123/signed_sim"));
	assert_true(h5r_has(r, "/controls/g1/r2/pwmcc"));
	h5r_close(r);
	snprintf(path, sizeof(path), "%s/manifest.json", out);
	assert_true(hus_file_exists(path));
}

/* Same inputs twice: identical bytes in results.json and the CSVs, identical datasets. */
static void test_deterministic(void **state)
{
	(void)state;
	struct analysis_request q;
	struct analysis_group g;
	char out2[300], out3[300];
	snprintf(out2, sizeof(out2), "%s/run2", dir);
	snprintf(out3, sizeof(out3), "%s/run3", dir);
	struct hus_err err = { 0 };
	request(&q, &g, out2);
	assert_int_equal(analysis_run(&q, NULL, &err), 0);
	request(&q, &g, out3);
	assert_int_equal(analysis_run(&q, NULL, &err), 0);
	const char *files[] = { "results.json", "g1_trained_pairwise_pwmcc.csv",
		                "g1_r1_pairwise_pwmcc.csv", "g1_r2_pairwise_pwmcc.csv" };
	for (size_t i = 0; i < 4; i++) {
		char a[400], b[400];
		snprintf(a, sizeof(a), "%s/%s", out2, files[i]);
		snprintf(b, sizeof(b), "%s/%s", out3, files[i]);
		char *x = slurp(a), *y = slurp(b);
		assert_string_equal(x, y);
		free(x), free(y);
	}
	/* datasets equal (the files differ only in the created_utc attribute) */
	struct h5r *r2, *r3;
	char a[400];
	snprintf(a, sizeof(a), "%s/analysis.h5", out2);
	assert_int_equal(h5r_open(&r2, a, ANALYSIS_FORMAT, 1, &err), 0);
	snprintf(a, sizeof(a), "%s/analysis.h5", out3);
	assert_int_equal(h5r_open(&r3, a, ANALYSIS_FORMAT, 1, &err), 0);
	const char *names[] = { "pwmcc", "hungarian_abs_mean", "grassmann_distance", NULL };
	struct ana_pairs t2, t3;
	assert_int_equal(ana_read_pairs(r2, "/pairs/g1", names, &t2, &err), 0);
	assert_int_equal(ana_read_pairs(r3, "/pairs/g1", names, &t3, &err), 0);
	for (size_t c = 0; c < 3; c++)
		assert_memory_equal(t2.col[c], t3.col[c], sizeof(double) * t2.n);
	ana_pairs_release(&t2), ana_pairs_release(&t3);
	h5r_close(r2), h5r_close(r3);
}

static void test_cli(void **state)
{
	(void)state;
	char garg[2048], out[300];
	snprintf(garg, sizeof(garg), "g1=%s,%s,%s", paths[0], paths[1], paths[2]);
	snprintf(out, sizeof(out), "%s/cli", dir);
	char *argv[] = { "analyze", "--group", garg, "--control", "r1", "--r1-seeds", "1000,1001,1002",
		         "--bootstrap", "100", "--out", out, NULL };
	assert_int_equal(cmd_analyze(11, argv), 0);
	char path[400];
	snprintf(path, sizeof(path), "%s/results.json", out);
	hj *res;
	struct hus_err err = { 0 };
	assert_int_equal(hj_read_file(path, &res, &err), 0);
	int64_t s;
	assert_int_equal(hj_get_i64(res, "groups.g1.random.seeds.2", &s), 0);
	assert_int_equal(s, 1002);
	assert_null(hj_get(res, "groups.g1.controls.r2"));
	hj_free(res);
	char *bad[] = { "analyze", "--group", "nofiles", "--out", out, NULL };
	assert_int_equal(cmd_analyze(5, bad), 2);
	char *bad2[] = { "analyze", "--group", garg, "--control", "r3", "--out", out, NULL };
	assert_int_equal(cmd_analyze(7, bad2), 2);
	char *help[] = { "analyze", "--help", NULL };
	assert_int_equal(cmd_analyze(2, help), 0);
}

static void test_config(void **state)
{
	(void)state;
	char yaml[2400], cfgp[300], out[300], path[400];
	snprintf(cfgp, sizeof(cfgp), "%s/analysis.yaml", dir);
	snprintf(out, sizeof(out), "%s/cfgrun", dir);
	snprintf(yaml, sizeof(yaml),
	         "analysis:\n  out: %s\n  groups:\n    g1: %s,%s,%s\n  control: r1\n"
	         "  r1_seeds: [1000, 1001, 1002]\n  bootstrap: 50\n  subspace_k: 4\n",
	         out, paths[0], paths[1], paths[2]);
	struct hus_err err = { 0 };
	assert_int_equal(hus_write_file(cfgp, yaml, strlen(yaml), &err), 0);
	char *argv[] = { "analyze", "--config", cfgp, "--bootstrap", "70", NULL };
	assert_int_equal(cmd_analyze(5, argv), 0);
	snprintf(path, sizeof(path), "%s/results.json", out);
	hj *res;
	assert_int_equal(hj_read_file(path, &res, &err), 0);
	int64_t v;
	assert_int_equal(hj_get_i64(res, "parameters.bootstrap_samples", &v), 0);
	assert_int_equal(v, 70); /* the command line overrides the file */
	assert_int_equal(hj_get_i64(res, "groups.g1.random.seeds.0", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(hj_get_i64(res, "groups.g1.metrics.parameters.subspace_k", &v), 0);
	assert_int_equal(v, 4);
	hj_free(res);
	/* an unknown key is an error naming the file */
	snprintf(yaml, sizeof(yaml), "analysis:\n  out: %s\n  groups:\n    g1: %s,%s\n  bootstrapp: 5\n",
	         out, paths[0], paths[1]);
	assert_int_equal(hus_write_file(cfgp, yaml, strlen(yaml), &err), 0);
	struct analysis_spec spec;
	assert_int_equal(analysis_spec_load(&spec, cfgp, &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, "bootstrapp"));
	char *argv2[] = { "analyze", "--config", cfgp, NULL };
	assert_int_equal(cmd_analyze(3, argv2), 1);
}

/* R2 from the step-0 checkpoints the SAE trainer saves (--r2-from) */
static void test_r2_from_step0(void **state)
{
	(void)state;
	char s0[3][300], out[300];
	const char *s0v[3];
	float W0[3][D * M];
	for (int i = 0; i < 3; i++) {
		snprintf(s0[i], sizeof(s0[i]), "%s/step0_%d.h5", dir, i);
		s0v[i] = s0[i];
		assert_int_equal(control_r2(W0[i], (uint64_t)(500 + i), D, M, NULL), 0);
		write_ckpt(s0[i], 500 + i, D, M, W0[i], "R2 step 0");
	}
	snprintf(out, sizeof(out), "%s/r2run", dir);
	struct analysis_request q;
	struct analysis_group g;
	request(&q, &g, out);
	q.r1 = 0;
	g.r2_paths = s0v;
	g.n_r2 = 3;
	struct hus_err err = { 0 };
	hj *res;
	int rc = analysis_run(&q, &res, &err);
	if (rc)
		fail_msg("%s: %s: %s", err.file, err.where, err.msg);
	assert_string_equal(hj_get_str(res, "groups.g1.random_control"), "r2");
	assert_non_null(strstr(hj_get_str(res, "groups.g1.controls.r2.source"), "step-0"));
	hj *v = hj_get(res, "groups.g1.controls.r2.pwmcc_values");
	assert_int_equal(hj_len(v), 3);
	assert_near(hj_as_f64(hj_at(v, 0)), pwmcc_ref(W0[0], W0[1], D, M, M), 2e-6);
	assert_near(hj_as_f64(hj_at(v, 2)), pwmcc_ref(W0[1], W0[2], D, M, M), 2e-6);
	int64_t sd;
	assert_int_equal(hj_get_i64(res, "groups.g1.random.seeds.2", &sd), 0);
	assert_int_equal(sd, 502);
	/* permutation test over 4 trained + 3 step-0 models: C(7,4) = 35 splits */
	assert_int_equal(hj_get_i64(res, "groups.g1.controls.r2.seed_level_permutation.n_permutations", &sd), 0);
	assert_int_equal(sd, 35);
	hj_free(res);
}

/* Activation-level agreement from an activation set (spec 5.4) */
static void test_activations(void **state)
{
	(void)state;
	char ap[300], out[300];
	snprintf(ap, sizeof(ap), "%s/acts.h5", dir);
	snprintf(out, sizeof(out), "%s/acts_run", dir);
	size_t N = 64;
	float *X = malloc(sizeof(float) * N * D);
	assert_int_equal(torch_randn_f32(X, N * D, 77), 0);
	struct hus_err err = { 0 };
	struct hus_provenance prov = { "", "" };
	struct acts_set set = { .N = N, .d = D, .x = X, .layer = -1 };
	assert_int_equal(acts_write(ap, &set, &prov, &err), 0);
	struct analysis_request q;
	struct analysis_group g;
	request(&q, &g, out);
	q.activations = ap;
	q.act_rows = 50;
	hj *res;
	int rc = analysis_run(&q, &res, &err);
	if (rc)
		fail_msg("%s: %s: %s", err.file, err.where, err.msg);
	hj *pv = hj_get(res, "groups.g1.metrics.act_abs_pearson.values");
	hj *jv = hj_get(res, "groups.g1.metrics.act_topk_jaccard.values");
	assert_int_equal(hj_len(pv), 6);
	/* pair 0 = seeds (42, 123): recompute with the library on the first 50 rows */
	float A[D * M], B[D * M], WA[M * D], WB[M * D], b[M], za[50 * M], zb[50 * M];
	trained_decoder(A, D, M, 42, 0.3f);
	trained_decoder(B, D, M, 123, 0.3f);
	for (size_t j = 0; j < M; j++) {
		b[j] = 0;
		for (size_t r = 0; r < D; r++)
			WA[j * D + r] = A[r * M + j], WB[j * D + r] = B[r * M + j];
	}
	struct sae_encoder ea = { LATENT_TOPK, D, M, 4, WA, b, NULL, NULL }, eb = ea;
	eb.W_enc = WB;
	assert_int_equal(sae_latents(za, &ea, X, 50, &err), 0);
	assert_int_equal(sae_latents(zb, &eb, X, 50, &err), 0);
	struct act_agreement ag;
	assert_int_equal(act_agreement(&ag, za, zb, 50, M, 4, &err), 0);
	assert_near(hj_as_f64(hj_at(pv, 0)), ag.abs_pearson, 1e-12);
	assert_near(hj_as_f64(hj_at(jv, 0)), ag.jaccard, 1e-12);
	assert_true(ag.jaccard > 0.2); /* similar encoders pick similar latents */
	hj_free(res);
	/* an activation set of the wrong width is named */
	set.d = D / 2;
	assert_int_equal(acts_write(ap, &set, &prov, &err), 0);
	assert_int_equal(analysis_run(&q, NULL, &err), HUS_EINPUT);
	assert_string_equal(err.where, "/activations");
	free(X);
}

/* Through the driver, phase 4a's R1 control (seeds 1000-1004, 128 x 1024) gives upstream's
 * random mean 0.298829 (docs/formulas.md §6.2) and the analytic null sits within 0.002 of it. */
static void test_phase4a_random_mean(void **state)
{
	(void)state;
	size_t d = 128, m = 1024;
	float *W = malloc(sizeof(float) * d * m);
	char p1[300], p2[300], out[300];
	snprintf(p1, sizeof(p1), "%s/big1.h5", dir);
	snprintf(p2, sizeof(p2), "%s/big2.h5", dir);
	snprintf(out, sizeof(out), "%s/phase4a", dir);
	trained_decoder(W, d, m, 1, 0.5f);
	write_ckpt(p1, 42, d, m, W, "none");
	trained_decoder(W, d, m, 2, 0.5f);
	write_ckpt(p2, 123, d, m, W, "none");
	free(W);
	const char *pv[2] = { p1, p2 };
	const int64_t r1s[5] = { 1000, 1001, 1002, 1003, 1004 };
	struct analysis_request q;
	struct analysis_group g = { "phase4a", pv, 2, NULL, 0 };
	analysis_request_defaults(&q);
	q.groups = &g;
	q.n_groups = 1;
	q.r2 = 0;
	q.r1_seeds = r1s;
	q.n_r1_seeds = 5;
	q.bootstrap_B = 100;
	q.hungarian_max = 0; /* not needed here */
	q.subspace_k = 2;
	q.out_dir = out;
	struct hus_err err = { 0 };
	hj *res;
	assert_int_equal(analysis_run(&q, &res, &err), 0);
	double rm, null;
	int64_t np;
	assert_int_equal(hj_get_f64(res, "groups.phase4a.random.mean", &rm), 0);
	assert_int_equal(hj_get_i64(res, "groups.phase4a.random.n_pairs", &np), 0);
	assert_int_equal(np, 10);
	assert_near(round(rm * 1e6) / 1e6, 0.298829, 1e-12);
	assert_int_equal(hj_get_f64(res, "groups.phase4a.controls.analytic_null.expected_pwmcc", &null), 0);
	assert_near(null, rm, 0.002);
	assert_true(isnan(hj_as_f64(hj_get(res, "groups.phase4a.metrics.hungarian_abs_mean.mean_over_pairs"))));
	hj_free(res);
}

/* Errors and warnings of the metrics name the checkpoint: a failed SVD (provoked: GSL was
 * never seen to fail on a finite decoder) in a basis and in a pair, and an all-zero decoder
 * (an SAE trained on all-zero inputs), which is a warning on stderr. */
static void test_names_the_checkpoint(void **state)
{
	(void)state;
	make_group();
	struct analysis_request q;
	struct analysis_group g;
	char out[300];
	snprintf(out, sizeof(out), "%s/named", dir);
	request(&q, &g, out);
	q.bootstrap_B = 50;
	q.perm_B = 19;
	struct hus_err err = { 0 };
	setenv("HUSAI_FAULT", "subspace_svd:2", 1);
	assert_int_equal(analysis_run(&q, NULL, &err), HUS_EINTERNAL);
	assert_non_null(strstr(err.msg, "SVD"));
	assert_string_equal(err.where, "/params/W_dec");
	int named = 0;
	for (int i = 0; i < 4; i++)
		named += !strcmp(err.file, paths[i]);
	assert_int_equal(named, 1);
	memset(&err, 0, sizeof(err));
	setenv("HUSAI_FAULT", "subspace_compare_svd", 1);
	assert_int_equal(analysis_run(&q, NULL, &err), HUS_EINTERNAL);
	assert_non_null(strstr(err.msg, "SVD of U1'U2"));
	named = 0;
	for (int i = 0; i < 4; i++)
		named += !strcmp(err.file, paths[i]) + (strstr(err.msg, paths[i]) != NULL);
	assert_int_equal(named, 2); /* one checkpoint as the file, the other in the message */
	unsetenv("HUSAI_FAULT");

	/* an all-zero decoder: a warning naming the file, on stderr */
	char pz[300], log[320];
	snprintf(pz, sizeof(pz), "%s/zero.h5", dir);
	snprintf(log, sizeof(log), "%s/stderr.txt", dir);
	static float Z[D * M];
	write_ckpt(pz, 77, D, M, Z, "none");
	const char *zero[2] = { paths[0], pz };
	g.paths = zero;
	g.n = 2;
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen(log, "w");
	assert_non_null(f);
	dup2(fileno(f), 2);
	hj *res = NULL;
	memset(&err, 0, sizeof(err));
	int rc = analysis_run(&q, &res, &err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fclose(f);
	hj_free(res);
	char *text = slurp(log);
	char want[800];
	snprintf(want, sizeof(want), "husai: warning: %s:/params/W_dec: %d of %d decoder columns are "
		 "zero (all of them: was it trained on all-zero inputs?)", pz, M, M);
	if (!strstr(text, want))
		fail_msg("rc %d, stderr was: %s", rc, text);
	free(text);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct analysis_request q;
	struct analysis_group g;
	char out[300], p5[300], p6[300], p7[300];
	snprintf(out, sizeof(out), "%s/bad", dir);
	struct hus_err err = { 0 };
	float W[D * 2 * M];

	/* mismatched d_model */
	snprintf(p5, sizeof(p5), "%s/wide.h5", dir);
	assert_int_equal(torch_randn_f32(W, 2 * D * M, 5), 0);
	write_ckpt(p5, 5, 2 * D, M, W, "none");
	const char *mix[2] = { paths[0], p5 };
	request(&q, &g, out);
	g.paths = mix;
	g.n = 2;
	assert_int_equal(analysis_run(&q, NULL, &err), HUS_EINPUT);
	assert_string_equal(err.file, p5);
	assert_string_equal(err.where, "/params/W_dec");
	assert_non_null(strstr(err.msg, "d_model"));

	/* NaN weights are named with their feature */
	snprintf(p6, sizeof(p6), "%s/nan.h5", dir);
	trained_decoder(W, D, M, 6, 0.3f);
	W[3 * M + 9] = NAN;
	write_ckpt(p6, 6, D, M, W, "none");
	const char *withnan[2] = { paths[0], p6 };
	g.paths = withnan;
	assert_int_equal(analysis_run(&q, NULL, &err), HUS_EINPUT);
	assert_string_equal(err.file, p6);
	assert_non_null(strstr(err.msg, "feature 9"));

	/* duplicate seed */
	snprintf(p7, sizeof(p7), "%s/dup.h5", dir);
	trained_decoder(W, D, M, 42, 0.3f);
	write_ckpt(p7, 42, D, M, W, "none");
	const char *dup[2] = { paths[1], p7 };
	g.paths = dup;
	assert_int_equal(analysis_run(&q, NULL, &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, "seed 42"));

	/* a zero column is reported, not divided by */
	trained_decoder(W, D, M, 8, 0.3f);
	for (size_t r = 0; r < D; r++)
		W[r * M + 4] = 0;
	write_ckpt(p7, 8, D, M, W, "none");
	const char *zero[2] = { paths[0], p7 };
	g.paths = zero;
	hj *res;
	assert_int_equal(analysis_run(&q, &res, &err), 0);
	int64_t z;
	assert_int_equal(hj_get_i64(res, "groups.g1.checkpoint_manifest.0.zero_columns", &z), 0);
	assert_int_equal(z, 1);
	double v;
	assert_int_equal(hj_get_f64(res, "groups.g1.trained.mean", &v), 0);
	assert_true(isfinite(v));
	hj_free(res);

	/* decoders of different widths (m_A != m_B) are fine: every metric handles rectangles */
	float *Wr = malloc(sizeof(float) * D * 48);
	assert_int_equal(torch_randn_f32(Wr, D * 48, 9), 0);
	write_ckpt(p7, 9, D, 48, Wr, "none");
	free(Wr);
	const char *rect[2] = { paths[0], p7 };
	g.paths = rect;
	assert_int_equal(analysis_run(&q, &res, &err), 0);
	assert_int_equal(hj_get_f64(res, "groups.g1.trained.mean", &v), 0);
	float *Aw = malloc(sizeof(float) * D * 48), Bw[D * M];
	assert_int_equal(torch_randn_f32(Aw, D * 48, 9), 0);
	trained_decoder(Bw, D, M, 456, 0.3f);
	assert_near(v, pwmcc_ref(Aw, Bw, D, 48, M), 2e-6); /* seeds 9 < 456: pair (9, 456) */
	free(Aw);
	assert_int_equal(hj_len(hj_get(res, "groups.g1.per_feature_stability.trained")), 48 + M);
	assert_true(isfinite(hj_as_f64(hj_get(res, "groups.g1.metrics.hungarian_abs_mean.mean_over_pairs"))));
	hj_free(res);

	/* a single seed: statistics null with a reason, no crash */
	const char *one[1] = { paths[0] };
	g.paths = one;
	g.n = 1;
	assert_int_equal(analysis_run(&q, &res, &err), 0);
	assert_int_equal(hj_get_f64(res, "groups.g1.trained.mean", &v), 0);
	assert_true(isnan(v)); /* null reads as NaN */
	assert_non_null(hj_get_str(res, "groups.g1.trained.reason"));
	assert_int_equal(hj_get_f64(res, "groups.g1.statistical_test.p_value", &v), 0);
	assert_true(isnan(v));
	assert_non_null(hj_get_str(res, "groups.g1.seed_level_bootstrap.reason"));
	hj_free(res);

	/* missing file, wrong format, bad group name */
	const char *missing[2] = { paths[0], "/nonexistent/x.h5" };
	g.paths = missing;
	g.n = 2;
	assert_true(analysis_run(&q, NULL, &err) < 0);
	assert_string_equal(err.file, "/nonexistent/x.h5");
	g.paths = pathv;
	g.name = "a/b";
	assert_int_equal(analysis_run(&q, NULL, &err), HUS_EUSAGE);
}

/* Above hungarian_max the matching is the sparse assignment with its certificate: on these
 * related decoders it is proven optimal and equals the dense solver's values. */
static void test_sparse_hungarian(void **state)
{
	(void)state;
	make_group();
	struct analysis_request q;
	struct analysis_group g;
	char out[300];
	struct hus_err err = { 0 };
	hj *dense = NULL, *sparse = NULL;
	snprintf(out, sizeof(out), "%s/hung_dense", dir);
	request(&q, &g, out);
	q.r2 = 0;
	assert_int_equal(analysis_run(&q, &dense, &err), 0);
	snprintf(out, sizeof(out), "%s/hung_sparse", dir);
	request(&q, &g, out);
	q.r2 = 0;
	q.hungarian_max = 8; /* d_sae 32 > 8: sparse */
	assert_int_equal(analysis_run(&q, &sparse, &err), 0);
	assert_int_equal(hj_kind_of(hj_get(sparse, "groups.g1.metrics.hungarian_certificate.exact")),
	                 HJ_TRUE);
	const char *keys[] = { "groups.g1.metrics.hungarian_abs_mean.values",
		               "groups.g1.metrics.hungarian_signed_mean.values" };
	for (size_t k = 0; k < 2; k++) {
		hj *a = hj_get(dense, keys[k]), *b = hj_get(sparse, keys[k]);
		assert_int_equal(hj_len(a), 6);
		assert_int_equal(hj_len(b), 6);
		for (size_t p = 0; p < 6; p++)
			assert_near(hj_as_f64(hj_at(a, p)), hj_as_f64(hj_at(b, p)), 1e-9);
	}
	/* candidates held for one pair at a time (the others matched in chunks of their own,
	 * each with its own product): the same values to the bit */
	hj *chunked = NULL;
	snprintf(out, sizeof(out), "%s/hung_chunked", dir);
	request(&q, &g, out);
	q.r2 = 0;
	q.hungarian_max = 8;
	q.match_memory = 1;
	assert_int_equal(analysis_run(&q, &chunked, &err), 0);
	const char *same[] = { "groups.g1.metrics.hungarian_abs_mean.values",
		               "groups.g1.metrics.hungarian_signed_mean.values",
		               "groups.g1.metrics.hungarian_certificate.abs_dual_bound",
		               "groups.g1.metrics.hungarian_certificate.signed_gap",
		               "groups.g1.metrics.subspace_overlap.values" };
	for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++) {
		hj *a = hj_get(sparse, same[k]), *b = hj_get(chunked, same[k]);
		assert_int_equal(hj_len(a), 6);
		assert_int_equal(hj_len(b), 6);
		for (size_t p = 0; p < 6; p++) {
			double x = hj_as_f64(hj_at(a, p)), y = hj_as_f64(hj_at(b, p));
			assert_memory_equal(&x, &y, sizeof(x));
		}
	}
	hj_free(chunked);
	hj *bound = hj_get(sparse, "groups.g1.metrics.hungarian_certificate.abs_dual_bound");
	hj *val = hj_get(sparse, "groups.g1.metrics.hungarian_abs_mean.values");
	for (size_t p = 0; p < 6; p++)
		assert_true(hj_as_f64(hj_at(bound, p)) >= hj_as_f64(hj_at(val, p)) - 1e-9);
	hj_free(dense), hj_free(sparse);
}

/* From d_model 256 the subspace bases run on a thread of their own beside the trained pass
 * and the sparse assignments as tasks (analyze/pair_tasks.c): the values do not depend on it
 * (one OpenMP thread: no such thread, everything in line), and a failing basis is still named
 * by its checkpoint. */
static void test_bases_thread(void **state)
{
	(void)state;
	enum { DW = 256, MW = 64, NW = 3 };
	static float W[DW * MW];
	char wpaths[NW][300], out[300];
	const char *wv[NW];
	for (int i = 0; i < NW; i++) {
		snprintf(wpaths[i], sizeof(wpaths[i]), "%s/wide_seed%d.h5", dir, 10 + i);
		wv[i] = wpaths[i];
		trained_decoder(W, DW, MW, 10 + i, 0.5f);
		write_ckpt(wpaths[i], 10 + i, DW, MW, W, "none");
	}
	struct analysis_request q;
	struct analysis_group g;
	struct hus_err err = { 0 };
	hj *res[2] = { NULL, NULL };
	int threads = omp_get_max_threads();
	for (int run = 0; run < 2; run++) {
		snprintf(out, sizeof(out), "%s/wide_%d", dir, run);
		request(&q, &g, out);
		g.paths = wv;
		g.n = NW;
		q.hungarian_max = 8; /* sparse: the assignments are tasks too */
		omp_set_num_threads(run ? 1 : (threads > 1 ? threads : 2));
		assert_int_equal(analysis_run(&q, &res[run], &err), 0);
	}
	omp_set_num_threads(threads);
	const char *keys[] = { "groups.g1.metrics.subspace_overlap.values",
		               "groups.g1.metrics.grassmann_distance.values",
		               "groups.g1.metrics.hungarian_abs_mean.values",
		               "groups.g1.metrics.hungarian_signed_mean.values",
		               "groups.g1.metrics.hungarian_certificate.abs_dual_bound",
		               "groups.g1.metrics.mnn_fraction.values",
		               "groups.g1.controls.r1.pwmcc_values",
		               "groups.g1.controls.r2.pwmcc_values" };
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		hj *a = hj_get(res[0], keys[k]), *b = hj_get(res[1], keys[k]);
		assert_int_equal(hj_len(a), 3);
		assert_int_equal(hj_len(b), 3);
		for (size_t p = 0; p < 3; p++) {
			double x = hj_as_f64(hj_at(a, p)), y = hj_as_f64(hj_at(b, p));
			assert_true(isfinite(x));
			assert_memory_equal(&x, &y, sizeof(x));
		}
	}
	hj_free(res[0]), hj_free(res[1]);
	/* the second basis fails on the bases' thread: the analysis fails, naming that checkpoint */
	snprintf(out, sizeof(out), "%s/wide_fail", dir);
	request(&q, &g, out);
	g.paths = wv;
	g.n = NW;
	omp_set_num_threads(threads > 1 ? threads : 2);
	setenv("HUSAI_FAULT", "subspace_svd:2", 1);
	assert_int_equal(analysis_run(&q, NULL, &err), HUS_EINTERNAL);
	unsetenv("HUSAI_FAULT");
	omp_set_num_threads(threads);
	assert_string_equal(err.file, wpaths[1]);
	assert_string_equal(err.where, "/params/W_dec");
	char rj[320];
	snprintf(rj, sizeof(rj), "%s/results.json", out);
	assert_false(hus_file_exists(rj));
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_end_to_end),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_phase4a_random_mean),
		cmocka_unit_test(test_activations),
		cmocka_unit_test(test_r2_from_step0),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_names_the_checkpoint),
		cmocka_unit_test(test_sparse_hungarian),
		cmocka_unit_test(test_bases_thread),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
