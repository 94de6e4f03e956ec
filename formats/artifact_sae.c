/*
 * artifact_sae.c — the SAE checkpoint (husai.sae_checkpoint v1, docs/decisions.md §10; layout documented
 * in formats.h) writer and reader, and the trainer's thin activation-matrix reader.  Owns the
 * one transposition in husai's SAE path: the train stage keeps W_decT (d_sae, d_model), the
 * file holds /params/W_dec [d_model, d_sae] with column j = feature j (docs/formulas.md §4.2, §8.6).
 *
 * Invariants: (1) a checkpoint appears under its name only complete and synced (h5w_commit);
 * (2) the reader validates every shape against the d_model/d_sae attributes and refuses
 * non-finite parameters, naming the dataset and the element.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define SAE_FORMAT HUS_FORMAT_SAE

const char *const sae_ckpt_final_names[6] = {
	"mse", "l0", "l1", "explained_variance", "ev_fvu", "dead_latents",
};
const char *const sae_ckpt_hist_names[SAE_CKPT_NHIST] = {
	"loss", "mse", "l0", "l1", "explained_variance", "ev_fvu", "dead_latents", "step", "aux",
};

size_t sae_ckpt_nparams(size_t d_model, size_t d_sae)
{
	return 2 * d_sae * d_model + 2 * d_sae + d_model;
}

/* views of one flat block */
struct blk {
	float *W_enc, *b_enc, *W_decT, *b_dec, *threshold;
};
static struct blk view(float *p, size_t d, size_t m)
{
	struct blk b = { p, p + m * d, p + m * d + m, p + 2 * m * d + m, p + 2 * m * d + m + d };
	return b;
}

/* What every dataset of an SAE checkpoint is, for a reader with h5py alone (docs/artifacts.md):
 * a `description` and a `dims` attribute (dimension names, outermost first) on each.
 * Attributes only: the datasets' values and digests do not change. */
static const struct h5_doc sae_doc[] = {
	{ "/params/W_enc", "d_sae,d_model", "encoder weights, row j = latent j: pre = (x - b_dec) "
	                                    "W_enc^T + b_enc (topk_upstream: x W_enc^T + b_enc)", NULL },
	{ "/params/b_enc", "d_sae", "encoder bias", NULL },
	{ "/params/W_dec", "d_model,d_sae", "decoder, column j = feature j's direction: x_hat = z "
	                                    "W_dec^T + b_dec", NULL },
	{ "/params/b_dec", "d_model", "decoder bias, also subtracted from x before the encoder", NULL },
	{ "/params/threshold", "d_sae", "per-latent threshold (jumprelu, batchtopk, matryoshka): z_j = "
	                                "pre_j where pre_j > threshold_j and pre_j > 0, else 0; unused "
	                                "otherwise", NULL },
	{ "/optimizer/step", "one", "Adam steps taken (equals the step attribute)", NULL },
	{ "/optimizer/exp_avg/*", NULL, "Adam first moment of: ", "/params" },
	{ "/optimizer/exp_avg_sq/*", NULL, "Adam second moment of: ", "/params" },
	{ "/rng/order_mt19937", "state_word", "the batch-order generator: 624 MT19937 state words, "
	                                      "then the position (0-624)", NULL },
	{ "/rng/order_perm", "order_entry", "the current epoch's batch order: a permutation of the "
	                                    "activation rows (sae.shuffle blocks: of the blocks)", NULL },
	{ "/state/feature_counts", "d_sae", "firings per latent over the whole training (imported: "
	                                    "as the source counted them)", NULL },
	{ "/state/since_fired", "d_sae", "tokens since each latent last fired (AuxK's dead window)",
	  NULL },
	{ "/state/epoch_fired", "d_sae", "firings per latent in the current epoch", NULL },
	{ "/state/counters", "counter", "epoch, position inside the epoch, batches this epoch, "
	                                "BatchTopK threshold initialised (0/1)", NULL },
	{ "/state/epoch_sums", "sum", "train loss and aux loss summed over the epoch so far", NULL },
	{ "/metrics/final_fire_counts", "d_sae", "firings of each latent in the final evaluation "
	                                         "over all rows", NULL },
	{ "/metrics/loss", "epoch", "training loss over all rows at each epoch end", NULL },
	{ "/metrics/mse", "epoch", "mean squared reconstruction error at each epoch end", NULL },
	{ "/metrics/l0", "epoch", "mean active latents per row at each epoch end", NULL },
	{ "/metrics/l1", "epoch", "mean L1 norm of the codes at each epoch end", NULL },
	{ "/metrics/explained_variance", "epoch", "explained variance (upstream's scalar EV) at each "
	                                          "epoch end", NULL },
	{ "/metrics/ev_fvu", "epoch", "1 - fraction of variance unexplained at each epoch end", NULL },
	{ "/metrics/dead_latents", "epoch", "latents that never fired, at each epoch end", NULL },
	{ "/metrics/step", "epoch", "Adam steps taken at each epoch end", NULL },
	{ "/metrics/aux", "epoch", "auxiliary (AuxK) loss at each epoch end", NULL },
	{ NULL, NULL, NULL, NULL },
};
static const struct h5_doc *const sae_tables[] = { sae_doc, NULL };

