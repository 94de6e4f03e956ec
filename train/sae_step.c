/*
 * sae_step.c — one SAE training step and the inference forward, for every architecture:
 * encode (hus_gemm), code (per architecture), decode, losses of docs/formulas.md §4.5 (MSE, the upstream
 * "aux", AuxK, L1, L0) and §6.5 (alignment), backward into the gradient block, optional
 * gradient projection, Adam (torch semantics, §4.7), decoder renorm (§4.6) and the firing
 * bookkeeping.  The dense architectures' code and gradients are in sae_dense.c, the batch
 * ones' selection in sae_batchtopk.c.  Nothing here allocates.
 */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "sae_internal.h"

/* x_in = x - b_dec (Gao et al.; upstream has no b_dec);  pre = x_in W_encᵀ + b_enc (§4.3.1) */
void sae_encode(const struct sae_model *s, struct sae_work *w, const float *xb, size_t B)
{
	size_t d = w->d, m = w->m;
	const float *b_dec = s->p.b_dec;
	if (s->h.use_b_dec) {
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(B * d) > SAE_PAR_MIN)
		for (size_t b = 0; b < B; b++)
			for (size_t i = 0; i < d; i++)
				w->x_in_buf[b * d + i] = xb[b * d + i] - b_dec[i];
		w->x_in = w->x_in_buf;
	} else {
		w->x_in = xb; /* no copy: xb outlives the step that reads it */
	}
	/* as torch's addmm(b_enc, x_in, W_encᵀ): C starts as the bias, then C += x_in W_encᵀ */
	const float *b_enc = s->p.b_enc;
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(B * m) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++)
		memcpy(w->pre + b * m, b_enc, m * sizeof(float));
	hus_gemm(0, 1, B, m, d, w->x_in, d, s->p.W_enc, d, 1.0f, w->pre, m);
}

/* mse = mean over B*d of (x̂ - x)² (§4.5); dxhat = scale * 2 (x̂ - x) / (B d) */
double sae_mse_grad(float *dxhat, const float *xhat, const float *x, size_t B, size_t d,
                    double scale, double *rowacc)
{
	const float c = (float)(scale * 2.0 / ((double)B * (double)d));
#pragma omp parallel for schedule(static) if ((size_t)(B * d) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		double acc = 0;
		for (size_t i = 0; i < d; i++) {
			float r = xhat[b * d + i] - x[b * d + i];
			acc += (double)r * r;
			if (dxhat)
				dxhat[b * d + i] = c * r;
		}
		rowacc[b] = acc;
	}
	double sse = 0;
	for (size_t b = 0; b < B; b++)
		sse += rowacc[b];
	return sse / ((double)B * (double)d);
}

static void code_stats_sparse(const struct sae_work *w, size_t B, struct sae_step_stats *st)
{
	double l0 = 0, l1 = 0;
	for (size_t e = 0; e < w->row_off[B]; e++) {
		l0 += w->val[e] != 0.0f;
		l1 += fabsf(w->val[e]);
	}
	st->l0 = l0 / (double)B;
	st->l1 = l1 / (double)B;
}

/* §4.5 upstream "aux": u_bj = e_b |pre_bj| [j not kept]; aux = coef * mean_b (top-k of u_b).
 * e_b = ||x_b - x̂_b||² is not detached, so dL/dx̂_b gains coef/B * Σ_A|pre| * 2 (x̂_b - x_b). */
static double upstream_aux(const struct sae_model *s, struct sae_work *w, const float *xb,
                           size_t B)
{
	size_t d = w->d, m = w->m, k = s->h.k, ka = w->ka;
	size_t kk = m - k < ka ? m - k : ka;
	const float c = (float)(s->h.aux_coef / (double)B);
	size_t kh = k > ka ? k : ka;
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(B * m) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		int t = omp_get_thread_num();
		float *u = w->scratch + (size_t)t * 3 * m;
		int32_t *sel = w->sel + (size_t)t * kh, *heap = w->heap + (size_t)t * 2 * kh;
		const float *pre_b = w->pre + b * m, *x_b = xb + b * d, *xh_b = w->xhat + b * d;
		double e = 0;
		for (size_t i = 0; i < d; i++) {
			double r = (double)xh_b[i] - x_b[i];
			e += r * r;
		}
		for (size_t j = 0; j < m; j++)
			u[j] = fabsf(pre_b[j]);
		for (size_t q = b * k; q < b * k + k; q++)
			u[w->idx[q]] = -INFINITY;
		hus_topk(sel, u, m, kk, heap);
		double sa = 0;
		for (size_t q = 0; q < kk; q++)
			sa += fabsf(pre_b[sel[q]]);
		w->rowacc[b] = e * sa; /* row's sum of the k largest u */
		float ce = c * (float)sa * 2.0f;
		float *dxh_b = w->dxhat + b * d;
		for (size_t i = 0; i < d; i++)
			dxh_b[i] += ce * (xh_b[i] - x_b[i]);
		size_t base = B * k + b * ka;
		for (size_t q = 0; q < kk; q++) {
			float p = pre_b[sel[q]];
			float sg = (p > 0) - (p < 0);
			w->e_b[base + q] = (int32_t)b;
			w->e_j[base + q] = sel[q];
			w->e_z[base + q] = 0.0f;
			w->e_g[base + q] = c * (float)e * sg;
			w->e_src[base + q] = 0;
		}
	}
	double aux = 0;
	for (size_t b = 0; b < B; b++)
		aux += w->rowacc[b];
	return s->h.aux_coef * aux / (double)B;
}

