/*
 * vmc_emit_rv.c - how the RISC-V MMU fuzz targets' accesses are written as
 * .vmc lines (vmc_emit_rv.h): the answers vmmem-conform must accept,
 * computed from the reference model alone before the core runs.
 *
 * How it works. An access line lists every legal answer:
 *   - the fresh walk's, page by page in the order vmmem translates, each
 *     page's fault named by its first byte (`page-fault @ VA`), then the
 *     PMA check the runner applies (RAM, or one naturally aligned access
 *     inside a device region; an unbacked PA is `access-fault`);
 *   - for every page part, the answer of every leaf the core may
 *     have cached that the acceptance rule allows (ref_tlb_legal: right
 *     side, ASID or global, same paging mode, permissions re-checked, no
 *     A/D update needed), as the runner accepts them.
 * A read states its value (`= V`) when every legal answer reads the same
 * bytes; the fresh walk's A/D update is applied first, as the runner does
 * (a page table read as data sees its own A bit). An SC's answer is its
 * Zalrsc outcome on a copy of the model's reservations (`stored | failed`
 * when a stale translation left it unknown).
 *
 * A sized access combines, page part by page part, the fresh walk or any
 * legal stale answer of that part (a page-crossing access may take one
 * page from the TLB and walk the other); a stale PA that fails the PMA
 * check is `access-fault @ VA of that part`, as the fuzz oracle accepts.
 *
 * Rejected: listing only the answer the core gave when it was legal (the
 * case would then encode the implementation's choice, and a correct core
 * that chose another legal answer would fail it); dropping a stale answer
 * whose PA is not RAM (the core may legally fault from its TLB there).
 */
#include "vmc_emit_rv.h"

#include <stdio.h>
#include <string.h>

static const char *const acc_word[3] = {"read", "write", "exec"};

/* A store's value as the access writes it: the low `size` bytes. */
static uint64_t truncated(uint64_t v, unsigned size)
{
    return size >= 8 ? v : v & ((UINT64_C(1) << (8 * size)) - 1);
}

static bool paged(const fm_t *fm)
{
    return fm->s.levels != 0 && fm->s.priv != 3;
}

/* The PA a remembered leaf gives for va. */
static uint64_t leaf_pa(const ref_tlb_entry_t *e, uint64_t va)
{
    unsigned shift = 12 + 9 * (unsigned)e->level;
    uint64_t mask = (UINT64_C(1) << shift) - 1;
    return ((((e->pte >> 10) & ((UINT64_C(1) << 44) - 1)) << 12) & ~mask) | (va & mask);
}

static bool leaf_usable(const fm_t *fm, const ref_tlb_entry_t *e, uint64_t va, int acc)
{
    unsigned shift = 12 + 9 * (unsigned)e->level;
    return e->valid && e->exec_side == (acc == REF_EXEC) && e->levels == fm->s.levels &&
           (e->global || e->asid == fm->s.asid) && ((va ^ e->va) >> shift) == 0;
}

/*
 * The stale answers of the remembered leaves for an access within one page:
 * calls found(ctx, outcome, pa) for each legal one (OK with its PA, or a
 * page fault once).
 */
static void stale_answers(const fm_t *fm, uint64_t va, int acc, const ref_rv_walk_t *fresh,
                          void (*found)(void *, int, uint64_t), void *ctx)
{
    if (!paged(fm))
        return;
    for (int i = 0; i < fm->tlb.n; i++) {
        const ref_tlb_entry_t *e = &fm->tlb.e[i];
        if (!leaf_usable(fm, e, va, acc))
            continue;
        uint64_t pa = leaf_pa(e, va);
        if (ref_tlb_legal(&fm->tlb, &fm->s, va, acc, fresh, REF_OK, pa))
            found(ctx, REF_OK, pa);
    }
    ref_rv_walk_t never = *fresh;
    never.outcome = -1;
    if (ref_tlb_legal(&fm->tlb, &fm->s, va, acc, &never, REF_PAGE_FAULT, 0))
        found(ctx, REF_PAGE_FAULT, 0);
}

static int route(const fm_t *fm, uint64_t pa, uint64_t len, uint64_t *off)
{
    int region;
    return ref_mem_route(&fm->m, pa, len, &region, off);
}

/* ---- vm_mmu_translate ---------------------------------------------------- */

