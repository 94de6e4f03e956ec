/*
 * csv.c — CSV tables: a header row, LF line endings (docs/formulas.md §8.15: upstream wrote CRLF), fields
 * quoted only when needed, floats round-trippable (%.9g for float32, %.17g for double),
 * non-finite values as empty fields.  Written atomically.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

struct csvw {
	struct hus_atomic at;
	size_t ncols, col;
	int failed;
};

static void sep(struct csvw *w)
{
	if (w->col++)
		fputc(',', w->at.f);
}

void csvw_str(struct csvw *w, const char *s)
{
	sep(w);
	if (strpbrk(s, ",\"\n\r")) {
		fputc('"', w->at.f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', w->at.f);
			fputc(*s, w->at.f);
		}
		fputc('"', w->at.f);
	} else {
		fputs(s, w->at.f);
	}
}

void csvw_f32(struct csvw *w, float v)
{
	sep(w);
	if (isfinite(v))
		fprintf(w->at.f, "%.9g", (double)v);
}

void csvw_f64(struct csvw *w, double v)
{
	sep(w);
	if (isfinite(v))
		fprintf(w->at.f, "%.17g", v);
}

void csvw_i64(struct csvw *w, int64_t v)
{
	sep(w);
	fprintf(w->at.f, "%" PRId64, v);
}

int csvw_end_row(struct csvw *w, struct hus_err *err)
{
	if (w->col != w->ncols) {
		w->failed = 1;
		return hus_errf(err, HUS_EINTERNAL, w->at.final_path, NULL,
				"row has %zu fields, header has %zu", w->col, w->ncols);
	}
	fputc('\n', w->at.f);
	w->col = 0;
	return 0;
}

int csvw_open(struct csvw **wp, const char *path, const char *const *header, size_t ncols,
              struct hus_err *err)
{
	struct csvw *w = calloc(1, sizeof(*w));
	if (!w)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	int rc = hus_atomic_open(&w->at, path, 1, err);
	if (rc) {
		free(w);
		return rc;
	}
	w->ncols = ncols;
	for (size_t i = 0; i < ncols; i++)
		csvw_str(w, header[i]);
	csvw_end_row(w, err);
	*wp = w;
	return 0;
}

int csvw_commit(struct csvw *w, struct hus_err *err)
{
	int rc;
	if (w->failed) {
		hus_atomic_abort(&w->at);
		rc = hus_errf(err, HUS_EINTERNAL, w->at.final_path, NULL, "a row was malformed");
	} else {
		rc = hus_atomic_commit(&w->at, err);
	}
	free(w);
	return rc;
}

void csvw_abort(struct csvw *w)
{
	if (!w)
		return;
	hus_atomic_abort(&w->at);
	free(w);
}
