/*
 * cmd_plant.c — `husai plant`: write a planted-feature activation set (planted.c,
 * docs/formulas.md §10) from the `plant:` section of a YAML file and/or --set overrides.  The
 * set trains SAEs like any other (`husai train-sae --activations`) and carries its true
 * dictionary and codes for `husai analyze --truth`.  A bad setting is a named error, exit 1,
 * and no file is written.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "out", required_argument, NULL, 'o' },
		{ "set", required_argument, NULL, 's' },
		{ 0, 0, 0, 0 },
	};
	const char *out = NULL, *sets[64];
	size_t nsets = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			hus_print_lines(stdout, plant_usage);
			return 0;
		case 'o':
			out = optarg;
			break;
		case 's':
			if (nsets == 64) {
				fprintf(stderr, "husai: plant: at most 64 --set options\n");
				return 2;
			}
			sets[nsets++] = optarg;
			break;
		default:
			hus_print_lines(stderr, plant_usage);
			return 2;
		}
	}
	if (!out || argc - optind > 1) {
		if (!out)
			fprintf(stderr, "husai: plant: --out is required\n");
		hus_print_lines(stderr, plant_usage);
		return 2;
	}
	struct hus_err err = { 0 };
	struct cfg *cf = NULL;
	struct planted_spec s;
	char hash[65], *resolved = NULL;
	int rc = optind < argc ? cfg_load(&cf, argv[optind], &err) : 0;
	if (!rc && !cf && !(cf = cfg_empty("(command line)")))
		rc = hus_errf(&err, HUS_ENOMEM, NULL, NULL, "out of memory");
	for (size_t i = 0; !rc && i < nsets; i++)
		rc = cfg_set(cf, sets[i], &err);
	if (!rc)
		rc = planted_spec_read(cf, &s, &err);
	if (!rc) { /* a run's job config also holds its other sections: only plant: is ours */
		static const char *const others[] = { "experiment", "data", "transformer", "extract",
						      "sae", "analysis", "report", NULL };
		free(cfg_sections_yaml(cf, others));
		rc = cfg_finish(cf, &err);
	}
	if (!rc) {
		static const char *const secs[] = { "plant", NULL };
		struct cfg *pc = NULL;
		char *text = cfg_sections_yaml(cf, secs);
		/* the artifact's config: the plant section alone, so its hash is the set's identity */
		rc = text ? cfg_load_string(&pc, text, cfg_name(cf), &err)
			  : hus_errf(&err, HUS_ENOMEM, NULL, NULL, "out of memory");
		free(text);
		struct planted_spec again;
		if (!rc)
			rc = planted_spec_read(pc, &again, &err);
		if (!rc) {
			resolved = cfg_resolved_yaml(pc);
			cfg_hash(pc, hash);
		}
		if (pc)
			cfg_free(pc);
	}
	if (!rc) {
		struct hus_provenance prov = { resolved ? resolved : "", hash };
		rc = planted_generate(out, &s, &prov, &err);
	}
	if (!rc)
		printf("%s: %lld rows x %lld, %lld planted features\n", out, (long long)s.rows,
		       (long long)s.d, (long long)s.n);
	if (rc)
		hus_err_print(&err);
	free(resolved);
	if (cf)
		cfg_free(cf);
	return hus_err_status(rc);
}
