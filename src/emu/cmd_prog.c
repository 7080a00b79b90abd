/* SPDX-License-Identifier: MIT */
/*
 * cmd_prog.c - BPF_PROG_LOAD, BPF_PROG_TEST_RUN, BPF_PROG_BIND_MAP, and the
 * program objects behind them.
 *
 * PROG_LOAD copies the instructions, turns every map reference (lddw with
 * BPF_PSEUDO_MAP_FD / _VALUE / _IDX / _IDX_VALUE) into an index into the
 * program's own map-id table (BPF_PSEUDO_MAP_IDX / _IDX_VALUE), checks the
 * program (structural checks, then the verifier), and stores it as a
 * session object. Any process then instantiates it: opens the maps and
 * rewrites those lddw into plain immediates (a `struct bpfx_map *`, or the
 * address of an array value) before the VM loads it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "emu/emu_internal.h"
#include "isa/isa.h"
#include "verifier/verifier.h"
#include "vm/vm_internal.h"

#define MAX_PROG_MAPS 64 /* as the kernel's MAX_USED_MAPS */

int emu_log_write(uint64_t buf, uint32_t size, const char *msg)
{
	size_t n = strlen(msg);
	char *dst = u64_ptr(buf);

	if (!buf || !size)
		return 0;
	if (n + 1 <= size) {
		memcpy(dst, msg, n + 1);
		return 0;
	}
	memcpy(dst, msg, size - 1);
	dst[size - 1] = '\0';
	return -ENOSPC;
}

