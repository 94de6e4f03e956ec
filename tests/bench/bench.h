/*
 * bench.h — the benchmark harness's case table.  A case runs one hot path the way the torch
 * peer (torch_peer.py, in the shared bench folder beside the checkout) does and fills a
 * result in the peer's units, so run_bench.sh can print `case  husai_value  torch_value
 * ratio` from one run on one machine.
 */
#ifndef HUSAI_BENCH_H
#define HUSAI_BENCH_H

struct bench_result {
	const char *unit;  /* "steps_per_s" (higher is better), "seconds" (lower), "gflops" */
	double value;
	double peak_rss_mb; /* peak resident memory after the case, 0 if not measured */
	char note[256];     /* free text: sizes, threads */
	double dense_gflops; /* rate of the case's dense products, 0 if not measured: run_bench.sh
	                      * divides it by the sgemm ceiling it prints in the same run */
};

/* Each case returns 0 and fills *r, or non-zero when it cannot run (note says why). */
int bench_sgemm_2048(struct bench_result *r);
int bench_sgemm_4096(struct bench_result *r);
int bench_transformer_b512(struct bench_result *r);  /* tests/bench/bench_transformer.c */
int bench_transformer_b2048(struct bench_result *r); /* tests/bench/bench_transformer.c */
int bench_sae_small(struct bench_result *r);         /* tests/bench/bench_sae.c */
int bench_sae_large(struct bench_result *r);         /* tests/bench/bench_sae.c */
int bench_pwmcc_small(struct bench_result *r);       /* tests/bench/bench_pwmcc.c */
int bench_pwmcc_large(struct bench_result *r);       /* tests/bench/bench_pwmcc.c */
int bench_analyze_768x4096(struct bench_result *r);  /* tests/bench/bench_analyze.c */
int bench_analyze_768x16384(struct bench_result *r); /* tests/bench/bench_analyze.c */
int bench_analyze_scale(struct bench_result *r);     /* tests/bench/bench_analyze.c */

/* tests/bench/bench_gemm.c: hus_gemm against OpenBLAS sgemm, 1 and 2 threads, GFLOP/s */
int bench_gemm_sq2048(struct bench_result *r);
int bench_gemm_pwmcc(struct bench_result *r);
int bench_gemm_sae_s_enc(struct bench_result *r);
int bench_gemm_sae_s_dec(struct bench_result *r);
int bench_gemm_sae_s_grad(struct bench_result *r);
int bench_gemm_sae_l_enc(struct bench_result *r);
int bench_gemm_sae_l_dec(struct bench_result *r);
int bench_gemm_sae_l_grad(struct bench_result *r);
int bench_gemm_tf_mlp(struct bench_result *r);
int bench_gemm_tf_wgrad(struct bench_result *r);

double bench_peak_rss_mb(void);

#endif
