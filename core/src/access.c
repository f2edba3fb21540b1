/*
 * access.c - memory accesses through translation: scalar reads/writes,
 * instruction fetch, bulk transfers, LR/SC, and the physical / MMIO
 * forwarding functions of vm_mmu_t.
 *
 * How it works
 *   The public scalar functions are a short hot path over the level-0
 *   fast array (vmmem/mmu_inline.h, tlb.c): an aligned 1/2/4/8-byte access
 *   whose 4 KiB page has a tag for its access kind is one index, one tag
 *   compare (page and alignment at once) and the host load/store at
 *   VA + addend - no lock, no allocation, no call. A store then reads the
 *   memory's live-reservation count and breaks reservations only when some
 *   hart holds one. Everything else goes to one noinline function,
 *   access_slow(), which handles in order:
 *     argument checks -> strict alignment (misaligned fault before any
 *     translation) -> translation of the first page and, for an access
 *     crossing a 4 KiB boundary, of the second page (both before any byte
 *     moves, so a fault on either part leaves memory untouched; the fault
 *     names the first byte of the failing part) -> backing: RAM (any
 *     alignment), MMIO (naturally aligned only, wholly inside one region,
 *     never split over pages; else an access fault), or nothing (access
 *     fault).
 *   After a single-page aligned access to RAM that went through the TLB,
 *   access_slow fills the fast slot of that page from the TLB entry, with a
 *   tag for each access kind the entry allows now: the next access to the
 *   page is a fast hit. A slot is filled only when the page's whole 4 KiB
 *   is RAM (a superpage larger than RAM gets slots for its RAM pages only),
 *   never for MMIO.
 *   Bulk transfers translate every page first, keep the PAs, and only then
 *   copy, merging physically contiguous pages into one read_buf/write_buf.
 *
 * What was rejected
 *   - A host pointer in the TLB entry (the previous design) instead of the
 *     fast array: every hit still paid the associative lookup, ASID and
 *     permission tests and a RAM bound check (72 instructions per load).
 *   - Re-translating pages during the bulk copy: if the TLB evicted an
 *     entry and the tables changed meanwhile, a second walk could fault
 *     halfway through the copy and leave a partial transfer.
 */
#include <stdlib.h>

#include "alloc_int.h"
#include "mmu_int.h"

/* Record a data-side fault and return its error. */
static vm_err_t access_fault(vm_mmu_t *mmu, vm_gva_t va, vm_access_t access,
                             vm_fault_kind_t kind, const char *reason)
{
    return mmu_fault_record(mmu, va, access, kind, reason);
}

/* The part of one access that lies on one 4 KiB page. */
static vm_err_t access_one_page(vm_mmu_t *mmu, vm_gva_t va, vm_gpa_t pa, unsigned size,
                                uint64_t *val, vm_access_t access)
{
    vm_physmem_t *pm = mmu->pm;
    bool write = access == VM_ACCESS_WRITE;
    bool aligned = (pa & (size - 1u)) == 0;

    if (physmem_ram_contains(pm, pa, size)) {
        if (aligned) {
            if (write)
                physmem_store_aligned(pm, pa, *val, size);
            else
                *val = physmem_load_aligned(pm, pa, size);
            return VM_OK;
        }
        if (physmem_access_slow(pm, pa, size, val, write) != VM_OK)
            return access_fault(mmu, va, access, VM_FAULT_ACCESS, "no RAM or MMIO at PA");
        return VM_OK;
    }
    if (physmem_is_mmio(pm, pa, size)) {
        /* Devices take naturally aligned accesses only (physmem.h); a
         * misaligned MMIO access is an access fault, not a misaligned
         * fault (BUG-CLASSES 18). */
        if (!aligned)
            return access_fault(mmu, va, access, VM_FAULT_ACCESS, "misaligned MMIO access");
        /* A device that refuses the access is a bus error: the guest sees
         * an access fault (cause 5 / 7 / 1), recorded like any other
         * (mmu.h), whatever code the device returned. */
        if (physmem_access_slow(pm, pa, size, val, write) != VM_OK)
            return access_fault(mmu, va, access, VM_FAULT_ACCESS, "device error");
        return VM_OK;
    }
    return access_fault(mmu, va, access, VM_FAULT_ACCESS, "no RAM or MMIO at PA");
}

