/*
 * test_tlb.c - behaviour of vmmem's split, ASID-tagged TLBs (vmmem/mmu.h)
 * against the Priv. spec's SFENCE.VMA semantics.
 *
 * How it works: every test builds Sv39 tables with raw PTE writes
 * (vm_mmu_write_phys, no builder), translates to fill the TLB, then
 * changes a PTE WITHOUT a flush. The spec allows either the old or the new
 * translation until a covering SFENCE.VMA ("an implementation may use any
 * translation for an address that was valid at any time since the most
 * recent SFENCE.VMA that subsumes that address"); vmmem promises it caches
 * (mmu.h: "the old translation may still be used until a flush covers
 * it"), so the stale PA proves an entry is cached and the new PA proves a
 * flush dropped it. Hit/miss counters (vm_mmu_tlb_stats) are compared as
 * deltas.
 *
 * Rejected: inspecting TLB internals - only the public API is used, so
 * these tests hold for any TLB organisation that keeps the contracts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define RAM_SIZE (UINT64_C(8) << 20)
#define ROOT_A UINT64_C(0x10000)
#define ROOT_B UINT64_C(0x11000)
#define TABLES UINT64_C(0x12000) /* bump allocation from here */
#define TABLES_END UINT64_C(0x100000)
#define P1 UINT64_C(0x201000)
#define P2 UINT64_C(0x202000)
#define P3 UINT64_C(0x203000)
#define P4 UINT64_C(0x204000)
#define SV39 UINT64_C(8)
#define FLAGS_RWX (VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_X | VM_PTE_A | VM_PTE_D)
#define VA UINT64_C(0x40201000) /* vpn 1/1/1 */

struct env {
    vm_mmu_t *mmu;
    vm_gpa_t next_table;
};

static uint64_t satp_of(uint64_t asid, vm_gpa_t root)
{
    return (SV39 << 60) | (asid << 44) | (root >> 12);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->mmu = vm_mmu_new(RAM_SIZE, false);
    assert_non_null(e->mmu);
    e->next_table = TABLES;
    vm_mmu_set_strict_align(e->mmu, false);
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
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

static unsigned vpn(vm_gva_t va, int level)
{
    return (unsigned)(va >> (12 + 9 * level)) & 0x1ff;
}

/* Sv39: map va with leaf PTE `leaf` at `level` under root; returns the
 * leaf PTE address. Pointer PTEs are created (V only) as needed. */
static vm_gpa_t map(struct env *e, vm_gpa_t root, vm_gva_t va, uint64_t leaf, int level)
{
    vm_gpa_t table = root;
    for (int l = 2; l > level; l--) {
        vm_gpa_t slot = table + 8 * vpn(va, l);
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
    vm_gpa_t slot = table + 8 * vpn(va, level);
    poke(e, slot, leaf);
    return slot;
}

static vm_gpa_t xlate(struct env *e, vm_gva_t va, vm_access_t acc)
{
    vm_gpa_t pa = 0;
    vm_err_t err = vm_mmu_translate(e->mmu, va, acc, &pa);
    assert_int_equal(err, VM_OK);
    return pa;
}

static void xlate_page_fault(struct env *e, vm_gva_t va, vm_access_t acc)
{
    static const uint32_t cause[3] = {13, 15, 12};
    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(e->mmu, va, acc, &pa), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_PAGE);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->cause, cause[acc]);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->va, va);
}

struct stats {
    uint64_t hits, misses;
};

static struct stats stats_now(struct env *e)
{
    struct stats s;
    vm_mmu_tlb_stats(e->mmu, &s.hits, &s.misses);
    return s;
}

static void expect_delta(struct env *e, struct stats before, uint64_t hits, uint64_t misses)
{
    struct stats now = stats_now(e);
    assert_int_equal(now.hits - before.hits, hits);
    assert_int_equal(now.misses - before.misses, misses);
}

/* A translation is cached; a changed PTE is not seen until a flush covers
 * it (SFENCE.VMA rs1=va, rs2=x0). */
