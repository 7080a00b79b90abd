/* SPDX-License-Identifier: MIT */
/*
 * log.c - the verifier log: a caller-owned buffer filled as the kernel's
 * (fixed mode: the first log_size - 1 bytes are kept, NUL-terminated; the
 * full length is counted so the caller learns the size needed), register
 * state dumps, and rejection blocks with the instruction, its source line
 * (BTF line_info) and the path of branch decisions that led there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/btf.h>

#include "verifier/verifier_internal.h"

__attribute__((format(printf, 2, 0))) static void vlog_put(struct env *e,
							 const char *fmt,
							 va_list ap)
{
	struct vlog *l = &e->log;
	char tmp[512];
	int n;

	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	if (l->buf && l->size && l->len < l->size - 1) {
		uint64_t room = l->size - 1 - l->len;
		uint64_t k = (uint64_t)n < room ? (uint64_t)n : room;

		memcpy(l->buf + l->len, tmp, k);
		l->buf[l->len + k] = '\0';
	}
	l->len += (uint64_t)n;
}

void verifier_log(struct env *e, const char *fmt, ...)
{
	va_list ap;

	if (!e->log.level)
		return;
	va_start(ap, fmt);
	vlog_put(e, fmt, ap);
	va_end(ap);
}

const char *verifier_type_name(const struct reg *r)
{
	bool null = r->flags & RF_MAYBE_NULL;

	switch (r->type) {
	case NOT_INIT: return "?";
	case SCALAR: return "scalar";
	case PTR_TO_CTX: return "ctx";
	case PTR_TO_STACK: return "fp";
	case CONST_PTR_TO_MAP: return "map_ptr";
	case PTR_TO_MAP_VALUE: return null ? "map_value_or_null" : "map_value";
	case PTR_TO_MAP_KEY: return "map_key";
	case PTR_TO_MEM:
		if (r->flags & RF_RINGBUF)
			return null ? "ringbuf_mem_or_null" : "ringbuf_mem";
		return null ? "mem_or_null" : "mem";
	case PTR_TO_FUNC: return "func";
	}
	return "?";
}

static void log_reg(struct env *e, uint32_t regno, const struct reg *r)
{
	const struct bounds *b = &r->b;

	verifier_log(e, " R%u=%s", regno, verifier_type_name(r));
	if (r->type == SCALAR && bounds_is_const(b)) {
		verifier_log(e, "(%" PRId64 ")", (int64_t)b->var_off.value);
		return;
	}
	if (r->type == NOT_INIT)
		return;
	verifier_log(e, "(");
	if (r->type != SCALAR)
		verifier_log(e, "off=%d,", r->off);
	if (r->id)
		verifier_log(e, "id=%u,", r->id);
	if (r->ref_obj_id)
		verifier_log(e, "ref_obj_id=%u,", r->ref_obj_id);
	if (r->type == PTR_TO_STACK && r->frameno)
		verifier_log(e, "frame=%u,", r->frameno);
	if (r->type == CONST_PTR_TO_MAP || r->type == PTR_TO_MAP_VALUE ||
	    r->type == PTR_TO_MAP_KEY)
		verifier_log(e, "map=%u,", r->aux);
	if (r->type == PTR_TO_MEM)
		verifier_log(e, "sz=%u,", r->aux);
	if (r->type == SCALAR || !bounds_is_const(b) || b->var_off.value)
		verifier_log(e,
			     "smin=%" PRId64 ",smax=%" PRId64 ",umax=%" PRIu64
			     ",var_off=(%#" PRIx64 "; %#" PRIx64 ")",
			     b->smin, b->smax, b->umax, b->var_off.value,
			     b->var_off.mask);
	verifier_log(e, ")");
}

void verifier_log_state(struct env *e, uint32_t pc)
{
	struct vstate *st = e->cur;
	struct frame *f = cur_frame(e);
	uint32_t r, i;
	char dis[128];

	verifier_log(e, "%u:", pc);
	if (st->curframe)
		verifier_log(e, " frame%u:", st->curframe);
	for (r = 0; r < ISA_NREGS; r++)
		if (f->regs[r].type != NOT_INIT)
			log_reg(e, r, &f->regs[r]);
	for (i = 0; i < f->nslots; i++) {
		struct slot *s = &f->slots[i];

		if (s->kind[0] == STACK_SPILL) {
			verifier_log(e, " fp-%u=", (i + 1) * 8);
			verifier_log(e, "%s", verifier_type_name(&s->r));
		}
	}
	bpfx_insn_disasm(&e->insns[pc], e->n - pc, dis, sizeof(dis));
	verifier_log(e, " (live %#x precise %#x)\n%u: %s\n",
		     e->aux[pc].live_in, e->aux[pc].prec, pc, dis);
}

/* ---- source lines ---- */

