/* SPDX-License-Identifier: MIT */
/*
 * jit.c - the x86-64 JIT: eBPF instructions to native code.
 *
 * Registers. eBPF registers live in x86-64 registers for the whole run,
 * one to one, as in the kernel's JIT:
 *
 *     r0 rax   r1 rdi   r2 rsi   r3 rdx   r4 rcx   r5 r8
 *     r6 rbx   r7 r13   r8 r14   r9 r15   r10 rbp
 *
 * so r1..r5 are already the SysV argument registers and r0 the return
 * register: a helper call is a bare `call`. r9, r10 and r11 are scratch
 * within one instruction's expansion (they are caller-saved, helpers may
 * clobber them). r12 holds the "abort anchor": rsp just after the main
 * program's prologue, used to leave the whole run at once from any call
 * depth (the unwind helper returning 0, callx to an unknown helper).
 *
 * Frames. Every subprogram is a native function. Its prologue pushes what
 * it writes among rbx/r13/r14/r15 (r6-r9 are callee-saved in eBPF and in
 * SysV alike), pushes rbp and points it at the top of a fresh 512-byte
 * frame when it touches r10, and pads rsp to 16 bytes when it calls
 * anything. bpf-to-bpf calls are `call rel32` to the callee's prologue;
 * r1..r5 pass through untouched. The main program (subprogram 0) also
 * saves r12 when it needs the anchor, and zeroes the registers it reads
 * besides r1/r2/r10, matching the interpreter, which starts with all
 * registers zero.
 *
 *     host stack:  ... | ret | saved regs | 512-byte frame (r10 = top) | pad
 *
 * Layout of the code:
 *
 *     [prologue 0][insns of subprog 0][epilogue 0][prologue 1]...[epilogue n]
 *     [callx-fail stub][abort stub]
 *
 * Passes. Jump sizes depend on distances, distances on jump sizes. Pass 0
 * only counts bytes with every variable-size jump in its rel32 form and
 * every helper call in its long form, which bounds the code size; the
 * memory is then reserved at that size, so its address is known from pass
 * 1 on (helper calls use `call rel32` when all of it is within +-2 GiB of
 * the helper). Each later pass lays out branches with the label offsets of
 * the pass before, choosing rel8 where that distance fits and omitting a
 * jump to the very next byte. All offsets of one pass are <= those of the
 * pass before (each instruction can only shrink), so the total size
 * decreases until a pass emits exactly as many bytes as the one before;
 * then every instruction kept its size, every label its offset, and that
 * pass's output is exact. That can take many passes (a chain of jumps
 * each allowed to shrink only after the next one did), so after
 * JIT_MAX_PASSES one last pass keeps every jump in the form it had: no
 * size changes, and the output is exact. A variable-size jump is always the last thing an
 * instruction emits, so its displacement is measured from the
 * instruction's end (its label neighbor); jumps in the middle of an
 * expansion either stay inside it (rel8, patched in place) or are always
 * rel32 (to the stubs).
 *
 * Division. x86 div/idiv fault on a zero divisor and idiv on INT_MIN / -1;
 * eBPF defines both (x / 0 = 0, x % 0 = x, INT_MIN / -1 = INT_MIN,
 * INT_MIN % -1 = 0). Register divisors are tested first; immediate ones
 * are decided here. rax/rdx (r0/r3) are preserved around the divide in
 * r10/r9.
 *
 * Nothing is checked at run time that load time proved: jumps, call
 * depth, helper ids of `call imm`. Memory accesses are not checked at all
 * (that is the verifier's job), just like the unchecked interpreter. The
 * only run-time check is callx's helper id, which comes from a register.
 *
 * Refusals. Anything the JIT cannot translate is refused with -EINVAL and
 * one log line naming the instruction, never miscompiled. Tail calls (a
 * helper that replaces the running program) arrive with PROG_ARRAY: they
 * will plug in at emit_helper_call(), reusing the abort anchor to leave
 * the current frames.
 *
 * The unwind helper id is read at compile time (vm->unwind_helper); a VM
 * that changes it after bpfx_prog_jit must compile again.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#ifdef RSEQ_SIG
#define JIT_HAVE_RSEQ 1
#endif
#endif
#endif

#include "isa/isa.h"
#include "jit/x86_64/jit_internal.h"

#define AUX X86_R11	/* scratch: divisor, callx target, atomic temp */
#define TMP X86_R10	/* scratch: saved rax */
#define TMP2 X86_R9	/* scratch: saved rdx, address, helper id */
#define ANCHOR X86_R12	/* rsp after the main prologue */

/* Passes that may shrink jumps; if the size still moves after them, one
 * more pass freezes every jump's form (see emit_jump_last). */
#define JIT_MAX_PASSES 6

enum { JF_NONE, JF_SHORT, JF_NEAR }; /* form of a variable-size jump */

static const uint8_t reg_map[ISA_NREGS] = {
	X86_RAX, X86_RDI, X86_RSI, X86_RDX, X86_RCX, X86_R8,
	X86_RBX, X86_R13, X86_R14, X86_R15, X86_RBP,
};

/* x86 registers a subprogram may have to save, in push order. */
static const uint8_t saved_order[] = {
	X86_RBP, X86_RBX, X86_R13, X86_R14, X86_R15, X86_R12,
};

struct jit_frame {
	uint32_t start, end;	/* instruction range [start, end) */
	uint16_t saved;		/* bit per x86 register pushed */
	uint32_t stack;		/* bytes reserved below the pushes */
	uint16_t zero;		/* main: x86 registers zeroed at entry */
	bool uses_fp;
	bool calls;		/* calls anything (needs 16-byte alignment) */
};

/* ---- labels ---- */

static uint32_t label_entry(const struct jit_ctx *ctx, uint32_t s)
{
	return ctx->prog->len + s;
}

static uint32_t label_epilogue(const struct jit_ctx *ctx, uint32_t s)
{
	return ctx->prog->len + ctx->prog->nsubprogs + s;
}

