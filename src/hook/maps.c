/* SPDX-License-Identifier: MIT */
/*
 * maps.c - read /proc/self/maps: a mapping's bounds and protection, and the
 * whole list (to find free address space near a function).
 *
 * Parsing uses read(2) into a local buffer and no stdio, so it allocates
 * nothing but the returned array. Slow path only (install time).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hook/hook_internal.h"

struct reader {
	int fd;
	char buf[4096];
	size_t pos, len;
};

static int getch(struct reader *r)
{
	if (r->pos == r->len) {
		ssize_t n = read(r->fd, r->buf, sizeof(r->buf));

		if (n <= 0)
			return -1;
		r->len = (size_t)n;
		r->pos = 0;
	}
	return (unsigned char)r->buf[r->pos++];
}

static uint64_t hexnum(struct reader *r, int *last)
{
	uint64_t v = 0;
	int c;

	while ((c = getch(r)) >= 0) {
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			break;
	}
	*last = c;
	return v;
}

/* Parse one line: "start-end perms ..."; 1 on success, 0 at EOF. */
static int next(struct reader *r, struct hook_vma *v)
{
	int c, i;
	char perm[4];

	v->start = hexnum(r, &c);
	if (c != '-')
		return 0;
	v->end = hexnum(r, &c);
	for (i = 0; i < 4; i++) {
		c = getch(r);
		if (c < 0)
			return 0;
		perm[i] = (char)c;
	}
	v->prot = (perm[0] == 'r' ? PROT_READ : 0) |
		  (perm[1] == 'w' ? PROT_WRITE : 0) |
		  (perm[2] == 'x' ? PROT_EXEC : 0);
	while ((c = getch(r)) >= 0 && c != '\n')
		;
	return 1;
}

static int open_maps(struct reader *r)
{
	r->fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	r->pos = r->len = 0;
	return r->fd < 0 ? -errno : 0;
}

int hook_vma_find(uint64_t addr, struct hook_vma *out)
{
	struct reader r;
	struct hook_vma v;
	int err = open_maps(&r);

	if (err)
		return err;
	err = -ENOENT;
	while (next(&r, &v)) {
		if (addr >= v.start && addr < v.end) {
			*out = v;
			err = 0;
			break;
		}
	}
	close(r.fd);
	return err;
}

int hook_vma_list(struct hook_vma **out, size_t *n)
{
	struct reader r;
	struct hook_vma v, *a = NULL, *t;
	size_t cnt = 0, cap = 0;
	int err = open_maps(&r);

	if (err)
		return err;
	while (next(&r, &v)) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 128;
			t = realloc(a, cap * sizeof(*a));
			if (!t) {
				free(a);
				close(r.fd);
				return -ENOMEM;
			}
			a = t;
		}
		a[cnt++] = v;
	}
	close(r.fd);
	*out = a;
	*n = cnt;
	return 0;
}
