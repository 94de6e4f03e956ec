/*
 * audit_report.c — `husai audit` on a report directory (what `husai report --out` wrote): each
 * Markdown file's provenance sidecar <stem>.sources.json (report/publish.c) is checked against
 * the run directories it names.  Every number (and every string with digits) the sidecar
 * lists must resolve to its key path in the run's results.json, print as the sidecar says in
 * the recorded printf format, and stand at its line and column of the Markdown; the run's
 * results.json must still have the sha256 the report read; and every number in a table row
 * of the Markdown must be one the sidecar lists (an edited or inserted number is named).
 * The run directories are found by the base name the sidecar records: among the directories
 * given on the command line, else beside the report directory (its parent's entries), else
 * the directory holding the report.
 */
#include <ctype.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_internal.h"

struct rep_run_src {
	char dir[256];  /* the base name the sidecar records */
	char path[PATH_MAX];
	hj *res;        /* its results.json, NULL when it could not be found or read */
};

struct rep_audit {
	const char *root;          /* the report directory */
	char *const *args;         /* the command line's directories, for finding runs */
	size_t nargs;
	FILE *out;
	size_t checked, bad;
};

static void base_of(const char *path, char *buf, size_t n)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	size_t len = strlen(tmp);
	while (len > 1 && tmp[len - 1] == '/')
		tmp[--len] = 0;
	snprintf(buf, n, "%s", basename(tmp));
}

static void problem(struct rep_audit *A, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct rep_audit *A, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(A->out, fmt, ap);
	va_end(ap);
	fputc('\n', A->out);
	A->bad++;
}

/* the run directory a sidecar calls `dir`: a command-line directory of that base name, the
 * report's sibling of that name, or the directory holding the report when it has that name */
static int find_run(const struct rep_audit *A, const char *dir, char *out, size_t n)
{
	char b[PATH_MAX], p[2 * PATH_MAX];
	for (size_t i = 0; i < A->nargs; i++) {
		base_of(A->args[i], b, sizeof(b));
		snprintf(p, sizeof(p), "%s/results.json", A->args[i]);
		if (!strcmp(b, dir) && hus_file_exists(p)) {
			snprintf(out, n, "%s", A->args[i]);
			return 0;
		}
	}
	snprintf(p, sizeof(p), "%s/../%s/results.json", A->root, dir);
	if (hus_file_exists(p)) {
		snprintf(out, n, "%s/../%s", A->root, dir);
		return 0;
	}
	snprintf(p, sizeof(p), "%s/..", A->root);
	char real[PATH_MAX];
	if (realpath(p, real)) {
		base_of(real, b, sizeof(b));
		snprintf(p, sizeof(p), "%s/results.json", real);
		if (!strcmp(b, dir) && hus_file_exists(p)) {
			snprintf(out, n, "%s", real);
			return 0;
		}
	}
	return -1;
}

/* value printed as the report prints it (report/template.c): integer conversions from the
 * rounded value, no "-0.000", null as n/a */