/*
 * Bare mode and M-mode: an aligned access to RAM needs no translation and
 * no TLB (and counts no TLB statistics). Tested first thing in access_slow
 * (tail-called after the TLB hit failed), so it costs the paged hit path
 * nothing and keeps the inline functions free of a stack frame.
 */
static inline bool access_identity_ram(const vm_mmu_t *mmu, vm_gva_t va, unsigned size)
{
    return mmu->identity && mmu_size_ok(size) && (va & (size - 1u)) == 0 &&
           physmem_ram_contains(mmu->pm, va, size);
}

/*
 * Every scalar access that is not an aligned RAM TLB hit. For a write *val
 * holds the value; for a read it receives the zero-extended result.
 */
/* Fill the fast slot of va's page (translated to pa) after an access
 * through entry e, if the page's whole 4 KiB is RAM. */
static void access_fast_fill(vm_mmu_t *mmu, struct tlb_entry *e, vm_gva_t va, vm_gpa_t pa,
                             vm_access_t access)
{
    const vm_gpa_t pa_page = pa & ~(MMU_PAGE_SIZE - 1);
    const vm_gva_t page = va & ~(MMU_PAGE_SIZE - 1);
    if (e == NULL || (page & ~e->page_mask) != e->tag ||
        !physmem_ram_has_page(mmu->pm, pa_page))
        return; /* (an Arm VA with an ignored top byte: tlb_fast_fill) */
    const uint8_t *host = physmem_host(mmu->pm, pa_page);
    if (access == VM_ACCESS_EXEC)
        tlb_fast_fill(&mmu->itlb, e, page, pa_page, host, mmu->need[VM_ACCESS_EXEC], 0);
    else
        tlb_fast_fill(&mmu->dtlb, e, page, pa_page, host, mmu->need[VM_ACCESS_READ],
                      mmu->need[VM_ACCESS_WRITE]);
}

static vm_err_t access_split(vm_mmu_t *mmu, vm_gva_t va, vm_gpa_t pa1, unsigned n1, vm_gva_t va2,
                             vm_gpa_t pa2, unsigned n2, uint64_t *val, vm_access_t access);

/*
 * Every scalar access the lean path below does not take: translation off,
 * misaligned, crossing a page. Arguments are checked.
 */
static VM_NOINLINE vm_err_t access_general(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                           uint64_t *val, vm_access_t access)
{
    if (access_identity_ram(mmu, va, size)) {
        if (access == VM_ACCESS_WRITE)
            physmem_store_aligned(mmu->pm, va, *val, size);
        else
            *val = physmem_load_aligned(mmu->pm, va, size);
        /* The next access to this RAM page is a fast hit (tlb.h). */
        const vm_gpa_t page = va & ~(MMU_PAGE_SIZE - 1);
        if (physmem_ram_has_page(mmu->pm, page))
            tlb_fast_fill_identity(mmu_tlb_for(mmu, access), page, physmem_host(mmu->pm, page),
                                   access == VM_ACCESS_EXEC);
        return mmu_success(mmu);
    }
    bool misaligned = (va & (size - 1u)) != 0;
    if (misaligned && mmu->strict_align)
        return access_fault(mmu, va, access, VM_FAULT_MISALIGNED, "misaligned (strict alignment)");

    uint64_t room = MMU_PAGE_SIZE - (va & (MMU_PAGE_SIZE - 1));
    unsigned n1 = room < size ? (unsigned)room : size;
    vm_gpa_t pa1, pa2 = 0;
    struct tlb_entry *e;
    vm_err_t err = mmu_translate_entry(mmu, va, access, 0, &pa1, &e);
    if (err != VM_OK)
        return err;
    if (n1 == size) {
        err = access_one_page(mmu, va, pa1, size, val, access);
        if (err != VM_OK)
            return err;
        if (!misaligned)
            access_fast_fill(mmu, e, va, pa1, access);
        return mmu_success(mmu);
    }

    /* Crossing a page: translate the second page too before touching
     * memory (BUG-CLASSES 17: never reuse the first page's translation). */
    vm_gva_t va2 = va + n1;
    unsigned n2 = size - n1;
    err = mmu_translate_page(mmu, va2, access, 0, &pa2);
    if (err != VM_OK)
        return err;
    /* A split access is RAM-only: devices never see split or misaligned
     * accesses. */
    if (!physmem_ram_contains(mmu->pm, pa1, n1))
        return access_fault(mmu, va, access, VM_FAULT_ACCESS,
                            physmem_is_mmio(mmu->pm, pa1, n1) ? "page-crossing MMIO access"
                                                              : "no RAM or MMIO at PA");
    if (!physmem_ram_contains(mmu->pm, pa2, n2))
        return access_fault(mmu, va2, access, VM_FAULT_ACCESS,
                            physmem_is_mmio(mmu->pm, pa2, n2) ? "page-crossing MMIO access"
                                                              : "no RAM or MMIO at PA");
    return access_split(mmu, va, pa1, n1, va2, pa2, n2, val, access);
}

