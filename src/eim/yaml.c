/* SPDX-License-Identifier: MIT */
/*
 * yaml.c - EIM spec files (YAML, read with libyaml's document API) into
 * the spec. The schema (docs/eim.md):
 *
 *   types: [NAME, ...]
 *   entries:   - {name, kind: explicit|hook, symbol (hook), prototype}
 *   state:     - {name, type}
 *   functions: - {prototype, constraints: [TEXT, ...]}
 *   classes:   - name, entry,
 *                allow: {functions: [..], state: {read: [..], write: [..]},
 *                        args: {read: [..], write: [..]}, helpers: [..],
 *                        limits: ["instructions < N", "memory < M"]}
 *
 * Top-level sections are taken in that order whatever their order in the
 * file, so a class can name what the same file declares. Unknown keys,
 * wrong node kinds and bad values are errors with FILE:LINE.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "eim/eim_internal.h"

struct ctx {
	struct bpfx_eim_spec *s;
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t err_size;
};

static void where(const struct ctx *c, const yaml_node_t *n, char *buf,
		  size_t size)
{
	snprintf(buf, size, "%s:%lu", c->file,
		 (unsigned long)(n ? n->start_mark.line + 1 : 0));
}

__attribute__((format(printf, 3, 4))) static int bad(const struct ctx *c,
						     const yaml_node_t *n,
						     const char *fmt, ...)
{
	char w[EIM_WHERE_MAX], msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(c, n, w, sizeof(w));
	snprintf(c->err, c->err_size, "%s: %s", w, msg);
	return -EINVAL;
}

static yaml_node_t *node(const struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value :
						   NULL;
}

/* Look up @key in mapping @m; checks every key is one of @allowed. */
static int keys_ok(const struct ctx *c, yaml_node_t *m, const char *const *allowed,
		   const char *what)
{
	yaml_node_pair_t *p;
	size_t k;

	if (!m || m->type != YAML_MAPPING_NODE)
		return bad(c, m, "%s must be a mapping", what);
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *key = scalar(node(c, p->key));
		bool ok = false;

		for (k = 0; key && allowed[k]; k++)
			if (!strcmp(allowed[k], key))
				ok = true;
		if (!ok)
			return bad(c, node(c, p->key), "unknown key '%s' in %s",
				   key ? key : "?", what);
	}
	return 0;
}

static yaml_node_t *get(const struct ctx *c, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(c, p->key));

		if (k && !strcmp(k, key))
			return node(c, p->value);
	}
	return NULL;
}

static const char *get_str(const struct ctx *c, yaml_node_t *m,
			   const char *key)
{
	return scalar(get(c, m, key));
}

/* Iterate a sequence (a scalar alone counts as a one-item list). */
typedef int (*item_fn)(const struct ctx *c, yaml_node_t *item, void *arg);

static int each(const struct ctx *c, yaml_node_t *seq, const char *what,
		item_fn fn, void *arg)
{
	yaml_node_item_t *it;
	int err;

	if (!seq)
		return 0;
	if (seq->type == YAML_SCALAR_NODE && !*scalar(seq))
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return bad(c, seq, "%s must be a list", what);
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
	     it++) {
		err = fn(c, node(c, *it), arg);
		if (err)
			return err;
	}
	return 0;
}

static int do_type(const struct ctx *c, yaml_node_t *n, void *arg)
{
	char w[EIM_WHERE_MAX];

	(void)arg;
	if (!scalar(n))
		return bad(c, n, "a type is a name");
	where(c, n, w, sizeof(w));
	return eim_spec_add_type(c->s, scalar(n), w, c->err, c->err_size);
}

static int do_entry(const struct ctx *c, yaml_node_t *n, void *arg)
{
	static const char *const keys[] = { "name", "kind", "symbol", "prototype",
					    "description", NULL };
	const char *kind;
	char w[EIM_WHERE_MAX];
	uint32_t k;
	int err;

	(void)arg;
	err = keys_ok(c, n, keys, "an entry");
	if (err)
		return err;
	kind = get_str(c, n, "kind");
	k = !kind || !strcmp(kind, "explicit") ? BPFX_EIM_ENTRY_EXPLICIT :
	    !strcmp(kind, "hook") ? BPFX_EIM_ENTRY_HOOK : 0;
	where(c, n, w, sizeof(w));
	return eim_spec_add_entry(c->s, get_str(c, n, "name"), k,
				  get_str(c, n, "symbol"),
				  get_str(c, n, "prototype"), w, c->err,
				  c->err_size);
}

static int do_state(const struct ctx *c, yaml_node_t *n, void *arg)
{
	static const char *const keys[] = { "name", "type", "description", NULL };
	char w[EIM_WHERE_MAX];
	int err;

	(void)arg;
	err = keys_ok(c, n, keys, "a state variable");
	if (err)
		return err;
	where(c, n, w, sizeof(w));
	return eim_spec_add_state(c->s, get_str(c, n, "name"),
				  get_str(c, n, "type"), w, c->err, c->err_size);
}

struct strs {
	const char *v[EIM_MAX_CONSTRAINTS + 1];
	uint32_t n;
};

static int collect(const struct ctx *c, yaml_node_t *n, void *arg)
{
	struct strs *s = arg;

	if (!scalar(n))
		return bad(c, n, "expected a string");
	if (s->n == EIM_MAX_CONSTRAINTS + 1)
		return bad(c, n, "too many items (at most %d)", EIM_MAX_CONSTRAINTS);
	s->v[s->n++] = scalar(n);
	return 0;
}

