/* SPDX-License-Identifier: MIT */
/*
 * syscall_bench.c - ns per syscall, two workloads (a getppid loop; an
 * openat/read/close loop, per syscall), under:
 *
 *   none          no interception
 *   bpfx idle     interception installed, no program on these syscalls
 *                 (a program sits on sys_enter_getpid): the fast path
 *   bpfx enter    an empty program on sys_enter_<each>
 *   bpfx en+ex    empty programs on sys_enter_<each> and sys_exit_<each>
 *   bpfx raw      empty programs on raw_syscalls sys_enter and sys_exit
 *   kernel enter  the kernel's tracepoint, empty BPF program, sys_enter
 *   kernel raw    the kernel's raw_syscalls sys_enter + sys_exit
 *
 * Programs are JIT-compiled `r0 = 0; exit`. Each cell is the median of 9
 * runs; configurations are interleaved within each run, in an order that
 * rotates run by run, so drift and order effects hit all alike.
 * The "added" column is the difference to "none". Kernel rows need
 * bpf(2) (root) and tracefs; they are skipped with the reason otherwise.
 *
 *   bench_syscall [getppid iterations]   (default 300,000; files: 1/10th)
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "attach/sys_internal.h"
#include "vm/vm_internal.h"

#define RUNS 31

enum cfg { C_NONE, C_IDLE, C_ENTER, C_BOTH, C_RAW, C_KENTER, C_KRAW, C_N };
static const char *const cfg_name[C_N] = {
	"none", "bpfx idle", "bpfx enter", "bpfx en+ex", "bpfx raw",
	"kernel enter", "kernel raw",
};

static struct bpfx_prog *empty;
static struct bpf_object *kobj;
static struct bpf_link *klinks[8];
static int nklinks;
static const char *kskip;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double loop_getppid(long n)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++)
		getppid();
	return (double)(now_ns() - t0) / (double)n;
}

/* per syscall: 3 per iteration */
static double loop_files(long n)
{
	char buf[64];
	uint64_t t0 = now_ns();

	for (long i = 0; i < n; i++) {
		int fd = open("/etc/hostname", O_RDONLY);

		if (read(fd, buf, sizeof(buf)) < 0)
			abort();
		close(fd);
	}
	return (double)(now_ns() - t0) / (double)(3 * n);
}

static void bpfx_add(uint32_t id, const char *tp)
{
	int err = sys_prog_add(id, tp, empty, empty->jit_entry, 0);

	if (err) {
		fprintf(stderr, "bench_syscall: %s: %s\n", tp, strerror(-err));
		exit(1);
	}
}

static void bpfx_clear(void)
{
	for (uint32_t id = 1; id < 32; id++)
		sys_prog_remove(id);
}

static void kernel_attach(const char *const *progs)
{
	for (; *progs; progs++) {
		struct bpf_program *p = bpf_object__find_program_by_name(kobj, *progs);
		struct bpf_link *l = p ? bpf_program__attach(p) : NULL;

		if (l)
			klinks[nklinks++] = l;
	}
}

static void kernel_clear(void)
{
	while (nklinks)
		bpf_link__destroy(klinks[--nklinks]);
}

static bool setup(enum cfg c, int workload)
{
	static const char *const ke0[] = { "k_enter_getppid", NULL };
	static const char *const ke1[] = { "k_enter_openat", "k_enter_read",
					   "k_enter_close", NULL };
	static const char *const kraw[] = { "k_raw_enter", "k_raw_exit", NULL };

	switch (c) {
	case C_NONE:
		return true;
	case C_IDLE:
		bpfx_add(1, "syscalls/sys_enter_getpid");
		return true;
	case C_ENTER:
	case C_BOTH:
		if (!workload) {
			bpfx_add(1, "syscalls/sys_enter_getppid");
			if (c == C_BOTH)
				bpfx_add(2, "syscalls/sys_exit_getppid");
		} else {
			bpfx_add(1, "syscalls/sys_enter_openat");
			bpfx_add(2, "syscalls/sys_enter_read");
			bpfx_add(3, "syscalls/sys_enter_close");
			if (c == C_BOTH) {
				bpfx_add(4, "syscalls/sys_exit_openat");
				bpfx_add(5, "syscalls/sys_exit_read");
				bpfx_add(6, "syscalls/sys_exit_close");
			}
		}
		return true;
	case C_RAW:
		bpfx_add(1, "raw_syscalls/sys_enter");
		bpfx_add(2, "raw_syscalls/sys_exit");
		return true;
	case C_KENTER:
		if (kskip)
			return false;
		kernel_attach(workload ? ke1 : ke0);
		return true;
	case C_KRAW:
		if (kskip)
			return false;
		kernel_attach(kraw);
		return true;
	default:
		return false;
	}
}

