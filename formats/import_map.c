/*
 * import_map.c — from foreign tensors to husai artifacts (issue 9, DESIGN §10): the key maps
 * of SAELens (W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc, b_dec, threshold; cfg.json),
 * sparsify (encoder.weight [d_sae, d_in], encoder.bias, W_dec [d_sae, d_in], b_dec; cfg.json),
 * the upstream pipeline's SAE dicts (spec §4.2, §4.7: encoder.weight [d_sae, d_model],
 * encoder.bias, decoder.weight [d_model, d_sae], feature_counts) and transformer checkpoints
 * (spec §2.2, §2.5: TransformerLens keys), and a user mapping file for anything else.
 *
 * Orientation always comes from the source library's documented layout (or the mapping
 * file), never from shapes (DESIGN §3, spec §5.1): every source tensor must have exactly the
 * shape its convention implies, and `/params/W_dec` is written [d_model, d_sae].
 * Every artifact records the source file name, its sha256, the source format and the key
 * mapping applied (source key -> dataset, transpose) as JSON.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define SAE_FORMAT "husai.sae_checkpoint"
#define TFCK_FORMAT "husai.transformer_checkpoint"

/* ---------------------------------------------------------------- SAE plan ---------- */

enum { P_WENC, P_BENC, P_WDEC, P_BDEC, P_THR, P_FC, NP };
static const char *const pname[NP] = { "W_enc", "b_enc", "W_dec", "b_dec", "threshold",
                                       "feature_counts" };
static const char *const pdset[NP] = { "/params/W_enc", "/params/b_enc", "/params/W_dec",
                                       "/params/b_dec", "/params/threshold",
                                       "/state/feature_counts" };

struct sae_plan {
	size_t d_model, d_sae;
	float *p[NP];          /* husai layout, NULL when absent */
	char architecture[32];
	int64_t k, seed, step;
	char source_format[64];
	hj *mapping;           /* {source key: {"to": dataset, "transpose": bool}} */
};

static void plan_release(struct sae_plan *pl)
{
	for (int i = 0; i < NP; i++)
		free(pl->p[i]);
	hj_free(pl->mapping);
	memset(pl, 0, sizeof(*pl));
}

/* husai shape of parameter `which` */
static void husai_shape(const struct sae_plan *pl, int which, int *rank, size_t d[2])
{
	*rank = which == P_WENC || which == P_WDEC ? 2 : 1;
	if (which == P_WENC) {
		d[0] = pl->d_sae;
		d[1] = pl->d_model;
	} else if (which == P_WDEC) {
		d[0] = pl->d_model;
		d[1] = pl->d_sae;
	} else {
		d[0] = which == P_BDEC ? pl->d_model : pl->d_sae;
	}
}

/* Take source tensor `key` as husai parameter `which`; `transpose` says the source stores the
 * transpose of husai's layout (by its library's convention). */
static int take(struct sae_plan *pl, const struct imp_tensors *ts, const char *key, int which,
                int transpose, int required, const char *file, struct hus_err *err)
{
	const struct imp_tensor *t = imp_find(ts, key);
	if (!t)
		return required ? hus_errf(err, HUS_EINPUT, file, key,
		                           "missing tensor '%s' (the %s layout needs it as %s)", key,
		                           pl->source_format, pname[which])
		                : 0;
	if (!t->data)
		return hus_errf(err, HUS_EINPUT, file, key, "tensor of dtype %s is not floating point",
		                t->dtype);
	if (pl->p[which])
		return hus_errf(err, HUS_EINPUT, file, key, "%s mapped twice", pname[which]);
	int rank;
	size_t d[2] = { 0, 0 }, want[2];
	husai_shape(pl, which, &rank, d);
	want[0] = transpose ? d[1] : d[0];
	want[1] = transpose ? d[0] : d[1];
	if (rank == 1)
		want[0] = d[0];
	if (t->rank != rank || t->dims[0] != want[0] || (rank == 2 && t->dims[1] != want[1])) {
		char got[96] = "";
		for (int i = 0; i < t->rank && i < 4; i++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%zu", i ? ", " : "",
			         t->dims[i]);
		if (rank == 2)
			return hus_errf(err, HUS_EINPUT, file, key,
			                "expected shape [%zu, %zu] for %s in the %s layout "
			                "(d_model %zu, d_sae %zu), found [%s]", want[0], want[1],
			                pname[which], pl->source_format, pl->d_model, pl->d_sae, got);
		return hus_errf(err, HUS_EINPUT, file, key,
		                "expected shape [%zu] for %s, found [%s]", want[0], pname[which], got);
	}
	size_t n = t->numel;
	float *x = malloc(n ? n * sizeof(float) : 1);
	if (!x)
		return hus_errf(err, HUS_ENOMEM, file, key, "out of memory");
	if (rank == 2 && transpose) {
		/* source [d1, d0] -> husai [d0, d1] */
		for (size_t i = 0; i < d[0]; i++)
			for (size_t j = 0; j < d[1]; j++)
				x[i * d[1] + j] = t->data[j * d[0] + i];
	} else {
		memcpy(x, t->data, n * sizeof(float));
	}
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i])) {
			free(x);
			return hus_errf(err, HUS_EINPUT, file, key, "non-finite value at element %zu", i);
		}
	pl->p[which] = x;
	hj *m = hj_obj();
	hj_set(m, "to", hj_str(pdset[which]));
	hj_set(m, "transpose", hj_bool(rank == 2 && transpose));
	hj_set(pl->mapping, key, m);
	return 0;
}

