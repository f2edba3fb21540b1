/*
 * ref_rv.c - the reference RISC-V Sv39/Sv48/Sv57 translation.
 *
 * How it works: ref_rv_translate() is the Privileged spec's "Virtual
 * Address Translation Process" (supervisor.adoc, the numbered steps 1-10 of
 * the current text; older texts number them 1-8 with no shadow-stack step),
 * transcribed one step at a time in the spec's own names: a, i, LEVELS,
 * PTESIZE, pte, va.vpn[i], pte.ppn[i]. The Sv39/Sv48/Sv57 sections only
 * change LEVELS (3/4/5) and the VA width (39/48/57 bits), with PTESIZE 8
 * and PAGESIZE 4096 throughout, so one loop serves all three.
 *
 * It is deliberately slow and obvious: each PTE is assembled from eight
 * byte reads of m->ram (little-endian), there is no cache of any kind, and
 * nothing is shared with core/ (this file sees only ref_model.h and libc),
 * so a misreading of the spec in the core cannot be copied here.
 *
 * Choices, each a configuration the spec allows and vmmem implements:
 *  - no Svnapot, no Svpbmt: PTE bits 63:54 are all reserved (a set bit is a
 *    page fault, step 3); RSW (9:8) is ignored as the spec demands;
 *  - page tables live in RAM only: a PTE address not wholly inside
 *    [m->base, m->base + m->size) is the PMA violation of step 2 (access fault); MMIO
 *    regions never hold page tables;
 *  - no shadow stacks (Zicfiss), so step 7 never fires;
 *  - A/D: Svadu (hardware update, step 9's atomic compare-and-store, which
 *    in a single-threaded model always succeeds) or Svade (page fault);
 *  - M-mode and Bare are the identity (satp is not active in M-mode, step 1;
 *    no MPRV).
 *
 * Rejected: sharing a bitfield struct for PTEs with the core (it would hide
 * the bugs both read the same way); a table-driven walker (the point here
 * is that a reader can hold it next to the spec text and tick off steps).
 */
#include "ref_model.h"

#include <stdio.h>

#define PAGESIZE 4096u
#define PTESIZE 8u

/* PTE fields (Sv39 page table entry figure; same in Sv48/Sv57). */
static bool pte_v(uint64_t pte) { return (pte >> 0) & 1; }
static bool pte_r(uint64_t pte) { return (pte >> 1) & 1; }
static bool pte_w(uint64_t pte) { return (pte >> 2) & 1; }
static bool pte_x(uint64_t pte) { return (pte >> 3) & 1; }
static bool pte_u(uint64_t pte) { return (pte >> 4) & 1; }
static bool pte_g(uint64_t pte) { return (pte >> 5) & 1; }
static bool pte_a(uint64_t pte) { return (pte >> 6) & 1; }
static bool pte_d(uint64_t pte) { return (pte >> 7) & 1; }
/* pte.ppn: bits 53:10, 44 bits. */
static uint64_t pte_ppn(uint64_t pte) { return (pte >> 10) & ((UINT64_C(1) << 44) - 1); }
/* Bits 63:54: N (Svnapot), PBMT (Svpbmt), reserved; all reserved here. */
static uint64_t pte_high_bits(uint64_t pte) { return pte >> 54; }

/* va.vpn[i]: 9 bits each, starting at bit 12. */
static uint64_t va_vpn(uint64_t va, int i) { return (va >> (12 + 9 * i)) & 0x1ff; }

/* Read the 8-byte PTE at pa from RAM ([base, base + size)), one byte at a
 * time, little-endian. */
static bool read_pte(const ref_mem_t *m, uint64_t pa, uint64_t *pte)
{
    if (!ref_mem_in_ram(m, pa, PTESIZE))
        return false;
    uint64_t v = 0;
    for (unsigned k = 0; k < PTESIZE; k++)
        v |= (uint64_t)m->ram[pa - m->base + k] << (8 * k);
    *pte = v;
    return true;
}

