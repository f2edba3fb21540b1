/*
 * ref_arm64.c - the reference AArch64 stage 1 EL1&0 translation.
 *
 * How it works: ref_a64_translate() is AArch64.FirstStageTranslate of the
 * Arm ARM pseudocode (DDI0487, as in the v8.5-A machine-readable release),
 * restricted to the EL1&0 regime at EL0/EL1 in Non-secure state with no
 * stage 2, and each step is a function named after the pseudocode's:
 *
 *   first_stage_translate         AArch64.FirstStageTranslate: stage 1 on or
 *                                 off, then the permission check, then the
 *                                 descriptor update, in that order
 *   translate_address_s1_off      AArch64.TranslateAddressS1Off
 *   translation_table_walk        AArch64.TranslationTableWalk, in its own
 *                                 variables: inputaddr, top, inputsize,
 *                                 grainsize, stride, level, firstblocklevel,
 *                                 outputsize, baseregister, baselowerbound,
 *                                 baseaddress, addrselecttop/bottom,
 *                                 ap_table, xn_table, pxn_table, desc
 *   ref_a64_check_permission      AArch64.CheckPermission
 *   check_and_update_descriptor   AArch64.CheckAndUpdateDescriptor
 *   addr_top                      AddrTop
 *   fault()                       AArch64.TranslationFault / AddressSizeFault /
 *                                 AccessFlagFault / PermissionFault, with
 *                                 EncodeLDFSC in ref_a64_fsc()
 *
 * Deliberately slow and obvious: every descriptor is assembled from eight
 * byte reads of m->ram (little-endian, SCTLR_EL1.EE = 0), nothing is
 * cached, and every register field is extracted where the pseudocode uses
 * it. Nothing is shared with core/ (this file sees ref_model.h,
 * ref_arm64.h and libc only).
 *
 * The implementation this models (the features vmmem's arm64.h declares):
 * FEAT_PAN, FEAT_HAFDBS (TCR.HA/HD, DBM), FEAT_HPDS (TCR.HPDn); no FEAT_LPA
 * or FEAT_LVA (48-bit PA and VA, bits[15:12] of a 64 KiB-granule descriptor
 * are not OA bits), no FEAT_TTST (TxSZ 16..39), no FEAT_PAuth (no TBIDn:
 * top-byte ignore applies to fetches too), no FEAT_E0PD, no FEAT_BBM (bit 16
 * nT of a block is not interpreted), no FEAT_BTI (GP ignored), no FEAT_UAO,
 * no FEAT_XNX, PAMax() = pa_bits.
 *
 * Where the pseudocode leaves a choice (CONSTRAINED UNPREDICTABLE or
 * IMPLEMENTATION DEFINED), the model picks, and conformance/README.md
 * lists the picks for the lead to reconcile with the core:
 *  - RESTnSZ (TxSZ above 39): FAULT (a Translation fault, level 0), never
 *    FORCE; vmmem refuses such registers anyway while the range is enabled;
 *  - TCR.IPS 0b110 and the reserved 0b111: 48 bits (then capped at PAMax());
 *  - a TTBR base with bits set below baselowerbound (misaligned table):
 *    those bits are ignored (treated as zero), as the pseudocode's
 *    baseaddress computation does;
 *  - RES0 bits in descriptors (table 51:48, block OA bits below the block
 *    size, page/block 50:48) are ignored; only OA bits above the PA size
 *    are checked (the Address size fault);
 *  - the Contiguous hint never faults ("Translation fault on misprogrammed
 *    contiguous bit" is IMPLEMENTATION DEFINED: no) and is otherwise ignored;
 *  - AFUPDATE: an access that faults after a walk with a pending AF update
 *    (HA = 1, AF = 0, permission fault) leaves the descriptor alone; the
 *    other permitted choice (AF set) is reported in af_unpredictable so the
 *    harness can accept it;
 *  - a descriptor read outside RAM is a synchronous external abort on the
 *    walk at that level (vmmem: VM_ERR_ACCESS_FAULT, FSC 0b0101LL).
 *
 * Rejected: one table-driven loop shared with ref_rv.c (the point is a
 * text that can be read next to the pseudocode); precomputing a "granule
 * descriptor" (the pseudocode derives everything from TCR on each walk, so
 * does this).
 */
#include "ref_model.h"

#include <stdio.h>

/* ---- Bits in the pseudocode's notation ---------------------------------- */

