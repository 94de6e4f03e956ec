/*
 * json.c — results and manifests as JSON through jansson, behind a small API so no other folder
 * includes jansson.h.  Writing: insertion-ordered objects, 2-space indent, trailing newline,
 * non-finite numbers as null (docs/formulas.md §8.15, A11), `%.17g`-exact reals (jansson's default), atomic
 * file replacement.  Reading: parse errors carry line:column; dotted-path getters.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

hj *hj_obj(void) { return json_object(); }
hj *hj_arr(void) { return json_array(); }
hj *hj_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }
hj *hj_int(int64_t v) { return json_integer((json_int_t)v); }
hj *hj_str(const char *s) { return json_string(s ? s : ""); }
hj *hj_bool(int b) { return json_boolean(b); }
hj *hj_null(void) { return json_null(); }

hj *hj_f64_array(const double *v, size_t n)
{
	hj *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, hj_num(v[i]));
	return a;
}

hj *hj_i64_array(const int64_t *v, size_t n)
{
	hj *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

int hj_set(hj *obj, const char *key, hj *val)
{
	if (!obj || !val) {
		json_decref(val);
		return -1;
	}
	return json_object_set_new(obj, key, val);
}

int hj_push(hj *arr, hj *val)
{
	if (!arr || !val) {
		json_decref(val);
		return -1;
	}
	return json_array_append_new(arr, val);
}

void hj_free(hj *v) { json_decref(v); }
hj *hj_ref(hj *v) { return json_incref(v); }

int hj_del(hj *obj, const char *key)
{
	return obj && json_is_object(obj) ? json_object_del(obj, key) : -1;
}

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))

char *hj_dumps(hj *v)
{
	char *s = json_dumps(v, DUMP_FLAGS);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *out = malloc(n + 2);
	if (out) {
		memcpy(out, s, n);
		out[n] = '\n';
		out[n + 1] = 0;
	}
	free(s);
	return out;
}

int hj_write_file(const char *path, hj *v, struct hus_err *err)
{
	char *s = hj_dumps(v);
	if (!s)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "cannot serialise JSON");
	int rc = hus_write_file(path, s, strlen(s), err);
	free(s);
	return rc;
}

int hj_parse(const char *text, size_t n, const char *name, hj **v, struct hus_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(text, n, JSON_DECODE_ANY, &je);
	if (!root) {
		char where[64];
		snprintf(where, sizeof(where), "%d:%d", je.line, je.column);
		return hus_errf(err, HUS_EINPUT, name, where, "invalid JSON: %s", je.text);
	}
	*v = root;
	return 0;
}

int hj_read_file(const char *path, hj **v, struct hus_err *err)
{
	char *text;
	size_t n;
	int rc = hus_read_file_max(path, HJ_MAX_BYTES, &text, &n, err);
	if (rc)
		return rc;
	rc = hj_parse(text, n, path, v, err);
	free(text);
	return rc;
}

hj *hj_get(hj *v, const char *path)
{
	const char *p = path;
	while (v && *p) {
		size_t len = strcspn(p, ".");
		char key[256];
		if (len >= sizeof(key))
			return NULL;
		memcpy(key, p, len);
		key[len] = 0;
		if (json_is_object(v)) {
			v = json_object_get(v, key);
		} else if (json_is_array(v)) {
			char *end;
			unsigned long i = strtoul(key, &end, 10);
			v = (*end || !len) ? NULL : json_array_get(v, i);
		} else {
			return NULL;
		}
		p += len;
		if (*p == '.')
			p++;
	}
	return v;
}

int hj_get_f64(hj *v, const char *path, double *out)
{
	hj *x = hj_get(v, path);
	if (!x)
		return -1;
	if (json_is_null(x)) {
		*out = NAN;
		return 0;
	}
	if (!json_is_number(x))
		return -1;
	*out = json_number_value(x);
	return 0;
}

int hj_get_i64(hj *v, const char *path, int64_t *out)
{
	hj *x = hj_get(v, path);
	if (!x || !json_is_integer(x))
		return -1;
	*out = (int64_t)json_integer_value(x);
	return 0;
}

const char *hj_get_str(hj *v, const char *path)
{
	hj *x = hj_get(v, path);
	return x && json_is_string(x) ? json_string_value(x) : NULL;
}

size_t hj_len(hj *v)
{
	if (json_is_array(v))
		return json_array_size(v);
	if (json_is_object(v))
		return json_object_size(v);
	return 0;
}

hj *hj_at(hj *arr, size_t i) { return json_array_get(arr, i); }
int hj_is_obj(hj *v) { return v && json_is_object(v); }
int hj_is_arr(hj *v) { return v && json_is_array(v); }
int hj_is_num(hj *v) { return v && json_is_number(v); }
double hj_as_f64(hj *v) { return v && json_is_number(v) ? json_number_value(v) : NAN; }

const char *hj_obj_at(hj *obj, size_t i, hj **val)
{
	if (!json_is_object(obj))
		return NULL;
	size_t k = 0;
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value)
	{
		if (k++ == i) {
			if (val)
				*val = value;
			return key;
		}
	}
	return NULL;
}

enum hj_kind hj_kind_of(hj *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: return HJ_OBJ;
	case JSON_ARRAY: return HJ_ARR;
	case JSON_STRING: return HJ_STR;
	case JSON_INTEGER: return HJ_INT;
	case JSON_REAL: return HJ_REAL;
	case JSON_TRUE: return HJ_TRUE;
	case JSON_FALSE: return HJ_FALSE;
	case JSON_NULL: break;
	}
	return HJ_NULL;
}

hj *hj_member(hj *obj, const char *key) { return json_is_object(obj) ? json_object_get(obj, key) : NULL; }
