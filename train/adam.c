/*
 * adam.c — Adam/AdamW with torch semantics (docs/formulas.md §2.4, §4.7): decoupled weight decay applied
 * before the moment update, bias correction, eps added to the corrected sqrt(v).  One flat
 * loop over a parameter block; the parameters, gradients and both moments are parallel arrays
 * so a model with one allocation takes one call.  Elementwise, so thread count never changes
 * a bit of the result.
 */
#include <math.h>

#include "train.h"

void adam_step(float *param, float *m, float *v, const float *grad, size_t n,
               const struct adam_hparams *h, int64_t step)
{
	/* torch: bias_correction1 = 1 - beta1^t; step_size = lr / bias_correction1;
	 * denom = sqrt(v) / sqrt(bias_correction2) + eps; p -= step_size * m / denom */
	const double bc1 = 1.0 - hus_powi(h->beta1, step); /* husai's own power (numeric/) */
	const double bc2 = 1.0 - hus_powi(h->beta2, step);
	const float step_size = (float)(h->lr / bc1);
	const float bc2_sqrt = (float)sqrt(bc2);
	const float beta1 = (float)h->beta1, beta2 = (float)h->beta2, eps = (float)h->eps;
	const float decay = (float)(1.0 - h->lr * h->weight_decay);
	const int decay_on = h->weight_decay != 0.0;
#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		float g = grad[i];
		if (decay_on)
			param[i] *= decay;
		m[i] = beta1 * m[i] + (1.0f - beta1) * g;
		v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
		float denom = sqrtf(v[i]) / bc2_sqrt + eps;
		param[i] -= step_size * m[i] / denom;
	}
}
