/* SPDX-License-Identifier: MIT */
/*
 * `bpfx run OBJ [--pid PID] [-- CMD ARGS...]` - the front door.
 *
 * Loads every program of OBJ with stock libbpf, attaches each by its
 * section name (uprobe/PATH:FUNC[+OFF], uretprobe/..., usdt/PATH:PROV:NAME
 * and whatever else libbpf auto-attaches), then either starts CMD with the
 * agent preloaded (its output passes through; bpfx exits with its status
 * when it ends) or watches an already running PID. Ring buffer records and
 * trace_printk lines print live; at the end the maps print as bpftrace
 * does (maps named *hist* holding log2 slots as bar histograms).
 * Interrupting bpfx (Ctrl-C) ends the run the same way; every link is
 * detached first, so targets are unpatched.
 *
 * Also: `bpfx start -- CMD` (agent preloaded, nothing loaded) and
 * `bpfx link list`, `bpfx detach --all`.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach/attach.h"
#include "cli/cli.h"
#include "emu/emu.h"
#include "inject/inject.h"

#define MAX_LINKS 256

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* @lib (libbpfx-agent.so, libbpfx-shim.so) next to the bpfx binary, or
 * where $@env says. */
static int lib_path(const char *lib, const char *env, char *out, size_t size)
{
	char self[PATH_MAX];
	ssize_t n;

	if (getenv(env)) {
		snprintf(out, size, "%s", getenv(env));
		return access(out, R_OK) ? -errno : 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	snprintf(out, size, "%s/%s", dirname(self), lib);
	return access(out, R_OK) ? -errno : 0;
}

static int agent_path(char *out, size_t size)
{
	return lib_path("libbpfx-agent.so", "BPFX_AGENT", out, size);
}

/* Start @argv with @lib preloaded; returns the child's pid. */
static pid_t spawn_with(char **argv, const char *lib, const char *env)
{
	char agent[PATH_MAX], preload[PATH_MAX * 2];
	const char *old = getenv("LD_PRELOAD");
	pid_t pid;

	if (lib_path(lib, env, agent, sizeof(agent))) {
		fprintf(stderr, "bpfx: cannot find %s beside bpfx (set %s)\n", lib, env);
		return -1;
	}
	snprintf(preload, sizeof(preload), "%s%s%s", agent, old && *old ? ":" : "",
		 old && *old ? old : "");
	pid = fork();
	if (pid < 0) {
		perror("bpfx: fork");
		return -1;
	}
	if (!pid) {
		setenv("LD_PRELOAD", preload, 1);
		setenv("BPFX_SESSION", cli_session_name(), 1);
		signal(SIGINT, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "bpfx: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static pid_t spawn(char **argv)
{
	return spawn_with(argv, "libbpfx-agent.so", "BPFX_AGENT");
}

/* uprobe/PATH:FUNC[+OFF] or uretprobe/... attached with @pid. */
static struct bpf_link *attach_uprobe(struct bpf_program *prog, const char *spec,
				      bool ret, pid_t pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret);
	char path[PATH_MAX], func[256] = "";
	unsigned long off = 0;
	const char *colon = strrchr(spec, ':');
	char *plus;

	if (!colon || (size_t)(colon - spec) >= sizeof(path)) {
		errno = EINVAL;
		return NULL;
	}
	memcpy(path, spec, (size_t)(colon - spec));
	path[colon - spec] = '\0';
	snprintf(func, sizeof(func), "%s", colon + 1);
	plus = strchr(func, '+');
	if (plus) {
		*plus = '\0';
		off = strtoul(plus + 1, NULL, 0);
	}
	if (func[0] >= '0' && func[0] <= '9') { /* a bare offset */
		off = strtoul(func, NULL, 0);
		func[0] = '\0';
	}
	o.func_name = func[0] ? func : NULL;
	if (func[0] && strchr(path, '/')) {
		uint64_t fo;

		/* a function only .gnu_debugdata names: by its offset */
		if (!attach_minidebug_func(path, func, &fo)) {
			o.func_name = NULL;
			off += fo;
		}
	}
	return bpf_program__attach_uprobe_opts(prog, pid > 0 ? pid : -1, path, off, &o);
}

static int attach_all(struct bpf_object *obj, pid_t pid, struct bpf_link **links,
		      int *nlinks)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);
		struct bpf_link *l;

		if (*nlinks == MAX_LINKS) {
			fprintf(stderr, "bpfx: more than %d programs\n", MAX_LINKS);
			return -E2BIG;
		}
		if (!strncmp(sec, "uprobe/", 7))
			l = attach_uprobe(prog, sec + 7, false, pid);
		else if (!strncmp(sec, "uretprobe/", 10))
			l = attach_uprobe(prog, sec + 10, true, pid);
		else
			l = bpf_program__attach(prog);
		if (!l) {
			fprintf(stderr, "bpfx: cannot attach %s (%s): %s\n",
				bpf_program__name(prog), sec, strerror(errno));
			return -errno;
		}
		links[(*nlinks)++] = l;
	}
	return 0;
}

