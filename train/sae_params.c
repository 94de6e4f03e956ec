/*
 * sae_params.c — the SAE family's hyper-parameters (defaults, validation), its parameter block
 * (one allocation, named views, parallel gradient and Adam-moment blocks) and initialisation
 * (docs/formulas.md §4.2).  Initialisation consumes MT19937(seed) exactly as upstream's
 * TopKSAE(d_model, d_sae, k) does under torch.manual_seed(seed): nn.Linear's default init of
 * encoder.weight, encoder.bias and decoder.weight is drawn and discarded, then W_enc and W_dec
 * are redrawn by reset_parameters; torch's float uniform is (r & 2^24-1)/2^24 scaled in double.
 * So a husai step-0 checkpoint is upstream's untrained SAE of the same seed (control R2).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sae_internal.h"

static const char *const arch_names[SAE_N_ARCH] = {
	"topk_upstream", "topk", "relu", "batchtopk", "jumprelu", "matryoshka",
};

const char *sae_arch_name(enum sae_arch a)
{
	return (unsigned)a < SAE_N_ARCH ? arch_names[a] : "?";
}

int sae_arch_parse(const char *s, enum sae_arch *a)
{
	for (int i = 0; i < SAE_N_ARCH; i++)
		if (!strcmp(s, arch_names[i])) {
			*a = (enum sae_arch)i;
			return 0;
		}
	return -1;
}

void sae_hparams_default(struct sae_hparams *h, enum sae_arch arch, size_t d_model,
                         size_t d_sae, size_t k)
{
	memset(h, 0, sizeof(*h));
	h->arch = arch;
	h->d_model = d_model;
	h->d_sae = d_sae;
	h->k = k;
	h->use_b_dec = arch != SAE_TOPK_UPSTREAM;
	h->upstream_aux = 0;
	h->aux_coef = k ? 1.0 / (double)k : 0.0; /* §4.2: aux_loss_coef defaults to 1/k */
	h->k_aux = d_model / 2 ? d_model / 2 : 1; /* Gao et al.: k_aux = d_model/2 */
	h->auxk_coef = 1.0 / 32.0;                /* Gao et al. alpha */
	h->dead_tokens = 10000000;                /* Gao et al.: 10M tokens */
	h->l1_coef = 1e-3;                        /* §4.4 */
	h->l1_decnorm = 0;
	h->jr_bandwidth = 1e-3;
	h->jr_l0_coef = 1e-3;
	h->jr_init_threshold = 1e-3;
	h->bt_ema = 0.99;
	h->n_prefix = 0;
	h->align_lambda = 0.0;
	h->grad_project = 0;
	h->lr = 3e-4; /* §4.7 seed runners */
	h->beta1 = 0.9;
	h->beta2 = 0.999;
	h->eps = 1e-8;
	h->warmup_steps = 0;
	h->fire_eps = 1e-8;
	h->dead_threshold = 10;
}

int sae_hparams_check(struct sae_hparams *h, const char *src, struct hus_err *err)
{
	if ((unsigned)h->arch >= SAE_N_ARCH)
		return hus_errf(err, HUS_EINPUT, src, "sae.architecture", "unknown architecture");
	if (h->d_model == 0)
		return hus_errf(err, HUS_EINPUT, src, "d_model", "expected d_model > 0, got 0");
	if (h->d_sae == 0)
		return hus_errf(err, HUS_EINPUT, src, "sae.d_sae",
				"expected d_sae > 0, got 0 (an SAE needs at least one latent)");
	if (h->d_sae > (size_t)INT32_MAX || h->d_model > (size_t)INT32_MAX / 4)
		return hus_errf(err, HUS_EINPUT, src, "sae.d_sae", "d_sae %zu or d_model %zu too large",
				h->d_sae, h->d_model);
	int needs_k = h->arch == SAE_TOPK_UPSTREAM || h->arch == SAE_TOPK ||
		      h->arch == SAE_BATCHTOPK || h->arch == SAE_MATRYOSHKA;
	if (needs_k && h->k == 0)
		return hus_errf(err, HUS_EINPUT, src, "sae.k", "expected k >= 1, got 0");
	if (h->k > h->d_sae) {
		/* §4.3: runners construct TopKSAE(k = min(k, d_sae)) */
		fprintf(stderr, "husai: warning: %s: sae.k: k = %zu exceeds d_sae = %zu; clamped to %zu\n",
			src ? src : "", h->k, h->d_sae, h->d_sae);
		h->k = h->d_sae;
	}
	if (h->k_aux > h->d_sae)
		h->k_aux = h->d_sae;
	if (h->arch == SAE_TOPK_UPSTREAM)
		h->use_b_dec = 0;
	if (!(h->lr > 0) || !(h->beta1 >= 0 && h->beta1 < 1) || !(h->beta2 >= 0 && h->beta2 < 1) ||
	    !(h->eps > 0))
		return hus_errf(err, HUS_EINPUT, src, "sae.lr",
				"expected lr > 0, betas in [0, 1) and eps > 0");
	if (h->arch == SAE_JUMPRELU && !(h->jr_bandwidth > 0))
		return hus_errf(err, HUS_EINPUT, src, "sae.jumprelu.bandwidth",
				"expected a bandwidth > 0, got %g", h->jr_bandwidth);
	if (h->arch == SAE_MATRYOSHKA) {
		if (h->n_prefix == 0) {
			h->n_prefix = 1;
			h->prefix[0] = h->d_sae;
		}
		for (size_t i = 0; i < h->n_prefix; i++) {
			if (h->prefix[i] == 0 || h->prefix[i] > h->d_sae ||
			    (i && h->prefix[i] <= h->prefix[i - 1]))
				return hus_errf(err, HUS_EINPUT, src, "sae.matryoshka.prefixes",
						"expected increasing prefix widths in [1, d_sae=%zu]",
						h->d_sae);
		}
		if (h->prefix[h->n_prefix - 1] != h->d_sae) {
			if (h->n_prefix == SAE_MAX_PREFIX)
				return hus_errf(err, HUS_EINPUT, src, "sae.matryoshka.prefixes",
						"at most %d prefixes", SAE_MAX_PREFIX - 1);
			h->prefix[h->n_prefix++] = h->d_sae;
		}
	}
	return 0;
}

