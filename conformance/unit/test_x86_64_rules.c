/*
 * test_x86_64_rules.c - x86-64 paging (VM_PAGING_X86_64) against the rules
 * of Intel SDM Vol. 3A chapter 4, one test per rule, each run twice: with
 * 4-level paging (test_x86_4level_<rule>) and with 5-level paging
 * (CR4.LA57 = 1, test_x86_5level_<rule>).
 *
 * How it works: every test gets a fresh MMU (8 MiB RAM) in
 * VM_PAGING_X86_64 with CR0 = PE|PG|WP, CR4 = PAE (|LA57), EFER = LME|NXE,
 * CPL 0, CR3 = an empty root table. Paging structures are written here
 * entry by entry with vm_mmu_write_phys (raw 8-byte values); the builder
 * is deliberately not used, so a builder bug cannot hide a walker bug.
 * Expected values - translated addresses, page-fault error codes (P 1, W/R
 * 2, U/S 4, RSVD 8, I/D 16, PK 32), levels (5 PML5 .. 1 PT) and A/D bits -
 * come from the SDM text quoted or cited at each test and from the
 * contracts in vmmem/x86_64.h and vmmem/mmu.h, never from running vmmem.
 * Negative tests first prove the mapping translates (a positive control),
 * then break exactly one thing, flush, and expect the fault.
 *
 * Rejected: using vm_ptbuilder_map_x86_64 for the tables (see above), and
 * one source file per paging depth (the rules are the same; the depth
 * comes from the fixture, as in rv_rules_common.h).
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

/* ---- Fixture ----------------------------------------------------------- */

struct x_mode {
    const char *name;
    bool la57;
    unsigned levels;  /* 4 or 5 */
    unsigned va_bits; /* 48 or 57 */
};

#define X_RAM (UINT64_C(8) << 20)
#define X_ROOT UINT64_C(0x10000)
#define X_TABLES_END UINT64_C(0x100000)
#define X_DATA UINT64_C(0x200000)
#define X_BEYOND_RAM UINT64_C(0x40000000) /* 1 GiB: no RAM, no MMIO */

#define PF_P VM_X86_PFEC_P
#define PF_W VM_X86_PFEC_W
#define PF_U VM_X86_PFEC_U
#define PF_RSVD VM_X86_PFEC_RSVD
#define PF_I VM_X86_PFEC_I
#define PF_PK VM_X86_PFEC_PK

#define E_P VM_X86_PTE_P
#define E_RW VM_X86_PTE_RW
#define E_US VM_X86_PTE_US
#define E_A VM_X86_PTE_A
#define E_D VM_X86_PTE_D
#define E_PS VM_X86_PTE_PS
#define E_G VM_X86_PTE_G
#define E_XD VM_X86_PTE_XD
#define E_UPPER (E_P | E_RW | E_US) /* a table reference granting everything */
#define E_LEAF (E_P | E_RW | E_US | E_A | E_D)

struct x_env {
    const struct x_mode *m;
    vm_mmu_t *mmu;
    vm_gpa_t next_table;
    vm_x86_regs_t regs;
};

static const vm_access_t x_kinds[3] = {VM_ACCESS_READ, VM_ACCESS_WRITE, VM_ACCESS_EXEC};

static void x_poke(struct x_env *e, vm_gpa_t pa, uint64_t val)
{
    assert_int_equal(vm_mmu_write_phys(e->mmu, pa, val, 8), VM_OK);
}

static uint64_t x_peek(struct x_env *e, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(e->mmu, pa, 8, &v), VM_OK);
    return v;
}

static void x_apply(struct x_env *e)
{
    assert_int_equal(vm_mmu_set_x86_regs(e->mmu, &e->regs), VM_OK);
}

static vm_gpa_t x_alloc_table(struct x_env *e)
{
    vm_gpa_t t = e->next_table;
    assert_true(t < X_TABLES_END);
    e->next_table += 0x1000;
    for (unsigned i = 0; i < 512; i++)
        x_poke(e, t + 8 * i, 0);
    return t;
}

static int x_setup(void **state)
{
    struct x_env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->m = *state;
    e->mmu = vm_mmu_new(X_RAM, false);
    assert_non_null(e->mmu);
    vm_mmu_set_strict_align(e->mmu, false);
    e->next_table = X_ROOT;
    assert_int_equal(x_alloc_table(e), X_ROOT);
    vm_mmu_set_paging_mode(e->mmu, VM_PAGING_X86_64);
    e->regs = (vm_x86_regs_t){
        .cr0 = VM_X86_CR0_PE | VM_X86_CR0_PG | VM_X86_CR0_WP,
        .cr3 = X_ROOT,
        .cr4 = VM_X86_CR4_PAE | (e->m->la57 ? VM_X86_CR4_LA57 : 0),
        .efer = VM_X86_EFER_LME | VM_X86_EFER_NXE,
    };
    x_apply(e);
    *state = e;
    return 0;
}

static int x_teardown(void **state)
{
    struct x_env *e = *state;
    vm_mmu_free(e->mmu);
    free(e);
    return 0;
}

/* ---- Raw paging structures --------------------------------------------- */

static unsigned x_index(vm_gva_t va, unsigned level)
{
    return (unsigned)(va >> (12 + 9 * (level - 1))) & 511u;
}

/*
 * Map va with `leaf` (a complete entry value) written at `level` (1 PTE, 2
 * PDE, 3 PDPTE), creating entries `upper | P` referencing fresh tables
 * above it where none is present. slots[l] receives the address of the
 * entry used at level l. Does not flush.
 */
static void x_map(struct x_env *e, vm_gva_t va, uint64_t leaf, unsigned level, uint64_t upper,
                  vm_gpa_t slots[6])
{
    vm_gpa_t table = X_ROOT;
    for (unsigned l = e->m->levels;; l--) {
        vm_gpa_t slot = table + 8u * x_index(va, l);
        if (slots)
            slots[l] = slot;
        if (l == level) {
            x_poke(e, slot, leaf);
            return;
        }
        uint64_t entry = x_peek(e, slot);
        if (!(entry & E_P) || (l <= 3 && (entry & E_PS))) {
            vm_gpa_t next = x_alloc_table(e);
            x_poke(e, slot, next | upper | E_P);
            table = next;
        } else {
            table = entry & UINT64_C(0x000ffffffffff000);
        }
    }
}

/* A canonical low-half VA whose index fields are all non-zero and distinct
 * (index at level l = 2l + 1), so an index from the wrong level shows. */
static vm_gva_t x_test_va(const struct x_mode *m)
{
    vm_gva_t va = 0;
    for (unsigned l = 1; l <= m->levels; l++)
        va |= (vm_gva_t)(2 * l + 1) << (12 + 9 * (l - 1));
    return va;
}

/* ---- Expectations ------------------------------------------------------ */

#define X_NO_LEVEL (-1)

static void x_ok(struct x_env *e, vm_gva_t va, vm_access_t acc, vm_gpa_t want)
{
    vm_gpa_t pa = 0xdead;
    vm_err_t err = vm_mmu_translate(e->mmu, va, acc, &pa);
    if (err != VM_OK)
        print_error("translate(0x%llx, access %d): %s (%s, code 0x%x)\n", (unsigned long long)va,
                    (int)acc, vm_strerror(err), vm_mmu_last_fault(e->mmu)->reason,
                    vm_mmu_last_fault(e->mmu)->syndrome);
    assert_int_equal(err, VM_OK);
    assert_int_equal(pa, want);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_NONE);
}

static void x_ok_all(struct x_env *e, vm_gva_t va, vm_gpa_t want)
{
    for (int k = 0; k < 3; k++)
        x_ok(e, va, x_kinds[k], want);
}

/* A #PF (vector 14) with error code `code`, stopped at `level` on the entry
 * at entry_addr holding `entry` (level X_NO_LEVEL: no entry recorded). */
