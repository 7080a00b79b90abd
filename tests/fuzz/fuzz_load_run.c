/* SPDX-License-Identifier: MIT */
/*
 * fuzz_load_run.c - libFuzzer target: arbitrary bytes through the
 * structural checks, the disassembler and, when accepted, the checked
 * interpreter (which traps bad memory accesses and stops after a jump
 * budget). Nothing may crash, leak or trip a sanitizer.
 *
 * Input layout: byte 0 = input memory length (0..63), then that many
 * memory bytes, then the program (8-byte instructions).
 *
 * Smoke run (make test): 30 s. Long run:
 *   build-asan/tests/fuzz/fuzz_load_run -max_total_time=3600 corpus/
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/conformance.h"
#include "isa/isa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bpfx_vm *vm;
	struct bpfx_insn *insns;
	struct bpfx_prog *prog;
	uint8_t mem[64];
	size_t mlen, n, i;
	char line[160];
	uint64_t r0;

	if (!vm) {
		bpfx_set_print(NULL);
		vm = conf_vm_create();
		if (!vm)
			abort();
		bpfx_run_set_budget(10000);
	}
	if (size < 1)
		return 0;
	mlen = data[0] & 63;
	if (size < 1 + mlen)
		return 0;
	memcpy(mem, data + 1, mlen);
	data += 1 + mlen;
	size -= 1 + mlen;
	n = size / sizeof(*insns);
	insns = malloc(n ? n * sizeof(*insns) : 1);
	if (!insns)
		return 0;
	memcpy(insns, data, n * sizeof(*insns));
	for (i = 0; i < n; i++)
		bpfx_insn_disasm(&insns[i], n - i, line, sizeof(line));
	prog = bpfx_prog_load(vm, insns, n, NULL);
	if (prog) {
		/* helpers 1 (memfrob) and 4 (strcmp) dereference their
		 * arguments unchecked: the verifier, not this engine, vets
		 * helper arguments, so skip programs that call them */
		bool unchecked_helper = false;

		for (i = 0; i < n; i++)
			if (isa_is_helper_call(&insns[i]) ||
			    isa_is_callx(&insns[i]))
				unchecked_helper |= !isa_is_helper_call(&insns[i]) ||
						    insns[i].imm == 1 ||
						    insns[i].imm == 4;
		if (!unchecked_helper)
			bpfx_prog_run(prog, BPFX_ENGINE_CHECKED, mem, mlen, &r0);
		bpfx_prog_free(prog);
	}
	free(insns);
	return 0;
}
