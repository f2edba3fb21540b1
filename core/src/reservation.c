/*
 * reservation.c - LR/SC reservations (RISC-V Zalrsc) on guest RAM.
 *
 * How it works
 * ------------
 * The reservation set of an LR is the naturally aligned 8-byte granule
 * holding the accessed bytes (Zalrsc: "a set of bytes that subsumes the
 * bytes in the addressed word"; VM_RESERVATION_GRANULE). pm->res is a
 * growable array with one slot per owner (hart id) that ever reserved; a
 * slot holds the granule, a snapshot of the granule's 8 bytes taken at LR
 * time, and an explicit `valid` flag. (Using granule 0 / address 0 to mean
 * "no reservation" is a bug class real emulators shipped: PA 0 is ordinary
 * RAM and can be reserved like any other address.) The array is guarded by
 * res_lock; pm->nres counts valid slots exactly and is updated atomically
 * under that lock, so a plain RAM writer can test it without locking.
 *
 * Breaking reservations: every RAM writer stores first and then, only if
 * nres != 0, calls physmem_break_reservations(), which drops every valid
 * slot whose granule overlaps the bytes written. A write that the LR
 * happens-before reads nres after the LR raised it, so it is always seen.
 *
 * SC: under res_lock, check that the owner has a valid reservation whose
 * granule holds [pa, pa+size); clear the owner's reservation whatever
 * happens (Zalrsc: "Regardless of success or failure, executing an SC
 * instruction invalidates any reservation held by this hart"); then write
 * with one 8-byte compare-and-swap of the granule from the LR snapshot to
 * the snapshot with the SC's bytes merged in. A plain store racing with
 * the SC (not ordered before it, so possibly not yet visible through nres)
 * either changed the granule, and then the CAS fails and the SC reports
 * failure, or it wrote identical bytes, which is indistinguishable from a
 * store ordered before the LR (so is a racing A -> B -> A pair: the
 * limit physmem.h states). Either way no store is ever lost - the
 * property a lock-free fast path must keep (physmem.h). A successful SC
 * then breaks the other owners' reservations on that granule, like any
 * write ("another owner's successful SC" in physmem.h).
 *
 * Rejected:
 *  - The seed's global Vec<(addr, owner, size)> scanned by every write under
 *    a RwLock: every store in the VM would take a lock. nres keeps the
 *    common case (no live reservation) at one relaxed load.
 *  - SC as "check under the lock, then plain store": a concurrent plain
 *    store to another byte of the granule that is not yet visible through
 *    nres (its writer is still on the way to res_lock) would let the SC
 *    succeed although the reservation set was written after the LR
 *    (Zalrsc: the SC "must fail"), and an 8-byte store of the merged
 *    snapshot would even undo that store. The CAS closes both; the test
 *    test_lrsc_mt_racing_store_fails_sc holds res_lock to force exactly
 *    this interleaving.
 *  - Tagging TLB entries / pages with a "reserved" bit (Spike style): the
 *    MMU can layer that on top; physmem stays correct on its own.
 */
#include <stdlib.h>

#include "alloc_int.h"
#include "physmem_int.h"

#define GRANULE_MASK ((uint64_t)VM_RESERVATION_GRANULE - 1)

static inline uint64_t granule_of(uint64_t pa)
{
    return pa & ~GRANULE_MASK;
}

/* The owner's slot, or NULL if it never reserved. Caller holds res_lock. */
static struct vm_reservation *find_slot(vm_physmem_t *pm, uint64_t owner)
{
    for (size_t i = 0; i < pm->res_len; i++)
        if (pm->res[i].owner == owner)
            return &pm->res[i];
    return NULL;
}

/*
 * The owner's slot, created (invalid) if needed; NULL if out of memory. An
 * invalid slot says nothing (no slot and an invalid slot both mean "no
 * reservation"), so any invalid slot is recycled before the table grows:
 * the table stays as large as the most reservations ever live at once,
 * however many owners (vCPUs created and freed) come and go.
 */
static struct vm_reservation *get_slot(vm_physmem_t *pm, uint64_t owner)
{
    struct vm_reservation *r = find_slot(pm, owner);

