/*
 * test_extract.c — activation extraction (docs/formulas.md §3) and the activation-set artifact: batch
 * size never changes a value; rows follow the split_seed permutation; `all` is sample-major
 * with 7 positions; `answer` follows the model's answer position; hooks are wired as
 * resid_mid = resid_pre + attn_out and resid_post = resid_mid + mlp_out; bad layer, hook and
 * position are named errors; acts_write/acts_read round-trip, and a non-finite row is named.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "train.h"

static char tmpdir[64];
static struct tf_config cfg;
static float *params;

static int setup(void **state)
{
	(void)state;
	struct tf_layout lay;
	struct hus_err err;
	hus_libs_init();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/husai_extract_XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	tf_config_default(&cfg);
	cfg.p = 11;
	cfg.d_model = 16;
	cfg.n_heads = 2;
	cfg.d_mlp = 32;
	cfg.init_seed = 3;
	tf_layout_init(&lay, &cfg);
	params = malloc(lay.n_params * sizeof(float));
	return tf_params_init(params, &lay, &cfg, &err);
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	free(params);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void extract(struct acts_set *s, const struct tf_config *c, enum tf_hook hook,
                    int64_t layer, const char *pos, size_t batch)
{
	struct hus_err err;
	struct tf_extract_opts o = { hook, layer, pos, 42, 0.8, batch, 0 };
	if (tf_extract(s, c, params, &o, &err))
		fail_msg("%s: %s", err.where, err.msg);
}

static void test_batch_size_invariant(void **state)
{
	(void)state;
	struct acts_set a, b, c;
	extract(&a, &cfg, TF_HOOK_RESID_POST, 1, "answer", 1);
	extract(&b, &cfg, TF_HOOK_RESID_POST, 1, "answer", 7);
	extract(&c, &cfg, TF_HOOK_RESID_POST, 1, "answer", 500);
	assert_int_equal(a.N, 121);
	assert_int_equal(a.d, 16);
	assert_memory_equal(a.x, b.x, a.N * a.d * sizeof(float));
	assert_memory_equal(a.x, c.x, a.N * a.d * sizeof(float));
	acts_release(&a);
	acts_release(&b);
	acts_release(&c);
}

/* the same with the seed model's widths (d_model 128, d_mlp 512), where sgemm tiles differ */
static void test_batch_size_invariant_wide(void **state)
{
	(void)state;
	struct tf_config c;
	struct tf_layout lay;
	struct hus_err err;
	struct acts_set a, b;
	tf_config_default(&c);
	c.p = 11;
	tf_layout_init(&lay, &c);
	float *keep = params;
	params = malloc(lay.n_params * sizeof(float));
	assert_int_equal(tf_params_init(params, &lay, &c, &err), 0);
	extract(&a, &c, TF_HOOK_MLP_OUT, 1, "all", 1);
	extract(&b, &c, TF_HOOK_MLP_OUT, 1, "all", 121);
	assert_memory_equal(a.x, b.x, a.N * a.d * sizeof(float));
	acts_release(&a);
	acts_release(&b);
	extract(&a, &c, TF_HOOK_RESID_POST, 1, "answer", 13);
	extract(&b, &c, TF_HOOK_RESID_POST, 1, "answer", 100);
	assert_memory_equal(a.x, b.x, a.N * a.d * sizeof(float));
	acts_release(&a);
	acts_release(&b);
	free(params);
	params = keep;
}

static void test_row_order(void **state)
{
	(void)state;
	struct acts_set a;
	int64_t perm[121];
	extract(&a, &cfg, TF_HOOK_RESID_POST, 1, "answer", 32);
	ds_split(perm, 121, 42);
	for (size_t i = 0; i < a.N; i++) {
		assert_int_equal(a.example_index[i], perm[i]);
		assert_int_equal(a.a[i], perm[i] / 11);
		assert_int_equal(a.b[i], perm[i] % 11);
		assert_int_equal(a.c[i], (a.a[i] + a.b[i]) % 11);
		assert_int_equal(a.pos[i], 4); /* answer at equals */
	}
	assert_string_equal(a.answer_position, "equals");
	acts_release(&a);
}

