/*
 * gen_x86_64.c - vmmem-gen's x86-64 part (--arch x86_64): seeded random
 * `mode x86_64` / `mode x86_64_la57` cases whose questions are `check`
 * lines, for QEMU's debug translation (conformance/qemu/qemu_answer_x86_64.py)
 * to answer.
 *
 * Scope: the walk itself (SDM Vol. 3A 4.5, "4-Level Paging and 5-Level
 * Paging"): which entries are read, the P flag at every level, PS in a
 * PDPTE (1 GiB page) or a PDE (2 MiB page), and the physical address, with
 * 4 and 5 levels. That is what QEMU's debug translation (HMP `gva2gpa`)
 * computes: it applies no access rights, checks no reserved bits and sets no
 * accessed/dirty flag. So the cases keep every check to what a real access
 * would answer the same way: CPL 0, CR0.WP = 0, EFER.NXE = 0, CR4.SMEP =
 * SMAP = PKE = 0 (then a supervisor read, write or fetch of any present page
 * succeeds, SDM 4.6.1), no reserved bit set anywhere (XD included, since
 * NXE = 0), canonical VAs only (a non-canonical one is #GP, which the debug
 * translation cannot tell from a not-present entry), leaves in RAM, and A
 * set in every entry and D in every leaf (so a real access writes nothing:
 * the `expect r64` lines the answerer adds check that vmmem does not
 * either). Permissions, reserved bits, A/D updates and #GP need a long-mode
 * probe that makes real accesses; see conformance/QEMU.md.
 *
 * Every check has its own chain under a root slot of its own (or under a
 * shared, never modified upper entry), with random U/S, R/W, PWT, PCD, G
 * (ignored outside leaves), AVL and PAT-free attribute bits. Tables live in
 * [1 MiB, 2 MiB) of RAM, targets in [2 MiB, 4 MiB) (a 2 MiB page maps all
 * of it, a 1 GiB page maps PA 0 up). RAM is 4 MiB at PA 0, as on QEMU's q35
 * board (whose low 1 MiB holds the BIOS and VGA windows: never used).
 *
 * Self-check: the x86-64 reference model has not landed on main yet, so the
 * generator states the answer its construction implies in a `# want:`
 * comment after each check; qemu_answer_x86_64.py compares QEMU's answers
 * with it. When the x86 runner lands, vmmem-conform replays the answered
 * files like the other architectures' (the answers are QEMU's, never these).
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
#define E_ADDR UINT64_C(0x000ffffffffff000)

enum x_rule {
    X_PAGE_4K,      /* PTE leaf (level 1) */
    X_PAGE_2M,      /* PDE with PS = 1 (level 2) */
    X_PAGE_1G,      /* PDPTE with PS = 1 (level 3) */
    X_NOT_PRESENT,  /* P = 0 at some level: #PF */
    X_RULE_COUNT
};

static const char *const X_RULE_NAMES[X_RULE_COUNT] = {
    [X_PAGE_4K] = "4 KiB page (PTE)",
    [X_PAGE_2M] = "2 MiB page (PDE, PS = 1)",
    [X_PAGE_1G] = "1 GiB page (PDPTE, PS = 1)",
    [X_NOT_PRESENT] = "not present (P = 0) at some level: page fault",
};

