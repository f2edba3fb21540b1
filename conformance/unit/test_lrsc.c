/*
 * test_lrsc.c - LR/SC reservations, one rule per test.
 *
 * The rules come from Zalrsc (riscv-isa-manual src/unpriv/zalrsc.adoc) and
 * the contract in vmmem/physmem.h: the reservation set is the naturally
 * aligned 8-byte granule; an SC succeeds iff its owner holds a reservation
 * covering the SC's bytes and no write reached the granule since; every SC
 * clears its owner's reservation; a successful SC breaks the others'.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/physmem.h"
#include "../../core/src/physmem_int.h"

#define RAM_1M ((uint64_t)1024 * 1024)
#define A 0x2000ULL /* a granule-aligned address used by most tests */

static int setup(void **state)
{
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    if (!pm)
        return -1;
    *state = pm;
    return 0;
}

static int teardown(void **state)
{
    vm_physmem_free(*state);
    return 0;
}

/* SC and return whether it stored; the call itself must succeed. */
static bool sc(vm_physmem_t *pm, uint64_t pa, uint64_t val, uint8_t size, uint64_t owner)
{
    bool stored = true;
    assert_int_equal(vm_physmem_store_conditional(pm, pa, val, size, owner, &stored), VM_OK);
    return stored;
}

static uint64_t lr(vm_physmem_t *pm, uint64_t pa, uint8_t size, uint64_t owner)
{
    uint64_t v = 0xdeadbeefdeadbeefULL;
    assert_int_equal(vm_physmem_load_reserved(pm, pa, size, owner, &v), VM_OK);
    return v;
}

static uint64_t rd64(vm_physmem_t *pm, uint64_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_physmem_read_u64(pm, pa, &v), VM_OK);
    return v;
}

/* Seed: write 0x11 at 0x2000, LR (1 byte) returns 0x11, SC 0x22 succeeds. */
static void test_lrsc_seed_example(void **state)
{
    vm_physmem_t *pm = *state;
    uint64_t v = 0;

    assert_int_equal(vm_physmem_write(pm, A, 0x11, 1), VM_OK);
    assert_int_equal(lr(pm, A, 1, 0), 0x11);
    assert_true(sc(pm, A, 0x22, 1, 0));
    assert_int_equal(vm_physmem_read(pm, A, 1, &v), VM_OK);
    assert_int_equal(v, 0x22);
}

/* LR returns the (zero-extended) value of every width at every aligned
 * offset of the granule, and SC writes exactly its own bytes. */
static void test_lrsc_widths_and_merge(void **state)
{
    vm_physmem_t *pm = *state;
    const uint64_t init = 0x8877665544332211ULL;
    const uint8_t sizes[] = {1, 2, 4, 8};

    for (size_t s = 0; s < 4; s++) {
        uint8_t n = sizes[s];
        uint64_t mask = n == 8 ? UINT64_MAX : (((uint64_t)1 << (8 * n)) - 1);
        for (unsigned off = 0; off < 8; off += n) {
            assert_int_equal(vm_physmem_write_u64(pm, A, init), VM_OK);
            assert_int_equal(lr(pm, A + off, n, 3), (init >> (8 * off)) & mask);
            assert_true(sc(pm, A + off, 0xa5a5a5a5a5a5a5a5ULL, n, 3));
            uint64_t expect = (init & ~(mask << (8 * off))) |
                              ((0xa5a5a5a5a5a5a5a5ULL & mask) << (8 * off));
            assert_int_equal(rd64(pm, A), expect);
        }
    }
}

static void test_lrsc_sc_without_lr_fails(void **state)
{
    vm_physmem_t *pm = *state;
    assert_false(sc(pm, A, 0x22, 4, 0));
    assert_int_equal(rd64(pm, A), 0);
}

static void test_lrsc_sc_after_sc_fails(void **state)
{
    vm_physmem_t *pm = *state;
    (void)lr(pm, A, 8, 0);
    assert_true(sc(pm, A, 1, 8, 0));
    assert_false(sc(pm, A, 2, 8, 0));
    assert_int_equal(rd64(pm, A), 1);
}

/* A failed SC (here: outside the granule) still clears the reservation. */
static void test_lrsc_failed_sc_clears_reservation(void **state)
{
    vm_physmem_t *pm = *state;
    (void)lr(pm, A, 4, 0);
    assert_false(sc(pm, A + 8, 1, 4, 0));
    assert_false(sc(pm, A, 1, 4, 0));
    assert_int_equal(rd64(pm, A), 0);
    assert_int_equal(rd64(pm, A + 8), 0);
}

