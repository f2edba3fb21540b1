/*
 * conform_mmu.c - vmmem-conform lines for the MMU calls the runner's
 * `expect read4 ...` forms do not cover: LR/SC through translation, bulk
 * transfers, vm_mmu_invalidate_reservation, and accesses of sizes the API
 * refuses. What fuzz_mmu_access does, as text.
 *
 *   expect lr1|lr2|lr4|lr8 VA [= V] -> ANSWER    vm_mmu_load_reserved
 *   expect sc1|sc2|sc4|sc8 VA = V -> ANSWER      vm_mmu_store_conditional
 *   expect readbulk VA LEN -> ANSWER             vm_mmu_read_bulk
 *   expect writebulk VA LEN DATA -> ANSWER       vm_mmu_write_bulk
 *   invalidate VA SIZE                           vm_mmu_invalidate_reservation
 *   expect readN|writeN|lrN|scN VA [= V] -> invalid-argument   (N not 1, 2, 4, 8)
 *
 * ANSWER: LR gives the PA it reserved (like `expect read4`), SC `stored` or
 * `failed`, a bulk transfer `ok`; any of them a fault with its address
 * (`page-fault @ VA`, `access-fault @ VA`, `misaligned @ VA`), a bulk
 * transfer `invalid-address` when VA + LEN wraps. DATA: conform_parse_data.
 *
 * The reference (mmu.h's contract over the spec's walk): LR and SC need
 * natural alignment whatever the strict setting (misaligned, cause 4 / 6,
 * before any translation), translate as a load / a store, and need RAM
 * (an access fault otherwise; no device is called); SC's translation sets A
 * and D even when the store then fails, and every SC past the size check -
 * faulting, failing or storing - drops the hart's reservation (Zalrsc);
 * the reservation is on the granule of the PA the core used. A bulk
 * transfer translates page by page and checks each page is RAM before the
 * next is translated, and moves no byte unless every page passed; the
 * fault names the first byte of the page that failed. Each translated page
 * follows the walk-or-hit rule (conform_lookup.c); a single-page LR/SC may
 * be answered by a legal stale leaf like `expect read4`, and so may every
 * page of a bulk transfer (bulk_dfs finds the core's per-page choice from
 * its answer, counters and data). Values read are compared with the
 * reference's memory, and every RAM range a translated page reaches is
 * compared afterwards, core vs reference.
 *
 * invalidate: the core translates as a load without side effects and drops
 * the reservations on the granules it reaches. If the fresh walk and the
 * leaves the core may hold disagree about whether a hart's granule is
 * reached, that hart's reservation becomes unknown: its next SC is judged
 * by the core's answer (the case lists `stored | failed`). The line checks
 * that no counter, fault record or PTE changed.
 */
#include "conform_counts.h"
#include "conform_ext_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096u
#define MAX_PARTS 65   /* LEN <= 256 KiB: 64 pages, one more when VA is not page aligned */

