/* SPDX-License-Identifier: MIT */
/*
 * hash.c - BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH.
 *
 * Readers (lookups) take no lock: they walk the bucket chain with acquire
 * loads, skip elements whose sequence number is odd, and confirm a key
 * match by re-reading the sequence (see htab.h); a chain that ends on
 * another bucket's NULLS marker means an element moved, and the walk
 * restarts.
 *
 * Writers take the bucket lock (struct shm_lock: a writer killed while it
 * holds it is replaced by the next one). An update of an existing key in
 * a plain hash links a fresh element before unlinking the old one, as the
 * kernel does, so readers see the old value or the new one, never a mix;
 * per-CPU values and BPF_F_LOCK updates are written in place.
 *
 * Elements come from a pool in the file: a lock-free freelist (Treiber
 * stack with a generation tag against ABA) refilled by deletes, plus a
 * "virgin" counter of never-used elements, so a fresh map touches no
 * element pages (tmpfs allocates them on first write, which is what
 * BPF_F_NO_PREALLOC asks for). The pool has max_entries + ncpus + 16
 * elements; a live count caps the map at max_entries (-E2BIG), the slack
 * lets replacements proceed on a full map. LRU variants evict (lru.c)
 * instead of failing.
 *
 * A process killed mid-update can leak the element it held, or (between
 * linking the new element and unlinking the old) leave a stale duplicate
 * behind the new one; lookups still find the newest value.
 */
#include "maps/htab.h"

