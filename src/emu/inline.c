/* SPDX-License-Identifier: MIT */
/*
 * inline.c - inline array map lookups into the program, as the kernel's
 * verifier does with array_map_gen_lookup, when a process instantiates it.
 *
 * A call to bpf_map_lookup_elem whose r1 is, within the same basic block,
 * loaded from an lddw of a BPF_MAP_TYPE_ARRAY map becomes:
 *
 *	r0 = *(u32 *)(r2 + 0)		the key
 *	if r0 >= max_entries goto +5
 *	r0 *= stride
 *	r1 = &values[0] ll		(this process's mapping)
 *	r0 += r1
 *	goto +1
 *	r0 = 0				NULL: out of range
 *
 * which is what the helper computes, without the two calls. The helper's
 * contract holds (r0 = value pointer or NULL; r1-r5 are clobbered by a call
 * anyway). Branches, local calls and callback references that cross a
 * rewritten site are moved by the growth, as the kernel's
 * bpf_adj_branches. Only the block-local form is matched: a map coming
 * from elsewhere (a branch joins in between) keeps the helper call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu_internal.h"
#include "isa/isa.h"

#define GROW 7 /* the sequence is 8 slots for the 1-slot call */
#define HELPER_MAP_LOOKUP 1

/* Index of the map r1 holds at @call, or -1. */
static int r1_map(const struct bpfx_insn *insns, const uint8_t *target,
		  uint32_t call)
{
	uint32_t pc = call;

	while (pc > 0) {
		const struct bpfx_insn *i;
		uint16_t use, def;

		if (target[pc])
			return -1; /* a branch joins: r1 may come from elsewhere */
		pc--;
		if (pc > 0 && isa_is_lddw(&insns[pc - 1])) {
			pc--; /* the second half of an lddw: look at its head */
		}
		i = &insns[pc];
		if (isa_is_branch(i) || isa_is_exit(i))
			return -1;
		isa_reg_use(i, &use, &def);
		if (!(def & (1u << 1)))
			continue;
		if (isa_is_lddw(i) && i->dst == 1 && i->src == ISA_PSEUDO_MAP_IDX)
			return i->imm;
		return -1; /* r1 written by something else */
	}
	return -1;
}

/* Move a pc-relative reference at @at with target @t by the growth of the
 * sites before @t that it crosses. */
static int64_t shifted(const uint32_t *grow_before, int64_t at, int64_t t)
{
	return t - at + (int64_t)grow_before[t] - (int64_t)grow_before[at];
}

long emu_inline_lookups(struct emu_prog *p, struct bpfx_insn **insns_io,
			uint32_t *n_io)
{
	struct bpfx_insn *in = *insns_io, *out;
	uint32_t n = *n_io, pc, k, nsites = 0, *grow_before;
	uint8_t *target, *site;
	long err = 0;

	if (getenv("BPFX_NO_INLINE"))
		return 0;
	target = calloc(n + 1, 1);
	site = calloc(n + 1, 1);
	grow_before = calloc(n + 2, sizeof(uint32_t));
	if (!target || !site || !grow_before) {
		err = -ENOMEM;
		goto out;
	}
	for (pc = 0; pc < n; pc++) { /* every place a branch can land */
		int64_t t;

		if (isa_is_branch(&in[pc]))
			t = isa_branch_target(&in[pc], pc);
		else if (isa_is_local_call(&in[pc]) ||
			 (isa_is_lddw(&in[pc]) && in[pc].src == ISA_PSEUDO_FUNC))
			t = (int64_t)pc + 1 + in[pc].imm;
		else
			t = -1;
		if (t >= 0 && t < n)
			target[t] = 1;
		if (isa_is_lddw(&in[pc]))
			pc++;
	}
	for (pc = 0; pc < n; pc++) {
		const struct bpfx_insn *i = &in[pc];
		int m;
		void *values;
		uint32_t stride, cnt;

		if (isa_is_lddw(i)) {
			pc++;
			continue;
		}
		if (!isa_is_helper_call(i) || i->imm != HELPER_MAP_LOOKUP)
			continue;
		m = r1_map(in, target, pc);
		if (m < 0 || (uint32_t)m >= p->hdr->nmaps ||
		    map_array_values(p->maps[m], &values, &stride, &cnt) ||
		    cnt > INT32_MAX || stride > INT32_MAX)
			continue;
		site[pc] = 1;
		nsites++;
	}
	if (!nsites)
		goto out;
	/* grow_before[i]: slots added before instruction i */
	for (pc = 0, k = 0; pc <= n; pc++) {
		grow_before[pc] = k;
		if (pc < n && site[pc])
			k += GROW;
	}
	grow_before[n + 1] = k;
	out = calloc(n + GROW * nsites, sizeof(*out));
	if (!out) {
		err = -ENOMEM;
		goto out;
	}
	for (pc = 0; pc < n; pc++) {
		struct bpfx_insn i = in[pc];
		uint32_t at = pc + grow_before[pc];
		int64_t t;

		if (site[pc]) {
			int m = r1_map(in, target, pc);
			void *values;
			uint32_t stride, cnt;
			uint64_t v;

			map_array_values(p->maps[m], &values, &stride, &cnt);
			v = (uintptr_t)values;
			out[at + 0] = (struct bpfx_insn){ .code = ISA_LDX | ISA_MEM | ISA_W,
							  .dst = 0, .src = 2 };
			out[at + 1] = (struct bpfx_insn){ .code = ISA_JMP | ISA_JGE | ISA_K,
							  .dst = 0, .off = 5,
							  .imm = (int32_t)cnt };
			out[at + 2] = (struct bpfx_insn){ .code = ISA_ALU64 | ISA_MUL | ISA_K,
							  .dst = 0, .imm = (int32_t)stride };
			out[at + 3] = (struct bpfx_insn){ .code = ISA_LDDW, .dst = 1,
							  .imm = (int32_t)(uint32_t)v };
			out[at + 4] = (struct bpfx_insn){ .imm = (int32_t)(uint32_t)(v >> 32) };
			out[at + 5] = (struct bpfx_insn){ .code = ISA_ALU64 | ISA_ADD | ISA_X,
							  .dst = 0, .src = 1 };
			out[at + 6] = (struct bpfx_insn){ .code = ISA_JMP | ISA_JA, .off = 1 };
			out[at + 7] = (struct bpfx_insn){ .code = ISA_ALU64 | ISA_MOV | ISA_K,
							  .dst = 0 };
			continue;
		}
		if (isa_is_branch(&i)) {
			t = isa_branch_target(&i, pc);
			if (isa_is_gotol(&i))
				i.imm = (int32_t)(shifted(grow_before, pc, t) - 1);
			else
				i.off = (int16_t)(shifted(grow_before, pc, t) - 1);
			if (!isa_is_gotol(&i) &&
			    shifted(grow_before, pc, t) - 1 != (int64_t)i.off) {
				free(out);
				goto out; /* the offset no longer fits 16 bits: keep the calls */
			}
		} else if (isa_is_local_call(&i) ||
			   (isa_is_lddw(&i) && i.src == ISA_PSEUDO_FUNC)) {
			t = (int64_t)pc + 1 + i.imm;
			i.imm = (int32_t)(shifted(grow_before, pc, t) - 1);
		}
		out[at] = i;
		if (isa_is_lddw(&in[pc])) {
			out[at + 1] = in[pc + 1];
			pc++;
		}
	}
	free(in);
	*insns_io = out;
	*n_io = n + GROW * nsites;
out:
	free(target);
	free(site);
	free(grow_before);
	return err;
}
