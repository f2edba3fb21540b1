/*
 * ref_model.h - the reference models vmmem's core is checked against.
 *
 * Written straight from the manuals (RISC-V Privileged spec "Virtual
 * Address Translation Process"; Zalrsc), slow and obvious, sharing no code
 * and no headers with core/: this file includes only the C library. The
 * harness (fuzz/, conformance/runner/) drives the core and these models
 * with the same inputs and compares.
 */
#ifndef VMMEM_REF_MODEL_H
#define VMMEM_REF_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Outcomes shared by all models ---------------------------------- */
enum ref_access { REF_READ = 0, REF_WRITE = 1, REF_EXEC = 2 };
enum ref_outcome {
    REF_OK = 0,
    REF_PAGE_FAULT,
    REF_ACCESS_FAULT,
    REF_MISALIGNED,
};
const char *ref_outcome_name(int outcome);
/* RISC-V exception cause for (outcome, access); -1 for REF_OK. */
int ref_cause(int outcome, int access);

/* ---- Physical memory: a flat byte array plus MMIO routing ------------ */
#define REF_MAX_MMIO 16
struct ref_mmio { uint64_t base, size; };
typedef struct ref_mem {
    uint8_t *ram;             /* RAM occupies [base, base + size); ram[0] is PA base */
    uint64_t size;
    struct ref_mmio mmio[REF_MAX_MMIO];
    int n_mmio;
    uint64_t base;            /* first RAM address (0 unless set, e.g. QEMU virt's 0x80000000);
                                 a 4 KiB multiple with base + size <= 2^64 - 1 */
} ref_mem_t;
/* Is [pa, pa + len) wholly inside RAM (len 0: pa within [base, base + size])? */
bool ref_mem_in_ram(const ref_mem_t *m, uint64_t pa, uint64_t len);

/* Where a physical access of `size` bytes at pa lands. */
enum ref_route {
    REF_ROUTE_RAM = 0,      /* wholly inside RAM */
    REF_ROUTE_MMIO,         /* wholly inside region *region, at *offset, naturally aligned */
    REF_ROUTE_MMIO_BAD,     /* touches a region but straddles its edge or is misaligned */
    REF_ROUTE_NONE,         /* some byte is neither RAM nor MMIO (or pa+size overflows) */
};
int ref_mem_route(const ref_mem_t *m, uint64_t pa, uint64_t size, int *region, uint64_t *offset);
/* Would a new region [base, base+size) be accepted (non-empty, no overflow,
 * no overlap with RAM or another region)? */
bool ref_mem_region_ok(const ref_mem_t *m, uint64_t base, uint64_t size);
/*
 * The answer to a scalar physical access of `size` bytes at pa, in the order
 * vmmem/physmem.h ("Scalar accesses") checks: size not 1/2/4/8; pa + size
 * beyond 2^64 - 1; wholly in RAM; a region touched but not wholly and
 * naturally aligned inside (MMIO error); wholly inside a region (the device,
 * *region and *offset set); else no address.
 */
enum ref_scalar {
    REF_SCALAR_RAM = 0,
    REF_SCALAR_DEVICE,
    REF_SCALAR_BAD_SIZE,     /* VM_ERR_INVALID_ARGUMENT */
    REF_SCALAR_NO_ADDRESS,   /* VM_ERR_INVALID_ADDRESS */
    REF_SCALAR_MMIO_ERROR,   /* VM_ERR_MMIO */
};
int ref_mem_scalar(const ref_mem_t *m, uint64_t pa, uint64_t size, int *region, uint64_t *offset);

/* ---- LR/SC reservations: a sequential model of Zalrsc ------------------ */
#define REF_MAX_HARTS 8
typedef struct ref_resv {
    bool valid[REF_MAX_HARTS];
    uint64_t granule[REF_MAX_HARTS];  /* 8-byte aligned */
} ref_resv_t;
void ref_resv_reset(ref_resv_t *r);
void ref_resv_lr(ref_resv_t *r, int hart, uint64_t pa);
/* Any write of [pa, pa+len) to RAM by anyone breaks overlapping reservations. */
void ref_resv_write(ref_resv_t *r, uint64_t pa, uint64_t len);
/* SC by hart: true iff it may store; always clears the hart's reservation;
 * on success also breaks the other harts' reservations on that granule. */
bool ref_resv_sc(ref_resv_t *r, int hart, uint64_t pa, unsigned size);
void ref_resv_invalidate(ref_resv_t *r, uint64_t pa, uint64_t len);

/* ---- RISC-V Sv39/Sv48/Sv57 translation ------------------------------- */
typedef struct ref_rv_state {
    int levels;            /* 0 = Bare, 3 = Sv39, 4 = Sv48, 5 = Sv57 */
    uint64_t root_ppn;     /* satp.PPN */
    uint16_t asid;         /* satp.ASID */
    int priv;              /* 0 = U, 1 = S, 3 = M */
    bool sum, mxr;
    bool ad_hardware;      /* true: Svadu (set A/D), false: Svade (fault) */
} ref_rv_state_t;

