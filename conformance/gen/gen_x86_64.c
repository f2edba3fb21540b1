/*
 * gen_x86_64.c - vmmem-gen's x86-64 part (--arch x86_64): seeded random
 * `mode x86_64` / `mode x86_64_la57` cases whose questions are `check`
 * lines, for QEMU (conformance/qemu/qemu_answer_x86_64.py: real accesses by
 * a long-mode probe) to answer.
 *
 * How it works. Every case is a q35-like machine: RAM 4 MiB at PA 0
 * (tables in [1 MiB, 2 MiB), targets in [2 MiB, 4 MiB); QEMU's low 1 MiB
 * holds BIOS and VGA windows and is never used), 4- or 5-level paging,
 * `maxphyaddr 40` (QEMU's -cpu max,phys-bits=40), then K checks, each with
 * its own CPL, CR0.WP, EFER.NXE, CR4.SMEP/SMAP/PKE, RFLAGS.AC and PKRU, each
 * built for one RULE of SDM Vol. 3A chapter 4 (the enum below) on a chain of
 * its own under a root slot of its own: the walk (4 KiB, 2 MiB, 1 GiB
 * leaves; P = 0 at every level), the access rights of 4.6 (U/S and R/W
 * combined over the levels, CR0.WP, XD with EFER.NXE, SMEP, SMAP with
 * RFLAGS.AC), protection keys (4.6.2), reserved bits (4.5: PS in a PML4E or
 * PML5E, address bits at or above MAXPHYADDR, a misaligned 1 GiB or 2 MiB
 * page, XD without NXE), the accessed and dirty flags (4.8: A clear at
 * random levels, D clear in the leaf, set by the access), and non-canonical
 * addresses (#GP, 3.3.7.1). Entries carry random PWT, PCD, G (leaves), AVL
 * and ignored bits.
 *
 * The probe mapping. QEMU's accesses are made by code that runs in long
 * mode under the case's CR3, so every case maps the probe's three pages at
 * VA = PA 0x800000 (QEMU RAM past the case's): supervisor code and
 * descriptor tables (read-only), the supervisor stack (writable), user code
 * (U = 1, read-only), every entry of that chain with A set (D in the
 * leaves) so that the probe never writes the case's tables. The root slot
 * it uses is reserved; vmmem replays the same entries, for vmmem the pages
 * are outside RAM and no check touches them. The case says so in a
 * `# qemu-probe-x86-64` comment.
 *
 * Self-check: the x86-64 reference model has not landed on main, so the
 * generator states the outcome its construction implies - the PA, or the
 * kind of fault, from its own reading of SDM 4.6 in x_allowed() - in a
 * `# want:` comment after each check; the answerer counts QEMU's answers
 * against it. When the x86 runner lands, vmmem-conform replays QEMU's
 * answers on the core and the reference (never these).
 */
#include "gen_common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X_RAM_SIZE (UINT64_C(4) << 20)
#define X_TABLES_START (UINT64_C(1) << 20)
#define X_DATA_START (UINT64_C(2) << 20)
#define X_PROBE (UINT64_C(0x800000))
#define X_MAXPHYADDR 40
#define X_MAX_CHECKS 16
#define X_MAX_WORDS 512

/* Paging-structure entry bits (SDM 4.5, Tables 4-15 to 4-20). */
#define E_P (UINT64_C(1) << 0)
#define E_RW (UINT64_C(1) << 1)
#define E_US (UINT64_C(1) << 2)
#define E_PWT (UINT64_C(1) << 3)
#define E_PCD (UINT64_C(1) << 4)
#define E_A (UINT64_C(1) << 5)
#define E_D (UINT64_C(1) << 6)
#define E_PS (UINT64_C(1) << 7)
#define E_G (UINT64_C(1) << 8)
#define E_XD (UINT64_C(1) << 63)
#define E_PKEY_SHIFT 59

