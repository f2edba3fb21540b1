/*
 * test_ptbuilder.c - the page-table builder (vmmem/ptbuilder.h).
 *
 * How it works: the tables the builder writes are read back raw
 * (vm_mmu_read_phys) and decoded with the Priv. spec's Sv39/48/57 layout
 * written out here independently (VPN i = VA bits 12+9i+8 .. 12+9i, PTE
 * PPN in bits 53:10), and the mappings are then used through the MMU. The
 * error cases snapshot all of RAM with vm_physmem_dump before and after
 * the failing call: a failing call must change neither memory nor
 * builder.next (ptbuilder.h).
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
#define ROOT UINT64_C(0x1000)
#define TABLES UINT64_C(0x10000)
#define PPN_FIELD(pa) ((uint64_t)(pa) >> 12 << 10)

static uint64_t phys64(vm_mmu_t *mmu, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(mmu, pa, 8, &v), VM_OK);
    return v;
}

static vm_gpa_t slot(vm_gpa_t table, vm_gva_t va, int level)
{
    return table + ((va >> (12 + 9 * level)) & 0x1ff) * 8;
}

static vm_gpa_t next_table(uint64_t pte)
{
    return ((pte >> 10) & ((UINT64_C(1) << 44) - 1)) << 12;
}

static int levels_of(vm_paging_mode_t mode)
{
    return mode == VM_PAGING_SV39 ? 3 : mode == VM_PAGING_SV48 ? 4 : 5;
}

static uint64_t satp_of(vm_paging_mode_t mode, vm_gpa_t root)
{
    uint64_t m = mode == VM_PAGING_SV39 ? 8 : mode == VM_PAGING_SV48 ? 9 : 10;
    return (m << 60) | (root >> 12);
}

static vm_mmu_t *new_mmu(void)
{
    vm_mmu_t *mmu = vm_mmu_new(RAM_SIZE, false);
    assert_non_null(mmu);
    return mmu;
}

/* ---- alloc_page ------------------------------------------------------- */

static void test_ptbuilder_alloc_page_sequence(void **state)
{
    (void)state;
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, 0x10000);
    assert_int_equal(b.start, 0x10000);
    assert_int_equal(b.next, 0x10000);
    assert_int_equal(vm_ptbuilder_alloc_page(&b), 0x10000);
    assert_int_equal(vm_ptbuilder_alloc_page(&b), 0x11000);
    assert_int_equal(vm_ptbuilder_alloc_page(&b), 0x12000);
    assert_int_equal(b.next, 0x13000);
    assert_int_equal(b.start, 0x10000);

    /* start is rounded up to 4 KiB. */
    vm_ptbuilder_init(&b, 0x10001);
    assert_int_equal(b.start, 0x11000);
    assert_int_equal(vm_ptbuilder_alloc_page(&b), 0x11000);
    vm_ptbuilder_init(&b, 0x10fff);
    assert_int_equal(vm_ptbuilder_alloc_page(&b), 0x11000);
    vm_ptbuilder_init(&b, 0);
    assert_int_equal(vm_ptbuilder_alloc_page(&b), 0);
    assert_int_equal(vm_ptbuilder_alloc_page(&b), 0x1000);
}

/* alloc_page does not touch memory, and map takes pages after it. */
static void test_ptbuilder_alloc_page_then_map(void **state)
{
    (void)state;
    vm_mmu_t *mmu = new_mmu();
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, TABLES);
    assert_int_equal(vm_mmu_write_phys(mmu, TABLES, 0x1234, 8), VM_OK);
    vm_gpa_t root = vm_ptbuilder_alloc_page(&b);
    assert_int_equal(root, TABLES);
    assert_int_equal(phys64(mmu, TABLES), 0x1234); /* untouched */
    assert_int_equal(vm_mmu_write_phys(mmu, TABLES, 0, 8), VM_OK);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x5000, 0x300000, VM_PTE_R, root), VM_OK);
    /* Two fresh tables: TABLES+0x1000 (level 1) and TABLES+0x2000 (level 0). */
    assert_int_equal(phys64(mmu, slot(root, 0x5000, 2)), VM_PTE_V | PPN_FIELD(TABLES + 0x1000));
    assert_int_equal(phys64(mmu, slot(TABLES + 0x1000, 0x5000, 1)),
                     VM_PTE_V | PPN_FIELD(TABLES + 0x2000));
    assert_int_equal(phys64(mmu, slot(TABLES + 0x2000, 0x5000, 0)),
                     VM_PTE_V | VM_PTE_R | PPN_FIELD(0x300000));
    assert_int_equal(b.next, TABLES + 0x3000);
    vm_mmu_free(mmu);
}

