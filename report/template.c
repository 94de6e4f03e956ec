/*
 * template.c — the Markdown template engine, written once: a small mustache-like language
 * over a JSON context (the run's results.json plus what the report adds under "_report").
 *
 *   {{a.b}}  {{a.b|%.6f}}       a value; numbers take a printf format (%f %e %g %d), and are
 *                               followed by <!-- src: ... --> naming their key path
 *   {{#each list}}…{{/each}}    once per element; inside, keys resolve in the element first,
 *   {{#each list by k}}         then outwards; "by k" orders the elements by numeric key k;
 *                               {{@index}} is the element's position in the list
 *   {{#if a.b}}…{{else}}…{{/if}}  truthy (present, not null/false/0/"")
 *   {{#if a.b > 0}}             comparison with a number, another key, or (== !=) a word
 *
 * A tag alone on its line (block tags) removes the whole line, so tables stay tables.  A key
 * that is absent where a value is asked for is an error naming the template's line:column
 * and the key; a null number prints "n/a" with a footnote, never a zero.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct sbuf {
	char *s;
	size_t n, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *t = realloc(b->s, cap);
		if (!t) {
			b->oom = 1;
			return;
		}
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

#define MAX_DEPTH 16

struct scope {
	hj *v;
	char path[512];
	long index; /* position in the enclosing list, -1 for the root */
};

struct engine {
	const char *tmpl, *name, *src_prefix;
	struct scope sc[MAX_DEPTH];
	int depth;
	int nan_used;
	hj *sources;          /* non-NULL: number sources go here (a sidecar), not into the text */
	size_t nl_at, nl_n;   /* newlines counted in out.s[0, nl_at) */
	size_t line_at;       /* where the line holding out.s[nl_at] starts */
	struct sbuf out;
	struct hus_err *err;
};

struct tag {
	const char *start, *end;       /* "{{" and just past "}}" */
	const char *strip, *resume;    /* text cut when the tag stands alone on its line */
	char body[256];
};

