/*
 * analysis.c — the analysis driver behind `husai analyze` and `husai run`: for each group
 * (condition) of archived SAE checkpoints it computes every pair's PWMCC (§5.1/§5.2) with
 * the pair-level extras (mutual nearest neighbours, Hungarian PW-MCC both kinds, subspace
 * overlap), per-feature stability, the random controls (R1 Gaussian, R2 untrained, the
 * analytic null; docs/decisions.md §3, §8), upstream's statistics (summaries, delta, ratio, Cohen's d,
 * conservative LCB, one-sided Mann–Whitney; §6.0, §6.2) and, beside them, the seed-level
 * bootstrap and permutation tests (§8.8).  It writes analysis.h5 (husai.analysis), results.json,
 * one CSV of pairs per group and control, and manifest.json.  The model sets and their pairs
 * live in analysis_sets.c, the JSON/CSV pieces in analysis_json.c, activation agreement in
 * analysis_acts.c, the YAML listing in analysis_config.c.  With --pair-cache every product of
 * two decoders is read from its pair cache when one is there (a pair job, --pair-only, wrote
 * it: pair_only_group), bit for bit what it would compute (docs/reproducibility.md "Pairs as
 * jobs").
 *
 * Invariants:
 *  (1) the outputs depend only on the inputs and the request: no timestamps or host paths
 *      in results.json, the CSVs or the HDF5 datasets (h5w/manifest keep the timestamps);
 *  (2) models are in numerically sorted seed order and pairs in lexicographic order (§5.2);
 *  (3) a group with fewer than two seeds yields null statistics with a reason (§8.13).
 */
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis_internal.h"

void analysis_request_defaults(struct analysis_request *q)
{
	memset(q, 0, sizeof(*q));
	q->r1 = 1;
	q->r2 = 1;
	q->r1_offset = 100000;
	q->bootstrap_B = 10000;
	q->seed_trained = 17; /* phase 4a's bootstrap seeds (docs/formulas.md §6.0 table) */
	q->seed_random = 29;
	q->seed_r2 = 31;
	q->seed_level = 41;
	q->match_thr = 0.5;
	q->mnn_thr = 0.3;
	q->subspace_k = 50;
	q->match_memory = ANALYSIS_CAND_BUDGET;
	q->hungarian_max = 4096;
	q->perm_max_exact = ANALYSIS_PERM_MAX_EXACT;
	q->perm_B = ANALYSIS_PERM_B;
	q->write_matchings = 1;
	q->act_rows = 1000; /* upstream: the first 1000 activations (spec 5.4) */
	q->act_k = 32;
	q->truth_rows = 4096;
	q->unstable_k = 16;
	q->pair_only = -1;
	q->pair_count = 1;
}

struct group_ctx {
	const struct analysis_request *q;
	const struct analysis_group *g;
	struct h5w *h5;
	struct manifest *man;
	hj *out; /* this group's results object */
	const float *X; /* activation rows for agreement (X_n, X_d), or NULL */
	size_t X_n, X_d;
	struct pairwork *w; /* the group's pair buffers and progress line */
	const struct planted_truth *truth; /* or NULL */
	const float *TX; /* the planted set's first rows (TX_n) */
	size_t TX_n;
	struct written *csvs; /* the CSVs written so far: removed when the analysis fails */
};

/* The CSV files an analysis has written, so that a failure leaves none of its outputs. */
struct written {
	char **path;
	size_t n, cap;
};

static int group_csv(struct group_ctx *gc, const char *name, const int64_t *sa, const int64_t *sb,
                     const double *v, size_t n, struct hus_err *err)
{
	struct written *w = gc->csvs;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 8;
		char **p = realloc(w->path, cap * sizeof(*p));
		if (!p)
			return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
		w->path = p, w->cap = cap;
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", gc->q->out_dir, name);
	if (!(w->path[w->n] = strdup(path)))
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	w->n++; /* listed before writing: a failure midway leaves no temporary either way */
	return write_pairs_csv(gc->q->out_dir, name, sa, sb, v, n, gc->man, err);
}

/* the subspace dimension of a set: analysis_request.subspace_k clamped to its shapes */
static size_t subspace_k_of(const struct analysis_request *q, const struct mset *t)
{
	size_t k = q->subspace_k < t->d ? q->subspace_k : t->d;
	for (size_t i = 0; i < t->n; i++)
		k = t->m[i] < k ? t->m[i] : k;
	return k;
}

/* Pair-level extras for the trained set: MNN (folded in the first pass), Hungarian both
 * kinds, subspace overlap, the analytic null of each pair's shape.  ex: the bases (computed
 * or begun, pair_tasks.c) and the sparse assignments' room. */
