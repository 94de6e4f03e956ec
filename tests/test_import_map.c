/*
 * test_import_map.c — `husai import` end to end through imp_file and cmd_import (issue 9):
 * SAELens-, sparsify-, user-map- and upstream-layout SAEs become husai.sae_checkpoint files
 * whose W_dec [d_model, d_sae] gives the PWMCC the generator computed from the fixture
 * tensors (docs/formulas.md §5.1); the upstream transformer .pt becomes a husai.transformer_checkpoint
 * whose parameters reproduce the fixture's logits (docs/formulas.md §2.2 forward, written out here) and
 * whose Adam moments are torch's bits; a lying orientation, a missing cfg and hostile files
 * are named errors that leave nothing behind; the analyze library reads the imported SAEs.
 * (The transformer stage's reader is exercised in test_import_tf.c: train.h and analyze.h
 * cannot be included together yet.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "builtin.h"
#include "formats.h"

#define FIX HUSAI_FIXTURES "/import/"
/* cmocka 1.1 has no assert_double_equal: stated tolerance, largest difference reported */
#define assert_close(a, b, eps)                                                              \
	do {                                                                                 \
		double a_ = (a), b_ = (b);                                                   \
		if (!(fabs(a_ - b_) <= (eps)))                                               \
			fail_msg("%.9g vs %.9g: |diff| %.3g > %.3g", a_, b_, fabs(a_ - b_), (eps)); \
	} while (0)

static char tmpdir[256];
static hj *expected;

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "test_import_map_%d", (int)getpid());
	struct hus_err err = { 0 };
	if (hus_mkdirs(tmpdir, &err) || hj_read_file(FIX "expected.json", &expected, &err))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[600];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	hj_free(expected);
	return 0;
}

static size_t count_files(void)
{
	size_t n = 0;
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static double exp_num(const char *path)
{
	double v = NAN;
	assert_int_equal(hj_get_f64(expected, path, &v), 0);
	return v;
}

/* docs/formulas.md §5.1, computed directly: A [d, mA], B [d, mB], columns are features */
static double pwmcc_direct(const float *A, const float *B, size_t d, size_t mA, size_t mB)
{
	double *na = calloc(mA, sizeof(double)), *nb = calloc(mB, sizeof(double));
	double *rmax = calloc(mA, sizeof(double)), *cmax = calloc(mB, sizeof(double));
	assert_true(na && nb && rmax && cmax);
	for (size_t j = 0; j < mA; j++) {
		for (size_t i = 0; i < d; i++)
			na[j] += (double)A[i * mA + j] * A[i * mA + j];
		na[j] = fmax(sqrt(na[j]), 1e-12);
	}
	for (size_t j = 0; j < mB; j++) {
		for (size_t i = 0; i < d; i++)
			nb[j] += (double)B[i * mB + j] * B[i * mB + j];
		nb[j] = fmax(sqrt(nb[j]), 1e-12);
	}
	for (size_t a = 0; a < mA; a++)
		for (size_t b = 0; b < mB; b++) {
			double c = 0;
			for (size_t i = 0; i < d; i++)
				c += (double)A[i * mA + a] * B[i * mB + b];
			c = fabs(c / (na[a] * nb[b]));
			rmax[a] = fmax(rmax[a], c);
			cmax[b] = fmax(cmax[b], c);
		}
	double ra = 0, rb = 0;
	for (size_t a = 0; a < mA; a++)
		ra += rmax[a];
	for (size_t b = 0; b < mB; b++)
		rb += cmax[b];
	free(na);
	free(nb);
	free(rmax);
	free(cmax);
	return (ra / (double)mA + rb / (double)mB) / 2;
}

static void import_ok(const char *src, const char *name, const struct imp_opts *o,
                      const char *want_kind)
{
	char out[600];
	snprintf(out, sizeof(out), "%s/%s.h5", tmpdir, name);
	struct hus_err err = { 0 };
	const char *kind = NULL;
	int rc = imp_file(src, out, o, &kind, &err);
	if (rc)
		print_message("%s: %s: %s\n", err.file, err.where, err.msg);
	assert_int_equal(rc, 0);
	assert_string_equal(kind, want_kind);
}

/* read /params/W_dec of an imported SAE; checks the schema attributes on the way */
static float *read_dec(const char *name, size_t *d, size_t *m, const char *arch, int64_t k,
                       int64_t seed, const char *src_format)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s.h5", tmpdir, name);
	struct h5r *r = NULL;
	struct hus_err err = { 0 };
	assert_int_equal(h5r_open(&r, path, HUS_FORMAT_SAE, 1, &err), 0);
	int64_t v, dm, ds;
	char *s = NULL;
	assert_int_equal(h5r_attr_i64(r, "/", "d_model", &dm, &err), 0);
	assert_int_equal(h5r_attr_i64(r, "/", "d_sae", &ds, &err), 0);
	assert_int_equal(h5r_attr_i64(r, "/", "k", &v, &err), 0);
	assert_int_equal(v, k);
	assert_int_equal(h5r_attr_i64(r, "/", "seed", &v, &err), 0);
	assert_int_equal(v, seed);
	assert_int_equal(h5r_attr_i64(r, "/", "step", &v, &err), 0);
	assert_int_equal(v, -1);
	assert_int_equal(h5r_attr_str(r, "/", "architecture", &s, &err), 0);
	assert_string_equal(s, arch);
	free(s);
	assert_int_equal(h5r_attr_str(r, "/", "source_format", &s, &err), 0);
	assert_string_equal(s, src_format);
	free(s);
	assert_int_equal(h5r_attr_str(r, "/", "control", &s, &err), 0);
	assert_string_equal(s, "none");
	free(s);
	static const char *const must[] = { "condition", "activation_sha256", "imported_from",
	                                    "source_sha256", "key_mapping" };
	for (size_t i = 0; i < 5; i++)
		assert_true(h5r_has_attr(r, "/", must[i]));
	void *buf = NULL;
	size_t dims[2] = { (size_t)dm, (size_t)ds };
	assert_int_equal(h5r_read_alloc(r, "/params/W_dec", HUS_F32, &buf, 2, dims, &err), 0);
	size_t de[2] = { (size_t)ds, (size_t)dm };
	void *enc = NULL;
	assert_int_equal(h5r_read_alloc(r, "/params/W_enc", HUS_F32, &enc, 2, de, &err), 0);
	free(enc);
	h5r_close(r);
	*d = (size_t)dm;
	*m = (size_t)ds;
	return buf;
}

