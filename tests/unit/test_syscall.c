/* SPDX-License-Identifier: MIT */
/*
 * test_syscall.c - syscall tracepoints (src/attach/syscall.c, sys_*.c):
 * contexts, every path a syscall can take into the stub (libc, inline
 * `syscall` in this binary, anonymous JIT-like code caught by SUD, code
 * mapped from a file later and rewritten lazily), override, and the hard
 * cases: signals during a hooked syscall and syscalls from their
 * handlers, rt_sigreturn, vfork, clone3 threads, fork, exact restore.
 *
 * Programs are two instructions: `call TEST_HELPER; exit`; the helper
 * (C, below) records what the context held. Each cmocka test is its own
 * process under ctest; each installs and uninstalls interception itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "attach/attach_internal.h"
#include "attach/sys_internal.h"
#include "helpers/helpers.h"
#include "insn.h"
#include "vm/vm_internal.h"

#define H_RECORD 1000	/* record the context */
#define H_DENY 1001	/* override with -EACCES when args[1] == deny_ptr */

struct seen {
	uint64_t calls;
	uint16_t type;
	int32_t pid;
	int64_t nr;
	uint64_t a0, a1;
	int64_t ret;
};

static struct seen seen[4]; /* by link id */
static bool exit_ctx[4];    /* link id's context is a sys_exit one (24 bytes) */
static const char *deny_ptr;
static __thread int cur_link;

static uint64_t h_record(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
			 uint64_t r5)
{
	const uint8_t *c = (const uint8_t *)(uintptr_t)ctx;
	struct seen *s = &seen[vm_run.cookie & 3];

	__atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
	memcpy(&s->type, c, 2);
	memcpy(&s->pid, c + 4, 4);
	memcpy(&s->nr, c + 8, 8);
	memcpy(&s->a0, c + 16, 8); /* args[0], or ret for sys_exit */
	memcpy(&s->ret, c + 16, 8);
	if (!exit_ctx[vm_run.cookie & 3])
		memcpy(&s->a1, c + 24, 8);
	(void)cur_link;
	return 0;
}

static uint64_t h_deny(uint64_t ctx, uint64_t r2, uint64_t r3, uint64_t r4,
		       uint64_t r5)
{
	const uint8_t *c = (const uint8_t *)(uintptr_t)ctx;
	uint64_t a1;

	memcpy(&a1, c + 24, 8);
	if (deny_ptr && a1 == (uint64_t)(uintptr_t)deny_ptr) {
		vm_run.override = 1;
		vm_run.override_rc = (uint64_t)-EACCES;
	}
	return 0;
}

static struct bpfx_vm *vm;
static struct bpfx_prog *progs[64]; /* kept: a thread may still run them */
static int nprogs;

static struct bpfx_prog *make_prog(int helper)
{
	struct bpfx_insn insn[3] = {
		{ .code = 0x85, .imm = helper },	/* call helper */
		{ .code = 0xb7, .dst = 0, .imm = 0 },	/* r0 = 0 */
		{ .code = 0x95 },			/* exit */
	};
	struct bpfx_prog *p;

	if (!vm) {
		vm = bpfx_vm_create();
		assert_non_null(vm);
		assert_int_equal(bpfx_vm_register_helper(vm, H_RECORD, "rec", h_record), 0);
		assert_int_equal(bpfx_vm_register_helper(vm, H_DENY, "deny", h_deny), 0);
	}
	p = bpfx_prog_load(vm, insn, 3, NULL);
	assert_non_null(p);
	if (nprogs < 64)
		progs[nprogs++] = p;
	return p;
}

/* attach a recording program as link @id, on the JIT when @jit */
static void add(uint32_t id, const char *tp, bool jit)
{
	struct bpfx_prog *p = make_prog(H_RECORD);

	exit_ctx[id & 3] = strstr(tp, "exit") != NULL;
	if (jit)
		assert_int_equal(bpfx_prog_jit(p), 0);
	assert_int_equal(sys_prog_add(id, tp, p, jit ? p->jit_entry : NULL, id), 0);
}

static void reset_seen(void)
{
	memset(seen, 0, sizeof(seen));
}

static long inline_getppid(void)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getppid) : "rcx", "r11", "memory");
	return r;
}

/* ------------------------------------------------------------- tests */

