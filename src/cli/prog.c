/* SPDX-License-Identifier: MIT */
/*
 * `bpfx prog list|show ID|dump ID|run OBJ [PROG] [...]`
 *
 * Everything goes through stock libbpf's bpf(2) wrappers, which the CLI's
 * syscall() interposer routes to the emulation: the CLI is a libbpf tool
 * like any other.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "emu/emu.h"

static int get_info(int fd, struct bpf_prog_info *info, void *insns,
		    uint32_t insn_cap, void *lines, uint32_t line_cap,
		    uint32_t line_rec)
{
	uint32_t len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (insns) {
		info->xlated_prog_insns = (uintptr_t)insns;
		info->xlated_prog_len = insn_cap;
	}
	if (lines) {
		info->line_info = (uintptr_t)lines;
		info->nr_line_info = line_cap;
		info->line_info_rec_size = line_rec;
	}
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

static void print_prog(const struct bpf_prog_info *info)
{
	printf("%u: %s  name %s  tag ", info->id, cli_prog_type_name(info->type),
	       info->name[0] ? info->name : "-");
	for (int i = 0; i < 8; i++)
		printf("%02x", info->tag[i]);
	printf("\n\txlated %uB  maps %u  btf_id %u  run_cnt %llu  run_time_ns %llu\n",
	       info->xlated_prog_len, info->nr_map_ids, info->btf_id,
	       (unsigned long long)info->run_cnt,
	       (unsigned long long)info->run_time_ns);
}

static int prog_list(void)
{
	uint32_t id = 0;
	int n = 0;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct bpf_prog_info info;
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!get_info(fd, &info, NULL, 0, NULL, 0, 0)) {
			print_prog(&info);
			n++;
		}
		close(fd);
	}
	if (!n)
		printf("no programs in session '%s'\n", cli_session_name());
	return 0;
}

static int open_id(const char *arg)
{
	char *end;
	unsigned long id = strtoul(arg, &end, 0);
	int fd;

	if (*end || !id) {
		fprintf(stderr, "bpfx prog: '%s' is not a program id\n", arg);
		return -1;
	}
	fd = bpf_prog_get_fd_by_id((uint32_t)id);
	if (fd < 0)
		fprintf(stderr, "bpfx prog: no program %lu: %s\n", id, strerror(errno));
	return fd;
}

static int prog_show(const char *arg)
{
	struct bpf_prog_info info;
	int fd = open_id(arg);

	if (fd < 0)
		return 1;
	if (get_info(fd, &info, NULL, 0, NULL, 0, 0)) {
		fprintf(stderr, "bpfx prog show: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	print_prog(&info);
	close(fd);
	return 0;
}

/* xlated instructions, with the source line before each line's first
 * instruction (from .BTF.ext line info), as bpftool prog dump xlated. */
