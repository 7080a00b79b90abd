/* SPDX-License-Identifier: MIT */
/*
 * hook.c - install/remove, handler dispatch, return probes, quiescence.
 *
 * Lifetime. A struct hook (with its trampoline) is built once per function
 * and never freed: after hook_remove() it stays on the append-only
 * hook_all list, idle (h->fn = a no-op), and the next hook_install() on the
 * same function (same bytes, same HOOK_F_NO_VECTOR) reuses it, trampoline
 * and all.
 * So no thread can run freed or rewritten code, whatever it was doing when
 * the hook went away; the cost is ~1 KiB per distinct function ever hooked.
 *
 * Handlers. The entry stub calls h->fn(h->arg, regs): the user's entry
 * handler directly when there is no return probe (fastest), else
 * hook_dispatch_entry(h, regs). Removal stores h->fn = hook_noop_entry.
 *
 * Quiescence: when hook_remove() returns, no thread runs, or will run, a
 * handler of the removed hook. Each thread has, in initial-exec TLS, a
 * sequence number the stubs bump around the handler call (odd = inside;
 * plain add, no lock prefix). hook_remove() restores the bytes, stores the
 * no-op, runs membarrier(PRIVATE_EXPEDITED) (a full barrier on every thread
 * at once: it orders our store before their seq loads, their seq stores
 * before their h->fn loads, without a fence on the fast path), then waits
 * for each registered thread whose seq is odd to move on. Threads register
 * (a mutex-protected list) on their first hit, before their first seq bump.
 * The same odd seq marks nesting: a hooked function called from inside a
 * handler runs without handlers (as the kernel's bpf_prog_active).
 *
 * Return probes. On entry the real return address is pushed on a
 * per-thread shadow stack {ret, sp, hook, gen} and the entry stub calls the
 * function, so [sp] holds the trampoline's landing (tramp.c), which goes on
 * to the return stub. The return stub pops the frame whose sp matches
 * (regs->sp - 8) and returns to its ret. Frames skipped by longjmp (or a
 * C++ throw, or a thread cancel) are detected by stack pointer, as the
 * kernel does:
 * on entry, frames with sp <= the current sp are dead (their function's
 * stack was reused); on return, frames below the returning one are dead.
 * Limitation: a hooked function entered on a sigaltstack or another
 * coroutine stack placed above the interrupted one would discard live
 * frames; the shadow stack is 64 Ki frames (1.5 MiB virtual, touched on
 * demand), deeper calls go unprobed (counted in hook_nmissed()).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hook/hook_internal.h"

#define SHADOW_CAP 65536u

static __thread struct hook_thread tls __attribute__((tls_model("initial-exec")));

long hook_tls_seq_off, hook_tls_reg_off;
struct hook *hook_all;

static pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hook_thread reg_head = { .next = &reg_head, .prev = &reg_head };
static pthread_key_t reg_key;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;

/* -------------------------------------------------------------- threads */

static uint64_t thread_pointer(void)
{
	uint64_t tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}

static void thread_gone(void *p)
{
	struct hook_thread *t = p;
	struct hook_shadow *s = t->ss;

	pthread_mutex_lock(&reg_lock);
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = t;
	pthread_mutex_unlock(&reg_lock);
	t->registered = 0;
	t->ss = NULL;
	if (s)
		munmap(s, sizeof(*s) + SHADOW_CAP * sizeof(s->f[0]));
}

void hook_thread_register(void)
{
	struct hook_thread *t = &tls;

	if (t->registered)
		return;
	t->registered = 1;	/* first: a nested hit must not come back */
	t->tid = (int)syscall(SYS_gettid);
	pthread_mutex_lock(&reg_lock);
	t->next = reg_head.next;
	t->prev = &reg_head;
	reg_head.next->prev = t;
	reg_head.next = t;
	pthread_mutex_unlock(&reg_lock);
	pthread_setspecific(reg_key, t);
}

/* Wait until no other thread is inside a handler it entered before now. */
static void quiesce(void)
{
	struct hook_thread *t, *self = &tls;

	hook_sync_threads();
	pthread_mutex_lock(&reg_lock);
	for (t = reg_head.next; t != &reg_head; t = t->next) {
		uint64_t s = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);

		if (t == self || !(s & 1))
			continue;
		while (__atomic_load_n(&t->seq, __ATOMIC_ACQUIRE) == s)
			sched_yield();
	}
	pthread_mutex_unlock(&reg_lock);
}

