/*
 * ref_tlb_arm64.c - the TLB-aware acceptance rule for AArch64 stage 1.
 *
 * Why this exists: as for RISC-V (ref_tlb.c), a TLB may keep using a
 * translation after the descriptor that produced it changed, until TLB
 * maintenance removes it (Arm ARM D8.13/D5.10 "TLB maintenance
 * requirements": "the translation table entry might be held in a TLB ...
 * until a TLB maintenance instruction invalidates it"). A checker that
 * compares with a fresh walk only cries wolf; one that accepts anything
 * after a change misses the TLB bugs. This file remembers every leaf the
 * core may hold and answers "is this answer one a TLB could legally give?".
 *
 * How it works: a flat array of remembered leaves, oldest first. After
 * every table walk the core did (the harness decides that), ref_a64_tlb_record
 * appends its leaf as the core caches it: ITLB for fetches, DTLB for loads
 * and stores; the VA normalised for top-byte ignore (ref_a64_tag_va: a
 * tagged and an untagged alias are one entry); the page or block size (a
 * block is one entry); the ASID of the regime (8 bits with TCR_EL1.AS = 0)
 * and nG (only the leaf's nG makes an entry non-global, D8 "Global and
 * process-specific translation table entries"); the permissions combined
 * over the walk (APTable/UXNTable/PXNTable) and whether the page is
 * writable-clean. Leaves of walks whose access then failed the permission
 * check are remembered too: the pseudocode caches the TLBRecord inside
 * AArch64.TranslationTableWalk, before AArch64.CheckPermission runs.
 *
 * ref_a64_tlb_legal accepts the fresh walk's answer, or the answer a
 * matching entry gives under the CURRENT EL, PSTATE.PAN and SCTLR_EL1.WXN
 * (AArch64.CheckPermission reads them on every access and vmmem applies
 * them live): a Permission fault at the entry's level, or its output
 * address plus the VA's offset. An entry can never answer an access that
 * needs a descriptor update: entries are remembered only with AF = 1 in
 * memory, and a write to a writable-clean entry must walk (the update is
 * a read-modify-write of the descriptor in memory, which vmmem does on a
 * walk only: "a writable-clean page ... is cached read-only, so a write
 * walks and updates the descriptor"). Accepting the cached answer there
 * would hide a core that lets a write through without recording the dirty
 * state (BUG-CLASSES 2).
 *
 * What the maintenance removes (exactly the TLBI's scope, Arm ARM C5.5):
 * VMALLE1 everything; ASIDE1 the non-global entries of the ASID; VAE1 and
 * VALE1 the entries of the ASID covering the VA and the global entries
 * covering it; VAAE1 and VAALE1 every entry covering the VA; the VA
 * compared as VA[55:0] sign-extended from bit 55 (the operand carries
 * VA[55:12]), the ASID as xt<63:48>, only xt<55:48> with 8-bit ASIDs
 * (TCR_EL1.AS = 0: the upper 8 bits of the operand's ASID are ignored). The
 * last-level forms equal the others because only leaves are cached (a
 * block is a last-level entry). Register writes remove what vmmem's
 * contract says (arm64.h): a change of SCTLR.M, of any TCR_EL1 bit or of
 * pa_bits everything; TTBR, EL, PAN, WXN nothing. Removing more is always
 * legal, so a core that over-flushes is never flagged.
 *
 * Deliberately tighter than the architecture (vmmem caches none of these;
 * a core that did would be flagged): walk caches (table entries), cached
 * faults, entries surviving a register write the contract says flushes,
 * a unified I/D TLB, entries for translations that were never walked.
 *
 * Bounded: REF_A64_TLB_MAX entries, oldest dropped first (as ref_tlb.c:
 * dropping can only cause a false alarm, never hide a bug).
 *
 * Rejected: modelling the core's replacement policy (a second tlb.c);
 * remembering PAs without permissions (cannot re-check EL/PAN/WXN).
 */
