/*
 * sae_internal.h — what the SAE files share inside train/ and nobody else needs: the step
 * workspace and the sparse-gradient entry lists.  Public declarations are in train.h.
 */
#ifndef HUSAI_SAE_INTERNAL_H
#define HUSAI_SAE_INTERNAL_H

#include <string.h>

#include "train.h"

/* Below this much work a loop runs on one thread: parallel regions around tiny loops cost more
 * in barrier spinning than they save (and results never depend on the choice). */
#define SAE_PAR_MIN 65536

/*
 * A sparse code is kept by row (CSR: row_off, idx, val, pv); its gradient contributions are
 * "entries" (b, j, z, g, src): dW_decT[j] += z * G_src[b] and dW_enc[j] += g * x_in[b],
 * db_enc[j] += g.  Entries are emitted at positions fixed by the row (never by the thread),
 * then stably sorted by latent, so every latent sums its rows in one order whatever the
 * thread count (docs/decisions.md §4).
 */
struct sae_work {
	size_t B, d, m;   /* batch capacity, d_model, d_sae */
	size_t kmain;     /* entries per row of the main code (k), or total (batch archs) */
	size_t ka;        /* aux entries per row (upstream aux: k; AuxK: k_aux) */
	int dense;        /* relu, jumprelu: dense code */
	int nthreads;
	float *x_in_buf;  /* (B, d) x - b_dec, when there is a b_dec */
	const float *x_in; /* (B, d) the encoder's input: x_in_buf, or the batch itself */
	float *pre;       /* (B, m) pre-activations (b_enc added) */
	float *xhat;      /* (B, d) */
	float *dxhat;     /* (B, d) dL/dxhat (matryoshka: the cumulative G^(0)) */
	float *res;       /* (B, d) AuxK: e - ehat work; upstream aux: unused */
	float *dres;      /* (B, d) AuxK: dL/dehat */
	float *z;         /* (B, m) dense code (dense archs; batch archs at inference) */
	float *dz;        /* (B, m) dense dL/dpre (dense archs) */
	float *lvl;       /* (L, B, d) matryoshka: cumulative level gradients G^(l) */
	size_t n_lvl;
	float *scratch;   /* (nthreads, 3m) per-thread selection values */
	int32_t *heap;    /* (nthreads, 2*kh) per-thread selection heaps; kh = max(k, ka) */
	int32_t *sel;     /* (nthreads, kh) */
	uint32_t *hist;   /* (nthreads, SAE_RADIX_BUCKETS) radix top-k histograms */
	int32_t *cand;    /* (nthreads, 3m) top-k candidates */
	uint32_t *keys;   /* (nthreads, SAE_TOPK_GROUP*m) order keys of a group of rows */
	float *bsel;      /* (B*m) batch-top-k selection copy (batch archs) */
	size_t *row_off;  /* (B+1) CSR of the main code */
	int32_t *idx;     /* (cap) latent */
	float *val;       /* (cap) z value */
	/* entries */
	size_t ent_cap;
	int32_t *e_b, *e_j;
	float *e_z, *e_g;
	uint8_t *e_src;
	size_t *col_off;  /* (m+1) */
	float *gsum;      /* (m) Σ g per latent when the entries are walked in order */
	int32_t *order;   /* (ent_cap) entry positions sorted by latent */
	int32_t *dead;    /* (m) AuxK dead latents this step */
	int32_t *fired;   /* (m) firings this batch */
	double *rowacc;   /* (B) per-row partial sums */
	double *dacc;     /* (d) */
	float *colnorm;   /* (m) decoder column norms (relu decnorm L1) */
	float bt_min;     /* batch archs: smallest kept activation of the last train batch */
	int code_dense;   /* last forward left its code in z (1) or in the CSR (0) */
};

/* sae_kern.c: inner loops, multi-versioned by instruction set with identical results */
void sae_k_decode_row(float *xh_b, const float *b_dec, const int32_t *idx, const float *val,
                      size_t e0, size_t e1, const float *W_decT, size_t d);
void sae_k_row_dots(float *out, const float *g_b, const int32_t *idx, size_t e0, size_t e1,
                    const float *W_decT, size_t d);
float sae_k_dot(const float *a, const float *b, size_t n);
float sae_k_latent_acc(float *dwd_j, float *dwe_j, const int32_t *order, size_t t0, size_t t1,
                       const int32_t *e_b, const float *e_z, const float *e_g,
                       const uint8_t *e_src, const float *const *G, const float *x_in,
                       size_t d);
void sae_k_entries_scatter(float *dWd, float *dWe, float *gsum, size_t j0, size_t j1, size_t n,
                           const int32_t *e_j, const int32_t *e_b, const float *e_z,
                           const float *e_g, const uint8_t *e_src, const float *const *G,
                           const float *x_in, size_t d);
#define SAE_TOPK_GROUP 16 /* rows selected together by sae_k_topk_rows, one per lane */
/* gradient rows (2 m d floats) up to this many bytes are accumulated by walking the entries */
#define SAE_SCATTER_MAX ((size_t)1 << 20) /* rows selected together by sae_k_topk_rows */
void sae_k_topk_rows(int32_t *idx, const float *v, size_t n, size_t k, size_t ng, uint32_t *key);

/* sae_select.c */
/* order-preserving map of a float to uint32 (-0 taken as +0, so equal values share a key) */
static inline uint32_t sae_fkey(float f)
{
	f += 0.0f; /* -0 + +0 = +0 */
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	uint32_t neg = 0u - (u >> 31); /* all ones for negative values */
	return u ^ (neg | 0x80000000u);               /* branch-free */
}


#define SAE_RADIX_BITS 11
#define SAE_RADIX_BUCKETS (1u << SAE_RADIX_BITS)
void sae_topk_row_radix(int32_t *idx, const float *v, size_t n, size_t k, int32_t *heap,
                        uint32_t *hist, int32_t *cand, float *tmp);
void sae_select_topk_rows(struct sae_work *w, const float *pre, size_t B, size_t k);
float sae_quickselect_desc(float *v, size_t n, size_t r); /* r-th largest (0-based) */

/* sae_sparse.c: the sparse (TopK-family) kernels */
void sae_sparse_decode(float *xhat, const struct sae_work *w, const float *W_decT,
                       const float *b_dec, size_t B, size_t d);
void sae_entries_accumulate(struct sae_model *s, struct sae_work *w, size_t B);
void sae_db_dec_grad(float *g_b_dec, const float *G, const float *g_b_enc, const float *W_enc,
                     size_t B, size_t d, size_t m, double *dacc);
void sae_count_fired_sparse(struct sae_work *w, size_t B, double fire_eps);

/* sae_dense.c: relu and jumprelu */
double sae_dense_loss_grad(struct sae_model *s, struct sae_work *w, const float *xb, size_t B,
                           struct sae_step_stats *st);
void sae_dense_code(const struct sae_model *s, struct sae_work *w, size_t B);

/* sae_batchtopk.c: batchtopk and matryoshka */
void sae_batch_select(struct sae_model *s, struct sae_work *w, size_t B, int train);
double sae_matryoshka_recon(struct sae_model *s, struct sae_work *w, const float *xb,
                            size_t B);

/* shared helpers (sae_step.c) */
void sae_encode(const struct sae_model *s, struct sae_work *w, const float *xb, size_t B);
void sae_infer(struct sae_model *s, struct sae_work *w, const float *xb, size_t B);
double sae_mse_grad(float *dxhat, const float *xhat, const float *x, size_t B, size_t d,
                    double scale, double *rowacc);

#endif
