/* SPDX-License-Identifier: MIT */
/*
 * proto.c - the small languages inside an EIM spec: C-like types and
 * prototypes ("long uri(ctx c, char *buf, u32 size)"), constraints
 * ("ret <= size", "arg1 < arg2", "nonnull(p)", "readable(buf, 16)",
 * "writable(buf, size)") and class limits ("instructions < 4096",
 * "memory < 64K").
 *
 * Types: void, bool, char, short, int, long (signed/unsigned spellings),
 * u8..u64, s8..s64, __u8..__s64, int8_t..uint64_t, size_t, ssize_t,
 * `ctx` (the extension's context: a host function taking it receives the
 * entry call, which cannot be forged), and the opaque names declared under
 * `types:`. One level of pointer; a pointer to an opaque type is only a
 * value to the extension (it cannot dereference it). Anything else is an
 * unknown type and the spec is rejected.
 *
 * Pure parsing: no allocation, messages into the caller's buffer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eim/eim_internal.h"

struct base_type {
	const char *name;
	uint8_t kind, size, is_signed;
};

static const struct base_type base_types[] = {
	{ "void", EIM_T_VOID, 0, 0 },
	{ "bool", EIM_T_INT, 1, 0 },	{ "_Bool", EIM_T_INT, 1, 0 },
	{ "char", EIM_T_INT, 1, 1 },	{ "signed char", EIM_T_INT, 1, 1 },
	{ "unsigned char", EIM_T_INT, 1, 0 },
	{ "short", EIM_T_INT, 2, 1 },	{ "unsigned short", EIM_T_INT, 2, 0 },
	{ "int", EIM_T_INT, 4, 1 },	{ "unsigned", EIM_T_INT, 4, 0 },
	{ "unsigned int", EIM_T_INT, 4, 0 },
	{ "long", EIM_T_INT, 8, 1 },	{ "unsigned long", EIM_T_INT, 8, 0 },
	{ "long long", EIM_T_INT, 8, 1 },
	{ "unsigned long long", EIM_T_INT, 8, 0 },
	{ "u8", EIM_T_INT, 1, 0 },	{ "u16", EIM_T_INT, 2, 0 },
	{ "u32", EIM_T_INT, 4, 0 },	{ "u64", EIM_T_INT, 8, 0 },
	{ "s8", EIM_T_INT, 1, 1 },	{ "s16", EIM_T_INT, 2, 1 },
	{ "s32", EIM_T_INT, 4, 1 },	{ "s64", EIM_T_INT, 8, 1 },
	{ "__u8", EIM_T_INT, 1, 0 },	{ "__u16", EIM_T_INT, 2, 0 },
	{ "__u32", EIM_T_INT, 4, 0 },	{ "__u64", EIM_T_INT, 8, 0 },
	{ "__s8", EIM_T_INT, 1, 1 },	{ "__s16", EIM_T_INT, 2, 1 },
	{ "__s32", EIM_T_INT, 4, 1 },	{ "__s64", EIM_T_INT, 8, 1 },
	{ "int8_t", EIM_T_INT, 1, 1 },	{ "int16_t", EIM_T_INT, 2, 1 },
	{ "int32_t", EIM_T_INT, 4, 1 }, { "int64_t", EIM_T_INT, 8, 1 },
	{ "uint8_t", EIM_T_INT, 1, 0 }, { "uint16_t", EIM_T_INT, 2, 0 },
	{ "uint32_t", EIM_T_INT, 4, 0 }, { "uint64_t", EIM_T_INT, 8, 0 },
	{ "size_t", EIM_T_INT, 8, 0 },	{ "ssize_t", EIM_T_INT, 8, 1 },
	{ "ctx", EIM_T_CTX, 8, 0 },
};

static void trim(char *s)
{
	size_t n = strlen(s), k = 0;

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	while (isspace((unsigned char)s[k]))
		k++;
	memmove(s, s + k, n - k + 1);
}

/* Collapse runs of spaces into one (leading ones dropped). */
static void squeeze(char *s)
{
	char *d = s, *start = s;
	bool sp = false;

	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			sp = true;
			continue;
		}
		if (sp && d > start)
			*d++ = ' ';
		sp = false;
		*d++ = *s;
	}
	*d = '\0';
}

