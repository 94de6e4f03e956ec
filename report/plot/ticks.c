/*
 * ticks.c — tick positions and labels: linear "nice" steps of 1, 2 or 5 x 10^n with 3-7
 * intervals and label precision taken from the step (PLplot src/pldtik.c pldtik/pldprec, not
 * kplot's even division of [min, max]); log2 axes tick at powers of two.  Also the finite
 * data range helper figures use to size axes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot.h"

static void label(char *buf, size_t n, double v, int prec)
{
	if (fabs(v) < 1e-300)
		v = 0; /* no "-0.00" */
	snprintf(buf, n, "%.*f", prec, v);
	if (!strncmp(buf, "-0", 2) && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
}

/* [*a, *b] in ascending order; the default [d0, d1] when the range is not usable */
static void span(double *a, double *b, int usable, double d0, double d1)
{
	if (!usable) {
		*a = d0;
		*b = d1;
	}
	if (*b < *a) {
		double x = *a;
		*a = *b;
		*b = x;
	}
}

void fig_ticks_linear(double *lo, double *hi, struct fig_ticks *t)
{
	double a = *lo, b = *hi;
	memset(t, 0, sizeof(*t));
	span(&a, &b, isfinite(a) && isfinite(b), 0, 1);
	if (b - a < 1e-12 * fmax(1.0, fabs(a))) {
		double d = a != 0 ? fabs(a) * 0.05 : 0.5;
		a -= d;
		b += d;
	}
	double raw = (b - a) / 5.0;
	double p10 = pow(10.0, floor(log10(raw)));
	static const double mult[] = { 1, 2, 5, 10, 20 };
	double step = p10;
	long i0 = 0, i1 = 0;
	for (size_t m = 0; m < sizeof(mult) / sizeof(mult[0]); m++) {
		step = mult[m] * p10;
		i0 = (long)floor(a / step + 1e-9);
		i1 = (long)ceil(b / step - 1e-9);
		if (i1 - i0 <= 7)
			break;
	}
	if (i1 - i0 < 1)
		i1 = i0 + 1;
	int prec = (int)fmax(0.0, -floor(log10(step) + 1e-9));
	for (long i = i0; i <= i1 && t->n < FIG_MAX_TICKS; i++) {
		t->v[t->n] = i * step;
		label(t->label[t->n], sizeof(t->label[0]), i * step, prec);
		t->n++;
	}
	*lo = i0 * step;
	*hi = i1 * step;
}

void fig_ticks_log2(double *lo, double *hi, struct fig_ticks *t)
{
	memset(t, 0, sizeof(*t));
	double a = *lo, b = *hi;
	span(&a, &b, a > 0 && b > 0 && isfinite(a) && isfinite(b), 1, 2);
	int e0 = (int)floor(log2(a) + 1e-9), e1 = (int)ceil(log2(b) - 1e-9);
	if (e1 <= e0)
		e1 = e0 + 1;
	int every = (e1 - e0) > 10 ? 2 : 1;
	for (int e = e0; e <= e1 && t->n < FIG_MAX_TICKS; e += every) {
		t->v[t->n] = exp2(e);
		if (e >= 0)
			snprintf(t->label[t->n], sizeof(t->label[0]), "%.0f", exp2(e));
		else
			snprintf(t->label[t->n], sizeof(t->label[0]), "%g", exp2(e));
		t->n++;
	}
	*lo = exp2(e0);
	*hi = exp2(e1);
}

void fig_range(const double *v, size_t n, double *lo, double *hi)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		if (!isfinite(*lo) || v[i] < *lo)
			*lo = v[i];
		if (!isfinite(*hi) || v[i] > *hi)
			*hi = v[i];
	}
}
