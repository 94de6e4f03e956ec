/*
 * bench_analyze.c — the whole analysis at language-model scale: `husai analyze` of 3 seeds of
 * random unit-norm decoders [d_model, d_sae] written as SAE checkpoints through formats/'s
 * HDF5 writer, with the R1 and R2 controls, timed from the checkpoints on disk to the written
 * results (analysis_run, the verb minus argument parsing).  The dense work is counted as the
 * products the analysis forms: the trained, R1 and R2 pairs and the trained x control pairs of
 * the seed-level permutation test, 2·d·m² FLOP each.  torch_peer_analyze.py times the same
 * products in torch; run_bench.sh pairs the two.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "bench.h"
#include "numeric.h"

static int write_ckpt(const char *path, int64_t seed, size_t d, size_t m, const float *W_dec,
                      struct hus_err *err)
{
	struct h5w *w;
	struct hus_provenance prov = { "", "" };
	size_t dd[2] = { d, m }, de[2] = { m, d }, db[1] = { m };
	float *W_enc = malloc(sizeof(float) * m * d), *b_enc = calloc(m, sizeof(float));
	int rc = HUS_ENOMEM;
	if (!W_enc || !b_enc)
		goto out;
	for (size_t j = 0; j < m; j++)
		for (size_t r = 0; r < d; r++)
			W_enc[j * d + r] = W_dec[r * m + j];
	if ((rc = h5w_open(&w, path, HUS_FORMAT_SAE, 1, &prov, err)))
		goto out;
	if ((rc = h5w_f32(w, "/params/W_dec", W_dec, 2, dd, err)) ||
	    (rc = h5w_f32(w, "/params/W_enc", W_enc, 2, de, err)) ||
	    (rc = h5w_f32(w, "/params/b_enc", b_enc, 1, db, err)) ||
	    (rc = h5w_attr_str(w, "/", "architecture", "topk", err)) ||
	    (rc = h5w_attr_i64(w, "/", "k", 32, err)) ||
	    (rc = h5w_attr_i64(w, "/", "seed", seed, err)) ||
	    (rc = h5w_attr_i64(w, "/", "step", 0, err)) ||
	    (rc = h5w_attr_str(w, "/", "condition", "bench", err)) ||
	    (rc = h5w_attr_str(w, "/", "control", "none", err)) ||
	    (rc = h5w_attr_i64(w, "/", "d_model", (int64_t)d, err)) ||
	    (rc = h5w_attr_i64(w, "/", "d_sae", (int64_t)m, err))) {
		h5w_abort(w);
		goto out;
	}
	rc = h5w_commit(w, err);
out:
	free(W_enc), free(b_enc);
	return rc;
}

static int analyze_case(struct bench_result *r, size_t d, size_t m, size_t n_seeds, int controls)
{
	struct hus_err err = { 0 };
	char dir[] = "/tmp/husai_bench_analyze_XXXXXX", paths[8][300], out[400];
	const char *pv[8];
	float *W = malloc(sizeof(float) * d * m);
	double *nrm = calloc(m, sizeof(double));
	int rc = 1;
	if (!W || !nrm || n_seeds > 8 || !mkdtemp(dir))
		goto cleanup;
	for (size_t s = 0; s < n_seeds; s++) {
		/* random unit-norm columns (torch.randn then column normalisation, like the peer) */
		torch_randn_f32(W, d * m, 1000 + s);
		memset(nrm, 0, sizeof(double) * m);
		for (size_t e = 0; e < d * m; e++)
			nrm[e % m] += (double)W[e] * W[e];
		for (size_t e = 0; e < d * m; e++)
			W[e] = (float)(W[e] / sqrt(nrm[e % m]));
		snprintf(paths[s], sizeof(paths[s]), "%s/sae_seed%zu.h5", dir, s);
		pv[s] = paths[s];
		if (write_ckpt(paths[s], (int64_t)s, d, m, W, &err))
			goto cleanup;
	}
	struct analysis_request q;
	analysis_request_defaults(&q);
	struct analysis_group g = { "bench", pv, n_seeds, NULL, 0 };
	snprintf(out, sizeof(out), "%s/analysis", dir);
	q.groups = &g;
	q.n_groups = 1;
	q.out_dir = out;
	q.command = "husai_bench";
	q.r1 = q.r2 = controls;
	double t0 = hus_now();
	if (analysis_run(&q, NULL, &err))
		goto cleanup;
	double dt = hus_now() - t0;
	/* products formed: n(n-1)/2 per set (trained, R1, R2) and, when the seed-level test can
	 * reach alpha (4 seeds and more), n² trained x control per control for its pooled matrix
	 * (docs/formulas.md §8.8: at 3 seeds it is not run) */
	size_t within = n_seeds * (n_seeds - 1) / 2;
	int powered = stats_perm_min_p(n_seeds, n_seeds, q.perm_max_exact, q.perm_B) < 0.05;
	size_t products = controls ? 3 * within + (powered ? 2 * n_seeds * n_seeds : 0) : within;
	/* the trained pairs' matching: the sparse one's candidates are folded into the trained
	 * pass (no product of their own while they fit in q.match_memory, 1 GiB: up to 8 seeds of
	 * 65 536 features here); the dense one forms a product per kind */
	size_t slot = (size_t)m * MATCH_SPARSE_K * 2 * (sizeof(int32_t) + sizeof(float));
	size_t folded = q.match_memory / slot < within ? q.match_memory / slot : within;
	products += m > q.hungarian_max ? within - (folded ? folded : 1) : 2 * within;
	r->unit = "seconds";
	r->value = dt;
	r->peak_rss_mb = bench_peak_rss_mb();
	r->dense_gflops = 2.0 * (double)d * (double)m * (double)m * (double)products / dt / 1e9;
	snprintf(r->note, sizeof(r->note), "analysis_run d%zu m%zu seeds%zu %s, %zu products of "
	         "2*d*m^2 (gflops over the whole run)", d, m, n_seeds,
	         controls ? "R1+R2" : "no controls", products);
	rc = 0;
