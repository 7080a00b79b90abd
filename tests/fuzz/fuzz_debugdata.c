/* SPDX-License-Identifier: MIT */
/*
 * fuzz_debugdata - attach_minidebug_func over arbitrary files: the ELF
 * headers, the section table, the xz stream of .gnu_debugdata and the ELF
 * inside it are all read from the input. Seeded (ctest) with
 * tests/targets/minidebug_target. Long run:
 *   build-asan/tests/fuzz/fuzz_debugdata -max_total_time=3600 \
 *       build-asan/tests/fuzz/debugdata_corpus
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attach/attach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	uint64_t off;

	if (fd < 0)
		fd = memfd_create("fuzz-debugdata", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) ||
	    pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	attach_minidebug_func(path, "hidden_work", &off);
	attach_minidebug_func(path, "main", &off);
	return 0;
}
