/* SPDX-License-Identifier: MIT */
/*
 * perf_sw.c - software perf events in userspace: BPF_OUTPUT perf buffers
 * and the cpu-clock timers of bpftrace's interval/profile probes.
 *
 * PERF_COUNT_SW_BPF_OUTPUT (perf buffers of libbpf, bcc, bpftrace): the
 * event fd is backed by a perf ring object of the session (maps/
 * perf_event.c, "perf.<id>"), made when the tool mmaps the fd, with the
 * size it maps (1 + 2^n pages, as the kernel), or, if the fd is stored in a
 * PERF_EVENT_ARRAY before any mmap, with a default size. An mmap maps the
 * ring's struct perf_event_mmap_page and data pages as the kernel lays
 * them out; storing the fd in a perf event array stores the ring's id, so
 * bpf_perf_event_output in any target writes where the tool reads. epoll
 * and poll wake on data (mmap.c), never by a fixed sleep.
 *
 * PERF_COUNT_SW_CPU_CLOCK / TASK_CLOCK in sampling mode (sample_period in
 * ns, or sample_freq with attr.freq): PERF_EVENT_IOC_SET_BPF with a
 * BPF_PROG_TYPE_PERF_EVENT program starts a timer thread in the tool
 * process that runs the program once per period while the event is
 * enabled, with a struct bpf_perf_event_data context (zeroed registers,
 * sample_period set). Missed periods are skipped, not bunched. Close of the
 * event's last fd stops the thread before close returns. Counting-mode
 * clocks and every other software event stay the kernel's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf_perf_event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "emu/emu_internal.h"
#include "emu/perf_internal.h"
#include "vm/vm_internal.h"

#define PAGE 4096u
#define DEFAULT_RING_PAGES 8u
#define MIN_PERIOD_NS 10000ull /* 100 kHz: beyond it the thread just spins */

struct perf_timer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	bool stop, enabled, started;
	uint64_t period_ns;
	struct emu_prog *prog;
};

long perf_sw_open(const struct perf_event_attr *attr, int pid, int cpu,
		  unsigned long flags)
{
	struct perf_ev *ev;
	uint64_t period = 0;
	int fd;

	if (attr->config == PERF_COUNT_SW_CPU_CLOCK ||
	    attr->config == PERF_COUNT_SW_TASK_CLOCK) {
		if (attr->freq)
			period = attr->sample_freq ? 1000000000ull / attr->sample_freq : 0;
		else
			period = attr->sample_period;
		if (!period)
			return -ENOTSUP; /* counting mode: the kernel's */
		if (period < MIN_PERIOD_NS)
			period = MIN_PERIOD_NS;
	} else if (attr->config != PERF_COUNT_SW_BPF_OUTPUT) {
		return -ENOTSUP;
	}
	if (pid == -1 && cpu == -1)
		return -EINVAL; /* as the kernel */
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->type = period ? PERF_EV_TIMER : PERF_EV_OUTPUT;
	ev->cpu = cpu;
	ev->pid = pid;
	ev->enabled = !attr->disabled;
	ev->period_ns = period;
	fd = perf_ev_add(ev, flags);
	if (fd < 0)
		free(ev);
	return fd;
}

/* ---- BPF_OUTPUT: perf rings ---- */

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;

int perf_sw_ring(struct perf_ev *ev, uint32_t pages, uint32_t *id)
{
	int err = 0;

	if (ev->type != PERF_EV_OUTPUT)
		return -EINVAL;
	pthread_mutex_lock(&ring_lock);
	if (!ev->ring_id) {
		uint32_t rid;

		err = perf_ring_create(emu_session(), pages ? pages : DEFAULT_RING_PAGES,
				       &rid);
		if (!err) {
			ev->ring_pages = pages ? pages : DEFAULT_RING_PAGES;
			__atomic_store_n(&ev->ring_id, rid, __ATOMIC_RELEASE);
		}
	} else if (pages && pages != ev->ring_pages) {
		err = -EINVAL; /* the kernel's -EINVAL for a second size too */
	}
	if (!err)
		*id = ev->ring_id;
	pthread_mutex_unlock(&ring_lock);
	return err;
}

void *perf_sw_mmap(struct perf_ev *ev, void *addr, size_t len, int prot,
		   int flags, off_t off)
{
	uint32_t id;
	size_t pages = len / PAGE;
	void *p;
	int fd, err;

	if (ev->type != PERF_EV_OUTPUT) {
		vm_log(BPFX_WARN, "bpfx: mmap of a perf event other than BPF_OUTPUT "
		       "is not emulated\n");
		errno = EOPNOTSUPP;
		return MAP_FAILED;
	}
	/* as perf_mmap: MAP_SHARED, offset 0, 1 + 2^n pages */
	if (off || !(flags & MAP_SHARED) || len % PAGE || pages < 2 ||
	    ((pages - 1) & (pages - 2))) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	err = perf_sw_ring(ev, (uint32_t)(pages - 1), &id);
	if (!err) {
		fd = shm_obj_open_fd(emu_session(), SHM_PERF, id, O_RDWR | O_CLOEXEC);
		err = fd < 0 ? fd : 0;
	}
	if (err) {
		errno = -err;
		return MAP_FAILED;
	}
	p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd,
			    (off_t)PERF_RING_MMAP_OFF);
	err = errno;
	close(fd);
	errno = err;
	return p;
}

