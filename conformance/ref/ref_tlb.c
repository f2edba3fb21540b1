/*
 * ref_tlb.c - the TLB-aware acceptance rule for a differential MMU check.
 *
 * Why this exists: after software changes a PTE without an SFENCE.VMA the
 * spec allows more than one answer ("an implementation may use any
 * translation for an address that was valid at any time since the most
 * recent SFENCE.VMA that subsumes that address", supervisor.adoc,
 * SFENCE.VMA). Comparing the core against a fresh walk alone would cry wolf
 * on every legal stale hit; ignoring the TLB would miss the bugs that live
 * there. So this file keeps the set of leaves the core may still hold and
 * answers "is this (outcome, pa) one of the permitted answers?".
 *
 * How it works: a flat array of remembered leaves, oldest first. Each
 * successful walk the core performs (the harness calls ref_tlb_record when
 * the core's answer matched the fresh walk, i.e. it may have filled an
 * entry) appends the leaf as the core would cache it: the side (ITLB for
 * fetches, DTLB for loads/stores), the VA, the leaf level (superpages are
 * one entry), the paging mode, the ASID, the global flag (G on any PTE of
 * the path: "for non-leaf PTEs, the global setting implies that all
 * mappings in the subsequent levels of the page table are global"), and the
 * PTE after any A/D update. A duplicate is moved to the newest position
 * instead of being added twice. The flushes drop exactly what the matching
 * SFENCE.VMA invalidates. ref_tlb_legal accepts the fresh walk's answer, or
 * the answer one remembered leaf gives when its PTE is re-checked under the
 * current priv/SUM/MXR (SUM and MXR "take effect immediately", so a cache
 * must re-check them; a permission failure is a page fault).
 *
 * An entry that would need an A/D update is not a legal hit under Svadu:
 * step 9 must compare-and-store the PTE in memory ("the
 * address-translation cache cannot be used in step 9"), and vmmem's TLB
 * re-walks in that case, so the answer is the fresh walk's. Accepting the
 * cached answer there would hide bug class 2 (a DTLB entry filled by a load
 * letting a store through with D=0). Under Svade the same entry gives the
 * step 9 page fault, which is legal.
 *
 * Bounded table: when REF_TLB_MAX entries are remembered the oldest is
 * dropped. Dropping a translation the core still holds could make a legal
 * stale hit look illegal (a false alarm, never a missed bug). The core's
 * TLBs hold at most 4096 + 4096 entries, REF_TLB_MAX is 8192, and every
 * matching translation re-records (refreshes) its leaf, so this can only
 * happen when a leaf is kept alive in the core by stale hits alone while
 * more than 8192 other distinct leaves are recorded without a flush.
 *
 * Deliberately not modelled (vmmem's TLB does not do them, so the rule
 * stays tight): caching of non-leaf PTEs (a page-walk cache), caching of
 * faults (negative entries, which the spec permits), entries kept across a
 * satp.MODE change (vmmem flushes on a MODE change; the levels must
 * match), and translations that were valid but never walked.
 *
 * Rejected: modelling the core's exact LRU replacement (it would make the
 * checker a second implementation of tlb.c and fail on any legal policy
 * change); a set of allowed PAs without PTEs (cannot re-check permissions
 * under a changed priv/SUM/MXR).
 */
#include "ref_model.h"

#include <string.h>

static uint64_t page_shift(int level) { return 12 + 9 * (uint64_t)level; }

static bool same_page(uint64_t va1, uint64_t va2, int level)
{
    /* Compared on the full 64-bit VA (bug class 8: a zero-extended or
     * truncated tag makes high-half flushes miss). */
    return (va1 >> page_shift(level)) == (va2 >> page_shift(level));
}

void ref_tlb_reset(ref_tlb_t *t)
{
    t->n = 0;
}

static void drop_at(ref_tlb_t *t, int k)
{
    memmove(&t->e[k], &t->e[k + 1], (size_t)(t->n - k - 1) * sizeof t->e[0]);
    t->n--;
}

void ref_tlb_record(ref_tlb_t *t, const ref_rv_state_t *s, uint64_t va, int access,
                    const ref_rv_walk_t *w)
{
    /* Only a completed walk in a paged mode fills an entry. */
    if (w->outcome != REF_OK || s->levels == 0 || s->priv == 3 || w->level < 0 || w->n_steps == 0)
        return;

    ref_tlb_entry_t ne;
    memset(&ne, 0, sizeof ne);
    ne.valid = true;
    ne.exec_side = access == REF_EXEC;
    ne.va = va;
    ne.level = w->level;
    ne.levels = s->levels;
    ne.asid = s->asid;
    ne.pte = w->ad_write ? w->ad_value : w->pte;
    for (int k = 0; k < w->n_steps && k < REF_MAX_LEVELS; k++)
        if ((w->steps[k].pte >> 5) & 1)     /* G anywhere on the path */
            ne.global = true;

    for (int k = 0; k < t->n; k++) {
        const ref_tlb_entry_t *e = &t->e[k];
        if (e->exec_side == ne.exec_side && e->level == ne.level && e->levels == ne.levels &&
            e->asid == ne.asid && e->global == ne.global && e->pte == ne.pte &&
            same_page(e->va, va, e->level)) {
            drop_at(t, k);          /* re-added below as the newest */
            break;
        }
    }
    if (t->n == REF_TLB_MAX)
        drop_at(t, 0);              /* the oldest; see the top comment */
    t->e[t->n++] = ne;
}