/* AuxK (Gao et al. 2024 §A.2): model the residual e = x - x̂ (detached) with the top-k_aux
 * dead latents: ê_b = Σ_{A_b} relu(pre_bj) w_j; L = coef * mean over B*d of (ê - e)². */
static double auxk(const struct sae_model *s, struct sae_work *w, const float *xb, size_t B)
{
	size_t d = w->d, m = w->m, k = s->h.k, ka = w->ka, nd = 0;
	for (size_t j = 0; j < m; j++)
		if (s->since_fired[j] >= s->h.dead_tokens)
			w->dead[nd++] = (int32_t)j;
	if (nd == 0)
		return 0.0;
	size_t kk = nd < ka ? nd : ka;
	size_t kh = k > ka ? k : ka;
	const float c = (float)(2.0 * s->h.auxk_coef / ((double)B * (double)d));
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(B * m) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		int t = omp_get_thread_num();
		float *u = w->scratch + (size_t)t * 3 * m;
		int32_t *sel = w->sel + (size_t)t * kh, *heap = w->heap + (size_t)t * 2 * kh;
		const float *pre_b = w->pre + b * m, *x_b = xb + b * d, *xh_b = w->xhat + b * d;
		float *eh = w->res + b * d, *deh = w->dres + b * d;
		for (size_t q = 0; q < nd; q++)
			u[q] = pre_b[w->dead[q]];
		hus_topk(sel, u, nd, kk, heap);
		memset(eh, 0, d * sizeof(float));
		for (size_t q = 0; q < kk; q++) {
			float z = pre_b[w->dead[sel[q]]];
			if (z <= 0.0f)
				continue;
			const float *w_j = s->p.W_decT + (size_t)w->dead[sel[q]] * d;
			for (size_t i = 0; i < d; i++)
				eh[i] += z * w_j[i];
		}
		double acc = 0;
		for (size_t i = 0; i < d; i++) {
			float r = eh[i] - (x_b[i] - xh_b[i]);
			acc += (double)r * r;
			deh[i] = c * r;
		}
		w->rowacc[b] = acc;
		size_t base = B * k + b * ka;
		for (size_t q = 0; q < kk; q++) {
			int32_t j = w->dead[sel[q]];
			float z = pre_b[j];
			if (z <= 0.0f)
				continue;
			const float *w_j = s->p.W_decT + (size_t)j * d;
			float dz = 0;
			for (size_t i = 0; i < d; i++)
				dz += deh[i] * w_j[i];
			w->e_b[base + q] = (int32_t)b;
			w->e_j[base + q] = j;
			w->e_z[base + q] = z;
			w->e_g[base + q] = dz; /* relu gate: z > 0 here */
			w->e_src[base + q] = 1;
		}
	}
	double sse = 0;
	for (size_t b = 0; b < B; b++)
		sse += w->rowacc[b];
	return s->h.auxk_coef * sse / ((double)B * (double)d);
}

/* main code entries: dz_e = dL/dx̂_b · w_j (x̂_b = Σ z_bj w_j); dpre = dz * gate, where the
 * gate is 1 for signed top-k (§4.3, no ReLU) and [z > 0] for ReLU'd codes.  src picks G. */