static int trained_extras(struct group_ctx *gc, const struct mset *t, const struct pairset *tp,
                          const struct pf_summary *pfsum, struct ana_pairs *tab, hj *metrics,
                          struct pair_tasks *x, struct hus_err *err)
{
	const struct analysis_request *q = gc->q;
	size_t n = t->n, d = t->d, mmax = 0;
	for (size_t i = 0; i < n; i++)
		mmax = t->m[i] > mmax ? t->m[i] : mmax;
	int do_hung = mmax <= q->hungarian_max;
	size_t k = x->k;
	int rc = 0;
	double *cert = NULL;
	float *sim = malloc(sizeof(float) * mmax);
	int32_t *perm = malloc(sizeof(int32_t) * mmax);
	/* above hungarian_max the sparse assignment with its certificate (match_sparse.c); it
	 * needs m_A <= m_B, said in results.json when a pair does not fit */
	int do_sparse = !do_hung && n >= 2 && q->hungarian_max > 0; /* 0: matching off */
	size_t np = n < 2 ? 0 : n * (n - 1) / 2;
	/* the sparse pairs in chunks of the candidate slots (all of them at once unless memory
	 * says otherwise) */
	struct pairwork *w = gc->w;
	size_t chunk = do_sparse ? w->cand_slots : np;
	if (!sim || !perm) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for pair metrics");
		goto cleanup;
	}
	/* columns of the pair table after pwmcc, r_a, r_b */
	const char *names[] = { "mnn_fraction", "hungarian_abs_mean", "hungarian_abs_frac_0.5",
		                "hungarian_abs_frac_0.7", "hungarian_abs_frac_thr",
		                "hungarian_signed_mean", "hungarian_signed_frac_0.5",
		                "subspace_overlap", "grassmann_distance", "null_expected_pwmcc" };
	size_t c0 = tab->ncols, nc = sizeof(names) / sizeof(names[0]);
	for (size_t c = 0; c < nc; c++) {
		snprintf(tab->col_name[c0 + c], sizeof(tab->col_name[0]), "%s", names[c]);
		tab->col[c0 + c] = calloc(tab->n ? tab->n : 1, sizeof(double));
		if (!tab->col[c0 + c]) {
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for pair metrics");
			goto cleanup;
		}
		tab->ncols = c0 + c + 1;
	}
	cert = calloc(4 * (np ? np : 1), sizeof(double)); /* bound abs, sgn; gap abs, sgn */
	size_t n_imperfect = 0, n_inexact = 0;
	if (!cert) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for pair metrics");
		goto cleanup;
	}
	/* the bases with the first chunk (pair_tasks.c) */
	for (size_t p0 = 0; p0 == 0 || p0 < np; p0 += chunk ? chunk : 1) {
		size_t p1 = np - p0 < chunk ? np : p0 + chunk;
		if ((rc = pair_tasks_solve(x, t, w, p0, p1, p0 == 0, do_sparse, q->match_thr, err)))
			goto cleanup;
		for (size_t p = p0; p < p1; p++) {
			size_t i = x->pi[p], j = x->pj[p];
			tab->col[c0 + 0][p] = tp->mnn[p];
			for (int e = 0; e < 4; e++)
				cert[e * np + p] = NAN;
			int sparse_ok = do_sparse && t->m[i] <= t->m[j];
			if (do_sparse && !sparse_ok)
				n_imperfect += 2; /* rows must not outnumber columns: NaN, counted */
			struct match_sparse_one *so = x->so + 2 * (p - p0);
			if (sparse_ok) {
				cert[0 * np + p] = so[0].dual_bound, cert[1 * np + p] = so[1].dual_bound;
				cert[2 * np + p] = so[0].gap, cert[3 * np + p] = so[1].gap;
				for (int kind = 0; kind < 2; kind++) {
					n_imperfect += !so[kind].perfect;
					n_inexact += so[kind].perfect && !(so[kind].gap < 1e-9);
				}
			}
			for (int kind = 0; kind < 2; kind++) {
				struct match_result mr = { NAN, 0, NAN, NAN, NAN };
				if (sparse_ok) {
					mr = so[kind].m;
					if (so[kind].perfect && q->write_matchings &&
					    (rc = ana_write_matching(gc->h5, gc->g->name, t->seed[i], t->seed[j],
					                             kind ? "signed_" : "",
					                             pair_tasks_perm(x, p0, p, kind),
					                             pair_tasks_sim(x, p0, p, kind), t->m[i],
					                             err))) {
							goto cleanup;
					}
				}
				if (do_hung) {
					rc = match_hungarian(&mr, perm, sim, t->At[i], t->At[j], d, t->m[i],
					                     t->m[j], kind ? MATCH_SIGNED : MATCH_ABS,
					                     q->match_thr, err);
					if (!rc && q->write_matchings)
						rc = ana_write_matching(gc->h5, gc->g->name, t->seed[i], t->seed[j],
						                        kind ? "signed_" : "", perm, sim, t->m[i], err);
					if (rc) {
							goto cleanup;
					}
				}
				if (!kind) {
					tab->col[c0 + 1][p] = mr.mean_sim;
					tab->col[c0 + 2][p] = mr.frac_05;
					tab->col[c0 + 3][p] = mr.frac_07;
					tab->col[c0 + 4][p] = mr.frac_thr;
				} else {
					tab->col[c0 + 5][p] = mr.mean_sim;
					tab->col[c0 + 6][p] = mr.frac_05;
				}
			}
			struct subspace_result sub = { NAN, NAN, NAN };
			if (k && (rc = subspace_compare(&sub, NULL, x->U[i], x->U[j], d, k, err))) {
				if (err && t->file[i] && t->file[j]) {
					size_t o = strlen(err->msg);
					snprintf(err->msg + o, sizeof(err->msg) - o, " (with %.400s)",
						 t->file[j]);
					snprintf(err->file, sizeof(err->file), "%s", t->file[i]);
				}
				goto cleanup;
			}
			tab->col[c0 + 7][p] = sub.overlap;
			tab->col[c0 + 8][p] = sub.grassmann;
			if ((rc = null_expected_pwmcc(&tab->col[c0 + 9][p], d, t->m[i], t->m[j], err))) {
				goto cleanup;
			}
		}
	}
	if (do_sparse) {
		/* the certificate beside the values (docs/artifacts.md) and a word on stderr when a
		 * value is not the proven optimum */
		hj *c = hj_obj();
		hj_set(c, "method", hj_str("sparse assignment on the K best candidates per row "
		                           "(exact on them), dual bound over the whole matrix"));
		hj_set(c, "candidates_per_row", hj_int(MATCH_SPARSE_K));
		hj_set(c, "abs_dual_bound", hj_f64_array(cert, np));
		hj_set(c, "signed_dual_bound", hj_f64_array(cert + np, np));
		hj_set(c, "abs_gap", hj_f64_array(cert + 2 * np, np));
		hj_set(c, "signed_gap", hj_f64_array(cert + 3 * np, np));
		hj_set(c, "n_without_perfect_matching", hj_int((int64_t)n_imperfect));
		hj_set(c, "n_not_proven_optimal", hj_int((int64_t)n_inexact));
		hj_set(c, "exact", hj_bool(!n_imperfect && !n_inexact));
		hj_set(metrics, "hungarian_certificate", c);
		if (n_imperfect || n_inexact)
			fprintf(stderr, "husai: group '%s': Hungarian matching above d_sae %zu is sparse "
			        "(%d candidates per row): %zu value(s) without a perfect matching (NaN), "
			        "%zu not proven optimal (dual bound beside them in results.json)\n",
			        gc->g->name, q->hungarian_max, MATCH_SPARSE_K, n_imperfect, n_inexact);
	}
	hj *pf = hj_obj();
	hj_set(pf, "definition", hj_str("per model and feature: mean over the other models of the "
	                                "best |cos| (spec 5.4); vectors in analysis.h5 "
	                                "/per_feature/<group>/<seed>/stability"));
	hj_set(pf, RJK_MEAN, hj_num(pfsum->mean));
	hj_set(pf, RJK_MIN, hj_num(pfsum->min));
	hj_set(pf, RJK_MAX, hj_num(pfsum->max));
	hj_set(metrics, RJK_PER_FEATURE_STABILITY, pf);
	/* means over pairs of the pair-level extras */
	for (size_t c = 0; c < nc; c++) {
		double sm = 0;
		for (size_t pp = 0; pp < tab->n; pp++)
			sm += tab->col[c0 + c][pp];
		hj *m = hj_obj();
		hj_set(m, "mean_over_pairs", hj_num(tab->n ? sm / (double)tab->n : NAN));
		hj_set(m, "values", hj_f64_array(tab->col[c0 + c], tab->n));
		hj_set(metrics, names[c], m);
	}
	hj *par = hj_obj();
	hj_set(par, "mnn_threshold", hj_num(q->mnn_thr));
	hj_set(par, "hungarian_threshold", hj_num(q->match_thr));
	hj_set(par, "hungarian_computed", hj_bool(do_hung || do_sparse));
	if (do_sparse)
		hj_set(par, "hungarian_method", hj_str("sparse with dual-bound certificate "
		                                        "(metrics.hungarian_certificate)"));
	else if (!do_hung)
		hj_set(par, "hungarian_reason", hj_str("switched off (hungarian_max 0): the values "
		                                        "are NaN"));
	hj_set(par, "hungarian_max_d_sae", hj_int((int64_t)q->hungarian_max));
	hj_set(par, "subspace_k", hj_int((int64_t)k));
	hj_set(metrics, "parameters", par);