static uint32_t label_callx_fail(const struct jit_ctx *ctx)
{
	return ctx->prog->len + 2 * ctx->prog->nsubprogs;
}

static uint32_t label_abort(const struct jit_ctx *ctx)
{
	return label_callx_fail(ctx) + 1;
}

static void set_label(struct jit_ctx *ctx, uint32_t label)
{
	ctx->cur[label] = (uint32_t)ctx->len;
}

/* Label that follows instruction @i (@slots long) in subprogram @s. */
static uint32_t label_after(const struct jit_ctx *ctx, uint32_t s, uint32_t i,
			    uint32_t slots)
{
	return i + slots == ctx->frames[s].end ? label_epilogue(ctx, s)
					       : i + slots;
}

/*
 * Variable-size jump to @label; must be the last bytes instruction @i
 * emits. Displacement from the previous pass's layout. In the freeze pass
 * each jump keeps the form it had in the pass before (that distance can
 * only have shrunk since, so the form still fits).
 */
static void emit_jump_last(struct jit_ctx *ctx, int cc, uint32_t label,
			   uint32_t s, uint32_t i, uint32_t slots)
{
	uint8_t *form = &ctx->jform[i];
	int64_t disp;

	if (ctx->sizing) {
		jit_emit_jcc_disp(ctx, cc, 0, true);
		return;
	}
	disp = (int64_t)ctx->prev[label] -
	       (int64_t)ctx->prev[label_after(ctx, s, i, slots)];
	if (!ctx->freeze)
		*form = disp == 0 ? JF_NONE
			: jit_is_imm8(disp) ? JF_SHORT : JF_NEAR;
	else if ((*form == JF_NONE && disp) ||
		 (*form == JF_SHORT && !jit_is_imm8(disp)))
		ctx->err = -EINVAL; /* cannot happen; never emit a wrong jump */
	if (*form == JF_NONE)
		return; /* to the next byte: nothing to jump over */
	jit_emit_jcc_disp(ctx, cc, disp, *form == JF_NEAR);
}

/* Fixed-size (rel32) jump to @label, anywhere in an expansion. */
static void emit_jump_near(struct jit_ctx *ctx, int cc, uint32_t label)
{
	size_t sz = cc == X86_CC_ALWAYS ? 5 : 6;
	int64_t disp = 0;

	if (!ctx->sizing)
		disp = (int64_t)ctx->prev[label] - (int64_t)(ctx->len + sz);
	jit_emit_jcc_disp(ctx, cc, disp, true);
}

static int refuse(struct jit_ctx *ctx, uint32_t i, const char *why)
{
	const struct bpfx_insn *insn = &ctx->prog->insns[i];

	if (!ctx->err) {
		vm_log(BPFX_INFO, /* callers fall back or report */
		       "jit: cannot compile insn %u (opcode 0x%02x): %s\n", i,
		       insn->code, why);
		ctx->err = -EINVAL;
	}
	return -EINVAL;
}

/* ---- analysis: frame shapes ---- */

static uint16_t xbit(int x86)
{
	return (uint16_t)(1u << x86);
}

/* Registers @insn writes (bit per eBPF register) and whether it is a call. */
static uint32_t insn_writes(const struct bpfx_insn *insn, bool *calls)
{
	uint8_t cls = ISA_CLASS(insn->code);

	switch (cls) {
	case ISA_ALU:
	case ISA_ALU64:
	case ISA_LDX:
	case ISA_LD:
		return 1u << insn->dst;
	case ISA_STX:
		if (ISA_MODE(insn->code) != ISA_ATOMIC)
			return 0;
		if (insn->imm == ISA_CMPXCHG)
			return 1u << 0;
		return insn->imm & ISA_FETCH ? 1u << insn->src : 0;
	case ISA_JMP:
		if (ISA_OP(insn->code) == ISA_CALL) {
			*calls = true;
			return 0x3f; /* r0, and r1..r5 clobbered */
		}
		return 0;
	default:
		return 0;
	}
}

/* Registers @insn reads (conservatively: every register field it uses). */
static uint32_t insn_regs(const struct bpfx_insn *insn)
{
	uint8_t cls = ISA_CLASS(insn->code);
	uint32_t m = 1u << insn->dst;

	if (cls == ISA_LD)
		return m;
	if ((cls == ISA_JMP || cls == ISA_JMP32) &&
	    (ISA_OP(insn->code) == ISA_CALL || ISA_OP(insn->code) == ISA_EXIT))
		return isa_is_callx(insn) ? m | 0x3f : 0x3f; /* r0..r5 */
	if (cls == ISA_ST || ISA_SRC(insn->code) == ISA_X || cls == ISA_LDX ||
	    cls == ISA_STX)
		m |= 1u << insn->src;
	return m;
}

static void shape_frames(struct jit_ctx *ctx, bool need_anchor)
{
	const struct bpfx_prog *prog = ctx->prog;
	uint32_t s, i, r;

	for (s = 0; s < prog->nsubprogs; s++) {
		struct jit_frame *f = &ctx->frames[s];
		uint32_t writes = 0, refs = 0;
		bool calls = false;

		f->start = prog->subprog_start[s];
		f->end = s + 1 < prog->nsubprogs ? prog->subprog_start[s + 1]
						 : prog->len;
		for (i = f->start; i < f->end; i++) {
			const struct bpfx_insn *insn = &prog->insns[i];

			writes |= insn_writes(insn, &calls);
			refs |= insn_regs(insn);
			if (isa_is_lddw(insn))
				i++;
		}
		f->uses_fp = refs & (1u << ISA_REG_FP);
		if (f->uses_fp)
			f->saved |= xbit(X86_RBP);
		for (r = 6; r <= 9; r++) {
			/* main also saves what it only reads: it zeroes it */
			if (writes & (1u << r) || (s == 0 && refs & (1u << r)))
				f->saved |= xbit(reg_map[r]);
		}
		if (s == 0) {
			if (need_anchor)
				f->saved |= xbit(ANCHOR);
			for (r = 0; r <= 9; r++)
				if (r != 1 && r != 2 &&
				    (r < 6 || refs & (1u << r)))
					f->zero |= xbit(reg_map[r]);
		}
		f->calls = calls;
	}
	/* The abort stub leaves every frame at once and pops only main's
	 * saves: main must save every callee-saved register any subprogram
	 * writes, or an abort from a subprogram would hand the C caller a
	 * clobbered register. */
	if (need_anchor)
		for (s = 1; s < prog->nsubprogs; s++)
			ctx->frames[0].saved |= ctx->frames[s].saved;
	for (s = 0; s < prog->nsubprogs; s++) {
		struct jit_frame *f = &ctx->frames[s];
		uint32_t npush = 0;
		size_t k;

		for (k = 0; k < sizeof(saved_order); k++)
			npush += !!(f->saved & xbit(saved_order[k]));
		f->stack = f->uses_fp ? BPFX_STACK_SIZE : 0;
		/* entry rsp is 8 mod 16; calls need it 0 mod 16 */
		if (f->calls && (8 + 8 * npush + f->stack) % 16)
			f->stack += 8;
	}
}

