/* SPDX-License-Identifier: MIT */
/* funclat_loop [USEC:COUNT...]: calls libbpfxdemo.so's bpfxdemo_work(USEC)
 * COUNT times for each pair, in order (default 2100:20 17000:5), and
 * prints one line per pair, so that a latency histogram of bpfxdemo_work
 * (examples/funclatency) can be checked slot by slot: a call takes at
 * least USEC microseconds, plus scheduling delay. */
#include <stdio.h>
#include <stdlib.h>

#include "bpfxdemo.h"

static int run_pair(const char *arg)
{
	char *end;
	unsigned long usec = strtoul(arg, &end, 10), count, i;

	if (end == arg || *end != ':') {
		fprintf(stderr, "funclat_loop: bad pair '%s' (want USEC:COUNT)\n", arg);
		return -1;
	}
	count = strtoul(end + 1, NULL, 10);
	for (i = 0; i < count; i++)
		bpfxdemo_work((unsigned int)usec);
	printf("funclat_loop: %lu calls of %lu us\n", count, usec);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *defaults[] = { "2100:20", "17000:5" };
	int i;

	if (argc < 2) {
		for (i = 0; i < 2; i++)
			run_pair(defaults[i]);
		return 0;
	}
	for (i = 1; i < argc; i++)
		if (run_pair(argv[i]))
			return 2;
	return 0;
}
