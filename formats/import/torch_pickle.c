/*
 * torch_pickle.c — the subset of the pickle virtual machine (protocol 2) that torch.save
 * emits for checkpoint dicts of float tensors, ints, floats, strings, bools, None, lists,
 * tuples and dicts, and the value tree it builds (the zip container around data.pkl is
 * torch_zip.c).
 *
 * Nothing is ever executed or imported.  GLOBAL is accepted only for collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2 and the storage types torch.FloatStorage, HalfStorage,
 * BFloat16Storage (converted to float32), IntStorage / LongStorage (integer buffers such as
 * dictionary_learning's `k`: read as int64, never as float) and BoolStorage (buffers such as
 * attn.mask: shape kept, data never loaded); every other global and every other opcode is refused by name.
 * REDUCE is interpreted for those two callables only; BUILD only sets a dict's attributes
 * (the state-dict `_metadata`), which are dropped.  The VM is bounded: at most
 * PT_MAX_VALUES values, PT_MAX_STACK stack entries, memo indices below PT_MAX_MEMO, and every
 * length is checked against the bytes left.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

const struct pt_global pt_globals[PT_NGLOBALS] = {
	[G_ODICT] = { "collections", "OrderedDict", 0, NULL },
	[G_REBUILD] = { "torch._utils", "_rebuild_tensor_v2", 0, NULL },
	[G_FLOAT] = { "torch", "FloatStorage", 4, "Float" },
	[G_HALF] = { "torch", "HalfStorage", 2, "Half" },
	[G_BF16] = { "torch", "BFloat16Storage", 2, "BFloat16" },
	[G_BOOL] = { "torch", "BoolStorage", 1, "Bool" },
	[G_INT] = { "torch", "IntStorage", 4, "Int" },
	[G_LONG] = { "torch", "LongStorage", 8, "Long" },
};

#define PT_MAX_VALUES (1u << 20)
#define PT_MAX_STACK (1u << 20)
#define PT_MAX_MEMO (1u << 22)

struct vm {
	struct pt_doc *doc;
	const char *file;
	struct pt_value **stack;
	size_t sp, capstack;
	size_t *marks;
	size_t nmarks, capmarks;
	struct pt_value **memo;
	size_t capmemo;
	struct hus_err *err;
};

/* ---------------------------------------------------------------- values ------------ */

static void value_free(struct pt_value *v)
{
	if (!v)
		return;
	free(v->s);
	free(v->items);
	if (v->tensor) {
		free(v->tensor->data);
		free(v->tensor->ints);
		free((struct pt_tensor *)v->tensor);
	}
	free(v);
}

void pt_free(struct pt_doc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->nvals; i++)
		value_free(doc->vals[i]);
	free(doc->vals);
	free(doc);
}

struct pt_value *pt_root(struct pt_doc *doc)
{
	return doc ? doc->root : NULL;
}

static struct pt_value *new_value(struct vm *m, enum pt_kind kind)
{
	struct pt_doc *d = m->doc;
	if (d->nvals >= PT_MAX_VALUES) {
		hus_errf(m->err, HUS_EINPUT, m->file, "data.pkl", "more than %u pickled values",
		         PT_MAX_VALUES);
		return NULL;
	}
	if (d->nvals == d->capvals) {
		size_t nc = d->capvals ? d->capvals * 2 : 256;
		struct pt_value **p = realloc(d->vals, nc * sizeof(*p));
		if (!p)
			goto oom;
		d->vals = p;
		d->capvals = nc;
	}
	struct pt_value *v = calloc(1, sizeof(*v));
	if (!v)
		goto oom;
	v->kind = kind;
	d->vals[d->nvals++] = v;
	return v;
oom:
	hus_errf(m->err, HUS_ENOMEM, m->file, "data.pkl", "out of memory");
	return NULL;
}

