/* SPDX-License-Identifier: MIT */
/*
 * htab.h - the hash table shared by hash.c, lru.c and map_in_map.c.
 *
 * Layout of the data area: buckets[n_buckets], then the element pool
 * (n_elems fixed-size elements), then for per-CPU variants a struct
 * map_pcpu area with one slot per pool element.
 *
 * Links are 32-bit: ELEM(i) = i << 1 names pool element i, NULLS(b) =
 * b << 1 | 1 ends the chain of bucket b (the kernel's "nulls" trick: a
 * reader whose element moved to another chain ends on a foreign NULLS and
 * restarts). Each element carries a sequence number, odd while it is free
 * or being rewritten; a reader that matched a key re-reads it and restarts
 * if it moved, so a lookup racing delete+reuse never returns an element
 * holding another key. Writers take the bucket's struct shm_lock.
 */
#ifndef BPFX_MAPS_HTAB_H
#define BPFX_MAPS_HTAB_H

#include "maps/map_internal.h"

#define HTAB_ELEM(i) ((uint32_t)(i) << 1)
#define HTAB_NULLS(b) (((uint32_t)(b) << 1) | 1)
#define HTAB_ENOTSUPP 524 /* the kernel's ENOTSUPP */

struct htab_hdr {
	uint32_t n_buckets;
	uint32_t elem_size;
	uint32_t n_elems;
	uint32_t ncpus;
	uint32_t value_off;
	uint32_t pad;
	uint64_t seed;
	uint64_t buckets_off; /* from data_off */
	uint64_t elems_off;
	uint64_t pcpu_off;
	/* written often: each on its own line */
	uint64_t free_head __attribute__((aligned(64))); /* tag<<32 | idx+1 */
	uint32_t virgin __attribute__((aligned(64))); /* never-used elements */
	uint32_t count __attribute__((aligned(64)));  /* live elements */
	uint32_t lru_hand __attribute__((aligned(64)));
};

struct htab_bucket {
	struct shm_lock lock;
	uint32_t head;
	uint32_t pad;
};

struct htab_elem {
	uint32_t next;
	uint32_t hash;
	uint32_t seq;	/* odd: free or being rewritten */
	uint32_t fnext; /* freelist link, idx + 1 */
	uint32_t state; /* 1: linked in its bucket (changed under its lock) */
	uint32_t ref;	/* LRU: used since the clock hand last passed */
	uint8_t key[];
};

struct htab {
	struct bpfx_map map;
	struct htab_hdr *h;
	struct htab_bucket *buckets;
	uint8_t *elems;
	struct map_pcpu pcpu;
	uint64_t seed;
	uint32_t mask, elem_size, n_elems, value_off;
	bool percpu, lru, has_lock;
};

static inline struct htab_elem *htab_elem(const struct htab *t, uint32_t i)
{
	return (struct htab_elem *)(t->elems + (uint64_t)i * t->elem_size);
}

static inline uint32_t htab_idx(const struct htab *t,
				const struct htab_elem *e)
{
	return (uint32_t)(((const uint8_t *)e - t->elems) / t->elem_size);
}

void htab_unlink_free(struct htab *t, struct htab_bucket *b,
		      struct htab_elem *e, bool dec);

int map_htab_layout(const struct map_def *d, struct map_layout *l);
int map_htab_init(struct bpfx_map *m);
int map_htab_attach(struct bpfx_map *m);
long map_htab_update(struct bpfx_map *m, const void *key, const void *value,
		     uint64_t flags);
long map_htab_delete(struct bpfx_map *m, const void *key);
int map_htab_get_next_key(struct bpfx_map *m, const void *key,
			  void *next_key);
int map_htab_lookup_and_delete(struct bpfx_map *m, const void *key,
			       void *value, uint64_t flags);

#endif /* BPFX_MAPS_HTAB_H */
