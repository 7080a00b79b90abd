/* SPDX-License-Identifier: MIT */
/*
 * map_internal.h - what crosses files inside src/maps.
 *
 * File layout of every map object:
 *
 *   0                      struct shm_obj_hdr (64 bytes)
 *   64                     struct map_hdr
 *   MAP_TYPE_HDR_OFF       the type's shared header (struct htab_hdr, ...)
 *   hdr->data_off          the type's data, aligned as its layout asks
 *                          (a page for mmapable arrays and ring buffers)
 *
 * Each type supplies a struct map_ops. Its process-local handle is a
 * bigger struct whose first member is struct bpfx_map (layout.local_size),
 * so hot paths reach their cached pointers with one cast.
 */
#ifndef BPFX_MAP_INTERNAL_H
#define BPFX_MAP_INTERNAL_H

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>

#include "maps/maps.h"

#define MAP_PAGE 4096u
#define MAP_TYPE_HDR_OFF                                                    \
	((sizeof(struct shm_obj_hdr) + sizeof(struct map_hdr) + 63) & ~63ul)
#define MAP_KMALLOC_MAX (1ull << 22) /* KMALLOC_MAX_SIZE on x86-64 (4 MiB) */
#define MAP_PCPU_MIN_UNIT 32768u     /* PCPU_MIN_UNIT_SIZE */
#define MAP_MAX_STACK 512u	     /* MAX_BPF_STACK */
#define MAP_FILE_MAX (1ull << 40)    /* what one map file may take */
#define MAP_ACCESS_MASK                                                     \
	(BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)

#define map_round_up(x, a) (((x) + (a) - 1) / (a) * (a))

/* What a type needs from the file and the process. */
struct map_layout {
	size_t local_size;	/* process-local handle, >= sizeof(bpfx_map) */
	uint64_t type_hdr_size; /* shared header after struct map_hdr */
	uint64_t data_size;
	uint64_t data_align;	/* of data_off; 0 = 64 */
};

struct map_ops {
	int (*check)(const struct map_def *d);
	int (*layout)(const struct map_def *d, struct map_layout *l);
	/* new file (zero-filled): set up the shared part */
	int (*init)(struct bpfx_map *m);
	/* every process (creator too): set up the local part */
	int (*attach)(struct bpfx_map *m);
	void (*detach)(struct bpfx_map *m);
	/* program side */
	void *(*lookup)(struct bpfx_map *m, const void *key);
	long (*update)(struct bpfx_map *m, const void *key, const void *value,
		       uint64_t flags);
	long (*delete)(struct bpfx_map *m, const void *key);
	void *(*lookup_percpu)(struct bpfx_map *m, const void *key,
			       uint32_t cpu);
	long (*push)(struct bpfx_map *m, const void *value, uint64_t flags);
	long (*pop)(struct bpfx_map *m, void *value);
	long (*peek)(struct bpfx_map *m, void *value);
	/* syscall side; NULL falls back to the program-side op + copy */
	int (*sys_lookup)(struct bpfx_map *m, const void *key, void *value,
			  uint64_t flags);
	int (*sys_update)(struct bpfx_map *m, const void *key,
			  const void *value, uint64_t flags);
	int (*sys_delete)(struct bpfx_map *m, const void *key);
	int (*sys_lookup_and_delete)(struct bpfx_map *m, const void *key,
				     void *value, uint64_t flags);
	int (*get_next_key)(struct bpfx_map *m, const void *key,
			    void *next_key);
};

extern const struct map_ops map_array_ops, map_percpu_array_ops,
	map_htab_ops, map_percpu_htab_ops, map_lru_htab_ops,
	map_lru_percpu_htab_ops, map_ringbuf_ops, map_perf_event_ops,
	map_prog_array_ops, map_stack_trace_ops, map_queue_ops,
	map_stack_ops, map_bloom_ops, map_lpm_trie_ops,
	map_array_of_maps_ops, map_hash_of_maps_ops;

static inline void *map_type_hdr(const struct bpfx_map *m)
{
	return (uint8_t *)m->mem + MAP_TYPE_HDR_OFF;
}

/* Common attribute checks (kernel's bpf_map_flags_access_ok etc.). */
int map_check_access_flags(uint32_t flags);

/* Copy a value from/to the map honouring a struct bpf_spin_lock inside:
 * the lock word is never copied (zeroed on the way out). */
