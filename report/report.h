/*
 * report.h — the public face of report/: plotting primitives on cairo + pango, axes, the
 * figures, and Markdown rendering from templates/.  Reads only analysis outputs (a run
 * directory's results.json and manifest.json), never trains or analyses.
 *
 *   struct rep_run r;
 *   if (rep_run_open(&r, "artifacts/run_x", 0, &err)) ...      // audit + load + kind
 *   rep_figures_render(&r, "out", REP_FMT_ALL, figs, &nfigs, &err); // out/<kind>/figures/
 *   rep_run_close(&r);
 */
#ifndef HUSAI_REPORT_H
#define HUSAI_REPORT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "formats.h"

/* Experiment kinds of results.json's top-level "experiment" (docs/formulas.md §6). */
enum rep_kind {
	REP_PHASE4A, REP_CORE, REP_ADAPTIVE, REP_CONSISTENCY, REP_SLICE, REP_SMOKE, REP_DEMO,
	REP_CONVERGENCE, REP_STABILITY, REP_PLANTED,
	REP_NKINDS
};
const char *rep_kind_name(enum rep_kind k); /* "phase4a", "core_ablations", ... */

/* Distinct JSON nulls a figure read (key paths), so its footnote counts values, not gaps. */
struct rep_nulls {
	size_t n, overflow;
	char path[64][160];
};

struct rep_run {
	char dir[PATH_MAX];          /* as given on the command line */
	char results_path[PATH_MAX]; /* dir/results.json */
	char name[64];               /* output subfolder: the kind, "_2" etc. if repeated */
	enum rep_kind kind;
	hj *res;                     /* parsed results.json */
	char date[32];               /* run_metadata.timestamp_utc, "" if absent */
	int tampered;                /* manifest audit failed and --force was given */
	struct rep_nulls *nulls;     /* set while a figure draws (figures.c), else NULL */
};

/* Verify dir/manifest.json checksums (refuse on mismatch unless force), read results.json,
 * check its "experiment" kind.  On error fills err and leaves r closed. */
int rep_run_open(struct rep_run *r, const char *dir, int force, struct hus_err *err);
void rep_run_close(struct rep_run *r);

#define REP_MAX_FIGS 10
struct rep_fig_result {
	const char *id, *name, *caption;
	int drawn;             /* 1 if the files were written */
	char skip[256];        /* why not, when drawn == 0 */
	size_t n_nonfinite;    /* distinct null (NaN) values the figure read, left as gaps */
	char null_paths[512];  /* their results.json key paths, comma-separated (first few) */
	char path[PATH_MAX];   /* output stem relative to the report dir: "phase4a/F1_phase4a" */
};
/* Devices as a bit mask of 1 png, 2 svg, 4 pdf. */
#define REP_FMT_ALL 7u
/* Render every figure that applies to r into out_root/<r->name>/figures/. */
int rep_figures_render(const struct rep_run *r, const char *out_root, unsigned formats,
                       struct rep_fig_result *res, size_t *nres, struct hus_err *err);

/* Markdown: `{{a.b|%.6f}}`, `{{#each list by key}}…{{/each}}`, `{{#if a.b > 0}}…{{else}}…{{/if}}`
 * over a JSON context (template.c).  Numbers are followed by an HTML comment naming their
 * source (`src_prefix` + key path); nulls print as "n/a" with a footnote. */
int rep_template_render(const char *tmpl, const char *tmpl_name, hj *ctx, const char *src_prefix,
                        char **out, struct hus_err *err);
/* The same with provenance out of the text: each number's {line, text, source} is pushed to
 * the `sources` array (NULL: inline comments as above).  The source of a number in the
 * follow-up report (src_prefix NULL) is "<run dir>/results.json:<key path>", the run being the
 * object on the path that carries _report.dir. */
int rep_template_render_sources(const char *tmpl, const char *tmpl_name, hj *ctx,
                                const char *src_prefix, char **out, hj *sources,
                                struct hus_err *err);

/* Write out_root/<name>/summary.md for each run and out_root/report.md for all of them, from
 * the templates in templates_dir, or the built-in ones when it is NULL. */
int rep_markdown_write(struct rep_run *runs, size_t nruns, struct rep_fig_result (*figs)[REP_MAX_FIGS],
                       const size_t *nfigs, const char *templates_dir, const char *out_root,
                       unsigned formats, struct hus_err *err);

#endif