static bool supported_type(uint32_t type)
{
	switch (type) {
	case BPF_PROG_TYPE_SOCKET_FILTER: /* libbpf's feature probes */
	case BPF_PROG_TYPE_KPROBE:	  /* uprobes, uretprobes, usdt */
	case BPF_PROG_TYPE_TRACEPOINT:	  /* syscall tracepoints */
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
	case BPF_PROG_TYPE_PERF_EVENT:
	case BPFX_PROG_TYPE_RAW:
		return true;
	default:
		return false;
	}
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct load_ctx {
	union bpf_attr *a;
	struct bpfx_insn *insns;
	uint32_t n;
	uint32_t map_ids[MAX_PROG_MAPS];
	uint32_t nmaps;
	char msg[512];
	char *vlog;		/* the verifier's log (copied to log_buf) */
	uint32_t vlog_size;
	uint32_t vlog_true_size;
	struct verifier_stats stats;
};

__attribute__((format(printf, 2, 3))) static long fail(struct load_ctx *c,
						       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Index of map @id in the program's table (added if new). */
static int map_index(struct load_ctx *c, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < c->nmaps; i++)
		if (c->map_ids[i] == id)
			return (int)i;
	if (c->nmaps == MAX_PROG_MAPS)
		return -E2BIG;
	c->map_ids[c->nmaps] = id;
	return (int)c->nmaps++;
}

static long resolve_maps(struct load_ctx *c)
{
	uint32_t pc;

	for (pc = 0; pc < c->n; pc++) {
		struct bpfx_insn *i = &c->insns[pc];
		enum shm_kind kind;
		uint32_t id;
		int32_t fd;
		int idx;

		if (i->code == (ISA_JMP | ISA_CALL) && i->src == ISA_CALL_KFUNC)
			return fail(c, "insn %u: kfunc calls are not available in userspace\n", pc);
		if (!isa_is_lddw(i))
			continue;
		if (pc + 1 >= c->n)
			return fail(c, "insn %u: incomplete lddw\n", pc);
		switch (i->src) {
		case ISA_PSEUDO_NONE:
		case ISA_PSEUDO_FUNC:
			pc++;
			continue;
		case ISA_PSEUDO_MAP_FD:
		case ISA_PSEUDO_MAP_VALUE:
			fd = i->imm;
			break;
		case ISA_PSEUDO_MAP_IDX:
		case ISA_PSEUDO_MAP_IDX_VALUE:
			if (!c->a->fd_array)
				return fail(c, "insn %u: map index without fd_array\n", pc);
			if (vm_nofault_copy(&fd, (int32_t *)u64_ptr(c->a->fd_array) + i->imm,
					    sizeof(fd)))
				return -EFAULT;
			break;
		case ISA_PSEUDO_BTF_ID:
			return fail(c, "insn %u: kernel symbols (ksym) are not available in userspace\n",
				    pc);
		default:
			return fail(c, "insn %u: unknown lddw pseudo source %u\n", pc, i->src);
		}
		if (!emu_fd_object(fd, &kind, &id) || kind != SHM_MAP)
			return fail(c, "insn %u: fd %d is not a map\n", pc, fd);
		idx = map_index(c, id);
		if (idx < 0)
			return fail(c, "insn %u: more than %d maps in one program\n", pc,
				    MAX_PROG_MAPS);
		i->src = (i->src == ISA_PSEUDO_MAP_FD || i->src == ISA_PSEUDO_MAP_IDX)
				 ? ISA_PSEUDO_MAP_IDX
				 : ISA_PSEUDO_MAP_IDX_VALUE;
		i->imm = idx;
		pc++;
	}
	return 0;
}

static size_t align8(size_t v)
{
	return (v + 7) & ~(size_t)7;
}

/* Copy @cnt records of @rec_size bytes from user memory to @dst. */
static int copy_records(void *dst, uint64_t src, uint32_t cnt, uint32_t rec_size)
{
	if (!cnt)
		return 0;
	return (int)vm_nofault_copy(dst, u64_ptr(src), (size_t)cnt * rec_size);
}

static long store_prog(struct load_ctx *c, uint32_t verified)
{
	union bpf_attr *a = c->a;
	size_t fi = (size_t)a->func_info_cnt * a->func_info_rec_size;
	size_t li = (size_t)a->line_info_cnt * a->line_info_rec_size;
	size_t off = align8(sizeof(struct shm_obj_hdr) + sizeof(struct prog_hdr));
	size_t insns_off, maps_off, fi_off, li_off, size;
	struct prog_hdr *h;
	enum shm_kind kind;
	char *mem;
	void *vmem;
	int id, fd, err;

	insns_off = off;
	maps_off = align8(insns_off + c->n * sizeof(struct bpfx_insn));
	fi_off = align8(maps_off + c->nmaps * sizeof(uint32_t));
	li_off = align8(fi_off + fi);
	size = li_off + li;
	id = shm_obj_create(emu_session(), SHM_PROG, size, a->prog_name, &vmem);
	if (id < 0)
		return id;
	mem = vmem;
	h = (struct prog_hdr *)(mem + sizeof(struct shm_obj_hdr));
	h->prog_type = a->prog_type;
	h->expected_attach_type = a->expected_attach_type;
	h->insn_cnt = c->n;
	h->nmaps = c->nmaps;
	h->prog_flags = a->prog_flags;
	h->verified_insns = verified;
	h->attach_btf_id = a->attach_btf_id;
	h->insns_off = insns_off;
	h->maps_off = maps_off;
	h->func_info_off = fi_off;
	h->line_info_off = li_off;
	h->load_time_ns = now_ns(CLOCK_BOOTTIME);
	if (a->license)
		vm_nofault_strncpy(h->license, u64_ptr(a->license), sizeof(h->license));
	if (a->prog_btf_fd) {
		if (emu_fd_object((int)a->prog_btf_fd, &kind, &h->btf_id) &&
		    kind != SHM_BTF)
			h->btf_id = 0;
	}
	memcpy(mem + insns_off, c->insns, c->n * sizeof(struct bpfx_insn));
	memcpy(mem + maps_off, c->map_ids, c->nmaps * sizeof(uint32_t));
	err = copy_records(mem + fi_off, a->func_info, a->func_info_cnt,
			   a->func_info_rec_size);
	if (!err)
		err = copy_records(mem + li_off, a->line_info, a->line_info_cnt,
				   a->line_info_rec_size);
	if (!err) {
		h->func_info_cnt = a->func_info_cnt;
		h->func_info_rec_size = a->func_info_rec_size;
		h->line_info_cnt = a->line_info_cnt;
		h->line_info_rec_size = a->line_info_rec_size;
	}
	/* tag: first 8 bytes of a cheap digest of the code (stable id) */
	{
		uint64_t hsh = 0xcbf29ce484222325ull;
		size_t k;

		for (k = 0; k < c->n * sizeof(struct bpfx_insn); k++)
			hsh = (hsh ^ (uint8_t)mem[insns_off + k]) * 0x100000001b3ull;
		memcpy(h->tag, &hsh, sizeof(h->tag));
	}
	shm_obj_publish(vmem);
	shm_obj_unmap(vmem, size);
	/* the program keeps its maps alive, as the kernel's used_maps */
	for (uint32_t k = 0; !err && k < c->nmaps; k++)
		shm_obj_ref(emu_session(), c->map_ids[k], (uint32_t)id);
	if (err) {
		shm_obj_release(emu_session(), SHM_PROG, (uint32_t)id);
		return err;
	}
	{
		struct emu_prog *p;
		struct emu_obj *o;

		err = emu_prog_open(emu_session(), (uint32_t)id, &p);
		if (err) {
			shm_obj_release(emu_session(), SHM_PROG, (uint32_t)id);
			return err;
		}
		fd = emu_obj_fd(SHM_PROG, (uint32_t)id, p, true, &o);
		if (fd < 0 || o->handle != p)
			emu_prog_close(p);
		if (fd < 0)
			shm_obj_release(emu_session(), SHM_PROG, (uint32_t)id);
	}
	return fd;
}

/* The BTF blob of session object @id (malloc'ed), or NULL. */
static void *btf_blob(uint32_t id, uint32_t *size)
{
	struct { uint32_t size, pad; } *b;
	void *mem, *copy = NULL;
	size_t msize;

	if (!id || shm_obj_map(emu_session(), SHM_BTF, id, &mem, &msize))
		return NULL;
	b = (void *)((char *)mem + sizeof(struct shm_obj_hdr));
	if (sizeof(struct shm_obj_hdr) + sizeof(*b) + b->size <= msize &&
	    (copy = malloc(b->size))) {
		memcpy(copy, b + 1, b->size);
		*size = b->size;
	}
	shm_obj_unmap(mem, msize);
	return copy;
}

/* Offset of a top-level struct bpf_spin_lock in the map's value type, as
 * the kernel's btf_find_spin_lock; -1 without BTF or without a lock. */
static int32_t spin_lock_off(const struct bpfx_map *m)
{
	const struct map_def *d = &m->hdr->def;
	const struct btf_type *t;
	const struct btf_member *mb;
	struct btf *btf;
	uint32_t size = 0;
	void *blob;
	int32_t off = -1;
	int i;

	if (!d->btf_id || !d->btf_value_type_id ||
	    !(blob = btf_blob(d->btf_id, &size)))
		return -1;
	btf = btf__new(blob, size);
	free(blob);
	if (!btf)
		return -1;
	t = btf__type_by_id(btf, d->btf_value_type_id);
	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_struct(t)) {
		mb = btf_members(t);
		for (i = 0; i < btf_vlen(t); i++, mb++) {
			const struct btf_type *mt = btf__type_by_id(btf, mb->type);
			const char *n = mt ? btf__name_by_offset(btf, mt->name_off) : NULL;

			if (mt && btf_is_struct(mt) && n && !strcmp(n, "bpf_spin_lock")) {
				off = (int32_t)(btf_member_bit_offset(t, (uint32_t)i) / 8);
				break;
			}
		}
	}
	btf__free(btf);
	return off;
}

