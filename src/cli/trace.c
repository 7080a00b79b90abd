/* SPDX-License-Identifier: MIT */
/*
 * `bpfx trace [--once]` - print the session's trace_printk output, then
 * keep following it (as cat of the kernel's trace_pipe) until interrupted.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "emu/emu.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int cmd_trace(int argc, char **argv)
{
	bool once = argc > 1 && !strcmp(argv[1], "--once");
	struct shm_session *s;
	char path[4096], buf[8192];
	ssize_t n;
	int fd;

	if (argc > 2 || (argc == 2 && !once)) {
		fprintf(stderr, "usage: bpfx trace [--once]\n");
		return 2;
	}
	s = emu_session();
	if (!s) {
		fprintf(stderr, "bpfx trace: session: %s\n", strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/trace", shm_session_dir(s));
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "bpfx trace: %s: %s\n", path, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			fwrite(buf, 1, (size_t)n, stdout);
			fflush(stdout);
			continue;
		}
		if (n < 0 && errno != EINTR)
			break;
		if (once)
			break;
		usleep(50 * 1000); /* a regular file: poll its end */
	}
	close(fd);
	return 0;
}
