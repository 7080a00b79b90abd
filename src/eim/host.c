/* SPDX-License-Identifier: MIT */
/*
 * host.c - the host API (bpfx/bpfx.h): a host runtime with its EIM spec,
 * entries, host functions and state bindings, and extensions loaded as
 * classes.
 *
 * Design note. Loading a .bpf.o goes through stock libbpf and the bpf(2)
 * emulation, exactly as `bpfx run` does, so maps live in the session. The
 * class reaches the verifier that PROG_LOAD runs through a thread policy
 * (verifier_set_thread_policy): while this thread loads, every RAW_TRACEPOINT
 * program is verified as the class says (eim_run_apply); the extension must
 * be a SEC("raw_tp") program, and a load whose program was not verified
 * under the class is refused. Host functions are registered in the
 * emulation's VM (the one programs are instantiated in) as thunks
 * (hostfn.c). The JIT code's entry is then stored in the entry head that
 * the inline bpfx_entry_call reads: a NULL test when nothing is attached, a
 * direct call when the class needs no state copies and no isolation.
 * Detach clears the pointer; freeing code another thread may still run is
 * the caller's to avoid (bpfx_ext_free documents it).
 */
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfx/bpfx.h"
#include "eim/host_internal.h"
#include "hook/hook.h"
#include "emu/emu.h"
#include "helpers/helpers.h"
#include "isolate/isolate.h"
#include "vm/vm_internal.h"

struct bpfx_entry {
	struct bpfx_entry_head head; /* first: bpfx_entry_call reads it */
	struct bpfx_host *h;
	uint32_t index;		     /* in spec->entries */
	struct bpfx_ext *attached;
	void *hook_fn;		     /* hook entries: the host function */
	struct hook *hook;	     /* ... rewritten while attached */
	struct bpfx_entry *next;
};

struct bpfx_host {
	struct bpfx_eim_spec *spec;
	struct bpfx_entry *entries;
	void *state_addr[EIM_MAX_STATE];
	struct isolate_domain iso;
	bool isolate;
};

struct bpfx_ext {
	struct bpfx_host *h;
	uint32_t cls;		  /* index into spec->classes */
	struct bpf_object *obj;	  /* .bpf.o loads */
	struct emu_prog *ep;	  /* ... their program, instantiated */
	struct bpfx_prog *prog;	  /* raw loads (owned) / ep->vm_prog */
	bpfx_entry_fn fn;	  /* JIT entry, or NULL (interpreter) */
	bool verify_only;
	struct bpfx_entry *entry;
};

struct bpfx_host *bpfx_host_open(const struct bpfx_host_opts *opts)
{
	struct bpfx_host *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->spec = bpfx_eim_spec_new();
	if (!h->spec) {
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	if (opts && opts->sz >= offsetof(struct bpfx_host_opts, session) +
			       sizeof(char *) && opts->session)
		emu_set_session(opts->session);
	h->iso.pkey = -1;
	if (opts && opts->sz >= sizeof(*opts) && opts->isolate) {
		if (isolate_init(&h->iso) == 0)
			h->isolate = true;
		else
			vm_log(BPFX_INFO, "bpfx: %s: running without hardware isolation\n",
			       h->iso.why);
	}
	return h;
}

void bpfx_host_close(struct bpfx_host *h)
{
	struct bpfx_entry *e, *n;

	if (!h)
		return;
	for (e = h->entries; e; e = n) {
		n = e->next;
		if (e->attached)
			e->attached->entry = NULL;
		free(e);
	}
	isolate_fini(&h->iso);
	bpfx_eim_spec_free(h->spec);
	free(h);
}

struct bpfx_eim_spec *bpfx_host_spec(struct bpfx_host *h)
{
	return h ? h->spec : NULL;
}

bool bpfx_host_isolated(const struct bpfx_host *h, const char **why)
{
	if (why)
		*why = h->isolate ? "" : h->iso.why[0] ? h->iso.why :
			"isolation not requested";
	return h->isolate;
}

uint64_t bpfx_host_violations(const struct bpfx_host *h)
{
	(void)h;
	return hostfn_violations();
}

/* Register host function @f (bound to @fn or not yet) in the VM. */
static int register_func(const struct eim_func *f, void *fn)
{
	bpfx_helper_fn thunk;
	int err = hostfn_slot(f, fn, &thunk);

	if (err)
		return err;
	err = bpfx_vm_register_helper(emu_vm(), f->helper_id, f->name, thunk);
	return err == -EEXIST ? 0 : err;
}

int bpfx_host_bind_function(struct bpfx_host *h, const char *name, void *fn)
{
	int k;

	if (!h || !name || !fn)
		return -EINVAL;
	k = eim_spec_find_func(h->spec, name);
	if (k < 0)
		return -ENOENT;
	if (!emu_vm())
		return -ENOMEM;
	return register_func(&h->spec->funcs[k], fn);
}

int bpfx_host_bind_state(struct bpfx_host *h, const char *name, void *addr)
{
	int k;

	if (!h || !name || !addr)
		return -EINVAL;
	k = eim_spec_find_state(h->spec, name);
	if (k < 0)
		return -ENOENT;
	h->state_addr[k] = addr;
	return 0;
}

struct bpfx_entry *bpfx_host_entry(struct bpfx_host *h, const char *name)
{
	struct bpfx_entry *e;
	int k;

