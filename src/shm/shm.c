/* SPDX-License-Identifier: MIT */
/*
 * shm.c - the session registry: a directory in /dev/shm, one file per object.
 *
 * Files of a session directory:
 *   registry            struct registry: the id counter and the registry lock
 *   <kind>.<id>         an object ("map.7"), starting with struct shm_obj_hdr
 *   hold.<id>.<pid>     references process <pid> holds on <id> (decimal text)
 *   pin.<id>            pin names of <id>, one per line
 *
 * Invariants: ids come from an atomic counter and are never reused; an
 * object is visible to shm_obj_map only once its header magic is stored
 * (release), so readers never see a half-built object. Everything that
 * looks at holds and pins together with object files (create, hold,
 * release, pin, unpin, gc) runs under the registry lock, so gc never
 * removes an object that is being created or held. Removing a file never
 * disturbs processes that still map it.
 *
 * A fresh registry file is all zeros, and zero is its valid initial state,
 * so concurrent first opens need no initialization handshake.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shm/shm.h"

#define SHM_ROOT "/dev/shm"
#define REGISTRY_SIZE 4096

struct registry {
	uint32_t next_id;
	uint32_t pad;
	struct shm_lock lock;
};

struct shm_session {
	int dirfd;
	struct registry *reg;
	char dir[PATH_MAX];
};

static const char *kind_prefix(enum shm_kind kind)
{
	switch (kind) {
	case SHM_MAP: return "map";
	case SHM_PROG: return "prog";
	case SHM_LINK: return "link";
	case SHM_BTF: return "btf";
	case SHM_PERF: return "perf";
	}
	return NULL;
}

static int valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64 || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

static const char *resolve_name(const char *name)
{
	if (!name)
		name = getenv("BPFX_SESSION");
	if (!name || !*name)
		name = "default";
	return name;
}

static int session_path(const char *name, char *buf, size_t size)
{
	int n;

	name = resolve_name(name);
	if (!valid_name(name))
		return -EINVAL;
	n = snprintf(buf, size, "%s/bpfx-%u-%s", SHM_ROOT, (unsigned)getuid(),
		     name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

struct shm_session *shm_session_open(const char *name)
{
	struct shm_session *s;
	struct stat st;
	int fd, err;
	void *p;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->dirfd = -1;
	err = session_path(name, s->dir, sizeof(s->dir));
	if (err)
		goto fail;
	if (mkdir(s->dir, 0700) && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		err = -errno;
		goto fail;
	}
	fd = openat(s->dirfd, "registry", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	if (fstat(fd, &st) || (st.st_size < REGISTRY_SIZE &&
			       ftruncate(fd, REGISTRY_SIZE))) {
		err = -errno;
		close(fd);
		goto fail;
	}
	p = mmap(NULL, REGISTRY_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	s->reg = p;
	return s;
fail:
	shm_session_close(s);
	errno = -err;
	return NULL;
}

void shm_session_close(struct shm_session *s)
{
	if (!s)
		return;
	if (s->reg)
		munmap(s->reg, REGISTRY_SIZE);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s);
}

const char *shm_session_dir(const struct shm_session *s)
{
	return s->dir;
}

int shm_session_reset(const char *name)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err, dfd;

	err = session_path(name, dir, sizeof(dir));
	if (err)
		return err;
	d = opendir(dir);
	if (!d)
		return -errno;
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
	return rmdir(dir) ? -errno : 0;
}

/* ---- small file helpers (all relative to the session directory) ---- */

static int read_text(struct shm_session *s, const char *file, char *buf,
		     size_t size)
{
	ssize_t n;
	int fd;

	fd = openat(s->dirfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return (int)n;
}

static int write_text(struct shm_session *s, const char *file,
		      const char *text, size_t len)
{
	char tmp[64];
	int fd, err = 0;

	/* write a temp file and rename it: readers see old or new, whole */
	snprintf(tmp, sizeof(tmp), ".tmp.%s.%u", file, (unsigned)shm_tid());
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		err = -EIO;
	close(fd);
	if (!err && renameat(s->dirfd, tmp, s->dirfd, file))
		err = -errno;
	if (err)
		unlinkat(s->dirfd, tmp, 0);
	return err;
}

static int obj_file(enum shm_kind kind, uint32_t id, char *buf, size_t size)
{
	const char *p = kind_prefix(kind);

	if (!p)
		return -EINVAL;
	snprintf(buf, size, "%s.%u", p, id);
	return 0;
}

/* Parse "<prefix>.<id>" names; returns the id or 0. */
static uint32_t parse_obj(const char *name, enum shm_kind *kind)
{
	static const enum shm_kind kinds[] = { SHM_MAP, SHM_PROG, SHM_LINK,
					       SHM_BTF, SHM_PERF };
	size_t i, n;
	char *end;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *p = kind_prefix(kinds[i]);
		unsigned long v;

		n = strlen(p);
		if (strncmp(name, p, n) || name[n] != '.')
			continue;
		v = strtoul(name + n + 1, &end, 10);
		if (*end || end == name + n + 1 || v == 0 || v > UINT32_MAX)
			return 0;
		*kind = kinds[i];
		return (uint32_t)v;
	}
	return 0;
}

