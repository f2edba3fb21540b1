/*
 * test_arm64_builder.c - vm_ptbuilder_map_arm64 (vmmem/ptbuilder.h): pages
 * and the blocks each granule allows, in both VA ranges; tables
 * granule-sized and granule-aligned from the bump allocator; existing
 * tables followed; every refused call changing neither guest memory nor
 * the builder.
 *
 * The expected descriptors and levels come from the Arm ARM D8 descriptor
 * formats (table and page descriptors 11, block descriptors 01; the
 * next-level table address in bits [47:granule]) and the start levels of
 * the manual's tables (4 KiB: TxSZ 16-24 level 0, 25-33 level 1, 34-39
 * level 2; 16 KiB: 16 level 0, 17-27 level 1, 28-38 level 2, 39 level 3;
 * 64 KiB: 16-21 level 1, 22-34 level 2, 35-39 level 3). Every built
 * mapping is also translated by the walker with the matching TCR.
 *
 * Fixture: arm64_test_common.h (its TTBR roots are used as builder roots).
 */
#include "arm64_test_common.h"

#define BSTART UINT64_C(0x201000) /* builder start: 4 KiB but not 16/64 KiB aligned */
#define VA_LO UINT64_C(0x0000123456780000)
#define VA_HI UINT64_C(0xffff800012340000)
#define PA UINT64_C(0x1000000)

static uint64_t tg0(unsigned g)
{
    return g == 12 ? VM_ARM64_TCR_TG0_4K : g == 14 ? VM_ARM64_TCR_TG0_16K : VM_ARM64_TCR_TG0_64K;
}

static uint64_t tg1(unsigned g)
{
    return g == 12 ? VM_ARM64_TCR_TG1_4K : g == 14 ? VM_ARM64_TCR_TG1_16K : VM_ARM64_TCR_TG1_64K;
}

/* Both ranges with granule g and TxSZ txsz; the TLB emptied (the roots
 * changed under the same ASID). */
static void set_geometry(struct a_env *e, unsigned g, unsigned txsz)
{
    e->regs.tcr = VM_ARM64_TCR_T0SZ(txsz) | VM_ARM64_TCR_T1SZ(txsz) | tg0(g) | tg1(g) |
                  VM_ARM64_TCR_IPS(5);
    a_apply(e);
    a_flush(e);
}

/* FNV-1a over [from, to): a snapshot of guest memory. */
static uint64_t ram_hash(struct a_env *e, vm_gpa_t from, vm_gpa_t to)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (vm_gpa_t a = from; a < to; a += 8) {
        h ^= a_phys(e, a);
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

struct page_case {
    unsigned g, txsz;
    int start_level; /* the manual's start level */
};

static const struct page_case page_cases[] = {
    {12, 16, 0}, {12, 25, 1}, {12, 39, 2}, {14, 16, 0}, {14, 20, 1},
    {14, 39, 3}, {16, 16, 1}, {16, 30, 2}, {16, 39, 3},
};

/* A page in each range for each granule: the leaf is pa | attrs | 11 at
 * level 3, reached through (3 - start level) table descriptors. */
static void test_arm64_builder_pages_each_granule_both_ranges(void **state)
{
    struct a_env *e = *state;
    for (size_t i = 0; i < sizeof(page_cases) / sizeof(page_cases[0]); i++) {
        const struct page_case *c = &page_cases[i];
        const uint64_t page = UINT64_C(1) << c->g;
        const uint64_t range = (UINT64_C(1) << (64 - c->txsz)) - 1;
        const vm_gva_t lo = VA_LO & range & ~(page - 1), hi = (VA_HI | ~range) & ~(page - 1);
        const vm_gpa_t root0 = a_new_table(e, 16), root1 = a_new_table(e, 16);
        vm_ptbuilder_t b;
        vm_ptbuilder_init(&b, e->next_table);
        const uint64_t attrs = A_AF | A_NG | A_AP(1) | A_UXN;
        assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, c->g, c->txsz, lo, PA, page, attrs,
                                                root0), VM_OK);
        assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, c->g, c->txsz, hi, PA + 2 * page,
                                                page, attrs, root1), VM_OK);
        e->next_table = b.next;
        /* the leaves where the manual's geometry puts them */
        struct a_space s0 = {c->g, c->start_level, 64 - c->txsz, root0};
        struct a_space s1 = {c->g, c->start_level, 64 - c->txsz, root1};
        assert_int_equal(a_phys(e, a_slot(e, &s0, lo, 3)), PA | attrs | 3);
        assert_int_equal(a_phys(e, a_slot(e, &s1, hi, 3)), (PA + 2 * page) | attrs | 3);
        e->regs.ttbr0 = a_ttbr(root0, A_ASID);
        e->regs.ttbr1 = a_ttbr(root1, 0);
        set_geometry(e, c->g, c->txsz);
        a_expect_pa(e, lo + page - 8, VM_ACCESS_WRITE, PA + page - 8);
        a_expect_pa(e, hi + 8, VM_ACCESS_READ, PA + 2 * page + 8);
    }
}

