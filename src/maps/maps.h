/* SPDX-License-Identifier: MIT */
/*
 * maps.h - eBPF maps in shared memory, with the kernel's semantics.
 *
 * A map is one session object file ("map.<id>", see shm/shm.h): the common
 * object header, a struct map_hdr, then the type's data. Everything inside
 * uses offsets, never pointers, so every process maps it anywhere. A
 * process works with a map through a struct bpfx_map: its own mapping plus
 * cached pointers. eBPF code sees `struct bpfx_map *` (lddw of a map yields
 * it), and helpers receive it as their first argument.
 *
 * Two sides, as in the kernel:
 *   - program side (helpers, called from JIT/interpreter code, hot): take
 *     and return pointers into the map; per-CPU maps act on the current CPU's
 *     slot; never sleep for long, never allocate, never print;
 *   - syscall side (bpf(2) emulation, CLI): copy keys and values in and out;
 *     per-CPU values are the kernel's array of round_up(value_size, 8) bytes
 *     for each possible CPU (shm_ncpus()).
 * Errors are the kernel's: -ENOENT (no such key), -EEXIST (BPF_NOEXIST on an
 * existing key), -E2BIG (map full: hashes, prealloc or BPF_F_NO_PREALLOC
 * alike, as the kernel; -ENOSPC for a full LPM trie), -EINVAL (bad flags or attributes), -EPERM (frozen map or
 * BPF_F_RDONLY* from the wrong side), -EOPNOTSUPP (operation the type lacks).
 *
 * Safety across processes: readers never take locks on lookup; writers
 * take a per-bucket / per-map struct shm_lock, which a dead owner releases
 * (a process killed mid-update leaves the map usable: at worst the element
 * it was writing holds a torn value).
 */
#ifndef BPFX_MAPS_H
#define BPFX_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/shm.h"

/* What MAP_CREATE carries (a subset of union bpf_attr, same meanings). */
struct map_def {
	uint32_t type;	      /* enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;   /* BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, ... */
	uint32_t inner_map_id; /* map-in-map: template map (0 otherwise) */
	uint64_t map_extra;   /* bloom filter: number of hashes in low 4 bits */
	uint32_t btf_id;      /* session BTF object id, 0 = none */
	uint32_t btf_key_type_id;
	uint32_t btf_value_type_id;
	char name[SHM_NAME_LEN];
	/* struct bpf_spin_lock in the value (found in BTF by the loader):
	 * BPF_F_LOCK and bpf_spin_lock need it */
	uint32_t has_spin_lock;
	uint32_t spin_lock_off;
};

/* Shared header of every map file (after struct shm_obj_hdr). */
struct map_hdr {
	struct map_def def;
	uint32_t frozen;      /* MAP_FREEZE: syscall-side writes refused */
	uint32_t pad;
	uint64_t data_off;    /* offset of the type's data from file start */
	uint64_t data_size;
	struct map_def inner; /* map-in-map: the inner template's attributes */
	/* type-specific shared fields follow in the type's own struct */
};

struct map_ops;

/* A process's handle on a map. */
struct bpfx_map {
	const struct map_ops *ops;
	struct shm_session *session;
	struct map_hdr *hdr;  /* in the mapping */
	void *mem;	      /* whole file mapping */
	size_t mem_size;
	uint32_t id;
	/* copies of hdr->def fields, for hot paths */
	uint32_t type, key_size, value_size, max_entries, map_flags;
	void *data;	      /* hdr->data_off resolved */
	void *priv;	      /* type-specific process-local state */
};

/* Create a map in session @s from @def (validated as the kernel does:
 * -EINVAL for bad sizes/flags, -E2BIG for sizes past limits, -EOPNOTSUPP
 * for a type bpfx lacks). On success *@out holds a handle, and the map is
 * held by this process. */
int map_create(struct shm_session *s, const struct map_def *def,
	       struct bpfx_map **out);
/* Open existing map @id (also takes a hold). -ENOENT if absent. */
int map_open(struct shm_session *s, uint32_t id, struct bpfx_map **out);
/* Drop the handle (and this process's hold). Accepts NULL. */
void map_close(struct bpfx_map *m);

