/*
 * tlb.h - one software TLB (the MMU has two: ITLB and DTLB) with its
 * level-0 fast array. Not installed. The design is described at the top of
 * tlb.c.
 */
#ifndef VMMEM_TLB_H
#define VMMEM_TLB_H

#include "vmmem/mmu.h"
#include "vmmem/mmu_inline.h"
#include "physmem_int.h"
#include "walk_int.h"

#define TLB_MAX_ENTRIES 4096u
#define TLB_NIL UINT16_MAX
/* Tag of an empty fast slot: no masked access value (bits 11:3 are always
 * zero there) can equal it. */
#define TLB_FAST_INVALID UINT64_MAX
/* Fills remembered by index; beyond that a clear rewrites every slot. */
#define TLB_FAST_RECENT 32u /* a power of two */

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

struct tlb_entry {
    uint64_t tag;       /* va & ~page_mask, full 64 bits */
    uint64_t page_mask; /* page size - 1: a superpage is one entry */
    vm_gpa_t pa_base;   /* physical base of the page */
    uint64_t perms;     /* permission vector, see above */
    uint16_t asid;
    uint16_t asid_mask; /* 0xffff: ASID must match; 0: global entry */
    uint8_t flags;      /* TLB_F_* */
    uint8_t pkey;       /* x86 protection key (with TLB_F_PKEY) */
    uint8_t shift;      /* log2 of the page size */
    uint8_t fast_used;  /* a fast slot was filled from it (else no scan when it goes) */
    uint16_t prev, next; /* LRU ring (next: towards the least recent); free list via next */
    uint16_t hnext;     /* hash chain */
    uint16_t *pprev;    /* the link that points at this entry: its bucket's head or
                           the previous entry's hnext (the kernel's hlist): unlinking
                           needs neither a hash, a chain walk nor a test for the head */
};

struct tlb {
    struct tlb_entry *e;
    uint16_t *bucket;        /* hash heads */
    unsigned hash_shift;     /* 64 - log2(number of buckets) */
    size_t capacity, count;
    uint16_t mru;            /* head of the LRU ring (TLB_NIL: empty); its prev is the
                                least recently used entry */
    uint16_t free_head;      /* unused entries */
    uint64_t shifts;         /* bit s set iff some entry has page shift s */
    uint16_t nshift[64];     /* entries per page shift */
    vm_mmu_fast_slot_t *fast; /* the level-0 slots of this TLB's side */
    uint64_t fast_index_mask; /* number of slots - 1 (a power of two less one) */
    size_t fast_filled;      /* slots filled since the last full clear */
    uint32_t fast_recent[TLB_FAST_RECENT]; /* the first fills' slot indexes, so a
                                              clear after few fills is cheap */
};

/* Create an empty TLB of `capacity` entries (1..TLB_MAX_ENTRIES). */
VM_HIDDEN vm_err_t tlb_init(struct tlb *t, size_t capacity);
VM_HIDDEN void tlb_destroy(struct tlb *t);

/* Byte-offset mask of the fast slots, as vm_mmu_fast_t wants it. */
static inline uint64_t tlb_fast_mask(const struct tlb *t)
{
    return t->fast_index_mask << 5;
}

/*
 * The entry covering va that is visible under asid (global or same ASID),
 * whatever its permissions; NULL if none. O(number of page sizes present).
 */
static inline uint64_t tlb_hash(uint64_t tag, unsigned shift, unsigned hash_shift)
{
    return ((tag >> shift) * UINT64_C(0x9e3779b97f4a7c15) + shift) >> hash_shift;
}

/* Is e visible under asid: global, or tagged with that very ASID? */
static inline bool tlb_visible(const struct tlb_entry *e, uint16_t asid)
{
    return ((e->asid ^ asid) & e->asid_mask) == 0;
}

/* One probe of the chain for (va's page of size 2^shift). */
static inline struct tlb_entry *tlb_probe(struct tlb *t, vm_gva_t va, unsigned shift,
                                          uint16_t asid)
{
    const uint64_t tag = va & ~((UINT64_C(1) << shift) - 1);
    for (uint16_t i = t->bucket[tlb_hash(tag, shift, t->hash_shift)]; i != TLB_NIL;
         i = t->e[i].hnext) {
        struct tlb_entry *e = &t->e[i];
        if (e->tag == tag && e->shift == shift && tlb_visible(e, asid))
            return e;
    }
    return NULL;
}