struct block_case {
    unsigned g;
    uint64_t size;
    int level;
};

/* The blocks each granule allows without 52-bit addresses (firstblocklevel
 * in AArch64.TranslationTableWalk): 4 KiB 1 GiB (level 1) and 2 MiB
 * (level 2); 16 KiB 32 MiB (level 2); 64 KiB 512 MiB (level 2). */
static const struct block_case block_cases[] = {
    {12, VM_PAGE_1G, 1}, {12, VM_PAGE_2M, 2}, {14, VM_PAGE_32M, 2}, {16, VM_PAGE_512M, 2},
};

static void test_arm64_builder_blocks(void **state)
{
    struct a_env *e = *state;
    for (size_t i = 0; i < sizeof(block_cases) / sizeof(block_cases[0]); i++) {
        const struct block_case *c = &block_cases[i];
        const vm_gpa_t root0 = a_new_table(e, 16), root1 = a_new_table(e, 16);
        const vm_gva_t lo = VA_LO & ~(c->size - 1), hi = VA_HI & ~(c->size - 1);
        const vm_gpa_t pa = UINT64_C(0x40000000) * 3; /* 1 GiB aligned, beyond RAM: fine */
        vm_ptbuilder_t b;
        vm_ptbuilder_init(&b, e->next_table);
        assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, c->g, 16, lo, pa, c->size, A_AF,
                                                root0), VM_OK);
        assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, c->g, 16, hi, pa, c->size, A_AF,
                                                root1), VM_OK);
        e->next_table = b.next;
        int start = c->g == 16 ? 1 : 0;
        struct a_space s0 = {c->g, start, 48, root0};
        assert_int_equal(a_phys(e, a_slot(e, &s0, lo, c->level)), pa | A_AF | A_BLOCK);
        e->regs.ttbr0 = a_ttbr(root0, A_ASID);
        e->regs.ttbr1 = a_ttbr(root1, 0);
        set_geometry(e, c->g, 16);
        a_expect_pa(e, lo + c->size - 1, VM_ACCESS_READ, pa + c->size - 1);
        a_expect_pa(e, hi + 0x1234, VM_ACCESS_EXEC, pa + 0x1234);
    }
}

/* Tables come from the bump allocator rounded up to the granule, one
 * granule each, linked by plain table descriptors (11, no APTable or
 * XNTable); a second mapping under the same tables allocates nothing. */
static void test_arm64_builder_tables_granule_aligned(void **state)
{
    struct a_env *e = *state;
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, BSTART);
    /* 64 KiB granule, T0SZ 16: levels 1 (root), 2, 3 -> two fresh tables. */
    assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, 16, 16, VA_LO, PA, VM_PAGE_64K, A_AF,
                                            A_ROOT0), VM_OK);
    assert_int_equal(b.next, UINT64_C(0x210000) + 2 * VM_PAGE_64K);
    struct a_space s = {16, 1, 48, A_ROOT0};
    uint64_t l1 = a_phys(e, a_slot(e, &s, VA_LO, 1));
    uint64_t l2 = a_phys(e, a_slot(e, &s, VA_LO, 2));
    assert_int_equal(l1, UINT64_C(0x210000) | 3);
    assert_int_equal(l2, UINT64_C(0x220000) | 3);
    vm_gpa_t next = b.next;
    assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, 16, 16, VA_LO + VM_PAGE_64K,
                                            PA + VM_PAGE_64K, VM_PAGE_64K, A_AF, A_ROOT0), VM_OK);
    assert_int_equal(b.next, next);
    /* an existing entry at the target level is overwritten */
    assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, 16, 16, VA_LO, PA + 4 * VM_PAGE_64K,
                                            VM_PAGE_64K, A_AF | A_AP(2), A_ROOT0), VM_OK);
    assert_int_equal(a_phys(e, a_slot(e, &s, VA_LO, 3)),
                     (PA + 4 * VM_PAGE_64K) | A_AF | A_AP(2) | 3);
    /* 16 KiB granule: tables 16 KiB apart from the next 16 KiB boundary */
    vm_ptbuilder_init(&b, BSTART);
    const vm_gpa_t root = a_new_table(e, 14);
    assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, 14, 16, VA_LO, PA, VM_PAGE_16K, A_AF,
                                            root), VM_OK);
    assert_int_equal(b.next, UINT64_C(0x204000) + 3 * VM_PAGE_16K);
}

