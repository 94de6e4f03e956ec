/*
 * analysis_internal.h — private to analyze/'s analysis driver (analysis.c): the sets of
 * normalised decoders it works on and their pairs (analysis_sets.c), the trained pairs' work
 * beside the products (pair_tasks.c), and the JSON and CSV pieces of its outputs
 * (analysis_json.c).
 */
#ifndef HUSAI_ANALYSIS_INTERNAL_H
#define HUSAI_ANALYSIS_INTERNAL_H

#include <stdatomic.h>
#include <threads.h>

#include "analyze.h"

/* Normalised decoders of one set (trained, R1 or R2), sorted by seed. */
struct mset {
	size_t n, d;
	int64_t *seed;
	size_t *m;
	float **At; /* (m[i], d) each */
	size_t *zeros;
	char **file; /* the checkpoint each came from (NULL for a sampled control) */
	char (*key)[65]; /* sha256 of each normalised decoder's bytes, "" until mset_key */
};
/* The pair caches' key of model i (docs/artifacts.md "Pair cache"), computed once. */
const char *mset_key(const struct mset *s, size_t i);

struct pair_tasks;

/* Work buffers for one pair. */
struct pairwork {
	float *rowmax, *colmax;
	int32_t *argrow, *argcol;
	int want_arg;   /* argmaxes are needed (mutual nearest neighbours) */
	double mnn_thr; /* their threshold */
	struct hus_progress *prog; /* products done so far (or NULL): analysis_progress_step */
	double flops;              /* FLOP of the products done */
	/* pair caches (docs/reproducibility.md "Pairs as jobs"): every pair_pwmcc call is product
	 * number `product` of the group, counted in the order the analysis makes them */
	const char *cache_dir;     /* read <dir>/<group>_<product>.h5 when present, or NULL */
	const char *cache_group;
	size_t product;
	int pair_only;             /* compute and write only products [only, only_end), skip the
	                            * others */
	size_t only, only_end;
	size_t only_done;          /* how many of them were written */
	struct manifest *man;      /* cache files read are listed as inputs (or NULL) */
	/* the sparse matching's candidates, folded into the trained pass (pair_cands_alloc):
	 * pair p < cand_slots gets (m_A, min(cand_K, m_B)) of each kind at p * cand_stride and
	 * cand_done[p] = 1 when its product was formed here (not read from a pair cache) */
	int cand_fold;             /* fold now (the trained pass; not the controls', not pair jobs) */
	size_t cand_K;             /* candidates per row (at most m_B) */
	size_t cand_slots, cand_stride, cand_pair; /* cand_pair: the pair set_pairs is on */
	int32_t *cand_abs, *cand_sgn;
	float *cval_abs, *cval_sgn;
	unsigned char *cand_done;  /* n_pairs */
	/* while the bases run on their own thread (pair_tasks_bases_begin) the passes run on
	 * one thread fewer; the first product after they finish gets them back */
	struct pair_tasks *bases;
	int threads_after_bases;   /* omp_set_num_threads value to restore, 0: nothing to do */
};
/* Give the passes their threads back (when the bases' thread took one): restore and clear. */
void pairwork_threads_back(struct pairwork *w);
/* The trained pairs' subspace bases and sparse assignments as tasks (pair_tasks.c).  Pairs
 * are solved in chunks of `chunk` (pairwork's candidate slots); so, perm and sim hold the
 * chunk's results, two per pair (|cos|, signed), perm/sim at pair_tasks_perm/_sim. */
struct pair_tasks {
	size_t n, np, mmax, k, chunk;
	size_t *pi, *pj;             /* pair p = models (pi[p], pj[p]), lexicographic */
	double **U;                  /* the n bases (d, k) when k > 0 */
	struct match_sparse_one *so; /* [2 * (p - p0) + kind] */
	int32_t *perm;
	float *sim;
	/* the bases' own thread (pair_tasks_bases_begin) and each basis's outcome */
	const struct mset *t;
	thrd_t th;
	int th_running, bases_ready;
	atomic_int bases_done;
	int *brc;
	struct hus_err *berr;
};
int pair_tasks_init(struct pair_tasks *x, const struct mset *t, size_t k, size_t chunk,
                    struct hus_err *err);
/* Start the bases on a thread of their own (1; the caller then runs its passes on one thread
 * fewer until pair_tasks_bases_finished), or not (0: too small, one thread, or no thread to
 * be had; pair_tasks_solve computes them).  t must outlive pair_tasks_bases_end/release. */
int pair_tasks_bases_begin(struct pair_tasks *x, const struct mset *t);
int pair_tasks_bases_finished(struct pair_tasks *x);
/* Wait for the bases' thread (if started): the first failing model's error, in model order. */
int pair_tasks_bases_end(struct pair_tasks *x, const struct mset *t, struct hus_err *err);
/* Pairs [p0, p1) (one chunk): the candidates not folded yet, then the bases (when `bases`)
 * and every sparse pair's two assignments (when `sparse`; pairs with m_A > m_B are left out). */
int pair_tasks_solve(struct pair_tasks *x, const struct mset *t, struct pairwork *w, size_t p0,
                     size_t p1, int bases, int sparse, double thr, struct hus_err *err);
