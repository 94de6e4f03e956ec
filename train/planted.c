/*
 * planted.c — the planted-feature generator (docs/formulas.md §10): an activation set drawn
 * from a known dictionary, inspired by SynthSAEBench (SAELens) and by the synthetic "model
 * organism" of Song et al.  n unit directions in R^d (torch.randn rows, optionally redrawn
 * until no pair is closer than a given |cos|), firing probabilities from a Zipf or uniform
 * law, an optional two-level hierarchy (a child fires only with its parent), optional
 * correlated groups (members share a uniform draw with probability rho), magnitudes from a
 * lognormal, uniform or constant law, optional dense Gaussian noise.  Every draw comes from
 * MT19937 streams in a fixed order and every function is husai's own (numeric/), so the bytes
 * depend on the parameters alone.  Two passes: the first counts the codes (so the file's
 * sizes are known), the second draws the same codes again and streams the rows to disk.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

#define PLANT_BLOCK 4096 /* most rows held in memory at once (the bytes never depend on it) */

static float unif(struct mt19937 *g) { return (float)(mt_next32(g) >> 8) * (1.0f / 16777216.0f); }

/* One standard normal (Box–Muller, cosine branch; husai's logf and cosf). */
static float normal(struct mt19937 *g)
{
	float u1 = 1.0f - unif(g), u2 = unif(g);
	return sqrtf(-2.0f * hus_logf(u1)) * hus_cosf(6.28318530717958647692f * u2);
}

int planted_spec_read(struct cfg *c, struct planted_spec *s, struct hus_err *err)
{
	static const char *const flaws[] = { "zipf", "uniform", NULL };
	static const char *const mlaws[] = { "lognormal", "uniform", "constant", NULL };
	memset(s, 0, sizeof(*s));
	int rc;
	if ((rc = cfg_int(c, "plant.features", 1024, 1, 1 << 24, &s->n, err)) ||
	    (rc = cfg_int(c, "plant.d", 128, 1, 1 << 16, &s->d, err)) ||
	    (rc = cfg_int(c, "plant.rows", 32768, 1, (int64_t)1 << 32, &s->rows, err)) ||
	    (rc = cfg_int(c, "plant.seed", 0, 0, UINT32_MAX - 8, &s->seed, err)) ||
	    (rc = cfg_f64_in(c, "plant.dictionary.max_abs_cos", 1.0, 0, 1, 1, 0, &s->max_abs_cos, err)) ||
	    (rc = cfg_str(c, "plant.frequency.law", "zipf", flaws, &s->freq_law, err)) ||
	    (rc = cfg_f64_in(c, "plant.frequency.l0", 16, 0, 1, INFINITY, 1, &s->l0, err)))
		return rc;
	if (!strcmp(s->freq_law, "zipf") &&
	    (rc = cfg_f64_in(c, "plant.frequency.exponent", 1.0, 0, 0, 8, 0, &s->zipf_exponent, err)))
		return rc;
	if ((rc = cfg_int(c, "plant.hierarchy.parents", 0, 0, 1 << 24, &s->parents, err)) ||
	    (rc = cfg_int(c, "plant.hierarchy.children", 0, 0, 1 << 24, &s->children, err)))
		return rc;
	if (s->parents && s->children &&
	    (rc = cfg_f64_in(c, "plant.hierarchy.child_prob", 0.5, 0, 0, 1, 0, &s->child_prob, err)))
		return rc;
	if ((rc = cfg_int(c, "plant.correlation.groups", 0, 0, 1 << 24, &s->groups, err)) ||
	    (rc = cfg_int(c, "plant.correlation.size", 0, 0, 1 << 24, &s->group_size, err)))
		return rc;
	if (s->groups && s->group_size &&
	    (rc = cfg_f64_in(c, "plant.correlation.rho", 0.5, 0, 0, 1, 0, &s->rho, err)))
		return rc;
	if ((rc = cfg_str(c, "plant.magnitude.law", "lognormal", mlaws, &s->mag_law, err)))
		return rc;
	if (!strcmp(s->mag_law, "lognormal")) {
		if ((rc = cfg_f64_in(c, "plant.magnitude.mu", 0.0, -10, 0, 10, 0, &s->mag_a, err)) ||
		    (rc = cfg_f64_in(c, "plant.magnitude.sigma", 0.5, 0, 0, 4, 0, &s->mag_b, err)))
			return rc;
	} else if (!strcmp(s->mag_law, "uniform")) {
		if ((rc = cfg_f64_in(c, "plant.magnitude.low", 0.5, 0, 0, 1e6, 0, &s->mag_a, err)) ||
		    (rc = cfg_f64_in(c, "plant.magnitude.high", 1.5, 0, 0, 1e6, 0, &s->mag_b, err)))
			return rc;
		if (s->mag_b < s->mag_a)
			return hus_errf(err, HUS_EINPUT, cfg_name(c), "plant.magnitude.high",
					"expected high >= low (%g), got %g", s->mag_a, s->mag_b);
	} else if ((rc = cfg_f64_in(c, "plant.magnitude.value", 1.0, 0, 1, 1e6, 0, &s->mag_a, err))) {
		return rc;
	}
	if ((rc = cfg_f64_in(c, "plant.noise_std", 0.0, 0, 0, 1e6, 0, &s->noise_std, err)))
		return rc;
	int64_t used = s->parents + s->parents * s->children + s->groups * s->group_size;
	if (used > s->n)
		return hus_errf(err, HUS_EINPUT, cfg_name(c), "plant.features",
				"the hierarchy (%" PRId64 " parents + %" PRId64 " children each) and the "
				"groups (%" PRId64 " x %" PRId64 ") need %" PRId64 " features, only %" PRId64
				" planted: raise plant.features or shrink them",
				s->parents, s->children, s->groups, s->group_size, used, s->n);
	return 0;
}