static void test_tlb_cached_until_flush_page(void **state)
{
    struct env *e = *state;
    vm_gpa_t leaf = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    struct stats s = stats_now(e);
    assert_int_equal(xlate(e, VA + 0x10, VM_ACCESS_READ), P1 + 0x10);
    expect_delta(e, s, 0, 1);
    poke(e, leaf, pte_of(P2, FLAGS_RWX));
    s = stats_now(e);
    assert_int_equal(xlate(e, VA + 0x20, VM_ACCESS_READ), P1 + 0x20);
    assert_int_equal(xlate(e, VA + 0x28, VM_ACCESS_WRITE), P1 + 0x28);
    expect_delta(e, s, 2, 0);
    vm_mmu_flush_tlb_page(e->mmu, VA + 0xfff); /* any address in the page */
    assert_int_equal(xlate(e, VA + 0x20, VM_ACCESS_READ), P2 + 0x20);
    /* an invalidated PTE: the cached entry survives until the flush too */
    poke(e, leaf, 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);
    vm_mmu_flush_tlb_page(e->mmu, VA);
    xlate_page_fault(e, VA, VM_ACCESS_READ);
}

/* "changes to satp.ASID take effect immediately": two ASIDs, two roots,
 * same VA - each gets its own PA, without any flush, and switching back
 * hits the still-cached entry of the first. */
static void test_tlb_asid_isolation(void **state)
{
    struct env *e = *state;
    vm_gpa_t leaf_a = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    map(e, ROOT_B, VA, pte_of(P2, FLAGS_RWX), 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);
    /* ASID 1's entry is still cached: change its PTE and switch back */
    poke(e, leaf_a, pte_of(P3, FLAGS_RWX));
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    struct stats s = stats_now(e);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    expect_delta(e, s, 1, 0);
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);
}

/* Global mappings "exist in all address spaces": a G entry matches any
 * ASID; SFENCE.VMA rs2!=x0 keeps it ("except for entries containing
 * global mappings"); rs1!=x0,rs2=x0 and rs1=rs2=x0 drop it. */
static void test_tlb_global_entries(void **state)
{
    struct env *e = *state;
    map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX | VM_PTE_G), 0);
    /* ROOT_B has no mapping at VA: a walk under ASID 2 would fault */
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    vm_mmu_flush_tlb_asid(e->mmu, 2);
    vm_mmu_flush_tlb_asid(e->mmu, 1);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    vm_mmu_flush_tlb_page(e->mmu, VA);
    xlate_page_fault(e, VA, VM_ACCESS_READ);

    /* refill under ASID 1, then a full flush drops it as well */
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    vm_mmu_flush_tlb(e->mmu);
    xlate_page_fault(e, VA, VM_ACCESS_READ);

    /* the ITLB too */
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P1);
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P1);
    vm_mmu_flush_tlb_asid(e->mmu, 2);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P1);
    vm_mmu_flush_tlb_page(e->mmu, VA);
    xlate_page_fault(e, VA, VM_ACCESS_EXEC);
}

/* SFENCE.VMA x0, asid: invalidates the entries "matching the address space
 * identified by rs2, except for entries containing global mappings" - the
 * argument's ASID, not the current one; other ASIDs keep theirs. */
static void test_tlb_flush_asid_only_that_asid(void **state)
{
    struct env *e = *state;
    vm_gpa_t la = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    vm_gpa_t lb = map(e, ROOT_B, VA, pte_of(P2, FLAGS_RWX), 0);
    vm_gpa_t lg = map(e, ROOT_A, VA + 0x1000, pte_of(P3, FLAGS_RWX | VM_PTE_G), 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P1);
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_READ), P3);
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P2);

    poke(e, la, pte_of(P3, FLAGS_RWX));
    poke(e, lb, pte_of(P4, FLAGS_RWX));
    poke(e, lg, pte_of(P4, FLAGS_RWX | VM_PTE_G));
    /* current ASID is 2; flush ASID 1 */
    vm_mmu_flush_tlb_asid(e->mmu, 1);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);  /* ASID 2: still cached */
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P2);
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P3);  /* ASID 1: re-walked */
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P3);
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_READ), P3); /* global: kept */
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    vm_mmu_flush_tlb_asid(e->mmu, 2);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P4);
}

/* SFENCE.VMA va, x0: invalidates the entries for va "for all address
 * spaces"; other pages stay cached. */
