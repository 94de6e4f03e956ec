/*
 * json.h — JSON through a thin layer over jansson, the type hj (formats/json.c).
 * It is part of formats.h (the umbrella header every user includes); included alone it brings
 * what it needs.
 */
#ifndef HUSAI_FORMATS_JSON_H
#define HUSAI_FORMATS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

/* ---------------------------------------------------------------- JSON -------------- */

/*
 * A thin layer over jansson so stages build results without including jansson.h.
 * Objects keep insertion order; the writer uses 2-space indent, a trailing newline, and
 * writes non-finite numbers as null (docs/formulas.md §8.15, A11).  Values are reference-counted by
 * jansson: the *_set / *_push functions steal the reference of `val`.
 */
typedef struct json_t hj;
hj *hj_obj(void);
hj *hj_arr(void);
hj *hj_num(double v);     /* non-finite -> null */
hj *hj_int(int64_t v);
hj *hj_str(const char *s);
hj *hj_bool(int b);
hj *hj_null(void);
hj *hj_f64_array(const double *v, size_t n);
hj *hj_i64_array(const int64_t *v, size_t n);
int hj_set(hj *obj, const char *key, hj *val); /* steals val */
int hj_push(hj *arr, hj *val);                 /* steals val */
void hj_free(hj *v);                           /* decref */
hj *hj_ref(hj *v);                             /* incref, returns v */
int hj_del(hj *obj, const char *key);          /* remove a key (0), -1 if absent */
int hj_write_file(const char *path, hj *v, struct hus_err *err); /* atomic */
char *hj_dumps(hj *v);                                          /* caller frees */
/* Reading: parse with a line:column error; get by dotted path ("trained.mean", "records.3.k"). */
int hj_read_file(const char *path, hj **v, struct hus_err *err);
int hj_parse(const char *text, size_t n, const char *name, hj **v, struct hus_err *err);
hj *hj_get(hj *v, const char *path); /* borrowed; NULL if absent */
int hj_get_f64(hj *v, const char *path, double *out); /* 0 ok (null -> NaN), -1 absent/not a number */
int hj_get_i64(hj *v, const char *path, int64_t *out);
const char *hj_get_str(hj *v, const char *path);
size_t hj_len(hj *v);            /* array or object size */
hj *hj_at(hj *arr, size_t i);    /* borrowed */
int hj_is_obj(hj *v);
int hj_is_arr(hj *v);
int hj_is_num(hj *v);            /* integer or real */
double hj_as_f64(hj *v);         /* NaN for null/non-number */
/* Iterate an object: returns the i-th key and value (borrowed), NULL when i is past the end. */
const char *hj_obj_at(hj *obj, size_t i, hj **val);
/* What a value is: JSON keeps integers ("3") and reals ("3.0") apart. */
enum hj_kind { HJ_NULL, HJ_FALSE, HJ_TRUE, HJ_INT, HJ_REAL, HJ_STR, HJ_ARR, HJ_OBJ };
enum hj_kind hj_kind_of(hj *v); /* HJ_NULL for NULL */
hj *hj_member(hj *obj, const char *key); /* borrowed; the key taken whole (dots and all) */

#endif
