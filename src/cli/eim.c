/* SPDX-License-Identifier: MIT */
/*
 * `bpfx eim ...` - the Extension Interface Model from the command line:
 *
 *   bpfx eim show FILE...              the spec of YAML files and/or binaries
 *                                      (their bpfx_eim section), as YAML
 *   bpfx eim check FILE...             parse and validate (exit 0/1)
 *   bpfx eim header FILE...            a C header for extension authors
 *   bpfx eim verify OBJ --eim FILE... --class NAME [--prog P] [-l LEVEL]
 *                                      verify OBJ as an extension of the class
 *   (also `bpfx verify OBJ --eim FILE --class NAME`)
 *
 * FILE is a YAML spec, or an ELF binary whose development side was declared
 * with the BPFX_EIM_* macros. Later files may name what earlier ones declare.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfx/bpfx.h"
#include "cli/cli.h"

static bool is_elf(const char *path)
{
	char m[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes;

	if (fd < 0)
		return false;
	yes = read(fd, m, 4) == 4 && !memcmp(m, "\x7f" "ELF", 4);
	close(fd);
	return yes;
}

static int add_any(struct bpfx_eim_spec *s, const char *path)
{
	char err[512] = "";
	int ret = is_elf(path) ? bpfx_eim_spec_add_binary(s, path, err, sizeof(err)) :
				 bpfx_eim_spec_add_file(s, path, err, sizeof(err));

	if (ret)
		fprintf(stderr, "bpfx eim: %s\n", err[0] ? err : strerror(-ret));
	return ret;
}

static int print_spec(int argc, char **argv, bool header, bool quiet)
{
	struct bpfx_eim_spec *s = bpfx_eim_spec_new();
	size_t n;
	char *buf;
	int a;

	if (!s)
		return 1;
	if (argc < 2) {
		fprintf(stderr, "usage: bpfx eim %s FILE...\n", argv[0]);
		bpfx_eim_spec_free(s);
		return 2;
	}
	for (a = 1; a < argc; a++)
		if (add_any(s, argv[a])) {
			bpfx_eim_spec_free(s);
			return 1;
		}
	n = header ? bpfx_eim_spec_header(s, NULL, 0) : bpfx_eim_spec_format(s, NULL, 0);
	buf = malloc(n + 1);
	if (buf) {
		if (header)
			bpfx_eim_spec_header(s, buf, n + 1);
		else
			bpfx_eim_spec_format(s, buf, n + 1);
		if (!quiet)
			fputs(buf, stdout);
		else
			printf("ok\n");
	}
	free(buf);
	bpfx_eim_spec_free(s);
	return buf ? 0 : 1;
}

int cmd_eim_verify(int argc, char **argv);

int cmd_eim_verify(int argc, char **argv)
{
	struct bpfx_ext_opts o = { .sz = sizeof(o), .verify_only = true };
	const char *obj = NULL, *cls = NULL;
	struct bpfx_host *h;
	struct bpfx_ext *x;
	const char *specs[16];
	int nspecs = 0, a, ret = 1;
	static char log[1 << 16];

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--eim") && a + 1 < argc && nspecs < 16)
			specs[nspecs++] = argv[++a];
		else if (!strcmp(argv[a], "--class") && a + 1 < argc)
			cls = argv[++a];
		else if (!strcmp(argv[a], "--prog") && a + 1 < argc)
			o.prog = argv[++a];
		else if (!strcmp(argv[a], "-l") && a + 1 < argc)
			o.log_level = (uint32_t)atoi(argv[++a]);
		else if (argv[a][0] != '-' && !obj)
			obj = argv[a];
		else {
			obj = NULL;
			break;
		}
	}
	if (!obj || !nspecs || !cls) {
		fprintf(stderr,
			"usage: bpfx verify OBJ --eim SPEC [--eim SPEC...] --class NAME [--prog P] [-l LEVEL]\n");
		return 2;
	}
	h = bpfx_host_open(NULL);
	if (!h)
		return 1;
	for (a = 0; a < nspecs; a++)
		if (add_any(bpfx_host_spec(h), specs[a]))
			goto out;
	o.log_buf = log;
	o.log_size = sizeof(log);
	x = bpfx_ext_load_file(h, obj, cls, &o);
	if (x) {
		printf("%s: accepted as class '%s'\n", obj, cls);
		bpfx_ext_free(x);
		ret = 0;
	} else {
		printf("%s: rejected as class '%s' (%s)\n%s", obj, cls, strerror(errno),
		       log);
	}
out:
	bpfx_host_close(h);
	return ret;
}

int cmd_eim(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
			"usage: bpfx eim show|check|header FILE... | verify OBJ --eim SPEC --class NAME\n");
		return 2;
	}
	if (!strcmp(argv[1], "show"))
		return print_spec(argc - 1, argv + 1, false, false);
	if (!strcmp(argv[1], "check"))
		return print_spec(argc - 1, argv + 1, false, true);
	if (!strcmp(argv[1], "header"))
		return print_spec(argc - 1, argv + 1, true, false);
	if (!strcmp(argv[1], "verify"))
		return cmd_eim_verify(argc - 1, argv + 1);
	fprintf(stderr, "bpfx eim: unknown command '%s'\n", argv[1]);
	return 2;
}
