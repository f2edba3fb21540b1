/*
 * ref_resv.c - a sequential reference model of LR/SC reservations (Zalrsc).
 *
 * From the RISC-V unprivileged spec, "Zalrsc" (src/unpriv/zalrsc.adoc),
 * and the vmmem contract in vmmem/physmem.h:
 *   - LR registers a reservation set; vmmem's is the naturally aligned
 *     8-byte granule holding the address. A hart holds at most one: a new
 *     LR replaces the old.
 *   - "SC.W conditionally writes a word ... only if the reservation is
 *     still valid and the reservation set contains the bytes being
 *     written." vmmem: valid = no write reached the granule since the LR.
 *   - "Regardless of success or failure, executing an SC.W instruction
 *     invalidates any reservation held by this hart."
 *   - A store by anyone (another hart's successful SC included) to bytes of
 *     the reservation set invalidates it.
 *
 * One row per hart: a valid flag and the granule. An explicit flag, not
 * "granule 0 means none": address 0 is a legal reservation (a real bug
 * class, BUG-CLASSES.md #15). Harts outside [0, REF_MAX_HARTS) are ignored
 * (the SC of such a hart fails). Only ref_model.h and libc are included.
 */
#include "ref_model.h"

#define GRANULE 8u

static uint64_t granule_of(uint64_t pa)
{
    return pa & ~(uint64_t)(GRANULE - 1);
}

static bool hart_ok(int hart)
{
    return hart >= 0 && hart < REF_MAX_HARTS;
}

/* Does [pa, pa+len) (len > 0, no wrap past 2^64 assumed away) touch granule g? */
static bool range_touches_granule(uint64_t pa, uint64_t len, uint64_t g)
{
    if (len == 0)
        return false;
    uint64_t g_last = g + (GRANULE - 1);
    uint64_t last = len - 1 > UINT64_MAX - pa ? UINT64_MAX : pa + (len - 1);
    return pa <= g_last && g <= last;
}

void ref_resv_reset(ref_resv_t *r)
{
    for (int h = 0; h < REF_MAX_HARTS; h++) {
        r->valid[h] = false;
        r->granule[h] = 0;
    }
}

void ref_resv_lr(ref_resv_t *r, int hart, uint64_t pa)
{
    if (!hart_ok(hart))
        return;
    r->valid[hart] = true;
    r->granule[hart] = granule_of(pa);
}

void ref_resv_write(ref_resv_t *r, uint64_t pa, uint64_t len)
{
    for (int h = 0; h < REF_MAX_HARTS; h++)
        if (r->valid[h] && range_touches_granule(pa, len, r->granule[h]))
            r->valid[h] = false;
}

bool ref_resv_sc(ref_resv_t *r, int hart, uint64_t pa, unsigned size)
{
    if (!hart_ok(hart))
        return false;
    bool inside = size > 0 && size <= GRANULE && granule_of(pa) == r->granule[hart] &&
                  (pa - r->granule[hart]) + size <= GRANULE;
    bool ok = r->valid[hart] && inside;
    r->valid[hart] = false;
    if (ok)
        ref_resv_write(r, pa, size);
    return ok;
}

void ref_resv_invalidate(ref_resv_t *r, uint64_t pa, uint64_t len)
{
    ref_resv_write(r, pa, len);
}
