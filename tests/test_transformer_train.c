/*
 * test_transformer_train.c — training, checkpoints and resume (docs/formulas.md §2.4-2.5, docs/decisions.md §4, §6):
 * a short real run at p = 23 (answer at `equals`) learns the train set (> 99 %); a run
 * interrupted mid-epoch and resumed from its checkpoint ends with a final checkpoint whose
 * every dataset is byte-identical to an uninterrupted run's; 1 and 2 threads give identical
 * checkpoints; a stop request writes a checkpoint and says how to resume; bad configs and
 * checkpoints of another format are named errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <omp.h>

#include "train.h"

static char tmpdir[64];

/* Most tests run on one thread: on a shared 2-core machine a busy neighbour stalls every
 * OpenMP barrier, and results never depend on the thread count (test_threads_* prove it
 * with 2 threads). */
static int setup(void **state)
{
	(void)state;
	omp_set_num_threads(1);
	hus_libs_init();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/husai_tftrain_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void small_config(struct tf_config *c)
{
	tf_config_default(c);
	c->p = 11;
	c->d_model = 16;
	c->n_heads = 2;
	c->d_mlp = 32;
	c->batch_size = 16; /* 108 train examples: 7 steps, the last one short */
	c->epochs = 6;
	c->checkpoint_every = 2;
	c->init_seed = 5;
	c->shuffle_seed = 9;
}

static const struct hus_provenance prov = { "", "" };

static const struct hus_provenance *run_prov = &prov;

static int run(const struct tf_config *c, const char *sub, int64_t max_steps,
               const char *resume, struct hus_err *err)
{
	char dir[256];
	struct tf_trainer tr;
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, sub);
	int rc = tf_trainer_init(&tr, c, err);
	if (rc)
		return rc;
	if (resume && (rc = tf_ckpt_restore(&tr, resume, err))) {
		tf_trainer_release(&tr);
		return rc;
	}
	struct tf_run_opts o = { dir, run_prov, NULL, max_steps, NULL };
	rc = tf_train_run(&tr, &o, err);
	tf_trainer_release(&tr);
	return rc;
}

/* every dataset of two checkpoints, byte for byte */
static void assert_same_checkpoint(const struct tf_config *c, const char *pa, const char *pb)
{
	struct tf_layout lay;
	struct tfck_entry ent[64];
	struct hus_err err;
	static struct tfck A, B;
	tf_layout_init(&lay, c);
	for (size_t i = 0; i < lay.n_tensors; i++) {
		memset(&ent[i], 0, sizeof(ent[i]));
		snprintf(ent[i].name, sizeof(ent[i].name), "%s", lay.t[i].name);
		ent[i].rank = lay.t[i].rank;
		memcpy(ent[i].dims, lay.t[i].dims, sizeof(ent[i].dims));
		ent[i].offset = lay.t[i].offset;
		ent[i].n = lay.t[i].n;
	}
	struct tfck *ck[2] = { &A, &B };
	const char *paths[2] = { pa, pb };
	float *blk[2];
	for (int k = 0; k < 2; k++) {
		memset(ck[k], 0, sizeof(*ck[k]));
		blk[k] = calloc(3 * lay.n_params, sizeof(float));
		ck[k]->t = ent;
		ck[k]->n_tensors = lay.n_tensors;
		ck[k]->n_params = lay.n_params;
		ck[k]->params = blk[k];
		ck[k]->exp_avg = blk[k] + lay.n_params;
		ck[k]->exp_avg_sq = blk[k] + 2 * lay.n_params;
		if (tfck_read(paths[k], ck[k], &err))
			fail_msg("%s: %s: %s", err.file, err.where, err.msg);
	}
	assert_memory_equal(blk[0], blk[1], 3 * lay.n_params * sizeof(float));
	assert_int_equal(A.opt_step, B.opt_step);
	assert_int_equal(A.epoch, B.epoch);
	assert_int_equal(A.step_in_epoch, B.step_in_epoch);
	assert_memory_equal(&A.part_loss_sum, &B.part_loss_sum, sizeof(double));
	assert_int_equal(A.part_correct, B.part_correct);
	assert_int_equal(A.best_epoch, B.best_epoch);
	assert_memory_equal(&A.best_val_acc, &B.best_val_acc, sizeof(double));
	assert_int_equal(A.grokked_epoch, B.grokked_epoch);
	assert_int_equal(A.rng_state_size, B.rng_state_size);
	assert_memory_equal(A.rng_state, B.rng_state, A.rng_state_size);
	assert_int_equal(A.n_epochs, B.n_epochs);
	assert_memory_equal(A.train_loss, B.train_loss, A.n_epochs * sizeof(double));
	assert_memory_equal(A.train_acc, B.train_acc, A.n_epochs * sizeof(double));
	assert_memory_equal(A.val_loss, B.val_loss, A.n_epochs * sizeof(double));
	assert_memory_equal(A.val_acc, B.val_acc, A.n_epochs * sizeof(double));
	tfck_release(&A);
	tfck_release(&B);
	free(blk[0]);
	free(blk[1]);
}

