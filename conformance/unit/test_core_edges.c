/*
 * test_core_edges.c - edge cases of the public MMU, access and page-table
 * builder API that the component tests leave out: argument errors, address
 * wrap-around, bulk transfers longer than a handful of pages, page-crossing
 * reservation invalidation, out-of-range enum values, a builder at the top
 * of the address space, a mode switch to Sv57 through
 * vm_mmu_set_paging_mode().
 *
 * How it works: every expectation comes from a contract in
 * the headers in core/include/vmmem (or types.h's meaning of each error code) and the
 * RISC-V privileged spec (Sv39/Sv57 walk, Svade, stval = faulting VA), never
 * from what the code happened to return. Tables are built with the public
 * builder; data is checked through the physical side (vm_mmu_read_phys) so
 * a bug symmetric in the MMU's read and write paths cannot hide. Data pages
 * are mapped to non-contiguous, out-of-order PAs so reusing one page's
 * translation for another lands in the wrong place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define RAM_SIZE (UINT64_C(4) << 20)
#define ROOT UINT64_C(0x10000)
#define TABLES UINT64_C(0x11000)
#define PA_A UINT64_C(0x205000)
#define PA_B UINT64_C(0x203000) /* below PA_A, not adjacent */
#define PA_C UINT64_C(0x209000)
#define VA UINT64_C(0x40201000) /* Sv39 vpn 1/1/1 */
#define ASID 5u
#define RW (VM_PTE_R | VM_PTE_W | VM_PTE_A | VM_PTE_D)

struct env {
    vm_mmu_t *mmu;
    vm_ptbuilder_t b;
};

static uint64_t satp_of(uint64_t mode_field, uint16_t asid, vm_gpa_t root)
{
    return (mode_field << 60) | ((uint64_t)asid << 44) | (root >> 12);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->mmu = vm_mmu_new(RAM_SIZE, false);
    assert_non_null(e->mmu);
    vm_ptbuilder_init(&e->b, TABLES);
    vm_mmu_set_strict_align(e->mmu, false);
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    vm_mmu_set_satp(e->mmu, satp_of(8, ASID, ROOT));
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    vm_mmu_free(e->mmu);
    free(e);
    return 0;
}

static void map4k(struct env *e, vm_gva_t va, vm_gpa_t pa, uint64_t flags)
{
    assert_int_equal(vm_ptbuilder_map_sv39(&e->b, e->mmu, va, pa, flags, ROOT), VM_OK);
}

static uint64_t peek(struct env *e, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(e->mmu, pa, 8, &v), VM_OK);
    return v;
}

static void poke(struct env *e, vm_gpa_t pa, uint64_t v)
{
    assert_int_equal(vm_mmu_write_phys(e->mmu, pa, v, 8), VM_OK);
}

/* The Sv39 leaf PTE address of va (4 KiB page) under ROOT. */
static vm_gpa_t leaf_pte_addr(struct env *e, vm_gva_t va)
{
    vm_gpa_t table = ROOT;
    for (int level = 2; level > 0; level--) {
        uint64_t pte = peek(e, table + ((va >> (12 + 9 * level)) & 0x1ff) * 8);
        assert_true(pte & VM_PTE_V);
        table = ((pte >> 10) & ((UINT64_C(1) << 44) - 1)) << 12;
    }
    return table + ((va >> 12) & 0x1ff) * 8;
}

static void expect_fault(struct env *e, vm_err_t got, vm_err_t err, vm_fault_kind_t kind,
                         uint32_t cause, vm_access_t access, vm_gva_t va)
{
    const vm_fault_t *f = vm_mmu_last_fault(e->mmu);
    assert_int_equal(got, err);
    assert_int_equal(f->kind, kind);
    assert_int_equal(f->cause, cause);
    assert_int_equal(f->access, access);
    assert_int_equal(f->va, va);
}

/* ---- mmu.c: construction and setters ----------------------------------- */

/* "NULL on failure"; vm_physmem_new refuses size 0. */
static void test_mmu_new_zero_size_fails(void **state)
{
    (void)state;
    assert_null(vm_mmu_new(0, false));
}

/*
 * vm_mmu_set_paging_mode(SV57) keeps ASID and root, so satp reads MODE 10
 * with the old fields, flushes both TLBs (an Sv39 translation cached before
 * must not answer afterwards), and walks five levels. An out-of-range mode
 * value changes nothing (mmu.c contract; the satp analogue is WARL).
 */