static bool size_ok(uint64_t size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static bool paged(const conform_view_t *v)
{
    return v->rv->levels != 0 && v->rv->priv != 3;
}

static int outcome_of(vm_err_t err)
{
    switch (err) {
    case VM_OK: return REF_OK;
    case VM_ERR_PAGE_FAULT: return REF_PAGE_FAULT;
    case VM_ERR_ACCESS_FAULT: return REF_ACCESS_FAULT;
    case VM_ERR_ALIGNMENT_FAULT: return REF_MISALIGNED;
    default: return -1;
    }
}

/* The core's answer text for an error (a fault with its recorded VA). */
static void core_fault_text(const conform_view_t *v, vm_err_t err, char *buf, size_t len)
{
    int o = outcome_of(err);
    if (o < 0 || o == REF_OK)
        snprintf(buf, len, "%s", conform_err_name(err));
    else
        conform_outcome_text(buf, len, o, 0, true, vm_mmu_last_fault(*v->core)->va);
}

/* mmu.h: a failed access records kind, cause and VA. NULL if it agrees. */
static const char *fault_record(const conform_view_t *v, vm_err_t err, int access, uint64_t va,
                                char *buf, size_t len)
{
    static const vm_fault_kind_t kinds[] = {VM_FAULT_NONE, VM_FAULT_PAGE, VM_FAULT_ACCESS,
                                            VM_FAULT_MISALIGNED};
    int o = outcome_of(err);
    if (o <= REF_OK)
        return NULL;
    const vm_fault_t *f = vm_mmu_last_fault(*v->core);
    if (f->kind != kinds[o] || (int)f->cause != ref_cause(o, access) || f->va != va ||
        (int)f->access != access) {
        snprintf(buf, len, "fault record: kind %d cause %u va 0x%llx access %d; expected kind %d "
                           "cause %d va 0x%llx access %d",
                 (int)f->kind, f->cause, (unsigned long long)f->va, (int)f->access, (int)kinds[o],
                 ref_cause(o, access), (unsigned long long)va, access);
        return buf;
    }
    return NULL;
}

static const char *counters_still(const conform_lookup_t *lk, char *buf, size_t len)
{
    if (lk->dh || lk->dm) {
        snprintf(buf, len, "the TLB counters moved by hits +%llu misses +%llu, but nothing may be "
                           "translated", (unsigned long long)lk->dh, (unsigned long long)lk->dm);
        return buf;
    }
    return NULL;
}

/* Translate again after a successful access to learn its PA (the access
 * filled the TLB and set A/D, so this adds nothing; not counted). */
static uint64_t core_pa_after(const conform_view_t *v, uint64_t va, int access)
{
    vm_gpa_t pa = 0;
    if (conform_translate_hidden(*v->core, v->hits_base, v->misses_base, va, (vm_access_t)access,
                                 &pa) != VM_OK)
        pa = ~UINT64_C(0);
    return pa;
}

/* The reference follows a translation the core made by walking: the walk
 * with its A/D update applied (RAM it writes breaks reservations; the
 * reference sets A/D only on a successful walk) and its leaf remembered
 * by the TLB model (which keeps completed walks only). */
static void ref_follow_walk(const conform_view_t *v, uint64_t va, int access)
{
    ref_rv_walk_t w;
    ref_rv_translate(v->mem, v->rv, va, access, true, &w);
    if (w.ad_write)
        conform_ext_ram_written(v->ext, w.pte_addr, 8);
    ref_tlb_record(*v->tlb, v->rv, va, access, &w);
}

/* ---- LR and SC --------------------------------------------------------- */

typedef struct access_line {
    uint64_t va, size, value;
    bool has_value;
    conform_alts_t alts;
} access_line_t;

static int parse_access(const conform_view_t *v, char **tok, int ntok, bool need_value,
                        access_line_t *L)
{
    memset(L, 0, sizeof *L);
    if (ntok < 5 || !conform_parse_u64(tok[2], &L->va))
        return conform_malformed(v, "expected: expect %s VA%s -> ANSWER", tok[1],
                                 need_value ? " = VALUE" : " [= VALUE]");
    int pos = 3;
    if (!strcmp(tok[pos], "=")) {
        if (pos + 1 >= ntok || !conform_parse_u64(tok[pos + 1], &L->value))
            return conform_malformed(v, "'=' needs a value");
        L->has_value = true;
        pos += 2;
    }
    if (need_value && !L->has_value)
        return conform_malformed(v, "%s needs '= VALUE'", tok[1]);
    return conform_parse_alts(v, tok, ntok, pos, &L->alts) ? CONFORM_ERROR : 0;
}

/*
 * LR (store false) or SC (store true) of a naturally aligned size.
 * `expect lrN VA [= V] -> PA | FAULT`, `expect scN VA = V -> stored | failed | FAULT`.
 */
static int line_lrsc(const conform_view_t *v, char **tok, int ntok, unsigned size, bool store)
{
    conform_ext_t *ext = v->ext;
    access_line_t L;
    if (parse_access(v, tok, ntok, store, &L) || conform_resv_form(v, false))
        return CONFORM_ERROR;
    int h = ext->cur, access = store ? REF_WRITE : REF_READ;
    char ref_ans[64], core_ans[64] = "-", msg[240];
    const char *extra = NULL;
    vm_mmu_t *core = *v->core;

    if (L.va % size) {   /* natural alignment first, whatever `strict` says */
        conform_outcome_text(ref_ans, sizeof ref_ans, REF_MISALIGNED, 0, true, L.va);
        if (store) {
            ext->resv.valid[h] = false;
            ext->resv_unknown[h] = false;
        }
        if (core) {
            conform_lookup_t lk;
            uint64_t x = 0;
            bool stored = false;
            conform_lookup_begin(v, &lk);
            vm_err_t err = store ? vm_mmu_store_conditional(core, L.va, L.value, (uint8_t)size, &stored)
                                 : vm_mmu_load_reserved(core, L.va, (uint8_t)size, &x);
            conform_lookup_end(v, &lk);
            if (err == VM_OK)
                snprintf(core_ans, sizeof core_ans, "%s", store ? (stored ? "stored" : "failed") : "ok");
            else
                core_fault_text(v, err, core_ans, sizeof core_ans);
            extra = counters_still(&lk, msg, sizeof msg);
            if (!extra)
                extra = fault_record(v, err, access, L.va, msg, sizeof msg);
        }
        conform_judge(v, &L.alts, ref_ans, core_ans, extra);
        return CONFORM_DONE;
    }

    ref_rv_walk_t fresh;
    ref_rv_translate(v->mem, v->rv, L.va, access, false, &fresh);
    bool ref_ram = fresh.outcome == REF_OK && ref_mem_in_ram(v->mem, fresh.pa, size);
    if (fresh.outcome != REF_OK)
        conform_outcome_text(ref_ans, sizeof ref_ans, fresh.outcome, 0, true, L.va);
    else if (!ref_ram)
        conform_outcome_text(ref_ans, sizeof ref_ans, REF_ACCESS_FAULT, 0, true, L.va);
    else
        snprintf(ref_ans, sizeof ref_ans, "0x%llx", (unsigned long long)fresh.pa);

    /* The core, and which translation it used. */
    bool walked = true, core_ok = false, core_stored = false;
    uint64_t core_pa = fresh.pa, core_val = 0;
    vm_err_t err = VM_OK;
    if (core) {
        conform_lookup_t lk;
        conform_lookup_begin(v, &lk);
        err = store ? vm_mmu_store_conditional(core, L.va, L.value, (uint8_t)size, &core_stored)
                    : vm_mmu_load_reserved(core, L.va, (uint8_t)size, &core_val);
        conform_lookup_end(v, &lk);
        walked = !lk.paged || lk.dm == 1;
        core_ok = err == VM_OK;
        if (core_ok) {
            core_pa = core_pa_after(v, L.va, access);
            snprintf(core_ans, sizeof core_ans, "0x%llx", (unsigned long long)core_pa);
        } else {
            core_fault_text(v, err, core_ans, sizeof core_ans);
        }
        if (lk.paged && lk.dh + lk.dm != 1) {
            snprintf(msg, sizeof msg, "the TLB counters moved by hits +%llu misses +%llu for one "
                                      "translation", (unsigned long long)lk.dh,
                     (unsigned long long)lk.dm);
            extra = msg;
        } else if ((extra = conform_counters_unpaged(&lk, msg, sizeof msg)) != NULL) {
            /* (translation off: nothing may count) */
        } else if (walked && strcmp(core_ans, ref_ans)) {
            extra = "the core walked (a TLB miss) but its answer is not the fresh walk's";
        } else if (!walked) {
            int o = outcome_of(err);
            bool legal = o == REF_ACCESS_FAULT ? conform_leaf_covers(v, L.va, access)
                       : o >= 0 && conform_hit_legal(v, L.va, access, &fresh, o, core_pa);
            if (!legal)
                extra = "the core answered from its TLB (a hit) but no remembered leaf gives "
                        "that answer";
        }
        if (!extra)
            extra = fault_record(v, err, access, L.va, msg, sizeof msg);
    }
    /* The reference follows: A/D and the leaf of a walk, then the data. */
    if (walked)
        ref_follow_walk(v, L.va, access);
    bool did = core ? core_ok : ref_ram;   /* the access reached RAM at core_pa */
    if (!store) {
        if (did && ref_mem_in_ram(v->mem, core_pa, size)) {
            ref_resv_lr(&ext->resv, h, core_pa);
            ext->resv_unknown[h] = false;
            uint64_t ref_val = conform_ref_load(v, core_pa, size);
            if (!extra && L.has_value && ref_val != L.value) {
                snprintf(msg, sizeof msg, "the reference read 0x%llx, want 0x%llx [the case is wrong]",
                         (unsigned long long)ref_val, (unsigned long long)L.value);
                extra = msg;
            } else if (!extra && core && core_val != ref_val) {
                snprintf(msg, sizeof msg, "the core read 0x%llx, the reference 0x%llx",
                         (unsigned long long)core_val, (unsigned long long)ref_val);
                extra = msg;
            }
        }
    } else {
        bool stored = false;
        if (did && ref_mem_in_ram(v->mem, core_pa, size)) {
            stored = conform_resv_sc(ext, h, core_pa, size, core_stored);
            if (stored) {
                uint8_t b[8];
                for (unsigned i = 0; i < size; i++)
                    b[i] = (uint8_t)(L.value >> (8 * i));
                conform_ref_write(v, core_pa, b, size);
            }
        } else {
            /* The core faulted through a legal stale leaf while the fresh
             * walk reaches RAM: the reference's own answer is the SC at
             * fresh.pa against the reservation as it stands, asked of a
             * copy (in the core's world nothing was stored). */
            if (ref_ram) {
                ref_resv_t asked = ext->resv;
                stored = ref_resv_sc(&asked, h, fresh.pa, size);
            }
            ext->resv.valid[h] = false;   /* a faulting SC drops the reservation too */
            ext->resv_unknown[h] = false;
        }
        /* The case may list `stored | failed` (a stale choice left the
         * reservation unknown to the emitter): the core's SC must still
         * be the reference's, which follows the core's choices. */
        if (!extra && core && core_ok && stored != core_stored)
            extra = "the core's SC result is not what the reservation at its PA gives";
        if (ref_ram)
            snprintf(ref_ans, sizeof ref_ans, "%s", stored ? "stored" : "failed");
        if (core && core_ok)
            snprintf(core_ans, sizeof core_ans, "%s", core_stored ? "stored" : "failed");
    }
    if (core && !extra)
        extra = conform_walk_memory(v, &fresh, msg, sizeof msg);
    if (core && !extra && core_ok)
        extra = conform_ram_compare(v, core_pa, size, msg, sizeof msg);
    conform_judge(v, &L.alts, ref_ans, core_ans, extra);
    return CONFORM_DONE;
}

/* ---- bulk transfers ------------------------------------------------------ */

/*
 * A bulk transfer whose answer is not the fresh walks' (or whose counters
 * show hits the fresh pages do not explain): the acceptance rule page by
 * page, as the fuzz oracle applies it. Each page is the fresh walk (a miss)
 * or an answer a remembered leaf legally gives (a hit; also the leaf an
 * earlier page of this transfer just walked). A depth-first search finds a
 * combination whose answer is the core's, whose hits and misses are the
 * core's counters, and whose pages hold the core's data (a read's bytes
 * equal the reference's RAM at the page's PA; a write's bytes are in the
 * core's RAM there), so the reference follows the core's actual choice.
 */
typedef struct bulk_search {
    const conform_view_t *v;
    int access;
    bool write;
    unsigned nparts;
    const uint64_t *part_va, *part_len;
    const uint8_t *data, *got;
    const ref_rv_walk_t *walk;     /* fresh walks of every page (apply == false) */
    uint64_t dh, dm;
    int core_outcome;               /* REF_* ; REF_OK: the transfer succeeded */
    uint64_t core_fva;
    uint64_t pa[MAX_PARTS + 1];
    bool walked[MAX_PARTS + 1];
    unsigned n;                     /* pages of the found combination */
    long budget;
} bulk_search_t;

static bool bulk_page_data_ok(const bulk_search_t *b, unsigned p, uint64_t pa, uint64_t off)
{
    const conform_view_t *v = b->v;
    if (!b->write)
        return !memcmp(b->got + off, v->mem->ram + (pa - v->mem->base), b->part_len[p]);
    for (uint64_t i = 0; i < b->part_len[p]; i++) {
        uint64_t byte = 0;
        if (vm_mmu_read_phys(*v->core, pa + i, 1, &byte) != VM_OK || (uint8_t)byte != b->data[off + i])
            return false;
    }
    return true;
}

static bool bulk_dfs(bulk_search_t *b, unsigned p, uint64_t hits, uint64_t misses, uint64_t off)
{
    if (--b->budget < 0 || hits > b->dh || misses > b->dm)
        return false;
    if (p == b->nparts) {
        b->n = p;
        return b->core_outcome == REF_OK && hits == b->dh && misses == b->dm;
    }
    const conform_view_t *v = b->v;
    const ref_rv_walk_t *fresh = &b->walk[p];
    uint64_t va = b->part_va[p];
    /* candidates: (outcome, pa, walked) */
    int co[20];
    uint64_t cpa[20];
    bool cw[20];
    int n = 0;
    co[n] = fresh->outcome, cpa[n] = fresh->pa, cw[n++] = true;
    for (unsigned q = 0; q < p; q++)
        if (b->walked[q] && b->walk[q].level >= 0 &&
            ((b->part_va[q] ^ va) >> (12 + 9 * (unsigned)b->walk[q].level)) == 0) {
            co[n] = fresh->outcome, cpa[n] = fresh->pa, cw[n++] = false;
            break;
        }
    ref_rv_walk_t never = *fresh;
    never.outcome = -1;   /* only remembered leaves may justify a hit */
    const ref_tlb_t *t = *v->tlb;
    for (int k = 0; k < t->n && n < 19; k++) {
        const ref_tlb_entry_t *e = &t->e[k];
        unsigned shift = 12 + 9 * (unsigned)e->level;
        if (!e->valid || e->exec_side || e->levels != v->rv->levels ||
            (!e->global && e->asid != v->rv->asid) || ((e->va ^ va) >> shift) != 0)
            continue;
        uint64_t mask = (UINT64_C(1) << shift) - 1;
        uint64_t pa = ((((e->pte >> 10) & ((UINT64_C(1) << 44) - 1)) << 12) & ~mask) | (va & mask);
        if (ref_tlb_legal(t, v->rv, va, b->access, &never, REF_OK, pa))
            co[n] = REF_OK, cpa[n] = pa, cw[n++] = false;
    }
    if (ref_tlb_legal(t, v->rv, va, b->access, &never, REF_PAGE_FAULT, 0))
        co[n] = REF_PAGE_FAULT, cpa[n] = 0, cw[n++] = false;
    for (int i = 0; i < n; i++) {
        uint64_t h = hits + !cw[i], m = misses + cw[i];
        int o = co[i];
        if (o == REF_OK && !ref_mem_in_ram(v->mem, cpa[i], b->part_len[p]))
            o = REF_ACCESS_FAULT;
        b->pa[p] = cpa[i];
        b->walked[p] = cw[i];
        if (o != REF_OK) {
            if (o == b->core_outcome && va == b->core_fva && h == b->dh && m == b->dm) {
                b->n = p + 1;
                return true;
            }
            continue;
        }
        if (b->core_outcome == REF_OK && !bulk_page_data_ok(b, p, cpa[i], off))
            continue;
        if (bulk_dfs(b, p + 1, h, m, off + b->part_len[p]))
            return true;
    }
    return false;
}

static int line_bulk(const conform_view_t *v, char **tok, int ntok, bool write)
{
    uint64_t va, len;
    int pos = 4;
    if (ntok < 5 || !conform_parse_u64(tok[2], &va) || !conform_parse_u64(tok[3], &len) ||
        len > 64 * PAGE)
        return conform_malformed(v, "expected: expect %s VA LEN%s -> ANSWER (LEN <= 256K)", tok[1],
                                 write ? " DATA" : "");
    uint8_t *data = malloc(len ? len : 1), *got_buf = malloc(len ? len : 1);
    if (!data || !got_buf) {
        free(data);
        free(got_buf);
        return conform_malformed(v, "out of memory");
    }
    conform_alts_t alts;
    if (write) {
        bool is_null;
        int used = conform_parse_data(v, tok, ntok, pos, 0, data, len, &is_null);
        if (used <= 0 || is_null || !strcmp(tok[pos], "same")) {
            free(data);
            free(got_buf);
            return conform_malformed(v, "expected DATA: pattern S | fill B | hex HH.. (LEN bytes)");
        }
        pos += used;
    }
    if (conform_parse_alts(v, tok, ntok, pos, &alts)) {
        free(data);
        free(got_buf);
        return CONFORM_ERROR;
    }
    int access = write ? REF_WRITE : REF_READ;
    char ref_ans[64] = "ok", core_ans[64] = "-", msg[240];
    const char *extra = NULL;
    vm_mmu_t *core = *v->core;

    /* The reference: page by page, translate then check RAM. */
    unsigned nparts = 0, ntr = 0;
    uint64_t part_va[MAX_PARTS + 1], part_len[MAX_PARTS + 1];
    ref_rv_walk_t walk[MAX_PARTS + 1];
    bool early = len == 0 || len - 1 > UINT64_MAX - va;
    if (len && len - 1 > UINT64_MAX - va)
        snprintf(ref_ans, sizeof ref_ans, "%s", conform_err_name(VM_ERR_INVALID_ADDRESS));
    for (uint64_t a = va, left = early ? 0 : len; left; nparts++) {
        uint64_t n = PAGE - (a & (PAGE - 1));
        if (n > left)
            n = left;
        part_va[nparts] = a;
        part_len[nparts] = n;
        a += n;
        left -= n;
    }
    int ref_outcome = REF_OK;
    for (unsigned p = 0; p < nparts && ref_outcome == REF_OK; p++, ntr++) {
        ref_rv_translate(v->mem, v->rv, part_va[p], access, false, &walk[p]);
        if (walk[p].outcome != REF_OK)
            ref_outcome = walk[p].outcome;
        else if (!ref_mem_in_ram(v->mem, walk[p].pa, part_len[p]))
            ref_outcome = REF_ACCESS_FAULT;
        if (ref_outcome != REF_OK)
            conform_outcome_text(ref_ans, sizeof ref_ans, ref_outcome, 0, true, part_va[p]);
    }

    bool apply[MAX_PARTS + 1];   /* the pages the core walked */
    for (unsigned p = 0; p <= MAX_PARTS; p++)
        apply[p] = true;
    vm_err_t err = VM_OK;
    bulk_search_t bs;
    bool combo = false;
    if (core) {
        conform_lookup_t lk;
        conform_lookup_begin(v, &lk);
        err = write ? vm_mmu_write_bulk(core, va, data, (size_t)len)
                    : vm_mmu_read_bulk(core, va, got_buf, (size_t)len);
        conform_lookup_end(v, &lk);
        if (err == VM_OK)
            snprintf(core_ans, sizeof core_ans, "ok");
        else
            core_fault_text(v, err, core_ans, sizeof core_ans);
        if (early) {
            extra = counters_still(&lk, msg, sizeof msg);
        } else if (!lk.paged) {
            extra = conform_counters_unpaged(&lk, msg, sizeof msg);
        } else {
            uint64_t covered = conform_parts_covered(v, part_va, walk, (int)ntr, access);
            if (lk.dh > covered) {
                snprintf(msg, sizeof msg, "the core counted %llu TLB hit(s) but only %llu page(s) "
                                          "are covered by a remembered leaf",
                         (unsigned long long)lk.dh, (unsigned long long)covered);
                extra = msg;
            }
            if (lk.dm < ntr) {   /* which pages walked: see run_sized's walked_parts */
                for (unsigned p = 0; p <= MAX_PARTS; p++)
                    apply[p] = false;
                for (unsigned p = 0; lk.dm && p < ntr; p++) {
                    uint64_t word = 0;
                    if (walk[p].outcome != REF_OK || !walk[p].ad_write ||
                        (vm_mmu_read_phys(core, walk[p].pte_addr, 8, &word) == VM_OK &&
                         word == walk[p].ad_value))
                        apply[p] = true;
                }
            }
        }
        int core_outcome = err == VM_OK ? REF_OK : outcome_of(err);
        if (!early && lk.paged && core_outcome >= REF_OK && core_outcome < REF_MISALIGNED &&
            (extra || lk.dh || strcmp(core_ans, ref_ans))) {
            for (unsigned p = ntr; p < nparts; p++)
                ref_rv_translate(v->mem, v->rv, part_va[p], access, false, &walk[p]);
            bs = (bulk_search_t){ .v = v, .access = access, .write = write, .nparts = nparts,
                                  .part_va = part_va, .part_len = part_len, .data = data,
                                  .got = got_buf, .walk = walk, .dh = lk.dh, .dm = lk.dm,
                                  .core_outcome = core_outcome,
                                  .core_fva = err == VM_OK ? 0 : vm_mmu_last_fault(core)->va,
                                  .budget = 100000 };
            combo = bulk_dfs(&bs, 0, 0, 0, 0);
            if (combo)
                extra = NULL;
        }
        if (!extra && err != VM_OK && outcome_of(err) > REF_OK)
            extra = fault_record(v, err, access, vm_mmu_last_fault(core)->va, msg, sizeof msg);
    }
    if (combo) {
        /* the core's combination: apply and remember its walked pages */
        for (unsigned p = 0; p < bs.n; p++)
            if (bs.walked[p] && walk[p].outcome == REF_OK)
                ref_follow_walk(v, part_va[p], access);
        uint64_t off = 0;
        for (unsigned p = 0; err == VM_OK && write && p < nparts; p++) {
            conform_ref_write(v, bs.pa[p], data + off, part_len[p]);
            off += part_len[p];
        }
        for (unsigned p = 0; !extra && p < bs.n; p++) {
            extra = conform_walk_memory(v, &walk[p], msg, sizeof msg);
            if (!extra && err == VM_OK)
                extra = conform_ram_compare(v, bs.pa[p], part_len[p], msg, sizeof msg);
        }
        free(data);
        free(got_buf);
        conform_judge(v, &alts, ref_ans, core_ans, extra);
        return CONFORM_DONE;
    }
    for (unsigned p = 0; p < ntr; p++)
        if (apply[p] && walk[p].outcome == REF_OK)
            ref_follow_walk(v, part_va[p], access);
    if (!early && ref_outcome == REF_OK) {
        uint64_t off = 0;
        for (unsigned p = 0; p < nparts; p++) {
            if (write)
                conform_ref_write(v, walk[p].pa, data + off, part_len[p]);
            else if (core && err == VM_OK && !extra &&
                     memcmp(got_buf + off, v->mem->ram + (walk[p].pa - v->mem->base), part_len[p])) {
                snprintf(msg, sizeof msg, "the data read from page %u differs from the "
                                          "reference's", p);
                extra = msg;
            }
            off += part_len[p];
        }
    }
    for (unsigned p = 0; core && !extra && p < ntr; p++) {
        extra = conform_walk_memory(v, &walk[p], msg, sizeof msg);
        if (!extra && walk[p].outcome == REF_OK)
            extra = conform_ram_compare(v, walk[p].pa, part_len[p], msg, sizeof msg);
    }
    free(data);
    free(got_buf);
    conform_judge(v, &alts, ref_ans, core_ans, extra);
    return CONFORM_DONE;
}

/* ---- invalidate ------------------------------------------------------------ */

static int line_invalidate(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    uint64_t va, size;
    if (ntok != 3 || !conform_parse_u64(tok[1], &va) || !conform_parse_u64(tok[2], &size) ||
        size > 255)
        return conform_malformed(v, "expected: invalidate VA SIZE (0..255)");
    char msg[240];
    const char *extra = NULL;
    vm_mmu_t *core = *v->core;
    if (core) {
        conform_lookup_t lk;
        vm_fault_t before = *vm_mmu_last_fault(core);
        conform_lookup_begin(v, &lk);
        vm_mmu_invalidate_reservation(core, va, (uint8_t)size);
        conform_lookup_end(v, &lk);
        const vm_fault_t *after = vm_mmu_last_fault(core);
        extra = counters_still(&lk, msg, sizeof msg);
        if (!extra && (after->kind != before.kind || after->va != before.va ||
                       after->cause != before.cause))
            extra = "vm_mmu_invalidate_reservation changed the fault record";
    }
    (*v->expectations)++;
    if (size_ok(size)) {
        /* Each page part: the PAs the core may use (the fresh walk, with A/D
         * not needed, and every leaf it may hold for the VA). */
        ref_rv_state_t s = *v->rv;
        s.ad_hardware = true;
        for (uint64_t a = va, left = size; left;) {
            uint64_t n = PAGE - (a & (PAGE - 1));
            if (n > left)
                n = left;
            ref_rv_walk_t w;
            ref_rv_translate(v->mem, &s, a, REF_READ, false, &w);
            if (core && !extra)
                extra = conform_walk_memory(v, &w, msg, sizeof msg);
            uint64_t cand[16];
            int nc = 0;
            bool none = w.outcome != REF_OK;   /* a fault reaches no granule */
            if (!none)
                cand[nc++] = w.pa;
            const ref_tlb_t *t = *v->tlb;
            for (int k = 0; paged(v) && k < t->n && nc < 16; k++) {
                const ref_tlb_entry_t *e = &t->e[k];
                unsigned shift = 12 + 9 * (unsigned)e->level;
                if (e->exec_side || e->levels != v->rv->levels ||
                    (!e->global && e->asid != v->rv->asid) || ((a ^ e->va) >> shift) != 0)
                    continue;
                uint64_t mask = (UINT64_C(1) << shift) - 1;
                cand[nc++] = ((((e->pte >> 10) & ((UINT64_C(1) << 44) - 1)) << 12) & ~mask) |
                             (a & mask);
            }
            for (int h = 0; h < CONFORM_MAX_HARTS; h++) {
                if (!ext->resv.valid[h] || ext->resv_unknown[h])
                    continue;
                uint64_t g = ext->resv.granule[h];
                int reach = 0;
                for (int c = 0; c < nc; c++)
                    reach += cand[c] < g + 8 && g < cand[c] + n;
                if (reach && reach == nc && !none)
                    ext->resv.valid[h] = false;
                else if (reach)
                    ext->resv_unknown[h] = true;
            }
            a += n;
            left -= n;
        }
    }
    if (extra)
        conform_fail(v, "invalidate 0x%llx %llu: %s", (unsigned long long)va,
                     (unsigned long long)size, extra);
    else
        conform_pass(v);
    return CONFORM_DONE;
}

/* ---- sizes the API refuses ---------------------------------------------- */

static int line_bad_size(const conform_view_t *v, char **tok, int ntok, int kind, uint64_t size)
{
    access_line_t L;
    if (parse_access(v, tok, ntok, kind == 1 || kind == 3, &L))
        return CONFORM_ERROR;
    if (kind >= 2 && conform_resv_form(v, false))
        return CONFORM_ERROR;
    char core_ans[64] = "-", msg[240];
    const char *extra = NULL;
    vm_mmu_t *core = *v->core;
    if (core) {
        conform_lookup_t lk;
        uint64_t x;
        bool stored = false;
        vm_err_t err;
        conform_lookup_begin(v, &lk);
        switch (kind) {
        case 0: err = vm_mmu_read(core, L.va, (uint8_t)size, &x); break;
        case 1: err = vm_mmu_write(core, L.va, L.value, (uint8_t)size); break;
        case 2: err = vm_mmu_load_reserved(core, L.va, (uint8_t)size, &x); break;
        default: err = vm_mmu_store_conditional(core, L.va, L.value, (uint8_t)size, &stored); break;
        }
        conform_lookup_end(v, &lk);
        snprintf(core_ans, sizeof core_ans, "%s", conform_err_name(err));
        extra = counters_still(&lk, msg, sizeof msg);
    }
    conform_judge(v, &L.alts, conform_err_name(VM_ERR_INVALID_ARGUMENT), core_ans, extra);
    return CONFORM_DONE;
}

int conform_mmu_line(const conform_view_t *v, char **tok, int ntok)
{
    if (!strcmp(tok[0], "invalidate"))
        return line_invalidate(v, tok, ntok);
    if (strcmp(tok[0], "expect") || ntok < 2)
        return CONFORM_NOT_MINE;
    const char *what = tok[1];
    if (!strcmp(what, "readbulk"))
        return line_bulk(v, tok, ntok, false);
    if (!strcmp(what, "writebulk"))
        return line_bulk(v, tok, ntok, true);
    static const char *const kinds[] = {"read", "write", "lr", "sc"};
    for (int k = 0; k < 4; k++) {
        size_t n = strlen(kinds[k]);
        uint64_t size;
        /* readN, ...: N decimal without a leading 0 (so "read0x8" is not a size) */
        if (strncmp(what, kinds[k], n) || !what[n] || !conform_parse_u64(what + n, &size) ||
            (what[n] == '0' && what[n + 1]))
            continue;
        if (size > 255)
            return conform_malformed(v, "%s: a size is 0..255", what);
        if (k >= 2 && size_ok(size))
            return line_lrsc(v, tok, ntok, (unsigned)size, k == 3);
        if (!size_ok(size))
            return line_bad_size(v, tok, ntok, k, size);
    }
    return CONFORM_NOT_MINE;
}
