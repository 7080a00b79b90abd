/* SPDX-License-Identifier: MIT */
/*
 * mmap.c - mmap and epoll of map fds, as the kernel's bpf_map_mmap and
 * ring buffer poll.
 *
 * mmap: the kernel exposes an mmapable array's values, or a ring buffer's
 * consumer page, producer page and (twice) its data, from offset 0 of the
 * map fd. maps/ says which pieces of the map's file make up the requested
 * range (map_mmap_region); we reserve the whole range and map each piece
 * over it with MAP_FIXED, so the caller gets one contiguous mapping, the
 * data pages of a ring appearing twice back to back.
 *
 * epoll: a ring buffer fd must wake epoll_wait when records arrive. A
 * ring's fd is a regular file, which epoll refuses; so the caller's
 * epoll_ctl registers instead an eventfd of ours (edge-triggered, so no one
 * has to drain it), and a watcher thread per ring blocks in ringbuf_wait
 * and signals the eventfd whenever the producer position moves. Producers
 * in other processes wake the watcher through the ring's own futex: no
 * polling delay.
 *
 * Perf buffers (BPF_OUTPUT events, perf_sw.c) work the same way: the
 * watcher sleeps on the perf ring's futex (perf_ring_wait) and signals the
 * eventfd when data_head moves.
 *
 * poll(2) is level-triggered, so it cannot use the edge-only eventfd as is:
 * emu_poll drains each eventfd, checks readiness itself (producer past
 * consumer), and sleeps in the kernel's poll on the eventfds in place of
 * our fds only when nothing is ready, so a record that lands after the
 * check still wakes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu/emu_internal.h"
#include "emu/perf_internal.h"
#include "vm/vm_internal.h"

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

void *emu_map_mmap(struct bpfx_map *m, int fd, void *addr, size_t len,
		   int prot, int flags, off_t off)
{
	struct map_mmap_seg segs[4];
	uint8_t *base, *cur;
	int n, i;

	if (off < 0 || !(flags & MAP_SHARED)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	n = map_mmap_region(m, (uint64_t)off, len, prot, segs, 4);
	if (n < 0) {
		errno = -n;
		return MAP_FAILED;
	}
	base = raw_mmap(addr, len, PROT_NONE,
			MAP_PRIVATE | MAP_ANONYMOUS | (flags & MAP_FIXED), -1, 0);
	if (base == MAP_FAILED)
		return MAP_FAILED;
	for (i = 0, cur = base; i < n; cur += segs[i].len, i++) {
		if (raw_mmap(cur, segs[i].len, prot, MAP_SHARED | MAP_FIXED, fd,
			     (off_t)segs[i].file_off) == MAP_FAILED) {
			int err = errno;

			munmap(base, len);
			errno = err;
			return MAP_FAILED;
		}
	}
	return base;
}

/* ---- epoll and poll ---- */

struct waker {
	struct bpfx_map *map;	/* a ring buffer, or */
	uint32_t ring_id;	/* a perf ring */
	void *ring;		/* its mapping (whole object) */
	size_t ring_size;
	int efd;
	struct waker *next;
};

static pthread_mutex_t wakers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct waker *wakers;

static const struct perf_event_mmap_page *perf_page(const struct waker *w)
{
	return (const void *)((const uint8_t *)w->ring + PERF_RING_MMAP_OFF);
}

/* Is there something for the consumer? */
static bool ready(const struct waker *w)
{
	struct ringbuf_view v;

	if (w->map) {
		if (ringbuf_view(w->map, &v))
			return false;
		return __atomic_load_n(v.producer_pos, __ATOMIC_ACQUIRE) !=
		       __atomic_load_n(v.consumer_pos, __ATOMIC_ACQUIRE);
	}
	return __atomic_load_n(&perf_page(w)->data_head, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&perf_page(w)->data_tail, __ATOMIC_ACQUIRE);
}

static void *watch(void *arg)
{
	struct waker *w = arg;
	struct ringbuf_view v;
	uint64_t last, one = 1;

	vm_thread_block_signals();
	if (w->map) {
		if (ringbuf_view(w->map, &v))
			return NULL;
		last = *v.consumer_pos;
	} else {
		last = __atomic_load_n(&perf_page(w)->data_tail, __ATOMIC_ACQUIRE);
	}
	for (;;) {
		uint64_t prod = w->map ? __atomic_load_n(v.producer_pos, __ATOMIC_ACQUIRE)
				       : __atomic_load_n(&perf_page(w)->data_head, __ATOMIC_ACQUIRE);

		if (prod != last) {
			last = prod;
			if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				return NULL;
			continue;
		}
		if (w->map)
			ringbuf_wait_pos(w->map, last, -1);
		else
			perf_ring_wait(w->ring, last, -1);
	}
	return NULL;
}

