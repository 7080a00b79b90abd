/* SPDX-License-Identifier: MIT */
/*
 * array.c - BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.
 *
 * Values sit at data_off, which is page aligned, value i at
 * i * round_up(value_size, 8): that is the kernel's mmapable array layout,
 * so map_mmap_region exposes it from offset 0 (global data, .bss/.data/
 * .rodata, read through an mmap by libbpf skeletons). Elements always
 * exist: delete is -EINVAL, BPF_NOEXIST is -EEXIST, an index past the end
 * is -E2BIG on update and NULL / -ENOENT on lookup, as the kernel.
 * Lookups are a bounds check and a multiply (inline in maps.c).
 * The per-CPU twin stores a struct map_pcpu area with one slot per index.
 */
#include "maps/map_internal.h"

static bool is_percpu(const struct map_def *d)
{
	return d->type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

int map_array_check(const struct map_def *d)
{
	uint32_t ok = BPF_F_NUMA_NODE | BPF_F_MMAPABLE | MAP_ACCESS_MASK |
		      BPF_F_INNER_MAP;

	if (d->max_entries == 0 || d->key_size != 4 || d->value_size == 0 ||
	    (d->map_flags & ~ok))
		return -EINVAL;
	if (is_percpu(d) && (d->map_flags & BPF_F_MMAPABLE))
		return -EINVAL;
	if (d->value_size > MAP_KMALLOC_MAX)
		return -E2BIG;
	if (is_percpu(d) && d->value_size > MAP_PCPU_MIN_UNIT)
		return -E2BIG;
	return 0;
}

int map_array_layout(const struct map_def *d, struct map_layout *l)
{
	uint64_t stride = map_round_up((uint64_t)d->value_size, 8);

	l->local_size = sizeof(struct map_array);
	l->type_hdr_size = sizeof(struct map_array_hdr);
	l->data_align = MAP_PAGE;
	if (is_percpu(d))
		l->data_size = map_pcpu_size(shm_ncpus(), d->max_entries,
					     d->value_size);
	else
		l->data_size = stride * d->max_entries;
	return 0;
}

int map_array_init(struct bpfx_map *m)
{
	struct map_array_hdr *h = map_type_hdr(m);

	h->ncpus = shm_ncpus();
	h->stride = (uint32_t)map_round_up(m->value_size, 8);
	return 0;
}

int map_array_attach(struct bpfx_map *m)
{
	struct map_array_hdr *h = map_type_hdr(m);
	struct map_array *a = (struct map_array *)m;

	if (h->stride != map_round_up(m->value_size, 8) || !h->ncpus)
		return -EINVAL;
	a->values = m->data;
	a->stride = h->stride;
	a->n = m->max_entries;
	if (is_percpu(&m->hdr->def)) {
		if (map_pcpu_size(h->ncpus, a->n, m->value_size) >
		    m->hdr->data_size)
			return -EINVAL;
		map_pcpu_setup(&a->pcpu, m->data, h->ncpus, a->n,
			       m->value_size);
	}
	return 0;
}

static void *array_lookup(struct bpfx_map *m, const void *key)
{
	return map_array_lookup_fast(m, key);
}

static int check_update(struct map_array *a, uint32_t idx, uint64_t flags)
{
	if ((flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST)
		return -EINVAL;
	if (idx >= a->n)
		return -E2BIG;
	if ((flags & ~(uint64_t)BPF_F_LOCK) == BPF_NOEXIST)
		return -EEXIST;
	if ((flags & BPF_F_LOCK) && !a->map.hdr->def.has_spin_lock)
		return -EINVAL;
	return 0;
}

static void store(struct map_array *a, void *dst, const void *value,
		  uint64_t flags)
{
	if (flags & BPF_F_LOCK)
		map_copy_value_locked(&a->map, dst, value, true);
	else
		map_copy_value(&a->map, dst, value, true);
}

static long array_update(struct bpfx_map *m, const void *key,
			 const void *value, uint64_t flags)
{
	struct map_array *a = (struct map_array *)m;
	uint32_t idx;
	int err;

	memcpy(&idx, key, 4);
	err = check_update(a, idx, flags);

	if (err)
		return err;
	store(a, a->values + (uint64_t)idx * a->stride, value, flags);
	return 0;
}

static long array_delete(struct bpfx_map *m, const void *key)
{
	return -EINVAL;
}

int map_array_get_next_key(struct bpfx_map *m, const void *key,
			   void *next_key)
{
	uint32_t idx = key ? *(const uint32_t *)key : UINT32_MAX;

	if (idx >= m->max_entries) {
		*(uint32_t *)next_key = 0;
		return 0;
	}
	if (idx == m->max_entries - 1)
		return -ENOENT;
	*(uint32_t *)next_key = idx + 1;
	return 0;
}

/* ---- per-CPU ---- */

static void *pcpu_lookup(struct bpfx_map *m, const void *key)
{
	struct map_array *a = (struct map_array *)m;
	uint32_t idx;

	memcpy(&idx, key, 4);

	if (__builtin_expect(idx >= a->n, 0))
		return NULL;
	return map_pcpu_ptr(&a->pcpu, idx, map_pcpu_this(&a->pcpu));
}

static void *pcpu_lookup_cpu(struct bpfx_map *m, const void *key,
			     uint32_t cpu)
{
	struct map_array *a = (struct map_array *)m;
	uint32_t idx;

	memcpy(&idx, key, 4);

	if (idx >= a->n || cpu >= a->pcpu.ncpus)
		return NULL;
	return map_pcpu_ptr(&a->pcpu, idx, cpu);
}

static long pcpu_update(struct bpfx_map *m, const void *key,
			const void *value, uint64_t flags)
{
	struct map_array *a = (struct map_array *)m;
	uint32_t idx;
	int err;

	memcpy(&idx, key, 4);
	err = check_update(a, idx, flags);

	if (err)
		return err;
	store(a, map_pcpu_ptr(&a->pcpu, idx, map_pcpu_this(&a->pcpu)), value,
	      flags);
	return 0;
}

static int pcpu_sys_lookup(struct bpfx_map *m, const void *key, void *value,
			   uint64_t flags)
{
	struct map_array *a = (struct map_array *)m;
	uint32_t idx;

	memcpy(&idx, key, 4);

	if (idx >= a->n)
		return -ENOENT;
	if (flags & BPF_F_LOCK)
		return -EINVAL;
	map_pcpu_gather(&a->pcpu, idx, value);
	return 0;
}

static int pcpu_sys_update(struct bpfx_map *m, const void *key,
			   const void *value, uint64_t flags)
{
	struct map_array *a = (struct map_array *)m;
	uint32_t idx;
	int err;

	memcpy(&idx, key, 4);
	err = check_update(a, idx, flags);

	if (err)
		return err;
	if (flags & BPF_F_LOCK)
		return -EINVAL;
	map_pcpu_scatter(&a->pcpu, idx, value);
	return 0;
}

const struct map_ops map_array_ops = {
	.check = map_array_check,
	.layout = map_array_layout,
	.init = map_array_init,
	.attach = map_array_attach,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.get_next_key = map_array_get_next_key,
};

const struct map_ops map_percpu_array_ops = {
	.check = map_array_check,
	.layout = map_array_layout,
	.init = map_array_init,
	.attach = map_array_attach,
	.lookup = pcpu_lookup,
	.update = pcpu_update,
	.delete = array_delete,
	.lookup_percpu = pcpu_lookup_cpu,
	.sys_lookup = pcpu_sys_lookup,
	.sys_update = pcpu_sys_update,
	.get_next_key = map_array_get_next_key,
};
