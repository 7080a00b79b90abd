/* SPDX-License-Identifier: MIT */
/*
 * disasm.c - one instruction to text, in the kernel/LLVM syntax:
 *
 *   r0 = *(u32 *)(r1 + 4)        *(u64 *)(r10 - 8) = r1      w1 += w2
 *   if r1 > 0x10 goto +3         r1 = 0x1122334455667788 ll  call 5
 *   r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)               exit
 *
 * ALU immediates print in decimal, jump immediates in hex (as the kernel's
 * verifier log does). An instruction that does not decode prints "(bad)"
 * with its raw fields and the call returns -EINVAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "isa/isa.h"

struct out {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
		      o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static const char *size_name(uint8_t code, bool sx)
{
	static const char *const u[] = { "u32", "u16", "u8", "u64" };
	static const char *const s[] = { "s32", "s16", "s8", "s64" };

	return (sx ? s : u)[ISA_SIZE(code) >> 3];
}

/* "(r1 + 4)" / "(r10 - 8)" */
static void put_addr(struct out *o, unsigned reg, int16_t off)
{
	if (off < 0)
		put(o, "r%u - %d", reg, -(int)off);
	else
		put(o, "r%u + %d", reg, (int)off);
}

static void put_alu(struct out *o, const struct bpfx_insn *i)
{
	char r = ISA_CLASS(i->code) == ISA_ALU64 ? 'r' : 'w';
	bool x = ISA_SRC(i->code) == ISA_X;
	uint8_t op = ISA_OP(i->code);

	switch (op) {
	case ISA_NEG:
		put(o, "%c%u = -%c%u", r, i->dst, r, i->dst);
		return;
	case ISA_END:
		if (r == 'r')
			put(o, "r%u = bswap%d r%u", i->dst, i->imm, i->dst);
		else
			put(o, "r%u = %s%d r%u", i->dst, x ? "be" : "le", i->imm,
			    i->dst);
		return;
	case ISA_MOV:
		if (x && i->off)
			put(o, "%c%u = (s%d)%c%u", r, i->dst, i->off, r, i->src);
		else if (x)
			put(o, "%c%u = %c%u", r, i->dst, r, i->src);
		else
			put(o, "%c%u = %d", r, i->dst, i->imm);
		return;
	}
	put(o, "%c%u %s%s ", r, i->dst,
	    (op == ISA_DIV || op == ISA_MOD) && i->off ? "s" : "",
	    isa_alu_op_str(op));
	if (x)
		put(o, "%c%u", r, i->src);
	else
		put(o, "%d", i->imm);
}

static void put_jmp(struct out *o, const struct bpfx_insn *i)
{
	char r = ISA_CLASS(i->code) == ISA_JMP32 ? 'w' : 'r';
	uint8_t op = ISA_OP(i->code);

	if (isa_is_gotol(i)) {
		put(o, "gotol %+d", i->imm);
		return;
	}
	switch (op) {
	case ISA_JA:
		put(o, "goto %+d", i->off);
		return;
	case ISA_EXIT:
		put(o, "exit");
		return;
	case ISA_CALL:
		if (ISA_SRC(i->code) == ISA_X)
			put(o, "callx r%u", i->dst);
		else if (i->src == ISA_CALL_LOCAL)
			put(o, "call pc%+d", i->imm);
		else if (i->src == ISA_CALL_KFUNC)
			put(o, "call kfunc#%d", i->imm);
		else
			put(o, "call %d", i->imm);
		return;
	}
	put(o, "if %c%u %s ", r, i->dst, isa_jmp_op_str(op));
	if (ISA_SRC(i->code) == ISA_X)
		put(o, "%c%u", r, i->src);
	else
		put(o, "0x%x", (uint32_t)i->imm);
	put(o, " goto %+d", i->off);
}