/* ---- 4 KiB maps in every mode ------------------------------------------ */

static void check_4k_map(vm_paging_mode_t mode)
{
    vm_mmu_t *mmu = new_mmu();
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, TABLES);
    const int levels = levels_of(mode);
    /* A high-half VA (bits 63..VA_BITS-1 all ones: canonical) with nonzero
     * VPN at every level. */
    const vm_gva_t cva = mode == VM_PAGING_SV39   ? UINT64_C(0xFFFFFFD5A5A5A000)
                         : mode == VM_PAGING_SV48 ? UINT64_C(0xFFFF8A5A5A5A5000)
                                                  : UINT64_C(0xFF9A5A5A5A5A5000);
    const uint64_t flags = VM_PTE_R | VM_PTE_W | VM_PTE_U | VM_PTE_A;
    vm_err_t err;
    if (mode == VM_PAGING_SV39)
        err = vm_ptbuilder_map_sv39(&b, mmu, cva, 0x3ff000, flags, ROOT);
    else if (mode == VM_PAGING_SV48)
        err = vm_ptbuilder_map_sv48(&b, mmu, cva, 0x3ff000, flags, ROOT);
    else
        err = vm_ptbuilder_map_sv57(&b, mmu, cva, 0x3ff000, flags, ROOT);
    assert_int_equal(err, VM_OK);

    /* Intermediate PTEs are V-only pointers to fresh pages in order. */
    vm_gpa_t table = ROOT;
    for (int i = levels - 1; i > 0; i--) {
        uint64_t pte = phys64(mmu, slot(table, cva, i));
        vm_gpa_t expect = TABLES + (uint64_t)(levels - 1 - i) * 0x1000;
        assert_int_equal(pte, VM_PTE_V | PPN_FIELD(expect));
        table = next_table(pte);
    }
    assert_int_equal(phys64(mmu, slot(table, cva, 0)), flags | VM_PTE_V | PPN_FIELD(0x3ff000));
    assert_int_equal(b.next, TABLES + (uint64_t)(levels - 1) * 0x1000);

    /* And the MMU agrees (S-mode needs SUM for a U page). */
    vm_mmu_set_satp(mmu, satp_of(mode, ROOT));
    vm_mmu_set_sum(mmu, true);
    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(mmu, cva + 0x123, VM_ACCESS_WRITE, &pa), VM_OK);
    assert_int_equal(pa, 0x3ff123);
    vm_mmu_free(mmu);
}

static void test_ptbuilder_map_4k_sv39(void **state)
{
    (void)state;
    check_4k_map(VM_PAGING_SV39);
}

static void test_ptbuilder_map_4k_sv48(void **state)
{
    (void)state;
    check_4k_map(VM_PAGING_SV48);
}

static void test_ptbuilder_map_4k_sv57(void **state)
{
    (void)state;
    check_4k_map(VM_PAGING_SV57);
}

/* Existing tables are reused; an existing leaf at the target is overwritten. */
static void test_ptbuilder_reuses_tables_and_overwrites_leaf(void **state)
{
    (void)state;
    vm_mmu_t *mmu = new_mmu();
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, TABLES);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x200000, 0x100000, VM_PTE_R, ROOT), VM_OK);
    assert_int_equal(b.next, TABLES + 0x2000);
    /* Same 2 MiB region: same level-0 table, no allocation. */
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x201000, 0x101000, VM_PTE_X, ROOT), VM_OK);
    assert_int_equal(b.next, TABLES + 0x2000);
    vm_gpa_t l0 = TABLES + 0x1000;
    assert_int_equal(phys64(mmu, slot(l0, 0x201000, 0)), VM_PTE_V | VM_PTE_X | PPN_FIELD(0x101000));
    /* Next 2 MiB region: one new level-0 table. */
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x400000, 0x102000, VM_PTE_R, ROOT), VM_OK);
    assert_int_equal(b.next, TABLES + 0x3000);
    /* Overwrite the first leaf. */
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x200000, 0x1ff000,
                                           VM_PTE_R | VM_PTE_W | VM_PTE_G, ROOT), VM_OK);
    assert_int_equal(phys64(mmu, slot(l0, 0x200000, 0)),
                     VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_G | PPN_FIELD(0x1ff000));
    assert_int_equal(b.next, TABLES + 0x3000);
    /* V may be passed in flags too (seed example: flags 0xF). */
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x202000, 0x103000, 0xF, ROOT), VM_OK);
    assert_int_equal(phys64(mmu, slot(l0, 0x202000, 0)), 0xF | PPN_FIELD(0x103000));
    vm_mmu_free(mmu);
}

