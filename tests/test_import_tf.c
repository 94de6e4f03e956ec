/*
 * test_import_tf.c — an upstream transformer .pt imported by `husai import` is a checkpoint the
 * transformer stage accepts: tf_ckpt_load_params validates its config_yaml, shapes and values,
 * and the stage's own forward pass (docs/formulas.md §2.2) reproduces torch's logits at the upstream
 * answer position (index 5) for the fixture's sequences.
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
#include "train.h"

#define FIX HUSAI_FIXTURES "/import/"

static hj *expected;

static void import_ok(const char *src, const char *out)
{
	struct hus_err err = { 0 };
	const char *kind = NULL;
	int rc = imp_file(src, out, NULL, &kind, &err);
	if (rc)
		print_message("%s: %s: %s\n", err.file, err.where, err.msg);
	assert_int_equal(rc, 0);
	assert_string_equal(kind, "transformer");
}

/* the transformer stage's checkpoint reader accepts the import (config, shapes, finite
 * values), and its forward pass gives torch's logits at the upstream answer position */
static void test_train_reads_transformer(void **state)
{
	(void)state;
	char path[600];
	snprintf(path, sizeof(path), "test_import_tf_%d.h5", (int)getpid());
	import_ok(FIX "transformer.pt", path);
	assert_int_equal(hj_read_file(FIX "expected.json", &expected, NULL), 0);
	struct tf_config cfg;
	float *params = NULL;
	struct hus_err err = { 0 };
	int rc = tf_ckpt_load_params(path, &cfg, &params, &err);
	if (rc)
		print_message("%s: %s: %s\n", err.file, err.where, err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(cfg.p, 13);
	assert_int_equal(cfg.answer_index, 5);
	assert_int_equal(cfg.d_model, 16);
	assert_int_equal(cfg.n_heads, 2);
	assert_int_equal(cfg.d_mlp, 32);
	assert_true(cfg.act == TF_RELU);
	struct tf_params pv;
	struct tf_work w;
	tf_params_view(&pv, params, &cfg);
	hj *toks = hj_get(expected, "transformer.tokens"), *lg = hj_get(expected, "transformer.logits");
	size_t B = hj_len(toks), V = (size_t)cfg.p + 4;
	assert_int_equal(tf_work_alloc(&w, &cfg, B, 6, 1, &err), 0);
	int32_t tok[3 * 7], lab[3];
	assert_true(B <= 3);
	for (size_t s = 0; s < B; s++) {
		for (size_t i = 0; i < 7; i++)
			tok[s * 7 + i] = (int32_t)hj_as_f64(hj_at(hj_at(toks, s), i));
		lab[s] = tok[s * 7 + 5];
	}
	tf_pack_qkv(&w, &pv, &cfg);
	double loss;
	int64_t correct;
	tf_forward(&w, &pv, &cfg, tok, 7, B, lab, &loss, &correct);
	double worst = 0;
	for (size_t s = 0; s < B; s++)
		for (size_t o = 0; o < V; o++)
			worst = fmax(worst, fabs(w.logits[s * V + o] -
			                         hj_as_f64(hj_at(lg, (s * 7 + 5) * V + o))));
	print_message("train stage forward on the import: largest |logit - torch| = %.3g\n", worst);
	assert_true(worst < 1e-4);
	tf_work_release(&w);
	free(params);
	hj_free(expected);
	unlink(path);
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_train_reads_transformer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