/*
 * The verifier, over the stored form (maps by index). Its log goes to a
 * buffer of the caller's log size (kernel semantics: -ENOSPC when the
 * verdict was reached but did not fit).
 */
static long verify(struct load_ctx *c)
{
	union bpf_attr *a = c->a;
	struct verifier_map vmaps[2 * MAX_PROG_MAPS];
	struct verifier_opts o = { .sz = sizeof(o) };
	void *btf = NULL, *lines = NULL;
	uint32_t btf_size = 0, k, btf_id = 0;
	enum shm_kind kind;
	long err;

	uint32_t nv = c->nmaps;

	for (k = 0; k < c->nmaps; k++) {
		struct bpfx_map *m, *in;

		err = emu_map_get(c->map_ids[k], &m);
		if (err)
			return err;
		vmaps[k] = (struct verifier_map){
			.type = m->type, .key_size = m->key_size,
			.value_size = m->value_size, .max_entries = m->max_entries,
			.map_flags = m->map_flags, .spin_lock_off = spin_lock_off(m),
		};
		/* map-in-map: the inner template goes after the table */
		if (m->hdr->def.inner_map_id &&
		    !emu_map_get(m->hdr->def.inner_map_id, &in)) {
			vmaps[nv] = (struct verifier_map){
				.type = in->type, .key_size = in->key_size,
				.value_size = in->value_size,
				.max_entries = in->max_entries,
				.map_flags = in->map_flags,
				.spin_lock_off = spin_lock_off(in),
			};
			vmaps[k].inner = ++nv;
		}
	}
	o.prog_type = a->prog_type;
	o.insns = c->insns;
	o.insn_cnt = c->n;
	o.maps = vmaps;
	o.nmaps = nv;
	o.helper_lookup = verifier_default_helper_lookup;
	if (a->prog_btf_fd && emu_fd_object((int)a->prog_btf_fd, &kind, &btf_id) &&
	    kind == SHM_BTF)
		btf = btf_blob(btf_id, &btf_size);
	if (btf && a->line_info_cnt && a->line_info_rec_size >= 16 &&
	    (lines = malloc((size_t)a->line_info_cnt * a->line_info_rec_size)) &&
	    !copy_records(lines, a->line_info, a->line_info_cnt, a->line_info_rec_size)) {
		o.btf = btf;
		o.btf_size = btf_size;
		o.line_info = lines;
		o.line_info_cnt = a->line_info_cnt;
		o.line_info_rec_size = a->line_info_rec_size;
	}
	/* always keep a log: a rejection is explained even to callers that
	 * asked for none (it goes to the debug print callback then) */
	c->vlog_size = a->log_level && a->log_size ? a->log_size : 4096;
	c->vlog = calloc(1, c->vlog_size);
	o.log_level = a->log_level ? a->log_level : 1;
	o.log_buf = c->vlog;
	o.log_size = c->vlog ? c->vlog_size : 0;
	c->stats.sz = sizeof(c->stats);
	err = verifier_check(&o, &c->stats);
	c->vlog_true_size = o.log_true_size;
	free(btf);
	free(lines);
	return err;
}

