/*
 * test_arm64_rules.c - the VMSAv8-64 stage 1 (EL1&0) translation rules, one
 * test per rule, each citing the Arm ARM (DDI0487, chapter D8 "The AArch64
 * Virtual Memory System Architecture"; D17 for TCR_EL1/SCTLR_EL1) or the
 * pseudocode function that states it (Armv8.5: AArch64.TranslationTableWalk
 * "TTW", AArch64.CheckPermission, AArch64.CheckAndUpdateDescriptor,
 * AArch64.TranslateAddressS1Off, AddrTop, EncodeLDFSC,
 * AArch64.FaultSyndrome, AArch64.ExceptionClass).
 *
 * Fixture and helpers: arm64_test_common.h (raw descriptors, no builder).
 * Negative tests first prove the same mapping translates (positive
 * control), then change exactly one thing and expect the fault, with its
 * kind, level, FSC, WnR and EC. Where the architecture leaves a choice
 * (CONSTRAINED UNPREDICTABLE or IMPLEMENTATION DEFINED), the test says so
 * and checks the choice vmmem/arm64.h documents.
 */
#include "arm64_test_common.h"

#define VA0 UINT64_C(0x0000123456789000) /* lower range (TTBR0), bit 55 = 0 */
#define PA0 (A_DATA + UINT64_C(0x5000))
#define VA1 UINT64_C(0xffff800012345000) /* upper range (TTBR1), bit 55 = 1 */
#define PA1 (A_DATA + UINT64_C(0x9000))
#define OFF UINT64_C(0x7b8)
#define TAG(t) ((uint64_t)(t) << 56)

/* A page at VA0 with AF set and AP = 00 (EL1 read/write, no EL0 access). */
static vm_gpa_t map_va0(struct a_env *e, uint64_t attrs)
{
    return a_map(e, &e->lo, VA0, 3, PA0, attrs);
}

/* ---- Range selection, TxSZ, EPD, TBI (D8 "Selection between TTBR0 and
 * TTBR1", "Address tagging"; TTW "basefound", "disabled") ------------------- */

/* TTW: an address with VA[63:inputsize] all zeros is translated through
 * TTBR0_EL1, all ones through TTBR1_EL1. */
static void test_arm64_two_ranges_translate(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    a_map(e, &e->hi, VA1, 3, PA1, A_AF);
    for (int k = 0; k < 3; k++) {
        a_expect_pa(e, VA0 + OFF, a_kinds[k], PA0 + OFF);
        a_expect_pa(e, VA1 + OFF, a_kinds[k], PA1 + OFF);
    }
}

/* Hand-placed descriptors (not a_map): with a 4 KiB granule and T0SZ = 16
 * the walk starts at level 0, and levels 0..3 resolve VA[47:39], [38:30],
 * [29:21], [20:12] (D8 "Overview of VMSAv8-64 address translation using the
 * 4KB translation granule"): VA 0x0080_4020_1xxx uses entry 1 at every
 * level. */
static void test_arm64_4k_levels_resolve_va_bits(void **state)
{
    struct a_env *e = *state;
    const vm_gva_t va = UINT64_C(0x0000008040201000);
    const vm_gpa_t t1 = A_TABLES, t2 = A_TABLES + 0x1000, t3 = A_TABLES + 0x2000;
    a_poke(e, A_ROOT0 + 8, t1 | 3);
    a_poke(e, t1 + 8, t2 | 3);
    a_poke(e, t2 + 8, t3 | 3);
    a_poke(e, t3 + 8, PA0 | A_AF | 3);
    a_expect_pa(e, va + 0x123, VM_ACCESS_READ, PA0 + 0x123);
    /* Entry 0 of the level 3 table is empty: VA 0x...0000 misses. */
    a_expect_translation(e, va - 0x1000, VM_ACCESS_READ, 3);
}

/* BUG-CLASSES 21 and TTW: the range is chosen by VA bit 55 (with TBI the
 * top byte is not looked at, AddrTop = 55): a VA with bit 55 = 1 and a top
 * byte of zeros goes to TTBR1, one with bit 55 = 0 and a top byte of ones
 * to TTBR0. */
static void test_arm64_range_selected_by_bit55(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    a_map(e, &e->hi, VA1, 3, PA1, A_AF);
    e->regs.tcr |= VM_ARM64_TCR_TBI0 | VM_ARM64_TCR_TBI1;
    a_apply(e);
    a_expect_pa(e, (VA1 & ~TAG(0xff)) + OFF, VM_ACCESS_READ, PA1 + OFF); /* top byte 00 */
    a_expect_pa(e, VA0 | TAG(0xff), VM_ACCESS_READ, PA0);                /* top byte ff */
}

/* TTW: "basefound = ... IsZero(inputaddr<top:inputsize>)" (TTBR0) or
 * IsOnes (TTBR1); otherwise a Translation fault at level 0. T0SZ = T1SZ = 25
 * give 39-bit ranges. */
static void test_arm64_va_outside_range_is_level0_translation_fault(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr = (e->regs.tcr & ~(VM_ARM64_TCR_T0SZ(63) | VM_ARM64_TCR_T1SZ(63))) |
                  VM_ARM64_TCR_T0SZ(25) | VM_ARM64_TCR_T1SZ(25);
    a_apply(e);
    /* 4 KiB granule, TxSZ 25..33: the walk starts at level 1. */
    e->lo = (struct a_space){12, 1, 39, A_ROOT0};
    e->hi = (struct a_space){12, 1, 39, A_ROOT1};
    const vm_gva_t lo = UINT64_C(0x0000003456789000), hi = UINT64_C(0xffffff8012345000);
    a_map(e, &e->lo, lo, 3, PA0, A_AF);
    a_map(e, &e->hi, hi, 3, PA1, A_AF);
    a_expect_pa(e, lo, VM_ACCESS_READ, PA0);
    a_expect_pa(e, hi, VM_ACCESS_READ, PA1);
    /* Bit 39 set in a TTBR0 address / clear in a TTBR1 address: out of
     * range, whatever the tables hold at the index bits below. */
    const vm_gva_t bad_lo = lo | (UINT64_C(1) << 39), bad_hi = hi & ~(UINT64_C(1) << 39);
    const vm_fault_t *f = a_expect_fault(e, bad_lo, VM_ACCESS_READ, VM_ERR_PAGE_FAULT,
                                         VM_FAULT_TRANSLATION, 0, A_FSC_TRANSLATION(0));
    assert_int_equal(f->pte_addr, 0); /* no descriptor was read */
    a_expect_translation(e, bad_hi, VM_ACCESS_WRITE, 0);
    a_expect_translation(e, UINT64_C(0x0000800000000000), VM_ACCESS_EXEC, 0);
}

/* TCR_EL1.EPD0/EPD1 (D17): "A TLB miss on a virtual address that is
 * translated using TTBRn_EL1 generates a Translation fault. No translation
 * table walk is performed." TTW: "if !basefound || disabled then
 * TranslationFault(level 0)". */