/* The two parts of a page-crossing access, both translated, both RAM. */
static VM_NOINLINE vm_err_t access_split(vm_mmu_t *mmu, vm_gva_t va, vm_gpa_t pa1, unsigned n1,
                                         vm_gva_t va2, vm_gpa_t pa2, unsigned n2, uint64_t *val,
                                         vm_access_t access)
{
    (void)va2;
    const unsigned size = n1 + n2;
    uint8_t bytes[8];
    if (access == VM_ACCESS_WRITE) {
        for (unsigned k = 0; k < size; k++)
            bytes[k] = (uint8_t)(*val >> (8 * k)); /* little-endian */
        if (vm_physmem_write_buf(mmu->pm, pa1, bytes, n1) != VM_OK ||
            vm_physmem_write_buf(mmu->pm, pa2, bytes + n1, n2) != VM_OK)
            return access_fault(mmu, va, access, VM_FAULT_ACCESS, "no RAM or MMIO at PA");
    } else {
        if (vm_physmem_read_buf(mmu->pm, pa1, bytes, n1) != VM_OK ||
            vm_physmem_read_buf(mmu->pm, pa2, bytes + n1, n2) != VM_OK)
            return access_fault(mmu, va, access, VM_FAULT_ACCESS, "no RAM or MMIO at PA");
        uint64_t v = 0;
        for (unsigned k = 0; k < size; k++)
            v |= (uint64_t)bytes[k] << (8 * k);
        *val = v;
    }
    mmu_note_success(mmu);
    return VM_OK;
}

/*
 * The end of a one-page access once its translation is known (entry e, or
 * NULL when there is none to fill a fast slot from): a page wholly in RAM
 * gets the access and goes into the fast array; anything else (MMIO, a
 * hole, RAM ending inside the page) is access_one_page's business.
 */
static VM_ALWAYS_INLINE vm_err_t access_finish(vm_mmu_t *mmu, vm_gva_t va, vm_gpa_t pa,
                                               struct tlb_entry *e, unsigned size,
                                               uint64_t *val, vm_access_t access)
{
    const vm_gpa_t pa_page = pa & ~(MMU_PAGE_SIZE - 1);
    if (VM_UNLIKELY(e == NULL || !physmem_ram_has_page(mmu->pm, pa_page))) {
        vm_err_t err = access_one_page(mmu, va, pa, size, val, access);
        return err != VM_OK ? err : mmu_success(mmu);
    }
    uint8_t *host_page = physmem_host(mmu->pm, pa_page);
    const vm_gva_t page = va & ~(MMU_PAGE_SIZE - 1);
    switch (access) {
    case VM_ACCESS_WRITE:
        physmem_store_aligned(mmu->pm, pa, *val, size);
        tlb_fast_fill(&mmu->dtlb, e, page, pa_page, host_page, mmu->need[VM_ACCESS_READ],
                      mmu->need[VM_ACCESS_WRITE]);
        break;
    case VM_ACCESS_READ:
        *val = physmem_load_host(host_page + (pa & (MMU_PAGE_SIZE - 1)), size);
        tlb_fast_fill(&mmu->dtlb, e, page, pa_page, host_page, mmu->need[VM_ACCESS_READ],
                      mmu->need[VM_ACCESS_WRITE]);
        break;
    default:
        *val = physmem_load_host(host_page + (pa & (MMU_PAGE_SIZE - 1)), size);
        tlb_fast_fill(&mmu->itlb, e, page, pa_page, host_page, mmu->need[VM_ACCESS_EXEC], 0);
        break;
    }
    return mmu_success(mmu);
}

/* A miss whose inline walk returned WALK_PENDING (RISC-V step 9, or x86-64
 * / Arm64 outside their common case): the full walk again as a call
 * (mmu_translate_miss_again), then the access. */
