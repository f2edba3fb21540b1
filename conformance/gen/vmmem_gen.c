/*
 * vmmem-gen - a seeded, deterministic generator of random RISC-V `.vmc`
 * cases whose questions are `check` lines, for an oracle to answer (QEMU,
 * through conformance/qemu/qemu_answer.py; or the reference, with
 * `vmmem-conform --answer-ref`).
 *
 * Usage: vmmem-gen [--arch riscv|arm64|x86_64] [--seed S] [--count N] [--checks K] [--out DIR]
 *
 * This file is the RISC-V part and the command line; gen_arm64.c writes
 * the Arm64 cases (--arch arm64), gen_x86_64.c the x86-64 ones (--arch
 * x86_64).
 *
 * How it works. Every case is a machine like QEMU's `virt` board: RAM of
 * GEN_RAM_SIZE bytes at GEN_RAM_BASE (0x80000000), one paging mode (Sv39,
 * Sv48 or Sv57), a random ASID, A/D updated by hardware (`ad hw`: QEMU 7.2's
 * only behaviour, it has no Svade mode), then K checks. Each check is built
 * to exercise one RULE of the Privileged spec's "Virtual Address
 * Translation Process" (the enum below): the generator picks the rule, a
 * privilege, SUM, MXR and an access kind that suit it, and builds a fresh
 * chain of page tables under its own root slot (so the checks of a case do
 * not share tables and each one tests exactly its rule), with random G bits
 * and random RSW bits everywhere (RSW must be ignored). The VA's page offset
 * and low VPNs are chosen so that a successful access lands on a "data page"
 * (RAM pages never used for tables): the QEMU answerer identifies the PA of
 * a successful access by the marker words it keeps in those pages.
 *
 * Addresses outside RAM (tables, leaves, roots "outside RAM") are taken from
 * HOLES: physical pages where QEMU 7.2's virt board (with GEN_RAM_SIZE of
 * RAM) has nothing at all, so an access there is an access fault in QEMU as
 * in vmmem. Pages below the RAM base that hold QEMU devices (UART, CLINT,
 * PLIC, PCIe, boot ROM) are never used: vmmem has nothing there.
 *
 * Self-check: the generator replays each check on the reference model
 * (ref_rv_translate over its own copy of the image, A/D applied) and aborts
 * if the outcome class is not the one the rule intends, so the per-rule
 * count it prints is a count of checks that really exercise the rule. It
 * also prints the reference's reason for every fault (the spec step) and
 * the U/S x SUM x MXR, access-kind, mode and leaf-level spread.
 *
 * Determinism: case i depends only on (seed, i): the same seed gives the
 * same files on every machine.
 *
 * Rejected: random PTE soup (most walks die at the root with V=0, so rare
 * rules are hit once in thousands); asking the reference for the expected
 * answer and writing `expect` lines (that would test the reference against
 * the core again, not against an independent oracle: the answers come from
 * the oracle, the reference only keeps the generator honest).
 */
#include "gen_common.h"
#include "ref_model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define GEN_RAM_BASE UINT64_C(0x80000000)
#define GEN_RAM_SIZE (UINT64_C(2) << 20)
#define GEN_PAGES ((unsigned)(GEN_RAM_SIZE / 4096))
/* Pages [0, GEN_TABLE_PAGES) hold tables, the rest are data pages. */
#define GEN_TABLE_PAGES (GEN_PAGES / 2)
#define GEN_MAX_CHECKS 64
#define GEN_MAX_WORDS 1024

/* PTE bits (Sv39 PTE figure; same in Sv48/Sv57). */
enum { PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_G = 32, PTE_A = 64, PTE_D = 128 };

