/* SPDX-License-Identifier: MIT */
/*
 * lpm_trie.c - BPF_MAP_TYPE_LPM_TRIE (longest-prefix match).
 *
 * Keys are struct bpf_lpm_trie_key: u32 prefixlen, then data_size bytes
 * (1..256) in network order. Semantics follow the kernel's lpm_trie.c:
 * lookup returns the entry with the longest prefix that matches the key's
 * first min(prefixlen, key prefixlen) bits; update and delete act on the
 * exact (prefixlen, masked data); a full trie is -ENOSPC; creation needs
 * BPF_F_NO_PREALLOC; get_next_key walks in the kernel's post-order (the
 * deeper prefix first, bit 0 before bit 1), starting over when the key is
 * not in the trie.
 *
 * Storage is not a trie but a slot table (max_entries slots, each
 * {used, prefixlen, data, value}) scanned linearly: O(n) per lookup, fine
 * for the small tables programs use, slow for large ones. Writers hold
 * one lock and bump a sequence count around each change; readers retry if
 * it moved. Slots never move, so a returned value pointer stays valid.
 */
#include "maps/map_internal.h"

#define LPM_DATA_MAX 256u

struct lpm_hdr {
	struct shm_lock lock;
	uint32_t seq;
	uint32_t hiwater; /* slots [0, hiwater) may be used */
	uint32_t count;
	uint32_t slot_size;
};

struct lpm_slot {
	uint32_t used;
	uint32_t prefixlen;
	uint8_t data[];
};

struct lpm {
	struct bpfx_map map;
	struct lpm_hdr *h;
	uint8_t *slots;
	uint32_t slot_size, data_size, max_prefixlen, value_off;
};

static int lpm_check(const struct map_def *d)
{
	if (d->max_entries == 0 || !(d->map_flags & BPF_F_NO_PREALLOC) ||
	    (d->map_flags & ~(BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE |
			      MAP_ACCESS_MASK)) ||
	    d->key_size < 4 + 1 || d->key_size > 4 + LPM_DATA_MAX ||
	    d->value_size < 1 || d->value_size > MAP_KMALLOC_MAX - 64)
		return -EINVAL;
	return 0;
}

static uint32_t slot_size_of(const struct map_def *d, uint32_t *value_off)
{
	uint32_t vo = (uint32_t)(sizeof(struct lpm_slot) +
				 map_round_up(d->key_size - 4, 8));

	*value_off = vo;
	return vo + (uint32_t)map_round_up(d->value_size, 8);
}

static int lpm_layout(const struct map_def *d, struct map_layout *l)
{
	uint32_t vo;

	l->local_size = sizeof(struct lpm);
	l->type_hdr_size = sizeof(struct lpm_hdr);
	l->data_size = (uint64_t)slot_size_of(d, &vo) * d->max_entries;
	return 0;
}

static int lpm_init(struct bpfx_map *m)
{
	struct lpm_hdr *h = map_type_hdr(m);
	uint32_t vo;

	h->slot_size = slot_size_of(&m->hdr->def, &vo);
	return 0;
}

static int lpm_attach(struct bpfx_map *m)
{
	struct lpm *t = (struct lpm *)m;

	t->h = map_type_hdr(m);
	t->slot_size = slot_size_of(&m->hdr->def, &t->value_off);
	if (t->h->slot_size != t->slot_size)
		return -EINVAL;
	t->slots = m->data;
	t->data_size = m->key_size - 4;
	t->max_prefixlen = t->data_size * 8;
	return 0;
}

static struct lpm_slot *slot(struct lpm *t, uint32_t i)
{
	return (struct lpm_slot *)(t->slots + (uint64_t)i * t->slot_size);
}

/* Do the first @bits bits of @a and @b agree? */
static bool prefix_eq(const uint8_t *a, const uint8_t *b, uint32_t bits)
{
	uint32_t full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);

		return ((a[full] ^ b[full]) & mask) == 0;
	}
	return true;
}

static void mask_data(uint8_t *dst, const uint8_t *src, uint32_t n,
		      uint32_t bits)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (bits >= 8) {
			dst[i] = src[i];
			bits -= 8;
		} else {
			dst[i] = (uint8_t)(src[i] & (0xff00u >> bits));
			bits = 0;
		}
	}
}

static struct lpm_slot *best_match(struct lpm *t, const uint8_t *key)
{
	struct lpm_slot *best = NULL;
	uint32_t plen, i, n;

	memcpy(&plen, key, 4);
	n = __atomic_load_n(&t->h->hiwater, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		struct lpm_slot *s = slot(t, i);

		if (!s->used || s->prefixlen > plen ||
		    (best && s->prefixlen <= best->prefixlen))
			continue;
		if (prefix_eq(s->data, key + 4, s->prefixlen))
			best = s;
	}
	return best;
}

static void *lpm_lookup(struct bpfx_map *m, const void *key)
{
	struct lpm *t = (struct lpm *)m;
	struct lpm_slot *s;
	uint32_t seq;

	do {
		int spins = 0;

		/* a writer killed mid-change leaves seq odd: stop waiting */
		seq = __atomic_load_n(&t->h->seq, __ATOMIC_ACQUIRE);
		while ((seq & 1) && ++spins < 100000) {
			__builtin_ia32_pause();
			seq = __atomic_load_n(&t->h->seq, __ATOMIC_ACQUIRE);
		}
		s = best_match(t, key);
		if (seq & 1)
			break;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&t->h->seq, __ATOMIC_RELAXED) != seq);
	return s ? (uint8_t *)s + t->value_off : NULL;
}

