/* SPDX-License-Identifier: MIT */
/*
 * runner.c - runs the public conformance data of ../shared/conformance on a
 * bpfx engine.
 *
 *   conformance_runner --engine E --suite DIR CASE   one case (ctest runs
 *                                                    each case this way)
 *   conformance_runner --engine E --all DIR...       every case, with totals
 *
 * DIR is a suite folder holding ASSEMBLED.tsv (one row per .data file: the
 * program as bytes, input memory, expected r0 or error; see the README
 * there). Rows without assembled bytes are read from the .data file's
 * "-- raw" section. Exit status of one case: 0 pass, 1 fail, 77 skip.
 *
 * What each case expects:
 *   - a result and no error: load, run, r0 must equal the result;
 *   - an error: the program must be rejected at load; ubpf's run-time
 *     bounds cases ("error pattern" + "no jit") may instead trap at run
 *     time, which the interpreter does in its checked mode, while the JIT
 *     (memory safety comes from the verifier) skips them;
 *   - bpf_conformance's negative/ folder holds cases a runtime must fail:
 *     each must be rejected or must not produce the stated result;
 *   - ubpf's err-unknown-opcode is stale (0x06 is the v4 gotol): it passes
 *     when gotol is not refused as an unknown opcode.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/conformance.h"

#define PASS 0
#define FAIL 1
#define SKIP 77

struct row {
	char *field[10]; /* file status cpu groups has_result result error mem prog directives */
};

enum { F_FILE, F_STATUS, F_CPU, F_GROUPS, F_HAS_RESULT, F_RESULT, F_ERROR,
       F_MEM, F_PROG, F_DIRECTIVES };

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
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

/* Split @line (modified in place) at tabs. */
static bool split_row(char *line, struct row *r)
{
	int k;

	for (k = 0; k < 10; k++) {
		r->field[k] = line;
		line = strchr(line, '\t');
		if (!line)
			return k == 9;
		*line++ = '\0';
	}
	return true;
}

/* The "-- raw" section of a .data file as hex text (malloc'ed), or NULL;
 * *@has_error tells whether the file has an "-- error" section. */
static char *raw_section(const char *dir, const char *file, bool *has_error)
{
	char path[4096], *text, *p, *end, *out;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	text = read_file(path);
	if (!text)
		return NULL;
	*has_error = strstr(text, "-- error") != NULL;
	p = strstr(text, "-- raw");
	if (!p) {
		free(text);
		return NULL;
	}
	p = strchr(p, '\n');
	p = p ? p + 1 : p;
	end = p ? strstr(p, "\n--") : NULL;
	if (end)
		*end = '\0';
	out = p ? strdup(p) : NULL;
	free(text);
	if (out) { /* drop comments */
		char *c = out;

		while ((c = strchr(c, '#'))) {
			while (*c && *c != '\n')
				*c++ = ' ';
		}
	}
	return out;
}

static bool has_directive(const struct row *r, const char *d)
{
	return strstr(r->field[F_DIRECTIVES], d) != NULL;
}

/* Run one row; prints one line; returns PASS, FAIL or SKIP. */
static int run_case(struct bpfx_vm *vm, const char *dir, struct row *r,
		    enum bpfx_engine engine, bool verbose)
{
	const char *file = r->field[F_FILE], *err = r->field[F_ERROR];
	bool negative = !strncmp(file, "negative/", 9);
	bool want_error = strcmp(err, "-") != 0;
	bool want_result = !strcmp(r->field[F_HAS_RESULT], "1");
	bool runtime_error = has_directive(r, "error_pattern") &&
			     has_directive(r, "no_jit");
	uint64_t expect = want_result ? strtoull(r->field[F_RESULT], NULL, 16) : 0;
	uint8_t *prog = NULL, *mem = NULL;
	long plen, mlen = 0;
	char *raw = NULL;
	struct conf_result res;
	const char *why = NULL;
	int verdict;

	if (!strcmp(r->field[F_PROG], "-")) {
		raw = raw_section(dir, file, &want_error);
		if (!raw) {
			if (verbose)
				printf("SKIP %s: %s (no program)\n", file, r->field[F_STATUS]);
			return SKIP;
		}
	}
	if (has_directive(r, "expect_load_reject"))
		want_error = true;
	else if (strcmp(r->field[F_STATUS], "ok") && !raw) {
		printf("SKIP %s: %s\n", file, r->field[F_STATUS]);
		return SKIP;
	}
	if (has_directive(r, "reload")) {
		printf("SKIP %s: ubpf API case (loading twice into one ubpf VM)\n", file);
		return SKIP;
	}
	if (runtime_error && engine == BPFX_ENGINE_JIT) {
		printf("SKIP %s: run-time bounds case; JIT code relies on the verifier (load time) for memory safety\n",
		       file);
		return SKIP;
	}
	if (runtime_error)
		engine = BPFX_ENGINE_CHECKED;
	plen = conf_parse_hex(raw ? raw : r->field[F_PROG], &prog);
	free(raw);
	if (plen < 0) {
		printf("FAIL %s: program is not hex\n", file);
		return FAIL;
	}
	if (strcmp(r->field[F_MEM], "-")) {
		mlen = conf_parse_hex(r->field[F_MEM], &mem);
		if (mlen < 0) {
			free(prog);
			printf("FAIL %s: memory is not hex\n", file);
			return FAIL;
		}
	}
	conf_run(vm, prog, (size_t)plen, mem, (size_t)mlen, engine, &res);
	free(prog);
	free(mem);