static void write_pte(ref_mem_t *m, uint64_t pa, uint64_t pte)
{
    for (unsigned k = 0; k < PTESIZE; k++)
        m->ram[pa - m->base + k] = (uint8_t)(pte >> (8 * k));
}

static void fault(ref_rv_walk_t *out, int outcome, const char *why)
{
    out->outcome = outcome;
    out->pa = 0;
    out->why = why;
}

/*
 * Step 6 (U bit, privilege, SUM) and step 8 (R/W/X, MXR) for a leaf. Both
 * raise a page fault, so their order does not show; returns NULL when the
 * access is allowed, else the reason.
 */
static const char *leaf_permission(uint64_t pte, const ref_rv_state_t *s, int access)
{
    /* Step 6. "U-mode software may only access the page when U=1. If the
     * SUM bit is set, supervisor mode software may also access pages with
     * U=1 ... Irrespective of SUM, the supervisor may not execute code on
     * pages with U=1." */
    if (s->priv == 0 && !pte_u(pte))
        return "step 6: U-mode access to a page with U=0";
    if (s->priv == 1 && pte_u(pte)) {
        if (access == REF_EXEC)
            return "step 6: S-mode fetch from a U=1 page (never allowed, whatever SUM)";
        if (!s->sum)
            return "step 6: S-mode access to a U=1 page with SUM=0";
    }
    /* Step 8. Fetch needs X; load needs R, or X when MXR=1; store needs W. */
    switch (access) {
    case REF_EXEC:
        if (!pte_x(pte))
            return "step 8: fetch from a page with X=0";
        break;
    case REF_READ:
        if (!pte_r(pte) && !(s->mxr && pte_x(pte)))
            return s->mxr ? "step 8: load from a page with R=0 and X=0 (MXR=1)"
                          : "step 8: load from a page with R=0 (MXR=0)";
        break;
    default:
        if (!pte_w(pte))
            return "step 8: store to a page with W=0";
        break;
    }
    return NULL;
}