static VM_NOINLINE vm_err_t access_miss_again(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                              uint64_t *val, vm_access_t access, uint32_t hint)
{
    vm_gpa_t pa = 0;
    struct tlb_entry *e;
    vm_err_t err = mmu_translate_miss_again(mmu, va, va, access, &pa, &e, hint);
    if (err != VM_OK)
        return err;
    return access_finish(mmu, va, pa, e, size, val, access);
}

/*
 * A TLB miss of access_slow (RISC-V, x86-64, Arm64): walk, fill, access. Its own
 * function, entered by a tail call, so the walk's result and fault record
 * never cross a call boundary through memory and access_slow's TLB-hit
 * path keeps a small frame.
 */
static VM_ALWAYS_INLINE vm_err_t access_miss(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                             uint64_t *val, vm_access_t access, bool riscv,
                                             uint32_t hint)
{
    vm_gpa_t pa = 0; /* (set on success; gcc cannot see through the inline walk) */
    struct tlb_entry *e;
    vm_err_t err = mmu_translate_miss(mmu, va, va, access, &pa, &e, riscv, hint);
    if (VM_UNLIKELY(err != VM_OK)) {
        if (err == WALK_PENDING)
            return access_miss_again(mmu, va, size, val, access, hint);
        return err;
    }
    return access_finish(mmu, va, pa, e, size, val, access);
}

/* The x86-64 and Arm64 misses (their walks are calls, not inline): one body
 * per access kind. */
static VM_NOINLINE vm_err_t access_miss_call_read(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                                  uint64_t *val, uint32_t hint)
{
    return access_miss(mmu, va, size, val, VM_ACCESS_READ, false, hint);
}

static VM_NOINLINE vm_err_t access_miss_call_write(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                                   uint64_t *val, uint32_t hint)
{
    return access_miss(mmu, va, size, val, VM_ACCESS_WRITE, false, hint);
}

static VM_NOINLINE vm_err_t access_miss_call_exec(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                                  uint64_t *val, uint32_t hint)
{
    return access_miss(mmu, va, size, val, VM_ACCESS_EXEC, false, hint);
}

/* One RISC-V access_miss per access kind, so the kind is a constant in each
 * (which TLB, which permission bit, which fast-slot tags). access_slow
 * picks these or the access_miss_call_* ones (a test here came after the frame's
 * set-up). */
static VM_NOINLINE vm_err_t access_miss_read(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                             uint64_t *val, uint32_t hint)
{
    return access_miss(mmu, va, size, val, VM_ACCESS_READ, true, hint);
}

static VM_NOINLINE vm_err_t access_miss_write(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                              uint64_t *val, uint32_t hint)
{
    return access_miss(mmu, va, size, val, VM_ACCESS_WRITE, true, hint);
}

static VM_NOINLINE vm_err_t access_miss_exec(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                             uint64_t *val, uint32_t hint)
{
    return access_miss(mmu, va, size, val, VM_ACCESS_EXEC, true, hint);
}

/* access_slow in Arm64 mode: translation first normalises the tag (TBI)
 * and may run with stage 1 off. */
static VM_NOINLINE vm_err_t access_arm64(vm_mmu_t *mmu, vm_gva_t va, unsigned size, uint64_t *val,
                                         vm_access_t access)
{
    vm_gpa_t pa;
    struct tlb_entry *e;
    vm_err_t err = mmu_translate_entry(mmu, va, access, 0, &pa, &e);
    if (VM_UNLIKELY(err != VM_OK))
        return err;
    /* A VA whose top byte TBI ignores hit or filled the entry of its
     * normalised tag: no fast slot for it (tlb_fast_fill). */
    if (e != NULL && (va & ~e->page_mask) != e->tag)
        e = NULL;
    return access_finish(mmu, va, pa, e, size, val, access);
}

/* The miss function for this access kind and walk (a tail call). */
static VM_ALWAYS_INLINE vm_err_t access_to_miss(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                                uint64_t *val, vm_access_t access, uint32_t hint)
{
    if (VM_UNLIKELY(mmu->rv_levels == 0))
        return access == VM_ACCESS_READ    ? access_miss_call_read(mmu, va, size, val, hint)
               : access == VM_ACCESS_WRITE ? access_miss_call_write(mmu, va, size, val, hint)
                                           : access_miss_call_exec(mmu, va, size, val, hint);
    return access == VM_ACCESS_READ    ? access_miss_read(mmu, va, size, val, hint)
           : access == VM_ACCESS_WRITE ? access_miss_write(mmu, va, size, val, hint)
                                       : access_miss_exec(mmu, va, size, val, hint);
}