static void detach_all(struct bpf_link **links, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		bpf_link__detach(links[i]);
		bpf_link__destroy(links[i]);
	}
}

/* ---- live output ---- */

static int print_record(void *ctx, void *data, size_t size)
{
	const char *s = data;
	size_t i, len = strnlen(s, size);
	bool text = len > 0 && (len == size || len + 8 > size);

	for (i = 0; text && i < len; i++)
		text = (s[i] >= 0x20 && s[i] < 0x7f) || s[i] == '\n' || s[i] == '\t';
	if (text) {
		printf("%.*s%s", (int)len, s, len && s[len - 1] == '\n' ? "" : "\n");
	} else {
		cli_print_hex(data, size);
		printf("\n");
	}
	fflush(stdout);
	return 0;
}

struct trace_tail {
	int fd;
};

static void trace_poll(struct trace_tail *t)
{
	char buf[8192];
	ssize_t n;

	while (t->fd >= 0 && (n = read(t->fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
	}
}

/* ---- maps at exit ---- */

static void print_log2_hist(const uint64_t *slots, int n)
{
	uint64_t max = 0;
	int i, first = -1, last = -1;

	for (i = 0; i < n; i++) {
		if (slots[i] > max)
			max = slots[i];
		if (slots[i] && first < 0)
			first = i;
		if (slots[i])
			last = i;
	}
	for (i = first < 0 ? 0 : first; i <= last; i++) {
		uint64_t lo = i ? 1ull << (i - 1) : 0, hi = (1ull << i) - 1;
		int bar = max ? (int)(slots[i] * 40 / max) : 0;

		printf("[%llu, %llu]%*s %8llu |%.*s%*s|\n", (unsigned long long)lo,
		       (unsigned long long)hi, 22 - snprintf(NULL, 0, "[%llu, %llu]",
							(unsigned long long)lo,
							(unsigned long long)hi),
		       "", (unsigned long long)slots[i], bar,
		       "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@", 40 - bar, "");
	}
}

static uint64_t to_u64(const void *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n < 8 ? n : 8);
	return v;
}

static void print_map(struct bpf_map *m)
{
	const char *name = bpf_map__name(m);
	uint32_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m);
	enum bpf_map_type type = bpf_map__type(m);
	int fd = bpf_map__fd(m);
	uint8_t key[256], next[256], val[1024];
	bool have = false;

	if (strchr(name, '.') || ks > sizeof(key) || vs > sizeof(val) ||
	    (type != BPF_MAP_TYPE_HASH && type != BPF_MAP_TYPE_ARRAY &&
	     type != BPF_MAP_TYPE_LRU_HASH))
		return;
	if (strstr(name, "hist") && ks == 4 && (vs == 8 || vs == 4)) {
		uint64_t slots[64] = { 0 };
		uint32_t i;

		while (!bpf_map_get_next_key(fd, have ? key : NULL, next)) {
			memcpy(key, next, ks);
			have = true;
			memcpy(&i, key, 4);
			if (i < 64 && !bpf_map_lookup_elem(fd, key, val))
				slots[i] = to_u64(val, vs);
		}
		printf("@%s:\n", name);
		print_log2_hist(slots, 64);
		printf("\n");
		return;
	}
	while (!bpf_map_get_next_key(fd, have ? key : NULL, next)) {
		memcpy(key, next, ks);
		have = true;
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		if (type == BPF_MAP_TYPE_ARRAY && !to_u64(val, vs))
			continue; /* untouched slots */
		printf("@%s[", name);
		if (ks <= 8)
			printf("%llu", (unsigned long long)to_u64(key, ks));
		else
			cli_print_hex(key, ks);
		printf("]: ");
		if (vs <= 8)
			printf("%llu\n", (unsigned long long)to_u64(val, vs));
		else {
			cli_print_hex(val, vs);
			printf("\n");
		}
	}
}