static int write_block(struct h5w *w, const char *prefix, float *p, size_t d, size_t m,
                       int has_b_dec, float *tr, struct hus_err *err)
{
	struct blk b = view(p, d, m);
	char name[128];
	int rc;
	size_t dims2[2] = { m, d }, dm[1] = { m }, dd[1] = { d };
	snprintf(name, sizeof(name), "%s/W_enc", prefix);
	if ((rc = h5w_f32(w, name, b.W_enc, 2, dims2, err)))
		return rc;
	snprintf(name, sizeof(name), "%s/b_enc", prefix);
	if ((rc = h5w_f32(w, name, b.b_enc, 1, dm, err)))
		return rc;
	for (size_t j = 0; j < m; j++) /* W_dec[i, j] = W_decT[j, i] */
		for (size_t i = 0; i < d; i++)
			tr[i * m + j] = b.W_decT[j * d + i];
	size_t dwd[2] = { d, m };
	snprintf(name, sizeof(name), "%s/W_dec", prefix);
	if ((rc = h5w_f32(w, name, tr, 2, dwd, err)))
		return rc;
	if (has_b_dec) {
		snprintf(name, sizeof(name), "%s/b_dec", prefix);
		if ((rc = h5w_f32(w, name, b.b_dec, 1, dd, err)))
			return rc;
	}
	snprintf(name, sizeof(name), "%s/threshold", prefix);
	return h5w_f32(w, name, b.threshold, 1, dm, err);
}

