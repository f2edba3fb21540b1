/*
 * ptbuilder.c - builds RISC-V Sv39/Sv48/Sv57 page tables in guest memory.
 *
 * How it works
 *   vm_ptbuilder_map() runs in two phases so that a failing call changes
 *   nothing (neither guest memory nor builder.next):
 *     1. dry run: check every argument, then walk down the existing tree
 *        from the root to the target level without writing, deciding per
 *        level whether to follow an existing pointer or to take a fresh
 *        table page from the bump allocator, and checking that every PTE
 *        slot read or written and every fresh table lies in RAM;
 *     2. commit: for each fresh table (top-down) zero it, then link it
 *        into its parent with a pointer PTE (V only, as the spec wants
 *        D/A/U clear on non-leaf PTEs); finally write the leaf
 *        flags | V | ppn << 10 and advance builder.next.
 *   An existing valid non-leaf PTE is followed whatever its other bits are
 *   (the builder builds, the walker judges); an existing leaf above the
 *   target level is an error, one at the target level is overwritten.
 *
 * What was rejected
 *   - Writing as we walk and undoing on error: an undo needs the old
 *     values and is easy to get subtly wrong; the dry run is short.
 *   - Accepting 256 TiB Sv57 leaves: the public page-size list stops at
 *     512 GiB (VM_PAGE_512G).
 */
#include "vmmem/ptbuilder.h"
#include "mmu_int.h"

#define PTB_TABLE_SIZE MMU_PAGE_SIZE
#define PTB_PTE_SIZE 8u
#define PTB_PA_BITS 56

void vm_ptbuilder_init(vm_ptbuilder_t *b, vm_gpa_t start)
{
    if (!b)
        return;
    /* Round up to 4 KiB; an address too close to 2^64 to round stays at
     * the last page, which is never RAM (maps then fail cleanly). */
    vm_gpa_t page = start > UINT64_MAX - (PTB_TABLE_SIZE - 1)
                        ? UINT64_MAX & ~(PTB_TABLE_SIZE - 1)
                        : (start + PTB_TABLE_SIZE - 1) & ~(PTB_TABLE_SIZE - 1);
    b->start = page;
    b->next = page;
}

/* The bump pointer saturates at the last page rather than wrapping to 0. */
vm_gpa_t vm_ptbuilder_alloc_page(vm_ptbuilder_t *b)
{
    if (!b)
        return 0;
    vm_gpa_t page = b->next;
    if (b->next <= UINT64_MAX - 2 * PTB_TABLE_SIZE + 1)
        b->next += PTB_TABLE_SIZE;
    return page;
}

static int ptb_level_of_size(uint64_t page_size)
{
    switch (page_size) {
    case VM_PAGE_4K: return 0;
    case VM_PAGE_2M: return 1;
    case VM_PAGE_1G: return 2;
    case VM_PAGE_512G: return 3;
    default: return -1;
    }
}

/* A leaf: R or X set, W only with R (Priv. spec step 3), bits 7:0 only. */
static bool ptb_flags_ok(uint64_t flags)
{
    if ((flags & ~UINT64_C(0xff)) != 0)
        return false;
    if ((flags & (VM_PTE_R | VM_PTE_X)) == 0)
        return false;
    if ((flags & VM_PTE_W) != 0 && (flags & VM_PTE_R) == 0)
        return false;
    return true;
}

static uint64_t ptb_ppn_field(vm_gpa_t pa)
{
    return (pa >> 12) << VM_PTE_PPN_SHIFT;
}

