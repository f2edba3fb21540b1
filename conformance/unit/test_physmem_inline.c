/*
 * test_physmem_inline.c - the inline physical accessors
 * (vmmem/physmem_inline.h), through pm and through a view, against their
 * contract: exactly the results of vm_physmem_read / vm_physmem_write
 * (values, errors, MMIO, holes, bad sizes, misaligned, RAM at a base far
 * above its size and at one below it), a view is not a copy (it sees every
 * write made any other way, and its writes are seen), and a store that takes
 * the inline path still breaks LR reservations (physmem.h), also when it
 * writes the bytes already there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define BASE UINT64_C(0x80000000)
#define RAM (UINT64_C(1) << 20)
#define DEV UINT64_C(0x10000000)

static unsigned dev_calls;

static vm_err_t dev_read(void *o, uint64_t off, uint8_t size, uint64_t *val)
{
    (void)o, (void)size;
    dev_calls++;
    *val = 0xd0 + off;
    return VM_OK;
}

static vm_err_t dev_write(void *o, uint64_t off, uint64_t val, uint8_t size)
{
    (void)o, (void)off, (void)val, (void)size;
    dev_calls++;
    return VM_OK;
}

static const vm_mmio_ops_t dev_ops = {dev_read, dev_write, NULL, NULL};

/* Every (address, size) pair near the interesting edges answers like the
 * function API, for reads and for writes, through pm (memory a) and through
 * a view taken before any access (memory c), checked on a twin memory (b)
 * that only the function API touches. */
static void check_forms_equal_function_api(uint64_t base)
{
    vm_physmem_t *a = vm_physmem_new_at(base, RAM, false);
    vm_physmem_t *b = vm_physmem_new_at(base, RAM, false);
    vm_physmem_t *c = vm_physmem_new_at(base, RAM, false);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(vm_physmem_map_mmio(a, DEV, 0x100, &dev_ops, NULL), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(b, DEV, 0x100, &dev_ops, NULL), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(c, DEV, 0x100, &dev_ops, NULL), VM_OK);
    const vm_physmem_view_t view = vm_physmem_view(c);
    const uint64_t spots[] = {0, 8, base - 8, base - 1, base, base + 1, base + 6, base + 0x1234,
                              base + RAM - 8, base + RAM - 7, base + RAM - 4, base + RAM - 2,
                              base + RAM - 1, base + RAM, RAM - 8, RAM, 2 * base,
                              DEV, DEV + 4, DEV + 0xfc, DEV + 0xff, UINT64_MAX - 7, UINT64_MAX};
    const uint8_t sizes[] = {0, 1, 2, 3, 4, 8, 16};
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            uint64_t pa = spots[i], v = 0x1111 * (i + 1) + k;
            uint8_t sz = sizes[k];
            unsigned calls = dev_calls;
            vm_err_t eb = vm_physmem_write(b, pa, v, sz);
            unsigned dev_per_call = dev_calls - calls;
            assert_int_equal(vm_physmem_write_inline(a, pa, v, sz), eb);
            assert_int_equal(vm_physmem_view_write(&view, pa, v, sz), eb);
            assert_int_equal(dev_calls - calls, 3 * dev_per_call); /* the device saw each */
            uint64_t ra = 1, rb = 2, rc = 3;
            eb = vm_physmem_read(b, pa, sz, &rb);
            assert_int_equal(vm_physmem_read_inline(a, pa, sz, &ra), eb);
            assert_int_equal(vm_physmem_view_read(&view, pa, sz, &rc), eb);
            if (eb == VM_OK) {
                assert_int_equal(ra, rb);
                assert_int_equal(rc, rb);
            }
        }
    /* the memories are the same afterwards */
    uint8_t *da = malloc(RAM), *db = malloc(RAM), *dc = malloc(RAM);
    assert_non_null(da);
    assert_non_null(db);
    assert_non_null(dc);
    assert_int_equal(vm_physmem_dump(a, da, RAM), VM_OK);
    assert_int_equal(vm_physmem_dump(b, db, RAM), VM_OK);
    assert_int_equal(vm_physmem_dump(c, dc, RAM), VM_OK);
    assert_memory_equal(da, db, RAM);
    assert_memory_equal(dc, db, RAM);
    free(da);
    free(db);
    free(dc);
    vm_physmem_free(a);
    vm_physmem_free(b);
    vm_physmem_free(c);
}

