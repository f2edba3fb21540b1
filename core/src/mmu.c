/*
 * mmu.c - the software MMU's state: construction, the satp/priv/SUM/MXR
 * setters, translation (TLB then walk), TLB management and statistics, the
 * fault record.
 *
 * How it works
 *   A vm_mmu_t is one hart's view of memory. Translation first asks the
 *   TLB of the access's kind (ITLB for fetches, DTLB for loads/stores):
 *   the inline hit (tlb.h) tests the entry named by the hint array against
 *   the current ASID and the permission bit of the current (priv, SUM, MXR)
 *   context, precomputed in mmu->need[] whenever one of them changes. On a
 *   miss, mmu_translate_page() scans the TLB, then walks the tables
 *   (walk.c over the mode's descriptor) and fills the TLB. Faults are never
 *   cached. Bare mode and M-mode are the identity and bypass the TLB; their
 *   need[] bit is TLB_PERM_NEVER so the inline hit can never succeed there,
 *   without a mode test on the hot path.
 *
 *   Statistics count one hit or one miss per page translated while paging
 *   is active: the inline hit and the scan hit count hits; a walk (even a
 *   failing one) counts a miss.
 *
 * What was rejected
 *   - Storing satp raw and decoding it on every walk: the fields are kept
 *     decoded (mode, ASID, root PPN) and satp is recomposed when read.
 *   - Flushing on every satp write: entries are ASID-tagged, so only a MODE
 *     change flushes (as the contract in mmu.h states).
 */
#include <stdlib.h>
#include <string.h>

#include "alloc_int.h"
#include "mmu_int.h"

#define MMU_DEFAULT_ITLB 64
#define MMU_DEFAULT_DTLB 128
#define MMU_DEFAULT_RAM (64u * 1024u)

#define SATP_MODE_SHIFT 60
#define SATP_ASID_SHIFT 44
#define SATP_PPN_MASK ((UINT64_C(1) << 44) - 1)

/* LR/SC owner ids: unique per MMU in this process, starting at 1. */
static uint64_t mmu_next_owner = 1;

static const vm_fault_t mmu_no_fault = {
    .va = 0, .access = VM_ACCESS_READ, .kind = VM_FAULT_NONE, .cause = 0,
    .level = -1, .pte_addr = 0, .pte = 0, .reason = "no fault",
};

void mmu_fault_clear(vm_mmu_t *mmu)
{
    mmu->fault = mmu_no_fault;
}

vm_err_t mmu_fault_clear_ok(vm_mmu_t *mmu)
{
    mmu_fault_clear(mmu);
    return VM_OK;
}

vm_err_t mmu_fault_record(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, vm_fault_kind_t kind,
                          const char *reason)
{
    uint32_t cause, syndrome = 0;
    switch (mmu->mode) {
    case VM_PAGING_X86_64:
        x86_fault_codes(kind, access, &cause, &syndrome);
        break;
    case VM_PAGING_ARM64:
        arm64_fault_codes(mmu, kind, access, &cause, &syndrome);
        break;
    default:
        cause = walk_riscv_cause(kind, access);
        break;
    }
    vm_fault_t f;
    walk_fault_fill(&f, va, access, kind, cause, syndrome, reason, -1, 0, 0);
    mmu_fault_set(mmu, &f);
    return kind == VM_FAULT_MISALIGNED ? VM_ERR_ALIGNMENT_FAULT : VM_ERR_ACCESS_FAULT;
}

/* RISC-V: is translation through page tables active (satp active, Priv.
 * spec step 1)? */
static bool mmu_riscv_translating(const vm_mmu_t *mmu)
{
    return mmu->priv != VM_PRIV_M && mmu->mode != VM_PAGING_BARE;
}

static void mmu_refresh_riscv(vm_mmu_t *mmu)
{
    bool translating = mmu_riscv_translating(mmu);
    mmu->identity = !translating;
    mmu->asid = mmu->satp_asid;
    mmu_set_need(mmu, translating, mmu_riscv_ctx(mmu->priv, mmu->sum, mmu->mxr));
}

