/* SPDX-License-Identifier: MIT */
/*
 * uprobe_bench.c - ns per call of four small functions (first instruction:
 * 5-byte nop, push, lea+sub, endbr64) with no probe, a bpfx entry hook with
 * an empty handler (xmm0-15 saved, and none: HOOK_F_NO_VECTOR), a return
 * hook, both, and the kernel's uprobe / uretprobe (perf_event_open, uprobe
 * PMU, no BPF program: the trap alone), all in one run. Medians of 7 runs.
 *
 *   bench_uprobe [iterations] [--no-kernel]
 *                     (default 5,000,000; kernel: 1/20th; --no-kernel
 *                     skips the kernel columns, for quick iterations)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench_uprobe.h"
#include "hook/hook.h"

long b_nop5(long), b_push(long), b_lea(long), b_endbr(long);

__asm__(".text\n"
	".p2align 4\n"
	".globl b_nop5\n"
	".type b_nop5, @function\n" /* as a compiler emits */
	"b_nop5:\n"
	"	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n" /* nopl 0x0(%rax,%rax,1) */
	"	lea 1(%rdi), %rax\n"
	"	ret\n"
	".p2align 4\n"
	".globl b_push\n"
	".type b_push, @function\n" /* as a compiler emits */
	"b_push:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	lea 2(%rdi), %rax\n"
	"	pop %rbp\n"
	"	ret\n"
	".p2align 4\n"
	".globl b_lea\n"
	".type b_lea, @function\n" /* as a compiler emits */
	"b_lea:\n"
	"	lea 3(%rdi), %rax\n"
	"	sub $8, %rsp\n"
	"	add $8, %rsp\n"
	"	ret\n"
	".p2align 4\n"
	".globl b_endbr\n"
	".type b_endbr, @function\n" /* as a compiler emits */
	"b_endbr:\n"
	"	endbr64\n"
	"	push %rbx\n"
	"	lea 4(%rdi), %rax\n"
	"	pop %rbx\n"
	"	ret\n");

static int empty_entry(void *ctx, struct hook_regs *regs)
{
	return HOOK_CONTINUE;
}

static void empty_return(void *ctx, struct hook_regs *regs)
{
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* median ns per call over 7 runs */
double bench_measure(long (*volatile fn)(long), long iters)
{
	double r[7];
	long acc = 0;

	for (int k = 0; k < 7; k++) {
		double t0 = now_ns();

		for (long i = 0; i < iters; i++)
			acc += fn(i);
		r[k] = (now_ns() - t0) / (double)iters;
	}
	if (acc == 42)
		puts("");
	qsort(r, 7, sizeof(r[0]), cmp_double);
	return r[3];
}

/* ---- kernel uprobe through the perf uprobe PMU ---- */

static int uprobe_type = -2;
static bool kernel_off;

static int read_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* file path and offset of addr, from /proc/self/maps */
int bench_file_offset(void *addr, char *path, size_t plen, uint64_t *off)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	uint64_t a = (uint64_t)(uintptr_t)addr;
	int ok = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, o;
		char perm[8], p[512] = "";

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %511s", &s, &e, perm,
			   &o, p) < 4)
			continue;
		if (a >= s && a < e && p[0] == '/') {
			snprintf(path, plen, "%s", p);
			*off = a - s + o;
			ok = 0;
			break;
		}
	}
	fclose(f);
	return ok;
}

static long kernel_syscall(long nr, long a1, long a2, long a3, long a4, long a5)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static int kprobe_open(void *fn, int ret, const char **why)
{
	struct perf_event_attr attr;
	char path[512];
	uint64_t off;
	int fd, retbit;

	if (uprobe_type == -2)
		uprobe_type = read_int("/sys/bus/event_source/devices/uprobe/type");
	if (uprobe_type < 0) {
		*why = "no uprobe PMU in /sys/bus/event_source/devices";
		return -1;
	}
	if (bench_file_offset(fn, path, sizeof(path), &off)) {
		*why = "target not in a file mapping";
		return -1;
	}
	retbit = read_int("/sys/bus/event_source/devices/uprobe/format/retprobe") ;
	(void)retbit;	/* "config:0" does not parse as an int; bit 0 it is */
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (uint32_t)uprobe_type;
	attr.config = ret ? 1 : 0;
	attr.config1 = (uint64_t)(uintptr_t)path;	/* uprobe_path */
	attr.config2 = off;				/* probe_offset */
	attr.disabled = 1;
	/* straight to the kernel: this binary also routes libbpf's
	 * perf_event_open/ioctl to bpfx (prog_bench.c) */
	fd = (int)kernel_syscall(SYS_perf_event_open, (long)&attr, 0, -1, -1,
				 PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		*why = strerror(-fd);
		return -1;
	}
	kernel_syscall(SYS_ioctl, fd, PERF_EVENT_IOC_ENABLE, 0, 0, 0);
	return fd;
}

