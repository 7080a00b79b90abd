/* SPDX-License-Identifier: MIT */
/*
 * fuzz_diff.c - differential libFuzzer target: the interpreter against the
 * x86-64 JIT.
 *
 * The fuzz bytes drive a generator of *structurally valid* programs (they
 * pass bpfx_prog_load) that are also safe to run on the unchecked engines,
 * plus 64 bytes of input memory. Each program runs on BPFX_ENGINE_INTERP
 * and BPFX_ENGINE_JIT over two copies of the memory; any difference in the
 * return code, r0 or the memory afterwards aborts. So does the JIT refusing
 * a program the loader accepted. Half the inputs compile without BMI2 (the
 * shift-by-cl paths).
 *
 * How the programs stay safe without a verifier:
 *   - r6 holds the memory pointer for the whole run (each function copies
 *     it from r1 on entry, callee-saved across calls) and is used only as a
 *     load/store base, with offsets inside the 64 bytes; r10 likewise, with
 *     offsets inside a 64-byte window each function zeroes first. Neither
 *     ever reaches an ALU operand or a stored value, so no address leaks
 *     into r0 or memory (the two engines' addresses differ).
 *   - Data registers are r0-r5, r7-r9, all set in each function's
 *     prologue; r1-r5 are set again right after every call (helpers clobber
 *     them on the JIT, not in the interpreter).
 *   - Jumps go forward, within the segment that holds them, landing only at
 *     the head of an instruction group (never between "r1 = r6" and a local
 *     call, never inside a loop from outside). The only backward jumps close
 *     counted loops: "r9 = K (1..8); body; r9 -= 1; if r9 != 0 goto body",
 *     one level deep, the body never writing r9.
 *   - Function k calls only functions > k (no recursion, depth <= 4);
 *     helpers are pure (1: mixes its five arguments; 2: the unwind helper,
 *     returns r1) and callx takes ids both valid and not.
 *
 * Smoke run (make test, ASan+UBSan build): 30 s. Long run, e.g. overnight:
 *   mkdir -p corpus-diff
 *   build-asan/tests/fuzz/fuzz_diff -max_total_time=28800 -timeout=10 \
 *       -jobs=2 -workers=2 corpus-diff/
 * A release-mode build (cmake -DBPFX_FUZZ=ON with CC=clang, no sanitizers)
 * runs several times more programs per second; crashes are saved as
 * crash-* files and replay with `fuzz_diff crash-FILE`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "jit/x86_64/jit_internal.h"

#define MEM_LEN 64
#define WIN 64		/* stack window each function zeroes */
#define MAX_FUNCS 4
#define MAX_ITEMS 1024
#define MEM_REG 6
#define LOOP_REG 9

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One instruction (two slots for lddw) of the program being built. */
struct item {
	struct bpfx_insn insn[2];
	int nslots;
	int scope;	/* 0 = function level, else the loop it belongs to */
	bool head;	/* a jump may land here */
	int target;	/* jump: item index once resolved; -1 none */
	int dist;	/* jump: the fuzz byte choosing the target */
	int callee;	/* local call: function index; -1 none */
};

struct gen {
	const uint8_t *d;
	size_t n, pos;
	struct item items[MAX_ITEMS];
	int len;
	int func_start[MAX_FUNCS]; /* item index of each function */
	int nfuncs, func;
	int nloops;
	bool in_loop;
};

static const uint8_t data_regs[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9 };

static const int32_t imms[] = {
	0, 1, -1, 2, 7, 8, 16, 31, 32, 33, 63, 64, 255, 0x7fff, -0x8000,
	0x7fffffff, INT32_MIN, 0x12345678, -2, 3,
};

static bool more(const struct gen *g)
{
	return g->pos < g->n;
}

static uint8_t u8(struct gen *g)
{
	return g->pos < g->n ? g->d[g->pos++] : 0;
}

static int32_t rand_imm(struct gen *g)
{
	uint8_t b = u8(g);

	if (b < 160)
		return imms[b % (sizeof(imms) / sizeof(imms[0]))];
	return (int32_t)((uint32_t)u8(g) | (uint32_t)u8(g) << 8 |
			 (uint32_t)u8(g) << 16 | (uint32_t)u8(g) << 24);
}

