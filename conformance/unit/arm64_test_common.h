/*
 * arm64_test_common.h - fixture of the Arm64 (VMSAv8-64 stage 1, EL1&0)
 * unit tests: test_arm64_rules.c, test_arm64_tlb.c, test_arm64_builder.c.
 *
 * How it works: every test gets a fresh MMU (32 MiB of RAM at 0) in
 * VM_PAGING_ARM64 with stage 1 on at EL1: TTBR0 (ASID 1) and TTBR1 point
 * at empty tables, TCR has T0SZ = T1SZ = 16, 4 KiB granules in both
 * ranges, IPS 48 bits, HA = HD = 0. Translation tables are written here
 * descriptor by descriptor (raw 8-byte values on the physical side); the
 * builder is not used outside test_arm64_builder.c, so a builder bug can
 * neither hide nor fake a walker bug.
 *
 * The geometry is passed in explicitly per address space (struct a_space:
 * granule, start level, input size), with the start levels the tests take
 * from the manual's tables (Arm ARM D8 "Overview of VMSAv8-64 address
 * translation using the 4KB / 16KB / 64KB translation granule"): the
 * helpers only place descriptors where the manual says a level indexes
 * (level L resolves IA[shift + width - 1 : shift], shift = granule +
 * (3 - L) * (granule - 3)). Expected results come from the manual and the
 * pseudocode (AArch64.TranslationTableWalk, AArch64.CheckPermission,
 * AArch64.CheckAndUpdateDescriptor, AArch64.TranslateAddressS1Off, AddrTop,
 * EncodeLDFSC, AArch64.ExceptionClass), never from running vmmem.
 */
#ifndef ARM64_TEST_COMMON_H
#define ARM64_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define A_RAM_SIZE (UINT64_C(32) << 20)
#define A_ROOT0 UINT64_C(0x100000)      /* TTBR0 table (64 KiB aligned) */
#define A_ROOT1 UINT64_C(0x110000)      /* TTBR1 table */
#define A_TABLES UINT64_C(0x120000)     /* further tables are bump-allocated from here */
#define A_TABLES_END UINT64_C(0x800000)
#define A_DATA UINT64_C(0x1000000)      /* data pages from 16 MiB (2 MiB and 32 MiB aligned) */
#define A_ASID UINT64_C(1)

/* Descriptor bits spelled as the manual's fields (D8 descriptor formats). */
#define A_INVALID UINT64_C(0)
#define A_BLOCK UINT64_C(1)             /* bits[1:0] = 01 */
#define A_TABLE_OR_PAGE UINT64_C(3)     /* bits[1:0] = 11 */
#define A_AP(ap) ((uint64_t)(ap) << 6)  /* AP[2:1] in bits 7:6 */
#define A_AF (UINT64_C(1) << 10)
#define A_NG (UINT64_C(1) << 11)
#define A_DBM (UINT64_C(1) << 51)
#define A_PXN (UINT64_C(1) << 53)
#define A_UXN (UINT64_C(1) << 54)
#define A_PXNTABLE (UINT64_C(1) << 59)
#define A_UXNTABLE (UINT64_C(1) << 60)
#define A_APTABLE(ap) ((uint64_t)(ap) << 61) /* APTable[1:0] in bits 62:61 */

/* TCR fields not spelled in vmmem/arm64.h. */
#define A_TCR_TG1_RESERVED (UINT64_C(0) << 30)
#define A_TCR_TG0_RESERVED (UINT64_C(3) << 14)

/* Fault status codes (EncodeLDFSC). */
#define A_FSC_ADDRESS_SIZE(l) (0x00u + (unsigned)(l))
#define A_FSC_TRANSLATION(l) (0x04u + (unsigned)(l))
#define A_FSC_ACCESS_FLAG(l) (0x08u + (unsigned)(l))
#define A_FSC_PERMISSION(l) (0x0cu + (unsigned)(l))
#define A_FSC_EXT_ABORT_WALK(l) (0x14u + (unsigned)(l))
#define A_WNR (1u << 6)

/* One translation table tree: a VA range's geometry and root. */
struct a_space {
    unsigned granule;     /* log2: 12, 14, 16 */
    int start_level;
    unsigned inputsize;   /* 64 - TxSZ */
    vm_gpa_t root;
};

struct a_env {
    vm_mmu_t *mmu;
    vm_arm64_regs_t regs;
    vm_gpa_t next_table;
    struct a_space lo, hi; /* TTBR0 and TTBR1 trees */
};

static const vm_access_t a_kinds[3] = {VM_ACCESS_READ, VM_ACCESS_WRITE, VM_ACCESS_EXEC};

static inline uint64_t a_phys(struct a_env *e, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(e->mmu, pa, 8, &v), VM_OK);
    return v;
}

