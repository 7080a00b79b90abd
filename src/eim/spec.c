/* SPDX-License-Identifier: MIT */
/*
 * spec.c - the EIM spec as data: building it (from YAML through yaml.c,
 * from the records the BPFX_EIM_* macros leave in a binary's "bpfx_eim"
 * section), validating names, and printing it back (YAML, or a C header
 * for extension authors).
 *
 * Design note. The spec has two sides that may come from different files:
 * the development side (types, entries, state, functions) and the
 * deployment side (classes). Each item remembers where it was declared
 * ("file:line"), and every error names that place. A class may only refer
 * to what is already declared (in the same file above it, or an earlier
 * file / binary), so a spec is validated as it is added and never holds a
 * dangling name. Host function NAME is helper id BASE + fnv1a(NAME) % SLOTS:
 * stable whatever the order of declarations; two names on one id are
 * rejected (rename one).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eim/eim_internal.h"
#include "helpers/helpers.h"

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t size,
						     const char *where,
						     const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err && size)
		snprintf(err, size, "%s: %s", where ? where : "?", msg);
	return -EINVAL;
}

struct bpfx_eim_spec *bpfx_eim_spec_new(void)
{
	return calloc(1, sizeof(struct bpfx_eim_spec));
}

void bpfx_eim_spec_free(struct bpfx_eim_spec *s)
{
	uint32_t k;

	if (!s)
		return;
	for (k = 0; k < s->ntypes; k++)
		free(s->type_names[k]);
	free(s->type_names);
	for (k = 0; k < s->nclasses; k++)
		free(s->classes[k].funcs);
	free(s->entries);
	free(s->states);
	free(s->funcs);
	free(s->classes);
	free(s);
}

static void *grow(void *arr, uint32_t n, size_t elem)
{
	void *p = realloc(arr, (n + 1) * elem);

	if (p)
		memset((char *)p + n * elem, 0, elem);
	return p;
}

static bool name_ok(const char *n)
{
	size_t k;

	if (!n || !*n || strlen(n) >= EIM_NAME_MAX)
		return false;
	for (k = 0; n[k]; k++)
		if (!((n[k] >= 'a' && n[k] <= 'z') || (n[k] >= 'A' && n[k] <= 'Z') ||
		      n[k] == '_' || (k && n[k] >= '0' && n[k] <= '9')))
			return false;
	return true;
}

int eim_spec_find_entry(const struct bpfx_eim_spec *s, const char *name)
{
	uint32_t k;

	for (k = 0; k < s->nentries; k++)
		if (!strcmp(s->entries[k].name, name))
			return (int)k;
	return -1;
}

int eim_spec_find_state(const struct bpfx_eim_spec *s, const char *name)
{
	uint32_t k;

	for (k = 0; k < s->nstates; k++)
		if (!strcmp(s->states[k].name, name))
			return (int)k;
	return -1;
}

int eim_spec_find_func(const struct bpfx_eim_spec *s, const char *name)
{
	uint32_t k;

	for (k = 0; k < s->nfuncs; k++)
		if (!strcmp(s->funcs[k].name, name))
			return (int)k;
	return -1;
}

const struct eim_func *eim_spec_func_by_id(const struct bpfx_eim_spec *s,
					    uint32_t id)
{
	uint32_t k;

	for (k = 0; k < s->nfuncs; k++)
		if (s->funcs[k].helper_id == id)
			return &s->funcs[k];
	return NULL;
}

const struct eim_class *eim_spec_class(const struct bpfx_eim_spec *s,
				       const char *name)
{
	uint32_t k;

	for (k = 0; s && name && k < s->nclasses; k++)
		if (!strcmp(s->classes[k].name, name))
			return &s->classes[k];
	return NULL;
}

static bool name_taken(const struct bpfx_eim_spec *s, const char *name)
{
	return eim_spec_find_entry(s, name) >= 0 ||
	       eim_spec_find_state(s, name) >= 0 ||
	       eim_spec_find_func(s, name) >= 0;
}

int eim_spec_add_type(struct bpfx_eim_spec *s, const char *name,
		      const char *where, char *err, size_t err_size)
{
	char **t;
	uint32_t k;

	if (!strncmp(name, "struct ", 7))
		name += 7;
	if (!name_ok(name))
		return fail(err, err_size, where, "bad type name '%s'", name);
	for (k = 0; k < s->ntypes; k++)
		if (!strcmp(s->type_names[k], name))
			return 0;
	t = realloc(s->type_names, (s->ntypes + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	s->type_names = t;
	t[s->ntypes] = strdup(name);
	if (!t[s->ntypes])
		return -ENOMEM;
	s->ntypes++;
	return 0;
}

int eim_spec_add_entry(struct bpfx_eim_spec *s, const char *name,
		       uint32_t kind, const char *symbol, const char *proto,
		       const char *where, char *err, size_t err_size)
{
	struct eim_entry *e, tmp = { 0 };
	char why[256];
	uint32_t k;

	if (!name_ok(name))
		return fail(err, err_size, where, "bad entry name '%s'", name ? name : "");
	if (name_taken(s, name))
		return fail(err, err_size, where, "'%s' is declared twice", name);
	if (!proto)
		return fail(err, err_size, where, "entry '%s' needs a prototype", name);
	if (eim_parse_proto(s, proto, &tmp.proto, why, sizeof(why)))
		return fail(err, err_size, where, "entry '%s': %s", name, why);
	for (k = 0; k < tmp.proto.nparams; k++)
		if (tmp.proto.params[k].t.kind == EIM_T_CTX)
			return fail(err, err_size, where,
				    "entry '%s': an entry's parameters are host values, not ctx",
				    name);
	if (kind == BPFX_EIM_ENTRY_HOOK) {
		if (!symbol || !name_ok(symbol))
			return fail(err, err_size, where,
				    "hook entry '%s' needs the host function to hook ('symbol:')",
				    name);
		snprintf(tmp.symbol, sizeof(tmp.symbol), "%s", symbol);
	} else if (kind != BPFX_EIM_ENTRY_EXPLICIT) {
		return fail(err, err_size, where,
			    "entry '%s': kind must be 'explicit' or 'hook'", name);
	}
	e = grow(s->entries, s->nentries, sizeof(*e));
	if (!e)
		return -ENOMEM;
	s->entries = e;
	e = &s->entries[s->nentries++];
	*e = tmp;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->kind = kind;
	snprintf(e->where, sizeof(e->where), "%s", where);
	return 0;
}

int eim_spec_add_state(struct bpfx_eim_spec *s, const char *name,
		       const char *type, const char *where, char *err,
		       size_t err_size)
{
	struct eim_state *st, tmp = { 0 };
	char why[256];

	if (!name_ok(name))
		return fail(err, err_size, where, "bad state name '%s'", name ? name : "");
	if (name_taken(s, name))
		return fail(err, err_size, where, "'%s' is declared twice", name);
	if (!type)
		return fail(err, err_size, where, "state '%s' needs a type", name);
	if (eim_parse_type(s, type, &tmp.t, why, sizeof(why)))
		return fail(err, err_size, where, "state '%s': %s", name, why);
	if (tmp.t.kind != EIM_T_INT)
		return fail(err, err_size, where,
			    "state '%s': a host variable is an integer of 1, 2, 4 or 8 bytes",
			    name);
	if (s->nstates == EIM_MAX_STATE)
		return fail(err, err_size, where, "more than %d state variables",
			    EIM_MAX_STATE);
	st = grow(s->states, s->nstates, sizeof(*st));
	if (!st)
		return -ENOMEM;
	s->states = st;
	st = &s->states[s->nstates++];
	*st = tmp;
	snprintf(st->name, sizeof(st->name), "%s", name);
	snprintf(st->where, sizeof(st->where), "%s", where);
	return 0;
}

int eim_spec_add_func(struct bpfx_eim_spec *s, const char *proto,
		      const char *const *cons, uint32_t ncons,
		      const char *where, char *err, size_t err_size)
{
	struct eim_func *f, tmp;
	const struct eim_func *other;
	char why[256];
	uint32_t k, j;

	memset(&tmp, 0, sizeof(tmp));
	if (!proto)
		return fail(err, err_size, where, "a function needs a prototype");
	if (eim_parse_proto(s, proto, &tmp.proto, why, sizeof(why)))
		return fail(err, err_size, where, "%s", why);
	snprintf(tmp.name, sizeof(tmp.name), "%s", tmp.proto.name);
	if (name_taken(s, tmp.name))
		return fail(err, err_size, where, "'%s' is declared twice", tmp.name);
	if (ncons > EIM_MAX_CONSTRAINTS)
		return fail(err, err_size, where, "%s: more than %d constraints",
			    tmp.name, EIM_MAX_CONSTRAINTS);
	for (k = 0; k < ncons; k++) {
		if (eim_parse_constraint(&tmp.proto, cons[k], &tmp.cons[k], why,
					 sizeof(why)))
			return fail(err, err_size, where, "%s: %s", tmp.name, why);
		snprintf(tmp.cons[k].where, sizeof(tmp.cons[k].where), "%s", where);
	}
	tmp.ncons = ncons;
	/* every pointer an extension passes needs a size the verifier proves */
	for (k = 0; k < tmp.proto.nparams; k++) {
		const struct eim_type *t = &tmp.proto.params[k].t;
		bool sized = false;

		if (t->kind != EIM_T_PTR)
			continue;
		for (j = 0; j < ncons; j++)
			if ((tmp.cons[j].kind == EIM_C_READABLE ||
			     tmp.cons[j].kind == EIM_C_WRITABLE) &&
			    tmp.cons[j].lhs.arg == (int32_t)k)
				sized = true;
		if (!sized) {
			bool opaque = false;
			uint32_t q;

			for (q = 0; q < s->ntypes; q++)
				if (!strcmp(s->type_names[q], t->base))
					opaque = true;
			return fail(err, err_size, where,
				    opaque ? "%s: parameter '%s' is an opaque host pointer an extension could forge; take 'ctx' and find the object from the call"
					   : "%s: pointer parameter '%s' needs readable(%s, N) or writable(%s, N)",
				    tmp.name, tmp.proto.params[k].name,
				    tmp.proto.params[k].name,
				    tmp.proto.params[k].name);
		}
	}
	if (tmp.proto.ret.kind == EIM_T_PTR)
		return fail(err, err_size, where,
			    "%s: host functions return integers (or void), not pointers",
			    tmp.name);
	tmp.helper_id = eim_hostfn_id(tmp.name);
	other = eim_spec_func_by_id(s, tmp.helper_id);
	if (other)
		return fail(err, err_size, where,
			    "%s: its id %u collides with '%s' (%s): rename one",
			    tmp.name, tmp.helper_id, other->name, other->where);
	snprintf(tmp.where, sizeof(tmp.where), "%s", where);
	f = grow(s->funcs, s->nfuncs, sizeof(*f));
	if (!f)
		return -ENOMEM;
	s->funcs = f;
	s->funcs[s->nfuncs++] = tmp;
	return 0;
}

