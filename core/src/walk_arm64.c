/*
 * walk_arm64.c - the VMSAv8-64 stage 1 walk of the EL1&0 regime: Arm ARM
 * chapter D8 and its pseudocode AArch64.TranslationTableWalk,
 * AArch64.CheckPermission and AArch64.CheckAndUpdateDescriptor (quoted
 * from the Armv8.5 pseudocode as "TTW", "CheckPermission",
 * "CheckAndUpdateDescriptor").
 *
 * How it works
 *   The registers were decoded when they were set (arm64.c, struct
 *   arm64_range): the walk picks the range by VA bit 55, checks the VA is
 *   inside it (Translation fault, level 0) and the table base fits the PA
 *   size (Address size fault, level 0), then one loop reads a descriptor
 *   per level straight from the RAM mapping (walk_read_entry: a table
 *   outside RAM is a synchronous external abort on the walk, never a device
 *   call). A table descriptor (bits[1:0] = 11 above level 3) costs one test
 *   for the common case plus the next-table Address size check; it ORs its
 *   bits into `tables` for the hierarchical controls. Anything else ends
 *   the loop and is classified in the order TTW checks it: invalid
 *   (bit 0 = 0, or 01 at level 3) -> Translation fault; a block above the
 *   first block level -> Translation fault; output address too wide ->
 *   Address size fault; AF = 0 without TCR.HA -> Access flag fault; then
 *   CheckPermission -> Permission fault. Only an access that passes all of
 *   them updates the descriptor (AF, and AP[2] cleared for a write to a
 *   writable-clean DBM page with TCR.HD), by compare-and-swap from the
 *   value read (walk_commit); a changed descriptor restarts the walk.
 *   The common case - the 4 KiB granule from level 0 or 1, a leaf with AF
 *   set that allows the access and needs no update - is walk_arm64_lean
 *   (walk_arm64.h), inline in the TLB miss so the answer stays in
 *   registers; everything else goes to walk_arm64_general, which starts
 *   again from the TTBR. walk_arm64 is the two as a call.
 *
 *   Permissions: the leaf's effective state is five bits - AP[1] and AP[2]
 *   after APTable (unless TCR.HPDn) and after the dirty-state rule (with HD
 *   and DBM the walk treats AP[2] as 0, "desc<7> = '0'" in TTW), UXN and
 *   PXN ORed with UXNTable/PXNTable, and "a write must clear AP[2] first".
 *   Two tables built once give it in two loads: the nine descriptor and
 *   table bits it depends on index a 512-byte state table, and a 32-entry
 *   table, built by arm_permits() - the same rule the walk reports faults
 *   with - maps the state to the TLB permission vector over the 8 contexts
 *   EL0/EL1 x PAN x WXN and the 3 access kinds. The write bit is never set
 *   for states 16..31, so a writable-clean page is cached read-only and a
 *   store walks and updates it (BUG-CLASSES 2); nothing at all is cached
 *   while AF = 0.
 *
 *   Descriptor bits vmmem ignores: AttrIndx, NS, SH, the contiguous hint
 *   (so the IMPLEMENTATION DEFINED "Translation fault on misprogrammed
 *   contiguous bit" is never taken), GP, NSTable, the software and IGNORED
 *   bits, and the RES0 bits the pseudocode does not read - output address
 *   bits below the block or page size and bits [51:48] (for a 64 KiB
 *   granule TTW reads [15:12] as OA[51:48], so a non-zero value there is an
 *   Address size fault, as it must be for any PA size below 52 bits).
 *
 * What was rejected
 *   - A descriptor-driven generic level loop shared with RISC-V and x86
 *     (walk.c explains); per-level indirect calls on the miss path.
 *   - Evaluating CheckPermission for 24 (context, access) pairs per fill:
 *     the tables make it two loads. Combining the leaf and table bits with
 *     shifts and masks on every walk (the first version) cost about 35
 *     instructions more.
 *   - Setting AF on an access that then takes a Permission fault: TTW lets
 *     an implementation do it (ConstrainUnpredictable(Unpredictable_AFUPDATE)
 *     in CheckAndUpdateDescriptor); vmmem never updates a descriptor for an
 *     access that faults, like the other walkers.
 */