/* Unit rows of F (n, d): torch.randn((n, d)) seeded with seed, then, when max_abs_cos < 1,
 * row i redrawn (Box–Muller from MT19937 seeded seed + 1) while its |cos| with an earlier
 * row exceeds it (at most 1000 draws per row). */
static int make_dictionary(float *F, const struct planted_spec *s, struct hus_err *err)
{
	size_t n = (size_t)s->n, d = (size_t)s->d, numel = n * d, pad = (numel + 15) / 16 * 16;
	float *buf = malloc(sizeof(float) * (pad < 16 ? 16 : pad));
	if (!buf)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for the dictionary");
	torch_randn_f32(buf, pad < 16 ? 16 : pad, (uint64_t)s->seed);
	memcpy(F, buf, sizeof(float) * numel);
	free(buf);
	struct mt19937 g;
	mt_seed(&g, (uint32_t)(s->seed + 1));
	for (size_t i = 0; i < n; i++) {
		float *v = F + i * d;
		for (int tries = 0;; tries++) {
			float norm = sqrtf(hus_dot16(v, v, d));
			if (norm > 0)
				for (size_t j = 0; j < d; j++)
					v[j] /= norm;
			int ok = norm > 0;
			for (size_t k = 0; ok && s->max_abs_cos < 1.0 && k < i; k++)
				ok = fabsf(hus_dot16(v, F + k * d, d)) <= (float)s->max_abs_cos;
			if (ok)
				break;
			if (tries == 1000)
				return hus_errf(err, HUS_EINPUT, NULL, "plant.dictionary.max_abs_cos",
						"no direction for feature %zu within |cos| %g of the %zu "
						"before it after 1000 draws: raise max_abs_cos or plant "
						"fewer features in R^%zu", i, s->max_abs_cos, i, d);
			for (size_t j = 0; j < d; j++)
				v[j] = normal(&g);
		}
	}
	return 0;
}

/* The structure: parent[i], group[i] and p[i] (the firing probability of a root feature, or
 * a child's probability given its parent). */
