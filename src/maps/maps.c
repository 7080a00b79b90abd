/* SPDX-License-Identifier: MIT */
/*
 * maps.c - map creation, opening and dispatch to the type's struct map_ops.
 *
 * map_create validates the attributes the way the kernel's map_create and
 * the type's map_alloc_check do, sizes the file from the type's layout,
 * lets the type initialize the shared part, attaches the creating process
 * and only then publishes the object, so other processes never map a
 * half-built map. map_open maps a published file and attaches.
 *
 * The syscall side checks what the kernel checks in kernel/bpf/syscall.c
 * (flags, frozen maps, BPF_F_RDONLY/WRONLY) before calling the type; the
 * program side trusts the verifier and adds only the cheap checks the
 * kernel's helpers make. Array lookups take an inline fast path.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "maps/map_internal.h"

static const struct map_ops *ops_of(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_ARRAY: return &map_array_ops;
	case BPF_MAP_TYPE_PERCPU_ARRAY: return &map_percpu_array_ops;
	case BPF_MAP_TYPE_HASH: return &map_htab_ops;
	case BPF_MAP_TYPE_PERCPU_HASH: return &map_percpu_htab_ops;
	case BPF_MAP_TYPE_LRU_HASH: return &map_lru_htab_ops;
	case BPF_MAP_TYPE_LRU_PERCPU_HASH: return &map_lru_percpu_htab_ops;
	case BPF_MAP_TYPE_RINGBUF: return &map_ringbuf_ops;
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY: return &map_perf_event_ops;
	case BPF_MAP_TYPE_PROG_ARRAY: return &map_prog_array_ops;
	case BPF_MAP_TYPE_STACK_TRACE: return &map_stack_trace_ops;
	case BPF_MAP_TYPE_QUEUE: return &map_queue_ops;
	case BPF_MAP_TYPE_STACK: return &map_stack_ops;
	case BPF_MAP_TYPE_BLOOM_FILTER: return &map_bloom_ops;
	case BPF_MAP_TYPE_LPM_TRIE: return &map_lpm_trie_ops;
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: return &map_array_of_maps_ops;
	case BPF_MAP_TYPE_HASH_OF_MAPS: return &map_hash_of_maps_ops;
	}
	return NULL;
}

bool map_type_supported(uint32_t type)
{
	return ops_of(type) != NULL;
}

const char *map_type_name(uint32_t type)
{
	static const char *const names[] = {
		[BPF_MAP_TYPE_UNSPEC] = "unspec",
		[BPF_MAP_TYPE_HASH] = "hash",
		[BPF_MAP_TYPE_ARRAY] = "array",
		[BPF_MAP_TYPE_PROG_ARRAY] = "prog_array",
		[BPF_MAP_TYPE_PERF_EVENT_ARRAY] = "perf_event_array",
		[BPF_MAP_TYPE_PERCPU_HASH] = "percpu_hash",
		[BPF_MAP_TYPE_PERCPU_ARRAY] = "percpu_array",
		[BPF_MAP_TYPE_STACK_TRACE] = "stack_trace",
		[BPF_MAP_TYPE_CGROUP_ARRAY] = "cgroup_array",
		[BPF_MAP_TYPE_LRU_HASH] = "lru_hash",
		[BPF_MAP_TYPE_LRU_PERCPU_HASH] = "lru_percpu_hash",
		[BPF_MAP_TYPE_LPM_TRIE] = "lpm_trie",
		[BPF_MAP_TYPE_ARRAY_OF_MAPS] = "array_of_maps",
		[BPF_MAP_TYPE_HASH_OF_MAPS] = "hash_of_maps",
		[BPF_MAP_TYPE_DEVMAP] = "devmap",
		[BPF_MAP_TYPE_SOCKMAP] = "sockmap",
		[BPF_MAP_TYPE_CPUMAP] = "cpumap",
		[BPF_MAP_TYPE_XSKMAP] = "xskmap",
		[BPF_MAP_TYPE_SOCKHASH] = "sockhash",
		[BPF_MAP_TYPE_CGROUP_STORAGE] = "cgroup_storage",
		[BPF_MAP_TYPE_REUSEPORT_SOCKARRAY] = "reuseport_sockarray",
		[BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE] = "percpu_cgroup_storage",
		[BPF_MAP_TYPE_QUEUE] = "queue",
		[BPF_MAP_TYPE_STACK] = "stack",
		[BPF_MAP_TYPE_SK_STORAGE] = "sk_storage",
		[BPF_MAP_TYPE_DEVMAP_HASH] = "devmap_hash",
		[BPF_MAP_TYPE_STRUCT_OPS] = "struct_ops",
		[BPF_MAP_TYPE_RINGBUF] = "ringbuf",
		[BPF_MAP_TYPE_INODE_STORAGE] = "inode_storage",
		[BPF_MAP_TYPE_TASK_STORAGE] = "task_storage",
		[BPF_MAP_TYPE_BLOOM_FILTER] = "bloom_filter",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

int map_check_access_flags(uint32_t flags)
{
	if ((flags & BPF_F_RDONLY) && (flags & BPF_F_WRONLY))
		return -EINVAL;
	if ((flags & BPF_F_RDONLY_PROG) && (flags & BPF_F_WRONLY_PROG))
		return -EINVAL;
	return 0;
}

uint32_t map_hash(const void *key, uint32_t len, uint64_t seed)
{
	const uint8_t *p = key;
	uint64_t h = seed ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull), v;

	while (len >= 8) {
		memcpy(&v, p, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
		h ^= h >> 29;
		p += 4;
		len -= 4;
	}
	if (len) {
		v = 0;
		while (len--)
			v = (v << 8) | *p++;
		h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	return (uint32_t)h;
}

uint64_t map_random_seed(void)
{
	uint64_t v;
	struct timespec ts;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == sizeof(v))
		return v;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
}

void map_copy_value(const struct bpfx_map *m, void *dst, const void *src,
		    bool to_map)
{
	const struct map_def *d = &m->hdr->def;
	uint32_t off = d->spin_lock_off;

	if (!d->has_spin_lock) {
		memcpy(dst, src, m->value_size);
		return;
	}
	/* the lock word is never copied: it belongs to whoever holds it */
	memcpy(dst, src, off);
	memcpy((uint8_t *)dst + off + 4, (const uint8_t *)src + off + 4,
	       m->value_size - off - 4);
	if (!to_map)
		memset((uint8_t *)dst + off, 0, 4);
}

