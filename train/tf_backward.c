/*
 * tf_backward.c — the transformer's backward pass: gradients of the mean cross-entropy at
 * the answer position with respect to every parameter, after tf_forward with last_only.
 * Mirrors tf_forward.c line by line in reverse.  Parameter gradients are canonical products
 * over the whole batch (hus_gemm: one fma chain per element over the batch rows in order,
 * whatever the thread count) or column sums in row order; per-sample work (attention) is split by sample.  Gradients accumulate with +=.
 */
#include <math.h>
#include <string.h>

#include "train.h"

/* C (M, N) (+)= A (M, K) · B (K, N)ᵀ-variants, row-major */
static void mm_nt(float *C, size_t ldc, const float *A, size_t lda, const float *Bm,
                  size_t ldb, size_t M, size_t N, size_t K, float beta)
{
	/* C = A · Bmᵀ with Bm (N, K) */
	hus_gemm(0, 1, M, N, K, A, lda, Bm, ldb, beta, C, ldc);
}

static void mm_tn(float *C, size_t ldc, const float *A, size_t lda, const float *Bm,
                  size_t ldb, size_t M, size_t N, size_t K)
{
	/* C += Aᵀ · Bm with A (K, M), Bm (K, N): the weight gradient, reduced over K rows */
	hus_gemm(1, 0, M, N, K, A, lda, Bm, ldb, 1.0f, C, ldc);
}

/* Attention backward for layer l.  Forward: p = softmax(q·kᵀ·scale), z = p·v.
 * dp_j = dz·v_j; dv_j += p_j dz; ds_j = p_j (dp_j - Σ_i p_i dp_i);
 * dq = scale Σ_j ds_j k_j; dk_j += scale ds_j q.  Writes w->dqkv: dq of the query rows,
 * dk and dv of every row (dq of other rows is left as it was and never read).  q, k, v
 * of row (b, t) are read from qkv row rowmap[b*T + t] when rowmap is not NULL (layer 0's
 * distinct rows); the gradients are always per row b*T + t. */
static void attention_backward(struct tf_work *w, size_t l, size_t H, size_t d,
                               const int32_t *rowmap)
{
	const size_t B = w->B, T = w->T, nq = w->rows_out[l] / B, t0 = T - nq, dh = d / H;
	const float scale = 1.0f / sqrtf((float)dh);
	const float *qkv = w->qkv[l];
	float *dqkv = w->dqkv;
#define ROW(b, t) (qkv + (rowmap ? (size_t)rowmap[(b) * T + (t)] : (b) * T + (t)) * 3 * d)
#pragma omp parallel for schedule(static) if (B * T * d * T >= TF_PAR_MIN)
	for (size_t b = 0; b < B; b++) {
		for (size_t h = 0; h < H; h++) {
			/* dk, dv of this sample and head, summed over queries in order */
			float dk[DS_SEQ_LEN][TF_MAX_DHEAD], dv[DS_SEQ_LEN][TF_MAX_DHEAD];
			for (size_t j = 0; j < T; j++) {
				memset(dk[j], 0, dh * sizeof(float));
				memset(dv[j], 0, dh * sizeof(float));
			}
			for (size_t t = t0; t < T; t++) {
				const float *p = w->att[l] + ((b * H + h) * nq + (t - t0)) * T;
				const float *dz = w->dz + (b * nq + (t - t0)) * d + h * dh;
				const float *q = ROW(b, t) + h * dh;
				float *dq = dqkv + (b * T + t) * 3 * d + h * dh;
				float dp[DS_SEQ_LEN];
				float sdp = 0.0f;
				for (size_t j = 0; j <= t; j++) {
					const float *v = ROW(b, j) + 2 * d + h * dh;
					float s = hus_dot16(dz, v, dh);
					for (size_t i = 0; i < dh; i++)
						dv[j][i] += p[j] * dz[i];
					dp[j] = s;
					sdp += p[j] * s;
				}
				memset(dq, 0, dh * sizeof(float));
				for (size_t j = 0; j <= t; j++) {
					float ds = p[j] * (dp[j] - sdp) * scale;
					const float *k = ROW(b, j) + d + h * dh;
#pragma omp simd
					for (size_t i = 0; i < dh; i++) {
						dq[i] += ds * k[i];
						dk[j][i] += ds * q[i];
					}
				}
			}
			for (size_t j = 0; j < T; j++) {
				memcpy(dqkv + (b * T + j) * 3 * d + d + h * dh, dk[j], dh * sizeof(float));
				memcpy(dqkv + (b * T + j) * 3 * d + 2 * d + h * dh, dv[j], dh * sizeof(float));
			}
		}
	}
#undef ROW
}