/* The start-level table of a 16 KiB, T0SZ 16 range holds two descriptors:
 * a 16-byte aligned root is enough; an 8-byte aligned one is refused. */
static void test_arm64_builder_root_alignment_is_start_table_size(void **state)
{
    struct a_env *e = *state;
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, BSTART);
    assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, 14, 16, VA_LO, PA, VM_PAGE_16K, A_AF,
                                            A_ROOT0 + 0x10), VM_OK);
    assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, 14, 16, VA_LO, PA, VM_PAGE_16K, A_AF,
                                            A_ROOT0 + 0x18), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, 12, 16, VA_LO, PA, VM_PAGE_4K, A_AF,
                                            A_ROOT0 + 0x800), VM_ERR_INVALID_ARGUMENT);
}

struct bad_case {
    const char *what;
    unsigned g, txsz;
    vm_gva_t va;
    vm_gpa_t pa;
    uint64_t size, attrs;
    vm_gpa_t root;
    vm_err_t want;
};

/* Every refused call leaves memory and the builder as they were. */
static void test_arm64_builder_refusals_change_nothing(void **state)
{
    struct a_env *e = *state;
    const vm_gpa_t end = A_RAM_SIZE;
    const struct bad_case cases[] = {
        {"granule 13", 13, 16, VA_LO, PA, VM_PAGE_4K, A_AF, A_ROOT0, VM_ERR_INVALID_ARGUMENT},
        {"TxSZ 15", 12, 15, VA_LO, PA, VM_PAGE_4K, A_AF, A_ROOT0, VM_ERR_INVALID_ARGUMENT},
        {"TxSZ 40", 12, 40, 0, PA, VM_PAGE_4K, A_AF, A_ROOT0, VM_ERR_INVALID_ARGUMENT},
        {"32 MiB with 4 KiB", 12, 16, 0, 0, VM_PAGE_32M, A_AF, A_ROOT0, VM_ERR_INVALID_ARGUMENT},
        {"2 MiB with 16 KiB", 14, 16, 0, 0, VM_PAGE_2M, A_AF, A_ROOT0, VM_ERR_INVALID_ARGUMENT},
        {"1 GiB block above a level 2 start", 12, 34, 0, 0, VM_PAGE_1G, A_AF, A_ROOT0,
         VM_ERR_INVALID_ARGUMENT},
        {"512 GiB", 12, 16, 0, 0, VM_PAGE_512G, A_AF, A_ROOT0, VM_ERR_INVALID_ARGUMENT},
        {"64 KiB page with 4 KiB", 12, 16, 0, 0, VM_PAGE_64K, A_AF, A_ROOT0,
         VM_ERR_INVALID_ARGUMENT},
        {"VA outside both ranges", 12, 25, UINT64_C(0x0000008000000000), PA, VM_PAGE_4K, A_AF,
         A_ROOT0, VM_ERR_INVALID_ARGUMENT},
        {"tagged VA", 12, 16, VA_LO | (UINT64_C(0x5a) << 56), PA, VM_PAGE_4K, A_AF, A_ROOT0,
         VM_ERR_INVALID_ARGUMENT},
        {"VA unaligned", 12, 16, VA_LO + 0x800, PA, VM_PAGE_4K, A_AF, A_ROOT0,
         VM_ERR_INVALID_ARGUMENT},
        {"PA unaligned", 12, 16, VA_LO & ~UINT64_C(0x1fffff), PA + 0x1000, VM_PAGE_2M, A_AF,
         A_ROOT0, VM_ERR_INVALID_ARGUMENT},
        {"PA at 2^48", 12, 16, VA_LO, UINT64_C(1) << 48, VM_PAGE_4K, A_AF, A_ROOT0,
         VM_ERR_INVALID_ARGUMENT},
        {"attrs with descriptor type bits", 12, 16, VA_LO, PA, VM_PAGE_4K, A_AF | 3, A_ROOT0,
         VM_ERR_INVALID_ARGUMENT},
        {"attrs with address bits", 12, 16, VA_LO, PA, VM_PAGE_4K, A_AF | 0x1000, A_ROOT0,
         VM_ERR_INVALID_ARGUMENT},
        {"attrs with GP (bit 50)", 12, 16, VA_LO, PA, VM_PAGE_4K, UINT64_C(1) << 50, A_ROOT0,
         VM_ERR_INVALID_ARGUMENT},
        {"attrs with table bits", 12, 16, VA_LO, PA, VM_PAGE_4K, A_APTABLE(1), A_ROOT0,
         VM_ERR_INVALID_ARGUMENT},
        {"root unaligned", 12, 16, VA_LO, PA, VM_PAGE_4K, A_AF, A_ROOT0 + 8,
         VM_ERR_INVALID_ARGUMENT},
        {"root outside RAM", 12, 16, VA_LO, PA, VM_PAGE_4K, A_AF, end, VM_ERR_INVALID_ADDRESS},
    };
    /* An existing block above the target level, and a tree whose next
     * table would not fit in RAM. */
    const vm_gva_t blk = UINT64_C(0x0000000040000000);
    a_map(e, &e->lo, blk, 1, UINT64_C(0x40000000), A_AF);
    const vm_gpa_t h_tables = ram_hash(e, A_ROOT0, A_TABLES_END);
    const vm_gpa_t h_data = ram_hash(e, end - 0x20000, end);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        vm_ptbuilder_t b;
        vm_ptbuilder_init(&b, BSTART);
        vm_err_t err = vm_ptbuilder_map_arm64(&b, e->mmu, c->g, c->txsz, c->va, c->pa, c->size,
                                              c->attrs, c->root);
        if (err != c->want)
            print_error("%s: err %d, want %d\n", c->what, (int)err, (int)c->want);
        assert_int_equal(err, c->want);
        assert_int_equal(b.next, BSTART);
        assert_int_equal(b.start, BSTART);
    }
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, BSTART);
    assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, 12, 16, blk + 0x1000, PA, VM_PAGE_4K,
                                            A_AF, A_ROOT0), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_ptbuilder_map_arm64(NULL, e->mmu, 12, 16, VA_LO, PA, VM_PAGE_4K, A_AF,
                                            A_ROOT0), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_ptbuilder_map_arm64(&b, NULL, 12, 16, VA_LO, PA, VM_PAGE_4K, A_AF,
                                            A_ROOT0), VM_ERR_INVALID_ARGUMENT);
    /* The last 64 KiB of RAM: the first fresh table fits, the second not. */
    vm_ptbuilder_init(&b, end - VM_PAGE_64K - 0x1000);
    assert_int_equal(vm_ptbuilder_map_arm64(&b, e->mmu, 16, 16, VA_LO, PA, VM_PAGE_64K, A_AF,
                                            A_ROOT0), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(b.next, end - VM_PAGE_64K - 0x1000);
    assert_int_equal(ram_hash(e, A_ROOT0, A_TABLES_END), h_tables);
    assert_int_equal(ram_hash(e, end - 0x20000, end), h_data);
    /* and the old mapping still translates */
    a_expect_pa(e, blk + 0x1234, VM_ACCESS_READ, UINT64_C(0x40001234));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, a_setup, a_teardown)
        T(test_arm64_builder_pages_each_granule_both_ranges),
        T(test_arm64_builder_blocks),
        T(test_arm64_builder_tables_granule_aligned),
        T(test_arm64_builder_root_alignment_is_start_table_size),
        T(test_arm64_builder_refusals_change_nothing),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
