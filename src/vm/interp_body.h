/* SPDX-License-Identifier: MIT */
/*
 * interp_body.h - the one interpreter body, instantiated by interp.c with:
 *   INTERP_NAME     function name
 *   INTERP_GOTO     1: computed-goto dispatch (a label per opcode, an
 *                   indirect jump at the end of every handler); 0: a switch
 *                   inside a loop
 *   INTERP_CHECKED  1: every load/store/atomic is checked against the valid
 *                   regions (input memory, live stack frames) and traps with
 *                   -EFAULT; 0: nothing is checked (load-time proofs hold)
 *
 * Frames: BPFX_MAX_FRAMES x BPFX_STACK_SIZE bytes on the C stack; frame k
 * (0 = main) has r10 = stack + (BPFX_MAX_FRAMES - k) * BPFX_STACK_SIZE, so
 * the live frames always form one contiguous range ending at the top.
 * A local call saves the return pc, r6-r9 and r10; exit restores them.
 *
 * Handlers read the current instruction through `pc`; NEXT advances by one
 * (lddw advances one more), branches add their offset first.
 */

#if INTERP_GOTO
#define CASE(name) L_##name:
#define DISPATCH() goto *labels[pc->code]
#else
#define CASE(name) case OPC_##name:
#define DISPATCH() goto dispatch
#endif
#define NEXT                                                                   \
	do {                                                                   \
		pc++;                                                          \
		DISPATCH();                                                    \
	} while (0)

#define DST reg[pc->dst]
#define SRC reg[pc->src]
#define IMM ((uint64_t)(int64_t)pc->imm)
#define ADDR(base) ((base) + (uint64_t)(int64_t)pc->off)
#define BRANCH(cond)                                                           \
	do {                                                                   \
		if (cond) {                                                    \
			pc += pc->off;                                         \
			COUNT_JUMP();                                          \
		}                                                              \
		NEXT;                                                          \
	} while (0)

#if INTERP_CHECKED
#define CHECK_MEM(a, n, what)                                                  \
	do {                                                                   \
		if (!interp_mem_ok(a, n, ctx, len, reg[10], depth))            \
			return interp_fault(prog, pc, a, n, what);             \
	} while (0)
#define CHECK_ALIGN(a, n, what)                                                \
	do {                                                                   \
		if ((a) & ((n) - 1))                                           \
			return interp_fault(prog, pc, a, n, what);             \
	} while (0)
/* only taken jumps can repeat work: count them against the budget */
#define COUNT_JUMP()                                                           \
	do {                                                                   \
		if (budget && --budget == 0)                                   \
			return interp_timeout(prog, pc);                       \
	} while (0)
#else
#define COUNT_JUMP() ((void)0)
#define CHECK_MEM(a, n, what) ((void)0)
#define CHECK_ALIGN(a, n, what) ((void)0)
#endif

#define LOAD(T, n, conv)                                                       \
	do {                                                                   \
		uint64_t a_ = ADDR(SRC);                                       \
		CHECK_MEM(a_, n, "load");                                      \
		DST = (uint64_t)(conv)(*(const T *)(uintptr_t)a_);             \
		NEXT;                                                          \
	} while (0)
#define STORE(T, n, v)                                                         \
	do {                                                                   \
		uint64_t a_ = ADDR(DST);                                       \
		CHECK_MEM(a_, n, "store");                                     \
		*(T *)(uintptr_t)a_ = (T)(v);                                  \
		NEXT;                                                          \
	} while (0)

