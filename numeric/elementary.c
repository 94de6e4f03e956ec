/* elementary.c — PLACEHOLDER: libm until husai's own functions land. */
#include <math.h>

#include "numeric.h"

float hus_expf(float x) { return expf(x); }
float hus_logf(float x) { return logf(x); }
float hus_tanhf(float x) { return tanhf(x); }
float hus_erff(float x) { return erff(x); }
float hus_sinf(float x) { return sinf(x); }
float hus_cosf(float x) { return cosf(x); }
double hus_exp(double x) { return exp(x); }
double hus_log(double x) { return log(x); }
double hus_expm1(double x) { return expm1(x); }
double hus_log1p(double x) { return log1p(x); }
double hus_powi(double x, int64_t n) { return pow(x, (double)n); }
