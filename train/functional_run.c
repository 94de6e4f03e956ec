/*
 * functional_run.c — the work of `husai functional` (struct functional_request in train.h; the
 * verb, cmd_functional.c, only parses the command line): do matched features of two seeds'
 * SAEs do the same thing in the model?  For every pair of a group's SAEs (the pairs and the
 * |cos| Hungarian matchings `husai analyze` stored), the substitution test against a random
 * unmatched control and the agreement of ablation fingerprints (functional.c,
 * docs/formulas.md §11), into OUT/functional.json.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"

/* What one run holds: the model, its activation set, the SAEs and every pair's result. */
struct fn_run {
	struct tf_config cfg;
	float *params;
	struct fn_model m;
	struct acts_set set;
	int have_model, have_set;
	char tf_sha[65], acts_sha[65];
	struct fn_sae *saes;
	size_t built;             /* saes[0 .. built) initialised */
	size_t np;                /* pairs, in (i, j > i) order */
	struct fn_pair_result *res;
	int64_t *sa, *sb;         /* each pair's seeds */
};

static hj *pair_json(const int64_t *sa, const int64_t *sb, const struct fn_pair_result *r,
                     size_t np)
{
	static const char *const names[] = { "matched_dloss", "random_dloss", RJK_MATCHED_ABS_DLOSS,
		                             RJK_RANDOM_ABS_DLOSS, "matched_dacc", "random_dacc",
		                             RJK_FINGERPRINT_COS_MATCHED, RJK_FINGERPRINT_COS_RANDOM };
	hj *o = hj_obj();
	hj_set(o, RJK_SEED_A, hj_i64_array(sa, np));
	hj_set(o, RJK_SEED_B, hj_i64_array(sb, np));
	hj *nf = hj_arr();
	for (size_t p = 0; p < np; p++)
		hj_push(nf, hj_int((int64_t)r[p].n_features));
	hj_set(o, "n_features", nf);
	double *v = malloc((np ? np : 1) * sizeof(double));
	for (size_t c = 0; v && c < sizeof(names) / sizeof(names[0]); c++) {
		for (size_t p = 0; p < np; p++) {
			const struct fn_pair_result *x = &r[p];
			const double vals[] = { x->matched_dloss, x->random_dloss, x->matched_abs_dloss,
				                x->random_abs_dloss, x->matched_dacc, x->random_dacc,
				                x->fp_cos_matched, x->fp_cos_random };
			v[p] = vals[c];
		}
		hj_set(o, names[c], hj_f64_array(v, np));
	}
	free(v);
	return o;
}

/* The model, the activation set (checked against it) and every SAE (trained on that set). */
static int load(const struct functional_request *q, struct fn_run *f, struct hus_err *err)
{
	uint64_t bytes;
	int rc;
	if ((rc = hus_sha256_file(q->transformer, f->tf_sha, &bytes, err)) ||
	    (rc = hus_sha256_file(q->activations, f->acts_sha, &bytes, err)) ||
	    (rc = tf_ckpt_load_params(q->transformer, &f->cfg, &f->params, err)) ||
	    (rc = fn_model_init(&f->m, &f->cfg, f->params, err)))
		return rc;
	f->have_model = 1;
	if ((rc = acts_read(q->activations, &f->set, err)))
		return rc;
	f->have_set = 1;
	if ((rc = fn_model_check_acts(&f->m, &f->set, q->activations, f->tf_sha, err)))
		return rc;
	for (size_t i = 0; i < q->n_saes; i++, f->built++) {
		struct sae_ckpt ck;
		const char *path = q->saes[i];
		if ((rc = sae_ckpt_read(path, &ck, err)))
			return rc;
		if (strcmp(ck.activation_sha256, f->acts_sha))
			rc = hus_errf(err, HUS_EINPUT, path, "activation_sha256",
			              "the SAE was trained on another activation set (%.12s…, the given "
			              "set is %.12s…)", ck.activation_sha256, f->acts_sha);
		if (!rc)
			rc = fn_sae_init(&f->saes[i], &f->m, &ck, path, err);
		sae_ckpt_release(&ck);
		if (rc)
			return rc;
	}
	return 0;
}