static void test_mmu_set_paging_mode_sv57_keeps_satp_and_flushes(void **state)
{
    struct env *e = *state;
    /* Both trees share ROOT: Sv39 uses root slot 1 (VA[38:30]), Sv57 root
     * slot 0 (VA[56:48]), so the same VA maps to different PAs. */
    map4k(e, VA, PA_A, RW);
    assert_int_equal(vm_ptbuilder_map(&e->b, e->mmu, VM_PAGING_SV57, VA, PA_B, VM_PAGE_4K, RW, ROOT),
                     VM_OK);
    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(e->mmu, VA + 0x10, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, PA_A + 0x10);

    vm_mmu_set_paging_mode(e->mmu, VM_PAGING_SV57);
    assert_int_equal(vm_mmu_paging_mode(e->mmu), VM_PAGING_SV57);
    assert_int_equal(vm_mmu_satp(e->mmu), satp_of(10, ASID, ROOT));
    assert_int_equal(vm_mmu_translate(e->mmu, VA + 0x10, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, PA_B + 0x10);
    poke(e, PA_B + 0x10, UINT64_C(0x1122334455667788));
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0x10, 8, &v), VM_OK);
    assert_int_equal(v, UINT64_C(0x1122334455667788));

    vm_mmu_set_paging_mode(e->mmu, (vm_paging_mode_t)42);
    assert_int_equal(vm_mmu_paging_mode(e->mmu), VM_PAGING_SV57);
    assert_int_equal(vm_mmu_satp(e->mmu), satp_of(10, ASID, ROOT));
    assert_int_equal(vm_mmu_translate(e->mmu, VA + 0x10, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, PA_B + 0x10);
}

/*
 * Privilege values other than U, S, M are ignored (mmu.c contract; 2 is
 * the reserved/hypervisor encoding): after set_priv(U), set_priv(2) leaves
 * the hart in U-mode, where a U page is readable and a supervisor page is a
 * load page fault (Priv. spec step 5: U=0 pages are not accessible in U).
 */
static void test_mmu_set_priv_ignores_invalid_value(void **state)
{
    struct env *e = *state;
    map4k(e, VA, PA_A, RW | VM_PTE_U);
    map4k(e, VA + 0x1000, PA_B, RW);
    poke(e, PA_A, 0xabcd);
    vm_mmu_set_priv(e->mmu, VM_PRIV_U);
    vm_mmu_set_priv(e->mmu, (vm_priv_t)2);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(v, 0xabcd);
    expect_fault(e, vm_mmu_read(e->mmu, VA + 0x1000, 8, &v), VM_ERR_PAGE_FAULT, VM_FAULT_PAGE,
                 VM_CAUSE_LOAD_PAGE_FAULT, VM_ACCESS_READ, VA + 0x1000);
    /* Control: S-mode with SUM=0 would have faulted on the U page. */
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    expect_fault(e, vm_mmu_read(e->mmu, VA, 8, &v), VM_ERR_PAGE_FAULT, VM_FAULT_PAGE,
                 VM_CAUSE_LOAD_PAGE_FAULT, VM_ACCESS_READ, VA);
}

/*
 * An unknown A/D mode is ignored: Svade stays in force, so a load of a page
 * with A=0 is a page fault (cause 13) and the PTE is left as it was. Back in
 * hardware mode (Svadu) the same load succeeds and sets A.
 */
static void test_mmu_set_ad_mode_ignores_invalid_value(void **state)
{
    struct env *e = *state;
    map4k(e, VA, PA_A, VM_PTE_R | VM_PTE_W);
    vm_gpa_t pte_addr = leaf_pte_addr(e, VA);
    uint64_t pte = peek(e, pte_addr);
    assert_int_equal(pte & VM_PTE_A, 0);
    vm_mmu_set_ad_mode(e->mmu, VM_AD_FAULT);
    vm_mmu_set_ad_mode(e->mmu, (vm_ad_mode_t)7);
    uint64_t v = 0;
    expect_fault(e, vm_mmu_read(e->mmu, VA + 8, 8, &v), VM_ERR_PAGE_FAULT, VM_FAULT_PAGE,
                 VM_CAUSE_LOAD_PAGE_FAULT, VM_ACCESS_READ, VA + 8);
    assert_int_equal(peek(e, pte_addr), pte);
    vm_mmu_set_ad_mode(e->mmu, VM_AD_HARDWARE);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 8, 8, &v), VM_OK);
    assert_int_equal(peek(e, pte_addr), pte | VM_PTE_A);
}

