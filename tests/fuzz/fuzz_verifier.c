/* SPDX-License-Identifier: MIT */
/*
 * fuzz_verifier.c - soundness fuzzing of the verifier (libFuzzer).
 *
 * Each input is turned into a mostly well-formed program (loads and stores
 * through the memory, stack and map-value pointers, pointer arithmetic with
 * masked or compared offsets, branches, short loops, map lookups), verified
 * as BPFX_PROG_TYPE_RAW with 64 bytes of memory and one fake hash map
 * (key 8, value 16). Every accepted program then runs on the checked
 * engine, which traps any access outside the memory, the live stack frames
 * and the map values the fake lookup hands out (registered as extra
 * regions), and stops after a jump budget. A trap or budget exhaustion on
 * an accepted program is a verifier bug: abort().
 *
 * Smoke: ctest runs it for 30 s. Long run (see docs/verifier.md):
 *   build-asan/tests/fuzz/fuzz_verifier -max_total_time=3600 -jobs=2 corpus/
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "isa/isa.h"
#include "verifier/verifier.h"
#include "vm/vm_internal.h"

#define NSLOTS 4
#define VALUE_SIZE 16
#define MAX_INSNS 96

static uint8_t value_mem[NSLOTS][64]; /* 16 valid bytes, then a gap */
static struct vm_region regions[NSLOTS];
static uint64_t rnd_state;

static uint64_t h_lookup(uint64_t map, uint64_t key, uint64_t c, uint64_t d,
			 uint64_t e)
{
	uint8_t k = *(const uint8_t *)(uintptr_t)key;

	(void)map, (void)c, (void)d, (void)e;
	if (k & 1)
		return 0;
	return (uintptr_t)value_mem[(k >> 1) % NSLOTS];
}

static uint64_t h_prandom(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			  uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return rnd_state >> 32;
}

static const struct helper_def protos[] = {
	{ .id = BPF_FUNC_map_lookup_elem, .name = "map_lookup_elem",
	  .ret = RET_PTR_TO_MAP_VALUE_OR_NULL,
	  .args = { ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY } },
	{ .id = BPF_FUNC_get_prandom_u32, .name = "get_prandom_u32",
	  .ret = RET_INTEGER },
};

static const struct helper_def *lookup(uint32_t id, void *arg)
{
	(void)arg;
	if (id == BPF_FUNC_map_lookup_elem)
		return &protos[0];
	if (id == BPF_FUNC_get_prandom_u32)
		return &protos[1];
	return NULL;
}

struct gen {
	const uint8_t *d;
	size_t n, pos;
	struct bpfx_insn p[MAX_INSNS + 16];
	uint32_t k;
};

static uint8_t byte(struct gen *g)
{
	return g->pos < g->n ? g->d[g->pos++] : 0;
}

static void put(struct gen *g, uint8_t code, uint8_t dst, uint8_t src,
		int16_t off, int32_t imm)
{
	struct bpfx_insn i = { .code = code, .dst = dst, .src = src, .off = off,
			       .imm = imm };

	g->p[g->k++] = i;
}

static const uint8_t alu_ops[] = { ISA_ADD, ISA_SUB, ISA_MUL, ISA_DIV,
				   ISA_OR,  ISA_AND, ISA_LSH, ISA_RSH,
				   ISA_MOD, ISA_XOR, ISA_ARSH, ISA_MOV };
static const uint8_t jmp_ops[] = { ISA_JEQ, ISA_JGT, ISA_JGE, ISA_JSET,
				   ISA_JNE, ISA_JSGT, ISA_JSGE, ISA_JLT,
				   ISA_JLE, ISA_JSLT, ISA_JSLE };
static const uint8_t sizes[] = { ISA_B, ISA_H, ISA_W, ISA_DW };

