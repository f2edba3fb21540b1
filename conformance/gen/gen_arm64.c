/*
 * gen_arm64.c - vmmem-gen's Arm64 part (--arch arm64): seeded random
 * `mode arm64` cases whose questions are `check` lines, for QEMU
 * (conformance/qemu/qemu_answer_arm64.py) or the reference
 * (`vmmem-conform --answer-ref`) to answer.
 *
 * How it works. Every case is a machine like QEMU's Arm `virt` board with
 * a Cortex-A76 (the CPU qemu_answer_arm64.py runs: FEAT_HAFDBS, FEAT_PAN2,
 * FEAT_HPDS, 40-bit PAs, none of LPA/LVA/TTST/E0PD/BTI/PAuth, so exactly
 * vmmem's arm64.h scope): RAM of A_RAM_SIZE bytes at 0x40000000, `parange
 * 40`, one TCR_EL1 per case (a random granule, TxSZ 16..39, TBI and HPD for
 * each range, IPS, AS, A1, HA, HD, cacheability noise), TTBR0/TTBR1 with
 * random 16-bit ASIDs (and CnP noise), then K checks, each with its own EL,
 * PSTATE.PAN and SCTLR_EL1.WXN. Each check is built for one RULE of the
 * stage 1 translation (the enum below), on a chain of tables of its own
 * below the root (or below upper-level table descriptors that are shared
 * but never modified), with random nG, AttrIndx, SH, NS, Contiguous and
 * software bits on leaves and IGNORED bits and NSTable on tables. Tables
 * fill the first half of RAM, granule-sized and aligned; successful
 * accesses land in the second half (the data area), whose words the QEMU
 * answerer keeps as markers; a block maps a naturally aligned region around
 * its target. About one case in sixteen has stage 1 off (SCTLR_EL1.M = 0),
 * one in eight a disabled range (EPDn = 1), one in ten a range whose TTBR
 * is broken (table outside RAM, or above the output size).
 *
 * The probe mapping. QEMU's answerer makes each access from EL1 code that
 * must be fetched through the case's own tables, so every case with stage
 * 1 on maps PROBE_VA (in a range that works) to PROBE_PA, the first byte
 * of QEMU RAM past the case's RAM, as an EL1-executable, read-only, AF = 1
 * page (so WXN, PAN and HA/HD cannot touch it), and says so in a
 * `# qemu-probe-va` comment the answerer reads. vmmem sees the same
 * descriptors; no check uses that VA (its table slots are reserved).
 *
 * Self-check: every check is replayed on the reference (ref_a64_translate
 * over the generator's own copy of RAM, descriptor updates applied, the
 * data access's check of one byte) and the generator aborts if the fault
 * kind (and, where the rule fixes it, the level) is not the rule's, so the
 * per-rule counts it prints are counts of checks that exercise their rule.
 *
 * Holes: physical pages where QEMU 7.2's Arm virt (RAM 8 MiB at
 * 0x40000000) has nothing, checked there (an EL1 load with stage 1 off
 * takes a synchronous external abort, DFSC 0x10): 0xc000000 (the empty
 * platform bus), 0x40800000 (past QEMU's RAM), 0x50000000, 0x80000000,
 * 0xc0000000, 0x100000000, 0x1000000000, 0x4000000000. Device pages
 * (flash, GIC, UART, virtio, PCIe windows) are never used: vmmem has
 * nothing there, QEMU answers from a device.
 *
 * Rejected: letting the answerer add the probe mapping into QEMU's RAM
 * only (it would have to find free table slots by walking the case's
 * tables in Python, and a check could then see a descriptor vmmem lacks);
 * RES0 noise in descriptors beyond the block OA rule (CONSTRAINED
 * UNPREDICTABLE, so a difference would teach nothing); TxSZ outside
 * 16..39, TCR.DS, IPS 0b110/0b111 (outside vmmem's scope or reserved).
 */
#include "gen_common.h"
#include "ref_model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define A_RAM_BASE UINT64_C(0x40000000)
#define A_RAM_SIZE (UINT64_C(4) << 20)
#define A_TABLE_AREA (UINT64_C(2) << 20)       /* [base, base + 2M): tables */
#define A_PROBE_PA (A_RAM_BASE + A_RAM_SIZE)   /* QEMU RAM past the case's */
#define A_PA_BITS 40                           /* Cortex-A76: PARange 0b0010 */
#define A_PROBE_VA0 UINT64_C(0x1ff0000)        /* below 2^25: in range 0 for every T0SZ */
#define A_PROBE_VA1 UINT64_C(0xfffffffffe010000) /* at or above 2^64 - 2^25: range 1 */
#define A_MAX_CHECKS 12
#define A_MAX_WORDS 1024
#define A_MAX_SLOTS 256

/* Descriptor bits (Arm ARM D8.3), written out again from the manual. */
#define D_VALID (UINT64_C(1) << 0)
#define D_TABLE (UINT64_C(1) << 1)       /* table (levels 0-2), page (level 3) */
#define D_AP1 (UINT64_C(1) << 6)         /* AP[1]: EL0 access */
#define D_AP2 (UINT64_C(1) << 7)         /* AP[2]: read-only */
#define D_AF (UINT64_C(1) << 10)
#define D_NG (UINT64_C(1) << 11)
#define D_DBM (UINT64_C(1) << 51)
#define D_CONT (UINT64_C(1) << 52)
#define D_PXN (UINT64_C(1) << 53)
#define D_UXN (UINT64_C(1) << 54)
#define D_PXNTABLE (UINT64_C(1) << 59)
#define D_UXNTABLE (UINT64_C(1) << 60)
#define D_APTABLE0 (UINT64_C(1) << 61)   /* no EL0 access below */
#define D_APTABLE1 (UINT64_C(1) << 62)   /* read-only below */
#define D_NSTABLE (UINT64_C(1) << 63)
#define OA_MASK UINT64_C(0x0000fffffffff000) /* desc<47:12> */