/* resize_tlbs: NULL MMU and sizes outside 1..4096 are
 * VM_ERR_INVALID_ARGUMENT and the capacities stay; the bounds themselves
 * are accepted. */
static void test_mmu_resize_tlbs_rejects_null_and_out_of_range(void **state)
{
    struct env *e = *state;
    size_t it = 0, dt = 0;
    assert_int_equal(vm_mmu_resize_tlbs(NULL, 8, 8), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 0, 8), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 8, 0), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 4097, 8), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 8, 4097), VM_ERR_INVALID_ARGUMENT);
    vm_mmu_tlb_capacity(e->mmu, &it, &dt);
    assert_int_equal(it, 64);
    assert_int_equal(dt, 128);
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 4096, 1), VM_OK);
    vm_mmu_tlb_capacity(e->mmu, &it, &dt);
    assert_int_equal(it, 4096);
    assert_int_equal(dt, 1);
}

/* ---- access.c: bulk transfers -------------------------------------------- */

/* buf may be NULL only when len is 0 (types.h: NULL pointer ->
 * VM_ERR_INVALID_ARGUMENT); nothing is written. */
static void test_access_bulk_null_buffer_rejected(void **state)
{
    struct env *e = *state;
    map4k(e, VA, PA_A, RW);
    poke(e, PA_A, 0x5a5a);
    assert_int_equal(vm_mmu_write_bulk(e->mmu, VA, NULL, 8), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_read_bulk(e->mmu, VA, NULL, 8), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(peek(e, PA_A), 0x5a5a);
    assert_int_equal(vm_mmu_read_bulk(e->mmu, VA, NULL, 0), VM_OK);
    assert_int_equal(vm_mmu_write_bulk(e->mmu, VA, NULL, 0), VM_OK);
}

/*
 * A bulk range that would wrap past 2^64 - 1 is refused as address
 * arithmetic overflow (types.h: VM_ERR_INVALID_ADDRESS) and must not land
 * at address 0; a range ending exactly at 2^64 - 1 is a normal access with
 * no RAM behind it: access fault (cause 5 / 7) at the first byte, nothing
 * transferred.
 */
static void test_access_bulk_va_wrap_rejected(void **state)
{
    struct env *e = *state;
    vm_mmu_set_satp(e->mmu, 0); /* Bare: VA == PA */
    poke(e, 0, UINT64_C(0x0102030405060708));
    poke(e, 8, UINT64_C(0x1112131415161718));
    uint8_t buf[16], orig[16];
    memset(buf, 0xee, sizeof(buf));
    memcpy(orig, buf, sizeof(buf));

    assert_int_equal(vm_mmu_write_bulk(e->mmu, UINT64_MAX - 7, buf, 16), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_mmu_read_bulk(e->mmu, UINT64_MAX - 7, buf, 16), VM_ERR_INVALID_ADDRESS);
    assert_memory_equal(buf, orig, sizeof(buf));
    assert_int_equal(peek(e, 0), UINT64_C(0x0102030405060708));
    assert_int_equal(peek(e, 8), UINT64_C(0x1112131415161718));

    vm_gva_t last = UINT64_MAX - 15;
    expect_fault(e, vm_mmu_read_bulk(e->mmu, last, buf, 16), VM_ERR_ACCESS_FAULT, VM_FAULT_ACCESS,
                 VM_CAUSE_LOAD_ACCESS, VM_ACCESS_READ, last);
    assert_memory_equal(buf, orig, sizeof(buf));
    expect_fault(e, vm_mmu_write_bulk(e->mmu, last, buf, 16), VM_ERR_ACCESS_FAULT,
                 VM_FAULT_ACCESS, VM_CAUSE_STORE_ACCESS, VM_ACCESS_WRITE, last);
}

#define BULK_PAGES 20
#define BULK_RUN_PA UINT64_C(0x280000)  /* pages 0..9: one contiguous ascending run */
#define BULK_REV_PA UINT64_C(0x300000)  /* pages 10..19: descending, never adjacent */

static vm_gpa_t bulk_page_pa(unsigned i)
{
    return i < 10 ? BULK_RUN_PA + (uint64_t)i * 0x1000
                  : BULK_REV_PA + (uint64_t)(BULK_PAGES - 1 - i) * 0x2000;
}

static uint8_t bulk_byte(size_t k, uint8_t salt)
{
    return (uint8_t)(k * 7 + 3 + salt + (k >> 12));
}

/*
 * A transfer spanning 20 pages (more than any small fixed bound) with
 * partly contiguous, partly scattered backing: every byte lands at the PA
 * of its own page (checked on the physical side), reads back identically,
 * and a transfer one page longer whose last page is unmapped faults there
 * (store page fault, stval = that page) with nothing written at all.
 */
static void test_access_bulk_many_pages_scattered(void **state)
{
    struct env *e = *state;
    for (unsigned i = 0; i < BULK_PAGES; i++)
        map4k(e, VA + (uint64_t)i * 0x1000, bulk_page_pa(i), RW);
    const vm_gva_t start = VA + 0x800;
    const size_t len = (BULK_PAGES - 1) * 0x1000; /* ends 0x800 into page 19 */
    uint8_t *out = malloc(len), *in = malloc(len + 0x1000);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t k = 0; k < len; k++)
        out[k] = bulk_byte(k, 0);
    assert_int_equal(vm_mmu_write_bulk(e->mmu, start, out, len), VM_OK);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_NONE);
    for (size_t k = 0; k < len; k += 0x1f8) { /* sample every page, several offsets */
        vm_gva_t va = start + k;
        unsigned page = (unsigned)((va - VA) >> 12);
        uint64_t v = 0;
        assert_int_equal(vm_mmu_read_phys(e->mmu, bulk_page_pa(page) + (va & 0xfff), 1, &v), VM_OK);
        assert_int_equal(v, out[k]);
    }
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(e->mmu, bulk_page_pa(BULK_PAGES - 1) + 0x7ff, 1, &v), VM_OK);
    assert_int_equal(v, out[len - 1]);
    memset(in, 0, len);
    assert_int_equal(vm_mmu_read_bulk(e->mmu, start, in, len), VM_OK);
    assert_memory_equal(in, out, len);

    /* One page more, into unmapped VA + 20 pages: nothing may be written. */
    for (size_t k = 0; k < len + 0x1000; k++)
        in[k] = bulk_byte(k, 0x55);
    vm_gva_t hole = VA + (uint64_t)BULK_PAGES * 0x1000;
    expect_fault(e, vm_mmu_write_bulk(e->mmu, start, in, len + 0x1000), VM_ERR_PAGE_FAULT,
                 VM_FAULT_PAGE, VM_CAUSE_STORE_PAGE_FAULT, VM_ACCESS_WRITE, hole);
    memset(in, 0, len);
    assert_int_equal(vm_mmu_read_bulk(e->mmu, start, in, len), VM_OK);
    assert_memory_equal(in, out, len);
    free(out);
    free(in);
}

