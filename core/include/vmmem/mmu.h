/*
 * vmmem/mmu.h - the software MMU: one per vCPU.
 *
 * A vm_mmu_t translates guest virtual addresses through page tables in guest
 * memory - RISC-V Sv39/Sv48/Sv57 (Priv. spec, "Virtual-Memory System"),
 * x86-64 4- and 5-level paging (Intel SDM Vol. 3A ch. 4, see
 * vmmem/x86_64.h) or AArch64 VMSAv8-64 stage 1 EL1&0 (Arm ARM D8, see
 * vmmem/arm64.h) - caches translations in a split TLB (ITLB for fetches,
 * DTLB for loads/stores; 64 and 128 entries by default, fully associative,
 * LRU, tagged with the address-space id - RISC-V ASID, x86 PCID, Arm ASID -,
 * global entries, superpages/blocks as one entry), and performs accesses
 * through the translation on a vm_physmem_t.
 *
 * Speed: lookups, fills and evictions are O(1). In front of the TLB sits a
 * direct-mapped level-0 array (vmmem/mmu_inline.h) that vm_mmu_read,
 * vm_mmu_write and vm_mmu_fetch_insn check first, inline in the caller.
 * Its hits count as TLB hits but do not refresh the LRU order: LRU is
 * exact over TLB lookups (vm_mmu_translate, and accesses that miss the
 * level-0 array), as with a micro-TLB in front of a main TLB. The capacity
 * is exact: a level-0 slot never outlives its TLB entry.
 *
 * Threads: a vm_mmu_t is NOT thread-safe; give each vCPU thread its own,
 * all sharing one vm_physmem_t (vm_mmu_new_shared()). Each MMU is a
 * distinct LR/SC owner (hart).
 *
 * TLB coherence is the guest's business, as on hardware: after changing a
 * PTE, the old translation may still be used until a flush covers it.
 * What the TLB caches (all architectures): leaf translations only (no
 * page-walk caches, no faults), each with the access rights combined over
 * the walk and the dirty state; an entry never grants an access that would
 * need an A/D (Arm: AF/dirty-state) update - such an access walks again.
 * The privilege and permission-control registers are NOT cached: they are
 * read on every access, so changing them needs no flush (RISC-V priv, SUM,
 * MXR; x86 CPL, CR0.WP, CR4.SMEP/SMAP, RFLAGS.AC, PKRU; Arm EL, PAN,
 * SCTLR.WXN). A satp write that changes MODE flushes the TLBs; one that
 * changes only ASID/root does not (entries are ASID-tagged); the x86 and
 * Arm register writes flush as their headers state.
 *
 * Errors and faults: a failed translation or access returns
 * VM_ERR_PAGE_FAULT (any translation fault: RISC-V page fault, x86 #PF, Arm
 * Translation/Access flag/Permission/Address size fault), VM_ERR_GP_FAULT
 * (x86 non-canonical address), VM_ERR_ACCESS_FAULT or
 * VM_ERR_ALIGNMENT_FAULT and records the details in vm_mmu_last_fault().
 * On any error no guest data is written (A/D bits may have been set by a
 * walk that completed, as the spec orders).
 */
#ifndef VMMEM_MMU_H
#define VMMEM_MMU_H

#include "vmmem/physmem.h"
#include "vmmem/pte.h"
#include "vmmem/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vm_mmu vm_mmu_t;

typedef enum vm_paging_mode {
    VM_PAGING_BARE = 0, /* identity: VA == PA */
    VM_PAGING_SV39,
    VM_PAGING_SV48,
    VM_PAGING_SV57,
    VM_PAGING_ARM64,    /* AArch64 stage 1, EL1&0 regime: registers in vmmem/arm64.h */
    VM_PAGING_X86_64,   /* x86-64 4-level (5-level with CR4.LA57): registers in vmmem/x86_64.h */
} vm_paging_mode_t;

typedef enum vm_priv {
    VM_PRIV_U = 0,
    VM_PRIV_S = 1,
    VM_PRIV_M = 3, /* translates to the identity (no MPRV) */
} vm_priv_t;