enum a_rule {
    A_OK,               /* a permitted access: page or block, any level */
    A_AF_CLEAR,         /* AF = 0: Access flag fault, or set by hardware (TCR.HA) */
    A_DBM_WRITE,        /* write to DBM = 1, AP[2] = 1: dirty-state update (HA+HD) or Permission */
    A_TAGGED,           /* a tag in VA<63:56>: ignored with TBI, else out of range */
    A_OUT_OF_RANGE,     /* VA<top:inputsize> not all equal to VA<top>: Translation, level 0 */
    A_EPD,              /* VA in a range with EPDn = 1: Translation, level 0 */
    A_TTBR_BROKEN,      /* the range's TTBR: table outside RAM, or above the output size */
    A_INVALID,          /* desc<0> = 0 at some level: Translation */
    A_RESERVED_L3,      /* desc<1:0> = 01 at level 3: Translation */
    A_BLOCK_FORBIDDEN,  /* a block below firstblocklevel: Translation */
    A_TABLE_OUTSIDE,    /* a next-level table outside RAM: external abort on the walk */
    A_TABLE_ADDR_SIZE,  /* a next-level table above the output size: Address size */
    A_OA_ADDR_SIZE,     /* an output address above the output size: Address size */
    A_GRAIN64_1512,     /* 64 KB granule: desc<15:12> != 0 (no 52-bit PA): Address size */
    A_BLOCK_RES0_OA,    /* a block with its RES0 OA bits set: ignored */
    A_PERM_EL0_NONE,    /* EL0 data access, AP[1] = 0 */
    A_PERM_RO_WRITE,    /* write, AP[2] = 1 */
    A_PERM_PAN,         /* EL1 data access, PAN = 1, AP[1] = 1 */
    A_PERM_UXN,         /* EL0 fetch, UXN = 1 */
    A_PERM_PXN,         /* EL1 fetch, PXN = 1 */
    A_PERM_EL1_X_USERW, /* EL1 fetch of EL0-writable memory */
    A_PERM_WXN,         /* fetch of writable memory with SCTLR_EL1.WXN = 1 */
    A_HIER_APTABLE_RO,  /* APTable[1] above: writes fault (ignored with HPD) */
    A_HIER_APTABLE_EL0, /* APTable[0] above: EL0 data accesses fault (ignored with HPD) */
    A_HIER_XNTABLE,     /* UXNTable / PXNTable above: fetches fault (ignored with HPD) */
    A_LEAF_OUTSIDE,     /* the output address has nothing behind it: external abort */
    A_S1_OFF,           /* SCTLR_EL1.M = 0: PA = VA, Address size above PAMax */
    A_REVISIT,          /* an earlier check's VA, new EL/PAN/WXN/access */
    A_RULE_COUNT
};

/* The outcome a rule intends: a fault kind (REF_A64_*), "success unless a
 * register says otherwise" is resolved per check in want_fault. */
static const char *const A_RULE_NAMES[A_RULE_COUNT] = {
    [A_OK] = "ok: permitted access (page or block)",
    [A_AF_CLEAR] = "AF = 0: Access flag fault, or AF set by hardware (HA)",
    [A_DBM_WRITE] = "write to writable-clean (DBM): dirty update (HA+HD) or Permission",
    [A_TAGGED] = "tagged VA: TBI ignores the tag, else Translation L0",
    [A_OUT_OF_RANGE] = "VA in neither range: Translation L0",
    [A_EPD] = "VA in a range with EPDn = 1: Translation L0",
    [A_TTBR_BROKEN] = "TTBR table outside RAM (walk abort) or above the OA size (Address size L0)",
    [A_INVALID] = "invalid descriptor (bit 0 = 0): Translation",
    [A_RESERVED_L3] = "desc<1:0> = 01 at level 3: Translation",
    [A_BLOCK_FORBIDDEN] = "block below firstblocklevel: Translation",
    [A_TABLE_OUTSIDE] = "next-level table outside RAM: external abort on the walk",
    [A_TABLE_ADDR_SIZE] = "next-level table above the output size: Address size",
    [A_OA_ADDR_SIZE] = "output address above the output size: Address size",
    [A_GRAIN64_1512] = "64KB granule, desc<15:12> != 0: Address size",
    [A_BLOCK_RES0_OA] = "block with RES0 OA bits set: ignored",
    [A_PERM_EL0_NONE] = "Permission: EL0 data access, AP[1] = 0",
    [A_PERM_RO_WRITE] = "Permission: write to AP[2] = 1",
    [A_PERM_PAN] = "Permission: EL1 data access with PAN to EL0-accessible memory",
    [A_PERM_UXN] = "Permission: EL0 fetch, UXN",
    [A_PERM_PXN] = "Permission: EL1 fetch, PXN",
    [A_PERM_EL1_X_USERW] = "Permission: EL1 fetch of EL0-writable memory",
    [A_PERM_WXN] = "Permission: fetch of writable memory with WXN",
    [A_HIER_APTABLE_RO] = "APTable[1] above: write Permission (ignored with HPD)",
    [A_HIER_APTABLE_EL0] = "APTable[0] above: EL0 Permission (ignored with HPD)",
    [A_HIER_XNTABLE] = "UXNTable/PXNTable above: fetch Permission (ignored with HPD)",
    [A_LEAF_OUTSIDE] = "output address not backed: external abort (FSC 0x10)",
    [A_S1_OFF] = "stage 1 off: PA = VA, or Address size L0",
    [A_REVISIT] = "revisit: earlier VA, new EL/PAN/WXN/access",
};

static const uint64_t A_HOLES[] = {
    UINT64_C(0xc000000),   UINT64_C(0x40800000),  UINT64_C(0x50000000),   UINT64_C(0x80000000),
    UINT64_C(0xc0000000),  UINT64_C(0x100000000), UINT64_C(0x1000000000), UINT64_C(0x4000000000),
};
#define A_N_HOLES (sizeof A_HOLES / sizeof A_HOLES[0])

/* ---- one case under construction ----------------------------------------- */

typedef struct a_range {
    bool enabled;          /* EPDn = 0 */
    int broken;            /* 0, 1: TTBR table outside RAM, 2: above the output size */
    int grain;             /* log2 of the granule: 12, 14, 16 */
    int txsz, inputsize, stride, startlevel;
    bool tbi, hpd;
    uint16_t asid;
    uint64_t root;         /* BADDR */
} a_range_t;

/* A table slot in use: a shared (never modified) table descriptor, or owned by one check. */
typedef struct a_slot {
    uint64_t desc_addr;
    bool shared;
    uint64_t next;         /* shared: the next-level table */
} a_slot_t;

typedef struct a_check {
    int rule;
    int el, pan, wxn, access;
    uint64_t va;
    int range;             /* -1: none */
    int want_fault;        /* REF_A64_*; -1: any */
    int want_level;        /* -1: any */
    bool hpd_ignored;      /* a hierarchical rule whose bit HPD ignores */
} a_check_t;

typedef struct a_case {
    rng_t rng;
    bool s1_on;
    a_range_t range[2];
    int probe_range;
    uint64_t probe_va;
    int ips, outputsize;
    bool as, a1, ha, hd;
    uint64_t tcr, ttbr[2];
    ref_mem_t mem;
    uint64_t word_addr[A_MAX_WORDS], word_val[A_MAX_WORDS];
    int n_words;
    uint64_t next_table;   /* bump allocator in the table area */
    a_slot_t slot[A_MAX_SLOTS];
    int n_slots;
    a_check_t checks[A_MAX_CHECKS];
    int n_checks;
} a_case_t;

