/* SPDX-License-Identifier: MIT */
/*
 * precision.c - which scalar values matter, computed once before the walk.
 *
 * Pruning compares scalars by their bounds; comparing every scalar makes
 * two paths that merely computed different data (a counter, a value to be
 * stored) look different forever, and programs with sequences of
 * diamonds explode. The kernel avoids this with precision tracking by
 * backtracking along the path. bpfx uses a static over-approximation:
 * a scalar's bounds matter ("precise") at an instruction when its value may
 * flow, through ALU operations, register moves and fp-relative spills and
 * fills, into a sensitive use:
 *   - an operand of a conditional jump (branch decisions, refinement);
 *   - the offset added to or subtracted from a register that may be a
 *     pointer (maybe_ptr, a forward analysis over the CFG);
 *   - a size argument of a helper (ARG_CONST_SIZE*, ALLOC_SIZE);
 *   - r0 at the exit of a subprogram or callback (callers and the [0, 1]
 *     callback rule read it);
 *   - anything passed to a bpf-to-bpf call, or a stack reached by a callee
 *     or callback (all slots, conservatively).
 * A scalar that is not precise is compared by type only. Soundness: the
 * old path's verification did not depend on the value of an imprecise
 * scalar, because no instruction that reads it can reject, decide a branch
 * or shape a pointer -- every such reader is a sensitive use above, and the
 * sets are closed under the data flow backwards.
 */
#include <errno.h>
#include <stdlib.h>

#include "verifier/verifier_internal.h"

#define ALL_SLOTS UINT64_MAX

static bool in_main(const struct env *e, uint32_t pc)
{
	return e->nsubs < 2 || pc < e->subs[1].start;
}

static int fp_slot(int16_t off)
{
	if (off >= 0 || off < -MAX_BPF_STACK)
		return -1;
	return (-off - 1) / 8;
}

static uint32_t nsucc(const struct env *e, uint32_t pc, uint32_t out[2])
{
	return isa_successors(e->insns, e->n, pc, out);
}

/* Stack-pointer mask transfer (only stack slots can hold pointers that a
 * load brings back). */
static uint16_t fp_step(const struct bpfx_insn *i, uint16_t f)
{
	uint16_t d = (uint16_t)(1u << i->dst), s = (uint16_t)(1u << i->src);
	uint8_t cls = ISA_CLASS(i->code), op = ISA_OP(i->code);
	bool x = ISA_SRC(i->code) == ISA_X;

	switch (cls) {
	case ISA_ALU64:
		if (op == ISA_MOV && x && !i->off)
			return (f & s) ? (f | d) : (f & (uint16_t)~d);
		if ((op == ISA_ADD || op == ISA_SUB) && (!x || (f & (d | s))))
			return (f & d) || (x && (f & s)) ? (f | d) : f;
		return f & (uint16_t)~d;
	case ISA_LDX:
		if (ISA_SIZE(i->code) == ISA_DW && ISA_MODE(i->code) == ISA_MEM &&
		    (f & s))
			return f | d;
		return f & (uint16_t)~d;
	case ISA_ALU:
	case ISA_LD:
		return f & (uint16_t)~d;
	case ISA_STX:
		if (ISA_MODE(i->code) == ISA_ATOMIC)
			return f & (uint16_t)~(s | 1);
		return f;
	case ISA_JMP:
		if (ISA_OP(i->code) == ISA_CALL)
			return (uint16_t)((f & ~0x3f) |
					  (isa_is_local_call(i) ? 1 : 0));
		return f;
	}
	return f;
}

/* Forward: registers that may hold a pointer (maybe_ptr) or a stack
 * pointer (fp, kept in a local array) before each insn. */
static void maybe_ptr(struct env *e)
{
	uint8_t *seen = calloc(e->n, 1);
	uint16_t *fp = calloc(e->n, sizeof(uint16_t));
	bool changed = true;
	uint32_t pc, k;

	if (!seen || !fp) {
		free(seen);
		free(fp);
		for (pc = 0; pc < e->n; pc++)
			e->aux[pc].maybe_ptr = e->aux[pc].maybe_fp = 0x7ff;
		return;
	}
	for (k = 0; k < e->nsubs; k++) {
		pc = e->subs[k].start;
		e->aux[pc].maybe_ptr = k ? 0x43e : 0x402;
		fp[pc] = k ? 0x43e : 0x400;
		seen[pc] = 1;
	}
	while (changed) {
		changed = false;
		for (pc = 0; pc < e->n; pc++) {
			const struct bpfx_insn *i = &e->insns[pc];
			uint16_t m = e->aux[pc].maybe_ptr, d = (uint16_t)(1u << i->dst);
			uint16_t s = (uint16_t)(1u << i->src);
			uint8_t cls = ISA_CLASS(i->code), op = ISA_OP(i->code);
			uint32_t succ[2], n;

			if (!seen[pc])
				continue;
			switch (cls) {
			case ISA_ALU64:
				if (op == ISA_MOV && ISA_SRC(i->code) == ISA_X && !i->off)
					m = (m & s) ? (m | d) : (m & ~d);
				else if ((op == ISA_ADD || op == ISA_SUB) &&
					 ISA_SRC(i->code) == ISA_X && (m & (d | s)))
					m |= d;
				else if (!((op == ISA_ADD || op == ISA_SUB) &&
					   ISA_SRC(i->code) == ISA_K))
					m &= (uint16_t)~d;
				break;
			case ISA_ALU:
				m &= (uint16_t)~d;
				break;
			case ISA_LDX:
				if (ISA_SIZE(i->code) == ISA_DW &&
				    ISA_MODE(i->code) == ISA_MEM && (fp[pc] & s))
					m |= d;
				else
					m &= (uint16_t)~d;
				break;
			case ISA_LD:
				if (i->src)
					m |= d;
				else
					m &= (uint16_t)~d;
				break;
			case ISA_STX:
				if (ISA_MODE(i->code) == ISA_ATOMIC) {
					if (i->imm == ISA_CMPXCHG)
						m &= (uint16_t)~1u;
					else if (i->imm & ISA_FETCH)
						m &= (uint16_t)~s;
				}
				break;
			case ISA_JMP:
				if (op == ISA_CALL)
					m = (uint16_t)((m & ~0x3f) | 1);
				break;
			}
			n = nsucc(e, pc, succ);
			for (k = 0; k < n; k++) {
				uint32_t t = succ[k];
				uint16_t f = fp_step(i, fp[pc]);
				uint16_t nm = seen[t] ? (e->aux[t].maybe_ptr | m) : m;
				uint16_t nf = seen[t] ? (fp[t] | f) : f;

				if (!seen[t] || nm != e->aux[t].maybe_ptr ||
				    nf != fp[t]) {
					e->aux[t].maybe_ptr = nm;
					fp[t] = nf;
					seen[t] = 1;
					changed = true;
				}
			}
		}
	}
	for (pc = 0; pc < e->n; pc++)
		e->aux[pc].maybe_fp = fp[pc];
	free(seen);
	free(fp);
}

