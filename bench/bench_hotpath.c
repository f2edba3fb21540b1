/*
 * bench_hotpath - the hot paths of vmmem, measured side by side in one run.
 *
 * Each case performs the same work: N 8-byte loads (or stores) spread over a
 * 64 KiB working set, so every case touches the same host cache lines and
 * the differences are the cost of the access path itself:
 *
 *   raw           plain array load: the floor
 *   physmem       vm_physmem_read_u64 (lock-free aligned atomic load)
 *   seed-sharded  the seed design vmmem replaced: 16 shards, each behind a
 *                 pthread rwlock (read lock per access), bench_seed.c, kept
 *                 only as the comparison point
 *   mmu-bare      vm_mmu_read in Bare mode
 *   mmu-sv39-hit  vm_mmu_read through Sv39 with every page in the DTLB
 *   translate-hit vm_mmu_translate TLB hit
 *   walk-sv39     vm_mmu_translate after a flush of that page: a full 3-level walk
 *   miss-sv39     vm_mmu_read cycling over 2048 pages (8 MiB): with the default
 *   miss-x86      128-entry DTLB every load misses, walks, evicts the least
 *   miss-arm64    recently used entry and fills; Sv39 (3 levels), x86-64
 *                 (4 levels, A/D set) and Arm64 (4 KiB granule, 39-bit VA:
 *                 3 levels, AF set) over the same pages
 *
 * Output: ns/op and the ratio to `raw`, all in one run. Timings are for
 * people, never asserted anywhere; bench/callgrind.sh gives instruction
 * counts, which are repeatable.
 *
 * usage: bench_hotpath [--only NAME] [--iters N]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmmem/vmmem.h>

#include "bench_seed.h"

#define WSET (64u << 10)          /* working set: 16 pages */
#define VBASE UINT64_C(0x40000000) /* where the working set is mapped in Sv39 */

static volatile uint64_t sink;

/* ---- cases ------------------------------------------------------------ */
struct ctx {
    uint8_t *raw;
    vm_physmem_t *pm;
    struct seed_mem seed;
    vm_mmu_t *bare, *sv39;
    vm_mmu_t *miss[3]; /* Sv39, x86-64, Arm64 over the MISS_PAGES */
};

#define MISS_PAGES 2048u
#define MISS_VA UINT64_C(0x40000000)
#define MISS_PA UINT64_C(0x800000) /* 8 MiB .. 16 MiB */

static inline uint64_t idx(uint64_t i)
{
    return (i * 72) % WSET & ~UINT64_C(7); /* stride through all lines, aligned */
}

static void case_raw(struct ctx *c, uint64_t n)
{
    uint64_t s = 0, v;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(&v, c->raw + idx(i), 8);
        s += v;
    }
    sink = s;
}

static void case_physmem(struct ctx *c, uint64_t n)
{
    uint64_t s = 0, v = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (vm_physmem_read_u64(c->pm, idx(i), &v))
            abort();
        s += v;
    }
    sink = s;
}

static void case_seed(struct ctx *c, uint64_t n)
{
    uint64_t s = 0, v = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (seed_read_u64(&c->seed, idx(i), &v))
            abort();
        s += v;
    }
    sink = s;
}

static void case_mmu_bare(struct ctx *c, uint64_t n)
{
    uint64_t s = 0, v = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (vm_mmu_read(c->bare, idx(i), 8, &v))
            abort();
        s += v;
    }
    sink = s;
}

static void case_mmu_sv39(struct ctx *c, uint64_t n)
{
    uint64_t s = 0, v = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (vm_mmu_read(c->sv39, VBASE + idx(i), 8, &v))
            abort();
        s += v;
    }
    sink = s;
}

static void case_translate(struct ctx *c, uint64_t n)
{
    uint64_t s = 0;
    vm_gpa_t pa = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (vm_mmu_translate(c->sv39, VBASE + idx(i), VM_ACCESS_READ, &pa))
            abort();
        s += pa;
    }
    sink = s;
}

static void case_walk(struct ctx *c, uint64_t n)
{
    uint64_t s = 0;
    vm_gpa_t pa = 0;
    for (uint64_t i = 0; i < n; i++) {
        vm_mmu_flush_tlb_page(c->sv39, VBASE + idx(i));
        if (vm_mmu_translate(c->sv39, VBASE + idx(i), VM_ACCESS_READ, &pa))
            abort();
        s += pa;
    }
    sink = s;
}

/* Page i % MISS_PAGES, a different line in each: a cycle longer than any
 * default TLB, so LRU evicts every entry before its next use. */
static void run_miss(vm_mmu_t *mmu, uint64_t n)
{
    uint64_t s = 0, v = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (vm_mmu_read(mmu, MISS_VA + (i % MISS_PAGES) * 4096 + (i & 0x1f8), 8, &v))
            abort();
        s += v;
    }
    sink = s;
}

static void case_miss_sv39(struct ctx *c, uint64_t n) { run_miss(c->miss[0], n); }
static void case_miss_x86(struct ctx *c, uint64_t n) { run_miss(c->miss[1], n); }
static void case_miss_arm64(struct ctx *c, uint64_t n) { run_miss(c->miss[2], n); }