typedef struct a_stats {
    unsigned long rule[A_RULE_COUNT];
    unsigned long fault[REF_A64_FAULT_COUNT][5];  /* [kind][level + 1] */
    unsigned long ok_grain_level[3][4];           /* successes: [4K/16K/64K][leaf level] */
    unsigned long access[3];
    unsigned long el_pan[2][2];
    unsigned long wxn;
    unsigned long updates;                        /* checks whose walk wrote a descriptor */
    unsigned long hpd_ignored;
    unsigned long tagged_ok;
    unsigned long cases_s1_off, cases_epd, cases_broken, cases_ha, cases_hd, cases_as;
    unsigned long grain_cases[3];
    gen_why_t why;
} a_stats_t;

static void die(const char *msg)
{
    fprintf(stderr, "vmmem-gen: %s\n", msg);
    exit(2);
}

static int grain_index(int grain) { return grain == 12 ? 0 : grain == 14 ? 1 : 2; }

/* addrselectbottom of a level: the lowest VA bit its table indexes. */
static int level_bottom(const a_range_t *g, int level) { return (3 - level) * g->stride + g->grain; }

/* addrselecttop: inputsize - 1 at the start level, else bottom + stride - 1. */
static int level_top(const a_range_t *g, int level)
{
    return level == g->startlevel ? g->inputsize - 1 : level_bottom(g, level) + g->stride - 1;
}

static uint64_t level_entries(const a_range_t *g, int level)
{
    return UINT64_C(1) << (level_top(g, level) - level_bottom(g, level) + 1);
}

/* The smallest level a block may sit at (no 52-bit OA): 1 for 4 KB, else 2. */
static int first_block_level(const a_range_t *g) { return g->grain == 12 ? 1 : 2; }

static void put_word(a_case_t *c, uint64_t pa, uint64_t val)
{
    if (c->n_words == A_MAX_WORDS)
        die("too many descriptor words in one case");
    for (int k = 0; k < c->n_words; k++)
        if (c->word_addr[k] == pa)
            die("internal: a descriptor slot written twice");
    c->word_addr[c->n_words] = pa;
    c->word_val[c->n_words++] = val;
    for (int k = 0; k < 8; k++)
        c->mem.ram[pa - A_RAM_BASE + (uint64_t)k] = (uint8_t)(val >> (8 * k));
}

static uint64_t alloc_table(a_case_t *c, int grain)
{
    uint64_t size = UINT64_C(1) << grain;
    uint64_t at = (c->next_table + size - 1) & ~(size - 1);
    if (at + size > A_RAM_BASE + A_TABLE_AREA)
        die("out of table memory (lower --checks)");
    c->next_table = at + size;
    return at;
}

static a_slot_t *find_slot(a_case_t *c, uint64_t desc_addr)
{
    for (int k = 0; k < c->n_slots; k++)
        if (c->slot[k].desc_addr == desc_addr)
            return &c->slot[k];
    return NULL;
}

static void take_slot(a_case_t *c, uint64_t desc_addr, bool shared, uint64_t next)
{
    if (c->n_slots == A_MAX_SLOTS)
        die("too many table slots in one case");
    c->slot[c->n_slots++] = (a_slot_t){ desc_addr, shared, next };
}

/* Bits every table descriptor may carry without effect: IGNORED 58:52 and,
 * in Non-secure state, NSTable. */
static uint64_t table_noise(a_case_t *c)
{
    uint64_t v = 0;
    if (rng_below(&c->rng, 4) == 0)
        v |= (rng_next(&c->rng) & 0x7f) << 52;
    if (rng_below(&c->rng, 8) == 0)
        v |= D_NSTABLE;
    return v;
}

/* Bits a leaf may carry without changing the answer: AttrIndx, NS, SH,
 * nG, Contiguous (a hint), software bits 58:55. */
static uint64_t leaf_noise(a_case_t *c)
{
    rng_t *r = &c->rng;
    uint64_t v = (rng_next(r) & 7) << 2;           /* AttrIndx */
    v |= (rng_next(r) & 3) << 8;                   /* SH */
    if (rng_bool(r)) v |= D_NG;
    if (rng_below(r, 4) == 0) v |= UINT64_C(1) << 5; /* NS */
    if (rng_below(r, 6) == 0) v |= D_CONT;
    if (rng_below(r, 4) == 0) v |= (rng_next(r) & 0xf) << 55;
    return v;
}

/* The reference's registers for this case and a check's EL/PAN/WXN. */
static ref_a64_regs_t case_regs(const a_case_t *c, const a_check_t *k)
{
    ref_a64_regs_t r;
    memset(&r, 0, sizeof r);
    r.ttbr0 = c->ttbr[0];
    r.ttbr1 = c->ttbr[1];
    r.tcr = c->tcr;
    r.sctlr = (c->s1_on ? 1u : 0u) | (k && k->wxn ? UINT64_C(1) << 19 : 0);
    r.el = k ? k->el : 1;
    r.pan = k ? k->pan : 0;
    r.pa_bits = A_PA_BITS;
    return r;
}

static bool permitted(const a_case_t *c, const a_check_t *k, uint64_t desc)
{
    ref_a64_regs_t r = case_regs(c, k);
    return ref_a64_check_permission(desc & D_AP2, desc & D_AP1, desc & D_UXN, desc & D_PXN, &r, k->access);
}

/* Random AP/UXN/PXN that let the check's access through (a loop over
 * random picks: some always exist, e.g. AP = 00 at EL1, AP = 01 at EL0). */
static uint64_t permitting_bits(a_case_t *c, const a_check_t *k)
{
    for (int tries = 0; tries < 1000; tries++) {
        uint64_t b = (rng_next(&c->rng) & 3) << 6;
        if (rng_below(&c->rng, 3) == 0) b |= D_UXN;
        if (rng_below(&c->rng, 3) == 0) b |= D_PXN;
        if (permitted(c, k, b))
            return b;
    }
    die("internal: no permitting AP/XN found");
    return 0;
}

/* The VA bits of a range above inputsize: zeros (range 0) or ones (range 1). */
static uint64_t range_prefix(const a_range_t *g, int n)
{
    return n == 0 ? 0 : ~UINT64_C(0) << g->inputsize;
}

/* ---- the regime ---------------------------------------------------------- */