static void test_tlb_flush_page_all_asids(void **state)
{
    struct env *e = *state;
    vm_gpa_t la = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    vm_gpa_t lb = map(e, ROOT_B, VA, pte_of(P2, FLAGS_RWX), 0);
    vm_gpa_t lo = map(e, ROOT_A, VA + 0x1000, pte_of(P1, FLAGS_RWX), 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P1);
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_READ), P1);
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);
    poke(e, la, pte_of(P3, FLAGS_RWX));
    poke(e, lb, pte_of(P4, FLAGS_RWX));
    poke(e, lo, pte_of(P4, FLAGS_RWX));
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    vm_mmu_flush_tlb_page(e->mmu, VA + 0x800);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P3);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P3);
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_READ), P1); /* other page: stale */
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P4);
}

/* SFENCE.VMA va, asid (rs1 != x0, rs2 != x0): "orders only reads and
 * writes made to the leaf page table entry corresponding to the virtual
 * address in rs1, for the address space identified by integer register
 * rs2. Accesses to global mappings are not ordered." vmmem form:
 * vm_mmu_flush_tlb_page_asid(va, asid, false); with include_global the
 * global entries for va go too (x86 INVLPG, Arm TLBI VAE1). */
static void test_tlb_flush_page_asid(void **state)
{
    struct env *e = *state;
    vm_gpa_t la = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    vm_gpa_t lb = map(e, ROOT_B, VA, pte_of(P2, FLAGS_RWX), 0);
    vm_gpa_t lo = map(e, ROOT_A, VA + 0x1000, pte_of(P1, FLAGS_RWX), 0);
    vm_gpa_t lg = map(e, ROOT_A, VA + 0x2000, pte_of(P1, FLAGS_RWX | VM_PTE_G), 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);          /* ASID 1 */
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_READ), P1);
    assert_int_equal(xlate(e, VA + 0x2000, VM_ACCESS_READ), P1); /* global */
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);          /* ASID 2 */
    poke(e, la, pte_of(P3, FLAGS_RWX));
    poke(e, lb, pte_of(P4, FLAGS_RWX));
    poke(e, lo, pte_of(P4, FLAGS_RWX));
    poke(e, lg, pte_of(P4, FLAGS_RWX | VM_PTE_G));
    /* va in ASID 1 only, not global: ASID 2's entry, the other page and the
     * global page stay */
    vm_mmu_flush_tlb_page_asid(e->mmu, VA + 0x10, 1, false);
    vm_mmu_flush_tlb_page_asid(e->mmu, VA + 0x2010, 1, false);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P3);
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_READ), P1);
    assert_int_equal(xlate(e, VA + 0x2000, VM_ACCESS_READ), P1);
    /* with include_global the global entry goes */
    vm_mmu_flush_tlb_page_asid(e->mmu, VA + 0x2010, 7, true);
    assert_int_equal(xlate(e, VA + 0x2000, VM_ACCESS_READ), P4);
}

/* vm_mmu_flush_tlb_nonglobal: every non-global entry of every ASID goes,
 * global ones stay (x86 INVPCID type 3, a CR3 load with PCIDE=0). */
static void test_tlb_flush_nonglobal(void **state)
{
    struct env *e = *state;
    vm_gpa_t la = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    vm_gpa_t lb = map(e, ROOT_B, VA, pte_of(P2, FLAGS_RWX), 0);
    vm_gpa_t lg = map(e, ROOT_A, VA + 0x1000, pte_of(P1, FLAGS_RWX | VM_PTE_G), 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_EXEC), P1);
    vm_mmu_set_satp(e->mmu, satp_of(2, ROOT_B));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);
    poke(e, la, pte_of(P3, FLAGS_RWX));
    poke(e, lb, pte_of(P4, FLAGS_RWX));
    poke(e, lg, pte_of(P4, FLAGS_RWX | VM_PTE_G));
    vm_mmu_flush_tlb_nonglobal(e->mmu);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P4);
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_EXEC), P1); /* global: stale */
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P3);
}

/* "rs1 can specify a virtual address within that mapping (one page or
 * superpage)": any VA inside a 2 MiB / 1 GiB leaf flushes its entry. */
