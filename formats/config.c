/*
 * config.c — YAML configs through libyaml: the file becomes a small tree with line:column
 * marks; stages read it with typed getters that take a default and mark the key as used;
 * cfg_finish() rejects keys nobody read, suggesting the nearest known one.  Every value read
 * (defaults included) is recorded, which gives the resolved config stored in artifacts and the
 * config hash (scientific keys only, plus input-file checksums; paths never enter it, docs/formulas.md §6.0
 * A10).  Scalars are read as strings and converted with strtod/strtoll, so `1e-3` and `3e-4`
 * (strings under YAML 1.1) are numbers here (docs/formulas.md §8.18).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "formats.h"

enum node_kind { NODE_MAP, NODE_SEQ, NODE_SCALAR };

struct node {
	enum node_kind kind;
	char *key;   /* key in the parent mapping, NULL for sequence items and the root */
	char *value; /* scalar text */
	int line, col;
	int used, overridden;
	struct node **kids;
	size_t n, cap;
};

struct resolved {
	char *key;
	char *value; /* canonical YAML text of the value */
	int scientific;
};

struct cfg {
	char name[4096];
	struct node *root;
	struct resolved *res;
	size_t nres, capres;
	char **inputs; /* "role=sha256" */
	size_t ninputs;
};

/* ---------------------------------------------------------------- tree -------------- */

static struct node *node_new(enum node_kind kind, int line, int col)
{
	struct node *n = calloc(1, sizeof(*n));
	if (n) {
		n->kind = kind;
		n->line = line;
		n->col = col;
	}
	return n;
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->key);
	free(n->value);
	free(n);
}

static int node_add(struct node *parent, struct node *kid)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct node **k = realloc(parent->kids, cap * sizeof(*k));
		if (!k)
			return -1;
		parent->kids = k;
		parent->cap = cap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

static struct node *map_get(struct node *map, const char *key, size_t keylen)
{
	if (!map || map->kind != NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strlen(map->kids[i]->key) == keylen && !strncmp(map->kids[i]->key, key, keylen))
			return map->kids[i];
	return NULL;
}

/* Find a node by dotted key; NULL if absent. */
static struct node *lookup(struct cfg *c, const char *key)
{
	struct node *n = c->root;
	const char *p = key;
	while (n && *p) {
		size_t len = strcspn(p, ".");
		n = map_get(n, p, len);
		p += len;
		if (*p == '.')
			p++;
	}
	return n;
}

/* ---------------------------------------------------------------- parsing ----------- */

struct parse_frame {
	struct node *node;
	char *pending_key; /* for mappings: the key waiting for its value */
	int key_line, key_col;
};

static int parse_error(struct hus_err *err, const char *name, int line, int col, const char *msg)
{
	char where[64];
	snprintf(where, sizeof(where), "%d:%d", line, col);
	return hus_errf(err, HUS_EINPUT, name, where, "%s", msg);
}

