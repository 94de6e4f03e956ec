/*
 * import_activations.c — `husai import-activations`: a matrix [N, d_model] from somewhere else
 * into a husai.activation_set without the task columns (docs/artifacts.md "Activation set").
 * Sources: a NumPy `.npy` (little-endian float16/32/64, C order, 2-D; the header dict is
 * validated), a tensor of a `.safetensors` file (F16, BF16, F32, F64), a dataset of an HDF5
 * file (`FILE.h5:/path`, any float type), and a torch `.pt` activation cache (a bare tensor, as
 * upstream's extractor saves it, or a dict of tensors; its `<stem>.meta.pt` sidecar is read
 * for layer, position and model).  The matrix is streamed in chunks of rows, never held whole:
 * a first pass checks every value is finite (naming the row) and sums for the statistics, a
 * second converts, writes and finishes the statistics (acts_stream_*), so a file larger than
 * memory converts and the statistics equal acts_write's bit for bit.  The source file's sha256
 * is recorded with its name, the tensor/dataset inside it and its dtype; model, hook, layer and
 * position come from flags or a sidecar JSON, the token id of each row from a 1-D integer
 * .npy (--token-ids; its length, dtype and signs checked before anything is written).  The
 * output is written atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "builtin.h"
#include "import_internal.h"

enum src_kind { SRC_NPY, SRC_ST, SRC_H5, SRC_PT };
enum src_dtype { DT_F16, DT_BF16, DT_F32, DT_F64 };
static const char *const dtype_names[] = { "float16", "bfloat16", "float32", "float64" };
static const size_t dtype_size[] = { 2, 2, 4, 8 };

/* A source opened for reading rows in order. */
struct src {
	enum src_kind kind;
	const char *path;         /* the file */
	char inner[256];          /* tensor / dataset / key inside it */
	size_t N, d;
	enum src_dtype dtype;
	/* raw little-endian sources (npy, safetensors, pt): bytes at `offset` of fd or zip entry */
	int fd;
	uint64_t offset;
	zip_t *za;
	zip_int64_t zidx;
	zip_file_t *zf;           /* open entry, read sequentially */
	uint64_t zpos;            /* bytes of the entry read so far */
	/* HDF5 */
	hid_t h5f, h5d;
	unsigned char *raw;       /* one chunk of raw bytes */
	size_t raw_cap;
};

/* ---------------------------------------------------------------- .npy ------------- */

/* What a .npy header says: {'descr': '<f4', 'fortran_order': False, 'shape': (N, d), } */
struct npy_head {
	char descr[16];   /* the dtype string, e.g. <f4 or <i8 */
	int rank;         /* 1 or 2 */
	uint64_t dims[2];
	uint64_t offset;  /* where the data starts */
	uint64_t size;    /* the file's size */
};

/* Read and validate the header of the .npy open at fd: magic, version, a dict with 'descr',
 * 'fortran_order' False and a shape of rank 1 or 2.  The caller checks the dtype, the rank and
 * that the data fits (npy_check_size). */
static int npy_header(int fd, const char *path, struct npy_head *nh, struct hus_err *err)
{
	unsigned char pre[12];
	struct stat stt;
	if (fstat(fd, &stt))
		return hus_errf(err, HUS_EIO, path, NULL, "cannot stat: %s", strerror(errno));
	ssize_t got = pread(fd, pre, sizeof(pre), 0);
	if (got < 10 || memcmp(pre, "\x93NUMPY", 6))
		return hus_errf(err, HUS_EINPUT, path, "magic",
		                "not a NumPy .npy file (expected the bytes \\x93NUMPY at the start)");
	int major = pre[6];
	uint64_t hlen, hstart;
	if (major == 1)
		hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8, hstart = 10;
	else if ((major == 2 || major == 3) && got >= 12)
		hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 |
		       (uint64_t)pre[11] << 24, hstart = 12;
	else
		return hus_errf(err, HUS_EINPUT, path, "version",
		                "unsupported .npy format version %d (expected 1, 2 or 3)", major);
	if (hlen > (1u << 20) || hstart + hlen > (uint64_t)stt.st_size)
		return hus_errf(err, HUS_EINPUT, path, "header",
		                "header length %llu does not fit in the file", (unsigned long long)hlen);
	char *h = malloc(hlen + 1);
	if (!h)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	if (pread(fd, h, hlen, (off_t)hstart) != (ssize_t)hlen) {
		free(h);
		return hus_errf(err, HUS_EIO, path, "header", "cannot read the header");
	}
	h[hlen] = 0;
	int rc = 0;
	const char *descr = strstr(h, "'descr':"), *fo = strstr(h, "'fortran_order':"),
		   *shape = strstr(h, "'shape':");
	unsigned long long a = 0, b = 0;
	int consumed = 0;
	memset(nh, 0, sizeof(*nh));
	if (h[0] != '{' || !descr || !fo || !shape)
		rc = hus_errf(err, HUS_EINPUT, path, "header",
		              "expected a dict with 'descr', 'fortran_order' and 'shape', found: %.80s", h);
	else if (sscanf(descr + 8, " '%15[^']'", nh->descr) != 1)
		rc = hus_errf(err, HUS_EINPUT, path, "header.descr", "expected a quoted dtype string");
	else if (strncmp(fo + 16 + strspn(fo + 16, " "), "False", 5))
		rc = hus_errf(err, HUS_EINPUT, path, "header.fortran_order",
		              "the array is in Fortran (column-major) order; save a C-ordered copy "
		              "(np.ascontiguousarray(x))");
	else if (sscanf(shape + 8, " (%llu ,%llu )%n", &a, &b, &consumed) == 2 && consumed)
		nh->rank = 2, nh->dims[0] = a, nh->dims[1] = b;
	else if (consumed = 0, sscanf(shape + 8, " (%llu , )%n", &a, &consumed) == 1 && consumed)
		nh->rank = 1, nh->dims[0] = a, nh->dims[1] = 1;
	else
		rc = hus_errf(err, HUS_EINPUT, path, "header.shape",
		              "expected a 1-D or 2-D shape, found: %.40s", shape + 8);
	free(h);
	nh->offset = hstart + hlen;
	nh->size = (uint64_t)stt.st_size;
	return rc;
}

