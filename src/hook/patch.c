/* SPDX-License-Identifier: MIT */
/*
 * patch.c - patch code that other threads may be running, safely.
 *
 * The protocol is the kernel's text_poke_bp, in userspace:
 *
 *   1. make the page(s) writable (original protection + PROT_WRITE: the
 *      text must stay executable for the other threads; this RW+X window
 *      lasts for the patch only, then the original protection returns);
 *   2. write int3 over the first byte; serialize every core;
 *   3. (install, when the prologue has several instructions) evacuate:
 *      signal every other thread; the handler moves a thread that sits on
 *      an instruction boundary inside the 5 bytes into the relocated copy
 *      of that instruction in the trampoline. Pending signals run before
 *      the thread runs any more code, and a membarrier then makes sure
 *      each running thread has taken it;
 *   4. write bytes 1..4; serialize;
 *   5. write the first byte; serialize; restore the protection.
 *
 * A thread that executes the int3 meanwhile gets SIGTRAP; our handler
 * recognises the site (any hook ever built: the list is append-only and
 * read lock-free) and sends the thread to the hook's entry stub (the
 * registers are exactly those at the function's entry), or, when the
 * int3 is already gone, back to the site to run what is there now. Other
 * SIGTRAPs go to the handler that was installed before ours.
 *
 * Serialization ("sync core"): membarrier(PRIVATE_EXPEDITED_SYNC_CORE),
 * registered at init, which IPIs every CPU running a thread of this process
 * and makes each execute a core-serializing instruction before it returns
 * to user mode. Fallback where that command is missing: mprotect of a
 * private page we just touched changes this mm's page tables, so the
 * kernel sends TLB-shootdown IPIs to the CPUs running this mm, and the
 * return from the interrupt (iret) serializes. The fallback is weaker (it
 * leans on the kernel's lazy-TLB bookkeeping) and hook_sync_mechanism()
 * says which one is in use. The patching thread itself runs cpuid.
 *
 * Evacuation needs a signal nobody else uses: the highest real-time signal
 * whose disposition is SIG_DFL at init. A thread that blocks it (checked
 * in /proc/self/task/TID/status) is looked at instead: asleep with its pc
 * (/proc/self/task/TID/syscall) outside the displaced bytes it needs no
 * move; running, or inside them, it makes the install fail with -EBUSY
 * (before anything is written, or backing the int3 out). The signal may
 * interrupt a blocking system call in another thread (SA_RESTART restarts
 * most; a few, like nanosleep, return EINTR): install-time only.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "hook/hook_internal.h"

enum { SYNC_NONE, SYNC_MEMBARRIER, SYNC_MPROTECT };

static int sync_kind, barrier_kind;
static int evac_sig;
static struct sigaction old_trap;
static void *ipi_page;
static long page_size;

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

/* Change the page tables of this mm: TLB-shootdown IPIs to every CPU that
 * runs one of our threads; each returns through iret (serializing). */
static void mprotect_ipi(void)
{
	*(volatile char *)ipi_page = 1;
	mprotect(ipi_page, (size_t)page_size, PROT_READ);
	mprotect(ipi_page, (size_t)page_size, PROT_READ | PROT_WRITE);
}

void hook_sync_core(void)
{
	if (sync_kind == SYNC_MEMBARRIER)
		membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE);
	else
		mprotect_ipi();
	/* and this core: cpuid is serializing */
	{
		unsigned a = 0, bb, c = 0, d;

		__asm__ volatile("cpuid" : "+a"(a), "=b"(bb), "+c"(c), "=d"(d)
				 :: "memory");
	}
}

void hook_sync_threads(void)
{
	if (barrier_kind == SYNC_MEMBARRIER)
		membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
	else
		mprotect_ipi();
}

const char *hook_sync_mechanism(void)
{
	switch (sync_kind) {
	case SYNC_MEMBARRIER:
		return "membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE)";
	case SYNC_MPROTECT:
		return "mprotect TLB-shootdown IPIs (membarrier sync-core "
		       "unavailable)";
	default:
		return "not initialized";
	}
}

