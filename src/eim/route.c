/* SPDX-License-Identifier: MIT */
/*
 * route.c - make a host process's libbpf reach bpfx's bpf(2) emulation.
 *
 * Stock libbpf issues bpf(2) as syscall(__NR_bpf, ...) through its PLT/GOT.
 * The bpfx CLI exports its own syscall() (src/emu/shim.c); an arbitrary host
 * (nginx loading a module) cannot, since libc's definition comes first in
 * the global scope. So the host API rewrites libbpf.so's GOT slot for
 * `syscall` to a router that sends __NR_bpf to emu_bpf() and every other
 * number to libc: only libbpf is affected, nothing else in the process.
 * The slot is found from libbpf's dynamic section (DT_JMPREL / DT_RELA
 * relocations naming `syscall`), and written with the page made writable
 * for the moment (RELRO). Idempotent; -ENOENT if libbpf.so is not loaded
 * (a host linking libbpf statically must route bpf(2) itself).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu/emu.h"
#include "eim/host_internal.h"

static long route_syscall(long nr, ...)
{
	long a[6], r;
	va_list ap;
	int k;

	va_start(ap, nr);
	for (k = 0; k < 6; k++)
		a[k] = va_arg(ap, long);
	va_end(ap);
	if (nr != SYS_bpf)
		return syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	r = emu_bpf((int)a[0], (union bpf_attr *)a[1], (unsigned)a[2]);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

struct find {
	int patched;
	int err;
	uintptr_t relro_lo, relro_hi; /* PT_GNU_RELRO of libbpf */
};

static int patch_slot(uintptr_t slot, const struct find *f)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t page = slot & ~((uintptr_t)pg - 1);
	void *want = (void *)route_syscall;

	if (*(void **)slot == want)
		return 0;
	if (mprotect((void *)page, (size_t)pg, PROT_READ | PROT_WRITE))
		return -errno;
	__atomic_store_n((void **)slot, want, __ATOMIC_RELEASE);
	/* a RELRO page goes back to read-only; others were writable */
	if (slot >= f->relro_lo && slot < f->relro_hi)
		mprotect((void *)page, (size_t)pg, PROT_READ);
	return 0;
}

static void scan_rela(uintptr_t base, const ElfW(Rela) *rel, size_t sz,
		      const ElfW(Sym) *sym, const char *str, struct find *f)
{
	size_t k;

	for (k = 0; rel && k < sz / sizeof(*rel); k++) {
		uint32_t type = (uint32_t)ELF64_R_TYPE(rel[k].r_info);
		uint32_t si = (uint32_t)ELF64_R_SYM(rel[k].r_info);

		if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
			continue;
		if (!si || strcmp(str + sym[si].st_name, "syscall"))
			continue;
		f->err = patch_slot(base + rel[k].r_offset, f);
		if (!f->err)
			f->patched++;
	}
}

static int each_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find *f = arg;
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Rela) *jmprel = NULL, *rela = NULL;
	const ElfW(Sym) *sym = NULL;
	const char *str = NULL;
	size_t jmpsz = 0, relasz = 0;
	int k;

	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "/libbpf.so"))
		return 0;
	for (k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];

		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		if (ph->p_type == PT_GNU_RELRO) {
			f->relro_lo = info->dlpi_addr + ph->p_vaddr;
			f->relro_hi = f->relro_lo + ph->p_memsz;
		}
	}
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_JMPREL: jmprel = (const void *)dyn->d_un.d_ptr; break;
		case DT_PLTRELSZ: jmpsz = dyn->d_un.d_val; break;
		case DT_RELA: rela = (const void *)dyn->d_un.d_ptr; break;
		case DT_RELASZ: relasz = dyn->d_un.d_val; break;
		case DT_SYMTAB: sym = (const void *)dyn->d_un.d_ptr; break;
		case DT_STRTAB: str = (const void *)dyn->d_un.d_ptr; break;
		}
	}
	if (!sym || !str)
		return 0;
	scan_rela(info->dlpi_addr, jmprel, jmpsz, sym, str, f);
	scan_rela(info->dlpi_addr, rela, relasz, sym, str, f);
	return 0;
}

int host_route_libbpf(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static int done; /* 1 routed */
	struct find f = { 0, 0, 0, 0 };

	pthread_mutex_lock(&lock);
	if (!done) {
		dl_iterate_phdr(each_object, &f);
		if (f.patched)
			done = 1;
	}
	pthread_mutex_unlock(&lock);
	if (done)
		return 0;
	return f.err ? f.err : -ENOENT;
}
