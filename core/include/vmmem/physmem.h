/*
 * vmmem/physmem.h - guest physical memory: RAM, MMIO regions, LR/SC
 * reservations.
 *
 * Layout of the guest physical address space: RAM occupies [base, base +
 * size), base 0 unless created with vm_physmem_new_at() (QEMU's `virt`
 * board, for one, has RAM at 0x80000000 and nothing below it but devices).
 * MMIO regions may be mapped anywhere else (never overlapping RAM or each
 * other). Every other address is unbacked: accesses to it fail with
 * VM_ERR_INVALID_ADDRESS.
 *
 * Threads: one vm_physmem_t is shared by many threads (one per vCPU). All
 * functions here may be called concurrently, except vm_physmem_free().
 * Aligned 1/2/4/8-byte RAM accesses are single-copy atomic (no thread ever
 * observes a torn aligned value) and take no lock. Misaligned accesses and
 * bulk transfers are performed byte- or word-wise and are not atomic as a
 * whole, as on hardware; every aligned 8-byte word a bulk transfer covers
 * is still read or written in one single-copy-atomic access (a bulk
 * transfer on an x86-64 host with AVX loads or stores 16 aligned bytes at a
 * time, which that host makes atomic: see physmem.c).
 *
 * Byte order is little-endian for every multi-byte access.
 *
 * Errors: on any error nothing is written (no partial writes, also for bulk
 * transfers) and no reservation changes.
 */
#ifndef VMMEM_PHYSMEM_H
#define VMMEM_PHYSMEM_H

#include "vmmem/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vm_physmem vm_physmem_t;

/* What backing vm_physmem_new() obtained when asked for huge pages. */
typedef enum vm_hugepage_mode {
    VM_HUGEPAGES_NONE = 0,  /* ordinary 4 KiB pages (not asked, or nothing granted) */
    VM_HUGEPAGES_MADVISE,   /* MADV_HUGEPAGE accepted: transparent huge pages
                               if the kernel's THP setting allows them */
    VM_HUGEPAGES_HUGETLB,   /* explicit 2 MiB pages (MAP_HUGETLB), reserved up front */
} vm_hugepage_mode_t;

/*
 * An MMIO device. read and write are required; poll and destroy may be NULL.
 * The callbacks are invoked with no vmmem lock held, so a device may itself
 * access guest memory (DMA) through the same vm_physmem_t. They may be
 * called concurrently from several vCPU threads: a device shared by vCPUs
 * does its own locking. `offset` is relative to the region base; `size` is
 * 1, 2, 4 or 8 and the access is naturally aligned (misaligned MMIO accesses
 * are refused before reaching the device). A callback's non-VM_OK return is
 * passed to the caller unchanged.
 */
typedef struct vm_mmio_ops {
    vm_err_t (*read)(void *opaque, uint64_t offset, uint8_t size, uint64_t *val);
    vm_err_t (*write)(void *opaque, uint64_t offset, uint64_t val, uint8_t size);
    void (*poll)(void *opaque);    /* from vm_physmem_poll_devices() */
    void (*destroy)(void *opaque); /* from vm_physmem_free() */
} vm_mmio_ops_t;

/*
 * Create `size` bytes of zeroed guest RAM at physical address 0. The memory
 * is reserved lazily: a 1 GiB guest costs host memory only for pages it
 * touches. With use_hugepages, 2 MiB pages are requested (MAP_HUGETLB, else
 * madvise(MADV_HUGEPAGE)); if the OS grants neither the call silently falls
 * back to ordinary pages; vm_physmem_hugepages() tells what was granted.
 * Returns NULL if size is 0 or the host cannot provide the mapping.
 */
VM_API vm_physmem_t *vm_physmem_new(size_t size, bool use_hugepages);

/*
 * As vm_physmem_new, with RAM at guest physical [base, base + size). base
 * must be a multiple of 4 KiB and base + size at most 2^64 - 1; else NULL.
 * vm_physmem_new(size, hp) is vm_physmem_new_at(0, size, hp).
 */
VM_API vm_physmem_t *vm_physmem_new_at(vm_gpa_t base, size_t size, bool use_hugepages);

/* Guest physical address of the first RAM byte. */
VM_API vm_gpa_t vm_physmem_base(const vm_physmem_t *pm);