#include <pthread.h>

#include "mmu_int.h"

/* ---- The permission rule (CheckPermission) and its table ---------------- */

/*
 * CheckPermission for an EL0/EL1 access (no UAO, no unprivileged
 * load/store, no EPAN): NULL if allowed, else the reason.
 *   priv_r = TRUE; priv_w = AP[2] == '0'; user_r = AP[1] == '1';
 *   user_w = AP[2:1] == '01';
 *   PAN: "if pan == '1' && user_r && ispriv && is_ldst then priv_r =
 *   priv_w = FALSE" (instruction fetches are not is_ldst);
 *   user_xn = UXN || (user_w && wxn);
 *   priv_xn = PXN || (priv_w && wxn) || user_w  (EL1 never executes memory
 *   writable at EL0).
 */
static const char *arm_permits(unsigned p, bool el1, bool pan, bool wxn, vm_access_t access)
{
    const bool user_r = (p & ARM_P_EL0) != 0;
    const bool priv_w = (p & ARM_P_RO) == 0;
    const bool user_w = user_r && priv_w;
    if (access == VM_ACCESS_EXEC) {
        if (!el1) {
            if (p & ARM_P_UXN)
                return "UXN: not executable at EL0";
            return user_w && wxn ? "WXN: writable memory is not executable" : NULL;
        }
        if (p & ARM_P_PXN)
            return "PXN: not executable at EL1";
        if (user_w)
            return "EL1 never executes memory writable at EL0";
        return priv_w && wxn ? "WXN: writable memory is not executable" : NULL;
    }
    if (!el1) {
        if (!user_r)
            return "no EL0 access (AP[1] = 0)";
        return access == VM_ACCESS_WRITE && !user_w ? "read-only (AP[2] = 1)" : NULL;
    }
    if (pan && user_r)
        return "PAN: EL1 data access to memory accessible at EL0";
    return access == VM_ACCESS_WRITE && !priv_w ? "read-only (AP[2] = 1)" : NULL;
}

uint64_t arm_perm_table[ARM_P_STATES];
uint8_t arm_state_table[512];
static pthread_once_t arm_perm_once = PTHREAD_ONCE_INIT;

/*
 * The permission state of an index, following TTW: with update_AP (HD) and
 * DBM, AP[2] is cleared in the walk's copy ("desc<7> = '0'"); then
 * "perms.ap[2] = ap[2] OR ap_table[1]", "perms.ap[1] = ap[1] AND NOT
 * ap_table[0]", "perms.xn = xn OR xn_table", "perms.pxn = pxn OR
 * pxn_table". ARM_P_CLEAN: the access is writable only once AP[2] is
 * actually cleared in memory.
 */
static unsigned arm_state_of(unsigned idx)
{
    const unsigned ap1 = idx & 1u, ap2_mem = (idx >> 1) & 1u, dbm = (idx >> 2) & 1u;
    const unsigned pxn = (idx >> 3) & 1u, uxn = (idx >> 4) & 1u;
    const unsigned pxn_table = (idx >> 5) & 1u, uxn_table = (idx >> 6) & 1u;
    const unsigned ap_table0 = (idx >> 7) & 1u, ap_table1 = (idx >> 8) & 1u;
    const unsigned clean = dbm & ap2_mem;
    const unsigned ro = (ap2_mem & ~clean) | ap_table1;
    unsigned state = 0;
    if (ap1 & ~ap_table0 & 1u)
        state |= ARM_P_EL0;
    if (ro)
        state |= ARM_P_RO;
    if (uxn | uxn_table)
        state |= ARM_P_UXN;
    if (pxn | pxn_table)
        state |= ARM_P_PXN;
    if (clean & ~ro & 1u)
        state |= ARM_P_CLEAN;
    return state;
}

