/*
 * test_results_keys.c — the results.json keys report/ reads have one definition, in
 * formats/results_schema.{c,h}: every RJK_* name of the header is a key of the schema table
 * and the reverse; no key is spelled out as a string literal in report/ or in the files that
 * write results.json (run/exp_*.c, analyze/analysis*.c, analyze/stability_prob.c,
 * analyze/truth.c, train/functional_run.c); and docs/artifacts.md prints every row of the
 * table as rj_doc_row gives it.
 *
 * A literal counts as a key when it is a key name of the schema, or a dotted path whose every
 * component is a key name or a list index and whose every name is a key of the shape its
 * predecessor holds ("trained_pwmcc.mean", "k_sweep.0.n_seeds"; not "experiment.seeds", a
 * config key).  Comments are not read.  A literal that only looks like a key (a legend, a CSV
 * column, a config choice) is allowed on a line that says "not a results.json key", or in
 * the statement right under a comment line that says it.
 *
 * Run with --list to print every offending literal (file:line: text), or with --docs to print
 * the rows docs/artifacts.md must hold.
 */
#include <ctype.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats.h"

#define MARK "not a results.json key"
#define MAXN 256

static char src_root[4096];

/* ------------------------------------------------------------------ the schema's names -- */

static const char *names[MAXN];
static size_t nnames;
/* child[i][j]: names[j] is a key of the shape names[i] holds somewhere */
static unsigned char child[MAXN][MAXN];

static long name_index(const char *s, size_t n)
{
	for (size_t i = 0; i < nnames; i++)
		if (strlen(names[i]) == n && !strncmp(names[i], s, n))
			return (long)i;
	return -1;
}

static size_t add_name(const char *s)
{
	long i = name_index(s, strlen(s));
	if (i >= 0)
		return (size_t)i;
	assert_true(nnames < MAXN);
	names[nnames] = s;
	return nnames++;
}

static void add_children(size_t parent, const struct rj_shape *s)
{
	for (; s; s = s->base)
		for (size_t i = 0; i < s->nkeys; i++)
			child[parent][add_name(s->keys[i].name)] = 1;
}

static void load_names(void)
{
	if (nnames)
		return;
	for (size_t k = 0; rj_shapes[k]; k++)
		for (const struct rj_shape *s = rj_shapes[k]; s; s = s->base)
			for (size_t i = 0; i < s->nkeys; i++) {
				size_t p = add_name(s->keys[i].name);
				if (s->keys[i].shape)
					add_children(p, s->keys[i].shape);
			}
}