static void build_regime(a_case_t *c)
{
    rng_t *r = &c->rng;
    c->s1_on = rng_below(r, 16) != 0;
    c->ips = (int)rng_below(r, 6);
    static const int ips_bits[6] = { 32, 36, 40, 42, 44, 48 };
    c->outputsize = ips_bits[c->ips] < A_PA_BITS ? ips_bits[c->ips] : A_PA_BITS;
    c->as = rng_bool(r);
    c->a1 = rng_bool(r);
    c->ha = rng_bool(r);
    c->hd = rng_bool(r);
    c->probe_range = (int)rng_below(r, 2);
    int other = 1 - c->probe_range;
    for (int n = 0; n < 2; n++) {
        a_range_t *g = &c->range[n];
        static const int grains[3] = { 12, 14, 16 };
        g->grain = grains[rng_below(r, 3)];
        g->stride = g->grain - 3;
        g->txsz = 16 + (int)rng_below(r, 24);
        g->inputsize = 64 - g->txsz;
        /* level = 4 - RoundUp((inputsize - grainsize) / stride) */
        g->startlevel = 4 - (g->inputsize - g->grain + g->stride - 1) / g->stride;
        g->tbi = rng_bool(r);
        g->hpd = rng_below(r, 4) == 0;
        g->asid = (uint16_t)rng_next(r);
        g->enabled = true;
    }
    if (rng_below(r, 8) == 0)
        c->range[other].enabled = false;
    else if (rng_below(r, 10) == 0)
        c->range[other].broken = 1 + (int)rng_below(r, 2);
    for (int n = 0; n < 2; n++) {
        a_range_t *g = &c->range[n];
        if (g->broken == 1) {
            /* a hole below the output size, aligned for any start table */
            uint64_t h;
            do
                h = A_HOLES[rng_below(r, A_N_HOLES)];
            while (h >> c->outputsize);
            g->root = h;
        } else if (g->broken == 2) {
            g->root = (UINT64_C(1) << (c->outputsize + (int)rng_below(r, (unsigned)(48 - c->outputsize)))) |
                      (rng_next(r) & UINT64_C(0xff0000));
        } else {
            g->root = alloc_table(c, g->grain);
        }
    }
    /* TCR_EL1 (Arm ARM D17.2): T0SZ 5:0, EPD0 7, IRGN0 9:8, ORGN0 11:10,
     * SH0 13:12, TG0 15:14, T1SZ 21:16, A1 22, EPD1 23, IRGN1/ORGN1/SH1
     * 29:24, TG1 31:30, IPS 34:32, AS 36, TBI0 37, TBI1 38, HA 39, HD 40,
     * HPD0 41, HPD1 42. */
    static const uint64_t tg0[3] = { 0, 2, 1 }, tg1[3] = { 2, 1, 3 };
    const a_range_t *g0 = &c->range[0], *g1 = &c->range[1];
    uint64_t t = (uint64_t)g0->txsz | tg0[grain_index(g0->grain)] << 14 | (uint64_t)g1->txsz << 16 |
                 tg1[grain_index(g1->grain)] << 30 | (uint64_t)c->ips << 32;
    t |= (rng_next(r) & 0x3f) << 8 | (rng_next(r) & 0x3f) << 24;   /* cacheability, shareability */
    if (!g0->enabled) t |= UINT64_C(1) << 7;
    if (!g1->enabled) t |= UINT64_C(1) << 23;
    if (c->a1) t |= UINT64_C(1) << 22;
    if (c->as) t |= UINT64_C(1) << 36;
    if (g0->tbi) t |= UINT64_C(1) << 37;
    if (g1->tbi) t |= UINT64_C(1) << 38;
    if (c->ha) t |= UINT64_C(1) << 39;
    if (c->hd) t |= UINT64_C(1) << 40;
    if (g0->hpd) t |= UINT64_C(1) << 41;
    if (g1->hpd) t |= UINT64_C(1) << 42;
    c->tcr = t;
    for (int n = 0; n < 2; n++)
        c->ttbr[n] = (uint64_t)c->range[n].asid << 48 | c->range[n].root |
                     (rng_below(r, 4) == 0 ? 1 : 0); /* CnP, ignored */
}

/* ---- chains of tables ---------------------------------------------------- */

/*
 * A path from the root of range n to a descriptor slot at `own` level:
 * above `own` it goes through shared table descriptors (taking free slots
 * as new shared ones when the table has no shared slot to reuse), at `own`
 * it takes a free slot. Fills idx[] for levels startlevel..own and returns
 * the table holding the `own` slot, or 0 if no free slot was found.
 */
static uint64_t choose_path(a_case_t *c, int n, int own, uint64_t *idx)
{
    a_range_t *g = &c->range[n];
    uint64_t table = g->root;
    for (int level = g->startlevel; level <= own; level++) {
        uint64_t entries = level_entries(g, level);
        if (level < own) {
            /* reuse a shared slot of this table half of the time */
            uint64_t pick = UINT64_MAX;
            for (int k = 0; k < c->n_slots && pick == UINT64_MAX; k++) {
                a_slot_t *s = &c->slot[k];
                if (s->shared && s->desc_addr >= table && s->desc_addr < table + entries * 8 &&
                    rng_bool(&c->rng))
                    pick = (s->desc_addr - table) / 8;
            }
            if (pick != UINT64_MAX) {
                idx[level] = pick;
                table = find_slot(c, table + pick * 8)->next;
                continue;
            }
        }
        uint64_t i = 0;
        int tries = 0;
        do
            i = rng_next(&c->rng) % entries;
        while (find_slot(c, table + i * 8) && ++tries < 64);
        if (tries == 64)
            return 0;
        idx[level] = i;
        if (level < own) {
            uint64_t next = alloc_table(c, g->grain);
            put_word(c, table + i * 8, next | D_VALID | D_TABLE | table_noise(c));
            take_slot(c, table + i * 8, true, next);
            table = next;
        }
    }
    return table;
}

/* The VA of a path: the range's prefix, each level's index, then the bits below. */
static uint64_t path_va(const a_case_t *c, int n, int last, const uint64_t *idx, uint64_t low)
{
    const a_range_t *g = &c->range[n];
    uint64_t va = range_prefix(g, n);
    for (int level = g->startlevel; level <= last; level++)
        va |= idx[level] << level_bottom(g, level);
    return va | low;
}

/* A word of the data area (second half of RAM). */
static uint64_t data_target(a_case_t *c)
{
    return A_RAM_BASE + A_TABLE_AREA + (rng_next(&c->rng) % (A_RAM_SIZE - A_TABLE_AREA) & ~UINT64_C(3));
}

static uint64_t hole_target(a_case_t *c)
{
    uint64_t h;
    do
        h = A_HOLES[rng_below(&c->rng, A_N_HOLES)];
    while (h >> c->outputsize);
    return h + (rng_next(&c->rng) & 0xffc);
}

/* ---- one check ---------------------------------------------------------------- */

