/* SPDX-License-Identifier: MIT */
/*
 * core.c - helpers outside the map family: time, process identity,
 * fault-tolerant memory access, text output, strings, signals, attach
 * context.
 *
 * Hot helpers avoid syscalls: time comes from the vDSO; pid/tid are cached
 * per thread and reset in a fork child, so get_current_pid_tgid is right
 * immediately after fork; probe_read* is a plain copy with fault recovery
 * (vm/nofault.c).
 *
 * trace_printk / trace_vprintk write one line per call to the session's
 * trace file (<session>/trace, read by `bpfx trace`), formatted as the
 * kernel's trace_pipe: "comm-pid [cpu] timestamp: message".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "emu/emu.h"
#include "helpers/helpers_internal.h"
#include "maps/maps.h"
#include "vm/vm_internal.h"

/* ---- process identity, cached per thread ---- */

static __thread uint64_t pid_tgid_cache;
static __thread char comm_cache[16];
static __thread uint64_t prandom_state;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_identity(void)
{
	pid_tgid_cache = 0;
	comm_cache[0] = '\0';
	prandom_state = 0;
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_identity);
}

/* At registration, not on first use: pthread_atfork allocates (libc
 * string code, vector registers), and get_current_pid_tgid is
 * HELPER_F_NOVEC: its cold path may only make syscalls. */
void helpers_core_init(void)
{
	pthread_once(&atfork_once, register_atfork);
}

static uint64_t h_get_current_pid_tgid(uint64_t r1, uint64_t r2, uint64_t r3,
				       uint64_t r4, uint64_t r5)
{
	if (__builtin_expect(!pid_tgid_cache, 0)) {
		pid_tgid_cache = ((uint64_t)(uint32_t)getpid() << 32) |
				 (uint32_t)gettid();
	}
	return pid_tgid_cache;
}

static uint64_t h_get_current_uid_gid(uint64_t r1, uint64_t r2, uint64_t r3,
				      uint64_t r4, uint64_t r5)
{
	return ((uint64_t)getgid() << 32) | getuid();
}

static uint64_t h_get_current_comm(uint64_t buf, uint64_t size, uint64_t r3,
				   uint64_t r4, uint64_t r5)
{
	char *dst = (char *)(uintptr_t)buf;
	size_t n;

	if (!comm_cache[0]) {
		if (prctl(PR_GET_NAME, comm_cache))
			snprintf(comm_cache, sizeof(comm_cache), "?");
	}
	if (!size)
		return (uint64_t)-EINVAL;
	n = strnlen(comm_cache, sizeof(comm_cache) - 1);
	if (n >= size)
		n = size - 1;
	memcpy(dst, comm_cache, n);
	memset(dst + n, 0, size - n);
	return 0;
}

/* ---- time ---- */

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t h_ktime_get_ns(uint64_t r1, uint64_t r2, uint64_t r3,
			       uint64_t r4, uint64_t r5)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t h_ktime_get_boot_ns(uint64_t r1, uint64_t r2, uint64_t r3,
				    uint64_t r4, uint64_t r5)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static uint64_t h_ktime_get_coarse_ns(uint64_t r1, uint64_t r2, uint64_t r3,
				      uint64_t r4, uint64_t r5)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

/* ---- random ---- */

static uint64_t h_get_prandom_u32(uint64_t r1, uint64_t r2, uint64_t r3,
				  uint64_t r4, uint64_t r5)
{
	uint64_t x = prandom_state;

	if (__builtin_expect(!x, 0)) {
		if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x))
			x = clock_ns(CLOCK_MONOTONIC) ^ (uintptr_t)&x;
		x |= 1;
	}
	/* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	prandom_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/* ---- memory access that survives bad pointers ---- */

static uint64_t h_probe_read(uint64_t dst, uint64_t size, uint64_t src,
			     uint64_t r4, uint64_t r5)
{
	long err = vm_nofault_copy((void *)(uintptr_t)dst,
				   (const void *)(uintptr_t)src, size);

	if (err)
		memset((void *)(uintptr_t)dst, 0, size); /* as the kernel */
	return (uint64_t)err;
}

static uint64_t h_probe_read_str(uint64_t dst, uint64_t size, uint64_t src,
				 uint64_t r4, uint64_t r5)
{
	long n;

	if (!size)
		return 0;
	n = vm_nofault_strncpy((void *)(uintptr_t)dst,
			       (const void *)(uintptr_t)src, size);
	if (n < 0)
		memset((void *)(uintptr_t)dst, 0, size);
	return (uint64_t)n;
}

