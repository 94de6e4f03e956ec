/*
 * records.c — reads a list of experiment records (docs/formulas.md §6.3–6.5) as columns sorted by their
 * x key (k, d_sae, λ), for the sweep figures: a figure's required, non-empty record list
 * (rep_rec_list), one strict/tolerant getter per column type and the columns' storage
 * (rep_nan_columns); and walks the records of a results.json list (or a single record) with
 * their JSON paths, for the figures that gather every record of a run (F6, F7).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void rep_strcpy(char *dst, size_t n, const char *src)
{
	size_t i = 0;
	if (!n)
		return;
	for (; src[i] && i + 1 < n; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

double *rep_nan_alloc(size_t n)
{
	double *v = malloc((n ? n : 1) * sizeof(*v));
	if (v)
		for (size_t i = 0; i < n; i++)
			v[i] = NAN;
	return v;
}

int rep_rec_list(const struct rep_run *r, const char *key, hj **recs, size_t *n, char *skip,
                 size_t nskip, struct hus_err *err)
{
	*n = 0;
	int rc = rep_records(r, r->res, "", key, 1, recs, err);
	if (rc)
		return rc;
	*n = hj_len(*recs);
	if (!*n) {
		snprintf(skip, nskip, "results.json has an empty '%s' list", key);
		return 1;
	}
	return 0;
}

hj *rep_rec_each(hj *res, const char *list, size_t i, char *path, size_t n)
{
	hj *a = hj_get(res, list);
	if (!a || (hj_is_arr(a) ? i >= hj_len(a) : i > 0))
		return NULL;
	if (!hj_is_arr(a)) { /* one record object */
		snprintf(path, n, "%s", list);
		return a;
	}
	snprintf(path, n, "%s.%zu", list, i);
	return hj_at(a, i);
}

double *rep_nan_columns(size_t n, double **const col[])
{
	size_t k = 0;
	while (col[k])
		k++;
	double *block = rep_nan_alloc(k * n);
	for (size_t j = 0; j < k; j++)
		*col[j] = block ? block + j * n : NULL;
	return block;
}

int rep_rec_order(const struct rep_run *r, hj *recs, const char *path, const char *xkey,
                  double *x, size_t *order, struct hus_err *err)
{
	size_t n = hj_len(recs);
	char p[512];
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s.%zu", path, i);
		int rc = rep_num(r, hj_at(recs, i), p, xkey, 1, &x[i], err);
		if (rc)
			return rc;
		order[i] = i;
	}
	/* insertion sort: stable, n is small */
	for (size_t i = 1; i < n; i++) {
		size_t o = order[i], j = i;
		while (j > 0 && x[order[j - 1]] > x[o]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = o;
	}
	double *t = malloc((n ? n : 1) * sizeof(*t));
	if (!t)
		return hus_errf(err, HUS_ENOMEM, r->results_path, path, "out of memory");
	for (size_t i = 0; i < n; i++)
		t[i] = x[order[i]];
	memcpy(x, t, n * sizeof(*t));
	free(t);
	return 0;
}

/* dotted key under a record: split off the last component for rep_num's error path */
int rep_rec_num(const struct rep_run *r, hj *recs, const char *path, const size_t *order,
                size_t n, const char *key, int required, double *v, size_t *found,
                struct hus_err *err)
{
	char p[512];
	if (found)
		*found = 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s.%zu", path, order[i]);
		hj *rec = hj_at(recs, order[i]);
		int rc = rep_num(r, rec, p, key, required, &v[i], err);
		if (rc)
			return rc;
		if (found && hj_get(rec, key))
			(*found)++;
	}
	return 0;
}

int rep_rec_summary(const struct rep_run *r, hj *recs, const char *path, const size_t *order,
                    size_t n, const char *key, int required, double *m, double *lo, double *hi,
                    size_t *found, struct hus_err *err)
{
	char p[512];
	if (found)
		*found = 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s.%zu", path, order[i]);
		struct rep_summary s;
		int rc = rep_summary_get(r, hj_at(recs, order[i]), p, key, required, &s, err);
		if (rc < 0)
			return rc;
		if (rc == 0 && found)
			(*found)++;
		m[i] = s.mean;
		if (lo)
			lo[i] = s.lo;
		if (hi)
			hi[i] = s.hi;
		rep_summary_release(&s);
	}
	return 0;
}
