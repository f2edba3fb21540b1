/*
 * test_mmu_access.c - accesses through translation (vmmem/mmu.h): scalar
 * reads/writes, page-crossing accesses, bulk transfers, instruction fetch,
 * MMIO behind a mapped page, LR/SC through translation and across two MMUs
 * sharing one physmem.
 *
 * How it works: Sv39 tables are written with raw PTEs (vm_mmu_write_phys),
 * data is checked through the physical side (vm_mmu_read_phys) so a bug
 * that is symmetric in the MMU's read and write paths cannot hide. Data
 * pages are deliberately mapped to non-contiguous, out-of-order PAs so a
 * page-crossing access that reuses the first page's translation lands in
 * the wrong place. Expectations come from mmu.h / physmem.h contracts, the
 * Priv. spec (stval = faulting VA, SC treated as a store for protection)
 * and Zalrsc (natural alignment, reservation rules).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define RAM_SIZE (UINT64_C(8) << 20)
#define ROOT UINT64_C(0x10000)
#define TABLES UINT64_C(0x11000)
#define TABLES_END UINT64_C(0x100000)
#define PA_A UINT64_C(0x205000) /* backs VA page 0 */
#define PA_B UINT64_C(0x203000) /* backs VA page 1: below PA_A, not adjacent */
#define PA_C UINT64_C(0x209000)
#define MMIO_BASE UINT64_C(0x40000000)
#define VA UINT64_C(0x40201000) /* Sv39 vpn 1/1/1; pages VA, VA+0x1000, ... */
#define RW (VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_A | VM_PTE_D)
#define RWX (RW | VM_PTE_X)

struct env {
    vm_mmu_t *mmu;
    vm_mmu_t *second; /* a vm_mmu_new_shared() vCPU, freed first */
    vm_gpa_t next_table;
};

static uint64_t satp_sv39(vm_gpa_t root)
{
    return (UINT64_C(8) << 60) | (UINT64_C(3) << 44) | (root >> 12);
}

static void env_init(struct env *e, vm_mmu_t *mmu)
{
    e->mmu = mmu;
    e->next_table = TABLES;
    vm_mmu_set_strict_align(mmu, false);
    vm_mmu_set_priv(mmu, VM_PRIV_S);
    vm_mmu_set_satp(mmu, satp_sv39(ROOT));
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    vm_mmu_t *mmu = vm_mmu_new(RAM_SIZE, false);
    assert_non_null(mmu);
    env_init(e, mmu);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    if (e->second)
        vm_mmu_free(e->second);
    vm_mmu_free(e->mmu);
    free(e);
    return 0;
}

static uint64_t pte_of(vm_gpa_t pa, uint64_t flags)
{
    return ((pa >> 12) << VM_PTE_PPN_SHIFT) | flags;
}

static void poke(struct env *e, vm_gpa_t pa, uint64_t v)
{
    assert_int_equal(vm_mmu_write_phys(e->mmu, pa, v, 8), VM_OK);
}

static uint64_t peek(struct env *e, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(e->mmu, pa, 8, &v), VM_OK);
    return v;
}

static uint8_t peek8(struct env *e, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(e->mmu, pa, 1, &v), VM_OK);
    return (uint8_t)v;
}

/* Map one 4 KiB Sv39 page (leaf at level 0) under ROOT; returns its PTE address. */
static vm_gpa_t map4k(struct env *e, vm_gva_t va, uint64_t leaf)
{
    vm_gpa_t table = ROOT;
    for (int l = 2; l > 0; l--) {
        vm_gpa_t slot = table + 8 * ((va >> (12 + 9 * l)) & 0x1ff);
        uint64_t pte = peek(e, slot);
        if (!(pte & VM_PTE_V)) {
            vm_gpa_t t = e->next_table;
            e->next_table += 0x1000;
            assert_true(t < TABLES_END);
            poke(e, slot, pte_of(t, VM_PTE_V));
            table = t;
        } else {
            table = ((pte & VM_PTE_PPN_MASK) >> VM_PTE_PPN_SHIFT) << 12;
        }
    }
    vm_gpa_t slot = table + 8 * ((va >> 12) & 0x1ff);
    poke(e, slot, leaf);
    return slot;
}

static void fill_phys(struct env *e, vm_gpa_t pa, uint8_t byte, size_t len)
{
    for (size_t i = 0; i < len; i++)
        assert_int_equal(vm_mmu_write_phys(e->mmu, pa + i, byte, 1), VM_OK);
}

