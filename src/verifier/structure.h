/* SPDX-License-Identifier: MIT */
#ifndef BPFX_VERIFIER_STRUCTURE_H
#define BPFX_VERIFIER_STRUCTURE_H

#include <stdint.h>

#include "bpfx/vm.h"
#include "vm/vm_internal.h"

/*
 * Structural checks of @n instructions (see structure.c). On success
 * returns 0 and hands over the ascending subprogram start indexes in
 * *@starts (malloc'ed, *@nsubs entries). On failure returns -EINVAL (bad
 * program, one line in @log), -E2BIG (too long) or -ENOMEM.
 * @entry_regs: registers defined at entry besides r1 and r10 (bit n = rn).
 */
int verifier_check_structure(const struct bpfx_vm *vm,
			     const struct bpfx_insn *insns, uint32_t n,
			     uint32_t entry_regs, struct vm_log_buf *log,
			     uint32_t **starts, uint32_t *nsubs);

/*
 * The same, as the verifier runs it: @vm may be NULL (helper ids are then
 * checked against prototypes later), and with @pseudo lddw may carry the
 * pseudo sources 1/2/5/6 (map / map value by table index) and 4 (a
 * subprogram, which then starts a subprogram like a call target).
 */
int verifier_check_structure_ex(const struct bpfx_vm *vm,
				const struct bpfx_insn *insns, uint32_t n,
				uint32_t entry_regs, bool pseudo,
				struct vm_log_buf *log,
				uint32_t **starts, uint32_t *nsubs);

#endif