/* x<n> */
static bool bit_of(uint64_t x, int n)
{
    return (x >> n) & 1;
}

/* x<hi:lo>, zero-extended; 0 when hi < lo. */
static uint64_t slice(uint64_t x, int hi, int lo)
{
    if (hi < lo)
        return 0;
    int width = hi - lo + 1;
    uint64_t v = x >> lo;
    return width >= 64 ? v : v & ((UINT64_C(1) << width) - 1);
}

/* IsZero(x<hi:lo>), IsOnes(x<hi:lo>): true for an empty slice. */
static bool is_zero_slice(uint64_t x, int hi, int lo)
{
    return slice(x, hi, lo) == 0;
}

static bool is_ones_slice(uint64_t x, int hi, int lo)
{
    if (hi < lo)
        return true;
    int width = hi - lo + 1;
    uint64_t ones = width >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << width) - 1;
    return slice(x, hi, lo) == ones;
}

/* SignExtend(x<55:0>) */
static uint64_t sign_extend_55(uint64_t x)
{
    return bit_of(x, 55) ? x | (UINT64_C(0xff) << 56) : x & ~(UINT64_C(0xff) << 56);
}

/* ---- Register fields (Arm ARM, TCR_EL1, SCTLR_EL1, TTBRn_EL1) ---------- */
static unsigned tcr_t0sz(const ref_a64_regs_t *r) { return (unsigned)slice(r->tcr, 5, 0); }
static bool tcr_epd0(const ref_a64_regs_t *r) { return bit_of(r->tcr, 7); }
static unsigned tcr_tg0(const ref_a64_regs_t *r) { return (unsigned)slice(r->tcr, 15, 14); }
static unsigned tcr_t1sz(const ref_a64_regs_t *r) { return (unsigned)slice(r->tcr, 21, 16); }
static bool tcr_a1(const ref_a64_regs_t *r) { return bit_of(r->tcr, 22); }
static bool tcr_epd1(const ref_a64_regs_t *r) { return bit_of(r->tcr, 23); }
static unsigned tcr_tg1(const ref_a64_regs_t *r) { return (unsigned)slice(r->tcr, 31, 30); }
static unsigned tcr_ips(const ref_a64_regs_t *r) { return (unsigned)slice(r->tcr, 34, 32); }
static bool tcr_as(const ref_a64_regs_t *r) { return bit_of(r->tcr, 36); }
static bool tcr_tbi0(const ref_a64_regs_t *r) { return bit_of(r->tcr, 37); }
static bool tcr_tbi1(const ref_a64_regs_t *r) { return bit_of(r->tcr, 38); }
static bool tcr_ha(const ref_a64_regs_t *r) { return bit_of(r->tcr, 39); }
static bool tcr_hd(const ref_a64_regs_t *r) { return bit_of(r->tcr, 40); }
static bool tcr_hpd0(const ref_a64_regs_t *r) { return bit_of(r->tcr, 41); }
static bool tcr_hpd1(const ref_a64_regs_t *r) { return bit_of(r->tcr, 42); }
static bool tcr_ds(const ref_a64_regs_t *r) { return bit_of(r->tcr, 59); }
static bool sctlr_m(const ref_a64_regs_t *r) { return bit_of(r->sctlr, 0); }
static bool sctlr_wxn(const ref_a64_regs_t *r) { return bit_of(r->sctlr, 19); }

/* ---- Descriptor fields (Arm ARM D8.3, VMSAv8-64 descriptor formats) ----- */
static bool desc_af(uint64_t d) { return bit_of(d, 10); }
static bool desc_ng(uint64_t d) { return bit_of(d, 11); }
static bool desc_dbm(uint64_t d) { return bit_of(d, 51); }
static bool desc_pxn(uint64_t d) { return bit_of(d, 53); }
static bool desc_uxn(uint64_t d) { return bit_of(d, 54); }
static bool desc_ap2(uint64_t d) { return bit_of(d, 7); }
static bool desc_ap1(uint64_t d) { return bit_of(d, 6); }
/* Table descriptors: PXNTable 59, UXNTable 60, APTable 62:61. */
static bool desc_pxntable(uint64_t d) { return bit_of(d, 59); }
static bool desc_uxntable(uint64_t d) { return bit_of(d, 60); }
static bool desc_aptable0(uint64_t d) { return bit_of(d, 61); }
static bool desc_aptable1(uint64_t d) { return bit_of(d, 62); }

/* ---- Registers: vmmem's contract and derived values --------------------- */

