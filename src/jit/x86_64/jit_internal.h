/* SPDX-License-Identifier: MIT */
/*
 * jit_internal.h - what crosses files inside the x86-64 JIT.
 *
 *   emit.c     x86-64 instruction encoder: REX/ModRM/SIB, ALU, loads,
 *              stores, shifts, jumps. Knows nothing about eBPF.
 *   codemem.c  W^X code memory: reserve RW near the helpers, publish RX.
 *   jit.c      eBPF -> x86-64 translation, frames, passes, jit_compile().
 *
 * The emitter writes into struct jit_ctx. Errors are sticky: once ctx->err
 * is set every jit_emit_* call does nothing, and the caller checks once at
 * the end of a pass. While ctx->buf is NULL (the sizing pass) bytes are
 * only counted.
 */
#ifndef BPFX_JIT_X86_64_INTERNAL_H
#define BPFX_JIT_X86_64_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vm/vm_internal.h"

/* x86-64 register numbers as encoded in ModRM/REX. */
enum {
	X86_RAX = 0, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI,
	X86_RDI, X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14,
	X86_R15,
};

/* Condition codes (low nibble of Jcc/SETcc/CMOVcc). */
enum {
	X86_CC_O = 0x0, X86_CC_NO, X86_CC_B, X86_CC_AE, X86_CC_E, X86_CC_NE,
	X86_CC_BE, X86_CC_A, X86_CC_S, X86_CC_NS, X86_CC_P, X86_CC_NP,
	X86_CC_L, X86_CC_GE, X86_CC_LE, X86_CC_G,
	X86_CC_ALWAYS = 0x10, /* pseudo: unconditional jmp */
};

/* Group-1 ALU operations: "op r/m, r" opcode is (ext << 3) | 1. */
enum {
	X86_ADD = 0, X86_OR = 1, X86_AND = 4, X86_SUB = 5, X86_XOR = 6,
	X86_CMP = 7,
};

/* Group-2 shifts (ModRM reg field). */
enum { X86_ROL = 0, X86_SHL = 4, X86_SHR = 5, X86_SAR = 7 };

/* Group-3 unary operations (F7 /ext). */
enum { X86_NOT = 2, X86_NEG = 3, X86_DIV = 6, X86_IDIV = 7 };

struct jit_ctx {
	const struct bpfx_prog *prog;
	uint8_t *buf;	/* output, NULL while sizing */
	size_t cap;	/* bytes available at buf */
	size_t len;	/* bytes emitted in this pass */
	int err;	/* first error (-errno), sticky */
	uint64_t base;	/* run-time address of buf[0]; 0 while sizing */
	bool sizing;	/* pass 0: every variable jump is rel32 */
	bool freeze;	/* last pass: jumps keep their previous form */
	bool bmi2;	/* shlx/shrx/sarx available */
	int pass;

	/* Label offsets. Labels 0..len are instruction starts (label len is
	 * the end of the code of the last instruction), then per subprogram
	 * its entry and its epilogue, then the stubs. prev holds the offsets
	 * of the previous pass (what jumps aim at), cur those of this pass. */
	uint32_t *prev, *cur;
	uint32_t nlabels;
	uint32_t insn;	/* instruction being translated */
	uint8_t *jform;	/* per instruction: form of its variable jump */

	/* Per-subprogram frame shape (jit.c). */
	struct jit_frame *frames;
};

/* ---- byte output (inline: the hot path of every pass) ---- */

static inline void jit_emit_bytes(struct jit_ctx *ctx, const void *p, size_t n)
{
	if (ctx->err)
		return;
	if (ctx->buf) {
		if (ctx->len + n > ctx->cap) {
			ctx->err = -E2BIG;
			return;
		}
		memcpy(ctx->buf + ctx->len, p, n);
	}
	ctx->len += n;
}

static inline void jit_emit1(struct jit_ctx *ctx, uint8_t b)
{
	jit_emit_bytes(ctx, &b, 1);
}

static inline void jit_emit2(struct jit_ctx *ctx, uint8_t b0, uint8_t b1)
{
	uint8_t b[2] = { b0, b1 };

	jit_emit_bytes(ctx, b, 2);
}

static inline void jit_emit3(struct jit_ctx *ctx, uint8_t b0, uint8_t b1,
			     uint8_t b2)
{
	uint8_t b[3] = { b0, b1, b2 };

	jit_emit_bytes(ctx, b, 3);
}

static inline void jit_emit_u32(struct jit_ctx *ctx, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	jit_emit_bytes(ctx, b, 4);
}

static inline void jit_emit_u64(struct jit_ctx *ctx, uint64_t v)
{
	jit_emit_u32(ctx, (uint32_t)v);
	jit_emit_u32(ctx, (uint32_t)(v >> 32));
}

static inline bool jit_is_imm8(int64_t v)
{
	return v >= -128 && v <= 127;
}

static inline bool jit_is_simm32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* Patch the rel8 of a short jump emitted at @at (the byte after the opcode)
 * so that it lands at the current position. Used for jumps inside one
 * instruction's expansion, whose bodies are always short. */
