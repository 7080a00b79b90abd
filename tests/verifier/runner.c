/* SPDX-License-Identifier: MIT */
/*
 * runner.c - runs the verifier's case table (cases_*.c).
 *
 *   verifier_runner NAME              one case (ctest runs each this way)
 *   verifier_runner --all             every case, with totals
 *   verifier_runner --list            case names
 *   verifier_runner --ctest-file F    write the ctest registrations to F
 *   verifier_runner --conformance DIR...
 *        every conformance program (ASSEMBLED.tsv, status ok, with a
 *        result) must be accepted as BPFX_PROG_TYPE_RAW with its memory
 *        size, and must then run on the checked engine without a fault
 *   verifier_runner --bench [N]       verify an N-instruction (default
 *                                     1000) program and print --stats data
 * Exit status: 0 pass, 1 fail.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "cli/conformance.h"

#undef INSN /* back to expressions for the generated program */
#define INSN(c, d, s, o, i)                                                    \
	((struct bpfx_insn){ .code = (c), .dst = (d), .src = (s), .off = (o),  \
			     .imm = (i) })

static char logbuf[1 << 16];

static int run_case(const struct vcase *c, bool quiet)
{
	struct verifier_map maps[4];
	struct verifier_opts o;
	struct verifier_stats st = { .sz = sizeof(st) };
	int err;

	vcase_opts(c, &o, maps);
	o.log_level = 1;
	o.log_buf = logbuf;
	o.log_size = sizeof(logbuf);
	err = verifier_check(&o, &st);
	if (err == c->expect &&
	    (!c->msg || !*c->msg || strstr(logbuf, c->msg))) {
		if (!quiet)
			printf("PASS %s (%" PRIu64 " insns processed)\n%s",
			       c->name, st.insns_processed, logbuf);
		return 0;
	}
	printf("FAIL %s: got %d, expected %d%s%s%s\n--- log ---\n%s\n", c->name,
	       err, c->expect, c->msg ? " with '" : "", c->msg ? c->msg : "",
	       c->msg ? "'" : "", logbuf);
	return 1;
}

static int run_all(void)
{
	const struct vcase *c;
	size_t i, fails = 0, acc = 0, rej = 0;

	for (i = 0; (c = vcase_at(i)); i++) {
		fails += (size_t)run_case(c, true);
		if (c->expect == ACCEPT)
			acc++;
		else
			rej++;
	}
	printf("%zu cases (%zu accept, %zu reject): %zu passed, %zu failed\n",
	       i, acc, rej, i - fails, fails);
	return fails ? 1 : 0;
}

static int ctest_file(const char *path, const char *self)
{
	FILE *f = fopen(path, "w");
	const struct vcase *c;
	size_t i;

	if (!f)
		return 1;
	for (i = 0; (c = vcase_at(i)); i++) {
		fprintf(f, "add_test(\"verifier/%s\" \"%s\" \"%s\")\n", c->name,
			self, c->name);
		fprintf(f, "set_tests_properties(\"verifier/%s\" PROPERTIES LABELS verifier TIMEOUT 60)\n",
			c->name);
	}
	return fclose(f) ? 1 : 0;
}

/* ---- conformance programs ---- */

/* The conformance helpers (README there): arguments they read. */
#define A ARG_ANYTHING
static const struct helper_def conf_protos[6] = {
	[0] = { .id = 0, .name = "gather_bytes", .args = { A, A, A, A, A } },
	[1] = { .id = 1, .name = "memfrob", .args = { A, A } },
	[2] = { .id = 2, .name = "trash_registers" },
	[3] = { .id = 3, .name = "sqrti", .args = { A } },
	[4] = { .id = 4, .name = "strcmp_ext", .args = { A, A } },
	[5] = { .id = 5, .name = "unwind", .args = { A } },
};
#undef A

static const struct helper_def *conf_lookup(uint32_t id, void *arg)
{
	(void)arg;
	return id < 6 ? &conf_protos[id] : NULL;
}

