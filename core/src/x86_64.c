/*
 * x86_64.c - x86-64 paging state of vm_mmu_t: the registers
 * (vm_mmu_set_x86_regs, vm_mmu_x86_load_cr3), the refresh of the derived
 * fields the generic MMU reads, and the TLB invalidations of SDM Vol. 3A
 * 4.10.4 (INVLPG, INVPCID, the control-register writes, page faults).
 *
 * How it works
 *   The registers are kept as the guest wrote them (vmmem/x86_64.h), with
 *   EFER.LMA recomputed and CR3 bit 63 stripped. A write is validated as a
 *   whole against the new state (so a call either happens completely or
 *   not at all), then stored, then the invalidations the changed
 *   registers imply are applied, then x86_refresh recomputes identity
 *   (CR0.PG = 0), the address-space tag (the current PCID, 4.10.1) and the
 *   permission bit of the current context (x86_64_int.h: CPL 3, CR0.WP,
 *   CR4.SMEP, CR4.SMAP without RFLAGS.AC). Because that context is read on
 *   every access and TLB entries hold a vector over all 16 contexts, a
 *   change of CPL, WP, SMEP, SMAP or AC needs no flush. CR4.PKE and PKRU
 *   are folded into the vectors of user-mode leaves at fill; those leaves
 *   are flagged TLB_F_PKEY and dropped when PKE or PKRU changes, so the
 *   guest still sees the change on its next access without flushing.
 *
 *   Invalidations (4.10.4.1 lists what an instruction must invalidate; "the
 *   processor is always free to invalidate additional entries"):
 *     - MOV to CR3: the non-global entries of the new PCID (with CR4.PCIDE
 *       = 0 every entry is PCID 000H), none when CR4.PCIDE = 1 and bit 63
 *       of the operand is 1;
 *     - everything when CR0.PG, CR4.PGE, CR4.PAE, CR4.LA57, EFER.LME,
 *       EFER.NXE or MAXPHYADDR change, CR4.PCIDE goes 1 -> 0 or CR4.SMEP
 *       goes 0 -> 1 (the SDM asks for less for PG 0 -> 1, PAE and SMEP -
 *       the current PCID - and nothing for LA57/LME/NXE, which cannot change
 *       under 4-level paging by MOV/WRMSR; vmmem lets a register block
 *       change them, and whole flushes keep every cached vector and tag
 *       consistent with the new geometry);
 *     - INVLPG: the page in the current PCID and global entries for it;
 *       INVPCID types 0-3 as Vol. 2 describes them;
 *     - a page fault: the faulting page in the current PCID (4.10.4.1,
 *       "page faults invalidate entries"), global entries for it too.
 *   The invalidations of a register write apply only while the MMU is in
 *   VM_PAGING_X86_64: in another mode the TLBs hold that mode's entries,
 *   and entering x86-64 mode flushes both TLBs anyway (mmu.h).
 *
 * What was rejected
 *   - Flushing both TLBs on every register write: correct, but a CPL or AC
 *     change happens on every system call and SMAP window; the permission
 *     vector makes those free.
 *   - Validating register by register in instruction order (MOV to CR4,
 *     then CR3, ...): the result of a call would depend on an order the
 *     caller never chose. The whole-state check is documented per rule in
 *     vmmem/x86_64.h.
 */
#include "mmu_int.h"

static bool x86_paging_on(const vm_x86_regs_t *r)
{
    return (r->cr0 & VM_X86_CR0_PG) != 0;
}

static bool x86_pcide(const vm_x86_regs_t *r)
{
    return (r->cr4 & VM_X86_CR4_PCIDE) != 0;
}

/* Bits 62:MAXPHYADDR of CR3, which MOV to CR3 refuses (#GP). */
static uint64_t x86_cr3_reserved(unsigned maxphyaddr)
{
    return ~((UINT64_C(1) << maxphyaddr) - 1) & ~VM_X86_CR3_NOFLUSH;
}