static void test_table(void **state)
{
	struct sys_tp tp;

	assert_int_equal(sys_nr_of("openat"), SYS_openat);
	assert_int_equal(sys_nr_of("newstat"), SYS_stat);
	assert_string_equal(sys_event_name(SYS_umount2), "umount");
	assert_int_equal(sys_parse_tp("syscalls/sys_exit_getppid", &tp), 0);
	assert_int_equal(tp.kind, SYS_TP_EXIT);
	assert_int_equal(tp.nr, SYS_getppid);
	assert_int_equal(sys_parse_tp("raw_syscalls/sys_enter", &tp), 0);
	assert_int_equal(tp.kind, SYS_TP_RAW_ENTER);
	assert_int_equal(sys_parse_tp("syscalls/sys_enter_nosuch", &tp), -ENOENT);
	assert_int_equal(sys_parse_tp("sched/sched_switch", &tp), -EINVAL);
}

/* libc's getppid and an inline syscall in this binary; enter and exit
 * contexts as the kernel lays them out. */
static void test_enter_exit(void **state)
{
	long ppid = getppid();
	int i;

	reset_seen();
	add(1, "syscalls/sys_enter_getppid", true);
	add(2, "syscalls/sys_exit_getppid", false);
	for (i = 0; i < 1000; i++)
		getppid();
	for (i = 0; i < 500; i++)
		inline_getppid();
	syscall(SYS_getppid);
	assert_int_equal(seen[1].calls, 1501);
	assert_int_equal(seen[2].calls, 1501);
	assert_int_equal(seen[1].nr, SYS_getppid);
	assert_int_equal(seen[2].ret, ppid);
	assert_int_equal(seen[1].pid, gettid());
	assert_int_equal(seen[1].type, sys_event_id("syscalls/sys_enter_getppid"));
	assert_int_equal(sys_prog_remove(1), 0);
	assert_int_equal(sys_prog_remove(2), 0);
	getppid();
	assert_int_equal(seen[1].calls, 1501);
	assert_int_equal(sys_prog_remove(2), -ENOENT);
}

/* raw_syscalls see every syscall with its number and arguments */
static void test_raw(void **state)
{
	char buf[8];
	int fd[2];

	reset_seen();
	assert_int_equal(pipe(fd), 0);
	add(1, "raw_syscalls/sys_enter", true);
	add(2, "raw_syscalls/sys_exit", true);
	reset_seen();
	assert_int_equal(write(fd[1], "abc", 3), 3);
	assert_int_equal(seen[1].nr, SYS_write);
	assert_int_equal(seen[1].a0, (uint64_t)fd[1]);
	assert_int_equal(seen[2].ret, 3);
	assert_int_equal(read(fd[0], buf, sizeof(buf)), 3);
	assert_int_equal(seen[2].nr, SYS_read);
	assert_int_equal(seen[1].calls, 2);
	assert_int_equal(seen[2].calls, 2);
	sys_prog_remove(1);
	sys_prog_remove(2);
	close(fd[0]);
	close(fd[1]);
}

/* bpf_override_return on sys_enter: the syscall is not made */
static void test_override(void **state)
{
	struct bpfx_prog *p = make_prog(H_DENY);
	static const char path[] = "/dev/null";
	char other[] = "/dev/null";
	int fd;

	deny_ptr = path;
	assert_int_equal(sys_prog_add(3, "syscalls/sys_enter_openat", p, NULL, 3), 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EACCES);
	fd = open(other, O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	sys_prog_remove(3);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
}

static const uint8_t code_getppid[] = {
	0xb8, 0x6e, 0x00, 0x00, 0x00,	/* mov eax, 110 (getppid) */
	0x0f, 0x05,			/* syscall */
	0xc3,				/* ret */
};

/* A page of anonymous executable code, as a JIT makes: code_getppid at
 * 0 and @extra (if any) at 64. */
static uint8_t *jit_page(const uint8_t *extra, size_t len)
{
	uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	memcpy(p, code_getppid, sizeof(code_getppid));
	if (extra)
		memcpy(p + 64, extra, len);
	assert_int_equal(mprotect(p, 4096, PROT_READ | PROT_EXEC), 0);
	return p;
}

/* anonymous executable code (a JIT's): caught by Syscall User Dispatch */
static void test_jit_code(void **state)
{
	struct sys_stats st0, st1;
	long (*fn)(void);
	uint8_t *p;

	reset_seen();
	p = jit_page(NULL, 0);
	fn = (long (*)(void))(uintptr_t)p;
	add(1, "syscalls/sys_enter_getppid", true);
	sys_get_stats(&st0);
	if (!st0.sud) {
		sys_prog_remove(1);
		skip();
	}
	assert_int_equal(fn(), getppid());
	assert_int_equal(fn(), getppid());
	sys_get_stats(&st1);
	assert_int_equal(seen[1].calls, 4);
	/* never rewritten (and libc's getppid too when SUD is alone) */
	assert_int_equal(st1.sud_traps - st0.sud_traps,
			 st0.zpoline || st0.trampolines ? 2 : 4);
	assert_int_equal(memcmp(p, code_getppid, sizeof(code_getppid)), 0);
	sys_prog_remove(1);
	assert_int_equal(fn(), getppid()); /* untraced, unbroken */
	munmap(p, 4096);
}

/* code mapped from a file after install (as dlopen does): its sites are
 * rewritten when the mmap returns (no SUD trap); restored on uninstall */
static void test_mapped_later(void **state)
{
	char path[] = "/tmp/bpfx-test-syscall-XXXXXX";
	struct sys_stats st0, st1;
	long (*fn)(void);
	uint8_t *p;
	int fd, i;

	reset_seen();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, code_getppid, sizeof(code_getppid)), sizeof(code_getppid));
	add(1, "syscalls/sys_enter_getppid", true);
	sys_get_stats(&st0);
	if (!st0.zpoline && !st0.trampolines) {
		sys_prog_remove(1);
		unlink(path);
		skip();
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	assert_true(p != MAP_FAILED);
	fn = (long (*)(void))(uintptr_t)p;
	for (i = 0; i < 10; i++)
		assert_int_equal(fn(), getppid());
	sys_get_stats(&st1);
	assert_int_equal(seen[1].calls, 20);
	assert_int_equal(st1.sud_traps - st0.sud_traps, 0);
	assert_int_equal(st1.sites, st0.sites + 1);
	if (st0.zpoline)
		assert_int_equal(p[5], 0xff); /* call *%rax */
	else
		assert_int_equal(p[0], 0xe9); /* mov eax, 110: jmp tramp */
	sys_prog_remove(1);
	assert_int_equal(memcmp(p, code_getppid, sizeof(code_getppid)), 0);
	assert_int_equal(fn(), getppid());
	munmap(p, 4096);
	close(fd);
	unlink(path);
}

