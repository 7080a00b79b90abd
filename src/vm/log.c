/* SPDX-License-Identifier: MIT */
/* log.c - the library's print callback (stderr for warnings by default). */
#include <stdarg.h>
#include <stdio.h>

#include "vm/vm_internal.h"

__attribute__((format(printf, 2, 0))) static int
default_print(enum bpfx_print_level level, const char *fmt,
			 va_list ap)
{
	if (level > BPFX_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bpfx_print_fn print_fn = default_print;

bpfx_print_fn bpfx_set_print(bpfx_print_fn fn)
{
	bpfx_print_fn old = print_fn;

	print_fn = fn;
	return old;
}

void vm_log(enum bpfx_print_level level, const char *fmt, ...)
{
	va_list ap;

	if (!print_fn)
		return;
	va_start(ap, fmt);
	print_fn(level, fmt, ap);
	va_end(ap);
}
