/*
 * analyze.h — the public face of analyze/: stability metrics between SAE decoders (PWMCC,
 * Hungarian matching, mutual nearest neighbours, subspace overlap, per-feature stability,
 * activation-level agreement), random controls (R1 Gaussian, R2 untrained SAE, the analytic
 * null) and statistics on GSL.  Reads only archived HDF5 artifacts through formats/.
 *
 * Conventions (STYLE.md): outputs first, inputs const, sizes last; a decoder W_dec is always
 * [d_model, d_sae] row-major, column j = feature j (docs/decisions.md §10, docs/formulas.md §5.1): nothing here
 * guesses orientation from shape.  Statistics take (x, stride, n) like GSL.
 *
 *   float *At = malloc(m_A * d * 4), *Bt = malloc(m_B * d * 4);
 *   pwmcc_normalize(At, &zA, A, d, m_A, &err);      // once per decoder
 *   pwmcc_normalize(Bt, &zB, B, d, m_B, &err);
 *   pwmcc_maxes(rowmax, colmax, NULL, NULL, At, Bt, d, m_A, m_B, &err);
 *   double v = pwmcc_from_maxes(rowmax, m_A, colmax, m_B);
 */
#ifndef HUSAI_ANALYZE_H
#define HUSAI_ANALYZE_H

#include <stddef.h>
#include <stdint.h>

#include "formats.h"

/* ---------------------------------------------------------------- PWMCC (pwmcc.c) --- */

/* Â: column-normalised A, stored transposed: At (m, d_model), row j = Â[:, j].  A column of
 * norm 0 stays 0 (upstream x/max(‖x‖, 1e-12)) and is counted in *n_zero.  A non-finite entry
 * is an HUS_EINPUT error naming the column. */
int pwmcc_normalize(float *At, size_t *n_zero, const float *A, size_t d_model, size_t m,
                    struct hus_err *err);
/* Row and column maxima of |Âᵀ·B̂| (docs/formulas.md §5.1) without materialising it: panels of
 * pwmcc_panel_rows rows of Âᵀ·B̂ by hus_gemm (numeric.h), maxima folded in per panel (memory
 * at most PWMCC_BLOCK_TALL·m_B floats per thread).  rowmax (m_A), colmax (m_B); argrow (m_A) / argcol (m_B) may be
 * NULL, else the argmax (lowest index on ties).  Bit-identical for any thread count. */
#define PWMCC_BLOCK 256
/* Panels of PWMCC_BLOCK_TALL rows when every thread still gets two or more of them: each panel
 * packs B̂ again (one copy per 2·rows FLOP), ~10% of a 768 x 16 384 product at 256 rows
 * (EXPERIMENTS.md).  Speed only: a panel's height changes no bit (invariants in pwmcc.c). */
#define PWMCC_BLOCK_TALL 1024
/* The panel height of a pass over m_A rows on nthr threads. */
size_t pwmcc_panel_rows(size_t m_A, int nthr);
/* A fold of one panel of Âᵀ·B̂ (pwmcc_panel_pass below): thread index, first row, rows, the
 * panel (bi, m_B) row-major. */
typedef void (*pwmcc_panel_fn)(void *ctx, int thread, size_t i0, size_t bi, const float *C);
int pwmcc_maxes(float *rowmax, float *colmax, int32_t *argrow, int32_t *argcol, const float *At,
                const float *Bt, size_t d_model, size_t m_A, size_t m_B, struct hus_err *err);
/* pwmcc_maxes, and `also` (when not NULL) handed every panel of the same pass before its maxima
 * are folded: another metric read off the same products instead of forming them again (the
 * sparse matching's candidates, match_cand_fold).  `also` runs on pwmcc_panel_threads(d_model,
 * m_A, m_B) threads, its thread index below that. */
int pwmcc_maxes_also(float *rowmax, float *colmax, int32_t *argrow, int32_t *argcol,
                     const float *At, const float *Bt, size_t d_model, size_t m_A, size_t m_B,
                     pwmcc_panel_fn also, void *also_ctx, struct hus_err *err);
/* (mean rowmax + mean colmax)/2, sums in double in index order. */
double pwmcc_from_maxes(const float *rowmax, size_t m_A, const float *colmax, size_t m_B);
/* The OpenMP threads of a blocked pass over Âᵀ·B̂'s row panels (pwmcc_maxes, match_candidates):
 * at most one per panel and none that would get under ~0.5 GFLOP; never changes a bit. */