#include "ref_model.h"

#include <stdio.h>
#include <string.h>

static uint64_t sign_extend_55(uint64_t x)
{
    return (x >> 55) & 1 ? x | (UINT64_C(0xff) << 56) : x & ~(UINT64_C(0xff) << 56);
}

/* Does the entry cover this tag VA (same block at the entry's size)? */
static bool covers(const ref_a64_tlb_entry_t *e, uint64_t tag_va)
{
    return (e->tag_va >> e->blocksize_shift) == (tag_va >> e->blocksize_shift);
}

void ref_a64_tlb_reset(ref_a64_tlb_t *t)
{
    t->n = 0;
}

static void drop_at(ref_a64_tlb_t *t, int k)
{
    memmove(&t->e[k], &t->e[k + 1], (size_t)(t->n - k - 1) * sizeof t->e[0]);
    t->n--;
}

void ref_a64_tlb_record(ref_a64_tlb_t *t, const ref_a64_regs_t *r, int access,
                        const ref_a64_walk_t *w, bool af_set_anyway)
{
    if (!w->s1_enabled || !w->walk_done)
        return;
    /* The descriptor as memory holds it after this access. */
    uint64_t desc = w->desc_write ? w->desc_new : w->desc;
    if (w->af_unpredictable && af_set_anyway)
        desc |= UINT64_C(1) << 10;
    if (!((desc >> 10) & 1))
        return;  /* AF still 0: every use would need the AF update */

    ref_a64_tlb_entry_t ne;
    memset(&ne, 0, sizeof ne);
    ne.exec_side = access == REF_EXEC;
    ne.tag_va = w->tag_va;
    ne.blocksize_shift = w->blocksize_shift;
    ne.level = w->level;
    ne.asid = ref_a64_current_asid(r);
    ne.global = !w->ng;
    ne.oa_base = w->oa_base;
    ne.perm_ap1 = w->perm_ap1;
    ne.perm_xn = w->perm_xn;
    ne.perm_pxn = w->perm_pxn;
    ne.perm_ap2 = w->perm_ap2;
    /* Writable-clean: the walk asked for the AP[2] update (DBM, HA, HD, AP[2]
     * = 1) and this access did not do it. */
    ne.dirty_pending = w->update_ap && ((desc >> 7) & 1);
    ne.descaddr = w->descaddr;
    ne.desc = desc;

    for (int k = 0; k < t->n; k++) {
        const ref_a64_tlb_entry_t *e = &t->e[k];
        if (e->exec_side == ne.exec_side && e->blocksize_shift == ne.blocksize_shift &&
            e->tag_va >> e->blocksize_shift == ne.tag_va >> ne.blocksize_shift &&
            e->asid == ne.asid && e->global == ne.global && e->oa_base == ne.oa_base &&
            e->perm_ap2 == ne.perm_ap2 && e->perm_ap1 == ne.perm_ap1 &&
            e->perm_xn == ne.perm_xn && e->perm_pxn == ne.perm_pxn &&
            e->dirty_pending == ne.dirty_pending && e->level == ne.level) {
            drop_at(t, k);  /* re-added below as the newest */
            break;
        }
    }
    if (t->n == REF_A64_TLB_MAX)
        drop_at(t, 0);
    t->e[t->n++] = ne;
}

void ref_a64_tlb_flush_all(ref_a64_tlb_t *t)
{
    t->n = 0;
}

/* Keep the entries for which drop() is false, in order. */
static void drop_where(ref_a64_tlb_t *t, uint64_t tag_va, bool by_va, uint16_t asid, bool by_asid,
                       bool keep_global)
{
    int out = 0;
    for (int k = 0; k < t->n; k++) {
        const ref_a64_tlb_entry_t *e = &t->e[k];
        bool hit = true;
        if (by_va && !covers(e, tag_va))
            hit = false;
        if (by_asid && !e->global && e->asid != asid)
            hit = false;
        if (e->global && keep_global)
            hit = false;
        if (!hit)
            t->e[out++] = t->e[k];
    }
    t->n = out;
}

