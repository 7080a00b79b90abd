/* SPDX-License-Identifier: MIT */
/*
 * isa.h - eBPF instruction encoding (RFC 9669 + the kernel's cpu v4).
 *
 * Opcode byte:
 *
 *   ALU/ALU64/JMP/JMP32:   7   4 3   2  0        LD/LDX/ST/STX:  7 5 4 3 2  0
 *                         +-----+-+-----+                        +---+---+----+
 *                         | op  |s|class|                        |mod|sz |cls |
 *                         +-----+-+-----+                        +---+---+----+
 *   s = source: 0 = imm (K), 1 = register (X). For END (0xd0) s picks the
 *   byte order (0 = to little, 1 = to big endian) and ALU64|END is bswap.
 *
 * Field use beyond the obvious (everything else must be zero):
 *   - off selects signed division (SDIV/SMOD: off = 1) and the width of
 *     MOVSX (MOV with off = 8/16/32), and is the branch/memory offset;
 *   - JMP32|JA is gotol: the 32-bit offset lives in imm;
 *   - CALL: src 0 = helper id in imm, 1 = bpf-to-bpf (imm = pc offset),
 *     2 = kfunc; CALL|X (callx) takes the helper id from register dst;
 *   - LD|IMM|DW (lddw) spans two slots; src is the pseudo kind (0 = plain
 *     64-bit immediate, 1..6 = map/BTF/func references resolved by loaders);
 *   - STX|ATOMIC: imm selects the operation (ADD/OR/AND/XOR [| FETCH],
 *     XCHG, CMPXCHG), size W or DW only.
 */
#ifndef BPFX_ISA_H
#define BPFX_ISA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfx/vm.h"

/* classes */
#define ISA_LD 0x00
#define ISA_LDX 0x01
#define ISA_ST 0x02
#define ISA_STX 0x03
#define ISA_ALU 0x04
#define ISA_JMP 0x05
#define ISA_JMP32 0x06
#define ISA_ALU64 0x07
#define ISA_CLASS(code) ((code) & 0x07)

/* sizes */
#define ISA_W 0x00
#define ISA_H 0x08
#define ISA_B 0x10
#define ISA_DW 0x18
#define ISA_SIZE(code) ((code) & 0x18)

/* modes */
#define ISA_IMM 0x00
#define ISA_ABS 0x20
#define ISA_IND 0x40
#define ISA_MEM 0x60
#define ISA_MEMSX 0x80
#define ISA_ATOMIC 0xc0
#define ISA_MODE(code) ((code) & 0xe0)

/* source */
#define ISA_K 0x00
#define ISA_X 0x08
#define ISA_SRC(code) ((code) & 0x08)

/* ALU operations */
#define ISA_ADD 0x00
#define ISA_SUB 0x10
#define ISA_MUL 0x20
#define ISA_DIV 0x30
#define ISA_OR 0x40
#define ISA_AND 0x50
#define ISA_LSH 0x60
#define ISA_RSH 0x70
#define ISA_NEG 0x80
#define ISA_MOD 0x90
#define ISA_XOR 0xa0
#define ISA_MOV 0xb0
#define ISA_ARSH 0xc0
#define ISA_END 0xd0
#define ISA_OP(code) ((code) & 0xf0)

/* jump operations */
#define ISA_JA 0x00
#define ISA_JEQ 0x10
#define ISA_JGT 0x20
#define ISA_JGE 0x30
#define ISA_JSET 0x40
#define ISA_JNE 0x50
#define ISA_JSGT 0x60
#define ISA_JSGE 0x70
#define ISA_CALL 0x80
#define ISA_EXIT 0x90
#define ISA_JLT 0xa0
#define ISA_JLE 0xb0
#define ISA_JSLT 0xc0
#define ISA_JSLE 0xd0

/* atomic operations (imm of STX|ATOMIC) */
#define ISA_FETCH 0x01
#define ISA_XCHG (0xe0 | ISA_FETCH)
#define ISA_CMPXCHG (0xf0 | ISA_FETCH)

/* call kinds (src of JMP|CALL) */
#define ISA_CALL_HELPER 0
#define ISA_CALL_LOCAL 1
#define ISA_CALL_KFUNC 2

/* lddw pseudo sources (src of LD|IMM|DW), as linux/bpf.h */
#define ISA_PSEUDO_NONE 0
#define ISA_PSEUDO_MAP_FD 1
#define ISA_PSEUDO_MAP_VALUE 2
#define ISA_PSEUDO_BTF_ID 3
#define ISA_PSEUDO_FUNC 4
#define ISA_PSEUDO_MAP_IDX 5
#define ISA_PSEUDO_MAP_IDX_VALUE 6

