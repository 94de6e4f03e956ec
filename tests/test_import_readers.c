/*
 * test_import_readers.c — the foreign-file readers of `husai import` (issue 9): safetensors
 * (every dtype converted bit-exactly as torch's .float(), and each malformed header a named
 * error) and torch .pt (state dicts, strided views, hostile archives and pickles: zip bombs,
 * path traversal, foreign globals, unexpected opcodes, views beyond their storage).
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
#include <zip.h>

#include "formats.h"

#define FIX HUSAI_FIXTURES "/import/"

/* ---------------------------------------------------------------- safetensors ------- */

static void check_bits(const struct imp_tensor *t, hj *exp, const char *name)
{
	hj *bits = hj_get(exp, "bits");
	assert_non_null(bits);
	assert_int_equal(hj_len(bits), t->numel);
	size_t bad = 0;
	for (size_t i = 0; i < t->numel; i++) {
		uint32_t u;
		memcpy(&u, &t->data[i], 4);
		if (u != (uint32_t)hj_as_f64(hj_at(bits, i))) {
			if (!bad)
				print_message("%s[%zu]: got 0x%08x, torch 0x%08x\n", name, i, u,
				              (uint32_t)hj_as_f64(hj_at(bits, i)));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void test_st_dtypes(void **state)
{
	(void)state;
	struct imp_tensors ts = { 0 };
	struct hus_err err = { 0 };
	hj *exp = NULL;
	assert_int_equal(st_read_file(&ts, FIX "dtypes.safetensors", &err), 0);
	assert_int_equal(hj_read_file(FIX "dtypes.json", &exp, &err), 0);
	assert_int_equal(ts.n, 3);
	static const char *const names[] = { "f32", "f16", "bf16" };
	static const char *const dts[] = { "F32", "F16", "BF16" };
	for (int i = 0; i < 3; i++) {
		const struct imp_tensor *t = imp_find(&ts, names[i]);
		assert_non_null(t);
		assert_string_equal(t->dtype, dts[i]);
		hj *e = hj_get(exp, names[i]);
		assert_int_equal(t->rank, 2);
		assert_int_equal(t->dims[0], (size_t)hj_as_f64(hj_at(hj_get(e, "shape"), 0)));
		assert_int_equal(t->dims[1], (size_t)hj_as_f64(hj_at(hj_get(e, "shape"), 1)));
		check_bits(t, e, names[i]);
	}
	assert_null(imp_find(&ts, "__metadata__"));
	hj_free(exp);
	imp_tensors_release(&ts);
}

static void test_f16_exhaustive(void **state)
{
	(void)state;
	/* every half value: finite ones round-trip through float exactly (values, not bits, for
	 * NaN), and the result's class matches the half's class */
	for (uint32_t h = 0; h < 65536; h++) {
		float f = imp_f16_to_f32((uint16_t)h);
		uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
		if (exp == 0x1f) {
			assert_true(man ? isnan(f) : isinf(f));
			continue;
		}
		double mag = exp ? ldexp(1.0 + man / 1024.0, (int)exp - 15) : ldexp(man / 1024.0, -14);
		if (h & 0x8000)
			mag = -mag;
		assert_true((double)f == mag);
		assert_int_equal(!!signbit(f), !!(h & 0x8000));
	}
	assert_true(imp_bf16_to_f32(0x3f80) == 1.0f);
	assert_true(imp_bf16_to_f32(0xc040) == -3.0f);
}

/* a safetensors file image from a header and data length (data bytes are 0x3c) */
static size_t mk_st(unsigned char *buf, size_t cap, const char *header, size_t data_len,
                    uint64_t claimed)
{
	size_t h = strlen(header);
	assert_true(8 + h + data_len <= cap);
	uint64_t len = claimed ? claimed : h;
	for (int i = 0; i < 8; i++)
		buf[i] = (unsigned char)(len >> (8 * i));
	memcpy(buf + 8, header, h);
	memset(buf + 8 + h, 0x3c, data_len);
	return 8 + h + data_len;
}

static void expect_st_error(const char *header, size_t data_len, uint64_t claimed,
                            const char *where, const char *msg_part)
{
	static unsigned char buf[1 << 16];
	size_t n = mk_st(buf, sizeof(buf), header, data_len, claimed);
	struct imp_tensors ts = { 0 };
	struct hus_err err = { 0 };
	int rc = st_read_buf(&ts, buf, n, "bad.safetensors", &err);
	if (rc == 0 || !strstr(err.msg, msg_part) || (where && strcmp(err.where, where)))
		print_message("header %s: rc %d, where '%s', msg '%s' (wanted '%s')\n", header, rc,
		              err.where, err.msg, msg_part);
	assert_int_equal(rc, HUS_EINPUT);
	assert_int_equal(err.code, HUS_EINPUT);
	assert_string_equal(err.file, "bad.safetensors");
	if (where)
		assert_string_equal(err.where, where);
	assert_non_null(strstr(err.msg, msg_part));
	assert_int_equal(ts.n, 0);
	assert_null(ts.t);
}

static void test_st_bad(void **state)
{
	(void)state;
	const char *ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
	/* sanity: the good one reads */
	{
		static unsigned char buf[256];
		size_t n = mk_st(buf, sizeof(buf), ok, 16, 0);
		struct imp_tensors ts = { 0 };
		assert_int_equal(st_read_buf(&ts, buf, n, "ok", NULL), 0);
		assert_int_equal(ts.n, 1);
		imp_tensors_release(&ts);
	}
	expect_st_error(ok, 16, 1000, "header", "beyond the file");
	expect_st_error(ok, 16, UINT64_MAX, "header", "beyond the file");
	expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
	                "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
	                16, 0, "b", "overlap");
	expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 8, 0,
	                "a", "out of range");
	expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
	                "\"data_offsets\":[0,16]}}", 16, 0, "a", "overflows");
	expect_st_error("{\"a\":{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0, "a",
	                "unknown dtype 'F7'");
	expect_st_error("{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, 0, "a",
	                "unsupported dtype 'F64'");
	expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16, 0,
	                "a", "shape needs 12 bytes");
	expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, 0,
	                "a", "gap");
	expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 16, 0,
	                "data", "trailing");
	expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, 0,
	                "a", "non-negative integer");
	expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,8]}}", 16, 0,
	                "a", "out of range");
	expect_st_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, 0, "a", "data_offsets");
	expect_st_error("{\"a\":3}", 0, 0, "a", "expected an object");
	expect_st_error("{\"a\":", 0, 0, NULL, "invalid JSON");
	expect_st_error("[1,2]", 0, 0, "header", "start with '{'");
	struct imp_tensors ts = { 0 };
	struct hus_err err = { 0 };
	assert_int_equal(st_read_buf(&ts, "abc", 3, "tiny", &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, "too short"));
}