int pwmcc_panel_threads(size_t d_model, size_t m_A, size_t m_B);
/* One blocked pass over Âᵀ·B̂ (At, Bt as from pwmcc_normalize): each pwmcc_panel_rows-row panel
 * formed by one hus_gemm call into its thread's buffer and handed to `fold` (thread index,
 * first row, rows, the panel (bi, m_B)); panels shared over nthr threads.  The same call per
 * panel whatever the threads, so every element has the same bits: PWMCC's maxima and the
 * sparse matching's candidates are folded from the same products. */
int pwmcc_panel_pass(const float *At, const float *Bt, size_t d_model, size_t m_A, size_t m_B,
                     int nthr, pwmcc_panel_fn fold, void *ctx, struct hus_err *err);
/* Every pair (i < j, lexicographic: seeds sorted give docs/formulas.md §5.2's order) of n
 * normalised decoders At[i] (m[i] x d): PWMCC into v[p] (v may be NULL) and, when `each` is
 * given, the pair's row and column maxima handed to it (a non-zero return stops the loop and
 * is returned).  The one pair loop of the drivers and of the analysis's per-model metrics. */
typedef int (*pwmcc_pair_fn)(void *ctx, size_t i, size_t j, const float *rowmax,
                             const float *colmax, struct hus_err *err);
int pwmcc_pairs(double *v, float *const *At, const size_t *m, size_t n, size_t d,
                pwmcc_pair_fn each, void *ctx, struct hus_err *err);

struct pwmcc_result {
	double pwmcc;          /* (r_A + r_B)/2 */
	double r_a, r_b;       /* mean best match of A's / B's features */
	size_t zero_a, zero_b; /* zero columns found (their best match is 0) */
};
/* Convenience: normalise both and reduce.  A (d_model, m_A), B (d_model, m_B). */
int pwmcc_blocked(struct pwmcc_result *res, const float *A, const float *B, size_t d_model,
                  size_t m_A, size_t m_B, struct hus_err *err);
/* The naive reference: the whole |C| in double, the formula of docs/formulas.md §5.1 verbatim. */
double pwmcc_ref(const float *A, const float *B, size_t d_model, size_t m_A, size_t m_B);

/* Pairs (§5.2): seeds sorted numerically, pairs (i<j) in lexicographic order.  order gets the
 * permutation that sorts seeds (stable); pair p of n is (pi[p], pj[p]) as positions into the
 * SORTED list.  Returns n*(n-1)/2. */
size_t pairs_order(size_t *order, const int64_t *seeds, size_t n);
void pairs_index(size_t *pi, size_t *pj, size_t n);

/* ---------------------------------------------------------------- Hungarian (hungarian.c) */

/* Exact minimum-cost assignment of an (n_rows, n_cols) cost matrix (row-major, double),
 * shortest augmenting path with potentials (Jonker–Volgenant family).  Every row is matched
 * when n_rows <= n_cols, else every column; row_to_col[i] = column or -1.  *total = Σ cost. */
int hungarian_solve(int32_t *row_to_col, double *total, const double *cost, size_t n_rows,
                    size_t n_cols, struct hus_err *err);

enum match_kind {
	MATCH_ABS = 0,    /* maximise Σ |cos| (docs/formulas.md §5.4, upstream hungarian_matching_analysis) */
	MATCH_SIGNED = 1, /* maximise Σ cos (Song et al., PW-MCC with signed cosines) */
};
struct match_result {
	double mean_sim;   /* mean matched similarity (|cos| or cos per kind) */
	size_t n_matched;  /* min(m_A, m_B) */
	double frac_05, frac_07, frac_thr; /* fraction of matched sims >= 0.5, 0.7, thr */
};
/* Match A's features to B's one-to-one.  perm (m_A): B column of A feature i or -1; sim (m_A):
 * matched similarity (NaN when unmatched).  At, Bt as from pwmcc_normalize.  Allocates the
 * m_A × m_B cost (inherent to an exact assignment). */
int match_hungarian(struct match_result *res, int32_t *perm, float *sim, const float *At,
                    const float *Bt, size_t d_model, size_t m_A, size_t m_B,
                    enum match_kind kind, double thr, struct hus_err *err);
/* The summary of matched similarities sim[0..m) (NaN: unmatched, left out), summed in index
 * order: both solvers' (hungarian.c). */
void match_summarize(struct match_result *res, const float *sim, size_t m, double thr);

/* ---------------------------------------------------------------- at scale (match_sparse.c) */

/* Each row's K best columns of Âᵀ·B̂ by |cos| (cand_abs, cval_abs: (m_A, K), the cosines) and by
 * signed cos (cand_sgn, cval_sgn), from one blocked pass of hus_gemm panels (either pair may be
 * NULL); ties to the lower column, each row's list sorted by column. */
