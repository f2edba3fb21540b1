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
 * Permission vector: bit ctx*3 + access, where ctx is the permission
 * context of the mode's registers (at most TLB_MAX_CTX of them: RISC-V
 * priv x SUM x MXR, x86 user x WP x SMEP x SMAP-without-AC, Arm EL x PAN x
 * WXN; see mmu_*_ctx) and access is VM_ACCESS_READ/WRITE/EXEC. A bit is set
 * only if the access is allowed in that context without any A/D update (so
 * W only when D was set at fill). The registers are therefore read on every
 * hit and changing them needs no flush. TLB_PERM_NEVER is a bit no entry
 * ever carries: asking for it forces the slow path (Bare, M-mode, paging off).
 */
#define TLB_MAX_CTX 21u
#define TLB_PERM_NEVER (UINT64_C(1) << 63)

static inline uint64_t tlb_perm_bit(unsigned ctx, vm_access_t access)
{
    return UINT64_C(1) << (ctx * 3u + (unsigned)access);
}

/* What a fill puts in an entry (a walk result, tagged). */
struct tlb_fill {
    vm_gva_t va;        /* the (tag-normalised) VA that was translated */
    uint64_t page_mask; /* page size - 1 */
    vm_gpa_t pa_base;
    uint64_t perms;
    uint16_t asid;
    bool global;
    uint8_t flags;      /* TLB_F_* (walk_int.h) */
    uint8_t pkey;
    int8_t level;
};

struct tlb_entry {
    uint64_t tag;       /* va & ~page_mask, full 64 bits; TLB_TAG_INVALID when empty */
    uint64_t page_mask; /* page size - 1: a superpage is one entry */
    vm_gpa_t pa_base;   /* physical base of the page */
    uint64_t last_use;  /* LRU stamp (tlb.clock at the last hit or fill) */
    uint64_t perms;     /* permission vector, see above */
    uint16_t asid;
    uint16_t asid_mask; /* 0xffff: ASID must match; 0: global entry */
    uint8_t flags;      /* TLB_F_* */
    uint8_t pkey;       /* x86 protection key (with TLB_F_PKEY) */
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
                                              uint64_t need)
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
VM_HIDDEN void tlb_insert(struct tlb *t, const struct tlb_fill *f);

/* sfence.vma forms: everything; non-global entries of asid; entries covering va. */
VM_HIDDEN void tlb_flush_all(struct tlb *t);
VM_HIDDEN void tlb_flush_asid(struct tlb *t, uint16_t asid);
VM_HIDDEN void tlb_flush_va(struct tlb *t, vm_gva_t va);
/* Entries covering va tagged asid (global ones too when include_global). */
VM_HIDDEN void tlb_flush_va_asid(struct tlb *t, vm_gva_t va, uint16_t asid, bool include_global);
/* Every non-global entry. */
VM_HIDDEN void tlb_flush_nonglobal(struct tlb *t);
/* Every entry with any of the TLB_F_* flags in `flags` (x86: PKRU changes). */
VM_HIDDEN void tlb_flush_flagged(struct tlb *t, uint8_t flags);

#endif /* VMMEM_TLB_H */