/* Structural checks + verifier over the stored form: instantiate a
 * throw-away copy with the maps resolved. */
static long check_prog(struct load_ctx *c)
{
	struct emu_prog tmp = { 0 };
	struct prog_hdr h = { 0 };
	long err;

	h.insn_cnt = c->n;
	h.nmaps = c->nmaps;
	tmp.hdr = &h;
	err = emu_prog_build(&tmp, c->insns, c->map_ids, emu_vm(), c->msg,
			     sizeof(c->msg));
	if (tmp.vm_prog)
		bpfx_prog_free(tmp.vm_prog);
	emu_prog_unmaps(&tmp);
	return err;
}

long emu_prog_load(union bpf_attr *a, unsigned size)
{
	struct load_ctx c = { .a = a };
	long err;

	if (a->prog_flags & ~(BPF_F_STRICT_ALIGNMENT | BPF_F_ANY_ALIGNMENT |
			      BPF_F_TEST_RND_HI32 | BPF_F_TEST_STATE_FREQ |
			      BPF_F_SLEEPABLE))
		return -EINVAL;
	if (!a->insn_cnt)
		return -EINVAL;
	if (a->insn_cnt > BPFX_MAX_INSNS)
		return -E2BIG;
	if (!supported_type(a->prog_type)) {
		snprintf(c.msg, sizeof(c.msg),
			 "program type %u is not supported by bpfx\n", a->prog_type);
		err = -EINVAL;
		goto log;
	}
	if (a->log_level && (!a->log_buf || a->log_size < 128))
		return -EINVAL; /* as the kernel's bpf_verifier_log_attr_valid */
	c.n = a->insn_cnt;
	c.insns = malloc(c.n * sizeof(*c.insns));
	if (!c.insns)
		return -ENOMEM;
	if (vm_nofault_copy(c.insns, u64_ptr(a->insns), c.n * sizeof(*c.insns))) {
		free(c.insns);
		return -EFAULT;
	}
	err = resolve_maps(&c);
	if (!err && !(getenv("BPFX_UNSAFE_SKIP_VERIFIER") &&
		      !strcmp(getenv("BPFX_UNSAFE_SKIP_VERIFIER"), "yes-i-know")))
		err = verify(&c);
	else if (!err)
		vm_log(BPFX_WARN, "bpfx: UNSAFE: verifier skipped for '%.16s' (BPFX_UNSAFE_SKIP_VERIFIER)\n",
		       a->prog_name);
	if (!err || err == -ENOSPC) {
		long err2 = check_prog(&c);

		if (err2)
			err = err2;
	}
	if (!err || err == -ENOSPC) {
		long fd = store_prog(&c, (uint32_t)c.stats.insns_processed);

		if (fd < 0)
			err = fd;
		else if (err == -ENOSPC) /* loaded, but the log was cut */
			close((int)fd);
		else
			err = fd;
	}
	free(c.insns);
log:
	if (c.vlog && a->log_level) {
		/* the verifier's own log, as the kernel writes it */
		if (c.msg[0] && err < 0 && err != -ENOSPC && strlen(c.vlog) + strlen(c.msg) + 1 < c.vlog_size)
			strcat(c.vlog, c.msg);
		if (emu_log_write(a->log_buf, a->log_size, c.vlog) && err >= 0)
			err = -ENOSPC;
	} else if (err < 0 && a->log_level && c.msg[0]) {
		if (emu_log_write(a->log_buf, a->log_size, c.msg))
			err = -ENOSPC;
	} else if (err < 0) {
		vm_log(BPFX_DEBUG, "bpfx: PROG_LOAD rejected: %s%s",
		       c.vlog && c.vlog[0] ? c.vlog : "", c.msg);
	}
	free(c.vlog);
	(void)size;
	return err;
}