enum rule {
    R_OK,               /* step 10: a permitted access, A and D already set */
    R_AD_UPDATE,        /* step 9 (Svadu): A = 0, or a store with D = 0 */
    R_MXR_LOAD_X,       /* step 8: load from R=0 X=1 with MXR=1 succeeds */
    R_NONCANON,         /* VA bits 63..VA_BITS-1 not all equal */
    R_ROOT_OUTSIDE,     /* step 2: satp.PPN outside RAM */
    R_TABLE_OUTSIDE,    /* step 2: a pointer to a table outside RAM */
    R_V0,               /* step 3: pte.v = 0 (any level) */
    R_W_NO_R,           /* step 3: r = 0 and w = 1 */
    R_RESERVED,         /* step 3: bits 63:54 set (no Svnapot/Svpbmt) */
    R_NONLEAF_DAU,      /* step 3: D, A or U in a pointer */
    R_PTR_L0,           /* step 4: pointer at level 0 */
    R_MISALIGNED,       /* step 5: superpage with pte.ppn[i-1:0] != 0 */
    R_U_ON_S_PAGE,      /* step 6: U-mode on U=0 */
    R_S_ON_U_NOSUM,     /* step 6: S-mode load/store on U=1 with SUM=0 */
    R_S_FETCH_U,        /* step 6: S-mode fetch on U=1 (whatever SUM) */
    R_FETCH_NX,         /* step 8: fetch with X=0 */
    R_LOAD_NR,          /* step 8: load with R=0 and MXR=0 */
    R_STORE_NW,         /* step 8: store with W=0 */
    R_LEAF_OUTSIDE,     /* PMA: the final PA is not RAM -> access fault */
    R_MMODE,            /* M-mode: no translation (step 1), PA = VA */
    R_REVISIT,          /* an earlier check's VA again, new priv/SUM/MXR/kind */
    R_COUNT
};

static const struct rule_info {
    const char *name;
    int outcome;        /* intended outcome class; -1: any */
} RULES[R_COUNT] = {
    [R_OK] = { "ok: permitted access (step 10)", REF_OK },
    [R_AD_UPDATE] = { "ok: A/D clear, set by hardware (step 9, Svadu)", REF_OK },
    [R_MXR_LOAD_X] = { "ok: load R=0 X=1 with MXR=1 (step 8)", REF_OK },
    [R_NONCANON] = { "page fault: non-canonical VA", REF_PAGE_FAULT },
    [R_ROOT_OUTSIDE] = { "access fault: root table outside RAM (step 2)", REF_ACCESS_FAULT },
    [R_TABLE_OUTSIDE] = { "access fault: table outside RAM (step 2)", REF_ACCESS_FAULT },
    [R_V0] = { "page fault: V=0 (step 3)", REF_PAGE_FAULT },
    [R_W_NO_R] = { "page fault: W=1 R=0 (step 3)", REF_PAGE_FAULT },
    [R_RESERVED] = { "page fault: reserved bits 63:54 (step 3)", REF_PAGE_FAULT },
    [R_NONLEAF_DAU] = { "page fault: D/A/U in a pointer (step 3)", REF_PAGE_FAULT },
    [R_PTR_L0] = { "page fault: pointer at level 0 (step 4)", REF_PAGE_FAULT },
    [R_MISALIGNED] = { "page fault: misaligned superpage (step 5)", REF_PAGE_FAULT },
    [R_U_ON_S_PAGE] = { "page fault: U-mode on a U=0 page (step 6)", REF_PAGE_FAULT },
    [R_S_ON_U_NOSUM] = { "page fault: S-mode on U=1 with SUM=0 (step 6)", REF_PAGE_FAULT },
    [R_S_FETCH_U] = { "page fault: S-mode fetch on U=1 (step 6)", REF_PAGE_FAULT },
    [R_FETCH_NX] = { "page fault: fetch with X=0 (step 8)", REF_PAGE_FAULT },
    [R_LOAD_NR] = { "page fault: load with R=0, MXR=0 (step 8)", REF_PAGE_FAULT },
    [R_STORE_NW] = { "page fault: store with W=0 (step 8)", REF_PAGE_FAULT },
    [R_LEAF_OUTSIDE] = { "access fault: leaf PA outside RAM (PMA)", REF_ACCESS_FAULT },
    [R_MMODE] = { "M-mode: identity (in RAM or a hole)", -1 },
    [R_REVISIT] = { "revisit: earlier VA, new priv/SUM/MXR/kind", -1 },
};

