/*
 * physmem_int.h - the layout of vm_physmem_t and the lock-free RAM fast
 * path, shared by physmem.c, reservation.c, mmio.c and the MMU's inline TLB
 * hit path. Not installed.
 *
 * RAM is one host mapping; guest PA p lives at ram + p. All RAM bytes are
 * accessed with __atomic builtins (relaxed): aligned 1/2/4/8-byte accesses
 * are then single-copy atomic on every host we build for, and concurrent
 * access from vCPU threads is data-race free in the C11 sense (TSan clean).
 *
 * Reservations (LR/SC): `nres` counts live reservations. A writer stores
 * first and then, only if nres != 0, takes the slow path that breaks the
 * reservations on the granules it wrote. An SC performs its write as a
 * compare-and-swap of the whole 8-byte granule against the snapshot taken
 * at LR time, under res_lock. Together: a write that is ordered before the
 * SC (happens-before) and after the LR (the LR happens-before it) is seen
 * through nres and breaks the reservation; a truly concurrent write that
 * changed the granule makes the CAS fail. A concurrent write of the
 * identical bytes is indistinguishable from one ordered before the LR,
 * which the memory model allows. Not seen either: concurrent writes that
 * change the granule and change it back (A -> B -> A) before the SC, all
 * missing nres (the relaxed store-then-load of a writer is the store-buffer
 * litmus test: its nres load may be older than its store's visibility), so
 * the SC passes although a third thread may have read B (physmem.h states
 * it). A seq_cst fence between every store and its nres load would close
 * it: an mfence or locked instruction per store on x86.
 */
#ifndef VMMEM_PHYSMEM_INT_H
#define VMMEM_PHYSMEM_INT_H

#include <pthread.h>
#include <stddef.h>

#include "vmmem/physmem.h"
#include "vmmem/physmem_inline.h"

/*
 * Guest memory is little-endian (physmem.h). The aligned fast path below
 * loads and stores host integers straight from the RAM mapping, and
 * reservation.c places byte i of a granule at bits 8i..8i+7, so both are
 * only right on a little-endian host: refuse to build anywhere else rather
 * than silently byte-swap guest data.
 */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vmmem: the RAM fast path assumes a little-endian host"
#endif
#elif !defined(__x86_64__) && !defined(__i386__) && !defined(__aarch64__)
#error "vmmem: cannot tell the host byte order; the RAM fast path assumes little-endian"
#endif

#if defined(__GNUC__)
#define VM_LIKELY(x) __builtin_expect(!!(x), 1)
#define VM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VM_NOINLINE __attribute__((noinline))
#define VM_HIDDEN __attribute__((visibility("hidden")))
#else
#define VM_LIKELY(x) (x)
#define VM_UNLIKELY(x) (x)
#define VM_NOINLINE
#define VM_HIDDEN
#endif

struct vm_reservation {
    uint64_t owner;
    vm_gpa_t granule;  /* 8-byte aligned PA */
    uint64_t snapshot; /* granule contents when the reservation was taken */
    bool valid;
};

struct vm_mmio_region {
    vm_gpa_t base;
    uint64_t size;
    vm_mmio_ops_t ops;
    void *opaque;
    struct vm_mmio_region *next; /* published with release, read with acquire */
};

struct vm_physmem {
    /* The first six fields are vm_physmem_fast_t (vmmem/physmem_inline.h):
     * the public inline accessors read them. */
    uint8_t *ram;                 /* host mapping of guest PA [ram_base, ram_base + ram_size) */
    uint64_t ram_size;
    vm_gpa_t ram_base;            /* 4 KiB aligned; 0 unless vm_physmem_new_at() */
    uint32_t nres;                /* live reservations (atomic) */
    uint64_t ram_end8;            /* ram_size - 7 (0 if smaller): see vm_physmem_fast_t */
    uint64_t ram_neg_base;        /* 0 - ram_base: see vm_physmem_fast_t */

    uint64_t ram_end_page;        /* ram_size - 4095 (0 if smaller): a 4 KiB-aligned page at
                                     RAM offset off < ram_end_page lies wholly in RAM */
    size_t map_size;              /* bytes mapped (ram_size rounded up) */
    vm_hugepage_mode_t hugepages;

    pthread_mutex_t res_lock;     /* guards res[] */
    struct vm_reservation *res;
    size_t res_len, res_cap;

