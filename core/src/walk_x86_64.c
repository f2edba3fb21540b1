/*
 * walk_x86_64.c - the x86-64 4-level and 5-level page walk: Intel SDM
 * Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging" (entry formats, Tables
 * 4-14 .. 4-20), 4.6 "Access Rights" (4.6.1 and 4.6.2 "Protection Keys"),
 * 4.7 "Page-Fault Exceptions" and 4.8 "Accessed and Dirty Flags".
 *
 * How it works
 *   The linear address is checked for canonical form first (#GP, never a
 *   page fault). Then one loop reads an 8-byte entry per level straight
 *   from the RAM mapping (walk_read_entry: a table outside RAM is an
 *   access fault), starting at CR3[M-1:12] with PML5 (LA57) or PML4, and
 *   classifies it:
 *     - P = 0: no translation; page fault with error code P = 0. The other
 *       bits of a not-present entry are ignored, so reserved bits are not
 *       looked at ("reserved bits are not checked in a paging-structure
 *       entry whose P flag is 0", 4.7);
 *     - a reserved bit set: no translation; page fault with P = 1 and
 *       RSVD = 1. Reserved per entry type: bits 51:MAXPHYADDR everywhere,
 *       XD (bit 63) when EFER.NXE = 0, PS (bit 7) in a PML5E/PML4E, and in
 *       an entry that maps a 1 GiB / 2 MiB page the address bits below its
 *       alignment except the PAT bit 12 (bits 29:13 / 20:13);
 *     - an entry that maps a page ends the loop: a PTE, or a PDPTE / PDE
 *       with PS = 1.
 *   The walk stops at the first entry that gives no translation, so a
 *   not-present or reserved-bit fault always wins over an access-rights
 *   violation (rights exist only for a translation, 4.7 "there is a
 *   translation ... but its access rights do not permit the access").
 *   Along the way the rights are combined as 4.6.1 says: R/W and U/S are
 *   ANDed over every entry, XD is ORed. The access is then judged in the
 *   current context (CPL, CR0.WP, CR4.SMEP, CR4.SMAP with RFLAGS.AC,
 *   protection keys) by one load from a precomputed table; only a refused
 *   access evaluates the rule in full, for its reason and the PK flag of
 *   the error code.
 *
 *   The common case - 4-level paging, every entry present, accessed and
 *   without reserved bits, a 4 KiB page whose A (and D, for a write) is
 *   already set and whose rights allow the access - is walk_x86_64_lean
 *   (walk_x86_64.h): four reads, one table load, the answer, inline in the
 *   TLB miss so the answer stays in registers; its masks and root come from
 *   x86_refresh (x86_64.c), which every register write runs. Anything else
 *   (a fault, an A/D update, a large page, 5-level paging) goes to
 *   walk_x86_64_general, which starts again from CR3 and follows the rules
 *   above in full; both build the answer with the same helpers
 *   (x86_leaf_rights, x86_walk_result). walk_x86_64 is the two as a call.
 *
 *   A successful translation then commits, through walk_commit (walk.c,
 *   top level first), A = 1 in every entry used that lacks it and, for a
 *   write, D = 1 in the entry that maps the page (4.8). A failed
 *   compare-and-swap restarts the walk from CR3. A faulting access writes
 *   nothing (vmmem's rule, mmu.h: the SDM lets a processor set A in
 *   entries it used, but does not require it for a walk that faults).
 *
 *   The TLB permission vector (tlb.h) of the leaf comes from a 64-entry
 *   table indexed by (combined R/W, combined U/S, combined XD, D of the
 *   leaf, PKRU AD and WD of the leaf's key), built once with the same rule
 *   the walk applies (x86_refusal), for the 16 contexts of x86_ctx() and
 *   the three access kinds. Stores are granted only when D is already 1,
 *   so a store to a clean page misses the TLB and walks to set D
 *   (BUG-CLASSES 2). Nothing is cached unless A is 1 everywhere: a
 *   non-speculative walk has set it; a speculative one gets no vector.
 *   A user-mode leaf (U/S = 1 at every level) is flagged TLB_F_PKEY with its
 *   key, whether or not CR4.PKE is set, because its vector depends on
 *   CR4.PKE and PKRU: a change of either drops exactly those entries
 *   (x86_64.c), so the new PKRU applies on the next access.
 *
 *   Error codes (4.7): P (0 not present, 1 otherwise), W/R = the access is
 *   a write, U/S = CPL 3, RSVD, I/D = an instruction fetch with CR4.SMEP =
 *   1 or EFER.NXE = 1 (CR4.PAE is always 1 here), PK = a data access to a
 *   user-mode address whose key PKRU disallows for that access (AD, or WD
 *   for a write that is user-mode or made with CR0.WP = 1) - set from that
 *   definition whatever else made the access fail.
 *
 * What was rejected
 *   - A descriptor-driven generic loop with per-level hooks (walk.c): the
 *     rights accumulation and the per-level reserved masks are a few
 *     instructions inline here and would be indirect calls there.
 *   - Evaluating 48 permission bits per fill: one table load instead.
 *   - Keeping the PKRU bits out of the vector and testing them on every
 *     TLB hit: it would add a key lookup to the hit path of every
 *     architecture; a PKRU write drops the (usually few) user-mode leaves.
 */
