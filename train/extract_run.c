/*
 * extract_run.c — the work of `husai extract` (struct extract_request in train.h; the verb,
 * cmd_extract.c, only parses the command line): read a transformer checkpoint and write one activation
 * set (hook, layer, position) in the upstream row order (docs/formulas.md §3), with the checkpoint's
 * sha256 and every choice recorded.  Bad input (another format, a layer out of range, an
 * unknown hook or position) is a named error, exit 1, and no file is written.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

static const char *const rows_choices[] = { "all", "train", NULL };
/* the phase-4a preset (docs/formulas.md A2) a run's job config names: recorded, not acted on */
static const char *const presets[] = { "husai", "run29", "legacy", NULL };

/* The choices the command line left unset, from a job config's `extract:` section. */
struct choices {
	const char *hook, *position, *rows, *preset;
	long long layer, seed, batch;
	double fraction;
	char hook_buf[32], pos_buf[32], rows_buf[8], preset_buf[16];
};

static int read_job_config(struct choices *x, const char *config, struct hus_err *err)
{
	/* job config: `extract:` keys fill what the command line left unset */
	struct cfg *jc = NULL;
	const char *sv;
	int64_t iv;
	double fv;
	int rc;
	if ((rc = cfg_load(&jc, config, err)))
		return rc;
	if (!(rc = cfg_str(jc, "extract.hook", "resid_post", NULL, &sv, err)) && !x->hook)
		x->hook = strncpy(x->hook_buf, sv, sizeof(x->hook_buf) - 1);
	if (!rc && !(rc = cfg_str(jc, "extract.position", "answer", NULL, &sv, err)) && !x->position)
		x->position = strncpy(x->pos_buf, sv, sizeof(x->pos_buf) - 1);
	if (!rc && !(rc = cfg_int(jc, "extract.layer", -1, -1, 1 << 20, &iv, err)) && x->layer == -2)
		x->layer = iv;
	if (!rc && !(rc = cfg_int(jc, "extract.split_seed", 42, 0, INT64_MAX, &iv, err)) && x->seed < 0)
		x->seed = iv;
	if (!rc && !(rc = cfg_f64(jc, "extract.split_fraction", 0.8, &fv, err)) && isnan(x->fraction))
		x->fraction = fv;
	if (!rc && !(rc = cfg_str(jc, "extract.rows", "all", rows_choices, &sv, err)) && !x->rows)
		x->rows = strncpy(x->rows_buf, sv, sizeof(x->rows_buf) - 1);
	if (!rc && cfg_has(jc, "extract.preset") &&
	    !(rc = cfg_str(jc, "extract.preset", NULL, presets, &sv, err)))
		x->preset = strncpy(x->preset_buf, sv, sizeof(x->preset_buf) - 1);
	if (!rc && !(rc = cfg_int(jc, "extract.batch_size", 256, 1, 1 << 24, &iv, err)) && !x->batch)
		x->batch = iv;
	if (!rc)
		rc = cfg_finish(jc, err);
	cfg_free(jc);
	return rc;
}

/* The recorded config: the transformer's, plus the extraction choices, hashed with the
 * checkpoint's sha256; *resolved is malloc'ed. */
