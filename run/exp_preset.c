/*
 * exp_preset.c — the phase-4a presets of docs/formulas.md A2 (§6.2) as config settings.  `legacy` is
 * upstream's train_simple_sae.py recipe behind Run 12 (docs/formulas.md §4.7 c): extraction of the train
 * rows only (fraction 0.9, seed 42, layer 1 resid_post at the answer position, §1.4), then
 * signed TopK (topk_upstream) with the §4.5 "aux" term (coefficient 1/k, the default), d_sae
 * 1024, k 32, 20 epochs at batch 256 without drop_last (45 steps an epoch, 900 Adam steps),
 * lr 3e-4.  A preset fills every key the config leaves out and labels the stage sections
 * (extract.preset, sae.preset) so every artifact's config says which preset made it; a key
 * the config sets to another value wins, is warned about on stderr, and is listed in
 * results.json as a deviation.  `run29` and `husai` are the settings their configs spell out
 * (configs/parity/phase4a_run29.yaml, configs/phase4a.yaml); nothing is filled for them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

struct preset_key {
	const char *key;
	char type; /* s string, i integer, f float, b bool */
	const char *value;
};

/* docs/formulas.md §4.7 (c), §6.2 Run 12, §1.4 */
static const struct preset_key legacy_keys[] = {
	{ "extract.rows", 's', "train" },
	{ "extract.split_fraction", 'f', "0.9" },
	{ "extract.split_seed", 'i', "42" },
	{ "extract.layer", 'i', "1" },
	{ "extract.hook", 's', "resid_post" },
	{ "extract.position", 's', "answer" },
	{ "sae.architecture", 's', "topk_upstream" },
	{ "sae.upstream_aux", 'b', "true" },
	{ "sae.d_sae", 'i', "1024" },
	{ "sae.k", 'i', "32" },
	{ "sae.lr", 'f', "3e-4" },
	{ "sae.batch_size", 'i', "256" },
	{ "sae.epochs", 'i', "20" },
	{ "sae.drop_last", 'b', "false" },
	{ NULL, 0, NULL },
};

const char *const exp_preset_names[] = { "husai", "run29", "legacy", NULL };

/* 1 if the config's value of p->key equals the preset's; *given receives it as text */
static int same_value(struct cfg *c, const struct preset_key *p, char *given, size_t n,
                      struct hus_err *err, int *rc)
{
	switch (p->type) {
	case 's': {
		const char *v;
		if ((*rc = cfg_str(c, p->key, NULL, NULL, &v, err)))
			return 0;
		snprintf(given, n, "%s", v);
		return !strcmp(v, p->value);
	}
	case 'i': {
		int64_t v;
		if ((*rc = cfg_int(c, p->key, 0, INT64_MIN, INT64_MAX, &v, err)))
			return 0;
		snprintf(given, n, "%lld", (long long)v);
		return v == strtoll(p->value, NULL, 10);
	}
	case 'f': {
		double v, want = strtod(p->value, NULL);
		if ((*rc = cfg_f64(c, p->key, 0, &v, err)))
			return 0;
		snprintf(given, n, "%.17g", v);
		return fabs(v - want) <= 1e-12 * fabs(want);
	}
	default: {
		int v;
		if ((*rc = cfg_bool(c, p->key, 0, &v, err)))
			return 0;
		snprintf(given, n, "%s", v ? "true" : "false");
		return v == !strcmp(p->value, "true");
	}
	}
}

int exp_preset_apply(struct cfg *c, const char *preset, hj **deviations, struct hus_err *err)
{
	*deviations = hj_arr();
	if (strcmp(preset, "legacy"))
		return 0;
	int rc = 0;
	char buf[256], given[128], where[300];
	for (const struct preset_key *p = legacy_keys; p->key && !rc; p++) {
		if (!cfg_has(c, p->key)) {
			snprintf(buf, sizeof(buf), "%s=%s", p->key, p->value);
			rc = cfg_set(c, buf, err);
			continue;
		}
		if (same_value(c, p, given, sizeof(given), err, &rc) || rc)
			continue;
		cfg_where(c, p->key, where, sizeof(where));
		fprintf(stderr, "husai: warning: %s:%s: '%s' is %s, preset legacy has %s (kept; listed in "
			"results.json preset_deviations)\n", cfg_name(c), where, p->key, given, p->value);
		hj *d = hj_obj();
		hj_set(d, "key", hj_str(p->key));
		hj_set(d, "value", hj_str(given));
		hj_set(d, "preset_value", hj_str(p->value));
		hj_set(d, "where", hj_str(where));
		hj_push(*deviations, d);
	}
	/* the label every artifact's config carries */
	static const char *const labels[] = { "extract.preset", "sae.preset", NULL };
	for (int i = 0; labels[i] && !rc; i++) {
		const char *v;
		if (!cfg_has(c, labels[i])) {
			snprintf(buf, sizeof(buf), "%s=legacy", labels[i]);
			rc = cfg_set(c, buf, err);
		} else if (!(rc = cfg_str(c, labels[i], NULL, NULL, &v, err)) && strcmp(v, "legacy")) {
			cfg_where(c, labels[i], where, sizeof(where));
			rc = hus_errf(err, HUS_EINPUT, cfg_name(c), where,
				      "'%s' is '%s' but experiment.preset is 'legacy'", labels[i], v);
		}
	}
	/* the keys set here belong to stage sections, which their verbs validate (as
	 * experiment_read hands them out): mark them used even when no stage reads them, e.g.
	 * extract.* with experiment.activations given */
	static const char *const secs[] = { "extract", "sae", NULL };
	if (!rc)
		free(cfg_sections_yaml(c, secs));
	return rc;
}

hj *exp_preset_settings(const char *preset)
{
	hj *o = hj_obj();
	if (strcmp(preset, "legacy"))
		return o;
	for (const struct preset_key *p = legacy_keys; p->key; p++)
		hj_set(o, p->key, hj_str(p->value));
	return o;
}

int exp_preset_check_acts(const char *preset, const char *path, struct hus_err *err)
{
	if (strcmp(preset, "legacy"))
		return 0;
	struct h5r *h;
	int rc = h5r_open(&h, path, HUS_FORMAT_ACTIVATIONS, 2, err);
	if (rc)
		return rc;
	char *rows = NULL;
	if (!h5r_has(h, "/a"))
		rc = hus_errf(err, HUS_EINPUT, path, "/a",
			      "preset legacy trains on the modular-addition train rows (docs/formulas.md "
			      "§4.7 c), but this activation set has no task columns (an imported or "
			      "planted set): drop `sae.preset: legacy`, or extract a set with "
			      "`husai extract --rows train --split-fraction 0.9`");
	else if (h5r_has_attr(h, "/", "rows"))
		rc = h5r_attr_str(h, "/", "rows", &rows, err);
	if (!rc && (!rows || strcmp(rows, "train")))
		rc = hus_errf(err, HUS_EINPUT, path, "rows",
			      "preset legacy trains on the train rows only (docs/formulas.md §4.7 c): expected an "
			      "activation set with rows train, found %s (extract one with "
			      "`husai extract --rows train --split-fraction 0.9`)",
			      rows ? rows : "all (no rows attribute)");
	free(rows);
	h5r_close(h);
	return rc;
}
