/* SPDX-License-Identifier: MIT */
/* util.c - what the CLI's subcommands share. */
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "emu/emu.h"

static bool libbpf_verbose;

__attribute__((format(printf, 2, 0))) static int
libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN || libbpf_verbose)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

void cli_libbpf_quiet(bool verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_print(libbpf_print);
}

const char *cli_session_name(void)
{
	const char *s = getenv("BPFX_SESSION");

	return s && *s ? s : "default";
}

void cli_print_hex(const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++)
		printf("%s%02x", i ? " " : "", p[i]);
}

int cli_parse_bytes(const char *s, void *out, size_t len)
{
	uint8_t *o = out;
	size_t n = 0;
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	/* a single integer: little-endian into len bytes */
	if (!strchr(s, ' ') && len <= 8) {
		unsigned long long v;

		errno = 0;
		v = strtoull(s, &end, 0);
		if (!errno && end != s && !*end) {
			if (len < 8 && (v >> (8 * len)))
				return -ERANGE;
			for (n = 0; n < len; n++)
				o[n] = (uint8_t)(v >> (8 * n));
			return 0;
		}
	}
	while (*s && n < len) {
		unsigned long b;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		b = strtoul(s, &end, 16);
		if (end == s || b > 0xff)
			return -EINVAL;
		o[n++] = (uint8_t)b;
		s = end;
	}
	while (isspace((unsigned char)*s))
		s++;
	return n == len && !*s ? 0 : -EINVAL;
}

const char *cli_prog_type_name(uint32_t type)
{
	const char *n;

	if (type == BPFX_PROG_TYPE_RAW)
		return "bpfx_raw";
	n = libbpf_bpf_prog_type_str((enum bpf_prog_type)type);
	return n ? n : "unknown";
}

const char *cli_map_type_name(uint32_t type)
{
	const char *n = libbpf_bpf_map_type_str((enum bpf_map_type)type);

	return n ? n : "unknown";
}

struct bpf_object *cli_load_object(const char *path)
{
	struct bpf_object *obj;
	int err;

	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "bpfx: %s: cannot open: %s\n", path, strerror(errno));
		return NULL;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "bpfx: %s: load failed: %s\n", path, strerror(-err));
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}
