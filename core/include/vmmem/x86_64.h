/*
 * vmmem/x86_64.h - x86-64 paging for vm_mmu_t (VM_PAGING_X86_64): the
 * registers that control it, the paging-structure entry bits, and the TLB
 * invalidation instructions.
 *
 * Scope (Intel SDM Vol. 3A, chapter 4 "Paging"): 4-level paging (CR0.PG=1,
 * CR4.PAE=1, EFER.LME=1, CR4.LA57=0) and 5-level paging (CR4.LA57=1), with
 * 4 KiB, 2 MiB (PDE.PS) and 1 GiB (PDPTE.PS) pages, PCIDs, global pages,
 * execute-disable, SMEP, SMAP, protection keys (PKRU, CR4.PKE), and A/D
 * flags set by atomic compare-and-swap (1 GiB pages are always available,
 * as with CPUID.80000001H:EDX.Page1GB = 1). With CR0.PG=0 addresses are
 * physical (identity). Out of scope: 32-bit and PAE paging (CR0.PG=1
 * without long mode is VM_ERR_UNSUPPORTED), supervisor protection keys
 * (PKS), HLAT, CET shadow-stack pages, implicit supervisor accesses,
 * memory types (PWT/PCD/PAT are accepted and ignored), VMX/EPT.
 *
 * Accesses: VM_ACCESS_READ / WRITE are data accesses at the current CPL;
 * VM_ACCESS_EXEC is an instruction fetch. CPL 3 is a user-mode access,
 * CPL 0..2 a supervisor-mode access (SDM 4.6).
 *
 * Faults (vm_mmu_last_fault()):
 *   - a non-canonical linear address (bits 63:47, or 63:56 with LA57, not
 *     all equal) is VM_ERR_GP_FAULT, kind VM_FAULT_GP, cause 13, checked
 *     before anything else and never a page fault;
 *   - everything the walk refuses is VM_ERR_PAGE_FAULT, kind VM_FAULT_PAGE,
 *     cause 14, syndrome = the page-fault error code (VM_X86_PFEC_*), level
 *     = the paging-structure level where it stopped (5..1): the entry with
 *     P = 0 or a reserved bit set (the walk stops at the first one, and
 *     such a fault wins over any access-rights violation, SDM 4.7), else
 *     the entry that maps the page (an access-rights violation). A walk
 *     whose A/D compare-and-swap keeps losing races gives up with a page
 *     fault at level -1 with P = 0 (the guest retries the access);
 *   - a paging-structure entry outside RAM is VM_ERR_ACCESS_FAULT, kind
 *     VM_FAULT_ACCESS, cause 18 (the SDM defines no fault for it: real
 *     platforms read all-ones or raise a machine check).
 *
 * A/D (SDM 4.8): a successful translation sets A in every entry it used
 * and, for a write, D in the entry that maps the page, by compare-and-swap
 * from the value read (walking again if an entry changed); an access that
 * faults writes no A/D bit (vmmem's choice: the SDM lets a processor set
 * A in entries it used on the way to a fault, but does not require it).
 *
 * TLB (SDM 4.10): entries are tagged with the PCID (CR3[11:0] when
 * CR4.PCIDE=1, else 0); a page is global when G=1 in the entry that maps it
 * and CR4.PGE=1. Entries hold the access rights combined over the walk
 * (R/W and U/S ANDed, XD ORed), the dirty state and the protection key;
 * CPL, CR0.WP, CR4.SMEP/SMAP/PKE, RFLAGS.AC and PKRU are applied on every
 * access, so changing them needs no flush. A translation is cached only
 * once A is set in every entry used, and grants writes only once D is set.
 * Register writes invalidate as SDM 4.10.4.1 prescribes, sometimes more
 * (see vm_mmu_set_x86_regs; "the processor is always free to invalidate
 * additional entries"); a page fault invalidates the entries for the
 * faulting page in the current PCID, and the global entries for it.
 */
#ifndef VMMEM_X86_64_H
#define VMMEM_X86_64_H