int sae_ckpt_write(const char *path, const struct sae_ckpt *c, const struct hus_provenance *prov,
                   struct hus_err *err)
{
	size_t d = c->d_model, m = c->d_sae;
	struct h5w *w = NULL;
	float *tr = malloc((m > 0 && d > 0 ? m * d : 1) * sizeof(float));
	if (!tr)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	int rc = h5w_open(&w, path, SAE_FORMAT, 1, prov, err);
	if (rc) {
		free(tr);
		return rc;
	}
	size_t one[1] = { 1 }, dm[1] = { m }, n625[1] = { 625 }, nperm[1] = { c->N }, four[1] = { 4 },
	       two[1] = { 2 }, nh[1] = { c->n_hist };
	int64_t step = c->step;
	int64_t mt[625];
	for (int i = 0; i < 624; i++)
		mt[i] = c->order_mt[i];
	mt[624] = c->order_mti;
	int64_t counters[4] = { c->epoch, c->pos, c->ep_batches, c->threshold_set };
	if ((rc = write_block(w, "/params", c->params, d, m, c->has_b_dec, tr, err)) ||
	    (rc = h5w_i64(w, "/optimizer/step", &step, 1, one, err)) ||
	    (rc = write_block(w, "/optimizer/exp_avg", c->exp_avg, d, m, c->has_b_dec, tr, err)) ||
	    (rc = write_block(w, "/optimizer/exp_avg_sq", c->exp_avg_sq, d, m, c->has_b_dec, tr,
			      err)) ||
	    (rc = h5w_i64(w, "/rng/order_mt19937", mt, 1, n625, err)) ||
	    (rc = h5w_i64(w, "/rng/order_perm", c->perm, 1, nperm, err)) ||
	    (rc = h5w_attr_str(w, "/rng/order_mt19937", "algorithm",
			       "mt19937 (init_genrand), Fisher-Yates by rejection", err)) ||
	    (rc = h5w_f64(w, "/state/feature_counts", c->feature_counts, 1, dm, err)) ||
	    (rc = h5w_i64(w, "/state/since_fired", c->since_fired, 1, dm, err)) ||
	    (rc = h5w_i64(w, "/state/epoch_fired", c->epoch_fired, 1, dm, err)) ||
	    (rc = h5w_i64(w, "/state/counters", counters, 1, four, err)) ||
	    (rc = h5w_f64(w, "/state/epoch_sums", c->ep_sums, 1, two, err)))
		goto fail;
	for (int q = 0; q < SAE_CKPT_NHIST; q++) {
		char name[96];
		snprintf(name, sizeof(name), "/metrics/%s", c->hist_names[q]);
		static const double none = 0;
		if ((rc = h5w_f64(w, name, c->n_hist ? c->hist[q] : &none, 1, nh, err)))
			goto fail;
	}
	if ((rc = h5w_attr_str(w, "/", "architecture", c->architecture, err)) ||
	    (rc = h5w_attr_i64(w, "/", "k", c->k, err)) ||
	    (rc = h5w_attr_i64(w, "/", "seed", c->seed, err)) ||
	    (rc = h5w_attr_i64(w, "/", "step", c->step, err)) ||
	    (rc = h5w_attr_i64(w, "/", "epoch", c->epoch, err)) ||
	    (rc = h5w_attr_str(w, "/", "condition", c->condition, err)) ||
	    (rc = h5w_attr_str(w, "/", "activation_sha256", c->activation_sha256, err)) ||
	    (rc = h5w_attr_str(w, "/", "control", c->control, err)) ||
	    (rc = h5w_attr_str(w, "/", "kind", c->kind, err)) ||
	    (rc = h5w_attr_i64(w, "/", "d_model", (int64_t)d, err)) ||
	    (rc = h5w_attr_i64(w, "/", "d_sae", (int64_t)m, err)))
		goto fail;
	if (c->have_final) {
		for (int q = 0; q < 6; q++) {
			char name[64];
			snprintf(name, sizeof(name), "final_%s", sae_ckpt_final_names[q]);
			if ((rc = h5w_attr_f64(w, "/", name, c->final[q], err)))
				goto fail;
		}
		if (c->final_counts &&
		    (rc = h5w_i64(w, "/metrics/final_fire_counts", c->final_counts, 1, dm, err)))
			goto fail;
	}
	if ((rc = h5w_describe_all(w, sae_tables, err)))
		goto fail;
	free(tr);
	return h5w_commit(w, err);
fail:
	free(tr);
	h5w_abort(w);
	return rc;
}

void sae_ckpt_release(struct sae_ckpt *c)
{
	free(c->params), free(c->exp_avg), free(c->exp_avg_sq), free(c->feature_counts);
	free(c->since_fired), free(c->epoch_fired), free(c->perm), free(c->final_counts);
	for (int q = 0; q < SAE_CKPT_NHIST; q++)
		free(c->hist[q]);
	memset(c, 0, sizeof(*c));
}

static int read_str(struct h5r *r, const char *name, char *dst, size_t cap, struct hus_err *err)
{
	char *v = NULL;
	int rc = h5r_attr_str(r, "/", name, &v, err);
	if (rc)
		return rc;
	if (strlen(v) >= cap) {
		free(v);
		return hus_errf(err, HUS_EINPUT, h5r_path(r), name, "attribute too long (max %zu)",
				cap - 1);
	}
	strcpy(dst, v);
	free(v);
	return 0;
}

/* The d_model and d_sae attributes, within plausible bounds: every reader's first step. */
static int read_dims(struct h5r *r, size_t *d, size_t *m, struct hus_err *err)
{
	int64_t d64 = 0, m64 = 0;
	int rc;
	if ((rc = h5r_attr_i64(r, "/", "d_model", &d64, err)) ||
	    (rc = h5r_attr_i64(r, "/", "d_sae", &m64, err)))
		return rc;
	if (d64 <= 0 || m64 <= 0 || d64 > (1 << 20) || m64 > (1 << 26))
		return hus_errf(err, HUS_EINPUT, h5r_path(r), "d_model",
		                "implausible d_model %lld / d_sae %lld", (long long)d64, (long long)m64);
	*d = (size_t)d64, *m = (size_t)m64;
	return 0;
}

