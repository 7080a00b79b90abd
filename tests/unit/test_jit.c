/* SPDX-License-Identifier: MIT */
/*
 * JIT-specific tests. The x86-64 JIT maps eBPF registers onto fixed
 * machine registers, and several instructions need particular ones (div
 * uses rax:rdx, shifts without BMI2 use cl, cmpxchg uses rax, byte stores
 * from rsi/rdi need a REX prefix): every such instruction is compiled here
 * for every register pair and compared with the interpreter. Also: callx
 * and unwind from deep frames, jumps long enough to need rel32, helpers
 * out of rel32 reach, the inline CPU helper, W^X, and clean refusal.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "insn.h"
#include "jit/x86_64/jit_internal.h"

static struct bpfx_vm *vm;

static uint64_t h_add(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a + b * 3 + c * 5 + d * 7 + e * 11;
}

static uint64_t h_ident(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a;
}

static int setup(void **state)
{
	vm = bpfx_vm_create();
	assert_non_null(vm);
	assert_int_equal(bpfx_vm_register_helper(vm, 1, "add", h_add), 0);
	assert_int_equal(bpfx_vm_register_helper(vm, 5, "unwind", h_ident), 0);
	assert_int_equal(bpfx_vm_set_unwind_helper(vm, 5), 0);
	return 0;
}

static int teardown(void **state)
{
	jit_x86_force_bmi2(-1);
	bpfx_vm_destroy(vm);
	return 0;
}

/* Load @n instructions, run on the interpreter and the JIT over copies of
 * @mem, require the same return code, r0 and memory. Returns r0. */
static uint64_t run_both(const struct bpfx_insn *insns, size_t n,
			 const void *mem, size_t len)
{
	struct bpfx_prog_opts opts = { .sz = sizeof(opts), .entry_regs = 1u << 2 };
	uint8_t a[64], b[64];
	uint64_t ra = 0, rb = 1;
	char log[256] = "";
	struct bpfx_prog *p;
	int ea, eb;

	opts.log_buf = log;
	opts.log_size = sizeof(log);
	assert_true(len <= sizeof(a));
	p = bpfx_prog_load(vm, insns, n, &opts);
	if (!p)
		fail_msg("load failed: %s", log);
	assert_int_equal(bpfx_prog_jit(p), 0);
	if (len) {
		memcpy(a, mem, len);
		memcpy(b, mem, len);
	}
	ea = bpfx_prog_run(p, BPFX_ENGINE_INTERP, len ? a : NULL, len, &ra);
	eb = bpfx_prog_run(p, BPFX_ENGINE_JIT, len ? b : NULL, len, &rb);
	assert_int_equal(ea, eb);
	if (!ea && ra != rb) {
		char line[96];
		size_t i;

		for (i = 0; i < n; i++) {
			bpfx_insn_disasm(&insns[i], n - i, line, sizeof(line));
			print_message("  %3zu: %s\n", i, line);
		}
		fail_msg("interp r0 = 0x%llx, jit r0 = 0x%llx",
			 (unsigned long long)ra, (unsigned long long)rb);
	}
	assert_memory_equal(a, b, len);
	bpfx_prog_free(p);
	return ra;
}

/* Distinct 64-bit values for r0..r9. */
static uint64_t reg_seed(int r)
{
	return 0x0123456789abcdefull * (uint64_t)(r + 3) ^ (uint64_t)r << 60;
}

/* Set every register r0..r9 (r1 too: callers that need the memory
 * pointer save it first); two slots each. */
static size_t emit_seed_regs(struct bpfx_insn *p, int skip)
{
	size_t n = 0;
	int r;

	for (r = 0; r <= 9; r++) {
		struct bpfx_insn l[2] = { LDDW(r, reg_seed(r)) };

		if (r == skip)
			continue;
		p[n++] = l[0];
		p[n++] = l[1];
	}
	return n;
}

/* r0 = fold of r0..r9 (each register influences the result). */
static size_t emit_fold(struct bpfx_insn *p)
{
	size_t n = 0;
	int r;

	for (r = 1; r <= 9; r++) {
		p[n++] = ALU64_IMM(ISA_MUL, 0, 1000003);
		p[n++] = ALU64_REG(ISA_XOR, 0, r);
	}
	p[n++] = EXIT();
	return n;
}