static void arm_perm_table_build(void)
{
    for (unsigned p = 0; p < ARM_P_STATES; p++) {
        uint64_t perms = 0;
        for (unsigned ctx = 0; ctx < ARM64_PERM_CTX; ctx++) {
            const bool el1 = (ctx & 1u) != 0, pan = (ctx & 2u) != 0, wxn = (ctx & 4u) != 0;
            for (unsigned k = 0; k < 3; k++) {
                vm_access_t access = (vm_access_t)k;
                if (access == VM_ACCESS_WRITE && (p & ARM_P_CLEAN))
                    continue;
                if (!arm_permits(p & (ARM_P_CLEAN - 1u), el1, pan, wxn, access))
                    perms |= tlb_perm_bit(arm64_perm_ctx(el1, pan, wxn), access);
            }
        }
        arm_perm_table[p] = perms;
    }
    for (unsigned idx = 0; idx < 512; idx++)
        arm_state_table[idx] = (uint8_t)arm_state_of(idx);
}

void walk_arm64_init(void)
{
    pthread_once(&arm_perm_once, arm_perm_table_build);
}

/* ---- The walk ------------------------------------------------------------ */

/* The fault record of a stopped walk (out of line: the walk's hot path
 * carries no strings and no record building). */
static VM_NOINLINE vm_err_t arm_stop(const vm_mmu_t *mmu, vm_fault_t *f, vm_gva_t va,
                                     vm_access_t access, enum arm_stop why, int level,
                                     vm_gpa_t desc_addr, uint64_t desc, unsigned perm_state)
{
    const vm_arm64_regs_t *r = &mmu->arm.regs;
    vm_fault_kind_t kind = VM_FAULT_TRANSLATION;
    const char *reason = "translation fault";
    switch (why) {
    case ARM_OUT_OF_RANGE: reason = "VA outside both translation ranges"; break;
    case ARM_RANGE_DISABLED: reason = "walks disabled for this range (TCR.EPDn)"; break;
    case ARM_TTBR_TOO_WIDE:
        kind = VM_FAULT_ADDRESS_SIZE;
        reason = "TTBR base address above the PA size";
        break;
    case ARM_DESC_OUTSIDE_RAM:
        kind = VM_FAULT_ACCESS;
        reason = "descriptor outside RAM";
        desc = 0;
        break;
    case ARM_INVALID:
        reason = (desc & VM_ARM64_DESC_VALID) == 0 ? "invalid descriptor"
                                                   : "block type (01) at level 3";
        break;
    case ARM_TABLE_TOO_WIDE:
        kind = VM_FAULT_ADDRESS_SIZE;
        reason = "next-level table address above the PA size";
        break;
    case ARM_BLOCK_LEVEL: reason = "block descriptor at a level the granule forbids"; break;
    case ARM_OA_TOO_WIDE:
        kind = VM_FAULT_ADDRESS_SIZE;
        reason = "output address above the PA size";
        break;
    case ARM_AF_CLEAR:
        kind = VM_FAULT_ACCESS_FLAG;
        reason = "Access flag clear (TCR.HA = 0)";
        break;
    case ARM_PERMISSION:
        kind = VM_FAULT_PERMISSION;
        reason = arm_permits(perm_state, r->el == 1, r->pan != 0,
                             (r->sctlr & VM_ARM64_SCTLR_WXN) != 0, access);
        break;
    case ARM_UPDATE_NOT_RAM:
        kind = VM_FAULT_ACCESS;
        reason = "descriptor not writable for the AF/dirty update";
        break;
    case ARM_LIVELOCK: reason = "descriptor kept changing during the AF/dirty update"; break;
    }
    walk_fault_fill(f, va, access, kind, arm64_exception_class(r->el == 1, access),
                    arm64_syndrome(kind, level, access), reason, level, desc_addr, desc);
    return kind == VM_FAULT_ACCESS ? VM_ERR_ACCESS_FAULT : VM_ERR_PAGE_FAULT;
}

/* The walk as a call: the common case inline (walk_arm64.h), else the full
 * walk. */
vm_err_t walk_arm64(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                    struct walk_result *out, vm_fault_t *fault)
{
    if (VM_LIKELY(walk_arm64_lean(mmu, va, access, out) == VM_OK))
        return VM_OK;
    return walk_arm64_general(mmu, va, access, flags, out, fault);
}

/* Every walk: the range checks, the descent for any granule and start
 * level, the faults, the AF / dirty-state update. */