static void expect_fault(struct env *e, vm_err_t got, vm_fault_kind_t kind, vm_access_t acc,
                         vm_gva_t va)
{
    static const uint32_t page[3] = {13, 15, 12}, access[3] = {5, 7, 1}, mis[3] = {4, 6, 0};
    const vm_fault_t *f = vm_mmu_last_fault(e->mmu);
    switch (kind) {
    case VM_FAULT_PAGE:
        assert_int_equal(got, VM_ERR_PAGE_FAULT);
        assert_int_equal(f->cause, page[acc]);
        break;
    case VM_FAULT_ACCESS:
        assert_int_equal(got, VM_ERR_ACCESS_FAULT);
        assert_int_equal(f->cause, access[acc]);
        break;
    default:
        assert_int_equal(got, VM_ERR_ALIGNMENT_FAULT);
        assert_int_equal(f->cause, mis[acc]);
        break;
    }
    assert_int_equal(f->kind, kind);
    assert_int_equal(f->access, acc);
    assert_int_equal(f->va, va);
}

/* ---- A counting MMIO device ----------------------------------------------- */

struct counter_dev {
    unsigned reads, writes;
    uint64_t last_off, last_val;
    uint8_t last_size;
};

static vm_err_t dev_read(void *opaque, uint64_t off, uint8_t size, uint64_t *val)
{
    struct counter_dev *d = opaque;
    d->reads++;
    d->last_off = off;
    d->last_size = size;
    *val = UINT64_C(0x1000) + off;
    return VM_OK;
}

static vm_err_t dev_write(void *opaque, uint64_t off, uint64_t val, uint8_t size)
{
    struct counter_dev *d = opaque;
    d->writes++;
    d->last_off = off;
    d->last_val = val;
    d->last_size = size;
    return VM_OK;
}

static void dev_destroy(void *opaque)
{
    free(opaque);
}

static const vm_mmio_ops_t counter_ops = {
    .read = dev_read, .write = dev_write, .poll = NULL, .destroy = dev_destroy,
};

static struct counter_dev *map_counter(struct env *e)
{
    struct counter_dev *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    assert_int_equal(vm_mmu_map_mmio(e->mmu, MMIO_BASE, 0x1000, &counter_ops, d), VM_OK);
    return d;
}

/* ---- Tests ------------------------------------------------------------------- */

/* Sizes 1/2/4/8, little-endian, zero-extended reads, truncated writes. */
static void test_access_sizes_little_endian(void **state)
{
    struct env *e = *state;
    map4k(e, VA, pte_of(PA_A, RW));
    assert_int_equal(vm_mmu_write(e->mmu, VA, UINT64_C(0xf807060504030201), 8), VM_OK);
    for (unsigned i = 0; i < 7; i++)
        assert_int_equal(peek8(e, PA_A + i), i + 1);
    assert_int_equal(peek8(e, PA_A + 7), 0xf8);
    uint64_t v = ~UINT64_C(0);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 1, 1, &v), VM_OK);
    assert_int_equal(v, 0x02);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 7, 1, &v), VM_OK);
    assert_int_equal(v, 0xf8); /* zero-, not sign-extended */
    assert_int_equal(vm_mmu_read(e->mmu, VA + 2, 2, &v), VM_OK);
    assert_int_equal(v, 0x0403);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 6, 2, &v), VM_OK);
    assert_int_equal(v, 0xf807);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 4, 4, &v), VM_OK);
    assert_int_equal(v, 0xf8070605);
    assert_int_equal(vm_mmu_read(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(v, UINT64_C(0xf807060504030201));

    /* narrow writes touch only their bytes */
    poke(e, PA_A + 8, ~UINT64_C(0));
    assert_int_equal(vm_mmu_write(e->mmu, VA + 8, UINT64_C(0xaabbccdd11223344), 1), VM_OK);
    assert_int_equal(peek(e, PA_A + 8), UINT64_C(0xffffffffffffff44));
    assert_int_equal(vm_mmu_write(e->mmu, VA + 10, UINT64_C(0xaabbccdd11223344), 2), VM_OK);
    assert_int_equal(peek(e, PA_A + 8), UINT64_C(0xffffffff3344ff44));
    assert_int_equal(vm_mmu_write(e->mmu, VA + 12, UINT64_C(0xaabbccdd11223344), 4), VM_OK);
    assert_int_equal(peek(e, PA_A + 8), UINT64_C(0x112233443344ff44));
}

/* Only 1, 2, 4, 8 are sizes: anything else is VM_ERR_INVALID_ARGUMENT and
 * writes nothing. */
static void test_access_invalid_sizes(void **state)
{
    struct env *e = *state;
    map4k(e, VA, pte_of(PA_A, RW));
    poke(e, PA_A, 0);
    poke(e, PA_A + 8, 0);
    const uint8_t bad[] = {0, 3, 5, 6, 7, 9, 16, 255};
    for (size_t i = 0; i < sizeof(bad); i++) {
        uint64_t v = 0;
        assert_int_equal(vm_mmu_read(e->mmu, VA, bad[i], &v), VM_ERR_INVALID_ARGUMENT);
        assert_int_equal(vm_mmu_write(e->mmu, VA, ~UINT64_C(0), bad[i]), VM_ERR_INVALID_ARGUMENT);
        assert_int_equal(vm_mmu_read_phys(e->mmu, PA_A, bad[i], &v), VM_ERR_INVALID_ARGUMENT);
    }
    assert_int_equal(peek(e, PA_A), 0);
    assert_int_equal(peek(e, PA_A + 8), 0);
}

/* A page-crossing access translates each page: the bytes land on both
 * (non-contiguous) PAs. */
static void test_access_cross_page_noncontiguous(void **state)
{
    struct env *e = *state;
    map4k(e, VA, pte_of(PA_A, RW));
    map4k(e, VA + 0x1000, pte_of(PA_B, RW));
    fill_phys(e, PA_A + 0xff8, 0, 8);
    fill_phys(e, PA_B, 0, 8);
    assert_int_equal(vm_mmu_write(e->mmu, VA + 0xffd, UINT64_C(0x8877665544332211), 8), VM_OK);
    assert_int_equal(peek8(e, PA_A + 0xffd), 0x11);
    assert_int_equal(peek8(e, PA_A + 0xffe), 0x22);
    assert_int_equal(peek8(e, PA_A + 0xfff), 0x33);
    assert_int_equal(peek(e, PA_B), UINT64_C(0x8877665544));
    assert_int_equal(peek8(e, PA_A + 0xffc), 0);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0xffd, 8, &v), VM_OK);
    assert_int_equal(v, UINT64_C(0x8877665544332211));
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0xfff, 2, &v), VM_OK);
    assert_int_equal(v, 0x4433);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0xffe, 4, &v), VM_OK);
    assert_int_equal(v, 0x55443322);
    assert_int_equal(vm_mmu_write(e->mmu, VA + 0xfff, 0xbeef, 2), VM_OK);
    assert_int_equal(peek8(e, PA_A + 0xfff), 0xef);
    assert_int_equal(peek8(e, PA_B), 0xbe);
}