/* With the lock held: the slot holding exactly @key's prefix. */
static struct lpm_slot *find_exact(struct lpm *t, const uint8_t *key,
				   uint32_t plen)
{
	uint32_t i;

	for (i = 0; i < t->h->hiwater; i++) {
		struct lpm_slot *s = slot(t, i);

		if (s->used && s->prefixlen == plen &&
		    prefix_eq(s->data, key + 4, plen))
			return s;
	}
	return NULL;
}

static void write_begin(struct lpm *t)
{
	/* odd; stays odd if a dead writer left it so */
	__atomic_store_n(&t->h->seq, t->h->seq | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static void write_end(struct lpm *t)
{
	__atomic_store_n(&t->h->seq, t->h->seq + 1, __ATOMIC_RELEASE);
}

static long lpm_update(struct bpfx_map *m, const void *key,
		       const void *value, uint64_t flags)
{
	struct lpm *t = (struct lpm *)m;
	struct lpm_slot *s;
	uint32_t plen, i;
	long err = 0;

	memcpy(&plen, key, 4);
	if (flags > BPF_EXIST || plen > t->max_prefixlen)
		return -EINVAL;
	shm_lock(&t->h->lock);
	s = find_exact(t, key, plen);
	if (s && flags == BPF_NOEXIST) {
		err = -EEXIST;
		goto out;
	}
	if (!s && flags == BPF_EXIST) {
		err = -ENOENT;
		goto out;
	}
	write_begin(t);
	if (!s) {
		if (t->h->count >= m->max_entries) {
			err = -ENOSPC;
			goto out_end;
		}
		for (i = 0; i < t->h->hiwater && slot(t, i)->used; i++)
			;
		s = slot(t, i);
		if (i == t->h->hiwater)
			__atomic_store_n(&t->h->hiwater, i + 1,
					 __ATOMIC_RELEASE);
		s->prefixlen = plen;
		mask_data(s->data, (const uint8_t *)key + 4, t->data_size,
			  plen);
		s->used = 1;
		t->h->count++;
	}
	memcpy((uint8_t *)s + t->value_off, value, m->value_size);
out_end:
	write_end(t);
out:
	shm_unlock(&t->h->lock);
	return err;
}

static long lpm_delete(struct bpfx_map *m, const void *key)
{
	struct lpm *t = (struct lpm *)m;
	struct lpm_slot *s;
	uint32_t plen;

	memcpy(&plen, key, 4);
	if (plen > t->max_prefixlen)
		return -EINVAL;
	shm_lock(&t->h->lock);
	s = find_exact(t, key, plen);
	if (s) {
		write_begin(t);
		s->used = 0;
		t->h->count--;
		write_end(t);
	}
	shm_unlock(&t->h->lock);
	return s ? 0 : -ENOENT;
}

/* Post-order of the kernel's trie: is @a before @b? */
static bool before(const struct lpm_slot *a, const struct lpm_slot *b)
{
	uint32_t min = a->prefixlen < b->prefixlen ? a->prefixlen
						   : b->prefixlen, i;

	for (i = 0; i < min; i++) {
		uint32_t ba = (a->data[i / 8] >> (7 - i % 8)) & 1;
		uint32_t bb = (b->data[i / 8] >> (7 - i % 8)) & 1;

		if (ba != bb)
			return ba < bb;
	}
	return a->prefixlen > b->prefixlen; /* a child before its parent */
}

static int lpm_next(struct bpfx_map *m, const void *key, void *next_key)
{
	struct lpm *t = (struct lpm *)m;
	struct lpm_slot *cur = NULL, *best = NULL;
	uint32_t i, plen;

	shm_lock(&t->h->lock);
	if (key) {
		memcpy(&plen, key, 4);
		if (plen <= t->max_prefixlen)
			cur = find_exact(t, key, plen);
	}
	for (i = 0; i < t->h->hiwater; i++) {
		struct lpm_slot *s = slot(t, i);

		if (!s->used || s == cur || (cur && !before(cur, s)))
			continue;
		if (!best || before(s, best))
			best = s;
	}
	if (best) {
		memcpy(next_key, &best->prefixlen, 4);
		memcpy((uint8_t *)next_key + 4, best->data, t->data_size);
	}
	shm_unlock(&t->h->lock);
	return best ? 0 : -ENOENT;
}

static int lpm_sys_lookup(struct bpfx_map *m, const void *key, void *value,
			  uint64_t flags)
{
	struct lpm *t = (struct lpm *)m;
	void *v;

	if (flags)
		return -EINVAL;
	shm_lock(&t->h->lock);
	v = lpm_lookup(m, key);
	if (v)
		memcpy(value, v, m->value_size);
	shm_unlock(&t->h->lock);
	return v ? 0 : -ENOENT;
}

const struct map_ops map_lpm_trie_ops = {
	.check = lpm_check,
	.layout = lpm_layout,
	.init = lpm_init,
	.attach = lpm_attach,
	.lookup = lpm_lookup,
	.update = lpm_update,
	.delete = lpm_delete,
	.sys_lookup = lpm_sys_lookup,
	.get_next_key = lpm_next,
};