int cmd_run(int argc, char **argv)
{
	struct bpf_link *links[MAX_LINKS];
	struct ring_buffer *rb = NULL;
	struct trace_tail tail = { .fd = -1 };
	struct bpf_object *obj;
	struct bpf_map *m;
	char **cmd = NULL, path[PATH_MAX];
	pid_t pid = 0, child = -1;
	int i, nlinks = 0, status = 0, ret = 1;

	if (argc < 2 || argv[1][0] == '-')
		goto usage;
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			cmd = &argv[i + 1];
			break;
		} else if (!strcmp(argv[i], "--pid") && i + 1 < argc) {
			pid = atoi(argv[++i]);
			if (pid <= 0)
				goto usage;
		} else {
			goto usage;
		}
	}
	if ((cmd && !*cmd) || (cmd && pid))
		goto usage;
	if (pid && kill(pid, 0) && errno == ESRCH) {
		fprintf(stderr, "bpfx run: no process %d\n", pid);
		return 1;
	}
	if (pid && !inject_has_agent(pid)) {
		char agent[PATH_MAX], why[512];
		int err = agent_path(agent, sizeof(agent));

		if (!err)
			err = inject_agent(pid, agent, cli_session_name(), why, sizeof(why));
		if (err) {
			fprintf(stderr, "bpfx run: cannot load the agent into %d: %s\n", pid,
				err && why[0] ? why : strerror(-err));
			return 1;
		}
	}
	obj = cli_load_object(argv[1]);
	if (!obj)
		return 1;
	if (attach_all(obj, pid, links, &nlinks))
		goto out;
	bpf_object__for_each_map(m, obj) {
		if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF)
			continue;
		if (!rb)
			rb = ring_buffer__new(bpf_map__fd(m), print_record, NULL, NULL);
		else
			ring_buffer__add(rb, bpf_map__fd(m), print_record, NULL);
	}
	snprintf(path, sizeof(path), "%s/trace", shm_session_dir(emu_session()));
	tail.fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (tail.fd >= 0)
		lseek(tail.fd, 0, SEEK_END);
	signal(SIGINT, on_sigint);
	signal(SIGTERM, on_sigint);
	if (cmd) {
		child = spawn(cmd);
		if (child < 0)
			goto out;
	} else if (!pid) {
		fprintf(stderr, "bpfx: attached %d program%s; Ctrl-C to end\n", nlinks,
			nlinks == 1 ? "" : "s");
	}
	while (!interrupted) {
		if (rb)
			ring_buffer__poll(rb, 50);
		else
			usleep(50 * 1000);
		trace_poll(&tail);
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child = -1;
			break;
		}
		if (pid && kill(pid, 0) && errno == ESRCH) {
			fprintf(stderr, "bpfx: process %d exited\n", pid);
			break;
		}
	}
	if (rb)
		ring_buffer__consume(rb);
	trace_poll(&tail);
	detach_all(links, nlinks);
	nlinks = 0;
	if (child > 0) { /* interrupted: the command gets the signal too */
		kill(child, SIGINT);
		waitpid(child, &status, 0);
	}
	printf("\n");
	bpf_object__for_each_map(m, obj)
		print_map(m);
	ret = cmd ? (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) : 0;
out:
	detach_all(links, nlinks);
	ring_buffer__free(rb);
	if (tail.fd >= 0)
		close(tail.fd);
	bpf_object__close(obj);
	return ret;
