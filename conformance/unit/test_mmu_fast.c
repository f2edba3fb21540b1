/*
 * test_mmu_fast.c - the level-0 fast array and the inline accessors
 * (vmmem/mmu_inline.h) against their contract: same answers as the
 * function API, a slot never outlives its TLB entry or its permission
 * context, MMIO never fast, stores through the fast path still break
 * reservations, hits through vm_mmu_read/write count and clear the fault
 * record while inline hits do neither.
 *
 * Expectations follow from the header contracts (mmu.h, mmu_inline.h,
 * physmem.h) and the Priv. spec's SFENCE.VMA / SUM rules; only the public
 * API is used.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define RAM_SIZE (UINT64_C(8) << 20)
#define ROOT UINT64_C(0x10000)
#define TABLES UINT64_C(0x11000)
#define TABLES_END UINT64_C(0x100000)
#define VA UINT64_C(0x40201000)
#define P1 UINT64_C(0x201000)
#define P2 UINT64_C(0x202000)
#define SV39 UINT64_C(8)
#define RWAD (VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_A | VM_PTE_D)
#define MMIO_BASE UINT64_C(0x10000000)

struct env {
    vm_mmu_t *mmu;
    vm_gpa_t next_table;
    unsigned dev_reads, dev_writes;
};

static struct env *the_env;

static vm_err_t dev_read(void *o, uint64_t off, uint8_t size, uint64_t *val)
{
    (void)o, (void)size;
    the_env->dev_reads++;
    *val = 0x1000 + off;
    return VM_OK;
}

static vm_err_t dev_write(void *o, uint64_t off, uint64_t val, uint8_t size)
{
    (void)o, (void)off, (void)val, (void)size;
    the_env->dev_writes++;
    return VM_OK;
}

static const vm_mmio_ops_t dev_ops = {dev_read, dev_write, NULL, NULL};

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

/* Sv39: map va with leaf PTE `leaf` at `level`; returns the leaf's address. */
static vm_gpa_t map(struct env *e, vm_gva_t va, uint64_t leaf, int level)
{
    vm_gpa_t table = ROOT;
    for (int l = 2; l > level; l--) {
        vm_gpa_t slot = table + 8 * ((va >> (12 + 9 * l)) & 0x1ff);
        uint64_t pte = peek(e, slot);
        if (!(pte & VM_PTE_V) || (pte & (VM_PTE_R | VM_PTE_X))) {
            vm_gpa_t t = e->next_table;
            e->next_table += 0x1000;
            assert_true(t < TABLES_END);
            poke(e, slot, pte_of(t, VM_PTE_V));
            table = t;
        } else {
            table = ((pte & VM_PTE_PPN_MASK) >> VM_PTE_PPN_SHIFT) << 12;
        }
    }
    vm_gpa_t slot = table + 8 * ((va >> (12 + 9 * level)) & 0x1ff);
    poke(e, slot, leaf);
    return slot;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->mmu = vm_mmu_new(RAM_SIZE, false);
    assert_non_null(e->mmu);
    e->next_table = TABLES;
    the_env = e;
    vm_mmu_set_strict_align(e->mmu, false);
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    vm_mmu_set_satp(e->mmu, (SV39 << 60) | (1ull << 44) | (ROOT >> 12));
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

static void stats(struct env *e, uint64_t *h, uint64_t *m)
{
    vm_mmu_tlb_stats(e->mmu, h, m);
}

/* The inline accessors give the function API's answers: values, errors,
 * little-endian sizes, misaligned and page-crossing accesses. */
static void test_fast_inline_equals_function_api(void **state)
{
    struct env *e = *state;
    map(e, VA, pte_of(P1, RWAD), 0);
    map(e, VA + 0x1000, pte_of(P2, RWAD), 0);
    assert_int_equal(vm_mmu_write_phys(e->mmu, P1 + 0x10, 0x1122334455667788, 8), VM_OK);
    assert_int_equal(vm_mmu_write_phys(e->mmu, P2, 0x99aabbccddeeff00, 8), VM_OK);
    uint64_t a = 0, b = 0;
    for (int round = 0; round < 2; round++) { /* a miss, then a hit */
        assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 0x10, 8, &a), VM_OK);
        assert_int_equal(a, 0x1122334455667788);
        assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 0x12, 2, &a), VM_OK);
        assert_int_equal(a, 0x5566);
        assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 0x11, 4, &a), VM_OK); /* misaligned */
        assert_int_equal(vm_mmu_read(e->mmu, VA + 0x11, 4, &b), VM_OK);
        assert_int_equal(a, b);
        assert_int_equal(a, 0x44556677);
        /* crossing into the next page (P2) */
        assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 0xffc, 8, &a), VM_OK);
        assert_int_equal(a, UINT64_C(0xddeeff00) << 32);
    }
    assert_int_equal(vm_mmu_write_inline(e->mmu, VA + 0x18, 0xabcd, 2), VM_OK);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0x18, 8, &b), VM_OK);
    assert_int_equal(b, 0xabcd);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 0x10, 3, &a), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 0x3000, 8, &a), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->cause, VM_CAUSE_LOAD_PAGE_FAULT);
}