static int parse_yaml(struct cfg *c, const unsigned char *text, size_t len, struct hus_err *err)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "libyaml: cannot initialise parser");
	yaml_parser_set_input_string(&parser, text, len);
	struct parse_frame stack[64];
	int depth = 0, rc = 0, done = 0, docs = 0;
	while (!done && !rc) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			char msg[400];
			snprintf(msg, sizeof(msg), "invalid YAML: %s%s%s",
				 parser.problem ? parser.problem : "syntax error",
				 parser.context ? " " : "", parser.context ? parser.context : "");
			rc = parse_error(err, c->name, (int)parser.problem_mark.line + 1,
					 (int)parser.problem_mark.column + 1, msg);
			break;
		}
		int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
		struct node *made = NULL;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = parse_error(err, c->name, line, col,
						 "expected one YAML document, found a second");
			break;
		case YAML_ALIAS_EVENT:
			rc = parse_error(err, c->name, line, col,
					 "YAML aliases (*name) are not supported in husai configs");
			break;
		case YAML_SCALAR_EVENT:
			if (ev.data.scalar.anchor) {
				rc = parse_error(err, c->name, line, col,
						 "YAML anchors (&name) are not supported in husai configs");
				break;
			}
			if (depth > 0 && stack[depth - 1].node->kind == NODE_MAP &&
			    !stack[depth - 1].pending_key) {
				/* a key */
				struct parse_frame *f = &stack[depth - 1];
				const char *k = (const char *)ev.data.scalar.value;
				if (!*k || strchr(k, '.') || strchr(k, '=')) {
					rc = parse_error(err, c->name, line, col,
							 "expected a key without '.' or '=' characters");
					break;
				}
				if (map_get(f->node, k, strlen(k))) {
					char msg[300];
					snprintf(msg, sizeof(msg), "duplicate key '%s'", k);
					rc = parse_error(err, c->name, line, col, msg);
					break;
				}
				f->pending_key = strdup(k);
				f->key_line = line;
				f->key_col = col;
				break;
			}
			made = node_new(NODE_SCALAR, line, col);
			if (made)
				made->value = strdup((const char *)ev.data.scalar.value);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth > 0 && stack[depth - 1].node->kind == NODE_MAP &&
			    !stack[depth - 1].pending_key) {
				rc = parse_error(err, c->name, line, col,
						 "expected a plain key, found a mapping or sequence");
				break;
			}
			if (depth >= 63) {
				rc = parse_error(err, c->name, line, col, "nesting too deep");
				break;
			}
			made = node_new(ev.type == YAML_MAPPING_START_EVENT ? NODE_MAP : NODE_SEQ, line,
					col);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			if (depth == 0 && !c->root)
				c->root = stack[0].node; /* the document's top node */
			break;
		default:
			break;
		}
		if (!rc && made) {
			if (depth > 0) {
				struct parse_frame *f = &stack[depth - 1];
				if (f->node->kind == NODE_MAP) {
					made->key = f->pending_key;
					made->line = f->key_line;
					made->col = f->key_col;
					f->pending_key = NULL;
				}
				if (node_add(f->node, made)) {
					node_free(made);
					rc = hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
				}
			} else if (made->kind == NODE_SCALAR) {
				/* a bare scalar document: only an empty one is acceptable */
				int empty = !made->value || !*made->value;
				node_free(made);
				made = NULL;
				if (!empty)
					rc = parse_error(err, c->name, line, col,
							 "expected a mapping of keys at the top level");
			} else if (made->kind == NODE_SEQ) {
				node_free(made);
				made = NULL;
				rc = parse_error(err, c->name, line, col,
						 "expected a mapping of keys at the top level, found a sequence");
			}
			if (!rc && made && made->kind != NODE_SCALAR) {
				stack[depth].node = made;
				stack[depth].pending_key = NULL;
				depth++;
			}
		}
		yaml_event_delete(&ev);
	}
	for (int i = 0; i < depth; i++)
		free(stack[i].pending_key);
	if (rc && depth > 0 && !c->root)
		node_free(stack[0].node);
	yaml_parser_delete(&parser);
	if (!rc && !c->root)
		c->root = node_new(NODE_MAP, 1, 1);
	return rc;
}

static struct cfg *cfg_alloc(const char *name)
{
	struct cfg *c = calloc(1, sizeof(*c));
	if (c)
		snprintf(c->name, sizeof(c->name), "%s", name);
	return c;
}

struct cfg *cfg_empty(const char *name)
{
	struct cfg *c = cfg_alloc(name);
	if (c && !(c->root = node_new(NODE_MAP, 1, 1))) {
		free(c);
		return NULL;
	}
	return c;
}

int cfg_load_string(struct cfg **cp, const char *text, const char *name, struct hus_err *err)
{
	struct cfg *c = cfg_alloc(name);
	if (!c)
		return hus_errf(err, HUS_ENOMEM, name, NULL, "out of memory");
	int rc = parse_yaml(c, (const unsigned char *)text, strlen(text), err);
	if (rc) {
		cfg_free(c);
		return rc;
	}
	*cp = c;
	return 0;
}

int cfg_load(struct cfg **cp, const char *path, struct hus_err *err)
{
	char *text;
	size_t n;
	/* a regular file of at most CFG_MAX_BYTES, checked before reading (`husai run /dev/zero`
	 * read 16-32 GiB before refusing) */
	int rc = hus_read_file_max(path, CFG_MAX_BYTES, &text, &n, err);
	if (rc)
		return rc;
	if (strlen(text) != n) {
		free(text);
		return hus_errf(err, HUS_EINPUT, path, NULL, "expected a YAML text file, found NUL bytes");
	}
	rc = cfg_load_string(cp, text, path, err);
	free(text);
	return rc;
}