	if (res.load_err == -EOPNOTSUPP && engine == BPFX_ENGINE_JIT) {
		printf("SKIP %s: no JIT in this build\n", file);
		return SKIP;
	}
	if (strstr(file, "err-unknown-opcode")) {
		verdict = res.load_err && strstr(res.msg, "unknown") ? FAIL : PASS;
		why = "stale case: gotol (0x06) must not be refused as unknown";
	} else if (negative) {
		verdict = res.load_err || res.run_err ||
				  (want_result && res.r0 != expect)
			  ? PASS : FAIL;
		why = "negative case: must be rejected or give another result";
	} else if (want_error && runtime_error) {
		verdict = res.load_err || res.run_err == -EFAULT ? PASS : FAIL;
		why = "must be rejected at load or trap at run time";
	} else if (want_error) {
		verdict = res.load_err ? PASS : FAIL;
		why = "must be rejected at load";
	} else if (want_result) {
		verdict = !res.load_err && !res.run_err && res.r0 == expect
			  ? PASS : FAIL;
		why = "r0 must equal the result";
	} else {
		printf("SKIP %s: no result or error to check\n", file);
		return SKIP;
	}
	if (verdict == FAIL || verbose) {
		printf("%s %s: %s; ", verdict == PASS ? "PASS" : "FAIL", file, why);
		if (res.load_err)
			printf("rejected: %s\n", res.msg);
		else if (res.run_err)
			printf("run error %d: %s\n", res.run_err, res.msg);
		else
			printf("r0 = 0x%" PRIx64 " (expected %s)\n", res.r0,
			       want_result ? r->field[F_RESULT] : "an error");
	}
	return verdict;
}

/* Calls @fn for each data row of DIR/ASSEMBLED.tsv; stops at nonzero. */
static int for_each_row(const char *dir, int (*fn)(struct row *, void *),
			void *arg)
{
	char path[4096], *text, *line, *next;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/ASSEMBLED.tsv", dir);
	text = read_file(path);
	if (!text) {
		fprintf(stderr, "conformance: cannot read %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	for (line = text; line && *line && !ret; line = next) {
		struct row r;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '#' || !line[0] || !split_row(line, &r))
			continue;
		ret = fn(&r, arg);
	}
	free(text);
	return ret;
}

struct one_arg {
	struct bpfx_vm *vm;
	const char *dir, *file;
	enum bpfx_engine engine;
	int verdict;
	unsigned pass, fail, skip;
	bool all;
};

static int visit(struct row *r, void *p)
{
	struct one_arg *a = p;
	int v;

	if (!a->all && strcmp(r->field[F_FILE], a->file))
		return 0;
	v = run_case(a->vm, a->dir, r, a->engine, !a->all);
	a->verdict = v;
	if (v == PASS)
		a->pass++;
	else if (v == FAIL)
		a->fail++;
	else
		a->skip++;
	return a->all ? 0 : 1;
}

int main(int argc, char **argv)
{
	enum bpfx_engine engine = BPFX_ENGINE_INTERP;
	const char *suite = NULL, *engine_name = "interp";
	unsigned pass = 0, fail = 0, skip = 0;
	bool all = false;
	struct bpfx_vm *vm;
	int i, first = 1;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--engine") && i + 1 < argc) {
			engine_name = argv[++i];
			if (conf_engine(engine_name, &engine)) {
				fprintf(stderr, "unknown engine %s\n", engine_name);
				return 2;
			}
		} else if (!strcmp(argv[i], "--suite") && i + 1 < argc) {
			suite = argv[++i];
		} else if (!strcmp(argv[i], "--all")) {
			all = true;
		} else {
			break;
		}
	}
	first = i;
	if ((all && first >= argc) || (!all && (!suite || first + 1 != argc))) {
		fprintf(stderr,
			"usage: %s --engine E --suite DIR CASE | --engine E --all DIR...\n",
			argv[0]);
		return 2;
	}
	vm = conf_vm_create();
	if (!vm) {
		perror("conf_vm_create");
		return 1;
	}
	if (!all) {
		struct one_arg a = { .vm = vm, .dir = suite, .file = argv[first],
				     .engine = engine, .verdict = -1 };

		for_each_row(suite, visit, &a);
		bpfx_vm_destroy(vm);
		if (a.verdict < 0) {
			printf("FAIL %s: no such case in %s/ASSEMBLED.tsv\n",
			       argv[first], suite);
			return FAIL;
		}
		return a.verdict;
	}
	for (i = first; i < argc; i++) {
		struct one_arg a = { .vm = vm, .dir = argv[i], .engine = engine,
				     .all = true };
		const char *name = strrchr(argv[i], '/');

		if (for_each_row(argv[i], visit, &a) < 0)
			fail++;
		printf("%-16s %-7s %3u passed, %3u failed, %3u skipped\n",
		       name ? name + 1 : argv[i], engine_name, a.pass, a.fail,
		       a.skip);
		pass += a.pass;
		fail += a.fail;
		skip += a.skip;
	}
	bpfx_vm_destroy(vm);
	printf("conformance (%s): %u passed, %u failed, %u skipped\n",
	       engine_name, pass, fail, skip);
	return fail ? FAIL : PASS;
}