static const uint64_t vals[] = {
	0, 1, (uint64_t)-1, 0x8000000000000000ull, 0x80000000ull,
	0xffffffff80000000ull, 7, 0x123456789ull, 65, 33,
};

static void check_binop(uint8_t code, int16_t off, int dst, int src,
			uint64_t a, uint64_t b)
{
	struct bpfx_insn p[64];
	size_t n = emit_seed_regs(p, -1);
	struct bpfx_insn la[2] = { LDDW(dst, a) }, lb[2] = { LDDW(src, b) };

	if (src != dst && src != 10) {
		p[n++] = lb[0];
		p[n++] = lb[1];
	}
	p[n++] = la[0];
	p[n++] = la[1];
	p[n++] = INSN(code, dst, src, off, 0);
	n += emit_fold(p + n);
	run_both(p, n, NULL, 0);
}

/* Every register-source ALU op with a fixed-register constraint, for every
 * register pair and width, with and without BMI2. */
static void test_alu_reg_pairs(void **state)
{
	static const struct { uint8_t op; int16_t off; } ops[] = {
		{ ISA_DIV, 0 }, { ISA_DIV, 1 }, { ISA_MOD, 0 }, { ISA_MOD, 1 },
		{ ISA_LSH, 0 }, { ISA_RSH, 0 }, { ISA_ARSH, 0 }, { ISA_MUL, 0 },
		{ ISA_SUB, 0 }, { ISA_MOV, 8 }, { ISA_MOV, 16 }, { ISA_MOV, 32 },
	};
	size_t o, v;
	int bmi, dst, src, w;

	for (bmi = 0; bmi <= 1; bmi++) {
		jit_x86_force_bmi2(bmi);
		for (o = 0; o < COUNT(ops); o++)
		for (w = 0; w <= 1; w++)
		for (dst = 0; dst <= 9; dst++)
		for (src = 0; src <= 9; src++) {
			uint8_t code = (w ? ISA_ALU64 : ISA_ALU) | ops[o].op | ISA_X;

			if (ops[o].op == ISA_MOV && ops[o].off == 32 && !w)
				continue;
			for (v = 0; v < COUNT(vals); v += 3)
				check_binop(code, ops[o].off, dst, src, vals[v],
					    vals[(v * 7 + 3) % COUNT(vals)]);
			/* the fixed-value cases: zero and -1 divisors */
			check_binop(code, ops[o].off, dst, src,
				    0x8000000000000000ull, (uint64_t)-1);
			check_binop(code, ops[o].off, dst, src, 12345, 0);
		}
	}
	jit_x86_force_bmi2(-1);
}

/* Immediate divisors: the JIT decides zero, -1 and powers of two at
 * compile time. */
static void test_alu_imm_divisors(void **state)
{
	static const int32_t imms[] = {
		0, 1, -1, 2, 8, 1 << 30, INT32_MIN, INT32_MAX, -8, 7, 3,
	};
	static const uint8_t ops[] = { ISA_DIV, ISA_MOD };
	size_t i, o, v;
	int w, sgn, dst;

	for (o = 0; o < COUNT(ops); o++)
	for (w = 0; w <= 1; w++)
	for (sgn = 0; sgn <= 1; sgn++)
	for (i = 0; i < COUNT(imms); i++)
	for (dst = 0; dst <= 9; dst += 3)
	for (v = 0; v < COUNT(vals); v++) {
		struct bpfx_insn p[64];
		size_t n = emit_seed_regs(p, -1);
		struct bpfx_insn la[2] = { LDDW(dst, vals[v]) };

		p[n++] = la[0];
		p[n++] = la[1];
		p[n++] = INSN((w ? ISA_ALU64 : ISA_ALU) | ops[o] | ISA_K, dst,
			      0, (int16_t)sgn, imms[i]);
		n += emit_fold(p + n);
		run_both(p, n, NULL, 0);
	}
}

/* Loads, stores and atomics through every base register (r10 included)
 * with every source register. */