static void choose_context(a_case_t *c, a_check_t *k)
{
    rng_t *r = &c->rng;
    k->el = (int)rng_below(r, 2);
    k->pan = rng_below(r, 3) == 0;
    k->wxn = rng_below(r, 6) == 0;
    k->access = (int)rng_below(r, 3);
    switch (k->rule) {
    case A_DBM_WRITE: case A_PERM_RO_WRITE: case A_HIER_APTABLE_RO:
        k->access = REF_WRITE; break;
    case A_PERM_EL0_NONE: case A_HIER_APTABLE_EL0:
        k->el = 0; k->access = (int)rng_below(r, 2); break;
    case A_PERM_PAN:
        k->el = 1; k->pan = 1; k->access = (int)rng_below(r, 2); break;
    case A_PERM_UXN: k->el = 0; k->access = REF_EXEC; break;
    case A_PERM_PXN: case A_PERM_EL1_X_USERW: k->el = 1; k->access = REF_EXEC; break;
    case A_PERM_WXN: k->wxn = 1; k->access = REF_EXEC; break;
    case A_HIER_XNTABLE: k->access = REF_EXEC; break;
    default: break;
    }
}

/* Leaf permission bits for a permission rule: permitted except for the rule's reason. */
static uint64_t denying_bits(a_case_t *c, a_check_t *k)
{
    rng_t *r = &c->rng;
    uint64_t b;
    switch (k->rule) {
    case A_PERM_EL0_NONE: b = rng_bool(r) ? 0 : D_AP2; break;           /* AP = 00 / 10 */
    case A_PERM_RO_WRITE: b = D_AP2 | (k->el == 0 || rng_bool(r) ? D_AP1 : 0); break;
    case A_PERM_PAN: b = D_AP1 | (k->access == REF_READ && rng_bool(r) ? D_AP2 : 0); break;
    case A_PERM_UXN: b = D_UXN | (rng_next(r) & 3) << 6; break;
    case A_PERM_PXN: b = D_PXN | (rng_bool(r) ? D_AP2 : 0); break;
    case A_PERM_EL1_X_USERW: b = D_AP1; break;                          /* AP = 01 */
    default: /* A_PERM_WXN: writable at the check's EL */
        b = k->el == 0 ? D_AP1 : (rng_bool(r) ? 0 : D_AP1);
        if (k->el == 1 && (b & D_AP1))
            b = 0;   /* AP = 01 would be the EL1_X_USERW rule instead */
        break;
    }
    if (permitted(c, k, b))
        die("internal: a permission rule's bits permit the access");
    return b;
}

/* Pick a usable range for a rule that builds a chain: the probe's, or the
 * other one when it can walk. */
static int walkable_range(a_case_t *c)
{
    int other = 1 - c->probe_range;
    if (c->range[other].enabled && !c->range[other].broken && rng_bool(&c->rng))
        return other;
    return c->probe_range;
}

/*
 * Build the chain of one check and set its VA and intended outcome.
 * Returns false if the rule cannot be built in this case (the caller picks
 * another rule).
 */
