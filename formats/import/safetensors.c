/*
 * safetensors.c — the safetensors reader (huggingface/safetensors format: an 8-byte
 * little-endian header length, a JSON header mapping tensor names to {dtype, shape,
 * data_offsets [begin, end)} relative to the data area, an optional "__metadata__" object of
 * strings, then raw little-endian tensor bytes), plus the tensor list shared with the torch
 * reader and the half/bfloat16 conversions; and the float32 writer `husai export` uses.
 *
 * The file is untrusted.  Before any data byte is read: the header length must fit in the
 * file and under ST_MAX_HEADER; every dtype must be F32, F16 or BF16 (other known dtypes are
 * refused as unsupported, anything else as unknown); shape products are overflow-checked and
 * must equal (end - begin) / element size; offsets must lie in the data area and, sorted,
 * tile it exactly — no overlap, no gap, no trailing bytes (the reference implementation's
 * rule).  Errors name the file, the tensor and what was expected.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

/* ---------------------------------------------------------------- tensor lists ------ */

void imp_tensors_release(struct imp_tensors *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++) {
		free(ts->t[i].data);
		free(ts->t[i].ints);
	}
	free(ts->t);
	ts->t = NULL;
	ts->n = 0;
}

const struct imp_tensor *imp_find(const struct imp_tensors *ts, const char *name)
{
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->t[i].name, name))
			return &ts->t[i];
	return NULL;
}

/* c10's fp16_ieee_to_fp32_value, written out bit by bit: exact for every half, including
 * subnormals (renormalised), infinities and NaNs (payload shifted into place). */