static void where(const struct engine *E, const char *at, char *buf, size_t n)
{
	int line = 1, col = 1;
	for (const char *p = E->tmpl; p < at; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(buf, n, "%d:%d", line, col);
}

static int tmpl_err(struct engine *E, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int tmpl_err(struct engine *E, const char *at, const char *fmt, ...)
{
	char w[32], msg[400];
	where(E, at, w, sizeof(w));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return hus_errf(E->err, HUS_EINPUT, E->name, w, "%s", msg);
}

static int is_block(const char *body)
{
	return body[0] == '#' || body[0] == '/' || !strcmp(body, "else");
}

/* Next tag at or after p (before e).  0 found, 1 none, <0 error (unclosed). */
static int next_tag(struct engine *E, const char *p, const char *e, struct tag *t)
{
	const char *s = strstr(p, "{{");
	if (!s || s >= e)
		return 1;
	const char *c = strstr(s + 2, "}}");
	if (!c || c + 2 > e)
		return tmpl_err(E, s, "unclosed '{{'");
	size_t len = (size_t)(c - s - 2);
	while (len && isspace((unsigned char)s[2]))
		s++, len--;
	const char *b = s + 2;
	while (len && isspace((unsigned char)b[len - 1]))
		len--;
	if (len >= sizeof(t->body))
		return tmpl_err(E, s, "tag too long");
	memcpy(t->body, b, len);
	t->body[len] = 0;
	t->start = strstr(p, "{{");
	t->end = c + 2;
	t->strip = t->start;
	t->resume = t->end;
	if (is_block(t->body)) { /* standalone: only blanks around it on its line */
		const char *ls = t->start;
		while (ls > E->tmpl && (ls[-1] == ' ' || ls[-1] == '\t'))
			ls--;
		const char *re = t->end;
		while (*re == ' ' || *re == '\t')
			re++;
		if ((ls == E->tmpl || ls[-1] == '\n') && (*re == '\n' || *re == 0)) {
			t->strip = ls;
			t->resume = *re == '\n' ? re + 1 : re;
		}
	}
	return 0;
}

/* Find the {{/...}} closing the block opened just before p, and an {{else}} at its level. */
static int find_close(struct engine *E, const char *open, const char *p, const char *e,
                      struct tag *close, struct tag *els, int *has_else)
{
	int depth = 0;
	*has_else = 0;
	struct tag t;
	for (;;) {
		int rc = next_tag(E, p, e, &t);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return tmpl_err(E, open, "block is never closed");
		if (t.body[0] == '#') {
			depth++;
		} else if (t.body[0] == '/') {
			if (depth == 0) {
				*close = t;
				return 0;
			}
			depth--;
		} else if (!strcmp(t.body, "else") && depth == 0) {
			*els = t;
			*has_else = 1;
		}
		p = t.end;
	}
}

/* Resolve a key path through the scopes; fills the full path.  NULL if absent. */
static hj *resolve(struct engine *E, const char *key, char *full, size_t n, long *index)
{
	*index = -1;
	for (int d = E->depth - 1; d >= 0; d--) {
		hj *v = !strcmp(key, "this") ? E->sc[d].v : hj_get(E->sc[d].v, key);
		if (v) {
			if (!strcmp(key, "this"))
				snprintf(full, n, "%s", E->sc[d].path);
			else
				rep_path(full, n, E->sc[d].path, key);
			return v;
		}
	}
	return NULL;
}

static int bool_of(hj *v);

/* The run a key path lies in: the deepest object along the path from the root that carries
 * "_report.dir" (a run's results.json, as markdown.c puts it in the context).  *rest gets
 * the path below it.  NULL when none does. */
static const char *run_of(struct engine *E, const char *full, const char **rest)
{
	const char *dir = hj_get_str(E->sc[0].v, "_report.dir");
	*rest = full;
	hj *v = E->sc[0].v;
	char comp[256];
	for (const char *p = full; *p;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(comp))
			break;
		memcpy(comp, p, n);
		comp[n] = 0;
		if (hj_is_arr(v)) {
			char *end;
			unsigned long i = strtoul(comp, &end, 10);
			v = *end ? NULL : hj_at(v, i);
		} else {
			v = hj_member(v, comp);
		}
		if (!v || !dot)
			break;
		p = dot + 1;
		const char *d = hj_is_obj(v) ? hj_get_str(v, "_report.dir") : NULL;
		if (d) {
			dir = d;
			*rest = p;
		}
	}
	return dir;
}

/* the source of the value just printed at out.s[at..]: a key path of a results.json, with the
 * printf format it was printed in ("%s" for a string) and its line and byte column in the
 * rendered Markdown, so `husai audit` can re-print it from the source and find it */
static void emit_source(struct engine *E, const char *full, size_t at, const char *fmt)
{
	char src[1024];
	const char *rest = full, *dir = E->src_prefix ? NULL : run_of(E, full, &rest);
	if (!strncmp(rest, "_report", 7)) { /* what the report adds (figure numbers, ...) */
		snprintf(src, sizeof(src), "husai report");
	} else if (E->src_prefix) {
		snprintf(src, sizeof(src), "%s%s", E->src_prefix, full);
	} else if (dir) { /* follow-up report: the run directory the path lies in */
		snprintf(src, sizeof(src), "%s/results.json:%s", dir, rest);
	} else {
		snprintf(src, sizeof(src), "%s", full);
	}
	if (!E->sources) {
		sb_printf(&E->out, "<!-- src: %s -->", src);
		return;
	}
	for (; E->nl_at < at && E->out.s; E->nl_at++) {
		if (E->out.s[E->nl_at] == '\n') {
			E->nl_n++;
			E->line_at = E->nl_at + 1;
		}
	}
	hj *o = hj_obj();
	hj_set(o, "line", hj_int((int64_t)E->nl_n + 1));
	hj_set(o, "column", hj_int((int64_t)(at - E->line_at)));
	hj_set(o, "text", hj_str(E->out.s ? E->out.s + at : ""));
	hj_set(o, "format", hj_str(fmt));
	hj_set(o, "source", hj_str(src));
	hj_push(E->sources, o);
}

static int emit_var(struct engine *E, const struct tag *t)
{
	char key[256], fmt[32] = "";
	snprintf(key, sizeof(key), "%s", t->body);
	char *bar = strchr(key, '|');
	if (bar) {
		*bar = 0;
		snprintf(fmt, sizeof(fmt), "%s", bar + 1);
		if (fmt[0] != '%' || strchr(fmt + 1, '%') || strpbrk(fmt, "n*"))
			return tmpl_err(E, t->start, "bad format '%s' (expected one printf conversion)", fmt);
	}
	if (!strcmp(key, "@index")) {
		long idx = E->depth > 1 ? E->sc[E->depth - 1].index : 0;
		sb_printf(&E->out, "%ld", idx);
		return 0;
	}
	char full[512];
	long idx;
	hj *v = resolve(E, key, full, sizeof(full), &idx);
	if (!v)
		return tmpl_err(E, t->start, "key '%s' not found (looked in '%s' and outwards)", key,
		                E->sc[E->depth - 1].path[0] ? E->sc[E->depth - 1].path : "the root");
	const char *s = hj_get_str(v, "");
	if (s) {
		size_t at = E->out.n;
		sb_add(&E->out, s, strlen(s));
		if (E->sources && strpbrk(s, "0123456789")) /* numbers inside words, for the audit */
			emit_source(E, full, at, "%s");
		return 0;
	}
	double d;
	size_t at = E->out.n;
	char used[40] = "";
	if (hj_get_f64(v, "", &d) == 0) {
		if (isnan(d)) { /* JSON null */
			snprintf(used, sizeof(used), "%s", fmt[0] ? fmt : "%.6g");
			sb_printf(&E->out, "n/a[^nan]");
			E->nan_used = 1;
		} else {
			char conv = fmt[0] ? fmt[strlen(fmt) - 1] : 0;
			int64_t iv;
			if (conv == 'd' || conv == 'i' || (!conv && hj_get_i64(v, "", &iv) == 0)) {
				char f2[40];
				snprintf(f2, sizeof(f2), "%.*sll%c", conv ? (int)strlen(fmt) - 1 : 1,
				         conv ? fmt : "%", conv ? conv : 'd');
				long long ll = (long long)llround(d);
				snprintf(used, sizeof(used), "%s", f2);
				char tmp[64];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
				snprintf(tmp, sizeof(tmp), f2, ll);
#pragma GCC diagnostic pop
				sb_add(&E->out, tmp, strlen(tmp));
			} else if (!conv || strchr("eEfFgG", conv)) {
				char tmp[64];
				snprintf(used, sizeof(used), "%s", fmt[0] ? fmt : "%.6g");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
				snprintf(tmp, sizeof(tmp), fmt[0] ? fmt : "%.6g", d);
#pragma GCC diagnostic pop
				if (!strncmp(tmp, "-0", 2) && strspn(tmp + 1, "0.") == strlen(tmp + 1))
					memmove(tmp, tmp + 1, strlen(tmp)); /* no "-0.000" */
				at = E->out.n;
				sb_add(&E->out, tmp, strlen(tmp));
			} else {
				return tmpl_err(E, t->start, "format '%s' does not fit the number at '%s'", fmt,
				                full);
			}
		}
		emit_source(E, full, at, used);
		return 0;
	}
	/* booleans print as yes/no; objects and lists cannot be printed */
	if (hj_is_obj(v) || hj_is_arr(v))
		return tmpl_err(E, t->start, "key '%s' is an object or list, not a value", key);
	int b = bool_of(v);
	if (b == 1)
		sb_add(&E->out, "yes", 3);
	else if (b == 0)
		sb_add(&E->out, "no", 2);
	return 0;
}

/* 1 true, 0 false, -1 not a boolean (formats' JSON API has no boolean getter; jansson
 * dumps a bare scalar only inside a container) */
static int bool_of(hj *v)
{
	hj *a = hj_arr();
	hj_push(a, hj_ref(v));
	char *js = hj_dumps(a);
	hj_free(a);
	int r = -1;
	if (js && strstr(js, "true") && strspn(js, "[] \n\ttrue") == strlen(js))
		r = 1;
	else if (js && strstr(js, "false") && strspn(js, "[] \n\tfalse") == strlen(js))
		r = 0;
	free(js);
	return r;
}

static int truthy(hj *v)
{
	if (!v)
		return 0;
	const char *s = hj_get_str(v, "");
	if (s)
		return s[0] != 0;
	double d;
	if (hj_get_f64(v, "", &d) == 0)
		return !isnan(d) && d != 0;
	if (hj_is_obj(v) || hj_is_arr(v))
		return hj_len(v) > 0;
	return bool_of(v) == 1;
}

static int eval_cond(struct engine *E, const struct tag *t, const char *cond, int *result)
{
	char lhs[200], op[4], rhs[200], full[512];
	long idx;
	int n = sscanf(cond, "%199s %3s %199s", lhs, op, rhs);
	if (n == 1) {
		*result = truthy(resolve(E, lhs, full, sizeof(full), &idx));
		return 0;
	}
	if (n != 3)
		return tmpl_err(E, t->start, "bad condition '%s' (expected <key> or <key> <op> <value>)",
		                cond);
	static const char *const ops[] = { ">", "<", ">=", "<=", "==", "!=" };
	int o;
	for (o = 0; o < 6; o++)
		if (!strcmp(op, ops[o]))
			break;
	if (o == 6)
		return tmpl_err(E, t->start, "unknown operator '%s'", op);
	hj *lv = resolve(E, lhs, full, sizeof(full), &idx);
	char *end;
	double r = strtod(rhs, &end);
	if (*end) { /* not a number: another key, or a word for == / != */
		hj *rv = resolve(E, rhs, full, sizeof(full), &idx);
		if (rv && hj_is_num(rv)) {
			r = hj_as_f64(rv);
		} else {
			const char *ls = lv ? hj_get_str(lv, "") : NULL;
			if (o < 4)
				return tmpl_err(E, t->start, "'%s' is not a number or a numeric key", rhs);
			int eq = ls && !strcmp(ls, rhs);
			*result = o == 4 ? eq : !eq;
			return 0;
		}
	}
	double l = NAN;
	if (lv)
		hj_get_f64(lv, "", &l);
	if (isnan(l) || isnan(r)) { /* an absent or null value satisfies no comparison */
		*result = o == 5;
		return 0;
	}
	switch (o) {
	case 0: *result = l > r; break;
	case 1: *result = l < r; break;
	case 2: *result = l >= r; break;
	case 3: *result = l <= r; break;
	case 4: *result = l == r; break;
	default: *result = l != r; break;
	}
	return 0;
}

static int render(struct engine *E, const char *p, const char *e);

static int do_each(struct engine *E, const struct tag *t, const char *bs, const char *be)
{
	char key[200] = "", by[8] = "", sk[200] = "";
	int n = sscanf(t->body + 5, "%199s %7s %199s", key, by, sk);
	if (n != 1 && !(n == 3 && !strcmp(by, "by")))
		return tmpl_err(E, t->start, "expected {{#each <key>}} or {{#each <key> by <field>}}");
	char full[512];
	long idx;
	hj *a = resolve(E, key, full, sizeof(full), &idx);
	if (!a)
		return tmpl_err(E, t->start, "key '%s' not found", key);
	if (!hj_is_arr(a))
		return tmpl_err(E, t->start, "key '%s' is not a list", key);
	if (E->depth == MAX_DEPTH)
		return tmpl_err(E, t->start, "blocks nested too deeply");
	size_t m = hj_len(a);
	size_t *order = malloc((m ? m : 1) * sizeof(*order));
	double *kv = malloc((m ? m : 1) * sizeof(*kv));
	if (!order || !kv) {
		free(order);
		free(kv);
		return hus_errf(E->err, HUS_ENOMEM, E->name, NULL, "out of memory");
	}
	for (size_t i = 0; i < m; i++) {
		order[i] = i;
		kv[i] = NAN;
		if (n == 3)
			hj_get_f64(hj_at(a, i), sk, &kv[i]);
	}
	if (n == 3) /* stable insertion sort, NaN last */
		for (size_t i = 1; i < m; i++) {
			size_t o = order[i], j = i;
			while (j > 0 && (isnan(kv[order[j - 1]]) ? !isnan(kv[o]) : kv[order[j - 1]] > kv[o])) {
				order[j] = order[j - 1];
				j--;
			}
			order[j] = o;
		}
	int rc = 0;
	for (size_t i = 0; i < m && !rc; i++) {
		struct scope *s = &E->sc[E->depth++];
		s->v = hj_at(a, order[i]);
		s->index = (long)order[i];
		snprintf(s->path, sizeof(s->path), "%.480s.%zu", full, order[i]);
		rc = render(E, bs, be);
		E->depth--;
	}
	free(order);
	free(kv);
	return rc;
}

static int render(struct engine *E, const char *p, const char *e)
{
	struct tag t;
	for (;;) {
		int rc = next_tag(E, p, e, &t);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			sb_add(&E->out, p, (size_t)(e - p));
			return 0;
		}
		if (t.strip < p) /* cannot happen: blanks before a standalone tag start after p */
			t.strip = p;
		sb_add(&E->out, p, (size_t)(t.strip - p));
		if (!strncmp(t.body, "#each ", 6) || !strncmp(t.body, "#if ", 4)) {
			struct tag close, els;
			int has_else = 0;
			memset(&els, 0, sizeof(els));
			if ((rc = find_close(E, t.start, t.resume, e, &close, &els, &has_else)))
				return rc;
			const char *want = t.body[1] == 'e' ? "/each" : "/if";
			if (strcmp(close.body, want))
				return tmpl_err(E, close.start, "expected {{%s}}, found {{%s}}", want, close.body);
			if (t.body[1] == 'e') {
				if (has_else)
					return tmpl_err(E, els.start, "{{else}} inside {{#each}}");
				rc = do_each(E, &t, t.resume, close.strip);
			} else {
				int yes = 0;
				if ((rc = eval_cond(E, &t, t.body + 4, &yes)))
					return rc;
				if (yes)
					rc = render(E, t.resume, has_else ? els.strip : close.strip);
				else if (has_else)
					rc = render(E, els.resume, close.strip);
			}
			if (rc)
				return rc;
			p = close.resume;
		} else if (is_block(t.body)) {
			return tmpl_err(E, t.start, "unexpected {{%s}}", t.body);
		} else {
			if ((rc = emit_var(E, &t)))
				return rc;
			p = t.resume;
		}
	}
}

