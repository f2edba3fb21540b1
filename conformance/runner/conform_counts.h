/*
 * conform_counts.h - the TLB counters around one core access, for the
 * walk-or-hit rule of the architecture parts (conform_arm64.c,
 * conform_x86_64.c; the RISC-V part has its own view in conform_lookup.c).
 *
 * vmmem counts exactly one TLB hit or one miss per page it translates with
 * the TLB in use (mmu.h, vm_mmu_tlb_stats): a miss is a walk, a hit an
 * answer from a cached entry. The parts read the counters before and after
 * the core's access and judge the answer by which of the two it was.
 *
 * conform_translate_hidden is the runner's own lookup after an access (every
 * part uses it to learn the PA the core used): its counts are added to the
 * `expect tlb` baseline, so a case counts only its own lookups.
 */
#ifndef VMMEM_CONFORM_COUNTS_H
#define VMMEM_CONFORM_COUNTS_H

#include "vmmem/mmu.h"

#include <stdint.h>

typedef struct conform_counts {
    uint64_t h0, m0;   /* the counters before the access */
    uint64_t dh, dm;   /* how far they moved */
} conform_counts_t;

static inline void conform_counts_begin(const vm_mmu_t *core, conform_counts_t *c)
{
    c->h0 = c->m0 = c->dh = c->dm = 0;
    vm_mmu_tlb_stats(core, &c->h0, &c->m0);
}

static inline void conform_counts_end(const vm_mmu_t *core, conform_counts_t *c)
{
    uint64_t h = c->h0, m = c->m0;
    vm_mmu_tlb_stats(core, &h, &m);
    c->dh = h - c->h0;
    c->dm = m - c->m0;
}

/* vm_mmu_translate of va, with whatever it counts added to *hits_base and
 * *misses_base (the `expect tlb` baseline of the acting MMU). After a
 * successful access it adds nothing architectural: the access already set
 * A/D and filled the TLB. */
static inline vm_err_t conform_translate_hidden(vm_mmu_t *core, uint64_t *hits_base,
                                                uint64_t *misses_base, uint64_t va,
                                                vm_access_t access, vm_gpa_t *pa)
{
    uint64_t h0 = 0, m0 = 0, h1 = 0, m1 = 0;
    vm_mmu_tlb_stats(core, &h0, &m0);
    vm_err_t err = vm_mmu_translate(core, va, access, pa);
    vm_mmu_tlb_stats(core, &h1, &m1);
    *hits_base += h1 - h0;
    *misses_base += m1 - m0;
    return err;
}

#endif /* VMMEM_CONFORM_COUNTS_H */