/* Crossing into an unmapped page, a read-only page or the non-canonical
 * hole: fault at the second page's first byte (stval), nothing written. */
static void test_access_cross_into_fault(void **state)
{
    struct env *e = *state;
    map4k(e, VA, pte_of(PA_A, RW));
    fill_phys(e, PA_A + 0xff8, 0x5a, 8);
    uint64_t v = 0;
    vm_err_t err = vm_mmu_write(e->mmu, VA + 0xffc, ~UINT64_C(0), 8);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, VA + 0x1000);
    err = vm_mmu_read(e->mmu, VA + 0xffc, 8, &v);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_READ, VA + 0x1000);
    err = vm_mmu_write(e->mmu, VA + 0xfff, 0, 2);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, VA + 0x1000);
    assert_int_equal(peek(e, PA_A + 0xff8), UINT64_C(0x5a5a5a5a5a5a5a5a));

    map4k(e, VA + 0x1000, pte_of(PA_B, VM_PTE_V | VM_PTE_R | VM_PTE_A | VM_PTE_D));
    vm_mmu_flush_tlb(e->mmu);
    err = vm_mmu_write(e->mmu, VA + 0xffe, ~UINT64_C(0), 4);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, VA + 0x1000);
    assert_int_equal(peek(e, PA_A + 0xff8), UINT64_C(0x5a5a5a5a5a5a5a5a));
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0xffe, 4, &v), VM_OK);

    /* the last low-half page of Sv39, crossing into 0x40_0000_0000 */
    const vm_gva_t top = UINT64_C(0x3ffffff000);
    map4k(e, top, pte_of(PA_C, RW));
    fill_phys(e, PA_C + 0xff8, 0, 8);
    assert_int_equal(vm_mmu_write(e->mmu, top + 0xff8, 1, 8), VM_OK);
    err = vm_mmu_write(e->mmu, top + 0xffc, ~UINT64_C(0), 8);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, UINT64_C(0x4000000000));
    err = vm_mmu_read(e->mmu, top + 0xffe, 4, &v);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_READ, UINT64_C(0x4000000000));
    assert_int_equal(peek(e, PA_C + 0xff8), 1);
}

/* Both pages translate, but one part has no RAM behind it: an access fault
 * (PMA check on the PA), reported at the first byte of the failing part;
 * a part in MMIO makes it a misaligned MMIO access (access fault, device
 * untouched). Nothing is written. */
