/*
 * test_dataset.c — the modular-addition dataset (docs/formulas.md §1, Appendix A): sequences and labels,
 * split sizes, and the torch.randperm split permutation against the torch vectors in
 * tests/fixtures/torch-rng-vectors.json (randperm_n12769_seed42_first20, randperm_n10_seed7).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "train.h"

static void test_tokens_p5(void **state)
{
	(void)state;
	int32_t tok[25 * DS_SEQ_LEN], lab[25];
	ds_examples(tok, lab, 5);
	/* Appendix A: p=5, (2,3) -> [5, 2, 8, 3, 7, 0, 6] */
	const int32_t want[DS_SEQ_LEN] = { 5, 2, 8, 3, 7, 0, 6 };
	assert_memory_equal(tok + (2 * 5 + 3) * DS_SEQ_LEN, want, sizeof(want));
	assert_int_equal(lab[2 * 5 + 3], 0);
	for (int a = 0; a < 5; a++)
		for (int b = 0; b < 5; b++) {
			const int32_t *t = tok + (a * 5 + b) * DS_SEQ_LEN;
			assert_int_equal(t[1], a);
			assert_int_equal(t[3], b);
			assert_int_equal(t[5], (a + b) % 5);
			assert_int_equal(lab[a * 5 + b], (a + b) % 5);
		}
}

static void test_vocab_113(void **state)
{
	(void)state;
	assert_int_equal(DS_BOS(113), 113);
	assert_int_equal(DS_EOS(113), 114);
	assert_int_equal(DS_EQUALS(113), 115);
	assert_int_equal(DS_PLUS(113), 116);
	struct tf_config c;
	struct tf_layout lay;
	tf_config_default(&c);
	tf_layout_init(&lay, &c);
	assert_int_equal(lay.t[0].dims[0], 117); /* vocab p + 4 */
}

static void test_split_sizes(void **state)
{
	(void)state;
	assert_int_equal(ds_train_size(12769, 0.9), 11492);
	assert_int_equal(ds_train_size(12769, 0.8), 10215);
	assert_int_equal(ds_train_size(12769, 0.7), 8938);
}

static void test_randperm_vectors(void **state)
{
	(void)state;
	/* tests/fixtures/torch-rng-vectors.json */
	const int64_t want42[20] = { 11691, 4308, 4501, 5493, 10945, 9828, 10172, 39, 2087, 7722,
		                     3539, 5777, 4087, 11443, 11170, 11329, 999, 7576, 9583, 5225 };
	const int64_t want7[10] = { 5, 0, 3, 4, 1, 7, 9, 6, 8, 2 };
	int64_t *perm = malloc(12769 * sizeof(int64_t));
	ds_split(perm, 12769, 42);
	assert_memory_equal(perm, want42, sizeof(want42));
	/* a permutation: every index once */
	char *seen = calloc(12769, 1);
	for (size_t i = 0; i < 12769; i++) {
		assert_true(perm[i] >= 0 && perm[i] < 12769);
		assert_false(seen[perm[i]]);
		seen[perm[i]] = 1;
	}
	int64_t p10[10];
	ds_split(p10, 10, 7);
	assert_memory_equal(p10, want7, sizeof(want7));
	free(perm);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_p5),
		cmocka_unit_test(test_vocab_113),
		cmocka_unit_test(test_split_sizes),
		cmocka_unit_test(test_randperm_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
