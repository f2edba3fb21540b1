/*
 * fuzz_mmu_access.c - differential fuzzing of the accesses through
 * translation (vm_mmu_read/write, fetch_insn, read_bulk/write_bulk,
 * load_reserved/store_conditional, invalidate_reservation) against the
 * reference walker, the flat memory model, MMIO routing and the Zalrsc
 * model, under the TLB-aware acceptance rule.
 *
 * Input: the config header of fuzz_mmu_common.h, then ops (opcode byte
 * % 24, fixed little-endian arguments):
 *
 *   0-1 map  2 pte-write  3 satp  4 priv/SUM/MXR/AD  5 strict  6 flush
 *   7 resize  8-10 read  11-12 write  13 fetch  14 read-bulk
 *   15 write-bulk  16 LR  17 SC  18 phys-write  19 translate
 *   20 invalidate-reservation  21 LR, maybe a store, SC  22 page-crossing read
 *   23 paging-mode
 *
 * The oracle. An access is split into parts, one per 4 KiB page it
 * touches. The core's answer is observed as a whole (error, fault record,
 * value, TLB counter deltas, the device log, RAM afterwards), but which
 * translation each part used is not: for every part the acceptance rule
 * permits the fresh walk (with its A/D write) or any remembered leaf that
 * legally answers (a TLB hit, no write). So the oracle enumerates these
 * candidates part by part, depth first (fresh walk first), applying each
 * candidate's A/D write to the model tentatively with an undo log, and
 * evaluates every complete combination the way the contracts in mmu.h and
 * physmem.h prescribe:
 *   - translation in part order, stopping at the first fault; the fault
 *     names the first byte of the failing part (BUG-CLASSES 17);
 *   - scalar: RAM (any alignment), MMIO (naturally aligned, one region,
 *     never split over pages) or an access fault; strict alignment faults
 *     before any translation; a failed access writes nothing;
 *   - fetch: a 4-byte read with execute permission through the ITLB;
 *   - bulk: every page translated and found RAM before a byte moves,
 *     stopping at the first page that fails;
 *   - LR/SC: natural alignment first (cause 4/6), translate (SC as a
 *     store), RAM only (no device touched, BUG-CLASSES 16), Zalrsc on
 *     ref_resv_t; every SC, also a faulting one, drops the reservation.
 * A combination is accepted iff it reproduces every observation; then its
 * writes are committed to the model and its walked leaves recorded. If
 * none does, the report shows what the all-fresh combination expected.
 *
 * Rejected: observing each part's translation with vm_mmu_translate
 * before the access (it would fill the TLB and set A/D, so the access
 * itself would always hit and its own walk would go untested); a full
 * RAM compare after every op (the model is compared on every range any
 * candidate touched, and all touched pages at the end).
 */
#include "fuzz_mmu_common.h"

/* What the bytes of an input mean, versioned (fuzz_input.h): bump it with
 * every change to this target's decoding. */
const unsigned fuzz_format_version = 2;

enum { K_SCALAR, K_FETCH, K_BULK, K_LR, K_SC };

#define FA_MAX_PARTS 4
#define FA_MAX_CANDS 8
#define FA_BULK_MAX (3 * FM_PAGE)
#define FA_BULK_BUDGET (4 * FM_PAGE) /* bulk bytes per input */
static uint64_t fa_bulk_left;
#define FA_MAX_UNDO 16

typedef struct fa_cand {
    int outcome;
    uint64_t pa;
    bool walked;
} fa_cand_t;

typedef struct fa {
    fm_t *fm;
    const char *what;
    int kind;
    int acc;                       /* REF_READ / REF_WRITE / REF_EXEC */
    vm_gva_t va;
    uint64_t len;
    unsigned nparts;
    uint64_t part_va[FA_MAX_PARTS];
    uint64_t part_len[FA_MAX_PARTS];
    uint64_t part_off[FA_MAX_PARTS]; /* offset of the part in the access */
    uint64_t wval;                 /* scalar / SC value */
    const uint8_t *wbuf;           /* bulk write data */

    /* observed */
    vm_err_t err;
    vm_fault_t f;
    uint64_t rval;
    const uint8_t *rbuf;
    bool stored;
    uint64_t dh, dm;
    unsigned dev0;

    /* the combination being evaluated */
    fa_cand_t path[FA_MAX_PARTS];
    ref_rv_walk_t walks[FA_MAX_PARTS];
    struct { uint64_t pa; uint32_t len, off; bool data; } undo[FA_MAX_UNDO];
    unsigned n_undo;
    uint32_t arena_used;
    /* the combinations that reproduce every observation */
    unsigned n_match;
    struct { uint64_t pa; uint32_t len, off; bool data; } mw[FA_MAX_UNDO]; /* first one's writes */
    unsigned n_mw;
    bool m_sc_store, m_dev_exp;
    fm_dev_op_t m_dev_op;
    uint64_t m_pa0;                /* first one's PA of part 0 (LR/SC) */
    bool lr_ambiguous;             /* matches reserve different granules */
    struct { uint64_t va; ref_rv_walk_t w; } leaves[8]; /* walked leaves of any match */
    unsigned n_leaves;
    bool sc_store;                 /* the combination's SC outcome */
    bool dev_exp;
    fm_dev_op_t dev_op;

    /* every RAM range any candidate may touch (collected in a first pass) */
    bool collect;
    int nc0;                       /* part 0's candidates, the same in both passes */
    fa_cand_t c0[FA_MAX_CANDS];
    ref_rv_walk_t w0;
    struct { uint64_t pa, len; } watch[32];
    unsigned n_watch;

    /* first (all-fresh) evaluation, for the report */
    bool why_set;
    const char *why;
    unsigned long long why_exp, why_got;
} fa_t;

static uint8_t fa_arena[FA_BULK_MAX + FA_MAX_UNDO * 8 + 64];
static uint8_t fa_carena[FA_BULK_MAX + FA_MAX_UNDO * 8 + 64]; /* the first match's bytes */
static uint8_t fa_rbuf[FA_BULK_MAX];
static uint8_t fa_pattern[FA_BULK_MAX + 256]; /* bulk write data: a window of this */

