/* SPDX-License-Identifier: MIT */
/*
 * kernel_cmp.c - load every case of the verifier table into the Linux
 * verifier (bpf(2) BPF_PROG_LOAD, real maps) and into bpfx's, and print
 * the agreement: counts and each disagreement with both verdicts and the
 * last line of each log. Run by scripts/verifier-vs-kernel.
 *
 * Mapping: KPROBE, TRACEPOINT, RAW_TRACEPOINT as themselves; bpfx's RAW
 * type as SOCKET_FILTER (only cases that do not touch r1's memory are
 * meaningful; the others carry VC_KSKIP). Map references (lddw src 5/6 =
 * table index) become src 1/2 with the map's fd. Cases marked VC_KSKIP
 * are listed as skipped with their reason.
 * Exit: 0 (report printed), 77 when bpf(2) is not permitted here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cases.h"

static char klog[1 << 22], blog[1 << 16];

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int map_fd[M_NKINDS];

static int create_map(unsigned kind)
{
	const struct verifier_map *m = &vmap_kinds[kind];
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = m->type;
	a.key_size = m->key_size;
	a.value_size = m->value_size;
	a.max_entries = m->max_entries ? m->max_entries : 4;
	a.map_flags = m->map_flags;
	return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

static uint32_t kernel_type(uint32_t t)
{
	return t == BPFX_PROG_TYPE_RAW ? BPF_PROG_TYPE_SOCKET_FILTER : t;
}

static const char *last_line(char *log)
{
	size_t n = strlen(log);
	char *p;

	while (n && (log[n - 1] == '\n'))
		log[--n] = '\0';
	/* skip the trailing statistics lines */
	for (int k = 0; k < 3; k++) {
		p = strrchr(log, '\n');
		if (!p)
			return log;
		if (strncmp(p + 1, "processed ", 10) &&
		    strncmp(p + 1, "verification time", 17) &&
		    strncmp(p + 1, "stack depth", 11) &&
		    strncmp(p + 1, "path:", 5))
			return p + 1;
		*p = '\0';
	}
	p = strrchr(log, '\n');
	return p ? p + 1 : log;
}

int main(int argc, char **argv)
{
	struct bpfx_insn probe[] = { MOV64_IMM(0, 0), EXIT() };
	size_t i, total = 0, agree = 0, skipped = 0;
	const struct vcase *c;
	union bpf_attr a;
	bool verbose = argc > 1 && !strcmp(argv[1], "-v");

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uintptr_t)probe;
	a.insn_cnt = 2;
	a.license = (uintptr_t)"GPL";
	{
		long fd = sys_bpf(BPF_PROG_LOAD, &a);

		if (fd < 0) {
			printf("SKIP: bpf(BPF_PROG_LOAD) is not permitted here (%s): run as root\n",
			       strerror(errno));
			return 77;
		}
		close((int)fd);
	}
	for (unsigned k = 1; k < M_NKINDS; k++)
		map_fd[k] = k == M_LOCK ? -1 : create_map(k);

	for (i = 0; (c = vcase_at(i)); i++) {
		struct bpfx_insn *p;
		struct verifier_map maps[4];
		struct verifier_opts o;
		int kerr = 0, berr, fd;
		bool kok, bok, bad_map = false;

		if (c->flags & VC_KSKIP) {
			skipped++;
			if (verbose)
				printf("skip %s: %s\n", c->name, c->why);
			continue;
		}
		p = malloc(c->n * sizeof(*p));
		if (!p)
			return 1;
		memcpy(p, c->insns, c->n * sizeof(*p));
		for (uint32_t k = 0; k < c->n; k++) {
			if (p[k].code != ISA_LDDW)
				continue;
			if (p[k].src == ISA_PSEUDO_MAP_IDX ||
			    p[k].src == ISA_PSEUDO_MAP_IDX_VALUE) {
				uint32_t idx = (uint32_t)p[k].imm;
				int mfd = idx < 4 && c->maps[idx] ? map_fd[c->maps[idx]] : -1;

				if (idx < 4 && c->maps[idx] && mfd < 0)
					bad_map = true;
				p[k].src = p[k].src == ISA_PSEUDO_MAP_IDX ?
						   ISA_PSEUDO_MAP_FD : ISA_PSEUDO_MAP_VALUE;
				p[k].imm = mfd < 0 ? 1000 + (int32_t)idx : mfd;
			}
			k++;
		}
		if (bad_map) {
			skipped++;
			printf("skip %s: its map could not be created in the kernel\n",
			       c->name);
			free(p);
			continue;
		}
		memset(&a, 0, sizeof(a));
		a.prog_type = kernel_type(c->prog_type);
		a.insns = (uintptr_t)p;
		a.insn_cnt = c->n;
		a.license = (uintptr_t)"GPL";
		a.log_level = 1;
		a.log_buf = (uintptr_t)klog;
		a.log_size = sizeof(klog);
		klog[0] = '\0';
		fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
		if (fd < 0 && errno == ENOSPC) { /* verdict hidden by the log */
			a.log_level = 0;
			a.log_buf = 0;
			a.log_size = 0;
			fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
		}
		if (fd >= 0)
			close(fd);
		else
			kerr = -errno;
		free(p);

		vcase_opts(c, &o, maps);
		o.log_level = 1;
		o.log_buf = blog;
		o.log_size = sizeof(blog);
		berr = verifier_check(&o, NULL);

		total++;
		kok = kerr == 0;
		bok = berr == 0;
		if (kok == bok) {
			agree++;
			if (verbose)
				printf("agree %s: %s\n", c->name,
				       kok ? "accept" : "reject");
			continue;
		}
		printf("DISAGREE %s: kernel %s (%d), bpfx %s (%d)\n", c->name,
		       kok ? "accepts" : "rejects", kerr,
		       bok ? "accepts" : "rejects", berr);
		if (!kok)
			printf("  kernel: %s\n", last_line(klog));
		if (!bok)
			printf("  bpfx:   %s\n", last_line(blog));
	}
	printf("\n%zu cases compared: %zu agree, %zu disagree; %zu skipped\n",
	       total, agree, total - agree, skipped);
	return 0;
}
