/* SPDX-License-Identifier: MIT */
/*
 * perf.c - perf_event_open(2) for what runs in userspace, and links.
 *
 * libbpf (and bcc, under bpftrace) attach a uprobe in two steps:
 * perf_event_open() with the uprobe PMU (type from
 * /sys/bus/event_source/devices/uprobe/type, config1 = the binary's path,
 * config2 = the file offset, config bit 0 = return probe, config bits
 * 32-63 = the USDT semaphore offset), then BPF_LINK_CREATE (BPF_PERF_EVENT)
 * or ioctl(PERF_EVENT_IOC_SET_BPF) with the program. Syscall tracepoints
 * (PERF_TYPE_TRACEPOINT, config = a syscalls/ or raw_syscalls/ event id)
 * go the same way. Software events (BPF_OUTPUT perf buffers, cpu-clock
 * timers of interval/profile probes) are perf_sw.c's.
 *
 * Here the first step records the event in a process-local table keyed by
 * the inode of a memfd we hand back as the event fd (so dup and close
 * behave); nothing touches the kernel's uprobes. The second step writes a
 * link object into the session; agents in target processes see it and
 * patch the function. A link lives while its creator holds it: LINK_DETACH,
 * close of the event fd that SET_BPF attached through, the creator's exit,
 * or its death (pid liveness) ends it, and agents unpatch.
 *
 * A link that names the tool's own pid (bpftrace's BEGIN/END probes are
 * uprobes on its own BEGIN_trigger/END_trigger, which it then calls) is
 * attached in-process right away when the shim asked for it, before the
 * ioctl returns, so the tool's next call already runs the program.
 *
 * Everything else is the kernel's: other event types pass through (the
 * caller gets -ENOTSUP from here), but a bpfx program handed to a kernel
 * event (SET_BPF, LINK_CREATE) is refused with -EOPNOTSUPP and a log line,
 * since the kernel could never run it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach/attach.h"
#include "emu/emu_internal.h"
#include "emu/perf_internal.h"
#include "vm/vm_internal.h"

static pthread_mutex_t evs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct perf_ev *evs;
static int uprobe_type = -2; /* -2 unknown, -1 none */
static bool self_attach;
static int self_links; /* links naming this process (self_attach) */

/*
 * Syscall tracepoints: PERF_TYPE_TRACEPOINT with config = the event id
 * from tracefs. Ids of events under syscalls/ and raw_syscalls/ are ours
 * (the agent intercepts the target's syscalls); any other tracepoint is
 * the kernel's. Writes "syscalls/sys_enter_openat" into @name.
 */
static bool syscall_tp_name(uint64_t id, char *name, size_t size)
{
	static const char *const roots[] = { "/sys/kernel/tracing/events",
					     "/sys/kernel/debug/tracing/events" };
	static const char *const cats[] = { "syscalls", "raw_syscalls" };
	size_t r, c;

	for (r = 0; r < 2; r++) {
		for (c = 0; c < 2; c++) {
			char dir[256], path[1024], buf[32];
			struct dirent *de;
			DIR *d;

			snprintf(dir, sizeof(dir), "%s/%s", roots[r], cats[c]);
			d = opendir(dir);
			if (!d)
				continue;
			while ((de = readdir(d))) {
				ssize_t n;
				int fd;

				if (de->d_name[0] == '.' || strlen(de->d_name) > 200)
					continue;
				snprintf(path, sizeof(path), "%s/%s/id", dir, de->d_name);
				fd = open(path, O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					continue;
				n = read(fd, buf, sizeof(buf) - 1);
				close(fd);
				if (n <= 0)
					continue;
				buf[n] = '\0';
				if (strtoull(buf, NULL, 10) == id) {
					size_t l = strlen(cats[c]);

					if (l + 2 + strlen(de->d_name) > size)
						break;
					memcpy(name, cats[c], l);
					name[l] = '/';
					strcpy(name + l + 1, de->d_name);
					closedir(d);
					return true;
				}
			}
			closedir(d);
		}
	}
	return false;
}

static int read_uprobe_type(void)
{
	char buf[32] = "";
	int fd;

	if (uprobe_type != -2)
		return uprobe_type;
	fd = open("/sys/bus/event_source/devices/uprobe/type", O_RDONLY | O_CLOEXEC);
	uprobe_type = -1;
	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			uprobe_type = atoi(buf);
		close(fd);
	}
	return uprobe_type;
}