cleanup:
	free(sim), free(perm);
	free(cert);
	return rc;
}

/* A control's products and statistics, and its results object (*out; the caller's), before
 * anything of it is written: control_emit writes it where it belongs in the outputs. */
static int control_compute(struct group_ctx *gc, hj **out, const char *kind,
                           const struct mset *t, const struct pairset *tp,
                           const struct stats_summary *ts, const struct mset *c,
                           struct pairset *cp, struct stats_summary *cs, uint64_t boot_seed,
                           const char *source, struct pairwork *w, hj **pf,
                           struct hus_err *err)
{
	const struct analysis_request *q = gc->q;
	int rc;
	if ((rc = per_feature_json(pf, NULL, c, w, cp, NULL, NULL, err)))
		return rc;
	if ((rc = stats_summarize(cs, cp->v, 1, cp->np, q->bootstrap_B, boot_seed, err)))
		return rc;
	hj *o = summary_json(cs, c->seed, c->n, cp->v, cp->np, boot_seed, q->bootstrap_B);
	hj_set(o, "kind", hj_str(kind));
	hj_set(o, "source", hj_str(source));
	if ((rc = compare_json(o, ts, tp->v, tp->np, cs, cp->v, cp->np, err))) {
		hj_free(o);
		return rc;
	}
	/* seed-level permutation test over the pooled models */
	size_t N = t->n + c->n;
	double *P = malloc(sizeof(double) * N * N);
	if (!P) {
		hj_free(o);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a pooled matrix");
	}
	struct perm_result pr = { NAN, NAN, NAN, 0, 0, 0 };
	if (t->n >= 2 && c->n >= 2) {
		/* a design that cannot reach α (3 + 3 models: p ≥ 1/20) needs no cross-group
		 * PWMCC: its verdict is `underpowered` whatever they are (docs/formulas.md §8.8) */
		int powered = stats_seed_test_runs(t->n, c->n, q->perm_max_exact, q->perm_B);
		rc = pooled_matrix(P, t, c, tp->P, cp->P, powered, w, err);
		if (!rc && powered)
			rc = stats_seed_permutation(&pr, P, t->n, c->n, q->perm_max_exact, q->perm_B,
			                            q->seed_level, err);
		else if (!rc)
			rc = stats_seed_permutation_design(&pr, P, t->n, c->n, q->perm_max_exact,
			                                   q->perm_B, err);
	}
	free(P);
	double lo = NAN, hi = NAN;
	if (!rc)
		rc = stats_seed_bootstrap_diff(&lo, &hi, tp->P, t->n, cp->P, c->n, q->bootstrap_B,
		                               q->seed_level, err);
	if (rc) {
		hj_free(o);
		return rc;
	}
	hj_set(o, "seed_level_permutation", permutation_json(&pr, q->seed_level));
	/* the verdict's unit is the model (docs/formulas.md §8.8); MWU stays as parity */
	hj *verdict = verdict_json(&pr, t->n, c->n, lo, hi, 0.05, q->perm_max_exact, q->perm_B);
	hj_set(o, "conclusion", hj_ref(hj_get(verdict, RJK_VERDICT)));
	hj_set(o, "seed_level_verdict", verdict);
	*out = o;
	return 0;
}

/* A computed control (o, control_compute's) into results.json's controls, analysis.h5 and its
 * CSV. */
static int control_emit(struct group_ctx *gc, hj *controls, const char *kind,
                        const struct pairset *cp, hj *o, struct hus_err *err)
{
	int rc;
	hj_set(controls, kind, o);
	/* tables */
	struct ana_pairs tab;
	memset(&tab, 0, sizeof(tab));
	tab.n = cp->np;
	tab.seed_a = cp->sa;
	tab.seed_b = cp->sb;
	tab.ncols = 1;
	/* a column of the pair tables: not a results.json key */
	snprintf(tab.col_name[0], sizeof(tab.col_name[0]), "pwmcc");
	tab.col[0] = cp->v;
	char prefix[256], csv[256];
	snprintf(prefix, sizeof(prefix), "/controls/%s/%s", gc->g->name, kind);
	if ((rc = ana_write_pairs(gc->h5, prefix, &tab, err)))
		return rc;
	snprintf(csv, sizeof(csv), "%s_%s_pairwise_pwmcc.csv", gc->g->name, kind);
	return group_csv(gc, csv, cp->sa, cp->sb, cp->v, cp->np, err);
}

/* The R1 set: seeds given or seed + offset, in sorted order (spec 5.3). */
static int build_r1(const struct analysis_request *q, const struct mset *t, struct mset *r1,
                    struct hus_err *err)
{
	size_t nc = q->r1_seeds ? q->n_r1_seeds : t->n;
	int64_t *cseeds = calloc(nc ? nc : 1, sizeof(int64_t));
	size_t *ord = calloc(nc ? nc : 1, sizeof(size_t));
	int64_t *sorted = calloc(nc ? nc : 1, sizeof(int64_t));
	int rc;
	if (!cseeds || !ord || !sorted) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	} else {
		for (size_t i = 0; i < nc; i++)
			cseeds[i] = q->r1_seeds ? q->r1_seeds[i] : t->seed[i] + q->r1_offset;
		pairs_order(ord, cseeds, nc);
		for (size_t i = 0; i < nc; i++)
			sorted[i] = cseeds[ord[i]];
		rc = make_control(r1, 1, t, sorted, nc, err);
	}
	free(cseeds), free(ord), free(sorted);
	return rc;
}