/* The shape is non-empty and the file holds exactly its data, elements of `esize` bytes. */
static int npy_check_size(const struct npy_head *nh, const char *path, size_t esize,
                          struct hus_err *err)
{
	uint64_t n = nh->dims[0], d = nh->dims[1];
	if (n == 0 || d == 0 || n > ((uint64_t)1 << 40) / d)
		return hus_errf(err, HUS_EINPUT, path, "header.shape",
		                "shape (%llu, %llu) is empty or too large", (unsigned long long)n,
		                (unsigned long long)d);
	uint64_t want = nh->offset + n * d * esize;
	if (nh->size != want)
		return hus_errf(err, HUS_EINPUT, path, "data",
		                "file is %llu bytes, the header's shape of %llu x %llu %s needs %llu",
		                (unsigned long long)nh->size, (unsigned long long)n,
		                (unsigned long long)d, nh->descr, (unsigned long long)want);
	return 0;
}

/* The matrix source: 2-D, little-endian float16/32/64. */
static int npy_open(struct src *s, struct hus_err *err)
{
	struct npy_head nh;
	int rc = npy_header(s->fd, s->path, &nh, err);
	if (rc)
		return rc;
	if (!strcmp(nh.descr, "<f4"))
		s->dtype = DT_F32;
	else if (!strcmp(nh.descr, "<f2"))
		s->dtype = DT_F16;
	else if (!strcmp(nh.descr, "<f8"))
		s->dtype = DT_F64;
	else
		return hus_errf(err, HUS_EINPUT, s->path, "header.descr",
		                "dtype '%s' is not supported (expected little-endian float: <f2, <f4 or "
		                "<f8; convert with x.astype('<f4'))", nh.descr);
	if (nh.rank != 2)
		return hus_errf(err, HUS_EINPUT, s->path, "header.shape",
		                "expected a 2-D shape (rows, d_model), found a 1-D array of %llu",
		                (unsigned long long)nh.dims[0]);
	if ((rc = npy_check_size(&nh, s->path, dtype_size[s->dtype], err)))
		return rc;
	s->N = nh.dims[0], s->d = nh.dims[1];
	s->offset = nh.offset;
	return 0;
}

/* --token-ids: a 1-D little-endian int32 or int64 .npy of one non-negative id per row (at
 * most INT32_MAX: stored as /token_ids int32).  *ids is allocated; on error it is NULL and
 * err names the file and what was expected. */
static int token_ids_read(const char *path, size_t N, int32_t **ids, struct hus_err *err)
{
	*ids = NULL;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return hus_errf(err, HUS_EIO, path, NULL, "cannot open the token ids: %s", strerror(errno));
	struct npy_head nh;
	int rc = npy_header(fd, path, &nh, err);
	size_t es = !rc && !strcmp(nh.descr, "<i4") ? 4 : !rc && !strcmp(nh.descr, "<i8") ? 8 : 0;
	if (!rc && !es)
		rc = hus_errf(err, HUS_EINPUT, path, "header.descr",
		              "token ids of dtype '%s' are not supported (expected little-endian "
		              "integers: <i4 or <i8; convert with ids.astype('<i8'))", nh.descr);
	else if (!rc && (nh.rank != 1 || nh.dims[0] != N))
		rc = hus_errf(err, HUS_EINPUT, path, "header.shape",
		              "expected one token id per row of the activations, a 1-D array of %zu; "
		              "found %s %llu%s%llu", N, nh.rank == 1 ? "a 1-D array of" : "shape",
		              (unsigned long long)nh.dims[0], nh.rank == 1 ? "" : " x ",
		              nh.rank == 1 ? 0ull : (unsigned long long)nh.dims[1]);
	if (!rc)
		rc = npy_check_size(&nh, path, es, err);
	unsigned char *raw = !rc ? malloc(N * es) : NULL;
	int32_t *out = !rc ? malloc(N * sizeof(int32_t)) : NULL;
	if (!rc && (!raw || !out))
		rc = hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory for %zu token ids", N);
	for (size_t done = 0; !rc && done < N * es;) {
		ssize_t k = pread(fd, raw + done, N * es - done, (off_t)(nh.offset + done));
		if (k <= 0)
			rc = hus_errf(err, HUS_EIO, path, "data", "cannot read the token ids: %s",
			              k ? strerror(errno) : "file shorter than declared");
		else
			done += (size_t)k;
	}
	for (size_t i = 0; !rc && i < N; i++) { /* little-endian, byte by byte: any host */
		uint64_t u = 0;
		for (size_t k = es; k-- > 0;)
			u = u << 8 | raw[i * es + k];
		int64_t v = es == 4 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
		if (v < 0 || v > INT32_MAX) {
			char where[64];
			snprintf(where, sizeof(where), "[%zu]", i);
			rc = hus_errf(err, HUS_EINPUT, path, where,
			              "token id %lld of row %zu is not in [0, %d]", (long long)v, i,
			              INT32_MAX);
		} else
			out[i] = (int32_t)v;
	}
	close(fd);
	free(raw);
	if (rc)
		free(out);
	else
		*ids = out;
	return rc;
}