static void test_access_cross_into_no_ram(void **state)
{
    struct env *e = *state;
    struct counter_dev *d = map_counter(e);
    map4k(e, VA, pte_of(PA_A, RW));
    map4k(e, VA + 0x1000, pte_of(UINT64_C(0x80000000), RW)); /* no RAM, no MMIO */
    map4k(e, VA + 0x3000, pte_of(UINT64_C(0x80000000), RW));
    map4k(e, VA + 0x4000, pte_of(PA_B, RW));
    map4k(e, VA + 0x6000, pte_of(PA_C, RW));
    map4k(e, VA + 0x7000, pte_of(MMIO_BASE, RW));
    fill_phys(e, PA_A + 0xff8, 0x5a, 8);
    fill_phys(e, PA_B, 0x5a, 8);
    fill_phys(e, PA_C + 0xff8, 0x5a, 8);
    uint64_t v = 0;

    vm_err_t err = vm_mmu_read(e->mmu, VA + 0xffc, 8, &v);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, VA + 0x1000);
    err = vm_mmu_write(e->mmu, VA + 0xffe, ~UINT64_C(0), 4);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_WRITE, VA + 0x1000);
    assert_int_equal(peek(e, PA_A + 0xff8), UINT64_C(0x5a5a5a5a5a5a5a5a));

    err = vm_mmu_read(e->mmu, VA + 0x3ffc, 8, &v);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, VA + 0x3ffc);
    err = vm_mmu_write(e->mmu, VA + 0x3fff, ~UINT64_C(0), 2);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_WRITE, VA + 0x3fff);
    assert_int_equal(peek(e, PA_B), UINT64_C(0x5a5a5a5a5a5a5a5a));

    err = vm_mmu_read(e->mmu, VA + 0x6ffc, 8, &v);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, VA + 0x7000);
    err = vm_mmu_write(e->mmu, VA + 0x6ffe, ~UINT64_C(0), 4);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_WRITE, VA + 0x7000);
    assert_int_equal(peek(e, PA_C + 0xff8), UINT64_C(0x5a5a5a5a5a5a5a5a));
    assert_int_equal(d->reads, 0);
    assert_int_equal(d->writes, 0);
}

/* Bulk: every page translated first; any fault -> nothing transferred. */
static void test_access_bulk(void **state)
{
    struct env *e = *state;
    map4k(e, VA, pte_of(PA_A, RW));
    map4k(e, VA + 0x1000, pte_of(PA_B, RW));
    fill_phys(e, PA_A + 0x800, 0, 0x800);
    fill_phys(e, PA_B, 0, 0x1000);
    uint8_t buf[0x2000], back[0x2000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 1);

    /* 0x800 + 0x1000 + 0x800 bytes: the third page is unmapped */
    vm_err_t err = vm_mmu_write_bulk(e->mmu, VA + 0x800, buf, 0x2000);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, VA + 0x2000);
    for (size_t i = 0x800; i < 0x1000; i += 8)
        assert_int_equal(peek(e, PA_A + i), 0);
    for (size_t i = 0; i < 0x1000; i += 8)
        assert_int_equal(peek(e, PA_B + i), 0);
    err = vm_mmu_read_bulk(e->mmu, VA + 0x800, back, 0x2000);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_READ, VA + 0x2000);

    /* third page read-only: the write still faults there, nothing written */
    map4k(e, VA + 0x2000, pte_of(PA_C, VM_PTE_V | VM_PTE_R | VM_PTE_A | VM_PTE_D));
    vm_mmu_flush_tlb(e->mmu);
    err = vm_mmu_write_bulk(e->mmu, VA + 0x800, buf, 0x2000);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, VA + 0x2000);
    assert_int_equal(peek(e, PA_A + 0x800), 0);
    assert_int_equal(peek(e, PA_B), 0);

    /* third page's PA has no RAM: not RAM -> nothing transferred */
    map4k(e, VA + 0x2000, pte_of(UINT64_C(0x40000000), RW));
    vm_mmu_flush_tlb(e->mmu);
    /* mmu.h: a failed access is a page/access/alignment fault; no RAM at
     * the PA is the PMA class (access fault), at the failing part's VA */
    err = vm_mmu_write_bulk(e->mmu, VA + 0x800, buf, 0x2000);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_WRITE, VA + 0x2000);
    err = vm_mmu_read_bulk(e->mmu, VA + 0x800, back, 0x2000);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, VA + 0x2000);
    assert_int_equal(peek(e, PA_A + 0x800), 0);
    assert_int_equal(peek(e, PA_B), 0);

    /* two mapped pages: data lands on both PAs in order */
    assert_int_equal(vm_mmu_write_bulk(e->mmu, VA + 0x800, buf, 0x1800), VM_OK);
    for (size_t i = 0; i < 0x800; i++)
        assert_int_equal(peek8(e, PA_A + 0x800 + i), buf[i]);
    for (size_t i = 0; i < 0x1000; i += 0x3f)
        assert_int_equal(peek8(e, PA_B + i), buf[0x800 + i]);
    memset(back, 0, sizeof(back));
    assert_int_equal(vm_mmu_read_bulk(e->mmu, VA + 0x800, back, 0x1800), VM_OK);
    assert_memory_equal(back, buf, 0x1800);
    /* zero length succeeds and transfers nothing */
    assert_int_equal(vm_mmu_write_bulk(e->mmu, VA, buf, 0), VM_OK);
    assert_int_equal(vm_mmu_read_bulk(e->mmu, VA, back, 0), VM_OK);
}

