/*
 * walk_arm64.h - the common case of the Arm64 stage 1 walk, inline, so that
 * a TLB miss (mmu_translate_miss, access.c) keeps the walk's answer in
 * registers, as with walk_riscv.h; walk_arm64.c has the full walk and
 * explains both. Not installed; included by mmu_int.h once struct vm_mmu
 * is complete.
 */
#ifndef VMMEM_WALK_ARM64_H
#define VMMEM_WALK_ARM64_H

#include "arm64_int.h"
#include "walk_int.h"

/* Effective permission state of a leaf: the table index. */
enum {
    ARM_P_EL0 = 1u,    /* AP[1]: data access at EL0 (after APTable[0]) */
    ARM_P_RO = 2u,     /* AP[2]: read-only (after APTable[1] and dirty state) */
    ARM_P_UXN = 4u,    /* UXN | UXNTable */
    ARM_P_PXN = 8u,    /* PXN | PXNTable */
    ARM_P_CLEAN = 16u, /* writable only by clearing AP[2] (DBM with HD): no write cached */
    ARM_P_STATES = 32u,
};

/* The TLB permission vector of each state, and the state of each 9-bit
 * index (built once by walk_arm64_init). */
VM_HIDDEN extern uint64_t arm_perm_table[ARM_P_STATES];
VM_HIDDEN extern uint8_t arm_state_table[512];

/*
 * The descriptor and table bits that decide a leaf's permission state,
 * packed into a 9-bit index (arm_state_index): AP[1] (0), AP[2] (1), DBM
 * under HD (2), PXN (3), UXN (4), PXNTable (5), UXNTable (6), APTable[0]
 * (7), APTable[1] (8) - the table bits ORed over the walk, and zero with
 * TCR.HPDn.
 */
static inline unsigned arm_state_index(uint64_t desc, uint64_t tables, uint64_t hier_mask,
                                       uint64_t dbm_bit)
{
    const uint64_t t = tables & hier_mask;
    return (unsigned)(((desc >> 6) & 3u) | ((desc & dbm_bit) >> 49) | ((desc >> 50) & 0x18u) |
                      ((t >> 54) & 0x1e0u));
}

/* Why a walk stopped. */
enum arm_stop {
    ARM_OUT_OF_RANGE,      /* TTW: !basefound */
    ARM_RANGE_DISABLED,    /* TTW: disabled (EPDn) */
    ARM_TTBR_TOO_WIDE,     /* TTW: baseregister above outputsize */
    ARM_DESC_OUTSIDE_RAM,  /* the descriptor read hit no RAM */
    ARM_INVALID,           /* desc<0> = 0, or 01 at level 3 */
    ARM_TABLE_TOO_WIDE,    /* next-level table address above outputsize */
    ARM_BLOCK_LEVEL,       /* level < firstblocklevel */
    ARM_OA_TOO_WIDE,       /* output address above outputsize */
    ARM_AF_CLEAR,          /* desc<10> = 0 without update_AF */
    ARM_PERMISSION,        /* CheckPermission failed */
    ARM_UPDATE_NOT_RAM,    /* the AF / AP[2] update could not be written */
    ARM_LIVELOCK,          /* the descriptor kept changing under the update */
};

/* Where the descent ended. */
struct arm_leaf {
    vm_gpa_t desc_addr;
    uint64_t desc;
    uint64_t tables;  /* OR of the table descriptors on the path */
    unsigned level;
    unsigned shift;   /* log2 of the block or page size */
};

/*
 * The TTW repeat loop: from the start level down to a leaf. Reads only; no
 * calls. Returns the stop reason (enum arm_stop) or -1 with the leaf in *L.
 * granule, stride and start are R's (log2 of the granule, granule - 3,
 * start level): inlined with them constants for the 4 KiB granule from
 * level 0 or 1 (48- and 39-bit VAs), so the compiler unrolls those, and
 * once with R's values for the rest (walk_arm64_general).
 */
