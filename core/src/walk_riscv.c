/*
 * walk_riscv.c - the RISC-V Sv39/Sv48/Sv57 descriptors for the generic walk
 * (walk.c): the PTE rules of the Priv. spec, Supervisor-Level ISA, sections
 * "Sv32" (PTE format and permission rules, shared by all RV64 modes),
 * "Virtual Address Translation Process", "Sv39", "Sv48", "Sv57".
 *
 * How it works
 *   The three modes differ only in LEVELS and VA width: each level indexes
 *   9 VPN bits, PTESIZE is 8, the page offset is 12 bits. The hooks decode a
 *   PTE: V/R/W/X/U/G/A/D in bits 7:0, RSW 9:8 (ignored), PPN 53:10 (44
 *   bits, so PAs are up to 56 bits), bits 63:54 reserved.
 *
 *   Extensions not implemented, hence their bits are reserved and a PTE
 *   with any of them set is a page fault: Svnapot (N, bit 63), Svpbmt
 *   (PBMT, 62:61), and 60:54 ("reserved for future standard use").
 *
 *   G: "For non-leaf PTEs, the global setting implies that all mappings in
 *   the subsequent levels of the page table are global", so a mapping is
 *   global if G is set on any PTE of its path (the walk ORs rv_is_global).
 *
 * What was rejected
 *   - Using only the leaf's G: legal ("failing to mark a global mapping as
 *     global merely reduces performance") but it re-walks global kernel
 *     mappings after every ASID switch for tables that set G high up.
 */
#include "tlb.h"
#include "walk_int.h"

static bool rv_pte(uint64_t pte, uint64_t bit)
{
    return (pte & bit) != 0;
}

static vm_gpa_t rv_pte_pa(uint64_t pte)
{
    return ((pte & VM_PTE_PPN_MASK) >> VM_PTE_PPN_SHIFT) << 12;
}

/* Step 3 and 4 (Priv. spec): validity, reserved encodings, leaf or pointer. */
static enum walk_pte_kind rv_classify(uint64_t pte, int level, const char **reason)
{
    (void)level; /* every level may hold a leaf in Sv39/48/57 */
    if (!rv_pte(pte, VM_PTE_V)) {
        *reason = "V=0";
        return WALK_PTE_INVALID;
    }
    /* "if pte.r=0 and pte.w=1 ... stop and raise a page-fault exception" */
    if (!rv_pte(pte, VM_PTE_R) && rv_pte(pte, VM_PTE_W)) {
        *reason = "W without R";
        return WALK_PTE_INVALID;
    }
    /* Bits 63:54: N (Svnapot), PBMT (Svpbmt), 60:54 reserved; none of those
     * extensions is implemented, so any set bit is a page fault. RSW (9:8)
     * is for software and is ignored (BUG-CLASSES 5). */
    if ((pte & VM_PTE_RESERVED_MASK) != 0) {
        *reason = "reserved bits set";
        return WALK_PTE_INVALID;
    }
    if (rv_pte(pte, VM_PTE_R) || rv_pte(pte, VM_PTE_X))
        return WALK_PTE_LEAF;
    /* "For non-leaf PTEs, the D, A, and U bits are reserved for future
     * standard use" -> step 3 page fault. G on a non-leaf is allowed. */
    if ((pte & (VM_PTE_D | VM_PTE_A | VM_PTE_U)) != 0) {
        *reason = "non-leaf with D/A/U";
        return WALK_PTE_INVALID;
    }
    return WALK_PTE_POINTER;
}

