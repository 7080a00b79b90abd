/* SPDX-License-Identifier: MIT */
/*
 * map_in_map.c - BPF_MAP_TYPE_ARRAY_OF_MAPS and HASH_OF_MAPS.
 *
 * Outer maps store inner map ids (u32) in an fd array (prog_array.c) or a
 * hash (hash.c). The syscall side reads and writes ids; an update checks
 * the inner map against the template given at creation (inner_map_id,
 * its attributes copied into map_hdr.inner), as the kernel's
 * bpf_map_meta_equal: same type, key and value sizes, flags, and
 * max_entries unless the template has BPF_F_INNER_MAP. Each stored id is
 * a session reference from the outer map.
 *
 * The program side returns the inner map itself (struct bpfx_map *), as
 * the kernel returns the inner struct bpf_map *: this process's handle
 * from map_get_cached, opened on first use.
 */
#include "maps/htab.h"

static bool is_outer(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	       type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

int map_inner_template_check(struct shm_session *s, const struct map_def *d,
			     struct map_def *inner)
{
	struct bpfx_map *t;

	if (!d->inner_map_id)
		return -EBADF;
	t = map_get_cached(s, d->inner_map_id);
	if (!t)
		return -EBADF;
	if (is_outer(t->type))
		return -EINVAL;
	if (t->type == BPF_MAP_TYPE_PROG_ARRAY ||
	    t->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY ||
	    t->hdr->def.has_spin_lock)
		return -MAP_ENOTSUPP;
	*inner = t->hdr->def;
	return 0;
}

int map_inner_check(struct bpfx_map *outer, uint32_t id)
{
	const struct map_def *t = &outer->hdr->inner;
	struct bpfx_map *in = map_get_cached(outer->session, id);

	if (!in)
		return -EBADF;
	if (in->type != t->type || in->key_size != t->key_size ||
	    in->value_size != t->value_size ||
	    in->map_flags != t->map_flags ||
	    (!(t->map_flags & BPF_F_INNER_MAP) &&
	     in->max_entries != t->max_entries))
		return -EINVAL;
	return 0;
}

static int outer_check(const struct map_def *d)
{
	if (d->value_size != 4)
		return -EINVAL;
	if (d->type == BPF_MAP_TYPE_ARRAY_OF_MAPS)
		return map_fdarr_check(d);
	return map_htab_check(d);
}

/* ---- array of maps ---- */

static void *aom_lookup(struct bpfx_map *m, const void *key)
{
	uint32_t idx;

	memcpy(&idx, key, 4);
	return map_get_cached(m->session, map_array_get_id(m, idx));
}

const struct map_ops map_array_of_maps_ops = {
	.check = outer_check,
	.layout = map_array_layout,
	.init = map_array_init,
	.attach = map_array_attach,
	.lookup = aom_lookup,
	.sys_lookup = map_fdarr_lookup_id,
	.sys_update = map_fdarr_update,
	.sys_delete = map_fdarr_delete,
	.get_next_key = map_array_get_next_key,
};

/* ---- hash of maps ---- */

static void *hom_lookup(struct bpfx_map *m, const void *key)
{
	uint32_t *v = map_htab_lookup_value(m, key);

	return v ? map_get_cached(m->session,
				  __atomic_load_n(v, __ATOMIC_ACQUIRE))
		 : NULL;
}

static int hom_sys_lookup(struct bpfx_map *m, const void *key, void *value,
			  uint64_t flags)
{
	uint32_t *v;

	if (flags)
		return -EINVAL;
	v = map_htab_lookup_value(m, key);
	if (!v)
		return -ENOENT;
	memcpy(value, v, 4);
	return 0;
}

static int hom_sys_update(struct bpfx_map *m, const void *key,
			  const void *value, uint64_t flags)
{
	uint32_t id, old = 0, *v;
	int err;

	memcpy(&id, value, 4);
	if (flags > BPF_EXIST)
		return -EINVAL;
	err = map_inner_check(m, id);
	if (err)
		return err;
	v = map_htab_lookup_value(m, key);
	if (v)
		old = __atomic_load_n(v, __ATOMIC_ACQUIRE);
	err = (int)map_htab_update(m, key, &id, flags);
	if (err)
		return err;
	shm_obj_ref(m->session, id, m->id);
	if (old)
		shm_obj_unref(m->session, old, m->id);
	return 0;
}

static int hom_sys_delete(struct bpfx_map *m, const void *key)
{
	uint32_t id = 0;
	int err;

	err = map_htab_lookup_and_delete(m, key, &id, 0);
	if (!err && id)
		shm_obj_unref(m->session, id, m->id);
	return err;
}

const struct map_ops map_hash_of_maps_ops = {
	.check = outer_check,
	.layout = map_htab_layout,
	.init = map_htab_init,
	.attach = map_htab_attach,
	.lookup = hom_lookup,
	.sys_lookup = hom_sys_lookup,
	.sys_update = hom_sys_update,
	.sys_delete = hom_sys_delete,
	.get_next_key = map_htab_get_next_key,
};