/*
 * Conformance programs no sound verifier can accept, with the reason. They
 * run correctly on their one test input, but not on every input.
 */
static const char *const conf_unverifiable[][2] = {
	{ "tcp-sack/match.data",
	  "reads packet bytes at offsets computed from packet content without bounds checks" },
	{ "tcp-sack/nomatch.data",
	  "reads packet bytes at offsets computed from packet content without bounds checks" },
	{ "mul-loop-memory-iterations.data",
	  "loop count read from memory: up to 2^32 iterations" },
};

static const char *unverifiable(const char *file)
{
	size_t k;

	for (k = 0; k < COUNT(conf_unverifiable); k++)
		if (!strcmp(file, conf_unverifiable[k][0]))
			return conf_unverifiable[k][1];
	return NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf)
			buf[n] = '\0';
	}
	fclose(f);
	return buf;
}

static int conformance(int argc, char **argv)
{
	struct bpfx_vm *vm = conf_vm_create();
	size_t total = 0, fails = 0, known = 0;
	int a;

	if (!vm)
		return 1;
	for (a = 0; a < argc; a++) {
		char path[4096], *text, *line, *save = NULL;

		snprintf(path, sizeof(path), "%s/ASSEMBLED.tsv", argv[a]);
		text = slurp(path);
		if (!text) {
			printf("cannot read %s\n", path);
			fails++;
			continue;
		}
		for (line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *f[10], *p = line;
			uint8_t *prog = NULL, *mem = NULL;
			long plen, mlen;
			struct verifier_opts o = { .sz = sizeof(o) };
			struct verifier_stats st = { .sz = sizeof(st) };
			struct conf_result res;
			int k, err;

			if (line[0] == '#')
				continue;
			for (k = 0; k < 10; k++) {
				f[k] = p;
				p = p ? strchr(p, '\t') : NULL;
				if (p)
					*p++ = '\0';
			}
			if (!f[9] || strcmp(f[1], "ok") || strcmp(f[4], "1") ||
			    strcmp(f[6], "-") || !strcmp(f[8], "-"))
				continue;
			plen = conf_parse_hex(f[8], &prog);
			mlen = strcmp(f[7], "-") ? conf_parse_hex(f[7], &mem) : 0;
			if (plen <= 0 || plen % 8 || mlen < 0) {
				free(prog);
				free(mem);
				continue;
			}
			total++;
			o.prog_type = BPFX_PROG_TYPE_RAW;
			o.insns = (const struct bpfx_insn *)prog;
			o.insn_cnt = (uint32_t)(plen / 8);
			o.ctx_size = (uint32_t)mlen;
			o.helper_lookup = conf_lookup;
			o.log_level = 1;
			o.log_buf = logbuf;
			o.log_size = sizeof(logbuf);
			err = verifier_check(&o, &st);
			if (err && unverifiable(f[0])) {
				printf("expected rejection %s/%s: %s\n", argv[a],
				       f[0], unverifiable(f[0]));
				known++;
			} else if (err) {
				printf("REJECTED %s/%s (%d)\n%s\n", argv[a], f[0],
				       err, logbuf);
				fails++;
			} else {
				bpfx_run_set_budget(10000000);
				conf_run(vm, prog, (size_t)plen, mem, (size_t)mlen,
					 BPFX_ENGINE_CHECKED, &res);
				if (res.load_err == 0 && res.run_err) {
					printf("FAULT %s/%s: accepted but the checked engine says: %s\n",
					       argv[a], f[0], res.msg);
					fails++;
				}
			}
			free(prog);
			free(mem);
		}
		free(text);
	}
	bpfx_vm_destroy(vm);
	printf("%zu conformance programs: %zu accepted, %zu rejected as unverifiable (listed), %zu failed\n",
	       total, total - fails - known, known, fails);
	return fails ? 1 : 0;
}