static void test_mem_reg_pairs(void **state)
{
	static const int32_t aops[] = {
		ISA_ADD, ISA_OR, ISA_AND, ISA_XOR, ISA_ADD | ISA_FETCH,
		ISA_OR | ISA_FETCH, ISA_AND | ISA_FETCH, ISA_XOR | ISA_FETCH,
		ISA_XCHG, ISA_CMPXCHG,
	};
	static const uint8_t sizes[] = { ISA_B, ISA_H, ISA_W, ISA_DW };
	uint8_t mem[32];
	int base, src, kind;
	size_t k;

	for (k = 0; k < sizeof(mem); k++)
		mem[k] = (uint8_t)(0x9c + 37 * k);
	for (base = 0; base <= 10; base++)
	for (src = 0; src <= 10; src++)
	for (kind = 0; kind < 4 + 4 + 4 + 3 + 20; kind++) {
		struct bpfx_insn p[96];
		size_t n = 0;
		int32_t off = base == 10 ? -16 : 8;
		bool fetch_src;
		struct bpfx_insn op;

		if (kind < 4) {		/* ldx */
			if (base == 10 && src == 10)
				continue;
			op = LDX(sizes[kind], src == 10 ? 0 : src, base, off);
		} else if (kind < 8) {	/* ldsx (no dw) and stx */
			op = kind < 7 ? INSN(ISA_LDX | ISA_MEMSX | sizes[kind - 4],
					     src == 10 ? 0 : src, base, off, 0)
				      : STX(ISA_DW, base, src, off);
		} else if (kind < 12) {
			op = STX(sizes[kind - 8], base, src, off);
		} else if (kind < 15) {
			op = ST(sizes[kind - 12], base, off, -0x5a5a5a5b);
		} else {
			int a = kind - 15;

			op = ATOMIC(a < 10 ? ISA_W : ISA_DW, aops[a % 10], base,
				    src, off);
		}
		fetch_src = ISA_MODE(op.code) == ISA_ATOMIC &&
			    (op.imm & ISA_FETCH) && op.imm != ISA_CMPXCHG;
		if (fetch_src && src == 10)
			continue;
		/* never store a pointer: the two runs' addresses differ */
		if ((ISA_CLASS(op.code) == ISA_STX) &&
		    (src == base || src == 6 || src == 10))
			continue;
		/* r6 = memory pointer, seed the rest, point base at memory */
		p[n++] = MOV64_REG(6, 1);
		n += emit_seed_regs(p + n, 6);
		if (base == 10) {	/* stack slot starts with known bytes */
			struct bpfx_insn l[2] = { LDDW(0, 0x1122334455667788ull) };
			struct bpfx_insn s0[2] = { LDDW(0, reg_seed(0)) };

			p[n++] = l[0];
			p[n++] = l[1];
			p[n++] = STX(ISA_DW, 10, 0, -16);
			p[n++] = STX(ISA_DW, 10, 0, -8);
			p[n++] = s0[0];
			p[n++] = s0[1];
		} else {
			p[n++] = MOV64_REG(base, 6);
		}
		p[n++] = op;
		if (base == 10) {	/* fold the stack slot in */
			p[n++] = LDX(ISA_DW, 6, 10, -16);
			p[n++] = ALU64_REG(ISA_XOR, 0, 6);
			p[n++] = LDX(ISA_DW, 6, 10, -8);
			p[n++] = ALU64_REG(ISA_XOR, 0, 6);
		}
		/* registers still holding the pointer are cleared */
		for (k = 0; k < 2; k++) {
			int r = k ? base : 6;
			bool written = (ISA_CLASS(op.code) == ISA_LDX && op.dst == r) ||
				       (fetch_src && src == r) ||
				       (op.imm == ISA_CMPXCHG &&
					ISA_MODE(op.code) == ISA_ATOMIC && r == 0);

			if (r != 10 && !written)
				p[n++] = MOV64_IMM(r, 0);
		}
		n += emit_fold(p + n);
		run_both(p, n, mem, sizeof(mem));
	}
}

/* Branches over bodies too long for rel8, backward and forward, in a
 * counted loop: exercises jump sizing across passes. */
static void test_long_jumps(void **state)
{
	struct bpfx_insn p[600];
	size_t n = 0, loop, k;

	p[n++] = MOV64_IMM(0, 0);
	p[n++] = MOV64_IMM(3, 20);
	loop = n;
	p[n++] = JMP_IMM(ISA_JEQ, 3, 7, 0); /* patched: skip the long body */
	for (k = 0; k < 200; k++)
		p[n++] = ALU64_IMM(k & 1 ? ISA_XOR : ISA_ADD, 0, (int32_t)k * 77);
	p[loop].off = (int16_t)(n - loop - 1);
	p[n++] = ALU64_IMM(ISA_MUL, 0, 3);
	p[n++] = ALU64_IMM(ISA_SUB, 3, 1);
	p[n] = JMP_IMM(ISA_JNE, 3, 0, (int16_t)(loop - n - 1));
	n++;
	p[n++] = EXIT();
	run_both(p, n, NULL, 0);
}