/*
 * Physical pages where QEMU 7.2 virt (RAM 2 MiB at 0x80000000) maps nothing
 * (each checked there: an M-mode load faults with cause 5). hole_super[l]
 * are hole superpages of level l (aligned to 2^(12+9l)), wholly unmapped.
 */
static const uint64_t HOLE_PAGES[] = {
    UINT64_C(0x0), UINT64_C(0x6000000), UINT64_C(0x8000000), UINT64_C(0x80200000),
    UINT64_C(0x90000000), UINT64_C(0x100000000), UINT64_C(0xfffffff000),
    UINT64_C(0xfffffffffff000),
};
static const uint64_t HOLE_SUPER[5][2] = {
    { UINT64_C(0x90000000), UINT64_C(0xfffffffffff000) },
    { UINT64_C(0x80200000), UINT64_C(0xffffffffe00000) },
    { UINT64_C(0x100000000), UINT64_C(0xffffffc0000000) },
    { UINT64_C(0x8000000000), UINT64_C(0xffff8000000000) },
    { UINT64_C(0x1000000000000), UINT64_C(0xff000000000000) },
};

/* ---- one case under construction -------------------------------------- */

typedef struct check {
    int rule;
    int priv;           /* 0 U, 1 S, 3 M */
    bool sum, mxr;
    int access;         /* REF_READ / REF_WRITE / REF_EXEC */
    uint64_t va;
    int leaf_level;     /* the level the rule built its leaf at; -1 if none */
} check_t;

typedef struct gen_case {
    rng_t rng;
    int levels;
    uint16_t asid;
    uint64_t root;                  /* PA of the root table */
    bool root_outside;
    ref_mem_t mem;                  /* the image, for the self-check */
    uint64_t word_addr[GEN_MAX_WORDS], word_val[GEN_MAX_WORDS];
    int n_words;
    unsigned table_pages[GEN_TABLE_PAGES];
    unsigned n_tables;              /* next unused entry of table_pages */
    bool top_used[512];
    check_t checks[GEN_MAX_CHECKS];
    int n_checks;
} gen_case_t;

/* Statistics over all cases. */
typedef struct stats {
    unsigned long rule[R_COUNT];
    unsigned long access[3];
    unsigned long mode[6];
    unsigned long leaf_level_ok[5];       /* successful translations by leaf level */
    unsigned long priv_sum_mxr[2][2][2];  /* [U/S][SUM][MXR], U and S checks */
    unsigned long mmode;
    unsigned long outcome[4];
    unsigned long ad_updates;
    gen_why_t why;
} stats_t;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "vmmem-gen: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static uint64_t page_pa(unsigned page) { return GEN_RAM_BASE + (uint64_t)page * 4096; }

static uint64_t alloc_table(gen_case_t *c)
{
    if (c->n_tables == GEN_TABLE_PAGES)
        die("%s", "out of table pages (lower --checks)");
    return page_pa(c->table_pages[c->n_tables++]);
}

static uint64_t random_data_page(gen_case_t *c)
{
    return page_pa(GEN_TABLE_PAGES + rng_below(&c->rng, GEN_PAGES - GEN_TABLE_PAGES));
}

static void put_word(gen_case_t *c, uint64_t pa, uint64_t val)
{
    if (c->n_words == GEN_MAX_WORDS)
        die("%s", "too many PTE words in one case");
    for (int k = 0; k < c->n_words; k++)
        if (c->word_addr[k] == pa)
            die("%s", "internal: a PTE slot written twice");
    c->word_addr[c->n_words] = pa;
    c->word_val[c->n_words++] = val;
    for (int k = 0; k < 8; k++)
        c->mem.ram[pa - GEN_RAM_BASE + (uint64_t)k] = (uint8_t)(val >> (8 * k));
}

/* Random RSW (9:8) and G bits: the spec says RSW is ignored; G never faults. */
static uint64_t noise_bits(gen_case_t *c)
{
    uint64_t v = (rng_next(&c->rng) & 3) << 8;
    if (rng_below(&c->rng, 4) == 0)
        v |= PTE_G;
    return v;
}

static uint64_t pointer_pte(gen_case_t *c, uint64_t table_pa)
{
    return ((table_pa >> 12) << 10) | PTE_V | noise_bits(c);
}