enum x_rule {
    X_OK,            /* permitted: 4 KiB, 2 MiB or 1 GiB leaf */
    X_AD_CLEAR,      /* A clear at some levels, D clear in the leaf: set by the access */
    X_NOT_PRESENT,   /* P = 0 at some level */
    X_US,            /* CPL 3 and U/S = 0 at some level */
    X_RW,            /* a write with R/W = 0 at some level: CPL 3, or CPL 0 with WP = 1 */
    X_RW_WP0,        /* a CPL 0 write with R/W = 0 and WP = 0: allowed */
    X_NX,            /* a fetch with XD = 1 at some level and NXE = 1 */
    X_SMEP,          /* a CPL 0 fetch from a user page with SMEP */
    X_SMAP,          /* a CPL 0 data access to a user page with SMAP: AC = 0 faults, AC = 1 not */
    X_PKEY,          /* PKE, a user page, PKRU AD or WD for its key */
    X_RSVD,          /* a reserved bit: PS in a PML4E/PML5E, an address bit >= MAXPHYADDR,
                        a misaligned large page, XD without NXE */
    X_NONCANON,      /* a non-canonical VA: #GP */
    X_REVISIT,       /* an earlier check's VA in a new context */
    X_RULE_COUNT
};

static const char *const X_RULE_NAMES[X_RULE_COUNT] = {
    [X_OK] = "ok: permitted access (4 KiB, 2 MiB or 1 GiB page)",
    [X_AD_CLEAR] = "ok: A clear on the way, D clear in the leaf: set by the access (4.8)",
    [X_NOT_PRESENT] = "#PF: P = 0 at some level",
    [X_US] = "#PF: CPL 3, U/S = 0 at some level (4.6.1)",
    [X_RW] = "#PF: write, R/W = 0 at some level (CPL 3, or CPL 0 with CR0.WP = 1)",
    [X_RW_WP0] = "ok: CPL 0 write to R/W = 0 with CR0.WP = 0",
    [X_NX] = "#PF: fetch, XD = 1 at some level with EFER.NXE = 1",
    [X_SMEP] = "#PF: CPL 0 fetch from a user page with CR4.SMEP",
    [X_SMAP] = "SMAP: CPL 0 data access to a user page (#PF with AC = 0, ok with AC = 1)",
    [X_PKEY] = "#PF (PK): PKRU.AD or WD for the user page's key (4.6.2)",
    [X_RSVD] = "#PF (RSVD): a reserved bit set (4.5)",
    [X_NONCANON] = "#GP: non-canonical VA (3.3.7.1)",
    [X_REVISIT] = "revisit: earlier VA, new CPL/WP/NXE/SMEP/SMAP/AC/PKRU/access",
};

typedef struct x_ctx {
    int cpl;
    bool wp, nxe, smep, smap, pke, ac;
    uint32_t pkru;
} x_ctx_t;

typedef struct x_check {
    int rule, access;            /* 0 read, 1 write, 2 exec */
    x_ctx_t ctx;
    uint64_t va;
    int want;                    /* 0 ok, 1 #PF, 2 #GP, -1 any */
    uint64_t want_pa;
} x_check_t;

typedef struct x_case {
    rng_t rng;
    int levels;
    uint64_t root, next_table;
    uint64_t word_addr[X_MAX_WORDS], word_val[X_MAX_WORDS];
    int n_words;
    bool root_used[512];
    x_check_t checks[X_MAX_CHECKS];
} x_case_t;

static void die(const char *msg)
{
    fprintf(stderr, "vmmem-gen: %s\n", msg);
    exit(2);
}

static void put_word(x_case_t *c, uint64_t pa, uint64_t val)
{
    if (c->n_words == X_MAX_WORDS)
        die("too many paging-structure entries in one case");
    c->word_addr[c->n_words] = pa;
    c->word_val[c->n_words++] = val;
}

static uint64_t alloc_table(x_case_t *c)
{
    if (c->next_table >= X_DATA_START)
        die("out of table memory (lower --checks)");
    uint64_t t = c->next_table;
    c->next_table += 4096;
    return t;
}

/*
 * SDM Vol. 3A 4.6 for an access through entries whose U/S and R/W combine
 * to us and rw (AND over the levels) and XD to xd (OR), with the leaf's
 * protection key: may it proceed?
 */
