/*
 * conform_lookup.c - the walk-or-hit rule of vmmem-conform: which answers
 * the core may give for one translated page, told apart by its TLB
 * counters, and the memory compares that go with it.
 *
 * How it works. vmmem counts exactly one TLB hit or miss per page it
 * translates with paging on (mmu.h, vm_mmu_tlb_stats). The runner reads the
 * counters around the core's access: a miss is a walk, which must give the
 * fresh walk's answer and write exactly the fresh walk's A/D update (Priv.
 * spec, translation step 9: the PTE is updated in memory); a hit must be
 * justified by a leaf the core may have cached (the acceptance rule of
 * conformance/README.md, ref_tlb_legal with no fresh walk to fall back on)
 * and writes nothing. The reference then applies the A/D update only for a
 * walk and records the leaf only for a walk, so it tracks the core's memory
 * and TLB contents exactly.
 *
 * Rejected: deciding "walked" by comparing the core's answer with the fresh
 * walk's (what the runner did before): a hit on a leaf cached with A and D
 * set, after the PTE was rewritten with D clear, gives the same PA as the
 * fresh walk, and the reference would then set D where the core (rightly)
 * did not; and a hit that no remembered leaf justifies (an entry that
 * survived a flush) would pass whenever its answer happens to be the fresh
 * one. The fuzz targets use the same rule (fuzz_mmu_common.h).
 */
#include "conform_ext.h"

#include <stdio.h>
#include <string.h>

void conform_lookup_begin(const conform_view_t *v, conform_lookup_t *lk)
{
    memset(lk, 0, sizeof *lk);
    lk->paged = v->rv->levels != 0 && v->rv->priv != 3;
    if (*v->core)
        vm_mmu_tlb_stats(*v->core, &lk->h0, &lk->m0);
}

void conform_lookup_end(const conform_view_t *v, conform_lookup_t *lk)
{
    uint64_t h = lk->h0, m = lk->m0;
    if (*v->core)
        vm_mmu_tlb_stats(*v->core, &h, &m);
    lk->dh = h - lk->h0;
    lk->dm = m - lk->m0;
}

const char *conform_counters_unpaged(const conform_lookup_t *lk, char *buf, size_t len)
{
    if (lk->paged || (lk->dh == 0 && lk->dm == 0))
        return NULL;
    snprintf(buf, len,
             "the TLB counters moved by hits +%llu misses +%llu with translation off "
             "(mmu.h: Bare and M-mode do not count)",
             (unsigned long long)lk->dh, (unsigned long long)lk->dm);
    return buf;
}

bool conform_hit_legal(const conform_view_t *v, uint64_t va, int access,
                       const ref_rv_walk_t *fresh, int outcome, uint64_t pa)
{
    ref_rv_walk_t never = *fresh;
    never.outcome = -1;   /* matches no answer: only remembered leaves can justify it */
    never.pa = ~pa;
    return ref_tlb_legal(*v->tlb, v->rv, va, access, &never, outcome, pa);
}

bool conform_leaf_covers(const conform_view_t *v, uint64_t va, int access)
{
    const ref_tlb_t *t = *v->tlb;
    for (int k = 0; k < t->n; k++) {
        const ref_tlb_entry_t *e = &t->e[k];
        unsigned shift = 12 + 9 * (unsigned)e->level;
        if (e->valid && e->exec_side == (access == REF_EXEC) && e->levels == v->rv->levels &&
            (e->global || e->asid == v->rv->asid) && (e->va >> shift) == (va >> shift))
            return true;
    }
    return false;
}

uint64_t conform_parts_covered(const conform_view_t *v, const uint64_t *part_va,
                               const ref_rv_walk_t *walk, int n, int access)
{
    uint64_t covered = 0;
    for (int p = 0; p < n; p++) {
        bool c = conform_leaf_covers(v, part_va[p], access);
        for (int q = 0; q < p && !c; q++) {
            unsigned shift = 12 + 9 * (unsigned)(walk[q].level < 0 ? 0 : walk[q].level);
            c = walk[q].outcome == REF_OK && (part_va[q] >> shift) == (part_va[p] >> shift);
        }
        covered += c;
    }
    return covered;
}

static bool ref_word(const ref_mem_t *m, uint64_t pa, uint64_t *word)
{
    if (!ref_mem_in_ram(m, pa, 8))
        return false;
    uint64_t w = 0;
    for (unsigned k = 0; k < 8; k++)
        w |= (uint64_t)m->ram[pa - m->base + k] << (8 * k);
    *word = w;
    return true;
}

const char *conform_walk_memory(const conform_view_t *v, const ref_rv_walk_t *w, char *buf,
                                size_t len)
{
    if (!*v->core)
        return NULL;
    for (int k = 0; k < w->n_steps && k < REF_MAX_LEVELS; k++) {
        uint64_t a = w->steps[k].pte_addr, ref, core = 0;
        if (!ref_word(v->mem, a, &ref))
            continue;
        if (vm_mmu_read_phys(*v->core, a, 8, &core) != VM_OK || core != ref) {
            snprintf(buf, len,
                     "the PTE at 0x%llx is 0x%llx in the core, 0x%llx in the reference (%s)",
                     (unsigned long long)a, (unsigned long long)core, (unsigned long long)ref,
                     w->ad_write && a == w->pte_addr ? "the leaf of a walk that updates A/D"
                                                     : "a PTE the walk only reads");
            return buf;
        }
    }
    return NULL;
}

const char *conform_ram_compare(const conform_view_t *v, uint64_t pa, uint64_t len, char *buf,
                                size_t blen)
{
    const ref_mem_t *m = v->mem;
    if (!*v->core || len == 0 || !ref_mem_in_ram(m, pa, len))
        return NULL;
    for (uint64_t i = 0; i < len; i++) {
        uint64_t core = 0;
        uint8_t ref = m->ram[pa - m->base + i];
        if (vm_mmu_read_phys(*v->core, pa + i, 1, &core) != VM_OK || core != ref) {
            snprintf(buf, blen, "RAM at 0x%llx is 0x%02llx in the core, 0x%02x in the reference",
                     (unsigned long long)(pa + i), (unsigned long long)core, ref);
            return buf;
        }
    }
    return NULL;
}