    pthread_mutex_t mmio_lock;    /* serialises map_mmio (readers take no lock) */
    struct vm_mmio_region *mmio_head; /* atomic pointer; append-only list */
};

_Static_assert(offsetof(struct vm_physmem, ram) == offsetof(vm_physmem_fast_t, ram) &&
                   offsetof(struct vm_physmem, ram_size) == offsetof(vm_physmem_fast_t, ram_size) &&
                   offsetof(struct vm_physmem, ram_base) == offsetof(vm_physmem_fast_t, ram_base) &&
                   offsetof(struct vm_physmem, nres) == offsetof(vm_physmem_fast_t, live_resv) &&
                   offsetof(struct vm_physmem, ram_end8) == offsetof(vm_physmem_fast_t, ram_end8) &&
                   offsetof(struct vm_physmem, ram_neg_base) ==
                       offsetof(vm_physmem_fast_t, ram_neg_base),
               "vm_physmem_fast_t must be the prefix of struct vm_physmem");

/* Is [pa, pa+len) inside RAM? A pa below the base wraps to a huge offset. */
static inline bool physmem_ram_contains(const vm_physmem_t *pm, uint64_t pa, uint64_t len)
{
    uint64_t off = pa - pm->ram_base;
    return off <= pm->ram_size && len <= pm->ram_size - off;
}

/* physmem_ram_contains(pm, pa_page, 4096) for a 4 KiB-aligned pa_page, in
 * one compare. */
static inline bool physmem_ram_has_page(const vm_physmem_t *pm, vm_gpa_t pa_page)
{
    return pa_page - pm->ram_base < pm->ram_end_page;
}

/* Host address of RAM byte pa (caller checked it is RAM). Integer
 * arithmetic: the bias may point outside any object for a non-zero base. */
static inline uint8_t *physmem_host(const vm_physmem_t *pm, vm_gpa_t pa)
{
    return (uint8_t *)((uintptr_t)pm->ram + (uintptr_t)(pa - pm->ram_base));
}

/* Slow path of every RAM write: break reservations on [pa, pa+len). */
VM_HIDDEN void physmem_break_reservations(vm_physmem_t *pm, vm_gpa_t pa, uint64_t len);

/* Aligned load from a host address inside the RAM mapping. 8 bytes is
 * tested first: a miss path passes the size as a variable, and a switch
 * would test 8 (the default) last. */
static inline uint64_t physmem_load_host(const void *host, unsigned size)
{
    const uint8_t *p = host;
    if (VM_LIKELY(size == 8))
        return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
    switch (size) {
    case 1: return __atomic_load_n(p, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED);
    default: return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_RELAXED);
    }
}

/* Aligned store to a host address inside the RAM mapping (no reservation upkeep). */
static inline void physmem_store_host(void *host, uint64_t val, unsigned size)
{
    uint8_t *p = host;
    if (VM_LIKELY(size == 8)) {
        __atomic_store_n((uint64_t *)(void *)p, val, __ATOMIC_RELAXED);
        return;
    }
    switch (size) {
    case 1: __atomic_store_n(p, (uint8_t)val, __ATOMIC_RELAXED); break;
    case 2: __atomic_store_n((uint16_t *)(void *)p, (uint16_t)val, __ATOMIC_RELAXED); break;
    case 4: __atomic_store_n((uint32_t *)(void *)p, (uint32_t)val, __ATOMIC_RELAXED); break;
    default: __atomic_store_n((uint64_t *)(void *)p, val, __ATOMIC_RELAXED); break;
    }
}

