/*
 * test_gemm.c — the canonical matrix product (numeric/gemm.c) against its reference loop
 * (hus_gemm_ref), bit for bit: odd shapes on and off every tile and block edge, K = 0, all four
 * transpose combinations, beta 0 / 1 / 0.5 / -2, sub-views (lda, ldb, ldc larger than needed,
 * and the padding of C left untouched), every instruction-set path this CPU runs, 1 and 2
 * threads, special values (NaN, ±inf, subnormals, -0), NaN in C with beta 0, calls from inside
 * a parallel region; and HUSAI_ISA parsing.  The product's contract is numeric.h's; why it is
 * hand-written is docs/reproducibility.md.
 *
 * Equality is of bits, except that a NaN result matches any NaN: which NaN payload (and sign)
 * an IEEE operation returns when several operands are NaN is not fixed by the standard and
 * differs between the forms of the FMA instruction a compiler picks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "numeric.h"

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

/* values of varied sign and magnitude (2^-8 .. 2^8), so any change of order changes bits */
static float rnd_val(void)
{
	float m = (float)(rnd() % 2000001) / 1000000.0f - 1.0f;
	return ldexpf(m, (int)(rnd() % 17) - 8);
}

static float *alloc_fill(size_t n)
{
	float *p = malloc((n ? n : 1) * sizeof(float));
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = rnd_val();
	return p;
}

static int same(float x, float y)
{
	if (isnan(x) && isnan(y))
		return 1;
	uint32_t a, b;
	memcpy(&a, &x, 4);
	memcpy(&b, &y, 4);
	return a == b;
}

/* the whole buffer, padding included, must match */
static void assert_same(const float *got, const float *want, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (!same(got[i], want[i]))
			fail_msg("%s: element %zu is %a, reference %a", what, i, (double)got[i],
			         (double)want[i]);
}

static enum hus_isa isas[4];
static int n_isas;

static int setup_isas(void **state)
{
	(void)state;
	n_isas = 0;
	for (int i = 0; i < 4; i++)
		if (hus_isa_supported((enum hus_isa)i))
			isas[n_isas++] = (enum hus_isa)i;
	return 0;
}

struct problem {
	int ta, tb;
	size_t M, N, K, lda, ldb, ldc;
	float beta;
	float *A, *B, *C0, *Cref, *C;
	size_t nC;
};

static void problem_make(struct problem *p, int ta, int tb, size_t M, size_t N, size_t K,
                         size_t pad, float beta)
{
	p->ta = ta, p->tb = tb, p->M = M, p->N = N, p->K = K, p->beta = beta;
	/* A is M x K (K x M if transposed), B is K x N (N x K); pad widens every row */
	size_t arows = ta ? K : M, acols = ta ? M : K, brows = tb ? N : K, bcols = tb ? K : N;
	p->lda = acols + pad, p->ldb = bcols + pad + (pad ? 3 : 0), p->ldc = N + (pad ? pad + 1 : 0);
	p->A = alloc_fill(arows * p->lda);
	p->B = alloc_fill(brows * p->ldb);
	p->nC = M * p->ldc;
	p->C0 = alloc_fill(p->nC);
	p->Cref = malloc((p->nC ? p->nC : 1) * sizeof(float));
	p->C = malloc((p->nC ? p->nC : 1) * sizeof(float));
	assert_non_null(p->Cref);
	assert_non_null(p->C);
	memcpy(p->Cref, p->C0, p->nC * sizeof(float));
	hus_gemm_ref(ta, tb, M, N, K, p->A, p->lda, p->B, p->ldb, beta, p->Cref, p->ldc);
}

static void problem_free(struct problem *p)
{
	free(p->A), free(p->B), free(p->C0), free(p->Cref), free(p->C);
}