/* Fetch needs X ("fetch page-fault" otherwise, cause 12); a load of an
 * X-only page without MXR is a load page fault. */
static void test_access_fetch_needs_x(void **state)
{
    struct env *e = *state;
    map4k(e, VA, pte_of(PA_A, VM_PTE_V | VM_PTE_X | VM_PTE_A | VM_PTE_D));
    map4k(e, VA + 0x1000, pte_of(PA_B, VM_PTE_V | VM_PTE_R | VM_PTE_A | VM_PTE_D));
    poke(e, PA_A + 0x10, UINT64_C(0xdeadbeef00b38593));
    poke(e, PA_B, UINT64_C(0x0000000000100073));
    uint64_t insn = 0;
    assert_int_equal(vm_mmu_fetch_insn(e->mmu, VA + 0x10, &insn), VM_OK);
    assert_int_equal(insn, 0x00b38593);
    assert_int_equal(vm_mmu_fetch_insn(e->mmu, VA + 0x14, &insn), VM_OK);
    assert_int_equal(insn, 0xdeadbeef);
    vm_err_t err = vm_mmu_fetch_insn(e->mmu, VA + 0x1000, &insn);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_EXEC, VA + 0x1000);
    uint64_t v = 0;
    err = vm_mmu_read(e->mmu, VA + 0x10, 4, &v);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_READ, VA + 0x10);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0x1000, 4, &v), VM_OK);
    assert_int_equal(v, 0x00100073);
    /* unmapped */
    err = vm_mmu_fetch_insn(e->mmu, VA + 0x3000, &insn);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_EXEC, VA + 0x3000);
}

/* MMIO behind a mapped page: the device sees the offset within its region
 * and the access size. */
static void test_access_mmio_through_page(void **state)
{
    struct env *e = *state;
    struct counter_dev *d = map_counter(e);
    map4k(e, VA, pte_of(MMIO_BASE, RW));
    assert_int_equal(vm_mmu_write(e->mmu, VA + 0x10, 0xabcd, 2), VM_OK);
    assert_int_equal(d->writes, 1);
    assert_int_equal(d->last_off, 0x10);
    assert_int_equal(d->last_size, 2);
    assert_int_equal(d->last_val, 0xabcd);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0x20, 4, &v), VM_OK);
    assert_int_equal(d->reads, 1);
    assert_int_equal(d->last_off, 0x20);
    assert_int_equal(d->last_size, 4);
    assert_int_equal(v, 0x1020);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0xff8, 8, &v), VM_OK);
    assert_int_equal(d->last_off, 0xff8);
    assert_int_equal(d->last_size, 8);
    assert_int_equal(v, 0x1ff8);
    assert_int_equal(vm_mmu_write(e->mmu, VA + 0x7, 0x1ff, 1), VM_OK);
    assert_int_equal(d->last_off, 7);
    assert_int_equal(d->last_size, 1);
    assert_int_equal(d->last_val & 0xff, 0xff);
    assert_int_equal(d->reads, 2);
    assert_int_equal(d->writes, 2);
}

/* mmu.h: "a misaligned MMIO access is an access fault" (strict alignment
 * off; the device is never called). */
static void test_access_mmio_misaligned(void **state)
{
    struct env *e = *state;
    struct counter_dev *d = map_counter(e);
    map4k(e, VA, pte_of(MMIO_BASE, RW));
    uint64_t v = 0;
    vm_err_t err = vm_mmu_read(e->mmu, VA + 0x11, 2, &v);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, VA + 0x11);
    err = vm_mmu_read(e->mmu, VA + 0x14, 8, &v);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, VA + 0x14);
    err = vm_mmu_write(e->mmu, VA + 0x13, 1, 4);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_WRITE, VA + 0x13);
    assert_int_equal(d->reads, 0);
    assert_int_equal(d->writes, 0);
}

/* LR translates as a load, SC as a store (Priv. spec: a page without W
 * "raises a store page-fault" for SC); every SC, even a faulting one,
 * drops the reservation (mmu.h / physmem_clear_reservation). */