static int src_reg(struct gen *g)
{
	return data_regs[u8(g) % sizeof(data_regs)];
}

/* A register the code may write: not r9 inside a loop body. */
static int dst_reg(struct gen *g)
{
	int r = src_reg(g);

	return g->in_loop && r == LOOP_REG ? 0 : r;
}

static struct item *add(struct gen *g, struct bpfx_insn insn, bool head)
{
	struct item *it = &g->items[g->len++];

	memset(it, 0, sizeof(*it));
	it->insn[0] = insn;
	it->nslots = 1;
	it->scope = g->in_loop ? g->nloops : 0;
	it->head = head;
	it->target = -1;
	it->callee = -1;
	return it;
}

static struct bpfx_insn mk(uint8_t code, int dst, int src, int16_t off,
			   int32_t imm)
{
	struct bpfx_insn i = { .code = code, .dst = (uint8_t)dst,
			       .src = (uint8_t)src, .off = off, .imm = imm };

	return i;
}

static void add_mov_imm(struct gen *g, int r, int32_t imm, bool head)
{
	add(g, mk(ISA_ALU64 | ISA_MOV | ISA_K, r, 0, 0, imm), head);
}

/* r1..r5 get values again: after a call they hold nothing usable. */
static void add_reinit_args(struct gen *g)
{
	int r;

	for (r = 1; r <= 5; r++)
		add_mov_imm(g, r, rand_imm(g), false);
}

static void gen_alu(struct gen *g)
{
	static const uint8_t ops[] = {
		ISA_ADD, ISA_SUB, ISA_MUL, ISA_DIV, ISA_OR, ISA_AND, ISA_LSH,
		ISA_RSH, ISA_NEG, ISA_MOD, ISA_XOR, ISA_MOV, ISA_ARSH, ISA_END,
	};
	uint8_t b = u8(g), op = ops[b % sizeof(ops)];
	bool is64 = b & 0x80, x = u8(g) & 1;
	uint8_t cls = is64 ? ISA_ALU64 : ISA_ALU;
	int dst = dst_reg(g);
	int16_t off = 0;

	switch (op) {
	case ISA_NEG:
		add(g, mk(cls | ISA_NEG, dst, 0, 0, 0), true);
		return;
	case ISA_END: {
		static const int32_t w[] = { 16, 32, 64 };
		uint8_t code = is64 ? ISA_ALU64 | ISA_END
				    : ISA_ALU | ISA_END | (x ? ISA_X : ISA_K);

		add(g, mk(code, dst, 0, 0, w[u8(g) % 3]), true);
		return;
	}
	case ISA_DIV:
	case ISA_MOD:
		off = u8(g) & 1;
		break;
	case ISA_MOV:
		if (x) {
			static const int16_t w[] = { 0, 8, 16, 32 };

			off = w[u8(g) % (is64 ? 4 : 3)];
		}
		break;
	default:
		break;
	}
	if (x)
		add(g, mk(cls | op | ISA_X, dst, src_reg(g), off, 0), true);
	else
		add(g, mk(cls | op | ISA_K, dst, 0, off, rand_imm(g)), true);
}

static void gen_lddw(struct gen *g)
{
	struct item *it = add(g, mk(ISA_LDDW, dst_reg(g), 0, 0, rand_imm(g)),
			      true);

	it->insn[1] = mk(0, 0, 0, 0, rand_imm(g));
	it->nslots = 2;
}

/* Base register and an in-bounds offset for an access of @size bytes. */
static void pick_addr(struct gen *g, unsigned size, bool align, int *base,
		      int16_t *off)
{
	unsigned n = (MEM_LEN - size) / (align ? size : 1) + 1;
	unsigned k = u8(g) % n * (align ? size : 1);

	if (u8(g) & 1) {
		*base = MEM_REG;
		*off = (int16_t)k;
	} else {
		*base = ISA_REG_FP;
		*off = (int16_t)(-(int)WIN + (int)k);
	}
}

