/*
 * tf_ckpt.c — between a trainer and its checkpoint file (formats/artifact_transformer.c):
 * saving every piece of state a bit-exact resume needs, restoring it, and reading a
 * checkpoint's config (model shape from attributes, the rest from its resolved YAML) and
 * parameters for extraction.
 */
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "train.h"

#define BEST_RULE "highest val_acc; saved on strict improvement, so ties keep the earlier " \
                  "epoch (upstream rule, spec 2.5)"

static void fill_entries(struct tfck_entry *e, const struct tf_layout *lay)
{
	for (size_t i = 0; i < lay->n_tensors; i++) {
		const struct tf_tensor *t = &lay->t[i];
		memset(&e[i], 0, sizeof(e[i]));
		snprintf(e[i].name, sizeof(e[i].name), "%s", t->name);
		e[i].rank = t->rank;
		memcpy(e[i].dims, t->dims, sizeof(e[i].dims));
		e[i].offset = t->offset;
		e[i].n = t->n;
	}
}

static void fill_shape(struct tfck *ck, const struct tf_config *c)
{
	ck->p = c->p;
	ck->n_layers = c->n_layers;
	ck->d_model = c->d_model;
	ck->n_heads = c->n_heads;
	ck->d_mlp = c->d_mlp;
	ck->answer_index = c->answer_index;
	snprintf(ck->act, sizeof(ck->act), "%s", tf_act_name(c->act));
}

int tf_ckpt_save(const struct tf_trainer *tr, const char *path, const char *kind,
                 const struct hus_provenance *prov, struct hus_err *err)
{
	static struct tfck ck; /* large (rng buffer); training is single-threaded at this level */
	static struct tfck_entry ent[sizeof(tr->lay.t) / sizeof(tr->lay.t[0])];
	memset(&ck, 0, sizeof(ck));
	fill_entries(ent, &tr->lay);
	fill_shape(&ck, &tr->cfg);
	ck.n_params = tr->lay.n_params;
	ck.n_tensors = tr->lay.n_tensors;
	ck.t = ent;
	ck.params = tr->params;
	ck.exp_avg = tr->m;
	ck.exp_avg_sq = tr->v;
	ck.opt_step = tr->step;
	ck.epoch = tr->epoch;
	ck.step_in_epoch = tr->step_in_epoch;
	ck.part_loss_sum = tr->part_loss_sum;
	ck.part_correct = tr->part_correct;
	ck.part_seen = tr->part_seen;
	ck.best_epoch = tr->best_epoch;
	ck.best_val_acc = tr->best_val_acc;
	ck.train_fit_epoch = tr->train_fit_epoch;
	ck.grokked_epoch = tr->grokked_epoch;
	snprintf(ck.kind, sizeof(ck.kind), "%s", kind);
	snprintf(ck.best_rule, sizeof(ck.best_rule), "%s", BEST_RULE);
	snprintf(ck.rng_algorithm, sizeof(ck.rng_algorithm), "gsl_rng_%s",
	         gsl_rng_name((const gsl_rng *)tr->rng));
	if (tr->rng_size > sizeof(ck.rng_state))
		return hus_errf(err, HUS_EINTERNAL, path, "/rng/state", "generator state too large");
	/* at an epoch boundary the next epoch starts from the current state; inside an epoch,
	 * from the state its shuffle started from */
	memcpy(ck.rng_state, tr->step_in_epoch ? tr->epoch_rng : gsl_rng_state(tr->rng),
	       tr->rng_size);
	ck.rng_state_size = tr->rng_size;
	ck.init_seed = tr->cfg.init_seed;
	ck.shuffle_seed = tr->cfg.shuffle_seed;
	ck.n_epochs = (size_t)tr->epoch;
	ck.train_loss = tr->train_loss;
	ck.train_acc = tr->train_acc;
	ck.val_loss = tr->val_loss;
	ck.val_acc = tr->val_acc;
	return tfck_write(path, &ck, prov, err);
}

int tf_ckpt_config(const char *path, struct tf_config *cfg, char **yaml, struct hus_err *err)
{
	struct tfck ck;
	struct cfg *cf = NULL;
	memset(&ck, 0, sizeof(ck));
	int rc = tfck_peek(path, &ck, err);
	if (rc)
		goto cleanup;
	if ((rc = cfg_load_string(&cf, ck.config_yaml ? ck.config_yaml : "", path, err)) ||
	    (rc = tf_config_read(cf, cfg, err)))
		goto cleanup;
	if (cfg->p != ck.p || cfg->n_layers != ck.n_layers || cfg->d_model != ck.d_model ||
	    cfg->n_heads != ck.n_heads || cfg->d_mlp != ck.d_mlp ||
	    cfg->answer_index != ck.answer_index || strcmp(tf_act_name(cfg->act), ck.act)) {
		rc = hus_errf(err, HUS_EINPUT, path, "/config_yaml",
		              "the recorded config does not match the model shape attributes");
		goto cleanup;
	}
	if (yaml) {
		*yaml = ck.config_yaml;
		ck.config_yaml = NULL;
	}
cleanup:
	if (cf)
		cfg_free(cf);
	tfck_release(&ck);
	return rc;
}

