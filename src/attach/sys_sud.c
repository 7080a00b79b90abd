/* SPDX-License-Identifier: MIT */
/*
 * sys_sud.c - Syscall User Dispatch: the net under the rewritten sites.
 *
 * With PR_SET_SYSCALL_USER_DISPATCH on, a thread whose selector byte reads
 * BLOCK gets SIGSYS for every syscall made outside one address range, here
 * bpfx's stub section (sys_stub_start..sys_stub_end), whose syscalls always
 * pass. The selector is per thread (sys_self.selector): BLOCK while the
 * application runs, ALLOW while bpfx's own code does (dispatch, helpers),
 * so bpfx never traps itself. SUD is per thread and neither inherited by
 * threads nor by children: the clone hooks turn it on in every new thread
 * and child (sys_clone_child), and install signals the threads that exist
 * already (an rt_tgsigqueueinfo SIGSYS carrying SUD_MAGIC).
 *
 * The SIGSYS handler, for a syscall from code that was not rewritten:
 *   - a file-backed site (a library mapped after install, dlopen): rewrite
 *     it now (sys_rewrite_lazy) and resume at it, so it is trapped once;
 *   - rt_sigreturn: resume at a `syscall` inside the stub section with
 *     the same registers, so the kernel sees the caller's signal frame;
 *   - clone/clone3/vfork, which cannot run inside a signal handler:
 *     resume in the stub as a rewritten site would (enter_stub), which
 *     traces them and turns SUD on in the new thread or child;
 *   - rt_sigprocmask: done on the mask the handler's return restores;
 *   - rt_sigsuspend: resume at the site with the selector open (it
 *     passes untraced; the next dispatch closes it again);
 *   - anything else: run it here between sys_enter_hook and
 *     sys_exit_hook and put the result in the interrupted context's rax.
 * When interception has been removed, a trapped thread opens its selector
 * and resumes: threads heal themselves, no thread registry is needed.
 *
 * The handler is installed with the raw rt_sigaction so that its
 * restorer (rt_sigreturn) lies in the stub section too. A SIGSYS that is
 * not SUD's (seccomp) goes to the handler that was there before.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "attach/sys_internal.h"
#include "vm/vm_internal.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

#define SUD_MAGIC 0x62706678 /* "bpfx": turn SUD on in this thread */

struct ksigaction {
	void *handler;
	unsigned long flags;
	const void *restorer;
	uint64_t mask;
};

uint64_t sys_sud_trap_count;
static bool net; /* SUD wanted in every thread */
static struct ksigaction old_sa; /* the application's SIGSYS action */
static bool handler_on;		 /* the kernel has on_sigsys for SIGSYS */
static int sud_state; /* 0 unknown, 1 ready, -errno unavailable */

static uint8_t app_selector(const struct sys_thread *t)
{
	return t->sud && sys_installed() ? SYS_SEL_BLOCK : SYS_SEL_ALLOW;
}

static void chain(int sig, siginfo_t *si, void *uc)
{
	if (old_sa.handler == SIG_IGN)
		return;
	if (old_sa.handler == SIG_DFL) {
		struct ksigaction dfl = { 0 };

		sys_raw6(SYS_rt_sigaction, sig, (long)&dfl, 0, 8, 0, 0);
		sys_raw6(SYS_tgkill, getpid(), sys_raw6(SYS_gettid, 0, 0, 0, 0, 0, 0),
			 sig, 0, 0, 0);
		return;
	}
	if (old_sa.flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))old_sa.handler)(sig, si, uc);
	else
		((void (*)(int))old_sa.handler)(sig);
}

/*
 * rt_sigprocmask caught by SUD, done on the mask the handler's return
 * restores (uc_sigmask: the thread's mask when it trapped), never
 * blocking SIGSYS (see keep_sigsys_open in syscall.c), SIGKILL or SIGSTOP.
 */
static long sigprocmask_in_frame(ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t *cur = (uint64_t *)(void *)&uc->uc_sigmask, set = 0;
	const uint64_t keep = 1ull << (SIGSYS - 1) | 1ull << (SIGKILL - 1) |
			      1ull << (SIGSTOP - 1) |
			      (sys_rewrite_trap_sites() ? 1ull << (SIGTRAP - 1) : 0);
	uint64_t old = *cur;

	if ((uint64_t)g[REG_R10] != 8)
		return -EINVAL;
	if (g[REG_RSI]) {
		if (vm_nofault_copy(&set, (const void *)(uintptr_t)g[REG_RSI], 8))
			return -EFAULT;
		switch (g[REG_RDI]) {
		case SIG_BLOCK:
			*cur = old | (set & ~keep);
			break;
		case SIG_UNBLOCK:
			*cur = old & ~set;
			break;
		case SIG_SETMASK:
			*cur = set & ~keep;
			break;
		default:
			return -EINVAL;
		}
	}
	if (g[REG_RDX])
		*(uint64_t *)(uintptr_t)g[REG_RDX] = old;
	return 0;
}