/* record every source tensor the map did not use as "skipped" */
static void skip_rest(struct sae_plan *pl, const struct imp_tensors *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		int found = 0;
		hj *v;
		const char *k;
		for (size_t j = 0; (k = hj_obj_at(pl->mapping, j, &v)); j++)
			found |= !strcmp(k, ts->t[i].name);
		if (!found)
			hj_set(pl->mapping, ts->t[i].name, hj_str("skipped"));
	}
}

static const char *cfg_str_key(hj *cfg, const char *key)
{
	hj *v;
	const char *k;
	for (size_t i = 0; cfg && (k = hj_obj_at(cfg, i, &v)); i++)
		if (!strcmp(k, key))
			return hj_get_str(cfg, key);
	return NULL;
}

static int dims2(const struct imp_tensors *ts, const char *key, size_t *a, size_t *b,
                 const char *layout, const char *file, struct hus_err *err)
{
	const struct imp_tensor *t = imp_find(ts, key);
	if (!t)
		return hus_errf(err, HUS_EINPUT, file, key, "missing tensor '%s' of the %s layout", key,
		                layout);
	if (t->rank != 2 || !t->dims[0] || !t->dims[1])
		return hus_errf(err, HUS_EINPUT, file, key, "expected a non-empty matrix, found rank %d",
		                t->rank);
	*a = t->dims[0];
	*b = t->dims[1];
	return 0;
}

/* cfg.json's d_in / d_sae (or num_latents) must agree with the tensors */
static int check_cfg_dims(const struct sae_plan *pl, hj *cfg, const char *dsae_key,
                          const char *cfgname, struct hus_err *err)
{
	int64_t v;
	if (cfg && !hj_get_i64(cfg, "d_in", &v) && v != (int64_t)pl->d_model)
		return hus_errf(err, HUS_EINPUT, cfgname, "d_in",
		                "cfg.json says d_in %lld, the tensors have d_model %zu", (long long)v,
		                pl->d_model);
	if (cfg && !hj_get_i64(cfg, dsae_key, &v) && v > 0 && v != (int64_t)pl->d_sae)
		return hus_errf(err, HUS_EINPUT, cfgname, dsae_key,
		                "cfg.json says %s %lld, the tensors have d_sae %zu", dsae_key,
		                (long long)v, pl->d_sae);
	return 0;
}

static int map_saelens(struct sae_plan *pl, const struct imp_tensors *ts, hj *cfg,
                       const char *file, const char *cfgname, struct hus_err *err)
{
	snprintf(pl->source_format, sizeof(pl->source_format), "safetensors/saelens");
	/* SAELens: W_enc [d_in, d_sae] (x @ W_enc), W_dec [d_sae, d_in] (z @ W_dec) */
	int rc = dims2(ts, "W_enc", &pl->d_model, &pl->d_sae, "SAELens", file, err);
	if (rc || (rc = check_cfg_dims(pl, cfg, "d_sae", cfgname, err)))
		return rc;
	if ((rc = take(pl, ts, "W_enc", P_WENC, 1, 1, file, err)) ||
	    (rc = take(pl, ts, "W_dec", P_WDEC, 1, 1, file, err)) ||
	    (rc = take(pl, ts, "b_enc", P_BENC, 0, 1, file, err)) ||
	    (rc = take(pl, ts, "b_dec", P_BDEC, 0, 0, file, err)) ||
	    (rc = take(pl, ts, "threshold", P_THR, 0, 0, file, err)))
		return rc;
	const char *arch = cfg_str_key(cfg, "architecture");
	if (!arch)
		arch = cfg_str_key(cfg, "activation_fn_str"); /* older SAELens: relu / topk */
	if (!arch)
		arch = pl->p[P_THR] ? "jumprelu" : "relu";
	if (!strcmp(arch, "standard"))
		arch = "relu";
	snprintf(pl->architecture, sizeof(pl->architecture), "%s", arch);
	int64_t k;
	if (cfg && (!hj_get_i64(cfg, "k", &k) || !hj_get_i64(cfg, "activation_fn_kwargs.k", &k)))
		pl->k = k;
	if (!strcmp(pl->architecture, "topk") && pl->k <= 0)
		return hus_errf(err, HUS_EINPUT, cfgname, "k",
		                "a topk SAELens SAE needs k in cfg.json (k or activation_fn_kwargs.k)");
	return 0;
}