/* R2 asked of imported SAEs without --r2-from: reported unavailable, never computed. */
static int r2_unavailable(const struct analysis_request *q, const struct analysis_group *g,
                          const struct mset *t, const struct decoder *first)
{
	return q->r2 && t->n && !(g->r2_paths && g->n_r2) && first->source_format[0];
}

/* The R2 set: the group's step-0 checkpoints, else the init recipe with the trained seeds. */
static int build_r2(const struct analysis_request *q, const struct analysis_group *g,
                    const struct mset *t, size_t d, size_t mmax, struct manifest *man,
                    struct mset *r2, const char **src, struct hus_err *err)
{
	(void)q;
	int rc;
	if (g->r2_paths && g->n_r2) {
		size_t d2 = d;
		if ((rc = load_set(r2, NULL, g->r2_paths, g->n_r2, &d2, NULL, man, NULL, err)))
			return rc;
		for (size_t i = 0; i < r2->n; i++)
			if (r2->m[i] > mmax)
				return hus_errf(err, HUS_EINPUT, g->r2_paths[0], "/params/W_dec",
				                "R2 checkpoint d_sae %zu is larger than the trained "
				                "decoders' %zu", r2->m[i], mmax);
		*src = "step-0 checkpoints of the SAE trainer (untrained SAE of each seed)";
		return 0;
	}
	if ((rc = make_control(r2, 2, t, t->seed, t->n, err)))
		return rc;
	*src = "TopKSAE decoder init recipe (spec 4.2) with the trained seeds: "
	       "U(-sqrt(6/d_sae), sqrt(6/d_sae)) by torch's float rule on MT19937, "
	       "unit columns; same distribution as torch, not its draw order";
	return 0;
}