long emu_prog_bind_map(union bpf_attr *a)
{
	enum shm_kind kind;

	if (!emu_fd_prog((int)a->prog_bind_map.prog_fd))
		return -EBADF;
	if (!emu_fd_object((int)a->prog_bind_map.map_fd, &kind, NULL) ||
	    kind != SHM_MAP)
		return -EBADF;
	return 0; /* maps live by their own holds; nothing to record */
}

/* ---- PROG_TEST_RUN ---- */

long emu_prog_test_run(union bpf_attr *a)
{
	struct emu_prog *p = emu_fd_prog((int)a->test.prog_fd);
	size_t ctx_len, data_len = a->test.data_size_in;
	uint8_t *ctx = NULL, *data = NULL;
	uint32_t repeat = a->test.repeat ? a->test.repeat : 1, i;
	uint64_t r0 = 0, t0, t1;
	void *run_ctx;
	size_t run_len;
	long err;

	if (!p)
		return -EBADF;
	if (a->test.flags & ~BPF_F_TEST_RUN_ON_CPU)
		return -EINVAL;
	err = emu_prog_instantiate(p, emu_vm(), true);
	if (err)
		return err;
	/* contexts: the caller's ctx_in, else zeros of the type's size */
	ctx_len = a->test.ctx_size_in;
	if (!ctx_len) {
		switch (p->hdr->prog_type) {
		case BPF_PROG_TYPE_KPROBE:
			ctx_len = 21 * 8; /* struct pt_regs */
			break;
		case BPF_PROG_TYPE_TRACEPOINT:
		case BPF_PROG_TYPE_RAW_TRACEPOINT:
			ctx_len = 2048; /* PERF_MAX_TRACE_SIZE */
			break;
		default:
			ctx_len = 0;
		}
	}
	ctx = calloc(1, ctx_len ? ctx_len : 1);
	data = malloc(data_len ? data_len : 1);
	if (!ctx || !data) {
		err = -ENOMEM;
		goto out;
	}
	if ((a->test.ctx_size_in &&
	     vm_nofault_copy(ctx, u64_ptr(a->test.ctx_in), a->test.ctx_size_in)) ||
	    (data_len && vm_nofault_copy(data, u64_ptr(a->test.data_in), data_len))) {
		err = -EFAULT;
		goto out;
	}
	/* raw and socket-filter programs see the data; the others their ctx */
	if (p->hdr->prog_type == BPFX_PROG_TYPE_RAW ||
	    p->hdr->prog_type == BPF_PROG_TYPE_SOCKET_FILTER) {
		run_ctx = data_len ? data : NULL;
		run_len = data_len;
	} else {
		run_ctx = ctx;
		run_len = ctx_len;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < repeat && !err; i++)
		err = bpfx_prog_run(p->vm_prog, p->engine, run_ctx, run_len, &r0);
	t1 = now_ns(CLOCK_MONOTONIC);
	if (err)
		goto out;
	__atomic_fetch_add(&p->hdr->run_cnt, repeat, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->hdr->run_time_ns, t1 - t0, __ATOMIC_RELAXED);
	a->test.retval = (uint32_t)r0;
	a->test.duration = (uint32_t)((t1 - t0) / repeat);
	if (a->test.data_out && data_len) {
		size_t n = data_len < a->test.data_size_out ? data_len
							    : a->test.data_size_out;

		memcpy(u64_ptr(a->test.data_out), data, n);
		if (a->test.data_size_out && data_len > a->test.data_size_out)
			err = -ENOSPC;
		a->test.data_size_out = (uint32_t)data_len;
	}
	if (a->test.ctx_out && a->test.ctx_size_in) {
		size_t n = ctx_len < a->test.ctx_size_out ? ctx_len : a->test.ctx_size_out;

		memcpy(u64_ptr(a->test.ctx_out), ctx, n);
		a->test.ctx_size_out = (uint32_t)ctx_len;
	}
out:
	free(ctx);
	free(data);
	return err;
}