static int do_func(const struct ctx *c, yaml_node_t *n, void *arg)
{
	static const char *const keys[] = { "prototype", "constraints", "name",
					    "description", NULL };
	struct strs cons = { .n = 0 };
	char w[EIM_WHERE_MAX];
	const char *name;
	int err;

	(void)arg;
	err = keys_ok(c, n, keys, "a function");
	if (!err)
		err = each(c, get(c, n, "constraints"), "constraints", collect, &cons);
	if (err)
		return err;
	where(c, n, w, sizeof(w));
	err = eim_spec_add_func(c->s, get_str(c, n, "prototype"), cons.v, cons.n,
				w, c->err, c->err_size);
	name = get_str(c, n, "name");
	if (!err && name && strcmp(name, c->s->funcs[c->s->nfuncs - 1].name))
		return bad(c, n, "name '%s' differs from the prototype's '%s'", name,
			   c->s->funcs[c->s->nfuncs - 1].name);
	return err;
}

struct grant {
	struct eim_class *cls;
	const char *what;
};

static int do_grant(const struct ctx *c, yaml_node_t *n, void *arg)
{
	struct grant *g = arg;
	char w[EIM_WHERE_MAX];

	if (!scalar(n))
		return bad(c, n, "expected a name");
	where(c, n, w, sizeof(w));
	return eim_class_grant(c->s, g->cls, g->what, scalar(n), w, c->err,
			       c->err_size);
}

static int rw_grants(const struct ctx *c, yaml_node_t *m, struct eim_class *cls,
		     const char *read, const char *write, const char *what)
{
	static const char *const keys[] = { "read", "write", NULL };
	struct grant g = { cls, read };
	int err;

	if (!m)
		return 0;
	err = keys_ok(c, m, keys, what);
	if (!err)
		err = each(c, get(c, m, "read"), "read", do_grant, &g);
	g.what = write;
	if (!err)
		err = each(c, get(c, m, "write"), "write", do_grant, &g);
	return err;
}

static int do_class(const struct ctx *c, yaml_node_t *n, void *arg)
{
	static const char *const keys[] = { "name", "entry", "allow",
					    "description", NULL };
	static const char *const akeys[] = { "functions", "state", "args", "helpers",
					     "limits", NULL };
	struct eim_class *cls;
	struct grant g;
	yaml_node_t *allow;
	char w[EIM_WHERE_MAX];
	int err;

	(void)arg;
	err = keys_ok(c, n, keys, "a class");
	if (err)
		return err;
	where(c, n, w, sizeof(w));
	err = eim_class_new(c->s, get_str(c, n, "name"), get_str(c, n, "entry"), w,
			    c->err, c->err_size, &cls);
	if (err)
		return err;
	allow = get(c, n, "allow");
	if (!allow)
		return 0;
	err = keys_ok(c, allow, akeys, "allow");
	g.cls = cls;
	g.what = "function";
	if (!err)
		err = each(c, get(c, allow, "functions"), "functions", do_grant, &g);
	g.what = "helpers";
	if (!err)
		err = each(c, get(c, allow, "helpers"), "helpers", do_grant, &g);
	g.what = "limit";
	if (!err)
		err = each(c, get(c, allow, "limits"), "limits", do_grant, &g);
	if (!err)
		err = rw_grants(c, get(c, allow, "state"), cls, "state-read",
				"state-write", "state");
	if (!err)
		err = rw_grants(c, get(c, allow, "args"), cls, "arg-read", "arg-write",
				"args");
	return err;
}

static int parse_doc(struct ctx *c)
{
	static const char *const keys[] = { "eim", "types", "entries", "state",
					    "functions", "classes", NULL };
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	int err;

	if (!root)
		return 0; /* empty file: nothing declared */
	err = keys_ok(c, root, keys, "the spec");
	if (!err)
		err = each(c, get(c, root, "types"), "types", do_type, NULL);
	if (!err)
		err = each(c, get(c, root, "entries"), "entries", do_entry, NULL);
	if (!err)
		err = each(c, get(c, root, "state"), "state", do_state, NULL);
	if (!err)
		err = each(c, get(c, root, "functions"), "functions", do_func, NULL);
	if (!err)
		err = each(c, get(c, root, "classes"), "classes", do_class, NULL);
	return err;
}

int eim_yaml_parse(struct bpfx_eim_spec *s, const char *text, size_t len,
		   const char *file, char *err, size_t err_size)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = { s, &doc, file, err, err_size };
	int ret;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, err_size, "%s:%lu: %s%s%s", file,
			 (unsigned long)(parser.problem_mark.line + 1),
			 parser.problem ? parser.problem : "does not parse",
			 parser.context ? " " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	ret = parse_doc(&c);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

int bpfx_eim_spec_add_text(struct bpfx_eim_spec *s, const char *text,
			   size_t len, const char *name, char *err,
			   size_t err_size)
{
	if (!s || !text)
		return -EINVAL;
	return eim_yaml_parse(s, text, len, name ? name : "<spec>", err, err_size);
}

int bpfx_eim_spec_add_file(struct bpfx_eim_spec *s, const char *path,
			   char *err, size_t err_size)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	int ret;

	if (!s || !path)
		return -EINVAL;
	f = fopen(path, "rb");
	if (!f) {
		ret = -errno;
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return ret;
	}
	do {
		if (len == cap) {
			char *nb = realloc(buf, cap ? cap * 2 : 4096);

			if (!nb) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	ret = eim_yaml_parse(s, buf ? buf : "", len, path, err, err_size);
	free(buf);
	return ret;
}
