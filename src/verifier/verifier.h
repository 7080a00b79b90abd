/* SPDX-License-Identifier: MIT */
/*
 * verifier.h - the load-time verifier: path-sensitive abstract
 * interpretation of an eBPF program in the spirit of the kernel's
 * (see verifier.c for the design note).
 *
 * Usage:
 *
 *	struct verifier_opts o = { .sz = sizeof(o), .prog_type = ...,
 *				   .insns = insns, .insn_cnt = n, ... };
 *	struct verifier_stats st = { .sz = sizeof(st) };
 *	err = verifier_check(&o, &st);
 *
 * Returns 0 (accepted), -EACCES (rejected: unsafe program), -EINVAL
 * (rejected: malformed program or options), -E2BIG (complexity limit:
 * 1M processed instructions, or too many states), -ENOSPC (the verdict
 * was reached but the log did not fit: the log holds what fitted,
 * NUL-terminated, and st->log_true_size / o->log_true_size the bytes
 * needed including the NUL, as the kernel's log_true_size), -ENOMEM.
 * A rejection leaves its reason in the log at log_level >= 1; -ENOSPC is
 * returned only when the program was accepted or rejected and the log was
 * too small (the kernel's rule), so callers treat it as "grow the buffer".
 *
 * Log (log_level bit 0 = 1): on rejection, one block:
 *	insn 7: r0 = *(u32 *)(r1 + 0)
 *	  ; source line (file.c:12)             -- only with BTF line_info
 *	R1 invalid mem access 'map_value_or_null': check the pointer ...
 *	path: 3 taken, 5 not taken
 * log_level bit 1 (2): every processed instruction with its register
 * state, as the kernel's level 2. log_level bit 2 (4): statistics line.
 */
#ifndef BPFX_VERIFIER_H
#define BPFX_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfx/vm.h"
#include "helpers/helpers.h"

/* bpfx's own program type for raw conformance-style programs: r1 points
 * at ctx_size bytes of read/write memory, r2 holds ctx_size. Outside the
 * kernel's enum bpf_prog_type range. */
#define BPFX_PROG_TYPE_RAW 0x10000u

/* Kernel limits the verifier applies. */
#define VERIFIER_MAX_PROCESSED 1000000u
#define VERIFIER_MAX_STATES_PER_INSN 512u /* the kernel has no fixed cap */
#define VERIFIER_PERF_MAX_TRACE_SIZE 2048u

/* Access rights of a context range / memory region. */
#define VERIFIER_ACC_READ 0x1u
#define VERIFIER_ACC_WRITE 0x2u

/*
 * One range of the context: bytes [off, off + size) may be accessed with
 * @access rights. Accesses must fall inside one range. @align: 0 = every
 * access naturally aligned (offset a multiple of its size, the kernel's
 * rule for pt_regs and tracepoint records), 1 = any, n = a multiple of n.
 */
struct verifier_ctx_range {
	uint32_t off;
	uint32_t size;
	uint32_t access; /* VERIFIER_ACC_* */
	uint32_t align;
};

/* What the verifier needs to know of each map of the program's table. */
struct verifier_map {
	uint32_t type; /* enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	/* offset of a struct bpf_spin_lock inside the value, -1 = none */
	int32_t spin_lock_off;
	/* array/hash of maps: 1 + the index (in this same table) of the
	 * inner map template, whose pointer a lookup returns; 0 = none */
	uint32_t inner;
};

/* Helper prototype lookup: the definition of helper @id or NULL when the
 * helper does not exist (or the program may not call it). */
typedef const struct helper_def *(*verifier_helper_lookup_fn)(uint32_t id,
							       void *arg);

/* opts->flags */
#define VERIFIER_F_CTX_RDONLY 0x1u    /* the context is read-only */
#define VERIFIER_F_STRICT_IMM 0x2u  /* refuse division by an immediate 0 and
				       * out-of-range immediate shifts also for
				       * BPFX_PROG_TYPE_RAW (other types always
				       * refuse them, as the kernel) */

struct verifier_call_check;

struct verifier_opts {
	size_t sz; /* sizeof(struct verifier_opts) */
	uint32_t prog_type; /* BPF_PROG_TYPE_* or BPFX_PROG_TYPE_RAW */
	uint32_t flags;	    /* VERIFIER_F_* */
	const struct bpfx_insn *insns;
	uint32_t insn_cnt;

	/*
	 * Context. ctx_size 0 = the program type's default (pt_regs for
	 * KPROBE, 2048 aligned read-only bytes for TRACEPOINT, u64 args
	 * for RAW_TRACEPOINT (ctx_size / 8 of them, default 12), the
	 * socket-filter __sk_buff subset for SOCKET_FILTER).
	 * ctx_ranges (optional) replace the default per-field rights: the
	 * EIM layer fills them from an extension class.
	 */
	uint32_t ctx_size;
	const struct verifier_ctx_range *ctx_ranges;
	uint32_t ctx_nranges;