/*
 * Leaf permission bits (R/W/X/U) that let `access` through steps 6 and 8
 * under (priv, sum, mxr): U-mode needs U=1; S-mode may use U=1 only for a
 * load/store with SUM=1; a fetch needs X; a load needs R, or X with MXR; a
 * store needs W (and so R: W without R is reserved).
 */
static uint64_t permitting_bits(gen_case_t *c, const check_t *k)
{
    rng_t *r = &c->rng;
    uint64_t b = 0;
    if (k->priv == 0 || (k->priv == 1 && k->access != REF_EXEC && k->sum && rng_bool(r)))
        b |= PTE_U;
    switch (k->access) {
    case REF_EXEC:
        b |= PTE_X;
        if (rng_bool(r)) b |= PTE_R | (rng_bool(r) ? PTE_W : 0);
        break;
    case REF_READ:
        if (k->mxr && rng_below(r, 4) == 0) {
            b |= PTE_X;                     /* R=0: readable through MXR */
        } else {
            b |= PTE_R;
            if (rng_bool(r)) b |= PTE_W;
            if (rng_bool(r)) b |= PTE_X;
        }
        break;
    default:
        b |= PTE_R | PTE_W;
        if (rng_bool(r)) b |= PTE_X;
        break;
    }
    return b;
}

static int va_bits(int levels) { return 12 + 9 * levels; }

/* Sign-extend bit VA_BITS-1 into 63..VA_BITS (a canonical VA). */
static uint64_t canonical(uint64_t va, int levels)
{
    int n = va_bits(levels);
    uint64_t low = va & ((UINT64_C(1) << n) - 1);
    return (low >> (n - 1)) & 1 ? low | ~((UINT64_C(1) << n) - 1) : low;
}

static unsigned fresh_top_index(gen_case_t *c)
{
    for (;;) {
        unsigned i = rng_below(&c->rng, 512);
        if (!c->top_used[i]) {
            c->top_used[i] = true;
            return i;
        }
    }
}

/* Choose priv, SUM, MXR and the access kind that suit the rule. */
static void choose_context(gen_case_t *c, check_t *k)
{
    rng_t *r = &c->rng;
    k->priv = rng_bool(r) ? 1 : 0;
    k->sum = rng_bool(r);
    k->mxr = rng_bool(r);
    k->access = (int)rng_below(r, 3);
    switch (k->rule) {
    case R_MXR_LOAD_X: k->access = REF_READ; k->mxr = true; break;
    case R_U_ON_S_PAGE: k->priv = 0; break;
    case R_S_ON_U_NOSUM: k->priv = 1; k->sum = false; k->access = (int)rng_below(r, 2); break;
    case R_S_FETCH_U: k->priv = 1; k->access = REF_EXEC; break;
    case R_FETCH_NX: k->access = REF_EXEC; break;
    case R_LOAD_NR: k->access = REF_READ; k->mxr = false; break;
    case R_STORE_NW: k->access = REF_WRITE; break;
    case R_MMODE: k->priv = 3; break;
    default: break;
    }
}

/*
 * Build the tables for one check and return its VA. The chain under a
 * fresh root slot is: pointers from level LEVELS-1 down to leaf_level+1,
 * then the leaf at leaf_level, with the rule's defect planted at its level.
 */