/* ---------------------------------------------------------------- .safetensors ----- */

static int st_open(struct src *s, const char *name, struct hus_err *err)
{
	unsigned char le[8];
	struct stat stt;
	if (fstat(s->fd, &stt) || pread(s->fd, le, 8, 0) != 8)
		return hus_errf(err, HUS_EINPUT, s->path, "header", "not a safetensors file (shorter than 8 bytes)");
	uint64_t hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | le[i];
	if (hlen > ST_MAX_HEADER || hlen + 8 > (uint64_t)stt.st_size)
		return hus_errf(err, HUS_EINPUT, s->path, "header",
		                "header length %llu does not fit in the file", (unsigned long long)hlen);
	char *h = malloc(hlen + 1);
	if (!h)
		return hus_errf(err, HUS_ENOMEM, s->path, NULL, "out of memory");
	if (pread(s->fd, h, hlen, 8) != (ssize_t)hlen) {
		free(h);
		return hus_errf(err, HUS_EIO, s->path, "header", "cannot read the header");
	}
	hj *root = NULL;
	int rc = hj_parse(h, hlen, s->path, &root, err);
	free(h);
	if (rc)
		return rc;
	uint64_t data_len = (uint64_t)stt.st_size - 8 - hlen;
	hj *t = NULL;
	const char *key = NULL, *only = NULL;
	size_t ntensors = 0;
	if (!hj_is_obj(root))
		rc = hus_errf(err, HUS_EINPUT, s->path, "header", "expected a JSON object");
	for (size_t i = 0; !rc; i++) {
		hj *v;
		const char *k = hj_obj_at(root, i, &v);
		if (!k)
			break;
		if (!strcmp(k, "__metadata__"))
			continue;
		ntensors++;
		only = k;
		if (name && !strcmp(k, name))
			key = k, t = v;
	}
	if (!rc && !name) {
		if (ntensors == 1)
			key = only, t = hj_member(root, only);
		else
			rc = hus_errf(err, HUS_EINPUT, s->path, NULL,
			              "the file holds %zu tensors: name one with --dataset (or FILE:NAME)",
			              ntensors);
	}
	if (!rc && !t)
		rc = hus_errf(err, HUS_EINPUT, s->path, name, "no tensor of that name in the file");
	const char *dt = !rc ? hj_get_str(t, "dtype") : NULL;
	hj *shape = !rc ? hj_get(t, "shape") : NULL, *offs = !rc ? hj_get(t, "data_offsets") : NULL;
	if (!rc && !dt)
		rc = hus_errf(err, HUS_EINPUT, s->path, key, "missing dtype");
	else if (!rc && !strcmp(dt, "F32"))
		s->dtype = DT_F32;
	else if (!rc && !strcmp(dt, "F16"))
		s->dtype = DT_F16;
	else if (!rc && !strcmp(dt, "BF16"))
		s->dtype = DT_BF16;
	else if (!rc && !strcmp(dt, "F64"))
		s->dtype = DT_F64;
	else if (!rc)
		rc = hus_errf(err, HUS_EINPUT, s->path, key,
		              "dtype %s is not supported (expected F16, BF16, F32 or F64)", dt);
	if (!rc && (!hj_is_arr(shape) || hj_len(shape) != 2 || !hj_is_arr(offs) || hj_len(offs) != 2))
		rc = hus_errf(err, HUS_EINPUT, s->path, key,
		              "expected a 2-D tensor (rows, d_model) with data_offsets [begin, end]");
	if (!rc) {
		double n = hj_as_f64(hj_at(shape, 0)), d = hj_as_f64(hj_at(shape, 1));
		double b = hj_as_f64(hj_at(offs, 0)), e = hj_as_f64(hj_at(offs, 1));
		if (!(n >= 1 && d >= 1 && n < 1e13 && d < 1e9 && b >= 0 && e >= b && e <= (double)data_len))
			rc = hus_errf(err, HUS_EINPUT, s->path, key,
			              "shape or data_offsets out of range (data area %llu bytes)",
			              (unsigned long long)data_len);
		else {
			s->N = (size_t)n, s->d = (size_t)d;
			s->offset = 8 + hlen + (uint64_t)b;
			if ((uint64_t)(e - b) != (uint64_t)s->N * s->d * dtype_size[s->dtype])
				rc = hus_errf(err, HUS_EINPUT, s->path, key,
				              "data_offsets span %.0f bytes, shape (%zu, %zu) of %s needs %llu",
				              e - b, s->N, s->d, dtype_names[s->dtype],
				              (unsigned long long)s->N * s->d * dtype_size[s->dtype]);
		}
		snprintf(s->inner, sizeof(s->inner), "%s", key);
	}
	hj_free(root);
	return rc;
}

