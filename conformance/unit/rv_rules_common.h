/*
 * rv_rules_common.h - RISC-V Sv39/Sv48/Sv57 translation rules as cmocka
 * tests, shared by test_sv39_rules.c, test_sv48_rules.c and
 * test_sv57_rules.c (each includes this header and calls rv_run_rules()
 * with its mode descriptor, so every rule runs once per mode and is
 * reported as test_<mode>_<rule>).
 *
 * How it works: every test gets a fresh MMU (8 MiB RAM, priv S, A/D in
 * hardware, strict alignment off) whose satp points at an empty root table.
 * Page tables are written here PTE by PTE with vm_mmu_write_phys (raw
 * 8-byte values, ppn << 10 | flags); vm_ptbuilder is deliberately not
 * used, so a builder bug cannot hide (or fake) a walker bug. Expectations
 * come from the Privileged spec, "Virtual Address Translation Process"
 * (steps 1-10, quoted as "step N"), the Sv39/Sv48/Sv57 sections and the
 * sstatus SUM/MXR text, and from the contracts in vmmem/mmu.h - never from
 * the implementation.
 *
 * Most negative tests first prove the same mapping translates (positive
 * control), then break exactly one thing, flush, and expect the fault: a
 * test then cannot pass because of an unrelated setup mistake.
 *
 * Rejected: one macro-generated function per (mode, rule) pair - the rule
 * bodies are identical across modes, so they take the mode from the fixture
 * and the names are composed at run time instead.
 */
#ifndef RV_RULES_COMMON_H
#define RV_RULES_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

/* ---- Mode descriptor and fixture --------------------------------------- */

struct rv_mode {
    const char *name;       /* "sv39": the test-name prefix */
    vm_paging_mode_t mode;
    uint64_t satp_mode;     /* satp.MODE encoding: 8, 9, 10 */
    int levels;             /* LEVELS: 3, 4, 5 */
    int va_bits;            /* 39, 48, 57 */
};

#define RV_MAX_LEVELS 5
#define RV_RAM_SIZE (UINT64_C(8) << 20)
#define RV_ROOT UINT64_C(0x10000)       /* root table */
#define RV_TABLES_END UINT64_C(0x100000) /* tables are bump-allocated below this */
#define RV_DATA UINT64_C(0x200000)      /* data pages from here */
#define RV_BEYOND_RAM UINT64_C(0x40000000) /* 1 GiB: no RAM, no MMIO */
#define RV_ASID UINT64_C(5)

struct rv_env {
    const struct rv_mode *m;
    vm_mmu_t *mmu;
    vm_gpa_t next_table;
};

static const vm_access_t rv_kinds[3] = {VM_ACCESS_READ, VM_ACCESS_WRITE, VM_ACCESS_EXEC};
/* Priv. spec, mcause table: page fault 13/15/12, access fault 5/7/1,
 * misaligned 4/6/0 for load/store/fetch. */
static const uint32_t rv_page_cause[3] = {13, 15, 12};
static const uint32_t rv_access_cause[3] = {5, 7, 1};
static const uint32_t rv_misaligned_cause[3] = {4, 6, 0};

static inline uint64_t rv_satp(const struct rv_mode *m, uint64_t asid, vm_gpa_t root)
{
    return (m->satp_mode << 60) | (asid << 44) | (root >> 12);
}

static int rv_setup(void **state)
{
    struct rv_env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->m = *state;
    e->mmu = vm_mmu_new(RV_RAM_SIZE, false);
    assert_non_null(e->mmu);
    e->next_table = RV_ROOT + 0x1000;
    vm_mmu_set_strict_align(e->mmu, false);
    vm_mmu_set_ad_mode(e->mmu, VM_AD_HARDWARE);
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    vm_mmu_set_sum(e->mmu, false);
    vm_mmu_set_mxr(e->mmu, false);
    vm_mmu_set_satp(e->mmu, rv_satp(e->m, RV_ASID, RV_ROOT));
    assert_int_equal(vm_mmu_paging_mode(e->mmu), e->m->mode);
    *state = e;
    return 0;
}

static int rv_teardown(void **state)
{
    struct rv_env *e = *state;
    vm_mmu_free(e->mmu);
    free(e);
    return 0;
}

/* ---- Raw page-table helpers --------------------------------------------- */

static inline unsigned rv_vpn(vm_gva_t va, int level)
{
    return (unsigned)(va >> (12 + 9 * level)) & 0x1ff;
}

static inline uint64_t rv_page_size(int level)
{
    return UINT64_C(1) << (12 + 9 * level);
}

/* A PTE: physical page number of pa in bits 53:10, flags below. */
static inline uint64_t rv_pte(vm_gpa_t pa, uint64_t flags)
{
    return ((pa >> 12) << VM_PTE_PPN_SHIFT) | flags;
}

static inline vm_gpa_t rv_pte_pa(uint64_t pte)
{
    return ((pte & VM_PTE_PPN_MASK) >> VM_PTE_PPN_SHIFT) << 12;
}

static void rv_poke(struct rv_env *e, vm_gpa_t pa, uint64_t val)
{
    assert_int_equal(vm_mmu_write_phys(e->mmu, pa, val, 8), VM_OK);
}

static uint64_t rv_peek(struct rv_env *e, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(e->mmu, pa, 8, &v), VM_OK);
    return v;
}

static vm_gpa_t rv_alloc_table(struct rv_env *e)
{
    vm_gpa_t t = e->next_table;
    assert_true(t < RV_TABLES_END);
    e->next_table += 0x1000;
    for (unsigned i = 0; i < 512; i++)
        rv_poke(e, t + 8 * i, 0);
    return t;
}

/*
 * Map va with `leaf` (a complete PTE value) written at `level`, creating
 * pointer PTEs (V only) above it as needed, starting at `root`. ptes[l]
 * receives the address of the PTE used at level l (LEVELS-1 .. level).
 * Returns the leaf PTE's address. Does not flush.
 */
static vm_gpa_t rv_map_at(struct rv_env *e, vm_gpa_t root, vm_gva_t va, uint64_t leaf, int level,
                          vm_gpa_t ptes[RV_MAX_LEVELS])
{
    vm_gpa_t table = root;
    vm_gpa_t slot = 0;
    for (int l = e->m->levels - 1; l >= level; l--) {
        slot = table + 8 * rv_vpn(va, l);
        if (ptes)
            ptes[l] = slot;
        if (l == level)
            break;
        uint64_t pte = rv_peek(e, slot);
        if (!(pte & VM_PTE_V) || (pte & (VM_PTE_R | VM_PTE_W | VM_PTE_X))) {
            /* absent, or a leaf left by an earlier step: replace by a pointer */
            vm_gpa_t next = rv_alloc_table(e);
            rv_poke(e, slot, rv_pte(next, VM_PTE_V));
            table = next;
        } else {
            table = rv_pte_pa(pte);
        }
    }
    rv_poke(e, slot, leaf);
    return slot;
}

static vm_gpa_t rv_map(struct rv_env *e, vm_gva_t va, uint64_t leaf, int level,
                       vm_gpa_t ptes[RV_MAX_LEVELS])
{
    return rv_map_at(e, RV_ROOT, va, leaf, level, ptes);
}

#define RV_LEAF_RWX (VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_X | VM_PTE_A | VM_PTE_D)

/* A canonical low-half VA whose VPN fields are all non-zero and distinct
 * (vpn[l] = 2l+3), so an index taken from the wrong level shows up. */
