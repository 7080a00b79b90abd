/* SPDX-License-Identifier: MIT */
/*
 * helpers/maps.c - map, ring buffer, perf output, CPU id, stack and spin
 * lock helpers, with the kernel's ids, names and prototypes.
 *
 * Each helper is the eBPF calling convention (r1..r5 in, r0 out); r1 of a
 * map helper is the struct bpfx_map * that the loader put where the
 * program's lddw of a map was. The verifier has checked every argument
 * against the prototype, so nothing is re-checked here except what the
 * kernel's helpers check at run time (flags, indexes, sizes).
 *
 * Not here: bpf_for_each_map_elem (164) needs a VM entry for callbacks,
 * which does not exist yet.
 */
#include <linux/bpf.h>

#include "helpers/helpers.h"
#include "maps/maps.h"
#include "shm/shm.h"

#define MAP(r) ((struct bpfx_map *)(uintptr_t)(r))
#define PTR(r) ((void *)(uintptr_t)(r))

static uint64_t h_map_lookup_elem(uint64_t r1, uint64_t r2, uint64_t r3,
				  uint64_t r4, uint64_t r5)
{
	return (uintptr_t)map_lookup(MAP(r1), PTR(r2));
}

static uint64_t h_map_update_elem(uint64_t r1, uint64_t r2, uint64_t r3,
				  uint64_t r4, uint64_t r5)
{
	return (uint64_t)map_update(MAP(r1), PTR(r2), PTR(r3), r4);
}

static uint64_t h_map_delete_elem(uint64_t r1, uint64_t r2, uint64_t r3,
				  uint64_t r4, uint64_t r5)
{
	return (uint64_t)map_delete(MAP(r1), PTR(r2));
}

static uint64_t h_map_push_elem(uint64_t r1, uint64_t r2, uint64_t r3,
				uint64_t r4, uint64_t r5)
{
	return (uint64_t)map_push(MAP(r1), PTR(r2), r3);
}

static uint64_t h_map_pop_elem(uint64_t r1, uint64_t r2, uint64_t r3,
			       uint64_t r4, uint64_t r5)
{
	return (uint64_t)map_pop(MAP(r1), PTR(r2));
}

static uint64_t h_map_peek_elem(uint64_t r1, uint64_t r2, uint64_t r3,
				uint64_t r4, uint64_t r5)
{
	return (uint64_t)map_peek(MAP(r1), PTR(r2));
}

static uint64_t h_map_lookup_percpu_elem(uint64_t r1, uint64_t r2,
					 uint64_t r3, uint64_t r4,
					 uint64_t r5)
{
	if (r3 > UINT32_MAX)
		return 0;
	return (uintptr_t)map_lookup_percpu(MAP(r1), PTR(r2), (uint32_t)r3);
}

static uint64_t h_ringbuf_output(uint64_t r1, uint64_t r2, uint64_t r3,
				 uint64_t r4, uint64_t r5)
{
	return (uint64_t)ringbuf_output(MAP(r1), PTR(r2), r3, r4);
}

static uint64_t h_ringbuf_reserve(uint64_t r1, uint64_t r2, uint64_t r3,
				  uint64_t r4, uint64_t r5)
{
	return (uintptr_t)ringbuf_reserve(MAP(r1), r2, r3);
}

static uint64_t h_ringbuf_submit(uint64_t r1, uint64_t r2, uint64_t r3,
				 uint64_t r4, uint64_t r5)
{
	ringbuf_submit(NULL, PTR(r1), r2);
	return 0;
}

static uint64_t h_ringbuf_discard(uint64_t r1, uint64_t r2, uint64_t r3,
				  uint64_t r4, uint64_t r5)
{
	ringbuf_discard(NULL, PTR(r1), r2);
	return 0;
}

static uint64_t h_ringbuf_query(uint64_t r1, uint64_t r2, uint64_t r3,
				uint64_t r4, uint64_t r5)
{
	return ringbuf_query(MAP(r1), r2);
}

/* bpf_perf_event_output(ctx, map, flags, data, size) */
static uint64_t h_perf_event_output(uint64_t r1, uint64_t r2, uint64_t r3,
				    uint64_t r4, uint64_t r5)
{
	return (uint64_t)perf_event_output(MAP(r2), r3, PTR(r4), r5);
}

static uint64_t h_get_smp_processor_id(uint64_t r1, uint64_t r2,
				       uint64_t r3, uint64_t r4, uint64_t r5)
{
	return shm_cpu_fast();
}

/* bpf_get_stackid(ctx, map, flags) */
static uint64_t h_get_stackid(uint64_t r1, uint64_t r2, uint64_t r3,
			      uint64_t r4, uint64_t r5)
{
	return (uint64_t)map_stack_get_id(PTR(r1), MAP(r2), r3);
}

/* bpf_get_stack(ctx, buf, size, flags) */
static uint64_t h_get_stack(uint64_t r1, uint64_t r2, uint64_t r3,
			    uint64_t r4, uint64_t r5)
{
	return (uint64_t)map_stack_get(PTR(r1), PTR(r2), (uint32_t)r3, r4);
}