static int read_into(const char *path, const struct tf_config *cfg, float *params, float *m,
                     float *v, struct tfck *ck, struct hus_err *err)
{
	static struct tfck_entry ent[8 + 16 * TF_MAX_LAYERS];
	struct tf_layout lay;
	tf_layout_init(&lay, cfg);
	fill_entries(ent, &lay);
	ck->t = ent;
	ck->n_tensors = lay.n_tensors;
	ck->n_params = lay.n_params;
	ck->params = params;
	ck->exp_avg = m;
	ck->exp_avg_sq = v;
	return tfck_read(path, ck, err);
}

int tf_ckpt_restore(struct tf_trainer *tr, const char *path, struct hus_err *err)
{
	static struct tfck ck;
	memset(&ck, 0, sizeof(ck));
	int rc = read_into(path, &tr->cfg, tr->params, tr->m, tr->v, &ck, err);
	if (rc)
		goto cleanup;
	char want[64];
	snprintf(want, sizeof(want), "gsl_rng_%s", gsl_rng_name((const gsl_rng *)tr->rng));
	if (strcmp(ck.rng_algorithm, want) || ck.rng_state_size != tr->rng_size) {
		rc = hus_errf(err, HUS_EINPUT, path, "/rng/state",
		              "expected a %s state of %zu bytes, found %s of %zu", want, tr->rng_size,
		              ck.rng_algorithm, ck.rng_state_size);
		goto cleanup;
	}
	if (ck.n_epochs + 1 > tr->metrics_cap) {
		size_t cap = ck.n_epochs + 1;
		double **arr[4] = { &tr->train_loss, &tr->train_acc, &tr->val_loss, &tr->val_acc };
		for (int i = 0; i < 4; i++) {
			double *p = realloc(*arr[i], cap * sizeof(double));
			if (!p) {
				rc = hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
				goto cleanup;
			}
			*arr[i] = p;
		}
		tr->metrics_cap = cap;
	}
	memcpy(gsl_rng_state((gsl_rng *)tr->rng), ck.rng_state, tr->rng_size);
	memcpy(tr->train_loss, ck.train_loss, ck.n_epochs * sizeof(double));
	memcpy(tr->train_acc, ck.train_acc, ck.n_epochs * sizeof(double));
	memcpy(tr->val_loss, ck.val_loss, ck.n_epochs * sizeof(double));
	memcpy(tr->val_acc, ck.val_acc, ck.n_epochs * sizeof(double));
	tr->step = ck.opt_step;
	tr->epoch = ck.epoch;
	tr->step_in_epoch = ck.step_in_epoch;
	tr->part_loss_sum = ck.part_loss_sum;
	tr->part_correct = ck.part_correct;
	tr->part_seen = ck.part_seen;
	tr->best_epoch = ck.best_epoch;
	tr->best_val_acc = ck.best_val_acc;
	tr->train_fit_epoch = ck.train_fit_epoch;
	tr->grokked_epoch = ck.grokked_epoch;
	tf_pack_qkv(&tr->w, &tr->pv, &tr->cfg);
cleanup:
	tfck_release(&ck);
	return rc;
}

int tf_ckpt_load_params(const char *path, struct tf_config *cfg, float **params,
                        struct hus_err *err)
{
	static struct tfck ck;
	struct tf_layout lay;
	int rc = tf_ckpt_config(path, cfg, NULL, err);
	if (rc)
		return rc;
	tf_layout_init(&lay, cfg);
	float *buf = malloc(3 * lay.n_params * sizeof(float));
	if (!buf)
		return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory for %zu parameters",
		                lay.n_params);
	memset(&ck, 0, sizeof(ck));
	rc = read_into(path, cfg, buf, buf + lay.n_params, buf + 2 * lay.n_params, &ck, err);
	tfck_release(&ck);
	if (rc) {
		free(buf);
		return rc;
	}
	float *p = realloc(buf, lay.n_params * sizeof(float));
	*params = p ? p : buf;
	return 0;
}
