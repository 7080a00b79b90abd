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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu/emu_internal.h"
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

/* ---- epoll ---- */

struct waker {
	struct bpfx_map *map;
	int efd;
	struct waker *next;
};

static pthread_mutex_t wakers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct waker *wakers;

static void *watch(void *arg)
{
	struct waker *w = arg;
	struct ringbuf_view v;
	uint64_t last, one = 1;

	vm_thread_block_signals();
	if (ringbuf_view(w->map, &v))
		return NULL;
	last = *v.consumer_pos;
	for (;;) {
		uint64_t prod = __atomic_load_n(v.producer_pos, __ATOMIC_ACQUIRE);

		if (prod != last) {
			last = prod;
			if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
				return NULL;
			continue;
		}
		ringbuf_wait_pos(w->map, last, -1);
	}
	return NULL;
}

/* The fd to hand epoll for @fd: an eventfd that fires when ring buffer
 * @fd gets records; @fd itself when it is no ring buffer of ours. */
int emu_epoll_fd(int fd)
{
	struct bpfx_map *m = emu_fd_map(fd);
	struct waker *w;
	pthread_t t;
	pthread_attr_t attr;

	if (!m || m->type != BPF_MAP_TYPE_RINGBUF)
		return fd;
	pthread_mutex_lock(&wakers_lock);
	for (w = wakers; w; w = w->next)
		if (w->map == m)
			goto out;
	w = calloc(1, sizeof(*w));
	if (!w)
		goto out;
	w->map = m;
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->efd < 0) {
		free(w);
		w = NULL;
		goto out;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, watch, w)) {
		close(w->efd);
		free(w);
		w = NULL;
	} else {
		w->next = wakers;
		wakers = w;
	}
	pthread_attr_destroy(&attr);
out:
	pthread_mutex_unlock(&wakers_lock);
	return w ? w->efd : -1;
}