static float *read_params(const struct tf_config *c, const char *path)
{
	struct tf_layout lay;
	struct tfck_entry ent[64];
	struct hus_err err;
	static struct tfck ck;
	tf_layout_init(&lay, c);
	for (size_t i = 0; i < lay.n_tensors; i++) {
		memset(&ent[i], 0, sizeof(ent[i]));
		snprintf(ent[i].name, sizeof(ent[i].name), "%s", lay.t[i].name);
		ent[i].rank = lay.t[i].rank;
		memcpy(ent[i].dims, lay.t[i].dims, sizeof(ent[i].dims));
		ent[i].offset = lay.t[i].offset;
		ent[i].n = lay.t[i].n;
	}
	float *blk = calloc(3 * lay.n_params, sizeof(float));
	memset(&ck, 0, sizeof(ck));
	ck.t = ent;
	ck.n_tensors = lay.n_tensors;
	ck.n_params = lay.n_params;
	ck.params = blk;
	ck.exp_avg = blk + lay.n_params;
	ck.exp_avg_sq = blk + 2 * lay.n_params;
	if (tfck_read(path, &ck, &err))
		fail_msg("%s: %s: %s", err.file, err.where, err.msg);
	tfck_release(&ck);
	return blk;
}

static void test_learns_p23(void **state)
{
	(void)state;
	struct tf_config c;
	struct tf_trainer tr;
	struct hus_err err;
	char dir[256];
	tf_config_default(&c);
	c.p = 23;
	c.d_model = 64;
	c.d_mlp = 256;
	c.batch_size = 64;
	c.lr = 3e-3;
	c.epochs = 40;
	snprintf(dir, sizeof(dir), "%s/learn", tmpdir);
	assert_int_equal(tf_trainer_init(&tr, &c, &err), 0);
	assert_int_equal(c.answer_index, 4);
	struct tf_run_opts o = { dir, &prov, NULL, 0, NULL };
	assert_int_equal(tf_train_run(&tr, &o, &err), 0);
	/* reached: some epoch's train accuracy (measured during the epoch) passed 0.99 */
	double first = tr.train_acc[0], best = 0;
	for (int64_t e = 0; e < c.epochs; e++)
		best = tr.train_acc[e] > best ? tr.train_acc[e] : best;
	if (!(best > 0.99))
		print_error("best train accuracy in %lld epochs: %.4f\n", (long long)c.epochs, best);
	assert_true(first < 0.5);
	assert_true(best > 0.99);
	assert_true(tr.train_fit_epoch > 0 && tr.train_fit_epoch <= c.epochs);
	assert_true(tr.train_acc[c.epochs - 1] > 0.95);
	tf_trainer_release(&tr);
}

static void test_resume_bit_exact(void **state)
{
	(void)state;
	struct tf_config c;
	struct hus_err err;
	char a[256], b[256], ck[256];
	small_config(&c);
	assert_int_equal(run(&c, "full", 0, NULL, &err), 0);
	/* 17 steps = epoch 3, step 3 of 7: mid-epoch */
	assert_int_equal(run(&c, "split", 17, NULL, &err), HUS_EINTR);
	assert_non_null(strstr(err.msg, "--resume"));
	snprintf(ck, sizeof(ck), "%s/split/transformer_interrupt.h5", tmpdir);
	/* resumed twice: once more mid-epoch, then to the end */
	assert_int_equal(run(&c, "split", 9, ck, &err), HUS_EINTR);
	assert_int_equal(run(&c, "split", 0, ck, &err), 0);
	const char *files[] = { "transformer_final.h5", "transformer_epoch_4.h5",
		                "transformer_epoch_6.h5", "transformer_best.h5" };
	for (int i = 0; i < 4; i++) {
		snprintf(a, sizeof(a), "%s/full/%s", tmpdir, files[i]);
		snprintf(b, sizeof(b), "%s/split/%s", tmpdir, files[i]);
		assert_same_checkpoint(&c, a, b);
	}
	/* the comparison can fail: a different seed gives different bytes somewhere */
	struct tf_config c2 = c;
	c2.shuffle_seed = 10;
	assert_int_equal(run(&c2, "other", 0, NULL, &err), 0);
	snprintf(a, sizeof(a), "%s/full/transformer_final.h5", tmpdir);
	snprintf(b, sizeof(b), "%s/other/transformer_final.h5", tmpdir);
	float *pa = read_params(&c, a), *pb = read_params(&c, b);
	struct tf_layout lay;
	tf_layout_init(&lay, &c);
	assert_memory_not_equal(pa, pb, lay.n_params * sizeof(float));
	free(pa);
	free(pb);
}

