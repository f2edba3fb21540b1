/*
 * test_x86_64_builder.c - vm_ptbuilder_map_x86_64 against its contract
 * (vmmem/ptbuilder.h) and the entry formats of Intel SDM Vol. 3A 4.5
 * (Tables 4-14 .. 4-20).
 *
 * How it works: each test builds into a fresh 2 MiB MMU, then checks the
 * entries written (read back raw: a referencing entry is P|R/W|U/S and the
 * table address, A clear; the mapping entry is flags|P|PS|address) and
 * that the walker translates through them. Error cases snapshot all of RAM
 * and the builder before the call and require both unchanged after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define RAM (UINT64_C(2) << 20)
#define ROOT UINT64_C(0x1000)
#define POOL UINT64_C(0x2000) /* builder tables from here */
#define ADDR_MASK UINT64_C(0x000ffffffffff000)

#define E_P VM_X86_PTE_P
#define E_RW VM_X86_PTE_RW
#define E_US VM_X86_PTE_US
#define E_A VM_X86_PTE_A
#define E_D VM_X86_PTE_D
#define E_PS VM_X86_PTE_PS
#define E_G VM_X86_PTE_G
#define E_XD VM_X86_PTE_XD

struct env {
    vm_mmu_t *mmu;
    vm_ptbuilder_t b;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->mmu = vm_mmu_new(RAM, false);
    assert_non_null(e->mmu);
    vm_ptbuilder_init(&e->b, POOL);
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

static uint64_t peek(struct env *e, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(e->mmu, pa, 8, &v), VM_OK);
    return v;
}

static void paging_on(struct env *e, bool la57, vm_gpa_t root)
{
    vm_mmu_set_paging_mode(e->mmu, VM_PAGING_X86_64);
    vm_x86_regs_t r = {
        .cr0 = VM_X86_CR0_PE | VM_X86_CR0_PG | VM_X86_CR0_WP,
        .cr3 = root,
        .cr4 = VM_X86_CR4_PAE | (la57 ? VM_X86_CR4_LA57 : 0) | VM_X86_CR4_PKE,
        .efer = VM_X86_EFER_LME | VM_X86_EFER_NXE,
    };
    assert_int_equal(vm_mmu_set_x86_regs(e->mmu, &r), VM_OK);
}

static vm_gpa_t xlate(struct env *e, vm_gva_t va, vm_access_t acc)
{
    vm_gpa_t pa = 0;
    vm_err_t err = vm_mmu_translate(e->mmu, va, acc, &pa);
    if (err != VM_OK)
        print_error("translate 0x%llx: %s (%s)\n", (unsigned long long)va, vm_strerror(err),
                    vm_mmu_last_fault(e->mmu)->reason);
    assert_int_equal(err, VM_OK);
    return pa;
}

/* Entry address at `level` for va in the tree at root, following the
 * entries written (asserting each is present). */
static vm_gpa_t slot_of(struct env *e, vm_gpa_t root, unsigned levels, vm_gva_t va,
                        unsigned level)
{
    vm_gpa_t table = root;
    for (unsigned l = levels;; l--) {
        vm_gpa_t slot = table + 8 * ((va >> (12 + 9 * (l - 1))) & 511);
        if (l == level)
            return slot;
        uint64_t entry = peek(e, slot);
        assert_true(entry & E_P);
        table = entry & ADDR_MASK;
    }
}

/* ptbuilder.h: each size at its level, 4- and 5-level; the referencing
 * entries are "P|RW|US (A clear)" over fresh tables, the mapping entry is
 * the flags plus P, PS for large pages, and the address. */
