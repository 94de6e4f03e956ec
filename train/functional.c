/*
 * functional.c — functional consistency of matched SAE features on husai's own transformer
 * (docs/formulas.md §11): the held-out rows at the hook (the last layer's resid_post at the
 * answer position), each SAE's reconstruction spliced into the model's head, the per-feature
 * substitution test (seed A's latent i replaced by seed B's matched latent, against a random
 * unmatched one) and per-feature ablation fingerprints with their agreement across a pair.
 *
 * Every number goes through the model's own head (tf_forward_head: final LN, canonical
 * products, husai's exp/log) and is summed in row order in double, so it does not depend on
 * threads or the instruction set.  Only rows where an edited latent fires are recomputed; the
 * others contribute exactly 0 to a difference.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

#define FN_CHUNK 256 /* rows per head evaluation (a row's bits never depend on it) */

/* Lowest-index argmax of each of B rows of V logits equal to its label (docs/formulas.md A12). */
static void rows_correct(uint8_t *ok, const float *logits, size_t B, size_t V, const int32_t *lab)
{
	for (size_t b = 0; b < B; b++) {
		const float *z = logits + b * V;
		size_t arg = 0;
		for (size_t j = 1; j < V; j++)
			if (z[j] > z[arg])
				arg = j;
		ok[b] = arg == (size_t)lab[b];
	}
}

int fn_model_init(struct fn_model *m, const struct tf_config *cfg, float *params,
                  struct hus_err *err)
{
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	const size_t p = (size_t)cfg->p, N = p * p, T = (size_t)cfg->answer_index + 1;
	const size_t n_train = ds_train_size(N, cfg->train_fraction);
	m->n = N - n_train;
	m->d = (size_t)cfg->d_model;
	m->V = p + 4;
	if (m->n == 0)
		return hus_errf(err, HUS_EINPUT, NULL, "data.train_fraction",
		                "the transformer's split keeps no validation example (fraction %g)",
		                cfg->train_fraction);
	int32_t *all = malloc(N * DS_SEQ_LEN * sizeof(int32_t)), *lab = malloc(N * sizeof(int32_t));
	int64_t *perm = malloc(N * sizeof(int64_t));
	m->tokens = malloc(m->n * DS_SEQ_LEN * sizeof(int32_t));
	m->labels = malloc(m->n * sizeof(int32_t));
	m->h = malloc(m->n * m->d * sizeof(float));
	uint8_t *ok = malloc(FN_CHUNK);
	int rc = 0;
	if (!all || !lab || !perm || !m->tokens || !m->labels || !m->h || !ok) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for %zu rows", m->n);
		goto out;
	}
	if ((rc = tf_work_alloc(&m->w, cfg, FN_CHUNK, T, 1, err)))
		goto out;
	tf_params_view(&m->pv, params, cfg);
	tf_pack_qkv(&m->w, &m->pv, cfg);
	ds_examples(all, lab, cfg->p);
	ds_split(perm, N, (uint64_t)cfg->split_seed); /* docs/formulas.md §1.4: val = the tail */
	for (size_t i = 0; i < m->n; i++) {
		size_t e = (size_t)perm[n_train + i];
		memcpy(m->tokens + i * DS_SEQ_LEN, all + e * DS_SEQ_LEN, DS_SEQ_LEN * sizeof(int32_t));
		m->labels[i] = lab[e];
	}
	double loss = 0.0;
	int64_t correct = 0;
	const size_t L = (size_t)cfg->n_layers;
	for (size_t s0 = 0; s0 < m->n; s0 += FN_CHUNK) {
		size_t B = m->n - s0 < FN_CHUNK ? m->n - s0 : FN_CHUNK;
		tf_forward(&m->w, &m->pv, cfg, m->tokens + s0 * DS_SEQ_LEN, DS_SEQ_LEN, B,
		           m->labels + s0, NULL, NULL);
		memcpy(m->h + s0 * m->d, m->w.x[L], B * m->d * sizeof(float));
		rows_correct(ok, m->w.logits, B, m->V, m->labels + s0);
		for (size_t b = 0; b < B; b++) {
			loss += m->w.rowloss[b];
			correct += ok[b];
		}
	}
	m->clean_loss = loss / (double)m->n;
	m->clean_acc = (double)correct / (double)m->n;
out:
	free(all), free(lab), free(perm), free(ok);
	if (rc)
		fn_model_release(m);
	return rc;
}

void fn_model_release(struct fn_model *m)
{
	tf_work_release(&m->w);
	free(m->tokens), free(m->labels), free(m->h);
	memset(m, 0, sizeof(*m));
}