static uint64_t h_probe_write_user(uint64_t dst, uint64_t src, uint64_t size,
				   uint64_t r4, uint64_t r5)
{
	return (uint64_t)vm_nofault_copy((void *)(uintptr_t)dst,
					 (const void *)(uintptr_t)src, size);
}

/* ---- strings ---- */

static uint64_t h_strncmp(uint64_t s1, uint64_t s1_sz, uint64_t s2,
			  uint64_t r4, uint64_t r5)
{
	const unsigned char *a = (const unsigned char *)(uintptr_t)s1;
	const unsigned char *b = (const unsigned char *)(uintptr_t)s2;
	uint64_t i;

	for (i = 0; i < s1_sz; i++) {
		if (a[i] != b[i])
			return (uint64_t)(int64_t)(a[i] < b[i] ? -1 : 1);
		if (!a[i])
			return 0;
	}
	return 0;
}

/* ---- output ---- */

static int trace_fd = -1;
static pthread_mutex_t trace_lock = PTHREAD_MUTEX_INITIALIZER;

static int open_trace(void)
{
	struct shm_session *s;
	char path[4096];

	if (__atomic_load_n(&trace_fd, __ATOMIC_ACQUIRE) >= 0)
		return trace_fd;
	pthread_mutex_lock(&trace_lock);
	if (trace_fd < 0 && (s = emu_session())) {
		snprintf(path, sizeof(path), "%s/trace", shm_session_dir(s));
		__atomic_store_n(&trace_fd,
				 open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
				      0600),
				 __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&trace_lock);
	return trace_fd;
}

/* Write "comm-pid [cpu] time: msg\n" in one write (atomic under
 * PIPE_BUF for O_APPEND). */
