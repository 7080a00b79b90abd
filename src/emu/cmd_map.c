/* SPDX-License-Identifier: MIT */
/*
 * cmd_map.c - BPF_MAP_CREATE and the element commands (single and batch).
 *
 * User buffers are read through the nofault copy, so a bad pointer in a
 * bpf_attr gets -EFAULT as from the kernel, never a crash of the caller.
 * Values of fd-holding maps (prog_array, array/hash_of_maps) are fds on this
 * side and ids inside the map, as the kernel stores object references.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu_internal.h"
#include "emu/perf_internal.h"
#include "vm/vm_internal.h"

static bool valid_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len && name[i]; i++)
		if (!(name[i] == '_' || name[i] == '.' ||
		      (name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z')))
			return false;
	return i < len; /* NUL-terminated within the field */
}

static int copy_in(void *dst, uint64_t src, size_t n)
{
	if (!n)
		return 0;
	if (!src)
		return -EFAULT;
	return (int)vm_nofault_copy(dst, u64_ptr(src), n);
}

/* Writes to the caller: probe the destination first (a read), then copy. */
static int copy_out(uint64_t dst, const void *src, size_t n)
{
	uint8_t probe;

	if (!n)
		return 0;
	if (!dst || vm_nofault_copy(&probe, u64_ptr(dst), 1) ||
	    vm_nofault_copy(&probe, (uint8_t *)u64_ptr(dst) + n - 1, 1))
		return -EFAULT;
	memcpy(u64_ptr(dst), src, n);
	return 0;
}

static bool holds_fds(uint32_t type)
{
	return type == BPF_MAP_TYPE_PROG_ARRAY ||
	       type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	       type == BPF_MAP_TYPE_HASH_OF_MAPS ||
	       type == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
}

long emu_map_create(union bpf_attr *a)
{
	const uint32_t known = BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU |
			       BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY |
			       BPF_F_STACK_BUILD_ID | BPF_F_ZERO_SEED |
			       BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG |
			       BPF_F_CLONE | BPF_F_MMAPABLE |
			       BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP;
	struct map_def def;
	struct bpfx_map *m;
	struct emu_obj *o;
	enum shm_kind kind;
	int err, fd;

	if (a->map_flags & ~known)
		return -EINVAL;
	if (a->map_ifindex || a->btf_vmlinux_value_type_id)
		return -EOPNOTSUPP; /* device offload, struct_ops */
	if ((a->map_flags & BPF_F_RDONLY) && (a->map_flags & BPF_F_WRONLY))
		return -EINVAL;
	if (!valid_name(a->map_name, sizeof(a->map_name)))
		return -EINVAL;
	memset(&def, 0, sizeof(def));
	def.type = a->map_type;
	def.key_size = a->key_size;
	def.value_size = a->value_size;
	def.max_entries = a->max_entries;
	def.map_flags = a->map_flags;
	def.map_extra = a->map_extra;
	memcpy(def.name, a->map_name, sizeof(def.name));
	if (a->inner_map_fd) {
		if (!emu_fd_object((int)a->inner_map_fd, &kind, &def.inner_map_id) ||
		    kind != SHM_MAP)
			return -EBADF;
	}
	if (a->btf_fd) {
		if (!emu_fd_object((int)a->btf_fd, &kind, &def.btf_id) ||
		    kind != SHM_BTF)
			return -EBADF;
		def.btf_key_type_id = a->btf_key_type_id;
		def.btf_value_type_id = a->btf_value_type_id;
	} else if (a->btf_key_type_id || a->btf_value_type_id) {
		return -EINVAL;
	}
	if (!map_type_supported(def.type)) {
		vm_log(BPFX_WARN, "bpfx: map type %u is not supported\n", def.type);
		return -EINVAL;
	}
	err = map_create(emu_session(), &def, &m);
	if (err)
		return err;
	fd = emu_obj_fd(SHM_MAP, m->id, m, true, &o);
	if (fd < 0) {
		map_close(m);
		return fd;
	}
	if (o->handle != m) /* cannot happen for a fresh id; be safe */
		map_close(m);
	/* the handle keeps this process's hold; the creation hold is it */
	return fd;
}

/* Translate an fd-valued map value into the stored id (4 bytes). */
static int value_fd_to_id(const struct bpfx_map *m, void *value)
{
	enum shm_kind want, kind;
	uint32_t fd, id;

	if (!holds_fds(m->type))
		return 0;
	memcpy(&fd, value, sizeof(fd));
	if (m->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		int err = emu_perf_fd_ring((int)fd, &id); /* the perf ring's id */

		if (!err)
			memcpy(value, &id, sizeof(id));
		return err;
	}
	want = m->type == BPF_MAP_TYPE_PROG_ARRAY ? SHM_PROG : SHM_MAP;
	if (!emu_fd_object((int)fd, &kind, &id) || kind != want)
		return -EBADF;
	memcpy(value, &id, sizeof(id));
	return 0;
}