static void test_positions(void **state)
{
	(void)state;
	struct acts_set all, eq, bos, ans5;
	extract(&all, &cfg, TF_HOOK_RESID_MID, 0, "all", 50);
	extract(&eq, &cfg, TF_HOOK_RESID_MID, 0, "equals", 50);
	extract(&bos, &cfg, TF_HOOK_RESID_MID, 0, "bos", 50);
	assert_int_equal(all.N, 121 * 7);
	for (size_t i = 0; i < 121; i++) {
		for (int t = 0; t < 7; t++) {
			assert_int_equal(all.pos[i * 7 + t], t);
			assert_int_equal(all.example_index[i * 7 + t], eq.example_index[i]);
		}
		assert_memory_equal(all.x + (i * 7 + 4) * 16, eq.x + i * 16, 16 * sizeof(float));
		assert_memory_equal(all.x + (i * 7 + 0) * 16, bos.x + i * 16, 16 * sizeof(float));
	}
	/* a model trained with the upstream answer position: `answer` is index 5 */
	struct tf_config c5 = cfg;
	c5.answer_index = 5;
	extract(&ans5, &c5, TF_HOOK_RESID_MID, 0, "answer", 50);
	assert_string_equal(ans5.answer_position, "upstream");
	for (size_t i = 0; i < 121; i++) {
		assert_int_equal(ans5.pos[i], 5);
		assert_memory_equal(all.x + (i * 7 + 5) * 16, ans5.x + i * 16, 16 * sizeof(float));
	}
	acts_release(&all);
	acts_release(&eq);
	acts_release(&bos);
	acts_release(&ans5);
}

static void test_hook_wiring(void **state)
{
	(void)state;
	struct acts_set pre, mid, post, att, mlp;
	extract(&pre, &cfg, TF_HOOK_RESID_PRE, 1, "all", 64);
	extract(&att, &cfg, TF_HOOK_ATTN_OUT, 1, "all", 64);
	extract(&mid, &cfg, TF_HOOK_RESID_MID, 1, "all", 64);
	extract(&mlp, &cfg, TF_HOOK_MLP_OUT, 1, "all", 64);
	extract(&post, &cfg, TF_HOOK_RESID_POST, 1, "all", 64);
	for (size_t i = 0; i < pre.N * pre.d; i++) {
		assert_true(mid.x[i] == pre.x[i] + att.x[i]);
		assert_true(post.x[i] == mid.x[i] + mlp.x[i]);
	}
	/* layer 1's resid_pre is layer 0's resid_post */
	struct acts_set post0;
	extract(&post0, &cfg, TF_HOOK_RESID_POST, 0, "all", 64);
	assert_memory_equal(post0.x, pre.x, pre.N * pre.d * sizeof(float));
	assert_memory_not_equal(pre.x, post.x, pre.N * pre.d * sizeof(float));
	acts_release(&pre);
	acts_release(&mid);
	acts_release(&post);
	acts_release(&att);
	acts_release(&mlp);
	acts_release(&post0);
}

static void test_bad_choices(void **state)
{
	(void)state;
	struct hus_err err;
	struct acts_set s;
	enum tf_hook h;
	struct tf_extract_opts o = { TF_HOOK_RESID_POST, 2, "answer", 42, 0.8, 16, 0 };
	assert_int_equal(tf_extract(&s, &cfg, params, &o, &err), HUS_EINPUT);
	assert_string_equal(err.where, "--layer");
	o.layer = -1;
	assert_int_equal(tf_extract(&s, &cfg, params, &o, &err), HUS_EINPUT);
	o.layer = 0;
	o.position = "second_operand";
	assert_int_equal(tf_extract(&s, &cfg, params, &o, &err), HUS_EINPUT);
	assert_string_equal(err.where, "--position");
	assert_int_equal(tf_hook_parse("resid_final", &h, &err), HUS_EINPUT);
	assert_string_equal(err.where, "--hook");
	assert_int_equal(tf_hook_parse("mlp_out", &h, &err), 0);
	assert_int_equal(h, TF_HOOK_MLP_OUT);
}

static void test_artifact_roundtrip(void **state)
{
	(void)state;
	struct acts_set a, r;
	struct hus_err err;
	char path[256];
	const struct hus_provenance prov = { "data:\n  p: 11\n", "" };
	extract(&a, &cfg, TF_HOOK_RESID_POST, 1, "answer", 64);
	snprintf(a.transformer_sha256, sizeof(a.transformer_sha256), "%064d", 7);
	snprintf(path, sizeof(path), "%s/acts.h5", tmpdir);
	assert_int_equal(acts_write(path, &a, &prov, &err), 0);
	assert_int_equal(acts_read(path, &r, &err), 0);
	assert_int_equal(r.N, a.N);
	assert_int_equal(r.d, a.d);
	assert_memory_equal(r.x, a.x, a.N * a.d * sizeof(float));
	assert_memory_equal(r.example_index, a.example_index, a.N * sizeof(int32_t));
	assert_memory_equal(r.pos, a.pos, a.N * sizeof(int32_t));
	assert_string_equal(r.hook, "resid_post");
	assert_string_equal(r.position, "answer");
	assert_string_equal(r.answer_position, "equals");
	assert_string_equal(r.transformer_sha256, a.transformer_sha256);
	assert_int_equal(r.layer, 1);
	assert_int_equal(r.modulus, 11);
	assert_int_equal(r.split_seed, 42);
	assert_true(r.split_fraction == 0.8);
	/* statistics over all elements, std unbiased */
	double s = 0, ss = 0, n = (double)(a.N * a.d);
	for (size_t i = 0; i < a.N * a.d; i++)
		s += a.x[i];
	for (size_t i = 0; i < a.N * a.d; i++)
		ss += (a.x[i] - s / n) * (a.x[i] - s / n);
	assert_true(fabs(r.mean - s / n) < 1e-9);
	assert_true(fabs(r.std - sqrt(ss / (n - 1))) < 1e-9);
	acts_release(&r);
	/* a non-finite value is named by row */
	a.x[3 * a.d + 2] = NAN;
	assert_int_equal(acts_write(path, &a, &prov, &err), 0);
	assert_int_equal(acts_read(path, &r, &err), HUS_EINPUT);
	assert_string_equal(err.where, "/activations[3]");
	/* an unwritable place leaves nothing behind */
	snprintf(path, sizeof(path), "%s/missing/acts.h5", tmpdir);
	assert_int_not_equal(acts_write(path, &a, &prov, &err), 0);
	assert_false(hus_file_exists(path));
	acts_release(&a);
}

