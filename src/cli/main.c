/* SPDX-License-Identifier: MIT */
/* main.c - the bpfx command: dispatch to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "conformance-plugin", cmd_conformance_plugin,
	  "[MEM] [--engine interp|switch|checked|jit]  bpf_conformance plugin protocol" },
	{ "disasm", cmd_disasm,
	  "FILE [--hex]  disassemble raw eBPF instructions (binary, or hex text)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: bpfx COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "bpfx: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
