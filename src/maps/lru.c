/* SPDX-License-Identifier: MIT */
/*
 * lru.c - eviction for BPF_MAP_TYPE_LRU_HASH and LRU_PERCPU_HASH.
 *
 * The kernel keeps active/inactive lists with a reference bit and evicts
 * from the inactive tail: an approximation of LRU. Here the same
 * approximation is a clock over the element pool, which needs no list
 * pointers in shared memory: lookups set an element's ref bit (only when
 * it is clear, so hot elements do not bounce cache lines); the hand, one
 * shared counter, sweeps the pool, clearing set bits and evicting the
 * first linked element whose bit is clear. New elements start with the
 * bit clear, as the kernel puts new nodes on the inactive list.
 *
 * Eviction is called with no bucket lock held (updates allocate before
 * they lock their bucket), and only try-locks the victim's bucket, so it
 * never deadlocks and skips contended buckets. The victim is re-checked
 * under its lock (still linked, same sequence number, same hash).
 */
#include "maps/htab.h"

int map_lru_evict(struct bpfx_map *m)
{
	struct htab *t = (struct htab *)m;
	struct htab_hdr *h = t->h;
	uint32_t n = __atomic_load_n(&h->virgin, __ATOMIC_RELAXED), scan;

	if (n > t->n_elems)
		n = t->n_elems;
	if (!n)
		return -ENOENT;
	for (scan = 0; scan < 2 * n + 8; scan++) {
		uint32_t i = __atomic_fetch_add(&h->lru_hand, 1,
						__ATOMIC_RELAXED) % n;
		struct htab_elem *e = htab_elem(t, i);
		struct htab_bucket *b;
		uint32_t hash, seq;

		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != 1)
			continue;
		if (__atomic_load_n(&e->ref, __ATOMIC_RELAXED)) {
			__atomic_store_n(&e->ref, 0, __ATOMIC_RELAXED);
			continue;
		}
		seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		hash = e->hash;
		b = &t->buckets[hash & t->mask];
		if (shm_trylock(&b->lock))
			continue;
		if (e->state == 1 && e->seq == seq && e->hash == hash) {
			htab_unlink_free(t, b, e, true);
			shm_unlock(&b->lock);
			return 0;
		}
		shm_unlock(&b->lock);
	}
	return -ENOENT;
}