static int count_adjust(struct shm_session *s, const char *file, int d)
{
	char buf[32];
	long cnt = 0;
	int n;

	n = read_text(s, file, buf, sizeof(buf));
	if (n > 0)
		cnt = strtol(buf, NULL, 10);
	else if (n != -ENOENT && n < 0)
		return n;
	cnt += d;
	if (cnt < 0)
		return -ENOENT;
	if (cnt == 0)
		return unlinkat(s->dirfd, file, 0) ? -errno : 0;
	n = snprintf(buf, sizeof(buf), "%ld\n", cnt);
	return write_text(s, file, buf, (size_t)n);
}

static int hold_adjust(struct shm_session *s, uint32_t id, pid_t pid, int d)
{
	char file[64];

	snprintf(file, sizeof(file), "hold.%u.%d", id, (int)pid);
	return count_adjust(s, file, d);
}

static int obj_exists(struct shm_session *s, enum shm_kind kind, uint32_t id)
{
	char file[64];

	if (obj_file(kind, id, file, sizeof(file)))
		return 0;
	return faccessat(s->dirfd, file, F_OK, 0) == 0;
}

/* ---- objects ---- */

int shm_obj_create(struct shm_session *s, enum shm_kind kind, size_t size,
		   const char *name, void **mem)
{
	struct shm_obj_hdr *h;
	struct timespec ts;
	char file[64];
	uint32_t id;
	int fd, err;
	void *p;

	if (size < sizeof(*h) || !kind_prefix(kind))
		return -EINVAL;
	id = __atomic_add_fetch(&s->reg->next_id, 1, __ATOMIC_RELAXED);
	if (id == 0 || id > INT32_MAX)
		return -ENOSPC;
	obj_file(kind, id, file, sizeof(file));
	shm_lock(&s->reg->lock);
	fd = openat(s->dirfd, file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		err = -errno;
		goto out_unlock;
	}
	/* tmpfs files are sparse: untouched pages cost no memory */
	if (ftruncate(fd, (off_t)size)) {
		err = -errno;
		goto out_unlink;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out_unlink;
	}
	err = hold_adjust(s, id, getpid(), 1);
	if (err) {
		munmap(p, size);
		goto out_unlink;
	}
	close(fd);
	shm_unlock(&s->reg->lock);
	h = p;
	h->kind = kind;
	h->id = id;
	h->size = size;
	if (name)
		strncpy(h->name, name, SHM_NAME_LEN - 1);
	h->creator = getpid();
	clock_gettime(CLOCK_REALTIME, &ts);
	h->created_ns = (uint64_t)ts.tv_sec * 1000000000ull +
			(uint64_t)ts.tv_nsec;
	*mem = p;
	return (int)id;
out_unlink:
	close(fd);
	unlinkat(s->dirfd, file, 0);
out_unlock:
	shm_unlock(&s->reg->lock);
	return err;
}

void shm_obj_publish(void *mem)
{
	struct shm_obj_hdr *h = mem;

	__atomic_store_n(&h->magic, SHM_OBJ_MAGIC, __ATOMIC_RELEASE);
}