	if (!h || !name) {
		errno = EINVAL;
		return NULL;
	}
	k = eim_spec_find_entry(h->spec, name);
	if (k < 0) {
		errno = ENOENT;
		return NULL;
	}
	for (e = h->entries; e; e = e->next)
		if (e->index == (uint32_t)k)
			return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->h = h;
	e->index = (uint32_t)k;
	e->head.slots = eim_ctx_size(h->spec, &h->spec->entries[k]) / 8;
	e->next = h->entries;
	h->entries = e;
	return e;
}

/* ---- loading ---- */

struct policy {
	struct eim_run run;
	uint32_t applied; /* programs verified under the class */
	char why[320];
};

static int apply_policy(struct verifier_opts *o, void *arg, char *why,
			size_t n)
{
	struct policy *p = arg;

	if (o->prog_type != BPF_PROG_TYPE_RAW_TRACEPOINT)
		return 0; /* libbpf's feature probes */
	p->applied++;
	return eim_run_apply(&p->run, o, why, n);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static void set_log(const struct bpfx_ext_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_log(const struct bpfx_ext_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (!o || !o->log_buf || !o->log_size)
		return;
	va_start(ap, fmt);
	vsnprintf(o->log_buf, o->log_size, fmt, ap);
	va_end(ap);
}

static int prepare_funcs(struct bpfx_host *h, const struct eim_class *c)
{
	uint32_t k;
	int err;

	if (!emu_vm())
		return -ENOMEM;
	for (k = 0; k < h->spec->nfuncs; k++) {
		if (!(c->funcs[k / 64] & (1ull << (k % 64))))
			continue;
		err = register_func(&h->spec->funcs[k], NULL);
		if (err)
			return err;
	}
	return 0;
}

static struct bpfx_ext *ext_new(struct bpfx_host *h, const char *cls,
				const struct bpfx_ext_opts *o)
{
	const struct eim_class *c = eim_spec_class(h->spec, cls);
	struct bpfx_ext *x;

	if (!c) {
		set_log(o, "EIM: no class '%s' in the spec\n", cls ? cls : "");
		errno = ENOENT;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->h = h;
	x->cls = (uint32_t)(c - h->spec->classes);
	x->verify_only = o && o->sz >= offsetof(struct bpfx_ext_opts, verify_only) +
				    sizeof(bool) && o->verify_only;
	return x;
}

static void finish_jit(struct bpfx_ext *x, const struct bpfx_ext_opts *o)
{
	bool jit = !(o && o->sz >= sizeof(*o) && o->no_jit);

	if (jit && x->prog && bpfx_prog_jit(x->prog) == 0)
		x->fn = (bpfx_entry_fn)x->prog->jit_entry;
}

struct bpfx_ext *bpfx_ext_load_file(struct bpfx_host *h, const char *path,
				    const char *cls,
				    const struct bpfx_ext_opts *o)
{
	struct policy *p = NULL;
	struct bpfx_ext *x;
	struct bpf_program *prog, *want = NULL;
	libbpf_print_fn_t old;
	char *log = o && o->log_buf && o->log_size ? o->log_buf : NULL;
	int err, fd;

	if (!h || !path) {
		errno = EINVAL;
		return NULL;
	}
	x = ext_new(h, cls, o);
	if (!x)
		return NULL;
	p = calloc(1, sizeof(*p));
	err = p ? eim_run_init(&p->run, h->spec, cls) : -ENOMEM;
	if (!err)
		err = prepare_funcs(h, &h->spec->classes[x->cls]);
	if (!err) {
		err = host_route_libbpf();
		if (err)
			set_log(o, "EIM: libbpf's bpf(2) cannot be routed to bpfx (%s)\n",
				strerror(-err));
	}
	if (err)
		goto fail;
	old = libbpf_set_print(quiet);
	x->obj = bpf_object__open_file(path, NULL);
	if (!x->obj) {
		err = -errno;
		set_log(o, "%s: cannot open: %s\n", path, strerror(errno));
		libbpf_set_print(old);
		goto fail;
	}
	bpf_object__for_each_program(prog, x->obj) {
		bool pick = !want && (!o || !o->prog ||
				      !strcmp(bpf_program__name(prog), o->prog));

		if (pick)
			want = prog;
		bpf_program__set_autoload(prog, pick);
	}
	if (!want || bpf_program__type(want) != BPF_PROG_TYPE_RAW_TRACEPOINT) {
		set_log(o, "%s: %s: an extension is a SEC(\"raw_tp\") program\n", path,
			want ? bpf_program__name(want) : "no such program");
		libbpf_set_print(old);
		err = -EINVAL;
		goto fail;
	}
	if (log) {
		log[0] = '\0';
		bpf_program__set_log_buf(want, log, o->log_size);
		bpf_program__set_log_level(want, o->log_level ? o->log_level : 1);
	}
	verifier_set_thread_policy(apply_policy, p);
	err = bpf_object__load(x->obj);
	verifier_set_thread_policy(NULL, NULL);
	libbpf_set_print(old);
	if (err) {
		if (log) {
			eim_explain(&p->run, log, o->log_size);
			if (!log[0])
				set_log(o, "%s: load failed: %s\n", path, strerror(-err));
		}
		goto fail;
	}
	if (!p->applied) {
		set_log(o, "%s: the program was not verified under class '%s'\n", path,
			cls);
		err = -EACCES;
		goto fail;
	}
	if (!x->verify_only) {
		fd = bpf_program__fd(want);
		x->ep = emu_fd_prog(fd);
		err = x->ep ? emu_prog_instantiate(x->ep, emu_vm(), false) : -EBADF;
		if (err)
			goto fail;
		x->prog = x->ep->vm_prog;
		finish_jit(x, o);
	}
	eim_run_free(&p->run);
	free(p);
	return x;
fail:
	if (p)
		eim_run_free(&p->run);
	free(p);
	bpfx_ext_free(x);
	errno = -err;
	return NULL;
}

struct bpfx_ext *bpfx_ext_load_insns(struct bpfx_host *h,
				     const struct bpfx_insn *insns, size_t cnt,
				     const char *cls,
				     const struct bpfx_ext_opts *o)
{
	struct bpfx_eim_check_opts co = { .sz = sizeof(co) };
	struct bpfx_prog_opts po = { .sz = sizeof(po) };
	struct bpfx_ext *x;
	int err;

	if (!h || !insns || !cnt) {
		errno = EINVAL;
		return NULL;
	}
	x = ext_new(h, cls, o);
	if (!x)
		return NULL;
	if (o) {
		co.log_buf = o->log_buf;
		co.log_size = o->log_size;
		co.log_level = o->log_level;
	}
	err = prepare_funcs(h, &h->spec->classes[x->cls]);
	if (!err)
		err = bpfx_eim_check(h->spec, cls, insns, cnt, &co);
	if (!err && !x->verify_only) {
		if (o) {
			po.log_buf = o->log_buf;
			po.log_size = o->log_size;
		}
		x->prog = bpfx_prog_load(emu_vm(), insns, cnt, &po);
		if (!x->prog)
			err = -errno;
		else
			finish_jit(x, o);
	}
	if (err) {
		bpfx_ext_free(x);
		errno = -err;
		return NULL;
	}
	return x;
}

int bpfx_host_bind_hook(struct bpfx_host *h, const char *entry, void *fn)
{
	struct bpfx_entry *e;

	if (!h || !entry || !fn)
		return -EINVAL;
	e = bpfx_host_entry(h, entry);
	if (!e)
		return -ENOENT;
	if (h->spec->entries[e->index].kind != BPFX_EIM_ENTRY_HOOK)
		return -EINVAL;
	e->hook_fn = fn;
	return 0;
}

/*
 * A hook entry's handler: the host function's arguments (SysV registers)
 * are the entry's context; argument writes the class grants go back into
 * the registers before the function runs.
 */
static int on_hook(void *ctx, struct hook_regs *regs)
{
	struct bpfx_entry *e = ctx;
	uint64_t args[BPFX_ENTRY_SLOTS_MAX] = { regs->di, regs->si, regs->dx,
						regs->cx, regs->r8, regs->r9 };
	uint64_t ret = 0;
	uint32_t np = e->h->spec->entries[e->index].proto.nparams;

	if (bpfx_entry_call_slow(e, args, &ret) <= 0)
		return HOOK_CONTINUE;
	regs->di = args[0];
	if (np > 1)
		regs->si = args[1];
	if (np > 2)
		regs->dx = args[2];
	if (np > 3)
		regs->cx = args[3];
	if (np > 4)
		regs->r8 = args[4];
	if (np > 5)
		regs->r9 = args[5];
	return HOOK_CONTINUE;
}

static int attach_hook(struct bpfx_entry *e)
{
	const struct eim_entry *en = &e->h->spec->entries[e->index];
	struct hook_desc d = { .sz = sizeof(d), .on_entry = on_hook, .ctx = e };
	void *fn = e->hook_fn ? e->hook_fn : dlsym(RTLD_DEFAULT, en->symbol);

	if (e->hook)
		return 0;
	if (!fn) {
		vm_log(BPFX_WARN, "bpfx: hook entry %s: symbol %s not found (bind it with bpfx_host_bind_hook)\n",
		       en->name, en->symbol);
		return -ENOENT;
	}
	if (en->proto.nparams > 6)
		return -E2BIG;
	return hook_install(fn, &d, &e->hook);
}

int bpfx_ext_attach(struct bpfx_ext *x)
{
	const struct eim_class *c;
	struct bpfx_entry *e;
	int err;

	if (!x)
		return -EINVAL;
	if (x->verify_only)
		return -EBUSY;
	c = &x->h->spec->classes[x->cls];
	e = bpfx_host_entry(x->h, x->h->spec->entries[c->entry].name);
	if (!e)
		return -errno;
	if (x->h->spec->entries[c->entry].kind == BPFX_EIM_ENTRY_HOOK) {
		err = attach_hook(e);
		if (err)
			return err;
	}
	if (e->attached && e->attached != x)
		e->attached->entry = NULL;
	e->attached = x;
	x->entry = e;
	e->head.direct = x->fn && !c->state_read && !c->state_write &&
			 !x->h->isolate;
	__atomic_store_n(&e->head.fn, x->fn ? x->fn : (bpfx_entry_fn)1,
			 __ATOMIC_RELEASE);
	return 0;
}

int bpfx_ext_detach(struct bpfx_ext *x)
{
	if (!x)
		return -EINVAL;
	if (!x->entry)
		return -ENOENT;
	__atomic_store_n(&x->entry->head.fn, NULL, __ATOMIC_RELEASE);
	if (x->entry->hook) { /* the host function is restored byte for byte */
		hook_remove(x->entry->hook);
		x->entry->hook = NULL;
	}
	x->entry->attached = NULL;
	x->entry = NULL;
	return 0;
}

void bpfx_ext_free(struct bpfx_ext *x)
{
	if (!x)
		return;
	if (x->entry)
		bpfx_ext_detach(x);
	if (x->obj)
		bpf_object__close(x->obj); /* closes the fd: ep goes with it */
	else
		bpfx_prog_free(x->prog);
	free(x);
}

int bpfx_ext_map_lookup(struct bpfx_ext *x, const char *name, const void *key,
			void *value)
{
	struct bpf_map *m;

	if (!x || !x->obj || !name)
		return -EINVAL;
	m = bpf_object__find_map_by_name(x->obj, name);
	if (!m)
		return -ENOENT;
	return bpf_map__lookup_elem(m, key, bpf_map__key_size(m), value,
				    bpf_map__value_size(m), 0) ? -errno : 0;
}

/* Out of line: state copies, isolation, or the interpreter. */
int bpfx_entry_call_slow(struct bpfx_entry *e, uint64_t *args, uint64_t *ret)
{
	struct bpfx_ext *x = e->attached;
	const struct bpfx_eim_spec *s;
	const struct eim_class *c;
	const struct eim_entry *en;
	uint64_t ctx[BPFX_ENTRY_SLOTS_MAX];
	uint32_t k, np;
	int err = 0;

	if (!x || !x->prog)
		return 0;
	s = x->h->spec;
	c = &s->classes[x->cls];
	en = &s->entries[c->entry];
	np = en->proto.nparams;
	memcpy(ctx, args, np * sizeof(uint64_t));
	for (k = 0; k < s->nstates; k++) {
		void *a = x->h->state_addr[k];

		ctx[np + k] = 0;
		if (!a || !((c->state_read | c->state_write) & (1ull << k)))
			continue;
		memcpy(&ctx[np + k], a, s->states[k].t.size);
	}
	isolate_enter(&x->h->iso);
	vm_run_begin(x->prog);
	err = bpfx_prog_run(x->prog, x->fn ? BPFX_ENGINE_JIT : BPFX_ENGINE_INTERP,
			    ctx, (size_t)e->head.slots * 8, ret);
	isolate_leave(&x->h->iso);
	if (err)
		return err;
	for (k = 0; k < s->nstates; k++) {
		void *a = x->h->state_addr[k];

		if (a && (c->state_write & (1ull << k)))
			memcpy(a, &ctx[np + k], s->states[k].t.size);
	}
	memcpy(args, ctx, np * sizeof(uint64_t)); /* granted argument writes */
	return 1;
}