static void x_pf(struct x_env *e, vm_gva_t va, vm_access_t acc, uint32_t code, int level,
                 vm_gpa_t entry_addr, uint64_t entry)
{
    vm_gpa_t pa = 0xdead;
    vm_err_t err = vm_mmu_translate(e->mmu, va, acc, &pa);
    const vm_fault_t *f = vm_mmu_last_fault(e->mmu);
    if (err != VM_ERR_PAGE_FAULT || f->syndrome != code || f->level != level)
        print_error("translate(0x%llx, access %d): %s, code 0x%x level %d (%s); want #PF code "
                    "0x%x level %d\n",
                    (unsigned long long)va, (int)acc, vm_strerror(err), f->syndrome, f->level,
                    f->reason, code, level);
    assert_int_equal(err, VM_ERR_PAGE_FAULT);
    assert_int_equal(f->kind, VM_FAULT_PAGE);
    assert_int_equal(f->cause, VM_X86_VEC_PF);
    assert_int_equal(f->syndrome, code);
    assert_int_equal(f->va, va);
    assert_int_equal(f->access, acc);
    assert_int_equal(f->level, level);
    if (level >= 0) {
        assert_int_equal(f->pte_addr, entry_addr);
        assert_int_equal(f->pte, entry);
    }
}

/* The error-code bits that describe the access (SDM 4.7): W/R for a write,
 * U/S for CPL 3, I/D for a fetch when CR4.SMEP = 1 or EFER.NXE = 1. */
static uint32_t x_access_code(const struct x_env *e, vm_access_t acc)
{
    uint32_t c = 0;
    if (acc == VM_ACCESS_WRITE)
        c |= PF_W;
    if (e->regs.cpl == 3)
        c |= PF_U;
    if (acc == VM_ACCESS_EXEC &&
        ((e->regs.cr4 & VM_X86_CR4_SMEP) || (e->regs.efer & VM_X86_EFER_NXE)))
        c |= PF_I;
    return c;
}

static void x_gp(struct x_env *e, vm_gva_t va, vm_access_t acc)
{
    vm_gpa_t pa = 0xdead;
    vm_err_t err = vm_mmu_translate(e->mmu, va, acc, &pa);
    const vm_fault_t *f = vm_mmu_last_fault(e->mmu);
    assert_int_equal(err, VM_ERR_GP_FAULT);
    assert_int_equal(f->kind, VM_FAULT_GP);
    assert_int_equal(f->cause, VM_X86_VEC_GP);
    assert_int_equal(f->syndrome, 0);
    assert_int_equal(f->level, -1);
    assert_int_equal(f->va, va);
    assert_int_equal(f->access, acc);
}

/* ---- Rules ------------------------------------------------------------- */

/*
 * Canonical addresses (SDM Vol. 3A 4.5.1 "linear addresses ... must be
 * canonical"; Vol. 1 3.3.7.1): bits 63:47 (63:56 with LA57) must all equal
 * bit 47 (56), else #GP - never a page fault (vmmem/x86_64.h). With CR3
 * pointing at no RAM, a canonical VA gets the access fault of the root
 * read while a non-canonical one still gets #GP: the check comes first.
 */
static void rule_canonical_gp(void **state)
{
    struct x_env *e = *state;
    const unsigned vb = e->m->va_bits;
    const vm_gva_t half = UINT64_C(1) << (vb - 1);
    const vm_gva_t high_start = ~UINT64_C(0) << (vb - 1);
    const vm_gva_t low_top = half - 0x1000;

    x_map(e, high_start, X_DATA | E_LEAF, 1, E_UPPER, NULL);
    x_map(e, low_top, (X_DATA + 0x1000) | E_LEAF, 1, E_UPPER, NULL);
    x_ok_all(e, high_start + 0x10, X_DATA + 0x10);
    x_ok_all(e, low_top + 0xfff, X_DATA + 0x1fff);

    const vm_gva_t bad[] = {
        half, half + 0x10, high_start - 1, high_start - 0x1000, UINT64_C(1) << 63,
        ~UINT64_C(0) ^ (UINT64_C(1) << 63),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        for (int k = 0; k < 3; k++)
            x_gp(e, bad[i], x_kinds[k]);

    /* Through the access functions too. */
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(e->mmu, half, 8, &v), VM_ERR_GP_FAULT);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_GP);
    assert_int_equal(vm_mmu_write(e->mmu, half, 1, 4), VM_ERR_GP_FAULT);
    assert_int_equal(vm_mmu_fetch_insn(e->mmu, high_start - 4, &v), VM_ERR_GP_FAULT);

    /* Before any paging-structure read. */
    e->regs.cr3 = X_BEYOND_RAM;
    x_apply(e);
    vm_gpa_t pa;
    assert_int_equal(vm_mmu_translate(e->mmu, 0x1000, VM_ACCESS_READ, &pa), VM_ERR_ACCESS_FAULT);
    x_gp(e, half, VM_ACCESS_READ);
}

/* An access crossing from the last canonical low-half page into the
 * non-canonical hole: the second part is #GP (BUG-CLASSES 17), recorded at
 * its first byte (vmmem/mmu.h), and nothing is written. */
static void rule_canonical_page_crossing(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t half = UINT64_C(1) << (e->m->va_bits - 1);
    x_map(e, half - 0x1000, X_DATA | E_LEAF, 1, E_UPPER, NULL);
    x_poke(e, X_DATA + 0xff8, 0x1111111111111111);
    assert_int_equal(vm_mmu_write(e->mmu, half - 4, UINT64_C(0x2222222222222222), 8),
                     VM_ERR_GP_FAULT);
    const vm_fault_t *f = vm_mmu_last_fault(e->mmu);
    assert_int_equal(f->kind, VM_FAULT_GP);
    assert_int_equal(f->va, half);
    assert_int_equal(f->access, VM_ACCESS_WRITE);
    assert_int_equal(x_peek(e, X_DATA + 0xff8), 0x1111111111111111);
    uint64_t v;
    assert_int_equal(vm_mmu_read(e->mmu, half - 2, 4, &v), VM_ERR_GP_FAULT);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->va, half);
    assert_int_equal(vm_mmu_read(e->mmu, half - 8, 8, &v), VM_OK);
    assert_int_equal(v, 0x1111111111111111);
}

/* 5-level paging (4.5.1): 57-bit linear addresses, so a VA with bit 47 set
 * and bits 63:56 clear is canonical and translated through PML5E index
 * bits 56:48; with 4-level paging it is #GP. */
static void rule_la57_width(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = (UINT64_C(0x1f) << 48) | (UINT64_C(1) << 47) | 0x5000;
    if (!e->m->la57) {
        x_gp(e, va, VM_ACCESS_READ);
        return;
    }
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    assert_int_equal(slots[5], X_ROOT + 8 * 0x1f);
    assert_int_equal(slots[4] & 0xfff, 8 * 256);
    x_ok_all(e, va + 0x321, X_DATA + 0x321);
}

/* 4.5.4, Figure 4-8/Table 4-20: a 4-KByte page; the PA is the PTE's bits
 * M-1:12 and the VA's bits 11:0. Also the default MAXPHYADDR 52 (bit 51
 * is an address bit). */
static void rule_translate_4k(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    x_ok_all(e, va, X_DATA);
    x_ok_all(e, va + 0xabc, X_DATA + 0xabc);
    uint64_t v = 0;
    x_poke(e, X_DATA + 0x10, UINT64_C(0x1122334455667788));
    assert_int_equal(vm_mmu_read(e->mmu, va + 0x10, 8, &v), VM_OK);
    assert_int_equal(v, UINT64_C(0x1122334455667788));
    /* The neighbouring page is not mapped: P = 0 in its PTE. */
    x_pf(e, va + 0x1000, VM_ACCESS_READ, 0, 1, slots[1] + 8, 0);
    /* Bit 51 is an address bit with MAXPHYADDR 52: no reserved-bit fault. */
    x_poke(e, slots[1], (UINT64_C(1) << 51) | X_DATA | E_LEAF);
    vm_mmu_flush_tlb(e->mmu);
    x_ok(e, va + 4, VM_ACCESS_READ, (UINT64_C(1) << 51) | X_DATA | 4);
}