static void test_threads_same_checkpoint(void **state)
{
	(void)state;
	struct tf_config c;
	struct hus_err err;
	char a[256], b[256];
	/* big enough that every threaded loop really splits */
	small_config(&c);
	c.p = 23;
	c.d_model = 128;
	c.d_mlp = 512;
	c.batch_size = 128;
	c.epochs = 1;
	omp_set_num_threads(1);
	assert_int_equal(run(&c, "t1", 0, NULL, &err), 0);
	omp_set_num_threads(2);
	assert_int_equal(run(&c, "t2", 0, NULL, &err), 0);
	omp_set_num_threads(1);
	snprintf(a, sizeof(a), "%s/t1/transformer_final.h5", tmpdir);
	snprintf(b, sizeof(b), "%s/t2/transformer_final.h5", tmpdir);
	assert_same_checkpoint(&c, a, b);
}

static void test_stop_request(void **state)
{
	(void)state;
	struct tf_config c;
	struct tf_trainer tr;
	struct hus_err err;
	char dir[256], path[300];
	volatile int stop = 1;
	small_config(&c);
	snprintf(dir, sizeof(dir), "%s/stop", tmpdir);
	assert_int_equal(tf_trainer_init(&tr, &c, &err), 0);
	struct tf_run_opts o = { dir, &prov, &stop, 0, NULL };
	assert_int_equal(tf_train_run(&tr, &o, &err), HUS_EINTR);
	assert_int_equal(hus_err_status(err.code), 3);
	assert_int_equal(tr.step, 1); /* the current step finished, no more */
	assert_non_null(strstr(err.msg, "transformer_interrupt.h5"));
	snprintf(path, sizeof(path), "%s/transformer_interrupt.h5", dir);
	assert_true(hus_file_exists(path));
	snprintf(path, sizeof(path), "%s/transformer_final.h5", dir);
	assert_false(hus_file_exists(path));
	tf_trainer_release(&tr);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct tf_config c;
	struct hus_err err;
	struct tf_trainer tr;
	small_config(&c);
	c.n_heads = 3; /* 16 % 3 != 0 */
	assert_int_equal(tf_trainer_init(&tr, &c, &err), HUS_EINPUT);
	assert_string_equal(err.where, "transformer.n_heads");
	small_config(&c);
	c.p = 1;
	assert_int_equal(tf_config_check(&c, "x.yaml", &err), HUS_EINPUT);
	assert_string_equal(err.where, "data.p");
	assert_string_equal(err.file, "x.yaml");
	/* from YAML, through the getters */
	struct cfg *cf;
	assert_int_equal(cfg_load_string(&cf, "transformer:\n  d_model: 10\n  n_heads: 4\n", "t.yaml", &err), 0);
	assert_int_equal(tf_config_read(cf, &c, &err), HUS_EINPUT);
	assert_string_equal(err.where, "transformer.n_heads");
	cfg_free(cf);
	assert_int_equal(cfg_load_string(&cf, "transformer:\n  activation: swish\n", "t.yaml", &err), 0);
	assert_int_not_equal(tf_config_read(cf, &c, &err), 0);
	cfg_free(cf);
	assert_int_equal(cfg_load_string(&cf, "data:\n  p: 23\ntransformer:\n  answer_position: upstream\n"
	                                       "  betas: [0.9, 0.999]\n  activation: gelu_new\n", "t.yaml", &err), 0);
	assert_int_equal(tf_config_read(cf, &c, &err), 0);
	assert_int_equal(c.answer_index, 5);
	assert_int_equal(c.p, 23);
	assert_true(c.beta2 == 0.999);
	assert_int_equal(c.act, TF_GELU_NEW);
	cfg_free(cf);
}

static void test_wrong_format(void **state)
{
	(void)state;
	struct hus_err err;
	char path[256];
	struct acts_set s;
	memset(&s, 0, sizeof(s));
	int32_t zero = 0;
	float x = 1.0f;
	s.N = 1;
	s.d = 1;
	s.x = &x;
	s.example_index = s.a = s.b = s.c = s.pos = &zero;
	s.modulus = 5;
	snprintf(path, sizeof(path), "%s/acts.h5", tmpdir);
	assert_int_equal(acts_write(path, &s, &prov, &err), 0);
	struct tf_config c;
	float *params;
	assert_int_equal(tf_ckpt_load_params(path, &c, &params, &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, HUS_FORMAT_TRANSFORMER));
}

/* the CLI's resume path: the config comes back from the checkpoint's resolved YAML, every
 * value exactly, and the resumed run matches the uninterrupted one bit for bit */