static void gen_mem(struct gen *g)
{
	static const uint8_t sizes[] = { ISA_B, ISA_H, ISA_W, ISA_DW };
	static const int32_t aops[] = {
		ISA_ADD, ISA_OR, ISA_AND, ISA_XOR, ISA_ADD | ISA_FETCH,
		ISA_OR | ISA_FETCH, ISA_AND | ISA_FETCH, ISA_XOR | ISA_FETCH,
		ISA_XCHG, ISA_CMPXCHG,
	};
	uint8_t b = u8(g), sz = sizes[b & 3];
	unsigned size = isa_size_bytes(sz);
	int base, r;
	int16_t off;

	switch ((b >> 2) % 6) {
	case 0:	/* ldx */
	case 1:
		pick_addr(g, size, false, &base, &off);
		add(g, mk(ISA_LDX | ISA_MEM | sz, dst_reg(g), base, off, 0),
		    true);
		break;
	case 2:	/* ldsx */
		if (sz == ISA_DW)
			sz = ISA_W, size = 4;
		pick_addr(g, size, false, &base, &off);
		add(g, mk(ISA_LDX | ISA_MEMSX | sz, dst_reg(g), base, off, 0),
		    true);
		break;
	case 3:	/* stx */
		pick_addr(g, size, false, &base, &off);
		add(g, mk(ISA_STX | ISA_MEM | sz, base, src_reg(g), off, 0),
		    true);
		break;
	case 4:	/* st */
		pick_addr(g, size, false, &base, &off);
		add(g, mk(ISA_ST | ISA_MEM | sz, base, 0, off, rand_imm(g)),
		    true);
		break;
	default: { /* atomic, aligned */
		int32_t op = aops[u8(g) % 10];
		bool fetch = (op & ISA_FETCH) && op != ISA_CMPXCHG;

		sz = b & 1 ? ISA_DW : ISA_W;
		size = isa_size_bytes(sz);
		pick_addr(g, size, true, &base, &off);
		r = fetch ? dst_reg(g) : src_reg(g);
		add(g, mk(ISA_STX | ISA_ATOMIC | sz, base, r, off, op), true);
		break;
	}
	}
}

static void gen_jump(struct gen *g)
{
	static const uint8_t conds[] = {
		ISA_JEQ, ISA_JGT, ISA_JGE, ISA_JSET, ISA_JNE, ISA_JSGT,
		ISA_JSGE, ISA_JLT, ISA_JLE, ISA_JSLT, ISA_JSLE,
	};
	uint8_t b = u8(g);
	struct item *it;

	if (b % 8 == 0) {
		it = add(g, mk(ISA_JMP | ISA_JA, 0, 0, 0, 0), true);
	} else if (b % 8 == 1) {
		it = add(g, mk(ISA_JMP32 | ISA_JA, 0, 0, 0, 0), true); /* gotol */
	} else {
		uint8_t cls = b & 0x80 ? ISA_JMP : ISA_JMP32;
		uint8_t op = conds[u8(g) % sizeof(conds)];
		int dst = src_reg(g);

		if (b & 0x40)
			it = add(g, mk(cls | op | ISA_X, dst, src_reg(g), 0, 0),
				 true);
		else
			it = add(g, mk(cls | op | ISA_K, dst, 0, 0, rand_imm(g)),
				 true);
	}
	it->dist = u8(g);
	it->target = -2; /* pending until the segment ends */
}

static void gen_call(struct gen *g)
{
	uint8_t b = u8(g);
	struct item *it;

	switch (b % 4) {
	case 0:	/* mixing helper */
		add(g, mk(ISA_JMP | ISA_CALL, 0, 0, 0, 1), true);
		break;
	case 1:	/* unwind helper: stops the run when r1 == 0 */
		if ((b & 0x30) == 0x30) {
			add_mov_imm(g, 1, 0, true);
			add(g, mk(ISA_JMP | ISA_CALL, 0, 0, 0, 2), false);
		} else {
			add(g, mk(ISA_JMP | ISA_CALL, 0, 0, 0, 2), true);
		}
		break;
	case 2: { /* callx, id valid or not */
		static const int32_t ids[] = { 1, 2, 1, 2, 0, 3, 1023, 1024, -1 };
		int r = dst_reg(g);

		if (b & 0x10) {
			add_mov_imm(g, r, ids[u8(g) % 9], true);
			add(g, mk(ISA_JMP | ISA_CALL | ISA_X, r, 0, 0, 0), false);
		} else {
			add(g, mk(ISA_JMP | ISA_CALL | ISA_X, r, 0, 0, 0), true);
		}
		break;
	}
	default: /* bpf-to-bpf, to a later function */
		if (g->func + 1 >= g->nfuncs)
			return;
		add(g, mk(ISA_ALU64 | ISA_MOV | ISA_X, 1, MEM_REG, 0, 0), true);
		it = add(g, mk(ISA_JMP | ISA_CALL, 0, ISA_CALL_LOCAL, 0, 0),
			 false);
		it->callee = g->func + 1 + u8(g) % (g->nfuncs - g->func - 1);
		break;
	}
	add_reinit_args(g);
}