static void test_lrsc_sc_outside_granule_fails(void **state)
{
    vm_physmem_t *pm = *state;
    (void)lr(pm, A, 8, 0);
    assert_false(sc(pm, A + 8, 0x77, 8, 0)); /* next granule */
    (void)lr(pm, A, 8, 0);
    assert_false(sc(pm, A - 4, 0x77, 4, 0)); /* previous granule */
    (void)lr(pm, A + 4, 4, 0);
    assert_false(sc(pm, 0x4000, 0x77, 4, 0)); /* far away */
    assert_int_equal(rd64(pm, A + 8), 0);
    assert_int_equal(rd64(pm, A - 8), 0);
    /* Inside the same granule at another offset: the reservation set is
     * the whole granule (physmem.h), so this may and does succeed. */
    (void)lr(pm, A, 4, 0);
    assert_true(sc(pm, A + 4, 0x77, 4, 0));
    assert_int_equal(rd64(pm, A), 0x77ULL << 32);
}

static void test_lrsc_write_u8_other_byte_breaks(void **state)
{
    vm_physmem_t *pm = *state;
    (void)lr(pm, A, 4, 0);
    assert_int_equal(vm_physmem_write_u8(pm, A + 7, 0x99), VM_OK);
    assert_false(sc(pm, A, 0x1234, 4, 0));
    assert_int_equal(rd64(pm, A), 0x99ULL << 56);
}

/* Every kind of RAM write breaks it: scalar of each width, the sized form,
 * misaligned writes that only clip the granule. */
static void test_lrsc_every_write_kind_breaks(void **state)
{
    vm_physmem_t *pm = *state;
    for (int k = 0; k < 7; k++) {
        (void)lr(pm, A, 8, 5);
        switch (k) {
        case 0: assert_int_equal(vm_physmem_write_u16(pm, A + 2, 1), VM_OK); break;
        case 1: assert_int_equal(vm_physmem_write_u32(pm, A + 4, 1), VM_OK); break;
        case 2: assert_int_equal(vm_physmem_write_u64(pm, A, 1), VM_OK); break;
        case 3: assert_int_equal(vm_physmem_write(pm, A + 1, 1, 1), VM_OK); break;
        /* 4: clips only the granule's first byte; 5: only its last byte. */
        case 4: assert_int_equal(vm_physmem_write_u32(pm, A - 3, 1), VM_OK); break;
        case 5: assert_int_equal(vm_physmem_write_u64(pm, A + 7, 1), VM_OK); break;
        case 6: assert_int_equal(vm_physmem_write(pm, A + 6, 1, 4), VM_OK); break;
        }
        assert_false(sc(pm, A, 0x42, 8, 5));
        assert_int_not_equal(rd64(pm, A), 0x42);
    }
}

static void test_lrsc_write_buf_overlapping_breaks(void **state)
{
    vm_physmem_t *pm = *state;
    uint8_t buf[5] = {1, 2, 3, 4, 5};

    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_write_buf(pm, A - 4, buf, 5), VM_OK); /* granule's first byte */
    assert_false(sc(pm, A, 0x42, 8, 0));
    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_write_buf(pm, A + 7, buf, 5), VM_OK);
    assert_false(sc(pm, A, 0x42, 8, 0));
    /* A large transfer covering the granule from far away. */
    uint8_t big[8192];
    memset(big, 0, sizeof(big));
    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_write_buf(pm, A - 0x1000, big, sizeof(big)), VM_OK);
    assert_false(sc(pm, A, 0x42, 8, 0));
}

/* Writes that end right before or start right after the granule do not
 * break it (only the granule is the reservation set). */
static void test_lrsc_unrelated_granule_write_keeps(void **state)
{
    vm_physmem_t *pm = *state;
    uint8_t buf[8] = {9, 9, 9, 9, 9, 9, 9, 9};

    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_write_u64(pm, A + 8, 1), VM_OK);
    assert_int_equal(vm_physmem_write_u64(pm, A - 8, 1), VM_OK);
    assert_int_equal(vm_physmem_write_buf(pm, A - 8, buf, 8), VM_OK);
    assert_int_equal(vm_physmem_write_buf(pm, A + 8, buf, 8), VM_OK);
    assert_int_equal(vm_physmem_write_u32(pm, A + 9, 1), VM_OK); /* misaligned, next granule */
    assert_int_equal(vm_physmem_write_u8(pm, 0x9000, 1), VM_OK);
    /* Reads never break. */
    (void)rd64(pm, A);
    assert_true(sc(pm, A, 0x42, 8, 0));
    assert_int_equal(rd64(pm, A), 0x42);
}