VM_NOINLINE vm_err_t walk_arm64_general(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                        unsigned flags, struct walk_result *out,
                                        vm_fault_t *fault)
{
    const struct mmu_arm64 *a = &mmu->arm;
    /* The range: VA bit 55 (D8 "Selection between TTBR0 and TTBR1"). */
    const struct arm64_range *R = &a->range[(va >> 55) & 1];

    /* TTW: "if !basefound || disabled then TranslationFault(level 0)";
     * basefound needs VA[top:inputsize] all 0 (TTBR0) or all 1 (TTBR1). */
    if (VM_UNLIKELY(!R->walks))
        return arm_stop(mmu, fault, va, access, ARM_RANGE_DISABLED, 0, 0, 0, 0);
    if (VM_UNLIKELY(((va >> R->inputsize) & R->range_mask) != R->range_expect))
        return arm_stop(mmu, fault, va, access, ARM_OUT_OF_RANGE, 0, 0, 0, 0);
    if (VM_UNLIKELY(R->base_too_wide))
        return arm_stop(mmu, fault, va, access, ARM_TTBR_TOO_WIDE, 0, 0, 0, 0);

    struct arm_leaf L = {0};
    for (unsigned restarts = 0; restarts <= WALK_MAX_RESTARTS; restarts++) {
        int why;
        if (R->granule == 12 && R->start_level == 0)
            why = arm_descend(mmu->pm, R, va, &L, 12, 9, 0);
        else if (R->granule == 12 && R->start_level == 1)
            why = arm_descend(mmu->pm, R, va, &L, 12, 9, 1);
        else
            why = arm_descend(mmu->pm, R, va, &L, R->granule, R->stride, R->start_level);
        const int level = (int)L.level;
        if (VM_UNLIKELY(why >= 0))
            return arm_stop(mmu, fault, va, access, (enum arm_stop)why, level, L.desc_addr,
                            L.desc, 0);
        const uint64_t desc = L.desc;
        const bool speculative = (flags & WALK_SPECULATIVE) != 0;

        /* TTW: "if desc<10> == '0' then if !update_AF then
         * AccessFlagFault(level) else descupdate.AF = TRUE". */
        if (VM_UNLIKELY((desc & VM_ARM64_AF) == 0) && !a->ha && !speculative)
            return arm_stop(mmu, fault, va, access, ARM_AF_CLEAR, level, L.desc_addr, desc, 0);

        /* CheckPermission, on the state after any dirty-state update. */
        const unsigned idx = arm_state_index(desc, L.tables, R->hier_mask, a->dbm_bit);
        unsigned state = arm_state_table[idx];
        if (VM_UNLIKELY((arm_perm_table[state & (ARM_P_CLEAN - 1u)] & mmu->need[access]) == 0))
            return arm_stop(mmu, fault, va, access, ARM_PERMISSION, level, L.desc_addr, desc,
                            state & (ARM_P_CLEAN - 1u));

        /* CheckAndUpdateDescriptor: set AF; for a write with descupdate.AP
         * clear AP[2] ("desc<7> = '0'" for stage 1) - after which the page
         * is no longer clean. */
        uint64_t want = desc | (a->ha ? VM_ARM64_AF : 0);
        unsigned state_after = state;
        if (access == VM_ACCESS_WRITE && (state & ARM_P_CLEAN)) {
            want &= ~VM_ARM64_AP_RO;
            state_after &= ~ARM_P_CLEAN;
        }
        uint64_t now = desc;
        if (VM_UNLIKELY(want != desc) && !speculative) {
            struct walk_update u = {L.desc_addr, desc, want};
            unsigned failed;
            enum walk_commit_result c = walk_commit(mmu->pm, &u, 1, &failed);
            if (c == WALK_COMMIT_FAULT)
                return arm_stop(mmu, fault, va, access, ARM_UPDATE_NOT_RAM, level, L.desc_addr,
                                desc, 0);
            if (c == WALK_COMMIT_RETRY)
                continue; /* the descriptor changed: walk again from the TTBR */
            now = want;
            state = state_after;
        }

        arm_walk_result(R, va, &L, now, state, out);
        return VM_OK;
    }
    return arm_stop(mmu, fault, va, access, ARM_LIVELOCK, (int)L.level, L.desc_addr, L.desc, 0);
}