static void test_tlb_flush_page_superpage(void **state)
{
    struct env *e = *state;
    const vm_gva_t base2m = UINT64_C(0x80200000); /* vpn2 = 2, vpn1 = 1 */
    vm_gpa_t leaf = map(e, ROOT_A, base2m, pte_of(0x200000, FLAGS_RWX), 1);
    assert_int_equal(xlate(e, base2m + 0x5008, VM_ACCESS_READ), 0x205008);
    assert_int_equal(xlate(e, base2m + 0x5008, VM_ACCESS_EXEC), 0x205008);
    poke(e, leaf, pte_of(0x400000, FLAGS_RWX));
    assert_int_equal(xlate(e, base2m + 0x5008, VM_ACCESS_READ), 0x205008);
    vm_mmu_flush_tlb_page(e->mmu, base2m + 0x1ff000 + 0x10); /* last 4K page */
    assert_int_equal(xlate(e, base2m + 0x5008, VM_ACCESS_READ), 0x405008);
    assert_int_equal(xlate(e, base2m + 0x5008, VM_ACCESS_EXEC), 0x405008);

    const vm_gva_t base1g = UINT64_C(0xc0000000); /* vpn2 = 3 */
    vm_gpa_t leaf1g = map(e, ROOT_A, base1g, pte_of(UINT64_C(0x40000000), FLAGS_RWX), 2);
    assert_int_equal(xlate(e, base1g + 0x123456, VM_ACCESS_READ), UINT64_C(0x40123456));
    poke(e, leaf1g, pte_of(UINT64_C(0x80000000), FLAGS_RWX));
    assert_int_equal(xlate(e, base1g + 0x123456, VM_ACCESS_READ), UINT64_C(0x40123456));
    vm_mmu_flush_tlb_page(e->mmu, base1g + UINT64_C(0x3ffff000));
    assert_int_equal(xlate(e, base1g + 0x123456, VM_ACCESS_READ), UINT64_C(0x80123456));
}

/* High-half (sign-extended) VA: a flush by that address finds the entry. */
static void test_tlb_flush_page_high_half(void **state)
{
    struct env *e = *state;
    const vm_gva_t hva = UINT64_C(0xffffffffc0001000); /* vpn 511/0/1 */
    vm_gpa_t leaf = map(e, ROOT_A, hva, pte_of(P1, FLAGS_RWX), 0);
    assert_int_equal(xlate(e, hva + 4, VM_ACCESS_READ), P1 + 4);
    assert_int_equal(xlate(e, hva + 4, VM_ACCESS_EXEC), P1 + 4);
    poke(e, leaf, pte_of(P2, FLAGS_RWX));
    assert_int_equal(xlate(e, hva + 4, VM_ACCESS_READ), P1 + 4);
    vm_mmu_flush_tlb_page(e->mmu, hva);
    assert_int_equal(xlate(e, hva + 4, VM_ACCESS_READ), P2 + 4);
    assert_int_equal(xlate(e, hva + 4, VM_ACCESS_EXEC), P2 + 4);

    /* a high-half 1 GiB leaf, flushed by an address inside it */
    const vm_gva_t hg = UINT64_C(0xffffffff80000000); /* vpn2 = 510 */
    vm_gpa_t lg = map(e, ROOT_A, hg, pte_of(0, FLAGS_RWX), 2);
    assert_int_equal(xlate(e, hg + 0x3000, VM_ACCESS_READ), 0x3000);
    poke(e, lg, pte_of(UINT64_C(0x40000000), FLAGS_RWX));
    vm_mmu_flush_tlb_page(e->mmu, hg + UINT64_C(0x3fffffff));
    assert_int_equal(xlate(e, hg + 0x3000, VM_ACCESS_READ), UINT64_C(0x40003000));
}

/* A superpage is one TLB entry: 512 distinct 4 KiB pages of a 2 MiB leaf
 * cost one miss. */
static void test_tlb_superpage_one_entry(void **state)
{
    struct env *e = *state;
    const vm_gva_t base2m = UINT64_C(0x80200000);
    map(e, ROOT_A, base2m, pte_of(0x200000, FLAGS_RWX), 1);
    struct stats s = stats_now(e);
    for (uint64_t i = 0; i < 512; i++)
        assert_int_equal(xlate(e, base2m + i * 0x1000 + (i & 0xff8), VM_ACCESS_READ),
                         0x200000 + i * 0x1000 + (i & 0xff8));
    expect_delta(e, s, 511, 1);
    /* it survives the fill of other pages in a tiny TLB only as one entry */
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 2, 2), VM_OK);
    map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    s = stats_now(e);
    assert_int_equal(xlate(e, base2m, VM_ACCESS_READ), 0x200000);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    for (uint64_t i = 0; i < 512; i += 7)
        assert_int_equal(xlate(e, base2m + i * 0x1000, VM_ACCESS_READ), 0x200000 + i * 0x1000);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    expect_delta(e, s, 75, 2);
}

