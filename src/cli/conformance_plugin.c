/* SPDX-License-Identifier: MIT */
/*
 * `bpfx conformance-plugin [MEM] [--engine E]` - the bpf_conformance plugin
 * protocol: MEM is one argument of hex bytes; the program arrives on stdin
 * as one line of hex bytes. Success: r0 in hex on stdout, exit 0. Failure:
 * the reason on stdout, exit 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/conformance.h"

static char *read_all(FILE *f)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

int cmd_conformance_plugin(int argc, char **argv)
{
	enum bpfx_engine engine = BPFX_ENGINE_INTERP;
	const char *memarg = NULL;
	uint8_t *mem = NULL, *prog = NULL;
	long mlen = 0, plen;
	struct conf_result res;
	struct bpfx_vm *vm;
	char *text;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
			if (conf_engine(argv[++i], &engine)) {
				fprintf(stderr, "bpfx: unknown engine '%s' (interp, switch, checked, jit)\n",
					argv[i]);
				return 2;
			}
		} else if (!strncmp(argv[i], "--", 2)) {
			/* other runner options (e.g. --elf) are not ours */
			fprintf(stderr, "bpfx: unsupported option '%s'\n", argv[i]);
			return 2;
		} else if (!memarg) {
			memarg = argv[i];
		} else {
			fprintf(stderr, "bpfx: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (memarg) {
		mlen = conf_parse_hex(memarg, &mem);
		if (mlen < 0) {
			printf("bad memory argument: not hex bytes\n");
			return 1;
		}
	}
	text = read_all(stdin);
	if (!text) {
		printf("cannot read the program from stdin\n");
		free(mem);
		return 1;
	}
	plen = conf_parse_hex(text, &prog);
	free(text);
	if (plen < 0) {
		printf("bad program: not hex bytes\n");
		free(mem);
		return 1;
	}
	vm = conf_vm_create();
	if (!vm) {
		printf("cannot create a VM: %s\n", strerror(errno));
		free(mem);
		free(prog);
		return 1;
	}
	conf_run(vm, prog, (size_t)plen, mem, (size_t)mlen, engine, &res);
	bpfx_vm_destroy(vm);
	free(mem);
	free(prog);
	if (res.load_err || res.run_err) {
		printf("%s\n", res.msg);
		return 1;
	}
	printf("%" PRIx64 "\n", res.r0);
	return 0;
}
