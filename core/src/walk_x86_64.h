/*
 * walk_x86_64.h - the common case of the x86-64 walk, inline, so that a TLB
 * miss (mmu_translate_miss, access.c) keeps the walk's answer in
 * registers, as with walk_riscv.h; walk_x86_64.c has the full walk and
 * explains both. Not installed; included by mmu_int.h once struct vm_mmu
 * is complete.
 */
#ifndef VMMEM_WALK_X86_64_H
#define VMMEM_WALK_X86_64_H

#include "walk_int.h"
#include "x86_64_int.h"

/* The rights of a translation as an index of x86_perm_table (struct
 * x86_rights in walk_x86_64.c): R/W and U/S ANDed over the walk, XD ORed,
 * D of the leaf, PKRU AD/WD of its key. */
#define X86_RIGHTS_RW 1u
#define X86_RIGHTS_US 2u
#define X86_RIGHTS_XD 4u
#define X86_RIGHTS_DIRTY 8u
#define X86_RIGHTS_AD 16u
#define X86_RIGHTS_WD 32u
#define X86_RIGHTS_COUNT 64u

/* The TLB permission vector of each rights index (built once by
 * walk_x86_64_init). */
VM_HIDDEN extern uint64_t x86_perm_table[X86_RIGHTS_COUNT];

/*
 * walk_x86_64's fast descent for 4-level paging: PML4E, PDPTE, PDE each
 * P = 1, A = 1, PS = 0 and no reserved bit, then a PTE with P = 1 and no
 * reserved bit. True with the PTE, its address and the AND / OR of the
 * four entries; false (nothing written that matters) as soon as an entry
 * is anything else, including outside RAM.
 */
static inline bool x86_descend4(const vm_physmem_t *pm, vm_gpa_t table, vm_gva_t va,
                                uint64_t addr_mask, uint64_t reserved_any, vm_gpa_t *entry_addr,
                                uint64_t *entry, uint64_t *and_bits, uint64_t *or_bits)
{
    const uint64_t table_bad = VM_X86_PTE_P | VM_X86_PTE_A | VM_X86_PTE_PS | reserved_any;
    uint64_t and_all = ~UINT64_C(0), or_all = 0, e = 0;
    vm_gpa_t a = 0;
    for (unsigned shift = 39; shift >= 12; shift -= 9) {
        a = table + ((va >> shift) & 511u) * 8u;
        if (VM_UNLIKELY(!walk_read_entry(pm, a, 8, &e)))
            return false;
        and_all &= e;
        or_all |= e;
        if (shift == 12)
            break;
        if (VM_UNLIKELY((e & table_bad) != (VM_X86_PTE_P | VM_X86_PTE_A)))
            return false;
        table = e & addr_mask;
    }
    if (VM_UNLIKELY((e & (VM_X86_PTE_P | reserved_any)) != VM_X86_PTE_P))
        return false;
    *entry_addr = a;
    *entry = e;
    *and_bits = and_all;
    *or_bits = or_all;
    return true;
}

/* The rights of a translation as a table index (struct x86_rights), D not
 * included: R/W and U/S ANDed over its entries (and_bits), XD ORed (or_bits;
 * it reaches here only with NXE = 1, else it is reserved), and for a
 * user-mode address with CR4.PKE = 1 the PKRU AD/WD bits of the leaf's key. */
static inline unsigned x86_leaf_rights(const vm_x86_regs_t *regs, uint64_t and_bits,
                                       uint64_t or_bits, uint64_t leaf)
{
    const bool user_address = (and_bits & VM_X86_PTE_US) != 0;
    unsigned rights = ((and_bits & VM_X86_PTE_RW) != 0 ? X86_RIGHTS_RW : 0) |
                      (user_address ? X86_RIGHTS_US : 0) |
                      ((or_bits & VM_X86_PTE_XD) != 0 ? X86_RIGHTS_XD : 0);
    if (user_address && (regs->cr4 & VM_X86_CR4_PKE) != 0) {
        const unsigned pkey = (unsigned)((leaf & VM_X86_PTE_PKEY_MASK) >> VM_X86_PTE_PKEY_SHIFT);
        rights |= ((regs->pkru >> (2 * pkey)) & 3u) * X86_RIGHTS_AD; /* AD, WD */
    }
    return rights;
}

