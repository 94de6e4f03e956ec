/*
 * labels.c — the words a figure uses for a condition: "k = 8, d_sae = 256" rather than its
 * id "k_sweep_dsae256_k8".  The values come from the run's own record of that condition
 * (results.json lists with a "condition" key, written from the config); an id no record
 * names is read by its pattern "<grid>_dsae<d>_k<k>", and anything else is shown as it is.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

void rep_record_label(const struct rep_run *r, hj *rec, char *buf, size_t n)
{
	double k = NAN, d = NAN, lam = NAN;
	hj_get_f64(rec, RJK_K, &k);
	hj_get_f64(rec, RJK_D_SAE, &d);
	hj_get_f64(rec, RJK_LAMBDA_CONSISTENCY, &lam);
	const char *cond = hj_get_str(rec, RJK_CONDITION);
	if (r->kind == REP_CONSISTENCY && isfinite(lam))
		snprintf(buf, n, "λ = %g", lam);
	else if (isfinite(d) && isfinite(k) && (r->kind == REP_CORE || r->kind == REP_STABILITY))
		snprintf(buf, n, "k = %g, d_sae = %g", k, d);
	else if (isfinite(k))
		snprintf(buf, n, "%sk = %g", cond && !strncmp(cond, "retrain", 7) ? "retrain " : "", k);
	else
		snprintf(buf, n, "%s", cond ? cond : "?");
}

void rep_condition_label(const struct rep_run *r, const char *id, char *buf, size_t n)
{
	static const char *const lists[] = { RJK_K_SWEEP, RJK_D_SAE_SWEEP, RJK_SEARCH_RECORDS, RJK_RECORDS,
		                             RJK_RETRAIN_RECORD };
	for (size_t li = 0; li < sizeof(lists) / sizeof(lists[0]); li++) {
		hj *a = hj_get(r->res, lists[li]);
		size_t m = !a ? 0 : hj_is_arr(a) ? hj_len(a) : 1;
		for (size_t i = 0; i < m; i++) {
			hj *rec = hj_is_arr(a) ? hj_at(a, i) : a;
			const char *cond = hj_get_str(rec, RJK_CONDITION);
			if (cond && !strcmp(cond, id)) {
				double k = NAN, d = NAN;
				hj_get_f64(rec, RJK_K, &k);
				hj_get_f64(rec, RJK_D_SAE, &d);
				if (isfinite(k) && isfinite(d)) /* both: the legend names every condition */
					snprintf(buf, n, "k = %g, d_sae = %g", k, d);
				else
					rep_record_label(r, rec, buf, n);
				return;
			}
		}
	}
	const char *p = strstr(id, "_dsae");
	long long d, k;
	char rest;
	if (p && sscanf(p, "_dsae%lld_k%lld%c", &d, &k, &rest) == 2)
		snprintf(buf, n, "k = %lld, d_sae = %lld", k, d);
	else
		snprintf(buf, n, "%s", id);
}
