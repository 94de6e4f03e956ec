/*
 * artifact_activations.c — the activation set (husai.activation_set v1, docs/decisions.md §10, docs/formulas.md §3):
 * /activations [N, d] float32 in the upstream row order, /example_index, /a, /b, /c, /pos
 * [N] int32, /stats/{mean, std, min, max} (float64 scalars, std unbiased, over all
 * elements), and every extraction choice as a root attribute, among them `rows`: "all" (every
 * example) or "train" (only the train part of the split, docs/formulas.md §1.4: train_simple_sae's
 * data; files written before the attribute existed mean all).  Writes are atomic; reads
 * validate format, version, shapes, finiteness (naming the bad row), that each row's a, b,
 * c and example index agree with the modulus, and that a train set holds exactly the first
 * floor(p² split_fraction) examples of the split permutation, in its order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define ACTS_FORMAT HUS_FORMAT_ACTIVATIONS
#define ACTS_VERSION 1

static void stats(const float *x, size_t n, double *mean, double *std, double *mn, double *mx)
{
	double s = 0.0, lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		s += x[i];
		if (x[i] < lo)
			lo = x[i];
		if (x[i] > hi)
			hi = x[i];
	}
	double m = n ? s / (double)n : NAN, ss = 0.0;
	for (size_t i = 0; i < n; i++)
		ss += ((double)x[i] - m) * ((double)x[i] - m);
	*mean = m;
	*std = n > 1 ? sqrt(ss / (double)(n - 1)) : NAN; /* unbiased, as torch.std (docs/formulas.md §3) */
	*mn = n ? lo : NAN;
	*mx = n ? hi : NAN;
}

int acts_write(const char *path, const struct acts_set *s, const struct hus_provenance *prov,
               struct hus_err *err)
{
	struct h5w *w = NULL;
	double mean, std, mn, mx;
	if (s->N == 0 || s->d == 0)
		return hus_errf(err, HUS_EINPUT, path, "/activations", "empty activation set");
	stats(s->x, s->N * s->d, &mean, &std, &mn, &mx);
	int rc = h5w_open(&w, path, ACTS_FORMAT, ACTS_VERSION, prov, err);
	if (rc)
		return rc;
	size_t dims[2] = { s->N, s->d }, n1[1] = { s->N };
	if (!rc) rc = h5w_f32(w, "/activations", s->x, 2, dims, err);
	if (!rc) rc = h5w_i32(w, "/example_index", s->example_index, 1, n1, err);
	if (!rc) rc = h5w_i32(w, "/a", s->a, 1, n1, err);
	if (!rc) rc = h5w_i32(w, "/b", s->b, 1, n1, err);
	if (!rc) rc = h5w_i32(w, "/c", s->c, 1, n1, err);
	if (!rc) rc = h5w_i32(w, "/pos", s->pos, 1, n1, err);
	if (!rc) rc = h5w_f64(w, "/stats/mean", &mean, 0, NULL, err);
	if (!rc) rc = h5w_f64(w, "/stats/std", &std, 0, NULL, err);
	if (!rc) rc = h5w_f64(w, "/stats/min", &mn, 0, NULL, err);
	if (!rc) rc = h5w_f64(w, "/stats/max", &mx, 0, NULL, err);
	if (!rc) rc = h5w_attr_str(w, "/", "hook", s->hook, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "layer", s->layer, err);
	if (!rc) rc = h5w_attr_str(w, "/", "position", s->position, err);
	if (!rc) rc = h5w_attr_str(w, "/", "answer_position", s->answer_position, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "modulus", s->modulus, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "split_seed", s->split_seed, err);
	if (!rc) rc = h5w_attr_f64(w, "/", "split_fraction", s->split_fraction, err);
	int train = !strcmp(s->rows, "train");
	if (!train && *s->rows && strcmp(s->rows, "all"))
		rc = hus_errf(err, HUS_EINPUT, path, "rows", "expected all or train, got '%s'", s->rows);
	if (!rc) rc = h5w_attr_str(w, "/", "rows", train ? "train" : "all", err);
	if (!rc) rc = h5w_attr_str(w, "/", "transformer_sha256", s->transformer_sha256, err);
	if (!rc) rc = h5w_attr_str(w, "/", "row_order",
	                           train ? "split permutation (torch randperm, split_seed): its train "
	                                   "part only, floor(p^2 split_fraction) examples (spec 1.4)"
	                                 : "split permutation (torch randperm, split_seed): train part "
	                                   "then val part (spec 3)", err);
	if (rc) {
		h5w_abort(w);
		return rc;
	}
	return h5w_commit(w, err);
}

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

