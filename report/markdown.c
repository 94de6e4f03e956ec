/*
 * markdown.c — the report driver's Markdown side: for each run, what the report adds to its
 * template context (under "_report": name, kind, directory name, checksum status, figures
 * with links or the reason they were skipped), the per-run summary.md from
 * templates/summary_<kind>.md, and the follow-up report.md (templates/followup.md) over all
 * runs, each run's results under its name.  Templates come from the binary (the templates/ files
 * embedded at build time) or from a directory given with --templates.  Only relative paths and the run directory's
 * base name enter the Markdown, so a moved run gives the same bytes.
 */
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *first_ext(unsigned formats)
{
	return (formats & FIG_PNG) ? "png" : (formats & FIG_SVG) ? "svg" : "pdf";
}

/* *global: figures numbered so far in the follow-up report (drawn ones only) */
static hj *figures_json(const struct rep_fig_result *f, size_t n, unsigned formats,
                        const char *n_text, size_t *global)
{
	hj *a = hj_arr();
	size_t local = 0;
	for (size_t i = 0; i < n; i++) {
		hj *o = hj_obj();
		char buf[PATH_MAX + 16];
		if (f[i].drawn) {
			hj_set(o, "number", hj_int((int64_t)++local));
			hj_set(o, "global_number", hj_int((int64_t)++*global));
		}
		hj_set(o, "n_text", hj_str(n_text));
		hj_set(o, "id", hj_str(f[i].id));
		hj_set(o, "caption", hj_str(f[i].caption));
		hj_set(o, "drawn", hj_bool(f[i].drawn));
		hj_set(o, "skip", hj_str(f[i].skip));
		hj_set(o, "nan", hj_int((int64_t)f[i].n_nonfinite));
		hj_set(o, "null_paths", hj_str(f[i].null_paths));
		snprintf(buf, sizeof(buf), "figures/%s.%s", f[i].name, first_ext(formats));
		hj_set(o, "link", hj_str(buf));
		snprintf(buf, sizeof(buf), "%s.%s", f[i].path, first_ext(formats));
		hj_set(o, "root_link", hj_str(buf));
		char fm[32] = "";
		if (formats & FIG_PNG)
			strcat(fm, "PNG");
		if (formats & FIG_SVG)
			strcat(fm, fm[0] ? ", SVG" : "SVG");
		if (formats & FIG_PDF)
			strcat(fm, fm[0] ? ", PDF" : "PDF");
		hj_set(o, "formats", hj_str(fm));
		hj_push(a, o);
	}
	return a;
}

static const char *run_basename(const struct rep_run *r, char *buf, size_t n)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", r->dir);
	size_t len = strlen(tmp);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = 0;
	snprintf(buf, n, "%s", basename(tmp));
	return buf;
}

/* tdir NULL: the templates compiled into the binary; else the files in tdir.  Writes
 * out_path (sections numbered 1, 2, 3, ...), its provenance sidecar <stem>.sources.json and a
 * LaTeX booktabs file per table (<stem>.table<i>.tex); sentences: the numbers of the rule-
 * chosen sentences, for the sidecar. */
