/*
 * arm64.c - AArch64 stage 1 EL1&0 state: the registers
 * (vm_mmu_set_arm64_regs), the permission context and ASID (arm64_refresh),
 * top-byte ignore and stage 1 off (arm64_before_tlb), TLB maintenance
 * (vm_mmu_arm64_tlbi), and the syndrome of faults found outside the walk.
 *
 * How it works
 *   vm_mmu_set_arm64_regs() validates the whole state, then decodes it into
 *   struct mmu_arm64 (arm64_int.h): per VA range the granule, start level,
 *   start-level index width, table base, the VA range test and the masks of
 *   descriptor bits that make an address too wide - the values
 *   AArch64.TranslationTableWalk derives from TCR_EL1 and TTBRn_EL1 on every
 *   walk (Arm ARM D8, "Translation table walks"; D17 TCR_EL1). The walk
 *   (walk_arm64.c) reads only this decoded form.
 *
 *   arm64_refresh() gives the generic MMU its three derived fields:
 *   identity is never set (with SCTLR.M=0 the flat map still has an Address
 *   size check, done by arm64_before_tlb), asid is TTBR1's ASID if TCR.A1
 *   else TTBR0's (bits 7:0 only if TCR.AS=0), need[] is the permission bit
 *   of the context EL x PSTATE.PAN x SCTLR.WXN - or TLB_PERM_NEVER with
 *   stage 1 off, so no TLB entry ever serves an access then.
 *
 *   arm64_before_tlb() runs before every TLB lookup. With stage 1 on it
 *   only computes the VA the TLB is tagged with: when TBI applies to the VA
 *   (AddrTop returns 55) bits 63:56 are replaced by copies of bit 55, so
 *   every tag of one address shares one entry, and a TLBI (which carries
 *   VA[55:12]) finds it; when TBI does not apply the VA is kept whole, so a
 *   VA with a top byte that is not all copies of bit 55 - out of both
 *   ranges - can never match an entry filled for another VA. With stage 1
 *   off it is the translation: AArch64.TranslateAddressS1Off.
 *
 * TLB flush choices (vmmem/arm64.h, vm_mmu_set_arm64_regs)
 *   "Any of the bits in TCR_EL1, other than the EPDx bits when they have
 *   the value 1, and the A1 bit are permitted to be cached in a TLB" (D17
 *   TCR_EL1): vmmem caches none of them but flushes on any TCR change, on
 *   SCTLR.M and on the PA size - simpler than tracking which field an
 *   entry depends on, and those writes are rare. TTBR writes flush nothing:
 *   entries are ASID-tagged, and a TLB may hold entries of the old tables
 *   until software invalidates them. EL, PAN and WXN are the permission
 *   context: applied on every access.
 *
 * What was rejected
 *   - Decoding TCR on every walk (as the pseudocode reads it): a dozen
 *     field extractions and a division per TLB miss.
 *   - Treating SCTLR.M=0 as mmu->identity (the generic identity path): it
 *     would skip the Address size fault for a VA wider than the PA size.
 */
#include "mmu_int.h"

/* TCR_EL1 field extraction (D17 TCR_EL1). */
static unsigned tcr_field(uint64_t tcr, unsigned shift, unsigned bits)
{
    return (unsigned)(tcr >> shift) & ((1u << bits) - 1u);
}

static bool tcr_bit(uint64_t tcr, uint64_t bit)
{
    return (tcr & bit) != 0;
}

/* log2 of the granule of TG0 (00 4 KiB, 01 64 KiB, 10 16 KiB) or TG1 (01
 * 16 KiB, 10 4 KiB, 11 64 KiB): the two fields encode differently (D17
 * TCR_EL1.TG0/TG1). 0 for a reserved encoding. */
static unsigned arm64_granule(unsigned range, unsigned tg)
{
    static const uint8_t tg0[4] = {12, 16, 14, 0};
    static const uint8_t tg1[4] = {0, 14, 12, 16};
    return range == 0 ? tg0[tg & 3] : tg1[tg & 3];
}

/*
 * TCR.IPS (D17 TCR_EL1.IPS): 000 32, 001 36, 010 40, 011 42, 100 44,
 * 101 48 bits; 110 is 52 bits only with FEAT_LPA (out of scope), 111 is
 * reserved. CONSTRAINED UNPREDICTABLE / IMPLEMENTATION DEFINED for those
 * two ("outputsize = if Have52BitPAExt() && largegrain then 52 else 48";
 * "Reserved Intermediate Physical Address size value"): vmmem treats both
 * as 48 bits, which is then capped at the implemented size.
 */