/* ------------------------------------------------------------------ C literals ---------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	if (b)
		b[n] = 0;
	fclose(f);
	return b;
}

/* a results.json key or key path, as the header's comment says */
static int is_key(const char *s, size_t n)
{
	if (!n || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	long prev = -1;
	int any = 0;
	for (size_t a = 0; a < n;) {
		size_t b = a;
		while (b < n && s[b] != '.')
			b++;
		if (b == a)
			return 0;
		int digits = 1;
		for (size_t i = a; i < b; i++) {
			unsigned char c = (unsigned char)s[i];
			if (!(islower(c) || isdigit(c) || c == '_'))
				return 0;
			digits &= isdigit(c) != 0;
		}
		if (!digits) {
			long i = name_index(s + a, b - a);
			if (i < 0 || (prev >= 0 && !child[prev][i]))
				return 0;
			prev = i;
			any = 1;
		}
		a = b + (b < n);
		if (b + 1 == n)
			return 0; /* a trailing dot */
	}
	return any;
}

/* the start of line `line` (1-based) of text */
static const char *line_at(const char *text, int line)
{
	for (int l = 1; l < line && text; l++) {
		text = strchr(text, '\n');
		text = text ? text + 1 : NULL;
	}
	return text;
}

static int line_has(const char *ls, const char *what)
{
	const char *e = strchr(ls, '\n');
	size_t n = e ? (size_t)(e - ls) : strlen(ls), w = strlen(what);
	for (size_t i = 0; i + w <= n; i++)
		if (!strncmp(ls + i, what, w))
			return 1;
	return 0;
}

/* the last character of the line at ls before a trailing comment and blanks */
static char line_end(const char *ls)
{
	const char *e = strchr(ls, '\n');
	size_t n = e ? (size_t)(e - ls) : strlen(ls);
	for (size_t i = 0; i + 1 < n; i++)
		if (ls[i] == '/' && ls[i + 1] == '*')
			n = i;
	while (n && (ls[n - 1] == ' ' || ls[n - 1] == '\t'))
		n--;
	return n ? ls[n - 1] : 0;
}

/* the literal on `line` is allowed: the line says so, or a comment line that says so stands
 * above the statement the line belongs to (a table over several lines) */
static int exempt(const char *text, int line)
{
	const char *ls = line_at(text, line);
	if (ls && line_has(ls, MARK))
		return 1;
	for (int l = line - 1; l >= 1; l--) {
		const char *up = line_at(text, l);
		while (*up == ' ' || *up == '\t')
			up++;
		if (up[0] == '/' && up[1] == '*')
			return line_has(up, MARK);
		char c = line_end(up);
		if (c == ';' || c == '}' || c == 0)
			return 0;
	}
	return 0;
}

/* every key literal of one file, printed; returns how many */
static size_t scan_file(const char *path, const char *shown)
{
	char *t = slurp(path);
	assert_non_null(t);
	size_t bad = 0;
	int line = 1;
	for (const char *p = t; *p;) {
		if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			for (const char *q = p; q < (e ? e : p + strlen(p)); q++)
				line += *q == '\n';
			p = e ? e + 2 : p + strlen(p);
		} else if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				p++;
		} else if (*p == '#' && !strncmp(p, "#include", 8)) {
			while (*p && *p != '\n')
				p++;
		} else if (*p == '\'' || *p == '"') {
			char q = *p++;
			const char *s = p;
			while (*p && *p != q) {
				if (*p == '\\' && p[1])
					p++;
				line += *p == '\n';
				p++;
			}
			if (q == '"' && is_key(s, (size_t)(p - s)) && !exempt(t, line)) {
				printf("%s:%d: \"%.*s\"\n", shown, line, (int)(p - s), s);
				bad++;
			}
			if (*p)
				p++;
		} else {
			line += *p == '\n';
			p++;
		}
	}
	free(t);
	return bad;
}

