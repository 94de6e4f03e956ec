/*
 * tf_forward.c — the transformer's forward pass (docs/formulas.md §2.2, TransformerLens-equivalent):
 * token + learned positional embedding, pre-LN blocks with causal multi-head attention
 * (scale 1/sqrt(d_head)) and an MLP, final LN, untied unembedding, and the mean
 * cross-entropy over all d_vocab logits at the answer position (docs/formulas.md §1.5, docs/decisions.md §3).
 *
 * Rows are sample-major: row b*T + t.  Every dense product is a canonical product over the whole
 * batch (hus_gemm, numeric/: one fixed reduction order per element).  Only what the loss needs is computed (docs/decisions.md §5): positions after the
 * answer never enter (T = answer + 1); with last_only the last layer computes Q, attention
 * output, MLP and the rest only for the answer row (K and V still cover every row); and
 * layer 0's LN1 and q, k, v are computed once per distinct (token, position) pair, since
 * its input row depends on nothing else.  Threads only split independent rows or samples,
 * so results do not depend on their number.
 */
#include <math.h>
#include <string.h>

#include "train.h"

/* y (R, n) rows at ldy += bias (n) */
static void add_bias(float *y, const float *bias, size_t R, size_t n, size_t ldy)
{
#pragma omp parallel for schedule(static) if (R * n >= TF_PAR_MIN)
	for (size_t r = 0; r < R; r++) {
		float *y_r = y + r * ldy;
		for (size_t j = 0; j < n; j++)
			y_r[j] += bias[j];
	}
}

/* C (M, N) = A (M, K) · B (K, N), row-major with leading dimensions */
static void mm(float *C, size_t ldc, const float *A, size_t lda, const float *Bm, size_t ldb,
               size_t M, size_t N, size_t K, float beta)
{
	hus_gemm(0, 0, M, N, K, A, lda, Bm, ldb, beta, C, ldc);
}

/* Causal attention for layer l (docs/formulas.md §2.2): scores = q·kᵀ/sqrt(d_head), keys j <= query t,
 * softmax, z = pattern · v.  Queries t = T-nq .. T-1 of each sample.  Row (b, t) of q, k, v
 * is qkv row b*T + t, or rowmap[b*T + t] on layer 0's distinct-row path.  bias_qkv, when
 * not NULL, is added to the sample's q (query rows), k and v first. */
static void attention_forward(struct tf_work *w, size_t l, size_t H, size_t d,
                              const float *bias_qkv, const int32_t *rowmap)
{
	const size_t B = w->B, T = w->T, nq = w->rows_out[l] / B, t0 = T - nq, dh = d / H;
	const float scale = 1.0f / sqrtf((float)dh);
	float *qkv = w->qkv[l];
#define ROW(b, t) (qkv + (rowmap ? (size_t)rowmap[(b) * T + (t)] : (b) * T + (t)) * 3 * d)
#pragma omp parallel for schedule(static) if (B * T * d * T >= TF_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		/* add the biases while the sample's rows are in cache */
		for (size_t t = 0; bias_qkv && t < T; t++) {
			float *r = ROW(b, t);
			size_t j0 = t < t0 ? d : 0;
#pragma omp simd
			for (size_t j = j0; j < 3 * d; j++)
				r[j] += bias_qkv[j];
		}
		for (size_t h = 0; h < H; h++)
			for (size_t t = t0; t < T; t++) {
				const float *q = ROW(b, t) + h * dh;
				float *p = w->att[l] + ((b * H + h) * nq + (t - t0)) * T;
				float mx = -INFINITY;
				for (size_t j = 0; j <= t; j++) {
					const float *k = ROW(b, j) + d + h * dh;
					p[j] = hus_dot16(q, k, dh) * scale;
					if (p[j] > mx)
						mx = p[j];
				}
				float sum = 0.0f;
				for (size_t j = 0; j <= t; j++) {
					p[j] = hus_expf(p[j] - mx);
					sum += p[j];
				}
				for (size_t j = 0; j <= t; j++)
					p[j] /= sum;
				for (size_t j = t + 1; j < T; j++)
					p[j] = 0.0f;
				float *z = w->z[l] + (b * nq + (t - t0)) * d + h * dh;
				memset(z, 0, dh * sizeof(float));
				for (size_t j = 0; j <= t; j++) {
					const float *v = ROW(b, j) + 2 * d + h * dh;
#pragma omp simd
					for (size_t i = 0; i < dh; i++)
						z[i] += p[j] * v[i];
				}
			}
	}
