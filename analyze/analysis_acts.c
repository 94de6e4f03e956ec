/*
 * analysis_acts.c — activation-level agreement inside the analysis (docs/formulas.md §5.4, upstream
 * alternative_stability_metrics.py): the first rows of an archived activation set
 * (husai.activation_set, /activations [N, d_model]) are encoded by every checkpoint of a group
 * with its own architecture (activation_agreement.c), and each seed pair gets |Pearson r| of
 * the latent matrices and the mean top-k Jaccard.  The rows come from the activation set's
 * reader in formats/ (acts_head_read).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

int act_pairs(double *pearson, double *jaccard, const char *const *paths, size_t n,
              const float *X, size_t N, size_t d_model, size_t k_default, struct hus_err *err)
{
	struct decoder *dec = calloc(n ? n : 1, sizeof(struct decoder));
	float **z = calloc(n ? n : 1, sizeof(float *));
	size_t *kk = calloc(n ? n : 1, sizeof(size_t));
	int rc = 0;
	if (!dec || !z || !kk) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for latents");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = decoder_load(&dec[i], paths[i], 1, err)))
			goto cleanup;
		if (dec[i].d_model != d_model) {
			rc = hus_errf(err, HUS_EINPUT, paths[i], "/params/W_enc",
			              "expected d_model %zu like the activation set, got %zu", d_model,
			              dec[i].d_model);
			goto cleanup;
		}
		int arch = latent_arch_parse(dec[i].architecture);
		if (arch < 0) {
			rc = hus_errf(err, HUS_EINPUT, paths[i], "/architecture",
			              "unknown architecture '%s' (expected topk, topk_upstream, relu, jumprelu, batchtopk or matryoshka)",
			              dec[i].architecture);
			goto cleanup;
		}
		kk[i] = dec[i].k > 0 ? (size_t)dec[i].k : k_default;
		if (kk[i] > dec[i].d_sae)
			kk[i] = dec[i].d_sae; /* upstream clamps k to d_sae */
		struct sae_encoder e = { (enum latent_arch)arch, d_model, dec[i].d_sae, kk[i],
			                 dec[i].W_enc, dec[i].b_enc, dec[i].b_dec, dec[i].threshold };
		z[i] = malloc(sizeof(float) * N * dec[i].d_sae);
		if (!z[i]) {
			rc = hus_errf(err, HUS_ENOMEM, paths[i], NULL, "out of memory for %zu x %zu latents",
			              N, dec[i].d_sae);
			goto cleanup;
		}
		if ((rc = sae_latents(z[i], &e, X, N, err))) {
			snprintf(err->file, sizeof(err->file), "%s", paths[i]);
			goto cleanup;
		}
	}
	size_t p = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++, p++) {
			pearson[p] = jaccard[p] = NAN;
			if (dec[i].d_sae != dec[j].d_sae)
				continue; /* latent matrices of different widths: undefined */
			struct act_agreement ag;
			size_t k = kk[i] < kk[j] ? kk[i] : kk[j];
			if ((rc = act_agreement(&ag, z[i], z[j], N, dec[i].d_sae, k, err)))
				goto cleanup;
			pearson[p] = ag.abs_pearson;
			jaccard[p] = ag.jaccard;
		}
cleanup:
	for (size_t i = 0; dec && i < n; i++) {
		decoder_release(&dec[i]);
		if (z)
			free(z[i]);
	}
	free(dec), free(z), free(kk);
	return rc;
}