typedef struct translate_ctx {
    const fm_t *fm;
    vmc_alts_t alts;
} translate_ctx_t;

/* The unsized form's answer: a PA the PMA check of one byte passes, else access-fault. */
static void add_translation(void *p, int outcome, uint64_t pa)
{
    translate_ctx_t *c = p;
    uint64_t off;
    int r = outcome == REF_OK ? route(c->fm, pa, 1, &off) : REF_ROUTE_NONE;
    if (outcome != REF_OK)
        vmc_alts_add(&c->alts, "%s", ref_outcome_name(outcome));
    else if (r == REF_ROUTE_RAM || r == REF_ROUTE_MMIO)
        vmc_alts_add(&c->alts, "0x%llx", (unsigned long long)pa);
    else
        vmc_alts_add(&c->alts, "access-fault");
}

void vmc_rv_translate(const fm_t *fm, uint64_t va, int acc, const ref_rv_walk_t *fresh)
{
    if (!vmc_on())
        return;
    translate_ctx_t c = {fm, {.n = 0}};
    add_translation(&c, fresh->outcome, fresh->pa);
    stale_answers(fm, va, acc, fresh, add_translation, &c);
    char buf[512];
    vmc_line("expect %s 0x%llx -> %s", acc_word[acc], (unsigned long long)va,
             vmc_alts_text(&c.alts, buf, sizeof buf));
}

/* ---- data accesses --------------------------------------------------------- */

/* The model's byte at pa after the given pending A/D writes (8-byte words). */
typedef struct overlay {
    uint64_t pa[4], val[4];
    int n;
} overlay_t;

static uint8_t byte_at(const fm_t *fm, const overlay_t *ov, uint64_t pa)
{
    for (int k = ov ? ov->n - 1 : -1; k >= 0; k--)
        if (pa >= ov->pa[k] && pa - ov->pa[k] < 8)
            return (uint8_t)(ov->val[k] >> (8 * (pa - ov->pa[k])));
    return fm->m.ram[pa];
}

/* The value a read of len bytes at the (single part) pa returns: RAM or the device. */
static uint64_t value_at(const fm_t *fm, const overlay_t *ov, uint64_t pa, unsigned len)
{
    uint64_t off, v = 0;
    if (route(fm, pa, len, &off) == REF_ROUTE_MMIO)
        return fm_le_load(fm->model_regs + off, len);
    for (unsigned i = 0; i < len; i++)
        v |= (uint64_t)byte_at(fm, ov, pa + i) << (8 * i);
    return v;
}

/* The page parts of an access, as vmmem splits it. */
typedef struct parts {
    unsigned n;
    uint64_t va[2], len[2];
} parts_t;

static void split(uint64_t va, unsigned size, parts_t *p)
{
    uint64_t in_page = va & (FM_PAGE - 1);
    p->n = 1;
    p->va[0] = va;
    p->len[0] = size;
    if (in_page + size > FM_PAGE) {
        p->n = 2;
        p->len[0] = FM_PAGE - in_page;
        p->va[1] = va + p->len[0];
        p->len[1] = size - p->len[0];
    }
}

typedef struct sized_ctx {
    const fm_t *fm;
    uint64_t va;
    unsigned size;
    vmc_alts_t alts;
    bool have_value, same_value;
    uint64_t value;
} sized_ctx_t;

static void note_value(sized_ctx_t *c, uint64_t v)
{
    if (!c->have_value) {
        c->have_value = true;
        c->value = v;
    } else if (v != c->value) {
        c->same_value = false;
    }
}

/* One legal translation of one page part: the fresh walk's or a stale one. */
typedef struct part_cand {
    int outcome;
    uint64_t pa;
    bool walked;
} part_cand_t;

typedef struct cand_list {
    part_cand_t c[8];
    int n;
} cand_list_t;

static void add_stale_part(void *p, int outcome, uint64_t pa)
{
    cand_list_t *l = p;
    for (int j = 0; j < l->n; j++)
        if (!l->c[j].walked && l->c[j].outcome == outcome && l->c[j].pa == pa)
            return;
    if (l->n < (int)(sizeof l->c / sizeof l->c[0]))
        l->c[l->n++] = (part_cand_t){outcome, pa, false};
}

