/* SPDX-License-Identifier: MIT */
/*
 * interp.c - the interpreter: one body (interp_body.h) built three ways:
 *   vm_interp_run          computed goto, unchecked (the fast path)
 *   vm_interp_run_switch   switch dispatch, unchecked (for comparison)
 *   vm_interp_run_checked  computed goto, every memory access checked
 *
 * Semantics pinned down here (RFC 9669 + the conformance suites):
 * division by zero gives 0; modulo by zero leaves dst unchanged (32-bit
 * forms zero-extend it); INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0; shift
 * counts are masked to 63 / 31; immediates sign-extend to 64 bits; every
 * 32-bit ALU result is zero-extended. Memory is accessed unaligned-safe.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "isa/isa.h"
#include "vm/vm_internal.h"

typedef uint8_t u8_una;
typedef uint16_t __attribute__((aligned(1), may_alias)) u16_una;
typedef uint32_t __attribute__((aligned(1), may_alias)) u32_una;
typedef uint64_t __attribute__((aligned(1), may_alias)) u64_una;

struct interp_frame {
	const struct bpfx_insn *ret;
	uint64_t saved[4]; /* r6-r9 */
};

#define SHL64(a, b) ((a) << (b))
#define SHR64(a, b) ((a) >> (b))
#define SAR64(a, b) ((uint64_t)((int64_t)(a) >> (b)))
#define SHL32(a, b) ((uint32_t)((a) << (b)))
#define SHR32(a, b) ((uint32_t)((a) >> (b)))
#define SAR32(a, b) ((uint32_t)((int32_t)(a) >> (b)))

static inline uint64_t udiv64(uint64_t a, uint64_t b)
{
	return b ? a / b : 0;
}

static inline uint64_t umod64(uint64_t a, uint64_t b)
{
	return b ? a % b : a;
}