static bool build_chain(a_case_t *c, a_check_t *k)
{
    rng_t *r = &c->rng;
    int n = walkable_range(c);
    a_range_t *g = &c->range[n];
    int fbl = first_block_level(g);
    k->range = n;
    k->want_fault = REF_A64_NO_FAULT;
    k->want_level = -1;

    /* The leaf level. */
    int leaf;
    if (k->rule == A_RESERVED_L3 || k->rule == A_GRAIN64_1512) {
        leaf = 3;
    } else if (k->rule == A_BLOCK_FORBIDDEN) {
        if (g->startlevel >= fbl)
            return false;
        leaf = g->startlevel + (int)rng_below(r, (unsigned)(fbl - g->startlevel));
    } else if (k->rule == A_BLOCK_RES0_OA) {
        if (fbl > 2 || g->startlevel > 2)
            return false;
        int lo = fbl > g->startlevel ? fbl : g->startlevel;
        leaf = lo + (int)rng_below(r, (unsigned)(3 - lo));
    } else {
        int lo = fbl > g->startlevel ? fbl : g->startlevel;
        leaf = lo + (int)rng_below(r, (unsigned)(4 - lo));
    }
    if (k->rule == A_GRAIN64_1512 && g->grain != 16)
        return false;
    bool needs_pointer = k->rule == A_TABLE_OUTSIDE || k->rule == A_TABLE_ADDR_SIZE ||
                         k->rule == A_HIER_APTABLE_RO || k->rule == A_HIER_APTABLE_EL0 ||
                         k->rule == A_HIER_XNTABLE;
    if (needs_pointer && leaf == g->startlevel) {
        if (leaf == 3)
            return false;
        leaf++;
    }
    if (needs_pointer && leaf == g->startlevel)
        return false;

    /* The level from which the chain is this check's own. */
    int own_max = needs_pointer ? leaf - 1 : leaf;
    int own = g->startlevel + (int)rng_below(r, (unsigned)(own_max - g->startlevel + 1));
    uint64_t idx[4] = { 0 };
    uint64_t table = choose_path(c, n, own, idx);
    if (!table)
        return false;
    for (int level = own + 1; level <= leaf; level++)
        idx[level] = rng_next(r) % level_entries(g, level);

    /* The defect's level, within the owned part. */
    int defect = -1;
    if (k->rule == A_INVALID)
        defect = own + (int)rng_below(r, (unsigned)(leaf - own + 1));
    else if (needs_pointer)
        defect = own + (int)rng_below(r, (unsigned)(leaf - own));
    if (k->rule == A_GRAIN64_1512 && rng_bool(r) && own < leaf)
        defect = own + (int)rng_below(r, (unsigned)(leaf - own)); /* on a table descriptor */

    /* The target and the leaf's size. */
    int block_shift = level_bottom(g, leaf);
    uint64_t block = UINT64_C(1) << block_shift;
    uint64_t target = k->rule == A_LEAF_OUTSIDE ? hole_target(c) : data_target(c);
    uint64_t oa = target & ~(block - 1);
    if (k->rule == A_OA_ADDR_SIZE) {
        int bit = c->outputsize + (int)rng_below(r, (unsigned)(48 - c->outputsize));
        oa = ((UINT64_C(1) << bit) | (rng_next(r) & OA_MASK)) & OA_MASK & ~(block - 1);
        oa |= UINT64_C(1) << bit;
    }
    uint64_t va = path_va(c, n, leaf, idx, target & (block - 1));
    if (k->rule == A_TAGGED) {
        uint64_t tag;
        do
            tag = rng_next(r) & 0xff;
        while (tag == (va >> 56));
        va = (va & ~(UINT64_C(0xff) << 56)) | tag << 56;
    }
    k->va = va;

    /* Leaf permissions. */
    uint64_t perm;
    switch (k->rule) {
    case A_PERM_EL0_NONE: case A_PERM_RO_WRITE: case A_PERM_PAN: case A_PERM_UXN:
    case A_PERM_PXN: case A_PERM_EL1_X_USERW: case A_PERM_WXN:
        perm = denying_bits(c, k);
        k->want_fault = REF_A64_PERMISSION;
        k->want_level = leaf;
        break;
    case A_DBM_WRITE: {
        /* permitted once AP[2] is cleared, then AP[2] set with DBM */
        a_check_t rw = *k;
        uint64_t b;
        do
            b = permitting_bits(c, &rw);
        while (b & D_AP2);
        perm = b | D_AP2 | D_DBM;
        if (!(c->ha && c->hd)) {
            k->want_fault = REF_A64_PERMISSION;
            k->want_level = leaf;
        }
        break;
    }
    case A_HIER_APTABLE_RO: case A_HIER_APTABLE_EL0: case A_HIER_XNTABLE:
        perm = permitting_bits(c, k);
        k->hpd_ignored = g->hpd;
        if (!g->hpd) {
            k->want_fault = REF_A64_PERMISSION;
            k->want_level = leaf;
        }
        break;
    default:
        perm = permitting_bits(c, k);
        break;
    }

    /* Walk down from the owned level, writing one descriptor per level. */
    for (int level = own; level <= leaf; level++) {
        uint64_t slot = table + idx[level] * 8;
        take_slot(c, slot, false, 0);
        uint64_t desc;
        uint64_t next = 0;
        if (level == leaf) {
            desc = oa | D_VALID | (leaf == 3 ? D_TABLE : 0) | D_AF | perm | leaf_noise(c);
            if (rng_below(r, 5) == 0 && !(desc & D_AP2))
                desc |= D_DBM;                 /* writable and dirty already: no effect */
        } else {
            next = alloc_table(c, g->grain);
            desc = next | D_VALID | D_TABLE | table_noise(c);
        }
        if (level == defect) {
            switch (k->rule) {
            case A_INVALID:
                desc = rng_next(r) & ~D_VALID;
                k->want_fault = REF_A64_TRANSLATION;
                k->want_level = level;
                break;
            case A_TABLE_OUTSIDE:
                next = hole_target(c) & ~((UINT64_C(1) << g->grain) - 1) & ~UINT64_C(0xfff);
                desc = (desc & ~OA_MASK) | next;
                k->want_fault = REF_A64_WALK_ABORT;
                k->want_level = level + 1;
                break;
            case A_TABLE_ADDR_SIZE: {
                int bit = c->outputsize + (int)rng_below(r, (unsigned)(48 - c->outputsize));
                desc = (desc & ~OA_MASK) | (UINT64_C(1) << bit) | ((rng_next(r) & OA_MASK) &
                        ~((UINT64_C(1) << g->grain) - 1) & ((UINT64_C(1) << bit) - 1));
                k->want_fault = REF_A64_ADDRESS_SIZE;
                k->want_level = level;
                break;
            }
            case A_HIER_APTABLE_RO: desc |= D_APTABLE1; break;
            case A_HIER_APTABLE_EL0: desc |= D_APTABLE0; break;
            case A_HIER_XNTABLE: desc |= k->el == 0 ? D_UXNTABLE : D_PXNTABLE; break;
            case A_GRAIN64_1512:
                desc |= (uint64_t)(1 + rng_below(r, 15)) << 12;
                k->want_fault = REF_A64_ADDRESS_SIZE;
                k->want_level = level;
                break;
            default: break;
            }
        }
        if (level == leaf) {
            switch (k->rule) {
            case A_AF_CLEAR:
                desc &= ~D_AF;
                if (!c->ha) {
                    k->want_fault = REF_A64_ACCESS_FLAG;
                    k->want_level = leaf;
                }
                break;
            case A_RESERVED_L3:
                desc &= ~D_TABLE;
                k->want_fault = REF_A64_TRANSLATION;
                k->want_level = 3;
                break;
            case A_BLOCK_FORBIDDEN:
                desc &= ~D_TABLE;
                k->want_fault = REF_A64_TRANSLATION;
                k->want_level = leaf;
                break;
            case A_BLOCK_RES0_OA: {
                /* OA bits below the block size (above the granule: with
                 * 64 KB, desc<15:12> is OA[51:48], its own rule) */
                uint64_t granule = UINT64_C(1) << g->grain;
                desc |= ((rng_next(r) | granule) & (block - 1)) & OA_MASK & ~(granule - 1);
                break;
            }
            case A_GRAIN64_1512:
                if (defect < 0 || defect == leaf) {
                    desc |= (uint64_t)(1 + rng_below(r, 15)) << 12;
                    k->want_fault = REF_A64_ADDRESS_SIZE;
                    k->want_level = leaf;
                }
                break;
            case A_OA_ADDR_SIZE:
                k->want_fault = REF_A64_ADDRESS_SIZE;
                k->want_level = leaf;
                break;
            case A_LEAF_OUTSIDE:
                k->want_fault = REF_A64_DATA_ABORT;
                break;
            case A_TAGGED:
                if (!g->tbi) {
                    k->want_fault = REF_A64_TRANSLATION;
                    k->want_level = 0;
                }
                break;
            default: break;
            }
        }
        put_word(c, slot, desc);
        if (level == defect && (k->rule == A_INVALID || k->rule == A_TABLE_OUTSIDE ||
                                k->rule == A_TABLE_ADDR_SIZE || k->rule == A_GRAIN64_1512))
            break;          /* the walk stops here: nothing below is read */
        table = next;
    }
    return true;
}

/* A VA of range n (any enabled state) with the given low bits. */
static uint64_t some_va(a_case_t *c, int n)
{
    a_range_t *g = &c->range[n];
    uint64_t low = rng_next(&c->rng) & ((UINT64_C(1) << g->inputsize) - 1) & ~UINT64_C(3);
    return range_prefix(g, n) | low;
}