#undef ROW
}

/* Layer 0's distinct rows: row b*T + t depends only on (token, t).  Fills urow, usrc, U and
 * gathers xu; ukey is left all -1 again.  Serial, rows in order. */
static void unique_rows(struct tf_work *w, const int32_t *tokens, size_t tok_stride, size_t B,
                        size_t d)
{
	const size_t T = w->T;
	size_t U = 0;
	for (size_t b = 0; b < B; b++)
		for (size_t t = 0; t < T; t++) {
			size_t key = (size_t)tokens[b * tok_stride + t] * T + t;
			if (w->ukey[key] < 0) {
				w->ukey[key] = (int32_t)U;
				w->usrc[U++] = (int32_t)(b * T + t);
			}
			w->urow[b * T + t] = w->ukey[key];
		}
	for (size_t u = 0; u < U; u++) {
		size_t r = (size_t)w->usrc[u];
		memcpy(w->xu + u * d, w->x[0] + r * d, d * sizeof(float));
		w->ukey[(size_t)tokens[(r / T) * tok_stride + r % T] * T + r % T] = -1;
	}
	w->U = U;
}

void tf_forward(struct tf_work *w, const struct tf_params *pv, const struct tf_config *c,
                const int32_t *tokens, size_t tok_stride, size_t B, const int32_t *labels,
                double *loss, int64_t *correct)
{
	const size_t d = (size_t)c->d_model, H = (size_t)c->n_heads, m = (size_t)c->d_mlp;
	const size_t L = w->L, T = w->T;
	size_t BT;
	/* a smaller final batch uses the first B samples of the workspace */
	w->B = B;
	for (size_t l = 0; l < L; l++)
		w->rows_out[l] = (w->last_only && l == L - 1) ? B : B * T;
	BT = B * T;

	/* hook_embed + hook_pos_embed */
	float *x0 = w->x[0];
#pragma omp parallel for schedule(static) if (B * T * d >= TF_PAR_MIN)
	for (size_t b = 0; b < B; b++)
		for (size_t t = 0; t < T; t++) {
			const float *e = pv->W_E + (size_t)tokens[b * tok_stride + t] * d;
			const float *pp = pv->W_pos + t * d;
			float *x_bt = x0 + (b * T + t) * d;
			for (size_t i = 0; i < d; i++)
				x_bt[i] = e[i] + pp[i];
		}

	for (size_t l = 0; l < L; l++) {
		const struct tf_block *bl = &pv->blocks[l];
		const size_t ro = w->rows_out[l], nq = ro / B, t0 = T - nq;
		const float *Wqkv = w->Wqkv + l * d * 3 * d;
		float *qkv = w->qkv[l], *y1 = w->y1[l];

		if (l == 0 && w->uniq) {
			/* LN1 and q, k, v once per distinct (token, position) row */
			unique_rows(w, tokens, tok_stride, B, d);
			tf_layernorm_forward(y1, w->ln1_mean[0], w->ln1_rstd[0], w->xu, bl->ln1_w,
			                     bl->ln1_b, w->U, d, d);
			mm(qkv, 3 * d, y1, d, Wqkv, 3 * d, w->U, 3 * d, d, 0.0f);
			add_bias(qkv, bl->b_Q, w->U, 3 * d, 3 * d); /* b_Q|b_K|b_V are contiguous */
			attention_forward(w, 0, H, d, NULL, w->urow);
		} else {
			tf_layernorm_forward(y1, w->ln1_mean[l], w->ln1_rstd[l], w->x[l], bl->ln1_w,
			                     bl->ln1_b, BT, d, d);
			if (nq == T) {
				mm(qkv, 3 * d, y1, d, Wqkv, 3 * d, BT, 3 * d, d, 0.0f);
			} else {
				/* k, v for every row; q only for the answer rows (stride T rows) */
				mm(qkv + d, 3 * d, y1, d, Wqkv + d, 3 * d, BT, 2 * d, d, 0.0f);
				mm(qkv + t0 * 3 * d, T * 3 * d, y1 + t0 * d, T * d, Wqkv, 3 * d, B, d, d,
				   0.0f);
			}
			attention_forward(w, l, H, d, bl->b_Q, NULL); /* b_Q|b_K|b_V contiguous */
		}
		/* out = sum_h z_h W_O[h] + b_O: W_O (H, d_head, d) is a (d, d) matrix */
		mm(w->attn_out[l], d, w->z[l], d, bl->W_O, d, ro, d, d, 0.0f);
		/* + b_O; hook_resid_mid = resid_pre + attn_out (query rows only) */
		float *mid = w->mid[l], *ao = w->attn_out[l];
		const float *xl = w->x[l], *bO = bl->b_O;
#pragma omp parallel for schedule(static) if (ro * d >= TF_PAR_MIN)
		for (size_t r = 0; r < ro; r++) {
			const float *x_r = xl + ((r / nq) * T + t0 + r % nq) * d;
#pragma omp simd
			for (size_t i = 0; i < d; i++) {
				ao[r * d + i] += bO[i];
				mid[r * d + i] = x_r[i] + ao[r * d + i];
			}
		}
		tf_layernorm_forward(w->y2[l], w->ln2_mean[l], w->ln2_rstd[l], mid, bl->ln2_w,
		                     bl->ln2_b, ro, d, d);
		mm(w->pre[l], m, w->y2[l], d, bl->W_in, m, ro, m, d, 0.0f);
		tf_bias_act_forward(w->post[l], w->pre[l], bl->b_in, ro, m, c->act);
		mm(w->mlp_out[l], d, w->post[l], m, bl->W_out, d, ro, d, m, 0.0f);
		/* + b_out; hook_resid_post = resid_mid + mlp_out */
		float *xn = w->x[l + 1], *mo = w->mlp_out[l];
		const float *bout = bl->b_out;
#pragma omp parallel for schedule(static) if (ro * d >= TF_PAR_MIN)
		for (size_t r = 0; r < ro; r++)
#pragma omp simd
			for (size_t i = 0; i < d; i++) {
				mo[r * d + i] += bout[i];
				xn[r * d + i] = mid[r * d + i] + mo[r * d + i];
			}
	}
	if (w->last_only)
		tf_forward_head(w, pv, c, B, labels, loss, correct);
}