/* Steps 6 and 8 (Priv. spec "Memory Privilege in mstatus" for SUM/MXR). */
static bool rv_permits_in(uint64_t pte, vm_priv_t priv, bool sum, bool mxr, vm_access_t access,
                          const char **reason)
{
    if (priv == VM_PRIV_U) {
        /* "U-mode software may only access the page when U=1." */
        if (!rv_pte(pte, VM_PTE_U)) {
            *reason = "S page from U";
            return false;
        }
    } else if (rv_pte(pte, VM_PTE_U)) {
        /* "Irrespective of SUM, the supervisor may not execute code on pages
         * with U=1"; loads and stores need SUM=1. */
        if (access == VM_ACCESS_EXEC) {
            *reason = "exec of U page from S";
            return false;
        }
        if (!sum) {
            *reason = "U page from S without SUM";
            return false;
        }
    }
    switch (access) {
    case VM_ACCESS_EXEC:
        if (!rv_pte(pte, VM_PTE_X)) {
            *reason = "not executable";
            return false;
        }
        return true;
    case VM_ACCESS_WRITE:
        if (!rv_pte(pte, VM_PTE_W)) {
            *reason = "not writable";
            return false;
        }
        return true;
    case VM_ACCESS_READ:
    default:
        /* MXR=1: "loads from pages marked either readable or executable
         * (R=1 or X=1) will succeed". */
        if (!rv_pte(pte, VM_PTE_R) && !(mxr && rv_pte(pte, VM_PTE_X))) {
            *reason = "not readable";
            return false;
        }
        return true;
    }
}

static bool rv_permits(uint64_t pte, const struct walk_ctx *ctx, vm_access_t access,
                       const char **reason)
{
    return rv_permits_in(pte, ctx->priv, ctx->sum, ctx->mxr, access, reason);
}

/* Step 9: "If pte.a=0, or if the original memory access is a store and
 * pte.d=0". */
static uint64_t rv_ad_needed(uint64_t pte, vm_access_t access, const char **reason)
{
    uint64_t want = pte | VM_PTE_A;
    if (access == VM_ACCESS_WRITE)
        want |= VM_PTE_D;
    if (want != pte)
        *reason = rv_pte(pte, VM_PTE_A) ? "D clear" : "A clear";
    return want;
}

static bool rv_is_global(uint64_t pte)
{
    return rv_pte(pte, VM_PTE_G);
}

/*
 * TLB permission vector (tlb.h): nothing unless A is set; W only if D is
 * set, so a store to a clean page takes the slow path and sets D
 * (BUG-CLASSES 2).
 */
static uint32_t rv_tlb_perms(uint64_t pte)
{
    static const vm_priv_t privs[2] = {VM_PRIV_U, VM_PRIV_S};
    uint32_t perms = 0;
    const char *reason;

    if (!rv_pte(pte, VM_PTE_A))
        return 0;
    for (unsigned p = 0; p < 2; p++)
        for (unsigned sum = 0; sum < 2; sum++)
            for (unsigned mxr = 0; mxr < 2; mxr++) {
                unsigned ctx = tlb_perm_ctx(privs[p], sum != 0, mxr != 0);
                for (unsigned a = 0; a < 3; a++) {
                    vm_access_t access = (vm_access_t)a;
                    if (access == VM_ACCESS_WRITE && !rv_pte(pte, VM_PTE_D))
                        continue;
                    if (rv_permits_in(pte, privs[p], sum != 0, mxr != 0, access, &reason))
                        perms |= tlb_perm_bit(ctx, access);
                }
            }
    return perms;
}

#define RV_FORMAT(NAME, LEVELS, VA_BITS)                                                   \
    {                                                                                      \
        .name = NAME, .levels = LEVELS, .va_bits = VA_BITS, .pte_size = 8,                 \
        .level_shift = {12, 21, 30, 39, 48}, .index_bits = {9, 9, 9, 9, 9},                \
        .classify = rv_classify, .table_addr = rv_pte_pa, .leaf_addr = rv_pte_pa,          \
        .permits = rv_permits, .ad_needed = rv_ad_needed, .is_global = rv_is_global,       \
        .tlb_perms = rv_tlb_perms,                                                         \
    }

static const struct walk_format rv_sv39 = RV_FORMAT("Sv39", 3, 39);
static const struct walk_format rv_sv48 = RV_FORMAT("Sv48", 4, 48);
static const struct walk_format rv_sv57 = RV_FORMAT("Sv57", 5, 57);

const struct walk_format *walk_riscv_format(vm_paging_mode_t mode)
{
    switch (mode) {
    case VM_PAGING_SV39: return &rv_sv39;
    case VM_PAGING_SV48: return &rv_sv48;
    case VM_PAGING_SV57: return &rv_sv57;
    default: return NULL;
    }
}
