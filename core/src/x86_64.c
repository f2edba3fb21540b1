/*
 * x86_64.c - x86-64 paging state: the registers (vm_mmu_set_x86_regs), the
 * permission context, and the TLB invalidation instructions.
 *
 * PLACEHOLDER while the x86-64 walker is written (issue 7): every entry
 * point answers VM_ERR_UNSUPPORTED and the mode translates nothing.
 */
#include <string.h>

#include "mmu_int.h"

void x86_refresh(vm_mmu_t *mmu)
{
    mmu->identity = true;
    mmu->asid = 0;
    mmu_set_need(mmu, false, 0);
}

void x86_after_fault(vm_mmu_t *mmu, vm_gva_t va, vm_err_t err)
{
    (void)mmu;
    (void)va;
    (void)err;
}

void x86_fault_codes(vm_fault_kind_t kind, vm_access_t access, uint32_t *cause,
                     uint32_t *syndrome)
{
    (void)access;
    *cause = kind == VM_FAULT_MISALIGNED ? VM_X86_VEC_AC : VM_X86_VEC_MC;
    *syndrome = 0;
}

vm_err_t vm_mmu_set_x86_regs(vm_mmu_t *mmu, const vm_x86_regs_t *regs)
{
    (void)mmu;
    (void)regs;
    return VM_ERR_UNSUPPORTED;
}

void vm_mmu_x86_regs(const vm_mmu_t *mmu, vm_x86_regs_t *out)
{
    if (mmu && out)
        *out = mmu->x86.regs;
}

vm_err_t vm_mmu_x86_load_cr3(vm_mmu_t *mmu, uint64_t value)
{
    (void)mmu;
    (void)value;
    return VM_ERR_UNSUPPORTED;
}

void vm_mmu_x86_invlpg(vm_mmu_t *mmu, vm_gva_t va)
{
    (void)mmu;
    (void)va;
}

vm_err_t vm_mmu_x86_invpcid(vm_mmu_t *mmu, vm_x86_invpcid_type_t type, uint16_t pcid,
                            vm_gva_t va)
{
    (void)mmu;
    (void)type;
    (void)pcid;
    (void)va;
    return VM_ERR_UNSUPPORTED;
}
