/*
 * cmd_functional.c — `husai functional`: do matched features of two seeds' SAEs do the same
 * thing in the model?  For every pair of a group's SAEs (the pairs and the |cos| Hungarian
 * matchings `husai analyze` stored), the substitution test against a random unmatched control
 * and the agreement of ablation fingerprints (train/functional.c, docs/formulas.md §11), into
 * OUT/functional.json.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
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

/* Split "name=a,b,c" into the name and up to cap paths (pointers into buf, modified). */
static int parse_group(char *buf, const char **name, const char **paths, size_t cap, size_t *n)
{
	char *eq = strchr(buf, '=');
	if (!eq || eq == buf || !eq[1])
		return -1;
	*eq = 0;
	*name = buf;
	*n = 0;
	for (char *s = eq + 1, *tok; (tok = strsep(&s, ","));) {
		if (!*tok || *n == cap)
			return -1;
		paths[(*n)++] = tok;
	}
	return *n >= 2 ? 0 : -1;
}

static hj *pair_json(const int64_t *sa, const int64_t *sb, const struct fn_pair_result *r,
                     size_t np)
{
	static const char *const names[] = { "matched_dloss", "random_dloss", "matched_abs_dloss",
		                             "random_abs_dloss", "matched_dacc", "random_dacc",
		                             "fingerprint_cos_matched", "fingerprint_cos_random" };
	hj *o = hj_obj();
	hj_set(o, "seed_a", hj_i64_array(sa, np));
	hj_set(o, "seed_b", hj_i64_array(sb, np));
	hj *nf = hj_arr();
	for (size_t p = 0; p < np; p++)
		hj_push(nf, hj_int((int64_t)r[p].n_features));
	hj_set(o, "n_features", nf);
	double *v = malloc((np ? np : 1) * sizeof(double));
	for (size_t c = 0; v && c < sizeof(names) / sizeof(names[0]); c++) {
		for (size_t p = 0; p < np; p++) {
			const struct fn_pair_result *x = &r[p];
			const double vals[] = { x->matched_dloss, x->random_dloss, x->matched_abs_dloss,
				                x->random_abs_dloss, x->matched_dacc, x->random_dacc,
				                x->fp_cos_matched, x->fp_cos_random };
			v[p] = vals[c];
		}
		hj_set(o, names[c], hj_f64_array(v, np));
	}
	free(v);
	return o;
}