static int map_sparsify(struct sae_plan *pl, const struct imp_tensors *ts, hj *cfg,
                        const char *file, const char *cfgname, struct hus_err *err)
{
	snprintf(pl->source_format, sizeof(pl->source_format), "safetensors/sparsify");
	/* sparsify: encoder = nn.Linear(d_in, num_latents): weight [d_sae, d_in];
	 * W_dec [num_latents, d_in] */
	int rc = dims2(ts, "encoder.weight", &pl->d_sae, &pl->d_model, "sparsify", file, err);
	if (rc || (rc = check_cfg_dims(pl, cfg, "num_latents", cfgname, err)))
		return rc;
	if ((rc = take(pl, ts, "encoder.weight", P_WENC, 0, 1, file, err)) ||
	    (rc = take(pl, ts, "W_dec", P_WDEC, 1, 1, file, err)) ||
	    (rc = take(pl, ts, "encoder.bias", P_BENC, 0, 1, file, err)) ||
	    (rc = take(pl, ts, "b_dec", P_BDEC, 0, 0, file, err)))
		return rc;
	snprintf(pl->architecture, sizeof(pl->architecture), "topk");
	if (!cfg || hj_get_i64(cfg, "k", &pl->k) || pl->k <= 0)
		return hus_errf(err, HUS_EINPUT, cfgname ? cfgname : file, "k",
		                "a sparsify SAE needs its cfg.json with k > 0 (give --cfg)");
	return 0;
}

/* spec §4.2/§4.7: the upstream TopKSAE / ReLUSAE state dict (nn.Linear layouts) */
static int map_upstream(struct sae_plan *pl, const struct imp_tensors *ts, const char *file,
                        struct hus_err *err)
{
	snprintf(pl->source_format, sizeof(pl->source_format), "torch-pt/upstream-sae");
	int rc = dims2(ts, "encoder.weight", &pl->d_sae, &pl->d_model, "upstream", file, err);
	if (rc || (rc = take(pl, ts, "encoder.weight", P_WENC, 0, 1, file, err)) ||
	    (rc = take(pl, ts, "encoder.bias", P_BENC, 0, 1, file, err)) ||
	    (rc = take(pl, ts, "decoder.weight", P_WDEC, 0, 1, file, err)) ||
	    (rc = take(pl, ts, "decoder.bias", P_BDEC, 0, 0, file, err)) ||
	    (rc = take(pl, ts, "feature_counts", P_FC, 0, 0, file, err)))
		return rc;
	return 0;
}