typedef enum vm_ad_mode {
    VM_AD_HARDWARE = 0, /* Svadu: A (and D on stores) set by an atomic PTE update */
    VM_AD_FAULT,        /* Svade: page fault when A == 0, or D == 0 on a store */
} vm_ad_mode_t;

/*
 * What kind of fault, architecture-neutral where the architectures agree.
 * The architecture-specific detail is in vm_fault_t.cause and .syndrome.
 */
typedef enum vm_fault_kind {
    VM_FAULT_NONE = 0,
    VM_FAULT_PAGE,        /* RISC-V page fault (causes 12 / 13 / 15); x86 #PF (vector 14) */
    VM_FAULT_ACCESS,      /* a PTE or the data has no RAM/MMIO behind it, or a device
                             refused: RISC-V access fault (1 / 5 / 7); Arm synchronous
                             external abort (FSC 0x10, or 0x14+level on a table walk);
                             x86: no SDM fault exists, vmmem reports vector 18 (#MC) */
    VM_FAULT_MISALIGNED,  /* address misaligned: RISC-V 0 / 4 / 6; x86 #AC (17); Arm
                             alignment fault (FSC 0x21) */
    VM_FAULT_GP,          /* x86 #GP (vector 13): non-canonical linear address */
    VM_FAULT_TRANSLATION, /* Arm Translation fault (FSC 0x04 + level) */
    VM_FAULT_ACCESS_FLAG, /* Arm Access flag fault (FSC 0x08 + level) */
    VM_FAULT_PERMISSION,  /* Arm Permission fault (FSC 0x0c + level) */
    VM_FAULT_ADDRESS_SIZE,/* Arm Address size fault (FSC 0x00 + level) */
} vm_fault_kind_t;

/* RISC-V exception causes (Priv. spec, mcause table). */
enum {
    VM_CAUSE_FETCH_MISALIGNED = 0,
    VM_CAUSE_FETCH_ACCESS = 1,
    VM_CAUSE_LOAD_MISALIGNED = 4,
    VM_CAUSE_LOAD_ACCESS = 5,
    VM_CAUSE_STORE_MISALIGNED = 6,
    VM_CAUSE_STORE_ACCESS = 7,
    VM_CAUSE_FETCH_PAGE_FAULT = 12,
    VM_CAUSE_LOAD_PAGE_FAULT = 13,
    VM_CAUSE_STORE_PAGE_FAULT = 15,
};

/* x86 exception vectors used in vm_fault_t.cause (SDM Vol. 3A, Table 6-1). */
enum {
    VM_X86_VEC_GP = 13,
    VM_X86_VEC_PF = 14,
    VM_X86_VEC_AC = 17,
    VM_X86_VEC_MC = 18,
};

/* Arm exception classes used in vm_fault_t.cause (ESR_ELx.EC). */
enum {
    VM_ARM64_EC_IABT_LOWER = 0x20, /* instruction abort from EL0 */
    VM_ARM64_EC_IABT_SAME = 0x21,  /* instruction abort taken without a change of EL (EL1) */
    VM_ARM64_EC_DABT_LOWER = 0x24, /* data abort from EL0 */
    VM_ARM64_EC_DABT_SAME = 0x25,  /* data abort from EL1 */
};

/*
 * The record of the last fault (kind VM_FAULT_NONE after a success).
 *
 *   cause     RISC-V: the exception cause (mcause). x86: the vector (13 #GP,
 *             14 #PF, 17 #AC, 18 for an access fault). Arm: ESR_ELx.EC.
 *   syndrome  RISC-V: 0. x86 #PF: the page-fault error code (P 0, W/R 1,
 *             U/S 2, RSVD 3, I/D 4, PK 5; VM_X86_PFEC_*), otherwise 0. Arm:
 *             ESR_ELx.ISS bits WnR (6, data aborts) and DFSC/IFSC (5:0).
 *   level     where the walk stopped, in the architecture's own numbering:
 *             RISC-V i (LEVELS-1 .. 0); x86 the paging-structure level (5
 *             PML5, 4 PML4, 3 PDPT, 2 PD, 1 PT); Arm the lookup level
 *             (0 .. 3). -1 if no table was involved.
 */