/* mmu_inline.h: inline hits are not counted; function-API hits are, one
 * per access (mmu.h: one hit or miss per page translated). */
static void test_fast_stats(void **state)
{
    struct env *e = *state;
    map(e, VA, pte_of(P1, RWAD), 0);
    uint64_t v, h0, m0, h1, m1;
    stats(e, &h0, &m0);
    assert_int_equal(vm_mmu_read(e->mmu, VA, 8, &v), VM_OK); /* miss, fills the slot */
    for (int i = 0; i < 10; i++)
        assert_int_equal(vm_mmu_read(e->mmu, VA + 8 * i, 8, &v), VM_OK);
    stats(e, &h1, &m1);
    assert_int_equal(m1 - m0, 1);
    assert_int_equal(h1 - h0, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 8 * i, 8, &v), VM_OK);
    stats(e, &h0, &m0);
    assert_int_equal(h0, h1);
    assert_int_equal(m0, m1);
}

/* A fast-path hit through vm_mmu_read is a success: the fault record says
 * "no fault" afterwards; an inline hit leaves the record alone. */
static void test_fast_fault_record(void **state)
{
    struct env *e = *state;
    map(e, VA, pte_of(P1, RWAD), 0);
    uint64_t v;
    assert_int_equal(vm_mmu_read(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0x5000, 8, &v), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_PAGE);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_PAGE);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->va, VA + 0x5000);
    assert_int_equal(vm_mmu_read(e->mmu, VA, 8, &v), VM_OK); /* a fast hit */
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_NONE);
    /* a fault, a resize (stats restart), the fault is still the last one */
    assert_int_equal(vm_mmu_write(e->mmu, VA + 0x5000, 1, 8), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 8, 8), VM_OK);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_PAGE);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->cause, VM_CAUSE_STORE_PAGE_FAULT);
}

/* The TLB capacity is exact although the fast array has more slots: when
 * an entry is evicted its slot goes, so the evicted page misses. */
static void test_fast_slot_dies_with_its_entry(void **state)
{
    struct env *e = *state;
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 2, 2), VM_OK);
    for (int i = 0; i < 3; i++)
        map(e, VA + 0x1000 * (uint64_t)i, pte_of(P1 + 0x1000 * (uint64_t)i, RWAD), 0);
    uint64_t v, h0, m0, h1, m1;
    assert_int_equal(vm_mmu_read(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0x1000, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0x2000, 8, &v), VM_OK); /* evicts VA's entry */
    stats(e, &h0, &m0);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    stats(e, &h1, &m1);
    assert_int_equal(m1 - m0, 1); /* the inline access missed and walked */
    assert_int_equal(h1 - h0, 0);
}

/*
 * tlb.c: an entry filled under a stale larger one (the tables changed
 * without an SFENCE.VMA; a store the read-only larger page refused walked
 * again and met the new ones) coexists with it, and the lookup answers
 * with the smaller one. The access functions must answer as the lookup
 * does: a slot filled from the larger page must not keep serving the page.
 * VA's page of `big_level` (read-only, mapping VA to P1, read twice so the
 * second read goes through the slot) becomes a table whose leaf of level
 * big_level - 1 maps VA to new_pa.
 */