/* Helper calls, bpf-to-bpf calls 8 frames deep, callee-saved r6-r9 and
 * stack frames kept apart. */
static void test_deep_calls_frames(void **state)
{
	struct bpfx_insn p[128];
	size_t n = 0, d;

	/* main: r6..r9 set, r10 slot set, call f1, fold */
	p[n++] = MOV64_IMM(6, 6);
	p[n++] = MOV64_IMM(7, 7);
	p[n++] = MOV64_IMM(8, 8);
	p[n++] = MOV64_IMM(9, 9);
	p[n++] = ST(ISA_DW, 10, -8, 100);
	p[n++] = MOV64_IMM(1, 1);
	p[n++] = CALL_LOCAL(7);
	p[n++] = ALU64_REG(ISA_ADD, 0, 6);
	p[n++] = ALU64_REG(ISA_ADD, 0, 7);
	p[n++] = ALU64_REG(ISA_ADD, 0, 8);
	p[n++] = ALU64_REG(ISA_ADD, 0, 9);
	p[n++] = LDX(ISA_DW, 1, 10, -8);
	p[n++] = ALU64_REG(ISA_ADD, 0, 1);
	p[n++] = EXIT();
	/* 7 nested subprograms: each clobbers r6-r9 and its stack slot,
	 * calls a helper and the next, and returns r0 * 2 + depth */
	for (d = 1; d <= 7; d++) {
		p[n++] = MOV64_IMM(6, (int32_t)d * 1000);
		p[n++] = MOV64_IMM(9, (int32_t)d * 3000);
		p[n++] = ST(ISA_DW, 10, -8, (int32_t)d);
		p[n++] = MOV64_REG(7, 1);
		p[n++] = MOV64_IMM(2, 2);
		p[n++] = MOV64_IMM(3, 0);
		p[n++] = MOV64_IMM(4, 0);
		p[n++] = MOV64_IMM(5, 0);
		p[n++] = CALL(1);		/* r0 = r1 + 6 */
		p[n++] = MOV64_REG(1, 0);
		if (d < 7)
			p[n++] = CALL_LOCAL(5);
		else
			p[n++] = MOV64_REG(0, 1);
		p[n++] = LDX(ISA_DW, 8, 10, -8);
		p[n++] = ALU64_REG(ISA_ADD, 0, 8);
		p[n++] = ALU64_REG(ISA_ADD, 0, 6);
		p[n++] = ALU64_REG(ISA_ADD, 0, 9);
		p[n++] = EXIT();
	}
	run_both(p, n, NULL, 0);
}

/* The unwind helper returning 0 ends the run from the deepest frame; a
 * non-zero return continues. Both through call and callx. */
static void test_unwind_from_depth(void **state)
{
	uint64_t r;
	int via_callx, arg;

	for (via_callx = 0; via_callx <= 1; via_callx++)
	for (arg = 0; arg <= 1; arg++) {
		struct bpfx_insn p[] = {
			MOV64_IMM(6, 41),
			CALL_LOCAL(3),
			ALU64_IMM(ISA_ADD, 0, 1000),
			ALU64_REG(ISA_ADD, 0, 6),
			EXIT(),
			/* f1 */
			MOV64_IMM(6, 1),
			CALL_LOCAL(2),
			ALU64_IMM(ISA_ADD, 0, 100),
			EXIT(),
			/* f2 */
			MOV64_IMM(1, arg),
			MOV64_IMM(7, 5),
			via_callx ? INSN(ISA_JMP | ISA_CALL | ISA_X, 7, 0, 0, 0)
				  : CALL(5),
			ALU64_IMM(ISA_ADD, 0, 10),
			EXIT(),
		};

		r = run_both(p, COUNT(p), NULL, 0);
		assert_int_equal(r, arg ? 1 + 10 + 100 + 1000 + 41 : 0);
	}
}

/* callx: a good id calls, an out-of-range or unregistered one stops the
 * run with -EINVAL and says why, from any depth. */
