/* SPDX-License-Identifier: MIT */
/*
 * syscall.c - syscall tracepoints in userspace: which programs run on
 * which syscall, the contexts they see, and the dispatch around the
 * syscall itself.
 *
 * Interception (sys_rewrite.c, sys_sud.c) brings every syscall of the
 * process to one stub. Its fast path reads one byte, sys_active[nr], and
 * executes the syscall when no program wants that number. Otherwise it
 * saves the caller's registers in a struct sys_frame and calls
 * sys_enter_hook (raw_syscalls/sys_enter programs, then
 * syscalls/sys_enter_<name>), executes the syscall unless a program
 * called bpf_override_return (the syscall is then skipped and returns the
 * program's value), and calls sys_exit_hook (raw_syscalls/sys_exit, then
 * syscalls/sys_exit_<name>).
 *
 * Contexts are the kernel's (tracefs "format" files): 8 common bytes
 * (common_type = the event id, common_pid = the thread id), then at 8 the
 * syscall number (int __syscall_nr, or long id for raw_syscalls: the same
 * 8 bytes for any number >= 0), then the 6 arguments at 16 (sys_enter)
 * or long ret at 16 (sys_exit). So unmodified libbpf-tools programs read
 * ctx->args[1] or ctx->ret as they do in the kernel.
 *
 * Program lists per syscall are immutable once published (one atomic
 * store); replaced lists are kept (chained on `retired`), a thread may
 * still walk them; they are small and bounded by attach operations. Reentrancy: while a thread runs programs (sys_self.busy), the
 * syscalls those programs and their helpers make pass untraced, and the
 * thread's SUD selector is open, so bpfx's own code never traps itself.
 *
 * clone, clone3 and vfork return on another stack (or on a stack the
 * child scribbles on); the stub treats them apart (sys_rewrite.c). The
 * hooks below keep their argument registers exactly as the caller had
 * them and turn on SUD in every new thread and child process.
 *
 * Interception is installed with the first syscall link of the process
 * and removed (every rewritten byte restored) with the last.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach/attach.h"
#include "attach/attach_internal.h"
#include "attach/sys_internal.h"
#include "hook/hook_internal.h"
#include "vm/vm_internal.h"

struct sys_prog {
	const struct bpfx_prog *prog;
	sys_jit_fn fn; /* NULL: interpreter */
	uint64_t cookie;
	uint32_t link_id;
	uint16_t event_id;
	bool novec;	/* vm_prog_vector_free() */
	bool plain;	/* vm_prog_helper_free(): needs no vm_run */
};

struct sys_list {
	uint32_t n;
	struct sys_list *retired; /* chain of replaced lists, kept */
	struct sys_prog e[];
};

struct sys_link {
	uint32_t link_id;
	struct sys_tp tp;
	struct sys_link *next;
};

/* The kernel's common header of every trace event. */
struct tp_common {
	uint16_t type;
	uint8_t flags;
	uint8_t preempt_count;
	int32_t pid;
};

/* syscalls/sys_enter_* (int __syscall_nr at 8) and raw_syscalls/sys_enter
 * (long id at 8) share this layout for nr >= 0: the stub's frame begins
 * with it (struct sys_frame), so programs read the frame itself. */
struct ctx_enter {
	struct tp_common c;
	int64_t nr;
	uint64_t args[6];
};

struct ctx_exit {
	struct tp_common c;
	int64_t nr;
	int64_t ret;
};

_Static_assert(sizeof(struct tp_common) == 8, "common fields: 8 bytes");
_Static_assert(__builtin_offsetof(struct ctx_enter, args) == 16, "args at 16");
_Static_assert(__builtin_offsetof(struct ctx_exit, ret) == 16, "ret at 16");
_Static_assert(sizeof(struct ctx_enter) == 64, "sys_enter context");
_Static_assert(__builtin_offsetof(struct sys_frame, nr) ==
		       __builtin_offsetof(struct ctx_enter, nr) &&
	       __builtin_offsetof(struct sys_frame, args) ==
		       __builtin_offsetof(struct ctx_enter, args),
	       "the frame is the sys_enter context");

__thread struct sys_thread sys_self __attribute__((tls_model("initial-exec")));
uint8_t sys_active[SYS_NR_MAX];
sys_jit_fn sys_plain_fn[SYS_NR_MAX];
uint16_t sys_plain_type[SYS_NR_MAX];

