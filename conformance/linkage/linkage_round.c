/*
 * linkage_round.c - compiled three times (linkage.h) with a different
 * LINKAGE_ROUND name each time.
 */
#include "linkage.h"

int LINKAGE_ROUND(vm_mmu_t *mmu, uint64_t *out)
{
    uint64_t v = 0;

    if (vm_mmu_write(mmu, LINKAGE_VA + 16, UINT64_C(0x1122334455667788), 8) != VM_OK)
        return __LINE__;
    if (vm_mmu_read(mmu, LINKAGE_VA + 16, 8, &v) != VM_OK)
        return __LINE__;
    out[0] = v;
    if (vm_mmu_read(mmu, LINKAGE_VA + 18, 2, &v) != VM_OK)
        return __LINE__;
    out[1] = v;
    if (vm_mmu_fetch_insn(mmu, LINKAGE_VA + 4, &v) != VM_OK)
        return __LINE__;
    out[2] = v;
    if (vm_mmu_read(mmu, LINKAGE_VA + 16, 3, &v) != VM_ERR_INVALID_ARGUMENT)
        return __LINE__;
    if (vm_mmu_read(mmu, LINKAGE_VA + 0x1000, 8, &v) != VM_ERR_PAGE_FAULT)
        return __LINE__;
    return 0;
}
