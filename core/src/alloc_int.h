/*
 * alloc_int.h - the one door through which core/ takes host memory.
 *
 * Every host allocation of the library (heap blocks and the RAM mapping)
 * goes through these wrappers, with the signatures of the libc calls they
 * replace, so a call site changes by its name only. A normal build passes
 * straight through to libc. A build with -DVMMEM_ALLOC_INJECT (the
 * allocation-failure test library, conformance/faultinj/) can make the
 * N-th allocation fail and counts what is live, so a test can sweep N over
 * every allocation a public function makes and check that each failure
 * returns VM_ERR_OUT_OF_MEMORY (NULL for constructors) and changes nothing.
 * Not installed.
 */
#ifndef VMMEM_ALLOC_INT_H
#define VMMEM_ALLOC_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "physmem_int.h"

VM_HIDDEN void *alloc_malloc(size_t size);
VM_HIDDEN void *alloc_calloc(size_t n, size_t size);
/* As realloc: on failure NULL, and p is untouched and still owned by the caller. */
VM_HIDDEN void *alloc_realloc(void *p, size_t size);
VM_HIDDEN void alloc_free(void *p);
/* As mmap / munmap (MAP_FAILED with errno set on failure). */
VM_HIDDEN void *alloc_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
VM_HIDDEN int alloc_munmap(void *addr, size_t len);

#ifdef VMMEM_ALLOC_INJECT
/*
 * Fault injection (test builds only; not thread-safe against a concurrent
 * re-arm, counters are atomic). alloc_inject_fail_at(n): counting restarts
 * at 0 and the n-th allocation attempt from now (malloc, calloc, realloc or
 * mmap) fails as libc would fail it; n == 0 makes none fail, so arming with
 * 0 just counts. Exactly one attempt fails: a caller that falls back to
 * another allocation gets it.
 */
VM_HIDDEN void alloc_inject_fail_at(uint64_t n);
/* Allocation attempts (failed ones included) since the last alloc_inject_fail_at(). */
VM_HIDDEN uint64_t alloc_inject_calls(void);
/* Heap blocks currently allocated through the wrappers, and bytes mapped. */
VM_HIDDEN int64_t alloc_inject_live_blocks(void);
VM_HIDDEN int64_t alloc_inject_mapped_bytes(void);
#endif

#endif /* VMMEM_ALLOC_INT_H */