static int render_file(const char *tdir, const char *tname, hj *ctx, const char *src_prefix,
                       const char *out_path, hj *runs, hj *sentences, struct hus_err *err)
{
	char tpath[PATH_MAX + 64];
	char *tmpl = NULL, *md = NULL, *numbered = NULL;
	int rc = 0;
	if (tdir) {
		size_t n;
		snprintf(tpath, sizeof(tpath), "%s/%s", tdir, tname);
		if ((rc = hus_read_file(tpath, &tmpl, &n, err)))
			return rc;
	} else {
		snprintf(tpath, sizeof(tpath), "templates/%s (built in)", tname);
		for (size_t i = 0; rep_templates[i].name && !tmpl; i++)
			if (!strcmp(rep_templates[i].name, tname))
				tmpl = strdup((const char *)rep_templates[i].text);
		if (!tmpl)
			return hus_errf(err, HUS_EINTERNAL, tpath, NULL, "template not built in");
	}
	hj *numbers = hj_arr();
	rc = rep_template_render_sources(tmpl, tpath, ctx, src_prefix, &md, numbers, err);
	if (!rc && !(numbered = rep_md_number_sections(md)))
		rc = hus_errf(err, HUS_ENOMEM, out_path, NULL, "out of memory");
	char stem[PATH_MAX + 80];
	snprintf(stem, sizeof(stem), "%s", out_path);
	char *dot = strrchr(stem, '.');
	if (dot && !strcmp(dot, ".md"))
		*dot = 0;
	size_t ntab = 0;
	if (!rc)
		rc = hus_write_file(out_path, numbered, strlen(numbered), err);
	if (!rc)
		rc = rep_md_write_sources(stem, strrchr(out_path, '/') ? strrchr(out_path, '/') + 1
		                                                       : out_path,
		                          runs, numbers, sentences, err);
	if (!rc)
		rc = rep_md_latex_tables(numbered, stem, &ntab, err);
	hj_free(numbers);
	free(tmpl);
	free(md);
	free(numbered);
	return rc;
}

/* "n = 5 seeds per condition" for captions: the models behind a run's numbers */
static void seeds_text(hj *res, char *buf, size_t n)
{
	static const char *const keys[] = { RJK_K_SWEEP ".0." RJK_N_SEEDS, RJK_D_SAE_SWEEP ".0." RJK_N_SEEDS,
		                            RJK_SEARCH_RECORDS ".0." RJK_N_SEEDS, RJK_RECORDS ".0." RJK_N_MODELS,
		                            RJ_PATH2(RJK_TRAINED, RJK_N), NULL };
	double v = NAN;
	for (int i = 0; keys[i] && isnan(v); i++)
		if (hj_get_f64(res, keys[i], &v))
			v = NAN;
	if (isnan(v)) {
		size_t s = hj_len(hj_get(res, RJ_PATH2(RJK_TRAINED, RJK_SEEDS)));
		v = s ? (double)s : NAN;
	}
	if (isnan(v))
		snprintf(buf, n, "n not recorded");
	else
		snprintf(buf, n, "n = %.0f models per condition", v);
}

static const char *summary_template(enum rep_kind k)
{
	switch (k) {
	case REP_PHASE4A: return "summary_phase4a.md";
	case REP_CORE: return "summary_core_ablations.md";
	case REP_ADAPTIVE: return "summary_adaptive_l0.md";
	case REP_CONSISTENCY: return "summary_consistency_sweep.md";
	case REP_SLICE: return "summary_benchmark_slice.md";
	case REP_CONVERGENCE: return "summary_convergence.md";
	case REP_STABILITY: return "summary_stability.md";
	case REP_PLANTED: return "summary_planted.md";
	default: return "summary_generic.md";
	}
}

