/*
 * cmd_analyze.c — `husai analyze`: cross-seed stability metrics, random controls and
 * statistics over archived SAE checkpoints grouped by condition.  Parses the command line
 * into a struct analysis_request and calls analysis_run (analysis.c); nothing else.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "builtin.h"

static const char *const analyze_usage[] = {
	"usage: husai analyze (--group <name>=<ckpt.h5>[,<ckpt.h5>...] [--group ...] | --config <file.yaml>)",
	"                 [--out <dir>]",
	"                 [--control (r1 | r2 | both | none)] [--r1-seeds <list>] [--r1-offset <n>]",
	"                 [--r2-from <name>=<step0.h5>[,...]] [--bootstrap <n>]",
	"                 [--seed-trained <n>] [--seed-random <n>] [--seed-r2 <n>] [--seed-level <n>]",
	"                 [--threshold <x>] [--mnn-threshold <x>] [--subspace-k <n>]",
	"                 [--hungarian-max <d_sae>] [--sinkhorn <epsilon>] [--no-matchings]",
	"                 [--activations <acts.h5> [--act-rows <n>]]",
	"                 [--truth <planted.h5> [--truth-rows <n>]] [--stability-threshold <x>]",
	"                 [--pair-cache <dir> [--pair-only <n> [--pair-count <k>]]]",
	"",
	"   Writes <dir>/analysis.h5, results.json, <group>_{trained,r1,r2}_pairwise_pwmcc.csv and",
	"   manifest.json.  Defaults: --control both, R1 seeds = seed + 100000 (--r1-seeds",
	"   1000,1001,1002,1003,1004 reproduces phase 4a), R2 = the step-0 checkpoints given with",
	"   --r2-from, else the TopKSAE init recipe with the trained seeds; bootstrap 10000 with",
	"   seeds 17 (trained), 29 (R1), 31 (R2), 41 (seed-level); Hungarian threshold 0.5 (0.5 and",
	"   0.7 are always reported), MNN threshold 0.3, subspace k 50.  One-to-one (Hungarian)",
	"   matching is exact and dense up to --hungarian-max (d_sae 4096); above it, it is solved on",
	"   each feature's 32 best matches and results.json gives, beside each value, an upper bound",
	"   on the exact optimum (equal to it when the value is proven exact); 0 switches it off.",
	"   --sinkhorn 0.05 also matches the features of each trained pair by optimal transport",
	"   (Sinkhorn, a soft one-to-one matching; smaller epsilon is closer to Hungarian, from 0.01",
	"   to 10): the mean |cos| of each feature's best-transported partner and the transport cost,",
	"   up to d_sae 4096.",
	"   --activations adds activation-level agreement (|Pearson r| of latents, top-k Jaccard) on",
	"   the first --act-rows rows (default 1000) of an activation set.",
	"   --truth scores each SAE against the planted set it was trained on (made by `husai plant`):",
	"   MCC to the true dictionary, best |cos| per true feature, and how well matched latents fire",
	"   with their true features on the first --truth-rows rows (default 4096).",
	"   --stability-threshold x (0 < x <= 1) adds each feature's stability probability: the share",
	"   of the other seeds holding a feature with |cos| >= x; and how the spans of the unstable",
	"   features (probability below 1/2) of different seeds line up (principal angles).",
	"   --pair-cache reads each product of two decoders from <dir>/<group>_<n>.h5 when it is",
	"   there (checked against the two decoders' sha256), else computes it: the outputs are the",
	"   same bytes.  --pair-only n computes only product n of the one group into that file and",
	"   writes nothing else (--out not needed): `husai run`'s pair jobs (analysis.pair_jobs);",
	"   --pair-count k: products n to n+k-1, one file each (default 1).",
	"   --config reads the same settings from the `analysis:` section of a YAML file (keys in",
	"   analyze/analysis_config.c); options on the command line override it.",
	NULL,
};

/* The request as the options build it: --config's spec first, then every other option over
 * it; the group lists point into strings this owns. */
#define MAX_GROUPS 64
struct analyze_args {
	struct analysis_request q;
	struct analysis_spec spec;
	int have_spec, control; /* control: index in control_choices, -1 when not given */
	struct analysis_group groups[MAX_GROUPS];
	size_t n_groups, n_r2;
	char *buf[2 * MAX_GROUPS], **lists[2 * MAX_GROUPS]; /* --group's, then --r2-from's */
	size_t nbuf;
	char *r2name[MAX_GROUPS];
	char **r2list[MAX_GROUPS];
	size_t r2n[MAX_GROUPS];
	int64_t *r1_seeds;
};

/* "name=a,b,c" -> name and a NULL-terminated list, both pointing into one malloc'ed copy
 * that `a` keeps */