/* ---- classes ---- */

static const struct {
	const char *name;
	uint32_t bit;
} groups[] = {
	{ "maps", HG_MAPS },	       { "time", HG_TIME },
	{ "probe_read", HG_PROBE_READ }, { "probe_write", HG_PROBE_WRITE },
	{ "output", HG_OUTPUT },       { "process", HG_PROCESS },
	{ "misc", HG_MISC },	       { "tail_call", HG_TAIL_CALL },
	{ "override", HG_OVERRIDE },
};

uint32_t eim_helper_group(const char *name)
{
	size_t k;

	for (k = 0; k < sizeof(groups) / sizeof(groups[0]); k++)
		if (!strcmp(groups[k].name, name))
			return groups[k].bit;
	return 0;
}

const char *eim_helper_group_name(uint32_t bit)
{
	size_t k;

	for (k = 0; k < sizeof(groups) / sizeof(groups[0]); k++)
		if (groups[k].bit == bit)
			return groups[k].name;
	return "?";
}

int eim_class_new(struct bpfx_eim_spec *s, const char *name, const char *entry,
		  const char *where, char *err, size_t err_size,
		  struct eim_class **out)
{
	struct eim_class *c;
	int e;

	if (!name_ok(name))
		return fail(err, err_size, where, "bad class name '%s'", name ? name : "");
	if (eim_spec_class(s, name))
		return fail(err, err_size, where, "class '%s' is declared twice", name);
	if (!entry)
		return fail(err, err_size, where, "class '%s' needs an entry", name);
	e = eim_spec_find_entry(s, entry);
	if (e < 0)
		return fail(err, err_size, where,
			    "class '%s': unknown entry '%s'", name, entry);
	c = grow(s->classes, s->nclasses, sizeof(*c));
	if (!c)
		return -ENOMEM;
	s->classes = c;
	c = &s->classes[s->nclasses];
	c->funcs = calloc((s->nfuncs + 63) / 64 + 1, sizeof(uint64_t));
	if (!c->funcs)
		return -ENOMEM;
	s->nclasses++;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->where, sizeof(c->where), "%s", where);
	c->entry = (uint32_t)e;
	*out = c;
	return 0;
}