/* 4.5.4, Table 4-18: a PDE with PS = 1 maps a 2-MByte page; the PA is the
 * PDE's bits M-1:21 and the VA's bits 20:0. Bit 12 is PAT, not address. */
static void rule_translate_2m(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m) & ~UINT64_C(0x1fffff);
    const vm_gpa_t pa = UINT64_C(0x400000);
    x_map(e, va, pa | E_PS | VM_X86_PTE_PAT_LARGE | E_LEAF, 2, E_UPPER, NULL);
    x_ok_all(e, va, pa);
    x_ok_all(e, va + 0x12345, pa + 0x12345);
    x_ok_all(e, va + 0x1fffff, pa + 0x1fffff);
    uint64_t v = 0;
    x_poke(e, pa + 0x100008, 0x5a5a);
    assert_int_equal(vm_mmu_read(e->mmu, va + 0x100008, 8, &v), VM_OK);
    assert_int_equal(v, 0x5a5a);
}

/* 4.5.4, Table 4-16: a PDPTE with PS = 1 maps a 1-GByte page; the PA is
 * the PDPTE's bits M-1:30 and the VA's bits 29:0. */
static void rule_translate_1g(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m) & ~UINT64_C(0x3fffffff);
    const vm_gpa_t pa = UINT64_C(0x1c0000000); /* 7 GiB: no RAM, translation only */
    x_map(e, va, pa | E_PS | VM_X86_PTE_PAT_LARGE | E_LEAF, 3, E_UPPER, NULL);
    x_ok_all(e, va, pa);
    x_ok_all(e, va + 0x12345678, pa + 0x12345678);
    x_ok_all(e, va + 0x3fffffff, pa + 0x3fffffff);
}

/* Tables 4-14/4-15: bit 7 (PS) of a PML5E and a PML4E is "Reserved (must be
 * 0)": a reserved-bit fault (P = 1, RSVD = 1, 4.7) at that level. */
static void rule_ps_reserved_top(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    x_ok_all(e, va, X_DATA);
    for (unsigned l = e->m->levels; l >= 4; l--) {
        uint64_t orig = x_peek(e, slots[l]);
        x_poke(e, slots[l], orig | E_PS);
        vm_mmu_flush_tlb(e->mmu);
        for (int k = 0; k < 3; k++)
            x_pf(e, va, x_kinds[k], x_access_code(e, x_kinds[k]) | PF_P | PF_RSVD, (int)l,
                 slots[l], orig | E_PS);
        x_poke(e, slots[l], orig);
        vm_mmu_flush_tlb(e->mmu);
        x_ok_all(e, va, X_DATA);
    }
}

/* 4.7: P flag "0 if there is no translation for the linear address because
 * the P flag was 0 in one of the paging-structure entries used"; the walk
 * stops at that level. Checked at every level, supervisor and user. */
static void rule_not_present_each_level(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m) + 0x678;
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
        e->regs.cpl = (uint8_t)cpl;
        x_apply(e);
        x_ok_all(e, va, X_DATA + 0x678);
        for (unsigned l = e->m->levels; l >= 1; l--) {
            uint64_t orig = x_peek(e, slots[l]);
            uint64_t broken = orig & ~E_P;
            x_poke(e, slots[l], broken);
            vm_mmu_flush_tlb(e->mmu);
            for (int k = 0; k < 3; k++)
                x_pf(e, va, x_kinds[k], x_access_code(e, x_kinds[k]), (int)l, slots[l], broken);
            x_poke(e, slots[l], orig);
            vm_mmu_flush_tlb(e->mmu);
            x_ok_all(e, va, X_DATA + 0x678);
        }
    }
}

/* 4.7: "reserved bits are not checked in a paging-structure entry whose P
 * flag is 0, [so] bit 3 of the error code can be set only if bit 0 is also
 * set": a not-present entry full of reserved bits is a plain P = 0 fault. */
static void rule_not_present_ignores_reserved(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    e->regs.efer &= ~VM_X86_EFER_NXE; /* XD becomes reserved */
    e->regs.maxphyaddr = 36;
    x_apply(e);
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    x_ok(e, va, VM_ACCESS_READ, X_DATA);
    const unsigned top = e->m->levels;
    const uint64_t junk = E_XD | (UINT64_C(1) << 51) | (UINT64_C(1) << 40) | E_PS;
    uint64_t orig = x_peek(e, slots[top]);
    x_poke(e, slots[top], (orig & ~E_P) | junk);
    vm_mmu_flush_tlb(e->mmu);
    for (int k = 0; k < 3; k++)
        x_pf(e, va, x_kinds[k], x_access_code(e, x_kinds[k]), (int)top, slots[top],
             (orig & ~E_P) | junk);
    /* The same bits in a present entry are a reserved-bit fault. */
    x_poke(e, slots[top], orig | junk);
    vm_mmu_flush_tlb(e->mmu);
    x_pf(e, va, VM_ACCESS_READ, PF_P | PF_RSVD, (int)top, slots[top], orig | junk);
}

/* Tables 4-14 .. 4-20: bits 51:M are "Reserved (must be 0)" in every entry
 * type (M = MAXPHYADDR; footnote to 4.5: "bits in the range
 * 51:MAXPHYADDR will be 0 in any physical address used"). Bit M-1 is an
 * address bit. */
static void rule_reserved_above_maxphyaddr(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    e->regs.maxphyaddr = 36;
    x_apply(e);
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    x_ok_all(e, va, X_DATA);
    const unsigned bits[] = {36, 44, 51};
    for (unsigned l = e->m->levels; l >= 1; l--)
        for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++) {
            uint64_t orig = x_peek(e, slots[l]);
            uint64_t bad = orig | (UINT64_C(1) << bits[b]);
            x_poke(e, slots[l], bad);
            vm_mmu_flush_tlb(e->mmu);
            for (int k = 0; k < 3; k++)
                x_pf(e, va, x_kinds[k], x_access_code(e, x_kinds[k]) | PF_P | PF_RSVD, (int)l,
                     slots[l], bad);
            x_poke(e, slots[l], orig);
        }
    /* Bit 35 of the PTE is an address bit. */
    x_poke(e, slots[1], (UINT64_C(1) << 35) | X_DATA | E_LEAF);
    vm_mmu_flush_tlb(e->mmu);
    x_ok(e, va + 8, VM_ACCESS_READ, (UINT64_C(1) << 35) | X_DATA | 8);
    /* With MAXPHYADDR 52 the same bit 44 is an address bit again (the
     * change of MAXPHYADDR flushes, vmmem/x86_64.h). */
    x_poke(e, slots[1], (UINT64_C(1) << 44) | X_DATA | E_LEAF);
    e->regs.maxphyaddr = 52;
    x_apply(e);
    x_ok(e, va, VM_ACCESS_READ, (UINT64_C(1) << 44) | X_DATA);
}

/* Table 4-16 (1-GByte page): bits 29:13 "Reserved (must be 0)", bit 12
 * PAT; Table 4-18 (2-MByte page): bits 20:13 reserved, bit 12 PAT; Table
 * 4-20 (PTE): bit 7 is PAT, not PS. */