void verifier_sources_init(struct env *e)
{
	const struct verifier_opts *o = e->o;
	const struct btf_header *h = o->btf;

	e->strs = NULL;
	e->strs_len = 0;
	if (!h || o->btf_size < sizeof(*h) || h->magic != BTF_MAGIC)
		return;
	if ((uint64_t)h->hdr_len + h->str_off + h->str_len > o->btf_size)
		return;
	e->strs = (const char *)o->btf + h->hdr_len + h->str_off;
	e->strs_len = h->str_len;
}

static const char *str_at(const struct env *e, uint32_t off)
{
	if (!e->strs || off >= e->strs_len)
		return NULL;
	if (!memchr(e->strs + off, '\0', e->strs_len - off))
		return NULL;
	return e->strs + off;
}

static void log_source(struct env *e, uint32_t pc)
{
	const struct verifier_opts *o = e->o;
	uint32_t rec = o->line_info_rec_size ? o->line_info_rec_size :
					       sizeof(struct bpf_line_info);
	const struct bpf_line_info *best = NULL;
	const char *line, *file;
	uint32_t i;

	if (!o->line_info || !e->strs || rec < sizeof(struct bpf_line_info))
		return;
	for (i = 0; i < o->line_info_cnt; i++) {
		const struct bpf_line_info *li =
			(const void *)((const char *)o->line_info +
				       (size_t)i * rec);

		if (li->insn_off <= pc &&
		    (!best || li->insn_off >= best->insn_off))
			best = li;
	}
	if (!best)
		return;
	line = str_at(e, best->line_off);
	file = str_at(e, best->file_name_off);
	while (line && (*line == ' ' || *line == '\t'))
		line++;
	verifier_log(e, "  ; %s @ %s:%u\n", line ? line : "",
		     file ? file : "?", BPF_LINE_INFO_LINE_NUM(best->line_col));
}

int verifier_reject(struct env *e, int err, uint32_t pc, const char *fmt,
		    ...)
{
	struct vstate *st = e->cur;
	char dis[128];
	va_list ap;
	uint32_t i;

	if (!e->log.level)
		return err;
	if (pc < e->n) {
		bpfx_insn_disasm(&e->insns[pc], e->n - pc, dis, sizeof(dis));
		verifier_log(e, "insn %u: %s\n", pc, dis);
		log_source(e, pc);
	}
	va_start(ap, fmt);
	vlog_put(e, fmt, ap);
	va_end(ap);
	verifier_log(e, "\n");
	if (st) {
		verifier_log(e, "path:");
		if (st->path_dropped)
			verifier_log(e, " (%u earlier decisions)",
				     st->path_dropped);
		for (i = 0; i < st->npath; i++)
			verifier_log(e, "%s %u %s", i ? "," : "",
				     st->path[i] >> 1,
				     st->path[i] & 1 ? "taken" : "not taken");
		if (!st->npath && !st->path_dropped)
			verifier_log(e, " straight line from insn 0");
		if (st->curframe)
			verifier_log(e, " (in frame %u, called from insn %u)",
				     st->curframe,
				     st->frames[st->curframe]->callsite);
		verifier_log(e, "\n");
	}
	return err;
}