void ref_a64_tlb_flush_asid(ref_a64_tlb_t *t, uint16_t asid)
{
    drop_where(t, 0, false, asid, true, true);
}

void ref_a64_tlb_flush_page(ref_a64_tlb_t *t, uint64_t va)
{
    drop_where(t, sign_extend_55(va), true, 0, false, false);
}

void ref_a64_tlb_flush_page_asid(ref_a64_tlb_t *t, uint64_t va, uint16_t asid, bool include_global)
{
    drop_where(t, sign_extend_55(va), true, asid, true, !include_global);
}

void ref_a64_tlb_flush_nonglobal(ref_a64_tlb_t *t)
{
    drop_where(t, 0, false, 0, false, true);
}

void ref_a64_tlb_tlbi(ref_a64_tlb_t *t, const ref_a64_regs_t *r, int op, uint64_t xt)
{
    bool asid16 = (r->tcr >> 36) & 1;  /* TCR_EL1.AS */
    uint16_t asid = (uint16_t)(xt >> 48);
    if (!asid16)
        asid &= 0xff;  /* 8-bit ASIDs: operand ASID bits [15:8] (xt<63:56>) ignored */
    /* xt<43:0> = VA[55:12]; the VA is VA[55:0] sign-extended from bit 55. */
    uint64_t va = sign_extend_55((xt & ((UINT64_C(1) << 44) - 1)) << 12);
    switch (op) {
    case REF_A64_TLBI_VMALLE1:
        ref_a64_tlb_flush_all(t);
        break;
    case REF_A64_TLBI_ASIDE1:
        drop_where(t, 0, false, asid, true, true);
        break;
    case REF_A64_TLBI_VAE1:
    case REF_A64_TLBI_VALE1:
        /* the ASID's entries for the VA, and the global ones for it */
        drop_where(t, va, true, asid, true, false);
        break;
    case REF_A64_TLBI_VAAE1:
    case REF_A64_TLBI_VAALE1:
        drop_where(t, va, true, 0, false, false);
        break;
    default:
        break;
    }
}

void ref_a64_tlb_write_regs(ref_a64_tlb_t *t, const ref_a64_regs_t *before,
                            const ref_a64_regs_t *after)
{
    bool m_changed = ((before->sctlr ^ after->sctlr) & 1) != 0;
    if (m_changed || before->tcr != after->tcr ||
        ref_a64_pa_max(before) != ref_a64_pa_max(after))
        ref_a64_tlb_flush_all(t);
}

/* The entries that could answer this access: right side, covering the VA,
 * the current ASID or global, stage 1 on. */
static bool entry_matches(const ref_a64_tlb_entry_t *e, const ref_a64_regs_t *r, uint64_t tag_va,
                          int access, uint16_t asid)
{
    return e->exec_side == (access == REF_EXEC) && covers(e, tag_va) &&
           (e->global || e->asid == asid) && (r->sctlr & 1);
}

/* The answer the entry gives now; false if it cannot answer (a write that
 * needs the dirty-state update). */
static bool entry_answer(const ref_a64_tlb_entry_t *e, const ref_a64_regs_t *r, uint64_t va,
                         int access, ref_a64_answer_t *ans)
{
    if (!ref_a64_check_permission(e->perm_ap2, e->perm_ap1, e->perm_xn, e->perm_pxn, r, access)) {
        ans->fault = REF_A64_PERMISSION;
        ans->level = e->level;
        ans->pa = 0;
        return true;
    }
    if (access == REF_WRITE && e->dirty_pending)
        return false;
    ans->fault = REF_A64_NO_FAULT;
    ans->level = e->level;
    ans->pa = e->oa_base | (va & ((UINT64_C(1) << e->blocksize_shift) - 1));
    return true;
}

