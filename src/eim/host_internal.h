/* SPDX-License-Identifier: MIT */
/* host_internal.h - what crosses files of the host API (host.c, route.c,
 * hostfn.c). See host.c for the design note. */
#ifndef BPFX_EIM_HOST_INTERNAL_H
#define BPFX_EIM_HOST_INTERNAL_H

#include <stdint.h>

#include "bpfx/vm.h"
#include "eim/eim_internal.h"

/* route.c: libbpf's bpf(2) to the emulation (GOT of libbpf.so). */
int host_route_libbpf(void);

/* hostfn.c: the process-wide table of host functions. Each is called
 * through a thunk that widens its return value to the declared type,
 * checks the return constraints against the actual arguments, reports a
 * violation and clamps the value into the declared range. */
#define HOSTFN_MAX 64
/* The thunk of function @f (a copy of it is kept), slot made on first
 * use; @fn may be NULL (not bound yet: calls return 0 and are reported). */
int hostfn_slot(const struct eim_func *f, void *fn, bpfx_helper_fn *thunk);
uint64_t hostfn_violations(void);

#endif
