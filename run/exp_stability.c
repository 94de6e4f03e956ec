/*
 * exp_stability.c — the `stability` kind: the seed-stability study on activations the user
 * brings (an activation set from `husai import-activations`, or any other, with or without
 * the modular-addition task columns).  The config must name it (experiment.activations);
 * nothing is trained before the SAEs.  The SAEs of each grid condition (k_values at
 * fixed_d_sae, d_sae_values at fixed_k) are trained over the seeds and analysed exactly as in
 * core_ablations (exp_core.c), so results.json, the CSVs, the figures and the report have the
 * same keys; `experiment` is `stability`.  The set's sha256 is in manifest.json's inputs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "exp_kinds.h"

hj *exp_activation_set_json(const char *path, struct hus_err *err)
{
	struct h5r *h;
	if (h5r_open(&h, path, HUS_FORMAT_ACTIVATIONS, 2, err))
		return NULL;
	enum h5_type t;
	int rank;
	size_t dims[H5_MAX_RANK];
	char sha[65];
	hj *o = NULL;
	if (!h5r_shape(h, "/activations", &t, &rank, dims, err) && rank == 2 &&
	    !hus_sha256_file(path, sha, NULL, err)) {
		o = hj_obj();
		hj_set(o, "path", hj_str(path));
		hj_set(o, "sha256", hj_str(sha));
		hj_set(o, "rows", hj_int((int64_t)dims[0]));
		hj_set(o, "d_model", hj_int((int64_t)dims[1]));
		hj_set(o, "task_columns", hj_bool(h5r_has(h, "/a")));
		static const char *const keys[] = { "model", "hook", "position", "source_file",
						    "source_dataset", "source_dtype", "source_sha256" };
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char *v = NULL;
			if (h5r_has_attr(h, "/", keys[i]) && !h5r_attr_str(h, "/", keys[i], &v, err))
				hj_set(o, keys[i], hj_str(v));
			free(v);
		}
		int64_t layer;
		if (h5r_has_attr(h, "/", "layer") && !h5r_attr_i64(h, "/", "layer", &layer, err))
			hj_set(o, "layer", hj_int(layer));
	} else if (!err->code) {
		hus_errf(err, HUS_EINPUT, path, "/activations", "expected a 2-D matrix");
	}
	h5r_close(h);
	return o;
}

int exp_stability(struct runner *r, struct cfg *c, const struct experiment *ex,
                  struct hus_err *err)
{
	if (!ex->activations || !*ex->activations)
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.activations",
				"the stability kind trains on an activation set you give: set "
				"experiment.activations to one (make it with `husai import-activations "
				"--out acts.h5 X.npy`)");
	if (ex->transformer && *ex->transformer)
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.transformer",
				"the stability kind trains no transformer and extracts nothing: drop "
				"experiment.transformer");
	if (!r->validate_only && !hus_file_exists(ex->activations))
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "experiment.activations",
				"no such activation set '%s'", ex->activations);
	return exp_core_grid(r, c, ex, "stability", err);
}