static double kernel_cost(long (*fn)(long), int ret, long iters,
			  const char **why)
{
	uint64_t hits = 0;
	double ns;
	int fd;

	if (kernel_off) {
		*why = "--no-kernel";
		return -1;
	}
	fd = kprobe_open((void *)fn, ret, why);
	if (fd < 0)
		return -1;
	ns = bench_measure(fn, iters);
	if (read(fd, &hits, sizeof(hits)) != sizeof(hits) ||
	    hits < (uint64_t)iters * 7) {
		*why = "the kernel did not count the hits (probe refused at "
		       "this instruction?)";
		ns = -1;
	}
	close(fd);
	return ns;
}

/* ---- bpfx hooks ---- */

static double hook_cost(long (*fn)(long), hook_entry_fn e, hook_return_fn r,
			unsigned flags, long iters)
{
	char why[256] = "";
	struct hook_desc d = { .sz = sizeof(d), .on_entry = e, .on_return = r,
			       .flags = flags, .why = why,
			       .whylen = sizeof(why) };
	struct hook *h;
	double ns;
	int err = hook_install((void *)fn, &d, &h);

	if (err) {
		fprintf(stderr, "hook_install: %s (%d)\n", why, err);
		return -1;
	}
	ns = bench_measure(fn, iters);
	hook_remove(h);
	return ns;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		long (*fn)(long);
	} t[] = {
		{ "nop5", b_nop5 }, { "push", b_push },
		{ "lea/sub", b_lea }, { "endbr64", b_endbr },
	};
	const char *kwhy = NULL;
	long iters;

	if (argc > 1 && !strcmp(argv[argc - 1], "--no-kernel")) {
		kernel_off = true;
		argc--;
	}
	iters = argc > 1 ? atol(argv[1]) : 5000000;
	if (argc > 2 || iters < 20) {
		fprintf(stderr, "usage: bench_uprobe [CALLS] [--no-kernel]   "
			"(CALLS >= 20, default 5000000)\n");
		return 2;
	}

	printf("bench/uprobe: ns per call, median of 7 runs x %ld calls "
	       "(kernel: x %ld)\n", iters, iters / 20);
	printf("\n");
	printf("%-8s %7s %7s %8s %7s %7s | %8s %8s %8s | %8s %8s\n",
	       "function", "none", "entry", "novec", "return", "both",
	       "entry-0", "ret-0", "both-0", "k-uprobe", "k-uret");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double none = bench_measure(t[i].fn, iters);
		double en = hook_cost(t[i].fn, empty_entry, NULL, 0, iters);
		double e8 = hook_cost(t[i].fn, empty_entry, NULL,
				      HOOK_F_NO_VECTOR, iters);
		double re = hook_cost(t[i].fn, NULL, empty_return, 0, iters);
		double bo = hook_cost(t[i].fn, empty_entry, empty_return, 0,
				      iters);
		double ku = kernel_cost(t[i].fn, 0, iters / 20, &kwhy);
		double kr = kernel_cost(t[i].fn, 1, iters / 20, &kwhy);

		printf("%-8s %7.2f %7.2f %8.2f %7.2f %7.2f | %8.2f %8.2f %8.2f |"
		       " %8.1f %8.1f\n", t[i].name, none, en, e8, re, bo,
		       en - none, re - none, bo - none, ku, kr);
		if (ku > 0 && kr > 0 && en > none && re > none)
			printf("%-8s kernel uprobe / bpfx entry (added cost): "
			       "%.0fx, uretprobe / bpfx return: %.0fx\n", "",
			       (ku - none) / (en - none),
			       (kr - none) / (re - none));
	}
	printf("\nthe whole path: libbpf + emulation + attach layer + JIT'd empty program\n");
	printf("%-8s %7s %9s %9s %9s %9s %9s | %10s\n", "function", "none",
	       "uprobe", "uretprobe", "+helper", "+vhelper", "detached", "k/bpfx");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double none = bench_measure(t[i].fn, iters);
		double up = bench_prog_cost(t[i].fn, "empty_entry", 0, iters);
		double ur = bench_prog_cost(t[i].fn, "empty_return", 1, iters);
		double uh = bench_prog_cost(t[i].fn, "helper_entry", 0, iters);
		double uv = bench_prog_cost(t[i].fn, "vec_helper_entry", 0, iters);
		double after = bench_measure(t[i].fn, iters);
		double ku = kernel_cost(t[i].fn, 0, iters / 20, &kwhy);

		printf("%-8s %7.2f %9.2f %9.2f %9.2f %9.2f %9.2f | %9.0fx\n",
		       t[i].name, none, up, ur, uh, uv, after,
		       up > none && ku > 0 ? (ku - none) / (up - none) : 0.0);
	}
	bench_prog_done();
	printf("\nserialization: %s\n", hook_sync_mechanism());
	if (kwhy)
		printf("\nkernel uprobe skipped: %s\n", kwhy);
	printf("\nnone: no probe; entry: empty entry handler, xmm0-15 saved; "
	       "novec: none saved;\nreturn: empty return handler (shadow "
	       "stack); both: entry + return; X-0: added cost;\n+helper: a "
	       "uprobe program calling bpf_get_current_pid_tgid (vector-free);\n"
	       "+vhelper: one calling bpf_get_current_comm (libc: xmm0-15 "
	       "saved).\n");
	return 0;
}