/*
 * The answer of one combination of part translations, in vmmem's order:
 * every part translated (stopping at a fault), then the PMA check of each
 * part (RAM, or one naturally aligned device access). A walked part's A/D
 * update is visible to the data of the access (the overlay).
 */
static void add_combination(sized_ctx_t *c, const parts_t *p, const part_cand_t *const pick[2],
                            const ref_rv_walk_t walk[2])
{
    overlay_t ov = {.n = 0};
    for (unsigned k = 0; k < p->n; k++) {
        if (pick[k]->outcome != REF_OK) {
            vmc_alts_add(&c->alts, "%s @ 0x%llx", ref_outcome_name(pick[k]->outcome),
                         (unsigned long long)p->va[k]);
            return;
        }
        if (pick[k]->walked && walk[k].ad_write) {
            ov.pa[ov.n] = walk[k].pte_addr;
            ov.val[ov.n++] = walk[k].ad_value;
        }
    }
    for (unsigned k = 0; k < p->n; k++) {
        uint64_t off;
        int r = route(c->fm, pick[k]->pa, p->len[k], &off);
        if (r != REF_ROUTE_RAM && !(r == REF_ROUTE_MMIO && p->n == 1 && c->va % c->size == 0)) {
            vmc_alts_add(&c->alts, "access-fault @ 0x%llx", (unsigned long long)p->va[k]);
            return;
        }
    }
    vmc_alts_add(&c->alts, "0x%llx", (unsigned long long)pick[0]->pa);
    uint64_t v = value_at(c->fm, &ov, pick[0]->pa, (unsigned)p->len[0]);
    if (p->n == 2)
        v |= value_at(c->fm, &ov, pick[1]->pa, (unsigned)p->len[1]) << (8 * p->len[0]);
    note_value(c, v);
}

void vmc_rv_scalar(const fm_t *fm, int acc, uint64_t va, unsigned size, uint64_t wval)
{
    if (!vmc_on())
        return;
    char value[40] = "", buf[512];
    /* The value as the core is given it, wider than size too: vm_mmu_write
     * must truncate it, and a device must never see the high bytes. */
    if (acc == REF_WRITE)
        snprintf(value, sizeof value, " = 0x%llx", (unsigned long long)wval);
    const char *kind = acc_word[acc];
    if (size != 1 && size != 2 && size != 4 && size != 8) {
        vmc_line("expect %s%u 0x%llx%s -> invalid-argument", kind, size, (unsigned long long)va,
                 value);
        return;
    }
    if (fm->strict && size > 1 && va % size) {
        vmc_line("expect %s%u 0x%llx%s -> misaligned @ 0x%llx", kind, size, (unsigned long long)va,
                 value, (unsigned long long)va);
        return;
    }
    sized_ctx_t c = {fm, va, size, {.n = 0}, false, true, 0};
    parts_t p;
    split(va, size, &p);
    /* Every part: the fresh walk, then each answer a remembered leaf may
     * legally give (the acceptance rule applies per page translated, so a
     * page-crossing access may mix a fresh and a stale part). The fresh
     * walks are done on the model as it stands: the second part's walk
     * does not see the first part's A/D update, as in ref_rv_translate
     * with apply == false (vmmem translates both parts before the data). */
    ref_rv_walk_t walk[2];
    cand_list_t cand[2];
    for (unsigned k = 0; k < p.n; k++) {
        ref_rv_translate((ref_mem_t *)&fm->m, &fm->s, p.va[k], acc, false, &walk[k]);
        cand[k].n = 0;
        cand[k].c[cand[k].n++] = (part_cand_t){walk[k].outcome, walk[k].pa, true};
        stale_answers(fm, p.va[k], acc, &walk[k], add_stale_part, &cand[k]);
    }
    const part_cand_t *pick[2] = {NULL, NULL};
    for (int i = 0; i < cand[0].n; i++) {
        pick[0] = &cand[0].c[i];
        if (p.n == 1 || pick[0]->outcome != REF_OK) {
            add_combination(&c, &p, pick, walk);
            continue;
        }
        for (int j = 0; j < cand[1].n; j++) {
            pick[1] = &cand[1].c[j];
            add_combination(&c, &p, pick, walk);
        }
    }
    if (acc == REF_WRITE && c.alts.n > 1)
        vmc_note_divergence();
    if (acc != REF_WRITE && c.have_value && c.same_value && !vmc_diverged())
        snprintf(value, sizeof value, " = 0x%llx", (unsigned long long)c.value);
    vmc_line("expect %s%u 0x%llx%s -> %s", kind, size, (unsigned long long)va, value,
             vmc_alts_text(&c.alts, buf, sizeof buf));
}