static inline vm_gva_t rv_test_va(const struct rv_mode *m)
{
    vm_gva_t va = 0;
    for (int l = 0; l < m->levels; l++)
        va |= (vm_gva_t)(2 * l + 3) << (12 + 9 * l);
    return va;
}

/* ---- Expectations --------------------------------------------------------- */

#define RV_NO_LEVEL (-1)   /* fault before any PTE was read */
#define RV_ANY_LEVEL (-2)  /* do not check level / pte_addr / pte */

static void rv_expect_fault(struct rv_env *e, vm_err_t got, vm_fault_kind_t kind, vm_access_t acc,
                            vm_gva_t va, int level, vm_gpa_t pte_addr, uint64_t pte)
{
    static const vm_err_t err_of_kind[] = {
        [VM_FAULT_NONE] = VM_OK,
        [VM_FAULT_PAGE] = VM_ERR_PAGE_FAULT,
        [VM_FAULT_ACCESS] = VM_ERR_ACCESS_FAULT,
        [VM_FAULT_MISALIGNED] = VM_ERR_ALIGNMENT_FAULT,
    };
    const uint32_t *causes = kind == VM_FAULT_PAGE ? rv_page_cause
                             : kind == VM_FAULT_ACCESS ? rv_access_cause
                                                       : rv_misaligned_cause;
    const vm_fault_t *f = vm_mmu_last_fault(e->mmu);
    assert_non_null(f);
    assert_int_equal(got, err_of_kind[kind]);
    assert_int_equal(f->kind, kind);
    assert_int_equal(f->access, acc);
    assert_int_equal(f->cause, causes[acc]);
    assert_int_equal(f->va, va);
    if (level == RV_ANY_LEVEL)
        return;
    assert_int_equal(f->level, level);
    if (level >= 0) {
        assert_int_equal(f->pte_addr, pte_addr);
        assert_int_equal(f->pte, pte);
    }
}

static void rv_xlate_fault(struct rv_env *e, vm_gva_t va, vm_access_t acc, vm_fault_kind_t kind,
                           int level, vm_gpa_t pte_addr, uint64_t pte)
{
    vm_gpa_t pa = 0xdead;
    vm_err_t err = vm_mmu_translate(e->mmu, va, acc, &pa);
    rv_expect_fault(e, err, kind, acc, va, level, pte_addr, pte);
}

static void rv_xlate_ok(struct rv_env *e, vm_gva_t va, vm_access_t acc, vm_gpa_t want)
{
    vm_gpa_t pa = 0xdead;
    vm_err_t err = vm_mmu_translate(e->mmu, va, acc, &pa);
    if (err != VM_OK)
        print_error("translate(0x%llx, access %d) failed: %s (%s)\n", (unsigned long long)va,
                    (int)acc, vm_strerror(err),
                    vm_mmu_last_fault(e->mmu)->reason ? vm_mmu_last_fault(e->mmu)->reason : "");
    assert_int_equal(err, VM_OK);
    assert_int_equal(pa, want);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_NONE);
}

static void rv_xlate_ok_all(struct rv_env *e, vm_gva_t va, vm_gpa_t want)
{
    for (int k = 0; k < 3; k++)
        rv_xlate_ok(e, va, rv_kinds[k], want);
}

static void rv_page_fault_all(struct rv_env *e, vm_gva_t va, int level, vm_gpa_t pte_addr,
                              uint64_t pte)
{
    for (int k = 0; k < 3; k++)
        rv_xlate_fault(e, va, rv_kinds[k], VM_FAULT_PAGE, level, pte_addr, pte);
}

/* ---- Rules ----------------------------------------------------------------- */

/*
 * Sv39/48/57 "Addressing and Memory Protection": bits 63..VA_BITS must all
 * equal bit VA_BITS-1, or else a page-fault exception occurs. The VAs
 * just above the low half and just below the high half share their VPN
 * indices with mapped canonical VAs, so a walker that ignores the upper
 * bits would translate them.
 */
static void rule_noncanonical(void **state)
{
    struct rv_env *e = *state;
    const struct rv_mode *m = e->m;
    const vm_gva_t half = UINT64_C(1) << (m->va_bits - 1);
    const vm_gva_t high_start = ~UINT64_C(0) << (m->va_bits - 1); /* lowest high-half VA */
    const vm_gva_t low_top_page = half - 0x1000;                   /* highest low-half page */
    const vm_gpa_t pa_high = RV_DATA, pa_low = RV_DATA + 0x1000, pa_top = RV_DATA + 0x2000;

    rv_map(e, high_start, rv_pte(pa_high, RV_LEAF_RWX), 0, NULL);
    rv_map(e, low_top_page, rv_pte(pa_low, RV_LEAF_RWX), 0, NULL);
    rv_map(e, ~UINT64_C(0xfff), rv_pte(pa_top, RV_LEAF_RWX), 0, NULL);

    /* canonical controls: both ends of both halves */
    rv_xlate_ok_all(e, high_start, pa_high);
    rv_xlate_ok_all(e, high_start + 0x123, pa_high + 0x123);
    rv_xlate_ok_all(e, low_top_page + 0xfff, pa_low + 0xfff);
    rv_xlate_ok_all(e, ~UINT64_C(0), pa_top + 0xfff);

    const vm_gva_t bad[] = {
        half,                    /* just above the low half: same VPNs as high_start */
        half + 0x123,
        high_start - 1,          /* just below the high half: same VPNs as the low top */
        high_start - 0x1000,
        UINT64_C(1) << 63,       /* only bit 63 set */
        (UINT64_C(1) << 63) | 0x123, /* bit 63 flipped on an otherwise low VA */
        ~UINT64_C(0) ^ (UINT64_C(1) << 63), /* high VA with bit 63 cleared */
        high_start ^ (UINT64_C(1) << m->va_bits), /* high VA with bit VA_BITS cleared */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        rv_page_fault_all(e, bad[i], RV_NO_LEVEL, 0, 0);
}

/* Step 3: pte.v = 0 at any level -> page fault at that level. */
static void rule_v0_each_level(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x678;
    vm_gpa_t ptes[RV_MAX_LEVELS];
    rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX), 0, ptes);
    rv_xlate_ok_all(e, va, RV_DATA + 0x678);

    for (int l = e->m->levels - 1; l >= 0; l--) {
        uint64_t orig = rv_peek(e, ptes[l]);
        uint64_t broken = orig & ~VM_PTE_V; /* everything else left in place */
        rv_poke(e, ptes[l], broken);
        vm_mmu_flush_tlb(e->mmu);
        rv_page_fault_all(e, va, l, ptes[l], broken);
        /* also the all-zero PTE */
        rv_poke(e, ptes[l], 0);
        rv_page_fault_all(e, va, l, ptes[l], 0);
        rv_poke(e, ptes[l], orig);
        vm_mmu_flush_tlb(e->mmu);
        rv_xlate_ok_all(e, va, RV_DATA + 0x678);
    }
}

/* Step 3: pte.r = 0 and pte.w = 1 is reserved -> page fault, at any level,
 * whether X is set or not, and MXR does not change that. */
