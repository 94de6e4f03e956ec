/*
 * import_map.c — from foreign tensors to husai artifacts (issue 9, docs/decisions.md §10): the key maps
 * of SAELens (W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc, b_dec, threshold; cfg.json),
 * sparsify (encoder.weight [d_sae, d_in], encoder.bias, W_dec [d_sae, d_in], b_dec; cfg.json),
 * the upstream pipeline's SAE dicts (docs/formulas.md §4.2, §4.7: encoder.weight [d_sae, d_model],
 * encoder.bias, decoder.weight [d_model, d_sae], feature_counts), dictionary_learning's ae.pt
 * state dicts with their config.json (AutoEncoder, AutoEncoderTopK, BatchTopKSAE,
 * JumpReluAutoEncoder; issue 18), and a user mapping file for anything else; and imp_file,
 * which picks the reader and the map (transformer checkpoints go to import_transformer.c).
 *
 * No tensor is dropped silently: a source key no map uses is an error naming it, unless the
 * user's --map file lists it under "skip" (recorded as "skipped" in key_mapping).  The seed is
 * --seed, else the source cfg's, else the file's place in the command (seed_source says which);
 * the source cfg's model, hook and dataset fields are kept as source_model, source_hook,
 * source_dataset, and the whole cfg as source_cfg.
 *
 * Orientation always comes from the source library's documented layout (or the mapping
 * file), never from shapes (docs/decisions.md §3, docs/formulas.md §5.1): every source tensor must have exactly the
 * shape its convention implies, and `/params/W_dec` is written [d_model, d_sae].
 * Every artifact records the source file name, its sha256, the source format and the key
 * mapping applied (source key -> dataset, transpose) as JSON.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

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
	hj *skip;              /* borrowed: the --map file's "skip" list (array of keys) or NULL */
	hj *cfg;               /* borrowed: the source cfg, kept whole as source_cfg */
	char model[256], hook[256], dataset[512];
	int has_scalar_threshold;  /* a TopK SAE's unused scalar threshold buffer */
	double scalar_threshold;
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

static int in_skip_list(hj *skip, const char *key)
{
	for (size_t i = 0; skip && i < hj_len(skip); i++) {
		hj *box = hj_arr();
		hj_push(box, hj_ref(hj_at(skip, i)));
		const char *s = hj_get_str(box, "0");
		int hit = s && !strcmp(s, key);
		hj_free(box);
		if (hit)
			return 1;
	}
	return 0;
}

/* Every source tensor the map did not use is an error, unless the user's --map file skips
 * it (then recorded as "skipped"): nothing is dropped silently. */
static int check_unmapped(struct sae_plan *pl, const struct imp_tensors *ts, const char *file,
                          struct hus_err *err)
{
	for (size_t i = 0; i < ts->n; i++) {
		if (hj_member(pl->mapping, ts->t[i].name))
			continue;
		if (in_skip_list(pl->skip, ts->t[i].name)) {
			hj_set(pl->mapping, ts->t[i].name, hj_str("skipped"));
			continue;
		}
		const char *hint = "";
		if (!strcmp(pl->source_format, "torch-pt/upstream-sae"))
			hint = " (a dictionary_learning ae.pt? put its config.json beside it or give --cfg)";
		return hus_errf(err, HUS_EINPUT, file, ts->t[i].name,
		                "tensor '%s' has no place in the %s layout and would be dropped%s; "
		                "to drop it on purpose, give --map FILE.json with "
		                "{\"skip\": [\"%s\"]}", ts->t[i].name, pl->source_format, hint,
		                ts->t[i].name);
	}
	return 0;
}

