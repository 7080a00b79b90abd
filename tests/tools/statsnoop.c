/* SPDX-License-Identifier: MIT */
/*
 * statsnoop - a plain libbpf tool in the shape of libbpf-tools' statsnoop
 * (skeleton, stock libbpf, a perf buffer, nothing of bpfx linked in): one
 * line per stat-family syscall, with pid, comm, result and path. Run it
 * against the kernel as is, or against userspace targets with
 * `bpfx load -- statsnoop ...`.
 *
 *   statsnoop [-p PID] [-x] [-n COUNT] [-t SECONDS]
 *
 * -x: failed calls only. Prints "statsnoop: attached" once the programs
 * are in place, "PID COMM RET ERR PATH" per event, "statsnoop: N events"
 * at the end.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "statsnoop.h"
/* generated code: bpftool's skeleton casts const away */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#include "statsnoop.skel.h"
#pragma GCC diagnostic pop

static volatile sig_atomic_t stop;
static long events, want = -1;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_event(void *ctx, int cpu, void *data, unsigned int size)
{
	const struct event *e = data;
	int fd = e->ret >= 0 ? e->ret : -1, err = e->ret >= 0 ? 0 : -e->ret;

	(void)ctx;
	(void)cpu;
	if (size < sizeof(*e))
		return;
	printf("%-7d %-16s %3d %3d %s\n", e->pid, e->comm, fd, err, e->pathname);
	events++;
}

static void on_lost(void *ctx, int cpu, unsigned long long n)
{
	(void)ctx;
	fprintf(stderr, "statsnoop: lost %llu events on CPU %d\n", n, cpu);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct perf_buffer *pb = NULL;
	struct statsnoop *skel;
	double seconds = 10, t0;
	int pid = 0, failed = 0, opt, err;

	while ((opt = getopt(argc, argv, "p:xn:t:")) != -1) {
		switch (opt) {
		case 'p': pid = atoi(optarg); break;
		case 'x': failed = 1; break;
		case 'n': want = atol(optarg); break;
		case 't': seconds = atof(optarg); break;
		default:
			fprintf(stderr, "usage: statsnoop [-p PID] [-x] [-n COUNT] [-t SECONDS]\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	skel = statsnoop__open();
	if (!skel) {
		fprintf(stderr, "statsnoop: open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->target_pid = (__u32)pid;
	skel->rodata->trace_failed_only = failed;
	err = statsnoop__load(skel);
	if (err) {
		fprintf(stderr, "statsnoop: load: %s\n", strerror(-err));
		goto out;
	}
	err = statsnoop__attach(skel);
	if (err) {
		fprintf(stderr, "statsnoop: attach: %s\n", strerror(-err));
		goto out;
	}
	pb = perf_buffer__new(bpf_map__fd(skel->maps.events), 16, on_event, on_lost,
			      NULL, NULL);
	if (!pb) {
		err = -errno;
		fprintf(stderr, "statsnoop: perf buffer: %s\n", strerror(errno));
		goto out;
	}
	printf("statsnoop: attached\n");
	t0 = now_s();
	while (!stop && (want < 0 || events < want) && now_s() - t0 < seconds) {
		err = perf_buffer__poll(pb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "statsnoop: poll: %s\n", strerror(-err));
			goto out;
		}
	}
	err = 0;
	printf("statsnoop: %ld events\n", events);
out:
	perf_buffer__free(pb);
	statsnoop__destroy(skel);
	return err ? 1 : 0;
}