static uint64_t h_spin_lock(uint64_t r1, uint64_t r2, uint64_t r3,
			    uint64_t r4, uint64_t r5)
{
	shm_spin_lock(PTR(r1));
	return 0;
}

static uint64_t h_spin_unlock(uint64_t r1, uint64_t r2, uint64_t r3,
			      uint64_t r4, uint64_t r5)
{
	shm_spin_unlock(PTR(r1));
	return 0;
}

#define H(id_, name_, fn_, ret_, group_, flags_, ...)                       \
	{ .id = (id_), .name = (name_), .fn = (fn_), .ret = (ret_),         \
	  .args = { __VA_ARGS__ }, .group = (group_), .flags = (flags_) }

const struct helper_def helpers_maps_table[] = {
	H(BPF_FUNC_map_lookup_elem, "map_lookup_elem", h_map_lookup_elem,
	  RET_PTR_TO_MAP_VALUE_OR_NULL, HG_MAPS, 0, ARG_CONST_MAP_PTR,
	  ARG_PTR_TO_MAP_KEY),
	H(BPF_FUNC_map_update_elem, "map_update_elem", h_map_update_elem,
	  RET_INTEGER, HG_MAPS, 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY,
	  ARG_PTR_TO_MAP_VALUE, ARG_ANYTHING),
	H(BPF_FUNC_map_delete_elem, "map_delete_elem", h_map_delete_elem,
	  RET_INTEGER, HG_MAPS, 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY),
	H(BPF_FUNC_map_push_elem, "map_push_elem", h_map_push_elem,
	  RET_INTEGER, HG_MAPS, 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_VALUE,
	  ARG_ANYTHING),
	H(BPF_FUNC_map_pop_elem, "map_pop_elem", h_map_pop_elem, RET_INTEGER,
	  HG_MAPS, 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_UNINIT_MAP_VALUE),
	H(BPF_FUNC_map_peek_elem, "map_peek_elem", h_map_peek_elem,
	  RET_INTEGER, HG_MAPS, 0, ARG_CONST_MAP_PTR,
	  ARG_PTR_TO_UNINIT_MAP_VALUE),
	H(BPF_FUNC_map_lookup_percpu_elem, "map_lookup_percpu_elem",
	  h_map_lookup_percpu_elem, RET_PTR_TO_MAP_VALUE_OR_NULL, HG_MAPS, 0,
	  ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_ANYTHING),
	H(BPF_FUNC_ringbuf_output, "ringbuf_output", h_ringbuf_output,
	  RET_INTEGER, HG_OUTPUT, 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_MEM,
	  ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING),
	H(BPF_FUNC_ringbuf_reserve, "ringbuf_reserve", h_ringbuf_reserve,
	  RET_PTR_TO_RINGBUF_MEM_OR_NULL, HG_OUTPUT, 0, ARG_CONST_MAP_PTR,
	  ARG_CONST_ALLOC_SIZE_OR_ZERO, ARG_ANYTHING),
	H(BPF_FUNC_ringbuf_submit, "ringbuf_submit", h_ringbuf_submit,
	  RET_VOID, HG_OUTPUT, HELPER_F_RELEASES_RINGBUF,
	  ARG_PTR_TO_RINGBUF_MEM, ARG_ANYTHING),
	H(BPF_FUNC_ringbuf_discard, "ringbuf_discard", h_ringbuf_discard,
	  RET_VOID, HG_OUTPUT, HELPER_F_RELEASES_RINGBUF,
	  ARG_PTR_TO_RINGBUF_MEM, ARG_ANYTHING),
	H(BPF_FUNC_ringbuf_query, "ringbuf_query", h_ringbuf_query,
	  RET_INTEGER, HG_OUTPUT, 0, ARG_CONST_MAP_PTR, ARG_ANYTHING),
	H(BPF_FUNC_perf_event_output, "perf_event_output",
	  h_perf_event_output, RET_INTEGER, HG_OUTPUT, 0, ARG_PTR_TO_CTX,
	  ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_PTR_TO_MEM,
	  ARG_CONST_SIZE_OR_ZERO),
	H(BPF_FUNC_get_smp_processor_id, "get_smp_processor_id",
	  h_get_smp_processor_id, RET_INTEGER, HG_MISC, 0, ARG_NONE),
	H(BPF_FUNC_get_stackid, "get_stackid", h_get_stackid, RET_INTEGER,
	  HG_PROCESS, 0, ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING),
	H(BPF_FUNC_get_stack, "get_stack", h_get_stack, RET_INTEGER,
	  HG_PROCESS, 0, ARG_PTR_TO_CTX, ARG_PTR_TO_UNINIT_MEM,
	  ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING),
	H(BPF_FUNC_spin_lock, "spin_lock", h_spin_lock, RET_VOID, HG_MAPS,
	  HELPER_F_ACQUIRES_LOCK, ARG_PTR_TO_SPIN_LOCK),
	H(BPF_FUNC_spin_unlock, "spin_unlock", h_spin_unlock, RET_VOID,
	  HG_MAPS, HELPER_F_RELEASES_LOCK, ARG_PTR_TO_SPIN_LOCK),
	{ .name = NULL },
};
