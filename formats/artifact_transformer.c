/*
 * artifact_transformer.c — the transformer checkpoint (husai.transformer_checkpoint v1,
 * docs/decisions.md §10, docs/formulas.md §2.5): every parameter under /params/<state-dict
 * key>, Adam moments and step, the shuffle generator's state, epoch progress (so a run
 * resumes to the bit, also from the middle of an epoch), the metrics history, and the model
 * shape, answer position and checkpoint kind as attributes; every dataset described by one
 * table (tfck_doc).  Writes are atomic (h5w_*); reads validate the format, version, every
 * shape, and that parameters and moments are finite.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define TFCK_FORMAT HUS_FORMAT_TRANSFORMER
#define TFCK_VERSION 1

/* What every dataset of a transformer checkpoint is (docs/artifacts.md "Transformer
 * checkpoint"): the `description` and `dims` attributes, by TransformerLens state-dict name. */
static const struct h5_doc tfck_doc[] = {
	{ "/params/embed.W_E", "d_vocab,d_model", "token embedding", NULL },
	{ "/params/pos_embed.W_pos", "n_ctx,d_model", "position embedding", NULL },
	{ "/params/blocks.*.ln1.w", "d_model", "LayerNorm before attention: scale", NULL },
	{ "/params/blocks.*.ln1.b", "d_model", "LayerNorm before attention: bias", NULL },
	{ "/params/blocks.*.ln2.w", "d_model", "LayerNorm before the MLP: scale", NULL },
	{ "/params/blocks.*.ln2.b", "d_model", "LayerNorm before the MLP: bias", NULL },
	{ "/params/blocks.*.attn.W_Q", "n_heads,d_model,d_head", "attention query weights", NULL },
	{ "/params/blocks.*.attn.W_K", "n_heads,d_model,d_head", "attention key weights", NULL },
	{ "/params/blocks.*.attn.W_V", "n_heads,d_model,d_head", "attention value weights", NULL },
	{ "/params/blocks.*.attn.W_O", "n_heads,d_head,d_model", "attention output weights", NULL },
	{ "/params/blocks.*.attn.b_Q", "n_heads,d_head", "attention query bias", NULL },
	{ "/params/blocks.*.attn.b_K", "n_heads,d_head", "attention key bias", NULL },
	{ "/params/blocks.*.attn.b_V", "n_heads,d_head", "attention value bias", NULL },
	{ "/params/blocks.*.attn.b_O", "d_model", "attention output bias", NULL },
	{ "/params/blocks.*.mlp.W_in", "d_model,d_mlp", "MLP input weights", NULL },
	{ "/params/blocks.*.mlp.b_in", "d_mlp", "MLP input bias", NULL },
	{ "/params/blocks.*.mlp.W_out", "d_mlp,d_model", "MLP output weights", NULL },
	{ "/params/blocks.*.mlp.b_out", "d_model", "MLP output bias", NULL },
	{ "/params/ln_final.w", "d_model", "final LayerNorm: scale", NULL },
	{ "/params/ln_final.b", "d_model", "final LayerNorm: bias", NULL },
	{ "/params/unembed.W_U", "d_model,d_vocab", "unembedding weights (logits = x W_U + b_U)", NULL },
	{ "/params/unembed.b_U", "d_vocab", "unembedding bias", NULL },
	{ "/optimizer/exp_avg/*", NULL, "Adam first moment of: ", "/params" },
	{ "/optimizer/exp_avg_sq/*", NULL, "Adam second moment of: ", "/params" },
	{ "/optimizer/step", "", "Adam steps taken", NULL },
	{ "/rng/state", "byte", "raw state of the shuffle generator (attribute algorithm) at the start "
	                        "of the current epoch", NULL },
	{ "/rng/seed_init", "", "transformer.init_seed (-1: unknown, imported)", NULL },
	{ "/rng/seed_shuffle", "", "transformer.shuffle_seed (-1: unknown, imported)", NULL },
	{ "/metrics/train_loss", "epoch", "train loss per epoch, sample-weighted over the epoch", NULL },
	{ "/metrics/train_acc", "epoch", "train accuracy per epoch, over the epoch", NULL },
	{ "/metrics/val_loss", "epoch", "validation loss after each epoch", NULL },
	{ "/metrics/val_acc", "epoch", "validation accuracy after each epoch", NULL },
	{ "/progress/epoch", "", "completed epochs", NULL },
	{ "/progress/step_in_epoch", "", "steps taken in the epoch in progress (0 at an epoch end)",
	  NULL },
	{ "/progress/part_loss_sum", "", "loss summed over the partial epoch", NULL },
	{ "/progress/part_correct", "", "correct answers in the partial epoch", NULL },
	{ "/progress/part_seen", "", "samples seen in the partial epoch", NULL },
	{ "/progress/best_epoch", "", "epoch of the best validation accuracy (-1: none)", NULL },
	{ "/progress/best_val_acc", "", "the best validation accuracy", NULL },
	{ "/progress/train_fit_epoch", "", "first epoch with train accuracy >= grok_train_acc (-1: "
	                                   "not yet)", NULL },
	{ "/progress/grokked_epoch", "", "first epoch after it with validation accuracy >= "
	                                 "grok_val_acc (-1: not yet)", NULL },
	{ NULL, NULL, NULL, NULL },
};

