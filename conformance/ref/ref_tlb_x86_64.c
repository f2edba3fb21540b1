/*
 * ref_tlb_x86_64.c - the staleness-aware TLB oracle for x86-64 paging: which
 * answers a core may legally give when its TLB still holds translations
 * that no longer match the paging structures in memory.
 *
 * Why: SDM 4.10.2.1/4.10.2.3 let a processor use a TLB entry "even if
 * software subsequently modifies the relevant paging-structure entries in
 * memory", until an operation of 4.10.4.1 invalidates it. A checker that
 * compares with a fresh walk only cries wolf; one that accepts anything
 * after a change misses the TLB bugs. So this file remembers every
 * translation the core may hold and answers "is this one of the permitted
 * answers?".
 *
 * What an entry holds (4.10.2.2): the page frame; the access rights
 * combined over the walk (AND of R/W, AND of U/S, OR of XD); the protection
 * key; the dirty flag of the entry that maps the page; the PCID current
 * when it was made (4.10.1: "any TLB entries created by a logical processor
 * are associated with the current PCID"); whether it is global (G = 1 in
 * the entry that maps the page with CR4.PGE = 1, 4.10.2.4); its page size
 * (one entry per 4K/2M/1G page); the side (vmmem's TLBs are split: ITLB for
 * fetches, DTLB for loads and stores).
 *
 * When an entry may answer (ref_x86_tlb_legal): a canonical VA (the #GP
 * check comes before any translation: a non-canonical VA has exactly one
 * answer), paging on, the same side, the VA in its page (compared on all 64
 * bits), its PCID current or the entry global ("the processor may use a
 * global TLB entry ... even if the TLB entry is associated with a PCID
 * different from the current PCID"). Its answer is its rights re-checked
 * under the CURRENT CPL, CR0.WP, CR4.SMEP/SMAP/PKE, RFLAGS.AC, EFER.NXE and
 * PKRU (4.10.2.2 lists only the rights from the paging-structure entries as
 * cached; vmmem applies the registers on every access): a violation is a
 * page fault with its error code, else the frame plus the VA's offset -
 * except that an entry whose D is 0 never answers a write: 4.8 requires D
 * to be set in memory on a write, so the core must walk (accepting the
 * cached answer would hide BUG-CLASSES 2).
 *
 * What is remembered: the translation of every successful walk the core
 * may have done (the harness calls ref_x86_tlb_record when the core walked,
 * or its answer equals the fresh one), after its own A/D update. Failed
 * walks are not remembered (4.10.2.3: "there can be a TLB entry ... only if
 * the P flag is 1 and the reserved bits are 0 in each of the
 * paging-structure entries"; vmmem caches no faults, and a page fault
 * invalidates the page's entries in the current PCID anyway).
 *
 * What is dropped: exactly what 4.10.4.1 says each operation invalidates,
 * no more (the core may keep everything else; "the processor is always
 * free to invalidate additional entries", so a core that drops more is
 * never wrong):
 *   - INVLPG: the page's entries of the current PCID, and global entries
 *     for that page whatever their PCID;
 *   - INVPCID 0: the non-global entries of the page in the given PCID;
 *     1: the non-global entries of the PCID; 2: everything; 3: every
 *     non-global entry (with CR4.PCIDE = 0 only PCID 000H exists);
 *   - MOV to CR3: PCIDE = 0: the non-global entries of PCID 000H; PCIDE = 1
 *     with bit 63 = 0: the non-global entries of the PCID in bits 11:0 of
 *     the new value; bit 63 = 1: nothing;
 *   - MOV to CR0: CR0.PG 1 -> 0: everything;
 *   - MOV to CR4: a change of CR4.PGE, or CR4.PCIDE 1 -> 0: everything; a
 *     change of CR4.PAE, or CR4.SMEP 0 -> 1: the entries of the current
 *     PCID (global ones included);
 *   - a page fault: the entries for the faulting page in the current PCID;
 *   - vmmem's generic flushes (vm_mmu_flush_tlb*): as their contracts say.
 * Writes the architecture cannot make while paging is on - CR4.LA57 or
 * EFER.LME changing while CR0.PG stays 1, possible only through vmmem's
 * register block - are modelled as the only way hardware could make them:
 * through CR0.PG = 0, so they drop everything (without that, a 4-level
 * entry could answer under 5-level paging). EFER.NXE (WRMSR), MAXPHYADDR
 * (not a register on hardware), CR0.WP, CR4.SMAP/PKE, RFLAGS.AC, PKRU and
 * CPL drop nothing: the first is not an invalidating operation in 4.10.4.1
 * and the rest are applied live.
 *
 * Deliberately tighter than the SDM, because vmmem does none of it and
 * allowing it would hide bugs: paging-structure caches (partial walks from
 * stale upper entries), cached faults, a unified I/D TLB, entries never
 * walked, and using an entry whose D update succeeds in memory on a stale
 * path.
 *
 * Bounded table: REF_X86_TLB_MAX entries, oldest dropped first; a dropped
 * entry can only cause a false alarm, never hide a bug (as ref_tlb.c).
 *
 * Rejected: modelling the core's replacement policy (a second tlb.c); a
 * set of allowed PAs without rights (cannot re-check a CPL/WP/SMAP/PKRU
 * change).
 */
