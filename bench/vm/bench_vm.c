/* SPDX-License-Identifier: MIT */
/*
 * bench_vm.c - the same C workloads (workloads.c) run as native code and as
 * eBPF on bpfx's engines, side by side in one process.
 *
 *   bench_vm WORKLOADS.bpf.o [REPS]
 *
 * WORKLOADS.bpf.o is workloads.c built with clang -O2 -target bpf; each
 * wl_NAME function and the noinline functions it calls are cut out of its
 * .text into one program (calls re-linked). Natively the same file is
 * linked twice: "native" (gcc -O2 without the vectorizer: eBPF has no SIMD,
 * so this is the scalar code a JIT competes with) and "native-vec" (plain
 * gcc -O2, for reference). Loop-idiom rewriting into memcpy calls is off
 * in every build, so the byte-copy workload stays a byte-copy loop.
 *
 * Each engine runs every workload in batches sized to ~5 ms; REPS rounds
 * (default 15) visit the engines in turn, and the median batch gives ns per
 * call. Every engine's result must equal native's. JIT compile time is the
 * median of 21 bpfx_prog_jit() calls on freshly loaded programs, divided
 * by the instruction count (it includes the mmap/mprotect of the code).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bpfx/vm.h"

typedef uint64_t (*wl_fn)(uint8_t *mem, uint64_t len);

#define WL_DECL(n)                                                             \
	uint64_t wl_##n(uint8_t *mem, uint64_t len);                           \
	uint64_t wlv_##n(uint8_t *mem, uint64_t len);
WL_DECL(add) WL_DECL(log2) WL_DECL(memcpy) WL_DECL(primes) WL_DECL(strcmp)
WL_DECL(switch) WL_DECL(bitcount) WL_DECL(bsearch) WL_DECL(checksum)
WL_DECL(fib) WL_DECL(nested) WL_DECL(calls)

#define MIB (1u << 20)

struct workload {
	const char *name;	/* row label */
	const char *sym;	/* eBPF entry symbol */
	wl_fn native, vec;
	size_t size;		/* memory bytes */
	void (*setup)(uint8_t *mem, size_t size);
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void put64(uint8_t *mem, uint64_t v)
{
	memcpy(mem, &v, 8);
}

static void fill_random(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 24);
}

static void setup_add(uint8_t *mem, size_t size)
{
	put64(mem, 40);
	put64(mem + 8, 2);
}

static void setup_log2(uint8_t *mem, size_t size)
{
	size_t n = (size - 8) / 8, i;

	put64(mem, n);
	for (i = 0; i < n; i++)
		put64(mem + 8 + 8 * i, rng() >> (rng() & 63));
}

static void setup_memcpy(uint8_t *mem, size_t size)
{
	put64(mem, MIB);
	fill_random(mem + 8, MIB);
}

static void setup_primes(uint8_t *mem, size_t size)
{
	put64(mem, 10000);
}

static void setup_strings(uint8_t *mem, size_t mismatch)
{
	size_t i;

	put64(mem, MIB + 1);
	for (i = 0; i < MIB; i++)
		mem[8 + i] = mem[8 + MIB + 1 + i] = (uint8_t)('a' + i % 26);
	mem[8 + MIB] = mem[8 + 2 * MIB + 1] = 0;
	if (mismatch < MIB)
		mem[8 + MIB + 1 + mismatch] = '#';
}

static void setup_strcmp_full(uint8_t *mem, size_t size)
{
	setup_strings(mem, MIB);
}

static void setup_strcmp_early(uint8_t *mem, size_t size)
{
	setup_strings(mem, 40);
}

static void setup_bytes(uint8_t *mem, size_t size)
{
	put64(mem, size - 8);
	fill_random(mem + 8, size - 8);
}

static void setup_u64s(uint8_t *mem, size_t size)
{
	put64(mem, (size - 8) / 8);
	fill_random(mem + 8, size - 8);
}

static void setup_bsearch(uint8_t *mem, size_t size)
{
	uint32_t n = (uint32_t)((size - 8) / 4), i, v = 0;

	put64(mem, n);
	for (i = 0; i < n; i++) {
		v += 1 + (uint32_t)(rng() % 130000);
		memcpy(mem + 8 + 4 * i, &v, 4);
	}
}

static void setup_fib(uint8_t *mem, size_t size)
{
	put64(mem, 100000);
}

static void setup_nested(uint8_t *mem, size_t size)
{
	put64(mem, 300);
}