/* ---------------------------------------------------------------- HDF5 ------------- */

static int h5_open_src(struct src *s, const char *dset, struct hus_err *err)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	s->h5f = H5Fopen(s->path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (s->h5f < 0)
		return hus_errf(err, HUS_EINPUT, s->path, NULL, "not a readable HDF5 file");
	if (!dset || !*dset)
		return hus_errf(err, HUS_EINPUT, s->path, NULL,
		                "name the dataset: FILE.h5:/path/to/dataset (or --dataset)");
	snprintf(s->inner, sizeof(s->inner), "%s", dset);
	if (H5Lexists(s->h5f, dset, H5P_DEFAULT) <= 0 ||
	    (s->h5d = H5Dopen2(s->h5f, dset, H5P_DEFAULT)) < 0)
		return hus_errf(err, HUS_EINPUT, s->path, dset, "no such dataset");
	hid_t t = H5Dget_type(s->h5d), sp = H5Dget_space(s->h5d);
	int rc = 0;
	hsize_t dims[2];
	if (H5Tget_class(t) != H5T_FLOAT)
		rc = hus_errf(err, HUS_EINPUT, s->path, dset, "expected a floating-point dataset");
	else if (H5Sget_simple_extent_ndims(sp) != 2 || H5Sget_simple_extent_dims(sp, dims, NULL) != 2 ||
	         !dims[0] || !dims[1])
		rc = hus_errf(err, HUS_EINPUT, s->path, dset, "expected a non-empty 2-D dataset (rows, d_model)");
	else {
		size_t sz = H5Tget_size(t);
		s->dtype = sz == 2 ? DT_F16 : sz == 8 ? DT_F64 : DT_F32;
		s->N = (size_t)dims[0], s->d = (size_t)dims[1];
	}
	H5Tclose(t);
	H5Sclose(sp);
	return rc;
}

/* ---------------------------------------------------------------- .pt -------------- */

