/* SPDX-License-Identifier: MIT */
/*
 * ringbuf.c - BPF_MAP_TYPE_RINGBUF in the kernel's layout.
 *
 * File pages, as the kernel's struct bpf_ringbuf (so page offsets in
 * record headers, pg_off, are the kernel's values):
 *   page 0        private: object/map headers, struct rb_hdr (lock,
 *                 pending_pos, wake-up futex)
 *   page 1        consumer page: u64 consumer_pos (consumer writes)
 *   page 2        producer page: u64 producer_pos
 *   page 3 ...    data, max_entries bytes (a power-of-two page multiple)
 * An mmap of the map fd (map_mmap_region) starts at page 1; the data
 * appears twice back to back, so a record that wraps reads in one piece.
 *
 * Each process maps [meta page][data][data] privately in one reserved
 * range: the meta page holds a pointer back to the process's handle, so
 * bpf_ringbuf_submit(sample) finds its ring from the record header's
 * pg_off exactly as the kernel's bpf_ringbuf_restore_from_rec does.
 *
 * Records: u32 len (bit 31 BUSY while reserved, bit 30 DISCARD), u32
 * pg_off, then the sample, the whole rounded up to 8 bytes. Producers
 * serialize reservations on a struct shm_lock (any process, takeover on
 * death); commits are a lone xchg on len. pending_pos trails producer_pos
 * to the oldest record still BUSY: a reservation may not run more than the
 * ring's size ahead of it, as the kernel (6.9+) checks, so a consumer never
 * sees a record overwritten while its producer still writes it.
 *
 * Wake-ups: consumers sleep on a futex word (wake_seq) after counting
 * themselves in waiters; a commit that sees waiters bumps wake_seq and
 * wakes them. With no waiters a commit costs one extra load.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "maps/map_internal.h"

#define RB_BUSY (1u << 31)
#define RB_DISCARD (1u << 30)
#define RB_HDR_SZ 8u
#define RB_MAX_RECORD (UINT_MAX / 4)
#define RB_PAGES_BEFORE_DATA 3u /* private, consumer, producer */

struct rb_hdr {
	struct shm_lock lock;
	uint64_t mask;
	uint64_t pending_pos;
	uint32_t wake_seq;
	uint32_t waiters;
};

struct rb_rec {
	uint32_t len;
	uint32_t pg_off;
};

struct ringbuf {
	struct bpfx_map map;
	struct rb_hdr *h;
	uint64_t *consumer_pos;
	uint64_t *producer_pos;
	uint8_t *data; /* 2 * size, after the meta page */
	uint8_t *range; /* meta page + 2 * size */
	uint64_t mask;
};

_Static_assert(MAP_TYPE_HDR_OFF + sizeof(struct rb_hdr) <= MAP_PAGE,
	       "ring buffer header must fit in page 0");

static int rb_check(const struct map_def *d)
{
	if (d->key_size || d->value_size || (d->map_flags & ~BPF_F_NUMA_NODE))
		return -EINVAL;
	if (!d->max_entries || (d->max_entries & (d->max_entries - 1)) ||
	    d->max_entries % MAP_PAGE)
		return -EINVAL;
	if (d->max_entries > (1u << 30))
		return -E2BIG;
	return 0;
}

static int rb_layout(const struct map_def *d, struct map_layout *l)
{
	l->local_size = sizeof(struct ringbuf);
	l->type_hdr_size = sizeof(struct rb_hdr);
	l->data_align = MAP_PAGE;
	l->data_size = 2 * MAP_PAGE + (uint64_t)d->max_entries;
	return 0;
}

static int rb_init(struct bpfx_map *m)
{
	struct rb_hdr *h = map_type_hdr(m);

	h->mask = m->max_entries - 1;
	return 0;
}