/* ---- prologue, epilogue, stubs ---- */

static void emit_prologue(struct jit_ctx *ctx, uint32_t s)
{
	const struct jit_frame *f = &ctx->frames[s];
	size_t k;
	int r;

	for (k = 0; k < sizeof(saved_order); k++)
		if (f->saved & xbit(saved_order[k]))
			jit_emit_push(ctx, saved_order[k]); /* push reg */
	if (f->uses_fp)
		jit_emit_mov_rr(ctx, true, X86_RBP, X86_RSP); /* mov rbp, rsp */
	if (f->saved & xbit(ANCHOR))
		jit_emit_mov_rr(ctx, true, ANCHOR, X86_RSP); /* mov r12, rsp */
	if (f->stack)
		jit_emit_alu_ri(ctx, X86_SUB, true, X86_RSP,
				(int32_t)f->stack); /* sub rsp, stack */
	for (r = 0; r < 16; r++)
		if (f->zero & xbit(r))
			jit_emit_mov_imm32(ctx, false, r, 0); /* xor r, r */
}

/* Pops of frame @f, then ret (rsp must point at the last push). */
static void emit_pops_ret(struct jit_ctx *ctx, const struct jit_frame *f)
{
	size_t k;

	for (k = sizeof(saved_order); k-- > 0;)
		if (f->saved & xbit(saved_order[k]))
			jit_emit_pop(ctx, saved_order[k]); /* pop reg */
	jit_emit_ret(ctx); /* ret */
}

static void emit_epilogue(struct jit_ctx *ctx, uint32_t s)
{
	const struct jit_frame *f = &ctx->frames[s];

	if (f->uses_fp)
		jit_emit_mov_rr(ctx, true, X86_RSP, X86_RBP); /* mov rsp, rbp */
	else if (f->stack)
		jit_emit_alu_ri(ctx, X86_ADD, true, X86_RSP,
				(int32_t)f->stack); /* add rsp, stack */
	emit_pops_ret(ctx, f);
}

/* Called from JIT code when callx names no helper: same report as the
 * interpreter's, then the run is abandoned through the abort stub. */
static void jit_rt_callx_fail(uint32_t pc, uint64_t id)
{
	vm_run.err = -EINVAL;
	snprintf(vm_fault_msg, sizeof(vm_fault_msg),
		 "callx to unknown helper %" PRIu64 " at insn %" PRIu32, id,
		 pc);
}

static void emit_stubs(struct jit_ctx *ctx)
{
	/* callx_fail: edi = insn, rsi = id, rsp aligned by the caller's frame */
	set_label(ctx, label_callx_fail(ctx));
	jit_emit_mov_imm64(ctx, X86_RAX, (uint64_t)(uintptr_t)jit_rt_callx_fail);
	jit_emit_call_reg(ctx, X86_RAX);	/* call rax */
	/* abort: leave every frame, r0 = 0 */
	set_label(ctx, label_abort(ctx));
	jit_emit_mov_imm32(ctx, false, X86_RAX, 0);	/* xor eax, eax */
	jit_emit_mov_rr(ctx, true, X86_RSP, ANCHOR);	/* mov rsp, r12 */
	emit_pops_ret(ctx, &ctx->frames[0]);
}

/* ---- ALU ---- */

static int alu_op(uint8_t op)
{
	switch (op) {
	case ISA_ADD: return X86_ADD;
	case ISA_SUB: return X86_SUB;
	case ISA_OR: return X86_OR;
	case ISA_AND: return X86_AND;
	default: return X86_XOR;
	}
}

static int shift_op(uint8_t op)
{
	return op == ISA_LSH ? X86_SHL : op == ISA_RSH ? X86_SHR : X86_SAR;
}

/*
 * dst = dst / AUX or dst % AUX, AUX != 0 and (signed) AUX != -1.
 * rax and rdx are the dividend/result registers of div: r0/r3 are kept in
 * TMP/TMP2 meanwhile unless dst is one of them.
 */
