/* SPDX-License-Identifier: MIT */
/*
 * inject.c - load the agent into a running process with ptrace.
 *
 * 1. PTRACE_SEIZE the target's main thread and interrupt it, preferring a
 *    moment when it sits in a system call (a thread stopped in user code
 *    may hold the malloc or loader lock that dlopen needs; a thread in
 *    epoll_wait or nanosleep holds none): if it is in user code, let it
 *    run a little and interrupt again, a bounded number of times.
 * 2. Save its general and FPU/SSE registers.
 * 3. Write the agent's path below its stack pointer (past the red zone),
 *    and make it call dlopen(path, RTLD_NOW) with a return address of 0:
 *    the return faults (SIGSEGV at ip 0), which we catch. orig_rax = -1 so
 *    the kernel does not try to restart an interrupted system call meanwhile.
 *    dlopen's address is ours shifted by the difference of the two libc
 *    load addresses, after checking it is the same libc file.
 * 4. Restore every register (the interrupted system call restarts as the
 *    kernel would have done), detach.
 * Signals that arrive during the call are passed on to the target.
 *
 * The agent learns its session from a one-line file the injector leaves
 * in /dev/shm (bpfx-<uid>-inject-<pid>), since the target's environment
 * cannot be changed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject.h"

#define TRIES_FOR_SYSCALL 20

/* Load address and identity of the libc mapped in @pid. */
static int find_libc(pid_t pid, uint64_t *base, dev_t *dev, ino_t *ino,
		     char *path, size_t plen)
{
	char file[64], line[4096];
	FILE *f;
	int err = -ENOENT;

	snprintf(file, sizeof(file), "/proc/%d/maps", (int)pid);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off;
		char *p = strchr(line, '/'), perms[8];
		struct stat st;

		if (!p || sscanf(line, "%llx-%llx %7s %llx", &start, &end, perms,
				 &off) != 4)
			continue;
		p[strcspn(p, "\n")] = '\0';
		if (!strstr(p, "/libc.so.6") && !strstr(p, "/libc-2."))
			continue;
		if (off != 0)
			continue;
		*base = start;
		snprintf(path, plen, "%s", p);
		if (stat(p, &st) == 0) {
			*dev = st.st_dev;
			*ino = st.st_ino;
			err = 0;
		}
		break;
	}
	fclose(f);
	return err;
}

static int wait_stop(pid_t pid, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, __WALL);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int poke(pid_t pid, uint64_t addr, void *data, size_t len)
{
	struct iovec local = { data, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };

	if (process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	/* fall back to word pokes (process_vm_writev needs writable pages) */
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = 0;
		size_t n = len - i < 8 ? len - i : 8;

		if (n < 8) {
			errno = 0;
			w = (uint64_t)ptrace(PTRACE_PEEKDATA, pid, addr + i, NULL);
			if (errno)
				return -errno;
		}
		memcpy(&w, (const char *)data + i, n);
		if (ptrace(PTRACE_POKEDATA, pid, addr + i, (void *)w))
			return -errno;
	}
	return 0;
}

static int write_session_note(pid_t pid, const char *session)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/bpfx-%u-inject-%d", (unsigned)getuid(),
		 (int)pid);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, session, strlen(session)) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

