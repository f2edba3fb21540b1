/*
 * mmu_int.h - the layout of vm_mmu_t and the interface between the generic
 * MMU (mmu.c: state, TLB, translate; access.c: accesses) and the
 * architectures (walk_riscv.c; x86_64.c + walk_x86_64.c; arm64.c +
 * walk_arm64.c). Not installed.
 *
 * An architecture provides:
 *   - a walk function (walk_int.h signature) that never touches the TLB;
 *   - a refresh function, called after every change of its registers and
 *     on entering its mode, that sets the three derived fields the generic
 *     code reads on every access: mmu->identity (translation off: VA == PA,
 *     no TLB), mmu->asid (the tag of the current address space) and
 *     mmu->need[] (the permission-vector bit of each access in the current
 *     context; TLB_PERM_NEVER when not translating);
 *   - its permission-context numbering (at most TLB_MAX_CTX contexts) and
 *     the TLB permission vector of every leaf it returns (walk_result).
 */
#ifndef VMMEM_MMU_INT_H
#define VMMEM_MMU_INT_H

#include "vmmem/arm64.h"
#include "vmmem/mmu.h"
#include "vmmem/x86_64.h"
#include "arm64_int.h"
#include "physmem_int.h"
#include "tlb.h"
#include "walk_int.h"
#include "x86_64_int.h"

#define MMU_PAGE_SHIFT 12u
#define MMU_PAGE_SIZE (UINT64_C(1) << MMU_PAGE_SHIFT)

struct vm_mmu {
    /* The level-0 arrays and the hit counter: the public inline hit path
     * (vmmem/mmu_inline.h) reads this first member. */
    vm_mmu_fast_t fast;

    vm_physmem_t *pm;
    uint16_t asid;              /* tag of the current address space (satp.ASID, PCID, ASID) */
    uint64_t need[3];           /* TLB permission bit per access in the current
                                   context; TLB_PERM_NEVER when not translating */
    bool identity;              /* translation off (VA == PA, no TLB): set by refresh */
    bool slow_other;            /* identity, or Arm64: access_slow's one test for the
                                   paths other than the RISC-V / x86-64 TLB (refresh) */
    bool arm64_tlb;             /* Arm64 with stage 1 on: a VA whose bits 63:55 are all
                                   equal is its own TLB tag, so access_slow's TLB path
                                   serves it too (refresh) */
    struct tlb itlb;            /* fetches */
    struct tlb dtlb;            /* loads and stores */
    uint64_t tlb_misses;        /* (hits are fast.hits, less the identity ones:) */
    uint64_t identity_hits;     /* fast hits made with translation off (not TLB hits) ... */
    uint64_t identity_since;    /* ... and fast.hits when translation last went off */
    vm_fault_t fault;           /* the last fault ... */
    uint64_t fault_hits;        /* ... recorded when fast.hits had this value: a fast
                                   hit since then (hits moved) means "no fault" */

    /* Translation state. */
    vm_paging_mode_t mode;

    /* RISC-V (the Sv modes and Bare). */
    unsigned rv_levels;         /* walk_riscv_levels(mode), kept by mmu_refresh */
    uint64_t root_ppn;          /* satp.PPN */
    uint16_t satp_asid;         /* satp.ASID */
    vm_priv_t priv;
    bool sum, mxr;
    vm_ad_mode_t ad_mode;

    struct mmu_x86 x86;         /* x86_64_int.h */
    struct mmu_arm64 arm;       /* arm64_int.h */

    bool strict_align;
    bool owns_pm;
    uint64_t owner;             /* LR/SC owner id, unique per MMU, never 0 */
};

/* Is the access size one of 1, 2, 4, 8? */
static inline bool mmu_size_ok(unsigned size)
{
    return size <= 8 && ((0x116u >> size) & 1u) != 0;
}

static inline struct tlb *mmu_tlb_for(vm_mmu_t *mmu, vm_access_t access)
{
    return access == VM_ACCESS_EXEC ? &mmu->itlb : &mmu->dtlb;
}

/* RISC-V permission context: priv U/S x SUM x MXR (8 contexts). */
static inline unsigned mmu_riscv_ctx(vm_priv_t priv, bool sum, bool mxr)
{
    return (priv == VM_PRIV_S ? 1u : 0u) | (sum ? 2u : 0u) | (mxr ? 4u : 0u);
}

/* Set mmu->need[] for context ctx, or to TLB_PERM_NEVER if !translating. */
static inline void mmu_set_need(vm_mmu_t *mmu, bool translating, unsigned ctx)
{
    for (unsigned a = 0; a < 3; a++)
        mmu->need[a] = translating ? tlb_perm_bit(ctx, (vm_access_t)a) : TLB_PERM_NEVER;
}

