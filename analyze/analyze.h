/*
 * analyze.h — the public face of analyze/: stability metrics between SAE decoders (PWMCC,
 * Hungarian matching, mutual nearest neighbours, subspace overlap, per-feature stability),
 * random controls (R1 Gaussian, R2 untrained SAE, the analytic null) and statistics on GSL.
 * Reads only archived HDF5 artifacts through formats/.
 */
#ifndef HUSAI_ANALYZE_H
#define HUSAI_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "formats.h"

#endif