static bool is_ident(const char *s)
{
	if (!*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static bool opaque_known(const struct bpfx_eim_spec *s, const char *name)
{
	uint32_t k;

	for (k = 0; s && k < s->ntypes; k++)
		if (!strcmp(s->type_names[k], name))
			return true;
	return false;
}

int eim_parse_type(const struct bpfx_eim_spec *s, const char *text,
		   struct eim_type *t, char *why, size_t why_size)
{
	char buf[128], *p;
	int stars = 0;
	size_t k;

	memset(t, 0, sizeof(*t));
	if (strlen(text) >= sizeof(buf)) {
		snprintf(why, why_size, "type '%.40s...' is too long", text);
		return -EINVAL;
	}
	strcpy(buf, text);
	while ((p = strchr(buf, '*'))) {
		stars++;
		*p = ' ';
	}
	/* "const" anywhere qualifies the pointee (or the value) */
	while ((p = strstr(buf, "const")) &&
	       (p == buf || isspace((unsigned char)p[-1])) &&
	       (!p[5] || isspace((unsigned char)p[5]))) {
		memset(p, ' ', 5);
		t->is_const = 1;
	}
	squeeze(buf);
	trim(buf);
	if (!strncmp(buf, "struct ", 7))
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
	if (stars > 1) {
		snprintf(why, why_size, "type '%s': one level of pointer at most",
			 text);
		return -EINVAL;
	}
	for (k = 0; k < sizeof(base_types) / sizeof(base_types[0]); k++) {
		if (strcmp(buf, base_types[k].name))
			continue;
		if (base_types[k].kind == EIM_T_CTX && stars) {
			snprintf(why, why_size, "type '%s': ctx is already a pointer",
				 text);
			return -EINVAL;
		}
		t->kind = base_types[k].kind;
		t->size = base_types[k].size;
		t->is_signed = base_types[k].is_signed;
		break;
	}
	if (k == sizeof(base_types) / sizeof(base_types[0])) {
		if (!is_ident(buf) || !opaque_known(s, buf)) {
			snprintf(why, why_size,
				 "unknown type '%s' (declare opaque host types under 'types:')",
				 buf);
			return -EINVAL;
		}
		if (!stars) {
			snprintf(why, why_size,
				 "type '%s' is opaque: only pointers to it can cross the interface",
				 buf);
			return -EINVAL;
		}
		t->kind = EIM_T_VOID; /* becomes PTR below */
	}
	snprintf(t->base, sizeof(t->base), "%s", buf);
	if (stars) {
		t->kind = EIM_T_PTR;
		t->size = 8;
		t->is_signed = 0;
	}
	return 0;
}

void eim_type_str(const struct eim_type *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", t->is_const ? "const " : "", t->base,
		 t->kind == EIM_T_PTR ? " *" : "");
}

void eim_proto_str(const struct eim_proto *p, char *buf, size_t size)
{
	size_t n;
	uint32_t k;
	char t[EIM_NAME_MAX + 16];

	eim_type_str(&p->ret, t, sizeof(t));
	n = (size_t)snprintf(buf, size, "%s %s(", t, p->name);
	for (k = 0; k < p->nparams && n < size; k++) {
		eim_type_str(&p->params[k].t, t, sizeof(t));
		n += (size_t)snprintf(buf + n, size - n, "%s%s%s%s",
				      k ? ", " : "", t,
				      p->params[k].t.kind == EIM_T_PTR ? "" : " ",
				      p->params[k].name);
	}
	if (!p->nparams && n < size)
		n += (size_t)snprintf(buf + n, size - n, "void");
	if (n < size)
		snprintf(buf + n, size - n, ")");
}

static int parse_param(const struct bpfx_eim_spec *s, char *text, uint32_t idx,
		       struct eim_param *pa, char *why, size_t why_size)
{
	char *name;
	size_t n;

	trim(text);
	n = strlen(text);
	name = text + n;
	while (name > text && (isalnum((unsigned char)name[-1]) || name[-1] == '_'))
		name--;
	/* the whole text a type: an unnamed parameter ("u32", "unsigned int") */
	{
		char w[8];

		if (eim_parse_type(s, text, &pa->t, w, sizeof(w)) == 0) {
			snprintf(pa->name, sizeof(pa->name), "arg%u", idx + 1);
			return 0;
		}
	}
	if (name > text && is_ident(name)) { /* "TYPE NAME" */
		char type[128];

		snprintf(type, sizeof(type), "%.*s", (int)(name - text), text);
		snprintf(pa->name, sizeof(pa->name), "%s", name);
		return eim_parse_type(s, type, &pa->t, why, why_size);
	}
	return eim_parse_type(s, text, &pa->t, why, why_size);
}

int eim_parse_proto(const struct bpfx_eim_spec *s, const char *text,
		    struct eim_proto *p, char *why, size_t why_size)
{
	char buf[512], *open, *close, *name, *q, *params;
	uint32_t k, j;
	int err;

	memset(p, 0, sizeof(*p));
	if (strlen(text) >= sizeof(buf)) {
		snprintf(why, why_size, "prototype is too long");
		return -EINVAL;
	}
	strcpy(buf, text);
	open = strchr(buf, '(');
	close = strrchr(buf, ')');
	if (!open || !close || close < open) {
		snprintf(why, why_size,
			 "prototype '%s' is not 'RET NAME(TYPE NAME, ...)'", text);
		return -EINVAL;
	}
	for (q = close + 1; *q; q++)
		if (!isspace((unsigned char)*q) && *q != ';') {
			snprintf(why, why_size, "prototype '%s': text after ')'", text);
			return -EINVAL;
		}
	*open = '\0';
	*close = '\0';
	params = open + 1;
	trim(buf);
	name = buf + strlen(buf);
	while (name > buf && (isalnum((unsigned char)name[-1]) || name[-1] == '_'))
		name--;
	if (!is_ident(name) || name == buf) {
		snprintf(why, why_size, "prototype '%s': no return type or name", text);
		return -EINVAL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	*name = '\0';
	err = eim_parse_type(s, buf, &p->ret, why, why_size);
	if (err)
		return err;
	if (p->ret.kind == EIM_T_CTX) {
		snprintf(why, why_size, "%s: ctx cannot be returned", p->name);
		return -EINVAL;
	}
	trim(params);
	if (!*params || !strcmp(params, "void"))
		return 0;
	for (k = 0;; k++) {
		char *comma = strchr(params, ',');

		if (comma)
			*comma = '\0';
		if (k == EIM_MAX_PARAMS) {
			snprintf(why, why_size, "%s: more than %d parameters",
				 p->name, EIM_MAX_PARAMS);
			return -EINVAL;
		}
		err = parse_param(s, params, k, &p->params[k], why, why_size);
		if (err)
			return err;
		if (p->params[k].t.kind == EIM_T_VOID) {
			snprintf(why, why_size, "%s: parameter %u has type void",
				 p->name, k + 1);
			return -EINVAL;
		}
		for (j = 0; j < k; j++)
			if (!strcmp(p->params[j].name, p->params[k].name)) {
				snprintf(why, why_size, "%s: two parameters named '%s'",
					 p->name, p->params[k].name);
				return -EINVAL;
			}
		p->nparams = k + 1;
		if (!comma)
			break;
		params = comma + 1;
	}
	return 0;
}

int eim_param_index(const struct eim_proto *p, const char *name)
{
	uint32_t k;
	char *end;
	unsigned long n;

	for (k = 0; k < p->nparams; k++)
		if (!strcmp(p->params[k].name, name))
			return (int)k;
	if (!strncmp(name, "arg", 3) && isdigit((unsigned char)name[3])) {
		n = strtoul(name + 3, &end, 10);
		if (!*end && n >= 1 && n <= p->nparams)
			return (int)n - 1;
	}
	return -1;
}

const char *eim_op_str(uint8_t op)
{
	static const char *const s[] = { "<", "<=", ">", ">=", "==", "!=" };

	return op < 6 ? s[op] : "?";
}

static int parse_int(const char *s, int64_t *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_opnd(const struct eim_proto *p, const char *s,
		      struct eim_opnd *o, char *why, size_t why_size)
{
	int idx;

	if (!parse_int(s, &o->value)) {
		o->arg = EIM_OPND_CONST;
		return 0;
	}
	if (!strcmp(s, "ret")) {
		if (p->ret.kind != EIM_T_INT) {
			snprintf(why, why_size,
				 "'ret': %s does not return an integer", p->name);
			return -EINVAL;
		}
		o->arg = EIM_OPND_RET;
		return 0;
	}
	idx = eim_param_index(p, s);
	if (idx < 0) {
		snprintf(why, why_size, "unknown symbol '%s' (%s has no such parameter)",
			 s, p->name);
		return -EINVAL;
	}
	o->arg = idx;
	return 0;
}

static const char *const op_tokens[] = { "<=", ">=", "==", "!=", "<", ">" };
static const uint8_t op_codes[] = { EIM_LE, EIM_GE, EIM_EQ, EIM_NE, EIM_LT, EIM_GT };

int eim_parse_constraint(const struct eim_proto *p, const char *text,
			 struct eim_constraint *c, char *why, size_t why_size)
{
	char buf[96], *q, *lp, *rp;
	size_t k;
	int err;

	memset(c, 0, sizeof(*c));
	if (strlen(text) >= sizeof(buf)) {
		snprintf(why, why_size, "constraint '%.40s...' is too long", text);
		return -EINVAL;
	}
	strcpy(buf, text);
	trim(buf);
	snprintf(c->text, sizeof(c->text), "%s", buf);
	lp = strchr(buf, '(');
	if (lp) { /* nonnull(x), readable(x, n), writable(x, n) */
		char *arg1, *arg2 = NULL;
		int idx;

		rp = strrchr(buf, ')');
		if (!rp || rp[1]) {
			snprintf(why, why_size, "constraint '%s': missing ')'", text);
			return -EINVAL;
		}
		*lp = '\0';
		*rp = '\0';
		trim(buf);
		arg1 = lp + 1;
		if ((q = strchr(arg1, ','))) {
			*q = '\0';
			arg2 = q + 1;
			trim(arg2);
		}
		trim(arg1);
		if (!strcmp(buf, "nonnull") && !arg2)
			c->kind = EIM_C_NONNULL;
		else if (!strcmp(buf, "readable") && arg2)
			c->kind = EIM_C_READABLE;
		else if (!strcmp(buf, "writable") && arg2)
			c->kind = EIM_C_WRITABLE;
		else {
			snprintf(why, why_size,
				 "constraint '%s': expected nonnull(P), readable(P, N) or writable(P, N)",
				 text);
			return -EINVAL;
		}
		idx = eim_param_index(p, arg1);
		if (idx < 0) {
			snprintf(why, why_size, "unknown symbol '%s' (%s has no such parameter)",
				 arg1, p->name);
			return -EINVAL;
		}
		if (p->params[idx].t.kind != EIM_T_PTR) {
			snprintf(why, why_size, "constraint '%s': '%s' is not a pointer",
				 text, arg1);
			return -EINVAL;
		}
		c->lhs.arg = idx;
		if (!arg2)
			return 0;
		err = parse_opnd(p, arg2, &c->rhs, why, why_size);
		if (err)
			return err;
		if (c->rhs.arg == EIM_OPND_RET ||
		    (c->rhs.arg >= 0 && p->params[c->rhs.arg].t.kind != EIM_T_INT) ||
		    (c->rhs.arg == EIM_OPND_CONST && (c->rhs.value <= 0 ||
						      c->rhs.value > (1 << 29)))) {
			snprintf(why, why_size,
				 "constraint '%s': the size must be an integer parameter or a constant in 1..2^29",
				 text);
			return -EINVAL;
		}
		if (c->kind == EIM_C_WRITABLE && p->params[idx].t.is_const) {
			snprintf(why, why_size, "constraint '%s': '%s' points to const",
				 text, arg1);
			return -EINVAL;
		}
		return 0;
	}
	for (k = 0; k < sizeof(op_tokens) / sizeof(op_tokens[0]); k++) {
		char *at = strstr(buf, op_tokens[k]);

		if (!at)
			continue;
		*at = '\0';
		q = at + strlen(op_tokens[k]);
		trim(buf);
		trim(q);
		c->kind = EIM_C_CMP;
		c->op = op_codes[k];
		err = parse_opnd(p, buf, &c->lhs, why, why_size);
		if (!err)
			err = parse_opnd(p, q, &c->rhs, why, why_size);
		if (err)
			return err;
		if (c->lhs.arg == EIM_OPND_CONST && c->rhs.arg == EIM_OPND_CONST) {
			snprintf(why, why_size, "constraint '%s' names no argument", text);
			return -EINVAL;
		}
		if ((c->lhs.arg >= 0 && p->params[c->lhs.arg].t.kind == EIM_T_CTX) ||
		    (c->rhs.arg >= 0 && p->params[c->rhs.arg].t.kind == EIM_T_CTX)) {
			snprintf(why, why_size, "constraint '%s': ctx is not a number", text);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(why, why_size,
		 "constraint '%s' does not parse: expected A OP B (OP one of < <= > >= == !=), nonnull(P), readable(P, N) or writable(P, N)",
		 text);
	return -EINVAL;
}

int eim_parse_limit(const char *text, bool *is_memory, uint64_t *limit,
		    char *why, size_t why_size)
{
	char buf[96], *q, *end;
	unsigned long long v;
	bool le;

	snprintf(buf, sizeof(buf), "%s", text);
	trim(buf);
	if (!strncmp(buf, "instructions", 12)) {
		*is_memory = false;
		q = buf + 12;
	} else if (!strncmp(buf, "memory", 6)) {
		*is_memory = true;
		q = buf + 6;
	} else {
		snprintf(why, why_size,
			 "limit '%s': expected 'instructions < N' or 'memory < M'", text);
		return -EINVAL;
	}
	while (isspace((unsigned char)*q))
		q++;
	le = !strncmp(q, "<=", 2);
	if (!le && *q != '<') {
		snprintf(why, why_size, "limit '%s': expected '<' or '<='", text);
		return -EINVAL;
	}
	q += le ? 2 : 1;
	errno = 0;
	v = strtoull(q, &end, 0);
	if (errno || end == q) {
		snprintf(why, why_size, "limit '%s': expected a number", text);
		return -EINVAL;
	}
	switch (*end) {
	case 'K': case 'k': v <<= 10; end++; break;
	case 'M': case 'm': v <<= 20; end++; break;
	case 'G': case 'g': v <<= 30; end++; break;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (*end || !v || v > (1ull << 40)) {
		snprintf(why, why_size, "limit '%s': expected a number (K, M, G suffixes)",
			 text);
		return -EINVAL;
	}
	*limit = le ? v + 1 : v;
	return 0;
}

uint32_t eim_hostfn_id(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return BPFX_EIM_HOSTFN_BASE + h % BPFX_EIM_HOSTFN_SLOTS;
}