/* Keep the entries for which keep() is true, preserving their order. */
static void filter(ref_tlb_t *t, bool (*keep)(const ref_tlb_entry_t *, uint64_t), uint64_t arg)
{
    int out = 0;
    for (int k = 0; k < t->n; k++)
        if (keep(&t->e[k], arg))
            t->e[out++] = t->e[k];
    t->n = out;
}

void ref_tlb_flush_all(ref_tlb_t *t)
{
    t->n = 0;
}

/* sfence.vma x0, rs2: "invalidates all address-translation cache entries
 * matching the address space identified by rs2, except for entries
 * containing global mappings." */
static bool keep_other_asid_or_global(const ref_tlb_entry_t *e, uint64_t asid)
{
    return e->global || e->asid != (uint16_t)asid;
}

void ref_tlb_flush_asid(ref_tlb_t *t, uint16_t asid)
{
    filter(t, keep_other_asid_or_global, asid);
}

/* sfence.vma rs1, x0: "invalidates all address-translation cache entries
 * that contain leaf page table entries corresponding to the virtual address
 * in rs1, for all address spaces" - global ones included. */
static bool keep_not_covering(const ref_tlb_entry_t *e, uint64_t va)
{
    return !same_page(e->va, va, e->level);
}

void ref_tlb_flush_page(ref_tlb_t *t, uint64_t va)
{
    filter(t, keep_not_covering, va);
}

/*
 * The answer a remembered leaf gives for this access now, re-checked under
 * the current privilege, SUM and MXR (steps 6 and 8), then step 9. Returns
 * false when the entry cannot legally answer (it would need an A/D update).
 */
static bool entry_answer(const ref_tlb_entry_t *e, const ref_rv_state_t *s, uint64_t va,
                         int access, int *outcome, uint64_t *pa)
{
    uint64_t pte = e->pte;
    bool u = (pte >> 4) & 1, r = (pte >> 1) & 1, w = (pte >> 2) & 1, x = (pte >> 3) & 1;
    bool a = (pte >> 6) & 1, d = (pte >> 7) & 1;
    bool allowed = true;

    if (s->priv == 0 && !u)
        allowed = false;
    if (s->priv == 1 && u && (access == REF_EXEC || !s->sum))
        allowed = false;
    if (access == REF_EXEC && !x)
        allowed = false;
    if (access == REF_READ && !r && !(s->mxr && x))
        allowed = false;
    if (access == REF_WRITE && !w)
        allowed = false;
    if (!allowed) {
        *outcome = REF_PAGE_FAULT;
        *pa = 0;
        return true;
    }
    if (!a || (access == REF_WRITE && !d)) {
        if (s->ad_hardware)
            return false;           /* must update memory: only the fresh walk is legal */
        *outcome = REF_PAGE_FAULT;  /* Svade, step 9 */
        *pa = 0;
        return true;
    }
    uint64_t shift = page_shift(e->level);
    uint64_t ppn = (pte >> 10) & ((UINT64_C(1) << 44) - 1);
    uint64_t page_base = (ppn << 12) & ~((UINT64_C(1) << shift) - 1);
    *outcome = REF_OK;
    *pa = page_base | (va & ((UINT64_C(1) << shift) - 1));
    return true;
}

bool ref_tlb_legal(const ref_tlb_t *t, const ref_rv_state_t *s, uint64_t va, int access,
                   const ref_rv_walk_t *fresh, int outcome, uint64_t pa)
{
    if (outcome == fresh->outcome && (outcome != REF_OK || pa == fresh->pa))
        return true;
    /* Bare and M-mode: nothing is cached, only the identity is legal. */
    if (s->levels == 0 || s->priv == 3)
        return false;
    bool exec_side = access == REF_EXEC;
    for (int k = 0; k < t->n; k++) {
        const ref_tlb_entry_t *e = &t->e[k];
        if (!e->valid || e->exec_side != exec_side || e->levels != s->levels)
            continue;
        if (!e->global && e->asid != s->asid)
            continue;
        if (!same_page(e->va, va, e->level))
            continue;
        int o;
        uint64_t p;
        if (!entry_answer(e, s, va, access, &o, &p))
            continue;
        if (o == outcome && (o != REF_OK || p == pa))
            return true;
    }
    return false;
}

bool ref_tlb_remembers(const ref_tlb_t *t, bool exec_side, int levels, uint64_t page_va,
                       unsigned shift, uint64_t page_pa, bool global, uint16_t asid)
{
    for (int k = 0; k < t->n; k++) {
        const ref_tlb_entry_t *r = &t->e[k];
        const unsigned leaf_shift = 12u + 9u * (unsigned)r->level;
        const uint64_t mask = (UINT64_C(1) << leaf_shift) - 1;
        /* PTE bits 53:10 are the PPN (Priv. spec, "Sv39" PTE format) */
        const uint64_t pa = ((r->pte >> 10) & ((UINT64_C(1) << 44) - 1)) << 12;
        if (!r->valid || r->exec_side != exec_side || r->levels != levels ||
            shift != leaf_shift || page_va != (r->va & ~mask) || page_pa != (pa & ~mask))
            continue;
        if (global ? r->global : (r->global || r->asid == asid))
            return true;
    }
    return false;
}