static void test_lrsc_restore_breaks(void **state)
{
    vm_physmem_t *pm = *state;
    uint8_t *img = malloc(RAM_1M);

    assert_non_null(img);
    assert_int_equal(vm_physmem_dump(pm, img, RAM_1M), VM_OK);
    (void)lr(pm, A, 8, 0);
    (void)lr(pm, 0x80000, 4, 1);
    /* Even restoring identical contents breaks every reservation. */
    assert_int_equal(vm_physmem_restore(pm, img, RAM_1M), VM_OK);
    assert_false(sc(pm, A, 1, 8, 0));
    assert_false(sc(pm, 0x80000, 1, 4, 1));
    /* A failed restore (wrong length) breaks nothing. */
    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_restore(pm, img, RAM_1M - 1), VM_ERR_INVALID_ARGUMENT);
    assert_true(sc(pm, A, 1, 8, 0));
    free(img);
}

static void test_lrsc_other_owner_sc_breaks(void **state)
{
    vm_physmem_t *pm = *state;
    (void)lr(pm, A, 4, 0);
    (void)lr(pm, A + 4, 4, 1);
    assert_true(sc(pm, A + 4, 0xbb, 4, 1));
    assert_false(sc(pm, A, 0xaa, 4, 0));
    assert_int_equal(rd64(pm, A), 0xbbULL << 32);
    /* Also when the other owner's SC stores the bytes already there: it is
     * still a store by another hart to the reservation set. */
    (void)lr(pm, A, 8, 0);
    (void)lr(pm, A + 4, 4, 1);
    assert_true(sc(pm, A + 4, 0xbb, 4, 1));
    assert_false(sc(pm, A, 0xaa, 8, 0));
    assert_int_equal(rd64(pm, A), 0xbbULL << 32);
}

/* An SC that fails writes nothing, so it breaks no one else. */
static void test_lrsc_other_owner_failed_sc_keeps(void **state)
{
    vm_physmem_t *pm = *state;
    (void)lr(pm, A, 4, 0);
    assert_false(sc(pm, A, 0xbb, 4, 1)); /* owner 1 holds nothing */
    assert_true(sc(pm, A, 0xaa, 4, 0));
    assert_int_equal(rd64(pm, A), 0xaa);
}

static void test_lrsc_invalidate_drops_all_owners(void **state)
{
    vm_physmem_t *pm = *state;
    (void)lr(pm, A, 8, 0);
    (void)lr(pm, A + 4, 4, 1);
    (void)lr(pm, A + 8, 8, 2);
    (void)lr(pm, A + 16, 8, 3);
    /* [A+6, A+10) overlaps granules A and A+8, not A+16. */
    vm_physmem_invalidate(pm, A + 6, 4);
    assert_false(sc(pm, A, 1, 8, 0));
    assert_false(sc(pm, A + 4, 1, 4, 1));
    assert_false(sc(pm, A + 8, 1, 8, 2));
    assert_true(sc(pm, A + 16, 1, 8, 3));
    /* Adjacent bytes do not overlap; size 0 overlaps nothing. */
    (void)lr(pm, A, 8, 0);
    vm_physmem_invalidate(pm, A - 1, 1);
    vm_physmem_invalidate(pm, A + 8, 8);
    vm_physmem_invalidate(pm, A, 0);
    vm_physmem_invalidate(pm, UINT64_MAX - 1, 8); /* clipped at 2^64, no wrap */
    vm_physmem_invalidate(NULL, A, 8);
    assert_true(sc(pm, A, 1, 8, 0));
    /* invalidate is not a write: memory unchanged. */
    (void)lr(pm, A, 8, 0);
    vm_physmem_invalidate(pm, A, 1);
    assert_int_equal(rd64(pm, A), 1);
}

/* PA 0 is ordinary RAM: a reservation there is a real reservation (bug
 * class: address 0 used as "no reservation"). */
