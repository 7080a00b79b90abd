/* SPDX-License-Identifier: MIT */
/* usdt_target N: fires USDT probes bpfx:tick (always) and bpfx:gated
 * (behind a semaphore, so only when a tracer is attached) N times, with
 * arguments (i, i * 3). Prints how many gated probes it saw enabled. */
#define _SDT_HAS_SEMAPHORES 1
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <unistd.h>

unsigned short bpfx_tick_semaphore __attribute__((unused, section(".probes")));
unsigned short bpfx_gated_semaphore __attribute__((unused, section(".probes")));

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100, i, enabled = 0;
	long delay = argc > 2 ? atol(argv[2]) : 0;

	for (i = 0; i < n; i++) {
		DTRACE_PROBE2(bpfx, tick, i, i * 3);
		if (bpfx_gated_semaphore) {
			enabled++;
			DTRACE_PROBE1(bpfx, gated, i);
		}
		if (delay)
			usleep((useconds_t)delay);
	}
	printf("usdt_target: %ld ticks, gated enabled %ld times\n", n, enabled);
	return 0;
}
