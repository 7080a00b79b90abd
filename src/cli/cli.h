/* SPDX-License-Identifier: MIT */
/* cli.h - the bpfx command's subcommands, one file each, and the few
 * things they share. Each command returns the process exit status. */
#ifndef BPFX_CLI_H
#define BPFX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int cmd_conformance_plugin(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_prog(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_reset(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_link(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_eim(int argc, char **argv);
int cmd_eim_verify(int argc, char **argv); /* verify OBJ --eim SPEC --class C */

/* The session named by --session / $BPFX_SESSION / "default". */
const char *cli_session_name(void);

/* libbpf messages: warnings to stderr, the rest only with -v. */
void cli_libbpf_quiet(bool verbose);

/* Print @len bytes as hex pairs separated by spaces. */
void cli_print_hex(const void *data, size_t len);
/* Parse "0x1122", "12", or "01 02 03" into exactly @len bytes
 * (integers little-endian); -EINVAL on mismatch. */
int cli_parse_bytes(const char *s, void *out, size_t len);

/* Name of a program / map type ("kprobe", "hash"), libbpf's spelling. */
const char *cli_prog_type_name(uint32_t type);
const char *cli_map_type_name(uint32_t type);

/* Open @path with stock libbpf and load it through the emulation. NULL
 * (and a message on stderr) on failure. */
struct bpf_object *cli_load_object(const char *path);

#endif