static const struct bench_case {
    const char *name;
    void (*run)(struct ctx *, uint64_t);
    unsigned cost; /* relative slowness: fewer iterations for slow cases */
} cases[] = {
    { "raw", case_raw, 1 },
    { "physmem", case_physmem, 1 },
    { "seed-sharded", case_seed, 4 },
    { "mmu-bare", case_mmu_bare, 1 },
    { "mmu-sv39-hit", case_mmu_sv39, 1 },
    { "translate-hit", case_translate, 1 },
    { "walk-sv39", case_walk, 16 },
    { "miss-sv39", case_miss_sv39, 64 },
    { "miss-x86", case_miss_x86, 64 },
    { "miss-arm64", case_miss_arm64, 64 },
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void setup(struct ctx *c)
{
    c->raw = calloc(1, WSET);
    c->pm = vm_physmem_new(16u << 20, false);
    if (!seed_mem_init(&c->seed, 16u << 20))
        abort();
    c->bare = vm_mmu_new_shared(c->pm);
    c->sv39 = vm_mmu_new_shared(c->pm);
    if (!c->raw || !c->pm || !c->bare || !c->sv39)
        abort();
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, 0x100000);
    vm_gpa_t root = vm_ptbuilder_alloc_page(&b);
    for (uint64_t off = 0; off < WSET; off += 4096)
        if (vm_ptbuilder_map_sv39(&b, c->sv39, VBASE + off, 0x200000 + off,
                                  VM_PTE_R | VM_PTE_W | VM_PTE_A | VM_PTE_D, root))
            abort();
    vm_mmu_set_satp(c->sv39, (UINT64_C(8) << 60) | (root >> 12));

    /* The miss cases: one table tree per architecture, same VA -> PA. */
    for (int k = 0; k < 3; k++)
        if (!(c->miss[k] = vm_mmu_new_shared(c->pm)))
            abort();
    vm_gpa_t rv = vm_ptbuilder_alloc_page(&b), x86 = vm_ptbuilder_alloc_page(&b);
    /* Arm64, 4 KiB granule, T0SZ 25: a 39-bit range starting at level 1. */
    vm_gpa_t arm = vm_ptbuilder_alloc_page(&b);
    for (uint64_t i = 0; i < MISS_PAGES; i++) {
        const vm_gva_t va = MISS_VA + i * 4096;
        const vm_gpa_t pa = MISS_PA + i * 4096;
        if (vm_ptbuilder_map_sv39(&b, c->miss[0], va, pa,
                                  VM_PTE_R | VM_PTE_W | VM_PTE_A | VM_PTE_D, rv) ||
            vm_ptbuilder_map_x86_64(&b, c->miss[1], false, va, pa, 4096,
                                    VM_X86_PTE_RW | VM_X86_PTE_A | VM_X86_PTE_D, x86) ||
            vm_ptbuilder_map_arm64(&b, c->miss[2], 12, 25, va, pa, 4096, VM_ARM64_AF, arm))
            abort();
    }
    vm_mmu_set_satp(c->miss[0], (UINT64_C(8) << 60) | (rv >> 12));
    const vm_x86_regs_t xr = {
        .cr0 = VM_X86_CR0_PE | VM_X86_CR0_PG | VM_X86_CR0_WP,
        .cr3 = x86,
        .cr4 = VM_X86_CR4_PAE,
        .efer = VM_X86_EFER_LME,
    };
    vm_mmu_set_paging_mode(c->miss[1], VM_PAGING_X86_64);
    const vm_arm64_regs_t ar = {
        .ttbr0 = arm,
        .tcr = VM_ARM64_TCR_T0SZ(25) | VM_ARM64_TCR_TG0_4K | VM_ARM64_TCR_EPD1 |
               VM_ARM64_TCR_TG1_4K | VM_ARM64_TCR_IPS(5),
        .sctlr = VM_ARM64_SCTLR_M,
        .el = 1,
    };
    vm_mmu_set_paging_mode(c->miss[2], VM_PAGING_ARM64);
    if (vm_mmu_set_x86_regs(c->miss[1], &xr) || vm_mmu_set_arm64_regs(c->miss[2], &ar))
        abort();
    /* Each architecture reads the same bytes through its own tables. */
    uint64_t v[3];
    for (int k = 0; k < 3; k++)
        if (vm_mmu_read(c->miss[k], MISS_VA + 5 * 4096 + 8, 8, &v[k]))
            abort();
    uint64_t want = 0;
    if (vm_physmem_read_u64(c->pm, MISS_PA + 5 * 4096 + 8, &want) || v[0] != want ||
        v[1] != want || v[2] != want)
        abort();
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    uint64_t iters = 20000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = strtoull(argv[++i], NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--only NAME] [--iters N]\n", argv[0]);
            return 2;
        }
    }
    struct ctx c;
    setup(&c);
    double base = 0;
    if (!only)
        printf("%-14s %10s %8s\n", "case", "ns/op", "x raw");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const struct bench_case *bc = &cases[k];
        if (only && strcmp(only, bc->name))
            continue;
        uint64_t n = only ? iters : iters / bc->cost;
        bc->run(&c, n / 10 + 1); /* warm caches and TLBs */
        double t0 = now_ns();
        bc->run(&c, n);
        double ns = (now_ns() - t0) / (double)n;
        if (k == 0)
            base = ns;
        if (!only)
            printf("%-14s %10.2f %8.2f\n", bc->name, ns, base > 0 ? ns / base : 0);
    }
    vm_mmu_free(c.bare);
    vm_mmu_free(c.sv39);
    for (int k = 0; k < 3; k++)
        vm_mmu_free(c.miss[k]);
    vm_physmem_free(c.pm);
    seed_mem_free(&c.seed);
    free(c.raw);
    return 0;
}
