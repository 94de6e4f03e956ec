/*
 * cmd_analyze.c — `husai analyze`: cross-seed stability metrics, random controls and
 * statistics over archived SAE checkpoints grouped by condition.  Parses the command line
 * into a struct analysis_request and calls analysis_run (analysis.c); nothing else.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "builtin.h"

static const char *const analyze_usage[] = {
	"husai analyze (--group <name>=<ckpt.h5>[,<ckpt.h5>...] [--group ...] | --config <file.yaml>)",
	"              [--out <dir>]",
	"              [--control (r1 | r2 | both | none)] [--r1-seeds <list>] [--r1-offset <n>]",
	"              [--r2-from <name>=<step0.h5>[,...]] [--bootstrap <n>]",
	"              [--seed-trained <n>] [--seed-random <n>] [--seed-r2 <n>] [--seed-level <n>]",
	"              [--threshold <x>] [--mnn-threshold <x>] [--subspace-k <n>]",
	"              [--hungarian-max <d_sae>] [--sinkhorn <epsilon>] [--no-matchings]",
	"              [--activations <acts.h5> [--act-rows <n>]]",
	"              [--truth <planted.h5> [--truth-rows <n>]] [--stability-threshold <x>]",
	"",
	"Writes <dir>/analysis.h5, results.json, <group>_{trained,r1,r2}_pairwise_pwmcc.csv and",
	"manifest.json.  Defaults: --control both, R1 seeds = seed + 100000 (--r1-seeds",
	"1000,1001,1002,1003,1004 reproduces phase 4a), R2 = the step-0 checkpoints given with",
	"--r2-from, else the TopKSAE init recipe with the trained seeds; bootstrap 10000 with",
	"seeds 17 (trained), 29 (R1), 31 (R2), 41 (seed-level); Hungarian threshold 0.5 (0.5 and",
	"0.7 are always reported), MNN threshold 0.3, subspace k 50.  One-to-one (Hungarian)",
	"matching is exact and dense up to --hungarian-max (d_sae 4096); above it, it is solved on",
	"each feature's 32 best matches and results.json gives, beside each value, an upper bound",
	"on the exact optimum (equal to it when the value is proven exact); 0 switches it off.",
	"--sinkhorn 0.05 also matches the features of each trained pair by optimal transport",
	"(Sinkhorn, a soft one-to-one matching; smaller epsilon is closer to Hungarian, from 0.01",
	"to 10): the mean |cos| of each feature's best-transported partner and the transport cost,",
	"up to d_sae 4096.",
	"--activations adds activation-level agreement (|Pearson r| of latents, top-k Jaccard) on",
	"the first --act-rows rows (default 1000) of an activation set.",
	"--truth scores each SAE against the planted set it was trained on (made by `husai plant`):",
	"MCC to the true dictionary, best |cos| per true feature, and how well matched latents fire",
	"with their true features on the first --truth-rows rows (default 4096).",
	"--stability-threshold x (0 < x <= 1) adds each feature's stability probability: the share",
	"of the other seeds holding a feature with |cos| >= x; and how the spans of the unstable",
	"features (probability below 1/2) of different seeds line up (principal angles).",
	"--config reads the same settings from the `analysis:` section of a YAML file (keys in",
	"analyze/analysis_config.c); options on the command line override it.",
	NULL,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: %s\n", analyze_usage[0]);
	for (int i = 1; analyze_usage[i]; i++)
		fprintf(f, "%s%s\n", analyze_usage[i][0] ? "   " : "", analyze_usage[i]);
}

/* "name=a,b,c" -> name and a NULL-terminated list (pointers into the malloc'ed copy *buf) */
static int split_group(char *arg, char **name, char ***list, size_t *n)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		return -1;
	*eq = 0;
	*name = arg;
	size_t cap = 1;
	for (char *c = eq + 1; *c; c++)
		cap += *c == ',';
	char **l = calloc(cap + 1, sizeof(char *));
	if (!l)
		return -1;
	size_t k = 0;
	for (char *tok = strtok(eq + 1, ","); tok; tok = strtok(NULL, ","))
		l[k++] = tok;
	if (!k) {
		free(l);
		return -1;
	}
	*list = l;
	*n = k;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

