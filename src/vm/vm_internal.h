/* SPDX-License-Identifier: MIT */
/*
 * vm_internal.h - what crosses files inside the VM stage (vm, jit, verifier).
 *
 * Invariants every engine may rely on once bpfx_prog_load succeeded:
 *   - every instruction passed isa_check_insn; lddw pairs are complete;
 *   - every branch target and local-call target is an instruction start
 *     inside the same subprogram (never the second half of an lddw);
 *   - every subprogram ends with exit or an unconditional jump, so control
 *     never falls off its end;
 *   - every `call imm` names a helper registered in the VM at load time;
 *   - the call graph has no recursion and no chain deeper than
 *     BPFX_MAX_FRAMES frames;
 *   - r10 is never written; no register number exceeds 10.
 * Memory safety of loads/stores is NOT established here: that is the
 * verifier's job (or the checked engine's, which traps at run time).
 */
#ifndef BPFX_VM_INTERNAL_H
#define BPFX_VM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bpfx/vm.h"

struct vm_helper {
	bpfx_helper_fn fn;
	char *name; /* owned copy */
};

struct bpfx_vm {
	struct vm_helper *helpers; /* indexed by id, nhelpers entries */
	uint32_t nhelpers;
	/* Flat table of function pointers for callx/JIT, same indexing; NULL
	 * where no helper is registered. */
	bpfx_helper_fn *helper_fns;
	int64_t unwind_helper; /* -1 when none */
	int64_t cpu_helper;    /* -1 when none; see vm_set_cpu_helper */
	uint64_t novec_helpers[4]; /* ids < 256 that touch no vector reg */
	bool jitted;	       /* a program was compiled: unwind id frozen */
};

/* Native entry produced by the JIT: same contract as the interpreter. */
typedef uint64_t (*vm_jit_fn)(void *ctx, uint64_t len);

struct bpfx_prog {
	struct bpfx_vm *vm;
	struct bpfx_insn *insns;
	uint32_t len;
	struct vm_callback *callbacks; /* one per BPF_PSEUDO_FUNC lddw */
	uint32_t ncallbacks;
	/* Start index of each subprogram, ascending; subprog_start[0] == 0. */
	uint32_t *subprog_start;
	uint32_t nsubprogs;

	/* JIT output (read-only + executable once published). */
	void *jit_mem;
	size_t jit_mem_size; /* mapping size */
	size_t jit_size;     /* code bytes */
	vm_jit_fn jit_entry;
};

/* Checked engine: a region of memory valid besides the input and the stack
 * (set per thread by tests and fuzzers, e.g. map values a fake helper hands
 * out; see vm_run_set_regions). */
struct vm_region {
	uint64_t addr;
	uint64_t len;
};

/*
 * Per-run state shared with helpers that need the running program (tail
 * calls, bpf_loop, callx errors from JIT code). One per thread.
 */
struct vm_run_state {
	const struct bpfx_prog *prog;
	int err; /* first run-time error (-errno), 0 if none */
	uint64_t budget; /* checked engine: taken jumps allowed, 0 = no limit */
	/* attach context, set by the hook that runs the program */
	uint64_t func_ip;     /* bpf_get_func_ip */
	uint64_t cookie;      /* bpf_get_attach_cookie */
	uint32_t override;    /* bpf_override_return was called */
	uint64_t override_rc; /* ... with this value */
	uint32_t tail_calls;  /* tail calls taken in this run */
	uint8_t in_checked;   /* a checked run is on: callbacks stay checked */
	void *checked_ctx;
	uint64_t checked_len;
	/* checked engine: extra valid regions (vm_run_set_regions) */
	const struct vm_region *regions;
	uint32_t nregions;
};
/* initial-exec: a hook's path reads it on every hit, and the agent may be
 * dlopen'ed (it is small enough for glibc's static TLS surplus) */
extern __thread struct vm_run_state vm_run __attribute__((tls_model("initial-exec")));
/* what the thread's last failed run hit, in words (cold) */
extern __thread char vm_fault_msg[192];

/* A caller-owned text buffer for one rejection line. */
struct vm_log_buf {
	char *buf;
	size_t size;
};

/*
 * Tail calls (helper 12, bpf_tail_call). The interpreter performs them
 * itself: it asks vm_tail_target for the program in slot @index of the
 * prog array @map (the resolver, set by whoever owns prog arrays, turns
 * that into this process's loaded program), counting calls per run against
 * the kernel's limit of 33. The JIT refuses programs that tail call (they
 * run on the interpreter).
 */
