/*
 * train.h — the public face of train/: the modular-addition dataset, tensor kernels, the
 * transformer (forward, backward, AdamW, training with checkpoints), activation extraction,
 * and the SAE family with its multi-seed trainer.  All I/O goes through formats/.
 *
 * This is an umbrella: each concept has its own header in this folder, included below in
 * order; users include train.h.
 */
#ifndef HUSAI_TRAIN_H
#define HUSAI_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "formats.h"

#include "adam.h" /* Adam(W), shared (adam.c) */
#include "transformer.h" /* dataset, transformer, extraction */
#include "sae.h" /* the SAE family and trainer (sae_*.c) */
#include "functional.h" /* functional consistency (functional.c) */
#include "planted.h" /* planted-feature sets (planted.c) */

#endif