int shm_obj_open_fd(struct shm_session *s, enum shm_kind kind, uint32_t id,
		    int flags)
{
	char file[64];
	int fd;

	if (obj_file(kind, id, file, sizeof(file)))
		return -EINVAL;
	fd = openat(s->dirfd, file, flags ? flags : O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int shm_obj_map(struct shm_session *s, enum shm_kind kind, uint32_t id,
		void **mem, size_t *size)
{
	struct shm_obj_hdr *h;
	struct stat st;
	int fd, err = 0;
	void *p;

	fd = shm_obj_open_fd(s, kind, id, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out_close;
	}
	if ((size_t)st.st_size < sizeof(*h)) {
		err = -ENOENT;
		goto out_close;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out_close;
	}
	h = p;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != SHM_OBJ_MAGIC ||
	    h->kind != (uint32_t)kind || h->id != id ||
	    h->size != (uint64_t)st.st_size) {
		munmap(p, (size_t)st.st_size);
		err = -ENOENT;
		goto out_close;
	}
	*mem = p;
	*size = (size_t)st.st_size;
out_close:
	close(fd);
	return err;
}

void shm_obj_unmap(void *mem, size_t size)
{
	if (mem)
		munmap(mem, size);
}

int shm_obj_hold(struct shm_session *s, enum shm_kind kind, uint32_t id)
{
	int err;

	shm_lock(&s->reg->lock);
	err = obj_exists(s, kind, id) ? hold_adjust(s, id, getpid(), 1)
				      : -ENOENT;
	shm_unlock(&s->reg->lock);
	return err;
}

int shm_obj_ref(struct shm_session *s, uint32_t id, uint32_t from)
{
	char file[64];
	int err;

	snprintf(file, sizeof(file), "ref.%u.%u", id, from);
	shm_lock(&s->reg->lock);
	err = count_adjust(s, file, 1);
	shm_unlock(&s->reg->lock);
	return err;
}

int shm_obj_unref(struct shm_session *s, uint32_t id, uint32_t from)
{
	char file[64];
	int err;

	snprintf(file, sizeof(file), "ref.%u.%u", id, from);
	shm_lock(&s->reg->lock);
	err = count_adjust(s, file, -1);
	shm_unlock(&s->reg->lock);
	return err;
}

int shm_obj_release(struct shm_session *s, enum shm_kind kind, uint32_t id)
{
	int err;

	(void)kind;
	shm_lock(&s->reg->lock);
	err = hold_adjust(s, id, getpid(), -1);
	shm_unlock(&s->reg->lock);
	return err;
}

/* ---- pins ---- */

/* Find @path among all pins; returns its id or 0. */
static uint32_t pin_find(struct shm_session *s, const char *path)
{
	struct dirent *de;
	uint32_t found = 0;
	char buf[8192];
	size_t plen = strlen(path);
	int fd;
	DIR *d;

	fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while (!found && (de = readdir(d))) {
		char *line, *save = NULL;
		unsigned long id;

		if (strncmp(de->d_name, "pin.", 4))
			continue;
		id = strtoul(de->d_name + 4, NULL, 10);
		if (read_text(s, de->d_name, buf, sizeof(buf)) <= 0)
			continue;
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			if (strlen(line) == plen && !strcmp(line, path)) {
				found = (uint32_t)id;
				break;
			}
	}
	closedir(d);
	return found;
}

int shm_pin(struct shm_session *s, enum shm_kind kind, uint32_t id,
	    const char *path)
{
	char file[64], buf[8192];
	size_t len, plen;
	int n, err;

	plen = strlen(path);
	if (plen == 0 || plen > 4000 || strchr(path, '\n'))
		return -EINVAL;
	snprintf(file, sizeof(file), "pin.%u", id);
	shm_lock(&s->reg->lock);
	if (!obj_exists(s, kind, id)) {
		err = -ENOENT;
		goto out;
	}
	if (pin_find(s, path)) {
		err = -EEXIST;
		goto out;
	}
	n = read_text(s, file, buf, sizeof(buf));
	len = n > 0 ? (size_t)n : 0;
	if (len + plen + 2 > sizeof(buf)) {
		err = -ENOSPC;
		goto out;
	}
	memcpy(buf + len, path, plen);
	buf[len + plen] = '\n';
	err = write_text(s, file, buf, len + plen + 1);
out:
	shm_unlock(&s->reg->lock);
	return err;
}

int shm_pin_lookup(struct shm_session *s, const char *path, enum shm_kind *kind,
		   uint32_t *id)
{
	static const enum shm_kind kinds[] = { SHM_MAP, SHM_PROG, SHM_LINK,
					       SHM_BTF, SHM_PERF };
	uint32_t found;
	size_t i;

	found = pin_find(s, path);
	if (!found)
		return -ENOENT;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (obj_exists(s, kinds[i], found)) {
			if (kind)
				*kind = kinds[i];
			if (id)
				*id = found;
			return 0;
		}
	return -ENOENT;
}

int shm_unpin(struct shm_session *s, const char *path)
{
	char file[64], buf[8192], out[8192];
	char *line, *save = NULL;
	size_t len = 0, plen = strlen(path);
	uint32_t id;
	int err = 0;

	shm_lock(&s->reg->lock);
	id = pin_find(s, path);
	if (!id) {
		err = -ENOENT;
		goto out;
	}
	snprintf(file, sizeof(file), "pin.%u", id);
	if (read_text(s, file, buf, sizeof(buf)) < 0) {
		err = -ENOENT;
		goto out;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);

		if (l == plen && !strcmp(line, path))
			continue;
		memcpy(out + len, line, l);
		out[len + l] = '\n';
		len += l + 1;
	}
	if (len == 0)
		err = unlinkat(s->dirfd, file, 0) ? -errno : 0;
	else
		err = write_text(s, file, out, len);
out:
	shm_unlock(&s->reg->lock);
	return err;
}

