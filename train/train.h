/*
 * train.h — the public face of train/: the modular-addition dataset, tensor kernels, the
 * transformer (forward, backward, AdamW, training with checkpoints), activation extraction,
 * and the SAE family with its multi-seed trainer.  All I/O goes through formats/.
 */
#ifndef HUSAI_TRAIN_H
#define HUSAI_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "formats.h"

/* == dataset, transformer, extraction == */

/* == end transformer == */



/* == SAE family and trainer == */

/* == end SAE == */

#endif