/* mmap of a map fd, as the kernel's bpf_map_mmap: the byte range
 * [@off, @off + @len) of what the kernel would map becomes up to @max
 * segments of the map's file (shm_obj_open_fd(s, SHM_MAP, id, 0)) to map
 * back to back with MAP_FIXED, in order. Returns the segment count or
 * -errno: -EINVAL (not mmapable, range past the end, unaligned),
 * -EPERM (writable mapping of a frozen map or of a ring buffer's producer
 * or data pages).
 *   array (BPF_F_MMAPABLE): values from offset 0, file offset data_off
 *     (page aligned), value i at i * round_up(value_size, 8);
 *   ringbuf: offset 0 consumer page, then producer page, then the data
 *     twice (two segments on the same file pages). */
struct map_mmap_seg {
	uint64_t file_off;
	uint64_t len;
};
#define MAP_PROT_WRITE 0x2 /* as PROT_WRITE */
int map_mmap_region(struct bpfx_map *m, uint64_t off, uint64_t len,
		    int prot, struct map_mmap_seg *segs, int max);

/* Process-local handle of map @id, opened on first use and kept for the
 * life of the process (map-in-map lookups, loaders resolving ids). NULL
 * if there is no such map. Lock-free once cached. */
struct bpfx_map *map_get_cached(struct shm_session *s, uint32_t id);

/* Is @type implemented? */
bool map_type_supported(uint32_t type);
const char *map_type_name(uint32_t type);

/* ---- syscall side (copying) ---- */
int map_sys_lookup(struct bpfx_map *m, const void *key, void *value,
		   uint64_t flags);
int map_sys_update(struct bpfx_map *m, const void *key, const void *value,
		   uint64_t flags);
int map_sys_delete(struct bpfx_map *m, const void *key);
/* @key NULL = first key. -ENOENT after the last. */
int map_sys_get_next_key(struct bpfx_map *m, const void *key, void *next_key);
/* Hash types: lookup then delete; queue/stack: pop (key NULL). */
int map_sys_lookup_and_delete(struct bpfx_map *m, const void *key,
			      void *value, uint64_t flags);
int map_sys_freeze(struct bpfx_map *m);
/* Size of a value as the syscall side sees it (per-CPU: all CPUs). */
size_t map_sys_value_size(const struct bpfx_map *m);

/* ---- program side (helpers call these; hot paths) ---- */
void *map_lookup(struct bpfx_map *m, const void *key);
long map_update(struct bpfx_map *m, const void *key, const void *value,
		uint64_t flags);
long map_delete(struct bpfx_map *m, const void *key);
long map_push(struct bpfx_map *m, const void *value, uint64_t flags);
long map_pop(struct bpfx_map *m, void *value);
long map_peek(struct bpfx_map *m, void *value);
/* BPF_MAP_TYPE_ARRAY: where element 0 lives in this process, the distance
 * between elements and their count (loaders inline lookups with it, as
 * the kernel's array_map_gen_lookup); -EINVAL for any other type. */
int map_array_values(struct bpfx_map *m, void **values, uint32_t *stride,
		     uint32_t *n);
/* BPF_MAP_TYPE_PERCPU_ARRAY: element (idx, cpu) lives at values + cpu *
 * cpu_stride + idx * stride in this process; cpus slots per element (the
 * possible CPUs). -EINVAL for any other type. */
int map_percpu_array_values(struct bpfx_map *m, void **values,
			    uint32_t *stride, uint32_t *n, uint64_t *cpu_stride,
			    uint32_t *cpus);
/* per-CPU maps: the slot of @cpu (bpf_map_lookup_percpu_elem) */
void *map_lookup_percpu(struct bpfx_map *m, const void *key, uint32_t cpu);

/* ---- ring buffer (BPF_MAP_TYPE_RINGBUF), the kernel's layout ----
 * The file holds a consumer page, a producer page and the data area; the
 * data is mapped twice back to back in every process so a record that
 * wraps reads in one piece. Record header: u32 len (with BUSY bit 31 and
 * DISCARD bit 30), u32 page offset, as the kernel. */
void *ringbuf_reserve(struct bpfx_map *m, uint64_t size, uint64_t flags);
void ringbuf_submit(struct bpfx_map *m, void *sample, uint64_t flags);
void ringbuf_discard(struct bpfx_map *m, void *sample, uint64_t flags);
long ringbuf_output(struct bpfx_map *m, const void *data, uint64_t size,
		    uint64_t flags);