void cfg_free(struct cfg *c)
{
	if (!c)
		return;
	node_free(c->root);
	for (size_t i = 0; i < c->nres; i++) {
		free(c->res[i].key);
		free(c->res[i].value);
	}
	free(c->res);
	for (size_t i = 0; i < c->ninputs; i++)
		free(c->inputs[i]);
	free(c->inputs);
	free(c);
}

const char *cfg_name(const struct cfg *c) { return c->name; }

int cfg_has(struct cfg *c, const char *key) { return lookup(c, key) != NULL; }

/* ---------------------------------------------------------------- overrides --------- */

int cfg_set(struct cfg *c, const char *assignment, struct hus_err *err)
{
	const char *eq = strchr(assignment, '=');
	if (!eq || eq == assignment)
		return hus_errf(err, HUS_EUSAGE, NULL, NULL,
				"--set expects section.key=value, got '%s'", assignment);
	struct node *n = c->root;
	const char *p = assignment;
	while (p < eq) {
		size_t len = strcspn(p, ".=");
		if (!len)
			return hus_errf(err, HUS_EUSAGE, NULL, NULL, "--set '%s': empty key component",
					assignment);
		int last = p[len] == '=';
		struct node *kid = map_get(n, p, len);
		if (!kid) {
			kid = node_new(last ? NODE_SCALAR : NODE_MAP, 0, 0);
			if (!kid || !(kid->key = strndup(p, len)) || node_add(n, kid)) {
				node_free(kid);
				return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
			}
		}
		if (!last && kid->kind != NODE_MAP)
			return hus_errf(err, HUS_EUSAGE, NULL, NULL,
					"--set '%s': '%.*s' is a value, not a section", assignment,
					(int)(p + len - assignment), assignment);
		n = kid;
		p += len + 1;
	}
	if (n->kind == NODE_MAP && n->n > 0)
		return hus_errf(err, HUS_EUSAGE, NULL, NULL,
				"--set '%s': the key is a section, not a value", assignment);
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	n->n = 0;
	n->kind = NODE_SCALAR;
	free(n->value);
	n->value = strdup(eq + 1);
	n->overridden = 1;
	return n->value ? 0 : hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
}

/* Typed puts: the same path as --set, with the value formatted here so that callers build
 * configs through this API, never as YAML text; the value reads back exactly (%.17g). */
int cfg_put_int(struct cfg *c, const char *key, int64_t v, struct hus_err *err)
{
	char a[1024];
	if ((size_t)snprintf(a, sizeof(a), "%s=%" PRId64, key, v) >= sizeof(a))
		return hus_errf(err, HUS_EUSAGE, NULL, NULL, "config key too long: %.64s...", key);
	return cfg_set(c, a, err);
}

int cfg_put_f64(struct cfg *c, const char *key, double v, struct hus_err *err)
{
	char a[1024];
	if (!isfinite(v))
		return hus_errf(err, HUS_EINPUT, NULL, NULL, "%s: %g is not a finite number", key, v);
	if ((size_t)snprintf(a, sizeof(a), "%s=%.17g", key, v) >= sizeof(a))
		return hus_errf(err, HUS_EUSAGE, NULL, NULL, "config key too long: %.64s...", key);
	return cfg_set(c, a, err);
}

int cfg_put_str(struct cfg *c, const char *key, const char *v, struct hus_err *err)
{
	size_t n = strlen(key) + strlen(v) + 2;
	char *a = malloc(n);
	if (!a)
		return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
	snprintf(a, n, "%s=%s", key, v);
	int rc = cfg_set(c, a, err);
	free(a);
	return rc;
}