static void test_arm64_epd_disables_walks(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    a_map(e, &e->hi, VA1, 3, PA1, A_AF);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    e->regs.tcr |= VM_ARM64_TCR_EPD0;
    a_apply(e);
    a_expect_translation(e, VA0, VM_ACCESS_READ, 0);
    a_expect_pa(e, VA1, VM_ACCESS_READ, PA1);
    e->regs.tcr = (e->regs.tcr & ~VM_ARM64_TCR_EPD0) | VM_ARM64_TCR_EPD1;
    a_apply(e);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    a_expect_translation(e, VA1, VM_ACCESS_EXEC, 0);
}

/* D8 "Address tagging" / AddrTop: with TBI0 = 1 the top byte of a TTBR0
 * address is ignored ("top = 55"); with TBI0 = 0 it takes part in the
 * range check, so a tagged address is out of range (level 0 Translation
 * fault). */
static void test_arm64_tbi0_ignores_top_byte(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    a_expect_translation(e, VA0 | TAG(0x5a), VM_ACCESS_READ, 0);
    e->regs.tcr |= VM_ARM64_TCR_TBI0;
    a_apply(e);
    a_expect_pa(e, (VA0 | TAG(0x5a)) + OFF, VM_ACCESS_READ, PA0 + OFF);
    a_expect_pa(e, (VA0 | TAG(0x01)) + OFF, VM_ACCESS_WRITE, PA0 + OFF);
    a_expect_pa(e, VA0 + OFF, VM_ACCESS_READ, PA0 + OFF);
}

/* AddrTop: "if tbi == '1' && (!HavePACExt() || tbid == '0' || !IsInstr)
 * then 55": vmmem has no TCR.TBID, so TBI covers instruction fetches too. */
static void test_arm64_tbi_applies_to_instruction_fetch(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    e->regs.tcr |= VM_ARM64_TCR_TBI0;
    a_apply(e);
    a_expect_pa(e, VA0 | TAG(0x80), VM_ACCESS_EXEC, PA0);
}

/* AddrTop picks TBI1 for an address with bit 55 = 1: it covers the upper
 * range independently of TBI0. */
static void test_arm64_tbi1_covers_upper_range_only(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    a_map(e, &e->hi, VA1, 3, PA1, A_AF);
    e->regs.tcr |= VM_ARM64_TCR_TBI1;
    a_apply(e);
    a_expect_pa(e, (VA1 & ~TAG(0xff)) | TAG(0x3c), VM_ACCESS_READ, PA1);
    a_expect_translation(e, VA0 | TAG(0x3c), VM_ACCESS_READ, 0);
}

/* ---- Granules and start levels (D8 "Overview of VMSAv8-64 address
 * translation using the 4KB/16KB/64KB translation granule"; TTW "level =
 * 4 - RoundUp((inputsize - grainsize) / stride)") -------------------------- */

struct start_case {
    unsigned granule;   /* log2 */
    unsigned txsz;
    int start_level;    /* from the manual's tables */
};

/* 4 KiB: TxSZ 16-24 level 0, 25-33 level 1, 34-39 level 2.
 * 16 KiB: 16 level 0 (resolving VA[47] only), 17-27 level 1, 28-38 level 2,
 * 39 level 3. 64 KiB: 16-21 level 1, 22-34 level 2, 35-39 level 3. */
static const struct start_case start_cases[] = {
    {12, 16, 0}, {12, 24, 0}, {12, 25, 1}, {12, 33, 1}, {12, 34, 2}, {12, 39, 2},
    {14, 16, 0}, {14, 17, 1}, {14, 27, 1}, {14, 28, 2}, {14, 38, 2}, {14, 39, 3},
    {16, 16, 1}, {16, 21, 1}, {16, 22, 2}, {16, 34, 2}, {16, 35, 3}, {16, 39, 3},
};

static uint64_t tg0_of(unsigned granule)
{
    return granule == 12 ? VM_ARM64_TCR_TG0_4K
                         : granule == 14 ? VM_ARM64_TCR_TG0_16K : VM_ARM64_TCR_TG0_64K;
}

static uint64_t tg1_of(unsigned granule)
{
    return granule == 12 ? VM_ARM64_TCR_TG1_4K
                         : granule == 14 ? VM_ARM64_TCR_TG1_16K : VM_ARM64_TCR_TG1_64K;
}

/* Both ranges, each with its own TxSZ and TGn field. */
static void test_arm64_start_level_per_granule_and_txsz(void **state)
{
    struct a_env *e = *state;
    for (size_t i = 0; i < sizeof(start_cases) / sizeof(start_cases[0]); i++) {
        const struct start_case *c = &start_cases[i];
        const unsigned inputsize = 64 - c->txsz;
        const uint64_t page = UINT64_C(1) << c->granule;
        const uint64_t range = (UINT64_C(1) << inputsize) - 1;
        const vm_gpa_t pa0 = A_DATA + 0x50000, pa1 = A_DATA + 0x90000; /* 64 KiB aligned */
        /* fresh roots for each case (granule aligned) */
        const vm_gpa_t root0 = a_new_table(e, 16), root1 = a_new_table(e, 16);
        e->lo = (struct a_space){c->granule, c->start_level, inputsize, root0};
        e->hi = (struct a_space){c->granule, c->start_level, inputsize, root1};
        e->regs.ttbr0 = a_ttbr(root0, A_ASID);
        e->regs.ttbr1 = a_ttbr(root1, 0);
        e->regs.tcr = VM_ARM64_TCR_T0SZ(c->txsz) | tg0_of(c->granule) |
                      VM_ARM64_TCR_T1SZ(c->txsz) | tg1_of(c->granule) | VM_ARM64_TCR_IPS(5);
        a_apply(e);
        const vm_gva_t lo = (VA0 & range) & ~(page - 1);
        const vm_gva_t hi = (VA1 | ~range) & ~(page - 1);
        /* Empty roots: the fault names the start level. */
        a_expect_translation(e, lo, VM_ACCESS_READ, c->start_level);
        a_expect_translation(e, hi, VM_ACCESS_READ, c->start_level);
        a_map(e, &e->lo, lo, 3, pa0, A_AF);
        a_map(e, &e->hi, hi, 3, pa1, A_AF);
        a_flush(e);
        a_expect_pa(e, lo + OFF, VM_ACCESS_READ, pa0 + OFF);
        a_expect_pa(e, hi + OFF, VM_ACCESS_READ, pa1 + OFF);
        /* The ends of each range translate through the last / first
         * entries of every level. */
        const vm_gva_t lo_last = range & ~(page - 1), hi_first = ~range;
        a_map(e, &e->lo, lo_last, 3, pa1, A_AF);
        a_map(e, &e->hi, hi_first, 3, pa0, A_AF);
        a_flush(e);
        a_expect_pa(e, lo_last + OFF, VM_ACCESS_READ, pa1 + OFF);
        a_expect_pa(e, hi_first + OFF, VM_ACCESS_READ, pa0 + OFF);
    }
}

