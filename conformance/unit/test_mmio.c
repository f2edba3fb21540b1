/*
 * test_mmio.c - MMIO regions: mapping rules, access routing, device
 * callbacks (offset, size, value truncation, error propagation), poll and
 * destroy, and DMA from inside a callback.
 *
 * Routing rules under test (physmem.h / physmem_int.h): wholly in RAM ->
 * RAM; wholly inside one region and naturally aligned -> the device; touches
 * a region but straddles its edge or is misaligned -> VM_ERR_MMIO without
 * calling the device; anything else -> VM_ERR_INVALID_ADDRESS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/mmu.h"
#include "vmmem/mmu_inline.h"
#include "vmmem/physmem.h"
#include "../../core/src/physmem_int.h"

#define RAM_1M ((uint64_t)1024 * 1024)
#define UART_BASE 0x10000000ULL

/* ---- the seed's UartDevice -------------------------------------------- */

/* read: offset 0 -> rx_data, else 0. write: offset 0 -> tx_data = (u8)value. */
struct uart {
    uint8_t tx_data, rx_data;
    int reads, writes;
};

static vm_err_t uart_read(void *opaque, uint64_t offset, uint8_t size, uint64_t *val)
{
    struct uart *u = opaque;
    (void)size;
    u->reads++;
    *val = offset == 0 ? u->rx_data : 0;
    return VM_OK;
}

static vm_err_t uart_write(void *opaque, uint64_t offset, uint64_t val, uint8_t size)
{
    struct uart *u = opaque;
    (void)size;
    u->writes++;
    if (offset == 0)
        u->tx_data = (uint8_t)val;
    return VM_OK;
}

static const vm_mmio_ops_t uart_ops = {uart_read, uart_write, NULL, NULL};

/* ---- a recording device ------------------------------------------------ */

struct recdev {
    int reads, writes, polls, destroys;
    uint64_t last_off, last_val;
    uint8_t last_size;
    uint64_t read_value;   /* what read returns (possibly wider than size) */
    vm_err_t fail_with;    /* returned by read and write when non-zero */
    int id;
    int *poll_log, *poll_log_len; /* shared poll-order log */
};

static vm_err_t rec_read(void *opaque, uint64_t offset, uint8_t size, uint64_t *val)
{
    struct recdev *d = opaque;
    d->reads++;
    d->last_off = offset;
    d->last_size = size;
    if (d->fail_with)
        return d->fail_with;
    *val = d->read_value;
    return VM_OK;
}

static vm_err_t rec_write(void *opaque, uint64_t offset, uint64_t val, uint8_t size)
{
    struct recdev *d = opaque;
    d->writes++;
    d->last_off = offset;
    d->last_val = val;
    d->last_size = size;
    return d->fail_with;
}

static void rec_poll(void *opaque)
{
    struct recdev *d = opaque;
    d->polls++;
    if (d->poll_log)
        d->poll_log[(*d->poll_log_len)++] = d->id;
}

static void rec_destroy(void *opaque)
{
    struct recdev *d = opaque;
    d->destroys++;
}

static const vm_mmio_ops_t rec_ops = {rec_read, rec_write, rec_poll, rec_destroy};

static int total_calls(const struct recdev *d)
{
    return d->reads + d->writes;
}

/* ---- tests --------------------------------------------------------------- */