static bool x_allowed(const x_ctx_t *x, int access, bool us, bool rw, bool xd, unsigned pkey)
{
    bool user = x->cpl == 3;
    if (access == 2) {
        if (x->nxe && xd)
            return false;
        return user ? us : !(x->smep && us);
    }
    bool write = access == 1;
    if (user) {
        if (!us || (write && !rw))
            return false;
    } else {
        if (us && x->smap && !x->ac)
            return false;
        if (write && !rw && x->wp)
            return false;
    }
    if (x->pke && us) {                       /* 4.6.2: user-mode addresses only */
        bool ad = (x->pkru >> (2 * pkey)) & 1, wd = (x->pkru >> (2 * pkey + 1)) & 1;
        if (ad || (write && wd && (user || x->wp)))
            return false;
    }
    return true;
}

static void choose_ctx(x_case_t *c, x_check_t *k)
{
    rng_t *r = &c->rng;
    x_ctx_t *x = &k->ctx;
    x->cpl = rng_bool(r) ? 3 : 0;
    x->wp = rng_bool(r);
    x->nxe = rng_bool(r);
    x->smep = rng_below(r, 3) == 0;
    x->smap = rng_below(r, 3) == 0;
    x->pke = rng_below(r, 3) == 0;
    x->ac = rng_below(r, 3) == 0;
    x->pkru = rng_below(r, 3) == 0 ? (uint32_t)rng_next(r) & 0xfffffffc : 0;  /* key 0 always open */
    k->access = (int)rng_below(r, 3);
    switch (k->rule) {
    case X_US: x->cpl = 3; break;
    case X_RW: k->access = 1; if (x->cpl == 0) x->wp = true; break;
    case X_RW_WP0: k->access = 1; x->cpl = 0; x->wp = false; break;
    case X_NX: k->access = 2; x->nxe = true; break;
    case X_SMEP: k->access = 2; x->cpl = 0; x->smep = true; break;
    case X_SMAP: k->access = (int)rng_below(r, 2); x->cpl = 0; x->smap = true; break;
    case X_PKEY:
        k->access = (int)rng_below(r, 2);
        x->pke = true;
        x->pkru = (uint32_t)rng_next(r) & 0xfffffffc;
        if (x->cpl == 0) {
            x->ac = true;                     /* past SMAP: the key decides */
            if (k->access == 1)
                x->wp = true;
        }
        break;
    default: break;
    }
}

/* Bits that change nothing: PWT, PCD, AVL (11:9), and on leaves G and the
 * ignored bits 58:52. */
static uint64_t noise(x_case_t *c, bool leaf)
{
    rng_t *r = &c->rng;
    uint64_t v = rng_next(r) & (E_PWT | E_PCD);
    v |= (rng_next(r) & 7) << 9;
    if (leaf && rng_bool(r))
        v |= E_G;
    if (rng_below(r, 4) == 0)
        v |= (rng_next(r) & 0x7f) << 52;
    return v;
}