static uint64_t build_check(gen_case_t *c, check_t *k)
{
    rng_t *r = &c->rng;
    const int L = c->levels;
    int leaf = (int)rng_below(r, (unsigned)L);
    if (k->rule == R_MISALIGNED && leaf == 0)
        leaf = 1 + (int)rng_below(r, (unsigned)L - 1);
    if ((k->rule == R_TABLE_OUTSIDE || k->rule == R_NONLEAF_DAU) && leaf == L - 1)
        leaf = (int)rng_below(r, (unsigned)L - 1);  /* at least one pointer above the leaf */
    if (k->rule == R_PTR_L0)
        leaf = -1;
    k->leaf_level = leaf;

    /* Target: a data page for leaves in RAM, a hole superpage otherwise. */
    int lvl = leaf < 0 ? 0 : leaf;
    uint64_t span = UINT64_C(1) << (12 + 9 * lvl);
    uint64_t target = random_data_page(c) + (uint64_t)rng_below(r, 1024) * 4;
    uint64_t super_base = target & ~(span - 1);
    if (k->rule == R_LEAF_OUTSIDE) {
        super_base = HOLE_SUPER[lvl][rng_below(r, 2)];
        uint64_t in_super = lvl == 0 ? 0 : (rng_next(r) % (span >> 12)) << 12;
        target = super_base + in_super + (uint64_t)rng_below(r, 1024) * 4;
    }

    /* VA: top index fresh, middle VPNs random, the rest from the target. */
    uint64_t va = (uint64_t)fresh_top_index(c) << (12 + 9 * (L - 1));
    for (int i = L - 2; i > lvl; i--)
        va |= (uint64_t)rng_below(r, 512) << (12 + 9 * i);
    if (lvl < L - 1)
        va |= target - super_base;
    else
        va |= (target - super_base) & ((UINT64_C(1) << (12 + 9 * (L - 1))) - 1);
    va = canonical(va, L);

    /* The level at which the rule's defect sits (pointer rules). */
    int defect = -1;
    switch (k->rule) {
    case R_V0:
    case R_RESERVED:
        defect = lvl + (int)rng_below(r, (unsigned)(L - lvl));
        break;
    case R_NONLEAF_DAU:
    case R_TABLE_OUTSIDE:
        defect = leaf + 1 + (int)rng_below(r, (unsigned)(L - 1 - leaf));
        break;
    default:
        break;
    }

    /* Walk down, writing one PTE per level. */
    uint64_t table = c->root;
    int stop = leaf < 0 ? 0 : leaf;
    for (int i = L - 1; i >= stop; i--) {
        uint64_t slot = table + ((va >> (12 + 9 * i)) & 0x1ff) * 8;
        uint64_t pte;
        bool is_leaf = i == leaf;
        uint64_t next = 0;
        if (is_leaf) {
            uint64_t bits = permitting_bits(c, k) | PTE_V | noise_bits(c) | PTE_A | PTE_D;
            pte = ((super_base >> 12) << 10) | bits;
        } else {
            next = (i == 0) ? random_data_page(c) : alloc_table(c);
            if (k->rule == R_TABLE_OUTSIDE && i == defect)
                next = HOLE_PAGES[rng_below(r, sizeof HOLE_PAGES / sizeof HOLE_PAGES[0])];
            pte = pointer_pte(c, next);
        }
        /* The rule's defect. */
        switch (k->rule) {
        case R_AD_UPDATE:
            if (is_leaf) {
                if (k->access == REF_WRITE && rng_bool(r))
                    pte &= ~(uint64_t)PTE_D;                       /* A=1 D=0 */
                else
                    pte &= ~(uint64_t)(PTE_A | (rng_bool(r) ? PTE_D : 0));
            }
            break;
        case R_MXR_LOAD_X:
        case R_LOAD_NR:
            if (is_leaf)
                pte = (pte & ~(uint64_t)(PTE_R | PTE_W)) | PTE_X;
            break;
        case R_V0:
            if (i == defect)
                pte = rng_next(r) & ~(uint64_t)PTE_V;
            break;
        case R_W_NO_R:
            if (is_leaf)
                pte = (pte & ~(uint64_t)PTE_R) | PTE_W;
            break;
        case R_RESERVED:
            if (i == defect)
                pte |= UINT64_C(1) << (54 + rng_below(r, 10));
            break;
        case R_NONLEAF_DAU:
            if (i == defect) {
                static const uint64_t dau[] = { PTE_D, PTE_A, PTE_U };
                pte |= dau[rng_below(r, 3)];
            }
            break;
        case R_MISALIGNED:
            if (is_leaf)
                pte |= (UINT64_C(1) << rng_below(r, (unsigned)(9 * i))) << 10;
            break;
        case R_U_ON_S_PAGE:
            if (is_leaf)
                pte &= ~(uint64_t)PTE_U;
            break;
        case R_S_ON_U_NOSUM:
        case R_S_FETCH_U:
            if (is_leaf)
                pte |= PTE_U;
            break;
        case R_FETCH_NX:
            if (is_leaf)
                pte = (pte & ~(uint64_t)(PTE_X | PTE_W)) | PTE_R;
            break;
        case R_STORE_NW:
            if (is_leaf)
                pte &= ~(uint64_t)PTE_W;
            break;
        default:
            break;
        }
        put_word(c, slot, pte);
        if (is_leaf || (k->rule == R_V0 && i == defect))
            break;
        if (i == 0)     /* R_PTR_L0: the level-0 PTE is itself a pointer */
            break;
        if ((k->rule == R_RESERVED || k->rule == R_NONLEAF_DAU || k->rule == R_TABLE_OUTSIDE) &&
            i == defect)
            break;      /* the walk stops here: nothing below is read */
        table = next;
    }
    return va;
}