/* The waker of ring buffer @m or perf ring @ring_id, made on first use. */
static struct waker *waker_get(struct bpfx_map *m, uint32_t ring_id)
{
	struct waker *w;
	pthread_t t;
	pthread_attr_t attr;

	pthread_mutex_lock(&wakers_lock);
	for (w = wakers; w; w = w->next)
		if (m ? w->map == m : w->ring_id == ring_id)
			goto out;
	w = calloc(1, sizeof(*w));
	if (!w)
		goto out;
	w->map = m;
	w->ring_id = ring_id;
	w->efd = -1;
	if (!m && shm_obj_map(emu_session(), SHM_PERF, ring_id, &w->ring, &w->ring_size))
		goto fail;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0)
		goto fail;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, watch, w)) {
		pthread_attr_destroy(&attr);
		goto fail;
	}
	pthread_attr_destroy(&attr);
	w->next = wakers;
	wakers = w;
	goto out;
fail:
	if (w->efd >= 0)
		close(w->efd);
	if (w->ring)
		shm_obj_unmap(w->ring, w->ring_size);
	free(w);
	w = NULL;
out:
	pthread_mutex_unlock(&wakers_lock);
	return w;
}

/* The waker behind @fd; *@ours false when @fd is no ring of ours. */
static struct waker *waker_of_fd(int fd, bool *ours)
{
	struct bpfx_map *m;
	struct perf_ev *ev;
	uint32_t id;

	*ours = false;
	if (emu_fd_is_handed_out(fd)) {
		m = emu_fd_map(fd);
		if (!m || m->type != BPF_MAP_TYPE_RINGBUF)
			return NULL;
		*ours = true;
		return waker_get(m, 0);
	}
	ev = perf_ev_of_fd(fd);
	if (!ev || ev->type != PERF_EV_OUTPUT)
		return NULL;
	*ours = true;
	if (perf_sw_ring(ev, 0, &id))
		return NULL;
	return waker_get(NULL, id);
}

/* The fd to hand epoll for @fd: an eventfd that fires when ring buffer or
 * perf buffer @fd gets records; @fd itself when it is no ring of ours;
 * -1 when the eventfd cannot be made. */
int emu_epoll_fd(int fd)
{
	bool ours;
	struct waker *w = waker_of_fd(fd, &ours);

	if (!ours)
		return fd;
	return w ? w->efd : -1;
}

static int64_t left_ms(int timeout_ms, uint64_t deadline)
{
	struct timespec ts;
	uint64_t now;

	if (timeout_ms < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return now >= deadline ? 0 : (int64_t)(deadline - now);
}

long emu_poll(void *pfds, unsigned long n, int timeout_ms)
{
	struct pollfd *fds = pfds, *k = NULL;
	struct waker **ws = NULL;
	struct timespec ts;
	uint64_t deadline, drain;
	unsigned long i, nours = 0;
	long ret = -ENOTSUP;
	int64_t left;

	for (i = 0; i < n; i++) {
		bool ours;
		struct waker *w = fds[i].fd >= 0 ? waker_of_fd(fds[i].fd, &ours) : NULL;

		if (fds[i].fd < 0 || !ours)
			continue;
		if (!w)
			return -ENOMEM;
		if (!ws && !(ws = calloc(n, sizeof(*ws))))
			return -ENOMEM;
		ws[i] = w;
		nours++;
	}
	if (!nours)
		return -ENOTSUP;
	k = calloc(n, sizeof(*k));
	if (!k) {
		free(ws);
		return -ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
		   (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	left = timeout_ms;
	for (;;) {
		long got = 0, r;

		/* drain first, then look: a record after the look re-arms */
		for (i = 0; i < n; i++) {
			if (ws[i] && read(ws[i]->efd, &drain, sizeof(drain)) < 0)
				(void)0; /* EAGAIN: nothing pending */
			k[i] = fds[i];
			k[i].revents = 0;
			if (ws[i] && ready(ws[i]) && (fds[i].events & (POLLIN | POLLRDNORM)))
				got++;
		}
		for (i = 0; i < n; i++)
			if (ws[i]) {
				k[i].fd = got ? -1 : ws[i]->efd;
				k[i].events = POLLIN;
			}
		r = syscall(SYS_poll, k, n, got ? 0 : (int)left);
		if (r < 0) {
			ret = -errno;
			break;
		}
		got = 0;
		for (i = 0; i < n; i++) {
			fds[i].revents = ws[i] ? 0 : k[i].revents;
			if (ws[i] && ready(ws[i]))
				fds[i].revents = (short)(fds[i].events & (POLLIN | POLLRDNORM));
			got += fds[i].revents != 0;
		}
		left = left_ms(timeout_ms, deadline);
		if (got || !left) {
			ret = got;
			break;
		}
	}
	free(k);
	free(ws);
	return ret;
}