/*
 * A TLB hit of access_slow (the fast slot missed: another page took it, or
 * the context changed): count it, access, refill the slot.
 */
static VM_ALWAYS_INLINE vm_err_t access_hit(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                            uint64_t *val, struct tlb_entry *e,
                                            vm_access_t access)
{
    mmu_tlb_count_hit(mmu, e, access);
    return access_finish(mmu, va, e->pa_base | (va & e->page_mask), e, size, val, access);
}

static VM_NOINLINE vm_err_t access_hit_read(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                            uint64_t *val, struct tlb_entry *e)
{
    return access_hit(mmu, va, size, val, e, VM_ACCESS_READ);
}

static VM_NOINLINE vm_err_t access_hit_write(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                             uint64_t *val, struct tlb_entry *e)
{
    return access_hit(mmu, va, size, val, e, VM_ACCESS_WRITE);
}

static VM_NOINLINE vm_err_t access_hit_exec(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                            uint64_t *val, struct tlb_entry *e)
{
    return access_hit(mmu, va, size, val, e, VM_ACCESS_EXEC);
}

/*
 * access_slow when the TLB holds pages of other sizes (or none): a probe
 * per size present, then the hit here or the miss (no hint).
 */
static VM_ALWAYS_INLINE vm_err_t access_sizes(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                              uint64_t *val, vm_access_t access)
{
    struct tlb_entry *e = tlb_lookup_sizes(mmu_tlb_for(mmu, access), va, mmu->asid);
    if (VM_UNLIKELY(e == NULL || (e->perms & mmu->need[access]) == 0))
        return access_to_miss(mmu, va, size, val, access, TLB_HINT_NONE);
    return access_hit(mmu, va, size, val, e, access);
}

static VM_NOINLINE vm_err_t access_sizes_read(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                              uint64_t *val)
{
    return access_sizes(mmu, va, size, val, VM_ACCESS_READ);
}

static VM_NOINLINE vm_err_t access_sizes_write(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                               uint64_t *val)
{
    return access_sizes(mmu, va, size, val, VM_ACCESS_WRITE);
}

static VM_NOINLINE vm_err_t access_sizes_exec(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                              uint64_t *val)
{
    return access_sizes(mmu, va, size, val, VM_ACCESS_EXEC);
}

/*
 * Every scalar access that is not a fast-array hit. The common case - an
 * aligned access within one page with translation on - is decided here and
 * continued by a tail call: the hit (access_hit_*), the miss
 * (access_miss_*), or a TLB holding other page sizes (access_sizes_*).
 * With no work of its own after the probe this function needs no stack
 * frame, which every miss would pay for. Everything else goes to
 * access_general before any side effect. For a write *val holds the value;
 * for a read it receives the zero-extended result.
 */
static VM_ALWAYS_INLINE vm_err_t access_slow(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                             uint64_t *val, vm_access_t access)
{
    /* (size is 1, 2, 4 or 8: the callers dispatched or checked it; a
     * store passes its value's address) */
    if (access != VM_ACCESS_WRITE && VM_UNLIKELY(val == NULL))
        return VM_ERR_INVALID_ARGUMENT;
    if (VM_UNLIKELY(mmu->slow_other || (va & (size - 1u)) != 0)) {
        if (mmu->identity || (va & (size - 1u)) != 0)
            return access_general(mmu, va, size, val, access);
        /* Arm64: with stage 1 on, a VA whose bits 63:55 are all equal is
         * its own TLB tag whether TBI applies or not (arm64_before_tlb
         * would only copy bit 55 into bits 63:56), so it takes the TLB
         * path below; walk_arm64 then does the range checks. Any other VA,
         * or stage 1 off, goes the general way. */
        if (!mmu->arm64_tlb || ((va + (UINT64_C(1) << 55)) >> 56) != 0)
            return access_arm64(mmu, va, size, val, access);
    }
    struct tlb *t = mmu_tlb_for(mmu, access);
    if (VM_UNLIKELY(t->shifts != UINT64_C(1) << 12))
        return access == VM_ACCESS_READ    ? access_sizes_read(mmu, va, size, val)
               : access == VM_ACCESS_WRITE ? access_sizes_write(mmu, va, size, val)
                                           : access_sizes_exec(mmu, va, size, val);
    uint32_t hint;
    struct tlb_entry *e = tlb_lookup_4k_hint(t, va, mmu->asid, &hint);
    if (VM_UNLIKELY(e == NULL || (e->perms & mmu->need[access]) == 0))
        return access_to_miss(mmu, va, size, val, access, hint);
    return access == VM_ACCESS_READ    ? access_hit_read(mmu, va, size, val, e)
           : access == VM_ACCESS_WRITE ? access_hit_write(mmu, va, size, val, e)
                                       : access_hit_exec(mmu, va, size, val, e);
}

