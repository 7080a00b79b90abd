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
 *	if r0 >= max_entries goto +8
 *	r0 *= stride
 *	r1 = &values[0] ll
 *	r1 += r0			element i of CPU 0
 *	call <cpu helper>		r0 = this CPU; r1 is kept (vm_internal.h)
 *	r0 *= cpu_stride
 *	r0 += r1
 *	goto +1
 *	r0 = 0
 *
 * The CPU needs no bound: rseq's cpu_id (or sched_getcpu) is below the
 * kernel's nr_cpu_ids, which is the count of possible CPUs the map sized
 * its rows by; a map lives in /dev/shm (tmpfs), so not across a reboot
 * that could change it.
 *
 * where the JIT reads the CPU from rseq inline. A constant key (see
 * const_key) folds either to the element's address: `r0 = &values[K] ll`
 * (NULL when K is out of range), and for a per-CPU array `r1 = &values[K]
 * ll; call <cpu helper>; ...; r0 += r1`. All compute what the
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

#define HELPER_MAP_LOOKUP 1

enum { SITE_NONE, SITE_ARRAY, SITE_PERCPU, SITE_ARRAY_CONST,
       SITE_PERCPU_CONST };

/* slots added for the 1-slot call */
static unsigned grow_of(uint8_t kind)
{
	static const uint8_t grow[] = {
		[SITE_ARRAY] = 7, [SITE_PERCPU] = 10,
		[SITE_ARRAY_CONST] = 1, [SITE_PERCPU_CONST] = 4,
	};

	return kind < sizeof(grow) ? grow[kind] : 0;
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

/* The sequence for a site of @kind on map @m at out[0..grow]; @key: the
 * key of a _CONST site. */
static void emit_site(struct bpfx_insn *out, uint8_t kind,
		      struct bpfx_map *m, int32_t cpu_helper, uint32_t key)
{
	void *values;
	uint32_t stride, cnt, cpus;
	uint64_t v, cpu_stride;

	if (kind == SITE_ARRAY_CONST) {	/* r0 = &values[key] or NULL */
		map_array_values(m, &values, &stride, &cnt);
		v = key < cnt ? (uintptr_t)values + (uint64_t)key * stride : 0;
		out[0] = INSN(.code = ISA_LDDW, .dst = 0, .imm = (int32_t)(uint32_t)v);
		out[1] = INSN(.imm = (int32_t)(uint32_t)(v >> 32));
		return;
	}
	if (kind == SITE_PERCPU_CONST) { /* key < cnt: checked at match */
		map_percpu_array_values(m, &values, &stride, &cnt, &cpu_stride,
					&cpus);
		v = (uintptr_t)values + (uint64_t)key * stride;
		out[0] = INSN(.code = ISA_LDDW, .dst = 1, .imm = (int32_t)(uint32_t)v);
		out[1] = INSN(.imm = (int32_t)(uint32_t)(v >> 32));
		out[2] = INSN(.code = ISA_JMP | ISA_CALL, .imm = cpu_helper);
		out[3] = scale_r0(cpu_stride);
		out[4] = INSN(.code = ISA_ALU64 | ISA_ADD | ISA_X, .dst = 0, .src = 1);
		return;
	}
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
	out[1] = INSN(.code = ISA_JMP | ISA_JGE | ISA_K, .dst = 0, .off = 8,
		      .imm = (int32_t)cnt);
	out[2] = scale_r0(stride);
	out[3] = INSN(.code = ISA_LDDW, .dst = 1, .imm = (int32_t)(uint32_t)v);
	out[4] = INSN(.imm = (int32_t)(uint32_t)(v >> 32));
	out[5] = INSN(.code = ISA_ALU64 | ISA_ADD | ISA_X, .dst = 1, .src = 0);
	out[6] = INSN(.code = ISA_JMP | ISA_CALL, .imm = cpu_helper);
	out[7] = scale_r0(cpu_stride);
	out[8] = INSN(.code = ISA_ALU64 | ISA_ADD | ISA_X, .dst = 0, .src = 1);
	out[9] = INSN(.code = ISA_JMP | ISA_JA, .off = 1);
	out[10] = INSN(.code = ISA_ALU64 | ISA_MOV | ISA_K, .dst = 0);
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

/* The instruction before @pc in its basic block, or -1 (a branch lands at
 * @pc, or @pc is 0). */
static int64_t prev_in_block(const struct bpfx_insn *in, const uint8_t *target,
			     uint32_t pc)
{
	if (!pc || target[pc])
		return -1;
	pc--;
	if (pc > 0 && isa_is_lddw(&in[pc - 1]))
		pc--;
	return pc;
}

static uint32_t store_size(const struct bpfx_insn *i)
{
	static const uint8_t sz[4] = { 4, 2, 1, 8 }; /* W H B DW */

	return sz[(i->code >> 3) & 3];
}

/*
 * Is the key of the lookup at @call a constant, as clang emits for
 * `u32 k = K; bpf_map_lookup_elem(&map, &k)`:
 *
 *	rS = K				(or *(u32 *)(r10 + C) = K)
 *	*(u32 *)(r10 + C) = rS
 *	... no store that may reach [r10 + C, +4), no call ...
 *	r2 = r10
 *	r2 += C
 *	... r1 = map ll ...
 *	call map_lookup_elem
 *
 * all in one basic block? Then *key = K. The kernel's verifier knows such
 * keys too (it tracks the stack); here the match is syntactic and
 * conservative: any other store not plainly to another r10 slot, any
 * call, branch or block start gives up.
 */
static bool const_key(const struct bpfx_insn *in, const uint8_t *target,
		      uint32_t call, uint32_t *key)
{
	int64_t pc = call, st;
	int32_t c = 0;
	int stage = 0; /* 0: r2 += C, 1: r2 = r10 */
	uint16_t use, def;

	while (stage < 2) {	/* the r2 chain */
		pc = prev_in_block(in, target, (uint32_t)pc);
		if (pc < 0)
			return false;
		isa_reg_use(&in[pc], &use, &def);
		if (!(def & (1u << 2)))
			continue;
		if (stage == 0 && in[pc].code == (ISA_ALU64 | ISA_ADD | ISA_K) &&
		    in[pc].dst == 2)
			c = in[pc].imm;
		else if (stage == 1 && in[pc].code == (ISA_ALU64 | ISA_MOV | ISA_X) &&
			 in[pc].dst == 2 && in[pc].src == 10)
			;
		else
			return false;
		stage++;
	}
	if (c > -4 || c < -512)
		return false;
	for (st = call;;) {	/* the store that gave the slot its value */
		const struct bpfx_insn *i;
		uint8_t cls;

		st = prev_in_block(in, target, (uint32_t)st);
		if (st < 0)
			return false;
		i = &in[st];
		cls = ISA_CLASS(i->code);
		if (isa_is_branch(i) || isa_is_exit(i) ||
		    (cls == ISA_JMP && ISA_OP(i->code) == ISA_CALL))
			return false;
		if (cls != ISA_ST && cls != ISA_STX)
			continue;
		if (i->dst != 10 || ISA_MODE(i->code) != ISA_MEM)
			return false;	/* may alias the slot */
		if (i->off == c && store_size(i) == 4)
			break;
		if ((int64_t)i->off + store_size(i) <= c || i->off >= c + 4)
			continue;	/* another slot */
		return false;
	}
	if (ISA_CLASS(in[st].code) == ISA_ST) {
		*key = (uint32_t)in[st].imm;
		return true;
	}
	for (pc = st;;) {	/* the constant the stored register holds */
		uint8_t s = in[st].src;

		pc = prev_in_block(in, target, (uint32_t)pc);
		if (pc < 0)
			return false;
		isa_reg_use(&in[pc], &use, &def);
		if (!(def & (1u << s)))
			continue;
		if ((in[pc].code == (ISA_ALU64 | ISA_MOV | ISA_K) ||
		     in[pc].code == (ISA_ALU | ISA_MOV | ISA_K)) && in[pc].dst == s) {
			*key = (uint32_t)in[pc].imm;
			return true;
		}
		return false;
	}
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
	uint32_t n = *n_io, pc, k, grown = 0, *grow_before, *keys;
	uint8_t *target, *site;
	long err = 0;

	if (getenv("BPFX_NO_INLINE"))
		return 0;
	target = calloc(n + 1, 1);
	site = calloc(n + 1, 1);
	grow_before = calloc(n + 2, sizeof(uint32_t));
	keys = calloc(n + 1, sizeof(uint32_t));
	if (!target || !site || !grow_before || !keys) {
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
		if (site[pc] != SITE_NONE && const_key(in, target, pc, &keys[pc])) {
			void *values;
			uint32_t stride, cnt, cpus;
			uint64_t cpu_stride;

			if (site[pc] == SITE_ARRAY)
				site[pc] = SITE_ARRAY_CONST;
			else if (!map_percpu_array_values(p->maps[m], &values,
							  &stride, &cnt,
							  &cpu_stride, &cpus) &&
				 keys[pc] < cnt)
				site[pc] = SITE_PERCPU_CONST;
		}
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
				  (int32_t)vm->cpu_helper, keys[pc]);
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
	free(keys);
	free(grow_before);
	return err;
}