int inject_agent(pid_t pid, const char *agent, const char *session, char *why,
		 size_t whylen)
{
	struct user_regs_struct saved, regs;
	struct user_fpregs_struct fpsaved;
	uint64_t their_libc, our_libc, their_dlopen, sp, path_addr, zero = 0;
	dev_t tdev, odev;
	ino_t tino, oino;
	char tpath[4096], opath[4096];
	void *dlopen_sym;
	int status, err, tries;
	size_t plen = strlen(agent) + 1;

	if (why && whylen)
		why[0] = '\0';
#define WHY(...) do { if (why) snprintf(why, whylen, __VA_ARGS__); } while (0)
	if (find_libc(pid, &their_libc, &tdev, &tino, tpath, sizeof(tpath))) {
		WHY("process %d has no glibc mapped (or does not exist)", (int)pid);
		return kill(pid, 0) && errno == ESRCH ? -ESRCH : -ENOENT;
	}
	if (find_libc(getpid(), &our_libc, &odev, &oino, opath, sizeof(opath))) {
		WHY("cannot find our own libc");
		return -ENOENT;
	}
	if (tdev != odev || tino != oino) {
		WHY("process %d uses another libc (%s) than bpfx (%s)", (int)pid,
		    tpath, opath);
		return -ENOTSUP;
	}
	dlopen_sym = dlsym(RTLD_DEFAULT, "dlopen");
	if (!dlopen_sym) {
		WHY("dlopen not found");
		return -ENOENT;
	}
	their_dlopen = (uint64_t)(uintptr_t)dlopen_sym - our_libc + their_libc;
	err = write_session_note(pid, session);
	if (err) {
		WHY("cannot write the session note: %s", strerror(-err));
		return err;
	}
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL)) {
		err = -errno;
		WHY("ptrace(SEIZE, %d): %s", (int)pid, strerror(errno));
		return err;
	}
	/* stop it, preferably inside a system call */
	for (tries = 0;; tries++) {
		if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) ||
		    (err = wait_stop(pid, &status))) {
			err = err ? err : -errno;
			WHY("cannot stop process %d: %s", (int)pid, strerror(-err));
			goto detach;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			WHY("process %d exited", (int)pid);
			return -ESRCH;
		}
		if (ptrace(PTRACE_GETREGS, pid, NULL, &saved)) {
			err = -errno;
			goto detach;
		}
		if ((long long)saved.orig_rax >= 0 || tries >= TRIES_FOR_SYSCALL)
			break;
		ptrace(PTRACE_CONT, pid, NULL, NULL);
		usleep(500);
	}
	if (ptrace(PTRACE_GETFPREGS, pid, NULL, &fpsaved)) {
		err = -errno;
		goto detach;
	}
	regs = saved;
	sp = (saved.rsp - 256 - plen) & ~15ull;	/* past the red zone */
	path_addr = sp;
	sp -= 8;				/* return address slot: 0 */
	err = poke(pid, path_addr, (char *)(uintptr_t)agent, plen);
	if (!err)
		err = poke(pid, sp, &zero, sizeof(zero));
	if (err) {
		WHY("cannot write into process %d: %s", (int)pid, strerror(-err));
		goto detach;
	}
	regs.rip = their_dlopen;
	regs.rdi = path_addr;
	regs.rsi = RTLD_NOW;
	regs.rsp = sp;
	regs.rax = 0;
	regs.orig_rax = (unsigned long long)-1;
	if (ptrace(PTRACE_SETREGS, pid, NULL, &regs)) {
		err = -errno;
		goto detach;
	}
	for (;;) {
		if (ptrace(PTRACE_CONT, pid, NULL, NULL) || (err = wait_stop(pid, &status))) {
			err = err ? err : -errno;
			goto restore;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			WHY("process %d died during injection", (int)pid);
			return -ESRCH;
		}
		if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGSEGV) {
			if (ptrace(PTRACE_GETREGS, pid, NULL, &regs)) {
				err = -errno;
				goto restore;
			}
			if (regs.rip == 0)
				break; /* dlopen returned to our 0 */
			WHY("process %d faulted inside dlopen at 0x%llx", (int)pid,
			    (unsigned long long)regs.rip);
			err = -EFAULT;
			goto restore;
		}
		/* another signal: hand it to the target after we are done
		 * (group-stops and our own interrupts just continue) */
		if (WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP &&
		    WSTOPSIG(status) != SIGSTOP)
			kill(pid, WSTOPSIG(status));
	}
	if (!regs.rax) {
		WHY("dlopen(%s) failed in process %d (see its stderr)", agent, (int)pid);
		err = -ENOEXEC;
	}
restore:
	if (ptrace(PTRACE_SETREGS, pid, NULL, &saved) ||
	    ptrace(PTRACE_SETFPREGS, pid, NULL, &fpsaved)) {
		if (!err)
			err = -errno;
	}
detach:
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return err;
#undef WHY
}

bool inject_has_agent(pid_t pid)
{
	char file[64], line[4096];
	bool found = false;
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%d/maps", (int)pid);
	f = fopen(file, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "/libbpfx-agent.so") != NULL;
	fclose(f);
	return found;
}