static struct sys_list *enter_l[SYS_NR_MAX], *exit_l[SYS_NR_MAX];
static struct sys_list *raw_enter, *raw_exit;
/* the entry of a number's only enter program when it is vector-free JIT
 * code (SYS_A_ONE): sys_enter_one runs it without walking lists */
static const struct sys_prog *one_enter[SYS_NR_MAX];
static struct sys_link *links;
static struct sys_list *retired; /* never freed: a thread may walk them */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bool installed;

bool sys_installed(void)
{
	return __atomic_load_n(&installed, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ dispatch */

/* The cache is cleared where a child may have filled it in memory it
 * shared with its parent (vfork, clone with CLONE_VM and no new TLS). */
static int32_t current_tid(struct sys_thread *t)
{
	if (__builtin_expect(!t->tid, 0))
		t->tid = (int32_t)sys_raw6(SYS_gettid, 0, 0, 0, 0, 0, 0);
	return t->tid;
}

/* @vec: the stub saved xmm0-15. Without, a program that may touch them
 * is skipped: only possible for a syscall in flight while that program
 * was being attached (update_active sets SYS_A_VEC right after). */
static void run_list(const struct sys_list *l, void *ctx, uint64_t len,
		     uint64_t vec)
{
	uint32_t i;
	uint64_t r0;

	for (i = 0; i < l->n; i++) {
		const struct sys_prog *e = &l->e[i];

		if (!vec && !e->novec)
			continue;
		((struct tp_common *)ctx)->type = e->event_id;
		vm_run.prog = e->prog;
		vm_run.cookie = e->cookie;
		if (e->fn)
			e->fn(ctx, len);
		else
			bpfx_prog_run(e->prog, BPFX_ENGINE_INTERP, ctx, len, &r0);
	}
	vm_run.prog = NULL;
}

static inline struct sys_list *load_list(struct sys_list **p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* The selector this thread returns to the application with. */
static inline uint8_t app_selector(const struct sys_thread *t)
{
	return t->sud && sys_installed() ? SYS_SEL_BLOCK : SYS_SEL_ALLOW;
}

/* mmap/mprotect making memory executable: new code to rewrite, or a
 * JIT's that only the SUD net can watch */
static bool watches_code(uint64_t nr)
{
	return nr == SYS_mmap || nr == SYS_mprotect || nr == SYS_pkey_mprotect;
}

static void new_code(struct sys_thread *t, const struct sys_frame *f)
{
	uint64_t start = f->nr == SYS_mmap ? f->ret : f->args[0];

	if ((int64_t)f->ret < 0 && f->ret > (uint64_t)-4096)
		return;
	if (!(f->args[2] & PROT_EXEC))
		return;
	t->busy = 1;
	t->selector = SYS_SEL_ALLOW;
	if (sys_rewrite_new_code(start, f->args[1]))
		sys_sud_net_on();
	t->busy = 0;
	t->selector = app_selector(t);
}

void sys_exit_hook(struct sys_frame *f)
{
	struct sys_thread *t = &sys_self;
	struct sys_list *raw, *l = NULL;
	struct ctx_exit ctx;

	if (t->busy)
		return;
	if (watches_code(f->nr) && sys_installed())
		new_code(t, f);
	raw = load_list(&raw_exit);
	if (f->nr < SYS_NR_MAX)
		l = load_list(&exit_l[f->nr]);
	if (!raw && !l)
		return;
	t->busy = 1;
	t->selector = SYS_SEL_ALLOW;
	memset(&ctx.c, 0, sizeof(ctx.c));
	ctx.c.pid = current_tid(t);
	ctx.nr = (int64_t)f->nr;
	ctx.ret = (int64_t)f->ret;
	if (raw)
		run_list(raw, &ctx, sizeof(ctx), f->vec);
	if (l)
		run_list(l, &ctx, sizeof(ctx), f->vec);
	t->busy = 0;
	t->selector = app_selector(t);
}

/* rt_sigaction(SIGSYS or SIGTRAP) of the application while our handler
 * must stay: done on the action ours chains to. 1 when done (f->ret). */
static int sigaction_interposed(struct sys_frame *f, bool traps)
{
	struct hook_ksigaction ka, old;
	long rc;

	if (f->args[3] != 8)
		return 0;
	if (f->args[0] == SIGSYS && sys_sud_sigaction(f->args[1], f->args[2], &rc)) {
		f->ret = (uint64_t)rc;
		return 1;
	}
	if (f->args[0] != SIGTRAP || !traps)
		return 0;
	f->ret = (uint64_t)-EFAULT;
	if (f->args[1] &&
	    vm_nofault_copy(&ka, (const void *)(uintptr_t)f->args[1], sizeof(ka)))
		return 1;
	hook_trap_chained(&old, f->args[1] ? &ka : NULL);
	if (f->args[2] && vm_nofault_copy((void *)(uintptr_t)f->args[2], &old, sizeof(old)))
		return 1;
	f->ret = 0;
	return 1;
}

/*
 * Syscall User Dispatch delivers SIGSYS for a syscall it catches; with
 * SIGSYS blocked the kernel kills the process instead. glibc blocks every
 * signal before a thread exits, handlers are often installed with a full
 * sa_mask: any syscall SUD catches then would be fatal. So SIGSYS never
 * gets blocked: rt_sigprocmask and rt_sigaction go to the kernel with it
 * taken out of their sets (as lazypoline does). An application cannot
 * block SIGSYS under bpfx; it can still catch or ignore it: while SUD's
 * handler is in place, an rt_sigaction of SIGSYS itself is done on the
 * action SUD's handler chains to (sys_sud_sigaction). The same for
 * SIGTRAP while per-site mode has int3 sites (sys_rewrite_trap_sites).
 * 1: done here, f->ret holds the result. @own: a syscall of bpfx's own
 * code (busy): masks are still fixed, its sigactions are not interposed.
 */
static int keep_sigsys_open(struct sys_thread *t, struct sys_frame *f, bool own)
{
	const bool traps = sys_rewrite_trap_sites();
	const uint64_t keep = 1ull << (SIGSYS - 1) | (traps ? 1ull << (SIGTRAP - 1) : 0);

	if (f->nr == SYS_rt_sigprocmask) {
		if (!f->args[1] || f->args[3] != 8 ||
		    (f->args[0] != SIG_BLOCK && f->args[0] != SIG_SETMASK) ||
		    vm_nofault_copy(&t->mask_copy,
				    (const void *)(uintptr_t)f->args[1], 8) ||
		    !(t->mask_copy & keep))
			return 0; /* bad ones: the kernel's answer stands */
		t->mask_copy &= ~keep;
		f->args[1] = (uint64_t)(uintptr_t)&t->mask_copy;
	} else if (f->nr == SYS_rt_sigaction) {
		if (!own && sigaction_interposed(f, traps))
			return 1;
		/* struct kernel_sigaction: handler, flags, restorer, mask */
		if (!f->args[1] || f->args[3] != 8 ||
		    vm_nofault_copy(t->act_copy,
				    (const void *)(uintptr_t)f->args[1], 32) ||
		    !(t->act_copy[3] & keep))
			return 0;
		t->act_copy[3] &= ~keep;
		f->args[1] = (uint64_t)(uintptr_t)t->act_copy;
	}
	return 0;
}

static inline uint64_t common_hdr(uint16_t type, int32_t pid)
{
	return (uint64_t)(uint32_t)pid << 32 | type;
}

int sys_enter_hook(struct sys_frame *f)
{
	struct sys_thread *t = &sys_self;
	struct sys_list *raw, *l = NULL;
	int skip = 0;

	if (t->busy) /* bpfx's own syscall: untraced, SIGSYS/SIGTRAP kept open */
		return keep_sigsys_open(t, f, true);
	raw = load_list(&raw_enter);
	if (f->nr < SYS_NR_MAX)
		l = load_list(&enter_l[f->nr]);
	if (raw || l) {
		t->busy = 1;
		t->selector = SYS_SEL_ALLOW;
		f->hdr = common_hdr(0, current_tid(t));
		vm_run.override = 0;
		if (raw)
			run_list(raw, f, sizeof(struct ctx_enter), f->vec);
		if (l)
			run_list(l, f, sizeof(struct ctx_enter), f->vec);
		if (vm_run.override) {
			/* bpf_override_return: the syscall is not made */
			vm_run.override = 0;
			f->ret = vm_run.override_rc;
			skip = 1;
		}
		t->busy = 0;
	}
	t->selector = app_selector(t);
	if (!skip)
		skip = keep_sigsys_open(t, f, false);
	if (skip)
		sys_exit_hook(f);
	return skip;
}

/* sys_enter_hook for a number whose only enter program is vector-free
 * JIT code (no list walk, no sigset fix-ups: SYS_A_ONE is never set for
 * rt_sigprocmask or rt_sigaction). */
int sys_enter_one(struct sys_frame *f)
{
	struct sys_thread *t = &sys_self;
	const struct sys_prog *e = __atomic_load_n(&one_enter[f->nr], __ATOMIC_ACQUIRE);

	if (__builtin_expect(t->busy || !t->tid || !e, 0))
		return sys_enter_hook(f);
	t->busy = 1;
	t->selector = SYS_SEL_ALLOW;
	f->hdr = common_hdr(e->event_id, t->tid);
	if (e->plain) {
		e->fn(f, sizeof(struct ctx_enter));
		t->busy = 0;
		t->selector = app_selector(t);
		return 0;
	}
	vm_run.prog = e->prog;
	vm_run.cookie = e->cookie;
	vm_run.override = 0;
	e->fn(f, sizeof(struct ctx_enter));
	vm_run.prog = NULL;
	t->busy = 0;
	t->selector = app_selector(t);
	if (__builtin_expect(!vm_run.override, 1))
		return 0;
	vm_run.override = 0; /* bpf_override_return: the syscall is not made */
	f->ret = vm_run.override_rc;
	sys_exit_hook(f);
	return 1;
}

/*
 * clone/clone3 with a new stack: the child starts on that stack, so the
 * stub's return address is pushed there too (and the number and flags
 * below it, for a child whose TLS is fresh). The caller's view stays the
 * same: clone's stack register is put back in both parent and child,
 * clone3's stack_size in the parent.
 */
#define CLONE_MARK_ADJ (1ull << 63)

int sys_clone_prepare(struct sys_frame *f)
{
	struct sys_thread *t = &sys_self;
	uint64_t flags, newsp = 0;
	struct clone_args *ca = NULL;

	if (sys_enter_hook(f))
		return 1;
	if (f->nr == SYS_clone) {
		flags = f->args[0];
		newsp = f->args[1];
	} else {
		ca = (struct clone_args *)(uintptr_t)f->args[0];
		if (!ca || f->args[1] < CLONE_ARGS_SIZE_VER0)
			return 0; /* the kernel will refuse it */
		flags = ca->flags;
		if (ca->stack && ca->stack_size > 16)
			newsp = ca->stack + ca->stack_size;
	}
	t->clone_nr = f->nr;
	t->clone_flags = flags;
	if (newsp && !(newsp & 7)) {
		uint64_t *top = (uint64_t *)(uintptr_t)newsp;

		top[-1] = f->ip;
		top[-2] = f->nr;
		top[-3] = flags;
		if (ca)
			ca->stack_size -= 8;
		else
			f->args[1] = newsp - 8;
		t->clone_flags |= CLONE_MARK_ADJ;
	}
	return 0;
}

void sys_clone_child(struct sys_frame *f)
{
	struct sys_thread *t = &sys_self;
	uint64_t nr = t->clone_nr, flags = t->clone_flags;

	if (!nr) { /* fresh TLS (a new thread): read what the parent left */
		const uint64_t *sp = (const uint64_t *)(uintptr_t)f->sp;

		nr = sp[-1];
		flags = sp[-2] | CLONE_MARK_ADJ;
	}
	t->clone_nr = 0;
	t->clone_flags = 0;
	t->tid = 0;
	t->busy = 0;
	t->sud = 0; /* SUD is not inherited by threads nor children */
	if (nr == SYS_clone && (flags & CLONE_MARK_ADJ) && f->sp == f->args[1])
		f->args[1] += 8;
	if (sys_installed() && sys_sud_net())
		sys_sud_thread_on();
	f->nr = nr;
	f->ret = 0;
	if (nr == SYS_clone || nr == SYS_clone3)
		sys_exit_hook(f);
}

void sys_clone_parent(struct sys_frame *f)
{
	struct sys_thread *t = &sys_self;
	uint64_t nr = t->clone_nr;

	f->ret = f->nr; /* the stub saved rax = the result in both slots */
	f->nr = nr;
	if (t->clone_flags & CLONE_MARK_ADJ) {
		if (nr == SYS_clone)
			f->args[1] += 8;
		else if (nr == SYS_clone3)
			((struct clone_args *)(uintptr_t)f->args[0])->stack_size += 8;
	}
	t->clone_nr = 0;
	t->clone_flags = 0;
	t->tid = 0; /* a CLONE_VM child may have cached its own */
	if (nr == SYS_clone || nr == SYS_clone3)
		sys_exit_hook(f);
}

/* The vfork child, on its parent's memory and TLS: its thread id is not
 * the parent's it would find cached (sys_vfork_parent clears what it
 * caches meanwhile), and SUD, not inherited, goes on in it too. */
void sys_vfork_child(struct sys_frame *f)
{
	struct sys_thread *t = &sys_self;

	t->tid = 0;
	if (sys_installed() && sys_sud_net())
		sys_sud_thread_on();
	f->ret = 0;
}

void sys_vfork_parent(struct sys_frame *f)
{
	sys_self.tid = 0; /* the child ran on this thread's memory */
	f->ret = f->nr;
	f->nr = SYS_vfork;
	sys_exit_hook(f);
}

/* ------------------------------------------------------------ registry */

static struct sys_list **list_slot(const struct sys_tp *tp)
{
	switch (tp->kind) {
	case SYS_TP_ENTER:
		return &enter_l[tp->nr];
	case SYS_TP_EXIT:
		return &exit_l[tp->nr];
	case SYS_TP_RAW_ENTER:
		return &raw_enter;
	default:
		return &raw_exit;
	}
}

/* A copy of @l with @add appended (add != NULL) or link @drop removed;
 * NULL (and *err 0) when the result is empty. */
static struct sys_list *list_edit(const struct sys_list *l,
				  const struct sys_prog *add, uint32_t drop,
				  int *err)
{
	uint32_t n = l ? l->n : 0, i, k = 0;
	struct sys_list *nl;

	*err = 0;
	nl = calloc(1, sizeof(*nl) + (n + 1) * sizeof(nl->e[0]));
	if (!nl) {
		*err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (add || l->e[i].link_id != drop)
			nl->e[k++] = l->e[i];
	if (add)
		nl->e[k++] = *add;
	nl->n = k;
	if (!k) {
		free(nl);
		return NULL;
	}
	return nl;
}

static void publish(struct sys_list **slot, struct sys_list *nl)
{
	struct sys_list *old = *slot;

	__atomic_store_n(slot, nl, __ATOMIC_RELEASE);
	if (old) {
		old->retired = retired;
		retired = old;
	}
}

static bool list_vec(const struct sys_list *l)
{
	for (uint32_t i = 0; l && i < l->n; i++)
		if (!l->e[i].novec)
			return true;
	return false;
}

/* The entry of the only enter program of @nr, if vector-free JIT code. */
static const struct sys_prog *only_enter(unsigned nr)
{
	const struct sys_list *l = enter_l[nr];
	const struct sys_prog *e;

	if (raw_enter && l)
		return NULL;
	if (!l)
		l = raw_enter;
	if (!l || l->n != 1)
		return NULL;
	e = &l->e[0];
	return e->novec ? e : NULL;
}

static void update_active(void)
{
	bool raw = raw_enter || raw_exit;
	bool raw_vec = list_vec(raw_enter) || list_vec(raw_exit);
	unsigned nr;

	for (nr = 0; nr < SYS_NR_MAX; nr++) {
		const struct sys_prog *one = only_enter(nr);
		uint8_t a = 0;

		if (raw || enter_l[nr] || exit_l[nr] || watches_code(nr))
			a |= SYS_A_TRACED;
		if (nr == SYS_rt_sigprocmask || nr == SYS_rt_sigaction)
			a |= SYS_A_TRACED | SYS_A_ENTER | SYS_A_VEC;
						/* keep_sigsys_open() */
		if (raw_vec || list_vec(enter_l[nr]) || list_vec(exit_l[nr]) ||
		    watches_code(nr) || ATTACH_SANITIZED)
			a |= SYS_A_VEC;
		if (raw_exit || exit_l[nr])
			a |= SYS_A_EXIT;
		if (raw_enter || enter_l[nr])
			a |= SYS_A_ENTER;
		if (nr == SYS_rt_sigreturn || nr == SYS_clone || nr == SYS_clone3 ||
		    nr == SYS_vfork)
			a |= SYS_A_SPECIAL;
		/* the entries first: the stub may read them once the bit is up
		 * (and finds NULL, then takes the lists, if it read it before
		 * they changed) */
		if (one && (a & (SYS_A_VEC | SYS_A_SPECIAL)))
			one = NULL;
		__atomic_store_n(&one_enter[nr], one, __ATOMIC_RELEASE);
		if (one && one->plain) {
			__atomic_store_n(&sys_plain_type[nr], one->event_id, __ATOMIC_RELAXED);
			__atomic_store_n(&sys_plain_fn[nr], one->fn, __ATOMIC_RELEASE);
			a |= SYS_A_PLAIN;
		} else {
			__atomic_store_n(&sys_plain_fn[nr], NULL, __ATOMIC_RELEASE);
		}
		if (one)
			a |= SYS_A_ONE;
		__atomic_store_n(&sys_active[nr], a, __ATOMIC_RELEASE);
	}
}

/* A child forked while another thread held these (sys_prog_add from a
 * test, new code scanned after an mmap) would wait on them forever. */
static void fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	sys_rewrite_after_fork();
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

static int install(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const char *env = getenv("BPFX_SYSCALL_SUD");
	struct sys_stats st;
	int err;

	pthread_once(&once, register_atfork);
	vm_nofault_init(); /* keep_sigsys_open, SUD: reads of app memory */
	err = sys_rewrite_install();
	if (err < 0)
		return err;
	__atomic_store_n(&installed, true, __ATOMIC_RELEASE);
	if (err > 0 || (env && !strcmp(env, "always")))
		sys_sud_net_on();
	sys_get_stats(&st);
	if (!st.zpoline && !st.trampolines && !sys_self.sud) {
		__atomic_store_n(&installed, false, __ATOMIC_RELEASE);
		sys_rewrite_uninstall();
		return -EOPNOTSUPP;
	}
	return 0;
}

static void uninstall(void)
{
	__atomic_store_n(&installed, false, __ATOMIC_RELEASE);
	sys_rewrite_uninstall();
	sys_sud_thread_off();
	sys_sud_net_reset();
}

int sys_prog_add(uint32_t link_id, const char *tp, const struct bpfx_prog *prog,
		 sys_jit_fn fn, uint64_t cookie)
{
	struct sys_prog ent = { .prog = prog, .fn = fn, .cookie = cookie,
				.link_id = link_id,
				.novec = fn && vm_prog_vector_free(prog),
				.plain = fn && vm_prog_helper_free(prog) };
	struct sys_list **slot, *nl;
	struct sys_link *k;
	struct sys_tp p;
	int err;

	if (!prog || !tp)
		return -EINVAL;
	err = sys_parse_tp(tp, &p);
	if (err)
		return err;
	ent.event_id = p.event_id;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_lock(&lock);
	sys_self.busy++; /* our own syscalls here are not the host's */
	if (!links) {
		/* mark the table first: the stub must see clone & co. as
		 * special before any site is rewritten */
		update_active();
		err = install();
		if (err)
			goto out_free;
	}
	slot = list_slot(&p);
	nl = list_edit(*slot, &ent, 0, &err);
	if (!nl) {
		if (!links)
			uninstall();
		goto out_free;
	}
	publish(slot, nl);
	k->link_id = link_id;
	k->tp = p;
	k->next = links;
	links = k;
	update_active();
	sys_self.busy--;
	pthread_mutex_unlock(&lock);
	return 0;
out_free:
	sys_self.busy--;
	pthread_mutex_unlock(&lock);
	free(k);
	return err;
}

int sys_prog_remove(uint32_t link_id)
{
	struct sys_link **pk, *k;
	struct sys_list **slot, *nl;
	int err = -ENOENT;

	pthread_mutex_lock(&lock);
	for (pk = &links; (k = *pk); pk = &k->next) {
		if (k->link_id != link_id)
			continue;
		slot = list_slot(&k->tp);
		nl = list_edit(*slot, NULL, link_id, &err);
		if (err)
			break;
		publish(slot, nl);
		*pk = k->next;
		free(k);
		update_active();
		if (!links)
			uninstall();
		break;
	}
	pthread_mutex_unlock(&lock);
	return err;
}

/* ------------------------------------------------- attach layer entry */

/* busy is a count here: dispatch returns at once while it is nonzero, so
 * it never resets what these set */
void attach_thread_quiet(void)
{
	sys_self.busy = 1;
}

void attach_quiet_begin(void)
{
	sys_self.busy++;
}

void attach_quiet_end(void)
{
	sys_self.busy--;
}

int attach_syscall_add(uint32_t link_id, const char *tp, struct emu_prog *prog,
		       uint64_t cookie)
{
	const struct bpfx_prog *vp;

	if (!prog || !prog->vm_prog)
		return -EINVAL;
	vp = prog->vm_prog;
	return sys_prog_add(link_id, tp, vp,
			    prog->engine == BPFX_ENGINE_JIT ? vp->jit_entry : NULL,
			    cookie);
}

void attach_syscall_remove(uint32_t link_id)
{
	sys_prog_remove(link_id);
}