static void make_structure(const struct planted_spec *s, double *p, double *marg, int32_t *parent,
                           int32_t *group)
{
	size_t n = (size_t)s->n, P = (size_t)s->parents, C = (size_t)s->children;
	size_t g0 = P + P * C;
	double wsum = 0.0;
	for (size_t i = 0; i < n; i++) {
		parent[i] = i >= P && i < g0 && C ? (int32_t)((i - P) / C) : -1;
		group[i] = -1;
		if (i >= g0 && s->group_size && (i - g0) / (size_t)s->group_size < (size_t)s->groups)
			group[i] = (int32_t)((i - g0) / (size_t)s->group_size);
		/* Zipf by rank: w_i = (i+1)^-a = exp(-a log(i+1)) */
		p[i] = !strcmp(s->freq_law, "zipf") ? hus_exp(-s->zipf_exponent * hus_log((double)(i + 1)))
						   : 1.0;
		if (parent[i] < 0)
			wsum += p[i];
	}
	for (size_t i = 0; i < n; i++) {
		if (parent[i] >= 0) {
			p[i] = s->child_prob;
			marg[i] = marg[parent[i]] * s->child_prob; /* parents come first */
		} else {
			p[i] = s->l0 * p[i] / wsum;
			if (p[i] > 1.0)
				p[i] = 1.0;
			marg[i] = p[i];
		}
	}
}

/* Draw row r's active features (increasing) into idx; returns the count.  One MT19937
 * stream (seed + 2) in a fixed order: the group draws, then one draw per feature (two for a
 * group member), whatever fires. */
static size_t draw_support(struct mt19937 *g, const struct planted_spec *s, const double *p,
                           const int32_t *parent, const int32_t *group, float *ug,
                           unsigned char *fired, int32_t *idx)
{
	size_t n = (size_t)s->n, k = 0;
	for (int64_t j = 0; j < s->groups; j++)
		ug[j] = unif(g);
	for (size_t i = 0; i < n; i++) {
		int f;
		if (parent[i] >= 0) {
			float u = unif(g);
			f = fired[parent[i]] && u < p[i];
		} else if (group[i] >= 0) {
			float u1 = unif(g), u2 = unif(g);
			f = (u1 < s->rho ? ug[group[i]] : u2) < p[i];
		} else {
			f = unif(g) < p[i];
		}
		fired[i] = (unsigned char)f;
		if (f)
			idx[k++] = (int32_t)i;
	}
	return k;
}

/* One magnitude from MT19937 stream seed + 3. */
static float magnitude(struct mt19937 *g, const struct planted_spec *s)
{
	if (!strcmp(s->mag_law, "lognormal"))
		return hus_expf((float)s->mag_a + (float)s->mag_b * normal(g));
	if (!strcmp(s->mag_law, "uniform"))
		return (float)s->mag_a + (float)(s->mag_b - s->mag_a) * unif(g);
	return (float)s->mag_a;
}

void planted_describe(const struct planted_spec *s, char *buf, size_t n)
{
	snprintf(buf, n,
		 "%" PRId64 " features in R^%" PRId64 ", %" PRId64 " rows, seed %" PRId64
		 "; directions torch.randn rows, unit, max |cos| %g; frequency %s (exponent %g), "
		 "expected root L0 %g; hierarchy %" PRId64 " parents x %" PRId64
		 " children (p %g given parent); groups %" PRId64 " x %" PRId64
		 " (rho %g); magnitude %s (%g, %g); noise std %g",
		 s->n, s->d, s->rows, s->seed, s->max_abs_cos, s->freq_law, s->zipf_exponent, s->l0,
		 s->parents, s->children, s->child_prob, s->groups, s->group_size, s->rho, s->mag_law,
		 s->mag_a, s->mag_b, s->noise_std);
}