/* One access_slow per access kind (the kind a constant in each). */
static VM_NOINLINE vm_err_t access_slow_read(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                             uint64_t *val)
{
    return access_slow(mmu, va, size, val, VM_ACCESS_READ);
}

static VM_NOINLINE vm_err_t access_slow_write(vm_mmu_t *mmu, vm_gva_t va, unsigned size,
                                              uint64_t *val)
{
    return access_slow(mmu, va, size, val, VM_ACCESS_WRITE);
}

/*
 * The external definitions of vm_mmu_read, vm_mmu_write and
 * vm_mmu_fetch_insn: their bodies are the inline definitions in
 * vmmem/mmu_inline.h (a slot check, the hit count, the host access, else
 * the *_miss functions below); a file-scope declaration without `inline`
 * makes this translation unit emit them (C11 6.7.4p7).
 */
extern vm_err_t vm_mmu_read(vm_mmu_t *mmu, vm_gva_t va, uint8_t size, uint64_t *val);
extern vm_err_t vm_mmu_write(vm_mmu_t *mmu, vm_gva_t va, uint64_t val, uint8_t size);
extern vm_err_t vm_mmu_fetch_insn(vm_mmu_t *mmu, vm_gva_t pc, uint64_t *insn);

void vm_mmu_fast_store_resv(vm_mmu_t *mmu, vm_gva_t va, uint8_t size)
{
    const vm_mmu_fast_slot_t *s = vm_mmu_fast_slot(mmu->fast.data, mmu->fast.data_mask, va);
    physmem_break_reservations(mmu->pm, s->pa_page | (va & 0xfff), size);
}

/*
 * The misses of the inline hit paths (vm_mmu_read and the other functions
 * of vmmem/mmu_inline.h): their slot check has just failed, so straight to
 * the slow path; the size check is here (access_slow takes it as done),
 * val is access_slow's.
 */
vm_err_t vm_mmu_read_miss(vm_mmu_t *mmu, vm_gva_t va, uint8_t size, uint64_t *val)
{
    /* 8 first, by one compare (mmu_size_ok's bit test costs seven
     * instructions), with access_slow inline: it only decides and
     * tail-calls, so the common miss makes no extra hop. */
    if (VM_LIKELY(size == 8))
        return access_slow(mmu, va, 8, val, VM_ACCESS_READ);
    if (mmu_size_ok(size))
        return access_slow_read(mmu, va, size, val);
    return VM_ERR_INVALID_ARGUMENT;
}

vm_err_t vm_mmu_write_miss(vm_mmu_t *mmu, vm_gva_t va, uint64_t val, uint8_t size)
{
    /* (access_slow_write takes the value's address: a call, not inline) */
    if (VM_LIKELY(size == 8) || mmu_size_ok(size))
        return access_slow_write(mmu, va, size, &val);
    return VM_ERR_INVALID_ARGUMENT;
}

vm_err_t vm_mmu_fetch_miss(vm_mmu_t *mmu, vm_gva_t pc, uint64_t *insn)
{
    return access_slow(mmu, pc, 4, insn, VM_ACCESS_EXEC);
}

/* ---- Bulk transfers --------------------------------------------------- */

#define BULK_STACK_PAGES 16