usage:
	fprintf(stderr, "usage: bpfx run OBJ.bpf.o [--pid PID | -- CMD ARGS...]\n");
	return 2;
}

static volatile pid_t forward_to;

/* bpfx start/load stand in for their command: pass it our signals */
static void forward_signal(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

/* `bpfx start -- CMD` (agent preloaded: a target) and `bpfx load -- TOOL`
 * (shim preloaded: an unmodified eBPF tool whose bpf(2), perf_event_open
 * and map mmaps go to the session instead of the kernel). */
int cmd_start(int argc, char **argv)
{
	bool load = !strcmp(argv[0], "load");
	int status;
	pid_t child;

	if (argc < 3 || strcmp(argv[1], "--")) {
		fprintf(stderr, "usage: bpfx %s -- %s ARGS...\n", argv[0],
			load ? "TOOL" : "CMD");
		return 2;
	}
	child = load ? spawn_with(&argv[2], "libbpfx-shim.so", "BPFX_SHIM")
		     : spawn(&argv[2]);
	if (child < 0)
		return 1;
	forward_to = child;
	signal(SIGINT, forward_signal);
	signal(SIGTERM, forward_signal);
	signal(SIGHUP, forward_signal);
	signal(SIGQUIT, forward_signal);
	while (waitpid(child, &status, 0) != child)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case LINK_UPROBE: return "uprobe";
	case LINK_URETPROBE: return "uretprobe";
	case LINK_TRACEPOINT: return "tracepoint";
	default: return "?";
	}
}

int cmd_link(int argc, char **argv)
{
	struct shm_session *s = emu_session();
	uint32_t id = 0;
	int n = 0;

	if (argc > 1 && strcmp(argv[1], "list")) {
		fprintf(stderr, "usage: bpfx link list\n");
		return 2;
	}
	if (!s) {
		fprintf(stderr, "bpfx link: session: %s\n", strerror(errno));
		return 1;
	}
	shm_gc(s);
	while (!shm_obj_next_id(s, SHM_LINK, id, &id)) {
		const struct link_obj *l;
		void *mem;
		size_t size;

		if (emu_link_map(s, id, &l, &mem, &size))
			continue;
		printf("%u: %s  prog %u  %s+0x%llx  pid %d  owner %d%s\n", id,
		       kind_name(l->kind), l->prog_id, l->path,
		       (unsigned long long)l->offset, l->pid, l->owner,
		       l->detached ? "  (detached)" : "");
		shm_obj_unmap(mem, size);
		n++;
	}
	if (!n)
		printf("no links in session '%s'\n", cli_session_name());
	return 0;
}

int cmd_detach(int argc, char **argv)
{
	struct shm_session *s = emu_session();
	uint32_t id = 0;
	int n = 0;

	if (argc != 2 || strcmp(argv[1], "--all")) {
		fprintf(stderr, "usage: bpfx detach --all\n");
		return 2;
	}
	if (!s) {
		fprintf(stderr, "bpfx detach: session: %s\n", strerror(errno));
		return 1;
	}
	while (!shm_obj_next_id(s, SHM_LINK, id, &id))
		n += emu_link_detach_id(s, id) == 0;
	emu_notify_agents(s);
	printf("detached %d link%s\n", n, n == 1 ? "" : "s");
	return 0;
}

/* `bpfx attach PID`: load the agent into a running process. */
int cmd_attach(int argc, char **argv)
{
	char agent[PATH_MAX], why[512];
	struct timespec t0, t1;
	pid_t pid;
	int err;

	if (argc != 2 || (pid = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: bpfx attach PID\n");
		return 2;
	}
	if (inject_has_agent(pid)) {
		printf("process %d already has the agent\n", pid);
		return 0;
	}
	if (agent_path(agent, sizeof(agent))) {
		fprintf(stderr, "bpfx attach: cannot find libbpfx-agent.so\n");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = inject_agent(pid, agent, cli_session_name(), why, sizeof(why));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err) {
		fprintf(stderr, "bpfx attach: %s\n", why[0] ? why : strerror(-err));
		return 1;
	}
	printf("agent loaded into process %d in %.1f ms\n", pid,
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 0;
}