void vmc_rv_bulk(const fm_t *fm, bool write, uint64_t va, uint64_t len, unsigned seed)
{
    if (!vmc_on())
        return;
    char data[40] = "";
    if (write)
        snprintf(data, sizeof data, " pattern %u", seed);
    const char *kind = write ? "writebulk" : "readbulk";
    if (len == 0) {
        vmc_line("expect %s 0x%llx 0%s -> ok", kind, (unsigned long long)va, data);
        return;
    }
    if (len - 1 > UINT64_MAX - va) {
        vmc_line("expect %s 0x%llx %llu%s -> invalid-address", kind, (unsigned long long)va,
                 (unsigned long long)len, data);
        return;
    }
    /* Page by page: translate, then the page must be RAM. The fresh
     * walks' answer first; then, as every page may also be answered by a
     * legal stale leaf (the acceptance rule per page translated), each
     * fault a page can give once every earlier page can pass, and `ok`
     * when every page can pass. */
    int acc = write ? REF_WRITE : REF_READ;
    char answer[64] = "ok";
    for (uint64_t a = va, left = len; left;) {
        uint64_t n = FM_PAGE - (a & (FM_PAGE - 1));
        if (n > left)
            n = left;
        ref_rv_walk_t w;
        ref_rv_translate((ref_mem_t *)&fm->m, &fm->s, a, acc, false, &w);
        uint64_t off;
        int o = w.outcome != REF_OK ? w.outcome
              : route(fm, w.pa, n, &off) != REF_ROUTE_RAM ? REF_ACCESS_FAULT : REF_OK;
        if (o != REF_OK) {
            snprintf(answer, sizeof answer, "%s @ 0x%llx", ref_outcome_name(o), (unsigned long long)a);
            break;
        }
        a += n;
        left -= n;
    }
    vmc_alts_t alts = {.n = 0};
    vmc_alts_add(&alts, "%s", answer);
    bool all_pass = true;
    for (uint64_t a = va, left = len; left && all_pass;) {
        uint64_t n = FM_PAGE - (a & (FM_PAGE - 1));
        if (n > left)
            n = left;
        ref_rv_walk_t w;
        ref_rv_translate((ref_mem_t *)&fm->m, &fm->s, a, acc, false, &w);
        cand_list_t cand = {.n = 0};
        cand.c[cand.n++] = (part_cand_t){w.outcome, w.pa, true};
        stale_answers(fm, a, acc, &w, add_stale_part, &cand);
        bool pass = false;
        for (int i = 0; i < cand.n; i++) {
            uint64_t off;
            int o = cand.c[i].outcome != REF_OK ? cand.c[i].outcome
                  : route(fm, cand.c[i].pa, n, &off) != REF_ROUTE_RAM ? REF_ACCESS_FAULT : REF_OK;
            if (o == REF_OK)
                pass = true;
            else
                vmc_alts_add(&alts, "%s @ 0x%llx", ref_outcome_name(o), (unsigned long long)a);
        }
        all_pass = pass;
        a += n;
        left -= n;
    }
    if (all_pass)
        vmc_alts_add(&alts, "ok");
    if (write && alts.n > 1)
        vmc_note_divergence();
    char buf[512];
    vmc_line("expect %s 0x%llx %llu%s -> %s", kind, (unsigned long long)va, (unsigned long long)len,
             data, vmc_alts_text(&alts, buf, sizeof buf));
}

/* ---- LR/SC ----------------------------------------------------------------- */

typedef struct lrsc_ctx {
    const fm_t *fm;
    uint64_t va, val;
    unsigned size;
    bool store;
    vmc_alts_t alts;
    bool have_value, same_value;
    uint64_t value;
} lrsc_ctx_t;