/* A long straight-line program with branches, map accesses and a loop. */
static int bench(uint32_t n)
{
	struct bpfx_insn *p = calloc(n + 64, sizeof(*p));
	struct verifier_map map = vmap_kinds[M_HASH];
	struct verifier_stats st = { .sz = sizeof(st) };
	struct verifier_opts o = { .sz = sizeof(o) };
	uint32_t k = 0;
	int err;

	if (!p)
		return 1;
	p[k++] = MOV64_REG(6, 1);
	p[k++] = ST(ISA_DW, 10, -8, 0);
	p[k++] = MOV64_IMM(7, 0);
	while (k + 24 < n) {
		/* r0 = lookup; if !r0 skip; r1 = *(u64*)(r0 + idx&7) ...*/
		p[k++] = MOV64_REG(2, 10);
		p[k++] = ALU64_IMM(ISA_ADD, 2, -8);
		p[k++] = INSN(ISA_LDDW, 1, ISA_PSEUDO_MAP_IDX, 0, 0);
		p[k++] = INSN(0, 0, 0, 0, 0);
		p[k++] = CALL(BPF_FUNC_map_lookup_elem);
		p[k++] = JMP_IMM(ISA_JEQ, 0, 0, 8);
		p[k++] = LDX(ISA_DW, 1, 6, 112);
		p[k++] = ALU64_IMM(ISA_AND, 1, 7);
		p[k++] = ALU64_REG(ISA_ADD, 0, 1);
		p[k++] = LDX(ISA_DW, 2, 0, 0);
		p[k++] = JMP_IMM(ISA_JGT, 2, 100, 2);
		p[k++] = ALU64_REG(ISA_ADD, 7, 2);
		p[k++] = JA(1);
		p[k++] = ALU64_IMM(ISA_SUB, 7, 1);
		p[k++] = STX(ISA_DW, 10, 7, -16);
		p[k++] = MOV64_IMM(3, 0);
		p[k++] = ALU64_IMM(ISA_ADD, 3, 1);
		p[k++] = JMP_IMM(ISA_JLT, 3, 4, -2);
		p[k++] = LDX(ISA_DW, 7, 10, -16);
	}
	while (k + 2 < n)
		p[k++] = ALU64_IMM(ISA_ADD, 7, 1);
	p[k++] = MOV64_REG(0, 7);
	p[k++] = EXIT();
	o.prog_type = BPF_PROG_TYPE_KPROBE;
	o.insns = p;
	o.insn_cnt = k;
	o.maps = &map;
	o.nmaps = 1;
	o.helper_lookup = vtest_helper_lookup;
	o.log_level = getenv("VLOG") ? (uint32_t)atoi(getenv("VLOG")) : 1;
	o.log_buf = logbuf;
	o.log_size = sizeof(logbuf);
	err = verifier_check(&o, &st);
	printf("%u insns: result %d, processed %" PRIu64 " insns, %u states (peak %u, max/insn %u), %.3f ms\n%s",
	       k, err, st.insns_processed, st.total_states, st.peak_states,
	       st.max_states_per_insn, (double)st.time_ns / 1e6,
	       (err || getenv("VLOG")) ? logbuf : "");
	free(p);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct vcase *c;

	if (argc < 2) {
		fprintf(stderr, "usage: %s NAME | --all | --list | --ctest-file F | --conformance DIR... | --bench [N]\n",
			argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "--all"))
		return run_all();
	if (!strcmp(argv[1], "--list")) {
		size_t i;

		for (i = 0; (c = vcase_at(i)); i++)
			printf("%s\n", c->name);
		return 0;
	}
	if (!strcmp(argv[1], "--ctest-file") && argc > 2)
		return ctest_file(argv[2], argv[0]);
	if (!strcmp(argv[1], "--conformance"))
		return conformance(argc - 2, argv + 2);
	if (!strcmp(argv[1], "--bench"))
		return bench(argc > 2 ? (uint32_t)atoi(argv[2]) : 1000);
	c = vcase_find(argv[1]);
	if (!c) {
		fprintf(stderr, "no case %s\n", argv[1]);
		return 2;
	}
	return run_case(c, false);
}
