/*
 * artifact_activations.c — the activation set (husai.activation_set, docs/artifacts.md
 * "Activation set", docs/formulas.md §3).  Every set: /activations [N, d] float32,
 * /stats/{mean, std, min, max} (float64 scalars, std unbiased, over all elements), optional
 * /token_ids [N] int32 and the optional root attributes model, hook, layer, position and, for
 * an import, source_file, source_dataset, source_dtype, source_sha256.  The modular-addition
 * task adds /example_index, /a, /b, /c, /pos [N] int32 (all or none) and its attributes
 * (answer_position, modulus, split_seed, split_fraction, rows, transformer_sha256,
 * row_order); `rows` is "all" or "train" (only the train part of the split, docs/formulas.md
 * §1.4; files written before the attribute existed mean all).  Every dataset carries a
 * `description` and a `dims` attribute (its dimension names, comma-separated).  A set with
 * the task columns is version 1, one without version 2.  Writes are atomic, also the
 * streaming writer (acts_stream_*) that converts matrices larger than memory; reads validate
 * format, version, shapes, finiteness (naming the bad row), and with task columns that each
 * row's a, b, c and example index agree with the modulus and that a train set holds exactly
 * the first floor(p² split_fraction) examples of the split permutation, in its order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define ACTS_FORMAT HUS_FORMAT_ACTIVATIONS
#define ACTS_VERSION_TASK 1    /* with the task columns: what husai always wrote */
#define ACTS_VERSION_GENERIC 2 /* without them */

/* ---------------------------------------------------------------- statistics ------- */

void acts_stats_init(struct acts_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->lo = INFINITY;
	st->hi = -INFINITY;
}

void acts_stats_pass1(struct acts_stats *st, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		st->s += x[i];
		if (x[i] < st->lo)
			st->lo = x[i];
		if (x[i] > st->hi)
			st->hi = x[i];
	}
	st->n += n;
}

void acts_stats_pass2(struct acts_stats *st, const float *x, size_t n)
{
	double m = st->n ? st->s / (double)st->n : NAN;
	for (size_t i = 0; i < n; i++)
		st->ss += ((double)x[i] - m) * ((double)x[i] - m);
}

void acts_stats_result(const struct acts_stats *st, double *mean, double *std, double *mn,
                       double *mx)
{
	size_t n = st->n;
	*mean = n ? st->s / (double)n : NAN;
	*std = n > 1 ? sqrt(st->ss / (double)(n - 1)) : NAN; /* unbiased, as torch.std (docs/formulas.md §3) */
	*mn = n ? st->lo : NAN;
	*mx = n ? st->hi : NAN;
}

/* ---------------------------------------------------------------- writer ----------- */

int acts_has_task(const struct acts_set *s) { return s->a != NULL; }

int acts_require_task(const struct acts_set *s, const char *path, const char *what,
                      struct hus_err *err)
{
	if (acts_has_task(s))
		return 0;
	return hus_errf(err, HUS_EINPUT, path, "/a",
	                "%s needs the modular-addition task columns (/a, /b, /c, /example_index, "
	                "/pos), which this activation set does not have (an imported or planted "
	                "set); use an activation set made by `husai extract`", what);
}

static const char *const task_names[5] = { "/example_index", "/a", "/b", "/c", "/pos" };

