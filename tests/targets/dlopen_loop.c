/* SPDX-License-Identifier: MIT */
/* dlopen_loop LIB COUNT: loads LIB (libbpfxdemo.so) with dlopen only now,
 * after start, then calls its bpfxdemo_work(0) COUNT times: probes on a
 * library that was not mapped when tracing began must reach it. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	unsigned int (*work)(unsigned int);
	long count, i;
	void *h;

	if (argc != 3) {
		fprintf(stderr, "usage: dlopen_loop LIB COUNT\n");
		return 2;
	}
	count = atol(argv[2]);
	h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "dlopen_loop: %s\n", dlerror());
		return 1;
	}
	*(void **)&work = dlsym(h, "bpfxdemo_work");
	if (!work) {
		fprintf(stderr, "dlopen_loop: %s\n", dlerror());
		return 1;
	}
	for (i = 0; i < count; i++)
		work(0);
	printf("dlopen_loop: %ld calls\n", count);
	return 0;
}