static int split_group(struct analyze_args *a, const char *arg, char **name, char ***list,
                       size_t *n)
{
	char *copy = strdup(arg), *eq = copy ? strchr(copy, '=') : NULL;
	if (!eq || eq == copy || !eq[1]) {
		free(copy);
		return HUS_EUSAGE;
	}
	*eq = 0;
	size_t cap = 1, k = 0;
	for (char *c = eq + 1; *c; c++)
		cap += *c == ',';
	char **l = calloc(cap + 1, sizeof(char *));
	for (char *tok = l ? strtok(eq + 1, ",") : NULL; tok; tok = strtok(NULL, ","))
		l[k++] = tok;
	if (!k) {
		free(l), free(copy);
		return HUS_EUSAGE;
	}
	a->buf[a->nbuf] = copy;
	a->lists[a->nbuf++] = l;
	*name = copy, *list = l, *n = k;
	return 0;
}

static int opt_group(void *v, const char *arg)
{
	struct analyze_args *a = v;
	char *name, **list;
	size_t n;
	if (a->n_groups == MAX_GROUPS || split_group(a, arg, &name, &list, &n))
		return HUS_EUSAGE;
	a->groups[a->n_groups++] = (struct analysis_group){ name, (const char *const *)list, n,
	                                                    NULL, 0 };
	return 0;
}

static int opt_r2_from(void *v, const char *arg)
{
	struct analyze_args *a = v;
	if (a->n_r2 == MAX_GROUPS ||
	    split_group(a, arg, &a->r2name[a->n_r2], &a->r2list[a->n_r2], &a->r2n[a->n_r2]))
		return HUS_EUSAGE;
	a->n_r2++;
	return 0;
}

static int opt_r1_seeds(void *v, const char *arg)
{
	struct analyze_args *a = v;
	free(a->r1_seeds);
	a->r1_seeds = NULL;
	int rc = hus_cli_int_list(arg, &a->r1_seeds, &a->q.n_r1_seeds);
	if (!rc && a->q.n_r1_seeds > 256)
		rc = HUS_EUSAGE;
	a->q.r1_seeds = rc ? NULL : a->r1_seeds;
	return rc;
}

/* --config: the analysis: section of a YAML file, which the other options override */
static int opt_config(void *v, const char *arg)
{
	struct analyze_args *a = v;
	struct hus_err err = { 0 };
	if (a->have_spec)
		analysis_spec_release(&a->spec);
	a->have_spec = 0;
	int rc = analysis_spec_load(&a->spec, arg, &err);
	if (rc) {
		hus_err_print(&err);
		return rc == HUS_EUSAGE ? HUS_EINPUT : rc;
	}
	a->have_spec = 1;
	a->q = a->spec.q;
	a->n_groups = 0;
	for (size_t i = 0; i < a->spec.q.n_groups && i < MAX_GROUPS; i++)
		a->groups[a->n_groups++] = a->spec.groups[i];
	return 0;
}

/* One line per group: the numbers results.json holds. */
static void print_results(hj *res, const char *out_dir)
{
	hj *gs = hj_get(res, "groups"), *g;
	const char *name;
	for (size_t i = 0; (name = hj_obj_at(gs, i, &g)); i++) {
		double v[6] = { NAN, NAN, NAN, NAN, NAN, NAN };
		hj_get_f64(g, "trained.mean", &v[0]);
		hj_get_f64(g, "controls.r1.mean", &v[1]);
		hj_get_f64(g, "controls.r2.mean", &v[2]);
		hj_get_f64(g, "controls.analytic_null.expected_pwmcc", &v[3]);
		hj_get_f64(g, "statistical_test.p_value", &v[4]);
		hj_get_f64(g, "seed_level_bootstrap.ci95_low", &v[5]);
		const char *concl = hj_get_str(g, "conclusion");
		/* a control that was not computed says so, never "nan" */
		char r1[64], r2[64];
		snprintf(r1, sizeof(r1), hj_get(g, "controls.r1") ? "%.6f" : "not computed", v[1]);
		if (hj_get(g, "controls.r2.reason"))
			snprintf(r2, sizeof(r2), "unavailable (controls.r2.reason)");
		else
			snprintf(r2, sizeof(r2), hj_get(g, "controls.r2") ? "%.6f" : "not computed", v[2]);
		printf("%s: trained %.6f (seed-level CI low %.6f), R1 %s, R2 %s, null %.6f, "
		       "p %.3g: %s\n", name, v[0], v[5], r1, r2, v[3], v[4],
		       concl ? concl : "no statistics");
	}
	printf("wrote %s\n", out_dir);
}

/* --r2-from names a group: its step-0 checkpoints replace the config's; -1 naming none */
static int attach_r2(struct analyze_args *a, size_t *bad)
{
	for (size_t i = 0; i < a->n_r2; i++) {
		size_t g = 0;
		while (g < a->n_groups && strcmp(a->groups[g].name, a->r2name[i]))
			g++;
		if (g == a->n_groups) {
			*bad = i;
			return -1;
		}
		a->groups[g].r2_paths = (const char *const *)a->r2list[i];
		a->groups[g].n_r2 = a->r2n[i];
	}
	return 0;
}