/* ---------------------------------------------------------------- torch .pt --------- */

static void test_pt_dtypes(void **state)
{
	(void)state;
	struct pt_doc *doc = NULL;
	struct hus_err err = { 0 };
	hj *exp = NULL;
	assert_int_equal(pt_read_file(&doc, FIX "dtypes.pt", &err), 0);
	assert_int_equal(hj_read_file(FIX "dtypes.json", &exp, &err), 0);
	struct imp_tensors ts = { 0 };
	assert_int_equal(pt_state_dict(&ts, pt_root(doc), "dtypes.pt", "/", &err), 0);
	static const char *const names[] = { "f32", "f16", "bf16", "f16_t" };
	static const char *const dts[] = { "Float", "Half", "BFloat16", "Half" };
	for (int i = 0; i < 4; i++) {
		const struct imp_tensor *t = imp_find(&ts, names[i]);
		assert_non_null(t);
		assert_string_equal(t->dtype, dts[i]);
		hj *e = hj_get(exp, names[i]);
		assert_int_equal(t->dims[0], (size_t)hj_as_f64(hj_at(hj_get(e, "shape"), 0)));
		assert_int_equal(t->dims[1], (size_t)hj_as_f64(hj_at(hj_get(e, "shape"), 1)));
		check_bits(t, e, names[i]);
	}
	hj_free(exp);
	imp_tensors_release(&ts);
	pt_free(doc);
}

