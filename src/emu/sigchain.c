/* SPDX-License-Identifier: MIT */
/*
 * sigchain.c - keep bpfx's fault-recovery handler first in line.
 *
 * probe_read and the bpf(2) emulation recover from bad pointers through a
 * SIGSEGV/SIGBUS handler (vm/nofault.c). A host process that installs its
 * own handler later would replace it; these interposers (linked into the
 * agent, the shim and the CLI) make such a handler the one bpfx chains
 * to instead, as libjsig does for the JVM. Every other signal, and every
 * call before bpfx installed its handler, goes to libc unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>

#include "vm/vm_internal.h"

int sigaction(int sig, const struct sigaction *act, struct sigaction *old);
sighandler_t signal(int sig, sighandler_t handler);

__attribute__((visibility("default"))) int
sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	static int (*real)(int, const struct sigaction *, struct sigaction *);

	if (!vm_nofault_sigaction(sig, act, old))
		return 0;
	if (!real)
		real = (int (*)(int, const struct sigaction *, struct sigaction *))
			dlsym(RTLD_NEXT, "sigaction");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(sig, act, old);
}

__attribute__((visibility("default"))) sighandler_t
signal(int sig, sighandler_t handler)
{
	struct sigaction sa = { 0 }, old;

	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, &old))
		return SIG_ERR;
	return old.sa_handler;
}