int fn_model_check_acts(const struct fn_model *m, const struct acts_set *s, const char *path,
                        const char *tf_sha256, struct hus_err *err)
{
	const struct tf_config *c = &m->cfg;
	int rc = acts_require_task(s, path, "the functional test", err);
	if (rc)
		return rc;
	if (s->transformer_sha256[0] && tf_sha256 && strcmp(s->transformer_sha256, tf_sha256))
		return hus_errf(err, HUS_EINPUT, path, "transformer_sha256",
		                "the set was extracted from another transformer (sha256 %.12s…, the "
		                "given checkpoint is %.12s…)", s->transformer_sha256, tf_sha256);
	int at_answer = !strcmp(s->position, "answer") ||
	                (!strcmp(s->position, "equals") && c->answer_index == 4);
	if (strcmp(s->hook, "resid_post") || s->layer != c->n_layers - 1 || !at_answer)
		return hus_errf(err, HUS_EINPUT, path, "hook",
		                "the functional test needs the last layer's resid_post at the answer "
		                "position (layer %lld); this set holds %s of layer %lld at %s",
		                (long long)(c->n_layers - 1), s->hook, (long long)s->layer, s->position);
	if (s->modulus != c->p || s->d != m->d)
		return hus_errf(err, HUS_EINPUT, path, "modulus",
		                "the set has p %lld, d %zu; the transformer p %lld, d_model %zu",
		                (long long)s->modulus, s->d, (long long)c->p, m->d);
	/* the set's rows of the held-out examples must be the model's own hook rows, bit for bit */
	const size_t p = (size_t)c->p, N = p * p;
	int32_t *where = malloc(N * sizeof(int32_t));
	if (!where)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	for (size_t e = 0; e < N; e++)
		where[e] = -1;
	for (size_t i = 0; i < m->n; i++) {
		const int32_t *t = m->tokens + i * DS_SEQ_LEN;
		where[(size_t)t[1] * p + (size_t)t[3]] = (int32_t)i;
	}
	for (size_t r = 0; r < s->N && !rc; r++) {
		int32_t e = s->example_index[r];
		if (e < 0 || (size_t)e >= N || where[e] < 0)
			continue;
		if (memcmp(s->x + r * m->d, m->h + (size_t)where[e] * m->d, m->d * sizeof(float)))
			rc = hus_errf(err, HUS_EINPUT, path, "/activations",
			              "row %zu (example %d) differs from the transformer's own hook "
			              "value: the set was not extracted from this checkpoint", r, e);
	}
	free(where);
	return rc;
}

/* The head on n_rows edited rows gathered in m->w.x[L]: accumulate Δloss, Δcorrect and (fp)
 * Δlogits of the p answer digits against the base SAE's rows `rows`. */
static void head_flush(struct fn_model *m, const struct fn_sae *base, const int32_t *rows,
                       size_t B, double *dl, double *dc, double *fp)
{
	int32_t lab[FN_CHUNK] = { 0 };
	uint8_t ok[FN_CHUNK];
	for (size_t b = 0; b < B; b++)
		lab[b] = m->labels[rows[b]];
	tf_forward_head(&m->w, &m->pv, &m->cfg, B, lab, NULL, NULL);
	rows_correct(ok, m->w.logits, B, m->V, lab);
	const double *rl = m->w.rowloss;
	const size_t p = (size_t)m->cfg.p;
	for (size_t b = 0; b < B; b++) {
		size_t r = (size_t)rows[b];
		*dl += rl[b] - base->rowloss[r];
		*dc += (double)ok[b] - (double)base->ok[r];
		for (size_t c = 0; fp && c < p; c++)
			fp[c] += (double)m->w.logits[b * m->V + c] - (double)base->logits[r * m->V + c];
	}
}

/*
 * Edit latent i of A on every row where it (or B's latent j) fires and run the head:
 *   x̃ = x̂_A − z_A,i d_A,i + z_B,j d_B,j     (B == NULL: the ablation x̂_A − z_A,i d_A,i)
 * The difference is formed first and added to x̂_A, so B = A, j = i gives x̃ = x̂_A exactly.
 * Δloss and Δacc are means over all n held-out rows; fp (p) gets the mean Δ answer logits.
 */
