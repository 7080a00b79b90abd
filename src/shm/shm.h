/* SPDX-License-Identifier: MIT */
/*
 * shm.h - the session registry in shared memory.
 *
 * A session is a directory /dev/shm/bpfx-<uid>-<name>/ (mode 0700, files
 * 0600) seen by every process of the session: loaders, the CLI, targets.
 * It outlives every process until `bpfx reset` (shm_session_reset). Each
 * object (map, program, link, BTF) is one file, "map.<id>", "prog.<id>",
 * "link.<id>", "btf.<id>", beginning with a struct shm_obj_hdr; ids come from one
 * counter in the "registry" file and are never reused within a session.
 *
 * Lifetime follows the kernel's: an object lives while some live process
 * holds a reference ("hold.<id>.<pid>" files, one per process, counting that
 * process's references) or while it is pinned ("pin.<id>", its content the
 * pin name). A process that dies without letting go is noticed by pid
 * liveness (shm_gc) and its holds are dropped. An object with no holds and
 * no pin is removed by the next shm_gc; processes that still have it mapped
 * keep using their mapping safely.
 *
 * Growth: nothing here has a fixed arena; a new object is a new file.
 * Concurrency: object creation and removal take the registry's lock (a
 * robust process-shared mutex: a holder that dies releases it).
 */
#ifndef BPFX_SHM_H
#define BPFX_SHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum shm_kind {
	SHM_MAP = 1,
	SHM_PROG = 2,
	SHM_LINK = 3,
	SHM_BTF = 4,
	SHM_PERF = 5, /* perf ring of an emulated perf event ("perf.<id>") */
};

#define SHM_OBJ_MAGIC 0x78667062u /* "bpfx" */
#define SHM_NAME_LEN 16		  /* as BPF_OBJ_NAME_LEN */

/* Common header of every object file. The kind-specific header follows at
 * an offset of sizeof(struct shm_obj_hdr), 64-byte aligned. */
struct shm_obj_hdr {
	uint32_t magic;	  /* SHM_OBJ_MAGIC once the object is complete */
	uint32_t kind;	  /* enum shm_kind */
	uint32_t id;
	uint32_t version; /* layout version of the kind-specific part */
	uint64_t size;	  /* file size in bytes */
	char name[SHM_NAME_LEN];
	pid_t creator;
	uint32_t pad;
	uint64_t created_ns; /* CLOCK_REALTIME */
} __attribute__((aligned(64)));

struct shm_session;

/* Open (creating if needed) session @name; NULL and errno on failure.
 * @name NULL means $BPFX_SESSION or "default". Names are [A-Za-z0-9_.-]. */
struct shm_session *shm_session_open(const char *name);
void shm_session_close(struct shm_session *s);
const char *shm_session_dir(const struct shm_session *s);

/* Remove every object of the session and the directory itself. */
int shm_session_reset(const char *name);

/* Create an object file of @size bytes (>= header), mapped read-write at
 * *@mem; the caller fills the kind-specific part and then publishes it with
 * shm_obj_publish. The creating process holds one reference. Returns the
 * new id (> 0) or -errno. */
int shm_obj_create(struct shm_session *s, enum shm_kind kind, size_t size,
		   const char *name, void **mem);
void shm_obj_publish(void *mem);

/* Map object @id of @kind (read-write, MAP_SHARED). -ENOENT if absent or
 * not yet published. *@size gets the mapping size. */
int shm_obj_map(struct shm_session *s, enum shm_kind kind, uint32_t id,
		void **mem, size_t *size);
void shm_obj_unmap(void *mem, size_t size);
/* Open object @id's file (O_RDWR|O_CLOEXEC, or @flags when nonzero) for
 * callers that map parts of it themselves (mmap emulation). Returns the fd
 * (caller closes) or -errno. */
int shm_obj_open_fd(struct shm_session *s, enum shm_kind kind, uint32_t id,
		    int flags);

/* References held by this process (counted per process). */
int shm_obj_hold(struct shm_session *s, enum shm_kind kind, uint32_t id);
int shm_obj_release(struct shm_session *s, enum shm_kind kind, uint32_t id);

/* Object @id is referenced by object @from (a prog array slot, a map in
 * a map-in-map): it lives while @from lives ("ref.<id>.<from>", counted).
 * shm_gc marks from holds and pins through these references. */
int shm_obj_ref(struct shm_session *s, uint32_t id, uint32_t from);
int shm_obj_unref(struct shm_session *s, uint32_t id, uint32_t from);

/* Pins: a name (path-like string, e.g. "/sys/fs/bpf/my_map") to an id. */
int shm_pin(struct shm_session *s, enum shm_kind kind, uint32_t id,
	    const char *path);
int shm_pin_lookup(struct shm_session *s, const char *path, enum shm_kind *kind,
		   uint32_t *id);
int shm_unpin(struct shm_session *s, const char *path);

/* Next existing id of @kind after @id (0 starts), as *_GET_NEXT_ID.
 * -ENOENT at the end. */
int shm_obj_next_id(struct shm_session *s, enum shm_kind kind, uint32_t id,
		    uint32_t *next);

/* Drop holds of dead processes; remove objects nothing holds or pins.
 * Returns the number of objects removed or -errno. */
int shm_gc(struct shm_session *s);

/* The CPU the calling thread runs on, read through rseq where the kernel
 * registered it (no syscall), else sched_getcpu(). */
unsigned shm_cpu(void);
/* Number of possible CPUs (per-CPU maps size their slots by it): the
 * count from /sys/devices/system/cpu/possible, as libbpf reads it. */
unsigned shm_ncpus(void);
/* The calling thread's kernel tid, cached per thread (reset across fork). */
uint32_t shm_tid(void);

/* Inline shm_cpu for hot paths: cpu_id of the thread's rseq area (glibc
 * 2.35+ registers it; __rseq_size is 0 when it did not), else shm_cpu(). */
#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#ifdef RSEQ_SIG
#define SHM_HAVE_RSEQ 1
#endif
#endif
#endif
static inline unsigned shm_cpu_fast(void)
{
#ifdef SHM_HAVE_RSEQ
	if (__builtin_expect(__rseq_size != 0, 1)) {
		uint32_t cpu;

		/* one fs-relative load, as the JIT's inline read */
		__asm__ volatile("movl %%fs:(%1), %0"
				 : "=r"(cpu)
				 : "r"(__rseq_offset +
				       (ptrdiff_t)offsetof(struct rseq, cpu_id)));
		if (__builtin_expect(cpu < 0x80000000u, 1))
			return cpu;
	}
#endif
	return shm_cpu();
}

/*
 * Cross-process lock in shared memory: a word holding the owner's tid
 * (0 = free). Lock spins briefly, then sleeps on a futex; a waiter that
 * finds the owner dead (tid gone) takes the lock over. Never used across a
 * call into eBPF code.
 */
struct shm_lock {
	uint32_t owner; /* tid or 0 */
	uint32_t waiters;
};
void shm_lock(struct shm_lock *l);
/* 0 when taken, -EBUSY when another live thread holds it. */
int shm_trylock(struct shm_lock *l);
void shm_unlock(struct shm_lock *l);

/* A one-word spin lock (struct bpf_spin_lock in map values): the word holds
 * the owner's tid; spins (yielding), and takes over from a dead owner. */
void shm_spin_lock(uint32_t *word);
void shm_spin_unlock(uint32_t *word);
/* Is thread @tid gone? (kill(tid, 0) == ESRCH) */
int shm_tid_dead(uint32_t tid);

#endif /* BPFX_SHM_H */
