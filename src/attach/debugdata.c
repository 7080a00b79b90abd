/* SPDX-License-Identifier: MIT */
/*
 * debugdata.c - functions known only to a binary's MiniDebugInfo.
 *
 * Distributions that strip .symtab from their binaries (Fedora, and
 * others) keep the static functions' symbols in .gnu_debugdata: an
 * xz-compressed ELF file whose .symtab holds the FUNC symbols that
 * .dynsym lacks. libbpf's symbol lookup reads .symtab and .dynsym only;
 * this file answers for the rest, with the symbol's file offset in the
 * outer binary (through its PT_LOAD headers), so a uprobe on such a
 * function attaches by offset.
 *
 * Everything read from the file is bounds- and alignment-checked: a
 * malformed or hostile binary gets -EINVAL (or -ENOENT), a decompression
 * bomb stops at DEBUGDATA_MAX. Fuzzed: tests/fuzz/fuzz_debugdata.c.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/attach.h"

#define DEBUGDATA_MAX (256u << 20) /* decompressed ELF size limit */

static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* Section headers of the ELF image @m (@size bytes), or NULL. */
static const Elf64_Shdr *sections(const uint8_t *m, uint64_t size,
				  unsigned *n)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || !eh->e_shnum ||
	    eh->e_shoff % 8 ||
	    !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr),
		     size))
		return NULL;
	*n = eh->e_shnum;
	return (const Elf64_Shdr *)(m + eh->e_shoff);
}

/* A NUL-terminated string at @off of section @s, or NULL. */
static const char *str_at(const uint8_t *m, uint64_t size,
			  const Elf64_Shdr *s, uint64_t off)
{
	const char *p;

	if (s->sh_type != SHT_STRTAB ||
	    !in_file(s->sh_offset, s->sh_size, size) || off >= s->sh_size)
		return NULL;
	p = (const char *)m + s->sh_offset + off;
	return memchr(p, '\0', s->sh_size - off) ? p : NULL;
}

/* The section named @name, or NULL. */
static const Elf64_Shdr *section_named(const uint8_t *m, uint64_t size,
				       const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
	const Elf64_Shdr *sh;
	unsigned n, i;

	sh = sections(m, size, &n);
	if (!sh || eh->e_shstrndx >= n)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *s = str_at(m, size, &sh[eh->e_shstrndx],
				       sh[i].sh_name);

		if (s && !strcmp(s, name))
			return &sh[i];
	}
	return NULL;
}

/* Address of FUNC symbol @func in a symbol table of type @type, 0 none. */
static uint64_t func_addr(const uint8_t *m, uint64_t size, uint32_t type,
			  const char *func)
{
	const Elf64_Shdr *sh;
	unsigned n, i;

	sh = sections(m, size, &n);
	for (i = 0; sh && i < n; i++) {
		const Elf64_Sym *sym;
		uint64_t k, cnt;

		if (sh[i].sh_type != type || sh[i].sh_entsize != sizeof(Elf64_Sym) ||
		    sh[i].sh_link >= n || sh[i].sh_offset % 8 ||
		    !in_file(sh[i].sh_offset, sh[i].sh_size, size))
			continue;
		sym = (const Elf64_Sym *)(m + sh[i].sh_offset);
		cnt = sh[i].sh_size / sizeof(Elf64_Sym);
		for (k = 0; k < cnt; k++) {
			const char *name;

			if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC ||
			    sym[k].st_shndx == SHN_UNDEF || !sym[k].st_value)
				continue;
			name = str_at(m, size, &sh[sh[i].sh_link], sym[k].st_name);
			if (name && !strcmp(name, func))
				return sym[k].st_value;
		}
	}
	return 0;
}

/* xz-decompress @in into a malloc'd buffer. */
static int unxz(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	size_t cap = len * 4 + 4096;
	uint8_t *buf = NULL, *nb;
	lzma_ret r;

	if (lzma_stream_decoder(&s, DEBUGDATA_MAX, 0) != LZMA_OK)
		return -ENOMEM;
	s.next_in = in;
	s.avail_in = len;
	for (;;) {
		if (cap > DEBUGDATA_MAX)
			cap = DEBUGDATA_MAX;
		nb = realloc(buf, cap);
		if (!nb) {
			r = LZMA_MEM_ERROR;
			break;
		}
		buf = nb;
		s.next_out = buf + s.total_out;
		s.avail_out = cap - s.total_out;
		r = lzma_code(&s, LZMA_FINISH);
		if (r != LZMA_OK || s.avail_out)
			break;
		if (cap == DEBUGDATA_MAX) {
			r = LZMA_MEMLIMIT_ERROR;
			break;
		}
		cap *= 2;
	}
	*outlen = s.total_out;
	lzma_end(&s);
	if (r != LZMA_STREAM_END) {
		free(buf);
		return r == LZMA_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	*out = buf;
	return 0;
}

/* File offset of virtual address @v through @m's PT_LOAD headers. */
static int vaddr_to_off(const uint8_t *m, uint64_t size, uint64_t v,
			uint64_t *off)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
	const Elf64_Phdr *ph;
	unsigned i;

	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff % 8 ||
	    !in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr),
		     size))
		return -EINVAL;
	ph = (const Elf64_Phdr *)(m + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && v >= ph[i].p_vaddr &&
		    v - ph[i].p_vaddr < ph[i].p_filesz) {
			*off = v - ph[i].p_vaddr + ph[i].p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

int attach_minidebug_func(const char *path, const char *func, uint64_t *off)
{
	const Elf64_Shdr *dd;
	uint8_t *m, *inner = NULL;
	size_t inner_len = 0;
	struct stat st;
	uint64_t v;
	int fd, err;

	if (!path || !func || !*func || !off)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return -EINVAL;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	err = -EINVAL;
	if (!sections(m, (uint64_t)st.st_size, &(unsigned){ 0 }))
		goto out;
	err = -ENOENT;	/* libbpf's own lookup finds it, or nothing has it */
	if (func_addr(m, (uint64_t)st.st_size, SHT_SYMTAB, func) ||
	    func_addr(m, (uint64_t)st.st_size, SHT_DYNSYM, func))
		goto out;
	dd = section_named(m, (uint64_t)st.st_size, ".gnu_debugdata");
	if (!dd || dd->sh_type == SHT_NOBITS)
		goto out;
	err = -EINVAL;
	if (!in_file(dd->sh_offset, dd->sh_size, (uint64_t)st.st_size))
		goto out;
	err = unxz(m + dd->sh_offset, dd->sh_size, &inner, &inner_len);
	if (err)
		goto out;
	err = -ENOENT;
	v = func_addr(inner, inner_len, SHT_SYMTAB, func);
	if (v)
		err = vaddr_to_off(m, (uint64_t)st.st_size, v, off);
out:
	free(inner);
	munmap(m, (size_t)st.st_size);
	return err;
}
