/*
 * tlb.c - one software TLB: fully associative, exact LRU, ASID-tagged, O(1)
 * lookup, fill and eviction, with a direct-mapped level-0 array in front.
 *
 * How it works
 *   Entries. Each holds the full 64-bit VA tag (va & ~page_mask: a
 *   superpage or block is ONE entry, its size and leaf level recorded), the
 *   physical base, the ASID with a mask (0 for global entries, so "global
 *   or same ASID" is one xor-and-test), and the permission vector (tlb.h):
 *   the current privilege registers are applied at every hit, so changing
 *   them needs no flush.
 *
 *   Finding an entry: a hash table keyed by (VA >> page shift, page shift),
 *   chained through the entries. A lookup probes once per page size present
 *   in the TLB (a bit mask of the shifts in use: usually 4 KiB alone, or 4
 *   KiB and 2 MiB), smallest first, and walks a chain that holds about one
 *   entry. The chains are keyed without the ASID, so a flush by VA finds
 *   every ASID's entries in the same probes. Each entry records the link
 *   that points at it (its bucket's head or the previous entry's hnext:
 *   the kernel's hlist pprev), so an evicted entry leaves its chain with
 *   one store and one test - no hash, no chain walk, no head case.
 *
 *   Replacement: an exact LRU order, a ring doubly linked through the
 *   entries (index links, no pointers) with the most recently used at its
 *   head and the least recently used just before it: a hit moves the entry
 *   to the head, a fill takes an unused entry or, when the TLB is full,
 *   the last one, which one turn of the ring makes the head without
 *   touching any link. Everything is O(1) in the number of entries; only
 *   the flushes that select by ASID or flag scan.
 *
 *   Duplicates: a fill replaces an entry for the same page and size that a
 *   lookup in the same address space could find. Overlapping entries of
 *   different sizes (a 4 KiB entry under a stale 2 MiB one after a PTE
 *   change without a flush) may coexist: both were valid translations
 *   since the last flush, so either answer is allowed (Priv. spec
 *   SFENCE.VMA; SDM 4.10.2.4; Arm D8.13); the lookup returns the smaller,
 *   and a fill under a larger entry clears the fast slots in its range
 *   that the larger one filled, so an access answers as a lookup would.
 *   Every flush drops all of them.
 *
 *   The level-0 fast array (vmmem/mmu_inline.h): direct-mapped by 4 KiB VA
 *   page, one slot per page with a tag per access kind and a host addend,
 *   filled after an access from the entry that served it, read by the
 *   inline hit path. Every slot is backed by a live entry of this TLB: when
 *   an entry leaves (flush or eviction) the slots of its page range are
 *   cleared - one slot for a 4 KiB entry; a scan only for a superpage whose
 *   pages were ever used through the fast array. The exception is
 *   translation off (Bare, M-mode, x86 CR0.PG=0): then slots map RAM pages
 *   to themselves with no entry behind them (tlb_fast_fill_identity), and
 *   turning translation on is a change of context that clears them all.
 *
 * LRU and the fast array. A hit in the fast array (the loads and stores of
 * vm_mmu_read/write/fetch_insn and the inline accessors) does not move its
 * entry in the LRU list: that would cost a list move on every access. So
 * LRU order is exact over TLB lookups - vm_mmu_translate, and accesses that
 * miss the fast array (the first access to a page after a fill, a context
 * change or a slot conflict) - and an entry used only through the fast
 * array ages as if unused. That is how hardware behaves with a micro-TLB in
 * front of the main TLB; the capacity is exact either way (a slot never
 * outlives its entry).
 *
 * What was rejected
 *   - The previous design: fully associative scans (lookup, duplicate
 *     removal, LRU victim each scanned all entries: a TLB miss cost ~5900
 *     instructions with a full 128-entry DTLB).
 *   - Set-associative or direct-mapped TLBs (TinyEMU, QEMU): cheaper to
 *     index, but the public contract promises a fully associative TLB of a
 *     given capacity with LRU replacement.
 *   - Refreshing LRU order on every fast-array hit, exactly (a stamp per
 *     hit plus a deferred re-sort): seven more instructions on every load,
 *     for an order no architectural rule depends on.
 *   - Keying the hash by ASID too: a flush by VA (sfence.vma va, x0;
 *     INVLPG of a global page; TLBI VAAE1) would then have to probe every
 *     ASID.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc_int.h"
#include "tlb.h"

#define TLB_FAST_MIN_SLOTS 64u

static size_t tlb_pow2_at_least(size_t n, size_t min)
{
    size_t p = min;
    while (p < n)
        p <<= 1;
    return p;
}

static void tlb_fast_clear_all(struct tlb *t)
{
    memset(t->fast, 0xff, (t->fast_index_mask + 1) * sizeof(*t->fast));
    t->fast_filled = 0;
}

vm_err_t tlb_init(struct tlb *t, size_t capacity)
{
    if (capacity < 1 || capacity > TLB_MAX_ENTRIES)
        return VM_ERR_INVALID_ARGUMENT;
    size_t nbucket = tlb_pow2_at_least(2 * capacity, 16);
    size_t nfast = tlb_pow2_at_least(2 * capacity, TLB_FAST_MIN_SLOTS);
    /* Not zeroed: no field of an entry is read before tlb_insert sets it
     * (lookups follow hash chains and flushes the LRU list, which hold
     * inserted entries only; MemorySanitizer runs the cases and corpora). */
    struct tlb_entry *e = alloc_malloc(capacity * sizeof(*e));
    uint16_t *bucket = alloc_malloc(nbucket * sizeof(*bucket));
    vm_mmu_fast_slot_t *fast = alloc_malloc(nfast * sizeof(*fast));
    if (!e || !bucket || !fast) {
        alloc_free(e);
        alloc_free(bucket);
        alloc_free(fast);
        return VM_ERR_OUT_OF_MEMORY;
    }
    unsigned bits = 0;
    while ((UINT64_C(1) << bits) < nbucket)
        bits++;
    memset(t, 0, sizeof(*t));
    t->e = e;
    t->bucket = bucket;
    t->hash_shift = 64 - bits;
    t->capacity = capacity;
    t->fast = fast;
    t->fast_index_mask = nfast - 1;
    /* count != 0 makes tlb_flush_all build the free list and clear the buckets. */
    t->count = capacity;
    tlb_flush_all(t);
    tlb_fast_clear_all(t);
    return VM_OK;
}