static void put_atomic(struct out *o, const struct bpfx_insn *i)
{
	bool dw = ISA_SIZE(i->code) == ISA_DW;
	char r = dw ? 'r' : 'w';
	const char *sz = dw ? "u64" : "u32";
	static const char *const names[16] = {
		[ISA_ADD >> 4] = "add", [ISA_OR >> 4] = "or",
		[ISA_AND >> 4] = "and", [ISA_XOR >> 4] = "xor",
	};

	switch (i->imm) {
	case ISA_ADD: case ISA_OR: case ISA_AND: case ISA_XOR:
		put(o, "lock *(%s *)(", sz);
		put_addr(o, i->dst, i->off);
		put(o, ") %s %c%u", isa_alu_op_str((uint8_t)i->imm), r, i->src);
		return;
	case ISA_XCHG:
		put(o, "%c%u = xchg%s_%s(", r, i->src, dw ? "" : "32",
		    dw ? "64" : "32");
		put_addr(o, i->dst, i->off);
		put(o, ", %c%u)", r, i->src);
		return;
	case ISA_CMPXCHG:
		put(o, "%c0 = cmpxchg%s_%s(", r, dw ? "" : "32", dw ? "64" : "32");
		put_addr(o, i->dst, i->off);
		put(o, ", %c0, %c%u)", r, r, i->src);
		return;
	default: /* fetch forms */
		put(o, "%c%u = atomic_fetch_%s((%s *)(", r, i->src,
		    names[(i->imm & ~ISA_FETCH) >> 4], sz);
		put_addr(o, i->dst, i->off);
		put(o, "), %c%u)", r, i->src);
	}
}

static void put_lddw(struct out *o, const struct bpfx_insn *i, uint64_t v)
{
	switch (i->src) {
	case ISA_PSEUDO_MAP_FD:
		put(o, "r%u = map[fd:%d] ll", i->dst, i->imm);
		break;
	case ISA_PSEUDO_MAP_IDX:
		put(o, "r%u = map[idx:%d] ll", i->dst, i->imm);
		break;
	case ISA_PSEUDO_MAP_VALUE:
		put(o, "r%u = map[fd:%d][0]+%u ll", i->dst, i->imm, (i + 1)->imm);
		break;
	case ISA_PSEUDO_MAP_IDX_VALUE:
		put(o, "r%u = map[idx:%d][0]+%u ll", i->dst, i->imm, (i + 1)->imm);
		break;
	case ISA_PSEUDO_BTF_ID:
		put(o, "r%u = btf_id(%d) ll", i->dst, i->imm);
		break;
	case ISA_PSEUDO_FUNC:
		put(o, "r%u = func(pc%+d) ll", i->dst, i->imm);
		break;
	default:
		put(o, "r%u = 0x%" PRIx64 " ll", i->dst, v);
	}
}

int bpfx_insn_disasm(const struct bpfx_insn *insn, size_t left, char *buf,
		     size_t size)
{
	struct out o = { .buf = buf, .size = size };
	const char *why;
	int slots = 1;

	if (size)
		buf[0] = '\0';
	if (!left || isa_check_insn(insn, left > 1 ? insn + 1 : NULL, &why) ||
	    (isa_is_lddw(insn) && left < 2))
		goto bad;
	switch (ISA_CLASS(insn->code)) {
	case ISA_ALU:
	case ISA_ALU64:
		put_alu(&o, insn);
		break;
	case ISA_JMP:
	case ISA_JMP32:
		put_jmp(&o, insn);
		break;
	case ISA_LDX:
		put(&o, "r%u = *(%s *)(", insn->dst,
		    size_name(insn->code, ISA_MODE(insn->code) == ISA_MEMSX));
		put_addr(&o, insn->src, insn->off);
		put(&o, ")");
		break;
	case ISA_ST:
	case ISA_STX:
		if (ISA_MODE(insn->code) == ISA_ATOMIC) {
			put_atomic(&o, insn);
			break;
		}
		put(&o, "*(%s *)(", size_name(insn->code, false));
		put_addr(&o, insn->dst, insn->off);
		if (ISA_CLASS(insn->code) == ISA_STX)
			put(&o, ") = r%u", insn->src);
		else
			put(&o, ") = %d", insn->imm);
		break;
	default: /* lddw */
		put_lddw(&o, insn, (uint32_t)insn[0].imm |
					   ((uint64_t)(uint32_t)insn[1].imm << 32));
		slots = 2;
	}
	return slots;
bad:
	if (left)
		put(&o, "(bad) code=0x%02x dst=%u src=%u off=%d imm=%d",
		    insn->code, insn->dst, insn->src, insn->off, insn->imm);
	else
		put(&o, "(bad) truncated");
	return -EINVAL;
}