#include <pthread.h>

#include "mmu_int.h"

/* ---- Access rights (SDM 4.6.1, 4.6.2) --------------------------------- */

/* The rights of a translation: what the SDM combines over the walk, the D
 * flag of the mapping entry and the PKRU bits of its protection key. */
struct x86_rights {
    bool rw;    /* R/W = 1 in every entry */
    bool us;    /* U/S = 1 in every entry: a user-mode address */
    bool xd;    /* XD = 1 in some entry (only with EFER.NXE = 1) */
    bool dirty; /* D of the entry that maps the page */
    bool ad;    /* PKRU.AD of the key (CR4.PKE = 1, user-mode address) */
    bool wd;    /* PKRU.WD of the key (same) */
};

static struct x86_rights x86_rights_of(unsigned idx)
{
    return (struct x86_rights){
        .rw = (idx & X86_RIGHTS_RW) != 0, .us = (idx & X86_RIGHTS_US) != 0,
        .xd = (idx & X86_RIGHTS_XD) != 0, .dirty = (idx & X86_RIGHTS_DIRTY) != 0,
        .ad = (idx & X86_RIGHTS_AD) != 0, .wd = (idx & X86_RIGHTS_WD) != 0,
    };
}

/*
 * SDM 4.6.1 "Determination of Access Rights" with 4.6.2 for the keys:
 * NULL if an access of kind `access` in context ctx may use a translation
 * with rights r, else the reason. The D flag plays no part here.
 */
