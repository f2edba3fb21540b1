/*
 * test_arm64_tlb.c - what the TLB may and must do in VM_PAGING_ARM64: ASID
 * tagging (8 or 16 bits, TCR.AS; TTBR0 or TTBR1 per TCR.A1), global
 * entries (nG = 0), each TLBI operation, which register writes flush
 * (TCR, SCTLR.M, the PA size) and which do not (TTBR), the permission
 * context applied live (EL, PSTATE.PAN, SCTLR.WXN), nothing cached that
 * would need an Access flag or dirty-state update, and top-byte-ignored
 * addresses sharing one entry.
 *
 * Sources: Arm ARM D8 "Translation Lookaside Buffers (TLBs)" (what a TLB
 * may hold: "global and process-specific translation table entries", an
 * entry is used only for a matching ASID unless it is global; entries of
 * changed tables may be used until invalidated), C5.5 TLBI (ASIDE1, VAE1,
 * VAAE1, VALE1, VAALE1, VMALLE1: the Xt operand, "Global TLB entries that
 * match the VA value will be affected ... regardless of the value of the
 * ASID field"), D17 TCR_EL1 ("Any of the bits in TCR_EL1, other than the
 * EPDx bits when they have the value 1, and the A1 bit are permitted to be
 * cached in a TLB"; AS, A1), and the contracts in vmmem/arm64.h and
 * vmmem/mmu.h (vmmem's flush choices). A stale translation is observable
 * through vm_mmu_translate after a descriptor change without TLBI: the
 * tests use that to see whether an entry is still there.
 *
 * Fixture: arm64_test_common.h.
 */
#include "arm64_test_common.h"

#define VA0 UINT64_C(0x0000123456789000)
#define VA2 UINT64_C(0x0000123456a00000) /* another page, same tables below level 2 */
#define VA1 UINT64_C(0xffff800012345000)
#define PA_OLD (A_DATA + UINT64_C(0x5000))
#define PA_NEW (A_DATA + UINT64_C(0x6000))
#define TAG(t) ((uint64_t)(t) << 56)

static void set_asid0(struct a_env *e, uint64_t asid)
{
    e->regs.ttbr0 = a_ttbr(A_ROOT0, asid);
    a_apply(e);
}

/* Map va -> PA_OLD, translate it once (fill), then repoint the descriptor
 * at PA_NEW without any TLBI. Returns the leaf slot. */
static vm_gpa_t fill_then_repoint(struct a_env *e, const struct a_space *s, vm_gva_t va,
                                  uint64_t attrs)
{
    vm_gpa_t leaf = a_map(e, s, va, 3, PA_OLD, attrs);
    a_expect_pa(e, va, VM_ACCESS_READ, PA_OLD);
    a_poke(e, leaf, PA_NEW | attrs | 3);
    return leaf;
}

static void stats(struct a_env *e, uint64_t *hits, uint64_t *misses)
{
    vm_mmu_tlb_stats(e->mmu, hits, misses);
}

/* ---- ASIDs and global entries ------------------------------------------ */

/* TCR.AS = 0: "the upper 8 bits of TTBR0_EL1.ASID and TTBR1_EL1.ASID are
 * ignored by hardware ... and treated as if they are all zeros": ASIDs
 * 0x0105 and 0x0205 are the same address space. */
static void test_arm64_tlb_8bit_asids(void **state)
{
    struct a_env *e = *state;
    set_asid0(e, 0x0105);
    fill_then_repoint(e, &e->lo, VA0, A_AF | A_NG);
    set_asid0(e, 0x0205);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD); /* same 8-bit ASID: the entry hits */
    set_asid0(e, 0x0006);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_NEW); /* another ASID: a walk */
}

/* TCR.AS = 1: 16-bit ASIDs; 0x0105 and 0x0205 are different spaces, and
 * an entry of one stays usable after switching back. */
static void test_arm64_tlb_16bit_asids(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr |= VM_ARM64_TCR_AS;
    a_apply(e);
    set_asid0(e, 0x0105);
    fill_then_repoint(e, &e->lo, VA0, A_AF | A_NG);
    set_asid0(e, 0x0205);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_NEW);
    set_asid0(e, 0x0105);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
}

/* TCR.A1 = 1: "TTBR1_EL1.ASID defines the ASID" - TTBR0's ASID no longer
 * matters. */
static void test_arm64_tlb_a1_takes_asid_from_ttbr1(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr |= VM_ARM64_TCR_A1;
    e->regs.ttbr1 = a_ttbr(A_ROOT1, 7);
    a_apply(e);
    fill_then_repoint(e, &e->lo, VA0, A_AF | A_NG);
    set_asid0(e, 9);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    e->regs.ttbr1 = a_ttbr(A_ROOT1, 8);
    a_apply(e);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_NEW);
}

