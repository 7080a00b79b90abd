/* SPDX-License-Identifier: MIT */
/*
 * sys_cache.c - where the `syscall` sites of a file's code are, kept
 * across processes.
 *
 * Every process with a syscall link sweeps its executable mappings for
 * sites (sys_rewrite.c): for libc alone ~2 MB of instructions decoded, the
 * bulk of the ~65 ms a process took to start under a syscall link. The
 * answer depends only on the file's bytes, so the first process to sweep
 * a mapping leaves the site offsets in
 *
 *   /dev/shm/bpfx-<uid>-sites/<dev>.<ino>.<mtime ns>.<size>.<offset>.<len>
 *
 * and the next ones read them. The key names the file (device, inode),
 * its version (modification time, size: a file rewritten in place keeps
 * its inode) and the part mapped. The directory is the user's alone
 * (created 0700, refused unless owned by us with no group or other
 * access: another user could plant offsets in /dev/shm otherwise), files
 * are written aside and renamed in. Each offset read back is checked to
 * hold 0f 05 inside the mapping before it is used; anything odd and the
 * caller sweeps. Raw syscalls and the stack only: callable from the
 * SIGSYS handler. $BPFX_SYSCALL_CACHE=off disables it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach/sys_internal.h"

#define MAGIC 0x3153455449535842ull /* "BXSITES1" */

static int state; /* 0 unknown, 1 usable, -1 not */
static char dir[64];

static long rs(long nr, long a, long b, long c)
{
	return sys_raw6(nr, a, b, c, 0, 0, 0);
}

static void put_u(char **p, uint64_t v, int base)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % (uint64_t)base];
		v /= (uint64_t)base;
	} while (v);
	while (n)
		*(*p)++ = tmp[--n];
}

static bool usable(void)
{
	struct stat st;
	char *p;
	const char *env;

	if (state)
		return state > 0;
	state = -1;
	env = getenv("BPFX_SYSCALL_CACHE");
	if (env && !strcmp(env, "off"))
		return false;
	p = dir;
	memcpy(p, "/dev/shm/bpfx-", 14);
	p += 14;
	put_u(&p, (uint64_t)getuid(), 10);
	memcpy(p, "-sites", 7);
	rs(SYS_mkdir, (long)dir, 0700, 0);
	if (rs(SYS_lstat, (long)dir, (long)&st, 0) || !S_ISDIR(st.st_mode) ||
	    st.st_uid != getuid() || (st.st_mode & 077))
		return false;
	state = 1;
	return true;
}

/* The cache file's name for @v (its path from /proc/self/maps); false if
 * the file is gone or is not the one mapped. */
static bool key(const struct sys_map *v, char *out, size_t size, bool tmp)
{
	struct stat st;
	char *p = out;

	if (size < 200 || !v->path[0] || !usable() ||
	    rs(SYS_stat, (long)v->path, (long)&st, 0) || st.st_ino != v->ino)
		return false;
	memcpy(p, dir, strlen(dir));
	p += strlen(dir);
	*p++ = '/';
	if (tmp)
		*p++ = '.';
	put_u(&p, (uint64_t)st.st_dev, 16);
	*p++ = '.';
	put_u(&p, (uint64_t)st.st_ino, 10);
	*p++ = '.';
	put_u(&p, (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec, 10);
	*p++ = '.';
	put_u(&p, (uint64_t)st.st_size, 10);
	*p++ = '.';
	put_u(&p, v->off, 16);
	*p++ = '.';
	put_u(&p, v->end - v->start, 16);
	if (tmp) {
		*p++ = '.';
		put_u(&p, (uint64_t)sys_raw6(SYS_gettid, 0, 0, 0, 0, 0, 0), 10);
	}
	*p = '\0';
	return true;
}

int sys_cache_load(const struct sys_map *v, uint32_t *offs, uint32_t max)
{
	char name[256];
	uint64_t hdr[2];
	struct stat st;
	uint32_t i;
	long n;
	int fd;

	if (!key(v, name, sizeof(name), false))
		return -ENOENT;
	fd = (int)rs(SYS_open, (long)name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	n = -EINVAL;
	if (rs(SYS_fstat, fd, (long)&st, 0) || st.st_uid != getuid() ||
	    rs(SYS_read, fd, (long)hdr, sizeof(hdr)) != sizeof(hdr) || hdr[0] != MAGIC ||
	    hdr[1] > max)
		goto out;
	n = rs(SYS_read, fd, (long)offs, (long)(hdr[1] * sizeof(*offs)));
	if (n != (long)(hdr[1] * sizeof(*offs))) {
		n = -EINVAL;
		goto out;
	}
	for (i = 0; i < hdr[1]; i++) {
		const uint8_t *a = (const uint8_t *)(uintptr_t)(v->start + offs[i]);

		if (offs[i] + 2 > v->end - v->start || a[0] != 0x0f || a[1] != 0x05) {
			n = -EINVAL;
			goto out;
		}
	}
	n = (long)hdr[1];
out:
	rs(SYS_close, fd, 0, 0);
	return (int)n;
}

void sys_cache_store(const struct sys_map *v, const uint32_t *offs, uint32_t n)
{
	char name[256], tmp[256];
	uint64_t hdr[2] = { MAGIC, n };
	long len = (long)(n * sizeof(*offs));
	int fd;

	if (!key(v, name, sizeof(name), false) || !key(v, tmp, sizeof(tmp), true))
		return;
	fd = (int)rs(SYS_open, (long)tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (rs(SYS_write, fd, (long)hdr, sizeof(hdr)) == sizeof(hdr) &&
	    rs(SYS_write, fd, (long)offs, len) == len) {
		rs(SYS_close, fd, 0, 0);
		if (!rs(SYS_rename, (long)tmp, (long)name, 0))
			return;
	} else {
		rs(SYS_close, fd, 0, 0);
	}
	rs(SYS_unlink, (long)tmp, 0, 0);
}
