/* SPDX-License-Identifier: MIT */
/* minidebug_target N: calls a static function N times. The build strips
 * .symtab and keeps that function's symbol only in .gnu_debugdata
 * (MiniDebugInfo, as distributions ship it): see minidebug.sh. */
#include <stdio.h>
#include <stdlib.h>

static volatile long sink;

/* gcc would rename it (hidden_work.isra.0) without noipa */
#if defined(__clang__)
#define KEEP_NAME __attribute__((noinline))
#else
#define KEEP_NAME __attribute__((noinline, noipa))
#endif

KEEP_NAME static long hidden_work(long x)
{
	sink += x;
	__asm__ volatile("" ::: "memory");
	return sink;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10, i;

	for (i = 0; i < n; i++)
		hidden_work(i);
	printf("minidebug_target: %ld calls, sum %ld\n", n, (long)sink);
	return 0;
}
