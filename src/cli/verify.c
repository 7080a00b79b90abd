/* SPDX-License-Identifier: MIT */
/*
 * `bpfx verify OBJ [--stats] [-l LEVEL] [--btf FILE]` - load OBJ through stock libbpf
 * and the emulation (so the verifier sees exactly what `bpfx run` would
 * load) and print each program's verdict: the verifier's log for a
 * rejection, and with --stats the instructions processed, states, peak
 * states and verification time. A rejected program is set aside and the
 * object loaded again, so every program gets a verdict. Exit 0 when every
 * program is accepted, 1 if not. --btf names the BTF that CO-RE
 * relocations resolve against (default: the kernel's).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define LOG_SIZE (1u << 20)
#define MAX_PROGS 256

static char failed_name[256];

/* libbpf names the program that failed: "prog 'NAME': failed to load" */
__attribute__((format(printf, 2, 0))) static int
catch_failure(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	const char *p, *q;

	vsnprintf(line, sizeof(line), fmt, ap);
	if ((p = strstr(line, "prog '")) && strstr(line, "failed to load") &&
	    (q = strchr(p + 6, '\''))) {
		snprintf(failed_name, sizeof(failed_name), "%.*s", (int)(q - p - 6),
			 p + 6);
	}
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	char *logs[MAX_PROGS] = { 0 }, *rejected[MAX_PROGS] = { 0 };
	const char *path = NULL, *btf = NULL;
	bool stats = false, done = false;
	unsigned level = 1;
	int i, nrej = 0, ret = 1, round;

	for (i = 1; i < argc; i++) /* as an EIM extension class: src/cli/eim.c */
		if (!strcmp(argv[i], "--eim"))
			return cmd_eim_verify(argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stats"))
			stats = true;
		else if (!strcmp(argv[i], "-l") && i + 1 < argc)
			level = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--btf") && i + 1 < argc)
			btf = argv[++i];
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (!path) {
		fprintf(stderr, "usage: bpfx verify OBJ [--stats] [-l LEVEL] [--btf FILE]\n");
		return 2;
	}
	libbpf_set_print(catch_failure);
	for (round = 0; !done && round < MAX_PROGS; round++) {
		LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf);
		struct bpf_object *obj = bpf_object__open_file(path, &oo);
		struct bpf_program *p;
		int k = 0, err;

		if (!obj) {
			fprintf(stderr, "bpfx verify: %s: %s\n", path, strerror(errno));
			goto out;
		}
		bpf_object__for_each_program(p, obj) {
			bool skip = false;

			for (i = 0; i < nrej; i++)
				skip |= !strcmp(rejected[i], bpf_program__name(p));
			if (k >= MAX_PROGS)
				break;
			if (!logs[k] && !(logs[k] = malloc(LOG_SIZE))) {
				bpf_object__close(obj);
				goto out;
			}
			logs[k][0] = '\0';
			bpf_program__set_autoload(p, !skip);
			bpf_program__set_log_buf(p, logs[k], LOG_SIZE);
			bpf_program__set_log_level(p, level | (stats ? 4 : 0));
			k++;
		}
		failed_name[0] = '\0';
		err = bpf_object__load(obj);
		k = 0;
		bpf_object__for_each_program(p, obj) {
			const char *name = bpf_program__name(p);
			bool was_rejected = false;

			for (i = 0; i < nrej; i++)
				was_rejected |= !strcmp(rejected[i], name);
			if (k >= MAX_PROGS || was_rejected) {
				k++;
				continue;
			}
			if (err && !strcmp(name, failed_name)) {
				printf("%s (%s): REJECTED\n%s", name,
				       bpf_program__section_name(p), logs[k]);
				rejected[nrej++] = strdup(name);
			} else if (!err) {
				printf("%s (%s): accepted\n", name,
				       bpf_program__section_name(p));
				if (stats || level > 1) {
					char *s = level > 1 ? logs[k] : strstr(logs[k], "processed ");

					printf("%s%s", s ? s : "", s && *s ? "" : "\n");
				}
			}
			k++;
		}
		bpf_object__close(obj);
		if (!err) {
			done = true;
		} else if (!failed_name[0]) {
			fprintf(stderr, "bpfx verify: %s: load failed: %s\n", path,
				strerror(-err));
			goto out;
		}
	}
	ret = nrej ? 1 : 0;
out:
	for (i = 0; i < MAX_PROGS; i++) {
		free(logs[i]);
		free(rejected[i]);
	}
	return ret;
}
