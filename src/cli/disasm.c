/* SPDX-License-Identifier: MIT */
/* `bpfx disasm FILE [--hex]` - print each instruction as "N: text". */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/conformance.h"

int cmd_disasm(int argc, char **argv)
{
	const char *path = NULL;
	bool hex = false;
	uint8_t *bytes = NULL;
	long n = 0;
	size_t i, cnt;
	FILE *f;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--hex"))
			hex = true;
		else if (!path)
			path = argv[a];
		else {
			fprintf(stderr, "bpfx disasm: unexpected argument '%s'\n", argv[a]);
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: bpfx disasm FILE [--hex]\n");
		return 2;
	}
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "bpfx disasm: %s: %s\n", path, strerror(errno));
		return 1;
	}
	{
		size_t cap = 1 << 16, got;
		char *buf = malloc(cap + 1);

		while (buf && (got = fread(buf + n, 1, cap - (size_t)n, f)) > 0) {
			n += (long)got;
			if ((size_t)n == cap) {
				char *nb = realloc(buf, cap * 2 + 1);

				if (!nb)
					break;
				buf = nb;
				cap *= 2;
			}
		}
		if (f != stdin)
			fclose(f);
		if (!buf) {
			fprintf(stderr, "bpfx disasm: out of memory\n");
			return 1;
		}
		buf[n] = '\0';
		if (hex) {
			n = conf_parse_hex(buf, &bytes);
			free(buf);
			if (n < 0) {
				fprintf(stderr, "bpfx disasm: %s: not hex bytes\n", path);
				return 1;
			}
		} else {
			bytes = (uint8_t *)buf;
		}
	}
	if (n % 8)
		fprintf(stderr, "bpfx disasm: %s: %ld trailing bytes ignored\n",
			path, n % 8);
	cnt = (size_t)n / 8;
	for (i = 0; i < cnt;) {
		struct bpfx_insn insn[2];
		char line[160];
		int k;

		memcpy(insn, bytes + i * 8, (cnt - i > 1 ? 2 : 1) * 8);
		k = bpfx_insn_disasm(insn, cnt - i, line, sizeof(line));
		printf("%4zu: %s\n", i, line);
		i += k > 0 ? (size_t)k : 1;
	}
	free(bytes);
	return 0;
}
