/* SPDX-License-Identifier: MIT */
/*
 * cmd_obj.c - object-level commands: BTF_LOAD, OBJ_GET_INFO_BY_FD,
 * *_GET_NEXT_ID, *_GET_FD_BY_ID, OBJ_PIN / OBJ_GET. Info structs follow the kernel's rules: the caller's
 * info_len bounds what is written (bytes past what bpfx knows must be zero,
 * else -E2BIG), array fields are filled up to the caller's capacity and
 * report the full count.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu/emu_internal.h"
#include "isa/isa.h"
#include "vm/vm_internal.h"

struct btf_obj {
	uint32_t size;
	uint32_t pad;
	/* blob follows */
};

#define BTF_MAGIC 0xeB9F

struct btf_header_raw {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t type_off, type_len, str_off, str_len;
};

long emu_btf_load(union bpf_attr *a)
{
	struct btf_header_raw h;
	uint8_t *blob;
	void *mem;
	const char *why = NULL;
	int id, fd;

	if (!a->btf || a->btf_size < sizeof(h) || a->btf_size > (16u << 20))
		return a->btf_size > (16u << 20) ? -E2BIG : -EINVAL;
	blob = malloc(a->btf_size);
	if (!blob)
		return -ENOMEM;
	if (vm_nofault_copy(blob, u64_ptr(a->btf), a->btf_size)) {
		free(blob);
		return -EFAULT;
	}
	memcpy(&h, blob, sizeof(h));
	if (h.magic != BTF_MAGIC)
		why = "BTF: bad magic";
	else if (h.version != 1)
		why = "BTF: unsupported version";
	else if (h.hdr_len < sizeof(h) || h.hdr_len > a->btf_size)
		why = "BTF: bad header length";
	else if ((uint64_t)h.hdr_len + h.type_off + h.type_len > a->btf_size ||
		 (uint64_t)h.hdr_len + h.str_off + h.str_len > a->btf_size)
		why = "BTF: section out of bounds";
	else if (!h.str_len || blob[h.hdr_len + h.str_off + h.str_len - 1])
		why = "BTF: string section not NUL-terminated";
	if (why) {
		char line[128];

		snprintf(line, sizeof(line), "%s\n", why);
		if (a->btf_log_level)
			emu_log_write(a->btf_log_buf, a->btf_log_size, line);
		free(blob);
		return -EINVAL;
	}
	id = shm_obj_create(emu_session(), SHM_BTF,
			    sizeof(struct shm_obj_hdr) + sizeof(struct btf_obj) +
				    a->btf_size,
			    "", &mem);
	if (id < 0) {
		free(blob);
		return id;
	}
	{
		struct btf_obj *b = (struct btf_obj *)((char *)mem +
						       sizeof(struct shm_obj_hdr));

		b->size = a->btf_size;
		memcpy(b + 1, blob, a->btf_size);
	}
	free(blob);
	shm_obj_publish(mem);
	shm_obj_unmap(mem, sizeof(struct shm_obj_hdr) + sizeof(struct btf_obj) +
				   a->btf_size);
	fd = emu_obj_fd(SHM_BTF, (uint32_t)id, NULL, true, NULL);
	if (fd < 0)
		shm_obj_release(emu_session(), SHM_BTF, (uint32_t)id);
	return fd;
}

/* The caller's info struct: check tail zero, copy in what bpfx knows. */
static int info_in(void *dst, size_t known, uint64_t src, uint32_t len)
{
	uint8_t b;
	uint32_t i;

	memset(dst, 0, known);
	for (i = (uint32_t)known; i < len; i++) {
		if (vm_nofault_copy(&b, (uint8_t *)u64_ptr(src) + i, 1))
			return -EFAULT;
		if (b)
			return -E2BIG;
	}
	if (vm_nofault_copy(dst, u64_ptr(src), len < known ? len : known))
		return -EFAULT;
	return 0;
}

static void info_out(uint64_t dst, const void *src, size_t known,
		     union bpf_attr *a)
{
	uint32_t n = a->info.info_len < known ? a->info.info_len : (uint32_t)known;

	memcpy(u64_ptr(dst), src, n);
	a->info.info_len = n;
}

