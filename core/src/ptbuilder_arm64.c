/*
 * ptbuilder_arm64.c - builds VMSAv8-64 stage 1 translation tables in guest
 * memory (vm_ptbuilder_map_arm64): 4, 16 and 64 KiB granules, pages and
 * the blocks each granule allows, either VA range.
 *
 * How it works
 *   The geometry is the walk's (Arm ARM D8; AArch64.TranslationTableWalk):
 *   inputsize = 64 - TxSZ, stride = granule - 3, the start level
 *   4 - ceil((inputsize - granule) / stride), index bits [shift+width-1 :
 *   shift] per level with shift = (3 - level) * stride + granule, and only
 *   inputsize - shift bits at the start level. The target level is 3 for a
 *   page, else the level whose block size is page_size (4 KiB: 2 MiB at
 *   level 2, 1 GiB at level 1; 16 KiB: 32 MiB at level 2; 64 KiB: 512 MiB
 *   at level 2 - "firstblocklevel" forbids the rest without 52-bit output
 *   addresses).
 *
 *   Like the RISC-V builder (ptbuilder.c) it runs in two phases, so that a
 *   failing call changes nothing: a dry run walks the existing tree from
 *   the root to the target level without writing, deciding per level to
 *   follow an existing table descriptor (bits[1:0] = 11, whatever its other
 *   bits: the builder builds, the walker judges) or to take a fresh table
 *   from the bump allocator - rounded up to the granule, so every table is
 *   granule-sized and granule-aligned as the descriptor's next-level
 *   address [47:granule] requires - and checking that every slot and fresh
 *   table lies in RAM; then the commit zeroes the fresh tables top-down,
 *   links each with a table descriptor (11, no APTable/XNTable restriction)
 *   and writes the leaf.
 *
 * What was rejected
 *   - Handing out 4 KiB pages (vm_ptbuilder_alloc_page) for 16/64 KiB
 *     granules: a table must hold 2^stride descriptors and its address
 *     loses the bits below the granule.
 *   - Splitting an existing block into a table: that is a break-before-make
 *     sequence the caller owns (TLB maintenance in between); the builder
 *     reports it as VM_ERR_INVALID_ARGUMENT instead.
 */
#include "vmmem/ptbuilder.h"
#include "mmu_int.h"

#define PTB_ARM_MAX_LEVELS 4
#define PTB_ARM_PA_LIMIT (UINT64_C(1) << 48)
#define PTB_ARM_ZERO_CHUNK 4096u

/* Descriptor bits a caller may pass (vmmem/ptbuilder.h): AttrIndx, NS, AP,
 * SH, AF, nG (11:2), DBM, Contiguous, PXN, UXN and the software bits
 * (58:51). */
static const uint64_t ptb_arm_attr_mask =
    UINT64_C(0xffc) | (((UINT64_C(1) << 8) - 1) << 51);

/* The leaf level of page_size with this granule, -1 if not a page or an
 * allowed block. */
static int ptb_arm_target_level(unsigned granule, uint64_t page_size)
{
    if (page_size == (UINT64_C(1) << granule))
        return 3;
    switch (granule) {
    case 12:
        return page_size == VM_PAGE_2M ? 2 : page_size == VM_PAGE_1G ? 1 : -1;
    case 14:
        return page_size == VM_PAGE_32M ? 2 : -1;
    case 16:
        return page_size == VM_PAGE_512M ? 2 : -1;
    default:
        return -1;
    }
}

/* Write len zero bytes at pa (in RAM, checked by the dry run). */
static vm_err_t ptb_arm_zero(vm_physmem_t *pm, vm_gpa_t pa, uint64_t len)
{
    static const uint8_t zero[PTB_ARM_ZERO_CHUNK];
    for (uint64_t off = 0; off < len; off += PTB_ARM_ZERO_CHUNK) {
        vm_err_t err = vm_physmem_write_buf(pm, pa + off, zero, sizeof(zero));
        if (err != VM_OK)
            return err;
    }
    return VM_OK;
}

