/*
 * acos.c — husai's arc cosine in double (numeric.h), for the principal angles of the subspace
 * metric (analyze/subspace.c).  glibc's acos has per-CPU variants (an FMA build picked at
 * load time), so its last bit is not a property of the input alone.  Few calls (k per pair),
 * so the method is the plainest that is accurate: the Maclaurin series of asin on [0, ½]
 *     asin(y) = Σ_n c_n y^(2n+1),  c_0 = 1,  c_n = c_(n−1) · (2n−1)² / ((2n)(2n+1)),
 * summed until the terms stop changing the sum (at most ~30 terms since y² ≤ ¼), with
 *     acos(x) = π/2 − asin(x)               for |x| ≤ ½,
 *     acos(x) = 2·asin(√((1−x)/2))          for x > ½,
 *     acos(x) = π − 2·asin(√((1+x)/2))      for x < −½,
 * π and π/2 carried as two doubles.  Tested against long double over [−1, 1]
 * (tests/test_numeric_math.c; docs/elementary-functions.md).
 */
#include <math.h>

#include "numeric.h"

/* asin(y) for y in [0, ½]: the series, high-order terms first would need their count in
 * advance, so the sum is kept as head + tail: the first term y exactly, the rest summed in
 * increasing order of index (their magnitudes fall by at least 4× a term). */
static double asin_small(double y)
{
	double y2 = y * y, term = y, tail = 0;
	for (int n = 1; n < 64; n++) {
		term *= y2 * (double)((2 * n - 1) * (2 * n - 1)) / (double)((2 * n) * (2 * n + 1));
		double t = tail + term;
		if (t == tail)
			break;
		tail = t;
	}
	return y + tail;
}

double hus_acos(double x)
{
	static const double pi_hi = 3.141592653589793116, pi_lo = 1.2246467991473532e-16;
	if (isnan(x) || x > 1.0 || x < -1.0)
		return NAN;
	if (x >= -0.5 && x <= 0.5)
		return (pi_hi / 2 - asin_small(fabs(x)) * (x < 0 ? -1.0 : 1.0)) + pi_lo / 2;
	if (x > 0.5)
		return 2.0 * asin_small(sqrt((1.0 - x) / 2.0));
	return (pi_hi - 2.0 * asin_small(sqrt((1.0 + x) / 2.0))) + pi_lo;
}