#define VM_HELPER_TAIL_CALL 12
#define VM_MAX_TAIL_CALLS 33
typedef const struct bpfx_prog *(*vm_tail_resolver_fn)(uint64_t map,
							uint64_t index);
void vm_set_tail_resolver(vm_tail_resolver_fn fn);
const struct bpfx_prog *vm_tail_target(uint64_t map, uint64_t index);
/* Start a top-level run on this thread: resets per-run state. */
static inline void vm_run_begin(const struct bpfx_prog *prog)
{
	vm_run.prog = prog;
	vm_run.tail_calls = 0;
}

/*
 * Callbacks (bpf_loop, bpf_for_each_map_elem): an lddw of a subprogram
 * (BPF_PSEUDO_FUNC) becomes, at load, the address of one of these; helpers
 * call it with vm_callback_call, which runs the subprogram on the
 * interpreter (from JIT'd programs too) with r1..r5 set and returns r0.
 */
struct vm_callback {
	const struct bpfx_prog *prog;
	uint32_t pc;
};
uint64_t vm_callback_call(uint64_t cb, uint64_t r1, uint64_t r2, uint64_t r3,
			  uint64_t r4, uint64_t r5);

/* Helper @id (< 256) touches no vector register (HELPER_F_NOVEC). */
int vm_set_helper_vector_free(struct bpfx_vm *vm, uint32_t id);
/* True when @prog is JIT-compiled and calls no kfunc, no callx and only
 * vector-free helpers: a hook running it may skip saving vector
 * registers (the JIT emits none; inlined lookups and atomics included). */
bool vm_prog_vector_free(const struct bpfx_prog *prog);
/* True when @prog is JIT-compiled and calls nothing but the CPU helper:
 * it needs no run state (vm_run) set around it. */
bool vm_prog_helper_free(const struct bpfx_prog *prog);

/*
 * Helper @id answers the calling thread's CPU as the rseq area's cpu_id
 * (bpf_get_smp_processor_id). The JIT then reads cpu_id inline (a call
 * only while the thread's rseq is unregistered) and every engine keeps
 * r1-r5 across calls to it (the interpreter's calls never change them):
 * load-time rewrites (emu/inline.c) keep a value in r1 across it.
 */
int vm_set_cpu_helper(struct bpfx_vm *vm, uint32_t id);

/* Index of the subprogram containing instruction @pc. */
uint32_t vm_subprog_of(const struct bpfx_prog *prog, uint32_t pc);

/* Interpreter entry points (interp.c). Return 0 or -errno. */
int vm_interp_run(const struct bpfx_prog *prog, void *ctx, uint64_t len,
		  uint64_t *ret);
int vm_interp_run_switch(const struct bpfx_prog *prog, void *ctx,
			 uint64_t len, uint64_t *ret);
int vm_interp_run_checked(const struct bpfx_prog *prog, void *ctx,
			  uint64_t len, uint64_t *ret);

/*
 * JIT backend (src/jit/<arch>/). jit_compile fills prog->jit_* with W^X
 * code or returns -errno (-EINVAL: cannot compile, with a log line through
 * vm_log). jit_free releases it; both accept a prog without JIT code.
 */
int jit_compile(struct bpfx_prog *prog);
void jit_free(struct bpfx_prog *prog);

/*
 * Fault-tolerant reads (nofault.c): a bad source address returns -EFAULT
 * instead of crashing. Call vm_nofault_init() once before first use (it
 * installs a chained SIGSEGV/SIGBUS handler).
 *   vm_nofault_copy: 0 or -EFAULT
 *   vm_nofault_strncpy: bytes copied including NUL (n if truncated, with
 *   dst[n-1] = 0), or -EFAULT; n > 0
 */
void vm_nofault_init(void);
long vm_nofault_copy(void *dst, const void *src, size_t n);
long vm_nofault_strncpy(void *dst, const void *src, size_t n);
/* For bpfx's own helper threads: block the host's asynchronous signals,
 * leave synchronous and real-time ones deliverable. */
void vm_thread_block_signals(void);
struct sigaction;
int vm_nofault_sigaction(int sig, const struct sigaction *act,
			 struct sigaction *old);

/* Checked engine only: the calling thread's runs also accept accesses
 * inside these @n regions (the array must outlive the runs; NULL, 0
 * clears). The unchecked engines ignore it. */
void vm_run_set_regions(const struct vm_region *r, uint32_t n);

/* Library messages (print callback); never stdout. */
__attribute__((format(printf, 2, 3))) void vm_log(enum bpfx_print_level level,
						  const char *fmt, ...);

#endif /* BPFX_VM_INTERNAL_H */