int eim_class_grant(struct bpfx_eim_spec *s, struct eim_class *c,
		    const char *what, const char *name, const char *where,
		    char *err, size_t err_size)
{
	const struct eim_entry *e = &s->entries[c->entry];
	char why[256];
	int k;

	if (!strcmp(what, "function")) {
		k = eim_spec_find_func(s, name);
		if (k < 0)
			return fail(err, err_size, where,
				    "class '%s': unknown function '%s'", c->name, name);
		c->funcs[k / 64] |= 1ull << (k % 64);
	} else if (!strcmp(what, "state-read") || !strcmp(what, "state-write")) {
		k = eim_spec_find_state(s, name);
		if (k < 0)
			return fail(err, err_size, where,
				    "class '%s': unknown state '%s'", c->name, name);
		if (what[6] == 'r')
			c->state_read |= 1ull << k;
		else
			c->state_write |= 1ull << k;
	} else if (!strcmp(what, "arg-read") || !strcmp(what, "arg-write")) {
		k = eim_param_index(&e->proto, name);
		if (k < 0)
			return fail(err, err_size, where,
				    "class '%s': entry '%s' has no argument '%s'",
				    c->name, e->name, name);
		if (what[4] == 'r')
			c->arg_read |= 1u << k;
		else
			c->arg_write |= 1u << k;
	} else if (!strcmp(what, "helpers")) {
		uint32_t g = eim_helper_group(name);

		if (!g)
			return fail(err, err_size, where,
				    "class '%s': unknown helper group '%s' (maps, time, probe_read, probe_write, output, process, misc, tail_call, override)",
				    c->name, name);
		c->helper_groups |= g;
	} else if (!strcmp(what, "limit")) {
		bool mem;
		uint64_t v;

		if (eim_parse_limit(name, &mem, &v, why, sizeof(why)))
			return fail(err, err_size, where, "class '%s': %s", c->name, why);
		if (mem)
			c->max_memory = v;
		else
			c->max_insns = v;
	} else {
		return fail(err, err_size, where, "class '%s': unknown grant '%s'",
			    c->name, what);
	}
	return 0;
}