static vm_err_t access_bulk(vm_mmu_t *mmu, vm_gva_t va, uint8_t *buf, size_t len,
                            vm_access_t access)
{
    if (len == 0) {
        mmu_note_success(mmu);
        return VM_OK;
    }
    if (buf == NULL)
        return VM_ERR_INVALID_ARGUMENT;
    if ((uint64_t)len - 1 > UINT64_MAX - va)
        return VM_ERR_INVALID_ADDRESS; /* the VA range would wrap around */

    uint64_t npages = ((va + (len - 1)) >> MMU_PAGE_SHIFT) - (va >> MMU_PAGE_SHIFT) + 1;
    vm_gpa_t stack_pas[BULK_STACK_PAGES];
    vm_gpa_t *pas = stack_pas;
    if (npages > BULK_STACK_PAGES) {
        if (npages > SIZE_MAX / sizeof(*pas))
            return VM_ERR_OUT_OF_MEMORY;
        pas = alloc_malloc((size_t)npages * sizeof(*pas));
        if (!pas)
            return VM_ERR_OUT_OF_MEMORY;
    }

    /* Pass 1: translate every page (A/D side effects allowed) and check it
     * is RAM; any failure returns before a byte moves. */
    vm_err_t err = VM_OK;
    vm_gva_t part_va = va;
    size_t left = len;
    for (uint64_t k = 0; k < npages; k++) {
        uint64_t room = MMU_PAGE_SIZE - (part_va & (MMU_PAGE_SIZE - 1));
        size_t n = room < left ? (size_t)room : left;
        err = mmu_translate_page(mmu, part_va, access, 0, &pas[k]);
        if (err != VM_OK)
            goto out;
        if (!physmem_ram_contains(mmu->pm, pas[k], n)) {
            err = access_fault(mmu, part_va, access, VM_FAULT_ACCESS, "bulk transfer outside RAM");
            goto out;
        }
        part_va += n;
        left -= n;
    }

    /* Pass 2: copy, one call per physically contiguous run. */
    part_va = va;
    left = len;
    size_t done = 0;
    for (uint64_t k = 0; k < npages;) {
        uint64_t room = MMU_PAGE_SIZE - (part_va & (MMU_PAGE_SIZE - 1));
        size_t run = room < left ? (size_t)room : left;
        vm_gpa_t run_pa = pas[k];
        k++;
        while (k < npages && pas[k] == run_pa + run) {
            size_t n = left - run < MMU_PAGE_SIZE ? left - run : (size_t)MMU_PAGE_SIZE;
            run += n;
            k++;
        }
        if (access == VM_ACCESS_WRITE)
            err = vm_physmem_write_buf(mmu->pm, run_pa, buf + done, run);
        else
            err = vm_physmem_read_buf(mmu->pm, run_pa, buf + done, run);
        if (err != VM_OK) { /* not reachable: every page was checked */
            err = access_fault(mmu, part_va, access, VM_FAULT_ACCESS, "bulk transfer outside RAM");
            goto out;
        }
        done += run;
        part_va += run;
        left -= run;
    }
    mmu_note_success(mmu);
out:
    if (pas != stack_pas)
        alloc_free(pas);
    return err;
}

vm_err_t vm_mmu_read_bulk(vm_mmu_t *mmu, vm_gva_t va, void *buf, size_t len)
{
    return access_bulk(mmu, va, buf, len, VM_ACCESS_READ);
}

vm_err_t vm_mmu_write_bulk(vm_mmu_t *mmu, vm_gva_t va, const void *buf, size_t len)
{
    /* The buffer is only read on the write path. */
    return access_bulk(mmu, va, (uint8_t *)(uintptr_t)buf, len, VM_ACCESS_WRITE);
}

/* ---- LR/SC (Zalrsc) ---------------------------------------------------- */

vm_err_t vm_mmu_load_reserved(vm_mmu_t *mmu, vm_gva_t va, uint8_t size, uint64_t *val)
{
    vm_gpa_t pa;
    if (!mmu_size_ok(size) || val == NULL)
        return VM_ERR_INVALID_ARGUMENT;
    /* Zalrsc: LR/SC need natural alignment whatever misaligned loads do;
     * the exception is address-misaligned (BUG-CLASSES 16). */
    if ((va & (size - 1u)) != 0)
        return access_fault(mmu, va, VM_ACCESS_READ, VM_FAULT_MISALIGNED,
                            "LR/SC not naturally aligned");
    /* The reservation slot first: if the table cannot grow, fail before
     * the walk sets A or fills the TLB, so nothing changes (mmu.h). */
    vm_err_t err = physmem_reservation_slot(mmu->pm, mmu->owner);
    if (err != VM_OK)
        return err;
    err = mmu_translate_page(mmu, va, VM_ACCESS_READ, 0, &pa);
    if (err != VM_OK)
        return err;
    /* Reservations are RAM-only; decide before any device could be touched. */
    if (!physmem_ram_contains(mmu->pm, pa, size))
        return access_fault(mmu, va, VM_ACCESS_READ, VM_FAULT_ACCESS, "LR/SC outside RAM");
    err = vm_physmem_load_reserved(mmu->pm, pa, size, mmu->owner, val);
    if (err == VM_ERR_OUT_OF_MEMORY) /* another hart recycled the idle slot meanwhile */
        return err;
    if (err != VM_OK)
        return access_fault(mmu, va, VM_ACCESS_READ, VM_FAULT_ACCESS, "LR/SC outside RAM");
    mmu_note_success(mmu);
    return VM_OK;
}