/* D17 TCR_EL1.TG0 (00 4KB, 01 64KB, 10 16KB) and TG1 (01 16KB, 10 4KB,
 * 11 64KB) encode the granules differently: TG0 = 01 with TG1 = 01 is a
 * 64 KiB lower range next to a 16 KiB upper range. */
static void test_arm64_tg0_tg1_encodings_differ(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr = VM_ARM64_TCR_T0SZ(16) | VM_ARM64_TCR_T1SZ(16) | (UINT64_C(1) << 14) |
                  (UINT64_C(1) << 30) | VM_ARM64_TCR_IPS(5);
    a_apply(e);
    e->lo = (struct a_space){16, 1, 48, A_ROOT0}; /* 64 KiB, T0SZ 16: level 1 */
    e->hi = (struct a_space){14, 0, 48, A_ROOT1}; /* 16 KiB, T1SZ 16: level 0 */
    const vm_gva_t lo = VA0 & ~UINT64_C(0xffff), hi = VA1 & ~UINT64_C(0x3fff);
    a_map(e, &e->lo, lo, 3, A_DATA + 0x10000, A_AF);
    a_map(e, &e->hi, hi, 3, A_DATA + 0x4000, A_AF);
    /* A 64 KiB page keeps VA[15:0]; a 16 KiB page VA[13:0]. */
    a_expect_pa(e, lo + 0xabcd, VM_ACCESS_READ, A_DATA + 0x10000 + 0xabcd);
    a_expect_pa(e, hi + 0x2bcd, VM_ACCESS_READ, A_DATA + 0x4000 + 0x2bcd);
}

/* ---- Descriptor types (D8 "VMSAv8-64 translation table descriptor
 * formats"; TTW) ------------------------------------------------------------ */

/* 4 KiB granule: block descriptors at level 1 (1 GiB) and level 2 (2 MiB);
 * the output address is the block's base with VA[29:0] / VA[20:0]. */
static void test_arm64_4k_blocks_at_levels_1_and_2(void **state)
{
    struct a_env *e = *state;
    const vm_gva_t va1g = UINT64_C(0x0000004080000000), va2m = UINT64_C(0x0000000040600000);
    a_map(e, &e->lo, va1g, 1, UINT64_C(0x40000000), A_AF);
    a_map(e, &e->lo, va2m, 2, A_DATA + 0x200000, A_AF);
    a_expect_pa(e, va1g + 0x3456789, VM_ACCESS_READ, UINT64_C(0x40000000) + 0x3456789);
    a_expect_pa(e, va2m + 0x1abcde, VM_ACCESS_WRITE, A_DATA + 0x200000 + 0x1abcde);
}

/* TTW: "if level < firstblocklevel then TranslationFault" - 4 KiB: no block
 * at level 0. */
static void test_arm64_4k_block_at_level0_is_translation_fault(void **state)
{
    struct a_env *e = *state;
    a_poke(e, A_ROOT0 + 8 * ((VA0 >> 39) & 511), A_AF | A_BLOCK);
    a_expect_translation(e, VA0, VM_ACCESS_READ, 0);
}

/* 16 KiB granule: a block only at level 2 (32 MiB); level 1 (64 GiB) needs
 * 52-bit addresses (firstblocklevel = 2). */
static void test_arm64_16k_blocks(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr = (e->regs.tcr & ~(UINT64_C(3) << 14)) | VM_ARM64_TCR_TG0_16K;
    a_apply(e);
    e->lo = (struct a_space){14, 0, 48, A_ROOT0};
    const vm_gva_t va = UINT64_C(0x0000123456000000); /* 32 MiB aligned */
    a_map(e, &e->lo, va, 2, UINT64_C(0x2000000), A_AF);
    a_expect_pa(e, va + 0x1234567, VM_ACCESS_READ, UINT64_C(0x2000000) + 0x1234567);
    const vm_gva_t va1 = UINT64_C(0x0000400000000000);
    a_map(e, &e->lo, va1, 1, 0, A_AF);
    a_expect_translation(e, va1, VM_ACCESS_READ, 1);
}

/* 64 KiB granule: a block only at level 2 (512 MiB); level 1 (4 TiB) needs
 * 52-bit addresses. */
static void test_arm64_64k_blocks(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr = (e->regs.tcr & ~(UINT64_C(3) << 14)) | VM_ARM64_TCR_TG0_64K;
    a_apply(e);
    e->lo = (struct a_space){16, 1, 48, A_ROOT0};
    const vm_gva_t va = UINT64_C(0x0000123460000000); /* 512 MiB aligned */
    a_map(e, &e->lo, va, 2, UINT64_C(0x20000000), A_AF);
    a_expect_pa(e, va + 0x1234567, VM_ACCESS_EXEC, UINT64_C(0x20000000) + 0x1234567);
    const vm_gva_t va1 = UINT64_C(0x0000440000000000);
    a_map(e, &e->lo, va1, 1, 0, A_AF);
    a_expect_translation(e, va1, VM_ACCESS_READ, 1);
}

/* TTW: "if desc<0> == '0' || (desc<1:0> == '01' && level == 3) then
 * TranslationFault(level)": invalid at every level, and 01 at level 3. */
static void test_arm64_invalid_descriptors(void **state)
{
    struct a_env *e = *state;
    const vm_gpa_t leaf = map_va0(e, A_AF);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    a_poke(e, leaf, PA0 | A_AF | A_BLOCK);
    a_flush(e);
    const vm_fault_t *f = a_expect_fault(e, VA0, VM_ACCESS_READ, VM_ERR_PAGE_FAULT,
                                         VM_FAULT_TRANSLATION, 3, A_FSC_TRANSLATION(3));
    assert_int_equal(f->pte_addr, leaf);
    assert_int_equal(f->pte, PA0 | A_AF | A_BLOCK);
    a_poke(e, leaf, PA0 | A_AF | 3);
    /* bit 0 clear, every other bit set */
    for (int level = 3; level >= 0; level--) {
        vm_gpa_t slot = a_slot(e, &e->lo, VA0, level);
        uint64_t saved = a_phys(e, slot);
        a_poke(e, slot, ~UINT64_C(1));
        a_flush(e);
        a_expect_translation(e, VA0, VM_ACCESS_WRITE, level);
        a_poke(e, slot, saved);
    }
    a_flush(e);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
}

/* ---- Address size (TTW: "outputsize", the TTBR, next-table and output
 * address checks; D8 "Address size configuration") ------------------------ */

static void set_ips(struct a_env *e, unsigned ips)
{
    e->regs.tcr = (e->regs.tcr & ~VM_ARM64_TCR_IPS(7)) | VM_ARM64_TCR_IPS(ips);
    a_apply(e);
}

