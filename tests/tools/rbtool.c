/* SPDX-License-Identifier: MIT */
/*
 * rbtool - a plain libbpf tool (skeleton from `bpftool gen skeleton`, stock
 * libbpf, nothing of bpfx linked in): uprobes FUNC of BINARY, prints one
 * line per call from a BPF ring buffer, and stops after COUNT events or
 * SECONDS seconds. Run it against the kernel as is, or against userspace
 * targets with `bpfx load -- rbtool ...`.
 *
 *   rbtool BINARY FUNC [-p PID] [-n COUNT] [-t SECONDS]
 *
 * Prints "rbtool: attached" once the probe is in place, "event pid=P
 * arg=A" per record and "rbtool: N events" at the end.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/types.h>

#include "rbtool.h"
/* generated code: bpftool's skeleton casts const away */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "rbtool.skel.h"
#pragma GCC diagnostic pop

static volatile sig_atomic_t stop;
static long events, want = -1;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct rbtool_event *e = data;

	(void)ctx;
	if (size < sizeof(*e))
		return 0;
	printf("event pid=%u arg=%lld tag=%llu\n", e->pid, (long long)e->arg,
	       (unsigned long long)e->tag);
	events++;
	return want > 0 && events >= want ? 1 : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct ring_buffer *rb = NULL;
	struct rbtool *skel;
	double seconds = 10, t0;
	int pid = -1, opt, err;

	while ((opt = getopt(argc, argv, "p:n:t:")) != -1) {
		switch (opt) {
		case 'p': pid = atoi(optarg); break;
		case 'n': want = atol(optarg); break;
		case 't': seconds = atof(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	skel = rbtool__open();
	if (!skel) {
		fprintf(stderr, "rbtool: open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->cookie_tag = 42;
	err = rbtool__load(skel);
	if (err) {
		fprintf(stderr, "rbtool: load: %s\n", strerror(-err));
		goto out;
	}
	uo.func_name = argv[optind + 1];
	skel->links.on_call = bpf_program__attach_uprobe_opts(skel->progs.on_call, pid,
							      argv[optind], 0, &uo);
	if (!skel->links.on_call) {
		err = -errno;
		fprintf(stderr, "rbtool: attach %s:%s: %s\n", argv[optind],
			argv[optind + 1], strerror(errno));
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, "rbtool: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	printf("rbtool: attached\n");
	t0 = now_s();
	while (!stop && (want < 0 || events < want) && now_s() - t0 < seconds) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "rbtool: poll: %s\n", strerror(-err));
			goto out;
		}
	}
	err = 0;
	printf("rbtool: %ld events\n", events);
out:
	ring_buffer__free(rb);
	rbtool__destroy(skel);
	return err ? 1 : 0;
usage:
	fprintf(stderr, "usage: rbtool BINARY FUNC [-p PID] [-n COUNT] [-t SECONDS]\n");
	return 2;
}