static void test_access_lrsc_through_translation(void **state)
{
    struct env *e = *state;
    map4k(e, VA, pte_of(PA_A, RW));
    vm_gpa_t ro_pte = map4k(e, VA + 0x1000, pte_of(PA_B, VM_PTE_V | VM_PTE_R | VM_PTE_A | VM_PTE_D));
    poke(e, PA_A + 0x40, 111);
    poke(e, PA_B + 0x40, 222);
    uint64_t v = 0;
    bool stored = false;

    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x40, 8, &v), VM_OK);
    assert_int_equal(v, 111);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x40, 112, 8, &stored), VM_OK);
    assert_true(stored);
    assert_int_equal(peek(e, PA_A + 0x40), 112);
    /* a second SC without LR fails */
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x40, 113, 8, &stored), VM_OK);
    assert_false(stored);
    assert_int_equal(peek(e, PA_A + 0x40), 112);

    /* read-only page: LR fine, SC is a store page fault */
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x1040, 8, &v), VM_OK);
    assert_int_equal(v, 222);
    vm_err_t err = vm_mmu_store_conditional(e->mmu, VA + 0x1040, 223, 8, &stored);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, VA + 0x1040);
    assert_int_equal(peek(e, PA_B + 0x40), 222);
    /* the reservation is gone: with W granted, the SC fails */
    poke(e, ro_pte, pte_of(PA_B, RW));
    vm_mmu_flush_tlb(e->mmu);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x1040, 224, 8, &stored), VM_OK);
    assert_false(stored);
    assert_int_equal(peek(e, PA_B + 0x40), 222);

    /* Zalrsc: natural alignment required; vmmem raises misaligned 4 / 6,
     * whatever the strict setting */
    err = vm_mmu_load_reserved(e->mmu, VA + 0x44, 8, &v);
    expect_fault(e, err, VM_FAULT_MISALIGNED, VM_ACCESS_READ, VA + 0x44);
    err = vm_mmu_load_reserved(e->mmu, VA + 0x42, 4, &v);
    expect_fault(e, err, VM_FAULT_MISALIGNED, VM_ACCESS_READ, VA + 0x42);
    err = vm_mmu_store_conditional(e->mmu, VA + 0x44, 1, 8, &stored);
    expect_fault(e, err, VM_FAULT_MISALIGNED, VM_ACCESS_WRITE, VA + 0x44);
    err = vm_mmu_store_conditional(e->mmu, VA + 0x41, 1, 2, &stored);
    expect_fault(e, err, VM_FAULT_MISALIGNED, VM_ACCESS_WRITE, VA + 0x41);
    assert_int_equal(peek(e, PA_A + 0x40), 112);

    /* 4-byte LR/SC works too */
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x44, 4, &v), VM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x44, 0x7, 4, &stored), VM_OK);
    assert_true(stored);
    assert_int_equal(peek(e, PA_A + 0x40), (UINT64_C(7) << 32) | 112);

    /* a reservation at physical address 0 is a reservation like any other */
    map4k(e, VA + 0x2000, pte_of(0, RW));
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x2000, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x2000, 0x99, 8, &stored), VM_OK);
    assert_true(stored);
    assert_int_equal(peek(e, 0), 0x99);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x2000, 0x98, 8, &stored), VM_OK);
    assert_false(stored);
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x2000, 8, &v), VM_OK);
    poke(e, 0, 0x97);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x2000, 0x96, 8, &stored), VM_OK);
    assert_false(stored);
    assert_int_equal(peek(e, 0), 0x97);

    /* unmapped: load / store page faults */
    err = vm_mmu_load_reserved(e->mmu, VA + 0x3000, 8, &v);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_READ, VA + 0x3000);
    err = vm_mmu_store_conditional(e->mmu, VA + 0x3000, 1, 8, &stored);
    expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, VA + 0x3000);
}

/* LR/SC are RAM-only: MMIO -> access fault 5 / 7 and the device is not
 * touched (no side effect before the fault). */
static void test_access_lrsc_mmio(void **state)
{
    struct env *e = *state;
    struct counter_dev *d = map_counter(e);
    map4k(e, VA, pte_of(MMIO_BASE, RW));
    uint64_t v = 0;
    bool stored = true;
    vm_err_t err = vm_mmu_load_reserved(e->mmu, VA + 0x8, 8, &v);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, VA + 0x8);
    err = vm_mmu_store_conditional(e->mmu, VA + 0x8, 1, 8, &stored);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_WRITE, VA + 0x8);
    assert_int_equal(d->reads, 0);
    assert_int_equal(d->writes, 0);
    /* unbacked PA: access fault as well */
    map4k(e, VA + 0x1000, pte_of(UINT64_C(0x80000000), RW));
    err = vm_mmu_load_reserved(e->mmu, VA + 0x1000, 8, &v);
    expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, VA + 0x1000);

    /* Zalrsc: "Regardless of success or failure, executing an SC
     * instruction invalidates any reservation held by this hart" - an SC
     * that takes an access fault (device or unbacked PA) or a misaligned
     * fault too: the next SC to the reserved granule fails. */
    map4k(e, VA + 0x2000, pte_of(PA_A, RW));
    vm_gva_t faulting[3] = {VA + 0x8, VA + 0x1000, VA + 0x2044};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x2040, 8, &v), VM_OK);
        err = vm_mmu_store_conditional(e->mmu, faulting[k], 1, 8, &stored);
        expect_fault(e, err, k < 2 ? VM_FAULT_ACCESS : VM_FAULT_MISALIGNED, VM_ACCESS_WRITE,
                     faulting[k]);
        stored = true;
        assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x2040, 5, 8, &stored), VM_OK);
        assert_false(stored);
    }
    assert_int_equal(d->writes, 0);
}