static void test_resume_through_yaml(void **state)
{
	(void)state;
	struct cfg *cf;
	struct hus_err err;
	struct tf_config c, back;
	char hash[65], a[256], b[256], ck[256];
	const char *yaml = "data:\n  p: 11\n  train_fraction: 0.7\ntransformer:\n  d_model: 16\n"
	                   "  n_heads: 2\n  d_mlp: 32\n  activation: gelu\n  batch_size: 16\n"
	                   "  epochs: 3\n  lr: 3e-3\n  betas: [0.9, 0.98]\n  weight_decay: 0.1\n"
	                   "  decay_params: weights\n  init_seed: 4\n  shuffle_seed: 8\n";
	assert_int_equal(cfg_load_string(&cf, yaml, "y.yaml", &err), 0);
	assert_int_equal(tf_config_read(cf, &c, &err), 0);
	char *resolved = cfg_resolved_yaml(cf);
	cfg_hash(cf, hash);
	struct hus_provenance yp = { resolved, hash };
	run_prov = &yp;
	assert_int_equal(run(&c, "y_full", 0, NULL, &err), 0);
	assert_int_equal(run(&c, "y_split", 10, NULL, &err), HUS_EINTR);
	snprintf(ck, sizeof(ck), "%s/y_split/transformer_interrupt.h5", tmpdir);
	memset(&back, 0, sizeof(back));
	assert_int_equal(tf_ckpt_config(ck, &back, NULL, &err), 0);
	assert_memory_equal(&back, &c, sizeof(c));
	assert_int_equal(run(&back, "y_split", 0, ck, &err), 0);
	run_prov = &prov;
	snprintf(a, sizeof(a), "%s/y_full/transformer_final.h5", tmpdir);
	snprintf(b, sizeof(b), "%s/y_split/transformer_final.h5", tmpdir);
	assert_same_checkpoint(&c, a, b);
	cfg_free(cf);
	free(resolved);
}

/* a newer format version, and shape attributes that disagree with the datasets */
static void test_bad_checkpoints(void **state)
{
	(void)state;
	struct hus_err err;
	struct h5w *w;
	char path[256];
	struct tf_config c;
	float *params = NULL;
	snprintf(path, sizeof(path), "%s/v2.h5", tmpdir);
	assert_int_equal(h5w_open(&w, path, HUS_FORMAT_TRANSFORMER, 2, &prov, &err), 0);
	assert_int_equal(h5w_commit(w, &err), 0);
	assert_int_equal(tf_ckpt_load_params(path, &c, &params, &err), HUS_EINPUT);
	assert_non_null(strstr(err.msg, "version"));

	/* a real checkpoint whose d_model attribute lies */
	struct tf_trainer tr;
	small_config(&c);
	assert_int_equal(tf_trainer_init(&tr, &c, &err), 0);
	snprintf(path, sizeof(path), "%s/good.h5", tmpdir);
	assert_int_equal(tf_ckpt_save(&tr, path, "final", &prov, &err), 0);
	tf_trainer_release(&tr);
	struct tf_config wide = c;
	wide.d_model = 32;
	float *p = read_params(&c, path); /* the honest layout reads */
	free(p);
	struct tf_layout lay;
	struct tfck_entry ent[64];
	static struct tfck ck;
	tf_layout_init(&lay, &wide);
	for (size_t i = 0; i < lay.n_tensors; i++) {
		memset(&ent[i], 0, sizeof(ent[i]));
		snprintf(ent[i].name, sizeof(ent[i].name), "%s", lay.t[i].name);
		ent[i].rank = lay.t[i].rank;
		memcpy(ent[i].dims, lay.t[i].dims, sizeof(ent[i].dims));
		ent[i].offset = lay.t[i].offset;
		ent[i].n = lay.t[i].n;
	}
	float *blk = calloc(3 * lay.n_params, sizeof(float));
	memset(&ck, 0, sizeof(ck));
	ck.t = ent;
	ck.n_tensors = lay.n_tensors;
	ck.n_params = lay.n_params;
	ck.params = blk;
	ck.exp_avg = blk + lay.n_params;
	ck.exp_avg_sq = blk + 2 * lay.n_params;
	assert_int_equal(tfck_read(path, &ck, &err), HUS_EINPUT);
	assert_string_equal(err.where, "/params/embed.W_E");
	assert_non_null(strstr(err.msg, "expected shape"));
	tfck_release(&ck);
	free(blk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learns_p23),
		cmocka_unit_test(test_resume_bit_exact),
		cmocka_unit_test(test_threads_same_checkpoint),
		cmocka_unit_test(test_stop_request),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_wrong_format),
		cmocka_unit_test(test_bad_checkpoints),
		cmocka_unit_test(test_resume_through_yaml),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