/* ---- records of the BPFX_EIM_* macros ---- */

#define MAX_FIELDS 8

static int add_record(struct bpfx_eim_spec *s, char *rec, char *err,
		      size_t err_size)
{
	char *f[MAX_FIELDS] = { 0 }, *p = rec;
	uint32_t n = 0;

	while (p && n < MAX_FIELDS) {
		char *sep = strchr(p, '\x1f');

		if (sep)
			*sep = '\0';
		f[n++] = p;
		p = sep ? sep + 1 : NULL;
	}
	if (n < 3 || strcmp(f[0], "bpfx-eim"))
		return fail(err, err_size, "bpfx_eim section", "malformed record");
	if (!strcmp(f[2], "type") && n >= 4)
		return eim_spec_add_type(s, f[3], f[1], err, err_size);
	if (!strcmp(f[2], "state") && n >= 5)
		return eim_spec_add_state(s, f[3], f[4], f[1], err, err_size);
	if (!strcmp(f[2], "entry") && n >= 7)
		return eim_spec_add_entry(s, f[3],
					  !strcmp(f[4], "hook") ? BPFX_EIM_ENTRY_HOOK :
					  !strcmp(f[4], "explicit") ? BPFX_EIM_ENTRY_EXPLICIT : 0,
					  f[5], f[6], f[1], err, err_size);
	if (!strcmp(f[2], "function") && n >= 4) {
		const char *cons[EIM_MAX_CONSTRAINTS + 1];
		uint32_t nc = 0;
		char *q = n >= 5 ? f[4] : NULL;

		while (q && *q) {
			char *semi = strchr(q, ';');

			if (semi)
				*semi = '\0';
			while (*q == ' ')
				q++;
			if (*q) {
				if (nc == EIM_MAX_CONSTRAINTS + 1)
					break;
				cons[nc++] = q;
			}
			q = semi ? semi + 1 : NULL;
		}
		return eim_spec_add_func(s, f[3], cons, nc, f[1], err, err_size);
	}
	return fail(err, err_size, f[1], "unknown record kind '%s'", f[2]);
}