/* Aligned RAM load; caller checked range and natural alignment. */
static inline uint64_t physmem_load_aligned(const vm_physmem_t *pm, vm_gpa_t pa, unsigned size)
{
    uint8_t *p = physmem_host(pm, pa);
    switch (size) {
    case 1: return __atomic_load_n(p, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((uint16_t *)(void *)p, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((uint32_t *)(void *)p, __ATOMIC_RELAXED);
    default: return __atomic_load_n((uint64_t *)(void *)p, __ATOMIC_RELAXED);
    }
}

/* Aligned RAM store; caller checked range and natural alignment. */
static inline void physmem_store_aligned(vm_physmem_t *pm, vm_gpa_t pa, uint64_t val, unsigned size)
{
    uint8_t *p = physmem_host(pm, pa);
    switch (size) {
    case 1: __atomic_store_n(p, (uint8_t)val, __ATOMIC_RELAXED); break;
    case 2: __atomic_store_n((uint16_t *)(void *)p, (uint16_t)val, __ATOMIC_RELAXED); break;
    case 4: __atomic_store_n((uint32_t *)(void *)p, (uint32_t)val, __ATOMIC_RELAXED); break;
    default: __atomic_store_n((uint64_t *)(void *)p, val, __ATOMIC_RELAXED); break;
    }
    if (VM_UNLIKELY(__atomic_load_n(&pm->nres, __ATOMIC_RELAXED) != 0))
        physmem_break_reservations(pm, pa, size);
}

/*
 * Internal entry points used by the MMU (defined in physmem.c / mmio.c /
 * reservation.c). All check their arguments.
 */
/* Bulk transfers (read_buf/write_buf, dump/restore, the MMU's bulk accesses)
 * move 16 aligned bytes at a time where the host makes such a load or store
 * atomic (physmem.c, ram_copy_out/ram_copy_in); set once at load time,
 * cleared by tests to run the 8-byte paths. */
VM_HIDDEN extern bool physmem_wide_copy;
/* RAM-or-MMIO scalar access of any alignment (same contract as vm_physmem_read/write). */
VM_HIDDEN vm_err_t physmem_access_slow(vm_physmem_t *pm, vm_gpa_t pa, unsigned size,
                                       uint64_t *val, bool write);
/* Is [pa, pa+size) entirely inside one MMIO region? */
VM_HIDDEN bool physmem_is_mmio(vm_physmem_t *pm, vm_gpa_t pa, uint64_t size);
/*
 * Atomic compare-and-swap of an aligned 8-byte RAM word (the PTE A/D update,
 * Priv. spec step "atomically ... compare and set"). *swapped tells whether
 * the word equalled `expected` and now holds `desired`. A successful swap
 * breaks reservations like any write. VM_ERR_INVALID_ADDRESS if not RAM,
 * VM_ERR_ALIGNMENT_FAULT if not 8-aligned.
 */
VM_HIDDEN vm_err_t physmem_cmpxchg_u64(vm_physmem_t *pm, vm_gpa_t pa, uint64_t expected,
                                       uint64_t desired, bool *swapped);

/* Drop owner's reservation, if any (Zalrsc: every SC, even one that faults,
 * invalidates the executing hart's reservation). */
VM_HIDDEN void physmem_clear_reservation(vm_physmem_t *pm, uint64_t owner);

/* Make sure owner has a (possibly invalid) reservation slot, growing the
 * table if needed: VM_ERR_OUT_OF_MEMORY if it cannot, and nothing changes.
 * Lets an LR through the MMU fail for memory before its walk has any side
 * effect (A bit, TLB fill). */
VM_HIDDEN vm_err_t physmem_reservation_slot(vm_physmem_t *pm, uint64_t owner);

/* ---- Helpers shared by physmem.c, reservation.c and mmio.c ----------- */

/* Is size one of the scalar access sizes 1, 2, 4, 8? */
static inline bool physmem_size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

/* Does [pa, pa+len) fail to fit in the 64-bit address space? (An access
 * whose end would be 2^64 or more is refused, never wrapped to 0.) */
static inline bool physmem_range_overflows(uint64_t pa, uint64_t len)
{
    return len > UINT64_MAX - pa;
}

/* Mask of the low `size` bytes (size 1/2/4/8). */
static inline uint64_t physmem_size_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

/*
 * The non-RAM half of physmem_access_slow() (mmio.c): [pa, pa+size) is
 * known not to lie wholly inside RAM and not to overflow; size is valid.
 * Routes to a device (VM_OK or its error), or returns VM_ERR_MMIO
 * (straddles a region edge / misaligned) or VM_ERR_INVALID_ADDRESS.
 */
VM_HIDDEN vm_err_t physmem_mmio_access(vm_physmem_t *pm, vm_gpa_t pa, unsigned size,
                                       uint64_t *val, bool write);

/* vm_physmem_free() helper (mmio.c): destroy every device, free the list. */
VM_HIDDEN void physmem_mmio_destroy_all(vm_physmem_t *pm);

/* restore helper (reservation.c): drop every owner's reservation. */
VM_HIDDEN void physmem_break_all_reservations(vm_physmem_t *pm);

#endif /* VMMEM_PHYSMEM_INT_H */
