/* SPDX-License-Identifier: MIT */
/*
 * uprobe.c - make the session's uprobe links true in this process.
 *
 * attach_sync() compares the links in the session with what this process
 * has patched: a new link whose binary is mapped here (same device and
 * inode, any path) gets its program instantiated (JIT) and its function
 * hooked; a link that is gone or detached is removed, and a function with
 * no programs left is restored byte for byte. A link whose binary is not
 * mapped yet stays pending and is retried at the next sync (after dlopen).
 *
 * One hook per function ("site") carries two program lists, entry and
 * return. Lists are immutable once published; an update publishes a new
 * list with one atomic store, so handlers never take a lock. Replaced
 * lists, and the instances of detached programs, are kept (on retired
 * chains, not freed) since a thread may still be running them: they are
 * small and bounded by the number of attach operations.
 *
 * The program context is the hook's register snapshot, which is laid out
 * as the kernel's struct pt_regs: PT_REGS_PARM1(ctx) etc. work unchanged.
 * bpf_override_return in an entry program skips the function.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "attach/attach.h"
#include "attach/attach_internal.h"
#include "emu/emu.h"
#include "hook/hook.h"
#include "vm/vm_internal.h"

_Static_assert(sizeof(struct hook_regs) == 21 * 8,
	       "hook_regs must be the kernel's struct pt_regs");

struct prog_ent {
	const struct bpfx_prog *prog;
	vm_jit_fn fn;	   /* NULL: interpreter */
	uint64_t cookie;
	uint32_t link_id;
	bool novec;	   /* vm_prog_vector_free() */
	bool plain;	   /* vm_prog_helper_free() */
};

struct prog_list {
	struct prog_list *retired;	/* chain of replaced lists */
	uint32_t n;
	bool one_plain;	/* one JIT'd program calling no helper (but the CPU's):
			 * it needs no run state (override, cookie, func_ip
			 * are helpers) */
	struct prog_ent e[];
};

struct site {
	uint64_t addr;
	struct hook *hook;
	bool has_return_hook;
	bool novec_hook;	/* the hook is HOOK_F_NO_VECTOR */
	struct prog_list *entry, *ret;	/* published with release stores */
	struct site *next;
};

struct attached {
	uint32_t link_id;
	uint32_t kind;
	struct site *site;
	struct emu_prog *prog;
	uint64_t semaphore;	/* USDT semaphore address, 0 none */
	struct attached *next;
};

struct retired_prog {
	struct emu_prog *prog;
	struct retired_prog *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * fork() while another thread (the agent's watcher) is inside
 * attach_sync would leave the child with this lock, and the locks under
 * it, held by a thread it does not have: the child's next attach_sync
 * (its own watcher's, or at exit) would wait forever (bash's command
 * substitutions hung so). So fork waits for attach work to finish.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&lock);
}

static void register_atfork(void)
{
	pthread_atfork(fork_prepare, fork_done, fork_done);
}
static struct prog_list *retired_lists;
static struct retired_prog *retired_progs;
static struct site *sites;
static struct attached *attached;
static struct attach_stats stats;
static bool own_only;

static void run_list(const struct prog_list *l, struct hook_regs *regs,
		     uint64_t ip)
{
	uint32_t i;
	uint64_t r0;

	if (!l)
		return;
	vm_run.func_ip = ip;
	for (i = 0; i < l->n; i++) {
		const struct prog_ent *e = &l->e[i];

		vm_run_begin(e->prog);
		vm_run.cookie = e->cookie;
		if (e->fn)
			e->fn(regs, sizeof(*regs));
		else
			bpfx_prog_run(e->prog, BPFX_ENGINE_INTERP, regs,
				      sizeof(*regs), &r0);
	}
	vm_run.prog = NULL;
}

static int on_entry(void *ctx, struct hook_regs *regs)
{
	struct site *s = ctx;
	const struct prog_list *l = __atomic_load_n(&s->entry, __ATOMIC_ACQUIRE);

	if (l && l->one_plain) {
		l->e[0].fn(regs, sizeof(*regs));
		return HOOK_CONTINUE;
	}
	vm_run.override = 0;
	run_list(l, regs, s->addr);
	if (vm_run.override) {
		vm_run.override = 0;
		return hook_regs_override_return(regs, vm_run.override_rc);
	}
	return HOOK_CONTINUE;
}