static void gen_one(struct gen *g, uint32_t left)
{
	uint8_t a = byte(g), b = byte(g), c = byte(g);
	uint8_t r = b % 10, s = (b >> 4) % 10, sz = sizes[c & 3];
	int16_t off = (int16_t)((int8_t)c);

	switch (a % 16) {
	case 0: /* small constant */
		put(g, ISA_ALU64 | ISA_MOV | ISA_K, r, 0, 0, (int8_t)c);
		break;
	case 1: /* ALU with an immediate */
		put(g, (c & 0x80 ? ISA_ALU : ISA_ALU64) |
			       alu_ops[(a >> 4) % sizeof(alu_ops)] | ISA_K,
		    r, 0, 0, (c & 0x40) ? (c & 63) : (int8_t)c);
		break;
	case 2: /* ALU register-register */
		put(g, (c & 0x80 ? ISA_ALU : ISA_ALU64) |
			       alu_ops[(a >> 4) % sizeof(alu_ops)] | ISA_X,
		    r, s, 0, 0);
		break;
	case 3: /* load from the memory at r1 (or a copy) */
		put(g, ISA_LDX | ISA_MEM | sz, r, (a & 0x10) ? s : 1,
		    (int16_t)(c % 72), 0);
		break;
	case 4: /* spill to the stack */
		put(g, ISA_STX | ISA_MEM | sz, 10, s,
		    (int16_t)(-8 * (1 + c % 8) + ((a >> 5) & 7)), 0);
		break;
	case 5: /* fill from the stack */
		put(g, ISA_LDX | ISA_MEM | sz, r, 10,
		    (int16_t)(-8 * (1 + c % 8) + ((a >> 5) & 7)), 0);
		break;
	case 6: /* forward branch */
	case 7:
		put(g, ((a & 0x10) ? ISA_JMP32 : ISA_JMP) |
			       jmp_ops[(c >> 4) % sizeof(jmp_ops)] |
			       ((a & 0x20) ? ISA_X : ISA_K),
		    r, s, (int16_t)(c % (left ? left : 1)), (int8_t)(b ^ c) % 64);
		break;
	case 8: /* backward branch (rare loops) */
		if (g->k > 2 && (c & 3) == 0)
			put(g, ISA_JMP | jmp_ops[b % sizeof(jmp_ops)] | ISA_K, r,
			    0, (int16_t)-(1 + c % (g->k < 8 ? g->k : 8)),
			    (int8_t)a);
		else
			put(g, ISA_ALU64 | ISA_ADD | ISA_K, r, 0, 0, 1);
		break;
	case 9: { /* map lookup: r0 = value or NULL */
		put(g, ISA_ST | ISA_MEM | ISA_DW, 10, 0, -8, c);
		put(g, ISA_ALU64 | ISA_MOV | ISA_X, 2, 10, 0, 0);
		put(g, ISA_ALU64 | ISA_ADD | ISA_K, 2, 0, 0, -8);
		put(g, ISA_LDDW, 1, ISA_PSEUDO_MAP_IDX, 0, 0);
		put(g, 0, 0, 0, 0, 0);
		put(g, ISA_JMP | ISA_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
		break;
	}
	case 10: /* pointer += scalar */
		put(g, ISA_ALU64 | ((a & 0x10) ? ISA_SUB : ISA_ADD) | ISA_X,
		    (a & 0x20) ? 0 : 1, s, 0, 0);
		break;
	case 11: /* load through any register */
		put(g, ISA_LDX | ((a & 0x10) ? ISA_MEMSX : ISA_MEM) |
			       (sz == ISA_DW && (a & 0x10) ? ISA_W : sz),
		    r, s, (int16_t)(off % 24), 0);
		break;
	case 12: /* store through any register */
		if (a & 0x10)
			put(g, ISA_ST | ISA_MEM | sz, r, 0, (int16_t)(off % 24),
			    (int8_t)b);
		else
			put(g, ISA_STX | ISA_MEM | sz, r, s, (int16_t)(off % 24),
			    0);
		break;
	case 13: /* mask or bound a register */
		put(g, ISA_ALU64 | ISA_AND | ISA_K, r, 0, 0, c & 63);
		break;
	case 14: /* random number */
		put(g, ISA_JMP | ISA_CALL, 0, 0, 0, BPF_FUNC_get_prandom_u32);
		put(g, ISA_ALU64 | ISA_MOV | ISA_X, r, 0, 0, 0);
		break;
	default: /* atomic add */
		put(g, ISA_STX | ISA_ATOMIC | ((c & 1) ? ISA_DW : ISA_W), r, s,
		    (int16_t)(off % 24) & ~7, (a & 0x10) ? ISA_ADD | ISA_FETCH :
							  ISA_ADD);
		break;
	}
}

static uint32_t generate(struct gen *g)
{
	uint32_t target = 4 + (g->n ? g->d[0] % 60 : 0);

	g->pos = 1;
	g->k = 0;
	/* r2..r9 start defined so most programs get past the structure */
	for (uint8_t r = 2; r < 10; r++)
		put(g, ISA_ALU64 | ISA_MOV | ISA_K, r, 0, 0, r);
	while (g->k < target && g->pos < g->n && g->k < MAX_INSNS)
		gen_one(g, target - g->k);
	put(g, ISA_ALU64 | ISA_MOV | ISA_K, 0, 0, 0, 0);
	put(g, ISA_JMP | ISA_EXIT, 0, 0, 0, 0);
	/* keep forward branches inside the program */
	for (uint32_t pc = 0; pc < g->k; pc++) {
		struct bpfx_insn *i = &g->p[pc];

		if (isa_is_lddw(i)) {
			pc++;
			continue;
		}
		if (isa_is_branch(i)) {
			int64_t t = isa_branch_target(i, pc);

			if (t >= g->k)
				i->off = (int16_t)(g->k - 1 - pc - 1);
			if (t < 0)
				i->off = 0;
			t = isa_branch_target(i, pc);
			if (t > 0 && isa_is_lddw(&g->p[t - 1]))
				i->off--;
		}
	}
	return g->k;
}

static char logbuf[1 << 14];
static uint8_t fake_map[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bpfx_vm *vm;
	static struct gen g;
	struct verifier_map map = { BPF_MAP_TYPE_HASH, 8, VALUE_SIZE, 16, 0, -1, 0 };
	struct verifier_stats st = { .sz = sizeof(st) };
	struct verifier_opts o = { .sz = sizeof(o) };
	struct bpfx_prog_opts po = { .sz = sizeof(po), .entry_regs = 0x3fc };
	struct bpfx_prog *prog;
	uint8_t mem[64];
	uint64_t ret;
	uint32_t n, k;
	int err;

	if (!vm) {
		vm = bpfx_vm_create();
		if (!vm || bpfx_vm_register_helper(vm, BPF_FUNC_map_lookup_elem,
						   "map_lookup_elem", h_lookup) ||
		    bpfx_vm_register_helper(vm, BPF_FUNC_get_prandom_u32,
					    "get_prandom_u32", h_prandom))
			abort();
		for (k = 0; k < NSLOTS; k++)
			regions[k] = (struct vm_region){
				(uintptr_t)value_mem[k], VALUE_SIZE };
	}
	g.d = data;
	g.n = size;
	n = generate(&g);
	o.prog_type = BPFX_PROG_TYPE_RAW;
	o.insns = g.p;
	o.insn_cnt = n;
	o.ctx_size = sizeof(mem);
	o.maps = &map;
	o.nmaps = 1;
	o.helper_lookup = lookup;
	o.max_processed = 30000;
	o.max_states_per_insn = 64; /* bounded pruning cost per input */
	o.log_level = 1;
	o.log_buf = logbuf;
	o.log_size = (uint32_t)(size % 3 == 0 ? 64 : sizeof(logbuf));
	err = verifier_check(&o, &st);
	if (err == -ENOSPC) {
		if (strlen(logbuf) >= o.log_size || o.log_true_size <= o.log_size)
			abort(); /* overflow, or -ENOSPC without need */
		o.log_size = sizeof(logbuf);
		err = verifier_check(&o, &st);
	}
	if (err)
		return 0;
	/* the loader's job: resolve map references to the map itself */
	for (k = 0; k < n; k++) {
		if (isa_is_lddw(&g.p[k]) && g.p[k].src == ISA_PSEUDO_MAP_IDX) {
			uint64_t a = (uintptr_t)fake_map;

			g.p[k].src = 0;
			g.p[k].imm = (int32_t)(uint32_t)a;
			g.p[k + 1].imm = (int32_t)(uint32_t)(a >> 32);
			k++;
		}
	}
	prog = bpfx_prog_load(vm, g.p, n, &po);
	if (!prog) {
		fprintf(stderr, "verifier accepted what load refuses: %s\n",
			strerror(errno));
		abort();
	}
	for (k = 0; k < sizeof(mem); k++)
		mem[k] = (uint8_t)(data[k % (size ? size : 1)] ^ k);
	for (k = 0; k < NSLOTS; k++)
		memset(value_mem[k], (int)(k * 37), VALUE_SIZE);
	rnd_state = size;
	vm_run_set_regions(regions, NSLOTS);
	bpfx_run_set_budget(st.insns_processed * 4 + 4096);
	err = bpfx_prog_run(prog, BPFX_ENGINE_CHECKED, mem, sizeof(mem), &ret);
	vm_run_set_regions(NULL, 0);
	if (err) {
		char dis[96];

		fprintf(stderr, "VERIFIER BUG: accepted program faulted (%d): %s\n",
			err, bpfx_run_fault());
		for (k = 0; k < n; k++) {
			bpfx_insn_disasm(&g.p[k], n - k, dis, sizeof(dis));
			fprintf(stderr, "%4u: %s\n", k, dis);
		}
		abort();
	}
	bpfx_prog_free(prog);
	return 0;
}