static long elem(int cmd, struct bpfx_map *m, union bpf_attr *a)
{
	size_t vsize = map_sys_value_size(m);
	uint8_t *key = NULL, *val = NULL;
	long err;

	key = malloc(m->key_size ? m->key_size : 1);
	val = malloc(vsize ? vsize : 1);
	if (!key || !val) {
		err = -ENOMEM;
		goto out;
	}
	switch (cmd) {
	case BPF_MAP_LOOKUP_ELEM:
		err = copy_in(key, a->key, m->key_size);
		if (!err)
			err = map_sys_lookup(m, key, val, a->flags);
		if (!err)
			err = copy_out(a->value, val, vsize);
		break;
	case BPF_MAP_UPDATE_ELEM:
		err = copy_in(key, a->key, m->key_size);
		if (!err)
			err = copy_in(val, a->value, m->value_size ? vsize : 0);
		if (!err)
			err = value_fd_to_id(m, val);
		if (!err)
			err = map_sys_update(m, key, val, a->flags);
		break;
	case BPF_MAP_DELETE_ELEM:
		err = copy_in(key, a->key, m->key_size);
		if (!err)
			err = map_sys_delete(m, key);
		break;
	case BPF_MAP_GET_NEXT_KEY:
		err = a->key ? copy_in(key, a->key, m->key_size) : 0;
		if (!err)
			err = map_sys_get_next_key(m, a->key ? key : NULL, val);
		if (!err)
			err = copy_out(a->next_key, val, m->key_size);
		break;
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		err = m->key_size ? copy_in(key, a->key, m->key_size) : 0;
		if (!err)
			err = map_sys_lookup_and_delete(m, m->key_size ? key : NULL,
							val, a->flags);
		if (!err)
			err = copy_out(a->value, val, vsize);
		break;
	default: /* BPF_MAP_FREEZE */
		err = map_sys_freeze(m);
	}
out:
	free(key);
	free(val);
	return err;
}

long emu_map_elem(int cmd, union bpf_attr *a)
{
	struct bpfx_map *m = emu_fd_map((int)a->map_fd);

	if (!m)
		return -EBADF;
	return elem(cmd, m, a);
}

/*
 * Batch commands, as the kernel's generic_map_*_batch: process up to
 * count elements, report how many in count; lookup batches walk keys with
 * get_next_key and hand back the last key as the opaque out_batch token
 * (our token is the key itself, key_size bytes).
 */
long emu_map_batch(int cmd, union bpf_attr *a)
{
	struct bpfx_map *m = emu_fd_map((int)a->batch.map_fd);
	size_t vsize, ksize;
	uint8_t *key = NULL, *next = NULL, *val = NULL;
	uint32_t n = 0, want;
	long err = 0;

	if (!m)
		return -EBADF;
	vsize = map_sys_value_size(m);
	ksize = m->key_size;
	want = a->batch.count;
	if (a->batch.flags)
		return -EINVAL;
	if (!want)
		return -EINVAL;
	key = malloc(ksize ? ksize : 1);
	next = malloc(ksize ? ksize : 1);
	val = malloc(vsize ? vsize : 1);
	if (!key || !next || !val) {
		err = -ENOMEM;
		goto out;
	}
	if (cmd == BPF_MAP_UPDATE_BATCH || cmd == BPF_MAP_DELETE_BATCH) {
		for (n = 0; n < want && !err; n++) {
			err = copy_in(key, a->batch.keys + (uint64_t)n * ksize, ksize);
			if (err)
				break;
			if (cmd == BPF_MAP_DELETE_BATCH) {
				err = map_sys_delete(m, key);
				continue;
			}
			err = copy_in(val, a->batch.values + (uint64_t)n * vsize, vsize);
			if (!err)
				err = value_fd_to_id(m, val);
			if (!err)
				err = map_sys_update(m, key, val, a->batch.elem_flags);
		}
		if (err)
			n--;
		a->batch.count = n;
		goto out;
	}
	/* lookup (and delete) batch */
	if (a->batch.in_batch) {
		err = copy_in(key, a->batch.in_batch, ksize);
		if (err)
			goto out;
	}
	err = map_sys_get_next_key(m, a->batch.in_batch ? key : NULL, next);
	while (!err && n < want) {
		memcpy(key, next, ksize);
		err = map_sys_lookup(m, key, val, a->batch.elem_flags);
		if (err == -ENOENT) { /* deleted meanwhile: skip it */
			err = map_sys_get_next_key(m, key, next);
			continue;
		}
		if (err)
			break;
		err = copy_out(a->batch.keys + (uint64_t)n * ksize, key, ksize);
		if (!err)
			err = copy_out(a->batch.values + (uint64_t)n * vsize, val, vsize);
		if (err)
			break;
		n++;
		err = map_sys_get_next_key(m, key, next);
		if (cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH)
			map_sys_delete(m, key);
	}
	/* -ENOENT means the walk reached the end; count says how far */
	a->batch.count = n;
	if (n && copy_out(a->batch.out_batch, key, ksize))
		err = -EFAULT;
out:
	free(key);
	free(next);
	free(val);
	return err;
}