vm_err_t vm_ptbuilder_map_arm64(vm_ptbuilder_t *b, vm_mmu_t *mmu, unsigned granule_shift,
                                unsigned txsz, vm_gva_t va, vm_gpa_t pa, uint64_t page_size,
                                uint64_t attrs, vm_gpa_t root)
{
    if (!b || !mmu)
        return VM_ERR_INVALID_ARGUMENT;
    const unsigned g = granule_shift;
    if ((g != 12 && g != 14 && g != 16) || txsz < 16 || txsz > 39)
        return VM_ERR_INVALID_ARGUMENT;
    const int target = ptb_arm_target_level(g, page_size);
    const unsigned inputsize = 64 - txsz;
    const unsigned stride = g - 3;
    const int start = 4 - (int)((inputsize - g + stride - 1) / stride);
    if (target < start)
        return VM_ERR_INVALID_ARGUMENT; /* not a size this granule / range can map */
    const unsigned start_bits = inputsize - ((3u - (unsigned)start) * stride + g);
    /* VA[63:inputsize] all 0 (TTBR0 range) or all 1 (TTBR1 range). */
    const uint64_t top = va >> inputsize;
    if (top != 0 && top != (UINT64_MAX >> inputsize))
        return VM_ERR_INVALID_ARGUMENT;
    if ((va & (page_size - 1)) != 0 || (pa & (page_size - 1)) != 0 || pa >= PTB_ARM_PA_LIMIT ||
        (attrs & ~ptb_arm_attr_mask) != 0 || (root & ((UINT64_C(8) << start_bits) - 1)) != 0)
        return VM_ERR_INVALID_ARGUMENT;

    vm_physmem_t *pm = mmu->pm;
    const uint64_t granule = UINT64_C(1) << g;
    const uint64_t table_mask = (PTB_ARM_PA_LIMIT - 1) & ~(granule - 1);
    vm_gpa_t slot[PTB_ARM_MAX_LEVELS];      /* descriptor written or followed per level */
    vm_gpa_t new_table[PTB_ARM_MAX_LEVELS]; /* fresh table linked at level l ... */
    bool is_new[PTB_ARM_MAX_LEVELS];        /* ... if set */
    vm_gpa_t next = b->next;
    vm_gpa_t table = root;
    bool fresh = false; /* `table` is a fresh (all-zero) table */

    /* Phase 1: dry run. */
    for (int level = start; level <= target; level++) {
        const unsigned shift = (3u - (unsigned)level) * stride + g;
        const unsigned bits = level == start ? start_bits : stride;
        slot[level] = table + ((va >> shift) & ((UINT64_C(1) << bits) - 1)) * 8u;
        is_new[level] = false;
        if (!fresh && !physmem_ram_contains(pm, slot[level], 8))
            return VM_ERR_INVALID_ADDRESS;
        if (level == target)
            break;
        const uint64_t desc = fresh ? 0 : physmem_load_aligned(pm, slot[level], 8);
        if ((desc & VM_ARM64_DESC_VALID) != 0) {
            if ((desc & VM_ARM64_DESC_TABLE) == 0)
                return VM_ERR_INVALID_ARGUMENT; /* a block above the target level */
            table = desc & table_mask;
            fresh = false;
            continue;
        }
        /* A fresh table, granule-aligned. */
        if (next > UINT64_MAX - 2 * granule)
            return VM_ERR_INVALID_ADDRESS;
        const vm_gpa_t t = (next + granule - 1) & ~(granule - 1);
        if (!physmem_ram_contains(pm, t, granule))
            return VM_ERR_INVALID_ADDRESS;
        new_table[level] = t;
        is_new[level] = true;
        table = t;
        next = t + granule;
        fresh = true;
    }

    /* Phase 2: commit. Everything written was checked to be RAM above, so
     * the writes cannot fail; their results are still propagated. */
    vm_err_t err;
    for (int level = start; level < target; level++) {
        if (!is_new[level])
            continue;
        err = ptb_arm_zero(pm, new_table[level], granule);
        if (err != VM_OK)
            return err;
        err = vm_mmu_write_phys(mmu, slot[level],
                                new_table[level] | VM_ARM64_DESC_VALID | VM_ARM64_DESC_TABLE, 8);
        if (err != VM_OK)
            return err;
    }
    /* A page descriptor is 11 at level 3; a block descriptor is 01. */
    const uint64_t type = target == 3 ? VM_ARM64_DESC_VALID | VM_ARM64_DESC_TABLE
                                      : VM_ARM64_DESC_VALID;
    err = vm_mmu_write_phys(mmu, slot[target], pa | attrs | type, 8);
    if (err != VM_OK)
        return err;
    b->next = next;
    return VM_OK;
}
