/*
 * sae_work.c — the SAE step workspace: every buffer a training step or an evaluation uses,
 * allocated once from the hyper-parameters and the batch size (STYLE: no allocation inside
 * step functions).  Which buffers exist depends on the architecture.
 */
#include <omp.h>
#include <stdlib.h>

#include "sae_internal.h"

void sae_work_free(struct sae_work *w)
{
	if (!w)
		return;
	free(w->x_in_buf), free(w->pre), free(w->xhat), free(w->dxhat), free(w->res), free(w->dres);
	free(w->z), free(w->dz), free(w->lvl), free(w->scratch), free(w->heap), free(w->sel), free(w->hist), free(w->cand);
	free(w->keys), free(w->gsum);
	free(w->bsel), free(w->row_off), free(w->idx), free(w->val);
	free(w->e_b), free(w->e_j), free(w->e_z), free(w->e_g), free(w->e_src);
	free(w->col_off), free(w->order), free(w->dead), free(w->fired), free(w->rowacc),
		free(w->dacc), free(w->colnorm);
	free(w);
}

int sae_work_alloc(struct sae_work **out, const struct sae_hparams *h, size_t B,
                   struct hus_err *err)
{
	struct sae_work *w = calloc(1, sizeof(*w));
	if (!w)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for an SAE workspace");
	size_t d = h->d_model, m = h->d_sae;
	w->B = B, w->d = d, w->m = m;
	w->nthreads = omp_get_max_threads();
	int batch = h->arch == SAE_BATCHTOPK || h->arch == SAE_MATRYOSHKA;
	w->dense = h->arch == SAE_RELU || h->arch == SAE_JUMPRELU;
	w->kmain = h->k;
	w->ka = 0;
	if (h->arch == SAE_TOPK_UPSTREAM && h->upstream_aux)
		w->ka = h->k;
	if (h->arch == SAE_TOPK && h->auxk_coef > 0)
		w->ka = h->k_aux;
	size_t kh = h->k > w->ka ? h->k : w->ka;
	if (kh == 0)
		kh = 1;
	size_t cap = B * (h->k + w->ka);
	w->ent_cap = cap ? cap : 1;
	w->n_lvl = h->arch == SAE_MATRYOSHKA ? h->n_prefix : 0;

	int fail = 0;
#define ALLOC(p, n) do { size_t n_ = (n); (p) = calloc(n_ ? n_ : 1, sizeof(*(p))); fail |= !(p); } while (0)
	ALLOC(w->x_in_buf, B * d);
	ALLOC(w->pre, B * m);
	ALLOC(w->xhat, B * d);
	ALLOC(w->dxhat, B * d);
	ALLOC(w->rowacc, B);
	ALLOC(w->dacc, d);
	ALLOC(w->fired, m);
	ALLOC(w->colnorm, m);
	if (w->dense || batch)
		ALLOC(w->z, B * m);
	if (w->dense) {
		ALLOC(w->dz, B * m);
	} else {
		ALLOC(w->res, B * d);
		ALLOC(w->dres, B * d);
		ALLOC(w->scratch, (size_t)w->nthreads * 3 * m);
		ALLOC(w->heap, (size_t)w->nthreads * 2 * kh);
		ALLOC(w->sel, (size_t)w->nthreads * kh);
		ALLOC(w->hist, (size_t)w->nthreads * SAE_RADIX_BUCKETS);
		ALLOC(w->cand, (size_t)w->nthreads * 3 * m);
		ALLOC(w->keys, (size_t)w->nthreads * SAE_TOPK_GROUP * m);
		ALLOC(w->row_off, B + 1);
		ALLOC(w->idx, w->ent_cap);
		ALLOC(w->val, w->ent_cap);
		ALLOC(w->e_b, w->ent_cap);
		ALLOC(w->e_j, w->ent_cap);
		ALLOC(w->e_z, w->ent_cap);
		ALLOC(w->e_g, w->ent_cap);
		ALLOC(w->e_src, w->ent_cap);
		ALLOC(w->order, w->ent_cap);
		ALLOC(w->col_off, m + 1);
		ALLOC(w->gsum, m);
		ALLOC(w->dead, m);
	}
	if (batch)
		ALLOC(w->bsel, B * m);
	if (w->n_lvl)
		ALLOC(w->lvl, w->n_lvl * B * d);
#undef ALLOC
	if (fail) {
		sae_work_free(w);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL,
				"out of memory for an SAE workspace (batch %zu, d_sae %zu)", B, m);
	}
	*out = w;
	return 0;
}