void map_copy_value(const struct bpfx_map *m, void *dst, const void *src,
		    bool to_map);
void map_copy_value_locked(const struct bpfx_map *m, void *dst,
			   const void *src, bool to_map);

/* 32-bit hash of @len bytes with @seed (not the kernel's jhash: only
 * bucket spread matters, nothing outside sees it). */
uint32_t map_hash(const void *key, uint32_t len, uint64_t seed);
uint64_t map_random_seed(void);

/* ---- per-CPU value areas (percpu.c) ----
 * CPU-major so that CPUs never share a cache line: slot (idx, cpu) is at
 * base + cpu * cpu_stride + idx * stride, stride = round_up(value_size, 8).
 * The syscall side gathers/scatters the kernel's [cpu][value] array. */
struct map_pcpu {
	uint8_t *base;
	uint64_t cpu_stride;
	uint32_t stride;
	uint32_t ncpus;
	uint32_t value_size;
};

uint64_t map_pcpu_size(uint32_t ncpus, uint32_t slots, uint32_t value_size);
void map_pcpu_setup(struct map_pcpu *a, void *base, uint32_t ncpus,
		    uint32_t slots, uint32_t value_size);
static inline void *map_pcpu_ptr(const struct map_pcpu *a, uint32_t idx,
				 uint32_t cpu)
{
	return a->base + (uint64_t)cpu * a->cpu_stride +
	       (uint64_t)idx * a->stride;
}
static inline uint32_t map_pcpu_this(const struct map_pcpu *a)
{
	uint32_t cpu = shm_cpu_fast();

	return __builtin_expect(cpu < a->ncpus, 1) ? cpu : cpu % a->ncpus;
}
void map_pcpu_gather(const struct map_pcpu *a, uint32_t idx, void *dst);
void map_pcpu_scatter(const struct map_pcpu *a, uint32_t idx,
		      const void *src);
/* program-side init of a new element: @value on @cpu, zero elsewhere */
void map_pcpu_init(const struct map_pcpu *a, uint32_t idx, uint32_t cpu,
		   const void *value);

/* ---- array family (array.c), also used by prog_array, array_of_maps ---- */
struct map_array {
	struct bpfx_map map;
	uint8_t *values;
	uint32_t stride;
	uint32_t n;
	struct map_pcpu pcpu;
	void *cache; /* prog_array / perf: per-index process-local state */
};

struct map_array_hdr {
	uint32_t ncpus;
	uint32_t stride;
};

static inline void *map_array_lookup_fast(struct bpfx_map *m,
					  const void *key)
{
	struct map_array *a = (struct map_array *)m;
	uint32_t idx;

	memcpy(&idx, key, 4);

	if (__builtin_expect(idx >= a->n, 0))
		return NULL;
	return a->values + (uint64_t)idx * a->stride;
}

int map_array_check(const struct map_def *d);
int map_array_layout(const struct map_def *d, struct map_layout *l);
int map_array_init(struct bpfx_map *m);
int map_array_attach(struct bpfx_map *m);
int map_array_get_next_key(struct bpfx_map *m, const void *key,
			   void *next_key);

/* ---- fd arrays (prog_array.c): prog_array, perf_event_array,
 * array_of_maps. Values are object ids (u32) on the syscall side; each
 * non-zero id is a session reference (shm_obj_ref) from the map. */
#define MAP_ENOTSUPP 524 /* the kernel's ENOTSUPP */
int map_fdarr_check(const struct map_def *d);
int map_fdarr_update(struct bpfx_map *m, const void *key, const void *value,
		     uint64_t flags);
int map_fdarr_delete(struct bpfx_map *m, const void *key);
int map_fdarr_lookup_id(struct bpfx_map *m, const void *key, void *value,
			uint64_t flags);
void map_fdarr_detach(struct bpfx_map *m);

/* ---- hash family (hash.c, lru.c), also used by hash_of_maps ---- */
int map_htab_check(const struct map_def *d);
void *map_htab_lookup_value(struct bpfx_map *m, const void *key);
/* LRU: free at least one element by evicting (lru.c) */
int map_lru_evict(struct bpfx_map *m);

/* ---- map-in-map: checks an inner map @id against the outer's template */
int map_inner_check(struct bpfx_map *outer, uint32_t id);
int map_inner_template_check(struct shm_session *s, const struct map_def *d,
			     struct map_def *inner);

#endif /* BPFX_MAP_INTERNAL_H */