int rep_markdown_write(struct rep_run *runs, size_t nruns,
                       struct rep_fig_result (*figs)[REP_MAX_FIGS], const size_t *nfigs,
                       const char *templates_dir, const char *out_root, unsigned formats,
                       struct hus_err *err)
{
	int rc = 0;
	hj *ctx = hj_obj(), *list = hj_arr(), *top = hj_obj(), *by_kind = hj_obj(),
	   *all_sentences = hj_arr(), *all_runs = hj_arr();
	size_t global_fig = 0;
	for (size_t i = 0; i < nruns && !rc; i++) {
		struct rep_run *r = &runs[i];
		char base[PATH_MAX], ntext[64];
		hj *rep = hj_obj();
		seeds_text(r->res, ntext, sizeof(ntext));
		hj_set(rep, "name", hj_str(r->name));
		hj_set(rep, "kind", hj_str(rep_kind_name(r->kind)));
		hj_set(rep, "dir", hj_str(run_basename(r, base, sizeof(base))));
		hj_set(rep, "tampered", hj_bool(r->tampered));
		hj_set(rep, "figures", figures_json(figs[i], nfigs[i], formats, ntext, &global_fig));
		hj *skipped = hj_arr();
		for (size_t f = 0; f < nfigs[i]; f++)
			if (!figs[i][f].drawn) {
				char b[600];
				snprintf(b, sizeof(b), "%s (%s)", figs[i][f].id, figs[i][f].skip);
				hj_push(skipped, hj_str(b));
			}
		hj_set(rep, "not_drawn", skipped);
		hj_set(r->res, "_report", rep); /* the parsed copy only; results.json is untouched */
		rep_findings(r->res, base);
		/* runs of one kind side by side: _report.by_kind.<kind> lists them in order */
		const char *kn = rep_kind_name(r->kind);
		if (!hj_get(by_kind, kn))
			hj_set(by_kind, kn, hj_arr());
		hj_push(hj_member(by_kind, kn), hj_ref(r->res));
		/* the follow-up prints the opening sentences of the core and stability runs only
		 * (followup.md): its sidecar lists the numbers of those alone */
		int leads_shown = r->kind == REP_CORE || r->kind == REP_STABILITY;
		for (size_t k = 0; leads_shown && k < hj_len(hj_get(rep, "lead_sources")); k++)
			hj_push(all_sentences, hj_ref(hj_at(hj_get(rep, "lead_sources"), k)));

		hj *e = hj_obj();
		hj_set(e, "name", hj_str(r->name));
		hj_set(e, "kind", hj_str(rep_kind_name(r->kind)));
		hj_set(e, "dir", hj_str(base));
		hj_set(e, "tampered", hj_bool(r->tampered));
		const char *cmd = hj_get_str(r->res, RJ_PATH2(RJK_RUN_METADATA, RJK_COMMAND));
		hj_set(e, RJK_COMMAND, hj_str(cmd ? cmd : ""));
		const char *rid = hj_get_str(r->res, RJ_PATH2(RJK_RUN_METADATA, RJK_RUN_ID));
		hj_set(e, RJK_RUN_ID, hj_str(rid ? rid : ""));
		hj_push(list, e);
		hj_set(ctx, r->name, hj_ref(r->res));

		char out[PATH_MAX + 80];
		snprintf(out, sizeof(out), "%s/%s", out_root, r->name);
		if ((rc = hus_mkdirs(out, err)))
			break;
		snprintf(out, sizeof(out), "%s/%s/summary.md", out_root, r->name);
		/* which results.json the sidecars' sources are: the run's base name and checksum */
		hj *one = hj_obj(), *runs1 = hj_arr();
		char hex[65] = "";
		if (hus_sha256_file(r->results_path, hex, NULL, NULL))
			hex[0] = 0; /* read a moment ago: only a race leaves it empty, and audit says so */
		hj_set(one, "name", hj_str(r->name));
		hj_set(one, "dir", hj_str(base));
		hj_set(one, "results_sha256", hj_str(hex));
		hj_push(runs1, hj_ref(one));
		hj_push(all_runs, one);
		rc = render_file(templates_dir, summary_template(r->kind), r->res, "results.json:", out,
		                 runs1, hj_get(rep, "lead_sources"), err);
		hj_free(runs1);
	}
	hj_set(top, "runs", list);
	hj_set(top, "by_kind", by_kind);
	hj_set(ctx, "_report", top);
	if (!rc) {
		char out[PATH_MAX + 16];
		snprintf(out, sizeof(out), "%s/report.md", out_root);
		rc = render_file(templates_dir, "followup.md", ctx, NULL, out, all_runs, all_sentences,
		                 err);
	}
	hj_free(all_sentences);
	hj_free(all_runs);
	hj_free(ctx);
	return rc;
}