/*
 * The fast slots hold tags computed for one permission context and one
 * address space: when either changes, they go (vmmem/mmu_inline.h). The
 * TLB entries stay: they are tagged and re-checked on every lookup.
 */
void mmu_refresh(vm_mmu_t *mmu)
{
    uint64_t need0 = mmu->need[0], need1 = mmu->need[1], need2 = mmu->need[2];
    uint16_t asid = mmu->asid;
    bool identity = mmu->identity;
    mmu->rv_levels = walk_riscv_levels(mmu->mode);
    switch (mmu->mode) {
    case VM_PAGING_X86_64:
        x86_refresh(mmu);
        break;
    case VM_PAGING_ARM64:
        arm64_refresh(mmu);
        break;
    case VM_PAGING_BARE:
    case VM_PAGING_SV39:
    case VM_PAGING_SV48:
    case VM_PAGING_SV57:
        mmu_refresh_riscv(mmu);
        break;
    }
    mmu->slow_other = mmu->identity || mmu->mode == VM_PAGING_ARM64;
    mmu->arm64_tlb = mmu->mode == VM_PAGING_ARM64 && mmu->arm.stage1;
    /* With translation off the fast slots serve the identity map, and
     * their hits move fast.hits like any other; they are not TLB hits, so
     * vm_mmu_tlb_stats takes them off again. */
    if (identity != mmu->identity) {
        if (mmu->identity)
            mmu->identity_since = mmu->fast.hits;
        else
            mmu->identity_hits += mmu->fast.hits - mmu->identity_since;
    }
    if (need0 != mmu->need[0] || need1 != mmu->need[1] || need2 != mmu->need[2] ||
        asid != mmu->asid || identity != mmu->identity) {
        tlb_fast_clear(&mmu->itlb);
        tlb_fast_clear(&mmu->dtlb);
    }
}

void mmu_fast_attach(vm_mmu_t *mmu)
{
    mmu->fast.data = mmu->dtlb.fast;
    mmu->fast.data_mask = tlb_fast_mask(&mmu->dtlb);
    mmu->fast.code = mmu->itlb.fast;
    mmu->fast.code_mask = tlb_fast_mask(&mmu->itlb);
    mmu->fast.live_resv = &mmu->pm->nres;
}

static vm_mmu_t *mmu_create(vm_physmem_t *pm, bool owns_pm)
{
    walk_riscv_init();
    vm_mmu_t *mmu = alloc_calloc(1, sizeof(*mmu));
    if (!mmu)
        return NULL;
    if (tlb_init(&mmu->itlb, MMU_DEFAULT_ITLB) != VM_OK) {
        alloc_free(mmu);
        return NULL;
    }
    if (tlb_init(&mmu->dtlb, MMU_DEFAULT_DTLB) != VM_OK) {
        tlb_destroy(&mmu->itlb);
        alloc_free(mmu);
        return NULL;
    }
    const char *strict = getenv("VM_STRICT_ALIGN");
    mmu->pm = pm;
    mmu->owns_pm = owns_pm;
    mmu->mode = VM_PAGING_BARE;
    mmu->priv = VM_PRIV_S;
    mmu->ad_mode = VM_AD_HARDWARE;
    mmu->strict_align = strict != NULL && strcmp(strict, "1") == 0;
    mmu->owner = __atomic_fetch_add(&mmu_next_owner, 1, __ATOMIC_RELAXED);
    mmu_fast_attach(mmu);
    arm64_init(mmu);
    mmu_fault_clear(mmu);
    mmu_refresh(mmu);
    return mmu;
}

vm_mmu_t *vm_mmu_new(size_t size, bool use_hugepages)
{
    return vm_mmu_new_at(0, size, use_hugepages);
}