int tfck_describe(struct h5w *w, struct hus_err *err)
{
	static const struct h5_doc *const tables[] = { tfck_doc, NULL };
	return h5w_describe_all(w, tables, err);
}

static int w_scalar_i64(struct h5w *w, const char *name, int64_t v, struct hus_err *err)
{
	return h5w_i64(w, name, &v, 0, NULL, err);
}

static int w_scalar_f64(struct h5w *w, const char *name, double v, struct hus_err *err)
{
	return h5w_f64(w, name, &v, 0, NULL, err);
}

int tfck_write(const char *path, const struct tfck *ck, const struct hus_provenance *prov,
               struct hus_err *err)
{
	struct h5w *w = NULL;
	char name[96];
	int rc = h5w_open(&w, path, TFCK_FORMAT, TFCK_VERSION, prov, err);
	if (rc)
		return rc;
	const char *answer = ck->answer_index == 5 ? "upstream" : "equals";
	struct { const char *prefix; const float *base; } blocks[3] = {
		{ "/params", ck->params },
		{ "/optimizer/exp_avg", ck->exp_avg },
		{ "/optimizer/exp_avg_sq", ck->exp_avg_sq },
	};
	for (size_t b = 0; b < 3 && !rc; b++)
		for (size_t i = 0; i < ck->n_tensors && !rc; i++) {
			const struct tfck_entry *t = &ck->t[i];
			snprintf(name, sizeof(name), "%s/%s", blocks[b].prefix, t->name);
			rc = h5w_f32(w, name, blocks[b].base + t->offset, t->rank, t->dims, err);
		}
	size_t ne = ck->n_epochs, nr = ck->rng_state_size;
	if (!rc) rc = w_scalar_i64(w, "/optimizer/step", ck->opt_step, err);
	if (!rc) rc = h5w_write(w, "/rng/state", HUS_U8, ck->rng_state, 1, &nr, err);
	if (!rc) rc = h5w_attr_str(w, "/rng/state", "algorithm", ck->rng_algorithm, err);
	if (!rc) rc = w_scalar_i64(w, "/rng/seed_init", ck->init_seed, err);
	if (!rc) rc = w_scalar_i64(w, "/rng/seed_shuffle", ck->shuffle_seed, err);
	if (!rc) rc = h5w_f64(w, "/metrics/train_loss", ck->train_loss, 1, &ne, err);
	if (!rc) rc = h5w_f64(w, "/metrics/train_acc", ck->train_acc, 1, &ne, err);
	if (!rc) rc = h5w_f64(w, "/metrics/val_loss", ck->val_loss, 1, &ne, err);
	if (!rc) rc = h5w_f64(w, "/metrics/val_acc", ck->val_acc, 1, &ne, err);
	if (!rc) rc = w_scalar_i64(w, "/progress/epoch", ck->epoch, err);
	if (!rc) rc = w_scalar_i64(w, "/progress/step_in_epoch", ck->step_in_epoch, err);
	if (!rc) rc = w_scalar_f64(w, "/progress/part_loss_sum", ck->part_loss_sum, err);
	if (!rc) rc = w_scalar_i64(w, "/progress/part_correct", ck->part_correct, err);
	if (!rc) rc = w_scalar_i64(w, "/progress/part_seen", ck->part_seen, err);
	if (!rc) rc = w_scalar_i64(w, "/progress/best_epoch", ck->best_epoch, err);
	if (!rc) rc = w_scalar_f64(w, "/progress/best_val_acc", ck->best_val_acc, err);
	if (!rc) rc = w_scalar_i64(w, "/progress/train_fit_epoch", ck->train_fit_epoch, err);
	if (!rc) rc = w_scalar_i64(w, "/progress/grokked_epoch", ck->grokked_epoch, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "epoch", ck->epoch, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "step", ck->opt_step, err);
	if (!rc) rc = h5w_attr_str(w, "/", "kind", ck->kind, err);
	if (!rc) rc = h5w_attr_str(w, "/", "best_rule", ck->best_rule, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "answer_position_index", ck->answer_index, err);
	if (!rc) rc = h5w_attr_str(w, "/", "answer_position", answer, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "p", ck->p, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_vocab", ck->p + 4, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "n_ctx", 7, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "n_layers", ck->n_layers, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_model", ck->d_model, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "n_heads", ck->n_heads, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_mlp", ck->d_mlp, err);
	if (!rc) rc = h5w_attr_str(w, "/", "activation", ck->act, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "n_params", (int64_t)ck->n_params, err);
	if (!rc) rc = h5w_attr_str(w, "/", "rng_algorithm", ck->rng_algorithm, err);
	if (!rc && ck->grokked_epoch >= 0)
		rc = h5w_attr_i64(w, "/", "grokked_epoch", ck->grokked_epoch, err);
	if (!rc)
		rc = tfck_describe(w, err);
	if (rc) {
		h5w_abort(w);
		return rc;
	}
	return h5w_commit(w, err);
}

static int shape_attrs(struct h5r *r, struct tfck *ck, struct hus_err *err)
{
	int rc;
	char *s = NULL;
	if ((rc = h5r_attr_i64(r, "/", "p", &ck->p, err)) ||
	    (rc = h5r_attr_i64(r, "/", "n_layers", &ck->n_layers, err)) ||
	    (rc = h5r_attr_i64(r, "/", "d_model", &ck->d_model, err)) ||
	    (rc = h5r_attr_i64(r, "/", "n_heads", &ck->n_heads, err)) ||
	    (rc = h5r_attr_i64(r, "/", "d_mlp", &ck->d_mlp, err)) ||
	    (rc = h5r_attr_i64(r, "/", "answer_position_index", &ck->answer_index, err)))
		return rc;
	if (ck->p < 2 || ck->n_layers < 1 || ck->d_model < 1 || ck->n_heads < 1 || ck->d_mlp < 1 ||
	    ck->d_model % ck->n_heads || (ck->answer_index != 4 && ck->answer_index != 5) ||
	    ck->p > 46340 || ck->d_model > 65536 || ck->d_mlp > (1 << 20) || ck->n_layers > 64)
		return hus_errf(err, HUS_EINPUT, h5r_path(r), "/",
		                "inconsistent model shape attributes (p %lld, layers %lld, d_model "
		                "%lld, heads %lld, d_mlp %lld, answer index %lld)",
		                (long long)ck->p, (long long)ck->n_layers, (long long)ck->d_model,
		                (long long)ck->n_heads, (long long)ck->d_mlp,
		                (long long)ck->answer_index);
	if ((rc = h5r_attr_str(r, "/", "activation", &s, err)))
		return rc;
	if (strcmp(s, "relu") && strcmp(s, "gelu") && strcmp(s, "gelu_new")) {
		rc = hus_errf(err, HUS_EINPUT, h5r_path(r), "/activation",
		              "expected relu, gelu or gelu_new, found '%s'", s);
		free(s);
		return rc;
	}
	snprintf(ck->act, sizeof(ck->act), "%s", s);
	free(s);
	free(ck->config_yaml);
	ck->config_yaml = NULL;
	return h5r_attr_str(r, "/", "config_yaml", &ck->config_yaml, err);
}

int tfck_peek(const char *path, struct tfck *ck, struct hus_err *err)
{
	struct h5r *r = NULL;
	int rc = h5r_open(&r, path, TFCK_FORMAT, TFCK_VERSION, err);
	if (rc)
		return rc;
	rc = shape_attrs(r, ck, err);
	h5r_close(r);
	return rc;
}

static int r_scalar_i64(struct h5r *r, const char *name, int64_t *v, struct hus_err *err)
{
	return h5r_read(r, name, HUS_I64, v, 1, 0, NULL, err);
}

static int r_scalar_f64(struct h5r *r, const char *name, double *v, struct hus_err *err)
{
	return h5r_read(r, name, HUS_F64, v, 1, 0, NULL, err);
}

int tfck_read(const char *path, struct tfck *ck, struct hus_err *err)
{
	struct h5r *r = NULL;
	char name[96];
	char *s = NULL;
	int rc = h5r_open(&r, path, TFCK_FORMAT, TFCK_VERSION, err);
	if (rc)
		return rc;
	if ((rc = shape_attrs(r, ck, err)))
		goto cleanup;
	struct { const char *prefix; float *base; } blocks[3] = {
		{ "/params", ck->params },
		{ "/optimizer/exp_avg", ck->exp_avg },
		{ "/optimizer/exp_avg_sq", ck->exp_avg_sq },
	};
	for (size_t b = 0; b < 3; b++)
		for (size_t i = 0; i < ck->n_tensors; i++) {
			const struct tfck_entry *t = &ck->t[i];
			size_t dims[3] = { t->dims[0], t->dims[1], t->dims[2] };
			float *x = blocks[b].base + t->offset;
			snprintf(name, sizeof(name), "%s/%s", blocks[b].prefix, t->name);
			if ((rc = h5r_read(r, name, HUS_F32, x, t->n, t->rank, dims, err)))
				goto cleanup;
			for (size_t j = 0; j < t->n; j++)
				if (!isfinite(x[j])) {
					rc = hus_errf(err, HUS_EINPUT, path, name,
					              "non-finite value at element %zu", j);
					goto cleanup;
				}
		}
	size_t nr[1] = { 0 };
	enum h5_type ty;
	int rank;
	if ((rc = h5r_shape(r, "/rng/state", &ty, &rank, nr, err)))
		goto cleanup;
	if (rank != 1 || ty != HUS_U8 || nr[0] == 0 || nr[0] > sizeof(ck->rng_state)) {
		rc = hus_errf(err, HUS_EINPUT, path, "/rng/state",
		              "expected a uint8 vector of at most %zu bytes", sizeof(ck->rng_state));
		goto cleanup;
	}
	if ((rc = h5r_read(r, "/rng/state", HUS_U8, ck->rng_state, nr[0], 1, nr, err)))
		goto cleanup;
	ck->rng_state_size = nr[0];
	if ((rc = h5r_attr_str(r, "/rng/state", "algorithm", &s, err)))
		goto cleanup;
	snprintf(ck->rng_algorithm, sizeof(ck->rng_algorithm), "%s", s);
	free(s);
	s = NULL;
	if ((rc = r_scalar_i64(r, "/optimizer/step", &ck->opt_step, err)) ||
	    (rc = r_scalar_i64(r, "/rng/seed_init", &ck->init_seed, err)) ||
	    (rc = r_scalar_i64(r, "/rng/seed_shuffle", &ck->shuffle_seed, err)) ||
	    (rc = r_scalar_i64(r, "/progress/epoch", &ck->epoch, err)) ||
	    (rc = r_scalar_i64(r, "/progress/step_in_epoch", &ck->step_in_epoch, err)) ||
	    (rc = r_scalar_f64(r, "/progress/part_loss_sum", &ck->part_loss_sum, err)) ||
	    (rc = r_scalar_i64(r, "/progress/part_correct", &ck->part_correct, err)) ||
	    (rc = r_scalar_i64(r, "/progress/part_seen", &ck->part_seen, err)) ||
	    (rc = r_scalar_i64(r, "/progress/best_epoch", &ck->best_epoch, err)) ||
	    (rc = r_scalar_f64(r, "/progress/best_val_acc", &ck->best_val_acc, err)) ||
	    (rc = r_scalar_i64(r, "/progress/train_fit_epoch", &ck->train_fit_epoch, err)) ||
	    (rc = r_scalar_i64(r, "/progress/grokked_epoch", &ck->grokked_epoch, err)))
		goto cleanup;
	if (ck->epoch < 0 || ck->opt_step < 0 || ck->step_in_epoch < 0) {
		rc = hus_errf(err, HUS_EINPUT, path, "/progress/epoch", "negative progress counters");
		goto cleanup;
	}
	size_t ne[1] = { (size_t)ck->epoch };
	double **m[4] = { &ck->train_loss, &ck->train_acc, &ck->val_loss, &ck->val_acc };
	const char *mn[4] = { "/metrics/train_loss", "/metrics/train_acc", "/metrics/val_loss",
	                      "/metrics/val_acc" };
	for (int i = 0; i < 4; i++) {
		void *p = NULL;
		ne[0] = (size_t)ck->epoch;
		if ((rc = h5r_read_alloc(r, mn[i], HUS_F64, &p, 1, ne, err)))
			goto cleanup;
		free(*m[i]);
		*m[i] = p;
	}
	ck->n_epochs = (size_t)ck->epoch;
	if ((rc = h5r_attr_str(r, "/", "kind", &s, err)))
		goto cleanup;
	snprintf(ck->kind, sizeof(ck->kind), "%s", s);
	free(s);
	s = NULL;
	if ((rc = h5r_attr_str(r, "/", "best_rule", &s, err)))
		goto cleanup;
	snprintf(ck->best_rule, sizeof(ck->best_rule), "%s", s);
cleanup:
	free(s);
	h5r_close(r);
	return rc;
}

void tfck_release(struct tfck *ck)
{
	free(ck->train_loss);
	free(ck->train_acc);
	free(ck->val_loss);
	free(ck->val_acc);
	free(ck->config_yaml);
	ck->train_loss = ck->train_acc = ck->val_loss = ck->val_acc = NULL;
	ck->config_yaml = NULL;
}