uint64_t ringbuf_query(struct bpfx_map *m, uint64_t flags);
/* For consumers in any process: where the consumer page, producer page
 * and the doubly-mapped data live in this process. */
struct ringbuf_view {
	volatile uint64_t *consumer_pos;
	volatile const uint64_t *producer_pos;
	const uint8_t *data; /* 2 * size bytes readable */
	uint64_t size;	     /* power of two */
};
int ringbuf_view(struct bpfx_map *m, struct ringbuf_view *v);
/* Block until data may be there or @timeout_ms passes (-1 = forever).
 * Producers wake waiters without a polling delay. Returns 0, or -ETIMEDOUT. */
int ringbuf_wait(struct bpfx_map *m, int timeout_ms);

/* Block until producer_pos differs from @pos (a watcher that already saw
 * @pos), or @timeout_ms passes. Returns 0 or -ETIMEDOUT. */
int ringbuf_wait_pos(struct bpfx_map *m, uint64_t pos, int timeout_ms);

/* ---- perf event array (BPF_MAP_TYPE_PERF_EVENT_ARRAY) ----
 * bpf_perf_event_output writes a PERF_RECORD_SAMPLE into the ring of the
 * current CPU (or of index @flags & BPF_F_INDEX_MASK), in the kernel's
 * perf_event_mmap_page layout; PERF_RECORD_LOST when full. */
long perf_event_output(struct bpfx_map *m, uint64_t flags, const void *data,
		       uint64_t size);

/* ---- prog array (tail calls) and map-in-map: values are ids on the
 * syscall side (fds are translated by the emulation), pointers on the
 * program side. */
const void *map_prog_array_get(struct bpfx_map *m, uint32_t index);
/* The id stored at @index of a prog array / array of maps / perf event
 * array (0 = empty or out of range). */
uint32_t map_array_get_id(struct bpfx_map *m, uint32_t index);
/* How map_prog_array_get turns a program id into this process's program
 * (set once by the loader/agent; NULL resolver = no programs). The result
 * is cached per index until the slot's id changes. */
typedef const void *(*map_prog_resolver_fn)(uint32_t prog_id, void *ctx);
void map_set_prog_resolver(map_prog_resolver_fn fn, void *ctx);

/* ---- ring buffer consumer side (CLI, tests; libbpf reads the same) ----
 * Calls @cb for each committed, non-discarded record in order and
 * advances consumer_pos; stops at the first BUSY record or when @cb
 * returns nonzero (returned). Returns the number of records or -errno. */
int ringbuf_consume(struct bpfx_map *m,
		    int (*cb)(void *ctx, void *data, uint32_t size),
		    void *ctx);

/* ---- perf rings (emulated PERF_COUNT_SW_BPF_OUTPUT events) ----
 * Object "perf.<id>" (SHM_PERF): page 0 private state, page 1 the
 * kernel's struct perf_event_mmap_page, then @data_pages (power of two)
 * of data. An mmap of the event fd at offset 0 maps the file from
 * PERF_RING_MMAP_OFF. A perf event array's value (syscall side) is such an
 * id. */
#define PERF_RING_MMAP_OFF 4096u
int perf_ring_create(struct shm_session *s, uint32_t data_pages,
		     uint32_t *id);
/* Read records from ring @id (tests, CLI): @cb gets each perf record
 * (struct perf_event_header first). Returns records read or -errno. */
int perf_ring_consume(struct shm_session *s, uint32_t id,
		      int (*cb)(void *ctx, void *rec, uint32_t size),
		      void *ctx);

/* Block until data_head of ring @ring (its object mapped whole, as
 * shm_obj_map gives it) differs from @head, or @timeout_ms (-1 forever)
 * passes. Producers in any process wake it. 0 or -ETIMEDOUT. */
int perf_ring_wait(void *ring, uint64_t head, int timeout_ms);

/* ---- stack traces (bpf_get_stackid / bpf_get_stack), user stacks by
 * frame-pointer walk from @regs (struct pt_regs, kernel layout) or from
 * the caller when @regs is NULL; reads stay inside the thread's stack. */
long map_stack_get_id(void *regs, struct bpfx_map *m, uint64_t flags);
long map_stack_get(void *regs, void *buf, uint32_t size, uint64_t flags);

#endif /* BPFX_MAPS_H */