static void edit_latent(struct fn_model *m, const struct fn_sae *A, size_t i,
                        const struct fn_sae *B, size_t j, double *dloss, double *dacc, double *fp)
{
	const size_t d = m->d, L = (size_t)m->cfg.n_layers, p = (size_t)m->cfg.p;
	int32_t rows[FN_CHUNK];
	size_t nb = 0;
	double dl = 0.0, dc = 0.0;
	if (fp)
		memset(fp, 0, p * sizeof(double));
	const float *da = A->dec + i * d, *db = B ? B->dec + j * d : NULL;
	for (size_t r = 0; r < m->n; r++) {
		float za = A->z[r * A->m + i], zb = B ? B->z[r * B->m + j] : 0.0f;
		if (za == 0.0f && zb == 0.0f)
			continue;
		float *x = m->w.x[L] + nb * d;
		const float *xh = A->xhat + r * d;
		for (size_t k = 0; k < d; k++) {
			float delta = (db ? zb * db[k] : 0.0f) - za * da[k];
			x[k] = xh[k] + delta;
		}
		rows[nb++] = (int32_t)r;
		if (nb == FN_CHUNK) {
			head_flush(m, A, rows, nb, &dl, &dc, fp);
			nb = 0;
		}
	}
	if (nb)
		head_flush(m, A, rows, nb, &dl, &dc, fp);
	*dloss = dl / (double)m->n;
	*dacc = dc / (double)m->n;
	for (size_t c = 0; fp && c < p; c++)
		fp[c] /= (double)m->n;
}

int fn_sae_init(struct fn_sae *s, struct fn_model *m, const struct sae_ckpt *ck,
                const char *path, struct hus_err *err)
{
	memset(s, 0, sizeof(*s));
	if (ck->d_model != m->d)
		return hus_errf(err, HUS_EINPUT, path, "d_model",
		                "the SAE has d_model %zu, the hook %zu", ck->d_model, m->d);
	struct sae_hparams h;
	enum sae_arch arch;
	if (sae_arch_parse(ck->architecture, &arch))
		return hus_errf(err, HUS_EINPUT, path, "architecture", "unknown architecture '%s'",
		                ck->architecture);
	sae_hparams_default(&h, arch, ck->d_model, ck->d_sae, (size_t)ck->k);
	h.use_b_dec = ck->has_b_dec;
	struct sae_model *sm = NULL;
	struct sae_work *w = NULL;
	int rc;
	if ((rc = sae_hparams_check(&h, path, err)) ||
	    (rc = sae_model_alloc(&sm, &h, (uint64_t)ck->seed, err)) ||
	    (rc = sae_work_alloc(&w, &h, FN_CHUNK, err)))
		goto out;
	memcpy(sm->p.mem, ck->params, sm->p.n * sizeof(float));
	sm->threshold_set = (int)ck->threshold_set;
	const size_t n = m->n, d = m->d, M = ck->d_sae, V = m->V, p = (size_t)m->cfg.p;
	const size_t L = (size_t)m->cfg.n_layers;
	s->m = M;
	s->seed = ck->seed;
	s->xhat = malloc(n * d * sizeof(float));
	s->z = malloc(n * M * sizeof(float));
	s->dec = malloc(M * d * sizeof(float));
	s->rowloss = malloc(n * sizeof(double));
	s->ok = malloc(n);
	s->logits = malloc(n * V * sizeof(float));
	s->fp = malloc(M * p * sizeof(double));
	if (!s->xhat || !s->z || !s->dec || !s->rowloss || !s->ok || !s->logits || !s->fp) {
		rc = hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory for an SAE of d_sae %zu", M);
		goto out;
	}
	memcpy(s->dec, sm->p.W_decT, M * d * sizeof(float));
	double loss = 0.0, correct = 0.0;
	for (size_t s0 = 0; s0 < n; s0 += FN_CHUNK) {
		size_t B = n - s0 < FN_CHUNK ? n - s0 : FN_CHUNK;
		sae_forward(sm, w, m->h + s0 * d, B, s->xhat + s0 * d, s->z + s0 * M);
		memcpy(m->w.x[L], s->xhat + s0 * d, B * d * sizeof(float));
		tf_forward_head(&m->w, &m->pv, &m->cfg, B, m->labels + s0, NULL, NULL);
		rows_correct(s->ok + s0, m->w.logits, B, V, m->labels + s0);
		memcpy(s->logits + s0 * V, m->w.logits, B * V * sizeof(float));
		memcpy(s->rowloss + s0, m->w.rowloss, B * sizeof(double));
		for (size_t b = 0; b < B; b++) {
			loss += s->rowloss[s0 + b];
			correct += s->ok[s0 + b];
		}
	}
	s->loss = loss / (double)n;
	s->acc = correct / (double)n;
	/* fingerprints: the mean change of the p answer logits when latent i is zeroed */
	for (size_t i = 0; i < M; i++) {
		double dl, da;
		edit_latent(m, s, i, NULL, 0, &dl, &da, s->fp + i * p);
	}
out:
	sae_work_free(w);
	sae_model_free(sm);
	if (rc)
		fn_sae_release(s);
	return rc;
}