static const struct workload workloads[] = {
	{ "add", "wl_add", wl_add, wlv_add, 16, setup_add },
	{ "log2", "wl_log2", wl_log2, wlv_log2, 8 + 4096 * 8, setup_log2 },
	{ "memcpy-1MiB", "wl_memcpy", wl_memcpy, wlv_memcpy, 8 + 2 * MIB,
	  setup_memcpy },
	{ "primes-1e4", "wl_primes", wl_primes, wlv_primes, 8, setup_primes },
	{ "strcmp-full", "wl_strcmp", wl_strcmp, wlv_strcmp, 8 + 2 * MIB + 2,
	  setup_strcmp_full },
	{ "strcmp-early", "wl_strcmp", wl_strcmp, wlv_strcmp, 8 + 2 * MIB + 2,
	  setup_strcmp_early },
	{ "switch", "wl_switch", wl_switch, wlv_switch, 8 + 65536, setup_bytes },
	{ "bitcount", "wl_bitcount", wl_bitcount, wlv_bitcount, 8 + 8192 * 8,
	  setup_u64s },
	{ "bsearch", "wl_bsearch", wl_bsearch, wlv_bsearch, 8 + 65536 * 4,
	  setup_bsearch },
	{ "checksum", "wl_checksum", wl_checksum, wlv_checksum, 8 + 65536,
	  setup_bytes },
	{ "fib", "wl_fib", wl_fib, wlv_fib, 8, setup_fib },
	{ "nested", "wl_nested", wl_nested, wlv_nested, 8, setup_nested },
	{ "calls", "wl_calls", wl_calls, wlv_calls, 8 + 10000 * 8, setup_u64s },
};
#define NWL (sizeof(workloads) / sizeof(workloads[0]))

/* ---- eBPF programs out of the ELF ---- */

struct func {
	char name[64];
	uint32_t start, len; /* instruction index and count in .text */
};

struct text {
	struct bpfx_insn *insns;
	uint32_t len;
	struct func funcs[64];
	int nfuncs;
};

static int read_text(const char *path, struct text *t)
{
	Elf_Scn *scn = NULL, *symscn = NULL, *textscn = NULL;
	size_t shstrndx, textidx = 0;
	GElf_Shdr sh, symsh;
	Elf_Data *data;
	int fd, i, err = -EINVAL;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		gelf_getshdr(scn, &sh);
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (sh.sh_type == SHT_SYMTAB)
			symscn = scn;
		else if (name && !strcmp(name, ".text")) {
			textscn = scn;
			textidx = elf_ndxscn(scn);
		} else if (sh.sh_type == SHT_REL && name &&
			   !strcmp(name, ".rel.text")) {
			fprintf(stderr, "%s: .text has relocations\n", path);
			goto out;
		}
	}
	if (!symscn || !textscn)
		goto out;
	data = elf_getdata(textscn, NULL);
	t->len = (uint32_t)(data->d_size / sizeof(struct bpfx_insn));
	t->insns = malloc(data->d_size);
	if (!t->insns)
		goto out;
	memcpy(t->insns, data->d_buf, data->d_size);
	gelf_getshdr(symscn, &symsh);
	data = elf_getdata(symscn, NULL);
	for (i = 0; i < (int)(symsh.sh_size / symsh.sh_entsize); i++) {
		struct func *f;
		GElf_Sym sym;

		gelf_getsym(data, i, &sym);
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx != textidx || t->nfuncs == 64)
			continue;
		f = &t->funcs[t->nfuncs++];
		snprintf(f->name, sizeof(f->name), "%s",
			 elf_strptr(elf, symsh.sh_link, sym.st_name));
		f->start = (uint32_t)(sym.st_value / 8);
		f->len = (uint32_t)(sym.st_size / 8);
	}
	err = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

static int func_at(const struct text *t, uint32_t pc)
{
	int i;

	for (i = 0; i < t->nfuncs; i++)
		if (pc >= t->funcs[i].start &&
		    pc < t->funcs[i].start + t->funcs[i].len)
			return i;
	return -1;
}

/* Program for entry function @name: it, then every function it calls
 * (transitively), with local calls re-linked. Returns the length. */
static uint32_t build_prog(const struct text *t, const char *name,
			   struct bpfx_insn *out, uint32_t cap)
{
	int order[64], pos[64], n = 0, i, k;
	uint32_t len = 0, pc;