int cfg_put_map(struct cfg *c, const char *key, struct hus_err *err)
{
	struct node *n = c->root;
	const char *p = key;
	for (;;) {
		size_t len = strcspn(p, ".");
		if (!len)
			return hus_errf(err, HUS_EUSAGE, NULL, NULL, "config key '%s': empty component",
					key);
		struct node *kid = map_get(n, p, len);
		if (!kid) {
			kid = node_new(NODE_MAP, 0, 0);
			if (!kid || !(kid->key = strndup(p, len)) || node_add(n, kid)) {
				node_free(kid);
				return hus_errf(err, HUS_ENOMEM, NULL, NULL, "out of memory");
			}
		} else if (kid->kind != NODE_MAP) {
			return hus_errf(err, HUS_EUSAGE, NULL, NULL,
					"config key '%s': '%.*s' is a value, not a section", key,
					(int)(p + len - key), key);
		}
		n = kid;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/* ---------------------------------------------------------------- recording --------- */

static int record(struct cfg *c, const char *key, const char *value, int scientific)
{
	for (size_t i = 0; i < c->nres; i++) {
		if (!strcmp(c->res[i].key, key)) {
			char *v = strdup(value);
			if (!v)
				return -1;
			free(c->res[i].value);
			c->res[i].value = v;
			c->res[i].scientific = scientific;
			return 0;
		}
	}
	if (c->nres == c->capres) {
		size_t cap = c->capres ? c->capres * 2 : 32;
		struct resolved *r = realloc(c->res, cap * sizeof(*r));
		if (!r)
			return -1;
		c->res = r;
		c->capres = cap;
	}
	c->res[c->nres].key = strdup(key);
	c->res[c->nres].value = strdup(value);
	c->res[c->nres].scientific = scientific;
	if (!c->res[c->nres].key || !c->res[c->nres].value)
		return -1;
	c->nres++;
	return 0;
}

/* Shortest %.Ng that reads back to the same double. */
static void fmt_double(char *buf, size_t n, double v)
{
	if (isnan(v)) {
		snprintf(buf, n, ".nan");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, n, v > 0 ? ".inf" : "-.inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* keep it a float in YAML 1.2 readers: 1 -> 1.0, 1e-05 stays */
	if (!strpbrk(buf, ".eEn"))
		strncat(buf, ".0", n - strlen(buf) - 1);
}

static void fmt_string(char *buf, size_t n, const char *s)
{
	size_t o = 0;
	if (n < 3) {
		buf[0] = 0;
		return;
	}
	buf[o++] = '"';
	for (; *s && o + 7 < n; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (ch < 0x20) {
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	buf[o++] = '"';
	buf[o] = 0;
}

static int where_of(const struct node *n, char *buf, size_t len, const char *key)
{
	if (n->overridden || n->line == 0)
		return snprintf(buf, len, "--set %s", key);
	return snprintf(buf, len, "%d:%d", n->line, n->col);
}

int cfg_where(struct cfg *c, const char *key, char *buf, size_t len)
{
	const struct node *n = lookup(c, key);
	if (!n) {
		if (len)
			*buf = 0;
		return -1;
	}
	where_of(n, buf, len, key);
	return 0;
}

/* Fill err for a value of the wrong type. */
static int bad_value(struct cfg *c, const struct node *n, const char *key, const char *expected,
                     struct hus_err *err)
{
	char where[300];
	where_of(n, where, sizeof(where), key);
	if (n->kind == NODE_SCALAR)
		return hus_errf(err, HUS_EINPUT, c->name, where, "'%s': expected %s, found '%s'", key,
				expected, n->value);
	return hus_errf(err, HUS_EINPUT, c->name, where, "'%s': expected %s, found a %s", key,
			expected, n->kind == NODE_MAP ? "mapping" : "sequence");
}

static int parse_f64(const char *s, double *out)
{
	if (!strcasecmp(s, ".inf") || !strcasecmp(s, "+.inf")) {
		*out = INFINITY;
		return 0;
	}
	if (!strcasecmp(s, "-.inf")) {
		*out = -INFINITY;
		return 0;
	}
	if (!strcasecmp(s, ".nan")) {
		*out = NAN;
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !strcasecmp(s, "nan") || !strcasecmp(s, "inf") ||
	    !strcasecmp(s, "infinity") || strchr(s, 'x') || strchr(s, 'X'))
		return -1;
	*out = v;
	return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end != s && !*end && errno != ERANGE) {
		*out = v;
		return 0;
	}
	/* accept integral scientific notation such as 1e4 */
	double d;
	if (parse_f64(s, &d) == 0 && isfinite(d) && d == floor(d) && fabs(d) < 9.0e15) {
		*out = (int64_t)d;
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------------- getters ----------- */

static int scalar_at(struct cfg *c, const char *key, struct node **np, struct hus_err *err,
                     const char *expected)
{
	struct node *n = lookup(c, key);
	*np = n;
	if (!n)
		return 0;
	n->used = 1;
	if (n->kind != NODE_SCALAR)
		return bad_value(c, n, key, expected, err);
	return 0;
}

int cfg_int(struct cfg *c, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out,
            struct hus_err *err)
{
	struct node *n;
	int rc = scalar_at(c, key, &n, err, "an integer");
	if (rc)
		return rc;
	int64_t v = def;
	if (n && parse_i64(n->value, &v))
		return bad_value(c, n, key, "an integer", err);
	if (v < min || v > max) {
		char where[300] = "";
		if (n)
			where_of(n, where, sizeof(where), key);
		return hus_errf(err, HUS_EINPUT, c->name, n ? where : NULL,
				"'%s': expected an integer in [%" PRId64 ", %" PRId64 "], found %" PRId64,
				key, min, max, v);
	}
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	if (record(c, key, buf, 1))
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	*out = v;
	return 0;
}

int cfg_f64(struct cfg *c, const char *key, double def, double *out, struct hus_err *err)
{
	struct node *n;
	int rc = scalar_at(c, key, &n, err, "a number");
	if (rc)
		return rc;
	double v = def;
	if (n && parse_f64(n->value, &v))
		return bad_value(c, n, key, "a number (e.g. 0.001 or 1e-3)", err);
	if (n && !isfinite(v)) /* .inf, .nan: no husai setting means them */
		return bad_value(c, n, key, "a finite number", err);
	char buf[40];
	fmt_double(buf, sizeof(buf), v);
	if (record(c, key, buf, 1))
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	*out = v;
	return 0;
}

int cfg_f64_in(struct cfg *c, const char *key, double def, double lo, int lo_open, double hi,
               int hi_open, double *out, struct hus_err *err)
{
	double v;
	int rc = cfg_f64(c, key, def, &v, err);
	if (rc)
		return rc;
	if ((lo_open ? !(v > lo) : !(v >= lo)) || (hi_open ? !(v < hi) : !(v <= hi))) {
		const struct node *n = lookup(c, key);
		char where[300] = "", hi_s[40] = "inf";
		if (n)
			where_of(n, where, sizeof(where), key);
		if (!isinf(hi))
			snprintf(hi_s, sizeof(hi_s), "%g", hi);
		return hus_errf(err, HUS_EINPUT, c->name, n ? where : key,
				"'%s': expected a number in %c%g, %s%c, found %.17g", key,
				lo_open ? '(' : '[', lo, hi_s, hi_open || isinf(hi) ? ')' : ']', v);
	}
	*out = v;
	return 0;
}

int cfg_bool(struct cfg *c, const char *key, int def, int *out, struct hus_err *err)
{
	struct node *n;
	int rc = scalar_at(c, key, &n, err, "true or false");
	if (rc)
		return rc;
	int v = def;
	if (n) {
		const char *s = n->value;
		if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
			v = 1;
		else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
			v = 0;
		else
			return bad_value(c, n, key, "true or false", err);
	}
	if (record(c, key, v ? "true" : "false", 1))
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	*out = v;
	return 0;
}

static int get_string(struct cfg *c, const char *key, const char *def,
                      const char *const *choices, const char **out, int scientific,
                      struct hus_err *err)
{
	struct node *n;
	int rc = scalar_at(c, key, &n, err, "a string");
	if (rc)
		return rc;
	const char *v = n ? n->value : def;
	if (choices && v) {
		int ok = 0;
		char list[400] = "";
		for (const char *const *ch = choices; *ch; ch++) {
			if (!strcmp(*ch, v))
				ok = 1;
			strncat(list, list[0] ? ", " : "", sizeof(list) - strlen(list) - 1);
			strncat(list, *ch, sizeof(list) - strlen(list) - 1);
		}
		if (!ok) {
			char where[300] = "";
			if (n)
				where_of(n, where, sizeof(where), key);
			return hus_errf(err, HUS_EINPUT, c->name, n ? where : NULL,
					"'%s': expected one of %s, found '%s'", key, list, v);
		}
	}
	char buf[4200];
	fmt_string(buf, sizeof(buf), v ? v : "");
	if (record(c, key, v ? buf : "null", scientific))
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	*out = v;
	return 0;
}

int cfg_str(struct cfg *c, const char *key, const char *def, const char *const *choices,
            const char **out, struct hus_err *err)
{
	return get_string(c, key, def, choices, out, 1, err);
}

int cfg_path(struct cfg *c, const char *key, const char *def, const char **out,
             struct hus_err *err)
{
	return get_string(c, key, def, NULL, out, 0, err);
}

/* Collect list items as strings: a YAML sequence of scalars, or one "a,b,c" scalar. */
static int list_items(struct cfg *c, struct node *n, const char *key, char ***items,
                      size_t *count, struct hus_err *err)
{
	char **out = NULL;
	size_t k = 0;
	if (n->kind == NODE_SEQ) {
		out = calloc(n->n ? n->n : 1, sizeof(*out));
		if (!out)
			return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
		for (size_t i = 0; i < n->n; i++) {
			if (n->kids[i]->kind != NODE_SCALAR) {
				free(out);
				return bad_value(c, n->kids[i], key, "a list of scalars", err);
			}
			out[k++] = n->kids[i]->value;
		}
		*items = out;
		*count = k;
		return 0;
	}
	if (n->kind != NODE_SCALAR)
		return bad_value(c, n, key, "a list", err);
	/* "1,2,3" or "[1, 2, 3]" given on the command line: split in place on a copy */
	char *copy = strdup(n->value);
	size_t cap = 1; /* tokens are separated by commas and spaces: count both */
	for (const char *p = n->value; *p; p++)
		cap += *p == ',' || *p == ' ';
	out = calloc(cap + 1, sizeof(*out));
	if (!copy || !out) {
		free(copy);
		free(out);
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	}
	char *s = copy;
	if (*s == '[') {
		s++;
		char *e = strrchr(s, ']');
		if (e)
			*e = 0;
	}
	for (char *tok = strtok(s, ", "); tok; tok = strtok(NULL, ", "))
		out[k++] = tok;
	out[k] = copy; /* owned buffer travels at the end; freed by the caller */
	*items = out;
	*count = k;
	return 1; /* 1 = caller must free out[count] */
}

static int get_list(struct cfg *c, const char *key, int integer, const void *def, size_t ndef,
                    void **out, size_t *n, struct hus_err *err)
{
	struct node *node = lookup(c, key);
	size_t count = ndef, esz = integer ? sizeof(int64_t) : sizeof(double);
	void *vals = malloc((count ? count : 1) * esz);
	if (!vals)
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	if (!node) {
		if (ndef)
			memcpy(vals, def, ndef * esz);
	} else {
		node->used = 1;
		char **items = NULL;
		int owned = list_items(c, node, key, &items, &count, err);
		if (owned < 0) {
			free(vals);
			return owned;
		}
		void *nv = realloc(vals, (count ? count : 1) * esz);
		if (!nv) {
			free(vals);
			return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
		}
		vals = nv;
		for (size_t i = 0; i < count; i++) {
			int bad = integer ? parse_i64(items[i], (int64_t *)vals + i)
					  : parse_f64(items[i], (double *)vals + i) ||
						    !isfinite(((double *)vals)[i]);
			if (bad) {
				char where[300];
				struct node *at = node->kind == NODE_SEQ ? node->kids[i] : node;
				where_of(at, where, sizeof(where), key);
				hus_errf(err, HUS_EINPUT, c->name, where,
					 "'%s': expected a list of %s, item %zu is '%s'", key,
					 integer ? "integers" : "finite numbers", i + 1, items[i]);
				if (owned)
					free(items[count]);
				free(items);
				free(vals);
				return HUS_EINPUT;
			}
		}
		if (owned)
			free(items[count]);
		free(items);
	}
	/* canonical flow list */
	size_t cap = 4 + count * 28;
	char *buf = malloc(cap);
	if (!buf) {
		free(vals);
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	}
	size_t o = (size_t)snprintf(buf, cap, "[");
	for (size_t i = 0; i < count; i++) {
		char item[40];
		if (integer)
			snprintf(item, sizeof(item), "%" PRId64, ((int64_t *)vals)[i]);
		else
			fmt_double(item, sizeof(item), ((double *)vals)[i]);
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", item);
	}
	snprintf(buf + o, cap - o, "]");
	int rc = record(c, key, buf, 1);
	free(buf);
	if (rc) {
		free(vals);
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	}
	*out = vals;
	*n = count;
	return 0;
}

int cfg_int_list(struct cfg *c, const char *key, const int64_t *def, size_t ndef, int64_t **out,
                 size_t *n, struct hus_err *err)
{
	return get_list(c, key, 1, def, ndef, (void **)out, n, err);
}

int cfg_f64_list(struct cfg *c, const char *key, const double *def, size_t ndef, double **out,
                 size_t *n, struct hus_err *err)
{
	return get_list(c, key, 0, def, ndef, (void **)out, n, err);
}

int cfg_keys(struct cfg *c, const char *key, char ***names, size_t *n, struct hus_err *err)
{
	struct node *node = key && *key ? lookup(c, key) : c->root;
	*names = NULL;
	*n = 0;
	if (!node)
		return 0;
	if (node->kind != NODE_MAP)
		return bad_value(c, node, key, "a mapping", err);
	node->used = 1;
	char **out = calloc(node->n ? node->n : 1, sizeof(*out));
	if (!out)
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	for (size_t i = 0; i < node->n; i++) {
		out[i] = node->kids[i]->key;
		/* a listed entry is known even when empty; its own keys are still checked */
		if (node->kids[i]->kind == NODE_MAP)
			node->kids[i]->used = 1;
	}
	*names = out; /* the strings belong to c; free only the array */
	*n = node->n;
	return 0;
}

int cfg_add_input(struct cfg *c, const char *role, const char *path, struct hus_err *err)
{
	char hex[65];
	int rc = hus_sha256_file(path, hex, NULL, err);
	if (rc)
		return rc;
	char **in = realloc(c->inputs, (c->ninputs + 1) * sizeof(*in));
	if (!in)
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	c->inputs = in;
	size_t len = strlen(role) + 66;
	if (!(c->inputs[c->ninputs] = malloc(len)))
		return hus_errf(err, HUS_ENOMEM, c->name, NULL, "out of memory");
	snprintf(c->inputs[c->ninputs++], len, "%s=%s", role, hex);
	return 0;
}

/* ---------------------------------------------------------------- finishing --------- */

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 200 || lb > 200)
		return (size_t)-1;
	size_t prev[201], cur[201];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

static int any_used(const struct node *n)
{
	if (n->used && n->kind != NODE_MAP)
		return 1;
	for (size_t i = 0; i < n->n; i++)
		if (any_used(n->kids[i]))
			return 1;
	return 0;
}

static int find_unknown(struct cfg *c, struct node *n, char *prefix, size_t cap,
                        struct hus_err *err)
{
	size_t base = strlen(prefix);
	for (size_t i = 0; i < n->n; i++) {
		struct node *k = n->kids[i];
		snprintf(prefix + base, cap - base, "%s%s", base ? "." : "", k->key);
		int unknown = k->kind == NODE_MAP ? !k->used && !any_used(k) : !k->used;
		if (unknown) {
			const char *best = NULL;
			size_t bestd = (size_t)-1;
			for (size_t r = 0; r < c->nres; r++) {
				size_t d = edit_distance(prefix, c->res[r].key);
				if (d < bestd) {
					bestd = d;
					best = c->res[r].key;
				}
			}
			size_t limit = strlen(prefix) / 3 > 2 ? strlen(prefix) / 3 : 2;
			char where[300];
			where_of(k, where, sizeof(where), prefix);
			if (best && bestd <= limit)
				return hus_errf(err, HUS_EINPUT, c->name, where,
						"unknown key '%s' (did you mean '%s'?)", prefix, best);
			return hus_errf(err, HUS_EINPUT, c->name, where, "unknown key '%s'", prefix);
		}
		if (k->kind == NODE_MAP) {
			int rc = find_unknown(c, k, prefix, cap, err);
			if (rc)
				return rc;
		}
		prefix[base] = 0;
	}
	return 0;
}

int cfg_finish(struct cfg *c, struct hus_err *err)
{
	char prefix[1024] = "";
	return find_unknown(c, c->root, prefix, sizeof(prefix), err);
}

static int cmp_res(const void *a, const void *b)
{
	return strcmp(((const struct resolved *)a)->key, ((const struct resolved *)b)->key);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *cfg_resolved_yaml(struct cfg *c)
{
	if (c->nres)
		qsort(c->res, c->nres, sizeof(*c->res), cmp_res);
	size_t cap = 256;
	for (size_t i = 0; i < c->nres; i++)
		cap += strlen(c->res[i].key) * 2 + strlen(c->res[i].value) + 64;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t o = 0;
	out[0] = 0;
	const char *prev = "";
	for (size_t i = 0; i < c->nres; i++) {
		const char *key = c->res[i].key;
		/* components shared with the previous key are already open sections */
		size_t shared = 0, depth = 0;
		const char *a = prev, *b = key;
		for (;;) {
			size_t la = strcspn(a, "."), lb = strcspn(b, ".");
			if (!b[lb] || la != lb || strncmp(a, b, la) || !a[la])
				break;
			shared += lb + 1;
			depth++;
			a += la + 1;
			b += lb + 1;
		}
		const char *p = key + shared;
		for (;;) {
			size_t len = strcspn(p, ".");
			o += (size_t)snprintf(out + o, cap - o, "%*s%.*s:", (int)(2 * depth), "", (int)len, p);
			if (!p[len]) {
				o += (size_t)snprintf(out + o, cap - o, " %s\n", c->res[i].value);
				break;
			}
			o += (size_t)snprintf(out + o, cap - o, "\n");
			depth++;
			p += len + 1;
		}
		prev = key;
	}
	return out;
}

void cfg_hash(struct cfg *c, char hex[65])
{
	if (c->nres)
		qsort(c->res, c->nres, sizeof(*c->res), cmp_res);
	if (c->ninputs)
		qsort(c->inputs, c->ninputs, sizeof(*c->inputs), cmp_str);
	size_t cap = 64;
	for (size_t i = 0; i < c->nres; i++)
		cap += strlen(c->res[i].key) + strlen(c->res[i].value) + 3;
	for (size_t i = 0; i < c->ninputs; i++)
		cap += strlen(c->inputs[i]) + 8;
	char *buf = malloc(cap);
	if (!buf) {
		memset(hex, '0', 64);
		hex[64] = 0;
		return;
	}
	size_t o = (size_t)snprintf(buf, cap, "husai-config-hash-v1\n");
	for (size_t i = 0; i < c->nres; i++)
		if (c->res[i].scientific)
			o += (size_t)snprintf(buf + o, cap - o, "%s=%s\n", c->res[i].key, c->res[i].value);
	for (size_t i = 0; i < c->ninputs; i++)
		o += (size_t)snprintf(buf + o, cap - o, "input:%s\n", c->inputs[i]);
	hus_sha256_buf(buf, o, hex);
	free(buf);
}

/* ---------------------------------------------------------------- subsets ----------- */

/* A mapping key as YAML: plain when it is a simple identifier, double-quoted otherwise. */
static void fmt_key(char *buf, size_t n, const char *key)
{
	int plain = *key != 0;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || *p == '-'))
			plain = 0;
	if (plain && *key != '-')
		snprintf(buf, n, "%s", key);
	else
		fmt_string(buf, n, key);
}

static void emit_node(const struct node *n, int depth, char **buf, size_t *len, size_t *cap)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct node *k = n->kids[i];
		char item[4300];
		size_t need = 4400 + (size_t)depth * 2;
		if (*len + need > *cap) {
			size_t nc = (*cap + need) * 2;
			char *nb = realloc(*buf, nc);
			if (!nb)
				return;
			*buf = nb;
			*cap = nc;
		}
		if (k->kind == NODE_SCALAR) {
			fmt_string(item, sizeof(item), k->value);
			if (n->kind == NODE_SEQ)
				*len += (size_t)snprintf(*buf + *len, *cap - *len, "%*s- %s\n", 2 * depth, "", item);
			else
			{
				char key[4300];
				fmt_key(key, sizeof(key), k->key);
				*len += (size_t)snprintf(*buf + *len, *cap - *len, "%*s%s: %s\n", 2 * depth, "",
							 key, item);
			}
		} else if (n->kind == NODE_MAP) {
			fmt_key(item, sizeof(item), k->key);
			*len += (size_t)snprintf(*buf + *len, *cap - *len, "%*s%s:%s\n", 2 * depth, "", item,
						 k->n ? "" : (k->kind == NODE_MAP ? " {}" : " []"));
			emit_node(k, depth + 1, buf, len, cap);
		}
		/* sequences of mappings do not occur in husai configs; they are skipped */
	}
}

static void mark_used(struct node *n)
{
	n->used = 1;
	for (size_t i = 0; i < n->n; i++)
		mark_used(n->kids[i]);
}

char *cfg_sections_yaml(struct cfg *c, const char *const *sections)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	buf[0] = 0;
	for (const char *const *s = sections; *s; s++) {
		struct node *n = map_get(c->root, *s, strlen(*s));
		if (!n)
			continue;
		mark_used(n);
		struct node wrapper = { .kind = NODE_MAP, .kids = &n, .n = 1 };
		emit_node(&wrapper, 0, &buf, &len, &cap);
	}
	return buf;
}
