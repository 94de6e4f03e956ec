/*
 * controls.c — the sampled random controls of docs/formulas.md §5.3 (docs/decisions.md §3 "random control"):
 *  R1: torch.randn((d_model, d_sae)) from a CPU generator seeded with s, bit-compatible with
 *      torch through numeric/torch_rng.c (to 4.8e-7 abs, tests/fixtures/torch-rng-vectors.json);
 *  R2: the untrained TopKSAE decoder of docs/formulas.md §4.2, W_dec ~ U(−√(6/d_sae), +√(6/d_sae)) then
 *      unit columns.  RNG: MT19937 seeded with s (formats mt_*), torch's float uniform rule
 *      u = (next32 & 0xFFFFFF)·2⁻²⁴, w = lo + u·(hi − lo), drawn in row-major order of W_dec.
 *      This has torch's distribution but not its consumption order (upstream draws the
 *      nn.Linear defaults and W_enc first), so it is not bit-identical to upstream's R2; the
 *      exact R2 is the step-0 checkpoint the SAE trainer saves, which analysis prefers.
 * The analytic null lives in null_model.c.
 */
#include <math.h>
#include <stdlib.h>

#include "analyze.h"

int control_r1(float *W, uint64_t seed, size_t d_model, size_t d_sae, struct hus_err *err)
{
	size_t n = d_model * d_sae;
	if (d_sae && n / d_sae != d_model)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "R1 size overflows (%zu x %zu)", d_model, d_sae);
	if (torch_randn_f32(W, n, seed))
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "R1 needs d_model*d_sae >= 16 and a multiple of 16 (got %zu x %zu)",
		                d_model, d_sae);
	return 0;
}

int control_r2(float *W, uint64_t seed, size_t d_model, size_t d_sae, struct hus_err *err)
{
	if (!d_model || !d_sae)
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "R2 needs d_model, d_sae > 0");
	struct mt19937 g;
	mt_seed(&g, (uint32_t)(seed & 0xffffffffu));
	float hi = sqrtf(6.0f / (float)d_sae), lo = -hi;
	for (size_t e = 0; e < d_model * d_sae; e++) {
		float u = (float)(mt_next32(&g) & 0xFFFFFFu) * (1.0f / 16777216.0f);
		W[e] = lo + u * (hi - lo);
	}
	/* F.normalize(W, dim=0): x / max(‖x‖, 1e-12) per column */
	double *nrm = calloc(d_sae, sizeof(double));
	if (!nrm)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for R2 norms");
	for (size_t r = 0; r < d_model; r++)
		for (size_t j = 0; j < d_sae; j++)
			nrm[j] += (double)W[r * d_sae + j] * W[r * d_sae + j];
	for (size_t j = 0; j < d_sae; j++)
		nrm[j] = fmax(sqrt(nrm[j]), 1e-12);
	for (size_t r = 0; r < d_model; r++)
		for (size_t j = 0; j < d_sae; j++)
			W[r * d_sae + j] = (float)(W[r * d_sae + j] / nrm[j]);
	free(nrm);
	return 0;
}