int cmd_functional(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "transformer", required_argument, NULL, 't' },
		{ "activations", required_argument, NULL, 'a' },
		{ "matching", required_argument, NULL, 'm' },
		{ "group", required_argument, NULL, 'g' },
		{ "out", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, 's' },
		{ 0, 0, 0, 0 },
	};
	const char *tf = NULL, *acts = NULL, *match = NULL, *group = NULL, *out = NULL;
	long long seed = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'h':
			hus_print_lines(stdout, functional_usage);
			return 0;
		case 't': tf = optarg; break;
		case 'a': acts = optarg; break;
		case 'm': match = optarg; break;
		case 'g': group = optarg; break;
		case 'o': out = optarg; break;
		case 's':
			seed = strtoll(optarg, &end, 10);
			if (*end || end == optarg || seed < 0) {
				fprintf(stderr, "husai: functional: --seed expects a non-negative integer, "
				                "got '%s'\n", optarg);
				return 2;
			}
			break;
		default:
			hus_print_lines(stderr, functional_usage);
			return 2;
		}
	}
	if (!tf || !acts || !match || !group || !out || optind != argc) {
		fprintf(stderr, "husai: functional: --transformer, --activations, --matching, --group "
		                "and --out are required\n");
		hus_print_lines(stderr, functional_usage);
		return 2;
	}
	char *gbuf = strdup(group);
	const char *gname = NULL, *paths[256];
	size_t ns = 0;
	if (!gbuf || parse_group(gbuf, &gname, paths, 256, &ns)) {
		fprintf(stderr, "husai: functional: --group expects <name>=<sae.h5>,<sae.h5>[,...] "
		                "(2 to 256 checkpoints)\n");
		free(gbuf);
		return 2;
	}
	struct hus_err err = { 0 };
	struct tf_config cfg;
	struct fn_model m;
	struct fn_sae *saes = calloc(ns, sizeof(*saes));
	size_t np = ns * (ns - 1) / 2, built = 0;
	struct fn_pair_result *res = calloc(np, sizeof(*res));
	int64_t *sa = calloc(np, sizeof(int64_t)), *sb = calloc(np, sizeof(int64_t));
	float *params = NULL;
	struct acts_set set;
	struct h5r *ar = NULL;
	hj *root = NULL;
	char tf_sha[65], acts_sha[65];
	uint64_t bytes;
	int have_model = 0, have_set = 0, rc = 0;
	memset(&set, 0, sizeof(set));
	if (!saes || !res || !sa || !sb) {
		rc = hus_errf(&err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto done;
	}
	if ((rc = hus_sha256_file(tf, tf_sha, &bytes, &err)) ||
	    (rc = hus_sha256_file(acts, acts_sha, &bytes, &err)) ||
	    (rc = tf_ckpt_load_params(tf, &cfg, &params, &err)) ||
	    (rc = fn_model_init(&m, &cfg, params, &err)))
		goto done;
	have_model = 1;
	if ((rc = acts_read(acts, &set, &err)))
		goto done;
	have_set = 1;
	if ((rc = fn_model_check_acts(&m, &set, acts, tf_sha, &err)))
		goto done;
	for (size_t i = 0; i < ns; i++, built++) {
		struct sae_ckpt ck;
		if ((rc = sae_ckpt_read(paths[i], &ck, &err)))
			goto done;
		if (strcmp(ck.activation_sha256, acts_sha))
			rc = hus_errf(&err, HUS_EINPUT, paths[i], "activation_sha256",
			              "the SAE was trained on another activation set (%.12s…, the given "
			              "set is %.12s…)", ck.activation_sha256, acts_sha);
		if (!rc)
			rc = fn_sae_init(&saes[i], &m, &ck, paths[i], &err);
		sae_ckpt_release(&ck);
		if (rc)
			goto done;
	}
	if ((rc = h5r_open(&ar, match, ANALYSIS_FORMAT, ANALYSIS_VERSION, &err)))
		goto done;
	size_t p = 0;
	for (size_t i = 0; i < ns; i++)
		for (size_t j = i + 1; j < ns; j++, p++) {
			int32_t *perm = NULL;
			size_t mm = 0;
			sa[p] = saes[i].seed, sb[p] = saes[j].seed;
			if ((rc = ana_read_matching(ar, gname, sa[p], sb[p], "", &perm, &mm, &err)))
				goto done;
			if (mm != saes[i].m)
				rc = hus_errf(&err, HUS_EINPUT, match, "matching",
				              "the matching of seeds %" PRId64 " and %" PRId64 " has %zu "
				              "entries, the SAE %zu latents", sa[p], sb[p], mm, saes[i].m);
			if (!rc)
				rc = fn_pair(&m, &saes[i], &saes[j], perm, (uint64_t)seed + 1000u * p,
				             &res[p], &err);
			free(perm);
			if (rc) {
				if (!err.file[0])
					snprintf(err.file, sizeof(err.file), "%s", match);
				goto done;
			}
		}
	root = hj_obj();
	hj_set(root, "format", hj_str("husai.functional"));
	hj_set(root, "version", hj_int(1));
	hj_set(root, "group", hj_str(gname));
	hj_set(root, "definition", hj_str("docs/formulas.md section 11"));
	hj_set(root, "hook", hj_str(set.hook));
	hj_set(root, "layer", hj_int(set.layer));
	hj_set(root, "position", hj_str(set.position));
	hj_set(root, "eval_rows", hj_str("the transformer's validation examples (data.split_seed, "
	                                 "data.train_fraction)"));
	hj_set(root, "n_rows", hj_int((int64_t)m.n));
	hj_set(root, "random_seed", hj_int(seed));
	hj_set(root, "clean_loss", hj_num(m.clean_loss));
	hj_set(root, "clean_accuracy", hj_num(m.clean_acc));
	hj *sj = hj_arr();
	for (size_t i = 0; i < ns; i++) {
		hj *o = hj_obj();
		hj_set(o, "seed", hj_int(saes[i].seed));
		hj_set(o, "spliced_loss", hj_num(saes[i].loss));
		hj_set(o, "spliced_accuracy", hj_num(saes[i].acc));
		hj_push(sj, o);
	}
	hj_set(root, "saes", sj);
	hj_set(root, "pairs", pair_json(sa, sb, res, np));
	char path[PATH_MAX];
	if ((rc = hus_mkdirs(out, &err)))
		goto done;
	snprintf(path, sizeof(path), "%s/functional.json", out);
	if ((rc = hj_write_file(path, root, &err)))
		goto done;
	printf("%s: %zu pairs of group %s on %zu held-out rows\n", path, np, gname, m.n);
done:
	if (rc)
		hus_err_print(&err);
	hj_free(root);
	if (ar)
		h5r_close(ar);
	for (size_t i = 0; saes && i < built; i++)
		fn_sae_release(&saes[i]);
	if (have_model)
		fn_model_release(&m);
	if (have_set)
		acts_release(&set);
	free(saes), free(res), free(sa), free(sb), free(params), free(gbuf);
	return hus_err_status(rc);
}