/*
 * The #GP conditions of the register-writing instructions, checked on the
 * whole new state n (old = the current one); noflush = bit 63 was given
 * with CR3. VM_ERR_INVALID_ARGUMENT for what hardware refuses,
 * VM_ERR_UNSUPPORTED for legacy paging modes vmmem does not implement.
 */
static vm_err_t x86_check(const vm_x86_regs_t *old, const vm_x86_regs_t *n, bool noflush)
{
    if (n->cpl > 3)
        return VM_ERR_INVALID_ARGUMENT;
    if (n->maxphyaddr != 0 &&
        (n->maxphyaddr < X86_MAXPHYADDR_MIN || n->maxphyaddr > X86_MAXPHYADDR_DEFAULT))
        return VM_ERR_INVALID_ARGUMENT;
    /* MOV to CR3: "#GP(0) If an attempt is made to write a 1 to any
     * reserved bit in CR3" - bits 63:M with CR4.PCIDE = 0 (Table 4-12:
     * bit 63 is then reserved too), 62:M with CR4.PCIDE = 1 (bit 63 is the
     * operand's no-flush bit, 4.10.4.1). */
    if ((n->cr3 & x86_cr3_reserved(x86_maxphyaddr(n))) != 0)
        return VM_ERR_INVALID_ARGUMENT;
    if (noflush && !x86_pcide(n))
        return VM_ERR_INVALID_ARGUMENT;
    /* MOV to CR0: "setting the PG flag when the PE flag is clear" is #GP. */
    if (x86_paging_on(n) && (n->cr0 & VM_X86_CR0_PE) == 0)
        return VM_ERR_INVALID_ARGUMENT;
    /* MOV to CR4 (4.10.1): CR4.PCIDE can be 1 only in IA-32e mode, and
     * cannot go 0 -> 1 while CR3[11:0] != 000H. */
    if (x86_pcide(n)) {
        if ((n->efer & VM_X86_EFER_LMA) == 0)
            return VM_ERR_INVALID_ARGUMENT;
        if (!x86_pcide(old) && (n->cr3 & VM_X86_CR3_PCID_MASK) != 0)
            return VM_ERR_INVALID_ARGUMENT;
    }
    /* 4.1.1: CR0.PG = 1 with CR4.PAE = 0 is 32-bit paging, with EFER.LME = 0
     * PAE paging - neither is implemented. */
    if (x86_paging_on(n) &&
        ((n->cr4 & VM_X86_CR4_PAE) == 0 || (n->efer & VM_X86_EFER_LME) == 0))
        return VM_ERR_UNSUPPORTED;
    return VM_OK;
}

/* EFER.LMA as hardware computes it: IA-32e mode = LME and paging (4.1.1). */
static uint64_t x86_efer_with_lma(uint64_t efer, uint64_t cr0)
{
    efer &= ~VM_X86_EFER_LMA;
    if ((efer & VM_X86_EFER_LME) != 0 && (cr0 & VM_X86_CR0_PG) != 0)
        efer |= VM_X86_EFER_LMA;
    return efer;
}

static void x86_flush_nonglobal_of(vm_mmu_t *mmu, const vm_x86_regs_t *r)
{
    if (x86_pcide(r)) {
        uint16_t pcid = x86_pcid(r);
        tlb_flush_asid(&mmu->itlb, pcid);
        tlb_flush_asid(&mmu->dtlb, pcid);
    } else {
        tlb_flush_nonglobal(&mmu->itlb);
        tlb_flush_nonglobal(&mmu->dtlb);
    }
}

static void x86_flush_pkey_leaves(vm_mmu_t *mmu)
{
    tlb_flush_flagged(&mmu->itlb, TLB_F_PKEY);
    tlb_flush_flagged(&mmu->dtlb, TLB_F_PKEY);
}

/* Does any of `bits` differ between a and b? */
static bool x86_changed(uint64_t a, uint64_t b, uint64_t bits)
{
    return ((a ^ b) & bits) != 0;
}

/*
 * The invalidations of writing n over old (SDM 4.10.4.1; the file comment
 * lists them). cr3_load: CR3 was loaded (MOV to CR3), noflush: with bit 63.
 */
