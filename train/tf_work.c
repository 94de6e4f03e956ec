/*
 * tf_work.c — the transformer's workspace: every activation cache the forward pass keeps for
 * the backward pass, and the backward scratch, carved from one allocation made before the
 * step loop (STYLE: no allocation inside step functions).  Also packs W_Q|W_K|W_V into one
 * (d_model, 3·d_model) matrix per layer so one product makes q, k and v.
 */
#include <stdlib.h>
#include <string.h>

#include "train.h"

int tf_work_alloc(struct tf_work *w, const struct tf_config *c, size_t B, size_t T,
                  int last_only, struct hus_err *err)
{
	memset(w, 0, sizeof(*w));
	const size_t d = (size_t)c->d_model, H = (size_t)c->n_heads, m = (size_t)c->d_mlp;
	const size_t V = (size_t)c->p + 4, L = (size_t)c->n_layers, BT = B * T;
	if (B == 0 || T == 0 || T > DS_SEQ_LEN)
		return hus_errf(err, HUS_EINTERNAL, NULL, NULL, "bad workspace shape %zu x %zu", B, T);
	w->B = w->Bcap = B;
	w->T = T;
	w->L = L;
	w->last_only = last_only;
	/* the distinct-row path needs every layer-0 row to be a query row */
	w->uniq = !(last_only && L == 1);
	const size_t Umax = BT < V * T ? BT : V * T;
	/* two passes: first count floats, then hand out pointers */
	size_t total = 0;
	float *base = NULL;
	for (int pass = 0; pass < 2; pass++) {
		size_t off = 0;
#define TAKE(ptr, n) do { if (pass) (ptr) = (void *)(base + off); off += ((n) + 15) & ~(size_t)15; } while (0)
		for (size_t l = 0; l < L; l++) {
			size_t ro = (last_only && l == L - 1) ? B : BT;
			size_t nq = ro / B;
			w->rows_out[l] = ro;
			TAKE(w->x[l], BT * d);
			TAKE(w->ln1_mean[l], BT);
			TAKE(w->ln1_rstd[l], BT);
			TAKE(w->y1[l], BT * d);
			TAKE(w->qkv[l], BT * 3 * d);
			TAKE(w->att[l], B * H * nq * T);
			TAKE(w->z[l], ro * d);
			TAKE(w->attn_out[l], ro * d);
			TAKE(w->mid[l], ro * d);
			TAKE(w->ln2_mean[l], ro);
			TAKE(w->ln2_rstd[l], ro);
			TAKE(w->y2[l], ro * d);
			TAKE(w->pre[l], ro * m);
			TAKE(w->post[l], ro * m);
			TAKE(w->mlp_out[l], ro * d);
		}
		TAKE(w->x[L], w->rows_out[L - 1] * d);
		if (last_only) {
			TAKE(w->lnf_mean, B);
			TAKE(w->lnf_rstd, B);
			TAKE(w->yf, B * d);
			TAKE(w->logits, B * V);
			TAKE(w->probs, B * V);
			TAKE(w->rowloss, 2 * B); /* doubles */
			TAKE(w->dx, BT * d);
			TAKE(w->dx2, BT * d);
			TAKE(w->dy, BT * (d > m ? d : m));
			TAKE(w->dqkv, BT * 3 * d);
			TAKE(w->dz, BT * d);
			TAKE(w->dmid, BT * d);
			TAKE(w->dpre, BT * m);
			TAKE(w->dlogits, B * V);
			TAKE(w->dyf, B * d);
			TAKE(w->dWqkv, d * 3 * d);
		}
		if (w->uniq) {
			TAKE(w->xu, Umax * d);
			TAKE(w->urow, BT);
			TAKE(w->usrc, Umax);
			TAKE(w->ukey, V * T);
			if (last_only) {
				TAKE(w->dqkv_u, Umax * 3 * d);
				TAKE(w->dxu, Umax * d);
			}
		}
		TAKE(w->Wqkv, L * d * 3 * d);
#undef TAKE
		if (!pass) {
			total = off;
			base = calloc(total, sizeof(float));
			if (!base)
				return hus_errf(err, HUS_ENOMEM, NULL, NULL,
				                "cannot allocate %zu floats of transformer workspace", total);
			w->mem = base;
		}
	}
	if (w->uniq) {
		/* int32 views share the float block; -1 marks an unseen (token, position) */
		for (size_t i = 0; i < V * T; i++)
			w->ukey[i] = -1;
	}
	return 0;
}

void tf_work_release(struct tf_work *w)
{
	free(w->mem);
	memset(w, 0, sizeof(*w));
}

void tf_pack_qkv(struct tf_work *w, const struct tf_params *pv, const struct tf_config *c)
{
	const size_t d = (size_t)c->d_model, H = (size_t)c->n_heads, dh = d / H;
	for (size_t l = 0; l < w->L; l++) {
		const struct tf_block *bl = &pv->blocks[l];
		const float *src[3] = { bl->W_Q, bl->W_K, bl->W_V };
		float *P = w->Wqkv + l * d * 3 * d;
		/* P[i][s*d + h*dh + j] = W_s[h][i][j] */
		for (size_t s = 0; s < 3; s++)
			for (size_t h = 0; h < H; h++)
				for (size_t i = 0; i < d; i++)
					memcpy(P + i * 3 * d + s * d + h * dh, src[s] + (h * d + i) * dh,
					       dh * sizeof(float));
	}
}