/* ---- tentative model writes ------------------------------------------ */
FUZZ_NO_COVERAGE static void fa_twrite(fa_t *fa, uint64_t pa, const uint8_t *src, uint64_t len, bool data)
{
    if (fa->n_undo == FA_MAX_UNDO || fa->arena_used + len > sizeof fa_arena)
        fm_fail(fa->fm, "harness bug: undo log full");
    fa->undo[fa->n_undo].pa = pa;
    fa->undo[fa->n_undo].len = (uint32_t)len;
    fa->undo[fa->n_undo].off = fa->arena_used;
    fa->undo[fa->n_undo].data = data;
    memcpy(fa_arena + fa->arena_used, fm_mram + pa, len);
    fa->arena_used += (uint32_t)len;
    fa->n_undo++;
    memmove(fm_mram + pa, src, len);
}

FUZZ_NO_COVERAGE static void fa_undo_to(fa_t *fa, unsigned mark)
{
    while (fa->n_undo > mark) {
        fa->n_undo--;
        memcpy(fm_mram + fa->undo[fa->n_undo].pa, fa_arena + fa->undo[fa->n_undo].off,
               fa->undo[fa->n_undo].len);
        fa->arena_used = fa->undo[fa->n_undo].off;
    }
}

FUZZ_NO_COVERAGE static void fa_watch(fa_t *fa, uint64_t pa, uint64_t len)
{
    if (!fa->collect || !fm_in_ram(fa->fm, pa, len))
        return;
    for (unsigned i = 0; i < fa->n_watch; i++)
        if (fa->watch[i].pa == pa && fa->watch[i].len == len)
            return;
    if (fa->n_watch == sizeof fa->watch / sizeof fa->watch[0])
        fm_fail(fa->fm, "harness bug: watch list full");
    fa->watch[fa->n_watch].pa = pa;
    fa->watch[fa->n_watch].len = len;
    fa->n_watch++;
}

/* ---- candidates -------------------------------------------------------- */

/* Leaves filled by earlier parts of the access being evaluated: a later
 * part may hit them (e.g. a bulk transfer inside one superpage). */
static ref_tlb_t fa_inflight;

/* Add the answers the remembered leaves of t legally give for part k. */
FUZZ_NO_COVERAGE static int fa_hits_from(fa_t *fa, const ref_tlb_t *t, uint64_t va, const ref_rv_walk_t *w,
                        fa_cand_t *c, int n)
{
    fm_t *fm = fa->fm;
    ref_rv_walk_t never = *w;
    never.outcome = -1; /* only remembered leaves may justify a hit */
    bool exec_side = fa->acc == REF_EXEC;
    for (int i = 0; i < t->n && n < FA_MAX_CANDS - 1; i++) {
        const ref_tlb_entry_t *e = &t->e[i];
        if (!e->valid || e->exec_side != exec_side || e->levels != fm->s.levels ||
            (!e->global && e->asid != fm->s.asid))
            continue;
        unsigned shift = 12 + 9 * (unsigned)e->level;
        if (((va ^ e->va) >> shift) != 0)
            continue;
        uint64_t mask = (UINT64_C(1) << shift) - 1;
        uint64_t pa = ((fm_pte_ppn(e->pte) << 12) & ~mask) | (va & mask);
        bool dup = false;
        for (int j = 1; j < n; j++)
            dup |= !c[j].walked && c[j].outcome == REF_OK && c[j].pa == pa;
        if (!dup && ref_tlb_legal(t, &fm->s, va, fa->acc, &never, REF_OK, pa))
            c[n++] = (fa_cand_t){REF_OK, pa, false};
    }
    bool have_fault = false;
    for (int j = 1; j < n; j++)
        have_fault |= c[j].outcome == REF_PAGE_FAULT;
    if (!have_fault && n < FA_MAX_CANDS && ref_tlb_legal(t, &fm->s, va, fa->acc, &never, REF_PAGE_FAULT, 0))
        c[n++] = (fa_cand_t){REF_PAGE_FAULT, 0, false};
    return n;
}

/* The fresh walk first, then every answer a remembered leaf legally gives. */
FUZZ_NO_COVERAGE static int fa_candidates(fa_t *fa, unsigned k, const ref_rv_walk_t *w, fa_cand_t *c)
{
    fm_t *fm = fa->fm;
    int n = 0;
    c[n++] = (fa_cand_t){w->outcome, w->pa, true};
    if (!fm_paged(fm))
        return n;
    n = fa_hits_from(fa, &fm->tlb, fa->part_va[k], w, c, n);
    ref_tlb_reset(&fa_inflight);
    for (unsigned j = 0; j < k; j++)
        if (fa->path[j].walked && fa->path[j].outcome == REF_OK)
            ref_tlb_record(&fa_inflight, &fm->s, fa->part_va[j], fa->acc, &fa->walks[j]);
    if (fa_inflight.n)
        n = fa_hits_from(fa, &fa_inflight, fa->part_va[k], w, c, n);
    return n;
}

/* ---- evaluation of one combination ------------------------------------ */

static bool fa_mismatch(fa_t *fa, const char *why, unsigned long long exp, unsigned long long got)
{
    if (!fa->why_set) {
        fa->why_set = true;
        fa->why = why;
        fa->why_exp = exp;
        fa->why_got = got;
    }
    return false;
}

static inline int fa_route(const fm_t *fm, uint64_t pa, uint64_t len, int *region, uint64_t *off)
{
    return ref_mem_route(&fm->m, pa, len, region, off);
}

/*
 * A combination reproduced every observation. Keep the first one's writes
 * (all matches agree on every watched byte, so on memory); remember every
 * match's walked leaves (the core may have cached any of them) and
 * whether they reserve different granules (LR).
 */
