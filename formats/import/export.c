/*
 * export.c — the work of `husai export` (struct export_request in import.h; the verb,
 * cmd_export.c, only parses the command line): husai SAE checkpoints (husai.sae_checkpoint,
 * trained or imported) back out to the ecosystem's layouts (issue 18), so that the library's
 * own loader opens them:
 *   saelens   <out>/<name>/sae_weights.safetensors (W_enc [d_in, d_sae], b_enc, W_dec
 *             [d_sae, d_in], b_dec, threshold) + cfg.json (architecture, d_in, d_sae, k in
 *             activation_fn_kwargs, model_name, hook_name, dataset_path, seed)
 *   sparsify  <out>/<name>/<hookpoint>/sae.safetensors (encoder.weight [num_latents, d_in],
 *             encoder.bias, W_dec [num_latents, d_in], b_dec) + cfg.json (num_latents, k,
 *             d_in, expansion_factor, normalize_decoder), and <out>/<name>/config.json (the
 *             run's: hookpoints, model, dataset, seed)
 * The tensors are husai's float32 values, transposed as the layout documents (never rounded,
 * never rescaled): importing the export gives the same /params datasets (tests/test_export.sh).
 * What a layout cannot express is refused with the reason (sparsify is TopK only; neither has
 * upstream's signed top-k without decoder bias).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"

#define EXPORT_PATH_MAX 4200 /* an output folder */

struct sae_in {
	size_t d, m;
	float *W_enc, *b_enc, *W_dec, *b_dec, *threshold; /* husai layout; b_dec, threshold opt. */
	char arch[32];
	int64_t k, seed;
	char *model, *hook, *dataset;
};

static void sae_in_release(struct sae_in *s)
{
	free(s->W_enc), free(s->b_enc), free(s->W_dec), free(s->b_dec), free(s->threshold);
	free(s->model), free(s->hook), free(s->dataset);
	memset(s, 0, sizeof(*s));
}

static int opt_attr(struct h5r *r, const char *name, char **out, struct hus_err *err)
{
	*out = NULL;
	if (!h5r_has_attr(r, "/", name))
		return 0;
	return h5r_attr_str(r, "/", name, out, err);
}

static int read_sae(const char *path, struct sae_in *s, struct hus_err *err)
{
	memset(s, 0, sizeof(*s));
	struct h5r *r = NULL;
	int rc = h5r_open(&r, path, HUS_FORMAT_SAE, 1, err);
	if (rc)
		return rc;
	int64_t d = 0, m = 0;
	char *arch = NULL;
	if ((rc = h5r_attr_i64(r, "/", "d_model", &d, err)) ||
	    (rc = h5r_attr_i64(r, "/", "d_sae", &m, err)) ||
	    (rc = h5r_attr_i64(r, "/", "k", &s->k, err)) ||
	    (rc = h5r_attr_i64(r, "/", "seed", &s->seed, err)) ||
	    (rc = h5r_attr_str(r, "/", "architecture", &arch, err)))
		goto done;
	snprintf(s->arch, sizeof(s->arch), "%s", arch);
	free(arch);
	if (d <= 0 || m <= 0 || d > (1 << 24) || m > (1 << 26)) {
		rc = hus_errf(err, HUS_EINPUT, path, "/", "implausible d_model %lld / d_sae %lld",
		              (long long)d, (long long)m);
		goto done;
	}
	s->d = (size_t)d, s->m = (size_t)m;
	size_t de[2] = { s->m, s->d }, dd[2] = { s->d, s->m }, bm[1] = { s->m }, bd[1] = { s->d };
	if ((rc = h5r_read_alloc(r, "/params/W_enc", HUS_F32, (void **)&s->W_enc, 2, de, err)) ||
	    (rc = h5r_read_alloc(r, "/params/b_enc", HUS_F32, (void **)&s->b_enc, 1, bm, err)) ||
	    (rc = h5r_read_alloc(r, "/params/W_dec", HUS_F32, (void **)&s->W_dec, 2, dd, err)))
		goto done;
	if (h5r_has(r, "/params/b_dec") &&
	    (rc = h5r_read_alloc(r, "/params/b_dec", HUS_F32, (void **)&s->b_dec, 1, bd, err)))
		goto done;
	if (h5r_has(r, "/params/threshold") &&
	    (rc = h5r_read_alloc(r, "/params/threshold", HUS_F32, (void **)&s->threshold, 1, bm,
	                         err)))
		goto done;
	if ((rc = opt_attr(r, "source_model", &s->model, err)) ||
	    (rc = opt_attr(r, "source_hook", &s->hook, err)) ||
	    (rc = opt_attr(r, "source_dataset", &s->dataset, err)))
		goto done;
	if (!s->b_dec && !(s->b_dec = calloc(s->d, sizeof(float))))
		rc = hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
done:
	h5r_close(r);
	if (rc)
		sae_in_release(s);
	return rc;
}

static float *transposed(const float *x, size_t rows, size_t cols)
{
	float *y = malloc(rows * cols * sizeof(float) + 1);
	if (y)
		for (size_t i = 0; i < rows; i++)
			for (size_t j = 0; j < cols; j++)
				y[j * rows + i] = x[i * cols + j];
	return y;
}