static VM_ALWAYS_INLINE int arm_descend(const vm_physmem_t *pm, const struct arm64_range *R,
                                        vm_gva_t va, struct arm_leaf *L, unsigned granule,
                                        unsigned stride, unsigned start)
{
    vm_gpa_t table = R->base;
    unsigned level = start;
    unsigned shift = (3u - level) * stride + granule; /* addrselectbottom */
    uint64_t index_mask = (UINT64_C(1) << R->start_bits) - 1;
    uint64_t tables = 0;
    for (;;) {
        const vm_gpa_t desc_addr = table + ((va >> shift) & index_mask) * 8u;
        uint64_t desc;
        L->desc_addr = desc_addr;
        L->level = level;
        L->shift = shift;
        if (VM_UNLIKELY(!walk_read_entry(pm, desc_addr, 8, &desc))) {
            L->desc = 0;
            return ARM_DESC_OUTSIDE_RAM;
        }
        L->desc = desc;
        if (VM_LIKELY((desc & 3u) == 3u && level < 3)) {
            /* A table descriptor: the next-level table address must fit. */
            if (VM_UNLIKELY((desc & R->oa_fault_mask) != 0))
                return ARM_TABLE_TOO_WIDE;
            /* (table_mask keeps bits 47:granule: saying so lets the
             * compiler drop walk_read_entry's alignment test) */
            table = desc & R->table_mask & ~((UINT64_C(1) << granule) - 1);
            tables |= desc;
            level++;
            shift -= stride;
            index_mask = (UINT64_C(1) << stride) - 1;
            continue;
        }
        L->tables = tables;
        /* "if desc<0> == '0' || (desc<1:0> == '01' && level == 3) then
         * TranslationFault" */
        if ((desc & 1u) == 0 || (level == 3 && (desc & 2u) == 0))
            return ARM_INVALID;
        /* "if level < firstblocklevel then TranslationFault" */
        if (level < R->first_block)
            return ARM_BLOCK_LEVEL;
        if (VM_UNLIKELY((desc & R->oa_fault_mask) != 0))
            return ARM_OA_TOO_WIDE;
        return -1;
    }
}

/* The answer of a successful walk: leaf L whose descriptor is now `now`
 * (after any update), permission state `state`. */
static inline void arm_walk_result(const struct arm64_range *R, vm_gva_t va,
                                   const struct arm_leaf *L, uint64_t now, unsigned state,
                                   struct walk_result *out)
{
    const uint64_t page_mask = (UINT64_C(1) << L->shift) - 1;
    out->page_pa = now & R->table_mask & ~page_mask;
    out->page_mask = page_mask;
    out->pa = out->page_pa | (va & page_mask);
    out->pte = now;
    out->level = (int)L->level;
    out->global = (now & VM_ARM64_NG) == 0;
    /* Nothing is cached while AF = 0; a writable-clean page is cached
     * without write permission (state bit ARM_P_CLEAN). */
    out->perms = (now & VM_ARM64_AF) != 0 ? arm_perm_table[state] : 0;
    out->tlb_flags = 0;
    out->pkey = 0;
}

/*
 * The common case of the walk: the 4 KiB granule from level 0 or 1, a VA
 * inside its range, a leaf with AF set whose permissions allow the access
 * and that needs no dirty-state update (no write to a writable-clean page)
 * - exactly what walk_arm64_general accepts with nothing to write and no
 * fault, and answers the same way. VM_OK with *out, else WALK_PENDING:
 * walk again as a call (walk_arm64_general), from the TTBR (this only
 * read).
 */
static VM_ALWAYS_INLINE vm_err_t walk_arm64_lean(const struct vm_mmu *mmu, vm_gva_t va,
                                                 vm_access_t access, struct walk_result *out)
{
    const struct mmu_arm64 *a = &mmu->arm;
    const struct arm64_range *R = &a->range[(va >> 55) & 1];
    if (VM_LIKELY(R->walks && ((va >> R->inputsize) & R->range_mask) == R->range_expect &&
                  !R->base_too_wide && R->granule == 12 && R->start_level <= 1)) {
        struct arm_leaf L;
        const int why = R->start_level == 0 ? arm_descend(mmu->pm, R, va, &L, 12, 9, 0)
                                            : arm_descend(mmu->pm, R, va, &L, 12, 9, 1);
        if (VM_LIKELY(why < 0 && (L.desc & VM_ARM64_AF) != 0)) {
            const unsigned state =
                arm_state_table[arm_state_index(L.desc, L.tables, R->hier_mask, a->dbm_bit)];
            if (VM_LIKELY((arm_perm_table[state & (ARM_P_CLEAN - 1u)] & mmu->need[access]) != 0 &&
                          !(access == VM_ACCESS_WRITE && (state & ARM_P_CLEAN)))) {
                arm_walk_result(R, va, &L, L.desc, state, out);
                return VM_OK;
            }
        }
    }
    return WALK_PENDING;
}

/* The full walk: every case, the faults (recorded in *fault), the AF /
 * dirty-state update. */
VM_HIDDEN vm_err_t walk_arm64_general(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access,
                                      unsigned flags, struct walk_result *out, vm_fault_t *fault);

#endif /* VMMEM_WALK_ARM64_H */
