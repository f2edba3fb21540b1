/*
 * vmmem/arm64.h - AArch64 paging for vm_mmu_t (VM_PAGING_ARM64): the
 * registers that control it, the translation-table descriptor bits, and the
 * TLB maintenance instructions.
 *
 * Scope (Arm ARM DDI0487, chapter D8 "The AArch64 Virtual Memory System
 * Architecture"; pseudocode AArch64.TranslationTableWalk,
 * AArch64.CheckPermission, AArch64.CheckAndUpdateDescriptor - AArch64.S1Walk
 * and AArch64.S1CheckPermissions in later editions): the stage 1 EL1&0
 * translation regime with two VA ranges (TTBR0_EL1 for the lower,
 * TTBR1_EL1 for the upper), 4 KiB, 16 KiB and 64 KiB granules per range,
 * TxSZ from 16 to 39, top-byte ignore, hierarchical permissions (unless
 * TCR.HPDn), PAN, SCTLR.WXN, 8- or 16-bit ASIDs, the hardware Access flag
 * (TCR.HA) and dirty state (TCR.HD with DBM; only with HA, as the
 * pseudocode's "update_AP = ... update_AF && HD"), output addresses checked
 * against the effective IPS (capped at the implemented PA size).
 * With SCTLR.M=0 stage 1 is off: the PA is the VA, and an Address size
 * fault at level 0 if VA[top:PA size] is not zero (top = 55 when TBI
 * applies to the VA, else 63; AArch64.TranslateAddressS1Off).
 * Out of scope: stage 2, the EL2 and EL3 regimes, 52-bit addresses
 * (LPA/LPA2, TCR.DS=1 is VM_ERR_UNSUPPORTED), MAIR memory types (every
 * descriptor is Normal memory: AttrIndx, SH and NS are accepted and
 * ignored; with SCTLR.M=0 the architecture makes data accesses Device
 * memory, whose misaligned accesses take Alignment faults - vmmem does not:
 * misalignment follows vm_mmu_set_strict_align in every state), big-endian
 * tables (SCTLR.EE), the contiguous hint (accepted and ignored, as the
 * architecture permits: each entry is cached on its own, and the
 * IMPLEMENTATION DEFINED "Translation fault on misprogrammed contiguous
 * bit" is never taken), TCR.TBID (pointer authentication: TBI applies to
 * instruction addresses as well), EPAN, UAO and unprivileged loads/stores
 * (every EL1 data access is privileged), hardware updates of table
 * descriptors.
 *
 * Accesses: VM_ACCESS_READ / WRITE are data accesses at the current EL;
 * VM_ACCESS_EXEC an instruction fetch.
 *
 * Faults (vm_mmu_last_fault()): VM_ERR_PAGE_FAULT with kind
 * VM_FAULT_TRANSLATION, VM_FAULT_ACCESS_FLAG, VM_FAULT_PERMISSION or
 * VM_FAULT_ADDRESS_SIZE, the lookup level (0..3) in .level, .syndrome = the
 * fault status code (DFSC/IFSC: 0b0000LL address size, 0b0001LL
 * translation, 0b0010LL access flag, 0b0011LL permission) with WnR in bit 6
 * for data aborts caused by a write, .cause = the exception class
 * (VM_ARM64_EC_*: from EL0 or from EL1). The faults found before any
 * descriptor is read - a VA in neither range or in a range whose EPDn=1
 * (Translation), a TTBR base above the PA size (Address size), and stage 1
 * off with a VA above the PA size (Address size) - are level 0, as the
 * architecture reports them, with .pte_addr and .pte 0. A table walk that
 * reads outside RAM is VM_ERR_ACCESS_FAULT, kind VM_FAULT_ACCESS,
 * FSC 0b0101LL (synchronous external abort on a translation table walk); a
 * data access with nothing behind its PA is VM_ERR_ACCESS_FAULT with
 * FSC 0b010000.
 * The checks run in the pseudocode's order: range and EPDn; TTBR address
 * size; per level the descriptor read, an invalid descriptor (bit 0 = 0, or
 * 01 at level 3: Translation), the next-level table address size; then a
 * block at a level the granule forbids (Translation), the output address
 * size, AF = 0 without HA (Access flag), the permissions (Permission).
 *
 * Choices where the architecture leaves room (CONSTRAINED UNPREDICTABLE or
 * IMPLEMENTATION DEFINED), each as the Armv8.5 pseudocode behaves:
 *   - TTBR BADDR bits below the start-level table's alignment (RES0) are
 *     ignored: the table base is BADDR[47:x] ("baselowerbound"), so every
 *     descriptor read is 8-byte aligned.
 *   - RES0 descriptor bits are ignored: output-address bits below the block
 *     or page size, and bits [51:48]. With the 64 KiB granule bits [15:12]
 *     hold OA[51:48] ("desc<15:12>" in the pseudocode): non-zero there is an
 *     Address size fault, as for any PA size below 52 bits.
 *   - TCR.IPS 110 (52 bits with FEAT_LPA only) and 111 (reserved) act as 48
 *     bits, before the cap at the implemented size.
 *   - TxSZ outside 16..39 or a reserved TGn encoding in a range that can
 *     walk (SCTLR.M=1, EPDn=0) is refused by vm_mmu_set_arm64_regs (the
 *     architecture lets an implementation fault or clamp;
 *     Unpredictable_RESTnSZ).
 *   - An access that takes a fault updates no descriptor (the pseudocode
 *     lets AF be set anyway: Unpredictable_AFUPDATE).
 *   - A descriptor that keeps changing under the AF/dirty compare-and-swap
 *     (WALK_MAX_RESTARTS times) ends the walk with a Translation fault at the
 *     leaf's level (the guest retries the instruction).
 *
 * TLB: entries are tagged with the ASID (from TTBR1 if TCR.A1, else TTBR0;
 * only bits 7:0 when TCR.AS=0); nG=0 pages are global. Entries hold the
 * permissions combined over the walk and the dirty state (a writable-clean
 * page, AP[2]=1 with DBM=1 under HD, is cached read-only, so a write walks
 * and updates the descriptor); nothing is cached while AF=0. The current
 * EL, PSTATE.PAN and SCTLR.WXN are applied on every access, never cached.
 * A VA whose top byte TBI ignores is looked up with bits 63:56 replaced by
 * copies of bit 55, so all its tags share one entry (and a TLBI, which
 * carries VA[55:12], reaches it); such an access is served by the TLB but
 * not by the level-0 fast array (vmmem/mmu_inline.h) unless its top byte
 * already is those copies. Register writes: see vm_mmu_set_arm64_regs.
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
 * TLB effects (vmmem's choice within what the architecture allows): in
 * VM_PAGING_ARM64 a change of SCTLR.M, of any TCR_EL1 bit or of the
 * effective PA size (pa_bits, 0 meaning 48) drops every entry (the
 * architecture lets a TLB cache TCR fields other than A1 and EPDn=1; vmmem
 * never does); in another mode the TLB holds no Arm entries and entering
 * VM_PAGING_ARM64 flushes anyway. TTBR writes drop nothing (entries are
 * ASID-tagged; software changing a table base without a new ASID issues a
 * TLBI, as on hardware). EL, PAN and WXN are applied on the next access.
 * The initial state is all zero (stage 1 off).
 */
VM_API VM_WUR vm_err_t vm_mmu_set_arm64_regs(vm_mmu_t *mmu, const vm_arm64_regs_t *regs);
VM_API void vm_mmu_arm64_regs(const vm_mmu_t *mmu, vm_arm64_regs_t *out);

/*
 * TLB maintenance (Arm ARM C5.5, TLBI), EL1&0 regime, with the
 * instruction's register operand xt: ASID in xt[63:48] - with 8-bit ASIDs
 * (TCR.AS=0) only xt[55:48]: "the upper 8 bits of the ASID must be written
 * to 0 by software when the context being invalidated only uses 8 bits",
 * and vmmem ignores them then -, VA[55:12] in xt[43:0] (the full VA is
 * VA[55:0] sign-extended from bit 55; xt[47:44], TTL, is ignored). The
 * last-level forms (VALE1, VAALE1) equal VAE1 / VAAE1 here: vmmem caches
 * nothing but leaf entries. The operations act on the TLBs whatever the
 * current mode.
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
