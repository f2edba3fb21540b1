/*
 * walk_arm64.c - the VMSAv8-64 stage 1 walk (Arm ARM D8).
 *
 * PLACEHOLDER while the walker is written (issue 8).
 */
#include "mmu_int.h"

vm_err_t walk_arm64(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                    struct walk_result *out, vm_fault_t *fault)
{
    (void)mmu;
    (void)flags;
    (void)out;
    walk_fault_fill(fault, va, access, VM_FAULT_TRANSLATION, 0, 0, "not implemented", -1, 0, 0);
    return VM_ERR_UNSUPPORTED;
}