/* user mapping file: {"architecture", "k", "seed", "map": {src: {"to", "transpose"}}} */
static int map_user(struct sae_plan *pl, const struct imp_tensors *ts, const char *map_path,
                    const char *file, struct hus_err *err)
{
	hj *m = NULL;
	int rc = hj_read_file(map_path, &m, err);
	if (rc)
		return rc;
	snprintf(pl->source_format, sizeof(pl->source_format), "user-map");
	hj *map = hj_get(m, "map"), *v;
	const char *key;
	const char *src[NP] = { 0 };
	int tr[NP] = { 0 };
	if (!map || !hj_is_obj(map)) {
		rc = hus_errf(err, HUS_EINPUT, map_path, "map",
		              "expected an object {source key: {\"to\": W_enc|b_enc|W_dec|b_dec|"
		              "threshold|feature_counts, \"transpose\": bool}}");
		goto cleanup;
	}
	for (size_t i = 0; (key = hj_obj_at(map, i, &v)); i++) {
		const char *to = hj_get_str(v, "to");
		int w;
		for (w = 0; w < NP && (!to || strcmp(to, pname[w])); w++)
			;
		if (w == NP) {
			rc = hus_errf(err, HUS_EINPUT, map_path, key,
			              "'to' must be one of W_enc, b_enc, W_dec, b_dec, threshold, "
			              "feature_counts");
			goto cleanup;
		}
		/* "transpose": true (the JSON API has no bool getter: dump it inside an array) */
		hj *t = hj_get(v, "transpose"), *box = hj_arr();
		if (t)
			hj_push(box, hj_ref(t));
		char *dump = hj_dumps(box);
		tr[w] = dump && strstr(dump, "true") != NULL;
		free(dump);
		hj_free(box);
		src[w] = key;
	}
	if (!src[P_WENC] || !src[P_WDEC]) {
		rc = hus_errf(err, HUS_EINPUT, map_path, "map", "the map must name W_enc and W_dec");
		goto cleanup;
	}
	/* W_enc fixes d_sae, d_model (with its declared transpose) */
	size_t a, b;
	if ((rc = dims2(ts, src[P_WENC], &a, &b, "mapped", file, err)))
		goto cleanup;
	pl->d_sae = tr[P_WENC] ? b : a;
	pl->d_model = tr[P_WENC] ? a : b;
	for (int w = 0; w < NP && !rc; w++)
		if (src[w])
			rc = take(pl, ts, src[w], w, tr[w], 1, file, err);
	if (rc)
		goto cleanup;
	const char *arch = hj_get_str(m, "architecture");
	snprintf(pl->architecture, sizeof(pl->architecture), "%s", arch ? arch : "unknown");
	hj_get_i64(m, "k", &pl->k);
	hj_get_i64(m, "seed", &pl->seed);
cleanup:
	hj_free(m);
	return rc;
}

/* ---------------------------------------------------------------- writing ----------- */

