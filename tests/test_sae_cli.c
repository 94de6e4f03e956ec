/*
 * test_sae_cli.c — `husai train-sae` end to end on small synthetic activation sets: the
 * checkpoint schema (DESIGN §10: W_dec [d_model, d_sae], step-0 control R2, periodic and final
 * files, metrics history), an interrupted-and-resumed run equal to the uninterrupted one in
 * every dataset, and bad input (not an activation set, a NaN row, d_sae = 0, k > d_sae, a
 * resume under another config): named errors, non-zero status, nothing partial written.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "builtin.h"
#include "train.h"

enum { N = 700, D = 16 };
static char tmp[512];

static void write_acts(const char *path, int nan_row)
{
	struct h5w *w;
	struct hus_err err;
	float *x = malloc(N * D * sizeof(float));
	int32_t idx[N];
	struct mt19937 g;
	mt_seed(&g, 77);
	for (size_t i = 0; i < (size_t)N * D; i++)
		x[i] = (float)(mt_next32(&g) / 4294967296.0 - 0.5) * (1.0f + (float)(i % D));
	if (nan_row >= 0)
		x[nan_row * D + 2] = NAN;
	for (int i = 0; i < N; i++)
		idx[i] = i;
	size_t dx[2] = { N, D }, dn[1] = { N };
	assert_int_equal(h5w_open(&w, path, "husai.activation_set", 1, NULL, &err), 0);
	assert_int_equal(h5w_f32(w, "/activations", x, 2, dx, &err), 0);
	assert_int_equal(h5w_i32(w, "/example_index", idx, 1, dn, &err), 0);
	assert_int_equal(h5w_i32(w, "/a", idx, 1, dn, &err), 0);
	assert_int_equal(h5w_i32(w, "/b", idx, 1, dn, &err), 0);
	assert_int_equal(h5w_i32(w, "/c", idx, 1, dn, &err), 0);
	assert_int_equal(h5w_commit(w, &err), 0);
	free(x);
}

static const char *cfg_text =
	"sae:\n"
	"  architecture: topk\n"
	"  d_sae: 64\n"
	"  k: 4\n"
	"  k_aux: 8\n"
	"  dead_tokens: 300\n"
	"  lr: 1.0e-2\n"
	"  batch_size: 128\n"
	"  epochs: 3\n"
	"  checkpoint_every: 5\n"
	"  shuffle_seed: 3\n";

static int run(const char *out, const char *extra1, const char *extra2, const char *extra3)
{
	char cfg[600], acts[600];
	snprintf(cfg, sizeof(cfg), "%s/c.yaml", tmp);
	snprintf(acts, sizeof(acts), "%s/acts.h5", tmp);
	char *argv[16] = { "train-sae", "--config", cfg, "--activations", acts, "--out",
			   (char *)out, "--seeds", "42,123" };
	int argc = 9;
	if (extra1)
		argv[argc++] = (char *)extra1;
	if (extra2)
		argv[argc++] = (char *)extra2;
	if (extra3)
		argv[argc++] = (char *)extra3;
	argv[argc] = NULL;
	return cmd_train_sae(argc, argv);
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static int group_setup(void **state)
{
	(void)state;
	const char *t = getenv("TEST_TMP");
	snprintf(tmp, sizeof(tmp), "%s/sae_cli_%d", t ? t : "/tmp", (int)getpid());
	struct hus_err err;
	if (hus_mkdirs(tmp, &err))
		return -1;
	char p[600];
	snprintf(p, sizeof(p), "%s/c.yaml", tmp);
	if (hus_write_file(p, cfg_text, strlen(cfg_text), &err))
		return -1;
	snprintf(p, sizeof(p), "%s/acts.h5", tmp);
	write_acts(p, -1);
	return 0;
}

static void same_ckpt(const char *a, const char *b)
{
	struct sae_ckpt x, y;
	struct hus_err err;
	assert_int_equal(sae_ckpt_read(a, &x, &err), 0);
	assert_int_equal(sae_ckpt_read(b, &y, &err), 0);
	size_t n = sae_ckpt_nparams(x.d_model, x.d_sae), m = x.d_sae;
	assert_int_equal(x.step, y.step);
	assert_memory_equal(x.params, y.params, n * sizeof(float));
	assert_memory_equal(x.exp_avg, y.exp_avg, n * sizeof(float));
	assert_memory_equal(x.exp_avg_sq, y.exp_avg_sq, n * sizeof(float));
	assert_memory_equal(x.feature_counts, y.feature_counts, m * sizeof(double));
	assert_memory_equal(x.since_fired, y.since_fired, m * sizeof(int64_t));
	assert_memory_equal(x.order_mt, y.order_mt, sizeof(x.order_mt));
	assert_memory_equal(x.perm, y.perm, x.N * sizeof(int64_t));
	assert_int_equal(x.n_hist, y.n_hist);
	for (int q = 0; q < SAE_CKPT_NHIST; q++)
		assert_memory_equal(x.hist[q], y.hist[q], x.n_hist * sizeof(double));
	assert_memory_equal(x.final, y.final, sizeof(x.final));
	assert_string_equal(x.config_hash, y.config_hash);
	sae_ckpt_release(&x);
	sae_ckpt_release(&y);
}

static void test_train_and_schema(void **state)
{
	(void)state;
	char out[600], p[700];
	snprintf(out, sizeof(out), "%s/full", tmp);
	assert_int_equal(run(out, NULL, NULL, NULL), 0);
	/* step 0 (R2), periodic 5, 10, 15, final (18 = 3 epochs x 6 steps), for 2 seeds */
	assert_int_equal(count_files(out), 2 * 5);
	struct sae_ckpt c;
	struct hus_err err;
	snprintf(p, sizeof(p), "%s/sae_seed42_step0.h5", out);
	assert_int_equal(sae_ckpt_read(p, &c, &err), 0);
	assert_string_equal(c.control, "R2 step 0");
	assert_string_equal(c.kind, "step0");
	assert_int_equal(c.step, 0);
	sae_ckpt_release(&c);
	snprintf(p, sizeof(p), "%s/sae_seed42.h5", out);
	assert_int_equal(sae_ckpt_read(p, &c, &err), 0);
	assert_int_equal(c.step, 18);
	assert_int_equal(c.n_hist, 3);
	assert_int_equal(c.k, 4);
	assert_string_equal(c.architecture, "topk");
	assert_string_equal(c.control, "none");
	assert_true(c.have_final);
	/* explained_variance improves over the 3 epochs and ends positive */
	printf("explained_variance per epoch %.4f %.4f %.4f\n", c.hist[4][0], c.hist[4][1], c.hist[4][2]);
	assert_true(c.hist[4][2] > c.hist[4][0]);
	assert_true(c.final[3] > 0.0 && c.final[3] < 1.0);
	assert_true(fabs(c.final[1] - 4.0) < 1e-9 || c.final[1] < 4.0); /* l0 <= k */
	assert_int_equal((int)c.hist[7][2], 18);                        /* step column */
	sae_ckpt_release(&c);
	/* orientation: /params/W_dec is [d_model, d_sae] */
	struct h5r *r;
	assert_int_equal(h5r_open(&r, p, "husai.sae_checkpoint", 1, &err), 0);
	enum h5_type t;
	int rank;
	size_t dims[H5_MAX_RANK];
	assert_int_equal(h5r_shape(r, "/params/W_dec", &t, &rank, dims, &err), 0);
	assert_int_equal(rank, 2);
	assert_int_equal(dims[0], D);
	assert_int_equal(dims[1], 64);
	assert_int_equal(h5r_shape(r, "/params/W_enc", &t, &rank, dims, &err), 0);
	assert_int_equal(dims[0], 64);
	assert_int_equal(dims[1], D);
	assert_true(h5r_has(r, "/params/b_dec"));
	h5r_close(r);
}

