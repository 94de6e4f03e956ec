/*
 * extract.c — activation extraction (docs/formulas.md §3): run a trained transformer over all p² examples
 * and keep one hook (resid_pre, resid_mid, resid_post, attn_out, mlp_out of any layer) at
 * one position (answer per the model's answer_position, equals, bos, first_operand) or at
 * every position (all: row = example·7 + pos).  Rows follow the upstream order: the
 * split_seed permutation, i.e. the 80 % "train" part then the 20 % "val" part; with
 * train_rows only the train part, floor(p² split_fraction) examples (docs/formulas.md §1.4: the data of
 * train_simple_sae, the legacy phase-4a preset).  Every row goes through the full forward
 * (every position computed).
 *
 * Invariant: a row's values never depend on a batch size.  The products are husai's canonical
 * ones (numeric/), whose bits per element do not depend on the matrix height; the forward
 * still runs on blocks of exactly TF_EXTRACT_BLOCK examples (the last block padded with
 * copies of its first example) so the workspace is the same whatever the row count.
 */
#include <stdlib.h>
#include <string.h>

#include "train.h"

static const char *const hook_names[] = { "resid_pre", "resid_mid", "resid_post", "attn_out",
	                                  "mlp_out" };

int tf_hook_parse(const char *s, enum tf_hook *h, struct hus_err *err)
{
	for (int i = 0; i < 5; i++)
		if (!strcmp(s, hook_names[i])) {
			*h = (enum tf_hook)i;
			return 0;
		}
	return hus_errf(err, HUS_EINPUT, NULL, "--hook",
	                "unknown hook '%s' (expected resid_pre, resid_mid, resid_post, attn_out or "
	                "mlp_out)", s);
}

/* token positions kept per example: *n of them in pos[] */
static int positions(const char *name, int answer_index, int *pos, size_t *n,
                     struct hus_err *err)
{
	*n = 1;
	if (!strcmp(name, "answer"))
		pos[0] = answer_index;
	else if (!strcmp(name, "equals"))
		pos[0] = 4;
	else if (!strcmp(name, "bos"))
		pos[0] = 0;
	else if (!strcmp(name, "first_operand"))
		pos[0] = 1;
	else if (!strcmp(name, "all")) {
		for (int t = 0; t < DS_SEQ_LEN; t++)
			pos[t] = t;
		*n = DS_SEQ_LEN;
	} else
		return hus_errf(err, HUS_EINPUT, NULL, "--position",
		                "unknown position '%s' (expected answer, equals, bos, first_operand or "
		                "all)", name);
	return 0;
}