/* The model's head on the B rows of w->x[L] (the last layer's answer rows): final LN, unembedding
 * and, with labels, the cross-entropy of each row (w->rowloss) and their mean and correct count.
 * Split from tf_forward so that train/functional.c can run it on edited hook rows. */
void tf_forward_head(struct tf_work *w, const struct tf_params *pv, const struct tf_config *c,
                     size_t B, const int32_t *labels, double *loss, int64_t *correct)
{
	const size_t d = (size_t)c->d_model, V = (size_t)c->p + 4, L = w->L;
	/* ln_final and unembed on the answer rows (x[L] has B rows) */
	tf_layernorm_forward(w->yf, w->lnf_mean, w->lnf_rstd, w->x[L], pv->lnf_w, pv->lnf_b, B,
	                     d, d);
	mm(w->logits, V, w->yf, d, pv->W_U, V, B, V, d, 0.0f);
	add_bias(w->logits, pv->b_U, B, V, V);
	if (!labels)
		return;
	/* cross-entropy over all V logits, mean over the batch (docs/formulas.md §2.4) */
	double *rl = w->rowloss;
	int64_t ok = 0;
#pragma omp parallel for schedule(static) if (B * V >= TF_PAR_MIN) reduction(+ : ok)
	for (size_t b = 0; b < B; b++) {
		const float *z = w->logits + b * V;
		float *pr = w->probs + b * V;
		float mx = z[0];
		size_t arg = 0;
		for (size_t j = 1; j < V; j++)
			if (z[j] > mx) {
				mx = z[j];
				arg = j; /* ties: lowest index (docs/formulas.md A12) */
			}
		double sum = 0.0;
		for (size_t j = 0; j < V; j++) {
			pr[j] = hus_expf(z[j] - mx);
			sum += pr[j];
		}
		for (size_t j = 0; j < V; j++)
			pr[j] = (float)(pr[j] / sum);
		rl[b] = (double)mx + hus_log(sum) - (double)z[labels[b]];
		ok += arg == (size_t)labels[b];
	}
	double s = 0.0;
	for (size_t b = 0; b < B; b++)
		s += rl[b];
	if (loss)
		*loss = s / (double)B;
	if (correct)
		*correct = ok;
}
