/*
 * cmd_train_sae.c — `husai train-sae`: parses the command line into a struct
 * train_sae_request and calls sae_train_run (sae_train_run.c), which trains one SAE per
 * (condition, seed) over an activation set in one pass, with step-0, periodic and final
 * checkpoints and exact resume.
 */
#include <stdio.h>

#include "builtin.h"
#include "train.h"

static const char *const train_sae_usage[] = {
	"usage: husai train-sae --config <config.yaml> --activations <acts.h5> --out <dir>",
	"                [--seeds <s1,s2,...>] [--set <key=value>]... [--resume]",
	"",
	"    --config <file>       experiment config; the `sae:` section is read",
	"    --activations <file>  husai.activation_set to train on (sha256 recorded)",
	"    --out <dir>           output directory for the checkpoints",
	"    --seeds <list>        comma-separated seeds (default: sae.seeds, else 42,123,456)",
	"    --set <key=value>     override a config key, e.g. --set sae.k=16",
	"    --resume              continue each run from its newest checkpoint in <dir>",
	"    --memory <size>       keep the activation data within this much memory, e.g. 4G",
	"                          (default: sae.memory, else no limit); a larger set is read",
	"                          from disk as training goes, which needs sae.shuffle: blocks;",
	"                          the models' own memory comes on top.  Changes no result.",
	"    --stop-after <n>      behave as if interrupted after n steps (tests)",
	NULL,
};

int cmd_train_sae(int argc, char **argv)
{
	struct train_sae_request q = { 0 };
	const struct hus_opt opts[] = {
		HUS_OPT_STR("config", 0, &q.config),
		HUS_OPT_STR("activations", 0, &q.activations),
		HUS_OPT_STR("out", 0, &q.out),
		HUS_OPT_STR("seeds", 0, &q.seeds),
		HUS_OPT_SET("set", 0, &q.sets),
		HUS_OPT_FLAG("resume", 0, &q.resume),
		HUS_OPT_I64("stop-after", 0, &q.stop_after, 0, INT64_MAX),
		HUS_OPT_STR("memory", 0, &q.memory),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "train-sae", train_sae_usage, opts, 0, 0 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if (!q.config || !q.activations || !q.out)
		return hus_cli_misuse(&cli, "--config, --activations and --out are required");
	struct hus_err err = { 0 };
	int rc = sae_train_run(&q, &err);
	if (rc)
		hus_err_print(&err);
	return hus_err_status(rc);
}