#define ALU_BIN(NAME, OP)                                                      \
	CASE(NAME##64_K) DST = DST OP IMM; NEXT;                               \
	CASE(NAME##64_X) DST = DST OP SRC; NEXT;                               \
	CASE(NAME##32_K) DST = (uint32_t)((uint32_t)DST OP(uint32_t) pc->imm); \
	NEXT;                                                                  \
	CASE(NAME##32_X) DST = (uint32_t)((uint32_t)DST OP(uint32_t) SRC); NEXT;

#define ALU_SHIFT(NAME, OP64, OP32)                                            \
	CASE(NAME##64_K) DST = OP64(DST, IMM & 63); NEXT;                      \
	CASE(NAME##64_X) DST = OP64(DST, SRC & 63); NEXT;                      \
	CASE(NAME##32_K) DST = OP32((uint32_t)DST, (uint32_t)pc->imm & 31);    \
	NEXT;                                                                  \
	CASE(NAME##32_X) DST = OP32((uint32_t)DST, (uint32_t)SRC & 31); NEXT;

#define JCOND(NAME, OP, T64, T32)                                              \
	CASE(NAME##64_K) BRANCH((T64)DST OP(T64) IMM);                         \
	CASE(NAME##64_X) BRANCH((T64)DST OP(T64) SRC);                         \
	CASE(NAME##32_K) BRANCH((T32)DST OP(T32) pc->imm);                     \
	CASE(NAME##32_X) BRANCH((T32)DST OP(T32) SRC);

/* Run @prog from instruction @start: with r1 = @ctx, r2 = @len, or, for a
 * callback (@args non-NULL), with r1..r5 = @args; @ctx/@len still name
 * the input region the checked engine accepts. */
static int INTERP_NAME(const struct bpfx_prog *prog, uint32_t start,
		       const uint64_t *args, void *ctx, uint64_t len,
		       uint64_t *ret)
{
	const struct bpfx_vm *vm = prog->vm;
	const struct bpfx_insn *pc = prog->insns + start;
	uint64_t reg[ISA_NREGS] = { 0 };
	struct interp_frame frames[BPFX_MAX_FRAMES];
	uint8_t stack[BPFX_MAX_FRAMES * BPFX_STACK_SIZE]
		__attribute__((aligned(16)));
	uint32_t depth = 0;
#if INTERP_CHECKED
	uint64_t budget = vm_run.budget;
#endif
#if INTERP_GOTO
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
#ifdef __clang__
#pragma GCC diagnostic ignored "-Winitializer-overrides"
#endif
	static const void *const labels[256] = {
		[0 ... 255] = &&L_BAD,
#define X(name, code) [code] = &&L_##name,
		INTERP_OPS(X)
#undef X
	};
#pragma GCC diagnostic pop
#endif

	if (args) {
		memcpy(&reg[1], args, 5 * sizeof(reg[0]));
	} else {
		reg[1] = (uintptr_t)ctx;
		reg[2] = len;
	}
	reg[10] = (uintptr_t)(stack + sizeof(stack));
#if INTERP_GOTO
	goto *labels[pc->code];
#else
dispatch:
	switch (pc->code) {
#endif
	ALU_BIN(ADD, +)
	ALU_BIN(SUB, -)
	ALU_BIN(MUL, *)
	ALU_BIN(OR, |)
	ALU_BIN(AND, &)
	ALU_BIN(XOR, ^)
	ALU_SHIFT(LSH, SHL64, SHL32)
	ALU_SHIFT(RSH, SHR64, SHR32)
	ALU_SHIFT(ARSH, SAR64, SAR32)

	CASE(DIV64_K) DST = pc->off ? sdiv64(DST, IMM) : udiv64(DST, IMM); NEXT;
	CASE(DIV64_X) DST = pc->off ? sdiv64(DST, SRC) : udiv64(DST, SRC); NEXT;
	CASE(DIV32_K)
		DST = pc->off ? sdiv32((uint32_t)DST, (uint32_t)pc->imm)
			      : udiv32((uint32_t)DST, (uint32_t)pc->imm);
		NEXT;
	CASE(DIV32_X)
		DST = pc->off ? sdiv32((uint32_t)DST, (uint32_t)SRC)
			      : udiv32((uint32_t)DST, (uint32_t)SRC);
		NEXT;
	CASE(MOD64_K) DST = pc->off ? smod64(DST, IMM) : umod64(DST, IMM); NEXT;
	CASE(MOD64_X) DST = pc->off ? smod64(DST, SRC) : umod64(DST, SRC); NEXT;
	CASE(MOD32_K)
		DST = pc->off ? smod32((uint32_t)DST, (uint32_t)pc->imm)
			      : umod32((uint32_t)DST, (uint32_t)pc->imm);
		NEXT;
	CASE(MOD32_X)
		DST = pc->off ? smod32((uint32_t)DST, (uint32_t)SRC)
			      : umod32((uint32_t)DST, (uint32_t)SRC);
		NEXT;

	CASE(NEG64) DST = 0 - DST; NEXT;
	CASE(NEG32) DST = (uint32_t)(0 - (uint32_t)DST); NEXT;
	CASE(MOV64_K) DST = IMM; NEXT;
	CASE(MOV64_X) DST = pc->off ? movsx64(SRC, pc->off) : SRC; NEXT;
	CASE(MOV32_K) DST = (uint32_t)pc->imm; NEXT;
	CASE(MOV32_X)
		DST = (uint32_t)(pc->off ? movsx64(SRC, pc->off) : SRC);
		NEXT;
	CASE(LE) DST = to_le(DST, pc->imm); NEXT;
	CASE(BE) DST = bswap(DST, pc->imm); NEXT;
	CASE(BSWAP) DST = bswap(DST, pc->imm); NEXT;

	JCOND(JEQ, ==, uint64_t, uint32_t)
	JCOND(JNE, !=, uint64_t, uint32_t)
	JCOND(JGT, >, uint64_t, uint32_t)
	JCOND(JGE, >=, uint64_t, uint32_t)
	JCOND(JLT, <, uint64_t, uint32_t)
	JCOND(JLE, <=, uint64_t, uint32_t)
	JCOND(JSGT, >, int64_t, int32_t)
	JCOND(JSGE, >=, int64_t, int32_t)
	JCOND(JSLT, <, int64_t, int32_t)
	JCOND(JSLE, <=, int64_t, int32_t)
	CASE(JSET64_K) BRANCH(DST & IMM);
	CASE(JSET64_X) BRANCH(DST & SRC);
	CASE(JSET32_K) BRANCH((uint32_t)DST & (uint32_t)pc->imm);
	CASE(JSET32_X) BRANCH((uint32_t)DST & (uint32_t)SRC);
	CASE(JA) pc += pc->off; COUNT_JUMP(); NEXT;
	CASE(GOTOL) pc += pc->imm; COUNT_JUMP(); NEXT;

	CASE(CALL)
		if (pc->src == ISA_CALL_LOCAL) {
			struct interp_frame *f = &frames[depth++];

			f->ret = pc;
			memcpy(f->saved, &reg[6], sizeof(f->saved));
			reg[10] -= BPFX_STACK_SIZE;
			pc += pc->imm;
			NEXT;
		}
		if (pc->imm == VM_HELPER_TAIL_CALL) {
			/* replace the running program, keep ctx in r1 and the
			 * current frame (as the kernel); on failure go on */
			const struct bpfx_prog *t = vm_tail_target(reg[2], reg[3]);

			if (t) {
				prog = t;
				pc = t->insns;
				DISPATCH();
			}
			reg[0] = (uint64_t)-ENOENT;
			NEXT;
		}
		reg[0] = vm->helper_fns[pc->imm](reg[1], reg[2], reg[3], reg[4],
						 reg[5]);
		if (pc->imm == vm->unwind_helper && reg[0] == 0)
			goto done;
		NEXT;
	CASE(CALLX)
		if (DST >= vm->nhelpers || !vm->helper_fns[DST])
			return interp_bad_callx(prog, pc, DST);
		{
			uint64_t id = DST;

			reg[0] = vm->helper_fns[id](reg[1], reg[2], reg[3],
						    reg[4], reg[5]);
			if ((int64_t)id == vm->unwind_helper && reg[0] == 0)
				goto done;
		}
		NEXT;
	CASE(EXIT)
		if (!depth)
			goto done;
		{
			struct interp_frame *f = &frames[--depth];

			pc = f->ret;
			memcpy(&reg[6], f->saved, sizeof(f->saved));
			reg[10] += BPFX_STACK_SIZE;
		}
		NEXT;

	CASE(LDXB) LOAD(u8_una, 1, uint8_t);
	CASE(LDXH) LOAD(u16_una, 2, uint16_t);
	CASE(LDXW) LOAD(u32_una, 4, uint32_t);
	CASE(LDXDW) LOAD(u64_una, 8, uint64_t);
	CASE(LDXSB) LOAD(u8_una, 1, int8_t);
	CASE(LDXSH) LOAD(u16_una, 2, int16_t);
	CASE(LDXSW) LOAD(u32_una, 4, int32_t);
	CASE(STB) STORE(u8_una, 1, pc->imm);
	CASE(STH) STORE(u16_una, 2, pc->imm);
	CASE(STW) STORE(u32_una, 4, pc->imm);
	CASE(STDW) STORE(u64_una, 8, IMM);
	CASE(STXB) STORE(u8_una, 1, SRC);
	CASE(STXH) STORE(u16_una, 2, SRC);
	CASE(STXW) STORE(u32_una, 4, SRC);
	CASE(STXDW) STORE(u64_una, 8, SRC);
	CASE(ATOMIC32)
	{
		uint64_t a_ = ADDR(DST);

		CHECK_MEM(a_, 4, "atomic");
		CHECK_ALIGN(a_, 4, "misaligned atomic");
		atomic32(pc, (uint32_t *)(uintptr_t)a_, reg);
		NEXT;
	}
	CASE(ATOMIC64)
	{
		uint64_t a_ = ADDR(DST);

		CHECK_MEM(a_, 8, "atomic");
		CHECK_ALIGN(a_, 8, "misaligned atomic");
		atomic64(pc, (uint64_t *)(uintptr_t)a_, reg);
		NEXT;
	}
	CASE(LDDW)
		DST = (uint32_t)pc[0].imm | ((uint64_t)(uint32_t)pc[1].imm << 32);
		pc++;
		NEXT;

#if !INTERP_GOTO
	default:
		goto L_BAD;
	}
#endif
L_BAD:
	/* unreachable for a loaded program: load checked every opcode */
	return interp_bad_opcode(prog, pc);
done:
	*ret = reg[0];
	return 0;
}

#undef CASE
#undef NEXT
#undef DISPATCH
#undef DST
#undef SRC
#undef IMM
#undef ADDR
#undef BRANCH
#undef CHECK_MEM
#undef CHECK_ALIGN
#undef COUNT_JUMP
#undef LOAD
#undef STORE
#undef ALU_BIN
#undef ALU_SHIFT
#undef JCOND