static int pt_open_src(struct src *s, const char *key, struct hus_err *err)
{
	int ze = 0;
	s->za = zip_open(s->path, ZIP_RDONLY, &ze);
	if (!s->za)
		return hus_errf(err, HUS_EINPUT, s->path, NULL,
		                "not a torch .pt file (torch.save's zip archive): cannot open it as a zip");
	zip_int64_t n = zip_get_num_entries(s->za, 0), pkl = -1;
	char prefix[256] = "";
	for (zip_int64_t i = 0; i < n; i++) {
		const char *nm = zip_get_name(s->za, (zip_uint64_t)i, 0);
		size_t l = nm ? strlen(nm) : 0;
		if (l > 9 && !strcmp(nm + l - 9, "/data.pkl") && l - 9 < sizeof(prefix) && !strchr(nm, '\\') &&
		    !strstr(nm, "..") && nm[0] != '/') {
			pkl = i;
			snprintf(prefix, sizeof(prefix), "%.*s", (int)(l - 9), nm);
			break;
		}
	}
	if (pkl < 0)
		return hus_errf(err, HUS_EINPUT, s->path, "data.pkl", "no data.pkl in the archive");
	zip_stat_t st;
	zip_stat_init(&st);
	if (zip_stat_index(s->za, (zip_uint64_t)pkl, 0, &st) || !(st.valid & ZIP_STAT_SIZE) ||
	    st.size > PT_MAX_PICKLE)
		return hus_errf(err, HUS_EINPUT, s->path, "data.pkl", "unreadable or larger than %u bytes",
		                PT_MAX_PICKLE);
	unsigned char *buf = malloc(st.size ? st.size : 1);
	zip_file_t *zf = buf ? zip_fopen_index(s->za, (zip_uint64_t)pkl, 0) : NULL;
	int rc = 0;
	if (!zf || zip_fread(zf, buf, st.size) != (zip_int64_t)st.size)
		rc = hus_errf(err, HUS_EINPUT, s->path, "data.pkl", "cannot read the pickle");
	if (zf)
		zip_fclose(zf);
	struct pt_doc *doc = NULL;
	if (!rc)
		rc = pt_read_pickle(&doc, buf, st.size, s->path, err);
	free(buf);
	if (rc)
		return rc;
	struct pt_value *root = pt_root(doc), *tv = NULL;
	if (root && root->kind == PT_TENSOR)
		tv = root;
	else if (root && root->kind == PT_DICT) {
		size_t ntens = 0;
		for (size_t i = 0; i < root->n; i++) {
			struct pt_value *k = root->items[2 * i], *v = root->items[2 * i + 1];
			if (v->kind != PT_TENSOR || k->kind != PT_STR)
				continue;
			ntens++;
			if ((key && !strcmp(k->s, key)) || (!key && ntens == 1)) {
				tv = v;
				snprintf(s->inner, sizeof(s->inner), "%s", k->s);
			}
		}
		if (!key && ntens != 1)
			tv = NULL, rc = hus_errf(err, HUS_EINPUT, s->path, NULL,
			                         "the dict holds %zu tensors: name one with --dataset", ntens);
		else if (!tv)
			rc = hus_errf(err, HUS_EINPUT, s->path, key, "no tensor of that key in the dict");
	} else
		rc = hus_errf(err, HUS_EINPUT, s->path, "data.pkl",
		              "expected a tensor or a dict of tensors (an activation cache)");
	if (!rc) {
		struct pt_tensor *pt = (struct pt_tensor *)tv->tensor;
		const struct imp_tensor *t = &pt->t;
		int g = pt->storage ? (int)pt->storage->i : -1;
		if (t->rank != 2 || !t->dims[0] || !t->dims[1])
			rc = hus_errf(err, HUS_EINPUT, s->path, s->inner,
			              "expected a 2-D tensor (rows, d_model), found rank %d", t->rank);
		else if (g != G_FLOAT && g != G_HALF && g != G_BF16)
			rc = hus_errf(err, HUS_EINPUT, s->path, s->inner,
			              "expected a float32, float16 or bfloat16 tensor");
		else if (pt->stride[1] != 1 || pt->stride[0] != t->dims[1])
			rc = hus_errf(err, HUS_EINPUT, s->path, s->inner,
			              "the tensor is not contiguous (strides %llu, %llu): save "
			              "x.contiguous() instead",
			              (unsigned long long)pt->stride[0], (unsigned long long)pt->stride[1]);
		else {
			s->N = t->dims[0], s->d = t->dims[1];
			s->dtype = g == G_FLOAT ? DT_F32 : g == G_HALF ? DT_F16 : DT_BF16;
			size_t es = dtype_size[s->dtype];
			char ename[600];
			snprintf(ename, sizeof(ename), "%s/data/%s", prefix, pt->storage->s);
			s->zidx = zip_name_locate(s->za, ename, 0);
			zip_stat_init(&st);
			if (s->zidx < 0 || zip_stat_index(s->za, (zip_uint64_t)s->zidx, 0, &st) ||
			    !(st.valid & ZIP_STAT_SIZE))
				rc = hus_errf(err, HUS_EINPUT, s->path, ename, "storage entry missing");
			else if (st.size != (uint64_t)pt->storage->n * es ||
			         pt->offset + (uint64_t)s->N * s->d > (uint64_t)pt->storage->n)
				rc = hus_errf(err, HUS_EINPUT, s->path, ename,
				              "storage of %llu bytes does not hold the tensor's view",
				              (unsigned long long)st.size);
			else
				s->offset = pt->offset * es;
		}
	}
	pt_free(doc);
	return rc;
}

/* Read `n` bytes from the pt entry at byte `at` (sequential: at >= bytes read so far). */
static int pt_bytes(struct src *s, uint64_t at, void *out, size_t n, struct hus_err *err)
{
	if (!s->zf || at < s->zpos) {
		if (s->zf)
			zip_fclose(s->zf);
		s->zf = zip_fopen_index(s->za, (zip_uint64_t)s->zidx, 0);
		s->zpos = 0;
		if (!s->zf)
			return hus_errf(err, HUS_EINPUT, s->path, s->inner, "cannot open the storage");
	}
	unsigned char skip[4096];
	while (s->zpos < at) {
		uint64_t k = at - s->zpos < sizeof(skip) ? at - s->zpos : sizeof(skip);
		if (zip_fread(s->zf, skip, k) != (zip_int64_t)k)
			return hus_errf(err, HUS_EINPUT, s->path, s->inner, "storage shorter than declared");
		s->zpos += k;
	}
	if (zip_fread(s->zf, out, n) != (zip_int64_t)n)
		return hus_errf(err, HUS_EINPUT, s->path, s->inner, "storage shorter than declared");
	s->zpos += n;
	return 0;
}

/* ---------------------------------------------------------------- rows ------------- */