/* A set without the task columns (an import, a planted set): version 2, only the matrix and
 * the metadata given; the stream writer gives the same values and statistics as acts_write;
 * a consumer that needs the task columns says so; half the task columns is refused. */
static void test_generic_set(void **state)
{
	(void)state;
	struct hus_err err;
	char path[256], path2[256];
	const size_t N = 37, D = 5;
	float *x = malloc(N * D * sizeof(float));
	for (size_t i = 0; i < N * D; i++)
		x[i] = (float)sin((double)i * 0.37) * 3.0f;
	struct acts_set g;
	memset(&g, 0, sizeof(g));
	g.N = N, g.d = D, g.x = x, g.layer = -1;
	snprintf(g.model, sizeof(g.model), "gpt2");
	snprintf(g.hook, sizeof(g.hook), "blocks.6.hook_resid_post");
	snprintf(path, sizeof(path), "%s/generic.h5", tmpdir);
	assert_int_equal(acts_write(path, &g, NULL, &err), 0);
	struct acts_set r;
	assert_int_equal(acts_read(path, &r, &err), 0);
	assert_false(acts_has_task(&r));
	assert_int_equal(acts_file_has_task(path, &err), 0);
	assert_null(r.a);
	assert_int_equal(r.layer, -1);
	assert_string_equal(r.model, "gpt2");
	assert_string_equal(r.hook, "blocks.6.hook_resid_post");
	assert_string_equal(r.position, "");
	assert_memory_equal(r.x, x, N * D * sizeof(float));
	assert_int_equal(acts_require_task(&r, path, "this check", &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, "no") ? err.msg : NULL);
	struct h5r *h;
	assert_int_equal(h5r_open(&h, path, HUS_FORMAT_ACTIVATIONS, 2, &err), 0);
	assert_int_equal(h5r_format_version(h), 2);
	char *v = NULL;
	assert_int_equal(h5r_attr_str(h, "/activations", "dims", &v, &err), 0);
	assert_string_equal(v, "row,d_model");
	free(v);
	assert_int_equal(h5r_attr_str(h, "/stats/std", "description", &v, &err), 0);
	free(v);
	h5r_close(h);
	/* streamed in uneven chunks: the same matrix and the same statistics bits */
	struct acts_stream *st;
	struct acts_stats stats;
	snprintf(path2, sizeof(path2), "%s/generic_stream.h5", tmpdir);
	assert_int_equal(acts_stream_open(&st, path2, &g, NULL, &err), 0);
	acts_stats_init(&stats);
	acts_stats_pass1(&stats, x, 10 * D);
	acts_stats_pass1(&stats, x + 10 * D, (N - 10) * D);
	acts_stats_pass2(&stats, x, 4 * D);
	acts_stats_pass2(&stats, x + 4 * D, (N - 4) * D);
	assert_int_equal(acts_stream_rows(st, x, 10, &err), 0);
	assert_int_equal(acts_stream_rows(st, x + 10 * D, N - 10, &err), 0);
	assert_int_equal(acts_stream_commit(st, &stats, &err), 0);
	struct acts_set r2;
	assert_int_equal(acts_read(path2, &r2, &err), 0);
	assert_memory_equal(r2.x, x, N * D * sizeof(float));
	assert_memory_equal(&r2.mean, &r.mean, sizeof(double));
	assert_memory_equal(&r2.std, &r.std, sizeof(double));
	assert_memory_equal(&r2.min, &r.min, sizeof(double));
	assert_memory_equal(&r2.max, &r.max, sizeof(double));
	acts_release(&r2);
	acts_release(&r);
	/* a stream that ends short leaves nothing */
	snprintf(path2, sizeof(path2), "%s/generic_short.h5", tmpdir);
	assert_int_equal(acts_stream_open(&st, path2, &g, NULL, &err), 0);
	assert_int_equal(acts_stream_rows(st, x, 3, &err), 0);
	assert_int_not_equal(acts_stream_commit(st, &stats, &err), 0);
	assert_false(hus_file_exists(path2));
	/* the task columns come all or none */
	int32_t col[37] = { 0 };
	g.a = col;
	assert_int_not_equal(acts_write(path2, &g, NULL, &err), 0);
	assert_false(hus_file_exists(path2));
	free(x);
}