static void test_x86_builder_sizes_and_entry_format(void **state)
{
    struct env *e = *state;
    for (int la57 = 0; la57 <= 1; la57++) {
        const unsigned levels = la57 ? 5 : 4;
        vm_ptbuilder_init(&e->b, POOL + (la57 ? 0x40000 : 0));
        const vm_gpa_t root = vm_ptbuilder_alloc_page(&e->b);
        const vm_gva_t va4 = la57 ? UINT64_C(0x00ff123456789000) : UINT64_C(0x00007f3456789000);
        const vm_gva_t va2 = UINT64_C(0xffff800040200000);
        const vm_gva_t va1 = UINT64_C(0xffffffffc0000000);
        const uint64_t f4 = E_RW | E_US | E_A | VM_X86_PTE_PS /* PAT */ | E_G |
                            (UINT64_C(9) << VM_X86_PTE_PKEY_SHIFT) | E_XD;
        const uint64_t f2 = E_RW | VM_X86_PTE_PAT_LARGE | E_D | (UINT64_C(0x7f) << 52);
        const uint64_t f1 = E_US | (UINT64_C(7) << 9);
        const vm_gpa_t before = e->b.next;
        assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, la57, va4, 0x123000,
                                                 VM_PAGE_4K, f4, root), VM_OK);
        /* levels - 1 fresh tables below the root. */
        assert_int_equal(e->b.next - before, 0x1000 * (levels - 1));
        assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, la57, va2, 0x400000,
                                                 VM_PAGE_2M, f2, root), VM_OK);
        assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, la57, va1,
                                                 UINT64_C(0x000fffffc0000000), VM_PAGE_1G, f1,
                                                 root), VM_OK);
        assert_int_equal(peek(e, slot_of(e, root, levels, va4, 1)), f4 | E_P | 0x123000);
        assert_int_equal(peek(e, slot_of(e, root, levels, va2, 2)), f2 | E_P | E_PS | 0x400000);
        assert_int_equal(peek(e, slot_of(e, root, levels, va1, 3)),
                         f1 | E_P | E_PS | UINT64_C(0x000fffffc0000000));
        for (unsigned l = levels; l >= 2; l--) {
            uint64_t entry = peek(e, slot_of(e, root, levels, va4, l));
            assert_int_equal(entry & ~ADDR_MASK, E_P | E_RW | E_US);
            assert_true((entry & ADDR_MASK) >= POOL);
        }
        /* The walker agrees (PKE on, PKRU 0: the key allows everything). */
        paging_on(e, la57 != 0, root);
        assert_int_equal(xlate(e, va4 + 0x10, VM_ACCESS_WRITE), 0x123010);
        assert_int_equal(xlate(e, va2 + 0x1234, VM_ACCESS_READ), 0x401234);
        assert_int_equal(xlate(e, va1 + 0x12345678, VM_ACCESS_READ),
                         UINT64_C(0x000fffffd2345678));
        vm_mmu_set_paging_mode(e->mmu, VM_PAGING_BARE);
    }
}

/* Fresh tables are zeroed (ptbuilder.h) even over garbage; an existing path
 * is reused; an existing entry at the target level is overwritten. */
static void test_x86_builder_zeroes_reuses_overwrites(void **state)
{
    struct env *e = *state;
    uint8_t junk[0x4000];
    memset(junk, 0xa5, sizeof(junk));
    assert_int_equal(vm_physmem_write_buf(vm_mmu_physmem(e->mmu), POOL, junk, sizeof(junk)),
                     VM_OK);
    const vm_gva_t va = UINT64_C(0x0000000040000000);
    assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, false, va, 0x5000, VM_PAGE_4K,
                                             E_RW, ROOT), VM_OK);
    assert_int_equal(e->b.next, POOL + 0x3000);
    for (vm_gpa_t t = POOL; t < POOL + 0x3000; t += 0x1000) {
        unsigned used = 0; /* each fresh table holds exactly the one entry written */
        for (unsigned i = 0; i < 512; i++)
            used += peek(e, t + 8 * i) != 0;
        assert_int_equal(used, 1);
    }
    assert_int_equal(peek(e, POOL + 0x3000), UINT64_C(0xa5a5a5a5a5a5a5a5)); /* not touched */
    /* Same PT: no new table. */
    assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, false, va + 0x1000, 0x6000,
                                             VM_PAGE_4K, 0, ROOT), VM_OK);
    assert_int_equal(e->b.next, POOL + 0x3000);
    /* Overwrite the first mapping. */
    assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, false, va, 0x7000, VM_PAGE_4K,
                                             E_US, ROOT), VM_OK);
    assert_int_equal(peek(e, slot_of(e, ROOT, 4, va, 1)), E_P | E_US | 0x7000);
    assert_int_equal(peek(e, slot_of(e, ROOT, 4, va + 0x1000, 1)), E_P | 0x6000);
    /* A 2 MiB page over the PDE that referenced the PT (target level: overwritten). */
    assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, false, va, 0x200000, VM_PAGE_2M,
                                             E_RW, ROOT), VM_OK);
    assert_int_equal(peek(e, slot_of(e, ROOT, 4, va, 2)), E_P | E_RW | E_PS | 0x200000);
}

struct snapshot {
    uint8_t *ram;
    vm_ptbuilder_t b;
};

static void snap(struct env *e, struct snapshot *s)
{
    s->ram = malloc(RAM);
    assert_non_null(s->ram);
    assert_int_equal(vm_mmu_guest_slice(e->mmu, 0, RAM, s->ram), VM_OK);
    s->b = e->b;
}

static void same_as(struct env *e, struct snapshot *s)
{
    uint8_t *now = malloc(RAM);
    assert_non_null(now);
    assert_int_equal(vm_mmu_guest_slice(e->mmu, 0, RAM, now), VM_OK);
    assert_memory_equal(now, s->ram, RAM);
    assert_int_equal(e->b.start, s->b.start);
    assert_int_equal(e->b.next, s->b.next);
    free(now);
    free(s->ram);
}