/* One probe per page size present. */
static inline struct tlb_entry *tlb_lookup_sizes(struct tlb *t, vm_gva_t va, uint16_t asid)
{
    for (uint64_t shifts = t->shifts; shifts != 0; shifts &= shifts - 1) {
        struct tlb_entry *e = tlb_probe(t, va, (unsigned)__builtin_ctzll(shifts), asid);
        if (e != NULL)
            return e;
    }
    return NULL;
}

static inline struct tlb_entry *tlb_lookup(struct tlb *t, vm_gva_t va, uint16_t asid)
{
    /* The common TLB holds 4 KiB entries only: one probe with the shift a
     * constant. */
    if (VM_LIKELY(t->shifts == UINT64_C(1) << 12))
        return tlb_probe(t, va, 12, asid);
    return tlb_lookup_sizes(t, va, asid);
}

/*
 * What a failed lookup in a TLB of 4 KiB entries only learnt, for the fill
 * that follows the walk (tlb_insert): the bucket of the page (bits 15:0),
 * and TLB_HINT_SEEN if an entry of that page is in the bucket (under any
 * ASID, with any permissions). TLB_HINT_NONE means "nothing known". (The
 * common case, a bucket and nothing seen, has both bits clear: one test.)
 */
#define TLB_HINT_NONE (UINT32_C(1) << 16)
#define TLB_HINT_SEEN (UINT32_C(1) << 17)

/* In a TLB of 4 KiB entries only (t->shifts == 1 << 12): tlb_lookup,
 * also giving the hint above. */
static inline struct tlb_entry *tlb_lookup_4k_hint(struct tlb *t, vm_gva_t va, uint16_t asid,
                                                   uint32_t *hint)
{
    const uint64_t tag = va & ~UINT64_C(0xfff);
    const uint32_t hb = (uint32_t)tlb_hash(tag, 12, t->hash_shift);
    uint32_t h = hb;
    for (uint16_t i = t->bucket[hb]; i != TLB_NIL; i = t->e[i].hnext) {
        struct tlb_entry *e = &t->e[i];
        if (e->tag == tag) { /* (every entry is 4 KiB here) */
            h |= TLB_HINT_SEEN;
            if (tlb_visible(e, asid)) {
                *hint = h;
                return e;
            }
        }
    }
    *hint = h;
    return NULL;
}

/* Link entry i into the LRU ring as its head (the most recently used). */
static inline void tlb_ring_push(struct tlb *t, uint16_t i)
{
    struct tlb_entry *e = &t->e[i];
    const uint16_t h = t->mru;
    if (h == TLB_NIL) {
        e->prev = e->next = i;
    } else {
        const uint16_t last = t->e[h].prev;
        e->next = h;
        e->prev = last;
        t->e[last].next = i;
        t->e[h].prev = i;
    }
    t->mru = i;
}

/* Make e the most recently used entry. */
static inline void tlb_touch(struct tlb *t, struct tlb_entry *e)
{
    const uint16_t i = (uint16_t)(e - t->e);
    const uint16_t h = t->mru;
    if (h == i)
        return;
    struct tlb_entry *head = &t->e[h];
    const uint16_t last = head->prev;
    if (last != i) {
        /* Out of its place (the ring has three entries or more here) and
         * in between the last and the head. The least recently used needs
         * neither: one turn of the ring makes it the head. */
        t->e[e->prev].next = e->next;
        t->e[e->next].prev = e->prev;
        e->next = h;
        e->prev = last;
        t->e[last].next = i;
        head->prev = i;
    }
    t->mru = i;
}

/* ---- Filling: inline, so a TLB miss pays no call for it ------------------ */

static inline void tlb_fast_invalidate(vm_mmu_fast_slot_t *s)
{
    s->tag[0] = TLB_FAST_INVALID;
    s->tag[1] = TLB_FAST_INVALID;
}

VM_HIDDEN void tlb_fast_drop_super(struct tlb *t, const struct tlb_entry *e);

/* Clear the slots of the pages of entry e (it is leaving the TLB): one slot
 * for a 4 KiB entry, a scan (out of line) for a superpage whose pages were
 * ever used through the fast array. */