static void rule_reserved_large_page_low_bits(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va2 = x_test_va(e->m) & ~UINT64_C(0x1fffff);
    const vm_gva_t va1 = (x_test_va(e->m) & ~UINT64_C(0x3fffffff)) + (UINT64_C(1) << 39);
    const vm_gva_t va4 = x_test_va(e->m) + (UINT64_C(2) << 30);
    vm_gpa_t s2[6], s1[6], s4[6];
    const uint64_t pde = UINT64_C(0x400000) | E_PS | E_LEAF;
    const uint64_t pdpte = UINT64_C(0x80000000) | E_PS | E_LEAF;
    x_map(e, va2, pde, 2, E_UPPER, s2);
    x_map(e, va1, pdpte, 3, E_UPPER, s1);
    x_map(e, va4, X_DATA | VM_X86_PTE_PS /* PAT */ | E_LEAF, 1, E_UPPER, s4);
    x_ok_all(e, va2 + 0x1234, 0x401234);
    x_ok_all(e, va1 + 0x1234, 0x80001234);
    x_ok_all(e, va4 + 0x10, X_DATA + 0x10);

    const unsigned pde_bad[] = {13, 16, 20};
    for (size_t i = 0; i < 3; i++) {
        uint64_t bad = pde | (UINT64_C(1) << pde_bad[i]);
        x_poke(e, s2[2], bad);
        vm_mmu_flush_tlb(e->mmu);
        x_pf(e, va2, VM_ACCESS_READ, PF_P | PF_RSVD, 2, s2[2], bad);
        x_pf(e, va2, VM_ACCESS_WRITE, PF_P | PF_W | PF_RSVD, 2, s2[2], bad);
    }
    const unsigned pdpte_bad[] = {13, 21, 29};
    for (size_t i = 0; i < 3; i++) {
        uint64_t bad = pdpte | (UINT64_C(1) << pdpte_bad[i]);
        x_poke(e, s1[3], bad);
        vm_mmu_flush_tlb(e->mmu);
        x_pf(e, va1, VM_ACCESS_EXEC, PF_P | PF_I | PF_RSVD, 3, s1[3], bad);
    }
    /* PAT (bit 12) is not part of the address; bit 21 / 30 are. */
    x_poke(e, s2[2], pde | VM_X86_PTE_PAT_LARGE | (UINT64_C(1) << 21));
    x_poke(e, s1[3], pdpte | VM_X86_PTE_PAT_LARGE | (UINT64_C(1) << 30));
    vm_mmu_flush_tlb(e->mmu);
    x_ok(e, va2 + 0x10, VM_ACCESS_READ, 0x600010);
    x_ok(e, va1 + 0x10, VM_ACCESS_READ, 0xc0000010);
}

/* Tables 4-14 .. 4-20, bit 63: "If IA32_EFER.NXE = 1, execute-disable ...;
 * otherwise, reserved (must be 0)". */
static void rule_xd_reserved_without_nxe(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF | E_XD, 1, E_UPPER | E_XD, slots);
    /* NXE = 1: XD only forbids fetches. */
    x_ok(e, va, VM_ACCESS_READ, X_DATA);
    x_ok(e, va, VM_ACCESS_WRITE, X_DATA);
    x_pf(e, va, VM_ACCESS_EXEC, PF_P | PF_I, 1, slots[1], X_DATA | E_LEAF | E_XD);
    /* NXE = 0 (flushes): XD in the top entry is reserved; the walk stops there. */
    e->regs.efer &= ~VM_X86_EFER_NXE;
    x_apply(e);
    const unsigned top = e->m->levels;
    const uint64_t top_entry = x_peek(e, slots[top]);
    x_pf(e, va, VM_ACCESS_READ, PF_P | PF_RSVD, (int)top, slots[top], top_entry);
    x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W | PF_RSVD, (int)top, slots[top], top_entry);
    /* Without NXE and SMEP the I/D flag stays 0 (4.7). */
    x_pf(e, va, VM_ACCESS_EXEC, PF_P | PF_RSVD, (int)top, slots[top], top_entry);
    /* Clear XD everywhere but in the PTE: reserved there too. */
    for (unsigned l = top; l >= 2; l--)
        x_poke(e, slots[l], x_peek(e, slots[l]) & ~E_XD);
    vm_mmu_flush_tlb(e->mmu);
    x_pf(e, va, VM_ACCESS_READ, PF_P | PF_RSVD, 1, slots[1], X_DATA | E_LEAF | E_XD);
    x_poke(e, slots[1], X_DATA | E_LEAF);
    vm_mmu_flush_tlb(e->mmu);
    x_ok_all(e, va, X_DATA);
}

/* Ignored bits are ignored: in entries that reference a table bits 62:52,
 * 11:8 and 6 (Tables 4-14, 4-15, 4-17, 4-19), in entries that map a page
 * bits 58:52 and 11:9, and 62:59 when CR4.PKE = 0 ("ignored otherwise"). */
static void rule_ignored_bits(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    const vm_gva_t va2 = va + (UINT64_C(1) << 30); /* a 2 MiB page next to it */
    const uint64_t upper_ign = (UINT64_C(0x7ff) << 52) | (UINT64_C(0xf) << 8) | E_D;
    const uint64_t leaf_ign = (UINT64_C(0x7f) << 52) | (UINT64_C(0x7) << 9) |
                              VM_X86_PTE_PKEY_MASK;
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF | leaf_ign, 1, E_UPPER | upper_ign, slots);
    x_map(e, va2 & ~UINT64_C(0x1fffff), UINT64_C(0x600000) | E_PS | E_LEAF | leaf_ign, 2,
          E_UPPER | upper_ign, NULL);
    x_ok_all(e, va + 0x44, X_DATA + 0x44);
    x_ok_all(e, va2 + 0x44, 0x600000 + (va2 & 0x1fffff) + 0x44);
    /* The walk wrote nothing but A/D: the ignored bits are intact. */
    for (unsigned l = e->m->levels; l >= 2; l--)
        assert_int_equal(x_peek(e, slots[l]) & upper_ign, upper_ign);
    assert_int_equal(x_peek(e, slots[1]) & leaf_ign, leaf_ign);
}

/* 4.7: a page fault happens either because "there is no translation"
 * (P = 0 or a reserved bit) or because "there is a translation ... but its
 * access rights do not permit the access". A reserved or not-present
 * entry below an entry that already denies the access wins: rights are
 * judged only on a complete translation. */
static void rule_no_translation_before_rights(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    e->regs.maxphyaddr = 40;
    e->regs.cpl = 3;
    x_apply(e);
    /* U/S = 0 at the top: a user access has no rights there. */
    x_map(e, va, X_DATA | E_LEAF, 1, E_P | E_RW, slots);
    x_pf(e, va, VM_ACCESS_READ, PF_P | PF_U, 1, slots[1], X_DATA | E_LEAF);
    uint64_t pde = x_peek(e, slots[2]);
    x_poke(e, slots[2], pde | (UINT64_C(1) << 45));
    vm_mmu_flush_tlb(e->mmu);
    x_pf(e, va, VM_ACCESS_READ, PF_P | PF_RSVD | PF_U, 2, slots[2], pde | (UINT64_C(1) << 45));
    x_poke(e, slots[2], pde);
    x_poke(e, slots[1], 0);
    vm_mmu_flush_tlb(e->mmu);
    x_pf(e, va, VM_ACCESS_WRITE, PF_W | PF_U, 1, slots[1], 0);
}

/* 4.6.1: "data may be written to any user-mode address with a translation
 * for which the R/W flag is 1 in every paging-structure entry"; R/W = 0 in
 * any one entry makes the address read-only. The fault is a protection
 * fault reported at the entry that maps the page. */