static inline void a_poke(struct a_env *e, vm_gpa_t pa, uint64_t v)
{
    assert_int_equal(vm_mmu_write_phys(e->mmu, pa, v, 8), VM_OK);
}

/* Apply e->regs (must be accepted). */
static inline void a_apply(struct a_env *e)
{
    assert_int_equal(vm_mmu_set_arm64_regs(e->mmu, &e->regs), VM_OK);
}

static inline uint64_t a_ttbr(vm_gpa_t base, uint64_t asid)
{
    return base | (asid << VM_ARM64_TTBR_ASID_SHIFT);
}

/* The default TCR: T0SZ = T1SZ = 16, 4 KiB granules, IPS 48 bits. */
static inline uint64_t a_tcr_default(void)
{
    return VM_ARM64_TCR_T0SZ(16) | VM_ARM64_TCR_T1SZ(16) | VM_ARM64_TCR_TG0_4K |
           VM_ARM64_TCR_TG1_4K | VM_ARM64_TCR_IPS(5);
}

static inline int a_setup(void **state)
{
    struct a_env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->mmu = vm_mmu_new(A_RAM_SIZE, false);
    assert_non_null(e->mmu);
    vm_mmu_set_strict_align(e->mmu, false);
    e->next_table = A_TABLES;
    /* 4 KiB granule, T0SZ/T1SZ 16: a 48-bit range starting at level 0. */
    e->lo = (struct a_space){12, 0, 48, A_ROOT0};
    e->hi = (struct a_space){12, 0, 48, A_ROOT1};
    e->regs.ttbr0 = a_ttbr(A_ROOT0, A_ASID);
    e->regs.ttbr1 = a_ttbr(A_ROOT1, 0);
    e->regs.tcr = a_tcr_default();
    e->regs.sctlr = VM_ARM64_SCTLR_M;
    e->regs.el = 1;
    vm_mmu_set_paging_mode(e->mmu, VM_PAGING_ARM64);
    a_apply(e);
    *state = e;
    return 0;
}

static inline int a_teardown(void **state)
{
    struct a_env *e = *state;
    vm_mmu_free(e->mmu);
    free(e);
    return 0;
}

/* Bits [shift+width-1:shift] of the IA that `level` resolves. */
static inline unsigned a_shift(const struct a_space *s, int level)
{
    return s->granule + (unsigned)(3 - level) * (s->granule - 3);
}

static inline uint64_t a_index(const struct a_space *s, int level, vm_gva_t va)
{
    unsigned shift = a_shift(s, level);
    unsigned width = level == s->start_level ? s->inputsize - shift : s->granule - 3;
    return (va >> shift) & ((UINT64_C(1) << width) - 1);
}

/* A fresh, zeroed, granule-aligned table. */
static inline vm_gpa_t a_new_table(struct a_env *e, unsigned granule)
{
    uint64_t size = UINT64_C(1) << granule;
    vm_gpa_t t = (e->next_table + size - 1) & ~(size - 1);
    e->next_table = t + size;
    assert_true(e->next_table <= A_TABLES_END);
    for (uint64_t off = 0; off < size; off += 8)
        a_poke(e, t + off, 0);
    return t;
}

/*
 * The address of the descriptor that translates va at `level` in tree s,
 * creating the tables above it: each missing table descriptor is written as
 * next | 11 | table_bits (hierarchical attributes for the tests that want
 * them). An existing table descriptor is followed.
 */
static inline vm_gpa_t a_slot_bits(struct a_env *e, const struct a_space *s, vm_gva_t va,
                                   int level, uint64_t table_bits)
{
    vm_gpa_t table = s->root;
    for (int l = s->start_level; l < level; l++) {
        vm_gpa_t slot = table + 8 * a_index(s, l, va);
        uint64_t d = a_phys(e, slot);
        if ((d & 3) != 3) {
            vm_gpa_t t = a_new_table(e, s->granule);
            a_poke(e, slot, t | A_TABLE_OR_PAGE | table_bits);
            table = t;
        } else {
            table = d & (((UINT64_C(1) << 48) - 1) & ~((UINT64_C(1) << s->granule) - 1));
        }
    }
    return table + 8 * a_index(s, level, va);
}

static inline vm_gpa_t a_slot(struct a_env *e, const struct a_space *s, vm_gva_t va, int level)
{
    return a_slot_bits(e, s, va, level, 0);
}

/* Map va with a leaf at `level` (a page at 3, else a block) -> pa | attrs. */
static inline vm_gpa_t a_map(struct a_env *e, const struct a_space *s, vm_gva_t va, int level,
                             vm_gpa_t pa, uint64_t attrs)
{
    vm_gpa_t slot = a_slot(e, s, va, level);
    a_poke(e, slot, pa | attrs | (level == 3 ? A_TABLE_OR_PAGE : A_BLOCK));
    return slot;
}