static const char *x86_refusal(unsigned ctx, const struct x86_rights *r, vm_access_t access)
{
    const bool user = (ctx & X86_CTX_USER) != 0;
    const bool wp = (ctx & X86_CTX_WP) != 0;

    if (access == VM_ACCESS_EXEC) {
        /* "instructions may not be fetched from any ... address with a
         * translation for which the XD flag is 1 in any paging-structure
         * entry" (IA32_EFER.NXE = 1; the walk clears xd otherwise).
         * Protection keys do not apply to instruction fetches (4.6.2). */
        if (r->xd)
            return "fetch from an XD page";
        if (user)
            return r->us ? NULL : "user fetch from a supervisor-mode address";
        /* Supervisor fetches from user-mode addresses: "If CR4.SMEP = 1,
         * instructions may not be fetched from any user-mode address." */
        if (r->us && (ctx & X86_CTX_SMEP) != 0)
            return "SMEP: supervisor fetch from a user-mode address";
        return NULL;
    }

    if (user) {
        /* User-mode accesses: only user-mode addresses; writes need R/W = 1
         * everywhere whatever CR0.WP; the key must permit the access. */
        if (!r->us)
            return "user access to a supervisor-mode address";
        if (r->ad)
            return "protection key access-disabled";
        if (access == VM_ACCESS_WRITE) {
            if (!r->rw)
                return "user write to a read-only address";
            if (r->wd)
                return "protection key write-disabled";
        }
        return NULL;
    }

    if (!r->us) {
        /* Supervisor-mode address: reads always; writes need R/W = 1 in
         * every entry only when CR0.WP = 1. */
        if (access == VM_ACCESS_WRITE && wp && !r->rw)
            return "supervisor write to a read-only address (CR0.WP=1)";
        return NULL;
    }

    /* Explicit supervisor data access to a user-mode address: refused when
     * CR4.SMAP = 1 and EFLAGS.AC = 0, else as the key allows (with CR0.WP =
     * 0, WD does not restrict supervisor writes, 4.6.2). */
    if ((ctx & X86_CTX_SMAP) != 0)
        return "SMAP: supervisor data access to a user-mode address";
    if (r->ad)
        return "protection key access-disabled";
    if (access == VM_ACCESS_WRITE && wp) {
        if (!r->rw)
            return "supervisor write to a read-only address (CR0.WP=1)";
        if (r->wd)
            return "protection key write-disabled (CR0.WP=1)";
    }
    return NULL;
}

/* The PK flag of the error code (SDM 4.7): a data access to a user-mode
 * address whose key has AD = 1, or WD = 1 for a write that is a user-mode
 * access or made with CR0.WP = 1. r->ad / r->wd are 0 unless CR4.PKE = 1. */
static bool x86_pk_flag(unsigned ctx, const struct x86_rights *r, vm_access_t access)
{
    if (access == VM_ACCESS_EXEC || !r->us)
        return false;
    if (r->ad)
        return true;
    return access == VM_ACCESS_WRITE && r->wd &&
           (ctx & (X86_CTX_USER | X86_CTX_WP)) != 0;
}

/* ---- The TLB permission vector ---------------------------------------- */

uint64_t x86_perm_table[X86_RIGHTS_COUNT];
static pthread_once_t x86_perm_once = PTHREAD_ONCE_INIT;

static void x86_perm_table_build(void)
{
    for (unsigned idx = 0; idx < X86_RIGHTS_COUNT; idx++) {
        const struct x86_rights r = x86_rights_of(idx);
        uint64_t perms = 0;
        for (unsigned ctx = 0; ctx < X86_CTX_COUNT; ctx++)
            for (unsigned a = 0; a < 3; a++) {
                vm_access_t access = (vm_access_t)a;
                /* A store through a clean entry must walk to set D (4.8). */
                if (access == VM_ACCESS_WRITE && !r.dirty)
                    continue;
                if (x86_refusal(ctx, &r, access) == NULL)
                    perms |= tlb_perm_bit(ctx, access);
            }
        x86_perm_table[idx] = perms;
    }
}

void walk_x86_64_init(void)
{
    pthread_once(&x86_perm_once, x86_perm_table_build);
}

/* ---- The walk ----------------------------------------------------------- */

/* Entry bits the walk reads besides the public VM_X86_PTE_* ones. */
#define X86_PTE_ADDR_LOW_LARGE UINT64_C(0x1fe000) /* bits 20:13 */
#define X86_PTE_ADDR_LOW_HUGE UINT64_C(0x3fffe000) /* bits 29:13 */

/* W/R, U/S and I/D of the error code: they describe the access (4.7). */
static uint32_t x86_pfec_access(const vm_x86_regs_t *regs, vm_access_t access)
{
    uint32_t code = 0;
    if (access == VM_ACCESS_WRITE)
        code |= VM_X86_PFEC_W;
    if (regs->cpl == 3)
        code |= VM_X86_PFEC_U;
    /* I/D: "the access causing the page-fault exception was an instruction
     * fetch; and either CR4.SMEP = 1 or (CR4.PAE = 1 and IA32_EFER.NXE = 1)". */
    if (access == VM_ACCESS_EXEC &&
        ((regs->cr4 & VM_X86_CR4_SMEP) != 0 || (regs->efer & VM_X86_EFER_NXE) != 0))
        code |= VM_X86_PFEC_I;
    return code;
}

