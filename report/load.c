/*
 * load.c — a run directory as the report sees it: checksums verified first (manifest_audit),
 * then results.json parsed, its "experiment" kind checked and the whole file checked against
 * the schema of that kind (formats/results_schema.c, docs/artifacts.md); and the getters
 * figures and templates use, strict on malformed required parts (the error names
 * results.json and the full key path) and tolerant of absent optional ones (NaN / NULL, the
 * caller skips).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* enum rep_kind in the order of the schema's kinds (formats/results_schema.c) */
_Static_assert(REP_NKINDS == 10, "enum rep_kind follows rj_kind_names");

const char *rep_kind_name(enum rep_kind k)
{
	return (unsigned)k < REP_NKINDS && (size_t)k < rj_nkinds ? rj_kind_names[k] : "unknown";
}

void rep_run_close(struct rep_run *r)
{
	if (r->res)
		hj_free(r->res);
	r->res = NULL;
}

int rep_run_open(struct rep_run *r, const char *dir, int force, struct hus_err *err)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	snprintf(r->results_path, sizeof(r->results_path), "%s/results.json", dir);
	char mpath[PATH_MAX + 16];
	snprintf(mpath, sizeof(mpath), "%s/manifest.json", dir);
	if (!hus_file_exists(mpath)) {
		if (!force)
			return hus_errf(err, HUS_EINPUT, mpath, NULL,
			                "no manifest: cannot verify the run's checksums (use --force to "
			                "report on it anyway)");
		r->tampered = 1;
	} else {
		struct audit_report rep;
		struct hus_err e2 = { 0 };
		int rc = manifest_audit(dir, NULL, &rep, &e2);
		if (rc) {
			if (!force || rc != HUS_EMISMATCH) {
				if (err)
					*err = e2;
				if (rc == HUS_EMISMATCH && err)
					snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
					         "; refusing a run whose files changed (use --force to override)");
				return rc;
			}
			r->tampered = 1;
		}
	}
	int rc = hj_read_file(r->results_path, &r->res, err);
	if (rc)
		return rc;
	if (!hj_is_obj(r->res)) {
		rep_run_close(r);
		return hus_errf(err, HUS_EINPUT, r->results_path, NULL, "expected a JSON object");
	}
	const char *kind = hj_get_str(r->res, RJK_EXPERIMENT);
	if (!kind) {
		rep_run_close(r);
		return hus_errf(err, HUS_EINPUT, r->results_path, RJK_EXPERIMENT,
		                "expected a string naming the experiment kind");
	}
	int k;
	for (k = 0; k < REP_NKINDS; k++)
		if (!strcmp(kind, rep_kind_name((enum rep_kind)k)))
			break;
	if (k == REP_NKINDS) {
		hus_errf(err, HUS_EINPUT, r->results_path, RJK_EXPERIMENT,
		         "unknown experiment kind '%s' (expected phase4a, core_ablations, "
		         "adaptive_l0, consistency_sweep, benchmark_slice, smoke, demo, convergence, "
		         "stability or planted)",
		         kind);
		rep_run_close(r); /* after formatting: kind points into r->res */
		return HUS_EINPUT;
	}
	r->kind = (enum rep_kind)k;
	snprintf(r->name, sizeof(r->name), "%s", kind);
	/* every key the report reads, against the schema of the run's kind, before anything is
	 * drawn or written: a malformed results.json leaves no partial report */
	if ((rc = rj_validate(r->res, r->results_path, err))) {
		rep_run_close(r);
		return rc;
	}
	const char *ts = hj_get_str(r->res, RJ_PATH2(RJK_RUN_METADATA, RJK_TIMESTAMP_UTC));
	snprintf(r->date, sizeof(r->date), "%s", ts ? ts : "");
	return 0;
}

const char *rep_path(char *buf, size_t n, const char *base_path, const char *key)
{
	if (base_path && base_path[0])
		snprintf(buf, n, "%s.%s", base_path, key);
	else
		snprintf(buf, n, "%s", key);
	return buf;
}