static void rule_rw_anded(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    e->regs.cpl = 3;
    x_apply(e);
    x_ok_all(e, va, X_DATA);
    for (unsigned l = e->m->levels; l >= 1; l--) {
        uint64_t orig = x_peek(e, slots[l]);
        x_poke(e, slots[l], orig & ~E_RW);
        vm_mmu_flush_tlb(e->mmu);
        const uint64_t leaf = x_peek(e, slots[1]);
        x_ok(e, va, VM_ACCESS_READ, X_DATA);
        x_ok(e, va, VM_ACCESS_EXEC, X_DATA);
        x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W | PF_U, 1, slots[1], leaf);
        /* Supervisor writes too, with CR0.WP = 1. */
        e->regs.cpl = 0;
        x_apply(e);
        x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W, 1, slots[1], leaf);
        e->regs.cpl = 3;
        x_apply(e);
        x_poke(e, slots[l], orig);
        vm_mmu_flush_tlb(e->mmu);
        x_ok(e, va, VM_ACCESS_WRITE, X_DATA);
    }
}

/* 4.6.1: "If the U/S flag (bit 2) is 0 in at least one of the
 * paging-structure entries, the address is a supervisor-mode address";
 * user-mode accesses to it are refused (reads, writes and fetches). */
static void rule_us_anded(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    for (unsigned l = e->m->levels; l >= 1; l--) {
        uint64_t orig = x_peek(e, slots[l]);
        x_poke(e, slots[l], orig & ~E_US);
        e->regs.cpl = 3;
        x_apply(e);
        vm_mmu_flush_tlb(e->mmu);
        const uint64_t leaf = x_peek(e, slots[1]);
        x_pf(e, va, VM_ACCESS_READ, PF_P | PF_U, 1, slots[1], leaf);
        x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W | PF_U, 1, slots[1], leaf);
        x_pf(e, va, VM_ACCESS_EXEC, PF_P | PF_U | PF_I, 1, slots[1], leaf);
        e->regs.cpl = 0; /* the supervisor may use a supervisor-mode address */
        x_apply(e);
        x_ok_all(e, va, X_DATA);
        x_poke(e, slots[l], orig);
        vm_mmu_flush_tlb(e->mmu);
    }
}

/* 4.6.1: with NXE = 1, "instructions may not be fetched from any ...
 * address with a translation for which the XD flag is 1 in any
 * paging-structure entry"; data accesses are unaffected. */
static void rule_xd_ored(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
        e->regs.cpl = (uint8_t)cpl;
        x_apply(e);
        for (unsigned l = e->m->levels; l >= 1; l--) {
            uint64_t orig = x_peek(e, slots[l]);
            x_poke(e, slots[l], orig | E_XD);
            vm_mmu_flush_tlb(e->mmu);
            const uint64_t leaf = x_peek(e, slots[1]);
            x_pf(e, va, VM_ACCESS_EXEC, PF_P | PF_I | (cpl == 3 ? PF_U : 0), 1, slots[1], leaf);
            x_ok(e, va, VM_ACCESS_READ, X_DATA);
            x_ok(e, va, VM_ACCESS_WRITE, X_DATA);
            x_poke(e, slots[l], orig);
            vm_mmu_flush_tlb(e->mmu);
            x_ok(e, va, VM_ACCESS_EXEC, X_DATA);
        }
    }
}

/* 4.1.3 / 4.6.1: "If CR0.WP = 0, supervisor-mode write accesses are allowed
 * to linear addresses with read-only access rights; if CR0.WP = 1, they are
 * not" - for supervisor-mode and (CR4.SMAP = 0) user-mode addresses. A
 * permitted write sets D (4.8) even on a read-only page. */
static void rule_wp_supervisor_writes(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t sva = x_test_va(e->m);
    const vm_gva_t uva = sva + 0x1000;
    vm_gpa_t ss[6], us[6];
    x_map(e, sva, X_DATA | E_P | E_A, 1, E_UPPER, ss);                    /* supervisor, R/O */
    x_map(e, uva, (X_DATA + 0x1000) | E_P | E_US | E_A, 1, E_UPPER, us); /* user, R/O */
    x_pf(e, sva, VM_ACCESS_WRITE, PF_P | PF_W, 1, ss[1], X_DATA | E_P | E_A);
    x_pf(e, uva, VM_ACCESS_WRITE, PF_P | PF_W, 1, us[1], (X_DATA + 0x1000) | E_P | E_US | E_A);
    assert_int_equal(x_peek(e, ss[1]) & E_D, 0);
    e->regs.cr0 &= ~VM_X86_CR0_WP;
    x_apply(e);
    x_ok(e, sva, VM_ACCESS_WRITE, X_DATA);
    x_ok(e, uva, VM_ACCESS_WRITE, X_DATA + 0x1000);
    assert_int_equal(x_peek(e, ss[1]), X_DATA | E_P | E_A | E_D);
    assert_int_equal(x_peek(e, us[1]), (X_DATA + 0x1000) | E_P | E_US | E_A | E_D);
    /* Back to WP = 1: no flush needed (vmmem/x86_64.h). */
    e->regs.cr0 |= VM_X86_CR0_WP;
    x_apply(e);
    x_pf(e, sva, VM_ACCESS_WRITE, PF_P | PF_W, 1, ss[1], X_DATA | E_P | E_A | E_D);
}

/* 4.1.3: "User-mode write accesses are never allowed to linear addresses
 * with read-only access rights, regardless of the value of CR0.WP." */
static void rule_user_write_read_only(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    const uint64_t leaf = X_DATA | E_P | E_US | E_A | E_D;
    x_map(e, va, leaf, 1, E_UPPER, slots);
    e->regs.cpl = 3;
    e->regs.cr0 &= ~VM_X86_CR0_WP;
    x_apply(e);
    x_ok(e, va, VM_ACCESS_READ, X_DATA);
    x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W | PF_U, 1, slots[1], leaf);
}

/* 4.6.1: user-mode accesses "may not" read, write or fetch supervisor-mode
 * addresses; CPL 1 and 2 are supervisor-mode accesses like CPL 0. */
static void rule_cpl_supervisor_page(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    const uint64_t leaf = X_DATA | E_P | E_RW | E_A | E_D; /* U/S = 0 */
    x_map(e, va, leaf, 1, E_UPPER, slots);
    for (uint8_t cpl = 0; cpl <= 2; cpl++) {
        e->regs.cpl = cpl;
        x_apply(e);
        x_ok_all(e, va, X_DATA);
    }
    e->regs.cpl = 3;
    x_apply(e);
    x_pf(e, va, VM_ACCESS_READ, PF_P | PF_U, 1, slots[1], leaf);
    x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W | PF_U, 1, slots[1], leaf);
    x_pf(e, va, VM_ACCESS_EXEC, PF_P | PF_U | PF_I, 1, slots[1], leaf);
}

/* 4.6.1: supervisor fetches from user-mode addresses: "If CR4.SMEP = 0,
 * instructions may be fetched from any user-mode address with a
 * translation for which the XD flag is 0 ...; If CR4.SMEP = 1,
 * instructions may not be fetched from any user-mode address." Data
 * accesses are not affected by SMEP; 4.7: I/D = 1 when SMEP = 1 even with
 * NXE = 0. */
static void rule_smep(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t uva = x_test_va(e->m);
    const vm_gva_t sva = uva + 0x1000;
    vm_gpa_t us[6];
    x_map(e, uva, X_DATA | E_LEAF, 1, E_UPPER, us);
    x_map(e, sva, (X_DATA + 0x1000) | E_P | E_RW | E_A | E_D, 1, E_UPPER, NULL);
    x_ok(e, uva, VM_ACCESS_EXEC, X_DATA);
    e->regs.cr4 |= VM_X86_CR4_SMEP;
    x_apply(e);
    x_pf(e, uva, VM_ACCESS_EXEC, PF_P | PF_I, 1, us[1], X_DATA | E_LEAF);
    x_ok(e, uva, VM_ACCESS_READ, X_DATA);
    x_ok(e, uva, VM_ACCESS_WRITE, X_DATA);
    x_ok(e, sva, VM_ACCESS_EXEC, X_DATA + 0x1000);
    e->regs.cpl = 3; /* user fetches are not supervisor fetches */
    x_apply(e);
    x_ok(e, uva, VM_ACCESS_EXEC, X_DATA);
    e->regs.cpl = 0;
    e->regs.efer &= ~VM_X86_EFER_NXE;
    x_apply(e);
    x_pf(e, uva, VM_ACCESS_EXEC, PF_P | PF_I, 1, us[1], X_DATA | E_LEAF);
}