	for (i = 0; i < t->nfuncs && strcmp(t->funcs[i].name, name); i++)
		;
	if (i == t->nfuncs)
		return 0;
	memset(pos, -1, sizeof(pos));
	order[n++] = i;
	for (k = 0; k < n; k++) {
		const struct func *f = &t->funcs[order[k]];

		if (len + f->len > cap)
			return 0;
		pos[order[k]] = (int)len;
		memcpy(out + len, t->insns + f->start, f->len * sizeof(*out));
		len += f->len;
		for (pc = f->start; pc < f->start + f->len; pc++) {
			const struct bpfx_insn *in = &t->insns[pc];
			int c;

			if (in->code != 0x85 || in->src != 1)
				continue;
			c = func_at(t, pc + 1 + (uint32_t)in->imm);
			if (c < 0)
				return 0;
			for (i = 0; i < n && order[i] != c; i++)
				;
			if (i == n)
				order[n++] = c;
		}
	}
	/* re-link: each call's target is its callee's new start */
	for (k = 0; k < n; k++) {
		const struct func *f = &t->funcs[order[k]];

		for (pc = f->start; pc < f->start + f->len; pc++) {
			const struct bpfx_insn *in = &t->insns[pc];
			uint32_t at = (uint32_t)pos[order[k]] + (pc - f->start);
			int c;

			if (in->code != 0x85 || in->src != 1)
				continue;
			c = func_at(t, pc + 1 + (uint32_t)in->imm);
			out[at].imm = pos[c] - (int)at - 1;
		}
	}
	return len;
}

/* ---- timing ---- */