typedef struct x_case {
    rng_t rng;
    int levels;                /* 4 or 5 */
    uint64_t root;
    uint64_t next_table;
    uint64_t word_addr[X_MAX_WORDS], word_val[X_MAX_WORDS];
    int n_words;
    bool root_used[512];
    int rule[X_MAX_CHECKS], access[X_MAX_CHECKS], level[X_MAX_CHECKS];
    uint64_t va[X_MAX_CHECKS];
    bool want_fault[X_MAX_CHECKS];
    uint64_t want_pa[X_MAX_CHECKS];
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

/* Attribute bits that change nothing here: R/W, U/S (CPL 0, WP = 0, SMAP
 * off), PWT, PCD, AVL (bits 11:9, 62:52 on leaves), G on a leaf. */
static uint64_t noise(x_case_t *c, bool leaf)
{
    rng_t *r = &c->rng;
    uint64_t v = rng_next(r) & (E_RW | E_US | E_PWT | E_PCD);
    v |= (rng_next(r) & 7) << 9;
    if (leaf && rng_bool(r))
        v |= E_G;
    if (rng_below(r, 4) == 0)
        v |= (rng_next(r) & 0x7f) << 52;
    return v;
}

static void build_check(x_case_t *c, int k)
{
    rng_t *r = &c->rng;
    int rule = (int)rng_below(r, X_RULE_COUNT);
    int leaf = rule == X_PAGE_1G ? 3 : rule == X_PAGE_2M ? 2 : 1;
    if (rule == X_NOT_PRESENT)
        leaf = 1 + (int)rng_below(r, 3);
    int absent = rule == X_NOT_PRESENT ? leaf + (int)rng_below(r, (unsigned)(c->levels - leaf + 1)) : 0;
    unsigned top;
    do
        top = rng_below(r, 512);
    while (c->root_used[top]);
    c->root_used[top] = true;
    /* The target: a word of the data area; the VA keeps its offset within the leaf. */
    uint64_t target = X_DATA_START + (rng_next(r) % (X_RAM_SIZE - X_DATA_START) & ~UINT64_C(3));
    int leaf_shift = 12 + 9 * (leaf - 1);
    uint64_t span = UINT64_C(1) << leaf_shift;
    uint64_t va = (uint64_t)top << (12 + 9 * (c->levels - 1));
    for (int level = c->levels - 1; level > leaf; level--)
        va |= (uint64_t)rng_below(r, 512) << (12 + 9 * (level - 1));
    va |= target & (span - 1);
    int vabits = 12 + 9 * c->levels;
    if ((va >> (vabits - 1)) & 1)
        va |= ~UINT64_C(0) << vabits;    /* canonical: sign-extended */
    c->rule[k] = rule;
    c->access[k] = (int)rng_below(r, 3);
    c->level[k] = rule == X_NOT_PRESENT ? absent : leaf;
    c->va[k] = va;
    c->want_fault[k] = rule == X_NOT_PRESENT;
    c->want_pa[k] = target;

    uint64_t table = c->root;
    for (int level = c->levels; level >= leaf; level--) {
        uint64_t slot = table + ((va >> (12 + 9 * (level - 1))) & 0x1ff) * 8;
        uint64_t entry;
        uint64_t next = 0;
        if (level == leaf) {
            entry = (target & ~(span - 1)) | E_P | E_A | E_D | noise(c, true) | (leaf > 1 ? E_PS : 0);
        } else {
            next = alloc_table(c);
            entry = next | E_P | E_A | noise(c, false);
        }
        if (level == absent) {
            put_word(c, slot, rng_next(r) & ~E_P);   /* everything else ignored (SDM 4.5) */
            return;
        }
        put_word(c, slot, entry);
        table = next;
    }
}

static int write_case(const x_case_t *c, const char *dir, uint64_t seed, unsigned index, int checks)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/gen-%05u.vmc", dir, index);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "vmmem-gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# vmmem-gen --arch x86_64 --seed %" PRIu64 " case %u: %d-level paging, CPL 0, WP = 0\n",
            seed, index, c->levels);
    fprintf(f, "# `check` lines are questions for an oracle (conformance/qemu/qemu_answer_x86_64.py);\n"
               "# `# want:` is what the generator built, for the answerer's self-check only.\n");
    fprintf(f, "mem %" PRIu64 "K\n", X_RAM_SIZE >> 10);
    fprintf(f, "mode %s\n", c->levels == 5 ? "x86_64_la57" : "x86_64");
    fprintf(f, "cr4 0x%x\n", 0x20 | (c->levels == 5 ? 0x1000 : 0));   /* PAE, LA57 */
    fprintf(f, "efer 0x100\n");                                           /* LME */
    fprintf(f, "cr3 0x%" PRIx64 "\n", c->root);
    for (int k = 0; k < c->n_words; k++)
        fprintf(f, "w64 0x%" PRIx64 " 0x%" PRIx64 "\n", c->word_addr[k], c->word_val[k]);
    fprintf(f, "cr0 0x80000001\n");                                        /* PG, PE; WP = 0 */
    static const char *const kind[3] = { "read", "write", "exec" };
    for (int k = 0; k < checks; k++) {
        fprintf(f, "# rule: %s\n", X_RULE_NAMES[c->rule[k]]);
        fprintf(f, "check %s 0x%" PRIx64 "\n", kind[c->access[k]], c->va[k]);
        if (c->want_fault[k])
            fprintf(f, "# want: page-fault\n");
        else
            fprintf(f, "# want: 0x%" PRIx64 "\n", c->want_pa[k]);
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
    unsigned long per_rule[X_RULE_COUNT] = { 0 }, per_levels[6] = { 0 }, absent_level[6] = { 0 };
    static x_case_t c;
    for (unsigned i = 0; i < count; i++) {
        memset(&c, 0, sizeof c);
        rng_seed_case(&c.rng, seed ^ UINT64_C(0x8664), i);
        c.levels = rng_bool(&c.rng) ? 5 : 4;
        c.next_table = X_TABLES_START;
        c.root = alloc_table(&c);
        for (int k = 0; k < checks; k++) {
            build_check(&c, k);
            per_rule[c.rule[k]]++;
            if (c.rule[k] == X_NOT_PRESENT)
                absent_level[c.level[k]]++;
        }
        per_levels[c.levels]++;
        if (write_case(&c, dir, seed, i, checks))
            return 2;
    }
    printf("vmmem-gen --arch x86_64: %u cases, %lu checks (4-level %lu cases, 5-level %lu)\n", count,
           (unsigned long)count * (unsigned long)checks, per_levels[4], per_levels[5]);
    for (int r = 0; r < X_RULE_COUNT; r++)
        printf("  %7lu  %s\n", per_rule[r], X_RULE_NAMES[r]);
    printf("not-present entries by level: PTE %lu, PDE %lu, PDPTE %lu, PML4E %lu, PML5E %lu\n",
           absent_level[1], absent_level[2], absent_level[3], absent_level[4], absent_level[5]);
    return 0;
}
