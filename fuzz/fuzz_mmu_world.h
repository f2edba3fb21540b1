/*
 * fuzz_mmu_world.h - the types of the MMU fuzz targets' world (fuzz_translate,
 * fuzz_mmu_access): the per-input state fm_t, the MMIO register-file device
 * and the op log. fuzz_mmu_common.h holds the code that runs it; this header
 * holds only declarations, so that harness code compiled once (the .vmc
 * emitter, vmc_emit_rv.c) can see the world too.
 */
#ifndef VMMEM_FUZZ_MMU_WORLD_H
#define VMMEM_FUZZ_MMU_WORLD_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "physmem_int.h" /* white-box: the core's RAM mapping, for cheap compares */
#include "ref_model.h"
#include "vmmem/vmmem.h"

#define FM_PAGE 4096u
#define FM_MAX_RAM (UINT64_C(4) << 20)
#define FM_MAX_PAGES (FM_MAX_RAM / FM_PAGE)
#define FM_MMIO_BASE UINT64_C(0x10000000)
#define FM_MMIO_SIZE 0x1800u /* one page and a half: the second page is half device */
#define FM_POOL 32
#define FM_LOG 192
#define FM_DEV_LOG 8

/* ---- little-endian helpers ------------------------------------------ */
static inline uint64_t fm_le_load(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void fm_le_store(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- the MMIO device: a register file that logs every access -------- */
typedef struct fm_dev_op {
    uint64_t off, val;
    uint8_t size;
    bool write;
} fm_dev_op_t;

typedef struct fm_dev {
    uint8_t regs[FM_MMIO_SIZE];
    fm_dev_op_t log[FM_DEV_LOG];
    unsigned n;          /* accesses since reset; log[] is a ring of the last FM_DEV_LOG */
    const char *bad;     /* set when the core hands the device an access it must refuse */
} fm_dev_t;

/* ---- the op log ------------------------------------------------------ */
typedef struct fm_log_entry {
    const char *name;
    const char *fmt;     /* only %llx / %llu conversions, at most four */
    unsigned long long a[4];
    const char *result;  /* static text, filled in when the op completes */
} fm_log_entry_t;

/* ---- the world of one input ----------------------------------------- */
typedef struct fm {
    const char *target;
    vm_mmu_t *mmu;
    const uint8_t *core_ram;  /* the core's RAM (physmem_int.h), read-only here */
    ref_mem_t m;
    ref_rv_state_t s;
    ref_tlb_t tlb;
    ref_resv_t resv;
    bool resv_unknown;       /* the model cannot tell whether hart 0's reservation survived */
    vm_ptbuilder_t b;

    /* config */
    int cfg_levels;          /* paging levels of the config (3/4/5): the builder's format */
    uint64_t ram_size;
    unsigned npages;
    uint64_t table_lo;       /* builder area [table_lo, ram_size) */
    uint64_t root_a, root_b; /* root_b: second tree, allocated on first use (0 = none) */
    bool strict;
    const uint8_t *model_regs; /* the model of the device's register file */

    vm_gva_t pool[FM_POOL];
    unsigned n_pool, pool_next;

    uint64_t hits, misses;   /* core counters as last checked */

    /* pages touched (compared at the end) and written in the model (re-zeroed) */
    uint8_t touched[FM_MAX_PAGES / 8];
    uint8_t dirty[FM_MAX_PAGES / 8];

    fm_log_entry_t log[FM_LOG];
    unsigned n_ops;

    /* the current translation, for the report */
    bool have_walk;
    ref_rv_walk_t walk;
    uint64_t walk_va;
    int walk_acc;
    bool have_walk2;         /* the second page of a page-crossing access */
    ref_rv_walk_t walk2;
    uint64_t walk2_va;
} fm_t;

#endif /* VMMEM_FUZZ_MMU_WORLD_H */
