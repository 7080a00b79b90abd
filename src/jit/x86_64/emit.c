/* SPDX-License-Identifier: MIT */
/*
 * emit.c - x86-64 instruction encoder for the JIT.
 *
 * Every function appends one machine instruction (occasionally two) to the
 * context's buffer, in the shortest encoding that does the job. Nothing here
 * knows about eBPF; jit.c decides what to emit.
 *
 * Encoding reminders:
 *   REX      0100WRXB   W = 64-bit operand, R/X/B extend ModRM.reg, SIB.index
 *                       and ModRM.rm/SIB.base to r8..r15. A bare REX (0x40)
 *                       is needed to name spl/bpl/sil/dil as byte registers.
 *   ModRM    mod:2 reg:3 rm:3   mod 3 = register; rm 4 = SIB follows;
 *                               mod 0 with rm 5 = RIP-relative, so rbp/r13
 *                               as a base always take a disp8.
 *   SIB      0x24 = [rsp/r12] with no index.
 */
#include "jit/x86_64/jit_internal.h"

/* Legacy prefixes and the operand-size flags of one instruction. */
#define P_W 0x01    /* REX.W */
#define P_66 0x02   /* operand-size prefix (16-bit) */
#define P_LOCK 0x04 /* lock prefix */
#define P_BYTE 0x08 /* byte registers: spl/bpl/sil/dil need a REX */

static void emit_prefixes(struct jit_ctx *ctx, unsigned flags, int reg, int rm)
{
	uint8_t rex = 0x40;

	if (flags & P_LOCK)
		jit_emit1(ctx, 0xf0);
	if (flags & P_66)
		jit_emit1(ctx, 0x66);
	if (flags & P_W)
		rex |= 0x08;
	if (reg & 8)
		rex |= 0x04;
	if (rm & 8)
		rex |= 0x01;
	if (rex != 0x40 ||
	    ((flags & P_BYTE) && ((reg >= 4 && reg <= 7) || (rm >= 4 && rm <= 7))))
		jit_emit1(ctx, rex);
}

/* Opcode of 1..3 bytes packed big-endian in @op (0x0fb6 = 0f b6). */
static void emit_opcode(struct jit_ctx *ctx, uint32_t op)
{
	if (op > 0xffff)
		jit_emit1(ctx, (uint8_t)(op >> 16));
	if (op > 0xff)
		jit_emit1(ctx, (uint8_t)(op >> 8));
	jit_emit1(ctx, (uint8_t)op);
}

