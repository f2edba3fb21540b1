/*
 * vmmem/arm64.h - AArch64 paging for vm_mmu_t (VM_PAGING_ARM64): the
 * registers that control it, the translation-table descriptor bits, and the
 * TLB maintenance instructions.
 *
 * Scope (Arm ARM DDI0487, chapter D8 "The AArch64 Virtual Memory System
 * Architecture"; pseudocode AArch64.S1Walk / AArch64.S1CheckPermissions):
 * the stage 1 EL1&0 translation regime with two VA ranges (TTBR0_EL1 for the
 * lower, TTBR1_EL1 for the upper), 4 KiB, 16 KiB and 64 KiB granules per
 * range, TxSZ from 16 to 39, top-byte ignore, hierarchical permissions
 * (unless TCR.HPDn), PAN, SCTLR.WXN, 8- or 16-bit ASIDs, the hardware
 * Access flag (TCR.HA) and dirty state (TCR.HD with DBM), output addresses
 * checked against the effective IPS (capped at the implemented PA size).
 * With SCTLR.M=0 stage 1 is off: the PA is the VA (an Address size fault at
 * level 0 if the VA is wider than the PA size).
 * Out of scope: stage 2, the EL2 and EL3 regimes, 52-bit addresses
 * (LPA/LPA2, TCR.DS=1 is VM_ERR_UNSUPPORTED), MAIR memory types (every
 * descriptor is Normal memory: AttrIndx, SH and NS are accepted and
 * ignored), big-endian tables (SCTLR.EE), the contiguous hint (accepted and
 * ignored, as the architecture permits: each entry is cached on its own).
 *
 * Accesses: VM_ACCESS_READ / WRITE are data accesses at the current EL;
 * VM_ACCESS_EXEC an instruction fetch.
 *
 * Faults (vm_mmu_last_fault()): VM_ERR_PAGE_FAULT with kind
 * VM_FAULT_TRANSLATION, VM_FAULT_ACCESS_FLAG, VM_FAULT_PERMISSION or
 * VM_FAULT_ADDRESS_SIZE, the lookup level (0..3) in .level, .syndrome = the
 * fault status code (DFSC/IFSC: 0b0000LL address size, 0b0001LL
 * translation, 0b0010LL access flag, 0b0011LL permission) with WnR in bit 6
 * for data aborts, .cause = the exception class (VM_ARM64_EC_*). A table
 * walk that reads outside RAM is VM_ERR_ACCESS_FAULT, kind VM_FAULT_ACCESS,
 * FSC 0b0101LL (synchronous external abort on a translation table walk); a
 * data access with nothing behind its PA is VM_ERR_ACCESS_FAULT with
 * FSC 0b010000.
 *
 * TLB: entries are tagged with the ASID (from TTBR1 if TCR.A1, else TTBR0;
 * only bits 7:0 when TCR.AS=0); nG=0 pages are global. Entries hold the
 * permissions combined over the walk and the dirty state (a writable-clean
 * page, AP[2]=1 with DBM=1, is cached read-only, so a write walks and
 * updates the descriptor). The current EL, PSTATE.PAN and SCTLR.WXN are
 * applied on every access, never cached. Register writes: see
 * vm_mmu_set_arm64_regs.
 */
#ifndef VMMEM_ARM64_H
#define VMMEM_ARM64_H

#include "vmmem/mmu.h"
#include "vmmem/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Descriptor bits (Arm ARM D8.3, VMSAv8-64 translation table format) */
#define VM_ARM64_DESC_VALID (UINT64_C(1) << 0)
#define VM_ARM64_DESC_TABLE (UINT64_C(1) << 1)  /* bit 1: table (levels 0-2) or page (level 3); 0: block */
#define VM_ARM64_ATTRINDX(n) ((uint64_t)((n) & 7) << 2) /* ignored by vmmem */
#define VM_ARM64_NS (UINT64_C(1) << 5)           /* ignored by vmmem */
#define VM_ARM64_AP_EL0 (UINT64_C(1) << 6)       /* AP[1]: accessible at EL0 */
#define VM_ARM64_AP_RO (UINT64_C(1) << 7)        /* AP[2]: read-only */
#define VM_ARM64_SH(n) ((uint64_t)((n) & 3) << 8) /* ignored by vmmem */
#define VM_ARM64_AF (UINT64_C(1) << 10)          /* Access flag */
#define VM_ARM64_NG (UINT64_C(1) << 11)          /* not global */
#define VM_ARM64_DBM (UINT64_C(1) << 51)         /* dirty bit modifier */
#define VM_ARM64_CONTIGUOUS (UINT64_C(1) << 52)  /* contiguous hint (ignored) */
#define VM_ARM64_PXN (UINT64_C(1) << 53)         /* privileged execute-never */
#define VM_ARM64_UXN (UINT64_C(1) << 54)         /* unprivileged execute-never */
/* Table descriptors only: hierarchical controls for the levels below. */
#define VM_ARM64_PXNTABLE (UINT64_C(1) << 59)
#define VM_ARM64_UXNTABLE (UINT64_C(1) << 60)
#define VM_ARM64_APTABLE_NO_EL0 (UINT64_C(1) << 61) /* APTable[0] */
#define VM_ARM64_APTABLE_RO (UINT64_C(1) << 62)     /* APTable[1] */
#define VM_ARM64_NSTABLE (UINT64_C(1) << 63)        /* ignored by vmmem */