#include "ref_x86_64.h"

#include <stdio.h>
#include <string.h>

static bool reg_bit(uint64_t v, unsigned n) { return (v >> n) & 1; }

static bool covers(const ref_x86_tlb_entry_t *e, uint64_t va)
{
    /* The full 64-bit VA (BUG-CLASSES 8: a truncated tag lets a high-half
     * flush miss, or a non-canonical alias hit). */
    return (e->va >> e->page_shift) == (va >> e->page_shift);
}

void ref_x86_tlb_reset(ref_x86_tlb_t *t)
{
    t->n = 0;
}

static void drop_at(ref_x86_tlb_t *t, int k)
{
    memmove(&t->e[k], &t->e[k + 1], (size_t)(t->n - k - 1) * sizeof t->e[0]);
    t->n--;
}

void ref_x86_tlb_record(ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va, int access,
                        const ref_x86_walk_t *w)
{
    if (w->outcome != REF_X86_OK || !w->paging || !w->translated || w->n_steps == 0)
        return;
    ref_x86_tlb_entry_t ne;
    memset(&ne, 0, sizeof ne);
    ne.exec_side = access == REF_EXEC;
    ne.va = va;
    ne.page_shift = w->page_shift;
    ne.level = w->level;
    ne.levels = w->levels;
    ne.pcid = ref_x86_current_pcid(r);
    ne.global = w->g && reg_bit(r->cr4, REF_X86_CR4_PGE);          /* 4.10.2.4: G with CR4.PGE = 1 */
    ne.page_base = w->page_base;
    ne.rights = w->rights;
    ne.leaf_addr = w->entry_addr;
    ne.leaf = w->entry;
    for (int j = 0; j < w->n_ad; j++)
        if (w->ad[j].addr == w->entry_addr)
            ne.leaf = w->ad[j].updated;
    ne.dirty = (ne.leaf >> 6) & 1;

    for (int k = 0; k < t->n; k++) {
        const ref_x86_tlb_entry_t *e = &t->e[k];
        if (e->exec_side == ne.exec_side && e->page_shift == ne.page_shift &&
            e->pcid == ne.pcid && e->global == ne.global && e->page_base == ne.page_base &&
            e->dirty == ne.dirty && e->rights.rw == ne.rights.rw && e->rights.us == ne.rights.us &&
            e->rights.xd == ne.rights.xd && e->rights.pkey == ne.rights.pkey && covers(e, va)) {
            drop_at(t, k);          /* re-added below as the newest */
            break;
        }
    }
    if (t->n == REF_X86_TLB_MAX)
        drop_at(t, 0);
    t->e[t->n++] = ne;
}

/* Keep the entries for which drop() is false, in order. */
typedef struct drop_rule {
    bool any_pcid;       /* else only entries of `pcid` ... */
    uint16_t pcid;
    bool globals_too;    /* global entries of that PCID go too */
    bool other_globals;  /* global entries of other PCIDs go too */
    bool page_only;      /* only entries covering va */
    uint64_t va;
} drop_rule_t;

static bool rule_drops(const drop_rule_t *d, const ref_x86_tlb_entry_t *e)
{
    if (d->page_only && !covers(e, d->va))
        return false;
    if (d->any_pcid)
        return !e->global || d->globals_too;
    if (e->pcid == d->pcid)
        return !e->global || d->globals_too;
    return e->global && d->other_globals;
}

