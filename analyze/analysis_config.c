/*
 * analysis_config.c — an analysis request from a YAML listing (the `analysis:` section of an
 * experiment config, or a file of its own), for `husai analyze --config`:
 *
 *   analysis:
 *     out: artifacts/run1/analysis        # output directory (a path: not in the config hash)
 *     groups:                             # condition -> its checkpoints, comma-separated
 *       topk_k32: sae/k32_seed42.h5,sae/k32_seed123.h5,sae/k32_seed456.h5
 *     r2_from:                            # optional step-0 checkpoints per group (R2)
 *       topk_k32: sae/k32_seed42_step0.h5,...
 *     control: both                       # r1 | r2 | both | none
 *     r1_seeds: [1000, 1001, 1002, 1003, 1004]   # default: seed + r1_offset
 *     r1_offset: 100000
 *     bootstrap: 10000
 *     seed_trained: 17
 *     seed_random: 29
 *     seed_r2: 31
 *     seed_level: 41
 *     threshold: 0.5
 *     mnn_threshold: 0.3
 *     subspace_k: 50
 *     hungarian_max: 4096
 *     matchings: true
 *     activations: acts/layer1_answer.h5  # optional: activation-level agreement
 *     act_rows: 1000
 *     pair_jobs: auto                     # `husai run` only: one job per product of two
 *     pair_job_products: 1                # decoders (auto | on | off), or this many per job;
 *                                         # docs/reproducibility.md; read here so the keys are known
 *
 * Unknown keys in the section are errors with file:line:column (cfg_finish).
 */
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

void analysis_spec_release(struct analysis_spec *s)
{
	for (size_t i = 0; i < s->nbuf; i++) {
		free(s->buf[i]);
		free(s->lists[i]);
	}
	free(s->r1_seeds);
	cfg_free(s->c);
	memset(s, 0, sizeof(*s));
}