static void emit_div_core(struct jit_ctx *ctx, bool is64, bool sgn, bool mod,
			  int dst)
{
	int res = mod ? X86_RDX : X86_RAX;

	if (dst != X86_RAX)
		jit_emit_mov_rr(ctx, true, TMP, X86_RAX);	/* mov r10, rax */
	if (dst != X86_RDX)
		jit_emit_mov_rr(ctx, true, TMP2, X86_RDX);	/* mov r9, rdx */
	if (dst != X86_RAX)
		jit_emit_mov_rr(ctx, true, X86_RAX, dst);	/* mov rax, dst */
	if (!sgn)
		jit_emit_mov_imm32(ctx, false, X86_RDX, 0);	/* xor edx, edx */
	else if (is64)
		jit_emit2(ctx, 0x48, 0x99);			/* cqo */
	else
		jit_emit1(ctx, 0x99);				/* cdq */
	jit_emit_unary(ctx, sgn ? X86_IDIV : X86_DIV, is64, AUX); /* div r11 */
	if (dst == X86_RAX) {
		jit_emit_mov_rr(ctx, true, X86_RAX, res);	/* mov rax, rdx */
		jit_emit_mov_rr(ctx, true, X86_RDX, TMP2);	/* mov rdx, r9 */
	} else if (dst == X86_RDX) {
		jit_emit_mov_rr(ctx, true, X86_RDX, res);	/* mov rdx, rax */
		jit_emit_mov_rr(ctx, true, X86_RAX, TMP);	/* mov rax, r10 */
	} else {
		jit_emit_mov_rr(ctx, true, dst, res);		/* mov dst, res */
		jit_emit_mov_rr(ctx, true, X86_RAX, TMP);	/* mov rax, r10 */
		jit_emit_mov_rr(ctx, true, X86_RDX, TMP2);	/* mov rdx, r9 */
	}
}

/* What x / 0 and x % 0 leave in dst. */
static void emit_div_by_zero(struct jit_ctx *ctx, bool is64, bool mod, int dst)
{
	if (!mod)
		jit_emit_mov_imm32(ctx, false, dst, 0);	/* xor dst, dst */
	else if (!is64)
		jit_emit_mov_rr(ctx, false, dst, dst);	/* mov dst32, dst32 */
}

/* What x s/ -1 and x s% -1 leave in dst. */
static void emit_div_by_minus1(struct jit_ctx *ctx, bool is64, bool mod,
			       int dst)
{
	if (!mod)
		jit_emit_unary(ctx, X86_NEG, is64, dst);	/* neg dst */
	else
		jit_emit_mov_imm32(ctx, false, dst, 0);	/* xor dst, dst */
}

static int log2_exact(uint64_t v)
{
	return v && !(v & (v - 1)) ? __builtin_ctzll(v) : -1;
}

static void emit_divmod(struct jit_ctx *ctx, const struct bpfx_insn *insn,
			bool is64)
{
	bool sgn = insn->off == 1, mod = ISA_OP(insn->code) == ISA_MOD;
	int dst = reg_map[insn->dst];
	size_t jz, jm1 = 0, jdone, jdone2 = 0;

	if (ISA_SRC(insn->code) == ISA_K) {
		int32_t imm = insn->imm;
		uint64_t d = is64 ? (uint64_t)(int64_t)imm : (uint32_t)imm;
		int sh = log2_exact(d);

		if (imm == 0) {
			emit_div_by_zero(ctx, is64, mod, dst);
		} else if (sgn && imm == -1) {
			emit_div_by_minus1(ctx, is64, mod, dst);
		} else if (!sgn && sh >= 0 && sh < 31) {
			if (mod)	/* and dst, d - 1 */
				jit_emit_alu_ri(ctx, X86_AND, is64, dst,
						(int32_t)(d - 1));
			else if (sh)	/* shr dst, sh */
				jit_emit_shift_ri(ctx, X86_SHR, is64, dst,
						  (uint8_t)sh);
			else if (!is64)	/* x / 1: mov dst32, dst32 */
				jit_emit_mov_rr(ctx, false, dst, dst);
		} else {
			jit_emit_mov_imm32(ctx, is64, AUX, imm); /* mov r11, imm */
			emit_div_core(ctx, is64, sgn, mod, dst);
		}
		return;
	}
	jit_emit_mov_rr(ctx, is64, AUX, reg_map[insn->src]);	/* mov r11, src */
	jit_emit_test_rr(ctx, is64, AUX, AUX);			/* test r11, r11 */
	jz = jit_emit_jcc_short(ctx, X86_CC_E);			/* jz .zero */
	if (sgn) {
		jit_emit_alu_ri(ctx, X86_CMP, is64, AUX, -1);	/* cmp r11, -1 */
		jm1 = jit_emit_jcc_short(ctx, X86_CC_E);	/* je .minus1 */
	}
	emit_div_core(ctx, is64, sgn, mod, dst);
	jdone = jit_emit_jcc_short(ctx, X86_CC_ALWAYS);		/* jmp .done */
	jit_patch_rel8(ctx, jz);				/* .zero: */
	emit_div_by_zero(ctx, is64, mod, dst);
	if (sgn) {
		jdone2 = jit_emit_jcc_short(ctx, X86_CC_ALWAYS); /* jmp .done */
		jit_patch_rel8(ctx, jm1);			/* .minus1: */
		emit_div_by_minus1(ctx, is64, mod, dst);
		jit_patch_rel8(ctx, jdone2);
	}
	jit_patch_rel8(ctx, jdone);				/* .done: */
}

static void emit_shift_reg(struct jit_ctx *ctx, int ext, bool is64, int dst,
			   int src)
{
	if (ctx->bmi2) {
		jit_emit_shiftx(ctx, ext, is64, dst, dst, src); /* shlx dst, dst, src */
		return;
	}
	if (src == X86_RCX) {
		jit_emit_shift_cl(ctx, ext, is64, dst);		/* shl dst, cl */
	} else if (dst == X86_RCX) {
		jit_emit_mov_rr(ctx, true, AUX, X86_RCX);	/* mov r11, rcx */
		jit_emit_mov_rr(ctx, true, X86_RCX, src);	/* mov rcx, src */
		jit_emit_shift_cl(ctx, ext, is64, AUX);		/* shl r11, cl */
		jit_emit_mov_rr(ctx, true, X86_RCX, AUX);	/* mov rcx, r11 */
	} else {
		jit_emit_mov_rr(ctx, true, AUX, X86_RCX);	/* mov r11, rcx */
		jit_emit_mov_rr(ctx, true, X86_RCX, src);	/* mov rcx, src */
		jit_emit_shift_cl(ctx, ext, is64, dst);		/* shl dst, cl */
		jit_emit_mov_rr(ctx, true, X86_RCX, AUX);	/* mov rcx, r11 */
	}
}

