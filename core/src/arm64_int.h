/*
 * arm64_int.h - the AArch64 part of vm_mmu_t and its hooks for the generic
 * MMU (mmu_int.h). Implemented in arm64.c (registers, TLBI) and
 * walk_arm64.c (the walk). Not installed.
 */
#ifndef VMMEM_ARM64_INT_H
#define VMMEM_ARM64_INT_H

#include "vmmem/arm64.h"
#include "walk_int.h"

struct mmu_arm64 {
    vm_arm64_regs_t regs; /* as set */
};

struct vm_mmu;

/* Set mmu->identity, mmu->asid and mmu->need[] from the Arm registers. */
VM_HIDDEN void arm64_refresh(struct vm_mmu *mmu);

/* The walk (walk_int.h contract). */
VM_HIDDEN vm_err_t walk_arm64(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access,
                              unsigned flags, struct walk_result *out, vm_fault_t *fault);

/*
 * Before the TLB is consulted: the VA the TLB is tagged with (top-byte
 * normalisation when TBI applies) in *tag_va; with stage 1 off, the whole
 * translation (flat map and its level 0 Address size check): then returns
 * true with the result in *err / *pa (fault recorded unless speculative).
 */
VM_HIDDEN bool arm64_before_tlb(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access,
                                unsigned flags, vm_gva_t *tag_va, vm_gpa_t *pa, vm_err_t *err);

/* The VA a flush by address compares: VA[55:0] sign-extended from bit 55
 * (a TLBI operand carries VA[55:12] only). */
static inline vm_gva_t arm64_flush_va(vm_gva_t va)
{
    return (vm_gva_t)((int64_t)(va << 8) >> 8);
}

/* cause and syndrome of a fault found outside the walk (alignment fault
 * FSC 0x21; external abort FSC 0x10), for the current EL. */
VM_HIDDEN void arm64_fault_codes(const struct vm_mmu *mmu, vm_fault_kind_t kind,
                                 vm_access_t access, uint32_t *cause, uint32_t *syndrome);

#endif /* VMMEM_ARM64_INT_H */
