/* SPDX-License-Identifier: MIT */
#ifndef BPFX_BENCH_UPROBE_H
#define BPFX_BENCH_UPROBE_H

#include <stddef.h>
#include <stdint.h>

double bench_measure(long (*fn)(long), long iters);
int bench_file_offset(void *fn, char *path, size_t plen, uint64_t *off);
double bench_prog_cost(long (*fn)(long), const char *prog, int ret, long iters);
void bench_prog_done(void);

#endif
