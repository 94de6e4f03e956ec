/*
 * bench_gemm.c — husai's canonical matrix product (numeric/gemm.c, hus_gemm) against OpenBLAS
 * sgemm on the shapes husai's hot paths use: square 2048, the PWMCC panel, the SAE encoder /
 * decoder / gradient products at a small and a large size, and two transformer products.
 * hus_gemm is hand-written so that every element has one fixed reduction order
 * (docs/reproducibility.md); this measures what that costs.
 *
 * Each case times both in turn (husai, OpenBLAS, husai, OpenBLAS, ...; HUSAI_BENCH_REPS rounds,
 * default 5) on the same operands and reports the median GFLOP/s of each, with 1 thread (OpenMP
 * for husai, openblas_set_num_threads for OpenBLAS) and with 2 (HUSAI_BENCH_THREADS, default
 * "1,2"); single-threaded, also by the calling thread's CPU time, which other work on a shared
 * machine disturbs less.  The value is husai's single-threaded GFLOP/s; the note has the rest.  OpenBLAS is
 * called by its Fortran symbol sgemm_ (GSL's libgslcblas may shadow cblas_sgemm, see
 * train/sae_blas.c); its kernel is whatever OPENBLAS_CORETYPE selects (the note names it).
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "formats.h"
#include "numeric.h"

void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc);
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);

struct gemm_shape {
	int ta, tb;
	size_t M, N, K;
};

static void blas_rowmajor(const struct gemm_shape *s, const float *A, size_t lda, const float *B,
                          size_t ldb, float *C, size_t ldc)
{
	/* row-major C = op(A) op(B) is column-major Cᵀ = op(B)ᵀ op(A)ᵀ */
	const char ta = s->ta ? 'T' : 'N', tb = s->tb ? 'T' : 'N';
	const int m = (int)s->N, n = (int)s->M, k = (int)s->K, ia = (int)lda, ib = (int)ldb,
	          ic = (int)ldc;
	const float one = 1.0f, zero = 0.0f;
	sgemm_(&tb, &ta, &m, &n, &k, &one, B, &ib, A, &ia, &zero, C, &ic);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);
	return v && atoi(v) > 0 ? atoi(v) : dflt;
}

static double thread_cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* median GFLOP/s of husai (g[0]) and OpenBLAS (g[1]) with `threads` threads, interleaved; with
 * one thread also by the calling thread's CPU time (gc[]), which a busy machine disturbs less */
static void time_pair(const struct gemm_shape *s, const float *A, size_t lda, const float *B,
                      size_t ldb, float *C, size_t ldc, int threads, double g[2], double gc[2])
{
	const double flops = 2.0 * (double)s->M * (double)s->N * (double)s->K;
	const int reps = env_int("HUSAI_BENCH_REPS", 5);
	omp_set_num_threads(threads);
	openblas_set_num_threads(threads);
	/* warm up both (buffers, page faults, thread pools) and size a timing to >= 0.1 s */
	double t0 = hus_now();
	hus_gemm(s->ta, s->tb, s->M, s->N, s->K, A, lda, B, ldb, 0.0f, C, ldc);
	blas_rowmajor(s, A, lda, B, ldb, C, ldc);
	double once = (hus_now() - t0) / 2;
	int inner = once >= 0.1 ? 1 : (int)(0.1 / (once > 1e-7 ? once : 1e-7)) + 1;
	double *gf = malloc(sizeof(double) * reps * 4); /* [wall/cpu][husai/OpenBLAS][rep] */
	if (!gf) {
		g[0] = g[1] = gc[0] = gc[1] = 0;
		return;
	}
	for (int r = 0; r < reps; r++)
		for (int which = 0; which < 2; which++) {
			double t = hus_now(), c = thread_cpu_now();
			for (int i = 0; i < inner; i++)
				if (which == 0)
					hus_gemm(s->ta, s->tb, s->M, s->N, s->K, A, lda, B, ldb, 0.0f, C, ldc);
				else
					blas_rowmajor(s, A, lda, B, ldb, C, ldc);
			gf[which * reps + r] = flops * inner / (hus_now() - t) / 1e9;
			gf[(2 + which) * reps + r] = flops * inner / (thread_cpu_now() - c) / 1e9;
		}
	for (int q = 0; q < 4; q++) {
		double *v = gf + q * reps;
		qsort(v, reps, sizeof(double), cmp_double);
		(q < 2 ? g : gc)[q % 2] = reps % 2 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
	}
	free(gf);
}

