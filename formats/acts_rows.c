/*
 * acts_rows.c — reading an activation set (docs/artifacts.md "Activation set") a range of rows
 * at a time, for the streamed SAE trainer (train/sae_batches.c), whose sets need not fit in
 * memory.  The open checks what acts_read checks of the file's frame (format, version,
 * /activations float32 of rank 2 with N, d >= 1, the /stats scalars); each read checks its rows
 * are finite and names the first bad one, as acts_read does for the whole matrix.  The task
 * columns of an extracted set are not read: training uses /activations alone.  Also the
 * first rows of a set (acts_head_read), for the analysis's activation agreement and a
 * planted set's ground-truth rows: only those rows are read.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "formats.h"

struct acts_rows {
	struct h5r *r;
	size_t N, d;
};

int acts_rows_open(struct acts_rows **out, const char *path, size_t *N, size_t *d,
                   struct hus_err *err)
{
	struct acts_rows *a = calloc(1, sizeof(*a));
	if (!a)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	int rc = h5r_open(&a->r, path, HUS_FORMAT_ACTIVATIONS, 2, err);
	enum h5_type type;
	int rank = 0;
	size_t dims[H5_MAX_RANK] = { 0 };
	double st;
	if (!rc)
		rc = h5r_shape(a->r, "/activations", &type, &rank, dims, err);
	if (!rc && (type != HUS_F32 || rank != 2))
		rc = hus_errf(err, HUS_EINPUT, path, "/activations",
			      "expected float32 of rank 2 (rows, d_model), found %s of rank %d",
			      type == HUS_F64 ? "float64" : "another type", rank);
	if (!rc && (dims[0] == 0 || dims[1] == 0))
		rc = hus_errf(err, HUS_EINPUT, path, "/activations", "empty activation set");
	const char *stats[4] = { "/stats/mean", "/stats/std", "/stats/min", "/stats/max" };
	for (int i = 0; i < 4 && !rc; i++)
		rc = h5r_read(a->r, stats[i], HUS_F64, &st, 1, 0, NULL, err);
	if (rc) {
		acts_rows_close(a);
		return rc;
	}
	a->N = *N = dims[0];
	a->d = *d = dims[1];
	*out = a;
	return 0;
}

int acts_rows_read(struct acts_rows *a, size_t row0, size_t n, float *out, struct hus_err *err)
{
	int rc = h5r_read_rows(a->r, "/activations", HUS_F32, row0, n, a->d, out, err);
	for (size_t i = 0; !rc && i < n; i++)
		for (size_t j = 0; j < a->d; j++)
			if (!isfinite(out[i * a->d + j])) {
				char where[64];
				snprintf(where, sizeof(where), "/activations[%zu]", row0 + i);
				return hus_errf(err, HUS_EINPUT, h5r_path(a->r), where,
						"non-finite value in row %zu, column %zu", row0 + i, j);
			}
	return rc;
}

void acts_rows_close(struct acts_rows *a)
{
	if (!a)
		return;
	h5r_close(a->r);
	free(a);
}

int acts_head_read(const char *path, size_t max_rows, float **X, size_t *rows, size_t *d,
                   struct hus_err *err)
{
	struct acts_rows *a = NULL;
	size_t N = 0;
	int rc = acts_rows_open(&a, path, &N, d, err);
	if (rc)
		return rc;
	size_t n = N < max_rows ? N : max_rows;
	float *x = n ? malloc(sizeof(float) * n * *d) : NULL;
	if (!x)
		rc = hus_errf(err, n ? HUS_ENOMEM : HUS_EINPUT, path, "/activations",
			      n ? "out of memory for %zu rows of %zu" : "no rows asked for (%zu of %zu)",
			      n, *d);
	else
		rc = acts_rows_read(a, 0, n, x, err);
	acts_rows_close(a);
	if (rc) {
		free(x);
		return rc;
	}
	*X = x;
	*rows = n;
	return 0;
}
