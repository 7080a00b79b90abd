/* SPDX-License-Identifier: MIT */
/*
 * inline.c - inline array and per-CPU array map lookups into the program,
 * as the kernel's verifier does with array_map_gen_lookup and
 * percpu_array_map_gen_lookup, when a process instantiates it.
 *
 * A call to bpf_map_lookup_elem whose r1 is, within the same basic block,
 * loaded from an lddw of a BPF_MAP_TYPE_ARRAY map becomes:
 *
 *	r0 = *(u32 *)(r2 + 0)		the key
 *	if r0 >= max_entries goto +5
 *	r0 *= stride			(<<= log2 where a power of two)
 *	r1 = &values[0] ll		(this process's mapping)
 *	r0 += r1
 *	goto +1
 *	r0 = 0				NULL: out of range
 *
 * and of a BPF_MAP_TYPE_PERCPU_ARRAY map (element (i, cpu) at values +
 * cpu * cpu_stride + i * stride):
 *
 *	r0 = *(u32 *)(r2 + 0)
 *	if r0 >= max_entries goto +10
 *	r0 *= stride
 *	r1 = &values[0] ll
 *	r1 += r0			element i of CPU 0
 *	call <cpu helper>		r0 = this CPU; r1 is kept (vm_internal.h)
 *	if r0 < cpus goto +1
 *	r0 %= cpus			as map_pcpu_this()
 *	r0 *= cpu_stride
 *	r0 += r1
 *	goto +1
 *	r0 = 0
 *
 * where the JIT reads the CPU from rseq inline. Both compute what the
 * helper computes, without its calls; the helper's contract holds (r0 =
 * value pointer or NULL; r1-r5 are clobbered by a call anyway). Branches,
 * local calls and callback references that cross a rewritten site are
 * moved by the growth, as the kernel's bpf_adj_branches. Only the
 * block-local form is matched: a map coming from elsewhere (a branch joins
 * in between) keeps the helper call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu_internal.h"
#include "isa/isa.h"
#include "vm/vm_internal.h"

#define GROW_ARRAY 7	/* 8 slots for the 1-slot call */
#define GROW_PERCPU 12	/* 13 slots */
#define HELPER_MAP_LOOKUP 1

enum { SITE_NONE, SITE_ARRAY, SITE_PERCPU };

static unsigned grow_of(uint8_t kind)
{
	return kind == SITE_ARRAY ? GROW_ARRAY :
	       kind == SITE_PERCPU ? GROW_PERCPU : 0;
}

#define INSN(...) ((struct bpfx_insn){ __VA_ARGS__ })

/* r0 *= k: a shift where k is a power of two (as the kernel's
 * array_map_gen_lookup), the multiply's latency off the lookup */
static struct bpfx_insn scale_r0(uint64_t k)
{
	if (k && !(k & (k - 1)))
		return INSN(.code = ISA_ALU64 | ISA_LSH | ISA_K, .dst = 0,
			    .imm = __builtin_ctzll(k));
	return INSN(.code = ISA_ALU64 | ISA_MUL | ISA_K, .dst = 0,
		    .imm = (int32_t)k);
}

/* The sequence for a site of @kind on map @m at out[0..grow]. */
static void emit_site(struct bpfx_insn *out, uint8_t kind,
		      struct bpfx_map *m, int32_t cpu_helper)
{
	void *values;
	uint32_t stride, cnt, cpus;
	uint64_t v, cpu_stride;

