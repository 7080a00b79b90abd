/* SPDX-License-Identifier: MIT */
/*
 * test_hook.c - the inline hook engine (src/hook): prologue shapes, exact
 * restore, hit counts, overrides, return probes, recursion, threads,
 * longjmp, refusals, and real libc/libssl functions.
 *
 * Targets with a precise first instruction are written in assembly below;
 * the others are noinline C.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hook/hook.h"

#include "../common/regs_roundtrip.h"

/* ------------------------------------------------------------ targets */

long tgt_nop5(long), tgt_push(long), tgt_sub(long), tgt_lea(long),
	tgt_endbr(long), tgt_riprel(long), tgt_jcc(long), tgt_call(long),
	tgt_short(long), tgt_inner(long), tgt_int3(long), tgt_flags(void);
long tgt_data = 100;

__asm__(
	".text\n"
	".p2align 4\n"
	"tgt_nop5:\n"			/* 5-byte nop */
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"	/* nopl 0x0(%rax,%rax,1) */
	"	lea 1(%rdi), %rax\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_push:\n"			/* push rbp; mov rbp, rsp */
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	lea 2(%rdi), %rax\n"
	"	pop %rbp\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_sub:\n"			/* sub rsp, imm8 */
	"	sub $0x18, %rsp\n"
	"	lea 3(%rdi), %rax\n"
	"	add $0x18, %rsp\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_lea:\n"			/* lea first */
	"	lea 4(%rdi), %rax\n"
	"	add $0, %rax\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_endbr:\n"			/* endbr64; push rbx */
	"	endbr64\n"
	"	push %rbx\n"
	"	mov %rdi, %rbx\n"
	"	lea 5(%rbx), %rax\n"
	"	pop %rbx\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_riprel:\n"			/* RIP-relative load first */
	"	mov tgt_data(%rip), %rax\n"
	"	add %rdi, %rax\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_jcc:\n"			/* test; je rel8 inside the 5 bytes */
	"	test %rdi, %rdi\n"
	"	je 1f\n"
	"	lea 6(%rdi), %rax\n"
	"	ret\n"
	"1:	mov $-1, %rax\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_add7:\n"
	"	lea 7(%rdi), %rax\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_call:\n"			/* a call in the prologue */
	"	sub $8, %rsp\n"
	"	call tgt_add7\n"
	"	add $8, %rsp\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_short:\n"			/* ends before 5 bytes */
	"	xor %eax, %eax\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_inner:\n"			/* loop back into the first bytes */
	"	xor %eax, %eax\n"
	"2:	add $1, %rax\n"
	"	cmp %rdi, %rax\n"
	"	jb 2b\n"
	"	ret\n"
	".p2align 4\n"
	"tgt_int3:\n"			/* a debugger was here */
	"	int3\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"	/* nopl 0x0(%rax,%rax,1) */
	"	ret\n"
	".p2align 4\n"
	"tgt_flags:\n"			/* returns CF as it came in */
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"	/* nopl 0x0(%rax,%rax,1) */
	"	setc %al\n"
	"	movzbl %al, %eax\n"
	"	ret\n"
	".p2align 4\n");

static void check_roundtrip(void)
{
	uint64_t out[15 + 32];

	regs_roundtrip(tgt_leaf, out);
	for (int i = 0; i < 14; i++)
		assert_int_equal(out[i], RT_GPR(i));
	for (int i = 0; i < 16; i++) {
		assert_int_equal(out[15 + 2 * i], RT_XMM(i));
		assert_int_equal(out[16 + 2 * i], RT_XMM(i));
	}
}

static int call_flags_with_cf(void)
{
	long r;

	/* stc; call: the hook must hand the carry flag through */
	__asm__ volatile("sub $128, %%rsp\n\t"
			 "stc\n\t"
			 "call tgt_flags\n\t"
			 "add $128, %%rsp"
			 : "=a"(r)
			 :
			 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
			   "r11", "memory", "cc");
	return (int)r;
}