static void note_null(const struct rep_run *r, const char *path)
{
	struct rep_nulls *z = r->nulls;
	if (!z)
		return;
	for (size_t i = 0; i < z->n; i++)
		if (!strcmp(z->path[i], path))
			return;
	if (z->n == sizeof(z->path) / sizeof(z->path[0])) {
		z->overflow++; /* counted, not deduplicated: an upper bound past 64 */
		return;
	}
	rep_strcpy(z->path[z->n++], sizeof(z->path[0]), path);
}

/* base.key (its full path written to p) into *v, NULL when absent: an error naming what was
 * expected when it is required */
static int lookup(const struct rep_run *r, hj *base, const char *base_path, const char *key,
                  int required, const char *expected, char *p, size_t np, hj **v,
                  struct hus_err *err)
{
	rep_path(p, np, base_path, key);
	*v = base ? hj_get(base, key) : NULL;
	if (!*v && required)
		return hus_errf(err, HUS_EINPUT, r->results_path, p, "missing required key: expected %s",
		                expected);
	return 0;
}

/* lookup of a list, which when present must be a JSON array */
static int lookup_list(const struct rep_run *r, hj *base, const char *base_path, const char *key,
                       int required, const char *expected, char *p, size_t np, hj **a,
                       struct hus_err *err)
{
	int rc = lookup(r, base, base_path, key, required, expected, p, np, a, err);
	if (!rc && *a && !hj_is_arr(*a))
		rc = hus_errf(err, HUS_EINPUT, r->results_path, p, "expected %s", expected);
	return rc;
}

int rep_num(const struct rep_run *r, hj *base, const char *base_path, const char *key,
            int required, double *out, struct hus_err *err)
{
	char p[512];
	hj *v;
	int rc = lookup(r, base, base_path, key, required, "a number", p, sizeof(p), &v, err);
	if (rc)
		return rc;
	if (!v) {
		*out = NAN;
		return 0;
	}
	if (hj_get_f64(base, key, out))
		return hus_errf(err, HUS_EINPUT, r->results_path, p, "expected a number or null");
	if (isnan(*out))
		note_null(r, p);
	return 0;
}

int rep_num_array(const struct rep_run *r, hj *base, const char *base_path, const char *key,
                  int required, double **v, size_t *n, struct hus_err *err)
{
	char p[512];
	*v = NULL;
	*n = 0;
	hj *a;
	int rc = lookup_list(r, base, base_path, key, required, "a list of numbers", p, sizeof(p), &a,
	                     err);
	if (rc || !a)
		return rc;
	size_t m = hj_len(a);
	double *x = malloc((m ? m : 1) * sizeof(*x));
	if (!x)
		return hus_errf(err, HUS_ENOMEM, r->results_path, p, "out of memory");
	for (size_t i = 0; i < m; i++) {
		char idx[24];
		snprintf(idx, sizeof(idx), "%zu", i);
		if (hj_get_f64(a, idx, &x[i])) {
			free(x);
			return hus_errf(err, HUS_EINPUT, r->results_path, p,
			                "element %zu: expected a number or null", i);
		}
		if (isnan(x[i])) {
			char q[600];
			snprintf(q, sizeof(q), "%s.%zu", p, i);
			note_null(r, q);
		}
	}
	*v = x;
	*n = m;
	return 0;
}

void rep_summary_release(struct rep_summary *s)
{
	free(s->values);
	s->values = NULL;
	s->nvalues = 0;
}

