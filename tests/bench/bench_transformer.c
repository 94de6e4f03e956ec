/*
 * bench_transformer.c — steps/s of one transformer training step, the work torch_peer.py's
 * case_transformer times: the seed model (p 113, 2 x 128 x 4 heads x 512, relu), answer at
 * index 4 (`equals`), AdamW lr 1e-3, weight decay 0.01, torch default betas, batches of 512
 * or 2048 taken from a random permutation, 5 warm-up steps, then timed steps.
 * Like the peer, the figure is the best of 1 and 2 OpenMP threads (HUSAI_BENCH_THREADS="1,2"
 * by default); env HUSAI_BENCH_STEPS overrides the number of timed steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "bench.h"
#include "train.h"

static int one_run(struct bench_result *r, size_t batch, int steps, int threads)
{
	struct tf_config c;
	struct tf_trainer tr;
	struct hus_err err = { 0 };
	tf_config_default(&c);
	c.batch_size = (int64_t)batch;
	c.beta2 = 0.999;
	c.answer_index = 4;
	omp_set_num_threads(threads);
	if (tf_trainer_init(&tr, &c, &err)) {
		snprintf(r->note, sizeof(r->note), "%.200s", err.msg);
		return 1;
	}
	int64_t *perm = malloc(tr.N * sizeof(int64_t));
	int32_t *tok = malloc(batch * DS_SEQ_LEN * sizeof(int32_t));
	int32_t *lab = malloc(batch * sizeof(int32_t));
	torch_randperm(perm, (int64_t)tr.N, 0);
	double t0 = 0;
	for (int i = 0; i < steps + 5; i++) {
		if (i == 5)
			t0 = hus_now();
		size_t off = ((size_t)i * batch) % (tr.N - batch);
		for (size_t b = 0; b < batch; b++) {
			memcpy(tok + b * DS_SEQ_LEN, tr.tokens + perm[off + b] * DS_SEQ_LEN,
			       DS_SEQ_LEN * sizeof(int32_t));
			lab[b] = tr.labels[perm[off + b]];
		}
		double loss;
		int64_t ok;
		tf_train_step(&tr, tok, lab, batch, &loss, &ok);
	}
	double dt = hus_now() - t0;
	r->unit = "steps_per_s";
	r->value = steps / dt;
	r->peak_rss_mb = bench_peak_rss_mb();
	snprintf(r->note, sizeof(r->note),
	         "batch %zu, answer at index 4, %d steps in %.3f s, omp threads %d", batch, steps,
	         dt, omp_get_max_threads());
	free(perm);
	free(tok);
	free(lab);
	tf_trainer_release(&tr);
	return 0;
}

static int case_transformer(struct bench_result *r, size_t batch, int steps)
{
	const char *env = getenv("HUSAI_BENCH_STEPS");
	if (env && atoi(env) > 0)
		steps = atoi(env);
	const char *th = getenv("HUSAI_BENCH_THREADS");
	char list[64];
	snprintf(list, sizeof(list), "%s", th && *th ? th : "1,2");
	int rc = 1;
	struct bench_result best = { 0 };
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		struct bench_result one = { 0 };
		if (atoi(tok) < 1 || one_run(&one, batch, steps, atoi(tok)))
			continue;
		if (rc || one.value > best.value)
			best = one;
		rc = 0;
	}
	if (!rc)
		*r = best;
	return rc;
}

int bench_transformer_b512(struct bench_result *r)
{
	return case_transformer(r, 512, 60);
}

int bench_transformer_b2048(struct bench_result *r)
{
	return case_transformer(r, 2048, 20);
}

