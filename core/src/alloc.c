/*
 * alloc.c - host allocation wrappers (alloc_int.h) and, in test builds,
 * allocation-failure injection.
 *
 * How it works
 * ------------
 * Each wrapper asks alloc_should_fail() first. In a normal build that is a
 * constant false and the wrapper is a plain call to libc. With
 * VMMEM_ALLOC_INJECT the wrappers count every attempt; the attempt whose
 * number equals the armed value fails the way libc reports failure (NULL
 * with errno = ENOMEM, MAP_FAILED for mmap; a failed realloc leaves the old
 * block alone), and successful allocations and frees keep a count of live
 * heap blocks and mapped bytes, so a test can see that a failed call gave
 * back everything it took.
 *
 * Rejected:
 *  - Interposing malloc for the whole process (an LD_PRELOAD shim or
 *    --wrap=malloc): it would also fail the allocations of the test
 *    framework, the sanitizer runtimes and libc itself, and could not tell
 *    the RAM mmap from the loader's. Only core/'s own allocations are
 *    under test, so only they go through here.
 *  - A per-call-site failure switch (fail "the TLB array" by name): the
 *    sweep over N reaches every site, including ones added later, without
 *    the test knowing the library's internals.
 *  - Compiling the counters into every build: the wrappers sit on cold
 *    paths only (constructors, the first LR of an owner, bulk transfers over
 *    more than 16 pages), but the release library has no reason to carry
 *    test state; the test links its own copy built with the macro.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "alloc_int.h"

#ifdef VMMEM_ALLOC_INJECT

static uint64_t inject_at;    /* attempt number that fails; 0: none */
static uint64_t inject_calls; /* attempts since the last arm */
static int64_t live_blocks;
static int64_t mapped_bytes;

void alloc_inject_fail_at(uint64_t n)
{
    __atomic_store_n(&inject_calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&inject_at, n, __ATOMIC_SEQ_CST);
}

uint64_t alloc_inject_calls(void)
{
    return __atomic_load_n(&inject_calls, __ATOMIC_SEQ_CST);
}

int64_t alloc_inject_live_blocks(void)
{
    return __atomic_load_n(&live_blocks, __ATOMIC_SEQ_CST);
}

int64_t alloc_inject_mapped_bytes(void)
{
    return __atomic_load_n(&mapped_bytes, __ATOMIC_SEQ_CST);
}

static bool alloc_should_fail(void)
{
    uint64_t n = __atomic_add_fetch(&inject_calls, 1, __ATOMIC_SEQ_CST);
    if (n != __atomic_load_n(&inject_at, __ATOMIC_SEQ_CST))
        return false;
    errno = ENOMEM;
    return true;
}

static void alloc_note_blocks(int64_t delta)
{
    __atomic_add_fetch(&live_blocks, delta, __ATOMIC_SEQ_CST);
}

static void alloc_note_mapped(int64_t delta)
{
    __atomic_add_fetch(&mapped_bytes, delta, __ATOMIC_SEQ_CST);
}

#else

static inline bool alloc_should_fail(void)
{
    return false;
}

static inline void alloc_note_blocks(int64_t delta)
{
    (void)delta;
}

static inline void alloc_note_mapped(int64_t delta)
{
    (void)delta;
}

#endif

void *alloc_malloc(size_t size)
{
    if (alloc_should_fail())
        return NULL;
    void *p = malloc(size);
    if (p)
        alloc_note_blocks(1);
    return p;
}

void *alloc_calloc(size_t n, size_t size)
{
    if (alloc_should_fail())
        return NULL;
    void *p = calloc(n, size);
    if (p)
        alloc_note_blocks(1);
    return p;
}

void *alloc_realloc(void *p, size_t size)
{
    if (alloc_should_fail())
        return NULL; /* as realloc: the old block stays valid and owned */
    void *q = realloc(p, size);
    if (q && !p)
        alloc_note_blocks(1);
    return q;
}

void alloc_free(void *p)
{
    if (p)
        alloc_note_blocks(-1);
    free(p);
}

void *alloc_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (alloc_should_fail())
        return MAP_FAILED;
    void *p = mmap(addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED)
        alloc_note_mapped((int64_t)len);
    return p;
}

int alloc_munmap(void *addr, size_t len)
{
    int rc = munmap(addr, len);
    if (rc == 0)
        alloc_note_mapped(-(int64_t)len);
    return rc;
}