static void check_slot_yields_to_smaller(struct env *e, int big_level, vm_gpa_t new_pa)
{
    const uint64_t big = UINT64_C(1) << (12 + 9 * big_level);
    const unsigned small_shift = 12 + 9 * (unsigned)(big_level - 1);
    poke(e, P1, 0x1111);
    poke(e, new_pa, 0x2222);
    const vm_gpa_t leaf = map(e, VA & ~(big - 1),
                              pte_of(P1 - (VA & (big - 1)), VM_PTE_V | VM_PTE_R | VM_PTE_A), big_level);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(v, 0x1111);
    assert_int_equal(vm_mmu_read(e->mmu, VA, 8, &v), VM_OK); /* through the slot */
    const vm_gpa_t t = e->next_table;
    e->next_table += 0x1000;
    poke(e, leaf, pte_of(t, VM_PTE_V));
    poke(e, t + 8 * ((VA >> small_shift) & 0x1ff),
         pte_of(new_pa & ~((UINT64_C(1) << small_shift) - 1), RWAD));
    /* the larger page's entry refuses a store, so translating one walks
     * again (a permission fault from the TLB is answered by a fresh walk),
     * meets the new tables and fills the smaller entry under the larger
     * one's; unlike an access, a translation leaves the slot the larger
     * page filled */
    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(e->mmu, VA, VM_ACCESS_WRITE, &pa), VM_OK);
    assert_int_equal(pa, new_pa);
    assert_int_equal(vm_mmu_translate(e->mmu, VA, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, new_pa);
    assert_int_equal(vm_mmu_read(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(v, 0x2222);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(v, 0x2222);
}

/* A 4 KiB entry under a megapage: the page's one slot. */
static void test_fast_slot_yields_to_smaller_entry(void **state)
{
    struct env *e = *state;
    check_slot_yields_to_smaller(e, 1, UINT64_C(0x301000));
    /* the rest of the megapage still answers through the megapage */
    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(e->mmu, VA + 0x1000, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, P1 + 0x1000);
}

/* A megapage entry under a gigapage (512 pages: more than the slots of the
 * array it is checked against one by one, so the array is scanned). */
static void test_fast_slot_yields_to_smaller_superpage(void **state)
{
    check_slot_yields_to_smaller(*state, 2, UINT64_C(0x401000));
}

/* Priv. spec: SUM "takes effect immediately" and U-mode may only touch
 * U=1 pages: a slot filled under one context never answers in another. */
static void test_fast_context_change(void **state)
{
    struct env *e = *state;
    map(e, VA, pte_of(P1, RWAD | VM_PTE_U), 0);
    uint64_t v;
    vm_mmu_set_sum(e->mmu, true);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write_inline(e->mmu, VA, 1, 8), VM_OK);
    vm_mmu_set_sum(e->mmu, false);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_write_inline(e->mmu, VA, 1, 8), VM_ERR_PAGE_FAULT);
    vm_mmu_set_priv(e->mmu, VM_PRIV_U);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(v, 1);
    /* An S page from U */
    map(e, VA + 0x1000, pte_of(P2, RWAD), 0);
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 0x1000, 8, &v), VM_OK);
    vm_mmu_set_priv(e->mmu, VM_PRIV_U);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 0x1000, 8, &v), VM_ERR_PAGE_FAULT);
    /* M-mode: identity, no translation at all */
    vm_mmu_set_priv(e->mmu, VM_PRIV_M);
    assert_int_equal(vm_mmu_read_inline(e->mmu, P1, 8, &v), VM_OK);
    assert_int_equal(v, 1);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_ERR_ACCESS_FAULT);
}

/* A changed PTE is used only after a flush covers it (SFENCE.VMA); the
 * flush drops the fast slot as well as the entry, for 4 KiB pages and for
 * every 4 KiB of a superpage. */