static void build_check(a_case_t *c, a_check_t *k, int index)
{
    rng_t *r = &c->rng;
    int other = 1 - c->probe_range;
    for (int attempt = 0;; attempt++) {
        if (attempt == 8)
            k->rule = A_OUT_OF_RANGE;  /* always possible */
        choose_context(c, k);
        k->range = -1;
        k->want_fault = -1;
        k->want_level = -1;
        k->hpd_ignored = false;
        switch (k->rule) {
        case A_S1_OFF: {
            unsigned pick = rng_below(r, 4);
            if (pick == 0)
                k->va = hole_target(c);
            else if (pick == 1)
                /* a bit in 55:40, above PAMax whether or not TBI drops 63:56 */
                k->va = (UINT64_C(1) << (A_PA_BITS + (int)rng_below(r, 56 - A_PA_BITS))) |
                        (rng_next(r) & ((UINT64_C(1) << A_PA_BITS) - 4));
            else
                k->va = data_target(c);
            if (pick != 1 && rng_below(r, 3) == 0)
                k->va |= (rng_next(r) & 0xff) << 56;     /* a tag: TBI decides */
            return;
        }
        case A_REVISIT:
            if (index == 0)
                break;
            {
                const a_check_t *old = &c->checks[rng_below(r, (unsigned)index)];
                k->va = old->va;
                k->range = old->range;
            }
            return;
        case A_EPD:
            if (c->range[other].enabled)
                break;
            k->va = some_va(c, other);
            k->range = other;
            k->want_fault = REF_A64_TRANSLATION;
            k->want_level = 0;
            return;
        case A_TTBR_BROKEN:
            if (!c->range[other].broken || !c->range[other].enabled)
                break;
            k->va = some_va(c, other);
            k->range = other;
            if (c->range[other].broken == 1) {
                k->want_fault = REF_A64_WALK_ABORT;
                k->want_level = c->range[other].startlevel;
            } else {
                k->want_fault = REF_A64_ADDRESS_SIZE;
                k->want_level = 0;
            }
            return;
        case A_OUT_OF_RANGE: {
            int n = (int)rng_below(r, 2);
            a_range_t *g = &c->range[n];
            int top = g->tbi ? 55 : 63;
            uint64_t va = some_va(c, n);
            va ^= UINT64_C(1) << (g->inputsize + (int)rng_below(r, (unsigned)(top - g->inputsize)));
            if (g->tbi)
                va = (va & ~(UINT64_C(0xff) << 56)) | (rng_next(r) & 0xff) << 56;
            k->va = va;
            k->range = n;
            k->want_fault = REF_A64_TRANSLATION;
            k->want_level = 0;
            return;
        }
        default:
            if (build_chain(c, k))
                return;
            break;
        }
        k->rule = (int)rng_below(r, A_RULE_COUNT);
        if (k->rule == A_S1_OFF)
            k->rule = A_OK;
    }
}

static void build_probe(a_case_t *c)
{
    int n = c->probe_range;
    a_range_t *g = &c->range[n];
    c->probe_va = n == 0 ? A_PROBE_VA0 : A_PROBE_VA1;
    uint64_t table = g->root;
    for (int level = g->startlevel; level <= 3; level++) {
        uint64_t i = (c->probe_va >> level_bottom(g, level)) & (level_entries(g, level) - 1);
        uint64_t slot = table + i * 8;
        if (level == 3) {
            /* EL1-executable, read-only (AP = 10), AF = 1, UXN: nothing a
             * check's register can take away */
            put_word(c, slot, A_PROBE_PA | D_VALID | D_TABLE | D_AF | D_AP2 | D_UXN);
            take_slot(c, slot, false, 0);
        } else {
            uint64_t next = alloc_table(c, g->grain);
            put_word(c, slot, next | D_VALID | D_TABLE);
            take_slot(c, slot, true, next);
            table = next;
        }
    }
}

static void build_case(a_case_t *c, uint64_t seed, unsigned index, int n_checks)
{
    uint8_t *ram = c->mem.ram;
    memset(c, 0, sizeof *c);
    rng_seed_case(&c->rng, seed ^ UINT64_C(0xa64), index);
    c->mem.ram = ram;
    memset(ram, 0, A_RAM_SIZE);
    c->mem.base = A_RAM_BASE;
    c->mem.size = A_RAM_SIZE;
    c->next_table = A_RAM_BASE;
    build_regime(c);
    if (c->s1_on)
        build_probe(c);
    else
        c->probe_va = A_PROBE_PA;    /* stage 1 off: VA = PA */
    c->n_checks = n_checks;
    for (int k = 0; k < n_checks; k++) {
        a_check_t *ck = &c->checks[k];
        memset(ck, 0, sizeof *ck);
        if (!c->s1_on) {
            ck->rule = rng_below(&c->rng, 5) == 0 && k > 0 ? A_REVISIT : A_S1_OFF;
        } else {
            do
                ck->rule = (int)rng_below(&c->rng, A_RULE_COUNT);
            while (ck->rule == A_S1_OFF);
            /* one check in five more is a plain success: the PA itself is compared */
            if (rng_below(&c->rng, 5) == 0)
                ck->rule = A_OK;
            /* the regime's own defects are tested where the case has them */
            if (!c->range[1 - c->probe_range].enabled && rng_below(&c->rng, 3) == 0)
                ck->rule = A_EPD;
            if (c->range[1 - c->probe_range].broken && rng_below(&c->rng, 3) == 0)
                ck->rule = A_TTBR_BROKEN;
        }
        build_check(c, ck, k);
    }
}

/* ---- self-check, statistics, output ------------------------------------------ */

static void self_check(a_case_t *c, unsigned index, a_stats_t *st)
{
    st->cases_s1_off += !c->s1_on;
    st->cases_epd += !c->range[0].enabled || !c->range[1].enabled;
    st->cases_broken += c->range[0].broken || c->range[1].broken;
    st->cases_ha += c->ha;
    st->cases_hd += c->hd;
    st->cases_as += c->as;
    st->grain_cases[grain_index(c->range[0].grain)]++;
    st->grain_cases[grain_index(c->range[1].grain)]++;
    for (int n = 0; n < c->n_checks; n++) {
        a_check_t *k = &c->checks[n];
        ref_a64_regs_t r = case_regs(c, k);
        if (ref_a64_regs_check(&r))
            die("internal: vmmem's contract refuses the generated registers");
        ref_a64_walk_t w;
        ref_a64_translate(&c->mem, &r, k->va, k->access, true, &w);
        int fault = w.fault;
        if (fault == REF_A64_NO_FAULT && !ref_mem_in_ram(&c->mem, w.pa, 4))
            fault = REF_A64_DATA_ABORT;
        bool bad = k->want_fault >= 0 && k->want_fault != fault;
        bad = bad || (k->want_level >= 0 && fault != REF_A64_NO_FAULT && fault != REF_A64_DATA_ABORT &&
                      w.level != k->want_level);
        if (k->rule != A_REVISIT && k->rule != A_S1_OFF && k->want_fault < 0)
            bad = true;
        if (bad) {
            fprintf(stderr, "vmmem-gen: internal error: arm64 case %u check %d (%s) gives %s level %d "
                            "on the reference, the rule wants %s level %d\n",
                    index, n, A_RULE_NAMES[k->rule], ref_a64_fault_name(fault), w.level,
                    k->want_fault >= 0 ? ref_a64_fault_name(k->want_fault) : "any", k->want_level);
            ref_a64_walk_print(&w, k->va, k->access, stderr);
            exit(2);
        }
        st->rule[k->rule]++;
        st->access[k->access]++;
        st->el_pan[k->el][k->pan]++;
        st->wxn += k->wxn;
        st->hpd_ignored += k->hpd_ignored;
        st->updates += w.desc_write;
        if (k->rule == A_TAGGED && fault == REF_A64_NO_FAULT)
            st->tagged_ok++;
        st->fault[fault][w.level + 1 < 0 ? 0 : w.level + 1]++;
        if (fault == REF_A64_NO_FAULT && w.s1_enabled)
            st->ok_grain_level[grain_index(w.grainsize)][w.level]++;
        if (w.fault != REF_A64_NO_FAULT)
            gen_count_why(&st->why, w.why ? w.why : "?");
        else if (fault == REF_A64_DATA_ABORT)
            gen_count_why(&st->why, "the output address is not backed: external abort (FSC 0x10)");
    }
}

