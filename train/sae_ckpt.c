/*
 * sae_ckpt.c — between a training run (train.h struct sae_run) and its checkpoint record
 * (formats.h struct sae_ckpt): what a checkpoint holds is exactly the state the trainer needs
 * to continue to the same bits (sae_trainer.c invariant 2), and a restore refuses a checkpoint
 * that another configuration produced.
 */
#include <stdio.h>
#include <string.h>

#include "sae_internal.h"

void sae_run_ckpt_view(struct sae_run *r, struct sae_ckpt *c, size_t N, const char *kind,
                       const char *activation_sha256)
{
	struct sae_model *s = r->s;
	memset(c, 0, sizeof(*c));
	c->d_model = s->h.d_model;
	c->d_sae = s->h.d_sae;
	snprintf(c->architecture, sizeof(c->architecture), "%s", sae_arch_name(s->h.arch));
	snprintf(c->condition, sizeof(c->condition), "%s", r->condition ? r->condition : "");
	snprintf(c->activation_sha256, sizeof(c->activation_sha256), "%s",
		 activation_sha256 ? activation_sha256 : "");
	snprintf(c->kind, sizeof(c->kind), "%s", kind);
	snprintf(c->control, sizeof(c->control), "%s", s->step == 0 ? "R2 step 0" : "none");
	c->k = (int64_t)s->h.k;
	c->seed = (int64_t)s->seed;
	c->step = s->step;
	c->epoch = r->epoch;
	c->pos = r->pos;
	c->ep_batches = r->ep_batches;
	c->threshold_set = s->threshold_set;
	c->has_b_dec = s->h.use_b_dec;
	c->params = s->p.mem;
	c->exp_avg = s->m.mem;
	c->exp_avg_sq = s->v.mem;
	c->feature_counts = s->feature_counts;
	c->since_fired = s->since_fired;
	c->epoch_fired = s->epoch_fired;
	memcpy(c->order_mt, r->order.mt, sizeof(c->order_mt));
	c->order_mti = r->order.mti;
	c->perm = r->perm;
	c->N = N;
	c->ep_sums[0] = r->ep_loss;
	c->ep_sums[1] = r->ep_aux;
	c->n_hist = r->hist.n;
	for (int q = 0; q < SAE_CKPT_NHIST; q++) {
		c->hist_names[q] = sae_history_names[q];
		c->hist[q] = r->hist.v[q];
	}
	c->have_final = r->have_final;
	if (r->have_final) {
		c->final[0] = r->final.mse, c->final[1] = r->final.l0, c->final[2] = r->final.l1;
		c->final[3] = r->final.explained_variance, c->final[4] = r->final.ev_fvu;
		c->final[5] = (double)r->final.dead;
	}
}

int sae_run_restore(struct sae_run *r, const struct sae_ckpt *c, size_t N,
                    const char *config_hash, const char *path, struct hus_err *err)
{
	struct sae_model *s = r->s;
	const struct sae_hparams *h = &s->h;
	if (strcmp(c->architecture, sae_arch_name(h->arch)))
		return hus_errf(err, HUS_EINPUT, path, "architecture",
				"checkpoint is '%s', the config says '%s'", c->architecture,
				sae_arch_name(h->arch));
	if (c->d_model != h->d_model || c->d_sae != h->d_sae || c->k != (int64_t)h->k)
		return hus_errf(err, HUS_EINPUT, path, "d_sae",
				"checkpoint has d_model %zu, d_sae %zu, k %lld; the config %zu, %zu, %zu",
				c->d_model, c->d_sae, (long long)c->k, h->d_model, h->d_sae, h->k);
	if (c->seed != (int64_t)s->seed)
		return hus_errf(err, HUS_EINPUT, path, "seed", "checkpoint seed %lld, expected %llu",
				(long long)c->seed, (unsigned long long)s->seed);
	if (c->N != N)
		return hus_errf(err, HUS_EINPUT, path, "/rng/order_perm",
				"checkpoint ordered %zu rows, the activation set has %zu", c->N, N);
	if (config_hash && strcmp(config_hash, c->config_hash))
		return hus_errf(err, HUS_EINPUT, path, "config_hash",
				"checkpoint was trained with config %.12s…, this config is %.12s…; "
				"resume with the same config (and --set overrides)",
				c->config_hash, config_hash);
	if (c->has_b_dec != h->use_b_dec)
		return hus_errf(err, HUS_EINPUT, path, "/params/b_dec",
				"decoder bias presence differs from the config");
	size_t n = s->p.n;
	memcpy(s->p.mem, c->params, n * sizeof(float));
	memcpy(s->m.mem, c->exp_avg, n * sizeof(float));
	memcpy(s->v.mem, c->exp_avg_sq, n * sizeof(float));
	memcpy(s->feature_counts, c->feature_counts, h->d_sae * sizeof(double));
	memcpy(s->since_fired, c->since_fired, h->d_sae * sizeof(int64_t));
	memcpy(s->epoch_fired, c->epoch_fired, h->d_sae * sizeof(int64_t));
	s->step = c->step;
	s->threshold_set = (int)c->threshold_set;
	memcpy(r->order.mt, c->order_mt, sizeof(r->order.mt));
	r->order.mti = c->order_mti;
	memcpy(r->perm, c->perm, N * sizeof(int64_t));
	r->epoch = c->epoch;
	r->pos = c->pos;
	r->ep_batches = c->ep_batches;
	r->ep_loss = c->ep_sums[0];
	r->ep_aux = c->ep_sums[1];
	sae_history_release(&r->hist);
	for (size_t e = 0; e < c->n_hist; e++) {
		double row[SAE_CKPT_NHIST];
		for (int q = 0; q < SAE_CKPT_NHIST; q++)
			row[q] = c->hist[q][e];
		if (sae_history_push(&r->hist, row))
			return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
	}
	r->have_final = c->have_final;
	if (c->have_final) {
		r->final.mse = c->final[0], r->final.l0 = c->final[1], r->final.l1 = c->final[2];
		r->final.explained_variance = c->final[3], r->final.ev_fvu = c->final[4];
		r->final.dead = (int64_t)c->final[5];
	}
	return 0;
}
