/* SPDX-License-Identifier: MIT */
/* alloc_loop N [DELAY_US]: a small program that allocates in a loop (the
 * bundled target of `make demo` and of the uprobe tests). Prints how many
 * mallocs it made, so a probe's count can be checked against it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000, i;
	long delay = argc > 2 ? atol(argv[2]) : 0;
	volatile char sink = 0;

	for (i = 0; i < n; i++) {
		size_t size = ((size_t)16 << (i % 8)) + (size_t)(i % 13);
		char *p = malloc(size);

		if (!p)
			return 1;
		memset(p, (int)i, size);
		sink ^= p[size - 1];
		free(p);
		if (delay)
			usleep((useconds_t)delay);
	}
	printf("alloc_loop: %ld mallocs\n", n);
	return sink == 42 ? 3 : 0;
}