static void on_return(void *ctx, struct hook_regs *regs)
{
	struct site *s = ctx;
	const struct prog_list *l = __atomic_load_n(&s->ret, __ATOMIC_ACQUIRE);

	if (l && l->one_plain)
		l->e[0].fn(regs, sizeof(*regs));
	else
		run_list(l, regs, s->addr);
}

/* Publish @nl in *@lp (atomically: handlers read it without a lock); the
 * list it replaces is retired. */
static void publish(struct prog_list **lp, struct prog_list *nl)
{
	struct prog_list *old = *lp;

	__atomic_store_n(lp, nl, __ATOMIC_RELEASE);
	if (old) {
		old->retired = retired_lists;
		retired_lists = old;
	}
}

/* A detached program stays instantiated: a thread may still run it. */
static void retire_prog(struct emu_prog *prog)
{
	struct retired_prog *r = malloc(sizeof(*r));

	if (!r)
		return;	/* it stays unreachable instead: the same, unseen */
	r->prog = prog;
	r->next = retired_progs;
	retired_progs = r;
}

/* A copy of @l with @add appended (add != NULL) or link @drop removed. */
static struct prog_list *list_edit(const struct prog_list *l,
				   const struct prog_ent *add, uint32_t drop)
{
	uint32_t n = l ? l->n : 0, i, k = 0;
	struct prog_list *nl = calloc(1, sizeof(*nl) + (n + 1) * sizeof(nl->e[0]));

	if (!nl)
		return NULL;
	for (i = 0; i < n; i++)
		if (add || l->e[i].link_id != drop)
			nl->e[k++] = l->e[i];
	if (add)
		nl->e[k++] = *add;
	nl->n = k;
	nl->one_plain = k == 1 && nl->e[0].plain;	/* plain: fn != NULL */
	return nl;
}

static bool list_novec(const struct prog_list *l)
{
	for (uint32_t i = 0; l && i < l->n; i++)
		if (!l->e[i].novec)
			return false;
	return true;
}

/*
 * (Re)install the hook of @s so it has a return handler iff needed, and
 * saves vector registers iff a program needs it. This file and src/hook's
 * dispatch are built with -mgeneral-regs-only, the JIT emits no vector
 * instruction: when every program of the site is vector-free (JIT code
 * calling only HELPER_F_NOVEC helpers), nothing on the hit path touches
 * xmm0-15 and the stubs skip saving them. (Not under sanitizers.)
 * @more_vec: a program that needs them is about to be published: the
 * hook saves them first (a thread in a hook without the saves must never
 * see it; hook_remove waits for threads inside the old one).
 */
static int rehook(struct site *s, bool more_vec, char *why, size_t whylen)
{
	bool want_ret = s->ret && s->ret->n;
	bool want = want_ret || (s->entry && s->entry->n);
	bool novec = !ATTACH_SANITIZED && !more_vec && list_novec(s->entry) &&
		     list_novec(s->ret);
	struct hook_desc d = {
		.sz = sizeof(d),
		.on_entry = on_entry,
		.on_return = want_ret ? on_return : NULL,
		.ctx = s,
		.flags = novec ? HOOK_F_NO_VECTOR : 0,
		.why = why,
		.whylen = whylen,
	};
	int err;

	if (s->hook && (!want || want_ret != s->has_return_hook ||
			novec != s->novec_hook)) {
		hook_remove(s->hook);
		s->hook = NULL;
	}
	if (!want || s->hook)
		return 0;
	err = hook_install((void *)(uintptr_t)s->addr, &d, &s->hook);
	if (!err) {
		s->has_return_hook = want_ret;
		s->novec_hook = novec;
	}
	return err;
}

static struct site *site_get(uint64_t addr)
{
	struct site *s;

	for (s = sites; s; s = s->next)
		if (s->addr == addr)
			return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->addr = addr;
	s->next = sites;
	sites = s;
	return s;
}

/* ---- where is a file offset of a binary in this process? ---- */

struct mapping {
	uint64_t start, end, pgoff;
	uint64_t dev, ino;
	bool exec, write;
};

