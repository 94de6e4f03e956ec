/*
 * check_elementary.c — every float input of hus_expf, hus_logf, hus_tanhf, hus_erff, hus_sinf
 * and hus_cosf against libm.  The double libm function decides the correctly rounded float
 * wherever its value is more than 2^-20 ulp (of a float) from a rounding midpoint: its own
 * error, at most 2 ulp of a double, is 2^-28 ulp of a float.  The other inputs, and results
 * near overflow or in the subnormals, are decided by the long double function (64-bit
 * mantissa: error below 2^-38 ulp of a float).  --ld uses long double for every input (about
 * 20 times slower).  Not a ctest (about 10 CPU-minutes in all): built by
 * `cmake --build build --target check_elementary`, run as
 *     build/tests/check_elementary [function ...] [--stride S] [--ld]
 * For each function: the largest error in ulps, and every input whose result is not the
 * correctly rounded one (the long double value rounded to float), with how far that value is
 * from the midpoint between two floats (if that is below the reference's own error, the
 * reference cannot decide and the input is listed as undecided, not as a failure).
 * docs/elementary-functions.md records the last run.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numeric.h"

struct fn {
	const char *name;
	float (*f)(float);
	long double (*ref)(long double);
	double (*dref)(double);
};
static const struct fn fns[] = {
	{"expf", hus_expf, expl, exp},	  {"logf", hus_logf, logl, log}, {"tanhf", hus_tanhf, tanhl, tanh},
	{"erff", hus_erff, erfl, erf},	  {"sinf", hus_sinf, sinl, sin}, {"cosf", hus_cosf, cosl, cos},
};

static float asf32(uint32_t u)
{
	float x;
	memcpy(&x, &u, 4);
	return x;
}
static uint32_t asu32(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	return u;
}

/* ulp of the float nearest v (finite v): 2^(e - 23), at least 2^-149, at most 2^104 */
static long double ulpf_of(long double v)
{
	long double a = fabsl(v);
	if (a < 0x1p-126L)
		return 0x1p-149L;
	int e;
	frexpl(a, &e); /* a = f 2^e, f in [0.5, 1) */
	if (e > 128)
		e = 128;
	return ldexpl(1.0L, e - 1 - 23);
}

int main(int argc, char **argv)
{
	uint64_t stride = 1;
	int want[6] = {0}, any = 0, all_ld = 0;
	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--ld")) {
			all_ld = 1;
			continue;
		}
		if (!strcmp(argv[a], "--stride") && a + 1 < argc) {
			stride = strtoull(argv[++a], NULL, 0);
			continue;
		}
		for (int i = 0; i < 6; i++)
			if (!strcmp(argv[a], fns[i].name))
				want[i] = any = 1;
	}
	int bad_total = 0;
	for (int fi = 0; fi < 6; fi++) {
		if (any && !want[fi])
			continue;
		const struct fn *F = &fns[fi];
		double maxerr = 0;
		uint32_t maxat = 0;
		long nfail = 0, nund = 0, nspecial = 0, nld = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(+ : nfail, nund, nspecial, nld)
		for (int64_t blk = 0; blk < 4096; blk++) {
			double bmax = 0;
			uint32_t bat = 0;
			for (uint64_t u = (uint64_t)blk << 20; u < ((uint64_t)blk + 1) << 20; u += stride) {
				float x = asf32((uint32_t)u);
				float y = F->f(x);
				if (isnan(x)) {
					if (!isnan(y))
						nspecial++;
					continue;
				}
				if (!all_ld) {
					double Rd = F->dref((double)x);
					double ad = fabs(Rd);
					if (isnan(Rd)) {
						nspecial += !isnan(y);
						continue;
					}
					if (ad >= 0x1.00001p128 || ad <= 0x1p-151) {
						/* decided: overflow to inf, or below half the least subnormal */
						float crd = ad >= 0x1p128 ? (float)Rd * 2.0f : (float)(Rd * 0x1p-100);
						if (asu32(y) != asu32(crd))
							nspecial++;
						continue;
					}
					if (ad >= 0x1p-125 && ad < 0x1p127) {
						float crd = (float)Rd;
						double ulp = (double)ulpf_of(Rd);
						double e = fabs((double)crd - Rd) / ulp; /* <= 1/2 */
						if (e < 0.5 - 0x1p-20) {
							/* decided: crd is the correctly rounded float */
							double ey = fabs((double)y - Rd) / ulp;
							if (ey > bmax)
								bmax = ey, bat = (uint32_t)u;
							if (asu32(y) != asu32(crd)) {
								nfail++;
#pragma omp critical
								printf("  %s(%a) [0x%08x] = %a, correctly rounded "
								       "%a (double libm %a)\n",
								       F->name, (double)x, (unsigned)u, (double)y,
								       (double)crd, Rd);
							}
							continue;
						}
					}
				}
				nld++;
				long double R = F->ref((long double)x);
				float cr = (float)R;
				if (isnan(R) || isinf(R) || isinf(cr) || cr == 0) {
					/* NaN, inf, or a result that rounds to inf or 0: must be exactly it */
					if (!(isnan(R) ? isnan(y) : asu32(y) == asu32(cr)))
						nspecial++;
					continue;
				}
				long double ulp = ulpf_of(R);
				double err = (double)(fabsl((long double)y - R) / ulp);
				if (err > bmax)
					bmax = err, bat = (uint32_t)u;
				if (asu32(y) != asu32(cr) && !(y == 0 && cr == 0)) {
					/* distance of R from the midpoint between y and cr, in ulps */
					long double mid = ((long double)y + (long double)cr) / 2;
					double dm = (double)(fabsl(R - mid) / ulp);
					if (dm < 0x1p-36) {
						nund++;
					} else {
						nfail++;
					}
#pragma omp critical
					printf("  %s(%a) [0x%08x] = %a, correctly rounded %a, ref %.25La, %.3g ulp "
					       "from the midpoint\n",
					       F->name, (double)x, (unsigned)u, (double)y, (double)cr, R, dm);
				}
			}
#pragma omp critical
			if (bmax > maxerr)
				maxerr = bmax, maxat = bat;
		}
		printf("%-6s max error %.9f ulp at %a; %ld not correctly rounded, %ld undecided, %ld "
		       "wrong special values (%llu inputs, %ld decided by long double)\n",
		       F->name, maxerr, (double)asf32(maxat), nfail, nund, nspecial,
		       (unsigned long long)((1ULL << 32) / stride), nld);
		fflush(stdout);
		bad_total += nfail + nspecial > 0;
	}
	return bad_total ? 1 : 0;
}
