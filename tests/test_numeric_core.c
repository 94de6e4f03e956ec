/*
 * test_numeric_core.c — the numeric core's pieces other than the matrix product and the float
 * elementary functions (tests/test_gemm.c, tests/test_numeric_math.c): the arc cosine against
 * long double, the Gram matrix against its chain written out, thread counts, the 16-lane
 * reductions against their definition, and the transformer initialiser's Gaussian against
 * GSL's own gsl_ran_gaussian (the same draws, with husai's logarithm).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <omp.h>

#include "train.h"

static double ulps(double got, long double want)
{
	double w = (double)want;
	double ulp = nextafter(fabs(w), INFINITY) - fabs(w);
	return (double)(fabsl((long double)got - want) / ulp);
}

static void test_acos(void **state)
{
	(void)state;
	double worst = 0;
	for (long i = 0; i <= 2000000; i++) {
		double x = -1.0 + 2.0 * (double)i / 2000000.0;
		x = nextafter(x, (i & 1) ? 2.0 : -2.0);
		x = x > 1 ? 1 : x < -1 ? -1 : x;
		double e = ulps(hus_acos(x), acosl((long double)x));
		worst = e > worst ? e : worst;
	}
	assert_true(worst <= 1.5); /* the bound stated in docs/elementary-functions.md */
	assert_true(hus_acos(1.0) == 0.0);
	assert_true(fabs(hus_acos(-1.0) - M_PI) <= 4.5e-16);
	assert_true(isnan(hus_acos(1.0000000000000002)));
	assert_true(isnan(hus_acos(NAN)));
}

static void test_gram(void **state)
{
	(void)state;
	const size_t n = 37, m = 301;
	float *W = malloc(sizeof(float) * n * m);
	double *G1 = malloc(sizeof(double) * n * n), *G2 = malloc(sizeof(double) * n * n);
	struct mt19937 g;
	mt_seed(&g, 9);
	for (size_t e = 0; e < n * m; e++)
		W[e] = (float)(mt_next32(&g) / 4294967296.0 - 0.5);
	omp_set_num_threads(1);
	hus_gram_f64(G1, W, n, m);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j <= i; j++) {
			double a = 0;
			for (size_t k = 0; k < m; k++)
				a = fma((double)W[i * m + k], (double)W[j * m + k], a);
			assert_memory_equal(&a, &G1[i * n + j], sizeof(double));
			assert_memory_equal(&a, &G1[j * n + i], sizeof(double));
		}
	/* a size the threads share */
	const size_t n2 = 96, m2 = 4096;
	float *W2 = malloc(sizeof(float) * n2 * m2);
	double *H1 = malloc(sizeof(double) * n2 * n2), *H2 = malloc(sizeof(double) * n2 * n2);
	for (size_t e = 0; e < n2 * m2; e++)
		W2[e] = (float)(mt_next32(&g) / 4294967296.0 - 0.5);
	hus_gram_f64(H1, W2, n2, m2);
	omp_set_num_threads(2);
	hus_gram_f64(H2, W2, n2, m2);
	assert_memory_equal(H1, H2, sizeof(double) * n2 * n2);
	/* the chains of H1 one by one, and the transposed entry point and every instruction set
	 * giving the same bits (n2 = 96 has full 4 x 8 tiles, n = 37 edges) */
	for (size_t i = 0; i < n2; i += 7)
		for (size_t j = 0; j <= i; j += 5) {
			double a = 0;
			for (size_t k = 0; k < m2; k++)
				a = fma((double)W2[i * m2 + k], (double)W2[j * m2 + k], a);
			assert_memory_equal(&a, &H1[i * n2 + j], sizeof(double));
		}
	float *T2 = malloc(sizeof(float) * n2 * m2);
	for (size_t i = 0; i < n2; i++)
		for (size_t k = 0; k < m2; k++)
			T2[k * n2 + i] = W2[i * m2 + k];
	const enum hus_isa isas[] = { HUS_ISA_SCALAR, HUS_ISA_AVX2, HUS_ISA_AVX512 };
	enum hus_isa was = hus_isa_current();
	for (size_t v = 0; v < sizeof(isas) / sizeof(isas[0]); v++) {
		if (!hus_isa_supported(isas[v]))
			continue;
		assert_int_equal(hus_isa_force(isas[v]), 0);
		for (int thr = 1; thr <= 2; thr++) {
			omp_set_num_threads(thr);
			hus_gram_t_f64(H2, T2, n2, m2);
			assert_memory_equal(H1, H2, sizeof(double) * n2 * n2);
			hus_gram_f64(G2, W, n, m);
			assert_memory_equal(G1, G2, sizeof(double) * n * n);
		}
	}
	assert_int_equal(hus_isa_force(was), 0);
	free(T2);
	free(W), free(G1), free(G2), free(W2), free(H1), free(H2);
}

static void test_lanes(void **state)
{
	(void)state;
	float a[103], b[103];
	for (int i = 0; i < 103; i++) {
		a[i] = 1.0f / (float)(i + 1);
		b[i] = (float)(i % 7) - 3.1f;
	}
	for (size_t n = 0; n <= 103; n++) {
		float lane[16] = { 0 }, lane2[16] = { 0 };
		for (size_t i = 0; i < n; i++) {
			lane[i % 16] += a[i] * b[i];
			lane2[i % 16] += a[i];
		}
		for (int w = 8; w >= 1; w /= 2)
			for (int l = 0; l < w; l++) {
				lane[l] += lane[l + w];
				lane2[l] += lane2[l + w];
			}
		float d = hus_dot16(a, b, n), s = hus_sum16(a, n);
		assert_memory_equal(&d, &lane[0], sizeof(float));
		assert_memory_equal(&s, &lane2[0], sizeof(float));
	}
}

static void test_gaussian_matches_gsl(void **state)
{
	(void)state;
	gsl_rng *r1 = gsl_rng_alloc(gsl_rng_mt19937), *r2 = gsl_rng_alloc(gsl_rng_mt19937);
	assert_non_null(r1);
	assert_non_null(r2);
	gsl_rng_set(r1, 42);
	gsl_rng_set(r2, 42);
	size_t same_float = 0, n = 200000;
	double worst = 0;
	for (size_t i = 0; i < n; i++) {
		double a = tf_gaussian(r1, 0.07), b = gsl_ran_gaussian(r2, 0.07);
		same_float += (float)a == (float)b;
		double e = fabs(a - b) / (nextafter(fabs(b), INFINITY) - fabs(b));
		worst = e > worst ? e : worst;
	}
	/* the same polar method on the same stream: only the logarithm's last bit may differ */
	assert_true(worst <= 4.0);
	assert_true(same_float >= n - 2);
	gsl_rng_free(r1), gsl_rng_free(r2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acos),
		cmocka_unit_test(test_gram),
		cmocka_unit_test(test_lanes),
		cmocka_unit_test(test_gaussian_matches_gsl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