static int read_maps(struct mapping **out, size_t *n)
{
	FILE *f = fopen("/proc/self/maps", "re");
	struct mapping *v = NULL;
	size_t cap = 0, k = 0;
	char line[4096];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, pgoff, ino;
		unsigned maj, min;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end,
			   perms, &pgoff, &maj, &min, &ino) != 7 || !ino)
			continue;
		if (k == cap) {
			struct mapping *nv = realloc(v, (cap = cap ? 2 * cap : 64) *
							       sizeof(*v));

			if (!nv) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = nv;
		}
		v[k].start = start;
		v[k].end = end;
		v[k].pgoff = pgoff;
		v[k].dev = makedev(maj, min);
		v[k].ino = ino;
		v[k].exec = perms[2] == 'x';
		v[k].write = perms[1] == 'w';
		k++;
	}
	fclose(f);
	*out = v;
	*n = k;
	return 0;
}

/* Address of file offset @off of (dev, ino) in an executable (or, for
 * @data, writable) mapping; 0 if not mapped. */
static uint64_t addr_of(const struct mapping *m, size_t n, uint64_t dev,
			uint64_t ino, uint64_t off, bool data)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (m[i].dev != dev || m[i].ino != ino)
			continue;
		if (data ? !m[i].write : !m[i].exec)
			continue;
		if (off >= m[i].pgoff && off < m[i].pgoff + (m[i].end - m[i].start))
			return m[i].start + (off - m[i].pgoff);
	}
	return 0;
}

static struct attached *find_attached(uint32_t link_id)
{
	struct attached *a;

	for (a = attached; a; a = a->next)
		if (a->link_id == link_id)
			return a;
	return NULL;
}

static void detach_one(struct attached *a)
{
	struct site *s = a->site;
	struct prog_list **lp, *nl;

	if (a->kind == LINK_TRACEPOINT) {
		attach_syscall_remove(a->link_id);
		retire_prog(a->prog);
		stats.attached--;
		return;
	}
	lp = a->kind == LINK_URETPROBE ? &s->ret : &s->entry;
	nl = list_edit(*lp, NULL, a->link_id);

	if (nl)
		publish(lp, nl);
	rehook(s, false, NULL, 0);
	if (a->semaphore)
		__atomic_fetch_sub((uint16_t *)(uintptr_t)a->semaphore, 1,
				   __ATOMIC_RELAXED);
	retire_prog(a->prog);
	stats.attached--;
}

static int attach_one(struct shm_session *s, uint32_t id,
		      const struct link_obj *l, const struct mapping *maps,
		      size_t nmaps)
{
	struct attached *a;
	struct emu_prog *prog;
	struct prog_ent ent = { 0 };
	struct prog_list **lp, *nl;
	struct site *site;
	uint64_t addr, sem = 0;
	char why[256] = "";
	int err;

	addr = addr_of(maps, nmaps, l->dev, l->ino, l->offset, false);
	if (!addr)
		return -ENOENT; /* not mapped (yet) */
	if (l->ref_ctr_off) {
		sem = addr_of(maps, nmaps, l->dev, l->ino, l->ref_ctr_off, true);
		if (!sem)
			return -ENOENT;
	}
	err = emu_prog_open(s, l->prog_id, &prog);
	if (err)
		return err;
	err = emu_prog_instantiate(prog, emu_vm(), true);
	if (err) {
		vm_log(BPFX_WARN, "bpfx agent: link %u: program %u: %s\n", id,
		       l->prog_id, strerror(-err));
		emu_prog_close(prog);
		return err;
	}
	site = site_get(addr);
	a = calloc(1, sizeof(*a));
	if (!site || !a) {
		free(a);
		emu_prog_close(prog);
		return -ENOMEM;
	}
	ent.prog = prog->vm_prog;
	ent.fn = prog->engine == BPFX_ENGINE_JIT ? prog->vm_prog->jit_entry : NULL;
	ent.cookie = l->cookie;
	ent.link_id = id;
	ent.novec = ent.fn && vm_prog_vector_free(prog->vm_prog);
	ent.plain = ent.fn && vm_prog_helper_free(prog->vm_prog);
	lp = l->kind == LINK_URETPROBE ? &site->ret : &site->entry;
	nl = list_edit(*lp, &ent, 0);
	if (!nl) {
		free(a);
		emu_prog_close(prog);
		return -ENOMEM;
	}
	err = 0;
	if (!ent.novec && site->hook && site->novec_hook)
		err = rehook(site, true, why, sizeof(why));
	if (err) {
		free(nl);	/* never published */
	} else {
		publish(lp, nl);
		err = rehook(site, false, why, sizeof(why));
	}
	if (err) {
		vm_log(BPFX_WARN, "bpfx agent: cannot hook %s+0x%llx: %s\n",
		       l->path, (unsigned long long)l->offset,
		       why[0] ? why : strerror(-err));
		nl = list_edit(*lp, NULL, id);
		if (nl)
			publish(lp, nl);
		rehook(site, false, NULL, 0);	/* the others keep running */
		free(a);
		emu_prog_close(prog);
		stats.failed++;
		return err;
	}
	if (sem)
		__atomic_fetch_add((uint16_t *)(uintptr_t)sem, 1, __ATOMIC_RELAXED);
	a->link_id = id;
	a->kind = l->kind;
	a->site = site;
	a->prog = prog;
	a->semaphore = sem;
	a->next = attached;
	attached = a;
	stats.attached++;
	return 0;
}