static void test_pt_state_dict(void **state)
{
	(void)state;
	struct pt_doc *doc = NULL;
	struct hus_err err = { 0 };
	assert_int_equal(pt_read_file(&doc, FIX "upstream_sae.pt", &err), 0);
	struct pt_value *root = pt_root(doc);
	assert_int_equal(root->kind, PT_DICT);
	struct imp_tensors ts = { 0 };
	assert_int_equal(pt_state_dict(&ts, pt_get(root, "sae_state_dict"), "x", "sd", &err), 0);
	assert_int_equal(ts.n, 4);
	assert_string_equal(ts.t[0].name, "encoder.weight");
	assert_string_equal(ts.t[2].name, "decoder.weight");
	assert_int_equal(ts.t[2].dims[0], 16);
	assert_int_equal(ts.t[2].dims[1], 24);
	const struct imp_tensor *fc = imp_find(&ts, "feature_counts");
	assert_non_null(fc);
	for (size_t i = 0; i < fc->numel; i++) /* torch.arange(d_sae) */
		assert_true(fc->data[i] == (float)i);
	/* the config dict: ints, floats, strings */
	struct pt_value *cfg = pt_get(root, "config");
	assert_int_equal(pt_get(cfg, "k")->i, 4);
	assert_string_equal(pt_get(cfg, "architecture")->s, "topk");
	assert_true(pt_get(cfg, "learning_rate")->f == 0.0003);
	hj *j = pt_to_json(pt_get(root, "metrics"));
	double v = 0;
	assert_int_equal(hj_get_f64(j, "loss.1", &v), 0);
	assert_true(v == 0.5);
	hj_free(j);
	imp_tensors_release(&ts);
	pt_free(doc);
}

static void test_pt_transformer_buffers(void **state)
{
	(void)state;
	struct pt_doc *doc = NULL;
	struct hus_err err = { 0 };
	assert_int_equal(pt_read_file(&doc, FIX "transformer.pt", &err), 0);
	struct pt_value *sd = pt_get(pt_root(doc), "model_state_dict");
	struct pt_value *mask = pt_get(sd, "blocks.0.attn.mask");
	assert_non_null(mask);
	assert_int_equal(mask->kind, PT_TENSOR);
	assert_string_equal(mask->tensor->dtype, "Bool");
	assert_null(mask->tensor->data); /* shape only */
	assert_int_equal(mask->tensor->dims[0], 7);
	struct pt_value *ign = pt_get(sd, "blocks.1.attn.IGNORE");
	assert_int_equal(ign->tensor->rank, 0);
	assert_true(isinf(ign->tensor->data[0]) && ign->tensor->data[0] < 0);
	/* optimizer state: int-keyed dict, step tensors, tuples of betas */
	struct pt_value *opt = pt_get(pt_root(doc), "optimizer_state_dict");
	struct pt_value *pg = pt_get(opt, "param_groups");
	assert_int_equal(pg->kind, PT_LIST);
	struct pt_value *betas = pt_get(pg->items[0], "betas");
	assert_int_equal(betas->kind, PT_TUPLE);
	assert_true(betas->items[1]->f == 0.98);
	pt_free(doc);
}

static void expect_pt_error(const char *file, const char *where_part, const char *msg_part)
{
	struct pt_doc *doc = NULL;
	struct hus_err err = { 0 };
	int rc = pt_read_file(&doc, file, &err);
	if (rc == 0 || !strstr(err.msg, msg_part) || (where_part && !strstr(err.where, where_part)))
		print_message("%s: rc %d, where '%s', msg '%s' (wanted '%s')\n", file, rc, err.where,
		              err.msg, msg_part);
	assert_int_equal(rc, HUS_EINPUT);
	assert_null(doc);
	assert_non_null(strstr(err.msg, msg_part));
	if (where_part)
		assert_non_null(strstr(err.where, where_part));
}

static void test_pt_hostile_fixtures(void **state)
{
	(void)state;
	expect_pt_error(FIX "bad_bomb_storage.pt", "upstream_sae/data/0", "expected exactly 1536");
	expect_pt_error(FIX "bad_bomb_pkl.pt", "data.pkl", "above the 16777216-byte cap");
	expect_pt_error(FIX "bad_traversal.pt", "upstream_sae/../../evil", "path traversal");
	expect_pt_error(FIX "bad_absolute.pt", "/etc/evil", "path traversal");
	expect_pt_error(FIX "bad_global.pt", "data.pkl:2", "refusing pickle global 'os.system'");
	expect_pt_error(FIX "bad_parameter.pt", "data.pkl",
	                "refusing pickle global 'torch._utils._rebuild_parameter'");
	expect_pt_error(FIX "bad_opcode.pt", "data.pkl:12", "unsupported pickle opcode 0x69");
	expect_pt_error(FIX "bad_protocol.pt", "data.pkl:0", "pickle protocol 4");
	expect_pt_error(FIX "bad_legacy.pt", NULL, "legacy torch serialization");
	expect_pt_error(FIX "dtypes.json", NULL, "not a torch zip archive");
}

