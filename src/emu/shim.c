/* SPDX-License-Identifier: MIT */
/*
 * shim.c - route bpf(2) to the emulation by interposing libc's syscall().
 *
 * Stock libbpf issues every bpf(2) call as syscall(__NR_bpf, cmd, attr,
 * size). A definition of syscall() in the executable (the bpfx CLI links
 * this file and exports the symbol) or in a preloaded library
 * (libbpfx-shim.so) wins over libc's for every library in the process, so
 * libbpf reaches emu_bpf() unchanged. Every other syscall number goes
 * straight to the kernel, with libc's errno convention.
 *
 * Not part of libbpfx itself: an application embedding bpfx keeps its own
 * syscall().
 *
 * mmap(), epoll_ctl() and poll() are interposed the same way for map fds
 * and emulated perf event fds (see emu/mmap.c, emu/perf_sw.c), ioctl() for
 * PERF_EVENT_IOC_* on emulated events, close() for object lifetime; any
 * other fd goes to the kernel untouched.
 *
 * In a routed tool, uprobe links that name the tool's own pid are attached
 * in-process as soon as they are made (bpftrace's BEGIN/END probes): the
 * constructor turns that on (emu/perf.c).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "emu/emu.h"
#include "emu/perf_internal.h"

long syscall(long nr, ...);

__attribute__((constructor)) static void shim_start(void)
{
	perf_set_self_attach(true);
}

static long raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5,
			 long a6)
{
	long ret;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Like libc's, reads six arguments whatever the caller passed (the unused
 * ones are whatever lies in the registers and on the stack). */
__attribute__((visibility("default"), no_sanitize("address"))) long
syscall(long nr, ...)
{
	long a[6], ret;
	va_list ap;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	ret = -ENOTSUP;
	if (nr == __NR_bpf)
		ret = emu_bpf((int)a[0], (union bpf_attr *)a[1], (unsigned)a[2]);
	else if (nr == __NR_perf_event_open)
		ret = emu_perf_event_open((const void *)a[0], (int)a[1], (int)a[2],
					  (int)a[3], (unsigned long)a[4]);
	if (ret == -ENOTSUP && nr != __NR_bpf)
		ret = raw_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* ---- ioctl, mmap and epoll of our fds ---- */

int ioctl(int fd, unsigned long req, ...);

/* PERF_EVENT_IOC_* on an emulated perf event fd; others to the kernel */
__attribute__((visibility("default"))) int ioctl(int fd, unsigned long req, ...)
{
	unsigned long arg;
	va_list ap;
	long ret;

	va_start(ap, req);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	ret = emu_perf_ioctl(fd, req, arg);
	if (ret == -ENOTTY)
		ret = raw_syscall6(SYS_ioctl, fd, (long)req, (long)arg, 0, 0, 0);
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);

__attribute__((visibility("default"))) void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct bpfx_map *m;
	struct perf_ev *ev;
	long ret;

	if (fd >= 0 && !(flags & MAP_ANONYMOUS) && emu_fd_is_handed_out(fd) &&
	    (m = emu_fd_map(fd)))
		return emu_map_mmap(m, fd, addr, len, prot, flags, off);
	if (fd >= 0 && !(flags & MAP_ANONYMOUS) && (ev = perf_ev_of_fd(fd)))
		return perf_sw_mmap(ev, addr, len, prot, flags, off);
	ret = raw_syscall6(SYS_mmap, (long)addr, (long)len, prot, flags, fd, off);
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return MAP_FAILED;
	}
	return (void *)ret;
}

__attribute__((visibility("default"))) void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

int close(int fd);

/* Closing the last fd of an object lets the object go, as in the kernel
 * (libbpf's feature probes, bpf_link__destroy rely on it). */
__attribute__((visibility("default"))) int close(int fd)
{
	struct stat st;
	bool ours = emu_fd_is_handed_out(fd) && emu_fd_object(fd, NULL, NULL) &&
		    !fstat(fd, &st);
	struct perf_ev *ev = ours ? NULL : perf_ev_of_fd(fd);
	long ret = raw_syscall6(SYS_close, fd, 0, 0, 0, 0, 0);

	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	if (ours) {
		emu_fd_closed(st.st_dev, st.st_ino);
		perf_self_resync(); /* a link of our own may have gone */
	}
	if (ev)
		perf_ev_closed(ev);
	return 0;
}

/* A ring buffer fd registers as its eventfd (edge-triggered). */
__attribute__((visibility("default"))) int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct epoll_event e;
	int efd = emu_epoll_fd(fd);
	long ret;

	if (efd < 0) {
		errno = ENOMEM;
		return -1;
	}
	if (efd != fd && ev) {
		e = *ev;
		e.events |= EPOLLET;
		ev = &e;
	}
	ret = raw_syscall6(SYS_epoll_ctl, epfd, op, efd, (long)ev, 0, 0);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return 0;
}

int poll(struct pollfd *fds, nfds_t n, int timeout);

/* Ring buffer and perf buffer fds: readable when records wait (mmap.c). */
__attribute__((visibility("default"))) int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	long ret = emu_poll(fds, n, timeout);

	if (ret == -ENOTSUP)
		ret = raw_syscall6(SYS_poll, (long)fds, (long)n, timeout, 0, 0, 0);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (int)ret;
}