static int src_rows(struct src *s, size_t row0, size_t n, float *out, struct hus_err *err)
{
	size_t cnt = n * s->d, es = dtype_size[s->dtype];
	if (s->kind == SRC_H5) {
		hsize_t start[2] = { row0, 0 }, count[2] = { n, s->d };
		hid_t fs = H5Dget_space(s->h5d), ms = H5Screate_simple(2, count, NULL);
		int bad = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
			  H5Dread(s->h5d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, out) < 0;
		H5Sclose(ms);
		H5Sclose(fs);
		return bad ? hus_errf(err, HUS_EINPUT, s->path, s->inner, "cannot read rows %zu..%zu",
		                      row0, row0 + n)
			   : 0;
	}
	if (cnt * es > s->raw_cap) {
		free(s->raw);
		s->raw_cap = cnt * es;
		if (!(s->raw = malloc(s->raw_cap)))
			return hus_errf(err, HUS_ENOMEM, s->path, NULL, "out of memory");
	}
	uint64_t at = s->offset + (uint64_t)row0 * s->d * es;
	if (s->kind == SRC_PT) {
		int rc = pt_bytes(s, at, s->raw, cnt * es, err);
		if (rc)
			return rc;
	} else {
		size_t done = 0;
		while (done < cnt * es) {
			ssize_t k = pread(s->fd, s->raw + done, cnt * es - done, (off_t)(at + done));
			if (k <= 0)
				return hus_errf(err, HUS_EIO, s->path, NULL, "cannot read rows %zu..%zu: %s",
				                row0, row0 + n, k ? strerror(errno) : "file shorter than declared");
			done += (size_t)k;
		}
	}
	const unsigned char *b = s->raw;
	for (size_t i = 0; i < cnt; i++) { /* little-endian, byte by byte: any host */
		if (s->dtype == DT_F32) {
			uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
				     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
			memcpy(&out[i], &u, 4);
		} else if (s->dtype == DT_F64) {
			uint64_t u = 0;
			for (int k = 7; k >= 0; k--)
				u = u << 8 | b[8 * i + (size_t)k];
			double v;
			memcpy(&v, &u, 8);
			out[i] = (float)v; /* round to nearest, as numpy's astype(float32) */
		} else {
			uint16_t u = (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
			out[i] = s->dtype == DT_F16 ? imp_f16_to_f32(u) : imp_bf16_to_f32(u);
		}
	}
	return 0;
}

static void src_close(struct src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->zf)
		zip_fclose(s->zf);
	if (s->za)
		zip_discard(s->za);
	if (s->h5d > 0)
		H5Dclose(s->h5d);
	if (s->h5f > 0)
		H5Fclose(s->h5f);
	free(s->raw);
}

/* ---------------------------------------------------------------- metadata --------- */

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* {"model": ..., "hook": ..., "layer": ..., "position": ...}: unknown keys are an error */
static int sidecar_json(const char *path, struct acts_set *m, struct hus_err *err)
{
	hj *v = NULL;
	int rc = hj_read_file(path, &v, err);
	if (rc)
		return rc;
	if (!hj_is_obj(v))
		rc = hus_errf(err, HUS_EINPUT, path, NULL, "expected a JSON object");
	for (size_t i = 0; !rc; i++) {
		hj *x;
		const char *k = hj_obj_at(v, i, &x);
		if (!k)
			break;
		char *dst = !strcmp(k, "model") ? m->model : !strcmp(k, "hook") ? m->hook
			    : !strcmp(k, "position") ? m->position : NULL;
		size_t cap = !strcmp(k, "model") ? sizeof(m->model) : !strcmp(k, "hook") ? sizeof(m->hook)
			     : sizeof(m->position);
		if (dst) {
			const char *sv = hj_get_str(v, k);
			if (!sv || strlen(sv) >= cap)
				rc = hus_errf(err, HUS_EINPUT, path, k, "expected a string under %zu bytes", cap);
			else
				snprintf(dst, cap, "%s", sv);
		} else if (!strcmp(k, "layer")) {
			if (hj_kind_of(x) != HJ_INT || hj_get_i64(v, k, &m->layer) || m->layer < 0)
				rc = hus_errf(err, HUS_EINPUT, path, k, "expected a non-negative integer");
		} else
			rc = hus_errf(err, HUS_EINPUT, path, k,
			              "unknown key (expected model, hook, layer or position)");
	}
	hj_free(v);
	return rc;
}

/* upstream's `<stem>.meta.pt` beside a `.pt` cache: model_path, layer, position (hook: always
 * blocks.<layer>.hook_resid_post, docs/formulas.md §3) */
static int sidecar_meta_pt(const char *src, struct acts_set *m, struct hus_err *err)
{
	char meta[4200];
	snprintf(meta, sizeof(meta), "%.*s.meta.pt", (int)(strlen(src) - 3), src);
	if (!hus_file_exists(meta))
		return 0;
	struct pt_doc *doc = NULL;
	int rc = pt_read_file(&doc, meta, err);
	if (rc)
		return rc;
	struct pt_value *root = pt_root(doc), *v;
	if ((v = pt_get(root, "layer")) && v->kind == PT_INT && m->layer < 0) {
		m->layer = v->i;
		if (!*m->hook)
			snprintf(m->hook, sizeof(m->hook), "blocks.%lld.hook_resid_post", (long long)v->i);
	}
	if ((v = pt_get(root, "position")) && v->kind == PT_STR && !*m->position)
		snprintf(m->position, sizeof(m->position), "%s", v->s);
	if ((v = pt_get(root, "model_path")) && v->kind == PT_STR && !*m->model)
		snprintf(m->model, sizeof(m->model), "%s", v->s);
	pt_free(doc);
	printf("read metadata from %s\n", meta);
	return 0;
}

/* ---------------------------------------------------------------- conversion ------- */

