/*
 * tlb.c - one software TLB: fully associative, true LRU, ASID-tagged, with
 * a direct-mapped hint array in front.
 *
 * How it works
 *   The architectural structure is a fully associative array of entries.
 *   Each entry holds the full 64-bit VA tag (va & ~page_mask), the page mask
 *   (a superpage is ONE entry; the leaf level is recorded), the physical
 *   base, the ASID with a mask (0 for global entries, so "global or same
 *   ASID" is one xor-and-test), and a 24-bit permission vector: for each of
 *   the 8 contexts (priv U/S x SUM x MXR) and each access (R/W/X) whether
 *   the access is allowed with no A/D update needed. The hit check therefore
 *   uses the CURRENT priv/SUM/MXR/ASID: changing them needs no flush.
 *
 *   Finding an entry by scanning 64 or 128 entries on every access would be
 *   slow, so a small direct-mapped hint array, indexed by (va >> 12) &
 *   hint_mask, remembers which entry served that 4 KiB VA slot last. A hit
 *   costs one index, one tag compare (tlb_hit in tlb.h). A hint miss scans
 *   all entries out of line (tlb_lookup_slow) and refreshes the hint. Hints
 *   are only hints: a stale one points at an entry whose tag no longer
 *   matches, so it can never produce a wrong translation. For a superpage
 *   every 4 KiB slot inside it gets its own hint on first use, while the
 *   TLB itself keeps one entry (BUG-CLASSES 7: no walk per 4 KiB).
 *
 *   LRU is exact: every hit and fill stamps the entry with ++clock; when
 *   the TLB is full, the entry with the smallest stamp is evicted, empty
 *   entries being used first. A high-water mark (`used`) bounds every scan
 *   and flush to the entries ever filled since the last full flush, so a
 *   flush of a mostly empty TLB (a context switch, a mode change) costs
 *   what it holds, not its capacity. Before a fill, every entry overlapping the
 *   new page that a lookup under the same ASID could find (any ASID for a
 *   global fill) is dropped, so a lookup never has two candidates.
 *
 * What was rejected
 *   - A set-associative or direct-mapped TLB (TinyEMU): cheaper, but the
 *     public contract promises a fully associative LRU of a given capacity,
 *     so eviction order must be exact.
 *   - Separate read/write/exec tag arrays (TinyEMU): they make the
 *     permission check the tag compare, but then priv/SUM/MXR changes would
 *     need a flush; the permission vector keeps them immediate.
 *   - A "valid" flag: the odd TLB_TAG_INVALID tag makes empty entries miss
 *     the tag compare, saving a test on the hot path.
 */
#include <stdlib.h>

#include "alloc_int.h"
#include "tlb.h"

static size_t tlb_hint_size(size_t capacity)
{
    size_t n = 16;
    while (n < 2 * capacity)
        n <<= 1;
    return n;
}

/*
 * An empty entry is defined by its tag alone (TLB_TAG_INVALID never equals a
 * page-aligned VA); perms = 0 as well, so even the VA 1 with a zero page
 * mask can never hit. The other fields are dead until the next fill.
 */
static void tlb_entry_clear(struct tlb_entry *e)
{
    e->tag = TLB_TAG_INVALID;
    e->perms = 0;
}

static bool tlb_entry_valid(const struct tlb_entry *e)
{
    return e->tag != TLB_TAG_INVALID;
}

static bool tlb_entry_covers(const struct tlb_entry *e, vm_gva_t va)
{
    return tlb_entry_valid(e) && (va & ~e->page_mask) == e->tag;
}

static bool tlb_entry_visible(const struct tlb_entry *e, uint16_t asid)
{
    return ((e->asid ^ asid) & e->asid_mask) == 0;
}

vm_err_t tlb_init(struct tlb *t, size_t capacity)
{
    if (capacity < 1 || capacity > TLB_MAX_ENTRIES)
        return VM_ERR_INVALID_ARGUMENT;
    size_t nhint = tlb_hint_size(capacity);
    /* Zeroed, not just cleared below: the inline hit compares an empty
     * entry's page_mask and asid before its perms (0) refuse it, and those
     * must be defined values (MemorySanitizer, ci/test.sh). */
    struct tlb_entry *entries = alloc_calloc(capacity, sizeof(*entries));
    uint16_t *hint = alloc_calloc(nhint, sizeof(*hint));
    if (!entries || !hint) {
        alloc_free(entries);
        alloc_free(hint);
        return VM_ERR_OUT_OF_MEMORY;
    }
    t->entries = entries;
    t->hint = hint;
    t->hint_mask = nhint - 1;
    t->capacity = capacity;
    t->clock = 0;
    t->used = capacity; /* the entries are uninitialised: clear them all */
    tlb_flush_all(t);
    return VM_OK;
}