/* Split "a,b,c" into a malloc'ed copy and a NULL-terminated list kept in s. */
static int split_list(struct analysis_spec *s, const char *text, const char *const **list,
                      size_t *n, const char *key, struct hus_err *err)
{
	if (s->nbuf >= ANALYSIS_SPEC_MAX)
		return hus_errf(err, HUS_EINPUT, cfg_name(s->c), key, "more than %d groups",
		                ANALYSIS_SPEC_MAX / 2);
	char *copy = strdup(text);
	size_t cap = 2;
	for (const char *c = text; *c; c++)
		cap += *c == ',';
	char **l = calloc(cap, sizeof(char *));
	if (!copy || !l) {
		free(copy), free(l);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	size_t k = 0;
	for (char *tok = strtok(copy, ", "); tok; tok = strtok(NULL, ", "))
		l[k++] = tok;
	s->buf[s->nbuf] = copy;
	s->lists[s->nbuf] = l;
	s->nbuf++;
	if (!k)
		return hus_errf(err, HUS_EINPUT, cfg_name(s->c), key,
		                "expected a comma-separated list of checkpoint files");
	*list = (const char *const *)l;
	*n = k;
	return 0;
}

int analysis_spec_load(struct analysis_spec *s, const char *path, struct hus_err *err)
{
	memset(s, 0, sizeof(*s));
	analysis_request_defaults(&s->q);
	int rc = cfg_load(&s->c, path, err);
	if (rc)
		return rc;
	struct cfg *c = s->c;
	char **names = NULL;
	size_t n = 0;
	char key[256];
	if ((rc = cfg_keys(c, "analysis.groups", &names, &n, err)))
		goto fail;
	if (n > ANALYSIS_SPEC_MAX / 2) {
		free(names);
		rc = hus_errf(err, HUS_EINPUT, path, "analysis.groups", "more than %d groups",
		              ANALYSIS_SPEC_MAX / 2);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const char *v;
		snprintf(key, sizeof(key), "analysis.groups.%s", names[i]);
		struct analysis_group *g = &s->groups[i];
		g->name = names[i];
		if ((rc = cfg_path(c, key, NULL, &v, err)) ||
		    (rc = split_list(s, v ? v : "", &g->paths, &g->n, key, err))) {
			free(names);
			goto fail;
		}
	}
	s->q.n_groups = n;
	s->q.groups = s->groups;
	free(names);
	if ((rc = cfg_keys(c, "analysis.r2_from", &names, &n, err)))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		size_t g = 0;
		while (g < s->q.n_groups && strcmp(s->groups[g].name, names[i]))
			g++;
		snprintf(key, sizeof(key), "analysis.r2_from.%s", names[i]);
		if (g == s->q.n_groups) {
			free(names);
			rc = hus_errf(err, HUS_EINPUT, path, key, "no group '%s' in analysis.groups",
			              names[i]);
			goto fail;
		}
		const char *v;
		if ((rc = cfg_path(c, key, NULL, &v, err)) ||
		    (rc = split_list(s, v ? v : "", &s->groups[g].r2_paths, &s->groups[g].n_r2, key,
		                     err))) {
			free(names);
			goto fail;
		}
	}
	free(names);
	/* the config's choices: not a results.json key */
	static const char *const controls[] = { "r1", "r2", "both", "none", NULL };
	const char *ctl, *out;
	int64_t v64;
	double f;
	int b;
	if ((rc = cfg_str(c, "analysis.control", "both", controls, &ctl, err)))
		goto fail;
	/* the config's choices: not a results.json key */
	s->q.r1 = !strcmp(ctl, "r1") || !strcmp(ctl, "both");
	/* the config's choices: not a results.json key */
	s->q.r2 = !strcmp(ctl, "r2") || !strcmp(ctl, "both");
	if (cfg_has(c, "analysis.r1_seeds")) {
		if ((rc = cfg_int_list(c, "analysis.r1_seeds", NULL, 0, &s->r1_seeds, &s->q.n_r1_seeds,
		                       err)))
			goto fail;
		s->q.r1_seeds = s->r1_seeds;
	}
	struct {
		const char *key;
		int64_t *i64;
		size_t *sz;
		uint64_t *u64;
	} ints[] = {
		{ "analysis.r1_offset", &s->q.r1_offset, NULL, NULL },
		{ "analysis.bootstrap", NULL, &s->q.bootstrap_B, NULL },
		{ "analysis.seed_trained", NULL, NULL, &s->q.seed_trained },
		{ "analysis.seed_random", NULL, NULL, &s->q.seed_random },
		{ "analysis.seed_r2", NULL, NULL, &s->q.seed_r2 },
		{ "analysis.seed_level", NULL, NULL, &s->q.seed_level },
		{ "analysis.subspace_k", NULL, &s->q.subspace_k, NULL },
		{ "analysis.hungarian_max", NULL, &s->q.hungarian_max, NULL },
		{ "analysis.act_rows", NULL, &s->q.act_rows, NULL },
	};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		int64_t def = ints[i].i64 ? *ints[i].i64 : ints[i].sz ? (int64_t)*ints[i].sz
		                                                       : (int64_t)*ints[i].u64;
		if ((rc = cfg_int(c, ints[i].key, def, 0, INT64_MAX, &v64, err)))
			goto fail;
		if (ints[i].i64)
			*ints[i].i64 = v64;
		else if (ints[i].sz)
			*ints[i].sz = (size_t)v64;
		else
			*ints[i].u64 = (uint64_t)v64;
	}
	if ((rc = cfg_f64(c, "analysis.threshold", s->q.match_thr, &f, err)))
		goto fail;
	s->q.match_thr = f;
	if ((rc = cfg_f64(c, "analysis.mnn_threshold", s->q.mnn_thr, &f, err)))
		goto fail;
	s->q.mnn_thr = f;
	if ((rc = cfg_bool(c, "analysis.matchings", 1, &b, err)))
		goto fail;
	s->q.write_matchings = b;
	static const char *const pair_jobs[] = { "auto", "on", "off", NULL };
	const char *pj;
	if ((rc = cfg_str(c, "analysis.pair_jobs", "auto", pair_jobs, &pj, err)) ||
	    (rc = cfg_int(c, "analysis.pair_job_products", 1, 1, 1 << 20, &v64, err)))
		goto fail;
	if ((rc = cfg_path(c, "analysis.out", NULL, &out, err)))
		goto fail;
	if ((rc = cfg_path(c, "analysis.activations", NULL, &s->q.activations, err)))
		goto fail;
	s->q.out_dir = out;
	if ((rc = cfg_finish(c, err)))
		goto fail;
	return 0;
fail:
	analysis_spec_release(s);
	return rc;
}
