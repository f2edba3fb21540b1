/*
 * walk_riscv.h - the hot part of the RISC-V walk (walk_riscv.c has the
 * rest: the permission table, the fault records, the A/D update), inline
 * so that a TLB miss (access.c, through mmu_walk) walks in its own frame
 * with the walk's answer in registers. Not installed; included by
 * mmu_int.h after struct vm_mmu, whose fields the walk reads.
 */
#ifndef VMMEM_WALK_RISCV_H
#define VMMEM_WALK_RISCV_H

#include "vmmem/pte.h"
#include "walk_int.h"

/* Why a walk stopped (the reason text and the fault kind follow from it). */
enum rv_stop {
    RV_NONCANONICAL,
    RV_PTE_OUTSIDE_RAM,
    RV_PTE_INVALID,      /* step 3: reason from rv_invalid() */
    RV_NONLEAF_DAU,
    RV_POINTER_AT_LEVEL0,
    RV_MISALIGNED_SUPERPAGE,
    RV_PERMISSION,       /* steps 6 and 8: reason from rv_permits() */
    RV_AD_CLEAR,         /* step 9 under Svade */
    RV_AD_NOT_WRITABLE,  /* step 9: the PTE store would fail the PMA check */
    RV_AD_LIVELOCK,
};

/* The PA a PTE points to: PPN (bits 53:10) << 12. */
static inline vm_gpa_t rv_pte_pa(uint64_t pte)
{
    return ((pte & VM_PTE_PPN_MASK) >> VM_PTE_PPN_SHIFT) << 12;
}

/*
 * Step 3 in one test: V=0, W without R, or a reserved bit (63:54) makes a
 * PTE invalid. Branch-free, so the walk pays one branch per level.
 */
static inline bool rv_pte_bad(uint64_t pte)
{
    uint64_t rw = pte & (VM_PTE_R | VM_PTE_W);
    return ((~pte & VM_PTE_V) | (uint64_t)(rw == VM_PTE_W) | (pte & VM_PTE_RESERVED_MASK)) != 0;
}

/* The level i of a PTE whose VPN field starts at bit shift = 12 + 9 * i
 * (unsigned division: a multiply and a shift). */
static inline int rv_level(unsigned shift)
{
    return (int)((shift - 12u) / 9u);
}

/* Where the descent of step 2-4 ended. */
struct rv_leaf {
    vm_gpa_t pte_addr;
    uint64_t pte;
    uint64_t path;  /* the OR of every PTE on the path (for G) */
    unsigned shift; /* 12 + 9 * i */
};

/*
 * Steps 2-4: descend from root to the leaf. Reads only; no calls, so the
 * loop keeps everything in registers. Returns the stop reason (rv_stop
 * values) or -1 with the leaf in *L.
 */
static VM_ALWAYS_INLINE int rv_descend(const vm_physmem_t *pm, vm_gpa_t a, vm_gva_t va,
                                       unsigned shift, struct rv_leaf *L)
{
    uint64_t pte, path = 0;
    for (;;) {
        /* Step 2: pte = a + va.vpn[i] * PTESIZE, a PMA-checked read. */
        vm_gpa_t pte_addr = a + ((va >> shift) & 511u) * 8u;
        if (VM_UNLIKELY(!walk_read_entry(pm, pte_addr, 8, &pte))) {
            L->pte_addr = pte_addr;
            L->shift = shift;
            L->pte = 0;
            return RV_PTE_OUTSIDE_RAM;
        }
        path |= pte; /* G anywhere on the path makes the mapping global */
        /* Steps 3 and 4 for the common case in one test: a valid pointer
         * has V=1, R=W=X=0, D=A=U=0 ("for non-leaf PTEs, the D, A, and U
         * bits are reserved") and no reserved bit; G may be set. */
        if (VM_LIKELY((pte & (VM_PTE_RESERVED_MASK | 0xdf)) == VM_PTE_V && shift != 12)) {
            a = rv_pte_pa(pte);
            shift -= 9;
            continue;
        }
        /* Stored on the way out only: the loop keeps everything in registers. */
        L->pte_addr = pte_addr;
        L->shift = shift;
        L->pte = pte;
        L->path = path;
        /* The common end in one test: V=1, no reserved bit, R or X set: a
         * leaf (step 4). A leaf with W but not R (step 3) passes here and
         * is stopped by the permission table, which grants it nothing. */
        if (VM_LIKELY((pte & (VM_PTE_RESERVED_MASK | VM_PTE_V)) == VM_PTE_V &&
                      (pte & (VM_PTE_R | VM_PTE_X)) != 0))
            return -1;
        if (rv_pte_bad(pte)) /* step 3 */
            return RV_PTE_INVALID;
        if ((pte & (VM_PTE_D | VM_PTE_A | VM_PTE_U)) != 0)
            return RV_NONLEAF_DAU;
        return RV_POINTER_AT_LEVEL0; /* step 4: "If i < 0, stop and raise a page-fault" */
    }
}