static volatile long side_effect;

__attribute__((noinline)) long c_work(long x)
{
	side_effect++;
	__asm__ volatile("" ::: "memory");
	return x * 3 + side_effect * 0;
}

static volatile long depth_sink;

__attribute__((noinline)) long c_recurse(long n)
{
	long r;

	__asm__ volatile("" ::: "memory");
	if (n <= 0)
		return 0;
	r = 1 + c_recurse(n - 1);
	depth_sink = r;		/* not a tail call, not a loop */
	return r;
}

__attribute__((noinline)) double c_fadd(double a, double b)
{
	__asm__ volatile("" ::: "memory");
	return a * 2 + b;
}

/* --------------------------------------------------------------- handlers */

struct counter {
	long hits, rets, last_ret, last_arg;
	long override;		/* nonzero: override the return with it */
	long set_ret;		/* nonzero: return handler replaces ax */
	long add_arg;		/* added to di on entry */
	long only_di;		/* nonzero: count only calls with this di */
};

static int on_entry(void *ctx, struct hook_regs *regs)
{
	struct counter *c = ctx;

	if (c->only_di && (long)regs->di != c->only_di)
		return HOOK_CONTINUE;
	__atomic_add_fetch(&c->hits, 1, __ATOMIC_RELAXED);
	c->last_arg = (long)regs->di;
	regs->di += (unsigned long)c->add_arg;
	if (c->override)
		return hook_regs_override_return(regs,
						 (unsigned long)c->override);
	return HOOK_CONTINUE;
}

static void on_return(void *ctx, struct hook_regs *regs)
{
	struct counter *c = ctx;

	__atomic_add_fetch(&c->rets, 1, __ATOMIC_RELAXED);
	c->last_ret = (long)regs->ax;
	if (c->set_ret)
		regs->ax = (unsigned long)c->set_ret;
}

static volatile double sink;

/* clobbers xmm registers and flags */
static int on_entry_fpu(void *ctx, struct hook_regs *regs)
{
	double v = (double)regs->di + 0.5;

	for (int i = 0; i < 8; i++)
		v = v * 1.25 - (double)i;
	sink = v;
	return on_entry(ctx, regs);
}

static char why[256];

static struct hook *install(void *fn, struct counter *c, bool ret)
{
	struct hook_desc d = {
		.sz = sizeof(d), .on_entry = on_entry,
		.on_return = ret ? on_return : NULL, .ctx = c,
		.why = why, .whylen = sizeof(why),
	};
	struct hook *h = NULL;
	int err = hook_install(fn, &d, &h);

	if (err)
		print_message("install %p: %d %s\n", fn, err, why);
	assert_int_equal(err, 0);
	assert_non_null(h);
	return h;
}

typedef long (*fn_t)(long);

static const struct {
	const char *name;
	fn_t fn;
	long add;
} shapes[] = {
	{ "nop5", tgt_nop5, 1 }, { "push", tgt_push, 2 }, { "sub", tgt_sub, 3 },
	{ "lea", tgt_lea, 4 }, { "endbr", tgt_endbr, 5 },
	{ "riprel", tgt_riprel, 100 }, { "jcc", tgt_jcc, 6 },
	{ "call", tgt_call, 7 }, { "c", c_work, 0 },
};

static long expect(fn_t fn, long add, long x)
{
	if (fn == c_work)
		return x * 3;
	if (fn == tgt_jcc && x == 0)
		return -1;
	return x + add;
}

/* ------------------------------------------------------------------ tests */

