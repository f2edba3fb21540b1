/*
 * ref_mem.c - reference model of guest physical address routing.
 *
 * The physical address space of vmmem, written straight from the contract
 * in vmmem/physmem.h: RAM is [base, base + size) (base 0 unless the model
 * sets it, as for QEMU virt's RAM at 0x80000000; below base nothing is RAM); MMIO regions lie anywhere else and
 * never overlap RAM or each other; every other address is unbacked. The
 * model answers one question, "where does an access of `size` bytes at pa
 * land?", by walking the access from its first byte to its last and asking
 * for each stretch what backs it. That is slow (it loops over every region
 * for each stretch) and obvious, which is what a reference should be.
 *
 * All arithmetic is done on the LAST byte of a range (base + size - 1), so
 * a range ending exactly at 2^64 is representable and nothing ever wraps.
 *
 * Rejected: sorting the regions and binary-searching them (what a fast
 * implementation does; the model must not share its failure modes), and
 * sharing any code or header with core/ (this file includes only
 * ref_model.h and the C library).
 */
#include "ref_model.h"

/* Last byte of [base, base+size), size > 0; false if it would pass 2^64-1. */
static bool last_byte(uint64_t base, uint64_t size, uint64_t *last)
{
    if (size == 0 || size - 1 > UINT64_MAX - base)
        return false;
    *last = base + (size - 1);
    return true;
}

static bool ranges_overlap(uint64_t a_first, uint64_t a_last, uint64_t b_first, uint64_t b_last)
{
    return a_first <= b_last && b_first <= a_last;
}

/* Is byte pa a RAM byte? */
static bool ram_byte(const ref_mem_t *m, uint64_t pa)
{
    return m->size > 0 && pa >= m->base && pa - m->base <= m->size - 1;
}

bool ref_mem_in_ram(const ref_mem_t *m, uint64_t pa, uint64_t len)
{
    if (len == 0)
        return pa >= m->base && pa - m->base <= m->size;
    uint64_t last;
    return last_byte(pa, len, &last) && ram_byte(m, pa) && ram_byte(m, last);
}

/* Index of the region holding byte pa, or -1. */
static int region_holding(const ref_mem_t *m, uint64_t pa)
{
    for (int i = 0; i < m->n_mmio; i++) {
        uint64_t last;
        if (last_byte(m->mmio[i].base, m->mmio[i].size, &last) && pa >= m->mmio[i].base &&
            pa <= last)
            return i;
    }
    return -1;
}

/*
 * Routing rules (physmem.h, "Scalar accesses"): wholly inside RAM -> RAM;
 * wholly inside one region and naturally aligned (the physical address is
 * a multiple of the size) -> that device at offset pa - base; if any byte is
 * backed by nothing, or pa + size passes 2^64 -> NONE; otherwise the access
 * touches a region without fitting it (straddles a region edge, runs from
 * RAM into a region or from one region into the next, or is misaligned
 * inside a region) -> MMIO_BAD. A zero-size access is treated as RAM when
 * base <= pa <= base + size (the bulk rule "len 0 succeeds for any addr <=
 * size", moved to base), else NONE.
 */
int ref_mem_route(const ref_mem_t *m, uint64_t pa, uint64_t size, int *region, uint64_t *offset)
{
    uint64_t last;

    if (region)
        *region = -1;
    if (offset)
        *offset = 0;
    if (size == 0)
        return ref_mem_in_ram(m, pa, 0) ? REF_ROUTE_RAM : REF_ROUTE_NONE;
    if (!last_byte(pa, size, &last))
        return REF_ROUTE_NONE;
    if (ref_mem_in_ram(m, pa, size))
        return REF_ROUTE_RAM;

    int first_region = region_holding(m, pa);
    if (first_region >= 0) {
        uint64_t rlast = 0; /* set: a mapped region always has a last byte */
        last_byte(m->mmio[first_region].base, m->mmio[first_region].size, &rlast);
        if (last <= rlast && pa % size == 0) {
            if (region)
                *region = first_region;
            if (offset)
                *offset = pa - m->mmio[first_region].base;
            return REF_ROUTE_MMIO;
        }
    }

    /* Walk the access stretch by stretch: is every byte backed by something? */
    uint64_t cursor = pa;
    for (;;) {
        uint64_t stretch_last = 0;
        if (ram_byte(m, cursor)) {
            stretch_last = m->base + (m->size - 1);
        } else {
            int r = region_holding(m, cursor);
            if (r < 0)
                return REF_ROUTE_NONE;
            last_byte(m->mmio[r].base, m->mmio[r].size, &stretch_last);
        }
        if (stretch_last >= last)
            break;
        cursor = stretch_last + 1;
    }
    return REF_ROUTE_MMIO_BAD;
}

/*
 * physmem.h, vm_physmem_map_mmio: a region must be non-empty, base + size
 * must not overflow (a region may not wrap past 2^64; we read "overflow"
 * in the C sense, so a region ending exactly at 2^64, whose base + size is
 * 0 in uint64_t arithmetic, is refused too), and it may overlap neither RAM
 * nor any mapped region.
 */
bool ref_mem_region_ok(const ref_mem_t *m, uint64_t base, uint64_t size)
{
    uint64_t last;

    if (size == 0 || size > UINT64_MAX - base)
        return false;
    last = base + size - 1;
    if (m->size > 0 && ranges_overlap(base, last, m->base, m->base + (m->size - 1)))
        return false;
    for (int i = 0; i < m->n_mmio; i++) {
        uint64_t rlast;
        if (last_byte(m->mmio[i].base, m->mmio[i].size, &rlast) &&
            ranges_overlap(base, last, m->mmio[i].base, rlast))
            return false;
    }
    return true;
}