/* nG = 0: a global entry matches every ASID; nG = 1 only its own. */
static void test_arm64_tlb_global_entries_match_every_asid(void **state)
{
    struct a_env *e = *state;
    fill_then_repoint(e, &e->lo, VA0, A_AF);        /* global */
    fill_then_repoint(e, &e->lo, VA2, A_AF | A_NG); /* ASID 1 */
    set_asid0(e, 2);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    a_expect_pa(e, VA2, VM_ACCESS_READ, PA_NEW);
}

/* ---- TLBI (C5.5) ---------------------------------------------------------- */

/* xt for the VA forms: VA[55:12] in bits 43:0, ASID in bits 63:48. */
static uint64_t xt_va(vm_gva_t va, uint64_t asid)
{
    return ((va >> 12) & ((UINT64_C(1) << 44) - 1)) | (asid << 48);
}

/*
 * The scene for the TLBI tests, all filled and then repointed at PA_NEW:
 * VA0 non-global in ASID 1 and ASID 2 (same tables), VA2 non-global in
 * ASID 1, VA1 (upper range) global. Ends in ASID 1.
 */
static void tlbi_scene(struct a_env *e)
{
    vm_gpa_t l0 = a_map(e, &e->lo, VA0, 3, PA_OLD, A_AF | A_NG);
    vm_gpa_t l2 = a_map(e, &e->lo, VA2, 3, PA_OLD, A_AF | A_NG);
    vm_gpa_t l1 = a_map(e, &e->hi, VA1, 3, PA_OLD, A_AF);
    set_asid0(e, 2);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    set_asid0(e, 1);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    a_expect_pa(e, VA2, VM_ACCESS_READ, PA_OLD);
    a_expect_pa(e, VA1, VM_ACCESS_READ, PA_OLD);
    a_poke(e, l0, PA_NEW | A_AF | A_NG | 3);
    a_poke(e, l2, PA_NEW | A_AF | A_NG | 3);
    a_poke(e, l1, PA_NEW | A_AF | 3);
}

/* Which of the scene's entries survived: PA_OLD means still cached. */
static void expect_scene(struct a_env *e, vm_gpa_t va0_asid1, vm_gpa_t va0_asid2, vm_gpa_t va2,
                         vm_gpa_t va1)
{
    a_expect_pa(e, VA2, VM_ACCESS_READ, va2);
    a_expect_pa(e, VA1, VM_ACCESS_READ, va1);
    a_expect_pa(e, VA0, VM_ACCESS_READ, va0_asid1);
    set_asid0(e, 2);
    a_expect_pa(e, VA0, VM_ACCESS_READ, va0_asid2);
    set_asid0(e, 1);
}

static void tlbi(struct a_env *e, vm_arm64_tlbi_t op, uint64_t xt)
{
    assert_int_equal(vm_mmu_arm64_tlbi(e->mmu, op, xt), VM_OK);
}

/* TLBI VMALLE1: every entry of the regime, global ones too. */
static void test_arm64_tlbi_vmalle1(void **state)
{
    struct a_env *e = *state;
    tlbi_scene(e);
    tlbi(e, VM_ARM64_TLBI_VMALLE1, 0);
    expect_scene(e, PA_NEW, PA_NEW, PA_NEW, PA_NEW);
}

/* TLBI ASIDE1: the entries of that ASID; "global entries are not
 * affected" (nor other ASIDs). */
static void test_arm64_tlbi_aside1(void **state)
{
    struct a_env *e = *state;
    tlbi_scene(e);
    tlbi(e, VM_ARM64_TLBI_ASIDE1, UINT64_C(1) << 48);
    expect_scene(e, PA_NEW, PA_OLD, PA_NEW, PA_OLD);
}

/* TLBI VAE1 / VALE1: the VA's entries of that ASID, and the VA's global
 * entries "regardless of the value of the ASID field". */
static void test_arm64_tlbi_vae1_and_vale1(void **state)
{
    struct a_env *e = *state;
    tlbi_scene(e);
    tlbi(e, VM_ARM64_TLBI_VAE1, xt_va(VA0, 1));
    tlbi(e, VM_ARM64_TLBI_VALE1, xt_va(VA1, 3)); /* global: any ASID field */
    expect_scene(e, PA_NEW, PA_OLD, PA_OLD, PA_NEW);
}

