/*
 * cmd_report.c — `husai report`: figures (PNG, SVG, PDF) and Markdown (per-run summary.md and
 * one follow-up report.md) from archived run directories (a suite's directory: its runs),
 * offline, in the figure style chosen by --style, --font-size, --dpi and --theme
 * (plot/style.c).  Every run's manifest
 * checksums are verified first (a tampered run is refused unless --force); output depends
 * only on the runs' files, so the same inputs give identical Markdown and SVG bytes.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builtin.h"
#include "internal.h"

static const char *const report_usage[] = {
	"usage: husai report [--force] [--formats <list>] [--templates <dir>] [--style <name>]",
	"             [--font-size <pt>] [--dpi <n>] [--theme light|dark] --out <dir> <run-dir>...",
	"",
	"    <run-dir>           a `husai run` directory; a suite's directory stands for its runs",
	"    --out <dir>         write <dir>/report.md and <dir>/<kind>/{summary.md,figures/}",
	"                        (beside each .md: <name>.sources.json, where each number comes",
	"                        from, and <name>.table<i>.tex, each table for LaTeX/booktabs)",
	"    --force             report on runs whose manifest checksums do not match",
	"    --formats <list>    figure formats, comma-separated from png,svg,pdf (default all)",
	"    --templates <dir>   Markdown templates to use instead of the built-in templates/",
	"    --style <name>      figure sizes: screen (default; 3.5 in, 7 in for multi-panel",
	"                        figures), paper (a paper's 3.25 in column, 6.75 in across both",
	"                        for multi-panel figures), paper-1col (every figure 3.25 in) or",
	"                        paper-2col (every figure 6.75 in)",
	"    --font-size <pt>    tick-label size in points (default 7; labels +1, titles +1.5)",
	"    --dpi <n>           PNG resolution, 72 to 1200 (default 300)",
	"    --theme light|dark  dark: light text and lines on a dark background (slides)",
	NULL,
};

/* A run directory without results.json of its own (a `husai run` suite) stands for its
 * sub-runs: every immediate subdirectory holding a results.json, in name order.  Others stay
 * as given (rep_run_open names what is wrong with them).  Appends to *list (size *n). */
static int expand_run_arg(const char *arg, char ***list, size_t *n)
{
	char p[PATH_MAX + 32], **subs = NULL;
	size_t ns = 0;
	snprintf(p, sizeof(p), "%s/results.json", arg);
	int rc = access(p, F_OK) ? hus_subdirs_having(arg, "results.json", &subs, &ns) : 0;
	if (!rc && !ns) { /* a run, or not a suite: as given */
		if (!(subs = malloc(sizeof(*subs))) || !(subs[0] = strdup(arg)))
			rc = HUS_ENOMEM;
		else
			ns = 1;
	}
	char **l = rc ? NULL : realloc(*list, (*n + ns) * sizeof(*l));
	if (l) {
		*list = l;
		memcpy(l + *n, subs, ns * sizeof(*subs));
		*n += ns;
	} else {
		for (size_t i = 0; i < ns; i++)
			free(subs[i]);
		rc = rc ? rc : HUS_ENOMEM;
	}
	free(subs);
	return rc;
}

static int parse_formats(void *v, const char *s)
{
	unsigned *out = v;
	unsigned f = 0;
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "png"))
			f |= FIG_PNG;
		else if (!strcmp(t, "svg"))
			f |= FIG_SVG;
		else if (!strcmp(t, "pdf"))
			f |= FIG_PDF;
		else
			return HUS_EUSAGE;
	}
	if (!f)
		return HUS_EUSAGE;
	*out = f;
	return 0;
}

static int parse_style(void *v, const char *arg)
{
	return fig_style_preset(arg, v) ? HUS_EUSAGE : 0;
}

