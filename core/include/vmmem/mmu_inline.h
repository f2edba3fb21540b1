/*
 * vmmem/mmu_inline.h - the TLB-hit fast path as inline functions the
 * caller's compiler can inline (QEMU's softmmu style): a load or store to a
 * page the MMU has recently translated costs an index, a tag compare and the
 * host access, with no call.
 *
 * How it works
 *   Every vm_mmu_t starts with a vm_mmu_fast_t: two direct-mapped arrays of
 *   slots (data, code) indexed by the 4 KiB virtual page number, each slot
 *   holding a tag per access kind (data: read, write; code: exec) and the
 *   host addend of the page (host address = VA + addend). A tag equals the
 *   page-aligned VA when that access is allowed right now without any
 *   accessed/dirty update, with the TLB entry that backs it present, in the
 *   current permission context, and the page is RAM; otherwise it holds an
 *   odd value that no aligned access can match. With translation off (Bare,
 *   M-mode, x86 paging off) a RAM page's slot maps it to itself. The compare includes the
 *   access's alignment bits, so a misaligned access never hits.
 *
 *   The slots are refilled by the out-of-line miss functions
 *   (vm_mmu_read_miss ...) from the real TLB after a miss, and invalidated whenever the TLB drops
 *   the entry behind them (flush, eviction) and on every change of the
 *   permission context or the address space (priv, SUM, MXR, satp, mode;
 *   the x86 and Arm registers). MMIO pages never get a tag.
 *
 *   A store that hits must still break the LR/SC reservations of every hart
 *   on its granule: after the store it reads the memory's live-reservation
 *   count (as the out-of-line path does) and calls out only when some hart
 *   holds a reservation.
 *
 * vm_mmu_read, vm_mmu_write and vm_mmu_fetch_insn (mmu.h) are defined
 * here: this check, the hit count (vm_mmu_tlb_stats; it also marks an
 * earlier fault record stale, vm_mmu_last_fault) and the host access
 * inline, the miss out of line. Their definitions are C99/C11 inline
 * definitions with external linkage: the library holds the one external
 * definition of each (an -O0 build or a function pointer calls it), so a
 * program never links two. GNU89 inline mode gets `extern inline`, which
 * means the same there.
 *
 * Contract of the inline accessors (vm_mmu_read_inline, vm_mmu_write_inline,
 * vm_mmu_fetch_inline): the same results as vm_mmu_read / vm_mmu_write /
 * vm_mmu_fetch_insn, whose slow path they call on a miss, except that a
 * hit is not counted in vm_mmu_tlb_stats() and leaves vm_mmu_last_fault()
 * as it was; neither kind of hit refreshes the TLB's LRU order: the array
 * is a level-0 cache in front of the TLB, as QEMU's fast path is in front
 * of its victim TLB. size must be 1, 2, 4 or 8 (a compile-time constant at
 * best).
 *
 * Threads: as vm_mmu_t (one thread per MMU).
 */
#ifndef VMMEM_MMU_INLINE_H
#define VMMEM_MMU_INLINE_H

#include "vmmem/mmu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One slot: tags (data: [0] read, [1] write; code: [0] exec, [1] unused),
 * host addend, and the guest-physical base of the page. */
typedef struct vm_mmu_fast_slot {
    uint64_t tag[2];
    uintptr_t addend;
    uint64_t pa_page;
} vm_mmu_fast_slot_t;

/* The first member of every vm_mmu_t. Read-only for callers (the inline
 * definitions below move hits). */
typedef struct vm_mmu_fast {
    vm_mmu_fast_slot_t *data;     /* data slots */
    vm_mmu_fast_slot_t *code;     /* code slots */
    uint64_t data_mask;           /* (number of data slots - 1) << 5: byte offset mask */
    uint64_t code_mask;
    uint64_t hits;                /* TLB hits (vm_mmu_tlb_stats) */
    const uint32_t *live_resv;    /* the memory's count of live LR reservations */
} vm_mmu_fast_t;

#define VM_MMU_FAST_PAGE_MASK (~(uint64_t)0xfff)

static inline const vm_mmu_fast_slot_t *vm_mmu_fast_slot(const vm_mmu_fast_slot_t *base,
                                                         uint64_t mask, vm_gva_t va)
{
    /* (va >> 12) * sizeof(slot), masked: one shift and one and. */
    return (const vm_mmu_fast_slot_t *)(const void *)((const char *)base +
                                                       ((va >> 7) & mask));
}

/* Out of line, not for direct use: break reservations after a store that
 * hit; the misses of the three accessors below (the slow path of
 * vm_mmu_read / vm_mmu_write / vm_mmu_fetch_insn, whose slot check the
 * accessor has already made). */