/* What every dataset of an activation set holds (docs/artifacts.md "Activation set"). */
const struct h5_doc acts_doc[] = {
	{ "/activations", "row,d_model",
	  "the activation matrix: one row per example (token), d_model columns", NULL },
	{ "/token_ids", "row", "token id of each row (non-negative)", NULL },
	{ "/example_index", "row", "modular-addition example e = a*p + b of each row", NULL },
	{ "/a", "row", "first operand a of each row's example", NULL },
	{ "/b", "row", "second operand b of each row's example", NULL },
	{ "/c", "row", "answer c = (a + b) mod p of each row's example", NULL },
	{ "/pos", "row", "token position (0-6) the row was taken at", NULL },
	{ "/stats/mean", "", "mean over all N*d_model values", NULL },
	{ "/stats/std", "", "unbiased standard deviation over all values", NULL },
	{ "/stats/min", "", "smallest value", NULL },
	{ "/stats/max", "", "largest value", NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct h5_doc *const acts_tables[] = { acts_doc, NULL };

static int task_cols(const struct acts_set *s, const int32_t *cols[5])
{
	cols[0] = s->example_index, cols[1] = s->a, cols[2] = s->b, cols[3] = s->c, cols[4] = s->pos;
	int n = 0;
	for (int i = 0; i < 5; i++)
		n += cols[i] != NULL;
	return n;
}

/* Everything but /activations' values: checks, the stats, the columns and the attributes. */
static int write_rest(struct h5w *w, const char *path, const struct acts_set *s, double mean,
                      double std, double mn, double mx, struct hus_err *err)
{
	const int32_t *cols[5];
	int ntask = task_cols(s, cols), rc = 0;
	size_t n1[1] = { s->N };
	if (ntask == 5)
		for (int i = 0; i < 5 && !rc; i++)
			rc = h5w_i32(w, task_names[i], cols[i], 1, n1, err);
	if (!rc && s->token_ids)
		rc = h5w_i32(w, "/token_ids", s->token_ids, 1, n1, err);
	if (!rc) rc = h5w_f64(w, "/stats/mean", &mean, 0, NULL, err);
	if (!rc) rc = h5w_f64(w, "/stats/std", &std, 0, NULL, err);
	if (!rc) rc = h5w_f64(w, "/stats/min", &mn, 0, NULL, err);
	if (!rc) rc = h5w_f64(w, "/stats/max", &mx, 0, NULL, err);
	if (!rc) rc = h5w_describe_all(w, acts_tables, err);
	if (rc)
		return rc;
	if (ntask == 5) { /* exactly the attributes husai always wrote, in this order */
		if (!rc) rc = h5w_attr_str(w, "/", "hook", s->hook, err);
		if (!rc) rc = h5w_attr_i64(w, "/", "layer", s->layer, err);
		if (!rc) rc = h5w_attr_str(w, "/", "position", s->position, err);
		if (!rc) rc = h5w_attr_str(w, "/", "answer_position", s->answer_position, err);
		if (!rc) rc = h5w_attr_i64(w, "/", "modulus", s->modulus, err);
		if (!rc) rc = h5w_attr_i64(w, "/", "split_seed", s->split_seed, err);
		if (!rc) rc = h5w_attr_f64(w, "/", "split_fraction", s->split_fraction, err);
		int train = !strcmp(s->rows, "train");
		if (!rc && !train && *s->rows && strcmp(s->rows, "all"))
			rc = hus_errf(err, HUS_EINPUT, path, "rows", "expected all or train, got '%s'", s->rows);
		if (!rc) rc = h5w_attr_str(w, "/", "rows", train ? "train" : "all", err);
		if (!rc) rc = h5w_attr_str(w, "/", "transformer_sha256", s->transformer_sha256, err);
		if (!rc) rc = h5w_attr_str(w, "/", "row_order",
		                           train ? "split permutation (torch randperm, split_seed): its train "
		                                   "part only, floor(p^2 split_fraction) examples (spec 1.4)"
		                                 : "split permutation (torch randperm, split_seed): train part "
		                                   "then val part (spec 3)", err);
	} else {
		if (!rc && *s->hook) rc = h5w_attr_str(w, "/", "hook", s->hook, err);
		if (!rc && s->layer >= 0) rc = h5w_attr_i64(w, "/", "layer", s->layer, err);
		if (!rc && *s->position) rc = h5w_attr_str(w, "/", "position", s->position, err);
	}
	const char *opt[5][2] = { { "model", s->model },
				  { "source_file", s->source_file },
				  { "source_dataset", s->source_dataset },
				  { "source_dtype", s->source_dtype },
				  { "source_sha256", s->source_sha256 } };
	for (int i = 0; i < 5 && !rc; i++)
		if (*opt[i][1])
			rc = h5w_attr_str(w, "/", opt[i][0], opt[i][1], err);
	return rc;
}

static int check_shape(const char *path, const struct acts_set *s, struct hus_err *err)
{
	const int32_t *cols[5];
	int ntask = task_cols(s, cols);
	if (s->N == 0 || s->d == 0)
		return hus_errf(err, HUS_EINPUT, path, "/activations", "empty activation set");
	if (ntask != 0 && ntask != 5)
		return hus_errf(err, HUS_EINTERNAL, path, "/a",
		                "the task columns come all five or none (%d given)", ntask);
	return 0;
}

int acts_write(const char *path, const struct acts_set *s, const struct hus_provenance *prov,
               struct hus_err *err)
{
	struct h5w *w = NULL;
	struct acts_stats st;
	double mean, std, mn, mx;
	int rc = check_shape(path, s, err);
	if (rc)
		return rc;
	acts_stats_init(&st);
	acts_stats_pass1(&st, s->x, s->N * s->d);
	acts_stats_pass2(&st, s->x, s->N * s->d);
	acts_stats_result(&st, &mean, &std, &mn, &mx);
	rc = h5w_open(&w, path, ACTS_FORMAT, acts_has_task(s) ? ACTS_VERSION_TASK : ACTS_VERSION_GENERIC,
	              prov, err);
	if (rc)
		return rc;
	size_t dims[2] = { s->N, s->d };
	rc = h5w_f32(w, "/activations", s->x, 2, dims, err);
	if (!rc)
		rc = write_rest(w, path, s, mean, std, mn, mx, err);
	if (rc) {
		h5w_abort(w);
		return rc;
	}
	return h5w_commit(w, err);
}

struct acts_stream {
	struct h5w *w;
	struct acts_set meta; /* x NULL; columns borrowed from the caller */
	char path[4096];
	size_t written;
};

int acts_stream_open(struct acts_stream **out, const char *path, const struct acts_set *meta,
                     const struct hus_provenance *prov, struct hus_err *err)
{
	int rc = check_shape(path, meta, err);
	if (rc)
		return rc;
	struct acts_stream *st = calloc(1, sizeof(*st));
	if (!st)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	st->meta = *meta;
	snprintf(st->path, sizeof(st->path), "%s", path);
	size_t dims[2] = { meta->N, meta->d };
	if ((rc = h5w_open(&st->w, path, ACTS_FORMAT,
	                   acts_has_task(meta) ? ACTS_VERSION_TASK : ACTS_VERSION_GENERIC, prov, err))) {
		free(st);
		return rc;
	}
	if ((rc = h5w_create(st->w, "/activations", HUS_F32, 2, dims, err))) {
		acts_stream_abort(st);
		return rc;
	}
	*out = st;
	return 0;
}

int acts_stream_rows(struct acts_stream *st, const float *x, size_t nrows, struct hus_err *err)
{
	if (st->written + nrows > st->meta.N)
		return hus_errf(err, HUS_EINTERNAL, st->path, "/activations",
		                "more rows than the %zu announced", st->meta.N);
	int rc = h5w_write_rows(st->w, "/activations", HUS_F32, st->written, nrows, x, err);
	if (!rc)
		st->written += nrows;
	return rc;
}

int acts_stream_commit(struct acts_stream *st, const struct acts_stats *stats,
                       struct hus_err *err)
{
	double mean, std, mn, mx;
	int rc = 0;
	if (st->written != st->meta.N)
		rc = hus_errf(err, HUS_EINTERNAL, st->path, "/activations",
		              "%zu rows written of the %zu announced", st->written, st->meta.N);
	acts_stats_result(stats, &mean, &std, &mn, &mx);
	if (!rc)
		rc = write_rest(st->w, st->path, &st->meta, mean, std, mn, mx, err);
	if (rc) {
		acts_stream_abort(st);
		return rc;
	}
	rc = h5w_commit(st->w, err);
	free(st);
	return rc;
}

void acts_stream_abort(struct acts_stream *st)
{
	if (!st)
		return;
	h5w_abort(st->w);
	free(st);
}

/* ---------------------------------------------------------------- reader ----------- */

static int attr_copy(struct h5r *r, const char *name, char *dst, size_t cap, struct hus_err *err)
{
	char *v = NULL;
	int rc = h5r_attr_str(r, "/", name, &v, err);
	if (rc)
		return rc;
	if (strlen(v) >= cap)
		rc = hus_errf(err, HUS_EINPUT, h5r_path(r), name, "attribute longer than %zu bytes",
		              cap - 1);
	else
		memcpy(dst, v, strlen(v) + 1);
	free(v);
	return rc;
}

/* an optional string attribute: left "" when absent */
static int attr_opt(struct h5r *r, const char *name, char *dst, size_t cap, struct hus_err *err)
{
	*dst = 0;
	return h5r_has_attr(r, "/", name) ? attr_copy(r, name, dst, cap, err) : 0;
}

/* `rows` is all or train; a train set holds the train part of the split permutation (spec
 * §1.4), floor(p² split_fraction) examples (× 7 for position all, sample-major), in order. */
static int rows_check(const char *path, const struct acts_set *t, struct hus_err *err)
{
	if (!strcmp(t->rows, "all"))
		return 0;
	if (strcmp(t->rows, "train"))
		return hus_errf(err, HUS_EINPUT, path, "rows", "expected all or train, got '%s'", t->rows);
	if (!(t->split_fraction > 0.0 && t->split_fraction < 1.0) || t->split_seed < 0)
		return hus_errf(err, HUS_EINPUT, path, "split_fraction",
		                "rows train needs a split fraction in (0, 1), got %g", t->split_fraction);
	size_t N = (size_t)(t->modulus * t->modulus), npos = strcmp(t->position, "all") ? 1 : 7;
	size_t n_train = (size_t)floor((double)N * t->split_fraction); /* Python int(N f) */
	if (t->N != n_train * npos)
		return hus_errf(err, HUS_EINPUT, path, "/activations",
		                "rows train: expected %zu rows (floor(%zu x %g)%s), found %zu",
		                n_train * npos, N, t->split_fraction, npos > 1 ? " x 7 positions" : "",
		                t->N);
	int64_t *perm = malloc(N * sizeof(int64_t));
	if (!perm)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	torch_randperm(perm, (int64_t)N, (uint64_t)t->split_seed);
	int rc = 0;
	for (size_t i = 0; i < t->N && !rc; i++)
		if (t->example_index[i] != perm[i / npos]) {
			char where[64];
			snprintf(where, sizeof(where), "/example_index[%zu]", i);
			rc = hus_errf(err, HUS_EINPUT, path, where,
			              "rows train: expected example %lld (the split permutation's entry "
			              "%zu, split_seed %lld), found %d", (long long)perm[i / npos], i / npos,
			              (long long)t->split_seed, t->example_index[i]);
		}
	free(perm);
	return rc;
}

/* The task part: all five columns or none; with them the task attributes and row checks. */
static int read_task(struct h5r *r, const char *path, struct acts_set *t, struct hus_err *err)
{
	int present = 0;
	for (int i = 0; i < 5; i++)
		present += h5r_has(r, task_names[i]);
	if (present == 0) {
		t->layer = -1;
		int rc = attr_opt(r, "hook", t->hook, sizeof(t->hook), err);
		if (!rc) rc = attr_opt(r, "position", t->position, sizeof(t->position), err);
		if (!rc && h5r_has_attr(r, "/", "layer"))
			rc = h5r_attr_i64(r, "/", "layer", &t->layer, err);
		return rc;
	}
	int32_t **cols[5] = { &t->example_index, &t->a, &t->b, &t->c, &t->pos };
	for (int i = 0; i < 5; i++) {
		if (!h5r_has(r, task_names[i]))
			return hus_errf(err, HUS_EINPUT, path, task_names[i],
			                "missing: the task columns /example_index, /a, /b, /c, /pos come "
			                "all five or none");
		size_t n1[1] = { t->N };
		int rc = h5r_read_alloc(r, task_names[i], HUS_I32, (void **)cols[i], 1, n1, err);
		if (rc)
			return rc;
	}
	int rc;
	if ((rc = attr_copy(r, "hook", t->hook, sizeof(t->hook), err)) ||
	    (rc = attr_copy(r, "position", t->position, sizeof(t->position), err)) ||
	    (rc = attr_copy(r, "answer_position", t->answer_position, sizeof(t->answer_position), err)) ||
	    (rc = attr_copy(r, "transformer_sha256", t->transformer_sha256,
	                    sizeof(t->transformer_sha256), err)) ||
	    (rc = h5r_attr_i64(r, "/", "layer", &t->layer, err)) ||
	    (rc = h5r_attr_i64(r, "/", "modulus", &t->modulus, err)) ||
	    (rc = h5r_attr_i64(r, "/", "split_seed", &t->split_seed, err)) ||
	    (rc = h5r_attr_f64(r, "/", "split_fraction", &t->split_fraction, err)))
		return rc;
	if (t->modulus < 2 || t->modulus > 46340)
		return hus_errf(err, HUS_EINPUT, path, "modulus", "expected a modulus in [2, 46340], got %lld",
		                (long long)t->modulus);
	snprintf(t->rows, sizeof(t->rows), "all"); /* files without the attribute hold every row */
	if (h5r_has_attr(r, "/", "rows") &&
	    ((rc = attr_copy(r, "rows", t->rows, sizeof(t->rows), err)) ||
	     (rc = rows_check(path, t, err))))
		return rc;
	int64_t p = t->modulus;
	for (size_t i = 0; i < t->N; i++)
		if (t->a[i] < 0 || t->a[i] >= p || t->b[i] < 0 || t->b[i] >= p ||
		    t->c[i] != (t->a[i] + t->b[i]) % p || t->example_index[i] != t->a[i] * p + t->b[i] ||
		    t->pos[i] < 0 || t->pos[i] > 6) {
			char where[64];
			snprintf(where, sizeof(where), "/example_index[%zu]", i);
			return hus_errf(err, HUS_EINPUT, path, where,
			                "row %zu: example %d, a %d, b %d, c %d, pos %d are inconsistent with "
			                "modulus %lld", i, t->example_index[i], t->a[i], t->b[i], t->c[i],
			                t->pos[i], (long long)p);
		}
	return 0;
}

int acts_file_has_task(const char *path, struct hus_err *err)
{
	struct h5r *r = NULL;
	int rc = h5r_open(&r, path, ACTS_FORMAT, ACTS_VERSION_GENERIC, err);
	if (rc)
		return -rc;
	int has = h5r_has(r, "/a");
	h5r_close(r);
	return has;
}

int acts_read(const char *path, struct acts_set *s, struct hus_err *err)
{
	struct h5r *r = NULL;
	struct acts_set t;
	memset(&t, 0, sizeof(t));
	int rc = h5r_open(&r, path, ACTS_FORMAT, ACTS_VERSION_GENERIC, err);
	if (rc)
		return rc;
	size_t dims[2] = { 0, 0 };
	if ((rc = h5r_read_alloc(r, "/activations", HUS_F32, (void **)&t.x, 2, dims, err)))
		goto cleanup;
	t.N = dims[0];
	t.d = dims[1];
	if (t.N == 0 || t.d == 0) {
		rc = hus_errf(err, HUS_EINPUT, path, "/activations", "empty activation set");
		goto cleanup;
	}
	if ((rc = read_task(r, path, &t, err)))
		goto cleanup;
	if (h5r_has(r, "/token_ids")) {
		size_t n1[1] = { t.N };
		if ((rc = h5r_read_alloc(r, "/token_ids", HUS_I32, (void **)&t.token_ids, 1, n1, err)))
			goto cleanup;
	}
	if ((rc = attr_opt(r, "model", t.model, sizeof(t.model), err)) ||
	    (rc = attr_opt(r, "source_file", t.source_file, sizeof(t.source_file), err)) ||
	    (rc = attr_opt(r, "source_dataset", t.source_dataset, sizeof(t.source_dataset), err)) ||
	    (rc = attr_opt(r, "source_dtype", t.source_dtype, sizeof(t.source_dtype), err)) ||
	    (rc = attr_opt(r, "source_sha256", t.source_sha256, sizeof(t.source_sha256), err)) ||
	    (rc = h5r_read(r, "/stats/mean", HUS_F64, &t.mean, 1, 0, NULL, err)) ||
	    (rc = h5r_read(r, "/stats/std", HUS_F64, &t.std, 1, 0, NULL, err)) ||
	    (rc = h5r_read(r, "/stats/min", HUS_F64, &t.min, 1, 0, NULL, err)) ||
	    (rc = h5r_read(r, "/stats/max", HUS_F64, &t.max, 1, 0, NULL, err)))
		goto cleanup;
	for (size_t i = 0; i < t.N; i++) {
		const float *row = t.x + i * t.d;
		for (size_t j = 0; j < t.d; j++)
			if (!isfinite(row[j])) {
				char where[64];
				snprintf(where, sizeof(where), "/activations[%zu]", i);
				rc = hus_errf(err, HUS_EINPUT, path, where,
				              "non-finite value in row %zu, column %zu", i, j);
				goto cleanup;
			}
	}
cleanup:
	h5r_close(r);
	if (rc)
		acts_release(&t);
	else
		*s = t;
	return rc;
}

void acts_release(struct acts_set *s)
{
	free(s->x);
	free(s->token_ids);
	free(s->example_index);
	free(s->a);
	free(s->b);
	free(s->c);
	free(s->pos);
	memset(s, 0, sizeof(*s));
}

/* What results.json says of the activation set a run used (docs/artifacts.md "The run's
 * results.json": `activation_set`): path, sha256, shape, task columns, provenance attributes. */
hj *acts_summary_json(const char *path, struct hus_err *err)
{
	struct h5r *h;
	if (h5r_open(&h, path, HUS_FORMAT_ACTIVATIONS, 2, err))
		return NULL;
	enum h5_type t;
	int rank;
	size_t dims[H5_MAX_RANK];
	char sha[65];
	hj *o = NULL;
	if (!h5r_shape(h, "/activations", &t, &rank, dims, err) && rank == 2 &&
	    !hus_sha256_file(path, sha, NULL, err)) {
		o = hj_obj();
		hj_set(o, "path", hj_str(path));
		hj_set(o, "sha256", hj_str(sha));
		hj_set(o, "rows", hj_int((int64_t)dims[0]));
		hj_set(o, "d_model", hj_int((int64_t)dims[1]));
		hj_set(o, "task_columns", hj_bool(h5r_has(h, "/a")));
		static const char *const keys[] = { "model", "hook", "position", "source_file",
						    "source_dataset", "source_dtype", "source_sha256" };
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char *v = NULL;
			if (h5r_has_attr(h, "/", keys[i]) && !h5r_attr_str(h, "/", keys[i], &v, err))
				hj_set(o, keys[i], hj_str(v));
			free(v);
		}
		int64_t layer;
		if (h5r_has_attr(h, "/", "layer") && !h5r_attr_i64(h, "/", "layer", &layer, err))
			hj_set(o, "layer", hj_int(layer));
	} else if (!err->code) {
		hus_errf(err, HUS_EINPUT, path, "/activations", "expected a 2-D matrix");
	}
	h5r_close(h);
	return o;
}