static void rule_w_without_r(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m);
    const uint64_t base = VM_PTE_V | VM_PTE_A | VM_PTE_D;
    const uint64_t bad_flags[] = {VM_PTE_W, VM_PTE_W | VM_PTE_X, VM_PTE_W | VM_PTE_U,
                                  VM_PTE_W | VM_PTE_X | VM_PTE_U};
    for (int l = 0; l < e->m->levels; l++) {
        const uint64_t pa = rv_page_size(l) * 2;
        vm_gpa_t leaf = rv_map(e, va, rv_pte(pa, RV_LEAF_RWX), l, NULL);
        vm_mmu_flush_tlb(e->mmu);
        rv_xlate_ok_all(e, va, pa | (va & (rv_page_size(l) - 1)));
        for (size_t i = 0; i < sizeof(bad_flags) / sizeof(bad_flags[0]); i++) {
            uint64_t pte = rv_pte(pa, base | bad_flags[i]);
            rv_poke(e, leaf, pte);
            vm_mmu_flush_tlb(e->mmu);
            vm_mmu_set_priv(e->mmu, (bad_flags[i] & VM_PTE_U) ? VM_PRIV_U : VM_PRIV_S);
            rv_page_fault_all(e, va, l, leaf, pte);
            vm_mmu_set_mxr(e->mmu, true);
            rv_page_fault_all(e, va, l, leaf, pte);
            vm_mmu_set_mxr(e->mmu, false);
            vm_mmu_set_priv(e->mmu, VM_PRIV_S);
        }
    }
}

/* Sv39 PTE format: bits 60-54 reserved, 63 (N) reserved without Svnapot,
 * 62-61 (PBMT) reserved without Svpbmt; step 3: "if any bits ... reserved
 * for future standard use are set within pte" -> page fault. Applies to
 * leaf and non-leaf PTEs alike. */
static void rule_reserved_bits(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x10;
    vm_gpa_t ptes[RV_MAX_LEVELS];
    rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX), 0, ptes);
    rv_xlate_ok_all(e, va, RV_DATA + 0x10);

    for (int l = e->m->levels - 1; l >= 0; l--) {
        uint64_t orig = rv_peek(e, ptes[l]);
        for (int bit = 54; bit <= 63; bit++) {
            uint64_t pte = orig | (UINT64_C(1) << bit);
            rv_poke(e, ptes[l], pte);
            vm_mmu_flush_tlb(e->mmu);
            rv_page_fault_all(e, va, l, ptes[l], pte);
        }
        /* PBMT = 3 (reserved encoding even with Svpbmt) and all of 63:54 */
        const uint64_t combos[] = {orig | (UINT64_C(3) << 61), orig | VM_PTE_RESERVED_MASK};
        for (size_t i = 0; i < 2; i++) {
            rv_poke(e, ptes[l], combos[i]);
            vm_mmu_flush_tlb(e->mmu);
            rv_page_fault_all(e, va, l, ptes[l], combos[i]);
        }
        rv_poke(e, ptes[l], orig);
        vm_mmu_flush_tlb(e->mmu);
        rv_xlate_ok_all(e, va, RV_DATA + 0x10);
    }
}

/* "The RSW field is reserved for use by supervisor software; the
 * implementation shall ignore this field." - in leaf and non-leaf PTEs. */
static void rule_rsw_ignored(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x20;
    vm_gpa_t ptes[RV_MAX_LEVELS];
    rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX), 0, ptes);
    for (uint64_t rsw = 1; rsw <= 3; rsw++) {
        for (int l = e->m->levels - 1; l >= 0; l--)
            rv_poke(e, ptes[l], rv_peek(e, ptes[l]) | (rsw << VM_PTE_RSW_SHIFT));
        vm_mmu_flush_tlb(e->mmu);
        rv_xlate_ok_all(e, va, RV_DATA + 0x20);
        for (int l = e->m->levels - 1; l >= 0; l--)
            rv_poke(e, ptes[l], rv_peek(e, ptes[l]) & ~(UINT64_C(3) << VM_PTE_RSW_SHIFT));
    }
    /* RSW with the A/D update: the bits survive the hardware write-back */
    uint64_t leaf = rv_pte(RV_DATA, VM_PTE_V | VM_PTE_R | VM_PTE_W | (UINT64_C(3) << 8));
    rv_poke(e, ptes[0], leaf);
    vm_mmu_flush_tlb(e->mmu);
    rv_xlate_ok(e, va, VM_ACCESS_WRITE, RV_DATA + 0x20);
    assert_int_equal(rv_peek(e, ptes[0]), leaf | VM_PTE_A | VM_PTE_D);
}

/* "For non-leaf PTEs, the D, A, and U bits are reserved for future standard
 * use" + step 3 -> page fault at that level. */
static void rule_nonleaf_dau(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x30;
    vm_gpa_t ptes[RV_MAX_LEVELS];
    rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX | VM_PTE_U), 0, ptes);
    vm_mmu_set_sum(e->mmu, true); /* a U leaf is legal from S with SUM */
    rv_xlate_ok(e, va, VM_ACCESS_READ, RV_DATA + 0x30);
    rv_xlate_ok(e, va, VM_ACCESS_WRITE, RV_DATA + 0x30);

    const uint64_t bits[] = {VM_PTE_D, VM_PTE_A, VM_PTE_U};
    for (int l = e->m->levels - 1; l >= 1; l--) {
        uint64_t orig = rv_peek(e, ptes[l]);
        for (size_t i = 0; i < 3; i++) {
            uint64_t pte = orig | bits[i];
            rv_poke(e, ptes[l], pte);
            vm_mmu_flush_tlb(e->mmu);
            for (int priv = 0; priv <= 1; priv++) { /* U and S see the same fault */
                vm_mmu_set_priv(e->mmu, priv ? VM_PRIV_S : VM_PRIV_U);
                rv_xlate_fault(e, va, VM_ACCESS_READ, VM_FAULT_PAGE, l, ptes[l], pte);
                rv_xlate_fault(e, va, VM_ACCESS_WRITE, VM_FAULT_PAGE, l, ptes[l], pte);
            }
            vm_mmu_set_priv(e->mmu, VM_PRIV_U); /* exec of a U page is legal from U */
            rv_xlate_fault(e, va, VM_ACCESS_EXEC, VM_FAULT_PAGE, l, ptes[l], pte);
            vm_mmu_set_priv(e->mmu, VM_PRIV_S);
        }
        rv_poke(e, ptes[l], orig);
    }
    vm_mmu_flush_tlb(e->mmu);
    rv_xlate_ok(e, va, VM_ACCESS_READ, RV_DATA + 0x30);
    /* the pointers stay untouched by the walk (no A set on a non-leaf) */
    for (int l = e->m->levels - 1; l >= 1; l--)
        assert_int_equal(rv_peek(e, ptes[l]) & (VM_PTE_A | VM_PTE_D | VM_PTE_U), 0);
}

/* G is defined for non-leaf PTEs ("the global setting implies that all
 * mappings in the subsequent levels ... are global"): not a fault. */
static void rule_nonleaf_g_ok(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x40;
    vm_gpa_t ptes[RV_MAX_LEVELS];
    rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX), 0, ptes);
    for (int l = e->m->levels - 1; l >= 1; l--)
        rv_poke(e, ptes[l], rv_peek(e, ptes[l]) | VM_PTE_G);
    vm_mmu_flush_tlb(e->mmu);
    rv_xlate_ok_all(e, va, RV_DATA + 0x40);
}