/* Recompute identity/asid/need[] for the current mode (dispatches to the
 * architecture's refresh). */
VM_HIDDEN void mmu_refresh(vm_mmu_t *mmu);

/* Drop every entry of both TLBs. */
VM_HIDDEN void mmu_flush_all(vm_mmu_t *mmu);

/* Reset the fault record to "no fault" (out of line: rare). */
VM_HIDDEN void mmu_fault_clear(vm_mmu_t *mmu);
/* mmu_fault_clear, then return VM_OK (lets the hot path tail-call it). */
VM_HIDDEN vm_err_t mmu_fault_clear_ok(vm_mmu_t *mmu);

/* The fault-record upkeep of a success outside the fast hit path: kind
 * NONE afterwards. (A fast hit needs none: it moves fast.hits, which makes
 * the record stale; see vm_mmu_last_fault.) */
static inline void mmu_note_success(vm_mmu_t *mmu)
{
    if (VM_UNLIKELY(mmu->fault.kind != VM_FAULT_NONE))
        mmu_fault_clear(mmu);
}

/* `return mmu_success(mmu);` ends a slow path: no stack frame needed. */
static inline vm_err_t mmu_success(vm_mmu_t *mmu)
{
    if (VM_UNLIKELY(mmu->fault.kind != VM_FAULT_NONE))
        return mmu_fault_clear_ok(mmu);
    return VM_OK;
}

/* Record a fault (the walkers' record, or one built by mmu_fault_record). */
static inline void mmu_fault_set(vm_mmu_t *mmu, const vm_fault_t *f)
{
    mmu->fault = *f;
    mmu->fault_hits = mmu->fast.hits;
}

/*
 * Record a fault found outside the walk (misaligned, a data access with
 * nothing behind it, a device error): the kind's cause and syndrome in the
 * current mode's terms. Returns the matching error.
 */
VM_HIDDEN vm_err_t mmu_fault_record(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                    vm_fault_kind_t kind, const char *reason);

/* Flags of mmu_translate_page. */
#define MMU_XLATE_SPECULATIVE 1u /* no A/D write, no TLB fill, no stats, no fault record */

/*
 * Translate the page containing va for one access (the slow path: TLB
 * lookup, then walk and fill). Does not clear the fault record on success.
 * Errors: VM_ERR_PAGE_FAULT / VM_ERR_GP_FAULT / VM_ERR_ACCESS_FAULT (fault
 * recorded).
 */
VM_HIDDEN vm_err_t mmu_translate_page(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                      unsigned flags, vm_gpa_t *pa);
/* The same, also giving the TLB entry that served it (NULL when translation
 * is off or the access was speculative). */
VM_HIDDEN vm_err_t mmu_translate_entry(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                       unsigned flags, vm_gpa_t *pa, struct tlb_entry **ep);

/*
 * For the harness's white-box checks of what the TLBs hold (conformance/,
 * fuzz/; the library does not use it): the first entry of the DTLB, then
 * of the ITLB, most recently used first, that keep(ctx, e, exec_side)
 * rejects, with *exec_side set; NULL if it keeps them all.
 */
static inline const struct tlb_entry *
mmu_tlb_find_rejected(const vm_mmu_t *mmu,
                      bool (*keep)(const void *ctx, const struct tlb_entry *e, bool exec_side),
                      const void *ctx, bool *exec_side)
{
    for (int side = 0; side < 2; side++) {
        const struct tlb *t = side ? &mmu->itlb : &mmu->dtlb;
        uint16_t i = t->mru;
        for (size_t n = t->count; n > 0; n--, i = t->e[i].next)
            if (!keep(ctx, &t->e[i], side != 0)) {
                *exec_side = side != 0;
                return &t->e[i];
            }
    }
    return NULL;
}

/* A TLB hit: counted, and the entry made the most recently used. */
static inline void mmu_tlb_count_hit(vm_mmu_t *mmu, struct tlb_entry *e, vm_access_t access)
{
    mmu->fast.hits++;
    tlb_touch(mmu_tlb_for(mmu, access), e);
}

#include "walk_riscv.h"  /* the RISC-V walk inline; it reads struct vm_mmu */
#include "walk_x86_64.h" /* the x86-64 walk's common case inline (the same) */
#include "walk_arm64.h"  /* the Arm64 walk's common case inline (the same) */