/* ptbuilder.h errors, each leaving memory and the builder unchanged. */
static void test_x86_builder_errors_change_nothing(void **state)
{
    struct env *e = *state;
    /* Something to trip over: a 2 MiB page at 1 GiB + 2 MiB. */
    const vm_gva_t big = UINT64_C(0x40200000);
    assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, false, big, 0x200000, VM_PAGE_2M,
                                             E_RW, ROOT), VM_OK);
    const vm_gva_t huge = UINT64_C(0x80000000); /* and a 1 GiB page at 2 GiB */
    assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, false, huge, 0x40000000,
                                             VM_PAGE_1G, E_RW, ROOT), VM_OK);
    const struct {
        bool la57;
        vm_gva_t va;
        vm_gpa_t pa;
        uint64_t size, flags;
        vm_gpa_t root;
        vm_err_t want;
    } bad[] = {
        {false, 0x1000, 0x1000, VM_PAGE_4K << 1, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, 0, 0, VM_PAGE_512G, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, 0x1000, 0x1000, 0, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        /* va non-canonical (for 4-level; canonical for 5-level) or unaligned */
        {false, UINT64_C(0x0000800000000000), 0x1000, VM_PAGE_4K, 0, ROOT,
         VM_ERR_INVALID_ARGUMENT},
        {true, UINT64_C(0x0100000000000000), 0x1000, VM_PAGE_4K, 0, ROOT,
         VM_ERR_INVALID_ARGUMENT},
        {false, 0x1800, 0x1000, VM_PAGE_4K, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, 0x201000, 0x200000, VM_PAGE_2M, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        /* pa unaligned or at/above 2^52 */
        {false, 0x200000, 0x201000, VM_PAGE_2M, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, 0x40000000, 0x20000000, VM_PAGE_1G, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, 0x1000, UINT64_C(1) << 52, VM_PAGE_4K, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        /* flags with P, PS (large pages), or address bits */
        {false, 0x1000, 0x1000, VM_PAGE_4K, E_P, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, 0x200000, 0x200000, VM_PAGE_2M, E_PS, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, 0x1000, 0x1000, VM_PAGE_4K, UINT64_C(1) << 12, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, 0x200000, 0x200000, VM_PAGE_2M, UINT64_C(1) << 13, ROOT,
         VM_ERR_INVALID_ARGUMENT},
        {false, 0x1000, 0x1000, VM_PAGE_4K, UINT64_C(1) << 51, ROOT, VM_ERR_INVALID_ARGUMENT},
        /* an existing large page above the target */
        {false, big + 0x3000, 0x3000, VM_PAGE_4K, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, huge + 0x200000, 0x200000, VM_PAGE_2M, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        {false, huge + 0x5000, 0x5000, VM_PAGE_4K, 0, ROOT, VM_ERR_INVALID_ARGUMENT},
        /* root unaligned, at/above 2^52, outside RAM */
        {false, 0x1000, 0x1000, VM_PAGE_4K, 0, ROOT + 8, VM_ERR_INVALID_ARGUMENT},
        {false, 0x1000, 0x1000, VM_PAGE_4K, 0, UINT64_C(1) << 52, VM_ERR_INVALID_ARGUMENT},
        {false, 0x1000, 0x1000, VM_PAGE_4K, 0, RAM, VM_ERR_INVALID_ADDRESS},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct snapshot s;
        snap(e, &s);
        vm_err_t got = vm_ptbuilder_map_x86_64(&e->b, e->mmu, bad[i].la57, bad[i].va, bad[i].pa,
                                               bad[i].size, bad[i].flags, bad[i].root);
        if (got != bad[i].want)
            print_error("case %zu: got %s\n", i, vm_strerror(got));
        assert_int_equal(got, bad[i].want);
        same_as(e, &s);
    }
    struct snapshot s;
    snap(e, &s);
    assert_int_equal(vm_ptbuilder_map_x86_64(NULL, e->mmu, false, 0, 0, VM_PAGE_4K, 0, ROOT),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, NULL, false, 0, 0, VM_PAGE_4K, 0, ROOT),
                     VM_ERR_INVALID_ARGUMENT);
    /* A needed table outside RAM: the bump pointer at the last RAM page, two
     * tables needed (the first fits, the second does not). */
    e->b.next = RAM - 0x1000;
    s.b = e->b;
    assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, false, UINT64_C(0x7f0000000000),
                                             0x1000, VM_PAGE_4K, 0, ROOT),
                     VM_ERR_INVALID_ADDRESS);
    same_as(e, &s);
    /* The 5-level-only VA works with la57. */
    vm_ptbuilder_init(&e->b, POOL + 0x10000);
    assert_int_equal(vm_ptbuilder_map_x86_64(&e->b, e->mmu, true, UINT64_C(0x0000800000000000),
                                             0x1000, VM_PAGE_4K, 0, ROOT + 0x100000),
                     VM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_x86_builder_sizes_and_entry_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_builder_zeroes_reuses_overwrites, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_x86_builder_errors_change_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