static void x86_invalidate(vm_mmu_t *mmu, const vm_x86_regs_t *old, const vm_x86_regs_t *n,
                           bool cr3_load, bool noflush)
{
    const bool flush_all =
        x86_changed(old->cr0, n->cr0, VM_X86_CR0_PG) ||
        x86_changed(old->cr4, n->cr4, VM_X86_CR4_PGE | VM_X86_CR4_PAE | VM_X86_CR4_LA57) ||
        x86_changed(old->efer, n->efer, VM_X86_EFER_LME | VM_X86_EFER_NXE) ||
        x86_maxphyaddr(old) != x86_maxphyaddr(n) || (x86_pcide(old) && !x86_pcide(n)) ||
        ((old->cr4 & VM_X86_CR4_SMEP) == 0 && (n->cr4 & VM_X86_CR4_SMEP) != 0);
    if (flush_all) {
        mmu_flush_all(mmu);
        return;
    }
    if (cr3_load && !(x86_pcide(n) && noflush))
        x86_flush_nonglobal_of(mmu, n);
    /* Not an SDM invalidation: the vectors of user-mode leaves fold in
     * CR4.PKE and PKRU (walk_x86_64.c), so they are re-walked. */
    const bool pke = (n->cr4 & VM_X86_CR4_PKE) != 0;
    if (x86_changed(old->cr4, n->cr4, VM_X86_CR4_PKE) || (pke && old->pkru != n->pkru))
        x86_flush_pkey_leaves(mmu);
}

/* Validate, store, invalidate, refresh. */
static vm_err_t x86_write(vm_mmu_t *mmu, vm_x86_regs_t n, bool cr3_load, bool noflush)
{
    n.efer = x86_efer_with_lma(n.efer, n.cr0);
    const vm_x86_regs_t old = mmu->x86.regs;
    vm_err_t err = x86_check(&old, &n, noflush);
    if (err != VM_OK)
        return err;
    mmu->x86.regs = n;
    if (mmu->mode == VM_PAGING_X86_64)
        x86_invalidate(mmu, &old, &n, cr3_load, noflush);
    mmu_refresh(mmu);
    return VM_OK;
}

vm_err_t vm_mmu_set_x86_regs(vm_mmu_t *mmu, const vm_x86_regs_t *regs)
{
    if (!mmu || !regs)
        return VM_ERR_INVALID_ARGUMENT;
    vm_x86_regs_t n = *regs;
    const bool noflush = (n.cr3 & VM_X86_CR3_NOFLUSH) != 0;
    n.cr3 &= ~VM_X86_CR3_NOFLUSH;
    /* A CR3 write happens when the value changes or bit 63 asks for one. */
    const bool cr3_load = n.cr3 != mmu->x86.regs.cr3 || noflush;
    return x86_write(mmu, n, cr3_load, noflush);
}

void vm_mmu_x86_regs(const vm_mmu_t *mmu, vm_x86_regs_t *out)
{
    if (mmu && out)
        *out = mmu->x86.regs;
}

vm_err_t vm_mmu_x86_load_cr3(vm_mmu_t *mmu, uint64_t value)
{
    if (!mmu)
        return VM_ERR_INVALID_ARGUMENT;
    vm_x86_regs_t n = mmu->x86.regs;
    n.cr3 = value & ~VM_X86_CR3_NOFLUSH;
    return x86_write(mmu, n, true, (value & VM_X86_CR3_NOFLUSH) != 0);
}

/* INVLPG is a NOP for a non-canonical address (Vol. 2, INVLPG): no entry
 * has a non-canonical tag anyway, the test only saves the scan. */
void vm_mmu_x86_invlpg(vm_mmu_t *mmu, vm_gva_t va)
{
    if (!mmu || !x86_canonical(x86_levels(&mmu->x86.regs), va))
        return;
    uint16_t pcid = x86_pcid(&mmu->x86.regs);
    tlb_flush_va_asid(&mmu->itlb, va, pcid, true);
    tlb_flush_va_asid(&mmu->dtlb, va, pcid, true);
}