static void test_can_patch_shapes(void **state)
{
	struct hook_plan p;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		int err = hook_can_patch((void *)shapes[i].fn, &p, why,
					 sizeof(why));

		if (err)
			print_message("%s: %s\n", shapes[i].name, why);
		assert_int_equal(err, 0);
		assert_true(p.len >= 5);
	}
	assert_int_equal(hook_can_patch((void *)tgt_endbr, &p, NULL, 0), 0);
	assert_int_equal(p.site, (uint64_t)(uintptr_t)tgt_endbr + 4);
	assert_int_equal(hook_can_patch((void *)tgt_jcc, &p, NULL, 0), 0);
	assert_int_equal(p.kind[1], HOOK_RELOC_JCC);
	assert_int_equal(hook_can_patch((void *)tgt_riprel, &p, NULL, 0), 0);
	assert_int_equal(p.kind[0], HOOK_RELOC_RIPREL);
	assert_int_equal(hook_can_patch((void *)tgt_call, &p, NULL, 0), 0);
	assert_int_equal(p.kind[1], HOOK_RELOC_CALL);
	assert_int_equal(hook_can_patch((void *)tgt_nop5, &p, NULL, 0), 0);
	assert_int_equal(p.len, 5);
	assert_int_equal(p.ninsn, 1);
}

static void test_refusals(void **state)
{
	struct hook_plan p;
	struct counter c = { 0 };
	struct hook_desc d = { .sz = sizeof(d), .on_entry = on_entry,
			       .ctx = &c, .why = why, .whylen = sizeof(why) };
	struct hook *h = NULL;
	uint8_t before[16];

	assert_int_equal(hook_can_patch((void *)tgt_short, &p, why,
					sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "ends"));
	assert_int_equal(hook_can_patch((void *)tgt_inner, &p, why,
					sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "inside"));
	assert_int_equal(hook_can_patch((void *)tgt_int3, &p, why,
					sizeof(why)), -EBUSY);
	assert_non_null(strstr(why, "int3"));
	assert_int_equal(hook_can_patch((void *)&tgt_data, &p, why,
					sizeof(why)), -EFAULT);

	memcpy(before, (void *)tgt_inner, sizeof(before));
	why[0] = 0;
	assert_int_equal(hook_install((void *)tgt_inner, &d, &h), -EINVAL);
	assert_null(h);
	assert_non_null(strstr(why, "inside"));
	assert_memory_equal(before, (void *)tgt_inner, sizeof(before));
	assert_int_equal(tgt_inner(10), 10);

	/* a second hook on the same function */
	h = install((void *)tgt_nop5, &c, false);
	{
		struct hook *h2 = NULL;

		assert_int_equal(hook_install((void *)tgt_nop5, &d, &h2),
				 -EEXIST);
	}
	assert_int_equal(hook_remove(h), 0);
	d.on_entry = NULL;
	assert_int_equal(hook_install((void *)tgt_nop5, &d, &h), -EINVAL);
}

static void test_restore_identical(void **state)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		fn_t fn = shapes[i].fn;
		uint8_t before[32], *code = (uint8_t *)fn;
		struct counter c = { 0 };
		struct hook *h;

		memcpy(before, code, sizeof(before));
		for (int round = 0; round < 3; round++) {
			h = install((void *)fn, &c, round == 2);
			assert_memory_not_equal(before, code, 5 +
						(fn == tgt_endbr ? 4 : 0));
			for (long x = 0; x < 10; x++)
				assert_int_equal(fn(x), expect(fn, shapes[i].add,
							       x));
			assert_int_equal(hook_remove(h), 0);
			assert_memory_equal(before, code, sizeof(before));
			assert_int_equal(fn(7), expect(fn, shapes[i].add, 7));
		}
		assert_int_equal(c.hits, 30);
		assert_int_equal(c.rets, 10);
	}
}

static void test_hits_exact(void **state)
{
	struct counter c = { 0 };
	struct hook *h = install((void *)tgt_push, &c, false);

	for (long i = 0; i < 100000; i++)
		assert_int_equal(tgt_push(i), i + 2);
	assert_int_equal(c.hits, 100000);
	assert_int_equal(c.last_arg, 99999);
	assert_int_equal(hook_remove(h), 0);
	tgt_push(1);
	assert_int_equal(c.hits, 100000);
}