/* ---- Superpages ------------------------------------------------------- */

static void test_ptbuilder_superpage_2m(void **state)
{
    (void)state;
    vm_mmu_t *mmu = new_mmu();
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, TABLES);
    const vm_gva_t va = UINT64_C(0x40000000) + 3 * VM_PAGE_2M;
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV39, va, VM_PAGE_2M, VM_PAGE_2M,
                                      VM_PTE_R | VM_PTE_W, ROOT), VM_OK);
    /* One fresh table (level 1); the leaf lives at level 1. */
    assert_int_equal(b.next, TABLES + 0x1000);
    assert_int_equal(phys64(mmu, slot(ROOT, va, 2)), VM_PTE_V | PPN_FIELD(TABLES));
    assert_int_equal(phys64(mmu, slot(TABLES, va, 1)),
                     VM_PTE_V | VM_PTE_R | VM_PTE_W | PPN_FIELD(VM_PAGE_2M));
    vm_mmu_set_satp(mmu, satp_of(VM_PAGING_SV39, ROOT));
    vm_gpa_t pa = 0;
    /* Step 10: pa.ppn[0] = va.vpn[0] inside a megapage. */
    assert_int_equal(vm_mmu_translate(mmu, va + 0x1ff123, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, VM_PAGE_2M + 0x1ff123);
    /* Unaligned va or pa for the size: refused. */
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV39, va + 0x1000, VM_PAGE_2M,
                                      VM_PAGE_2M, VM_PTE_R, ROOT), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV39, va, VM_PAGE_2M + 0x1000,
                                      VM_PAGE_2M, VM_PTE_R, ROOT), VM_ERR_INVALID_ARGUMENT);
    vm_mmu_free(mmu);
}

static void test_ptbuilder_superpage_1g_and_512g(void **state)
{
    (void)state;
    vm_mmu_t *mmu = new_mmu();
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, TABLES);
    /* 1 GiB in Sv39: the leaf is in the root itself, no table allocated. */
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV39, 2 * VM_PAGE_1G, 0, VM_PAGE_1G,
                                      VM_PTE_R | VM_PTE_X, ROOT), VM_OK);
    assert_int_equal(b.next, TABLES);
    assert_int_equal(phys64(mmu, ROOT + 2 * 8), VM_PTE_V | VM_PTE_R | VM_PTE_X);
    vm_mmu_set_satp(mmu, satp_of(VM_PAGING_SV39, ROOT));
    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(mmu, 2 * VM_PAGE_1G + 0x123456, VM_ACCESS_EXEC, &pa), VM_OK);
    assert_int_equal(pa, 0x123456);

    /* 512 GiB needs a fourth level: refused in Sv39 ... */
    const vm_gpa_t root48 = 0x2000;
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV39, 0, 0, VM_PAGE_512G, VM_PTE_R,
                                      root48), VM_ERR_INVALID_ARGUMENT);
    /* ... a root leaf in Sv48 (bits 47:39 index it) ... */
    const vm_gva_t va = 5 * VM_PAGE_512G;
    const vm_gpa_t big = UINT64_C(3) * VM_PAGE_512G; /* PPN beyond RAM is fine */
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV48, va, big, VM_PAGE_512G, VM_PTE_R,
                                      root48), VM_OK);
    assert_int_equal(phys64(mmu, root48 + 5 * 8), VM_PTE_V | VM_PTE_R | PPN_FIELD(big));
    vm_mmu_set_satp(mmu, satp_of(VM_PAGING_SV48, root48));
    assert_int_equal(vm_mmu_translate(mmu, va + UINT64_C(0x7654321098), VM_ACCESS_READ, &pa),
                     VM_OK);
    assert_int_equal(pa, big + UINT64_C(0x7654321098));
    /* ... and one level below the root in Sv57. */
    const vm_gpa_t root57 = 0x3000;
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV57, va, big, VM_PAGE_512G, VM_PTE_R,
                                      root57), VM_OK);
    assert_int_equal(b.next, TABLES + 0x1000);
    assert_int_equal(phys64(mmu, root57), VM_PTE_V | PPN_FIELD(TABLES));
    assert_int_equal(phys64(mmu, TABLES + 5 * 8), VM_PTE_V | VM_PTE_R | PPN_FIELD(big));
    /* 1 GiB in Sv48 sits at level 2. */
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV48, VM_PAGE_1G, VM_PAGE_1G,
                                      VM_PAGE_1G, VM_PTE_R, root48), VM_OK);
    assert_int_equal(phys64(mmu, root48), VM_PTE_V | PPN_FIELD(TABLES + 0x1000));
    assert_int_equal(phys64(mmu, TABLES + 0x1000 + 8), VM_PTE_V | VM_PTE_R | PPN_FIELD(VM_PAGE_1G));
    vm_mmu_free(mmu);
}