static void build_case(gen_case_t *c, uint64_t seed, unsigned index, int n_checks)
{
    memset(c, 0, sizeof *c);
    rng_seed_case(&c->rng, seed, index);
    rng_t *r = &c->rng;
    c->levels = 3 + (int)rng_below(r, 3);
    c->asid = (uint16_t)rng_next(r);
    c->mem.base = GEN_RAM_BASE;
    c->mem.size = GEN_RAM_SIZE;
    c->mem.ram = calloc(1, GEN_RAM_SIZE);
    if (!c->mem.ram)
        die("%s", "out of memory");
    for (unsigned p = 0; p < GEN_TABLE_PAGES; p++)
        c->table_pages[p] = p;
    for (unsigned p = GEN_TABLE_PAGES - 1; p > 0; p--) {  /* Fisher-Yates */
        unsigned q = rng_below(r, p + 1), t = c->table_pages[p];
        c->table_pages[p] = c->table_pages[q];
        c->table_pages[q] = t;
    }
    c->root_outside = rng_below(r, 40) == 0;
    c->root = c->root_outside ? HOLE_PAGES[rng_below(r, sizeof HOLE_PAGES / sizeof HOLE_PAGES[0])]
                              : alloc_table(c);
    c->n_checks = n_checks;
    for (int n = 0; n < n_checks; n++) {
        check_t *k = &c->checks[n];
        k->rule = (int)rng_below(r, R_COUNT);
        if (k->rule == R_REVISIT && n == 0)
            k->rule = R_OK;
        if (c->root_outside && k->rule != R_NONCANON && k->rule != R_MMODE)
            k->rule = R_ROOT_OUTSIDE;
        if (!c->root_outside && k->rule == R_ROOT_OUTSIDE)
            k->rule = R_TABLE_OUTSIDE;
        choose_context(c, k);
        if (k->rule == R_REVISIT) {
            k->va = c->checks[rng_below(r, (unsigned)n)].va;
            k->leaf_level = -1;
        } else if (k->rule == R_MMODE) {
            k->va = rng_bool(r) ? random_data_page(c) + (uint64_t)rng_below(r, 1024) * 4
                                : HOLE_PAGES[rng_below(r, sizeof HOLE_PAGES / sizeof HOLE_PAGES[0])] +
                                      (uint64_t)rng_below(r, 1024) * 4;
            k->leaf_level = -1;
        } else if (k->rule == R_ROOT_OUTSIDE) {
            k->va = canonical(rng_next(r) & ~UINT64_C(3), c->levels);
            k->leaf_level = -1;
        } else if (k->rule == R_NONCANON) {
            int n_bits = va_bits(c->levels);
            uint64_t va = canonical(rng_next(r) & ~UINT64_C(3), c->levels);
            va ^= UINT64_C(1) << (n_bits + (int)rng_below(r, (unsigned)(64 - n_bits)));
            k->va = va;
            k->leaf_level = -1;
        } else {
            k->va = build_check(c, k);
        }
    }
}

/* ---- self-check on the reference, statistics, output ------------------- */