void map_copy_value_locked(const struct bpfx_map *m, void *dst,
			   const void *src, bool to_map)
{
	const struct map_def *d = &m->hdr->def;
	uint32_t off = d->spin_lock_off;
	/* the lock word lives in the map's copy, which is writable */
	uint32_t *lock = (uint32_t *)(uintptr_t)((const uint8_t *)(to_map ? dst
									 : src) +
						 off);

	shm_spin_lock(lock);
	memcpy(dst, src, off);
	memcpy((uint8_t *)dst + off + 4, (const uint8_t *)src + off + 4,
	       m->value_size - off - 4);
	if (!to_map)
		memset((uint8_t *)dst + off, 0, 4);
	shm_spin_unlock(lock);
}

/* ---- create / open / close ---- */

static int check_common(const struct map_def *d, const struct map_ops *ops)
{
	int err;

	if (!ops)
		return -EOPNOTSUPP;
	err = map_check_access_flags(d->map_flags);
	if (err)
		return err;
	if (d->has_spin_lock &&
	    (d->spin_lock_off % 4 || d->spin_lock_off + 4 > d->value_size))
		return -EINVAL;
	return ops->check(d);
}

static int attach(struct shm_session *s, uint32_t id, void *mem,
		  size_t size, const struct map_ops *ops, int created,
		  struct bpfx_map **out)
{
	struct map_hdr *hdr = (struct map_hdr *)((uint8_t *)mem +
						 sizeof(struct shm_obj_hdr));
	struct map_layout l = { 0 };
	struct bpfx_map *m;
	int err;

	err = ops->layout(&hdr->def, &l);
	if (err)
		return err;
	m = calloc(1, l.local_size);
	if (!m)
		return -ENOMEM;
	m->ops = ops;
	m->session = s;
	m->hdr = hdr;
	m->mem = mem;
	m->mem_size = size;
	m->id = id;
	m->type = hdr->def.type;
	m->key_size = hdr->def.key_size;
	m->value_size = hdr->def.value_size;
	m->max_entries = hdr->def.max_entries;
	m->map_flags = hdr->def.map_flags;
	m->data = (uint8_t *)mem + hdr->data_off;
	m->priv = m;
	if (created && ops->init) {
		err = ops->init(m);
		if (err)
			goto fail;
	}
	if (ops->attach) {
		err = ops->attach(m);
		if (err)
			goto fail;
	}
	*out = m;
	return 0;
fail:
	free(m);
	return err;
}