static void transfer(struct env *e, uint32_t pc, uint16_t *R, uint64_t *S)
{
	const struct bpfx_insn *i = &e->insns[pc];
	uint8_t cls = ISA_CLASS(i->code), op = ISA_OP(i->code);
	uint16_t d = (uint16_t)(1u << i->dst), s = (uint16_t)(1u << i->src);
	uint16_t mp = e->aux[pc].maybe_ptr;
	bool x = ISA_SRC(i->code) == ISA_X;
	const struct helper_def *h;
	int slot, k;

	switch (cls) {
	case ISA_ALU:
	case ISA_ALU64:
		if (op == ISA_MOV) {
			if (*R & d) {
				*R &= (uint16_t)~d;
				if (x)
					*R |= s;
			}
		} else if (x && op != ISA_END && op != ISA_NEG) {
			if (*R & d)
				*R |= s;
			if (cls == ISA_ALU64 && (op == ISA_ADD || op == ISA_SUB)) {
				if (mp & d)
					*R |= s;
				if (mp & s)
					*R |= d;
			}
		}
		return;
	case ISA_LD:
		*R &= (uint16_t)~d;
		return;
	case ISA_LDX:
		if (!(*R & d))
			return;
		*R &= (uint16_t)~d;
		slot = i->src == ISA_REG_FP ? fp_slot(i->off) : -1;
		if (slot >= 0)
			*S |= 1ull << slot;
		else if (i->src != ISA_REG_FP && (e->aux[pc].maybe_fp & s))
			*S = ALL_SLOTS;
		return;
	case ISA_ST:
		return;
	case ISA_STX:
		if (ISA_MODE(i->code) == ISA_ATOMIC) {
			*R |= s;
			if (i->imm == ISA_CMPXCHG)
				*R |= 1;
			return;
		}
		slot = i->dst == ISA_REG_FP ? fp_slot(i->off) : -1;
		if ((slot >= 0 && (*S & (1ull << slot))) ||
		    (i->dst != ISA_REG_FP && *S && (e->aux[pc].maybe_fp & d)))
			*R |= s;
		return;
	case ISA_JMP:
	case ISA_JMP32:
		if (op == ISA_EXIT) {
			*R = in_main(e, pc) ? 0 : 1;
			*S = 0;
			return;
		}
		if (op == ISA_CALL) {
			*R &= (uint16_t)~0x3f;
			if (isa_is_local_call(i) || isa_is_callx(i)) {
				*R |= 0x3e;
				*S = ALL_SLOTS;
				return;
			}
			h = i->imm >= 0 && e->lookup ?
				    e->lookup((uint32_t)i->imm, e->lookup_arg) :
				    NULL;
			if (!h)
				return;
			for (k = 0; k < 5; k++)
				if (h->args[k] == ARG_CONST_SIZE ||
				    h->args[k] == ARG_CONST_SIZE_OR_ZERO ||
				    h->args[k] == ARG_CONST_ALLOC_SIZE_OR_ZERO)
					*R |= (uint16_t)(1u << (k + 1));
			if (h->flags & HELPER_F_CALLBACK)
				*S = ALL_SLOTS;
			return;
		}
		if (op == ISA_JA)
			return;
		*R |= d;
		if (x)
			*R |= s;
		return;
	}
}

int verifier_compute_precision(struct env *e)
{
	bool changed = true;
	uint32_t pc, rounds = 0;

	maybe_ptr(e);
	while (changed && rounds++ < 100000) {
		changed = false;
		for (pc = e->n; pc-- > 0;) {
			uint32_t succ[2], n, k;
			uint16_t R = 0;
			uint64_t S = 0;

			if (pc && isa_is_lddw(&e->insns[pc - 1]))
				continue;
			n = nsucc(e, pc, succ);
			for (k = 0; k < n; k++) {
				R |= e->aux[succ[k]].prec;
				S |= e->aux[succ[k]].prec_slots;
			}
			transfer(e, pc, &R, &S);
			R &= 0x3ff;
			if (R != e->aux[pc].prec || S != e->aux[pc].prec_slots) {
				e->aux[pc].prec = R;
				e->aux[pc].prec_slots = S;
				changed = true;
			}
		}
	}
	return 0;
}
