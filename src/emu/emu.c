/* SPDX-License-Identifier: MIT */
/*
 * emu.c - process state of the bpf(2) emulation, the object-fd table, and
 * the command dispatch.
 *
 * The fd table is keyed by (st_dev, st_ino) of the object file behind the
 * fd, so any fd that refers to the same open file description or the same
 * file (dup, F_DUPFD_CLOEXEC as libbpf's ensure_good_fd does, /proc/self/fd
 * reopen) resolves to the same object; a number that was closed and reused
 * for some other file resolves to nothing (-EBADF), as the kernel would.
 * Handles stay open for the life of the process (its hold on the object is
 * dropped at exit, or by pid liveness if it dies).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu/emu_internal.h"
#include "helpers/helpers.h"
#include "vm/vm_internal.h"

static pthread_mutex_t emu_lock = PTHREAD_MUTEX_INITIALIZER;   /* session, vm */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER; /* fd table */
static struct shm_session *session;
static struct bpfx_vm *vm;
static char session_name[64];

#define NBUCKETS 256
static struct emu_obj *buckets[NBUCKETS];

int emu_set_session(const char *name)
{
	int err = 0;

	pthread_mutex_lock(&emu_lock);
	if (session)
		err = -EBUSY;
	else if (name && strlen(name) >= sizeof(session_name))
		err = -ENAMETOOLONG;
	else
		snprintf(session_name, sizeof(session_name), "%s", name ? name : "");
	pthread_mutex_unlock(&emu_lock);
	return err;
}

struct shm_session *emu_session(void)
{
	struct shm_session *s;

	pthread_mutex_lock(&emu_lock);
	if (!session) {
		session = shm_session_open(session_name[0] ? session_name : NULL);
		if (session)
			shm_gc(session);
	}
	s = session;
	pthread_mutex_unlock(&emu_lock);
	return s;
}

/* Prog arrays: a program id to this process's loaded program (kept for
 * the life of the process, as the fd table's handles). */
static const void *resolve_prog(uint32_t id, void *ctx)
{
	struct emu_obj *o = emu_obj_find(SHM_PROG, id);
	struct emu_prog *p;

	(void)ctx;
	if (o && o->handle) {
		p = o->handle;
	} else {
		int fd;

		if (emu_prog_open(emu_session(), id, &p))
			return NULL;
		fd = emu_obj_fd(SHM_PROG, id, p, false, &o);
		if (fd < 0) {
			emu_prog_close(p);
			return NULL;
		}
		close(fd);
		if (o->handle != p) {
			emu_prog_close(p);
			p = o->handle;
		}
	}
	if (!p || emu_prog_instantiate(p, emu_vm(), true))
		return NULL;
	return p->vm_prog;
}

static const struct bpfx_prog *tail_target(uint64_t map, uint64_t index)
{
	if (index > UINT32_MAX)
		return NULL;
	return map_prog_array_get((struct bpfx_map *)(uintptr_t)map, (uint32_t)index);
}

struct bpfx_vm *emu_vm(void)
{
	struct bpfx_vm *v;

	pthread_mutex_lock(&emu_lock);
	if (!vm) {
		vm = bpfx_vm_create();
		if (vm && helpers_register_all(vm)) {
			bpfx_vm_destroy(vm);
			vm = NULL;
		}
		if (vm) {
			map_set_prog_resolver(resolve_prog, NULL);
			vm_set_tail_resolver(tail_target);
		}
	}
	v = vm;
	pthread_mutex_unlock(&emu_lock);
	return v;
}

static unsigned bucket_of(dev_t dev, ino_t ino)
{
	return (unsigned)((ino * 0x9e3779b97f4a7c15ull) ^ dev) % NBUCKETS;
}

static struct emu_obj *find_stat(const struct stat *st)
{
	struct emu_obj *o;

	for (o = buckets[bucket_of(st->st_dev, st->st_ino)]; o; o = o->next)
		if (o->dev == st->st_dev && o->ino == st->st_ino)
			return o;
	return NULL;
}

struct emu_obj *emu_obj_of_fd(int fd)
{
	struct emu_obj *o;
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	pthread_mutex_lock(&table_lock);
	o = find_stat(&st);
	pthread_mutex_unlock(&table_lock);
	return o;
}

static const char *kind_prefix(enum shm_kind kind)
{
	switch (kind) {
	case SHM_MAP: return "map";
	case SHM_PROG: return "prog";
	case SHM_LINK: return "link";
	default: return "btf";
	}
}