    if (r)
        return r;
    for (size_t i = 0; i < pm->res_len; i++) {
        if (!pm->res[i].valid) {
            r = &pm->res[i];
            r->owner = owner;
            return r;
        }
    }
    if (pm->res_len == pm->res_cap) {
        size_t cap = pm->res_cap ? pm->res_cap * 2 : 8;
        struct vm_reservation *n;
        if (cap > SIZE_MAX / sizeof(*n))
            return NULL;
        n = alloc_realloc(pm->res, cap * sizeof(*n));
        if (!n)
            return NULL;
        pm->res = n;
        pm->res_cap = cap;
    }
    r = &pm->res[pm->res_len++];
    r->owner = owner;
    r->granule = 0;
    r->snapshot = 0;
    r->valid = false;
    return r;
}

/* Invalidate one slot, keeping nres exact. Caller holds res_lock. */
static void drop_slot(vm_physmem_t *pm, struct vm_reservation *r)
{
    if (r && r->valid) {
        r->valid = false;
        __atomic_fetch_sub(&pm->nres, 1, __ATOMIC_SEQ_CST);
    }
}

/* Drop every valid slot whose granule lies in [first_g, last_g]. */
static void drop_granules_locked(vm_physmem_t *pm, uint64_t first_g, uint64_t last_g)
{
    for (size_t i = 0; i < pm->res_len; i++) {
        struct vm_reservation *r = &pm->res[i];
        if (r->valid && r->granule >= first_g && r->granule <= last_g)
            drop_slot(pm, r);
    }
}

static inline uint64_t load_granule(const vm_physmem_t *pm, uint64_t g)
{
    return __atomic_load_n((const uint64_t *)(const void *)physmem_host(pm, g), __ATOMIC_SEQ_CST);
}

void physmem_break_reservations(vm_physmem_t *pm, vm_gpa_t pa, uint64_t len)
{
    uint64_t last;

    if (!pm || len == 0)
        return;
    /* Saturate instead of wrapping: no granule lies past 2^64 - 8. */
    last = physmem_range_overflows(pa, len) ? UINT64_MAX : pa + len - 1;
    pthread_mutex_lock(&pm->res_lock);
    drop_granules_locked(pm, granule_of(pa), granule_of(last));
    pthread_mutex_unlock(&pm->res_lock);
}

void physmem_break_all_reservations(vm_physmem_t *pm)
{
    pthread_mutex_lock(&pm->res_lock);
    for (size_t i = 0; i < pm->res_len; i++)
        drop_slot(pm, &pm->res[i]);
    pthread_mutex_unlock(&pm->res_lock);
}

void physmem_clear_reservation(vm_physmem_t *pm, uint64_t owner)
{
    if (!pm)
        return;
    pthread_mutex_lock(&pm->res_lock);
    drop_slot(pm, find_slot(pm, owner));
    pthread_mutex_unlock(&pm->res_lock);
}

/* Can [pa, pa+size) be reserved: valid size, inside RAM, inside one granule? */
static bool reservable(const vm_physmem_t *pm, uint64_t pa, unsigned size)
{
    return physmem_size_ok(size) && !physmem_range_overflows(pa, size) &&
           physmem_ram_contains(pm, pa, size) && granule_of(pa) == granule_of(pa + size - 1);
}

/*
 * Take owner's reservation on pa's granule (arguments already checked) and
 * return in *snap the granule snapshot it is based on. VM_ERR_OUT_OF_MEMORY
 * if the owner has no slot and the table cannot grow: nothing changes (the
 * owner had no slot, so it held no reservation either).
 */
static vm_err_t reserve_checked(vm_physmem_t *pm, uint64_t pa, uint64_t owner, uint64_t *snap)
{
    uint64_t g = granule_of(pa);
    struct vm_reservation *r;

    pthread_mutex_lock(&pm->res_lock);
    r = get_slot(pm, owner);
    if (!r) {
        pthread_mutex_unlock(&pm->res_lock);
        return VM_ERR_OUT_OF_MEMORY;
    }
    if (!r->valid)
        __atomic_fetch_add(&pm->nres, 1, __ATOMIC_SEQ_CST);
    /* Snapshot after nres is raised: a writer that then misses nres has
     * its bytes either in the snapshot or caught by the SC's CAS. */
    *snap = load_granule(pm, g);
    r->granule = g;
    r->snapshot = *snap;
    r->valid = true;
    pthread_mutex_unlock(&pm->res_lock);
    return VM_OK;
}

