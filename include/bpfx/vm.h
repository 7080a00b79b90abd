/* SPDX-License-Identifier: MIT */
/*
 * bpfx/vm.h - the eBPF virtual machine: load, check, compile and run programs.
 *
 * A struct bpfx_vm holds what programs may call (the helper table). A program
 * is loaded into a VM from raw instructions: load runs the structural checks
 * (opcodes, reserved fields, registers, jumps, lddw pairs, subprograms, calls)
 * and refuses a bad program with -EINVAL and one line in the log naming the
 * instruction. A loaded program runs on one of several engines; all engines
 * compute the same results for every program that passes the checks.
 *
 * Conventions: int functions return 0 or -errno; constructors return NULL and
 * set errno. Nothing here prints or exits.
 */
#ifndef BPFX_VM_H
#define BPFX_VM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef BPFX_API
#define BPFX_API __attribute__((visibility("default")))
#endif

/* One eBPF instruction, bit-identical to the kernel's struct bpf_insn:
 *
 *   63            32 31      16 15    12 11     8 7          0
 *  +----------------+----------+--------+--------+------------+
 *  |      imm       |   off    |  src   |  dst   |   opcode   |
 *  +----------------+----------+--------+--------+------------+
 */
struct bpfx_insn {
	uint8_t code;
	uint8_t dst : 4;
	uint8_t src : 4;
	int16_t off;
	int32_t imm;
};

/* Program size limit of the structural checks (instructions, lddw counts 2). */
#define BPFX_MAX_INSNS 65536
/* Stack bytes per frame and frames per run (bpf-to-bpf call depth). */
#define BPFX_STACK_SIZE 512
#define BPFX_MAX_FRAMES 8
/* Highest helper id a VM accepts. */
#define BPFX_MAX_HELPER 1023

/* Helpers follow the eBPF calling convention: r1..r5 in, r0 out. */
typedef uint64_t (*bpfx_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3,
				   uint64_t r4, uint64_t r5);

enum bpfx_engine {
	BPFX_ENGINE_INTERP = 0,	/* interpreter, computed-goto dispatch */
	BPFX_ENGINE_INTERP_SWITCH, /* the same body with switch dispatch */
	BPFX_ENGINE_CHECKED,	/* interpreter that traps every bad access */
	BPFX_ENGINE_JIT,	/* native x86-64 code */
};

/* Message levels of the print callback. */
enum bpfx_print_level {
	BPFX_WARN,
	BPFX_INFO,
	BPFX_DEBUG,
};
typedef int (*bpfx_print_fn)(enum bpfx_print_level level, const char *fmt,
			     va_list ap);
/* Route library messages; returns the previous callback. NULL silences. */
BPFX_API bpfx_print_fn bpfx_set_print(bpfx_print_fn fn);

struct bpfx_vm;
struct bpfx_prog;

BPFX_API struct bpfx_vm *bpfx_vm_create(void);
BPFX_API void bpfx_vm_destroy(struct bpfx_vm *vm);
/* Make helper @id callable as `call id` (and `callx` with id in a register).
 * -EINVAL for a bad id or NULL fn, -EEXIST if @id is taken. */
BPFX_API int bpfx_vm_register_helper(struct bpfx_vm *vm, uint32_t id,
				     const char *name, bpfx_helper_fn fn);
/* Helper @id ends the program with r0 = 0 whenever it returns 0 (ubpf's
 * "unwind" extension). -ENOENT if @id is not registered, -EBUSY once a
 * program of this VM was JIT-compiled (compiled code has the id built in). */
BPFX_API int bpfx_vm_set_unwind_helper(struct bpfx_vm *vm, uint32_t id);
/* Name of helper @id, or NULL. */
BPFX_API const char *bpfx_vm_helper_name(const struct bpfx_vm *vm,
					 uint32_t id);

struct bpfx_prog_opts {
	size_t sz;		/* sizeof(struct bpfx_prog_opts) */
	char *log_buf;		/* caller-owned; receives the rejection line */
	size_t log_size;
	/* Registers defined at entry besides r1 and r10 (bit n = rn); the
	 * raw conformance convention also defines r2 (length). */
	uint32_t entry_regs;
};

/* Check and load @cnt instructions. NULL with errno EINVAL (bad program,
 * reason in log_buf), E2BIG (too long), ENOMEM. The VM must outlive the
 * program. */
BPFX_API struct bpfx_prog *bpfx_prog_load(struct bpfx_vm *vm,
					  const struct bpfx_insn *insns,
					  size_t cnt,
					  const struct bpfx_prog_opts *opts);
BPFX_API void bpfx_prog_free(struct bpfx_prog *prog);
BPFX_API size_t bpfx_prog_insn_cnt(const struct bpfx_prog *prog);
BPFX_API const struct bpfx_insn *bpfx_prog_insns(const struct bpfx_prog *prog);

/* Compile to native code (idempotent). -EOPNOTSUPP where no JIT exists,
 * -EINVAL for a program the JIT cannot compile (never miscompiled). */
BPFX_API int bpfx_prog_jit(struct bpfx_prog *prog);
/* Size of the compiled code in bytes, 0 before bpfx_prog_jit. */
BPFX_API size_t bpfx_prog_jit_size(const struct bpfx_prog *prog);

/* Run with r1 = @ctx, r2 = @len, r10 = top of a fresh stack. On success
 * stores r0 in *@ret and returns 0. Errors: -EFAULT (the checked engine
 * trapped a bad access), -EINVAL (callx to an unknown helper), -ENOEXEC
 * (engine JIT before bpfx_prog_jit), -ELOOP (checked engine: jump budget
 * exhausted, see bpfx_run_set_budget). */
BPFX_API int bpfx_prog_run(const struct bpfx_prog *prog, enum bpfx_engine engine,
			   void *ctx, size_t len, uint64_t *ret);

/* Checked engine only: the calling thread's runs stop with -ELOOP after
 * @jumps taken jumps (0, the default, means no limit). */
BPFX_API void bpfx_run_set_budget(uint64_t jumps);

/* What the calling thread's last failed run hit, in words ("" if none). */
BPFX_API const char *bpfx_run_fault(void);

/* Disassemble the instruction at @insn (kernel/LLVM syntax) into @buf.
 * @left is the number of instructions from @insn to the end (lddw needs 2).
 * Returns the number of instruction slots consumed (1 or 2), or -EINVAL for
 * an undecodable instruction (a "(bad)" line is still written). */
BPFX_API int bpfx_insn_disasm(const struct bpfx_insn *insn, size_t left,
			      char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* BPFX_VM_H */