void fn_sae_release(struct fn_sae *s)
{
	free(s->xhat), free(s->z), free(s->dec), free(s->rowloss), free(s->ok), free(s->logits);
	free(s->fp);
	memset(s, 0, sizeof(*s));
}

/* 1 when latent i of s fires on some held-out row */
static int fires(const struct fn_sae *s, size_t n, size_t i)
{
	for (size_t r = 0; r < n; r++)
		if (s->z[r * s->m + i] != 0.0f)
			return 1;
	return 0;
}

/* cosine of two fingerprints (p), NaN when either is zero; sums in index order */
static double fp_cos(const double *a, const double *b, size_t p)
{
	double ab = 0.0, aa = 0.0, bb = 0.0;
	for (size_t c = 0; c < p; c++) {
		ab += a[c] * b[c];
		aa += a[c] * a[c];
		bb += b[c] * b[c];
	}
	return aa > 0.0 && bb > 0.0 ? ab / (sqrt(aa) * sqrt(bb)) : NAN;
}

int fn_derangement(int64_t *rho, size_t n, uint64_t seed)
{
	if (n < 2)
		return -1;
	/* torch.randperm(n) with seeds seed, seed + 1, ... until one moves every index: a uniform
	 * derangement (rejection), about e draws on average */
	for (uint64_t s = seed;; s++) {
		torch_randperm(rho, (int64_t)n, s);
		size_t i = 0;
		while (i < n && rho[i] != (int64_t)i)
			i++;
		if (i == n)
			return 0;
	}
}

int fn_pair(struct fn_model *m, const struct fn_sae *A, const struct fn_sae *B,
            const int32_t *perm, uint64_t seed, struct fn_pair_result *res, struct hus_err *err)
{
	const size_t p = (size_t)m->cfg.p, M = A->m;
	memset(res, 0, sizeof(*res));
	int64_t *rho = malloc((B->m ? B->m : 1) * sizeof(int64_t));
	uint8_t *used = calloc(B->m ? B->m : 1, 1);
	if (!rho || !used) {
		free(rho), free(used);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	}
	for (size_t i = 0; i < M; i++) /* the matching must be one-to-one into B */
		if (perm[i] < 0 || (size_t)perm[i] >= B->m || used[perm[i]]++) {
			free(rho), free(used);
			return hus_errf(err, HUS_EINPUT, NULL, "matching",
			                "latent %zu is matched to %d: not a one-to-one map into 0..%zu", i,
			                perm[i], B->m - 1);
		}
	free(used);
	if (fn_derangement(rho, B->m, seed)) {
		free(rho);
		return hus_errf(err, HUS_EINPUT, NULL, "d_sae",
		                "a random control needs at least 2 latents in seed %lld's SAE",
		                (long long)B->seed);
	}
	double s[4] = { 0 }, sa[2] = { 0 }, cm = 0.0, cr = 0.0;
	size_t nf = 0, ncm = 0, ncr = 0;
	for (size_t i = 0; i < M; i++) {
		if (!fires(A, m->n, i))
			continue; /* a latent silent on every held-out row contributes nothing */
		size_t j = (size_t)perm[i], jr = (size_t)rho[j];
		double dl, da, rl, ra;
		edit_latent(m, A, i, B, j, &dl, &da, NULL);
		edit_latent(m, A, i, B, jr, &rl, &ra, NULL);
		s[0] += dl, s[1] += rl, s[2] += da, s[3] += ra;
		sa[0] += fabs(dl), sa[1] += fabs(rl);
		double c1 = fp_cos(A->fp + i * p, B->fp + j * p, p);
		double c2 = fp_cos(A->fp + i * p, B->fp + jr * p, p);
		if (!isnan(c1))
			cm += c1, ncm++;
		if (!isnan(c2))
			cr += c2, ncr++;
		nf++;
	}
	free(rho);
	res->n_features = nf;
	double k = nf ? (double)nf : NAN;
	res->matched_dloss = s[0] / k, res->random_dloss = s[1] / k;
	res->matched_dacc = s[2] / k, res->random_dacc = s[3] / k;
	res->matched_abs_dloss = sa[0] / k, res->random_abs_dloss = sa[1] / k;
	res->fp_cos_matched = ncm ? cm / (double)ncm : NAN;
	res->fp_cos_random = ncr ? cr / (double)ncr : NAN;
	res->n_fp_matched = ncm, res->n_fp_random = ncr;
	return 0;
}