static vm_err_t x86_page_fault(vm_fault_t *f, vm_gva_t va, vm_access_t access, uint32_t code,
                               const char *reason, int level, vm_gpa_t entry_addr, uint64_t entry)
{
    walk_fault_fill(f, va, access, VM_FAULT_PAGE, VM_X86_VEC_PF, code, reason, level, entry_addr,
                    entry);
    return VM_ERR_PAGE_FAULT;
}

/* A paging-structure entry that is not RAM (to read, or to update). */
static vm_err_t x86_access_fault(vm_fault_t *f, vm_gva_t va, vm_access_t access,
                                 const char *reason, int level, vm_gpa_t entry_addr,
                                 uint64_t entry)
{
    walk_fault_fill(f, va, access, VM_FAULT_ACCESS, VM_X86_VEC_MC, 0, reason, level, entry_addr,
                    entry);
    return VM_ERR_ACCESS_FAULT;
}

/* The name of each level in the SDM's terms, for the fault reasons. */
static const char *const x86_not_present[WALK_MAX_LEVELS + 1] = {
    "", "PTE not present", "PDE not present", "PDPTE not present", "PML4E not present",
    "PML5E not present",
};
static const char *const x86_reserved[WALK_MAX_LEVELS + 1] = {
    "", "reserved bit in PTE", "reserved bit in PDE", "reserved bit in PDPTE",
    "reserved bit in PML4E", "reserved bit in PML5E",
};

/* The walk as a call: the common case inline (walk_x86_64.h), else the
 * full walk. */
vm_err_t walk_x86_64(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                     struct walk_result *out, vm_fault_t *fault)
{
    if (VM_LIKELY(walk_x86_64_lean(mmu, va, access, out) == VM_OK))
        return VM_OK;
    return walk_x86_64_general(mmu, va, access, flags, out, fault);
}

