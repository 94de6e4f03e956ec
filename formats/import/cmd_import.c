/*
 * cmd_import.c — `husai import`: convert foreign SAEs (SAELens / sparsify safetensors,
 * dictionary_learning ae.pt with config.json, upstream torch `.pt` checkpoints, anything else
 * through a mapping file) and upstream transformer `.pt` checkpoints into husai HDF5 artifacts
 * (issues 9 and 18), one file per source, recording the source's sha256 and the key mapping.
 * Sources are files, directories (every *.safetensors and *.pt below, in sorted order) or
 * quoted globs; output names come from the sources' paths below their common directory, so
 * seeds of one library (all `ae.pt`, all `layers.6/sae.safetensors`) never collide.  Seeds:
 * --seeds (one per source), --seed, the source cfg, else the source's place in the list.
 * All or nothing: when any source fails, the artifacts this invocation already wrote are
 * removed and the status is 1.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "formats.h"

static const char *const import_usage[] = {
	"usage: husai import [--layout (auto | saelens | sparsify | dictionary_learning | upstream)]",
	"                    [--map <map.json>] [--cfg <cfg.json>] [--condition <name>]",
	"                    [--seed <n> | --seeds <n,n,...>] [--force] --out <dir> <src>...",
	"",
	"Convert foreign checkpoints into husai HDF5 artifacts in <dir>.  Each <src> is a file, a",
	"directory (every *.safetensors and *.pt below it, in sorted order) or a quoted glob",
	"('runs/*/ae.pt'):",
	"  *.safetensors  SAELens (W_enc, W_dec, b_enc, b_dec, threshold) or sparsify",
	"                 (encoder.weight, encoder.bias, W_dec, b_dec) SAEs, with the cfg.json",
	"                 found beside the file (or --cfg) for architecture, k, seed, model, hook",
	"  ae.pt          dictionary_learning SAEs (AutoEncoder, AutoEncoderTopK, BatchTopKSAE,",
	"                 JumpReluAutoEncoder), with the config.json beside the file",
	"  *.pt           upstream SAE checkpoints (sae_state_dict / model_state_dict with",
	"                 encoder.weight, encoder.bias, decoder.weight) and transformer",
	"                 checkpoints (model_state_dict with TransformerLens keys)",
	"Orientation follows each library's documented layout, never the shapes.  Every source",
	"tensor must land somewhere: a tensor the layout has no place for is an error, unless a",
	"--map file names it under \"skip\": {\"skip\": [\"<key>\", ...]}.  For any other layout",
	"the --map file names every key: {\"architecture\": ..., \"k\": ..., \"map\": {\"<key>\":",
	"{\"to\": \"W_dec\", \"transpose\": true}, ...}}.",
	"Output names: <dir>/<path>.h5, <path> being the source's path below the sources' common",
	"directory with '/' as '_' and the library's fixed file names (ae.pt, sae.safetensors,",
	"sae_weights.safetensors) left out: runs/s1/ae.pt and runs/s2/ae.pt give s1.h5 and s2.h5.",
	"The seed of each SAE: --seeds, else --seed, else the source's cfg, else its place in the",
	"list of sources (0, 1, 2, ...); the artifact records which (seed_source).",
	"",
	"    --layout <l>       source convention (default auto: by the key names and config.json)",
	"    --map <file>       mapping file (JSON): keys to skip, or a whole mapping",
	"    --cfg <file>       the cfg.json / config.json of the source (default: the one beside it)",
	"    --condition <c>    recorded as the SAEs' condition (default: imported)",
	"    --seed <n>         recorded as the seed of every source",
	"    --seeds <list>     one seed per source, in the order the sources are listed (0,1,2)",
	"    --force            overwrite existing outputs",
	"    --out <dir>        output directory (created)",
	NULL,
};

struct srcs {
	char **v;
	size_t n, cap;
};

static int srcs_add(struct srcs *s, const char *path)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v, s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(path)))
		return -1;
	s->n++;
	return 0;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static int add_checkpoint(const char *rel, const char *full, void *ctx)
{
	(void)rel;
	if (!has_suffix(full, ".safetensors") && !has_suffix(full, ".pt"))
		return 0;
	return srcs_add(ctx, full) ? 1 : 0;
}

