/* SPDX-License-Identifier: MIT */
/*
 * elfsym.c - is a file offset of an ELF binary the first byte of a
 * function? (.symtab and .dynsym FUNC symbols, so functions of the main
 * executable that are not exported count too.)
 *
 * The answer picks the cheaper hook: at a function's entry only the
 * argument registers xmm0-7 are live (the SysV ABI makes the others
 * caller-saved), elsewhere every vector register must be preserved. Files
 * are read once per attach through a read-only mapping; a file that cannot
 * be read answers "no", the safe choice.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/attach_internal.h"

static bool in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

bool attach_is_func_entry(const char *path, uint64_t file_off)
{
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	struct stat st;
	bool found = false;
	uint8_t *m;
	int fd, i;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(*eh)) {
		close(fd);
		return false;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return false;
	eh = (const Elf64_Ehdr *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr),
		     (uint64_t)st.st_size))
		goto out;
	sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	for (i = 0; i < eh->e_shnum && !found; i++) {
		const Elf64_Sym *sym;
		uint64_t k, n;

		if ((sh[i].sh_type != SHT_SYMTAB && sh[i].sh_type != SHT_DYNSYM) ||
		    sh[i].sh_entsize != sizeof(Elf64_Sym) ||
		    !in_file(sh[i].sh_offset, sh[i].sh_size, (uint64_t)st.st_size))
			continue;
		sym = (const Elf64_Sym *)(m + sh[i].sh_offset);
		n = sh[i].sh_size / sizeof(Elf64_Sym);
		for (k = 0; k < n; k++) {
			const Elf64_Shdr *sec;

			if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC ||
			    sym[k].st_shndx == SHN_UNDEF || sym[k].st_shndx >= eh->e_shnum)
				continue;
			/* the symbol's file offset: through its section */
			sec = &sh[sym[k].st_shndx];
			if (sym[k].st_value < sec->sh_addr)
				continue;
			if (sym[k].st_value - sec->sh_addr + sec->sh_offset == file_off) {
				found = true;
				break;
			}
		}
	}
out:
	munmap(m, (size_t)st.st_size);
	return found;
}