/* Every walk: the loop over the levels, the faults, the A/D commit. */
VM_NOINLINE vm_err_t walk_x86_64_general(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                         unsigned flags, struct walk_result *out,
                                         vm_fault_t *fault)
{
    const vm_x86_regs_t *regs = &mmu->x86.regs;
    vm_physmem_t *pm = mmu->pm;
    const unsigned levels = x86_levels(regs);
    const bool speculative = (flags & WALK_SPECULATIVE) != 0;

    /* "a linear address ... must be in canonical form" else #GP (Vol. 1
     * 3.3.7.1; Vol. 3A 4.5.1): before any paging-structure access. */
    if (!x86_canonical(levels, va)) {
        walk_fault_fill(fault, va, access, VM_FAULT_GP, VM_X86_VEC_GP, 0,
                        "non-canonical linear address", -1, 0, 0);
        return VM_ERR_GP_FAULT;
    }

    const bool nxe = (regs->efer & VM_X86_EFER_NXE) != 0;
    const uint64_t below_maxphy = (UINT64_C(1) << x86_maxphyaddr(regs)) - 1;
    /* Bits M-1:12 locate the next table (or the page). */
    const uint64_t addr_mask = below_maxphy & ~UINT64_C(0xfff);
    /* Reserved in every entry type: 51:M, and XD without IA32_EFER.NXE. */
    const uint64_t reserved_any = (X86_PA_LIMIT_MASK & ~below_maxphy) | (nxe ? 0 : VM_X86_PTE_XD);

    for (unsigned restarts = 0; restarts <= WALK_MAX_RESTARTS; restarts++) {
        struct walk_update upd[WALK_MAX_LEVELS + 1];
        int upd_level[WALK_MAX_LEVELS + 1];
        unsigned n = 0;
        vm_gpa_t table = regs->cr3 & addr_mask;
        unsigned level = levels;
        uint64_t and_bits = ~UINT64_C(0), or_bits = 0;
        vm_gpa_t entry_addr;
        uint64_t entry;

        for (;;) {
            const unsigned shift = 12 + 9 * (level - 1);
            entry_addr = table + ((va >> shift) & 511u) * 8u;
            if (!walk_read_entry(pm, entry_addr, 8, &entry))
                return x86_access_fault(fault, va, access, "paging-structure entry outside RAM",
                                        (int)level, entry_addr, 0);
            if ((entry & VM_X86_PTE_P) == 0)
                return x86_page_fault(fault, va, access, x86_pfec_access(regs, access),
                                      x86_not_present[level], (int)level, entry_addr, entry);
            const bool maps_page = level == 1 || (level <= 3 && (entry & VM_X86_PTE_PS) != 0);
            uint64_t reserved = reserved_any;
            if (level >= 4)
                reserved |= VM_X86_PTE_PS; /* PML5E/PML4E: "7 (PS) Reserved (must be 0)" */
            else if (maps_page && level == 3)
                reserved |= X86_PTE_ADDR_LOW_HUGE; /* 1 GiB page: 29:13 */
            else if (maps_page && level == 2)
                reserved |= X86_PTE_ADDR_LOW_LARGE; /* 2 MiB page: 20:13 */
            if ((entry & reserved) != 0)
                return x86_page_fault(fault, va, access,
                                      x86_pfec_access(regs, access) | VM_X86_PFEC_P |
                                          VM_X86_PFEC_RSVD,
                                      x86_reserved[level], (int)level, entry_addr, entry);
            and_bits &= entry;
            or_bits |= entry;
            if (maps_page)
                break;
            if ((entry & VM_X86_PTE_A) == 0) {
                upd[n] = (struct walk_update){entry_addr, entry, entry | VM_X86_PTE_A};
                upd_level[n++] = (int)level;
            }
            table = entry & addr_mask;
            level--;
        }

        const unsigned rights = x86_leaf_rights(regs, and_bits, or_bits, entry);
        const unsigned ctx = x86_ctx(regs);
        /* Judged as if D were set: 4.6 does not look at D. */
        if ((x86_perm_table[rights | X86_RIGHTS_DIRTY] & tlb_perm_bit(ctx, access)) == 0) {
            const struct x86_rights r = x86_rights_of(rights);
            uint32_t pf = x86_pfec_access(regs, access) | VM_X86_PFEC_P;
            if (x86_pk_flag(ctx, &r, access))
                pf |= VM_X86_PFEC_PK;
            return x86_page_fault(fault, va, access, pf, x86_refusal(ctx, &r, access),
                                  (int)level, entry_addr, entry);
        }

        /* 4.8: A in the entry that maps the page too, and D on a write. */
        const uint64_t leaf = entry | VM_X86_PTE_A |
                              (access == VM_ACCESS_WRITE ? VM_X86_PTE_D : 0);
        if (leaf != entry) {
            upd[n] = (struct walk_update){entry_addr, entry, leaf};
            upd_level[n++] = (int)level;
        }
        uint64_t leaf_now = entry;
        /* (Nothing to write, the common case once A and D are set: no call.) */
        if (!speculative && n != 0) {
            unsigned failed = 0;
            enum walk_commit_result c = walk_commit(pm, upd, n, &failed);
            if (c == WALK_COMMIT_FAULT)
                return x86_access_fault(fault, va, access, "paging-structure entry not writable",
                                        upd_level[failed], upd[failed].addr, upd[failed].old);
            if (c == WALK_COMMIT_RETRY)
                continue; /* an entry changed under us: walk again from CR3 */
        }
        if (!speculative)
            leaf_now = leaf; /* (== entry when there was nothing to write) */
        x86_walk_result(regs, va, leaf_now, level, addr_mask, rights, !(speculative && n != 0),
                        out);
        return VM_OK;
    }
    return x86_page_fault(fault, va, access, x86_pfec_access(regs, access),
                          "entry kept changing during A/D update", -1, 0, 0);
}