vm_err_t vm_mmu_store_conditional(vm_mmu_t *mmu, vm_gva_t va, uint64_t val, uint8_t size,
                                  bool *stored)
{
    vm_gpa_t pa;
    if (!mmu_size_ok(size) || stored == NULL)
        return VM_ERR_INVALID_ARGUMENT;
    *stored = false;
    /* Zalrsc: every SC, also one that faults, invalidates this hart's
     * reservation (BUG-CLASSES 15). */
    if ((va & (size - 1u)) != 0) {
        physmem_clear_reservation(mmu->pm, mmu->owner);
        return access_fault(mmu, va, VM_ACCESS_WRITE, VM_FAULT_MISALIGNED,
                            "LR/SC not naturally aligned");
    }
    /* Translate as a store first: a failing SC still faults on a read-only
     * page and still sets A and D (mmu.h). */
    vm_err_t err = mmu_translate_page(mmu, va, VM_ACCESS_WRITE, 0, &pa);
    if (err != VM_OK) {
        physmem_clear_reservation(mmu->pm, mmu->owner);
        return err;
    }
    if (!physmem_ram_contains(mmu->pm, pa, size)) {
        physmem_clear_reservation(mmu->pm, mmu->owner);
        return access_fault(mmu, va, VM_ACCESS_WRITE, VM_FAULT_ACCESS, "LR/SC outside RAM");
    }
    err = vm_physmem_store_conditional(mmu->pm, pa, val, size, mmu->owner, stored);
    if (err != VM_OK)
        return access_fault(mmu, va, VM_ACCESS_WRITE, VM_FAULT_ACCESS, "LR/SC outside RAM");
    mmu_note_success(mmu);
    return VM_OK;
}

void vm_mmu_invalidate_reservation(vm_mmu_t *mmu, vm_gva_t va, uint8_t size)
{
    vm_gpa_t pa;
    if (!mmu || !mmu_size_ok(size))
        return;
    /* A translation without side effects: no A/D write, no TLB fill, no
     * fault recorded. A page-crossing range covers both pages. */
    uint64_t room = MMU_PAGE_SIZE - (va & (MMU_PAGE_SIZE - 1));
    unsigned n1 = room < size ? (unsigned)room : size;
    if (mmu_translate_page(mmu, va, VM_ACCESS_READ, MMU_XLATE_SPECULATIVE, &pa) == VM_OK)
        vm_physmem_invalidate(mmu->pm, pa, (uint8_t)n1);
    if (n1 < size &&
        mmu_translate_page(mmu, va + n1, VM_ACCESS_READ, MMU_XLATE_SPECULATIVE, &pa) == VM_OK)
        vm_physmem_invalidate(mmu->pm, pa, (uint8_t)(size - n1));
}

/* ---- Physical access and MMIO forwarding ------------------------------- */

vm_err_t vm_mmu_read_phys(vm_mmu_t *mmu, vm_gpa_t pa, uint8_t size, uint64_t *val)
{
    return vm_physmem_read(mmu->pm, pa, size, val);
}

vm_err_t vm_mmu_write_phys(vm_mmu_t *mmu, vm_gpa_t pa, uint64_t val, uint8_t size)
{
    return vm_physmem_write(mmu->pm, pa, val, size);
}

size_t vm_mmu_memory_size(const vm_mmu_t *mmu)
{
    return vm_physmem_size(mmu->pm);
}

vm_err_t vm_mmu_guest_slice(vm_mmu_t *mmu, uint64_t pa, size_t len, void *out)
{
    if (out == NULL && len != 0)
        return VM_ERR_INVALID_ARGUMENT;
    return vm_physmem_read_buf(mmu->pm, pa, out, len);
}

vm_err_t vm_mmu_map_mmio(vm_mmu_t *mmu, vm_gpa_t base, uint64_t size, const vm_mmio_ops_t *ops,
                         void *opaque)
{
    return vm_physmem_map_mmio(mmu->pm, base, size, ops, opaque);
}

void vm_mmu_poll_devices(vm_mmu_t *mmu)
{
    vm_physmem_poll_devices(mmu->pm);
}
