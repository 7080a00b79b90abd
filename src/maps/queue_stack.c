/* SPDX-License-Identifier: MIT */
/*
 * queue_stack.c - BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK.
 *
 * As the kernel's queue_stack_maps.c: a ring of max_entries + 1 value
 * slots with head (next push) and tail (next queue pop), under one
 * struct shm_lock. Push on a full map is -E2BIG unless BPF_EXIST, which
 * drops the oldest element to make room; pop/peek on an empty map is
 * -ENOENT. There are no keys: key_size must be 0, lookup/update by key
 * and get_next_key are -EINVAL; the syscall side maps lookup to peek,
 * update to push and lookup_and_delete to pop.
 */
#include "maps/map_internal.h"

struct qs_hdr {
	struct shm_lock lock;
	uint32_t head, tail, size;
};

struct qs {
	struct bpfx_map map;
	struct qs_hdr *h;
	uint8_t *values;
	uint32_t stride;
};

static int qs_check(const struct map_def *d)
{
	if (d->max_entries == 0 || d->key_size != 0 || d->value_size == 0 ||
	    (d->map_flags & ~(BPF_F_NUMA_NODE | MAP_ACCESS_MASK)))
		return -EINVAL;
	if (d->value_size > MAP_KMALLOC_MAX || d->max_entries >= (1u << 30))
		return -E2BIG;
	return 0;
}

static int qs_layout(const struct map_def *d, struct map_layout *l)
{
	l->local_size = sizeof(struct qs);
	l->type_hdr_size = sizeof(struct qs_hdr);
	l->data_size = ((uint64_t)d->max_entries + 1) *
		       map_round_up((uint64_t)d->value_size, 8);
	return 0;
}

static int qs_init(struct bpfx_map *m)
{
	struct qs_hdr *h = map_type_hdr(m);

	h->size = m->max_entries + 1;
	return 0;
}

static int qs_attach(struct bpfx_map *m)
{
	struct qs *q = (struct qs *)m;

	q->h = map_type_hdr(m);
	if (q->h->size != m->max_entries + 1)
		return -EINVAL;
	q->values = m->data;
	q->stride = (uint32_t)map_round_up(m->value_size, 8);
	return 0;
}

static void *slot(struct qs *q, uint32_t i)
{
	return q->values + (uint64_t)i * q->stride;
}

static long qs_push(struct bpfx_map *m, const void *value, uint64_t flags)
{
	struct qs *q = (struct qs *)m;
	struct qs_hdr *h = q->h;

	if (flags & ~(uint64_t)BPF_EXIST)
		return -EINVAL;
	shm_lock(&h->lock);
	if ((h->head + 1) % h->size == h->tail) { /* full */
		if (!(flags & BPF_EXIST)) {
			shm_unlock(&h->lock);
			return -E2BIG;
		}
		h->tail = (h->tail + 1) % h->size; /* drop the oldest */
	}
	memcpy(slot(q, h->head), value, m->value_size);
	h->head = (h->head + 1) % h->size;
	shm_unlock(&h->lock);
	return 0;
}

static long take(struct bpfx_map *m, void *value, bool del)
{
	struct qs *q = (struct qs *)m;
	struct qs_hdr *h = q->h;
	uint32_t i;

	shm_lock(&h->lock);
	if (h->head == h->tail) {
		shm_unlock(&h->lock);
		return -ENOENT;
	}
	if (m->type == BPF_MAP_TYPE_QUEUE) {
		i = h->tail;
		if (del)
			h->tail = (h->tail + 1) % h->size;
	} else {
		i = (h->head + h->size - 1) % h->size;
		if (del)
			h->head = i;
	}
	memcpy(value, slot(q, i), m->value_size);
	shm_unlock(&h->lock);
	return 0;
}

static long qs_pop(struct bpfx_map *m, void *value)
{
	return take(m, value, true);
}

static long qs_peek(struct bpfx_map *m, void *value)
{
	return take(m, value, false);
}

static void *qs_lookup(struct bpfx_map *m, const void *key)
{
	return NULL;
}

static long qs_update(struct bpfx_map *m, const void *key, const void *value,
		      uint64_t flags)
{
	return -EINVAL;
}

static long qs_delete(struct bpfx_map *m, const void *key)
{
	return -EINVAL;
}

static int qs_sys_lookup(struct bpfx_map *m, const void *key, void *value,
			 uint64_t flags)
{
	if (flags)
		return -EINVAL;
	return (int)qs_peek(m, value);
}

static int qs_sys_update(struct bpfx_map *m, const void *key,
			 const void *value, uint64_t flags)
{
	return (int)qs_push(m, value, flags);
}

static int qs_sys_delete(struct bpfx_map *m, const void *key)
{
	return -EINVAL;
}

static int qs_next(struct bpfx_map *m, const void *key, void *next)
{
	return -EINVAL;
}

#define QS_OPS                                                            \
	.check = qs_check, .layout = qs_layout, .init = qs_init,          \
	.attach = qs_attach, .lookup = qs_lookup, .update = qs_update,    \
	.delete = qs_delete, .push = qs_push, .pop = qs_pop,              \
	.peek = qs_peek, .sys_lookup = qs_sys_lookup,                     \
	.sys_update = qs_sys_update, .sys_delete = qs_sys_delete,         \
	.get_next_key = qs_next

const struct map_ops map_queue_ops = { QS_OPS };
const struct map_ops map_stack_ops = { QS_OPS };