int ref_a64_pa_max(const ref_a64_regs_t *r)
{
    return r->pa_bits ? r->pa_bits : 48;
}

/*
 * arm64.h, vm_mmu_set_arm64_regs: "VM_ERR_INVALID_ARGUMENT NULL; el > 1;
 * pan > 1; pa_bits not 0 or one of the sizes above; with SCTLR.M=1, a range
 * whose EPDn=0 has TxSZ outside 16..39 or a reserved TGn encoding;
 * VM_ERR_UNSUPPORTED TCR.DS=1." TG0 0b11 and TG1 0b00 are the reserved
 * encodings (TCR_EL1.TG0: 00 4KB, 01 64KB, 10 16KB; TG1: 01 16KB, 10 4KB,
 * 11 64KB).
 */
int ref_a64_regs_check(const ref_a64_regs_t *r)
{
    int verdict = REF_A64_REGS_OK;
    static const int sizes[] = { 0, 32, 36, 40, 42, 44, 48 };
    bool size_ok = false;
    for (unsigned k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        if (r->pa_bits == sizes[k])
            size_ok = true;
    if (r->el < 0 || r->el > 1 || r->pan < 0 || r->pan > 1 || !size_ok)
        verdict |= REF_A64_REGS_INVALID;
    if (sctlr_m(r)) {
        if (!tcr_epd0(r) && (tcr_t0sz(r) < 16 || tcr_t0sz(r) > 39 || tcr_tg0(r) == 3))
            verdict |= REF_A64_REGS_INVALID;
        if (!tcr_epd1(r) && (tcr_t1sz(r) < 16 || tcr_t1sz(r) > 39 || tcr_tg1(r) == 0))
            verdict |= REF_A64_REGS_INVALID;
    }
    if (tcr_ds(r))
        verdict |= REF_A64_REGS_UNSUPPORTED;
    return verdict;
}

/* TCR_EL1.A1: "Selects whether TTBR0_EL1 or TTBR1_EL1 defines the ASID";
 * TCR_EL1.AS = 0: "8 bit - the upper 8 bits of TTBR0_EL1 and TTBR1_EL1 are
 * ignored by hardware for every purpose except reading back the register". */
uint16_t ref_a64_current_asid(const ref_a64_regs_t *r)
{
    uint64_t ttbr = tcr_a1(r) ? r->ttbr1 : r->ttbr0;
    uint16_t asid = (uint16_t)slice(ttbr, 63, 48);
    return tcr_as(r) ? asid : (uint16_t)(asid & 0xff);
}

/*
 * AddrTop(address, IsInstr, el) for the EL1&0 regime: the TBI bit of the
 * half that address<55> names; 55 if it is set, else 63. Without
 * FEAT_PAuth there is no TBIDn, so IsInstr makes no difference.
 */
static int addr_top(const ref_a64_regs_t *r, uint64_t address)
{
    bool tbi = bit_of(address, 55) ? tcr_tbi1(r) : tcr_tbi0(r);
    return tbi ? 55 : 63;
}

uint64_t ref_a64_tag_va(const ref_a64_regs_t *r, uint64_t va)
{
    return addr_top(r, va) == 55 ? sign_extend_55(va) : va;
}

/* ---- Fault names and encodings ------------------------------------------- */

const char *ref_a64_fault_name(int fault)
{
    switch (fault) {
    case REF_A64_NO_FAULT: return "ok";
    case REF_A64_ADDRESS_SIZE: return "address-size-fault";
    case REF_A64_TRANSLATION: return "translation-fault";
    case REF_A64_ACCESS_FLAG: return "access-flag-fault";
    case REF_A64_PERMISSION: return "permission-fault";
    case REF_A64_WALK_ABORT: return "access-fault";
    case REF_A64_DATA_ABORT: return "access-fault";
    default: return "?";
    }
}

/* EncodeLDFSC(statuscode, level) (ESR_ELx ISS DFSC/IFSC table). */
uint32_t ref_a64_fsc(int fault, int level)
{
    uint32_t lv = (uint32_t)(level < 0 ? 0 : level) & 3;
    switch (fault) {
    case REF_A64_ADDRESS_SIZE: return 0x00 | lv;  /* 0b0000LL */
    case REF_A64_TRANSLATION: return 0x04 | lv;   /* 0b0001LL */
    case REF_A64_ACCESS_FLAG: return 0x08 | lv;   /* 0b0010LL */
    case REF_A64_PERMISSION: return 0x0c | lv;    /* 0b0011LL */
    case REF_A64_WALK_ABORT: return 0x14 | lv;    /* 0b0101LL: on translation table walk */
    case REF_A64_DATA_ABORT: return 0x10;         /* 0b010000: not on a walk */
    default: return 0;
    }
}

/* ISS of a Data Abort: WnR (bit 6) "Write not Read"; an Instruction Abort
 * has bit 6 RES0. */
uint32_t ref_a64_syndrome(int fault, int level, int access)
{
    uint32_t iss = ref_a64_fsc(fault, level);
    if (access == REF_WRITE)
        iss |= 1u << 6;
    return iss;
}

/* ESR_ELx.EC: 0x20/0x21 Instruction Abort from a lower / the same EL,
 * 0x24/0x25 Data Abort likewise (taken to EL1: from EL0 is "lower"). */
uint32_t ref_a64_exception_class(int el, int access)
{
    if (access == REF_EXEC)
        return el == 0 ? 0x20 : 0x21;
    return el == 0 ? 0x24 : 0x25;
}

/* ---- The walk ------------------------------------------------------------ */

static void fault(ref_a64_walk_t *out, int statuscode, int level, const char *why)
{
    out->fault = statuscode;
    out->level = level;
    out->pa = 0;
    out->why = why;
}

/* _Mem[descaddr, 8]: little-endian from RAM ([base, base + size)) byte by
 * byte; false if any byte is outside RAM (translation tables never live in
 * MMIO). */
static bool read_descriptor(const ref_mem_t *m, uint64_t pa, uint64_t *desc)
{
    if (!ref_mem_in_ram(m, pa, 8))
        return false;
    uint64_t v = 0;
    for (unsigned k = 0; k < 8; k++)
        v |= (uint64_t)m->ram[pa - m->base + k] << (8 * k);
    *desc = v;
    return true;
}

static void write_descriptor(ref_mem_t *m, uint64_t pa, uint64_t desc)
{
    for (unsigned k = 0; k < 8; k++)
        m->ram[pa - m->base + k] = (uint8_t)(desc >> (8 * k));
}

/*
 * The OA check the walk makes on a table address and on an output address:
 * "(outputsize < 52 && largegrain && !IsZero(desc<15:12>)) ||
 *  (outputsize < 48 && !IsZero(desc<47:outputsize>))" -> Address size fault.
 */
static bool oa_out_of_range(uint64_t desc, int outputsize, bool largegrain)
{
    if (outputsize < 52 && largegrain && !is_zero_slice(desc, 15, 12))
        return true;
    return outputsize < 48 && !is_zero_slice(desc, 47, outputsize);
}

/* TCR_EL1.IPS -> outputsize; 0b110 is 52 bits only with FEAT_LPA and the
 * 64KB granule (not implemented: 48); 0b111 is reserved (model: 48). */
static int ips_outputsize(unsigned ps)
{
    static const int sizes[8] = { 32, 36, 40, 42, 44, 48, 48, 48 };
    return sizes[ps & 7];
}

/*
 * AArch64.TranslationTableWalk, stage 1, EL1&0 regime. On success fills the
 * TLBRecord part of out (walk_done, leaf, perms, nG, descupdate); on a fault
 * sets out->fault / level / why.
 */
static void translation_table_walk(const ref_mem_t *m, const ref_a64_regs_t *r, uint64_t vaddress,
                                   ref_a64_walk_t *out)
{
    uint64_t inputaddr = vaddress;
    int top = addr_top(r, inputaddr);
    out->top = top;

    /* No FEAT_LVA: inputsize_max = 48; no FEAT_TTST: inputsize_min = 64 - 39. */
    const int inputsize_max = 48;
    const int inputsize_min = 64 - 39;
    bool largegrain, midgrain, basefound, disabled, hierattrsdisabled;
    int inputsize;
    uint64_t baseregister;
    if (!bit_of(inputaddr, top)) {
        inputsize = 64 - (int)tcr_t0sz(r);
        largegrain = tcr_tg0(r) == 1;       /* TG0 0b01: 64KB */
        midgrain = tcr_tg0(r) == 2;         /* TG0 0b10: 16KB */
        /* RESTnSZ (inputsize < inputsize_min) is CONSTRAINED UNPREDICTABLE:
         * FORCE or FAULT; the model FAULTs (basefound = FALSE). */
        basefound = inputsize >= inputsize_min && inputsize <= inputsize_max &&
                    is_zero_slice(inputaddr, top, inputsize);
        disabled = tcr_epd0(r);
        baseregister = r->ttbr0;
        hierattrsdisabled = tcr_hpd0(r);
        out->ttbr = 0;
    } else {
        inputsize = 64 - (int)tcr_t1sz(r);
        largegrain = tcr_tg1(r) == 3;       /* TG1 0b11: 64KB */
        midgrain = tcr_tg1(r) == 1;         /* TG1 0b01: 16KB */
        basefound = inputsize >= inputsize_min && inputsize <= inputsize_max &&
                    is_ones_slice(inputaddr, top, inputsize);
        disabled = tcr_epd1(r);
        baseregister = r->ttbr1;
        hierattrsdisabled = tcr_hpd1(r);
        out->ttbr = 1;
    }
    unsigned ps = tcr_ips(r);
    bool update_AF = tcr_ha(r);
    bool update_AP = update_AF && tcr_hd(r);  /* HD has no effect without HA */

    int grainsize, firstblocklevel;
    if (largegrain) {
        grainsize = 16;
        firstblocklevel = 2;   /* 1 only with FEAT_LPA (52-bit PA) */
    } else if (midgrain) {
        grainsize = 14;
        firstblocklevel = 2;
    } else {
        grainsize = 12;
        firstblocklevel = 1;
    }
    int stride = grainsize - 3;
    out->grainsize = grainsize;
    out->stride = stride;
    out->inputsize = inputsize;

    if (!basefound || disabled) {
        fault(out, REF_A64_TRANSLATION, 0,
              disabled ? (out->ttbr ? "TCR_EL1.EPD1 = 1: walks through TTBR1_EL1 disabled"
                                    : "TCR_EL1.EPD0 = 1: walks through TTBR0_EL1 disabled")
              : inputsize < inputsize_min || inputsize > inputsize_max
                  ? "TxSZ outside 16..39 (RESTnSZ: the model faults)"
                  : out->ttbr ? "VA not in the TTBR1 range: bits top..inputsize not all ones"
                              : "VA not in the TTBR0 range: bits top..inputsize not all zeros");
        return;
    }

    /* level = 4 - RoundUp((inputsize - grainsize) / stride) */
    int level = 4 - (inputsize - grainsize + stride - 1) / stride;
    out->startlevel = level;

    int outputsize = ips_outputsize(ps);
    if (outputsize > ref_a64_pa_max(r))
        outputsize = ref_a64_pa_max(r);
    out->outputsize = outputsize;

    if (outputsize < 48 && !is_zero_slice(baseregister, 47, outputsize)) {
        fault(out, REF_A64_ADDRESS_SIZE, 0,
              "TTBR base address wider than the output size (IPS capped at PAMax)");
        return;
    }

    /* The base address: bits below baselowerbound of TTBR are ignored (a
     * misaligned base is CONSTRAINED UNPREDICTABLE; the pseudocode, and the
     * model, treat those bits as zero). */
    int baselowerbound = 3 + inputsize - ((3 - level) * stride + grainsize);
    uint64_t baseaddress = slice(baseregister, 47, baselowerbound) << baselowerbound;
    out->baseaddress = baseaddress;

    bool ap_table1 = false, ap_table0 = false, xn_table = false, pxn_table = false;
    int addrselecttop = inputsize - 1;
    int addrselectbottom;
    uint64_t desc = 0, descaddr = 0;
    for (;;) {
        addrselectbottom = (3 - level) * stride + grainsize;
        uint64_t index = slice(inputaddr, addrselecttop, addrselectbottom) << 3;
        descaddr = baseaddress | index;

        ref_a64_step_t *st = &out->steps[out->n_steps++];
        st->level = level;
        st->table = baseaddress;
        st->descaddr = descaddr;
        st->desc = 0;
        st->read_ok = false;
        if (!read_descriptor(m, descaddr, &desc)) {
            fault(out, REF_A64_WALK_ABORT, level,
                  "descriptor read outside RAM: synchronous external abort on the walk");
            return;
        }
        st->desc = desc;
        st->read_ok = true;

        /* "desc<0> == '0' || (desc<1:0> == '01' && level == 3)" */
        if (!bit_of(desc, 0) || (slice(desc, 1, 0) == 1 && level == 3)) {
            fault(out, REF_A64_TRANSLATION, level,
                  !bit_of(desc, 0) ? "invalid descriptor (bit 0 = 0)"
                                   : "descriptor 0b01 at level 3 (reserved, invalid)");
            return;
        }
        /* "desc<1:0> == '01' || level == 3": a block or a page. */
        if (slice(desc, 1, 0) == 1 || level == 3)
            break;

        /* A table descriptor: the next-level table address. */
        if (oa_out_of_range(desc, outputsize, largegrain)) {
            fault(out, REF_A64_ADDRESS_SIZE, level,
                  largegrain && !is_zero_slice(desc, 15, 12)
                      ? "table descriptor bits 15:12 set with the 64KB granule (no 52-bit PA)"
                      : "next-level table address wider than the output size");
            return;
        }
        baseaddress = slice(desc, 47, grainsize) << grainsize;
        /* Hierarchical attributes, unless TCR_EL1.HPDn (FEAT_HPDS). */
        if (!hierattrsdisabled) {
            ap_table1 = ap_table1 || desc_aptable1(desc);
            xn_table = xn_table || desc_uxntable(desc);
            pxn_table = pxn_table || desc_pxntable(desc);
            ap_table0 = ap_table0 || desc_aptable0(desc);
        }
        level = level + 1;
        addrselecttop = addrselectbottom - 1;
    }

    /* A block at a level the granule does not allow. */
    if (level < firstblocklevel) {
        fault(out, REF_A64_TRANSLATION, level,
              "block descriptor at a level the granule does not allow (firstblocklevel)");
        return;
    }
    /* The Contiguous hint: "Translation fault on misprogrammed contiguous
     * bit" is IMPLEMENTATION DEFINED; the model never faults. */

    if (oa_out_of_range(desc, outputsize, largegrain)) {
        fault(out, REF_A64_ADDRESS_SIZE, level,
              largegrain && !is_zero_slice(desc, 15, 12)
                  ? "block/page descriptor bits 15:12 set with the 64KB granule (no 52-bit PA)"
                  : "output address wider than the output size");
        return;
    }
    uint64_t outputaddress = (slice(desc, 47, addrselectbottom) << addrselectbottom) |
                             slice(inputaddr, addrselectbottom - 1, 0);

    /* Access flag: a fault, or with TCR_EL1.HA a hardware update. */
    if (!desc_af(desc)) {
        if (!update_AF) {
            fault(out, REF_A64_ACCESS_FLAG, level, "AF = 0 and TCR_EL1.HA = 0");
            return;
        }
        out->update_af = true;
    }
    /* Dirty state: with HA and HD, DBM = 1 makes a read-only (AP[2] = 1)
     * entry writable-clean: permissions are checked as if AP[2] were 0 and
     * a write clears AP[2] in the descriptor. */
    uint64_t desc_perm = desc;
    if (update_AP && desc_dbm(desc) && desc_ap2(desc)) {
        desc_perm &= ~(UINT64_C(1) << 7);
        out->update_ap = true;
    }

    out->walk_done = true;
    out->level = level;
    out->descaddr = descaddr;
    out->desc = desc;
    out->blocksize_shift = addrselectbottom;
    out->oa_base = slice(desc, 47, addrselectbottom) << addrselectbottom;
    out->perm_xn = desc_uxn(desc_perm) || xn_table;
    out->perm_pxn = desc_pxn(desc_perm) || pxn_table;
    out->perm_ap2 = desc_ap2(desc_perm) || ap_table1;
    out->perm_ap1 = desc_ap1(desc_perm) && !ap_table0;
    out->ng = desc_ng(desc);
    out->pa = outputaddress;
}

bool ref_a64_check_permission(bool ap2, bool ap1, bool xn, bool pxn, const ref_a64_regs_t *r,
                              int access)
{
    bool wxn = sctlr_wxn(r);
    bool priv_r = true;
    bool priv_w = !ap2;
    bool user_r = ap1;
    bool user_w = !ap2 && ap1;           /* ap<2:1> == '01' */
    bool ispriv = r->el != 0;            /* AArch64.AccessIsPrivileged: no LDTR, no UAO */
    bool is_ldst = access != REF_EXEC;   /* not AccType_IFETCH (nor DC/AT) */
    if (r->pan && user_r && ispriv && is_ldst) {
        priv_r = false;
        priv_w = false;
    }
    bool user_xn = xn || (user_w && wxn);
    /* EL1 never executes memory writable at EL0. */
    bool priv_xn = pxn || (priv_w && wxn) || user_w;
    bool can_r = ispriv ? priv_r : user_r;
    bool can_w = ispriv ? priv_w : user_w;
    bool can_x = !(ispriv ? priv_xn : user_xn);
    switch (access) {
    case REF_EXEC: return can_x;
    case REF_WRITE: return can_w;
    default: return can_r;
    }
}

static const char *permission_why(const ref_a64_walk_t *w, const ref_a64_regs_t *r, int access)
{
    bool user_r = w->perm_ap1, user_w = !w->perm_ap2 && w->perm_ap1;
    if (access == REF_EXEC) {
        if (r->el == 0)
            return w->perm_xn ? "EL0 fetch with UXN (or UXNTable) set"
                              : "EL0 fetch from EL0-writable memory with SCTLR.WXN";
        if (w->perm_pxn)
            return "EL1 fetch with PXN (or PXNTable) set";
        if (user_w)
            return "EL1 fetch from memory writable at EL0 (never allowed)";
        return "EL1 fetch from writable memory with SCTLR.WXN";
    }
    if (r->el == 0)
        return !user_r ? "EL0 access to memory with AP[1] = 0 (or APTable[0])"
                       : "EL0 write to read-only memory (AP[2] or APTable[1])";
    if (r->pan && user_r)
        return "EL1 data access to EL0-accessible memory with PSTATE.PAN = 1";
    return "EL1 write to read-only memory (AP[2] or APTable[1])";
}

/*
 * AArch64.CheckAndUpdateDescriptor: "hw_update_AF" when the walk asked for
 * it and the access did not fault (on a fault it is CONSTRAINED
 * UNPREDICTABLE: AFUPDATE; the model does not update); "hw_update_AP" (clear
 * AP[2]) for a write that did not fault. One read-modify-write of the
 * descriptor in memory.
 */
static void check_and_update_descriptor(ref_mem_t *m, ref_a64_walk_t *w, int access, bool apply)
{
    bool faulted = w->fault != REF_A64_NO_FAULT;
    bool hw_update_AF = w->update_af && !faulted;
    bool hw_update_AP = w->update_ap && !faulted && access == REF_WRITE;
    if (w->update_af && faulted)
        w->af_unpredictable = true;
    if (!hw_update_AF && !hw_update_AP)
        return;
    uint64_t desc = w->desc;  /* a sequential model: memory still holds what the walk read */
    if (hw_update_AF)
        desc |= UINT64_C(1) << 10;
    if (hw_update_AP)
        desc &= ~(UINT64_C(1) << 7);
    w->desc_write = true;
    w->desc_new = desc;
    if (apply)
        write_descriptor(m, w->descaddr, desc);
}

/*
 * AArch64.TranslateAddressS1Off: "Top = AddrTop(vaddress, ...); if
 * !IsZero(vaddress<Top:PAMax()>) then AddressSizeFault(level 0)";
 * otherwise the PA is vaddress<51:0> (the tag, if ignored, is dropped).
 */
static void translate_address_s1_off(const ref_a64_regs_t *r, uint64_t vaddress,
                                     ref_a64_walk_t *out)
{
    int top = addr_top(r, vaddress);
    out->top = top;
    if (!is_zero_slice(vaddress, top, ref_a64_pa_max(r))) {
        fault(out, REF_A64_ADDRESS_SIZE, 0,
              "stage 1 off: VA bits Top..PAMax not zero (AArch64.TranslateAddressS1Off)");
        return;
    }
    out->level = -1;
    out->pa = slice(vaddress, 51, 0);
}

void ref_a64_translate(ref_mem_t *m, const ref_a64_regs_t *r, uint64_t va, int access,
                       bool apply, ref_a64_walk_t *out)
{
    *out = (ref_a64_walk_t){ 0 };
    out->fault = REF_A64_NO_FAULT;
    out->level = -1;
    out->ttbr = -1;
    out->startlevel = -1;
    out->tag_va = ref_a64_tag_va(r, va);
    out->asid = ref_a64_current_asid(r);
    out->s1_enabled = sctlr_m(r);

    /* AArch64.FirstStageTranslate */
    if (!out->s1_enabled) {
        translate_address_s1_off(r, va, out);
        return;
    }
    translation_table_walk(m, r, va, out);
    if (out->fault != REF_A64_NO_FAULT)
        return;
    if (!ref_a64_check_permission(out->perm_ap2, out->perm_ap1, out->perm_xn, out->perm_pxn, r,
                                  access)) {
        int level = out->level;
        fault(out, REF_A64_PERMISSION, level, permission_why(out, r, access));
    }
    check_and_update_descriptor(m, out, access, apply);
}

/* ---- The report ------------------------------------------------------------ */

static const char *access_name(int access)
{
    return access == REF_WRITE ? "write" : access == REF_EXEC ? "exec" : "read";
}

static void print_descriptor(FILE *f, uint64_t d, int level, bool is_leaf_level)
{
    if (!bit_of(d, 0)) {
        fprintf(f, "invalid");
        return;
    }
    if (slice(d, 1, 0) == 3 && !is_leaf_level) {
        fprintf(f, "table next=0x%llx%s%s%s%s", (unsigned long long)(slice(d, 47, 12) << 12),
                desc_aptable1(d) ? " APTable[1]" : "", desc_aptable0(d) ? " APTable[0]" : "",
                desc_uxntable(d) ? " UXNTable" : "", desc_pxntable(d) ? " PXNTable" : "");
        return;
    }
    if (slice(d, 1, 0) == 1 && level == 3) {
        fprintf(f, "0b01 at level 3 (reserved)");
        return;
    }
    fprintf(f, "%s oa=0x%llx AF=%d nG=%d AP[2:1]=%d%d UXN=%d PXN=%d DBM=%d%s",
            slice(d, 1, 0) == 1 ? "block" : "page", (unsigned long long)(slice(d, 47, 12) << 12),
            desc_af(d), desc_ng(d), desc_ap2(d), desc_ap1(d), desc_uxn(d), desc_pxn(d),
            desc_dbm(d), bit_of(d, 52) ? " Contiguous" : "");
}

void ref_a64_walk_print(const ref_a64_walk_t *w, uint64_t va, int access, void *FILE_stream)
{
    FILE *f = FILE_stream ? (FILE *)FILE_stream : stderr;
    fprintf(f, "  arm64 walk: %s va=0x%llx tag-va=0x%llx top=%d asid=%u\n", access_name(access),
            (unsigned long long)va, (unsigned long long)w->tag_va, w->top, w->asid);
    if (!w->s1_enabled) {
        fprintf(f, "    stage 1 off (SCTLR_EL1.M = 0): flat map\n");
    } else if (w->ttbr >= 0) {
        fprintf(f, "    TTBR%d granule=%dK inputsize=%d", w->ttbr, 1 << (w->grainsize - 10),
                w->inputsize);
        if (w->startlevel >= 0)
            fprintf(f, " startlevel=%d outputsize=%d base=0x%llx", w->startlevel, w->outputsize,
                    (unsigned long long)w->baseaddress);
        fprintf(f, "\n");
    }
    for (int k = 0; k < w->n_steps && k < REF_A64_MAX_STEPS; k++) {
        const ref_a64_step_t *st = &w->steps[k];
        fprintf(f, "    L%d table=0x%llx desc@0x%llx=", st->level, (unsigned long long)st->table,
                (unsigned long long)st->descaddr);
        if (!st->read_ok) {
            fprintf(f, "(not in RAM)\n");
            continue;
        }
        fprintf(f, "0x%016llx ", (unsigned long long)st->desc);
        print_descriptor(f, st->desc, st->level, st->level == 3);
        fprintf(f, "\n");
    }
    if (w->walk_done)
        fprintf(f, "    leaf: level %d size 2^%d perms AP[2:1]=%d%d xn=%d pxn=%d nG=%d%s%s\n",
                w->level, w->blocksize_shift, w->perm_ap2, w->perm_ap1, w->perm_xn, w->perm_pxn,
                w->ng, w->update_af ? " (AF update pending)" : "",
                w->update_ap ? " (writable-clean: dirty update on write)" : "");
    if (w->fault == REF_A64_NO_FAULT) {
        fprintf(f, "    -> ok pa=0x%llx", (unsigned long long)w->pa);
        if (w->desc_write)
            fprintf(f, " (descriptor update: desc@0x%llx := 0x%016llx)",
                    (unsigned long long)w->descaddr, (unsigned long long)w->desc_new);
        fprintf(f, "\n");
    } else {
        fprintf(f, "    -> %s level %d fsc 0x%02x: %s%s\n", ref_a64_fault_name(w->fault), w->level,
                ref_a64_fsc(w->fault, w->level), w->why ? w->why : "",
                w->af_unpredictable ? " (AF may or may not be set: AFUPDATE)" : "");
    }
}