/* One legal translation of an LR/SC: its answer (ad: the walk's A/D write). */
static void add_lrsc(lrsc_ctx_t *c, int outcome, uint64_t pa, const ref_rv_walk_t *ad)
{
    const fm_t *fm = c->fm;
    if (outcome != REF_OK) {
        vmc_alts_add(&c->alts, "%s @ 0x%llx", ref_outcome_name(outcome), (unsigned long long)c->va);
        return;
    }
    if (!ref_mem_in_ram(&fm->m, pa, c->size)) {   /* LR/SC: RAM only */
        vmc_alts_add(&c->alts, "access-fault @ 0x%llx", (unsigned long long)c->va);
        return;
    }
    overlay_t ov = {.n = 0};
    if (ad && ad->ad_write) {
        ov.pa[0] = ad->pte_addr;
        ov.val[0] = ad->ad_value;
        ov.n = 1;
    }
    if (!c->store) {
        vmc_alts_add(&c->alts, "0x%llx", (unsigned long long)pa);
        uint64_t v = value_at(fm, &ov, pa, c->size);
        if (!c->have_value)
            c->value = v;
        c->same_value &= !c->have_value || v == c->value;
        c->have_value = true;
        return;
    }
    if (fm->resv_unknown || vmc_diverged()) {
        vmc_alts_add(&c->alts, "stored");
        vmc_alts_add(&c->alts, "failed");
        return;
    }
    ref_resv_t r = fm->resv;
    if (ov.n)
        ref_resv_write(&r, ov.pa[0], 8);   /* the SC's own A/D update is a write too */
    vmc_alts_add(&c->alts, "%s", ref_resv_sc(&r, 0, pa, c->size) ? "stored" : "failed");
}

static void add_stale_lrsc(void *p, int outcome, uint64_t pa)
{
    add_lrsc(p, outcome, pa, NULL);
}

static void lrsc_line(const fm_t *fm, uint64_t va, unsigned size, bool store, uint64_t val)
{
    char value[40] = "", buf[512];
    if (store)
        snprintf(value, sizeof value, " = 0x%llx", (unsigned long long)truncated(val, size));
    const char *kind = store ? "sc" : "lr";
    if (size != 1 && size != 2 && size != 4 && size != 8) {
        vmc_line("expect %s%u 0x%llx%s -> invalid-argument", kind, size, (unsigned long long)va, value);
        return;
    }
    if (va % size) {   /* mmu.h: natural alignment whatever the strict setting */
        vmc_line("expect %s%u 0x%llx%s -> misaligned @ 0x%llx", kind, size, (unsigned long long)va,
                 value, (unsigned long long)va);
        return;
    }
    int acc = store ? REF_WRITE : REF_READ;
    lrsc_ctx_t c = {fm, va, val, size, store, {.n = 0}, false, true, 0};
    ref_rv_walk_t w;
    ref_rv_translate((ref_mem_t *)&fm->m, &fm->s, va, acc, false, &w);
    add_lrsc(&c, w.outcome, w.pa, &w);
    stale_answers(fm, va, acc, &w, add_stale_lrsc, &c);
    if (c.alts.n > 1)   /* an LR's granule or an SC's store depends on the choice */
        vmc_note_divergence();
    if (!store && c.have_value && c.same_value && !vmc_diverged())
        snprintf(value, sizeof value, " = 0x%llx", (unsigned long long)c.value);
    vmc_line("expect %s%u 0x%llx%s -> %s", kind, size, (unsigned long long)va, value,
             vmc_alts_text(&c.alts, buf, sizeof buf));
}

void vmc_rv_lr(const fm_t *fm, uint64_t va, unsigned size)
{
    if (vmc_on())
        lrsc_line(fm, va, size, false, 0);
}

void vmc_rv_sc(const fm_t *fm, uint64_t va, unsigned size, uint64_t val)
{
    if (vmc_on())
        lrsc_line(fm, va, size, true, val);
}

/* ---- satp ------------------------------------------------------------------- */

void vmc_rv_satp(const fm_t *fm, uint64_t written)
{
    if (!vmc_on())
        return;
    vmc_line("satp 0x%llx", (unsigned long long)written);
    /* The reference's satp; in Bare mode vmmem's read-back of ASID and PPN
     * is not pinned by its contract, so it is stated only with paging on. */
    if (fm->s.levels) {
        uint64_t mode = (uint64_t)fm->s.levels + 5;
        vmc_line("expect satp == 0x%llx",
                 (unsigned long long)(mode << 60 | (uint64_t)fm->s.asid << 44 |
                                      (fm->s.root_ppn & ((UINT64_C(1) << 44) - 1))));
    }
}