int rep_summary_get(const struct rep_run *r, hj *base, const char *base_path, const char *key,
                    int required, struct rep_summary *s, struct hus_err *err)
{
	char p[512];
	memset(s, 0, sizeof(*s));
	s->mean = s->std = s->min = s->max = s->median = s->lo = s->hi = s->n = NAN;
	hj *o;
	int rc = lookup(r, base, base_path, key, required, "a summary {mean, ci95_low, ci95_high, ...}",
	                p, sizeof(p), &o, err);
	if (rc)
		return rc;
	if (!o)
		return 1;
	if (!hj_is_obj(o))
		return hus_errf(err, HUS_EINPUT, r->results_path, p,
		                "expected a summary object {mean, ci95_low, ci95_high, ...}");
	/* mean and the CI (the first three) are what every figure needs; the rest is optional */
	static const char *const keys[] = { RJK_MEAN, RJK_CI95_LOW, RJK_CI95_HIGH, RJK_STD, RJK_MIN, RJK_MAX,
		                            RJK_MEDIAN, RJK_N };
	double *const dst[] = { &s->mean, &s->lo, &s->hi, &s->std, &s->min, &s->max, &s->median,
		                &s->n };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !rc; i++)
		rc = rep_num(r, o, p, keys[i], i < 3, dst[i], err);
	if (!rc)
		rc = rep_num_array(r, o, p, RJK_PWMCC_VALUES, 0, &s->values, &s->nvalues, err);
	return rc;
}

int rep_records(const struct rep_run *r, hj *base, const char *base_path, const char *key,
                int required, hj **arr, struct hus_err *err)
{
	char p[512];
	*arr = NULL;
	hj *a;
	int rc = lookup_list(r, base, base_path, key, required, "a list of records", p, sizeof(p), &a,
	                     err);
	if (rc || !a)
		return rc;
	for (size_t i = 0; i < hj_len(a); i++)
		if (!hj_is_obj(hj_at(a, i)))
			return hus_errf(err, HUS_EINPUT, r->results_path, p,
			                "element %zu: expected a record object", i);
	*arr = a;
	return 0;
}

static long seed_index(int64_t *seeds, size_t *n, int64_t s, size_t cap)
{
	for (size_t i = 0; i < *n; i++)
		if (seeds[i] == s)
			return (long)i;
	if (*n == cap)
		return -1;
	seeds[*n] = s;
	return (long)(*n)++;
}

int rep_pairwise_matrix(const struct rep_run *r, hj *list, const char *path, double **m,
                        int64_t **seeds, size_t *n, struct hus_err *err)
{
	*m = NULL;
	*seeds = NULL;
	*n = 0;
	if (!list)
		return 1;
	if (!hj_is_arr(list))
		return hus_errf(err, HUS_EINPUT, r->results_path, path,
		                "expected a list of {seed_a, seed_b, pwmcc}");
	size_t np = hj_len(list), cap = 2 * np + 1, ns = 0;
	int64_t *sd = malloc(cap * sizeof(*sd));
	if (!sd)
		return hus_errf(err, HUS_ENOMEM, r->results_path, path, "out of memory");
	for (size_t i = 0; i < np; i++) {
		hj *e = hj_at(list, i);
		int64_t a, b;
		double v;
		if (hj_get_i64(e, RJK_SEED_A, &a) || hj_get_i64(e, RJK_SEED_B, &b) ||
		    hj_get_f64(e, RJK_PWMCC, &v)) {
			free(sd);
			return hus_errf(err, HUS_EINPUT, r->results_path, path,
			                "element %zu: expected {seed_a: int, seed_b: int, pwmcc: number}", i);
		}
		seed_index(sd, &ns, a, cap);
		seed_index(sd, &ns, b, cap);
	}
	double *mm = malloc((ns > 0 ? ns * ns : 1) * sizeof(*mm));
	if (!mm) {
		free(sd);
		return hus_errf(err, HUS_ENOMEM, r->results_path, path, "out of memory");
	}
	for (size_t i = 0; i < ns * ns; i++)
		mm[i] = NAN;
	for (size_t i = 0; i < np; i++) {
		hj *e = hj_at(list, i);
		int64_t a = 0, b = 0;
		double v = NAN;
		hj_get_i64(e, RJK_SEED_A, &a);
		hj_get_i64(e, RJK_SEED_B, &b);
		hj_get_f64(e, RJK_PWMCC, &v);
		long ia = seed_index(sd, &ns, a, cap), ib = seed_index(sd, &ns, b, cap);
		mm[ia * ns + ib] = v;
		mm[ib * ns + ia] = v;
	}
	*m = mm;
	*seeds = sd;
	*n = ns;
	return 0;
}