static int rb_attach(struct bpfx_map *m)
{
	struct ringbuf *rb = (struct ringbuf *)m;
	uint64_t size = m->max_entries;
	uint8_t *range, *p;
	int fd, err = 0;

	if (m->hdr->data_off != MAP_PAGE)
		return -EINVAL;
	rb->h = map_type_hdr(m);
	rb->mask = rb->h->mask;
	if (rb->mask != size - 1)
		return -EINVAL;
	rb->consumer_pos = (uint64_t *)m->data;
	rb->producer_pos = (uint64_t *)((uint8_t *)m->data + MAP_PAGE);
	fd = shm_obj_open_fd(m->session, SHM_MAP, m->id, 0);
	if (fd < 0)
		return fd;
	range = mmap(NULL, MAP_PAGE + 2 * size, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (range == MAP_FAILED) {
		err = -errno;
		goto out_close;
	}
	p = mmap(range, MAP_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p != MAP_FAILED)
		p = mmap(range + MAP_PAGE, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd,
			 (off_t)(m->hdr->data_off + 2 * MAP_PAGE));
	if (p != MAP_FAILED)
		p = mmap(range + MAP_PAGE + size, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd,
			 (off_t)(m->hdr->data_off + 2 * MAP_PAGE));
	if (p == MAP_FAILED) {
		err = -errno;
		munmap(range, MAP_PAGE + 2 * size);
		goto out_close;
	}
	*(struct ringbuf **)range = rb;
	rb->range = range;
	rb->data = range + MAP_PAGE;
out_close:
	close(fd);
	return err;
}

static void rb_detach(struct bpfx_map *m)
{
	struct ringbuf *rb = (struct ringbuf *)m;

	if (rb->range)
		munmap(rb->range, MAP_PAGE + 2 * (uint64_t)m->max_entries);
}

static struct ringbuf *rb_of_sample(void *sample)
{
	struct rb_rec *r = (struct rb_rec *)((uint8_t *)sample - RB_HDR_SZ);
	uintptr_t page = (uintptr_t)r & ~(uintptr_t)(MAP_PAGE - 1);
	uintptr_t data = page - (uintptr_t)(r->pg_off - RB_PAGES_BEFORE_DATA) *
					MAP_PAGE;

	return *(struct ringbuf **)(data - MAP_PAGE);
}

void *ringbuf_reserve(struct bpfx_map *m, uint64_t size, uint64_t flags)
{
	struct ringbuf *rb = (struct ringbuf *)m;
	uint64_t len, cons, prod, pend, new_prod;
	struct rb_rec *r;

	if (flags || size > RB_MAX_RECORD)
		return NULL;
	len = map_round_up(size + RB_HDR_SZ, 8);
	if (len > rb->mask + 1)
		return NULL;
	shm_lock(&rb->h->lock);
	cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	prod = *rb->producer_pos;
	pend = rb->h->pending_pos;
	while (pend < prod) {
		uint32_t l;

		r = (struct rb_rec *)(rb->data + (pend & rb->mask));
		l = __atomic_load_n(&r->len, __ATOMIC_ACQUIRE);
		if (l & RB_BUSY)
			break;
		pend += map_round_up((uint64_t)(l & ~RB_DISCARD) + RB_HDR_SZ,
				     8);
	}
	rb->h->pending_pos = pend;
	new_prod = prod + len;
	if (new_prod - cons > rb->mask || new_prod - pend > rb->mask) {
		shm_unlock(&rb->h->lock);
		return NULL;
	}
	r = (struct rb_rec *)(rb->data + (prod & rb->mask));
	r->len = (uint32_t)size | RB_BUSY;
	r->pg_off = RB_PAGES_BEFORE_DATA + (uint32_t)((prod & rb->mask) /
						      MAP_PAGE);
	__atomic_store_n(rb->producer_pos, new_prod, __ATOMIC_RELEASE);
	shm_unlock(&rb->h->lock);
	return r + 1;
}

static void wake(struct ringbuf *rb)
{
	__atomic_fetch_add(&rb->h->wake_seq, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &rb->h->wake_seq, FUTEX_WAKE, INT_MAX, NULL, NULL,
		0);
}

static void commit(void *sample, uint64_t flags, bool discard)
{
	struct rb_rec *r = (struct rb_rec *)((uint8_t *)sample - RB_HDR_SZ);
	struct ringbuf *rb = rb_of_sample(sample);
	uint32_t len = r->len ^ RB_BUSY;

	if (discard)
		len |= RB_DISCARD;
	__atomic_exchange_n(&r->len, len, __ATOMIC_SEQ_CST);
	if (flags & BPF_RB_FORCE_WAKEUP)
		wake(rb);
	else if (!(flags & BPF_RB_NO_WAKEUP) &&
		 __atomic_load_n(&rb->h->waiters, __ATOMIC_SEQ_CST))
		wake(rb);
}

void ringbuf_submit(struct bpfx_map *m, void *sample, uint64_t flags)
{
	(void)m;
	commit(sample, flags, false);
}

void ringbuf_discard(struct bpfx_map *m, void *sample, uint64_t flags)
{
	(void)m;
	commit(sample, flags, true);
}

long ringbuf_output(struct bpfx_map *m, const void *data, uint64_t size,
		    uint64_t flags)
{
	void *rec;

	if (flags & ~(uint64_t)(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP))
		return -EINVAL;
	rec = ringbuf_reserve(m, size, 0);
	if (!rec)
		return -EAGAIN;
	memcpy(rec, data, size);
	commit(rec, flags, false);
	return 0;
}

uint64_t ringbuf_query(struct bpfx_map *m, uint64_t flags)
{
	struct ringbuf *rb = (struct ringbuf *)m;
	uint64_t cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);

	switch (flags) {
	case BPF_RB_AVAIL_DATA: return prod - cons;
	case BPF_RB_RING_SIZE: return rb->mask + 1;
	case BPF_RB_CONS_POS: return cons;
	case BPF_RB_PROD_POS: return prod;
	}
	return 0;
}