static void self_check(gen_case_t *c, unsigned index, stats_t *st)
{
    ref_rv_state_t s;
    memset(&s, 0, sizeof s);
    s.levels = c->levels;
    s.asid = c->asid;
    s.root_ppn = c->root >> 12;
    s.ad_hardware = true;
    st->mode[c->levels]++;
    for (int n = 0; n < c->n_checks; n++) {
        check_t *k = &c->checks[n];
        s.priv = k->priv;
        s.sum = k->sum;
        s.mxr = k->mxr;
        ref_rv_walk_t w;
        ref_rv_translate(&c->mem, &s, k->va, k->access, true, &w);
        int outcome = w.outcome;
        if (outcome == REF_OK && !ref_mem_in_ram(&c->mem, w.pa, 4))
            outcome = REF_ACCESS_FAULT;
        int want = RULES[k->rule].outcome;
        if (want >= 0 && want != outcome) {
            fprintf(stderr, "vmmem-gen: internal error: case %u check %d (%s) gives %s on the reference\n",
                    index, n, RULES[k->rule].name, ref_outcome_name(outcome));
            ref_rv_walk_print(&w, k->va, k->access, stderr);
            exit(2);
        }
        st->rule[k->rule]++;
        st->access[k->access]++;
        st->outcome[outcome]++;
        if (k->priv == 3)
            st->mmode++;
        else
            st->priv_sum_mxr[k->priv][k->sum][k->mxr]++;
        if (w.outcome == REF_OK && k->priv != 3 && w.level >= 0)
            st->leaf_level_ok[w.level]++;
        if (w.ad_write)
            st->ad_updates++;
        if (w.outcome != REF_OK)
            gen_count_why(&st->why, w.why ? w.why : "?");
        else if (outcome == REF_ACCESS_FAULT)
            gen_count_why(&st->why, "PMA: the translated PA is not RAM (access fault)");
    }
}

static int write_case(const gen_case_t *c, const char *dir, uint64_t seed, unsigned index)
{
    char path[4096];
    FILE *f = gen_open_case(dir, index, path, sizeof path);
    if (!f)
        return -1;
    static const char *mode_name[6] = { "bare", "", "", "sv39", "sv48", "sv57" };
    fprintf(f, "# vmmem-gen --seed %" PRIu64 " case %u: %s, ASID 0x%x%s\n", seed, index,
            mode_name[c->levels], c->asid, c->root_outside ? ", root outside RAM" : "");
    fprintf(f, "# `check` lines are questions for an oracle (conformance/qemu/qemu_answer.py,\n"
               "# or vmmem-conform --answer-ref).\n");
    fprintf(f, "base 0x%" PRIx64 "\nmem %" PRIu64 "K\nad hw\n", GEN_RAM_BASE, GEN_RAM_SIZE >> 10);
    uint64_t mode = (uint64_t)(c->levels + 5);     /* 8 / 9 / 10 */
    fprintf(f, "satp 0x%016" PRIx64 "\n",
            mode << 60 | (uint64_t)c->asid << 44 | (c->root >> 12));
    /* PTE words in address order. */
    int order[GEN_MAX_WORDS];
    for (int k = 0; k < c->n_words; k++)
        order[k] = k;
    for (int a = 1; a < c->n_words; a++)
        for (int b = a; b > 0 && c->word_addr[order[b - 1]] > c->word_addr[order[b]]; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int k = 0; k < c->n_words; k++)
        fprintf(f, "w64 0x%" PRIx64 " 0x%" PRIx64 "\n", c->word_addr[order[k]], c->word_val[order[k]]);
    int priv = 1;
    bool sum = false, mxr = false;
    for (int n = 0; n < c->n_checks; n++) {
        const check_t *k = &c->checks[n];
        fprintf(f, "# rule: %s\n", RULES[k->rule].name);
        if (k->priv != priv)
            fprintf(f, "priv %c\n", "US?M"[k->priv]);
        if (k->sum != sum)
            fprintf(f, "sum %d\n", k->sum);
        if (k->mxr != mxr)
            fprintf(f, "mxr %d\n", k->mxr);
        priv = k->priv;
        sum = k->sum;
        mxr = k->mxr;
        fprintf(f, "check %s 0x%" PRIx64 "\n", gen_access_word(k->access), k->va);
    }
    if (fclose(f)) {
        fprintf(stderr, "vmmem-gen: %s: write error\n", path);
        return -1;
    }
    return 0;
}

