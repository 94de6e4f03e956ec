/*
 * tf_kernels.c — the transformer's elementwise and row-wise kernels: LayerNorm (docs/formulas.md §2.2:
 * population variance, eps 1e-5), the MLP activations (relu, exact-erf gelu, tanh gelu_new)
 * and column sums for bias gradients.  Every reduction runs in a fixed order (rows in
 * order for each column, elements in order for each row), so the thread count never changes
 * a bit: threads only split independent rows or independent columns.
 */
#include <math.h>
#include <string.h>

#include "train.h"

#define LN_EPS 1e-5f
#define COLBLK 64 /* columns per thread block in column sums */

/* x (R, d) rows at x_stride -> y (R, d), mean (R), rstd (R) */
void tf_layernorm_forward(float *y, float *mean, float *rstd, const float *x, const float *w,
                          const float *b, size_t R, size_t d, size_t x_stride)
{
#pragma omp parallel for schedule(static) if (R * d >= TF_PAR_MIN)
	for (size_t r = 0; r < R; r++) {
		const float *x_r = x + r * x_stride;
		float *y_r = y + r * d;
		/* sums in hus_sum16's 16 fixed lanes, whatever the vector width */
		float m = hus_sum16(x_r, d) / (float)d;
		float vl[16] = { 0 };
		size_t i = 0;
		for (; i + 16 <= d; i += 16)
			for (int l = 0; l < 16; l++) {
				float c = x_r[i + l] - m;
				vl[l] += c * c;
			}
		for (int l = 0; i < d; i++, l++) {
			float c = x_r[i] - m;
			vl[l] += c * c;
		}
		float v = hus_sum16(vl, 16) / (float)d;
		float s = 1.0f / sqrtf(v + LN_EPS);
#pragma omp simd
		for (size_t i = 0; i < d; i++)
			y_r[i] = (x_r[i] - m) * s * w[i] + b[i];
		mean[r] = m;
		rstd[r] = s;
	}
}

/* y = xhat * w + b, xhat = (x - mean) * rstd:
 * dxhat = dy * w; dx += rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat));
 * dw += sum_r dy * xhat; db += sum_r dy. */
void tf_layernorm_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                           const float *mean, const float *rstd, const float *w, size_t R,
                           size_t d, size_t x_stride, size_t dx_stride)
{
#pragma omp parallel for schedule(static) if (R * d >= TF_PAR_MIN)
	for (size_t r = 0; r < R; r++) {
		const float *x_r = x + r * x_stride, *dy_r = dy + r * d;
		float *dx_r = dx + r * dx_stride;
		const float m = mean[r], s = rstd[r];
		/* a = Σ g, bsum = Σ g·x̂ in 16 fixed lanes each (the order of hus_sum16) */
		float al[16] = { 0 }, bl[16] = { 0 };
		size_t i = 0;
		for (; i + 16 <= d; i += 16)
			for (int l = 0; l < 16; l++) {
				float xh = (x_r[i + l] - m) * s;
				float g = dy_r[i + l] * w[i + l];
				al[l] += g;
				bl[l] += g * xh;
			}
		for (int l = 0; i < d; i++, l++) {
			float xh = (x_r[i] - m) * s;
			float g = dy_r[i] * w[i];
			al[l] += g;
			bl[l] += g * xh;
		}
		float a = hus_sum16(al, 16) / (float)d;
		float bsum = hus_sum16(bl, 16) / (float)d;
#pragma omp simd
		for (size_t i = 0; i < d; i++) {
			float xh = (x_r[i] - m) * s;
			float g = dy_r[i] * w[i];
			dx_r[i] += s * (g - a - xh * bsum);
		}
	}
	/* parameter gradients: threads take blocks of COLBLK columns, rows in order per column */
	const size_t nblk = (d + COLBLK - 1) / COLBLK;
#pragma omp parallel for schedule(static) if (R * d >= TF_PAR_MIN)
	for (size_t k = 0; k < nblk; k++) {
		const size_t j0 = k * COLBLK, nj = j0 + COLBLK < d ? COLBLK : d - j0;
		float sw[COLBLK] = { 0 }, sb[COLBLK] = { 0 };
		for (size_t r = 0; r < R; r++) {
			const float *x_r = x + r * x_stride + j0, *dy_r = dy + r * d + j0;
			const float m = mean[r], s = rstd[r];
#pragma omp simd
			for (size_t j = 0; j < nj; j++) {
				sw[j] += dy_r[j] * ((x_r[j] - m) * s);
				sb[j] += dy_r[j];
			}
		}
		for (size_t j = 0; j < nj; j++) {
			dw[j0 + j] += sw[j];
			db[j0 + j] += sb[j];
		}
	}
}

#define GELU_NEW_C 0.7978845608028654f /* sqrt(2/pi) */