static void emit_end(struct jit_ctx *ctx, const struct bpfx_insn *insn,
		     bool is64)
{
	int dst = reg_map[insn->dst];
	bool swap = is64 || ISA_SRC(insn->code) == ISA_X;

	switch (insn->imm) {
	case 16:
		if (swap)
			jit_emit_rol16_8(ctx, dst);	/* rol dst16, 8 */
		jit_emit_movzx16_rr(ctx, dst, dst);	/* movzx dst32, dst16 */
		break;
	case 32:
		if (swap)
			jit_emit_bswap(ctx, false, dst);	/* bswap dst32 */
		else
			jit_emit_mov_rr(ctx, false, dst, dst);	/* mov dst32, dst32 */
		break;
	default:
		if (swap)
			jit_emit_bswap(ctx, true, dst);	/* bswap dst */
		break;
	}
}

static void emit_alu(struct jit_ctx *ctx, const struct bpfx_insn *insn)
{
	bool is64 = ISA_CLASS(insn->code) == ISA_ALU64;
	bool x = ISA_SRC(insn->code) == ISA_X;
	int dst = reg_map[insn->dst], src = reg_map[insn->src];
	uint8_t op = ISA_OP(insn->code);
	uint8_t sh;

	switch (op) {
	case ISA_ADD:
	case ISA_SUB:
	case ISA_OR:
	case ISA_AND:
	case ISA_XOR:
		if (x)	/* op dst, src */
			jit_emit_alu_rr(ctx, alu_op(op), is64, dst, src);
		else	/* op dst, imm */
			jit_emit_alu_ri(ctx, alu_op(op), is64, dst, insn->imm);
		break;
	case ISA_MUL:
		if (x)	/* imul dst, src */
			jit_emit_imul_rr(ctx, is64, dst, src);
		else	/* imul dst, dst, imm */
			jit_emit_imul_ri(ctx, is64, dst, insn->imm);
		break;
	case ISA_DIV:
	case ISA_MOD:
		emit_divmod(ctx, insn, is64);
		break;
	case ISA_LSH:
	case ISA_RSH:
	case ISA_ARSH:
		if (x) {
			emit_shift_reg(ctx, shift_op(op), is64, dst, src);
			break;
		}
		sh = (uint8_t)(insn->imm & (is64 ? 63 : 31));
		if (sh)	/* shl/shr/sar dst, imm */
			jit_emit_shift_ri(ctx, shift_op(op), is64, dst, sh);
		else if (!is64)	/* mov dst32, dst32 */
			jit_emit_mov_rr(ctx, false, dst, dst);
		break;
	case ISA_NEG:
		jit_emit_unary(ctx, X86_NEG, is64, dst);	/* neg dst */
		break;
	case ISA_MOV:
		if (!x)		/* mov dst, imm */
			jit_emit_mov_imm32(ctx, is64, dst, insn->imm);
		else if (insn->off)	/* movsx dst, src8/16/32 */
			jit_emit_movsx_rr(ctx, (unsigned)insn->off, is64, dst,
					  src);
		else		/* mov dst, src */
			jit_emit_mov_rr(ctx, is64, dst, src);
		break;
	case ISA_END:
		emit_end(ctx, insn, is64);
		break;
	}
}

/* ---- memory ---- */

static void emit_atomic(struct jit_ctx *ctx, const struct bpfx_insn *insn)
{
	bool is64 = ISA_SIZE(insn->code) == ISA_DW;
	int base = reg_map[insn->dst], src = reg_map[insn->src];
	int32_t off = insn->off;
	int op, srcv;
	size_t retry;

	switch (insn->imm) {
	case ISA_ADD:
	case ISA_OR:
	case ISA_AND:
	case ISA_XOR:	/* lock op [base+off], src */
		jit_emit_lock_alu(ctx, alu_op((uint8_t)insn->imm), is64, base,
				  off, src);
		return;
	case ISA_ADD | ISA_FETCH:	/* lock xadd [base+off], src */
		jit_emit_lock_xadd(ctx, is64, base, off, src);
		return;
	case ISA_XCHG:			/* xchg [base+off], src */
		jit_emit_xchg_mem(ctx, is64, base, off, src);
		return;
	case ISA_CMPXCHG:		/* lock cmpxchg [base+off], src */
		jit_emit_lock_cmpxchg(ctx, is64, base, off, src);
		if (!is64)	/* r0 = (u32)old in both outcomes */
			jit_emit_mov_rr(ctx, false, X86_RAX, X86_RAX);
		return;
	}
	/* fetch-or/and/xor: a cmpxchg loop, which needs rax */
	op = alu_op((uint8_t)(insn->imm & ~ISA_FETCH));
	if (base == X86_RAX) {
		jit_emit_lea(ctx, TMP2, base, off);	/* lea r9, [rax+off] */
		base = TMP2;
		off = 0;
	}
	jit_emit_mov_rr(ctx, true, TMP, X86_RAX);	/* mov r10, rax */
	srcv = src == X86_RAX ? TMP : src;
	jit_emit_load(ctx, is64 ? 8 : 4, false, X86_RAX, base, off);
							/* mov rax, [base+off] */
	retry = ctx->len;				/* .retry: */
	jit_emit_mov_rr(ctx, is64, AUX, X86_RAX);	/* mov r11, rax */
	jit_emit_alu_rr(ctx, op, is64, AUX, srcv);	/* op r11, src */
	jit_emit_lock_cmpxchg(ctx, is64, base, off, AUX);
						/* lock cmpxchg [base+off], r11 */
	jit_emit_jcc_disp(ctx, X86_CC_NE, (int64_t)retry - (int64_t)(ctx->len + 2),
			  false);		/* jne .retry */
	if (src != X86_RAX) {
		jit_emit_mov_rr(ctx, true, src, X86_RAX);	/* mov src, rax */
		jit_emit_mov_rr(ctx, true, X86_RAX, TMP);	/* mov rax, r10 */
	}
}