int rep_template_render(const char *tmpl, const char *tmpl_name, hj *ctx, const char *src_prefix,
                        char **out, struct hus_err *err)
{
	return rep_template_render_sources(tmpl, tmpl_name, ctx, src_prefix, out, NULL, err);
}

int rep_template_render_sources(const char *tmpl, const char *tmpl_name, hj *ctx,
                                const char *src_prefix, char **out, hj *sources,
                                struct hus_err *err)
{
	struct engine E;
	memset(&E, 0, sizeof(E));
	E.sources = sources;
	E.tmpl = tmpl;
	E.name = tmpl_name;
	E.src_prefix = src_prefix;
	E.err = err;
	E.sc[0].v = ctx;
	E.sc[0].index = -1;
	E.depth = 1;
	int rc = render(&E, tmpl, tmpl + strlen(tmpl));
	if (!rc && E.nan_used)
		sb_printf(&E.out, "\n[^nan]: n/a: the value is NaN (null in results.json); figures "
		                  "leave it as a gap, never as zero.\n");
	if (!rc && E.out.oom)
		rc = hus_errf(err, HUS_ENOMEM, tmpl_name, NULL, "out of memory rendering the template");
	if (rc) {
		free(E.out.s);
		return rc;
	}
	if (!E.out.s)
		sb_add(&E.out, "", 0);
	*out = E.out.s;
	return 0;
}