static void test_callx(void **state)
{
	static const int64_t ids[] = { 1, 0, 2, 1023, 1024, -1, 0x100000001ll };
	struct bpfx_prog *prog;
	size_t k;

	for (k = 0; k < COUNT(ids); k++) {
		struct bpfx_insn p[] = {
			LDDW(5, (uint64_t)ids[k]),
			CALL_LOCAL(1),
			EXIT(),
			MOV64_IMM(1, 40),
			MOV64_IMM(2, 1),
			MOV64_IMM(3, 0),
			MOV64_IMM(4, 0),
			INSN(ISA_JMP | ISA_CALL | ISA_X, 5, 0, 0, 0),
			EXIT(),
		};
		uint64_t r0 = 0;
		int err;

		prog = bpfx_prog_load(vm, p, COUNT(p), NULL);
		assert_non_null(prog);
		assert_int_equal(bpfx_prog_jit(prog), 0);
		err = bpfx_prog_run(prog, BPFX_ENGINE_JIT, NULL, 0, &r0);
		if (ids[k] == 1) {
			assert_int_equal(err, 0);
			assert_int_equal(r0, 43 + 11);
		} else {
			assert_int_equal(err, -EINVAL);
			assert_non_null(strstr(bpfx_run_fault(), "callx"));
		}
		/* the thread's state is clean for the next run */
		run_both(p, COUNT(p), NULL, 0);
		bpfx_prog_free(prog);
	}
}

/* A helper outside rel32 reach of the code is called through a register. */
static void test_far_helper(void **state)
{
	/* lea rax, [rdi + rsi]; ret */
	static const uint8_t code[] = { 0x48, 0x8d, 0x04, 0x37, 0xc3 };
	static const uintptr_t spots[] = { 0x100000000000ull, 0x7e0000000000ull,
					   0x200000000ull };
	struct bpfx_vm *v2;
	uint8_t *far = MAP_FAILED;
	size_t k;

	for (k = 0; k < COUNT(spots) && far == MAP_FAILED; k++)
		far = mmap((void *)spots[k], 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (far == MAP_FAILED)
		skip();
	memcpy(far, code, sizeof(code));
	assert_int_equal(mprotect(far, 4096, PROT_READ | PROT_EXEC), 0);
	v2 = bpfx_vm_create();
	assert_non_null(v2);
	/* the near helper is registered first: the code lands near it */
	assert_int_equal(bpfx_vm_register_helper(v2, 1, "near", h_add), 0);
	assert_int_equal(bpfx_vm_register_helper(v2, 2, "far",
						 (bpfx_helper_fn)(void *)far), 0);
	{
		struct bpfx_insn p[] = {
			MOV64_IMM(1, 30), MOV64_IMM(2, 12), CALL(2),
			MOV64_REG(6, 0),
			MOV64_IMM(1, 1), MOV64_IMM(2, 1), MOV64_IMM(3, 1),
			MOV64_IMM(4, 1), MOV64_IMM(5, 1), CALL(1),
			ALU64_REG(ISA_ADD, 0, 6), EXIT(),
		};
		struct bpfx_prog *prog = bpfx_prog_load(v2, p, COUNT(p), NULL);
		uint64_t r0 = 0;

		assert_non_null(prog);
		assert_int_equal(bpfx_prog_jit(prog), 0);
		assert_int_equal(bpfx_prog_run(prog, BPFX_ENGINE_JIT, NULL, 0, &r0), 0);
		assert_int_equal(r0, 42 + 27);
		bpfx_prog_free(prog);
	}
	bpfx_vm_destroy(v2);
	munmap(far, 4096);
}

static uint64_t h_cpu(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
		      uint64_t e)
{
	return (uint64_t)sched_getcpu();
}

/* The CPU helper (vm_set_cpu_helper): the JIT reads rseq's cpu_id inline;
 * both engines answer the thread's CPU and keep r1-r5 across the call. */
static void test_cpu_helper(void **state)
{
	struct bpfx_vm *v2 = bpfx_vm_create();
	cpu_set_t set, one;
	int cpu;

	assert_non_null(v2);
	assert_int_equal(bpfx_vm_register_helper(v2, 8, "cpu", h_cpu), 0);
	assert_int_equal(vm_set_cpu_helper(v2, 9), -ENOENT);
	assert_int_equal(vm_set_cpu_helper(v2, 8), 0);
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		struct bpfx_insn p[] = {
			MOV64_IMM(1, 1), MOV64_IMM(2, 2), MOV64_IMM(3, 3),
			MOV64_IMM(4, 4), MOV64_IMM(5, 5), CALL(8),
			/* r0 = cpu * 1000000 + r1 * 10000 + ... + r5 */
			ALU64_IMM(ISA_MUL, 0, 10), ALU64_REG(ISA_ADD, 0, 1),
			ALU64_IMM(ISA_MUL, 0, 10), ALU64_REG(ISA_ADD, 0, 2),
			ALU64_IMM(ISA_MUL, 0, 10), ALU64_REG(ISA_ADD, 0, 3),
			ALU64_IMM(ISA_MUL, 0, 10), ALU64_REG(ISA_ADD, 0, 4),
			ALU64_IMM(ISA_MUL, 0, 10), ALU64_REG(ISA_ADD, 0, 5),
			EXIT(),
		};
		struct bpfx_prog *prog;
		uint64_t ri = 0, rj = 0;

		if (!CPU_ISSET(cpu, &set))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
		prog = bpfx_prog_load(v2, p, COUNT(p), NULL);
		assert_non_null(prog);
		assert_int_equal(bpfx_prog_jit(prog), 0);
		assert_int_equal(bpfx_prog_run(prog, BPFX_ENGINE_INTERP, NULL, 0, &ri), 0);
		assert_int_equal(bpfx_prog_run(prog, BPFX_ENGINE_JIT, NULL, 0, &rj), 0);
		assert_int_equal(ri, (uint64_t)cpu * 100000 + 12345);
		assert_int_equal(rj, (uint64_t)cpu * 100000 + 12345);
		bpfx_prog_free(prog);
	}
	assert_int_equal(sched_setaffinity(0, sizeof(set), &set), 0);
	bpfx_vm_destroy(v2);
}