/* append to a list/tuple (1 item) or a dict (2 items: key, value) */
static int add_items(struct vm *m, struct pt_value *c, struct pt_value **it, size_t k)
{
	size_t used = c->kind == PT_DICT ? 2 * c->n : c->n;
	if (used + k > c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 8;
		while (nc < used + k)
			nc *= 2;
		struct pt_value **p = realloc(c->items, nc * sizeof(*p));
		if (!p)
			return hus_errf(m->err, HUS_ENOMEM, m->file, "data.pkl", "out of memory");
		c->items = p;
		c->cap = nc;
	}
	memcpy(c->items + used, it, k * sizeof(*it));
	c->n += c->kind == PT_DICT ? k / 2 : k;
	return 0;
}

struct pt_value *pt_get(const struct pt_value *dict, const char *key)
{
	if (!dict || dict->kind != PT_DICT)
		return NULL;
	for (size_t i = 0; i < dict->n; i++) {
		const struct pt_value *k = dict->items[2 * i];
		if (k->kind == PT_STR && !strcmp(k->s, key))
			return dict->items[2 * i + 1];
	}
	return NULL;
}

/* ---------------------------------------------------------------- the pickle VM ----- */

static int push(struct vm *m, struct pt_value *v)
{
	if (!v)
		return m->err->code ? m->err->code : HUS_ENOMEM;
	if (m->sp >= PT_MAX_STACK)
		return hus_errf(m->err, HUS_EINPUT, m->file, "data.pkl", "pickle stack deeper than %u",
		                PT_MAX_STACK);
	if (m->sp == m->capstack) {
		size_t nc = m->capstack ? m->capstack * 2 : 64;
		struct pt_value **p = realloc(m->stack, nc * sizeof(*p));
		if (!p)
			return hus_errf(m->err, HUS_ENOMEM, m->file, "data.pkl", "out of memory");
		m->stack = p;
		m->capstack = nc;
	}
	m->stack[m->sp++] = v;
	return 0;
}

static int bad(struct vm *m, size_t pos, const char *what)
{
	char where[64];
	snprintf(where, sizeof(where), "data.pkl:%zu", pos);
	return hus_errf(m->err, HUS_EINPUT, m->file, where, "%s", what);
}

/* the items above the topmost mark: *first index, *k count; pops the mark */
static int pop_mark(struct vm *m, size_t pos, size_t *first, size_t *k)
{
	if (!m->nmarks)
		return bad(m, pos, "opcode needs a MARK but none is set");
	*first = m->marks[--m->nmarks];
	if (*first > m->sp)
		return bad(m, pos, "MARK above the stack top");
	*k = m->sp - *first;
	return 0;
}

