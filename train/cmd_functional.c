/*
 * cmd_functional.c — `husai functional`: parses the command line into a struct
 * functional_request and calls functional_run (functional_run.c): the substitution test and
 * ablation fingerprints of a group's matched SAE features (docs/formulas.md §11), into
 * OUT/functional.json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "train.h"

static const char *const functional_usage[] = {
	"usage: husai functional --transformer <model.h5> --activations <set.h5>",
	"                        --matching <analysis.h5> --group <name>=<sae.h5>,<sae.h5>[,...]",
	"                        --out <dir> [--seed <n>]",
	"",
	"Tests whether features that two seeds' SAEs share (as matched by `husai analyze`) act alike",
	"in the transformer, on its held-out examples.  For each pair of SAEs and each latent of the",
	"first that is active: put the first SAE's reconstruction in place of the hook, swap that",
	"latent's contribution for its matched latent in the second SAE (computed by the second",
	"SAE), and measure the change in the model's loss and accuracy; the same with a random",
	"latent of the second SAE that is not the match, as a control.  Also compares what zeroing",
	"each latent does to the answer logits (its fingerprint) between matched latents.",
	"",
	"    --transformer  the transformer checkpoint the activations were extracted from",
	"    --activations  the activation set the SAEs were trained on (last layer, resid_post,",
	"                   answer position)",
	"    --matching     the analysis.h5 `husai analyze` wrote for this group (matchings on)",
	"    --group        the group's name there, and its SAE checkpoints in the same order",
	"    --out          directory for functional.json",
	"    --seed         seed of the random control (default 0); the same seed gives the same bytes",
	"Definitions: docs/formulas.md section 11.",
	NULL,
};

#define MAX_GROUP_SAES 256

/* --group "name=a,b,c": the name and 2 to MAX_GROUP_SAES paths (pointers into buf, modified). */
static int parse_group(char *buf, const char **name, const char **paths, size_t *n)
{
	char *eq = strchr(buf, '=');
	if (!eq || eq == buf || !eq[1])
		return -1;
	*eq = 0;
	*name = buf;
	*n = 0;
	for (char *s = eq + 1, *tok; (tok = strsep(&s, ","));) {
		if (!*tok || *n == MAX_GROUP_SAES)
			return -1;
		paths[(*n)++] = tok;
	}
	return *n >= 2 ? 0 : -1;
}

int cmd_functional(int argc, char **argv)
{
	struct functional_request q = { 0 };
	const char *group = NULL;
	const struct hus_opt opts[] = {
		HUS_OPT_STR("transformer", 0, &q.transformer),
		HUS_OPT_STR("activations", 0, &q.activations),
		HUS_OPT_STR("matching", 0, &q.matching),
		HUS_OPT_STR("group", 0, &group),
		HUS_OPT_STR("out", 0, &q.out),
		HUS_OPT_I64("seed", 0, &q.seed, 0, INT64_MAX),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "functional", functional_usage, opts, 0, 0 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if (!q.transformer || !q.activations || !q.matching || !group || !q.out)
		return hus_cli_misuse(&cli, "--transformer, --activations, --matching, --group and "
		                      "--out are required");
	char *gbuf = strdup(group);
	const char *paths[MAX_GROUP_SAES];
	if (!gbuf || parse_group(gbuf, &q.group, paths, &q.n_saes)) {
		free(gbuf);
		return hus_cli_misuse(&cli, "--group expects <name>=<sae.h5>,<sae.h5>[,...] (2 to %d "
		                      "checkpoints)", MAX_GROUP_SAES);
	}
	q.saes = paths;
	struct hus_err err = { 0 };
	int rc = functional_run(&q, &err);
	if (rc)
		hus_err_print(&err);
	free(gbuf);
	return hus_err_status(rc);
}