static void emit_mem(struct jit_ctx *ctx, const struct bpfx_insn *insn)
{
	unsigned size = isa_size_bytes(insn->code);

	switch (ISA_CLASS(insn->code)) {
	case ISA_LDX:	/* mov/movzx/movsx dst, [src+off] */
		jit_emit_load(ctx, size, ISA_MODE(insn->code) == ISA_MEMSX,
			      reg_map[insn->dst], reg_map[insn->src], insn->off);
		break;
	case ISA_ST:	/* mov [dst+off], imm */
		jit_emit_store_imm(ctx, size, reg_map[insn->dst], insn->off,
				   insn->imm);
		break;
	default:
		if (ISA_MODE(insn->code) == ISA_ATOMIC)
			emit_atomic(ctx, insn);
		else	/* mov [dst+off], src */
			jit_emit_store(ctx, size, reg_map[insn->dst], insn->off,
				       reg_map[insn->src]);
		break;
	}
}

/* ---- jumps and calls ---- */

static int jmp_cc(uint8_t op)
{
	switch (op) {
	case ISA_JEQ: return X86_CC_E;
	case ISA_JNE: return X86_CC_NE;
	case ISA_JSET: return X86_CC_NE;
	case ISA_JGT: return X86_CC_A;
	case ISA_JGE: return X86_CC_AE;
	case ISA_JLT: return X86_CC_B;
	case ISA_JLE: return X86_CC_BE;
	case ISA_JSGT: return X86_CC_G;
	case ISA_JSGE: return X86_CC_GE;
	case ISA_JSLT: return X86_CC_L;
	default: return X86_CC_LE; /* JSLE */
	}
}

static void emit_branch(struct jit_ctx *ctx, const struct bpfx_insn *insn,
			uint32_t s, uint32_t i)
{
	bool is64 = ISA_CLASS(insn->code) == ISA_JMP;
	uint8_t op = ISA_OP(insn->code);
	int dst = reg_map[insn->dst];
	uint32_t target = (uint32_t)isa_branch_target(insn, i);

	if (op == ISA_JA) {
		emit_jump_last(ctx, X86_CC_ALWAYS, target, s, i, 1);
		return;
	}
	if (ISA_SRC(insn->code) == ISA_X) {
		if (op == ISA_JSET)	/* test dst, src */
			jit_emit_test_rr(ctx, is64, dst, reg_map[insn->src]);
		else			/* cmp dst, src */
			jit_emit_alu_rr(ctx, X86_CMP, is64, dst,
					reg_map[insn->src]);
	} else if (op == ISA_JSET) {	/* test dst, imm */
		jit_emit_test_ri(ctx, is64, dst, insn->imm);
	} else if (insn->imm == 0) {	/* test dst, dst: same flags as cmp 0 */
		jit_emit_test_rr(ctx, is64, dst, dst);
	} else {			/* cmp dst, imm */
		jit_emit_alu_ri(ctx, X86_CMP, is64, dst, insn->imm);
	}
	emit_jump_last(ctx, jmp_cc(op), target, s, i, 1);	/* jcc target */
}

/* call helper: `call rel32` when it reaches, else `mov rax, imm64; call
 * rax` (rax is r0, which the call overwrites anyway). Tail calls will be
 * dispatched from here once PROG_ARRAY exists. */
static void emit_helper_call(struct jit_ctx *ctx, bpfx_helper_fn fn)
{
	uint64_t target = (uint64_t)(uintptr_t)fn;

	if (!ctx->sizing &&
	    jit_code_reaches(ctx->base, ctx->base + ctx->cap, target)) {
		jit_emit_call_rel32(ctx, target);		/* call helper */
		return;
	}
	jit_emit_mov_imm64(ctx, X86_RAX, target);		/* mov rax, helper */
	jit_emit_call_reg(ctx, X86_RAX);			/* call rax */
}

/*
 * The CPU helper (vm_set_cpu_helper) inline, as the kernel's JIT inlines
 * bpf_get_smp_processor_id with a gs-relative load:
 *
 *	mov eax, fs:[__rseq_offset + cpu_id]	; this thread's rseq area
 *	test eax, eax
 *	jns .done				; registered: the CPU
 *	push rdi, rsi, rdx, rcx, r8, r9		; r1-r5 kept (see vm_internal.h)
 *	call helper
 *	pop r9, r8, rcx, rdx, rsi, rdi
 * .done:
 *
 * Six pushes keep the call site 16-byte aligned. Where glibc did not
 * register rseq at all, a plain call (which the engines' contract still
 * lets keep r1-r5: the x86 registers of r1-r5 are pushed there too).
 */
static void emit_cpu_helper(struct jit_ctx *ctx, bpfx_helper_fn fn)
{
	static const uint8_t keep[] = { X86_RDI, X86_RSI, X86_RDX, X86_RCX,
					X86_R8, X86_R9 };
	size_t jns = 0;
	int k;

#ifdef JIT_HAVE_RSEQ
	int64_t off = (int64_t)__rseq_offset +
		      (int64_t)offsetof(struct rseq, cpu_id);

	if (__rseq_size != 0 && off >= INT32_MIN && off <= INT32_MAX) {
		jit_emit3(ctx, 0x64, 0x8b, 0x04);	/* mov eax, fs:[disp32] */
		jit_emit1(ctx, 0x25);
		jit_emit_u32(ctx, (uint32_t)(int32_t)off);
		jit_emit2(ctx, 0x85, 0xc0);		/* test eax, eax */
		jns = ctx->len;
		jit_emit2(ctx, 0x79, 0);		/* jns .done */
	}
#endif
	for (k = 0; k < 6; k++)
		jit_emit_push(ctx, keep[k]);
	emit_helper_call(ctx, fn);
	for (k = 6; k-- > 0;)
		jit_emit_pop(ctx, keep[k]);
	if (jns && ctx->buf && !ctx->err)
		ctx->buf[jns + 1] = (uint8_t)(ctx->len - (jns + 2));
}

