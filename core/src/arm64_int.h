/*
 * arm64_int.h - the AArch64 part of vm_mmu_t and its hooks for the generic
 * MMU (mmu_int.h). Implemented in arm64.c (registers, TBI, stage 1 off,
 * TLBI) and walk_arm64.c (the walk and the permission table). Not
 * installed.
 *
 * The registers are decoded once, when vm_mmu_set_arm64_regs() accepts
 * them, into what the walk needs per VA range (struct arm64_range): the
 * walk then reads no TCR field and computes no geometry.
 */
#ifndef VMMEM_ARM64_INT_H
#define VMMEM_ARM64_INT_H

#include "vmmem/arm64.h"
#include "walk_int.h"

/*
 * One VA range: index 0 is the lower range (TTBR0_EL1, T0SZ, TG0, EPD0,
 * HPD0, TBI0), index 1 the upper range (TTBR1_EL1, T1SZ, TG1, EPD1, HPD1,
 * TBI1). Arm ARM D8 "Selection between TTBR0 and TTBR1"; the values follow
 * AArch64.TranslationTableWalk (inputsize, grainsize, stride, level,
 * baselowerbound, baseaddress).
 */
struct arm64_range {
    vm_gpa_t base;          /* start-level table: TTBR BADDR[47:baselowerbound] */
    uint64_t range_mask;    /* VA bits [top:inputsize] >> inputsize, top = 55 with TBI, else 63 */
    uint64_t range_expect;  /* their value inside the range: 0 (lower) or all ones (upper) */
    uint64_t oa_fault_mask; /* descriptor bits that make an output or next-table address too
                               wide: [47:PA size] and, for 64 KiB, [15:12] (OA[51:48]) */
    uint64_t table_mask;    /* next-level table address bits of a table descriptor: [47:granule] */
    uint64_t hier_mask;     /* ~0, or 0 with TCR.HPDn: masks the table descriptors' bits */
    uint8_t walks;          /* stage 1 on and EPDn = 0: a TLB miss may walk */
    uint8_t base_too_wide;  /* TTBR BADDR above the PA size: Address size fault, level 0 */
    uint8_t inputsize;      /* 64 - TxSZ: the range's VA width */
    uint8_t granule;        /* log2 of the granule: 12, 14 or 16 */
    uint8_t stride;         /* index bits per full level: granule - 3 */
    uint8_t start_level;    /* 4 - ceil((inputsize - granule) / stride) */
    uint8_t start_bits;     /* index bits at the start level: inputsize - its shift */
    uint8_t first_block;    /* lowest level holding a block: 1 (4 KiB) or 2 (16/64 KiB) */
};

struct mmu_arm64 {
    vm_arm64_regs_t regs;     /* as set (read back by vm_mmu_arm64_regs) */
    struct arm64_range range[2];
    uint8_t tbi[2];           /* TCR.TBI0 / TBI1 (apply with stage 1 off too) */
    uint8_t pa_max;           /* implemented PA size (PAMax) */
    uint8_t oa_bits;          /* effective output size: min(TCR.IPS size, PAMax) */
    uint8_t stage1;           /* SCTLR.M */
    uint8_t ha;               /* TCR.HA: the hardware sets the Access flag */
    uint8_t hd;               /* TCR.HD with HA: hardware dirty state (DBM) */
    uint64_t dbm_bit;         /* VM_ARM64_DBM with hd, else 0: masks the descriptor's DBM */
    uint16_t asid;            /* the current ASID (8 bits when TCR.AS = 0) */
};

/*
 * The permission context: the registers applied on every access (never
 * cached in the TLB): EL0/EL1 x PSTATE.PAN x SCTLR.WXN, 8 contexts.
 */
#define ARM64_PERM_CTX 8u

static inline unsigned arm64_perm_ctx(bool el1, bool pan, bool wxn)
{
    return (el1 ? 1u : 0u) | (pan ? 2u : 0u) | (wxn ? 4u : 0u);
}

/* Fault status codes (ESR_ELx.ISS.DFSC/IFSC; EncodeLDFSC in the pseudocode):
 * the base of each kind, plus the lookup level where one applies. */
