/* SPDX-License-Identifier: MIT */
/*
 * agent.c - libbpfx-agent.so, the data plane inside a target process.
 *
 * Loaded at start (LD_PRELOAD, by `bpfx start` / `bpfx run -- CMD`) or into
 * a running process (`bpfx attach PID`: a ptrace'd thread calls dlopen).
 * Its constructor attaches every link of the session ($BPFX_SESSION, else
 * "default") that applies here before main() runs, then a watcher thread
 * follows the session directory (inotify) and re-syncs on every change;
 * once a second it also drops references of dead processes, so links of a
 * loader that was killed go away. dlopen() is wrapped so probes on a
 * library loaded later attach as soon as it is mapped. After fork the
 * child restarts its watcher; hooks are inherited with the memory.
 *
 * The agent never exits or prints to stdout; problems go to stderr through
 * the library's print callback, and the host keeps running.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "attach/attach.h"
#include "emu/emu.h"
#include "vm/vm_internal.h"

static struct shm_session *session;
static volatile int stop_watch;
static pthread_t watcher;
static bool watching;
static int wake_fd = -1; /* eventfd: agent_stop wakes the watcher's poll */

/* Does this batch of inotify events concern links? Our own activity
 * (holds we take, files we map) must not wake us, or we would loop. */
static bool relevant(const char *buf, ssize_t len)
{
	const struct inotify_event *ev;
	char mine[24];
	size_t ml;
	ssize_t off;

	ml = (size_t)snprintf(mine, sizeof(mine), ".%d", (int)getpid());
	for (off = 0; off < len; off += (ssize_t)sizeof(*ev) + ev->len) {
		ev = (const struct inotify_event *)(buf + off);
		if (!ev->len || (ev->mask & IN_Q_OVERFLOW))
			return true;
		/* a link published or removed; "ctl" written by a loader after
		 * it publishes or detaches links (emu_notify_agents) */
		if (!strcmp(ev->name, "ctl") && (ev->mask & IN_CLOSE_WRITE))
			return true;
		if (!strncmp(ev->name, "link.", 5) && !(ev->mask & IN_CLOSE_WRITE))
			return true;
		/* a loader letting go of a link: its hold file disappears */
		if ((ev->mask & IN_DELETE) && !strncmp(ev->name, "hold.", 5)) {
			size_t nl = strlen(ev->name);

			if (nl < ml || strcmp(ev->name + nl - ml, mine))
				return true;
		}
	}
	return false;
}

static void *watch(void *arg)
{
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char buf[4096] __attribute__((aligned(8)));
	int ticks = 0;

	vm_thread_block_signals();
	attach_thread_quiet(); /* bpfx's thread: its syscalls are not traced */
	if (fd >= 0 && inotify_add_watch(fd, shm_session_dir(session),
					 IN_CREATE | IN_DELETE | IN_MOVED_TO |
						 IN_CLOSE_WRITE | IN_Q_OVERFLOW) < 0) {
		close(fd);
		fd = -1;
	}
	while (!stop_watch) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = wake_fd, .events = POLLIN } };
		int n = poll(p, 2, 200);

		if (stop_watch)
			break;
		if (n > 0 && (p[0].revents & POLLIN)) {
			bool sync = false;
			ssize_t len;

			while ((len = read(fd, buf, sizeof(buf))) > 0)
				sync |= relevant(buf, len);
			if (sync)
				attach_sync(session);
		}
		if (++ticks >= 5 || (n == 0 && fd < 0)) { /* ~1 s */
			ticks = 0;
			if (shm_gc(session) > 0 || fd < 0)
				attach_sync(session);
		}
	}
	if (fd >= 0)
		close(fd);
	return arg;
}

static void start_watcher(void)
{
	stop_watch = 0;
	if (wake_fd >= 0) /* after fork: the parent's counter */
		close(wake_fd);
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	watching = pthread_create(&watcher, NULL, watch, NULL) == 0;
	if (watching)
		pthread_setname_np(watcher, "bpfx-agent");
}

static void after_fork_child(void)
{
	/* the watcher thread did not survive fork; our hooks did */
	watching = false;
	start_watcher();
}

/* Probes on libraries loaded later: sync after each dlopen. */
void *dlopen(const char *file, int mode);
__attribute__((visibility("default"))) void *dlopen(const char *file, int mode)
{
	static void *(*real)(const char *, int);
	void *h;

	if (!real)
		real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	if (!real)
		return NULL;
	h = real(file, mode);
	if (h && session)
		attach_sync(session);
	return h;
}

/* Injected by `bpfx attach`: the injector left the session name in
 * /dev/shm/bpfx-<uid>-inject-<pid>. */
static const char *injected_session(char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/bpfx-%u-inject-%d", (unsigned)getuid(),
		 (int)getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, size - 1);
	close(fd);
	unlink(path);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

__attribute__((constructor)) static void agent_start(void)
{
	struct attach_stats st;
	char note[64];
	const char *name = injected_session(note, sizeof(note));

	if (!name)
		name = getenv("BPFX_SESSION");
	if (session)
		return;
	if (emu_set_session(name) && !emu_session())
		return;
	session = emu_session();
	if (!session) {
		vm_log(BPFX_WARN, "bpfx agent: no session: %s\n", strerror(errno));
		return;
	}
	attach_sync(session);
	attach_get_stats(&st);
	if (getenv("BPFX_AGENT_VERBOSE"))
		vm_log(BPFX_WARN, "bpfx agent: pid %d: %u probes attached, %u pending\n",
		       getpid(), st.attached, st.pending);
	pthread_atfork(NULL, NULL, after_fork_child);
	start_watcher();
}

__attribute__((destructor)) static void agent_stop(void)
{
	if (watching) {
		uint64_t one = 1;

		/* woken at once: a process's exit used to wait out the poll
		 * (100 ms on average, a shell script's many processes add up) */
		stop_watch = 1;
		if (wake_fd >= 0 && write(wake_fd, &one, sizeof(one)) != sizeof(one))
			vm_log(BPFX_WARN, "bpfx agent: wake: %s\n", strerror(errno));
		pthread_join(watcher, NULL);
		watching = false;
	}
}