/* TLBI VAAE1 / VAALE1: the VA's entries in every ASID. */
static void test_arm64_tlbi_vaae1_and_vaale1(void **state)
{
    struct a_env *e = *state;
    tlbi_scene(e);
    tlbi(e, VM_ARM64_TLBI_VAAE1, xt_va(VA0, 0x55));
    expect_scene(e, PA_NEW, PA_NEW, PA_OLD, PA_OLD);
    tlbi(e, VM_ARM64_TLBI_VAALE1, xt_va(VA2, 0));
    tlbi(e, VM_ARM64_TLBI_VAALE1, xt_va(VA1, 0));
    a_expect_pa(e, VA2, VM_ACCESS_READ, PA_NEW);
    a_expect_pa(e, VA1, VM_ACCESS_READ, PA_NEW);
}

/* With 8-bit ASIDs (TCR.AS = 0) software must write Xt[63:56] as zero;
 * vmmem ignores those bits (vmmem/arm64.h), so entries of ASID 1 go. */
static void test_arm64_tlbi_8bit_asid_operand(void **state)
{
    struct a_env *e = *state;
    tlbi_scene(e);
    tlbi(e, VM_ARM64_TLBI_ASIDE1, UINT64_C(0xab01) << 48);
    expect_scene(e, PA_NEW, PA_OLD, PA_NEW, PA_OLD);
}

/* The VA forms invalidate every entry holding the VA: a 2 MiB block entry
 * goes for any VA inside it. */
static void test_arm64_tlbi_va_inside_block(void **state)
{
    struct a_env *e = *state;
    const vm_gva_t va = UINT64_C(0x0000000040600000);
    vm_gpa_t slot = a_map(e, &e->lo, va, 2, A_DATA + 0x200000, A_AF | A_NG);
    a_expect_pa(e, va + 0x1000, VM_ACCESS_READ, A_DATA + 0x201000);
    a_poke(e, slot, (A_DATA + 0x400000) | A_AF | A_NG | 1);
    a_expect_pa(e, va + 0x2000, VM_ACCESS_READ, A_DATA + 0x202000); /* still cached */
    tlbi(e, VM_ARM64_TLBI_VAE1, xt_va(va + 0x1ff000, 1));
    a_expect_pa(e, va + 0x2000, VM_ACCESS_READ, A_DATA + 0x402000);
}

/* An unknown operation is refused and invalidates nothing. */
static void test_arm64_tlbi_unknown_op(void **state)
{
    struct a_env *e = *state;
    tlbi_scene(e);
    assert_int_equal(vm_mmu_arm64_tlbi(e->mmu, (vm_arm64_tlbi_t)99, 0), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_arm64_tlbi(NULL, VM_ARM64_TLBI_VMALLE1, 0), VM_ERR_INVALID_ARGUMENT);
    expect_scene(e, PA_OLD, PA_OLD, PA_OLD, PA_OLD);
}

/* ---- Register writes --------------------------------------------------- */

/* A TTBR write does not invalidate (vmmem/arm64.h): entries of the same
 * ASID filled from the old tables may still be used (D8: software changing
 * the tables without a new ASID must invalidate). */
static void test_arm64_ttbr_write_does_not_flush(void **state)
{
    struct a_env *e = *state;
    a_map(e, &e->lo, VA0, 3, PA_OLD, A_AF | A_NG);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    const vm_gpa_t root = a_new_table(e, 12);
    struct a_space other = {12, 0, 48, root};
    a_map(e, &other, VA0, 3, PA_NEW, A_AF | A_NG);
    e->regs.ttbr0 = a_ttbr(root, A_ASID);
    a_apply(e);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    tlbi(e, VM_ARM64_TLBI_ASIDE1, A_ASID << 48);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_NEW);
}

/* A change of any TCR_EL1 bit drops every entry (vmmem's choice: the
 * architecture lets a TLB cache TCR fields, vmmem caches none). */
static void test_arm64_tcr_write_flushes(void **state)
{
    struct a_env *e = *state;
    fill_then_repoint(e, &e->lo, VA0, A_AF);
    e->regs.tcr |= VM_ARM64_TCR_TBI1; /* unrelated to the entry */
    a_apply(e);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_NEW);
}

/* So do SCTLR.M and the PA size; writing the same values again does not. */
static void test_arm64_sctlr_m_and_pa_size_writes_flush(void **state)
{
    struct a_env *e = *state;
    vm_gpa_t leaf = fill_then_repoint(e, &e->lo, VA0, A_AF);
    a_apply(e); /* unchanged registers */
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    e->regs.sctlr = 0;
    a_apply(e);
    a_expect_pa(e, VA0, VM_ACCESS_READ, VA0); /* flat */
    e->regs.sctlr = VM_ARM64_SCTLR_M;
    a_apply(e);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_NEW);
    a_poke(e, leaf, PA_OLD | A_AF | 3);
    e->regs.pa_bits = 44;
    a_apply(e);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
}

