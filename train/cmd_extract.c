/*
 * cmd_extract.c — `husai extract`: parses the command line into a struct extract_request and
 * calls tf_extract_run (extract_run.c), which writes one activation set (hook, layer, position)
 * from a transformer checkpoint.
 */
#include <math.h>
#include <stdio.h>

#include "builtin.h"
#include "train.h"

static const char *const extract_usage[] = {
	"usage: husai extract --out <acts.h5> [--config <job.yaml>] [--layer <n>] [--hook <hook>] [--position <pos>]",
	"                     [--split-seed <n>] [--split-fraction <f>] [--rows (all | train)]",
	"                     [--batch-size <n>] <checkpoint.h5>",
	"",
	"    --layer <n>          block index, 0-based (default: the last layer)",
	"    --hook <hook>        resid_pre | resid_mid | resid_post (default) | attn_out | mlp_out",
	"    --position <pos>     answer (default; index 4 or 5 per the checkpoint's answer_position)",
	"                         | equals | bos | first_operand | all (every position, row = example*7 + pos)",
	"    --split-seed <n>     seed of the row-order permutation (default 42, spec 3)",
	"    --split-fraction <f> split of that permutation (default 0.8, spec 3)",
	"    --rows (all | train) all examples (default, spec 3), or only the train part of the",
	"                         split: the first floor(p^2 * fraction) permuted examples (spec 1.4,",
	"                         train_simple_sae; recorded as the set's `rows` attribute)",
	"    --config <job.yaml>  read the choices above from its `extract:` section (keys layer,",
	"                         hook, position, split_seed, split_fraction, rows, batch_size); options",
	"                         given on the command line win",
	"    --batch-size <n>     accepted as upstream does; values never depend on it (the forward",
	"                         runs on fixed blocks of 64 examples)",
	NULL,
};

int cmd_extract(int argc, char **argv)
{
	static const char *const rows_choices[] = { "all", "train", NULL };
	struct extract_request q = { .layer = -2, .split_seed = -1, .split_fraction = NAN };
	int rows = -1;
	const struct hus_opt opts[] = {
		HUS_OPT_STR("out", 'o', &q.out),
		HUS_OPT_I64("layer", 'l', &q.layer, -1, INT64_MAX),
		HUS_OPT_STR("hook", 'k', &q.hook),
		HUS_OPT_STR("position", 'p', &q.position),
		HUS_OPT_I64("split-seed", 's', &q.split_seed, 0, INT64_MAX),
		HUS_OPT_F64("split-fraction", 'f', &q.split_fraction, -HUGE_VAL, HUGE_VAL),
		HUS_OPT_I64("batch-size", 'b', &q.batch_size, 1, INT64_MAX),
		HUS_OPT_STR("config", 'c', &q.config),
		HUS_OPT_CHOICE("rows", 'r', &rows, rows_choices),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "extract", extract_usage, opts, 1, 1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if (!q.out)
		return hus_cli_misuse(&cli, "--out <acts.h5> is required");
	q.checkpoint = argv[first];
	q.rows = rows >= 0 ? rows_choices[rows] : NULL;
	struct hus_err err = { 0 };
	int rc = tf_extract_run(&q, &err);
	if (rc)
		hus_err_print(&err);
	return hus_err_status(rc);
}