static void test_fast_flush(void **state)
{
    struct env *e = *state;
    vm_gpa_t slot = map(e, VA, pte_of(P1, RWAD), 0);
    assert_int_equal(vm_mmu_write_phys(e->mmu, P1, 1, 8), VM_OK);
    assert_int_equal(vm_mmu_write_phys(e->mmu, P2, 2, 8), VM_OK);
    uint64_t v;
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(v, 1);
    poke(e, slot, pte_of(P2, RWAD));
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(v, 1); /* stale, as allowed until the flush */
    vm_mmu_flush_tlb_page(e->mmu, VA);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(v, 2);

    /* a 2 MiB superpage at 0x80200000 -> 0x400000; its slots go with it */
    const vm_gva_t sva = UINT64_C(0x80200000);
    vm_gpa_t sslot = map(e, sva, pte_of(0x400000, RWAD), 1);
    for (uint64_t k = 0; k < 8; k++) {
        assert_int_equal(vm_mmu_write_phys(e->mmu, 0x400000 + k * 0x1000, k, 8), VM_OK);
        assert_int_equal(vm_mmu_write_phys(e->mmu, 0x600000 + k * 0x1000, 100 + k, 8), VM_OK);
        assert_int_equal(vm_mmu_read_inline(e->mmu, sva + k * 0x1000, 8, &v), VM_OK);
        assert_int_equal(v, k);
    }
    poke(e, sslot, pte_of(0x600000, RWAD));
    vm_mmu_flush_tlb_page(e->mmu, sva + 0x3000);
    for (uint64_t k = 0; k < 8; k++) {
        assert_int_equal(vm_mmu_read_inline(e->mmu, sva + k * 0x1000, 8, &v), VM_OK);
        assert_int_equal(v, 100 + k);
    }
    /* an ASID switch: other ASID's slots never answer */
    vm_mmu_set_satp(e->mmu, (SV39 << 60) | (2ull << 44) | (ROOT >> 12));
    poke(e, slot, 0);
    vm_mmu_flush_tlb_asid(e->mmu, 2);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_ERR_PAGE_FAULT);
}

/* A store to a clean page (D=0) is never a fast hit: it walks and sets D
 * (BUG-CLASSES 2), also after loads filled the slot. */
static void test_fast_clean_page_store_sets_d(void **state)
{
    struct env *e = *state;
    vm_gpa_t slot = map(e, VA, pte_of(P1, VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_A), 0);
    uint64_t v;
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA, 8, &v), VM_OK);
    assert_int_equal(peek(e, slot) & VM_PTE_D, 0);
    assert_int_equal(vm_mmu_write_inline(e->mmu, VA, 7, 8), VM_OK);
    assert_int_equal(peek(e, slot) & VM_PTE_D, VM_PTE_D);
}

/* MMIO pages are never fast: every access reaches the device. */
static void test_fast_never_mmio(void **state)
{
    struct env *e = *state;
    assert_int_equal(vm_mmu_map_mmio(e->mmu, MMIO_BASE, 0x1000, &dev_ops, NULL), VM_OK);
    map(e, VA, pte_of(MMIO_BASE, RWAD), 0);
    uint64_t v;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 8, 8, &v), VM_OK);
        assert_int_equal(v, 0x1008);
        assert_int_equal(vm_mmu_write_inline(e->mmu, VA, 1, 4), VM_OK);
    }
    assert_int_equal(e->dev_reads, 4);
    assert_int_equal(e->dev_writes, 4);
}

/* physmem.h: a store (any path) breaks every hart's reservation on its
 * granule, also a store that hits the fast array. */
static void test_fast_store_breaks_reservations(void **state)
{
    struct env *e = *state;
    map(e, VA, pte_of(P1, RWAD), 0);
    vm_physmem_t *pm = vm_mmu_physmem(e->mmu);
    uint64_t v;
    bool ok = true;
    /* The stores in between write the bytes already there: an SC must
     * fail because a store happened, not because the data changed (the
     * reservation's snapshot compare would catch a change anyway). */
    assert_int_equal(vm_mmu_write(e->mmu, VA + 8, 5, 8), VM_OK); /* slot filled, writable */
    assert_int_equal(vm_physmem_load_reserved(pm, P1 + 8, 8, 4242, &v), VM_OK);
    assert_int_equal(vm_mmu_write_inline(e->mmu, VA + 8, 5, 1), VM_OK);
    assert_int_equal(vm_physmem_store_conditional(pm, P1 + 8, 9, 8, 4242, &ok), VM_OK);
    assert_false(ok);
    assert_int_equal(vm_physmem_load_reserved(pm, P1 + 8, 8, 4242, &v), VM_OK);
    assert_int_equal(v, 5);
    assert_int_equal(vm_mmu_write(e->mmu, VA + 8, 5, 8), VM_OK);
    assert_int_equal(vm_physmem_store_conditional(pm, P1 + 8, 9, 8, 4242, &ok), VM_OK);
    assert_false(ok);
    /* a store elsewhere keeps it */
    assert_int_equal(vm_physmem_load_reserved(pm, P1 + 8, 8, 4242, &v), VM_OK);
    assert_int_equal(vm_mmu_write_inline(e->mmu, VA + 16, 7, 8), VM_OK);
    assert_int_equal(vm_physmem_store_conditional(pm, P1 + 8, 9, 8, 4242, &ok), VM_OK);
    assert_true(ok);
}

