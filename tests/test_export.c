/*
 * test_export.c — issue 18: `husai export` round trips.  A SAE of each library
 * (tests/fixtures/import/libs) is imported, exported as SAELens (and, for TopK, as sparsify),
 * imported again, and every /params dataset must be the same float32 bits, with the same
 * architecture, k and seed.  Also: an unmapped tensor is an error naming it unless a --map
 * file skips it, and dictionary_learning's tensors land where its layout says.
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

#include "builtin.h"
#include "formats.h"

#define LIBS HUSAI_FIXTURES "/import/libs/"
static char tmp[256];

static int run(int (*cmd)(int, char **), char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	return cmd(argc, argv);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "test_export_%d", (int)getpid());
	return hus_mkdirs(tmp, NULL);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) ? -1 : 0;
}

/* every /params dataset of a and b: same presence, shape and bits; same attributes */
static void same_sae(const char *a, const char *b)
{
	static const char *const ds[] = { "/params/W_enc", "/params/b_enc", "/params/W_dec",
	                                  "/params/b_dec", "/params/threshold" };
	struct h5r *ra = NULL, *rb = NULL;
	assert_int_equal(h5r_open(&ra, a, HUS_FORMAT_SAE, 1, NULL), 0);
	assert_int_equal(h5r_open(&rb, b, HUS_FORMAT_SAE, 1, NULL), 0);
	int64_t da, db, ma, mb;
	assert_int_equal(h5r_attr_i64(ra, "/", "d_model", &da, NULL), 0);
	assert_int_equal(h5r_attr_i64(rb, "/", "d_model", &db, NULL), 0);
	assert_int_equal(h5r_attr_i64(ra, "/", "d_sae", &ma, NULL), 0);
	assert_int_equal(h5r_attr_i64(rb, "/", "d_sae", &mb, NULL), 0);
	assert_int_equal(da, db);
	assert_int_equal(ma, mb);
	for (size_t i = 0; i < 5; i++) {
		int ha = h5r_has(ra, ds[i]), hb = h5r_has(rb, ds[i]);
		if (ha != hb)
			print_message("%s: in %s %d, in %s %d\n", ds[i], a, ha, b, hb);
		assert_int_equal(ha, hb);
		if (!ha)
			continue;
		size_t n = i == 0 || i == 2 ? (size_t)(da * ma) : i == 3 ? (size_t)da : (size_t)ma;
		size_t dims[2] = { 0, 0 };
		int rank = i == 0 || i == 2 ? 2 : 1;
		float *xa = NULL, *xb = NULL;
		assert_int_equal(h5r_read_alloc(ra, ds[i], HUS_F32, (void **)&xa, rank, dims, NULL), 0);
		size_t dims2[2] = { 0, 0 };
		assert_int_equal(h5r_read_alloc(rb, ds[i], HUS_F32, (void **)&xb, rank, dims2, NULL), 0);
		assert_memory_equal(dims, dims2, sizeof(dims));
		assert_memory_equal(xa, xb, n * sizeof(float));
		free(xa), free(xb);
	}
	int64_t ka, kb, sa, sb;
	assert_int_equal(h5r_attr_i64(ra, "/", "k", &ka, NULL), 0);
	assert_int_equal(h5r_attr_i64(rb, "/", "k", &kb, NULL), 0);
	assert_int_equal(ka, kb);
	assert_int_equal(h5r_attr_i64(ra, "/", "seed", &sa, NULL), 0);
	assert_int_equal(h5r_attr_i64(rb, "/", "seed", &sb, NULL), 0);
	assert_int_equal(sa, sb);
	h5r_close(ra);
	h5r_close(rb);
}