static int parse_f64(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

int cmd_analyze(int argc, char **argv)
{
	enum { O_CONFIG = 255, O_GROUP = 256, O_OUT, O_CONTROL, O_R1SEEDS, O_R1OFF, O_R2FROM, O_BOOT, O_ST, O_SR,
	       O_SR2, O_SL, O_THR, O_MNN, O_SUBK, O_HMAX, O_NOMATCH, O_HELP, O_ACTS, O_ACTROWS, O_TRUTH, O_TRUTHROWS, O_STABTHR,
	       O_SINKHORN };
	static const struct option opts[] = {
		{ "config", required_argument, 0, O_CONFIG },
		{ "group", required_argument, 0, O_GROUP },
		{ "out", required_argument, 0, O_OUT },
		{ "control", required_argument, 0, O_CONTROL },
		{ "r1-seeds", required_argument, 0, O_R1SEEDS },
		{ "r1-offset", required_argument, 0, O_R1OFF },
		{ "r2-from", required_argument, 0, O_R2FROM },
		{ "bootstrap", required_argument, 0, O_BOOT },
		{ "seed-trained", required_argument, 0, O_ST },
		{ "seed-random", required_argument, 0, O_SR },
		{ "seed-r2", required_argument, 0, O_SR2 },
		{ "seed-level", required_argument, 0, O_SL },
		{ "threshold", required_argument, 0, O_THR },
		{ "mnn-threshold", required_argument, 0, O_MNN },
		{ "subspace-k", required_argument, 0, O_SUBK },
		{ "hungarian-max", required_argument, 0, O_HMAX },
		{ "no-matchings", no_argument, 0, O_NOMATCH },
		{ "activations", required_argument, 0, O_ACTS },
		{ "act-rows", required_argument, 0, O_ACTROWS },
		{ "truth", required_argument, 0, O_TRUTH },
		{ "truth-rows", required_argument, 0, O_TRUTHROWS },
		{ "stability-threshold", required_argument, 0, O_STABTHR },
		{ "sinkhorn", required_argument, 0, O_SINKHORN },
		{ "help", no_argument, 0, O_HELP },
		{ 0, 0, 0, 0 },
	};
	struct analysis_request q;
	analysis_request_defaults(&q);
	struct analysis_group groups[64];
	char *gbuf[64] = { 0 }, **glist[64] = { 0 };
	char *r2buf[64] = { 0 }, **r2list[64] = { 0 }, *r2name[64] = { 0 };
	size_t r2n[64] = { 0 }, n_groups = 0, n_r2 = 0;
	int64_t r1seeds[256];
	int status = 2, c;
	struct analysis_spec spec;
	int have_spec = 0;
	memset(groups, 0, sizeof(groups));
	/* first pass: a --config supplies the defaults that the other options override */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c != O_CONFIG)
			continue;
		struct hus_err err = { 0 };
		if (have_spec)
			analysis_spec_release(&spec);
		int rc = analysis_spec_load(&spec, optarg, &err);
		if (rc) {
			hus_err_print(&err);
			return hus_err_status(rc);
		}
		have_spec = 1;
	}
	if (have_spec) {
		q = spec.q;
		for (size_t i = 0; i < spec.q.n_groups && i < 64; i++)
			groups[n_groups++] = spec.groups[i];
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		uint64_t u;
		switch (c) {
		case O_CONFIG:
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			status = 0;
			goto done;
		case O_GROUP:
		case O_R2FROM: {
			int is_g = c == O_GROUP;
			if ((is_g ? n_groups : n_r2) >= 64) {
				fprintf(stderr, "husai: analyze: at most 64 groups\n");
				goto misuse;
			}
			char *copy = strdup(optarg), *name;
			char **list;
			size_t n;
			if (!copy || split_group(copy, &name, &list, &n)) {
				free(copy);
				fprintf(stderr, "husai: analyze: expected <name>=<file>[,<file>...], got '%s'\n",
				        optarg);
				goto misuse;
			}
			if (is_g) {
				gbuf[n_groups] = copy;
				glist[n_groups] = list;
				groups[n_groups].name = name;
				groups[n_groups].paths = (const char *const *)list;
				groups[n_groups].n = n;
				n_groups++;
			} else {
				r2buf[n_r2] = copy;
				r2list[n_r2] = list;
				r2name[n_r2] = name;
				r2n[n_r2] = n;
				n_r2++;
			}
			break;
		}
		case O_OUT:
			q.out_dir = optarg;
			break;
		case O_CONTROL:
			if (!strcmp(optarg, "r1"))
				q.r1 = 1, q.r2 = 0;
			else if (!strcmp(optarg, "r2"))
				q.r1 = 0, q.r2 = 1;
			else if (!strcmp(optarg, "both"))
				q.r1 = 1, q.r2 = 1;
			else if (!strcmp(optarg, "none"))
				q.r1 = 0, q.r2 = 0;
			else {
				fprintf(stderr, "husai: analyze: --control expects r1, r2, both or none, got '%s'\n",
				        optarg);
				goto misuse;
			}
			break;
		case O_R1SEEDS: {
			char *copy = strdup(optarg);
			size_t k = 0;
			int bad = !copy;
			for (char *tok = copy ? strtok(copy, ",") : NULL; tok && !bad; tok = strtok(NULL, ",")) {
				if (k >= 256 || parse_u64(tok, &u))
					bad = 1;
				else
					r1seeds[k++] = (int64_t)u;
			}
			free(copy);
			if (bad || !k) {
				fprintf(stderr, "husai: analyze: --r1-seeds expects up to 256 non-negative "
				                "integers separated by commas, got '%s'\n", optarg);
				goto misuse;
			}
			q.r1_seeds = r1seeds;
			q.n_r1_seeds = k;
			break;
		}
		case O_R1OFF:
		case O_BOOT:
		case O_ST:
		case O_SR:
		case O_SR2:
		case O_SL:
		case O_SUBK:
		case O_HMAX:
		case O_ACTROWS:
		case O_TRUTHROWS:
			if (parse_u64(optarg, &u)) {
				fprintf(stderr, "husai: analyze: '%s' expects a non-negative integer, got '%s'\n",
				        argv[optind - 1], optarg);
				goto misuse;
			}
			if (c == O_R1OFF)
				q.r1_offset = (int64_t)u;
			else if (c == O_BOOT)
				q.bootstrap_B = u;
			else if (c == O_ST)
				q.seed_trained = u;
			else if (c == O_SR)
				q.seed_random = u;
			else if (c == O_SR2)
				q.seed_r2 = u;
			else if (c == O_SL)
				q.seed_level = u;
			else if (c == O_SUBK)
				q.subspace_k = u;
			else if (c == O_ACTROWS)
				q.act_rows = u;
			else if (c == O_TRUTHROWS)
				q.truth_rows = u;
			else
				q.hungarian_max = u;
			break;
		case O_THR:
		case O_MNN: {
			double v;
			if (parse_f64(optarg, &v) || v < 0 || v > 1) {
				fprintf(stderr, "husai: analyze: a threshold in [0, 1] expected, got '%s'\n",
				        optarg);
				goto misuse;
			}
			if (c == O_THR)
				q.match_thr = v;
			else
				q.mnn_thr = v;
			break;
		}
		case O_NOMATCH:
			q.write_matchings = 0;
			break;
		case O_ACTS:
			q.activations = optarg;
			break;
		case O_TRUTH:
			q.truth = optarg;
			break;
		case O_STABTHR: {
			double v;
			if (parse_f64(optarg, &v) || !(v > 0) || v > 1) {
				fprintf(stderr, "husai: analyze: --stability-threshold expects a number in "
				                "(0, 1], got '%s'\n", optarg);
				goto misuse;
			}
			q.stability_thr = v;
			break;
		}
		case O_SINKHORN: {
			double v;
			if (parse_f64(optarg, &v) || !(v >= SINKHORN_EPS_MIN && v <= SINKHORN_EPS_MAX)) {
				fprintf(stderr, "husai: analyze: --sinkhorn expects an epsilon in [%g, %g] "
				                "(0.05 is a good start), got '%s'\n", SINKHORN_EPS_MIN,
				        SINKHORN_EPS_MAX, optarg);
				goto misuse;
			}
			q.sinkhorn_eps = v;
			break;
		}
		default:
			fprintf(stderr, "husai: analyze: unknown option '%s'\n", argv[optind - 1]);
			goto misuse;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "husai: analyze: unexpected argument '%s'\n", argv[optind]);
		goto misuse;
	}
	if (!n_groups || !q.out_dir) {
		fprintf(stderr, "husai: analyze: groups (--group or --config) and --out are required\n");
		goto misuse;
	}
	for (size_t i = 0; i < n_r2; i++) {
		size_t g = 0;
		while (g < n_groups && strcmp(groups[g].name, r2name[i]))
			g++;
		if (g == n_groups) {
			fprintf(stderr, "husai: analyze: --r2-from names group '%s', which no --group gives\n",
			        r2name[i]);
			goto misuse;
		}
		groups[g].r2_paths = (const char *const *)r2list[i]; /* overrides the config's */
		groups[g].n_r2 = r2n[i];
	}
	q.groups = groups;
	q.n_groups = n_groups;
	char cmd[2048] = "husai";
	for (int i = 0; i < argc; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s", argv[i]);
	q.command = cmd;
	struct hus_err err = { 0 };
	hj *res = NULL;
	int rc = analysis_run(&q, &res, &err);
	if (!rc) { /* one line per group: the numbers results.json holds */
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
				snprintf(r2, sizeof(r2), hj_get(g, "controls.r2") ? "%.6f" : "not computed",
				         v[2]);
			printf("%s: trained %.6f (seed-level CI low %.6f), R1 %s, R2 %s, null %.6f, "
			       "p %.3g: %s\n", name, v[0], v[5], r1, r2, v[3], v[4],
			       concl ? concl : "no statistics");
		}
		printf("wrote %s\n", q.out_dir);
		hj_free(res);
	}
	if (rc) {
		hus_err_print(&err);
		if (rc == HUS_EUSAGE)
			goto misuse;
		status = hus_err_status(rc);
	} else {
		status = 0;
	}
	goto done;
misuse:
	usage(stderr);
	status = 2;
done:
	for (size_t i = 0; i < 64; i++) {
		free(gbuf[i]), free(glist[i]);
		free(r2buf[i]), free(r2list[i]);
	}
	if (have_spec)
		analysis_spec_release(&spec);
	return status;
}