/* ---- The permission context is applied live (vmmem/mmu.h: EL, PAN, WXN
 * are read on every access) ------------------------------------------------ */

static void test_arm64_el_pan_wxn_apply_without_flush(void **state)
{
    struct a_env *e = *state;
    a_map(e, &e->lo, VA0, 3, PA_OLD, A_AF | A_AP(1)); /* RW at EL0 and EL1 */
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    a_set_pan(e, 1);
    a_expect_permission(e, VA0, VM_ACCESS_READ, 3);
    a_set_el(e, 0);
    a_expect_pa(e, VA0, VM_ACCESS_WRITE, PA_OLD);
    a_expect_pa(e, VA0, VM_ACCESS_EXEC, PA_OLD);
    a_set_wxn(e, true);
    a_expect_permission(e, VA0, VM_ACCESS_EXEC, 3);
    a_set_wxn(e, false);
    a_set_el(e, 1);
    a_expect_permission(e, VA0, VM_ACCESS_WRITE, 3);
    a_set_pan(e, 0);
    uint64_t h0, m0, h1, m1;
    stats(e, &h0, &m0);
    a_expect_pa(e, VA0, VM_ACCESS_WRITE, PA_OLD);
    stats(e, &h1, &m1);
    assert_int_equal(m1, m0); /* served by the entry filled at the start */
    assert_int_equal(h1, h0 + 1);
}

/* ---- Nothing cached that needs an update (vmmem/mmu.h) ------------------- */

/* A faulting walk caches nothing: with HA = 0 an AF = 0 page faults; once
 * software sets AF (no TLBI) the access succeeds. */
static void test_arm64_access_flag_fault_not_cached(void **state)
{
    struct a_env *e = *state;
    vm_gpa_t leaf = a_map(e, &e->lo, VA0, 3, PA_OLD, 0);
    a_expect_access_flag(e, VA0, VM_ACCESS_READ, 3);
    a_poke(e, leaf, PA_OLD | A_AF | 3);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
}

/* A writable-clean page (DBM, AP[2] = 1, HA = HD = 1) is cached read-only:
 * the first write walks and clears AP[2]; later writes hit. */
static void test_arm64_writable_clean_page_cached_read_only(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr |= VM_ARM64_TCR_HA | VM_ARM64_TCR_HD;
    a_apply(e);
    vm_gpa_t leaf = a_map(e, &e->lo, VA0, 3, PA_OLD, A_DBM | A_AP(2));
    uint64_t h0, m0, h1, m1;
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD); /* sets AF, caches read-only */
    assert_int_equal(a_phys(e, leaf), PA_OLD | A_AF | A_DBM | A_AP(2) | 3);
    stats(e, &h0, &m0);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    a_expect_pa(e, VA0, VM_ACCESS_WRITE, PA_OLD);
    stats(e, &h1, &m1);
    assert_int_equal(h1, h0 + 1); /* the read hit ... */
    assert_int_equal(m1, m0 + 1); /* ... the write walked */
    assert_int_equal(a_phys(e, leaf), PA_OLD | A_AF | A_DBM | 3);
    a_expect_pa(e, VA0, VM_ACCESS_WRITE, PA_OLD);
    stats(e, &h0, &m0);
    assert_int_equal(m0, m1);
}

/* The same through the access path (level-0 fast array): a store after
 * loads still walks and marks the page dirty. */
