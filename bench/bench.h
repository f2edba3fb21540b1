/*
 * bench.h - what the parts of bench_vs_qemu share: the clock, the rows of the
 * translated-access table (patterns), the columns that run them (engines),
 * and the cells of the physical/bulk tables.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bench_world.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif

static inline double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/*
 * Bracket a timed region: under `valgrind --tool=callgrind --collect-atstart=no`
 * only bracketed instructions are counted (ci/bench.sh --instructions), so
 * setup, warm-up and result checks never reach the counts. Outside valgrind
 * this is a few no-op instructions, outside any timed region.
 */
static inline void bench_count_toggle(void)
{
#ifdef BENCH_HAVE_CALLGRIND
    CALLGRIND_TOGGLE_COLLECT;
#endif
}

/* ---- translated accesses: a row is a pattern, a column an engine ---------- */

enum bench_kind {
    BENCH_CHASE, /* dependent 8-byte loads, one slot per 4 KiB page, random cycle */
    BENCH_SEQ,   /* independent 8-byte loads, ascending, wrapping over 64 MiB */
    BENCH_RAND,  /* independent 8-byte loads at LCG-chosen offsets over 64 MiB */
};

struct bench_pattern {
    const char *key;   /* id prefix, e.g. "chase16" */
    const char *label; /* table row */
    enum bench_kind kind;
    unsigned pages;    /* BENCH_CHASE: pages in the cycle */
    bool huge;         /* streams: the 2 MiB view (BW_DATA2M_VA) instead of 4 KiB */
    bool grow_tlb;     /* the TLB grown to hold the whole chase */
    uint64_t n;        /* accesses per timed run */
    uint64_t n_count;  /* accesses of the shorter callgrind run (the longer is 3x) */
    uint64_t warm;     /* accesses of the warm-up before any timed run */
};

/*
 * A column. prepare() makes a fresh instance for the pattern (the world's
 * chase is already set); run() performs exactly n accesses of the pattern
 * from its start (chase: page 0; streams: offset 0 / BW_LCG_SEED) and
 * returns the chase's final page or the stream's sum in *check. Both return
 * false with a message on stderr when something is wrong; prepare() may
 * instead set *why (static text) and return false for "not in this build".
 */
struct bench_engine {
    const char *key;   /* id suffix: "native", "qemu", "vmmem", "inline" */
    const char *title; /* table column */
    bool (*prepare)(struct bench_world *w, const struct bench_pattern *p, void **state,
                    const char **why);
    bool (*run)(void *state, const struct bench_pattern *p, uint64_t n, uint64_t *check);
    void (*finish)(void *state);
};

extern const struct bench_engine bench_engine_native;
extern const struct bench_engine bench_engine_vmmem;
extern const struct bench_engine bench_engine_inline;
extern const struct bench_engine bench_engine_unicorn;

/* The guest VA the pattern's stream starts at (4 KiB or 2 MiB view). */
static inline uint64_t bench_stream_base(const struct bench_pattern *p)
{
    return p->huge ? BW_DATA2M_VA : BW_DATA_VA;
}

/* ---- the other tables: one measurement per cell ---------------------------- */

/* The physical-path access pattern: unit i of a thread touches
 * base + bench_phys_offset(i), stepping 72 bytes (a new cache line each time)
 * through a 32 KiB span that stays in the L1 data cache, so what is measured
 * is the access path, not the memory. Thread t's span starts at t * 32 KiB. */
#define BENCH_PHYS_SPAN (UINT64_C(32) << 10)
static inline uint64_t bench_phys_offset(uint64_t i)
{
    return (i * 72) & (BENCH_PHYS_SPAN - 1);
}

/*
 * measure(): set up, warm up, then `reps` timed runs of n units each (per
 * thread); the best time per unit in *ns. false (with a message on stderr)
 * when a result is wrong; false with *why set when not measurable here.
 */
struct bench_cell {
    const char *id;
    bool (*measure)(struct bench_world *w, const struct bench_cell *c, uint64_t n, unsigned reps,
                    double *ns, const char **why);
    int op;            /* what to measure, private to the implementing file */
    unsigned threads;  /* threads doing n units each */
    uint64_t n;        /* units per timed run (per thread) */
    uint64_t n_count;  /* units of the shorter callgrind run */
};

/* What a physical/bulk cell measures (bench_cell.op of bench_physical_measure). */
enum bench_phys_op {
    PHYS_NATIVE_READ,   /* plain 8-byte load from host memory */
    PHYS_NATIVE_WRITE,  /* plain 8-byte store */
    PHYS_VMMEM_READ,    /* vm_physmem_read_u64 */
    PHYS_VMMEM_WRITE,   /* vm_physmem_write_u64 */
    PHYS_INLINE_READ,   /* vm_physmem_read_inline (vmmem/physmem_inline.h) */
    PHYS_INLINE_WRITE,  /* vm_physmem_write_inline */
    PHYS_VIEW_READ,     /* vm_physmem_view_read through a view local to the loop */
    PHYS_VIEW_WRITE,    /* vm_physmem_view_write */
    PHYS_BOUND_WRITE,   /* not an API: the view write without its reservation check (its floor) */
    PHYS_SEED_READ,     /* the seed's sharded rwlock memory (bench_seed.c) */
    PHYS_SEED_WRITE,
    PHYS_MMU_READ,      /* vm_mmu_read through Sv39, TLB hit, one MMU (vCPU) per thread */
    BULK_MEMCPY,        /* memcpy of 1 MiB (unit: one 1 MiB transfer) */
    BULK_PHYS_READ,     /* vm_physmem_read_buf, 1 MiB */
    BULK_WIDE_READ,     /* not an API: the same bytes out of RAM with 16-byte SSE2 loads */
    BULK_PHYS_WRITE,    /* vm_physmem_write_buf, 1 MiB */
    BULK_MMU_READ,      /* vm_mmu_read_bulk, 1 MiB through Sv39 4 KiB pages */
    BULK_MMU_WRITE,     /* vm_mmu_write_bulk, 1 MiB through Sv39 4 KiB pages */
};

/* bench_physical.c: the cells of the physical, bulk and scaling tables. */
bool bench_physical_measure(struct bench_world *w, const struct bench_cell *c, uint64_t n,
                            unsigned reps, double *ns, const char **why);
/* bench_unicorn.c: uc_mem_read / uc_mem_write as cells (op: 0 read, 1 write). */
bool bench_unicorn_physical(struct bench_world *w, const struct bench_cell *c, uint64_t n,
                            unsigned reps, double *ns, const char **why);
/* bench_unicorn.c: check that Unicorn really runs the guest in S-mode under
 * Sv39 (see there); prints what it checked. */
bool bench_unicorn_verify(struct bench_world *w);
/* bench_translated.c: the same checks through vmmem. */
bool bench_vmmem_verify(struct bench_world *w);

#endif /* BENCH_H */
