/* SPDX-License-Identifier: MIT */
/*
 * test_debugdata.c - attach_minidebug_func (src/attach/debugdata.c): a
 * function only .gnu_debugdata names resolves to the file offset its
 * unstripped twin's .symtab gives; one .symtab or .dynsym has is left to
 * libbpf; missing, malformed, truncated and corrupted files get clean
 * errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attach/attach.h"

#define STRIPPED TARGETS_DIR "/minidebug_target"
#define FULL TARGETS_DIR "/minidebug_target_full"

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	b = malloc((size_t)st.st_size);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
}

/* hidden_work's file offset from the unstripped binary's .symtab */
static uint64_t expected_offset(void)
{
	size_t len;
	uint8_t *m = slurp(FULL, &len);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(m + eh->e_phoff);
	uint64_t v = 0, off = 0;

	for (int i = 0; i < eh->e_shnum && !v; i++) {
		const Elf64_Sym *s = (const Elf64_Sym *)(m + sh[i].sh_offset);
		const char *str = (const char *)m + sh[sh[i].sh_link].sh_offset;

		if (sh[i].sh_type != SHT_SYMTAB)
			continue;
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*s); k++)
			if (!strcmp(str + s[k].st_name, "hidden_work"))
				v = s[k].st_value;
	}
	assert_true(v != 0);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && v >= ph[i].p_vaddr &&
		    v < ph[i].p_vaddr + ph[i].p_filesz)
			off = v - ph[i].p_vaddr + ph[i].p_offset;
	free(m);
	return off;
}

static void test_resolves_hidden_function(void **state)
{
	uint64_t off = 0;

	assert_int_equal(attach_minidebug_func(STRIPPED, "hidden_work", &off), 0);
	assert_int_equal(off, expected_offset());
}

static void test_left_to_libbpf_or_absent(void **state)
{
	uint64_t off = 0;

	/* .symtab has it: libbpf's lookup answers */
	assert_int_equal(attach_minidebug_func(FULL, "hidden_work", &off), -ENOENT);
	/* .dynsym / nowhere */
	assert_int_equal(attach_minidebug_func(STRIPPED, "no_such_fn", &off), -ENOENT);
	assert_int_equal(attach_minidebug_func("/nonexistent/x", "f", &off), -ENOENT);
	assert_int_equal(attach_minidebug_func(STRIPPED, "", &off), -EINVAL);
	assert_int_equal(attach_minidebug_func(NULL, "f", &off), -EINVAL);
}

static void test_malformed_files(void **state)
{
	char path[] = "/tmp/bpfx-debugdata-XXXXXX";
	uint8_t *b, junk[4096];
	uint64_t off;
	size_t len;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	/* not ELF */
	memset(junk, 'A', sizeof(junk));
	spit(path, junk, sizeof(junk));
	assert_int_equal(attach_minidebug_func(path, "hidden_work", &off), -EINVAL);
	/* truncated at every 1/8 of the file: an error, never a crash */
	b = slurp(STRIPPED, &len);
	for (int k = 1; k < 8; k++) {
		spit(path, b, len * (size_t)k / 8);
		assert_true(attach_minidebug_func(path, "hidden_work", &off) < 0);
	}
	/* the xz stream corrupted, byte after byte */
	{
		const Elf64_Ehdr *eh = (const Elf64_Ehdr *)b;
		const Elf64_Shdr *sh = (const Elf64_Shdr *)(b + eh->e_shoff);
		const char *names = (const char *)b + sh[eh->e_shstrndx].sh_offset;
		const Elf64_Shdr *dd = NULL;

		for (int i = 0; i < eh->e_shnum; i++)
			if (!strcmp(names + sh[i].sh_name, ".gnu_debugdata"))
				dd = &sh[i];
		assert_non_null(dd);
		for (uint64_t i = 0; i < dd->sh_size; i += 29) {
			uint8_t *c = malloc(len);
			int r;

			assert_non_null(c);
			memcpy(c, b, len);
			c[dd->sh_offset + i] ^= 0x5a;
			spit(path, c, len);
			r = attach_minidebug_func(path, "hidden_work", &off);
			assert_true(r == -EINVAL || r == -ENOENT || r == 0);
			free(c);
		}
	}
	free(b);
	unlink(path);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolves_hidden_function),
		cmocka_unit_test(test_left_to_libbpf_or_absent),
		cmocka_unit_test(test_malformed_files),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