int match_candidates(int32_t *cand_abs, float *cval_abs, int32_t *cand_sgn, float *cval_sgn,
                     const float *At, const float *Bt, size_t d_model, size_t m_A, size_t m_B,
                     size_t K, struct hus_err *err);
/* The candidates' fold, to run inside another pass over the same panels (pwmcc_maxes_also):
 * begin allocates per-thread workspace for pwmcc_panel_threads(d_model, m_A, m_B) threads,
 * match_cand_fold is the pwmcc_panel_fn, end frees the workspace (the outputs are the caller's). */
struct match_cand_fold {
	int32_t *cand_abs, *cand_sgn, *heap; /* heap: K per thread */
	float *cval_abs, *cval_sgn, *absrow; /* absrow: m_B per thread */
	size_t m_B, K;
};
int match_cand_fold_begin(struct match_cand_fold *f, int32_t *cand_abs, float *cval_abs,
                          int32_t *cand_sgn, float *cval_sgn, size_t d_model, size_t m_A,
                          size_t m_B, size_t K, struct hus_err *err);
void match_cand_fold(void *ctx, int thread, size_t i0, size_t bi, const float *C);
void match_cand_fold_end(struct match_cand_fold *f);
/* Exact minimum-cost assignment of n rows to m >= n columns restricted to K candidate columns
 * per row (cand, ccost: (n, K)).  *cost_out = its cost; *lower_bound = a dual bound on the
 * optimum over ALL n × m entries, valid when every left-out entry of row i costs at least its
 * worst candidate (docs/formulas.md §5.4).  HUS_EINPUT when the candidates admit no perfect
 * matching. */
int sparse_lap(int32_t *row_to_col, double *cost_out, double *lower_bound, const int32_t *cand,
               const double *ccost, size_t n, size_t m, size_t K, struct hus_err *err);
struct match_sparse_one {
	struct match_result m; /* NaN when not perfect */
	int perfect;           /* the candidates gave a perfect matching */
	double dual_bound;     /* upper bound on the exact optimum's mean similarity */
	double gap;            /* dual_bound − mean_sim (0 to rounding: the value is exact) */
};
struct match_sparse_result {
	struct match_sparse_one abs, sgn;
	size_t k;
};
/* Both Hungarian kinds (|cos| and signed) of A vs B from K candidates per row: one product. */
int match_sparse(struct match_sparse_result *res, int32_t *perm_abs, float *sim_abs,
                 int32_t *perm_sgn, float *sim_sgn, const float *At, const float *Bt,
                 size_t d_model, size_t m_A, size_t m_B, size_t K, double thr,
                 struct hus_err *err);
/* One kind (signed_kind 0: |cos|, 1: signed) from candidates already found (cand, val: (m_A,
 * K) as match_candidates gives them): o, perm and sim (m_A) as match_sparse's.  Touches only
 * its arguments, so kinds and pairs may be solved on different threads. */
int match_sparse_kind(struct match_sparse_one *o, int32_t *perm, float *sim,
                      const int32_t *cand, const float *val, size_t m_A, size_t m_B, size_t K,
                      int signed_kind, double thr, struct hus_err *err);
#define MATCH_SPARSE_K 32

/* ---------------------------------------------------------------- Sinkhorn (sinkhorn.c) */

/* Entropic optimal transport between A's and B's features (Cuturi 2013; docs/formulas.md §5.4):
 * cost 1 − |cos|, uniform marginals 1/m_A and 1/m_B, plan P = diag(u)·K·diag(v) with
 * K = exp(−cost/ε).  Scalings alternate from v = 1 until the L1 error of the plan's row
 * marginals is <= SINKHORN_TOL or SINKHORN_MAX_ITER updates were made.  Dense: m_A·m_B doubles. */
#define SINKHORN_MAX_ITER 1000
#define SINKHORN_TOL 1e-9
#define SINKHORN_EPS_MIN 0.01
#define SINKHORN_EPS_MAX 10.0
#define SINKHORN_MAX_D_SAE 4096 /* above it the analysis says "not computed" (memory) */
struct sinkhorn_result {
	double mean_sim;      /* mean over A's features of |cos| to the column of its row's
	                       * largest plan entry (lowest column on ties) */
	double frac_05, frac_07, frac_thr; /* fractions of those |cos| >= 0.5, 0.7, thr */
	double ot_cost;       /* Σ_ij P_ij (1 − |cos_ij|): the transport cost of the plan */
	double one_to_one;    /* distinct columns read off / m_A (1: the read-out is one-to-one) */
	size_t iterations;    /* scaling updates made */
	double marginal_err;  /* L1 error of the row marginals at the stop */
};
/* The scalings u (m_A), v (m_B) of a kernel K (m_A, m_B), row-major, positive.  Every sum in a
 * fixed order: the same bits for any thread count. */
