/*
 * bench_world.h - the guest world every column of bench_vs_qemu works on: one
 * guest-physical image (RAM, Sv39 page tables, data) held twice in identical
 * bytes - in vmmem's vm_physmem_t and in a host buffer that Unicorn maps as
 * its RAM - plus a host copy of the data region for the native twins.
 *
 * Guest physical map (RAM: 128 MiB at PA 0):
 *   0x0000_0000  M-mode stub (mret) - Unicorn enters S-mode through it
 *   0x0000_1000  code page: the S-mode programs (bench_unicorn.c)
 *   0x0000_2000  magic page (RW), 0x3000 read-only page, 0x4000 U page
 *   0x0010_0000  page tables (vm_ptbuilder)
 *   0x0020_0000  1 MiB target of the bulk and physical writes: scratch, where the
 *                copies may differ (each column writes only its own)
 *   0x0400_0000  data: 64 MiB holding bw_pattern(pa) in every 8-byte word
 *
 * Guest virtual map (Sv39, ASID 0; every VA differs from its PA, so a
 * correct result proves that translation happened):
 *   0x4000_0000  code (X)               -> PA 0x1000
 *   0x4000_1000  magic (RW)             -> PA 0x2000
 *   0x4000_2000  read-only (R)          -> PA 0x3000
 *   0x4000_3000  user page (RW, U=1)    -> PA 0x4000
 *   0x4000_4000  unmapped (no PTE)
 *   0x4010_0000  bulk target (RW)       -> PA 0x20_0000, 4 KiB pages
 *   0x4400_0000  data, 4 KiB pages      -> PA 0x400_0000 (16384 leaves)
 *   0x4800_0000  data, 2 MiB pages      -> PA 0x400_0000 (32 leaves)
 * All leaves have A (and D where writable) set, so no column ever updates a
 * PTE during a measurement.
 */
#ifndef BENCH_WORLD_H
#define BENCH_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include <vmmem/vmmem.h>

#define BW_RAM_SIZE     (UINT64_C(128) << 20)
#define BW_STUB_PA      UINT64_C(0x0)
#define BW_CODE_PA      UINT64_C(0x1000)
#define BW_MAGIC_PA     UINT64_C(0x2000)
#define BW_RO_PA        UINT64_C(0x3000)
#define BW_USER_PA      UINT64_C(0x4000)
#define BW_TABLES_PA    UINT64_C(0x100000)
#define BW_BULK_PA      UINT64_C(0x200000)
#define BW_DATA_PA      (UINT64_C(64) << 20)
#define BW_DATA_SIZE    (UINT64_C(64) << 20)

#define BW_CODE_VA      UINT64_C(0x40000000)
#define BW_MAGIC_VA     UINT64_C(0x40001000)
#define BW_RO_VA        UINT64_C(0x40002000)
#define BW_USER_VA      UINT64_C(0x40003000)
#define BW_UNMAPPED_VA  UINT64_C(0x40004000)
#define BW_BULK_VA      UINT64_C(0x40100000)
#define BW_DATA_VA      UINT64_C(0x44000000)
#define BW_DATA2M_VA    UINT64_C(0x48000000)
#define BW_VA_START     BW_CODE_VA
#define BW_VA_END       UINT64_C(0x4c000000)

#define BW_BULK_SIZE    (UINT64_C(1) << 20)
#define BW_PAGE         UINT64_C(4096)
#define BW_MAX_CHASE_PAGES 4096u
#define BW_MAGIC        UINT64_C(0x5a5aa5a5c3c33c3c)

/* The random stream's generator (Knuth's MMIX LCG), identical in every column. */
#define BW_LCG_A        UINT64_C(6364136223846793005)
#define BW_LCG_C        UINT64_C(1442695040888963407)
#define BW_LCG_SEED     UINT64_C(0x243f6a8885a308d3)

struct bench_world {
    vm_physmem_t *pm;     /* vmmem's guest RAM */
    uint8_t *image;       /* the same BW_RAM_SIZE bytes, mapped by Unicorn as its RAM */
    uint8_t *native;      /* BW_DATA_SIZE host bytes: the native twins' data region */
    uint64_t satp;        /* Sv39, ASID 0, the root built in RAM */
    unsigned chase_pages; /* pages of the current chase cycle, 0 when none */
    uint32_t next[BW_MAX_CHASE_PAGES]; /* the cycle: page i's slot points at page next[i] */
};

/* Build the world (tables through vm_ptbuilder, data, image, native copy).
 * false with a message on stderr on failure. */
bool bw_init(struct bench_world *w);
void bw_free(struct bench_world *w);

/* Write len bytes at pa into both guest copies (vmmem's RAM and the image). */
bool bw_write_both(struct bench_world *w, uint64_t pa, const void *src, size_t len);

/* The value of the data word at guest-physical pa (8-byte aligned). */
static inline uint64_t bw_pattern(uint64_t pa)
{
    return pa * UINT64_C(0x9e3779b97f4a7c15);
}

/* Offset of page i's chase slot inside its page: consecutive pages use
 * different cache lines, so the chase is not limited by one cache set. */
static inline uint64_t bw_slot_offset(unsigned page)
{
    return (uint64_t)(page % 64u) * 64u;
}

/* The guest VA (4 KiB view) and host address of page i's chase slot. */
static inline uint64_t bw_slot_va(unsigned page)
{
    return BW_DATA_VA + (uint64_t)page * BW_PAGE + bw_slot_offset(page);
}

/* Next value of the random stream's generator and the data offset it picks. */
static inline uint64_t bw_lcg(uint64_t x)
{
    return x * BW_LCG_A + BW_LCG_C;
}
static inline uint64_t bw_rand_offset(uint64_t x)
{
    return (x >> 32) & (BW_DATA_SIZE - 8);
}

/*
 * Put a pointer-chase cycle over the first `pages` data pages into all three
 * copies (guest slots hold the next slot's VA in the 4 KiB view, native slots
 * the next slot's host address); pages 0 means none. The previous cycle's
 * slots get their pattern back, so the streams see pure pattern data.
 */
bool bw_set_chase(struct bench_world *w, unsigned pages);

/* Expected results, computed from the layout alone (not from any column). */
unsigned bw_expect_chase(const struct bench_world *w, uint64_t steps); /* page reached from 0 */
uint64_t bw_expect_seq(uint64_t n);  /* sum of the first n words of the sequential stream */
uint64_t bw_expect_rand(uint64_t n); /* sum of the first n words of the random stream */

#endif /* BENCH_WORLD_H */