vm_mmu_t *vm_mmu_new_at(vm_gpa_t base, size_t size, bool use_hugepages)
{
    vm_physmem_t *pm = vm_physmem_new_at(base, size, use_hugepages);
    if (!pm)
        return NULL;
    vm_mmu_t *mmu = mmu_create(pm, true);
    if (!mmu)
        vm_physmem_free(pm);
    return mmu;
}

vm_mmu_t *vm_mmu_new_default(void)
{
    return vm_mmu_new(MMU_DEFAULT_RAM, false);
}

vm_mmu_t *vm_mmu_new_shared(vm_physmem_t *pm)
{
    if (!pm)
        return NULL;
    return mmu_create(pm, false);
}

void vm_mmu_free(vm_mmu_t *mmu)
{
    if (!mmu)
        return;
    tlb_destroy(&mmu->itlb);
    tlb_destroy(&mmu->dtlb);
    if (mmu->owns_pm)
        vm_physmem_free(mmu->pm);
    else /* a departing vCPU leaves no reservation behind in shared memory */
        physmem_clear_reservation(mmu->pm, mmu->owner);
    alloc_free(mmu);
}

vm_physmem_t *vm_mmu_physmem(vm_mmu_t *mmu)
{
    return mmu ? mmu->pm : NULL;
}

void mmu_flush_all(vm_mmu_t *mmu)
{
    tlb_flush_all(&mmu->itlb);
    tlb_flush_all(&mmu->dtlb);
}

static bool mmu_mode_known(vm_paging_mode_t mode)
{
    switch (mode) {
    case VM_PAGING_BARE:
    case VM_PAGING_SV39:
    case VM_PAGING_SV48:
    case VM_PAGING_SV57:
    case VM_PAGING_ARM64:
    case VM_PAGING_X86_64:
        return true;
    }
    return false;
}

/* An out-of-range enum value is ignored (nothing changes). */
void vm_mmu_set_paging_mode(vm_mmu_t *mmu, vm_paging_mode_t mode)
{
    if (!mmu || !mmu_mode_known(mode))
        return;
    mmu->mode = mode;
    mmu_flush_all(mmu);
    mmu_refresh(mmu);
}

vm_paging_mode_t vm_mmu_paging_mode(const vm_mmu_t *mmu)
{
    return mmu->mode;
}

/* satp.MODE encodings (Priv. spec, "satp" table for SXLEN=64). */
static bool satp_mode_decode(uint64_t field, vm_paging_mode_t *mode)
{
    switch (field) {
    case 0: *mode = VM_PAGING_BARE; return true;
    case 8: *mode = VM_PAGING_SV39; return true;
    case 9: *mode = VM_PAGING_SV48; return true;
    case 10: *mode = VM_PAGING_SV57; return true;
    default: return false;
    }
}

/* ARM64 and X86_64 have no satp encoding: they read back as MODE 0. */
static uint64_t satp_mode_encode(vm_paging_mode_t mode)
{
    switch (mode) {
    case VM_PAGING_SV39: return 8;
    case VM_PAGING_SV48: return 9;
    case VM_PAGING_SV57: return 10;
    default: return 0;
    }
}

void vm_mmu_set_satp(vm_mmu_t *mmu, uint64_t satp)
{
    vm_paging_mode_t mode;
    if (!mmu || !satp_mode_decode(satp >> SATP_MODE_SHIFT, &mode))
        return; /* WARL: an unsupported MODE leaves satp unchanged */
    mmu->satp_asid = (uint16_t)(satp >> SATP_ASID_SHIFT);
    mmu->root_ppn = satp & SATP_PPN_MASK;
    if (mode != mmu->mode) {
        mmu->mode = mode;
        mmu_flush_all(mmu);
    }
    mmu_refresh(mmu);
}

uint64_t vm_mmu_satp(const vm_mmu_t *mmu)
{
    return (satp_mode_encode(mmu->mode) << SATP_MODE_SHIFT) |
           ((uint64_t)mmu->satp_asid << SATP_ASID_SHIFT) | mmu->root_ppn;
}

