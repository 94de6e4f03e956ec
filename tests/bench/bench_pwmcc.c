/*
 * bench_pwmcc.c — benchmark cases for the PWMCC hot path, the same work as torch_peer.py's
 * case_pwmcc: every pair of `seeds` Gaussian decoders [d, m], timed from raw decoders to the
 * PWMCC values (normalisation included, generation excluded).  Reports seconds, the pairs'
 * rate (2·d·m² flops per pair; run_bench.sh divides it by the sgemm ceiling of the same run)
 * and the process's peak RSS (the peer materialises m² floats per pair).
 * The decoders are the peer's own (same torch generator stream), so the means must agree.
 */
#include <stdio.h>
#include <stdlib.h>

#include "analyze.h"
#include "bench.h"

static int pwmcc_case(struct bench_result *r, size_t d, size_t m, size_t seeds)
{
	float **dec = calloc(seeds, sizeof(float *)), **dt = calloc(seeds, sizeof(float *));
	float *rowmax = malloc(sizeof(float) * m), *colmax = malloc(sizeof(float) * m);
	struct hus_err err = { 0 };
	float *all = NULL;
	int rc = 1;
	if (!dec || !dt || !rowmax || !colmax)
		goto cleanup;
	/* the peer's decoders exactly: torch.randn(d, m) `seeds` times from one generator seeded
	 * 0, i.e. one stream of seeds*d*m normals (d*m % 16 == 0, so the Box-Muller blocks align) */
	if (!(all = malloc(sizeof(float) * seeds * d * m)))
		goto cleanup;
	torch_randn_f32(all, seeds * d * m, 0);
	for (size_t s = 0; s < seeds; s++) {
		dec[s] = all + s * d * m;
		if (!(dt[s] = malloc(sizeof(float) * d * m)))
			goto cleanup;
	}
	double t0 = hus_now(), sum = 0;
	for (size_t s = 0; s < seeds; s++)
		if (pwmcc_normalize(dt[s], NULL, dec[s], d, m, &err))
			goto cleanup;
	double t_norm = hus_now() - t0;
	size_t npairs = 0;
	for (size_t a = 0; a < seeds; a++)
		for (size_t b = a + 1; b < seeds; b++, npairs++) {
			if (pwmcc_maxes(rowmax, colmax, NULL, NULL, dt[a], dt[b], d, m, m, &err))
				goto cleanup;
			sum += pwmcc_from_maxes(rowmax, m, colmax, m);
		}
	double dt_all = hus_now() - t0;
	double rss = bench_peak_rss_mb();
	double gflops = 2.0 * (double)d * (double)m * (double)m * (double)npairs / (dt_all - t_norm) / 1e9;
	r->unit = "seconds";
	r->value = dt_all;
	r->peak_rss_mb = rss;
	r->dense_gflops = gflops;
	snprintf(r->note, sizeof(r->note),
	         "d%zu m%zu seeds%zu pairs%zu mean %.6f; normalise %.3fs; panel rows %zu", d, m,
	         seeds, npairs, sum / (double)npairs, t_norm,
	         pwmcc_panel_rows(m, pwmcc_panel_threads(d, m, m)));
	rc = 0;
cleanup:
	if (rc)
		snprintf(r->note, sizeof(r->note), "failed: %.200s", err.msg[0] ? err.msg : "out of memory");
	for (size_t s = 0; dt && s < seeds; s++)
		free(dt[s]);
	free(all), free(dec), free(dt), free(rowmax), free(colmax);
	return rc;
}

int bench_pwmcc_small(struct bench_result *r) { return pwmcc_case(r, 128, 1024, 5); }
int bench_pwmcc_large(struct bench_result *r) { return pwmcc_case(r, 512, 16384, 3); }