/* Step 4: a pointer (V=1, R=W=X=0) at level 0 -> i < 0 -> page fault. */
static void rule_pointer_at_level0(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x50;
    vm_gpa_t ptes[RV_MAX_LEVELS];
    rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX), 0, ptes);
    rv_xlate_ok_all(e, va, RV_DATA + 0x50);
    /* a "pointer" back at the root table, and one at a zeroed table */
    const uint64_t ptrs[] = {rv_pte(RV_ROOT, VM_PTE_V), rv_pte(RV_DATA + 0x3000, VM_PTE_V),
                             rv_pte(RV_DATA, VM_PTE_V | VM_PTE_A | VM_PTE_D)};
    for (size_t i = 0; i < 3; i++) {
        rv_poke(e, ptes[0], ptrs[i]);
        vm_mmu_flush_tlb(e->mmu);
        rv_page_fault_all(e, va, 0, ptes[0], ptrs[i]);
    }
}

/*
 * "Any level of PTE may be a leaf PTE": 4 KiB, 2 MiB, 1 GiB, 512 GiB
 * (Sv48+), 256 TiB (Sv57). Step 10: pa.pgoff = va.pgoff, pa.ppn[i-1:0] =
 * va.vpn[i-1:0], pa.ppn[LEVELS-1:i] = pte.ppn[LEVELS-1:i].
 */
static void rule_leaf_every_level(void **state)
{
    struct rv_env *e = *state;
    const int levels = e->m->levels;
    const vm_gva_t va = rv_test_va(e->m) + 0x9a8;
    /* a second region (another top-level slot) for data accesses through a
     * leaf with ppn 0, so the PA is the VA's low bits and lands in RAM */
    const vm_gva_t data_region = rv_test_va(e->m) + (UINT64_C(1) << (12 + 9 * (levels - 1)));
    const uint64_t data_low = 0x345678;

    for (int l = 0; l < levels; l++) {
        const uint64_t size = rv_page_size(l);
        const vm_gpa_t base = size * 3; /* ppn[l] = 3, lower ppn fields 0 */
        rv_map(e, va, rv_pte(base, RV_LEAF_RWX), l, NULL);
        vm_mmu_flush_tlb(e->mmu);
        rv_xlate_ok_all(e, va, base | (va & (size - 1)));
        /* another VA in the same superpage differs only in its low bits */
        if (l > 0) {
            vm_gva_t va2 = (va & ~(size - 1)) | ((size - 1) & ~UINT64_C(0xfff)) | 0x7;
            rv_xlate_ok_all(e, va2, base | (va2 & (size - 1)));
        }

        /* data through a ppn-0 leaf at this level */
        const vm_gva_t dva = (data_region & ~(size - 1)) | (data_low & (size - 1));
        const vm_gpa_t dpa = dva & (size - 1);
        rv_map(e, dva, rv_pte(0, RV_LEAF_RWX), l, NULL);
        vm_mmu_flush_tlb(e->mmu);
        const uint64_t val = UINT64_C(0x1122334455667788) + (uint64_t)l;
        assert_int_equal(vm_mmu_write(e->mmu, dva, val, 8), VM_OK);
        assert_int_equal(rv_peek(e, dpa), val);
        uint64_t got = 0;
        assert_int_equal(vm_mmu_read(e->mmu, dva, 8, &got), VM_OK);
        assert_int_equal(got, val);
    }
}

/* Step 5: leaf at i > 0 with pte.ppn[i-1:0] != 0 -> misaligned superpage,
 * page fault. Each low ppn field, its lowest and its highest bit. */
static void rule_misaligned_superpage(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x60;
    for (int l = 1; l < e->m->levels; l++) {
        const vm_gpa_t base = rv_page_size(l) * 2;
        vm_gpa_t leaf = rv_map(e, va, rv_pte(base, RV_LEAF_RWX), l, NULL);
        vm_mmu_flush_tlb(e->mmu);
        rv_xlate_ok_all(e, va, base | (va & (rv_page_size(l) - 1)));
        for (int j = 0; j < l; j++) {
            const uint64_t field_bits[] = {1, 0x100, 0x1ff};
            for (size_t b = 0; b < 3; b++) {
                vm_gpa_t pa = base | (field_bits[b] << (12 + 9 * j));
                uint64_t pte = rv_pte(pa, RV_LEAF_RWX);
                rv_poke(e, leaf, pte);
                vm_mmu_flush_tlb(e->mmu);
                rv_page_fault_all(e, va, l, leaf, pte);
            }
        }
    }
}

/* pteperm table + steps 7/8 (no MXR, S-mode, S page): load needs R, store
 * needs W, fetch needs X; each denial is a page fault of the access type. */
static void rule_rwx_matrix(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x70;
    const uint64_t legal[] = {
        VM_PTE_R, VM_PTE_R | VM_PTE_W, VM_PTE_X, VM_PTE_R | VM_PTE_X,
        VM_PTE_R | VM_PTE_W | VM_PTE_X,
    };
    vm_gpa_t ptes[RV_MAX_LEVELS];
    vm_gpa_t leaf = rv_map(e, va, 0, 0, ptes);
    for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++) {
        uint64_t pte = rv_pte(RV_DATA, VM_PTE_V | VM_PTE_A | VM_PTE_D | legal[i]);
        rv_poke(e, leaf, pte);
        vm_mmu_flush_tlb(e->mmu);
        const bool allowed[3] = {(legal[i] & VM_PTE_R) != 0, (legal[i] & VM_PTE_W) != 0,
                                 (legal[i] & VM_PTE_X) != 0};
        for (int k = 0; k < 3; k++) {
            if (allowed[k])
                rv_xlate_ok(e, va, rv_kinds[k], RV_DATA + 0x70);
            else
                rv_xlate_fault(e, va, rv_kinds[k], VM_FAULT_PAGE, 0, leaf, pte);
        }
    }
}

/* sstatus.MXR: "When MXR=1, loads from pages marked either readable or
 * executable (R=1 or X=1) will succeed." An X-only page is readable only
 * with MXR. */
static void rule_mxr_exec_only_readable(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x80;
    uint64_t pte = rv_pte(RV_DATA, VM_PTE_V | VM_PTE_X | VM_PTE_A | VM_PTE_D);
    vm_gpa_t leaf = rv_map(e, va, pte, 0, NULL);
    rv_xlate_fault(e, va, VM_ACCESS_READ, VM_FAULT_PAGE, 0, leaf, pte);
    rv_xlate_ok(e, va, VM_ACCESS_EXEC, RV_DATA + 0x80);
    vm_mmu_set_mxr(e->mmu, true);
    rv_xlate_ok(e, va, VM_ACCESS_READ, RV_DATA + 0x80);
    /* the load really reads through it */
    rv_poke(e, RV_DATA + 0x80, UINT64_C(0xfeedface12345678));
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(e->mmu, va, 8, &v), VM_OK);
    assert_int_equal(v, UINT64_C(0xfeedface12345678));
    vm_mmu_set_mxr(e->mmu, false);
    rv_xlate_fault(e, va, VM_ACCESS_READ, VM_FAULT_PAGE, 0, leaf, pte);
}

/* MXR "modifies the privilege with which loads access virtual memory":
 * it grants neither stores nor fetches, and does not override U/SUM. */