/* Privilege values other than U, S, M are ignored. */
void vm_mmu_set_priv(vm_mmu_t *mmu, vm_priv_t priv)
{
    if (!mmu || (priv != VM_PRIV_U && priv != VM_PRIV_S && priv != VM_PRIV_M))
        return;
    mmu->priv = priv;
    mmu_refresh(mmu);
}

void vm_mmu_set_sum(vm_mmu_t *mmu, bool sum)
{
    if (!mmu)
        return;
    mmu->sum = sum;
    mmu_refresh(mmu);
}

void vm_mmu_set_mxr(vm_mmu_t *mmu, bool mxr)
{
    if (!mmu)
        return;
    mmu->mxr = mxr;
    mmu_refresh(mmu);
}

/* Takes effect for the next walk; cached entries never need A/D updates. */
void vm_mmu_set_ad_mode(vm_mmu_t *mmu, vm_ad_mode_t mode)
{
    if (!mmu || (mode != VM_AD_HARDWARE && mode != VM_AD_FAULT))
        return;
    mmu->ad_mode = mode;
}

void vm_mmu_set_strict_align(vm_mmu_t *mmu, bool enable)
{
    if (mmu)
        mmu->strict_align = enable;
}

vm_err_t mmu_miss_fault(vm_mmu_t *mmu, vm_gva_t va, vm_err_t err, const vm_fault_t *f)
{
    mmu_fault_set(mmu, f);
    if (mmu->mode == VM_PAGING_X86_64)
        x86_after_fault(mmu, va, err);
    return err;
}

/* The full walk of a miss whose inline walk returned WALK_PENDING. */
vm_err_t mmu_translate_miss_again(vm_mmu_t *mmu, vm_gva_t va, vm_gva_t tag_va,
                                  vm_access_t access, vm_gpa_t *pa, struct tlb_entry **ep,
                                  uint32_t hint)
{
    /* A second walk from the root: the first wrote nothing, so this is as
     * if it never ran (a PTE another hart changed meanwhile is simply read
     * anew, as a later walk would). */
    struct walk_result res;
    vm_fault_t fault;
    vm_err_t err;
    switch (mmu->mode) {
    case VM_PAGING_X86_64:
        err = walk_x86_64_general(mmu, va, access, 0, &res, &fault);
        break;
    case VM_PAGING_ARM64:
        err = walk_arm64_general(mmu, va, access, 0, &res, &fault);
        break;
    default:
        err = walk_riscv(mmu, va, access, 0, &res, &fault);
        break;
    }
    return mmu_miss_end(mmu, va, tag_va, access, err, &res, &fault, pa, ep, hint);
}

vm_err_t mmu_translate_miss_call(vm_mmu_t *mmu, vm_gva_t va, vm_gva_t tag_va, vm_access_t access,
                                 vm_gpa_t *pa, struct tlb_entry **ep, uint32_t hint)
{
    vm_err_t err = mmu->rv_levels != 0
                       ? mmu_translate_miss(mmu, va, tag_va, access, pa, ep, true, hint)
                       : mmu_translate_miss(mmu, va, tag_va, access, pa, ep, false, hint);
    if (err == WALK_PENDING)
        return mmu_translate_miss_again(mmu, va, tag_va, access, pa, ep, hint);
    return err;
}