static inline void tlb_fast_drop_entry(struct tlb *t, const struct tlb_entry *e)
{
    if (VM_LIKELY(e->page_mask == 0xfff)) {
        /* Its one slot, tested directly (cheaper than asking whether it
         * was ever filled). A slot holds a page VA in whichever tags are
         * valid. */
        vm_mmu_fast_slot_t *s = &t->fast[(e->tag >> 12) & t->fast_index_mask];
        if ((s->tag[0] & ~UINT64_C(0xfff)) == e->tag || (s->tag[1] & ~UINT64_C(0xfff)) == e->tag)
            tlb_fast_invalidate(s);
        return;
    }
    if (e->fast_used && t->fast_filled != 0)
        tlb_fast_drop_super(t, e);
}

static inline void tlb_hash_unlink(struct tlb *t, const struct tlb_entry *e)
{
    *e->pprev = e->hnext;
    if (e->hnext != TLB_NIL)
        t->e[e->hnext].pprev = e->pprev;
}

/* Take e out of the TLB (hash, LRU, size mask, fast slots) onto the free list. */
VM_HIDDEN void tlb_remove(struct tlb *t, struct tlb_entry *e);

/* Before a fill: remove the entries of bucket hb for page `tag` of size
 * 2^shift that a lookup under asid could find (under any ASID when
 * `global`), and when larger entries exist, the fast slots of the page's
 * range (the lookup will answer with the new, smaller entry there; a slot
 * a larger one filled must not keep answering in its place). */
VM_HIDDEN void tlb_remove_same_page(struct tlb *t, uint16_t hb, uint64_t tag, unsigned shift,
                                    uint16_t asid, bool global);

/*
 * Insert the translation of va (tag-normalised) found by a walk, tagged
 * asid, and return its entry (the most recently used). An
 * entry with the same page (same size) that a lookup under the same ASID
 * could find (under any ASID when the new one is global) is replaced; then
 * an unused entry is taken, else the least recently used one is evicted.
 * hint: from tlb_lookup_4k_hint just before the walk (which leaves the TLB
 * alone), or TLB_HINT_NONE: for a 4 KiB page it spares the hash, and the search for a
 * same-page entry when the lookup saw none.
 */
static VM_ALWAYS_INLINE struct tlb_entry *tlb_insert(struct tlb *t, vm_gva_t va,
                                                     uint16_t asid, const struct walk_result *r,
                                                     uint32_t hint)
{
    const unsigned shift = (unsigned)__builtin_ctzll(~r->page_mask);
    const uint64_t tag = va & ~r->page_mask;
    const bool known = (hint & TLB_HINT_NONE) == 0 && shift == 12;
    const uint16_t hb = known ? (uint16_t)hint : (uint16_t)tlb_hash(tag, shift, t->hash_shift);

    /* Replace a same-page entry visible next to the new one, and clear the
     * slots a larger entry filled in its range (out of line: its loop
     * around a call would cost the common fill spills). A hint exists only
     * while the TLB holds 4 KiB entries alone, so with any larger entry
     * present this call is made. */
    if (!known || (hint & TLB_HINT_SEEN) != 0)
        tlb_remove_same_page(t, hb, tag, shift, asid, r->global);

    uint16_t i = t->free_head;
    struct tlb_entry *e;
    if (VM_LIKELY(i == TLB_NIL)) {
        /* Full: reuse the least recently used entry (the ring's last) in
         * place; it becomes the most recently used by one turn of the ring,
         * its links unchanged. */
        i = t->e[t->mru].prev;
        e = &t->e[i];
        tlb_fast_drop_entry(t, e);
        tlb_hash_unlink(t, e);
        t->mru = i;
        if (VM_UNLIKELY(e->shift != shift)) {
            if (--t->nshift[e->shift] == 0)
                t->shifts &= ~(UINT64_C(1) << e->shift);
            if (t->nshift[shift]++ == 0)
                t->shifts |= UINT64_C(1) << shift;
        }
    } else {
        e = &t->e[i];
        t->free_head = e->next;
        t->count++;
        if (t->nshift[shift]++ == 0)
            t->shifts |= UINT64_C(1) << shift;
        tlb_ring_push(t, i);
    }
    e->tag = tag;
    e->page_mask = r->page_mask;
    e->pa_base = r->page_pa;
    e->perms = r->perms;
    e->asid = asid;
    e->asid_mask = r->global ? 0 : 0xffff;
    e->flags = r->tlb_flags;
    e->pkey = r->pkey;
    e->shift = (uint8_t)shift;
    e->fast_used = 0;
    /* Hash chain head (the removals above may have changed the bucket). */
    const uint16_t h = t->bucket[hb];
    e->pprev = &t->bucket[hb];
    e->hnext = h;
    if (h != TLB_NIL)
        t->e[h].pprev = &e->hnext;
    t->bucket[hb] = i;
    return e;
}

