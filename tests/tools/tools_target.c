/* SPDX-License-Identifier: MIT */
/*
 * tools_target - the target of the `bpfx load -- TOOL` tests and of
 * bench/tools.
 *
 *   tools_target N [DELAY_US]   calls tools_work(i) for i < N (its return
 *                               value is (i % 8) * 100, so a histogram of
 *                               it has N / 8 in each of 8 slots), prints
 *                               "tools_target: N calls"
 *   tools_target --bench N      for each line read on stdin, times N calls
 *                               of tools_hot (or as many as the line says)
 *                               and prints "ns/call X.XX"
 *
 * tools_hot is written in assembly so that its first instruction is a
 * `lea`, which the kernel's uprobes cannot emulate: every kernel hit
 * single-steps it out of line.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long tools_hot(long x);
__asm__(".text\n"
	".globl tools_hot\n"
	".type tools_hot, @function\n"
	"tools_hot:\n"
	"	lea 1(%rdi), %rax\n"	/* the kernel must single-step this */
	"	add %rdi, %rax\n"
	"	ret\n"
	".size tools_hot, .-tools_hot\n");

__attribute__((noinline, visibility("default"))) long tools_work(long i);
__attribute__((noinline, visibility("default"))) long tools_work(long i)
{
	__asm__ volatile("" ::: "memory");
	return (i % 8) * 100;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bench(long n)
{
	char line[64];
	volatile long sink = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		long i, m = atol(line) > 0 ? atol(line) : n;
		double t0 = now_ns();

		for (i = 0; i < m; i++)
			sink += tools_hot(i);
		printf("ns/call %.2f\n", (now_ns() - t0) / (double)(m ? m : 1));
	}
	return sink == 42 ? 3 : 0;
}

int main(int argc, char **argv)
{
	long n, i, delay, sum = 0;

	if (argc > 2 && !strcmp(argv[1], "--bench"))
		return bench(atol(argv[2]));
	n = argc > 1 ? atol(argv[1]) : 1000;
	delay = argc > 2 ? atol(argv[2]) : 0;
	for (i = 0; i < n; i++) {
		sum += tools_work(i);
		if (delay)
			usleep((useconds_t)delay);
	}
	printf("tools_target: %ld calls, sum %ld\n", n, sum);
	return 0;
}