/* ---- Errors leave memory and the builder unchanged ---------------------- */

struct snapshot {
    uint8_t *ram;
    vm_ptbuilder_t b;
};

static void snap_take(struct snapshot *s, vm_mmu_t *mmu, const vm_ptbuilder_t *b)
{
    s->ram = malloc(RAM_SIZE);
    assert_non_null(s->ram);
    assert_int_equal(vm_physmem_dump(vm_mmu_physmem(mmu), s->ram, RAM_SIZE), VM_OK);
    s->b = *b;
}

static void snap_check(struct snapshot *s, vm_mmu_t *mmu, const vm_ptbuilder_t *b)
{
    uint8_t *now = malloc(RAM_SIZE);
    assert_non_null(now);
    assert_int_equal(vm_physmem_dump(vm_mmu_physmem(mmu), now, RAM_SIZE), VM_OK);
    assert_memory_equal(now, s->ram, RAM_SIZE);
    assert_int_equal(b->start, s->b.start);
    assert_int_equal(b->next, s->b.next);
    free(now);
    free(s->ram);
    s->ram = NULL;
}

static void test_ptbuilder_errors_change_nothing(void **state)
{
    (void)state;
    vm_mmu_t *mmu = new_mmu();
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, TABLES);
    /* Some existing content: a 2 MiB leaf at VA 2M and a 4 KiB map. */
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV39, VM_PAGE_2M, VM_PAGE_2M,
                                      VM_PAGE_2M, VM_PTE_R, ROOT), VM_OK);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x1000, 0x5000, VM_PTE_R, ROOT), VM_OK);

    static const struct {
        vm_paging_mode_t mode;
        vm_gva_t va;
        vm_gpa_t pa;
        uint64_t size, flags;
        vm_gpa_t root;
        vm_err_t want;
    } cases[] = {
        /* bad flags: no R/X, W without R, W|X without R, bits above 7 */
        {VM_PAGING_SV39, 0x3000, 0x6000, VM_PAGE_4K, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_SV39, 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_V, ROOT, VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_SV39, 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_W, ROOT, VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_SV39, 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_W | VM_PTE_X, ROOT,
         VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_SV39, 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_R | 0x100, ROOT,
         VM_ERR_INVALID_ARGUMENT},
        /* unaligned root / va / pa */
        {VM_PAGING_SV39, 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_R, ROOT + 8, VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_SV39, 0x3008, 0x6000, VM_PAGE_4K, VM_PTE_R, ROOT, VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_SV39, 0x3000, 0x6800, VM_PAGE_4K, VM_PTE_R, ROOT, VM_ERR_INVALID_ARGUMENT},
        /* non-canonical: Sv39 bit 38 set, 63:39 clear; Sv48 bit 48 set alone */
        {VM_PAGING_SV39, UINT64_C(1) << 38, 0x6000, VM_PAGE_4K, VM_PTE_R, ROOT,
         VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_SV48, UINT64_C(1) << 48, 0x6000, VM_PAGE_4K, VM_PTE_R, ROOT,
         VM_ERR_INVALID_ARGUMENT},
        /* pa wider than 56 bits */
        {VM_PAGING_SV39, 0x3000, UINT64_C(1) << 56, VM_PAGE_4K, VM_PTE_R, ROOT,
         VM_ERR_INVALID_ARGUMENT},
        /* bad page size, bad mode, size too big for the mode */
        {VM_PAGING_SV39, 0x0, 0x0, 0x2000, VM_PTE_R, ROOT, VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_BARE, 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_R, ROOT, VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_ARM64, 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_R, ROOT, VM_ERR_INVALID_ARGUMENT},
        {VM_PAGING_SV39, 0, 0, VM_PAGE_512G, VM_PTE_R, ROOT, VM_ERR_INVALID_ARGUMENT},
        /* an existing leaf (the 2 MiB page) above the target level */
        {VM_PAGING_SV39, VM_PAGE_2M + 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_R, ROOT,
         VM_ERR_INVALID_ARGUMENT},
        /* root outside RAM */
        {VM_PAGING_SV39, 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_R, RAM_SIZE, VM_ERR_INVALID_ADDRESS},
        {VM_PAGING_SV39, 0x3000, 0x6000, VM_PAGE_4K, VM_PTE_R, UINT64_C(0x80000000),
         VM_ERR_INVALID_ADDRESS},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct snapshot s;
        snap_take(&s, mmu, &b);
        vm_err_t err = vm_ptbuilder_map(&b, mmu, cases[i].mode, cases[i].va, cases[i].pa,
                                        cases[i].size, cases[i].flags, cases[i].root);
        if (err != cases[i].want)
            fail_msg("case %zu: got %d want %d", i, (int)err, (int)cases[i].want);
        snap_check(&s, mmu, &b);
    }
    /* NULL builder / MMU. */
    assert_int_equal(vm_ptbuilder_map_sv39(NULL, mmu, 0x3000, 0x6000, VM_PTE_R, ROOT),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, NULL, 0x3000, 0x6000, VM_PTE_R, ROOT),
                     VM_ERR_INVALID_ARGUMENT);
    vm_mmu_free(mmu);
}