	if (kind == SITE_ARRAY) {
		map_array_values(m, &values, &stride, &cnt);
		v = (uintptr_t)values;
		out[0] = INSN(.code = ISA_LDX | ISA_MEM | ISA_W, .dst = 0, .src = 2);
		out[1] = INSN(.code = ISA_JMP | ISA_JGE | ISA_K, .dst = 0,
			      .off = 5, .imm = (int32_t)cnt);
		out[2] = scale_r0(stride);
		out[3] = INSN(.code = ISA_LDDW, .dst = 1, .imm = (int32_t)(uint32_t)v);
		out[4] = INSN(.imm = (int32_t)(uint32_t)(v >> 32));
		out[5] = INSN(.code = ISA_ALU64 | ISA_ADD | ISA_X, .dst = 0, .src = 1);
		out[6] = INSN(.code = ISA_JMP | ISA_JA, .off = 1);
		out[7] = INSN(.code = ISA_ALU64 | ISA_MOV | ISA_K, .dst = 0);
		return;
	}
	map_percpu_array_values(m, &values, &stride, &cnt, &cpu_stride, &cpus);
	v = (uintptr_t)values;
	out[0] = INSN(.code = ISA_LDX | ISA_MEM | ISA_W, .dst = 0, .src = 2);
	out[1] = INSN(.code = ISA_JMP | ISA_JGE | ISA_K, .dst = 0, .off = 10,
		      .imm = (int32_t)cnt);
	out[2] = scale_r0(stride);
	out[3] = INSN(.code = ISA_LDDW, .dst = 1, .imm = (int32_t)(uint32_t)v);
	out[4] = INSN(.imm = (int32_t)(uint32_t)(v >> 32));
	out[5] = INSN(.code = ISA_ALU64 | ISA_ADD | ISA_X, .dst = 1, .src = 0);
	out[6] = INSN(.code = ISA_JMP | ISA_CALL, .imm = cpu_helper);
	out[7] = INSN(.code = ISA_JMP | ISA_JLT | ISA_K, .dst = 0, .off = 1,
		      .imm = (int32_t)cpus);
	out[8] = INSN(.code = ISA_ALU64 | ISA_MOD | ISA_K, .dst = 0,
		      .imm = (int32_t)cpus);
	out[9] = scale_r0(cpu_stride);
	out[10] = INSN(.code = ISA_ALU64 | ISA_ADD | ISA_X, .dst = 0, .src = 1);
	out[11] = INSN(.code = ISA_JMP | ISA_JA, .off = 1);
	out[12] = INSN(.code = ISA_ALU64 | ISA_MOV | ISA_K, .dst = 0);
}

/* Which kind of site map @m makes (SITE_NONE: keep the call). */
static uint8_t site_kind(struct bpfx_map *m, int64_t cpu_helper)
{
	void *values;
	uint32_t stride, cnt, cpus;
	uint64_t cpu_stride;

	if (!map_array_values(m, &values, &stride, &cnt))
		return cnt <= INT32_MAX && stride <= INT32_MAX ? SITE_ARRAY :
								 SITE_NONE;
	if (cpu_helper >= 0 && cpu_helper <= INT32_MAX &&
	    !map_percpu_array_values(m, &values, &stride, &cnt, &cpu_stride,
				     &cpus))
		return cnt <= INT32_MAX && stride <= INT32_MAX && cpus &&
		       cpus <= INT32_MAX && cpu_stride <= INT32_MAX ?
			       SITE_PERCPU : SITE_NONE;
	return SITE_NONE;
}

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

long emu_inline_lookups(struct emu_prog *p, const struct bpfx_vm *vm,
			struct bpfx_insn **insns_io, uint32_t *n_io)
{
	struct bpfx_insn *in = *insns_io, *out;
	uint32_t n = *n_io, pc, k, grown = 0, *grow_before;
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

		if (isa_is_lddw(i)) {
			pc++;
			continue;
		}
		if (!isa_is_helper_call(i) || i->imm != HELPER_MAP_LOOKUP)
			continue;
		m = r1_map(in, target, pc);
		if (m < 0 || (uint32_t)m >= p->hdr->nmaps)
			continue;
		site[pc] = site_kind(p->maps[m], vm->cpu_helper);
		grown += grow_of(site[pc]);
	}
	if (!grown)
		goto out;
	/* grow_before[i]: slots added before instruction i */
	for (pc = 0, k = 0; pc <= n; pc++) {
		grow_before[pc] = k;
		if (pc < n)
			k += grow_of(site[pc]);
	}
	grow_before[n + 1] = k;
	out = calloc(n + grown, sizeof(*out));
	if (!out) {
		err = -ENOMEM;
		goto out;
	}
	for (pc = 0; pc < n; pc++) {
		struct bpfx_insn i = in[pc];
		uint32_t at = pc + grow_before[pc];
		int64_t t;

		if (site[pc]) {
			emit_site(&out[at], site[pc],
				  p->maps[r1_map(in, target, pc)],
				  (int32_t)vm->cpu_helper);
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
	*n_io = n + grown;
out:
	free(target);
	free(site);
	free(grow_before);
	return err;
}
