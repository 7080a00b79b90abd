/* SPDX-License-Identifier: MIT */
/*
 * codemem.c - W^X memory for JIT code.
 *
 * Code is written into a private anonymous mapping that is readable and
 * writable, then flipped to read + execute with mprotect before anyone may
 * call it: no page is ever writable and executable at once. Each program
 * owns its mapping (whole pages), released by munmap.
 *
 * The pages are populated up front (every byte is written right away).
 * The fixed cost of a compile, some microseconds, is these syscalls: the
 * mmap, the mprotect and its TLB flush, and later the munmap.
 *
 * Helpers are reached with `call rel32` when the whole mapping lies within
 * +-2 GiB of them, so the mapping is requested near a helper (a hint, not
 * MAP_FIXED: if the kernel places it elsewhere, calls fall back to
 * `mov rax, imm64; call rax`).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "jit/x86_64/jit_internal.h"

static size_t page_round(size_t size)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t p = ps > 0 ? (size_t)ps : 4096;

	return (size + p - 1) & ~(p - 1);
}

void *jit_code_alloc(size_t size, uint64_t hint, size_t *mapped)
{
	size_t len = page_round(size ? size : 1);
	void *want = NULL, *mem;

	/* Aim 256 MiB below the helper: below a PIE executable or a shared
	 * library there is normally free address space, and both ends of
	 * the mapping stay well within rel32 reach. */
	if (hint > ((uint64_t)1 << 29) + len)
		want = (void *)(uintptr_t)((hint - ((uint64_t)1 << 28) - len) &
					   ~(uint64_t)0xffff);
	mem = mmap(want, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return NULL;
	*mapped = len;
	return mem;
}

int jit_code_publish(void *mem, size_t mapped)
{
	if (mprotect(mem, mapped, PROT_READ | PROT_EXEC))
		return -errno;
	return 0;
}

void jit_code_release(void *mem, size_t mapped)
{
	if (mem)
		munmap(mem, mapped);
}

bool jit_code_reaches(uint64_t lo, uint64_t hi, uint64_t target)
{
	/* rel32 is relative to the end of the 5-byte call; keep a margin */
	int64_t a = (int64_t)(target - lo), b = (int64_t)(target - hi);
	const int64_t lim = INT32_MAX - 4096;

	return a > -lim && a < lim && b > -lim && b < lim;
}
