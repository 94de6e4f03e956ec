/*
 * cmd_train_transformer.c — `husai train-transformer`: train the modular-addition
 * transformer from a config (keys `data:` and `transformer:`), writing HDF5 checkpoints
 * (periodic, best, final) to the output directory, or resume from a checkpoint to the bit.
 * SIGINT/SIGTERM finish the current step, write transformer_interrupt.h5 and exit 3.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "train.h"

static const char *const train_transformer_usage[] = {
	"usage: husai train-transformer [--out <dir>] [--set <key>=<value>]... <config.yaml>",
	"   or: husai train-transformer --resume <checkpoint.h5> [--out <dir>] [--set <key>=<value>]...",
	"",
	"    --out <dir>          where checkpoints go (default: transformer.out_dir, or",
	"                         artifacts/transformer; on resume, the checkpoint's directory)",
	"    --set <key>=<value>  override a config value (e.g. transformer.epochs=200)",
	"    --resume <ckpt>      continue a run from any of its checkpoints; the model and",
	"                         every setting come from the checkpoint (only epochs may change)",
	"    --max-steps <n>      stop as if interrupted after n steps (for tests)",
	"",
	"Writes transformer_best.h5, transformer_final.h5 and, every checkpoint_every epochs,",
	"transformer_epoch_<N>.h5.  On SIGINT/SIGTERM the current step finishes, the state goes",
	"to transformer_interrupt.h5, and the exit status is 3.",
	NULL,
};

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int same_model(const struct tf_config *a, const struct tf_config *b)
{
	struct tf_config x = *a, y = *b;
	x.epochs = y.epochs = 0;
	x.checkpoint_every = y.checkpoint_every = 0;
	return !memcmp(&x, &y, sizeof(x));
}

int cmd_train_transformer(int argc, char **argv)
{
	const char *out_dir = NULL, *resume = NULL;
	struct hus_sets sets = { 0 };
	int64_t max_steps = 0;
	const struct hus_opt opts[] = {
		HUS_OPT_STR("out", 'o', &out_dir),
		HUS_OPT_SET("set", 's', &sets),
		HUS_OPT_STR("resume", 'r', &resume),
		HUS_OPT_I64("max-steps", 'm', &max_steps, 1, INT64_MAX),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "train-transformer", train_transformer_usage, opts, 0, 1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if ((resume && first != argc) || (!resume && first != argc - 1))
		return hus_cli_misuse(&cli, resume ? "--resume takes no <config.yaml>"
		                                   : "expected one <config.yaml>");

	struct hus_err err = { 0 };
	struct cfg *cf = NULL;
	struct tf_config cfg, ck_cfg;
	struct tf_trainer tr;
	char *yaml = NULL, *resolved = NULL, hash[65];
	char dirbuf[4096];
	int rc, trainer_ok = 0;
	memset(&tr, 0, sizeof(tr));
	if (resume) {
		if ((rc = tf_ckpt_config(resume, &ck_cfg, &yaml, &err)) ||
		    (rc = cfg_load_string(&cf, yaml, resume, &err)))
			goto cleanup;
	} else if ((rc = cfg_load(&cf, argv[first], &err))) {
		goto cleanup;
	}
	if ((rc = hus_sets_apply(&sets, cf, &err)))
		goto cleanup;
	if ((rc = tf_config_read(cf, &cfg, &err)))
		goto cleanup;
	const char *cfg_out = NULL;
	if ((rc = cfg_path(cf, "transformer.out_dir", "artifacts/transformer", &cfg_out, &err)))
		goto cleanup;
	if (!resume && (rc = cfg_finish(cf, &err)))
		goto cleanup;
	if (resume && !same_model(&cfg, &ck_cfg)) {
		rc = hus_errf(&err, HUS_EINPUT, resume, NULL,
		              "a resumed run keeps its model, data and optimizer settings; only "
		              "transformer.epochs and transformer.checkpoint_every may change");
		goto cleanup;
	}
	if (!out_dir && resume) {
		snprintf(dirbuf, sizeof(dirbuf), "%s", resume);
		char *slash = strrchr(dirbuf, '/');
		if (slash)
			*slash = '\0';
		else
			snprintf(dirbuf, sizeof(dirbuf), ".");
		out_dir = dirbuf;
	}
	if (!out_dir)
		out_dir = cfg_out;
	resolved = cfg_resolved_yaml(cf);
	cfg_hash(cf, hash);
	struct hus_provenance prov = { resolved ? resolved : "", hash };
	if ((rc = tf_trainer_init(&tr, &cfg, &err)))
		goto cleanup;
	trainer_ok = 1;
	if (resume && (rc = tf_ckpt_restore(&tr, resume, &err)))
		goto cleanup;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct tf_run_opts o = { out_dir, &prov, (volatile int *)&stop_flag, max_steps,
	                         getenv("HUSAI_QUIET") ? NULL : stderr };
	if (!getenv("HUSAI_QUIET"))
		fprintf(stderr, "training %zu parameters, answer at index %d (%s), %zu train / %zu val\n",
		        tr.lay.n_params, cfg.answer_index, tf_answer_name(cfg.answer_index),
		        tr.n_train, tr.n_val);
	if (cfg.answer_index == 5)
		fprintf(stderr, "note: answer_position upstream (index 5) feeds the answer as input, so "
		        "the model only copies it; for parity with upstream only (spec 8.1)\n");
	rc = tf_train_run(&tr, &o, &err);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (!rc) {
		size_t e = (size_t)tr.epoch;
		printf("%s/transformer_final.h5: epoch %lld, step %lld", out_dir, (long long)tr.epoch,
		       (long long)tr.step);
		if (e)
			printf(", train acc %.4f, val acc %.4f", tr.train_acc[e - 1], tr.val_acc[e - 1]);
		if (tr.grokked_epoch >= 0)
			printf(", grokked at epoch %lld", (long long)tr.grokked_epoch);
		printf("\n");
	}
cleanup:
	if (rc)
		hus_err_print(&err);
	if (trainer_ok)
		tf_trainer_release(&tr);
	if (cf)
		cfg_free(cf);
	free(yaml);
	free(resolved);
	return hus_err_status(rc);
}