int32_t *pair_tasks_perm(const struct pair_tasks *x, size_t p0, size_t p, int kind);
float *pair_tasks_sim(const struct pair_tasks *x, size_t p0, size_t p, int kind);
void pair_tasks_release(struct pair_tasks *x);

/* Room for the candidates of as many of n_pairs pairs of decoders up to mmax features as fit
 * in `budget` bytes (at least one pair), folding switched on (w->cand_fold); released with the
 * other buffers by pairwork_release. */
#define ANALYSIS_CAND_BUDGET ((size_t)1 << 30) /* analysis_request.match_memory's default */
int pair_cands_alloc(struct pairwork *w, size_t n_pairs, size_t mmax, size_t budget,
                     struct hus_err *err);
void pairwork_release(struct pairwork *w);
/* One product of A (d, mA) by B (d, mB) done: advance the progress line (pairs, GFLOP/s, ETA). */
void analysis_progress_step(struct pairwork *w, size_t d, size_t mA, size_t mB);

/* The pairs of one set: values (n_pairs), the n×n matrix, seeds of each pair. */
struct pairset {
	size_t np;
	double *v, *P, *ra, *rb;
	double *mnn; /* mutual-nearest-neighbour fraction per pair (when argmaxes were folded) */
	int64_t *sa, *sb;
};

/* Mean, min and max of the per-feature stabilities of a set. */
struct pf_summary {
	double mean, min, max;
};

/* analysis_sets.c */
void mset_release(struct mset *s);
int mset_alloc(struct mset *s, size_t n, size_t d, struct hus_err *err);
int mset_put(struct mset *s, size_t i, const float *W, size_t m, int64_t seed, const char *file,
             struct hus_err *err);
int pair_pwmcc(double *v, double *r_a, double *r_b, struct pairwork *w, const struct mset *a,
               size_t i, const struct mset *b, size_t j, struct hus_err *err);
/* w's maxima and argmax buffers for the largest model of t (its d_sae into *mmax); freed by
 * the caller as before, also on error */
int pairwork_buffers(struct pairwork *w, const struct mset *t, size_t *mmax,
                     struct hus_err *err);
/* with_cross 0: the within-set entries only, the cross entries NaN (no product formed) */
int pooled_matrix(double *P, const struct mset *a, const struct mset *b, const double *Pa,
                  const double *Pb, int with_cross, struct pairwork *w, struct hus_err *err);
void pairset_release(struct pairset *p);
int set_pairs(struct pairset *ps, const struct mset *s, struct pairwork *w, double **acc,
              struct hus_err *err);
int per_feature_json(hj **out, struct pf_summary *sum, const struct mset *s, struct pairwork *w,
                     struct pairset *ps, struct h5w *h5, const char *group, struct hus_err *err);
int load_set(struct mset *s, hj *manifest_json, const char *const *paths, size_t n,
             size_t *d_model, struct decoder *first, struct manifest *man,
             const char **sorted_paths, struct hus_err *err);
int make_control(struct mset *c, int kind, const struct mset *t, const int64_t *seeds, size_t n,
                 struct hus_err *err);

/* truth.c: the group's recovery of a planted set (results in `out`, vectors in h5);
 * paths[i] is the checkpoint of t's model i; X (rows, d) the set's first rows. */
int truth_group(hj *out, struct h5w *h5, const char *group, const struct mset *t,
                const char *const *paths, const struct planted_truth *tr, const float *X,
                size_t rows, struct hus_err *err);
/* stability_prob.c: per-feature stability probability at thr and the unstable subspace. */
int stability_prob_group(hj *out, struct h5w *h5, const char *group, const struct mset *t,
                         double thr, size_t k_max, struct hus_err *err);

/* analysis_sinkhorn.c: Sinkhorn matching of every pair of t at eps (columns sinkhorn_* of the
 * pair table, metrics.sinkhorn_* in results.json, /matching/<group>/<a>_<b>/sinkhorn_{perm,sim}
 * when write_matchings); above SINKHORN_MAX_D_SAE the values are NaN with the reason. */
int sinkhorn_group(hj *metrics, struct ana_pairs *tab, struct h5w *h5, const char *group,
                   const struct mset *t, double eps, double thr, int write_matchings,
                   struct pairwork *w, struct hus_err *err);

/* analysis_json.c */
hj *summary_json(const struct stats_summary *s, const int64_t *seeds, size_t n_seeds,
                 const double *vals, size_t n_pairs, uint64_t boot_seed, size_t B);
int compare_json(hj *into, const struct stats_summary *t, const double *tv, size_t nt,
                 const struct stats_summary *c, const double *cv, size_t nc,
                 struct hus_err *err);
hj *permutation_json(const struct perm_result *pr, uint64_t seed);
/* seed_level_verdict {unit, test, n_models_*, effect [CI], p_value, min_attainable_p, alpha,
 * verdict, seeds_needed} of one comparison (one test: no multiplicity correction here) */
hj *verdict_json(const struct perm_result *pr, size_t n1, size_t n2, double ci_lo, double ci_hi,
                 double alpha, size_t max_exact, size_t B);
int write_pairs_csv(const char *dir, const char *name, const int64_t *sa, const int64_t *sb,
                    const double *v, size_t n, struct manifest *man, struct hus_err *err);

#endif