static void apply_rule(ref_x86_tlb_t *t, const drop_rule_t *d)
{
    int out = 0;
    for (int k = 0; k < t->n; k++)
        if (!rule_drops(d, &t->e[k]))
            t->e[out++] = t->e[k];
    t->n = out;
}

void ref_x86_tlb_flush_all(ref_x86_tlb_t *t)
{
    t->n = 0;
}

void ref_x86_tlb_flush_pcid(ref_x86_tlb_t *t, uint16_t pcid)
{
    drop_rule_t d = { .pcid = pcid };
    apply_rule(t, &d);
}

void ref_x86_tlb_flush_page(ref_x86_tlb_t *t, uint64_t va)
{
    drop_rule_t d = { .any_pcid = true, .globals_too = true, .page_only = true, .va = va };
    apply_rule(t, &d);
}

void ref_x86_tlb_flush_page_pcid(ref_x86_tlb_t *t, uint64_t va, uint16_t pcid,
                                 bool include_global)
{
    /* mmu.h: "Drop the entries covering va tagged with asid, and the
     * global entries covering va too when include_global". */
    drop_rule_t d = { .pcid = pcid, .globals_too = include_global, .other_globals = include_global,
                      .page_only = true, .va = va };
    apply_rule(t, &d);
}

void ref_x86_tlb_flush_nonglobal(ref_x86_tlb_t *t)
{
    drop_rule_t d = { .any_pcid = true };
    apply_rule(t, &d);
}

void ref_x86_tlb_invlpg(ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va)
{
    /* 4.10.4.1 INVLPG: "invalidates any TLB entries that are for a page
     * number corresponding to the linear address and that are associated
     * with the current PCID. It also invalidates any global TLB entries
     * with that page number, regardless of PCID." */
    ref_x86_tlb_flush_page_pcid(t, va, ref_x86_current_pcid(r), true);
}

bool ref_x86_invpcid_ok(const ref_x86_regs_t *r, int type, uint64_t pcid, uint64_t va)
{
    /* x86_64.h (from SDM Vol. 2 INVPCID): type 0..3; the descriptor's
     * bits 63:12 zero; types 0 and 1 "allowed only if the PCID ... is
     * 000H" when CR4.PCIDE = 0; type 0 needs a canonical linear address. */
    if (type < 0 || type > 3 || pcid > 0xfff)
        return false;
    if ((type == 0 || type == 1) && !reg_bit(r->cr4, REF_X86_CR4_PCIDE) && pcid != 0)
        return false;
    if (type == 0 && !ref_x86_canonical(r, va))
        return false;
    return true;
}

void ref_x86_tlb_invpcid(ref_x86_tlb_t *t, int type, uint16_t pcid, uint64_t va)
{
    switch (type) {
    case 0: { /* individual address: "mappings—except global translations—for the
                 linear address and PCID specified" */
        drop_rule_t d = { .pcid = pcid, .page_only = true, .va = va };
        apply_rule(t, &d);
        break;
    }
    case 1: /* single context: everything of the PCID except global translations */
        ref_x86_tlb_flush_pcid(t, pcid);
        break;
    case 2: /* all contexts, including global translations */
        ref_x86_tlb_flush_all(t);
        break;
    case 3: /* all contexts, except global translations */
        ref_x86_tlb_flush_nonglobal(t);
        break;
    default:
        break;
    }
}