static int read_block(struct h5r *r, const char *prefix, float *p, size_t d, size_t m,
                      int has_b_dec, float *tr, int check_finite, struct hus_err *err)
{
	struct blk b = view(p, d, m);
	char name[128];
	int rc;
	size_t dims2[2] = { m, d }, dm[1] = { m }, dd[1] = { d }, dwd[2] = { d, m };
	snprintf(name, sizeof(name), "%s/W_enc", prefix);
	if ((rc = h5r_read(r, name, HUS_F32, b.W_enc, m * d, 2, dims2, err)))
		return rc;
	snprintf(name, sizeof(name), "%s/b_enc", prefix);
	if ((rc = h5r_read(r, name, HUS_F32, b.b_enc, m, 1, dm, err)))
		return rc;
	snprintf(name, sizeof(name), "%s/W_dec", prefix);
	if ((rc = h5r_read(r, name, HUS_F32, tr, m * d, 2, dwd, err)))
		return rc;
	for (size_t i = 0; i < d; i++)
		for (size_t j = 0; j < m; j++)
			b.W_decT[j * d + i] = tr[i * m + j];
	memset(b.b_dec, 0, d * sizeof(float));
	if (has_b_dec) {
		snprintf(name, sizeof(name), "%s/b_dec", prefix);
		if ((rc = h5r_read(r, name, HUS_F32, b.b_dec, d, 1, dd, err)))
			return rc;
	}
	snprintf(name, sizeof(name), "%s/threshold", prefix);
	if ((rc = h5r_read(r, name, HUS_F32, b.threshold, m, 1, dm, err)))
		return rc;
	if (check_finite) {
		size_t n = sae_ckpt_nparams(d, m);
		for (size_t i = 0; i < n; i++)
			if (!isfinite(p[i]))
				return hus_errf(err, HUS_EINPUT, h5r_path(r), prefix,
						"non-finite value at flat parameter %zu", i);
	}
	return 0;
}

/* The final evaluation's root attributes final_<name>, when recorded (final_mse present). */
static int read_final(struct h5r *r, int *have, double final[6], struct hus_err *err)
{
	*have = h5r_has_attr(r, "/", "final_mse");
	for (int q = 0; *have && q < 6; q++) {
		char name[64];
		snprintf(name, sizeof(name), "final_%s", sae_ckpt_final_names[q]);
		int rc = h5r_attr_f64(r, "/", name, &final[q], err);
		if (rc)
			return rc;
	}
	return 0;
}