int emu_perf_fd_ring(int fd, uint32_t *id)
{
	struct perf_ev *ev = perf_ev_of_fd(fd);

	if (!ev) {
		if (fcntl(fd, F_GETFD) < 0)
			return -EBADF;
		vm_log(BPFX_WARN, "bpfx: BPF_MAP_UPDATE_ELEM: fd %d in a perf event "
		       "array is not a BPF_OUTPUT event of bpfx (kernel perf events "
		       "cannot take bpfx samples)\n", fd);
		return -EOPNOTSUPP;
	}
	if (ev->type != PERF_EV_OUTPUT) {
		vm_log(BPFX_WARN, "bpfx: BPF_MAP_UPDATE_ELEM: only BPF_OUTPUT events "
		       "go in a perf event array under bpfx\n");
		return -EOPNOTSUPP;
	}
	return perf_sw_ring(ev, 0, id);
}

/* ---- cpu-clock timers ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void run_prog(struct perf_timer *t)
{
	struct bpf_perf_event_data ctx;
	const struct bpfx_prog *vp = t->prog->vm_prog;
	uint64_t r0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.sample_period = t->period_ns;
	vm_run_begin(vp);
	vm_run.cookie = 0;
	vm_run.func_ip = 0;
	if (t->prog->engine == BPFX_ENGINE_JIT && vp->jit_entry)
		vp->jit_entry(&ctx, sizeof(ctx));
	else
		bpfx_prog_run(vp, BPFX_ENGINE_INTERP, &ctx, sizeof(ctx), &r0);
	vm_run.prog = NULL;
}

static void *timer_main(void *arg)
{
	struct perf_timer *t = arg;
	uint64_t next = mono_ns() + t->period_ns;

	vm_thread_block_signals();
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct timespec ts;
		uint64_t now;

		if (!t->enabled) {
			pthread_cond_wait(&t->cond, &t->lock);
			next = mono_ns() + t->period_ns;
			continue;
		}
		ts.tv_sec = (time_t)(next / 1000000000ull);
		ts.tv_nsec = (long)(next % 1000000000ull);
		pthread_cond_timedwait(&t->cond, &t->lock, &ts);
		now = mono_ns();
		if (t->stop || !t->enabled || now < next)
			continue;
		pthread_mutex_unlock(&t->lock);
		run_prog(t);
		pthread_mutex_lock(&t->lock);
		next += t->period_ns;
		if (next <= now) /* fell behind: skip, as a lost sample */
			next = now + t->period_ns;
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

long perf_sw_set_bpf(struct perf_ev *ev, struct emu_prog *prog)
{
	struct perf_timer *t;
	pthread_condattr_t ca;
	int err;

	if (ev->timer)
		return -EEXIST;
	if (prog->hdr->prog_type != BPF_PROG_TYPE_PERF_EVENT) {
		vm_log(BPFX_WARN, "bpfx: program %u of type %u cannot attach to a "
		       "cpu-clock event (BPF_PROG_TYPE_PERF_EVENT needed)\n",
		       prog->id, prog->hdr->prog_type);
		return -EINVAL;
	}
	err = emu_prog_instantiate(prog, emu_vm(), true);
	if (err) {
		vm_log(BPFX_WARN, "bpfx: cpu-clock event: program %u: %s\n", prog->id,
		       strerror(-err));
		return err;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	t->period_ns = ev->period_ns;
	t->prog = prog;
	t->enabled = ev->enabled;
	err = pthread_create(&t->thread, NULL, timer_main, t);
	if (err) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return -err;
	}
	pthread_setname_np(t->thread, "bpfx-timer");
	t->started = true;
	__atomic_store_n(&ev->timer, t, __ATOMIC_RELEASE);
	return 0;
}

void perf_sw_enable(struct perf_ev *ev, bool on)
{
	struct perf_timer *t = __atomic_load_n(&ev->timer, __ATOMIC_ACQUIRE);

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->enabled = on;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

void perf_sw_release(struct perf_ev *ev)
{
	struct perf_timer *t = __atomic_exchange_n(&ev->timer, NULL, __ATOMIC_ACQ_REL);

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (pthread_equal(t->thread, pthread_self())) {
		pthread_detach(t->thread); /* its own program closed it: it ends */
		return;			   /* by itself; t stays allocated */
	}
	pthread_join(t->thread, NULL);
	/* the program stays instantiated: it is the fd table's handle */
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