static int is_dir(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* one command-line source: a file, a directory (walked), or a glob */
static int expand_source(struct srcs *s, const char *arg)
{
	if (is_dir(arg)) {
		size_t before = s->n;
		if (hus_walk_files(arg, add_checkpoint, s)) {
			fprintf(stderr, "husai import: %s: cannot list the directory\n", arg);
			return 1;
		}
		if (s->n == before) {
			fprintf(stderr, "husai import: %s: no *.safetensors or *.pt file below this "
			        "directory\n", arg);
			return 1;
		}
		return 0;
	}
	if (!hus_file_exists(arg) && strpbrk(arg, "*?[")) {
		glob_t g;
		int rc = glob(arg, GLOB_ERR, NULL, &g);
		if (rc == GLOB_NOMATCH || (!rc && !g.gl_pathc)) {
			fprintf(stderr, "husai import: '%s' matches no file\n", arg);
			if (!rc)
				globfree(&g);
			return 1;
		}
		if (rc) {
			fprintf(stderr, "husai import: '%s': cannot expand the pattern\n", arg);
			return 1;
		}
		for (size_t i = 0; i < g.gl_pathc && !rc; i++)
			rc = expand_source(s, g.gl_pathv[i]);
		globfree(&g);
		return rc;
	}
	return srcs_add(s, arg) ? 1 : 0;
}

/* a library's fixed file name, which says nothing about which SAE it is */
static int generic_name(const char *base)
{
	static const char *const g[] = { "ae.pt", "sae.safetensors", "sae_weights.safetensors",
	                                 "model.pt", "model.safetensors", NULL };
	for (size_t i = 0; g[i]; i++)
		if (!strcmp(base, g[i]))
			return 1;
	return 0;
}

/* length of the directory prefix (up to and with a '/') every source shares */
static size_t common_dir(char **v, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; v[0][i]; i++) {
		int same = 1;
		for (size_t j = 1; j < n && same; j++)
			same = !strncmp(v[0], v[j], i + 1);
		if (!same)
			break;
		if (v[0][i] == '/')
			len = i + 1;
	}
	return len;
}

/* <dir>/<name>.h5: the source's path below the common directory, '/' -> '_', the final
 * component's extension dropped, a library's fixed file name dropped (then its directory) */
static void out_name(char *out, size_t n, const char *dir, const char *src, size_t common)
{
	char rel[4096];
	snprintf(rel, sizeof(rel), "%s", src + common);
	char *slash = strrchr(rel, '/');
	char *base = slash ? slash + 1 : rel;
	if (generic_name(base)) {
		if (slash) {
			*slash = 0;
		} else { /* nothing left below the common directory: the file's own directory */
			const char *s2 = strrchr(src, '/'), *p = s2;
			while (p && p > src && p[-1] != '/')
				p--;
			if (s2 && p < s2)
				snprintf(rel, sizeof(rel), "%.*s", (int)(s2 - p), p);
			else
				base[strcspn(base, ".")] = 0;
		}
	} else {
		base[strcspn(base, ".")] = 0;
	}
	for (char *c = rel; *c; c++)
		if (*c == '/')
			*c = '_';
	snprintf(out, n, "%s/%s.h5", dir, *rel ? rel : "sae");
}

struct seed_list {
	int64_t *v;
	size_t n;
};

/* the part of the sources' paths left out of the output names */
static size_t common_prefix(const struct srcs *src)
{
	if (src->n != 1)
		return src->n > 1 ? common_dir(src->v, src->n) : 0;
	const char *sl = strrchr(src->v[0], '/'); /* one source: its own directory */
	return sl ? (size_t)(sl - src->v[0]) + 1 : 0;
}

static int opt_seeds(void *v, const char *arg)
{
	struct seed_list *l = v;
	free(l->v);
	l->v = NULL;
	return hus_cli_int_list(arg, &l->v, &l->n);
}