void tf_act_forward(float *post, const float *pre, size_t n, enum tf_act a)
{
	switch (a) {
	case TF_RELU:
		for (size_t i = 0; i < n; i++)
			post[i] = pre[i] > 0.0f ? pre[i] : 0.0f;
		break;
	case TF_GELU: /* exact: x/2 (1 + erf(x/sqrt 2)) */
		for (size_t i = 0; i < n; i++)
			post[i] = 0.5f * pre[i] * (1.0f + hus_erff(pre[i] * (float)M_SQRT1_2));
		break;
	case TF_GELU_NEW: /* x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
		for (size_t i = 0; i < n; i++) {
			float x = pre[i];
			post[i] = 0.5f * x * (1.0f + hus_tanhf(GELU_NEW_C * (x + 0.044715f * x * x * x)));
		}
		break;
	}
}

void tf_act_backward(float *dpre, const float *dpost, const float *pre, size_t n, enum tf_act a)
{
	switch (a) {
	case TF_RELU:
		for (size_t i = 0; i < n; i++)
			dpre[i] = pre[i] > 0.0f ? dpost[i] : 0.0f;
		break;
	case TF_GELU: /* d/dx = Phi(x) + x phi(x) */
		for (size_t i = 0; i < n; i++) {
			float x = pre[i];
			float cdf = 0.5f * (1.0f + hus_erff(x * (float)M_SQRT1_2));
			float pdf = hus_expf(-0.5f * x * x) * 0.3989422804014327f;
			dpre[i] = dpost[i] * (cdf + x * pdf);
		}
		break;
	case TF_GELU_NEW:
		for (size_t i = 0; i < n; i++) {
			float x = pre[i];
			float u = GELU_NEW_C * (x + 0.044715f * x * x * x);
			float t = hus_tanhf(u);
			float du = GELU_NEW_C * (1.0f + 3.0f * 0.044715f * x * x);
			dpre[i] = dpost[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du);
		}
		break;
	}
}

void tf_colsum(float *out, const float *x, size_t R, size_t n, size_t ldx)
{
	/* threads take blocks of COLBLK columns; each column sums its rows in order */
	const size_t nblk = (n + COLBLK - 1) / COLBLK;
#pragma omp parallel for schedule(static) if (R * n >= TF_PAR_MIN)
	for (size_t k = 0; k < nblk; k++) {
		const size_t j0 = k * COLBLK, nj = j0 + COLBLK < n ? COLBLK : n - j0;
		float acc[COLBLK] = { 0 };
		for (size_t r = 0; r < R; r++) {
			const float *x_r = x + r * ldx + j0;
#pragma omp simd
			for (size_t j = 0; j < nj; j++)
				acc[j] += x_r[j];
		}
		for (size_t j = 0; j < nj; j++)
			out[j0 + j] += acc[j];
	}
}

/* pre (R, n) += bias; post = act(pre) (one pass, rows split between threads) */
void tf_bias_act_forward(float *post, float *pre, const float *bias, size_t R, size_t n,
                         enum tf_act a)
{
#pragma omp parallel for schedule(static) if (R * n >= TF_PAR_MIN)
	for (size_t r = 0; r < R; r++) {
		float *p = pre + r * n, *q = post + r * n;
		if (a == TF_RELU) {
#pragma omp simd
			for (size_t j = 0; j < n; j++) {
				float x = p[j] + bias[j];
				p[j] = x;
				q[j] = x > 0.0f ? x : 0.0f;
			}
		} else {
			for (size_t j = 0; j < n; j++)
				p[j] += bias[j];
			tf_act_forward(q, p, n, a);
		}
	}
}

/* dpre (R, n) = act'(pre) * dpre in place, and db (n) += its column sums (rows in order) */
void tf_act_backward_colsum(float *dpre, float *db, const float *pre, size_t R, size_t n,
                            enum tf_act a)
{
	const size_t nblk = (n + COLBLK - 1) / COLBLK;
#pragma omp parallel for schedule(static) if (R * n >= TF_PAR_MIN)
	for (size_t k = 0; k < nblk; k++) {
		const size_t j0 = k * COLBLK, nj = j0 + COLBLK < n ? COLBLK : n - j0;
		float acc[COLBLK] = { 0 };
		for (size_t r = 0; r < R; r++) {
			float *g = dpre + r * n + j0;
			const float *p = pre + r * n + j0;
			if (a == TF_RELU) {
#pragma omp simd
				for (size_t j = 0; j < nj; j++) {
					float v = p[j] > 0.0f ? g[j] : 0.0f;
					g[j] = v;
					acc[j] += v;
				}
			} else {
				tf_act_backward(g, g, p, nj, a);
				for (size_t j = 0; j < nj; j++)
					acc[j] += g[j];
			}
		}
		for (size_t j = 0; j < nj; j++)
			db[j0 + j] += acc[j];
	}
}