/* Fetches use the code slots (the ITLB), loads the data slots: an X-only
 * page fetches fast and does not load. */
static void test_fast_fetch(void **state)
{
    struct env *e = *state;
    map(e, VA, pte_of(P1, VM_PTE_V | VM_PTE_X | VM_PTE_A), 0);
    assert_int_equal(vm_mmu_write_phys(e->mmu, P1 + 4, 0x00000013, 4), VM_OK); /* nop */
    uint64_t insn = 0, v;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(vm_mmu_fetch_inline(e->mmu, VA + 4, &insn), VM_OK);
        assert_int_equal(insn, 0x13);
    }
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 4, 4, &v), VM_ERR_PAGE_FAULT);
    vm_mmu_set_mxr(e->mmu, true);
    assert_int_equal(vm_mmu_read_inline(e->mmu, VA + 4, 4, &v), VM_OK);
    assert_int_equal(v, 0x13);
}

/*
 * mmu.h: vm_mmu_read, vm_mmu_write and vm_mmu_fetch_insn are inline
 * definitions in the header and exported functions in the library, with
 * the same results. Called through pointers (the library's external
 * definitions) and directly with sizes the compiler cannot see (the
 * inline body's run-time size branches): hits count and clear the fault
 * record, every size reads and writes its little-endian bytes, a bad size
 * or a NULL result pointer is VM_ERR_INVALID_ARGUMENT even on a page that
 * hits, a store hit breaks a reservation.
 */
typedef vm_err_t (*read_fn)(vm_mmu_t *, vm_gva_t, uint8_t, uint64_t *);
typedef vm_err_t (*write_fn)(vm_mmu_t *, vm_gva_t, uint64_t, uint8_t);
typedef vm_err_t (*fetch_fn)(vm_mmu_t *, vm_gva_t, uint64_t *);

static vm_err_t read_direct(vm_mmu_t *m, vm_gva_t va, uint8_t size, uint64_t *val)
{
    return vm_mmu_read(m, va, size, val);
}

static vm_err_t write_direct(vm_mmu_t *m, vm_gva_t va, uint64_t val, uint8_t size)
{
    return vm_mmu_write(m, va, val, size);
}

static vm_err_t fetch_direct(vm_mmu_t *m, vm_gva_t pc, uint64_t *insn)
{
    return vm_mmu_fetch_insn(m, pc, insn);
}