static void main_entries(const struct sae_model *s, struct sae_work *w, size_t B, int relu)
{
	size_t d = w->d;
	size_t lvl_n = w->n_lvl;
#pragma omp parallel for schedule(static) num_threads(w->nthreads) if ((size_t)(w->row_off[B] * d) > SAE_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		size_t e0 = w->row_off[b], e1 = w->row_off[b + 1];
		if (!lvl_n) /* dz for the whole row at once (one multi-versioned call) */
			sae_k_row_dots(w->e_g + e0, w->dxhat + b * d, w->idx, e0, e1, s->p.W_decT, d);
		for (size_t e = e0; e < e1; e++) {
			int32_t j = w->idx[e];
			float z = w->val[e];
			uint8_t src = 0;
			float dz;
			if (lvl_n) {
				size_t l = 0;
				while ((size_t)j >= s->h.prefix[l])
					l++;
				src = (uint8_t)(2 + l);
				dz = sae_k_dot(w->lvl + (l * B + b) * d, s->p.W_decT + (size_t)j * d, d);
			} else {
				dz = w->e_g[e];
			}
			w->e_b[e] = (int32_t)b;
			w->e_j[e] = j;
			w->e_z[e] = z;
			w->e_g[e] = (relu && !(z > 0.0f)) ? 0.0f : dz;
			w->e_src[e] = src;
		}
	}
}

static double sparse_loss_grad(struct sae_model *s, struct sae_work *w, const float *xb,
                               size_t B, struct sae_step_stats *st)
{
	const struct sae_hparams *h = &s->h;
	size_t d = w->d;
	memset(w->e_j, 0xff, w->ent_cap * sizeof(int32_t)); /* every slot unused (-1) */
	sae_encode(s, w, xb, B);
	int batch = h->arch == SAE_BATCHTOPK || h->arch == SAE_MATRYOSHKA;
	if (batch) {
		sae_batch_select(s, w, B, 1);
	} else {
		sae_select_topk_rows(w, w->pre, B, h->k);
		if (h->arch == SAE_TOPK) /* ReLU on the kept values */
			for (size_t e = 0; e < B * h->k; e++)
				w->val[e] = w->val[e] > 0.0f ? w->val[e] : 0.0f;
	}
	double loss;
	if (h->arch == SAE_MATRYOSHKA) {
		loss = sae_matryoshka_recon(s, w, xb, B);
		st->mse = sae_mse_grad(NULL, w->xhat, xb, B, d, 1.0, w->rowacc);
	} else {
		sae_sparse_decode(w->xhat, w, s->p.W_decT, s->p.b_dec, B, d);
		st->mse = loss = sae_mse_grad(w->dxhat, w->xhat, xb, B, d, 1.0, w->rowacc);
	}
	st->aux = 0;
	if (h->arch == SAE_TOPK_UPSTREAM && w->ka)
		st->aux = upstream_aux(s, w, xb, B);
	else if (h->arch == SAE_TOPK && w->ka)
		st->aux = auxk(s, w, xb, B);
	loss += st->aux;
	main_entries(s, w, B, h->arch != SAE_TOPK_UPSTREAM);
	sae_entries_accumulate(s, w, B);
	if (h->use_b_dec)
		sae_db_dec_grad(s->g.b_dec, w->dxhat, s->g.b_enc, s->p.W_enc, B, d, w->m, w->dacc);
	code_stats_sparse(w, B, st);
	w->code_dense = 0;
	return loss;
}

double sae_loss_grad(struct sae_model *s, struct sae_work *w, const float *xb, size_t B,
                     int train, struct sae_step_stats *st)
{
	(void)train;
	memset(s->g.mem, 0, s->g.n * sizeof(float));
	memset(st, 0, sizeof(*st));
	double loss = w->dense ? sae_dense_loss_grad(s, w, xb, B, st)
			       : sparse_loss_grad(s, w, xb, B, st);
	if (s->h.align_lambda > 0 && s->ref_T) {
		st->align = sae_align_penalty(s->g.W_decT, s->p.W_decT, s->ref_T, s->h.d_sae,
					      s->m_ref, s->h.d_model, s->h.align_lambda);
		loss += s->h.align_lambda * st->align;
	}
	st->loss = loss;
	return loss;
}

/* g_j -= (g_j · w_j) w_j for unit w_j (the optional step before Adam, §4.6 notes upstream
 * does not do it) */
static void project_grad(struct sae_model *s)
{
	size_t d = s->h.d_model, m = s->h.d_sae;
#pragma omp parallel for schedule(static) if ((size_t)(m * d) > SAE_PAR_MIN)
	for (size_t j = 0; j < m; j++) {
		float *g = s->g.W_decT + j * d;
		const float *wj = s->p.W_decT + j * d;
		double dot = 0;
		for (size_t i = 0; i < d; i++)
			dot += (double)g[i] * wj[i];
		for (size_t i = 0; i < d; i++)
			g[i] -= (float)dot * wj[i];
	}
}