static bool answers_equal(const ref_a64_answer_t *a, const ref_a64_answer_t *b)
{
    if (a->fault != b->fault)
        return false;
    if (a->fault == REF_A64_NO_FAULT)
        return a->pa == b->pa;
    return a->level == b->level;
}

bool ref_a64_tlb_covers(const ref_a64_tlb_t *t, const ref_a64_regs_t *r, uint64_t va, int access)
{
    uint64_t tag = ref_a64_tag_va(r, va);
    uint16_t asid = ref_a64_current_asid(r);
    for (int k = 0; k < t->n; k++)
        if (entry_matches(&t->e[k], r, tag, access, asid))
            return true;
    return false;
}

bool ref_a64_tlb_hit_legal(const ref_a64_tlb_t *t, const ref_a64_regs_t *r, uint64_t va,
                           int access, const ref_a64_answer_t *got)
{
    uint64_t tag = ref_a64_tag_va(r, va);
    uint16_t asid = ref_a64_current_asid(r);
    for (int k = 0; k < t->n; k++) {
        const ref_a64_tlb_entry_t *e = &t->e[k];
        ref_a64_answer_t a;
        if (entry_matches(e, r, tag, access, asid) && entry_answer(e, r, va, access, &a) &&
            answers_equal(&a, got))
            return true;
    }
    return false;
}

bool ref_a64_tlb_legal(const ref_a64_tlb_t *t, const ref_a64_regs_t *r, uint64_t va, int access,
                       const ref_a64_walk_t *fresh, const ref_a64_answer_t *got)
{
    ref_a64_answer_t f = { fresh->fault, fresh->level, fresh->pa };
    if (answers_equal(&f, got))
        return true;
    return ref_a64_tlb_hit_legal(t, r, va, access, got);
}

void ref_a64_tlb_print_covering(const ref_a64_tlb_t *t, const ref_a64_regs_t *r, uint64_t va,
                                void *FILE_stream)
{
    FILE *f = FILE_stream ? (FILE *)FILE_stream : stderr;
    uint64_t tag = ref_a64_tag_va(r, va);
    int shown = 0;
    for (int k = 0; k < t->n; k++) {
        const ref_a64_tlb_entry_t *e = &t->e[k];
        if (!covers(e, tag))
            continue;
        fprintf(f,
                "  remembered %s entry: tag-va=0x%llx size=2^%d level=%d asid=%u%s oa=0x%llx "
                "AP[2:1]=%d%d xn=%d pxn=%d%s desc@0x%llx=0x%016llx\n",
                e->exec_side ? "ITLB" : "DTLB", (unsigned long long)e->tag_va, e->blocksize_shift,
                e->level, e->asid, e->global ? " global" : "", (unsigned long long)e->oa_base,
                e->perm_ap2, e->perm_ap1, e->perm_xn, e->perm_pxn,
                e->dirty_pending ? " writable-clean" : "", (unsigned long long)e->descaddr,
                (unsigned long long)e->desc);
        shown++;
    }
    if (!shown)
        fprintf(f, "  (no remembered entry covers tag-va 0x%llx)\n", (unsigned long long)tag);
}

bool ref_a64_tlb_remembers(const ref_a64_tlb_t *t, bool exec_side, uint64_t page_va,
                           unsigned shift, uint64_t page_pa, bool global, uint16_t asid)
{
    for (int k = 0; k < t->n; k++) {
        const ref_a64_tlb_entry_t *r = &t->e[k];
        const uint64_t mask = (UINT64_C(1) << r->blocksize_shift) - 1;
        if (r->exec_side != exec_side || shift != (unsigned)r->blocksize_shift ||
            page_va != (r->tag_va & ~mask) || page_pa != (r->oa_base & ~mask))
            continue;
        if (global ? r->global : (r->global || r->asid == asid))
            return true;
    }
    return false;
}