/*
 * Needed tables outside RAM: the first fresh table fits, the second does
 * not. A builder that writes as it goes would leave the first table zeroed
 * and linked; the contract says nothing changes.
 */
static void test_ptbuilder_table_outside_ram_changes_nothing(void **state)
{
    (void)state;
    vm_mmu_t *mmu = new_mmu();
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, RAM_SIZE - 0x1000);
    /* Dirty the last page so zeroing it would show. */
    assert_int_equal(vm_mmu_write_phys(mmu, RAM_SIZE - 0x1000 + 0x100, 0xFEED, 8), VM_OK);
    struct snapshot s;
    snap_take(&s, mmu, &b);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x3000, 0x6000, VM_PTE_R, ROOT),
                     VM_ERR_INVALID_ADDRESS);
    snap_check(&s, mmu, &b);

    /* With exactly one table needed it fits and succeeds: a 2 MiB map. */
    assert_int_equal(vm_ptbuilder_map(&b, mmu, VM_PAGING_SV39, 0, 0, VM_PAGE_2M, VM_PTE_R, ROOT),
                     VM_OK);
    assert_int_equal(b.next, RAM_SIZE);
    assert_int_equal(phys64(mmu, RAM_SIZE - 0x1000 + 0x100), 0); /* fresh table zeroed */
    assert_int_equal(phys64(mmu, RAM_SIZE - 0x1000), VM_PTE_V | VM_PTE_R);
    /* An existing pointer to a table outside RAM. */
    assert_int_equal(vm_mmu_write_phys(mmu, ROOT + 8, VM_PTE_V | PPN_FIELD(RAM_SIZE + 0x4000), 8),
                     VM_OK);
    vm_ptbuilder_init(&b, TABLES);
    snap_take(&s, mmu, &b);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, VM_PAGE_1G, 0x6000, VM_PTE_R, ROOT),
                     VM_ERR_INVALID_ADDRESS);
    snap_check(&s, mmu, &b);
    vm_mmu_free(mmu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ptbuilder_alloc_page_sequence),
        cmocka_unit_test(test_ptbuilder_alloc_page_then_map),
        cmocka_unit_test(test_ptbuilder_map_4k_sv39),
        cmocka_unit_test(test_ptbuilder_map_4k_sv48),
        cmocka_unit_test(test_ptbuilder_map_4k_sv57),
        cmocka_unit_test(test_ptbuilder_reuses_tables_and_overwrites_leaf),
        cmocka_unit_test(test_ptbuilder_superpage_2m),
        cmocka_unit_test(test_ptbuilder_superpage_1g_and_512g),
        cmocka_unit_test(test_ptbuilder_errors_change_nothing),
        cmocka_unit_test(test_ptbuilder_table_outside_ram_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