/* LRU replacement (mmu.h: fully associative, LRU): fill a DTLB of N,
 * touch page 0, add page N: page 1 was the least recently used. Pages are
 * `stride` apart (adjacent, 64 KiB and 2 MiB apart), so the result cannot
 * depend on how the TLB indexes its entries internally. */
static void lru_check(struct env *e, uint64_t stride)
{
    const size_t n = 4;
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, n, n), VM_OK);
    for (size_t i = 0; i <= n; i++)
        map(e, ROOT_A, VA + i * stride, pte_of(P1 + i * 0x1000, FLAGS_RWX), 0);
    struct stats s = stats_now(e);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(xlate(e, VA + i * stride, VM_ACCESS_READ), P1 + i * 0x1000);
    expect_delta(e, s, 0, n);
    s = stats_now(e);
    for (size_t i = 0; i < n; i++) /* all N fit */
        (void)xlate(e, VA + i * stride, VM_ACCESS_READ);
    expect_delta(e, s, n, 0);
    s = stats_now(e);
    (void)xlate(e, VA, VM_ACCESS_READ);              /* page 0 most recent; page 1 LRU */
    (void)xlate(e, VA + n * stride, VM_ACCESS_READ); /* page N: miss, evicts page 1 */
    expect_delta(e, s, 1, 1);
    s = stats_now(e);
    (void)xlate(e, VA, VM_ACCESS_READ);              /* page 0 still there */
    (void)xlate(e, VA + 2 * stride, VM_ACCESS_READ);
    (void)xlate(e, VA + 3 * stride, VM_ACCESS_READ);
    (void)xlate(e, VA + n * stride, VM_ACCESS_READ);
    expect_delta(e, s, 4, 0);
    s = stats_now(e);
    assert_int_equal(xlate(e, VA + 1 * stride, VM_ACCESS_READ), P1 + 0x1000); /* evicted */
    expect_delta(e, s, 0, 1);
    /* fetches do not use the DTLB's capacity */
    s = stats_now(e);
    for (size_t i = 0; i < n; i++)
        (void)xlate(e, VA + i * stride, VM_ACCESS_EXEC);
    expect_delta(e, s, 0, n);
}

static void test_tlb_lru_eviction(void **state)
{
    lru_check(*state, 0x1000);
}

static void test_tlb_lru_eviction_strided(void **state)
{
    struct env *e = *state;
    lru_check(e, 0x10000);
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 64, 128), VM_OK);
    lru_check(e, UINT64_C(0x200000) + 0x1000);
}

/* resize_tlbs: new capacity, entries and stats cleared; 0 or > 4096 is
 * VM_ERR_INVALID_ARGUMENT and changes nothing. Default 64 / 128. */
static void test_tlb_resize(void **state)
{
    struct env *e = *state;
    size_t it = 0, dt = 0;
    vm_mmu_tlb_capacity(e->mmu, &it, &dt);
    assert_int_equal(it, 64);
    assert_int_equal(dt, 128);

    vm_gpa_t leaf = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    poke(e, leaf, pte_of(P2, FLAGS_RWX));
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 16, 32), VM_OK);
    vm_mmu_tlb_capacity(e->mmu, &it, &dt);
    assert_int_equal(it, 16);
    assert_int_equal(dt, 32);
    uint64_t h = 1, m = 1;
    vm_mmu_tlb_stats(e->mmu, &h, &m);
    assert_int_equal(h, 0);
    assert_int_equal(m, 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2); /* entries cleared */
    vm_mmu_tlb_stats(e->mmu, &h, &m);
    assert_int_equal(h, 0);
    assert_int_equal(m, 1);

    const size_t bad[][2] = {{0, 8}, {8, 0}, {0, 0}, {4097, 8}, {8, 4097}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(vm_mmu_resize_tlbs(e->mmu, bad[i][0], bad[i][1]),
                         VM_ERR_INVALID_ARGUMENT);
        vm_mmu_tlb_capacity(e->mmu, &it, &dt);
        assert_int_equal(it, 16);
        assert_int_equal(dt, 32);
    }
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 1, 4096), VM_OK);
    vm_mmu_tlb_capacity(e->mmu, &it, &dt);
    assert_int_equal(it, 1);
    assert_int_equal(dt, 4096);
    vm_mmu_tlb_stats(e->mmu, NULL, NULL); /* either pointer may be NULL */
    vm_mmu_tlb_stats(e->mmu, &h, NULL);
    assert_int_equal(h, 0);
}

