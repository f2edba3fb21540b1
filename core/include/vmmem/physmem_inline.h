/*
 * vmmem/physmem_inline.h - aligned physical RAM accesses as inline
 * functions the caller's compiler can inline: a bounds test, an alignment
 * test and the host load or store, with no call (device models doing DMA,
 * a CPU model's physical accesses in Bare mode).
 *
 * Every vm_physmem_t starts with a vm_physmem_fast_t (read-only for
 * callers). An aligned access of 1, 2, 4 or 8 bytes wholly inside RAM is
 * done inline as one single-copy-atomic (relaxed) access, exactly as
 * vm_physmem_read/vm_physmem_write would do it; a store then reads the
 * memory's count of live LR reservations and calls out only when some
 * owner holds one, so reservations break as physmem.h requires. Anything
 * else - misaligned, MMIO, outside RAM, a bad size - is vm_physmem_read /
 * vm_physmem_write, with their results and errors. pm must not be NULL,
 * nor val on a read (the function API's VM_ERR_INVALID_ARGUMENT for it is
 * not checked here).
 *
 * Two spellings: vm_physmem_read_inline(pm, ...) and, for loops,
 * vm_physmem_view_read(&view, ...) through a vm_physmem_view_t taken once
 * with vm_physmem_view(pm) (below); same results, the view's cheaper.
 *
 * Threads: as vm_physmem_t (any thread); a view may be shared by threads
 * (it is never written after vm_physmem_view returns it).
 */
#ifndef VMMEM_PHYSMEM_INLINE_H
#define VMMEM_PHYSMEM_INLINE_H

#include "vmmem/physmem.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vm_physmem_fast {
    uint8_t *ram;        /* host address of guest PA ram_base */
    uint64_t ram_size;
    vm_gpa_t ram_base;
    uint32_t live_resv;  /* live LR reservations (atomic) */
    uint64_t ram_end8;   /* ram_size - 7, or 0: an aligned access of up to 8 bytes at
                            RAM offset off < ram_end8 lies wholly in RAM (one compare;
                            the last 7 bytes take the out-of-line path) */
    uint64_t ram_neg_base; /* 0 - ram_base: the RAM offset of pa is pa + ram_neg_base, one
                              add (lea) where pa - ram_base costs a copy and a subtract */
} vm_physmem_fast_t;

/* Out of line: break reservations after an inline store (not for direct use). */
VM_API void vm_physmem_fast_store_resv(vm_physmem_t *pm, vm_gpa_t pa, uint8_t size);

/*
 * A RAM view: the RAM's host address, guest base and bound copied out of the
 * memory into a value the caller keeps, so that a loop of accesses holds them
 * in registers. Through pm, every inline access must reload them after any
 * call the loop might have made (the out-of-line path is one); through a view
 * local to the loop it need not. RAM never moves and never changes size in
 * the life of a vm_physmem_t (physmem.h), so a view stays valid until
 * vm_physmem_free(pm); a store still reads the memory's live-reservation count
 * each time (another thread may take a reservation at any moment).
 * vm_physmem_view_read/_write answer exactly as vm_physmem_read_inline/
 * _write_inline (and so as vm_physmem_read/vm_physmem_write) on its memory.
 */
typedef struct vm_physmem_view {
    uint8_t *ram;
    uint64_t ram_neg_base;
    uint64_t ram_end8;
    vm_physmem_t *pm;
} vm_physmem_view_t;

static inline vm_physmem_view_t vm_physmem_view(vm_physmem_t *pm)
{
    const vm_physmem_fast_t *f = (const vm_physmem_fast_t *)(const void *)pm;
    vm_physmem_view_t v;
    v.ram = f->ram;
    v.ram_neg_base = f->ram_neg_base;
    v.ram_end8 = f->ram_end8;
    v.pm = pm;
    return v;
}

static inline vm_err_t vm_physmem_view_read(const vm_physmem_view_t *v, vm_gpa_t pa, uint8_t size,
                                            uint64_t *val)
{
    const uint64_t off = pa + v->ram_neg_base;
    if (__builtin_expect((size == 1 || size == 2 || size == 4 || size == 8) &&
                             (pa & (uint64_t)(size - 1u)) == 0 && off < v->ram_end8,
                         1)) {
        const void *p = v->ram + off;
        switch (size) {
        case 1: *val = __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED); break;
        case 2: *val = __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED); break;
        case 4: *val = __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED); break;
        default: *val = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED); break;
        }
        return VM_OK;
    }
    return vm_physmem_read(v->pm, pa, size, val);
}

static inline vm_err_t vm_physmem_view_write(const vm_physmem_view_t *v, vm_gpa_t pa, uint64_t val,
                                             uint8_t size)
{
    const uint64_t off = pa + v->ram_neg_base;
    if (__builtin_expect((size == 1 || size == 2 || size == 4 || size == 8) &&
                             (pa & (uint64_t)(size - 1u)) == 0 && off < v->ram_end8,
                         1)) {
        void *p = v->ram + off;
        switch (size) {
        case 1: __atomic_store_n((uint8_t *)p, (uint8_t)val, __ATOMIC_RELAXED); break;
        case 2: __atomic_store_n((uint16_t *)p, (uint16_t)val, __ATOMIC_RELAXED); break;
        case 4: __atomic_store_n((uint32_t *)p, (uint32_t)val, __ATOMIC_RELAXED); break;
        default: __atomic_store_n((uint64_t *)p, val, __ATOMIC_RELAXED); break;
        }
        const vm_physmem_fast_t *f = (const vm_physmem_fast_t *)(const void *)v->pm;
        if (__builtin_expect(__atomic_load_n(&f->live_resv, __ATOMIC_RELAXED) != 0, 0))
            vm_physmem_fast_store_resv(v->pm, pa, size);
        return VM_OK;
    }
    return vm_physmem_write(v->pm, pa, val, size);
}

/* The same through pm: the view is taken afresh on every call. */
static inline vm_err_t vm_physmem_read_inline(vm_physmem_t *pm, vm_gpa_t pa, uint8_t size,
                                              uint64_t *val)
{
    const vm_physmem_view_t v = vm_physmem_view(pm);
    return vm_physmem_view_read(&v, pa, size, val);
}

static inline vm_err_t vm_physmem_write_inline(vm_physmem_t *pm, vm_gpa_t pa, uint64_t val,
                                               uint8_t size)
{
    const vm_physmem_view_t v = vm_physmem_view(pm);
    return vm_physmem_view_write(&v, pa, val, size);
}

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_PHYSMEM_INLINE_H */
