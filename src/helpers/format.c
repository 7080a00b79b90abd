/* SPDX-License-Identifier: MIT */
/* format.c - printf-style formatting for trace_printk and snprintf (see
 * helpers_internal.h for the accepted conversions). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "helpers/helpers_internal.h"
#include "vm/vm_internal.h"

/* The spec strings are built from a checked grammar (flags, width,
 * precision, one conversion matched to its argument's type). */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

long helpers_format(char *out, size_t size, const char *fmt, uint64_t fmt_size,
		    const uint64_t *args, unsigned nargs)
{
	char spec[32], str[512]; /* the kernel's MAX_BPRINTF_BUF_LEN */
	size_t len = 0, k = 0;
	unsigned used = 0;

	if (!size)
		return -EINVAL;
	out[0] = '\0';
	if (!fmt || !fmt_size || !memchr(fmt, '\0', fmt_size))
		return -EINVAL;
	while (fmt[k]) {
		size_t s = 0;
		int lmod = 0, n;
		uint64_t v;
		char conv;

		if (fmt[k] != '%') {
			if (len + 1 < size)
				out[len++] = fmt[k];
			k++;
			continue;
		}
		spec[s++] = fmt[k++];
		if (fmt[k] == '%') {
			if (len + 1 < size)
				out[len++] = '%';
			k++;
			continue;
		}
		while (fmt[k] && strchr("-+ #0", fmt[k]) && s < 8)
			spec[s++] = fmt[k++];
		while (fmt[k] >= '0' && fmt[k] <= '9' && s < 16)
			spec[s++] = fmt[k++];
		if (fmt[k] == '.') {
			spec[s++] = fmt[k++];
			while (fmt[k] >= '0' && fmt[k] <= '9' && s < 24)
				spec[s++] = fmt[k++];
		}
		while (fmt[k] == 'l' || fmt[k] == 'h') {
			lmod += fmt[k] == 'l' ? 1 : -1;
			k++;
		}
		conv = fmt[k];
		if (!conv || !strchr("diuxXocsp", conv) || lmod > 2 || lmod < -2)
			return -EINVAL;
		k++;
		if (conv == 'p') { /* %p and kernel-style %pK/%px: print hex */
			while (fmt[k] && strchr("Kx", fmt[k]))
				k++;
		}
		if (used >= nargs)
			return -EINVAL;
		v = args[used++];
		switch (conv) {
		case 's':
			if (vm_nofault_strncpy(str, (const void *)(uintptr_t)v,
					       sizeof(str)) < 0)
				snprintf(str, sizeof(str), "(fault)");
			spec[s++] = 's';
			spec[s] = '\0';
			n = snprintf(out + len, size - len, spec, str);
			break;
		case 'c':
			spec[s++] = 'c';
			spec[s] = '\0';
			n = snprintf(out + len, size - len, spec, (int)(char)v);
			break;
		case 'p':
			spec[s++] = 'l';
			spec[s++] = 'l';
			spec[s++] = 'x';
			spec[s] = '\0';
			if (len + 2 < size) {
				out[len++] = '0';
				out[len++] = 'x';
			}
			n = snprintf(out + len, size - len, spec, (unsigned long long)v);
			break;
		default:
			spec[s++] = 'l';
			spec[s++] = 'l';
			spec[s++] = conv == 'i' ? 'd' : conv;
			spec[s] = '\0';
			if (conv == 'd' || conv == 'i') {
				long long sv = lmod >= 1 ? (long long)v
					       : lmod == 0 ? (long long)(int)v
					       : lmod == -1 ? (long long)(short)v
							    : (long long)(signed char)v;

				n = snprintf(out + len, size - len, spec, sv);
			} else {
				unsigned long long uv = lmod >= 1 ? v
					: lmod == 0 ? (uint32_t)v
					: lmod == -1 ? (uint16_t)v : (uint8_t)v;

				n = snprintf(out + len, size - len, spec, uv);
			}
		}
		if (n < 0)
			return -EINVAL;
		len += (size_t)n;
		if (len >= size)
			len = size - 1;
	}
	out[len] = '\0';
	return (long)len;
}