vm_err_t vm_ptbuilder_map(vm_ptbuilder_t *b, vm_mmu_t *mmu, vm_paging_mode_t mode, vm_gva_t va,
                          vm_gpa_t pa, uint64_t page_size, uint64_t flags, vm_gpa_t root)
{
    if (!b || !mmu)
        return VM_ERR_INVALID_ARGUMENT;
    const unsigned levels = walk_riscv_levels(mode);
    int target = ptb_level_of_size(page_size);
    if (levels == 0 || target < 0 || target >= (int)levels)
        return VM_ERR_INVALID_ARGUMENT;
    if ((root & (PTB_TABLE_SIZE - 1)) != 0 || (va & (page_size - 1)) != 0 ||
        (pa & (page_size - 1)) != 0 || (pa >> PTB_PA_BITS) != 0)
        return VM_ERR_INVALID_ARGUMENT;
    if (!walk_riscv_canonical(levels, va) || !ptb_flags_ok(flags))
        return VM_ERR_INVALID_ARGUMENT;

    vm_physmem_t *pm = mmu->pm;
    vm_gpa_t slot[WALK_MAX_LEVELS];      /* PTE address written or followed per level */
    vm_gpa_t new_table[WALK_MAX_LEVELS]; /* fresh table linked at level i ... */
    bool is_new[WALK_MAX_LEVELS];        /* ... if this is set */
    vm_gpa_t next = b->next;
    vm_gpa_t table = root;
    bool fresh = false; /* `table` is a fresh (all-zero) table */

    /* Phase 1: dry run. */
    for (int i = (int)levels - 1; i >= target; i--) {
        uint64_t index = (va >> (12 + 9 * (unsigned)i)) & 511u;
        slot[i] = table + index * PTB_PTE_SIZE;
        is_new[i] = false;
        if (!fresh && !physmem_ram_contains(pm, slot[i], PTB_PTE_SIZE))
            return VM_ERR_INVALID_ADDRESS;
        if (i == target)
            break;
        uint64_t pte = fresh ? 0 : physmem_load_aligned(pm, slot[i], PTB_PTE_SIZE);
        if ((pte & VM_PTE_V) != 0) {
            if ((pte & (VM_PTE_R | VM_PTE_X)) != 0)
                return VM_ERR_INVALID_ARGUMENT; /* a leaf above the target level */
            table = ((pte & VM_PTE_PPN_MASK) >> VM_PTE_PPN_SHIFT) << 12;
            fresh = false;
            continue;
        }
        if (next > UINT64_MAX - PTB_TABLE_SIZE || !physmem_ram_contains(pm, next, PTB_TABLE_SIZE))
            return VM_ERR_INVALID_ADDRESS;
        new_table[i] = next;
        is_new[i] = true;
        table = next;
        next += PTB_TABLE_SIZE;
        fresh = true;
    }

    /* Phase 2: commit. Everything written was checked to be RAM above, so
     * the writes cannot fail; their results are still propagated. */
    static const uint8_t zero_table[PTB_TABLE_SIZE];
    vm_err_t err;
    for (int i = (int)levels - 1; i > target; i--) {
        if (!is_new[i])
            continue;
        err = vm_physmem_write_buf(pm, new_table[i], zero_table, sizeof(zero_table));
        if (err != VM_OK)
            return err;
        err = vm_mmu_write_phys(mmu, slot[i], VM_PTE_V | ptb_ppn_field(new_table[i]), PTB_PTE_SIZE);
        if (err != VM_OK)
            return err;
    }
    err = vm_mmu_write_phys(mmu, slot[target], flags | VM_PTE_V | ptb_ppn_field(pa), PTB_PTE_SIZE);
    if (err != VM_OK)
        return err;
    b->next = next;
    return VM_OK;
}

vm_err_t vm_ptbuilder_map_sv39(vm_ptbuilder_t *b, vm_mmu_t *mmu, vm_gva_t va, vm_gpa_t pa,
                               uint64_t flags, vm_gpa_t root)
{
    return vm_ptbuilder_map(b, mmu, VM_PAGING_SV39, va, pa, VM_PAGE_4K, flags, root);
}

vm_err_t vm_ptbuilder_map_sv48(vm_ptbuilder_t *b, vm_mmu_t *mmu, vm_gva_t va, vm_gpa_t pa,
                               uint64_t flags, vm_gpa_t root)
{
    return vm_ptbuilder_map(b, mmu, VM_PAGING_SV48, va, pa, VM_PAGE_4K, flags, root);
}

vm_err_t vm_ptbuilder_map_sv57(vm_ptbuilder_t *b, vm_mmu_t *mmu, vm_gva_t va, vm_gpa_t pa,
                               uint64_t flags, vm_gpa_t root)
{
    return vm_ptbuilder_map(b, mmu, VM_PAGING_SV57, va, pa, VM_PAGE_4K, flags, root);
}