void tlb_destroy(struct tlb *t)
{
    alloc_free(t->e);
    alloc_free(t->bucket);
    alloc_free(t->fast);
    memset(t, 0, sizeof(*t));
}

/* ---- The fast array ---------------------------------------------------- */

/* Clear every slot of a page in [tag, tag + page_mask] (an entry larger
 * than 4 KiB that leaves, or a fill under a larger entry:
 * tlb_remove_same_page). A range of fewer pages than the array has slots
 * is visited page by page (one slot each: 4 for a 16 KiB granule's page),
 * a larger one by a scan of the array. */
static void tlb_fast_drop_range(struct tlb *t, uint64_t tag, uint64_t page_mask)
{
    const uint64_t pages = (page_mask >> 12) + 1;
    if (pages <= t->fast_index_mask) {
        for (uint64_t p = tag; p - tag <= page_mask; p += 0x1000) {
            vm_mmu_fast_slot_t *s = &t->fast[(p >> 12) & t->fast_index_mask];
            if ((s->tag[0] & ~UINT64_C(0xfff)) == p || (s->tag[1] & ~UINT64_C(0xfff)) == p)
                tlb_fast_invalidate(s);
        }
        return;
    }
    for (size_t k = 0; k <= t->fast_index_mask; k++) {
        vm_mmu_fast_slot_t *s = &t->fast[k];
        uint64_t page = s->tag[0] != TLB_FAST_INVALID ? s->tag[0] : s->tag[1];
        if (page != TLB_FAST_INVALID && (page & ~page_mask) == tag)
            tlb_fast_invalidate(s);
    }
}

/* The slots of a superpage entry that is leaving (tlb_fast_drop_entry's
 * out-of-line part). */
void tlb_fast_drop_super(struct tlb *t, const struct tlb_entry *e)
{
    tlb_fast_drop_range(t, e->tag, e->page_mask);
}

/*
 * A change of context drops every slot. After few fills (a context that
 * ran briefly, a fuzz input) only those slots are rewritten; after many
 * the whole array is.
 */
void tlb_fast_clear(struct tlb *t)
{
    if (t->fast_filled == 0)
        return;
    if (t->fast_filled > TLB_FAST_RECENT) {
        tlb_fast_clear_all(t);
        return;
    }
    for (size_t k = 0; k < t->fast_filled; k++)
        tlb_fast_invalidate(&t->fast[t->fast_recent[k]]);
    t->fast_filled = 0;
}

/* ---- Entries: hash chains, LRU list, page-size mask --------------------- */

static void tlb_lru_unlink(struct tlb *t, struct tlb_entry *e)
{
    const uint16_t i = (uint16_t)(e - t->e);
    if (e->next == i) { /* the only entry */
        t->mru = TLB_NIL;
        return;
    }
    t->e[e->prev].next = e->next;
    t->e[e->next].prev = e->prev;
    if (t->mru == i)
        t->mru = e->next;
}