void ref_x86_tlb_write_regs(ref_x86_tlb_t *t, const ref_x86_regs_t *prev,
                            const ref_x86_regs_t *next, bool cr3_load, bool cr3_bit63)
{
    bool pg_before = reg_bit(prev->cr0, REF_X86_CR0_PG), pg_after = reg_bit(next->cr0, REF_X86_CR0_PG);

    /* MOV to CR0: "invalidates all TLB entries (including global entries)
     * ... if it changes the value of CR0.PG from 1 to 0". */
    if (pg_before && !pg_after) {
        ref_x86_tlb_flush_all(t);
        return;
    }
    /* Changes hardware allows only with paging off (MOV to CR4 cannot
     * change LA57 in IA-32e mode; WRMSR cannot change LME with paging on):
     * modelled as made through CR0.PG = 0. */
    if (pg_before && pg_after &&
        (reg_bit(prev->cr4, REF_X86_CR4_LA57) != reg_bit(next->cr4, REF_X86_CR4_LA57) ||
         reg_bit(prev->efer, REF_X86_EFER_LME) != reg_bit(next->efer, REF_X86_EFER_LME))) {
        ref_x86_tlb_flush_all(t);
        return;
    }
    /* MOV to CR4: "invalidates all TLB entries (including global entries)
     * ... if (1) it changes the value of CR4.PGE; or (2) it changes the
     * value of the CR4.PCIDE from 1 to 0." */
    if (reg_bit(prev->cr4, REF_X86_CR4_PGE) != reg_bit(next->cr4, REF_X86_CR4_PGE) ||
        (reg_bit(prev->cr4, REF_X86_CR4_PCIDE) && !reg_bit(next->cr4, REF_X86_CR4_PCIDE))) {
        ref_x86_tlb_flush_all(t);
        return;
    }
    /* "... invalidates all TLB entries ... for the current PCID if (1) it
     * changes the value of CR4.PAE; or (2) it changes the value of
     * CR4.SMEP from 0 to 1." (PCIDE does not go 1 -> 0 here, and turning
     * it on needs CR3[11:0] = 0, so the current PCID is the same before
     * and after.) */
    if (reg_bit(prev->cr4, REF_X86_CR4_PAE) != reg_bit(next->cr4, REF_X86_CR4_PAE) ||
        (!reg_bit(prev->cr4, REF_X86_CR4_SMEP) && reg_bit(next->cr4, REF_X86_CR4_SMEP))) {
        drop_rule_t d = { .pcid = ref_x86_current_pcid(next), .globals_too = true };
        apply_rule(t, &d);
    }
    /* MOV to CR3: "If CR4.PCIDE = 0, the instruction invalidates all TLB
     * entries associated with PCID 000H except those for global pages. If
     * CR4.PCIDE = 1 and bit 63 of the instruction's source operand is 0,
     * the instruction invalidates all TLB entries associated with the PCID
     * specified in bits 11:0 of the instruction's source operand except
     * those for global pages ... If CR4.PCIDE = 1 and bit 63 ... is 1, the
     * instruction is not required to invalidate any TLB entries". */
    if (cr3_load) {
        bool pcide = reg_bit(next->cr4, REF_X86_CR4_PCIDE);
        if (!pcide)
            ref_x86_tlb_flush_pcid(t, 0);
        else if (!cr3_bit63)
            ref_x86_tlb_flush_pcid(t, (uint16_t)(next->cr3 & 0xfff));
    }
}

void ref_x86_tlb_page_fault(ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va)
{
    /* 4.10.4.1: "a page-fault exception resulting from an attempt to use a
     * linear address will invalidate any TLB entries that are for a page
     * number corresponding to that linear address and that are associated
     * with the current PCID." Global entries of other PCIDs stay. */
    drop_rule_t d = { .pcid = ref_x86_current_pcid(r), .globals_too = true, .page_only = true,
                      .va = va };
    apply_rule(t, &d);
}

/* May entry e be used for this access now (before its answer is computed)? */
static bool usable(const ref_x86_tlb_entry_t *e, const ref_x86_regs_t *r, uint64_t va,
                   int access)
{
    if (e->exec_side != (access == REF_EXEC) || !covers(e, va))
        return false;
    return e->global || e->pcid == ref_x86_current_pcid(r);
}

bool ref_x86_tlb_covers(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va,
                        int access)
{
    if (!ref_x86_paging(r) || !ref_x86_canonical(r, va))
        return false;
    for (int k = 0; k < t->n; k++)
        if (usable(&t->e[k], r, va, access))
            return true;
    return false;
}

/*
 * The answer entry e gives now: its rights re-checked under the current
 * registers (4.6), a page fault with the error code if refused. False when
 * it cannot answer: a write through an entry whose D is 0 needs the D
 * update in memory (4.8), so only a walk may answer it.
 */
static bool entry_answer(const ref_x86_tlb_entry_t *e, const ref_x86_regs_t *r, uint64_t va,
                         int access, ref_x86_answer_t *a)
{
    uint32_t denied = ref_x86_check_rights(r, &e->rights, access, NULL);
    memset(a, 0, sizeof *a);
    if (denied) {
        a->outcome = REF_X86_PAGE_FAULT;
        a->pfec = denied;
        return true;
    }
    if (access == REF_WRITE && !e->dirty)
        return false;
    a->outcome = REF_X86_OK;
    a->pa = e->page_base | (va & ((UINT64_C(1) << e->page_shift) - 1));
    return true;
}