/*
 * A new fd for object @id of @kind; @handle becomes the table's handle the
 * first time this process opens the object (later opens reuse the entry and
 * @handle is left to the caller). Returns the fd or -errno.
 */
int emu_obj_fd(enum shm_kind kind, uint32_t id, void *handle, bool held,
	       struct emu_obj **out)
{
	struct shm_session *s = emu_session();
	struct emu_obj *o;
	char path[4096];
	struct stat st;
	int fd, err;

	if (!s)
		return -errno;
	snprintf(path, sizeof(path), "%s/%s.%u", shm_session_dir(s),
		 kind_prefix(kind), id);
	/* O_APPEND tags the fds we hand out (it changes nothing for an fd
	 * that is only mmap'ed and fstat'ed): the mmap interposer redirects
	 * only these, never the library's own mappings of the same file */
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	pthread_mutex_lock(&table_lock);
	o = find_stat(&st);
	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o) {
			pthread_mutex_unlock(&table_lock);
			close(fd);
			return -ENOMEM;
		}
		o->dev = st.st_dev;
		o->ino = st.st_ino;
		o->kind = kind;
		o->id = id;
		o->handle = handle;
		o->next = buckets[bucket_of(st.st_dev, st.st_ino)];
		buckets[bucket_of(st.st_dev, st.st_ino)] = o;
	}
	if (held && o->held) {
		shm_obj_release(s, kind, id); /* one hold per process */
	} else if (!held && !o->held) {
		err = shm_obj_hold(s, kind, id);
		if (err) {
			pthread_mutex_unlock(&table_lock);
			close(fd);
			return err;
		}
	}
	o->held = true;
	pthread_mutex_unlock(&table_lock);
	if (out)
		*out = o;
	return fd;
}

/* An fd on a file that is not a session object but answers as object
 * (@kind, @id) (the kernel's vmlinux BTF): read only, never held. */
int emu_obj_open_file(const char *path, enum shm_kind kind, uint32_t id)
{
	struct emu_obj *o;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	pthread_mutex_lock(&table_lock);
	o = find_stat(&st);
	if (!o && (o = calloc(1, sizeof(*o)))) {
		o->dev = st.st_dev;
		o->ino = st.st_ino;
		o->kind = kind;
		o->id = id;
		o->next = buckets[bucket_of(st.st_dev, st.st_ino)];
		buckets[bucket_of(st.st_dev, st.st_ino)] = o;
	}
	pthread_mutex_unlock(&table_lock);
	if (!o) {
		close(fd);
		return -ENOMEM;
	}
	return fd;
}

/* The table entry for object (@kind, @id) if this process has one. */
struct emu_obj *emu_obj_find(enum shm_kind kind, uint32_t id)
{
	struct emu_obj *o;
	unsigned b;

	pthread_mutex_lock(&table_lock);
	for (b = 0; b < NBUCKETS; b++)
		for (o = buckets[b]; o; o = o->next)
			if (o->kind == kind && o->id == id)
				goto out;
out:
	pthread_mutex_unlock(&table_lock);
	return o;
}

bool emu_fd_object(int fd, enum shm_kind *kind, uint32_t *id)
{
	struct emu_obj *o = emu_obj_of_fd(fd);

	if (!o)
		return false;
	if (kind)
		*kind = o->kind;
	if (id)
		*id = o->id;
	return true;
}

bool emu_fd_is_handed_out(int fd)
{
	int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;

	return fl >= 0 && (fl & O_APPEND);
}

/*
 * After the caller closed @fd (which referred to (@dev, @ino)): if no fd of
 * this process refers to that object any more, drop the process's hold,
 * as the kernel drops an object with its last fd. Handles stay (programs
 * instantiated here may still use a map); a new fd re-holds.
 */
void emu_fd_closed(dev_t dev, ino_t ino)
{
	struct emu_obj *o;
	struct stat key = { .st_dev = dev, .st_ino = ino };
	char path[320];
	struct dirent *de;
	DIR *d;

	pthread_mutex_lock(&table_lock);
	o = find_stat(&key);
	pthread_mutex_unlock(&table_lock);
	if (!o || !o->held)
		return;
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		if (!stat(path, &st) && st.st_dev == dev && st.st_ino == ino) {
			closedir(d);
			return; /* another fd still refers to it */
		}
	}
	closedir(d);
	pthread_mutex_lock(&table_lock);
	if (o->held) {
		o->held = false;
		shm_obj_release(emu_session(), o->kind, o->id);
		if (o->kind == SHM_LINK)
			emu_notify_agents(emu_session());
	}
	pthread_mutex_unlock(&table_lock);
}