/* ITLB for fetches, DTLB for loads/stores: a fill of one is not a hit in
 * the other, and each keeps its own (possibly stale) copy. */
static void test_tlb_itlb_dtlb_separate(void **state)
{
    struct env *e = *state;
    vm_gpa_t leaf = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    map(e, ROOT_A, VA + 0x1000, pte_of(P2, FLAGS_RWX), 0);
    struct stats s = stats_now(e);
    (void)xlate(e, VA, VM_ACCESS_READ);
    expect_delta(e, s, 0, 1);
    s = stats_now(e);
    (void)xlate(e, VA, VM_ACCESS_EXEC); /* first fetch: miss */
    expect_delta(e, s, 0, 1);
    s = stats_now(e);
    (void)xlate(e, VA, VM_ACCESS_EXEC);
    (void)xlate(e, VA, VM_ACCESS_READ);
    (void)xlate(e, VA, VM_ACCESS_WRITE);
    expect_delta(e, s, 3, 0);
    s = stats_now(e);
    (void)xlate(e, VA + 0x1000, VM_ACCESS_EXEC); /* only fetched so far ... */
    (void)xlate(e, VA + 0x1000, VM_ACCESS_READ); /* ... so the read misses */
    expect_delta(e, s, 0, 2);

    /* stale copies are per TLB: cache in the DTLB only, change, fetch */
    vm_mmu_flush_tlb(e->mmu);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    poke(e, leaf, pte_of(P3, FLAGS_RWX));
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P3);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
}

/* Step 9 applies on every store whose PTE has D=0, even when a load
 * already cached the page: the store must not be satisfied by the load's
 * entry (it would leave D clear). */
static void test_tlb_write_after_read_sets_d(void **state)
{
    struct env *e = *state;
    const uint64_t clean = pte_of(P1, VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_A);
    vm_gpa_t leaf = map(e, ROOT_A, VA, clean, 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    assert_int_equal(peek(e, leaf), clean);
    assert_int_equal(xlate(e, VA, VM_ACCESS_WRITE), P1);
    assert_int_equal(peek(e, leaf), clean | VM_PTE_D);

    /* same through vm_mmu_read / vm_mmu_write, from A = 0 */
    const uint64_t fresh = pte_of(P2, VM_PTE_V | VM_PTE_R | VM_PTE_W);
    vm_gpa_t leaf2 = map(e, ROOT_A, VA + 0x1000, fresh, 0);
    uint64_t v;
    assert_int_equal(vm_mmu_read(e->mmu, VA + 0x1000, 8, &v), VM_OK);
    assert_int_equal(peek(e, leaf2), fresh | VM_PTE_A);
    assert_int_equal(vm_mmu_write(e->mmu, VA + 0x1000, 5, 8), VM_OK);
    assert_int_equal(peek(e, leaf2), fresh | VM_PTE_A | VM_PTE_D);
    assert_int_equal(peek(e, P2), 5);

    /* Svade: the store after a cached load still faults on D = 0 */
    vm_mmu_set_ad_mode(e->mmu, VM_AD_FAULT);
    vm_gpa_t leaf3 = map(e, ROOT_A, VA + 0x2000, clean, 0);
    assert_int_equal(xlate(e, VA + 0x2000, VM_ACCESS_READ), P1);
    xlate_page_fault(e, VA + 0x2000, VM_ACCESS_WRITE);
    assert_int_equal(peek(e, leaf3), clean);
}

/* "Changes to the sstatus fields SUM and MXR take effect immediately,
 * without the need to execute an SFENCE.VMA"; so do privilege changes. */
static void test_tlb_priv_sum_mxr_immediate(void **state)
{
    struct env *e = *state;
    map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);                       /* S page */
    map(e, ROOT_A, VA + 0x1000, pte_of(P2, FLAGS_RWX | VM_PTE_U), 0);   /* U page */
    map(e, ROOT_A, VA + 0x2000,
        pte_of(P3, VM_PTE_V | VM_PTE_X | VM_PTE_A | VM_PTE_D), 0);      /* X-only */

    /* S page cached in S, then U: fault */
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P1);
    vm_mmu_set_priv(e->mmu, VM_PRIV_U);
    xlate_page_fault(e, VA, VM_ACCESS_READ);
    xlate_page_fault(e, VA, VM_ACCESS_EXEC);
    /* U page cached in U, then S with SUM = 0: fault; fetch never */
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_READ), P2);
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_EXEC), P2);
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    xlate_page_fault(e, VA + 0x1000, VM_ACCESS_READ);
    xlate_page_fault(e, VA + 0x1000, VM_ACCESS_EXEC);
    /* U page cached in S with SUM = 1, then SUM = 0: fault */
    vm_mmu_set_sum(e->mmu, true);
    assert_int_equal(xlate(e, VA + 0x1000, VM_ACCESS_WRITE), P2);
    vm_mmu_set_sum(e->mmu, false);
    xlate_page_fault(e, VA + 0x1000, VM_ACCESS_WRITE);
    xlate_page_fault(e, VA + 0x1000, VM_ACCESS_READ);
    /* X-only page read via MXR = 1, then MXR = 0: fault */
    vm_mmu_set_mxr(e->mmu, true);
    assert_int_equal(xlate(e, VA + 0x2000, VM_ACCESS_READ), P3);
    vm_mmu_set_mxr(e->mmu, false);
    xlate_page_fault(e, VA + 0x2000, VM_ACCESS_READ);
    /* M mode: identity at once, back to S: the cached S page again */
    vm_mmu_set_priv(e->mmu, VM_PRIV_M);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), VA);
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
}