/* The TLB permission vector of a leaf by PTE bits 7:0 (walk_riscv.c). */
VM_HIDDEN extern uint64_t rv_perm_table[256];

/* The fault record of a stopped walk (out of line: the walk's hot path
 * carries no strings and no record building). */
VM_HIDDEN vm_err_t rv_stop(const struct vm_mmu *mmu, vm_fault_t *f, vm_gva_t va,
                           vm_access_t access, enum rv_stop why, int level, vm_gpa_t pte_addr,
                           uint64_t pte);

/* Step 10, the answer of leaf L holding `pte` (now) with permission vector
 * perms: pa.pgoff = va.pgoff; for a superpage the low VPNs pass through. */
static inline void rv_answer(struct walk_result *out, vm_gva_t va, const struct rv_leaf *L,
                             uint64_t pte, uint64_t perms)
{
    const uint64_t page_mask = (UINT64_C(1) << L->shift) - 1;
    const vm_gpa_t base = rv_pte_pa(pte);
    out->page_pa = base;
    out->page_mask = page_mask;
    out->pa = base | (va & page_mask);
    out->pte = pte;
    out->level = rv_level(L->shift);
    out->global = (L->path & VM_PTE_G) != 0;
    out->perms = perms;
    out->tlb_flags = 0;
    out->pkey = 0;
}

/* rv_stop, telling the compiler what it returns is never VM_OK: then no
 * path of the inline walk seems to succeed without its answer (the answer
 * lives in registers of the caller, where gcc would see one). */
static inline vm_err_t rv_fail(const struct vm_mmu *mmu, vm_fault_t *f, vm_gva_t va,
                               vm_access_t access, enum rv_stop why, int level,
                               vm_gpa_t pte_addr, uint64_t pte)
{
    vm_err_t err = rv_stop(mmu, f, va, access, why, level, pte_addr, pte);
    if (err == VM_OK)
        __builtin_unreachable();
    return err;
}

/* Step 9 under Svadu, out of line: the A/D compare-and-swap, the walk's
 * answer after it, or a restart from the root. */
VM_HIDDEN vm_err_t rv_update(struct vm_mmu *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                             struct walk_result *out, vm_fault_t *fault, unsigned restarts,
                             const struct rv_leaf *L, uint64_t want);

/* "Instruction fetch addresses and load and store effective addresses
 * ... must have bits 63-VA_BITS all equal to bit VA_BITS-1, or else a
 * page-fault exception will occur" (Sv39/48/57 "Addressing"): adding
 * 2^(VA_BITS-1) maps exactly those addresses (modulo 2^64) below 2^VA_BITS.
 * va_bits is a constant in each caller: an add and a shift. */
static inline bool rv_canonical(vm_gva_t va, unsigned va_bits)
{
    return ((va + (UINT64_C(1) << (va_bits - 1))) >> va_bits) == 0;
}

/* Steps 1-10 (step 0: va canonical); a restart after a failed A/D update
 * (rare) comes back through walk_riscv.c's rv_walk_again. */
