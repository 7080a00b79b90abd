/* SPDX-License-Identifier: MIT */
/* Placeholder until the x86-64 JIT lands: the JIT engine is refused. */
#include <errno.h>
#include "vm/vm_internal.h"

int jit_compile(struct bpfx_prog *prog)
{
	(void)prog;
	return -EOPNOTSUPP;
}

void jit_free(struct bpfx_prog *prog)
{
	(void)prog;
}