/* The code is never writable once published. */
static void test_code_is_rx(void **state)
{
	struct bpfx_insn p[] = { MOV64_IMM(0, 7), EXIT() };
	struct bpfx_prog *prog = bpfx_prog_load(vm, p, COUNT(p), NULL);
	char line[512], perms[8];
	unsigned long lo, hi, at;
	bool found = false;
	FILE *f;

	assert_non_null(prog);
	assert_int_equal(bpfx_prog_jit(prog), 0);
	assert_int_equal(bpfx_prog_jit(prog), 0); /* idempotent */
	assert_true(bpfx_prog_jit_size(prog) > 0);
	at = (unsigned long)(uintptr_t)prog->jit_mem;
	f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) != 3)
			continue;
		if (at >= lo && at < hi) {
			assert_string_equal(perms, "r-xp");
			found = true;
		}
	}
	fclose(f);
	assert_true(found);
	bpfx_prog_free(prog);
}

static char last_msg[256];

__attribute__((format(printf, 2, 0))) static int
capture(enum bpfx_print_level level, const char *fmt, va_list ap)
{
	return vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
}

/* What the JIT cannot translate is refused with -EINVAL and a log line,
 * and leaves no code behind. (A loaded program never has an unknown
 * helper; the instruction is altered after load to get one.) */
static void test_refuse(void **state)
{
	struct bpfx_insn p[] = { CALL(1), EXIT() };
	struct bpfx_prog *prog = bpfx_prog_load(vm, p, COUNT(p), NULL);

	assert_non_null(prog);
	prog->insns[0].imm = 77;
	last_msg[0] = '\0';
	bpfx_set_print(capture);
	assert_int_equal(bpfx_prog_jit(prog), -EINVAL);
	bpfx_set_print(NULL);
	assert_non_null(strstr(last_msg, "insn 0"));
	assert_int_equal(bpfx_prog_jit_size(prog), 0);
	bpfx_prog_free(prog);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alu_reg_pairs),
		cmocka_unit_test(test_alu_imm_divisors),
		cmocka_unit_test(test_mem_reg_pairs),
		cmocka_unit_test(test_long_jumps),
		cmocka_unit_test(test_deep_calls_frames),
		cmocka_unit_test(test_unwind_from_depth),
		cmocka_unit_test(test_callx),
		cmocka_unit_test(test_far_helper),
		cmocka_unit_test(test_cpu_helper),
		cmocka_unit_test(test_code_is_rx),
		cmocka_unit_test(test_refuse),
	};

	bpfx_set_print(NULL);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