static void test_physmem_inline_equals_function_api(void **state)
{
    (void)state;
    check_forms_equal_function_api(BASE);
    /* a base below the RAM size: guest addresses in [RAM, base + RAM) and
     * RAM offsets overlap, so an offset computed without the base (or with
     * a stale one) lands on other bytes instead of leaving RAM */
    check_forms_equal_function_api(0x3000);
    check_forms_equal_function_api(0);
}

/* A view is the memory, not a copy: writes through any API are seen
 * through it and its writes through every other API, in both directions,
 * including a restore. */
static void test_physmem_view_is_not_a_copy(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new_at(0x2000, RAM, false);
    assert_non_null(pm);
    const vm_physmem_view_t v = vm_physmem_view(pm);
    uint64_t x = 0;
    assert_int_equal(vm_physmem_write_u64(pm, 0x2008, 0x1122334455667788u), VM_OK);
    assert_int_equal(vm_physmem_view_read(&v, 0x2008, 8, &x), VM_OK);
    assert_int_equal(x, 0x1122334455667788u);
    assert_int_equal(vm_physmem_view_read(&v, 0x200c, 2, &x), VM_OK);
    assert_int_equal(x, 0x3344);
    assert_int_equal(vm_physmem_view_write(&v, 0x2010, 0xabcd, 4), VM_OK);
    uint32_t w = 0;
    assert_int_equal(vm_physmem_read_u32(pm, 0x2010, &w), VM_OK);
    assert_int_equal(w, 0xabcd);
    uint8_t *img = calloc(1, RAM);
    assert_non_null(img);
    img[0x18] = 0x5a;
    assert_int_equal(vm_physmem_restore(pm, img, RAM), VM_OK);
    assert_int_equal(vm_physmem_view_read(&v, 0x2018, 1, &x), VM_OK);
    assert_int_equal(x, 0x5a);
    assert_int_equal(vm_physmem_view_read(&v, 0x2010, 4, &x), VM_OK);
    assert_int_equal(x, 0);
    /* below the base and past the end: errors, as the function API */
    assert_int_equal(vm_physmem_view_read(&v, 0x1ff8, 8, &x), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_view_write(&v, 0x2000 + RAM, 1, 1), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_view_write(&v, 0x8, 1, 8), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_dump(pm, img, RAM), VM_OK);
    for (size_t i = 0; i < RAM; i++)
        if (img[i] != (i == 0x18 ? 0x5a : 0))
            fail_msg("byte 0x%zx is 0x%x after failed view writes", i, img[i]);
    free(img);
    vm_physmem_free(pm);
}

/* RAM smaller than 8 bytes (ram_end8 = 0: nothing takes the inline fast
 * path): every access wholly inside the 5 bytes succeeds (misaligned RAM
 * accesses are allowed) with the bytes written, every other one is
 * VM_ERR_INVALID_ADDRESS, through the inline and the function API alike. */