/* satp -> state fields; returns false (state unchanged) for an unsupported MODE. */
bool ref_rv_write_satp(ref_rv_state_t *s, uint64_t satp);

#define REF_MAX_LEVELS 5
typedef struct ref_rv_step {        /* one PTE read, for the decoded report */
    int i;                         /* level */
    uint64_t a;                    /* table base */
    uint64_t pte_addr;
    uint64_t pte;                  /* value read (0 if the read failed) */
} ref_rv_step_t;

typedef struct ref_rv_walk {
    int outcome;                   /* REF_OK, REF_PAGE_FAULT, REF_ACCESS_FAULT */
    uint64_t pa;                   /* when REF_OK */
    int level;                     /* i of the leaf, or where the walk stopped; -1 if none */
    uint64_t pte_addr, pte;        /* the leaf (as read, before any A/D update) */
    bool ad_write;                 /* the walk writes the leaf PTE back ... */
    uint64_t ad_value;             /* ... with this value (A, and D on stores, set) */
    int n_steps;
    ref_rv_step_t steps[REF_MAX_LEVELS];
    const char *why;               /* which spec step decided a fault */
} ref_rv_walk_t;

/*
 * The spec's translation algorithm, steps 1-8, for one access. Reads PTEs
 * from m->ram one at a time (a PTE outside RAM is an access fault). When
 * `apply` is true and the walk succeeds with an A/D update, the PTE is
 * written into m->ram (so the model memory tracks the core's). Bare mode
 * and M-mode give the identity. Does not check that the final PA is backed.
 */
void ref_rv_translate(ref_mem_t *m, const ref_rv_state_t *s, uint64_t va, int access,
                      bool apply, ref_rv_walk_t *out);
/* Print the walk level by level (PTE address, value, decoded flags). */
void ref_rv_walk_print(const ref_rv_walk_t *w, uint64_t va, int access, void *FILE_stream);

/*
 * The TLB-aware acceptance rule (see conformance/README.md). After a PTE is
 * changed without a flush, hardware may still use a translation it cached.
 * ref_tlb_t remembers every leaf a successful walk could have cached (for
 * ITLB and DTLB separately), with its ASID/global tag and the PTE as read;
 * flushes drop exactly what the corresponding sfence.vma drops. An observed
 * outcome is legal iff it equals the fresh walk or equals the outcome that
 * one of the remembered leaves gives under the current priv/SUM/MXR and
 * ASID (a write through a remembered leaf needs D set in it; one that would
 * need an A/D update is not a legal hit).
 */
/* >= the core's largest TLBs together (4096 + 4096): see ref_tlb.c. */
#define REF_TLB_MAX 8192
typedef struct ref_tlb_entry {
    bool valid;
    bool exec_side;                /* true: ITLB, false: DTLB */
    uint64_t va;                   /* the VA that filled it */
    int level;                     /* leaf level: the entry covers 2^(12 + 9*level) bytes */
    int levels;                    /* paging levels at fill (3/4/5) */
    uint16_t asid;
    bool global;
    uint64_t pte;                  /* leaf PTE as cached (after any A/D update) */
} ref_tlb_entry_t;
typedef struct ref_tlb {
    ref_tlb_entry_t e[REF_TLB_MAX];
    int n;
} ref_tlb_t;
void ref_tlb_reset(ref_tlb_t *t);
/* Record the leaf of a successful walk that the core may have cached. */
void ref_tlb_record(ref_tlb_t *t, const ref_rv_state_t *s, uint64_t va, int access,
                    const ref_rv_walk_t *w);
void ref_tlb_flush_all(ref_tlb_t *t);
void ref_tlb_flush_asid(ref_tlb_t *t, uint16_t asid);   /* non-global of that ASID */
void ref_tlb_flush_page(ref_tlb_t *t, uint64_t va);     /* covering va, any ASID, global too */
/*
 * Is (outcome, pa) a legal answer for this access? fresh is the walk the
 * reference just did (with apply == false).
 */
bool ref_tlb_legal(const ref_tlb_t *t, const ref_rv_state_t *s, uint64_t va, int access,
                   const ref_rv_walk_t *fresh, int outcome, uint64_t pa);
/*
 * Does t remember a leaf of that side (ITLB when exec_side), filled under
 * `levels`-level paging, mapping the 2^shift-byte page at page_va to
 * page_pa, that a cached entry may stand for: a global entry (global)
 * only for a global leaf, an entry tagged asid for a global leaf or one
 * of that ASID?
 * (The white-box check of what the core's TLBs hold: every cached entry
 * must be one of these.)
 */
bool ref_tlb_remembers(const ref_tlb_t *t, bool exec_side, int levels, uint64_t page_va,
                       unsigned shift, uint64_t page_pa, bool global, uint16_t asid);

/* ---- AArch64 stage 1 EL1&0 translation and its TLB oracle ------------- */
#include "ref_arm64.h"

/* ---- x86-64 4-/5-level paging and its TLB oracle ----------------------- */
#include "ref_x86_64.h"

#endif /* VMMEM_REF_MODEL_H */