/* Which pass a record belongs to: compilers lay static variables out in any
 * order, so types go first, then entries and state, then functions. */
static int record_pass(const char *rec)
{
	const char *k = strchr(rec, '\x1f');

	k = k ? strchr(k + 1, '\x1f') : NULL;
	if (!k)
		return 0;
	if (!strncmp(k + 1, "type\x1f", 5))
		return 0;
	if (!strncmp(k + 1, "function\x1f", 9))
		return 2;
	return 1;
}

int bpfx_eim_spec_add_records(struct bpfx_eim_spec *s, const char *recs,
			      size_t size, char *err, size_t err_size)
{
	int ret = 0, pass;

	if (!s || (!recs && size))
		return -EINVAL;
	for (pass = 0; pass < 3 && !ret; pass++) {
		size_t off = 0;

		while (off < size && !ret) {
			size_t n = strnlen(recs + off, size - off);
			char *copy;

			if (!n) {
				off++;
				continue;
			}
			copy = strndup(recs + off, n);
			if (!copy)
				return -ENOMEM;
			if (record_pass(copy) == pass)
				ret = add_record(s, copy, err, err_size);
			free(copy);
			off += n + 1;
		}
	}
	return ret;
}

int bpfx_eim_spec_add_binary(struct bpfx_eim_spec *s, const char *path,
			     char *err, size_t err_size)
{
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	const char *strs;
	struct stat st;
	void *m;
	int fd, ret = -ENODATA;
	uint32_t k;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		snprintf(err, err_size, "%s: not an ELF file", path);
		return -EINVAL;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	eh = m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || !eh->e_shoff ||
	    eh->e_shstrndx >= eh->e_shnum ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) >
		    (uint64_t)st.st_size) {
		snprintf(err, err_size, "%s: not a 64-bit ELF file", path);
		munmap(m, (size_t)st.st_size);
		return -EINVAL;
	}
	sh = (const Elf64_Shdr *)((const char *)m + eh->e_shoff);
	if (sh[eh->e_shstrndx].sh_offset + sh[eh->e_shstrndx].sh_size >
	    (uint64_t)st.st_size) {
		munmap(m, (size_t)st.st_size);
		snprintf(err, err_size, "%s: bad section table", path);
		return -EINVAL;
	}
	strs = (const char *)m + sh[eh->e_shstrndx].sh_offset;
	for (k = 0; k < eh->e_shnum; k++) {
		if (sh[k].sh_name >= sh[eh->e_shstrndx].sh_size ||
		    strcmp(strs + sh[k].sh_name, BPFX_EIM_SECTION_NAME))
			continue;
		if (sh[k].sh_type == SHT_NOBITS ||
		    sh[k].sh_offset + sh[k].sh_size > (uint64_t)st.st_size) {
			snprintf(err, err_size, "%s: bad bpfx_eim section", path);
			ret = -EINVAL;
			break;
		}
		ret = bpfx_eim_spec_add_records(s, (const char *)m + sh[k].sh_offset,
						sh[k].sh_size, err, err_size);
		break;
	}
	if (ret == -ENODATA)
		snprintf(err, err_size, "%s: no EIM declarations (no bpfx_eim section)",
			 path);
	munmap(m, (size_t)st.st_size);
	return ret;
}

int bpfx_eim_class_ctx_size(const struct bpfx_eim_spec *s, const char *cls)
{
	const struct eim_class *c = eim_spec_class(s, cls);

	if (!c)
		return -ENOENT;
	return (int)eim_ctx_size(s, &s->entries[c->entry]);
}

uint32_t eim_ctx_size(const struct bpfx_eim_spec *s, const struct eim_entry *e)
{
	return 8 * (e->proto.nparams + s->nstates);
}

