/*
 * test_physmem.c - guest RAM: creation, scalar access, byte order,
 * boundaries, bulk transfers, dump/restore, vm_strerror, and the internal
 * PTE compare-and-swap.
 *
 * Expected values come from the contract in vmmem/physmem.h (little-endian,
 * RAM at [0, size), no partial writes, no address wrap), never from running
 * the implementation.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_barrier_t, sched_yield */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "vmmem/physmem.h"
#include "../../core/src/physmem_int.h"

#define MIB (1024u * 1024u)
#define RAM_1M ((uint64_t)MIB)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fill [addr, addr+len) with a position-dependent pattern through write_u8. */
static void fill_pattern(vm_physmem_t *pm, uint64_t addr, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        assert_int_equal(vm_physmem_write_u8(pm, addr + i, (uint8_t)(seed + i * 7)), VM_OK);
}

static void check_pattern(vm_physmem_t *pm, uint64_t addr, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t b = 0;
        assert_int_equal(vm_physmem_read_u8(pm, addr + i, &b), VM_OK);
        assert_int_equal(b, (uint8_t)(seed + i * 7));
    }
}

/* ---- creation -------------------------------------------------------- */

/* Seed: PhysicalMemory::new(128 * 1024 * 1024, false). */
static void test_physmem_new_128mib(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(128 * (size_t)MIB, false);
    uint64_t v = 1;

    assert_non_null(pm);
    assert_int_equal(vm_physmem_size(pm), 128 * (size_t)MIB);
    assert_int_equal(vm_physmem_hugepages(pm), VM_HUGEPAGES_NONE); /* not asked */
    /* Zeroed on creation (physmem.h), first and last word. */
    assert_int_equal(vm_physmem_read_u64(pm, 0, &v), VM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(vm_physmem_read_u64(pm, 128 * (uint64_t)MIB - 8, &v), VM_OK);
    assert_int_equal(v, 0);
    assert_int_equal(vm_physmem_write_u64(pm, 64 * (uint64_t)MIB, 0x0123456789abcdefULL), VM_OK);
    assert_int_equal(vm_physmem_read_u64(pm, 64 * (uint64_t)MIB, &v), VM_OK);
    assert_int_equal(v, 0x0123456789abcdefULL);
    vm_physmem_free(pm);
}

/* Seed: PhysicalMemory::new(1024 * 1024 * 1024, true). Lazily reserved, so
 * creation must be quick whatever backing the host grants. */
static void test_physmem_new_1gib_hugepages(void **state)
{
    (void)state;
    const uint64_t size = 1024 * (uint64_t)MIB;
    double t0 = now_seconds();
    vm_physmem_t *pm = vm_physmem_new((size_t)size, true);
    double dt = now_seconds() - t0;
    vm_hugepage_mode_t mode;
    uint64_t v = 0;

    assert_non_null(pm);
    assert_true(dt < 2.0);
    assert_int_equal(vm_physmem_size(pm), (size_t)size);
    mode = vm_physmem_hugepages(pm);
    assert_true(mode == VM_HUGEPAGES_NONE || mode == VM_HUGEPAGES_MADVISE ||
                mode == VM_HUGEPAGES_HUGETLB);
    /* The memory works at the start, in the middle (a 2 MiB boundary) and
     * at the very end. */
    const uint64_t addrs[] = {0, 2 * (uint64_t)MIB - 4, 512 * (uint64_t)MIB, size - 8};
    for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
        assert_int_equal(vm_physmem_write_u64(pm, addrs[i], 0xfeedface00000000ULL + i), VM_OK);
        assert_int_equal(vm_physmem_read_u64(pm, addrs[i], &v), VM_OK);
        assert_int_equal(v, 0xfeedface00000000ULL + i);
    }
    assert_int_equal(vm_physmem_read_u8(pm, size, &(uint8_t){0}), VM_ERR_INVALID_ADDRESS);
    vm_physmem_free(pm);
}

static void test_physmem_new_bad_size_fails(void **state)
{
    (void)state;
    assert_null(vm_physmem_new(0, false));
    assert_null(vm_physmem_new(0, true));
    /* More than any host address space: refused, not wrapped by rounding. */
    assert_null(vm_physmem_new(SIZE_MAX, false));
    assert_null(vm_physmem_new(SIZE_MAX, true));
    assert_null(vm_physmem_new(SIZE_MAX - 4095, true));
}