static inline void jit_patch_rel8(struct jit_ctx *ctx, size_t at)
{
	int64_t d = (int64_t)ctx->len - (int64_t)(at + 1);

	if (ctx->err)
		return;
	if (!jit_is_imm8(d)) {
		ctx->err = -ERANGE;
		return;
	}
	if (ctx->buf)
		ctx->buf[at] = (uint8_t)d;
}

/* ---- emit.c: x86-64 encoder ---- */

/* Register to register: "op dst, src" for the group-1 ops, plus mov and
 * test. @is64 selects the 64-bit form (32-bit forms zero-extend dst). */
void jit_emit_alu_rr(struct jit_ctx *ctx, int op, bool is64, int dst, int src);
void jit_emit_alu_ri(struct jit_ctx *ctx, int op, bool is64, int dst,
		     int32_t imm);
void jit_emit_mov_rr(struct jit_ctx *ctx, bool is64, int dst, int src);
void jit_emit_test_rr(struct jit_ctx *ctx, bool is64, int a, int b);
void jit_emit_test_ri(struct jit_ctx *ctx, bool is64, int reg, int32_t imm);
/* dst = imm, sign-extended to 64 bits (@is64) or as 32 bits zero-extended. */
void jit_emit_mov_imm32(struct jit_ctx *ctx, bool is64, int dst, int32_t imm);
/* dst = imm64, shortest encoding. */
void jit_emit_mov_imm64(struct jit_ctx *ctx, int dst, uint64_t imm);
void jit_emit_imul_rr(struct jit_ctx *ctx, bool is64, int dst, int src);
void jit_emit_imul_ri(struct jit_ctx *ctx, bool is64, int dst, int32_t imm);
/* F7 /ext: not, neg, div, idiv. */
void jit_emit_unary(struct jit_ctx *ctx, int ext, bool is64, int reg);
void jit_emit_shift_ri(struct jit_ctx *ctx, int ext, bool is64, int reg,
		       uint8_t imm);
void jit_emit_shift_cl(struct jit_ctx *ctx, int ext, bool is64, int reg);
/* BMI2 shlx/shrx/sarx: dst = src << cnt (count masked like eBPF). */
void jit_emit_shiftx(struct jit_ctx *ctx, int ext, bool is64, int dst, int src,
		     int cnt);
/* Sign/zero extension register to register. */
void jit_emit_movsx_rr(struct jit_ctx *ctx, unsigned bits, bool is64, int dst,
		       int src);
void jit_emit_movzx16_rr(struct jit_ctx *ctx, int dst, int src);
void jit_emit_bswap(struct jit_ctx *ctx, bool is64, int reg);
void jit_emit_rol16_8(struct jit_ctx *ctx, int reg);

/* Memory at [base + off]. @size is 1, 2, 4 or 8. */
void jit_emit_load(struct jit_ctx *ctx, unsigned size, bool sext, int dst,
		   int base, int32_t off);
void jit_emit_store(struct jit_ctx *ctx, unsigned size, int base, int32_t off,
		    int src);
void jit_emit_store_imm(struct jit_ctx *ctx, unsigned size, int base,
			int32_t off, int32_t imm);
void jit_emit_lea(struct jit_ctx *ctx, int dst, int base, int32_t off);
/* Locked read-modify-write "lock op [base+off], src" (group-1 op), and
 * lock xadd / xchg / lock cmpxchg. */
void jit_emit_lock_alu(struct jit_ctx *ctx, int op, bool is64, int base,
		       int32_t off, int src);
void jit_emit_lock_xadd(struct jit_ctx *ctx, bool is64, int base, int32_t off,
			int src);
void jit_emit_xchg_mem(struct jit_ctx *ctx, bool is64, int base, int32_t off,
		       int src);
void jit_emit_lock_cmpxchg(struct jit_ctx *ctx, bool is64, int base,
			   int32_t off, int src);

void jit_emit_push(struct jit_ctx *ctx, int reg);
void jit_emit_pop(struct jit_ctx *ctx, int reg);
void jit_emit_call_reg(struct jit_ctx *ctx, int reg);
void jit_emit_ret(struct jit_ctx *ctx);
/* Short jump/jcc with a rel8 to patch later; returns the rel8 position. */
size_t jit_emit_jcc_short(struct jit_ctx *ctx, int cc);
/* Jump/jcc with a known displacement (relative to the jump's end). @near
 * forces rel32 even when rel8 would fit. */
void jit_emit_jcc_disp(struct jit_ctx *ctx, int cc, int64_t disp, bool near);
/* call rel32 to an absolute run-time address (caller checked the range). */
void jit_emit_call_rel32(struct jit_ctx *ctx, uint64_t target);

/* ---- jit.c ---- */

/* Tests: 1 = use BMI2 shifts, 0 = never, -1 = when the CPU has them. */
void jit_x86_force_bmi2(int on);

/* ---- codemem.c: W^X code memory ---- */

/* Reserve @size bytes of RW memory, near @hint when possible. */
void *jit_code_alloc(size_t size, uint64_t hint, size_t *mapped);
/* Drop write access and make the code executable. */
int jit_code_publish(void *mem, size_t mapped);
void jit_code_release(void *mem, size_t mapped);
/* Whether a rel32 call from anywhere in [lo, hi) reaches @target. */
bool jit_code_reaches(uint64_t lo, uint64_t hi, uint64_t target);

#endif /* BPFX_JIT_X86_64_INTERNAL_H */
