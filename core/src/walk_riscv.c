/*
 * walk_riscv.c - the RISC-V Sv39/Sv48/Sv57 page-table walk: the Priv. spec,
 * Supervisor-Level ISA, section "Virtual Address Translation Process"
 * (steps 1-10), with the PTE format of "Sv32" (shared by every RV64 mode),
 * "Sv39", "Sv48", "Sv57".
 *
 * How it works
 *   The three modes differ only in LEVELS and the VA width: every level
 *   indexes 9 VPN bits, PTESIZE is 8, the page offset is 12 bits. One loop
 *   (unrolled per mode) reads a PTE per level straight from the RAM mapping
 *   and classifies it (steps 2-4), then the leaf is checked (steps 5, 6,
 *   8): that hot part is in walk_riscv.h, inline into the TLB miss. The A/D
 *   update of step 9 (here) goes through walk_commit() (walk.c): a failed
 *   compare-and-swap restarts the walk. The TLB permission vector of the
 *   leaf comes from a 256-entry table indexed by PTE bits 7:0, built once:
 *   the 8 contexts (priv U/S x SUM x MXR) x 3 accesses are evaluated by the
 *   same rule the walk applies (rv_permits), so the TLB and the walk can
 *   never disagree, and a fill costs one load instead of 24 evaluations.
 *
 *   PTE bits: V/R/W/X/U/G/A/D in 7:0, RSW 9:8 (ignored), PPN 53:10 (PAs of
 *   56 bits), 63:54 reserved. Svnapot (N, bit 63), Svpbmt (PBMT, 62:61) and
 *   60:54 are not implemented, so a PTE with any of them set is a page
 *   fault (BUG-CLASSES 5).
 *
 *   G: "For non-leaf PTEs, the global setting implies that all mappings in
 *   the subsequent levels of the page table are global", so a mapping is
 *   global if G is set on any PTE of its path.
 *
 * What was rejected
 *   - Using only the leaf's G: legal ("failing to mark a global mapping as
 *     global merely reduces performance") but it re-walks global kernel
 *     mappings after every ASID switch for tables that set G high up.
 *   - Computing the permission vector per fill (24 rule evaluations): it
 *     was a sixth of the TLB-miss cost.
 */
#include <pthread.h>

#include "mmu_int.h"

static bool rv_pte(uint64_t pte, uint64_t bit)
{
    return (pte & bit) != 0;
}

/* Steps 6 and 8 (Priv. spec; "Memory Privilege in mstatus" for SUM/MXR).
 * Returns NULL if the leaf permits the access, else the reason. */
static const char *rv_permits(uint64_t pte, vm_priv_t priv, bool sum, bool mxr,
                              vm_access_t access)
{
    if (priv == VM_PRIV_U) {
        /* "U-mode software may only access the page when U=1." */
        if (!rv_pte(pte, VM_PTE_U))
            return "S page from U";
    } else if (rv_pte(pte, VM_PTE_U)) {
        /* "Irrespective of SUM, the supervisor may not execute code on pages
         * with U=1"; loads and stores need SUM=1. */
        if (access == VM_ACCESS_EXEC)
            return "exec of U page from S";
        if (!sum)
            return "U page from S without SUM";
    }
    switch (access) {
    case VM_ACCESS_EXEC:
        return rv_pte(pte, VM_PTE_X) ? NULL : "not executable";
    case VM_ACCESS_WRITE:
        return rv_pte(pte, VM_PTE_W) ? NULL : "not writable";
    case VM_ACCESS_READ:
    default:
        /* MXR=1: "loads from pages marked either readable or executable
         * (R=1 or X=1) will succeed". */
        return rv_pte(pte, VM_PTE_R) || (mxr && rv_pte(pte, VM_PTE_X)) ? NULL : "not readable";
    }
}

/* ---- The TLB permission vector (tlb.h) -------------------------------- */

uint64_t rv_perm_table[256];
static pthread_once_t rv_perm_once = PTHREAD_ONCE_INIT;

/*
 * Vector of a leaf with bits 7:0 = flags: nothing unless A is set; W only if
 * D is set, so a store to a clean page walks and sets D (BUG-CLASSES 2).
 */
static void rv_perm_table_build(void)
{
    static const vm_priv_t privs[2] = {VM_PRIV_U, VM_PRIV_S};
    for (unsigned flags = 0; flags < 256; flags++) {
        uint64_t perms = 0;
        /* W without R is an invalid PTE (step 3): nothing is allowed, so the
         * walk's permission test stops it (rv_stop names it step 3). */
        const bool w_without_r = (flags & VM_PTE_W) && !(flags & VM_PTE_R);
        if ((flags & VM_PTE_A) && !w_without_r) {
            for (unsigned p = 0; p < 2; p++)
                for (unsigned sum = 0; sum < 2; sum++)
                    for (unsigned mxr = 0; mxr < 2; mxr++) {
                        unsigned ctx = mmu_riscv_ctx(privs[p], sum != 0, mxr != 0);
                        for (unsigned a = 0; a < 3; a++) {
                            vm_access_t access = (vm_access_t)a;
                            if (access == VM_ACCESS_WRITE && !(flags & VM_PTE_D))
                                continue;
                            if (!rv_permits(flags, privs[p], sum != 0, mxr != 0, access))
                                perms |= tlb_perm_bit(ctx, access);
                        }
                    }
        }
        rv_perm_table[flags] = perms;
    }
}