vm_err_t mmu_translate_entry(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                             vm_gpa_t *pa, struct tlb_entry **ep)
{
    const bool speculative = (flags & MMU_XLATE_SPECULATIVE) != 0;
    vm_gva_t tag_va = va;

    *ep = NULL;
    /* Translation off (RISC-V Bare or M-mode, x86 CR0.PG=0): identity. */
    if (mmu->identity) {
        *pa = va;
        return VM_OK;
    }
    if (mmu->mode == VM_PAGING_ARM64) {
        vm_err_t err;
        if (arm64_before_tlb(mmu, va, access, speculative ? WALK_SPECULATIVE : 0, &tag_va, pa,
                             &err))
            return err;
    }
    if (!speculative) {
        /* A TLB of 4 KiB entries only is probed once, and the probe's
         * bucket (and whether it saw the page) goes on to the fill. */
        struct tlb *t = mmu_tlb_for(mmu, access);
        uint32_t hint = TLB_HINT_NONE;
        struct tlb_entry *e = VM_LIKELY(t->shifts == UINT64_C(1) << 12)
                                  ? tlb_lookup_4k_hint(t, tag_va, mmu->asid, &hint)
                                  : tlb_lookup(t, tag_va, mmu->asid);
        if (e == NULL || (e->perms & mmu->need[access]) == 0)
            return mmu_translate_miss_call(mmu, va, tag_va, access, pa, ep, hint);
        mmu_tlb_count_hit(mmu, e, access);
        *ep = e;
        *pa = e->pa_base | (va & e->page_mask);
        return VM_OK;
    }
    /* Speculative (vm_mmu_invalidate_reservation): no stats, no LRU, no
     * fill, no A/D write, no fault record. */
    struct tlb_entry *e = tlb_lookup(mmu_tlb_for(mmu, access), tag_va, mmu->asid);
    if (e != NULL && (e->perms & mmu->need[access]) != 0) {
        *pa = e->pa_base | (va & e->page_mask);
        return VM_OK;
    }
    struct walk_result res;
    vm_fault_t fault;
    vm_err_t err = mmu_walk(mmu, va, access, WALK_SPECULATIVE, &res, &fault);
    if (err == VM_OK)
        *pa = res.pa;
    return err;
}

vm_err_t mmu_translate_page(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, unsigned flags,
                            vm_gpa_t *pa)
{
    struct tlb_entry *e;
    return mmu_translate_entry(mmu, va, access, flags, pa, &e);
}

static VM_NOINLINE vm_err_t mmu_translate_slow(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                                               vm_gpa_t *pa)
{
    if (!pa || (unsigned)access > VM_ACCESS_EXEC)
        return VM_ERR_INVALID_ARGUMENT;
    vm_err_t err = mmu_translate_page(mmu, va, access, 0, pa);
    if (err == VM_OK)
        mmu_note_success(mmu);
    return err;
}

/*
 * A TLB lookup with LRU upkeep (no fast array: translate is the operation
 * whose LRU order is exact, tlb.c). The common case - a 4 KiB entry in the
 * first chain slot - is inline; the rest is mmu_translate_slow.
 */
vm_err_t vm_mmu_translate(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access, vm_gpa_t *pa)
{
    if (VM_LIKELY((unsigned)access <= VM_ACCESS_EXEC && pa != NULL)) {
        struct tlb *t = mmu_tlb_for(mmu, access);
        uint64_t tag = va & ~UINT64_C(0xfff);
        uint16_t i = t->bucket[tlb_hash(tag, 12, t->hash_shift)];
        if (VM_LIKELY(i != TLB_NIL)) {
            struct tlb_entry *e = &t->e[i];
            if (VM_LIKELY(e->tag == tag && e->shift == 12 &&
                          tlb_visible(e, mmu->asid) &&
                          (e->perms & mmu->need[access]) != 0)) {
                mmu->fast.hits++;
                tlb_touch(t, e);
                *pa = e->pa_base | (va & 0xfff);
                return mmu_success(mmu);
            }
        }
    }
    return mmu_translate_slow(mmu, va, access, pa);
}

void vm_mmu_flush_tlb(vm_mmu_t *mmu)
{
    if (mmu)
        mmu_flush_all(mmu);
}

void vm_mmu_flush_tlb_asid(vm_mmu_t *mmu, uint16_t asid)
{
    if (!mmu)
        return;
    tlb_flush_asid(&mmu->itlb, asid);
    tlb_flush_asid(&mmu->dtlb, asid);
}