/* ---- access.c: LR/SC and reservations ------------------------------------ */

/*
 * LR/SC argument errors (size not 1/2/4/8, NULL out-pointer) are
 * VM_ERR_INVALID_ARGUMENT, write nothing, and change no reservation
 * (physmem.h: LR "no reservation changes on error"; SC clears the
 * reservation only "on every path past argument checks"), so a following
 * valid SC still succeeds.
 */
static void test_access_lrsc_invalid_arguments_keep_reservation(void **state)
{
    struct env *e = *state;
    map4k(e, VA, PA_A, RW);
    poke(e, PA_A + 0x40, 0x77);
    uint64_t v = 0;
    bool stored = true;
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x40, 8, &v), VM_OK);
    assert_int_equal(v, 0x77);
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x80, 3, &v), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x80, 8, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x40, 1, 16, &stored),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x40, 2, 8, NULL),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(peek(e, PA_A + 0x40), 0x77);
    stored = false;
    assert_int_equal(vm_mmu_store_conditional(e->mmu, VA + 0x40, 0x99, 8, &stored), VM_OK);
    assert_true(stored);
    assert_int_equal(peek(e, PA_A + 0x40), 0x99);
}

static void expect_sc(struct env *e, vm_gva_t va, vm_gpa_t pa, bool want_stored)
{
    uint64_t before = peek(e, pa);
    bool stored = !want_stored;
    assert_int_equal(vm_mmu_store_conditional(e->mmu, va, 0xc0ffee, 8, &stored), VM_OK);
    assert_int_equal(stored, want_stored);
    assert_int_equal(peek(e, pa), want_stored ? 0xc0ffee : before);
}