/* TTW: "if outputsize < 48 && !IsZero(baseregister<47:outputsize>) then
 * AddressSizeFault(level 0)". IPS 000 = 32 bits. */
static void test_arm64_ttbr_above_pa_size_is_address_size_fault(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    set_ips(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    e->regs.ttbr0 |= UINT64_C(1) << 32;
    a_apply(e);
    a_flush(e);
    const vm_fault_t *f = a_expect_fault(e, VA0, VM_ACCESS_READ, VM_ERR_PAGE_FAULT,
                                         VM_FAULT_ADDRESS_SIZE, 0, A_FSC_ADDRESS_SIZE(0));
    assert_int_equal(f->pte_addr, 0);
}

/* TTW, table descriptor: "if outputsize < 48 && !IsZero(desc<47:outputsize>)
 * then AddressSizeFault(level)" - at the level of the table descriptor. */
static void test_arm64_next_table_above_pa_size_is_address_size_fault(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    set_ips(e, 1); /* 36 bits */
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    vm_gpa_t l1 = a_slot(e, &e->lo, VA0, 1);
    a_poke(e, l1, a_phys(e, l1) | (UINT64_C(1) << 36));
    a_flush(e);
    a_expect_address_size(e, VA0, VM_ACCESS_READ, 1);
}

/* TTW, leaf: the output address must fit in the PA size; at the leaf level.
 * IPS 001 = 36 bits: OA 2^36 - 4K translates, 2^36 does not. */
static void test_arm64_output_address_above_pa_size_is_address_size_fault(void **state)
{
    struct a_env *e = *state;
    set_ips(e, 1);
    vm_gpa_t leaf = map_va0(e, A_AF);
    a_poke(e, leaf, ((UINT64_C(1) << 36) - 0x1000) | A_AF | 3);
    a_expect_pa(e, VA0 + OFF, VM_ACCESS_READ, (UINT64_C(1) << 36) - 0x1000 + OFF);
    a_poke(e, leaf, (UINT64_C(1) << 36) | A_AF | 3);
    a_flush(e);
    a_expect_address_size(e, VA0, VM_ACCESS_WRITE, 3);
    /* a 2 MiB block at level 2 reports level 2 */
    const vm_gva_t va2m = UINT64_C(0x0000000040600000);
    a_map(e, &e->lo, va2m, 2, UINT64_C(1) << 40, A_AF);
    a_expect_address_size(e, va2m, VM_ACCESS_EXEC, 2);
}

/* TTW: "if outputsize > PAMax() then outputsize = PAMax()": IPS 48 bits
 * with an implemented PA size of 36 bits (ID_AA64MMFR0_EL1.PARange). */
static void test_arm64_ips_capped_at_implemented_pa_size(void **state)
{
    struct a_env *e = *state;
    vm_gpa_t leaf = map_va0(e, A_AF);
    a_poke(e, leaf, (UINT64_C(1) << 36) | A_AF | 3);
    a_expect_pa(e, VA0, VM_ACCESS_READ, UINT64_C(1) << 36); /* PARange 48: fits */
    e->regs.pa_bits = 36;
    a_apply(e);
    a_expect_address_size(e, VA0, VM_ACCESS_READ, 3);
}

/* TTW: "if (outputsize < 52 && largegrain && !IsZero(desc<15:12>)) ...
 * AddressSizeFault": with a 64 KiB granule descriptor bits [15:12] hold
 * OA[51:48], which no PA size below 52 bits admits. */
static void test_arm64_64k_oa_bits_51_48_are_address_size_fault(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr = (e->regs.tcr & ~(UINT64_C(3) << 14)) | VM_ARM64_TCR_TG0_64K;
    a_apply(e);
    e->lo = (struct a_space){16, 1, 48, A_ROOT0};
    const vm_gva_t va = VA0 & ~UINT64_C(0xffff);
    vm_gpa_t leaf = a_map(e, &e->lo, va, 3, A_DATA, A_AF);
    a_expect_pa(e, va, VM_ACCESS_READ, A_DATA);
    a_poke(e, leaf, A_DATA | (UINT64_C(1) << 12) | A_AF | 3);
    a_flush(e);
    a_expect_address_size(e, va, VM_ACCESS_READ, 3);
}

/* vmmem's choice (vmmem/arm64.h): TCR.IPS 110 (52 bits only with FEAT_LPA)
 * and 111 (reserved) act as 48 bits. */
static void test_arm64_reserved_ips_acts_as_48_bits(void **state)
{
    struct a_env *e = *state;
    vm_gpa_t leaf = map_va0(e, A_AF);
    a_poke(e, leaf, (UINT64_C(1) << 47) | A_AF | 3);
    for (unsigned ips = 6; ips <= 7; ips++) {
        set_ips(e, ips);
        a_expect_pa(e, VA0, VM_ACCESS_READ, UINT64_C(1) << 47);
    }
}

/* vmmem's choice for TTBR BADDR bits below the table alignment (RES0;
 * CONSTRAINED UNPREDICTABLE when set): ignored, as TTW's "baseaddress =
 * baseregister<47:baselowerbound>" does. */
static void test_arm64_ttbr_bits_below_table_alignment_ignored(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    e->regs.ttbr0 |= UINT64_C(0xff8);
    a_apply(e);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
}

/* vmmem's choice for RES0 output-address bits below a block's size: TTW
 * builds the output address from "desc<47:addrselectbottom>" and ignores
 * them; likewise bits [51:48] of a 4 KiB page descriptor. */
static void test_arm64_res0_descriptor_bits_ignored(void **state)
{
    struct a_env *e = *state;
    const vm_gva_t va2m = UINT64_C(0x0000000040600000);
    a_map(e, &e->lo, va2m, 2, A_DATA + 0x200000 + 0x1000, A_AF); /* bit 12 set */
    a_expect_pa(e, va2m + 0x345, VM_ACCESS_READ, A_DATA + 0x200000 + 0x345);
    map_va0(e, A_AF | (UINT64_C(0x3) << 48));
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
}

/* The contiguous hint is a hint: vmmem ignores it, so the IMPLEMENTATION
 * DEFINED "Translation fault on misprogrammed contiguous bit" (TTW) is not
 * taken. */
static void test_arm64_contiguous_hint_ignored(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF | VM_ARM64_CONTIGUOUS);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
}

/* A descriptor read that hits no RAM is a synchronous external abort on
 * the translation table walk: FSC 0b0101LL with the level of the lookup
 * (EncodeLDFSC), VM_ERR_ACCESS_FAULT (vmmem/arm64.h). */
