/* SPDX-License-Identifier: MIT */
/* `bpfx reset` - remove the session and everything in it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "shm/shm.h"

int cmd_reset(int argc, char **argv)
{
	int err;

	if (argc > 1) {
		fprintf(stderr, "usage: bpfx [--session NAME] reset\n");
		return 2;
	}
	err = shm_session_reset(cli_session_name());
	if (err && err != -ENOENT) {
		fprintf(stderr, "bpfx reset: %s\n", strerror(-err));
		return 1;
	}
	printf("session '%s' reset\n", cli_session_name());
	return 0;
}