int sae_ckpt_read(const char *path, struct sae_ckpt *c, struct hus_err *err)
{
	memset(c, 0, sizeof(*c));
	struct h5r *r = NULL;
	float *tr = NULL;
	int rc = h5r_open(&r, path, SAE_FORMAT, 1, err);
	if (rc)
		return rc;
	size_t d = 0, m = 0;
	if ((rc = read_dims(r, &d, &m, err)))
		goto fail;
	size_t n = sae_ckpt_nparams(d, m);
	c->d_model = d, c->d_sae = m;
	if ((rc = read_str(r, "architecture", c->architecture, sizeof(c->architecture), err)) ||
	    (rc = read_str(r, "condition", c->condition, sizeof(c->condition), err)) ||
	    (rc = read_str(r, "activation_sha256", c->activation_sha256,
			   sizeof(c->activation_sha256), err)) ||
	    (rc = read_str(r, "control", c->control, sizeof(c->control), err)) ||
	    (rc = read_str(r, "kind", c->kind, sizeof(c->kind), err)) ||
	    (rc = read_str(r, "config_hash", c->config_hash, sizeof(c->config_hash), err)) ||
	    (rc = h5r_attr_i64(r, "/", "k", &c->k, err)) ||
	    (rc = h5r_attr_i64(r, "/", "seed", &c->seed, err)) ||
	    (rc = h5r_attr_i64(r, "/", "step", &c->step, err)) ||
	    (rc = h5r_attr_i64(r, "/", "epoch", &c->epoch, err)))
		goto fail;
	c->has_b_dec = h5r_has(r, "/params/b_dec");
	c->params = malloc(n * sizeof(float));
	c->exp_avg = malloc(n * sizeof(float));
	c->exp_avg_sq = malloc(n * sizeof(float));
	c->feature_counts = malloc(m * sizeof(double));
	c->since_fired = malloc(m * sizeof(int64_t));
	c->epoch_fired = malloc(m * sizeof(int64_t));
	tr = malloc(m * d * sizeof(float));
	if (!c->params || !c->exp_avg || !c->exp_avg_sq || !c->feature_counts || !c->since_fired ||
	    !c->epoch_fired || !tr) {
		rc = hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
		goto fail;
	}
	size_t one[1] = { 1 }, dm[1] = { m }, n625[1] = { 625 }, four[1] = { 4 }, two[1] = { 2 };
	int64_t step = 0, mt[625], counters[4];
	if ((rc = read_block(r, "/params", c->params, d, m, c->has_b_dec, tr, 1, err)) ||
	    (rc = h5r_read(r, "/optimizer/step", HUS_I64, &step, 1, 1, one, err)) ||
	    (rc = read_block(r, "/optimizer/exp_avg", c->exp_avg, d, m, c->has_b_dec, tr, 1, err)) ||
	    (rc = read_block(r, "/optimizer/exp_avg_sq", c->exp_avg_sq, d, m, c->has_b_dec, tr, 1,
			     err)) ||
	    (rc = h5r_read(r, "/rng/order_mt19937", HUS_I64, mt, 625, 1, n625, err)) ||
	    (rc = h5r_read(r, "/state/feature_counts", HUS_F64, c->feature_counts, m, 1, dm, err)) ||
	    (rc = h5r_read(r, "/state/since_fired", HUS_I64, c->since_fired, m, 1, dm, err)) ||
	    (rc = h5r_read(r, "/state/epoch_fired", HUS_I64, c->epoch_fired, m, 1, dm, err)) ||
	    (rc = h5r_read(r, "/state/counters", HUS_I64, counters, 4, 1, four, err)) ||
	    (rc = h5r_read(r, "/state/epoch_sums", HUS_F64, c->ep_sums, 2, 1, two, err)))
		goto fail;
	if (step != c->step) {
		rc = hus_errf(err, HUS_EINPUT, path, "/optimizer/step",
			      "optimizer step %lld disagrees with the step attribute %lld",
			      (long long)step, (long long)c->step);
		goto fail;
	}
	for (int i = 0; i < 624; i++)
		c->order_mt[i] = (uint32_t)mt[i];
	c->order_mti = (int32_t)mt[624];
	if (mt[624] < 0 || mt[624] > 624) {
		rc = hus_errf(err, HUS_EINPUT, path, "/rng/order_mt19937", "position %lld outside [0, 624]",
			      (long long)mt[624]);
		goto fail;
	}
	c->epoch = counters[0], c->pos = counters[1], c->ep_batches = counters[2];
	c->threshold_set = counters[3];
	size_t pd[1] = { 0 };
	void *perm = NULL;
	if ((rc = h5r_read_alloc(r, "/rng/order_perm", HUS_I64, &perm, 1, pd, err)))
		goto fail;
	c->perm = perm;
	c->N = pd[0];
	for (size_t i = 0; i < c->N; i++)
		if (c->perm[i] < 0 || (size_t)c->perm[i] >= c->N) {
			rc = hus_errf(err, HUS_EINPUT, path, "/rng/order_perm",
				      "entry %zu = %lld outside [0, %zu)", i, (long long)c->perm[i], c->N);
			goto fail;
		}
	for (int q = 0; q < SAE_CKPT_NHIST; q++) {
		char name[96];
		snprintf(name, sizeof(name), "/metrics/%s", sae_ckpt_hist_names[q]);
		c->hist_names[q] = sae_ckpt_hist_names[q];
		size_t hd[1] = { 0 };
		void *hv = NULL;
		if ((rc = h5r_read_alloc(r, name, HUS_F64, &hv, 1, hd, err)))
			goto fail;
		c->hist[q] = hv;
		if (q == 0)
			c->n_hist = hd[0];
		else if (hd[0] != c->n_hist) {
			rc = hus_errf(err, HUS_EINPUT, path, name, "expected %zu entries, got %zu",
				      c->n_hist, hd[0]);
			goto fail;
		}
	}
	if ((rc = read_final(r, &c->have_final, c->final, err)))
		goto fail;
	if (c->have_final && h5r_has(r, "/metrics/final_fire_counts")) {
		c->final_counts = malloc(m * sizeof(int64_t));
		if (!c->final_counts) {
			rc = hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
			goto fail;
		}
		if ((rc = h5r_read(r, "/metrics/final_fire_counts", HUS_I64, c->final_counts, m, 1,
				   dm, err)))
			goto fail;
	}
	free(tr);
	h5r_close(r);
	return 0;
fail:
	free(tr);
	h5r_close(r);
	sae_ckpt_release(c);
	return rc;
}

