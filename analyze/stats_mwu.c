/*
 * stats_mwu.c — the Mann–Whitney U test as upstream calls it (docs/formulas.md §6.0, A8):
 * scipy.stats.mannwhitneyu(x, y, alternative, use_continuity=True, method="auto").
 *  - U1 = R1 − n1(n1+1)/2 with average ranks for ties (the reported statistic);
 *  - exact null distribution when the pooled sample has no ties and min(n1, n2) <= 8 (scipy's
 *    _mwu_choose_method; the spec's wording "asymptotic if both > 8 or any ties" is the same
 *    rule); the distribution of U is the coefficient list of the Gaussian binomial
 *    [n1+n2 choose n1]_q, built by multiplying (1 − q^(n2+i)) / (1 − q^i) for i = 1..n1;
 *  - else normal: μ = n1n2/2, σ = √(n1n2/12·((n+1) − Σ(t³−t)/(n(n−1)))),
 *    z = (U − μ − 0.5)/σ, p = Q(z) (gsl_cdf_ugaussian_Q), clipped to [0, 1].
 *  - "greater" uses U1, "less" U2 = n1n2 − U1, "two-sided" max(U1, U2) with p doubled.
 */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>

#include "analyze.h"

double stats_mwu_exact_sf(double u, size_t n1, size_t n2)
{
	size_t top = n1 * n2;
	double *c = calloc(top + 1, sizeof(double));
	if (!c)
		return NAN;
	c[0] = 1;
	size_t deg = 0;
	for (size_t i = 1; i <= n1; i++) {
		size_t s = n2 + i;
		/* multiply by (1 − q^s) */
		for (size_t e = deg + s; e >= s; e--) {
			if (e <= top)
				c[e] -= c[e - s];
			if (e == s)
				break;
		}
		deg += n2; /* [n2+i choose i]_q has degree i·n2 */
		/* divide by (1 − q^i): running sum with stride i */
		for (size_t e = i; e <= deg; e++)
			c[e] += c[e - i];
		/* the quotient is exact: what the product left above its degree is zero */
		for (size_t e = deg + 1; e <= deg + i && e <= top; e++)
			c[e] = 0;
	}
	double total = 0, tail = 0;
	for (size_t e = 0; e <= top; e++) {
		total += c[e];
		if ((double)e >= u - 1e-9)
			tail += c[e];
	}
	free(c);
	return tail / total;
}

struct ranked {
	double v;
	size_t src; /* < nx: x */
};
static int cmp_ranked(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->v, y = ((const struct ranked *)b)->v;
	return (x > y) - (x < y);
}

int stats_mannwhitney(struct mwu_result *res, const double *x, size_t sx, size_t nx,
                      const double *y, size_t sy, size_t ny, enum mwu_alt alt,
                      struct hus_err *err)
{
	if (!nx || !ny)
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "Mann-Whitney needs two non-empty samples (got %zu and %zu)", nx, ny);
	size_t n = nx + ny;
	struct ranked *p = malloc(sizeof(struct ranked) * n);
	if (!p)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for ranks");
	for (size_t i = 0; i < nx; i++)
		p[i] = (struct ranked){ x[i * sx], i };
	for (size_t j = 0; j < ny; j++)
		p[nx + j] = (struct ranked){ y[j * sy], nx + j };
	for (size_t i = 0; i < n; i++)
		if (isnan(p[i].v)) {
			free(p);
			return hus_errf(err, HUS_EINPUT, NULL, NULL, "Mann-Whitney input %zu is NaN", i);
		}
	qsort(p, n, sizeof(*p), cmp_ranked);
	double r1 = 0, tie_term = 0;
	int ties = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && p[j + 1].v == p[i].v)
			j++;
		double t = (double)(j - i + 1), avg = (double)(i + j + 2) / 2.0; /* 1-based ranks */
		if (t > 1)
			ties = 1;
		tie_term += t * t * t - t;
		for (size_t k = i; k <= j; k++)
			if (p[k].src < nx)
				r1 += avg;
		i = j + 1;
	}
	free(p);
	double n1 = (double)nx, n2 = (double)ny;
	double u1 = r1 - n1 * (n1 + 1) / 2, u2 = n1 * n2 - u1;
	double u = alt == MWU_GREATER ? u1 : alt == MWU_LESS ? u2 : fmax(u1, u2);
	int exact = !ties && (nx <= 8 || ny <= 8);
	double pv;
	if (exact) {
		pv = stats_mwu_exact_sf(u, nx, ny);
	} else {
		double mu = n1 * n2 / 2, nn = (double)n;
		double sigma = sqrt(n1 * n2 / 12 * ((nn + 1) - tie_term / (nn * (nn - 1))));
		double z = (u - mu - 0.5) / sigma;
		pv = sigma > 0 ? gsl_cdf_ugaussian_Q(z) : NAN;
	}
	if (alt == MWU_TWO_SIDED)
		pv *= 2;
	if (pv > 1)
		pv = 1;
	if (pv < 0)
		pv = 0;
	res->u1 = u1;
	res->p = pv;
	res->exact = exact;
	res->ties = ties;
	return 0;
}