static void build_chain(x_case_t *c, x_check_t *k)
{
    rng_t *r = &c->rng;
    const x_ctx_t *x = &k->ctx;
    int leaf = 1 + (int)rng_below(r, 3);                    /* PTE, PDE (2M), PDPTE (1G) */
    int top_level = c->levels;
    unsigned top;
    do
        top = rng_below(r, 512);
    while (c->root_used[top]);
    c->root_used[top] = true;
    uint64_t target = X_DATA_START + (rng_next(r) % (X_RAM_SIZE - X_DATA_START) & ~UINT64_C(3));
    uint64_t span = UINT64_C(1) << (12 + 9 * (leaf - 1));
    uint64_t va = (uint64_t)top << (12 + 9 * (top_level - 1));
    for (int level = top_level - 1; level > leaf; level--)
        va |= (uint64_t)rng_below(r, 512) << (12 + 9 * (level - 1));
    va |= target & (span - 1);
    int vabits = 12 + 9 * top_level;
    if ((va >> (vabits - 1)) & 1)
        va |= ~UINT64_C(0) << vabits;
    k->va = va;
    k->want_pa = target;

    /* U/S, R/W, XD per level, and the leaf's key: permitted unless the rule says otherwise. */
    bool us[6], rw[6], xd[6];
    unsigned pkey = 0;
    int defect = leaf + (int)rng_below(r, (unsigned)(top_level - leaf + 1));
    bool ok = false;
    for (int tries = 0; tries < 2000 && !ok; tries++) {
        for (int l = 1; l <= 5; l++) {
            us[l] = rng_below(r, 4) != 0;
            rw[l] = rng_below(r, 4) != 0;
            xd[l] = x->nxe && rng_below(r, 6) == 0;
        }
        pkey = rng_below(r, 16);
        bool all_us = true, all_rw = true, any_xd = false;
        for (int l = leaf; l <= top_level; l++) {
            all_us = all_us && us[l];
            all_rw = all_rw && rw[l];
            any_xd = any_xd || xd[l];
        }
        switch (k->rule) {
        case X_US:
            ok = !us[defect] && x_allowed(x, k->access, true, all_rw, any_xd, pkey);
            break;
        case X_RW:
            ok = !rw[defect] && x_allowed(x, k->access, all_us, true, any_xd, pkey);
            break;
        case X_RW_WP0:
            ok = !rw[defect] && x_allowed(x, k->access, all_us, all_rw, any_xd, pkey);
            break;
        case X_NX:
            ok = xd[defect] && x_allowed(x, k->access, all_us, all_rw, false, pkey);
            break;
        case X_SMEP:
        case X_SMAP:
            ok = all_us && x_allowed(&(x_ctx_t){ x->cpl, x->wp, x->nxe, false, false, x->pke, x->ac, x->pkru },
                                     k->access, all_us, all_rw, any_xd, pkey);
            break;
        case X_PKEY:
            ok = all_us && x_allowed(&(x_ctx_t){ x->cpl, x->wp, x->nxe, x->smep, x->smap, false, x->ac, 0 },
                                     k->access, all_us, all_rw, any_xd, pkey) &&
                 !x_allowed(x, k->access, all_us, all_rw, any_xd, pkey);
            break;
        default:
            ok = x_allowed(x, k->access, all_us, all_rw, any_xd, pkey);
            break;
        }
    }
    if (!ok) {
        fprintf(stderr, "vmmem-gen: internal: no rights found for x86 rule '%s'\n", X_RULE_NAMES[k->rule]);
        exit(2);
    }
    bool all_us = true, all_rw = true, any_xd = false;
    for (int l = leaf; l <= top_level; l++) {
        all_us = all_us && us[l];
        all_rw = all_rw && rw[l];
        any_xd = any_xd || xd[l];
    }
    bool allowed = x_allowed(x, k->access, all_us, all_rw, any_xd, pkey);
    k->want = allowed ? 0 : 1;

    /* The reserved bit (X_RSVD): which entry and which bit. */
    int rsvd_kind = (int)rng_below(r, 4);
    if (k->rule == X_RSVD) {
        if (rsvd_kind == 0 && leaf == 1) rsvd_kind = 1;           /* misaligned needs a large page */
        if (rsvd_kind == 3 && x->nxe) rsvd_kind = 1;              /* XD is reserved only without NXE */
        k->want = 1;
    }
    int ps_level = rsvd_kind == 2 ? (c->levels == 5 && rng_bool(r) ? 5 : 4) : 0;
    if (k->rule == X_RSVD && rsvd_kind == 2)
        defect = ps_level;

    uint64_t table = c->root;
    for (int level = top_level; level >= leaf; level--) {
        uint64_t slot = table + ((va >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
        uint64_t e, next = 0;
        uint64_t rights = (us[level] ? E_US : 0) | (rw[level] ? E_RW : 0) | (xd[level] ? E_XD : 0);
        if (level == leaf) {
            e = (target & ~(span - 1)) | E_P | E_A | E_D | rights | noise(c, true) | (leaf > 1 ? E_PS : 0);
            e = (e & ~(UINT64_C(0xf) << E_PKEY_SHIFT)) | (uint64_t)pkey << E_PKEY_SHIFT;
        } else {
            next = alloc_table(c);
            e = next | E_P | E_A | rights | noise(c, false);
        }
        if (k->rule == X_AD_CLEAR && rng_bool(r))
            e &= ~E_A;
        if (k->rule == X_AD_CLEAR && level == leaf && rng_bool(r))
            e &= ~E_D;
        if (level == defect && k->rule == X_NOT_PRESENT) {
            put_word(c, slot, rng_next(r) & ~E_P);
            k->want = 1;
            return;
        }
        if (level == defect && k->rule == X_RSVD) {
            switch (rsvd_kind) {
            case 0: /* a misaligned large page: bits 20:13 (2 MiB) or 29:13 (1 GiB) */
                if (level == leaf)
                    e |= UINT64_C(1) << (13 + rng_below(r, leaf == 2 ? 8 : 17));
                else
                    e |= UINT64_C(1) << (X_MAXPHYADDR + rng_below(r, 52 - X_MAXPHYADDR));
                break;
            case 1: /* an address bit at or above MAXPHYADDR */
                e |= UINT64_C(1) << (X_MAXPHYADDR + rng_below(r, 52 - X_MAXPHYADDR));
                break;
            case 2: /* PS in a PML4E or PML5E */
                e |= E_PS;
                break;
            default: /* XD with NXE = 0 */
                e |= E_XD;
                break;
            }
        }
        put_word(c, slot, e);
        table = next;
    }
}

static void build_check(x_case_t *c, x_check_t *k, int index)
{
    rng_t *r = &c->rng;
    k->rule = (int)rng_below(r, X_RULE_COUNT);
    if (k->rule == X_REVISIT && index == 0)
        k->rule = X_OK;
    choose_ctx(c, k);
    if (k->rule == X_REVISIT) {
        const x_check_t *old = &c->checks[rng_below(r, (unsigned)index)];
        k->va = old->va;
        k->want = -1;
        return;
    }
    if (k->rule == X_NONCANON) {
        int vabits = 12 + 9 * c->levels;
        uint64_t va = rng_next(r) & ~UINT64_C(3);
        va = (va >> (vabits - 1)) & 1 ? va | ~UINT64_C(0) << vabits : va & ((UINT64_C(1) << vabits) - 1);
        k->va = va ^ UINT64_C(1) << (vabits + (int)rng_below(r, (unsigned)(64 - vabits)));
        k->want = 2;
        return;
    }
    build_chain(c, k);
}

/* The probe's pages at VA = PA X_PROBE: code (S, RO), stack (S, RW), user code (U, RO). */
static void build_probe(x_case_t *c)
{
    uint64_t table = c->root;
    c->root_used[0] = true;                 /* VA 0x800000: slot 0 at every upper level */
    for (int level = c->levels; level >= 2; level--) {
        uint64_t next = alloc_table(c);
        put_word(c, table + ((X_PROBE >> (12 + 9 * (level - 1))) & 0x1ff) * 8,
                 next | E_P | E_RW | E_US | E_A);
        table = next;
    }
    static const uint64_t rights[3] = { 0, E_RW, E_US };
    for (int p = 0; p < 3; p++)
        put_word(c, table + (((X_PROBE >> 12) + (uint64_t)p) & 0x1ff) * 8,
                 (X_PROBE + (uint64_t)p * 4096) | E_P | E_A | E_D | rights[p]);
}

static void print_ctx(FILE *f, const x_ctx_t *now, x_ctx_t *was, int levels)
{
    if (now->wp != was->wp)
        fprintf(f, "cr0 0x%x\n", 0x80000001u | (now->wp ? 1u << 16 : 0));
    if (now->nxe != was->nxe)
        fprintf(f, "efer 0x%x\n", 0x100u | (now->nxe ? 1u << 11 : 0));
    if (now->smep != was->smep || now->smap != was->smap || now->pke != was->pke)
        fprintf(f, "cr4 0x%x\n", 0x20u | (levels == 5 ? 1u << 12 : 0) | (now->smep ? 1u << 20 : 0) |
                                     (now->smap ? 1u << 21 : 0) | (now->pke ? 1u << 22 : 0));
    if (now->ac != was->ac)
        fprintf(f, "rflags 0x%x\n", 2u | (now->ac ? 1u << 18 : 0));
    if (now->pkru != was->pkru)
        fprintf(f, "pkru 0x%x\n", now->pkru);
    if (now->cpl != was->cpl)
        fprintf(f, "cpl %d\n", now->cpl);
    *was = *now;
}

static int write_case(const x_case_t *c, const char *dir, uint64_t seed, unsigned index, int checks)
{
    char path[4096];
    FILE *f = gen_open_case(dir, index, path, sizeof path);
    if (!f)
        return -1;
    fprintf(f, "# vmmem-gen --arch x86_64 --seed %" PRIu64 " case %u: %d-level paging\n", seed, index,
            c->levels);
    fprintf(f, "# `check` lines are questions for an oracle (conformance/qemu/qemu_answer_x86_64.py);\n"
               "# `# want:` is the outcome the generator built, for the answerer's self-check only.\n"
               "# The probe's pages are mapped at VA = PA below:\n");
    fprintf(f, "# qemu-probe-x86-64 0x%" PRIx64 "\n", X_PROBE);
    fprintf(f, "mem %" PRIu64 "K\n", X_RAM_SIZE >> 10);
    fprintf(f, "mode %s\nmaxphyaddr %d\n", c->levels == 5 ? "x86_64_la57" : "x86_64", X_MAXPHYADDR);
    fprintf(f, "cr4 0x%x\nefer 0x100\ncr3 0x%" PRIx64 "\n", 0x20 | (c->levels == 5 ? 0x1000 : 0), c->root);
    for (int k = 0; k < c->n_words; k++)
        fprintf(f, "w64 0x%" PRIx64 " 0x%" PRIx64 "\n", c->word_addr[k], c->word_val[k]);
    fprintf(f, "cr0 0x80000001\n");
    x_ctx_t was = { 0, false, false, false, false, false, false, 0 };
    static const char *const kind[3] = { "read", "write", "exec" };
    for (int k = 0; k < checks; k++) {
        const x_check_t *ck = &c->checks[k];
        fprintf(f, "# rule: %s\n", X_RULE_NAMES[ck->rule]);
        print_ctx(f, &ck->ctx, &was, c->levels);
        fprintf(f, "check %s 0x%" PRIx64 "\n", kind[ck->access], ck->va);
        if (ck->want == 0)
            fprintf(f, "# want: 0x%" PRIx64 "\n", ck->want_pa);
        else if (ck->want == 1)
            fprintf(f, "# want: page-fault\n");
        else if (ck->want == 2)
            fprintf(f, "# want: general-protection\n");
    }
    if (fclose(f)) {
        fprintf(stderr, "vmmem-gen: %s: write error\n", path);
        return -1;
    }
    return 0;
}

int gen_x86_64_run(uint64_t seed, unsigned count, int checks, const char *dir)
{
    if (checks > X_MAX_CHECKS) {
        fprintf(stderr, "vmmem-gen: --arch x86_64 takes at most %d checks a case\n", X_MAX_CHECKS);
        return 2;
    }
    unsigned long per_rule[X_RULE_COUNT] = { 0 }, per_levels[6] = { 0 }, want[3] = { 0 }, access[3] = { 0 };
    unsigned long cpl3 = 0;
    static x_case_t c;
    for (unsigned i = 0; i < count; i++) {
        memset(&c, 0, sizeof c);
        rng_seed_case(&c.rng, seed ^ UINT64_C(0x8664), i);
        c.levels = rng_bool(&c.rng) ? 5 : 4;
        c.next_table = X_TABLES_START;
        c.root = alloc_table(&c);
        build_probe(&c);
        for (int k = 0; k < checks; k++) {
            build_check(&c, &c.checks[k], k);
            per_rule[c.checks[k].rule]++;
            access[c.checks[k].access]++;
            cpl3 += c.checks[k].ctx.cpl == 3;
            if (c.checks[k].want >= 0)
                want[c.checks[k].want]++;
        }
        per_levels[c.levels]++;
        if (write_case(&c, dir, seed, i, checks))
            return 2;
    }
    printf("vmmem-gen --arch x86_64: %u cases, %lu checks (4-level %lu cases, 5-level %lu)\n", count,
           (unsigned long)count * (unsigned long)checks, per_levels[4], per_levels[5]);
    for (int r = 0; r < X_RULE_COUNT; r++)
        printf("  %7lu  %s\n", per_rule[r], X_RULE_NAMES[r]);
    printf("built to succeed %lu, #PF %lu, #GP %lu; read %lu, write %lu, exec %lu; CPL 3 %lu\n", want[0],
           want[1], want[2], access[0], access[1], access[2], cpl3);
    return 0;
}