int sinkhorn_scale(double *u, double *v, size_t *iterations, double *marginal_err,
                   const double *K, size_t m_A, size_t m_B, size_t max_iter, double tol,
                   struct hus_err *err);
/* perm (m_A): the column read off each row; sim (m_A): its |cos|.  At, Bt as from
 * pwmcc_normalize; eps in [SINKHORN_EPS_MIN, SINKHORN_EPS_MAX]. */
int match_sinkhorn(struct sinkhorn_result *res, int32_t *perm, float *sim, const float *At,
                   const float *Bt, size_t d_model, size_t m_A, size_t m_B, double eps,
                   double thr, struct hus_err *err);

/* ---------------------------------------------------------------- other metrics ------ */

/* Mutual nearest neighbours (mnn.c): pairs i<->j that are each other's argmax of |cos| and
 * whose |cos| > thr.  Inputs are pwmcc_maxes outputs.  Returns the count; *frac = count /
 * min(m_A, m_B). */
size_t mnn_count(double *frac, const float *rowmax, const int32_t *argrow,
                 const int32_t *argcol, size_t m_A, size_t m_B, double thr);

/* Subspace overlap (subspace.c, docs/formulas.md §5.4): U_k = top-k left singular vectors of W_dec
 * (GSL SVD of W_decᵀ), overlap = ‖U1ᵀU2‖_F²/k, principal angles = arccos of the clamped
 * singular values of U1ᵀU2 (angles (k), ascending), Grassmann distance = ‖angles‖₂. */
struct subspace_result {
	double overlap, grassmann, mean_cos2;
};
/* U (d_model, k) OUT: top-k left singular vectors of W (d_model, m); needs k <= min(d, m). */
int subspace_basis(double *U, const float *W, size_t d_model, size_t m, size_t k,
                   struct hus_err *err);
/* The same U from Wᵀ stored (m, d_model), as pwmcc_normalize leaves a decoder (no copy). */
int subspace_basis_t(double *U, const float *Wt, size_t d_model, size_t m, size_t k,
                     struct hus_err *err);
int subspace_compare(struct subspace_result *res, double *angles, const double *U1,
                     const double *U2, size_t d_model, size_t k, struct hus_err *err);

/* Per-feature stability (per_feature.c, docs/formulas.md §5.4): for model i, feature f, the mean over the
 * other models j of max_g |cos(d_if, d_jg)|.  Accumulate one pair's maxima at a time. */
void per_feature_accumulate(double *acc_a, double *acc_b, const float *rowmax,
                            const float *colmax, size_t m_A, size_t m_B);
void per_feature_finish(float *stability, const double *acc, size_t m, size_t n_models);

/* Activation-level agreement (activation_agreement.c, docs/formulas.md §5.4). */
enum latent_arch {
	LATENT_TOPK = 0,          /* standard: (x - b_dec)·W_encᵀ + b_enc, ReLU, top-k */
	LATENT_TOPK_UPSTREAM = 1, /* upstream: signed top-k of x·W_encᵀ + b_enc, no b_dec */
	LATENT_RELU = 2,          /* ReLU(x·W_encᵀ + b_enc - W_enc·b_dec) */
	LATENT_THRESHOLD = 3,     /* jumprelu, and batchtopk/matryoshka at inference:
	                           * pre where pre > θ_j and pre > 0 (needs threshold) */
};
/* "topk", "topk_upstream" (also "topk_signed"), "relu", "jumprelu", "batchtopk",
 * "matryoshka" (train/'s names); -1 if unknown. */
int latent_arch_parse(const char *name);
struct sae_encoder {
	enum latent_arch arch;
	size_t d_model, d_sae, k; /* k used by top-k architectures */
	const float *W_enc;       /* (d_sae, d_model) */
	const float *b_enc;       /* (d_sae) */
	const float *b_dec;       /* (d_model) or NULL */
	const float *threshold;   /* (d_sae), LATENT_THRESHOLD only */
};
/* z (N, d_sae) OUT: latents of x (N, d_model). */
int sae_latents(float *z, const struct sae_encoder *e, const float *x, size_t N,
                struct hus_err *err);