static int convert(struct src *s, const char *out, const struct acts_set *meta, size_t chunk,
                   struct hus_err *err)
{
	float *buf = malloc(chunk * s->d * sizeof(float));
	if (!buf)
		return hus_errf(err, HUS_ENOMEM, out, NULL, "cannot allocate a chunk of %zu rows", chunk);
	struct acts_stats st;
	struct acts_stream *w = NULL;
	struct hus_progress pg;
	int rc = 0;
	acts_stats_init(&st);
	hus_progress_begin(&pg, "check", s->N);
	for (size_t r0 = 0; r0 < s->N && !rc; r0 += chunk) { /* pass 1: finite values, sum, range */
		size_t n = s->N - r0 < chunk ? s->N - r0 : chunk;
		if ((rc = src_rows(s, r0, n, buf, err)))
			break;
		for (size_t i = 0; i < n * s->d && !rc; i++)
			if (!isfinite(buf[i])) {
				char where[300];
				snprintf(where, sizeof(where), "%s[%zu]", s->inner[0] ? s->inner : "rows",
				         r0 + i / s->d);
				rc = hus_errf(err, HUS_EINPUT, s->path, where,
				              "non-finite value in row %zu, column %zu", r0 + i / s->d, i % s->d);
			}
		acts_stats_pass1(&st, buf, n * s->d);
		hus_progress_update(&pg, r0 + n, NULL);
	}
	hus_progress_end(&pg);
	if (!rc)
		rc = acts_stream_open(&w, out, meta, NULL, err);
	hus_progress_begin(&pg, "convert", s->N);
	for (size_t r0 = 0; r0 < s->N && !rc; r0 += chunk) { /* pass 2: write, deviations */
		size_t n = s->N - r0 < chunk ? s->N - r0 : chunk;
		if (!(rc = src_rows(s, r0, n, buf, err)) && !(rc = acts_stream_rows(w, buf, n, err)))
			acts_stats_pass2(&st, buf, n * s->d);
		hus_progress_update(&pg, r0 + n, NULL);
	}
	hus_progress_end(&pg);
	free(buf);
	if (rc) {
		acts_stream_abort(w);
		return rc;
	}
	return acts_stream_commit(w, &st, err);
}

static const char *const usage_lines[] = {
	"usage: husai import-activations [--dataset <name>] [--model <m>] [--hook <h>]",
	"                                [--layer <n>] [--position <p>] [--meta <meta.json>]",
	"                                [--token-ids <ids.npy>] [--chunk-rows <n>] [--force]",
	"                                --out <set.h5> <src>",
	"",
	"Convert an activation matrix (rows = tokens or examples, columns = d_model) into a",
	"husai activation set that `husai train-sae`, `husai run` (experiment.activations) and",
	"`husai analyze --activations` read.  <src> is one of:",
	"  X.npy                a NumPy array, float16/32/64, 2-D, C order (np.save)",
	"  X.safetensors[:NAME] a 2-D tensor (F16, BF16, F32, F64); NAME needed when it holds several",
	"  X.h5:/PATH           a 2-D floating-point dataset of any HDF5 file (also .hdf5)",
	"  X.pt[:KEY]           a torch.save'd tensor, as upstream's extract_activations.py writes",
	"                       it (its X.meta.pt gives layer, position, model), or a dict of tensors",
	"The file is read in chunks, never whole: files larger than memory convert.  Values are",
	"stored as float32; a NaN or infinity is refused, naming the row.  The set records the",
	"source file's name, sha256 and dtype, and the metadata below.",
	"",
	"    --dataset <name>   the tensor / dataset / key inside <src> (same as <src>:<name>)",
	"    --model <m>        the model the activations come from (e.g. gpt2)",
	"    --hook <h>         the hook (e.g. blocks.6.hook_resid_post)",
	"    --layer <n>        the layer (0-based)",
	"    --position <p>     which token positions the rows are (free text)",
	"    --meta <file>      a JSON sidecar {\"model\", \"hook\", \"layer\", \"position\"};",
	"                       flags win over it",
	"    --token-ids <ids.npy>",
	"                       the token id of each row: a 1-D integer .npy (<i4 or <i8) of one",
	"                       non-negative id per row, stored as /token_ids",
	"    --chunk-rows <n>   rows per chunk (default: about 8 MB worth)",
	"    --force            overwrite <set.h5>",
	"    --out <set.h5>     the activation set to write",
	NULL,
};