vm_err_t vm_mmu_x86_invpcid(vm_mmu_t *mmu, vm_x86_invpcid_type_t type, uint16_t pcid,
                            vm_gva_t va)
{
    if (!mmu)
        return VM_ERR_INVALID_ARGUMENT;
    const vm_x86_regs_t *r = &mmu->x86.regs;
    /* Vol. 2 INVPCID, #GP(0): a type above 3; descriptor bits 63:12 set;
     * types 0 and 1 with CR4.PCIDE = 0 and a PCID other than 000H; type 0
     * with a non-canonical linear address. */
    if ((unsigned)type > VM_X86_INVPCID_ALL || pcid > VM_X86_CR3_PCID_MASK)
        return VM_ERR_INVALID_ARGUMENT;
    if ((type == VM_X86_INVPCID_ADDRESS || type == VM_X86_INVPCID_SINGLE) && !x86_pcide(r) &&
        pcid != 0)
        return VM_ERR_INVALID_ARGUMENT;
    if (type == VM_X86_INVPCID_ADDRESS && !x86_canonical(x86_levels(r), va))
        return VM_ERR_INVALID_ARGUMENT;
    switch (type) {
    case VM_X86_INVPCID_ADDRESS:
        tlb_flush_va_asid(&mmu->itlb, va, pcid, false);
        tlb_flush_va_asid(&mmu->dtlb, va, pcid, false);
        break;
    case VM_X86_INVPCID_SINGLE:
        tlb_flush_asid(&mmu->itlb, pcid);
        tlb_flush_asid(&mmu->dtlb, pcid);
        break;
    case VM_X86_INVPCID_ALL_GLOBAL:
        mmu_flush_all(mmu);
        break;
    case VM_X86_INVPCID_ALL:
        tlb_flush_nonglobal(&mmu->itlb);
        tlb_flush_nonglobal(&mmu->dtlb);
        break;
    }
    return VM_OK;
}

void x86_refresh(vm_mmu_t *mmu)
{
    walk_x86_64_init(); /* every x86 walk follows a refresh in x86 mode */
    const vm_x86_regs_t *r = &mmu->x86.regs;
    const bool translating = x86_paging_on(r);
    mmu->identity = !translating;
    mmu->asid = x86_pcid(r);
    mmu_set_need(mmu, translating, x86_ctx(r));
    const uint64_t below_maxphy = (UINT64_C(1) << x86_maxphyaddr(r)) - 1;
    mmu->x86.lean_4level = x86_levels(r) == 4;
    mmu->x86.lean_addr_mask = below_maxphy & ~UINT64_C(0xfff);
    mmu->x86.lean_reserved = (X86_PA_LIMIT_MASK & ~below_maxphy) |
                             ((r->efer & VM_X86_EFER_NXE) != 0 ? 0 : VM_X86_PTE_XD);
    mmu->x86.lean_root = r->cr3 & mmu->x86.lean_addr_mask;
}

void x86_after_fault(vm_mmu_t *mmu, vm_gva_t va, vm_err_t err)
{
    /* "a page-fault exception resulting from an attempt to use a linear
     * address will invalidate any TLB entries that are for a page number
     * corresponding to that linear address and that are associated with the
     * current PCID" (4.10.4.1). Global entries for the page go too: a global
     * entry is associated with the PCID it was filled under, which may be
     * this one, and dropping more is always allowed. */
    if (err != VM_ERR_PAGE_FAULT)
        return;
    tlb_flush_va_asid(&mmu->itlb, va, mmu->asid, true);
    tlb_flush_va_asid(&mmu->dtlb, va, mmu->asid, true);
}

void x86_fault_codes(vm_fault_kind_t kind, vm_access_t access, uint32_t *cause,
                     uint32_t *syndrome)
{
    (void)access;
    *cause = kind == VM_FAULT_MISALIGNED ? VM_X86_VEC_AC : VM_X86_VEC_MC;
    *syndrome = 0;
}