/* vm_mmu_invalidate_reservation drops reservations on that granule only. */
static void test_access_invalidate_reservation(void **state)
{
    struct env *e = *state;
    map4k(e, VA, pte_of(PA_A, RW));
    uint64_t v = 0;
    bool stored = false;
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x80, 8, &v), VM_OK);
    vm_mmu_invalidate_reservation(e->mmu, VA + 0x88, 8); /* neighbouring granule */
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x80, 1, 8, &stored), VM_OK);
    assert_true(stored);
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x80, 8, &v), VM_OK);
    vm_mmu_invalidate_reservation(e->mmu, VA + 0x84, 4);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x80, 2, 8, &stored), VM_OK);
    assert_false(stored);
    assert_int_equal(peek(e, PA_A + 0x80), 1);
    /* a plain store by the same hart to the granule breaks it too */
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x80, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write(e->mmu, VA + 0x86, 9, 1), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x80, 3, 8, &stored), VM_OK);
    assert_false(stored);
    /* an unmapped VA: nothing happens and no fault is reported */
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x80, 8, &v), VM_OK);
    vm_mmu_invalidate_reservation(e->mmu, VA + 0x9000, 8);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_NONE);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x80, 4, 8, &stored), VM_OK);
    assert_true(stored);
    assert_int_equal(peek(e, PA_A + 0x80), 4);
}

/* Two harts (MMUs) over one physmem: a store by B to A's reservation set
 * makes A's SC fail ("must fail if a store to the reservation set from
 * another hart can be observed"), also through another VA aliasing the same
 * PA (reservations are physical); B's LR alone does not. */
