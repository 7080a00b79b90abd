/* SPDX-License-Identifier: MIT */
/*
 * perf_event.c - BPF_MAP_TYPE_PERF_EVENT_ARRAY and the perf rings behind it.
 *
 * A perf ring is a session object "perf.<id>" (SHM_PERF) that the
 * perf_event_open emulation creates for each PERF_COUNT_SW_BPF_OUTPUT
 * event: page 0 private state (lock, lost count, wake-up futex), page 1
 * the kernel's struct perf_event_mmap_page, then 2^n data pages; an mmap
 * of the event fd maps the file from PERF_RING_MMAP_OFF, which is what
 * libbpf's perf_buffer reads (data_head / data_tail, records with struct
 * perf_event_header).
 *
 * The map is an fd array (prog_array.c) of ring ids. bpf_perf_event_output
 * picks the slot (BPF_F_CURRENT_CPU or an index), finds this process's
 * mapping of that ring (per-index cache; an entry is immutable once
 * published and only replaced, old entries freed at close), and writes a
 * PERF_RECORD_SAMPLE with a PERF_SAMPLE_RAW payload (u32 size, data,
 * padded to 8 bytes) under the ring's lock. When the ring is full the
 * sample is counted as lost (-ENOSPC) and a PERF_RECORD_LOST goes out
 * before the next sample that fits, as the kernel does.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "maps/map_internal.h"

struct perf_priv {
	struct shm_lock lock;
	uint32_t data_pages;
	uint32_t wake_seq;
	uint64_t lost;
	uint32_t waiters;
};

struct perf_local {
	uint32_t id;
	void *mem;
	size_t size;
	struct perf_local *older; /* replaced entries, freed at close */
};

struct perf_map {
	struct map_array arr;
	struct perf_local **slots;
	struct perf_local *all;
	pthread_mutex_t lock;
};

static struct perf_priv *priv_of(void *mem)
{
	return (struct perf_priv *)((uint8_t *)mem +
				    sizeof(struct shm_obj_hdr));
}

int perf_ring_create(struct shm_session *s, uint32_t data_pages,
		     uint32_t *id)
{
	struct perf_event_mmap_page *pg;
	size_t size;
	void *mem;
	int ret;

	if (!data_pages || (data_pages & (data_pages - 1)) ||
	    data_pages > (1u << 18))
		return -EINVAL;
	size = (size_t)(2 + data_pages) * MAP_PAGE;
	ret = shm_obj_create(s, SHM_PERF, size, "perf", &mem);
	if (ret < 0)
		return ret;
	priv_of(mem)->data_pages = data_pages;
	pg = (struct perf_event_mmap_page *)((uint8_t *)mem + MAP_PAGE);
	pg->version = 0;
	pg->compat_version = 0;
	pg->data_offset = MAP_PAGE;
	pg->data_size = (uint64_t)data_pages * MAP_PAGE;
	shm_obj_publish(mem);
	shm_obj_unmap(mem, size);
	*id = (uint32_t)ret;
	return 0;
}

static void ring_copy(uint8_t *base, uint64_t size, uint64_t pos,
		      const void *src, uint64_t len)
{
	uint64_t off = pos & (size - 1), first = size - off;

	if (first >= len) {
		memcpy(base + off, src, len);
	} else {
		memcpy(base + off, src, first);
		memcpy(base, (const uint8_t *)src + first, len - first);
	}
}