static void rule_mxr_only_loads(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x88;
    vm_mmu_set_mxr(e->mmu, true);
    /* X-only: write still faults */
    uint64_t xo = rv_pte(RV_DATA, VM_PTE_V | VM_PTE_X | VM_PTE_A | VM_PTE_D);
    vm_gpa_t leaf = rv_map(e, va, xo, 0, NULL);
    rv_xlate_fault(e, va, VM_ACCESS_WRITE, VM_FAULT_PAGE, 0, leaf, xo);
    /* R-only: fetch still faults */
    uint64_t ro = rv_pte(RV_DATA, VM_PTE_V | VM_PTE_R | VM_PTE_A | VM_PTE_D);
    rv_poke(e, leaf, ro);
    vm_mmu_flush_tlb(e->mmu);
    rv_xlate_ok(e, va, VM_ACCESS_READ, RV_DATA + 0x88);
    rv_xlate_fault(e, va, VM_ACCESS_EXEC, VM_FAULT_PAGE, 0, leaf, ro);
    rv_xlate_fault(e, va, VM_ACCESS_WRITE, VM_FAULT_PAGE, 0, leaf, ro);
    /* X-only U page from S with SUM=0: MXR does not bypass the U check */
    uint64_t xu = rv_pte(RV_DATA, VM_PTE_V | VM_PTE_X | VM_PTE_U | VM_PTE_A | VM_PTE_D);
    rv_poke(e, leaf, xu);
    vm_mmu_flush_tlb(e->mmu);
    rv_xlate_fault(e, va, VM_ACCESS_READ, VM_FAULT_PAGE, 0, leaf, xu);
    vm_mmu_set_sum(e->mmu, true);
    rv_xlate_ok(e, va, VM_ACCESS_READ, RV_DATA + 0x88);
    /* and from U, MXR makes the X-only U page readable */
    vm_mmu_set_sum(e->mmu, false);
    vm_mmu_set_priv(e->mmu, VM_PRIV_U);
    rv_xlate_ok(e, va, VM_ACCESS_READ, RV_DATA + 0x88);
    vm_mmu_set_mxr(e->mmu, false);
    rv_xlate_fault(e, va, VM_ACCESS_READ, VM_FAULT_PAGE, 0, leaf, xu);
}

/* sstatus.SUM: S-mode loads/stores to U=1 pages fault unless SUM=1; "S-mode
 * can never execute instructions from user pages, regardless of SUM". */
static void rule_sum_user_page_from_s(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x90;
    uint64_t pte = rv_pte(RV_DATA, RV_LEAF_RWX | VM_PTE_U);
    vm_gpa_t leaf = rv_map(e, va, pte, 0, NULL);
    rv_page_fault_all(e, va, 0, leaf, pte);
    vm_mmu_set_sum(e->mmu, true);
    rv_xlate_ok(e, va, VM_ACCESS_READ, RV_DATA + 0x90);
    rv_xlate_ok(e, va, VM_ACCESS_WRITE, RV_DATA + 0x90);
    rv_xlate_fault(e, va, VM_ACCESS_EXEC, VM_FAULT_PAGE, 0, leaf, pte);
    /* U mode: the page is fully usable; SUM has no effect in U mode */
    vm_mmu_set_priv(e->mmu, VM_PRIV_U);
    rv_xlate_ok_all(e, va, RV_DATA + 0x90);
    vm_mmu_set_sum(e->mmu, false);
    rv_xlate_ok_all(e, va, RV_DATA + 0x90);
}

/* "U-mode software may only access the page when U=1": S pages always
 * fault from U, whatever SUM and MXR say. */
static void rule_supervisor_page_from_u(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0x98;
    uint64_t pte = rv_pte(RV_DATA, RV_LEAF_RWX);
    vm_gpa_t leaf = rv_map(e, va, pte, 0, NULL);
    rv_xlate_ok_all(e, va, RV_DATA + 0x98);
    vm_mmu_set_priv(e->mmu, VM_PRIV_U);
    for (int s = 0; s < 4; s++) {
        vm_mmu_set_sum(e->mmu, s & 1);
        vm_mmu_set_mxr(e->mmu, (s & 2) != 0);
        rv_page_fault_all(e, va, 0, leaf, pte);
    }
}

/* satp is active only in S and U mode ("The satp register must be active");
 * M-mode (no MPRV) uses physical addresses directly, whatever satp says. */
static void rule_mmode_identity(void **state)
{
    struct rv_env *e = *state;
    /* satp points at a root beyond RAM: any walk would access-fault */
    vm_mmu_set_satp(e->mmu, rv_satp(e->m, RV_ASID, RV_BEYOND_RAM));
    vm_mmu_set_priv(e->mmu, VM_PRIV_M);
    const vm_gva_t vas[] = {0, 0x1234, RV_DATA + 0x5678, RV_RAM_SIZE - 8, RV_BEYOND_RAM + 0x10};
    for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++)
        rv_xlate_ok_all(e, vas[i], vas[i]);
    assert_int_equal(vm_mmu_write(e->mmu, RV_DATA + 0x100, 0xabcdef, 4), VM_OK);
    assert_int_equal(rv_peek(e, RV_DATA + 0x100), 0xabcdef);
    /* back in S the walk happens (and faults on the root) */
    vm_mmu_set_priv(e->mmu, VM_PRIV_S);
    vm_gpa_t root_pte = RV_BEYOND_RAM + 8 * rv_vpn(0x1234, e->m->levels - 1);
    rv_xlate_fault(e, 0x1234, VM_ACCESS_READ, VM_FAULT_ACCESS, e->m->levels - 1, root_pte, 0);
}

/* satp.MODE = Bare: "No translation or protection", in S and U mode. */
static void rule_bare_identity(void **state)
{
    struct rv_env *e = *state;
    vm_mmu_set_satp(e->mmu, 0);
    assert_int_equal(vm_mmu_paging_mode(e->mmu), VM_PAGING_BARE);
    for (int p = 0; p < 2; p++) {
        vm_mmu_set_priv(e->mmu, p ? VM_PRIV_S : VM_PRIV_U);
        rv_xlate_ok_all(e, 0x1234, 0x1234);
        rv_xlate_ok_all(e, RV_DATA + 0xff8, RV_DATA + 0xff8);
    }
    /* the root table holds nothing and is not consulted */
    uint64_t v = 0;
    rv_poke(e, RV_DATA, 0x55);
    assert_int_equal(vm_mmu_read(e->mmu, RV_DATA, 8, &v), VM_OK);
    assert_int_equal(v, 0x55);
}

/* Step 2: "If accessing pte violates a PMA or PMP check, raise an
 * access-fault exception corresponding to the original access type":
 * a root (or the whole satp.PPN) beyond RAM. */
static void rule_root_outside_ram(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0xa0;
    const vm_gpa_t roots[] = {RV_BEYOND_RAM, RV_RAM_SIZE, UINT64_C(0xfffffffffff) << 12};
    for (size_t i = 0; i < 3; i++) {
        vm_mmu_set_satp(e->mmu, rv_satp(e->m, RV_ASID, roots[i]));
        vm_mmu_flush_tlb(e->mmu);
        vm_gpa_t slot = roots[i] + 8 * rv_vpn(va, e->m->levels - 1);
        for (int k = 0; k < 3; k++)
            rv_xlate_fault(e, va, rv_kinds[k], VM_FAULT_ACCESS, e->m->levels - 1, slot, 0);
    }
}