int map_create(struct shm_session *s, const struct map_def *def,
	       struct bpfx_map **out)
{
	const struct map_ops *ops = ops_of(def->type);
	struct map_layout l = { 0 };
	struct map_def inner = { 0 };
	uint64_t data_off, size, align;
	struct map_hdr *hdr;
	void *mem = NULL;
	int err, id;

	err = check_common(def, ops);
	if (err)
		return err;
	if (def->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	    def->type == BPF_MAP_TYPE_HASH_OF_MAPS) {
		err = map_inner_template_check(s, def, &inner);
		if (err)
			return err;
	}
	err = ops->layout(def, &l);
	if (err)
		return err;
	align = l.data_align ? l.data_align : 64;
	data_off = map_round_up(MAP_TYPE_HDR_OFF + l.type_hdr_size, align);
	size = data_off + l.data_size;
	if (l.data_size > MAP_FILE_MAX || size > MAP_FILE_MAX)
		return -E2BIG;
	size = map_round_up(size, MAP_PAGE);
	id = shm_obj_create(s, SHM_MAP, (size_t)size, def->name, &mem);
	if (id < 0)
		return id;
	hdr = (struct map_hdr *)((uint8_t *)mem + sizeof(struct shm_obj_hdr));
	hdr->def = *def;
	hdr->data_off = data_off;
	hdr->data_size = l.data_size;
	hdr->inner = inner;
	err = attach(s, (uint32_t)id, mem, (size_t)size, ops, 1, out);
	if (err) {
		shm_obj_unmap(mem, (size_t)size);
		shm_obj_release(s, SHM_MAP, (uint32_t)id);
		shm_gc(s);
		return err;
	}
	shm_obj_publish(mem);
	return 0;
}

int map_open(struct shm_session *s, uint32_t id, struct bpfx_map **out)
{
	const struct map_ops *ops;
	struct map_hdr *hdr;
	size_t size;
	void *mem;
	int err;

	err = shm_obj_map(s, SHM_MAP, id, &mem, &size);
	if (err)
		return err;
	hdr = (struct map_hdr *)((uint8_t *)mem + sizeof(struct shm_obj_hdr));
	ops = ops_of(hdr->def.type);
	if (!ops || hdr->data_off + hdr->data_size > size) {
		err = -EINVAL;
		goto out_unmap;
	}
	err = shm_obj_hold(s, SHM_MAP, id);
	if (err)
		goto out_unmap;
	err = attach(s, id, mem, size, ops, 0, out);
	if (err) {
		shm_obj_release(s, SHM_MAP, id);
		goto out_unmap;
	}
	return 0;
out_unmap:
	shm_obj_unmap(mem, size);
	return err;
}

void map_close(struct bpfx_map *m)
{
	if (!m)
		return;
	if (m->ops->detach)
		m->ops->detach(m);
	shm_obj_release(m->session, SHM_MAP, m->id);
	shm_obj_unmap(m->mem, m->mem_size);
	free(m);
}

/* ---- process-local cache of maps by id (map-in-map) ----
 * Open addressing, insert-only, readers lock-free: a slot's id is
 * published (release) after its map pointer. */
#define CACHE_SLOTS 4096

static struct cache_slot {
	struct shm_session *s;
	struct bpfx_map *map;
	uint32_t id;
} cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

struct bpfx_map *map_get_cached(struct shm_session *s, uint32_t id)
{
	uint32_t i, h = (id * 2654435761u) % CACHE_SLOTS, n;
	struct bpfx_map *m = NULL;

	if (!id)
		return NULL;
	for (n = 0, i = h; n < CACHE_SLOTS; n++, i = (i + 1) % CACHE_SLOTS) {
		uint32_t v = __atomic_load_n(&cache[i].id, __ATOMIC_ACQUIRE);

		if (!v)
			break;
		if (v == id && cache[i].s == s)
			return cache[i].map;
	}
	pthread_mutex_lock(&cache_lock);
	for (n = 0, i = h; n < CACHE_SLOTS; n++, i = (i + 1) % CACHE_SLOTS) {
		uint32_t v = cache[i].id;

		if (v == id && cache[i].s == s) {
			m = cache[i].map;
			goto out;
		}
		if (!v)
			break;
	}
	if (n == CACHE_SLOTS || map_open(s, id, &m))
		goto out;
	cache[i].s = s;
	cache[i].map = m;
	__atomic_store_n(&cache[i].id, id, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&cache_lock);
	return m;
}