void walk_riscv_init(void)
{
    pthread_once(&rv_perm_once, rv_perm_table_build);
}

/* ---- The walk ----------------------------------------------------------- */

/* Step 3: the reason a PTE is invalid, or NULL. */
static const char *rv_invalid(uint64_t pte)
{
    if (!rv_pte(pte, VM_PTE_V))
        return "V=0";
    /* "if pte.r=0 and pte.w=1 ... stop and raise a page-fault exception" */
    if (!rv_pte(pte, VM_PTE_R) && rv_pte(pte, VM_PTE_W))
        return "W without R";
    /* Bits 63:54: N, PBMT, reserved; RSW (9:8) is ignored. */
    if ((pte & VM_PTE_RESERVED_MASK) != 0)
        return "reserved bits set";
    return NULL;
}

/* The fault record of a stopped walk (out of line: the walk's hot path
 * carries no strings and no record building). */
VM_NOINLINE vm_err_t rv_stop(const vm_mmu_t *mmu, vm_fault_t *f, vm_gva_t va,
                             vm_access_t access, enum rv_stop why, int level, vm_gpa_t pte_addr,
                             uint64_t pte)
{
    vm_fault_kind_t kind = VM_FAULT_PAGE;
    const char *reason = "page fault";
    /* The walk's fast leaf test leaves W without R (step 3) to the
     * permission table; a stop at step 5 or 6 on such a PTE is step 3's. */
    if ((why == RV_MISALIGNED_SUPERPAGE || why == RV_PERMISSION) && rv_invalid(pte) != NULL)
        why = RV_PTE_INVALID;
    switch (why) {
    case RV_NONCANONICAL: reason = "non-canonical VA"; level = -1; break;
    case RV_PTE_OUTSIDE_RAM: kind = VM_FAULT_ACCESS; reason = "PTE outside RAM"; pte = 0; break;
    case RV_PTE_INVALID: reason = rv_invalid(pte); break;
    case RV_NONLEAF_DAU: reason = "non-leaf with D/A/U"; break;
    case RV_POINTER_AT_LEVEL0: reason = "pointer at last level"; break;
    case RV_MISALIGNED_SUPERPAGE: reason = "misaligned superpage"; break;
    case RV_PERMISSION: reason = rv_permits(pte, mmu->priv, mmu->sum, mmu->mxr, access); break;
    case RV_AD_CLEAR: reason = rv_pte(pte, VM_PTE_A) ? "D clear" : "A clear"; break;
    case RV_AD_NOT_WRITABLE: kind = VM_FAULT_ACCESS; reason = "PTE not writable memory"; break;
    case RV_AD_LIVELOCK: reason = "PTE kept changing during A/D update"; level = -1; break;
    }
    walk_fault_fill(f, va, access, kind, walk_riscv_cause(kind, access), 0, reason, level,
                    pte_addr, pte);
    return kind == VM_FAULT_ACCESS ? VM_ERR_ACCESS_FAULT : VM_ERR_PAGE_FAULT;
}

static vm_err_t rv_walk_again(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                              struct walk_result *out, vm_fault_t *fault, unsigned restarts);


/*
 * Step 9 under Svadu, out of the walk's hot path: compare-and-swap the
 * leaf to `want`; on success finish the walk with the updated PTE; if the
 * PTE changed meanwhile, "return to step 2" (a new walk from the root).
 */
VM_NOINLINE vm_err_t rv_update(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                               struct walk_result *out, vm_fault_t *fault, unsigned restarts,
                               const struct rv_leaf *L, uint64_t want)
{
    const int i = rv_level(L->shift);
    if (mmu->ad_mode != VM_AD_HARDWARE)
        return rv_stop(mmu, fault, va, access, RV_AD_CLEAR, i, L->pte_addr, L->pte);
    struct walk_update u = {L->pte_addr, L->pte, want};
    unsigned failed;
    enum walk_commit_result c = walk_commit(mmu->pm, &u, 1, &failed);
    if (c == WALK_COMMIT_FAULT)
        return rv_stop(mmu, fault, va, access, RV_AD_NOT_WRITABLE, i, L->pte_addr, L->pte);
    if (c == WALK_COMMIT_RETRY) {
        if (restarts >= WALK_MAX_RESTARTS)
            return rv_stop(mmu, fault, va, access, RV_AD_LIVELOCK, -1, 0, 0);
        return rv_walk_again(mmu, va, access, flags, out, fault, restarts + 1);
    }
    rv_answer(out, va, L, want, rv_perm_table[want & 0xff]);
    return VM_OK;
}

static VM_NOINLINE vm_err_t rv_walk_again(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                          unsigned flags, struct walk_result *out,
                                          vm_fault_t *fault, unsigned restarts)
{
    return rv_walk(mmu, va, access, flags, out, fault, restarts);
}

/* The walk as a call (walk_riscv.h has it inline for the TLB miss). */
vm_err_t walk_riscv(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                    struct walk_result *out, vm_fault_t *fault)
{
    return walk_riscv_inline(mmu, va, access, flags, out, fault);
}