/* Take e out of the TLB (hash, LRU, size mask, fast slots) onto the free list. */
void tlb_remove(struct tlb *t, struct tlb_entry *e)
{
    tlb_fast_drop_entry(t, e);
    tlb_hash_unlink(t, e);
    tlb_lru_unlink(t, e);
    if (--t->nshift[e->shift] == 0)
        t->shifts &= ~(UINT64_C(1) << e->shift);
    e->next = t->free_head;
    t->free_head = (uint16_t)(e - t->e);
    t->count--;
}

/* ---- Flushes ------------------------------------------------------------- */

void tlb_flush_all(struct tlb *t)
{
    if (t->count == 0) { /* every entry is on the free list already */
        tlb_fast_clear(t);
        return;
    }
    size_t nbucket = (size_t)1 << (64 - t->hash_shift);
    memset(t->bucket, 0xff, nbucket * sizeof(*t->bucket));
    for (size_t k = 0; k < t->capacity; k++)
        t->e[k].next = k + 1 < t->capacity ? (uint16_t)(k + 1) : TLB_NIL;
    t->free_head = 0;
    t->mru = TLB_NIL;
    t->count = 0;
    t->shifts = 0;
    memset(t->nshift, 0, sizeof(t->nshift));
    tlb_fast_clear(t);
}

/* Remove every entry for which drop(e, a, b) holds: one turn of the LRU
 * ring (a removal leaves the order of the others as it was). */
static void tlb_flush_where(struct tlb *t, bool (*drop)(const struct tlb_entry *, uint64_t, uint64_t),
                            uint64_t a, uint64_t b)
{
    uint16_t i = t->mru;
    for (size_t n = t->count; n > 0; n--) {
        struct tlb_entry *e = &t->e[i];
        i = e->next;
        if (drop(e, a, b))
            tlb_remove(t, e);
    }
}

/* sfence.vma x0, asid: only non-global entries of that ASID (Priv. spec,
 * "SFENCE.VMA": global mappings are not affected by an ASID-scoped fence). */
static bool drop_asid(const struct tlb_entry *e, uint64_t asid, uint64_t unused)
{
    (void)unused;
    return e->asid_mask != 0 && e->asid == (uint16_t)asid;
}

void tlb_flush_asid(struct tlb *t, uint16_t asid)
{
    tlb_flush_where(t, drop_asid, asid, 0);
}

static bool drop_nonglobal(const struct tlb_entry *e, uint64_t a, uint64_t b)
{
    (void)a;
    (void)b;
    return e->asid_mask != 0;
}

void tlb_flush_nonglobal(struct tlb *t)
{
    tlb_flush_where(t, drop_nonglobal, 0, 0);
}

static bool drop_flagged(const struct tlb_entry *e, uint64_t flags, uint64_t unused)
{
    (void)unused;
    return (e->flags & flags) != 0;
}

void tlb_flush_flagged(struct tlb *t, uint8_t flags)
{
    tlb_flush_where(t, drop_flagged, flags, 0);
}

/*
 * Entries covering va: one probe per page size present, in every ASID.
 * With `only_asid`, keep the entries of other ASIDs (and global ones unless
 * include_global).
 */
static void tlb_flush_covering(struct tlb *t, vm_gva_t va, bool only_asid, uint16_t asid,
                               bool include_global)
{
    for (uint64_t shifts = t->shifts; shifts != 0; shifts &= shifts - 1) {
        unsigned shift = (unsigned)__builtin_ctzll(shifts);
        uint64_t tag = va & ~((UINT64_C(1) << shift) - 1);
        for (uint16_t i = t->bucket[tlb_hash(tag, shift, t->hash_shift)]; i != TLB_NIL;) {
            struct tlb_entry *e = &t->e[i];
            i = e->hnext;
            if (e->tag != tag || e->shift != shift)
                continue;
            bool global = e->asid_mask == 0;
            if (!only_asid || (global ? include_global : e->asid == asid))
                tlb_remove(t, e);
        }
    }
}

void tlb_remove_same_page(struct tlb *t, uint16_t hb, uint64_t tag, unsigned shift,
                          uint16_t asid, bool global)
{
    for (uint16_t k = t->bucket[hb]; k != TLB_NIL;) {
        struct tlb_entry *d = &t->e[k];
        k = d->hnext;
        if (d->tag == tag && d->shift == shift && (global || tlb_visible(d, asid)))
            tlb_remove(t, d);
    }
    if ((t->shifts >> shift) > 1)
        tlb_fast_drop_range(t, tag, (UINT64_C(1) << shift) - 1);
}

/* sfence.vma va, x0: every entry covering va, in any ASID, global too. */
void tlb_flush_va(struct tlb *t, vm_gva_t va)
{
    tlb_flush_covering(t, va, false, 0, true);
}

void tlb_flush_va_asid(struct tlb *t, vm_gva_t va, uint16_t asid, bool include_global)
{
    tlb_flush_covering(t, va, true, asid, include_global);
}