static VM_ALWAYS_INLINE vm_err_t rv_walk(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                         unsigned flags, struct walk_result *out,
                                         vm_fault_t *fault, unsigned restarts)
{
    const unsigned levels = mmu->rv_levels;
    struct rv_leaf L;
    /* One descent per mode, with its first shift a constant, so the
     * compiler unrolls each (Sv39 is three straight reads). */
    const vm_gpa_t root = mmu->root_ppn << 12; /* step 1 */
    int why;
    switch (levels) {
    case 3:
        if (VM_UNLIKELY(!rv_canonical(va, 39)))
            return rv_fail(mmu, fault, va, access, RV_NONCANONICAL, -1, 0, 0);
        why = rv_descend(mmu->pm, root, va, 30, &L);
        break;
    case 4:
        if (VM_UNLIKELY(!rv_canonical(va, 48)))
            return rv_fail(mmu, fault, va, access, RV_NONCANONICAL, -1, 0, 0);
        why = rv_descend(mmu->pm, root, va, 39, &L);
        break;
    default:
        if (VM_UNLIKELY(!rv_canonical(va, 57)))
            return rv_fail(mmu, fault, va, access, RV_NONCANONICAL, -1, 0, 0);
        why = rv_descend(mmu->pm, root, va, 48, &L);
        break;
    }
    if (VM_UNLIKELY(why >= 0))
        return rv_fail(mmu, fault, va, access, (enum rv_stop)why, rv_level(L.shift),
                       L.pte_addr, L.pte);

    const uint64_t pte = L.pte;
    const uint64_t page_mask = (UINT64_C(1) << L.shift) - 1;
    const vm_gpa_t base = rv_pte_pa(pte);
    /* Step 5: "If i > 0 and pte.ppn[i-1:0] != 0, this is a misaligned
     * superpage" (BUG-CLASSES 3: never OR the low PPN bits with the VPN). */
    if (VM_UNLIKELY((base & page_mask) != 0))
        return rv_fail(mmu, fault, va, access, RV_MISALIGNED_SUPERPAGE, rv_level(L.shift),
                       L.pte_addr, pte);
    /* Steps 6 and 8: the permission table answers for the current context
     * (it holds the rule of rv_permits for every context). */
    const uint64_t want = pte | VM_PTE_A | (access == VM_ACCESS_WRITE ? VM_PTE_D : 0);
    const uint64_t perms = rv_perm_table[want & 0xff];
    if (VM_UNLIKELY((perms & mmu->need[access]) == 0))
        return rv_fail(mmu, fault, va, access, RV_PERMISSION, rv_level(L.shift),
                       L.pte_addr, pte);
    /* Step 9: "If pte.a=0, or if the original memory access is a store and
     * pte.d=0": Svade faults, Svadu updates atomically (rv_update). */
    if (VM_UNLIKELY(want != pte) && (flags & WALK_SPECULATIVE) == 0) {
        /* The inline walk of a miss leaves step 9 to a walk_riscv() call:
         * then no address of its locals escapes and its answer stays in
         * registers (the fill after it merged with rv_update's answer
         * otherwise, spilling even constants). */
        if (flags & WALK_AD_DEFER)
            return WALK_PENDING;
        return rv_update(mmu, va, access, flags, out, fault, restarts, &L, want);
    }
    /* (A speculative walk gets here with want != pte: the PTE's own.) */
    rv_answer(out, va, &L, pte, VM_LIKELY(want == pte) ? perms : rv_perm_table[pte & 0xff]);
    return VM_OK;
}

/* The whole walk of va for one access (walk_riscv() is the same as a call). */
static VM_ALWAYS_INLINE vm_err_t walk_riscv_inline(struct vm_mmu *mmu, vm_gva_t va,
                                                  vm_access_t access, unsigned flags,
                                                  struct walk_result *out, vm_fault_t *fault)
{
    return rv_walk(mmu, va, access, flags, out, fault, 0);
}

#endif /* VMMEM_WALK_RISCV_H */
