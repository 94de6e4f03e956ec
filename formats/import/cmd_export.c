/*
 * cmd_export.c — `husai export`: parses the command line into a struct export_request and
 * calls hus_export (export.c), which writes husai SAE checkpoints in SAELens' or sparsify's
 * layout, one folder per SAE, after checking every one of them.
 */
#include <stdio.h>

#include "builtin.h"
#include "formats.h"

static const char *const export_usage[] = {
	"usage: husai export --to (saelens | sparsify) [--hookpoint <name>] [--force]",
	"                    --out <dir> <sae.h5>...",
	"",
	"Write husai SAE checkpoints in another library's layout, one folder per SAE:",
	"  saelens   <dir>/<name>/sae_weights.safetensors + cfg.json",
	"            (SAELens: SAE.load_from_disk(\"<dir>/<name>\"))",
	"  sparsify  <dir>/<name>/<hookpoint>/sae.safetensors + cfg.json, <dir>/<name>/config.json",
	"            (sparsify: Sae.load_from_disk(\"<dir>/<name>/<hookpoint>\")); TopK SAEs only",
	"<name> is the checkpoint's file name without .h5.  The tensors are copied exactly (only",
	"transposed to the library's orientation); cfg.json carries the architecture, k, seed and",
	"the model / hook / dataset recorded at import.  A SAE with no decoder bias gets b_dec = 0.",
	"",
	"    --to <layout>       saelens or sparsify",
	"    --hookpoint <name>  sparsify's folder name for the hookpoint (default: the hook",
	"                        recorded at import when it is a plain name, else 'sae')",
	"    --force             overwrite existing files",
	"    --out <dir>         output directory (created)",
	NULL,
};

/* --hookpoint: one folder name */
static int opt_hookpoint(void *value, const char *arg)
{
	if (!hus_export_plain_name(arg))
		return HUS_EUSAGE;
	*(const char **)value = arg;
	return 0;
}

int cmd_export(int argc, char **argv)
{
	static const char *const layouts[] = { "saelens", "sparsify", NULL };
	struct export_request q = { 0 };
	int to = -1;
	const struct hus_opt opts[] = {
		HUS_OPT_CHOICE("to", 0, &to, layouts),
		HUS_OPT_FN("hookpoint", 0, &q.hookpoint, opt_hookpoint,
		           "a plain folder name (not '.' or '..', no '/')"),
		HUS_OPT_FLAG("force", 0, &q.force),
		HUS_OPT_STR("out", 0, &q.out),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "export", export_usage, opts, 1, -1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if (to < 0 || !q.out)
		return hus_cli_misuse(&cli, "--to and --out are required");
	q.to = layouts[to];
	q.saes = argv + first;
	q.n_saes = (size_t)(argc - first);
	struct hus_err err = { 0 };
	int rc = hus_export(&q, &err);
	if (rc)
		hus_err_print(&err);
	return hus_err_status(rc);
}
