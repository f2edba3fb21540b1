/*
 * ptbuilder_x86_64.c - builds x86-64 4-level and 5-level paging structures
 * in guest memory (vm_ptbuilder_map_x86_64; contract in vmmem/ptbuilder.h),
 * with the entry formats of Intel SDM Vol. 3A 4.5 (Tables 4-14 .. 4-20).
 *
 * How it works
 *   Same two phases as the RISC-V builder (ptbuilder.c), so a failing call
 *   changes neither guest memory nor builder.next:
 *     1. dry run: check the arguments, then walk from the root (PML5 or
 *        PML4) down to the target level - 3 (PDPT) for a 1 GiB page, 2
 *        (PD) for 2 MiB, 1 (PT) for 4 KiB - without writing: follow each
 *        present entry that references a table, or plan a fresh table
 *        from the bump allocator in place of a not-present one; every
 *        entry slot read or written and every fresh table must be RAM;
 *     2. commit: top-down, zero each fresh table and link it with P | R/W |
 *        U/S and its address (A clear, XD clear, no key), so the rights of
 *        the mapping are those of the entry that maps the page (4.6.1: R/W
 *        and U/S are ANDed, XD ORed over the walk); finally write the entry
 *        that maps the page: flags | P | PS (large pages) | address.
 *   A present PDPTE or PDE with PS = 1 above the target level is an
 *   existing large page: refused (mapping under it would silently change
 *   the translation of the whole large page). Any other present entry is
 *   followed through bits 51:12, whatever its other bits - the builder
 *   builds, the walker judges (a PS bit in a PML4E is reserved and the
 *   walker faults on it; the builder does not second-guess that).
 *
 * What was rejected
 *   - Linking fresh tables with A = 1: then a test could not observe the
 *     walker setting A in non-leaf entries (SDM 4.8), a rule worth checking.
 *   - Sharing the RISC-V builder loop through a format descriptor: the two
 *     differ in what a leaf looks like at every level (PS versus R/X), how
 *     a pointer is encoded and which sizes exist; the shared part is ten
 *     lines.
 */
#include "vmmem/ptbuilder.h"
#include "mmu_int.h"

#define PTBX_TABLE_SIZE MMU_PAGE_SIZE
#define PTBX_ENTRY_SIZE 8u
/* Bits 51:12: the address field of an entry that references a table or
 * maps a 4 KiB page. */
#define PTBX_ADDR_4K (X86_PA_LIMIT_MASK & ~UINT64_C(0xfff))
/* Bits 51:13: the address field (and the reserved bits below the page's
 * alignment) of an entry that maps a 2 MiB or 1 GiB page; bit 12 is PAT. */
#define PTBX_ADDR_LARGE (X86_PA_LIMIT_MASK & ~UINT64_C(0x1fff))

/* Target level of a page size (4 KiB: PTE, 2 MiB: PDE, 1 GiB: PDPTE), 0 if none. */
static unsigned ptbx_level_of_size(uint64_t page_size)
{
    switch (page_size) {
    case VM_PAGE_4K: return 1;
    case VM_PAGE_2M: return 2;
    case VM_PAGE_1G: return 3;
    default: return 0;
    }
}

/* The bits a caller may not pass: P and the address field; PS too for a
 * large page (bit 7 of a PTE is PAT and allowed). */
static uint64_t ptbx_forbidden_flags(unsigned target)
{
    if (target == 1)
        return VM_X86_PTE_P | PTBX_ADDR_4K;
    return VM_X86_PTE_P | VM_X86_PTE_PS | PTBX_ADDR_LARGE;
}

static unsigned ptbx_index(vm_gva_t va, unsigned level)
{
    return (unsigned)(va >> (12 + 9 * (level - 1))) & 511u;
}