typedef struct vm_fault {
    vm_gva_t va;          /* faulting VA (stval / CR2 / FAR): for a page-crossing
                             access the first byte of the part that failed */
    vm_access_t access;   /* LR counts as READ, SC as WRITE */
    vm_fault_kind_t kind;
    uint32_t cause;       /* see above */
    uint32_t syndrome;    /* see above */
    int level;            /* see above; -1 if none */
    vm_gpa_t pte_addr;    /* PTE address at that level (valid when level >= 0) */
    uint64_t pte;         /* PTE value read there (0 if the read failed) */
    const char *reason;   /* static text, e.g. "W without R", "misaligned superpage" */
} vm_fault_t;

/*
 * Constructors. vm_mmu_new() owns a fresh vm_physmem_t of `size` bytes;
 * vm_mmu_new_default() is vm_mmu_new(64 KiB, false); vm_mmu_new_shared()
 * adds one more vCPU over memory it does not own (pm must outlive it).
 * Initial state: Bare, priv S, SUM=MXR=0, A/D in hardware, strict
 * alignment from the environment (VM_STRICT_ALIGN=1), TLBs 64/128.
 * NULL on failure.
 */
VM_API vm_mmu_t *vm_mmu_new(size_t size, bool use_hugepages);
/* As vm_mmu_new, with RAM at [base, base + size) (vm_physmem_new_at()). */
VM_API vm_mmu_t *vm_mmu_new_at(vm_gpa_t base, size_t size, bool use_hugepages);
VM_API vm_mmu_t *vm_mmu_new_default(void);
VM_API vm_mmu_t *vm_mmu_new_shared(vm_physmem_t *pm);
/* Frees the MMU and, if it owns it, its physical memory. NULL is a no-op. */
VM_API void vm_mmu_free(vm_mmu_t *mmu);
VM_API vm_physmem_t *vm_mmu_physmem(vm_mmu_t *mmu);

/*
 * Select the paging mode (keeps ASID and root, so after BARE vm_mmu_satp()
 * reads MODE 0 with the old ASID/PPN fields); flushes both TLBs.
 * VM_PAGING_X86_64 and VM_PAGING_ARM64 translate with the registers set by
 * vm_mmu_set_x86_regs() / vm_mmu_set_arm64_regs() (which keep their values
 * across mode changes); the RISC-V state (satp, priv, SUM, MXR, A/D mode)
 * is ignored in those modes, and theirs in the RISC-V modes.
 */
VM_API void vm_mmu_set_paging_mode(vm_mmu_t *mmu, vm_paging_mode_t mode);
VM_API vm_paging_mode_t vm_mmu_paging_mode(const vm_mmu_t *mmu);

/*
 * Write satp: MODE (63:60) 0/8/9/10 = Bare/Sv39/Sv48/Sv57, ASID (59:44),
 * PPN (43:0). Any other MODE leaves satp entirely unchanged (WARL).
 * A MODE change flushes both TLBs.
 */
VM_API void vm_mmu_set_satp(vm_mmu_t *mmu, uint64_t satp);
VM_API uint64_t vm_mmu_satp(const vm_mmu_t *mmu);

VM_API void vm_mmu_set_priv(vm_mmu_t *mmu, vm_priv_t priv);
VM_API void vm_mmu_set_sum(vm_mmu_t *mmu, bool sum);
VM_API void vm_mmu_set_mxr(vm_mmu_t *mmu, bool mxr);
VM_API void vm_mmu_set_ad_mode(vm_mmu_t *mmu, vm_ad_mode_t mode);
/* Misaligned accesses fault with VM_ERR_ALIGNMENT_FAULT when on. */
VM_API void vm_mmu_set_strict_align(vm_mmu_t *mmu, bool enable);