/* A `syscall` whose two bytes straddle a 64-byte line: one 2-byte store
 * is not atomic there, so the rewrite goes int3-first. */
long straddle_getppid(void);
__asm__(".text\n"
	".p2align 6\n"
	".globl straddle_getppid\n"
	".type straddle_getppid, @function\n"
	"straddle_getppid:\n"
	"	mov $110, %eax\n"		/* SYS_getppid */
	"	.skip 58, 0x90\n"		/* nops: the syscall at +63 */
	"	syscall\n"
	"	ret\n");

static void test_straddling_site(void **state)
{
	const uint8_t *f = (const uint8_t *)(uintptr_t)straddle_getppid;
	int i;

	assert_int_equal(((uintptr_t)f + 63) & 63, 63);
	assert_int_equal(f[63], 0x0f);
	reset_seen();
	add(1, "syscalls/sys_enter_getppid", true);
	for (i = 0; i < 100; i++)
		assert_int_equal(straddle_getppid(), getppid());
	assert_int_equal(seen[1].calls, 200);
	assert_int_equal(sys_prog_remove(1), 0);
	assert_int_equal(f[63], 0x0f);		/* restored */
	assert_int_equal(f[64], 0x05);
}

/* Detach restores libc's bytes exactly. */
static void test_restore(void **state)
{
	const uint8_t *f = (const uint8_t *)(uintptr_t)getppid;
	uint8_t before[64];
	struct sys_stats st;
	int i, at = -1;

	memcpy(before, f, sizeof(before));
	for (i = 0; i + 1 < (int)sizeof(before); i++)
		if (before[i] == 0x0f && before[i + 1] == 0x05)
			at = i;
	add(1, "syscalls/sys_enter_getppid", false);
	sys_get_stats(&st);
	if (!st.zpoline || at < 0) {
		sys_prog_remove(1);
		skip();
	}
	assert_true(st.sites > 10);
	assert_int_equal(f[at], 0xff);
	assert_int_equal(f[at + 1], 0xd0);
	sys_prog_remove(1);
	assert_int_equal(memcmp(before, f, sizeof(before)), 0);
	sys_get_stats(&st);
	assert_int_equal(st.sites, 0);
}

static volatile int sig_hits;

static void on_alarm(int sig)
{
	(void)sig;
	getppid(); /* a syscall from a signal handler, traced */
	inline_getppid();
	sig_hits++;
}

/* A signal interrupts a hooked blocking read; its handler's syscalls are
 * traced; the read restarts (SA_RESTART) or fails with EINTR, as without
 * bpfx; sys_exit sees the result. rt_sigreturn goes through the stub. */