/* Step 2 again, at every inner level: a pointer to a table beyond RAM. */
static void rule_inner_pte_outside_ram(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0xa8;
    vm_gpa_t ptes[RV_MAX_LEVELS];
    rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX), 0, ptes);
    rv_xlate_ok_all(e, va, RV_DATA + 0xa8);
    for (int l = e->m->levels - 1; l >= 1; l--) {
        uint64_t orig = rv_peek(e, ptes[l]);
        const vm_gpa_t tables[] = {RV_BEYOND_RAM, RV_RAM_SIZE};
        for (size_t t = 0; t < 2; t++) {
            rv_poke(e, ptes[l], rv_pte(tables[t], VM_PTE_V));
            vm_mmu_flush_tlb(e->mmu);
            vm_gpa_t slot = tables[t] + 8 * rv_vpn(va, l - 1);
            for (int k = 0; k < 3; k++)
                rv_xlate_fault(e, va, rv_kinds[k], VM_FAULT_ACCESS, l - 1, slot, 0);
        }
        rv_poke(e, ptes[l], orig);
    }
}

/* Step 9 without Svade: an access with A=0 sets A; a store with D=0 sets D;
 * only the leaf PTE is updated (non-leaf A/D are reserved). */
static void rule_ad_hardware(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0xb0;
    const uint64_t clean = rv_pte(RV_DATA, VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_X);
    vm_gpa_t ptes[RV_MAX_LEVELS];
    vm_gpa_t leaf = rv_map(e, va, clean, 0, ptes);
    uint64_t ptr_before[RV_MAX_LEVELS];
    for (int l = e->m->levels - 1; l >= 1; l--)
        ptr_before[l] = rv_peek(e, ptes[l]);

    const uint64_t want[3] = {clean | VM_PTE_A, clean | VM_PTE_A | VM_PTE_D, clean | VM_PTE_A};
    for (int k = 0; k < 3; k++) {
        rv_poke(e, leaf, clean);
        vm_mmu_flush_tlb(e->mmu);
        rv_xlate_ok(e, va, rv_kinds[k], RV_DATA + 0xb0);
        assert_int_equal(rv_peek(e, leaf), want[k]);
        for (int l = e->m->levels - 1; l >= 1; l--)
            assert_int_equal(rv_peek(e, ptes[l]), ptr_before[l]);
    }
    /* A already set, D clear: a store sets D */
    rv_poke(e, leaf, clean | VM_PTE_A);
    vm_mmu_flush_tlb(e->mmu);
    rv_xlate_ok(e, va, VM_ACCESS_WRITE, RV_DATA + 0xb0);
    assert_int_equal(rv_peek(e, leaf), clean | VM_PTE_A | VM_PTE_D);
    /* through vm_mmu_read / vm_mmu_write too */
    rv_poke(e, leaf, clean);
    vm_mmu_flush_tlb(e->mmu);
    uint64_t v;
    assert_int_equal(vm_mmu_read(e->mmu, va, 4, &v), VM_OK);
    assert_int_equal(rv_peek(e, leaf), clean | VM_PTE_A);
    assert_int_equal(vm_mmu_write(e->mmu, va, 1, 4), VM_OK);
    assert_int_equal(rv_peek(e, leaf), clean | VM_PTE_A | VM_PTE_D);
}

/* A/D on a superpage leaf: the update goes to the leaf at its level. */
static void rule_ad_hardware_superpage(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0xb8;
    for (int l = 1; l < e->m->levels; l++) {
        const vm_gpa_t base = rv_page_size(l);
        const uint64_t clean = rv_pte(base, VM_PTE_V | VM_PTE_R | VM_PTE_W);
        vm_gpa_t ptes[RV_MAX_LEVELS];
        vm_gpa_t leaf = rv_map(e, va, clean, l, ptes);
        vm_mmu_flush_tlb(e->mmu);
        rv_xlate_ok(e, va, VM_ACCESS_READ, base | (va & (rv_page_size(l) - 1)));
        assert_int_equal(rv_peek(e, leaf), clean | VM_PTE_A);
        rv_xlate_ok(e, va, VM_ACCESS_WRITE, base | (va & (rv_page_size(l) - 1)));
        assert_int_equal(rv_peek(e, leaf), clean | VM_PTE_A | VM_PTE_D);
        for (int p = e->m->levels - 1; p > l; p--)
            assert_int_equal(rv_peek(e, ptes[p]) & (VM_PTE_A | VM_PTE_D), 0);
    }
}

/*
 * The A/D update is part of translation (step 9); the PMA check of the
 * data access comes after the PA exists (step 10, then "checked using any
 * physical memory protection structures"). So a leaf whose PA has no RAM
 * still gets A (and D on a store); the access itself then access-faults.
 */
static void rule_ad_set_when_pa_beyond_ram(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0xc0;
    const uint64_t clean = rv_pte(RV_BEYOND_RAM, VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_X);
    vm_gpa_t leaf = rv_map(e, va, clean, 0, NULL);

    rv_xlate_ok(e, va, VM_ACCESS_READ, RV_BEYOND_RAM + 0xc0);
    assert_int_equal(rv_peek(e, leaf), clean | VM_PTE_A);

    rv_poke(e, leaf, clean);
    vm_mmu_flush_tlb(e->mmu);
    uint64_t v = 0;
    vm_err_t err = vm_mmu_read(e->mmu, va, 8, &v);
    rv_expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, va, RV_ANY_LEVEL, 0, 0);
    assert_int_equal(rv_peek(e, leaf), clean | VM_PTE_A);

    rv_poke(e, leaf, clean);
    vm_mmu_flush_tlb(e->mmu);
    err = vm_mmu_write(e->mmu, va, 0x77, 8);
    rv_expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_WRITE, va, RV_ANY_LEVEL, 0, 0);
    assert_int_equal(rv_peek(e, leaf), clean | VM_PTE_A | VM_PTE_D);

    rv_poke(e, leaf, clean);
    vm_mmu_flush_tlb(e->mmu);
    err = vm_mmu_fetch_insn(e->mmu, va, &v);
    rv_expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_EXEC, va, RV_ANY_LEVEL, 0, 0);
    assert_int_equal(rv_peek(e, leaf), clean | VM_PTE_A);
}

/* Step 9 is reached only when steps 3-8 passed: a walk that faults (on
 * permissions, U/SUM, a misaligned superpage, a reserved bit) must not set
 * A or D. */
static void rule_no_ad_update_on_fault(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0xd0;
    const uint64_t ro = rv_pte(RV_DATA, VM_PTE_V | VM_PTE_R);
    vm_gpa_t leaf = rv_map(e, va, ro, 0, NULL);
    rv_xlate_fault(e, va, VM_ACCESS_WRITE, VM_FAULT_PAGE, 0, leaf, ro);
    rv_xlate_fault(e, va, VM_ACCESS_EXEC, VM_FAULT_PAGE, 0, leaf, ro);
    assert_int_equal(rv_peek(e, leaf), ro);

    const uint64_t user = rv_pte(RV_DATA, VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_X | VM_PTE_U);
    rv_poke(e, leaf, user);
    vm_mmu_flush_tlb(e->mmu);
    rv_page_fault_all(e, va, 0, leaf, user); /* S, SUM = 0 */
    assert_int_equal(rv_peek(e, leaf), user);

    const uint64_t resv = ro | VM_PTE_W | (UINT64_C(1) << 60);
    rv_poke(e, leaf, resv);
    vm_mmu_flush_tlb(e->mmu);
    rv_page_fault_all(e, va, 0, leaf, resv);
    assert_int_equal(rv_peek(e, leaf), resv);

    /* misaligned superpage at level 1 */
    vm_gpa_t leaf1 = rv_map(e, va, rv_pte(rv_page_size(1) + 0x1000, VM_PTE_V | VM_PTE_R | VM_PTE_W),
                            1, NULL);
    vm_mmu_flush_tlb(e->mmu);
    uint64_t mis = rv_peek(e, leaf1);
    rv_page_fault_all(e, va, 1, leaf1, mis);
    assert_int_equal(rv_peek(e, leaf1), mis);
}