uint32_t eim_state_off(const struct bpfx_eim_spec *s, const struct eim_entry *e,
		       uint32_t state)
{
	(void)s;
	return 8 * (e->proto.nparams + state);
}

/* ---- printing ---- */

struct out {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
		      o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void put_names(struct out *o, const char *key, uint64_t bits,
		      const char *(*name)(const struct bpfx_eim_spec *,
					  const struct eim_class *, uint32_t),
		      const struct bpfx_eim_spec *s, const struct eim_class *c,
		      uint32_t n)
{
	uint32_t k;
	bool first = true;

	if (!bits)
		return;
	put(o, "%s[", key);
	for (k = 0; k < n; k++)
		if (bits & (1ull << k)) {
			put(o, "%s%s", first ? "" : ", ", name(s, c, k));
			first = false;
		}
	put(o, "]");
}

static const char *arg_name(const struct bpfx_eim_spec *s,
			    const struct eim_class *c, uint32_t k)
{
	return s->entries[c->entry].proto.params[k].name;
}

static const char *state_name(const struct bpfx_eim_spec *s,
			      const struct eim_class *c, uint32_t k)
{
	(void)c;
	return s->states[k].name;
}

size_t bpfx_eim_spec_format(const struct bpfx_eim_spec *s, char *buf,
			    size_t size)
{
	struct out o = { buf, size, 0 };
	char pr[512];
	uint32_t k, j;

	if (size)
		buf[0] = '\0';
	if (s->ntypes) {
		put(&o, "types: [");
		for (k = 0; k < s->ntypes; k++)
			put(&o, "%s%s", k ? ", " : "", s->type_names[k]);
		put(&o, "]\n");
	}
	if (s->nentries)
		put(&o, "entries:\n");
	for (k = 0; k < s->nentries; k++) {
		const struct eim_entry *e = &s->entries[k];

		eim_proto_str(&e->proto, pr, sizeof(pr));
		put(&o, "  - name: %s\n    kind: %s\n", e->name,
		    e->kind == BPFX_EIM_ENTRY_HOOK ? "hook" : "explicit");
		if (e->kind == BPFX_EIM_ENTRY_HOOK)
			put(&o, "    symbol: %s\n", e->symbol);
		put(&o, "    prototype: \"%s\"   # %s\n", pr, e->where);
	}
	if (s->nstates)
		put(&o, "state:\n");
	for (k = 0; k < s->nstates; k++) {
		eim_type_str(&s->states[k].t, pr, sizeof(pr));
		put(&o, "  - name: %s\n    type: %s   # %s\n", s->states[k].name, pr,
		    s->states[k].where);
	}
	if (s->nfuncs)
		put(&o, "functions:\n");
	for (k = 0; k < s->nfuncs; k++) {
		const struct eim_func *f = &s->funcs[k];

		eim_proto_str(&f->proto, pr, sizeof(pr));
		put(&o, "  - prototype: \"%s\"   # id %u, %s\n", pr, f->helper_id,
		    f->where);
		if (f->ncons) {
			put(&o, "    constraints: [");
			for (j = 0; j < f->ncons; j++)
				put(&o, "%s\"%s\"", j ? ", " : "", f->cons[j].text);
			put(&o, "]\n");
		}
	}
	if (s->nclasses)
		put(&o, "classes:\n");
	for (k = 0; k < s->nclasses; k++) {
		const struct eim_class *c = &s->classes[k];
		const struct eim_entry *e = &s->entries[c->entry];
		bool first = true;

		put(&o, "  - name: %s   # %s\n    entry: %s\n    allow:\n", c->name,
		    c->where, e->name);
		if (c->arg_read || c->arg_write) {
			put(&o, "      args: {");
			put_names(&o, "read: ", c->arg_read, arg_name, s, c,
				  e->proto.nparams);
			put(&o, "%s", c->arg_read && c->arg_write ? ", " : "");
			put_names(&o, "write: ", c->arg_write, arg_name, s, c,
				  e->proto.nparams);
			put(&o, "}\n");
		}
		if (c->state_read || c->state_write) {
			put(&o, "      state: {");
			put_names(&o, "read: ", c->state_read, state_name, s, c,
				  s->nstates);
			put(&o, "%s", c->state_read && c->state_write ? ", " : "");
			put_names(&o, "write: ", c->state_write, state_name, s, c,
				  s->nstates);
			put(&o, "}\n");
		}
		for (j = 0; j < s->nfuncs; j++)
			if (c->funcs[j / 64] & (1ull << (j % 64))) {
				put(&o, "%s%s", first ? "      functions: [" : ", ",
				    s->funcs[j].name);
				first = false;
			}
		if (!first)
			put(&o, "]\n");
		first = true;
		for (j = 0; j < 32; j++)
			if (c->helper_groups & (1u << j)) {
				put(&o, "%s%s", first ? "      helpers: [" : ", ",
				    eim_helper_group_name(1u << j));
				first = false;
			}
		if (!first)
			put(&o, "]\n");
		if (c->max_insns || c->max_memory) {
			put(&o, "      limits: [");
			if (c->max_insns)
				put(&o, "\"instructions < %llu\"",
				    (unsigned long long)c->max_insns);
			if (c->max_memory)
				put(&o, "%s\"memory < %llu\"", c->max_insns ? ", " : "",
				    (unsigned long long)c->max_memory);
			put(&o, "]\n");
		}
	}
	return o.len;
}

static void c_type(const struct bpfx_eim_spec *s, const struct eim_type *t,
		   char *buf, size_t size)
{
	static const char *const u[] = { "", "__u8", "__u16", "", "__u32", "", "", "", "__u64" };
	static const char *const sg[] = { "", "__s8", "__s16", "", "__s32", "", "", "", "__s64" };
	uint32_t k;

	switch (t->kind) {
	case EIM_T_VOID:
		snprintf(buf, size, "void");
		return;
	case EIM_T_CTX:
		snprintf(buf, size, "void *");
		return;
	case EIM_T_INT:
		snprintf(buf, size, "%s", t->is_signed ? sg[t->size] : u[t->size]);
		return;
	}
	for (k = 0; k < s->ntypes; k++)
		if (!strcmp(s->type_names[k], t->base)) {
			snprintf(buf, size, "__u64");
			return;
		}
	snprintf(buf, size, "%s%s *", t->is_const ? "const " : "",
		 !strcmp(t->base, "char") ? "char" : t->base);
}

size_t bpfx_eim_spec_header(const struct bpfx_eim_spec *s, char *buf,
			    size_t size)
{
	struct out o = { buf, size, 0 };
	char t[96];
	uint32_t k, j;

	if (size)
		buf[0] = '\0';
	put(&o, "/* Generated by `bpfx eim header`: the EIM interface for extensions. */\n"
		"#ifndef BPFX_EIM_GENERATED_H\n#define BPFX_EIM_GENERATED_H\n\n"
		"#include <linux/types.h>\n\n");
	for (k = 0; k < s->nentries; k++) {
		const struct eim_entry *e = &s->entries[k];

		put(&o, "/* entry %s: the context (arguments, then host state) */\nstruct %s_ctx {\n",
		    e->name, e->name);
		for (j = 0; j < e->proto.nparams; j++)
			put(&o, "\t__u64 %s;\n", e->proto.params[j].name);
		for (j = 0; j < s->nstates; j++)
			put(&o, "\t__u64 %s;\n", s->states[j].name);
		put(&o, "};\n\n");
	}
	for (k = 0; k < s->nfuncs; k++) {
		const struct eim_func *f = &s->funcs[k];

		put(&o, "#define BPFX_HOSTFN_%s %u\n", f->name, f->helper_id);
		c_type(s, &f->proto.ret, t, sizeof(t));
		put(&o, "static %s (*%s)(", f->proto.ret.kind == EIM_T_INT ? "long" : t,
		    f->name);
		for (j = 0; j < f->proto.nparams; j++) {
			c_type(s, &f->proto.params[j].t, t, sizeof(t));
			put(&o, "%s%s%s%s", j ? ", " : "", t,
			    t[strlen(t) - 1] == '*' ? "" : " ",
			    f->proto.params[j].name);
		}
		if (!f->proto.nparams)
			put(&o, "void");
		put(&o, ") = (void *)%u;\n", f->helper_id);
	}
	put(&o, "\n#endif\n");
	return o.len;
}
