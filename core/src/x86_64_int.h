/*
 * x86_64_int.h - the x86-64 part of vm_mmu_t and its hooks for the generic
 * MMU (mmu_int.h). Implemented in x86_64.c (registers, invalidations) and
 * walk_x86_64.c (the walk). Not installed.
 */
#ifndef VMMEM_X86_64_INT_H
#define VMMEM_X86_64_INT_H

#include "vmmem/x86_64.h"
#include "walk_int.h"

struct mmu_x86 {
    vm_x86_regs_t regs; /* as set: EFER.LMA computed, CR3 without bit 63 */
    /* Derived from regs by x86_refresh (every register write, every switch
     * to x86 mode) for walk_x86_64's common case; the full walk
     * (walk_x86_64_general) derives its own from regs. */
    bool lean_4level;         /* 4-level paging (CR4.LA57 = 0) */
    uint64_t lean_addr_mask;  /* bits MAXPHYADDR-1:12: next table or page */
    uint64_t lean_reserved;   /* reserved in every entry: 51:MAXPHYADDR, XD without NXE */
    vm_gpa_t lean_root;       /* CR3 & lean_addr_mask: the PML4 */
};

struct vm_mmu;

#define X86_MAXPHYADDR_DEFAULT 52u
#define X86_MAXPHYADDR_MIN 36u
/* Bits 51:0: the widest physical address of 4-/5-level paging (SDM 4.1.4). */
#define X86_PA_LIMIT_MASK ((UINT64_C(1) << 52) - 1)

/* MAXPHYADDR in effect (0 in the register block means the default, 52). */
static inline unsigned x86_maxphyaddr(const vm_x86_regs_t *r)
{
    return r->maxphyaddr == 0 ? X86_MAXPHYADDR_DEFAULT : r->maxphyaddr;
}

/* Paging-structure levels: 5 with CR4.LA57 (SDM 4.5.1), else 4. */
static inline unsigned x86_levels(const vm_x86_regs_t *r)
{
    return (r->cr4 & VM_X86_CR4_LA57) != 0 ? 5u : 4u;
}

/*
 * SDM 4.5.1 / Vol. 1 3.3.7.1: a linear address is canonical when bits
 * 63:47 (4-level) or 63:56 (5-level) all equal bit 47 / bit 56.
 */
static inline bool x86_canonical(unsigned levels, vm_gva_t va)
{
    unsigned va_bits = 12 + 9 * levels; /* 48 or 57 */
    uint64_t top = va >> (va_bits - 1);
    return top == 0 || top == (UINT64_MAX >> (va_bits - 1));
}

/* The current PCID (SDM 4.10.1): CR3[11:0] with CR4.PCIDE=1, else 000H. */
static inline uint16_t x86_pcid(const vm_x86_regs_t *r)
{
    return (r->cr4 & VM_X86_CR4_PCIDE) != 0 ? (uint16_t)(r->cr3 & VM_X86_CR3_PCID_MASK) : 0;
}

/*
 * Permission context (16 of them; tlb.h): the registers SDM 4.6.1 reads
 * on every access, so that changing them needs no flush:
 *   bit 0  user-mode access (CPL = 3)
 *   bit 1  CR0.WP
 *   bit 2  CR4.SMEP
 *   bit 3  CR4.SMAP = 1 and RFLAGS.AC = 0 (explicit supervisor accesses to
 *          user-mode addresses refused)
 * CR4.PKE and PKRU are folded into the vector of user-mode leaves at fill
 * (TLB_F_PKEY), EFER.NXE at fill too (changing it flushes).
 */
#define X86_CTX_USER 1u
#define X86_CTX_WP 2u
#define X86_CTX_SMEP 4u
#define X86_CTX_SMAP 8u
#define X86_CTX_COUNT 16u

static inline unsigned x86_ctx(const vm_x86_regs_t *r)
{
    unsigned ctx = 0;
    if (r->cpl == 3)
        ctx |= X86_CTX_USER;
    if ((r->cr0 & VM_X86_CR0_WP) != 0)
        ctx |= X86_CTX_WP;
    if ((r->cr4 & VM_X86_CR4_SMEP) != 0)
        ctx |= X86_CTX_SMEP;
    if ((r->cr4 & VM_X86_CR4_SMAP) != 0 && (r->rflags & VM_X86_RFLAGS_AC) == 0)
        ctx |= X86_CTX_SMAP;
    return ctx;
}

/* Set mmu->identity, mmu->asid and mmu->need[] from the x86 registers. */
VM_HIDDEN void x86_refresh(struct vm_mmu *mmu);

/* Build the walker's permission-vector table once (walk_x86_64.c). */
VM_HIDDEN void walk_x86_64_init(void);

/* The walk (walk_int.h contract). */
VM_HIDDEN vm_err_t walk_x86_64(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access,
                               unsigned flags, struct walk_result *out, vm_fault_t *fault);

/* After a failed walk: SDM 4.10.4.1, a page fault invalidates the TLB
 * entries for the faulting linear address in the current PCID. */
VM_HIDDEN void x86_after_fault(struct vm_mmu *mmu, vm_gva_t va, vm_err_t err);

/* cause and syndrome of a fault found outside the walk (misaligned: #AC;
 * access fault: vmmem's vector 18). */
VM_HIDDEN void x86_fault_codes(vm_fault_kind_t kind, vm_access_t access, uint32_t *cause,
                               uint32_t *syndrome);

#endif /* VMMEM_X86_64_INT_H */
