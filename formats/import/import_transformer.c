/*
 * import_transformer.c — an upstream transformer checkpoint (docs/formulas.md §2.5: model_state_dict with
 * the TransformerLens keys of docs/formulas.md §2.2, config, optimizer_state_dict, epoch, metrics) to a
 * husai.transformer_checkpoint in the schema of formats/artifact_transformer.c, so the
 * transformer stage's reader (tfck_read, tf_ckpt_load_params) accepts it: /params/<key> with
 * the §2.2 shapes (buffers attn.mask / attn.IGNORE skipped), AdamW moments from the
 * optimizer state when present and shaped like the parameters (zeros otherwise, and the
 * `optimizer_state` attribute says which), the last epoch's metrics (earlier epochs NaN:
 * upstream keeps no history), a placeholder RNG state (upstream was unseeded, docs/formulas.md §2.6), a
 * config_yaml the stage's config reader accepts (answer position: upstream, index 5), and the
 * import attributes (imported_from, source_sha256, source_format, key_mapping, the upstream
 * config and metrics as JSON).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

#define TFCK_FORMAT HUS_FORMAT_TRANSFORMER

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static int64_t cfg_int_or(const struct pt_value *cfg, const char *key, int64_t def)
{
	const struct pt_value *v = pt_get(cfg, key);
	return v && v->kind == PT_INT ? v->i : def;
}

static double num_or(const struct pt_value *v, double def)
{
	if (!v)
		return def;
	if (v->kind == PT_FLOAT)
		return v->f;
	if (v->kind == PT_INT)
		return (double)v->i;
	if (v->kind == PT_TENSOR && v->tensor->data && v->tensor->numel == 1)
		return v->tensor->data[0];
	return def;
}

/* docs/formulas.md §2.2 shapes of one TransformerLens key; 0 if the key is not a parameter */
static int tl_shape(const char *k, int64_t V, int64_t T, int64_t d, int64_t H, int64_t m,
                    int *rank, size_t dims[3])
{
	int64_t dh = d / H;
	const char *s = k;
	if (!strncmp(k, "blocks.", 7)) {
		s = strchr(k + 7, '.');
		if (!s)
			return 0;
		s++;
	}
	struct { const char *name; int r; int64_t a, b, c; } tab[] = {
		{ "embed.W_E", 2, V, d, 0 }, { "pos_embed.W_pos", 2, T, d, 0 },
		{ "ln1.w", 1, d, 0, 0 }, { "ln1.b", 1, d, 0, 0 }, { "ln2.w", 1, d, 0, 0 },
		{ "ln2.b", 1, d, 0, 0 }, { "attn.W_Q", 3, H, d, dh }, { "attn.W_K", 3, H, d, dh },
		{ "attn.W_V", 3, H, d, dh }, { "attn.W_O", 3, H, dh, d }, { "attn.b_Q", 2, H, dh, 0 },
		{ "attn.b_K", 2, H, dh, 0 }, { "attn.b_V", 2, H, dh, 0 }, { "attn.b_O", 1, d, 0, 0 },
		{ "mlp.W_in", 2, d, m, 0 }, { "mlp.b_in", 1, m, 0, 0 }, { "mlp.W_out", 2, m, d, 0 },
		{ "mlp.b_out", 1, d, 0, 0 }, { "ln_final.w", 1, d, 0, 0 }, { "ln_final.b", 1, d, 0, 0 },
		{ "unembed.W_U", 2, d, V, 0 }, { "unembed.b_U", 1, V, 0, 0 },
	};
	int in_block = s != k;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		int block_key = !strncmp(tab[i].name, "ln1", 3) || !strncmp(tab[i].name, "ln2", 3) ||
		                !strncmp(tab[i].name, "attn", 4) || !strncmp(tab[i].name, "mlp", 3);
		if (block_key != in_block || strcmp(s, tab[i].name))
			continue;
		*rank = tab[i].r;
		dims[0] = (size_t)tab[i].a;
		dims[1] = (size_t)tab[i].b;
		dims[2] = (size_t)tab[i].c;
		return 1;
	}
	return 0;
}