static int write_sae(const char *out, const struct sae_plan *pl, const struct imp_opts *o,
                     const char *src, const char *sha, struct hus_err *err)
{
	struct hus_provenance prov = { "", "" };
	struct h5w *w = NULL;
	int rc = h5w_open(&w, out, SAE_FORMAT, 1, &prov, err);
	if (rc)
		return rc;
	for (int i = 0; i < NP && !rc; i++) {
		if (!pl->p[i])
			continue;
		int rank;
		size_t d[2] = { 0, 0 };
		husai_shape(pl, i, &rank, d);
		if (i == P_FC) { /* float64 in the SAE schema (formats/artifact_sae.c) */
			double *fc = malloc(d[0] * sizeof(double) + 1);
			if (!fc) {
				rc = hus_errf(err, HUS_ENOMEM, out, pdset[i], "out of memory");
				break;
			}
			for (size_t j = 0; j < d[0]; j++)
				fc[j] = pl->p[i][j];
			rc = h5w_f64(w, pdset[i], fc, 1, d, err);
			free(fc);
			continue;
		}
		rc = h5w_f32(w, pdset[i], pl->p[i], rank, d, err);
	}
	const char *base = strrchr(src, '/');
	char *map = hj_dumps(pl->mapping);
	int64_t seed = o && o->seed >= 0 ? o->seed : pl->seed;
	if (!rc) rc = h5w_attr_str(w, "/", "architecture", pl->architecture, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "k", pl->k, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "seed", seed, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "step", pl->step, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "epoch", -1, err);
	if (!rc) rc = h5w_attr_str(w, "/", "kind", "imported", err);
	if (!rc) rc = h5w_attr_str(w, "/", "condition", o && o->condition ? o->condition : "imported", err);
	if (!rc) rc = h5w_attr_str(w, "/", "control", "none", err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_model", (int64_t)pl->d_model, err);
	if (!rc) rc = h5w_attr_i64(w, "/", "d_sae", (int64_t)pl->d_sae, err);
	if (!rc) rc = h5w_attr_str(w, "/", "activation_sha256", "", err);
	if (!rc) rc = h5w_attr_str(w, "/", "imported_from", base ? base + 1 : src, err);
	if (!rc) rc = h5w_attr_str(w, "/", "source_sha256", sha, err);
	if (!rc) rc = h5w_attr_str(w, "/", "source_format", pl->source_format, err);
	if (!rc) rc = h5w_attr_str(w, "/", "key_mapping", map ? map : "{}", err);
	free(map);
	if (rc) {
		h5w_abort(w);
		return rc;
	}
	return h5w_commit(w, err);
}

/* ---------------------------------------------------------------- transformer ------- */

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

/* spec §2.2 shapes of one TransformerLens key; 0 if the key is not a parameter */
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

static int import_transformer(const char *out, const struct pt_value *root, const char *src,
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
		rc = hus_errf(err, HUS_EINPUT, src, "config", "missing the 'config' dict (spec §2.5)");
		goto cleanup;
	}
	int64_t L = cfg_int_or(cfg, "n_layers", -1), d = cfg_int_or(cfg, "d_model", -1),
	        H = cfg_int_or(cfg, "n_heads", -1), m = cfg_int_or(cfg, "d_mlp", -1),
	        V = cfg_int_or(cfg, "vocab_size", -1), T = cfg_int_or(cfg, "max_seq_len", -1);
	const struct pt_value *actv = pt_get(cfg, "activation");
	const char *act = actv && actv->kind == PT_STR ? actv->s : "gelu"; /* spec §2.1 default */
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
	 * state indices follow); buffers attn.mask / attn.IGNORE skipped (spec §2.3) */
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
			              "not a TransformerLens key of the spec §2.2 model");
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
			              "expected a float tensor of shape [%zu%s%zu%s%zu] (spec §2.2)", dims[0],
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
	char yaml[1024];
	double lr = num_or(pt_get(g0, "lr"), 1e-3), wd = num_or(pt_get(g0, "weight_decay"), 0.01),
	       eps = num_or(pt_get(g0, "eps"), 1e-8), b1 = 0.9, b2 = 0.999;
	const struct pt_value *betas = pt_get(g0, "betas");
	if (betas && betas->kind == PT_TUPLE && betas->n == 2) {
		b1 = num_or(betas->items[0], b1);
		b2 = num_or(betas->items[1], b2);
	}
	/* spec §2.4: upstream split 0.9 with seed 42, loss at index 5 */
	snprintf(yaml, sizeof(yaml),
	         "data:\n  p: %lld\n  train_fraction: 0.9\n  split_seed: 42\ntransformer:\n"
	         "  n_layers: %lld\n  d_model: %lld\n  n_heads: %lld\n  d_mlp: %lld\n"
	         "  activation: %s\n  answer_position: upstream\n  lr: %.17g\n"
	         "  betas: [%.17g, %.17g]\n  eps: %.17g\n  weight_decay: %.17g\n",
	         (long long)(V - 4), (long long)L, (long long)d, (long long)H, (long long)m, act, lr,
	         b1, b2, eps, wd);
	prov.config_yaml = yaml;
	if ((rc = h5w_open(&w, out, TFCK_FORMAT, 1, &prov, err))) {
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
	const char *rng_alg = "none (imported; upstream training was unseeded, spec §2.6)";
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
	                           "upstream: first epoch with val_acc > best so far (strict), spec §2.5" : "", err);
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

/* ---------------------------------------------------------------- entry point ------- */

static int is_safetensors(const char *path)
{
	return has_suffix(path, ".safetensors");
}

/* cfg.json beside the file (same directory) */
static void sibling_cfg(const char *src, char *out, size_t n)
{
	const char *slash = strrchr(src, '/');
	if (slash)
		snprintf(out, n, "%.*s/cfg.json", (int)(slash - src), src);
	else
		snprintf(out, n, "cfg.json");
}

static void upstream_meta(struct sae_plan *pl, const struct pt_value *root)
{
	const struct pt_value *cfg = pt_get(root, "config");
	const struct pt_value *a = pt_get(cfg, "architecture");
	const char *arch = "unknown";
	if (a && a->kind == PT_STR) {
		/* spec §4.1/§4.3: upstream topk is signed top-k without decoder bias; its
		 * "batchtopk" silently fell back to the same TopKSAE */
		arch = !strcmp(a->s, "topk") || !strcmp(a->s, "batchtopk") ? "topk_upstream"
		       : !strcmp(a->s, "relu") ? "relu" : "unknown";
	} else if (pt_get(root, "k")) {
		arch = "topk_upstream"; /* spec §4.7(c): TopKSAE.save */
	}
	snprintf(pl->architecture, sizeof(pl->architecture), "%s", arch);
	const struct pt_value *k = pt_get(cfg, "k");
	if (!k)
		k = pt_get(root, "k");
	pl->k = k && k->kind == PT_INT && !strcmp(arch, "topk_upstream") ? k->i : 0;
	const struct pt_value *s = pt_get(cfg, "seed");
	if (s && s->kind == PT_INT)
		pl->seed = s->i;
}