int ringbuf_view(struct bpfx_map *m, struct ringbuf_view *v)
{
	struct ringbuf *rb = (struct ringbuf *)m;

	if (m->type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	v->consumer_pos = rb->consumer_pos;
	v->producer_pos = rb->producer_pos;
	v->data = rb->data;
	v->size = rb->mask + 1;
	return 0;
}

/* Sleep until the producer position is not @pos (@data: not the
 * consumer position, i.e. until there is data). */
static int wait_common(struct bpfx_map *m, uint64_t pos, bool data,
		       int timeout_ms)
{
	struct ringbuf *rb = (struct ringbuf *)m;
	struct timespec ts, *tsp = NULL;
	uint64_t want;
	uint32_t seq;
	long r = 0;

	if (m->type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	seq = __atomic_load_n(&rb->h->wake_seq, __ATOMIC_ACQUIRE);
	__atomic_fetch_add(&rb->h->waiters, 1, __ATOMIC_SEQ_CST);
	want = data ? __atomic_load_n(rb->consumer_pos, __ATOMIC_SEQ_CST) : pos;
	if (__atomic_load_n(rb->producer_pos, __ATOMIC_SEQ_CST) == want)
		r = syscall(SYS_futex, &rb->h->wake_seq, FUTEX_WAIT, seq, tsp,
			    NULL, 0);
	__atomic_fetch_sub(&rb->h->waiters, 1, __ATOMIC_RELAXED);
	return r < 0 && errno == ETIMEDOUT ? -ETIMEDOUT : 0;
}

int ringbuf_wait(struct bpfx_map *m, int timeout_ms)
{
	return wait_common(m, 0, true, timeout_ms);
}

int ringbuf_wait_pos(struct bpfx_map *m, uint64_t pos, int timeout_ms)
{
	return wait_common(m, pos, false, timeout_ms);
}

int ringbuf_consume(struct bpfx_map *m,
		    int (*cb)(void *ctx, void *data, uint32_t size), void *ctx)
{
	struct ringbuf *rb = (struct ringbuf *)m;
	uint64_t cons, prod;
	int n = 0, ret;

	if (m->type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	for (;;) {
		struct rb_rec *r;
		uint32_t len;

		prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		r = (struct rb_rec *)(rb->data + (cons & rb->mask));
		len = __atomic_load_n(&r->len, __ATOMIC_ACQUIRE);
		if (len & RB_BUSY)
			break;
		cons += map_round_up((uint64_t)(len & ~RB_DISCARD) + RB_HDR_SZ,
				     8);
		if (!(len & RB_DISCARD)) {
			n++;
			ret = cb(ctx, r + 1, len & ~RB_DISCARD);
			if (ret) {
				__atomic_store_n(rb->consumer_pos, cons,
						 __ATOMIC_RELEASE);
				return ret;
			}
		}
		__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
	}
	return n;
}

const struct map_ops map_ringbuf_ops = {
	.check = rb_check,
	.layout = rb_layout,
	.init = rb_init,
	.attach = rb_attach,
	.detach = rb_detach,
};