static void round_trip(const char *lib, const char *to, const char *exported_name)
{
	char in[300], first[400], exp[400], again[400], a[500], b[500];
	snprintf(in, sizeof(in), LIBS "%s", lib);
	snprintf(first, sizeof(first), "%s/first_%s_%s", tmp, to, exported_name);
	snprintf(exp, sizeof(exp), "%s/exp_%s_%s", tmp, to, exported_name);
	snprintf(again, sizeof(again), "%s/again_%s_%s", tmp, to, exported_name);
	char *imp1[] = { "import", "--out", first, in, NULL };
	assert_int_equal(run(cmd_import, imp1), 0);
	snprintf(a, sizeof(a), "%s/%s.h5", first, exported_name);
	char *ex[] = { "export", "--to", (char *)to, "--out", exp, a, NULL };
	assert_int_equal(run(cmd_export, ex), 0);
	char *imp2[] = { "import", "--out", again, exp, NULL };
	assert_int_equal(run(cmd_import, imp2), 0);
	snprintf(b, sizeof(b), "%s/%s.h5", again, exported_name);
	if (!hus_file_exists(b)) /* sparsify: <name>/<hookpoint>/sae.safetensors, one source:
	                          * named after its folder, the hookpoint (the recorded hook) */
		snprintf(b, sizeof(b), "%s/resid_post_layer_0.h5", again);
	assert_true(hus_file_exists(b));
	same_sae(a, b);
}

static void test_round_trip_saelens(void **state)
{
	(void)state;
	round_trip("saelens/seed1/sae_weights.safetensors", "saelens", "seed1");
	round_trip("dictionary_learning/standard/trainer_1/ae.pt", "saelens", "trainer_1");
	round_trip("dictionary_learning/topk/trainer_0/ae.pt", "saelens", "trainer_0");
	round_trip("dictionary_learning/jumprelu/trainer_2/ae.pt", "saelens", "trainer_2");
}

static void test_round_trip_sparsify(void **state)
{
	(void)state;
	round_trip("sparsify/run2/layers.0/sae.safetensors", "sparsify", "layers.0");
	round_trip("dictionary_learning/topk/trainer_1/ae.pt", "sparsify", "trainer_1");
}

/* dictionary_learning: decoder.weight [d, dict] is husai's W_dec as is; bias is b_dec; the
 * BatchTopK scalar threshold becomes every latent's threshold */
static void test_dictlearn_layout(void **state)
{
	(void)state;
	char out[300], h5[400];
	snprintf(out, sizeof(out), "%s/dl", tmp);
	char *imp[] = { "import", "--out", out, LIBS "dictionary_learning/standard/trainer_0/ae.pt",
		        LIBS "dictionary_learning/batchtopk/trainer_0/ae.pt", NULL };
	assert_int_equal(run(cmd_import, imp), 0); /* common dir: names standard_trainer_0, ... */
	struct pt_doc *doc = NULL;
	assert_int_equal(pt_read_file(&doc, LIBS "dictionary_learning/standard/trainer_0/ae.pt", NULL), 0);
	struct imp_tensors ts = { 0 };
	assert_int_equal(pt_state_dict(&ts, pt_root(doc), "ae.pt", "", NULL), 0);
	const struct imp_tensor *dec = imp_find(&ts, "decoder.weight"), *bias = imp_find(&ts, "bias");
	assert_non_null(dec);
	assert_non_null(bias);
	snprintf(h5, sizeof(h5), "%s/standard_trainer_0.h5", out);
	struct h5r *r = NULL;
	assert_int_equal(h5r_open(&r, h5, HUS_FORMAT_SAE, 1, NULL), 0);
	float *W = NULL, *b = NULL;
	size_t dw[2] = { 8, 16 }, db[1] = { 8 };
	assert_int_equal(h5r_read_alloc(r, "/params/W_dec", HUS_F32, (void **)&W, 2, dw, NULL), 0);
	assert_int_equal(h5r_read_alloc(r, "/params/b_dec", HUS_F32, (void **)&b, 1, db, NULL), 0);
	assert_memory_equal(W, dec->data, 8 * 16 * sizeof(float));
	assert_memory_equal(b, bias->data, 8 * sizeof(float));
	free(W), free(b);
	h5r_close(r);
	imp_tensors_release(&ts);
	pt_free(doc);
	/* BatchTopK: k from the int64 buffer, the scalar threshold on every latent */
	assert_int_equal(pt_read_file(&doc, LIBS "dictionary_learning/batchtopk/trainer_0/ae.pt", NULL), 0);
	assert_int_equal(pt_state_dict(&ts, pt_root(doc), "ae.pt", "", NULL), 0);
	const struct imp_tensor *k = imp_find(&ts, "k"), *thr = imp_find(&ts, "threshold");
	assert_non_null(k);
	assert_non_null(k->ints);
	assert_string_equal(k->dtype, "Long");
	assert_int_equal(k->ints[0], 4);
	snprintf(h5, sizeof(h5), "%s/batchtopk_trainer_0.h5", out);
	assert_int_equal(h5r_open(&r, h5, HUS_FORMAT_SAE, 1, NULL), 0);
	float *t = NULL;
	size_t dt[1] = { 16 };
	assert_int_equal(h5r_read_alloc(r, "/params/threshold", HUS_F32, (void **)&t, 1, dt, NULL), 0);
	for (size_t j = 0; j < 16; j++)
		assert_memory_equal(&t[j], thr->data, sizeof(float));
	free(t);
	h5r_close(r);
	imp_tensors_release(&ts);
	pt_free(doc);
}