enum { E_NATIVE, E_VEC, E_JIT, E_INTERP, E_SWITCH, NENG };
static const char *const eng_names[NENG] = {
	"native", "native-vec", "jit", "interp", "interp-sw",
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t run_one(int e, const struct workload *w,
			const struct bpfx_prog *p, uint8_t *mem)
{
	uint64_t r0 = 0;
	int err = 0;

	switch (e) {
	case E_NATIVE: return w->native(mem, w->size);
	case E_VEC: return w->vec(mem, w->size);
	case E_JIT: err = bpfx_prog_run(p, BPFX_ENGINE_JIT, mem, w->size, &r0); break;
	case E_INTERP: err = bpfx_prog_run(p, BPFX_ENGINE_INTERP, mem, w->size, &r0); break;
	default: err = bpfx_prog_run(p, BPFX_ENGINE_INTERP_SWITCH, mem, w->size, &r0); break;
	}
	if (err) {
		fprintf(stderr, "%s on %s: error %d\n", w->name, eng_names[e], err);
		exit(1);
	}
	return r0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define TARGET_NS 5000000.0
#define MAX_REPS 101

int main(int argc, char **argv)
{
	static struct bpfx_insn prog_insns[NWL][4096];
	static double samples[NENG][MAX_REPS];
	double ns[NWL][NENG], cns[NWL], logsum[4] = { 0 };
	uint32_t plen[NWL], total_insns = 0;
	double total_compile = 0;
	struct bpfx_prog *progs[NWL];
	int reps = argc > 2 ? atoi(argv[2]) : 15;
	struct text text = { 0 };
	struct bpfx_vm *vm;
	char model[128] = "unknown CPU", line[256];
	size_t w;
	FILE *f;
	int e, r;

	if (argc < 2) {
		fprintf(stderr, "usage: %s WORKLOADS.bpf.o [REPS]\n", argv[0]);
		return 2;
	}
	if (reps < 1 || reps > MAX_REPS)
		reps = 15;
	if (read_text(argv[1], &text)) {
		fprintf(stderr, "%s: cannot read .text and symbols\n", argv[1]);
		return 1;
	}
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			snprintf(model, sizeof(model), "%s", c + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	vm = bpfx_vm_create();
	if (!vm)
		return 1;

	/* load, compile (timed), check results */
	for (w = 0; w < NWL; w++) {
		struct bpfx_prog_opts opts = { .sz = sizeof(opts),
					       .entry_regs = 1u << 2 };
		double ct[21];
		char log[256] = "";

		opts.log_buf = log;
		opts.log_size = sizeof(log);
		plen[w] = build_prog(&text, workloads[w].sym, prog_insns[w], 4096);
		if (!plen[w]) {
			fprintf(stderr, "%s: no program\n", workloads[w].sym);
			return 1;
		}
		for (r = 0; r < 21; r++) {
			struct bpfx_prog *p = bpfx_prog_load(vm, prog_insns[w],
							     plen[w], &opts);
			uint64_t t0;
			int err;

			if (!p) {
				fprintf(stderr, "%s: load: %s\n", workloads[w].name,
					log);
				return 1;
			}
			t0 = now_ns();
			err = bpfx_prog_jit(p);
			ct[r] = (double)(now_ns() - t0);
			if (err) {
				fprintf(stderr, "%s: jit: %d\n", workloads[w].name, err);
				return 1;
			}
			if (r == 20)
				progs[w] = p;
			else
				bpfx_prog_free(p);
		}
		cns[w] = median(ct, 21);
		total_compile += cns[w];
		total_insns += plen[w];
	}

	printf("bpfx bench/vm: ns per call, median of %d rounds (%s)\n", reps,
	       model);
	printf("native = gcc -O2 -fno-tree-vectorize; native-vec = gcc -O2; "
	       "eBPF = clang -O2 -target bpf -mcpu=v3\n\n");
	printf("%-13s %5s %11s %11s %11s %11s %11s %8s %8s %8s %8s\n",
	       "workload", "insns", "native", "native-vec", "jit", "interp",
	       "interp-sw", "jit/nat", "int/nat", "sw/nat", "jit/vec");
	for (w = 0; w < NWL; w++) {
		const struct workload *wl = &workloads[w];
		uint8_t *mem = aligned_alloc(64, (wl->size + 63) & ~(size_t)63);
		uint64_t want, batch[NENG];

		if (!mem)
			return 1;
		memset(mem, 0, wl->size);
		wl->setup(mem, wl->size);
		want = wl->native(mem, wl->size);
		/* check every engine, and size its batches */
		for (e = 0; e < NENG; e++) {
			uint64_t t0 = now_ns(), got = run_one(e, wl, progs[w], mem);
			double one = (double)(now_ns() - t0);

			if (got != want) {
				fprintf(stderr, "%s: %s returned 0x%llx, native 0x%llx\n",
					wl->name, eng_names[e],
					(unsigned long long)got,
					(unsigned long long)want);
				return 1;
			}
			t0 = now_ns();
			run_one(e, wl, progs[w], mem);
			one = (double)(now_ns() - t0);
			batch[e] = one >= TARGET_NS ? 1 : (uint64_t)(TARGET_NS / (one + 1));
			if (batch[e] < 1)
				batch[e] = 1;
		}
		for (r = 0; r < reps; r++) {
			for (e = 0; e < NENG; e++) {
				uint64_t k, t0 = now_ns();

				for (k = 0; k < batch[e]; k++)
					run_one(e, wl, progs[w], mem);
				samples[e][r] = (double)(now_ns() - t0) / (double)batch[e];
			}
		}
		for (e = 0; e < NENG; e++)
			ns[w][e] = median(samples[e], reps);
		printf("%-13s %5u %11.1f %11.1f %11.1f %11.1f %11.1f %8.2f %8.2f %8.2f %8.2f\n",
		       wl->name, plen[w], ns[w][E_NATIVE], ns[w][E_VEC], ns[w][E_JIT],
		       ns[w][E_INTERP], ns[w][E_SWITCH],
		       ns[w][E_JIT] / ns[w][E_NATIVE],
		       ns[w][E_INTERP] / ns[w][E_NATIVE],
		       ns[w][E_SWITCH] / ns[w][E_NATIVE],
		       ns[w][E_JIT] / ns[w][E_VEC]);
		fflush(stdout);
		logsum[0] += log(ns[w][E_JIT] / ns[w][E_NATIVE]);
		logsum[1] += log(ns[w][E_INTERP] / ns[w][E_NATIVE]);
		logsum[2] += log(ns[w][E_SWITCH] / ns[w][E_NATIVE]);
		logsum[3] += log(ns[w][E_JIT] / ns[w][E_VEC]);
		free(mem);
	}
	printf("%-13s %5s %11s %11s %11s %11s %11s %8.2f %8.2f %8.2f %8.2f\n",
	       "geomean", "", "", "", "", "", "", exp(logsum[0] / NWL),
	       exp(logsum[1] / NWL), exp(logsum[2] / NWL), exp(logsum[3] / NWL));
	{
		double lg = 0, lsw = 0;

		for (w = 0; w < NWL; w++) {
			lg += log(ns[w][E_INTERP]);
			lsw += log(ns[w][E_SWITCH]);
		}
		printf("\ninterp (computed goto) vs interp-sw (switch): switch "
		       "takes %.2fx the time (geomean)\n", exp((lsw - lg) / NWL));
	}
	printf("\nJIT compile time, median of 21 (ns per instruction):");
	for (w = 0; w < NWL; w++)
		printf("%s %s %.0f", w % 6 ? "," : "\n ", workloads[w].name,
		       cns[w] / plen[w]);
	printf("\n overall: %.0f ns per instruction (%u instructions in %.1f us)\n",
	       total_compile / total_insns, total_insns, total_compile / 1000.0);
	for (w = 0; w < NWL; w++)
		bpfx_prog_free(progs[w]);
	bpfx_vm_destroy(vm);
	free(text.insns);
	return 0;
}