/* a zip archive on disk with the given entries (libzip), for pickles built here */
static void write_zip(const char *path, const char *const *names, const void *const *data,
                      const size_t *lens, int n)
{
	int ze;
	unlink(path);
	zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &ze);
	assert_non_null(z);
	for (int i = 0; i < n; i++) {
		zip_source_t *s = zip_source_buffer(z, data[i], lens[i], 0);
		assert_non_null(s);
		assert_true(zip_file_add(z, names[i], s, ZIP_FL_OVERWRITE) >= 0);
	}
	assert_int_equal(zip_close(z), 0);
}

static void pickle_case(const char *pkl, size_t pn, const void *storage, size_t sn,
                        const char *where_part, const char *msg_part)
{
	char path[256];
	snprintf(path, sizeof(path), "test_import_case_%d.pt", (int)getpid());
	const char *names[2] = { "c/data.pkl", "c/data/0" };
	const void *data[2] = { pkl, storage };
	size_t lens[2] = { pn, sn };
	write_zip(path, names, data, lens, storage ? 2 : 1);
	struct pt_doc *doc = NULL;
	struct hus_err err = { 0 };
	int rc = pt_read_file(&doc, path, &err);
	unlink(path);
	if (!msg_part) {
		if (rc)
			print_message("unexpected error: %s: %s\n", err.where, err.msg);
		assert_int_equal(rc, 0);
		pt_free(doc);
		return;
	}
	if (rc == 0 || !strstr(err.msg, msg_part))
		print_message("rc %d where '%s' msg '%s' (wanted '%s')\n", rc, err.where, err.msg,
		              msg_part);
	assert_int_equal(rc, HUS_EINPUT);
	assert_null(doc);
	assert_non_null(strstr(err.msg, msg_part));
	if (where_part)
		assert_non_null(strstr(err.where, where_part));
}

#define P(s) s, sizeof(s) - 1