static bool type_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool type_lru(uint32_t type)
{
	return type == BPF_MAP_TYPE_LRU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

int map_htab_check(const struct map_def *d)
{
	uint32_t ok = BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU |
		      BPF_F_NUMA_NODE | MAP_ACCESS_MASK | BPF_F_ZERO_SEED;
	bool lru = type_lru(d->type);

	if (d->map_flags & ~ok)
		return -EINVAL;
	if (!lru && (d->map_flags & BPF_F_NO_COMMON_LRU))
		return -EINVAL;
	if (lru && (d->map_flags & BPF_F_NO_PREALLOC))
		return -HTAB_ENOTSUPP;
	if (d->max_entries == 0 || d->key_size == 0 || d->value_size == 0)
		return -EINVAL;
	if (d->key_size > MAP_MAX_STACK)
		return -E2BIG;
	if ((uint64_t)d->key_size + d->value_size >=
	    MAP_KMALLOC_MAX - sizeof(struct htab_elem))
		return -E2BIG;
	if (type_percpu(d->type) && d->value_size > MAP_PCPU_MIN_UNIT)
		return -E2BIG;
	if (d->max_entries > (1u << 30))
		return -E2BIG;
	return 0;
}

static uint32_t pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static void sizes(const struct map_def *d, uint32_t *n_buckets,
		  uint32_t *n_elems, uint32_t *elem_size, uint32_t *value_off)
{
	*n_buckets = pow2(d->max_entries);
	*n_elems = d->max_entries + shm_ncpus() + 16;
	*value_off = (uint32_t)(sizeof(struct htab_elem) +
				map_round_up(d->key_size, 8));
	*elem_size = *value_off;
	if (!type_percpu(d->type))
		*elem_size += (uint32_t)map_round_up(d->value_size, 8);
}

int map_htab_layout(const struct map_def *d, struct map_layout *l)
{
	uint32_t nb, ne, es, vo;
	uint64_t size;

	sizes(d, &nb, &ne, &es, &vo);
	size = (uint64_t)nb * sizeof(struct htab_bucket);
	size = map_round_up(size + (uint64_t)ne * es, 64);
	if (type_percpu(d->type))
		size += map_pcpu_size(shm_ncpus(), ne, d->value_size);
	l->local_size = sizeof(struct htab);
	l->type_hdr_size = sizeof(struct htab_hdr);
	l->data_size = size;
	l->data_align = MAP_PAGE;
	return 0;
}

int map_htab_init(struct bpfx_map *m)
{
	struct htab_hdr *h = map_type_hdr(m);
	struct htab_bucket *b;
	uint32_t i;

	sizes(&m->hdr->def, &h->n_buckets, &h->n_elems, &h->elem_size,
	      &h->value_off);
	h->ncpus = shm_ncpus();
	h->seed = (m->map_flags & BPF_F_ZERO_SEED) ? 0 : map_random_seed();
	h->buckets_off = 0;
	h->elems_off = (uint64_t)h->n_buckets * sizeof(struct htab_bucket);
	h->pcpu_off = map_round_up(h->elems_off +
					   (uint64_t)h->n_elems * h->elem_size,
				   64);
	b = (struct htab_bucket *)m->data;
	for (i = 0; i < h->n_buckets; i++)
		b[i].head = HTAB_NULLS(i);
	return 0;
}

int map_htab_attach(struct bpfx_map *m)
{
	struct htab_hdr *h = map_type_hdr(m);
	struct htab *t = (struct htab *)m;

	if (!h->n_buckets || (h->n_buckets & (h->n_buckets - 1)) ||
	    h->pcpu_off > m->hdr->data_size)
		return -EINVAL;
	t->h = h;
	t->buckets = (struct htab_bucket *)((uint8_t *)m->data +
					    h->buckets_off);
	t->elems = (uint8_t *)m->data + h->elems_off;
	t->seed = h->seed;
	t->mask = h->n_buckets - 1;
	t->elem_size = h->elem_size;
	t->n_elems = h->n_elems;
	t->value_off = h->value_off;
	t->percpu = type_percpu(m->type);
	t->lru = type_lru(m->type);
	t->has_lock = m->hdr->def.has_spin_lock != 0;
	if (t->percpu)
		map_pcpu_setup(&t->pcpu, (uint8_t *)m->data + h->pcpu_off,
			       h->ncpus, h->n_elems, m->value_size);
	return 0;
}

/* ---- element pool ---- */

static struct htab_elem *pool_pop(struct htab *t)
{
	struct htab_hdr *h = t->h;
	uint64_t head = __atomic_load_n(&h->free_head, __ATOMIC_ACQUIRE);
	uint32_t v;

	while ((uint32_t)head) {
		struct htab_elem *e = htab_elem(t, (uint32_t)head - 1);
		uint32_t nx = __atomic_load_n(&e->fnext, __ATOMIC_RELAXED);
		uint64_t nh = (((head >> 32) + 1) << 32) | nx;

		if (__atomic_compare_exchange_n(&h->free_head, &head, nh, true,
						__ATOMIC_ACQUIRE,
						__ATOMIC_ACQUIRE))
			return e;
	}
	v = __atomic_load_n(&h->virgin, __ATOMIC_RELAXED);
	while (v < t->n_elems)
		if (__atomic_compare_exchange_n(&h->virgin, &v, v + 1, true,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return htab_elem(t, v);
	return NULL;
}

static void pool_push(struct htab *t, struct htab_elem *e)
{
	struct htab_hdr *h = t->h;
	uint64_t head = __atomic_load_n(&h->free_head, __ATOMIC_RELAXED), nh;
	uint32_t idx1 = htab_idx(t, e) + 1;

	do {
		__atomic_store_n(&e->fnext, (uint32_t)head, __ATOMIC_RELAXED);
		nh = (((head >> 32) + 1) << 32) | idx1;
	} while (!__atomic_compare_exchange_n(&h->free_head, &head, nh, true,
					      __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

static bool count_inc(struct htab *t)
{
	if (__atomic_fetch_add(&t->h->count, 1, __ATOMIC_RELAXED) >=
	    t->map.max_entries) {
		__atomic_fetch_sub(&t->h->count, 1, __ATOMIC_RELAXED);
		return false;
	}
	return true;
}

static void count_dec(struct htab *t)
{
	__atomic_fetch_sub(&t->h->count, 1, __ATOMIC_RELAXED);
}

/* LRU: an element counted against max_entries, evicting when full. */
static struct htab_elem *lru_alloc(struct htab *t)
{
	struct htab_elem *e;
	int tries;

	for (tries = 0; tries < 16; tries++) {
		if (count_inc(t)) {
			e = pool_pop(t);
			if (e)
				return e;
			count_dec(t);
		}
		map_lru_evict(&t->map);
	}
	return NULL;
}

/* ---- chains ---- */

static inline void *value_of(const struct htab *t, struct htab_elem *e)
{
	return (uint8_t *)e + t->value_off;
}

static inline bool key_eq(const struct htab_elem *e, const void *key,
			  uint32_t ks)
{
	if (ks == 4) {
		uint32_t k;

		memcpy(&k, key, 4);
		return *(const uint32_t *)e->key == k;
	}
	if (ks == 8) {
		uint64_t k;

		memcpy(&k, key, 8);
		return *(const uint64_t *)e->key == k;
	}
	return !memcmp(e->key, key, ks);
}

static struct htab_elem *find(struct htab *t, const void *key, uint32_t hash)
{
	uint32_t b = hash & t->mask, ks = t->map.key_size, link;

again:
	link = __atomic_load_n(&t->buckets[b].head, __ATOMIC_ACQUIRE);
	while (!(link & 1)) {
		struct htab_elem *e = htab_elem(t, link >> 1);
		uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

		if (!(s & 1) && e->hash == hash && key_eq(e, key, ks)) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s)
				return e;
			goto again;
		}
		link = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE);
	}
	if ((link >> 1) != b)
		goto again;
	return NULL;
}

/* With the bucket lock held: nothing in the chain moves. */
static struct htab_elem *find_locked(struct htab *t, struct htab_bucket *b,
				     const void *key, uint32_t hash)
{
	uint32_t link = b->head, ks = t->map.key_size;

	while (!(link & 1)) {
		struct htab_elem *e = htab_elem(t, link >> 1);

		if (e->hash == hash && key_eq(e, key, ks))
			return e;
		link = e->next;
	}
	return NULL;
}

void htab_unlink_free(struct htab *t, struct htab_bucket *b,
		      struct htab_elem *e, bool dec)
{
	uint32_t want = HTAB_ELEM(htab_idx(t, e)), *pp = &b->head;

	while (*pp != want) {
		if (*pp & 1)
			return; /* not in this chain: nothing to do */
		pp = &htab_elem(t, *pp >> 1)->next;
	}
	__atomic_store_n(pp, e->next, __ATOMIC_RELEASE);
	e->state = 0;
	/* odd: readers skip it, and one that matched it re-walks */
	__atomic_store_n(&e->seq, e->seq | 1, __ATOMIC_RELEASE);
	pool_push(t, e);
	if (dec)
		count_dec(t);
}

/* Write key and value into an unlinked element. */
static void fill(struct htab *t, struct htab_elem *e, const void *key,
		 uint32_t hash, const void *value, bool allcpus)
{
	uint32_t s = e->seq;

	if (!(s & 1))
		__atomic_store_n(&e->seq, ++s, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->hash = hash;
	memcpy(e->key, key, t->map.key_size);
	if (t->percpu) {
		uint32_t idx = htab_idx(t, e);

		if (allcpus)
			map_pcpu_scatter(&t->pcpu, idx, value);
		else
			map_pcpu_init(&t->pcpu, idx, map_pcpu_this(&t->pcpu),
				      value);
	} else {
		void *v = value_of(t, e);

		memcpy(v, value, t->map.value_size);
		if (t->has_lock)
			memset((uint8_t *)v + t->map.hdr->def.spin_lock_off, 0,
			       4);
	}
	e->ref = 0;
	__atomic_store_n(&e->seq, s + 1, __ATOMIC_RELEASE);
}

static void write_in_place(struct htab *t, struct htab_elem *e,
			   const void *value, uint64_t flags, bool allcpus)
{
	if (t->percpu) {
		uint32_t idx = htab_idx(t, e);

		if (allcpus)
			map_pcpu_scatter(&t->pcpu, idx, value);
		else
			memcpy(map_pcpu_ptr(&t->pcpu, idx,
					    map_pcpu_this(&t->pcpu)),
			       value, t->map.value_size);
	} else if (flags & BPF_F_LOCK) {
		map_copy_value_locked(&t->map, value_of(t, e), value, true);
	} else {
		map_copy_value(&t->map, value_of(t, e), value, true);
	}
}

static long do_update(struct htab *t, const void *key, const void *value,
		      uint64_t flags, bool allcpus)
{
	uint64_t f = flags & ~(uint64_t)BPF_F_LOCK;
	struct htab_elem *old, *e = NULL;
	struct htab_bucket *b;
	uint32_t hash;
	long err = 0;

	if (f > BPF_EXIST)
		return -EINVAL;
	if ((flags & BPF_F_LOCK) && (!t->has_lock || t->percpu))
		return -EINVAL;
	hash = map_hash(key, t->map.key_size, t->seed);
	b = &t->buckets[hash & t->mask];
	/* LRU eviction locks other buckets: allocate before ours */
	if (t->lru && f != BPF_EXIST) {
		e = lru_alloc(t);
		if (!e)
			return -ENOMEM;
		fill(t, e, key, hash, value, allcpus);
	}
	shm_lock(&b->lock);
	old = find_locked(t, b, key, hash);
	if (old && f == BPF_NOEXIST) {
		err = -EEXIST;
		goto out;
	}
	if (!old && f == BPF_EXIST) {
		err = -ENOENT;
		goto out;
	}
	if (old && (t->percpu || (flags & BPF_F_LOCK))) {
		write_in_place(t, old, value, flags, allcpus);
		if (t->lru)
			old->ref = 1;
		goto out;
	}
	if (!e) {
		if (!old && !count_inc(t)) {
			err = -E2BIG;
			goto out_unlock;
		}
		e = pool_pop(t);
		if (!e) {
			if (old) {
				write_in_place(t, old, value, flags, allcpus);
				goto out_unlock;
			}
			count_dec(t);
			err = -E2BIG;
			goto out_unlock;
		}
		fill(t, e, key, hash, value, allcpus);
	}
	e->state = 1;
	e->next = b->head;
	__atomic_store_n(&b->head, HTAB_ELEM(htab_idx(t, e)),
			 __ATOMIC_RELEASE);
	if (old)
		htab_unlink_free(t, b, old, t->lru);
	e = NULL;
out:
	if (e) { /* LRU element not used */
		__atomic_store_n(&e->seq, e->seq | 1, __ATOMIC_RELEASE);
		pool_push(t, e);
		count_dec(t);
	}
out_unlock:
	shm_unlock(&b->lock);
	return err;
}

long map_htab_update(struct bpfx_map *m, const void *key, const void *value,
		     uint64_t flags)
{
	return do_update((struct htab *)m, key, value, flags, false);
}

static int sys_update(struct bpfx_map *m, const void *key, const void *value,
		      uint64_t flags)
{
	return (int)do_update((struct htab *)m, key, value, flags, true);
}

long map_htab_delete(struct bpfx_map *m, const void *key)
{
	struct htab *t = (struct htab *)m;
	uint32_t hash = map_hash(key, m->key_size, t->seed);
	struct htab_bucket *b = &t->buckets[hash & t->mask];
	struct htab_elem *e;

	shm_lock(&b->lock);
	e = find_locked(t, b, key, hash);
	if (e)
		htab_unlink_free(t, b, e, true);
	shm_unlock(&b->lock);
	return e ? 0 : -ENOENT;
}

int map_htab_lookup_and_delete(struct bpfx_map *m, const void *key,
			       void *value, uint64_t flags)
{
	struct htab *t = (struct htab *)m;
	uint32_t hash = map_hash(key, m->key_size, t->seed);
	struct htab_bucket *b = &t->buckets[hash & t->mask];
	struct htab_elem *e;

	if (flags & ~(uint64_t)BPF_F_LOCK)
		return -EINVAL;
	if ((flags & BPF_F_LOCK) && (!t->has_lock || t->percpu))
		return -EINVAL;
	shm_lock(&b->lock);
	e = find_locked(t, b, key, hash);
	if (e) {
		if (t->percpu)
			map_pcpu_gather(&t->pcpu, htab_idx(t, e), value);
		else if (flags & BPF_F_LOCK)
			map_copy_value_locked(m, value, value_of(t, e), false);
		else
			map_copy_value(m, value, value_of(t, e), false);
		htab_unlink_free(t, b, e, true);
	}
	shm_unlock(&b->lock);
	return e ? 0 : -ENOENT;
}

/* ---- lookups ---- */

void *map_htab_lookup_value(struct bpfx_map *m, const void *key)
{
	struct htab *t = (struct htab *)m;
	struct htab_elem *e = find(t, key, map_hash(key, m->key_size, t->seed));

	return e ? value_of(t, e) : NULL;
}

static void *lru_lookup(struct bpfx_map *m, const void *key)
{
	struct htab *t = (struct htab *)m;
	struct htab_elem *e = find(t, key, map_hash(key, m->key_size, t->seed));

	if (!e)
		return NULL;
	if (!e->ref) /* a store only when needed: no line bouncing */
		__atomic_store_n(&e->ref, 1, __ATOMIC_RELAXED);
	return value_of(t, e);
}

static void *pcpu_lookup(struct bpfx_map *m, const void *key)
{
	struct htab *t = (struct htab *)m;
	struct htab_elem *e = find(t, key, map_hash(key, m->key_size, t->seed));

	if (!e)
		return NULL;
	if (t->lru && !e->ref)
		__atomic_store_n(&e->ref, 1, __ATOMIC_RELAXED);
	return map_pcpu_ptr(&t->pcpu, htab_idx(t, e), map_pcpu_this(&t->pcpu));
}

static void *pcpu_lookup_cpu(struct bpfx_map *m, const void *key,
			     uint32_t cpu)
{
	struct htab *t = (struct htab *)m;
	struct htab_elem *e;

	if (cpu >= t->pcpu.ncpus)
		return NULL;
	e = find(t, key, map_hash(key, m->key_size, t->seed));
	if (!e)
		return NULL;
	if (t->lru && !e->ref)
		__atomic_store_n(&e->ref, 1, __ATOMIC_RELAXED);
	return map_pcpu_ptr(&t->pcpu, htab_idx(t, e), cpu);
}

static int pcpu_sys_lookup(struct bpfx_map *m, const void *key, void *value,
			   uint64_t flags)
{
	struct htab *t = (struct htab *)m;
	struct htab_elem *e;

	if (flags)
		return -EINVAL;
	e = find(t, key, map_hash(key, m->key_size, t->seed));
	if (!e)
		return -ENOENT;
	map_pcpu_gather(&t->pcpu, htab_idx(t, e), value);
	return 0;
}

/* Kernel order: the element after @key in its chain, else the first of
 * the next non-empty bucket; a missing @key restarts from bucket 0. */
int map_htab_get_next_key(struct bpfx_map *m, const void *key,
			  void *next_key)
{
	struct htab *t = (struct htab *)m;
	uint32_t i = 0, ks = m->key_size;

	if (key) {
		uint32_t hash = map_hash(key, ks, t->seed);
		struct htab_bucket *b = &t->buckets[hash & t->mask];
		struct htab_elem *e;

		shm_lock(&b->lock);
		e = find_locked(t, b, key, hash);
		if (e && !(e->next & 1)) {
			memcpy(next_key, htab_elem(t, e->next >> 1)->key, ks);
			shm_unlock(&b->lock);
			return 0;
		}
		shm_unlock(&b->lock);
		if (e)
			i = (hash & t->mask) + 1;
	}
	for (; i <= t->mask; i++) {
		struct htab_bucket *b = &t->buckets[i];

		if (__atomic_load_n(&b->head, __ATOMIC_ACQUIRE) & 1)
			continue;
		shm_lock(&b->lock);
		if (!(b->head & 1)) {
			memcpy(next_key, htab_elem(t, b->head >> 1)->key, ks);
			shm_unlock(&b->lock);
			return 0;
		}
		shm_unlock(&b->lock);
	}
	return -ENOENT;
}

const struct map_ops map_htab_ops = {
	.check = map_htab_check,
	.layout = map_htab_layout,
	.init = map_htab_init,
	.attach = map_htab_attach,
	.lookup = map_htab_lookup_value,
	.update = map_htab_update,
	.delete = map_htab_delete,
	.sys_lookup_and_delete = map_htab_lookup_and_delete,
	.get_next_key = map_htab_get_next_key,
};

const struct map_ops map_lru_htab_ops = {
	.check = map_htab_check,
	.layout = map_htab_layout,
	.init = map_htab_init,
	.attach = map_htab_attach,
	.lookup = lru_lookup,
	.update = map_htab_update,
	.delete = map_htab_delete,
	.sys_lookup_and_delete = map_htab_lookup_and_delete,
	.get_next_key = map_htab_get_next_key,
};

const struct map_ops map_percpu_htab_ops = {
	.check = map_htab_check,
	.layout = map_htab_layout,
	.init = map_htab_init,
	.attach = map_htab_attach,
	.lookup = pcpu_lookup,
	.update = map_htab_update,
	.delete = map_htab_delete,
	.lookup_percpu = pcpu_lookup_cpu,
	.sys_lookup = pcpu_sys_lookup,
	.sys_update = sys_update,
	.sys_lookup_and_delete = map_htab_lookup_and_delete,
	.get_next_key = map_htab_get_next_key,
};

const struct map_ops map_lru_percpu_htab_ops = {
	.check = map_htab_check,
	.layout = map_htab_layout,
	.init = map_htab_init,
	.attach = map_htab_attach,
	.lookup = pcpu_lookup,
	.update = map_htab_update,
	.delete = map_htab_delete,
	.lookup_percpu = pcpu_lookup_cpu,
	.sys_lookup = pcpu_sys_lookup,
	.sys_update = sys_update,
	.sys_lookup_and_delete = map_htab_lookup_and_delete,
	.get_next_key = map_htab_get_next_key,
};