static void test_resume_to_the_bit(void **state)
{
	(void)state;
	char full[600], part[600], a[700], b[700];
	snprintf(full, sizeof(full), "%s/full", tmp);
	snprintf(part, sizeof(part), "%s/part", tmp);
	/* interrupted after 7 steps (mid-epoch, between periodic checkpoints) */
	assert_int_equal(run(part, "--stop-after", "7", NULL), 3);
	snprintf(a, sizeof(a), "%s/sae_seed42_step7.h5", part);
	struct stat st;
	assert_int_equal(stat(a, &st), 0);
	snprintf(a, sizeof(a), "%s/sae_seed42.h5", part);
	assert_int_not_equal(stat(a, &st), 0); /* no final yet */
	assert_int_equal(run(part, "--resume", NULL, NULL), 0);
	const char *names[] = { "sae_seed42.h5", "sae_seed123.h5", "sae_seed42_step10.h5",
				"sae_seed123_step15.h5" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(a, sizeof(a), "%s/%s", full, names[i]);
		snprintf(b, sizeof(b), "%s/%s", part, names[i]);
		same_ckpt(a, b);
	}
	/* resuming under another config is refused, and writes nothing */
	int before = count_files(part);
	assert_int_equal(run(part, "--resume", "--set", "sae.lr=0.002"), 1);
	assert_int_equal(count_files(part), before);
}

static void test_bad_input(void **state)
{
	(void)state;
	char out[600], p[700];
	struct hus_err err;
	/* not an activation set: the config file */
	snprintf(out, sizeof(out), "%s/bad1", tmp);
	char cfg[600], acts[600];
	snprintf(cfg, sizeof(cfg), "%s/c.yaml", tmp);
	char *argv1[] = { "train-sae", "--config", cfg, "--activations", cfg, "--out", out, NULL };
	assert_int_equal(cmd_train_sae(7, argv1), 1);
	assert_int_equal(count_files(out), 0);
	/* a NaN row: refused, naming the row */
	snprintf(acts, sizeof(acts), "%s/nan.h5", tmp);
	write_acts(acts, 5);
	float *X = NULL;
	size_t n, d;
	char sha[65];
	assert_int_equal(sae_acts_load(acts, &X, &n, &d, sha, &err), HUS_EINPUT);
	assert_string_equal(err.where, "/activations[5, 2]");
	assert_non_null(strstr(err.msg, "row 5"));
	char *argv2[] = { "train-sae", "--config", cfg, "--activations", acts, "--out", out, NULL };
	assert_int_equal(cmd_train_sae(7, argv2), 1);
	assert_int_equal(count_files(out), 0);
	/* d_sae = 0 */
	assert_int_equal(run(out, "--set", "sae.d_sae=0", NULL), 1);
	assert_int_equal(count_files(out), 0);
	/* usage errors: status 2 */
	char *argv3[] = { "train-sae", "--config", cfg, NULL };
	assert_int_equal(cmd_train_sae(3, argv3), 2);
	/* k > d_sae: clamped with a warning, as upstream */
	snprintf(out, sizeof(out), "%s/clamp", tmp);
	assert_int_equal(run(out, "--set", "sae.k=100", NULL), 0);
	struct sae_ckpt c;
	snprintf(p, sizeof(p), "%s/sae_seed42.h5", out);
	assert_int_equal(sae_ckpt_read(p, &c, &err), 0);
	assert_int_equal(c.k, 64);
	sae_ckpt_release(&c);
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_train_and_schema),
		cmocka_unit_test(test_resume_to_the_bit),
		cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