float imp_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
	uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | (man << 13);
	} else if (exp == 0) {
		if (man == 0) {
			bits = sign;
		} else {
			int e = -1;
			do {
				e++;
				man <<= 1;
			} while (!(man & 0x400u));
			bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
		}
	} else {
		bits = sign | ((exp + 112u) << 23) | (man << 13);
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

float imp_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

/* ---------------------------------------------------------------- the reader -------- */

struct st_span {
	uint64_t begin, end;
	size_t idx;
};

static int span_cmp(const void *a, const void *b)
{
	const struct st_span *x = a, *y = b;
	return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

static uint64_t rd_le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* dtype name -> element size; 0 for unsupported-but-known (-1 unknown) */
static int st_dtype(const char *s)
{
	if (!strcmp(s, "F32"))
		return 4;
	if (!strcmp(s, "F16") || !strcmp(s, "BF16"))
		return 2;
	static const char *const known[] = { "F64", "I64", "I32", "I16", "I8", "U8", "U16", "U32",
	                                     "U64", "BOOL", "F8_E4M3", "F8_E5M2", NULL };
	for (size_t i = 0; known[i]; i++)
		if (!strcmp(s, known[i]))
			return 0;
	return -1;
}

static int parse_entry(struct imp_tensor *t, struct st_span *sp, hj *v, const char *key,
                       uint64_t data_len, const char *name, struct hus_err *err)
{
	if (strlen(key) >= sizeof(t->name))
		return hus_errf(err, HUS_EINPUT, name, "header", "tensor name longer than %zu bytes",
		                sizeof(t->name) - 1);
	snprintf(t->name, sizeof(t->name), "%s", key);
	if (!hj_is_obj(v))
		return hus_errf(err, HUS_EINPUT, name, key, "expected an object {dtype, shape, data_offsets}");
	const char *dt = hj_get_str(v, "dtype");
	if (!dt)
		return hus_errf(err, HUS_EINPUT, name, key, "missing string 'dtype'");
	int es = st_dtype(dt);
	if (es < 0)
		return hus_errf(err, HUS_EINPUT, name, key, "unknown dtype '%.32s'", dt);
	if (es == 0)
		return hus_errf(err, HUS_EINPUT, name, key,
		                "unsupported dtype '%s' (expected F32, F16 or BF16)", dt);
	snprintf(t->dtype, sizeof(t->dtype), "%s", dt);
	hj *shape = hj_get(v, "shape"), *offs = hj_get(v, "data_offsets");
	if (!shape || !hj_is_arr(shape))
		return hus_errf(err, HUS_EINPUT, name, key, "missing array 'shape'");
	if (hj_len(shape) > H5_MAX_RANK)
		return hus_errf(err, HUS_EINPUT, name, key, "rank %zu above the supported %d",
		                hj_len(shape), H5_MAX_RANK);
	t->rank = (int)hj_len(shape);
	uint64_t numel = 1;
	for (int i = 0; i < t->rank; i++) {
		hj *d = hj_at(shape, (size_t)i);
		double dv = hj_as_f64(d);
		if (!hj_is_num(d) || !(dv >= 0) || dv != (double)(uint64_t)dv || dv > 9.0e15)
			return hus_errf(err, HUS_EINPUT, name, key,
			                "shape entry %d is not a non-negative integer", i);
		t->dims[i] = (size_t)dv;
		if (t->dims[i] && numel > UINT64_MAX / t->dims[i])
			return hus_errf(err, HUS_EINPUT, name, key, "shape product overflows");
		numel *= t->dims[i];
	}
	if (numel > UINT64_MAX / (uint64_t)es)
		return hus_errf(err, HUS_EINPUT, name, key, "shape product overflows");
	if (!offs || !hj_is_arr(offs) || hj_len(offs) != 2)
		return hus_errf(err, HUS_EINPUT, name, key, "expected 'data_offsets' [begin, end]");
	double b = hj_as_f64(hj_at(offs, 0)), e = hj_as_f64(hj_at(offs, 1));
	if (!(b >= 0) || !(e >= 0) || b != (double)(uint64_t)b || e != (double)(uint64_t)e ||
	    b > 1.8e19 || e > 1.8e19)
		return hus_errf(err, HUS_EINPUT, name, key, "data_offsets are not non-negative integers");
	sp->begin = (uint64_t)b;
	sp->end = (uint64_t)e;
	if (sp->end < sp->begin || sp->end > data_len)
		return hus_errf(err, HUS_EINPUT, name, key,
		                "data_offsets [%llu, %llu) out of range (data area is %llu bytes)",
		                (unsigned long long)sp->begin, (unsigned long long)sp->end,
		                (unsigned long long)data_len);
	if (sp->end - sp->begin != numel * (uint64_t)es)
		return hus_errf(err, HUS_EINPUT, name, key,
		                "shape needs %llu bytes of %s, data_offsets give %llu",
		                (unsigned long long)(numel * (uint64_t)es), dt,
		                (unsigned long long)(sp->end - sp->begin));
	if (numel > SIZE_MAX / sizeof(float))
		return hus_errf(err, HUS_EINPUT, name, key, "tensor too large");
	t->numel = (size_t)numel;
	return 0;
}

static void convert(float *dst, const unsigned char *src, size_t n, const char *dtype)
{
	if (!strcmp(dtype, "F32")) {
		for (size_t i = 0; i < n; i++) {
			uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
			             (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
			memcpy(&dst[i], &u, 4);
		}
	} else {
		int bf = !strcmp(dtype, "BF16");
		for (size_t i = 0; i < n; i++) {
			uint16_t h = (uint16_t)(src[2 * i] | src[2 * i + 1] << 8);
			dst[i] = bf ? imp_bf16_to_f32(h) : imp_f16_to_f32(h);
		}
	}
}

int st_read_buf(struct imp_tensors *out, const void *buf, size_t n, const char *name,
                struct hus_err *err)
{
	const unsigned char *p = buf;
	if (n < 8)
		return hus_errf(err, HUS_EINPUT, name, "header", "file of %zu bytes is too short for a "
		                "safetensors header length", n);
	uint64_t hlen = rd_le64(p);
	if (hlen > n - 8)
		return hus_errf(err, HUS_EINPUT, name, "header",
		                "header length %llu beyond the file (%zu bytes after the length)",
		                (unsigned long long)hlen, n - 8);
	if (hlen > ST_MAX_HEADER)
		return hus_errf(err, HUS_EINPUT, name, "header", "header length %llu above the %u cap",
		                (unsigned long long)hlen, ST_MAX_HEADER);
	if (hlen < 2 || p[8] != '{')
		return hus_errf(err, HUS_EINPUT, name, "header", "header does not start with '{'");
	hj *h = NULL;
	struct imp_tensors ts = { 0 };
	struct st_span *spans = NULL;
	int rc = hj_parse((const char *)p + 8, (size_t)hlen, name, &h, err);
	if (rc)
		return rc;
	const unsigned char *data = p + 8 + hlen;
	uint64_t data_len = n - 8 - hlen;
	if (!hj_is_obj(h)) {
		rc = hus_errf(err, HUS_EINPUT, name, "header", "header is not a JSON object");
		goto cleanup;
	}
	size_t cap = hj_len(h);
	ts.t = calloc(cap ? cap : 1, sizeof(*ts.t));
	spans = calloc(cap ? cap : 1, sizeof(*spans));
	if (!ts.t || !spans) {
		rc = hus_errf(err, HUS_ENOMEM, name, "header", "out of memory for %zu tensors", cap);
		goto cleanup;
	}
	hj *v;
	const char *key;
	for (size_t i = 0; (key = hj_obj_at(h, i, &v)); i++) {
		if (!strcmp(key, "__metadata__")) {
			if (!hj_is_obj(v)) {
				rc = hus_errf(err, HUS_EINPUT, name, "__metadata__", "expected an object");
				goto cleanup;
			}
			continue;
		}
		spans[ts.n].idx = ts.n;
		if ((rc = parse_entry(&ts.t[ts.n], &spans[ts.n], v, key, data_len, name, err)))
			goto cleanup;
		ts.n++;
	}
	qsort(spans, ts.n, sizeof(*spans), span_cmp);
	uint64_t at = 0;
	for (size_t i = 0; i < ts.n; i++) {
		const char *tn = ts.t[spans[i].idx].name;
		if (spans[i].begin < at) {
			rc = hus_errf(err, HUS_EINPUT, name, tn,
			              "data_offsets [%llu, %llu) overlap the previous tensor (ends at %llu)",
			              (unsigned long long)spans[i].begin, (unsigned long long)spans[i].end,
			              (unsigned long long)at);
			goto cleanup;
		}
		if (spans[i].begin > at) {
			rc = hus_errf(err, HUS_EINPUT, name, tn,
			              "gap in the data area: bytes [%llu, %llu) belong to no tensor",
			              (unsigned long long)at, (unsigned long long)spans[i].begin);
			goto cleanup;
		}
		at = spans[i].end;
	}
	if (at != data_len) {
		rc = hus_errf(err, HUS_EINPUT, name, "data",
		              "%llu trailing bytes after the last tensor",
		              (unsigned long long)(data_len - at));
		goto cleanup;
	}
	for (size_t i = 0; i < ts.n; i++) {
		struct imp_tensor *t = &ts.t[spans[i].idx];
		t->data = malloc(t->numel ? t->numel * sizeof(float) : 1);
		if (!t->data) {
			rc = hus_errf(err, HUS_ENOMEM, name, t->name, "out of memory for %zu floats",
			              t->numel);
			goto cleanup;
		}
		convert(t->data, data + spans[i].begin, t->numel, t->dtype);
	}
	*out = ts;
	ts.t = NULL;
	ts.n = 0;
cleanup:
	imp_tensors_release(&ts);
	free(spans);
	hj_free(h);
	return rc;
}

int st_read_file(struct imp_tensors *out, const char *path, struct hus_err *err)
{
	char *buf;
	size_t n;
	int rc = hus_read_file(path, &buf, &n, err);
	if (rc)
		return rc;
	rc = st_read_buf(out, buf, n, path, err);
	free(buf);
	return rc;
}

/*
 * Writer (husai export, issue 18): float32 tensors in the given order, the header a JSON
 * object {name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}} (plus
 * "__metadata__" of string values when given), padded with spaces to a multiple of 8 bytes as
 * the safetensors library does, then the raw little-endian data.  Written atomically.
 */
int st_write_file(const char *path, const struct imp_tensor *t, size_t n, hj *metadata,
                  struct hus_err *err)
{
	hj *h = hj_obj();
	if (metadata)
		hj_set(h, "__metadata__", hj_ref(metadata));
	uint64_t off = 0;
	for (size_t i = 0; i < n; i++) {
		hj *e = hj_obj(), *shape = hj_arr(), *offs = hj_arr();
		for (int r = 0; r < t[i].rank; r++)
			hj_push(shape, hj_int((int64_t)t[i].dims[r]));
		hj_push(offs, hj_int((int64_t)off));
		off += (uint64_t)t[i].numel * 4;
		hj_push(offs, hj_int((int64_t)off));
		hj_set(e, "dtype", hj_str("F32"));
		hj_set(e, "shape", shape);
		hj_set(e, "data_offsets", offs);
		hj_set(h, t[i].name, e);
	}
	char *txt = hj_dumps(h);
	hj_free(h);
	if (!txt)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory for the header");
	size_t hl = strlen(txt); /* indented JSON: safetensors readers accept any JSON */
	size_t padded = (hl + 7) / 8 * 8;
	size_t total = 8 + padded + (size_t)off;
	unsigned char *buf = malloc(total);
	if (!buf) {
		free(txt);
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory (%zu bytes)", total);
	}
	for (int b = 0; b < 8; b++)
		buf[b] = (unsigned char)((uint64_t)padded >> (8 * b));
	memcpy(buf + 8, txt, hl);
	memset(buf + 8 + hl, ' ', padded - hl);
	free(txt);
	unsigned char *d = buf + 8 + padded;
	for (size_t i = 0; i < n; i++)
		for (size_t e = 0; e < t[i].numel; e++, d += 4) {
			uint32_t u;
			memcpy(&u, &t[i].data[e], 4);
			d[0] = (unsigned char)u, d[1] = (unsigned char)(u >> 8);
			d[2] = (unsigned char)(u >> 16), d[3] = (unsigned char)(u >> 24);
		}
	int rc = hus_write_file(path, buf, total, err);
	free(buf);
	return rc;
}
