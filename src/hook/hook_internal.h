/* SPDX-License-Identifier: MIT */
/*
 * hook_internal.h - what crosses files inside src/hook.
 *
 *   decode.c   Zydis glue: prologue analysis, hook_can_patch().
 *   reloc.c    relocation of displaced instructions into a trampoline.
 *   tramp.c    trampoline memory near the target (memfd, RX view + RW
 *              alias) and the entry / return stubs' machine code.
 *   patch.c    safe cross-modifying patching: int3 protocol, SIGTRAP and
 *              evacuation handlers, core serialization, page protection.
 *   hook.c     install/remove, handler dispatch, per-thread shadow stack,
 *              thread registry and quiescence.
 *   maps.c     /proc/self/maps reader.
 */
#ifndef BPFX_HOOK_INTERNAL_H
#define BPFX_HOOK_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hook/hook.h"

#define HOOK_JMP_LEN 5

/* ---- emitter with a sticky error (tramp.c, reloc.c) ---- */
struct hook_buf {
	uint8_t *p;	/* writable alias of the code */
	uint64_t base;	/* run-time (executable) address of p[0] */
	size_t len, cap;
	int err;
};

static inline void hook_emit(struct hook_buf *b, const void *src, size_t n)
{
	if (b->err)
		return;
	if (b->len + n > b->cap) {
		b->err = -ENOSPC;
		return;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static inline void hook_emit1(struct hook_buf *b, uint8_t v)
{
	hook_emit(b, &v, 1);
}

static inline void hook_emit4(struct hook_buf *b, uint32_t v)
{
	hook_emit(b, &v, 4);
}

static inline void hook_emit8(struct hook_buf *b, uint64_t v)
{
	hook_emit(b, &v, 8);
}

static inline uint64_t hook_pc(const struct hook_buf *b)
{
	return b->base + b->len;
}

static inline bool hook_rel32_ok(int64_t d)
{
	return d >= INT32_MIN && d <= INT32_MAX;
}

/* Emit a jmp to an absolute address: rel32 when it reaches, else
 * `jmp [rip+0]; .quad target` (14 bytes). */
void hook_emit_jmp(struct hook_buf *b, uint64_t target);

/* Format a refusal reason (why may be NULL); returns err. */
__attribute__((format(printf, 4, 5)))
int hook_why(char *why, size_t whylen, int err, const char *fmt, ...);

/* ---- maps.c ---- */
struct hook_vma {
	uint64_t start, end;
	int prot;	/* PROT_* */
};

int hook_vma_find(uint64_t addr, struct hook_vma *out);
/* All mappings, sorted; *out is malloc'd. */
int hook_vma_list(struct hook_vma **out, size_t *n);

/* ---- decode.c ---- */
struct hook_decoder;
/* Length of the instruction at p (reading at most max bytes), 0 on error. */
unsigned hook_insn_len(const uint8_t *p, size_t max);
/* The same, and what src/attach/sys_sites.c needs to know of it. */
struct hook_insn_flow {
	uint64_t target; /* a relative branch's or RIP-relative operand's, or 0 */
	bool ends;	 /* control never falls through (ret, jmp, ud2...) */
	bool pad;	 /* nop or int3 */
	bool pic;	 /* runs unchanged at another address: no relative
			  * operand, no branch, call, syscall or interrupt */
};
unsigned hook_insn_flow(const uint8_t *p, size_t max, uint64_t pc,
			struct hook_insn_flow *f);

/* ---- reloc.c ---- */
/* Emit the displaced instructions of plan at b, then the jmp back to
 * site + len. roff[i] receives each instruction's offset in b. */
int hook_relocate(const struct hook_plan *plan, struct hook_buf *b,
		  uint16_t roff[HOOK_MAX_INSNS], char *why, size_t whylen);

/* ---- tramp.c ---- */
struct hook_mem {
	uint64_t exec;	/* executable address */
	uint8_t *rw;	/* writable alias */
	size_t size;
};

/* Carve size bytes of trampoline memory whose every byte lies within
 * [lo, hi) (a window where rel32 reaches everything needed). */
int hook_mem_alloc(uint64_t lo, uint64_t hi, size_t size, struct hook_mem *m);

struct hook;
/* Build h's entry trampoline (entry stub + relocated prologue). */
int hook_tramp_build(struct hook *h, char *why, size_t whylen);
/* The shared return stub for hooks with or without HOOK_F_NO_VECTOR (both
 * built on first use), 0 on failure. */
uint64_t hook_ret_stub(bool novec);

/* ---- hook.c: per-thread state, read by the stubs at %fs:offset ---- */
struct hook_frame {
	uint64_t ret;	/* real return address */
	uint64_t sp;	/* where it was stored (regs->sp at entry) */
	struct hook *h;
	uint64_t gen;	/* h->gen at entry */
};

struct hook_shadow {
	uint32_t top, cap;
	struct hook_frame f[];
};

struct hook_thread {
	uint64_t seq;		/* odd while a handler runs on this thread */
	uint64_t registered;	/* nonzero once linked in the registry */
	struct hook_shadow *ss;	/* return-probe shadow stack, lazily mapped */
	struct hook_thread *next, *prev;
	int tid;
};

/* Offsets of the per-thread fields from the thread pointer (%fs:0). */
extern long hook_tls_seq_off, hook_tls_reg_off;

/* hook_dispatch_entry's verdict when it armed a return probe: the stub
 * restores the registers and calls the function (internal to src/hook). */
#define HOOK_CALL_THROUGH 2

void hook_thread_register(void);
/* Initialise the hook runtime (signal handlers, membarrier) once; 0 or
 * -errno. */
int hook_runtime_init(void);
int hook_dispatch_entry(struct hook *h, struct hook_regs *regs);
void hook_dispatch_return(struct hook_regs *regs);
int hook_noop_entry(void *ctx, struct hook_regs *regs);

/*
 * One hooked function. Never freed: it stays cached for the function (and
 * its trampoline with it), so no thread can ever run freed code.
 * The first two fields are read by the entry stub; do not move them.
 */
struct hook {
	void *fn;		/* +0: called as fn(arg, regs) by the stub */
	void *arg;		/* +8 */
	hook_entry_fn on_entry;
	hook_return_fn on_return;
	void *ctx;
	uint64_t gen;		/* bumped on remove: stale return frames */
	uint64_t nmissed;
	bool novec;		/* HOOK_F_NO_VECTOR: stubs save no xmm */
	bool installed;
	struct hook_plan plan;
	struct hook_mem mem;	/* the trampoline */
	uint64_t entry;		/* entry stub address */
	uint64_t reloc;		/* relocated prologue address */
	uint16_t roff[HOOK_MAX_INSNS]; /* relocated insn i at reloc + roff[i] */
	uint8_t jmp[HOOK_JMP_LEN];	/* the patch: jmp rel32 entry */
	struct hook *next;	/* all hooks ever built (append only) */
};

/* Head of the append-only list of hooks, read by signal handlers. */
extern struct hook *hook_all;

/* ---- patch.c ---- */
struct hook_patch {
	struct hook *h;
	const uint8_t *bytes;	/* the 5 bytes to write at h->plan.site */
	bool evacuate;		/* threads may sit inside the old bytes */
};

int hook_patch_init(void);
/* Serialize every core running a thread of this process (and this one):
 * after it, no core executes stale bytes of code written before. */
void hook_sync_core(void);
/* Another int3 patcher (src/attach's syscall sites): @fn(ucontext) is
 * asked about a SIGTRAP no hook claims; true: handled. */
void hook_set_trap_fallback(bool (*fn)(void *uc));
int hook_patch_apply(struct hook_patch *ps, int n, char *why, size_t whylen);
/* The action our SIGTRAP handler chains to (what the application set),
 * in the kernel's struct sigaction layout: src/attach keeps the
 * application's rt_sigaction(SIGTRAP) there while int3 sites of its own
 * stay in place. */
struct hook_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};
void hook_trap_chained(struct hook_ksigaction *old, const struct hook_ksigaction *set);
/* Make every thread of the process pass a full memory barrier. */
void hook_sync_threads(void);

#endif /* BPFX_HOOK_INTERNAL_H */