struct bpfx_map *emu_fd_map(int fd)
{
	struct emu_obj *o = emu_obj_of_fd(fd);

	return o && o->kind == SHM_MAP ? o->handle : NULL;
}

struct emu_prog *emu_fd_prog(int fd)
{
	struct emu_obj *o = emu_obj_of_fd(fd);

	return o && o->kind == SHM_PROG ? o->handle : NULL;
}

/* Local handle of map @id: the table's, or a new one (cached). */
int emu_map_get(uint32_t id, struct bpfx_map **out)
{
	struct emu_obj *o = emu_obj_find(SHM_MAP, id);
	struct bpfx_map *m;
	int fd, err;

	if (o && o->handle) {
		*out = o->handle;
		return 0;
	}
	err = map_open(emu_session(), id, &m);
	if (err)
		return err;
	fd = emu_obj_fd(SHM_MAP, id, m, true, &o); /* map_open holds */
	if (fd < 0) {
		map_close(m);
		return fd;
	}
	close(fd);
	if (o->handle != m)
		map_close(m);
	*out = o->handle;
	return 0;
}

static const char *const cmd_names[] = {
	[BPF_MAP_CREATE] = "BPF_MAP_CREATE",
	[BPF_MAP_LOOKUP_ELEM] = "BPF_MAP_LOOKUP_ELEM",
	[BPF_MAP_UPDATE_ELEM] = "BPF_MAP_UPDATE_ELEM",
	[BPF_MAP_DELETE_ELEM] = "BPF_MAP_DELETE_ELEM",
	[BPF_MAP_GET_NEXT_KEY] = "BPF_MAP_GET_NEXT_KEY",
	[BPF_PROG_LOAD] = "BPF_PROG_LOAD",
	[BPF_OBJ_PIN] = "BPF_OBJ_PIN",
	[BPF_OBJ_GET] = "BPF_OBJ_GET",
	[BPF_PROG_ATTACH] = "BPF_PROG_ATTACH",
	[BPF_PROG_DETACH] = "BPF_PROG_DETACH",
	[BPF_PROG_TEST_RUN] = "BPF_PROG_TEST_RUN",
	[BPF_PROG_GET_NEXT_ID] = "BPF_PROG_GET_NEXT_ID",
	[BPF_MAP_GET_NEXT_ID] = "BPF_MAP_GET_NEXT_ID",
	[BPF_PROG_GET_FD_BY_ID] = "BPF_PROG_GET_FD_BY_ID",
	[BPF_MAP_GET_FD_BY_ID] = "BPF_MAP_GET_FD_BY_ID",
	[BPF_OBJ_GET_INFO_BY_FD] = "BPF_OBJ_GET_INFO_BY_FD",
	[BPF_PROG_QUERY] = "BPF_PROG_QUERY",
	[BPF_RAW_TRACEPOINT_OPEN] = "BPF_RAW_TRACEPOINT_OPEN",
	[BPF_BTF_LOAD] = "BPF_BTF_LOAD",
	[BPF_BTF_GET_FD_BY_ID] = "BPF_BTF_GET_FD_BY_ID",
	[BPF_TASK_FD_QUERY] = "BPF_TASK_FD_QUERY",
	[BPF_MAP_LOOKUP_AND_DELETE_ELEM] = "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
	[BPF_MAP_FREEZE] = "BPF_MAP_FREEZE",
	[BPF_BTF_GET_NEXT_ID] = "BPF_BTF_GET_NEXT_ID",
	[BPF_MAP_LOOKUP_BATCH] = "BPF_MAP_LOOKUP_BATCH",
	[BPF_MAP_LOOKUP_AND_DELETE_BATCH] = "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
	[BPF_MAP_UPDATE_BATCH] = "BPF_MAP_UPDATE_BATCH",
	[BPF_MAP_DELETE_BATCH] = "BPF_MAP_DELETE_BATCH",
	[BPF_LINK_CREATE] = "BPF_LINK_CREATE",
	[BPF_LINK_UPDATE] = "BPF_LINK_UPDATE",
	[BPF_LINK_GET_FD_BY_ID] = "BPF_LINK_GET_FD_BY_ID",
	[BPF_LINK_GET_NEXT_ID] = "BPF_LINK_GET_NEXT_ID",
	[BPF_ENABLE_STATS] = "BPF_ENABLE_STATS",
	[BPF_ITER_CREATE] = "BPF_ITER_CREATE",
	[BPF_LINK_DETACH] = "BPF_LINK_DETACH",
	[BPF_PROG_BIND_MAP] = "BPF_PROG_BIND_MAP",
};