	/* The program's map table: lddw src 5/6 (and 1/2: same, imm = index)
	 * name an entry by index. */
	const struct verifier_map *maps;
	uint32_t nmaps;

	/* Helper prototypes; NULL = helper_find() from helpers.h. */
	verifier_helper_lookup_fn helper_lookup;
	void *helper_arg;

	/* Source lines: a raw BTF blob (header, types, strings) and
	 * struct bpf_line_info records of line_info_rec_size bytes each. */
	const void *btf;
	uint32_t btf_size;
	const void *line_info;
	uint32_t line_info_cnt;
	uint32_t line_info_rec_size; /* 0 = sizeof(struct bpf_line_info) */

	/* Log, as the kernel's: caller-owned buffer, always NUL-terminated
	 * when log_size > 0. log_true_size is written (bytes needed incl.
	 * the NUL) whenever log_level > 0. */
	uint32_t log_level;
	char *log_buf;
	uint32_t log_size;
	uint32_t log_true_size; /* out */

	/* Processed-instruction limit; 0 = VERIFIER_MAX_PROCESSED (1M).
	 * Lower values suit fuzzing; higher ones are capped at 1M. */
	uint32_t max_processed;

	/* Extra checks at each helper call (the EIM layer: constraints on
	 * host-function arguments and return values); NULL = none. */
	int (*call_hook)(struct verifier_call_check *c, void *arg);
	void *call_hook_arg;

	/* Checkpoints kept per instruction; 0 = VERIFIER_MAX_STATES_PER_INSN.
	 * Lower values bound the cost of pruning (fuzzing); loops whose
	 * iterations branch need about one per iteration. */
	uint32_t max_states_per_insn;
};

/*
 * A register as the verifier knows it at a helper call (call_hook).
 * kind: VERIFIER_VIEW_*; bounds are meaningful for scalars.
 */
#define VERIFIER_VIEW_UNINIT 0
#define VERIFIER_VIEW_SCALAR 1
#define VERIFIER_VIEW_PTR 2	    /* a pointer known non-NULL */
#define VERIFIER_VIEW_PTR_OR_NULL 3 /* a pointer not yet checked for NULL */
struct verifier_reg_view {
	uint32_t kind;
	int64_t smin, smax;
	uint64_t umin, umax;
};

/*
 * What call_hook sees and answers at a call of helper @helper_id, after the
 * prototype's own checks passed. Return 0 to accept (with the outputs
 * below applied), or -EACCES with @why set: the call is rejected with it.
 */
struct verifier_call_check {
	uint32_t helper_id;
	uint32_t pc;
	struct verifier_reg_view args[5];	/* r1..r5 */
	/* out: argument k must point to mem_size[k] accessible bytes
	 * (writable if mem_write[k]); 0 = no such demand */
	uint32_t mem_size[5];
	uint8_t mem_write[5];
	/* out: r0 after the call lies in these bounds (prefilled with an
	 * unknown scalar; narrowing only) */
	struct verifier_reg_view ret;
	char why[256];
};

/*
 * A policy applied to every verifier_check on the calling thread: it may
 * edit a copy of the options (context ranges, helper lookup, call hook)
 * and may refuse the program before any instruction is checked (return
 * -EACCES with the reason in @why). The EIM layer sets one while a host
 * loads an extension through libbpf and the emulation. NULL clears it.
 */
typedef int (*verifier_policy_fn)(struct verifier_opts *o, void *arg,
				  char *why, size_t why_size);
void verifier_set_thread_policy(verifier_policy_fn fn, void *arg);

struct verifier_stats {
	size_t sz; /* sizeof(struct verifier_stats) */
	uint64_t insns_processed;  /* the kernel's "processed N insns" */
	uint32_t total_states;	   /* checkpoints created */
	uint32_t peak_states;	   /* checkpoints alive at once (max) */
	uint32_t max_states_per_insn;
	uint32_t stack_depth;	   /* main frame's deepest stack use (bytes) */
	uint64_t time_ns;	   /* wall time of verifier_check */
	uint32_t log_true_size;	   /* bytes the log needed incl. the NUL */
	uint32_t nsubprogs;
};

/* Verify. @st may be NULL. See the top of this file for the results. */
int verifier_check(struct verifier_opts *o, struct verifier_stats *st);

/* Default prototype lookup (helper_find). */
const struct helper_def *verifier_default_helper_lookup(uint32_t id,
							void *arg);

#endif /* BPFX_VERIFIER_H */