#include "vmmem/mmu.h"
#include "vmmem/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Paging-structure entry bits (SDM 4.5, Tables 4-15 .. 4-20) ------ */
#define VM_X86_PTE_P (UINT64_C(1) << 0)    /* present */
#define VM_X86_PTE_RW (UINT64_C(1) << 1)   /* read/write */
#define VM_X86_PTE_US (UINT64_C(1) << 2)   /* user/supervisor */
#define VM_X86_PTE_PWT (UINT64_C(1) << 3)  /* page-level write-through (ignored by vmmem) */
#define VM_X86_PTE_PCD (UINT64_C(1) << 4)  /* page-level cache disable (ignored by vmmem) */
#define VM_X86_PTE_A (UINT64_C(1) << 5)    /* accessed */
#define VM_X86_PTE_D (UINT64_C(1) << 6)    /* dirty (entries that map a page) */
#define VM_X86_PTE_PS (UINT64_C(1) << 7)   /* page size (PDPTE: 1 GiB, PDE: 2 MiB); PAT in a PTE */
#define VM_X86_PTE_G (UINT64_C(1) << 8)    /* global (entries that map a page) */
#define VM_X86_PTE_PAT_LARGE (UINT64_C(1) << 12) /* PAT bit of a 2 MiB / 1 GiB entry */
#define VM_X86_PTE_PKEY_SHIFT 59           /* protection key, bits 62:59 (entries that map a page) */
#define VM_X86_PTE_PKEY_MASK (UINT64_C(0xf) << VM_X86_PTE_PKEY_SHIFT)
#define VM_X86_PTE_XD (UINT64_C(1) << 63)  /* execute-disable (reserved unless EFER.NXE) */

/* ---- Page-fault error code, in vm_fault_t.syndrome (SDM 4.7) --------- */
#define VM_X86_PFEC_P (1u << 0)    /* 0: an entry with P=0; 1: protection violation
                                      or reserved bit (RSVD implies P) */
#define VM_X86_PFEC_W (1u << 1)    /* the access was a write */
#define VM_X86_PFEC_U (1u << 2)    /* the access was a user-mode access (CPL 3) */
#define VM_X86_PFEC_RSVD (1u << 3) /* a reserved bit was set in some entry */
#define VM_X86_PFEC_I (1u << 4)    /* the access was an instruction fetch (NXE or SMEP) */
#define VM_X86_PFEC_PK (1u << 5)   /* a data access to a user-mode address whose key
                                      PKRU disallows for it (AD; WD for a write
                                      at CPL 3 or with CR0.WP=1), SDM 4.7 */

/* ---- Control-register bits vmmem reads ------------------------------- */
#define VM_X86_CR0_PE (UINT64_C(1) << 0)
#define VM_X86_CR0_WP (UINT64_C(1) << 16)
#define VM_X86_CR0_PG (UINT64_C(1) << 31)
#define VM_X86_CR3_NOFLUSH (UINT64_C(1) << 63) /* with CR4.PCIDE: keep the PCID's entries */
#define VM_X86_CR3_PCID_MASK UINT64_C(0xfff)
#define VM_X86_CR4_PSE (UINT64_C(1) << 4)
#define VM_X86_CR4_PAE (UINT64_C(1) << 5)
#define VM_X86_CR4_PGE (UINT64_C(1) << 7)
#define VM_X86_CR4_LA57 (UINT64_C(1) << 12)
#define VM_X86_CR4_PCIDE (UINT64_C(1) << 17)
#define VM_X86_CR4_SMEP (UINT64_C(1) << 20)
#define VM_X86_CR4_SMAP (UINT64_C(1) << 21)
#define VM_X86_CR4_PKE (UINT64_C(1) << 22)
#define VM_X86_EFER_LME (UINT64_C(1) << 8)
#define VM_X86_EFER_LMA (UINT64_C(1) << 10)
#define VM_X86_EFER_NXE (UINT64_C(1) << 11)
#define VM_X86_RFLAGS_AC (UINT64_C(1) << 18)

/*
 * The register state x86-64 paging depends on. Bits vmmem does not use are
 * stored and read back unchanged, except EFER.LMA, which is computed
 * (LME && CR0.PG) as on hardware, and CR3 bit 63, which is never stored
 * (it is an operand of MOV to CR3, not part of CR3).
 */
typedef struct vm_x86_regs {
    uint64_t cr0;       /* PE, WP, PG */
    uint64_t cr3;       /* PML4/PML5 base in bits MAXPHYADDR-1:12; PCID in 11:0 when
                           CR4.PCIDE=1; bit 63 = no-flush on a load with PCIDE */
    uint64_t cr4;       /* PSE, PAE, PGE, LA57, PCIDE, SMEP, SMAP, PKE */
    uint64_t efer;      /* LME, LMA (read-only), NXE */
    uint64_t rflags;    /* AC */
    uint32_t pkru;      /* AD (bit 2k) and WD (bit 2k+1) for protection key k */
    uint8_t cpl;        /* current privilege level 0..3 */
    uint8_t maxphyaddr; /* physical-address width 36..52; 0 means the default, 52 */
} vm_x86_regs_t;