int tf_extract(struct acts_set *out, const struct tf_config *cfg, const float *params,
               const struct tf_extract_opts *o, struct hus_err *err)
{
	int pos[DS_SEQ_LEN];
	size_t npos;
	struct acts_set s;
	struct tf_work w;
	struct tf_params pv;
	int rc = positions(o->position, cfg->answer_index, pos, &npos, err);
	if (rc)
		return rc;
	if (o->layer < 0 || o->layer >= cfg->n_layers)
		return hus_errf(err, HUS_EINPUT, NULL, "--layer",
		                "layer %lld is out of range: the model has layers 0..%lld",
		                (long long)o->layer, (long long)cfg->n_layers - 1);
	if ((unsigned)o->hook > TF_HOOK_MLP_OUT)
		return hus_errf(err, HUS_EINPUT, NULL, "--hook", "unknown hook");
	if (!(o->split_fraction > 0.0 && o->split_fraction < 1.0))
		return hus_errf(err, HUS_EINPUT, NULL, "--split-fraction",
		                "expected a fraction in (0, 1), got %g", o->split_fraction);
	const size_t p = (size_t)cfg->p, N = p * p, d = (size_t)cfg->d_model, T = DS_SEQ_LEN;
	const size_t B = TF_EXTRACT_BLOCK, L = (size_t)o->layer;
	/* the examples kept: every one, or the train part of the permutation (docs/formulas.md §1.4) */
	const size_t n_ex = o->train_rows ? ds_train_size(N, o->split_fraction) : N;
	memset(&s, 0, sizeof(s));
	memset(&w, 0, sizeof(w));
	if (n_ex == 0)
		return hus_errf(err, HUS_EINPUT, NULL, "--split-fraction",
		                "rows train with fraction %g keeps no example of %zu", o->split_fraction, N);
	s.N = n_ex * npos;
	s.d = d;
	s.x = malloc(s.N * d * sizeof(float));
	s.example_index = malloc(s.N * sizeof(int32_t));
	s.a = malloc(s.N * sizeof(int32_t));
	s.b = malloc(s.N * sizeof(int32_t));
	s.c = malloc(s.N * sizeof(int32_t));
	s.pos = malloc(s.N * sizeof(int32_t));
	int32_t *tokens = malloc(N * T * sizeof(int32_t)), *btok = malloc(B * T * sizeof(int32_t));
	int64_t *perm = malloc(N * sizeof(int64_t));
	if (!s.x || !s.example_index || !s.a || !s.b || !s.c || !s.pos || !tokens || !btok || !perm) {
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "cannot allocate %zu activation rows", s.N);
		goto cleanup;
	}
	if ((rc = tf_work_alloc(&w, cfg, B, T, 0, err)))
		goto cleanup;
	ds_examples(tokens, NULL, cfg->p);
	/* docs/formulas.md §3: train part (first floor(N f)) then val part of the permutation = perm itself */
	ds_split(perm, N, (uint64_t)o->split_seed);
	tf_params_view(&pv, (float *)params, cfg);
	tf_pack_qkv(&w, &pv, cfg);
	for (size_t s0 = 0; s0 < n_ex; s0 += B) {
		size_t nb = n_ex - s0 < B ? n_ex - s0 : B;
		for (size_t i = 0; i < B; i++)
			memcpy(btok + i * T, tokens + (size_t)perm[s0 + (i < nb ? i : 0)] * T,
			       T * sizeof(int32_t));
		tf_forward(&w, &pv, cfg, btok, T, B, NULL, NULL, NULL);
		const float *h = o->hook == TF_HOOK_RESID_PRE    ? w.x[L]
		                 : o->hook == TF_HOOK_RESID_MID  ? w.mid[L]
		                 : o->hook == TF_HOOK_RESID_POST ? w.x[L + 1]
		                 : o->hook == TF_HOOK_ATTN_OUT   ? w.attn_out[L]
		                                                 : w.mlp_out[L];
		for (size_t i = 0; i < nb; i++)
			for (size_t k = 0; k < npos; k++) {
				size_t row = (s0 + i) * npos + k;
				int32_t e = (int32_t)perm[s0 + i];
				memcpy(s.x + row * d, h + (i * T + (size_t)pos[k]) * d, d * sizeof(float));
				s.example_index[row] = e;
				s.a[row] = e / (int32_t)p;
				s.b[row] = e % (int32_t)p;
				s.c[row] = (s.a[row] + s.b[row]) % (int32_t)p;
				s.pos[row] = pos[k];
			}
	}
	snprintf(s.hook, sizeof(s.hook), "%s", hook_names[o->hook]);
	s.layer = o->layer;
	snprintf(s.position, sizeof(s.position), "%s", o->position);
	snprintf(s.answer_position, sizeof(s.answer_position), "%s",
	         tf_answer_name(cfg->answer_index));
	s.modulus = cfg->p;
	s.split_seed = o->split_seed;
	s.split_fraction = o->split_fraction;
	snprintf(s.rows, sizeof(s.rows), "%s", o->train_rows ? "train" : "all");
cleanup:
	tf_work_release(&w);
	free(tokens);
	free(btok);
	free(perm);
	if (rc)
		acts_release(&s);
	else
		*out = s;
	return rc;
}
