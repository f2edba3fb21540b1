/*
 * conform_ext.h - how vmmem-conform hands work to its extension files
 * (conform_*.c): the line kinds that fuzz findings need (harts, LR/SC
 * through the MMU and physically, bulk transfers, physical accesses with
 * their error answers, register-file devices, TLB resize, the page-table
 * builder) and the checks that run on every line (device calls, the
 * walk-or-hit rule, the RAM compare at the end of a file).
 *
 * The runner (vmmem_conform.c) keeps its machine private. It shows an
 * extension a view of it: pointers to the fields an extension may read or
 * change (the acting hart's core MMU, reference state and remembered TLB
 * leaves swap when a `hart N` line selects another hart). The hooks:
 *
 *   conform_ext_start / conform_ext_end / conform_ext_free
 *                          per file: state, end-of-file checks, release
 *   conform_ext_line       every line the runner does not know; returns
 *                          CONFORM_DONE, CONFORM_NOT_MINE or CONFORM_ERROR
 *   conform_ext_after_line after every line: device calls core vs reference
 *   conform_ext_ram_written the reference wrote RAM (reservations break)
 *   conform_ext_ref_mmio   the reference's side of an MMIO data access
 *   conform_lookup_*       the walk-or-hit rule for one access (TLB counters)
 *
 * Everything an extension checks counts in the file's expectations and
 * failures, and is reported as "file:line: message" like the runner's own
 * checks (a failure at the end of a file names the line "end").
 */
#ifndef VMMEM_CONFORM_EXT_H
#define VMMEM_CONFORM_EXT_H

#include "conform_arch.h" /* CONFORM_DONE / NOT_MINE / ERROR, conform_parse_u64 */
#include "ref_model.h"
#include "vmmem/mmu.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct conform_ext conform_ext_t;

/* The runner's machine as an extension sees it (pointers into it). */
typedef struct conform_view {
    const char *file;
    int line;
    bool ref_only;            /* --ref-only: *core is NULL */
    bool verbose;
    vm_mmu_t **core;          /* the acting hart's core MMU */
    ref_mem_t *mem;           /* the reference's RAM and MMIO regions */
    ref_rv_state_t *rv;       /* the acting hart's reference state */
    ref_tlb_t **tlb;          /* the acting hart's remembered leaves */
    bool *strict;             /* the acting hart's strict alignment */
    uint64_t *hits_base, *misses_base; /* the acting hart's `expect tlb` baseline */
    int *expectations, *failures;
    conform_ext_t *ext;
} conform_view_t;

/* ---- helpers the runner exports (and conform_parse_u64, conform_arch.h) - */
/* A size with an optional K/M/G suffix (powers of 1024). */
bool conform_parse_size(const char *s, uint64_t *out);

/* ---- helpers the extension files share ------------------------------ */
/* "file:line: message" on stderr; returns CONFORM_ERROR (malformed line). */
int conform_malformed(const conform_view_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A failed expectation: "file:line: message" on stdout, counted. */
void conform_fail(const conform_view_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A held expectation (printed with -v). */
void conform_pass(const conform_view_t *v);

/* ---- hooks ------------------------------------------------------------ */
conform_ext_t *conform_ext_start(const conform_view_t *v);
int conform_ext_line(const conform_view_t *v, char **tok, int ntok);
void conform_ext_after_line(const conform_view_t *v);
/* End of file, before the runner frees hart 0's MMU: back to hart 0, other
 * harts freed, and (checks: the file ran to its end) the final RAM and
 * device compare. */
void conform_ext_end(const conform_view_t *v, bool checks);
/* After hart 0's MMU (and with it the devices) is freed: destroy counts
 * (checked if conform_ext_end had checks), release. */
void conform_ext_free(const conform_view_t *v);

/* The reference wrote [pa, pa + len) of RAM: reservations on it break. */
void conform_ext_ram_written(conform_ext_t *ext, uint64_t pa, uint64_t len);
/*
 * The reference's side of an MMIO data access the routing model accepted
 * (wholly inside one region, naturally aligned): a register-file device is
 * read or written and the call is logged for the compare after the line;
 * the `mmio` dummy device reads 0. Returns the value read.
 */
uint64_t conform_ext_ref_mmio(const conform_view_t *v, uint64_t pa, unsigned size, bool write,
                              uint64_t val);

/* ---- the walk-or-hit rule (conform_lookup.c) ------------------------- */
/*
 * vmmem's contract (mmu.h): one TLB hit or miss per page translated with
 * paging on. A miss is a walk: its answer must be the fresh walk's, and it
 * must have written exactly the fresh walk's A/D update into the PTE; a hit
 * must be justified by a remembered leaf (the acceptance rule) and write
 * no PTE. The counters tell which one the core did.
 */
typedef struct conform_lookup {
    uint64_t h0, m0;          /* counters before the core's access */
    uint64_t dh, dm;          /* how far they moved */
    bool paged;               /* paging active (not Bare, not M-mode) */
} conform_lookup_t;
void conform_lookup_begin(const conform_view_t *v, conform_lookup_t *lk);
void conform_lookup_end(const conform_view_t *v, conform_lookup_t *lk);
/* With translation off no access moves the counters: the message if they
 * moved (into buf), else NULL. */
const char *conform_counters_unpaged(const conform_lookup_t *lk, char *buf, size_t len);
/* Is (outcome, pa) justified by a remembered leaf alone (no fresh walk)? */
bool conform_hit_legal(const conform_view_t *v, uint64_t va, int access,
                       const ref_rv_walk_t *fresh, int outcome, uint64_t pa);
/* Could a remembered leaf answer an access at va (side, mode, ASID, page)? */
bool conform_leaf_covers(const conform_view_t *v, uint64_t va, int access);
/*
 * How many of the n page parts (part_va[], their fresh walks walk[]) of one
 * access could be TLB hits: a remembered leaf covers the page, or an earlier
 * part's walk filled a leaf that does (a superpage spans both pages).
 */
uint64_t conform_parts_covered(const conform_view_t *v, const uint64_t *part_va,
                               const ref_rv_walk_t *walk, int n, int access);
/*
 * The PTE words a walk read, core vs reference (the reference already
 * applied its A/D write if the core walked). NULL if they agree, else a
 * message in buf.
 */
const char *conform_walk_memory(const conform_view_t *v, const ref_rv_walk_t *w, char *buf,
                                size_t len);
/* RAM [pa, pa + len), core vs reference; NULL if equal (or not RAM). */
const char *conform_ram_compare(const conform_view_t *v, uint64_t pa, uint64_t len, char *buf,
                                size_t blen);

#endif /* VMMEM_CONFORM_EXT_H */