static void test_lrsc_reservation_at_address_zero(void **state)
{
    vm_physmem_t *pm = *state;
    assert_false(sc(pm, 0, 0x5, 8, 0)); /* nothing reserved yet */
    assert_int_equal(rd64(pm, 0), 0);
    assert_int_equal(lr(pm, 0, 8, 0), 0);
    assert_true(sc(pm, 0, 0x5, 8, 0));
    assert_int_equal(rd64(pm, 0), 5);
    (void)lr(pm, 0, 4, 0);
    assert_int_equal(vm_physmem_write_u8(pm, 3, 1), VM_OK);
    assert_false(sc(pm, 0, 0x6, 4, 0));
    /* A reservation elsewhere does not count for address 0. */
    (void)lr(pm, A, 8, 0);
    assert_false(sc(pm, 0, 0x7, 8, 0));
    /* Owner id 0 and owner id UINT64_MAX are ordinary owners. */
    (void)lr(pm, 0, 8, UINT64_MAX);
    assert_true(sc(pm, 0, 0x8, 8, UINT64_MAX));
}

static void test_lrsc_lr_of_other_owner_keeps(void **state)
{
    vm_physmem_t *pm = *state;
    (void)lr(pm, A, 8, 0);
    (void)lr(pm, A, 8, 1);      /* same granule */
    (void)lr(pm, A + 4, 4, 2);  /* same granule, other offset */
    (void)lr(pm, 0x4000, 8, 3); /* elsewhere */
    vm_physmem_reserve(pm, A, 4, 8);
    assert_true(sc(pm, A, 0x10, 8, 0));
    /* ...and owner 0's successful SC then broke 1, 2 and 4, not 3. */
    assert_false(sc(pm, A, 0x11, 8, 1));
    assert_false(sc(pm, A + 4, 0x12, 4, 2));
    assert_false(sc(pm, A, 0x12, 8, 4));
    assert_true(sc(pm, 0x4000, 0x13, 8, 3));
    assert_int_equal(rd64(pm, A), 0x10);
}

/* A newer LR replaces the owner's older one (an SC pairs with the most
 * recent LR). */
static void test_lrsc_new_lr_replaces_old(void **state)
{
    vm_physmem_t *pm = *state;
    (void)lr(pm, A, 8, 0);
    (void)lr(pm, 0x4000, 8, 0);
    assert_false(sc(pm, A, 1, 8, 0));
    (void)lr(pm, A, 8, 0);
    (void)lr(pm, 0x4000, 8, 0);
    assert_true(sc(pm, 0x4000, 1, 8, 0));
}

/* Writing the very bytes that are already there still breaks it: Zalrsc
 * watches stores, not values (no ABA). */
static void test_lrsc_same_value_write_breaks(void **state)
{
    vm_physmem_t *pm = *state;
    assert_int_equal(vm_physmem_write_u64(pm, A, 0x1111), VM_OK);
    uint64_t v = lr(pm, A, 8, 0);
    assert_int_equal(v, 0x1111);
    assert_int_equal(vm_physmem_write_u64(pm, A, v), VM_OK);
    assert_false(sc(pm, A, 0x2222, 8, 0));
    uint8_t same[1] = {0x11};
    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_write_buf(pm, A, same, 1), VM_OK);
    assert_false(sc(pm, A, 0x2222, 8, 0));
    assert_int_equal(rd64(pm, A), 0x1111);
}

static vm_err_t nop_read(void *o, uint64_t off, uint8_t size, uint64_t *val)
{
    (void)off;
    (void)size;
    (*(int *)o)++;
    *val = 0;
    return VM_OK;
}

static vm_err_t nop_write(void *o, uint64_t off, uint64_t val, uint8_t size)
{
    (void)off;
    (void)val;
    (void)size;
    (*(int *)o)++;
    return VM_OK;
}

static void test_lrsc_mmio_write_keeps(void **state)
{
    vm_physmem_t *pm = *state;
    const vm_mmio_ops_t ops = {nop_read, nop_write, NULL, NULL};
    int calls = 0;
    uint64_t v = 0;
    bool stored = true;

    assert_int_equal(vm_physmem_map_mmio(pm, 0x40000000, 0x1000, &ops, &calls), VM_OK);
    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_write_u64(pm, 0x40000000 + (A & 0xfff), 1), VM_OK);
    assert_int_equal(vm_physmem_write_u64(pm, 0x40000000, 1), VM_OK);
    assert_true(sc(pm, A, 3, 8, 0));
    assert_int_equal(calls, 2);
    /* LR/SC are RAM-only: on MMIO they fail before reaching the device. */
    assert_int_equal(vm_physmem_load_reserved(pm, 0x40000000, 8, 0, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_store_conditional(pm, 0x40000000, 1, 8, 0, &stored),
                     VM_ERR_INVALID_ADDRESS);
    assert_false(stored);
    assert_int_equal(calls, 2);
}