/* Seed: UART at 0x1000_0000 (size 0x1000) in a 1 MiB machine. */
static void test_mmio_seed_uart(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    struct uart u = {.tx_data = 0, .rx_data = 0};
    uint8_t b = 0xff;
    uint32_t w = 0xffffffff;

    assert_int_equal(vm_physmem_map_mmio(pm, UART_BASE, 0x1000, &uart_ops, &u), VM_OK);
    assert_int_equal(vm_physmem_write_u8(pm, UART_BASE, 'A'), VM_OK);
    assert_int_equal(u.tx_data, 'A');
    assert_int_equal(vm_physmem_write_u8(pm, UART_BASE + 4, 'B'), VM_OK); /* ignored */
    assert_int_equal(u.tx_data, 'A');
    u.rx_data = 0x5a;
    assert_int_equal(vm_physmem_read_u8(pm, UART_BASE, &b), VM_OK);
    assert_int_equal(b, 0x5a);
    assert_int_equal(vm_physmem_read_u32(pm, UART_BASE + 0x10, &w), VM_OK);
    assert_int_equal(w, 0);
    assert_int_equal(u.reads, 2);
    assert_int_equal(u.writes, 2);
    /* MMIO never goes through RAM: RAM is still zero, and bulk transfers
     * (RAM only) refuse the device range. */
    uint8_t buf[4];
    assert_int_equal(vm_physmem_read_buf(pm, UART_BASE, buf, 1), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_buf(pm, UART_BASE, buf, 1), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(u.reads + u.writes, 4);
    vm_physmem_free(pm);
}

/* Offsets, sizes, zero-extension of reads and truncation of writes. */
static void test_mmio_offset_size_and_truncation(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    struct recdev d = {.read_value = 0x1122334455667788ULL};
    uint8_t b;
    uint16_t h;
    uint32_t w;
    uint64_t v;

    assert_int_equal(vm_physmem_map_mmio(pm, 0x40000000, 0x100, &rec_ops, &d), VM_OK);
    assert_int_equal(vm_physmem_read_u8(pm, 0x40000003, &b), VM_OK);
    assert_int_equal(b, 0x88);
    assert_int_equal(d.last_off, 3);
    assert_int_equal(d.last_size, 1);
    assert_int_equal(vm_physmem_read_u16(pm, 0x40000002, &h), VM_OK);
    assert_int_equal(h, 0x7788);
    assert_int_equal(d.last_size, 2);
    assert_int_equal(vm_physmem_read_u32(pm, 0x400000fc, &w), VM_OK); /* last word */
    assert_int_equal(w, 0x55667788);
    assert_int_equal(d.last_off, 0xfc);
    assert_int_equal(vm_physmem_read_u64(pm, 0x400000f8, &v), VM_OK);
    assert_int_equal(v, 0x1122334455667788ULL);
    assert_int_equal(d.last_size, 8);
    /* The MemoryAccess form zero-extends to size. */
    assert_int_equal(vm_physmem_read(pm, 0x40000010, 2, &v), VM_OK);
    assert_int_equal(v, 0x7788);
    /* Writes are truncated to size before the device sees them. */
    assert_int_equal(vm_physmem_write(pm, 0x40000020, 0xffffffffffff1234ULL, 2), VM_OK);
    assert_int_equal(d.last_val, 0x1234);
    assert_int_equal(d.last_size, 2);
    assert_int_equal(d.last_off, 0x20);
    assert_int_equal(vm_physmem_write_u32(pm, 0x40000024, 0xcafef00d), VM_OK);
    assert_int_equal(d.last_val, 0xcafef00d);
    assert_int_equal(d.last_size, 4);
    assert_int_equal(vm_physmem_write_u64(pm, 0x40000028, UINT64_MAX), VM_OK);
    assert_int_equal(d.last_val, UINT64_MAX);
    assert_int_equal(vm_physmem_write_u8(pm, 0x400000ff, 0x7f), VM_OK); /* last byte */
    assert_int_equal(d.last_val, 0x7f);
    assert_int_equal(d.last_off, 0xff);
    assert_int_equal(physmem_is_mmio(pm, 0x40000000, 0x100), true);
    assert_int_equal(physmem_is_mmio(pm, 0x400000f8, 8), true);
    assert_int_equal(physmem_is_mmio(pm, 0x400000fc, 8), false);
    assert_int_equal(physmem_is_mmio(pm, 0x3ffffffc, 8), false);
    assert_int_equal(physmem_is_mmio(pm, 0x1000, 8), false); /* RAM */
    assert_int_equal(physmem_is_mmio(pm, UINT64_MAX, 2), false);
    vm_physmem_free(pm);
}

/*
 * The same truncation for stores that reach a device through the MMU
 * (vm_mmu_write, the inline accessor, vm_mmu_write_phys), which do not
 * pass through vm_physmem_write's own masking: the device sees exactly
 * `size` bytes of the value (physmem.h: "truncated to size on write").
 */
static void test_mmio_truncation_through_mmu(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(RAM_1M, false);
    struct recdev d = {.read_value = 0x1122334455667788ULL};
    uint64_t v;

    assert_non_null(mmu);
    assert_int_equal(vm_mmu_map_mmio(mmu, 0x40000000, 0x100, &rec_ops, &d), VM_OK);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_BARE);
    assert_int_equal(vm_mmu_write(mmu, 0x40000010, 0xffffffffffff1234ULL, 2), VM_OK);
    assert_int_equal(d.last_val, 0x1234);
    assert_int_equal(d.last_size, 2);
    assert_int_equal(vm_mmu_write(mmu, 0x40000014, 0xaaaaaaaa55667788ULL, 4), VM_OK);
    assert_int_equal(d.last_val, 0x55667788);
    assert_int_equal(vm_mmu_write(mmu, 0x40000017, 0x1ff, 1), VM_OK);
    assert_int_equal(d.last_val, 0xff);
    assert_int_equal(d.last_off, 0x17);
    assert_int_equal(vm_mmu_write_inline(mmu, 0x40000018, 0x123456789abcdef0ULL, 4), VM_OK);
    assert_int_equal(d.last_val, 0x9abcdef0);
    assert_int_equal(vm_mmu_write_phys(mmu, 0x4000001c, 0xffffffff00000001ULL, 2), VM_OK);
    assert_int_equal(d.last_val, 0x0001);
    assert_int_equal(vm_mmu_write(mmu, 0x40000020, UINT64_MAX, 8), VM_OK);
    assert_int_equal(d.last_val, UINT64_MAX);
    /* Reads come back zero-extended to size. */
    assert_int_equal(vm_mmu_read(mmu, 0x40000002, 2, &v), VM_OK);
    assert_int_equal(v, 0x7788);
    assert_int_equal(vm_mmu_read(mmu, 0x40000004, 4, &v), VM_OK);
    assert_int_equal(v, 0x55667788);
    assert_int_equal(d.writes, 6);
    vm_mmu_free(mmu);
}

