/* SPDX-License-Identifier: MIT */
/*
 * helpers.h - helper functions callable from eBPF programs: their ids and
 * names (the kernel's, from linux/bpf.h), implementations, and prototypes
 * the verifier checks calls against.
 *
 * Each area file (maps.c, time.c, probe.c, output.c, ...) defines one
 * table of struct helper_def; helpers.c joins them. A helper follows the
 * eBPF calling convention (r1..r5 in, r0 out), which is the SysV one, so
 * JIT code calls it directly. Helpers that need the running program or its
 * context read the thread's vm_run (vm/vm_internal.h).
 *
 * Prototypes mirror the kernel's struct bpf_func_proto: the verifier
 * proves every argument matches before the program may run, so helpers do
 * not re-check what the prototype promises (a map pointer is a map, a
 * (ptr, size) pair is readable/writable for size bytes). probe_read* are the
 * exception by design: they accept any address and return -EFAULT.
 */
#ifndef BPFX_HELPERS_H
#define BPFX_HELPERS_H

#include <stdint.h>

#include "bpfx/vm.h"

/* Argument kinds, as the kernel's enum bpf_arg_type. */
enum helper_arg {
	ARG_NONE = 0,		 /* unused argument */
	ARG_ANYTHING,		 /* any initialized value */
	ARG_CONST_MAP_PTR,	 /* a map (lddw of a map) */
	ARG_PTR_TO_MAP_KEY,	 /* key_size readable bytes (stack or map value) */
	ARG_PTR_TO_MAP_VALUE,	 /* value_size readable bytes */
	ARG_PTR_TO_UNINIT_MAP_VALUE, /* value_size writable bytes (pop/peek) */
	ARG_PTR_TO_MEM,		 /* readable memory, size in the next arg */
	ARG_PTR_TO_MEM_OR_NULL,	 /* same, or NULL with size 0 */
	ARG_PTR_TO_UNINIT_MEM,	 /* writable memory, size in the next arg */
	ARG_CONST_SIZE,		 /* known-bounded size > 0 of the previous arg */
	ARG_CONST_SIZE_OR_ZERO,	 /* same, may be 0 */
	ARG_PTR_TO_CTX,		 /* the program's context (r1 at entry) */
	ARG_PTR_TO_CONST_STR,	 /* NUL-terminated string in read-only map data */
	ARG_PTR_TO_RINGBUF_MEM,	 /* a record from ringbuf_reserve (released) */
	ARG_CONST_ALLOC_SIZE_OR_ZERO, /* constant size for ringbuf_reserve */
	ARG_PTR_TO_FUNC,	 /* callback: lddw of a subprogram (pseudo func) */
	ARG_PTR_TO_STACK_OR_NULL, /* callback context: stack pointer or NULL */
	ARG_PTR_TO_SPIN_LOCK,	 /* struct bpf_spin_lock inside a map value */
	ARG_PTR_TO_LONG,	 /* 8 writable bytes (strtol results) */
};

/* Return kinds, as the kernel's enum bpf_return_type. */
enum helper_ret {
	RET_INTEGER = 0,
	RET_VOID,
	RET_PTR_TO_MAP_VALUE_OR_NULL,
	RET_PTR_TO_RINGBUF_MEM_OR_NULL, /* size = the constant arg 2; acquires */
};

/* Helper groups (EIM grants them by name). */
enum helper_group {
	HG_MAPS = 1u << 0,
	HG_TIME = 1u << 1,
	HG_PROBE_READ = 1u << 2,
	HG_PROBE_WRITE = 1u << 3,
	HG_OUTPUT = 1u << 4,	 /* trace_printk, perf/ringbuf output */
	HG_PROCESS = 1u << 5,	 /* pid/uid/comm, send_signal */
	HG_MISC = 1u << 6,	 /* prandom, cpu id, loop, strncmp, ... */
	HG_TAIL_CALL = 1u << 7,
	HG_OVERRIDE = 1u << 8,	 /* override_return */
};

struct helper_def {
	uint32_t id;		/* BPF_FUNC_* */
	const char *name;	/* kernel name without "bpf_" */
	bpfx_helper_fn fn;
	uint8_t ret;		/* enum helper_ret */
	uint8_t args[5];	/* enum helper_arg */
	uint32_t group;		/* enum helper_group */
	uint32_t flags;		/* HELPER_F_* */
};

#define HELPER_F_RELEASES_RINGBUF 0x1 /* submit/discard: arg 1 released */
#define HELPER_F_ACQUIRES_LOCK 0x2    /* spin_lock */
#define HELPER_F_RELEASES_LOCK 0x4    /* spin_unlock */
#define HELPER_F_CALLBACK 0x8	      /* calls back into the program */
#define HELPER_F_NOVEC 0x10	      /* touches no vector register: its file
				       * is built -mgeneral-regs-only and the
				       * libc it calls is syscall wrappers and
				       * the vDSO (vm_prog_vector_free) */

/* Area tables, each ending with an entry whose name is NULL. */
extern const struct helper_def helpers_maps_table[];
extern const struct helper_def helpers_core_table[];
/* core.c: process-wide set-up its helpers rely on (once; thread-safe) */
void helpers_core_init(void);

/* The helper with @id, or NULL. */
const struct helper_def *helper_find(uint32_t id);
/* Name of helper @id as the kernel spells it ("map_lookup_elem"), or NULL
 * for an id bpfx does not implement; also knows names it lacks. */
const char *helper_name(uint32_t id);
/* Register every implemented helper in @vm. */
int helpers_register_all(struct bpfx_vm *vm);

#endif /* BPFX_HELPERS_H */
