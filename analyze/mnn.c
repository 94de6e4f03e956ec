/*
 * mnn.c — mutual nearest neighbours between two decoders (docs/formulas.md §5.4: "count i<->j only if
 * each is the other's argmax", above a threshold).  Works from the maxima and argmaxes that
 * pwmcc_maxes folds in, so it costs nothing beyond the PWMCC pass.
 */
#include <math.h>

#include "analyze.h"

size_t mnn_count(double *frac, const float *rowmax, const int32_t *argrow,
                 const int32_t *argcol, size_t m_A, size_t m_B, double thr)
{
	size_t count = 0;
	for (size_t i = 0; i < m_A; i++) {
		int32_t j = argrow[i];
		if (j < 0 || (size_t)j >= m_B)
			continue;
		if (argcol[j] == (int32_t)i && rowmax[i] > thr)
			count++;
	}
	size_t mn = m_A < m_B ? m_A : m_B;
	if (frac)
		*frac = mn ? (double)count / (double)mn : NAN;
	return count;
}