/* ---- TCR_EL1 fields (Arm ARM D17, TCR_EL1) ------------------------------ */
#define VM_ARM64_TCR_T0SZ(n) ((uint64_t)((n) & 0x3f))
#define VM_ARM64_TCR_EPD0 (UINT64_C(1) << 7)
#define VM_ARM64_TCR_TG0_4K (UINT64_C(0) << 14)
#define VM_ARM64_TCR_TG0_64K (UINT64_C(1) << 14)
#define VM_ARM64_TCR_TG0_16K (UINT64_C(2) << 14)
#define VM_ARM64_TCR_T1SZ(n) ((uint64_t)((n) & 0x3f) << 16)
#define VM_ARM64_TCR_A1 (UINT64_C(1) << 22)
#define VM_ARM64_TCR_EPD1 (UINT64_C(1) << 23)
#define VM_ARM64_TCR_TG1_16K (UINT64_C(1) << 30)
#define VM_ARM64_TCR_TG1_4K (UINT64_C(2) << 30)
#define VM_ARM64_TCR_TG1_64K (UINT64_C(3) << 30)
#define VM_ARM64_TCR_IPS(n) ((uint64_t)((n) & 7) << 32) /* 0..5: 32,36,40,42,44,48 bits */
#define VM_ARM64_TCR_AS (UINT64_C(1) << 36)
#define VM_ARM64_TCR_TBI0 (UINT64_C(1) << 37)
#define VM_ARM64_TCR_TBI1 (UINT64_C(1) << 38)
#define VM_ARM64_TCR_HA (UINT64_C(1) << 39)
#define VM_ARM64_TCR_HD (UINT64_C(1) << 40)
#define VM_ARM64_TCR_HPD0 (UINT64_C(1) << 41)
#define VM_ARM64_TCR_HPD1 (UINT64_C(1) << 42)
#define VM_ARM64_TCR_DS (UINT64_C(1) << 59)       /* LPA2: unsupported */

#define VM_ARM64_SCTLR_M (UINT64_C(1) << 0)
#define VM_ARM64_SCTLR_WXN (UINT64_C(1) << 19)

#define VM_ARM64_TTBR_ASID_SHIFT 48
#define VM_ARM64_TTBR_BADDR_MASK UINT64_C(0x0000fffffffffffe) /* bits 47:1 */

/*
 * The register state of the EL1&0 stage 1 regime. Fields vmmem does not use
 * are stored and read back unchanged.
 */
typedef struct vm_arm64_regs {
    uint64_t ttbr0;  /* TTBR0_EL1: ASID 63:48, BADDR 47:1, CnP 0 (ignored) */
    uint64_t ttbr1;  /* TTBR1_EL1 */
    uint64_t tcr;    /* TCR_EL1 */
    uint64_t sctlr;  /* SCTLR_EL1: M, WXN */
    uint8_t el;      /* current exception level: 0 or 1 */
    uint8_t pan;     /* PSTATE.PAN: 0 or 1 */
    uint8_t pa_bits; /* implemented PA size (ID_AA64MMFR0_EL1.PARange): 32, 36, 40,
                        42, 44 or 48; 0 means the default, 48 */
} vm_arm64_regs_t;

/*
 * Set the Arm registers. Validated as a whole first; on error nothing
 * changes:
 *   VM_ERR_INVALID_ARGUMENT  NULL; el > 1; pan > 1; pa_bits not 0 or one of
 *                            the sizes above; with SCTLR.M=1, a range whose
 *                            EPDn=0 has TxSZ outside 16..39 or a reserved
 *                            TGn encoding;
 *   VM_ERR_UNSUPPORTED       TCR.DS=1.
 * TLB effects (vmmem's choice within what the architecture allows): a
 * change of SCTLR.M, of any TCR_EL1 bit or of pa_bits drops every entry (the
 * architecture lets a TLB cache TCR fields; vmmem never does). TTBR writes
 * drop nothing (entries are ASID-tagged; software changing a table base
 * without a new ASID issues a TLBI, as on hardware). EL, PAN and WXN are
 * applied on the next access. The initial state is all zero (stage 1 off).
 */
VM_API VM_WUR vm_err_t vm_mmu_set_arm64_regs(vm_mmu_t *mmu, const vm_arm64_regs_t *regs);
VM_API void vm_mmu_arm64_regs(const vm_mmu_t *mmu, vm_arm64_regs_t *out);

/*
 * TLB maintenance (Arm ARM C5.5, TLBI), EL1&0 regime, with the
 * instruction's register operand xt: ASID in xt[63:48] (bits 55:48 ignored
 * with 8-bit ASIDs), VA[55:12] in xt[43:0] (the full VA is VA[55:0]
 * sign-extended from bit 55). The last-level forms (VALE1, VAALE1) equal
 * VAE1 / VAAE1 here: vmmem caches nothing but leaf entries.
 */
typedef enum vm_arm64_tlbi {
    VM_ARM64_TLBI_VMALLE1 = 0, /* every entry (xt ignored) */
    VM_ARM64_TLBI_ASIDE1,      /* the non-global entries of the ASID */
    VM_ARM64_TLBI_VAE1,        /* the VA's entries with the ASID, and global ones for the VA */
    VM_ARM64_TLBI_VAAE1,       /* the VA's entries in every ASID, global ones too */
    VM_ARM64_TLBI_VALE1,       /* = VAE1 */
    VM_ARM64_TLBI_VAALE1,      /* = VAAE1 */
} vm_arm64_tlbi_t;

/* Errors: VM_ERR_INVALID_ARGUMENT for an unknown op (nothing invalidated). */
VM_API VM_WUR vm_err_t vm_mmu_arm64_tlbi(vm_mmu_t *mmu, vm_arm64_tlbi_t op, uint64_t xt);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_ARM64_H */
