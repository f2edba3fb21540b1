/*
 * mmu_int.h - the layout of vm_mmu_t, shared by mmu.c (state, translate,
 * TLB management), access.c (accesses through translation) and ptbuilder.c.
 * Not installed.
 */
#ifndef VMMEM_MMU_INT_H
#define VMMEM_MMU_INT_H

#include "vmmem/arm64.h"
#include "vmmem/mmu.h"
#include "vmmem/x86_64.h"
#include "physmem_int.h"
#include "tlb.h"
#include "walk_int.h"

#define MMU_PAGE_SHIFT 12u
#define MMU_PAGE_SIZE (UINT64_C(1) << MMU_PAGE_SHIFT)

struct vm_mmu {
    /* Read on every access (the inline hit path). */
    vm_physmem_t *pm;
    uint16_t asid;              /* satp.ASID */
    uint32_t need[3];           /* TLB permission bit per access in the current
                                   context; TLB_PERM_NEVER when not translating */
    bool identity;              /* Bare or M-mode: VA == PA, no TLB (kept by mmu_update_need) */
    struct tlb itlb;            /* fetches */
    struct tlb dtlb;            /* loads and stores */
    uint64_t tlb_hits, tlb_misses;
    vm_fault_t fault;

    /* Translation state. */
    vm_paging_mode_t mode;
    const struct walk_format *fmt; /* walker of mode; NULL for Bare and unsupported modes */
    uint64_t root_ppn;          /* satp.PPN */
    vm_priv_t priv;
    bool sum, mxr;
    vm_ad_mode_t ad_mode;
    bool strict_align;

    bool owns_pm;
    uint64_t owner;             /* LR/SC owner id, unique per MMU, never 0 */
};

/* Is the access size one of 1, 2, 4, 8? */
static inline bool mmu_size_ok(unsigned size)
{
    return size <= 8 && ((0x116u >> size) & 1u) != 0;
}

static inline struct tlb *mmu_tlb_for(vm_mmu_t *mmu, vm_access_t access)
{
    return access == VM_ACCESS_EXEC ? &mmu->itlb : &mmu->dtlb;
}

/* Reset the fault record to "no fault" (out of line: rare). */
VM_HIDDEN void mmu_fault_clear(vm_mmu_t *mmu);
/* mmu_fault_clear, then return VM_OK (lets the hot path tail-call it). */
VM_HIDDEN vm_err_t mmu_fault_clear_ok(vm_mmu_t *mmu);

/* The fault-record upkeep of a success: kind NONE afterwards. */
static inline void mmu_note_success(vm_mmu_t *mmu)
{
    if (VM_UNLIKELY(mmu->fault.kind != VM_FAULT_NONE))
        mmu_fault_clear(mmu);
}

/* `return mmu_success(mmu);` ends a hot path: no stack frame needed. */
static inline vm_err_t mmu_success(vm_mmu_t *mmu)
{
    if (VM_UNLIKELY(mmu->fault.kind != VM_FAULT_NONE))
        return mmu_fault_clear_ok(mmu);
    return VM_OK;
}

/* Record a fault not found by the walker (misaligned, data access fault). */
VM_HIDDEN void mmu_fault_record(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                vm_fault_kind_t kind, const char *reason);

/* Flags of mmu_translate_page. */
#define MMU_XLATE_SPECULATIVE 1u /* no A/D write, no TLB fill, no stats, no fault record */

/*
 * Translate the page containing va for one access (the slow path: TLB scan,
 * then walk and fill). Does not clear the fault record on success.
 * Errors: VM_ERR_PAGE_FAULT / VM_ERR_ACCESS_FAULT (fault recorded),
 * VM_ERR_UNSUPPORTED (mode without a walker).
 */
VM_HIDDEN vm_err_t mmu_translate_page(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                      unsigned flags, vm_gpa_t *pa);

#endif /* VMMEM_MMU_INT_H */