/* The architecture's walk for the current mode (one switch per miss). */
static inline vm_err_t mmu_walk(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                                struct walk_result *res, vm_fault_t *fault)
{
    switch (mmu->mode) {
    case VM_PAGING_X86_64:
        return walk_x86_64(mmu, va, access, flags, res, fault);
    case VM_PAGING_ARM64:
        return walk_arm64(mmu, va, access, flags, res, fault);
    default:
        return walk_riscv_inline(mmu, va, access, flags, res, fault);
    }
}

/* The fault side of mmu_translate_miss, out of line: record it (and apply
 * the x86 rule for entries after a #PF). Returns err. */
VM_HIDDEN vm_err_t mmu_miss_fault(vm_mmu_t *mmu, vm_gva_t va, vm_err_t err, const vm_fault_t *f);

/* The end of every miss once its walk answered: the fault recorded, or
 * the fill. */
static VM_ALWAYS_INLINE vm_err_t mmu_miss_end(vm_mmu_t *mmu, vm_gva_t va, vm_gva_t tag_va,
                                              vm_access_t access, vm_err_t err,
                                              const struct walk_result *res,
                                              const vm_fault_t *fault, vm_gpa_t *pa,
                                              struct tlb_entry **ep, uint32_t hint)
{
    if (VM_UNLIKELY(err != VM_OK)) {
        *ep = NULL;
        return mmu_miss_fault(mmu, va, err, fault);
    }
    *ep = tlb_insert(mmu_tlb_for(mmu, access), tag_va, mmu->asid, res, hint);
    *pa = res->pa;
    return VM_OK;
}

/* The end of a miss whose inline walk returned WALK_PENDING (RISC-V: step
 * 9, an A/D update or a Svade fault; x86-64 and Arm64: anything outside
 * their common case): the full walk as a call, then the fill or the fault.
 * Out of line; the miss is already counted. */
VM_HIDDEN vm_err_t mmu_translate_miss_again(vm_mmu_t *mmu, vm_gva_t va, vm_gva_t tag_va,
                                            vm_access_t access, vm_gpa_t *pa,
                                            struct tlb_entry **ep, uint32_t hint);

/*
 * After a TLB miss (or an entry lacking the permission: a store to a page
 * cached clean walks again, the walk sets D or reports the fault): count
 * the miss, walk, fill (hint: tlb_insert's). A fault is recorded. Inline: it is the body of
 * access.c's access_miss, where a call here cost a frame and the walk's
 * answer passed through memory. It may return WALK_PENDING (nothing
 * recorded): the caller then calls mmu_translate_miss_again, whose out
 * parameters would otherwise be the miss's stack traffic. `riscv` (a
 * constant at each use) picks the inline RISC-V walk or the x86-64 / Arm64
 * ones (their common case inline, the rest WALK_PENDING); one body per
 * choice, so the compiler never merges the two fills (which put the
 * answer back on the stack).
 */
static VM_ALWAYS_INLINE vm_err_t mmu_translate_miss(vm_mmu_t *mmu, vm_gva_t va, vm_gva_t tag_va,
                                                    vm_access_t access, vm_gpa_t *pa,
                                                    struct tlb_entry **ep, bool riscv,
                                                    uint32_t hint)
{
    mmu->tlb_misses++;
    struct walk_result res;
    vm_fault_t fault;
    vm_err_t err;
    if (riscv) {
        err = walk_riscv_inline(mmu, va, access, WALK_AD_DEFER, &res, &fault);
        if (VM_UNLIKELY(err == WALK_PENDING))
            return err; /* the caller goes on with mmu_translate_miss_again */
    } else { /* rv_levels 0 with paging on: x86-64 or Arm64 (Bare is identity) */
        err = mmu->mode == VM_PAGING_X86_64 ? walk_x86_64_lean(mmu, va, access, &res)
                                            : walk_arm64_lean(mmu, va, access, &res);
        if (VM_UNLIKELY(err == WALK_PENDING))
            return err; /* the caller goes on with mmu_translate_miss_again */
    }
    return mmu_miss_end(mmu, va, tag_va, access, err, &res, &fault, pa, ep, hint);
}

/* The same, as a call (for the paths that are not the access fast path);
 * hint as for tlb_insert. */
VM_HIDDEN vm_err_t mmu_translate_miss_call(vm_mmu_t *mmu, vm_gva_t va, vm_gva_t tag_va,
                                           vm_access_t access, vm_gpa_t *pa,
                                           struct tlb_entry **ep, uint32_t hint);

/* Point fast.* at the TLBs' current fast arrays (after init or resize). */
VM_HIDDEN void mmu_fast_attach(vm_mmu_t *mmu);

/* RISC-V: build the permission-vector table once (walk_riscv.c). */
VM_HIDDEN void walk_riscv_init(void);

#endif /* VMMEM_MMU_INT_H */