FUZZ_NO_COVERAGE static void fa_on_match(fa_t *fa, unsigned np)
{
    if (fa->n_match++ == 0) {
        uint32_t used = 0;
        fa->n_mw = fa->n_undo;
        for (unsigned u = 0; u < fa->n_undo; u++) {
            fa->mw[u].pa = fa->undo[u].pa;
            fa->mw[u].len = fa->undo[u].len;
            fa->mw[u].data = fa->undo[u].data;
            fa->mw[u].off = used;
            memcpy(fa_carena + used, fm_mram + fa->undo[u].pa, fa->undo[u].len);
            used += fa->undo[u].len;
        }
        fa->m_sc_store = fa->sc_store;
        fa->m_dev_exp = fa->dev_exp;
        fa->m_dev_op = fa->dev_op;
        fa->m_pa0 = fa->path[0].pa;
    } else if (fa->kind == K_LR && (fa->path[0].pa & ~UINT64_C(7)) != (fa->m_pa0 & ~UINT64_C(7))) {
        fa->lr_ambiguous = true;
    }
    for (unsigned k = 0; k < np; k++) {
        if (!fa->path[k].walked || fa->path[k].outcome != REF_OK || !fm_paged(fa->fm))
            continue;
        bool dup = false;
        for (unsigned i = 0; i < fa->n_leaves; i++)
            dup |= fa->leaves[i].va == fa->part_va[k] && fa->leaves[i].w.pte_addr == fa->walks[k].pte_addr;
        if (!dup && fa->n_leaves < sizeof fa->leaves / sizeof fa->leaves[0]) {
            fa->leaves[fa->n_leaves].va = fa->part_va[k];
            fa->leaves[fa->n_leaves].w = fa->walks[k];
            fa->n_leaves++;
        }
    }
}

/*
 * parts [0, np) translated along fa->path; `backing_fault` says the last
 * one translated but is not RAM (bulk). Computes what the contracts
 * prescribe for this combination and compares with the observations.
 */
FUZZ_NO_COVERAGE static bool fa_eval(fa_t *fa, unsigned np, bool backing_fault)
{
    fm_t *fm = fa->fm;
    if (fa->collect)
        return false; /* first pass: only enumerate */
    unsigned mark = fa->n_undo;
    vm_err_t exp_err = VM_OK;
    int exp_outcome = REF_OK;
    uint64_t exp_va = 0, exp_val = 0;
    bool exp_value = false;
    fa->dev_exp = false;
    fa->sc_store = false;

    /* counters */
    uint64_t walked = 0, hit = 0;
    for (unsigned k = 0; k < np; k++) {
        if (fm_paged(fm))
            *(fa->path[k].walked ? &walked : &hit) += 1;
    }

    const fa_cand_t *last = &fa->path[np - 1];
    if (last->outcome != REF_OK) {
        exp_outcome = last->outcome;
        exp_va = fa->part_va[np - 1];
    } else if (backing_fault) {
        exp_outcome = REF_ACCESS_FAULT;
        exp_va = fa->part_va[np - 1];
    } else {
        /* every part translated: the backing stage */
        int region;
        uint64_t off;
        if (fa->nparts == 1 && (fa->kind == K_SCALAR || fa->kind == K_FETCH)) {
            int r = fa_route(fm, fa->path[0].pa, fa->len, &region, &off);
            if (r == REF_ROUTE_MMIO) {
                fa->dev_exp = true;
                fa->dev_op.off = off;
                fa->dev_op.size = (uint8_t)fa->len;
                fa->dev_op.write = fa->acc == REF_WRITE;
                if (fa->acc == REF_WRITE) {
                    fa->dev_op.val = fa->wval & (fa->len == 8 ? ~UINT64_C(0)
                                                              : (UINT64_C(1) << (8 * fa->len)) - 1);
                } else {
                    fa->dev_op.val = fm_le_load(fm_model_regs + off, (unsigned)fa->len);
                    exp_val = fa->dev_op.val;
                    exp_value = true;
                }
            } else if (r != REF_ROUTE_RAM) {
                exp_outcome = REF_ACCESS_FAULT;
                exp_va = fa->part_va[0];
            }
        } else {
            for (unsigned k = 0; k < np; k++)
                if (fa_route(fm, fa->path[k].pa, fa->part_len[k], NULL, NULL) != REF_ROUTE_RAM) {
                    exp_outcome = REF_ACCESS_FAULT;
                    exp_va = fa->part_va[k];
                    break;
                }
        }
        if (exp_outcome == REF_OK && !fa->dev_exp) {
            /* RAM: read the value, or write (SC: if the reservation holds) */
            bool do_write = fa->acc == REF_WRITE;
            if (fa->kind == K_SC) {
                if (fm->resv_unknown) {
                    fa->sc_store = fa->stored;
                } else {
                    ref_resv_t r = fm->resv;
                    for (unsigned u = 0; u < mark; u++)
                        ref_resv_write(&r, fa->undo[u].pa, fa->undo[u].len);
                    fa->sc_store = ref_resv_sc(&r, 0, fa->path[0].pa, (unsigned)fa->len);
                }
                do_write = fa->sc_store;
            }
            if (fa->kind == K_BULK) {
                if (!do_write)
                    for (unsigned k = 0; k < np; k++)
                        if (memcmp(fa->rbuf + fa->part_off[k], fm_mram + fa->path[k].pa,
                                   fa->part_len[k]) != 0)
                            return fa_mismatch(fa, "bulk read data differs (first differing part)",
                                               k, fa->part_va[k]);
            } else if (!do_write && fa->kind != K_SC) {
                uint8_t b[8];
                for (unsigned k = 0; k < np; k++)
                    memcpy(b + fa->part_off[k], fm_mram + fa->path[k].pa, fa->part_len[k]);
                exp_val = fm_le_load(b, (unsigned)fa->len);
                exp_value = true;
            }
            if (do_write) {
                uint8_t b[8];
                fm_le_store(b, fa->wval, 8);
                for (unsigned k = 0; k < np; k++)
                    fa_twrite(fa, fa->path[k].pa,
                              fa->kind == K_BULK ? fa->wbuf + fa->part_off[k] : b + fa->part_off[k],
                              fa->part_len[k], true);
            }
        }
    }
    if (exp_outcome != REF_OK)
        exp_err = exp_outcome == REF_PAGE_FAULT ? VM_ERR_PAGE_FAULT : VM_ERR_ACCESS_FAULT;

    /* compare */
    bool ok = false;
    if (fa->err != exp_err) {
        fa_mismatch(fa, "error code (expected vs core, vm_err_t)", exp_err, fa->err);
    } else if (exp_err != VM_OK &&
               (fa->f.kind != fm_kind_of(exp_outcome) ||
                (int)fa->f.cause != ref_cause(exp_outcome, fa->acc))) {
        fa_mismatch(fa, "fault cause", (unsigned long long)ref_cause(exp_outcome, fa->acc),
                    fa->f.cause);
    } else if (exp_err != VM_OK && fa->f.va != exp_va) {
        fa_mismatch(fa, "fault VA (first byte of the failing part)", exp_va, fa->f.va);
    } else if (exp_err != VM_OK && (int)fa->f.access != fa->acc) {
        fa_mismatch(fa, "fault access type", (unsigned long long)fa->acc, fa->f.access);
    } else if (exp_err == VM_OK && fa->f.kind != VM_FAULT_NONE) {
        fa_mismatch(fa, "fault kind after a success (mmu.h: NONE)", VM_FAULT_NONE, fa->f.kind);
    } else if (fa->dh != hit || fa->dm != walked) {
        fa_mismatch(fa, "TLB counters: expected hits*1000+misses, got", hit * 1000 + walked,
                    fa->dh * 1000 + fa->dm);
    } else if (exp_value && fa->rval != exp_val) {
        fa_mismatch(fa, "value read", exp_val, fa->rval);
    } else if (fa->kind == K_SC && exp_err == VM_OK && fa->stored != fa->sc_store) {
        fa_mismatch(fa, "SC success flag (Zalrsc model)", fa->sc_store, fa->stored);
    } else if (fm_dev.n - fa->dev0 != (fa->dev_exp ? 1u : 0u)) {
        fa_mismatch(fa, "number of device accesses", fa->dev_exp, fm_dev.n - fa->dev0);
    } else if (fa->dev_exp &&
               (fm_dev.log[fa->dev0 % FM_DEV_LOG].off != fa->dev_op.off ||
                fm_dev.log[fa->dev0 % FM_DEV_LOG].size != fa->dev_op.size ||
                fm_dev.log[fa->dev0 % FM_DEV_LOG].write != fa->dev_op.write ||
                fm_dev.log[fa->dev0 % FM_DEV_LOG].val != fa->dev_op.val)) {
        fa_mismatch(fa, "device access (offset expected vs got)", fa->dev_op.off,
                    fm_dev.log[fa->dev0 % FM_DEV_LOG].off);
    } else {
        ok = true;
        /* memory: every PTE any walk read and every RAM range any candidate
         * translated to (a combination must not "match" because the bytes
         * it expects were already there while the core wrote elsewhere) */
        for (unsigned i = 0; ok && i < fa->n_watch; i++) {
            uint64_t a = fa->watch[i].pa, n = fa->watch[i].len;
            if (memcmp(fm->core_ram + a, fm_mram + a, n) != 0) {
                uint64_t j = 0;
                while (fm->core_ram[a + j] == fm_mram[a + j])
                    j++;
                ok = fa_mismatch(fa, "RAM after the access at PA (model byte, core byte follow)",
                                 a + j, (unsigned long long)fm_mram[a + j] << 8 | fm->core_ram[a + j]);
            }
        }
    }
    if (ok)
        fa_on_match(fa, np);
    fa_undo_to(fa, mark);
    return ok;
}