/*
 * Translate va for one access of the given kind, with all architectural
 * side effects (A/D update, TLB fill). The PA is returned even when no RAM
 * or MMIO backs it (the access through it would then be an access fault).
 * Errors: VM_ERR_PAGE_FAULT, VM_ERR_ACCESS_FAULT (a PTE outside RAM),
 * VM_ERR_INVALID_ARGUMENT, VM_ERR_UNSUPPORTED (mode without a walker).
 */
VM_API VM_WUR vm_err_t vm_mmu_translate(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                        vm_gpa_t *pa);

/*
 * TLB flushes, named after their RISC-V forms; the x86 and Arm headers give
 * their instructions' equivalents (INVLPG, INVPCID, TLBI ...). "asid" is
 * the address-space tag of the mode: satp.ASID, the x86 PCID, the Arm ASID.
 * A VA is compared on all 64 bits (Arm: after top-byte normalisation, see
 * vmmem/arm64.h), so a non-canonical VA matches nothing.
 */
/* sfence.vma x0, x0: drop every entry of both TLBs. */
VM_API void vm_mmu_flush_tlb(vm_mmu_t *mmu);
/* sfence.vma x0, asid: drop the non-global entries of that ASID. */
VM_API void vm_mmu_flush_tlb_asid(vm_mmu_t *mmu, uint16_t asid);
/* sfence.vma va, x0: drop the entries covering va in every ASID, global ones too. */
VM_API void vm_mmu_flush_tlb_page(vm_mmu_t *mmu, vm_gva_t va);
/*
 * Drop the entries covering va tagged with asid, and the global entries
 * covering va too when include_global. sfence.vma va, asid is
 * (va, asid, false); x86 INVLPG is (va, current PCID, true); Arm TLBI VAE1
 * is (va, asid, true).
 */
VM_API void vm_mmu_flush_tlb_page_asid(vm_mmu_t *mmu, vm_gva_t va, uint16_t asid,
                                       bool include_global);
/* Drop every non-global entry, in every ASID (x86 INVPCID type 3, a CR3
 * load with CR4.PCIDE=0). */
VM_API void vm_mmu_flush_tlb_nonglobal(vm_mmu_t *mmu);

/*
 * Hits and misses of both TLBs together: one per page translated while
 * translation is on, a hit when a TLB entry served it, a miss when the
 * tables were walked - also a walk that faults, including the checks made
 * before the first table read (a non-canonical RISC-V or x86 VA, an Arm VA
 * outside both ranges). Nothing counts while translation is off (Bare,
 * M-mode, x86 CR0.PG=0, Arm SCTLR.M=0). Hits through the inline accessors
 * of vmmem/mmu_inline.h are not counted. Either pointer may be NULL.
 */
VM_API void vm_mmu_tlb_stats(const vm_mmu_t *mmu, uint64_t *hits, uint64_t *misses);
/* Change TLB sizes (1..4096 each); clears entries and stats. Errors:
 * VM_ERR_INVALID_ARGUMENT, VM_ERR_OUT_OF_MEMORY (both leave the TLBs, their
 * entries and the stats as they were). */
VM_API VM_WUR vm_err_t vm_mmu_resize_tlbs(vm_mmu_t *mmu, size_t itlb, size_t dtlb);
VM_API void vm_mmu_tlb_capacity(const vm_mmu_t *mmu, size_t *itlb, size_t *dtlb);

/* RAM size of the underlying physical memory. */
VM_API size_t vm_mmu_memory_size(const vm_mmu_t *mmu);
/* Copy len bytes of guest RAM at physical pa into out (RAM only). */
VM_API VM_WUR vm_err_t vm_mmu_guest_slice(vm_mmu_t *mmu, uint64_t pa, size_t len, void *out);

/*
 * Accesses through translation. size is 1, 2, 4 or 8. Misaligned accesses
 * are allowed unless strict alignment is on; one that crosses a page
 * translates both pages before touching memory. MMIO is reachable; a
 * misaligned or page-crossing MMIO access, and an access the device refuses
 * (its callback returns an error), is an access fault (VM_ERR_ACCESS_FAULT,
 * recorded with reason "device error"): the device's own code is not passed
 * through here, unlike vm_physmem_read/write and vm_mmu_read/write_phys.
 */