/* ---- enumeration and garbage collection ---- */

static int obj_published(struct shm_session *s, const char *file)
{
	uint32_t magic = 0;
	int fd;

	fd = openat(s->dirfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &magic, sizeof(magic), 0) != sizeof(magic))
		magic = 0;
	close(fd);
	return magic == SHM_OBJ_MAGIC;
}

int shm_obj_next_id(struct shm_session *s, enum shm_kind kind, uint32_t id,
		    uint32_t *next)
{
	uint32_t best = 0;
	struct dirent *de;
	int fd;
	DIR *d;

	fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		enum shm_kind k;
		uint32_t v = parse_obj(de->d_name, &k);

		if (!v || k != kind || v <= id || (best && v >= best))
			continue;
		if (obj_published(s, de->d_name))
			best = v;
	}
	closedir(d);
	if (!best)
		return -ENOENT;
	*next = best;
	return 0;
}

struct idset {
	uint32_t *v;
	size_t n, cap;
};

static int idset_add(struct idset *set, uint32_t id)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		uint32_t *v = realloc(set->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = id;
	return 0;
}

static int idset_has(const struct idset *set, uint32_t id)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->v[i] == id)
			return 1;
	return 0;
}

struct ref {
	uint32_t id, from;
};

int shm_gc(struct shm_session *s)
{
	struct idset live = { 0 };
	struct ref *refs = NULL;
	size_t nrefs = 0, cap = 0, i;
	struct dirent *de;
	int fd, err = 0, removed = 0, more;
	DIR *d;

	shm_lock(&s->reg->lock);
	fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_unlock;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		err = -ENOMEM;
		goto out_unlock;
	}
	/* pass 1: drop dead holds; roots = held or pinned ids; collect refs */
	while ((de = readdir(d))) {
		unsigned long id;
		long pid;
		char *end;

		if (!strncmp(de->d_name, "hold.", 5)) {
			id = strtoul(de->d_name + 5, &end, 10);
			if (*end != '.')
				continue;
			pid = strtol(end + 1, NULL, 10);
			if (pid <= 0 ||
			    (kill((pid_t)pid, 0) && errno == ESRCH)) {
				unlinkat(s->dirfd, de->d_name, 0);
				continue;
			}
			err = idset_add(&live, (uint32_t)id);
		} else if (!strncmp(de->d_name, "pin.", 4)) {
			err = idset_add(&live, (uint32_t)strtoul(
						       de->d_name + 4, NULL,
						       10));
		} else if (!strncmp(de->d_name, "ref.", 4)) {
			id = strtoul(de->d_name + 4, &end, 10);
			if (*end != '.')
				continue;
			if (nrefs == cap) {
				struct ref *r;

				cap = cap ? cap * 2 : 32;
				r = realloc(refs, cap * sizeof(*r));
				if (!r) {
					err = -ENOMEM;
					goto out_close;
				}
				refs = r;
			}
			refs[nrefs].id = (uint32_t)id;
			refs[nrefs++].from =
				(uint32_t)strtoul(end + 1, NULL, 10);
		}
		if (err)
			goto out_close;
	}
	/* mark: whatever a live object references is live */
	do {
		more = 0;
		for (i = 0; i < nrefs; i++)
			if (idset_has(&live, refs[i].from) &&
			    !idset_has(&live, refs[i].id)) {
				err = idset_add(&live, refs[i].id);
				if (err)
					goto out_close;
				more = 1;
			}
	} while (more);
	/* sweep: objects nothing reaches, and references they made */
	rewinddir(d);
	while ((de = readdir(d))) {
		enum shm_kind k;
		uint32_t id = parse_obj(de->d_name, &k);

		if (!id || idset_has(&live, id))
			continue;
		if (!unlinkat(s->dirfd, de->d_name, 0))
			removed++;
	}
	for (i = 0; i < nrefs; i++)
		if (!idset_has(&live, refs[i].from)) {
			char file[64];

			snprintf(file, sizeof(file), "ref.%u.%u", refs[i].id,
				 refs[i].from);
			unlinkat(s->dirfd, file, 0);
		}
out_close:
	closedir(d);
out_unlock:
	shm_unlock(&s->reg->lock);
	free(live.v);
	free(refs);
	return err ? err : removed;
}