static struct imp_tensor tensor(const char *name, float *data, size_t a, size_t b)
{
	struct imp_tensor t;
	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	snprintf(t.dtype, sizeof(t.dtype), "F32");
	t.rank = b ? 2 : 1;
	t.dims[0] = a;
	t.dims[1] = b;
	t.numel = b ? a * b : a;
	t.data = data;
	return t;
}

static void set_str(hj *o, const char *key, const char *v)
{
	hj_set(o, key, v && *v ? hj_str(v) : hj_null());
}

/* SAELens names for husai's architectures (the rule each applies at inference) */
static const char *saelens_arch(const struct sae_in *s, const char *src, struct hus_err *err,
                                int *rc)
{
	*rc = 0;
	if (!strcmp(s->arch, "relu"))
		return "standard";
	if (!strcmp(s->arch, "topk"))
		return "topk";
	/* JumpReLU, and BatchTopK / Matryoshka at inference: z = pre where pre > threshold (and
	 * > 0), SAELens' jumprelu rule */
	if ((!strcmp(s->arch, "jumprelu") || !strcmp(s->arch, "batchtopk") ||
	     !strcmp(s->arch, "matryoshka")) && s->threshold)
		return "jumprelu";
	*rc = hus_errf(err, HUS_EINPUT, src, "architecture",
	               "a '%s' SAE%s has no SAELens equivalent (SAELens has standard, topk and "
	               "jumprelu; upstream's topk is signed and has no decoder bias)", s->arch,
	               s->threshold ? "" : " without per-latent thresholds");
	return NULL;
}

static int export_saelens(const char *src, const struct sae_in *s, const char *dir,
                          struct hus_err *err)
{
	int rc;
	const char *arch = saelens_arch(s, src, err, &rc);
	if (!arch)
		return rc;
	float *We = transposed(s->W_enc, s->m, s->d); /* [d_in, d_sae] */
	float *Wd = transposed(s->W_dec, s->d, s->m); /* [d_sae, d_in] */
	if (!We || !Wd) {
		free(We), free(Wd);
		return hus_errf(err, HUS_ENOMEM, src, NULL, "out of memory");
	}
	struct imp_tensor t[5] = {
		tensor("W_enc", We, s->d, s->m), tensor("b_enc", s->b_enc, s->m, 0),
		tensor("W_dec", Wd, s->m, s->d), tensor("b_dec", s->b_dec, s->d, 0),
		tensor("threshold", s->threshold, s->m, 0),
	};
	size_t nt = strcmp(arch, "jumprelu") ? 4 : 5;
	char path[4400];
	snprintf(path, sizeof(path), "%s/sae_weights.safetensors", dir);
	rc = st_write_file(path, t, nt, NULL, err);
	free(We), free(Wd);
	if (rc)
		return rc;
	hj *cfg = hj_obj();
	hj_set(cfg, "architecture", hj_str(arch));
	hj_set(cfg, "d_in", hj_int((int64_t)s->d));
	hj_set(cfg, "d_sae", hj_int((int64_t)s->m));
	hj_set(cfg, "dtype", hj_str("float32"));
	hj_set(cfg, "device", hj_str("cpu"));
	hj_set(cfg, "apply_b_dec_to_input", hj_bool(1)); /* husai's encoder sees x - b_dec */
	hj_set(cfg, "normalize_activations", hj_str("none"));
	if (!strcmp(arch, "topk")) {
		hj *kw = hj_obj();
		hj_set(kw, "k", hj_int(s->k));
		hj_set(cfg, "activation_fn_kwargs", kw);
	}
	set_str(cfg, "model_name", s->model);
	set_str(cfg, "hook_name", s->hook);
	set_str(cfg, "dataset_path", s->dataset);
	hj_set(cfg, "seed", hj_int(s->seed));
	hj_set(cfg, "husai_architecture", hj_str(s->arch));
	snprintf(path, sizeof(path), "%s/cfg.json", dir);
	rc = hj_write_file(path, cfg, err);
	hj_free(cfg);
	return rc;
}