/*
 * The PPN is 44 bits wide (Sv39/48/57 PTE: PPN 53:10), so PAs have 56
 * bits; "the algorithm does not admit the possibility of ignoring
 * high-order PPN bits". A PA above RAM must not alias into RAM (a data
 * access there is an access fault).
 */
static void rule_ppn_full_width(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0xd8;
    const int top = e->m->levels - 1;
    for (int l = 0; l <= top; l += top) {
        const uint64_t size = rv_page_size(l);
        /* the highest PPN aligned for this level, and RAM's page + 2^k */
        const vm_gpa_t pas[] = {(UINT64_C(0xfffffffffff) << 12) & ~(size - 1),
                                (UINT64_C(1) << 55) | (RV_DATA & ~(size - 1)),
                                (UINT64_C(1) << 50) | (RV_DATA & ~(size - 1))};
        for (size_t i = 0; i < 3; i++) {
            vm_gpa_t leaf = rv_map(e, va, rv_pte(pas[i], RV_LEAF_RWX), l, NULL);
            (void)leaf;
            vm_mmu_flush_tlb(e->mmu);
            rv_xlate_ok_all(e, va, pas[i] | (va & (size - 1)));
            uint64_t v = 0;
            vm_err_t err = vm_mmu_read(e->mmu, va, 8, &v);
            rv_expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_READ, va, RV_ANY_LEVEL, 0, 0);
            err = vm_mmu_write(e->mmu, va, 0x1234, 8);
            rv_expect_fault(e, err, VM_FAULT_ACCESS, VM_ACCESS_WRITE, va, RV_ANY_LEVEL, 0, 0);
        }
    }
    /* nothing leaked into RAM at the low bits of those PAs */
    assert_int_equal(rv_peek(e, RV_DATA + (va & 0xfff)), 0);
}

/* Svade: "when a virtual page is accessed and the A bit is clear, or is
 * written and the D bit is clear, a page-fault exception is raised"; the
 * PTE is not written. */
static void rule_ad_fault_mode(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m) + 0xc8;
    vm_mmu_set_ad_mode(e->mmu, VM_AD_FAULT);
    const uint64_t rwx = VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_X;

    /* A = 0 (D = 1): every kind faults */
    uint64_t pte = rv_pte(RV_DATA, rwx | VM_PTE_D);
    vm_gpa_t leaf = rv_map(e, va, pte, 0, NULL);
    rv_page_fault_all(e, va, 0, leaf, pte);
    assert_int_equal(rv_peek(e, leaf), pte);

    /* A = 0, D = 0 */
    pte = rv_pte(RV_DATA, rwx);
    rv_poke(e, leaf, pte);
    vm_mmu_flush_tlb(e->mmu);
    rv_page_fault_all(e, va, 0, leaf, pte);
    assert_int_equal(rv_peek(e, leaf), pte);

    /* A = 1, D = 0: loads and fetches fine, stores fault */
    pte = rv_pte(RV_DATA, rwx | VM_PTE_A);
    rv_poke(e, leaf, pte);
    vm_mmu_flush_tlb(e->mmu);
    rv_xlate_ok(e, va, VM_ACCESS_READ, RV_DATA + 0xc8);
    rv_xlate_ok(e, va, VM_ACCESS_EXEC, RV_DATA + 0xc8);
    rv_xlate_fault(e, va, VM_ACCESS_WRITE, VM_FAULT_PAGE, 0, leaf, pte);
    assert_int_equal(rv_peek(e, leaf), pte);
    uint64_t before = rv_peek(e, RV_DATA + 0xc8);
    vm_err_t err = vm_mmu_write(e->mmu, va, ~before, 8);
    rv_expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, va, 0, leaf, pte);
    assert_int_equal(rv_peek(e, RV_DATA + 0xc8), before);

    /* A = 1, D = 1: everything works, nothing written to the PTE */
    pte = rv_pte(RV_DATA, rwx | VM_PTE_A | VM_PTE_D);
    rv_poke(e, leaf, pte);
    vm_mmu_flush_tlb(e->mmu);
    rv_xlate_ok_all(e, va, RV_DATA + 0xc8);
    assert_int_equal(rv_peek(e, leaf), pte);

    /* back to hardware mode: the update happens again */
    vm_mmu_set_ad_mode(e->mmu, VM_AD_HARDWARE);
    pte = rv_pte(RV_DATA, rwx);
    rv_poke(e, leaf, pte);
    vm_mmu_flush_tlb(e->mmu);
    rv_xlate_ok(e, va, VM_ACCESS_WRITE, RV_DATA + 0xc8);
    assert_int_equal(rv_peek(e, leaf), pte | VM_PTE_A | VM_PTE_D);
}

/* satp: "if satp is written with an unsupported MODE, the entire write has
 * no effect; no fields in satp are modified." MODE 1-7, 11-15 are not
 * Bare/Sv39/Sv48/Sv57. */
static void rule_satp_warl(void **state)
{
    struct rv_env *e = *state;
    const uint64_t good = rv_satp(e->m, RV_ASID, RV_ROOT);
    assert_int_equal(vm_mmu_satp(e->mmu), good);
    const uint64_t bad_modes[] = {1, 7, 11, 12, 14, 15};
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        vm_mmu_set_satp(e->mmu, (bad_modes[i] << 60) | (UINT64_C(0x77) << 44) | 0x123);
        assert_int_equal(vm_mmu_satp(e->mmu), good);
        assert_int_equal(vm_mmu_paging_mode(e->mmu), e->m->mode);
    }
    /* the walk still uses the old root */
    const vm_gva_t va = rv_test_va(e->m);
    rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX), 0, NULL);
    rv_xlate_ok_all(e, va, RV_DATA);
    /* a supported MODE is taken, with ASID and PPN */
    const uint64_t other = (UINT64_C(8) << 60) | (UINT64_C(0x1234) << 44) | 0x42;
    vm_mmu_set_satp(e->mmu, other);
    assert_int_equal(vm_mmu_satp(e->mmu), other);
    assert_int_equal(vm_mmu_paging_mode(e->mmu), VM_PAGING_SV39);
    vm_mmu_set_satp(e->mmu, good);
    assert_int_equal(vm_mmu_satp(e->mmu), good);
    assert_int_equal(vm_mmu_paging_mode(e->mmu), e->m->mode);
}

/* A page-crossing access translates both pages first (mmu.h); the fault is
 * reported at the first byte of the part that failed (stval), and nothing
 * is written. */
