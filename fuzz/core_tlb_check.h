/*
 * core_tlb_check.h - the white-box check of what the core's TLBs hold,
 * shared by the MMU fuzz worlds (fuzz_mmu_common.h, x86_world.c,
 * arm64_world.c): after an op that changes no translation but may drop
 * entries (a flush, a register write), every entry left in the core's
 * ITLB and DTLB must be one the world's reference TLB model remembers
 * (ref_tlb_remembers, ref_x86_tlb_remembers, ref_a64_tlb_remembers). A
 * flush that keeps what it should drop (BUG-CLASSES 8, 9, 10) is then seen
 * at the flush, not only if a later op comes back to that address space
 * and page. vmmem-conform makes the same check after every line
 * (conform_check_core_tlbs). Needs mmu_int.h (white-box) included first.
 */
#ifndef VMMEM_FUZZ_CORE_TLB_CHECK_H
#define VMMEM_FUZZ_CORE_TLB_CHECK_H

#include <stdbool.h>
#include <stdio.h>

/* True, with the mismatch described in msg, if the core holds an entry
 * remembered(ctx, e, exec_side) rejects; `what` names the model's unit
 * ("leaf", "entry"). */
static inline bool fuzz_core_tlb_unjustified(const vm_mmu_t *core,
                                             bool (*remembered)(const void *ctx,
                                                                const struct tlb_entry *e,
                                                                bool exec_side),
                                             const void *ctx, const char *op, const char *what,
                                             char *msg, size_t len)
{
    bool exec_side;
    const struct tlb_entry *e =
        mmu_tlb_find_rejected((const struct vm_mmu *)core, remembered, ctx, &exec_side);
    if (e == NULL)
        return false;
    snprintf(msg, len,
             "after %s the core's %s still holds va 0x%llx (%u-bit page) -> pa 0x%llx %s %u, "
             "which no remembered %s justifies (the op should have dropped it, or no walk "
             "filled it)",
             op, exec_side ? "ITLB" : "DTLB", (unsigned long long)e->tag, e->shift,
             (unsigned long long)e->pa_base, e->asid_mask == 0 ? "global, asid" : "asid", e->asid,
             what);
    return true;
}

#endif /* VMMEM_FUZZ_CORE_TLB_CHECK_H */