/* 4.6.1: supervisor data accesses to user-mode addresses with CR4.SMAP = 1:
 * "If EFLAGS.AC = 1 and the access is explicit, data may be read [written]
 * ...; If EFLAGS.AC = 0 ..., data may not be read [written]". Fetches and
 * user-mode accesses are not governed by SMAP. */
static void rule_smap_and_ac(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    x_ok_all(e, va, X_DATA);
    e->regs.cr4 |= VM_X86_CR4_SMAP;
    x_apply(e);
    x_pf(e, va, VM_ACCESS_READ, PF_P, 1, slots[1], X_DATA | E_LEAF);
    x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W, 1, slots[1], X_DATA | E_LEAF);
    x_ok(e, va, VM_ACCESS_EXEC, X_DATA);
    e->regs.rflags |= VM_X86_RFLAGS_AC;
    x_apply(e);
    x_ok_all(e, va, X_DATA);
    e->regs.rflags &= ~VM_X86_RFLAGS_AC;
    e->regs.cpl = 3;
    x_apply(e);
    x_ok_all(e, va, X_DATA);
}

/* 4.6.2: with CR4.PKE = 1, PKRU bit 2i (ADi) set forbids data accesses to
 * user-mode addresses with protection key i (bits 62:59 of the entry that
 * maps the page) - user-mode and supervisor-mode accesses alike - but not
 * instruction fetches, and keys mean nothing for supervisor-mode
 * addresses. 4.7: PK = 1 in the error code. */
static void rule_pkey_access_disable(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t uva = x_test_va(e->m);
    const vm_gva_t sva = uva + 0x1000;
    const uint64_t key5 = UINT64_C(5) << VM_X86_PTE_PKEY_SHIFT;
    const uint64_t uleaf = X_DATA | E_LEAF | key5;
    vm_gpa_t us[6];
    x_map(e, uva, uleaf, 1, E_UPPER, us);
    x_map(e, sva, (X_DATA + 0x1000) | E_P | E_RW | E_A | E_D | key5, 1, E_UPPER, NULL);
    e->regs.cr4 |= VM_X86_CR4_PKE;
    e->regs.pkru = UINT32_C(1) << (2 * 4); /* AD for key 4 only */
    x_apply(e);
    x_ok_all(e, uva, X_DATA);
    e->regs.pkru = UINT32_C(1) << (2 * 5); /* AD5 */
    x_apply(e);
    x_pf(e, uva, VM_ACCESS_READ, PF_P | PF_PK, 1, us[1], uleaf);
    x_pf(e, uva, VM_ACCESS_WRITE, PF_P | PF_W | PF_PK, 1, us[1], uleaf);
    x_ok(e, uva, VM_ACCESS_EXEC, X_DATA);
    x_ok_all(e, sva, X_DATA + 0x1000);
    e->regs.cpl = 3;
    x_apply(e);
    x_pf(e, uva, VM_ACCESS_READ, PF_P | PF_U | PF_PK, 1, us[1], uleaf);
    x_pf(e, uva, VM_ACCESS_WRITE, PF_P | PF_W | PF_U | PF_PK, 1, us[1], uleaf);
    x_ok(e, uva, VM_ACCESS_EXEC, X_DATA);
}

/* 4.6.2: PKRU bit 2i+1 (WDi) forbids writes to user-mode addresses with
 * key i by user-mode accesses, and by supervisor-mode accesses only if
 * CR0.WP = 1; reads stay allowed. */
static void rule_pkey_write_disable(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    const uint64_t leaf = X_DATA | E_LEAF | (UINT64_C(0xb) << VM_X86_PTE_PKEY_SHIFT);
    vm_gpa_t slots[6];
    x_map(e, va, leaf, 1, E_UPPER, slots);
    e->regs.cr4 |= VM_X86_CR4_PKE;
    e->regs.pkru = UINT32_C(1) << (2 * 0xb + 1); /* WD11 */
    x_apply(e);
    x_ok(e, va, VM_ACCESS_READ, X_DATA);
    x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W | PF_PK, 1, slots[1], leaf);
    e->regs.cr0 &= ~VM_X86_CR0_WP;
    x_apply(e);
    x_ok(e, va, VM_ACCESS_WRITE, X_DATA);
    e->regs.cpl = 3;
    x_apply(e);
    x_ok(e, va, VM_ACCESS_READ, X_DATA);
    x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W | PF_U | PF_PK, 1, slots[1], x_peek(e, slots[1]));
}

/* 4.6.2: "If CR4.PKE = 0 ... the processor does not associate linear
 * addresses with protection keys": PKRU has no effect. */
static void rule_pkey_needs_pke(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    x_map(e, va, X_DATA | E_LEAF | (UINT64_C(3) << VM_X86_PTE_PKEY_SHIFT), 1, E_UPPER, NULL);
    e->regs.pkru = UINT32_MAX;
    x_apply(e);
    x_ok_all(e, va, X_DATA);
    e->regs.cpl = 3;
    x_apply(e);
    x_ok_all(e, va, X_DATA);
}

/* 4.7, PK flag: 1 if the access was a data access to a user-mode address
 * with key i and PKRU has ADi = 1, or WDi = 1 for a write that is user-mode
 * or made with CR0.WP = 1 - the definition does not ask whether the key was
 * what refused the access, so a fault with another cause carries PK too. */
static void rule_pk_flag_definition(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    const uint64_t ro_leaf = X_DATA | E_P | E_US | E_A | E_D | (UINT64_C(2) << 59);
    vm_gpa_t slots[6];
    x_map(e, va, ro_leaf, 1, E_UPPER, slots);
    e->regs.cr4 |= VM_X86_CR4_PKE | VM_X86_CR4_SMAP;
    e->regs.pkru = UINT32_C(3) << (2 * 2); /* AD2 and WD2 */
    x_apply(e);
    /* SMAP refuses the supervisor read; AD2 makes it a PK fault as well. */
    x_pf(e, va, VM_ACCESS_READ, PF_P | PF_PK, 1, slots[1], ro_leaf);
    /* Read-only page and WD2: a user write. */
    e->regs.cpl = 3;
    e->regs.pkru = UINT32_C(2) << (2 * 2); /* WD2 only */
    x_apply(e);
    x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W | PF_U | PF_PK, 1, slots[1], ro_leaf);
    /* A fetch is not a data access: no PK even with AD2. */
    e->regs.pkru = UINT32_C(1) << (2 * 2);
    x_apply(e);
    x_poke(e, slots[1], ro_leaf | E_XD);
    vm_mmu_flush_tlb(e->mmu);
    x_pf(e, va, VM_ACCESS_EXEC, PF_P | PF_U | PF_I, 1, slots[1], ro_leaf | E_XD);
}

/* 4.7, I/D flag: 1 for an instruction fetch only if CR4.SMEP = 1 or
 * (CR4.PAE = 1 and IA32_EFER.NXE = 1); here on a not-present fault. */
static void rule_id_flag(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, 0, 1, E_UPPER, slots);
    x_pf(e, va, VM_ACCESS_EXEC, PF_I, 1, slots[1], 0);
    e->regs.efer &= ~VM_X86_EFER_NXE;
    x_apply(e);
    x_pf(e, va, VM_ACCESS_EXEC, 0, 1, slots[1], 0);
    x_pf(e, va, VM_ACCESS_READ, 0, 1, slots[1], 0);
    e->regs.cr4 |= VM_X86_CR4_SMEP;
    x_apply(e);
    x_pf(e, va, VM_ACCESS_EXEC, PF_I, 1, slots[1], 0);
}