/* fn_pair for every pair, under the group's stored matching. */
static int run_pairs(const struct functional_request *q, struct fn_run *f, struct hus_err *err)
{
	struct h5r *ar = NULL;
	int rc = h5r_open(&ar, q->matching, ANALYSIS_FORMAT, ANALYSIS_VERSION, err);
	if (rc)
		return rc;
	size_t p = 0, ns = q->n_saes;
	for (size_t i = 0; i < ns && !rc; i++)
		for (size_t j = i + 1; j < ns && !rc; j++, p++) {
			int32_t *perm = NULL;
			size_t mm = 0;
			f->sa[p] = f->saes[i].seed, f->sb[p] = f->saes[j].seed;
			if ((rc = ana_read_matching(ar, q->group, f->sa[p], f->sb[p], "", &perm, &mm,
			                            err)))
				break;
			if (mm != f->saes[i].m)
				rc = hus_errf(err, HUS_EINPUT, q->matching, "matching",
				              "the matching of seeds %" PRId64 " and %" PRId64 " has %zu "
				              "entries, the SAE %zu latents", f->sa[p], f->sb[p], mm,
				              f->saes[i].m);
			if (!rc)
				rc = fn_pair(&f->m, &f->saes[i], &f->saes[j], perm,
				             (uint64_t)q->seed + 1000u * p, &f->res[p], err);
			free(perm);
			if (rc && !err->file[0])
				snprintf(err->file, sizeof(err->file), "%s", q->matching);
		}
	h5r_close(ar);
	return rc;
}

/* <out>/functional.json, its path in path. */
static int write_json(const struct functional_request *q, const struct fn_run *f, char *path,
                      size_t n, struct hus_err *err)
{
	hj *root = hj_obj();
	hj_set(root, "format", hj_str("husai.functional"));
	hj_set(root, "version", hj_int(1));
	hj_set(root, "group", hj_str(q->group));
	hj_set(root, "definition", hj_str("docs/formulas.md section 11"));
	hj_set(root, "hook", hj_str(f->set.hook));
	hj_set(root, "layer", hj_int(f->set.layer));
	hj_set(root, "position", hj_str(f->set.position));
	hj_set(root, "eval_rows", hj_str("the transformer's validation examples (data.split_seed, "
	                                 "data.train_fraction)"));
	hj_set(root, "n_rows", hj_int((int64_t)f->m.n));
	hj_set(root, "random_seed", hj_int(q->seed));
	hj_set(root, "clean_loss", hj_num(f->m.clean_loss));
	hj_set(root, "clean_accuracy", hj_num(f->m.clean_acc));
	hj *sj = hj_arr();
	for (size_t i = 0; i < q->n_saes; i++) {
		hj *o = hj_obj();
		hj_set(o, "seed", hj_int(f->saes[i].seed));
		hj_set(o, "spliced_loss", hj_num(f->saes[i].loss));
		hj_set(o, "spliced_accuracy", hj_num(f->saes[i].acc));
		hj_push(sj, o);
	}
	hj_set(root, "saes", sj);
	hj_set(root, "pairs", pair_json(f->sa, f->sb, f->res, f->np));
	int rc = hus_mkdirs(q->out, err);
	snprintf(path, n, "%s/functional.json", q->out);
	if (!rc)
		rc = hj_write_file(path, root, err);
	hj_free(root);
	return rc;
}

int functional_run(const struct functional_request *q, struct hus_err *err)
{
	struct fn_run f;
	memset(&f, 0, sizeof(f));
	size_t ns = q->n_saes;
	if (ns < 2)
		return hus_errf(err, HUS_EUSAGE, NULL, NULL, "functional: a group needs at least "
		                "2 SAE checkpoints, found %zu", ns);
	f.np = ns * (ns - 1) / 2;
	f.saes = calloc(ns, sizeof(*f.saes));
	f.res = calloc(f.np, sizeof(*f.res));
	f.sa = calloc(f.np, sizeof(int64_t)), f.sb = calloc(f.np, sizeof(int64_t));
	char path[PATH_MAX];
	int rc;
	if (!f.saes || !f.res || !f.sa || !f.sb)
		rc = hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	else if (!(rc = load(q, &f, err)) && !(rc = run_pairs(q, &f, err)) &&
	         !(rc = write_json(q, &f, path, sizeof(path), err)))
		printf("%s: %zu pairs of group %s on %zu held-out rows\n", path, f.np, q->group,
		       f.m.n);
	for (size_t i = 0; f.saes && i < f.built; i++)
		fn_sae_release(&f.saes[i]);
	if (f.have_model)
		fn_model_release(&f.m);
	if (f.have_set)
		acts_release(&f.set);
	free(f.saes), free(f.res), free(f.sa), free(f.sb), free(f.params);
	return rc;
}