static long trace_emit(const char *msg, size_t len)
{
	char line[1024], comm[16];
	struct timespec ts;
	int fd = open_trace(), n;

	if (fd < 0)
		return -ENOENT;
	h_get_current_comm((uintptr_t)comm, sizeof(comm), 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	while (len && msg[len - 1] == '\n')
		len--;
	n = snprintf(line, sizeof(line), "%16s-%-7u [%03u] %5lld.%06ld: %.*s\n",
		     comm, (uint32_t)(h_get_current_pid_tgid(0, 0, 0, 0, 0) >> 32),
		     shm_cpu(), (long long)ts.tv_sec, ts.tv_nsec / 1000,
		     (int)len, msg);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	return write(fd, line, (size_t)n) < 0 ? -errno : 0;
}

static uint64_t h_trace_printk(uint64_t fmt, uint64_t fmt_size, uint64_t a1,
			       uint64_t a2, uint64_t a3)
{
	uint64_t args[3] = { a1, a2, a3 };
	char out[512];
	long n;

	n = helpers_format(out, sizeof(out), (const char *)(uintptr_t)fmt,
			   fmt_size, args, 3);
	if (n < 0)
		return (uint64_t)n;
	trace_emit(out, (size_t)n);
	return (uint64_t)n;
}

static uint64_t h_trace_vprintk(uint64_t fmt, uint64_t fmt_size, uint64_t data,
				uint64_t data_len, uint64_t r5)
{
	char out[512];
	long n;

	if (data_len % 8 || data_len > 12 * 8)
		return (uint64_t)-EINVAL;
	n = helpers_format(out, sizeof(out), (const char *)(uintptr_t)fmt,
			   fmt_size, (const uint64_t *)(uintptr_t)data,
			   (unsigned)(data_len / 8));
	if (n < 0)
		return (uint64_t)n;
	trace_emit(out, (size_t)n);
	return (uint64_t)n;
}

static uint64_t h_snprintf(uint64_t str, uint64_t str_size, uint64_t fmt,
			   uint64_t data, uint64_t data_len)
{
	char tmp[1024];
	long n;

	if (data_len % 8 || data_len > 12 * 8)
		return (uint64_t)-EINVAL;
	n = helpers_format(tmp, sizeof(tmp), (const char *)(uintptr_t)fmt,
			   strnlen((const char *)(uintptr_t)fmt, 1024) + 1,
			   (const uint64_t *)(uintptr_t)data,
			   (unsigned)(data_len / 8));
	if (n < 0)
		return (uint64_t)n;
	if (str_size) {
		size_t c = (size_t)n < str_size - 1 ? (size_t)n : str_size - 1;

		memcpy((char *)(uintptr_t)str, tmp, c);
		((char *)(uintptr_t)str)[c] = '\0';
	}
	return (uint64_t)n + 1; /* bytes needed including NUL, as the kernel */
}

/* ---- signals and attach context ---- */

static uint64_t h_send_signal(uint64_t sig, uint64_t r2, uint64_t r3,
			      uint64_t r4, uint64_t r5)
{
	if (sig == 0 || sig >= 65)
		return (uint64_t)-EINVAL;
	return kill(getpid(), (int)sig) ? (uint64_t)-errno : 0;
}

static uint64_t h_send_signal_thread(uint64_t sig, uint64_t r2, uint64_t r3,
				     uint64_t r4, uint64_t r5)
{
	if (sig == 0 || sig >= 65)
		return (uint64_t)-EINVAL;
	return tgkill(getpid(), gettid(), (int)sig) ? (uint64_t)-errno : 0;
}

static uint64_t h_get_func_ip(uint64_t ctx, uint64_t r2, uint64_t r3,
			      uint64_t r4, uint64_t r5)
{
	return vm_run.func_ip;
}

static uint64_t h_get_attach_cookie(uint64_t ctx, uint64_t r2, uint64_t r3,
				    uint64_t r4, uint64_t r5)
{
	return vm_run.cookie;
}

static uint64_t h_override_return(uint64_t ctx, uint64_t rc, uint64_t r3,
				  uint64_t r4, uint64_t r5)
{
	vm_run.override = 1;
	vm_run.override_rc = rc;
	return 0;
}

/* ---- callbacks ---- */

#define BPF_MAX_LOOPS (8 * 1024 * 1024)

static uint64_t h_loop(uint64_t nr, uint64_t cb, uint64_t cb_ctx, uint64_t flags,
		       uint64_t r5)
{
	uint64_t i;

	if (flags)
		return (uint64_t)-EINVAL;
	if (nr > BPF_MAX_LOOPS)
		return (uint64_t)-E2BIG;
	for (i = 0; i < nr; i++)
		if (vm_callback_call(cb, i, cb_ctx, 0, 0, 0))
			return i + 1;
	return i;
}

static uint64_t h_for_each_map_elem(uint64_t map, uint64_t cb, uint64_t cb_ctx,
				    uint64_t flags, uint64_t r5)
{
	struct bpfx_map *m = (struct bpfx_map *)(uintptr_t)map;
	uint8_t key[512], next[512];
	uint64_t n = 0;
	bool first = true;

	if (flags)
		return (uint64_t)-EINVAL;
	if (m->key_size > sizeof(key))
		return (uint64_t)-E2BIG;
	while (!map_sys_get_next_key(m, first ? NULL : key, next)) {
		void *value;

		memcpy(key, next, m->key_size);
		first = false;
		value = map_lookup(m, key);
		if (!value)
			continue; /* deleted meanwhile */
		n++;
		if (vm_callback_call(cb, map, (uintptr_t)key, (uintptr_t)value,
				     cb_ctx, 0))
			break;
	}
	return n;
}

/* Never called by a run: the interpreter performs tail calls itself and
 * the JIT refuses them (vm_internal.h). */
static uint64_t h_tail_call(uint64_t ctx, uint64_t map, uint64_t index,
			    uint64_t r4, uint64_t r5)
{
	return (uint64_t)-EOPNOTSUPP;
}

#define A(...) { __VA_ARGS__ }
const struct helper_def helpers_core_table[] = {
	{ 4, "probe_read", h_probe_read, RET_INTEGER,
	  A(ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING), HG_PROBE_READ, 0 },
	{ 5, "ktime_get_ns", h_ktime_get_ns, RET_INTEGER, A(0), HG_TIME, HELPER_F_NOVEC },
	/* r3..r5 are optional (as the kernel's proto): unchecked */
	{ 6, "trace_printk", h_trace_printk, RET_INTEGER,
	  A(ARG_PTR_TO_MEM, ARG_CONST_SIZE), HG_OUTPUT, 0 },
	{ 7, "get_prandom_u32", h_get_prandom_u32, RET_INTEGER, A(0), HG_MISC, 0 },
	{ 12, "tail_call", h_tail_call, RET_INTEGER,
	  A(ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING), HG_TAIL_CALL, 0 },
	{ 14, "get_current_pid_tgid", h_get_current_pid_tgid, RET_INTEGER, A(0),
	  HG_PROCESS, HELPER_F_NOVEC },
	{ 15, "get_current_uid_gid", h_get_current_uid_gid, RET_INTEGER, A(0),
	  HG_PROCESS, HELPER_F_NOVEC },
	{ 16, "get_current_comm", h_get_current_comm, RET_INTEGER,
	  A(ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE), HG_PROCESS, 0 },
	{ 36, "probe_write_user", h_probe_write_user, RET_INTEGER,
	  A(ARG_ANYTHING, ARG_PTR_TO_MEM, ARG_CONST_SIZE), HG_PROBE_WRITE, 0 },
	{ 45, "probe_read_str", h_probe_read_str, RET_INTEGER,
	  A(ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING), HG_PROBE_READ, 0 },
	{ 58, "override_return", h_override_return, RET_INTEGER,
	  A(ARG_PTR_TO_CTX, ARG_ANYTHING), HG_OVERRIDE, HELPER_F_NOVEC },
	{ 109, "send_signal", h_send_signal, RET_INTEGER, A(ARG_ANYTHING), HG_PROCESS, 0 },
	{ 112, "probe_read_user", h_probe_read, RET_INTEGER,
	  A(ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING), HG_PROBE_READ, 0 },
	{ 113, "probe_read_kernel", h_probe_read, RET_INTEGER,
	  A(ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING), HG_PROBE_READ, 0 },
	{ 114, "probe_read_user_str", h_probe_read_str, RET_INTEGER,
	  A(ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING), HG_PROBE_READ, 0 },
	{ 115, "probe_read_kernel_str", h_probe_read_str, RET_INTEGER,
	  A(ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING), HG_PROBE_READ, 0 },
	{ 117, "send_signal_thread", h_send_signal_thread, RET_INTEGER,
	  A(ARG_ANYTHING), HG_PROCESS, 0 },
	{ 125, "ktime_get_boot_ns", h_ktime_get_boot_ns, RET_INTEGER, A(0), HG_TIME, HELPER_F_NOVEC },
	{ 160, "ktime_get_coarse_ns", h_ktime_get_coarse_ns, RET_INTEGER, A(0), HG_TIME, HELPER_F_NOVEC },
	{ 165, "snprintf", h_snprintf, RET_INTEGER,
	  A(ARG_PTR_TO_MEM_OR_NULL, ARG_CONST_SIZE_OR_ZERO, ARG_PTR_TO_CONST_STR,
	    ARG_PTR_TO_MEM_OR_NULL, ARG_CONST_SIZE_OR_ZERO), HG_OUTPUT, 0 },
	{ 173, "get_func_ip", h_get_func_ip, RET_INTEGER, A(ARG_PTR_TO_CTX), HG_MISC, HELPER_F_NOVEC },
	{ 174, "get_attach_cookie", h_get_attach_cookie, RET_INTEGER,
	  A(ARG_PTR_TO_CTX), HG_MISC, HELPER_F_NOVEC },
	{ 177, "trace_vprintk", h_trace_vprintk, RET_INTEGER,
	  A(ARG_PTR_TO_MEM, ARG_CONST_SIZE, ARG_PTR_TO_MEM_OR_NULL, ARG_CONST_SIZE_OR_ZERO),
	  HG_OUTPUT, 0 },
	{ 164, "for_each_map_elem", h_for_each_map_elem, RET_INTEGER,
	  A(ARG_CONST_MAP_PTR, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL, ARG_ANYTHING),
	  HG_MAPS, HELPER_F_CALLBACK },
	{ 181, "loop", h_loop, RET_INTEGER,
	  A(ARG_ANYTHING, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL, ARG_ANYTHING),
	  HG_MISC, HELPER_F_CALLBACK },
	{ 182, "strncmp", h_strncmp, RET_INTEGER,
	  A(ARG_PTR_TO_MEM, ARG_CONST_SIZE, ARG_PTR_TO_CONST_STR), HG_MISC, 0 },
	{ 0, NULL, NULL, 0, A(0), 0, 0 },
};