const char *emu_cmd_name(int cmd)
{
	if (cmd >= 0 && (size_t)cmd < sizeof(cmd_names) / sizeof(cmd_names[0]) &&
	    cmd_names[cmd])
		return cmd_names[cmd];
	return "unknown command";
}

/*
 * Copy the caller's attr into a zeroed union, as the kernel's
 * bpf_check_uarg_tail_zero + copy_from_bpfptr: bytes past what we know must
 * be zero (-E2BIG otherwise).
 */
static int copy_attr(union bpf_attr *dst, const void *src, unsigned size)
{
	const uint8_t *p = src;
	unsigned i;

	memset(dst, 0, sizeof(*dst));
	if (!src)
		return -EFAULT;
	for (i = sizeof(*dst); i < size; i++) {
		uint8_t b;

		if (vm_nofault_copy(&b, p + i, 1))
			return -EFAULT;
		if (b)
			return -E2BIG;
	}
	if (vm_nofault_copy(dst, src, size < sizeof(*dst) ? size : sizeof(*dst)))
		return -EFAULT;
	return 0;
}

/* Bytes of the attr a command writes back (the rest is input only). */
static void copy_back(void *user, const union bpf_attr *a, unsigned size)
{
	memcpy(user, a, size < sizeof(*a) ? size : sizeof(*a));
}

long emu_bpf(int cmd, union bpf_attr *uattr, unsigned int size)
{
	union bpf_attr attr;
	long ret;

	vm_nofault_init();
	ret = copy_attr(&attr, uattr, size);
	if (ret)
		return ret;
	if (!emu_session())
		return -errno;
	switch (cmd) {
	case BPF_MAP_CREATE:
		return emu_map_create(&attr);
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
	case BPF_MAP_FREEZE:
		return emu_map_elem(cmd, &attr);
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		ret = emu_map_batch(cmd, &attr);
		copy_back(uattr, &attr, size);
		return ret;
	case BPF_PROG_LOAD:
		return emu_prog_load(&attr, size);
	case BPF_PROG_TEST_RUN:
		ret = emu_prog_test_run(&attr);
		if (!ret || ret == -ENOSPC)
			copy_back(uattr, &attr, size);
		return ret;
	case BPF_BTF_LOAD:
		return emu_btf_load(&attr);
	case BPF_OBJ_GET_INFO_BY_FD:
		ret = emu_obj_get_info(&attr);
		if (!ret)
			copy_back(uattr, &attr, size);
		return ret;
	case BPF_PROG_GET_NEXT_ID:
	case BPF_MAP_GET_NEXT_ID:
	case BPF_BTF_GET_NEXT_ID:
	case BPF_LINK_GET_NEXT_ID:
		ret = emu_get_next_id(cmd, &attr);
		if (!ret)
			copy_back(uattr, &attr, size);
		return ret;
	case BPF_PROG_GET_FD_BY_ID:
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_BTF_GET_FD_BY_ID:
	case BPF_LINK_GET_FD_BY_ID:
		return emu_get_fd_by_id(cmd, &attr);
	case BPF_OBJ_PIN:
		return emu_obj_pin(&attr);
	case BPF_OBJ_GET:
		return emu_obj_get(&attr);
	case BPF_LINK_CREATE:
		return emu_link_create(&attr);
	case BPF_LINK_DETACH:
		return emu_link_detach(&attr);
	case BPF_PROG_BIND_MAP:
		return emu_prog_bind_map(&attr);
	case BPF_ENABLE_STATS:
		/* run_cnt/run_time_ns are always collected; the kernel hands
		 * back an fd that keeps them on while open */
		if (attr.enable_stats.type != BPF_STATS_RUN_TIME)
			return -EINVAL;
		ret = open("/dev/null", O_RDONLY | O_CLOEXEC);
		return ret < 0 ? -errno : ret;
	default:
		vm_log(BPFX_WARN, "bpfx: bpf(%s = %d) is not emulated\n",
		       emu_cmd_name(cmd), cmd);
		return -EINVAL;
	}
}