static void test_physmem_free_null_is_noop(void **state)
{
    (void)state;
    vm_physmem_free(NULL);
    assert_int_equal(vm_physmem_size(NULL), 0);
    assert_int_equal(vm_physmem_hugepages(NULL), VM_HUGEPAGES_NONE);
}

/* RAM of a size that is not a multiple of 8: exactly [0, 13) is RAM. */
static void test_physmem_odd_size(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(13, false);
    uint32_t v32 = 0;
    uint64_t v64 = 0;

    assert_non_null(pm);
    assert_int_equal(vm_physmem_size(pm), 13);
    assert_int_equal(vm_physmem_write_u32(pm, 9, 0xa1b2c3d4), VM_OK); /* bytes 9..12 */
    assert_int_equal(vm_physmem_read_u32(pm, 9, &v32), VM_OK);
    assert_int_equal(v32, 0xa1b2c3d4);
    assert_int_equal(vm_physmem_read_u32(pm, 10, &v32), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_u64(pm, 8, &v64), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_u64(pm, 8, 1), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_u8(pm, 12, &(uint8_t){0}), VM_OK);
    assert_int_equal(vm_physmem_read_u8(pm, 13, &(uint8_t){0}), VM_ERR_INVALID_ADDRESS);
    vm_physmem_free(pm);
}