#define ISA_LDDW (ISA_LD | ISA_IMM | ISA_DW)
#define ISA_NREGS 11
#define ISA_REG_FP 10

/* Frequently tested opcodes. */
static inline bool isa_is_lddw(const struct bpfx_insn *i)
{
	return i->code == ISA_LDDW;
}

static inline bool isa_is_exit(const struct bpfx_insn *i)
{
	return i->code == (ISA_JMP | ISA_EXIT);
}

static inline bool isa_is_local_call(const struct bpfx_insn *i)
{
	return i->code == (ISA_JMP | ISA_CALL) && i->src == ISA_CALL_LOCAL;
}

static inline bool isa_is_helper_call(const struct bpfx_insn *i)
{
	return i->code == (ISA_JMP | ISA_CALL) && i->src == ISA_CALL_HELPER;
}

static inline bool isa_is_callx(const struct bpfx_insn *i)
{
	return i->code == (ISA_JMP | ISA_CALL | ISA_X);
}

/* gotol: JMP32|JA, offset in imm. */
static inline bool isa_is_gotol(const struct bpfx_insn *i)
{
	return i->code == (ISA_JMP32 | ISA_JA);
}

/* Unconditional jump (ja or gotol). */
static inline bool isa_is_uncond_jump(const struct bpfx_insn *i)
{
	return i->code == (ISA_JMP | ISA_JA) || isa_is_gotol(i);
}

/* Any jump with a pc-relative target (conditional, ja, gotol); not calls. */
static inline bool isa_is_branch(const struct bpfx_insn *i)
{
	uint8_t cls = ISA_CLASS(i->code), op = ISA_OP(i->code);

	if (cls != ISA_JMP && cls != ISA_JMP32)
		return false;
	return op != ISA_CALL && op != ISA_EXIT;
}

/* Target index of a branch at @pc (caller checks isa_is_branch). */
static inline int64_t isa_branch_target(const struct bpfx_insn *i, int64_t pc)
{
	if (isa_is_gotol(i))
		return pc + 1 + (int64_t)i->imm;
	return pc + 1 + (int64_t)i->off;
}

/* Bytes moved by a load/store of size field @sz. */
static inline unsigned isa_size_bytes(uint8_t code)
{
	switch (ISA_SIZE(code)) {
	case ISA_B: return 1;
	case ISA_H: return 2;
	case ISA_W: return 4;
	default: return 8;
	}
}

/*
 * Control flow of the instruction at @pc within a program of @n slots: the
 * indexes execution may continue at (branch target and/or the next
 * instruction; none after exit; calls fall through). Returns how many (0..2);
 * a fall-through past the end is left out.
 */
static inline uint32_t isa_successors(const struct bpfx_insn *insns, uint32_t n,
				      uint32_t pc, uint32_t out[2])
{
	const struct bpfx_insn *i = &insns[pc];
	uint32_t k = 0, next = pc + (isa_is_lddw(i) ? 2 : 1);

	if (isa_is_exit(i))
		return 0;
	if (isa_is_branch(i)) {
		out[k++] = (uint32_t)isa_branch_target(i, pc);
		if (isa_is_uncond_jump(i))
			return k;
	}
	if (next < n)
		out[k++] = next;
	return k;
}

/*
 * Registers (bit n = rn) the instruction reads and writes, as data flow
 * sees them: exit reads r0; a call (helper, local, callx) reads r1-r5 (its
 * possible arguments; callx also its id register) and writes r0-r5 (r0 set,
 * r1-r5 clobbered); atomic fetch writes src, cmpxchg reads and writes r0.
 */
void isa_reg_use(const struct bpfx_insn *i, uint16_t *use, uint16_t *def);

/*
 * Structural validity of one instruction on its own (and of the second slot
 * of lddw, when @next is non-NULL). On failure returns -EINVAL and points
 * *@why at a static sentence (no trailing period); 0 otherwise.
 * Does not look at jump targets or helper ids: those need the whole program.
 */
int isa_check_insn(const struct bpfx_insn *insn, const struct bpfx_insn *next,
		   const char **why);

/* Mnemonic-free name of an ALU op / jump condition, as the kernel prints. */
const char *isa_alu_op_str(uint8_t op);
const char *isa_jmp_op_str(uint8_t op);

#endif /* BPFX_ISA_H */