static int export_sparsify(const char *src, const struct sae_in *s, const char *dir,
                           struct hus_err *err)
{
	if (strcmp(s->arch, "topk"))
		return hus_errf(err, HUS_EINPUT, src, "architecture",
		                "sparsify SAEs are TopK (ReLU then the k largest, decoder bias "
		                "subtracted first); this SAE is '%s': export it --to saelens", s->arch);
	float *Wd = transposed(s->W_dec, s->d, s->m); /* [num_latents, d_in] */
	if (!Wd)
		return hus_errf(err, HUS_ENOMEM, src, NULL, "out of memory");
	struct imp_tensor t[4] = {
		tensor("encoder.weight", s->W_enc, s->m, s->d), tensor("encoder.bias", s->b_enc, s->m, 0),
		tensor("W_dec", Wd, s->m, s->d), tensor("b_dec", s->b_dec, s->d, 0),
	};
	char path[4400];
	snprintf(path, sizeof(path), "%s/sae.safetensors", dir);
	int rc = st_write_file(path, t, 4, NULL, err);
	free(Wd);
	if (rc)
		return rc;
	hj *cfg = hj_obj();
	hj_set(cfg, "expansion_factor", hj_int((int64_t)(s->m / s->d)));
	hj_set(cfg, "normalize_decoder", hj_bool(1));
	hj_set(cfg, "num_latents", hj_int((int64_t)s->m));
	hj_set(cfg, "k", hj_int(s->k));
	hj_set(cfg, "multi_topk", hj_bool(0));
	hj_set(cfg, "skip_connection", hj_bool(0));
	hj_set(cfg, "d_in", hj_int((int64_t)s->d));
	snprintf(path, sizeof(path), "%s/cfg.json", dir);
	rc = hj_write_file(path, cfg, err);
	hj_free(cfg);
	if (rc)
		return rc;
	/* the run folder's config.json, as sparsify's trainer writes it one level up: the
	 * seed, model and dataset live there, not in the hookpoint's cfg.json */
	char run[4400];
	const char *slash = strrchr(dir, '/');
	snprintf(run, sizeof(run), "%.*s/config.json", slash ? (int)(slash - dir) : 1,
	         slash ? dir : ".");
	hj *rcfg = hj_obj(), *hps = hj_arr();
	hj_push(hps, hj_str(slash ? slash + 1 : dir));
	hj_set(rcfg, "hookpoints", hps);
	set_str(rcfg, "model", s->model);
	set_str(rcfg, "dataset", s->dataset);
	hj_set(rcfg, "seed", hj_int(s->seed));
	rc = hj_write_file(run, rcfg, err);
	hj_free(rcfg);
	return rc;
}


int hus_export_plain_name(const char *s)
{
	return s && *s && strlen(s) < 200 && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* The first pass over source i (read into *s): its folder in outs[i], the layout can take
 * it, no other source goes to the same folder, nothing is overwritten without --force. */
static int plan_one(const struct export_request *q, int sparsify, size_t i,
                    const struct sae_in *s, char (*outs)[EXPORT_PATH_MAX], struct hus_err *err)
{
	const char *src = q->saes[i];
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	int len = (int)strlen(base);
	if (len > 3 && !strcmp(base + len - 3, ".h5"))
		len -= 3;
	if (sparsify)
		snprintf(outs[i], EXPORT_PATH_MAX, "%s/%.*s/%s", q->out, len, base,
		         q->hookpoint ? q->hookpoint : hus_export_plain_name(s->hook) ? s->hook : "sae");
	else
		snprintf(outs[i], EXPORT_PATH_MAX, "%s/%.*s", q->out, len, base);
	char probe[EXPORT_PATH_MAX + 100];
	snprintf(probe, sizeof(probe), "%s/%s", outs[i],
	         sparsify ? "sae.safetensors" : "sae_weights.safetensors");
	int rc = 0;
	if (sparsify && strcmp(s->arch, "topk"))
		return export_sparsify(src, s, NULL, err); /* only refuses */
	if (!sparsify && !saelens_arch(s, src, err, &rc))
		return rc;
	for (size_t j = 0; j < i; j++)
		if (!strcmp(outs[i], outs[j]))
			return hus_errf(err, HUS_EUSAGE, NULL, NULL,
			                "export: '%s' and '%s' would both be written to '%s' (export "
			                "them to different --out folders)", q->saes[j], src, outs[i]);
	if (!q->force && hus_file_exists(probe))
		return hus_errf(err, HUS_EINPUT, probe, NULL, "exists (use --force to overwrite)");
	return 0;
}

int hus_export(const struct export_request *q, struct hus_err *err)
{
	int sparsify = !strcmp(q->to, "sparsify");
	if (!sparsify && strcmp(q->to, "saelens"))
		return hus_errf(err, HUS_EUSAGE, NULL, NULL,
		                "export: --to expects saelens or sparsify, found '%s'", q->to);
	/* two passes: every source is read and checked (layout possible, names distinct, nothing
	 * overwritten) before anything is written, so a refused SAE leaves no partial export */
	char (*outs)[EXPORT_PATH_MAX] = calloc(q->n_saes ? q->n_saes : 1, sizeof(*outs));
	if (!outs)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "export: out of memory");
	int rc = 0;
	for (int pass = 0; pass < 2 && !rc; pass++)
		for (size_t i = 0; i < q->n_saes && !rc; i++) {
			const char *src = q->saes[i];
			struct sae_in s;
			if ((rc = read_sae(src, &s, err)))
				break;
			if (!pass)
				rc = plan_one(q, sparsify, i, &s, outs, err);
			else if (!(rc = hus_mkdirs(outs[i], err)) &&
			         !(rc = sparsify ? export_sparsify(src, &s, outs[i], err)
			                         : export_saelens(src, &s, outs[i], err)))
				printf("exported %s -> %s (%s)\n", src, outs[i], q->to);
			sae_in_release(&s);
		}
	free(outs);
	return rc;
}