/* Depth-first over every combination of the parts' candidates (fresh
 * walk first); fa_eval() collects the ones that match. */
FUZZ_NO_COVERAGE static void fa_try(fa_t *fa, unsigned k)
{
    fm_t *fm = fa->fm;
    if (k == fa->nparts) {
        fa_eval(fa, k, false);
        return;
    }
    ref_rv_walk_t *w = &fa->walks[k];
    fa_cand_t c[FA_MAX_CANDS];
    int nc;
    if (k == 0 && !fa->collect) {
        /* the model is pristine at part 0 in both passes: reuse */
        *w = fa->w0;
        nc = fa->nc0;
        memcpy(c, fa->c0, sizeof c);
    } else {
        ref_rv_translate(&fm->m, &fm->s, fa->part_va[k], fa->acc, false, w);
        for (int j = 0; j < w->n_steps && j < REF_MAX_LEVELS; j++)
            fa_watch(fa, w->steps[j].pte_addr, 8);
        nc = fa_candidates(fa, k, w, c);
        for (int i = 0; i < nc; i++) {
            if (c[i].outcome != REF_OK)
                continue;
            fa_watch(fa, c[i].pa, fa->part_len[k]);
            /* a PA beyond RAM: the page it would alias to if the core
             * masked it is compared at the end (BUG-CLASSES 20) */
            if (fa->collect && !fm_in_ram(fm, c[i].pa, 1))
                fm_touch(fm, c[i].pa % fm->ram_size, 1);
        }
        if (k == 0) {
            fa->w0 = *w;
            fa->nc0 = nc;
            memcpy(fa->c0, c, sizeof c);
        }
    }
    for (int i = 0; i < nc; i++) {
        unsigned mark = fa->n_undo;
        fa->path[k] = c[i];
        if (c[i].walked && c[i].outcome == REF_OK && w->ad_write) {
            uint8_t b[8];
            fm_le_store(b, w->ad_value, 8);
            fa_twrite(fa, w->pte_addr, b, 8, false);
        }
        if (c[i].outcome != REF_OK)
            fa_eval(fa, k + 1, false);
        else if (fa->kind == K_BULK &&
                 fa_route(fm, c[i].pa, fa->part_len[k], NULL, NULL) != REF_ROUTE_RAM)
            fa_eval(fa, k + 1, true);
        else
            fa_try(fa, k + 1);
        fa_undo_to(fa, mark);
    }
}

/* ---- driving one access -------------------------------------------- */

FUZZ_NO_COVERAGE static void fa_split(fa_t *fa)
{
    uint64_t va = fa->va, left = fa->len, off = 0;
    fa->nparts = 0;
    while (left && fa->nparts < FA_MAX_PARTS) {
        uint64_t room = FM_PAGE - (va & (FM_PAGE - 1));
        uint64_t n = room < left ? room : left;
        fa->part_va[fa->nparts] = va;
        fa->part_len[fa->nparts] = n;
        fa->part_off[fa->nparts] = off;
        fa->nparts++;
        va += n; /* wraps at 2^64 like the core's va + n1 */
        off += n;
        left -= n;
    }
}