static void emit_call(struct jit_ctx *ctx, const struct bpfx_insn *insn,
		      uint32_t s, uint32_t i)
{
	const struct bpfx_prog *prog = ctx->prog;
	const struct bpfx_vm *vm = prog->vm;
	uint32_t target, k;

	if (insn->src == ISA_CALL_LOCAL) {
		target = i + 1 + (uint32_t)insn->imm;
		for (k = 0; k < prog->nsubprogs; k++)
			if (prog->subprog_start[k] == target)
				break;
		if (k == prog->nsubprogs || k == 0) {
			refuse(ctx, i, "local call target is not a subprogram");
			return;
		}
		/* call rel32 to the callee's prologue */
		jit_emit1(ctx, 0xe8);
		jit_emit_u32(ctx, ctx->sizing ? 0 : (uint32_t)(
			(int64_t)ctx->prev[label_entry(ctx, k)] -
			(int64_t)(ctx->len + 4)));
		return;
	}
	if (insn->src != ISA_CALL_HELPER) {
		refuse(ctx, i, "kfunc calls are not supported");
		return;
	}
	if (insn->imm < 0 || (uint32_t)insn->imm >= vm->nhelpers ||
	    !vm->helper_fns[insn->imm]) {
		refuse(ctx, i, "call to an unregistered helper");
		return;
	}
	if (insn->imm == VM_HELPER_TAIL_CALL) {
		refuse(ctx, i, "tail calls run on the interpreter");
		return;
	}
	if (insn->imm == vm->cpu_helper) {
		emit_cpu_helper(ctx, vm->helper_fns[insn->imm]);
		return;
	}
	emit_helper_call(ctx, vm->helper_fns[insn->imm]);
	if (insn->imm == vm->unwind_helper) {
		jit_emit_test_rr(ctx, true, X86_RAX, X86_RAX);	/* test rax, rax */
		emit_jump_last(ctx, X86_CC_E, label_abort(ctx), s, i, 1);
							/* jz abort */
	}
}

/* callx: helper id in a register, checked at run time. */
static void emit_callx(struct jit_ctx *ctx, const struct bpfx_insn *insn,
		       uint32_t i)
{
	const struct bpfx_vm *vm = ctx->prog->vm;
	size_t jfail, jfail2, jdone, junw = 0, jdone2 = 0;

	jit_emit_mov_rr(ctx, true, TMP2, reg_map[insn->dst]);	/* mov r9, dst */
	jit_emit_mov_imm64(ctx, TMP, (uint64_t)(uintptr_t)vm);	/* mov r10, vm */
	jit_emit_load(ctx, 4, false, AUX, TMP,
		      (int32_t)offsetof(struct bpfx_vm, nhelpers));
						/* mov r11d, [r10+nhelpers] */
	jit_emit_alu_rr(ctx, X86_CMP, true, TMP2, AUX);		/* cmp r9, r11 */
	jfail = jit_emit_jcc_short(ctx, X86_CC_AE);		/* jae .fail */
	jit_emit_load(ctx, 8, false, TMP, TMP,
		      (int32_t)offsetof(struct bpfx_vm, helper_fns));
						/* mov r10, [r10+helper_fns] */
	jit_emit_mov_rr(ctx, true, AUX, TMP2);			/* mov r11, r9 */
	jit_emit_shift_ri(ctx, X86_SHL, true, AUX, 3);		/* shl r11, 3 */
	jit_emit_alu_rr(ctx, X86_ADD, true, AUX, TMP);		/* add r11, r10 */
	jit_emit_load(ctx, 8, false, AUX, AUX, 0);		/* mov r11, [r11] */
	jit_emit_test_rr(ctx, true, AUX, AUX);			/* test r11, r11 */
	jfail2 = jit_emit_jcc_short(ctx, X86_CC_E);		/* jz .fail */
	if (vm->unwind_helper >= 0) {
		jit_emit_alu_ri(ctx, X86_CMP, true, TMP2,
				(int32_t)vm->unwind_helper);	/* cmp r9, unwind */
		junw = jit_emit_jcc_short(ctx, X86_CC_E);	/* je .unwind */
	}
	jit_emit_call_reg(ctx, AUX);				/* call r11 */
	jdone = jit_emit_jcc_short(ctx, X86_CC_ALWAYS);		/* jmp .done */
	if (vm->unwind_helper >= 0) {
		jit_patch_rel8(ctx, junw);			/* .unwind: */
		jit_emit_call_reg(ctx, AUX);			/* call r11 */
		jit_emit_test_rr(ctx, true, X86_RAX, X86_RAX);	/* test rax, rax */
		jdone2 = jit_emit_jcc_short(ctx, X86_CC_NE);	/* jnz .done */
		emit_jump_near(ctx, X86_CC_ALWAYS, label_abort(ctx));
							/* jmp abort */
	}
	jit_patch_rel8(ctx, jfail);				/* .fail: */
	jit_patch_rel8(ctx, jfail2);
	jit_emit_mov_rr(ctx, true, X86_RSI, TMP2);		/* mov rsi, r9 */
	jit_emit_mov_imm32(ctx, false, X86_RDI, (int32_t)i);	/* mov edi, pc */
	emit_jump_near(ctx, X86_CC_ALWAYS, label_callx_fail(ctx));
							/* jmp callx_fail */
	jit_patch_rel8(ctx, jdone);				/* .done: */
	if (vm->unwind_helper >= 0)
		jit_patch_rel8(ctx, jdone2);
}

