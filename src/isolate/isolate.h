/* SPDX-License-Identifier: MIT */
/*
 * isolate.h - memory protection keys (Intel MPK / pkeys) for extension
 * isolation: extension memory and runtime state tagged with one key, which
 * the thread's PKRU makes writable only while an extension runs.
 *
 * Where the CPU or kernel has no pkeys (pkey_alloc fails), every function
 * says so plainly (-EOPNOTSUPP, with the reason in words) and the runtime
 * goes on without hardware isolation; nothing pretends otherwise.
 */
#ifndef BPFX_ISOLATE_H
#define BPFX_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>

struct isolate_domain {
	int pkey;	  /* -1: isolation unavailable */
	char why[128];	  /* why it is unavailable */
};

/* Allocate a key. 0, or -EOPNOTSUPP with d->why set (d->pkey = -1). */
int isolate_init(struct isolate_domain *d);
void isolate_fini(struct isolate_domain *d);
/* Tag [addr, addr + len) (page-aligned) with the domain's key. */
int isolate_protect(struct isolate_domain *d, void *addr, size_t len,
		    int prot);
/* Make the domain's memory writable (enter) / read-only (leave) for the
 * calling thread. No-ops when unavailable. */
void isolate_enter(const struct isolate_domain *d);
void isolate_leave(const struct isolate_domain *d);
/* Does this machine have pkeys at all? (cached probe) */
bool isolate_available(const char **why);

#endif
