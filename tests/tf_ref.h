/*
 * tf_ref.h — a naive double-precision transformer forward (docs/formulas.md §2.2), written independently
 * of train/tf_forward.c, used by the tests as the algorithmic reference: loss at the last of
 * T positions, and every hook of every position.  Parameters use the same flat layout.
 */
#ifndef HUSAI_TF_REF_H
#define HUSAI_TF_REF_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

/* hooks (optional): [L][5][B*T*d] resid_pre, resid_mid, resid_post, attn_out, mlp_out */
static double tf_ref_forward(const double *P, const struct tf_config *c, const int32_t *tok,
                             size_t tok_stride, size_t B, size_t T, const int32_t *labels,
                             double *logits_out, double *hooks)
{
	struct tf_layout lay;
	tf_layout_init(&lay, c);
	const size_t d = c->d_model, H = c->n_heads, dh = d / H, m = c->d_mlp, V = c->p + 4;
	const size_t L = c->n_layers;
	size_t ti = 0;
	const double *W_E = P + lay.t[ti++].offset, *W_pos = P + lay.t[ti++].offset;
	double *x = calloc(B * T * d, sizeof(double)), *y = calloc(B * T * d, sizeof(double));
	double *q = calloc(B * T * d, sizeof(double)), *k = calloc(B * T * d, sizeof(double));
	double *v = calloc(B * T * d, sizeof(double)), *z = calloc(B * T * d, sizeof(double));
	double *ao = calloc(B * T * d, sizeof(double)), *mo = calloc(B * T * d, sizeof(double));
	double *h1 = calloc(B * T * m, sizeof(double));
	for (size_t r = 0; r < B * T; r++)
		for (size_t i = 0; i < d; i++)
			x[r * d + i] = W_E[tok[(r / T) * tok_stride + r % T] * d + i] + W_pos[(r % T) * d + i];
#define LN(out, in, w, b) \
	for (size_t r = 0; r < B * T; r++) { \
		double mu = 0, var = 0; \
		for (size_t i = 0; i < d; i++) mu += in[r * d + i]; \
		mu /= d; \
		for (size_t i = 0; i < d; i++) var += (in[r * d + i] - mu) * (in[r * d + i] - mu); \
		var /= d; \
		for (size_t i = 0; i < d; i++) \
			out[r * d + i] = (in[r * d + i] - mu) / sqrt(var + 1e-5) * w[i] + b[i]; \
	}
	for (size_t l = 0; l < L; l++) {
		const double *ln1w = P + lay.t[ti++].offset, *ln1b = P + lay.t[ti++].offset;
		const double *ln2w = P + lay.t[ti++].offset, *ln2b = P + lay.t[ti++].offset;
		const double *WQ = P + lay.t[ti++].offset, *WK = P + lay.t[ti++].offset;
		const double *WV = P + lay.t[ti++].offset, *WO = P + lay.t[ti++].offset;
		const double *bQ = P + lay.t[ti++].offset, *bK = P + lay.t[ti++].offset;
		const double *bV = P + lay.t[ti++].offset, *bO = P + lay.t[ti++].offset;
		const double *Win = P + lay.t[ti++].offset, *bin = P + lay.t[ti++].offset;
		const double *Wout = P + lay.t[ti++].offset, *bout = P + lay.t[ti++].offset;
		if (hooks)
			memcpy(hooks + (l * 5 + 0) * B * T * d, x, B * T * d * sizeof(double));
		LN(y, x, ln1w, ln1b);
		for (size_t r = 0; r < B * T; r++)
			for (size_t h = 0; h < H; h++)
				for (size_t j = 0; j < dh; j++) {
					double sq = bQ[h * dh + j], sk = bK[h * dh + j], sv = bV[h * dh + j];
					for (size_t i = 0; i < d; i++) {
						sq += y[r * d + i] * WQ[(h * d + i) * dh + j];
						sk += y[r * d + i] * WK[(h * d + i) * dh + j];
						sv += y[r * d + i] * WV[(h * d + i) * dh + j];
					}
					q[r * d + h * dh + j] = sq;
					k[r * d + h * dh + j] = sk;
					v[r * d + h * dh + j] = sv;
				}
		for (size_t b = 0; b < B; b++)
			for (size_t h = 0; h < H; h++)
				for (size_t t = 0; t < T; t++) {
					double s[DS_SEQ_LEN], mx = -INFINITY, sum = 0;
					for (size_t j = 0; j <= t; j++) {
						s[j] = 0;
						for (size_t i = 0; i < dh; i++)
							s[j] += q[(b * T + t) * d + h * dh + i] * k[(b * T + j) * d + h * dh + i];
						s[j] /= sqrt((double)dh);
						if (s[j] > mx)
							mx = s[j];
					}
					for (size_t j = 0; j <= t; j++)
						sum += (s[j] = exp(s[j] - mx));
					for (size_t i = 0; i < dh; i++) {
						double acc = 0;
						for (size_t j = 0; j <= t; j++)
							acc += s[j] / sum * v[(b * T + j) * d + h * dh + i];
						z[(b * T + t) * d + h * dh + i] = acc;
					}
				}
		for (size_t r = 0; r < B * T; r++)
			for (size_t o = 0; o < d; o++) {
				double acc = bO[o];
				for (size_t i = 0; i < d; i++)
					acc += z[r * d + i] * WO[i * d + o];
				ao[r * d + o] = acc;
			}
		for (size_t i = 0; i < B * T * d; i++)
			x[i] += ao[i];
		if (hooks) {
			memcpy(hooks + (l * 5 + 1) * B * T * d, x, B * T * d * sizeof(double));
			memcpy(hooks + (l * 5 + 3) * B * T * d, ao, B * T * d * sizeof(double));
		}
		LN(y, x, ln2w, ln2b);
		for (size_t r = 0; r < B * T; r++)
			for (size_t j = 0; j < m; j++) {
				double acc = bin[j];
				for (size_t i = 0; i < d; i++)
					acc += y[r * d + i] * Win[i * m + j];
				if (c->act == TF_RELU)
					acc = acc > 0 ? acc : 0;
				else if (c->act == TF_GELU)
					acc = 0.5 * acc * (1 + erf(acc / sqrt(2.0)));
				else
					acc = 0.5 * acc * (1 + tanh(sqrt(2 / M_PI) * (acc + 0.044715 * acc * acc * acc)));
				h1[r * m + j] = acc;
			}
		for (size_t r = 0; r < B * T; r++)
			for (size_t o = 0; o < d; o++) {
				double acc = bout[o];
				for (size_t j = 0; j < m; j++)
					acc += h1[r * m + j] * Wout[j * d + o];
				mo[r * d + o] = acc;
			}
		for (size_t i = 0; i < B * T * d; i++)
			x[i] += mo[i];
		if (hooks) {
			memcpy(hooks + (l * 5 + 2) * B * T * d, x, B * T * d * sizeof(double));
			memcpy(hooks + (l * 5 + 4) * B * T * d, mo, B * T * d * sizeof(double));
		}
	}
	const double *lnfw = P + lay.t[ti++].offset, *lnfb = P + lay.t[ti++].offset;
	const double *WU = P + lay.t[ti++].offset, *bU = P + lay.t[ti++].offset;
	LN(y, x, lnfw, lnfb);
#undef LN
	double loss = 0;
	for (size_t b = 0; b < B; b++) {
		const double *yr = y + (b * T + T - 1) * d;
		double lg[256], mx = -INFINITY, sum = 0;
		for (size_t o = 0; o < V; o++) {
			double acc = bU[o];
			for (size_t i = 0; i < d; i++)
				acc += yr[i] * WU[i * V + o];
			lg[o] = acc;
			if (acc > mx)
				mx = acc;
			if (logits_out)
				logits_out[b * V + o] = acc;
		}
		for (size_t o = 0; o < V; o++)
			sum += exp(lg[o] - mx);
		if (labels)
			loss += mx + log(sum) - lg[labels[b]];
	}
	free(x), free(y), free(q), free(k), free(v), free(z), free(ao), free(mo), free(h1);
	return loss / B;
}

#endif