static void teardown(void)
{
	bpfx_clear();
	kernel_clear();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void kernel_open(void)
{
	int err;

	libbpf_set_print(NULL);
	if (access("/sys/kernel/tracing/events/syscalls/sys_enter_getppid/id", R_OK)) {
		kskip = "tracefs not mounted at /sys/kernel/tracing";
		return;
	}
	kobj = bpf_object__open_file(KTP_OBJ, NULL);
	if (!kobj) {
		kskip = "cannot open ktp.bpf.o";
		return;
	}
	err = bpf_object__load(kobj);
	if (err) {
		kskip = err == -EPERM || err == -EACCES ? "bpf(2) not permitted"
							: "kernel refused the program";
		bpf_object__close(kobj);
		kobj = NULL;
	}
}

int main(int argc, char **argv)
{
	static const struct bpfx_insn insns[2] = {
		{ .code = 0xb7, .dst = 0, .imm = 0 }, /* r0 = 0 */
		{ .code = 0x95 },		      /* exit */
	};
	static const char *const wname[2] = { "getppid", "open/read/close" };
	long n = argc > 1 ? atol(argv[1]) : 100000;
	double res[2][C_N][RUNS];
	struct sys_stats st;
	struct bpfx_vm *vm = bpfx_vm_create();

	empty = vm ? bpfx_prog_load(vm, insns, 2, NULL) : NULL;
	if (!empty || bpfx_prog_jit(empty)) {
		fprintf(stderr, "bench_syscall: cannot build the empty program\n");
		return 1;
	}
	kernel_open();
	bpfx_add(1, "syscalls/sys_enter_getpid");
	sys_get_stats(&st);
	bpfx_clear();
	printf("bench/syscall: ns per syscall, median of %d runs; %ld getppid, %ld x "
	       "open/read/close per run\n", RUNS, n, n / 10);
	printf("interception: %s%s; %u sites rewritten; the stub returns by %s\n",
	       st.zpoline ? "zpoline (page 0 trampoline)" :
	       st.trampolines ? "per-site trampolines (no page 0)" : "SUD only",
	       st.sud ? " + Syscall User Dispatch net" : "", st.sites,
	       st.jmp_return ? "jmp" : "ret");
	if (kskip)
		printf("kernel rows skipped: %s\n", kskip);
	for (int w = 0; w < 2; w++) {
		loop_getppid(n / 10); /* warm up */
		for (int r = 0; r < RUNS; r++) {
			for (int i = 0; i < C_N; i++) {
				int c = (i + r) % C_N; /* rotate: no config always first */

				res[w][c][r] = -1;
				if (!setup((enum cfg)c, w)) {
					teardown();
					continue;
				}
				res[w][c][r] = w ? loop_files(n / 10) : loop_getppid(n);
				teardown();
			}
		}
	}
	printf("\n%-16s %-13s %9s %9s %7s\n", "workload", "config", "ns/call", "added",
	       "ratio");
	for (int w = 0; w < 2; w++) {
		double base = 0;

		for (int c = 0; c < C_N; c++) {
			double m;

			if (res[w][c][0] < 0) {
				printf("%-16s %-13s %9s\n", wname[w], cfg_name[c], "skipped");
				continue;
			}
			qsort(res[w][c], RUNS, sizeof(double), cmp_double);
			m = res[w][c][RUNS / 2];
			if (c == C_NONE)
				base = m;
			printf("%-16s %-13s %9.1f %+9.1f %6.2fx\n", wname[w], cfg_name[c], m,
			       m - base, m / base);
		}
	}
	if (kobj)
		bpf_object__close(kobj);
	return 0;
}