static void fa_begin(fa_t *fa, fm_t *fm, const char *what, int kind, int acc, vm_gva_t va,
                     uint64_t len)
{
    memset(fa, 0, offsetof(fa_t, path));
    fa->fm = fm;
    fa->what = what;
    fa->kind = kind;
    fa->acc = acc;
    fa->va = va;
    fa->len = len;
    fa->n_undo = 0;
    fa->arena_used = 0;
    fa->why_set = false;
    fa->dev0 = fm_dev.n;
}

/* After the core call: collect observations. */
static void fa_observe(fa_t *fa, vm_err_t err)
{
    fm_t *fm = fa->fm;
    uint64_t h, m;
    fm_stats(fm, &h, &m);
    fa->err = err;
    fa->f = *vm_mmu_last_fault(fm->mmu);
    fa->dh = h - fm->hits;
    fa->dm = m - fm->misses;
    fm->hits = h;
    fm->misses = m;
    if (fm_dev.bad)
        fm_fail(fm, "%s: %s", fa->what, fm_dev.bad);
}

static void fa_report(fa_t *fa)
{
    fm_t *fm = fa->fm;
    fa_undo_to(fa, 0);
    ref_rv_translate(&fm->m, &fm->s, fa->part_va[0], fa->acc, false, &fm->walk);
    fm->walk_va = fa->part_va[0];
    fm->walk_acc = fa->acc;
    fm->have_walk = true;
    fm->have_walk2 = fa->nparts > 1;
    if (fm->have_walk2) {
        ref_rv_translate(&fm->m, &fm->s, fa->part_va[1], fa->acc, false, &fm->walk2);
        fm->walk2_va = fa->part_va[1];
    }
    fm_fail(fm, "%s va=0x%llx len=%llu (%u part%s): no legal explanation of the core's answer.\n"
                "core: %s, fault kind %d cause %u va 0x%llx; value 0x%llx; TLB hits +%llu misses "
                "+%llu; device accesses %u%s\n"
                "with the fresh walks the contracts expect: %s: expected 0x%llx, core 0x%llx",
            fa->what, (unsigned long long)fa->va, (unsigned long long)fa->len, fa->nparts,
            fa->nparts > 1 ? "s" : "", vm_strerror(fa->err), (int)fa->f.kind, fa->f.cause,
            (unsigned long long)fa->f.va, (unsigned long long)fa->rval,
            (unsigned long long)fa->dh, (unsigned long long)fa->dm, fm_dev.n - fa->dev0,
            fa->kind == K_SC ? (fa->stored ? ", SC stored" : ", SC not stored") : "",
            fa->why ? fa->why : "?", fa->why_exp, fa->why_got);
}

/* Find the matching combinations, then commit the first to the model. */
FUZZ_NO_COVERAGE static void fa_check(fa_t *fa)
{
    fm_t *fm = fa->fm;
    fa_split(fa);
    fa->collect = true;
    fa->n_watch = 0;
    fa_try(fa, 0);
    fa->collect = false;
    fa->n_match = 0;
    fa->n_leaves = 0;
    fa->lr_ambiguous = false;
    fa_try(fa, 0);
    if (fa->n_match == 0)
        fa_report(fa);

    /* A/D writes first (they happen during translation) ... */
    for (unsigned u = 0; u < fa->n_mw; u++)
        if (!fa->mw[u].data)
            fm_model_write(fm, fa->mw[u].pa, fa_carena + fa->mw[u].off, fa->mw[u].len);
    /* ... then the reservation effects ... */
    bool success = fa->err == VM_OK;
    if (fa->kind == K_LR && success) {
        ref_resv_lr(&fm->resv, 0, fa->m_pa0);
        fm->resv_unknown = fa->lr_ambiguous;
    } else if (fa->kind == K_SC && fa->err != VM_ERR_INVALID_ARGUMENT) {
        if (success && !fm->resv_unknown)
            ref_resv_sc(&fm->resv, 0, fa->m_pa0, (unsigned)fa->len);
        fm->resv.valid[0] = false; /* every SC drops the hart's reservation */
        fm->resv_unknown = false;
    }
    /* ... then the data. */
    for (unsigned u = 0; u < fa->n_mw; u++)
        if (fa->mw[u].data)
            fm_model_write(fm, fa->mw[u].pa, fa_carena + fa->mw[u].off, fa->mw[u].len);
    if (fa->m_dev_exp && fa->m_dev_op.write)
        fm_le_store(fm_model_regs + fa->m_dev_op.off, fa->m_dev_op.val, fa->m_dev_op.size);
    for (unsigned i = 0; i < fa->n_leaves; i++)
        ref_tlb_record(&fm->tlb, &fm->s, fa->leaves[i].va, fa->acc, &fa->leaves[i].w);
    /* every range any candidate could reach is compared at the end (the
     * pages a PA beyond RAM would alias to were marked by fa_try). Not
     * from fa->path[]: after the search it holds the last combination
     * tried, and parts a fault ended early are stale stack bytes of an
     * earlier op or input (AFL++ stability). */
    for (unsigned i = 0; i < fa->n_watch; i++)
        fm_touch(fm, fa->watch[i].pa, fa->watch[i].len);
}

/* ---- ops ----------------------------------------------------------- */

static uint8_t fa_size(uint8_t b)
{
    static const uint8_t bad[4] = {0, 3, 16, 255};
    return b >= 248 ? bad[b & 3] : (uint8_t)(1u << (b & 3));
}

