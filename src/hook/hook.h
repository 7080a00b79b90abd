/* SPDX-License-Identifier: MIT */
/*
 * hook.h - inline function hooks for x86-64 (the engine under uprobes).
 *
 * A hook replaces the first 5 bytes of a function (after an endbr64, which
 * stays in place) with `jmp rel32` to a per-function trampoline within
 * +-2 GiB. The trampoline saves every register as the kernel's struct
 * pt_regs (plus xmm registers), calls the entry handler, restores, runs the
 * displaced (relocated) instructions and jumps back. Return probes swap the
 * return address for a shared return stub and keep the real one on a
 * per-thread shadow stack.
 *
 *   hook_can_patch()  decide, without touching anything, whether a function
 *                     can be hooked; a refusal names the reason in words.
 *   hook_install()    patch it (safe while other threads run).
 *   hook_remove()     restore the original bytes exactly; when it returns no
 *                     thread runs, or will run, the handlers of this hook.
 *
 * Handlers run on the hooked thread, on its stack (16-byte aligned), with
 * signals as the host had them. They may call C code freely but must not
 * unwind through the trampoline (no longjmp out of a handler, no C++
 * exceptions) and must not use AVX registers in their upper halves across
 * the hooked function's vector arguments (only the low 128 bits are saved).
 *
 * Conventions: int functions return 0 or -errno. Nothing here prints or
 * exits. Not async-signal-safe: do not install or remove from a signal
 * handler. Installing and removing are serialized by one internal mutex.
 */
#ifndef BPFX_HOOK_H
#define BPFX_HOOK_H

#include <stddef.h>
#include <stdint.h>

/*
 * The register snapshot a handler sees, laid out exactly as the kernel's
 * x86-64 struct pt_regs (arch/x86/include/asm/ptrace.h), so libbpf's
 * PT_REGS_PARM1(ctx)... read it unchanged. 168 bytes.
 *
 *   entry:  ip = the function's address, sp -> the return address,
 *           orig_ax = -1, cs = 0x33, ss = 0x2b, flags = RFLAGS.
 *   return: ip = the address returned to, sp = the stack pointer after
 *           the return, ax (and dx) = the return value.
 */
struct hook_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

/* What an entry handler returns. */
enum hook_verdict {
	HOOK_CONTINUE = 0,	/* run the function (with regs as modified) */
	HOOK_REDIRECT = 1,	/* resume at regs->ip with stack regs->sp; used
				 * to skip the function (override return) */
};

/* Entry handler: may change any register in regs (arguments, ...). With
 * HOOK_REDIRECT, regs->sp may only grow (pop), never shrink. */
typedef int (*hook_entry_fn)(void *ctx, struct hook_regs *regs);
/* Return handler: regs->ax is the return value; it may change it. */
typedef void (*hook_return_fn)(void *ctx, struct hook_regs *regs);

/* hook_desc.flags */
#define HOOK_F_NO_VECTOR (1u << 0) /* the handlers never touch a vector
				    * (xmm/ymm/zmm) or x87 register: the
				    * caller guarantees it (code built with
				    * -mgeneral-regs-only, no libc string
				    * functions); the stubs then save none.
				    * Default: xmm0-15 are saved */

struct hook_desc {
	size_t sz;		/* sizeof(struct hook_desc) */
	hook_entry_fn on_entry;	/* NULL: none */
	hook_return_fn on_return; /* NULL: no return probe */
	void *ctx;		/* first argument of both handlers */
	unsigned int flags;	/* HOOK_F_* */
	char *why;		/* optional: reason for a refusal, in words */
	size_t whylen;
};

#define HOOK_MAX_INSNS 8

/* What hook_can_patch() found: the displaced instructions of a prologue. */
struct hook_plan {
	uint64_t func;		/* the function */
	uint64_t site;		/* where the jmp goes: func, or func + 4 past an
				 * endbr64 */
	uint8_t len;		/* bytes displaced (>= 5); 5 are overwritten */
	uint8_t ninsn;		/* instructions displaced */
	uint8_t off[HOOK_MAX_INSNS];	/* each one's offset from site */
	uint8_t ilen[HOOK_MAX_INSNS];	/* and length */
	uint8_t kind[HOOK_MAX_INSNS];	/* enum hook_reloc_kind */
	uint8_t aux[HOOK_MAX_INSNS];	/* RIPREL: disp32 offset; JCC: cc */
	uint64_t target[HOOK_MAX_INSNS]; /* branch or RIP-relative target */
	uint8_t orig[32];	/* original bytes from site */
	/* RIP-relative operands: the trampoline must lie within +-2 GiB of
	 * each of them; [lo, hi] bounds them (lo > hi: none). */
	uint64_t rip_lo, rip_hi;
};

enum hook_reloc_kind {
	HOOK_RELOC_COPY,	/* position independent: copied as is */
	HOOK_RELOC_RIPREL,	/* RIP-relative memory operand: disp32 fixed */
	HOOK_RELOC_JCC,		/* jcc rel8/rel32 -> jcc rel32 or jncc+jmp abs */
	HOOK_RELOC_JMP,		/* jmp rel8/rel32 -> jmp rel32 or jmp abs */
	HOOK_RELOC_CALL,	/* call rel32 -> push ret; jmp target */
	HOOK_RELOC_CALL_RIPMEM,	/* call [rip+d] -> push ret; jmp [rip+d'] */
};

struct hook;

/*
 * Decide whether func can be hooked. 0 and *plan filled, or -EINVAL /
 * -ENOTSUP / -EEXIST / -EFAULT with one sentence in why (may be NULL).
 */
int hook_can_patch(void *func, struct hook_plan *plan, char *why, size_t whylen);

/* Hook func. On success *out is the handle for hook_remove(). */
int hook_install(void *func, const struct hook_desc *d, struct hook **out);

/* Unhook; restores the original bytes. Accepts NULL. Frees h. */
int hook_remove(struct hook *h);

/* Remove several hooks with one patch transaction per page: fewer
 * protection changes and serializations. hs[i] may be NULL. */
int hook_remove_many(struct hook **hs, int n);

/* Calls of h's function whose return probe was skipped (shadow stack
 * full, out of memory). */
uint64_t hook_nmissed(const struct hook *h);

/*
 * For an entry handler: make the function return rc at once without running
 * (bpf_override_return): sets ax, pops the return address into ip.
 * Returns HOOK_REDIRECT, the handler's verdict.
 */
int hook_regs_override_return(struct hook_regs *regs, unsigned long rc);

/* How cross-modified code is serialized here, in words (for logs/bench). */
const char *hook_sync_mechanism(void);

#endif /* BPFX_HOOK_H */
