/*
 * audit_compare.c — the audit's three verdicts on two versions of one output (the archived
 * file and the one recomputed from the archive):
 *   identical      the same bytes (HDF5: the same values in every dataset; JSON with its
 *                  run_metadata left out: the same text);
 *   within N ULP   the same datasets, shapes, types, keys, strings, integers and booleans;
 *                  every floating-point value at most N units in the last place away (in the
 *                  dataset's own type; for JSON and CSV numbers in float32 units when both are
 *                  float32 values, else float64), every JSON/CSV number printing the same in
 *                  each format the report uses, and every conclusion (selected k or lambda,
 *                  gates, verdicts) equal;
 *   differs        anything else, naming the dataset, JSON key path or CSV cell and its first
 *                  differing element.
 * HDF5 files are read through formats/ (h5r_list_datasets, h5r_shape, h5r_read_alloc).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"

/* ---------------------------------------------------------------- numbers ------------ */

uint64_t audit_ulp_f64(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b) ? 0 : UINT64_MAX;
	if (isinf(a) || isinf(b))
		return a == b ? 0 : UINT64_MAX;
	uint64_t ua, ub;
	memcpy(&ua, &a, sizeof(ua));
	memcpy(&ub, &b, sizeof(ub));
	/* sign-magnitude to a monotone unsigned scale (-0 and +0 meet at 2^63) */
	const uint64_t sign = (uint64_t)1 << 63;
	ua = ua & sign ? sign - (ua & ~sign) : sign + ua;
	ub = ub & sign ? sign - (ub & ~sign) : sign + ub;
	return ua > ub ? ua - ub : ub - ua;
}

uint64_t audit_ulp_f32(float a, float b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b) ? 0 : UINT64_MAX;
	if (isinf(a) || isinf(b))
		return a == b ? 0 : UINT64_MAX;
	uint32_t ua, ub;
	memcpy(&ua, &a, sizeof(ua));
	memcpy(&ub, &b, sizeof(ub));
	const uint64_t sign = (uint64_t)1 << 31;
	uint64_t xa = ua & sign ? sign - (ua & ~sign) : sign + ua;
	uint64_t xb = ub & sign ? sign - (ub & ~sign) : sign + ub;
	return xa > xb ? xa - xb : xb - xa;
}

static int is_f32_value(double x)
{
	return isfinite(x) && fabs(x) <= 3.4028234663852886e38 && (double)(float)x == x;
}

uint64_t audit_ulp_number(double a, double b)
{
	if (is_f32_value(a) && is_f32_value(b))
		return audit_ulp_f32((float)a, (float)b);
	return audit_ulp_f64(a, b);
}

/* Every number format of the report: template.c prints a number without a format as %.6g,
 * the templates ask for these, and findings.c's sentences use %.3f and %.3g (flags such as +
 * do not change what is equal). */
static const char *const report_formats[] = { "%.6g", "%g", "%.6f", "%.5f", "%.4f", "%.3f",
					      "%.2f", "%.3g", "%.3e", "%d", NULL };

const char *audit_report_formats(void) { return "%.6g %g %.6f %.5f %.4f %.3f %.2f %.3g %.3e %d"; }

