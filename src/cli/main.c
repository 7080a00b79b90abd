/* SPDX-License-Identifier: MIT */
/* main.c - the bpfx command: global options, then one subcommand per file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "emu/emu.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "run", cmd_run,
	  "OBJ.bpf.o [--pid PID | -- CMD ARGS...]  load, attach, print output and maps" },
	{ "start", cmd_start, "-- CMD ARGS...  run CMD with the agent preloaded" },
	{ "load", cmd_start,
	  "-- TOOL ARGS...  run an unmodified eBPF tool (libbpf, bpftool) against the session" },
	{ "attach", cmd_attach, "PID  load the agent into a running process (ptrace)" },
	{ "link", cmd_link, "list  the session's links" },
	{ "detach", cmd_detach, "--all  detach every link (targets are unpatched)" },
	{ "verify", cmd_verify,
	  "OBJ [--stats] [-l LEVEL]  verify every program of OBJ, print verdicts (exit 0/1)" },
	{ "eim", cmd_eim,
	  "show|check|header FILE... | verify OBJ --eim SPEC --class NAME  Extension Interface Model" },
	{ "prog", cmd_prog,
	  "list | show ID | dump ID | run OBJ [PROG] [--data-in F] [--ctx-in F] [--repeat N] [--engine interp|jit]" },
	{ "map", cmd_map,
	  "list | dump ID | lookup ID KEY | update ID KEY VALUE | delete ID KEY  [--json]" },
	{ "trace", cmd_trace, "[--once]  print trace_printk output (follows)" },
	{ "reset", cmd_reset, "remove the session and every object in it" },
	{ "conformance-plugin", cmd_conformance_plugin,
	  "[MEM] [--engine interp|switch|checked|jit]  bpf_conformance plugin protocol" },
	{ "disasm", cmd_disasm,
	  "FILE [--hex]  disassemble raw eBPF instructions (binary, or hex text)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: bpfx [--session NAME] [-v] COMMAND [ARGS]\n\n"
		   "The session (default \"default\", or $BPFX_SESSION) holds maps, programs\n"
		   "and links in /dev/shm/bpfx-<uid>-<session>/.\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	bool verbose = false;
	size_t i;
	int a = 1;

	while (a < argc && argv[a][0] == '-') {
		if (!strcmp(argv[a], "--session") && a + 1 < argc) {
			setenv("BPFX_SESSION", argv[a + 1], 1);
			a += 2;
		} else if (!strcmp(argv[a], "-v") || !strcmp(argv[a], "--verbose")) {
			verbose = true;
			a++;
		} else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "bpfx: unknown option %s\n", argv[a]);
			usage(stderr);
			return 2;
		}
	}
	if (a >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[a], "help")) {
		usage(stdout);
		return 0;
	}
	cli_libbpf_quiet(verbose);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[a], cmds[i].name))
			return cmds[i].fn(argc - a, argv + a);
	fprintf(stderr, "bpfx: unknown command '%s'\n", argv[a]);
	usage(stderr);
	return 2;
}
