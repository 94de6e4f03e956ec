/*
 * decoders.c — loading the decoder of an archived SAE checkpoint (husai.sae_checkpoint v1,
 * docs/decisions.md §10) for analysis: /params/W_dec [d_model, d_sae] (column j = feature j, always; the
 * shape is checked against the d_model and d_sae attributes, never used to guess orientation,
 * docs/formulas.md §5.1/§8.6), the root attributes that say what the SAE is, and the file's sha256.
 * Encoder parameters are loaded only on request (activation agreement).  Also the set of
 * normalised decoders of several checkpoints (decoder_set_load), which the drivers' pair
 * loops (pwmcc_pairs) work on.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

int decoder_load(struct decoder *d, const char *path, int with_encoder, struct hus_err *err)
{
	/* formats/artifact_sae.c is the checkpoint's one reader (shapes, finiteness) */
	struct sae_file m;
	int rc = sae_file_read(path, SAE_READ_DECODER | (with_encoder ? SAE_READ_ENCODER : 0), &m,
	                        err);
	if (rc)
		return rc;
	struct decoder o;
	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "%s", path);
	o.seed = m.seed, o.step = m.step, o.k = m.k;
	o.d_model = m.d_model, o.d_sae = m.d_sae;
	memcpy(o.architecture, m.architecture, sizeof(o.architecture));
	memcpy(o.condition, m.condition, sizeof(o.condition));
	memcpy(o.control, m.control, sizeof(o.control));
	memcpy(o.source_format, m.source_format, sizeof(o.source_format));
	o.W_dec = m.W_dec, o.W_enc = m.W_enc, o.b_enc = m.b_enc, o.b_dec = m.b_dec;
	o.threshold = m.threshold;
	m.W_dec = m.W_enc = m.b_enc = m.b_dec = m.threshold = NULL; /* now o's */
	sae_file_release(&m);
	uint64_t bytes;
	if ((rc = hus_sha256_file(path, o.sha256, &bytes, err))) {
		decoder_release(&o);
		return rc;
	}
	*d = o;
	return 0;
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

int decoder_set_load(struct decoder_set *s, const char *const *paths, size_t n,
                     struct hus_err *err)
{
	memset(s, 0, sizeof(*s));
	s->dec = calloc(n ? n : 1, sizeof(*s->dec));
	s->At = calloc(n ? n : 1, sizeof(*s->At));
	s->m = calloc(n ? n : 1, sizeof(*s->m));
	if (!s->dec || !s->At || !s->m) {
		decoder_set_release(s);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %zu decoders", n);
	}
	for (size_t i = 0; i < n; i++) {
		struct decoder *dc = &s->dec[i];
		int rc = decoder_load(dc, paths[i], 0, err);
		if (rc) {
			decoder_set_release(s);
			return rc;
		}
		s->n = i + 1;
		size_t zero;
		if (i && dc->d_model != s->d)
			rc = hus_errf(err, HUS_EINPUT, paths[i], "/params/W_dec",
			              "d_model %zu differs from %zu of '%s'", dc->d_model, s->d, paths[0]);
		else if (!(s->At[i] = malloc(dc->d_model * dc->d_sae * sizeof(float))))
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		else
			rc = pwmcc_normalize(s->At[i], &zero, dc->W_dec, dc->d_model, dc->d_sae, err);
		if (rc) {
			decoder_set_release(s);
			return rc;
		}
		s->d = dc->d_model;
		s->m[i] = dc->d_sae;
	}
	return 0;
}

void decoder_set_release(struct decoder_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		decoder_release(&s->dec[i]);
		free(s->At[i]);
	}
	free(s->dec), free(s->At), free(s->m);
	memset(s, 0, sizeof(*s));
}