int imp_transformer_write(const char *out, const struct pt_value *root, const char *src,
                          const char *sha, struct hus_err *err)
{
	const struct pt_value *sdv = pt_get(root, "model_state_dict"), *cfg = pt_get(root, "config");
	struct imp_tensors ts = { 0 };
	struct h5w *w = NULL;
	hj *mapping = hj_obj();
	float *zeros = NULL;
	double *metr = NULL;
	char *map = NULL, *cfgjs = NULL, *metjs = NULL;
	int rc = pt_state_dict(&ts, sdv, src, "model_state_dict", err);
	if (rc)
		goto cleanup;
	if (!cfg || cfg->kind != PT_DICT) {
		rc = hus_errf(err, HUS_EINPUT, src, "config", "missing the 'config' dict (docs/formulas.md §2.5)");
		goto cleanup;
	}
	int64_t L = cfg_int_or(cfg, "n_layers", -1), d = cfg_int_or(cfg, "d_model", -1),
	        H = cfg_int_or(cfg, "n_heads", -1), m = cfg_int_or(cfg, "d_mlp", -1),
	        V = cfg_int_or(cfg, "vocab_size", -1), T = cfg_int_or(cfg, "max_seq_len", -1);
	const struct pt_value *actv = pt_get(cfg, "activation");
	const char *act = actv && actv->kind == PT_STR ? actv->s : "gelu"; /* docs/formulas.md §2.1 default */
	if (L < 1 || L > 64 || d < 1 || d > 65536 || H < 1 || d % H || m < 1 || m > (1 << 20) ||
	    V < 6 || V > 46344 || T != 7) {
		rc = hus_errf(err, HUS_EINPUT, src, "config",
		              "unusable model shape (n_layers %lld, d_model %lld, n_heads %lld, d_mlp "
		              "%lld, vocab_size %lld, max_seq_len %lld; husai needs max_seq_len 7)",
		              (long long)L, (long long)d, (long long)H, (long long)m, (long long)V,
		              (long long)T);
		goto cleanup;
	}
	if (strcmp(act, "relu") && strcmp(act, "gelu") && strcmp(act, "gelu_new")) {
		rc = hus_errf(err, HUS_EINPUT, src, "config.activation",
		              "activation '%s' is not one husai implements (relu, gelu, gelu_new)", act);
		goto cleanup;
	}
	/* parameters in state-dict order (= model.parameters() order, which the optimizer's
	 * state indices follow); buffers attn.mask / attn.IGNORE skipped (docs/formulas.md §2.3) */
	size_t np = 0, n_params = 0, expect = 6 + 16 * (size_t)L;
	size_t *pidx = calloc(ts.n ? ts.n : 1, sizeof(*pidx));
	if (!pidx) {
		rc = hus_errf(err, HUS_ENOMEM, src, NULL, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < ts.n && !rc; i++) {
		const struct imp_tensor *t = &ts.t[i];
		int rank;
		size_t dims[3];
		if (has_suffix(t->name, "attn.mask") || has_suffix(t->name, "attn.IGNORE")) {
			hj_set(mapping, t->name, hj_str("skipped (buffer)"));
			continue;
		}
		if (!tl_shape(t->name, V, T, d, H, m, &rank, dims)) {
			rc = hus_errf(err, HUS_EINPUT, src, t->name,
			              "not a TransformerLens key of the docs/formulas.md §2.2 model");
			break;
		}
		if (!strncmp(t->name, "blocks.", 7) && strtoll(t->name + 7, NULL, 10) >= L) {
			rc = hus_errf(err, HUS_EINPUT, src, t->name, "block beyond n_layers %lld",
			              (long long)L);
			break;
		}
		if (!t->data || t->rank != rank || t->dims[0] != dims[0] ||
		    (rank > 1 && t->dims[1] != dims[1]) || (rank > 2 && t->dims[2] != dims[2])) {
			rc = hus_errf(err, HUS_EINPUT, src, t->name,
			              "expected a float tensor of shape [%zu%s%zu%s%zu] (docs/formulas.md §2.2)", dims[0],
			              rank > 1 ? ", " : "", rank > 1 ? dims[1] : 0, rank > 2 ? ", " : "",
			              rank > 2 ? dims[2] : 0);
			break;
		}
		for (size_t j = 0; j < t->numel; j++)
			if (!isfinite(t->data[j])) {
				rc = hus_errf(err, HUS_EINPUT, src, t->name, "non-finite value at element %zu", j);
				break;
			}
		pidx[np++] = i;
		n_params += t->numel;
	}
	if (!rc && np != expect)
		rc = hus_errf(err, HUS_EINPUT, src, "model_state_dict",
		              "expected %zu parameter tensors for %lld layers, found %zu", expect,
		              (long long)L, np);
	/* and exactly the §2.2 names (a count alone would let "blocks.x" stand in for "blocks.0") */
	static const char *const top[] = { "embed.W_E", "pos_embed.W_pos", "ln_final.w",
	                                   "ln_final.b", "unembed.W_U", "unembed.b_U" };
	static const char *const blk[] = { "ln1.w", "ln1.b", "ln2.w", "ln2.b", "attn.W_Q",
	                                   "attn.W_K", "attn.W_V", "attn.W_O", "attn.b_Q",
	                                   "attn.b_K", "attn.b_V", "attn.b_O", "mlp.W_in",
	                                   "mlp.b_in", "mlp.W_out", "mlp.b_out" };
	for (size_t i = 0; !rc && i < 6; i++)
		if (!imp_find(&ts, top[i]))
			rc = hus_errf(err, HUS_EINPUT, src, top[i], "missing parameter (docs/formulas.md §2.2)");
	for (int64_t l = 0; !rc && l < L; l++)
		for (size_t i = 0; !rc && i < 16; i++) {
			char nm[64];
			snprintf(nm, sizeof(nm), "blocks.%lld.%s", (long long)l, blk[i]);
			if (!imp_find(&ts, nm))
				rc = hus_errf(err, HUS_EINPUT, src, nm, "missing parameter (docs/formulas.md §2.2)");
		}
	if (rc) {
		free(pidx);
		goto cleanup;
	}
	/* optimizer: AdamW moments by parameter index, when consistent; zeros otherwise */
	const struct pt_value *opt = pt_get(root, "optimizer_state_dict");
	const struct pt_value *ost = pt_get(opt, "state"), *pg = pt_get(opt, "param_groups");
	const struct pt_value *g0 = pg && pg->kind == PT_LIST && pg->n ? pg->items[0] : NULL;
	int have_opt = ost && ost->kind == PT_DICT && ost->n == np;
	int64_t opt_step = 0;
	zeros = calloc(n_params ? n_params : 1, sizeof(float));
	if (!zeros) {
		free(pidx);
		rc = hus_errf(err, HUS_ENOMEM, src, NULL, "out of memory");
		goto cleanup;
	}
	struct hus_provenance prov = { "", "" };
	double lr = num_or(pt_get(g0, "lr"), 1e-3), wd = num_or(pt_get(g0, "weight_decay"), 0.01),
	       eps = num_or(pt_get(g0, "eps"), 1e-8), b1 = 0.9, b2 = 0.999;
	const struct pt_value *betas = pt_get(g0, "betas");
	if (betas && betas->kind == PT_TUPLE && betas->n == 2) {
		b1 = num_or(betas->items[0], b1);
		b2 = num_or(betas->items[1], b2);
	}
	/* docs/formulas.md §2.4: upstream split 0.9 with seed 42, loss at index 5; the config is
	 * built through the config API and emitted by it, as the stages read it back */
	char *yaml = NULL, betas_s[64];
	snprintf(betas_s, sizeof(betas_s), "%.17g,%.17g", b1, b2);
	static const char *const secs[] = { "data", "transformer", NULL };
	struct cfg *tc = cfg_empty(src);
	rc = tc ? 0 : hus_errf(err, HUS_ENOMEM, src, NULL, "out of memory");
	if (!rc) rc = cfg_put_int(tc, "data.p", (int64_t)(V - 4), err);
	if (!rc) rc = cfg_put_f64(tc, "data.train_fraction", 0.9, err);
	if (!rc) rc = cfg_put_int(tc, "data.split_seed", 42, err);
	if (!rc) rc = cfg_put_int(tc, "transformer.n_layers", (int64_t)L, err);
	if (!rc) rc = cfg_put_int(tc, "transformer.d_model", (int64_t)d, err);
	if (!rc) rc = cfg_put_int(tc, "transformer.n_heads", (int64_t)H, err);
	if (!rc) rc = cfg_put_int(tc, "transformer.d_mlp", (int64_t)m, err);
	if (!rc) rc = cfg_put_str(tc, "transformer.activation", act, err);
	if (!rc) rc = cfg_put_str(tc, "transformer.answer_position", "upstream", err);
	if (!rc) rc = cfg_put_f64(tc, "transformer.lr", lr, err);
	if (!rc) rc = cfg_put_str(tc, "transformer.betas", betas_s, err);
	if (!rc) rc = cfg_put_f64(tc, "transformer.eps", eps, err);
	if (!rc) rc = cfg_put_f64(tc, "transformer.weight_decay", wd, err);
	if (!rc && !(yaml = cfg_sections_yaml(tc, secs)))
		rc = hus_errf(err, HUS_ENOMEM, src, NULL, "out of memory");
	cfg_free(tc);
	if (rc) {
		free(pidx);
		goto cleanup;
	}
	prov.config_yaml = yaml;
	rc = h5w_open(&w, out, TFCK_FORMAT, 1, &prov, err);
	free(yaml); /* written into the file's attributes by h5w_open */
	if (rc) {
		free(pidx);
		goto cleanup;
	}
	char name[320];
	for (size_t q = 0; q < np && !rc; q++) {
		const struct imp_tensor *t = &ts.t[pidx[q]];
		snprintf(name, sizeof(name), "/params/%s", t->name);
		rc = h5w_f32(w, name, t->data, t->rank, t->dims, err);
		hj *mm = hj_obj();
		hj_set(mm, "to", hj_str(name));
		hj_set(mm, "transpose", hj_bool(0));
		hj_set(mapping, t->name, mm);
		const float *mom[2] = { zeros, zeros };
		if (have_opt) {
			const struct pt_value *s = NULL;
			for (size_t j = 0; j < ost->n; j++)
				if (ost->items[2 * j]->kind == PT_INT && ost->items[2 * j]->i == (int64_t)q)
					s = ost->items[2 * j + 1];
			const char *mk[2] = { "exp_avg", "exp_avg_sq" };
			for (int b = 0; b < 2 && !rc; b++) {
				const struct pt_value *x = pt_get(s, mk[b]);
				if (!x || x->kind != PT_TENSOR || !x->tensor->data ||
				    x->tensor->numel != t->numel || x->tensor->rank != t->rank ||
				    memcmp(x->tensor->dims, t->dims, sizeof(size_t) * (size_t)t->rank))
					rc = hus_errf(err, HUS_EINPUT, src, "optimizer_state_dict.state",
					              "state %s of parameter %zu ('%s') is missing or not shaped "
					              "like the parameter", mk[b], q, t->name);
				else
					mom[b] = x->tensor->data;
			}
			opt_step = (int64_t)num_or(pt_get(s, "step"), 0);
		}
		snprintf(name, sizeof(name), "/optimizer/exp_avg/%s", t->name);
		if (!rc) rc = h5w_f32(w, name, mom[0], t->rank, t->dims, err);
		snprintf(name, sizeof(name), "/optimizer/exp_avg_sq/%s", t->name);
		if (!rc) rc = h5w_f32(w, name, mom[1], t->rank, t->dims, err);
	}
	free(pidx);
	/* progress and metrics (tfck schema): upstream keeps only the last epoch's metrics */
	int64_t epoch = cfg_int_or(root, "epoch", 0), z = 0, neg = -1;
	if (epoch < 0 || epoch > 10000000)
		epoch = 0;
	size_t ne = (size_t)epoch;
	metr = malloc((ne ? ne : 1) * sizeof(double));
	const struct pt_value *met = pt_get(root, "metrics");
	const char *mkeys[4] = { "train/loss", "train/accuracy", "val/loss", "val/accuracy" };
	const char *mds[4] = { "/metrics/train_loss", "/metrics/train_acc", "/metrics/val_loss",
	                       "/metrics/val_acc" };
	for (int i = 0; i < 4 && !rc; i++) {
		if (!metr) {
			rc = hus_errf(err, HUS_ENOMEM, src, NULL, "out of memory");
			break;
		}
		for (size_t e = 0; e < ne; e++)
			metr[e] = NAN;
		if (ne)
			metr[ne - 1] = num_or(pt_get(met, mkeys[i]), NAN);
		rc = h5w_f64(w, mds[i], metr, 1, &ne, err);
	}
	uint8_t rng0 = 0;
	size_t one = 1;
	double zero = 0.0;
	const char *rng_alg = "none (imported; upstream training was unseeded, docs/formulas.md §2.6)";
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	const char *kind = strstr(base, "best") ? "best" : strstr(base, "final") ? "final"
	                 : strstr(base, "epoch") ? "periodic" : "imported";
	if (!rc) rc = h5w_i64(w, "/optimizer/step", &opt_step, 0, NULL, err);
	if (!rc) rc = h5w_write(w, "/rng/state", HUS_U8, &rng0, 1, &one, err);
	if (!rc) rc = h5w_attr_str(w, "/rng/state", "algorithm", rng_alg, err);
	if (!rc) rc = h5w_i64(w, "/rng/seed_init", &neg, 0, NULL, err);
	if (!rc) rc = h5w_i64(w, "/rng/seed_shuffle", &neg, 0, NULL, err);
	if (!rc) rc = h5w_i64(w, "/progress/epoch", &epoch, 0, NULL, err);
	if (!rc) rc = h5w_i64(w, "/progress/step_in_epoch", &z, 0, NULL, err);
	if (!rc) rc = h5w_f64(w, "/progress/part_loss_sum", &zero, 0, NULL, err);
	if (!rc) rc = h5w_i64(w, "/progress/part_correct", &z, 0, NULL, err);
	if (!rc) rc = h5w_i64(w, "/progress/part_seen", &z, 0, NULL, err);
	if (!rc) rc = h5w_i64(w, "/progress/best_epoch", &neg, 0, NULL, err);
	if (!rc) rc = h5w_f64(w, "/progress/best_val_acc", &zero, 0, NULL, err);
	if (!rc) rc = h5w_i64(w, "/progress/train_fit_epoch", &neg, 0, NULL, err);
	if (!rc) rc = h5w_i64(w, "/progress/grokked_epoch", &neg, 0, NULL, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "epoch", epoch, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "step", opt_step, err);
	if (!rc) rc = h5w_attr_str(w, "/", "kind", kind, err);
	if (!rc) rc = h5w_attr_str(w, "/", "best_rule", !strcmp(kind, "best") ?
	                           "upstream: first epoch with val_acc > best so far (strict), docs/formulas.md §2.5" : "", err);
	if (!rc) rc = h5w_attr_i64(w, "/", "answer_position_index", 5, err);
	if (!rc) rc = h5w_attr_str(w, "/", "answer_position", "upstream", err);
	if (!rc) rc = h5w_attr_i64(w, "/", "p", V - 4, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_vocab", V, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "n_ctx", T, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "n_layers", L, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_model", d, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "n_heads", H, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_mlp", m, err);
	if (!rc) rc = h5w_attr_str(w, "/", "activation", act, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "n_params", (int64_t)n_params, err);
	if (!rc) rc = h5w_attr_str(w, "/", "rng_algorithm", rng_alg, err);
	map = hj_dumps(mapping);
	hj *cj = pt_to_json(cfg), *mj = pt_to_json(met);
	cfgjs = cj ? hj_dumps(cj) : NULL;
	metjs = mj ? hj_dumps(mj) : NULL;
	hj_free(cj);
	hj_free(mj);
	if (!rc) rc = h5w_attr_str(w, "/", "imported_from", base, err);
	if (!rc) rc = h5w_attr_str(w, "/", "source_sha256", sha, err);
	if (!rc) rc = h5w_attr_str(w, "/", "source_format", "torch-pt/upstream-transformer", err);
	if (!rc) rc = h5w_attr_str(w, "/", "key_mapping", map ? map : "{}", err);
	if (!rc) rc = h5w_attr_str(w, "/", "optimizer_state", have_opt ?
	                           "imported from optimizer_state_dict" : "zeros (not in the source)", err);
	if (!rc) rc = h5w_attr_str(w, "/", "upstream_config_json", cfgjs ? cfgjs : "{}", err);
	if (!rc) rc = h5w_attr_str(w, "/", "upstream_metrics_json", metjs ? metjs : "{}", err);
	if (!rc) rc = tfck_describe(w, err);
	if (rc)
		h5w_abort(w);
	else
		rc = h5w_commit(w, err);
	w = NULL;
cleanup:
	free(map);
	free(cfgjs);
	free(metjs);
	free(metr);
	free(zeros);
	hj_free(mapping);
	imp_tensors_release(&ts);
	return rc;
}