static int record_config(struct cfg **cf, const char *yaml, const char *ckpt,
                         const struct choices *x, const struct tf_extract_opts *o,
                         char **resolved, char hash[65], struct hus_err *err)
{
	struct tf_config dummy;
	const char *sv;
	int64_t iv;
	double fv;
	char buf[128];
	int rc;
	if ((rc = cfg_load_string(cf, yaml, ckpt, err)) || (rc = tf_config_read(*cf, &dummy, err)))
		return rc;
	snprintf(buf, sizeof(buf), "extract.hook=%s", x->hook);
	cfg_set(*cf, buf, err);
	snprintf(buf, sizeof(buf), "extract.layer=%lld", (long long)o->layer);
	cfg_set(*cf, buf, err);
	snprintf(buf, sizeof(buf), "extract.position=%s", x->position);
	cfg_set(*cf, buf, err);
	snprintf(buf, sizeof(buf), "extract.split_seed=%lld", x->seed);
	cfg_set(*cf, buf, err);
	snprintf(buf, sizeof(buf), "extract.split_fraction=%.17g", x->fraction);
	cfg_set(*cf, buf, err);
	if (o->train_rows) /* recorded only when not the default, so older hashes stay valid */
		cfg_set(*cf, "extract.rows=train", err);
	if (x->preset) {
		snprintf(buf, sizeof(buf), "extract.preset=%s", x->preset);
		cfg_set(*cf, buf, err);
	}
	if ((rc = cfg_str(*cf, "extract.hook", NULL, NULL, &sv, err)) ||
	    (rc = cfg_int(*cf, "extract.layer", 0, 0, INT64_MAX, &iv, err)) ||
	    (rc = cfg_str(*cf, "extract.position", NULL, NULL, &sv, err)) ||
	    (rc = cfg_int(*cf, "extract.split_seed", 0, 0, INT64_MAX, &iv, err)) ||
	    (rc = cfg_f64(*cf, "extract.split_fraction", 0.8, &fv, err)) ||
	    (o->train_rows && (rc = cfg_str(*cf, "extract.rows", NULL, rows_choices, &sv, err))) ||
	    (x->preset && (rc = cfg_str(*cf, "extract.preset", NULL, presets, &sv, err))) ||
	    (rc = cfg_add_input(*cf, "transformer", ckpt, err)))
		return rc;
	*resolved = cfg_resolved_yaml(*cf);
	cfg_hash(*cf, hash);
	return 0;
}

int tf_extract_run(const struct extract_request *q, struct hus_err *err)
{
	const char *ckpt = q->checkpoint, *out = q->out;
	struct choices x = { q->hook, q->position, q->rows, NULL, q->layer, q->split_seed,
	                     q->batch_size, q->split_fraction, "", "", "", "" };
	struct tf_config cfg;
	struct tf_extract_opts o = { 0 };
	struct acts_set s;
	float *params = NULL;
	char *yaml = NULL, *resolved = NULL, hash[65], sha[65];
	struct cfg *cf = NULL;
	uint64_t bytes;
	int have_set = 0, rc = 0;
	if (q->config && (rc = read_job_config(&x, q->config, err)))
		goto cleanup;
	if (!x.hook)
		x.hook = "resid_post";
	if (!x.position)
		x.position = "answer";
	if (x.layer == -2)
		x.layer = -1;
	if (x.seed < 0)
		x.seed = 42;
	if (isnan(x.fraction))
		x.fraction = 0.8;
	if (!x.batch)
		x.batch = 256;
	if (!x.rows)
		x.rows = "all";
	if ((rc = tf_hook_parse(x.hook, &o.hook, err)))
		goto cleanup;
	if ((rc = hus_sha256_file(ckpt, sha, &bytes, err)) ||
	    (rc = tf_ckpt_load_params(ckpt, &cfg, &params, err)) ||
	    (rc = tf_ckpt_config(ckpt, &cfg, &yaml, err)))
		goto cleanup;
	o.layer = x.layer < 0 ? cfg.n_layers - 1 : x.layer;
	o.position = x.position;
	o.split_seed = x.seed;
	o.split_fraction = x.fraction;
	o.batch_size = (size_t)x.batch;
	o.train_rows = !strcmp(x.rows, "train");
	if ((rc = tf_extract(&s, &cfg, params, &o, err)))
		goto cleanup;
	have_set = 1;
	snprintf(s.transformer_sha256, sizeof(s.transformer_sha256), "%s", sha);
	if ((rc = record_config(&cf, yaml, ckpt, &x, &o, &resolved, hash, err)))
		goto cleanup;
	struct hus_provenance prov = { resolved ? resolved : "", hash };
	if ((rc = acts_write(out, &s, &prov, err)))
		goto cleanup;
	printf("%s: %zu rows x %zu (%s, layer %lld, position %s, answer at %s, rows %s)\n", out, s.N,
	       s.d, s.hook, (long long)s.layer, s.position, s.answer_position, s.rows);
cleanup:
	if (have_set)
		acts_release(&s);
	if (cf)
		cfg_free(cf);
	free(params);
	free(yaml);
	free(resolved);
	return rc;
}