static char *attr_str(const char *name, const char *attr)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s.h5", tmpdir, name);
	struct h5r *r = NULL;
	char *s = NULL;
	assert_int_equal(h5r_open(&r, path, NULL, 0, NULL), 0);
	assert_int_equal(h5r_attr_str(r, "/", attr, &s, NULL), 0);
	h5r_close(r);
	return s;
}

/* the mapping recorded for a source key: {"to": ..., "transpose": ...} */
static void check_mapping(const char *name, const char *key, const char *to, int transpose)
{
	char *s = attr_str(name, "key_mapping");
	hj *m = NULL;
	assert_int_equal(hj_parse(s, strlen(s), "key_mapping", &m, NULL), 0);
	hj *v = NULL, *e = NULL;
	const char *k;
	for (size_t i = 0; (k = hj_obj_at(m, i, &v)); i++)
		if (!strcmp(k, key))
			e = v;
	assert_non_null(e);
	if (!to) {
		hj *box = hj_arr(); /* hj_dumps wants a container */
		hj_push(box, hj_ref(e));
		char *dump = hj_dumps(box);
		assert_non_null(dump);
		assert_non_null(strstr(dump, "skipped"));
		free(dump);
		hj_free(box);
	} else {
		assert_string_equal(hj_get_str(e, "to"), to);
		char *dump = hj_dumps(e);
		assert_non_null(strstr(dump, transpose ? "true" : "false"));
		free(dump);
	}
	hj_free(m);
	free(s);
}

static void test_saelens_pwmcc(void **state)
{
	(void)state;
	import_ok(FIX "saelens_a/sae_weights.safetensors", "sl_a", NULL, "sae");
	import_ok(FIX "saelens_b/sae_weights.safetensors", "sl_b", NULL, "sae");
	size_t d, m, d2, m2;
	float *A = read_dec("sl_a", &d, &m, "jumprelu", 0, 11, "safetensors/saelens");
	float *B = read_dec("sl_b", &d2, &m2, "jumprelu", 0, 12, "safetensors/saelens");
	assert_int_equal(d, 16);
	assert_int_equal(m, 24);
	double got = pwmcc_direct(A, B, d, m, m2), want = exp_num("pwmcc_saelens");
	print_message("PWMCC SAELens a/b: imported %.9f, fixture %.9f\n", got, want);
	assert_close(got, want, 1e-6);
	/* W_dec is the transpose of the source's [d_sae, d_in], element for element */
	struct imp_tensors ts = { 0 };
	assert_int_equal(st_read_file(&ts, FIX "saelens_a/sae_weights.safetensors", NULL), 0);
	const struct imp_tensor *src = imp_find(&ts, "W_dec");
	for (size_t i = 0; i < d; i++)
		for (size_t j = 0; j < m; j++)
			assert_memory_equal(&A[i * m + j], &src->data[j * d + i], 4);
	imp_tensors_release(&ts);
	check_mapping("sl_a", "W_dec", "/params/W_dec", 1);
	check_mapping("sl_a", "W_enc", "/params/W_enc", 1);
	check_mapping("sl_a", "threshold", "/params/threshold", 0);
	char *sha = attr_str("sl_a", "source_sha256"), hex[65];
	assert_int_equal(hus_sha256_file(FIX "saelens_a/sae_weights.safetensors", hex, NULL, NULL), 0);
	assert_string_equal(sha, hex);
	free(sha);
	free(A);
	free(B);
}