static void test_signal_during_syscall(void **state)
{
	struct sigaction sa = { 0 };
	int fd[2];
	char c;
	pid_t pid;

	reset_seen();
	assert_int_equal(pipe(fd), 0);
	add(1, "syscalls/sys_enter_getppid", true);
	add(2, "syscalls/sys_exit_read", true);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: EINTR */
	sig_hits = 0;
	alarm(1);
	assert_int_equal(read(fd[0], &c, 1), -1);
	assert_int_equal(errno, EINTR);
	assert_int_equal(sig_hits, 1);
	assert_int_equal(seen[1].calls, 2);
	assert_int_equal(seen[2].ret, -EINTR);

	sa.sa_flags = SA_RESTART; /* restarted inside the stub */
	sigaction(SIGALRM, &sa, NULL);
	pid = fork();
	if (!pid) {
		usleep(1500 * 1000);
		_exit(write(fd[1], "x", 1) == 1 ? 0 : 1);
	}
	alarm(1);
	assert_int_equal(read(fd[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	assert_int_equal(sig_hits, 2);
	assert_int_equal(seen[1].calls, 4);
	assert_int_equal(seen[2].ret, 1);
	waitpid(pid, NULL, 0);
	sys_prog_remove(1);
	sys_prog_remove(2);
	close(fd[0]);
	close(fd[1]);
	signal(SIGALRM, SIG_DFL);
}

/* vfork: the child runs on the parent's stack and execs or exits; the
 * parent gets the right return value and resumes where it was. */
static void test_vfork(void **state)
{
	volatile int marker = 42;
	int status;
	pid_t pid;

	reset_seen();
	add(1, "raw_syscalls/sys_enter", true);
	add(2, "syscalls/sys_exit_vfork", true);
	add(3, "syscalls/sys_enter_exit_group", true);
	pid = vfork();
	if (!pid)
		_exit(7);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 7);
	assert_int_equal(marker, 42);
	assert_int_equal(seen[2].ret, pid);
	assert_int_equal(seen[3].pid, pid); /* the child's own id, not ours */
	pid = vfork();
	if (!pid) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	/* posix_spawn / system use clone(CLONE_VM|CLONE_VFORK) on a new stack */
	assert_int_equal(system("exit 3"), 3 << 8);
	/* the children's syscalls ran on this thread's memory: its events
	 * still carry its own thread id */
	getppid();
	assert_int_equal(seen[1].pid, syscall(SYS_gettid));
	sys_prog_remove(1);
	sys_prog_remove(2);
	sys_prog_remove(3);
}

#define NTHREADS 4
#define PER_THREAD 2000

static void *thread_fn(void *arg)
{
	long (*fn)(void) = (long (*)(void))arg;
	int i;

	for (i = 0; i < PER_THREAD; i++)
		getppid();
	if (fn)
		fn(); /* SUD must be on in this thread too */
	return NULL;
}

/* clone3 threads: every syscall of every thread; SUD in each */
static void test_threads(void **state)
{
	pthread_t t[NTHREADS];
	struct sys_stats st;
	long (*fn)(void) = NULL;
	uint8_t *p;
	int i;

	reset_seen();
	add(1, "syscalls/sys_enter_getppid", true);
	add(2, "syscalls/sys_exit_clone3", true);
	sys_get_stats(&st);
	p = jit_page(NULL, 0);
	if (st.sud)
		fn = (long (*)(void))(uintptr_t)p;
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, thread_fn, (void *)fn), 0);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(seen[1].calls, NTHREADS * PER_THREAD + (fn ? NTHREADS : 0));
	/* parent and child both return from clone3 */
	assert_int_equal(seen[2].calls, 2 * NTHREADS);
	sys_prog_remove(1);
	sys_prog_remove(2);
	munmap(p, 4096);
}

/* rt_sigprocmask(how, set, old, 8) from anonymous code: caught by SUD */
static const uint8_t code_sigprocmask[] = {
	0xb8, 0x0e, 0x00, 0x00, 0x00,		/* mov eax, 14 */
	0x41, 0xba, 0x08, 0x00, 0x00, 0x00,	/* mov r10d, 8 */
	0x0f, 0x05,				/* syscall */
	0xc3,					/* ret */
};

static int sigsys_was_blocked = -1;

static void *blocking_thread(void *arg)
{
	long (*fn)(void) = (long (*)(void))arg;
	sigset_t all, now;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);	/* libc: a rewritten site */
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	sigsys_was_blocked = sigismember(&now, SIGSYS);
	fn();		/* caught by SUD: fatal were SIGSYS blocked */
	return NULL;	/* glibc blocks every signal again, then exits */
}

/* Threads that block every signal (as glibc does before a thread exits)
 * and then make a syscall SUD catches: SIGSYS is kept open, so SUD's
 * SIGSYS is delivered instead of killing the process; rt_sigprocmask
 * caught by SUD itself is done on the handler's saved mask. */