/* out (U, n) = sums of the rows of in (R, n) mapped to each distinct row, rows in order
 * (threads take blocks of 64 columns) */
static void reduce_rows(float *out, const float *in, const int32_t *map, size_t R, size_t U,
                        size_t n)
{
	memset(out, 0, U * n * sizeof(float));
	const size_t nblk = (n + 63) / 64;
#pragma omp parallel for schedule(static) if (R * n >= TF_PAR_MIN)
	for (size_t k = 0; k < nblk; k++) {
		const size_t j0 = k * 64, nj = j0 + 64 < n ? 64 : n - j0;
		for (size_t r = 0; r < R; r++) {
			float *o = out + (size_t)map[r] * n + j0;
			const float *i_r = in + r * n + j0;
#pragma omp simd
			for (size_t j = 0; j < nj; j++)
				o[j] += i_r[j];
		}
	}
}

void tf_backward(struct tf_work *w, struct tf_params *g, const struct tf_params *pv,
                 const struct tf_config *c, const int32_t *tokens, size_t tok_stride, size_t B,
                 const int32_t *labels)
{
	const size_t d = (size_t)c->d_model, H = (size_t)c->n_heads, dh = d / H;
	const size_t m = (size_t)c->d_mlp, V = (size_t)c->p + 4, L = w->L, T = w->T, BT = B * T;

	/* loss = mean_b CE(logits_b, c_b): dlogits = (softmax - onehot) / B, B the whole
	 * batch's size when it is processed in chunks */
	const float invB = 1.0f / (float)(w->loss_B ? w->loss_B : B);
#pragma omp parallel for schedule(static) if (B * V >= TF_PAR_MIN)
	for (size_t b = 0; b < B; b++)
		for (size_t j = 0; j < V; j++)
			w->dlogits[b * V + j] =
				(w->probs[b * V + j] - (j == (size_t)labels[b] ? 1.0f : 0.0f)) * invB;
	/* logits = yf · W_U + b_U */
	mm_tn(g->W_U, V, w->yf, d, w->dlogits, V, d, V, B);
	tf_colsum(g->b_U, w->dlogits, B, V, V);
	mm_nt(w->dyf, d, w->dlogits, V, pv->W_U, V, B, d, V, 0.0f);
	/* yf = LN_final(x[L]) */
	float *dx = w->dx, *dx2 = w->dx2;
	memset(dx, 0, B * d * sizeof(float));
	tf_layernorm_backward(dx, g->lnf_w, g->lnf_b, w->dyf, w->x[L], w->lnf_mean, w->lnf_rstd,
	                      pv->lnf_w, B, d, d, d);

	for (size_t l = L; l-- > 0;) {
		const struct tf_block *bl = &pv->blocks[l];
		struct tf_block *gl = &g->blocks[l];
		const size_t ro = w->rows_out[l], nq = ro / B, t0 = T - nq;
		const float *Wqkv = w->Wqkv + l * d * 3 * d;
		/* dx = d resid_post (ro, d).  resid_post = mid + mlp_out;
		 * mlp_out = post · W_out + b_out */
		mm_tn(gl->W_out, d, w->post[l], m, dx, d, m, d, ro);
		tf_colsum(gl->b_out, dx, ro, d, d);
		mm_nt(w->dpre, m, dx, d, bl->W_out, d, ro, m, d, 0.0f);
		/* post = act(pre) */
		/* pre = y2 · W_in + b_in */
		tf_act_backward_colsum(w->dpre, gl->b_in, w->pre[l], ro, m, c->act);
		mm_tn(gl->W_in, m, w->y2[l], d, w->dpre, m, d, m, ro);
		mm_nt(w->dy, d, w->dpre, m, bl->W_in, m, ro, d, m, 0.0f);
		/* y2 = LN2(mid); d mid = d resid_post + LN2 path */
		memcpy(w->dmid, dx, ro * d * sizeof(float));
		tf_layernorm_backward(w->dmid, gl->ln2_w, gl->ln2_b, w->dy, w->mid[l], w->ln2_mean[l],
		                      w->ln2_rstd[l], bl->ln2_w, ro, d, d, d);
		/* attn_out = z · W_O + b_O */
		mm_tn(gl->W_O, d, w->z[l], d, w->dmid, d, d, d, ro);
		tf_colsum(gl->b_O, w->dmid, ro, d, d);
		mm_nt(w->dz, d, w->dmid, d, bl->W_O, d, ro, d, d, 0.0f);
		const int uniq = l == 0 && w->uniq;
		attention_backward(w, l, H, d, uniq ? w->urow : NULL);
		/* qkv = y1 · Wqkv + b: dWqkv (d, 3d), then unpacked into W_Q, W_K, W_V */
		float *dW = w->dWqkv;
		const float *y1 = w->y1[l];
		memset(dW, 0, d * 3 * d * sizeof(float));
		if (uniq) {
			/* layer 0: q, k, v came from U distinct rows; sum each one's row gradients */
			reduce_rows(w->dqkv_u, w->dqkv, w->urow, BT, w->U, 3 * d);
			mm_tn(dW, 3 * d, y1, d, w->dqkv_u, 3 * d, d, 3 * d, w->U);
			mm_nt(w->dy, d, w->dqkv_u, 3 * d, Wqkv, 3 * d, w->U, d, 3 * d, 0.0f);
			tf_colsum(gl->b_Q, w->dqkv_u, w->U, 3 * d, 3 * d); /* b_Q|b_K|b_V contiguous */
		} else if (nq == T) {
			mm_tn(dW, 3 * d, y1, d, w->dqkv, 3 * d, d, 3 * d, BT);
			mm_nt(w->dy, d, w->dqkv, 3 * d, Wqkv, 3 * d, BT, d, 3 * d, 0.0f);
		} else {
			mm_tn(dW + d, 3 * d, y1, d, w->dqkv + d, 3 * d, d, 2 * d, BT);
			mm_tn(dW, 3 * d, y1 + t0 * d, T * d, w->dqkv + t0 * 3 * d, T * 3 * d, d, d, B);
			mm_nt(w->dy, d, w->dqkv + d, 3 * d, Wqkv + d, 3 * d, BT, d, 2 * d, 0.0f);
			mm_nt(w->dy + t0 * d, T * d, w->dqkv + t0 * 3 * d, T * 3 * d, Wqkv, 3 * d, B, d,
			      d, 1.0f);
		}
		if (!uniq) {
			/* b_Q over the query rows; b_K|b_V (contiguous) over every row */
			tf_colsum(gl->b_Q, w->dqkv + t0 * 3 * d, ro, d, (T / nq) * 3 * d);
			tf_colsum(gl->b_K, w->dqkv + d, BT, 2 * d, 3 * d);
		}
		float *dst[3] = { gl->W_Q, gl->W_K, gl->W_V };
		for (size_t s = 0; s < 3; s++)
			for (size_t h = 0; h < H; h++)
				for (size_t i = 0; i < d; i++) {
					float *o = dst[s] + (h * d + i) * dh;
					const float *in = dW + i * 3 * d + s * d + h * dh;
					for (size_t j = 0; j < dh; j++)
						o[j] += in[j];
				}
		/* resid_pre: residual into mid (query rows) + LN1 path (every row) */
		if (uniq) {
			/* LN1 of the distinct rows.  dx of layer 0 only feeds the embedding sums
			 * (W_E[token], W_pos[t]), so each distinct row's LN1 gradient -- already the sum
			 * over its rows -- is added once, to the first row holding it. */
			memset(w->dxu, 0, w->U * d * sizeof(float));
			tf_layernorm_backward(w->dxu, gl->ln1_w, gl->ln1_b, w->dy, w->xu, w->ln1_mean[0],
			                      w->ln1_rstd[0], bl->ln1_w, w->U, d, d, d);
			memcpy(dx2, w->dmid, BT * d * sizeof(float));
			for (size_t u = 0; u < w->U; u++) {
				float *o = dx2 + (size_t)w->usrc[u] * d;
				const float *a = w->dxu + u * d;
				for (size_t i = 0; i < d; i++)
					o[i] += a[i];
			}
			float *tmp = dx;
			dx = dx2;
			dx2 = tmp;
			continue;
		}
		if (nq == T) {
			memcpy(dx2, w->dmid, BT * d * sizeof(float));
		} else {
			memset(dx2, 0, BT * d * sizeof(float));
			for (size_t r = 0; r < ro; r++)
				memcpy(dx2 + ((r / nq) * T + t0 + r % nq) * d, w->dmid + r * d,
				       d * sizeof(float));
		}
		tf_layernorm_backward(dx2, gl->ln1_w, gl->ln1_b, w->dy, w->x[l], w->ln1_mean[l],
		                      w->ln1_rstd[l], bl->ln1_w, BT, d, d, d);
		float *tmp = dx;
		dx = dx2;
		dx2 = tmp;
	}
	/* x0[b,t] = W_E[tok] + W_pos[t]: serial, rows in order (fixed reduction order) */
	for (size_t b = 0; b < B; b++)
		for (size_t t = 0; t < T; t++) {
			const float *d_bt = dx + (b * T + t) * d;
			float *ge = g->W_E + (size_t)tokens[b * tok_stride + t] * d;
			float *gp = g->W_pos + t * d;
			for (size_t i = 0; i < d; i++) {
				ge[i] += d_bt[i];
				gp[i] += d_bt[i];
			}
		}
}