static void test_physmem_inline_tiny_ram(void **state)
{
    (void)state;
    vm_physmem_t *a = vm_physmem_new_at(BASE, 5, false);
    assert_non_null(a);
    for (uint64_t off = 0; off < 10; off++) {
        static const uint8_t sizes[] = {1, 2, 4, 8};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            const uint8_t sz = sizes[k];
            const bool fits = off + sz <= 5;
            const uint64_t v = 0x0102030405060708u >> (8 * (8 - sz));
            assert_int_equal(vm_physmem_write_inline(a, BASE + off, v, sz),
                             fits ? VM_OK : VM_ERR_INVALID_ADDRESS);
            uint64_t r = 0, f = 1;
            assert_int_equal(vm_physmem_read_inline(a, BASE + off, sz, &r),
                             fits ? VM_OK : VM_ERR_INVALID_ADDRESS);
            assert_int_equal(vm_physmem_read(a, BASE + off, sz, &f),
                             fits ? VM_OK : VM_ERR_INVALID_ADDRESS);
            uint64_t g = 2;
            const vm_physmem_view_t view = vm_physmem_view(a);
            assert_int_equal(vm_physmem_view_read(&view, BASE + off, sz, &g),
                             fits ? VM_OK : VM_ERR_INVALID_ADDRESS);
            if (fits)
                assert_int_equal(g, v);
            if (fits) {
                assert_int_equal(r, v);
                assert_int_equal(f, v);
            }
        }
    }
    uint8_t u8 = 0;
    assert_int_equal(vm_physmem_read_u8(a, BASE + 4, &u8), VM_OK);
    assert_int_equal(vm_physmem_write_u8(a, BASE + 4, 0x5a), VM_OK);
    assert_int_equal(vm_physmem_read_u8(a, BASE + 4, &u8), VM_OK);
    assert_int_equal(u8, 0x5a);
    uint64_t u64 = 0;
    assert_int_equal(vm_physmem_read_u64(a, BASE, &u64), VM_ERR_INVALID_ADDRESS);
    vm_physmem_free(a);
}

/* physmem.h: any write to the granule breaks a reservation on it. */
static void test_physmem_inline_store_breaks_reservation(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM, false);
    assert_non_null(pm);
    uint64_t v;
    bool ok = true;
    assert_int_equal(vm_physmem_write_inline(pm, 0x100, 0x42, 8), VM_OK);
    assert_int_equal(vm_physmem_load_reserved(pm, 0x100, 8, 7, &v), VM_OK);
    assert_int_equal(vm_physmem_write_inline(pm, 0x104, 0, 2), VM_OK); /* same bytes */
    assert_int_equal(vm_physmem_store_conditional(pm, 0x100, 1, 8, 7, &ok), VM_OK);
    assert_false(ok);
    assert_int_equal(vm_physmem_load_reserved(pm, 0x100, 8, 7, &v), VM_OK);
    assert_int_equal(vm_physmem_write_inline(pm, 0x108, 5, 8), VM_OK); /* next granule */
    assert_int_equal(vm_physmem_store_conditional(pm, 0x100, 1, 8, 7, &ok), VM_OK);
    assert_true(ok);
    assert_int_equal(vm_physmem_read_inline(pm, 0x100, 8, &v), VM_OK);
    assert_int_equal(v, 1);
    /* the same through a view taken before the reservation */
    const vm_physmem_view_t view = vm_physmem_view(pm);
    assert_int_equal(vm_physmem_load_reserved(pm, 0x100, 8, 7, &v), VM_OK);
    assert_int_equal(vm_physmem_view_write(&view, 0x100, 1, 1), VM_OK); /* same bytes */
    assert_int_equal(vm_physmem_store_conditional(pm, 0x100, 2, 8, 7, &ok), VM_OK);
    assert_false(ok);
    assert_int_equal(vm_physmem_load_reserved(pm, 0x100, 8, 7, &v), VM_OK);
    assert_int_equal(vm_physmem_view_write(&view, 0xf8, 9, 8), VM_OK); /* the granule below */
    assert_int_equal(vm_physmem_store_conditional(pm, 0x100, 2, 8, 7, &ok), VM_OK);
    assert_true(ok);
    vm_physmem_free(pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_physmem_inline_equals_function_api),
        cmocka_unit_test(test_physmem_view_is_not_a_copy),
        cmocka_unit_test(test_physmem_inline_tiny_ram),
        cmocka_unit_test(test_physmem_inline_store_breaks_reservation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