int cmd_import(int argc, char **argv)
{
	static const char *const layouts[] = { "auto", "saelens", "sparsify", "dictionary_learning",
	                                       "upstream", NULL };
	static const enum imp_layout layout_of[] = { IMP_AUTO, IMP_SAELENS, IMP_SPARSIFY,
	                                             IMP_DICTLEARN, IMP_UPSTREAM };
	struct imp_opts o = { IMP_AUTO, NULL, NULL, NULL, -1, 0 };
	const char *dir = NULL;
	int force = 0, layout = 0;
	struct seed_list sl = { NULL, 0 };
	const struct hus_opt opts[] = {
		HUS_OPT_CHOICE("layout", 0, &layout, layouts),
		HUS_OPT_STR("map", 0, &o.map_path),
		HUS_OPT_STR("cfg", 0, &o.cfg_path),
		HUS_OPT_STR("condition", 0, &o.condition),
		HUS_OPT_I64("seed", 0, &o.seed, 0, INT64_MAX),
		HUS_OPT_FN("seeds", 0, &sl, opt_seeds,
		           "non-negative integers separated by commas (0,1,2)"),
		HUS_OPT_FLAG("force", 0, &force),
		HUS_OPT_STR("out", 0, &dir),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "import", import_usage, opts, 1, -1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	int64_t *seeds = sl.v;
	size_t nseeds = sl.n;
	if (st == HUS_CLI_GO_ON && !dir)
		st = hus_cli_misuse(&cli, "--out <dir> is required");
	if (st != HUS_CLI_GO_ON) {
		free(seeds);
		return st;
	}
	o.layout = layout_of[layout];
	struct srcs src = { 0 };
	int status = 0;
	for (int i = first; i < argc && !status; i++)
		status = expand_source(&src, argv[i]) ? 2 : 0;
	if (!status && seeds && nseeds != src.n) {
		fprintf(stderr, "husai import: --seeds gives %zu seeds for %zu sources (one per "
		        "source, in the order listed)\n", nseeds, src.n);
		status = 2;
	}
	if (!status && seeds && o.seed >= 0) {
		fprintf(stderr, "husai import: give --seed or --seeds, not both\n");
		status = 2;
	}
	size_t n = src.n;
	char (*outs)[4200] = status ? NULL : calloc(n ? n : 1, sizeof(*outs));
	int64_t *used = status ? NULL : calloc(n ? n : 1, sizeof(int64_t));
	if (!status && (!outs || !used)) {
		fprintf(stderr, "husai import: out of memory\n");
		status = 1;
	}
	size_t common = common_prefix(&src);
	struct hus_err err = { 0 };
	size_t done = 0;
	for (size_t i = 0; i < n && !status; i++) {
		out_name(outs[i], sizeof(outs[i]), dir, src.v[i], common);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(outs[i], outs[j])) {
				fprintf(stderr, "husai import: '%s' and '%s' would both be written to '%s'\n",
				        src.v[j], src.v[i], outs[i]);
				status = 2;
			}
	}
	for (size_t i = 0; i < n && !status; i++)
		if (!force && hus_file_exists(outs[i])) {
			fprintf(stderr, "husai import: '%s' exists (use --force to overwrite)\n", outs[i]);
			status = 1;
		}
	if (!status && hus_mkdirs(dir, &err)) {
		hus_err_print(&err);
		status = 1;
	}
	for (size_t i = 0; i < n && !status; i++, done++) {
		const char *kind = "?";
		struct imp_opts oi = o;
		oi.order_seed = (int64_t)i;
		if (seeds)
			oi.seed = seeds[i];
		if (imp_file(src.v[i], outs[i], &oi, &kind, &err)) {
			hus_err_print(&err);
			status = hus_err_status(err.code);
			break;
		}
		used[i] = -1;
		char *ss = NULL;
		struct h5r *r = NULL;
		if (!strcmp(kind, "sae") && !h5r_open(&r, outs[i], NULL, 0, NULL)) {
			h5r_attr_i64(r, "/", "seed", &used[i], NULL);
			h5r_attr_str(r, "/", "seed_source", &ss, NULL);
			h5r_close(r);
		}
		if (used[i] >= 0)
			printf("imported %s -> %s (%s, seed %lld from %s)\n", src.v[i], outs[i], kind,
			       (long long)used[i], ss ? ss : "?");
		else
			printf("imported %s -> %s (%s)\n", src.v[i], outs[i], kind);
		free(ss);
		for (size_t j = 0; j < i && used[i] >= 0; j++)
			if (used[j] == used[i]) { /* named once, with the first earlier one */
				fprintf(stderr, "husai import: note: %s and %s both have seed %lld; husai "
				        "analyze needs distinct seeds within a group (give --seeds, or "
				        "import them under different --condition names)\n", src.v[j],
				        src.v[i], (long long)used[i]);
				break;
			}
	}
	if (status)
		for (size_t i = 0; i < done; i++)
			unlink(outs[i]);
	for (size_t i = 0; i < src.n; i++)
		free(src.v[i]);
	free(src.v);
	free(outs);
	free(used);
	free(seeds);
	return status;
}