/* the files of dir whose names start with prefix and end in ".c" (prefix "" for all) */
static size_t scan_dir(const char *dir, const char *prefix)
{
	char d[4200];
	snprintf(d, sizeof(d), "%s/%s", src_root, dir);
	DIR *D = opendir(d);
	assert_non_null(D);
	size_t bad = 0, seen = 0;
	struct dirent *e;
	while ((e = readdir(D))) {
		size_t n = strlen(e->d_name);
		if (n < 3 || strcmp(e->d_name + n - 2, ".c") || strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		char p[4500], shown[600];
		snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
		snprintf(shown, sizeof(shown), "%s/%s", dir, e->d_name);
		bad += scan_file(p, shown);
		seen++;
	}
	closedir(D);
	assert_true(seen > 0);
	return bad;
}

static size_t scan_all(void)
{
	load_names();
	return scan_dir("report", "") + scan_dir("run", "exp_") + scan_dir("analyze", "analysis") +
	       scan_dir("analyze", "stability_prob") + scan_dir("analyze", "truth") +
	       scan_dir("train", "functional_run");
}

/* ------------------------------------------------------------------ docs rows ----------- */

static void kinds_words(unsigned mask, char *buf, size_t n)
{
	buf[0] = 0;
	if (mask == RJ_ALL) {
		snprintf(buf, n, "all");
		return;
	}
	if (!mask) {
		snprintf(buf, n, "—");
		return;
	}
	for (size_t i = 0; i < rj_nkinds; i++)
		if (mask & (1u << i)) {
			size_t l = strlen(buf);
			snprintf(buf + l, n - l, "%s%s", l ? ", " : "", rj_kind_names[i]);
		}
}

/* "| `<summary>.mean` | a number or null | all | all | the mean over the values |" */
static void doc_row(const struct rj_shape *s, const struct rj_key *k, char *buf, size_t n)
{
	char path[256], type[160], kinds[200], req[200];
	if (s == &rj_results)
		snprintf(path, sizeof(path), "%s", k->name);
	else
		snprintf(path, sizeof(path), "%s.%s", s->name, k->name);
	if (k->shape && k->type == RJ_MAP)
		snprintf(type, sizeof(type), "%s: `<%s>` → `%s`", rj_type_words(k->type),
		         k->shape->members, k->shape->name);
	else if (k->shape)
		snprintf(type, sizeof(type), "%s `%s`", rj_type_words(k->type), k->shape->name);
	else
		snprintf(type, sizeof(type), "%s", rj_type_words(k->type));
	kinds_words(k->kinds, kinds, sizeof(kinds));
	kinds_words(k->required, req, sizeof(req));
	snprintf(buf, n, "| `%s` | %s | %s | %s | %s |", path, type, kinds, req, k->meaning);
}

static size_t doc_rows(const char *doc, int print)
{
	size_t missing = 0;
	for (size_t i = 0; rj_shapes[i]; i++) {
		const struct rj_shape *s = rj_shapes[i];
		if (print)
			printf("\n**`%s`**%s%s%s\n\n| key | type | in kinds | required in | meaning |\n"
			       "|---|---|---|---|---|\n",
			       s->name, s->base ? ": the keys of `" : "", s->base ? s->base->name : "",
			       s->base ? "`, and" : "");
		for (size_t j = 0; j < s->nkeys; j++) {
			char row[1024];
			doc_row(s, &s->keys[j], row, sizeof(row));
			if (print)
				printf("%s\n", row);
			else if (!strstr(doc, row)) {
				printf("docs/artifacts.md lacks the row\n%s\n", row);
				missing++;
			}
		}
	}
	return missing;
}

/* ------------------------------------------------------------------ tests --------------- */

/* every RJK_* of the header names a key of the table, and every key of the table is one */
static void test_header_names_are_the_table(void **state)
{
	(void)state;
	load_names();
	char p[4200];
	snprintf(p, sizeof(p), "%s/formats/results_schema.h", src_root);
	char *h = slurp(p);
	assert_non_null(h);
	size_t defs = 0;
	for (const char *q = h; (q = strstr(q, "#define RJK_"));) {
		const char *a = strchr(q, '"'), *nl = strchr(q, '\n');
		assert_true(a && nl && a < nl);
		const char *b = strchr(a + 1, '"');
		if (name_index(a + 1, (size_t)(b - a - 1)) < 0)
			fail_msg("%.*s is not a key of the schema table", (int)(nl - q), q);
		defs++;
		q = nl;
	}
	free(h);
	assert_int_equal(defs, nnames); /* and no key of the table lacks its RJK_* name */
}

static void test_no_key_spelled_out(void **state)
{
	(void)state;
	size_t bad = scan_all();
	if (bad)
		fail_msg("%zu results.json key(s) spelled out above: use the RJK_* names of "
		         "formats/results_schema.h (or say \"" MARK "\" on the line)", bad);
}

/* the checker finds what it must and lets pass what it must */
static void test_is_key(void **state)
{
	(void)state;
	load_names();
	static const char *const keys[] = { "trained_pwmcc.mean", "k_sweep.0.n_seeds", "experiment",
		                            "controls.r1.ci95_high", "records.3.curve.step",
		                            "correlation_pwmcc_mcc.across_seeds.spearman" };
	static const char *const not_keys[] = { "experiment.seeds", "sae.k", "trained pwmcc",
		                                "mean.trained_pwmcc", "k_sweep.", "0", "%s.%zu",
		                                "comparison.difference", "K" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!is_key(keys[i], strlen(keys[i])))
			fail_msg("'%s' not taken for a key", keys[i]);
	for (size_t i = 0; i < sizeof(not_keys) / sizeof(not_keys[0]); i++)
		if (is_key(not_keys[i], strlen(not_keys[i])))
			fail_msg("'%s' taken for a key", not_keys[i]);
}

static void test_docs_print_the_table(void **state)
{
	(void)state;
	char p[4200];
	snprintf(p, sizeof(p), "%s/docs/artifacts.md", src_root);
	char *doc = slurp(p);
	assert_non_null(doc);
	size_t missing = doc_rows(doc, 0);
	free(doc);
	if (missing)
		fail_msg("%zu schema row(s) missing from docs/artifacts.md (print them with "
		         "test_results_keys --docs)", missing);
}

int main(int argc, char **argv)
{
	snprintf(src_root, sizeof(src_root), "%s/../..", HUSAI_FIXTURES);
	if (argc > 1 && !strcmp(argv[1], "--list"))
		return scan_all() ? 1 : 0;
	if (argc > 1 && !strcmp(argv[1], "--docs")) {
		doc_rows(NULL, 1);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_key),
		cmocka_unit_test(test_header_names_are_the_table),
		cmocka_unit_test(test_no_key_spelled_out),
		cmocka_unit_test(test_docs_print_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