/* Fill an array field: copy min(cap, cnt) records, report cnt. */
static void fill_array(uint64_t uptr, uint32_t cap, const void *src,
		       uint32_t cnt, size_t rec)
{
	if (uptr && cap)
		memcpy(u64_ptr(uptr), src, (cap < cnt ? cap : cnt) * rec);
}

static long prog_info(struct emu_prog *p, union bpf_attr *a)
{
	struct bpf_prog_info info;
	const struct prog_hdr *h = p->hdr;
	const uint32_t *maps = (const uint32_t *)((char *)p->mem + h->maps_off);
	const struct shm_obj_hdr *oh = p->mem;
	struct bpfx_insn *x;
	uint32_t cap, k;
	int err;

	err = info_in(&info, sizeof(info), a->info.info, a->info.info_len);
	if (err)
		return err;
	/* xlated: map indexes back to map ids, as the kernel's dump */
	x = malloc(h->insn_cnt * sizeof(*x) + 1);
	if (!x)
		return -ENOMEM;
	memcpy(x, emu_prog_insns(p), h->insn_cnt * sizeof(*x));
	for (k = 0; k + 1 < h->insn_cnt; k++) {
		if (!isa_is_lddw(&x[k]))
			continue;
		if (x[k].src == ISA_PSEUDO_MAP_IDX ||
		    x[k].src == ISA_PSEUDO_MAP_IDX_VALUE) {
			x[k].src = x[k].src == ISA_PSEUDO_MAP_IDX ? ISA_PSEUDO_MAP_FD
								  : ISA_PSEUDO_MAP_VALUE;
			x[k].imm = (int32_t)maps[x[k].imm];
		}
		k++;
	}
	cap = info.xlated_prog_len;
	info.xlated_prog_len = h->insn_cnt * (uint32_t)sizeof(*x);
	if (info.xlated_prog_insns && cap)
		memcpy(u64_ptr(info.xlated_prog_insns), x,
		       cap < info.xlated_prog_len ? cap : info.xlated_prog_len);
	free(x);
	cap = info.jited_prog_len;
	info.jited_prog_len = 0; /* JIT code is per process: none to show here */
	(void)cap;
	info.type = h->prog_type;
	info.id = p->id;
	memcpy(info.tag, h->tag, sizeof(info.tag));
	info.load_time = h->load_time_ns;
	info.created_by_uid = getuid();
	fill_array(info.map_ids, info.nr_map_ids, maps, h->nmaps, sizeof(uint32_t));
	info.nr_map_ids = h->nmaps;
	memcpy(info.name, oh->name, sizeof(info.name));
	info.gpl_compatible = !strcmp(h->license, "GPL") ||
			      !strcmp(h->license, "Dual BSD/GPL") ||
			      !strcmp(h->license, "Dual MIT/GPL") ||
			      !strcmp(h->license, "GPL v2");
	info.btf_id = h->btf_id;
	if (info.func_info_rec_size && info.func_info_rec_size != h->func_info_rec_size &&
	    info.nr_func_info)
		return -EINVAL;
	fill_array(info.func_info, info.nr_func_info,
		   (char *)p->mem + h->func_info_off, h->func_info_cnt,
		   h->func_info_rec_size);
	info.nr_func_info = h->func_info_cnt;
	info.func_info_rec_size = h->func_info_rec_size;
	if (info.line_info_rec_size && info.line_info_rec_size != h->line_info_rec_size &&
	    info.nr_line_info)
		return -EINVAL;
	fill_array(info.line_info, info.nr_line_info,
		   (char *)p->mem + h->line_info_off, h->line_info_cnt,
		   h->line_info_rec_size);
	info.nr_line_info = h->line_info_cnt;
	info.line_info_rec_size = h->line_info_rec_size;
	info.nr_jited_ksyms = 0;
	info.nr_jited_func_lens = 0;
	info.nr_jited_line_info = 0;
	info.nr_prog_tags = 0;
	info.run_time_ns = h->run_time_ns;
	info.run_cnt = h->run_cnt;
	info.verified_insns = h->verified_insns;
	info.attach_btf_id = h->attach_btf_id;
	info_out(a->info.info, &info, sizeof(info), a);
	return 0;
}