/* rows train (docs/formulas.md §1.4): the first floor(p² f) examples of the split permutation, the same
 * values as those rows of the full set; p = 113 at 0.9 keeps 11 492 rows; the artifact records
 * `rows` and the reader refuses a set whose rows are not the train part */
static void test_train_rows(void **state)
{
	(void)state;
	struct hus_err err;
	struct tf_config c = cfg;
	c.p = 113;
	struct tf_layout lay;
	tf_layout_init(&lay, &c);
	float *p113 = malloc(lay.n_params * sizeof(float));
	assert_non_null(p113);
	assert_int_equal(tf_params_init(p113, &lay, &c, &err), 0);
	struct acts_set all, tr, r;
	struct tf_extract_opts o = { TF_HOOK_RESID_POST, 1, "answer", 42, 0.9, 64, 0 };
	assert_int_equal(tf_extract(&all, &c, p113, &o, &err), 0);
	o.train_rows = 1;
	assert_int_equal(tf_extract(&tr, &c, p113, &o, &err), 0);
	assert_int_equal(all.N, 12769);
	assert_int_equal(tr.N, 11492);
	assert_string_equal(all.rows, "all");
	assert_string_equal(tr.rows, "train");
	int64_t *perm = malloc(12769 * sizeof(int64_t));
	assert_non_null(perm);
	ds_split(perm, 12769, 42);
	for (size_t i = 0; i < tr.N; i++)
		assert_int_equal(tr.example_index[i], perm[i]);
	/* the val part, perm[11492..], is absent */
	char *seen = calloc(12769, 1);
	for (size_t i = 0; i < tr.N; i++)
		seen[tr.example_index[i]] = 1;
	for (size_t i = 11492; i < 12769; i++)
		assert_false(seen[perm[i]]);
	free(seen);
	assert_memory_equal(tr.x, all.x, tr.N * tr.d * sizeof(float));
	/* round trip, and the reader's checks */
	char path[256];
	const struct hus_provenance prov = { "data:\n  p: 113\n", "" };
	snprintf(path, sizeof(path), "%s/train.h5", tmpdir);
	assert_int_equal(acts_write(path, &tr, &prov, &err), 0);
	assert_int_equal(acts_read(path, &r, &err), 0);
	assert_string_equal(r.rows, "train");
	assert_int_equal(r.N, 11492);
	acts_release(&r);
	snprintf(path, sizeof(path), "%s/all.h5", tmpdir);
	assert_int_equal(acts_write(path, &all, &prov, &err), 0);
	assert_int_equal(acts_read(path, &r, &err), 0);
	assert_string_equal(r.rows, "all");
	acts_release(&r);
	/* a full set labelled train: wrong row count */
	snprintf(all.rows, sizeof(all.rows), "train");
	assert_int_equal(acts_write(path, &all, &prov, &err), 0);
	assert_int_equal(acts_read(path, &r, &err), HUS_EINPUT);
	assert_string_equal(err.where, "/activations");
	/* a train set whose rows are not the train part, in order */
	int32_t t = tr.example_index[5];
	tr.example_index[5] = tr.example_index[6];
	tr.example_index[6] = t;
	for (int i = 5; i < 7; i++) {
		tr.a[i] = tr.example_index[i] / 113;
		tr.b[i] = tr.example_index[i] % 113;
		tr.c[i] = (tr.a[i] + tr.b[i]) % 113;
	}
	assert_int_equal(acts_write(path, &tr, &prov, &err), 0);
	assert_int_equal(acts_read(path, &r, &err), HUS_EINPUT);
	assert_string_equal(err.where, "/example_index[5]");
	/* an unknown value is refused by the writer */
	snprintf(tr.rows, sizeof(tr.rows), "val");
	assert_int_equal(acts_write(path, &tr, &prov, &err), HUS_EINPUT);
	assert_string_equal(err.where, "rows");
	free(perm);
	free(p113);
	acts_release(&all);
	acts_release(&tr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_size_invariant),
		cmocka_unit_test(test_batch_size_invariant_wide),
		cmocka_unit_test(test_row_order),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_hook_wiring),
		cmocka_unit_test(test_bad_choices),
		cmocka_unit_test(test_artifact_roundtrip),
		cmocka_unit_test(test_train_rows),
		cmocka_unit_test(test_generic_set),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
