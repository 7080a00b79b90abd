/* SPDX-License-Identifier: MIT */
/* insn.h - instruction builders for tests, in the kernel's macro style. */
#ifndef BPFX_TEST_INSN_H
#define BPFX_TEST_INSN_H

#include "isa/isa.h"

#define INSN(c, d, s, o, i)                                                    \
	((struct bpfx_insn){ .code = (c), .dst = (d), .src = (s), .off = (o), .imm = (i) })
#define ALU64_IMM(op, d, i) INSN(ISA_ALU64 | (op) | ISA_K, d, 0, 0, i)
#define ALU64_REG(op, d, s) INSN(ISA_ALU64 | (op) | ISA_X, d, s, 0, 0)
#define ALU32_IMM(op, d, i) INSN(ISA_ALU | (op) | ISA_K, d, 0, 0, i)
#define ALU32_REG(op, d, s) INSN(ISA_ALU | (op) | ISA_X, d, s, 0, 0)
#define SDIV64_REG(d, s) INSN(ISA_ALU64 | ISA_DIV | ISA_X, d, s, 1, 0)
#define SMOD64_REG(d, s) INSN(ISA_ALU64 | ISA_MOD | ISA_X, d, s, 1, 0)
#define SDIV32_REG(d, s) INSN(ISA_ALU | ISA_DIV | ISA_X, d, s, 1, 0)
#define SMOD32_REG(d, s) INSN(ISA_ALU | ISA_MOD | ISA_X, d, s, 1, 0)
#define MOV64_IMM(d, i) ALU64_IMM(ISA_MOV, d, i)
#define MOV64_REG(d, s) ALU64_REG(ISA_MOV, d, s)
#define MOV32_IMM(d, i) ALU32_IMM(ISA_MOV, d, i)
#define LDDW(d, v)                                                             \
	INSN(ISA_LDDW, d, 0, 0, (int32_t)(uint32_t)(v)),                       \
		INSN(0, 0, 0, 0, (int32_t)(uint32_t)((uint64_t)(v) >> 32))
#define LDX(sz, d, s, o) INSN(ISA_LDX | ISA_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) INSN(ISA_STX | ISA_MEM | (sz), d, s, o, 0)
#define ST(sz, d, o, i) INSN(ISA_ST | ISA_MEM | (sz), d, 0, o, i)
#define ATOMIC(sz, op, d, s, o) INSN(ISA_STX | ISA_ATOMIC | (sz), d, s, o, op)
#define JMP_IMM(op, d, i, o) INSN(ISA_JMP | (op) | ISA_K, d, 0, o, i)
#define JMP_REG(op, d, s, o) INSN(ISA_JMP | (op) | ISA_X, d, s, o, 0)
#define JA(o) INSN(ISA_JMP | ISA_JA, 0, 0, o, 0)
#define CALL(id) INSN(ISA_JMP | ISA_CALL, 0, 0, 0, id)
#define CALL_LOCAL(rel) INSN(ISA_JMP | ISA_CALL, 0, ISA_CALL_LOCAL, 0, rel)
#define EXIT() INSN(ISA_JMP | ISA_EXIT, 0, 0, 0, 0)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
