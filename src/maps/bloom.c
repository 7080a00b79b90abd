/* SPDX-License-Identifier: MIT */
/*
 * bloom.c - BPF_MAP_TYPE_BLOOM_FILTER.
 *
 * As the kernel's bloom_filter.c: no keys; push adds a value (BPF_ANY
 * only), peek answers 0 "maybe present" or -ENOENT "surely absent", pop
 * and delete are unsupported. map_extra's low 4 bits give the number of
 * hash functions (0 means 5); the bit array holds about
 * max_entries * nr_hashes / ln 2 bits, rounded up to a power of two.
 * Bits are set with atomic OR, so pushes need no lock and peeks are plain
 * loads; a peek racing a push of the same value may miss it, as in the
 * kernel.
 */
#include "maps/map_internal.h"

struct bloom_hdr {
	uint32_t nr_hashes;
	uint32_t pad;
	uint64_t nr_bits;
	uint64_t seed;
};

struct bloom {
	struct bpfx_map map;
	uint64_t *bits;
	uint64_t mask, seed;
	uint32_t nr_hashes;
};

static uint64_t nr_bits(const struct map_def *d)
{
	uint32_t k = (d->map_extra & 0xf) ? (uint32_t)(d->map_extra & 0xf) : 5;
	uint64_t want = (uint64_t)d->max_entries * k * 10 / 7, n = 64;

	while (n < want)
		n <<= 1;
	return n;
}

static int bloom_check(const struct map_def *d)
{
	if (d->key_size != 0 || d->value_size == 0 || d->max_entries == 0 ||
	    (d->map_flags & ~(BPF_F_NUMA_NODE | MAP_ACCESS_MASK |
			      BPF_F_ZERO_SEED)) ||
	    d->map_extra & ~0xfull)
		return -EINVAL;
	if (d->value_size > MAP_KMALLOC_MAX)
		return -E2BIG;
	if (nr_bits(d) > (1ull << 35))
		return -E2BIG;
	return 0;
}

static int bloom_layout(const struct map_def *d, struct map_layout *l)
{
	l->local_size = sizeof(struct bloom);
	l->type_hdr_size = sizeof(struct bloom_hdr);
	l->data_size = nr_bits(d) / 8;
	return 0;
}

static int bloom_init(struct bpfx_map *m)
{
	struct bloom_hdr *h = map_type_hdr(m);
	uint32_t k = (uint32_t)(m->hdr->def.map_extra & 0xf);

	h->nr_hashes = k ? k : 5;
	h->nr_bits = nr_bits(&m->hdr->def);
	h->seed = (m->map_flags & BPF_F_ZERO_SEED) ? 0 : map_random_seed();
	return 0;
}

static int bloom_attach(struct bpfx_map *m)
{
	struct bloom_hdr *h = map_type_hdr(m);
	struct bloom *b = (struct bloom *)m;

	if (h->nr_bits / 8 > m->hdr->data_size || !h->nr_bits)
		return -EINVAL;
	b->bits = m->data;
	b->mask = h->nr_bits - 1;
	b->seed = h->seed;
	b->nr_hashes = h->nr_hashes;
	return 0;
}

static uint64_t bit_of(struct bloom *b, const void *value, uint32_t i)
{
	return map_hash(value, b->map.value_size, b->seed + i) & b->mask;
}

static long bloom_push(struct bpfx_map *m, const void *value, uint64_t flags)
{
	struct bloom *b = (struct bloom *)m;
	uint32_t i;

	if (flags != BPF_ANY)
		return -EINVAL;
	for (i = 0; i < b->nr_hashes; i++) {
		uint64_t bit = bit_of(b, value, i);

		__atomic_fetch_or(&b->bits[bit / 64], 1ull << (bit % 64),
				  __ATOMIC_RELAXED);
	}
	return 0;
}

static long bloom_peek(struct bpfx_map *m, void *value)
{
	struct bloom *b = (struct bloom *)m;
	uint32_t i;

	for (i = 0; i < b->nr_hashes; i++) {
		uint64_t bit = bit_of(b, value, i);

		if (!(__atomic_load_n(&b->bits[bit / 64], __ATOMIC_RELAXED) &
		      (1ull << (bit % 64))))
			return -ENOENT;
	}
	return 0;
}

static long bloom_pop(struct bpfx_map *m, void *value)
{
	return -EOPNOTSUPP;
}

static void *bloom_lookup(struct bpfx_map *m, const void *key)
{
	return NULL;
}

static long bloom_update(struct bpfx_map *m, const void *key,
			 const void *value, uint64_t flags)
{
	return -EINVAL;
}

static long bloom_delete(struct bpfx_map *m, const void *key)
{
	return -EOPNOTSUPP;
}

/* syscall: lookup(NULL key, value) is peek, update(NULL, value) push */
static int bloom_sys_lookup(struct bpfx_map *m, const void *key, void *value,
			    uint64_t flags)
{
	if (flags)
		return -EINVAL;
	return (int)bloom_peek(m, value);
}

static int bloom_sys_update(struct bpfx_map *m, const void *key,
			    const void *value, uint64_t flags)
{
	return (int)bloom_push(m, value, flags);
}

static int bloom_sys_delete(struct bpfx_map *m, const void *key)
{
	return -EOPNOTSUPP;
}

static int bloom_next(struct bpfx_map *m, const void *key, void *next)
{
	return -EOPNOTSUPP;
}

const struct map_ops map_bloom_ops = {
	.check = bloom_check,
	.layout = bloom_layout,
	.init = bloom_init,
	.attach = bloom_attach,
	.lookup = bloom_lookup,
	.update = bloom_update,
	.delete = bloom_delete,
	.push = bloom_push,
	.pop = bloom_pop,
	.peek = bloom_peek,
	.sys_lookup = bloom_sys_lookup,
	.sys_update = bloom_sys_update,
	.sys_delete = bloom_sys_delete,
	.sys_lookup_and_delete = NULL,
	.get_next_key = bloom_next,
};