static void init(void)
{
	uint64_t tp = thread_pointer();

	hook_tls_seq_off = (long)((uint64_t)(uintptr_t)&tls.seq - tp);
	hook_tls_reg_off = (long)((uint64_t)(uintptr_t)&tls.registered - tp);
	if (pthread_key_create(&reg_key, thread_gone)) {
		init_err = -EAGAIN;
		return;
	}
	init_err = hook_patch_init();
}

/* ------------------------------------------------------------- dispatch */

int hook_runtime_init(void)
{
	pthread_once(&init_once, init);
	return init_err;
}

int hook_noop_entry(void *ctx, struct hook_regs *regs)
{
	return HOOK_CONTINUE;
}

static struct hook_shadow *shadow(void)
{
	struct hook_shadow *s = tls.ss;

	if (__builtin_expect(s != NULL, 1))
		return s;
	s = mmap(NULL, sizeof(*s) + SHADOW_CAP * sizeof(s->f[0]),
		 PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	s->cap = SHADOW_CAP;
	tls.ss = s;
	return s;
}

int hook_dispatch_entry(struct hook *h, struct hook_regs *regs)
{
	struct hook_shadow *s;
	struct hook_frame *f;
	uint32_t top;

	if (h->on_entry) {
		int v = h->on_entry(h->ctx, regs);

		if (v != HOOK_CONTINUE)
			return v;	/* skipped: no return to probe */
	}
	if (!h->on_return)
		return HOOK_CONTINUE;
	s = shadow();
	if (!s) {
		__atomic_add_fetch(&h->nmissed, 1, __ATOMIC_RELAXED);
		return HOOK_CONTINUE;
	}
	top = s->top;
	while (top && s->f[top - 1].sp <= regs->sp)
		top--;			/* dead frames (longjmp) */
	if (top == s->cap) {
		s->top = top;
		__atomic_add_fetch(&h->nmissed, 1, __ATOMIC_RELAXED);
		return HOOK_CONTINUE;
	}
	f = &s->f[top];
	f->ret = *(uint64_t *)(uintptr_t)regs->sp;
	f->sp = regs->sp;
	f->h = h;
	f->gen = h->gen;
	s->top = top + 1;
	return HOOK_CALL_THROUGH;	/* the stub calls the function */
}

void hook_dispatch_return(struct hook_regs *regs)
{
	struct hook_shadow *s = tls.ss;
	uint64_t slot = regs->sp - 8;
	struct hook_frame f;
	uint32_t top = s ? s->top : 0;

	while (top && s->f[top - 1].sp < slot)
		top--;			/* dead frames below us */
	if (!top || s->f[top - 1].sp != slot)
		abort();		/* no return address: cannot go on */
	f = s->f[top - 1];
	s->top = top - 1;
	regs->ip = f.ret;
	if (f.gen == __atomic_load_n(&f.h->gen, __ATOMIC_ACQUIRE) &&
	    f.h->on_return)
		f.h->on_return(f.h->ctx, regs);
}

/* ------------------------------------------------------------------ API */

int hook_regs_override_return(struct hook_regs *regs, unsigned long rc)
{
	regs->ax = rc;
	regs->ip = *(unsigned long *)(uintptr_t)regs->sp;
	regs->sp += 8;
	return HOOK_REDIRECT;
}

uint64_t hook_nmissed(const struct hook *h)
{
	return h ? __atomic_load_n(&h->nmissed, __ATOMIC_RELAXED) : 0;
}

static bool needs_evacuation(const struct hook_plan *p)
{
	for (unsigned i = 1; i < p->ninsn; i++)
		if (p->off[i] < HOOK_JMP_LEN)
			return true;
	return false;
}

static struct hook *cached(const struct hook_plan *p, bool novec,
			   int *err, char *why, size_t whylen)
{
	struct hook *h;

	for (h = hook_all; h; h = h->next) {
		if (h->plan.func != p->func)
			continue;
		if (h->installed) {
			*err = hook_why(why, whylen, -EEXIST,
					"function already hooked");
			return NULL;
		}
		if (h->novec == novec && h->plan.len == p->len &&
		    !memcmp(h->plan.orig, p->orig, sizeof(p->orig)))
			return h;
	}
	return NULL;
}

int hook_install(void *func, const struct hook_desc *d, struct hook **out)
{
	char *why = d && d->sz >= sizeof(*d) ? d->why : NULL;
	size_t wl = why ? d->whylen : 0;
	struct hook_plan plan;
	struct hook_patch p;
	struct hook *h;
	bool novec;
	int err = 0;

	if (!d || d->sz < offsetof(struct hook_desc, why) || !out ||
	    (!d->on_entry && !d->on_return))
		return hook_why(why, wl, -EINVAL, "bad hook descriptor");
	pthread_once(&init_once, init);
	if (init_err)
		return hook_why(why, wl, init_err,
				"hook runtime unavailable (signals/membarrier)");
	novec = !!(d->flags & HOOK_F_NO_VECTOR);

	pthread_mutex_lock(&api_lock);
	err = hook_can_patch(func, &plan, why, wl);
	if (err)
		goto out_unlock;
	h = cached(&plan, novec, &err, why, wl);
	if (err)
		goto out_unlock;
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h) {
			err = -ENOMEM;
			goto out_unlock;
		}
		h->plan = plan;
		h->novec = novec;
		h->fn = (void *)hook_noop_entry;
		err = hook_tramp_build(h, why, wl);
		if (err) {
			free(h);	/* its slot stays unused */
			goto out_unlock;
		}
		h->next = hook_all;
		__atomic_store_n(&hook_all, h, __ATOMIC_RELEASE);
	}
	h->on_entry = d->on_entry;
	h->on_return = d->on_return;
	h->ctx = d->ctx;
	h->nmissed = 0;
	/* arg before fn: the stub loads fn first (x86 keeps both orders) */
	if (d->on_return) {
		__atomic_store_n(&h->arg, (void *)h, __ATOMIC_RELEASE);
		__atomic_store_n(&h->fn, (void *)hook_dispatch_entry,
				 __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&h->arg, d->ctx, __ATOMIC_RELEASE);
		__atomic_store_n(&h->fn, (void *)d->on_entry, __ATOMIC_RELEASE);
	}
	p.h = h;
	p.bytes = h->jmp;
	p.evacuate = needs_evacuation(&h->plan);
	err = hook_patch_apply(&p, 1, why, wl);
	if (err) {
		__atomic_store_n(&h->fn, (void *)hook_noop_entry,
				 __ATOMIC_RELEASE);
		goto out_unlock;
	}
	h->installed = true;
	*out = h;