static long map_info(struct bpfx_map *m, union bpf_attr *a)
{
	struct bpf_map_info info;
	int err;

	err = info_in(&info, sizeof(info), a->info.info, a->info.info_len);
	if (err)
		return err;
	memset(&info, 0, sizeof(info));
	info.type = m->type;
	info.id = m->id;
	info.key_size = m->key_size;
	info.value_size = m->value_size;
	info.max_entries = m->max_entries;
	info.map_flags = m->map_flags;
	memcpy(info.name, m->hdr->def.name, sizeof(info.name));
	info.btf_id = m->hdr->def.btf_id;
	info.btf_key_type_id = m->hdr->def.btf_key_type_id;
	info.btf_value_type_id = m->hdr->def.btf_value_type_id;
	info.map_extra = m->hdr->def.map_extra;
	info_out(a->info.info, &info, sizeof(info), a);
	return 0;
}

/*
 * The kernel's own BTF (/sys/kernel/btf/vmlinux) shows up among the
 * session's BTF objects under a reserved id, read only, as the kernel lists
 * it: tools that look for "vmlinux" by walking BTF ids (bpftrace does) find
 * the types they need for tracepoint arguments.
 */
#define VMLINUX_BTF_ID (1u << 30)
#define VMLINUX_BTF_PATH "/sys/kernel/btf/vmlinux"

static long vmlinux_btf_info(union bpf_attr *a, struct bpf_btf_info *info)
{
	static const char name[] = "vmlinux";
	int fd = open(VMLINUX_BTF_PATH, O_RDONLY | O_CLOEXEC);
	uint32_t cap = info->btf_size, got = 0;
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	if (info->btf && cap) {
		ssize_t n;

		while (got < cap && got < (uint64_t)st.st_size &&
		       (n = read(fd, (char *)u64_ptr(info->btf) + got, cap - got)) > 0)
			got += (uint32_t)n;
	}
	close(fd);
	info->btf_size = (uint32_t)st.st_size;
	info->id = VMLINUX_BTF_ID;
	info->kernel_btf = 1;
	if (info->name && info->name_len) {
		uint32_t n = info->name_len < sizeof(name) ? info->name_len : sizeof(name);

		memcpy(u64_ptr(info->name), name, n);
		((char *)u64_ptr(info->name))[n - 1] = '\0';
	}
	info->name_len = sizeof(name);
	info_out(a->info.info, info, sizeof(*info), a);
	return 0;
}

static long btf_info(uint32_t id, union bpf_attr *a)
{
	struct bpf_btf_info info;
	struct btf_obj *b;
	void *mem;
	size_t size;
	uint32_t cap;
	int err;

	err = info_in(&info, sizeof(info), a->info.info, a->info.info_len);
	if (err)
		return err;
	if (id == VMLINUX_BTF_ID)
		return vmlinux_btf_info(a, &info);
	err = shm_obj_map(emu_session(), SHM_BTF, id, &mem, &size);
	if (err)
		return err;
	b = (struct btf_obj *)((char *)mem + sizeof(struct shm_obj_hdr));
	cap = info.btf_size;
	if (info.btf && cap)
		memcpy(u64_ptr(info.btf), b + 1, cap < b->size ? cap : b->size);
	info.btf_size = b->size;
	info.id = id;
	info.kernel_btf = 0;
	if (info.name && info.name_len)
		((char *)u64_ptr(info.name))[0] = '\0';
	info.name_len = 0;
	shm_obj_unmap(mem, size);
	info_out(a->info.info, &info, sizeof(info), a);
	return 0;
}

static long link_info(uint32_t id, union bpf_attr *a)
{
	struct bpf_link_info info;
	const struct link_obj *l;
	void *mem;
	size_t size;
	int err;

	err = info_in(&info, sizeof(info), a->info.info, a->info.info_len);
	if (err)
		return err;
	err = emu_link_map(emu_session(), id, &l, &mem, &size);
	if (err)
		return err;
	memset(&info, 0, sizeof(info));
	info.type = BPF_LINK_TYPE_PERF_EVENT;
	info.id = id;
	info.prog_id = l->detached ? 0 : l->prog_id;
	shm_obj_unmap(mem, size);
	info_out(a->info.info, &info, sizeof(info), a);
	return 0;
}