/*
 * Set the x86 registers. The new state is validated as a whole first; on
 * error nothing changes:
 *   VM_ERR_INVALID_ARGUMENT  NULL; cpl > 3; maxphyaddr not 0 or 36..52;
 *                            CR3 bits 62:MAXPHYADDR set; CR3 bit 63 set
 *                            while the new CR4.PCIDE is 0 (reserved then,
 *                            SDM Table 4-12); CR0.PG=1 with CR0.PE=0;
 *                            CR4.PCIDE=1 outside long mode (EFER.LMA=0), or
 *                            turned on (0 -> 1) while the new CR3[11:0] != 0
 *                            (each a #GP on hardware);
 *   VM_ERR_UNSUPPORTED       CR0.PG=1 without CR4.PAE=1 and EFER.LME=1
 *                            (32-bit or PAE paging).
 * Then every register whose value differs from the current one is written
 * as by the instruction that writes it, with the TLB invalidations of SDM
 * 4.10.4.1: a CR3 load (value differs, or bit 63 given) drops the
 * non-global entries of the new PCID (all non-global entries with
 * PCIDE=0) unless PCIDE=1 and bit 63 is set; changing CR0.PG, CR4.PGE,
 * CR4.PAE, CR4.LA57, EFER.LME/NXE or MAXPHYADDR, clearing CR4.PCIDE or
 * setting CR4.SMEP drops every entry, global ones included (the SDM asks
 * for less for CR0.PG 0 -> 1, CR4.PAE and CR4.SMEP - the current PCID -
 * and nothing for LA57, LME, NXE or MAXPHYADDR, which no single MOV or
 * WRMSR can change under 4-level paging; a register block can, and a full
 * flush is always allowed). CPL, CR0.WP, CR4.SMAP/PKE, RFLAGS.AC and PKRU
 * changes need no invalidation: they apply on the next access (after a
 * CR4.PKE or PKRU change vmmem re-walks user-mode pages, whose cached
 * rights fold in the key's PKRU bits; other entries stay). Writes made
 * while another paging mode is selected invalidate nothing (entering
 * VM_PAGING_X86_64 flushes). The registers keep their values while another
 * paging mode is selected; the initial state is all zero (paging off).
 */
VM_API VM_WUR vm_err_t vm_mmu_set_x86_regs(vm_mmu_t *mmu, const vm_x86_regs_t *regs);
/* Read the registers back (EFER.LMA as computed). */
VM_API void vm_mmu_x86_regs(const vm_mmu_t *mmu, vm_x86_regs_t *out);

/* MOV to CR3 with `value` (always a load, even of the current value); errors as above. */
VM_API VM_WUR vm_err_t vm_mmu_x86_load_cr3(vm_mmu_t *mmu, uint64_t value);

/* INVLPG: the entries for va's page in the current PCID, and global entries for it. */
VM_API void vm_mmu_x86_invlpg(vm_mmu_t *mmu, vm_gva_t va);

/* INVPCID types (SDM Vol. 2, INVPCID). */
typedef enum vm_x86_invpcid_type {
    VM_X86_INVPCID_ADDRESS = 0,    /* va's page in pcid, except global translations */
    VM_X86_INVPCID_SINGLE = 1,     /* everything in pcid, except global translations */
    VM_X86_INVPCID_ALL_GLOBAL = 2, /* everything, global included */
    VM_X86_INVPCID_ALL = 3,        /* everything except global translations */
} vm_x86_invpcid_type_t;

/*
 * INVPCID. Errors: VM_ERR_INVALID_ARGUMENT for a type other than 0..3, a
 * pcid above 0xfff (descriptor bits 63:12), type 0 or 1 with a pcid other
 * than 0 while CR4.PCIDE=0 (SDM Vol. 2 INVPCID: "allowed only if the PCID
 * ... is 000H"), or type 0 with a va not canonical for the current paging
 * depth (#GP on hardware); nothing is invalidated then. Type 0 leaves
 * global translations alone (vm_mmu_x86_invlpg drops them).
 */
VM_API VM_WUR vm_err_t vm_mmu_x86_invpcid(vm_mmu_t *mmu, vm_x86_invpcid_type_t type,
                                          uint16_t pcid, vm_gva_t va);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_X86_64_H */