struct act_agreement {
	double abs_pearson; /* |Pearson r| of the flattened latent matrices (NaN if constant) */
	double jaccard;     /* mean over samples of Jaccard of the top-k |z| index sets */
};
/* z1, z2 (N, d_sae) latents of two SAEs on the same rows; top-k sets of size k. */
int act_agreement(struct act_agreement *res, const float *z1, const float *z2, size_t N,
                  size_t d_sae, size_t k, struct hus_err *err);

/* ---------------------------------------------------------------- controls (controls.c) */

/* R1 (docs/formulas.md §5.3): torch.randn((d_model, d_sae)) from a CPU generator seeded with seed.
 * W (d_model, d_sae).  Needs d_model·d_sae % 16 == 0. */
int control_r1(float *W, uint64_t seed, size_t d_model, size_t d_sae, struct hus_err *err);
/* R2 (docs/formulas.md §4.2): the TopKSAE decoder init, W_dec ~ U(−√(6/d_sae), √(6/d_sae)) drawn row-major
 * with torch's float uniform rule on MT19937 seeded with seed ((next32 & 0xFFFFFF)·2⁻²⁴),
 * then unit columns.  Same distribution as torch's init, NOT torch's consumption order (the
 * upstream init draws encoder weights first): use the step-0 checkpoint for the exact one. */
int control_r2(float *W, uint64_t seed, size_t d_model, size_t d_sae, struct hus_err *err);

/* Analytic null (null_model.c, docs/decisions.md §8): E[max over m of |cos|] for one unit vector against
 * m independent uniform unit vectors in R^d, and E[PWMCC] of (d, m_A) vs (d, m_B). */
int null_expected_max(double *result, size_t d, size_t m, struct hus_err *err);
int null_expected_pwmcc(double *result, size_t d, size_t m_A, size_t m_B, struct hus_err *err);

/* ---------------------------------------------------------------- statistics (stats_*.c) */

/* summarize (docs/formulas.md §6.0): mean, sd (ddof=1; 0 for n=1), min, max, median, percentile bootstrap
 * 95 % CI of the mean (B resamples, GSL mt19937 seeded with `seed`, indices by
 * gsl_rng_uniform_int drawn row by row; quantiles with linear interpolation at q·(B−1)).
 * n = 0 gives NaN everywhere.  Not numpy's PCG64: CIs differ from upstream's around the 5th
 * decimal (spec A7). */
struct stats_summary {
	double mean, std, min, max, median, ci95_low, ci95_high;
	size_t n;
};
int stats_summarize(struct stats_summary *s, const double *x, size_t stride, size_t n,
                    size_t B, uint64_t seed, struct hus_err *err);
/* Percentile of sorted data with numpy's linear rule (position q·(n−1)). */
double stats_quantile_sorted(const double *sorted, size_t n, double q);
/* Bootstrap CI of mean(x) − mean(y): one RNG, B resample-means of x then B of y (§6.0). */
int stats_bootstrap_mean_diff(double *point, double *lo, double *hi, const double *x,
                              size_t sx, size_t nx, const double *y, size_t sy, size_t ny,
                              size_t B, uint64_t seed, struct hus_err *err);

enum mwu_alt { MWU_GREATER = 0, MWU_LESS = 1, MWU_TWO_SIDED = 2 };
struct mwu_result {
	double u1;    /* U of x: R_x − n_x(n_x+1)/2 (the statistic scipy reports) */
	double p;     /* p-value for the alternative */
	int exact;    /* 1 exact null distribution, 0 normal approximation */
	int ties;     /* 1 if the pooled sample has ties */
};
/* Mann–Whitney U, scipy mannwhitneyu(method="auto", use_continuity=True) semantics: exact
 * when there are no ties and min(n_x, n_y) <= 8 (scipy's rule; docs/formulas.md §6.0 says "asymptotic
 * if both > 8 or any ties"), else normal with tie and continuity correction. */
int stats_mannwhitney(struct mwu_result *res, const double *x, size_t sx, size_t nx,
                      const double *y, size_t sy, size_t ny, enum mwu_alt alt,
                      struct hus_err *err);
/* P(U >= u) under H0 for sizes n1, n2 without ties (exact; Gaussian binomial coefficients). */
double stats_mwu_exact_sf(double u, size_t n1, size_t n2);

/* Effects (stats_effect.c, §6.0). */
double stats_cohens_d(const double *x, size_t sx, size_t nx, const double *y, size_t sy,
                      size_t ny); /* NaN if n < 2 or pooled sd 0 */
double stats_ratio(double trained_mean, double random_mean); /* NaN unless random_mean > 0 */
double stats_conservative_lcb(const struct stats_summary *trained,
                              const struct stats_summary *random);