static void test_sparsify_pwmcc(void **state)
{
	(void)state;
	import_ok(FIX "sparsify_a/sae.safetensors", "sp_a", NULL, "sae");
	import_ok(FIX "sparsify_b/sae.safetensors", "sp_b", NULL, "sae");
	size_t d, m, d2, m2;
	/* no seed in a sparsify cfg: the file order gives 0 (issue 18: never -1) */
	float *A = read_dec("sp_a", &d, &m, "topk", 4, 0, "safetensors/sparsify");
	float *B = read_dec("sp_b", &d2, &m2, "topk", 4, 0, "safetensors/sparsify");
	double got = pwmcc_direct(A, B, d, m, m2), want = exp_num("pwmcc_sparsify");
	print_message("PWMCC sparsify a/b: imported %.9f, fixture %.9f\n", got, want);
	assert_close(got, want, 1e-6);
	check_mapping("sp_a", "encoder.weight", "/params/W_enc", 0);
	check_mapping("sp_a", "W_dec", "/params/W_dec", 1);
	/* across libraries: SAELens a against sparsify a */
	import_ok(FIX "saelens_a/sae_weights.safetensors", "sl_a2", NULL, "sae");
	size_t d3, m3;
	float *C = read_dec("sl_a2", &d3, &m3, "jumprelu", 0, 11, "safetensors/saelens");
	assert_close(pwmcc_direct(C, A, d, m3, m), exp_num("pwmcc_saelens_a_sparsify_a"), 1e-6);
	free(A);
	free(B);
	free(C);
}

static void test_user_map(void **state)
{
	(void)state;
	struct imp_opts o = { IMP_AUTO, FIX "custom_map.json", NULL, "mapped", -1, 0 };
	import_ok(FIX "custom.safetensors", "custom", &o, "sae");
	import_ok(FIX "saelens_a/sae_weights.safetensors", "sl_a3", NULL, "sae");
	size_t d, m, d2, m2;
	float *A = read_dec("custom", &d, &m, "relu", 0, 31, "user-map");
	float *B = read_dec("sl_a3", &d2, &m2, "jumprelu", 0, 11, "safetensors/saelens");
	assert_close(pwmcc_direct(A, B, d, m, m2), exp_num("pwmcc_custom_saelens_a"), 1e-6);
	check_mapping("custom", "enc.w", "/params/W_enc", 1);
	check_mapping("custom", "dec.w", "/params/W_dec", 0);
	check_mapping("custom", "extra", NULL, 0);
	char *c = attr_str("custom", "condition");
	assert_string_equal(c, "mapped");
	free(c);
	free(A);
	free(B);
}

/* older SAELens configs: architecture "standard" with a topk activation and its k */
static void test_saelens_old_topk_cfg(void **state)
{
	(void)state;
	char p[600];
	snprintf(p, sizeof(p), "%s/cfg_old.json", tmpdir);
	const char *cfg = "{\"architecture\": \"standard\", \"activation_fn_str\": \"topk\", "
	                  "\"activation_fn_kwargs\": {\"k\": 8}, \"d_in\": 16, \"d_sae\": 24}";
	assert_int_equal(hus_write_file(p, cfg, strlen(cfg), NULL), 0);
	struct imp_opts o = { IMP_SAELENS, NULL, p, NULL, 3, 0 };
	import_ok(FIX "saelens_a/sae_weights.safetensors", "sl_old", &o, "sae");
	size_t d, m;
	float *A = read_dec("sl_old", &d, &m, "topk", 8, 3, "safetensors/saelens");
	free(A);
	unlink(p);
}

static void test_upstream_sae(void **state)
{
	(void)state;
	import_ok(FIX "upstream_sae.pt", "up", NULL, "sae");
	import_ok(FIX "upstream_simple_sae.pt", "up_simple", NULL, "sae");
	size_t d, m, d2, m2;
	float *A = read_dec("up", &d, &m, "topk_upstream", 4, 42, "torch-pt/upstream-sae");
	float *B = read_dec("up_simple", &d2, &m2, "topk_upstream", 4, 0, "torch-pt/upstream-sae");
	assert_close(pwmcc_direct(A, B, d, m, m2), exp_num("pwmcc_upstream"), 1e-6);
	check_mapping("up", "decoder.weight", "/params/W_dec", 0);
	check_mapping("up", "feature_counts", "/state/feature_counts", 0);
	char path[600];
	snprintf(path, sizeof(path), "%s/up.h5", tmpdir);
	struct h5r *r = NULL;
	assert_int_equal(h5r_open(&r, path, HUS_FORMAT_SAE, 1, NULL), 0);
	double fc[24];
	size_t dims[1] = { 24 };
	assert_int_equal(h5r_read(r, "/state/feature_counts", HUS_F64, fc, 24, 1, dims, NULL), 0);
	for (int i = 0; i < 24; i++)
		assert_true(fc[i] == (float)i);
	assert_false(h5r_has(r, "/params/b_dec")); /* upstream TopKSAE has no decoder bias */
	h5r_close(r);
	free(A);
	free(B);
}