void tlb_destroy(struct tlb *t)
{
    alloc_free(t->entries);
    alloc_free(t->hint);
    t->entries = NULL;
    t->hint = NULL;
    t->capacity = 0;
    t->used = 0;
}

struct tlb_entry *tlb_lookup_slow(struct tlb *t, vm_gva_t va, uint16_t asid, bool touch)
{
    uint16_t *hint = &t->hint[(va >> TLB_HINT_SHIFT) & t->hint_mask];
    for (size_t i = 0; i < t->used; i++) {
        struct tlb_entry *e = &t->entries[i];
        if (tlb_entry_covers(e, va) && tlb_entry_visible(e, asid)) {
            *hint = (uint16_t)i;
            if (touch)
                e->last_use = ++t->clock;
            return e;
        }
    }
    return NULL;
}

void tlb_insert(struct tlb *t, vm_gva_t va, uint64_t page_mask, vm_gpa_t pa_base,
                uint16_t asid, bool global, uint32_t perms, int level)
{
    size_t victim = t->capacity;
    vm_gva_t tag = va & ~page_mask;
    /* No duplicates: drop every entry overlapping the new page that a
     * lookup could find next to it - under this ASID, or under any ASID
     * when the new entry is global. Two aligned power-of-two ranges overlap
     * iff one contains the other's base. */
    for (size_t i = 0; i < t->used; i++) {
        struct tlb_entry *e = &t->entries[i];
        if (!tlb_entry_valid(e))
            continue;
        bool overlaps = (e->tag & ~page_mask) == tag || (tag & ~e->page_mask) == e->tag;
        if (overlaps && (global || tlb_entry_visible(e, asid)))
            tlb_entry_clear(e);
    }
    /* Empty entries first (below the high-water mark, then the next one
     * above it), else the least recently used one. */
    for (size_t i = 0; i < t->used; i++) {
        if (!tlb_entry_valid(&t->entries[i])) {
            victim = i;
            break;
        }
        if (victim == t->capacity || t->entries[i].last_use < t->entries[victim].last_use)
            victim = i;
    }
    if (t->used < t->capacity && (victim == t->capacity || tlb_entry_valid(&t->entries[victim])))
        victim = t->used++;
    struct tlb_entry *e = &t->entries[victim];
    e->tag = tag;
    e->page_mask = page_mask;
    e->pa_base = pa_base;
    e->last_use = ++t->clock;
    e->perms = perms;
    e->asid = asid;
    e->asid_mask = global ? 0 : 0xffff;
    e->level = (int8_t)level;
    t->hint[(va >> TLB_HINT_SHIFT) & t->hint_mask] = (uint16_t)victim;
}

void tlb_flush_all(struct tlb *t)
{
    for (size_t i = 0; i < t->used; i++)
        tlb_entry_clear(&t->entries[i]);
    t->used = 0;
}

/* sfence.vma x0, asid: only non-global entries of that ASID (Priv. spec,
 * "SFENCE.VMA": global mappings are not affected by an ASID-scoped fence). */
void tlb_flush_asid(struct tlb *t, uint16_t asid)
{
    for (size_t i = 0; i < t->used; i++) {
        struct tlb_entry *e = &t->entries[i];
        if (tlb_entry_valid(e) && e->asid_mask != 0 && e->asid == asid)
            tlb_entry_clear(e);
    }
}

/* sfence.vma va, x0: every entry covering va, in any ASID, global too. */
void tlb_flush_va(struct tlb *t, vm_gva_t va)
{
    for (size_t i = 0; i < t->used; i++) {
        struct tlb_entry *e = &t->entries[i];
        if (tlb_entry_covers(e, va))
            tlb_entry_clear(e);
    }
}

void tlb_flush_va_asid(struct tlb *t, vm_gva_t va, uint16_t asid, bool include_global)
{
    for (size_t i = 0; i < t->used; i++) {
        struct tlb_entry *e = &t->entries[i];
        if (!tlb_entry_covers(e, va))
            continue;
        bool global = e->asid_mask == 0;
        if (global ? include_global : e->asid == asid)
            tlb_entry_clear(e);
    }
}

void tlb_flush_nonglobal(struct tlb *t)
{
    for (size_t i = 0; i < t->used; i++) {
        struct tlb_entry *e = &t->entries[i];
        if (tlb_entry_valid(e) && e->asid_mask != 0)
            tlb_entry_clear(e);
    }
}
