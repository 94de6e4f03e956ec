/*
 * bench_main.c — the benchmark driver: runs the named cases (all by default) and prints one
 * JSON line per case, the same shape as torch_peer.py's, for run_bench.sh to pair up.
 * Also owns the sgemm_peak cases: OpenBLAS sgemm GFLOP/s at 2048² and 4096² (its default
 * threads), this machine's ceiling for every dense hot path.  The gemm_* cases (bench_gemm.c)
 * time husai's own product against it.  `--list` prints the case names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"
#include "formats.h"

struct bench_case {
	const char *name;
	int (*fn)(struct bench_result *r);
};

static const struct bench_case cases[] = {
	{ "sgemm_2048", bench_sgemm_2048 },
	{ "sgemm_4096", bench_sgemm_4096 },
	{ "transformer_b512", bench_transformer_b512 },
	{ "transformer_b2048", bench_transformer_b2048 },
	{ "sae_small", bench_sae_small },
	{ "sae_large", bench_sae_large },
	{ "pwmcc_small", bench_pwmcc_small },
	{ "pwmcc_large", bench_pwmcc_large },
	{ "analyze_768x4096", bench_analyze_768x4096 },
	{ "analyze_768x16384", bench_analyze_768x16384 },
	{ "analyze_scale", bench_analyze_scale },
	{ "gemm_sq2048", bench_gemm_sq2048 },
	{ "gemm_pwmcc", bench_gemm_pwmcc },
	{ "gemm_sae_s_enc", bench_gemm_sae_s_enc },
	{ "gemm_sae_s_dec", bench_gemm_sae_s_dec },
	{ "gemm_sae_s_grad", bench_gemm_sae_s_grad },
	{ "gemm_sae_l_enc", bench_gemm_sae_l_enc },
	{ "gemm_sae_l_dec", bench_gemm_sae_l_dec },
	{ "gemm_sae_l_grad", bench_gemm_sae_l_grad },
	{ "gemm_tf_mlp", bench_gemm_tf_mlp },
	{ "gemm_tf_wgrad", bench_gemm_tf_wgrad },
};

double bench_peak_rss_mb(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ru.ru_maxrss / 1024.0;
}

/* OpenBLAS by its Fortran symbol: GSL's libgslcblas, linked too, also exports cblas_sgemm and
 * may come first on the link line (row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ) */
void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc);

static void openblas_nn(int n, const float *a, const float *b, float *c)
{
	const float one = 1.0f, zero = 0.0f;
	sgemm_("N", "N", &n, &n, &n, &one, b, &n, a, &n, &zero, c, &n);
}

static int sgemm_case(struct bench_result *r, int n)
{
	float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
	      *c = malloc(sizeof(float) * n * n);
	if (!a || !b || !c) {
		free(a), free(b), free(c);
		snprintf(r->note, sizeof(r->note), "out of memory");
		return 1;
	}
	for (long i = 0; i < (long)n * n; i++) {
		a[i] = (float)((i * 7919) % 1000) / 1000.0f;
		b[i] = (float)((i * 104729) % 1000) / 1000.0f;
	}
	openblas_nn(n, a, b, c);
	double best = 0;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = hus_now();
		openblas_nn(n, a, b, c);
		double gf = 2.0 * n * n * (double)n / (hus_now() - t0) / 1e9;
		if (gf > best)
			best = gf;
	}
	free(a), free(b), free(c);
	r->unit = "gflops";
	r->value = best;
	r->peak_rss_mb = bench_peak_rss_mb();
	snprintf(r->note, sizeof(r->note), "OpenBLAS sgemm %dx%d, best of 3", n, n);
	return 0;
}

int bench_sgemm_2048(struct bench_result *r) { return sgemm_case(r, 2048); }
int bench_sgemm_4096(struct bench_result *r) { return sgemm_case(r, 4096); }

int main(int argc, char **argv)
{
	hus_libs_init();
	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	int ran = 0, failed = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int wanted = argc < 2;
		for (int a = 1; a < argc; a++)
			if (!strcmp(argv[a], cases[i].name))
				wanted = 1;
		if (!wanted)
			continue;
		struct bench_result r = { 0 };
		int rc = cases[i].fn(&r);
		ran++;
		if (rc) {
			failed++;
			printf("{\"case\": \"%s\", \"skipped\": true, \"note\": \"%s\"}\n", cases[i].name,
			       r.note);
		} else {
			printf("{\"case\": \"%s\", \"%s\": %.6g, \"peak_rss_mb\": %.1f, "
			       "\"dense_gflops\": %.6g, \"note\": \"%s\"}\n",
			       cases[i].name, r.unit, r.value, r.peak_rss_mb, r.dense_gflops, r.note);
		}
		fflush(stdout);
	}
	if (!ran) {
		fprintf(stderr, "husai_bench: no such case\n");
		return 2;
	}
	return 0;
}