/*
 * vm_mmu_invalidate_reservation over a range crossing a page drops the
 * reservations of both pages, each at the PA of its own page (page 1 is
 * backed below page 0 and not adjacent: reusing page 0's translation would
 * hit the wrong granule), and no others; it reports no fault.
 */
static void test_access_invalidate_reservation_page_crossing(void **state)
{
    struct env *e = *state;
    map4k(e, VA, PA_A, RW);
    map4k(e, VA + 0x1000, PA_B, RW);
    uint64_t v = 0;

    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x1000, 8, &v), VM_OK);
    vm_mmu_invalidate_reservation(e->mmu, VA + 0xffc, 8);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_NONE);
    expect_sc(e, VA + 0x1000, PA_B, false);

    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0xff8, 8, &v), VM_OK);
    vm_mmu_invalidate_reservation(e->mmu, VA + 0xffc, 8);
    expect_sc(e, VA + 0xff8, PA_A + 0xff8, false);

    /* Control: the next granule of page 1 is outside [VA+0xffc, VA+0x1004). */
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0x1008, 8, &v), VM_OK);
    vm_mmu_invalidate_reservation(e->mmu, VA + 0xffc, 8);
    expect_sc(e, VA + 0x1008, PA_B + 8, true);
}

/*
 * A crossing range whose second page has no valid mapping: the translation
 * is speculative (no fault reported), and the part on the mapped first page
 * still drops the reservation there.
 */
static void test_access_invalidate_reservation_second_page_unmapped(void **state)
{
    struct env *e = *state;
    map4k(e, VA, PA_A, RW);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_load_reserved(e->mmu, VA + 0xff8, 8, &v), VM_OK);
    vm_mmu_invalidate_reservation(e->mmu, VA + 0xffc, 8);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_NONE);
    expect_sc(e, VA + 0xff8, PA_A + 0xff8, false);
}

/* guest_slice follows vm_physmem_read_buf: len 0 succeeds with a NULL
 * buffer for any pa <= size, and fails past the end. */
static void test_access_guest_slice_zero_length(void **state)
{
    struct env *e = *state;
    assert_int_equal(vm_mmu_guest_slice(e->mmu, 0, 0, NULL), VM_OK);
    assert_int_equal(vm_mmu_guest_slice(e->mmu, RAM_SIZE, 0, NULL), VM_OK);
    assert_int_equal(vm_mmu_guest_slice(e->mmu, RAM_SIZE + 1, 0, NULL), VM_ERR_INVALID_ADDRESS);
}

/* ---- ptbuilder.c ------------------------------------------------------------ */

/*
 * A builder started within 4 KiB of 2^64 hands out 4 KiB-aligned pages and
 * never wraps around to low memory (which would let it overwrite RAM it
 * does not own); a map needing a fresh table there fails with
 * VM_ERR_INVALID_ADDRESS ("a needed table outside RAM") leaving guest
 * memory and the builder unchanged.
 */
static void test_ptbuilder_init_near_top_never_wraps(void **state)
{
    struct env *e = *state;
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, UINT64_MAX - 10);
    assert_int_equal(b.start & (VM_PAGE_4K - 1), 0);
    assert_int_equal(b.next, b.start);
    assert_true(b.start >= UINT64_MAX - 10 - (VM_PAGE_4K - 1));
    vm_gpa_t p1 = vm_ptbuilder_alloc_page(&b);
    vm_gpa_t p2 = vm_ptbuilder_alloc_page(&b);
    assert_int_equal(p1, b.start);
    assert_int_equal(p2 & (VM_PAGE_4K - 1), 0);
    assert_true(p2 >= p1);
    assert_true(b.next >= p2);

    vm_ptbuilder_t before = b;
    uint8_t *snap = malloc(RAM_SIZE), *now = malloc(RAM_SIZE);
    assert_non_null(snap);
    assert_non_null(now);
    assert_int_equal(vm_physmem_dump(vm_mmu_physmem(e->mmu), snap, RAM_SIZE), VM_OK);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, e->mmu, VA, PA_C, RW, ROOT), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(b.start, before.start);
    assert_int_equal(b.next, before.next);
    assert_int_equal(vm_physmem_dump(vm_mmu_physmem(e->mmu), now, RAM_SIZE), VM_OK);
    assert_memory_equal(snap, now, RAM_SIZE);
    free(snap);
    free(now);
}

