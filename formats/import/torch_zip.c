/*
 * torch_zip.c — the torch `.pt` container: the zip archive torch.save writes since 1.6
 * (`<archive>/data.pkl`, `<archive>/data/<key>` raw little-endian storages,
 * `<archive>/version`, optional `<archive>/byteorder`), read with libzip from memory; the
 * pickle is run by torch_pickle.c, then every float tensor is gathered from its storage
 * through its (offset, shape, strides) view and converted to float32.
 *
 * Archive invariants checked before reading a byte of a storage:
 *  (1) no entry name is absolute, contains a backslash, or has a ".." component;
 *  (2) data.pkl is at most PT_MAX_PICKLE bytes uncompressed;
 *  (3) a storage entry's uncompressed size equals exactly what its persistent id declares
 *      (numel × element size), and every tensor view lies inside its storage; storages
 *      together and tensor outputs together are each at most PT_MAX_TOTAL bytes; the bytes
 *      actually inflated are counted, so a lying header cannot inflate more (zip bombs).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "import_internal.h"


static int zip_err(const char *file, const char *where, zip_error_t *ze, struct hus_err *err)
{
	return hus_errf(err, HUS_EINPUT, file, where, "not a readable zip archive: %s",
	                zip_error_strerror(ze));
}

/* read one entry of exactly `want` bytes (its stat size must equal want) */
static int read_entry(zip_t *za, zip_int64_t idx, const char *file, const char *ename,
                      uint64_t want, unsigned char **out, struct hus_err *err)
{
	zip_stat_t st;
	zip_stat_init(&st);
	if (zip_stat_index(za, (zip_uint64_t)idx, 0, &st))
		return hus_errf(err, HUS_EINPUT, file, ename, "cannot stat entry: %s",
		                zip_strerror(za));
	if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
		return hus_errf(err, HUS_EINPUT, file, ename, "encrypted entry");
	if ((st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method != ZIP_CM_STORE &&
	    st.comp_method != ZIP_CM_DEFLATE)
		return hus_errf(err, HUS_EINPUT, file, ename,
		                "compression method %d (expected stored or deflate)", st.comp_method);
	if (!(st.valid & ZIP_STAT_SIZE) || st.size != want)
		return hus_errf(err, HUS_EINPUT, file, ename,
		                "entry inflates to %llu bytes, expected exactly %llu (zip bomb or "
		                "corrupt archive)", (unsigned long long)st.size,
		                (unsigned long long)want);
	unsigned char *buf = malloc(want + 1);
	if (!buf)
		return hus_errf(err, HUS_ENOMEM, file, ename, "out of memory for %llu bytes",
		                (unsigned long long)want);
	zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
	if (!zf) {
		free(buf);
		return hus_errf(err, HUS_EINPUT, file, ename, "cannot open entry: %s", zip_strerror(za));
	}
	uint64_t got = 0;
	for (;;) {
		/* read one byte past `want`: a stream longer than declared is refused */
		zip_int64_t r = zip_fread(zf, buf + got, want + 1 - got);
		if (r < 0) {
			int rc = hus_errf(err, HUS_EINPUT, file, ename, "cannot inflate entry: %s",
			                  zip_error_strerror(zip_file_get_error(zf)));
			zip_fclose(zf);
			free(buf);
			return rc;
		}
		if (r == 0)
			break;
		got += (uint64_t)r;
		if (got > want)
			break;
	}
	zip_fclose(zf);
	if (got != want) {
		free(buf);
		return hus_errf(err, HUS_EINPUT, file, ename,
		                "entry inflated to %s%llu bytes, expected %llu", got > want ? "more than " : "",
		                (unsigned long long)(got > want ? want : got), (unsigned long long)want);
	}
	*out = buf;
	return 0;
}

static int bad_entry_name(const char *s)
{
	if (!*s || s[0] == '/' || strchr(s, '\\'))
		return 1;
	for (const char *c = s; *c;) {
		size_t len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return 1;
		c += len;
		if (*c == '/')
			c++;
	}
	return 0;
}

/* integer storages (Int 4 bytes, Long 8 bytes, little-endian two's complement) go to ints */
static void gather(float *dst, int64_t *ints, const unsigned char *src, const struct pt_tensor *t,
                   int elsize, int bf16)
{
	size_t idx[H5_MAX_RANK] = { 0 };
	for (size_t e = 0; e < t->t.numel; e++) {
		uint64_t off = t->offset;
		for (int d = 0; d < t->t.rank; d++)
			off += idx[d] * t->stride[d];
		const unsigned char *s = src + off * (uint64_t)elsize;
		if (ints) {
			uint64_t u = 0;
			for (int b = elsize - 1; b >= 0; b--)
				u = u << 8 | s[b];
			if (elsize == 4)
				ints[e] = (int64_t)(int32_t)(uint32_t)u;
			else
				memcpy(&ints[e], &u, 8);
		} else if (elsize == 4) {
			uint32_t u = (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
			             (uint32_t)s[3] << 24;
			memcpy(&dst[e], &u, 4);
		} else {
			uint16_t h = (uint16_t)(s[0] | s[1] << 8);
			dst[e] = bf16 ? imp_bf16_to_f32(h) : imp_f16_to_f32(h);
		}
		for (int d = t->t.rank - 1; d >= 0; d--) {
			if (++idx[d] < t->t.dims[d])
				break;
			idx[d] = 0;
		}
	}
}

static int by_storage_key(const void *a, const void *b)
{
	const struct pt_tensor *x = *(struct pt_tensor *const *)a, *y = *(struct pt_tensor *const *)b;
	return strcmp(x->storage->s, y->storage->s);
}

/* Storages are read once per key however many tensors view them (torch writes one
 * persistent id per tensor, shared storages under one key); all ids of a key must agree on
 * type and size.  Storage bytes and tensor outputs are each capped at PT_MAX_TOTAL. */
static int load_tensors(struct pt_doc *doc, zip_t *za, const char *prefix, const char *file,
                        struct hus_err *err)
{
	size_t nt = 0;
	for (size_t i = 0; i < doc->nvals; i++)
		nt += doc->vals[i]->kind == PT_TENSOR && doc->vals[i]->tensor &&
		      ((struct pt_tensor *)doc->vals[i]->tensor)->storage->i != G_BOOL;
	if (!nt)
		return 0;
	struct pt_tensor **ts = malloc(nt * sizeof(*ts));
	if (!ts)
		return hus_errf(err, HUS_ENOMEM, file, NULL, "out of memory");
	nt = 0;
	for (size_t i = 0; i < doc->nvals; i++) {
		struct pt_value *v = doc->vals[i];
		if (v->kind == PT_TENSOR && v->tensor &&
		    ((struct pt_tensor *)v->tensor)->storage->i != G_BOOL)
			ts[nt++] = (struct pt_tensor *)v->tensor;
	}
	qsort(ts, nt, sizeof(*ts), by_storage_key);
	uint64_t total = 0, out_total = 0;
	int rc = 0;
	unsigned char *raw = NULL;
	for (size_t i = 0; i < nt && !rc;) {
		struct pt_value *st = ts[i]->storage;
		int g = (int)st->i, es = pt_globals[g].elsize;
		char ename[512];
		snprintf(ename, sizeof(ename), "%s/data/%s", prefix, st->s);
		size_t j = i;
		for (; j < nt && !strcmp(ts[j]->storage->s, st->s); j++)
			if (ts[j]->storage->i != st->i || ts[j]->storage->n != st->n) {
				rc = hus_errf(err, HUS_EINPUT, file, ename,
				              "storage '%s' declared with different types or sizes", st->s);
				break;
			}
		if (rc)
			break;
		zip_int64_t idx = zip_name_locate(za, ename, 0);
		if (idx < 0) {
			rc = hus_errf(err, HUS_EINPUT, file, ename, "storage entry missing");
			break;
		}
		if (st->n > (PT_MAX_TOTAL - total) / (uint64_t)es) {
			rc = hus_errf(err, HUS_EINPUT, file, ename, "storages exceed the %zu-byte cap",
			              PT_MAX_TOTAL);
			break;
		}
		uint64_t want = (uint64_t)st->n * (uint64_t)es;
		total += want;
		if ((rc = read_entry(za, idx, file, ename, want, &raw, err)))
			break;
		for (; i < j; i++) {
			struct pt_tensor *t = ts[i];
			int integer = g == G_INT || g == G_LONG;
			size_t outsize = integer ? sizeof(int64_t) : sizeof(float);
			if (t->t.numel > (PT_MAX_TOTAL - out_total) / outsize) {
				rc = hus_errf(err, HUS_EINPUT, file, ename,
				              "tensor views exceed the %zu-byte cap", PT_MAX_TOTAL);
				break;
			}
			out_total += t->t.numel * outsize;
			void *dst = malloc(t->t.numel ? t->t.numel * (integer ? 8 : 4) : 1);
			if (!dst) {
				rc = hus_errf(err, HUS_ENOMEM, file, ename, "out of memory");
				break;
			}
			if (integer)
				t->t.ints = dst;
			else
				t->t.data = dst;
			gather(t->t.data, t->t.ints, raw, t, es, g == G_BF16);
		}
		free(raw);
		raw = NULL;
	}
	free(ts);
	return rc;
}

int pt_read_buf(struct pt_doc **out, const void *buf, size_t n, const char *file,
                struct hus_err *err)
{
	const unsigned char *b = buf;
	if (n >= 2 && b[0] == 0x80 && b[1] <= 5)
		return hus_errf(err, HUS_EINPUT, file, NULL,
		                "legacy torch serialization (torch < 1.6, a bare pickle) is not "
		                "supported; re-save it with torch.save from torch >= 1.6");
	if (n < 4 || memcmp(b, "PK\x03\x04", 4))
		return hus_errf(err, HUS_EINPUT, file, NULL,
		                "not a torch zip archive (expected the 'PK' zip signature)");
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(buf, n, 0, &ze);
	if (!src) {
		int rc = zip_err(file, NULL, &ze, err);
		zip_error_fini(&ze);
		return rc;
	}
	zip_t *za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!za) {
		zip_source_free(src);
		int rc = zip_err(file, NULL, &ze, err);
		zip_error_fini(&ze);
		return rc;
	}
	zip_error_fini(&ze);
	int rc = 0;
	struct pt_doc *doc = NULL;
	unsigned char *pkl = NULL;
	char prefix[256] = "";
	zip_int64_t pkl_idx = -1;
	zip_int64_t ne = zip_get_num_entries(za, 0);
	for (zip_int64_t e = 0; e < ne; e++) {
		const char *name = zip_get_name(za, (zip_uint64_t)e, ZIP_FL_ENC_RAW);
		if (!name) {
			rc = hus_errf(err, HUS_EINPUT, file, NULL, "unnamed zip entry %lld", (long long)e);
			goto cleanup;
		}
		if (bad_entry_name(name)) {
			rc = hus_errf(err, HUS_EINPUT, file, name,
			              "refusing zip entry name (absolute, '..' component or backslash: "
			              "path traversal)");
			goto cleanup;
		}
		const char *slash = strchr(name, '/');
		if (slash && !strcmp(slash, "/data.pkl") && (size_t)(slash - name) < sizeof(prefix)) {
			if (pkl_idx >= 0) {
				rc = hus_errf(err, HUS_EINPUT, file, name, "more than one data.pkl");
				goto cleanup;
			}
			pkl_idx = e;
			memcpy(prefix, name, (size_t)(slash - name));
			prefix[slash - name] = 0;
		}
	}
	if (pkl_idx < 0) {
		rc = hus_errf(err, HUS_EINPUT, file, NULL, "no '<archive>/data.pkl' entry: not a torch.save file");
		goto cleanup;
	}
	char bo[300];
	snprintf(bo, sizeof(bo), "%s/byteorder", prefix);
	zip_int64_t bo_idx = zip_name_locate(za, bo, 0);
	if (bo_idx >= 0) {
		unsigned char *s = NULL;
		if ((rc = read_entry(za, bo_idx, file, bo, 6, &s, err))) {
			if ((rc = read_entry(za, bo_idx, file, bo, 3, &s, err)))
				goto cleanup;
		}
		int little = !memcmp(s, "little", 6);
		free(s);
		if (!little) {
			rc = hus_errf(err, HUS_EINPUT, file, bo, "big-endian torch archive not supported");
			goto cleanup;
		}
	}
	zip_stat_t st;
	zip_stat_init(&st);
	if (zip_stat_index(za, (zip_uint64_t)pkl_idx, 0, &st) || !(st.valid & ZIP_STAT_SIZE)) {
		rc = hus_errf(err, HUS_EINPUT, file, "data.pkl", "cannot stat data.pkl");
		goto cleanup;
	}
	if (st.size > PT_MAX_PICKLE) {
		rc = hus_errf(err, HUS_EINPUT, file, "data.pkl",
		              "data.pkl inflates to %llu bytes, above the %u-byte cap (zip bomb?)",
		              (unsigned long long)st.size, PT_MAX_PICKLE);
		goto cleanup;
	}
	if ((rc = read_entry(za, pkl_idx, file, "data.pkl", st.size, &pkl, err)))
		goto cleanup;
	if (!(doc = calloc(1, sizeof(*doc)))) {
		rc = hus_errf(err, HUS_ENOMEM, file, NULL, "out of memory");
		goto cleanup;
	}
	struct pt_value *root = NULL;
	if ((rc = pt_run_pickle(doc, pkl, (size_t)st.size, file, &root, err)))
		goto cleanup;
	if ((rc = load_tensors(doc, za, prefix, file, err)))
		goto cleanup;
	doc->root = root;
	*out = doc;
	doc = NULL;
cleanup:
	free(pkl);
	pt_free(doc);
	zip_discard(za);
	return rc;
}

int pt_read_file(struct pt_doc **doc, const char *path, struct hus_err *err)
{
	char *buf;
	size_t n;
	int rc = hus_read_file(path, &buf, &n, err);
	if (rc)
		return rc;
	rc = pt_read_buf(doc, buf, n, path, err);
	free(buf);
	return rc;
}