/* Selection (stats_select.c, §6.4, §6.5): lexicographic argmax of (lcb, delta, third) over
 * the eligible records (NaN ranks below every number; ties keep the first).  Returns the
 * index, or -1 when n = 0. */
long stats_select_ev_floor(const double *lcb, const double *delta, const double *ev, size_t n,
                           double ev_floor);
/* baseline = record with |lambda| < 1e-12, else smallest |lambda|; eligible when
 * ev[baseline] − ev[i] <= max_drop; third = align. */
long stats_select_ev_drop(const double *lcb, const double *delta, const double *align,
                          const double *ev, const double *lambda, size_t n, double max_drop);

/* Dependence-aware statistics (stats_seed.c, docs/formulas.md §8.8).  `pair` is the symmetric
 * (n_models, n_models) matrix of PWMCC values (diagonal ignored).
 *
 * Seed-level bootstrap of mean PWMCC: resample n_models model indices with replacement;
 * the statistic is the mean of pair[a][b] over resampled positions p<q whose models differ
 * (a pair of copies of one model is not a cross-seed comparison and is skipped); a resample
 * with no such pair is redrawn.  CI = 2.5/97.5 percentiles with linear interpolation.  GSL
 * mt19937 seeded with `seed`. */
int stats_seed_bootstrap(double *mean, double *lo, double *hi, const double *pair,
                         size_t n_models, size_t B, uint64_t seed, struct hus_err *err);
/* Permutation test over model labels: models 0..n1-1 are group 1, n1..n1+n2-1 group 2, pair
 * is ((n1+n2)²).  Statistic = mean within-group-1 pairs − mean within-group-2 pairs.  All
 * C(n1+n2, n1) relabellings when that is <= max_exact, else B random ones (mt19937, seed;
 * p = (1 + #{stat >= obs}) / (B + 1)).  One-sided p (greater) and two-sided (|stat|). */
struct perm_result {
	double stat, p_greater, p_two_sided;
	size_t n_perm;
	int exact;
	int skipped; /* stats_seed_permutation_design: the relabellings were not run */
};
int stats_seed_permutation(struct perm_result *res, const double *pair, size_t n1, size_t n2,
                           size_t max_exact, size_t B, uint64_t seed, struct hus_err *err);
/* The same test's observed statistic and design (n_perm, exact) without its relabellings, for
 * a design whose smallest attainable p (stats_perm_min_p) is not below α: no outcome could
 * reject, so the cross-group PWMCCs the relabellings need are not computed and pair's
 * cross entries are not read (docs/formulas.md §8.8).  p-values NaN, skipped = 1. */
int stats_seed_permutation_design(struct perm_result *res, const double *pair, size_t n1,
                                  size_t n2, size_t max_exact, size_t B, struct hus_err *err);

/* Seed-level verdicts (stats_seed.c, docs/formulas.md §8.8 "verdict").  The unit is the model.
 *
 * Bootstrap CI of mean(group-1 pairs) − mean(group-2 pairs): each group's models resampled
 * independently with replacement (group 1 first, then group 2, one mt19937 seeded with seed;
 * positions holding one model skipped; an all-equal resample redrawn); 2.5/97.5 percentiles.
 * p1 (n1²), p2 (n2²) pair matrices.  NaN bounds when a group has < 2 models or B < 2. */
int stats_seed_bootstrap_diff(double *lo, double *hi, const double *p1, size_t n1,
                              const double *p2, size_t n2, size_t B, uint64_t seed,
                              struct hus_err *err);
/* Smallest one-sided p the permutation test can return for n1 vs n2 models: 1/C(n1+n2, n1)
 * when enumerated (<= max_exact relabellings), else 1/(B+1).  NaN if a group has < 2. */
double stats_perm_min_p(size_t n1, size_t n2, size_t max_exact, size_t B);
/* 1 when that test can reach p < 0.05 (stats_perm_min_p below it), so the analysis runs it and
 * forms its n1·n2 cross-group products; 0: the design cannot reject, the test is not run
 * (stats_seed_permutation_design; docs/formulas.md §8.8). */
int stats_seed_test_runs(size_t n1, size_t n2, size_t max_exact, size_t B);
/* Smallest n (models per group, both groups n) with m_tests · min p < alpha: the seeds a
 * design needs before Holm over m_tests conditions can reject anything; 0 if none <= 64. */
size_t stats_perm_seeds_needed(double alpha, size_t m_tests, size_t max_exact, size_t B);
/* Holm step-down adjusted p-values over the finite p[i] (NaN entries stay NaN and do not
 * count as tests): sort ascending, adj(r) = max over r' <= r of min(1, (m − r')·p(r')). */