/* Destroy: calls every device's destroy(opaque), releases RAM. NULL is a no-op. */
VM_API void vm_physmem_free(vm_physmem_t *pm);

/* RAM size in bytes (MMIO regions not included). RAM base, size and host
 * mapping are fixed from creation to vm_physmem_free: nothing resizes or
 * moves RAM (restore copies into it), which physmem_inline.h's views rely on. */
VM_API size_t vm_physmem_size(const vm_physmem_t *pm);

/* What backing was obtained (see vm_hugepage_mode_t). */
VM_API vm_hugepage_mode_t vm_physmem_hugepages(const vm_physmem_t *pm);

/*
 * Scalar accesses to RAM or MMIO. Checked in this order:
 *   VM_ERR_INVALID_ARGUMENT  NULL out (or pm), size not 1/2/4/8;
 *   VM_ERR_INVALID_ADDRESS   addr + size > 2^64 - 1 (the last byte of the
 *                            64-bit space is never addressable);
 *   wholly inside RAM        done (any alignment);
 *   VM_ERR_MMIO              the access touches an MMIO region but is not
 *                            wholly inside it (also from the end of RAM into
 *                            an adjacent region), or is inside it but not
 *                            naturally aligned (pa % size != 0): the device
 *                            never sees split or misaligned accesses;
 *   wholly inside a region   the device's callback; its error is returned;
 *   VM_ERR_INVALID_ADDRESS   otherwise (some byte is neither RAM nor MMIO,
 *                            e.g. a RAM access running past its end).
 * A write to RAM breaks every LR reservation on the granules it touches.
 */
VM_API VM_WUR vm_err_t vm_physmem_read_u8(vm_physmem_t *pm, uint64_t addr, uint8_t *out);
VM_API VM_WUR vm_err_t vm_physmem_read_u16(vm_physmem_t *pm, uint64_t addr, uint16_t *out);
VM_API VM_WUR vm_err_t vm_physmem_read_u32(vm_physmem_t *pm, uint64_t addr, uint32_t *out);
VM_API VM_WUR vm_err_t vm_physmem_read_u64(vm_physmem_t *pm, uint64_t addr, uint64_t *out);
VM_API VM_WUR vm_err_t vm_physmem_write_u8(vm_physmem_t *pm, uint64_t addr, uint8_t val);
VM_API VM_WUR vm_err_t vm_physmem_write_u16(vm_physmem_t *pm, uint64_t addr, uint16_t val);
VM_API VM_WUR vm_err_t vm_physmem_write_u32(vm_physmem_t *pm, uint64_t addr, uint32_t val);
VM_API VM_WUR vm_err_t vm_physmem_write_u64(vm_physmem_t *pm, uint64_t addr, uint64_t val);

/*
 * The MemoryAccess form: size is 1, 2, 4 or 8 (else VM_ERR_INVALID_ARGUMENT);
 * values are zero-extended on read and truncated to size on write.
 */
VM_API VM_WUR vm_err_t vm_physmem_read(vm_physmem_t *pm, vm_gpa_t pa, uint8_t size, uint64_t *val);
VM_API VM_WUR vm_err_t vm_physmem_write(vm_physmem_t *pm, vm_gpa_t pa, uint64_t val, uint8_t size);

/*
 * Bulk transfers, RAM only: [addr, addr+len) must lie inside RAM, else
 * VM_ERR_INVALID_ADDRESS and nothing is transferred. len 0 succeeds for any
 * base <= addr <= base + size. buf may be NULL only when len is 0. A bulk write breaks the
 * reservations it overlaps.
 */
VM_API VM_WUR vm_err_t vm_physmem_read_buf(vm_physmem_t *pm, uint64_t addr, void *buf, size_t len);
VM_API VM_WUR vm_err_t vm_physmem_write_buf(vm_physmem_t *pm, uint64_t addr, const void *buf, size_t len);

/*
 * Snapshot and restore of RAM (MMIO device state is not included: devices
 * own their state). len must equal vm_physmem_size(), else
 * VM_ERR_INVALID_ARGUMENT and nothing changes. restore breaks every
 * reservation.
 */
VM_API VM_WUR vm_err_t vm_physmem_dump(vm_physmem_t *pm, void *out, size_t len);
VM_API VM_WUR vm_err_t vm_physmem_restore(vm_physmem_t *pm, const void *data, size_t len);