static int write_case(const a_case_t *c, const char *dir, uint64_t seed, unsigned index)
{
    char path[4096];
    FILE *f = gen_open_case(dir, index, path, sizeof path);
    if (!f)
        return -1;
    static const char *gname[3] = { "4KB", "16KB", "64KB" };
    fprintf(f, "# vmmem-gen --arch arm64 --seed %" PRIu64 " case %u: stage 1 %s", seed, index,
            c->s1_on ? "on" : "off");
    for (int n = 0; n < 2; n++) {
        const a_range_t *g = &c->range[n];
        fprintf(f, "; TTBR%d %s T%dSZ=%d%s%s%s%s", n, gname[grain_index(g->grain)], n, g->txsz,
                g->tbi ? " TBI" : "", g->hpd ? " HPD" : "", g->enabled ? "" : " EPD",
                g->broken == 1 ? " table-outside-RAM" : g->broken == 2 ? " table-above-OA-size" : "");
    }
    fprintf(f, "; IPS %d bits%s%s%s%s\n", c->outputsize, c->ha ? " HA" : "", c->hd ? " HD" : "",
            c->as ? " AS" : "", c->a1 ? " A1" : "");
    fprintf(f, "# `check` lines are questions for an oracle (conformance/qemu/qemu_answer_arm64.py,\n"
               "# or vmmem-conform --answer-ref). The QEMU probe runs at this VA (EL1, read-only,\n"
               "# mapped below to the page past the case's RAM):\n");
    fprintf(f, "# qemu-probe-va 0x%" PRIx64 "\n", c->probe_va);
    fprintf(f, "base 0x%" PRIx64 "\nmem %" PRIu64 "K\nmode arm64\nparange %d\n", A_RAM_BASE,
            A_RAM_SIZE >> 10, A_PA_BITS);
    fprintf(f, "tcr 0x%" PRIx64 "\nttbr0 0x%" PRIx64 "\nttbr1 0x%" PRIx64 "\n", c->tcr, c->ttbr[0],
            c->ttbr[1]);
    int order[A_MAX_WORDS];
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
    int el = 0, pan = 0, wxn = 0;
    fprintf(f, "sctlr 0x%x\n", c->s1_on ? 1 : 0);
    for (int n = 0; n < c->n_checks; n++) {
        const a_check_t *k = &c->checks[n];
        fprintf(f, "# rule: %s\n", A_RULE_NAMES[k->rule]);
        if (k->el != el)
            fprintf(f, "el %d\n", k->el);
        if (k->pan != pan)
            fprintf(f, "pan %d\n", k->pan);
        if (k->wxn != wxn)
            fprintf(f, "sctlr 0x%x\n", (c->s1_on ? 1 : 0) | (k->wxn ? 1 << 19 : 0));
        el = k->el;
        pan = k->pan;
        wxn = k->wxn;
        fprintf(f, "check %s 0x%" PRIx64 "\n", gen_access_word(k->access), k->va);
    }
    if (fclose(f)) {
        fprintf(stderr, "vmmem-gen: %s: write error\n", path);
        return -1;
    }
    return 0;
}

static void print_stats(const a_stats_t *st, unsigned count, int checks)
{
    printf("vmmem-gen --arch arm64: %u cases, %lu checks\n", count, (unsigned long)count * (unsigned long)checks);
    printf("\nper rule (each check built for one rule, outcome confirmed on the reference):\n");
    for (int r = 0; r < A_RULE_COUNT; r++)
        printf("  %7lu  %s\n", st->rule[r], A_RULE_NAMES[r]);
    printf("\nper reason the reference gives (pseudocode check):\n");
    gen_print_why(&st->why);
    printf("\nper outcome and level (L-: none):\n");
    static const char *kind[REF_A64_FAULT_COUNT] = { "ok", "address-size", "translation", "access-flag",
                                                     "permission", "walk-abort", "data-abort" };
    for (int f = 0; f < REF_A64_FAULT_COUNT; f++)
        printf("  %-13s L- %5lu  L0 %5lu  L1 %5lu  L2 %5lu  L3 %5lu\n", kind[f], st->fault[f][0],
               st->fault[f][1], st->fault[f][2], st->fault[f][3], st->fault[f][4]);
    printf("successful walks by granule and leaf level:\n");
    static const char *gname[3] = { "4KB", "16KB", "64KB" };
    for (int g = 0; g < 3; g++)
        printf("  %-5s L0 %5lu  L1 %5lu  L2 %5lu  L3 %5lu\n", gname[g], st->ok_grain_level[g][0],
               st->ok_grain_level[g][1], st->ok_grain_level[g][2], st->ok_grain_level[g][3]);
    printf("descriptor updates (AF / dirty state) by walks: %lu; tagged VAs translated (TBI): %lu; "
           "hierarchical bits ignored (HPD): %lu\n", st->updates, st->tagged_ok, st->hpd_ignored);
    printf("accesses: read %lu, write %lu, exec %lu; EL0 %lu, EL1 PAN=0 %lu, EL1 PAN=1 %lu; WXN %lu\n",
           st->access[REF_READ], st->access[REF_WRITE], st->access[REF_EXEC],
           st->el_pan[0][0] + st->el_pan[0][1], st->el_pan[1][0], st->el_pan[1][1], st->wxn);
    printf("cases: stage 1 off %lu, a range disabled %lu, a TTBR broken %lu, HA %lu, HD %lu, 16-bit ASIDs %lu; "
           "ranges by granule: 4KB %lu, 16KB %lu, 64KB %lu\n",
           st->cases_s1_off, st->cases_epd, st->cases_broken, st->cases_ha, st->cases_hd, st->cases_as,
           st->grain_cases[0], st->grain_cases[1], st->grain_cases[2]);
}

int gen_arm64_run(uint64_t seed, unsigned count, int checks, const char *dir)
{
    if (checks > A_MAX_CHECKS) {
        fprintf(stderr, "vmmem-gen: --arch arm64 takes at most %d checks a case\n", A_MAX_CHECKS);
        return 2;
    }
    static a_stats_t st;
    static a_case_t c;
    c.mem.ram = malloc(A_RAM_SIZE);
    if (!c.mem.ram)
        die("out of memory");
    for (unsigned i = 0; i < count; i++) {
        build_case(&c, seed, i, checks);
        if (write_case(&c, dir, seed, i))
            return 2;
        self_check(&c, i, &st);
    }
    free(c.mem.ram);
    print_stats(&st, count, checks);
    return 0;
}