static void print_like_report(hj *v, const char *fmt, int sentence, char *buf, size_t n)
{
	double d = hj_as_f64(v);
	size_t fl = strlen(fmt);
	if (isnan(d)) {
		snprintf(buf, n, "%s", sentence ? "n/a" : "n/a[^nan]");
		return;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (fl && (fmt[fl - 1] == 'd' || fmt[fl - 1] == 'i') && strstr(fmt, "ll"))
		snprintf(buf, n, fmt, (long long)llround(d));
	else
		snprintf(buf, n, fmt, d);
#pragma GCC diagnostic pop
	if (!sentence && !strncmp(buf, "-0", 2) && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
}

/* a printf format the report uses: one conversion of e f g d i (with ll), or %s */
static int format_ok(const char *fmt)
{
	size_t fl = strlen(fmt);
	if (fl < 2 || fl > 16 || fmt[0] != '%' || strchr(fmt + 1, '%') || strpbrk(fmt, "n*"))
		return 0;
	char c = fmt[fl - 1];
	if (c == 's')
		return fl == 2;
	if (strchr("eEfFgG", c))
		return strspn(fmt + 1, "+- #0123456789.") == fl - 2;
	if (c == 'd' || c == 'i')
		return strspn(fmt + 1, "+- #0123456789.l") == fl - 2;
	return 0;
}

/* the value a source names: "husai report" (NULL, *own = 1), "results.json:<path>" of the
 * sidecar's only run, or "<dir>/results.json:<path>" */
static hj *resolve_source(struct rep_audit *A, const char *src, struct rep_run_src *runs,
                          size_t nruns, int *own, const char **why)
{
	*own = !strcmp(src, "husai report");
	*why = NULL;
	if (*own)
		return NULL;
	const char *colon = strstr(src, "results.json:");
	if (!colon) {
		*why = "not a results.json key path";
		return NULL;
	}
	struct rep_run_src *run = NULL;
	if (colon == src) {
		run = nruns == 1 ? &runs[0] : NULL;
	} else {
		size_t dl = (size_t)(colon - src);
		for (size_t i = 0; i < nruns; i++)
			if (dl == strlen(runs[i].dir) + 1 && !strncmp(src, runs[i].dir, dl - 1) &&
			    src[dl - 1] == '/')
				run = &runs[i];
	}
	(void)A;
	if (!run) {
		*why = "names a run the sidecar does not list";
		return NULL;
	}
	if (!run->res) {
		*why = ""; /* its run was not found or not readable: said once, above */
		return NULL;
	}
	hj *v = hj_get(run->res, colon + strlen("results.json:"));
	if (!v)
		*why = "the key path is not in results.json";
	return v;
}

struct span {
	size_t line, col, len;
};

/* the numbers of a table row that no sidecar entry covers */
static void check_row(struct rep_audit *A, const char *md, size_t line, const char *s, size_t len,
                      const struct span *sp, size_t nsp)
{
	int code = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '`')
			code = !code;
		if (code || !isdigit((unsigned char)s[i]))
			continue;
		if (i && (isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_' || s[i - 1] == '.' ||
		          (unsigned char)s[i - 1] >= 0x80))
			continue; /* inside a word or a number already seen */
		size_t e = i;
		while (e < len && (isdigit((unsigned char)s[e]) || s[e] == '.' ||
		                   ((s[e] == 'e' || s[e] == 'E') && e + 1 < len &&
		                    (isdigit((unsigned char)s[e + 1]) || s[e + 1] == '-' || s[e + 1] == '+')) ||
		                   ((s[e] == '-' || s[e] == '+') && e && (s[e - 1] == 'e' || s[e - 1] == 'E'))))
			e++;
		if (e < len && (isalpha((unsigned char)s[e]) || s[e] == '_')) { /* "2col", "3D" */
			i = e;
			continue;
		}
		int covered = 0;
		for (size_t k = 0; k < nsp && !covered; k++)
			covered = sp[k].line == line && i >= sp[k].col && i < sp[k].col + sp[k].len;
		if (!covered)
			problem(A, "%s:%zu:%zu: the number '%.*s' has no source in the sidecar (edited or "
			           "added by hand?)", md, line, i + 1, (int)(e - i), s + i);
		i = e ? e - 1 : 0;
	}
}

