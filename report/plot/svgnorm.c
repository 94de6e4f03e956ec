/*
 * svgnorm.c — makes cairo's SVG bytes a function of the drawing alone.  cairo numbers some
 * ids (surfaceN, ...) from process-wide counters, so the same figure drawn twice in one process,
 * or after another figure, gets different ids.  Every id="NAME" is renamed, in order of first
 * definition, to its alphabetic prefix plus a sequence number, and every reference (#NAME) is
 * rewritten to match.  Nothing else in the document is touched.
 */
#include <stdlib.h>
#include <string.h>

#include "plot.h"

struct idmap {
	char **old, **new;
	size_t n, cap;
};

static int is_idch(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.';
}

static long find(const struct idmap *m, const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < m->n; i++)
		if (strlen(m->old[i]) == len && !memcmp(m->old[i], s, len))
			return (long)i;
	return -1;
}

static int add(struct idmap *m, const unsigned char *s, size_t len)
{
	if (find(m, s, len) >= 0)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		char **o = realloc(m->old, cap * sizeof(*o));
		if (!o)
			return -1;
		m->old = o;
		char **nw = realloc(m->new, cap * sizeof(*nw));
		if (!nw)
			return -1;
		m->new = nw;
		m->cap = cap;
	}
	size_t pre = 0;
	while (pre < len && !(s[pre] >= '0' && s[pre] <= '9'))
		pre++;
	m->old[m->n] = strndup((const char *)s, len);
	m->new[m->n] = malloc(pre + 24);
	if (!m->old[m->n] || !m->new[m->n]) {
		free(m->old[m->n]);
		free(m->new[m->n]);
		return -1;
	}
	memcpy(m->new[m->n], s, pre);
	snprintf(m->new[m->n] + pre, 24, "%zu", m->n + 1);
	m->n++;
	return 0;
}

static void idmap_free(struct idmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->old[i]);
		free(m->new[i]);
	}
	free(m->old);
	free(m->new);
}

int fig_svg_normalise(const unsigned char *in, size_t n, unsigned char **out, size_t *outn)
{
	struct idmap m = { 0 };
	int rc = -1;
	unsigned char *o = NULL;
	/* pass 1: definitions, in document order */
	for (size_t i = 0; i + 4 < n; i++) {
		if (memcmp(in + i, "id=\"", 4) || (i > 0 && is_idch(in[i - 1])))
			continue;
		size_t s = i + 4, e = s;
		while (e < n && is_idch(in[e]))
			e++;
		if (e < n && in[e] == '"' && e > s && add(&m, in + s, e - s))
			goto cleanup;
	}
	/* pass 2: copy, renaming definitions and references; names only grow by a few bytes */
	size_t cap = n + 16 * m.n + 1, len = 0;
	o = malloc(cap);
	if (!o)
		goto cleanup;
	for (size_t i = 0; i < n;) {
		size_t s = 0;
		if (in[i] == '#')
			s = i + 1;
		else if (i + 4 <= n && !memcmp(in + i, "id=\"", 4) && !(i > 0 && is_idch(in[i - 1])))
			s = i + 4;
		if (s) {
			size_t e = s;
			while (e < n && is_idch(in[e]))
				e++;
			long k = e > s ? find(&m, in + s, e - s) : -1;
			if (k >= 0) {
				size_t nl = strlen(m.new[k]);
				if (len + (s - i) + nl + 1 > cap) {
					cap = 2 * cap + nl + (s - i);
					unsigned char *t = realloc(o, cap);
					if (!t)
						goto cleanup;
					o = t;
				}
				memcpy(o + len, in + i, s - i);
				len += s - i;
				memcpy(o + len, m.new[k], nl);
				len += nl;
				i = e;
				continue;
			}
		}
		if (len + 1 > cap) {
			cap *= 2;
			unsigned char *t = realloc(o, cap);
			if (!t)
				goto cleanup;
			o = t;
		}
		o[len++] = in[i++];
	}
	*out = o;
	*outn = len;
	o = NULL;
	rc = 0;
cleanup:
	free(o);
	idmap_free(&m);
	return rc;
}