int sae_acts_load(const char *path, float **X, size_t *N, size_t *d, char sha256[65],
                  struct hus_err *err)
{
	/* acts_read validates the format, the shapes, the row bookkeeping and finiteness */
	struct acts_set s;
	memset(&s, 0, sizeof(s));
	int rc = acts_read(path, &s, err);
	if (rc)
		return rc;
	uint64_t bytes = 0;
	if ((rc = hus_sha256_file(path, sha256, &bytes, err))) {
		acts_release(&s);
		return rc;
	}
	*X = s.x, *N = s.N, *d = s.d;
	s.x = NULL; /* ownership moves to the caller */
	acts_release(&s);
	return 0;
}

/* A root string attribute that may be absent ("" then), at most cap - 1 bytes. */
static int read_str_opt(struct h5r *r, const char *name, char *dst, size_t cap,
                        struct hus_err *err)
{
	dst[0] = 0;
	return h5r_has_attr(r, "/", name) ? read_str(r, name, dst, cap, err) : 0;
}

/* One float32 parameter [a] or [a, b] (b = 0), malloc'ed, every entry finite. */
static int read_param(struct h5r *r, const char *dset, size_t a, size_t b, float **out,
                      struct hus_err *err)
{
	size_t dims[2] = { a, b };
	float *x = NULL;
	int rc = h5r_read_alloc(r, dset, HUS_F32, (void **)&x, b ? 2 : 1, dims, err);
	if (rc)
		return rc;
	for (size_t e = 0; e < a * (b ? b : 1); e++)
		if (!isfinite(x[e])) {
			free(x);
			/* name the feature: W_dec's column, W_enc's row */
			return b ? hus_errf(err, HUS_EINPUT, h5r_path(r), dset,
			                    "entry [%zu, %zu] (feature %zu) is not finite (a diverged SAE?)",
			                    e / b, e % b, !strcmp(dset, "/params/W_dec") ? e % b : e / b)
			         : hus_errf(err, HUS_EINPUT, h5r_path(r), dset,
			                    "entry %zu is not finite (a diverged SAE?)", e);
		}
	*out = x;
	return 0;
}

int sae_file_read(const char *path, unsigned what, struct sae_file *out, struct hus_err *err)
{
	struct sae_file o;
	memset(&o, 0, sizeof(o));
	o.k = o.step = o.epoch = -1;
	struct h5r *r = NULL;
	int rc = h5r_open(&r, path, SAE_FORMAT, 1, err);
	if (rc)
		return rc;
	if ((rc = read_dims(r, &o.d_model, &o.d_sae, err)) ||
	    (rc = h5r_attr_i64(r, "/", "seed", &o.seed, err)) ||
	    (h5r_has_attr(r, "/", "k") && (rc = h5r_attr_i64(r, "/", "k", &o.k, err))) ||
	    (h5r_has_attr(r, "/", "step") && (rc = h5r_attr_i64(r, "/", "step", &o.step, err))) ||
	    (h5r_has_attr(r, "/", "epoch") && (rc = h5r_attr_i64(r, "/", "epoch", &o.epoch, err))) ||
	    (rc = read_str_opt(r, "architecture", o.architecture, sizeof(o.architecture), err)) ||
	    (rc = read_str_opt(r, "condition", o.condition, sizeof(o.condition), err)) ||
	    (rc = read_str_opt(r, "control", o.control, sizeof(o.control), err)) ||
	    (rc = read_str_opt(r, "kind", o.kind, sizeof(o.kind), err)) ||
	    (rc = read_str_opt(r, "source_format", o.source_format, sizeof(o.source_format), err)) ||
	    (rc = read_final(r, &o.have_final, o.final, err)))
		goto fail;
	size_t d = o.d_model, m = o.d_sae;
	if ((what & SAE_READ_DECODER) &&
	    (rc = read_param(r, "/params/W_dec", d, m, &o.W_dec, err)))
		goto fail;
	if ((what & SAE_READ_ENCODER) &&
	    ((rc = read_param(r, "/params/W_enc", m, d, &o.W_enc, err)) ||
	     (rc = read_param(r, "/params/b_enc", m, 0, &o.b_enc, err)) ||
	     (h5r_has(r, "/params/b_dec") && (rc = read_param(r, "/params/b_dec", d, 0, &o.b_dec, err))) ||
	     (h5r_has(r, "/params/threshold") &&
	      (rc = read_param(r, "/params/threshold", m, 0, &o.threshold, err)))))
		goto fail;
	for (int q = 0; (what & SAE_READ_CURVES) && q < SAE_CKPT_NHIST; q++) {
		char name[96];
		snprintf(name, sizeof(name), "/metrics/%s", sae_ckpt_hist_names[q]);
		size_t hd[1] = { 0 };
		void *hv = NULL;
		if (!h5r_has(r, name))
			continue;
		if ((rc = h5r_read_alloc(r, name, HUS_F64, &hv, 1, hd, err)))
			goto fail;
		o.hist[q] = hv;
		o.hist_n[q] = hd[0];
	}
	h5r_close(r);
	*out = o;
	return 0;
fail:
	h5r_close(r);
	sae_file_release(&o);
	return rc;
}

