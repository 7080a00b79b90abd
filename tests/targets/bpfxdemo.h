/* SPDX-License-Identifier: MIT */
/* libbpfxdemo.so: a tiny shared library whose functions have known,
 * checkable behaviour, so that examples (funclatency) can probe a library
 * function by its soname, as they would libc's or libssl's. */
#ifndef BPFXDEMO_H
#define BPFXDEMO_H

#define BPFXDEMO_API __attribute__((visibility("default")))

/* Sleep @usec microseconds (at least that long); returns @usec. */
BPFXDEMO_API unsigned int bpfxdemo_work(unsigned int usec);

#endif