/*
 * clone, clone3, vfork: resume in the stub as a rewritten site's `call
 * *%rax` would enter it (the return address pushed, rax and the argument
 * registers as they are). Its special path gives a child on a new stack
 * its return address, keeps vfork's off the shared stack, runs the
 * programs and turns SUD on in the new thread or child; its `syscall`
 * lies in the range SUD lets through. false if the stack cannot take
 * the return address.
 */
static bool enter_stub(greg_t *g)
{
	uint64_t ret = (uint64_t)g[REG_RIP];

	if (vm_nofault_copy((void *)(uintptr_t)(g[REG_RSP] - 8), &ret, 8))
		return false;
	g[REG_RSP] -= 8;
	g[REG_RIP] = (greg_t)(uintptr_t)sys_stub;
	return true;
}

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	struct sys_thread *t = &sys_self;
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uint8_t sel = t->selector, in_sud;
	struct sys_frame f;
	uint64_t nr;

	t->selector = SYS_SEL_ALLOW; /* first: nothing below may trap */
	if (si->si_code == SI_QUEUE && si->si_value.sival_int == SUD_MAGIC) {
		if (sys_installed() && sys_sud_net() && !t->sud)
			sys_sud_thread_on();
		else if (!sys_installed() && t->sud)
			sys_sud_thread_off(); /* uninstalled: off for good */
		else
			t->selector = sel;
		return;
	}
	if (si->si_code != SYS_USER_DISPATCH) {
		t->selector = sel;
		chain(sig, si, ucv);
		return;
	}
	__atomic_fetch_add(&sys_sud_trap_count, 1, __ATOMIC_RELAXED);
	nr = (uint64_t)g[REG_RAX];
	if (!sys_installed()) { /* let it pass from now on */
		g[REG_RIP] -= 2;
		return;
	}
	if (sys_rewrite_lazy((uint64_t)g[REG_RIP])) {
		g[REG_RIP] -= 2; /* again, through the stub */
		t->selector = app_selector(t);
		return;
	}
	switch (nr) {
	case SYS_rt_sigreturn:
		g[REG_RIP] = (greg_t)(uintptr_t)sys_sigreturn_gadget;
		t->selector = app_selector(t);
		return;
	case SYS_rt_sigprocmask:
		g[REG_RAX] = (greg_t)sigprocmask_in_frame(uc);
		t->selector = app_selector(t);
		return;
	case SYS_clone:
	case SYS_clone3:
	case SYS_vfork:
		if (enter_stub(g)) {
			t->selector = app_selector(t);
			return;
		}
		/* no stack to push on: natively, untraced */
		__attribute__((fallthrough));
	case SYS_rt_sigsuspend:
		g[REG_RIP] -= 2; /* natively, with the selector open */
		return;
	default:
		break;
	}
	memset(&f, 0, sizeof(f));
	f.nr = nr;
	f.args[0] = (uint64_t)g[REG_RDI];
	f.args[1] = (uint64_t)g[REG_RSI];
	f.args[2] = (uint64_t)g[REG_RDX];
	f.args[3] = (uint64_t)g[REG_R10];
	f.args[4] = (uint64_t)g[REG_R8];
	f.args[5] = (uint64_t)g[REG_R9];
	f.ip = (uint64_t)g[REG_RIP];
	f.vec = 1; /* the kernel saved the vector state in the signal frame */
	f.sp = (uint64_t)g[REG_RSP];
	in_sud = t->in_sud;
	t->in_sud = 1;
	if (!sys_enter_hook(&f)) {
		/* the selector stays closed: syscalls of a handler of a signal
		 * arriving meanwhile are traced (this one passes: sys_raw6 is
		 * in the stub's range) */
		f.ret = (uint64_t)sys_raw6((long)nr, (long)f.args[0], (long)f.args[1],
					   (long)f.args[2], (long)f.args[3],
					   (long)f.args[4], (long)f.args[5]);
		sys_exit_hook(&f);
	}
	t->in_sud = in_sud;
	g[REG_RAX] = (greg_t)f.ret;
	t->selector = app_selector(t);
}

