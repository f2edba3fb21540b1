/*
 * walk_int.h - what the page-table walkers (walk_riscv.c, walk_x86_64.c,
 * walk_arm64.c) share: entry reads from RAM, the atomic A/D commit with its
 * restart rule, the fault record, and the result a walk hands to the TLB.
 * Not installed. The design is described at the top of walk.c.
 */
#ifndef VMMEM_WALK_INT_H
#define VMMEM_WALK_INT_H

#include "vmmem/mmu.h"
#include "physmem_int.h"

#define WALK_MAX_LEVELS 5
/* A walk whose A/D compare-and-swap keeps failing gives up after this many
 * restarts (walk.c explains why a bound is needed). */
#define WALK_MAX_RESTARTS 64

#if defined(__GNUC__)
#define VM_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define VM_ALWAYS_INLINE inline
#endif

/* TLB entry flags carried by a walk result (struct walk_result.tlb_flags). */
#define TLB_F_PKEY 1u /* x86: permissions folded with PKRU: dropped when PKRU/PKE change */

/*
 * A successful walk: what the access gets now and what the TLB may cache.
 * perms is the permission vector (tlb.h): for each context of the mode's
 * permission registers and each access kind, whether the access is allowed
 * through this leaf WITHOUT any A/D / AF / dirty-state update. A bit that
 * would need an update is clear, so such an access misses the TLB and
 * walks again (BUG-CLASSES 2).
 */
struct walk_result {
    vm_gpa_t pa;          /* translated address of the VA */
    vm_gpa_t page_pa;     /* physical base of the (super)page / block */
    uint64_t page_mask;   /* page size - 1 */
    uint64_t perms;       /* TLB permission vector of the leaf */
    uint64_t pte;         /* leaf entry as in memory now (after any update) */
    int level;            /* leaf level, in the architecture's numbering */
    bool global;          /* the mapping is global (matches every ASID) */
    uint8_t tlb_flags;    /* TLB_F_* */
    uint8_t pkey;         /* x86 protection key (with TLB_F_PKEY) */
};

/* Walk flags. */
#define WALK_AD_DEFER 2u    /* internal, RISC-V inline walk of a TLB miss: where step 9
                               would update or check A/D, stop with WALK_PENDING
                               instead, nothing written; the caller walks again with
                               walk_riscv(), which does step 9 (mmu_int.h) */
/* What an inline walk of a TLB miss returns when it cannot finish: the
 * RISC-V walk at step 9 (WALK_AD_DEFER), the x86-64 and Arm64 ones outside
 * their common case. Nothing was written; the caller walks again as a
 * call (mmu_translate_miss_again). Not an error code: never returned by
 * the API. */
#define WALK_PENDING VM_ERR__COUNT
#define WALK_SPECULATIVE 1u /* no A/D write, no A/D check or fault for a clear A/D:
                               vm_mmu_invalidate_reservation's side-effect-free lookup */

/*
 * Read one naturally aligned table entry of `size` (4 or 8) bytes at pa,
 * straight from the RAM mapping. False if it does not lie wholly in RAM:
 * page tables are never read from a device (BUG-CLASSES 4, 14). For 8
 * bytes the RAM test is one compare (ram_end8 = ram_size - 7, or 0), and
 * the alignment test folds away where the caller's address is visibly
 * aligned (a table base plus index * 8).
 */
static inline bool walk_read_entry(const vm_physmem_t *pm, vm_gpa_t pa, unsigned size,
                                   uint64_t *val)
{
    const bool in_ram = size == 8 ? pa - pm->ram_base < pm->ram_end8
                                  : physmem_ram_contains(pm, pa, size);
    if (VM_UNLIKELY(!in_ram || (pa & (size - 1u)) != 0))
        return false;
    *val = physmem_load_aligned(pm, pa, size);
    return true;
}

/* One entry a successful walk must update in memory: from `old` (the value
 * the walk read and decided on) to `new`. */
struct walk_update {
    vm_gpa_t addr;
    uint64_t old, new;
};

enum walk_commit_result {
    WALK_COMMIT_OK = 0,  /* every update is in memory */
    WALK_COMMIT_RETRY,   /* an entry no longer held `old`: walk again from the root */
    WALK_COMMIT_FAULT,   /* an entry is not writable RAM: access fault at *failed */
};

/*
 * Apply the updates in order (top level first) by 8-byte compare-and-swap,
 * so an entry another hart changed is never overwritten (BUG-CLASSES 1).
 * Updates already applied before a RETRY stay (the bits were set on entries
 * the walk used; the restarted walk uses them again).
 */
VM_HIDDEN enum walk_commit_result walk_commit(vm_physmem_t *pm, const struct walk_update *u,
                                              unsigned n, unsigned *failed);

/*
 * Fill a fault record. level is in the architecture's numbering, -1 when no
 * table entry is involved (pte_addr and pte are then recorded as 0).
 */
VM_HIDDEN void walk_fault_fill(vm_fault_t *f, vm_gva_t va, vm_access_t access,
                               vm_fault_kind_t kind, uint32_t cause, uint32_t syndrome,
                               const char *reason, int level, vm_gpa_t pte_addr, uint64_t pte);

/* RISC-V exception cause of a fault kind (Priv. spec, mcause table). */
VM_HIDDEN uint32_t walk_riscv_cause(vm_fault_kind_t kind, vm_access_t access);

/*
 * The walkers. Each reads its mode's registers from mmu, walks the tables
 * for one access of va, and either fills *out (VM_OK) or fills *fault and
 * returns the error (VM_ERR_PAGE_FAULT, VM_ERR_ACCESS_FAULT, ...). They
 * never touch the TLB; mmu.c caches the result.
 */
struct vm_mmu;
VM_HIDDEN vm_err_t walk_riscv(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access,
                              unsigned flags, struct walk_result *out, vm_fault_t *fault);

/* RISC-V geometry (Sv39/48/57): levels of a mode, 0 for any other mode. */
static inline unsigned walk_riscv_levels(vm_paging_mode_t mode)
{
    switch (mode) {
    case VM_PAGING_SV39: return 3;
    case VM_PAGING_SV48: return 4;
    case VM_PAGING_SV57: return 5;
    default: return 0;
    }
}

/* Is va canonical for a RISC-V mode of `levels` levels (bits 63..VA_BITS-1
 * all equal, VA_BITS = 12 + 9 * levels)? */
static inline bool walk_riscv_canonical(unsigned levels, vm_gva_t va)
{
    unsigned va_bits = 12 + 9 * levels;
    uint64_t top = va >> (va_bits - 1);
    return top == 0 || top == (UINT64_MAX >> (va_bits - 1));
}

#endif /* VMMEM_WALK_INT_H */