static inline bool fa_size_ok(uint8_t size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static const char *const fa_acc_cause_name[3] = {"load", "store", "fetch"};

/* Errors decided before any translation: nothing may change. */
static void fa_check_early(fm_t *fm, fa_t *fa, vm_err_t want, int acc, vm_gva_t va)
{
    if (fa->err != want)
        fm_fail(fm, "%s va=0x%llx size %llu: expected %s, core %s", fa->what,
                (unsigned long long)va, (unsigned long long)fa->len, vm_strerror(want),
                vm_strerror(fa->err));
    if (fa->dh || fa->dm || fm_dev.n != fa->dev0)
        fm_fail(fm, "%s: %s must be decided before translation, but TLB counters moved by "
                    "+%llu/+%llu and the device saw %u accesses",
                fa->what, vm_strerror(want), (unsigned long long)fa->dh,
                (unsigned long long)fa->dm, fm_dev.n - fa->dev0);
    if (want == VM_ERR_ALIGNMENT_FAULT &&
        (fa->f.kind != VM_FAULT_MISALIGNED || (int)fa->f.cause != ref_cause(REF_MISALIGNED, acc) ||
         fa->f.va != va || (int)fa->f.access != acc))
        fm_fail(fm, "%s: misaligned %s fault record: kind %d cause %u va 0x%llx; expected "
                    "cause %d va 0x%llx",
                fa->what, fa_acc_cause_name[acc], (int)fa->f.kind, fa->f.cause,
                (unsigned long long)fa->f.va, ref_cause(REF_MISALIGNED, acc),
                (unsigned long long)va);
}

static void op_scalar(fm_t *fm, vm_gva_t va, uint8_t size, int acc, uint64_t wval)
{
    static const char *const names[3] = {"read", "write", "fetch"};
    fa_t fa;
    fm_log_entry_t *e = fm_log(fm, names[acc], "va=0x%llx size=%llu val=0x%llx", va, size,
                               acc == REF_WRITE ? wval : 0, 0);
    fa_begin(&fa, fm, names[acc], acc == REF_EXEC ? K_FETCH : K_SCALAR, acc, va, size);
    fa.wval = wval;
    vmc_rv_scalar(fm, acc, va, size, wval);
    vm_err_t err;
    if (acc == REF_READ)
        err = vm_mmu_read(fm->mmu, va, size, &fa.rval);
    else if (acc == REF_WRITE)
        err = vm_mmu_write(fm->mmu, va, wval, size);
    else
        err = vm_mmu_fetch_insn(fm->mmu, va, &fa.rval);
    e->result = vm_strerror(err);
    fa_observe(&fa, err);
    if (!fa_size_ok(size)) {
        fa_check_early(fm, &fa, VM_ERR_INVALID_ARGUMENT, acc, va);
        return;
    }
    if (fm->strict && (va & (size - 1u))) {
        fa_check_early(fm, &fa, VM_ERR_ALIGNMENT_FAULT, acc, va);
        return;
    }
    fa_check(&fa);
}

static void op_bulk(fm_t *fm, fuzz_input_t *in, bool write)
{
    vm_gva_t va = fm_va(fm, in);
    uint8_t ls = fin_u8(in), seed = fin_u8(in);
    uint64_t len;
    switch (ls % 8) {
    case 0: len = 0; break;
    case 1: case 2: len = 1 + (ls >> 3); break;                  /* 1..32 */
    case 3: len = FM_PAGE - 1 + ((ls >> 3) % 3); break;         /* 4095..4097 */
    case 4: len = 2 * FM_PAGE + (ls >> 3); break;               /* three pages */
    case 5: len = FM_PAGE + (ls >> 3) * 8; break;
    default: len = fin_u16(in) % (FA_BULK_MAX + 1); break;
    }
    /* A per-input budget of bulk bytes keeps every input cheap (throughput:
     * >= 20k exec/s); past it, bulk transfers stay short but still happen. */
    if (len > fa_bulk_left)
        len = len % 33;
    fa_bulk_left -= len;
    fa_t fa;
    fm_log_entry_t *e = fm_log(fm, write ? "write-bulk" : "read-bulk",
                               "va=0x%llx len=%llu pattern=%llu", va, len, seed, 0);
    fa_begin(&fa, fm, write ? "write-bulk" : "read-bulk", K_BULK, write ? REF_WRITE : REF_READ,
             va, len);
    fa.wbuf = fa_pattern + seed;
    fa.rbuf = fa_rbuf;
    vmc_rv_bulk(fm, write, va, len, seed);
    vm_err_t err = write ? vm_mmu_write_bulk(fm->mmu, va, fa.wbuf, len)
                         : vm_mmu_read_bulk(fm->mmu, va, fa_rbuf, len);
    e->result = vm_strerror(err);
    fa_observe(&fa, err);
    if (len == 0) {
        fa_check_early(fm, &fa, VM_OK, fa.acc, va);
        return;
    }
    if (len - 1 > UINT64_MAX - va) {
        fa_check_early(fm, &fa, VM_ERR_INVALID_ADDRESS, fa.acc, va);
        return;
    }
    fa_check(&fa);
}

static void op_lr(fm_t *fm, vm_gva_t va, uint8_t size)
{
    fa_t fa;
    fm_log_entry_t *e = fm_log(fm, "LR", "va=0x%llx size=%llu", va, size, 0, 0);
    fa_begin(&fa, fm, "LR", K_LR, REF_READ, va, size);
    vmc_rv_lr(fm, va, size);
    vm_err_t err = vm_mmu_load_reserved(fm->mmu, va, size, &fa.rval);
    e->result = vm_strerror(err);
    fa_observe(&fa, err);
    if (!fa_size_ok(size)) {
        fa_check_early(fm, &fa, VM_ERR_INVALID_ARGUMENT, REF_READ, va);
        return;
    }
    if (va & (size - 1u)) { /* mmu.h: natural alignment whatever the strict setting */
        fa_check_early(fm, &fa, VM_ERR_ALIGNMENT_FAULT, REF_READ, va);
        return;
    }
    fa_check(&fa);
}

static void op_sc(fm_t *fm, vm_gva_t va, uint8_t size, uint64_t val)
{
    fa_t fa;
    fm_log_entry_t *e = fm_log(fm, "SC", "va=0x%llx size=%llu val=0x%llx", va, size, val, 0);
    fa_begin(&fa, fm, "SC", K_SC, REF_WRITE, va, size);
    fa.wval = val;
    vmc_rv_sc(fm, va, size, val);
    vm_err_t err = vm_mmu_store_conditional(fm->mmu, va, val, size, &fa.stored);
    e->result = err == VM_OK ? (fa.stored ? "stored" : "not stored") : vm_strerror(err);
    fa_observe(&fa, err);
    if (!fa_size_ok(size)) {
        fa_check_early(fm, &fa, VM_ERR_INVALID_ARGUMENT, REF_WRITE, va);
        return;
    }
    if (va & (size - 1u)) {
        fa_check_early(fm, &fa, VM_ERR_ALIGNMENT_FAULT, REF_WRITE, va);
        if (fa.stored)
            fm_fail(fm, "misaligned SC reported stored");
        fm->resv.valid[0] = false; /* a faulting SC still drops the reservation */
        fm->resv_unknown = false;
        return;
    }
    fa_check(&fa);
    if (fa.err != VM_OK && fa.stored)
        fm_fail(fm, "SC failed with %s but reported stored", vm_strerror(fa.err));
}

/* A physical write (DMA-like): RAM, the device, or nothing (physmem.h). */
static void op_phys_write(fm_t *fm, fuzz_input_t *in)
{
    uint8_t sel = fin_u8(in), ssel = fin_u8(in);
    uint16_t off = fin_u16(in);
    uint64_t val = fin_u64(in);
    uint8_t size = fa_size(ssel);
    uint64_t pa;
    switch (sel % 6) {
    case 0: case 1: pa = fm_data_page(fm, sel >> 3) + off % FM_PAGE; break;
    case 2: pa = fm_table_page(fm, sel >> 3) + (off % 512) * 8; break;
    case 3: pa = FM_MMIO_BASE + off % (FM_MMIO_SIZE + 16); break;
    case 4: pa = fm->ram_size - 1 - off % 8; break;               /* straddles the RAM end */
    default: pa = (fm->ram_size + off) | ((uint64_t)(sel >> 7) << 40); break;
    }
    fm_log_entry_t *e = fm_log(fm, "phys-write", "pa=0x%llx size=%llu val=0x%llx", pa, size, val,
                               0);
    int region;
    uint64_t roff;
    int r = fa_size_ok(size) ? ref_mem_route(&fm->m, pa, size, &region, &roff) : -1;
    vm_err_t want = r < 0 ? VM_ERR_INVALID_ARGUMENT
                  : r == REF_ROUTE_RAM || r == REF_ROUTE_MMIO ? VM_OK
                  : r == REF_ROUTE_MMIO_BAD ? VM_ERR_MMIO : VM_ERR_INVALID_ADDRESS;
    /* physmem.h pins the order: an access that touches a region but is not
     * wholly inside it is VM_ERR_MMIO, also when it runs off the region's
     * end into nothing (ref_mem_route calls that REF_ROUTE_NONE). */
    bool straddles_region = r == REF_ROUTE_NONE && pa < FM_MMIO_BASE + FM_MMIO_SIZE &&
                            pa + size > FM_MMIO_BASE && pa + size > pa;
    if (straddles_region)
        want = VM_ERR_MMIO;
    if (vmc_on())   /* a DMA-like write by another agent: the physical API */
        vmc_line("expect pwrite 0x%llx %u = 0x%llx -> %s", (unsigned long long)pa, size,
                 (unsigned long long)val, vmc_err_name(want));
    unsigned dev0 = fm_dev.n;
    vm_err_t err = vm_mmu_write_phys(fm->mmu, pa, val, size);
    e->result = vm_strerror(err);
    if (err != want || fm_dev.n - dev0 != (r == REF_ROUTE_MMIO ? 1u : 0u) || fm_dev.bad)
        fm_fail(fm, "vm_mmu_write_phys(0x%llx, size %u): expected %s, core %s; device accesses %u",
                (unsigned long long)pa, size, vm_strerror(want), vm_strerror(err),
                fm_dev.n - dev0);
    uint64_t mask = size >= 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * size)) - 1;
    if (r == REF_ROUTE_RAM) {
        uint8_t b[8];
        fm_le_store(b, val, size);
        fm_model_write(fm, pa, b, size);
        fm_compare_range(fm, pa, size, "vm_mmu_write_phys");
    } else if (r == REF_ROUTE_MMIO) {
        const fm_dev_op_t *d = &fm_dev.log[dev0 % FM_DEV_LOG];
        if ((d->off != roff || d->size != size || !d->write || d->val != (val & mask)))
            fm_fail(fm, "vm_mmu_write_phys to MMIO: device saw off 0x%llx size %u write %d val 0x%llx",
                    (unsigned long long)d->off, d->size, d->write, (unsigned long long)d->val);
        fm_le_store(fm_model_regs + roff, val, size);
    }
    fm_check_no_translation(fm, "vm_mmu_write_phys");
}