/* ---- mmap ---- */

int map_mmap_region(struct bpfx_map *m, uint64_t off, uint64_t len,
		    int prot, struct map_mmap_seg *segs, int max)
{
	uint64_t end = off + len, size;

	if (!len || off % MAP_PAGE || end < off || max < 1)
		return -EINVAL;
	if (m->type == BPF_MAP_TYPE_ARRAY) {
		if (!(m->map_flags & BPF_F_MMAPABLE))
			return -EINVAL;
		if ((prot & MAP_PROT_WRITE) && m->hdr->frozen)
			return -EPERM;
		size = map_round_up(m->hdr->data_size, MAP_PAGE);
		if (end > size)
			return -EINVAL;
		segs[0].file_off = m->hdr->data_off + off;
		segs[0].len = len;
		return 1;
	}
	if (m->type == BPF_MAP_TYPE_RINGBUF) {
		uint64_t rsz = m->max_entries, cut = 2 * MAP_PAGE + rsz;
		int n = 0;

		if (end > 2 * MAP_PAGE + 2 * rsz)
			return -EINVAL;
		if ((prot & MAP_PROT_WRITE) && end > MAP_PAGE)
			return -EPERM;
		/* user offset u lies at file offset data_off + u, except the
		 * second copy of the data, which is the first one again */
		if (off < cut) {
			segs[n].file_off = m->hdr->data_off + off;
			segs[n].len = (end < cut ? end : cut) - off;
			n++;
		}
		if (end > cut) {
			uint64_t from = off > cut ? off : cut;

			if (n == max)
				return -EINVAL;
			segs[n].file_off = m->hdr->data_off + from - rsz;
			segs[n].len = end - from;
			n++;
		}
		return n;
	}
	return -EINVAL;
}

/* ---- syscall side ---- */

size_t map_sys_value_size(const struct bpfx_map *m)
{
	switch (m->type) {
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return (size_t)map_round_up(m->value_size, 8) * shm_ncpus();
	}
	return m->value_size;
}

static int check_lock_flag(const struct bpfx_map *m, uint64_t flags)
{
	if ((flags & BPF_F_LOCK) && !m->hdr->def.has_spin_lock)
		return -EINVAL;
	return 0;
}

int map_sys_lookup(struct bpfx_map *m, const void *key, void *value,
		   uint64_t flags)
{
	void *p;
	int err;

	if (m->map_flags & BPF_F_WRONLY)
		return -EPERM;
	if (flags & ~(uint64_t)BPF_F_LOCK)
		return -EINVAL;
	err = check_lock_flag(m, flags);
	if (err)
		return err;
	if (m->ops->sys_lookup)
		return m->ops->sys_lookup(m, key, value, flags);
	if (!m->ops->lookup)
		return -EOPNOTSUPP;
	p = m->ops->lookup(m, key);
	if (!p)
		return -ENOENT;
	if (flags & BPF_F_LOCK)
		map_copy_value_locked(m, value, p, false);
	else
		map_copy_value(m, value, p, false);
	return 0;
}

int map_sys_update(struct bpfx_map *m, const void *key, const void *value,
		   uint64_t flags)
{
	int err;

	if ((m->map_flags & BPF_F_RDONLY) ||
	    __atomic_load_n(&m->hdr->frozen, __ATOMIC_ACQUIRE))
		return -EPERM;
	err = check_lock_flag(m, flags);
	if (err)
		return err;
	if (m->ops->sys_update)
		return m->ops->sys_update(m, key, value, flags);
	if (!m->ops->update)
		return -EOPNOTSUPP;
	return (int)m->ops->update(m, key, value, flags);
}

int map_sys_delete(struct bpfx_map *m, const void *key)
{
	if ((m->map_flags & BPF_F_RDONLY) ||
	    __atomic_load_n(&m->hdr->frozen, __ATOMIC_ACQUIRE))
		return -EPERM;
	if (m->ops->sys_delete)
		return m->ops->sys_delete(m, key);
	if (!m->ops->delete)
		return -EOPNOTSUPP;
	return (int)m->ops->delete(m, key);
}