VM_API void vm_mmu_fast_store_resv(vm_mmu_t *mmu, vm_gva_t va, uint8_t size);
VM_API vm_err_t vm_mmu_read_miss(vm_mmu_t *mmu, vm_gva_t va, uint8_t size, uint64_t *val);
VM_API vm_err_t vm_mmu_write_miss(vm_mmu_t *mmu, vm_gva_t va, uint64_t val, uint8_t size);
VM_API vm_err_t vm_mmu_fetch_miss(vm_mmu_t *mmu, vm_gva_t pc, uint64_t *insn);

/* C99/C11 and C++: `inline` is an inline definition (C++: a mergeable one);
 * GNU89 (-std=gnu89, -fgnu89-inline): `extern inline` is. */
#if defined(__GNUC_GNU_INLINE__) && !defined(__cplusplus)
#define VM_INLINE_API VM_API extern inline
#else
#define VM_INLINE_API VM_API inline
#endif

/*
 * The function API's hit path. An inline definition with external linkage
 * may not use the static helpers of this header (C11 6.7.4p3), so the slot
 * arithmetic is spelled out: (va >> 12) * sizeof(slot), masked. The size
 * test folds away when size is a constant; a NULL val or a bad size takes
 * the miss, which reports VM_ERR_INVALID_ARGUMENT.
 */
VM_INLINE_API VM_WUR vm_err_t vm_mmu_read(vm_mmu_t *mmu, vm_gva_t va, uint8_t size,
                                          uint64_t *val)
{
    vm_mmu_fast_t *f = (vm_mmu_fast_t *)(void *)mmu;
    const vm_mmu_fast_slot_t *s =
        (const vm_mmu_fast_slot_t *)(const void *)((const char *)f->data +
                                                   ((va >> 7) & f->data_mask));
    const void *p = (const void *)(uintptr_t)(va + s->addend);
    /* One branch per size, 8 first, so a size not known at compile time
     * (the out-of-line definition) costs a compare before the check, and
     * no jump table. */
    if (__builtin_expect(size == 8, 1)) {
        if (__builtin_expect((va & (VM_MMU_FAST_PAGE_MASK | 7u)) == s->tag[0] && val, 1)) {
            f->hits++;
            *val = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
            return VM_OK;
        }
    } else if (size == 4) {
        if ((va & (VM_MMU_FAST_PAGE_MASK | 3u)) == s->tag[0] && val) {
            f->hits++;
            *val = __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
            return VM_OK;
        }
    } else if (size == 1) {
        if ((va & VM_MMU_FAST_PAGE_MASK) == s->tag[0] && val) {
            f->hits++;
            *val = __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
            return VM_OK;
        }
    } else if (size == 2) {
        if ((va & (VM_MMU_FAST_PAGE_MASK | 1u)) == s->tag[0] && val) {
            f->hits++;
            *val = __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
            return VM_OK;
        }
    }
    return vm_mmu_read_miss(mmu, va, size, val);
}

/* A store that hits breaks reservations as vm_mmu_write_inline's does. */
VM_INLINE_API VM_WUR vm_err_t vm_mmu_write(vm_mmu_t *mmu, vm_gva_t va, uint64_t val,
                                           uint8_t size)
{
    vm_mmu_fast_t *f = (vm_mmu_fast_t *)(void *)mmu;
    const vm_mmu_fast_slot_t *s =
        (const vm_mmu_fast_slot_t *)(const void *)((const char *)f->data +
                                                   ((va >> 7) & f->data_mask));
    void *p = (void *)(uintptr_t)(va + s->addend);
    /* (size dispatch as in vm_mmu_read) */
    if (__builtin_expect(size == 8, 1)) {
        if (__builtin_expect((va & (VM_MMU_FAST_PAGE_MASK | 7u)) != s->tag[1], 0))
            return vm_mmu_write_miss(mmu, va, val, size);
        __atomic_store_n((uint64_t *)p, val, __ATOMIC_RELAXED);
    } else if (size == 4) {
        if ((va & (VM_MMU_FAST_PAGE_MASK | 3u)) != s->tag[1])
            return vm_mmu_write_miss(mmu, va, val, size);
        __atomic_store_n((uint32_t *)p, (uint32_t)val, __ATOMIC_RELAXED);
    } else if (size == 1) {
        if ((va & VM_MMU_FAST_PAGE_MASK) != s->tag[1])
            return vm_mmu_write_miss(mmu, va, val, size);
        __atomic_store_n((uint8_t *)p, (uint8_t)val, __ATOMIC_RELAXED);
    } else if (size == 2) {
        if ((va & (VM_MMU_FAST_PAGE_MASK | 1u)) != s->tag[1])
            return vm_mmu_write_miss(mmu, va, val, size);
        __atomic_store_n((uint16_t *)p, (uint16_t)val, __ATOMIC_RELAXED);
    } else {
        return vm_mmu_write_miss(mmu, va, val, size);
    }
    f->hits++;
    if (__builtin_expect(__atomic_load_n(f->live_resv, __ATOMIC_RELAXED) != 0, 0))
        vm_mmu_fast_store_resv(mmu, va, size);
    return VM_OK;
}