void stats_holm(double *adj, const double *p, size_t n);
/* The verdict of one condition from its (adjusted) permutation p, the (adjusted) smallest p
 * its design can reach, its effect (trained − control mean PWMCC) and alpha:
 * "underpowered" when min_p_adjusted >= alpha (no outcome could reject), else
 * "training_signal_present" when p_adjusted < alpha and effect > 0, else "no_training_signal";
 * NULL when p is undefined (a group with < 2 models). */
const char *stats_seed_verdict(double p_adjusted, double min_p_adjusted, double effect,
                               double alpha);

/* ---------------------------------------------------------------- checkpoints (decoders.c) */

struct decoder {
	char path[4096];
	char sha256[65];
	int64_t seed, step, k;     /* step, k: -1 when not recorded */
	size_t d_model, d_sae;
	char architecture[32], condition[128], control[32];
	char source_format[64];    /* an imported SAE's source layout ("" for husai-trained) */
	float *W_dec;              /* (d_model, d_sae), finite */
	float *W_enc, *b_enc, *b_dec; /* (d_sae, d_model), (d_sae), (d_model): with_encoder only */
	float *threshold;             /* (d_sae) when stored: with_encoder only */
};
/* Read and validate an SAE checkpoint (format, version, attributes, W_dec shape = the
 * d_model/d_sae attributes, finite weights).  Errors name the file and dataset. */
int decoder_load(struct decoder *d, const char *path, int with_encoder, struct hus_err *err);
void decoder_release(struct decoder *d);
/* The decoders of n checkpoints (decoder_load each) with one d_model, normalised for PWMCC
 * (pwmcc_normalize): At[i] is (m[i], d).  On error nothing stays allocated. */
struct decoder_set {
	size_t n, d;
	struct decoder *dec;
	float **At;
	size_t *m;
};
int decoder_set_load(struct decoder_set *s, const char *const *paths, size_t n,
                     struct hus_err *err);
void decoder_set_release(struct decoder_set *s);

/* Recovery of planted features (truth.c, docs/formulas.md §10.2).  Tt (n, d) the normalised
 * true dictionary, At (m, d) a normalised decoder: best (n) best |cos| per true feature,
 * match (n) its Hungarian latent (-1 none), match_cos (n) the matched |cos|. */
struct truth_recovery {
	double mcc, recovery_mean, recovered_09, recovered_07;
};
int truth_recovery(struct truth_recovery *res, float *best, int32_t *match, float *match_cos,
                   const float *Tt, const float *At, size_t d, size_t n, size_t m,
                   struct hus_err *err);
/* Precision and recall of the true codes (CSR indptr/indices over n features) by the matched
 * latents Z (rows, m), pooled over matched pairs; NaN when a denominator is 0. */
void truth_codes(double *precision, double *recall, const int32_t *match, const float *Z,
                 size_t rows, size_t m, const int64_t *indptr, const int32_t *indices, size_t n);

/* ---------------------------------------------------------------- the analysis (analysis.c) */

