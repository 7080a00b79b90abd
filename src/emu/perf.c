/* SPDX-License-Identifier: MIT */
/*
 * perf.c - the uprobe side of perf_event_open(2), and links.
 *
 * libbpf attaches a uprobe in two steps: perf_event_open() with the uprobe
 * PMU (type from /sys/bus/event_source/devices/uprobe/type, config1 = the
 * binary's path, config2 = the file offset, config bit 0 = return probe,
 * config bits 32-63 = the USDT semaphore offset), then BPF_LINK_CREATE
 * (BPF_PERF_EVENT) or ioctl(PERF_EVENT_IOC_SET_BPF) with the program.
 *
 * Here the first step records the probe in a process-local table keyed by
 * the inode of a memfd we hand back as the event fd (so dup and close
 * behave); nothing touches the kernel's uprobes. The second step writes a
 * link object into the session; agents in target processes see it and
 * patch the function. A link lives while its creator holds it: LINK_DETACH,
 * the creator's exit, or its death (pid liveness) ends it, and agents
 * unpatch.
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
#include <unistd.h>

#include "emu/emu_internal.h"
#include "vm/vm_internal.h"

struct perf_probe {
	dev_t dev;
	ino_t ino;	   /* of the memfd */
	uint32_t kind;	   /* LINK_UPROBE / LINK_URETPROBE */
	int32_t pid;
	uint64_t offset, ref_ctr_off;
	struct stat bin;   /* the binary */
	char path[1024];
	uint32_t link_id;  /* set once a program is attached through it */
	struct perf_probe *next;
};

static pthread_mutex_t probes_lock = PTHREAD_MUTEX_INITIALIZER;
static struct perf_probe *probes;
static int uprobe_type = -2; /* -2 unknown, -1 none */

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

static struct perf_probe *probe_of_fd(int fd)
{
	struct perf_probe *p;
	struct stat st;

	if (fd < 0 || !__atomic_load_n(&probes, __ATOMIC_ACQUIRE) || fstat(fd, &st))
		return NULL;
	pthread_mutex_lock(&probes_lock);
	for (p = probes; p; p = p->next)
		if (p->dev == st.st_dev && p->ino == st.st_ino)
			break;
	pthread_mutex_unlock(&probes_lock);
	return p;
}

long emu_perf_event_open(const struct perf_event_attr *attr, int pid, int cpu,
			 int group_fd, unsigned long flags)
{
	struct perf_probe *p;
	struct stat st;
	long n;
	int fd;

	char tp[256];

	if (!attr)
		return -EFAULT;
	if (attr->type == PERF_TYPE_TRACEPOINT) {
		if (!syscall_tp_name(attr->config, tp, sizeof(tp)))
			return -ENOTSUP; /* a kernel tracepoint: the kernel's */
	} else if ((int)attr->type != read_uprobe_type() || uprobe_type < 0) {
		return -ENOTSUP;
	}
	if (group_fd != -1)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
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
	p->pid = pid;
	fd = memfd_create("bpfx-uprobe", (flags & PERF_FLAG_FD_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0 || fstat(fd, &st)) {
		n = -errno;
		if (fd >= 0)
			close(fd);
		free(p);
		return n;
	}
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	pthread_mutex_lock(&probes_lock);
	p->next = probes;
	probes = p;
	pthread_mutex_unlock(&probes_lock);
	(void)cpu;
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

/* A link object in the session for @prog through @p; returns its fd. */
static long make_link(struct perf_probe *p, uint32_t prog_id, uint64_t cookie)
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
	return fd;
}

long emu_link_create(union bpf_attr *a)
{
	struct emu_prog *prog = emu_fd_prog((int)a->link_create.prog_fd);
	struct perf_probe *p;

	if (!prog)
		return -EBADF;
	if (a->link_create.attach_type != BPF_PERF_EVENT) {
		vm_log(BPFX_WARN, "bpfx: BPF_LINK_CREATE attach type %u is not emulated\n",
		       a->link_create.attach_type);
		return -EINVAL;
	}
	p = probe_of_fd((int)a->link_create.target_fd);
	if (!p)
		return -EBADF;
	if (p->link_id)
		return -EEXIST;
	if (prog->hdr->prog_type != (p->kind == LINK_TRACEPOINT ? BPF_PROG_TYPE_TRACEPOINT
								 : BPF_PROG_TYPE_KPROBE))
		return -EINVAL;
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
	return err;
}

long emu_perf_ioctl(int fd, unsigned long req, unsigned long arg)
{
	struct perf_probe *p = probe_of_fd(fd);
	struct emu_prog *prog;
	long lfd;

	if (!p)
		return -ENOTTY;
	switch (req) {
	case PERF_EVENT_IOC_SET_BPF:
		prog = emu_fd_prog((int)arg);
		if (!prog)
			return -EBADF;
		if (p->link_id)
			return -EEXIST;
		if (prog->hdr->prog_type != (p->kind == LINK_TRACEPOINT
						     ? BPF_PROG_TYPE_TRACEPOINT
						     : BPF_PROG_TYPE_KPROBE))
			return -EINVAL;
		lfd = make_link(p, prog->id, 0);
		if (lfd < 0)
			return lfd;
		/* the perf fd carries the attachment; our hold keeps the link */
		close((int)lfd);
		return 0;
	case PERF_EVENT_IOC_ENABLE:
	case PERF_EVENT_IOC_DISABLE:
		return 0;
	default:
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