int cmd_analyze(int argc, char **argv)
{
	static const char *const control_choices[] = { "none", "r1", "r2", "both", NULL };
	struct analyze_args a;
	memset(&a, 0, sizeof(a));
	analysis_request_defaults(&a.q);
	a.control = -1;
	struct analysis_request *q = &a.q;
	const struct hus_opt opts[] = {
		HUS_OPT_EARLY_FN("config", 0, &a, opt_config, "a YAML file with an analysis: section"),
		HUS_OPT_FN("group", 0, &a, opt_group,
		           "<name>=<file>[,<file>...] (at most 64 groups)"),
		HUS_OPT_STR("out", 0, &q->out_dir),
		HUS_OPT_CHOICE("control", 0, &a.control, control_choices),
		HUS_OPT_FN("r1-seeds", 0, &a, opt_r1_seeds,
		           "up to 256 non-negative integers separated by commas"),
		HUS_OPT_I64("r1-offset", 0, &q->r1_offset, 0, INT64_MAX),
		HUS_OPT_FN("r2-from", 0, &a, opt_r2_from,
		           "<name>=<file>[,<file>...] (at most 64 groups)"),
		HUS_OPT_SIZE("bootstrap", 0, &q->bootstrap_B, SIZE_MAX),
		HUS_OPT_U64("seed-trained", 0, &q->seed_trained, UINT64_MAX),
		HUS_OPT_U64("seed-random", 0, &q->seed_random, UINT64_MAX),
		HUS_OPT_U64("seed-r2", 0, &q->seed_r2, UINT64_MAX),
		HUS_OPT_U64("seed-level", 0, &q->seed_level, UINT64_MAX),
		HUS_OPT_F64("threshold", 0, &q->match_thr, 0, 1),
		HUS_OPT_F64("mnn-threshold", 0, &q->mnn_thr, 0, 1),
		HUS_OPT_SIZE("subspace-k", 0, &q->subspace_k, SIZE_MAX),
		HUS_OPT_SIZE("hungarian-max", 0, &q->hungarian_max, SIZE_MAX),
		HUS_OPT_UNFLAG("no-matchings", 0, &q->write_matchings),
		HUS_OPT_STR("activations", 0, &q->activations),
		HUS_OPT_SIZE("act-rows", 0, &q->act_rows, SIZE_MAX),
		HUS_OPT_STR("truth", 0, &q->truth),
		HUS_OPT_SIZE("truth-rows", 0, &q->truth_rows, SIZE_MAX),
		HUS_OPT_F64_ABOVE("stability-threshold", 0, &q->stability_thr, 0, 1),
		HUS_OPT_F64("sinkhorn", 0, &q->sinkhorn_eps, SINKHORN_EPS_MIN, SINKHORN_EPS_MAX),
		HUS_OPT_STR("pair-cache", 0, &q->pair_cache),
		HUS_OPT_I64("pair-only", 0, &q->pair_only, 0, INT64_MAX),
		HUS_OPT_SIZE("pair-count", 0, &q->pair_count, 1 << 20),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "analyze", analyze_usage, opts, 0, 0 };
	int first, status = hus_cli_parse(&cli, argc, argv, &first);
	size_t bad = 0;
	if (status != HUS_CLI_GO_ON)
		goto done;
	if (a.control >= 0)
		q->r1 = a.control & 1, q->r2 = a.control >> 1;
	status = 2;
	if (!a.n_groups || (!q->out_dir && q->pair_only < 0)) {
		hus_cli_misuse(&cli, "groups (--group or --config) and --out are required");
		goto done;
	}
	if (q->pair_only >= 0 && (!q->pair_cache || a.n_groups != 1)) {
		hus_cli_misuse(&cli, "--pair-only needs --pair-cache and exactly one group");
		goto done;
	}
	if (attach_r2(&a, &bad)) {
		hus_cli_misuse(&cli, "--r2-from names group '%s', which no --group gives",
		               a.r2name[bad]);
		goto done;
	}
	q->groups = a.groups;
	q->n_groups = a.n_groups;
	char cmd[2048];
	hus_cli_command_line(cmd, sizeof(cmd), argc, argv);
	q->command = cmd;
	struct hus_err err = { 0 };
	hj *res = NULL;
	int rc = analysis_run(q, &res, &err);
	if (!rc && q->pair_only >= 0) {
		char path[4200];
		analysis_pair_cache_path(path, sizeof(path), q->pair_cache, a.groups[0].name,
		                         (size_t)q->pair_only);
		printf("wrote %s%s\n", path, q->pair_count > 1 ? " and the next ones" : "");
	} else if (!rc)
		print_results(res, q->out_dir);
	hj_free(res);
	if (rc)
		hus_err_print(&err);
	status = rc == HUS_EUSAGE ? 2 : hus_err_status(rc);
	if (rc == HUS_EUSAGE)
		hus_print_lines(stderr, analyze_usage);
done:
	for (size_t i = 0; i < a.nbuf; i++)
		free(a.buf[i]), free(a.lists[i]);
	free(a.r1_seeds);
	if (a.have_spec)
		analysis_spec_release(&a.spec);
	return status;
}