/* mmu.h: a satp write that changes MODE flushes both TLBs. Sv39 -> Bare
 * -> Sv39 with a changed PTE uses the new PTE. */
static void test_tlb_satp_mode_change_flushes(void **state)
{
    struct env *e = *state;
    vm_gpa_t leaf = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P1);
    poke(e, leaf, pte_of(P2, FLAGS_RWX));
    /* same MODE, same ASID, same root: no flush, stale entry */
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    vm_mmu_set_satp(e->mmu, 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), VA); /* Bare at once */
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), VA);
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P2);

    /* Sv39 -> Sv48 -> Sv39 flushes as well */
    poke(e, leaf, pte_of(P3, FLAGS_RWX));
    vm_mmu_set_satp(e->mmu, (UINT64_C(9) << 60) | (UINT64_C(1) << 44) | (ROOT_B >> 12));
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P3);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P3);
}

/* mmu.h: set_paging_mode selects a mode (keeps ASID and root) and flushes
 * both TLBs. */
static void test_tlb_set_paging_mode_flushes(void **state)
{
    struct env *e = *state;
    vm_gpa_t leaf = map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P1);
    poke(e, leaf, pte_of(P2, FLAGS_RWX));
    vm_mmu_set_paging_mode(e->mmu, VM_PAGING_SV39);
    assert_int_equal(vm_mmu_paging_mode(e->mmu), VM_PAGING_SV39);
    assert_int_equal(vm_mmu_satp(e->mmu), satp_of(1, ROOT_A));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P2);
    assert_int_equal(xlate(e, VA, VM_ACCESS_EXEC), P2);

    poke(e, leaf, pte_of(P3, FLAGS_RWX));
    vm_mmu_set_paging_mode(e->mmu, VM_PAGING_BARE);
    assert_int_equal(vm_mmu_paging_mode(e->mmu), VM_PAGING_BARE);
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), VA);
    vm_mmu_set_paging_mode(e->mmu, VM_PAGING_SV39);
    /* ASID and root kept */
    assert_int_equal(vm_mmu_satp(e->mmu) & ((UINT64_C(1) << 60) - 1),
                     satp_of(1, ROOT_A) & ((UINT64_C(1) << 60) - 1));
    assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P3);
}

/* mmu.h: stats count one per page translated in a mode with paging; Bare
 * and M-mode do not count. */
