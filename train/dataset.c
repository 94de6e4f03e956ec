/*
 * dataset.c — the modular-addition dataset of docs/formulas.md §1: all p² sequences
 * [BOS, a, +, b, =, c, EOS] in a-major order, their labels, and the upstream train/val
 * split (torch.randperm with the split seed, first floor(N·fraction) are train, §1.4).
 * Shuffling inside training lives in tf_train.c; this file owns only the examples and split.
 */
#include <math.h>

#include "train.h"

void ds_examples(int32_t *tokens, int32_t *labels, int64_t p)
{
	for (int64_t a = 0; a < p; a++)
		for (int64_t b = 0; b < p; b++) {
			size_t e = (size_t)(a * p + b);
			int32_t c = (int32_t)((a + b) % p);
			if (tokens) {
				int32_t *t = tokens + e * DS_SEQ_LEN;
				t[0] = DS_BOS(p);
				t[1] = (int32_t)a;
				t[2] = DS_PLUS(p);
				t[3] = (int32_t)b;
				t[4] = DS_EQUALS(p);
				t[5] = c;
				t[6] = DS_EOS(p);
			}
			if (labels)
				labels[e] = c;
		}
}

size_t ds_train_size(size_t N, double train_fraction)
{
	/* Python: int(N * train_fraction), i.e. floor for non-negative values */
	return (size_t)floor((double)N * train_fraction);
}

void ds_split(int64_t *perm, size_t N, uint64_t seed)
{
	torch_randperm(perm, (int64_t)N, seed);
}