void sae_file_release(struct sae_file *m)
{
	free(m->W_dec), free(m->W_enc), free(m->b_enc), free(m->b_dec), free(m->threshold);
	for (int q = 0; q < SAE_CKPT_NHIST; q++)
		free(m->hist[q]);
	memset(m, 0, sizeof(*m));
}

/* An imported SAE (kind "imported": /params only, no optimizer or training state): the
 * parameters' shapes against d_model / d_sae and their finiteness (husai inspect). */
int sae_imported_check(const char *path, struct hus_err *err)
{
	struct sae_file m;
	int rc = sae_file_read(path, SAE_READ_DECODER | SAE_READ_ENCODER, &m, err);
	if (!rc)
		sae_file_release(&m);
	return rc;
}

int sae_imported_write(const char *path, const struct sae_imported *s, struct hus_err *err)
{
	static const char *const dset[6] = { "/params/W_enc", "/params/b_enc", "/params/W_dec",
	                                     "/params/b_dec", "/params/threshold",
	                                     "/state/feature_counts" };
	size_t m = s->d_sae, d = s->d_model;
	const size_t dims[6][2] = { { m, d }, { m, 0 }, { d, m }, { d, 0 }, { m, 0 }, { m, 0 } };
	struct hus_provenance prov = { "", "" };
	struct h5w *w = NULL;
	int rc = h5w_open(&w, path, SAE_FORMAT, 1, &prov, err);
	if (rc)
		return rc;
	for (int i = 0; i < 5 && !rc; i++)
		if (s->param[i])
			rc = h5w_f32(w, dset[i], s->param[i], dims[i][1] ? 2 : 1, dims[i], err);
	if (!rc && s->param[5]) { /* float64 in the checkpoint's schema */
		double *fc = malloc(m * sizeof(double) + 1);
		if (!fc)
			rc = hus_errf(err, HUS_ENOMEM, path, dset[5], "out of memory");
		for (size_t j = 0; fc && j < m; j++)
			fc[j] = s->param[5][j];
		if (fc)
			rc = h5w_f64(w, dset[5], fc, 1, dims[5], err);
		free(fc);
	}
	if (!rc) rc = h5w_describe_all(w, sae_tables, err);
	if (!rc) rc = h5w_attr_str(w, "/", "architecture", s->architecture, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "k", s->k, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "seed", s->seed, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "step", s->step, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "epoch", -1, err);
	if (!rc) rc = h5w_attr_str(w, "/", "kind", "imported", err);
	if (!rc) rc = h5w_attr_str(w, "/", "condition", s->condition, err);
	if (!rc) rc = h5w_attr_str(w, "/", "control", "none", err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_model", (int64_t)d, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_sae", (int64_t)m, err);
	if (!rc) rc = h5w_attr_str(w, "/", "activation_sha256", "", err);
	const struct { const char *name, *val; } str[] = {
		{ "imported_from", s->imported_from }, { "source_sha256", s->source_sha256 },
		{ "source_format", s->source_format }, { "key_mapping", s->key_mapping },
		{ "seed_source", s->seed_source },     { "source_model", s->source_model },
		{ "source_hook", s->source_hook },     { "source_dataset", s->source_dataset },
		{ "source_cfg", s->source_cfg },
	};
	for (size_t i = 0; i < sizeof(str) / sizeof(str[0]) && !rc; i++)
		rc = h5w_attr_str(w, "/", str[i].name, str[i].val, err);
	if (!rc && s->has_source_threshold)
		rc = h5w_attr_f64(w, "/", "source_threshold", s->source_threshold, err);
	if (rc) {
		h5w_abort(w);
		return rc;
	}
	return h5w_commit(w, err);
}