static unsigned arm64_ips_bits(unsigned ips)
{
    static const uint8_t bits[8] = {32, 36, 40, 42, 44, 48, 48, 48};
    return bits[ips & 7];
}

static bool arm64_pa_bits_ok(unsigned pa_bits)
{
    switch (pa_bits) {
    case 0: case 32: case 36: case 40: case 42: case 44: case 48:
        return true;
    default:
        return false;
    }
}

static uint64_t arm64_bits(unsigned hi, unsigned lo)
{
    /* bits [hi:lo], hi < 64, lo <= hi + 1 (empty when lo = hi + 1) */
    uint64_t upto = hi >= 63 ? UINT64_MAX : (UINT64_C(1) << (hi + 1)) - 1;
    return upto & ~((UINT64_C(1) << lo) - 1);
}

/*
 * Decode one range. Returns false if the range can walk (stage 1 on,
 * EPDn = 0) but TxSZ is outside 16..39 or TGn is reserved: vmmem refuses
 * such a state (vmmem/arm64.h) rather than pick among the CONSTRAINED
 * UNPREDICTABLE behaviours (Unpredictable_RESTnSZ, reserved TG values).
 */
static bool arm64_decode_range(struct mmu_arm64 *a, unsigned r)
{
    const uint64_t tcr = a->regs.tcr;
    const uint64_t ttbr = r == 0 ? a->regs.ttbr0 : a->regs.ttbr1;
    const unsigned txsz = tcr_field(tcr, r == 0 ? 0 : 16, 6);
    const unsigned tg = tcr_field(tcr, r == 0 ? 14 : 30, 2);
    const bool epd = tcr_bit(tcr, r == 0 ? VM_ARM64_TCR_EPD0 : VM_ARM64_TCR_EPD1);
    struct arm64_range *R = &a->range[r];

    *R = (struct arm64_range){0};
    R->walks = a->stage1 && !epd;
    if (!R->walks)
        return true; /* a level 0 Translation fault before anything else is read */
    /* TCR.HPDn: "hierattrsdisabled" - APTable, UXNTable, PXNTable ignored. */
    R->hier_mask = tcr_bit(tcr, r == 0 ? VM_ARM64_TCR_HPD0 : VM_ARM64_TCR_HPD1) ? 0 : UINT64_MAX;
    const unsigned granule = arm64_granule(r, tg);
    if (granule == 0 || txsz < 16 || txsz > 39)
        return false;

    const unsigned inputsize = 64 - txsz;
    const unsigned stride = granule - 3;
    /* level = 4 - RoundUp((inputsize - grainsize) / stride) */
    const unsigned start_level = 4 - (inputsize - granule + stride - 1) / stride;
    const unsigned start_shift = (3 - start_level) * stride + granule;
    /* "baselowerbound = 3 + inputsize - ((3-level)*stride + grainsize)":
     * BADDR bits below it are RES0 (the table is aligned to its size); the
     * pseudocode does not use them - vmmem ignores them likewise
     * (CONSTRAINED UNPREDICTABLE in the register text), so every entry read
     * stays 8-byte aligned. */
    const unsigned baselowerbound = 3 + inputsize - start_shift;
    const unsigned top = a->tbi[r] ? 55 : 63;

    R->inputsize = (uint8_t)inputsize;
    R->granule = (uint8_t)granule;
    R->stride = (uint8_t)stride;
    R->start_level = (uint8_t)start_level;
    R->start_bits = (uint8_t)(inputsize - start_shift);
    /* "firstblocklevel": 4 KiB level 1; 16 KiB level 2; 64 KiB level 2
     * (level 1 only with 52-bit output addresses, out of scope). */
    R->first_block = granule == 12 ? 1 : 2;
    R->base = ttbr & arm64_bits(47, baselowerbound);
    /* "if outputsize < 48 && !IsZero(baseregister<47:outputsize>) then
     * AddressSizeFault(level 0)". */
    R->base_too_wide = a->oa_bits < 48 && (ttbr & arm64_bits(47, a->oa_bits)) != 0;
    /* basefound: VA[top:inputsize] all zeros (TTBR0) or all ones (TTBR1). */
    R->range_mask = arm64_bits(top - inputsize, 0);
    R->range_expect = r == 0 ? 0 : R->range_mask;
    /* "(outputsize < 52 && largegrain && !IsZero(desc<15:12>)) ||
     * (outputsize < 48 && !IsZero(desc<47:outputsize>))": Address size
     * fault, for a next-level table and for an output address alike. */
    R->oa_fault_mask = (a->oa_bits < 48 ? arm64_bits(47, a->oa_bits) : 0) |
                       (granule == 16 ? arm64_bits(15, 12) : 0);
    R->table_mask = arm64_bits(47, granule);
    return true;
}

