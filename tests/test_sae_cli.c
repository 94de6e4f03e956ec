/*
 * test_sae_cli.c — `husai train-sae` end to end on small synthetic activation sets: the
 * checkpoint schema (docs/decisions.md §10: W_dec [d_model, d_sae], step-0 control R2, periodic and final
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
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "builtin.h"
#include "train.h"

enum { N = 700, D = 16 };
static char tmp[512];

static void write_acts(const char *path, int nan_row)
{
	struct hus_err err;
	float *x = malloc(N * D * sizeof(float));
	static int32_t e[N], a[N], b[N], c[N], pos[N];
	struct mt19937 g;
	mt_seed(&g, 77);
	for (size_t i = 0; i < (size_t)N * D; i++)
		x[i] = (float)(mt_next32(&g) / 4294967296.0 - 0.5) * (1.0f + (float)(i % D));
	if (nan_row >= 0)
		x[nan_row * D + 2] = NAN;
	for (int i = 0; i < N; i++) { /* rows are examples of modular addition, p = 113 */
		e[i] = i, a[i] = i / 113, b[i] = i % 113, c[i] = (a[i] + b[i]) % 113, pos[i] = 4;
	}
	struct acts_set s = { .N = N, .d = D, .x = x, .example_index = e, .a = a, .b = b, .c = c,
			      .pos = pos, .hook = "resid_post", .layer = 1, .position = "equals",
			      .answer_position = "equals", .modulus = 113, .split_seed = 0,
			      .split_fraction = 1.0, .transformer_sha256 = "synthetic" };
	assert_int_equal(acts_write(path, &s, NULL, &err), 0);
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
	assert_true((x.final_counts == NULL) == (y.final_counts == NULL));
	if (x.final_counts)
		assert_memory_equal(x.final_counts, y.final_counts, m * sizeof(int64_t));
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
	/* per-latent firing counts over X: they sum to N * l0 and give the dead count */
	assert_non_null(c.final_counts);
	int64_t fsum = 0, dead = 0;
	for (int j = 0; j < 64; j++) {
		fsum += c.final_counts[j];
		dead += c.final_counts[j] < 10;
	}
	assert_int_equal(fsum, (int64_t)llround(c.final[1] * N));
	assert_int_equal(dead, (int64_t)c.final[5]);
	sae_ckpt_release(&c);
	/* orientation: /params/W_dec is [d_model, d_sae] */
	struct h5r *r;
	assert_int_equal(h5r_open(&r, p, HUS_FORMAT_SAE, 1, &err), 0);
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
	assert_string_equal(err.where, "/activations[5]");
	assert_non_null(strstr(err.msg, "row 5, column 2"));
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

/* the §6.5 penalty through the CLI: against seed 42's final decoder as reference, seed 123
 * trained with lambda 2 ends closer to it (1 - P larger) than with lambda 0 */
static double align_to(const char *ckpt, const char *ref)
{
	struct sae_ckpt a, r;
	struct hus_err err;
	assert_int_equal(sae_ckpt_read(ckpt, &a, &err), 0);
	assert_int_equal(sae_ckpt_read(ref, &r, &err), 0);
	size_t d = a.d_model, m = a.d_sae;
	float *rt = r.params + m * d + m, *at = a.params + m * d + m; /* W_decT blocks */
	sae_renorm_decoder(rt, r.d_sae, d);
	double p = sae_align_penalty(NULL, at, rt, m, r.d_sae, d, 0.0);
	sae_ckpt_release(&a);
	sae_ckpt_release(&r);
	return 1.0 - p;
}

static void test_alignment_condition(void **state)
{
	(void)state;
	char cfg[600], acts[600], out[600], ref[700], setref[800], a0[800], a1[800];
	snprintf(cfg, sizeof(cfg), "%s/c.yaml", tmp);
	snprintf(acts, sizeof(acts), "%s/acts.h5", tmp);
	snprintf(out, sizeof(out), "%s/align", tmp);
	snprintf(ref, sizeof(ref), "%s/full/sae_seed42.h5", tmp);
	snprintf(setref, sizeof(setref), "sae.alignment.reference=%s", ref);
	char *argv[] = { "train-sae", "--config", cfg, "--activations", acts, "--out", out,
			 "--seeds", "123", "--set", setref,
			 "--set", "sae.conditions.lam0.alignment.lambda=0",
			 "--set", "sae.conditions.lam2.alignment.lambda=2", NULL };
	assert_int_equal(cmd_train_sae(15, argv), 0);
	snprintf(a0, sizeof(a0), "%s/lam0/sae_seed123.h5", out);
	snprintf(a1, sizeof(a1), "%s/lam2/sae_seed123.h5", out);
	double s0 = align_to(a0, ref), s1 = align_to(a1, ref);
	printf("alignment to the reference: lambda 0 -> %.4f, lambda 2 -> %.4f\n", s0, s1);
	assert_true(s1 > s0 + 0.01);
	/* lambda > 0 without a reference is a named error */
	char *argv2[] = { "train-sae", "--config", cfg, "--activations", acts, "--out", out,
			  "--set", "sae.alignment.lambda=1", NULL };
	assert_int_equal(cmd_train_sae(9, argv2), 1);
}

/* a real SIGINT: the step finishes, every run is checkpointed, status 3, and --resume works */
static void test_sigint(void **state)
{
	(void)state;
	char out[600];
	snprintf(out, sizeof(out), "%s/sig", tmp);
	char cfg[600], acts[600];
	snprintf(cfg, sizeof(cfg), "%s/c.yaml", tmp);
	snprintf(acts, sizeof(acts), "%s/acts.h5", tmp);
	fflush(stdout);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* exec at once: a forked OpenMP process may not start parallel regions */
		execl(HUSAI_BIN, HUSAI_BIN, "train-sae", "--config", cfg, "--activations", acts,
		      "--out", out, "--seeds", "42,123", "--set", "sae.epochs=100000", (char *)NULL);
		_exit(127);
	}
	/* wait until training is under way (the step-0 files exist), then interrupt */
	char p0[700];
	snprintf(p0, sizeof(p0), "%s/sae_seed123_step0.h5", out);
	struct stat st;
	for (int i = 0; i < 2000 && stat(p0, &st) != 0; i++)
		usleep(5000);
	usleep(200000);
	kill(pid, SIGINT);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	/* the interrupt checkpoint is the newest file of each seed, and it loads */
	assert_true(count_files(out) >= 4);
}

int main(void)
{
	hus_libs_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_train_and_schema),
		cmocka_unit_test(test_resume_to_the_bit),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_alignment_condition),
		cmocka_unit_test(test_sigint),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
