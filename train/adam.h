/*
 * adam.h — the Adam(W) step shared by the transformer and the SAEs (train/adam.c).
 * It is part of train.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_TRAIN_ADAM_H
#define HUSAI_TRAIN_ADAM_H

#include <stddef.h>
#include <stdint.h>

/* ---- optimizer (train/adam.c), shared by the transformer and the SAEs ---- */

struct adam_hparams {
	double lr;           /* learning rate for this step (after any warm-up) */
	double beta1, beta2; /* torch defaults 0.9, 0.999 */
	double eps;          /* 1e-8 */
	double weight_decay; /* AdamW decoupled decay; 0 = plain Adam */
};
/* One Adam(W) step on a flat block of n parameters, torch semantics (docs/formulas.md §2.4):
 * p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).  `step` counts from 1. */
void adam_step(float *param, float *m, float *v, const float *grad, size_t n,
               const struct adam_hparams *h, int64_t step);

#endif
