/*
 * conform_ext_int.h - the per-file state the extension files of
 * vmmem-conform share (conform_world.c owns it): the harts, the reference
 * reservations, the register-file devices with their call logs, the
 * page-table builder, and the answer syntax of the new line kinds.
 */
#ifndef VMMEM_CONFORM_EXT_INT_H
#define VMMEM_CONFORM_EXT_INT_H

#include "conform_ext.h"
#include "vmmem/ptbuilder.h"

#define CONFORM_MAX_HARTS REF_MAX_HARTS
#define CONFORM_MAX_DEVICES REF_MAX_MMIO
#define CONFORM_MAX_CALLS 32
#define CONFORM_MAX_REGS (UINT64_C(1) << 16) /* register bytes a device keeps */

/* ---- harts --------------------------------------------------------- */
typedef struct conform_hart {
    bool live;
    vm_mmu_t *mmu;            /* hart 0: the runner's own; others vm_mmu_new_shared */
    ref_rv_state_t rv;
    ref_tlb_t *tlb;
    bool strict;
    uint64_t hits_base, misses_base;
    uint64_t owner;           /* physical LR/SC owner id (`owner`, default: the hart number) */
    bool owner_set;
} conform_hart_t;

/* ---- register-file devices ------------------------------------------ */
enum conform_call_kind { CONFORM_CALL_READ, CONFORM_CALL_WRITE, CONFORM_CALL_POLL };

typedef struct conform_call {
    int dev;
    int kind;
    uint64_t off;
    unsigned size;
    uint64_t val;
} conform_call_t;

typedef struct conform_device {
    conform_ext_t *ext;
    int id;                   /* ordinal of its `expect mmio` line (refused ones count) */
    bool mapped;
    uint64_t base, size;
    uint64_t nregs;           /* register bytes [0, nregs); beyond: read-only pattern */
    bool fail, dma, poll, destroy;
    uint8_t *core_regs, *ref_regs;
    int destroyed;
} conform_device_t;

typedef struct conform_call_log {
    conform_call_t call[CONFORM_MAX_CALLS];
    int n;                    /* may exceed CONFORM_MAX_CALLS: only the first are kept */
} conform_call_log_t;

struct conform_ext {
    conform_hart_t hart[CONFORM_MAX_HARTS];
    int cur;                  /* the acting hart */
    vm_physmem_t *pm;         /* the core's memory (NULL with --ref-only) */

    ref_resv_t resv;          /* reservations, indexed by hart */
    bool resv_unknown[CONFORM_MAX_HARTS]; /* a stale translation may or may not have broken it */
    bool phys_lrsc, mmu_lrsc; /* which LR/SC forms the file uses (not both) */

    conform_device_t dev[CONFORM_MAX_DEVICES];
    int n_dev;
    int region_dev[REF_MAX_MMIO];         /* reference region -> device, -1: `mmio` dummy */
    conform_call_log_t core_calls, ref_calls;

    vm_ptbuilder_t builder;   /* core side; the reference keeps only ref_next */
    uint64_t ref_next;
    bool builder_set;

    bool end_checks;
    uint8_t *ref_written;     /* bitmap: RAM pages the reference wrote */
    uint64_t ram_base, ram_size;
};

/* ---- line handlers (each returns CONFORM_DONE / NOT_MINE / ERROR) ----- */
int conform_world_line(const conform_view_t *v, char **tok, int ntok);   /* hart, owner, tlb */
int conform_device_line(const conform_view_t *v, char **tok, int ntok);  /* expect mmio, poll */
int conform_phys_line(const conform_view_t *v, char **tok, int ntok);    /* p*, dump, restore */
int conform_mmu_line(const conform_view_t *v, char **tok, int ntok);     /* lr, sc, bulk, ... */
int conform_ptmap_line(const conform_view_t *v, char **tok, int ntok);   /* ptbuilder, ptmap */

/* ---- devices (conform_device.c) --------------------------------------- */
/* The reference's side of a scalar access routed to region r. Returns the
 * device's error (VM_OK, or VM_ERR_UNSUPPORTED from a `fail` device). */
vm_err_t conform_device_ref_access(const conform_view_t *v, int region, uint64_t off,
                                   unsigned size, bool write, uint64_t *val);
void conform_device_compare_calls(const conform_view_t *v);
void conform_device_end(const conform_view_t *v);     /* register files, core vs reference */
void conform_device_free(const conform_view_t *v);    /* destroy counts, release */

/* ---- reservations ----------------------------------------------------- */
/* The acting hart's SC on the reference: stored? (ref_resv_sc, or the core's
 * answer when a stale translation left the reservation unknown). */
bool conform_resv_sc(conform_ext_t *ext, int hart, uint64_t pa, unsigned size, bool core_stored);
/* The file may use physical or MMU LR/SC, not both (the core's MMU owner
 * ids are not the case's `owner` ids). */
int conform_resv_form(const conform_view_t *v, bool physical);

/* ---- answers: `-> A | B | ...` ---------------------------------------- */
#define CONFORM_MAX_ALTS 8
typedef struct conform_alts {
    char text[CONFORM_MAX_ALTS][48];  /* each alternative, words joined by one space */
    int n;
} conform_alts_t;
/* Parse tok[pos] == "->" and the alternatives after it. */
int conform_parse_alts(const conform_view_t *v, char **tok, int ntok, int pos,
                       conform_alts_t *alts);
/* Is `answer` listed? An alternative "X" (no "@") matches "X @ VA" too. */
bool conform_alts_match(const conform_alts_t *alts, const char *answer);
void conform_alts_format(const conform_alts_t *alts, char *buf, size_t len);
/* Names of vm_err_t in answers: ok, invalid-address, page-fault, ... */
const char *conform_err_name(vm_err_t e);
/* A translation outcome (REF_*) with its fault VA, as an answer. */
void conform_outcome_text(char *buf, size_t len, int outcome, uint64_t pa, bool has_fva,
                          uint64_t fva);
/*
 * The verdict of an expectation whose answers are texts: the reference's
 * answer must be listed, the core's too (unless --ref-only), and `extra`
 * (a further complaint) must be NULL.
 */
void conform_judge(const conform_view_t *v, const conform_alts_t *alts, const char *ref_answer,
                   const char *core_answer, const char *extra);

/* ---- data operands (bulk writes, restore) ------------------------------ */
/*
 * DATA is `pattern S` (byte i is P(S + i), P(k) = (13k + (k >> 8) +
 * 7 (k >> 16) + 1) mod 256), `fill B`, `hex HH..`, `same` (the reference RAM's bytes at pa) or
 * `same ^ OFF MASK` (those with byte OFF xored with MASK), or `null`.
 * Returns the number of tokens used (0: not a data operand), fills buf.
 */
int conform_parse_data(const conform_view_t *v, char **tok, int ntok, int pos, uint64_t pa,
                       uint8_t *buf, uint64_t len, bool *is_null);
uint8_t conform_pattern_byte(uint64_t k);

/* ---- the reference's RAM ------------------------------------------------ */
void conform_ref_write(const conform_view_t *v, uint64_t pa, const uint8_t *src, uint64_t len);
uint64_t conform_ref_load(const conform_view_t *v, uint64_t pa, unsigned size);

#endif /* VMMEM_CONFORM_EXT_INT_H */