static long ring_write(void *mem, const void *data, uint64_t size)
{
	struct perf_priv *p = priv_of(mem);
	struct perf_event_mmap_page *pg =
		(struct perf_event_mmap_page *)((uint8_t *)mem + MAP_PAGE);
	uint8_t *base = (uint8_t *)mem + 2 * MAP_PAGE;
	uint64_t dsize = (uint64_t)p->data_pages * MAP_PAGE;
	uint64_t need = map_round_up(sizeof(struct perf_event_header) + 4 +
					     size,
				     8);
	uint64_t head, tail, zero = 0;
	struct perf_event_header eh;
	uint32_t raw;

	if (need > 0xffff)
		return -E2BIG;
	shm_lock(&p->lock);
	head = pg->data_head;
	tail = __atomic_load_n(&pg->data_tail, __ATOMIC_ACQUIRE);
	if (p->lost && dsize - (head - tail) >= 24 + need) {
		struct {
			struct perf_event_header h;
			uint64_t id, lost;
		} rec = { { PERF_RECORD_LOST, 0, 24 }, 0, p->lost };

		ring_copy(base, dsize, head, &rec, sizeof(rec));
		head += sizeof(rec);
		p->lost = 0;
	}
	if (dsize - (head - tail) < need) {
		p->lost++;
		__atomic_store_n(&pg->data_head, head, __ATOMIC_RELEASE);
		shm_unlock(&p->lock);
		return -ENOSPC;
	}
	eh.type = PERF_RECORD_SAMPLE;
	eh.misc = 0;
	eh.size = (uint16_t)need;
	raw = (uint32_t)(need - sizeof(eh) - 4);
	ring_copy(base, dsize, head, &eh, sizeof(eh));
	ring_copy(base, dsize, head + sizeof(eh), &raw, 4);
	ring_copy(base, dsize, head + sizeof(eh) + 4, data, size);
	ring_copy(base, dsize, head + sizeof(eh) + 4 + size, &zero,
		  need - sizeof(eh) - 4 - size);
	__atomic_store_n(&pg->data_head, head + need, __ATOMIC_RELEASE);
	shm_unlock(&p->lock);
	if (__atomic_load_n(&p->waiters, __ATOMIC_SEQ_CST)) {
		__atomic_fetch_add(&p->wake_seq, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &p->wake_seq, FUTEX_WAKE, INT_MAX, NULL,
			NULL, 0);
	}
	return 0;
}

/* Consumers (the emulation's epoll/poll watcher): sleep on the ring's
 * futex until data_head moves past @head. The waiter count and the head
 * are checked in Dekker order against ring_write's store of data_head and
 * load of waiters (both sides fully fenced), so no wake-up is lost. */
int perf_ring_wait(void *ring, uint64_t head, int timeout_ms)
{
	struct perf_priv *p = priv_of(ring);
	const struct perf_event_mmap_page *pg =
		(const struct perf_event_mmap_page *)((uint8_t *)ring + MAP_PAGE);
	struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
	uint32_t seq;
	long r = 0;

	__atomic_fetch_add(&p->waiters, 1, __ATOMIC_SEQ_CST);
	seq = __atomic_load_n(&p->wake_seq, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pg->data_head, __ATOMIC_SEQ_CST) == head)
		r = syscall(SYS_futex, &p->wake_seq, FUTEX_WAIT, seq,
			    timeout_ms < 0 ? NULL : &ts, NULL, 0);
	__atomic_fetch_sub(&p->waiters, 1, __ATOMIC_SEQ_CST);
	return r && errno == ETIMEDOUT ? -ETIMEDOUT : 0;
}

int perf_ring_consume(struct shm_session *s, uint32_t id,
		      int (*cb)(void *ctx, void *rec, uint32_t size),
		      void *ctx)
{
	struct perf_event_mmap_page *pg;
	uint64_t head, tail, dsize;
	uint8_t *base, buf[0x10000];
	size_t size;
	void *mem;
	int n = 0, err;

	err = shm_obj_map(s, SHM_PERF, id, &mem, &size);
	if (err)
		return err;
	pg = (struct perf_event_mmap_page *)((uint8_t *)mem + MAP_PAGE);
	base = (uint8_t *)mem + 2 * MAP_PAGE;
	dsize = (uint64_t)priv_of(mem)->data_pages * MAP_PAGE;
	head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
	tail = pg->data_tail;
	while (tail < head) {
		struct perf_event_header eh;
		uint64_t off = tail & (dsize - 1), first = dsize - off;

		if (first >= sizeof(eh)) {
			memcpy(&eh, base + off, sizeof(eh));
		} else {
			memcpy(&eh, base + off, first);
			memcpy((uint8_t *)&eh + first, base,
			       sizeof(eh) - first);
		}
		if (eh.size < sizeof(eh) || eh.size > head - tail)
			break;
		if (first >= eh.size) {
			memcpy(buf, base + off, eh.size);
		} else {
			memcpy(buf, base + off, first);
			memcpy(buf + first, base, eh.size - first);
		}
		tail += eh.size;
		n++;
		if (cb(ctx, buf, eh.size))
			break;
	}
	__atomic_store_n(&pg->data_tail, tail, __ATOMIC_RELEASE);
	shm_obj_unmap(mem, size);
	return n;
}