/* an integer buffer (dictionary_learning's k): a single value, recorded as the attribute */
static int take_int(struct sae_plan *pl, const struct imp_tensors *ts, const char *key,
                    int64_t *out, const char *attr, const char *file, struct hus_err *err)
{
	const struct imp_tensor *t = imp_find(ts, key);
	if (!t)
		return hus_errf(err, HUS_EINPUT, file, key, "missing buffer '%s' of the %s layout", key,
		                pl->source_format);
	if (!t->ints || t->numel != 1)
		return hus_errf(err, HUS_EINPUT, file, key,
		                "expected a single integer (torch int32 or int64 buffer), found a %s "
		                "tensor of %zu elements", t->dtype, t->numel);
	*out = t->ints[0];
	hj *m = hj_obj();
	hj_set(m, "to", hj_str(attr));
	hj_set(m, "transpose", hj_bool(0));
	hj_set(pl->mapping, key, m);
	return 0;
}

/* a float scalar buffer (dictionary_learning's threshold of TopK / BatchTopK) */
static int take_scalar(struct sae_plan *pl, const struct imp_tensors *ts, const char *key,
                       double *out, const char *to, const char *file, struct hus_err *err)
{
	const struct imp_tensor *t = imp_find(ts, key);
	if (!t)
		return hus_errf(err, HUS_EINPUT, file, key, "missing buffer '%s' of the %s layout", key,
		                pl->source_format);
	if (!t->data || t->numel != 1 || t->rank != 0)
		return hus_errf(err, HUS_EINPUT, file, key,
		                "expected a float scalar (0-dim tensor), found a %s tensor of rank %d",
		                t->dtype, t->rank);
	if (!isfinite(t->data[0]))
		return hus_errf(err, HUS_EINPUT, file, key, "non-finite value");
	*out = t->data[0];
	hj *m = hj_obj();
	hj_set(m, "to", hj_str(to));
	hj_set(m, "transpose", hj_bool(0));
	hj_set(pl->mapping, key, m);
	return 0;
}

/* A library whose encoder sees x (not x - b_dec) as input: husai's encoder always subtracts
 * b_dec (docs/formulas.md §4.3), so b_enc becomes b_enc + W_enc b_dec (float64 sum, rounded
 * once), recorded in key_mapping. */
static void fold_b_dec(struct sae_plan *pl, const char *bkey, const char *why)
{
	if (!pl->p[P_BDEC] || !pl->p[P_BENC])
		return;
	size_t d = pl->d_model;
	for (size_t j = 0; j < pl->d_sae; j++) {
		double b = pl->p[P_BENC][j];
		for (size_t r = 0; r < d; r++)
			b += (double)pl->p[P_WENC][j * d + r] * pl->p[P_BDEC][r];
		pl->p[P_BENC][j] = (float)b;
	}
	hj *m = hj_member(pl->mapping, bkey);
	if (m)
		hj_set(m, "folded", hj_str(why));
}