vm_err_t physmem_reservation_slot(vm_physmem_t *pm, uint64_t owner)
{
    pthread_mutex_lock(&pm->res_lock);
    struct vm_reservation *r = get_slot(pm, owner);
    pthread_mutex_unlock(&pm->res_lock);
    return r ? VM_OK : VM_ERR_OUT_OF_MEMORY;
}

void vm_physmem_reserve(vm_physmem_t *pm, vm_gpa_t pa, uint64_t owner, uint8_t size)
{
    if (!pm)
        return;
    if (!reservable(pm, pa, size)) {
        /* physmem.h: invalid input leaves the owner with no reservation. */
        physmem_clear_reservation(pm, owner);
        return;
    }
    /* Out of memory: the owner had no slot, so it holds no reservation,
     * which is what its next SC will see. */
    uint64_t snap;
    (void)reserve_checked(pm, pa, owner, &snap);
}

vm_err_t vm_physmem_load_reserved(vm_physmem_t *pm, vm_gpa_t pa, uint8_t size, uint64_t owner,
                                  uint64_t *val)
{
    uint64_t snap;

    if (!pm || !val || !physmem_size_ok(size))
        return VM_ERR_INVALID_ARGUMENT;
    /* Zalrsc: LR requires natural alignment; misaligned -> address-misaligned
     * (checked before the address, as the trap priority puts it first). */
    if (pa & ((uint64_t)size - 1))
        return VM_ERR_ALIGNMENT_FAULT;
    /* RAM only: an LR never reaches a device (no read side effect). */
    if (physmem_range_overflows(pa, size) || !physmem_ram_contains(pm, pa, size))
        return VM_ERR_INVALID_ADDRESS;
    vm_err_t err = reserve_checked(pm, pa, owner, &snap);
    if (err != VM_OK)
        return err;
    /* The value comes from the very snapshot the reservation is based on,
     * so what the LR returned is exactly what the SC will compare against. */
    *val = (snap >> (8 * (pa & GRANULE_MASK))) & physmem_size_mask(size);
    return VM_OK;
}

void vm_physmem_invalidate(vm_physmem_t *pm, vm_gpa_t pa, uint8_t size)
{
    physmem_break_reservations(pm, pa, size);
}

vm_err_t vm_physmem_store_conditional(vm_physmem_t *pm, vm_gpa_t pa, uint64_t val, uint8_t size,
                                      uint64_t owner, bool *stored)
{
    struct vm_reservation *r;
    vm_err_t err = VM_OK;

    if (!pm || !stored || !physmem_size_ok(size))
        return VM_ERR_INVALID_ARGUMENT;
    *stored = false;

    pthread_mutex_lock(&pm->res_lock);
    r = find_slot(pm, owner);
    if (pa & ((uint64_t)size - 1)) {
        err = VM_ERR_ALIGNMENT_FAULT;
    } else if (physmem_range_overflows(pa, size) || !physmem_ram_contains(pm, pa, size)) {
        err = VM_ERR_INVALID_ADDRESS;
    } else if (r && r->valid && r->granule == granule_of(pa)) {
        /* Naturally aligned and size <= 8, so [pa, pa+size) is inside the
         * granule. Zalrsc: "The SC must fail if the address is not within
         * the reservation set of the most recent LR". */
        unsigned shift = 8 * (unsigned)(pa & GRANULE_MASK);
        uint64_t mask = physmem_size_mask(size) << shift;
        uint64_t expected = r->snapshot;
        uint64_t desired = (expected & ~mask) | ((val << shift) & mask);
        uint64_t *p = (uint64_t *)(void *)physmem_host(pm, r->granule);

        drop_slot(pm, r);
        if (__atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            *stored = true;
            /* A successful SC is a store: other harts' reservations on
             * this granule must not survive it. */
            drop_granules_locked(pm, granule_of(pa), granule_of(pa));
        }
    }
    /* Every path past the argument checks clears the owner's reservation. */
    drop_slot(pm, r);
    pthread_mutex_unlock(&pm->res_lock);
    return err;
}