/* Translate instruction @i of subprogram @s; returns the slots it used. */
static uint32_t emit_insn(struct jit_ctx *ctx, uint32_t s, uint32_t i)
{
	const struct bpfx_insn *insn = &ctx->prog->insns[i];

	switch (ISA_CLASS(insn->code)) {
	case ISA_ALU:
	case ISA_ALU64:
		emit_alu(ctx, insn);
		return 1;
	case ISA_LD:
		if (!isa_is_lddw(insn) || i + 1 >= ctx->prog->len) {
			refuse(ctx, i, "unsupported load");
			return 1;
		}
		/* mov dst, imm64 (pseudo sources run as plain immediates,
		 * as in the interpreter: loaders resolve them before) */
		jit_emit_mov_imm64(ctx, reg_map[insn->dst],
				   (uint32_t)insn[0].imm |
				   (uint64_t)(uint32_t)insn[1].imm << 32);
		return 2;
	case ISA_LDX:
	case ISA_ST:
	case ISA_STX:
		emit_mem(ctx, insn);
		return 1;
	default:
		break;
	}
	/* JMP, JMP32 */
	switch (ISA_OP(insn->code)) {
	case ISA_EXIT:
		emit_jump_last(ctx, X86_CC_ALWAYS, label_epilogue(ctx, s), s,
			       i, 1);				/* jmp epilogue */
		break;
	case ISA_CALL:
		if (isa_is_callx(insn))
			emit_callx(ctx, insn, i);
		else
			emit_call(ctx, insn, s, i);
		break;
	default:
		emit_branch(ctx, insn, s, i);
		break;
	}
	return 1;
}

static void emit_program(struct jit_ctx *ctx)
{
	const struct bpfx_prog *prog = ctx->prog;
	uint32_t s, i;

	ctx->len = 0;
	for (s = 0; s < prog->nsubprogs && !ctx->err; s++) {
		const struct jit_frame *f = &ctx->frames[s];

		set_label(ctx, label_entry(ctx, s));
		emit_prologue(ctx, s);
		for (i = f->start; i < f->end && !ctx->err;) {
			uint32_t slots;

			ctx->insn = i;
			set_label(ctx, i);
			slots = emit_insn(ctx, s, i);
			if (slots == 2)
				ctx->cur[i + 1] = ctx->cur[i];
			i += slots;
		}
		set_label(ctx, label_epilogue(ctx, s));
		emit_epilogue(ctx, s);
	}
	emit_stubs(ctx);
}

/* Does the program need the abort anchor (r12)? */
static bool needs_anchor(const struct bpfx_prog *prog)
{
	uint32_t i;

	for (i = 0; i < prog->len; i++) {
		const struct bpfx_insn *insn = &prog->insns[i];

		if (isa_is_callx(insn))
			return true;
		if (isa_is_helper_call(insn) &&
		    insn->imm == prog->vm->unwind_helper)
			return true;
		if (isa_is_lddw(insn))
			i++;
	}
	return false;
}

static int bmi2_override = -1;

void jit_x86_force_bmi2(int on)
{
	bmi2_override = on;
}

static bool cpu_has_bmi2(void)
{
	if (bmi2_override >= 0)
		return bmi2_override;
	__builtin_cpu_init();
	return __builtin_cpu_supports("bmi2");
}

int jit_compile(struct bpfx_prog *prog)
{
	struct jit_ctx ctx = { .prog = prog };
	uint32_t *labels = NULL;
	void *mem = NULL;
	size_t mapped = 0, last;
	uint64_t hint;
	uint32_t k;
	int err;

	if (!prog || !prog->len || !prog->nsubprogs)
		return -EINVAL;
	if (prog->jit_entry)
		return 0;
	ctx.bmi2 = cpu_has_bmi2();
	ctx.nlabels = prog->len + 2 * prog->nsubprogs + 2;
	labels = calloc(2 * (size_t)ctx.nlabels, sizeof(*labels));
	ctx.frames = calloc(prog->nsubprogs, sizeof(*ctx.frames));
	ctx.jform = malloc(prog->len);
	if (!labels || !ctx.frames || !ctx.jform) {
		err = -ENOMEM;
		goto out;
	}
	ctx.prev = labels;
	ctx.cur = labels + ctx.nlabels;
	shape_frames(&ctx, needs_anchor(prog));

	/* pass 0: size bound */
	ctx.sizing = true;
	emit_program(&ctx);
	if (ctx.err) {
		err = ctx.err;
		goto out;
	}
	hint = (uint64_t)(uintptr_t)jit_compile;
	for (k = 0; k < prog->vm->nhelpers; k++) {
		if (prog->vm->helper_fns[k]) {
			hint = (uint64_t)(uintptr_t)prog->vm->helper_fns[k];
			break;
		}
	}
	mem = jit_code_alloc(ctx.len, hint, &mapped);
	if (!mem) {
		err = -ENOMEM;
		goto out;
	}
	ctx.buf = mem;
	ctx.cap = ctx.len;
	ctx.base = (uint64_t)(uintptr_t)mem;
	ctx.sizing = false;
	last = ctx.len;
	for (ctx.pass = 1;; ctx.pass++) {
		uint32_t *t = ctx.prev;

		ctx.prev = ctx.cur;
		ctx.cur = t;
		ctx.freeze = ctx.pass > JIT_MAX_PASSES;
		emit_program(&ctx);
		if (ctx.err) {
			err = ctx.err;
			goto out;
		}
		if (ctx.len == last || ctx.freeze)
			break;
		last = ctx.len;
	}
	if (ctx.len != last) {	/* a frozen pass cannot move: a bug */
		vm_log(BPFX_WARN, "jit: code size did not converge\n");
		err = -EINVAL;
		goto out;
	}
	err = jit_code_publish(mem, mapped);
	if (err)
		goto out;
	prog->jit_mem = mem;
	prog->jit_mem_size = mapped;
	prog->jit_size = ctx.len;
	prog->jit_entry = (vm_jit_fn)(uintptr_t)mem;
	mem = NULL;
out:
	jit_code_release(mem, mapped);
	free(ctx.jform);
	free(ctx.frames);
	free(labels);
	return err;
}

void jit_free(struct bpfx_prog *prog)
{
	if (!prog || !prog->jit_mem)
		return;
	jit_code_release(prog->jit_mem, prog->jit_mem_size);
	prog->jit_mem = NULL;
	prog->jit_mem_size = 0;
	prog->jit_size = 0;
	prog->jit_entry = NULL;
}
