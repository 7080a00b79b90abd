/* SPDX-License-Identifier: MIT */
/* minidebug_target N: calls a static function N times. The build strips
 * .symtab and keeps that function's symbol only in .gnu_debugdata
 * (MiniDebugInfo, as distributions ship it): see minidebug.sh. */
#include <stdio.h>
#include <stdlib.h>

static volatile long sink;

__attribute__((noinline, noipa)) static long hidden_work(long x)
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