/* ---------------------------------------------------------------- transformer ------- */

struct tl {
	struct h5r *r;
	int64_t V, d, H, m, L;
};

static float *param(struct tl *t, const char *key, size_t n)
{
	char name[128];
	snprintf(name, sizeof(name), "/params/%s", key);
	void *buf = NULL;
	enum h5_type ty;
	int rank;
	size_t dims[H5_MAX_RANK];
	assert_int_equal(h5r_shape(t->r, name, &ty, &rank, dims, NULL), 0);
	assert_int_equal(h5r_read_alloc(t->r, name, HUS_F32, &buf, rank, dims, NULL), 0);
	size_t tot = 1;
	for (int i = 0; i < rank; i++)
		tot *= dims[i];
	assert_int_equal(tot, n);
	return buf;
}

static void layer_norm(double *y, const double *x, const float *w, const float *b, size_t d)
{
	double mu = 0, var = 0;
	for (size_t i = 0; i < d; i++)
		mu += x[i];
	mu /= (double)d;
	for (size_t i = 0; i < d; i++)
		var += (x[i] - mu) * (x[i] - mu);
	double s = sqrt(var / (double)d + 1e-5);
	for (size_t i = 0; i < d; i++)
		y[i] = (x[i] - mu) / s * w[i] + b[i];
}

/* docs/formulas.md §2.2 forward for one sequence of 7 tokens -> logits (7, V) */
static void tl_forward(struct tl *t, const int64_t *tok, double *logits)
{
	enum { T = 7 };
	size_t d = (size_t)t->d, H = (size_t)t->H, dh = d / H, m = (size_t)t->m, V = (size_t)t->V;
	double x[T][64], y[T][64], q[T][64], k[T][64], v[T][64], h[128];
	assert_true(d <= 64 && m <= 128);
	float *WE = param(t, "embed.W_E", V * d), *WP = param(t, "pos_embed.W_pos", T * d);
	for (size_t i = 0; i < T; i++)
		for (size_t c = 0; c < d; c++)
			x[i][c] = (double)WE[(size_t)tok[i] * d + c] + WP[i * d + c];
	free(WE);
	free(WP);
	for (int64_t l = 0; l < t->L; l++) {
		char key[64];
#define P_(s, n) (snprintf(key, sizeof(key), "blocks.%d.%s", (int)l, s), param(t, key, n))
		float *l1w = P_("ln1.w", d), *l1b = P_("ln1.b", d), *l2w = P_("ln2.w", d),
		      *l2b = P_("ln2.b", d), *WQ = P_("attn.W_Q", H * d * dh),
		      *WK = P_("attn.W_K", H * d * dh), *WV = P_("attn.W_V", H * d * dh),
		      *WO = P_("attn.W_O", H * dh * d), *bQ = P_("attn.b_Q", H * dh),
		      *bK = P_("attn.b_K", H * dh), *bV = P_("attn.b_V", H * dh), *bO = P_("attn.b_O", d),
		      *Win = P_("mlp.W_in", d * m), *bin = P_("mlp.b_in", m),
		      *Wout = P_("mlp.W_out", m * d), *bout = P_("mlp.b_out", d);
#undef P_
		for (size_t i = 0; i < T; i++)
			layer_norm(y[i], x[i], l1w, l1b, d);
		double attn[T][64] = { { 0 } };
		for (size_t hh = 0; hh < H; hh++) {
			for (size_t i = 0; i < T; i++)
				for (size_t e = 0; e < dh; e++) {
					double sq = bQ[hh * dh + e], sk = bK[hh * dh + e], sv = bV[hh * dh + e];
					for (size_t c = 0; c < d; c++) {
						size_t w = (hh * d + c) * dh + e;
						sq += y[i][c] * WQ[w];
						sk += y[i][c] * WK[w];
						sv += y[i][c] * WV[w];
					}
					q[i][e] = sq;
					k[i][e] = sk;
					v[i][e] = sv;
				}
			for (size_t i = 0; i < T; i++) {
				double s[T], mx = -INFINITY, z = 0;
				for (size_t j = 0; j <= i; j++) {
					s[j] = 0;
					for (size_t e = 0; e < dh; e++)
						s[j] += q[i][e] * k[j][e];
					s[j] /= sqrt((double)dh);
					mx = fmax(mx, s[j]);
				}
				for (size_t j = 0; j <= i; j++)
					z += (s[j] = exp(s[j] - mx));
				for (size_t e = 0; e < dh; e++) {
					double ze = 0;
					for (size_t j = 0; j <= i; j++)
						ze += s[j] / z * v[j][e];
					for (size_t c = 0; c < d; c++)
						attn[i][c] += ze * WO[(hh * dh + e) * d + c];
				}
			}
		}
		for (size_t i = 0; i < T; i++) {
			for (size_t c = 0; c < d; c++)
				x[i][c] += attn[i][c] + bO[c];
			layer_norm(y[i], x[i], l2w, l2b, d);
			for (size_t u = 0; u < m; u++) {
				h[u] = bin[u];
				for (size_t c = 0; c < d; c++)
					h[u] += y[i][c] * Win[c * m + u];
				h[u] = fmax(h[u], 0.0);
			}
			for (size_t c = 0; c < d; c++) {
				double o = bout[c];
				for (size_t u = 0; u < m; u++)
					o += h[u] * Wout[u * d + c];
				x[i][c] += o;
			}
		}
		float *all[] = { l1w, l1b, l2w, l2b, WQ, WK, WV, WO, bQ, bK, bV, bO, Win, bin, Wout, bout };
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			free(all[i]);
	}
	float *lw = param(t, "ln_final.w", d), *lb = param(t, "ln_final.b", d);
	float *WU = param(t, "unembed.W_U", d * V), *bU = param(t, "unembed.b_U", V);
	for (size_t i = 0; i < T; i++) {
		layer_norm(y[i], x[i], lw, lb, d);
		for (size_t o = 0; o < V; o++) {
			double s = bU[o];
			for (size_t c = 0; c < d; c++)
				s += y[i][c] * WU[c * V + o];
			logits[i * V + o] = s;
		}
	}
	free(lw);
	free(lb);
	free(WU);
	free(bU);
}