int planted_generate(const char *out, const struct planted_spec *s,
                     const struct hus_provenance *prov, struct hus_err *err)
{
	size_t n = (size_t)s->n, d = (size_t)s->d, N = (size_t)s->rows;
	float *F = malloc(sizeof(float) * n * d), *D = malloc(sizeof(float) * n * d);
	double *p = malloc(sizeof(double) * n), *marg = malloc(sizeof(double) * n);
	int32_t *parent = malloc(sizeof(int32_t) * n), *group = malloc(sizeof(int32_t) * n);
	int32_t *idx = malloc(sizeof(int32_t) * n);
	unsigned char *fired = malloc(n);
	float *ug = malloc(sizeof(float) * (size_t)(s->groups + 1));
	/* rows per block: a block's codes fit even if every feature fires in every row */
	size_t B = ((size_t)1 << 22) / n;
	B = B < 1 ? 1 : B > PLANT_BLOCK ? PLANT_BLOCK : B;
	size_t bcap = B * n;
	float *X = malloc(sizeof(float) * B * d), *vals = malloc(sizeof(float) * bcap);
	int32_t *inds = malloc(sizeof(int32_t) * bcap);
	int64_t *rnnz = malloc(sizeof(int64_t) * B);
	struct planted_writer *w = NULL;
	int rc = 0;
	if (!F || !D || !p || !marg || !parent || !group || !idx || !fired || !ug || !X || !vals ||
	    !inds || !rnnz) {
		rc = hus_errf(err, HUS_ENOMEM, out, NULL, "out of memory for %zu features in R^%zu", n, d);
		goto done;
	}
	if ((rc = make_dictionary(F, s, err)))
		goto done;
	make_structure(s, p, marg, parent, group);
	for (size_t i = 0; i < n; i++) /* stored like an SAE's W_dec: column i = feature i */
		for (size_t j = 0; j < d; j++)
			D[j * n + i] = F[i * d + j];
	/* pass 1: count the codes */
	struct mt19937 gs, gm, gn;
	mt_seed(&gs, (uint32_t)(s->seed + 2));
	size_t nnz = 0;
	for (size_t r = 0; r < N; r++)
		nnz += draw_support(&gs, s, p, parent, group, ug, fired, idx);
	if (nnz > (size_t)INT32_MAX * 4) {
		rc = hus_errf(err, HUS_EINPUT, out, NULL, "%zu codes: too many, lower plant.frequency.l0", nnz);
		goto done;
	}
	if ((rc = planted_open(&w, out, N, d, n, nnz, prov, err)))
		goto done;
	/* pass 2: the same supports again, magnitudes, rows, noise; streamed by blocks */
	mt_seed(&gs, (uint32_t)(s->seed + 2));
	mt_seed(&gm, (uint32_t)(s->seed + 3));
	mt_seed(&gn, (uint32_t)(s->seed + 4));
	for (size_t r0 = 0; r0 < N && !rc; r0 += B) {
		size_t nb = N - r0 < B ? N - r0 : B, used = 0;
		for (size_t r = 0; r < nb; r++) {
			size_t k = draw_support(&gs, s, p, parent, group, ug, fired, idx);
			float *x = X + r * d;
			memset(x, 0, sizeof(float) * d);
			for (size_t q = 0; q < k; q++) {
				float m = magnitude(&gm, s);
				const float *f = F + (size_t)idx[q] * d;
				inds[used + q] = idx[q];
				vals[used + q] = m;
				for (size_t j = 0; j < d; j++)
					x[j] += m * f[j];
			}
			if (s->noise_std > 0)
				for (size_t j = 0; j < d; j++)
					x[j] += (float)s->noise_std * normal(&gn);
			rnnz[r] = (int64_t)k;
			used += k;
		}
		rc = planted_rows(w, X, nb, rnnz, inds, vals, err);
	}
	if (!rc) {
		char desc[1024];
		planted_describe(s, desc, sizeof(desc));
		struct planted_meta m = { D, marg, parent, group, desc };
		rc = planted_commit(w, &m, err);
		w = NULL;
	}
done:
	planted_abort(w);
	free(F), free(D), free(p), free(marg), free(parent), free(group), free(idx), free(fired);
	free(ug), free(X), free(vals), free(inds), free(rnnz);
	return rc;
}