struct perf_ev *perf_ev_of_fd(int fd)
{
	struct perf_ev *p;
	struct stat st;

	if (fd < 0 || !__atomic_load_n(&evs, __ATOMIC_ACQUIRE) || fstat(fd, &st))
		return NULL;
	pthread_mutex_lock(&evs_lock);
	for (p = evs; p; p = p->next)
		if (!p->dead && p->dev == st.st_dev && p->ino == st.st_ino)
			break;
	pthread_mutex_unlock(&evs_lock);
	return p;
}

int perf_ev_add(struct perf_ev *ev, unsigned long flags)
{
	struct stat st;
	int fd, err;

	fd = memfd_create("bpfx-perf", (flags & PERF_FLAG_FD_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	ev->dev = st.st_dev;
	ev->ino = st.st_ino;
	pthread_mutex_lock(&evs_lock);
	ev->next = evs;
	__atomic_store_n(&evs, ev, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&evs_lock);
	return fd;
}

bool perf_inode_open(dev_t dev, ino_t ino)
{
	char path[320];
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	bool found = false;

	if (!d)
		return true; /* cannot tell: keep it */
	while (!found && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		found = !stat(path, &st) && st.st_dev == dev && st.st_ino == ino;
	}
	closedir(d);
	return found;
}

long emu_perf_event_open(const struct perf_event_attr *attr, int pid, int cpu,
			 int group_fd, unsigned long flags)
{
	struct perf_ev *p;
	char tp[256];
	long n;
	int fd;

	if (!attr)
		return -EFAULT;
	if (attr->type == PERF_TYPE_SOFTWARE) {
		if (group_fd != -1 && perf_ev_of_fd(group_fd)) {
			vm_log(BPFX_WARN, "bpfx: perf_event_open: event groups are not emulated\n");
			return -EOPNOTSUPP;
		}
		return perf_sw_open(attr, pid, cpu, flags);
	}
	if (attr->type == PERF_TYPE_TRACEPOINT) {
		if (!syscall_tp_name(attr->config, tp, sizeof(tp)))
			return -ENOTSUP; /* a kernel tracepoint: the kernel's */
	} else if ((int)attr->type != read_uprobe_type() || uprobe_type < 0) {
		return -ENOTSUP;
	}
	if (group_fd != -1) {
		vm_log(BPFX_WARN, "bpfx: perf_event_open: event groups are not emulated\n");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->type = PERF_EV_PROBE;
	p->cpu = cpu;
	p->enabled = !attr->disabled;
	if (attr->type == PERF_TYPE_TRACEPOINT) {
		p->kind = LINK_TRACEPOINT;
		snprintf(p->path, sizeof(p->path), "%s", tp);
	} else {
		n = vm_nofault_strncpy(p->path, (const void *)(uintptr_t)attr->config1,
				       sizeof(p->path));
		if (n < 0 || (size_t)n == sizeof(p->path)) {
			free(p);
			return n < 0 ? -EFAULT : -ENAMETOOLONG;
		}
		if (stat(p->path, &p->bin)) {
			n = -errno;
			free(p);
			return n;
		}
		p->kind = (attr->config & 1) ? LINK_URETPROBE : LINK_UPROBE;
		p->offset = attr->config2;
		p->ref_ctr_off = attr->config >> 32;
	}
	/* pid 0 is the caller, as in the kernel */
	p->pid = pid == 0 ? (int32_t)getpid() : pid;
	fd = perf_ev_add(p, flags);
	if (fd < 0)
		free(p);
	return fd;
}

void emu_notify_agents(struct shm_session *s)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/ctl", shm_session_dir(s));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

void perf_set_self_attach(bool on)
{
	self_attach = on;
	attach_set_own_only(on);
}

void perf_self_resync(void)
{
	struct shm_session *s = emu_session();

	if (!__atomic_load_n(&self_links, __ATOMIC_ACQUIRE) || !s)
		return;
	shm_gc(s); /* a released link goes once nothing holds it */
	attach_sync(s);
}

/* A link object in the session for @prog through @p; returns its fd. */
static long make_link(struct perf_ev *p, uint32_t prog_id, uint64_t cookie)
{
	struct link_obj *l;
	void *mem;
	size_t size = sizeof(struct shm_obj_hdr) + sizeof(*l);
	long fd;
	int id;

	id = shm_obj_create(emu_session(), SHM_LINK, size, "", &mem);
	if (id < 0)
		return id;
	l = (struct link_obj *)((char *)mem + sizeof(struct shm_obj_hdr));
	l->prog_id = prog_id;
	l->kind = p->kind;
	l->pid = p->pid;
	l->offset = p->offset;
	l->ref_ctr_off = p->ref_ctr_off;
	l->cookie = cookie;
	l->dev = p->bin.st_dev;
	l->ino = p->bin.st_ino;
	l->owner = getpid();
	memcpy(l->path, p->path, sizeof(l->path));
	shm_obj_publish(mem);
	shm_obj_unmap(mem, size);
	/* the link keeps its program alive, as the kernel's */
	shm_obj_ref(emu_session(), prog_id, (uint32_t)id);
	fd = emu_obj_fd(SHM_LINK, (uint32_t)id, NULL, true, NULL);
	if (fd < 0)
		shm_obj_release(emu_session(), SHM_LINK, (uint32_t)id);
	else
		p->link_id = (uint32_t)id;
	emu_notify_agents(emu_session());
	if (fd >= 0 && self_attach && p->pid == (int32_t)getpid()) {
		__atomic_fetch_add(&self_links, 1, __ATOMIC_RELEASE);
		attach_sync(emu_session());
	}
	return fd;
}

/* Can @prog run on event @p? */
static int check_prog_type(const struct perf_ev *p, const struct emu_prog *prog)
{
	uint32_t want = p->kind == LINK_TRACEPOINT ? BPF_PROG_TYPE_TRACEPOINT
						   : BPF_PROG_TYPE_KPROBE;

	if (prog->hdr->prog_type == want)
		return 0;
	vm_log(BPFX_WARN, "bpfx: program %u of type %u cannot attach to a %s event\n",
	       prog->id, prog->hdr->prog_type,
	       p->kind == LINK_TRACEPOINT ? "tracepoint" : "uprobe");
	return -EINVAL;
}

static void refuse_kernel_event(const char *what, int fd)
{
	vm_log(BPFX_WARN,
	       "bpfx: %s: fd %d is a kernel perf event; bpfx programs run only on "
	       "emulated events (uprobe, uretprobe, syscall tracepoints, cpu-clock "
	       "timers, BPF_OUTPUT)\n", what, fd);
}

long emu_link_create(union bpf_attr *a)
{
	struct emu_prog *prog = emu_fd_prog((int)a->link_create.prog_fd);
	int tfd = (int)a->link_create.target_fd;
	struct perf_ev *p;
	long err;

	if (!prog)
		return -EBADF;
	if (a->link_create.attach_type != BPF_PERF_EVENT) {
		vm_log(BPFX_WARN, "bpfx: BPF_LINK_CREATE: attach type %u is not emulated\n",
		       a->link_create.attach_type);
		return -EOPNOTSUPP;
	}
	p = perf_ev_of_fd(tfd);
	if (!p) {
		/* libbpf's feature probe passes a bad fd and wants -EBADF */
		if (tfd >= 0 && fcntl(tfd, F_GETFD) >= 0) {
			refuse_kernel_event("BPF_LINK_CREATE", tfd);
			return -EOPNOTSUPP;
		}
		return -EBADF;
	}
	if (p->type != PERF_EV_PROBE) {
		vm_log(BPFX_WARN, "bpfx: BPF_LINK_CREATE on a %s event is not emulated "
		       "(use PERF_EVENT_IOC_SET_BPF)\n",
		       p->type == PERF_EV_TIMER ? "cpu-clock" : "BPF_OUTPUT");
		return -EOPNOTSUPP;
	}
	if (p->link_id)
		return -EEXIST;
	err = check_prog_type(p, prog);
	if (err)
		return err;
	return make_link(p, prog->id, a->link_create.perf_event.bpf_cookie);
}

int emu_link_detach_id(struct shm_session *s, uint32_t id)
{
	struct link_obj *l;
	void *mem;
	size_t size;
	int err;

	err = shm_obj_map(s, SHM_LINK, id, &mem, &size);
	if (err)
		return err;
	l = (struct link_obj *)((char *)mem + sizeof(struct shm_obj_hdr));
	__atomic_store_n(&l->detached, 1, __ATOMIC_RELEASE);
	shm_obj_unmap(mem, size);
	return 0;
}

long emu_link_detach(union bpf_attr *a)
{
	enum shm_kind kind;
	uint32_t id;
	int err;

	if (!emu_fd_object((int)a->link_detach.link_fd, &kind, &id) ||
	    kind != SHM_LINK)
		return -EBADF;
	err = emu_link_detach_id(emu_session(), id);
	if (!err)
		shm_obj_release(emu_session(), SHM_LINK, id);
	emu_notify_agents(emu_session());
	perf_self_resync();
	return err;
}

void perf_ev_closed(struct perf_ev *ev)
{
	if (!ev || ev->dead || perf_inode_open(ev->dev, ev->ino))
		return;
	pthread_mutex_lock(&evs_lock);
	if (ev->dead) {
		pthread_mutex_unlock(&evs_lock);
		return;
	}
	ev->dead = true;
	pthread_mutex_unlock(&evs_lock);
	if (ev->type == PERF_EV_PROBE && ev->link_id && ev->link_by_ioctl) {
		/* the event fd carried the attachment: it goes with it */
		if (!emu_link_detach_id(emu_session(), ev->link_id))
			shm_obj_release(emu_session(), SHM_LINK, ev->link_id);
		emu_notify_agents(emu_session());
		perf_self_resync();
	} else if (ev->type != PERF_EV_PROBE) {
		perf_sw_release(ev);
	}
}

static long set_bpf(struct perf_ev *p, int prog_fd)
{
	struct emu_prog *prog = emu_fd_prog(prog_fd);
	long lfd, err;

	if (!prog)
		return -EBADF;
	if (p->type == PERF_EV_TIMER)
		return perf_sw_set_bpf(p, prog);
	if (p->type == PERF_EV_OUTPUT) {
		vm_log(BPFX_WARN, "bpfx: PERF_EVENT_IOC_SET_BPF on a BPF_OUTPUT event\n");
		return -EINVAL;
	}
	if (p->link_id)
		return -EEXIST;
	err = check_prog_type(p, prog);
	if (err)
		return err;
	lfd = make_link(p, prog->id, 0);
	if (lfd < 0)
		return lfd;
	p->link_by_ioctl = true;
	/* the perf fd carries the attachment; our hold keeps the link (so
	 * not close(), which the shim turns into a release of the last fd) */
	syscall(SYS_close, (int)lfd);
	return 0;
}

long emu_perf_ioctl(int fd, unsigned long req, unsigned long arg)
{
	struct perf_ev *p = perf_ev_of_fd(fd);

	if (!p) {
		if (req == PERF_EVENT_IOC_SET_BPF && emu_fd_prog((int)arg)) {
			refuse_kernel_event("ioctl(PERF_EVENT_IOC_SET_BPF)", fd);
			return -EOPNOTSUPP;
		}
		return -ENOTTY;
	}
	switch (req) {
	case PERF_EVENT_IOC_SET_BPF:
		return set_bpf(p, (int)arg);
	case PERF_EVENT_IOC_ENABLE:
	case PERF_EVENT_IOC_DISABLE:
		p->enabled = req == PERF_EVENT_IOC_ENABLE;
		if (p->type == PERF_EV_TIMER)
			perf_sw_enable(p, p->enabled);
		return 0;
	case PERF_EVENT_IOC_RESET:
	case PERF_EVENT_IOC_REFRESH:
		return 0;
	default:
		if (_IOC_TYPE(req) == '$') {
			vm_log(BPFX_WARN, "bpfx: ioctl(0x%lx) on an emulated perf event "
			       "is not emulated\n", req);
			return -EOPNOTSUPP;
		}
		return -ENOTTY;
	}
}

int emu_link_map(struct shm_session *s, uint32_t id, const struct link_obj **out,
		 void **mem, size_t *size)
{
	int err = shm_obj_map(s, SHM_LINK, id, mem, size);

	if (err)
		return err;
	if (*size < sizeof(struct shm_obj_hdr) + sizeof(struct link_obj)) {
		shm_obj_unmap(*mem, *size);
		return -EINVAL;
	}
	*out = (const struct link_obj *)((char *)*mem + sizeof(struct shm_obj_hdr));
	return 0;
}
