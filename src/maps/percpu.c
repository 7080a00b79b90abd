/* SPDX-License-Identifier: MIT */
/*
 * percpu.c - per-CPU value areas shared by percpu_array, percpu_hash and
 * lru_percpu_hash.
 *
 * An area holds @slots values for each of @ncpus CPUs (ncpus fixed when the
 * map is created, from shm_ncpus()). It is CPU-major: one CPU's values are
 * contiguous and each CPU's block starts on a cache line, so two CPUs never
 * write the same line. The program side touches only the slot of
 * shm_cpu_fast(); the syscall side gathers or scatters the kernel's layout,
 * round_up(value_size, 8) bytes per possible CPU, padding zeroed.
 *
 * As in the kernel, a thread may move to another CPU between reading its
 * CPU id and writing the slot; per-CPU values need atomics when exactness
 * matters across such moves (the kernel disables preemption instead).
 */
#include "maps/map_internal.h"

uint64_t map_pcpu_size(uint32_t ncpus, uint32_t slots, uint32_t value_size)
{
	uint64_t stride = map_round_up((uint64_t)value_size, 8);

	return (uint64_t)ncpus * map_round_up(stride * slots, 64);
}

void map_pcpu_setup(struct map_pcpu *a, void *base, uint32_t ncpus,
		    uint32_t slots, uint32_t value_size)
{
	a->base = base;
	a->stride = (uint32_t)map_round_up(value_size, 8);
	a->cpu_stride = map_round_up((uint64_t)a->stride * slots, 64);
	a->ncpus = ncpus;
	a->value_size = value_size;
}

void map_pcpu_gather(const struct map_pcpu *a, uint32_t idx, void *dst)
{
	uint8_t *out = dst;
	uint32_t cpu, ncpus = shm_ncpus();

	for (cpu = 0; cpu < ncpus; cpu++, out += a->stride) {
		if (cpu < a->ncpus) {
			memcpy(out, map_pcpu_ptr(a, idx, cpu), a->value_size);
			memset(out + a->value_size, 0,
			       a->stride - a->value_size);
		} else {
			memset(out, 0, a->stride);
		}
	}
}

void map_pcpu_scatter(const struct map_pcpu *a, uint32_t idx, const void *src)
{
	const uint8_t *in = src;
	uint32_t cpu, ncpus = shm_ncpus();

	for (cpu = 0; cpu < ncpus && cpu < a->ncpus; cpu++, in += a->stride)
		memcpy(map_pcpu_ptr(a, idx, cpu), in, a->value_size);
}

void map_pcpu_init(const struct map_pcpu *a, uint32_t idx, uint32_t cpu,
		   const void *value)
{
	uint32_t c;

	for (c = 0; c < a->ncpus; c++) {
		if (c == cpu)
			memcpy(map_pcpu_ptr(a, idx, c), value, a->value_size);
		else
			memset(map_pcpu_ptr(a, idx, c), 0, a->value_size);
	}
}