/* Arm: a flush compares VA[55:0] sign-extended (arm64_int.h). */
static vm_gva_t mmu_flush_va(const vm_mmu_t *mmu, vm_gva_t va)
{
    return mmu->mode == VM_PAGING_ARM64 ? arm64_flush_va(va) : va;
}

void vm_mmu_flush_tlb_page(vm_mmu_t *mmu, vm_gva_t va)
{
    if (!mmu)
        return;
    va = mmu_flush_va(mmu, va);
    tlb_flush_va(&mmu->itlb, va);
    tlb_flush_va(&mmu->dtlb, va);
}

void vm_mmu_flush_tlb_page_asid(vm_mmu_t *mmu, vm_gva_t va, uint16_t asid, bool include_global)
{
    if (!mmu)
        return;
    va = mmu_flush_va(mmu, va);
    tlb_flush_va_asid(&mmu->itlb, va, asid, include_global);
    tlb_flush_va_asid(&mmu->dtlb, va, asid, include_global);
}

void vm_mmu_flush_tlb_nonglobal(vm_mmu_t *mmu)
{
    if (!mmu)
        return;
    tlb_flush_nonglobal(&mmu->itlb);
    tlb_flush_nonglobal(&mmu->dtlb);
}

void vm_mmu_tlb_stats(const vm_mmu_t *mmu, uint64_t *hits, uint64_t *misses)
{
    if (hits)
        *hits = mmu->fast.hits - mmu->identity_hits -
                (mmu->identity ? mmu->fast.hits - mmu->identity_since : 0);
    if (misses)
        *misses = mmu->tlb_misses;
}

/*
 * A TLB that keeps its capacity is flushed in place rather than rebuilt:
 * the same observable result (empty, stats cleared) without two
 * allocations and the clearing of a fresh fast array (a fuzz input resizes
 * on every run).
 */
vm_err_t vm_mmu_resize_tlbs(vm_mmu_t *mmu, size_t itlb, size_t dtlb)
{
    if (!mmu || itlb < 1 || itlb > TLB_MAX_ENTRIES || dtlb < 1 || dtlb > TLB_MAX_ENTRIES)
        return VM_ERR_INVALID_ARGUMENT;
    const bool new_i = itlb != mmu->itlb.capacity, new_d = dtlb != mmu->dtlb.capacity;
    struct tlb ni, nd;
    vm_err_t err;
    if (new_i && (err = tlb_init(&ni, itlb)) != VM_OK)
        return err;
    if (new_d && (err = tlb_init(&nd, dtlb)) != VM_OK) {
        if (new_i)
            tlb_destroy(&ni);
        return err;
    }
    if (new_i) {
        tlb_destroy(&mmu->itlb);
        mmu->itlb = ni;
    } else {
        tlb_flush_all(&mmu->itlb);
    }
    if (new_d) {
        tlb_destroy(&mmu->dtlb);
        mmu->dtlb = nd;
    } else {
        tlb_flush_all(&mmu->dtlb);
    }
    mmu_fast_attach(mmu);
    /* Stats restart; a recorded fault stays the last fault. */
    if (mmu->fault_hits == mmu->fast.hits)
        mmu->fault_hits = 0;
    else
        mmu_fault_clear(mmu);
    mmu->fast.hits = 0;
    mmu->identity_hits = 0;
    mmu->identity_since = 0;
    mmu->tlb_misses = 0;
    return VM_OK;
}

void vm_mmu_tlb_capacity(const vm_mmu_t *mmu, size_t *itlb, size_t *dtlb)
{
    if (itlb)
        *itlb = mmu->itlb.capacity;
    if (dtlb)
        *dtlb = mmu->dtlb.capacity;
}

/* A fault recorded before the latest fast hit is no longer the last
 * outcome: the hit succeeded (mmu_int.h, fault_hits). */
const vm_fault_t *vm_mmu_last_fault(const vm_mmu_t *mmu)
{
    if (mmu->fault.kind != VM_FAULT_NONE && mmu->fault_hits != mmu->fast.hits)
        return &mmu_no_fault;
    return &mmu->fault;
}