static void test_arm64_table_outside_ram_is_external_abort_on_walk(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    vm_gpa_t l1 = a_slot(e, &e->lo, VA0, 1);
    uint64_t saved = a_phys(e, l1);
    a_poke(e, l1, UINT64_C(0x40000000) | 3); /* level 2 table at 1 GiB: no RAM */
    a_flush(e);
    const vm_fault_t *f = a_expect_fault(e, VA0, VM_ACCESS_READ, VM_ERR_ACCESS_FAULT,
                                         VM_FAULT_ACCESS, 2, A_FSC_EXT_ABORT_WALK(2));
    assert_int_equal(f->pte_addr, UINT64_C(0x40000000) + 8 * ((VA0 >> 21) & 511));
    a_poke(e, l1, saved);
    e->regs.ttbr0 = a_ttbr(UINT64_C(0x40000000), A_ASID);
    a_apply(e);
    a_flush(e);
    a_expect_fault(e, VA0, VM_ACCESS_WRITE, VM_ERR_ACCESS_FAULT, VM_FAULT_ACCESS, 0,
                   A_FSC_EXT_ABORT_WALK(0));
}

/* ---- Data access permissions (D8 "Data access permissions for stage 1",
 * the AP[2:1] table; CheckPermission) ------------------------------------- */

/* AP[2:1]: 00 EL1 RW / EL0 none; 01 RW / RW; 10 EL1 RO / EL0 none;
 * 11 RO / RO. */
static void test_arm64_ap_data_permissions(void **state)
{
    struct a_env *e = *state;
    static const struct {
        unsigned ap;
        bool el1_r, el1_w, el0_r, el0_w;
    } table[] = {
        {0, true, true, false, false},
        {1, true, true, true, true},
        {2, true, false, false, false},
        {3, true, false, true, false},
    };
    vm_gpa_t leaf = map_va0(e, A_AF);
    for (size_t i = 0; i < 4; i++) {
        a_poke(e, leaf, PA0 | A_AF | A_AP(table[i].ap) | 3);
        a_flush(e);
        for (unsigned el = 0; el <= 1; el++) {
            a_set_el(e, el);
            bool r = el ? table[i].el1_r : table[i].el0_r;
            bool w = el ? table[i].el1_w : table[i].el0_w;
            if (r)
                a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
            else
                a_expect_permission(e, VA0, VM_ACCESS_READ, 3);
            if (w)
                a_expect_pa(e, VA0, VM_ACCESS_WRITE, PA0);
            else
                a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
        }
    }
}

/* D8 "Instruction execution permissions": UXN is execute-never at EL0,
 * PXN at EL1 (CheckPermission: user_xn = xn ..., priv_xn = pxn ...). */
static void test_arm64_uxn_and_pxn(void **state)
{
    struct a_env *e = *state;
    vm_gpa_t leaf = map_va0(e, A_AF | A_AP(3)); /* read-only at both ELs */
    for (unsigned el = 0; el <= 1; el++) {
        a_set_el(e, el);
        a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
    }
    a_poke(e, leaf, PA0 | A_AF | A_AP(3) | A_UXN | 3);
    a_flush(e);
    a_set_el(e, 0);
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0); /* XN is not a data permission */
    a_set_el(e, 1);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
    a_poke(e, leaf, PA0 | A_AF | A_AP(3) | A_PXN | 3);
    a_flush(e);
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
    a_set_el(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
}

/* CheckPermission: "priv_xn = perms.pxn == '1' || (priv_w && wxn) ||
 * user_w" - EL1 never executes memory writable at EL0 (AP = 01), even
 * without PXN; EL0 may. */
static void test_arm64_el1_never_executes_el0_writable(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF | A_AP(1));
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
    a_set_el(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
}

/* SCTLR_EL1.WXN (D17): "any region that is writable in the EL1&0
 * translation regime is forced to XN" - CheckPermission: "user_xn = ... ||
 * (user_w && wxn)", "priv_xn = ... || (priv_w && wxn)". */
static void test_arm64_wxn_makes_writable_execute_never(void **state)
{
    struct a_env *e = *state;
    vm_gpa_t leaf = map_va0(e, A_AF | A_AP(0)); /* EL1 writable */
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
    a_set_wxn(e, true);
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
    a_poke(e, leaf, PA0 | A_AF | A_AP(2) | 3); /* EL1 read-only */
    a_flush(e);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
    a_set_el(e, 0);
    a_poke(e, leaf, PA0 | A_AF | A_AP(1) | 3); /* EL0 writable */
    a_flush(e);
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
    a_poke(e, leaf, PA0 | A_AF | A_AP(3) | 3); /* EL0 read-only */
    a_flush(e);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
}

/* PSTATE.PAN (D8 "Privileged access never"; CheckPermission: "if pan ==
 * '1' && user_r && ispriv && is_ldst then priv_r = FALSE; priv_w = FALSE"):
 * EL1 loads and stores fault on memory EL0 can read (AP[1] = 1); fetches
 * and EL0 are not affected. */
static void test_arm64_pan_blocks_el1_data_access_to_el0_memory(void **state)
{
    struct a_env *e = *state;
    vm_gpa_t leaf = map_va0(e, A_AF | A_AP(1));
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    a_set_pan(e, 1);
    a_expect_permission(e, VA0, VM_ACCESS_READ, 3);
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
    a_poke(e, leaf, PA0 | A_AF | A_AP(3) | 3);
    a_flush(e);
    a_expect_permission(e, VA0, VM_ACCESS_READ, 3);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0); /* not is_ldst */
    a_set_el(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    a_set_el(e, 1);
    a_poke(e, leaf, PA0 | A_AF | A_AP(0) | 3); /* EL0 cannot read: PAN irrelevant */
    a_flush(e);
    a_expect_pa(e, VA0, VM_ACCESS_WRITE, PA0);
}

/* ---- Hierarchical permissions (D8 "Hierarchical control of data access
 * permissions", "... of instruction fetching"; TTW ap_table, xn_table,
 * pxn_table, "hierattrsdisabled") ------------------------------------------ */

/* Remap VA0 with `bits` in the level 1 table descriptor. */
static void map_va0_under(struct a_env *e, uint64_t table_bits, uint64_t leaf_attrs)
{
    a_poke(e, a_slot_bits(e, &e->lo, VA0, 3, table_bits), PA0 | leaf_attrs | 3);
}

/* APTable[1] (bit 62): "no write access at any EL" below - ap[2] |=
 * ap_table[1]. */
static void test_arm64_aptable_read_only(void **state)
{
    struct a_env *e = *state;
    map_va0_under(e, A_APTABLE(2), A_AF | A_AP(1));
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
    a_set_el(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
}

/* APTable[0] (bit 61): "no access from EL0" below - ap[1] &= !ap_table[0];
 * with PAN the page is then no longer EL0-accessible, so EL1 may use it. */
static void test_arm64_aptable_no_el0(void **state)
{
    struct a_env *e = *state;
    map_va0_under(e, A_APTABLE(1), A_AF | A_AP(1));
    a_set_el(e, 0);
    a_expect_permission(e, VA0, VM_ACCESS_READ, 3);
    a_set_el(e, 1);
    a_set_pan(e, 1);
    a_expect_pa(e, VA0, VM_ACCESS_WRITE, PA0);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0); /* user_w is false too */
}