/* One condition: its trained SAE checkpoints (any order; sorted by seed). */
struct analysis_group {
	const char *name;         /* [A-Za-z0-9_.-]+ */
	const char *const *paths;
	size_t n;
	const char *const *r2_paths; /* step-0 checkpoints for R2, or NULL: the §4.2 recipe */
	size_t n_r2;
};
struct analysis_request {
	const struct analysis_group *groups;
	size_t n_groups;
	int r1, r2;                /* sampled controls to compute (R1 Gaussian, R2 untrained) */
	const int64_t *r1_seeds;   /* explicit R1 seeds (phase 4a: 1000..1004), or NULL: */
	size_t n_r1_seeds;
	int64_t r1_offset;         /* ... seed + r1_offset for each trained seed (default 100000) */
	size_t bootstrap_B;        /* 10000 */
	uint64_t seed_trained, seed_random, seed_r2, seed_level; /* 17, 29, 31, 41 */
	double match_thr;          /* configurable "shared" threshold (default 0.5; 0.5/0.7 always) */
	double mnn_thr;            /* 0.3 */
	size_t subspace_k;         /* 50, clamped to min(d_model, d_sae) */
	size_t hungarian_max;      /* dense Hungarian up to this d_sae (default 4096), sparse with a
	                            * certificate above (match_sparse.c); 0: matching off */
	size_t match_memory;       /* bytes of sparse-matching candidates held at once (default
	                            * 1 GiB): the pairs beyond are matched in later chunks, with
	                            * a product of their own each; the same values either way */
	size_t perm_max_exact, perm_B; /* exact permutation test up to this many splits, else B */
	const char *out_dir;       /* analysis.h5, results.json, CSVs, manifest.json */
	const char *command;       /* recorded in the manifest */
	int write_matchings;       /* store /matching/... (default 1) */
	const char *activations;   /* husai.activation_set for activation agreement, or NULL */
	size_t act_rows;           /* its first rows used (upstream: 1000) */
	size_t act_k;              /* top-k for Jaccard when a checkpoint records no k (32) */
	const char *truth;         /* a planted activation set (husai plant): recovery metrics, or NULL */
	size_t truth_rows;         /* its first rows used for code precision/recall (4096) */
	double stability_thr;      /* > 0: per-feature stability probability at this |cos| */
	size_t unstable_k;         /* dimensions compared of the unstable features' span (16) */
	double sinkhorn_eps;       /* > 0: Sinkhorn matching of the trained pairs at this epsilon
	                            * (sinkhorn.c); 0: off (the default) */
	const char *pair_cache;    /* a directory of pair caches (husai.pair_cache): a product whose
	                            * file is there is read from it (validated), else computed;
	                            * the outputs are the same bytes either way */
	int64_t pair_only;         /* >= 0: compute only product number pair_only of the one group
	                            * into pair_cache and write nothing else (a pair job); -1: off */
	size_t pair_count;         /* with pair_only: products pair_only .. pair_only+count-1 (1) */
};
void analysis_request_defaults(struct analysis_request *q);
/* The pair cache of product `product` of `group` in `dir`: <dir>/<group>_<product>.h5. */
void analysis_pair_cache_path(char *out, size_t n, const char *dir, const char *group,
                              size_t product);
/* How many products the analysis of one group makes, in the order it makes them (the pair
 * jobs' numbers): the trained pairs, then for R1 and for R2 (when computed) the control's
 * pairs and its cross pairs with the trained models (the permutation test's pooled matrix,
 * when that test is run: stats_seed_test_runs).  n trained models, n1 R1 models (0: no R1), n2 R2 models (0: no R2). */
size_t analysis_pair_products(size_t n, size_t n1, size_t n2);
/* the seed-level permutation test's settings (every analysis uses these) */
#define ANALYSIS_PERM_MAX_EXACT 20000 /* enumerate every relabelling up to this many */
#define ANALYSIS_PERM_B 9999          /* else this many random ones */
/*
 *   struct analysis_request q;  analysis_request_defaults(&q);
 *   const char *ck[] = { "sae/s42.h5", "sae/s123.h5", "sae/s456.h5" };
 *   struct analysis_group g = { "k32", ck, 3, NULL, 0 };
 *   q.groups = &g;  q.n_groups = 1;  q.out_dir = "run/analysis";
 *   hj *res;  if (analysis_run(&q, &res, &err)) ...
 *   hj_get(res, "groups.k32.trained.mean"), "groups.k32.random", ".controls.r2",
 *   ".controls.analytic_null.expected_pwmcc", ".seed_level_bootstrap", ".per_feature_stability"
 */

/* Activation-level agreement in the analysis (analysis_acts.c), on rows read by acts_head_read. */
/* For checkpoints `paths` (in the pair order wanted), the latents of X under each one's
 * encoder and architecture, then per pair (i<j) |Pearson r| and the mean top-k Jaccard
 * (k = the checkpoints' smaller k, or k_default when unrecorded).  NaN for pairs of
 * different d_sae. */
int act_pairs(double *pearson, double *jaccard, const char *const *paths, size_t n,
              const float *X, size_t N, size_t d_model, size_t k_default, struct hus_err *err);
/* Run the whole analysis and write its outputs.  *results (optional) gets the results.json
 * tree (caller hj_free's it).  Groups with fewer than two seeds give null statistics with a
 * reason, not an error (docs/formulas.md §8.13). */
int analysis_run(const struct analysis_request *q, hj **results, struct hus_err *err);

/* A request read from a YAML listing (analysis_config.c; the keys are documented there).
 * The spec owns every string the request points to. */
#define ANALYSIS_SPEC_MAX 128
struct analysis_spec {
	struct analysis_request q;
	struct analysis_group groups[ANALYSIS_SPEC_MAX / 2];
	char *buf[ANALYSIS_SPEC_MAX];
	char **lists[ANALYSIS_SPEC_MAX];
	size_t nbuf;
	int64_t *r1_seeds;
	struct cfg *c;
};
int analysis_spec_load(struct analysis_spec *s, const char *path, struct hus_err *err);
void analysis_spec_release(struct analysis_spec *s);

/* `husai run` and `husai audit`: run/run.h. */

#endif