long emu_obj_get_info(union bpf_attr *a)
{
	struct emu_obj *o = emu_obj_of_fd((int)a->info.bpf_fd);

	if (!o)
		return -EBADF;
	if (!a->info.info || !a->info.info_len)
		return -EINVAL;
	switch (o->kind) {
	case SHM_PROG:
		return prog_info(o->handle, a);
	case SHM_MAP:
		return map_info(o->handle, a);
	case SHM_BTF:
		return btf_info(o->id, a);
	default:
		return link_info(o->id, a);
	}
}

static enum shm_kind kind_of_cmd(int cmd)
{
	switch (cmd) {
	case BPF_PROG_GET_NEXT_ID:
	case BPF_PROG_GET_FD_BY_ID:
		return SHM_PROG;
	case BPF_MAP_GET_NEXT_ID:
	case BPF_MAP_GET_FD_BY_ID:
		return SHM_MAP;
	case BPF_BTF_GET_NEXT_ID:
	case BPF_BTF_GET_FD_BY_ID:
		return SHM_BTF;
	default:
		return SHM_LINK;
	}
}

long emu_get_next_id(int cmd, union bpf_attr *a)
{
	uint32_t next;
	int err;

	err = shm_obj_next_id(emu_session(), kind_of_cmd(cmd), a->start_id, &next);
	if (err == -ENOENT && cmd == BPF_BTF_GET_NEXT_ID &&
	    a->start_id < VMLINUX_BTF_ID && !access(VMLINUX_BTF_PATH, R_OK)) {
		next = VMLINUX_BTF_ID;
		err = 0;
	}
	if (err)
		return err;
	a->next_id = next;
	return 0;
}

/* A new fd for object (@kind, @id), creating this process's handle. */
static long fd_for(enum shm_kind kind, uint32_t id)
{
	struct emu_obj *o = emu_obj_find(kind, id);
	struct emu_prog *p = NULL;
	struct bpfx_map *m = NULL;
	void *handle = NULL;
	long fd;
	int err;

	if (!o || !o->handle) {
		if (kind == SHM_MAP) {
			err = emu_map_get(id, &m);
			if (err)
				return err;
			return emu_obj_fd(SHM_MAP, id, m, false, NULL);
		}
		if (kind == SHM_PROG) {
			err = emu_prog_open(emu_session(), id, &p);
			if (err)
				return err;
			handle = p;
		}
	}
	fd = emu_obj_fd(kind, id, handle, false, &o);
	if (fd < 0 || o->handle != handle)
		emu_prog_close(p);
	return fd;
}

long emu_get_fd_by_id(int cmd, union bpf_attr *a)
{
	if (a->open_flags & ~(BPF_F_RDONLY | BPF_F_WRONLY))
		return -EINVAL;
	if (cmd == BPF_BTF_GET_FD_BY_ID && a->start_id == VMLINUX_BTF_ID)
		return emu_obj_open_file(VMLINUX_BTF_PATH, SHM_BTF, VMLINUX_BTF_ID);
	return fd_for(kind_of_cmd(cmd), a->start_id);
}

long emu_obj_pin(union bpf_attr *a)
{
	char path[4096];
	enum shm_kind kind;
	uint32_t id;
	long n;

	if (a->file_flags)
		return -EINVAL;
	if (!emu_fd_object((int)a->bpf_fd, &kind, &id))
		return -EBADF;
	n = vm_nofault_strncpy(path, u64_ptr(a->pathname), sizeof(path));
	if (n < 0)
		return -EFAULT;
	if ((size_t)n == sizeof(path))
		return -ENAMETOOLONG;
	return shm_pin(emu_session(), kind, id, path);
}

long emu_obj_get(union bpf_attr *a)
{
	char path[4096];
	enum shm_kind kind;
	uint32_t id;
	long n;
	int err;

	if (a->file_flags & ~(BPF_F_RDONLY | BPF_F_WRONLY))
		return -EINVAL;
	n = vm_nofault_strncpy(path, u64_ptr(a->pathname), sizeof(path));
	if (n < 0)
		return -EFAULT;
	err = shm_pin_lookup(emu_session(), path, &kind, &id);
	if (err)
		return err;
	return fd_for(kind, id);
}
