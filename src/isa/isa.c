/* SPDX-License-Identifier: MIT */
/*
 * isa.c - structural validity of single instructions.
 *
 * One function, isa_check_insn(), decides whether an instruction is a
 * well-formed member of the ISA bpfx runs (RFC 9669 + cpu v4): known opcode,
 * registers in range, every field the opcode does not use equal to zero,
 * r10 never written. The rules follow the RFC's field tables; the reasons
 * are written for a person reading a rejection.
 */
#include <errno.h>

#include "isa/isa.h"

#define FAIL(msg)                                                              \
	do {                                                                   \
		*why = (msg);                                                  \
		return -EINVAL;                                                \
	} while (0)

static const char *const alu_ops[16] = {
	[ISA_ADD >> 4] = "+=",	[ISA_SUB >> 4] = "-=",	[ISA_MUL >> 4] = "*=",
	[ISA_DIV >> 4] = "/=",	[ISA_OR >> 4] = "|=",	[ISA_AND >> 4] = "&=",
	[ISA_LSH >> 4] = "<<=", [ISA_RSH >> 4] = ">>=", [ISA_NEG >> 4] = "neg",
	[ISA_MOD >> 4] = "%=",	[ISA_XOR >> 4] = "^=",	[ISA_MOV >> 4] = "=",
	[ISA_ARSH >> 4] = "s>>=", [ISA_END >> 4] = "end",
};

static const char *const jmp_ops[16] = {
	[ISA_JA >> 4] = "goto",	 [ISA_JEQ >> 4] = "==",	 [ISA_JGT >> 4] = ">",
	[ISA_JGE >> 4] = ">=",	 [ISA_JSET >> 4] = "&",	 [ISA_JNE >> 4] = "!=",
	[ISA_JSGT >> 4] = "s>",	 [ISA_JSGE >> 4] = "s>=", [ISA_CALL >> 4] = "call",
	[ISA_EXIT >> 4] = "exit", [ISA_JLT >> 4] = "<",	 [ISA_JLE >> 4] = "<=",
	[ISA_JSLT >> 4] = "s<",	 [ISA_JSLE >> 4] = "s<=",
};

const char *isa_alu_op_str(uint8_t op)
{
	return alu_ops[op >> 4];
}

const char *isa_jmp_op_str(uint8_t op)
{
	return jmp_ops[op >> 4];
}

static int check_alu(const struct bpfx_insn *i, const char **why)
{
	bool is64 = ISA_CLASS(i->code) == ISA_ALU64;
	bool x = ISA_SRC(i->code) == ISA_X;
	uint8_t op = ISA_OP(i->code);

	if (i->dst == ISA_REG_FP)
		FAIL("frame pointer r10 is read only");
	switch (op) {
	case ISA_ADD: case ISA_SUB: case ISA_MUL: case ISA_OR: case ISA_AND:
	case ISA_LSH: case ISA_RSH: case ISA_XOR: case ISA_ARSH:
		if (i->off)
			FAIL("non-zero offset field in ALU instruction");
		break;
	case ISA_DIV: case ISA_MOD:
		if (i->off != 0 && i->off != 1)
			FAIL("offset of div/mod must be 0 (unsigned) or 1 (signed)");
		break;
	case ISA_NEG:
		if (x)
			FAIL("neg takes no source register form");
		if (i->src || i->off || i->imm)
			FAIL("non-zero unused field in neg");
		return 0;
	case ISA_MOV:
		if (!x) {
			if (i->off)
				FAIL("non-zero offset field in mov");
			break;
		}
		if (i->off != 0 && i->off != 8 && i->off != 16 &&
		    !(is64 && i->off == 32))
			FAIL("movsx width must be 8, 16 or (64-bit only) 32");
		break;
	case ISA_END:
		if (is64 && x)
			FAIL("unknown opcode (64-bit byte swap has no source form)");
		if (i->src || i->off)
			FAIL("non-zero unused field in byte swap");
		if (i->imm != 16 && i->imm != 32 && i->imm != 64)
			FAIL("invalid byte swap width (must be 16, 32 or 64)");
		return 0;
	default:
		FAIL("unknown ALU opcode");
	}
	if (x) {
		if (i->imm)
			FAIL("non-zero immediate in register-source ALU instruction");
		if (i->src >= ISA_NREGS)
			FAIL("invalid source register");
	} else if (i->src) {
		FAIL("non-zero source register field in immediate ALU instruction");
	}
	return 0;
}

static int check_jmp(const struct bpfx_insn *i, const char **why)
{
	bool j32 = ISA_CLASS(i->code) == ISA_JMP32;
	bool x = ISA_SRC(i->code) == ISA_X;
	uint8_t op = ISA_OP(i->code);

	switch (op) {
	case ISA_JA:
		if (x)
			FAIL("unknown opcode (ja has no source register form)");
		if (i->dst || i->src)
			FAIL("non-zero register field in ja");
		if (j32 ? i->off != 0 : i->imm != 0)
			FAIL(j32 ? "non-zero offset field in gotol"
				 : "non-zero immediate in ja");
		return 0;
	case ISA_CALL:
		if (j32)
			FAIL("unknown opcode (call is not a JMP32 operation)");
		if (x) { /* callx: helper id in register dst */
			if (i->src || i->off || i->imm)
				FAIL("non-zero unused field in callx");
			return 0;
		}
		if (i->dst || i->off)
			FAIL("non-zero unused field in call");
		if (i->src > ISA_CALL_KFUNC)
			FAIL("unknown call kind in source register field");
		return 0;
	case ISA_EXIT:
		if (j32 || x)
			FAIL("unknown opcode (exit is JMP class, immediate form only)");
		if (i->dst || i->src || i->off || i->imm)
			FAIL("non-zero unused field in exit");
		return 0;
	case ISA_JEQ: case ISA_JGT: case ISA_JGE: case ISA_JSET: case ISA_JNE:
	case ISA_JSGT: case ISA_JSGE: case ISA_JLT: case ISA_JLE: case ISA_JSLT:
	case ISA_JSLE:
		if (x) {
			if (i->imm)
				FAIL("non-zero immediate in register-source jump");
			if (i->src >= ISA_NREGS)
				FAIL("invalid source register");
		} else if (i->src) {
			FAIL("non-zero source register field in immediate jump");
		}
		return 0;
	default:
		FAIL("unknown jump opcode");
	}
}