int sys_sud_init(void)
{
	struct ksigaction sa = {
		.handler = (void *)on_sigsys,
		.flags = SA_SIGINFO | SA_RESTORER | SA_NODEFER | SA_RESTART,
		.restorer = sys_sigreturn_gadget,
		.mask = 0,
	};
	struct ksigaction cur;
	long r;

	if (!sud_state) {
		/* does this kernel have SUD? (EINVAL without
		 * CONFIG_SYSCALL_USER_DISPATCH) */
		r = sys_raw6(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH,
			     PR_SYS_DISPATCH_OFF, 0, 0, 0, 0);
		sud_state = r ? (int)r : 1;
	}
	if (sud_state < 0)
		return sud_state;
	/* (re)install the handler at each install: the host may have
	 * replaced it since (the one it had is what we chain to) */
	r = sys_raw6(SYS_rt_sigaction, SIGSYS, 0, (long)&cur, 8, 0, 0);
	if (r)
		return (int)r;
	if (cur.handler == (void *)on_sigsys)
		return 0;
	old_sa = cur;
	r = sys_raw6(SYS_rt_sigaction, SIGSYS, (long)&sa, 0, 8, 0, 0);
	__atomic_store_n(&handler_on, !r, __ATOMIC_RELEASE);
	return (int)r;
}

/*
 * rt_sigaction(SIGSYS, act, oldact) made by the application while
 * on_sigsys is the kernel's handler: the application's action becomes
 * the one that SIGSYS not sent by SUD (seccomp's) chains to, oldact gets
 * the previous one, and the kernel keeps ours. A host that resets SIGSYS
 * (cmocka does after every test; sandboxes install their own) would
 * otherwise leave SUD's next SIGSYS to kill the process. 1 with *ret set
 * when done here, 0 to let the kernel do it.
 */
int sys_sud_sigaction(uint64_t act, uint64_t oldact, long *ret)
{
	struct ksigaction na, prev = old_sa;

	if (!__atomic_load_n(&handler_on, __ATOMIC_ACQUIRE))
		return 0;
	*ret = -EFAULT;
	if (act && vm_nofault_copy(&na, (const void *)(uintptr_t)act, sizeof(na)))
		return 1;
	if (oldact && vm_nofault_copy((void *)(uintptr_t)oldact, &prev, sizeof(prev)))
		return 1;
	if (act)
		old_sa = na;
	*ret = 0;
	return 1;
}

bool sys_sud_net(void)
{
	return __atomic_load_n(&net, __ATOMIC_ACQUIRE);
}

void sys_sud_net_on(void)
{
	const char *env = getenv("BPFX_SYSCALL_SUD");

	if (env && !strcmp(env, "never"))
		return;
	if (sys_sud_init())
		return;
	if (!__atomic_exchange_n(&net, true, __ATOMIC_ACQ_REL)) {
		sys_sud_thread_on();
		sys_sud_all_threads();
	} else if (!sys_self.sud) {
		sys_sud_thread_on();
	}
}

/* At uninstall: every other thread is asked to turn SUD off (one that
 * traps first heals itself: on_sigsys opens its selector). */
void sys_sud_net_reset(void)
{
	if (__atomic_exchange_n(&net, false, __ATOMIC_ACQ_REL))
		sys_sud_all_threads();
}

bool sys_sud_ready(void)
{
	return sud_state > 0;
}

/* SUD on in the calling thread, SIGSYS unblocked there first: a thread
 * that blocked it before interception came (the agent's does: it blocks
 * every signal) would be killed by its first trap. */
int sys_sud_thread_on(void)
{
	struct sys_thread *t = &sys_self;
	const char *s = sys_stub_start;
	uint64_t sigsys = 1ull << (SIGSYS - 1);
	long r;

	if (sud_state <= 0)
		return sud_state ? sud_state : -ENOSYS;
	t->selector = SYS_SEL_ALLOW;
	sys_raw6(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&sigsys, 0, 8, 0, 0);
	r = sys_raw6(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
		     (long)(uintptr_t)s, (long)(sys_stub_end - s),
		     (long)(uintptr_t)&t->selector, 0);
	if (r)
		return (int)r;
	t->sud = 1;
	t->selector = app_selector(t);
	return 0;
}

void sys_sud_thread_off(void)
{
	struct sys_thread *t = &sys_self;

	if (!t->sud)
		return;
	sys_raw6(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0,
		 0, 0);
	t->sud = 0;
	t->selector = SYS_SEL_ALLOW;
}

/* Ask every other thread of the process to turn SUD on for itself (off,
 * once interception is uninstalled). */
int sys_sud_all_threads(void)
{
	siginfo_t si;
	struct dirent *de;
	pid_t self = (pid_t)sys_raw6(SYS_gettid, 0, 0, 0, 0, 0, 0);
	DIR *d;
	int n = 0;

	if (sud_state <= 0)
		return 0;
	d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || tid == self)
			continue;
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGSYS;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_int = SUD_MAGIC;
		if (!sys_raw6(SYS_rt_tgsigqueueinfo, getpid(), tid, SIGSYS, (long)&si,
			      0, 0))
			n++;
	}
	closedir(d);
	return n;
}
