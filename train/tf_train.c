/*
 * tf_train.c — training the transformer (docs/formulas.md §2.4, docs/decisions.md §3-§4): AdamW with torch
 * semantics (adam.c), constant learning rate, seeded shuffles, epochs of ceil(n_train/B)
 * steps (the last batch may be short, as torch's DataLoader without drop_last), per-epoch
 * train metrics (sample-weighted means during the epoch) and val metrics (after it), the
 * best/periodic/final checkpoints, the grokking record, and stopping on request after a
 * whole step.  Invariants:
 *  (1) nothing inside the step loop allocates;
 *  (2) the state saved at any step boundary determines every later bit (parameters, moments,
 *      step, the generator's state at the start of the epoch, the partial epoch sums);
 *  (3) a batch is processed in fixed chunks of TF_CHUNK samples with gradients accumulated
 *      in chunk order (activations of a chunk stay in cache; a mathematically identical
 *      mean), so results depend only on the batch, never on threads.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "train.h"

int tf_trainer_init(struct tf_trainer *tr, const struct tf_config *cfg, struct hus_err *err)
{
	memset(tr, 0, sizeof(*tr));
	int rc = tf_config_check(cfg, "config", err);
	if (rc)
		return rc;
	tr->cfg = *cfg;
	tf_layout_init(&tr->lay, cfg);
	const size_t n = tr->lay.n_params, B = (size_t)cfg->batch_size;
	tr->N = (size_t)(cfg->p * cfg->p);
	tr->n_train = ds_train_size(tr->N, cfg->train_fraction);
	tr->n_val = tr->N - tr->n_train;
	tr->params = calloc(4 * n, sizeof(float));
	tr->tokens = malloc(tr->N * DS_SEQ_LEN * sizeof(int32_t));
	tr->labels = malloc(tr->N * sizeof(int32_t));
	tr->split = malloc(tr->N * sizeof(int64_t));
	tr->order = malloc(tr->n_train * sizeof(int64_t));
	tr->btok = malloc(B * DS_SEQ_LEN * sizeof(int32_t));
	tr->blab = malloc(B * sizeof(int32_t));
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	tr->rng = r;
	if (r) {
		tr->rng_size = gsl_rng_size(r);
		tr->epoch_rng = malloc(tr->rng_size);
	}
	if (!tr->params || !tr->tokens || !tr->labels || !tr->split || !tr->order || !tr->btok ||
	    !tr->blab || !r || !tr->epoch_rng) {
		tf_trainer_release(tr);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "cannot allocate the trainer");
	}
	tr->grads = tr->params + n;
	tr->m = tr->params + 2 * n;
	tr->v = tr->params + 3 * n;
	tf_params_view(&tr->pv, tr->params, cfg);
	tf_params_view(&tr->gv, tr->grads, cfg);
	ds_examples(tr->tokens, tr->labels, cfg->p);
	ds_split(tr->split, tr->N, (uint64_t)cfg->split_seed);
	gsl_rng_set(r, (unsigned long)cfg->shuffle_seed);
	tr->best_epoch = tr->train_fit_epoch = tr->grokked_epoch = -1;
	tr->best_val_acc = 0.0;
	if ((rc = tf_params_init(tr->params, &tr->lay, cfg, err)) ||
	    (rc = tf_work_alloc(&tr->w, cfg, B < TF_CHUNK ? B : TF_CHUNK,
	                        (size_t)cfg->answer_index + 1, 1, err))) {
		tf_trainer_release(tr);
		return rc;
	}
	tf_pack_qkv(&tr->w, &tr->pv, cfg);
	return 0;
}

void tf_trainer_release(struct tf_trainer *tr)
{
	tf_work_release(&tr->w);
	free(tr->params);
	free(tr->tokens);
	free(tr->labels);
	free(tr->split);
	free(tr->order);
	free(tr->btok);
	free(tr->blab);
	if (tr->rng)
		gsl_rng_free(tr->rng);
	free(tr->epoch_rng);
	free(tr->train_loss);
	free(tr->train_acc);
	free(tr->val_loss);
	free(tr->val_acc);
	memset(tr, 0, sizeof(*tr));
}

void tf_train_step(struct tf_trainer *tr, const int32_t *tokens, const int32_t *labels,
                   size_t B, double *loss, int64_t *correct)
{
	const struct tf_config *c = &tr->cfg;
	memset(tr->grads, 0, tr->lay.n_params * sizeof(float));
	/* the batch in chunks of TF_CHUNK samples, gradients accumulated (invariant 3) */
	double lsum = 0.0;
	int64_t ok = 0;
	tr->w.loss_B = B;
	for (size_t s = 0; s < B; s += TF_CHUNK) {
		size_t nb = B - s < TF_CHUNK ? B - s : TF_CHUNK;
		const int32_t *tok = tokens + s * DS_SEQ_LEN, *lab = labels + s;
		double l;
		int64_t k;
		tf_forward(&tr->w, &tr->pv, c, tok, DS_SEQ_LEN, nb, lab, &l, &k);
		tf_backward(&tr->w, &tr->gv, &tr->pv, c, tok, DS_SEQ_LEN, nb, lab);
		lsum += l * (double)nb;
		ok += k;
	}
	tr->w.loss_B = 0;
	*loss = lsum / (double)B;
	*correct = ok;
	tr->step++;
	struct adam_hparams h = { c->lr, c->beta1, c->beta2, c->eps, c->weight_decay };
	if (c->decay_all) {
		adam_step(tr->params, tr->m, tr->v, tr->grads, tr->lay.n_params, &h, tr->step);
	} else {
		for (size_t i = 0; i < tr->lay.n_tensors; i++) {
			const struct tf_tensor *t = &tr->lay.t[i];
			h.weight_decay = t->is_weight ? c->weight_decay : 0.0;
			adam_step(tr->params + t->offset, tr->m + t->offset, tr->v + t->offset,
			          tr->grads + t->offset, t->n, &h, tr->step);
		}
	}
	tf_pack_qkv(&tr->w, &tr->pv, c);
}