/* 4.8: "Whenever the processor uses a paging-structure entry as part of
 * linear-address translation, it sets the accessed flag in that entry";
 * "Whenever there is a write to a linear address, the processor sets the
 * dirty flag ... in the paging-structure entry that identifies the final
 * physical address" - not in the entries above it (bit 6 is ignored there). */
static void rule_accessed_and_dirty(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_P | E_RW | E_US, 1, E_UPPER, slots);
    x_ok(e, va, VM_ACCESS_EXEC, X_DATA);
    for (unsigned l = e->m->levels; l >= 2; l--)
        assert_int_equal(x_peek(e, slots[l]) & (E_A | E_D), E_A);
    assert_int_equal(x_peek(e, slots[1]), X_DATA | E_P | E_RW | E_US | E_A);
    x_ok(e, va, VM_ACCESS_WRITE, X_DATA);
    for (unsigned l = e->m->levels; l >= 2; l--)
        assert_int_equal(x_peek(e, slots[l]) & (E_A | E_D), E_A);
    assert_int_equal(x_peek(e, slots[1]), X_DATA | E_P | E_RW | E_US | E_A | E_D);

    /* A 2 MiB page: D in the PDE (the entry with PS = 1). */
    const vm_gva_t va2 = (va & ~UINT64_C(0x1fffff)) + (UINT64_C(1) << 30);
    vm_gpa_t s2[6];
    x_map(e, va2, UINT64_C(0x400000) | E_PS | E_P | E_RW, 2, E_UPPER, s2);
    x_ok(e, va2 + 0x10, VM_ACCESS_READ, 0x400010);
    assert_int_equal(x_peek(e, s2[2]), UINT64_C(0x400000) | E_PS | E_P | E_RW | E_A);
    x_ok(e, va2 + 0x10, VM_ACCESS_WRITE, 0x400010);
    assert_int_equal(x_peek(e, s2[2]), UINT64_C(0x400000) | E_PS | E_P | E_RW | E_A | E_D);
    assert_int_equal(x_peek(e, s2[3]) & E_D, 0);
}

/* vmmem's rule (mmu.h, issue 7): no A/D write for an access that faults -
 * neither for a protection fault on a complete walk nor above a
 * not-present entry. */
static void rule_no_ad_on_fault(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    const uint64_t leaf = X_DATA | E_P | E_US; /* read-only, A = 0 */
    x_map(e, va, leaf, 1, E_UPPER, slots);
    e->regs.cpl = 3;
    x_apply(e);
    x_pf(e, va, VM_ACCESS_WRITE, PF_P | PF_W | PF_U, 1, slots[1], leaf);
    for (unsigned l = e->m->levels; l >= 1; l--)
        assert_int_equal(x_peek(e, slots[l]) & (E_A | E_D), 0);
    x_poke(e, slots[1], 0);
    x_pf(e, va, VM_ACCESS_READ, PF_U, 1, slots[1], 0);
    for (unsigned l = e->m->levels; l >= 2; l--)
        assert_int_equal(x_peek(e, slots[l]) & E_A, 0);
}

/* vmmem/x86_64.h: a paging-structure entry outside RAM is an access fault
 * (kind ACCESS, vector 18) at the level of the entry that could not be
 * read - never a page fault (BUG-CLASSES 4). */
static void rule_entry_outside_ram(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    vm_gpa_t slots[6];
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, slots);
    for (unsigned l = e->m->levels; l >= 2; l--) {
        uint64_t orig = x_peek(e, slots[l]);
        x_poke(e, slots[l], (orig & 0xfff) | X_BEYOND_RAM);
        vm_mmu_flush_tlb(e->mmu);
        for (int k = 0; k < 3; k++) {
            vm_gpa_t pa;
            assert_int_equal(vm_mmu_translate(e->mmu, va, x_kinds[k], &pa), VM_ERR_ACCESS_FAULT);
            const vm_fault_t *f = vm_mmu_last_fault(e->mmu);
            assert_int_equal(f->kind, VM_FAULT_ACCESS);
            assert_int_equal(f->cause, VM_X86_VEC_MC);
            assert_int_equal(f->level, (int)l - 1);
            assert_int_equal(f->pte_addr, X_BEYOND_RAM + 8 * x_index(va, l - 1));
            assert_int_equal(f->pte, 0);
        }
        x_poke(e, slots[l], orig);
    }
    e->regs.cr3 = X_BEYOND_RAM;
    x_apply(e);
    vm_gpa_t pa;
    assert_int_equal(vm_mmu_translate(e->mmu, va, VM_ACCESS_READ, &pa), VM_ERR_ACCESS_FAULT);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->level, (int)e->m->levels);
}

/* A translation to a PA with no RAM succeeds (vm_mmu_translate returns the
 * PA, mmu.h); the data access through it is the access fault, vector 18. */
static void rule_pa_without_ram(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    x_map(e, va, X_BEYOND_RAM | E_LEAF, 1, E_UPPER, NULL);
    x_ok_all(e, va + 8, X_BEYOND_RAM + 8);
    uint64_t v;
    assert_int_equal(vm_mmu_read(e->mmu, va + 8, 8, &v), VM_ERR_ACCESS_FAULT);
    const vm_fault_t *f = vm_mmu_last_fault(e->mmu);
    assert_int_equal(f->kind, VM_FAULT_ACCESS);
    assert_int_equal(f->cause, VM_X86_VEC_MC);
    assert_int_equal(f->va, va + 8);
}

/* 4.1.1 / vmmem/x86_64.h: with CR0.PG = 0 linear addresses are physical. */
static void rule_paging_off_identity(void **state)
{
    struct x_env *e = *state;
    e->regs.cr0 &= ~VM_X86_CR0_PG;
    x_apply(e);
    x_ok_all(e, 0x1234, 0x1234);
    x_ok_all(e, X_DATA + 8, X_DATA + 8);
    uint64_t v = 0;
    x_poke(e, X_DATA + 8, 77);
    assert_int_equal(vm_mmu_read(e->mmu, X_DATA + 8, 8, &v), VM_OK);
    assert_int_equal(v, 77);
}

/* Table 4-12 (CR4.PCIDE = 0): CR3 bits 3 (PWT) and 4 (PCD) and the ignored
 * bits 2:0, 11:5 are not part of the root address; Table 4-13 (PCIDE = 1):
 * bits 11:0 are the PCID. Either way the root is CR3[M-1:12]. */
static void rule_cr3_low_bits(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, NULL);
    e->regs.cr3 = X_ROOT | 0x18 | 0x7;
    x_apply(e);
    x_ok_all(e, va, X_DATA);
    e->regs.cr3 = X_ROOT;
    e->regs.cr4 |= VM_X86_CR4_PCIDE;
    x_apply(e);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, X_ROOT | 0xabc), VM_OK);
    x_ok_all(e, va, X_DATA);
}

/* The #GP conditions of MOV to CR0/CR3/CR4 and WRMSR IA32_EFER that
 * vmmem/x86_64.h maps to VM_ERR_INVALID_ARGUMENT (Vol. 2 "MOV - Move to/from
 * Control Registers"; SDM 4.1.1, 4.10.1) and the legacy modes it leaves
 * out (VM_ERR_UNSUPPORTED): on error nothing changes. */