int acts_read(const char *path, struct acts_set *s, struct hus_err *err)
{
	struct h5r *r = NULL;
	struct acts_set t;
	char where[64];
	memset(&t, 0, sizeof(t));
	int rc = h5r_open(&r, path, ACTS_FORMAT, ACTS_VERSION, err);
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
	int32_t **cols[5] = { &t.example_index, &t.a, &t.b, &t.c, &t.pos };
	const char *names[5] = { "/example_index", "/a", "/b", "/c", "/pos" };
	for (int i = 0; i < 5; i++) {
		size_t n1[1] = { t.N };
		if ((rc = h5r_read_alloc(r, names[i], HUS_I32, (void **)cols[i], 1, n1, err)))
			goto cleanup;
	}
	if ((rc = attr_copy(r, "hook", t.hook, sizeof(t.hook), err)) ||
	    (rc = attr_copy(r, "position", t.position, sizeof(t.position), err)) ||
	    (rc = attr_copy(r, "answer_position", t.answer_position, sizeof(t.answer_position), err)) ||
	    (rc = attr_copy(r, "transformer_sha256", t.transformer_sha256,
	                    sizeof(t.transformer_sha256), err)) ||
	    (rc = h5r_attr_i64(r, "/", "layer", &t.layer, err)) ||
	    (rc = h5r_attr_i64(r, "/", "modulus", &t.modulus, err)) ||
	    (rc = h5r_attr_i64(r, "/", "split_seed", &t.split_seed, err)) ||
	    (rc = h5r_attr_f64(r, "/", "split_fraction", &t.split_fraction, err)) ||
	    (rc = h5r_read(r, "/stats/mean", HUS_F64, &t.mean, 1, 0, NULL, err)) ||
	    (rc = h5r_read(r, "/stats/std", HUS_F64, &t.std, 1, 0, NULL, err)) ||
	    (rc = h5r_read(r, "/stats/min", HUS_F64, &t.min, 1, 0, NULL, err)) ||
	    (rc = h5r_read(r, "/stats/max", HUS_F64, &t.max, 1, 0, NULL, err)))
		goto cleanup;
	if (t.modulus < 2 || t.modulus > 46340) {
		rc = hus_errf(err, HUS_EINPUT, path, "modulus", "expected a modulus in [2, 46340], got %lld",
		              (long long)t.modulus);
		goto cleanup;
	}
	snprintf(t.rows, sizeof(t.rows), "all"); /* files without the attribute hold every row */
	if (h5r_has_attr(r, "/", "rows") &&
	    ((rc = attr_copy(r, "rows", t.rows, sizeof(t.rows), err)) ||
	     (rc = rows_check(path, &t, err))))
		goto cleanup;
	for (size_t i = 0; i < t.N; i++) {
		const float *row = t.x + i * t.d;
		for (size_t j = 0; j < t.d; j++)
			if (!isfinite(row[j])) {
				snprintf(where, sizeof(where), "/activations[%zu]", i);
				rc = hus_errf(err, HUS_EINPUT, path, where,
				              "non-finite value in row %zu, column %zu", i, j);
				goto cleanup;
			}
		int64_t p = t.modulus;
		if (t.a[i] < 0 || t.a[i] >= p || t.b[i] < 0 || t.b[i] >= p ||
		    t.c[i] != (t.a[i] + t.b[i]) % p || t.example_index[i] != t.a[i] * p + t.b[i] ||
		    t.pos[i] < 0 || t.pos[i] > 6) {
			snprintf(where, sizeof(where), "/example_index[%zu]", i);
			rc = hus_errf(err, HUS_EINPUT, path, where,
			              "row %zu: example %d, a %d, b %d, c %d, pos %d are inconsistent with "
			              "modulus %lld", i, t.example_index[i], t.a[i], t.b[i], t.c[i],
			              t.pos[i], (long long)p);
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
	free(s->example_index);
	free(s->a);
	free(s->b);
	free(s->c);
	free(s->pos);
	memset(s, 0, sizeof(*s));
}