static void check_function_api(struct env *e, read_fn rd, write_fn wr, fetch_fn fe)
{
    static const uint8_t sizes[] = {8, 4, 2, 1};
    volatile uint8_t bad_sizes[] = {0, 3, 16};
    uint64_t v, h0, m0, h1, m1;
    vm_physmem_t *pm = vm_mmu_physmem(e->mmu);
    bool ok = true;

    assert_int_equal(vm_mmu_write_phys(e->mmu, P1 + 0x20, 0x8877665544332211, 8), VM_OK);
    assert_int_equal(vm_mmu_write_phys(e->mmu, P2 + 4, 0x00000013, 4), VM_OK);
    assert_int_equal(rd(e->mmu, VA, 8, &v), VM_OK); /* fills the data slot */
    assert_int_equal(wr(e->mmu, VA, 0, 8), VM_OK);  /* (D is set: writable too) */
    assert_int_equal(fe(e->mmu, VA + 0x1004, &v), VM_OK);
    assert_int_equal(rd(e->mmu, VA + 0x5000, 8, &v), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_PAGE);
    stats(e, &h0, &m0);
    for (unsigned i = 0; i < 4; i++) {
        volatile uint8_t size = sizes[i]; /* not a constant for the compiler */
        assert_int_equal(rd(e->mmu, VA + 0x20, size, &v), VM_OK);
        assert_int_equal(v, UINT64_C(0x8877665544332211) & (~UINT64_C(0) >> (64 - 8 * size)));
        if (i == 0)
            assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_NONE);
        assert_int_equal(wr(e->mmu, VA + 0x40, UINT64_C(0xa1a2a3a4a5a6a7a8), size), VM_OK);
        assert_int_equal(vm_mmu_read_phys(e->mmu, P1 + 0x40, 8, &v), VM_OK);
        assert_int_equal(v, UINT64_C(0xa1a2a3a4a5a6a7a8) & (~UINT64_C(0) >> (64 - 8 * size)));
        assert_int_equal(vm_mmu_write_phys(e->mmu, P1 + 0x40, 0, 8), VM_OK);
    }
    assert_int_equal(fe(e->mmu, VA + 0x1004, &v), VM_OK);
    assert_int_equal(v, 0x13);
    stats(e, &h1, &m1);
    assert_int_equal(m1, m0);
    assert_int_equal(h1 - h0, 9);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(rd(e->mmu, VA, bad_sizes[i], &v), VM_ERR_INVALID_ARGUMENT);
        assert_int_equal(wr(e->mmu, VA, 1, bad_sizes[i]), VM_ERR_INVALID_ARGUMENT);
    }
    assert_int_equal(rd(e->mmu, VA, 8, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(fe(e->mmu, VA + 0x1004, NULL), VM_ERR_INVALID_ARGUMENT);
    stats(e, &h0, &m0);
    assert_int_equal(h0, h1); /* none of those was a hit */
    assert_int_equal(vm_physmem_load_reserved(pm, P1 + 0x20, 8, 77, &v), VM_OK);
    assert_int_equal(wr(e->mmu, VA + 0x20, v, 8), VM_OK); /* a hit, same bytes */
    assert_int_equal(vm_physmem_store_conditional(pm, P1 + 0x20, 1, 8, 77, &ok), VM_OK);
    assert_false(ok);
}

static void test_fast_function_api_linkage(void **state)
{
    struct env *e = *state;
    map(e, VA, pte_of(P1, RWAD), 0);
    map(e, VA + 0x1000, pte_of(P2, VM_PTE_V | VM_PTE_X | VM_PTE_A), 0);
    read_fn volatile rd = vm_mmu_read;
    write_fn volatile wr = vm_mmu_write;
    fetch_fn volatile fe = vm_mmu_fetch_insn;
    check_function_api(e, rd, wr, fe);
    check_function_api(e, read_direct, write_direct, fetch_direct);
}

/* RAM at a non-zero base: the fast path's host addend maps the right bytes. */
static void test_fast_ram_base(void **state)
{
    (void)state;
    const uint64_t base = UINT64_C(0x80000000);
    vm_mmu_t *m = vm_mmu_new_at(base, 4u << 20, false);
    assert_non_null(m);
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, base + 0x100000);
    vm_gpa_t root = vm_ptbuilder_alloc_page(&b);
    for (int i = 0; i < 512; i++)
        assert_int_equal(vm_mmu_write_phys(m, root + 8 * (uint64_t)i, 0, 8), VM_OK);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, m, VA, base + 0x3000, VM_PTE_R | VM_PTE_W, root),
                     VM_OK);
    vm_mmu_set_satp(m, (SV39 << 60) | (root >> 12));
    assert_int_equal(vm_mmu_write_phys(m, base + 0x3008, 0x55, 8), VM_OK);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_inline(m, VA + 8, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_read_inline(m, VA + 8, 8, &v), VM_OK);
    assert_int_equal(v, 0x55);
    assert_int_equal(vm_mmu_write_inline(m, VA + 16, 0x66, 8), VM_OK);
    assert_int_equal(vm_mmu_read_phys(m, base + 0x3010, 8, &v), VM_OK);
    assert_int_equal(v, 0x66);
    /* below the base: not RAM */
    assert_int_equal(vm_mmu_read_phys(m, 0x3010, 8, &v), VM_ERR_INVALID_ADDRESS);
    vm_mmu_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fast_inline_equals_function_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_fault_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_slot_dies_with_its_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_context_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_clean_page_store_sets_d, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_never_mmio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_store_breaks_reservations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_function_api_linkage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_slot_yields_to_smaller_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fast_slot_yields_to_smaller_superpage, setup, teardown),
        cmocka_unit_test(test_fast_ram_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