/* hus_gemm on every path and thread count against the reference */
static void problem_check(struct problem *p)
{
	for (int t = 1; t <= 2; t++) {
		omp_set_num_threads(t);
		for (int i = 0; i < n_isas; i++) {
			assert_int_equal(hus_isa_force(isas[i]), 0);
			memcpy(p->C, p->C0, p->nC * sizeof(float));
			hus_gemm(p->ta, p->tb, p->M, p->N, p->K, p->A, p->lda, p->B, p->ldb, p->beta,
			         p->C, p->ldc);
			char what[160];
			snprintf(what, sizeof(what), "%s %d thread(s) %c%c M%zu N%zu K%zu lda%zu ldb%zu "
			         "ldc%zu beta %g", hus_isa_name(isas[i]), t, p->ta ? 'T' : 'N',
			         p->tb ? 'T' : 'N', p->M, p->N, p->K, p->lda, p->ldb, p->ldc,
			         (double)p->beta);
			assert_same(p->C, p->Cref, p->nC, what);
		}
	}
}

static void check_one(int ta, int tb, size_t M, size_t N, size_t K, size_t pad, float beta)
{
	struct problem p;
	problem_make(&p, ta, tb, M, N, K, pad, beta);
	problem_check(&p);
	problem_free(&p);
}

static const float betas[] = { 0.0f, 1.0f, 0.5f, -2.0f };

/* every combination of small sizes, on and off the tile edges (MR, NR are 4..8 x 8..48) */
static void test_small_shapes(void **state)
{
	(void)state;
	static const size_t sz[] = { 1, 2, 7, 17, 31, 64 };
	const size_t n = sizeof(sz) / sizeof(sz[0]);
	rng_state = 1;
	size_t q = 0;
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++)
			for (size_t c = 0; c < n; c++)
				for (int tr = 0; tr < 4; tr++, q++)
					check_one(tr >> 1, tr & 1, sz[a], sz[b], sz[c], 0, betas[q % 4]);
}

/* larger sizes: several blocks of k (256, or 768 for a wide C), of columns (512 or 192) and of
 * rows (1536) */
static void test_large_shapes(void **state)
{
	(void)state;
	static const size_t shapes[][3] = {
		{ 255, 257, 257 }, { 257, 255, 1025 }, { 1025, 31, 64 },  { 31, 1025, 255 },
		{ 64, 64, 1025 },  { 7, 1025, 17 },    { 1600, 17, 300 }, { 17, 2, 1025 },
		{ 1, 1025, 257 },  { 257, 1, 255 },    { 96, 144, 768 },  { 200, 600, 513 },
		/* wide C (N >= 4096): the other blocking, k in blocks of 768 */
		{ 9, 4100, 1600 }, { 20, 4097, 70 },
	};
	rng_state = 2;
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
		for (int tr = 0; tr < 4; tr++)
			check_one(tr >> 1, tr & 1, shapes[s][0], shapes[s][1], shapes[s][2], 0,
			          betas[(s + tr) % 4]);
}

/* K == 0: C becomes its start value (0, C, beta·C) */
static void test_k_zero(void **state)
{
	(void)state;
	rng_state = 3;
	for (int b = 0; b < 4; b++)
		for (int tr = 0; tr < 4; tr++) {
			check_one(tr >> 1, tr & 1, 17, 31, 0, 0, betas[b]);
			check_one(tr >> 1, tr & 1, 64, 7, 0, 5, betas[b]);
		}
}

/* sub-views: every leading dimension larger than its row, and C's padding never written */
static void test_strides(void **state)
{
	(void)state;
	static const size_t shapes[][3] = { { 7, 17, 31 }, { 64, 31, 17 }, { 31, 64, 257 },
		                            { 257, 49, 64 }, { 33, 100, 300 } };
	rng_state = 4;
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
		for (int b = 0; b < 4; b++)
			for (int tr = 0; tr < 4; tr++)
				check_one(tr >> 1, tr & 1, shapes[s][0], shapes[s][1], shapes[s][2],
				          1 + s * 7, betas[b]);
}