/* ---- the map ---- */

static int pe_layout(const struct map_def *d, struct map_layout *l)
{
	int err = map_array_layout(d, l);

	l->local_size = sizeof(struct perf_map);
	return err;
}

static int pe_attach(struct bpfx_map *m)
{
	struct perf_map *pm = (struct perf_map *)m;
	int err = map_array_attach(m);

	if (err)
		return err;
	pm->slots = calloc(m->max_entries, sizeof(*pm->slots));
	if (!pm->slots)
		return -ENOMEM;
	pthread_mutex_init(&pm->lock, NULL);
	return 0;
}

static void pe_detach(struct bpfx_map *m)
{
	struct perf_map *pm = (struct perf_map *)m;
	struct perf_local *p, *next;

	for (p = pm->all; p; p = next) {
		next = p->older;
		shm_obj_unmap(p->mem, p->size);
		free(p);
	}
	free(pm->slots);
	pthread_mutex_destroy(&pm->lock);
}

static struct perf_local *ring_of(struct perf_map *pm, uint32_t idx,
				  uint32_t id)
{
	struct perf_local *p = __atomic_load_n(&pm->slots[idx],
					       __ATOMIC_ACQUIRE);

	if (__builtin_expect(p && p->id == id, 1))
		return p;
	pthread_mutex_lock(&pm->lock);
	p = pm->slots[idx];
	if (!p || p->id != id) {
		p = calloc(1, sizeof(*p));
		if (p && shm_obj_map(pm->arr.map.session, SHM_PERF, id, &p->mem,
				     &p->size)) {
			free(p);
			p = NULL;
		}
		if (p) {
			p->id = id;
			p->older = pm->all;
			pm->all = p;
			__atomic_store_n(&pm->slots[idx], p, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&pm->lock);
	return p;
}

long perf_event_output(struct bpfx_map *m, uint64_t flags, const void *data,
		       uint64_t size)
{
	struct perf_map *pm = (struct perf_map *)m;
	uint64_t idx = flags & BPF_F_INDEX_MASK;
	struct perf_local *p;
	uint32_t id;

	if (flags & ~BPF_F_INDEX_MASK)
		return -EINVAL;
	if (idx == BPF_F_CURRENT_CPU)
		idx = shm_cpu_fast();
	if (idx >= m->max_entries)
		return -E2BIG;
	id = map_array_get_id(m, (uint32_t)idx);
	if (!id)
		return -ENOENT;
	p = ring_of(pm, (uint32_t)idx, id);
	if (!p)
		return -ENOENT;
	return ring_write(p->mem, data, size);
}

static void *pe_lookup(struct bpfx_map *m, const void *key)
{
	return NULL;
}

static int pe_sys_lookup(struct bpfx_map *m, const void *key, void *value,
			 uint64_t flags)
{
	return -MAP_ENOTSUPP;
}

const struct map_ops map_perf_event_ops = {
	.check = map_fdarr_check,
	.layout = pe_layout,
	.init = map_array_init,
	.attach = pe_attach,
	.detach = pe_detach,
	.lookup = pe_lookup,
	.sys_lookup = pe_sys_lookup,
	.sys_update = map_fdarr_update,
	.sys_delete = map_fdarr_delete,
	.get_next_key = map_array_get_next_key,
};
