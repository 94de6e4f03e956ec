/*
 * publish.c — what turns a rendered Markdown report into a results section a paper can use:
 * contiguous section numbers, a LaTeX booktabs copy of every table (<stem>.table<i>.tex,
 * beside the Markdown), and the provenance sidecar <stem>.sources.json mapping each printed
 * number to its results.json key path (so the Markdown rows carry no comments).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *rep_md_number_sections(const char *md)
{
	size_t cap = strlen(md) + 4096, n = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	int sec = 0, in_code = 0;
	for (const char *p = md; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);
		if (!strncmp(p, "```", 3))
			in_code = !in_code;
		char head[32] = "";
		const char *rest = p;
		if (!in_code && !strncmp(p, "## ", 3)) {
			rest = p + 3;
			const char *q = rest;
			while (isdigit((unsigned char)*q) || islower((unsigned char)*q))
				q++;
			if (q > rest && isdigit((unsigned char)*rest) && *q == '.' && q[1] == ' ')
				rest = q + 2; /* drop the template's own number ("6b. ") */
			snprintf(head, sizeof(head), "## %d. ", ++sec);
		}
		size_t hl = strlen(head), rl = len - (size_t)(rest - p);
		if (n + hl + rl + 1 > cap) {
			cap = 2 * (n + hl + rl + 1);
			char *t = realloc(out, cap);
			if (!t) {
				free(out);
				return NULL;
			}
			out = t;
		}
		memcpy(out + n, head, hl);
		n += hl;
		memcpy(out + n, hl ? rest : p, hl ? rl : len);
		n += hl ? rl : len;
		p += len;
	}
	out[n] = 0;
	return out;
}

/* LaTeX-escape one Markdown cell: **bold** -> \textbf, `code` -> \texttt, specials escaped */
static void tex_cell(FILE *f, const char *s, size_t n)
{
	while (n && *s == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	int bold = 0, code = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '[') { /* a link [text](url): its text only */
			const char *close = memchr(s + i, ']', n - i);
			if (close && (size_t)(close - s) + 1 < n && close[1] == '(') {
				const char *end = memchr(close, ')', n - (size_t)(close - s));
				if (end) {
					tex_cell(f, s + i + 1, (size_t)(close - s - (ptrdiff_t)i - 1));
					i = (size_t)(end - s);
					continue;
				}
			}
		}
		if (c == '*' && i + 1 < n && s[i + 1] == '*') {
			fputs(bold ? "}" : "\\textbf{", f);
			bold = !bold;
			i++;
			continue;
		}
		if (c == '`') {
			fputs(code ? "}" : "\\texttt{", f);
			code = !code;
			continue;
		}
		switch (c) {
		case '&': case '%': case '$': case '#': case '_': case '{': case '}':
			fprintf(f, "\\%c", c);
			break;
		case '~': fputs("\\textasciitilde{}", f); break;
		case '^': fputs("\\textasciicircum{}", f); break;
		case '\\': fputs("\\textbackslash{}", f); break;
		default: fputc(c, f);
		}
	}
	if (bold)
		fputc('}', f);
	if (code)
		fputc('}', f);
}

/* the cells of a "| a | b |" line: starts and lengths (up to max) */
static size_t split_row(const char *line, size_t len, const char **cell, size_t *clen, size_t max)
{
	size_t k = 0;
	const char *p = line + 1, *end = line + len;
	while (p < end && k < max) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		if (!bar)
			break;
		cell[k] = p;
		clen[k++] = (size_t)(bar - p);
		p = bar + 1;
	}
	return k;
}

int rep_md_latex_tables(const char *md, const char *stem, size_t *n_tables, struct hus_err *err)
{
	*n_tables = 0;
	const char *p = md;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *next = eol ? eol + 1 : p + len;
		/* a table: a "|" header line followed by a "|---" rule */
		if (!(len && p[0] == '|' && eol && !strncmp(next, "|---", 4))) {
			p = next;
			continue;
		}
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s.table%zu.tex", stem, ++*n_tables);
		char *buf = NULL;
		size_t bn = 0;
		FILE *f = open_memstream(&buf, &bn);
		if (!f)
			return hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
		const char *cell[64];
		size_t clen[64], nc = split_row(p, len, cell, clen, 64);
		fprintf(f, "%% written by husai report from %s (a Markdown table); needs \\usepackage{booktabs}\n",
		        strrchr(stem, '/') ? strrchr(stem, '/') + 1 : stem);
		fputs("\\begin{tabular}{", f);
		for (size_t c = 0; c < nc; c++)
			fputc('l', f);
		fputs("}\n\\toprule\n", f);
		for (size_t c = 0; c < nc; c++) {
			fputs(c ? " & " : "", f);
			tex_cell(f, cell[c], clen[c]);
		}
		fputs(" \\\\\n\\midrule\n", f);
		const char *q = strchr(next, '\n');
		q = q ? q + 1 : next + strlen(next); /* past the rule */
		while (*q == '|') {
			const char *e = strchr(q, '\n');
			size_t l = e ? (size_t)(e - q) : strlen(q);
			size_t k = split_row(q, l, cell, clen, 64);
			for (size_t c = 0; c < k; c++) {
				fputs(c ? " & " : "", f);
				tex_cell(f, cell[c], clen[c]);
			}
			fputs(" \\\\\n", f);
			q = e ? e + 1 : q + l;
		}
		fputs("\\bottomrule\n\\end{tabular}\n", f);
		fclose(f);
		int rc = buf ? hus_write_file(path, buf, bn, err)
		             : hus_errf(err, HUS_ENOMEM, path, NULL, "out of memory");
		free(buf);
		if (rc)
			return rc;
		p = q;
	}
	return 0;
}

int rep_md_write_sources(const char *stem, const char *md_name, hj *runs, hj *numbers,
                         hj *sentences, struct hus_err *err)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s.sources.json", stem);
	hj *o = hj_obj();
	hj_set(o, "markdown", hj_str(md_name));
	hj_set(o, "definition", hj_str("every number the Markdown prints: its line and byte column, "
	                               "its text, the printf format it was printed in and the "
	                               "results.json key path it was read from; runs: the run "
	                               "directories (base names) and the sha256 of the "
	                               "results.json each was read from (husai audit checks it all)"));
	hj_set(o, "runs", hj_ref(runs));
	hj_set(o, "numbers", hj_ref(numbers));
	hj_set(o, "sentences", sentences ? hj_ref(sentences) : hj_arr());
	int rc = hj_write_file(path, o, err);
	hj_free(o);
	return rc;
}
