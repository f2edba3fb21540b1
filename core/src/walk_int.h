/*
 * walk_int.h - the generic page-table walker and the per-format descriptor
 * it is parameterised by. Not installed.
 *
 * One level loop (walk.c) serves every paging format; what differs between
 * formats - how many levels, how many VPN bits each level indexes, the PTE
 * size, the VA width, and how a PTE is decoded - lives in a small constant
 * descriptor (struct walk_format). walk_riscv.c provides Sv39/Sv48/Sv57;
 * x86-64 and Arm64 descriptors slot in the same way (rv8 / Linux
 * mm/pagewalk.c style: one short loop, accessors instead of raw masks).
 */
#ifndef VMMEM_WALK_INT_H
#define VMMEM_WALK_INT_H

#include "vmmem/mmu.h"
#include "physmem_int.h"

#define WALK_MAX_LEVELS 5

/* What a PTE is, as far as the level loop cares. */
enum walk_pte_kind {
    WALK_PTE_INVALID = 0, /* stop: page fault (reason set by the decoder) */
    WALK_PTE_POINTER,     /* points to the next-level table */
    WALK_PTE_LEAF,        /* maps a page (or superpage) */
};

/* The translation context of one walk: everything besides the VA and access. */
struct walk_ctx {
    vm_physmem_t *pm;
    vm_gpa_t root;     /* physical base of the root table */
    vm_priv_t priv;    /* VM_PRIV_U or VM_PRIV_S (M never walks) */
    bool sum, mxr;
    bool ad_hardware;  /* VM_AD_HARDWARE: set A/D by compare-and-swap */
    bool speculative;  /* no A/D write and no A/D check (invalidate_reservation) */
};

/* A successful walk. */
struct walk_result {
    vm_gpa_t pa;         /* translated address of the VA */
    vm_gpa_t page_pa;    /* physical base of the (super)page */
    uint64_t page_mask;  /* page size - 1 */
    uint64_t pte;        /* leaf PTE as it is in memory now (after any A/D update) */
    int level;           /* leaf level */
    bool global;         /* a PTE on the path marked the mapping global */
};

/*
 * The per-format descriptor. Level 0 is the last level (4 KiB pages); the
 * walk starts at levels-1. Hooks receive raw PTE values and never touch
 * memory; the loop does all memory accesses.
 */
struct walk_format {
    const char *name;
    unsigned levels;
    unsigned va_bits;                        /* VA bits 63..va_bits-1 must be equal */
    unsigned pte_size;                       /* bytes per PTE (8, or 4 for Sv32-like formats) */
    unsigned level_shift[WALK_MAX_LEVELS];   /* lowest VA bit indexed at each level */
    unsigned index_bits[WALK_MAX_LEVELS];    /* VA bits indexed at each level */

    /* Classify; for WALK_PTE_INVALID set *reason. `level` lets a format
     * forbid leaves or pointers at some levels. */
    enum walk_pte_kind (*classify)(uint64_t pte, int level, const char **reason);
    /* Physical base of the next table of a pointer PTE. */
    vm_gpa_t (*table_addr)(uint64_t pte);
    /* Physical address a leaf maps (its low bits must be zero for the
     * page size, else "misaligned superpage"). */
    vm_gpa_t (*leaf_addr)(uint64_t pte);
    /* Does the leaf permit `access` in ctx? If not set *reason. */
    bool (*permits)(uint64_t pte, const struct walk_ctx *ctx, vm_access_t access,
                    const char **reason);
    /* The PTE with the A (and D for a store) bits the access needs, or pte
     * itself when nothing needs setting; *reason names the missing bit. */
    uint64_t (*ad_needed)(uint64_t pte, vm_access_t access, const char **reason);
    /* Does this PTE (leaf or pointer) mark its mappings global? The walk
     * ORs it over the path. */
    bool (*is_global)(uint64_t pte);
    /* TLB permission vector of a leaf (see tlb.h, tlb_perm_bit). */
    uint32_t (*tlb_perms)(uint64_t pte);
};

/* Sv39/Sv48/Sv57 descriptors (walk_riscv.c); NULL for any other mode. */
VM_HIDDEN const struct walk_format *walk_riscv_format(vm_paging_mode_t mode);

/* Is va canonical for fmt (bits 63..va_bits-1 all equal)? */
static inline bool walk_va_canonical(const struct walk_format *fmt, vm_gva_t va)
{
    uint64_t top = va >> (fmt->va_bits - 1);
    return top == 0 || top == (UINT64_MAX >> (fmt->va_bits - 1));
}

/*
 * Walk the tables for one access of va. On success fill *out and return
 * VM_OK. On failure return VM_ERR_PAGE_FAULT or VM_ERR_ACCESS_FAULT and
 * fill *fault (va, access, kind, cause, level, pte_addr, pte, reason).
 * Unless ctx->speculative, a leaf whose A (or D for a store) is clear is
 * either a page fault (Svade) or updated by compare-and-swap, restarting
 * the walk if the PTE changed under us (Svadu).
 */
VM_HIDDEN vm_err_t walk_translate(const struct walk_format *fmt, const struct walk_ctx *ctx,
                                  vm_gva_t va, vm_access_t access, struct walk_result *out,
                                  vm_fault_t *fault);

/* Fill a fault record (cause derived from kind and access). */
VM_HIDDEN void walk_fault_set(vm_fault_t *f, vm_gva_t va, vm_access_t access,
                              vm_fault_kind_t kind, const char *reason, int level,
                              vm_gpa_t pte_addr, uint64_t pte);

#endif /* VMMEM_WALK_INT_H */