static int analyze_group(struct group_ctx *gc, struct hus_err *err)
{
	const struct analysis_request *q = gc->q;
	const struct analysis_group *g = gc->g;
	struct mset t, r1, r2;
	struct pairset tp, r1p, r2p;
	struct pairwork w = { 0 };
	struct decoder first;
	size_t d = 0;
	memset(&t, 0, sizeof(t)), memset(&r1, 0, sizeof(r1)), memset(&r2, 0, sizeof(r2));
	memset(&tp, 0, sizeof(tp)), memset(&r1p, 0, sizeof(r1p)), memset(&r2p, 0, sizeof(r2p));
	memset(&first, 0, sizeof(first));
	struct ana_pairs tab;
	memset(&tab, 0, sizeof(tab));
	struct pair_tasks ex; /* the trained pairs' bases and assignments (pair_tasks.c) */
	memset(&ex, 0, sizeof(ex));
	hj *o = gc->out, *ckman = hj_arr();
	hj *pf_trained = NULL, *pf_r1 = NULL, *pf_r2 = NULL, *pfs = NULL, *r1o = NULL, *r2o = NULL;
	const char **sorted_paths = calloc(g->n ? g->n : 1, sizeof(char *));
	if (!sorted_paths) {
		hj_free(ckman);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	int rc = load_set(&t, ckman, g->paths, g->n, &d, &first, gc->man, sorted_paths, err);
	if (rc) {
		hj_free(ckman);
		free(sorted_paths);
		return rc;
	}
	size_t mmax = 0;
	if ((rc = pairwork_buffers(&w, &t, &mmax, err))) {
		hj_free(ckman);
		goto cleanup;
	}
	/* the progress line (a terminal only): one unit per product of two decoders */
	struct hus_progress prog;
	{
		size_t n = t.n, np = n < 2 ? 0 : n * (n - 1) / 2, units = np;
		size_t n1 = q->r1_seeds ? q->n_r1_seeds : n, n2 = g->r2_paths && g->n_r2 ? g->n_r2 : n;
		if (mmax > q->hungarian_max && q->hungarian_max > 0 && n >= 2) {
			/* the sparse matching's candidates: folded into the trained pass when they fit
			 * (and the product is not read from a pair cache), else a pass of their own */
			if ((rc = pair_cands_alloc(&w, np, mmax, q->match_memory, err))) {
				hj_free(ckman);
				goto cleanup;
			}
			units += q->pair_cache ? np : np - w.cand_slots;
		}
		if (q->sinkhorn_eps > 0 && mmax <= SINKHORN_MAX_D_SAE)
			units += np; /* Sinkhorn's product */
		if (q->r1 && n)
			units += n1 * (n1 - 1) / 2 + (n >= 2 && n1 >= 2 ? n * n1 : 0);
		if (q->r2 && n)
			units += n2 * (n2 - 1) / 2 + (n >= 2 && n2 >= 2 ? n * n2 : 0);
		hus_progress_begin(&prog, g->name, units);
		w.prog = &prog;
		gc->w = &w;
	}
	w.cache_dir = q->pair_cache; /* products read from their pair caches when present */
	w.cache_group = g->name;
	w.man = gc->man;
	hj *arch = hj_obj();
	hj_set(arch, "d_model", hj_int((int64_t)d));
	hj_set(arch, RJK_D_SAE, t.n ? hj_int((int64_t)t.m[0]) : hj_null());
	hj_set(arch, RJK_K, first.k >= 0 ? hj_int(first.k) : hj_null());
	hj_set(arch, "architecture", hj_str(first.architecture));
	hj_set(arch, RJK_CONDITION, hj_str(first.condition));
	hj_set(o, "architecture", arch);

	/* the subspace bases begin on a thread of their own beside the trained pass */
	if ((rc = pair_tasks_init(&ex, &t, subspace_k_of(q, &t), w.cand_slots, err)))
		goto cleanup_ck;
	int threads = omp_get_max_threads();
	if (t.n >= 2 && pair_tasks_bases_begin(&ex, &t)) {
		omp_set_num_threads(threads - 1);
		w.bases = &ex;
		w.threads_after_bases = threads;
	}
	/* trained pairs and their summary (bootstrap seed 17 as phase 4a) */
	w.want_arg = 1; /* the trained pass also folds argmaxes for mutual nearest neighbours */
	w.mnn_thr = q->mnn_thr;
	struct pf_summary pfsum;
	rc = per_feature_json(&pf_trained, &pfsum, &t, &w, &tp, gc->h5, g->name, err);
	w.want_arg = 0;
	w.cand_fold = 0; /* the controls' passes fold no candidates */
	if (rc)
		goto cleanup_ck;
	pfs = hj_obj();
	hj_set(pfs, "definition", hj_str("per feature of every model (seeds in order, features in "
	                                 "index order): mean over the other models of the best "
	                                 "|cos| (spec 5.4); 'control' is the primary control's"));
	hj_set(pfs, RJK_TRAINED, pf_trained);
	struct stats_summary ts;
	if ((rc = stats_summarize(&ts, tp.v, 1, tp.np, q->bootstrap_B, q->seed_trained, err)))
		goto cleanup_ck;
	hj_set(o, RJK_TRAINED, summary_json(&ts, t.seed, t.n, tp.v, tp.np, q->seed_trained,
	                                  q->bootstrap_B));
	/* the controls' products and statistics now, while the bases' thread runs (they need no
	 * basis); their results go out below, in their place */
	struct stats_summary r1s, r2s;
	int r2_off = r2_unavailable(q, g, &t, &first);
	const char *r2_src = NULL;
	if (q->r1 && t.n &&
	    ((rc = build_r1(q, &t, &r1, err)) ||
	     (rc = control_compute(gc, &r1o, RJK_R1, &t, &tp, &ts, &r1, &r1p, &r1s, q->seed_random,
	                           "torch.randn((d_model, d_sae)) per seed, bit-compatible CPU "
	                           "generator (spec 5.3)", &w, &pf_r1, err))))
		goto cleanup_ck;
	if (!r2_off && q->r2 && t.n &&
	    ((rc = build_r2(q, g, &t, d, mmax, gc->man, &r2, &r2_src, err)) ||
	     (rc = control_compute(gc, &r2o, RJK_R2, &t, &tp, &ts, &r2, &r2p, &r2s, q->seed_r2, r2_src,
	                           &w, &pf_r2, err))))
		goto cleanup_ck;
	pairwork_threads_back(&w);
	if ((rc = pair_tasks_bases_end(&ex, &t, err)))
		goto cleanup_ck;
	/* pair table with extras */
	tab.n = tp.np;
	tab.seed_a = tp.sa;
	tab.seed_b = tp.sb;
	/* columns of the pair tables: not a results.json key */
	const char *base[3] = { "pwmcc", "r_a", "r_b" };
	for (size_t c = 0; c < 3; c++) {
		snprintf(tab.col_name[c], sizeof(tab.col_name[c]), "%s", base[c]);
		tab.col[c] = calloc(tp.np ? tp.np : 1, sizeof(double));
		if (!tab.col[c]) {
			rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for the pair table");
			goto cleanup_ck;
		}
		tab.ncols = c + 1;
	}
	for (size_t p = 0; p < tp.np; p++) {
		tab.col[0][p] = tp.v[p];
		tab.col[1][p] = tp.ra[p];
		tab.col[2][p] = tp.rb[p];
	}
	hj *metrics = hj_obj();
	hj_set(o, "metrics", metrics);
	if (t.n >= 2 && (rc = trained_extras(gc, &t, &tp, &pfsum, &tab, metrics, &ex, err)))
		goto cleanup_ck;
	if (t.n >= 2 && q->sinkhorn_eps > 0 &&
	    (rc = sinkhorn_group(metrics, &tab, gc->h5, g->name, &t, q->sinkhorn_eps, q->match_thr,
	                         q->write_matchings, &w, err)))
		goto cleanup_ck;
	if (t.n >= 2 && gc->X) { /* activation-level agreement (spec 5.4) */
		if (d != gc->X_d) {
			rc = hus_errf(err, HUS_EINPUT, q->activations, "/activations",
			              "expected d_model %zu like group '%s', got %zu columns", d, g->name,
			              gc->X_d);
			goto cleanup_ck;
		}
		size_t c0 = tab.ncols;
		const char *an[2] = { "act_abs_pearson", "act_topk_jaccard" };
		for (size_t c = 0; c < 2; c++) {
			snprintf(tab.col_name[c0 + c], sizeof(tab.col_name[0]), "%s", an[c]);
			if (!(tab.col[c0 + c] = calloc(tp.np, sizeof(double)))) {
				rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
				goto cleanup_ck;
			}
			tab.ncols = c0 + c + 1;
		}
		if ((rc = act_pairs(tab.col[c0], tab.col[c0 + 1], sorted_paths, t.n, gc->X, gc->X_n, d,
		                    q->act_k, err)))
			goto cleanup_ck;
		for (size_t c = 0; c < 2; c++) {
			double sm = 0;
			for (size_t pp = 0; pp < tp.np; pp++)
				sm += tab.col[c0 + c][pp];
			hj *m = hj_obj();
			hj_set(m, "mean_over_pairs", hj_num(sm / (double)tp.np));
			hj_set(m, "values", hj_f64_array(tab.col[c0 + c], tp.np));
			hj_set(m, "rows", hj_int((int64_t)gc->X_n));
			hj_set(metrics, an[c], m);
		}
	}
	if (gc->truth) { /* recovery of the planted features (docs/formulas.md §10.2) */
		hj *tj = hj_obj();
		hj_set(o, "truth", tj);
		if ((rc = truth_group(tj, gc->h5, g->name, &t, sorted_paths, gc->truth, gc->TX,
				      gc->TX_n, err)))
			goto cleanup_ck;
	}
	if (q->stability_thr > 0 && t.n >= 2) { /* docs/formulas.md §10.3 */
		hj *sj = hj_obj();
		hj_set(o, "stability_probability", sj);
		if ((rc = stability_prob_group(sj, gc->h5, g->name, &t, q->stability_thr,
					       q->unstable_k, err)))
			goto cleanup_ck;
	}
	char prefix[256];
	snprintf(prefix, sizeof(prefix), "/pairs/%s", g->name);
	if ((rc = ana_write_pairs(gc->h5, prefix, &tab, err)))
		goto cleanup_ck;
	char csv[256];
	snprintf(csv, sizeof(csv), "%s_trained_pairwise_pwmcc.csv", g->name);
	if ((rc = group_csv(gc, csv, tp.sa, tp.sb, tp.v, tp.np, err)))
		goto cleanup_ck;

	/* seed-level bootstrap of the trained mean (beyond upstream, §8.8) */
	{
		double mean, lo, hi;
		if ((rc = stats_seed_bootstrap(&mean, &lo, &hi, tp.P, t.n, q->bootstrap_B, q->seed_level,
		                               err)))
			goto cleanup_ck;
		hj *sl = hj_obj();
		hj_set(sl, "definition", hj_str("resample models with replacement; statistic = mean "
		                                "PWMCC over resampled pairs of distinct models; "
		                                "percentile CI, linear interpolation"));
		hj_set(sl, RJK_MEAN, hj_num(mean));
		hj_set(sl, RJK_CI95_LOW, hj_num(lo));
		hj_set(sl, RJK_CI95_HIGH, hj_num(hi));
		hj_set(sl, RJK_N_MODELS, hj_int((int64_t)t.n));
		hj_set(sl, "n_bootstrap", hj_int((int64_t)q->bootstrap_B));
		hj_set(sl, "seed", hj_int((int64_t)q->seed_level));
		hj_set(sl, "rng", hj_str("GSL mt19937, gsl_rng_uniform_int"));
		if (t.n < 2)
			hj_set(sl, "reason", hj_str("fewer than two seeds: no pairs"));
		hj_set(o, "seed_level_bootstrap", sl);
	}

	/* controls */
	hj *controls = hj_obj();
	hj_set(o, RJK_CONTROLS, controls);
	const char *primary = NULL;
	if (r1o) {
		rc = control_emit(gc, controls, RJK_R1, &r1p, r1o, err);
		r1o = NULL;
		if (rc)
			goto cleanup_ck;
		primary = RJK_R1;
	}
	if (r2_off) {
		/* an imported SAE carries no untrained twin, and husai's R2 recipe (spec 4.2) is not
		 * the source library's initialisation: R2 is reported unavailable, with the reason
		 * (never a number from the wrong recipe, never NaN) */
		hj *o = hj_obj();
		char why[512];
		snprintf(why, sizeof(why),
		         "the SAEs were imported (%s): R2 compares with the same SAEs untrained, and "
		         "neither their step-0 checkpoints nor their library's initialisation are in "
		         "the imported files; give --r2-from with untrained checkpoints saved by the "
		         "same library (imported the same way) to get R2", first.source_format);
		hj_set(o, "kind", hj_str(RJK_R2));
		hj_set(o, "available", hj_bool(0));
		hj_set(o, "reason", hj_str(why));
		hj_set(controls, RJK_R2, o);
	} else if (r2o) {
		rc = control_emit(gc, controls, RJK_R2, &r2p, r2o, err);
		r2o = NULL;
		if (rc)
			goto cleanup_ck;
		if (!primary)
			primary = RJK_R2;
	}
	/* analytic null: mean over the trained pairs' geometries */
	{
		double s = 0;
		size_t cnt = 0;
		for (size_t i = 0; i < t.n; i++)
			for (size_t j = i + 1; j < t.n; j++, cnt++) {
				double v;
				if ((rc = null_expected_pwmcc(&v, d, t.m[i], t.m[j], err)))
					goto cleanup_ck;
				s += v;
			}
		if (!cnt && t.n == 1 && (rc = null_expected_pwmcc(&s, d, t.m[0], t.m[0], err)))
			goto cleanup_ck;
		/* controls.analytic_null is an object; `husai run` (exp_controls_json) lifts its
		 * expected_pwmcc to the number the report reads */
		double en = cnt ? s / (double)cnt : s;
		hj *an = hj_obj();
		hj_set(an, "kind", hj_str(RJK_ANALYTIC_NULL));
		hj_set(an, "definition", hj_str("E[PWMCC] of independent uniform unit vectors: "
		                                "(E[max over m_B] + E[max over m_A])/2 with "
		                                "F(t) = I_{t^2}(1/2, (d-1)/2) (docs/decisions.md §8), averaged "
		                                "over the trained pairs' shapes"));
		hj_set(an, "expected_pwmcc", hj_num(en));
		hj_set(an, "difference", hj_num(ts.mean - en));
		hj_set(controls, RJK_ANALYTIC_NULL, an);
	}
	/* upstream's keys: "random" is the primary sampled control (R1 for parity) */
	hj_set(o, "random_control", primary ? hj_str(primary) : hj_null());
	if (primary) {
		hj *c = hj_get(controls, primary);
		hj *rnd = hj_obj();
		const char *keys[] = { RJK_SEEDS,  "n_pairs",    RJK_PWMCC_VALUES, RJK_MEAN,
			               RJK_STD,    RJK_MIN,      RJK_MAX,          RJK_MEDIAN,
			               RJK_CI95_LOW, RJK_CI95_HIGH, RJK_N };
		for (size_t kk = 0; kk < sizeof(keys) / sizeof(keys[0]); kk++)
			hj_set(rnd, keys[kk], hj_ref(hj_get(c, keys[kk])));
		hj_set(o, RJK_RANDOM, rnd);
		hj_set(o, "comparison", hj_ref(hj_get(c, "comparison")));
		hj_set(o, "statistical_test", hj_ref(hj_get(c, "statistical_test")));
		hj_set(o, "conclusion", hj_ref(hj_get(c, "conclusion")));
		hj_set(o, "seed_level_verdict", hj_ref(hj_get(c, "seed_level_verdict")));
	}
	hj_set(pfs, "control_kind", primary ? hj_str(primary) : hj_null());
	hj_set(pfs, RJK_CONTROL, pf_r1 ? pf_r1 : pf_r2 ? pf_r2 : hj_arr());
	if (pf_r1 && pf_r2)
		hj_free(pf_r2);
	pf_r1 = pf_r2 = NULL;
	hj_set(o, RJK_PER_FEATURE_STABILITY, pfs);
	pfs = NULL;
	hj_set(o, "checkpoint_manifest", ckman);
	ckman = NULL;
	goto cleanup;
cleanup_ck:
	hj_free(ckman);
	hj_free(r1o), hj_free(r2o);
	hj_free(pf_r1);
	hj_free(pf_r2);
	hj_free(pfs);
cleanup:
	pairwork_threads_back(&w);
	pair_tasks_release(&ex); /* joins the bases' thread before their models go */
	mset_release(&t), mset_release(&r1), mset_release(&r2);
	pairset_release(&r1p), pairset_release(&r2p);
	for (size_t c = 0; c < tab.ncols; c++)
		free(tab.col[c]);
	pairset_release(&tp);
	if (w.prog)
		hus_progress_end(w.prog);
	pairwork_release(&w);
	free(sorted_paths);
	return rc;
}

/* A pair job (--pair-only P [--pair-count K]): the group's sets are made exactly as
 * analyze_group makes them and its products are numbered by the same calls in the same order
 * (set_pairs, then per control set_pairs and pooled_matrix), but only products P .. P+K-1 are
 * computed, each into its pair cache; the others are skipped, and nothing else is written. */
static int pair_only_group(const struct analysis_request *q, const struct analysis_group *g,
                           struct hus_err *err)
{
	struct mset t, c;
	struct pairset tp, cp;
	struct pairwork w = { 0 };
	struct decoder first;
	size_t d = 0, mmax = 0;
	double *P = NULL;
	memset(&t, 0, sizeof(t)), memset(&c, 0, sizeof(c));
	memset(&tp, 0, sizeof(tp)), memset(&cp, 0, sizeof(cp));
	memset(&first, 0, sizeof(first));
	int rc = load_set(&t, NULL, g->paths, g->n, &d, &first, NULL, NULL, err);
	if (rc)
		return rc;
	if ((rc = pairwork_buffers(&w, &t, &mmax, err)))
		goto cleanup;
	{ /* a range past the last product is refused before anything is written */
		size_t n1 = q->r1 && t.n ? (q->r1_seeds ? q->n_r1_seeds : t.n) : 0;
		size_t n2 = q->r2 && t.n && !r2_unavailable(q, g, &t, &first)
		                    ? (g->r2_paths && g->n_r2 ? g->n_r2 : t.n) : 0;
		size_t total = analysis_pair_products(t.n, n1, n2), cnt = q->pair_count ? q->pair_count : 1;
		if ((size_t)q->pair_only + cnt > total) {
			rc = hus_errf(err, HUS_EUSAGE, NULL, NULL,
			              "--pair-only %" PRId64 " --pair-count %zu: group '%s' makes %zu "
			              "products (0 to %zu)", q->pair_only, cnt, g->name, total,
			              total ? total - 1 : 0);
			goto cleanup;
		}
	}
	w.cache_dir = q->pair_cache;
	w.cache_group = g->name;
	w.pair_only = 1;
	w.only = (size_t)q->pair_only;
	w.only_end = w.only + (q->pair_count ? q->pair_count : 1);
#define RANGE_DONE (w.only_done == w.only_end - w.only)
	w.want_arg = 1; /* as the trained pass of analyze_group */
	w.mnn_thr = q->mnn_thr;
	rc = set_pairs(&tp, &t, &w, NULL, err);
	w.want_arg = 0;
	for (int kind = 1; !rc && !RANGE_DONE && kind <= 2; kind++) {
		const char *src;
		if (kind == 1 && !(q->r1 && t.n))
			continue;
		if (kind == 2 && (!(q->r2 && t.n) || r2_unavailable(q, g, &t, &first)))
			continue;
		/* a control whose products all come before P is counted, not made (its size is
		 * known: R1 has the given seeds or one per trained model, R2 one model per step-0
		 * checkpoint or per trained model); the key check of the group's read is the
		 * guard should the count ever disagree with the calls */
		size_t nc = kind == 1 ? (q->r1_seeds ? q->n_r1_seeds : t.n)
		                      : (g->r2_paths && g->n_r2 ? g->n_r2 : t.n);
		size_t seg = analysis_pair_products(t.n, nc, 0) - analysis_pair_products(t.n, 0, 0);
		if (w.product + seg <= w.only) {
			w.product += seg;
			continue;
		}
		rc = kind == 1 ? build_r1(q, &t, &c, err) : build_r2(q, g, &t, d, mmax, NULL, &c, &src, err);
		if (!rc)
			rc = set_pairs(&cp, &c, &w, NULL, err);
		if (!rc && t.n >= 2 && c.n >= 2 && !RANGE_DONE) {
			size_t N = t.n + c.n;
			if (!(P = malloc(sizeof(double) * N * N)))
				rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for a pooled matrix");
			else
				rc = pooled_matrix(P, &t, &c, tp.P, cp.P,
				                   stats_seed_test_runs(t.n, c.n, q->perm_max_exact, q->perm_B),
				                   &w, err);
			free(P);
			P = NULL;
		}
		mset_release(&c), pairset_release(&cp);
	}
	if (!rc && !RANGE_DONE)
		rc = hus_errf(err, HUS_EUSAGE, NULL, NULL,
		              "--pair-only %" PRId64 " --pair-count %zu: group '%s' makes %zu "
		              "products (0 to %zu)", q->pair_only, w.only_end - w.only, g->name,
		              w.product, w.product ? w.product - 1 : 0);
#undef RANGE_DONE
cleanup:
	mset_release(&t), mset_release(&c);
	pairset_release(&tp), pairset_release(&cp);
	pairwork_release(&w);
	return rc;
}

/* ---------------------------------------------------------------- the run ----------- */

int analysis_run(const struct analysis_request *q, hj **results, struct hus_err *err)
{
	if (!q->n_groups)
		return hus_errf(err, HUS_EUSAGE, NULL, NULL, "no group of checkpoints to analyse");
	if (!q->out_dir && q->pair_only < 0)
		return hus_errf(err, HUS_EUSAGE, NULL, NULL, "no output directory");
	for (size_t i = 0; i < q->n_groups; i++) {
		if (!ana_group_name_ok(q->groups[i].name))
			return hus_errf(err, HUS_EUSAGE, NULL, NULL,
			                "group name '%s' must be 1-64 of [A-Za-z0-9_.-]",
			                q->groups[i].name ? q->groups[i].name : "");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(q->groups[i].name, q->groups[j].name))
				return hus_errf(err, HUS_EUSAGE, NULL, NULL, "group '%s' given twice",
				                q->groups[i].name);
		if (!q->groups[i].n)
			return hus_errf(err, HUS_EUSAGE, NULL, NULL, "group '%s' has no checkpoint",
			                q->groups[i].name);
	}
	if (q->r1_seeds && q->n_r1_seeds < 1)
		return hus_errf(err, HUS_EUSAGE, NULL, NULL, "empty R1 seed list");
	if (q->pair_only >= 0) { /* a pair job: one product into its pair cache, nothing else */
		if (!q->pair_cache || q->n_groups != 1)
			return hus_errf(err, HUS_EUSAGE, NULL, NULL,
			                "--pair-only needs --pair-cache and exactly one group");
		int rc = hus_mkdirs(q->pair_cache, err);
		return rc ? rc : pair_only_group(q, &q->groups[0], err);
	}
	int rc = hus_mkdirs(q->out_dir, err);
	if (rc)
		return rc;
	char path[4200];
	snprintf(path, sizeof(path), "%s/analysis.h5", q->out_dir);
	struct hus_provenance prov = { "", "" };
	struct h5w *h5 = NULL;
	float *X = NULL, *TX = NULL;
	size_t X_n = 0, X_d = 0, TX_n = 0, TX_d = 0;
	struct planted_truth tr;
	int have_truth = 0;
	struct manifest *man = manifest_new(q->out_dir);
	struct written csvs = { NULL, 0, 0 };
	hj *root = hj_obj(), *groups = hj_obj();
	if (!man || !root || !groups) {
		manifest_free(man), hj_free(root), hj_free(groups);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	hj_set(root, "husai_format", hj_str("husai.analysis_results"));
	hj_set(root, "husai_format_version", hj_int(1));
	hj_set(root, "groups", groups);
	if ((rc = ana_open(&h5, path, &prov, err)))
		goto fail;
	if (q->activations) {
		if ((rc = acts_head_read(q->activations, q->act_rows ? q->act_rows : 1, &X, &X_n, &X_d,
		                         err)) ||
		    (rc = manifest_add_input(man, q->activations, err)))
			goto fail;
	}
	if (q->truth) {
		if ((rc = planted_truth_read(q->truth, &tr, err)))
			goto fail;
		have_truth = 1;
		if ((rc = acts_head_read(q->truth, q->truth_rows ? q->truth_rows : 1, &TX, &TX_n,
					    &TX_d, err)) ||
		    (rc = manifest_add_input(man, q->truth, err)))
			goto fail;
	}
	char names[4096] = "";
	for (size_t i = 0; i < q->n_groups; i++) {
		struct group_ctx gc = { q, &q->groups[i], h5, man, hj_obj(), X, X_n, X_d, NULL,
					have_truth ? &tr : NULL, TX, TX_n, &csvs };
		hj_set(groups, q->groups[i].name, gc.out);
		if ((rc = analyze_group(&gc, err)))
			goto fail;
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? "," : "",
		         q->groups[i].name);
	}
	char kinds[64];
	snprintf(kinds, sizeof(kinds), "%s%s%sanalytic_null", q->r1 ? "r1," : "",
	         q->r2 ? "r2," : "", "");
	if ((rc = h5w_attr_str(h5, "/", "groups", names, err)) ||
	    (rc = h5w_attr_str(h5, "/", "control_kinds", kinds, err)) ||
	    (rc = h5w_attr_i64(h5, "/", "bootstrap_B", (int64_t)q->bootstrap_B, err)) ||
	    (rc = h5w_attr_i64(h5, "/", "bootstrap_seed_trained", (int64_t)q->seed_trained, err)) ||
	    (rc = h5w_attr_i64(h5, "/", "bootstrap_seed_r1", (int64_t)q->seed_random, err)) ||
	    (rc = h5w_attr_i64(h5, "/", "bootstrap_seed_r2", (int64_t)q->seed_r2, err)) ||
	    (rc = h5w_attr_i64(h5, "/", "seed_level_seed", (int64_t)q->seed_level, err)) ||
	    (rc = h5w_attr_str(h5, "/", "bootstrap_rng", "gsl mt19937", err)))
		goto fail;
	rc = ana_commit(h5, err);
	h5 = NULL;
	if (rc || (rc = manifest_add_artifact(man, path, err)))
		goto fail;
	hj *par = hj_obj();
	hj_set(par, "control_kinds", hj_str(kinds));
	hj_set(par, "r1_seeds", q->r1_seeds ? hj_i64_array(q->r1_seeds, q->n_r1_seeds)
	                                     : hj_str("seed + r1_offset"));
	hj_set(par, "r1_offset", hj_int(q->r1_offset));
	hj_set(par, "bootstrap_samples", hj_int((int64_t)q->bootstrap_B));
	hj_set(par, "bootstrap_seed_trained", hj_int((int64_t)q->seed_trained));
	hj_set(par, "bootstrap_seed_r1", hj_int((int64_t)q->seed_random));
	hj_set(par, "bootstrap_seed_r2", hj_int((int64_t)q->seed_r2));
	hj_set(par, "seed_level_seed", hj_int((int64_t)q->seed_level));
	hj_set(par, "permutation_max_exact", hj_int((int64_t)q->perm_max_exact));
	hj_set(par, "permutation_samples", hj_int((int64_t)q->perm_B));
	hj_set(par, "activations", q->activations ? hj_str(q->activations) : hj_null());
	hj_set(par, "activation_rows", hj_int((int64_t)q->act_rows));
	if (q->truth) { /* only when asked: earlier analyses keep their bytes */
		hj_set(par, "truth", hj_str(q->truth));
		hj_set(par, "truth_rows", hj_int((int64_t)q->truth_rows));
	}
	if (q->stability_thr > 0) {
		hj_set(par, "stability_threshold", hj_num(q->stability_thr));
		hj_set(par, "unstable_k", hj_int((int64_t)q->unstable_k));
	}
	if (q->sinkhorn_eps > 0) /* only when asked, like truth */
		hj_set(par, "sinkhorn_epsilon", hj_num(q->sinkhorn_eps));
	hj_set(root, "parameters", par);
	snprintf(path, sizeof(path), "%s/results.json", q->out_dir);
	if ((rc = hj_write_file(path, root, err)) || (rc = manifest_add_artifact(man, path, err)))
		goto fail;
	if ((rc = manifest_write(man, q->command ? q->command : "husai analyze", "", err)))
		goto fail;
	manifest_free(man);
	free(X), free(TX);
	if (have_truth)
		planted_truth_release(&tr);
	for (size_t i = 0; i < csvs.n; i++)
		free(csvs.path[i]);
	free(csvs.path);
	if (results)
		*results = root;
	else
		hj_free(root);
	return 0;
fail:
	/* no partial output: the CSVs this analysis wrote go with the unfinished analysis.h5 */
	for (size_t i = 0; i < csvs.n; i++) {
		unlink(csvs.path[i]);
		free(csvs.path[i]);
	}
	free(csvs.path);
	h5w_abort(h5);
	manifest_free(man);
	free(X), free(TX);
	if (have_truth)
		planted_truth_release(&tr);
	hj_free(root);
	return rc;
}