static inline uint64_t sdiv64(uint64_t a, uint64_t b)
{
	if (!b)
		return 0;
	if ((int64_t)b == -1)
		return 0 - a; /* INT64_MIN / -1 wraps to INT64_MIN */
	return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint64_t smod64(uint64_t a, uint64_t b)
{
	if (!b)
		return a;
	if ((int64_t)b == -1)
		return 0;
	return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint64_t udiv32(uint32_t a, uint32_t b)
{
	return b ? a / b : 0;
}

static inline uint64_t umod32(uint32_t a, uint32_t b)
{
	return b ? a % b : a;
}

static inline uint64_t sdiv32(uint32_t a, uint32_t b)
{
	if (!b)
		return 0;
	if ((int32_t)b == -1)
		return (uint32_t)(0 - a);
	return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint64_t smod32(uint32_t a, uint32_t b)
{
	if (!b)
		return a;
	if ((int32_t)b == -1)
		return 0;
	return (uint32_t)((int32_t)a % (int32_t)b);
}

static inline uint64_t movsx64(uint64_t v, int16_t bits)
{
	switch (bits) {
	case 8: return (uint64_t)(int64_t)(int8_t)v;
	case 16: return (uint64_t)(int64_t)(int16_t)v;
	default: return (uint64_t)(int64_t)(int32_t)v;
	}
}

static inline uint64_t to_le(uint64_t v, int32_t bits)
{
	switch (bits) {
	case 16: return (uint16_t)v;
	case 32: return (uint32_t)v;
	default: return v;
	}
}

static inline uint64_t bswap(uint64_t v, int32_t bits)
{
	switch (bits) {
	case 16: return __builtin_bswap16((uint16_t)v);
	case 32: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}

#define ATOMIC_BODY(T, p, reg, i)                                              \
	do {                                                                   \
		T v_ = (T)reg[(i)->src], old_;                                 \
		switch ((i)->imm) {                                            \
		case ISA_ADD: __atomic_fetch_add(p, v_, __ATOMIC_SEQ_CST); break; \
		case ISA_OR: __atomic_fetch_or(p, v_, __ATOMIC_SEQ_CST); break;   \
		case ISA_AND: __atomic_fetch_and(p, v_, __ATOMIC_SEQ_CST); break; \
		case ISA_XOR: __atomic_fetch_xor(p, v_, __ATOMIC_SEQ_CST); break; \
		case ISA_ADD | ISA_FETCH:                                      \
			reg[(i)->src] = __atomic_fetch_add(p, v_, __ATOMIC_SEQ_CST); \
			break;                                                 \
		case ISA_OR | ISA_FETCH:                                       \
			reg[(i)->src] = __atomic_fetch_or(p, v_, __ATOMIC_SEQ_CST); \
			break;                                                 \
		case ISA_AND | ISA_FETCH:                                      \
			reg[(i)->src] = __atomic_fetch_and(p, v_, __ATOMIC_SEQ_CST); \
			break;                                                 \
		case ISA_XOR | ISA_FETCH:                                      \
			reg[(i)->src] = __atomic_fetch_xor(p, v_, __ATOMIC_SEQ_CST); \
			break;                                                 \
		case ISA_XCHG:                                                 \
			reg[(i)->src] = __atomic_exchange_n(p, v_, __ATOMIC_SEQ_CST); \
			break;                                                 \
		default: /* ISA_CMPXCHG: r0 = old value, store if equal */     \
			old_ = (T)reg[0];                                      \
			__atomic_compare_exchange_n(p, &old_, v_, false,       \
						    __ATOMIC_SEQ_CST,          \
						    __ATOMIC_SEQ_CST);         \
			reg[0] = old_;                                         \
		}                                                              \
	} while (0)

/* 32-bit fetch results are zero-extended into the register. */
static inline void atomic32(const struct bpfx_insn *i, uint32_t *p,
			    uint64_t *reg)
{
	ATOMIC_BODY(uint32_t, p, reg, i);
}

static inline void atomic64(const struct bpfx_insn *i, uint64_t *p,
			    uint64_t *reg)
{
	ATOMIC_BODY(uint64_t, p, reg, i);
}

/* Checked engine: is [a, a+n) inside the input memory or a live frame?
 * Live frames span [r10 - 512, r10 + depth * 512). */
static inline bool interp_mem_ok(uint64_t a, uint64_t n, const void *ctx,
				 uint64_t len, uint64_t r10, uint32_t depth)
{
	uint64_t lo, hi;

	lo = r10 - BPFX_STACK_SIZE;
	hi = r10 + (uint64_t)depth * BPFX_STACK_SIZE;
	if (a >= lo && a <= hi - n)
		return true;
	lo = (uintptr_t)ctx;
	if (ctx && len >= n && a >= lo && a - lo <= len - n)
		return true;
	for (uint32_t k = 0; k < vm_run.nregions; k++) {
		const struct vm_region *r = &vm_run.regions[k];

		if (r->len >= n && a >= r->addr && a - r->addr <= r->len - n)
			return true;
	}
	return false;
}

static int interp_fault(const struct bpfx_prog *prog,
			const struct bpfx_insn *pc, uint64_t addr, uint64_t n,
			const char *what)
{
	snprintf(vm_fault_msg, sizeof(vm_fault_msg),
		 "%s of %" PRIu64 " bytes at 0x%" PRIx64
		 " outside the input memory and the stack, at insn %td",
		 what, n, addr, pc - prog->insns);
	return -EFAULT;
}

static int interp_timeout(const struct bpfx_prog *prog,
			  const struct bpfx_insn *pc)
{
	snprintf(vm_fault_msg, sizeof(vm_fault_msg),
		 "jump budget of %" PRIu64 " exhausted at insn %td", vm_run.budget,
		 pc - prog->insns);
	return -ELOOP;
}

static int interp_bad_callx(const struct bpfx_prog *prog,
			    const struct bpfx_insn *pc, uint64_t id)
{
	snprintf(vm_fault_msg, sizeof(vm_fault_msg),
		 "callx to unknown helper %" PRIu64 " at insn %td", id,
		 pc - prog->insns);
	return -EINVAL;
}

static int interp_bad_opcode(const struct bpfx_prog *prog,
			     const struct bpfx_insn *pc)
{
	snprintf(vm_fault_msg, sizeof(vm_fault_msg),
		 "unknown opcode 0x%02x at insn %td", pc->code,
		 pc - prog->insns);
	return -EINVAL;
}

/* opcode list: X(name, code) */
#define INTERP_ALU_OPS(X, W, CLS)                                              \
	X(ADD##W##_K, CLS | ISA_ADD | ISA_K) X(ADD##W##_X, CLS | ISA_ADD | ISA_X) \
	X(SUB##W##_K, CLS | ISA_SUB | ISA_K) X(SUB##W##_X, CLS | ISA_SUB | ISA_X) \
	X(MUL##W##_K, CLS | ISA_MUL | ISA_K) X(MUL##W##_X, CLS | ISA_MUL | ISA_X) \
	X(DIV##W##_K, CLS | ISA_DIV | ISA_K) X(DIV##W##_X, CLS | ISA_DIV | ISA_X) \
	X(OR##W##_K, CLS | ISA_OR | ISA_K) X(OR##W##_X, CLS | ISA_OR | ISA_X)     \
	X(AND##W##_K, CLS | ISA_AND | ISA_K) X(AND##W##_X, CLS | ISA_AND | ISA_X) \
	X(LSH##W##_K, CLS | ISA_LSH | ISA_K) X(LSH##W##_X, CLS | ISA_LSH | ISA_X) \
	X(RSH##W##_K, CLS | ISA_RSH | ISA_K) X(RSH##W##_X, CLS | ISA_RSH | ISA_X) \
	X(NEG##W, CLS | ISA_NEG | ISA_K)                                       \
	X(MOD##W##_K, CLS | ISA_MOD | ISA_K) X(MOD##W##_X, CLS | ISA_MOD | ISA_X) \
	X(XOR##W##_K, CLS | ISA_XOR | ISA_K) X(XOR##W##_X, CLS | ISA_XOR | ISA_X) \
	X(MOV##W##_K, CLS | ISA_MOV | ISA_K) X(MOV##W##_X, CLS | ISA_MOV | ISA_X) \
	X(ARSH##W##_K, CLS | ISA_ARSH | ISA_K)                                 \
	X(ARSH##W##_X, CLS | ISA_ARSH | ISA_X)

#define INTERP_JMP_OPS(X, W, CLS)                                              \
	X(JEQ##W##_K, CLS | ISA_JEQ | ISA_K) X(JEQ##W##_X, CLS | ISA_JEQ | ISA_X) \
	X(JGT##W##_K, CLS | ISA_JGT | ISA_K) X(JGT##W##_X, CLS | ISA_JGT | ISA_X) \
	X(JGE##W##_K, CLS | ISA_JGE | ISA_K) X(JGE##W##_X, CLS | ISA_JGE | ISA_X) \
	X(JSET##W##_K, CLS | ISA_JSET | ISA_K)                                 \
	X(JSET##W##_X, CLS | ISA_JSET | ISA_X)                                 \
	X(JNE##W##_K, CLS | ISA_JNE | ISA_K) X(JNE##W##_X, CLS | ISA_JNE | ISA_X) \
	X(JSGT##W##_K, CLS | ISA_JSGT | ISA_K)                                 \
	X(JSGT##W##_X, CLS | ISA_JSGT | ISA_X)                                 \
	X(JSGE##W##_K, CLS | ISA_JSGE | ISA_K)                                 \
	X(JSGE##W##_X, CLS | ISA_JSGE | ISA_X)                                 \
	X(JLT##W##_K, CLS | ISA_JLT | ISA_K) X(JLT##W##_X, CLS | ISA_JLT | ISA_X) \
	X(JLE##W##_K, CLS | ISA_JLE | ISA_K) X(JLE##W##_X, CLS | ISA_JLE | ISA_X) \
	X(JSLT##W##_K, CLS | ISA_JSLT | ISA_K)                                 \
	X(JSLT##W##_X, CLS | ISA_JSLT | ISA_X)                                 \
	X(JSLE##W##_K, CLS | ISA_JSLE | ISA_K)                                 \
	X(JSLE##W##_X, CLS | ISA_JSLE | ISA_X)

#define INTERP_OPS(X)                                                          \
	INTERP_ALU_OPS(X, 64, ISA_ALU64)                                       \
	INTERP_ALU_OPS(X, 32, ISA_ALU)                                         \
	X(LE, ISA_ALU | ISA_END | ISA_K) X(BE, ISA_ALU | ISA_END | ISA_X)     \
	X(BSWAP, ISA_ALU64 | ISA_END | ISA_K)                                  \
	INTERP_JMP_OPS(X, 64, ISA_JMP)                                         \
	INTERP_JMP_OPS(X, 32, ISA_JMP32)                                       \
	X(JA, ISA_JMP | ISA_JA) X(GOTOL, ISA_JMP32 | ISA_JA)                   \
	X(CALL, ISA_JMP | ISA_CALL) X(CALLX, ISA_JMP | ISA_CALL | ISA_X)       \
	X(EXIT, ISA_JMP | ISA_EXIT)                                            \
	X(LDXB, ISA_LDX | ISA_MEM | ISA_B) X(LDXH, ISA_LDX | ISA_MEM | ISA_H)  \
	X(LDXW, ISA_LDX | ISA_MEM | ISA_W) X(LDXDW, ISA_LDX | ISA_MEM | ISA_DW) \
	X(LDXSB, ISA_LDX | ISA_MEMSX | ISA_B)                                  \
	X(LDXSH, ISA_LDX | ISA_MEMSX | ISA_H)                                  \
	X(LDXSW, ISA_LDX | ISA_MEMSX | ISA_W)                                  \
	X(STB, ISA_ST | ISA_MEM | ISA_B) X(STH, ISA_ST | ISA_MEM | ISA_H)      \
	X(STW, ISA_ST | ISA_MEM | ISA_W) X(STDW, ISA_ST | ISA_MEM | ISA_DW)    \
	X(STXB, ISA_STX | ISA_MEM | ISA_B) X(STXH, ISA_STX | ISA_MEM | ISA_H)  \
	X(STXW, ISA_STX | ISA_MEM | ISA_W) X(STXDW, ISA_STX | ISA_MEM | ISA_DW) \
	X(ATOMIC32, ISA_STX | ISA_ATOMIC | ISA_W)                              \
	X(ATOMIC64, ISA_STX | ISA_ATOMIC | ISA_DW)                             \
	X(LDDW, ISA_LDDW)


#define X(name, code) OPC_##name = (code),
enum { INTERP_OPS(X) };
#undef X

#define INTERP_NAME interp_goto
#define INTERP_GOTO 1
#define INTERP_CHECKED 0
#include "vm/interp_body.h"
#undef INTERP_NAME
#undef INTERP_GOTO
#undef INTERP_CHECKED

#define INTERP_NAME interp_switch
#define INTERP_GOTO 0
#define INTERP_CHECKED 0
#include "vm/interp_body.h"
#undef INTERP_NAME
#undef INTERP_GOTO
#undef INTERP_CHECKED

#define INTERP_NAME interp_checked
#define INTERP_GOTO 1
#define INTERP_CHECKED 1
#include "vm/interp_body.h"
#undef INTERP_NAME
#undef INTERP_GOTO
#undef INTERP_CHECKED

int vm_interp_run(const struct bpfx_prog *prog, void *ctx, uint64_t len,
		  uint64_t *ret)
{
	return interp_goto(prog, 0, NULL, ctx, len, ret);
}

int vm_interp_run_switch(const struct bpfx_prog *prog, void *ctx,
			 uint64_t len, uint64_t *ret)
{
	return interp_switch(prog, 0, NULL, ctx, len, ret);
}

int vm_interp_run_checked(const struct bpfx_prog *prog, void *ctx,
			  uint64_t len, uint64_t *ret)
{
	int err;

	vm_run.checked_ctx = ctx;
	vm_run.checked_len = len;
	vm_run.in_checked = 1;
	err = interp_checked(prog, 0, NULL, ctx, len, ret);
	vm_run.in_checked = 0;
	return err;
}

void vm_run_set_regions(const struct vm_region *r, uint32_t n)
{
	vm_run.regions = n ? r : NULL;
	vm_run.nregions = r ? n : 0;
}

uint64_t vm_callback_call(uint64_t cb, uint64_t r1, uint64_t r2, uint64_t r3,
			  uint64_t r4, uint64_t r5)
{
	const struct vm_callback *c = (const struct vm_callback *)(uintptr_t)cb;
	const uint64_t args[5] = { r1, r2, r3, r4, r5 };
	uint64_t r0 = 0;
	int err;

	if (vm_run.in_checked)
		err = interp_checked(c->prog, c->pc, args, vm_run.checked_ctx,
				     vm_run.checked_len, &r0);
	else
		err = interp_goto(c->prog, c->pc, args, NULL, 0, &r0);
	if (err && !vm_run.err)
		vm_run.err = err;
	return err ? 1 : r0; /* a failed callback stops the iteration */
}

void bpfx_run_set_budget(uint64_t jumps)
{
	vm_run.budget = jumps;
}

const char *bpfx_run_fault(void)
{
	return vm_fault_msg;
}