/* "op reg, rm" with both operands registers. */
static void emit_rr(struct jit_ctx *ctx, unsigned flags, uint32_t op, int reg,
		    int rm)
{
	emit_prefixes(ctx, flags, reg, rm);
	emit_opcode(ctx, op);
	jit_emit1(ctx, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* "op reg, [base + off]". With P_BYTE a spare REX may precede a memory
 * operand whose base is rsp/rbp/rsi/rdi: harmless, one byte. */
static void emit_rm(struct jit_ctx *ctx, unsigned flags, uint32_t op, int reg,
		    int base, int32_t off)
{
	uint8_t mod;

	emit_prefixes(ctx, flags, reg, base);
	emit_opcode(ctx, op);
	if (off == 0 && (base & 7) != X86_RBP)
		mod = 0;
	else if (jit_is_imm8(off))
		mod = 1;
	else
		mod = 2;
	jit_emit1(ctx, (uint8_t)(mod << 6 | (reg & 7) << 3 | (base & 7)));
	if ((base & 7) == X86_RSP)
		jit_emit1(ctx, 0x24); /* SIB: base only */
	if (mod == 1)
		jit_emit1(ctx, (uint8_t)off);
	else if (mod == 2)
		jit_emit_u32(ctx, (uint32_t)off);
}

void jit_emit_alu_rr(struct jit_ctx *ctx, int op, bool is64, int dst, int src)
{
	/* add/or/and/sub/xor/cmp dst, src */
	emit_rr(ctx, is64 ? P_W : 0, (uint32_t)(op << 3 | 1), src, dst);
}

void jit_emit_alu_ri(struct jit_ctx *ctx, int op, bool is64, int dst,
		     int32_t imm)
{
	unsigned w = is64 ? P_W : 0;

	if (jit_is_imm8(imm)) {
		/* op dst, imm8 (sign-extended) */
		emit_rr(ctx, w, 0x83, op, dst);
		jit_emit1(ctx, (uint8_t)imm);
	} else if (dst == X86_RAX) {
		/* op eax/rax, imm32 */
		emit_prefixes(ctx, w, 0, 0);
		jit_emit1(ctx, (uint8_t)(op << 3 | 5));
		jit_emit_u32(ctx, (uint32_t)imm);
	} else {
		/* op dst, imm32 */
		emit_rr(ctx, w, 0x81, op, dst);
		jit_emit_u32(ctx, (uint32_t)imm);
	}
}

void jit_emit_mov_rr(struct jit_ctx *ctx, bool is64, int dst, int src)
{
	if (is64 && dst == src)
		return;
	/* mov dst, src (32-bit form zero-extends) */
	emit_rr(ctx, is64 ? P_W : 0, 0x89, src, dst);
}

void jit_emit_test_rr(struct jit_ctx *ctx, bool is64, int a, int b)
{
	/* test a, b */
	emit_rr(ctx, is64 ? P_W : 0, 0x85, b, a);
}

void jit_emit_test_ri(struct jit_ctx *ctx, bool is64, int reg, int32_t imm)
{
	if (reg == X86_RAX) {
		/* test eax/rax, imm32 */
		emit_prefixes(ctx, is64 ? P_W : 0, 0, 0);
		jit_emit1(ctx, 0xa9);
	} else {
		/* test reg, imm32 */
		emit_rr(ctx, is64 ? P_W : 0, 0xf7, 0, reg);
	}
	jit_emit_u32(ctx, (uint32_t)imm);
}

void jit_emit_mov_imm32(struct jit_ctx *ctx, bool is64, int dst, int32_t imm)
{
	if (imm == 0) {
		/* xor dst32, dst32 */
		emit_rr(ctx, 0, 0x31, dst, dst);
	} else if (!is64 || imm > 0) {
		/* mov dst32, imm32 */
		emit_prefixes(ctx, 0, 0, dst);
		jit_emit1(ctx, (uint8_t)(0xb8 | (dst & 7)));
		jit_emit_u32(ctx, (uint32_t)imm);
	} else {
		/* mov dst, simm32 */
		emit_rr(ctx, P_W, 0xc7, 0, dst);
		jit_emit_u32(ctx, (uint32_t)imm);
	}
}

void jit_emit_mov_imm64(struct jit_ctx *ctx, int dst, uint64_t imm)
{
	if (imm <= UINT32_MAX) {
		jit_emit_mov_imm32(ctx, false, dst, (int32_t)(uint32_t)imm);
	} else if (jit_is_simm32((int64_t)imm)) {
		jit_emit_mov_imm32(ctx, true, dst, (int32_t)imm);
	} else {
		/* movabs dst, imm64 */
		emit_prefixes(ctx, P_W, 0, dst);
		jit_emit1(ctx, (uint8_t)(0xb8 | (dst & 7)));
		jit_emit_u64(ctx, imm);
	}
}

void jit_emit_imul_rr(struct jit_ctx *ctx, bool is64, int dst, int src)
{
	/* imul dst, src */
	emit_rr(ctx, is64 ? P_W : 0, 0x0faf, dst, src);
}

void jit_emit_imul_ri(struct jit_ctx *ctx, bool is64, int dst, int32_t imm)
{
	if (jit_is_imm8(imm)) {
		/* imul dst, dst, imm8 */
		emit_rr(ctx, is64 ? P_W : 0, 0x6b, dst, dst);
		jit_emit1(ctx, (uint8_t)imm);
	} else {
		/* imul dst, dst, imm32 */
		emit_rr(ctx, is64 ? P_W : 0, 0x69, dst, dst);
		jit_emit_u32(ctx, (uint32_t)imm);
	}
}

void jit_emit_unary(struct jit_ctx *ctx, int ext, bool is64, int reg)
{
	/* not/neg/div/idiv reg */
	emit_rr(ctx, is64 ? P_W : 0, 0xf7, ext, reg);
}

void jit_emit_shift_ri(struct jit_ctx *ctx, int ext, bool is64, int reg,
		       uint8_t imm)
{
	if (imm == 1) {
		/* shl/shr/sar reg, 1 */
		emit_rr(ctx, is64 ? P_W : 0, 0xd1, ext, reg);
	} else {
		/* shl/shr/sar reg, imm8 */
		emit_rr(ctx, is64 ? P_W : 0, 0xc1, ext, reg);
		jit_emit1(ctx, imm);
	}
}

void jit_emit_shift_cl(struct jit_ctx *ctx, int ext, bool is64, int reg)
{
	/* shl/shr/sar reg, cl */
	emit_rr(ctx, is64 ? P_W : 0, 0xd3, ext, reg);
}

void jit_emit_shiftx(struct jit_ctx *ctx, int ext, bool is64, int dst, int src,
		     int cnt)
{
	/* VEX.LZ.{66,F2,F3}.0F38.W{0,1} F7 /r: shlx/shrx/sarx dst, src, cnt */
	uint8_t pp = ext == X86_SHL ? 1 : ext == X86_SAR ? 2 : 3;

	jit_emit3(ctx, 0xc4,
		  (uint8_t)((dst & 8 ? 0 : 0x80) | 0x40 | (src & 8 ? 0 : 0x20) |
			    0x02),
		  (uint8_t)((is64 ? 0x80 : 0) | ((~cnt & 15) << 3) | pp));
	jit_emit2(ctx, 0xf7, (uint8_t)(0xc0 | (dst & 7) << 3 | (src & 7)));
}

void jit_emit_movsx_rr(struct jit_ctx *ctx, unsigned bits, bool is64, int dst,
		       int src)
{
	unsigned w = is64 ? P_W : 0;

	if (bits == 8)		/* movsx dst, src8 */
		emit_rr(ctx, w | P_BYTE, 0x0fbe, dst, src);
	else if (bits == 16)	/* movsx dst, src16 */
		emit_rr(ctx, w, 0x0fbf, dst, src);
	else			/* movsxd dst, src32 */
		emit_rr(ctx, P_W, 0x63, dst, src);
}

void jit_emit_movzx16_rr(struct jit_ctx *ctx, int dst, int src)
{
	/* movzx dst32, src16 */
	emit_rr(ctx, 0, 0x0fb7, dst, src);
}

void jit_emit_bswap(struct jit_ctx *ctx, bool is64, int reg)
{
	/* bswap reg */
	emit_prefixes(ctx, is64 ? P_W : 0, 0, reg);
	jit_emit2(ctx, 0x0f, (uint8_t)(0xc8 | (reg & 7)));
}

void jit_emit_rol16_8(struct jit_ctx *ctx, int reg)
{
	/* rol reg16, 8 */
	emit_rr(ctx, P_66, 0xc1, X86_ROL, reg);
	jit_emit1(ctx, 8);
}

void jit_emit_load(struct jit_ctx *ctx, unsigned size, bool sext, int dst,
		   int base, int32_t off)
{
	switch (size) {
	case 1:	/* movzx dst32, byte [base+off] / movsx dst, byte [...] */
		emit_rm(ctx, sext ? P_W : 0, sext ? 0x0fbe : 0x0fb6, dst, base,
			off);
		break;
	case 2:	/* movzx dst32, word [...] / movsx dst, word [...] */
		emit_rm(ctx, sext ? P_W : 0, sext ? 0x0fbf : 0x0fb7, dst, base,
			off);
		break;
	case 4:	/* mov dst32, dword [...] / movsxd dst, dword [...] */
		emit_rm(ctx, sext ? P_W : 0, sext ? 0x63 : 0x8b, dst, base, off);
		break;
	default: /* mov dst, qword [...] */
		emit_rm(ctx, P_W, 0x8b, dst, base, off);
		break;
	}
}

void jit_emit_store(struct jit_ctx *ctx, unsigned size, int base, int32_t off,
		    int src)
{
	switch (size) {
	case 1:	/* mov byte [base+off], src8 */
		emit_rm(ctx, P_BYTE, 0x88, src, base, off);
		break;
	case 2:	/* mov word [base+off], src16 */
		emit_rm(ctx, P_66, 0x89, src, base, off);
		break;
	case 4:	/* mov dword [base+off], src32 */
		emit_rm(ctx, 0, 0x89, src, base, off);
		break;
	default: /* mov qword [base+off], src */
		emit_rm(ctx, P_W, 0x89, src, base, off);
		break;
	}
}

void jit_emit_store_imm(struct jit_ctx *ctx, unsigned size, int base,
			int32_t off, int32_t imm)
{
	switch (size) {
	case 1:	/* mov byte [base+off], imm8 */
		emit_rm(ctx, 0, 0xc6, 0, base, off);
		jit_emit1(ctx, (uint8_t)imm);
		break;
	case 2:	/* mov word [base+off], imm16 */
		emit_rm(ctx, P_66, 0xc7, 0, base, off);
		jit_emit2(ctx, (uint8_t)imm, (uint8_t)(imm >> 8));
		break;
	case 4:	/* mov dword [base+off], imm32 */
		emit_rm(ctx, 0, 0xc7, 0, base, off);
		jit_emit_u32(ctx, (uint32_t)imm);
		break;
	default: /* mov qword [base+off], simm32 */
		emit_rm(ctx, P_W, 0xc7, 0, base, off);
		jit_emit_u32(ctx, (uint32_t)imm);
		break;
	}
}

void jit_emit_lea(struct jit_ctx *ctx, int dst, int base, int32_t off)
{
	/* lea dst, [base+off] */
	emit_rm(ctx, P_W, 0x8d, dst, base, off);
}

void jit_emit_lock_alu(struct jit_ctx *ctx, int op, bool is64, int base,
		       int32_t off, int src)
{
	/* lock add/or/and/xor [base+off], src */
	emit_rm(ctx, P_LOCK | (is64 ? P_W : 0), (uint32_t)(op << 3 | 1), src,
		base, off);
}

void jit_emit_lock_xadd(struct jit_ctx *ctx, bool is64, int base, int32_t off,
			int src)
{
	/* lock xadd [base+off], src */
	emit_rm(ctx, P_LOCK | (is64 ? P_W : 0), 0x0fc1, src, base, off);
}

void jit_emit_xchg_mem(struct jit_ctx *ctx, bool is64, int base, int32_t off,
		       int src)
{
	/* xchg [base+off], src (implicitly locked) */
	emit_rm(ctx, is64 ? P_W : 0, 0x87, src, base, off);
}

void jit_emit_lock_cmpxchg(struct jit_ctx *ctx, bool is64, int base,
			   int32_t off, int src)
{
	/* lock cmpxchg [base+off], src (compares with eax/rax) */
	emit_rm(ctx, P_LOCK | (is64 ? P_W : 0), 0x0fb1, src, base, off);
}

void jit_emit_push(struct jit_ctx *ctx, int reg)
{
	/* push reg */
	if (reg & 8)
		jit_emit1(ctx, 0x41);
	jit_emit1(ctx, (uint8_t)(0x50 | (reg & 7)));
}

void jit_emit_pop(struct jit_ctx *ctx, int reg)
{
	/* pop reg */
	if (reg & 8)
		jit_emit1(ctx, 0x41);
	jit_emit1(ctx, (uint8_t)(0x58 | (reg & 7)));
}

void jit_emit_call_reg(struct jit_ctx *ctx, int reg)
{
	/* call reg */
	emit_rr(ctx, 0, 0xff, 2, reg);
}

void jit_emit_ret(struct jit_ctx *ctx)
{
	jit_emit1(ctx, 0xc3); /* ret */
}

size_t jit_emit_jcc_short(struct jit_ctx *ctx, int cc)
{
	/* jmp rel8 / jcc rel8, displacement patched by jit_patch_rel8 */
	jit_emit2(ctx, cc == X86_CC_ALWAYS ? 0xeb : (uint8_t)(0x70 | cc), 0);
	return ctx->len - 1;
}

void jit_emit_jcc_disp(struct jit_ctx *ctx, int cc, int64_t disp, bool near)
{
	if (!near && jit_is_imm8(disp)) {
		/* jmp/jcc rel8 */
		jit_emit2(ctx, cc == X86_CC_ALWAYS ? 0xeb : (uint8_t)(0x70 | cc),
			  (uint8_t)disp);
		return;
	}
	if (!jit_is_simm32(disp)) {
		if (!ctx->err)
			ctx->err = -ERANGE;
		return;
	}
	if (cc == X86_CC_ALWAYS)
		jit_emit1(ctx, 0xe9); /* jmp rel32 */
	else
		jit_emit2(ctx, 0x0f, (uint8_t)(0x80 | cc)); /* jcc rel32 */
	jit_emit_u32(ctx, (uint32_t)disp);
}

void jit_emit_call_rel32(struct jit_ctx *ctx, uint64_t target)
{
	int64_t disp = (int64_t)(target - (ctx->base + ctx->len + 5));

	if (ctx->buf && !jit_is_simm32(disp)) {
		if (!ctx->err)
			ctx->err = -ERANGE;
		return;
	}
	/* call rel32 */
	jit_emit1(ctx, 0xe8);
	jit_emit_u32(ctx, (uint32_t)disp);
}