static void test_pt_hostile_pickles(void **state)
{
	(void)state;
	static const float four[4] = { 1, 2, 3, 4 };
	/* {'t': _rebuild_tensor_v2(storage('0', Float, numel N), offset, size, stride, False,
	 * OrderedDict())} with N, offset, size, stride patched per case */
#define TENSOR(numel, off, size_stride)                                                     \
	"\x80\x02}(X\x01\x00\x00\x00t" TBODY(numel, off, size_stride) "u."
#define TBODY(numel, off, size_stride)                                                      \
	"ctorch._utils\n_rebuild_tensor_v2\n"                                               \
	"((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00" "0"            \
	"X\x03\x00\x00\x00" "cpuK" numel "tQK" off size_stride                              \
	"\x89" "ccollections\nOrderedDict\n)RtR"
	/* a good 2x2 view, transposed through its strides: (1,2) -> reads 1 3 2 4 */
	pickle_case(P(TENSOR("\x04", "\x00", "K\x02K\x02\x86K\x01K\x02\x86")), four, 16, NULL, NULL);
	pickle_case(P(TENSOR("\x04", "\x01", "K\x02K\x02\x86K\x02K\x01\x86")), four, 16, "data.pkl",
	            "reaches element 4 of storage '0' holding 4 elements");
	pickle_case(P(TENSOR("\x04", "\x00", "K\x02K\x02\x86K\x02K\x01\x86")), four, 12, "c/data/0",
	            "expected exactly 16");
	pickle_case(P(TENSOR("\x04", "\x00", "K\x02K\x02\x86K\x02K\x01\x86")), NULL, 0, "c/data/0",
	            "storage entry missing");
	/* shape product overflow: (2^62, 2^62) */
	pickle_case(P(TENSOR("\x04", "\x00",
	                     "\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40\x8a\x08\x00\x00\x00\x00\x00"
	                     "\x00\x00\x40\x86K\x01K\x01\x86")),
	            four, 16, "data.pkl", "overflows");
	/* resource bombs (RELIABILITY.md, "Untrusted archives"): a 40 000 x 40 000 view of one
	 * element with zero strides made husai allocate 6.4 GB; a view with more elements than
	 * its storage; a small expanded view */
	pickle_case(P(TENSOR("\x01", "\x00", "M\x40\x9cM\x40\x9c\x86K\x00K\x00\x86")), four, 4,
	            "data.pkl", "stride 0 in dimension 0 of size 40000");
	pickle_case(P(TENSOR("\x03", "\x00", "K\x02K\x02\x86K\x01K\x01\x86")), four, 12,
	            "data.pkl", "view of 4 elements over storage '0' holding 3");
	pickle_case(P(TENSOR("\x04", "\x00", "K\x02K\x02\x86K\x00K\x01\x86")), four, 16,
	            "data.pkl", "stride 0 in dimension 0 of size 2");
	/* two tensors viewing one storage (tied weights): read once, both filled */
	pickle_case(P("\x80\x02}(X\x01\x00\x00\x00t" TBODY("\x04", "\x00", "K\x02\x85K\x01\x85")
	              "X\x01\x00\x00\x00u" TBODY("\x04", "\x02", "K\x02\x85K\x01\x85") "u."),
	            four, 16, NULL, NULL);
	/* ... but one key declared with two sizes is refused */
	pickle_case(P("\x80\x02}(X\x01\x00\x00\x00t" TBODY("\x04", "\x00", "K\x02\x85K\x01\x85")
	              "X\x01\x00\x00\x00u" TBODY("\x03", "\x00", "K\x02\x85K\x01\x85") "u."),
	            four, 16, "c/data/0", "declared with different types or sizes");
	/* VM misuse */
	pickle_case(P("\x80\x02h\x05."), NULL, 0, "data.pkl:2", "memo get of an unset index");
	pickle_case(P("\x80\x02u."), NULL, 0, "data.pkl:2", "needs a MARK");
	pickle_case(P("\x80\x02}X\x10\x00\x00\x00" "ab"), NULL, 0, NULL, "truncated pickle");
	pickle_case(P("\x80\x02}"), NULL, 0, NULL, "ends without STOP");
	pickle_case(P("\x80\x02}}."), NULL, 0, NULL, "exactly one value");
	pickle_case(P("\x80\x02" "ccollections\nOrderedDict\nK\x01\x85R."), NULL, 0, NULL,
	            "OrderedDict called with arguments");
	pickle_case(P("\x80\x02(X\x07\x00\x00\x00storagectorch\nDoubleStorage\n"), NULL, 0,
	            "data.pkl:15", "refusing pickle global 'torch.DoubleStorage'");
	pickle_case(P("\x80\x02(X\x03\x00\x00\x00" "abcX\x01\x00\x00\x00" "0X\x03\x00\x00\x00"
	              "cpuK\x01tQ."), NULL, 0, NULL, "persistent id is not");
	pickle_case(P("\x80\x02]K\x01K\x02s."), NULL, 0, NULL, "SETITEM on a non-dict");
	pickle_case(P("\x80\x02K\x01K\x02R."), NULL, 0, NULL, "REDUCE of something");
	pickle_case(P("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."), NULL, 0, NULL,
	            "wider than 64 bits");
	pickle_case(P("\x80\x02X\x03\x00\x00\x00" "a\x00" "b."), NULL, 0, NULL, "NUL byte");
	/* and a read of the good strided view's values */
	char path[256];
	snprintf(path, sizeof(path), "test_import_view_%d.pt", (int)getpid());
	static const char good[] = TENSOR("\x04", "\x00", "K\x02K\x02\x86K\x01K\x02\x86");
	const char *names[2] = { "c/data.pkl", "c/data/0" };
	const void *data[2] = { good, four };
	size_t lens[2] = { sizeof(good) - 1, 16 };
	write_zip(path, names, data, lens, 2);
	struct pt_doc *doc = NULL;
	assert_int_equal(pt_read_file(&doc, path, NULL), 0);
	unlink(path);
	struct imp_tensor *t = pt_get(pt_root(doc), "t")->tensor;
	assert_true(t->data[0] == 1 && t->data[1] == 3 && t->data[2] == 2 && t->data[3] == 4);
	pt_free(doc);
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_st_dtypes),
		cmocka_unit_test(test_f16_exhaustive),
		cmocka_unit_test(test_st_bad),
		cmocka_unit_test(test_pt_dtypes),
		cmocka_unit_test(test_pt_state_dict),
		cmocka_unit_test(test_pt_transformer_buffers),
		cmocka_unit_test(test_pt_hostile_fixtures),
		cmocka_unit_test(test_pt_hostile_pickles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
