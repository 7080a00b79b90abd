/* SPDX-License-Identifier: MIT */
#ifndef BPFX_HELPERS_INTERNAL_H
#define BPFX_HELPERS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "helpers/helpers.h"

/*
 * The kernel's bpf_trace_printk / bpf_snprintf formatting: @fmt (at most
 * @fmt_size bytes, NUL-terminated within them) with @nargs u64 arguments.
 * Conversions: %d %i %u %x %X %o %c %s %p %% with flags, width, precision
 * and the l/ll/h/hh modifiers; %s and %p read through the nofault copy.
 * Returns the length written to @out (always NUL-terminated), or -EINVAL
 * for a bad format or too few arguments.
 */
long helpers_format(char *out, size_t size, const char *fmt, uint64_t fmt_size,
		    const uint64_t *args, unsigned nargs);

#endif
