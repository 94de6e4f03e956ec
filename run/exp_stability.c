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
