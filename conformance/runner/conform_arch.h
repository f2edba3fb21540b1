/*
 * conform_arch.h - how vmmem-conform hands lines to an architecture's own
 * part (conform_arm64.c, ...), so that adding an architecture is a new file
 * plus one line in the table of vmmem_conform.c.
 *
 * Every line of a case file is offered to each architecture part before the
 * generic (RISC-V) code sees it. A part answers CONFORM_DONE (it handled the
 * line), CONFORM_NOT_MINE (the generic code handles it) or CONFORM_ERROR (a
 * malformed line: it printed "file:line: message"). A part claims its
 * register lines always, and `mode NAME`, `flush ...`, `tlbi ...`,
 * `expect ACCESS ...` and `check ACCESS VA` while its mode is the current one; it sees `mode
 * OTHER` too (so it knows it is no longer current) but leaves it to the
 * generic code. Physical memory lines (mem, wN, mmio, expect rN) stay
 * generic: the part reads and writes the same reference memory through the
 * environment.
 */
#ifndef VMMEM_CONFORM_ARCH_H
#define VMMEM_CONFORM_ARCH_H

#include "ref_model.h"
#include "vmmem/mmu.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Zero-filled memory for the runner's big tables (the reference RAM, the
 * reference TLBs of 8192 entries): an anonymous mapping, so only the pages
 * a case touches are ever written. calloc/malloc wrote or poisoned all of
 * them (and their MSan shadow) for each of the thousands of corpus cases
 * ctest runs. conform_zfree takes the size conform_zalloc was given.
 */
void *conform_zalloc(size_t size);
void conform_zfree(void *p, size_t size);

typedef struct conform_env {
    const char *file;
    int line;
    bool ref_only;       /* --ref-only: core is NULL */
    bool verbose;
    bool strict;         /* `strict 1`: misaligned sized accesses fault */
    vm_mmu_t *core;
    ref_mem_t *mem;      /* the reference's physical memory */
    int *expectations;   /* counters of the file */
    int *failures;
    bool answer_ref;     /* --answer-ref: `check` lines are answered by the reference */
    /* The TLB counters `expect tlb` measures from; the runner's own lookups
     * (translating a sized access's VA again to learn its PA) are added
     * here so that the case never sees them. */
    uint64_t *hits_base, *misses_base;
} conform_env_t;

enum { CONFORM_ERROR = -1, CONFORM_NOT_MINE = 0, CONFORM_DONE = 1 };

typedef struct conform_arch {
    const char *name;
    void *(*start)(void);           /* per file; NULL on allocation failure */
    int (*line)(void *state, const conform_env_t *env, char **tok, int ntok);
    void (*stop)(void *state);
    /* After every line, while the core's paging mode is this part's: every
     * entry in the core's TLBs must be one the part's reference remembers
     * (white-box; a failure is counted like a failed expectation). */
    void (*check_tlb)(void *state, const conform_env_t *env);
} conform_arch_t;

/* Shared with the parts: the case format's number syntax (decimal or 0x
 * hex, the whole token). */
bool conform_parse_u64(const char *s, uint64_t *out);
/* `read|write|exec` with an optional size 1, 2, 4, 8 (exec: 4 only); size 0
 * when none is given. 0, or -1 for anything else. */
int conform_parse_access_kind(const char *tok, int *access, unsigned *size);

/*
 * White-box, shared by the parts (vmmem_conform.c): walk the core's DTLB,
 * then its ITLB, most recently used first, and report the first entry for
 * which remembered(ref, e, exec_side) is false as a failure of the current
 * line ("... still holds va V (N-bit UNIT) -> pa P ID A, which no
 * remembered JUSTIFIER justifies"). env->core must be set.
 */
struct tlb_entry;
void conform_check_core_tlbs(const conform_env_t *env, const void *ref,
                             bool (*remembered)(const void *ref, const struct tlb_entry *e,
                                                bool exec_side),
                             const char *unit, const char *id, const char *justifier);

extern const conform_arch_t conform_arm64;
extern const conform_arch_t conform_x86_64;

#endif /* VMMEM_CONFORM_ARCH_H */