static size_t params_count(const struct sae_hparams *h)
{
	return 2 * h->d_sae * h->d_model + 2 * h->d_sae + h->d_model;
}

void sae_params_view(struct sae_params *p, float *mem, const struct sae_hparams *h)
{
	size_t md = h->d_sae * h->d_model;
	p->mem = mem;
	p->n = params_count(h);
	p->W_enc = mem;
	p->b_enc = p->W_enc + md;
	p->W_decT = p->b_enc + h->d_sae;
	p->b_dec = p->W_decT + md;
	p->threshold = p->b_dec + h->d_model;
}

void sae_renorm_decoder(float *W_decT, size_t d_sae, size_t d_model)
{
#pragma omp parallel for schedule(static) if ((size_t)(d_sae * d_model) > SAE_PAR_MIN)
	for (size_t j = 0; j < d_sae; j++) {
		float *w_j = W_decT + j * d_model;
		double ss = 0;
		for (size_t i = 0; i < d_model; i++)
			ss += (double)w_j[i] * w_j[i];
		float nrm = (float)sqrt(ss);
		if (nrm < 1e-12f) /* F.normalize: x / max(||x||, 1e-12) */
			nrm = 1e-12f;
		for (size_t i = 0; i < d_model; i++)
			w_j[i] /= nrm;
	}
}

/* torch CPU uniform_(from, to) for float32: one 32-bit draw per element. */
static float torch_uniform(struct mt19937 *g, float from, float to)
{
	double u = (double)(mt_next32(g) & 0xffffffu) * (1.0 / 16777216.0);
	return (float)(u * (double)(to - from) + (double)from);
}

void sae_model_free(struct sae_model *s)
{
	if (!s)
		return;
	free(s->p.mem);
	free(s->g.mem);
	free(s->m.mem);
	free(s->v.mem);
	free(s->feature_counts);
	free(s->since_fired);
	free(s->epoch_fired);
	free(s);
}

int sae_model_alloc(struct sae_model **out, const struct sae_hparams *h, uint64_t seed,
                    struct hus_err *err)
{
	struct sae_model *s = calloc(1, sizeof(*s));
	if (!s)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory for an SAE");
	s->h = *h;
	s->seed = seed;
	size_t n = params_count(h), m = h->d_sae, d = h->d_model;
	float *blk[4];
	for (int i = 0; i < 4; i++)
		blk[i] = calloc(n, sizeof(float));
	s->feature_counts = calloc(m, sizeof(double));
	s->since_fired = calloc(m, sizeof(int64_t));
	s->epoch_fired = calloc(m, sizeof(int64_t));
	sae_params_view(&s->p, blk[0], h);
	sae_params_view(&s->g, blk[1], h);
	sae_params_view(&s->m, blk[2], h);
	sae_params_view(&s->v, blk[3], h);
	if (!blk[0] || !blk[1] || !blk[2] || !blk[3] || !s->feature_counts || !s->since_fired ||
	    !s->epoch_fired) {
		sae_model_free(s);
		return hus_errf(err, HUS_ENOMEM, NULL, NULL,
				"out of memory for an SAE of d_sae %zu, d_model %zu", m, d);
	}

	struct mt19937 g;
	mt_seed(&g, (uint32_t)(seed & 0xffffffffu));
	/* nn.Linear defaults (discarded): encoder.weight (m*d), encoder.bias (m), decoder.weight (d*m) */
	for (size_t i = 0; i < 2 * m * d + m; i++)
		(void)mt_next32(&g);
	/* §4.2: W_enc ~ U(-sqrt(6/d_model), +sqrt(6/d_model)), row-major (d_sae, d_model) */
	float be = (float)sqrt(6.0 / (double)d);
	for (size_t i = 0; i < m * d; i++)
		s->p.W_enc[i] = torch_uniform(&g, -be, be);
	/* W_dec ~ U(±sqrt(6/d_sae)) drawn in stored order [d_model, d_sae]: element (i, j) is
	 * feature j's coordinate i, i.e. W_decT[j, i] */
	float bd = (float)sqrt(6.0 / (double)m);
	for (size_t i = 0; i < d; i++)
		for (size_t j = 0; j < m; j++)
			s->p.W_decT[j * d + i] = torch_uniform(&g, -bd, bd);
	sae_renorm_decoder(s->p.W_decT, m, d);
	if (h->arch == SAE_JUMPRELU)
		for (size_t j = 0; j < m; j++)
			s->p.threshold[j] = (float)h->jr_init_threshold;
	*out = s;
	return 0;
}