static int prog_dump(const char *arg)
{
	struct bpf_prog_info info;
	struct bpf_line_info *lines = NULL;
	struct bpfx_insn *insns = NULL;
	struct btf *btf = NULL;
	uint32_t n, nl, k, li = 0;
	int fd = open_id(arg), ret = 1;

	if (fd < 0)
		return 1;
	if (get_info(fd, &info, NULL, 0, NULL, 0, 0))
		goto out;
	n = info.xlated_prog_len;
	nl = info.nr_line_info;
	insns = malloc(n ? n : 1);
	lines = calloc(nl ? nl : 1, sizeof(*lines));
	if (!insns || !lines)
		goto out;
	if (get_info(fd, &info, insns, n, nl ? lines : NULL, nl, sizeof(*lines)))
		goto out;
	if (info.btf_id && nl)
		btf = btf__load_from_kernel_by_id(info.btf_id);
	n /= sizeof(*insns);
	for (k = 0; k < n;) {
		char text[160];
		int slots;

		while (btf && li < nl && lines[li].insn_off < k)
			li++;
		if (btf && li < nl && lines[li].insn_off == k) {
			const char *src = btf__name_by_offset(btf, lines[li].line_off);

			if (src && *src)
				printf("; %s\n", src);
		}
		slots = bpfx_insn_disasm(&insns[k], n - k, text, sizeof(text));
		printf("%4u: %s\n", k, text);
		k += slots > 0 ? (uint32_t)slots : 1;
	}
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bpfx prog dump: %s\n", strerror(errno));
	btf__free(btf);
	free(insns);
	free(lines);
	close(fd);
	return ret;
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static int prog_run(int argc, char **argv)
{
	const char *obj_path = NULL, *name = NULL, *data_in = NULL, *ctx_in = NULL;
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct bpf_program *prog = NULL, *p;
	struct bpf_object *obj;
	size_t dlen = 0, clen = 0;
	void *data = NULL, *ctx = NULL, *dout = NULL;
	int i, err, ret = 1;
	unsigned long repeat = 1;
	bool interp = false;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--data-in") && i + 1 < argc) {
			data_in = argv[++i];
		} else if (!strcmp(argv[i], "--ctx-in") && i + 1 < argc) {
			ctx_in = argv[++i];
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeat = strtoul(argv[++i], NULL, 0);
			if (!repeat || repeat > 0xffffffffu) {
				fprintf(stderr, "bpfx prog run: bad --repeat\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "interp")) {
				interp = true;
			} else if (strcmp(argv[i], "jit")) {
				fprintf(stderr, "bpfx prog run: engine is interp or jit\n");
				return 2;
			}
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "bpfx prog run: unknown option %s\n", argv[i]);
			return 2;
		} else if (!obj_path) {
			obj_path = argv[i];
		} else if (!name) {
			name = argv[i];
		} else {
			fprintf(stderr, "bpfx prog run: unexpected %s\n", argv[i]);
			return 2;
		}
	}
	if (!obj_path) {
		fprintf(stderr, "usage: bpfx prog run OBJ [PROG] [--data-in FILE] [--ctx-in FILE] [--repeat N] [--engine interp|jit]\n");
		return 2;
	}
	if (interp)
		setenv("BPFX_ENGINE", "interp", 1);
	if ((data_in && !(data = read_file(data_in, &dlen))) ||
	    (ctx_in && !(ctx = read_file(ctx_in, &clen)))) {
		fprintf(stderr, "bpfx prog run: %s: %s\n", data ? ctx_in : data_in,
			strerror(errno));
		goto out;
	}
	obj = cli_load_object(obj_path);
	if (!obj)
		goto out;
	bpf_object__for_each_program(p, obj) {
		if (!name || !strcmp(bpf_program__name(p), name)) {
			prog = p;
			break;
		}
	}
	if (!prog) {
		fprintf(stderr, "bpfx prog run: no program %s in %s\n",
			name ? name : "at all", obj_path);
		bpf_object__close(obj);
		goto out;
	}
	dout = dlen ? malloc(dlen) : NULL;
	opts.data_in = data;
	opts.data_size_in = (uint32_t)dlen;
	opts.data_out = dout;
	opts.data_size_out = dout ? (uint32_t)dlen : 0;
	opts.ctx_in = ctx;
	opts.ctx_size_in = (uint32_t)clen;
	opts.repeat = (int)repeat;
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (err) {
		fprintf(stderr, "bpfx prog run: %s: %s\n", bpf_program__name(prog),
			strerror(errno));
	} else {
		printf("retval: %u\nduration (average): %uns\n", opts.retval,
		       opts.duration);
		ret = 0;
	}
	bpf_object__close(obj);
out:
	free(data);
	free(ctx);
	free(dout);
	return ret;
}

int cmd_prog(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "list"))
		return prog_list();
	if (!strcmp(argv[1], "show") && argc == 3)
		return prog_show(argv[2]);
	if (!strcmp(argv[1], "dump") && argc == 3)
		return prog_dump(argv[2]);
	if (!strcmp(argv[1], "run"))
		return prog_run(argc - 1, argv + 1);
	fprintf(stderr, "usage: bpfx prog list | show ID | dump ID | run OBJ [PROG] [options]\n");
	return 2;
}