enum {
    ARM64_FSC_ADDRESS_SIZE = 0x00, /* 0b0000LL */
    ARM64_FSC_TRANSLATION = 0x04,  /* 0b0001LL */
    ARM64_FSC_ACCESS_FLAG = 0x08,  /* 0b0010LL */
    ARM64_FSC_PERMISSION = 0x0c,   /* 0b0011LL */
    ARM64_FSC_EXT_ABORT = 0x10,    /* 0b010000: synchronous external abort */
    ARM64_FSC_EXT_ABORT_WALK = 0x14, /* 0b0101LL: ... on a translation table walk */
    ARM64_FSC_ALIGNMENT = 0x21,    /* 0b100001 */
};

/* ESR_ELx.ISS of a fault: the FSC in bits 5:0, WnR (bit 6) for a data
 * abort caused by a write (AArch64.FaultSyndrome). level < 0: none. */
static inline uint32_t arm64_syndrome(vm_fault_kind_t kind, int level, vm_access_t access)
{
    uint32_t fsc;
    uint32_t lvl = level < 0 ? 0u : (uint32_t)level;
    switch (kind) {
    case VM_FAULT_ADDRESS_SIZE: fsc = ARM64_FSC_ADDRESS_SIZE + lvl; break;
    case VM_FAULT_TRANSLATION: fsc = ARM64_FSC_TRANSLATION + lvl; break;
    case VM_FAULT_ACCESS_FLAG: fsc = ARM64_FSC_ACCESS_FLAG + lvl; break;
    case VM_FAULT_PERMISSION: fsc = ARM64_FSC_PERMISSION + lvl; break;
    case VM_FAULT_MISALIGNED: fsc = ARM64_FSC_ALIGNMENT; break;
    case VM_FAULT_ACCESS:
    default:
        fsc = level < 0 ? ARM64_FSC_EXT_ABORT : ARM64_FSC_EXT_ABORT_WALK + lvl;
        break;
    }
    return access == VM_ACCESS_WRITE ? fsc | (1u << 6) : fsc;
}

/* ESR_ELx.EC of an abort taken to EL1 from the current EL
 * (AArch64.ExceptionClass: +1 when taken without a change of EL). */
static inline uint32_t arm64_exception_class(bool el1, vm_access_t access)
{
    if (access == VM_ACCESS_EXEC)
        return el1 ? VM_ARM64_EC_IABT_SAME : VM_ARM64_EC_IABT_LOWER;
    return el1 ? VM_ARM64_EC_DABT_SAME : VM_ARM64_EC_DABT_LOWER;
}

struct vm_mmu;

/* Set mmu->identity, mmu->asid and mmu->need[] from the Arm registers. */
VM_HIDDEN void arm64_refresh(struct vm_mmu *mmu);

/* The walk (walk_int.h contract). */
VM_HIDDEN vm_err_t walk_arm64(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access,
                              unsigned flags, struct walk_result *out, vm_fault_t *fault);

/* Build the walk's permission-vector table once (walk_arm64.c). */
VM_HIDDEN void walk_arm64_init(void);
/* Decode the reset state (all registers zero) into a new MMU. */
VM_HIDDEN void arm64_init(struct vm_mmu *mmu);

/*
 * Before the TLB is consulted: the VA the TLB is tagged with (top-byte
 * normalisation when TBI applies) in *tag_va; with stage 1 off, the whole
 * translation (flat map and its level 0 Address size check): then returns
 * true with the result in *err / *pa (fault recorded unless speculative).
 */
VM_HIDDEN bool arm64_before_tlb(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access,
                                unsigned flags, vm_gva_t *tag_va, vm_gpa_t *pa, vm_err_t *err);

/* The VA a flush by address compares: VA[55:0] sign-extended from bit 55
 * (a TLBI operand carries VA[55:12] only). It is also the tag of a VA
 * whose top byte TBI ignores. */
static inline vm_gva_t arm64_flush_va(vm_gva_t va)
{
    return (vm_gva_t)((int64_t)(va << 8) >> 8);
}

/* cause and syndrome of a fault found outside the walk (alignment fault
 * FSC 0x21; external abort FSC 0x10), for the current EL. */
VM_HIDDEN void arm64_fault_codes(const struct vm_mmu *mmu, vm_fault_kind_t kind,
                                 vm_access_t access, uint32_t *cause, uint32_t *syndrome);

#endif /* VMMEM_ARM64_INT_H */
