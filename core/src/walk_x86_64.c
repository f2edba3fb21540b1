/*
 * walk_x86_64.c - the x86-64 4-/5-level page walk (Intel SDM Vol. 3A, 4.5).
 *
 * PLACEHOLDER while the walker is written (issue 7).
 */
#include "mmu_int.h"

vm_err_t walk_x86_64(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                     struct walk_result *out, vm_fault_t *fault)
{
    (void)mmu;
    (void)flags;
    (void)out;
    walk_fault_fill(fault, va, access, VM_FAULT_PAGE, VM_X86_VEC_PF, 0, "not implemented", -1, 0,
                    0);
    return VM_ERR_UNSUPPORTED;
}