/* Flushes: everything; non-global entries of asid; entries covering va
 * (any ASID, global too); entries covering va tagged asid (global ones too
 * when include_global); every non-global entry; entries with any of
 * `flags`. Each also drops the fast slots of what it removes. */
VM_HIDDEN void tlb_flush_all(struct tlb *t);
VM_HIDDEN void tlb_flush_asid(struct tlb *t, uint16_t asid);
VM_HIDDEN void tlb_flush_va(struct tlb *t, vm_gva_t va);
VM_HIDDEN void tlb_flush_va_asid(struct tlb *t, vm_gva_t va, uint16_t asid, bool include_global);
VM_HIDDEN void tlb_flush_nonglobal(struct tlb *t);
VM_HIDDEN void tlb_flush_flagged(struct tlb *t, uint8_t flags);

/* Drop every fast slot (a change of permission context or address space). */
VM_HIDDEN void tlb_fast_clear(struct tlb *t);

/* Write the slot of `page` (remembered for tlb_fast_clear). */
static inline void tlb_fast_set(struct tlb *t, vm_gva_t page, vm_gpa_t pa_page,
                                const uint8_t *host_page, uint64_t tag0, uint64_t tag1)
{
    const size_t k = (size_t)((page >> 12) & t->fast_index_mask);
    vm_mmu_fast_slot_t *s = &t->fast[k];
    s->tag[0] = tag0;
    s->tag[1] = tag1;
    s->addend = (uintptr_t)host_page - (uintptr_t)page;
    s->pa_page = pa_page;
    /* Past TLB_FAST_RECENT fills the list wraps (no test here): a clear
     * then rewrites the whole array and never reads it. */
    t->fast_recent[t->fast_filled & (TLB_FAST_RECENT - 1)] = (uint32_t)k;
    t->fast_filled++;
}

/*
 * Fill the fast slot of the 4 KiB page `page` (a VA, page aligned) from
 * entry e, which maps it to pa_page (host address host_page): tag[k] is the
 * page when e's permissions include need_k, else invalid. The caller
 * checked that the physical 4 KiB page lies wholly in RAM, and that page
 * lies under e's own tag ((page & ~e->page_mask) == e->tag): a slot keyed
 * by another VA - an Arm VA whose top byte TBI ignores is looked up by its
 * normalised tag - would survive its entry (tlb_fast_drop_entry finds
 * slots by the entry's tag).
 */
static inline void tlb_fast_fill(struct tlb *t, struct tlb_entry *e, vm_gva_t page,
                                 vm_gpa_t pa_page, const uint8_t *host_page, uint64_t need0,
                                 uint64_t need1)
{
    tlb_fast_set(t, page, pa_page, host_page,
                 (e->perms & need0) != 0 ? page : TLB_FAST_INVALID,
                 (e->perms & need1) != 0 ? page : TLB_FAST_INVALID);
    e->fast_used = 1;
}

/*
 * With translation off (mmu->identity: RISC-V Bare or M-mode, x86 CR0.PG=0),
 * the slot of a RAM page maps it to itself for every access kind of its
 * side (code: tag[0] only), backed by no entry: the identity map does not
 * change while translation stays off, and turning it on (or any other
 * change of context) clears the slots (mmu_refresh). page lies wholly in
 * RAM (the caller checked).
 */
static inline void tlb_fast_fill_identity(struct tlb *t, vm_gva_t page, const uint8_t *host_page,
                                          bool code)
{
    tlb_fast_set(t, page, page, host_page, page, code ? TLB_FAST_INVALID : page);
}

#endif /* VMMEM_TLB_H */