static int attach_tracepoint(struct shm_session *s, uint32_t id,
			     const struct link_obj *l)
{
	struct emu_prog *prog;
	struct attached *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return -ENOMEM;
	err = emu_prog_open(s, l->prog_id, &prog);
	if (!err)
		err = emu_prog_instantiate(prog, emu_vm(), true);
	else
		prog = NULL;
	if (!err)
		err = attach_syscall_add(id, l->path, prog, l->cookie);
	if (err) {
		vm_log(BPFX_WARN, "bpfx agent: link %u (%s): %s\n", id, l->path,
		       strerror(-err));
		emu_prog_close(prog);
		free(a);
		stats.failed++;
		return err;
	}
	a->link_id = id;
	a->kind = LINK_TRACEPOINT;
	a->prog = prog;
	a->next = attached;
	attached = a;
	stats.attached++;
	return 0;
}

int attach_sync(struct shm_session *s)
{
	struct mapping *maps = NULL;
	size_t nmaps = 0;
	struct attached **pa, *a;
	uint32_t id = 0;
	int err, pending = 0;

	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_atfork);
	attach_quiet_begin(); /* our syscalls here are not the host's */
	pthread_mutex_lock(&lock);
	/* drop what is gone or detached */
	for (pa = &attached; (a = *pa);) {
		const struct link_obj *l;
		void *mem;
		size_t size;
		bool gone = emu_link_map(s, a->link_id, &l, &mem, &size) != 0;

		if (!gone) {
			gone = __atomic_load_n(&l->detached, __ATOMIC_ACQUIRE);
			shm_obj_unmap(mem, size);
		}
		if (gone) {
			*pa = a->next;
			detach_one(a);
			free(a);
			continue;
		}
		pa = &a->next;
	}
	err = read_maps(&maps, &nmaps);
	if (err)
		goto out;
	while (!shm_obj_next_id(s, SHM_LINK, id, &id)) {
		const struct link_obj *l;
		void *mem;
		size_t size;

		if (find_attached(id) || emu_link_map(s, id, &l, &mem, &size))
			continue;
		if (!l->detached && ((l->pid < 0 && !own_only) || l->pid == getpid())) {
			if (l->kind == LINK_TRACEPOINT)
				attach_tracepoint(s, id, l);
			else if (attach_one(s, id, l, maps, nmaps) == -ENOENT)
				pending++;
		}
		shm_obj_unmap(mem, size);
	}
	stats.pending = (uint32_t)pending;
out:
	free(maps);
	pthread_mutex_unlock(&lock);
	attach_quiet_end();
	return err;
}

void attach_detach_all(void)
{
	struct attached *a;

	pthread_mutex_lock(&lock);
	while ((a = attached)) {
		attached = a->next;
		detach_one(a);
		free(a);
	}
	pthread_mutex_unlock(&lock);
}

void attach_get_stats(struct attach_stats *out)
{
	pthread_mutex_lock(&lock);
	*out = stats;
	pthread_mutex_unlock(&lock);
}

void attach_set_own_only(bool on)
{
	own_only = on;
}