static void test_override_return(void **state)
{
	struct counter c = { .override = 42 };
	struct hook *h;
	long before = side_effect;

	h = install((void *)c_work, &c, true);
	assert_int_equal(c_work(5), 42);
	assert_int_equal(side_effect, before);	/* body skipped */
	assert_int_equal(c.hits, 1);
	assert_int_equal(c.rets, 0);		/* nothing returned */
	c.override = 0;
	assert_int_equal(c_work(5), 15);
	assert_int_equal(side_effect, before + 1);
	assert_int_equal(hook_remove(h), 0);

	/* argument rewrite */
	c = (struct counter){ .add_arg = 10 };
	h = install((void *)tgt_lea, &c, false);
	assert_int_equal(tgt_lea(1), 15);
	assert_int_equal(hook_remove(h), 0);
}

static void test_uretprobe(void **state)
{
	struct counter c = { 0 };
	struct hook *h = install((void *)tgt_riprel, &c, true);

	assert_int_equal(tgt_riprel(5), 105);
	assert_int_equal(c.rets, 1);
	assert_int_equal(c.last_ret, 105);
	c.set_ret = 77;
	assert_int_equal(tgt_riprel(5), 77);
	assert_int_equal(c.hits, 2);
	assert_int_equal(c.rets, 2);
	assert_int_equal(hook_remove(h), 0);
	assert_int_equal(tgt_riprel(5), 105);
	assert_int_equal(hook_nmissed(h), 0);
}

static void test_registers_preserved(void **state)
{
	struct counter c = { 0 };
	struct hook_desc d = { .sz = sizeof(d), .on_entry = on_entry_fpu,
			       .on_return = on_return, .ctx = &c };
	struct hook *h = NULL;

	assert_int_equal(call_flags_with_cf(), 1);
	assert_int_equal(hook_install((void *)tgt_flags, &d, &h), 0);
	assert_int_equal(call_flags_with_cf(), 1);
	assert_int_equal(hook_remove(h), 0);

	assert_int_equal(hook_install((void *)c_fadd, &d, &h), 0);
	for (int i = 0; i < 100; i++)
		assert_true(c_fadd(1.5 + i, 0.25) == (1.5 + i) * 2 + 0.25);
	assert_int_equal(hook_remove(h), 0);
	assert_int_equal(c.hits, 101);
}

/* Entry and return handlers that clobber xmm and scratch registers: the
 * caller of the hooked function sees every register as it left it. */
static void test_registers_all_kept(void **state)
{
	struct counter c = { 0 };
	struct hook_desc d = { .sz = sizeof(d), .on_entry = on_entry_fpu,
			       .on_return = on_return, .ctx = &c };
	struct hook *h = NULL;

	check_roundtrip();
	assert_int_equal(hook_install((void *)tgt_leaf, &d, &h), 0);
	check_roundtrip();
	d.on_return = NULL;
	assert_int_equal(hook_remove(h), 0);
	assert_int_equal(hook_install((void *)tgt_leaf, &d, &h), 0);
	check_roundtrip();
	assert_int_equal(hook_remove(h), 0);
	assert_int_equal(c.hits, 2);
	assert_int_equal(c.rets, 1);
}

/* HOOK_F_NO_VECTOR: handlers that touch general registers only; the stubs
 * save no xmm, and every register still comes back. */
static void test_registers_kept_novec(void **state)
{
	struct counter c = { 0 };
	struct hook_desc d = { .sz = sizeof(d), .on_entry = on_entry,
			       .on_return = on_return, .ctx = &c,
			       .flags = HOOK_F_NO_VECTOR };
	struct hook *h = NULL;

	assert_int_equal(hook_install((void *)tgt_leaf, &d, &h), 0);
	for (int i = 0; i < 3; i++)	/* the first hit registers the thread */
		check_roundtrip();
	assert_int_equal(hook_remove(h), 0);
	assert_int_equal(c.hits, 3);
	assert_int_equal(c.rets, 3);
}