/* Misaligned SC: address-misaligned (Zalrsc "lr_sc_alignment"), nothing
 * written, and the reservation is gone. */
static void test_lrsc_misaligned_sc_faults(void **state)
{
    vm_physmem_t *pm = *state;
    bool stored = true;

    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_store_conditional(pm, A + 2, 1, 4, 0, &stored),
                     VM_ERR_ALIGNMENT_FAULT);
    assert_false(stored);
    assert_int_equal(vm_physmem_store_conditional(pm, A + 1, 1, 2, 0, &stored),
                     VM_ERR_ALIGNMENT_FAULT);
    assert_int_equal(vm_physmem_store_conditional(pm, A + 4, 1, 8, 0, &stored),
                     VM_ERR_ALIGNMENT_FAULT);
    assert_int_equal(rd64(pm, A), 0);
    assert_false(sc(pm, A, 1, 8, 0));
}

/* Argument errors change nothing (not even the reservation); address
 * errors clear it. */
static void test_lrsc_sc_argument_and_address_errors(void **state)
{
    vm_physmem_t *pm = *state;
    bool stored = true;
    const uint8_t bad[] = {0, 3, 5, 16};

    (void)lr(pm, A, 8, 0);
    for (size_t i = 0; i < sizeof(bad); i++)
        assert_int_equal(vm_physmem_store_conditional(pm, A, 1, bad[i], 0, &stored),
                         VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_store_conditional(pm, A, 1, 8, 0, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_store_conditional(NULL, A, 1, 8, 0, &stored),
                     VM_ERR_INVALID_ARGUMENT);
    assert_true(sc(pm, A, 1, 8, 0));
    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_store_conditional(pm, RAM_1M, 1, 8, 0, &stored),
                     VM_ERR_INVALID_ADDRESS);
    assert_false(stored);
    assert_int_equal(vm_physmem_store_conditional(pm, UINT64_MAX - 7, 1, 8, 0, &stored),
                     VM_ERR_INVALID_ADDRESS);
    assert_false(sc(pm, A, 2, 8, 0));
    assert_int_equal(rd64(pm, A), 1);
    /* physmem_clear_reservation (faulting SC in the MMU) drops it too. */
    (void)lr(pm, A, 8, 0);
    physmem_clear_reservation(pm, 0);
    physmem_clear_reservation(pm, 12345); /* unknown owner: no-op */
    assert_false(sc(pm, A, 2, 8, 0));
}