/* Give the pending jumps of items [from, end) their targets: forward,
 * inside the segment (end = the item that will follow it), at a group
 * head of the same scope. */
static void resolve_jumps(struct gen *g, int from, int end, int scope)
{
	int i, t;

	for (i = from; i < end; i++) {
		struct item *it = &g->items[i];

		if (it->target != -2 || it->scope != scope)
			continue;
		t = i + 1 + it->dist % (end - i);
		while (t < end && !(g->items[t].head &&
				    g->items[t].scope == scope))
			t++;
		it->target = t;
	}
}

static void gen_segment(struct gen *g, int budget);

static void gen_loop(struct gen *g)
{
	int start, scope;
	struct item *it;

	add_mov_imm(g, LOOP_REG, 1 + u8(g) % 8, true);
	g->in_loop = true;
	scope = ++g->nloops;
	start = g->len;
	gen_segment(g, 4 + u8(g) % 24);
	if (g->len == start)	/* an empty body still needs one insn */
		add(g, mk(ISA_ALU64 | ISA_ADD | ISA_K, 0, 0, 0, 1), true);
	resolve_jumps(g, start, g->len, scope);
	/* r9 -= 1 (where the body's jumps may land); if r9 != 0 goto body */
	add(g, mk(ISA_ALU64 | ISA_SUB | ISA_K, LOOP_REG, 0, 0, 1), true);
	it = add(g, mk(ISA_JMP | ISA_JNE | ISA_K, LOOP_REG, 0, 0, 0), false);
	it->target = start;
	g->in_loop = false;
}

static void gen_segment(struct gen *g, int budget)
{
	while (budget-- > 0 && more(g) && g->len < MAX_ITEMS - 128) {
		uint8_t b = u8(g);

		if (b < 90)
			gen_alu(g);
		else if (b < 150)
			gen_mem(g);
		else if (b < 200)
			gen_jump(g);
		else if (b < 225)
			gen_call(g);
		else if (b < 238)
			gen_lddw(g);
		else if (b < 246 && !g->in_loop)
			gen_loop(g);
		else if (b < 250)	/* an early exit */
			add(g, mk(ISA_JMP | ISA_EXIT, 0, 0, 0, 0), true);
		else
			gen_alu(g);
	}
}

static void gen_function(struct gen *g, int f)
{
	int r, k, start;

	g->func = f;
	g->func_start[f] = g->len;
	start = g->len;
	/* r6 = memory; data registers set; the stack window zeroed */
	add(g, mk(ISA_ALU64 | ISA_MOV | ISA_X, MEM_REG, 1, 0, 0), true);
	for (r = 0; r < (int)sizeof(data_regs); r++)
		if (f > 0 || data_regs[r] != 2)
			add_mov_imm(g, data_regs[r], rand_imm(g), false);
	for (k = 1; k <= WIN / 8; k++)
		add(g, mk(ISA_ST | ISA_MEM | ISA_DW, ISA_REG_FP, 0,
			  (int16_t)(-8 * k), 0), false);
	gen_segment(g, 8 + u8(g) % 120);
	resolve_jumps(g, start, g->len, 0);
	add(g, mk(ISA_JMP | ISA_EXIT, 0, 0, 0, 0), true);
}

/* Lay the items out as instructions; returns the count. */
static size_t layout(struct gen *g, struct bpfx_insn *out, int *slot)
{
	size_t n = 0;
	int i;

	for (i = 0; i < g->len; i++) {
		slot[i] = (int)n;
		n += (size_t)g->items[i].nslots;
	}
	slot[g->len] = (int)n;
	for (i = 0; i < g->len; i++) {
		struct item *it = &g->items[i];
		struct bpfx_insn *insn = &out[slot[i]];

		memcpy(insn, it->insn, (size_t)it->nslots * sizeof(*insn));
		if (it->target >= 0) {
			int rel = slot[it->target] - slot[i] - 1;

			if (isa_is_gotol(insn))
				insn->imm = rel;
			else
				insn->off = (int16_t)rel;
		}
		if (it->callee >= 0)
			insn->imm = slot[g->func_start[it->callee]] - slot[i] - 1;
	}
	return n;
}