/* UXNTable (bit 60): execute-never at EL0 below ("xn_table"). */
static void test_arm64_uxntable(void **state)
{
    struct a_env *e = *state;
    map_va0_under(e, A_UXNTABLE, A_AF | A_AP(3));
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
    a_set_el(e, 0);
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
}

/* PXNTable (bit 59): execute-never at EL1 below ("pxn_table"). */
static void test_arm64_pxntable(void **state)
{
    struct a_env *e = *state;
    map_va0_under(e, A_PXNTABLE, A_AF | A_AP(3));
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
    a_set_el(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
}

/* The hierarchical limits accumulate over every table descriptor of the
 * walk (TTW ORs each level's bits). */
static void test_arm64_hierarchical_limits_accumulate(void **state)
{
    struct a_env *e = *state;
    /* APTable[1] on the level 0 descriptor, UXNTable on the level 2 one */
    vm_gpa_t l0 = a_slot(e, &e->lo, VA0, 0);
    a_slot(e, &e->lo, VA0, 1);
    a_poke(e, l0, a_phys(e, l0) | A_APTABLE(2));
    vm_gpa_t l2 = a_slot(e, &e->lo, VA0, 2);
    vm_gpa_t leaf = a_slot(e, &e->lo, VA0, 3);
    a_poke(e, l2, a_phys(e, l2) | A_UXNTABLE);
    a_poke(e, leaf, PA0 | A_AF | A_AP(1) | 3);
    a_set_el(e, 0);
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
}

/* TCR_EL1.HPD0/HPD1 (D17, FEAT_HPDS): "Hierarchical permissions are
 * disabled" - APTable, UXNTable, PXNTable are ignored for that range. */
static void test_arm64_hpd_disables_hierarchical_permissions(void **state)
{
    struct a_env *e = *state;
    map_va0_under(e, A_APTABLE(3) | A_UXNTABLE | A_PXNTABLE, A_AF | A_AP(1));
    a_poke(e, a_slot_bits(e, &e->hi, VA1, 3, A_APTABLE(3)), PA1 | A_AF | 3);
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
    a_expect_permission(e, VA1, VM_ACCESS_WRITE, 3);
    e->regs.tcr |= VM_ARM64_TCR_HPD0;
    a_apply(e);
    a_expect_pa(e, VA0, VM_ACCESS_WRITE, PA0);
    a_expect_permission(e, VA1, VM_ACCESS_WRITE, 3); /* HPD1 still 0 */
    a_set_el(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
    e->regs.tcr |= VM_ARM64_TCR_HPD1;
    a_set_el(e, 1);
    a_expect_pa(e, VA1, VM_ACCESS_WRITE, PA1);
}

/* ---- The Access flag (D8 "The Access flag"; TTW "if desc<10> == '0'") -- */

/* Without TCR.HA: "AccessFlagFault(level)"; the descriptor is not changed. */
static void test_arm64_af_clear_is_access_flag_fault(void **state)
{
    struct a_env *e = *state;
    vm_gpa_t leaf = map_va0(e, 0);
    const vm_fault_t *f = a_expect_fault(e, VA0, VM_ACCESS_READ, VM_ERR_PAGE_FAULT,
                                         VM_FAULT_ACCESS_FLAG, 3, A_FSC_ACCESS_FLAG(3));
    assert_int_equal(f->pte_addr, leaf);
    assert_int_equal(a_phys(e, leaf), PA0 | 3);
    const vm_gva_t va2m = UINT64_C(0x0000000040600000);
    a_map(e, &e->lo, va2m, 2, A_DATA + 0x200000, 0);
    a_expect_access_flag(e, va2m, VM_ACCESS_EXEC, 2);
}

/* With TCR.HA = 1 the hardware sets AF ("descupdate.AF = TRUE";
 * CheckAndUpdateDescriptor "desc<10> = '1'"); nothing else changes. */
static void test_arm64_ha_sets_access_flag(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr |= VM_ARM64_TCR_HA;
    a_apply(e);
    vm_gpa_t leaf = map_va0(e, A_AP(2) | A_NG);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    assert_int_equal(a_phys(e, leaf), PA0 | A_AP(2) | A_NG | A_AF | 3);
}

/* vmmem's choice where CheckAndUpdateDescriptor allows either
 * (ConstrainUnpredictable(Unpredictable_AFUPDATE)): an access that takes a
 * Permission fault does not set AF. */
static void test_arm64_ha_does_not_set_af_on_permission_fault(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr |= VM_ARM64_TCR_HA;
    a_apply(e);
    vm_gpa_t leaf = map_va0(e, A_AP(2));
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
    assert_int_equal(a_phys(e, leaf), PA0 | A_AP(2) | 3);
}

/* The order TTW and AArch64.FirstStageTranslate check in: Translation
 * (block level) before Address size, Address size before Access flag,
 * Access flag before Permission. */
static void test_arm64_fault_priority(void **state)
{
    struct a_env *e = *state;
    set_ips(e, 1); /* 36 bits */
    vm_gpa_t leaf = map_va0(e, 0);
    /* AF = 0 and a write to a read-only page: Access flag fault */
    a_poke(e, leaf, PA0 | A_AP(2) | 3);
    a_expect_access_flag(e, VA0, VM_ACCESS_WRITE, 3);
    /* ... and the output address too wide: Address size fault */
    a_poke(e, leaf, (UINT64_C(1) << 40) | A_AP(2) | 3);
    a_expect_address_size(e, VA0, VM_ACCESS_WRITE, 3);
    /* a block at level 0 (4 KiB) with a too-wide address: Translation */
    const vm_gva_t va = UINT64_C(0x0000008000000000);
    a_poke(e, A_ROOT0 + 8 * ((va >> 39) & 511), (UINT64_C(1) << 40) | A_BLOCK);
    a_expect_translation(e, va, VM_ACCESS_READ, 0);
}

/* vm_mmu_invalidate_reservation translates without side effects (the
 * walk's speculative mode, mmu.h): it neither sets AF nor faults. */
static void test_arm64_speculative_lookup_sets_no_af(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr |= VM_ARM64_TCR_HA;
    a_apply(e);
    vm_gpa_t leaf = map_va0(e, 0);
    vm_mmu_invalidate_reservation(e->mmu, VA0, 8);
    assert_int_equal(a_phys(e, leaf), PA0 | 3);
}

/* ---- Dirty state (D8 "Hardware management of the dirty state"; TTW
 * update_AP; CheckAndUpdateDescriptor) ------------------------------------ */

static void set_ha_hd(struct a_env *e, bool ha, bool hd)
{
    e->regs.tcr &= ~(VM_ARM64_TCR_HA | VM_ARM64_TCR_HD);
    e->regs.tcr |= (ha ? VM_ARM64_TCR_HA : 0) | (hd ? VM_ARM64_TCR_HD : 0);
    a_apply(e);
}

/* With HA = HD = 1 a write to a writable-clean page (DBM = 1, AP[2] = 1)
 * clears AP[2] ("desc<7> = '0'") instead of faulting; a read changes
 * nothing. */
static void test_arm64_hd_write_clears_ap2(void **state)
{
    struct a_env *e = *state;
    set_ha_hd(e, true, true);
    vm_gpa_t leaf = map_va0(e, A_AF | A_DBM | A_AP(2));
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    assert_int_equal(a_phys(e, leaf), PA0 | A_AF | A_DBM | A_AP(2) | 3);
    assert_int_equal(vm_mmu_write(e->mmu, VA0 + 8, 0x1122334455667788u, 8), VM_OK);
    assert_int_equal(a_phys(e, leaf), PA0 | A_AF | A_DBM | A_AP(0) | 3);
    assert_int_equal(a_phys(e, PA0 + 8), 0x1122334455667788u);
}

/* Without HD, or with HD but not HA ("update_AP = ... update_AF && HD"),
 * DBM is ignored: the write is a Permission fault, nothing changes. */
static void test_arm64_dbm_without_hd_is_permission_fault(void **state)
{
    struct a_env *e = *state;
    vm_gpa_t leaf = map_va0(e, A_AF | A_DBM | A_AP(2));
    set_ha_hd(e, true, false);
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
    set_ha_hd(e, false, true);
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
    assert_int_equal(a_phys(e, leaf), PA0 | A_AF | A_DBM | A_AP(2) | 3);
}

/* APTable[1] still makes the page read-only: "perms.ap[2] = ap[2] OR
 * ap_table[1]" after the dirty-state clear; no update for a faulting
 * write. */
static void test_arm64_dbm_under_read_only_table_faults(void **state)
{
    struct a_env *e = *state;
    set_ha_hd(e, true, true);
    map_va0_under(e, A_APTABLE(2), A_AF | A_DBM | A_AP(2));
    vm_gpa_t leaf = a_slot(e, &e->lo, VA0, 3);
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
    assert_int_equal(a_phys(e, leaf), PA0 | A_AF | A_DBM | A_AP(2) | 3);
}

/* The walk's copy has AP[2] = 0 for a DBM page under HD, and
 * CheckPermission judges that copy: AP[2:1] = 11 with DBM is writable at
 * EL0, so EL1 may not execute it (and WXN makes it XN at EL0). */
static void test_arm64_dbm_page_counts_as_writable_for_execute(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF | A_DBM | A_AP(3));
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
    set_ha_hd(e, true, true);
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
    a_set_el(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA0);
    a_set_wxn(e, true);
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
}

/* One update sets AF and clears AP[2] for the first write to a fresh
 * page. */
static void test_arm64_af_and_dirty_in_one_update(void **state)
{
    struct a_env *e = *state;
    set_ha_hd(e, true, true);
    vm_gpa_t leaf = map_va0(e, A_DBM | A_AP(3));
    a_set_el(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_WRITE, PA0);
    assert_int_equal(a_phys(e, leaf), PA0 | A_AF | A_DBM | A_AP(1) | 3);
}

/* ---- Syndrome (AArch64.FaultSyndrome, AArch64.ExceptionClass) ------------ */

/* EC 0x20/0x21 instruction abort from EL0/EL1, 0x24/0x25 data abort;
 * WnR (ISS bit 6) only for a data write. a_expect_fault checks both, here
 * for every (EL, access) pair on an empty level 0 table. */
static void test_arm64_syndrome_ec_and_wnr(void **state)
{
    struct a_env *e = *state;
    for (unsigned el = 0; el <= 1; el++) {
        a_set_el(e, el);
        for (int k = 0; k < 3; k++)
            a_expect_translation(e, VA0, a_kinds[k], 0); /* empty level 0 table */
    }
}

/* ---- Stage 1 off (AArch64.TranslateAddressS1Off) ------------------------- */

/* SCTLR_EL1.M = 0: the PA is the VA, no tables are read. */
static void test_arm64_stage1_off_is_flat(void **state)
{
    struct a_env *e = *state;
    e->regs.sctlr = 0;
    a_apply(e);
    for (int k = 0; k < 3; k++)
        a_expect_pa(e, UINT64_C(0x123456789a), a_kinds[k], UINT64_C(0x123456789a));
}

/* "if !IsZero(vaddress<Top:PAMax()>) then AddressSizeFault(level 0)"; Top
 * is 55 with TBI (which applies with stage 1 off too), so the tag is
 * dropped. */
static void test_arm64_stage1_off_address_size_and_tbi(void **state)
{
    struct a_env *e = *state;
    e->regs.sctlr = 0;
    e->regs.pa_bits = 40;
    a_apply(e);
    a_expect_pa(e, (UINT64_C(1) << 40) - 8, VM_ACCESS_READ, (UINT64_C(1) << 40) - 8);
    a_expect_address_size(e, UINT64_C(1) << 40, VM_ACCESS_READ, 0);
    a_expect_address_size(e, TAG(0x12) | 0x1000, VM_ACCESS_WRITE, 0);
    e->regs.tcr |= VM_ARM64_TCR_TBI0;
    a_apply(e);
    a_expect_pa(e, TAG(0x12) | 0x1000, VM_ACCESS_WRITE, 0x1000);
    a_expect_address_size(e, UINT64_C(1) << 55, VM_ACCESS_READ, 0); /* bit 55: TBI1 = 0 */
}

/* vmmem/arm64.h: "The initial state is all zero (stage 1 off)", with the
 * default PA size of 48 bits: a new MMU switched to VM_PAGING_ARM64 maps
 * flat up to 2^48 and reports VA bit 48 as an Address size fault. */
static void test_arm64_initial_state_is_stage1_off(void **state)
{
    (void)state;
    struct a_env e = {0};
    e.mmu = vm_mmu_new(A_RAM_SIZE, false);
    assert_non_null(e.mmu);
    vm_mmu_set_paging_mode(e.mmu, VM_PAGING_ARM64);
    vm_arm64_regs_t r;
    vm_mmu_arm64_regs(e.mmu, &r);
    const vm_arm64_regs_t zero = {0};
    assert_memory_equal(&r, &zero, sizeof(r));
    e.regs = r;
    a_expect_pa(&e, (UINT64_C(1) << 48) - 8, VM_ACCESS_READ, (UINT64_C(1) << 48) - 8);
    a_expect_address_size(&e, UINT64_C(1) << 48, VM_ACCESS_EXEC, 0);
    vm_mmu_free(e.mmu);
}

/* ---- Register state (vmmem/arm64.h contract of vm_mmu_set_arm64_regs) --- */

static void expect_refused(struct a_env *e, const vm_arm64_regs_t *r, vm_err_t want)
{
    vm_arm64_regs_t before, after;
    vm_mmu_arm64_regs(e->mmu, &before);
    assert_int_equal(vm_mmu_set_arm64_regs(e->mmu, r), want);
    vm_mmu_arm64_regs(e->mmu, &after);
    assert_memory_equal(&before, &after, sizeof(before));
}

static void test_arm64_register_validation(void **state)
{
    struct a_env *e = *state;
    map_va0(e, A_AF);
    vm_arm64_regs_t r = e->regs;
    assert_int_equal(vm_mmu_set_arm64_regs(e->mmu, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_set_arm64_regs(NULL, &r), VM_ERR_INVALID_ARGUMENT);
    r.el = 2;
    expect_refused(e, &r, VM_ERR_INVALID_ARGUMENT);
    r = e->regs;
    r.pan = 2;
    expect_refused(e, &r, VM_ERR_INVALID_ARGUMENT);
    r = e->regs;
    r.pa_bits = 47;
    expect_refused(e, &r, VM_ERR_INVALID_ARGUMENT);
    r = e->regs;
    r.tcr |= VM_ARM64_TCR_DS;
    expect_refused(e, &r, VM_ERR_UNSUPPORTED);
    r = e->regs;
    r.tcr = (r.tcr & ~VM_ARM64_TCR_T0SZ(63)) | VM_ARM64_TCR_T0SZ(15);
    expect_refused(e, &r, VM_ERR_INVALID_ARGUMENT);
    r.tcr = (r.tcr & ~VM_ARM64_TCR_T0SZ(63)) | VM_ARM64_TCR_T0SZ(40);
    expect_refused(e, &r, VM_ERR_INVALID_ARGUMENT);
    r = e->regs;
    r.tcr = (r.tcr & ~VM_ARM64_TCR_T1SZ(63)) | VM_ARM64_TCR_T1SZ(63);
    expect_refused(e, &r, VM_ERR_INVALID_ARGUMENT);
    r = e->regs;
    r.tcr = (r.tcr & ~(UINT64_C(3) << 14)) | A_TCR_TG0_RESERVED;
    expect_refused(e, &r, VM_ERR_INVALID_ARGUMENT);
    r = e->regs;
    r.tcr = (r.tcr & ~(UINT64_C(3) << 30)) | A_TCR_TG1_RESERVED;
    expect_refused(e, &r, VM_ERR_INVALID_ARGUMENT);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0); /* still the old state */

    /* Accepted: a disabled range (EPDn = 1) or stage 1 off needs no valid
     * TxSZ/TG; every pa_bits value of the list; fields vmmem does not use
     * read back unchanged. */
    r = e->regs;
    r.tcr = (r.tcr & ~(VM_ARM64_TCR_T1SZ(63) | (UINT64_C(3) << 30))) | VM_ARM64_TCR_EPD1 |
            A_TCR_TG1_RESERVED;
    r.sctlr |= UINT64_C(1) << 2; /* SCTLR.C */
    r.ttbr0 |= 1;                /* CnP */
    assert_int_equal(vm_mmu_set_arm64_regs(e->mmu, &r), VM_OK);
    vm_arm64_regs_t back;
    vm_mmu_arm64_regs(e->mmu, &back);
    assert_memory_equal(&back, &r, sizeof(r));
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA0);
    static const uint8_t sizes[] = {0, 32, 36, 40, 42, 44, 48};
    for (size_t i = 0; i < sizeof(sizes); i++) {
        r.pa_bits = sizes[i];
        assert_int_equal(vm_mmu_set_arm64_regs(e->mmu, &r), VM_OK);
    }
    r = e->regs;
    r.sctlr = 0;
    r.tcr = UINT64_C(0x3f) | A_TCR_TG0_RESERVED;
    assert_int_equal(vm_mmu_set_arm64_regs(e->mmu, &r), VM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, a_setup, a_teardown)
        T(test_arm64_two_ranges_translate),
        T(test_arm64_4k_levels_resolve_va_bits),
        T(test_arm64_range_selected_by_bit55),
        T(test_arm64_va_outside_range_is_level0_translation_fault),
        T(test_arm64_epd_disables_walks),
        T(test_arm64_tbi0_ignores_top_byte),
        T(test_arm64_tbi_applies_to_instruction_fetch),
        T(test_arm64_tbi1_covers_upper_range_only),
        T(test_arm64_start_level_per_granule_and_txsz),
        T(test_arm64_tg0_tg1_encodings_differ),
        T(test_arm64_4k_blocks_at_levels_1_and_2),
        T(test_arm64_4k_block_at_level0_is_translation_fault),
        T(test_arm64_16k_blocks),
        T(test_arm64_64k_blocks),
        T(test_arm64_invalid_descriptors),
        T(test_arm64_ttbr_above_pa_size_is_address_size_fault),
        T(test_arm64_next_table_above_pa_size_is_address_size_fault),
        T(test_arm64_output_address_above_pa_size_is_address_size_fault),
        T(test_arm64_ips_capped_at_implemented_pa_size),
        T(test_arm64_64k_oa_bits_51_48_are_address_size_fault),
        T(test_arm64_reserved_ips_acts_as_48_bits),
        T(test_arm64_ttbr_bits_below_table_alignment_ignored),
        T(test_arm64_res0_descriptor_bits_ignored),
        T(test_arm64_contiguous_hint_ignored),
        T(test_arm64_table_outside_ram_is_external_abort_on_walk),
        T(test_arm64_ap_data_permissions),
        T(test_arm64_uxn_and_pxn),
        T(test_arm64_el1_never_executes_el0_writable),
        T(test_arm64_wxn_makes_writable_execute_never),
        T(test_arm64_pan_blocks_el1_data_access_to_el0_memory),
        T(test_arm64_aptable_read_only),
        T(test_arm64_aptable_no_el0),
        T(test_arm64_uxntable),
        T(test_arm64_pxntable),
        T(test_arm64_hierarchical_limits_accumulate),
        T(test_arm64_hpd_disables_hierarchical_permissions),
        T(test_arm64_af_clear_is_access_flag_fault),
        T(test_arm64_ha_sets_access_flag),
        T(test_arm64_ha_does_not_set_af_on_permission_fault),
        T(test_arm64_fault_priority),
        T(test_arm64_speculative_lookup_sets_no_af),
        T(test_arm64_hd_write_clears_ap2),
        T(test_arm64_dbm_without_hd_is_permission_fault),
        T(test_arm64_dbm_under_read_only_table_faults),
        T(test_arm64_dbm_page_counts_as_writable_for_execute),
        T(test_arm64_af_and_dirty_in_one_update),
        T(test_arm64_syndrome_ec_and_wnr),
        T(test_arm64_stage1_off_is_flat),
        T(test_arm64_stage1_off_address_size_and_tbi),
        T(test_arm64_register_validation),
        cmocka_unit_test(test_arm64_initial_state_is_stage1_off),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