static void test_lrsc_lr_errors(void **state)
{
    vm_physmem_t *pm = *state;
    uint64_t v = 77;

    (void)lr(pm, A, 8, 0);
    assert_int_equal(vm_physmem_load_reserved(pm, A + 2, 4, 0, &v), VM_ERR_ALIGNMENT_FAULT);
    assert_int_equal(vm_physmem_load_reserved(pm, A, 3, 0, &v), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_load_reserved(pm, A, 8, 0, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_load_reserved(pm, RAM_1M, 8, 0, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_load_reserved(pm, UINT64_MAX - 7, 8, 0, &v),
                     VM_ERR_INVALID_ADDRESS);
    assert_int_equal(v, 77);
    /* physmem.h: on error no reservation changes, so the first LR stands. */
    assert_true(sc(pm, A, 1, 8, 0));
    /* The last granule of RAM. */
    assert_int_equal(lr(pm, RAM_1M - 8, 8, 0), 0);
    assert_true(sc(pm, RAM_1M - 4, 0xff, 4, 0));
    assert_int_equal(rd64(pm, RAM_1M - 8), 0xffULL << 32);
}

/* vm_physmem_reserve with invalid input leaves the owner with nothing. */
static void test_lrsc_reserve_invalid_clears(void **state)
{
    vm_physmem_t *pm = *state;
    const struct { uint64_t pa; uint8_t size; } bad[] = {
        {A + 6, 4}, /* crosses the granule */
        {A, 3},     /* bad size */
        {A, 16},
        {RAM_1M, 1},
        {RAM_1M - 2, 4},
        {UINT64_MAX, 8},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        (void)lr(pm, A, 8, 0);
        vm_physmem_reserve(pm, bad[i].pa, 0, bad[i].size);
        assert_false(sc(pm, A, 1, 8, 0));
    }
    /* A valid reserve (misaligned but inside one granule) works. */
    vm_physmem_reserve(pm, A + 1, 0, 2);
    assert_true(sc(pm, A, 1, 8, 0));
    vm_physmem_reserve(NULL, A, 0, 8);
}

/* The PTE A/D compare-and-swap is a write like any other. */
static void test_lrsc_cmpxchg_breaks(void **state)
{
    vm_physmem_t *pm = *state;
    bool swapped = false;

    (void)lr(pm, A, 8, 0);
    assert_int_equal(physmem_cmpxchg_u64(pm, A, 1, 2, &swapped), VM_OK); /* mismatch */
    assert_false(swapped);
    assert_true(sc(pm, A, 0x41, 8, 0));
    (void)lr(pm, A, 8, 0);
    assert_int_equal(physmem_cmpxchg_u64(pm, A, 0x41, 0xc1, &swapped), VM_OK);
    assert_true(swapped);
    assert_false(sc(pm, A, 0x42, 8, 0));
    assert_int_equal(rd64(pm, A), 0xc1);
}

/* More owners than the table's initial capacity: each keeps its own. */
static void test_lrsc_many_owners(void **state)
{
    vm_physmem_t *pm = *state;
    for (uint64_t o = 0; o < 40; o++)
        (void)lr(pm, 0x10000 + o * 8, 8, o * 1000);
    for (uint64_t o = 0; o < 40; o += 2)
        assert_true(sc(pm, 0x10000 + o * 8, o + 1, 8, o * 1000));
    vm_physmem_invalidate(pm, 0x10000, 255);
    /* [0x10000, 0x100ff) covers owners 0..31's granules. */
    for (uint64_t o = 1; o < 40; o += 2)
        assert_int_equal(sc(pm, 0x10000 + o * 8, 1, 8, o * 1000), o >= 32);
}

/*
 * Owners come and go (vCPUs created and freed): the reservation table must
 * stay as large as the reservations live at once, not grow per owner ever
 * seen; and a departed owner's reservation must not keep writers on the
 * slow path (nres back to 0).
 */
static void test_lrsc_table_bounded_by_live_reservations(void **state)
{
    vm_physmem_t *pm = *state;
    uint64_t v;
    bool ok;

    for (uint64_t owner = 1; owner <= 20000; owner++) {
        assert_int_equal(vm_physmem_load_reserved(pm, 0x100 + 8 * (owner % 4), 8, owner, &v), VM_OK);
        assert_int_equal(vm_physmem_store_conditional(pm, 0x100 + 8 * (owner % 4), owner, 8, owner, &ok),
                         VM_OK);
        assert_true(ok);
    }
    assert_true(pm->res_cap <= 8);
    assert_int_equal(__atomic_load_n(&pm->nres, __ATOMIC_SEQ_CST), 0);

    /* A recycled slot must not let its new owner inherit anything. */
    assert_int_equal(vm_physmem_load_reserved(pm, 0x200, 8, 1, &v), VM_OK);
    assert_int_equal(vm_physmem_store_conditional(pm, 0x200, 7, 8, 2, &ok), VM_OK);
    assert_false(ok); /* owner 2 never reserved */
    assert_int_equal(vm_physmem_store_conditional(pm, 0x200, 7, 8, 1, &ok), VM_OK);
    assert_true(ok);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_lrsc_seed_example),
        T(test_lrsc_table_bounded_by_live_reservations),
        T(test_lrsc_widths_and_merge),
        T(test_lrsc_sc_without_lr_fails),
        T(test_lrsc_sc_after_sc_fails),
        T(test_lrsc_failed_sc_clears_reservation),
        T(test_lrsc_sc_outside_granule_fails),
        T(test_lrsc_write_u8_other_byte_breaks),
        T(test_lrsc_every_write_kind_breaks),
        T(test_lrsc_write_buf_overlapping_breaks),
        T(test_lrsc_unrelated_granule_write_keeps),
        T(test_lrsc_restore_breaks),
        T(test_lrsc_other_owner_sc_breaks),
        T(test_lrsc_other_owner_failed_sc_keeps),
        T(test_lrsc_invalidate_drops_all_owners),
        T(test_lrsc_reservation_at_address_zero),
        T(test_lrsc_lr_of_other_owner_keeps),
        T(test_lrsc_new_lr_replaces_old),
        T(test_lrsc_same_value_write_breaks),
        T(test_lrsc_mmio_write_keeps),
        T(test_lrsc_misaligned_sc_faults),
        T(test_lrsc_sc_argument_and_address_errors),
        T(test_lrsc_lr_errors),
        T(test_lrsc_reserve_invalid_clears),
        T(test_lrsc_cmpxchg_breaks),
        T(test_lrsc_many_owners),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