/* Decode regs into *a; false if the state is refused (see above). */
static bool arm64_decode(struct mmu_arm64 *a, const vm_arm64_regs_t *regs)
{
    const uint64_t tcr = regs->tcr;
    a->regs = *regs;
    a->pa_max = (uint8_t)(regs->pa_bits == 0 ? 48 : regs->pa_bits);
    unsigned ips = arm64_ips_bits(tcr_field(tcr, 32, 3));
    a->oa_bits = (uint8_t)(ips < a->pa_max ? ips : a->pa_max); /* "if outputsize > PAMax()" */
    a->stage1 = (regs->sctlr & VM_ARM64_SCTLR_M) != 0;
    a->tbi[0] = tcr_bit(tcr, VM_ARM64_TCR_TBI0);
    a->tbi[1] = tcr_bit(tcr, VM_ARM64_TCR_TBI1);
    /* "update_AF = HaveAccessFlagUpdateExt() && TCR_EL1.HA"; "update_AP =
     * HaveDirtyBitModifierExt() && update_AF && TCR_EL1.HD": dirty state
     * needs the Access flag update too. */
    a->ha = tcr_bit(tcr, VM_ARM64_TCR_HA);
    a->hd = a->ha && tcr_bit(tcr, VM_ARM64_TCR_HD);
    a->dbm_bit = a->hd ? VM_ARM64_DBM : 0;
    /* TCR.A1 selects the TTBR whose ASID is current; with TCR.AS = 0 "the
     * upper 8 bits of TTBR0_EL1.ASID and TTBR1_EL1.ASID are ignored by
     * hardware ... and treated as if they are all zeros" (D17 TCR_EL1.AS). */
    uint64_t ttbr = tcr_bit(tcr, VM_ARM64_TCR_A1) ? regs->ttbr1 : regs->ttbr0;
    uint16_t asid = (uint16_t)(ttbr >> VM_ARM64_TTBR_ASID_SHIFT);
    a->asid = tcr_bit(tcr, VM_ARM64_TCR_AS) ? asid : (uint16_t)(asid & 0xffu);
    return arm64_decode_range(a, 0) && arm64_decode_range(a, 1);
}

vm_err_t vm_mmu_set_arm64_regs(vm_mmu_t *mmu, const vm_arm64_regs_t *regs)
{
    if (!mmu || !regs || regs->el > 1 || regs->pan > 1 || !arm64_pa_bits_ok(regs->pa_bits))
        return VM_ERR_INVALID_ARGUMENT;
    if (regs->tcr & VM_ARM64_TCR_DS)
        return VM_ERR_UNSUPPORTED;
    struct mmu_arm64 next;
    if (!arm64_decode(&next, regs))
        return VM_ERR_INVALID_ARGUMENT;

    const struct mmu_arm64 *old = &mmu->arm;
    bool flush = mmu->mode == VM_PAGING_ARM64 &&
                 (old->regs.tcr != regs->tcr || old->stage1 != next.stage1 ||
                  old->pa_max != next.pa_max);
    mmu->arm = next;
    if (flush)
        mmu_flush_all(mmu);
    mmu_refresh(mmu);
    return VM_OK;
}

/* The reset state (all registers zero: stage 1 off, PA size 48 bits),
 * decoded, for a new MMU (mmu_create). */
void arm64_init(vm_mmu_t *mmu)
{
    static const vm_arm64_regs_t reset;
    walk_arm64_init();
    (void)arm64_decode(&mmu->arm, &reset); /* a zero state always decodes */
}

void vm_mmu_arm64_regs(const vm_mmu_t *mmu, vm_arm64_regs_t *out)
{
    if (mmu && out)
        *out = mmu->arm.regs;
}

void arm64_refresh(vm_mmu_t *mmu)
{
    const struct mmu_arm64 *a = &mmu->arm;
    mmu->identity = false;
    mmu->asid = a->asid;
    mmu_set_need(mmu, a->stage1,
                 arm64_perm_ctx(a->regs.el == 1, a->regs.pan != 0,
                                (a->regs.sctlr & VM_ARM64_SCTLR_WXN) != 0));
}