/* The answer of a successful walk whose leaf (as in memory now) maps the
 * page at `level`; rights from x86_leaf_rights. */
static inline void x86_walk_result(const vm_x86_regs_t *regs, vm_gva_t va, uint64_t leaf_now,
                                   unsigned level, uint64_t addr_mask, unsigned rights,
                                   bool cacheable, struct walk_result *out)
{
    const uint64_t page_mask = (UINT64_C(1) << (12 + 9 * (level - 1))) - 1;
    const vm_gpa_t base = leaf_now & addr_mask & ~page_mask;
    if ((leaf_now & VM_X86_PTE_D) != 0)
        rights |= X86_RIGHTS_DIRTY;
    out->page_pa = base;
    out->page_mask = page_mask;
    out->pa = base | (va & page_mask);
    out->pte = leaf_now;
    out->level = (int)level;
    /* 4.10.2.4: global when CR4.PGE = 1 and G = 1 in the entry that maps the page. */
    out->global = (leaf_now & VM_X86_PTE_G) != 0 && (regs->cr4 & VM_X86_CR4_PGE) != 0;
    /* 4.10.2.2: never cache a translation before A is 1 in every entry used. */
    out->perms = cacheable ? x86_perm_table[rights] : 0;
    out->tlb_flags = (rights & X86_RIGHTS_US) != 0 ? TLB_F_PKEY : 0;
    out->pkey = (uint8_t)((leaf_now & VM_X86_PTE_PKEY_MASK) >> VM_X86_PTE_PKEY_SHIFT);
}

/*
 * The common case of the walk: 4-level paging, a canonical VA, three tables
 * whose entries are present, accessed, not pages and without reserved
 * bits, then a present 4 KiB PTE without reserved bits that has A set (and
 * D, for a write) and whose rights allow the access - exactly what
 * walk_x86_64_general accepts with nothing to write and no fault, and
 * answers the same way. VM_OK with *out, else WALK_PENDING: walk again as
 * a call (walk_x86_64_general), from CR3 (this only read). The masks and
 * the root come from x86_refresh; mmu->need[access] is the permission bit
 * of the current context (x86_ctx), or never while paging is off.
 */
static VM_ALWAYS_INLINE vm_err_t walk_x86_64_lean(const struct vm_mmu *mmu, vm_gva_t va,
                                                  vm_access_t access, struct walk_result *out)
{
    const struct mmu_x86 *x = &mmu->x86;
    if (VM_LIKELY(x->lean_4level && x86_canonical(4, va))) {
        const uint64_t leaf_needs =
            VM_X86_PTE_A | (access == VM_ACCESS_WRITE ? VM_X86_PTE_D : 0);
        vm_gpa_t entry_addr;
        uint64_t entry, and_bits, or_bits;
        if (x86_descend4(mmu->pm, x->lean_root, va, x->lean_addr_mask, x->lean_reserved,
                         &entry_addr, &entry, &and_bits, &or_bits) &&
            (entry & leaf_needs) == leaf_needs) {
            const unsigned rights = x86_leaf_rights(&x->regs, and_bits, or_bits, entry);
            if ((x86_perm_table[rights | X86_RIGHTS_DIRTY] & mmu->need[access]) != 0) {
                x86_walk_result(&x->regs, va, entry, 1, x->lean_addr_mask, rights, true, out);
                return VM_OK;
            }
        }
    }
    return WALK_PENDING;
}

/* The full walk: every case, the faults (recorded in *fault), the A/D
 * commit. */
VM_HIDDEN vm_err_t walk_x86_64_general(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access,
                                       unsigned flags, struct walk_result *out,
                                       vm_fault_t *fault);

#endif /* VMMEM_WALK_X86_64_H */