static uint64_t *ip_of(void *uc)
{
	return (uint64_t *)&((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
}

static void chain(int sig, siginfo_t *si, void *uc)
{
	if (old_trap.sa_flags & SA_SIGINFO) {
		if (old_trap.sa_sigaction)
			old_trap.sa_sigaction(sig, si, uc);
		return;
	}
	if (old_trap.sa_handler == SIG_IGN)
		return;
	if (old_trap.sa_handler == SIG_DFL) {
		/* what would have happened without us */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	old_trap.sa_handler(sig);
}

void hook_trap_chained(struct hook_ksigaction *old, const struct hook_ksigaction *set)
{
	struct sigaction sa;

	if (old) {
		memset(old, 0, sizeof(*old));
		old->handler = (void *)old_trap.sa_handler;
		old->flags = (unsigned long)old_trap.sa_flags;
		old->restorer = (void *)old_trap.sa_restorer;
		memcpy(&old->mask, &old_trap.sa_mask, sizeof(old->mask));
	}
	if (!set)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = (void (*)(int))set->handler;
	sa.sa_flags = (int)set->flags;
	sa.sa_restorer = (void (*)(void))set->restorer;
	memcpy(&sa.sa_mask, &set->mask, sizeof(set->mask));
	old_trap = sa;
}

static bool (*trap_fallback)(void *uc);

void hook_set_trap_fallback(bool (*fn)(void *uc))
{
	__atomic_store_n(&trap_fallback, fn, __ATOMIC_RELEASE);
}

static void on_trap(int sig, siginfo_t *si, void *uc)
{
	bool (*fb)(void *uc);

	uint64_t *ip = ip_of(uc);
	struct hook *h;

	for (h = __atomic_load_n(&hook_all, __ATOMIC_ACQUIRE); h; h = h->next) {
		uint64_t site = h->plan.site;

		if (*ip - 1 != site)
			continue;
		if (*(volatile uint8_t *)(uintptr_t)site == 0xcc)
			*ip = h->entry;	/* mid-patch: run the hook */
		else
			*ip = site;	/* patched since: run what is there */
		return;
	}
	fb = __atomic_load_n(&trap_fallback, __ATOMIC_ACQUIRE);
	if (fb && fb(uc))
		return;
	chain(sig, si, uc);
}

static void on_evac(int sig, siginfo_t *si, void *uc)
{
	uint64_t *ip = ip_of(uc);
	struct hook *h;

	for (h = __atomic_load_n(&hook_all, __ATOMIC_ACQUIRE); h; h = h->next) {
		uint64_t site = h->plan.site;
		uint8_t b0;

		if (*ip <= site || *ip >= site + HOOK_JMP_LEN)
			continue;
		b0 = *(volatile uint8_t *)(uintptr_t)site;
		if (b0 != 0xcc && b0 != 0xe9)
			continue;	/* original bytes: nothing to do */
		for (unsigned i = 1; i < h->plan.ninsn; i++) {
			if (*ip == site + h->plan.off[i]) {
				*ip = h->reloc + h->roff[i];
				return;
			}
		}
	}
}

int hook_patch_init(void)
{
	struct sigaction sa, cur;
	long mask;

	page_size = sysconf(_SC_PAGESIZE);
	ipi_page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ipi_page == MAP_FAILED)
		return -errno;

	mask = membarrier(MEMBARRIER_CMD_QUERY);
	sync_kind = SYNC_MPROTECT;
	barrier_kind = SYNC_MPROTECT;
	if (mask > 0 && (mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) &&
	    !membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE))
		sync_kind = SYNC_MEMBARRIER;
	if (mask > 0 && (mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    !membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
		barrier_kind = SYNC_MEMBARRIER;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	sa.sa_sigaction = on_trap;
	if (sigaction(SIGTRAP, &sa, &old_trap))
		return -errno;

	for (int s = SIGRTMAX; s > SIGRTMIN; s--) {
		if (sigaction(s, NULL, &cur))
			continue;
		if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL) {
			evac_sig = s;
			break;
		}
	}
	if (!evac_sig)
		return -EBUSY;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sa.sa_sigaction = on_evac;
	if (sigaction(evac_sig, &sa, NULL))
		return -errno;
	return 0;
}

/* Does thread tid block sig? (SigBlk: in its status file) */
static bool blocks(int tid, int sig)
{
	char path[64], buf[2048];
	unsigned long long m = 0;
	ssize_t n;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;	/* gone */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	p = strstr(buf, "SigBlk:");
	if (!p)
		return false;
	m = strtoull(p + 7, NULL, 16);
	return (m >> (sig - 1)) & 1;
}

/* Where a thread that is not running stopped: 0 and *pc (from
 * /proc/self/task/TID/syscall: "nr args... sp pc" in a syscall, "-1 sp
 * pc" otherwise blocked), -EAGAIN while it runs, -ENOENT when gone. */
static int task_pc(int tid, uint64_t *pc)
{
	char path[64], buf[512], *last;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	buf[n] = 0;
	if (!strncmp(buf, "running", 7))
		return -EAGAIN;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	last = strrchr(buf, ' ');
	if (!last)
		return -EAGAIN;
	*pc = strtoull(last + 1, NULL, 16);
	return 0;
}

/* Is @pc strictly inside the displaced bytes of a patch that evacuates
 * (a thread there would resume in the middle of the new jmp)? */
static bool in_window(const struct hook_patch *ps, int n, uint64_t pc)
{
	for (int i = 0; i < n; i++) {
		uint64_t s = ps[i].h->plan.site;

		if (ps[i].evacuate && pc > s && pc < s + ps[i].h->plan.len)
			return true;
	}
	return false;
}

/*
 * Signal every other thread (see step 3); dry: only check that each can
 * take the signal. A thread that blocks it (nginx's thread pools block
 * every signal) is not signalled: it is checked instead, stopped in a
 * syscall or otherwise asleep with its pc outside every window. Checked
 * again once the int3 is in (from then on no thread can newly enter a
 * window): a thread that runs or sits in a window then makes the install
 * back out (-EBUSY).
 */
static int evacuate_once(const struct hook_patch *ps, int n, bool dry,
			 char *why, size_t whylen)
{
	pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int err = 0;

	if (!d)
		return hook_why(why, whylen, -errno, "cannot list threads");
	while ((e = readdir(d))) {
		int tid = atoi(e->d_name);

		if (tid <= 0 || tid == self)
			continue;
		if (blocks(tid, evac_sig)) {
			uint64_t pc = 0;
			int r = task_pc(tid, &pc);

			if (r == -ENOENT)
				continue;	/* gone */
			if (r || in_window(ps, n, pc)) {
				err = hook_why(why, whylen, -EBUSY,
					"thread %d blocks signal %d and %s, so it "
					"cannot be moved out of the prologue", tid,
					evac_sig, r ? "is running" :
					"sits inside the prologue");
				break;
			}
			continue;	/* asleep elsewhere */
		}
		if (!dry)
			syscall(SYS_tgkill, pid, tid, evac_sig);
	}
	closedir(d);
	if (!dry && !err)
		hook_sync_threads();
	return err;
}

static int evacuate(const struct hook_patch *ps, int n, bool dry, char *why,
		    size_t whylen)
{
	int err = 0;

	/* a thread being created runs with every signal blocked for a
	 * moment, a signal-blocking thread may be busy: retry for up to
	 * ~200 ms before giving up */
	for (int i = 0; i < 200; i++) {
		err = evacuate_once(ps, n, dry, why, whylen);
		if (err != -EBUSY)
			break;
		usleep(1000);
	}
	return err;
}

/* make [a, a+len) writable (or back); pages may repeat across patches */
static int set_prot(struct hook_patch *ps, int n, bool writable, int *prots)
{
	uint64_t pm = ~(uint64_t)(page_size - 1);
	int err = 0;

	for (int i = 0; i < n; i++) {
		uint64_t s = ps[i].h->plan.site, p0 = s & pm,
			 p1 = (s + HOOK_JMP_LEN - 1) & pm;
		bool dup = false;

		for (int j = 0; j < i; j++)
			if ((ps[j].h->plan.site & pm) == p0 &&
			    ((ps[j].h->plan.site + HOOK_JMP_LEN - 1) & pm) == p1)
				dup = true;
		if (dup)
			continue;	/* batched: done once per page */
		if (writable) {
			struct hook_vma v;

			err = hook_vma_find(s, &v);
			if (err)
				return err;
			prots[i] = v.prot;
		}
		if (mprotect((void *)(uintptr_t)p0, (size_t)(p1 - p0) +
			     (size_t)page_size,
			     prots[i] | (writable ? PROT_WRITE : 0)))
			return -errno;
	}
	return 0;
}

int hook_patch_apply(struct hook_patch *ps, int n, char *why, size_t whylen)
{
	bool evac = false;
	int *prots, err;

	for (int i = 0; i < n; i++)
		evac |= ps[i].evacuate;
	if (evac) {
		err = evacuate(ps, n, true, why, whylen);
		if (err)
			return err;
	}
	prots = calloc((size_t)n, sizeof(*prots));
	if (!prots)
		return -ENOMEM;
	err = set_prot(ps, n, true, prots);
	if (err) {
		set_prot(ps, n, false, prots);
		free(prots);
		return hook_why(why, whylen, err,
				"cannot make the code page writable");
	}
	for (int i = 0; i < n; i++)			/* int3 */
		__atomic_store_n((uint8_t *)(uintptr_t)ps[i].h->plan.site,
				 0xcc, __ATOMIC_RELEASE);
	hook_sync_core();
	if (evac) {
		err = evacuate(ps, n, false, why, whylen);
		if (err) {	/* back out: the old first byte again */
			for (int i = 0; i < n; i++)
				__atomic_store_n((uint8_t *)(uintptr_t)
						 ps[i].h->plan.site,
						 ps[i].h->plan.orig[0],
						 __ATOMIC_RELEASE);
			hook_sync_core();
			set_prot(ps, n, false, prots);
			free(prots);
			return err;
		}
	}
	for (int i = 0; i < n; i++)			/* tail */
		memcpy((uint8_t *)(uintptr_t)ps[i].h->plan.site + 1,
		       ps[i].bytes + 1, HOOK_JMP_LEN - 1);
	hook_sync_core();
	for (int i = 0; i < n; i++)			/* head */
		__atomic_store_n((uint8_t *)(uintptr_t)ps[i].h->plan.site,
				 ps[i].bytes[0], __ATOMIC_RELEASE);
	hook_sync_core();
	err = set_prot(ps, n, false, prots);
	free(prots);
	return err;
}