static void gather(struct tf_trainer *tr, const int64_t *idx, size_t nb)
{
	for (size_t i = 0; i < nb; i++) {
		memcpy(tr->btok + i * DS_SEQ_LEN, tr->tokens + (size_t)idx[i] * DS_SEQ_LEN,
		       DS_SEQ_LEN * sizeof(int32_t));
		tr->blab[i] = tr->labels[idx[i]];
	}
}

void tf_evaluate(struct tf_trainer *tr, const int64_t *idx, size_t n, double *loss, double *acc)
{
	const size_t B = tr->w.Bcap;
	double sum = 0.0;
	int64_t ok = 0;
	for (size_t s = 0; s < n; s += B) {
		size_t nb = n - s < B ? n - s : B;
		double l;
		int64_t k;
		gather(tr, idx + s, nb);
		tf_forward(&tr->w, &tr->pv, &tr->cfg, tr->btok, DS_SEQ_LEN, nb, tr->blab, &l, &k);
		sum += l * (double)nb;
		ok += k;
	}
	*loss = n ? sum / (double)n : 0.0;
	*acc = n ? (double)ok / (double)n : 0.0;
}

static int grow_metrics(struct tf_trainer *tr, size_t need, struct hus_err *err)
{
	if (need <= tr->metrics_cap)
		return 0;
	size_t cap = tr->metrics_cap ? tr->metrics_cap : 64;
	while (cap < need)
		cap *= 2;
	double **arr[4] = { &tr->train_loss, &tr->train_acc, &tr->val_loss, &tr->val_acc };
	for (int i = 0; i < 4; i++) {
		double *p = realloc(*arr[i], cap * sizeof(double));
		if (!p)
			return hus_errf(err, HUS_ENOMEM, NULL, NULL, "cannot grow the metrics history");
		*arr[i] = p;
	}
	tr->metrics_cap = cap;
	return 0;
}

static int save(struct tf_trainer *tr, const struct tf_run_opts *o, const char *file,
                const char *kind, struct hus_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", o->out_dir, file);
	return tf_ckpt_save(tr, path, kind, o->prov, err);
}

/* A diverged run (a learning rate too high, a bad input) must fail, never save: checked on
 * every step's loss and, at every epoch end before anything is saved, on every parameter.
 * Names the first tensor holding a non-finite value. */
static int check_finite(const struct tf_trainer *tr, double loss, int scan, struct hus_err *err)
{
	const char *bad = NULL;
	size_t nbad = 0, tensors = 0;
	for (size_t i = 0; (scan || !isfinite(loss)) && i < tr->lay.n_tensors; i++) {
		const struct tf_tensor *t = &tr->lay.t[i];
		size_t k = 0;
		for (size_t j = 0; j < t->n; j++)
			k += !isfinite(tr->params[t->offset + j]);
		if (k && !bad) {
			bad = t->name;
			nbad = k;
		}
		tensors += k > 0;
	}
	if (isfinite(loss) && !bad)
		return 0;
	char what[160] = "";
	if (bad)
		snprintf(what, sizeof(what), "%s has %zu non-finite entries%s", bad, nbad,
			 tensors > 1 ? ", and other tensors too" : "");
	char lr[32];
	snprintf(lr, sizeof(lr), "%g", tr->cfg.lr);
	if (!isfinite(loss))
		return hus_errf(err, HUS_EINPUT, "train-transformer", NULL,
				"epoch %lld: step %lld: loss is %s%s%s%s; the run diverged: lower "
				"transformer.lr (now %s)",
				(long long)tr->epoch + 1, (long long)tr->step, isnan(loss) ? "NaN" : "infinite",
				bad ? " (" : "", what, bad ? ")" : "", lr);
	return hus_errf(err, HUS_EINPUT, "train-transformer", NULL,
			"epoch %lld: step %lld: %s; the run diverged: lower transformer.lr (now %s)",
			(long long)tr->epoch, (long long)tr->step, what, lr);
}

