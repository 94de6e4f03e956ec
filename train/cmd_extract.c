/*
 * cmd_extract.c — `husai extract`: read a transformer checkpoint and write one activation
 * set (hook, layer, position) in the upstream row order (docs/formulas.md §3), with the checkpoint's
 * sha256 and every choice recorded.  Bad input (another format, a layer out of range, an
 * unknown hook or position) is a named error, exit 1, and no file is written.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void usage(FILE *out) { hus_print_lines(out, extract_usage); }

static int parse_i64(const char *s, long long *v)
{
	char *end;
	*v = strtoll(s, &end, 10);
	return *s && !*end ? 0 : -1;
}

int cmd_extract(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "out", required_argument, NULL, 'o' },
		{ "layer", required_argument, NULL, 'l' },
		{ "hook", required_argument, NULL, 'k' },
		{ "position", required_argument, NULL, 'p' },
		{ "split-seed", required_argument, NULL, 's' },
		{ "split-fraction", required_argument, NULL, 'f' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "config", required_argument, NULL, 'c' },
		{ "rows", required_argument, NULL, 'r' },
		{ 0, 0, 0, 0 },
	};
	static const char *const rows_choices[] = { "all", "train", NULL };
	/* the phase-4a preset (docs/formulas.md A2) a run's job config names: recorded, not acted on */
	static const char *const presets[] = { "husai", "run29", "legacy", NULL };
	const char *preset = NULL;
	const char *out = NULL, *hook = NULL, *position = NULL, *config = NULL, *rows = NULL;
	long long layer = -2, seed = -1, batch = 0;
	double fraction = -1.0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:l:k:p:s:f:b:c:r:", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'o':
			out = optarg;
			break;
		case 'l':
			if (parse_i64(optarg, &layer) || layer < -1)
				goto bad;
			break;
		case 'k':
			hook = optarg;
			break;
		case 'p':
			position = optarg;
			break;
		case 's':
			if (parse_i64(optarg, &seed) || seed < 0)
				goto bad;
			break;
		case 'f':
			fraction = strtod(optarg, &end);
			if (*end || !*optarg)
				goto bad;
			break;
		case 'b':
			if (parse_i64(optarg, &batch) || batch < 1)
				goto bad;
			break;
		case 'c':
			config = optarg;
			break;
		case 'r':
			if (strcmp(optarg, "all") && strcmp(optarg, "train"))
				goto bad;
			rows = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!out || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	const char *ckpt = argv[optind];
	struct hus_err err = { 0 };
	struct tf_config cfg;
	struct tf_extract_opts o = { 0 };
	struct acts_set s;
	float *params = NULL;
	char *yaml = NULL, *resolved = NULL, hash[65], sha[65], buf[128];
	struct cfg *cf = NULL;
	uint64_t bytes;
	int have_set = 0, rc = 0;
	if (config) {
		/* job config: `extract:` keys fill what the command line left unset */
		struct cfg *jc = NULL;
		const char *sv;
		int64_t iv;
		double fv;
		static char hook_buf[32], pos_buf[32], rows_buf[8], preset_buf[16];
		if ((rc = cfg_load(&jc, config, &err)))
			goto cleanup;
		if (!(rc = cfg_str(jc, "extract.hook", "resid_post", NULL, &sv, &err)) && !hook)
			hook = strncpy(hook_buf, sv, sizeof(hook_buf) - 1);
		if (!rc && !(rc = cfg_str(jc, "extract.position", "answer", NULL, &sv, &err)) && !position)
			position = strncpy(pos_buf, sv, sizeof(pos_buf) - 1);
		if (!rc && !(rc = cfg_int(jc, "extract.layer", -1, -1, 1 << 20, &iv, &err)) && layer == -2)
			layer = iv;
		if (!rc && !(rc = cfg_int(jc, "extract.split_seed", 42, 0, INT64_MAX, &iv, &err)) && seed < 0)
			seed = iv;
		if (!rc && !(rc = cfg_f64(jc, "extract.split_fraction", 0.8, &fv, &err)) && fraction < 0)
			fraction = fv;
		if (!rc && !(rc = cfg_str(jc, "extract.rows", "all", rows_choices, &sv, &err)) && !rows)
			rows = strncpy(rows_buf, sv, sizeof(rows_buf) - 1);
		if (!rc && cfg_has(jc, "extract.preset") &&
		    !(rc = cfg_str(jc, "extract.preset", NULL, presets, &sv, &err)))
			preset = strncpy(preset_buf, sv, sizeof(preset_buf) - 1);
		if (!rc && !(rc = cfg_int(jc, "extract.batch_size", 256, 1, 1 << 24, &iv, &err)) && !batch)
			batch = iv;
		if (!rc)
			rc = cfg_finish(jc, &err);
		cfg_free(jc);
		if (rc)
			goto cleanup;
	}
	if (!hook)
		hook = "resid_post";
	if (!position)
		position = "answer";
	if (layer == -2)
		layer = -1;
	if (seed < 0)
		seed = 42;
	if (fraction < 0)
		fraction = 0.8;
	if (!batch)
		batch = 256;
	if (!rows)
		rows = "all";
	if ((rc = tf_hook_parse(hook, &o.hook, &err)))
		goto cleanup;
	if ((rc = hus_sha256_file(ckpt, sha, &bytes, &err)) ||
	    (rc = tf_ckpt_load_params(ckpt, &cfg, &params, &err)) ||
	    (rc = tf_ckpt_config(ckpt, &cfg, &yaml, &err)))
		goto cleanup;
	o.layer = layer < 0 ? cfg.n_layers - 1 : layer;
	o.position = position;
	o.split_seed = seed;
	o.split_fraction = fraction;
	o.batch_size = (size_t)batch;
	o.train_rows = !strcmp(rows, "train");
	if ((rc = tf_extract(&s, &cfg, params, &o, &err)))
		goto cleanup;
	have_set = 1;
	snprintf(s.transformer_sha256, sizeof(s.transformer_sha256), "%s", sha);
	/* the recorded config: the transformer's, plus the extraction choices, hashed with the
	 * checkpoint's sha256 */
	if ((rc = cfg_load_string(&cf, yaml, ckpt, &err)))
		goto cleanup;
	struct tf_config dummy;
	const char *sv;
	int64_t iv;
	double fv;
	if ((rc = tf_config_read(cf, &dummy, &err)))
		goto cleanup;
	snprintf(buf, sizeof(buf), "extract.hook=%s", hook);
	cfg_set(cf, buf, &err);
	snprintf(buf, sizeof(buf), "extract.layer=%lld", (long long)o.layer);
	cfg_set(cf, buf, &err);
	snprintf(buf, sizeof(buf), "extract.position=%s", position);
	cfg_set(cf, buf, &err);
	snprintf(buf, sizeof(buf), "extract.split_seed=%lld", seed);
	cfg_set(cf, buf, &err);
	snprintf(buf, sizeof(buf), "extract.split_fraction=%.17g", fraction);
	cfg_set(cf, buf, &err);
	if (o.train_rows) /* recorded only when not the default, so older hashes stay valid */
		cfg_set(cf, "extract.rows=train", &err);
	if (preset) {
		snprintf(buf, sizeof(buf), "extract.preset=%s", preset);
		cfg_set(cf, buf, &err);
	}
	if ((rc = cfg_str(cf, "extract.hook", NULL, NULL, &sv, &err)) ||
	    (rc = cfg_int(cf, "extract.layer", 0, 0, INT64_MAX, &iv, &err)) ||
	    (rc = cfg_str(cf, "extract.position", NULL, NULL, &sv, &err)) ||
	    (rc = cfg_int(cf, "extract.split_seed", 0, 0, INT64_MAX, &iv, &err)) ||
	    (rc = cfg_f64(cf, "extract.split_fraction", 0.8, &fv, &err)) ||
	    (o.train_rows && (rc = cfg_str(cf, "extract.rows", NULL, rows_choices, &sv, &err))) ||
	    (preset && (rc = cfg_str(cf, "extract.preset", NULL, presets, &sv, &err))) ||
	    (rc = cfg_add_input(cf, "transformer", ckpt, &err)))
		goto cleanup;
	resolved = cfg_resolved_yaml(cf);
	cfg_hash(cf, hash);
	struct hus_provenance prov = { resolved ? resolved : "", hash };
	if ((rc = acts_write(out, &s, &prov, &err)))
		goto cleanup;
	printf("%s: %zu rows x %zu (%s, layer %lld, position %s, answer at %s, rows %s)\n", out, s.N,
	       s.d, s.hook, (long long)s.layer, s.position, s.answer_position, s.rows);
cleanup:
	if (rc)
		hus_err_print(&err);
	if (have_set)
		acts_release(&s);
	if (cf)
		cfg_free(cf);
	free(params);
	free(yaml);
	free(resolved);
	return hus_err_status(rc);
bad:
	for (const struct option *op = opts; op->name; op++) /* name the option, not its value */
		if (op->val == c)
			fprintf(stderr, "husai: bad value '%s' for option '--%s'\n", optarg, op->name);
	usage(stderr);
	return 2;
}