static void rule_register_checks(void **state)
{
    struct x_env *e = *state;
    const vm_gva_t va = x_test_va(e->m);
    x_map(e, va, X_DATA | E_LEAF, 1, E_UPPER, NULL);
    x_ok(e, va, VM_ACCESS_READ, X_DATA);
    vm_x86_regs_t before, after, r;
    vm_mmu_x86_regs(e->mmu, &before);

    struct {
        vm_x86_regs_t regs;
        vm_err_t want;
    } bad[16];
    size_t n = 0;
    r = e->regs; r.cpl = 4; bad[n].regs = r; bad[n++].want = VM_ERR_INVALID_ARGUMENT;
    r = e->regs; r.maxphyaddr = 35; bad[n].regs = r; bad[n++].want = VM_ERR_INVALID_ARGUMENT;
    r = e->regs; r.maxphyaddr = 53; bad[n].regs = r; bad[n++].want = VM_ERR_INVALID_ARGUMENT;
    r = e->regs; r.cr3 |= UINT64_C(1) << 62; bad[n].regs = r; bad[n++].want = VM_ERR_INVALID_ARGUMENT;
    r = e->regs; r.maxphyaddr = 40; r.cr3 |= UINT64_C(1) << 40;
    bad[n].regs = r; bad[n++].want = VM_ERR_INVALID_ARGUMENT;
    /* bit 63 is reserved in CR3 with PCIDE = 0 (Table 4-12) */
    r = e->regs; r.cr3 |= VM_X86_CR3_NOFLUSH; bad[n].regs = r; bad[n++].want = VM_ERR_INVALID_ARGUMENT;
    r = e->regs; r.cr0 &= ~VM_X86_CR0_PE; bad[n].regs = r; bad[n++].want = VM_ERR_INVALID_ARGUMENT;
    /* PCIDE = 1 turned on while CR3[11:0] != 0 */
    r = e->regs; r.cr4 |= VM_X86_CR4_PCIDE; r.cr3 |= 1; bad[n].regs = r; bad[n++].want = VM_ERR_INVALID_ARGUMENT;
    /* PCIDE = 1 outside IA-32e mode */
    r = e->regs; r.cr4 |= VM_X86_CR4_PCIDE; r.cr0 &= ~VM_X86_CR0_PG;
    bad[n].regs = r; bad[n++].want = VM_ERR_INVALID_ARGUMENT;
    /* 32-bit and PAE paging */
    r = e->regs; r.cr4 &= ~VM_X86_CR4_PAE; bad[n].regs = r; bad[n++].want = VM_ERR_UNSUPPORTED;
    r = e->regs; r.efer &= ~VM_X86_EFER_LME; bad[n].regs = r; bad[n++].want = VM_ERR_UNSUPPORTED;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(vm_mmu_set_x86_regs(e->mmu, &bad[i].regs), bad[i].want);
        vm_mmu_x86_regs(e->mmu, &after);
        assert_memory_equal(&after, &before, sizeof(before));
        x_ok(e, va, VM_ACCESS_READ, X_DATA);
    }
    assert_int_equal(vm_mmu_set_x86_regs(e->mmu, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_set_x86_regs(NULL, &e->regs), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, UINT64_C(1) << 63 | X_ROOT),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, UINT64_C(1) << 52 | X_ROOT),
                     VM_ERR_INVALID_ARGUMENT);
    vm_mmu_x86_regs(e->mmu, &after);
    assert_memory_equal(&after, &before, sizeof(before));

    /* Read back: EFER.LMA computed (LME and PG), CR3 bit 63 not stored,
     * bits vmmem does not use stored unchanged. */
    assert_true(after.efer & VM_X86_EFER_LMA);
    r = e->regs;
    r.efer &= ~VM_X86_EFER_LMA;
    r.cr0 |= UINT64_C(1) << 5;   /* NE */
    r.cr4 |= UINT64_C(1) << 9;   /* OSFXSR */
    r.rflags = 0x202;
    r.cr4 |= VM_X86_CR4_PCIDE;
    assert_int_equal(vm_mmu_set_x86_regs(e->mmu, &r), VM_OK);
    r.cr3 = X_ROOT | VM_X86_CR3_NOFLUSH | 7;
    assert_int_equal(vm_mmu_set_x86_regs(e->mmu, &r), VM_OK);
    vm_mmu_x86_regs(e->mmu, &after);
    assert_int_equal(after.cr3, X_ROOT | 7);
    assert_int_equal(after.efer, r.efer | VM_X86_EFER_LMA);
    assert_int_equal(after.cr0, r.cr0);
    assert_int_equal(after.cr4, r.cr4);
    assert_int_equal(after.rflags, 0x202);
    r.cr0 &= ~VM_X86_CR0_PG;
    r.cr4 &= ~VM_X86_CR4_PCIDE;
    r.cr3 = X_ROOT;
    r.efer |= VM_X86_EFER_LMA; /* ignored: LMA is computed */
    assert_int_equal(vm_mmu_set_x86_regs(e->mmu, &r), VM_OK);
    vm_mmu_x86_regs(e->mmu, &after);
    assert_int_equal(after.efer & VM_X86_EFER_LMA, 0);
}

/* ---- Runner ------------------------------------------------------------ */

static const struct {
    const char *name;
    CMUnitTestFunction fn;
} x_rules[] = {
    {"canonical_gp", rule_canonical_gp},
    {"canonical_page_crossing", rule_canonical_page_crossing},
    {"la57_width", rule_la57_width},
    {"translate_4k", rule_translate_4k},
    {"translate_2m", rule_translate_2m},
    {"translate_1g", rule_translate_1g},
    {"ps_reserved_top", rule_ps_reserved_top},
    {"not_present_each_level", rule_not_present_each_level},
    {"not_present_ignores_reserved", rule_not_present_ignores_reserved},
    {"reserved_above_maxphyaddr", rule_reserved_above_maxphyaddr},
    {"reserved_large_page_low_bits", rule_reserved_large_page_low_bits},
    {"xd_reserved_without_nxe", rule_xd_reserved_without_nxe},
    {"ignored_bits", rule_ignored_bits},
    {"no_translation_before_rights", rule_no_translation_before_rights},
    {"rw_anded", rule_rw_anded},
    {"us_anded", rule_us_anded},
    {"xd_ored", rule_xd_ored},
    {"wp_supervisor_writes", rule_wp_supervisor_writes},
    {"user_write_read_only", rule_user_write_read_only},
    {"cpl_supervisor_page", rule_cpl_supervisor_page},
    {"smep", rule_smep},
    {"smap_and_ac", rule_smap_and_ac},
    {"pkey_access_disable", rule_pkey_access_disable},
    {"pkey_write_disable", rule_pkey_write_disable},
    {"pkey_needs_pke", rule_pkey_needs_pke},
    {"pk_flag_definition", rule_pk_flag_definition},
    {"id_flag", rule_id_flag},
    {"accessed_and_dirty", rule_accessed_and_dirty},
    {"no_ad_on_fault", rule_no_ad_on_fault},
    {"entry_outside_ram", rule_entry_outside_ram},
    {"pa_without_ram", rule_pa_without_ram},
    {"paging_off_identity", rule_paging_off_identity},
    {"cr3_low_bits", rule_cr3_low_bits},
    {"register_checks", rule_register_checks},
};

#define X_NRULES (sizeof(x_rules) / sizeof(x_rules[0]))

static int x_run_rules(const struct x_mode *m)
{
    static struct CMUnitTest tests[2][X_NRULES];
    static char names[2][X_NRULES][64];
    const int g = m->la57 ? 1 : 0;
    char group[32];
    for (size_t i = 0; i < X_NRULES; i++) {
        snprintf(names[g][i], sizeof(names[g][i]), "test_%s_%s", m->name, x_rules[i].name);
        tests[g][i].name = names[g][i];
        tests[g][i].test_func = x_rules[i].fn;
        tests[g][i].setup_func = x_setup;
        tests[g][i].teardown_func = x_teardown;
        tests[g][i].initial_state = (void *)m;
    }
    snprintf(group, sizeof(group), "%s_rules", m->name);
    return _cmocka_run_group_tests(group, tests[g], X_NRULES, NULL, NULL);
}

int main(void)
{
    static const struct x_mode level4 = {"x86_4level", false, 4, 48};
    static const struct x_mode level5 = {"x86_5level", true, 5, 57};
    int failed = x_run_rules(&level4);
    failed += x_run_rules(&level5);
    return failed;
}