cleanup:
	if (rc)
		snprintf(r->note, sizeof(r->note), "failed: %.200s", err.msg[0] ? err.msg : "setup");
	if (dir[strlen(dir) - 1] != 'X') {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd)) {
		}
	}
	free(W), free(nrm);
	return rc;
}

int bench_analyze_768x4096(struct bench_result *r) { return analyze_case(r, 768, 4096, 3, 1); }
int bench_analyze_768x16384(struct bench_result *r) { return analyze_case(r, 768, 16384, 3, 1); }

/* Issue 20's measurement, 5 seeds x 2 304 x 65 536 without controls (the trained pairs, their
 * matching, subspace, statistics): runs only with HUSAI_BENCH_SHAPE="<seeds>x<d_model>x<d_sae>"
 * set (skipped otherwise, so a full bench run stays short). */
int bench_analyze_scale(struct bench_result *r)
{
	size_t n = 5, d = 2304, m = 65536;
	const char *e = getenv("HUSAI_BENCH_SHAPE");
	if (!e) { /* hundreds of TFLOP at the default size: only when asked */
		snprintf(r->note, sizeof(r->note), "set HUSAI_BENCH_SHAPE=5x2304x65536 (about 400 "
		         "TFLOP) or a smaller <seeds>x<d>x<m> to run it");
		return 1;
	}
	if ((sscanf(e, "%zux%zux%zu", &n, &d, &m) != 3 || n < 2 || n > 8 || !d || !m)) {
		snprintf(r->note, sizeof(r->note), "HUSAI_BENCH_SHAPE must be <seeds 2-8>x<d>x<m>");
		return 1;
	}
	return analyze_case(r, d, m, n, 0);
}