/*
 * invalidate_reservation: a translation without side effects (no A/D, no
 * fill, no counters); it may use any remembered leaf or a walk. Where
 * the candidate PAs disagree about the reserved granule, the model's
 * reservation becomes unknown (the next SC is accepted either way).
 */
static void op_invalidate(fm_t *fm, vm_gva_t va, uint8_t size)
{
    fm_log_entry_t *e = fm_log(fm, "invalidate-resv", "va=0x%llx size=%llu", va, size, 0, 0);
    if (vmc_on())
        vmc_line("invalidate 0x%llx %u", (unsigned long long)va, size);
    vm_fault_t before = *vm_mmu_last_fault(fm->mmu);
    vm_mmu_invalidate_reservation(fm->mmu, va, size);
    e->result = "";
    fm_check_no_translation(fm, "vm_mmu_invalidate_reservation");
    const vm_fault_t *after = vm_mmu_last_fault(fm->mmu);
    if (after->kind != before.kind || after->va != before.va || after->cause != before.cause)
        fm_fail(fm, "vm_mmu_invalidate_reservation changed the fault record");
    if (!fa_size_ok(size))
        return;
    fa_t fa;
    fa_begin(&fa, fm, "invalidate-resv", K_SCALAR, REF_READ, va, size);
    fa_split(&fa);
    /* nothing may change in memory: the fresh walks' PTE words */
    for (unsigned k = 0; k < fa.nparts; k++) {
        ref_rv_walk_t w;
        ref_rv_translate(&fm->m, &fm->s, fa.part_va[k], REF_READ, false, &w);
        if (fm_walk_words_changed(fm, &w))
            fm_fail(fm, "vm_mmu_invalidate_reservation wrote a PTE (it must not set A/D)");
        if (!fm->resv.valid[0] || fm->resv_unknown)
            continue;
        uint64_t g = fm->resv.granule[0];
        int hits = 0, n = 0;
        /* the walk (permissions checked, A/D not needed: as Svadu) */
        ref_rv_state_t s = fm->s;
        s.ad_hardware = true;
        ref_rv_translate(&fm->m, &s, fa.part_va[k], REF_READ, false, &w);
        uint64_t len = fa.part_len[k];
        if (w.outcome == REF_OK) {
            n++;
            hits += w.pa < g + 8 && g < w.pa + len;
        } else {
            n++; /* no PA: nothing invalidated */
        }
        for (int i = 0; fm_paged(fm) && i < fm->tlb.n; i++) {
            const ref_tlb_entry_t *te = &fm->tlb.e[i];
            if (te->exec_side || te->levels != fm->s.levels ||
                (!te->global && te->asid != fm->s.asid))
                continue;
            unsigned shift = 12 + 9 * (unsigned)te->level;
            if (((fa.part_va[k] ^ te->va) >> shift) != 0)
                continue;
            uint64_t mask = (UINT64_C(1) << shift) - 1;
            uint64_t pa = ((fm_pte_ppn(te->pte) << 12) & ~mask) | (fa.part_va[k] & mask);
            n++;
            hits += pa < g + 8 && g < pa + len;
        }
        if (hits == n)
            fm->resv.valid[0] = false;
        else if (hits)
            fm->resv_unknown = true;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Create every machine up front: lazily created ones make the first input
 * of each RAM size take extra edges (AFL++ stability). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fm_init_machines();
    for (size_t i = 0; i < sizeof fa_pattern; i++)
        fa_pattern[i] = vmc_pattern_byte(i); /* the .vmc `pattern` generator */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    fm_t *fm = &fm_world;

    if (size < 6)
        return 0;
    fin_init(&in, data, size);
    if (!fm_setup(fm, &in, "fuzz_mmu_access"))
        return 0;
    fa_bulk_left = FA_BULK_BUDGET;

    while (!fin_done(&in)) {
        uint8_t op = fin_u8(&in) % 24;
        switch (op) {
        case 0: case 1: fm_op_map(fm, &in); break;
        case 2: fm_op_pte(fm, &in); break;
        case 3: fm_op_satp(fm, &in); break;
        case 4: fm_op_priv(fm, &in); break;
        case 5: {
            bool on = fin_u8(&in) & 1;
            fm_log(fm, "strict-align", "%llu", on, 0, 0, 0);
            if (vmc_on())
                vmc_line("strict %d", on);
            vm_mmu_set_strict_align(fm->mmu, on);
            fm->strict = on;
            break;
        }
        case 6: fm_op_flush(fm, &in); break;
        case 7: fm_op_resize(fm, &in); break;
        case 8: case 9: case 10: {
            vm_gva_t va = fm_va(fm, &in);
            op_scalar(fm, va, fa_size(fin_u8(&in)), REF_READ, 0);
            break;
        }
        case 11: case 12: {
            vm_gva_t va = fm_va(fm, &in);
            uint8_t sz = fa_size(fin_u8(&in));
            op_scalar(fm, va, sz, REF_WRITE, fin_u64(&in));
            break;
        }
        case 13: op_scalar(fm, fm_va(fm, &in), 4, REF_EXEC, 0); break;
        case 14: op_bulk(fm, &in, false); break;
        case 15: op_bulk(fm, &in, true); break;
        case 16: {
            vm_gva_t va = fm_va(fm, &in);
            op_lr(fm, va, fa_size(fin_u8(&in)));
            break;
        }
        case 17: {
            vm_gva_t va = fm_va(fm, &in);
            uint8_t sz = fa_size(fin_u8(&in));
            op_sc(fm, va, sz, fin_u64(&in));
            break;
        }
        case 18: op_phys_write(fm, &in); break;
        case 19: {
            vm_gva_t va = fm_va(fm, &in);
            fm_check_translate(fm, va, fin_u8(&in) % 3);
            break;
        }
        case 20: {
            vm_gva_t va = fm_va(fm, &in);
            op_invalidate(fm, va, fa_size(fin_u8(&in)));
            break;
        }
        case 21: {
            /* LR ... SC, with bits 3:2 of the size byte choosing a store in
             * between: none; the same access storing the bytes already
             * there, after a first store that leaves the page writable in
             * the fast array (so the one in between is a fast-path hit that
             * only the reservation break, not the SC's data compare, can
             * reveal); one other byte of the granule; the same access
             * storing new bytes. */
            vm_gva_t va = fm_va(fm, &in);
            uint8_t szb = fin_u8(&in);
            uint8_t sz = fa_size(szb);
            uint64_t v = fin_u64(&in);
            uint64_t w = v ^ 0x5a5a5a5a5a5a5a5a;
            unsigned variant = szb >= 248 ? 0 : (szb >> 2) & 3u;
            if (variant == 1 || variant == 3)
                op_scalar(fm, va, sz, REF_WRITE, w);
            op_lr(fm, va, sz);
            if (variant == 1)
                op_scalar(fm, va, sz, REF_WRITE, w);
            else if (variant == 3)
                op_scalar(fm, va, sz, REF_WRITE, ~w);
            else if (variant == 2)
                op_scalar(fm, (va & ~(vm_gva_t)7) | ((va + sz) & 7), 1, REF_WRITE, v >> 8);
            op_sc(fm, va, sz, v);
            break;
        }
        case 22: {
            /* a page-crossing read: the last bytes of a pool page */
            vm_gva_t va = (fm_va(fm, &in) | 0xfff) - (fin_u8(&in) % 7);
            op_scalar(fm, va, 8, REF_READ, 0);
            break;
        }
        default: fm_op_paging_mode(fm, &in); break;
        }
    }
    fm_teardown(fm);
    return 0;
}