void sae_step(struct sae_model *s, struct sae_work *w, const float *xb, size_t B,
              struct sae_step_stats *st)
{
	const struct sae_hparams *h = &s->h;
	sae_loss_grad(s, w, xb, B, 1, st);
	if (h->grad_project)
		project_grad(s);
	int64_t t = s->step + 1;
	struct adam_hparams ah = { h->lr, h->beta1, h->beta2, h->eps, 0.0 };
	if (h->warmup_steps > 0 && t < h->warmup_steps)
		ah.lr = h->lr * (double)t / (double)h->warmup_steps;
	adam_step(s->p.mem, s->m.mem, s->v.mem, s->g.mem, s->p.n, &ah, t);
	s->step = t;
	sae_renorm_decoder(s->p.W_decT, h->d_sae, h->d_model);
	if (h->arch == SAE_JUMPRELU)
		for (size_t j = 0; j < h->d_sae; j++)
			if (s->p.threshold[j] < 0.0f) /* thresholds stay non-negative */
				s->p.threshold[j] = 0.0f;
	if (h->arch == SAE_BATCHTOPK || h->arch == SAE_MATRYOSHKA) {
		/* inference threshold: EMA of the smallest kept activation (Bussmann et al.) */
		float th = s->p.threshold[0];
		th = s->threshold_set ? (float)(h->bt_ema * th + (1.0 - h->bt_ema) * w->bt_min)
				      : w->bt_min;
		s->threshold_set = 1;
		for (size_t j = 0; j < h->d_sae; j++)
			s->p.threshold[j] = th;
	}
	/* firing bookkeeping: feature_counts (§4.3.5), epoch counts, AuxK dead window */
	if (w->dense) {
		size_t m = w->m;
#pragma omp parallel for schedule(static) if ((size_t)(m * B) > SAE_PAR_MIN)
		for (size_t j = 0; j < m; j++) {
			int32_t c = 0;
			for (size_t b = 0; b < B; b++)
				c += fabsf(w->z[b * m + j]) > h->fire_eps;
			w->fired[j] = c;
		}
	} else {
		sae_count_fired_sparse(w, B, h->fire_eps);
	}
	for (size_t j = 0; j < h->d_sae; j++) {
		s->feature_counts[j] += w->fired[j];
		s->epoch_fired[j] += w->fired[j];
		s->since_fired[j] = w->fired[j] ? 0 : s->since_fired[j] + (int64_t)B;
	}
}

/* Inference forward: x̂ in w->xhat, the code in w->z (dense) or the CSR. */
void sae_infer(struct sae_model *s, struct sae_work *w, const float *xb, size_t B)
{
	const struct sae_hparams *h = &s->h;
	if (w->dense) {
		sae_encode(s, w, xb, B);
		sae_dense_code(s, w, B);
		w->code_dense = 1;
		return;
	}
	sae_encode(s, w, xb, B);
	if (h->arch == SAE_BATCHTOPK || h->arch == SAE_MATRYOSHKA) {
		if (s->threshold_set) {
			sae_dense_code(s, w, B); /* z = pre [pre > θ], x̂ by hus_gemm */
			w->code_dense = 1;
			return;
		}
		sae_batch_select(s, w, B, 0);
	} else {
		sae_select_topk_rows(w, w->pre, B, h->k);
		if (h->arch == SAE_TOPK)
			for (size_t e = 0; e < B * h->k; e++)
				w->val[e] = w->val[e] > 0.0f ? w->val[e] : 0.0f;
	}
	sae_sparse_decode(w->xhat, w, s->p.W_decT, s->p.b_dec, B, w->d);
	w->code_dense = 0;
}

void sae_forward(struct sae_model *s, struct sae_work *w, const float *xb, size_t B,
                 float *xhat, float *z_dense)
{
	size_t m = w->m;
	sae_infer(s, w, xb, B);
	if (xhat)
		memcpy(xhat, w->xhat, B * w->d * sizeof(float));
	if (!z_dense)
		return;
	if (w->code_dense) {
		memcpy(z_dense, w->z, B * m * sizeof(float));
		return;
	}
	memset(z_dense, 0, B * m * sizeof(float));
	for (size_t b = 0; b < B; b++)
		for (size_t e = w->row_off[b]; e < w->row_off[b + 1]; e++)
			z_dense[b * m + w->idx[e]] = w->val[e];
}
