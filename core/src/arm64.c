/*
 * arm64.c - AArch64 stage 1 EL1&0 state: the registers
 * (vm_mmu_set_arm64_regs), the permission context, TBI, stage 1 off, TLBI.
 *
 * PLACEHOLDER while the Arm64 walker is written (issue 8): every entry
 * point answers VM_ERR_UNSUPPORTED.
 */
#include "mmu_int.h"

void arm64_refresh(vm_mmu_t *mmu)
{
    mmu->identity = true;
    mmu->asid = 0;
    mmu_set_need(mmu, false, 0);
}

bool arm64_before_tlb(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                      vm_gva_t *tag_va, vm_gpa_t *pa, vm_err_t *err)
{
    (void)mmu;
    (void)access;
    (void)flags;
    (void)pa;
    (void)err;
    *tag_va = va;
    return false;
}

void arm64_fault_codes(const vm_mmu_t *mmu, vm_fault_kind_t kind, vm_access_t access,
                       uint32_t *cause, uint32_t *syndrome)
{
    bool el0 = mmu->arm.regs.el == 0;
    if (access == VM_ACCESS_EXEC)
        *cause = el0 ? VM_ARM64_EC_IABT_LOWER : VM_ARM64_EC_IABT_SAME;
    else
        *cause = el0 ? VM_ARM64_EC_DABT_LOWER : VM_ARM64_EC_DABT_SAME;
    *syndrome = kind == VM_FAULT_MISALIGNED ? 0x21u : 0x10u;
    if (access == VM_ACCESS_WRITE)
        *syndrome |= 1u << 6; /* WnR */
}

vm_err_t vm_mmu_set_arm64_regs(vm_mmu_t *mmu, const vm_arm64_regs_t *regs)
{
    (void)mmu;
    (void)regs;
    return VM_ERR_UNSUPPORTED;
}

void vm_mmu_arm64_regs(const vm_mmu_t *mmu, vm_arm64_regs_t *out)
{
    if (mmu && out)
        *out = mmu->arm.regs;
}

vm_err_t vm_mmu_arm64_tlbi(vm_mmu_t *mmu, vm_arm64_tlbi_t op, uint64_t xt)
{
    (void)mmu;
    (void)op;
    (void)xt;
    return VM_ERR_UNSUPPORTED;
}