/* ---- access.c: a device that refuses an access ------------------------- */

static vm_err_t refusing_read(void *opaque, uint64_t off, uint8_t size, uint64_t *val)
{
    (void)opaque;
    (void)size;
    *val = 0;
    return off == 0 ? VM_ERR_MMIO : VM_ERR_INVALID_ADDRESS;
}

static vm_err_t refusing_write(void *opaque, uint64_t off, uint64_t val, uint8_t size)
{
    (void)val;
    (void)size;
    (*(int *)opaque)++;
    return off == 0 ? VM_ERR_MMIO : VM_ERR_OUT_OF_MEMORY;
}

/*
 * mmu.h: a failed access through translation returns a fault code and
 * records it; a device refusing the access is an access fault (cause 5 for
 * the load, 7 for the store) whatever code the device returned, and the
 * record names this access, not an earlier fault.
 */
static void test_access_device_error_is_access_fault(void **state)
{
    struct env *e = *state;
    static int writes;
    static const vm_mmio_ops_t o = {.read = refusing_read, .write = refusing_write};
    const vm_gpa_t dev = UINT64_C(0x10000000);
    uint64_t v = 0;

    assert_int_equal(vm_mmu_map_mmio(e->mmu, dev, 0x1000, &o, &writes), VM_OK);
    map4k(e, VA, dev, RW);
    /* An unrelated earlier fault must not be what the record shows. */
    expect_fault(e, vm_mmu_read(e->mmu, VA + 0x5000, 8, &v), VM_ERR_PAGE_FAULT, VM_FAULT_PAGE,
                 VM_CAUSE_LOAD_PAGE_FAULT, VM_ACCESS_READ, VA + 0x5000);
    expect_fault(e, vm_mmu_read(e->mmu, VA, 4, &v), VM_ERR_ACCESS_FAULT, VM_FAULT_ACCESS,
                 VM_CAUSE_LOAD_ACCESS, VM_ACCESS_READ, VA);
    expect_fault(e, vm_mmu_read(e->mmu, VA + 8, 8, &v), VM_ERR_ACCESS_FAULT, VM_FAULT_ACCESS,
                 VM_CAUSE_LOAD_ACCESS, VM_ACCESS_READ, VA + 8);
    expect_fault(e, vm_mmu_write(e->mmu, VA, 1, 4), VM_ERR_ACCESS_FAULT, VM_FAULT_ACCESS,
                 VM_CAUSE_STORE_ACCESS, VM_ACCESS_WRITE, VA);
    expect_fault(e, vm_mmu_write(e->mmu, VA + 16, 1, 8), VM_ERR_ACCESS_FAULT, VM_FAULT_ACCESS,
                 VM_CAUSE_STORE_ACCESS, VM_ACCESS_WRITE, VA + 16);
    assert_int_equal(writes, 2); /* the device did see both stores */
    /* The physical path passes the device's own code through (physmem.h). */
    assert_int_equal(vm_mmu_read_phys(e->mmu, dev, 4, &v), VM_ERR_MMIO);
    assert_int_equal(vm_mmu_write_phys(e->mmu, dev + 8, 1, 8), VM_ERR_OUT_OF_MEMORY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmu_new_zero_size_fails),
        cmocka_unit_test_setup_teardown(test_access_device_error_is_access_fault, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_set_paging_mode_sv57_keeps_satp_and_flushes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mmu_set_priv_ignores_invalid_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_set_ad_mode_ignores_invalid_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmu_resize_tlbs_rejects_null_and_out_of_range, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_access_bulk_null_buffer_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_bulk_va_wrap_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_bulk_many_pages_scattered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_lrsc_invalid_arguments_keep_reservation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_access_invalidate_reservation_page_crossing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_access_invalidate_reservation_second_page_unmapped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_guest_slice_zero_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ptbuilder_init_near_top_never_wraps, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