int cmd_report(int argc, char **argv)
{
	static const char *const themes[] = { "light", "dark", NULL };
	const char *out = NULL, *tdir = getenv("HUSAI_TEMPLATES");
	int force = 0, dark = -1;
	unsigned formats = REP_FMT_ALL;
	struct fig_style style;
	fig_style_preset("screen", &style);
	double font_size = NAN, dpi = NAN;
	if (tdir && !tdir[0])
		tdir = NULL; /* NULL: the templates built into the binary */
	const struct hus_opt opts[] = {
		HUS_OPT_STR("out", 'o', &out),
		HUS_OPT_FLAG("force", 'f', &force),
		HUS_OPT_FN("formats", 0, &formats, parse_formats, "png,svg,pdf or some of them"),
		HUS_OPT_STR("templates", 0, &tdir),
		HUS_OPT_FN("style", 0, &style, parse_style, "screen, paper, paper-1col or paper-2col"),
		HUS_OPT_F64("font-size", 0, &font_size, 4, 20),
		HUS_OPT_F64("dpi", 0, &dpi, 72, 1200),
		HUS_OPT_CHOICE("theme", 0, &dark, themes),
		HUS_OPT_END,
	};
	const struct hus_cli cli = { "report", report_usage, opts, 0, -1 };
	int first, st = hus_cli_parse(&cli, argc, argv, &first);
	if (st != HUS_CLI_GO_ON)
		return st;
	if (!isnan(font_size)) /* the style's preset, then the single settings over it */
		style.pt = font_size;
	if (!isnan(dpi))
		style.dpi = dpi;
	if (dark >= 0)
		style.dark = dark;
	fig_style_use(&style);
	if (!out || first >= argc)
		return hus_cli_misuse(&cli, "%s", !out ? "--out <dir> is required"
		                                       : "at least one <run-dir> is required");
	char **dirs = NULL;
	size_t nruns = 0;
	for (int i = first; i < argc; i++)
		if (expand_run_arg(argv[i], &dirs, &nruns)) {
			fprintf(stderr, "husai: report: out of memory\n");
			return 1;
		}
	struct rep_run *runs = calloc(nruns, sizeof(*runs));
	struct rep_fig_result(*figs)[REP_MAX_FIGS] = calloc(nruns, sizeof(*figs));
	size_t *nfigs = calloc(nruns, sizeof(*nfigs));
	struct hus_err err = { 0 };
	int rc = 0;
	size_t opened = 0;
	if (!runs || !figs || !nfigs) {
		rc = hus_errf(&err, HUS_ENOMEM, NULL, NULL, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < nruns; i++, opened++) {
		if ((rc = rep_run_open(&runs[i], dirs[i], force, &err)))
			goto cleanup;
		if (runs[i].tampered)
			fprintf(stderr, "husai: %s: warning: checksums do not match the manifest; "
			                "reporting anyway (--force)\n", runs[i].dir);
		/* two runs of one kind: phase4a, phase4a_2, ... */
		int dup = 1;
		for (size_t j = 0; j < i; j++)
			if (runs[j].kind == runs[i].kind)
				dup++;
		if (dup > 1)
			snprintf(runs[i].name, sizeof(runs[i].name), "%s_%d", rep_kind_name(runs[i].kind), dup);
	}
	if ((rc = hus_mkdirs(out, &err)))
		goto cleanup;
	/* a report written into a run directory would change what its manifest vouches for */
	char rout[PATH_MAX], rrun[PATH_MAX];
	if (realpath(out, rout))
		for (size_t i = 0; i < nruns; i++) {
			size_t l;
			if (realpath(runs[i].dir, rrun) && !strncmp(rout, rrun, (l = strlen(rrun))) &&
			    (rout[l] == 0 || rout[l] == '/')) {
				rc = hus_errf(&err, HUS_EUSAGE, out, NULL,
				              "--out is inside run directory '%s'; write the report elsewhere",
				              runs[i].dir);
				goto cleanup;
			}
		}
	for (size_t i = 0; i < nruns; i++)
		if ((rc = rep_figures_render(&runs[i], out, formats, figs[i], &nfigs[i], &err)))
			goto cleanup;
	rc = rep_markdown_write(runs, nruns, figs, nfigs, tdir, out, formats, &err);
cleanup:
	for (size_t i = 0; i < opened; i++)
		rep_run_close(&runs[i]);
	free(runs);
	free(figs);
	free(nfigs);
	for (size_t i = 0; i < nruns; i++)
		free(dirs[i]);
	free(dirs);
	fig_text_shutdown();
	if (rc) {
		hus_err_print(&err);
		return hus_err_status(rc);
	}
	return 0;
}
