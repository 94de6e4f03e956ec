/*
 * cmd_import.c — `husai import`: convert foreign SAEs (SAELens / sparsify safetensors, upstream
 * torch `.pt` checkpoints, anything else through a mapping file) and upstream transformer
 * `.pt` checkpoints into husai HDF5 artifacts (issue 9), one file per source, recording the
 * source's sha256 and the key mapping applied.  All or nothing: when any source fails, the
 * artifacts this invocation already wrote are removed and the status is 1.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "formats.h"

static const char *const import_usage[] = {
	"usage: husai import [--layout (auto | saelens | sparsify | upstream)] [--map <map.json>]",
	"                    [--cfg <cfg.json>] [--condition <name>] [--seed <n>] [--force]",
	"                    --out <dir> <src>...",
	"",
	"Convert foreign checkpoints into husai HDF5 artifacts in <dir>:",
	"  *.safetensors  SAELens (W_enc, W_dec, b_enc, b_dec, threshold) or sparsify",
	"                 (encoder.weight, encoder.bias, W_dec, b_dec) SAEs, with the cfg.json",
	"                 found beside the file (or --cfg) for architecture, k and seed",
	"  *.pt           upstream SAE checkpoints (sae_state_dict / model_state_dict with",
	"                 encoder.weight, encoder.bias, decoder.weight) and transformer",
	"                 checkpoints (model_state_dict with TransformerLens keys)",
	"Orientation follows each library's documented layout, never the shapes; --map names the",
	"source keys of any other layout: {\"architecture\": ..., \"k\": ..., \"map\": {\"<key>\":",
	"{\"to\": \"W_dec\", \"transpose\": true}, ...}}.  Each output is <dir>/<name>.h5, where",
	"<name> is the source's stem (its directory's name for sae_weights / sae / model).",
	"",
	"    --layout <l>       source convention (default auto: by the key names)",
	"    --map <file>       user mapping file (JSON), for any other layout",
	"    --cfg <file>       the cfg.json of a safetensors SAE",
	"    --condition <c>    recorded as the SAE's condition (default: imported)",
	"    --seed <n>         recorded as the SAE's seed (default: from cfg, else -1)",
	"    --force            overwrite existing outputs",
	"    --out <dir>        output directory (created)",
	NULL,
};

static void usage(FILE *out) { hus_print_lines(out, import_usage); }

/* <dir>/<stem>.h5; generic library file names take their directory's name */
static void out_name(char *out, size_t n, const char *dir, const char *src)
{
	const char *slash = strrchr(src, '/');
	const char *base = slash ? slash + 1 : src;
	size_t len = strcspn(base, ".");
	char stem[256];
	snprintf(stem, sizeof(stem), "%.*s", (int)len, base);
	if ((!strcmp(stem, "sae_weights") || !strcmp(stem, "sae") || !strcmp(stem, "model")) &&
	    slash) {
		const char *p = slash;
		while (p > src && p[-1] != '/')
			p--;
		if (p < slash)
			snprintf(stem, sizeof(stem), "%.*s", (int)(slash - p), p);
	}
	snprintf(out, n, "%s/%s.h5", dir, stem);
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },      { "layout", required_argument, NULL, 'l' },
		{ "map", required_argument, NULL, 'm' }, { "cfg", required_argument, NULL, 'c' },
		{ "condition", required_argument, NULL, 'C' },
		{ "seed", required_argument, NULL, 's' }, { "force", no_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' }, { 0, 0, 0, 0 },
	};
	struct imp_opts o = { IMP_AUTO, NULL, NULL, NULL, -1 };
	const char *dir = NULL;
	int force = 0, c;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'l':
			if (!strcmp(optarg, "auto"))
				o.layout = IMP_AUTO;
			else if (!strcmp(optarg, "saelens"))
				o.layout = IMP_SAELENS;
			else if (!strcmp(optarg, "sparsify"))
				o.layout = IMP_SPARSIFY;
			else if (!strcmp(optarg, "upstream"))
				o.layout = IMP_UPSTREAM;
			else {
				fprintf(stderr, "husai import: unknown layout '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			break;
		case 'm': o.map_path = optarg; break;
		case 'c': o.cfg_path = optarg; break;
		case 'C': o.condition = optarg; break;
		case 's':
			o.seed = strtoll(optarg, &end, 10);
			if (*end || end == optarg || o.seed < 0) {
				fprintf(stderr, "husai import: --seed expects a non-negative integer\n");
				return 2;
			}
			break;
		case 'f': force = 1; break;
		case 'o': dir = optarg; break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!dir || optind >= argc) {
		usage(stderr);
		return 2;
	}
	int n = argc - optind;
	char (*outs)[4200] = calloc((size_t)n, sizeof(*outs));
	if (!outs) {
		fprintf(stderr, "husai import: out of memory\n");
		return 1;
	}
	struct hus_err err = { 0 };
	int status = 0, done = 0;
	for (int i = 0; i < n; i++) {
		out_name(outs[i], sizeof(outs[i]), dir, argv[optind + i]);
		for (int j = 0; j < i; j++)
			if (!strcmp(outs[i], outs[j])) {
				fprintf(stderr, "husai import: '%s' and '%s' would both be written to '%s'\n",
				        argv[optind + j], argv[optind + i], outs[i]);
				status = 2;
			}
		if (!force && hus_file_exists(outs[i])) {
			fprintf(stderr, "husai import: '%s' exists (use --force to overwrite)\n", outs[i]);
			status = status ? status : 1;
		}
	}
	if (!status && hus_mkdirs(dir, &err)) {
		hus_err_print(&err);
		status = 1;
	}
	for (int i = 0; i < n && !status; i++, done++) {
		const char *kind = "?";
		if (imp_file(argv[optind + i], outs[i], &o, &kind, &err)) {
			hus_err_print(&err);
			status = hus_err_status(err.code);
			break;
		}
		printf("imported %s -> %s (%s)\n", argv[optind + i], outs[i], kind);
	}
	if (status)
		for (int i = 0; i < done; i++)
			unlink(outs[i]);
	free(outs);
	return status;
}