VM_INLINE_API VM_WUR vm_err_t vm_mmu_fetch_insn(vm_mmu_t *mmu, vm_gva_t pc, uint64_t *insn)
{
    vm_mmu_fast_t *f = (vm_mmu_fast_t *)(void *)mmu;
    const vm_mmu_fast_slot_t *s =
        (const vm_mmu_fast_slot_t *)(const void *)((const char *)f->code +
                                                   ((pc >> 7) & f->code_mask));
    if (__builtin_expect((pc & (VM_MMU_FAST_PAGE_MASK | 3u)) == s->tag[0] && insn != NULL, 1)) {
        f->hits++;
        *insn = __atomic_load_n((const uint32_t *)(const void *)(uintptr_t)(pc + s->addend),
                                __ATOMIC_RELAXED);
        return VM_OK;
    }
    return vm_mmu_fetch_miss(mmu, pc, insn);
}

static inline vm_err_t vm_mmu_read_inline(vm_mmu_t *mmu, vm_gva_t va, uint8_t size,
                                          uint64_t *val)
{
    const vm_mmu_fast_t *f = (const vm_mmu_fast_t *)(const void *)mmu;
    const vm_mmu_fast_slot_t *s = vm_mmu_fast_slot(f->data, f->data_mask, va);
    if (__builtin_expect((va & (VM_MMU_FAST_PAGE_MASK | (uint64_t)(size - 1u))) == s->tag[0] &&
                             (size == 1 || size == 2 || size == 4 || size == 8),
                         1)) {
        const void *p = (const void *)(uintptr_t)(va + s->addend);
        switch (size) {
        case 1: *val = __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED); break;
        case 2: *val = __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED); break;
        case 4: *val = __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED); break;
        default: *val = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED); break;
        }
        return VM_OK;
    }
    return vm_mmu_read_miss(mmu, va, size, val);
}

static inline vm_err_t vm_mmu_write_inline(vm_mmu_t *mmu, vm_gva_t va, uint64_t val,
                                           uint8_t size)
{
    const vm_mmu_fast_t *f = (const vm_mmu_fast_t *)(const void *)mmu;
    const vm_mmu_fast_slot_t *s = vm_mmu_fast_slot(f->data, f->data_mask, va);
    if (__builtin_expect((va & (VM_MMU_FAST_PAGE_MASK | (uint64_t)(size - 1u))) == s->tag[1] &&
                             (size == 1 || size == 2 || size == 4 || size == 8),
                         1)) {
        void *p = (void *)(uintptr_t)(va + s->addend);
        switch (size) {
        case 1: __atomic_store_n((uint8_t *)p, (uint8_t)val, __ATOMIC_RELAXED); break;
        case 2: __atomic_store_n((uint16_t *)p, (uint16_t)val, __ATOMIC_RELAXED); break;
        case 4: __atomic_store_n((uint32_t *)p, (uint32_t)val, __ATOMIC_RELAXED); break;
        default: __atomic_store_n((uint64_t *)p, val, __ATOMIC_RELAXED); break;
        }
        if (__builtin_expect(__atomic_load_n(f->live_resv, __ATOMIC_RELAXED) != 0, 0))
            vm_mmu_fast_store_resv(mmu, va, size);
        return VM_OK;
    }
    return vm_mmu_write_miss(mmu, va, val, size);
}

static inline vm_err_t vm_mmu_fetch_inline(vm_mmu_t *mmu, vm_gva_t pc, uint64_t *insn)
{
    const vm_mmu_fast_t *f = (const vm_mmu_fast_t *)(const void *)mmu;
    const vm_mmu_fast_slot_t *s = vm_mmu_fast_slot(f->code, f->code_mask, pc);
    if (__builtin_expect((pc & (VM_MMU_FAST_PAGE_MASK | 3u)) == s->tag[0], 1)) {
        *insn = __atomic_load_n((const uint32_t *)(const void *)(uintptr_t)(pc + s->addend),
                                __ATOMIC_RELAXED);
        return VM_OK;
    }
    return vm_mmu_fetch_miss(mmu, pc, insn);
}

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_MMU_INLINE_H */