static uint64_t h_mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
		      uint64_t e)
{
	return (a * 0x9e3779b97f4a7c15ull) ^ (b + 3) * 5 ^ c << 7 ^ d >> 3 ^
	       (e | 1) * 11;
}

static uint64_t h_unwind(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			 uint64_t e)
{
	return a;
}

static struct bpfx_vm *fuzz_vm(void)
{
	static struct bpfx_vm *vm;

	if (vm)
		return vm;
	bpfx_set_print(NULL);
	vm = bpfx_vm_create();
	if (!vm || bpfx_vm_register_helper(vm, 1, "mix", h_mix) ||
	    bpfx_vm_register_helper(vm, 2, "unwind", h_unwind) ||
	    bpfx_vm_set_unwind_helper(vm, 2))
		abort();
	return vm;
}

static void dump_and_abort(const struct bpfx_insn *insns, size_t n,
			   const char *what)
{
	char line[128];
	size_t i;

	fprintf(stderr, "fuzz_diff: %s\n", what);
	for (i = 0; i < n; i++) {
		bpfx_insn_disasm(&insns[i], n - i, line, sizeof(line));
		fprintf(stderr, "%4zu: %s\n", i, line);
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gen g;
	static struct bpfx_insn insns[2 * MAX_ITEMS];
	static int slot[MAX_ITEMS + 1];
	uint8_t mem_a[MEM_LEN] __attribute__((aligned(8)));
	uint8_t mem_b[MEM_LEN] __attribute__((aligned(8)));
	struct bpfx_prog_opts opts = { .sz = sizeof(opts), .entry_regs = 1u << 2 };
	struct bpfx_vm *vm = fuzz_vm();
	struct bpfx_prog *prog;
	uint64_t ra = 0, rb = 0;
	char log[256] = "";
	int f, ea, eb, err;
	size_t n;

	if (size < MEM_LEN + 2)
		return 0;
	memcpy(mem_a, data, MEM_LEN);
	memcpy(mem_b, data, MEM_LEN);
	memset(&g, 0, sizeof(g));
	g.d = data + MEM_LEN;
	g.n = size - MEM_LEN;
	jit_x86_force_bmi2(u8(&g) & 1);
	g.nfuncs = 1 + u8(&g) % MAX_FUNCS;
	for (f = 0; f < g.nfuncs; f++)
		gen_function(&g, f);
	n = layout(&g, insns, slot);

	opts.log_buf = log;
	opts.log_size = sizeof(log);
	prog = bpfx_prog_load(vm, insns, n, &opts);
	if (!prog) {
		if (getenv("FUZZ_DIFF_STRICT"))	/* generator debugging */
			dump_and_abort(insns, n, log);
		return 0;
	}
	err = bpfx_prog_jit(prog);
	if (err) {
		snprintf(log, sizeof(log), "JIT refused a loaded program: %d",
			 err);
		dump_and_abort(insns, n, log);
	}
	ea = bpfx_prog_run(prog, BPFX_ENGINE_INTERP, mem_a, MEM_LEN, &ra);
	eb = bpfx_prog_run(prog, BPFX_ENGINE_JIT, mem_b, MEM_LEN, &rb);
	if (ea != eb || (!ea && ra != rb) || memcmp(mem_a, mem_b, MEM_LEN)) {
		snprintf(log, sizeof(log),
			 "engines differ: interp err %d r0 0x%llx, jit err %d "
			 "r0 0x%llx, memory %s",
			 ea, (unsigned long long)ra, eb, (unsigned long long)rb,
			 memcmp(mem_a, mem_b, MEM_LEN) ? "differs" : "same");
		dump_and_abort(insns, n, log);
	}
	if (getenv("FUZZ_DIFF_VERBOSE"))
		fprintf(stderr, "insns %zu funcs %d err %d r0 0x%llx\n", n,
			g.nfuncs, ea, (unsigned long long)ra);
	bpfx_prog_free(prog);
	return 0;
}
