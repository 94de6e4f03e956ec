/*
 * csv.h — the CSV writer (formats/csv.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_CSV_H
#define HUSAI_FORMATS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

/* ---------------------------------------------------------------- CSV --------------- */

/* Header row, LF endings, round-trippable floats (%.9g float32, %.17g double, NaN empty). */
struct csvw;
int csvw_open(struct csvw **w, const char *path, const char *const *header, size_t ncols,
              struct hus_err *err);
void csvw_str(struct csvw *w, const char *s); /* quoted when needed */
void csvw_f32(struct csvw *w, float v);
void csvw_f64(struct csvw *w, double v);
void csvw_i64(struct csvw *w, int64_t v);
int csvw_end_row(struct csvw *w, struct hus_err *err); /* checks the column count */
int csvw_commit(struct csvw *w, struct hus_err *err);  /* frees w */
void csvw_abort(struct csvw *w);                       /* frees w */

#endif