static bool same_answer(const ref_x86_answer_t *a, const ref_x86_answer_t *b)
{
    if (a->outcome != b->outcome)
        return false;
    if (a->outcome == REF_X86_OK)
        return a->pa == b->pa;
    if (a->outcome == REF_X86_PAGE_FAULT)
        return a->pfec == b->pfec;
    return true;
}

bool ref_x86_tlb_hit_legal(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va,
                           int access, const ref_x86_answer_t *got)
{
    if (!ref_x86_paging(r) || !ref_x86_canonical(r, va))
        return false;
    for (int k = 0; k < t->n; k++) {
        const ref_x86_tlb_entry_t *e = &t->e[k];
        ref_x86_answer_t a;
        if (usable(e, r, va, access) && entry_answer(e, r, va, access, &a) && same_answer(&a, got))
            return true;
    }
    return false;
}

bool ref_x86_tlb_legal(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va,
                       int access, const ref_x86_walk_t *fresh, const ref_x86_answer_t *got)
{
    ref_x86_answer_t f = { fresh->outcome, fresh->pa, fresh->pfec };
    if (same_answer(&f, got))
        return true;
    return ref_x86_tlb_hit_legal(t, r, va, access, got);
}

int ref_x86_tlb_answers(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va, int access,
                        const ref_x86_walk_t *fresh, ref_x86_answer_t *out, int max)
{
    int n = 0;
    ref_x86_answer_t f = { fresh->outcome, fresh->pa, fresh->pfec };
    if (max > 0)
        out[0] = f;
    n = 1;
    if (!ref_x86_paging(r) || !ref_x86_canonical(r, va))
        return n;
    for (int k = 0; k < t->n; k++) {
        ref_x86_answer_t a;
        if (!usable(&t->e[k], r, va, access) || !entry_answer(&t->e[k], r, va, access, &a))
            continue;
        bool seen = false;
        for (int j = 0; j < n && j < max; j++)
            seen = seen || same_answer(&out[j], &a);
        if (seen)
            continue;
        if (n < max)
            out[n] = a;
        n++;
    }
    return n;
}

void ref_x86_tlb_print_covering(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va,
                                void *FILE_stream)
{
    FILE *f = FILE_stream ? (FILE *)FILE_stream : stderr;
    int shown = 0;
    for (int k = 0; k < t->n; k++) {
        const ref_x86_tlb_entry_t *e = &t->e[k];
        if (!covers(e, va))
            continue;
        fprintf(f, "  remembered %s entry: va=0x%llx %s pcid=%u%s base=0x%llx %s %s %s pkey=%u "
                   "D=%d leaf@0x%llx=0x%016llx%s\n",
                e->exec_side ? "ITLB" : "DTLB", (unsigned long long)e->va,
                e->page_shift == 30 ? "1G" : e->page_shift == 21 ? "2M" : "4K", e->pcid,
                e->global ? " global" : "", (unsigned long long)e->page_base,
                e->rights.rw ? "RW" : "RO", e->rights.us ? "user" : "supervisor",
                e->rights.xd ? "XD" : "X", e->rights.pkey, e->dirty,
                (unsigned long long)e->leaf_addr, (unsigned long long)e->leaf,
                e->global || e->pcid == ref_x86_current_pcid(r) ? "" : " (other PCID: unusable)");
        shown++;
    }
    if (!shown)
        fprintf(f, "  (no remembered TLB entry covers 0x%llx)\n", (unsigned long long)va);
}

bool ref_x86_tlb_remembers(const ref_x86_tlb_t *t, bool exec_side, uint64_t page_va,
                           unsigned shift, uint64_t page_pa, bool global, uint16_t pcid)
{
    for (int k = 0; k < t->n; k++) {
        const ref_x86_tlb_entry_t *r = &t->e[k];
        const uint64_t mask = (UINT64_C(1) << r->page_shift) - 1;
        if (r->exec_side != exec_side || shift != (unsigned)r->page_shift ||
            page_va != (r->va & ~mask) || page_pa != r->page_base)
            continue;
        if (global ? r->global : (r->global || r->pcid == pcid))
            return true;
    }
    return false;
}
