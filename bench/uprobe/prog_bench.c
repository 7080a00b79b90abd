/* SPDX-License-Identifier: MIT */
/*
 * prog_bench.c - the whole uprobe path, as `bpfx run` sets it up: stock
 * libbpf loads an empty program through the emulation and attaches it as a
 * uprobe / uretprobe on a function of this process; the attach layer (the
 * agent's code, called here in-process) hooks it; every call then runs the
 * JIT-compiled program. Also: the function's cost after detach.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attach/attach.h"
#include "bench_uprobe.h"
#include "emu/emu.h"

static struct bpf_object *obj;

static long file_off_of(void *fn, char *path, size_t plen)
{
	uint64_t off;

	return bench_file_offset(fn, path, plen, &off) ? -1 : (long)off;
}

/* ns per call of @fn with @prog attached (ret: as a uretprobe) */
double bench_prog_cost(long (*fn)(long), const char *prog, int ret, long iters)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret);
	struct bpf_program *p;
	struct bpf_link *l;
	char path[4096];
	long off;
	double ns;

	if (!obj) {
		char self[4096], objpath[4200];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n < 0)
			return -1;
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(objpath, sizeof(objpath), "%s/empty.bpf.o", self);
		emu_set_session("bench-uprobe");
		obj = bpf_object__open_file(objpath, NULL);
		if (!obj || bpf_object__load(obj)) {
			fprintf(stderr, "bench: cannot load %s\n", objpath);
			obj = NULL;
			return -1;
		}
	}
	p = bpf_object__find_program_by_name(obj, prog);
	off = file_off_of((void *)fn, path, sizeof(path));
	if (!p || off < 0)
		return -1;
	l = bpf_program__attach_uprobe_opts(p, getpid(), path, (size_t)off, &o);
	if (!l)
		return -1;
	attach_sync(emu_session()); /* what the agent's watcher does */
	ns = bench_measure(fn, iters);
	bpf_link__detach(l);
	bpf_link__destroy(l);
	attach_sync(emu_session());
	return ns;
}

void bench_prog_done(void)
{
	bpf_object__close(obj);
	shm_session_reset("bench-uprobe");
}