static int make_tensor(struct vm *m, size_t pos, struct pt_value *args, struct pt_value **out)
{
	/* _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
	 * [, metadata]) (torch/_utils.py) */
	if (args->kind != PT_TUPLE || args->n < 6 || args->n > 7)
		return bad(m, pos, "_rebuild_tensor_v2 expects a 6- or 7-tuple of arguments");
	struct pt_value *st = args->items[0], *off = args->items[1], *size = args->items[2],
			*stride = args->items[3];
	if (st->kind != PT_STORAGE)
		return bad(m, pos, "_rebuild_tensor_v2: first argument is not a storage");
	if (off->kind != PT_INT || off->i < 0)
		return bad(m, pos, "_rebuild_tensor_v2: storage offset is not a non-negative int");
	if (size->kind != PT_TUPLE || stride->kind != PT_TUPLE || size->n != stride->n)
		return bad(m, pos, "_rebuild_tensor_v2: size and stride are not tuples of one length");
	if (size->n > H5_MAX_RANK)
		return bad(m, pos, "_rebuild_tensor_v2: rank above 8");
	struct pt_tensor *t = calloc(1, sizeof(*t));
	struct pt_value *v = t ? new_value(m, PT_TENSOR) : NULL;
	if (!v) {
		free(t);
		return t ? m->err->code : hus_errf(m->err, HUS_ENOMEM, m->file, "data.pkl", "out of memory");
	}
	v->tensor = &t->t;
	t->storage = st;
	t->offset = (uint64_t)off->i;
	t->t.rank = (int)size->n;
	snprintf(t->t.dtype, sizeof(t->t.dtype), "%s", pt_globals[st->i].dtype);
	uint64_t numel = 1, last = t->offset;
	for (size_t i = 0; i < size->n; i++) {
		struct pt_value *d = size->items[i], *s = stride->items[i];
		if (d->kind != PT_INT || s->kind != PT_INT || d->i < 0 || s->i < 0)
			return bad(m, pos, "_rebuild_tensor_v2: size/stride entries must be non-negative ints");
		t->t.dims[i] = (size_t)d->i;
		t->stride[i] = (uint64_t)s->i;
		if (d->i && numel > UINT64_MAX / (uint64_t)d->i)
			return bad(m, pos, "_rebuild_tensor_v2: shape product overflows");
		numel *= (uint64_t)d->i;
	}
	if (numel) {
		for (size_t i = 0; i < size->n; i++) {
			uint64_t span = (uint64_t)(t->t.dims[i] - 1);
			if (t->stride[i] && span > (UINT64_MAX - last) / t->stride[i])
				return bad(m, pos, "_rebuild_tensor_v2: view extent overflows");
			last += span * t->stride[i];
		}
		if (last >= (uint64_t)st->n) {
			char msg[160];
			snprintf(msg, sizeof(msg), "tensor view reaches element %llu of storage '%s' "
			         "holding %zu elements", (unsigned long long)last, st->s, st->n);
			return bad(m, pos, msg);
		}
	}
	/* a view is no larger than its storage, and no element is read twice through a zero
	 * stride: a 636-byte archive declaring a 40 000 x 40 000 view of one element with zero
	 * strides made husai allocate 6.4 GB (RELIABILITY.md, "Untrusted archives") */
	for (size_t i = 0; i < size->n; i++)
		if (t->stride[i] == 0 && t->t.dims[i] > 1) {
			char msg[200];
			snprintf(msg, sizeof(msg), "tensor view has stride 0 in dimension %zu of size %zu "
			         "(an expanded tensor); expected every element stored (save it after "
			         ".contiguous())", i, t->t.dims[i]);
			return bad(m, pos, msg);
		}
	if (numel > (uint64_t)st->n) {
		char msg[200];
		snprintf(msg, sizeof(msg), "tensor view of %llu elements over storage '%s' holding %zu; "
		         "expected at most as many as the storage holds",
		         (unsigned long long)numel, st->s, st->n);
		return bad(m, pos, msg);
	}
	if (numel > SIZE_MAX / sizeof(float))
		return bad(m, pos, "tensor too large");
	t->t.numel = (size_t)numel;
	*out = v;
	return 0;
}

static int read_line(struct vm *m, const unsigned char *p, size_t n, size_t *i, char *out,
                     size_t cap)
{
	size_t k = 0;
	while (*i < n && p[*i] != '\n') {
		if (k + 1 >= cap || p[*i] == 0)
			return bad(m, *i, "GLOBAL name too long or malformed");
		out[k++] = (char)p[(*i)++];
	}
	if (*i >= n)
		return bad(m, *i, "truncated GLOBAL");
	(*i)++;
	out[k] = 0;
	return 0;
}

