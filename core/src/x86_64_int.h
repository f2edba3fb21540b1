/*
 * x86_64_int.h - the x86-64 part of vm_mmu_t and its hooks for the generic
 * MMU (mmu_int.h). Implemented in x86_64.c (registers, invalidations) and
 * walk_x86_64.c (the walk). Not installed.
 */
#ifndef VMMEM_X86_64_INT_H
#define VMMEM_X86_64_INT_H

#include "vmmem/x86_64.h"
#include "walk_int.h"

struct mmu_x86 {
    vm_x86_regs_t regs; /* as set: EFER.LMA computed, CR3 without bit 63 */
};

struct vm_mmu;

/* Set mmu->identity, mmu->asid and mmu->need[] from the x86 registers. */
VM_HIDDEN void x86_refresh(struct vm_mmu *mmu);

/* The walk (walk_int.h contract). */
VM_HIDDEN vm_err_t walk_x86_64(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access,
                               unsigned flags, struct walk_result *out, vm_fault_t *fault);

/* After a failed walk: SDM 4.10.4.1, a page fault invalidates the TLB
 * entries for the faulting linear address in the current PCID. */
VM_HIDDEN void x86_after_fault(struct vm_mmu *mmu, vm_gva_t va, vm_err_t err);

/* cause and syndrome of a fault found outside the walk (misaligned: #AC;
 * access fault: vmmem's vector 18). */
VM_HIDDEN void x86_fault_codes(vm_fault_kind_t kind, vm_access_t access, uint32_t *cause,
                               uint32_t *syndrome);

#endif /* VMMEM_X86_64_INT_H */