static void test_recursion_10000(void **state)
{
	struct counter c = { 0 };
	struct hook *h = install((void *)c_recurse, &c, true);

	assert_int_equal(c_recurse(10000), 10000);
	assert_int_equal(c.hits, 10001);
	assert_int_equal(c.rets, 10001);
	assert_int_equal(c.last_ret, 10000);
	assert_int_equal(hook_nmissed(h), 0);
	assert_int_equal(hook_remove(h), 0);
}

static jmp_buf jb;

__attribute__((noinline)) long c_jumper(long x)
{
	__asm__ volatile("" ::: "memory");
	if (x > 0)
		longjmp(jb, 1);
	return x;
}

__attribute__((noinline)) long c_outer(long x)
{
	long r = c_jumper(x);

	__asm__ volatile("" ::: "memory");
	return r + 1;
}

static void test_longjmp(void **state)
{
	struct counter cj = { 0 }, co = { 0 };
	struct hook *hj = install((void *)c_jumper, &cj, true);
	struct hook *ho = install((void *)c_outer, &co, true);

	for (int i = 0; i < 1000; i++) {
		if (!setjmp(jb)) {
			c_outer(1);	/* both frames skipped */
			fail();
		}
		/* the stale frames must not confuse later calls */
		assert_int_equal(c_outer(0), 1);
		assert_int_equal(c_jumper(0), 0);
	}
	assert_int_equal(cj.hits, 3000);
	assert_int_equal(cj.rets, 2000);
	assert_int_equal(co.hits, 2000);
	assert_int_equal(co.rets, 1000);
	assert_int_equal(c_recurse(100), 100);
	assert_int_equal(hook_remove(hj), 0);
	assert_int_equal(hook_remove(ho), 0);
}

/* ---- threads: hammer while hooking and unhooking ---- */

#define NTHREADS 8

static volatile int stop;
static long calls[NTHREADS];
static pthread_barrier_t bar;

struct worker {
	int id;
	fn_t fn;
	long add;
	long bad;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		long x = (long)(calls[w->id] & 0xffff) + 1;

		if (w->fn(x) != x + w->add)
			w->bad++;
		calls[w->id]++;
	}
	pthread_barrier_wait(&bar);	/* phase 2: exact counts */
	pthread_barrier_wait(&bar);
	for (int i = 0; i < 20000; i++)
		if (w->fn(i + 1) != i + 1 + w->add)
			w->bad++;
	pthread_barrier_wait(&bar);
	return NULL;
}

static void run_threads(fn_t fn, long add, bool ret)
{
	pthread_t t[NTHREADS];
	struct worker w[NTHREADS];
	struct counter c = { 0 };
	struct hook *h;

	stop = 0;
	pthread_barrier_init(&bar, NULL, NTHREADS + 1);
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .id = i, .fn = fn, .add = add };
		calls[i] = 0;
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
	}
	for (int i = 0; i < 1000; i++) {
		h = install((void *)fn, &c, ret);
		if (i % 16 == 0)
			usleep(100);
		assert_int_equal(hook_remove(h), 0);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_barrier_wait(&bar);
	c.hits = c.rets = 0;
	h = install((void *)fn, &c, ret);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	assert_int_equal(c.hits, NTHREADS * 20000);
	if (ret)
		assert_int_equal(c.rets, NTHREADS * 20000);
	assert_int_equal(hook_remove(h), 0);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
		assert_true(calls[i] > 0);
	}
	pthread_barrier_destroy(&bar);
}

static void test_threads_toggle(void **state)
{
	run_threads(tgt_push, 2, false);	/* needs evacuation */
}

static void test_threads_toggle_ret(void **state)
{
	run_threads(tgt_jcc, 6, true);
}