static void test_transformer(void **state)
{
	(void)state;
	import_ok(FIX "transformer.pt", "tf", NULL, "transformer");
	char path[600];
	snprintf(path, sizeof(path), "%s/tf.h5", tmpdir);
	struct tl t = { 0 };
	struct hus_err err = { 0 };
	assert_int_equal(h5r_open(&t.r, path, HUS_FORMAT_TRANSFORMER, 1, &err), 0);
	int64_t p, idx, np, ep, step;
	assert_int_equal(h5r_attr_i64(t.r, "/", "p", &p, NULL), 0);
	assert_int_equal(p, 13);
	assert_int_equal(h5r_attr_i64(t.r, "/", "answer_position_index", &idx, NULL), 0);
	assert_int_equal(idx, 5);
	assert_int_equal(h5r_attr_i64(t.r, "/", "n_params", &np, NULL), 0);
	assert_int_equal(np, (int64_t)exp_num("transformer.n_params"));
	assert_int_equal(h5r_attr_i64(t.r, "/", "epoch", &ep, NULL), 0);
	assert_int_equal(ep, 2);
	assert_int_equal(h5r_attr_i64(t.r, "/", "step", &step, NULL), 0);
	assert_int_equal(step, 2);
	h5r_attr_i64(t.r, "/", "d_vocab", &t.V, NULL);
	h5r_attr_i64(t.r, "/", "d_model", &t.d, NULL);
	h5r_attr_i64(t.r, "/", "n_heads", &t.H, NULL);
	h5r_attr_i64(t.r, "/", "d_mlp", &t.m, NULL);
	h5r_attr_i64(t.r, "/", "n_layers", &t.L, NULL);
	char *yaml = NULL;
	assert_int_equal(h5r_attr_str(t.r, "/", "config_yaml", &yaml, NULL), 0);
	/* the recorded config reads back, through the config API, as the stages read it */
	struct cfg *tc = NULL;
	assert_int_equal(cfg_load_string(&tc, yaml, "config_yaml", NULL), 0);
	int64_t pmod = 0;
	const char *ap = NULL;
	double *betas = NULL;
	size_t nb = 0;
	assert_int_equal(cfg_int(tc, "data.p", 0, 0, 1000, &pmod, NULL), 0);
	assert_int_equal(pmod, 13);
	assert_int_equal(cfg_str(tc, "transformer.answer_position", NULL, NULL, &ap, NULL), 0);
	assert_string_equal(ap, "upstream");
	assert_int_equal(cfg_f64_list(tc, "transformer.betas", NULL, 0, &betas, &nb, NULL), 0);
	assert_int_equal(nb, 2);
	assert_true(betas[0] == 0.9 && betas[1] == 0.98);
	free(betas);
	cfg_free(tc);
	free(yaml);
	assert_false(h5r_has(t.r, "/params/blocks.0.attn.mask"));
	/* exact bits: a parameter and an Adam moment */
	float *WQ = param(&t, "blocks.0.attn.W_Q", (size_t)(t.H * t.d * (t.d / t.H)));
	hj *bits = hj_get(expected, "transformer.W_Q_0_bits");
	for (size_t i = 0; i < hj_len(bits); i++) {
		uint32_t u;
		memcpy(&u, &WQ[i], 4);
		assert_int_equal(u, (uint32_t)hj_as_f64(hj_at(bits, i)));
	}
	free(WQ);
	void *mom = NULL;
	size_t dims[2] = { (size_t)t.d, (size_t)t.V };
	assert_int_equal(h5r_read_alloc(t.r, "/optimizer/exp_avg_sq/unembed.W_U", HUS_F32, &mom, 2,
	                                dims, NULL), 0);
	bits = hj_get(expected, "transformer.exp_avg_sq_W_U_bits");
	for (size_t i = 0; i < hj_len(bits); i++) {
		uint32_t u;
		memcpy(&u, (float *)mom + i, 4);
		assert_int_equal(u, (uint32_t)hj_as_f64(hj_at(bits, i)));
	}
	free(mom);
	/* metrics: history unknown upstream except the last epoch */
	double vl[2];
	size_t ne[1] = { 2 };
	assert_int_equal(h5r_read(t.r, "/metrics/val_acc", HUS_F64, vl, 2, 1, ne, NULL), 0);
	assert_true(isnan(vl[0]) && vl[1] == 0.125);
	/* the imported parameters give torch's logits */
	hj *toks = hj_get(expected, "transformer.tokens"), *lg = hj_get(expected, "transformer.logits");
	size_t V = (size_t)t.V;
	double logits[7 * 64], worst = 0;
	for (size_t s = 0; s < hj_len(toks); s++) {
		int64_t tok[7];
		for (int i = 0; i < 7; i++)
			tok[i] = (int64_t)hj_as_f64(hj_at(hj_at(toks, s), (size_t)i));
		tl_forward(&t, tok, logits);
		for (size_t i = 0; i < 7 * V; i++)
			worst = fmax(worst, fabs(logits[i] - hj_as_f64(hj_at(lg, s * 7 * V + i))));
	}
	print_message("transformer logits: largest |C - torch| = %.3g\n", worst);
	assert_true(worst < 1e-4);
	h5r_close(t.r);
}

