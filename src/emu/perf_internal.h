/* SPDX-License-Identifier: MIT */
/*
 * perf_internal.h - the emulated perf events, shared by perf.c (the event
 * table, uprobe/tracepoint probes and their links), perf_sw.c (software
 * events: BPF_OUTPUT perf buffers and cpu-clock timers), mmap.c (mmap,
 * epoll and poll of them) and shim.c (the interposers).
 *
 * Every emulated event is a memfd handed back as the event fd; the table is
 * keyed by that memfd's inode, so dup'ed fds resolve and a closed-then-
 * reused number never does. Entries are never freed (threads may still
 * look at them): a released one is marked dead and skipped.
 */
#ifndef BPFX_EMU_PERF_INTERNAL_H
#define BPFX_EMU_PERF_INTERNAL_H

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "emu/emu.h"

enum perf_ev_type {
	PERF_EV_PROBE = 1,  /* uprobe / uretprobe / syscall tracepoint */
	PERF_EV_OUTPUT = 2, /* PERF_COUNT_SW_BPF_OUTPUT: a perf ring */
	PERF_EV_TIMER = 3,  /* cpu-clock / task-clock sampling: a timer */
};

struct perf_timer;

struct perf_ev {
	dev_t dev;
	ino_t ino;	     /* of the memfd */
	enum perf_ev_type type;
	bool dead;	     /* its last fd was closed */
	bool enabled;
	int cpu;
	/* PERF_EV_PROBE */
	uint32_t kind;	     /* LINK_UPROBE / LINK_URETPROBE / LINK_TRACEPOINT */
	int32_t pid;	     /* -1 every process */
	uint64_t offset, ref_ctr_off;
	struct stat bin;     /* the binary */
	char path[1024];
	uint32_t link_id;    /* set once a program is attached through it */
	bool link_by_ioctl;  /* SET_BPF: the event fd carries the link */
	/* PERF_EV_OUTPUT */
	uint32_t ring_id;    /* 0 until mmap (or a map update) makes the ring */
	uint32_t ring_pages; /* data pages */
	/* PERF_EV_TIMER */
	uint64_t period_ns;
	struct perf_timer *timer;
	struct perf_ev *next;
};

/* perf.c */
struct perf_ev *perf_ev_of_fd(int fd);
/* A memfd for @ev, which joins the table. Returns the fd or -errno. */
int perf_ev_add(struct perf_ev *ev, unsigned long flags);
/* Is any fd of this process still open on (@dev, @ino)? */
bool perf_inode_open(dev_t dev, ino_t ino);
/* After close(2) of an fd of @ev: release it if that was its last fd
 * (detach a SET_BPF link, stop a timer). */
void perf_ev_closed(struct perf_ev *ev);
/* Attach in-process the uprobe links that name this process (bpftrace's
 * BEGIN/END are uprobes on the tool itself): set by the shim. */
void perf_set_self_attach(bool on);
/* Re-sync this process's own probes after a link went away. */
void perf_self_resync(void);

/* perf_sw.c */
/* perf_event_open of a software event: -ENOTSUP when it is the kernel's. */
long perf_sw_open(const struct perf_event_attr *attr, int pid, int cpu,
		  unsigned long flags);
long perf_sw_set_bpf(struct perf_ev *ev, struct emu_prog *prog);
void perf_sw_enable(struct perf_ev *ev, bool on);
void perf_sw_release(struct perf_ev *ev);
/* The ring of an output event, made now (@pages data pages, 0 = default)
 * unless it exists. Returns 0 and *@id, or -errno (-EINVAL: it exists with
 * another size). */
int perf_sw_ring(struct perf_ev *ev, uint32_t pages, uint32_t *id);
void *perf_sw_mmap(struct perf_ev *ev, void *addr, size_t len, int prot,
		   int flags, off_t off);

/* The ring id to store for perf event fd @fd in a PERF_EVENT_ARRAY (its
 * value on the syscall side, see emu/cmd_map.c). -EBADF: not a perf event;
 * -EOPNOTSUPP: a kind of event bpfx cannot store (logged). */
int emu_perf_fd_ring(int fd, uint32_t *id);

/* mmap.c: poll(2) over fds some of which are ring buffers or perf buffers
 * of ours; -ENOTSUP when none is (the caller asks the kernel). */
long emu_poll(void *fds, unsigned long nfds, int timeout_ms);

#endif