/* Record a fault found before the walk (stage 1 off). */
static vm_err_t arm64_fault_now(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                                vm_fault_kind_t kind, const char *reason)
{
    if ((flags & WALK_SPECULATIVE) == 0) {
        vm_fault_t f;
        walk_fault_fill(&f, va, access, kind,
                        arm64_exception_class(mmu->arm.regs.el == 1, access),
                        arm64_syndrome(kind, 0, access), reason, 0, 0, 0);
        mmu_fault_set(mmu, &f);
    }
    return VM_ERR_PAGE_FAULT;
}

bool arm64_before_tlb(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                      vm_gva_t *tag_va, vm_gpa_t *pa, vm_err_t *err)
{
    const struct mmu_arm64 *a = &mmu->arm;
    /* AddrTop: TBI0 or TBI1 by VA bit 55 (TCR.TBID is not implemented, so
     * it applies to instruction addresses too); 55 if it is set, else 63. */
    const bool tbi = a->tbi[(va >> 55) & 1] != 0;
    if (VM_LIKELY(a->stage1)) {
        *tag_va = tbi ? arm64_flush_va(va) : va;
        return false;
    }
    /* AArch64.TranslateAddressS1Off: "if !IsZero(vaddress<Top:PAMax()>)
     * then AddressSizeFault(level 0)", else the PA is the VA. */
    const unsigned top = tbi ? 55 : 63;
    const uint64_t above = va >> a->pa_max;
    if ((above & ((UINT64_C(2) << (top - a->pa_max)) - 1)) != 0) {
        *err = arm64_fault_now(mmu, va, access, flags, VM_FAULT_ADDRESS_SIZE,
                               "VA wider than the PA size with stage 1 off");
        return true;
    }
    *pa = va & ((UINT64_C(1) << a->pa_max) - 1);
    *err = VM_OK;
    return true;
}

void arm64_fault_codes(const vm_mmu_t *mmu, vm_fault_kind_t kind, vm_access_t access,
                       uint32_t *cause, uint32_t *syndrome)
{
    *cause = arm64_exception_class(mmu->arm.regs.el == 1, access);
    *syndrome = arm64_syndrome(kind == VM_FAULT_MISALIGNED ? kind : VM_FAULT_ACCESS, -1, access);
}

/*
 * TLBI (C5.5): xt[63:48] is the ASID - with TCR.AS = 0 "the upper 8 bits
 * of the ASID must be written to 0 by software when the context being
 * invalidated only uses 8 bits"; vmmem ignores them then (entries are
 * tagged with 8-bit ASIDs, so this only ever invalidates more) - and
 * xt[43:0] is VA[55:12].
 */
vm_err_t vm_mmu_arm64_tlbi(vm_mmu_t *mmu, vm_arm64_tlbi_t op, uint64_t xt)
{
    if (!mmu)
        return VM_ERR_INVALID_ARGUMENT;
    uint16_t asid = (uint16_t)(xt >> 48);
    if ((mmu->arm.regs.tcr & VM_ARM64_TCR_AS) == 0)
        asid &= 0xffu;
    const vm_gva_t va = arm64_flush_va((xt & arm64_bits(43, 0)) << 12);
    switch (op) {
    case VM_ARM64_TLBI_VMALLE1:
        mmu_flush_all(mmu);
        return VM_OK;
    case VM_ARM64_TLBI_ASIDE1:
        /* "TLB entries ... that match the ASID ... Global entries are not
         * affected" (TLBI ASIDE1). */
        tlb_flush_asid(&mmu->itlb, asid);
        tlb_flush_asid(&mmu->dtlb, asid);
        return VM_OK;
    case VM_ARM64_TLBI_VAE1:
    case VM_ARM64_TLBI_VALE1:
        /* "Global TLB entries that match the VA value will be affected by
         * this System instruction, regardless of the value of the ASID". */
        tlb_flush_va_asid(&mmu->itlb, va, asid, true);
        tlb_flush_va_asid(&mmu->dtlb, va, asid, true);
        return VM_OK;
    case VM_ARM64_TLBI_VAAE1:
    case VM_ARM64_TLBI_VAALE1:
        tlb_flush_va(&mmu->itlb, va);
        tlb_flush_va(&mmu->dtlb, va);
        return VM_OK;
    }
    return VM_ERR_INVALID_ARGUMENT;
}