static void rule_cross_page_fault_va(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m); /* vpn[0] = 3: page 4 shares the table */
    const vm_gva_t va2 = va + 0x1000;
    vm_gpa_t ptes2[RV_MAX_LEVELS];
    rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX), 0, NULL);
    rv_map(e, va2, 0, 0, ptes2); /* second page: V = 0 */
    for (unsigned i = 0; i < 0x1000; i += 8)
        rv_poke(e, RV_DATA + i, 0);

    uint64_t v = 0;
    for (uint8_t size = 2; size <= 8; size *= 2) {
        vm_gva_t a = va + 0x1000 - size / 2;
        vm_err_t err = vm_mmu_read(e->mmu, a, size, &v);
        rv_expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_READ, va2, 0, ptes2[0], 0);
        err = vm_mmu_write(e->mmu, a, ~UINT64_C(0), size);
        rv_expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, va2, 0, ptes2[0], 0);
        assert_int_equal(rv_peek(e, RV_DATA + 0xff8), 0);
    }
    /* second page read-only: the store faults on it, the first is untouched */
    uint64_t ro = rv_pte(RV_DATA + 0x1000, VM_PTE_V | VM_PTE_R | VM_PTE_A | VM_PTE_D);
    rv_poke(e, ptes2[0], ro);
    vm_mmu_flush_tlb(e->mmu);
    vm_err_t err = vm_mmu_write(e->mmu, va + 0xffc, ~UINT64_C(0), 8);
    rv_expect_fault(e, err, VM_FAULT_PAGE, VM_ACCESS_WRITE, va2, 0, ptes2[0], ro);
    assert_int_equal(rv_peek(e, RV_DATA + 0xff8), 0);
    assert_int_equal(vm_mmu_read(e->mmu, va + 0xffc, 8, &v), VM_OK);
    /* first page faulting: reported at the access address */
    vm_err_t err2 = vm_mmu_read(e->mmu, va - 4, 8, &v);
    rv_expect_fault(e, err2, VM_FAULT_PAGE, VM_ACCESS_READ, va - 4, RV_ANY_LEVEL, 0, 0);
}

/* Strict alignment (mmu.h, seed: natural alignment for 2/4/8, the 4-byte
 * fetch included): misaligned -> address-misaligned 4/6/0, no translation
 * side effects needed. Off: the same accesses work. */
static void rule_strict_alignment(void **state)
{
    struct rv_env *e = *state;
    const vm_gva_t va = rv_test_va(e->m);
    vm_gpa_t leaf = rv_map(e, va, rv_pte(RV_DATA, RV_LEAF_RWX), 0, NULL);
    (void)leaf;
    rv_poke(e, RV_DATA, UINT64_C(0x8877665544332211));
    rv_poke(e, RV_DATA + 8, UINT64_C(0x00ffeeddccbbaa99));
    uint64_t v = 0;

    vm_mmu_set_strict_align(e->mmu, true);
    const struct { vm_gva_t off; uint8_t size; } mis[] = {{1, 2}, {2, 4}, {1, 4}, {4, 8}, {7, 8}};
    for (size_t i = 0; i < sizeof(mis) / sizeof(mis[0]); i++) {
        vm_err_t err = vm_mmu_read(e->mmu, va + mis[i].off, mis[i].size, &v);
        rv_expect_fault(e, err, VM_FAULT_MISALIGNED, VM_ACCESS_READ, va + mis[i].off,
                        RV_ANY_LEVEL, 0, 0);
        err = vm_mmu_write(e->mmu, va + mis[i].off, 0, mis[i].size);
        rv_expect_fault(e, err, VM_FAULT_MISALIGNED, VM_ACCESS_WRITE, va + mis[i].off,
                        RV_ANY_LEVEL, 0, 0);
    }
    vm_err_t err = vm_mmu_fetch_insn(e->mmu, va + 2, &v);
    rv_expect_fault(e, err, VM_FAULT_MISALIGNED, VM_ACCESS_EXEC, va + 2, RV_ANY_LEVEL, 0, 0);
    assert_int_equal(rv_peek(e, RV_DATA), UINT64_C(0x8877665544332211));
    /* aligned accesses still work under strict */
    assert_int_equal(vm_mmu_read(e->mmu, va + 4, 4, &v), VM_OK);
    assert_int_equal(v, 0x88776655);
    assert_int_equal(vm_mmu_fetch_insn(e->mmu, va + 4, &v), VM_OK);
    assert_int_equal(v, 0x88776655);
    assert_int_equal(vm_mmu_read(e->mmu, va + 3, 1, &v), VM_OK);
    assert_int_equal(v, 0x44);

    vm_mmu_set_strict_align(e->mmu, false);
    assert_int_equal(vm_mmu_read(e->mmu, va + 7, 8, &v), VM_OK);
    assert_int_equal(v, UINT64_C(0xffeeddccbbaa9988));
    assert_int_equal(vm_mmu_fetch_insn(e->mmu, va + 2, &v), VM_OK);
    assert_int_equal(v, 0x66554433);
}

/* ---- Runner ------------------------------------------------------------------ */

struct rv_rule {
    const char *name;
    CMUnitTestFunction fn;
};

static const struct rv_rule rv_rules[] = {
    {"noncanonical", rule_noncanonical},
    {"v0_each_level", rule_v0_each_level},
    {"w_without_r", rule_w_without_r},
    {"reserved_bits", rule_reserved_bits},
    {"rsw_ignored", rule_rsw_ignored},
    {"nonleaf_dau", rule_nonleaf_dau},
    {"nonleaf_g_ok", rule_nonleaf_g_ok},
    {"pointer_at_level0", rule_pointer_at_level0},
    {"leaf_every_level", rule_leaf_every_level},
    {"misaligned_superpage", rule_misaligned_superpage},
    {"rwx_matrix", rule_rwx_matrix},
    {"mxr_exec_only_readable", rule_mxr_exec_only_readable},
    {"mxr_only_loads", rule_mxr_only_loads},
    {"sum_user_page_from_s", rule_sum_user_page_from_s},
    {"supervisor_page_from_u", rule_supervisor_page_from_u},
    {"mmode_identity", rule_mmode_identity},
    {"bare_identity", rule_bare_identity},
    {"root_outside_ram", rule_root_outside_ram},
    {"inner_pte_outside_ram", rule_inner_pte_outside_ram},
    {"ad_hardware", rule_ad_hardware},
    {"ad_hardware_superpage", rule_ad_hardware_superpage},
    {"ad_set_when_pa_beyond_ram", rule_ad_set_when_pa_beyond_ram},
    {"ad_fault_mode", rule_ad_fault_mode},
    {"no_ad_update_on_fault", rule_no_ad_update_on_fault},
    {"ppn_full_width", rule_ppn_full_width},
    {"satp_warl", rule_satp_warl},
    {"cross_page_fault_va", rule_cross_page_fault_va},
    {"strict_alignment", rule_strict_alignment},
};

#define RV_NRULES (sizeof(rv_rules) / sizeof(rv_rules[0]))

/* Run every rule for mode m as test_<m->name>_<rule>. */
static int rv_run_rules(const struct rv_mode *m)
{
    static struct CMUnitTest tests[RV_NRULES];
    static char names[RV_NRULES][64];
    char group[32];
    for (size_t i = 0; i < RV_NRULES; i++) {
        snprintf(names[i], sizeof(names[i]), "test_%s_%s", m->name, rv_rules[i].name);
        tests[i].name = names[i];
        tests[i].test_func = rv_rules[i].fn;
        tests[i].setup_func = rv_setup;
        tests[i].teardown_func = rv_teardown;
        tests[i].initial_state = (void *)m;
    }
    snprintf(group, sizeof(group), "%s_rules", m->name);
    return _cmocka_run_group_tests(group, tests, RV_NRULES, NULL, NULL);
}

#endif /* RV_RULES_COMMON_H */