int map_sys_get_next_key(struct bpfx_map *m, const void *key, void *next_key)
{
	if (m->map_flags & BPF_F_WRONLY)
		return -EPERM;
	if (!m->ops->get_next_key)
		return -EOPNOTSUPP;
	return m->ops->get_next_key(m, key, next_key);
}

int map_sys_lookup_and_delete(struct bpfx_map *m, const void *key,
			      void *value, uint64_t flags)
{
	if ((m->map_flags & (BPF_F_RDONLY | BPF_F_WRONLY)) ||
	    __atomic_load_n(&m->hdr->frozen, __ATOMIC_ACQUIRE))
		return -EPERM;
	if (m->ops->sys_lookup_and_delete)
		return m->ops->sys_lookup_and_delete(m, key, value, flags);
	if (m->ops->pop) {
		if (flags)
			return -EINVAL;
		return (int)m->ops->pop(m, value);
	}
	return -EOPNOTSUPP;
}

int map_sys_freeze(struct bpfx_map *m)
{
	uint32_t zero = 0;

	if (m->map_flags & BPF_F_RDONLY)
		return -EPERM;
	if (m->type == BPF_MAP_TYPE_PROG_ARRAY ||
	    m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
	    m->type == BPF_MAP_TYPE_HASH_OF_MAPS ||
	    m->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY ||
	    m->type == BPF_MAP_TYPE_STRUCT_OPS)
		return -ENOTSUP;
	if (!__atomic_compare_exchange_n(&m->hdr->frozen, &zero, 1, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return -EBUSY;
	return 0;
}

/* ---- program side ---- */

int map_percpu_array_values(struct bpfx_map *m, void **values,
			    uint32_t *stride, uint32_t *n, uint64_t *cpu_stride,
			    uint32_t *cpus)
{
	struct map_array *a = (struct map_array *)m;

	if (!m || m->type != BPF_MAP_TYPE_PERCPU_ARRAY)
		return -EINVAL;
	*values = a->pcpu.base;
	*stride = a->pcpu.stride;
	*n = a->n;
	*cpu_stride = a->pcpu.cpu_stride;
	*cpus = a->pcpu.ncpus;
	return 0;
}

void *map_lookup(struct bpfx_map *m, const void *key)
{
	if (__builtin_expect(m->type == BPF_MAP_TYPE_ARRAY, 1))
		return map_array_lookup_fast(m, key);
	if (m->type == BPF_MAP_TYPE_PERCPU_ARRAY) {
		struct map_array *a = (struct map_array *)m;
		uint32_t idx;

		memcpy(&idx, key, 4);
		if (__builtin_expect(idx >= a->n, 0))
			return NULL;
		return map_pcpu_ptr(&a->pcpu, idx, map_pcpu_this(&a->pcpu));
	}
	return m->ops->lookup ? m->ops->lookup(m, key) : NULL;
}

long map_update(struct bpfx_map *m, const void *key, const void *value,
		uint64_t flags)
{
	if (!m->ops->update)
		return -EOPNOTSUPP;
	return m->ops->update(m, key, value, flags);
}

long map_delete(struct bpfx_map *m, const void *key)
{
	if (!m->ops->delete)
		return -EOPNOTSUPP;
	return m->ops->delete(m, key);
}

long map_push(struct bpfx_map *m, const void *value, uint64_t flags)
{
	return m->ops->push ? m->ops->push(m, value, flags) : -EOPNOTSUPP;
}

long map_pop(struct bpfx_map *m, void *value)
{
	return m->ops->pop ? m->ops->pop(m, value) : -EOPNOTSUPP;
}

long map_peek(struct bpfx_map *m, void *value)
{
	return m->ops->peek ? m->ops->peek(m, value) : -EOPNOTSUPP;
}

void *map_lookup_percpu(struct bpfx_map *m, const void *key, uint32_t cpu)
{
	if (!m->ops->lookup_percpu || cpu >= shm_ncpus())
		return NULL;
	return m->ops->lookup_percpu(m, key, cpu);
}

int map_array_values(struct bpfx_map *m, void **values, uint32_t *stride,
		     uint32_t *n)
{
	struct map_array *a = (struct map_array *)m;

	if (!m || m->type != BPF_MAP_TYPE_ARRAY)
		return -EINVAL;
	*values = a->values;
	*stride = a->stride;
	*n = a->n;
	return 0;
}