static void print_stats(const stats_t *st, unsigned count, int checks)
{
    printf("vmmem-gen: %u cases, %lu checks\n", count, (unsigned long)count * (unsigned long)checks);
    printf("\nper rule (each check built for one rule, outcome confirmed on the reference):\n");
    for (int r = 0; r < R_COUNT; r++)
        printf("  %7lu  %s\n", st->rule[r], RULES[r].name);
    printf("\nper reason the reference gives (spec step):\n");
    printf("  %7lu  ok (of which %lu with an A/D update)\n", st->outcome[REF_OK], st->ad_updates);
    gen_print_why(&st->why);
    printf("\nsuccessful translations by leaf level: L0 %lu, L1 %lu, L2 %lu, L3 %lu, L4 %lu\n",
           st->leaf_level_ok[0], st->leaf_level_ok[1], st->leaf_level_ok[2], st->leaf_level_ok[3],
           st->leaf_level_ok[4]);
    printf("modes (cases): Sv39 %lu, Sv48 %lu, Sv57 %lu\n", st->mode[3], st->mode[4], st->mode[5]);
    printf("accesses: read %lu, write %lu, exec %lu\n", st->access[REF_READ], st->access[REF_WRITE],
           st->access[REF_EXEC]);
    printf("priv x SUM x MXR (checks):  M-mode %lu\n", st->mmode);
    for (int p = 0; p < 2; p++)
        for (int s = 0; s < 2; s++)
            printf("  %c SUM=%d: MXR=0 %6lu  MXR=1 %6lu\n", p ? 'S' : 'U', s, st->priv_sum_mxr[p][s][0],
                   st->priv_sum_mxr[p][s][1]);
}

static void usage(void)
{
    fprintf(stderr, "usage: vmmem-gen [--arch riscv|arm64|x86_64] [--seed S] [--count N] [--checks K] [--out DIR]\n"
                    "  writes DIR/gen-00000.vmc ... (default: RISC-V, 100 cases of 8 checks, seed 1,\n"
                    "  DIR gen-cases) and prints what it generated per rule\n");
}

static bool parse_num(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || !*s || s[0] == '-')
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, count = 100, checks = 8;
    const char *dir = "gen-cases";
    const char *arch = "riscv";
    for (int a = 1; a < argc; a++) {
        uint64_t *num = !strcmp(argv[a], "--seed") ? &seed : !strcmp(argv[a], "--count") ? &count
                        : !strcmp(argv[a], "--checks") ? &checks : NULL;
        if (num && a + 1 < argc && parse_num(argv[a + 1], num)) {
            a++;
        } else if (!strcmp(argv[a], "--out") && a + 1 < argc) {
            dir = argv[++a];
        } else if (!strcmp(argv[a], "--arch") && a + 1 < argc &&
                   (!strcmp(argv[a + 1], "riscv") || !strcmp(argv[a + 1], "arm64") ||
                    !strcmp(argv[a + 1], "x86_64"))) {
            arch = argv[++a];
        } else {
            usage();
            return 2;
        }
    }
    if (checks == 0 || checks > GEN_MAX_CHECKS || count > 1000000) {
        fprintf(stderr, "vmmem-gen: --checks must be 1..%d, --count at most 1000000\n", GEN_MAX_CHECKS);
        return 2;
    }
    if (mkdir(dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "vmmem-gen: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    if (!strcmp(arch, "arm64"))
        return gen_arm64_run(seed, (unsigned)count, (int)checks, dir);
    if (!strcmp(arch, "x86_64"))
        return gen_x86_64_run(seed, (unsigned)count, (int)checks, dir);
    static stats_t st;
    static gen_case_t c;
    for (unsigned i = 0; i < count; i++) {
        build_case(&c, seed, i, (int)checks);
        self_check(&c, i, &st);
        int err = write_case(&c, dir, seed, i);
        free(c.mem.ram);
        if (err)
            return 2;
    }
    print_stats(&st, (unsigned)count, (int)checks);
    return 0;
}