static void keep_str(char *dst, size_t n, hj *obj, const char *key)
{
	const char *v = obj ? hj_get_str(obj, key) : NULL;
	if (v && !*dst)
		snprintf(dst, n, "%s", v);
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

/* What a JSON value is, for "expected ..., found ..." */
static const char *json_kind(hj *parent, const char *key)
{
	hj *v = hj_get(parent, key);
	int64_t i;
	if (!v)
		return "nothing";
	if (hj_is_obj(v))
		return "an object";
	if (hj_is_arr(v))
		return "an array";
	if (!hj_get_i64(parent, key, &i))
		return "an integer";
	if (hj_is_num(v))
		return "a non-integer number";
	if (hj_get_str(parent, key))
		return "a string";
	return "true, false or null";
}

/* An optional integer key of cfg.json in [lo, hi]; *out set when present. */
static int cfgj_int(hj *cfg, const char *key, int64_t lo, int64_t hi, int64_t *out,
                   const char *cfgname, struct hus_err *err)
{
	if (!cfg || !hj_get(cfg, key))
		return 0;
	int64_t v;
	if (hj_get_i64(cfg, key, &v))
		return hus_errf(err, HUS_EINPUT, cfgname, key, "expected an integer in %lld..%lld, found %s",
		                (long long)lo, (long long)hi, json_kind(cfg, key));
	if (v < lo || v > hi)
		return hus_errf(err, HUS_EINPUT, cfgname, key, "expected an integer in %lld..%lld, found %lld",
		                (long long)lo, (long long)hi, (long long)v);
	if (out)
		*out = v;
	return 0;
}

/* An optional string key of cfg.json, one of `known` (NULL-terminated). */
static int cfgj_enum(hj *cfg, const char *key, const char *const *known, const char *cfgname,
                    struct hus_err *err)
{
	if (!cfg || !hj_get(cfg, key))
		return 0;
	const char *v = hj_get_str(cfg, key);
	char list[256] = "";
	size_t o = 0;
	for (size_t i = 0; known[i] && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", known[i]);
	if (!v)
		return hus_errf(err, HUS_EINPUT, cfgname, key, "expected one of %s, found %s", list,
		                json_kind(cfg, key));
	for (size_t i = 0; known[i]; i++)
		if (!strcmp(v, known[i]))
			return 0;
	return hus_errf(err, HUS_EINPUT, cfgname, key, "expected one of %s, found '%.100s'", list, v);
}

/*
 * cfg.json is checked like husai's own configs: every key husai reads has the right type and
 * range, names a known architecture, and k lies in 1..d_sae ({"k": "many", "architecture": 5}
 * imported as a ReLU SAE with k 0, exit 0; RELIABILITY.md, "Untrusted archives").
 */
static int validate_cfg(hj *cfg, const struct sae_plan *pl, int saelens, const char *cfgname,
                        struct hus_err *err)
{
	static const char *const archs[] = { "standard", "relu", "jumprelu", "topk", "gated", NULL };
	static const char *const acts[] = { "relu", "topk", NULL };
	int64_t dmax = INT64_MAX, dsae = (int64_t)pl->d_sae;
	int rc;
	if (!cfg)
		return 0;
	if ((rc = cfgj_int(cfg, "d_in", 1, dmax, NULL, cfgname, err)) ||
	    (rc = cfgj_int(cfg, "d_sae", 1, dmax, NULL, cfgname, err)) ||
	    (rc = cfgj_int(cfg, "num_latents", 0, dmax, NULL, cfgname, err)) ||
	    (rc = cfgj_int(cfg, "k", 1, dsae, NULL, cfgname, err)))
		return rc;
	if (!saelens)
		return 0;
	if ((rc = cfgj_enum(cfg, "architecture", archs, cfgname, err)) ||
	    (rc = cfgj_enum(cfg, "activation_fn_str", acts, cfgname, err)))
		return rc;
	hj *kw = hj_get(cfg, "activation_fn_kwargs");
	if (kw && !hj_is_obj(kw))
		return hus_errf(err, HUS_EINPUT, cfgname, "activation_fn_kwargs",
		                "expected an object, found %s", json_kind(cfg, "activation_fn_kwargs"));
	return cfgj_int(cfg, "activation_fn_kwargs.k", 1, dsae, NULL, cfgname, err);
}

static int map_saelens(struct sae_plan *pl, const struct imp_tensors *ts, hj *cfg,
                       const char *file, const char *cfgname, struct hus_err *err)
{
	snprintf(pl->source_format, sizeof(pl->source_format), "safetensors/saelens");
	/* SAELens: W_enc [d_in, d_sae] (x @ W_enc), W_dec [d_sae, d_in] (z @ W_dec) */
	int rc = dims2(ts, "W_enc", &pl->d_model, &pl->d_sae, "SAELens", file, err);
	if (rc || (rc = validate_cfg(cfg, pl, 1, cfgname, err)) ||
	    (rc = check_cfg_dims(pl, cfg, "d_sae", cfgname, err)))
		return rc;
	/* SAELens cfg: architecture standard / gated / jumprelu / topk; older versions say
	 * "standard" with activation_fn_str relu or topk */
	const char *arch = cfg_str_key(cfg, "architecture"), *act = cfg_str_key(cfg, "activation_fn_str");
	if ((!arch || !strcmp(arch, "standard")) && act && !strcmp(act, "topk"))
		arch = "topk";
	if (arch && !strcmp(arch, "gated"))
		return hus_errf(err, HUS_EINPUT, cfgname, "architecture",
		                "gated SAELens SAEs are not supported (b_gate, r_mag and b_mag have no "
		                "husai dataset); a --map file can import W_enc and W_dec alone");
	if (!arch)
		arch = imp_find(ts, "threshold") ? "jumprelu" : "relu";
	if (!strcmp(arch, "standard"))
		arch = "relu";
	snprintf(pl->architecture, sizeof(pl->architecture), "%s", arch);
	if ((rc = take(pl, ts, "W_enc", P_WENC, 1, 1, file, err)) ||
	    (rc = take(pl, ts, "W_dec", P_WDEC, 1, 1, file, err)) ||
	    (rc = take(pl, ts, "b_enc", P_BENC, 0, 1, file, err)) ||
	    (rc = take(pl, ts, "b_dec", P_BDEC, 0, 0, file, err)) ||
	    (rc = take(pl, ts, "threshold", P_THR, 0, 0, file, err)))
		return rc;
	int64_t k;
	if (cfg && (!hj_get_i64(cfg, "k", &k) || !hj_get_i64(cfg, "activation_fn_kwargs.k", &k)))
		pl->k = k;
	if (!strcmp(pl->architecture, "topk") && pl->k <= 0)
		return hus_errf(err, HUS_EINPUT, cfgname, "k",
		                "a topk SAELens SAE needs k in cfg.json (k or activation_fn_kwargs.k)");
	keep_str(pl->model, sizeof(pl->model), cfg, "model_name");
	keep_str(pl->hook, sizeof(pl->hook), cfg, "hook_name");
	keep_str(pl->dataset, sizeof(pl->dataset), cfg, "dataset_path");
	if (cfg && hj_kind_of(hj_member(cfg, "apply_b_dec_to_input")) == HJ_FALSE)
		fold_b_dec(pl, "b_enc", "b_enc + W_enc b_dec: the cfg says apply_b_dec_to_input false");
	return 0;
}

static int map_sparsify(struct sae_plan *pl, const struct imp_tensors *ts, hj *cfg,
                        const char *file, const char *cfgname, struct hus_err *err)
{
	snprintf(pl->source_format, sizeof(pl->source_format), "safetensors/sparsify");
	/* sparsify: encoder = nn.Linear(d_in, num_latents): weight [d_sae, d_in];
	 * W_dec [num_latents, d_in] */
	int rc = dims2(ts, "encoder.weight", &pl->d_sae, &pl->d_model, "sparsify", file, err);
	if (rc || (rc = validate_cfg(cfg, pl, 0, cfgname ? cfgname : file, err)) ||
	    (rc = check_cfg_dims(pl, cfg, "num_latents", cfgname, err)))
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

/* docs/formulas.md §4.2/§4.7: the upstream TopKSAE / ReLUSAE state dict (nn.Linear layouts) */
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

/*
 * dictionary_learning (saprmarks): ae.pt is torch.save(ae.state_dict()), config.json beside it
 * says {"trainer": {"dict_class", "activation_dim", "dict_size", "k", "seed", "lm_name",
 * "layer", "submodule_name", ...}}.  Per class (dictionary.py, trainers/top_k.py,
 * trainers/batch_top_k.py):
 *   AutoEncoder          encoder.weight [dict, d], encoder.bias, decoder.weight [d, dict], bias [d]
 *                        (subtracted before the encoder, added after the decoder: husai's b_dec)
 *   AutoEncoderTopK      encoder.weight, encoder.bias, decoder.weight [d, dict], b_dec, k (int),
 *                        threshold (float scalar, used only with use_threshold: kept as the
 *                        attribute source_threshold)
 *   BatchTopKSAE         the same; its scalar threshold is the inference rule, so it becomes the
 *                        per-latent /params/threshold (every latent the same value)
 *   JumpReluAutoEncoder  W_enc [d, dict], b_enc, W_dec [dict, d], b_dec, threshold [dict];
 *                        its encoder sees x, not x - b_dec: b_enc is folded (fold_b_dec)
 */
static int map_dictlearn(struct sae_plan *pl, const struct imp_tensors *ts, hj *cfg,
                         const char *file, const char *cfgname, struct hus_err *err)
{
	snprintf(pl->source_format, sizeof(pl->source_format), "torch-pt/dictionary_learning");
	hj *tr = cfg ? hj_member(cfg, "trainer") : NULL;
	const char *cls = tr && hj_is_obj(tr) ? hj_get_str(tr, "dict_class") : NULL;
	static const char *const classes =
		"AutoEncoder, AutoEncoderTopK, BatchTopKSAE or JumpReluAutoEncoder";
	if (!cls)
		return hus_errf(err, HUS_EINPUT, cfgname ? cfgname : file, "trainer.dict_class",
		                "expected the dictionary_learning config.json beside ae.pt, naming "
		                "trainer.dict_class (%s)", classes);
	int rc;
	if (!strcmp(cls, "AutoEncoder")) {
		snprintf(pl->architecture, sizeof(pl->architecture), "relu");
		if ((rc = dims2(ts, "encoder.weight", &pl->d_sae, &pl->d_model, cls, file, err)) ||
		    (rc = take(pl, ts, "encoder.weight", P_WENC, 0, 1, file, err)) ||
		    (rc = take(pl, ts, "encoder.bias", P_BENC, 0, 1, file, err)) ||
		    (rc = take(pl, ts, "decoder.weight", P_WDEC, 0, 1, file, err)) ||
		    (rc = take(pl, ts, "bias", P_BDEC, 0, 1, file, err)))
			return rc;
	} else if (!strcmp(cls, "AutoEncoderTopK") || !strcmp(cls, "BatchTopKSAE")) {
		int batch = !strcmp(cls, "BatchTopKSAE");
		snprintf(pl->architecture, sizeof(pl->architecture), batch ? "batchtopk" : "topk");
		double thr = 0;
		if ((rc = dims2(ts, "encoder.weight", &pl->d_sae, &pl->d_model, cls, file, err)) ||
		    (rc = take(pl, ts, "encoder.weight", P_WENC, 0, 1, file, err)) ||
		    (rc = take(pl, ts, "encoder.bias", P_BENC, 0, 1, file, err)) ||
		    (rc = take(pl, ts, "decoder.weight", P_WDEC, 0, 1, file, err)) ||
		    (rc = take(pl, ts, "b_dec", P_BDEC, 0, 1, file, err)) ||
		    (rc = take_int(pl, ts, "k", &pl->k, "@k", file, err)))
			return rc;
		if (imp_find(ts, "threshold") &&
		    (rc = take_scalar(pl, ts, "threshold", &thr,
		                      batch ? "/params/threshold (broadcast to every latent)"
		                            : "@source_threshold", file, err)))
			return rc;
		if (batch && imp_find(ts, "threshold")) {
			pl->p[P_THR] = malloc(pl->d_sae * sizeof(float));
			if (!pl->p[P_THR])
				return hus_errf(err, HUS_ENOMEM, file, "threshold", "out of memory");
			for (size_t j = 0; j < pl->d_sae; j++)
				pl->p[P_THR][j] = (float)thr;
		} else if (imp_find(ts, "threshold")) {
			pl->has_scalar_threshold = 1;
			pl->scalar_threshold = thr;
		}
		if (pl->k < 1 || (uint64_t)pl->k > pl->d_sae)
			return hus_errf(err, HUS_EINPUT, file, "k", "k %lld outside 1..%zu (d_sae)",
			                (long long)pl->k, pl->d_sae);
		int64_t ck;
		if (!hj_get_i64(tr, "k", &ck) && ck != pl->k)
			return hus_errf(err, HUS_EINPUT, cfgname, "trainer.k",
			                "config.json says k %lld, the ae.pt buffer says %lld",
			                (long long)ck, (long long)pl->k);
	} else if (!strcmp(cls, "JumpReluAutoEncoder")) {
		snprintf(pl->architecture, sizeof(pl->architecture), "jumprelu");
		if ((rc = dims2(ts, "W_enc", &pl->d_model, &pl->d_sae, cls, file, err)) ||
		    (rc = take(pl, ts, "W_enc", P_WENC, 1, 1, file, err)) ||
		    (rc = take(pl, ts, "W_dec", P_WDEC, 1, 1, file, err)) ||
		    (rc = take(pl, ts, "b_enc", P_BENC, 0, 1, file, err)) ||
		    (rc = take(pl, ts, "b_dec", P_BDEC, 0, 1, file, err)) ||
		    (rc = take(pl, ts, "threshold", P_THR, 0, 1, file, err)))
			return rc;
		fold_b_dec(pl, "b_enc", "b_enc + W_enc b_dec: dictionary_learning's JumpReLU encoder "
		                        "does not subtract b_dec (apply_b_dec_to_input False)");
	} else {
		return hus_errf(err, HUS_EINPUT, cfgname, "trainer.dict_class",
		                "expected %s, found '%.100s' (a --map file can import other classes)",
		                classes, cls);
	}
	int64_t v;
	if (!hj_get_i64(tr, "activation_dim", &v) && v != (int64_t)pl->d_model)
		return hus_errf(err, HUS_EINPUT, cfgname, "trainer.activation_dim",
		                "config.json says %lld, the tensors have d_model %zu", (long long)v,
		                pl->d_model);
	if (!hj_get_i64(tr, "dict_size", &v) && v != (int64_t)pl->d_sae)
		return hus_errf(err, HUS_EINPUT, cfgname, "trainer.dict_size",
		                "config.json says %lld, the tensors have d_sae %zu", (long long)v,
		                pl->d_sae);
	if ((rc = cfgj_int(tr, "seed", 0, INT64_MAX, &v, cfgname, err)))
		return rc;
	if (hj_get(tr, "seed"))
		pl->seed = v;
	keep_str(pl->model, sizeof(pl->model), tr, "lm_name");
	const char *sub = hj_get_str(tr, "submodule_name");
	int64_t layer;
	if (sub)
		snprintf(pl->hook, sizeof(pl->hook), "%s", sub);
	else if (!hj_get_i64(tr, "layer", &layer))
		snprintf(pl->hook, sizeof(pl->hook), "layer %lld", (long long)layer);
	keep_str(pl->dataset, sizeof(pl->dataset), cfg, "dataset");
	keep_str(pl->dataset, sizeof(pl->dataset), tr, "dataset");
	return 0;
}

/* user mapping file: {"architecture", "k", "seed", "map": {src: {"to", "transpose"}},
 * "skip": [src, ...]} */
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
		if (to && !strcmp(to, "skip")) {
			hj_set(pl->mapping, key, hj_str("skipped"));
			continue;
		}
		int w;
		for (w = 0; w < NP && (!to || strcmp(to, pname[w])); w++)
			;
		if (w == NP) {
			rc = hus_errf(err, HUS_EINPUT, map_path, key,
			              "'to' must be one of W_enc, b_enc, W_dec, b_dec, threshold, "
			              "feature_counts, or skip");
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
	const char *base = strrchr(src, '/');
	char *map = hj_dumps(pl->mapping);
	char *cfgj = pl->cfg ? hj_dumps(pl->cfg) : NULL;
	int64_t seed = o && o->seed >= 0 ? o->seed : pl->seed;
	const char *seed_source = o && o->seed >= 0 ? "command line (--seed / --seeds)"
	                          : pl->seed >= 0 ? "source cfg" : "file order";
	if (seed < 0)
		seed = o && o->order_seed >= 0 ? o->order_seed : 0;
	struct sae_imported s = {
		.d_model = pl->d_model, .d_sae = pl->d_sae,
		.architecture = pl->architecture, .k = pl->k, .seed = seed, .step = pl->step,
		.condition = o && o->condition ? o->condition : "imported",
		.imported_from = base ? base + 1 : src, .source_sha256 = sha,
		.source_format = pl->source_format, .key_mapping = map ? map : "{}",
		.seed_source = seed_source, .source_model = pl->model, .source_hook = pl->hook,
		.source_dataset = pl->dataset, .source_cfg = cfgj ? cfgj : "",
		.has_source_threshold = pl->has_scalar_threshold,
		.source_threshold = pl->scalar_threshold,
	};
	for (int i = 0; i < NP; i++) /* the same order as sae_imported's param */
		s.param[i] = pl->p[i];
	int rc = sae_imported_write(out, &s, err);
	free(map);
	free(cfgj);
	return rc;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* ---------------------------------------------------------------- entry point ------- */

static int is_safetensors(const char *path)
{
	return has_suffix(path, ".safetensors");
}

/* `name` beside the file (same directory) */
static void sibling_file(const char *src, const char *name, char *out, size_t n)
{
	const char *slash = strrchr(src, '/');
	if (slash)
		snprintf(out, n, "%.*s/%s", (int)(slash - src), src, name);
	else
		snprintf(out, n, "%s", name);
}

/* sparsify: the hookpoint is the file's directory; the run's config.json one level up (when
 * the folder was kept whole) gives the model, the dataset and the seed */
static int sparsify_meta(struct sae_plan *pl, const char *src, struct hus_err *err)
{
	char dir[4200], run[4300];
	const char *slash = strrchr(src, '/');
	if (!slash)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - src), src);
	const char *hp = strrchr(dir, '/');
	snprintf(pl->hook, sizeof(pl->hook), "%.255s", hp ? hp + 1 : dir);
	if (!hp)
		return 0;
	snprintf(run, sizeof(run), "%.*s/config.json", (int)(hp - dir), dir);
	if (!hus_file_exists(run))
		return 0;
	hj *rc_ = NULL;
	int rc = hj_read_file(run, &rc_, err);
	if (rc)
		return rc;
	if (hj_is_obj(rc_)) {
		keep_str(pl->model, sizeof(pl->model), rc_, "model");
		keep_str(pl->dataset, sizeof(pl->dataset), rc_, "dataset");
		int64_t v;
		if (hj_get(rc_, "seed") && !(rc = cfgj_int(rc_, "seed", 0, INT64_MAX, &v, run, err)))
			pl->seed = v;
	}
	hj_free(rc_);
	return rc;
}

static void upstream_meta(struct sae_plan *pl, const struct pt_value *root)
{
	const struct pt_value *cfg = pt_get(root, "config");
	const struct pt_value *a = pt_get(cfg, "architecture");
	const char *arch = "unknown";
	if (a && a->kind == PT_STR) {
		/* docs/formulas.md §4.1/§4.3: upstream topk is signed top-k without decoder bias; its
		 * "batchtopk" silently fell back to the same TopKSAE */
		arch = !strcmp(a->s, "topk") || !strcmp(a->s, "batchtopk") ? "topk_upstream"
		       : !strcmp(a->s, "relu") ? "relu" : "unknown";
	} else if (pt_get(root, "k")) {
		arch = "topk_upstream"; /* docs/formulas.md §4.7(c): TopKSAE.save */
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
	/* read once: the recorded sha256 is of exactly the bytes imported */
	char sha[65], *buf = NULL;
	size_t nbuf = 0;
	int rc = hus_read_file(src, &buf, &nbuf, err);
	if (rc)
		return rc;
	hus_sha256_buf(buf, nbuf, sha);
	struct sae_plan pl = { 0 };
	struct imp_tensors ts = { 0 };
	struct pt_doc *doc = NULL;
	hj *cfg = NULL;
	hj *mapfile = NULL;
	pl.mapping = hj_obj();
	pl.seed = -1;
	pl.step = -1;
	enum imp_layout lay = o ? o->layout : IMP_AUTO;
	/* a --map file either maps every key ("map") or only names keys to skip ("skip") */
	if (o && o->map_path) {
		if ((rc = hj_read_file(o->map_path, &mapfile, err)))
			goto cleanup;
		if (!hj_is_obj(mapfile)) {
			rc = hus_errf(err, HUS_EINPUT, o->map_path, NULL, "expected a JSON object with "
			              "\"map\" and/or \"skip\"");
			goto cleanup;
		}
		pl.skip = hj_member(mapfile, "skip");
		if (pl.skip && !hj_is_arr(pl.skip)) {
			rc = hus_errf(err, HUS_EINPUT, o->map_path, "skip",
			              "expected an array of source key names");
			goto cleanup;
		}
		for (size_t i = 0; pl.skip && i < hj_len(pl.skip); i++)
			if (hj_kind_of(hj_at(pl.skip, i)) != HJ_STR) {
				rc = hus_errf(err, HUS_EINPUT, o->map_path, "skip",
				              "entry %zu is not a string", i);
				goto cleanup;
			}
		if (hj_member(mapfile, "map") || !pl.skip)
			lay = IMP_USER_MAP;
	}
	if (is_safetensors(src)) {
		if ((rc = st_read_buf(&ts, buf, nbuf, src, err)))
			goto cleanup;
		free(buf); /* the tensors are copies */
		buf = NULL;
		char cfgp[4200];
		const char *cp = o && o->cfg_path ? o->cfg_path : NULL;
		if (!cp) {
			sibling_file(src, "cfg.json", cfgp, sizeof(cfgp));
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
		else if (lay == IMP_SPARSIFY) {
			rc = map_sparsify(&pl, &ts, cfg, src, cp, err);
			if (!rc)
				rc = sparsify_meta(&pl, src, err);
		}
		else if (lay == IMP_USER_MAP)
			rc = map_user(&pl, &ts, o->map_path, src, err);
		else
			rc = hus_errf(err, HUS_EINPUT, src, NULL,
			              "neither SAELens (W_enc, W_dec, ...) nor sparsify (encoder.weight, "
			              "W_dec, ...) keys: give --layout or a --map file");
		if (!rc && cfg && pl.seed < 0 && hj_get(cfg, "seed") &&
		    !(rc = cfgj_int(cfg, "seed", 0, INT64_MAX, NULL, cp, err)))
			hj_get_i64(cfg, "seed", &pl.seed);
	} else {
		if ((rc = pt_read_buf(&doc, buf, nbuf, src, err)))
			goto cleanup;
		free(buf);
		buf = NULL;
		struct pt_value *root = pt_root(doc);
		/* dictionary_learning: config.json beside ae.pt (or --cfg) with trainer.dict_class */
		char cfgp[4200];
		const char *cp = o && o->cfg_path ? o->cfg_path : NULL;
		if (!cp) {
			sibling_file(src, "config.json", cfgp, sizeof(cfgp));
			if (hus_file_exists(cfgp))
				cp = cfgp;
		}
		if (cp && (lay == IMP_AUTO || lay == IMP_DICTLEARN || lay == IMP_USER_MAP)) {
			if ((rc = hj_read_file(cp, &cfg, err)))
				goto cleanup;
			if (!hj_is_obj(cfg)) {
				rc = hus_errf(err, HUS_EINPUT, cp, NULL, "config.json is not a JSON object");
				goto cleanup;
			}
			if (lay == IMP_AUTO && hj_is_obj(hj_member(cfg, "trainer")) &&
			    hj_get_str(cfg, "trainer.dict_class"))
				lay = IMP_DICTLEARN;
		}
		if (lay == IMP_DICTLEARN) {
			if ((rc = pt_state_dict(&ts, root, src, "state_dict", err)) ||
			    (rc = map_dictlearn(&pl, &ts, cfg, src, cp, err)))
				goto cleanup;
			goto mapped;
		}
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
			rc = imp_transformer_write(out_path, root, src, sha, err);
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
mapped:
	if ((rc = check_unmapped(&pl, &ts, src, err)))
		goto cleanup;
	pl.cfg = cfg;
	if (kind)
		*kind = "sae";
	rc = write_sae(out_path, &pl, o, src, sha, err);
cleanup:
	free(buf);
	hj_free(cfg);
	hj_free(mapfile);
	pt_free(doc);
	imp_tensors_release(&ts);
	plan_release(&pl);
	return rc;
}
