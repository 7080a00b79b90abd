/* SPDX-License-Identifier: MIT */
/* cli.h - the bpfx command's subcommands, one file each. Each returns the
 * process exit status. */
#ifndef BPFX_CLI_H
#define BPFX_CLI_H

int cmd_conformance_plugin(int argc, char **argv);
int cmd_disasm(int argc, char **argv);

#endif
