/*
 * test_planted_set.c — planted-feature activation sets (train/planted.c, formats/artifact_planted.c)
 * and the recovery metrics against them (analyze/truth.c): the same settings give the same
 * bytes; every row is exactly its codes times the dictionary (no noise); children fire only
 * with their parents; a max_abs_cos constraint holds; the truth's own dictionary (permuted,
 * signs flipped) has MCC 1 and a random one a low MCC; codes read back by a perfect encoder
 * have precision and recall 1.
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

#include "analyze.h"
#include "train.h"

static const char *const tiny[] = {
	"plant.features=64", "plant.d=16", "plant.rows=700", "plant.seed=5",
	"plant.frequency.l0=4", "plant.hierarchy.parents=4", "plant.hierarchy.children=3",
	"plant.correlation.groups=2", "plant.correlation.size=4", "plant.dictionary.max_abs_cos=0.9",
	NULL,
};

static void make(const char *path, const char *const *sets, const char *extra)
{
	struct cfg *c = cfg_empty("test");
	struct hus_err err = { 0 };
	struct planted_spec s;
	for (size_t i = 0; sets[i]; i++)
		assert_int_equal(cfg_set(c, sets[i], &err), 0);
	if (extra)
		assert_int_equal(cfg_set(c, extra, &err), 0);
	assert_int_equal(planted_spec_read(c, &s, &err), 0);
	struct hus_provenance prov = { "", "" };
	int rc = planted_generate(path, &s, &prov, &err);
	if (rc)
		fail_msg("%s: %s", err.where, err.msg);
	cfg_free(c);
}

static void load(const char *path, struct planted_truth *t, float **X, size_t *N)
{
	struct hus_err err = { 0 };
	size_t d;
	assert_int_equal(planted_truth_read(path, t, &err), 0);
	assert_int_equal(acts_head_read(path, SIZE_MAX, X, N, &d, &err), 0);
	assert_int_equal(d, t->d);
	assert_int_equal(*N, t->N);
}

static void test_reproducible_and_exact(void **state)
{
	(void)state;
	char a[64], b[64];
	snprintf(a, sizeof(a), "/tmp/test_planted_%d_a.h5", (int)getpid());
	snprintf(b, sizeof(b), "/tmp/test_planted_%d_b.h5", (int)getpid());
	make(a, tiny, NULL);
	make(b, tiny, NULL);
	struct planted_truth ta, tb;
	float *Xa, *Xb;
	size_t Na, Nb;
	load(a, &ta, &Xa, &Na);
	load(b, &tb, &Xb, &Nb);
	assert_int_equal(ta.nnz, tb.nnz);
	assert_memory_equal(Xa, Xb, sizeof(float) * Na * ta.d);
	assert_memory_equal(ta.dictionary, tb.dictionary, sizeof(float) * ta.d * ta.n);
	assert_memory_equal(ta.indices, tb.indices, sizeof(int32_t) * ta.nnz);
	assert_memory_equal(ta.values, tb.values, sizeof(float) * ta.nnz);
	/* rows = codes x dictionary, added in feature order as the generator does */
	float *x = malloc(sizeof(float) * ta.d);
	size_t child_alone = 0;
	for (size_t r = 0; r < Na; r++) {
		memset(x, 0, sizeof(float) * ta.d);
		for (int64_t q = ta.indptr[r]; q < ta.indptr[r + 1]; q++)
			for (size_t j = 0; j < ta.d; j++)
				x[j] += ta.values[q] * ta.dictionary[j * ta.n + (size_t)ta.indices[q]];
		assert_memory_equal(x, Xa + r * ta.d, sizeof(float) * ta.d);
		/* children 4..15 (parent (i-4)/3) never fire without their parent */
		for (int64_t q = ta.indptr[r]; q < ta.indptr[r + 1]; q++) {
			int32_t i = ta.indices[q];
			if (i >= 4 && i < 16) {
				int32_t par = (i - 4) / 3, seen = 0;
				for (int64_t u = ta.indptr[r]; u < ta.indptr[r + 1]; u++)
					seen |= ta.indices[u] == par;
				child_alone += !seen;
			}
		}
	}
	assert_int_equal(child_alone, 0);
	/* unit columns, no pair above the max |cos| */
	for (size_t i = 0; i < ta.n; i++)
		for (size_t k = i; k < ta.n; k++) {
			double s = 0;
			for (size_t j = 0; j < ta.d; j++)
				s += (double)ta.dictionary[j * ta.n + i] * ta.dictionary[j * ta.n + k];
			if (i == k)
				assert_true(fabs(s - 1) < 1e-5);
			else
				assert_true(fabs(s) <= 0.9 + 1e-6);
		}
	/* another seed: other rows */
	make(b, tiny, "plant.seed=6");
	struct planted_truth tc;
	float *Xc;
	size_t Nc;
	load(b, &tc, &Xc, &Nc);
	assert_true(memcmp(Xa, Xc, sizeof(float) * Na * ta.d) != 0);
	free(x), free(Xa), free(Xb), free(Xc);
	planted_truth_release(&ta), planted_truth_release(&tb), planted_truth_release(&tc);
	unlink(a), unlink(b);
}

