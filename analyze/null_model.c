/*
 * null_model.c — the analytic null for PWMCC (docs/decisions.md §8).  For one unit vector and m
 * independent uniform unit vectors in R^d, each |cos| has CDF F(t) = I_{t²}(½, (d−1)/2), so
 * E[max] = ∫₀¹ (1 − F(t)^m) dt (gsl_integration_qags), and
 * E[PWMCC(A: d×m_A, B: d×m_B)] = (E[max over m_B] + E[max over m_A]) / 2.
 * Normalised Gaussian (R1) columns are exactly such vectors.
 *
 * The regularised incomplete beta function is computed here (its continued fraction, with
 * husai's own log and exp) rather than by gsl_sf_beta_inc, whose calls to the C library's log,
 * exp and lgamma take per-CPU variants: the integrand's bits, and so the archived null, are
 * then the same on every machine (docs/reproducibility.md).  GSL's quadrature itself is plain
 * arithmetic.  Sources: docs/formulas.md (the continued fraction is DLMF 8.17.22).
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <math.h>

#include "analyze.h"

struct null_params {
	double b, m;
	double lnbeta; /* ln B(½, b) */
};

/* ln Γ(x) for x = n/2, n >= 1: a sum of logarithms (Γ(x+1) = xΓ(x), Γ(½) = √π, Γ(1) = 1). */
static double lngamma_half_integer(double x)
{
	double s = 0;
	double base = floor(x) == x ? 1.0 : 0.5;
	if (base == 0.5)
		s = 0.57236494292470008707; /* ln √π */
	for (double y = base; y < x; y += 1.0)
		s += hus_log(y);
	return s;
}

/* The continued fraction of I_x(a, b) (modified Lentz), valid for x < (a+1)/(a+b+2). */
static double incbeta_cf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-16;
	double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	double h = d;
	for (int m = 1; m <= 1000; m++) {
		double m2 = 2.0 * m;
		double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
		d = 1.0 + num * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1.0 + num / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1.0 / d;
		h *= d * c;
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
		d = 1.0 + num * d;
		d = fabs(d) < tiny ? tiny : d;
		c = 1.0 + num / c;
		c = fabs(c) < tiny ? tiny : c;
		d = 1.0 / d;
		double del = d * c;
		h *= del;
		if (fabs(del - 1.0) < eps)
			break;
	}
	return h;
}

/* I_x(½, b), the regularised incomplete beta function, for x in [0, 1]. */
static double incbeta_half(const struct null_params *np, double x)
{
	const double a = 0.5, b = np->b;
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	/* x^a (1−x)^b / B(a, b) */
	double front = hus_exp(a * hus_log(x) + b * hus_log1p(-x) - np->lnbeta);
	if (x < (a + 1.0) / (a + b + 2.0))
		return front * incbeta_cf(a, b, x) / a;
	return 1.0 - front * incbeta_cf(b, a, 1.0 - x) / b;
}

static double integrand(double t, void *p)
{
	const struct null_params *np = p;
	double F = incbeta_half(np, t * t);
	/* 1 − F^m, with F^m = exp(m·log F) computed stably near F = 1 (husai's own expm1 and log;
	 * gsl_sf_beta_inc's libm calls are GSL's, docs/reproducibility.md) */
	if (F <= 0)
		return 1.0;
	return -hus_expm1(np->m * hus_log(F));
}

int null_expected_max(double *result, size_t d, size_t m, struct hus_err *err)
{
	if (d < 2 || m < 1)
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "analytic null needs d >= 2 and m >= 1 (got d %zu, m %zu)", d, m);
	struct null_params p = { 0.5 * (double)(d - 1), (double)m, 0 };
	p.lnbeta = lngamma_half_integer(0.5) + lngamma_half_integer(p.b) -
	           lngamma_half_integer(0.5 + p.b);
	gsl_function f = { integrand, &p };
	gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
	if (!w)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for integration");
	double val = 0, abserr = 0;
	int st = gsl_integration_qags(&f, 0.0, 1.0, 1e-12, 1e-10, 1000, w, &val, &abserr);
	gsl_integration_workspace_free(w);
	if (st)
		return hus_errf(err, HUS_EINTERNAL, NULL, NULL,
		                "integration of the null (d %zu, m %zu) failed: %s", d, m,
		                gsl_strerror(st));
	*result = val;
	return 0;
}

int null_expected_pwmcc(double *result, size_t d, size_t m_A, size_t m_B, struct hus_err *err)
{
	double ea, eb;
	int rc;
	/* A's features take their max over m_B vectors, B's over m_A */
	if ((rc = null_expected_max(&ea, d, m_B, err)) || (rc = null_expected_max(&eb, d, m_A, err)))
		return rc;
	*result = (ea + eb) / 2;
	return 0;
}