/* A thread that blocks every signal (as nginx's thread pools do) cannot
 * be evacuated: asleep elsewhere it needs not be, and the install goes on;
 * running, the install is refused with the reason. */
static volatile int blocker_mode; /* 0 sleep in read, 1 spin, 2 quit */
static int blocker_pipe[2];

static void *blocker(void *arg)
{
	sigset_t all;
	char c;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (blocker_mode == 0) {
		if (read(blocker_pipe[0], &c, 1) < 0)
			return NULL;
	} else {
		while (blocker_mode == 1)
			__asm__ volatile("pause");
	}
	return NULL;
}

static void test_signal_blocking_thread(void **state)
{
	struct counter c = { 0 };
	struct hook_desc d = { .sz = sizeof(d), .on_entry = on_entry, .ctx = &c,
			       .why = why, .whylen = sizeof(why) };
	struct hook *h = NULL;
	pthread_t t;

	assert_int_equal(pipe(blocker_pipe), 0);
	blocker_mode = 0;
	assert_int_equal(pthread_create(&t, NULL, blocker, NULL), 0);
	usleep(20000);			/* asleep in read() */
	assert_int_equal(hook_install((void *)tgt_push, &d, &h), 0);
	assert_int_equal(tgt_push(40), 42);
	assert_int_equal(c.hits, 1);
	assert_int_equal(hook_remove(h), 0);
	assert_int_equal(write(blocker_pipe[1], "x", 1), 1);
	pthread_join(t, NULL);

	blocker_mode = 1;
	assert_int_equal(pthread_create(&t, NULL, blocker, NULL), 0);
	usleep(20000);			/* spinning: its pc is unknown */
	why[0] = 0;
	assert_int_equal(hook_install((void *)tgt_push, &d, &h), -EBUSY);
	assert_non_null(strstr(why, "is running"));
	assert_int_equal(tgt_push(40), 42);	/* untouched */
	assert_int_equal(c.hits, 1);
	blocker_mode = 2;
	pthread_join(t, NULL);
	close(blocker_pipe[0]);
	close(blocker_pipe[1]);
}

/* ---- libc ---- */

static void *libc_sym(const char *name)
{
	void *lib = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);

	assert_non_null(lib);
	return dlsym(lib, name);
}

static struct counter free_c;
static void *free_ptr;

static int on_free(void *ctx, struct hook_regs *regs)
{
	if ((void *)regs->di == free_ptr)
		free_c.hits++;
	return HOOK_CONTINUE;
}

static void test_libc_malloc_free(void **state)
{
	void *(*lmalloc)(size_t) = (void *(*)(size_t))libc_sym("malloc");
	void (*lfree)(void *) = (void (*)(void *))libc_sym("free");
	struct hook_desc d = { .sz = sizeof(d), .on_entry = on_free,
			       .why = why, .whylen = sizeof(why) };
	struct counter mc = { 0 };
	uint8_t bf[32], bm[32];
	struct hook *hf = NULL, *hm;
	int err;

	memcpy(bf, (void *)lfree, 32);
	memcpy(bm, (void *)lmalloc, 32);
	err = hook_install((void *)lfree, &d, &hf);
	if (err)
		print_message("free: %s\n", why);
	assert_int_equal(err, 0);
	hm = install((void *)lmalloc, &mc, true);
	for (int i = 0; i < 1000; i++) {
		free_ptr = lmalloc(64 + (size_t)i);
		assert_non_null(free_ptr);
		assert_int_equal(mc.last_ret, (long)free_ptr);
		lfree(free_ptr);
	}
	lfree(NULL);	/* the je path */
	assert_int_equal(free_c.hits, 1000);
	assert_true(mc.rets >= 1000);
	assert_int_equal(hook_remove(hm), 0);
	assert_int_equal(hook_remove(hf), 0);
	assert_memory_equal(bf, (void *)lfree, 32);
	assert_memory_equal(bm, (void *)lmalloc, 32);
}