static void test_mmio_overlap_rules(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    struct recdev d[8];
    const uint64_t B = 0x20000000, SZ = 0x1000;

    memset(d, 0, sizeof(d));
    /* Overlapping RAM: starting at 0, inside, at the last RAM byte. */
    assert_int_equal(vm_physmem_map_mmio(pm, 0, SZ, &rec_ops, &d[7]), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_map_mmio(pm, 0x8000, SZ, &rec_ops, &d[7]), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_map_mmio(pm, RAM_1M - 1, SZ, &rec_ops, &d[7]), VM_ERR_MMIO);
    /* Right after RAM is fine (adjacent, not overlapping). */
    assert_int_equal(vm_physmem_map_mmio(pm, RAM_1M, SZ, &rec_ops, &d[0]), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(pm, B, SZ, &rec_ops, &d[1]), VM_OK);
    /* Overlapping another region: same base, inside, across its start,
     * across its end, containing it, one byte each side. */
    const struct { uint64_t base, size; } bad[] = {
        {B, SZ}, {B + 0x10, 0x10}, {B - 0x10, 0x20}, {B + SZ - 1, 0x10},
        {B - 0x100, SZ + 0x200}, {B - 1, 2}, {B + SZ - 1, 1}, {RAM_1M + SZ - 1, 1}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(vm_physmem_map_mmio(pm, bad[i].base, bad[i].size, &rec_ops, &d[7]),
                         VM_ERR_MMIO);
    /* Adjacent on both sides is fine. */
    assert_int_equal(vm_physmem_map_mmio(pm, B + SZ, SZ, &rec_ops, &d[2]), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(pm, B - 1, 1, &rec_ops, &d[3]), VM_OK);
    /* Size 0, overflow of base + size (a region may not end at 2^64). */
    assert_int_equal(vm_physmem_map_mmio(pm, 0x30000000, 0, &rec_ops, &d[7]),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_map_mmio(pm, UINT64_MAX - 0xfff, 0x1000, &rec_ops, &d[7]),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_map_mmio(pm, UINT64_MAX, 2, &rec_ops, &d[7]),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_map_mmio(pm, 0x30000000, UINT64_MAX, &rec_ops, &d[7]),
                     VM_ERR_INVALID_ARGUMENT);
    /* Ending one byte short of 2^64 is representable. */
    assert_int_equal(vm_physmem_map_mmio(pm, UINT64_MAX - 0x1000, 0x1000, &rec_ops, &d[4]),
                     VM_OK);
    /* NULL ops / read / write. */
    vm_mmio_ops_t no_read = rec_ops, no_write = rec_ops;
    no_read.read = NULL;
    no_write.write = NULL;
    assert_int_equal(vm_physmem_map_mmio(pm, 0x30000000, SZ, NULL, &d[7]),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_map_mmio(pm, 0x30000000, SZ, &no_read, &d[7]),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_map_mmio(pm, 0x30000000, SZ, &no_write, &d[7]),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_map_mmio(NULL, 0x30000000, SZ, &rec_ops, &d[7]),
                     VM_ERR_INVALID_ARGUMENT);
    /* poll and destroy are optional. */
    vm_mmio_ops_t minimal = {rec_read, rec_write, NULL, NULL};
    assert_int_equal(vm_physmem_map_mmio(pm, 0x30000000, SZ, &minimal, &d[5]), VM_OK);
    /* The regions that were accepted are reachable, each its own device. */
    assert_int_equal(vm_physmem_write_u8(pm, RAM_1M, 1), VM_OK);
    assert_int_equal(vm_physmem_write_u8(pm, B + SZ, 1), VM_OK);
    assert_int_equal(vm_physmem_write_u8(pm, B - 1, 1), VM_OK);
    assert_int_equal(vm_physmem_write_u8(pm, UINT64_MAX - 1, 1), VM_OK);
    assert_int_equal(d[4].last_off, 0xfff);
    assert_int_equal(vm_physmem_read_u8(pm, UINT64_MAX, &(uint8_t){0}), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(d[0].writes, 1);
    assert_int_equal(d[2].writes, 1);
    assert_int_equal(d[3].writes, 1);
    assert_int_equal(d[4].writes, 1);
    vm_physmem_free(pm);
    /* destroy ran for each mapped region with a destroy, never for a
     * refused one. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(d[i].destroys, 1);
    assert_int_equal(d[5].destroys, 0);
    assert_int_equal(d[7].destroys, 0);
    assert_int_equal(total_calls(&d[7]), 0);
}

/* Accesses that touch a region but straddle its edge are VM_ERR_MMIO and
 * never reach the device; accesses that touch nothing are INVALID_ADDRESS. */
static void test_mmio_straddling_accesses(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    struct recdev lo = {0}, a = {0}, b = {0};
    const uint64_t A = 0x20000000, SZ = 0x100;
    uint64_t v;

    assert_int_equal(vm_physmem_map_mmio(pm, RAM_1M, SZ, &rec_ops, &lo), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(pm, A, SZ, &rec_ops, &a), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(pm, A + SZ, SZ, &rec_ops, &b), VM_OK);
    /* RAM's last bytes + the region right after RAM. */
    assert_int_equal(vm_physmem_read(pm, RAM_1M - 4, 8, &v), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_write_u16(pm, RAM_1M - 1, 0xffff), VM_ERR_MMIO);
    /* Across the end of A into B (two adjacent regions), aligned or not. */
    assert_int_equal(vm_physmem_read(pm, A + SZ - 4, 8, &v), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_write_u32(pm, A + SZ - 2, 1), VM_ERR_MMIO);
    /* From the hole into A, from B into the hole. */
    assert_int_equal(vm_physmem_read(pm, A - 2, 4, &v), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_read(pm, A + 2 * SZ - 4, 8, &v), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_write_u64(pm, A + 2 * SZ - 4, 1), VM_ERR_MMIO);
    assert_int_equal(total_calls(&lo) + total_calls(&a) + total_calls(&b), 0);
    /* Naturally aligned accesses that still straddle an edge: a 4-byte
     * region read as 8 bytes (from C into D, and from D into the hole) and
     * a region whose size is not a multiple of the access size. */
    struct recdev c = {0}, dd = {0}, e = {0};
    const uint64_t C = 0x30000000;
    assert_int_equal(vm_physmem_map_mmio(pm, C, 4, &rec_ops, &c), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(pm, C + 4, 4, &rec_ops, &dd), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(pm, C + 0x1000, 0x102, &rec_ops, &e), VM_OK);
    assert_int_equal(vm_physmem_read(pm, C, 8, &v), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_write_u64(pm, C, 1), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_read(pm, C + 8, 8, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read(pm, C + 0x1100, 4, &v), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_write_u32(pm, C + 0x1100, 1), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_read(pm, C + 0x1100, 8, &v), VM_ERR_MMIO);
    assert_int_equal(total_calls(&c) + total_calls(&dd) + total_calls(&e), 0);
    assert_int_equal(vm_physmem_read(pm, C + 0x1100, 2, &v), VM_OK); /* wholly inside */
    assert_int_equal(vm_physmem_read(pm, C + 4, 4, &v), VM_OK);
    assert_int_equal(e.reads, 1);
    assert_int_equal(dd.reads, 1);
    /* Nothing there at all. */
    assert_int_equal(vm_physmem_read(pm, A - 8, 8, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read(pm, A + 2 * SZ, 1, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_u8(pm, 0x38000000, 1), VM_ERR_INVALID_ADDRESS);
    /* Without a region after RAM, an access straddling RAM's end touches
     * no region: INVALID_ADDRESS, not MMIO. */
    vm_physmem_t *pm2 = vm_physmem_new(RAM_1M, false);
    assert_int_equal(vm_physmem_read(pm2, RAM_1M - 4, 8, &v), VM_ERR_INVALID_ADDRESS);
    vm_physmem_free(pm2);
    /* Wholly inside: reaches the device. */
    assert_int_equal(vm_physmem_read(pm, A + SZ - 8, 8, &v), VM_OK);
    assert_int_equal(a.reads, 1);
    assert_int_equal(b.reads, 0);
    vm_physmem_free(pm);
}

static void test_mmio_misaligned_access_refused(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    struct recdev d = {0};
    const uint64_t A = 0x20000000;
    uint64_t v;
    uint32_t w;

    assert_int_equal(vm_physmem_map_mmio(pm, A, 0x1000, &rec_ops, &d), VM_OK);
    assert_int_equal(vm_physmem_read_u16(pm, A + 1, &(uint16_t){0}), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_read_u32(pm, A + 2, &w), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_read_u64(pm, A + 4, &v), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_write_u32(pm, A + 6, 1), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_write(pm, A + 3, 1, 8), VM_ERR_MMIO);
    assert_int_equal(total_calls(&d), 0);
    /* Byte accesses are always aligned. */
    assert_int_equal(vm_physmem_read_u8(pm, A + 7, &(uint8_t){0}), VM_OK);
    assert_int_equal(d.reads, 1);
    vm_physmem_free(pm);
}

/* A device's error reaches the caller unchanged; a failed read leaves *out
 * untouched. */
static void test_mmio_device_error_propagates(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    struct recdev d = {.fail_with = VM_ERR_ACCESS_FAULT, .read_value = 7};
    const uint64_t A = 0x20000000;
    uint32_t w = 0xabcdef01;
    uint64_t v = 42;

    assert_int_equal(vm_physmem_map_mmio(pm, A, 0x1000, &rec_ops, &d), VM_OK);
    assert_int_equal(vm_physmem_read_u32(pm, A, &w), VM_ERR_ACCESS_FAULT);
    assert_int_equal(w, 0xabcdef01);
    assert_int_equal(vm_physmem_read(pm, A, 8, &v), VM_ERR_ACCESS_FAULT);
    assert_int_equal(v, 42);
    assert_int_equal(vm_physmem_write_u64(pm, A, 1), VM_ERR_ACCESS_FAULT);
    d.fail_with = VM_ERR_UNSUPPORTED;
    assert_int_equal(vm_physmem_write(pm, A + 8, 1, 1), VM_ERR_UNSUPPORTED);
    assert_int_equal(physmem_access_slow(pm, A + 8, 8, &v, false), VM_ERR_UNSUPPORTED);
    assert_int_equal(d.reads, 3);
    assert_int_equal(d.writes, 2);
    vm_physmem_free(pm);
}

static void test_mmio_poll_order_and_destroy(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    int log[16], n = 0;
    struct recdev d[4];
    vm_mmio_ops_t no_poll = rec_ops;
    no_poll.poll = NULL;
    /* Mapped in the order 2, 0, 3, 1 at descending addresses: poll follows
     * mapping order, not address order. */
    const int order[4] = {2, 0, 3, 1};

    memset(d, 0, sizeof(d));
    for (int i = 0; i < 4; i++) {
        d[i].id = i;
        d[i].poll_log = log;
        d[i].poll_log_len = &n;
    }
    for (int k = 0; k < 4; k++) {
        int i = order[k];
        const vm_mmio_ops_t *ops = i == 3 ? &no_poll : &rec_ops;
        assert_int_equal(vm_physmem_map_mmio(pm, 0x50000000 - (uint64_t)k * 0x1000, 0x1000, ops,
                                             &d[i]),
                         VM_OK);
    }
    vm_physmem_poll_devices(pm);
    assert_int_equal(n, 3);
    assert_int_equal(log[0], 2);
    assert_int_equal(log[1], 0);
    assert_int_equal(log[2], 1);
    vm_physmem_poll_devices(pm);
    assert_int_equal(n, 6);
    assert_int_equal(d[3].polls, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(d[i].destroys, 0);
    vm_physmem_poll_devices(NULL);
    vm_physmem_free(pm);
    for (int i = 0; i < 4; i++)
        assert_int_equal(d[i].destroys, 1);
}

/* ---- DMA from inside a callback ------------------------------------- */

/* A device with a doorbell at offset 0: writing N copies N bytes from RAM
 * 0x1000 to RAM 0x2000 (read_buf + write_buf), then stamps u32 N at 0x3000;
 * reading offset 8 returns RAM's u64 at 0x3000. Also maps a second device
 * from inside the callback (map_mmio must not hold a lock during calls). */
struct dma_dev {
    vm_physmem_t *pm;
    vm_err_t last_err;
    struct recdev child;
    bool mapped_child;
};

static vm_err_t dma_read(void *opaque, uint64_t offset, uint8_t size, uint64_t *val)
{
    struct dma_dev *d = opaque;
    (void)size;
    if (offset != 8)
        return VM_ERR_MMIO;
    return vm_physmem_read_u64(d->pm, 0x3000, val);
}

static vm_err_t dma_write(void *opaque, uint64_t offset, uint64_t val, uint8_t size)
{
    struct dma_dev *d = opaque;
    uint8_t buf[64];
    vm_err_t err;

    (void)size;
    if (offset != 0 || val > sizeof(buf))
        return VM_ERR_MMIO;
    err = vm_physmem_read_buf(d->pm, 0x1000, buf, val);
    if (!err)
        err = vm_physmem_write_buf(d->pm, 0x2000, buf, val);
    if (!err)
        err = vm_physmem_write_u32(d->pm, 0x3000, (uint32_t)val);
    if (!err && !d->mapped_child) {
        err = vm_physmem_map_mmio(d->pm, 0x60000000, 0x1000, &rec_ops, &d->child);
        d->mapped_child = err == VM_OK;
    }
    d->last_err = err;
    return err;
}

static void test_mmio_dma_from_callback(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    struct dma_dev d = {.pm = pm};
    const vm_mmio_ops_t ops = {dma_read, dma_write, NULL, NULL};
    uint64_t v = 0;
    bool stored = true;

    for (unsigned i = 0; i < 32; i++)
        assert_int_equal(vm_physmem_write_u8(pm, 0x1000 + i, (uint8_t)(0xc0 + i)), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(pm, 0x50000000, 0x100, &ops, &d), VM_OK);
    /* A hart reserves the stamp's granule; the device's DMA write must
     * break it (Zalrsc: a device write to the reserved bytes fails the SC). */
    assert_int_equal(vm_physmem_load_reserved(pm, 0x3000, 4, 1, &v), VM_OK);
    assert_int_equal(vm_physmem_write_u32(pm, 0x50000000, 32), VM_OK);
    assert_int_equal(d.last_err, VM_OK);
    for (unsigned i = 0; i < 32; i++) {
        uint8_t b;
        assert_int_equal(vm_physmem_read_u8(pm, 0x2000 + i, &b), VM_OK);
        assert_int_equal(b, 0xc0 + i);
    }
    assert_int_equal(vm_physmem_read_u64(pm, 0x50000008, &v), VM_OK);
    assert_int_equal(v, 32);
    assert_int_equal(vm_physmem_store_conditional(pm, 0x3000, 99, 4, 1, &stored), VM_OK);
    assert_false(stored);
    /* The device mapped a child from its callback; it is live. */
    assert_true(d.mapped_child);
    assert_int_equal(vm_physmem_write_u8(pm, 0x60000004, 1), VM_OK);
    assert_int_equal(d.child.writes, 1);
    vm_physmem_free(pm);
    assert_int_equal(d.child.destroys, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmio_seed_uart),
        cmocka_unit_test(test_mmio_offset_size_and_truncation),
        cmocka_unit_test(test_mmio_truncation_through_mmu),
        cmocka_unit_test(test_mmio_overlap_rules),
        cmocka_unit_test(test_mmio_straddling_accesses),
        cmocka_unit_test(test_mmio_misaligned_access_refused),
        cmocka_unit_test(test_mmio_device_error_propagates),
        cmocka_unit_test(test_mmio_poll_order_and_destroy),
        cmocka_unit_test(test_mmio_dma_from_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