/* ---------------------------------------------------------------- husai's own readers */

/* `husai analyze` reads imported SAEs like native ones: decoder_load accepts them and the
 * analyze library's blocked PWMCC gives the fixture's value */
static void test_analyze_reads_imports(void **state)
{
	(void)state;
	import_ok(FIX "sparsify_a/sae.safetensors", "an_a", NULL, "sae");
	struct imp_opts o = { IMP_AUTO, NULL, NULL, "sp", 5, 0 };
	import_ok(FIX "sparsify_b/sae.safetensors", "an_b", &o, "sae");
	char pa[600], pb[600];
	snprintf(pa, sizeof(pa), "%s/an_a.h5", tmpdir);
	snprintf(pb, sizeof(pb), "%s/an_b.h5", tmpdir);
	struct decoder A, B;
	struct hus_err err = { 0 };
	assert_int_equal(decoder_load(&A, pa, 1, &err), 0);
	assert_int_equal(decoder_load(&B, pb, 1, &err), 0);
	assert_int_equal(A.d_model, 16);
	assert_int_equal(A.d_sae, 24);
	assert_int_equal(A.k, 4);
	assert_int_equal(B.seed, 5);
	assert_string_equal(B.condition, "sp");
	assert_non_null(A.b_dec);
	struct pwmcc_result res;
	assert_int_equal(pwmcc_blocked(&res, A.W_dec, B.W_dec, 16, 24, 24, &err), 0);
	print_message("PWMCC sparsify a/b via analyze: %.9f (fixture %.9f)\n", res.pwmcc,
	              exp_num("pwmcc_sparsify"));
	assert_close(res.pwmcc, exp_num("pwmcc_sparsify"), 1e-6);
	assert_close(pwmcc_ref(A.W_dec, B.W_dec, 16, 24, 24), exp_num("pwmcc_sparsify"), 1e-9);
	decoder_release(&A);
	decoder_release(&B);
}

/* ---------------------------------------------------------------- errors ------------ */

/* a float32 safetensors file written here (header JSON given) */
static void write_st(const char *path, const char *header, const float *data, size_t n)
{
	size_t h = strlen(header), tot = 8 + h + 4 * n;
	unsigned char *buf = malloc(tot);
	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
	memcpy(buf + 8, header, h);
	memcpy(buf + 8 + h, data, 4 * n);
	assert_int_equal(hus_write_file(path, buf, tot, NULL), 0);
	free(buf);
}

