/* SPDX-License-Identifier: MIT */
/*
 * isolate.c - pkeys: allocation, tagging, and PKRU switches around runs.
 * See isolate.h. The PKRU register holds two bits per key (access-disable,
 * write-disable); rdpkru/wrpkru are unprivileged and cost tens of cycles,
 * so switching around every extension run is cheap where the CPU has them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "isolate/isolate.h"

static long sys_pkey_alloc(void)
{
#ifdef SYS_pkey_alloc
	return syscall(SYS_pkey_alloc, 0, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static void sys_pkey_free(int key)
{
#ifdef SYS_pkey_free
	syscall(SYS_pkey_free, key);
#else
	(void)key;
#endif
}

bool isolate_available(const char **why)
{
	static int state; /* 0 unknown, 1 yes, 2 no */
	static char reason[128];
	long k;

	if (!state) {
		k = sys_pkey_alloc();
		if (k < 0) {
			snprintf(reason, sizeof(reason),
				 "memory protection keys unavailable: pkey_alloc: %s",
				 strerror(errno));
			state = 2;
		} else {
			sys_pkey_free((int)k);
			state = 1;
		}
	}
	if (why)
		*why = state == 1 ? "" : reason;
	return state == 1;
}

int isolate_init(struct isolate_domain *d)
{
	const char *why;
	long k;

	d->pkey = -1;
	if (!isolate_available(&why)) {
		snprintf(d->why, sizeof(d->why), "%s", why);
		return -EOPNOTSUPP;
	}
	k = sys_pkey_alloc();
	if (k < 0) {
		snprintf(d->why, sizeof(d->why), "pkey_alloc: %s", strerror(errno));
		return -EOPNOTSUPP;
	}
	d->pkey = (int)k;
	d->why[0] = '\0';
	return 0;
}

void isolate_fini(struct isolate_domain *d)
{
	if (d && d->pkey >= 0)
		sys_pkey_free(d->pkey);
	if (d)
		d->pkey = -1;
}

int isolate_protect(struct isolate_domain *d, void *addr, size_t len, int prot)
{
#ifdef SYS_pkey_mprotect
	if (d->pkey < 0)
		return -EOPNOTSUPP;
	if (syscall(SYS_pkey_mprotect, addr, len, prot, d->pkey))
		return -errno;
	return 0;
#else
	(void)addr; (void)len; (void)prot;
	return -EOPNOTSUPP;
#endif
}

#if defined(__x86_64__)
static unsigned rdpkru(void)
{
	unsigned eax, edx, ecx = 0;

	__asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(ecx));
	return eax;
}

static void wrpkru(unsigned v)
{
	__asm__ volatile(".byte 0x0f,0x01,0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}
#endif

void isolate_enter(const struct isolate_domain *d)
{
#if defined(__x86_64__)
	if (d->pkey >= 0)
		wrpkru(rdpkru() & ~(3u << (2 * d->pkey)));
#else
	(void)d;
#endif
}

void isolate_leave(const struct isolate_domain *d)
{
#if defined(__x86_64__)
	if (d->pkey >= 0)
		wrpkru((rdpkru() & ~(3u << (2 * d->pkey))) | (2u << (2 * d->pkey)));
#else
	(void)d;
#endif
}
