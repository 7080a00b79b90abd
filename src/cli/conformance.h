/* SPDX-License-Identifier: MIT */
/*
 * conformance.h - what the conformance suites need beyond the VM: the test
 * helpers 0-5 of ../shared/conformance/README.md, hex parsing, and a run of
 * one case. Used by `bpfx conformance-plugin` and tests/conformance.
 */
#ifndef BPFX_CLI_CONFORMANCE_H
#define BPFX_CLI_CONFORMANCE_H

#include <stddef.h>
#include <stdint.h>

#include "bpfx/vm.h"

/* A VM with the conformance helpers registered (5 = unwind). */
struct bpfx_vm *conf_vm_create(void);

/* Parse hex bytes ("b7 01 00 00", "b7010000", "0x00000000000001b7" lines
 * are all accepted; 0x-prefixed 64-bit words are read as numbers, little-
 * endian). Returns the byte count, or -EINVAL on a non-hex character.
 * *@out is malloc'ed (may be NULL for zero bytes). */
long conf_parse_hex(const char *s, uint8_t **out);

/* Parse an engine name: interp, switch, checked, jit. -EINVAL if unknown. */
int conf_engine(const char *name, enum bpfx_engine *out);

struct conf_result {
	int load_err;	  /* 0 or -errno from load/JIT */
	int run_err;	  /* 0 or -errno from run */
	uint64_t r0;
	char msg[512];	  /* rejection or fault text */
};

/* Load @prog (@plen bytes) and run it on @engine over a copy of @mem. */
void conf_run(struct bpfx_vm *vm, const uint8_t *prog, size_t plen,
	      const uint8_t *mem, size_t mlen, enum bpfx_engine engine,
	      struct conf_result *res);

#endif