static void test_access_shared_physmem(void **state)
{
    struct env *a = *state;
    struct env b;
    vm_mmu_t *mb = vm_mmu_new_shared(vm_mmu_physmem(a->mmu));
    assert_non_null(mb);
    a->second = mb;
    assert_int_equal(vm_mmu_memory_size(mb), RAM_SIZE);
    map4k(a, VA, pte_of(PA_A, RW));
    map4k(a, VA + 0x5000, pte_of(PA_A, RW)); /* alias of the same page */
    env_init(&b, mb);
    b.next_table = a->next_table; /* same tables (same root), no new ones */
    uint64_t v = 0;
    bool stored = false;

    /* B's write to the same granule */
    assert_int_equal(vm_mmu_load_reserved(a->mmu, VA + 0x100, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write(mb, VA + 0x104, 0x55, 1), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(a->mmu, VA + 0x100, 1, 8, &stored), VM_OK);
    assert_false(stored);
    /* B's write through an alias VA */
    assert_int_equal(vm_mmu_load_reserved(a->mmu, VA + 0x100, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write(mb, VA + 0x5100, 0x66, 8), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(a->mmu, VA + 0x100, 2, 8, &stored), VM_OK);
    assert_false(stored);
    assert_int_equal(peek(a, PA_A + 0x100), 0x66);
    /* B's write to another granule: A's SC succeeds */
    assert_int_equal(vm_mmu_load_reserved(a->mmu, VA + 0x100, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write(mb, VA + 0x108, 0x77, 8), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(a->mmu, VA + 0x100, 3, 8, &stored), VM_OK);
    assert_true(stored);
    /* both LR; A's successful SC writes the granule, so B's SC fails */
    assert_int_equal(vm_mmu_load_reserved(a->mmu, VA + 0x100, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_load_reserved(mb, VA + 0x5100, 8, &v), VM_OK);
    assert_int_equal(v, 3);
    assert_int_equal(vm_mmu_store_conditional(a->mmu, VA + 0x100, 4, 8, &stored), VM_OK);
    assert_true(stored);
    assert_int_equal(vm_mmu_store_conditional(mb, VA + 0x5100, 5, 8, &stored), VM_OK);
    assert_false(stored);
    assert_int_equal(peek(a, PA_A + 0x100), 4);
    /* a bulk write by B over the granule breaks A's reservation too */
    uint8_t blob[24];
    memset(blob, 0x3c, sizeof(blob));
    assert_int_equal(vm_mmu_load_reserved(a->mmu, VA + 0x100, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write_bulk(mb, VA + 0x5fe0, blob, sizeof(blob)), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(a->mmu, VA + 0x100, 7, 8, &stored), VM_OK);
    assert_true(stored); /* 0xfe0..0xff8 of the alias page: not the granule */
    assert_int_equal(vm_mmu_load_reserved(a->mmu, VA + 0x100, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write_bulk(mb, VA + 0x50f4, blob, sizeof(blob)), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(a->mmu, VA + 0x100, 8, 8, &stored), VM_OK);
    assert_false(stored);
    assert_int_equal(peek(a, PA_A + 0x100), UINT64_C(0x3c3c3c3c3c3c3c3c));
    /* B's own LR/SC pair works */
    assert_int_equal(vm_mmu_load_reserved(mb, VA + 0x100, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(mb, VA + 0x100, 6, 8, &stored), VM_OK);
    assert_true(stored);
    assert_int_equal(peek(a, PA_A + 0x100), 6);
}

/* mmu.h constructors: vm_mmu_new_default is 64 KiB, Bare, TLBs 64/128;
 * strict alignment comes from VM_STRICT_ALIGN=1; guest_slice copies RAM. */
static void test_access_defaults(void **state)
{
    (void)state;
    unsetenv("VM_STRICT_ALIGN");
    vm_mmu_t *m = vm_mmu_new_default();
    assert_non_null(m);
    assert_int_equal(vm_mmu_memory_size(m), 64 * 1024);
    assert_int_equal(vm_mmu_paging_mode(m), VM_PAGING_BARE);
    assert_int_equal(vm_mmu_last_fault(m)->kind, VM_FAULT_NONE);
    size_t it = 0, dt = 0;
    vm_mmu_tlb_capacity(m, &it, &dt);
    assert_int_equal(it, 64);
    assert_int_equal(dt, 128);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_write(m, 0x101, UINT64_C(0x0123456789abcdef), 8), VM_OK);
    assert_int_equal(vm_mmu_read(m, 0x101, 8, &v), VM_OK);
    assert_int_equal(v, UINT64_C(0x0123456789abcdef));
    uint8_t out[8];
    assert_int_equal(vm_mmu_guest_slice(m, 0x101, 8, out), VM_OK);
    assert_int_equal(out[0], 0xef);
    assert_int_equal(out[7], 0x01);
    assert_int_not_equal(vm_mmu_guest_slice(m, 64 * 1024 - 4, 8, out), VM_OK);
    /* Bare: beyond RAM is an access fault at the data access */
    vm_err_t err = vm_mmu_read(m, 64 * 1024, 8, &v);
    assert_int_equal(err, VM_ERR_ACCESS_FAULT);
    assert_int_equal(vm_mmu_last_fault(m)->cause, 5);
    vm_mmu_free(m);

    setenv("VM_STRICT_ALIGN", "1", 1);
    m = vm_mmu_new(64 * 1024, false);
    assert_non_null(m);
    err = vm_mmu_read(m, 0x101, 2, &v);
    assert_int_equal(err, VM_ERR_ALIGNMENT_FAULT);
    assert_int_equal(vm_mmu_last_fault(m)->cause, 4);
    vm_mmu_set_strict_align(m, false);
    assert_int_equal(vm_mmu_read(m, 0x101, 2, &v), VM_OK);
    vm_mmu_free(m);
    unsetenv("VM_STRICT_ALIGN");
}

/* vm_mmu_translate: VM_ERR_INVALID_ARGUMENT for a NULL out-pointer or an
 * access kind that is none of READ/WRITE/EXEC; nothing is cached. */
static void test_access_translate_invalid_arguments(void **state)
{
    struct env *e = *state;
    vm_gpa_t leaf = map4k(e, VA, pte_of(PA_A, VM_PTE_V | VM_PTE_R | VM_PTE_W));
    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(e->mmu, VA, VM_ACCESS_READ, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_translate(e->mmu, VA, (vm_access_t)3, &pa), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(peek(e, leaf) & (VM_PTE_A | VM_PTE_D), 0); /* no walk happened */
    assert_int_equal(vm_mmu_translate(e->mmu, VA + 4, VM_ACCESS_WRITE, &pa), VM_OK);
    assert_int_equal(pa, PA_A + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_access_sizes_little_endian, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_invalid_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_cross_page_noncontiguous, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_cross_into_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_cross_into_no_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_fetch_needs_x, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_mmio_through_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_mmio_misaligned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_lrsc_through_translation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_lrsc_mmio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_invalidate_reservation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_shared_physmem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_translate_invalid_arguments, setup, teardown),
        cmocka_unit_test(test_access_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
