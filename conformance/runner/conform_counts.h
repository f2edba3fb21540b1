/*
 * conform_counts.h - the TLB counters around one core access, for the
 * walk-or-hit rule of the architecture parts (conform_arm64.c,
 * conform_x86_64.c; the RISC-V part has its own view in conform_lookup.c).
 *
 * vmmem counts exactly one TLB hit or one miss per page it translates with
 * the TLB in use (mmu.h, vm_mmu_tlb_stats): a miss is a walk, a hit an
 * answer from a cached entry. The parts read the counters before and after
 * the core's access and judge the answer by which of the two it was.
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

#endif /* VMMEM_CONFORM_COUNTS_H */
