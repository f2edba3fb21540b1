/*
 * mmio.c - memory-mapped device regions: mapping, routing, polling.
 *
 * How it works
 * ------------
 * Regions live in an append-only singly linked list. vm_physmem_map_mmio()
 * takes mmio_lock (so two mappers cannot both pass the overlap check and
 * then both insert), checks the new region against RAM and every existing
 * region, and publishes it at the tail with a release store of the
 * predecessor's `next` (or of mmio_head). Accessors walk the list with
 * acquire loads and no lock: a reader sees either the complete new node or
 * not yet the node, never a half-initialised one. Nothing is ever unlinked
 * before vm_physmem_free(), so a reader can never hold a dangling pointer.
 *
 * Device callbacks run with no vmmem lock held, so a device may do DMA into
 * the same vm_physmem_t from inside its callback (or map another device)
 * without deadlocking. Devices shared by vCPU threads lock themselves.
 *
 * Routing of a scalar access [pa, pa+size) that is not wholly in RAM:
 *  - wholly inside one region and naturally aligned: the device, with the
 *    offset from the region base; read values are zero-extended from size;
 *  - touching a region but straddling its edge (into RAM, a hole or another
 *    region) or misaligned: VM_ERR_MMIO, and the device never sees it (a
 *    device cannot take a split or misaligned access; bug class 18);
 *  - otherwise: VM_ERR_INVALID_ADDRESS.
 *
 * Rejected: a sorted array with binary search. Lookup would be O(log n),
 * but inserting into a shared array without a lock on the read side needs
 * RCU-style copying and deferred freeing; VMs map a handful of devices, so
 * a list walk is both simpler and fast enough. A region may not end at
 * exactly 2^64 (base + size must not wrap), which loses one byte of the
 * address space and keeps every end address representable.
 */
#include <stdlib.h>

#include "alloc_int.h"
#include "physmem_int.h"

static inline struct vm_mmio_region *first_region(vm_physmem_t *pm)
{
    return __atomic_load_n(&pm->mmio_head, __ATOMIC_ACQUIRE);
}

static inline struct vm_mmio_region *next_region(struct vm_mmio_region *r)
{
    return __atomic_load_n(&r->next, __ATOMIC_ACQUIRE);
}

/* Do [a, a+alen) and [b, b+blen) share a byte? Neither range wraps. */
static inline bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

vm_err_t vm_physmem_map_mmio(vm_physmem_t *pm, vm_gpa_t base, uint64_t size,
                             const vm_mmio_ops_t *ops, void *opaque)
{
    struct vm_mmio_region *n, *r, **link;

    if (!pm || !ops || !ops->read || !ops->write || size == 0 ||
        physmem_range_overflows(base, size))
        return VM_ERR_INVALID_ARGUMENT;
    if (ranges_overlap(base, size, pm->ram_base, pm->ram_size))
        return VM_ERR_MMIO;
    n = alloc_calloc(1, sizeof(*n));
    if (!n)
        return VM_ERR_OUT_OF_MEMORY;
    n->base = base;
    n->size = size;
    n->ops = *ops;
    n->opaque = opaque;
    n->next = NULL;

    pthread_mutex_lock(&pm->mmio_lock);
    link = &pm->mmio_head;
    for (r = *link; r; r = *link) {
        if (ranges_overlap(base, size, r->base, r->size)) {
            pthread_mutex_unlock(&pm->mmio_lock);
            alloc_free(n);
            return VM_ERR_MMIO;
        }
        link = &r->next;
    }
    /* Release: the node's fields are visible before the node is. */
    __atomic_store_n(link, n, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&pm->mmio_lock);
    return VM_OK;
}

vm_err_t physmem_mmio_access(vm_physmem_t *pm, vm_gpa_t pa, unsigned size, uint64_t *val,
                             bool write)
{
    for (struct vm_mmio_region *r = first_region(pm); r; r = next_region(r)) {
        uint64_t off, v;
        vm_err_t err;

        if (!ranges_overlap(pa, size, r->base, r->size))
            continue;
        /* Regions never overlap, so the first region touched decides. */
        if (pa < r->base || size > r->size || pa - r->base > r->size - size)
            return VM_ERR_MMIO; /* straddles the region's edge */
        if (pa & (size - 1))
            return VM_ERR_MMIO; /* misaligned device access: an access fault */
        off = pa - r->base;
        if (write)
            return r->ops.write(r->opaque, off, *val & physmem_size_mask(size), (uint8_t)size);
        v = 0;
        err = r->ops.read(r->opaque, off, (uint8_t)size, &v);
        if (!err)
            *val = v & physmem_size_mask(size);
        return err;
    }
    return VM_ERR_INVALID_ADDRESS;
}

bool physmem_is_mmio(vm_physmem_t *pm, vm_gpa_t pa, uint64_t size)
{
    if (!pm || size == 0 || physmem_range_overflows(pa, size))
        return false;
    for (struct vm_mmio_region *r = first_region(pm); r; r = next_region(r))
        if (pa >= r->base && size <= r->size && pa - r->base <= r->size - size)
            return true;
    return false;
}

void vm_physmem_poll_devices(vm_physmem_t *pm)
{
    if (!pm)
        return;
    for (struct vm_mmio_region *r = first_region(pm); r; r = next_region(r))
        if (r->ops.poll)
            r->ops.poll(r->opaque);
}

void physmem_mmio_destroy_all(vm_physmem_t *pm)
{
    struct vm_mmio_region *r = pm->mmio_head, *next;

    pm->mmio_head = NULL;
    for (; r; r = next) {
        next = r->next;
        if (r->ops.destroy)
            r->ops.destroy(r->opaque);
        alloc_free(r);
    }
}