static int need(struct vm *m, size_t i, size_t k, size_t n)
{
	return i + k > n || i + k < i ? bad(m, i, "truncated pickle") : 0;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int memo_put(struct vm *m, size_t pos, uint64_t idx)
{
	if (!m->sp)
		return bad(m, pos, "memo put on an empty stack");
	if (idx >= PT_MAX_MEMO)
		return bad(m, pos, "memo index out of range");
	if (idx >= m->capmemo) {
		size_t nc = m->capmemo ? m->capmemo : 256;
		while (nc <= idx)
			nc *= 2;
		struct pt_value **p = realloc(m->memo, nc * sizeof(*p));
		if (!p)
			return hus_errf(m->err, HUS_ENOMEM, m->file, "data.pkl", "out of memory");
		memset(p + m->capmemo, 0, (nc - m->capmemo) * sizeof(*p));
		m->memo = p;
		m->capmemo = nc;
	}
	m->memo[idx] = m->stack[m->sp - 1];
	return 0;
}

static int run_pickle(struct vm *m, const unsigned char *p, size_t n, struct pt_value **result)
{
	size_t i = 0;
	int rc = 0;
	while (!rc) {
		if (i >= n)
			return bad(m, i, "pickle ends without STOP");
		size_t pos = i;
		unsigned char op = p[i++];
		struct pt_value *v = NULL;
		switch (op) {
		case 0x80: /* PROTO */
			if ((rc = need(m, i, 1, n)))
				break;
			if (p[i] > 2) {
				char msg[96];
				snprintf(msg, sizeof(msg), "pickle protocol %u is not supported (torch.save "
				         "writes protocol 2)", p[i]);
				return bad(m, pos, msg);
			}
			i++;
			break;
		case '.': /* STOP */
			if (m->sp != 1 || m->nmarks)
				return bad(m, pos, "STOP with a stack that does not hold exactly one value");
			*result = m->stack[0];
			return 0;
		case '(': /* MARK */
			if (m->nmarks == m->capmarks) {
				size_t nc = m->capmarks ? m->capmarks * 2 : 32;
				if (nc > PT_MAX_STACK)
					return bad(m, pos, "too many MARKs");
				size_t *q = realloc(m->marks, nc * sizeof(*q));
				if (!q)
					return hus_errf(m->err, HUS_ENOMEM, m->file, "data.pkl", "out of memory");
				m->marks = q;
				m->capmarks = nc;
			}
			m->marks[m->nmarks++] = m->sp;
			break;
		case '}': rc = push(m, new_value(m, PT_DICT)); break;
		case ']': rc = push(m, new_value(m, PT_LIST)); break;
		case ')': rc = push(m, new_value(m, PT_TUPLE)); break;
		case 'N': rc = push(m, new_value(m, PT_NONE)); break;
		case 0x88: case 0x89: /* NEWTRUE, NEWFALSE */
			if ((v = new_value(m, PT_BOOL)))
				v->i = op == 0x88;
			rc = push(m, v);
			break;
		case 'K': case 'M': case 'J': { /* BININT1, BININT2, BININT */
			size_t k = op == 'K' ? 1 : op == 'M' ? 2 : 4;
			if ((rc = need(m, i, k, n)))
				break;
			if ((v = new_value(m, PT_INT)))
				v->i = op == 'K' ? p[i] : op == 'M' ? (p[i] | p[i + 1] << 8)
				                                    : (int64_t)(int32_t)le32(p + i);
			i += k;
			rc = push(m, v);
			break;
		}
		case 0x8a: { /* LONG1: n bytes, little-endian two's complement */
			if ((rc = need(m, i, 1, n)))
				break;
			size_t k = p[i++];
			if (k > 8)
				return bad(m, pos, "LONG1 integer wider than 64 bits");
			if ((rc = need(m, i, k, n)))
				break;
			uint64_t u = 0;
			for (size_t j = 0; j < k; j++)
				u |= (uint64_t)p[i + j] << (8 * j);
			if (k && k < 8 && (p[i + k - 1] & 0x80))
				u |= ~(uint64_t)0 << (8 * k);
			i += k;
			if ((v = new_value(m, PT_INT)))
				memcpy(&v->i, &u, 8);
			rc = push(m, v);
			break;
		}
		case 'G': { /* BINFLOAT: big-endian double */
			if ((rc = need(m, i, 8, n)))
				break;
			uint64_t u = 0;
			for (int j = 0; j < 8; j++)
				u = (u << 8) | p[i + j];
			i += 8;
			if ((v = new_value(m, PT_FLOAT)))
				memcpy(&v->f, &u, 8);
			rc = push(m, v);
			break;
		}
		case 'X': { /* BINUNICODE */
			if ((rc = need(m, i, 4, n)))
				break;
			size_t k = le32(p + i);
			i += 4;
			if ((rc = need(m, i, k, n)))
				break;
			if (memchr(p + i, 0, k))
				return bad(m, pos, "string with a NUL byte");
			if (!(v = new_value(m, PT_STR)) || !(v->s = malloc(k + 1))) {
				rc = v ? hus_errf(m->err, HUS_ENOMEM, m->file, "data.pkl", "out of memory")
				       : m->err->code;
				break;
			}
			memcpy(v->s, p + i, k);
			v->s[k] = 0;
			v->len = k;
			i += k;
			rc = push(m, v);
			break;
		}
		case 'q': case 'r': /* BINPUT, LONG_BINPUT */
			if ((rc = need(m, i, op == 'q' ? 1 : 4, n)))
				break;
			rc = memo_put(m, pos, op == 'q' ? p[i] : le32(p + i));
			i += op == 'q' ? 1 : 4;
			break;
		case 'h': case 'j': { /* BINGET, LONG_BINGET */
			if ((rc = need(m, i, op == 'h' ? 1 : 4, n)))
				break;
			uint64_t idx = op == 'h' ? p[i] : le32(p + i);
			i += op == 'h' ? 1 : 4;
			if (idx >= m->capmemo || !m->memo[idx])
				return bad(m, pos, "memo get of an unset index");
			rc = push(m, m->memo[idx]);
			break;
		}
		case 'c': { /* GLOBAL */
			char mod[128], name[128];
			if ((rc = read_line(m, p, n, &i, mod, sizeof(mod))) ||
			    (rc = read_line(m, p, n, &i, name, sizeof(name))))
				break;
			size_t g;
			for (g = 0; g < PT_NGLOBALS; g++)
				if (!strcmp(mod, pt_globals[g].module) && !strcmp(name, pt_globals[g].name))
					break;
			if (g == PT_NGLOBALS) {
				char msg[480];
				snprintf(msg, sizeof(msg), "refusing pickle global '%s.%s' (only "
				         "collections.OrderedDict, torch._utils._rebuild_tensor_v2 and "
				         "torch float/half/bfloat16/bool/int/long storages are accepted)", mod, name);
				return bad(m, pos, msg);
			}
			if ((v = new_value(m, PT_GLOBAL)))
				v->i = (int64_t)g;
			rc = push(m, v);
			break;
		}
		case 't': case 0x85: case 0x86: case 0x87: { /* TUPLE, TUPLE1..3 */
			size_t first, k;
			if (op == 't') {
				if ((rc = pop_mark(m, pos, &first, &k)))
					break;
			} else {
				k = (size_t)(op - 0x84);
				if (m->sp < k || (m->nmarks && m->marks[m->nmarks - 1] > m->sp - k))
					return bad(m, pos, "TUPLEn with too few values on the stack");
				first = m->sp - k;
			}
			if (!(v = new_value(m, PT_TUPLE)) || (rc = add_items(m, v, m->stack + first, k))) {
				rc = rc ? rc : m->err->code;
				break;
			}
			m->sp = first;
			rc = push(m, v);
			break;
		}
		case 'a': case 's': { /* APPEND, SETITEM */
			size_t k = op == 'a' ? 1 : 2;
			if (m->sp < k + 1 || (m->nmarks && m->marks[m->nmarks - 1] > m->sp - k - 1))
				return bad(m, pos, "APPEND/SETITEM with too few values on the stack");
			struct pt_value *c = m->stack[m->sp - k - 1];
			if (c->kind != (op == 'a' ? PT_LIST : PT_DICT))
				return bad(m, pos, op == 'a' ? "APPEND to a non-list" : "SETITEM on a non-dict");
			if ((rc = add_items(m, c, m->stack + m->sp - k, k)))
				break;
			m->sp -= k;
			break;
		}
		case 'e': case 'u': { /* APPENDS, SETITEMS */
			size_t first, k;
			if ((rc = pop_mark(m, pos, &first, &k)))
				break;
			if (first == 0)
				return bad(m, pos, "APPENDS/SETITEMS without a container below the MARK");
			struct pt_value *c = m->stack[first - 1];
			if (c->kind != (op == 'e' ? PT_LIST : PT_DICT))
				return bad(m, pos, op == 'e' ? "APPENDS to a non-list" : "SETITEMS on a non-dict");
			if (op == 'u' && k % 2)
				return bad(m, pos, "SETITEMS with an odd number of values");
			if ((rc = add_items(m, c, m->stack + first, k)))
				break;
			m->sp = first;
			break;
		}
		case 'Q': { /* BINPERSID: ('storage', StorageType, key, location, numel) */
			if (!m->sp || (m->nmarks && m->marks[m->nmarks - 1] >= m->sp))
				return bad(m, pos, "BINPERSID on an empty stack");
			struct pt_value *pid = m->stack[--m->sp];
			if (pid->kind != PT_TUPLE || pid->n != 5 || pid->items[0]->kind != PT_STR ||
			    strcmp(pid->items[0]->s, "storage") || pid->items[1]->kind != PT_GLOBAL ||
			    pid->items[1]->i < G_FLOAT || pid->items[2]->kind != PT_STR ||
			    pid->items[3]->kind != PT_STR || pid->items[4]->kind != PT_INT ||
			    pid->items[4]->i < 0)
				return bad(m, pos, "persistent id is not ('storage', <float/half/bfloat16/bool/int/long "
				           "storage>, key, location, numel)");
			const char *key = pid->items[2]->s;
			if (!*key || strspn(key, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(key))
				return bad(m, pos, "storage key is not a plain name");
			if (!(v = new_value(m, PT_STORAGE)) || !(v->s = strdup(key))) {
				rc = v ? hus_errf(m->err, HUS_ENOMEM, m->file, "data.pkl", "out of memory")
				       : m->err->code;
				break;
			}
			v->i = pid->items[1]->i;
			v->n = (size_t)pid->items[4]->i;
			rc = push(m, v);
			break;
		}
		case 'R': { /* REDUCE */
			if (m->sp < 2 || (m->nmarks && m->marks[m->nmarks - 1] > m->sp - 2))
				return bad(m, pos, "REDUCE with too few values on the stack");
			struct pt_value *args = m->stack[m->sp - 1], *fn = m->stack[m->sp - 2];
			if (fn->kind != PT_GLOBAL || fn->i > G_REBUILD)
				return bad(m, pos, "REDUCE of something that is not OrderedDict or "
				           "_rebuild_tensor_v2");
			if (fn->i == G_ODICT) {
				if (args->kind != PT_TUPLE || args->n)
					return bad(m, pos, "OrderedDict called with arguments");
				if (!(v = new_value(m, PT_DICT)))
					return m->err->code;
			} else if ((rc = make_tensor(m, pos, args, &v))) {
				break;
			}
			m->sp -= 2;
			rc = push(m, v);
			break;
		}
		case 'b': /* BUILD: only a dict's attributes (state_dict._metadata), dropped */
			if (m->sp < 2 || m->stack[m->sp - 2]->kind != PT_DICT ||
			    (m->nmarks && m->marks[m->nmarks - 1] > m->sp - 2))
				return bad(m, pos, "BUILD on something other than a dict");
			m->sp--;
			break;
		default: {
			char msg[96];
			snprintf(msg, sizeof(msg), "unsupported pickle opcode 0x%02x ('%c')", op,
			         op >= 32 && op < 127 ? op : '?');
			return bad(m, pos, msg);
		}
		}
	}
	return rc;
}

int pt_run_pickle(struct pt_doc *doc, const unsigned char *pkl, size_t n, const char *file,
                  struct pt_value **root, struct hus_err *err)
{
	struct hus_err scratch = { 0 };
	struct vm m = { 0 };
	m.doc = doc;
	m.file = file;
	m.err = err ? err : &scratch;
	m.err->code = 0;
	int rc = run_pickle(&m, pkl, n, root);
	free(m.stack);
	free(m.marks);
	free(m.memo);
	return rc;
}

int pt_read_pickle(struct pt_doc **out, const void *pkl, size_t n, const char *name,
                   struct hus_err *err)
{
	if (n > PT_MAX_PICKLE)
		return hus_errf(err, HUS_EINPUT, name, "data.pkl", "pickle of %zu bytes above the %u cap",
		                n, PT_MAX_PICKLE);
	struct pt_doc *doc = calloc(1, sizeof(*doc));
	if (!doc)
		return hus_errf(err, HUS_ENOMEM, name, NULL, "out of memory");
	struct pt_value *root = NULL;
	int rc = pt_run_pickle(doc, pkl, n, name, &root, err);
	if (rc) {
		pt_free(doc);
		return rc;
	}
	doc->root = root;
	*out = doc;
	return 0;
}

/* ---------------------------------------------------------------- helpers ----------- */

int pt_state_dict(struct imp_tensors *out, const struct pt_value *dict, const char *file,
                  const char *where, struct hus_err *err)
{
	if (!dict || dict->kind != PT_DICT)
		return hus_errf(err, HUS_EINPUT, file, where, "expected a dict of tensors");
	struct imp_tensors ts = { 0 };
	ts.t = calloc(dict->n ? dict->n : 1, sizeof(*ts.t));
	if (!ts.t)
		return hus_errf(err, HUS_ENOMEM, file, where, "out of memory");
	for (size_t i = 0; i < dict->n; i++) {
		const struct pt_value *k = dict->items[2 * i], *v = dict->items[2 * i + 1];
		if (k->kind != PT_STR || v->kind != PT_TENSOR || strlen(k->s) >= sizeof(ts.t->name)) {
			int rc = hus_errf(err, HUS_EINPUT, file, where,
			                  "entry %zu ('%.64s') is not a tensor under a string key", i,
			                  k->kind == PT_STR ? k->s : "?");
			imp_tensors_release(&ts);
			return rc;
		}
		struct imp_tensor *t = &ts.t[ts.n];
		*t = *v->tensor;
		snprintf(t->name, sizeof(t->name), "%s", k->s);
		t->data = NULL;
		t->ints = NULL;
		ts.n++;
		if (v->tensor->ints) {
			t->ints = malloc(t->numel ? t->numel * sizeof(int64_t) : 1);
			if (!t->ints) {
				imp_tensors_release(&ts);
				return hus_errf(err, HUS_ENOMEM, file, where, "out of memory");
			}
			memcpy(t->ints, v->tensor->ints, t->numel * sizeof(int64_t));
		}
		if (v->tensor->data) {
			t->data = malloc(t->numel ? t->numel * sizeof(float) : 1);
			if (!t->data) {
				imp_tensors_release(&ts);
				return hus_errf(err, HUS_ENOMEM, file, where, "out of memory");
			}
			memcpy(t->data, v->tensor->data, t->numel * sizeof(float));
		}
	}
	*out = ts;
	return 0;
}

/* depth- and size-limited: the memo can share one value many times (a DAG) */
static hj *to_json(const struct pt_value *v, int depth, size_t *budget)
{
	if (depth > 16 || !*budget)
		return hj_null();
	(*budget)--;
	switch (v->kind) {
	case PT_NONE: return hj_null();
	case PT_BOOL: return hj_bool((int)v->i);
	case PT_INT: return hj_int(v->i);
	case PT_FLOAT: return hj_num(v->f);
	case PT_STR: return hj_str(v->s);
	case PT_LIST:
	case PT_TUPLE: {
		hj *a = hj_arr();
		for (size_t i = 0; a && i < v->n; i++)
			hj_push(a, to_json(v->items[i], depth + 1, budget));
		return a;
	}
	case PT_DICT: {
		hj *o = hj_obj();
		for (size_t i = 0; o && i < v->n; i++) {
			const struct pt_value *k = v->items[2 * i];
			char kb[32];
			const char *key = k->kind == PT_STR ? k->s : NULL;
			if (k->kind == PT_INT) {
				snprintf(kb, sizeof(kb), "%lld", (long long)k->i);
				key = kb;
			}
			if (key)
				hj_set(o, key, to_json(v->items[2 * i + 1], depth + 1, budget));
		}
		return o;
	}
	case PT_TENSOR: {
		hj *o = hj_obj();
		int64_t d[H5_MAX_RANK];
		for (int i = 0; i < v->tensor->rank; i++)
			d[i] = (int64_t)v->tensor->dims[i];
		hj_set(o, "tensor", hj_i64_array(d, (size_t)v->tensor->rank));
		hj_set(o, "dtype", hj_str(v->tensor->dtype));
		return o;
	}
	default: return hj_null();
	}
}

hj *pt_to_json(const struct pt_value *v)
{
	size_t budget = 100000;
	return v ? to_json(v, 0, &budget) : NULL;
}