static int gemm_case(struct bench_result *r, const char *what, int ta, int tb, size_t M,
                     size_t N, size_t K)
{
	const struct gemm_shape s = { ta, tb, M, N, K };
	const size_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
	float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N),
	      *C = malloc(sizeof(float) * M * N);
	if (!A || !B || !C) {
		free(A), free(B), free(C);
		snprintf(r->note, sizeof(r->note), "out of memory");
		return 1;
	}
	struct mt19937 g;
	mt_seed(&g, 1);
	for (size_t i = 0; i < M * K; i++)
		A[i] = (float)(mt_next32(&g) / 4294967296.0 - 0.5);
	for (size_t i = 0; i < K * N; i++)
		B[i] = (float)(mt_next32(&g) / 4294967296.0 - 0.5);
	const char *spec = getenv("HUSAI_BENCH_THREADS");
	if (!spec || !*spec)
		spec = "1,2";
	char list[64];
	snprintf(list, sizeof(list), "%s", spec);
	int len = snprintf(r->note, sizeof(r->note), "%s %c%c M%zu N%zu K%zu, %s, OpenBLAS %s:", what,
	                   ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, hus_numeric_path(),
	                   openblas_get_corename());
	r->value = 0;
	const int omp_saved = omp_get_max_threads(), blas_saved = openblas_get_num_threads();
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		int threads = atoi(tok) > 0 ? atoi(tok) : 1;
		double gfl[2], gcpu[2];
		time_pair(&s, A, lda, B, ldb, C, ldc, threads, gfl, gcpu);
		if (r->value == 0)
			r->value = gfl[0];
		if (len > 0 && (size_t)len < sizeof(r->note))
			len += snprintf(r->note + len, sizeof(r->note) - len,
			                " %dT husai %.1f / OpenBLAS %.1f GFLOP/s = %.2fx", threads, gfl[0],
			                gfl[1], gfl[1] > 0 ? gfl[0] / gfl[1] : 0.0);
		if (threads == 1 && len > 0 && (size_t)len < sizeof(r->note))
			len += snprintf(r->note + len, sizeof(r->note) - len, " (CPU time %.1f / %.1f)",
			                gcpu[0], gcpu[1]);
		if (len > 0 && (size_t)len < sizeof(r->note))
			len += snprintf(r->note + len, sizeof(r->note) - len, ";");
	}
	omp_set_num_threads(omp_saved);
	openblas_set_num_threads(blas_saved);
	free(A), free(B), free(C);
	r->unit = "gflops";
	r->peak_rss_mb = bench_peak_rss_mb();
	return 0;
}

int bench_gemm_sq2048(struct bench_result *r)
{
	return gemm_case(r, "square", 0, 0, 2048, 2048, 2048);
}
/* analyze/pwmcc.c: PWMCC_BLOCK rows of Âᵀ times B̂ᵀ, d_model 768, m 16384 */
int bench_gemm_pwmcc(struct bench_result *r)
{
	return gemm_case(r, "pwmcc panel", 0, 1, 256, 16384, 768);
}
/* train/sae_step.c, sae_dense.c: encoder x·W_encᵀ (B x m x d), decoder z·W_decT (B x d x m),
 * weight gradient zᵀ·dx (m x d x B); small = d 128, m 1024, B 256 */
int bench_gemm_sae_s_enc(struct bench_result *r)
{
	return gemm_case(r, "sae encoder d128 m1024 B256", 0, 1, 256, 1024, 128);
}
int bench_gemm_sae_s_dec(struct bench_result *r)
{
	return gemm_case(r, "sae decoder d128 m1024 B256", 0, 0, 256, 128, 1024);
}
int bench_gemm_sae_s_grad(struct bench_result *r)
{
	return gemm_case(r, "sae gradient d128 m1024 B256", 1, 0, 1024, 128, 256);
}
/* large = bench_sae.c's sae_large: d 512, m 16384, B 4096 */
int bench_gemm_sae_l_enc(struct bench_result *r)
{
	return gemm_case(r, "sae encoder d512 m16384 B4096", 0, 1, 4096, 16384, 512);
}
int bench_gemm_sae_l_dec(struct bench_result *r)
{
	return gemm_case(r, "sae decoder d512 m16384 B4096", 0, 0, 4096, 512, 16384);
}
int bench_gemm_sae_l_grad(struct bench_result *r)
{
	return gemm_case(r, "sae gradient d512 m16384 B4096", 1, 0, 16384, 512, 4096);
}
/* train/tf_forward.c, tf_backward.c at batch 512 (3584 rows): the MLP's input product and
 * its weight gradient */
int bench_gemm_tf_mlp(struct bench_result *r)
{
	return gemm_case(r, "transformer mlp-in b512", 0, 0, 3584, 512, 128);
}
int bench_gemm_tf_wgrad(struct bench_result *r)
{
	return gemm_case(r, "transformer W_in gradient b512", 1, 0, 128, 512, 3584);
}
