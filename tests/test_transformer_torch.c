/*
 * test_transformer_torch.c — the transformer against PyTorch (fixtures from
 * tests/fixtures/gen_transformer_torch.py, TransformerLens-equivalent math in plain torch):
 * on the same weights and batch, loss, answer-position logits, every gradient, the
 * parameters after one AdamW step, and resid_post of both layers at every position agree
 * within 1e-5, for relu (answer at equals), gelu (upstream) and gelu_new (equals).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train.h"

static const int examples[8] = { 0, 3, 10, 17, 24, 30, 41, 48 };

static float *load(const char *name, size_t n)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", HUSAI_FIXTURES, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	float *x = malloc(n * sizeof(float));
	size_t got = fread(x, sizeof(float), n, f);
	int extra = fgetc(f);
	fclose(f);
	if (got != n || extra != EOF)
		fail_msg("%s: expected exactly %zu floats", path, n);
	return x;
}

/* max |a - b| over n, skipping entries where skip (may be NULL) is below skip_below */
static double maxdiff(const float *a, const float *b, size_t n, const float *skip,
                      float skip_below, size_t *where)
{
	double m = 0;
	*where = 0;
	for (size_t i = 0; i < n; i++) {
		if (skip && skip[i] != 0.0f && fabsf(skip[i]) < skip_below)
			continue;
		double d = fabs((double)a[i] - b[i]);
		if (d > m) {
			m = d;
			*where = i;
		}
	}
	return m;
}

static void check_at(const char *label, double diff, const size_t *where, double tol)
{
	if (!(diff <= tol))
		print_error("%s: max difference %.3g at element %zu (tolerance %.0e)\n", label, diff,
		            *where, tol);
	assert_true(diff <= tol);
}

static void run_case(const char *file, enum tf_act act, int answer)
{
	struct tf_config c;
	struct tf_trainer tr;
	struct hus_err err;
	tf_config_default(&c);
	c.p = 7;
	c.n_layers = 2;
	c.d_model = 16;
	c.n_heads = 2;
	c.d_mlp = 32;
	c.act = act;
	c.answer_index = answer;
	c.lr = 1e-3;
	c.beta1 = 0.9;
	c.beta2 = 0.98;
	c.eps = 1e-8;
	c.weight_decay = 0.01;
	c.decay_all = 1;
	c.batch_size = 8;
	assert_int_equal(tf_trainer_init(&tr, &c, &err), 0);
	const size_t n = tr.lay.n_params, B = 8, V = 11, d = 16, T = DS_SEQ_LEN;
	assert_int_equal(n, 4955);
	float *p0 = load("tf_torch_params.bin", n);
	float *ref = load(file, 1 + B * V + 2 * n + 2 * B * T * d);
	const float *ref_logits = ref + 1, *ref_grad = ref_logits + B * V;
	const float *ref_after = ref_grad + n, *ref_hooks = ref_after + n;
	memcpy(tr.params, p0, n * sizeof(float));
	tf_pack_qkv(&tr.w, &tr.pv, &c);
	int32_t tok[8 * DS_SEQ_LEN], lab[8];
	for (size_t b = 0; b < B; b++) {
		memcpy(tok + b * T, tr.tokens + examples[b] * T, T * sizeof(int32_t));
		lab[b] = tr.labels[examples[b]];
	}
	/* hooks first (full path, every position), from the initial weights */
	struct tf_work w;
	assert_int_equal(tf_work_alloc(&w, &c, B, T, 0, &err), 0);
	tf_pack_qkv(&w, &tr.pv, &c);
	tf_forward(&w, &tr.pv, &c, tok, T, B, NULL, NULL, NULL);
	size_t at = 0;
	check_at("blocks.0.hook_resid_post", maxdiff(w.x[1], ref_hooks, B * T * d, NULL, 0, &at), &at, 1e-5);
	check_at("blocks.1.hook_resid_post", maxdiff(w.x[2], ref_hooks + B * T * d, B * T * d, NULL, 0, &at),
	      &at, 1e-5);
	tf_work_release(&w);

	double loss;
	int64_t ok;
	tf_train_step(&tr, tok, lab, B, &loss, &ok);
	at = 0;
	check_at("loss", fabs(loss - ref[0]), &at, 1e-5);
	check_at("logits", maxdiff(tr.w.logits, ref_logits, B * V, NULL, 0, &at), &at, 1e-5);
	check_at("gradients", maxdiff(tr.grads, ref_grad, n, NULL, 0, &at), &at, 1e-5);
	/* Adam normalises each gradient, so where it is at rounding level (b_K's true gradient
	 * is 0: softmax ignores a shift of every key) the update's sign is noise.  Compare the
	 * step wherever either gradient is >= 1e-6 in size or both are exactly 0 (decay only). */
	double worst = 0;
	size_t compared = 0;
	at = 0;
	for (size_t i = 0; i < n; i++) {
		float g1 = fabsf(tr.grads[i]), g2 = fabsf(ref_grad[i]);
		if (!((g1 == 0 && g2 == 0) || g1 >= 1e-6f || g2 >= 1e-6f))
			continue;
		compared++;
		double dd = fabs((double)tr.params[i] - ref_after[i]);
		if (dd > worst) {
			worst = dd;
			at = i;
		}
	}
	check_at("params after AdamW", worst, &at, 1e-5);
	assert_true(compared > n * 9 / 10);
	free(p0);
	free(ref);
	tf_trainer_release(&tr);
}

static void test_relu_equals(void **state) { (void)state; run_case("tf_torch_relu_equals.bin", TF_RELU, 4); }
static void test_gelu_upstream(void **state) { (void)state; run_case("tf_torch_gelu_upstream.bin", TF_GELU, 5); }
static void test_gelu_new_equals(void **state) { (void)state; run_case("tf_torch_gelu_new_equals.bin", TF_GELU_NEW, 4); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relu_equals),
		cmocka_unit_test(test_gelu_upstream),
		cmocka_unit_test(test_gelu_new_equals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