static void test_blocked_signals(void **state)
{
	long (*mask_fn)(long, const uint64_t *, uint64_t *);
	uint64_t all = ~0ull, old = 0, cur = 0;
	struct sys_stats st;
	pthread_t th;
	uint8_t *p;

	reset_seen();
	add(1, "syscalls/sys_enter_getppid", true);
	p = jit_page(code_sigprocmask, sizeof(code_sigprocmask));
	sys_get_stats(&st);
	if (!st.sud) {
		sys_prog_remove(1);
		munmap(p, 4096);
		skip();
	}
	assert_int_equal(pthread_create(&th, NULL, blocking_thread, p), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(sigsys_was_blocked, 0);
	assert_int_equal(seen[1].calls, 1);
	/* the same through SUD: block all, read back, restore */
	*(void **)&mask_fn = p + 64;
	assert_int_equal(mask_fn(SIG_BLOCK, &all, &old), 0);
	assert_int_equal(mask_fn(SIG_BLOCK, NULL, &cur), 0);
	assert_int_equal(cur, ~(1ull << (SIGSYS - 1) | 1ull << (SIGKILL - 1) |
				1ull << (SIGSTOP - 1) |
				(sys_rewrite_trap_sites() ? 1ull << (SIGTRAP - 1) : 0)) |
				      old);
	assert_int_equal(mask_fn(SIG_SETMASK, &old, NULL), 0);
	assert_int_equal(mask_fn(SIG_BLOCK, NULL, &cur), 0);
	assert_int_equal(cur, old);
	assert_int_equal(mask_fn(42, &all, NULL), -EINVAL);
	sys_prog_remove(1);
	munmap(p, 4096);
}

/*
 * The application's own SIGSYS handler while SUD's is in place: it is
 * kept as the one a SIGSYS not sent by SUD goes to, reported back as the
 * application's, and resetting it to SIG_DFL (as cmocka does after each
 * test) leaves SUD working.
 */
static volatile int app_sigsys;

static void on_app_sigsys(int sig)
{
	app_sigsys++;
}

struct ksa {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static void test_sigsys_handler(void **state)
{
	struct sigaction sa = { 0 }, old;
	struct ksa k;
	struct sys_stats st;
	long (*fn)(void);
	uint8_t *p;

	reset_seen();
	p = jit_page(NULL, 0);
	fn = (long (*)(void))(uintptr_t)p;
	add(1, "syscalls/sys_enter_getppid", true); /* JIT code: the SUD net */
	sys_get_stats(&st);
	if (!st.sud) {
		sys_prog_remove(1);
		skip();
	}
	sa.sa_handler = on_app_sigsys;
	assert_int_equal(sigaction(SIGSYS, &sa, &old), 0);
	assert_int_equal(sigaction(SIGSYS, NULL, &old), 0);
	assert_ptr_equal(old.sa_handler, on_app_sigsys);
	/* the kernel still has bpfx's */
	assert_int_equal(sys_raw6(SYS_rt_sigaction, SIGSYS, 0, (long)&k, 8, 0, 0), 0);
	assert_ptr_not_equal(k.handler, (void *)on_app_sigsys);
	assert_int_equal(fn(), getppid());
	assert_int_equal(kill(getpid(), SIGSYS), 0); /* not SUD's: chained */
	assert_int_equal(app_sigsys, 1);
	signal(SIGSYS, SIG_DFL);
	assert_int_equal(fn(), getppid()); /* caught by SUD, not fatal */
	assert_int_equal(seen[1].calls, 4);
	sys_prog_remove(1);
	munmap(p, 4096);
}

/* A thread that blocked every signal before it installed interception
 * (as the agent's thread does) is not killed by its first SUD trap. */
static void *masked_installer(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	add(1, "syscalls/sys_enter_getppid", true);
	((long (*)(void))arg)();
	getppid();
	sys_prog_remove(1);
	return NULL;
}

static void test_masked_installer(void **state)
{
	pthread_t th;
	uint8_t *p;

	reset_seen();
	p = jit_page(NULL, 0);
	assert_int_equal(pthread_create(&th, NULL, masked_installer, p), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(seen[1].calls, 2);
	munmap(p, 4096);
}

/* fork: the child is traced too (its own copy of the maps/counters) */
static void test_fork(void **state)
{
	int status;
	pid_t pid;

	reset_seen();
	add(1, "syscalls/sys_enter_getppid", true);
	pid = fork();
	if (!pid) {
		uint64_t before = seen[1].calls;

		getppid();
		inline_getppid();
		_exit(seen[1].calls == before + 2 ? 0 : 1);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	sys_prog_remove(1);
}

/*
 * Page 0, read back from /proc/self/mem: from every entry (a syscall
 * number) the bytes decode only as jumps, cmp eax and nops up to an exit
 * `movabs r11, <the stub>; jmp r11` (a walk by hand, not by the decoder
 * that built it); numbers 0..511 within 20 instructions, getppid 5.
 */
static unsigned walk_page0(const uint8_t *pg, unsigned k, uint64_t stub)
{
	unsigned n = 0, p = k;

	for (;;) {
		unsigned q = p;

		assert_true(p <= 4096 - 13);
		if (pg[q] == 0x49 && pg[q + 1] == 0xbb) {
			uint64_t imm;

			memcpy(&imm, pg + q + 2, 8);
			assert_true(imm == stub);
			assert_memory_equal(pg + q + 10, "\x41\xff\xe3", 3);
			return n;
		}
		n++;
		assert_true(n < 1000);
		if ((pg[q] >= 0x40 && pg[q] <= 0x4f) || pg[q] == 0x64 ||
		    pg[q] == 0x65) /* a REX, FS or GS prefix */
			q++;
		if (pg[q] == 0xeb)
			p = q + 2 + (uint32_t)(int32_t)(int8_t)pg[q + 1];
		else if (pg[q] == 0x3d)
			p = q + 5;
		else if (pg[q] == 0x90 && q == p)
			p = q + 1;
		else
			fail_msg("entry %u: byte %#x at %u", k, pg[q], q);
	}
}

static void test_page0(void **state)
{
	uint8_t pg[4096];
	struct sys_stats st;
	uint64_t stub;
	unsigned k, n, worst = 0, exit1 = 0;
	int fd;

	add(1, "syscalls/sys_enter_getpid", false);
	sys_get_stats(&st);
	if (!st.zpoline) {
		sys_prog_remove(1);
		skip();
	}
	stub = (uint64_t)(uintptr_t)(st.jmp_return ? sys_stub_jmp : sys_stub);
	fd = open("/proc/self/mem", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, pg, sizeof(pg), 0), (ssize_t)sizeof(pg));
	close(fd);
	for (k = 0; k < 512; k++) {
		n = walk_page0(pg, k, stub);
		worst = n > worst ? n : worst;
	}
	assert_true(worst <= 20);
	assert_true(walk_page0(pg, SYS_getppid, stub) <= 5);
	assert_true(walk_page0(pg, SYS_read, stub) <= 6);
	for (k = 512; k < 4096 && !exit1; k++)
		if (pg[k] == 0x49 && pg[k + 1] == 0xbb)
			exit1 = k;
	assert_true(exit1 > 512);
	for (k = 512; k < 4096 - 13; k++) /* invalid numbers: -ENOSYS */
		if (k < exit1 || k >= exit1 + 13)
			walk_page0(pg, k, stub);
	sys_prog_remove(1);
}

/*
 * A number whose only enter program is vector-free JIT code takes
 * sys_enter_one, or is called by the stub itself when it calls no helper:
 * the program reads the stub's frame as its context (nr, args,
 * common_type, common_pid), and bpf_override_return works there.
 */
static uint64_t one_rec[5];

static void test_one_program(void **state)
{
	struct bpfx_vm *v2 = bpfx_vm_create();
	const struct bpfx_insn rec[] = {
		LDDW(6, (uintptr_t)one_rec),
		LDX(ISA_DW, 2, 1, 8), STX(ISA_DW, 6, 2, 0),	/* nr */
		LDX(ISA_DW, 2, 1, 16), STX(ISA_DW, 6, 2, 8),	/* args[0] */
		LDX(ISA_W, 2, 1, 4), STX(ISA_DW, 6, 2, 16),	/* common_pid */
		LDX(ISA_H, 2, 1, 0), STX(ISA_DW, 6, 2, 24),	/* common_type */
		LDX(ISA_DW, 2, 6, 32), ALU64_IMM(ISA_ADD, 2, 1),
		STX(ISA_DW, 6, 2, 32),				/* runs */
		MOV64_IMM(0, 0), EXIT(),
	};
	const struct bpfx_insn ovr[] = {
		LDX(ISA_DW, 2, 1, 16), ALU64_IMM(ISA_ADD, 2, 1000),
		CALL(58), MOV64_IMM(0, 0), EXIT(),		/* override_return */
	};
	struct bpfx_prog *a, *b;
	int i;

	assert_non_null(v2);
	assert_int_equal(helpers_register_all(v2), 0);
	a = bpfx_prog_load(v2, rec, COUNT(rec), NULL);
	b = bpfx_prog_load(v2, ovr, COUNT(ovr), NULL);
	assert_true(a && b && !bpfx_prog_jit(a) && !bpfx_prog_jit(b));
	assert_true(vm_prog_vector_free(a) && vm_prog_vector_free(b));

	assert_int_equal(sys_prog_add(1, "syscalls/sys_enter_getpgid", a, a->jit_entry, 0), 0);
	/* called by the stub (sanitized builds keep the vector path) */
	assert_true(ATTACH_SANITIZED || (sys_active[SYS_getpgid] & SYS_A_PLAIN));
	for (i = 0; i < 10; i++)
		assert_int_equal(syscall(SYS_getpgid, 0), getpgrp());
	assert_int_equal(one_rec[0], SYS_getpgid);
	assert_int_equal(one_rec[1], 0);
	assert_int_equal(one_rec[2], syscall(SYS_gettid));
	assert_int_equal(one_rec[3], sys_event_id("syscalls/sys_enter_getpgid"));
	assert_true(one_rec[4] >= 10);

	/* a second program: both run, through the lists */
	assert_int_equal(sys_prog_add(2, "syscalls/sys_enter_getpgid", b, b->jit_entry, 0), 0);
	assert_false(sys_active[SYS_getpgid] & SYS_A_ONE);
	one_rec[4] = 0;
	assert_int_equal(syscall(SYS_getpgid, 7), 1007);
	assert_int_equal(one_rec[4], 1);
	assert_int_equal(one_rec[1], 7);

	/* the override alone, on the single-program path again */
	sys_prog_remove(1);
	assert_true(ATTACH_SANITIZED || (sys_active[SYS_getpgid] & SYS_A_ONE));
	assert_false(sys_active[SYS_getpgid] & SYS_A_PLAIN); /* it calls a helper */
	assert_int_equal(syscall(SYS_getpgid, 5), 1005);
	assert_int_equal(one_rec[4], 1);
	sys_prog_remove(2);
	assert_int_equal(syscall(SYS_getpgid, 0), getpgrp());
	bpfx_vm_destroy(v2);
}

/*
 * Per-site trampolines (no page 0): a site with dead padding in reach
 * jumps to an island (`jmp rel8`, 2 bytes), one with none but a movable
 * 5-byte instruction before it has that instruction replaced by `jmp
 * rel32` (the syscall's bytes stay), and one with neither gets an int3
 * (SIGTRAP sends it into the stub); all are traced without SUD traps
 * and restored on uninstall. While int3 sites exist, SIGTRAP cannot be
 * blocked and the application's SIGTRAP handler is chained to.
 */
static volatile int app_sigtrap;

static void on_app_sigtrap(int sig)
{
	app_sigtrap++;
}

long island_getppid(void);
long pre_getppid(void);
long trap_getppid(void);
__asm__(".text\n"
	".p2align 6\n"
	".globl island_getppid\n"
	"island_getppid:\n"
	"	mov $110, %eax\n"
	"	syscall\n"
	"	ret\n"
	"	.skip 9, 0xcc\n"		/* padding: the island */
	"	.rept 40\n"			/* no padding near pre_getppid */
	"	mov $0, %eax\n"
	"	.endr\n"
	".globl pre_getppid\n"
	"pre_getppid:\n"
	"	mov $110, %eax\n"
	"	syscall\n"
	"	ret\n"
	"	.rept 40\n"
	"	mov $0, %eax\n"
	"	.endr\n"
	".globl trap_getppid\n"		/* neither: an int3 */
	"trap_getppid:\n"
	"	mov $110, %edx\n"
	"	mov %edx, %eax\n"
	"	syscall\n"
	"	ret\n"
	"	.rept 40\n"
	"	mov $0, %eax\n"
	"	.endr\n");

static void test_trampolines(void **state)
{
	const uint8_t *isl = (const uint8_t *)(uintptr_t)island_getppid;
	const uint8_t *pre = (const uint8_t *)(uintptr_t)pre_getppid;
	const uint8_t *trap = (const uint8_t *)(uintptr_t)trap_getppid;
	struct sys_stats st0, st1;
	int i;

	reset_seen();
	add(1, "syscalls/sys_enter_getppid", true);
	sys_get_stats(&st0);
	if (st0.zpoline || (getenv("BPFX_SYSCALL_REWRITE") &&
			    !strcmp(getenv("BPFX_SYSCALL_REWRITE"), "none"))) {
		sys_prog_remove(1);
		skip();
	}
	assert_true(st0.trampolines); /* what a process without page 0 gets */
	assert_int_equal(isl[5], 0xeb);		/* jmp rel8 */
	assert_int_equal(isl[7 + (int8_t)isl[6]], 0xe9); /* the island */
	assert_int_equal(pre[0], 0xe9);		/* jmp rel32 */
	assert_int_equal(pre[5], 0x0f);
	assert_int_equal(pre[6], 0x05);
	assert_int_equal(trap[7], 0xcc);	/* int3 */
	assert_true(st0.trapped >= 1);
	for (i = 0; i < 50; i++) {
		assert_int_equal(island_getppid(), getppid());
		assert_int_equal(pre_getppid(), getppid());
		assert_int_equal(trap_getppid(), getppid());
	}
	sys_get_stats(&st1);
	assert_int_equal(seen[1].calls, 300);
	assert_int_equal(st1.sud_traps - st0.sud_traps, 0);
	/* SIGTRAP stays ours: blocking it is refused, a handler is chained */
	{
		struct sigaction sa = { 0 }, old;
		sigset_t all, now;

		sa.sa_handler = on_app_sigtrap;
		assert_int_equal(sigaction(SIGTRAP, &sa, NULL), 0);
		assert_int_equal(sigaction(SIGTRAP, NULL, &old), 0);
		assert_ptr_equal(old.sa_handler, on_app_sigtrap);
		sigfillset(&all);
		assert_int_equal(sigprocmask(SIG_BLOCK, &all, &now), 0);
		assert_int_equal(trap_getppid(), getppid()); /* not fatal */
		assert_int_equal(sigprocmask(SIG_SETMASK, &now, NULL), 0);
		assert_int_equal(raise(SIGTRAP), 0);	/* not ours: chained */
		assert_int_equal(app_sigtrap, 1);
		signal(SIGTRAP, SIG_DFL);
	}
	sys_prog_remove(1);
	assert_memory_equal(isl, "\xb8\x6e\x00\x00\x00\x0f\x05\xc3", 8);
	assert_memory_equal(pre, "\xb8\x6e\x00\x00\x00\x0f\x05\xc3", 8);
	assert_int_equal(trap[7], 0x0f);
	assert_int_equal(island_getppid(), getppid());
	/* again: the same trampolines */
	add(1, "syscalls/sys_enter_getppid", true);
	assert_int_equal(isl[5], 0xeb);
	assert_int_equal(pre[0], 0xe9);
	assert_int_equal(pre_getppid(), getppid());
	assert_int_equal(seen[1].calls, 304);
	sys_prog_remove(1);
}

/*
 * Site offsets are kept per file version in /dev/shm/bpfx-<uid>-sites
 * (sys_cache.c): a second install finds the same sites without sweeping;
 * an entry whose offsets do not point at `syscall` bytes is not used.
 */
static void test_site_cache(void **state)
{
	struct sys_stats st1, st2, st3;
	char dir[64], path[400];
	struct dirent *de;
	DIR *d;
	int n = 0;

	add(1, "syscalls/sys_enter_getppid", true);
	sys_get_stats(&st1);
	sys_prog_remove(1);
	if (!st1.zpoline || getenv("BPFX_SYSCALL_CACHE"))
		skip();
	add(1, "syscalls/sys_enter_getppid", true);
	sys_get_stats(&st2);
	sys_prog_remove(1);
	assert_true(st2.cached > 0);
	assert_int_equal(st2.sites, st1.sites);
	/* spoil every entry: offsets of bytes that are not `syscall` */
	snprintf(dir, sizeof(dir), "/dev/shm/bpfx-%u-sites", (unsigned)getuid());
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d))) {
		uint32_t bad[2] = { 0, 1 };
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = open(path, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, bad, sizeof(bad), 16), (ssize_t)sizeof(bad));
		close(fd);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
	reset_seen();
	add(1, "syscalls/sys_enter_getppid", true);
	sys_get_stats(&st3);
	assert_int_equal(st3.sites, st1.sites); /* swept again */
	assert_int_equal(inline_getppid(), getppid());
	assert_int_equal(seen[1].calls, 2);
	sys_prog_remove(1);
}

/* A program that cannot be attached leaves the syscalls alone. */
static void test_refused(void **state)
{
	struct bpfx_prog *p = make_prog(H_RECORD);
	struct sys_stats st;

	assert_int_equal(sys_prog_add(9, "syscalls/sys_enter_nosuch", p, NULL, 0), -ENOENT);
	assert_int_equal(sys_prog_add(9, "sched/sched_switch", p, NULL, 0), -EINVAL);
	assert_int_equal(sys_prog_add(9, "raw_syscalls/sys_enter", NULL, NULL, 0), -EINVAL);
	sys_get_stats(&st);
	assert_int_equal(st.sites, 0);
	assert_true(getppid() > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_enter_exit),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_jit_code),
		cmocka_unit_test(test_mapped_later),
		cmocka_unit_test(test_straddling_site),
		cmocka_unit_test(test_blocked_signals),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_signal_during_syscall),
		cmocka_unit_test(test_vfork),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_sigsys_handler),
		cmocka_unit_test(test_masked_installer),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_page0),
		cmocka_unit_test(test_trampolines),
		cmocka_unit_test(test_site_cache),
		cmocka_unit_test(test_one_program),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
