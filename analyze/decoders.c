/*
 * decoders.c — loading the decoder of an archived SAE checkpoint (husai.sae_checkpoint v1,
 * docs/decisions.md §10) for analysis: /params/W_dec [d_model, d_sae] (column j = feature j, always; the
 * shape is checked against the d_model and d_sae attributes, never used to guess orientation,
 * docs/formulas.md §5.1/§8.6), the root attributes that say what the SAE is, and the file's sha256.
 * Encoder parameters are loaded only on request (activation agreement).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

static int attr_str_opt(struct h5r *r, const char *name, char *out, size_t n,
                        struct hus_err *err)
{
	out[0] = 0;
	if (!h5r_has_attr(r, "/", name))
		return 0;
	char *v = NULL;
	int rc = h5r_attr_str(r, "/", name, &v, err);
	if (rc)
		return rc;
	snprintf(out, n, "%s", v);
	free(v);
	return 0;
}

int decoder_load(struct decoder *d, const char *path, int with_encoder, struct hus_err *err)
{
	struct decoder o;
	memset(&o, 0, sizeof(o));
	struct h5r *r = NULL;
	int64_t dm = 0, ds = 0;
	int rc = h5r_open(&r, path, SAE_CKPT_FORMAT, 1, err);
	if (rc)
		return rc;
	snprintf(o.path, sizeof(o.path), "%s", path);
	if ((rc = h5r_attr_i64(r, "/", "seed", &o.seed, err)) ||
	    (rc = h5r_attr_i64(r, "/", "d_model", &dm, err)) ||
	    (rc = h5r_attr_i64(r, "/", "d_sae", &ds, err)))
		goto fail;
	if (dm <= 0 || ds <= 0 || dm > (1 << 24) || ds > (1 << 26)) {
		rc = hus_errf(err, HUS_EINPUT, path, "/", "expected positive d_model, d_sae, got %lld, %lld",
		              (long long)dm, (long long)ds);
		goto fail;
	}
	o.d_model = (size_t)dm;
	o.d_sae = (size_t)ds;
	o.k = -1;
	o.step = -1;
	if (h5r_has_attr(r, "/", "k") && (rc = h5r_attr_i64(r, "/", "k", &o.k, err)))
		goto fail;
	if (h5r_has_attr(r, "/", "step") && (rc = h5r_attr_i64(r, "/", "step", &o.step, err)))
		goto fail;
	if ((rc = attr_str_opt(r, "architecture", o.architecture, sizeof(o.architecture), err)) ||
	    (rc = attr_str_opt(r, "condition", o.condition, sizeof(o.condition), err)) ||
	    (rc = attr_str_opt(r, "control", o.control, sizeof(o.control), err)) ||
	    (rc = attr_str_opt(r, "source_format", o.source_format, sizeof(o.source_format), err)))
		goto fail;
	size_t dims[2] = { o.d_model, o.d_sae };
	if ((rc = h5r_read_alloc(r, "/params/W_dec", HUS_F32, (void **)&o.W_dec, 2, dims, err)))
		goto fail;
	for (size_t e = 0; e < o.d_model * o.d_sae; e++)
		if (!isfinite(o.W_dec[e])) {
			rc = hus_errf(err, HUS_EINPUT, path, "/params/W_dec",
			              "entry [%zu, %zu] (feature %zu) is not finite", e / o.d_sae,
			              e % o.d_sae, e % o.d_sae);
			goto fail;
		}
	if (with_encoder) {
		size_t de[2] = { o.d_sae, o.d_model }, db[1] = { o.d_sae }, dd[1] = { o.d_model };
		if ((rc = h5r_read_alloc(r, "/params/W_enc", HUS_F32, (void **)&o.W_enc, 2, de, err)) ||
		    (rc = h5r_read_alloc(r, "/params/b_enc", HUS_F32, (void **)&o.b_enc, 1, db, err)))
			goto fail;
		if (h5r_has(r, "/params/b_dec") &&
		    (rc = h5r_read_alloc(r, "/params/b_dec", HUS_F32, (void **)&o.b_dec, 1, dd, err)))
			goto fail;
		if (h5r_has(r, "/params/threshold") &&
		    (rc = h5r_read_alloc(r, "/params/threshold", HUS_F32, (void **)&o.threshold, 1, db,
		                         err)))
			goto fail;
		const struct { const char *name; const float *x; size_t n; } enc[] = {
			{ "/params/W_enc", o.W_enc, o.d_sae * o.d_model },
			{ "/params/b_enc", o.b_enc, o.d_sae },
			{ "/params/b_dec", o.b_dec, o.b_dec ? o.d_model : 0 },
			{ "/params/threshold", o.threshold, o.threshold ? o.d_sae : 0 },
		};
		for (size_t t = 0; t < sizeof(enc) / sizeof(enc[0]); t++)
			for (size_t e = 0; e < enc[t].n; e++)
				if (!isfinite(enc[t].x[e])) {
					rc = hus_errf(err, HUS_EINPUT, path, enc[t].name,
						      "entry %zu is not finite (a diverged SAE?)", e);
					goto fail;
				}
	}
	h5r_close(r);
	r = NULL;
	uint64_t bytes;
	if ((rc = hus_sha256_file(path, o.sha256, &bytes, err)))
		goto fail;
	*d = o;
	return 0;
fail:
	h5r_close(r);
	decoder_release(&o);
	return rc;
}

void decoder_release(struct decoder *d)
{
	free(d->W_dec);
	free(d->W_enc);
	free(d->b_enc);
	free(d->b_dec);
	free(d->threshold);
	d->W_dec = d->W_enc = d->b_enc = d->b_dec = d->threshold = NULL;
}