void ref_rv_translate(ref_mem_t *m, const ref_rv_state_t *s, uint64_t va, int access,
                      bool apply, ref_rv_walk_t *out)
{
    out->outcome = REF_OK;
    out->pa = 0;
    out->level = -1;
    out->pte_addr = 0;
    out->pte = 0;
    out->ad_write = false;
    out->ad_value = 0;
    out->n_steps = 0;
    out->why = NULL;

    /* Step 1: "The satp register must be active, i.e., the effective
     * privilege mode must be S-mode or U-mode." M-mode (no MPRV) and Bare
     * translate nothing: pa = va. */
    if (s->priv == 3 || s->levels == 0) {
        out->pa = va;
        return;
    }
    if (s->levels < 3 || s->levels > REF_MAX_LEVELS) {
        fault(out, REF_PAGE_FAULT, "unsupported LEVELS in the reference state");
        return;
    }

    const int LEVELS = s->levels;
    const int va_bits = 12 + 9 * LEVELS;   /* 39, 48, 57 */

    /* Sv39/Sv48/Sv57 "Addressing and Memory Protection": bits 63..VA_BITS
     * must all equal bit VA_BITS-1, "or else a page-fault exception will
     * occur". Arithmetic shift of the top bits: all 0 or all 1. */
    {
        uint64_t top = va >> (va_bits - 1);    /* bits 63..VA_BITS-1 */
        uint64_t ones = (UINT64_C(1) << (64 - (va_bits - 1))) - 1;
        if (top != 0 && top != ones) {
            fault(out, REF_PAGE_FAULT, "VA not canonical: bits 63..VA_BITS-1 differ (Sv39/48/57 addressing)");
            return;
        }
    }

    /* Step 1: a = satp.ppn x PAGESIZE, i = LEVELS-1. */
    uint64_t a = (s->root_ppn & ((UINT64_C(1) << 44) - 1)) * PAGESIZE;
    int i = LEVELS - 1;
    uint64_t pte = 0, pte_addr = 0;

    for (;;) {
        /* Step 2: pte = the PTE at a + va.vpn[i] x PTESIZE; a PMA/PMP
         * violation (here: not wholly in RAM) is an access fault. */
        pte_addr = a + va_vpn(va, i) * PTESIZE;
        ref_rv_step_t *st = &out->steps[out->n_steps++];
        st->i = i;
        st->a = a;
        st->pte_addr = pte_addr;
        st->pte = 0;
        out->level = i;
        out->pte_addr = pte_addr;
        out->pte = 0;
        if (!read_pte(m, pte_addr, &pte)) {
            fault(out, REF_ACCESS_FAULT, "step 2: PTE address outside RAM (PMA violation)");
            return;
        }
        st->pte = pte;
        out->pte = pte;

        /* Step 3: v=0, or r=0 and w=1, or any reserved bit or encoding set
         * -> page fault. Reserved: bits 63:54 (no Svnapot/Svpbmt); for a
         * non-leaf PTE also D, A and U ("For non-leaf PTEs, the D, A, and U
         * bits are reserved for future standard use"). */
        if (!pte_v(pte)) {
            fault(out, REF_PAGE_FAULT, "step 3: pte.v = 0");
            return;
        }
        if (!pte_r(pte) && pte_w(pte)) {
            fault(out, REF_PAGE_FAULT, "step 3: pte.r = 0 and pte.w = 1 (reserved encoding)");
            return;
        }
        if (pte_high_bits(pte) != 0) {
            fault(out, REF_PAGE_FAULT, "step 3: reserved PTE bits 63:54 set (no Svnapot/Svpbmt)");
            return;
        }
        bool leaf = pte_r(pte) || pte_x(pte);
        if (!leaf && (pte_d(pte) || pte_a(pte) || pte_u(pte))) {
            fault(out, REF_PAGE_FAULT, "step 3: D, A or U set in a non-leaf PTE (reserved)");
            return;
        }

        /* Step 4: r=1 or x=1 -> leaf, go to step 5. Otherwise a pointer:
         * i = i-1; i < 0 -> page fault; else a = pte.ppn x PAGESIZE. */
        if (leaf)
            break;
        i = i - 1;
        if (i < 0) {
            fault(out, REF_PAGE_FAULT, "step 4: pointer PTE at level 0 (i < 0)");
            return;
        }
        a = pte_ppn(pte) * PAGESIZE;
    }

    /* Step 5: i > 0 and pte.ppn[i-1:0] != 0 -> misaligned superpage. */
    if (i > 0) {
        uint64_t low_mask = (UINT64_C(1) << (9 * i)) - 1;   /* ppn[i-1:0] */
        if (pte_ppn(pte) & low_mask) {
            fault(out, REF_PAGE_FAULT, "step 5: misaligned superpage (pte.ppn[i-1:0] != 0)");
            return;
        }
    }

    /* Steps 6 and 8 (step 7, shadow stacks, does not apply). */
    const char *denied = leaf_permission(pte, s, access);
    if (denied) {
        fault(out, REF_PAGE_FAULT, denied);
        return;
    }

    /* Step 9: pte.a = 0, or a store and pte.d = 0. */
    if (!pte_a(pte) || (access == REF_WRITE && !pte_d(pte))) {
        if (!s->ad_hardware) {
            fault(out, REF_PAGE_FAULT, access == REF_WRITE && pte_a(pte)
                                           ? "step 9: Svade, store with pte.d = 0"
                                           : "step 9: Svade, pte.a = 0");
            return;
        }
        /* Svadu: the PTE (in RAM, checked in step 2) is stored back with A,
         * and D on a store, set. The compare-and-store cannot fail in a
         * sequential model. */
        uint64_t updated = pte | (UINT64_C(1) << 6);
        if (access == REF_WRITE)
            updated |= UINT64_C(1) << 7;
        out->ad_write = true;
        out->ad_value = updated;
        if (apply)
            write_pte(m, pte_addr, updated);
    }

    /* Step 10: pa.pgoff = va.pgoff; superpage: pa.ppn[i-1:0] =
     * va.vpn[i-1:0]; pa.ppn[LEVELS-1:i] = pte.ppn[LEVELS-1:i]. The PPN is
     * 44 bits in every mode, so pa is at most 56 bits. */
    uint64_t ppn = pte_ppn(pte);
    for (int j = 0; j < i; j++) {
        ppn &= ~((uint64_t)0x1ff << (9 * j));
        ppn |= va_vpn(va, j) << (9 * j);
    }
    out->outcome = REF_OK;
    out->pa = (ppn << 12) | (va & (PAGESIZE - 1));
}

