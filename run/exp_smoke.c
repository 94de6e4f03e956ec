/*
 * exp_smoke.c — the smoke experiment (docs/formulas.md §6.1, `make smoke` of the C port): a short
 * transformer run, extraction, one SAE, then checks that every artifact exists and has the
 * shapes the config implies (upstream only checked that the files existed).  results.json
 * lists each check with its evidence; a failed check fails the run.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp_kinds.h"

static void check(hj *list, const char *name, int pass, const char *evidence, int *all)
{
	hj *o = hj_obj();
	hj_set(o, "check", hj_str(name));
	hj_set(o, "pass", hj_bool(pass));
	hj_set(o, "evidence", hj_str(evidence));
	hj_push(list, o);
	*all &= pass;
}

static int dataset_shape(const char *path, const char *format, const char *dset, size_t *dims,
                         int *rank, struct hus_err *err)
{
	struct h5r *h;
	int rc = h5r_open(&h, path, format, 0, err);
	if (rc)
		return rc;
	enum h5_type t;
	rc = h5r_shape(h, dset, &t, rank, dims, err);
	h5r_close(h);
	return rc;
}

int exp_smoke(struct runner *r, struct cfg *c, const struct experiment *ex, struct hus_err *err)
{
	int64_t seed, p, d_model, d_sae;
	int rc;
	if ((rc = cfg_int(c, "experiment.seed", 42, 0, INT64_MAX, &seed, err)) ||
	    (rc = cfg_int(c, "experiment.expect.p", 113, 2, 1 << 16, &p, err)) ||
	    (rc = cfg_int(c, "experiment.expect.d_model", 128, 1, 1 << 20, &d_model, err)) ||
	    (rc = cfg_int(c, "experiment.expect.d_sae", 1024, 1, 1 << 26, &d_sae, err)))
		return rc;
	char acts[PATH_MAX], out[128];
	run_sae_path(out, sizeof(out), NULL, "smoke", seed, NULL);
	const char *outs[] = { out, NULL };
	if ((rc = exp_activations(r, c, ex, acts, sizeof(acts), err)) ||
	    (rc = exp_train_saes(r, c, "sae", acts, &(const struct exp_cond){ "smoke", { { 0 } }, 0 }, &seed, 1, outs, err)))
		return rc;
	if (r->dry_run || r->validate_only || !runner_writes(r))
		return 0; /* the checks and results.json: rank 0 */
	hj *res = hj_obj(), *checks = hj_arr();
	int all = 1;
	char ev[256], path[PATH_MAX + 128];
	size_t dims[H5_MAX_RANK];
	int rank;
	if (!ex->activations || !*ex->activations) {
		run_path(path, sizeof(path), r->run_dir, RUN_TRANSFORMER_FINAL);
		int ok = !dataset_shape(path, HUS_FORMAT_TRANSFORMER, "/params/embed.W_E", dims,
					&rank, err) &&
			 rank == 2 && dims[0] == (size_t)p + 4 && dims[1] == (size_t)d_model;
		snprintf(ev, sizeof(ev), "transformer/transformer_final.h5 /params/embed.W_E %s [%zu, %zu]",
			 ok ? "is" : "is not", (size_t)p + 4, (size_t)d_model);
		check(checks, "transformer_checkpoint", ok, ev, &all);
	}
	struct acts_rows *ar = NULL;
	int ok = !acts_rows_open(&ar, acts, &dims[0], &dims[1], err) &&
		 dims[0] == (size_t)(p * p) && dims[1] == (size_t)d_model;
	acts_rows_close(ar);
	snprintf(ev, sizeof(ev), "/activations %s [%" PRId64 ", %" PRId64 "]", ok ? "is" : "is not",
		 p * p, d_model);
	check(checks, "activation_set", ok, ev, &all);
	run_path(path, sizeof(path), r->run_dir, out);
	{
		/* the checkpoint's reader checks /params/W_dec against its d_model, d_sae */
		struct sae_file m;
		int read = !sae_file_read(path, SAE_READ_DECODER, &m, err);
		ok = read && m.d_model == (size_t)d_model && m.d_sae == (size_t)d_sae;
		if (read)
			sae_file_release(&m);
	}
	snprintf(ev, sizeof(ev), "%s /params/W_dec %s [%" PRId64 ", %" PRId64 "]", out,
		 ok ? "is" : "is not", d_model, d_sae);
	check(checks, "sae_checkpoint", ok, ev, &all);
	/* a diverged SAE has the right shapes: its parameters must also be finite (the reader
	 * refuses a non-finite one, naming the dataset and the element) */
	struct sae_ckpt ck;
	struct hus_err e2 = { 0 };
	ok = !sae_ckpt_read(path, &ck, &e2);
	if (ok)
		sae_ckpt_release(&ck);
	char ev2[1400];
	snprintf(ev2, sizeof(ev2), "%s %s%s%s%s", out,
		 ok ? "reads back with every parameter finite" : "is refused: ", ok ? "" : e2.where,
		 ok || !e2.where[0] ? "" : ": ", ok ? "" : e2.msg);
	check(checks, "sae_checkpoint_finite", ok, ev2, &all);
	hj_set(res, RJK_EXPERIMENT, hj_str("smoke"));
	hj_set(res, RJK_RUN_METADATA, exp_run_metadata(r, NULL));
	hj_set(res, "checks", checks);
	hj_set(res, "pass", hj_bool(all));
	run_path(path, sizeof(path), r->run_dir, RUN_RESULTS);
	rc = hj_write_file(path, res, err);
	hj_free(res);
	if (!rc && !all)
		rc = hus_errf(err, HUS_EINPUT, path, "checks", "a smoke check failed; see results.json");
	return rc;
}