static void expect_import_error(const char *src, const struct imp_opts *o, const char *where,
                                const char *msg_part)
{
	size_t before = count_files();
	char out[600];
	snprintf(out, sizeof(out), "%s/never.h5", tmpdir);
	struct hus_err err = { 0 };
	int rc = imp_file(src, out, o, NULL, &err);
	if (!rc || !strstr(err.msg, msg_part))
		print_message("%s: rc %d where '%s' msg '%s' (wanted '%s')\n", src, rc, err.where,
		              err.msg, msg_part);
	assert_true(rc < 0);
	assert_non_null(strstr(err.msg, msg_part));
	if (where)
		assert_string_equal(err.where, where);
	assert_false(hus_file_exists(out));
	assert_int_equal(count_files(), before); /* no temporary left either */
}

static void test_errors_leave_nothing(void **state)
{
	(void)state;
	static float z[2 * 24 * 16 + 24];
	char p[600];
	/* SAELens names but W_dec stored [d_in, d_sae]: refused, never transposed by shape */
	snprintf(p, sizeof(p), "%s/lying.safetensors", tmpdir);
	write_st(p, "{\"W_enc\":{\"dtype\":\"F32\",\"shape\":[16,24],\"data_offsets\":[0,1536]},"
	            "\"W_dec\":{\"dtype\":\"F32\",\"shape\":[16,24],\"data_offsets\":[1536,3072]},"
	            "\"b_enc\":{\"dtype\":\"F32\",\"shape\":[24],\"data_offsets\":[3072,3168]}}",
	         z, sizeof(z) / 4);
	expect_import_error(p, NULL, "W_dec", "expected shape [24, 16] for W_dec in the "
	                    "safetensors/saelens layout");
	unlink(p);
	/* sparsify without its cfg.json: k unknown */
	snprintf(p, sizeof(p), "%s/nocfg.safetensors", tmpdir);
	write_st(p, "{\"encoder.weight\":{\"dtype\":\"F32\",\"shape\":[24,16],\"data_offsets\":[0,1536]},"
	            "\"W_dec\":{\"dtype\":\"F32\",\"shape\":[24,16],\"data_offsets\":[1536,3072]},"
	            "\"encoder.bias\":{\"dtype\":\"F32\",\"shape\":[24],\"data_offsets\":[3072,3168]}}",
	         z, sizeof(z) / 4);
	expect_import_error(p, NULL, "k", "needs its cfg.json");
	unlink(p);
	/* cfg.json disagreeing with the tensors */
	struct imp_opts o = { IMP_AUTO, NULL, NULL, NULL, -1, 0 };
	snprintf(p, sizeof(p), "%s/cfg_bad.json", tmpdir);
	assert_int_equal(hus_write_file(p, "{\"d_in\": 32}", 12, NULL), 0);
	o.cfg_path = p;
	expect_import_error(FIX "saelens_a/sae_weights.safetensors", &o, "d_in",
	                    "cfg.json says d_in 32, the tensors have d_model 16");
	unlink(p);
	/* SAELens gated: refused by name, not half-imported */
	snprintf(p, sizeof(p), "%s/cfg_gated.json", tmpdir);
	assert_int_equal(hus_write_file(p, "{\"architecture\": \"gated\"}", 25, NULL), 0);
	o.cfg_path = p;
	expect_import_error(FIX "saelens_a/sae_weights.safetensors", &o, "architecture",
	                    "gated SAELens SAEs are not supported");
	unlink(p);
	/* cfg.json checked like husai's own configs (RELIABILITY.md, "Untrusted archives"):
	 * {"k": "many", "architecture": 5} imported as a ReLU SAE with k 0, exit 0 */
	static const struct {
		const char *cfg, *where, *msg;
	} bad_cfg[] = {
		{ "{\"k\": \"many\", \"architecture\": 5}", "k", "expected an integer in 1..24, found a string" },
		{ "{\"architecture\": 5}", "architecture", "expected one of standard, relu, jumprelu, topk, gated, found an integer" },
		{ "{\"architecture\": \"swish\"}", "architecture", "found 'swish'" },
		{ "{\"architecture\": \"topk\", \"k\": 25}", "k", "expected an integer in 1..24, found 25" },
		{ "{\"architecture\": \"topk\", \"k\": 0}", "k", "found 0" },
		{ "{\"activation_fn_str\": \"topk\", \"activation_fn_kwargs\": {\"k\": 1e9}}",
		  "activation_fn_kwargs.k", "expected an integer in 1..24" },
		{ "{\"activation_fn_kwargs\": [8]}", "activation_fn_kwargs", "expected an object, found an array" },
		{ "{\"d_sae\": -24}", "d_sae", "found -24" },
		{ "{\"d_in\": 16.5}", "d_in", "found a non-integer number" },
	};
	for (size_t i = 0; i < sizeof(bad_cfg) / sizeof(bad_cfg[0]); i++) {
		snprintf(p, sizeof(p), "%s/cfg_hostile.json", tmpdir);
		assert_int_equal(hus_write_file(p, bad_cfg[i].cfg, strlen(bad_cfg[i].cfg), NULL), 0);
		o.cfg_path = p;
		expect_import_error(FIX "saelens_a/sae_weights.safetensors", &o, bad_cfg[i].where,
		                    bad_cfg[i].msg);
		unlink(p);
	}
	/* sparsify: k above num_latents */
	snprintf(p, sizeof(p), "%s/cfg_hostile.json", tmpdir);
	assert_int_equal(hus_write_file(p, "{\"k\": 100}", 10, NULL), 0);
	o.cfg_path = p;
	expect_import_error(FIX "sparsify_a/sae.safetensors", &o, "k",
	                    "expected an integer in 1..24, found 100");
	unlink(p);
	o.cfg_path = NULL;
	/* hostile .pt files and a mapping that names a missing key */
	expect_import_error(FIX "bad_global.pt", NULL, "data.pkl:2", "refusing pickle global");
	expect_import_error(FIX "bad_bomb_storage.pt", NULL, NULL, "zip bomb");
	expect_import_error(FIX "bad_traversal.pt", NULL, NULL, "path traversal");
	struct imp_opts mo = { IMP_AUTO, FIX "custom_map.json", NULL, NULL, -1, 0 };
	expect_import_error(FIX "saelens_a/sae_weights.safetensors", &mo, "enc.w",
	                    "missing tensor 'enc.w'");
	expect_import_error(FIX "dtypes.safetensors", NULL, NULL, "neither SAELens");
	/* transformer checkpoints that do not match docs/formulas.md §2.2 */
	expect_import_error(FIX "bad_tf_key.pt", NULL, "blocks.1.mlp.b_out", "missing parameter");
	expect_import_error(FIX "bad_tf_shape.pt", NULL, "blocks.0.attn.W_Q",
	                    "expected a float tensor of shape [2, 16, 8]");
	expect_import_error(FIX "bad_tf_act.pt", NULL, "config.activation",
	                    "activation 'gelu_fast' is not one husai implements");
}