out_unlock:
	pthread_mutex_unlock(&api_lock);
	return err;
}

int hook_remove_many(struct hook **hs, int n)
{
	struct hook_patch *ps;
	int err = 0, k = 0;

	if (n <= 0 || !hs)
		return 0;
	ps = calloc((size_t)n, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	pthread_mutex_lock(&api_lock);
	for (int i = 0; i < n; i++) {
		struct hook *h = hs[i];

		if (!h || !h->installed)
			continue;
		if (memcmp((void *)(uintptr_t)h->plan.site, h->jmp,
			   HOOK_JMP_LEN)) {
			err = -EBUSY;	/* someone patched over us */
			continue;
		}
		ps[k].h = h;
		ps[k].bytes = h->plan.orig;
		ps[k].evacuate = false;	/* nothing runs inside a jmp */
		k++;
	}
	if (k) {
		int e = hook_patch_apply(ps, k, NULL, 0);

		if (e)
			err = e;
		for (int i = 0; i < k && !e; i++) {
			struct hook *h = ps[i].h;

			__atomic_store_n(&h->fn, (void *)hook_noop_entry,
					 __ATOMIC_RELEASE);
			__atomic_add_fetch(&h->gen, 1, __ATOMIC_RELEASE);
			h->installed = false;
		}
		if (!e)
			quiesce();
	}
	pthread_mutex_unlock(&api_lock);
	free(ps);
	return err;
}

int hook_remove(struct hook *h)
{
	return h ? hook_remove_many(&h, 1) : 0;
}
