/* SPDX-License-Identifier: MIT */
/* libbpfxdemo.so: see bpfxdemo.h. */
#include "bpfxdemo.h"

#include <errno.h>
#include <time.h>

unsigned int bpfxdemo_work(unsigned int usec)
{
	struct timespec ts = { .tv_sec = usec / 1000000,
			       .tv_nsec = (long)(usec % 1000000) * 1000 };

	/* Restart after a signal with what is left: never returns early. */
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return usec;
}