static void test_tlb_stats_only_paged(void **state)
{
    struct env *e = *state;
    map(e, ROOT_A, VA, pte_of(P1, FLAGS_RWX), 0);
    struct stats s = stats_now(e);
    vm_mmu_set_priv(e->mmu, VM_PRIV_M);
    for (int i = 0; i < 10; i++)
        assert_int_equal(xlate(e, VA, VM_ACCESS_READ), VA);
    uint64_t v;
    assert_int_equal(vm_mmu_read(e->mmu, 0x1000, 8, &v), VM_OK);
    expect_delta(e, s, 0, 0);
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    vm_mmu_set_satp(e->mmu, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(xlate(e, VA, VM_ACCESS_WRITE), VA);
    assert_int_equal(vm_mmu_read(e->mmu, 0x1000, 8, &v), VM_OK);
    expect_delta(e, s, 0, 0);
    vm_mmu_set_satp(e->mmu, satp_of(1, ROOT_A));
    s = stats_now(e);
    for (int i = 0; i < 10; i++)
        assert_int_equal(xlate(e, VA, VM_ACCESS_READ), P1);
    expect_delta(e, s, 9, 1);
    /* one access through vm_mmu_read counts one translation */
    s = stats_now(e);
    assert_int_equal(vm_mmu_read(e->mmu, VA + 8, 8, &v), VM_OK);
    expect_delta(e, s, 1, 0);
}

/*
 * Exact LRU against a model (mmu.h: fully associative, LRU), over random
 * sequences of translations, first accesses, flushes of one page and of
 * everything, for small capacities where every order matters. The model is
 * a list of pages, most recently used first: a lookup of a listed page is
 * a hit and moves it first; any other is a miss that puts it first and
 * drops the last one beyond the capacity. vm_mmu_translate is a TLB lookup
 * every time; vm_mmu_read is used only on pages the model does not hold
 * (a sure miss: no level-0 slot outlives its entry), so that the fills of
 * the access path are checked too.
 */
#define LRU_PAGES 12

static void lru_model_run(struct env *e, size_t cap, uint64_t seed)
{
    assert_int_equal(vm_mmu_resize_tlbs(e->mmu, 64, cap), VM_OK);
    int list[LRU_PAGES]; /* pages, most recent first */
    size_t n = 0;
    uint64_t x = seed;
    for (int step = 0; step < 4000; step++) {
        x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        unsigned op = (unsigned)(x >> 60), page = (unsigned)(x >> 33) % LRU_PAGES;
        vm_gva_t va = VA + (vm_gva_t)page * 0x1000;
        size_t k = 0;
        while (k < n && list[k] != (int)page)
            k++;
        bool held = k < n;
        if (op == 0) { /* sfence.vma va: the page leaves */
            vm_mmu_flush_tlb_page(e->mmu, va);
            if (held) {
                for (; k + 1 < n; k++)
                    list[k] = list[k + 1];
                n--;
            }
            continue;
        }
        if (op == 1 && (x & 0x300) == 0) { /* now and then, everything */
            vm_mmu_flush_tlb(e->mmu);
            n = 0;
            continue;
        }
        struct stats s = stats_now(e);
        if (!held && (op & 1)) {
            uint64_t v = 0;
            assert_int_equal(vm_mmu_read(e->mmu, va + 8 * (x & 7), 8, &v), VM_OK);
        } else {
            assert_int_equal(xlate(e, va, VM_ACCESS_READ), P1 + (vm_gpa_t)page * 0x1000);
        }
        expect_delta(e, s, held ? 1 : 0, held ? 0 : 1);
        if (!held) {
            k = n < cap ? n++ : n - 1; /* a new slot, or the last one's */
        }
        for (; k > 0; k--)
            list[k] = list[k - 1];
        list[0] = (int)page;
    }
}

static void test_tlb_lru_model(void **state)
{
    struct env *e = *state;
    for (unsigned p = 0; p < LRU_PAGES; p++)
        map(e, ROOT_A, VA + p * 0x1000, pte_of(P1 + p * 0x1000, FLAGS_RWX), 0);
    const size_t caps[] = {1, 2, 3, 4, 5, 7, 11};
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
        for (uint64_t seed = 1; seed <= 3; seed++)
            lru_model_run(e, caps[c], seed * 0x9e3779b97f4a7c15u + caps[c]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tlb_cached_until_flush_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_asid_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_global_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_flush_asid_only_that_asid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_flush_page_all_asids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_flush_page_asid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_flush_nonglobal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_flush_page_superpage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_flush_page_high_half, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_superpage_one_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_lru_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_lru_eviction_strided, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_lru_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_resize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_itlb_dtlb_separate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_write_after_read_sets_d, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_priv_sum_mxr_immediate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_satp_mode_change_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_set_paging_mode_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tlb_stats_only_paged, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