/* a tensor no map uses is an error naming it; a --map "skip" list drops it on purpose */
static void test_unmapped_is_an_error(void **state)
{
	(void)state;
	char st[300], map[300], out[300];
	snprintf(st, sizeof(st), "%s/extra.safetensors", tmp);
	snprintf(map, sizeof(map), "%s/skip.json", tmp);
	snprintf(out, sizeof(out), "%s/extra.h5", tmp);
	struct imp_tensors ts = { 0 };
	assert_int_equal(st_read_file(&ts, LIBS "saelens/seed0/sae_weights.safetensors", NULL), 0);
	struct imp_tensor t[5];
	for (size_t i = 0; i < 4; i++)
		t[i] = ts.t[i];
	t[4] = ts.t[3];
	snprintf(t[4].name, sizeof(t[4].name), "log_feature_sparsity");
	assert_int_equal(st_write_file(st, t, 5, NULL, NULL), 0);
	struct imp_opts o = { IMP_AUTO, NULL, LIBS "saelens/seed0/cfg.json", NULL, -1, 0 };
	struct hus_err err = { 0 };
	assert_int_not_equal(imp_file(st, out, &o, NULL, &err), 0);
	assert_string_equal(err.where, "log_feature_sparsity");
	assert_non_null(strstr(err.msg, "would be dropped"));
	assert_false(hus_file_exists(out));
	assert_int_equal(hus_write_file(map, "{\"skip\": [\"log_feature_sparsity\"]}", 34, NULL), 0);
	o.map_path = map;
	assert_int_equal(imp_file(st, out, &o, NULL, &err), 0);
	struct h5r *r = NULL;
	char *km = NULL, *arch = NULL;
	assert_int_equal(h5r_open(&r, out, HUS_FORMAT_SAE, 1, NULL), 0);
	assert_int_equal(h5r_attr_str(r, "/", "key_mapping", &km, NULL), 0);
	assert_int_equal(h5r_attr_str(r, "/", "architecture", &arch, NULL), 0);
	assert_non_null(strstr(km, "\"log_feature_sparsity\": \"skipped\""));
	assert_string_equal(arch, "relu"); /* the skip list keeps the SAELens layout */
	free(km), free(arch);
	h5r_close(r);
	imp_tensors_release(&ts);
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_saelens),
		cmocka_unit_test(test_round_trip_sparsify),
		cmocka_unit_test(test_dictlearn_layout),
		cmocka_unit_test(test_unmapped_is_an_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