/*
 * vm_mmu_read(vm_mmu_t *mmu, vm_gva_t va, uint8_t size, uint64_t *val);
 * vm_mmu_write(vm_mmu_t *mmu, vm_gva_t va, uint64_t val, uint8_t size);
 *
 * 4-byte instruction fetch through the ITLB (execute permission). With
 * strict alignment on, pc must be 4-byte aligned (the seed's rule for a
 * 4-byte access; a core with the C extension fetches 2-aligned halves and
 * should then use two 2-byte fetches or keep strict alignment off):
 * vm_mmu_fetch_insn(vm_mmu_t *mmu, vm_gva_t pc, uint64_t *insn);
 *
 * These three are defined in vmmem/mmu_inline.h, included here: an inline
 * check of the level-0 array plus an out-of-line call on a miss, so the
 * caller's compiler inlines the hit. They are also ordinary exported
 * functions (an -O0 build or a function pointer calls those), with the
 * same results.
 */
#include "vmmem/mmu_inline.h"
/*
 * Bulk transfers (RAM only): every page is translated first; if any page
 * faults or is not RAM nothing is transferred. A transfer over more than 16
 * pages allocates host memory for the translations: VM_ERR_OUT_OF_MEMORY
 * if that fails, before any translation (nothing changes).
 */
VM_API VM_WUR vm_err_t vm_mmu_read_bulk(vm_mmu_t *mmu, vm_gva_t va, void *buf, size_t len);
VM_API VM_WUR vm_err_t vm_mmu_write_bulk(vm_mmu_t *mmu, vm_gva_t va, const void *buf, size_t len);

/* Physical accesses (no translation); errors as vm_physmem_read/write. */
VM_API VM_WUR vm_err_t vm_mmu_read_phys(vm_mmu_t *mmu, vm_gpa_t pa, uint8_t size, uint64_t *val);
VM_API VM_WUR vm_err_t vm_mmu_write_phys(vm_mmu_t *mmu, vm_gpa_t pa, uint64_t val, uint8_t size);

/*
 * LR/SC through translation (owner = this MMU). Both require natural
 * alignment (else VM_ERR_ALIGNMENT_FAULT, cause 4 / 6, whatever the strict
 * setting) and RAM (else VM_ERR_ACCESS_FAULT, cause 5 / 7; no device is
 * touched). LR translates as a load. SC translates as a store before its
 * reservation is checked, so a failed SC still faults on a read-only page
 * and still sets A and D (Zalrsc leaves this unspecified; vmmem chooses it).
 * LR can also return VM_ERR_OUT_OF_MEMORY (this MMU's first reservation
 * needs a table slot and the host allocation failed): checked before the
 * walk, so nothing changes and no fault is recorded (unless another vCPU
 * took this MMU's idle slot between that check and the LR itself: then the
 * walk's A bit and TLB fill stay, as for any access that failed after it).
 */
VM_API VM_WUR vm_err_t vm_mmu_load_reserved(vm_mmu_t *mmu, vm_gva_t va, uint8_t size, uint64_t *val);
VM_API VM_WUR vm_err_t vm_mmu_store_conditional(vm_mmu_t *mmu, vm_gva_t va, uint64_t val,
                                                uint8_t size, bool *stored);
/* Translate va (as a load, no fault reported) and drop reservations there. */
VM_API void vm_mmu_invalidate_reservation(vm_mmu_t *mmu, vm_gva_t va, uint8_t size);

VM_API VM_WUR vm_err_t vm_mmu_map_mmio(vm_mmu_t *mmu, vm_gpa_t base, uint64_t size,
                                       const vm_mmio_ops_t *ops, void *opaque);
VM_API void vm_mmu_poll_devices(vm_mmu_t *mmu);

/* The last fault of this MMU (never NULL; kind NONE after a success). */
VM_API const vm_fault_t *vm_mmu_last_fault(const vm_mmu_t *mmu);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_MMU_H */