int import_activations_run(const struct import_acts_request *q, struct acts_set *m,
                           struct hus_err *err)
{
	char path[4096], inner[256] = "";
	snprintf(path, sizeof(path), "%s", q->source);
	/* FILE:NAME, unless FILE:NAME is itself an existing file */
	char *colon = strrchr(path, ':');
	if (colon && !hus_file_exists(path)) {
		*colon = 0;
		snprintf(inner, sizeof(inner), "%s", colon + 1);
	}
	if (q->dataset) {
		if (*inner && strcmp(inner, q->dataset))
			return hus_errf(err, HUS_EUSAGE, NULL, NULL, "import-activations: --dataset %s and "
			                "%s:%s disagree", q->dataset, path, inner);
		snprintf(inner, sizeof(inner), "%s", q->dataset);
	}
	if (!q->force && hus_file_exists(q->out))
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "import-activations: '%s' exists (use "
		                "--force to overwrite)", q->out);
	struct src s;
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	s.path = path;
	if (ends_with(path, ".npy"))
		s.kind = SRC_NPY;
	else if (ends_with(path, ".safetensors"))
		s.kind = SRC_ST;
	else if (ends_with(path, ".h5") || ends_with(path, ".hdf5") || ends_with(path, ".hdf"))
		s.kind = SRC_H5;
	else if (ends_with(path, ".pt") || ends_with(path, ".pth"))
		s.kind = SRC_PT;
	else
		return hus_errf(err, HUS_EUSAGE, NULL, NULL, "import-activations: %s: unknown kind of "
		                "file (expected .npy, .safetensors, .h5 or .pt)", path);
	if (!hus_file_exists(path))
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "import-activations: %s: no such file", path);
	if (s.kind == SRC_NPY && *inner)
		return hus_errf(err, HUS_EUSAGE, NULL, NULL, "import-activations: a .npy file holds one "
		                "array: drop '%s'", inner);
	int rc;
	if ((s.kind == SRC_NPY || s.kind == SRC_ST) && (s.fd = open(path, O_RDONLY)) < 0)
		rc = hus_errf(err, HUS_EIO, path, NULL, "cannot open: %s", strerror(errno));
	else if (s.kind == SRC_NPY)
		rc = npy_open(&s, err);
	else if (s.kind == SRC_ST)
		rc = st_open(&s, *inner ? inner : NULL, err);
	else if (s.kind == SRC_H5)
		rc = h5_open_src(&s, inner, err);
	else
		rc = pt_open_src(&s, *inner ? inner : NULL, err);
	memset(m, 0, sizeof(*m));
	m->layer = -1;
	if (!rc && q->meta)
		rc = sidecar_json(q->meta, m, err);
	if (!rc && s.kind == SRC_PT)
		rc = sidecar_meta_pt(path, m, err);
	if (!rc) {
		if (q->model) snprintf(m->model, sizeof(m->model), "%s", q->model);
		if (q->hook) snprintf(m->hook, sizeof(m->hook), "%s", q->hook);
		if (q->position) snprintf(m->position, sizeof(m->position), "%s", q->position);
		if (q->layer >= 0) m->layer = q->layer;
		m->N = s.N, m->d = s.d;
		if (strlen(path) >= sizeof(m->source_file))
			rc = hus_errf(err, HUS_EINPUT, path, NULL,
				      "the path is longer than %zu characters: move or link the file "
				      "somewhere shorter", sizeof(m->source_file) - 1);
		else
			memcpy(m->source_file, path, strlen(path) + 1);
		if (!rc && strlen(s.inner) >= sizeof(m->source_dataset))
			rc = hus_errf(err, HUS_EINPUT, path, NULL,
				      "the dataset or tensor name is longer than %zu characters",
				      sizeof(m->source_dataset) - 1);
		else if (!rc)
			memcpy(m->source_dataset, s.inner, strlen(s.inner) + 1);
		snprintf(m->source_dtype, sizeof(m->source_dtype), "%s", dtype_names[s.dtype]);
		if (!rc)
			rc = hus_sha256_file(path, m->source_sha256, NULL, err);
	}
	if (!rc && q->token_ids)
		rc = token_ids_read(q->token_ids, m->N, &m->token_ids, err);
	if (!rc) {
		size_t rows = q->chunk_rows > 0 ? (size_t)q->chunk_rows
		                                : (size_t)(8u << 20) / (s.d * sizeof(float));
		rc = convert(&s, q->out, m, rows ? rows : 1, err);
	}
	src_close(&s);
	free(m->token_ids);
	m->token_ids = NULL;
	return rc;
}

int cmd_import_activations(int argc, char **argv)
{
	struct import_acts_request q = { .layer = -1 };
	const struct hus_opt opts[] = {
		HUS_OPT_STR("dataset", 0, &q.dataset),   HUS_OPT_STR("model", 0, &q.model),
		HUS_OPT_STR("hook", 0, &q.hook),         HUS_OPT_I64("layer", 0, &q.layer, 0, INT64_MAX),
		HUS_OPT_STR("position", 0, &q.position), HUS_OPT_STR("meta", 0, &q.meta),
		HUS_OPT_STR("token-ids", 0, &q.token_ids),
		HUS_OPT_I64("chunk-rows", 0, &q.chunk_rows, 1, INT64_MAX),
		HUS_OPT_FLAG("force", 0, &q.force),      HUS_OPT_STR("out", 0, &q.out),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "import-activations", usage_lines, opts, 0, -1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if (!q.out || first != argc - 1)
		return hus_cli_misuse(&cli, "expected --out <set.h5> and one source file");
	q.source = argv[first];
	struct hus_err err = { 0 };
	struct acts_set m;
	int rc = import_activations_run(&q, &m, &err);
	if (rc) {
		hus_err_print(&err);
		return hus_err_status(err.code);
	}
	printf("imported %s%s%s -> %s: %zu rows x %zu (%s), sha256 %.12s…\n", m.source_file,
	       *m.source_dataset ? ":" : "", m.source_dataset, q.out, m.N, m.d, m.source_dtype,
	       m.source_sha256);
	return 0;
}