/* NaN, ±inf, subnormals and -0 in A and B (and C with beta != 0) */
static void test_special_values(void **state)
{
	(void)state;
	const float specials[] = { NAN, INFINITY, -INFINITY, 1e-40f, -1e-40f, -0.0f, 0.0f,
		                   FLT_MIN / 4, FLT_MAX, -FLT_MAX, 1e-45f };
	const size_t ns = sizeof(specials) / sizeof(specials[0]);
	rng_state = 5;
	for (int density = 0; density < 3; density++)
		for (int tr = 0; tr < 4; tr++)
			for (int b = 0; b < 4; b++) {
				struct problem p;
				int ta = tr >> 1, tb = tr & 1;
				size_t M = 37, N = 70, K = 300;
				problem_make(&p, ta, tb, M, N, K, 2, betas[b]);
				/* sprinkle specials: rarely (isolated ones), often, or subnormals only */
				size_t na = (ta ? K : M) * p.lda, nb = (tb ? N : K) * p.ldb;
				size_t every = density == 0 ? 97 : density == 1 ? 7 : 3;
				for (size_t i = 0; i < na; i++)
					if (rnd() % every == 0)
						p.A[i] = density == 2 ? specials[3 + rnd() % 2] * (float)(rnd() % 5)
						                      : specials[rnd() % ns];
				for (size_t i = 0; i < nb; i++)
					if (rnd() % every == 0)
						p.B[i] = density == 2 ? specials[3 + rnd() % 2]
						                      : specials[rnd() % ns];
				for (size_t i = 0; i < p.nC; i++)
					if (rnd() % every == 0)
						p.C0[i] = specials[rnd() % ns];
				memcpy(p.Cref, p.C0, p.nC * sizeof(float));
				hus_gemm_ref(ta, tb, M, N, K, p.A, p.lda, p.B, p.ldb, p.beta, p.Cref, p.ldc);
				problem_check(&p);
				problem_free(&p);
			}
	/* a chain of subnormal products that stays subnormal: no flush to zero anywhere */
	float a[64], bb[64 * 3], c[3];
	for (int k = 0; k < 64; k++) {
		a[k] = 0x1p-80f;
		bb[3 * k] = bb[3 * k + 1] = bb[3 * k + 2] = 0x1p-60f * (float)(k + 1);
	}
	for (int i = 0; i < n_isas; i++) {
		assert_int_equal(hus_isa_force(isas[i]), 0);
		hus_gemm(0, 0, 1, 3, 64, a, 64, bb, 3, 0.0f, c, 3);
		assert_true(c[0] > 0 && c[0] < FLT_MIN);
		assert_true(c[0] == 2080 * 0x1p-140f);
	}
}

/* beta == 0: C is not read, so a NaN there never reaches the result */
static void test_nan_c_beta_zero(void **state)
{
	(void)state;
	rng_state = 6;
	for (int tr = 0; tr < 4; tr++) {
		struct problem p;
		problem_make(&p, tr >> 1, tr & 1, 100, 90, 40, 3, 0.0f);
		for (size_t i = 0; i < p.nC; i++)
			p.C0[i] = NAN;
		memcpy(p.Cref, p.C0, p.nC * sizeof(float));
		hus_gemm_ref(p.ta, p.tb, p.M, p.N, p.K, p.A, p.lda, p.B, p.ldb, 0.0f, p.Cref, p.ldc);
		for (size_t i = 0; i < p.M; i++)
			for (size_t j = 0; j < p.N; j++)
				assert_false(isnan(p.Cref[i * p.ldc + j]));
		problem_check(&p);
		problem_free(&p);
	}
	/* and K == 0 with beta 0 gives zeros, not NaN */
	float C[6] = { NAN, NAN, NAN, NAN, NAN, NAN };
	hus_gemm(0, 0, 2, 3, 0, C, 1, C, 3, 0.0f, C, 3);
	for (int i = 0; i < 6; i++)
		assert_true(C[i] == 0.0f && !signbit(C[i]));
}