int imp_file(const char *src, const char *out_path, const struct imp_opts *o, const char **kind,
             struct hus_err *err)
{
	char sha[65];
	uint64_t bytes;
	int rc = hus_sha256_file(src, sha, &bytes, err);
	if (rc)
		return rc;
	struct sae_plan pl = { 0 };
	struct imp_tensors ts = { 0 };
	struct pt_doc *doc = NULL;
	hj *cfg = NULL;
	pl.mapping = hj_obj();
	pl.seed = -1;
	pl.step = -1;
	enum imp_layout lay = o ? o->layout : IMP_AUTO;
	if (o && o->map_path)
		lay = IMP_USER_MAP;
	if (is_safetensors(src)) {
		if ((rc = st_read_file(&ts, src, err)))
			goto cleanup;
		char cfgp[4200];
		const char *cp = o && o->cfg_path ? o->cfg_path : NULL;
		if (!cp) {
			sibling_cfg(src, cfgp, sizeof(cfgp));
			if (hus_file_exists(cfgp))
				cp = cfgp;
		}
		if (cp && (rc = hj_read_file(cp, &cfg, err)))
			goto cleanup;
		if (cfg && !hj_is_obj(cfg)) {
			rc = hus_errf(err, HUS_EINPUT, cp, NULL, "cfg.json is not a JSON object");
			goto cleanup;
		}
		if (lay == IMP_AUTO) /* by the key names each library documents, not by shape */
			lay = imp_find(&ts, "W_enc") ? IMP_SAELENS
			      : imp_find(&ts, "encoder.weight") && imp_find(&ts, "W_dec") ? IMP_SPARSIFY
			      : IMP_AUTO;
		if (lay == IMP_SAELENS)
			rc = map_saelens(&pl, &ts, cfg, src, cp ? cp : src, err);
		else if (lay == IMP_SPARSIFY)
			rc = map_sparsify(&pl, &ts, cfg, src, cp, err);
		else if (lay == IMP_USER_MAP)
			rc = map_user(&pl, &ts, o->map_path, src, err);
		else
			rc = hus_errf(err, HUS_EINPUT, src, NULL,
			              "neither SAELens (W_enc, W_dec, ...) nor sparsify (encoder.weight, "
			              "W_dec, ...) keys: give --layout or a --map file");
		if (!rc && cfg && pl.seed < 0)
			hj_get_i64(cfg, "seed", &pl.seed);
	} else {
		if ((rc = pt_read_file(&doc, src, err)))
			goto cleanup;
		struct pt_value *root = pt_root(doc);
		struct pt_value *sd = pt_get(root, "sae_state_dict");
		if (!sd)
			sd = pt_get(root, "model_state_dict");
		if (!sd)
			sd = pt_get(root, "state_dict");
		if (!sd && root && root->kind == PT_DICT && pt_get(root, "encoder.weight"))
			sd = root;
		if (!sd) {
			rc = hus_errf(err, HUS_EINPUT, src, NULL,
			              "no sae_state_dict / model_state_dict in the checkpoint dict");
			goto cleanup;
		}
		if (pt_get(sd, "embed.W_E") && lay != IMP_USER_MAP) {
			if (kind)
				*kind = "transformer";
			rc = import_transformer(out_path, root, src, sha, err);
			goto cleanup;
		}
		if ((rc = pt_state_dict(&ts, sd, src, "state_dict", err)))
			goto cleanup;
		if (lay == IMP_USER_MAP) {
			rc = map_user(&pl, &ts, o->map_path, src, err);
		} else if (lay == IMP_AUTO || lay == IMP_UPSTREAM) {
			rc = map_upstream(&pl, &ts, src, err);
			if (!rc)
				upstream_meta(&pl, root);
		} else {
			rc = hus_errf(err, HUS_EUSAGE, src, NULL,
			              "the SAELens/sparsify layouts are safetensors layouts, not .pt");
		}
	}
	if (rc)
		goto cleanup;
	skip_rest(&pl, &ts);
	if (kind)
		*kind = "sae";
	rc = write_sae(out_path, &pl, o, src, sha, err);
cleanup:
	hj_free(cfg);
	pt_free(doc);
	imp_tensors_release(&ts);
	plan_release(&pl);
	return rc;
}
