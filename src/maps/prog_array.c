/* SPDX-License-Identifier: MIT */
/*
 * prog_array.c - BPF_MAP_TYPE_PROG_ARRAY, and the "fd array" code it
 * shares with perf_event_array and array_of_maps.
 *
 * The shared part is an array of u32 object ids (fds become ids in the
 * bpf(2) emulation). Updates only take BPF_ANY, as the kernel's fd arrays;
 * each stored id is a session reference from the map (shm_obj_ref), so a
 * program in a prog array outlives the loader's fd like in the kernel.
 *
 * Tail calls read map_prog_array_get: the id, then this process's program
 * for it, from a per-index cache {id, prog}. A program id always names the
 * same program, so the cache needs no lock: a reader trusts the pointer it
 * read only if the entry's id is the slot's id before and after.
 */
#include <pthread.h>
#include <stdlib.h>

#include "maps/map_internal.h"

struct prog_cache {
	uint32_t id;
	const void *prog;
};

static map_prog_resolver_fn resolver;
static void *resolver_ctx;

void map_set_prog_resolver(map_prog_resolver_fn fn, void *ctx)
{
	__atomic_store_n(&resolver_ctx, ctx, __ATOMIC_RELAXED);
	__atomic_store_n(&resolver, fn, __ATOMIC_RELEASE);
}

int map_fdarr_check(const struct map_def *d)
{
	if (d->value_size != 4 || d->key_size != 4 || !d->max_entries)
		return -EINVAL;
	if (d->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
		return -EINVAL;
	if (d->map_flags & ~(BPF_F_NUMA_NODE | MAP_ACCESS_MASK |
			     BPF_F_PRESERVE_ELEMS))
		return -EINVAL;
	if ((d->map_flags & BPF_F_PRESERVE_ELEMS) &&
	    d->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	return 0;
}

static uint32_t *slot(struct bpfx_map *m, uint32_t idx)
{
	struct map_array *a = (struct map_array *)m;

	return (uint32_t *)(a->values + (uint64_t)idx * a->stride);
}

uint32_t map_array_get_id(struct bpfx_map *m, uint32_t index)
{
	if (index >= m->max_entries)
		return 0;
	return __atomic_load_n(slot(m, index), __ATOMIC_ACQUIRE);
}

int map_fdarr_update(struct bpfx_map *m, const void *key, const void *value,
		     uint64_t flags)
{
	uint32_t idx, id, old;

	memcpy(&idx, key, 4);
	memcpy(&id, value, 4);
	if (flags != BPF_ANY)
		return -EINVAL;
	if (idx >= m->max_entries)
		return -E2BIG;
	if (!id)
		return -EBADF;
	if (m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
		int err = map_inner_check(m, id);

		if (err)
			return err;
	}
	shm_obj_ref(m->session, id, m->id);
	old = __atomic_exchange_n(slot(m, idx), id, __ATOMIC_ACQ_REL);
	if (old)
		shm_obj_unref(m->session, old, m->id);
	return 0;
}

int map_fdarr_delete(struct bpfx_map *m, const void *key)
{
	uint32_t idx, old;

	memcpy(&idx, key, 4);
	if (idx >= m->max_entries)
		return -E2BIG;
	old = __atomic_exchange_n(slot(m, idx), 0, __ATOMIC_ACQ_REL);
	if (!old)
		return -ENOENT;
	shm_obj_unref(m->session, old, m->id);
	return 0;
}

int map_fdarr_lookup_id(struct bpfx_map *m, const void *key, void *value,
			uint64_t flags)
{
	uint32_t idx, id;

	memcpy(&idx, key, 4);
	if (flags)
		return -EINVAL;
	if (idx >= m->max_entries)
		return -ENOENT;
	id = __atomic_load_n(slot(m, idx), __ATOMIC_ACQUIRE);
	if (!id)
		return -ENOENT;
	memcpy(value, &id, 4);
	return 0;
}

void map_fdarr_detach(struct bpfx_map *m)
{
	free(((struct map_array *)m)->cache);
}

static int pa_attach(struct bpfx_map *m)
{
	struct map_array *a = (struct map_array *)m;
	int err = map_array_attach(m);

	if (err)
		return err;
	a->cache = calloc(m->max_entries, sizeof(struct prog_cache));
	return a->cache ? 0 : -ENOMEM;
}

const void *map_prog_array_get(struct bpfx_map *m, uint32_t index)
{
	struct prog_cache *c;
	map_prog_resolver_fn fn;
	const void *prog;
	uint32_t id;

	if (index >= m->max_entries)
		return NULL;
	id = __atomic_load_n(slot(m, index), __ATOMIC_ACQUIRE);
	if (!id)
		return NULL;
	c = (struct prog_cache *)((struct map_array *)m)->cache + index;
	if (__atomic_load_n(&c->id, __ATOMIC_ACQUIRE) == id) {
		prog = __atomic_load_n(&c->prog, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&c->id, __ATOMIC_ACQUIRE) == id)
			return prog;
	}
	fn = __atomic_load_n(&resolver, __ATOMIC_ACQUIRE);
	if (!fn)
		return NULL;
	prog = fn(id, __atomic_load_n(&resolver_ctx, __ATOMIC_RELAXED));
	if (!prog)
		return NULL;
	__atomic_store_n(&c->id, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&c->prog, prog, __ATOMIC_RELEASE);
	__atomic_store_n(&c->id, id, __ATOMIC_RELEASE);
	return prog;
}

static void *pa_lookup(struct bpfx_map *m, const void *key)
{
	return NULL; /* the verifier forbids it; the kernel says EOPNOTSUPP */
}

static int pa_update(struct bpfx_map *m, const void *key, const void *value,
		     uint64_t flags)
{
	return map_fdarr_update(m, key, value, flags);
}

const struct map_ops map_prog_array_ops = {
	.check = map_fdarr_check,
	.layout = map_array_layout,
	.init = map_array_init,
	.attach = pa_attach,
	.detach = map_fdarr_detach,
	.lookup = pa_lookup,
	.sys_lookup = map_fdarr_lookup_id,
	.sys_update = pa_update,
	.sys_delete = map_fdarr_delete,
	.get_next_key = map_array_get_next_key,
};
