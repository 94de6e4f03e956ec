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
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *first_ext(unsigned formats)
{
	return (formats & FIG_PNG) ? "png" : (formats & FIG_SVG) ? "svg" : "pdf";
}

static hj *figures_json(const struct rep_fig_result *f, size_t n, unsigned formats)
{
	hj *a = hj_arr();
	for (size_t i = 0; i < n; i++) {
		hj *o = hj_obj();
		char buf[PATH_MAX + 16];
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

/* tdir NULL: the templates compiled into the binary; else the files in tdir. */
static int render_file(const char *tdir, const char *tname, hj *ctx, const char *src_prefix,
                       const char *out_path, struct hus_err *err)
{
	char tpath[PATH_MAX + 64];
	char *tmpl = NULL, *md = NULL;
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
	rc = rep_template_render(tmpl, tpath, ctx, src_prefix, &md, err);
	if (!rc)
		rc = hus_write_file(out_path, md, strlen(md), err);
	free(tmpl);
	free(md);
	return rc;
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
	hj *ctx = hj_obj(), *list = hj_arr(), *top = hj_obj();
	for (size_t i = 0; i < nruns && !rc; i++) {
		struct rep_run *r = &runs[i];
		char base[PATH_MAX];
		hj *rep = hj_obj();
		hj_set(rep, "name", hj_str(r->name));
		hj_set(rep, "kind", hj_str(rep_kind_name(r->kind)));
		hj_set(rep, "dir", hj_str(run_basename(r, base, sizeof(base))));
		hj_set(rep, "tampered", hj_bool(r->tampered));
		hj_set(rep, "figures", figures_json(figs[i], nfigs[i], formats));
		hj_set(r->res, "_report", rep); /* the parsed copy only; results.json is untouched */

		hj *e = hj_obj();
		hj_set(e, "name", hj_str(r->name));
		hj_set(e, "kind", hj_str(rep_kind_name(r->kind)));
		hj_set(e, "dir", hj_str(base));
		hj_set(e, "tampered", hj_bool(r->tampered));
		const char *cmd = hj_get_str(r->res, "run_metadata.command");
		hj_set(e, "command", hj_str(cmd ? cmd : ""));
		const char *rid = hj_get_str(r->res, "run_metadata.run_id");
		hj_set(e, "run_id", hj_str(rid ? rid : ""));
		hj_push(list, e);
		hj_set(ctx, r->name, hj_ref(r->res));

		char out[PATH_MAX + 80];
		snprintf(out, sizeof(out), "%s/%s", out_root, r->name);
		if ((rc = hus_mkdirs(out, err)))
			break;
		snprintf(out, sizeof(out), "%s/%s/summary.md", out_root, r->name);
		rc = render_file(templates_dir, summary_template(r->kind), r->res, "results.json:", out,
		                 err);
	}
	hj_set(top, "runs", list);
	hj_set(ctx, "_report", top);
	if (!rc) {
		char out[PATH_MAX + 16];
		snprintf(out, sizeof(out), "%s/report.md", out_root);
		rc = render_file(templates_dir, "followup.md", ctx, NULL, out, err);
	}
	hj_free(ctx);
	return rc;
}