/*
 * LR/SC reservations (RISC-V "A" extension, Zalrsc).
 *
 * The reservation granule is the naturally aligned 8 bytes containing the
 * address (VM_RESERVATION_GRANULE). Each owner (hart id) holds at most one
 * reservation; a new reserve replaces the owner's previous one.
 *
 * An SC by `owner` succeeds iff the owner holds a reservation, the SC's
 * bytes lie inside its granule, and no write reached that granule since the
 * reservation was taken: write_u*, write, write_buf, restore, another
 * owner's successful SC and an A/D update of a PTE all count; MMIO does
 * not (it never touches RAM). Every SC, successful or not, clears its
 * owner's reservation. Reservations and SC are RAM-only.
 *
 * Under real concurrency the check-and-write of an SC is one atomic step
 * against all other writers, so a concurrent plain store is never lost.
 * What "since" means between threads: a write the LR happens-before (C11)
 * always fails the SC, even one that leaves the bytes as they were. A write
 * unordered with the LR fails it if the granule's bytes differ from the
 * LR's at the SC (the SC compares and swaps from them); otherwise it may
 * pass unseen, as if ordered before the LR: a write of the same bytes, or
 * writes that changed them and changed them back (A -> B -> A) - even if
 * a third thread saw B. Seeing those would cost a full fence on every store.
 */
#define VM_RESERVATION_GRANULE 8u

/*
 * Take a reservation for owner on the granule containing pa. Invalid input
 * (size not 1/2/4/8, range not inside RAM or crossing the granule) leaves
 * the owner with no reservation, so a following SC fails. So does a host
 * allocation failure (an owner's first reservation may grow a table).
 */
VM_API void vm_physmem_reserve(vm_physmem_t *pm, vm_gpa_t pa, uint64_t owner, uint8_t size);

/*
 * LR in one call: reserve, then read the value. Errors, checked in this
 * order (no reservation changes on error, the owner keeps any previous one):
 * VM_ERR_INVALID_ARGUMENT (size, NULL val), VM_ERR_ALIGNMENT_FAULT (pa not
 * naturally aligned), VM_ERR_INVALID_ADDRESS (not wholly in RAM: MMIO
 * included, and no device is called), VM_ERR_OUT_OF_MEMORY (the owner's
 * first reservation needs a table slot and the host allocation failed).
 */
VM_API VM_WUR vm_err_t vm_physmem_load_reserved(vm_physmem_t *pm, vm_gpa_t pa, uint8_t size,
                                                uint64_t owner, uint64_t *val);

/* Drop every owner's reservation whose granule overlaps [pa, pa+size). */
VM_API void vm_physmem_invalidate(vm_physmem_t *pm, vm_gpa_t pa, uint8_t size);

/*
 * SC: *stored tells whether the value was written. Errors, checked in the
 * order listed (state unchanged
 * apart from the owner's reservation being cleared on every path past
 * argument checks): VM_ERR_INVALID_ARGUMENT (size, NULL stored),
 * VM_ERR_ALIGNMENT_FAULT (pa not naturally aligned),
 * VM_ERR_INVALID_ADDRESS (not RAM).
 */
VM_API VM_WUR vm_err_t vm_physmem_store_conditional(vm_physmem_t *pm, vm_gpa_t pa, uint64_t val,
                                                    uint8_t size, uint64_t owner, bool *stored);

/*
 * Map a device at [base, base+size). The ops struct is copied; opaque is
 * owned by the region from now on (destroy(opaque) runs at vm_physmem_free).
 * Errors: VM_ERR_INVALID_ARGUMENT (size 0, NULL ops/read/write, base+size
 * exceeds 2^64 - 1: a region can not include the very last byte of the
 * address space), VM_ERR_MMIO (overlaps RAM or another region; merely
 * adjacent is fine),
 * VM_ERR_OUT_OF_MEMORY. On error nothing is mapped and destroy is not called.
 */
VM_API VM_WUR vm_err_t vm_physmem_map_mmio(vm_physmem_t *pm, vm_gpa_t base, uint64_t size,
                                           const vm_mmio_ops_t *ops, void *opaque);

/* Call poll(opaque) of every device that has one, in mapping order. */
VM_API void vm_physmem_poll_devices(vm_physmem_t *pm);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_PHYSMEM_H */