static void test_cli_all_or_nothing(void **state)
{
	(void)state;
	char outdir[600];
	snprintf(outdir, sizeof(outdir), "%s/cli", tmpdir);
	char *argv1[] = { "import", "--out", outdir, FIX "saelens_a/sae_weights.safetensors",
	                  FIX "bad_global.pt", NULL };
	assert_int_equal(cmd_import(5, argv1), 1);
	char p[700];
	snprintf(p, sizeof(p), "%s/saelens_a.h5", outdir);
	assert_false(hus_file_exists(p)); /* the first output was rolled back */
	char *argv2[] = { "import", "--out", outdir, "--seed", "7", "--condition", "c1",
	                  FIX "saelens_a/sae_weights.safetensors", FIX "upstream_sae.pt", NULL };
	assert_int_equal(cmd_import(9, argv2), 0);
	assert_true(hus_file_exists(p));
	struct h5r *r = NULL;
	int64_t seed;
	assert_int_equal(h5r_open(&r, p, HUS_FORMAT_SAE, 1, NULL), 0);
	assert_int_equal(h5r_attr_i64(r, "/", "seed", &seed, NULL), 0);
	assert_int_equal(seed, 7);
	h5r_close(r);
	/* existing outputs are not overwritten without --force; two sources, one name: usage */
	assert_int_equal(cmd_import(9, argv2), 1);
	char *argv3[] = { "import", "--out", outdir, FIX "upstream_sae.pt", FIX "upstream_sae.pt", NULL };
	assert_int_equal(cmd_import(5, argv3), 2);
	char *argv4[] = { "import", "--layout", "nonsense", "--out", outdir, FIX "upstream_sae.pt", NULL };
	assert_int_equal(cmd_import(6, argv4), 2);
	unlink(p);
	snprintf(p, sizeof(p), "%s/upstream_sae.h5", outdir);
	unlink(p);
	rmdir(outdir);
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_saelens_pwmcc),
		cmocka_unit_test(test_sparsify_pwmcc),
		cmocka_unit_test(test_user_map),
		cmocka_unit_test(test_saelens_old_topk_cfg),
		cmocka_unit_test(test_upstream_sae),
		cmocka_unit_test(test_transformer),
		cmocka_unit_test(test_analyze_reads_imports),
		cmocka_unit_test(test_errors_leave_nothing),
		cmocka_unit_test(test_cli_all_or_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