/* called from inside a parallel region: each thread's own product, single-threaded, the same */
static void test_inside_parallel(void **state)
{
	(void)state;
	rng_state = 7;
	struct problem p[2];
	problem_make(&p[0], 0, 1, 300, 257, 200, 0, 1.0f);
	problem_make(&p[1], 1, 0, 129, 400, 300, 1, 0.5f);
	for (int i = 0; i < n_isas; i++) {
		assert_int_equal(hus_isa_force(isas[i]), 0);
		for (int q = 0; q < 2; q++)
			memcpy(p[q].C, p[q].C0, p[q].nC * sizeof(float));
		omp_set_num_threads(2);
		int inside[2] = { 0, 0 };
#pragma omp parallel for num_threads(2) schedule(static, 1)
		for (int q = 0; q < 2; q++) {
			inside[q] = omp_in_parallel();
			hus_gemm(p[q].ta, p[q].tb, p[q].M, p[q].N, p[q].K, p[q].A, p[q].lda, p[q].B,
			         p[q].ldb, p[q].beta, p[q].C, p[q].ldc);
		}
		assert_true(inside[0] && inside[1]); /* the region was active: hus_gemm ran alone */
		for (int q = 0; q < 2; q++)
			assert_same(p[q].C, p[q].Cref, p[q].nC, "inside a parallel region");
	}
	problem_free(&p[0]);
	problem_free(&p[1]);
}

/* the path names, and HUSAI_ISA's checks (in a child: the setting is read once per process) */
static void test_isa_parse(void **state)
{
	(void)state;
	enum hus_isa isa = HUS_ISA_NEON;
	assert_int_equal(hus_isa_parse("bogus", &isa), -1);
	assert_int_equal(hus_isa_parse("", &isa), -1);
	assert_int_equal(hus_isa_parse("AVX2", &isa), -1);
	assert_int_equal(hus_isa_parse(NULL, &isa), -1);
	assert_int_equal(isa, HUS_ISA_NEON);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(hus_isa_parse(hus_isa_name((enum hus_isa)i), &isa), 0);
		assert_int_equal(isa, i);
	}
	assert_true(hus_isa_supported(HUS_ISA_SCALAR));
	assert_int_equal(hus_isa_force((enum hus_isa)7), -1);
	/* a child per setting reports its error message (or none) through its exit status */
	const char *settings[] = { "bogus", "scalar", "avx2", "avx512", "neon" };
	for (int s = 0; s < 5; s++) {
		enum hus_isa want = HUS_ISA_SCALAR;
		int known = hus_isa_parse(settings[s], &want) == 0;
		int expect_error = !known || !hus_isa_supported(want);
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			setenv("HUSAI_ISA", settings[s], 1);
			const char *e = hus_isa_env_error();
			int ok = expect_error ? e && strstr(e, settings[s]) && strstr(e, "scalar")
			                      : !e && hus_isa_current() == want &&
			                                !strcmp(hus_numeric_path() + strlen("husai-numeric/1 "),
			                                        settings[s]);
			if (e && expect_error)
				printf("HUSAI_ISA=%s: %s\n", settings[s], e);
			fflush(stdout);
			_exit(ok ? 0 : 1);
		}
		int st = 0;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st))
			fail_msg("HUSAI_ISA=%s: wrong verdict", settings[s]);
	}
	assert_non_null(strstr(hus_numeric_path(), "husai-numeric/1 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isa_parse),
		cmocka_unit_test(test_small_shapes),
		cmocka_unit_test(test_k_zero),
		cmocka_unit_test(test_strides),
		cmocka_unit_test(test_special_values),
		cmocka_unit_test(test_nan_c_beta_zero),
		cmocka_unit_test(test_inside_parallel),
		cmocka_unit_test(test_large_shapes),
	};
	return cmocka_run_group_tests(tests, setup_isas, NULL);
}
