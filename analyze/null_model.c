/*
 * null_model.c — the analytic null for PWMCC (DESIGN §8).  For one unit vector and m
 * independent uniform unit vectors in R^d, each |cos| has CDF F(t) = I_{t²}(½, (d−1)/2)
 * (gsl_sf_beta_inc), so E[max] = ∫₀¹ (1 − F(t)^m) dt (gsl_integration_qags), and
 * E[PWMCC(A: d×m_A, B: d×m_B)] = (E[max over m_B] + E[max over m_A]) / 2.
 * Normalised Gaussian (R1) columns are exactly such vectors.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>

#include "analyze.h"

struct null_params {
	double b, m;
};

static double integrand(double t, void *p)
{
	const struct null_params *np = p;
	double F = gsl_sf_beta_inc(0.5, np->b, t * t);
	/* 1 − F^m, with F^m = exp(m·log F) computed stably near F = 1 */
	if (F <= 0)
		return 1.0;
	return -expm1(np->m * log(F));
}

int null_expected_max(double *result, size_t d, size_t m, struct hus_err *err)
{
	if (d < 2 || m < 1)
		return hus_errf(err, HUS_EINPUT, NULL, NULL,
		                "analytic null needs d >= 2 and m >= 1 (got d %zu, m %zu)", d, m);
	struct null_params p = { 0.5 * (double)(d - 1), (double)m };
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