/* as template.c prints it, "-0.000" without its sign */
static void print_as_report(char *buf, size_t n, const char *fmt, double v)
{
	if (!strcmp(fmt, "%d")) {
		if (fabs(v) < 9.2e18)
			snprintf(buf, n, "%lld", (long long)llround(v));
		else
			snprintf(buf, n, "%.0f", v);
		return;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(buf, n, fmt, v);
#pragma GCC diagnostic pop
	if (!strncmp(buf, "-0", 2) && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
}

int audit_same_printed(double a, double b, const char **fmt)
{
	for (size_t i = 0; report_formats[i]; i++) {
		char x[400], y[400];
		print_as_report(x, sizeof(x), report_formats[i], a);
		print_as_report(y, sizeof(y), report_formats[i], b);
		if (strcmp(x, y)) {
			if (fmt)
				*fmt = report_formats[i];
			return 0;
		}
	}
	return 1;
}

int audit_conclusion_key(const char *k)
{
	static const char *const exact[] = { "pass", "selection", "reject_null", "default_justified",
					     NULL };
	static const char *const prefix[] = { "selected", "best_", "chosen", "converged",
					      "ready_for", NULL };
	static const char *const inside[] = { "verdict", "gate", "decision", "conclusion", NULL };
	static const char *const suffix[] = { "_pass", "_step", NULL };
	size_t n = strlen(k);
	for (size_t i = 0; exact[i]; i++)
		if (!strcmp(k, exact[i]))
			return 1;
	for (size_t i = 0; prefix[i]; i++)
		if (!strncmp(k, prefix[i], strlen(prefix[i])))
			return 1;
	for (size_t i = 0; inside[i]; i++)
		if (strstr(k, inside[i]))
			return 1;
	for (size_t i = 0; suffix[i]; i++) {
		size_t m = strlen(suffix[i]);
		if (n > m && !strcmp(k + n - m, suffix[i]))
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- one comparison ----- */

/* What a comparison found: its verdict, the worst ULP distance and absolute difference among
 * values within the bound, and the first reason it differs. */
struct finding {
	enum audit_verdict v;
	uint64_t max_ulp;
	double max_abs;
	char why[768];
};

static void differs(struct finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void differs(struct finding *f, const char *fmt, ...)
{
	if (f->v == AUDIT_DIFFERS)
		return; /* the first difference is the one named */
	f->v = AUDIT_DIFFERS;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

static void within(struct finding *f, uint64_t ulp, double abs_diff)
{
	if (f->v == AUDIT_IDENTICAL)
		f->v = AUDIT_WITHIN;
	if (ulp > f->max_ulp)
		f->max_ulp = ulp;
	if (abs_diff > f->max_abs)
		f->max_abs = abs_diff;
}

static const char *verdict_text(enum audit_verdict v, uint64_t ulp, char *buf, size_t n)
{
	if (v == AUDIT_IDENTICAL)
		return "identical";
	if (v == AUDIT_DIFFERS)
		return "differs";
	snprintf(buf, n, "within %" PRIu64 " ULP", ulp);
	return buf;
}

/* Two numbers of a JSON or CSV file at `where`, u ULP apart: equal, within the bound at the
 * report's precision, or the reason they differ. */
static void compare_number(struct finding *f, double a, double b, uint64_t u, const char *where,
                           int conclusion, uint64_t bound)
{
	if (a == b || (isnan(a) && isnan(b)))
		return;
	if (conclusion) {
		differs(f, "%s: %.17g archived, %.17g recomputed (a conclusion: must be equal)", where,
			a, b);
		return;
	}
	const char *fmt = NULL;
	if (u == UINT64_MAX)
		differs(f, "%s: %.17g archived, %.17g recomputed", where, a, b);
	else if (u > bound)
		differs(f, "%s: %.17g archived, %.17g recomputed (%" PRIu64 " ULP, more than %" PRIu64
			   ")",
			where, a, b, u, bound);
	else if (!audit_same_printed(a, b, &fmt))
		differs(f, "%s: %.17g archived, %.17g recomputed (%" PRIu64
			   " ULP, but the report's %s prints them differently)",
			where, a, b, u, fmt);
	else
		within(f, u, fabs(a - b));
}

/* ---------------------------------------------------------------- text helpers ------- */

/* The recomputed file's text with the audited run directory spelled as the archive spells it. */
static char *map_text(char *text, size_t *n, const struct audit_cmp *c)
{
	if (!c->from || !c->to || !strcmp(c->from, c->to) || strlen(text) != *n)
		return text; /* no mapping, or not text */
	char from[4200], to[4200];
	snprintf(from, sizeof(from), "%s/", c->from);
	snprintf(to, sizeof(to), "%s/", c->to);
	size_t fl = strlen(from), tl = strlen(to), count = 0;
	for (const char *p = text; (p = strstr(p, from)); p += fl)
		count++;
	if (!count)
		return text;
	size_t len = *n + count * (tl > fl ? tl - fl : 0) + 1;
	char *out = malloc(len), *o = out;
	if (!out)
		return text;
	const char *p = text, *q;
	while ((q = strstr(p, from))) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
		p = q + fl;
	}
	size_t rest = strlen(p);
	memcpy(o, p, rest + 1);
	*n = (size_t)(o - out) + rest;
	free(text);
	return out;
}

/* ---------------------------------------------------------------- JSON --------------- */

static void strip_metadata(hj *v)
{
	if (hj_is_obj(v)) {
		hj_del(v, "run_metadata");
		hj *x;
		for (size_t i = 0; hj_obj_at(v, i, &x); i++)
			strip_metadata(x);
	} else if (hj_is_arr(v)) {
		for (size_t i = 0; i < hj_len(v); i++)
			strip_metadata(hj_at(v, i));
	}
}

static const char *kind_name(enum hj_kind k)
{
	static const char *const names[] = { "null", "false", "true", "an integer", "a real",
					     "a string", "a list", "an object" };
	return names[k];
}

static void compare_json(struct finding *f, hj *a, hj *b, const char *path, int conclusion,
                         uint64_t bound)
{
	if (f->v == AUDIT_DIFFERS)
		return;
	const char *where = *path ? path : "(the top level)";
	enum hj_kind ka = hj_kind_of(a), kb = hj_kind_of(b);
	if (ka != kb) {
		differs(f, "%s: %s archived, %s recomputed", where, kind_name(ka), kind_name(kb));
		return;
	}
	char sub[1024];
	switch (ka) {
	case HJ_OBJ: {
		hj *va, *vb;
		const char *k;
		for (size_t i = 0; (k = hj_obj_at(a, i, &va)); i++) {
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", k);
			if (!(vb = hj_member(b, k))) {
				differs(f, "%s: only in the archived file", sub);
				return;
			}
			/* a conclusion key's value, or the elements of its list, must be equal; an
			 * object under it (a selected record) is judged member by member */
			compare_json(f, va, vb, sub, audit_conclusion_key(k), bound);
		}
		for (size_t i = 0; (k = hj_obj_at(b, i, &vb)); i++)
			if (!hj_member(a, k)) {
				snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", k);
				differs(f, "%s: only in the recomputed file", sub);
				return;
			}
		return;
	}
	case HJ_ARR:
		if (hj_len(a) != hj_len(b)) {
			differs(f, "%s: %zu elements archived, %zu recomputed", where, hj_len(a),
				hj_len(b));
			return;
		}
		for (size_t i = 0; i < hj_len(a); i++) {
			snprintf(sub, sizeof(sub), "%s%s%zu", path, *path ? "." : "", i);
			compare_json(f, hj_at(a, i), hj_at(b, i), sub, conclusion, bound);
		}
		return;
	case HJ_STR: {
		const char *sa = hj_get_str(a, ""), *sb = hj_get_str(b, "");
		if (strcmp(sa ? sa : "", sb ? sb : ""))
			differs(f, "%s: \"%.200s\" archived, \"%.200s\" recomputed", where, sa ? sa : "",
				sb ? sb : "");
		return;
	}
	case HJ_INT: {
		int64_t x = 0, y = 0;
		hj_get_i64(a, "", &x);
		hj_get_i64(b, "", &y);
		if (x != y)
			differs(f, "%s: %" PRId64 " archived, %" PRId64 " recomputed (integers must be "
				   "equal)",
				where, x, y);
		return;
	}
	case HJ_REAL: {
		double x = hj_as_f64(a), y = hj_as_f64(b);
		compare_number(f, x, y, audit_ulp_number(x, y), where, conclusion, bound);
		return;
	}
	case HJ_NULL:
	case HJ_FALSE:
	case HJ_TRUE:
		return;
	}
}

static void compare_json_text(struct finding *f, const char *ta, size_t na, const char *tb,
                              size_t nb, const char *a_name, const char *b_name,
                              const struct audit_cmp *c)
{
	hj *x = NULL, *y = NULL;
	struct hus_err e = { 0 };
	if (hj_parse(ta, na, a_name, &x, &e)) {
		differs(f, "the archived file is not JSON: %s %s", e.where, e.msg);
	} else if (hj_parse(tb, nb, b_name, &y, &e)) {
		differs(f, "the recomputed file is not JSON: %s %s", e.where, e.msg);
	} else {
		if (c->strip_metadata) {
			strip_metadata(x);
			strip_metadata(y);
			char *sx = hj_dumps(x), *sy = hj_dumps(y);
			int same = sx && sy && !strcmp(sx, sy);
			free(sx), free(sy);
			if (same)
				goto done;
		}
		compare_json(f, x, y, "", 0, c->ulp);
		if (f->v == AUDIT_IDENTICAL) /* the same values, spelled differently */
			within(f, 0, 0);
	}
done:
	hj_free(x);
	hj_free(y);
}

/* ---------------------------------------------------------------- CSV ---------------- */

struct csv {
	char **cell;   /* every field, row after row */
	size_t *row;   /* index of each row's first field; row[nrows] = number of fields */
	size_t nrows, ncells;
};

static void csv_free(struct csv *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cell[i]);
	free(t->cell);
	free(t->row);
}

static int csv_push(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? 2 * *cap : 64;
	void *p = realloc(*arr, nc * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = nc;
	return 0;
}

/* RFC 4180 fields (quotes doubled inside quoted fields), rows ended by LF or CRLF. */
static int csv_parse(const char *s, size_t n, struct csv *t)
{
	memset(t, 0, sizeof(*t));
	size_t ccap = 0, rcap = 0, i = 0;
	char *field = malloc(n + 1);
	if (!field)
		return -1;
	while (i < n) {
		if (csv_push((void **)&t->row, &rcap, t->nrows + 1, sizeof(*t->row)))
			goto fail;
		t->row[t->nrows++] = t->ncells;
		for (;;) { /* one field */
			size_t o = 0;
			if (i < n && s[i] == '"') {
				for (i++; i < n; i++) {
					if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
						field[o++] = '"', i++;
					else if (s[i] == '"')
						break;
					else
						field[o++] = s[i];
				}
				if (i >= n)
					goto fail; /* unterminated quote */
				i++;
			}
			while (i < n && s[i] != ',' && s[i] != '\n' && s[i] != '\r')
				field[o++] = s[i++];
			field[o] = 0;
			if (csv_push((void **)&t->cell, &ccap, t->ncells, sizeof(*t->cell)) ||
			    !(t->cell[t->ncells] = strdup(field)))
				goto fail;
			t->ncells++;
			if (i < n && s[i] == ',') {
				i++;
				continue;
			}
			if (i < n && s[i] == '\r')
				i++;
			if (i < n && s[i] == '\n')
				i++;
			break;
		}
	}
	if (csv_push((void **)&t->row, &rcap, t->nrows + 1, sizeof(*t->row)))
		goto fail;
	t->row[t->nrows] = t->ncells;
	free(field);
	return 0;
fail:
	free(field);
	csv_free(t);
	return -1;
}

/* A whole-field number: *is_int for a plain integer, *digits its significant digits. */
static int csv_number(const char *s, double *v, int *is_int, int *digits)
{
	if (!*s)
		return 0;
	char *end;
	*v = strtod(s, &end);
	if (*end)
		return 0;
	*is_int = !strpbrk(s, ".eEnNiI");
	*digits = 0;
	int lead = 1;
	for (const char *p = s; *p && *p != 'e' && *p != 'E'; p++) {
		if (*p < '0' || *p > '9')
			continue;
		if (*p != '0')
			lead = 0;
		if (!lead)
			(*digits)++;
	}
	return 1;
}

/* The ULP distance of two CSV numbers: csv.c writes float32 values with %.9g, so numbers of
 * at most 9 significant digits are compared as the float32 values they were written from. */
static uint64_t csv_ulp(const char *x, const char *y, double vx, double vy, int dx, int dy)
{
	if (dx <= 9 && dy <= 9) {
		float fx = strtof(x, NULL), fy = strtof(y, NULL);
		if (isfinite(fx) && isfinite(fy))
			return audit_ulp_f32(fx, fy);
	}
	return audit_ulp_number(vx, vy);
}

static void compare_csv_text(struct finding *f, const char *ta, size_t na, const char *tb,
                             size_t nb, uint64_t bound)
{
	struct csv a, b;
	if (csv_parse(ta, na, &a)) {
		differs(f, "the archived file is not CSV (an unterminated quote?)");
		return;
	}
	if (csv_parse(tb, nb, &b)) {
		csv_free(&a);
		differs(f, "the recomputed file is not CSV (an unterminated quote?)");
		return;
	}
	if (a.nrows != b.nrows)
		differs(f, "%zu rows archived, %zu recomputed", a.nrows, b.nrows);
	for (size_t r = 0; f->v != AUDIT_DIFFERS && r < a.nrows; r++) {
		size_t ca = a.row[r + 1] - a.row[r], cb = b.row[r + 1] - b.row[r];
		if (ca != cb) {
			differs(f, "line %zu: %zu fields archived, %zu recomputed", r + 1, ca, cb);
			break;
		}
		for (size_t k = 0; f->v != AUDIT_DIFFERS && k < ca; k++) {
			const char *x = a.cell[a.row[r] + k], *y = b.cell[b.row[r] + k];
			if (!strcmp(x, y))
				continue;
			const char *col = a.nrows && k < a.row[1] ? a.cell[k] : "?";
			char where[512];
			snprintf(where, sizeof(where), "line %zu, column '%.200s'", r + 1, col);
			double vx, vy;
			int ix, iy, dx, dy;
			if (r == 0 || !csv_number(x, &vx, &ix, &dx) || !csv_number(y, &vy, &iy, &dy))
				differs(f, "%s: \"%.200s\" archived, \"%.200s\" recomputed", where, x, y);
			else if (ix && iy && vx != vy)
				differs(f, "%s: %s archived, %s recomputed (integers must be equal)", where, x,
					y);
			else
				compare_number(f, vx, vy, csv_ulp(x, y, vx, vy, dx, dy), where,
					       audit_conclusion_key(col), bound);
		}
	}
	if (f->v == AUDIT_IDENTICAL)
		within(f, 0, 0); /* the same values, spelled differently */
	csv_free(&a);
	csv_free(&b);
}

/* ---------------------------------------------------------------- HDF5 --------------- */

static void shape_text(char *buf, size_t n, enum h5_type t, int rank, const size_t *dims)
{
	size_t o = (size_t)snprintf(buf, n, "%s [", h5_type_name(t));
	for (int i = 0; i < rank && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%zu", i ? ", " : "", dims[i]);
	if (o < n)
		snprintf(buf + o, n - o, "]");
}

/* flat index -> "[i, j]" */
static void index_text(char *buf, size_t n, size_t idx, int rank, const size_t *dims)
{
	size_t at[H5_MAX_RANK] = { 0 };
	for (int i = rank - 1; i >= 0; i--) {
		at[i] = dims[i] ? idx % dims[i] : 0;
		idx = dims[i] ? idx / dims[i] : 0;
	}
	size_t o = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < rank && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%zu", i ? ", " : "", at[i]);
	if (o < n)
		snprintf(buf + o, n - o, "]");
}

static double elem_f64(const void *p, enum h5_type t, size_t i)
{
	switch (t) {
	case HUS_F32: return ((const float *)p)[i];
	case HUS_F64: return ((const double *)p)[i];
	case HUS_I32: return ((const int32_t *)p)[i];
	case HUS_I64: return (double)((const int64_t *)p)[i];
	case HUS_U8: return ((const uint8_t *)p)[i];
	}
	return 0;
}

static int64_t elem_i64(const void *p, enum h5_type t, size_t i)
{
	switch (t) {
	case HUS_I32: return ((const int32_t *)p)[i];
	case HUS_I64: return ((const int64_t *)p)[i];
	case HUS_U8: return ((const uint8_t *)p)[i];
	default: return 0;
	}
}

/* One dataset present in both files. */
static void compare_dataset(struct finding *f, struct h5r *ra, struct h5r *rb, const char *dset,
                            uint64_t bound)
{
	struct hus_err e = { 0 };
	enum h5_type ta, tb;
	int rka, rkb;
	size_t da[H5_MAX_RANK], db[H5_MAX_RANK];
	if (h5r_shape(ra, dset, &ta, &rka, da, &e)) {
		differs(f, "the archived dataset is unreadable: %s", e.msg);
		return;
	}
	if (h5r_shape(rb, dset, &tb, &rkb, db, &e)) {
		differs(f, "the recomputed dataset is unreadable: %s", e.msg);
		return;
	}
	if (ta != tb || rka != rkb || memcmp(da, db, (size_t)rka * sizeof(*da))) {
		char sa[256], sb[256];
		shape_text(sa, sizeof(sa), ta, rka, da);
		shape_text(sb, sizeof(sb), tb, rkb, db);
		differs(f, "%s archived, %s recomputed", sa, sb);
		return;
	}
	void *pa = NULL, *pb = NULL;
	size_t any_a[H5_MAX_RANK] = { 0 }, any_b[H5_MAX_RANK] = { 0 };
	if (h5r_read_alloc(ra, dset, ta, &pa, rka, any_a, &e)) {
		differs(f, "the archived dataset is unreadable: %s", e.msg);
		return;
	}
	if (h5r_read_alloc(rb, dset, tb, &pb, rkb, any_b, &e)) {
		free(pa);
		differs(f, "the recomputed dataset is unreadable: %s", e.msg);
		return;
	}
	size_t n = 1;
	for (int i = 0; i < rka; i++)
		n *= da[i];
	if (!memcmp(pa, pb, n * h5_type_size(ta))) {
		free(pa), free(pb);
		return;
	}
	int is_float = ta == HUS_F32 || ta == HUS_F64;
	char at[256];
	if (!is_float) {
		for (size_t i = 0; i < n; i++) {
			int64_t x = elem_i64(pa, ta, i), y = elem_i64(pb, ta, i);
			if (x != y) {
				index_text(at, sizeof(at), i, rka, da);
				differs(f, "element %s: %" PRId64 " archived, %" PRId64 " recomputed (integers "
					   "must be equal)",
					at, x, y);
				break;
			}
		}
		free(pa), free(pb);
		return;
	}
	uint64_t max_ulp = 0;
	double max_abs = 0;
	size_t first = n; /* the first element beyond the bound */
	for (size_t i = 0; i < n; i++) {
		double x = elem_f64(pa, ta, i), y = elem_f64(pb, ta, i);
		uint64_t u = ta == HUS_F32 ? audit_ulp_f32(((const float *)pa)[i], ((const float *)pb)[i])
					   : audit_ulp_f64(x, y);
		if (u > bound && first == n)
			first = i;
		if (u != UINT64_MAX && u > max_ulp)
			max_ulp = u;
		if (isfinite(x - y) && fabs(x - y) > max_abs)
			max_abs = fabs(x - y);
	}
	if (first < n) {
		double x = elem_f64(pa, ta, first), y = elem_f64(pb, ta, first);
		index_text(at, sizeof(at), first, rka, da);
		differs(f, "element %s: %.9g archived, %.9g recomputed (first beyond %" PRIu64
			   " ULP); over the dataset max |diff| %.3g, max %" PRIu64 " ULP",
			at, x, y, bound, max_abs, max_ulp);
		if (ta == HUS_F64) /* double values need all their digits */
			snprintf(f->why, sizeof(f->why),
				 "element %s: %.17g archived, %.17g recomputed (first beyond %" PRIu64
				 " ULP); over the dataset max |diff| %.3g, max %" PRIu64 " ULP",
				 at, x, y, bound, max_abs, max_ulp);
	} else {
		within(f, max_ulp, max_abs); /* 0 ULP: -0 and +0, NaN payloads */
	}
	free(pa), free(pb);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *root_attr(struct h5r *r, const char *name)
{
	char *v = NULL;
	struct hus_err e = { 0 };
	if (!h5r_has_attr(r, "/", name) || h5r_attr_str(r, "/", name, &v, &e))
		return NULL;
	return v;
}

/* The file's finding; the lines of its datasets that are not identical go to `lines`. */
static void compare_h5(struct finding *f, const char *a, const char *b, const struct audit_cmp *c,
                       FILE *lines, char **np_note)
{
	struct h5r *ra = NULL, *rb = NULL;
	struct hus_err e = { 0 };
	if (h5r_open(&ra, a, NULL, 0, &e)) {
		differs(f, "the archived file is unreadable: %s", e.msg);
		return;
	}
	if (h5r_open(&rb, b, NULL, 0, &e)) {
		h5r_close(ra);
		differs(f, "the recomputed file is unreadable: %s", e.msg);
		return;
	}
	/* the numeric path each was made with, when the archive records one */
	char *npa = root_attr(ra, "numeric_path"), *npb = npa ? root_attr(rb, "numeric_path") : NULL;
	char note[600] = "";
	if (npa && (!npb || strcmp(npa, npb)))
		snprintf(note, sizeof(note), " [numeric_path archived \"%.200s\", recomputed \"%.200s\"]",
			 npa, npb ? npb : "(none)");
	if (*note)
		*np_note = strdup(note);
	free(npa), free(npb);
	char **la = NULL, **lb = NULL;
	size_t na = 0, nb = 0;
	if (h5r_list_datasets(ra, &la, &na, &e)) {
		differs(f, "the archived file cannot be walked: %s", e.msg);
	} else if (h5r_list_datasets(rb, &lb, &nb, &e)) {
		differs(f, "the recomputed file cannot be walked: %s", e.msg);
	} else {
		qsort(la, na, sizeof(*la), cmp_str);
		qsort(lb, nb, sizeof(*lb), cmp_str);
		size_t i = 0, j = 0, all = 0, n_within = 0, n_differ = 0;
		while (i < na || j < nb) {
			int o = i == na ? 1 : j == nb ? -1 : strcmp(la[i], lb[j]);
			struct finding d = { 0 };
			const char *name = o <= 0 ? la[i] : lb[j];
			if (o < 0)
				differs(&d, "only in the archived file");
			else if (o > 0)
				differs(&d, "only in the recomputed file");
			else
				compare_dataset(&d, ra, rb, name, c->ulp);
			i += o <= 0, j += o >= 0;
			all++;
			if (d.v == AUDIT_IDENTICAL)
				continue;
			char vt[64];
			if (lines && d.v == AUDIT_DIFFERS)
				fprintf(lines, "  %-16s %s: %s%s\n", "differs", name, d.why, note);
			else if (lines)
				fprintf(lines, "  %-16s %s: max |diff| %.3g, max %" PRIu64 " ULP%s\n",
					verdict_text(d.v, c->ulp, vt, sizeof(vt)), name, d.max_abs, d.max_ulp,
					note);
			if (d.v == AUDIT_DIFFERS) {
				n_differ++;
			} else {
				n_within++;
				within(f, d.max_ulp, d.max_abs);
			}
		}
		if (n_differ)
			differs(f, "%zu of %zu datasets differ, %zu within %" PRIu64 " ULP (below)",
				n_differ, all, n_within, c->ulp);
	}
	h5r_free_list(la, na);
	h5r_free_list(lb, nb);
	h5r_close(ra);
	h5r_close(rb);
}

/* ---------------------------------------------------------------- one output --------- */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

enum audit_verdict audit_compare(const char *archived, const char *recomputed, const char *rel,
                                 const struct audit_cmp *c, struct audit_tally *t)
{
	struct finding f = { 0 };
	char *lines = NULL, *np_note = NULL;
	size_t nlines = 0;
	FILE *lf = c->out ? open_memstream(&lines, &nlines) : NULL;
	if (!hus_file_exists(archived)) {
		differs(&f, "missing from the archive");
	} else if (!hus_file_exists(recomputed)) {
		differs(&f, "not written by the recomputation");
	} else if (ends_with(rel, ".h5")) {
		compare_h5(&f, archived, recomputed, c, lf, &np_note);
	} else {
		char *ta = NULL, *tb = NULL;
		size_t na = 0, nb = 0;
		struct hus_err e = { 0 };
		if (hus_read_file(archived, &ta, &na, &e))
			differs(&f, "the archived file is unreadable: %s", e.msg);
		else if (hus_read_file(recomputed, &tb, &nb, &e))
			differs(&f, "the recomputed file is unreadable: %s", e.msg);
		else if (!(tb = map_text(tb, &nb, c)))
			differs(&f, "out of memory");
		else if (na == nb && !memcmp(ta, tb, na))
			; /* identical */
		else if (ends_with(rel, ".json"))
			compare_json_text(&f, ta, na, tb, nb, archived, recomputed, c);
		else if (ends_with(rel, ".csv"))
			compare_csv_text(&f, ta, na, tb, nb, c->ulp);
		else
			differs(&f, "the bytes differ");
		free(ta);
		free(tb);
	}
	if (lf)
		fclose(lf);
	if (c->out) {
		char vt[64];
		fprintf(c->out, "%-16s %s%s%s", verdict_text(f.v, c->ulp, vt, sizeof(vt)), rel,
			c->note ? " " : "", c->note ? c->note : "");
		if (f.v == AUDIT_DIFFERS)
			fprintf(c->out, ": %s", f.why);
		else if (f.v == AUDIT_WITHIN)
			fprintf(c->out, ": max |diff| %.3g, max %" PRIu64 " ULP", f.max_abs, f.max_ulp);
		fprintf(c->out, "%s\n%s", np_note ? np_note : "", lines ? lines : "");
	}
	free(lines);
	free(np_note);
	if (f.v == AUDIT_IDENTICAL)
		t->identical++;
	else if (f.v == AUDIT_WITHIN)
		t->within++;
	else
		t->differ++;
	if (f.v == AUDIT_WITHIN && f.max_ulp > t->max_ulp)
		t->max_ulp = f.max_ulp;
	return f.v;
}
