/*
 * tlb.h - one software TLB (the MMU has two: ITLB and DTLB) and its inline
 * hit check. Not installed. The design is described at the top of tlb.c.
 */
#ifndef VMMEM_TLB_H
#define VMMEM_TLB_H

#include "vmmem/mmu.h"
#include "physmem_int.h"

#define TLB_MAX_ENTRIES 4096u
#define TLB_HINT_SHIFT 12u
/* Tag of an empty entry: odd, so never equal to a page-aligned VA. */
#define TLB_TAG_INVALID UINT64_C(1)

/*
 * Permission vector: bit ctx*3 + access, where ctx = tlb_perm_ctx(priv,
 * sum, mxr) (8 contexts) and access is VM_ACCESS_READ/WRITE/EXEC. A bit is
 * set only if the access is allowed in that context without any A/D update
 * (so W only when D was set at fill). TLB_PERM_NEVER is a bit no entry
 * ever carries: asking for it forces the slow path (M-mode, Bare).
 */
#define TLB_PERM_NEVER (UINT32_C(1) << 31)

static inline unsigned tlb_perm_ctx(vm_priv_t priv, bool sum, bool mxr)
{
    return (priv == VM_PRIV_S ? 1u : 0u) | (sum ? 2u : 0u) | (mxr ? 4u : 0u);
}

static inline uint32_t tlb_perm_bit(unsigned ctx, vm_access_t access)
{
    return UINT32_C(1) << (ctx * 3u + (unsigned)access);
}

struct tlb_entry {
    uint64_t tag;       /* va & ~page_mask, full 64 bits; TLB_TAG_INVALID when empty */
    uint64_t page_mask; /* page size - 1: a superpage is one entry */
    vm_gpa_t pa_base;   /* physical base of the page */
    uint64_t last_use;  /* LRU stamp (tlb.clock at the last hit or fill) */
    uint32_t perms;     /* permission vector, see above */
    uint16_t asid;
    uint16_t asid_mask; /* 0xffff: ASID must match; 0: global entry */
    int8_t level;       /* leaf level of the walk that filled it */
};

struct tlb {
    struct tlb_entry *entries;
    uint16_t *hint;      /* (va >> 12) & hint_mask -> entry index to try first */
    uint64_t hint_mask;
    uint64_t clock;      /* LRU clock */
    size_t capacity;
    size_t used;         /* high-water mark: entries [used, capacity) are all empty,
                            so scans and flushes touch only what was filled */
};

/*
 * The hit check (the hot path): one hint index, one tag compare, ASID and
 * permission tests, an LRU stamp. Returns the entry or NULL (then call
 * tlb_lookup_slow, which scans every entry).
 */
static inline const struct tlb_entry *tlb_hit(struct tlb *t, vm_gva_t va, uint16_t asid,
                                              uint32_t need)
{
    struct tlb_entry *e = &t->entries[t->hint[(va >> TLB_HINT_SHIFT) & t->hint_mask]];
    if (VM_LIKELY((va & ~e->page_mask) == e->tag && ((e->asid ^ asid) & e->asid_mask) == 0 &&
                  (e->perms & need) != 0)) {
        e->last_use = ++t->clock;
        return e;
    }
    return NULL;
}

/* Create an empty TLB of `capacity` entries (1..TLB_MAX_ENTRIES). */
VM_HIDDEN vm_err_t tlb_init(struct tlb *t, size_t capacity);
VM_HIDDEN void tlb_destroy(struct tlb *t);

/*
 * Find the entry covering va that is visible under asid (global or same
 * ASID), whatever its permissions, scanning every entry; refresh the hint
 * and, if `touch`, the LRU stamp. NULL if none.
 */
VM_HIDDEN struct tlb_entry *tlb_lookup_slow(struct tlb *t, vm_gva_t va, uint16_t asid, bool touch);

/*
 * Insert a translation. Every entry overlapping the new page that a lookup
 * under asid could find (under any ASID if `global`) is dropped first, so
 * there are no duplicates; then an empty entry is used, else the least
 * recently used one is evicted.
 */
VM_HIDDEN void tlb_insert(struct tlb *t, vm_gva_t va, uint64_t page_mask, vm_gpa_t pa_base,
                          uint16_t asid, bool global, uint32_t perms, int level);

/* sfence.vma forms: everything; non-global entries of asid; entries covering va. */
VM_HIDDEN void tlb_flush_all(struct tlb *t);
VM_HIDDEN void tlb_flush_asid(struct tlb *t, uint16_t asid);
VM_HIDDEN void tlb_flush_va(struct tlb *t, vm_gva_t va);
/* Entries covering va tagged asid (global ones too when include_global). */
VM_HIDDEN void tlb_flush_va_asid(struct tlb *t, vm_gva_t va, uint16_t asid, bool include_global);
/* Every non-global entry. */
VM_HIDDEN void tlb_flush_nonglobal(struct tlb *t);

#endif /* VMMEM_TLB_H */
