/*
 * per_feature.c — per-feature stability (docs/formulas.md §5.4, upstream proper_causal_ablation.py): for
 * model i and feature f, the mean over the other models j of max_g |cos(d_if, d_jg)|.  It is
 * one-directional per model and reuses each pair's row/column maxima from pwmcc_maxes: the
 * row maxima of pair (i, j) are model i's best matches in j, the column maxima model j's in i.
 */
#include "analyze.h"

void per_feature_accumulate(double *acc_a, double *acc_b, const float *rowmax,
                            const float *colmax, size_t m_A, size_t m_B)
{
	for (size_t f = 0; f < m_A; f++)
		acc_a[f] += rowmax[f];
	for (size_t g = 0; g < m_B; g++)
		acc_b[g] += colmax[g];
}

void per_feature_finish(float *stability, const double *acc, size_t m, size_t n_models)
{
	double others = n_models > 1 ? (double)(n_models - 1) : 1.0;
	for (size_t f = 0; f < m; f++)
		stability[f] = (float)(acc[f] / others);
}