static void test_recovery_metrics(void **state)
{
	(void)state;
	char a[64];
	snprintf(a, sizeof(a), "/tmp/test_planted_%d_r.h5", (int)getpid());
	make(a, tiny, NULL);
	struct planted_truth t;
	float *X;
	size_t N, nz, n, d;
	load(a, &t, &X, &N);
	n = t.n, d = t.d;
	/* the truth's dictionary with columns permuted and every other sign flipped */
	float *W = malloc(sizeof(float) * d * n), *Tt = malloc(sizeof(float) * n * d);
	float *At = malloc(sizeof(float) * n * d), *best = malloc(sizeof(float) * n);
	float *mc = malloc(sizeof(float) * n);
	int32_t *match = malloc(sizeof(int32_t) * n);
	struct hus_err err = { 0 };
	for (size_t c = 0; c < n; c++) {
		size_t src = (c * 37 + 11) % n; /* 37 is prime to 64: a permutation */
		for (size_t j = 0; j < d; j++)
			W[j * n + c] = (c % 2 ? -1.0f : 1.0f) * t.dictionary[j * n + src];
	}
	assert_int_equal(pwmcc_normalize(Tt, &nz, t.dictionary, d, n, &err), 0);
	assert_int_equal(pwmcc_normalize(At, &nz, W, d, n, &err), 0);
	struct truth_recovery tv;
	assert_int_equal(truth_recovery(&tv, best, match, mc, Tt, At, d, n, n, &err), 0);
	assert_true(fabs(tv.mcc - 1.0) < 1e-5);
	assert_true(fabs(tv.recovery_mean - 1.0) < 1e-5);
	assert_true(tv.recovered_09 == 1.0);
	for (size_t c = 0; c < n; c++) /* column c holds true feature (37c + 11) mod 64 */
		assert_int_equal(match[(c * 37 + 11) % n], (int32_t)c);
	/* a perfect encoder: latent match[i] = the code of true feature i */
	float *Z = calloc(N * n, sizeof(float));
	for (size_t r = 0; r < N; r++)
		for (int64_t q = t.indptr[r]; q < t.indptr[r + 1]; q++)
			Z[r * n + (size_t)match[t.indices[q]]] = t.values[q];
	double p, rc;
	truth_codes(&p, &rc, match, Z, N, n, t.indptr, t.indices, n);
	assert_true(p == 1.0 && rc == 1.0);
	/* a latent that always fires keeps recall but costs precision */
	for (size_t r = 0; r < N; r++)
		Z[r * n + (size_t)match[n - 1]] = 1.0f; /* the rarest feature */
	truth_codes(&p, &rc, match, Z, N, n, t.indptr, t.indices, n);
	assert_true(p < 1.0 && rc == 1.0);
	/* a random decoder of the same shape: far from the truth */
	assert_int_equal(torch_randn_f32(W, d * n, 99), 0);
	assert_int_equal(pwmcc_normalize(At, &nz, W, d, n, &err), 0);
	assert_int_equal(truth_recovery(&tv, best, match, mc, Tt, At, d, n, n, &err), 0);
	print_message("random decoder: MCC %.4f, mean best |cos| %.4f\n", tv.mcc, tv.recovery_mean);
	assert_true(tv.mcc < 0.6);
	assert_true(tv.recovered_09 < 0.1);
	free(W), free(Tt), free(At), free(best), free(mc), free(match), free(Z), free(X);
	planted_truth_release(&t);
	unlink(a);
}

static void test_bad_settings(void **state)
{
	(void)state;
	struct cfg *c = cfg_empty("test");
	struct hus_err err = { 0 };
	struct planted_spec s;
	assert_int_equal(cfg_set(c, "plant.features=8", &err), 0);
	assert_int_equal(cfg_set(c, "plant.hierarchy.parents=4", &err), 0);
	assert_int_equal(cfg_set(c, "plant.hierarchy.children=3", &err), 0);
	assert_int_not_equal(planted_spec_read(c, &s, &err), 0); /* 4 + 12 > 8 */
	assert_non_null(strstr(err.msg, "need 16 features"));
	cfg_free(c);
	/* impossible spacing: 64 directions in R^2 all 0.1 apart */
	c = cfg_empty("test");
	assert_int_equal(cfg_set(c, "plant.features=64", &err), 0);
	assert_int_equal(cfg_set(c, "plant.d=2", &err), 0);
	assert_int_equal(cfg_set(c, "plant.rows=10", &err), 0);
	assert_int_equal(cfg_set(c, "plant.dictionary.max_abs_cos=0.1", &err), 0);
	assert_int_equal(planted_spec_read(c, &s, &err), 0);
	struct hus_provenance prov = { "", "" };
	char a[64];
	snprintf(a, sizeof(a), "/tmp/test_planted_%d_x.h5", (int)getpid());
	assert_int_not_equal(planted_generate(a, &s, &prov, &err), 0);
	assert_false(access(a, F_OK) == 0); /* nothing left behind */
	cfg_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reproducible_and_exact),
		cmocka_unit_test(test_recovery_metrics),
		cmocka_unit_test(test_bad_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