static int audit_sidecar(struct rep_audit *A, const char *sidecar)
{
	struct hus_err err = { 0 };
	hj *sc = NULL;
	char *md = NULL;
	size_t mdn = 0;
	if (hj_read_file(sidecar, &sc, &err)) {
		hus_err_print(&err);
		A->bad++;
		return 1;
	}
	char dir[PATH_MAX], mdpath[2 * PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", sidecar);
	*strrchr(dir, '/') = 0;
	const char *mdname = hj_get_str(sc, "markdown");
	hj *runs_j = hj_get(sc, "runs"), *nums = hj_get(sc, "numbers"), *sents = hj_get(sc, "sentences");
	if (!mdname || strchr(mdname, '/') || !hj_is_arr(runs_j) || !hj_is_arr(nums)) {
		problem(A, "%s: not a husai report sidecar with runs (expected markdown, runs and "
		           "numbers; made by an older husai report? rerun it)", sidecar);
		hj_free(sc);
		return 1;
	}
	snprintf(mdpath, sizeof(mdpath), "%s/%s", dir, mdname);
	if (hus_read_file(mdpath, &md, &mdn, &err)) {
		hus_err_print(&err);
		A->bad++;
		hj_free(sc);
		return 1;
	}
	/* the Markdown's lines */
	size_t nl = 1;
	for (size_t i = 0; i < mdn; i++)
		nl += md[i] == '\n';
	const char **ls = calloc(nl + 1, sizeof(*ls));
	size_t *ll = calloc(nl + 1, sizeof(*ll));
	size_t nr = hj_len(runs_j), nn = hj_len(nums);
	struct rep_run_src *runs = calloc(nr ? nr : 1, sizeof(*runs));
	struct span *sp = calloc(nn ? nn : 1, sizeof(*sp));
	if (!ls || !ll || !runs || !sp) {
		problem(A, "%s: out of memory", sidecar);
		goto done;
	}
	size_t li = 0;
	for (const char *p = md; li < nl; li++) {
		const char *e = memchr(p, '\n', (size_t)(md + mdn - p));
		ls[li] = p;
		ll[li] = e ? (size_t)(e - p) : (size_t)(md + mdn - p);
		p = e ? e + 1 : md + mdn;
	}
	for (size_t i = 0; i < nr; i++) {
		hj *r = hj_at(runs_j, i);
		const char *d = hj_get_str(r, "dir"), *sha = hj_get_str(r, "results_sha256");
		snprintf(runs[i].dir, sizeof(runs[i].dir), "%s", d ? d : "");
		if (!d || !sha) {
			problem(A, "%s: runs.%zu: expected dir and results_sha256", sidecar, i);
			continue;
		}
		if (find_run(A, d, runs[i].path, sizeof(runs[i].path))) {
			problem(A, "%s: run directory '%s' not found beside the report; give it on the "
			           "command line (husai audit REPORT_DIR RUN_DIR...)", sidecar, d);
			continue;
		}
		char rp[PATH_MAX + 16], hex[65];
		snprintf(rp, sizeof(rp), "%s/results.json", runs[i].path);
		if (hus_sha256_file(rp, hex, NULL, &err) || hj_read_file(rp, &runs[i].res, &err)) {
			hus_err_print(&err);
			A->bad++;
			continue;
		}
		if (strcmp(hex, sha))
			problem(A, "%s: %s changed since the report was written (sha256 %.12s…, the "
			           "report read %.12s…)", sidecar, rp, hex, sha);
	}
	for (size_t i = 0; i < nn; i++) {
		hj *e = hj_at(nums, i);
		int64_t line = 0, col = -1;
		const char *text = hj_get_str(e, "text"), *fmt = hj_get_str(e, "format"),
		           *src = hj_get_str(e, "source");
		A->checked++;
		if (hj_get_i64(e, "line", &line) || hj_get_i64(e, "column", &col) || !text || !fmt ||
		    !src || line < 1 || (size_t)line > nl || col < 0 || !format_ok(fmt)) {
			problem(A, "%s: numbers.%zu: expected line, column, text, a printf format and "
			           "source", sidecar, i);
			continue;
		}
		size_t L = (size_t)line - 1, C = (size_t)col, tl = strlen(text);
		sp[i] = (struct span){ (size_t)line, C, tl };
		const char *at = ls[L] + C;
		if (C + tl > ll[L] || memcmp(at, text, tl) ||
		    (C + tl < ll[L] && isdigit((unsigned char)at[tl]) && isdigit((unsigned char)text[tl - 1]))) {
			size_t w = 0;
			while (C + w < ll[L] && w < 40 && at[w] != '|' && at[w] != ' ' && at[w] != ']' &&
			       at[w] != ',')
				w++;
			problem(A, "%s:%zu:%zu: prints '%.*s' where the report wrote '%s' (from %s)", mdpath,
			        (size_t)line, C + 1, (int)w, C < ll[L] ? at : "", text, src);
			continue;
		}
		int own;
		const char *why;
		hj *v = resolve_source(A, src, runs, nr, &own, &why);
		if (own)
			continue;
		if (!v) {
			if (why[0])
				problem(A, "%s:%zu:%zu: '%s': source %s: %s", mdpath, (size_t)line, C + 1, text,
				        src, why);
			continue;
		}
		char want[256];
		if (!strcmp(fmt, "%s")) {
			const char *sv = hj_get_str(v, "");
			snprintf(want, sizeof(want), "%s", sv ? sv : "(not a string)");
		} else if (!hj_is_num(v) && hj_kind_of(v) != HJ_NULL) {
			snprintf(want, sizeof(want), "(not a number)");
		} else {
			print_like_report(v, fmt, 0, want, sizeof(want));
		}
		if (strcmp(want, text))
			problem(A, "%s:%zu:%zu: prints '%s', but %s is '%s' in %s", mdpath, (size_t)line,
			        C + 1, text, src, want, fmt);
	}
	for (size_t i = 0; sents && hj_is_arr(sents) && i < hj_len(sents); i++) {
		hj *e = hj_at(sents, i);
		const char *text = hj_get_str(e, "text"), *fmt = hj_get_str(e, "format"),
		           *src = hj_get_str(e, "source");
		A->checked++;
		if (!text || !src || (fmt && !format_ok(fmt))) {
			problem(A, "%s: sentences.%zu: expected text, format and source", sidecar, i);
			continue;
		}
		if (!strstr(md, text)) {
			problem(A, "%s: a sentence's number '%s' (from %s) is not in the Markdown", mdpath,
			        text, src);
			continue;
		}
		int own;
		const char *why;
		hj *v = resolve_source(A, src, runs, nr, &own, &why);
		if (own || !fmt)
			continue; /* sidecars before formats were recorded: presence only */
		char want[256];
		if (!v && why && !why[0])
			continue;
		if (!v || (!hj_is_num(v) && hj_kind_of(v) != HJ_NULL)) {
			problem(A, "%s: a sentence's '%s': source %s: %s", mdpath, text, src,
			        why ? why : "not a number");
			continue;
		}
		print_like_report(v, fmt, 1, want, sizeof(want));
		if (strcmp(want, text))
			problem(A, "%s: a sentence prints '%s', but %s is '%s' in %s", mdpath, text, src,
			        want, fmt);
	}
	/* table rows (not the header above a |--- rule, not the rule): every number sourced */
	for (size_t i = 0; i < nl; i++) {
		if (!ll[i] || ls[i][0] != '|' || !strncmp(ls[i], "|---", 4))
			continue;
		if (i + 1 < nl && !strncmp(ls[i + 1], "|---", 4))
			continue;
		check_row(A, mdpath, i + 1, ls[i], ll[i], sp, nn);
	}
done:
	for (size_t i = 0; runs && i < nr; i++)
		if (runs[i].res)
			hj_free(runs[i].res);
	free(runs);
	free(sp);
	free(ls);
	free(ll);
	free(md);
	hj_free(sc);
	return 0;
}

const char *audit_report_root(const char *dir, char *buf, size_t n)
{
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/report.sources.json", dir);
	if (hus_file_exists(p)) {
		snprintf(buf, n, "%s", dir);
		return buf;
	}
	char **subs = NULL;
	size_t ns = 0;
	const char *found = NULL;
	if (!hus_subdirs_having(dir, "report.sources.json", &subs, &ns) && ns) {
		snprintf(buf, n, "%s", subs[0]);
		found = buf;
	}
	for (size_t i = 0; i < ns; i++)
		free(subs[i]);
	free(subs);
	return found;
}

int audit_report(const char *root, char *const *args, size_t nargs, FILE *out, size_t *checked)
{
	struct rep_audit A = { .root = root, .args = args, .nargs = nargs, .out = out };
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/report.sources.json", root);
	audit_sidecar(&A, p);
	char **subs = NULL;
	size_t ns = 0;
	if (hus_subdirs_having(root, "summary.sources.json", &subs, &ns)) {
		fprintf(out, "%s: cannot list its subdirectories\n", root);
		A.bad++;
	}
	for (size_t i = 0; i < ns; i++) {
		snprintf(p, sizeof(p), "%s/summary.sources.json", subs[i]);
		audit_sidecar(&A, p);
		free(subs[i]);
	}
	free(subs);
	*checked = A.checked;
	return A.bad ? 1 : 0;
}