static void test_libc_read_write(void **state)
{
	ssize_t (*lread)(int, void *, size_t) =
		(ssize_t (*)(int, void *, size_t))libc_sym("read");
	ssize_t (*lwrite)(int, const void *, size_t) =
		(ssize_t (*)(int, const void *, size_t))libc_sym("write");
	struct counter rc = { 0 }, wc = { 0 };
	uint8_t br[32], bw[32];
	struct hook *hr, *hw;
	char buf[16];
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	rc.only_di = fds[0];
	wc.only_di = fds[1];
	memcpy(br, (void *)lread, 32);
	memcpy(bw, (void *)lwrite, 32);
	hr = install((void *)lread, &rc, true);
	hw = install((void *)lwrite, &wc, true);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(lwrite(fds[1], "hello", 5), 5);
		assert_int_equal(wc.last_arg, fds[1]);
		assert_int_equal(wc.last_ret, 5);
		assert_int_equal(lread(fds[0], buf, sizeof(buf)), 5);
		assert_int_equal(rc.last_ret, 5);
		assert_memory_equal(buf, "hello", 5);
	}
	assert_int_equal(hook_remove(hr), 0);
	assert_int_equal(hook_remove(hw), 0);
	assert_int_equal(wc.hits, 100);
	assert_int_equal(rc.hits, 100);
	assert_true(rc.rets >= 100);	/* our own /proc reads count too */
	assert_memory_equal(br, (void *)lread, 32);
	assert_memory_equal(bw, (void *)lwrite, 32);
	close(fds[0]);
	close(fds[1]);
}

static void test_libssl_write_ex(void **state)
{
	void *lib = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
	struct hook_plan p;
	struct counter c = { 0 };
	struct hook *h;
	uint8_t before[32];
	void *fn;
	int has_call = 0;

	if (!lib) {
		print_message("skip: libssl.so.3 not installed\n");
		skip();
	}
	fn = dlsym(lib, "SSL_write_ex");
	assert_non_null(fn);
	assert_int_equal(hook_can_patch(fn, &p, why, sizeof(why)), 0);
	for (int i = 0; i < p.ninsn; i++)
		has_call |= p.kind[i] == HOOK_RELOC_CALL;
	if (!has_call)
		print_message("note: this SSL_write_ex has no call in its "
			      "first bytes\n");
	memcpy(before, fn, sizeof(before));
	h = install(fn, &c, true);
	assert_int_equal(hook_remove(h), 0);
	assert_memory_equal(before, fn, sizeof(before));
	/* not dlclose'd: its trampoline stays cached */
}

static void test_sync_mechanism(void **state)
{
	struct counter c = { 0 };
	struct hook *h = install((void *)tgt_sub, &c, false);

	print_message("serialization: %s\n", hook_sync_mechanism());
	assert_null(strstr(hook_sync_mechanism(), "not initialized"));
	assert_int_equal(hook_remove(h), 0);
	assert_int_equal(hook_remove(NULL), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_can_patch_shapes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_restore_identical),
		cmocka_unit_test(test_hits_exact),
		cmocka_unit_test(test_override_return),
		cmocka_unit_test(test_uretprobe),
		cmocka_unit_test(test_registers_preserved),
		cmocka_unit_test(test_registers_all_kept),
		cmocka_unit_test(test_registers_kept_novec),
		cmocka_unit_test(test_recursion_10000),
		cmocka_unit_test(test_longjmp),
		cmocka_unit_test(test_threads_toggle),
		cmocka_unit_test(test_threads_toggle_ret),
		cmocka_unit_test(test_signal_blocking_thread),
		cmocka_unit_test(test_libc_malloc_free),
		cmocka_unit_test(test_libc_read_write),
		cmocka_unit_test(test_libssl_write_ex),
		cmocka_unit_test(test_sync_mechanism),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