static inline vm_err_t a_xlate(struct a_env *e, vm_gva_t va, vm_access_t access, vm_gpa_t *pa)
{
    return vm_mmu_translate(e->mmu, va, access, pa);
}

static inline void a_expect_pa(struct a_env *e, vm_gva_t va, vm_access_t access, vm_gpa_t want)
{
    vm_gpa_t pa = 0;
    vm_err_t err = a_xlate(e, va, access, &pa);
    if (err != VM_OK)
        print_error("va 0x%llx access %d: err %d (%s)\n", (unsigned long long)va, (int)access,
                    (int)err, vm_mmu_last_fault(e->mmu)->reason);
    assert_int_equal(err, VM_OK);
    assert_int_equal(pa, want);
    assert_int_equal(vm_mmu_last_fault(e->mmu)->kind, VM_FAULT_NONE);
}

/* ESR_ELx.EC of an abort taken to EL1 (AArch64.ExceptionClass: 0x20
 * instruction abort / 0x24 data abort, +1 when taken from EL1 itself). */
static inline uint32_t a_ec(const struct a_env *e, vm_access_t access)
{
    uint32_t ec = access == VM_ACCESS_EXEC ? 0x20u : 0x24u;
    return e->regs.el == 1 ? ec + 1 : ec;
}

/*
 * Expect a fault: the error, the kind, the level, the syndrome (FSC, plus
 * WnR for a data write: AArch64.FaultSyndrome) and the exception class.
 */
static inline const vm_fault_t *a_expect_fault(struct a_env *e, vm_gva_t va, vm_access_t access,
                                               vm_err_t want_err, vm_fault_kind_t kind, int level,
                                               unsigned fsc)
{
    vm_gpa_t pa = 0;
    vm_err_t err = a_xlate(e, va, access, &pa);
    const vm_fault_t *f = vm_mmu_last_fault(e->mmu);
    if (err != want_err || f->kind != kind || f->level != level)
        print_error("va 0x%llx access %d: err %d kind %d level %d (%s); want err %d kind %d "
                    "level %d\n",
                    (unsigned long long)va, (int)access, (int)err, (int)f->kind, f->level,
                    f->reason, (int)want_err, (int)kind, level);
    assert_int_equal(err, want_err);
    assert_int_equal(f->kind, kind);
    assert_int_equal(f->level, level);
    assert_int_equal(f->va, va);
    assert_int_equal(f->access, access);
    assert_int_equal(f->syndrome, fsc | (access == VM_ACCESS_WRITE ? A_WNR : 0u));
    assert_int_equal(f->cause, a_ec(e, access));
    return f;
}

static inline void a_expect_translation(struct a_env *e, vm_gva_t va, vm_access_t access,
                                        int level)
{
    a_expect_fault(e, va, access, VM_ERR_PAGE_FAULT, VM_FAULT_TRANSLATION, level,
                   A_FSC_TRANSLATION(level));
}

static inline void a_expect_permission(struct a_env *e, vm_gva_t va, vm_access_t access,
                                       int level)
{
    a_expect_fault(e, va, access, VM_ERR_PAGE_FAULT, VM_FAULT_PERMISSION, level,
                   A_FSC_PERMISSION(level));
}

static inline void a_expect_address_size(struct a_env *e, vm_gva_t va, vm_access_t access,
                                         int level)
{
    a_expect_fault(e, va, access, VM_ERR_PAGE_FAULT, VM_FAULT_ADDRESS_SIZE, level,
                   A_FSC_ADDRESS_SIZE(level));
}

static inline void a_expect_access_flag(struct a_env *e, vm_gva_t va, vm_access_t access,
                                        int level)
{
    a_expect_fault(e, va, access, VM_ERR_PAGE_FAULT, VM_FAULT_ACCESS_FLAG, level,
                   A_FSC_ACCESS_FLAG(level));
}

/* Change the EL / PAN / SCTLR.WXN (live: no flush needed). */
static inline void a_set_el(struct a_env *e, unsigned el)
{
    e->regs.el = (uint8_t)el;
    a_apply(e);
}

static inline void a_set_pan(struct a_env *e, unsigned pan)
{
    e->regs.pan = (uint8_t)pan;
    a_apply(e);
}

static inline void a_set_wxn(struct a_env *e, bool wxn)
{
    e->regs.sctlr = wxn ? e->regs.sctlr | VM_ARM64_SCTLR_WXN : e->regs.sctlr & ~VM_ARM64_SCTLR_WXN;
    a_apply(e);
}

static inline void a_flush(struct a_env *e)
{
    assert_int_equal(vm_mmu_arm64_tlbi(e->mmu, VM_ARM64_TLBI_VMALLE1, 0), VM_OK);
}

#endif /* ARM64_TEST_COMMON_H */