vm_err_t vm_ptbuilder_map_x86_64(vm_ptbuilder_t *b, vm_mmu_t *mmu, bool la57, vm_gva_t va,
                                 vm_gpa_t pa, uint64_t page_size, uint64_t flags, vm_gpa_t root)
{
    if (!b || !mmu)
        return VM_ERR_INVALID_ARGUMENT;
    const unsigned levels = la57 ? 5u : 4u;
    const unsigned target = ptbx_level_of_size(page_size);
    if (target == 0)
        return VM_ERR_INVALID_ARGUMENT;
    if ((root & (PTBX_TABLE_SIZE - 1)) != 0 || (root & ~X86_PA_LIMIT_MASK) != 0)
        return VM_ERR_INVALID_ARGUMENT;
    if (!x86_canonical(levels, va) || (va & (page_size - 1)) != 0)
        return VM_ERR_INVALID_ARGUMENT;
    if ((pa & (page_size - 1)) != 0 || (pa & ~X86_PA_LIMIT_MASK) != 0)
        return VM_ERR_INVALID_ARGUMENT;
    if ((flags & ptbx_forbidden_flags(target)) != 0)
        return VM_ERR_INVALID_ARGUMENT;

    vm_physmem_t *pm = mmu->pm;
    vm_gpa_t slot[WALK_MAX_LEVELS + 1];      /* entry written or followed per level */
    vm_gpa_t new_table[WALK_MAX_LEVELS + 1]; /* fresh table linked at level l ... */
    bool is_new[WALK_MAX_LEVELS + 1];        /* ... if this is set */
    vm_gpa_t next = b->next;
    vm_gpa_t table = root;
    bool fresh = false; /* `table` is a fresh (all-zero) table */

    /* Phase 1: dry run. */
    for (unsigned level = levels; level >= target; level--) {
        slot[level] = table + ptbx_index(va, level) * PTBX_ENTRY_SIZE;
        is_new[level] = false;
        if (!fresh && !physmem_ram_contains(pm, slot[level], PTBX_ENTRY_SIZE))
            return VM_ERR_INVALID_ADDRESS;
        if (level == target)
            break;
        uint64_t entry = fresh ? 0 : physmem_load_aligned(pm, slot[level], PTBX_ENTRY_SIZE);
        if ((entry & VM_X86_PTE_P) != 0) {
            if (level <= 3 && (entry & VM_X86_PTE_PS) != 0)
                return VM_ERR_INVALID_ARGUMENT; /* an existing large page above the target */
            table = entry & PTBX_ADDR_4K;
            fresh = false;
            continue;
        }
        if (next > UINT64_MAX - PTBX_TABLE_SIZE ||
            !physmem_ram_contains(pm, next, PTBX_TABLE_SIZE))
            return VM_ERR_INVALID_ADDRESS;
        new_table[level] = next;
        is_new[level] = true;
        table = next;
        next += PTBX_TABLE_SIZE;
        fresh = true;
    }

    /* Phase 2: commit. Everything written was checked to be RAM above, so
     * the writes cannot fail; their results are still propagated. */
    static const uint8_t zero_table[PTBX_TABLE_SIZE];
    vm_err_t err;
    for (unsigned level = levels; level > target; level--) {
        if (!is_new[level])
            continue;
        err = vm_physmem_write_buf(pm, new_table[level], zero_table, sizeof(zero_table));
        if (err != VM_OK)
            return err;
        uint64_t link = VM_X86_PTE_P | VM_X86_PTE_RW | VM_X86_PTE_US | new_table[level];
        err = vm_mmu_write_phys(mmu, slot[level], link, PTBX_ENTRY_SIZE);
        if (err != VM_OK)
            return err;
    }
    uint64_t leaf = flags | VM_X86_PTE_P | pa | (target > 1 ? VM_X86_PTE_PS : 0);
    err = vm_mmu_write_phys(mmu, slot[target], leaf, PTBX_ENTRY_SIZE);
    if (err != VM_OK)
        return err;
    b->next = next;
    return VM_OK;
}
