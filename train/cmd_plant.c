/*
 * cmd_plant.c — `husai plant`: parses the command line into a struct plant_request and calls
 * plant_run (plant_run.c), which writes a planted-feature activation set (planted.c,
 * docs/formulas.md §10) from the `plant:` section of a YAML file and/or --set overrides.  The
 * set trains SAEs like any other (`husai train-sae --activations`) and carries its true
 * dictionary and codes for `husai analyze --truth`.  A bad setting is a named error, exit 1,
 * and no file is written.
 */
#include <stdio.h>

#include "builtin.h"
#include "train.h"

static const char *const plant_usage[] = {
	"usage: husai plant --out <planted.h5> [<config.yaml>] [--set plant.<key>=<value> ...]",
	"",
	"Draws an activation set from a known dictionary of features (the 'ground truth'), so that",
	"SAEs trained on it can be scored against the features that made the data.  Settings live in",
	"the `plant:` section (every key has a default; docs/formulas.md section 10):",
	"    features (1024), d (128), rows (32768), seed (0)",
	"    dictionary.max_abs_cos (1: plain random directions; lower: no two features closer)",
	"    frequency.law zipf|uniform, frequency.exponent (1), frequency.l0 (16: features per row)",
	"    hierarchy.parents, hierarchy.children (per parent), hierarchy.child_prob (0.5)",
	"    correlation.groups, correlation.size, correlation.rho (0.5)",
	"    magnitude.law lognormal (mu 0, sigma 0.5) | uniform (low, high) | constant (value)",
	"    noise_std (0)",
	"The same settings give the same bytes on every machine.",
	NULL,
};

int cmd_plant(int argc, char **argv)
{
	struct plant_request q = { 0 };
	const struct hus_opt opts[] = {
		HUS_OPT_STR("out", 'o', &q.out),
		HUS_OPT_SET("set", 's', &q.sets),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "plant", plant_usage, opts, 0, 1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if (!q.out)
		return hus_cli_misuse(&cli, "--out is required");
	q.config = first < argc ? argv[first] : NULL;
	struct hus_err err = { 0 };
	struct planted_spec s;
	int rc = plant_run(&q, &s, &err);
	if (rc)
		hus_err_print(&err);
	else
		printf("%s: %lld rows x %lld, %lld planted features\n", q.out, (long long)s.rows,
		       (long long)s.d, (long long)s.n);
	return hus_err_status(rc);
}