/*
 * satp (SXLEN=64): MODE 63:60, ASID 59:44, PPN 43:0. MODE 0/8/9/10 =
 * Bare/Sv39/Sv48/Sv57. "If satp is written with an unsupported MODE, the
 * entire write has no effect; no fields in satp are modified."
 */
bool ref_rv_write_satp(ref_rv_state_t *s, uint64_t satp)
{
    int levels;
    switch (satp >> 60) {
    case 0: levels = 0; break;
    case 8: levels = 3; break;
    case 9: levels = 4; break;
    case 10: levels = 5; break;
    default: return false;
    }
    s->levels = levels;
    s->asid = (uint16_t)((satp >> 44) & 0xffff);
    s->root_ppn = satp & ((UINT64_C(1) << 44) - 1);
    return true;
}

static const char *access_name(int access)
{
    switch (access) {
    case REF_READ: return "read";
    case REF_WRITE: return "write";
    case REF_EXEC: return "exec";
    default: return "?";
    }
}

void ref_rv_walk_print(const ref_rv_walk_t *w, uint64_t va, int access, void *FILE_stream)
{
    FILE *f = FILE_stream ? (FILE *)FILE_stream : stderr;
    fprintf(f, "  walk: %s va=0x%llx\n", access_name(access), (unsigned long long)va);
    for (int k = 0; k < w->n_steps && k < REF_MAX_LEVELS; k++) {
        const ref_rv_step_t *st = &w->steps[k];
        uint64_t p = st->pte;
        bool failed_read = (k == w->n_steps - 1) && w->outcome == REF_ACCESS_FAULT;
        fprintf(f, "    L%d a=0x%llx pte@0x%llx=", st->i, (unsigned long long)st->a,
                (unsigned long long)st->pte_addr);
        if (failed_read) {
            fprintf(f, "(not in RAM)\n");
            continue;
        }
        fprintf(f, "0x%016llx [%c%c%c%c%c%c%c%c] ppn=0x%llx%s\n", (unsigned long long)p,
                pte_v(p) ? 'V' : '-', pte_r(p) ? 'R' : '-', pte_w(p) ? 'W' : '-',
                pte_x(p) ? 'X' : '-', pte_u(p) ? 'U' : '-', pte_g(p) ? 'G' : '-',
                pte_a(p) ? 'A' : '-', pte_d(p) ? 'D' : '-', (unsigned long long)pte_ppn(p),
                pte_high_bits(p) ? " (bits 63:54 set)" : "");
    }
    if (w->outcome == REF_OK) {
        fprintf(f, "    -> ok pa=0x%llx", (unsigned long long)w->pa);
        if (w->ad_write)
            fprintf(f, " (A/D update: pte@0x%llx := 0x%016llx)", (unsigned long long)w->pte_addr,
                    (unsigned long long)w->ad_value);
        fprintf(f, "\n");
    } else {
        fprintf(f, "    -> %s: %s\n", ref_outcome_name(w->outcome), w->why ? w->why : "");
    }
}