static void test_arm64_store_after_loads_marks_dirty(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr |= VM_ARM64_TCR_HA | VM_ARM64_TCR_HD;
    a_apply(e);
    vm_gpa_t leaf = a_map(e, &e->lo, VA0, 3, PA_OLD, A_DBM | A_AP(2));
    uint64_t v = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(vm_mmu_read(e->mmu, VA0 + 16, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write(e->mmu, VA0 + 16, 0xabcdef, 8), VM_OK);
    assert_int_equal(a_phys(e, leaf), PA_OLD | A_AF | A_DBM | 3);
    assert_int_equal(a_phys(e, PA_OLD + 16), 0xabcdef);
}

/* ---- Top-byte ignore and the TLB (arm64_before_tlb: the TLB tag) -------- */

/* With TBI the tagged and untagged forms of an address are one
 * translation: one entry serves both. */
static void test_arm64_tbi_tagged_addresses_share_an_entry(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr |= VM_ARM64_TCR_TBI0;
    a_apply(e);
    a_map(e, &e->lo, VA0, 3, PA_OLD, A_AF);
    uint64_t h0, m0, h1, m1;
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    stats(e, &h0, &m0);
    a_expect_pa(e, VA0 | TAG(0x5a), VM_ACCESS_READ, PA_OLD);
    a_expect_pa(e, VA0 | TAG(0xff), VM_ACCESS_READ, PA_OLD);
    stats(e, &h1, &m1);
    assert_int_equal(m1, m0);
    assert_int_equal(h1, h0 + 2);
}

/* A TLBI by VA (which carries VA[55:12] only) removes the translation for
 * every tag, including the level-0 fast slots of tagged loads. */
static void test_arm64_tbi_tlbi_reaches_tagged_accesses(void **state)
{
    struct a_env *e = *state;
    e->regs.tcr |= VM_ARM64_TCR_TBI0;
    a_apply(e);
    vm_gpa_t leaf = a_map(e, &e->lo, VA0, 3, PA_OLD, A_AF);
    a_poke(e, PA_OLD + 8, 0x1111);
    a_poke(e, PA_NEW + 8, 0x2222);
    uint64_t v = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vm_mmu_read(e->mmu, (VA0 | TAG(0x42)) + 8, 8, &v), VM_OK);
        assert_int_equal(v, 0x1111);
    }
    a_poke(e, leaf, PA_NEW | A_AF | 3);
    tlbi(e, VM_ARM64_TLBI_VAAE1, xt_va(VA0, 0));
    assert_int_equal(vm_mmu_read(e->mmu, (VA0 | TAG(0x42)) + 8, 8, &v), VM_OK);
    assert_int_equal(v, 0x2222);
}

/* Without TBI a VA whose top byte is not all copies of bit 55 is outside
 * both ranges: it must fault even after the canonical VA was cached. */
static void test_arm64_untagged_range_va_never_hits_another_entry(void **state)
{
    struct a_env *e = *state;
    a_map(e, &e->lo, VA0, 3, PA_OLD, A_AF);
    a_expect_pa(e, VA0, VM_ACCESS_READ, PA_OLD);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(e->mmu, VA0, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_read(e->mmu, VA0, 8, &v), VM_OK);
    a_expect_translation(e, VA0 | TAG(0x01), VM_ACCESS_READ, 0);
    assert_int_equal(vm_mmu_read(e->mmu, VA0 | TAG(0x01), 8, &v), VM_ERR_PAGE_FAULT);
    a_expect_translation(e, VA0 | TAG(0x80), VM_ACCESS_EXEC, 0);
}

/* The upper range works the same way (VA1's tag). */
static void test_arm64_upper_range_entries(void **state)
{
    struct a_env *e = *state;
    fill_then_repoint(e, &e->hi, VA1, A_AF | A_NG);
    a_expect_pa(e, VA1, VM_ACCESS_READ, PA_OLD);
    tlbi(e, VM_ARM64_TLBI_VAE1, xt_va(VA1, A_ASID));
    a_expect_pa(e, VA1, VM_ACCESS_READ, PA_NEW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, a_setup, a_teardown)
        T(test_arm64_tlb_8bit_asids),
        T(test_arm64_tlb_16bit_asids),
        T(test_arm64_tlb_a1_takes_asid_from_ttbr1),
        T(test_arm64_tlb_global_entries_match_every_asid),
        T(test_arm64_tlbi_vmalle1),
        T(test_arm64_tlbi_aside1),
        T(test_arm64_tlbi_vae1_and_vale1),
        T(test_arm64_tlbi_vaae1_and_vaale1),
        T(test_arm64_tlbi_8bit_asid_operand),
        T(test_arm64_tlbi_va_inside_block),
        T(test_arm64_tlbi_unknown_op),
        T(test_arm64_ttbr_write_does_not_flush),
        T(test_arm64_tcr_write_flushes),
        T(test_arm64_sctlr_m_and_pa_size_writes_flush),
        T(test_arm64_el_pan_wxn_apply_without_flush),
        T(test_arm64_access_flag_fault_not_cached),
        T(test_arm64_writable_clean_page_cached_read_only),
        T(test_arm64_store_after_loads_marks_dirty),
        T(test_arm64_tbi_tagged_addresses_share_an_entry),
        T(test_arm64_tbi_tlbi_reaches_tagged_accesses),
        T(test_arm64_untagged_range_va_never_hits_another_entry),
        T(test_arm64_upper_range_entries),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