static void test_physmem_null_arguments(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    uint8_t b;
    uint64_t v;

    assert_int_equal(vm_physmem_read_u8(pm, 0, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_read_u16(pm, 0, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_read_u32(pm, 0, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_read_u64(pm, 0, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_read(pm, 0, 4, NULL), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_read_u8(NULL, 0, &b), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_write_u64(NULL, 0, 1), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_read(NULL, 0, 8, &v), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_write(NULL, 0, 1, 8), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_read_buf(NULL, 0, &b, 1), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_write_buf(NULL, 0, &b, 1), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_dump(NULL, &b, 1), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_restore(NULL, &b, 1), VM_ERR_INVALID_ARGUMENT);
    vm_physmem_free(pm);
}

/* ---- byte order ---------------------------------------------------------- */

/* physmem.h: "Byte order is little-endian": byte i of an N-byte value at
 * addr is bits 8i..8i+7 and lives at addr + i. */
static void test_physmem_little_endian_layout(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    const uint64_t v = 0x8877665544332211ULL;
    uint8_t b;

    assert_int_equal(vm_physmem_write_u16(pm, 0x100, (uint16_t)v), VM_OK);
    assert_int_equal(vm_physmem_write_u32(pm, 0x200, (uint32_t)v), VM_OK);
    assert_int_equal(vm_physmem_write_u64(pm, 0x300, v), VM_OK);
    assert_int_equal(vm_physmem_write_u8(pm, 0x400, (uint8_t)v), VM_OK);
    const struct { uint64_t addr; unsigned n; } cases[] = {
        {0x100, 2}, {0x200, 4}, {0x300, 8}, {0x400, 1}};
    for (size_t c = 0; c < 4; c++) {
        for (unsigned i = 0; i < 8; i++) {
            assert_int_equal(vm_physmem_read_u8(pm, cases[c].addr + i, &b), VM_OK);
            assert_int_equal(b, i < cases[c].n ? (uint8_t)(v >> (8 * i)) : 0);
        }
    }
    /* And the other way: bytes written one by one read back as LE words. */
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(vm_physmem_write_u8(pm, 0x500 + i, (uint8_t)(0xa0 + i)), VM_OK);
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    assert_int_equal(vm_physmem_read_u16(pm, 0x500, &v16), VM_OK);
    assert_int_equal(v16, 0xa1a0);
    assert_int_equal(vm_physmem_read_u32(pm, 0x504, &v32), VM_OK);
    assert_int_equal(v32, 0xa7a6a5a4);
    assert_int_equal(vm_physmem_read_u64(pm, 0x500, &v64), VM_OK);
    assert_int_equal(v64, 0xa7a6a5a4a3a2a1a0ULL);
    /* The MemoryAccess form agrees. */
    assert_int_equal(vm_physmem_read(pm, 0x502, 2, &v64), VM_OK);
    assert_int_equal(v64, 0xa3a2);
    vm_physmem_free(pm);
}

/* Misaligned scalar accesses to RAM are allowed (byte-wise), LE too, also
 * across an 8-byte and a 4 KiB boundary. */
static void test_physmem_misaligned_ram_access(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    uint64_t v64 = 0;
    uint32_t v32 = 0;
    uint16_t v16 = 0;
    uint8_t b;

    assert_int_equal(vm_physmem_write_u64(pm, 0x0ffd, 0x1122334455667788ULL), VM_OK);
    assert_int_equal(vm_physmem_read_u64(pm, 0x0ffd, &v64), VM_OK);
    assert_int_equal(v64, 0x1122334455667788ULL);
    for (unsigned i = 0; i < 8; i++) {
        assert_int_equal(vm_physmem_read_u8(pm, 0x0ffd + i, &b), VM_OK);
        assert_int_equal(b, (uint8_t)(0x1122334455667788ULL >> (8 * i)));
    }
    assert_int_equal(vm_physmem_read_u8(pm, 0x0ffc, &b), VM_OK);
    assert_int_equal(b, 0);
    assert_int_equal(vm_physmem_read_u8(pm, 0x1005, &b), VM_OK);
    assert_int_equal(b, 0);
    assert_int_equal(vm_physmem_write_u32(pm, 0x2003, 0xdeadbeef), VM_OK);
    assert_int_equal(vm_physmem_read_u32(pm, 0x2003, &v32), VM_OK);
    assert_int_equal(v32, 0xdeadbeef);
    assert_int_equal(vm_physmem_write_u16(pm, 0x3007, 0xcafe), VM_OK);
    assert_int_equal(vm_physmem_read_u16(pm, 0x3007, &v16), VM_OK);
    assert_int_equal(v16, 0xcafe);
    assert_int_equal(vm_physmem_read_u8(pm, 0x3008, &b), VM_OK);
    assert_int_equal(b, 0xca);
    vm_physmem_free(pm);
}

/* ---- boundaries ------------------------------------------------------ */

/* A failing write must leave the last 16 bytes of RAM as they were. */
static void check_tail_unchanged(vm_physmem_t *pm)
{
    check_pattern(pm, RAM_1M - 16, 16, 0x31);
}

static void test_physmem_boundaries(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    const uint64_t S = RAM_1M;
    uint8_t b;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;

    fill_pattern(pm, S - 16, 16, 0x31);
    /* Last valid byte / halfword / word / doubleword. */
    assert_int_equal(vm_physmem_read_u8(pm, S - 1, &b), VM_OK);
    assert_int_equal(b, (uint8_t)(0x31 + 15 * 7));
    assert_int_equal(vm_physmem_read_u16(pm, S - 2, &v16), VM_OK);
    assert_int_equal(vm_physmem_read_u32(pm, S - 4, &v32), VM_OK);
    assert_int_equal(vm_physmem_read_u64(pm, S - 8, &v64), VM_OK);
    /* One past the end. */
    assert_int_equal(vm_physmem_read_u8(pm, S, &b), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_u8(pm, S, 0), VM_ERR_INVALID_ADDRESS);
    /* Straddling the end (aligned and misaligned). */
    assert_int_equal(vm_physmem_read_u16(pm, S - 1, &v16), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_u32(pm, S - 2, &v32), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_u64(pm, S - 4, &v64), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_u64(pm, S - 7, &v64), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_u16(pm, S - 1, 0xffff), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_u32(pm, S - 2, 0xffffffff), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_u64(pm, S - 4, UINT64_MAX), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_u64(pm, S - 7, UINT64_MAX), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write(pm, S - 1, UINT64_MAX, 8), VM_ERR_INVALID_ADDRESS);
    check_tail_unchanged(pm);
    /* Near 2^64: pa + size would wrap; never aliases low RAM. */
    const uint64_t high[] = {UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 3, UINT64_MAX - 7,
                             UINT64_MAX - 6, (uint64_t)1 << 63, S + 1};
    for (size_t i = 0; i < sizeof(high) / sizeof(high[0]); i++) {
        assert_int_equal(vm_physmem_read_u8(pm, high[i], &b), VM_ERR_INVALID_ADDRESS);
        assert_int_equal(vm_physmem_read_u64(pm, high[i], &v64), VM_ERR_INVALID_ADDRESS);
        assert_int_equal(vm_physmem_write_u64(pm, high[i], 0x5a5a5a5a5a5a5a5aULL),
                         VM_ERR_INVALID_ADDRESS);
        assert_int_equal(vm_physmem_write_u16(pm, high[i], 0x5a5a), VM_ERR_INVALID_ADDRESS);
        assert_int_equal(vm_physmem_write(pm, high[i], 1, 4), VM_ERR_INVALID_ADDRESS);
    }
    /* Nothing at the bottom of RAM was touched by a wrapped write. */
    assert_int_equal(vm_physmem_read_u64(pm, 0, &v64), VM_OK);
    assert_int_equal(v64, 0);
    check_tail_unchanged(pm);
    vm_physmem_free(pm);
}

static void test_physmem_bad_sizes(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    const uint8_t bad[] = {0, 3, 5, 6, 7, 9, 16, 255};
    uint64_t v = 0x77;

    fill_pattern(pm, 0x100, 32, 0x10);
    for (size_t i = 0; i < sizeof(bad); i++) {
        assert_int_equal(vm_physmem_read(pm, 0x100, bad[i], &v), VM_ERR_INVALID_ARGUMENT);
        assert_int_equal(v, 0x77); /* out untouched */
        assert_int_equal(vm_physmem_write(pm, 0x100, UINT64_MAX, bad[i]),
                         VM_ERR_INVALID_ARGUMENT);
        /* A bad size is an argument error even where the address is bad too. */
        assert_int_equal(vm_physmem_write(pm, UINT64_MAX, 0, bad[i]), VM_ERR_INVALID_ARGUMENT);
    }
    check_pattern(pm, 0x100, 32, 0x10);
    vm_physmem_free(pm);
}

/* The MemoryAccess form: zero-extended reads, truncated writes. */
static void test_physmem_sized_access_truncates(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    uint64_t v = 0;

    assert_int_equal(vm_physmem_write_u64(pm, 0x40, UINT64_MAX), VM_OK);
    assert_int_equal(vm_physmem_write(pm, 0x40, 0x1122334455667788ULL, 2), VM_OK);
    assert_int_equal(vm_physmem_read(pm, 0x40, 8, &v), VM_OK);
    assert_int_equal(v, 0xffffffffffff7788ULL);
    assert_int_equal(vm_physmem_write(pm, 0x44, 0x1122334455667788ULL, 4), VM_OK);
    assert_int_equal(vm_physmem_read(pm, 0x40, 8, &v), VM_OK);
    assert_int_equal(v, 0x55667788ffff7788ULL);
    assert_int_equal(vm_physmem_write(pm, 0x43, 0xabcd, 1), VM_OK);
    assert_int_equal(vm_physmem_read(pm, 0x40, 8, &v), VM_OK);
    assert_int_equal(v, 0x55667788cdff7788ULL);
    v = UINT64_MAX;
    assert_int_equal(vm_physmem_read(pm, 0x43, 1, &v), VM_OK);
    assert_int_equal(v, 0xcd); /* zero-extended */
    assert_int_equal(vm_physmem_read(pm, 0x44, 4, &v), VM_OK);
    assert_int_equal(v, 0x55667788);
    assert_int_equal(vm_physmem_read(pm, 0x41, 2, &v), VM_OK); /* misaligned */
    assert_int_equal(v, 0xff77);
    vm_physmem_free(pm);
}

/* ---- bulk ------------------------------------------------------------- */

/* Seed: write_bulk of 4096 x 0xAA at 0x1000, read_bulk back. */
static void test_physmem_bulk_seed_roundtrip(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    uint8_t data[4096], buf[4096];
    uint8_t b;

    memset(data, 0xaa, sizeof(data));
    memset(buf, 0, sizeof(buf));
    assert_int_equal(vm_physmem_write_buf(pm, 0x1000, data, sizeof(data)), VM_OK);
    assert_int_equal(vm_physmem_read_buf(pm, 0x1000, buf, sizeof(buf)), VM_OK);
    assert_memory_equal(buf, data, sizeof(data));
    /* Exactly [0x1000, 0x2000) was written. */
    assert_int_equal(vm_physmem_read_u8(pm, 0x0fff, &b), VM_OK);
    assert_int_equal(b, 0);
    assert_int_equal(vm_physmem_read_u8(pm, 0x2000, &b), VM_OK);
    assert_int_equal(b, 0);
    assert_int_equal(vm_physmem_read_u8(pm, 0x1fff, &b), VM_OK);
    assert_int_equal(b, 0xaa);
    vm_physmem_free(pm);
}

/* Bulk transfers across what were the seed's shard boundaries (size/16),
 * with every start/end alignment mod 8, checked byte by byte through the
 * scalar interface. */
static void bulk_across_shards(void)
{
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    const uint64_t shard = RAM_1M / 16;
    uint8_t src[300], dst[300];

    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 13 + 5);
    for (unsigned k = 1; k < 16; k += 7) {
        for (unsigned head = 0; head < 8; head++) {
            for (unsigned tail = 0; tail < 8; tail++) {
                uint64_t addr = k * shard - 128 + head;
                size_t len = 256 + tail - head;
                uint8_t b;

                assert_int_equal(vm_physmem_write_buf(pm, addr, src + head, len), VM_OK);
                for (size_t i = 0; i < len; i++) {
                    assert_int_equal(vm_physmem_read_u8(pm, addr + i, &b), VM_OK);
                    assert_int_equal(b, src[head + i]);
                }
                memset(dst, 0, sizeof(dst));
                assert_int_equal(vm_physmem_read_buf(pm, addr, dst + tail, len), VM_OK);
                assert_memory_equal(dst + tail, src + head, len);
                /* Bytes just outside the range were not written. */
                assert_int_equal(vm_physmem_read_u8(pm, addr - 1, &b), VM_OK);
                assert_int_equal(b, 0);
                assert_int_equal(vm_physmem_read_u8(pm, addr + len, &b), VM_OK);
                assert_int_equal(b, 0);
                /* Clear for the next round. */
                uint8_t zero[300] = {0};
                assert_int_equal(vm_physmem_write_buf(pm, addr, zero, len), VM_OK);
            }
        }
    }
    vm_physmem_free(pm);
}

/* Both paths of each copy (physmem.c, ram_copy_out and ram_copy_in): the
 * 16-byte loads and stores where the host has them (start mod 16 of 0 and
 * 8..15: with and without the word that reaches 16-byte alignment), and
 * the 8-byte ones. */
static void test_physmem_bulk_across_shards(void **state)
{
    (void)state;
    const bool host_wide = physmem_wide_copy;
    bulk_across_shards();
    physmem_wide_copy = false;
    bulk_across_shards();
    physmem_wide_copy = host_wide;
}

static void test_physmem_bulk_boundaries(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    const uint64_t S = RAM_1M;
    uint8_t buf[32];

    fill_pattern(pm, S - 16, 16, 0x31);
    memset(buf, 0xee, sizeof(buf));
    /* len 0 succeeds for any addr <= size, with or without a buffer. */
    assert_int_equal(vm_physmem_read_buf(pm, S, NULL, 0), VM_OK);
    assert_int_equal(vm_physmem_write_buf(pm, S, NULL, 0), VM_OK);
    assert_int_equal(vm_physmem_write_buf(pm, 0, buf, 0), VM_OK);
    /* ... and fails beyond it. */
    assert_int_equal(vm_physmem_read_buf(pm, S + 1, buf, 0), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_buf(pm, UINT64_MAX, buf, 0), VM_ERR_INVALID_ADDRESS);
    /* NULL buffer with a length. */
    assert_int_equal(vm_physmem_read_buf(pm, 0, NULL, 1), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_write_buf(pm, 0, NULL, 1), VM_ERR_INVALID_ARGUMENT);
    /* Ending exactly at the end is fine. */
    assert_int_equal(vm_physmem_read_buf(pm, S - 16, buf, 16), VM_OK);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(buf[i], (uint8_t)(0x31 + i * 7));
    /* One byte too far: refused, and not partially written. */
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(vm_physmem_write_buf(pm, S - 16, buf, 17), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_buf(pm, S - 1, buf, 2), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_buf(pm, S, buf, 1), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_buf(pm, S - 16, buf, 17), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(buf[0], 0xee); /* nothing transferred */
    check_tail_unchanged(pm);
    /* addr + len overflowing 2^64 is an error, never a wrap to low RAM. */
    assert_int_equal(vm_physmem_write_buf(pm, UINT64_MAX - 3, buf, 8), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_buf(pm, UINT64_MAX - 3, buf, 8), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_buf(pm, 2, buf, SIZE_MAX), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_write_buf(pm, 8, buf, SIZE_MAX - 3), VM_ERR_INVALID_ADDRESS);
    uint64_t v;
    assert_int_equal(vm_physmem_read_u64(pm, 0, &v), VM_OK);
    assert_int_equal(v, 0);
    vm_physmem_free(pm);
}

/* ---- dump / restore ---------------------------------------------------- */

static void test_physmem_dump_restore_roundtrip(void **state)
{
    (void)state;
    const size_t S = 64 * 1024 + 5; /* not a multiple of 8 */
    vm_physmem_t *pm = vm_physmem_new(S, false);
    uint8_t *snap = malloc(S), *again = malloc(S);

    assert_non_null(snap);
    assert_non_null(again);
    fill_pattern(pm, 0, 64, 0x01);
    fill_pattern(pm, S - 21, 21, 0x02);
    assert_int_equal(vm_physmem_write_u64(pm, 0x8000, 0x0102030405060708ULL), VM_OK);
    assert_int_equal(vm_physmem_dump(pm, snap, S), VM_OK);
    assert_int_equal(snap[0x8000], 0x08); /* LE */
    assert_int_equal(snap[0x8007], 0x01);
    assert_int_equal(snap[S - 1], (uint8_t)(0x02 + 20 * 7));
    /* Scribble, then restore. */
    memset(again, 0x99, S);
    assert_int_equal(vm_physmem_write_buf(pm, 0, again, S), VM_OK);
    assert_int_equal(vm_physmem_restore(pm, snap, S), VM_OK);
    check_pattern(pm, 0, 64, 0x01);
    check_pattern(pm, S - 21, 21, 0x02);
    memset(again, 0, S);
    assert_int_equal(vm_physmem_dump(pm, again, S), VM_OK);
    assert_memory_equal(again, snap, S);
    free(snap);
    free(again);
    vm_physmem_free(pm);
}

static void test_physmem_restore_wrong_length(void **state)
{
    (void)state;
    const size_t S = 4096;
    vm_physmem_t *pm = vm_physmem_new(S, false);
    uint8_t *data = malloc(S + 1);

    assert_non_null(data);
    memset(data, 0x5c, S + 1);
    fill_pattern(pm, 0, S, 0x44);
    assert_int_equal(vm_physmem_restore(pm, data, S - 1), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_restore(pm, data, S + 1), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_restore(pm, data, 0), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_restore(pm, NULL, S), VM_ERR_INVALID_ARGUMENT);
    check_pattern(pm, 0, S, 0x44); /* nothing changed */
    assert_int_equal(vm_physmem_dump(pm, data, S - 1), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_dump(pm, data, S + 1), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_physmem_dump(pm, NULL, S), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(data[0], 0x5c); /* nothing dumped */
    free(data);
    vm_physmem_free(pm);
}

/* ---- vm_strerror ------------------------------------------------------- */

static void test_physmem_strerror_every_code(void **state)
{
    (void)state;
    const char *msgs[VM_ERR__COUNT];

    for (int e = 0; e < VM_ERR__COUNT; e++) {
        msgs[e] = vm_strerror((vm_err_t)e);
        assert_non_null(msgs[e]);
        assert_true(strlen(msgs[e]) > 5);
        assert_null(strstr(msgs[e], "unknown"));
        for (int f = 0; f < e; f++)
            assert_string_not_equal(msgs[e], msgs[f]);
    }
    const int out_of_range[] = {VM_ERR__COUNT, VM_ERR__COUNT + 1, 1000, -1};
    for (size_t i = 0; i < 4; i++) {
        const char *m = vm_strerror((vm_err_t)out_of_range[i]);
        assert_non_null(m);
        assert_non_null(strstr(m, "unknown"));
    }
}

/* ---- internal: PTE compare-and-swap, access_slow ------------------------ */

static void test_physmem_cmpxchg_u64(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    bool swapped = true;
    uint64_t v;

    assert_int_equal(vm_physmem_write_u64(pm, 0x800, 0x1001), VM_OK);
    /* Mismatch: no swap, memory unchanged. */
    assert_int_equal(physmem_cmpxchg_u64(pm, 0x800, 0x1000, 0x10c1, &swapped), VM_OK);
    assert_false(swapped);
    assert_int_equal(vm_physmem_read_u64(pm, 0x800, &v), VM_OK);
    assert_int_equal(v, 0x1001);
    /* Match: swapped. */
    assert_int_equal(physmem_cmpxchg_u64(pm, 0x800, 0x1001, 0x10c1, &swapped), VM_OK);
    assert_true(swapped);
    assert_int_equal(vm_physmem_read_u64(pm, 0x800, &v), VM_OK);
    assert_int_equal(v, 0x10c1);
    /* Misaligned, outside RAM, straddling the end. */
    swapped = true;
    assert_int_equal(physmem_cmpxchg_u64(pm, 0x804, 0, 1, &swapped), VM_ERR_ALIGNMENT_FAULT);
    assert_false(swapped);
    assert_int_equal(physmem_cmpxchg_u64(pm, RAM_1M, 0, 1, &swapped), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(physmem_cmpxchg_u64(pm, UINT64_MAX - 7, 0, 1, &swapped),
                     VM_ERR_INVALID_ADDRESS);
    assert_int_equal(physmem_cmpxchg_u64(pm, RAM_1M - 8, 0, 1, &swapped), VM_OK);
    assert_true(swapped);
    assert_int_equal(physmem_cmpxchg_u64(pm, 0x800, 0, 1, NULL), VM_ERR_INVALID_ARGUMENT);
    vm_physmem_free(pm);
}

static void test_physmem_access_slow_contract(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_1M, false);
    uint64_t v = 0x1122334455667788ULL;

    assert_int_equal(physmem_access_slow(pm, 0x101, 4, &v, true), VM_OK); /* misaligned */
    v = 0;
    assert_int_equal(physmem_access_slow(pm, 0x100, 8, &v, false), VM_OK);
    assert_int_equal(v, 0x0000005566778800ULL);
    assert_int_equal(physmem_access_slow(pm, 0x100, 3, &v, false), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(physmem_access_slow(pm, 0x100, 4, NULL, false), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(physmem_access_slow(pm, RAM_1M - 2, 4, &v, false), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(physmem_access_slow(pm, UINT64_MAX, 1, &v, true), VM_ERR_INVALID_ADDRESS);
    vm_physmem_free(pm);
}


/* ---- RAM at a non-zero base (vm_physmem_new_at) ---------------------- */

/* physmem.h: RAM is [base, base + size); below base is unbacked unless a
 * device is mapped there; base must be 4 KiB aligned and base + size at
 * most 2^64 - 1. */
static void test_physmem_ram_base(void **state)
{
    (void)state;
    const uint64_t base = UINT64_C(0x80000000);
    uint64_t v = 0;
    bool ok = false;
    assert_null(vm_physmem_new_at(base + 8, RAM_1M, false));
    assert_null(vm_physmem_new_at(UINT64_MAX - 0xfff, 0x1000, false));
    vm_physmem_t *pm = vm_physmem_new_at(base, RAM_1M, false);
    assert_non_null(pm);
    assert_int_equal(vm_physmem_base(pm), base);
    assert_int_equal(vm_physmem_size(pm), RAM_1M);
    /* below the base, at 0, and one past the end: unbacked */
    assert_int_equal(vm_physmem_read(pm, 0, 8, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read(pm, base - 8, 8, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read(pm, base - 4, 8, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read(pm, base + RAM_1M, 1, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read(pm, base + RAM_1M - 4, 8, &v), VM_ERR_INVALID_ADDRESS);
    /* first and last bytes, little-endian, misaligned */
    assert_int_equal(vm_physmem_write(pm, base, 0x1122334455667788, 8), VM_OK);
    assert_int_equal(vm_physmem_read(pm, base + 1, 2, &v), VM_OK);
    assert_int_equal(v, 0x6677);
    assert_int_equal(vm_physmem_write(pm, base + RAM_1M - 8, 0xabcdef, 8), VM_OK);
    assert_int_equal(vm_physmem_read(pm, base + RAM_1M - 8, 4, &v), VM_OK);
    assert_int_equal(v, 0xabcdef);
    /* bulk: len 0 is fine from base to the end, not below */
    uint8_t buf[16];
    assert_int_equal(vm_physmem_read_buf(pm, base, buf, 0), VM_OK);
    assert_int_equal(vm_physmem_read_buf(pm, base + RAM_1M, buf, 0), VM_OK);
    assert_int_equal(vm_physmem_read_buf(pm, base - 1, buf, 0), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_buf(pm, base - 8, buf, 16), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(vm_physmem_read_buf(pm, base, buf, 16), VM_OK);
    assert_int_equal(buf[0], 0x88);
    /* dump covers [base, base + size) */
    uint8_t *img = malloc(RAM_1M);
    assert_non_null(img);
    assert_int_equal(vm_physmem_dump(pm, img, RAM_1M), VM_OK);
    assert_int_equal(img[7], 0x11);
    assert_int_equal(img[RAM_1M - 8], 0xef);
    img[0] = 0x5a;
    assert_int_equal(vm_physmem_restore(pm, img, RAM_1M), VM_OK);
    assert_int_equal(vm_physmem_read(pm, base, 1, &v), VM_OK);
    assert_int_equal(v, 0x5a);
    free(img);
    /* LR/SC and the PTE compare-and-swap work on based RAM */
    assert_int_equal(vm_physmem_load_reserved(pm, base + 0x100, 8, 1, &v), VM_OK);
    assert_int_equal(vm_physmem_store_conditional(pm, base + 0x100, 5, 8, 1, &ok), VM_OK);
    assert_true(ok);
    assert_int_equal(vm_physmem_load_reserved(pm, 0x100, 8, 1, &v), VM_ERR_INVALID_ADDRESS);
    assert_int_equal(physmem_cmpxchg_u64(pm, base + 0x100, 5, 6, &ok), VM_OK);
    assert_true(ok);
    assert_int_equal(physmem_cmpxchg_u64(pm, 0x100, 0, 6, &ok), VM_ERR_INVALID_ADDRESS);
    vm_physmem_free(pm);
}

static vm_err_t zero_read(void *o, uint64_t off, uint8_t size, uint64_t *val)
{
    (void)o, (void)off, (void)size;
    *val = 0x42;
    return VM_OK;
}

static vm_err_t drop_write(void *o, uint64_t off, uint64_t val, uint8_t size)
{
    (void)o, (void)off, (void)val, (void)size;
    return VM_OK;
}

/* MMIO may sit below based RAM; regions overlapping RAM are refused on
 * either side; an access from a device region into RAM straddles it. */
static void test_physmem_ram_base_mmio(void **state)
{
    (void)state;
    static const vm_mmio_ops_t ops = {zero_read, drop_write, NULL, NULL};
    const uint64_t base = UINT64_C(0x80000000);
    uint64_t v = 0;
    vm_physmem_t *pm = vm_physmem_new_at(base, RAM_1M, false);
    assert_non_null(pm);
    assert_int_equal(vm_physmem_map_mmio(pm, base - 0x1000, 0x1001, &ops, NULL), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_map_mmio(pm, base + RAM_1M - 1, 0x10, &ops, NULL), VM_ERR_MMIO);
    assert_int_equal(vm_physmem_map_mmio(pm, base - 0x1000, 0x1000, &ops, NULL), VM_OK);
    assert_int_equal(vm_physmem_map_mmio(pm, 0x1000, 0x1000, &ops, NULL), VM_OK);
    assert_int_equal(vm_physmem_read(pm, 0x1008, 8, &v), VM_OK);
    assert_int_equal(v, 0x42);
    assert_int_equal(vm_physmem_read(pm, base - 8, 8, &v), VM_OK);
    assert_int_equal(vm_physmem_read(pm, base - 4, 8, &v), VM_ERR_MMIO);
    vm_physmem_free(pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_physmem_new_128mib),
        cmocka_unit_test(test_physmem_new_1gib_hugepages),
        cmocka_unit_test(test_physmem_new_bad_size_fails),
        cmocka_unit_test(test_physmem_free_null_is_noop),
        cmocka_unit_test(test_physmem_odd_size),
        cmocka_unit_test(test_physmem_null_arguments),
        cmocka_unit_test(test_physmem_little_endian_layout),
        cmocka_unit_test(test_physmem_misaligned_ram_access),
        cmocka_unit_test(test_physmem_boundaries),
        cmocka_unit_test(test_physmem_bad_sizes),
        cmocka_unit_test(test_physmem_sized_access_truncates),
        cmocka_unit_test(test_physmem_bulk_seed_roundtrip),
        cmocka_unit_test(test_physmem_bulk_across_shards),
        cmocka_unit_test(test_physmem_bulk_boundaries),
        cmocka_unit_test(test_physmem_dump_restore_roundtrip),
        cmocka_unit_test(test_physmem_restore_wrong_length),
        cmocka_unit_test(test_physmem_strerror_every_code),
        cmocka_unit_test(test_physmem_cmpxchg_u64),
        cmocka_unit_test(test_physmem_access_slow_contract),
        cmocka_unit_test(test_physmem_ram_base),
        cmocka_unit_test(test_physmem_ram_base_mmio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