int tf_train_run(struct tf_trainer *tr, const struct tf_run_opts *o, struct hus_err *err)
{
	const struct tf_config *c = &tr->cfg;
	const size_t B = (size_t)c->batch_size, n_train = tr->n_train;
	const int64_t steps_per_epoch = (int64_t)((n_train + B - 1) / B);
	int64_t taken = 0;
	char name[64];
	int rc = hus_mkdirs(o->out_dir, err);
	if (rc)
		return rc;
	if ((rc = grow_metrics(tr, (size_t)c->epochs + 1, err)))
		return rc;
	int64_t log_every = c->epochs / 100 > 1 ? c->epochs / 100 : 1;
	while (tr->epoch < c->epochs) {
		/* the generator state here determines this epoch's order (invariant 2) */
		memcpy(tr->epoch_rng, gsl_rng_state(tr->rng), tr->rng_size);
		memcpy(tr->order, tr->split, n_train * sizeof(int64_t));
		gsl_ran_shuffle(tr->rng, tr->order, n_train, sizeof(int64_t));
		for (int64_t s = tr->step_in_epoch; s < steps_per_epoch; s++) {
			size_t off = (size_t)s * B, nb = n_train - off < B ? n_train - off : B;
			double loss;
			int64_t ok;
			gather(tr, tr->order + off, nb);
			if (hus_fault("tf_train_diverge")) /* tests: a run whose optimizer blows up */
				tr->cfg.lr = INFINITY;
			tf_train_step(tr, tr->btok, tr->blab, nb, &loss, &ok);
			if ((rc = check_finite(tr, loss, 0, err)))
				return rc;
			tr->part_loss_sum += loss * (double)nb;
			tr->part_correct += ok;
			tr->part_seen += (int64_t)nb;
			tr->step_in_epoch = s + 1;
			taken++;
			if (o->stop && *o->stop && getenv("HUSAI_JOB")) /* a job of husai run, which */
				return hus_errf(err, HUS_EINTR, NULL, NULL, /* reruns it from the start */
						"interrupted at epoch %lld step %lld (a job of husai run: "
						"no interrupt checkpoint)",
						(long long)tr->epoch + 1, (long long)tr->step);
			if ((o->stop && *o->stop) || (o->max_steps > 0 && taken >= o->max_steps)) {
				if ((rc = save(tr, o, "transformer_interrupt.h5", "interrupt", err)))
					return rc;
				return hus_errf(err, HUS_EINTR, NULL, NULL,
				                "interrupted at epoch %lld step %lld; state saved, resume with "
				                "'husai train-transformer --resume %s/transformer_interrupt.h5'",
				                (long long)tr->epoch + 1, (long long)tr->step, o->out_dir);
			}
		}
		/* epoch done: train metrics during the epoch, val metrics after it (docs/formulas.md §2.4) */
		if ((rc = check_finite(tr, 0.0, 1, err)))
			return rc;
		size_t e = (size_t)tr->epoch;
		tr->train_loss[e] = tr->part_loss_sum / (double)tr->part_seen;
		tr->train_acc[e] = (double)tr->part_correct / (double)tr->part_seen;
		tf_evaluate(tr, tr->split + n_train, tr->n_val, &tr->val_loss[e], &tr->val_acc[e]);
		tr->epoch++;
		tr->step_in_epoch = 0;
		tr->part_loss_sum = 0.0;
		tr->part_correct = tr->part_seen = 0;
		int grok_now = 0;
		if (tr->train_fit_epoch < 0 && tr->train_acc[e] >= c->grok_train_acc)
			tr->train_fit_epoch = tr->epoch;
		if (tr->grokked_epoch < 0 && tr->train_fit_epoch >= 0 &&
		    tr->val_acc[e] >= c->grok_val_acc) {
			tr->grokked_epoch = tr->epoch;
			grok_now = 1;
		}
		if (tr->val_acc[e] > tr->best_val_acc) {
			tr->best_val_acc = tr->val_acc[e];
			tr->best_epoch = tr->epoch;
			if ((rc = save(tr, o, "transformer_best.h5", "best", err)))
				return rc;
		}
		if (c->checkpoint_every > 0 && tr->epoch % c->checkpoint_every == 0) {
			snprintf(name, sizeof(name), "transformer_epoch_%lld.h5", (long long)tr->epoch);
			if ((rc = save(tr, o, name, "periodic", err)))
				return rc;
		}
		if (o->log && (tr->epoch % log_every == 0 || grok_now || tr->epoch == c->epochs))
			fprintf(o->log,
			        "epoch %lld/%lld  step %lld  train loss %.6f acc %.4f  val loss %.6f acc %.4f\n",
			        (long long)tr->epoch, (long long)c->epochs, (long long)tr->step,
			        tr->train_loss[e], tr->train_acc[e], tr->val_loss[e], tr->val_acc[e]);
		if (o->log && grok_now)
			fprintf(o->log, "grokked at epoch %lld (train acc >= %g since epoch %lld, val acc %.4f >= %g)\n",
			        (long long)tr->grokked_epoch, c->grok_train_acc,
			        (long long)tr->train_fit_epoch, tr->val_acc[e], c->grok_val_acc);
	}
	if ((rc = check_finite(tr, 0.0, 1, err)))
		return rc;
	return save(tr, o, "transformer_final.h5", "final", err);
}