static int check_atomic(const struct bpfx_insn *i, const char **why)
{
	uint8_t sz = ISA_SIZE(i->code);

	if (sz != ISA_W && sz != ISA_DW)
		FAIL("atomic operations need size W or DW");
	switch (i->imm) {
	case ISA_ADD: case ISA_OR: case ISA_AND: case ISA_XOR:
		return 0;
	case ISA_ADD | ISA_FETCH: case ISA_OR | ISA_FETCH:
	case ISA_AND | ISA_FETCH: case ISA_XOR | ISA_FETCH: case ISA_XCHG:
		if (i->src == ISA_REG_FP)
			FAIL("frame pointer r10 is read only (atomic fetch writes src)");
		return 0;
	case ISA_CMPXCHG:
		return 0;
	default:
		FAIL("unknown atomic operation in immediate field");
	}
}

static int check_mem(const struct bpfx_insn *i, const char **why)
{
	uint8_t cls = ISA_CLASS(i->code), mode = ISA_MODE(i->code);

	switch (cls) {
	case ISA_LDX:
		if (mode != ISA_MEM && !(mode == ISA_MEMSX &&
					 ISA_SIZE(i->code) != ISA_DW))
			FAIL("unknown load opcode");
		if (i->imm)
			FAIL("non-zero immediate in load");
		if (i->dst == ISA_REG_FP)
			FAIL("frame pointer r10 is read only");
		if (i->src >= ISA_NREGS)
			FAIL("invalid source register");
		return 0;
	case ISA_ST:
		if (mode != ISA_MEM)
			FAIL("unknown store opcode");
		if (i->src)
			FAIL("non-zero source register field in store immediate");
		return 0;
	case ISA_STX:
		if (i->src >= ISA_NREGS)
			FAIL("invalid source register");
		if (mode == ISA_ATOMIC)
			return check_atomic(i, why);
		if (mode != ISA_MEM)
			FAIL("unknown store opcode");
		if (i->imm)
			FAIL("non-zero immediate in register store");
		return 0;
	default: /* ISA_LD */
		if (mode == ISA_ABS || mode == ISA_IND)
			FAIL("legacy packet access (ld_abs/ld_ind) is not supported");
		if (i->code != ISA_LDDW)
			FAIL("unknown load opcode");
		if (i->dst == ISA_REG_FP)
			FAIL("frame pointer r10 is read only");
		if (i->off)
			FAIL("non-zero offset field in lddw");
		if (i->src > ISA_PSEUDO_MAP_IDX_VALUE)
			FAIL("invalid source register for lddw");
		return 0;
	}
}

int isa_check_insn(const struct bpfx_insn *insn, const struct bpfx_insn *next,
		   const char **why)
{
	int err;

	if (insn->dst >= ISA_NREGS)
		FAIL("invalid destination register");
	switch (ISA_CLASS(insn->code)) {
	case ISA_ALU:
	case ISA_ALU64:
		return check_alu(insn, why);
	case ISA_JMP:
	case ISA_JMP32:
		return check_jmp(insn, why);
	default:
		err = check_mem(insn, why);
		if (err || !isa_is_lddw(insn) || !next)
			return err;
		if (next->code || next->dst || next->src || next->off)
			FAIL("invalid lddw second half (only imm may be set)");
		return 0;
	}
}

void isa_reg_use(const struct bpfx_insn *i, uint16_t *use, uint16_t *def)
{
	uint8_t cls = ISA_CLASS(i->code), op = ISA_OP(i->code);
	uint16_t d = (uint16_t)(1u << i->dst), s = (uint16_t)(1u << i->src);

	*use = *def = 0;
	switch (cls) {
	case ISA_ALU:
	case ISA_ALU64:
		*def = d;
		if (op != ISA_MOV)
			*use |= d;
		if (ISA_SRC(i->code) == ISA_X && op != ISA_END && op != ISA_NEG)
			*use |= s;
		return;
	case ISA_JMP:
	case ISA_JMP32:
		if (op == ISA_EXIT) {
			*use = 1;
		} else if (op == ISA_CALL) {
			*use = 0x3e;
			if (ISA_SRC(i->code) == ISA_X)
				*use |= d;
			*def = 0x3f;
		} else if (op != ISA_JA) {
			*use = d;
			if (ISA_SRC(i->code) == ISA_X)
				*use |= s;
		}
		return;
	case ISA_LDX:
		*use = s;
		*def = d;
		return;
	case ISA_ST:
		*use = d;
		return;
	case ISA_STX:
		*use = d | s;
		if (ISA_MODE(i->code) == ISA_ATOMIC) {
			if (i->imm == ISA_CMPXCHG) {
				*use |= 1;
				*def = 1;
			} else if (i->imm & ISA_FETCH) {
				*def = s;
			}
		}
		return;
	default: /* lddw */
		*def = d;
	}
}
