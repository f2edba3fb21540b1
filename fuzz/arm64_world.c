/*
 * arm64_world.c - the world of fuzz_translate_arm64: a core vm_mmu_t in
 * VM_PAGING_ARM64 and the reference AArch64 model (conformance/ref/
 * ref_arm64.c, ref_tlb_arm64.c) driven by the same decoded ops, with every
 * answer checked.
 *
 * How it works (the ideas of fuzz_mmu_common.h, in an Arm world):
 *  - Machines: one vm_physmem_t + vm_mmu_t per RAM size (512 KiB, 1 MiB,
 *    4 MiB), created once; each input starts from one canonical state and
 *    puts the machine back into it at its end (AFL++ stability), zeroing
 *    exactly the RAM pages it touched. Model RAM is a static array mirrored
 *    by every physical write.
 *  - Config header (8 bytes): RAM size, TLB sizes, both granules, T0SZ/T1SZ,
 *    EPDn/AS/A1/TBIn/HA/HD/HPDn/WXN/PAN, IPS, PARange, EL, stage 1 on/off and
 *    both ASIDs; the two roots sit at fixed 64 KiB-aligned places at the
 *    start of the table area (the upper half of RAM), the builder allocates
 *    after them.
 *  - Ops (opcode % 16): builder maps (vm_ptbuilder_map_arm64, planned from
 *    the model memory first: the error it must return, every descriptor it
 *    must write, its bump pointer); raw descriptor writes aimed at the slot a
 *    walk of a pool VA reads at a chosen level (invalid, table, block, page,
 *    0b01 at level 3, table/output addresses in RAM, beyond RAM, in MMIO,
 *    above the PA size, with bits 15:12 set, hierarchical and leaf
 *    attributes, fully random); register writes that change one field at a
 *    time (so every bit of every field can differ on its own) or a whole
 *    register, validated against arm64.h's contract; EL/PAN/WXN/M/PARange;
 *    translations (read/write/exec, twice, through a tagged alias); every
 *    TLBI (including unknown op numbers, which must be refused) with
 *    operands built from pool VAs and ASIDs or raw; the generic flushes;
 *    TLB resizes; paging-mode switches.
 *  - The oracle, after each translation: the TLB counters say whether the
 *    core walked (a miss) or hit. A walk must give exactly the fresh
 *    reference answer (fault kind, level, PA) and leave exactly the fresh
 *    walk's descriptor update in memory (AFUPDATE, the one CONSTRAINED
 *    UNPREDICTABLE update, as arm64.h pins it: none on a fault); its leaf is
 *    then remembered. A hit must
 *    be justified by a remembered entry under the current EL/PAN/WXN
 *    (ref_a64_tlb_hit_legal) and write nothing. With stage 1 off, or a VA
 *    outside both ranges, the core may answer without the TLB; then the
 *    answer must be the fresh one. Every fault record is checked: kind, EC,
 *    ISS (FSC with the level, WnR), access, VA, and after a walk the
 *    descriptor where it stopped. The MMIO device must never be touched
 *    (descriptors are never read from a device). At the end, every touched
 *    RAM page is compared with the model.
 *  - A mismatch prints the decoded scenario, the registers, the fresh walk
 *    level by level, the remembered entries covering the VA and the core's
 *    fault record, then __builtin_trap().
 *
 * Rejected: a header of static functions included by the target (each
 * target recompiles it; STYLE.md); checking the core's TLB contents (white
 * box; the counters and memory tell whether it walked); reusing
 * fuzz_mmu_common.h (its world is RISC-V's: satp, PTE flags, Sv levels).
 */
#include "arm64_world.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmu_int.h"     /* white-box: the core's TLB entries (w_check_tlb_contents) */
#include "core_tlb_check.h"
#include "physmem_int.h" /* white-box: the core's RAM mapping, for cheap compares */
#include "ref_model.h"
#include "vmc_emit.h"
#include "vmmem/vmmem.h"

#define W_PAGE 4096u
#define W_MAX_RAM (UINT64_C(4) << 20)
#define W_MAX_PAGES (W_MAX_RAM / W_PAGE)
#define W_MMIO_BASE UINT64_C(0x10000000)
#define W_MMIO_SIZE UINT64_C(0x10000)
#define W_POOL 32
#define W_FIXED_POOL 12
#define W_LOG 192
#define W_TABLE_SLOT UINT64_C(0x10000) /* each root gets a 64 KiB-aligned slot */

static const uint64_t w_ram_sizes[3] = { UINT64_C(512) << 10, UINT64_C(1) << 20, UINT64_C(4) << 20 };
/* Descriptor bits the builder takes in attrs (ptbuilder.h): 11:2, 58:51. */
#define W_BUILDER_ATTRS UINT64_C(0x07f8000000000ffc)

typedef struct w_log_entry {
    const char *name;
    const char *fmt; /* %llx / %llu conversions only, at most four */
    unsigned long long a[4];
    const char *result;
} w_log_entry_t;

typedef struct world {
    vm_mmu_t *mmu;
    const uint8_t *core_ram;
    ref_mem_t m;
    ref_a64_regs_t regs;
    bool arm_mode;           /* the core is in VM_PAGING_ARM64 (else Bare) */
    ref_a64_tlb_t tlb;
    vm_ptbuilder_t b;
    uint64_t ram_size, table_lo, root[2];
    uint64_t hits, misses;   /* the core's counters as last checked */
    bool t_valid;            /* the last translation's answer, for w_check_access_agrees */
    vm_err_t t_err;
    uint64_t t_pa, t_dh, t_dm;
    vm_fault_t t_fault;

    vm_gva_t pool[W_POOL];
    unsigned n_pool, pool_next;

    uint8_t touched[W_MAX_PAGES / 8];

    w_log_entry_t log[W_LOG];
    unsigned n_ops;

    bool have_walk;          /* the current translation, for the report */
    ref_a64_walk_t walk;
    uint64_t walk_va;
    int walk_acc;
} world_t;

static world_t w_world;
static uint8_t w_mram[W_MAX_RAM];
static int w_trace = -1;

static struct {
    vm_physmem_t *pm;
    vm_mmu_t *mmu;
} w_machines[3];

/* ---- the MMIO device: any access is a bug (no op may reach it) ---------- */
static unsigned w_dev_accesses;

static vm_err_t w_dev_read(void *opaque, uint64_t off, uint8_t size, uint64_t *val)
{
    (void)opaque, (void)off, (void)size;
    w_dev_accesses++;
    *val = 0;
    return VM_OK;
}

static vm_err_t w_dev_write(void *opaque, uint64_t off, uint64_t val, uint8_t size)
{
    (void)opaque, (void)off, (void)val, (void)size;
    w_dev_accesses++;
    return VM_OK;
}

static const vm_mmio_ops_t w_dev_ops = { w_dev_read, w_dev_write, NULL, NULL };

/* ---- op log and report -------------------------------------------------- */

FUZZ_NO_COVERAGE static w_log_entry_t *w_log(world_t *w, const char *name, const char *fmt, unsigned long long a0,
                            unsigned long long a1, unsigned long long a2, unsigned long long a3)
{
    w_log_entry_t *e = &w->log[w->n_ops++ % W_LOG];
    e->name = name;
    e->fmt = fmt;
    e->a[0] = a0;
    e->a[1] = a1;
    e->a[2] = a2;
    e->a[3] = a3;
    e->result = "";
    return e;
}

static void w_print_log(const world_t *w, FILE *f)
{
    unsigned first = w->n_ops > W_LOG ? w->n_ops - W_LOG : 0;
    fprintf(f, "scenario (%u ops%s):\n", w->n_ops, first ? ", oldest dropped" : "");
    for (unsigned i = first; i < w->n_ops; i++) {
        const w_log_entry_t *e = &w->log[i % W_LOG];
        fprintf(f, "  #%-4u %-14s ", i, e->name);
        fprintf(f, e->fmt, e->a[0], e->a[1], e->a[2], e->a[3]);
        fprintf(f, "%s%s\n", e->result[0] ? "  -> " : "", e->result);
    }
}

static void w_print_regs(const world_t *w, FILE *f)
{
    const ref_a64_regs_t *r = &w->regs;
    fprintf(f, "registers: ttbr0=0x%llx ttbr1=0x%llx tcr=0x%llx sctlr=0x%llx el=%d pan=%d "
               "pa_bits=%d (asid now %u)%s\n",
            (unsigned long long)r->ttbr0, (unsigned long long)r->ttbr1,
            (unsigned long long)r->tcr, (unsigned long long)r->sctlr, r->el, r->pan, r->pa_bits,
            ref_a64_current_asid(r), w->arm_mode ? "" : " [core in Bare mode]");
}

__attribute__((noreturn, format(printf, 2, 3)))
static void w_fail(world_t *w, const char *fmt, ...)
{
    FILE *f = stderr;
    va_list ap;
    fprintf(f, "\n==== vmmem fuzz_translate_arm64: MISMATCH ====\n");
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    if (vmc_on()) {   /* a .vmc scenario was asked for: it ends at this op */
        char msg[1024];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        vmc_mismatch("%s", msg);
    }
    fprintf(f, "\nconfig: ram=0x%llx roots 0x%llx 0x%llx builder from 0x%llx\n",
            (unsigned long long)w->ram_size, (unsigned long long)w->root[0],
            (unsigned long long)w->root[1], (unsigned long long)(w->table_lo + 2 * W_TABLE_SLOT));
    w_print_regs(w, f);
    w_print_log(w, f);
    if (w->have_walk) {
        fprintf(f, "reference walk (fresh) of the failing access:\n");
        ref_a64_walk_print(&w->walk, w->walk_va, w->walk_acc, f);
        ref_a64_tlb_print_covering(&w->tlb, &w->regs, w->walk_va, f);
    }
    if (w->mmu) {
        const vm_fault_t *ft = vm_mmu_last_fault(w->mmu);
        fprintf(f, "core fault record: kind=%d va=0x%llx access=%d EC=0x%x ISS=0x%x level=%d "
                   "desc@0x%llx=0x%016llx (%s)\n",
                (int)ft->kind, (unsigned long long)ft->va, (int)ft->access, ft->cause,
                ft->syndrome, ft->level, (unsigned long long)ft->pte_addr,
                (unsigned long long)ft->pte, ft->reason ? ft->reason : "");
    }
    fprintf(f, "==== end of report ====\n");
    fflush(f);
    __builtin_trap();
}

/* ---- memory and counters -------------------------------------------------- */

/* White-box: is the core TLB entry e (ITLB if exec_side) one the model
 * remembers: same side, (normalised) page and size, output page, and
 * global only if the remembered one is, else the same ASID? */
static bool w_entry_remembered(const void *ctx, const struct tlb_entry *e, bool exec_side)
{
    const world_t *w = ctx;
    return ref_a64_tlb_remembers(&w->tlb, exec_side, e->tag, e->shift, e->pa_base,
                                 e->asid_mask == 0, e->asid);
}

#include "world_memory.h" /* w_in_ram, w_phys_write, w_check_no_translation, ... */

/* ---- the .vmc scenario (vmc_emit.h): the lines of each op ------------------ */

/*
 * A register write as .vmc register lines (conform_arm64.c changes one
 * register per line): the changed ones in an order whose every step the
 * contract accepts when the whole write is accepted (PARange, EL, PAN, the
 * TTBRs, TCR, then SCTLR, whose M bit decides whether TCR is checked); a
 * refused write of one register as `REG V -> rejected`. A refused write of
 * several registers at once has no line form (it changes nothing): a comment.
 */
static void w_vmc_regs(const ref_a64_regs_t *from, const ref_a64_regs_t *to, int verdict)
{
    if (!vmc_on())
        return;
    struct { const char *name; uint64_t a, b; } f[7] = {
        {"parange", (uint64_t)from->pa_bits, (uint64_t)to->pa_bits},
        {"el", (uint64_t)from->el, (uint64_t)to->el},
        {"pan", (uint64_t)from->pan, (uint64_t)to->pan},
        {"ttbr0", from->ttbr0, to->ttbr0},
        {"ttbr1", from->ttbr1, to->ttbr1},
        {"tcr", from->tcr, to->tcr},
        {"sctlr", from->sctlr, to->sctlr},
    };
    int changed = 0;
    for (int k = 0; k < 7; k++)
        changed += f[k].a != f[k].b;
    if (verdict && changed == 1) {
        for (int k = 0; k < 7; k++)
            if (f[k].a != f[k].b)
                vmc_line("%s 0x%llx -> rejected", f[k].name, (unsigned long long)f[k].b);
        return;
    }
    if (verdict) {
        vmc_line("# a write of %d registers at once, refused by the contract: nothing changes", changed);
        return;
    }
    ref_a64_regs_t step = *from;
    for (int k = 0; k < 7; k++) {
        if (f[k].a == f[k].b)
            continue;
        switch (k) {
        case 0: step.pa_bits = to->pa_bits; break;
        case 1: step.el = to->el; break;
        case 2: step.pan = to->pan; break;
        case 3: step.ttbr0 = to->ttbr0; break;
        case 4: step.ttbr1 = to->ttbr1; break;
        case 5: step.tcr = to->tcr; break;
        default: step.sctlr = to->sctlr; break;
        }
        if (ref_a64_regs_check(&step))
            vmc_line("# the next line's intermediate register state is refused by the contract");
        vmc_line("%s 0x%llx", f[k].name, (unsigned long long)f[k].b);
    }
}

/* The PMA check of the runner's unsized form: RAM or a well-formed MMIO access. */
static bool w_backed(const world_t *w, uint64_t pa)
{
    int region;
    uint64_t off;
    int r = ref_mem_route(&w->m, pa, 1, &region, &off);
    return r == REF_ROUTE_RAM || r == REF_ROUTE_MMIO;
}

static void w_vmc_answer(const world_t *w, vmc_alts_t *a, int fault, int level, uint64_t pa)
{
    if (fault == REF_A64_NO_FAULT && w_backed(w, pa))
        vmc_alts_add(a, "0x%llx", (unsigned long long)pa);
    else if (fault == REF_A64_NO_FAULT)
        vmc_alts_add(a, "access-fault");   /* the data access: nothing at the PA */
    else if (level >= 0)
        vmc_alts_add(a, "%s level %d", ref_a64_fault_name(fault), level);
    else
        vmc_alts_add(a, "%s", ref_a64_fault_name(fault));
}

/*
 * `expect read|write|exec VA -> ...`: the fresh walk's answer and every
 * answer a remembered entry legally gives (its PA, or a permission fault
 * under the current EL/PAN/WXN), as ref_a64_tlb_legal decides; in Bare mode
 * the identity.
 */
static void w_vmc_expect(const world_t *w, const char *kind, uint64_t va, bool optional, int acc,
                         const ref_a64_walk_t *fresh)
{
    vmc_alts_t a = {.n = 0};
    char buf[512];
    if (!w->arm_mode) {
        w_vmc_answer(w, &a, REF_A64_NO_FAULT, 0, va);
        vmc_line("expect %s 0x%llx -> %s", kind, (unsigned long long)va,
                 vmc_alts_text(&a, buf, sizeof buf));
        return;
    }
    w_vmc_answer(w, &a, fresh->fault, fresh->level, fresh->pa);
    uint64_t tag = ref_a64_tag_va(&w->regs, va);
    uint16_t asid = ref_a64_current_asid(&w->regs);
    for (int i = 0; i < w->tlb.n; i++) {
        const ref_a64_tlb_entry_t *e = &w->tlb.e[i];
        int sh = e->blocksize_shift;
        if (e->exec_side != (acc == REF_EXEC) || (!e->global && e->asid != asid) || sh >= 64 ||
            (e->tag_va >> sh) != (tag >> sh))
            continue;
        ref_a64_answer_t ok = {REF_A64_NO_FAULT, e->level,
                               e->oa_base | (tag & ((UINT64_C(1) << sh) - 1))};
        ref_a64_answer_t perm = {REF_A64_PERMISSION, e->level, 0};
        if (ref_a64_tlb_legal(&w->tlb, &w->regs, va, acc, fresh, &ok))
            w_vmc_answer(w, &a, ok.fault, ok.level, ok.pa);
        if (ref_a64_tlb_legal(&w->tlb, &w->regs, va, acc, fresh, &perm))
            w_vmc_answer(w, &a, perm.fault, perm.level, 0);
    }
    if (optional && a.n > 4) { /* the runner takes at most 4 */
        vmc_line("# (%s 0x%llx left out: %d answers)", kind, (unsigned long long)va, a.n);
        return;
    }
    vmc_line("expect %s 0x%llx -> %s", kind, (unsigned long long)va,
             vmc_alts_text(&a, buf, sizeof buf));
}

static void w_vmc_translate(const world_t *w, uint64_t va, int acc, const ref_a64_walk_t *fresh)
{
    static const char *const words[3] = {"read", "write", "exec"};
    if (vmc_on())
        w_vmc_expect(w, words[acc], va, false, acc, fresh);
}

/* `expect read8|exec4 VA -> ...`: the load or fetch of world_access.h's
 * check, with the answers of a fresh walk and of every remembered entry,
 * as for a translation of its page (left out past the 4 answers a line
 * takes). */
static void w_vmc_access(world_t *w, uint64_t va, int acc)
{
    if (!vmc_on())
        return;
    ref_a64_walk_t fresh;
    memset(&fresh, 0, sizeof fresh);
    if (w->arm_mode)
        ref_a64_translate(&w->m, &w->regs, va, acc, false, &fresh);
    w_vmc_expect(w, acc == REF_EXEC ? "exec4" : "read8", va, true, acc, &fresh);
}

/* ---- registers ----------------------------------------------------------- */

static void w_to_vm(const ref_a64_regs_t *r, vm_arm64_regs_t *v)
{
    memset(v, 0, sizeof *v);
    v->ttbr0 = r->ttbr0;
    v->ttbr1 = r->ttbr1;
    v->tcr = r->tcr;
    v->sctlr = r->sctlr;
    v->el = (uint8_t)r->el;
    v->pan = (uint8_t)r->pan;
    v->pa_bits = (uint8_t)r->pa_bits;
}

static bool w_regs_equal(const vm_arm64_regs_t *v, const ref_a64_regs_t *r)
{
    int pa = v->pa_bits ? v->pa_bits : 48;
    return v->ttbr0 == r->ttbr0 && v->ttbr1 == r->ttbr1 && v->tcr == r->tcr &&
           v->sctlr == r->sctlr && v->el == r->el && v->pan == r->pan && pa == ref_a64_pa_max(r);
}

/*
 * vm_mmu_set_arm64_regs with `next` on the core; the contract decides the
 * answer (ref_a64_regs_check) and, when accepted, which entries the write
 * drops (ref_a64_tlb_write_regs). Registers read back must be the new ones,
 * or unchanged after a refusal.
 */
static void w_write_regs(world_t *w, const ref_a64_regs_t *next)
{
    vm_arm64_regs_t want, got;
    int verdict = ref_a64_regs_check(next);
    w_vmc_regs(&w->regs, next, verdict);
    w_to_vm(next, &want);
    vm_err_t err = vm_mmu_set_arm64_regs(w->mmu, &want);
    bool err_ok = verdict == 0 ? err == VM_OK
                  : (err == VM_ERR_INVALID_ARGUMENT && (verdict & REF_A64_REGS_INVALID)) ||
                        (err == VM_ERR_UNSUPPORTED && (verdict & REF_A64_REGS_UNSUPPORTED));
    if (!err_ok)
        w_fail(w, "vm_mmu_set_arm64_regs(ttbr0=0x%llx ttbr1=0x%llx tcr=0x%llx sctlr=0x%llx el=%d "
                  "pan=%d pa_bits=%d) returned %s; the contract (arm64.h) says %s",
               (unsigned long long)next->ttbr0, (unsigned long long)next->ttbr1,
               (unsigned long long)next->tcr, (unsigned long long)next->sctlr, next->el, next->pan,
               next->pa_bits, vm_strerror(err),
               verdict == 0 ? "VM_OK"
               : verdict == REF_A64_REGS_UNSUPPORTED ? "VM_ERR_UNSUPPORTED"
               : verdict == REF_A64_REGS_INVALID ? "VM_ERR_INVALID_ARGUMENT"
                                                 : "VM_ERR_INVALID_ARGUMENT or VM_ERR_UNSUPPORTED");
    if (verdict == 0) {
        ref_a64_tlb_write_regs(&w->tlb, &w->regs, next);
        w->regs = *next;
    }
    vm_mmu_arm64_regs(w->mmu, &got);
    if (!w_regs_equal(&got, &w->regs))
        w_fail(w, "after vm_mmu_set_arm64_regs (%s) the registers read back ttbr0=0x%llx "
                  "ttbr1=0x%llx tcr=0x%llx sctlr=0x%llx el=%u pan=%u pa_bits=%u",
               verdict ? "refused: nothing may change" : "accepted", (unsigned long long)got.ttbr0,
               (unsigned long long)got.ttbr1, (unsigned long long)got.tcr,
               (unsigned long long)got.sctlr, got.el, got.pan, got.pa_bits);
    w_check_no_translation(w, "vm_mmu_set_arm64_regs");
}

/* Granule of range n (log2), as the walk decodes TGn (reserved: 4KB). */
static unsigned w_granule(const ref_a64_regs_t *r, int n)
{
    unsigned tg = n == 0 ? (unsigned)(r->tcr >> 14) & 3 : (unsigned)(r->tcr >> 30) & 3;
    if (n == 0)
        return tg == 1 ? 16 : tg == 2 ? 14 : 12;
    return tg == 3 ? 16 : tg == 1 ? 14 : 12;
}

static unsigned w_txsz(const ref_a64_regs_t *r, int n)
{
    return n == 0 ? (unsigned)r->tcr & 0x3f : (unsigned)(r->tcr >> 16) & 0x3f;
}

/* A block size the granule allows (ptbuilder.h), the large one for 4KB. */
static uint64_t w_block_size(unsigned g, bool large)
{
    if (g == 12)
        return large ? VM_PAGE_1G : VM_PAGE_2M;
    return g == 14 ? VM_PAGE_32M : VM_PAGE_512M;
}

/* ---- VA pool --------------------------------------------------------------- */

FUZZ_NO_COVERAGE static void w_pool_add(world_t *w, vm_gva_t va)
{
    for (unsigned i = 0; i < w->n_pool; i++)
        if (w->pool[i] == va)
            return;
    if (w->n_pool < W_POOL)
        w->pool[w->n_pool++] = va;
    else
        w->pool[W_FIXED_POOL + w->pool_next++ % (W_POOL - W_FIXED_POOL)] = va;
}

static void w_pool_init(world_t *w)
{
    unsigned in0 = 64 - w_txsz(&w->regs, 0), in1 = 64 - w_txsz(&w->regs, 1);
    uint64_t g0 = UINT64_C(1) << w_granule(&w->regs, 0), g1 = UINT64_C(1) << w_granule(&w->regs, 1);
    uint64_t lo_end = in0 < 64 ? UINT64_C(1) << in0 : 0;
    uint64_t hi_start = in1 < 64 ? (uint64_t)0 - (UINT64_C(1) << in1) : 0;
    w->n_pool = 0;
    w->pool_next = 0;
    w_pool_add(w, 0);
    w_pool_add(w, lo_end - g0);           /* last page of the TTBR0 range */
    w_pool_add(w, hi_start);              /* first page of the TTBR1 range */
    w_pool_add(w, (uint64_t)0 - g1);      /* last page of the address space */
    w_pool_add(w, lo_end);                /* just above the TTBR0 range */
    w_pool_add(w, hi_start - g1);         /* just below the TTBR1 range */
    w_pool_add(w, g0);
    w_pool_add(w, w_block_size(w_granule(&w->regs, 0), false));
    w_pool_add(w, VM_PAGE_1G);
    w_pool_add(w, hi_start + g1);
    w_pool_add(w, W_MMIO_BASE);           /* for stage 1 off: the device as data */
    w_pool_add(w, w->table_lo);           /* for stage 1 off: the tables as data */
}

/* A VA operand: a pool entry plus a tweak (2 bytes; 3 for a bit flip). */
static vm_gva_t w_va(world_t *w, fuzz_input_t *in)
{
    uint8_t i = fin_u8(in), t = fin_u8(in);
    vm_gva_t va = w->pool[i % w->n_pool];
    uint64_t g = UINT64_C(1) << w_granule(&w->regs, (va >> 55) & 1);
    unsigned insz = 64 - w_txsz(&w->regs, (va >> 55) & 1);
    switch (t % 32) {
    case 12: return va + 1;
    case 13: return va + 0x7;
    case 14: return va + g - 8;
    case 15: return va + g;
    case 16: return va - g;
    case 17: return va + 0x1000;
    case 18: return va + (g << 1) + 0x10;
    case 19: return va + w_block_size((unsigned)__builtin_ctzll(g), false) - g;  /* last page of a block */
    case 20: return va + w_block_size((unsigned)__builtin_ctzll(g), true);
    case 21: return va ^ (UINT64_C(1) << 55);                   /* the other range by bit 55 */
    case 22: return va ^ (UINT64_C(1) << 63);                   /* top bit only */
    case 23: return (va & ~(UINT64_C(0xff) << 56)) | (UINT64_C(0x5a) << 56); /* a tag */
    case 24: return (va & ~(UINT64_C(0xff) << 56)) | (UINT64_C(0xa5) << 56);
    case 25: return insz > 0 && insz < 64 ? va ^ (UINT64_C(1) << (insz - 1)) : va; /* top index bit */
    case 26: return insz < 64 ? va ^ (UINT64_C(1) << insz) : va;  /* first bit above the range */
    case 27: return va + (UINT64_C(1) << ((t >> 5) % 4 * 9 + 12)); /* next entry at some level */
    case 11: return fin_flip(in, va, 64);   /* any one bit: offset, an index, range bits, the tag */
    case 28: case 29: case 30: case 31:
        return va + (uint64_t)(t >> 5) * 8;
    default: return va;
    }
}

/* ---- physical addresses ------------------------------------------------------ */

/* An OA aligned to `align`: data pages, tables, beyond RAM, MMIO, above
 * the PA size. */
static uint64_t w_pick_pa(world_t *w, uint8_t sel, uint64_t align)
{
    uint64_t pa;
    switch (sel % 12) {
    case 6: pa = w->table_lo + (uint64_t)(sel >> 4) * W_PAGE; break; /* tables as data */
    case 7: pa = W_MMIO_BASE; break;
    case 8: pa = w->ram_size; break;                                /* just beyond RAM */
    case 9: pa = UINT64_C(1) << (32 + (sel >> 4) % 17); break;      /* 2^32 .. 2^48 */
    case 10: pa = (UINT64_C(1) << 48) - align; break;               /* the last OA */
    case 11: pa = 0; break;
    default: pa = (uint64_t)(sel >> 3) * W_PAGE % w->table_lo; break; /* data */
    }
    return pa & ~(align - 1);
}

/* A table address: a builder table, a root, a data page, beyond RAM, MMIO,
 * above the PA size. */
static uint64_t w_pick_table(world_t *w, uint8_t sel, uint64_t g)
{
    uint64_t area = w->ram_size - w->table_lo;
    switch (sel % 8) {
    case 0: case 1: case 2:
        return (w->table_lo + (uint64_t)(sel >> 3) * g % area) & ~(g - 1);
    case 3: return w->root[(sel >> 3) & 1];
    case 4: return w_pick_pa(w, sel >> 3, g);
    case 5: return w->ram_size + (uint64_t)(sel >> 3) * g;
    case 6: return W_MMIO_BASE;
    default: return UINT64_C(1) << (32 + (sel >> 3) % 16);
    }
}

/* ---- walking the model's tables (to aim raw writes) --------------------- */

/*
 * The slot a walk of va reads at `level` under the current registers,
 * following the model's table descriptors; false when the path breaks
 * earlier (no such slot) or va is in neither range.
 */
static bool w_slot(world_t *w, uint64_t va, int level, uint64_t *slot)
{
    ref_a64_walk_t probe;
    ref_a64_regs_t r = w->regs;
    r.sctlr |= 1;  /* aim as if stage 1 were on */
    ref_a64_translate(&w->m, &r, va, REF_READ, false, &probe);
    for (int k = 0; k < probe.n_steps; k++)
        if (probe.steps[k].level == level) {
            *slot = probe.steps[k].descaddr;
            return w_in_ram(w, *slot, 8);
        }
    return false;
}

/* ---- op: builder map ---------------------------------------------------------- */

typedef struct w_plan {
    vm_err_t err;
    int start, target;
    uint64_t slot[4];
    bool is_new[4];
    uint64_t new_table[4];
    uint64_t next;           /* builder.next after success */
    uint64_t leaf;
} w_plan_t;

/* What vm_ptbuilder_map_arm64 must do (ptbuilder.h), from the model memory. */
static void w_builder_plan(world_t *w, unsigned g, unsigned txsz, uint64_t va, uint64_t pa,
                           uint64_t page_size, uint64_t attrs, uint64_t root, w_plan_t *p)
{
    memset(p, 0, sizeof *p);
    p->next = w->b.next;
    p->err = VM_ERR_INVALID_ARGUMENT;
    if ((g != 12 && g != 14 && g != 16) || txsz < 16 || txsz > 39)
        return;
    unsigned stride = g - 3, inputsize = 64 - txsz;
    int start = 4 - (int)((inputsize - g + stride - 1) / stride);
    int target;
    if (page_size == (UINT64_C(1) << g))
        target = 3;
    else if (page_size == w_block_size(g, false))
        target = 2;
    else if (g == 12 && page_size == VM_PAGE_1G)
        target = 1;
    else
        return;  /* bad page_size */
    uint64_t top = va >> inputsize;  /* bits 63:inputsize */
    bool lower = top == 0, upper = top == (UINT64_MAX >> inputsize);
    if (target < start || (!lower && !upper) || (va & (page_size - 1)) || (pa & (page_size - 1)) ||
        (pa >> 48) || (attrs & ~W_BUILDER_ATTRS))
        return;
    p->start = start;
    p->target = target;
    uint64_t table = root;
    bool fresh = false;
    int addrselecttop = (int)inputsize - 1;
    for (int level = start;; level++) {
        int bottom = (3 - level) * (int)stride + (int)g;
        uint64_t index = (va >> bottom) & ((UINT64_C(1) << (addrselecttop - bottom + 1)) - 1);
        p->slot[level] = table + index * 8;
        if (!fresh && !w_in_ram(w, p->slot[level], 8)) {
            p->err = VM_ERR_INVALID_ADDRESS;
            return;
        }
        if (level == target)
            break;
        uint64_t desc = fresh ? 0 : w_model_u64(p->slot[level]);
        if (desc & 1) {
            if ((desc & 3) == 1) {
                p->err = VM_ERR_INVALID_ARGUMENT;  /* an existing block above the target */
                return;
            }
            table = (desc & ((UINT64_C(1) << 48) - 1)) & ~((UINT64_C(1) << g) - 1);
            fresh = false;
        } else {
            uint64_t gsize = UINT64_C(1) << g;
            uint64_t t = (p->next + gsize - 1) & ~(gsize - 1);
            if (!w_in_ram(w, t, gsize)) {
                p->err = VM_ERR_INVALID_ADDRESS;
                return;
            }
            p->is_new[level] = true;
            p->new_table[level] = t;
            p->next = t + gsize;
            table = t;
            fresh = true;
        }
        addrselecttop = bottom - 1;
    }
    p->leaf = pa | attrs | (target == 3 ? 3u : 1u);
    p->err = VM_OK;
}

static void w_op_map(world_t *w, fuzz_input_t *in)
{
    vm_gva_t va0 = w_va(w, in);
    uint8_t psel = fin_u8(in), ssel = fin_u8(in), gsel = fin_u8(in);
    uint16_t asel = fin_u16(in);
    int range = (va0 >> 55) & 1;
    unsigned g = w_granule(&w->regs, range), txsz = w_txsz(&w->regs, range);
    if ((gsel & 7) == 7) {  /* a granule/TxSZ the registers do not use, or a bad one */
        static const unsigned gs[4] = { 12, 14, 16, 13 };
        g = gs[(gsel >> 3) & 3];
        txsz = 14 + (gsel >> 5) * 4;
    }
    uint64_t page_size;
    switch (ssel % 8) {
    case 0: case 1: case 2: case 3: page_size = UINT64_C(1) << g; break;
    case 4: case 5: page_size = w_block_size(g, false); break;
    case 6: page_size = (ssel & 8) ? VM_PAGE_1G : VM_PAGE_2M; break;
    default: page_size = (ssel & 8) ? VM_PAGE_64K : VM_PAGE_512G; break;
    }
    vm_gva_t va = va0 & ~(page_size - 1);
    uint64_t pa = w_pick_pa(w, psel, page_size);
    /* attrs: AF mostly set; AP, nG, PXN/UXN, DBM, Contiguous, SW bits; rarely a bad bit. */
    uint64_t attrs = (asel & 0x7) << 2 | (uint64_t)((asel >> 3) & 3) << 6 |
                     (uint64_t)((asel >> 5) & 1) << 11 | (uint64_t)((asel >> 6) & 3) << 53 |
                     (uint64_t)((asel >> 8) & 1) << 51 | (uint64_t)((asel >> 9) & 1) << 52 |
                     (uint64_t)((asel >> 10) & 1) << 55;
    if (((asel >> 11) & 7) != 0)
        attrs |= UINT64_C(1) << 10;
    if ((asel >> 14) == 3)
        attrs |= (ssel & 16) ? UINT64_C(1) << 1 : UINT64_C(1) << (48 + (ssel >> 5) % 16);
    uint64_t root = w->root[(gsel & 8) ? !range : range];
    w_log_entry_t *e = w_log(w, "map", "va=0x%llx pa=0x%llx size=0x%llx attrs=0x%llx", va, pa,
                             page_size, attrs);
    w_pool_add(w, va);

    w_plan_t plan;
    w_builder_plan(w, g, txsz, va, pa, page_size, attrs, root, &plan);
    if (vmc_on()) {   /* the builder's effect: zeroed tables, table descriptors, the leaf */
        vmc_line("# vm_ptbuilder_map_arm64(granule %u, txsz %u, va 0x%llx, pa 0x%llx, size 0x%llx, "
                 "attrs 0x%llx, root 0x%llx) -> %s%s", g, txsz, (unsigned long long)va,
                 (unsigned long long)pa, (unsigned long long)page_size, (unsigned long long)attrs,
                 (unsigned long long)root, vmc_err_name(plan.err),
                 plan.err == VM_OK ? ", which writes:" : ": nothing written");
        for (int l = plan.start; plan.err == VM_OK && l < plan.target; l++) {
            if (!plan.is_new[l])
                continue;
            vmc_line("expect pwritebuf 0x%llx %llu fill 0 -> ok", (unsigned long long)plan.new_table[l],
                     (unsigned long long)(UINT64_C(1) << g));
            vmc_line("w64 0x%llx 0x%llx", (unsigned long long)plan.slot[l],
                     (unsigned long long)(plan.new_table[l] | 3));
        }
        if (plan.err == VM_OK)
            vmc_line("w64 0x%llx 0x%llx", (unsigned long long)plan.slot[plan.target],
                     (unsigned long long)plan.leaf);
    }
    uint64_t next_before = w->b.next;
    vm_err_t err = vm_ptbuilder_map_arm64(&w->b, w->mmu, g, txsz, va, pa, page_size, attrs, root);
    e->result = vm_strerror(err);
    if (err != plan.err)
        w_fail(w, "vm_ptbuilder_map_arm64(granule %u, txsz %u, va 0x%llx, pa 0x%llx, size 0x%llx, "
                  "attrs 0x%llx, root 0x%llx): expected %s, got %s",
               g, txsz, (unsigned long long)va, (unsigned long long)pa,
               (unsigned long long)page_size, (unsigned long long)attrs, (unsigned long long)root,
               vm_strerror(plan.err), vm_strerror(err));
    if (err != VM_OK) {
        if (w->b.next != next_before)
            w_fail(w, "a failed vm_ptbuilder_map_arm64 moved the builder: 0x%llx -> 0x%llx",
                   (unsigned long long)next_before, (unsigned long long)w->b.next);
        for (int l = 0; l < 4; l++)
            if (plan.slot[l] && w_in_ram(w, plan.slot[l], 8))
                w_compare_range(w, plan.slot[l], 8, "a failed vm_ptbuilder_map_arm64 wrote");
        w_check_no_translation(w, "vm_ptbuilder_map_arm64");
        return;
    }
    if (w->b.next != plan.next)
        w_fail(w, "vm_ptbuilder_map_arm64: builder next 0x%llx, expected 0x%llx",
               (unsigned long long)w->b.next, (unsigned long long)plan.next);
    uint64_t gsize = UINT64_C(1) << g;
    for (int l = plan.start; l < plan.target; l++) {
        if (!plan.is_new[l])
            continue;
        memset(w_mram + plan.new_table[l], 0, gsize);
        w_touch(w, plan.new_table[l], gsize);
        w_model_write_u64(w, plan.slot[l], plan.new_table[l] | 3);
    }
    w_model_write_u64(w, plan.slot[plan.target], plan.leaf);
    for (int l = plan.start; l <= plan.target; l++) {
        if (plan.is_new[l])
            w_compare_range(w, plan.new_table[l], gsize, "vm_ptbuilder_map_arm64 new table");
        w_compare_range(w, plan.slot[l], 8, "vm_ptbuilder_map_arm64 descriptor on the path");
    }
    w_check_no_translation(w, "vm_ptbuilder_map_arm64");
}

/* ---- op: raw descriptor write ------------------------------------------------ */

static void w_op_desc(world_t *w, fuzz_input_t *in)
{
    vm_gva_t va = w_va(w, in);
    uint8_t lsel = fin_u8(in), tsel = fin_u8(in), asel = fin_u8(in), hsel = fin_u8(in);
    int range = (va >> 55) & 1;
    unsigned g = w_granule(&w->regs, range);
    uint64_t gsize = UINT64_C(1) << g;
    int level = lsel & 3;
    uint64_t slot;
    if ((lsel & 0xc0) == 0xc0 || !w_slot(w, va, level, &slot)) {
        /* somewhere in a table page, at this VA's index */
        uint64_t area = w->ram_size - w->table_lo;
        slot = (w->table_lo + (uint64_t)(lsel >> 2) * gsize % area) & ~(gsize - 1);
        slot += ((va >> g) & ((gsize >> 3) - 1)) * 8;
    }
    uint64_t old = w_model_u64(slot), desc;
    /* leaf attributes: AF, AP, nG, PXN/UXN, DBM, Contiguous */
    uint64_t leaf_attrs = (uint64_t)(asel & 1) << 10 | (uint64_t)((asel >> 1) & 3) << 6 |
                          (uint64_t)((asel >> 3) & 1) << 11 | (uint64_t)((asel >> 4) & 3) << 53 |
                          (uint64_t)((asel >> 6) & 1) << 51 | (uint64_t)((asel >> 7) & 1) << 52;
    if ((asel & 0x31) == 0x01)
        leaf_attrs |= UINT64_C(1) << 10; /* more often AF = 1 */
    uint64_t block = level == 3 ? gsize : UINT64_C(1) << ((3 - level) * (g - 3) + g);
    switch (tsel % 8) {
    case 0:
        if (tsel & 8)
            desc = fin_flip(in, old, 64);                            /* the old one, one bit flipped */
        else
            desc = (uint64_t)hsel << 1 & ~UINT64_C(1);               /* invalid, bits left over */
        break;
    case 1: case 2:                                                  /* table (page at level 3) */
        desc = w_pick_table(w, hsel, gsize) | 3;
        desc |= (uint64_t)(asel >> 4) << 59;                         /* PXN/UXN/APTable */
        if (level == 3)
            desc |= leaf_attrs;
        break;
    case 3:                                                          /* block / 0b01 */
        desc = w_pick_pa(w, hsel, level == 3 ? gsize : block) | leaf_attrs | 1;
        break;
    case 4:                                                          /* misaligned / RES0 OA bits */
        desc = w_pick_pa(w, hsel, gsize) | (uint64_t)(tsel >> 3) << 12 | leaf_attrs |
               ((tsel & 0x80) ? 1 : 3);
        break;
    case 5:                                                          /* keep the address, new attributes */
        desc = (old & UINT64_C(0x0000fffffffff000)) | leaf_attrs | (old & 3) |
               (uint64_t)(hsel >> 4) << 59;
        break;
    case 6:                                                          /* OA bits 15:12 (64KB: OA<51:48>) */
        desc = w_pick_pa(w, hsel, gsize) | (uint64_t)(tsel >> 4) << 12 | leaf_attrs |
               (level == 3 || (tsel & 8) ? 3 : 1);
        break;
    default:
        desc = fin_u64(in);
        break;
    }
    w_log_entry_t *e = w_log(w, "desc-write", "pa=0x%llx 0x%llx -> 0x%llx (va=0x%llx)", slot, old,
                             desc, va);
    (void)e;
    w_phys_write(w, slot, desc);
    w_check_no_translation(w, "vm_mmu_write_phys");
}

/* ---- ops: registers ------------------------------------------------------------- */

static uint64_t w_set_field(uint64_t reg, unsigned lo, unsigned width, uint64_t v)
{
    uint64_t mask = (width >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << width) - 1) << lo;
    return (reg & ~mask) | ((v << lo) & mask);
}

/* One TCR_EL1 field changes, the others keep their values. */
static void w_op_tcr(world_t *w, fuzz_input_t *in)
{
    uint8_t f = fin_u8(in), v = fin_u8(in);
    ref_a64_regs_t next = w->regs;
    uint64_t t = next.tcr;
    unsigned txsz = (v & 0x80) ? v & 0x3f : 16 + v % 24;
    switch (f % 18) {
    case 0: t = w_set_field(t, 0, 6, txsz); break;          /* T0SZ */
    case 1: t = w_set_field(t, 16, 6, txsz); break;         /* T1SZ */
    case 2: t = w_set_field(t, 14, 2, v); break;            /* TG0 (incl. reserved 0b11) */
    case 3: t = w_set_field(t, 30, 2, v); break;            /* TG1 (incl. reserved 0b00) */
    case 4: t ^= UINT64_C(1) << 7; break;                   /* EPD0 */
    case 5: t ^= UINT64_C(1) << 23; break;                  /* EPD1 */
    case 6: t ^= UINT64_C(1) << 22; break;                  /* A1 */
    case 7: t ^= UINT64_C(1) << 36; break;                  /* AS */
    case 8: t ^= UINT64_C(1) << 37; break;                  /* TBI0 */
    case 9: t ^= UINT64_C(1) << 38; break;                  /* TBI1 */
    case 10: t ^= UINT64_C(1) << 39; break;                 /* HA */
    case 11: t ^= UINT64_C(1) << 40; break;                 /* HD */
    case 12: t ^= UINT64_C(1) << 41; break;                 /* HPD0 */
    case 13: t ^= UINT64_C(1) << 42; break;                 /* HPD1 */
    case 14: t = w_set_field(t, 32, 3, v); break;           /* IPS (incl. reserved) */
    case 15: {                                              /* a field vmmem ignores */
        static const unsigned ignored[] = { 6, 8, 9, 10, 11, 12, 13, 24, 25, 26, 27, 28, 29,
                                            35, 43, 44, 45, 46, 47, 48, 51, 52, 55, 56, 60, 63 };
        t ^= UINT64_C(1) << ignored[v % (sizeof ignored / sizeof ignored[0])];
        break;
    }
    case 16: t ^= UINT64_C(1) << 59; break;                 /* DS: unsupported */
    default: t = fin_u64(in); break;                        /* anything */
    }
    next.tcr = t;
    w_log_entry_t *e = w_log(w, "tcr", "0x%llx -> 0x%llx (field %llu)", w->regs.tcr, t, f % 18, 0);
    w_write_regs(w, &next);
    e->result = w->regs.tcr == t ? "accepted" : "refused";
}

static const uint16_t w_asids[8] = { 0, 1, 5, 0xff, 0x100, 0x1ff, 0x1234, 0xffff };

static void w_op_ttbr(world_t *w, fuzz_input_t *in)
{
    uint8_t which = fin_u8(in), bsel = fin_u8(in), asel = fin_u8(in);
    /* TTBR0, TTBR1, or (bit 1) the one TCR.A1 takes the current ASID from */
    int n = (which & 2) ? (int)((w->regs.tcr >> 22) & 1) : which & 1;
    ref_a64_regs_t next = w->regs;
    uint64_t old = n ? next.ttbr1 : next.ttbr0;
    uint64_t base;
    switch (bsel % 8) {
    case 0: case 1: base = w->root[n]; break;
    case 2: base = w->root[!n]; break;
    case 3: base = w_pick_table(w, bsel >> 3, W_PAGE); break;
    case 4: base = w->root[n] + (uint64_t)(bsel >> 3) * 8; break;  /* misaligned base */
    case 5: base = old & UINT64_C(0x0000fffffffffffe); break;      /* keep */
    case 6: base = w->root[n] ^ UINT64_C(1) << (1 + fin_u8(in) % 47); break; /* one BADDR bit flipped */
    default: base = w->root[n] | (bsel >> 7); break;                /* CnP */
    }
    /* bit 3: keep the ASID (7:4 = 0) or flip its bit 7:4 (1..15; bit 0
     * alone tells w_asids' 0 and 1 apart), so two ASIDs of an input can
     * differ in any one bit */
    uint64_t asid = !(asel & 8) ? w_asids[asel & 7] : (old >> 48) ^ ((UINT64_C(1) << (asel >> 4)) & ~UINT64_C(1));
    uint64_t v = asid << 48 | (base & UINT64_C(0x0000ffffffffffff));
    if (n)
        next.ttbr1 = v;
    else
        next.ttbr0 = v;
    w_log(w, n ? "ttbr1" : "ttbr0", "0x%llx", v, 0, 0, 0);
    w_write_regs(w, &next);
}

static void w_op_state(world_t *w, fuzz_input_t *in)
{
    uint8_t f = fin_u8(in), v = fin_u8(in);
    static const int pa_sizes[8] = { 0, 32, 36, 40, 42, 44, 48, 50 };
    ref_a64_regs_t next = w->regs;
    switch (f % 7) {
    case 0: next.el = (v & 7) == 7 ? 2 : v & 1; break;
    case 1: next.pan = (v & 7) == 7 ? 2 : v & 1; break;
    case 2: next.sctlr ^= UINT64_C(1) << 19; break;             /* WXN */
    case 3: next.sctlr ^= 1; break;                             /* M */
    case 4: next.pa_bits = pa_sizes[v & 7]; break;
    case 5: next.sctlr ^= UINT64_C(1) << (1 + v % 63); break;   /* any SCTLR bit */
    default: next.el = v & 1; next.pan = (v >> 1) & 1; break;
    }
    w_log(w, "state", "el=%llu pan=%llu sctlr=0x%llx pa_bits=%llu", (unsigned long long)next.el,
          (unsigned long long)next.pan, next.sctlr, (unsigned long long)next.pa_bits);
    w_write_regs(w, &next);
}

/* ---- op: translate and the oracle -------------------------------------------------- */

static vm_fault_kind_t w_kind_of(int fault)
{
    switch (fault) {
    case REF_A64_TRANSLATION: return VM_FAULT_TRANSLATION;
    case REF_A64_ACCESS_FLAG: return VM_FAULT_ACCESS_FLAG;
    case REF_A64_PERMISSION: return VM_FAULT_PERMISSION;
    case REF_A64_ADDRESS_SIZE: return VM_FAULT_ADDRESS_SIZE;
    case REF_A64_WALK_ABORT: return VM_FAULT_ACCESS;
    default: return VM_FAULT_NONE;
    }
}

/* The core's answer as the reference names it; -1 for an impossible one. */
static int w_fault_of(vm_err_t err, const vm_fault_t *f)
{
    if (err == VM_OK)
        return REF_A64_NO_FAULT;
    if (err == VM_ERR_PAGE_FAULT) {
        switch (f->kind) {
        case VM_FAULT_TRANSLATION: return REF_A64_TRANSLATION;
        case VM_FAULT_ACCESS_FLAG: return REF_A64_ACCESS_FLAG;
        case VM_FAULT_PERMISSION: return REF_A64_PERMISSION;
        case VM_FAULT_ADDRESS_SIZE: return REF_A64_ADDRESS_SIZE;
        default: return -1;
        }
    }
    if (err == VM_ERR_ACCESS_FAULT && f->kind == VM_FAULT_ACCESS)
        return REF_A64_WALK_ABORT;
    return -1;
}

static const char *const w_acc_name[3] = { "read", "write", "exec" };

/* Bare mode (the core's paging mode switched away): the identity. */
static void w_check_bare(world_t *w, uint64_t va, int acc)
{
    w_vmc_translate(w, va, acc, NULL);
    vm_gpa_t pa = 0;
    vm_err_t err = vm_mmu_translate(w->mmu, va, (vm_access_t)acc, &pa);
    if (err != VM_OK || pa != va)
        w_fail(w, "Bare mode: vm_mmu_translate(0x%llx) gave %s pa=0x%llx, expected the identity",
               (unsigned long long)va, vm_strerror(err), (unsigned long long)pa);
    w_check_no_translation(w, "a Bare-mode translation");
}

static void w_check_translate_ref(world_t *w, uint64_t va, int acc)
{
    static const char *const names[3] = { "translate-r", "translate-w", "translate-x" };
    w_log_entry_t *e = w_log(w, names[acc], "va=0x%llx", va, 0, 0, 0);
    if (!w->arm_mode) {
        w_check_bare(w, va, acc);
        return;
    }
    ref_a64_walk_t fresh;
    ref_a64_translate(&w->m, &w->regs, va, acc, false, &fresh);
    for (int k = 0; k < fresh.n_steps; k++)
        w_touch(w, fresh.steps[k].descaddr, 8);
    w->walk = fresh;
    w->walk_va = va;
    w->walk_acc = acc;
    w->have_walk = true;
    w_vmc_translate(w, va, acc, &fresh);

    unsigned dev_before = w_dev_accesses;
    vm_gpa_t pa = UINT64_C(0xbad0bad0bad0bad0);
    vm_err_t err = vm_mmu_translate(w->mmu, va, (vm_access_t)acc, &pa);
    const vm_fault_t *f = vm_mmu_last_fault(w->mmu);
    e->result = vm_strerror(err);
    if (w_dev_accesses != dev_before)
        w_fail(w, "vm_mmu_translate touched the MMIO device (descriptors never come from a device)");
    uint64_t h, m;
    vm_mmu_tlb_stats(w->mmu, &h, &m);
    uint64_t dh = h - w->hits, dm = m - w->misses;
    w->hits = h;
    w->misses = m;
    w->t_valid = true;
    w->t_err = err;
    w->t_pa = pa;
    w->t_dh = dh;
    w->t_dm = dm;
    w->t_fault = *f;

    int fault = w_fault_of(err, f);
    if (fault < 0)
        w_fail(w, "vm_mmu_translate(0x%llx, %s) returned %s with fault kind %d; the reference says %s",
               (unsigned long long)va, w_acc_name[acc], vm_strerror(err), (int)f->kind,
               ref_a64_fault_name(fresh.fault));
    ref_a64_answer_t got = { fault, fault == REF_A64_NO_FAULT ? fresh.level : f->level,
                             fault == REF_A64_NO_FAULT ? pa : 0 };
    bool same_as_fresh = fault == fresh.fault &&
                         (fault == REF_A64_NO_FAULT ? pa == fresh.pa : f->level == fresh.level);
    /* Answers that need no TLB: stage 1 off, and a VA outside both ranges
     * (or in a disabled one): a Translation fault before any descriptor. */
    bool tlb_free = !fresh.s1_enabled || (fresh.fault == REF_A64_TRANSLATION && fresh.n_steps == 0 &&
                                          fresh.startlevel < 0);
    if (dh + dm > 1 || (dh + dm == 0 && !tlb_free))
        w_fail(w, "TLB counters moved by hits +%llu misses +%llu for one translation (expected one "
                  "hit or one miss%s)",
               (unsigned long long)dh, (unsigned long long)dm,
               tlb_free ? ", or none for an answer without the TLB" : "");
    bool walked = dm == 1 || dh + dm == 0;
    if (walked) {
        if (!same_as_fresh)
            w_fail(w, "translate %s 0x%llx walked (TLB %s): core %s level %d pa=0x%llx, reference "
                      "%s level %d pa=0x%llx (%s)",
                   w_acc_name[acc], (unsigned long long)va, dm ? "miss" : "not consulted",
                   ref_a64_fault_name(fault), fault == REF_A64_NO_FAULT ? -1 : f->level,
                   (unsigned long long)pa, ref_a64_fault_name(fresh.fault), fresh.level,
                   (unsigned long long)fresh.pa, fresh.why ? fresh.why : "");
        /* Descriptor memory: the model's plus exactly the fresh update. On
         * a faulting access with a pending AF update (AFUPDATE, CONSTRAINED
         * UNPREDICTABLE) arm64.h pins vmmem's choice, the model's: no update. */
        for (int k = 0; k < fresh.n_steps; k++) {
            uint64_t a = fresh.steps[k].descaddr;
            if (!w_in_ram(w, a, 8))
                continue;
            uint64_t want = w_model_u64(a), core = w_core_u64(w, a);
            if (fresh.desc_write && a == fresh.descaddr)
                want = fresh.desc_new;
            if (core != want)
                w_fail(w, "translate %s 0x%llx: descriptor at 0x%llx is 0x%llx in the core, expected "
                          "0x%llx (model before 0x%llx)%s",
                       w_acc_name[acc], (unsigned long long)va, (unsigned long long)a,
                       (unsigned long long)core, (unsigned long long)want,
                       (unsigned long long)w_model_u64(a),
                       fresh.af_unpredictable ? " (AFUPDATE: arm64.h says a faulting access "
                                                "updates no descriptor)" : "");
        }
        if (fresh.desc_write)
            w_model_write_u64(w, fresh.descaddr, fresh.desc_new);
        if (dm == 1)
            ref_a64_tlb_record(&w->tlb, &w->regs, acc, &fresh, false);
    } else {
        if (!ref_a64_tlb_hit_legal(&w->tlb, &w->regs, va, acc, &got))
            w_fail(w, "translate %s 0x%llx hit the TLB giving %s level %d pa=0x%llx, which no "
                      "remembered entry justifies (fresh walk: %s level %d pa=0x%llx)",
                   w_acc_name[acc], (unsigned long long)va, ref_a64_fault_name(fault), got.level,
                   (unsigned long long)pa, ref_a64_fault_name(fresh.fault), fresh.level,
                   (unsigned long long)fresh.pa);
        for (int k = 0; k < fresh.n_steps; k++) {
            uint64_t a = fresh.steps[k].descaddr;
            if (w_in_ram(w, a, 8) && w_core_u64(w, a) != w_model_u64(a))
                w_fail(w, "translate of 0x%llx counted a TLB hit but changed the descriptor at 0x%llx",
                       (unsigned long long)va, (unsigned long long)a);
        }
    }

    /* The fault record (mmu.h, arm64.h). */
    if (fault == REF_A64_NO_FAULT) {
        if (f->kind != VM_FAULT_NONE)
            w_fail(w, "a successful translate left fault kind %d", (int)f->kind);
        return;
    }
    uint32_t ec = ref_a64_exception_class(w->regs.el, acc);
    uint32_t iss = ref_a64_syndrome(fault, f->level, acc);
    if (f->kind != w_kind_of(fault) || f->cause != ec || f->syndrome != iss || f->va != va ||
        (int)f->access != acc || f->level < 0 || f->level > 3)
        w_fail(w, "fault record: kind %d EC 0x%x ISS 0x%x va 0x%llx access %d level %d; expected "
                  "kind %d EC 0x%x ISS 0x%x va 0x%llx access %d",
               (int)f->kind, f->cause, f->syndrome, (unsigned long long)f->va, (int)f->access,
               f->level, (int)w_kind_of(fault), ec, iss, (unsigned long long)va, acc);
    /* Faults found before any descriptor is read carry no descriptor (arm64.h). */
    if (walked && fresh.n_steps == 0 && (f->pte_addr != 0 || f->pte != 0))
        w_fail(w, "fault record before any descriptor read names desc@0x%llx=0x%llx (want 0, 0)",
               (unsigned long long)f->pte_addr, (unsigned long long)f->pte);
    if (walked && fresh.level >= 0)
        for (int k = 0; k < fresh.n_steps; k++)
            if (fresh.steps[k].level == fresh.level &&
                (f->pte_addr != fresh.steps[k].descaddr || f->pte != fresh.steps[k].desc))
                w_fail(w, "fault record of a walk: desc@0x%llx=0x%llx; the walk stopped at "
                          "desc@0x%llx=0x%llx (%s)",
                       (unsigned long long)f->pte_addr, (unsigned long long)f->pte,
                       (unsigned long long)fresh.steps[k].descaddr,
                       (unsigned long long)fresh.steps[k].desc, fresh.why ? fresh.why : "");
}

/* pa is an answer to translating va now: the fresh walk's (w->walk, just
 * made by w_check_translate_ref) or a remembered entry's. */
static bool w_pa_allowed(world_t *w, uint64_t va, int acc, uint64_t pa)
{
    if (w->walk.fault == REF_A64_NO_FAULT && pa == w->walk.pa)
        return true;
    ref_a64_answer_t got = { REF_A64_NO_FAULT, w->walk.level, pa };
    return ref_a64_tlb_hit_legal(&w->tlb, &w->regs, va, acc, &got);
}

/* Is the 8-byte word at pa an entry the last fresh walk (w->walk) read? */
static bool w_walk_reads(const world_t *w, uint64_t pa)
{
    for (int k = 0; k < w->walk.n_steps; k++)
        if ((w->walk.steps[k].descaddr & ~UINT64_C(7)) == pa)
            return true;
    return false;
}

#include "world_access.h" /* w_check_access_agrees, w_check_translate */

/* ---- ops: TLB maintenance ------------------------------------------------------ */

static void w_op_tlbi(world_t *w, fuzz_input_t *in)
{
    uint8_t osel = fin_u8(in), asel = fin_u8(in);
    vm_gva_t va = w_va(w, in);
    int op = osel % 7 == 6 ? 6 + (osel >> 3) : osel % 6;  /* >= 6: unknown, refused */
    uint64_t asid = (asel & 8) ? ref_a64_current_asid(&w->regs) : w_asids[asel & 7];
    uint64_t xt = asid << 48 | ((va >> 12) & ((UINT64_C(1) << 44) - 1));
    if ((asel & 0xf0) == 0xf0)
        xt = fin_u64(in);
    w_log_entry_t *e = w_log(w, "tlbi", "op %llu xt=0x%llx (va 0x%llx asid 0x%llx)",
                             (unsigned long long)op, xt, va, asid);
    if (vmc_on()) {
        static const char *const names[REF_A64_TLBI_COUNT] = {"vmalle1", "aside1", "vae1",
                                                              "vaae1", "vale1", "vaale1"};
        if (op >= REF_A64_TLBI_COUNT)
            vmc_line("# tlbi op %d (unknown): refused, nothing invalidated", op);
        else if (!w->arm_mode)
            vmc_line("# tlbi %s in Bare mode: the TLBs are empty (the mode switch flushed them)",
                     names[op]);
        else
            vmc_line("tlbi %s xt 0x%llx", names[op], (unsigned long long)xt);
    }
    vm_err_t err = vm_mmu_arm64_tlbi(w->mmu, (vm_arm64_tlbi_t)op, xt);
    e->result = vm_strerror(err);
    bool known = op < REF_A64_TLBI_COUNT;
    if (err != (known ? VM_OK : VM_ERR_INVALID_ARGUMENT))
        w_fail(w, "vm_mmu_arm64_tlbi(%d, 0x%llx) returned %s, expected %s", op,
               (unsigned long long)xt, vm_strerror(err),
               known ? "VM_OK" : "VM_ERR_INVALID_ARGUMENT (unknown op: nothing invalidated)");
    if (known)
        ref_a64_tlb_tlbi(&w->tlb, &w->regs, op, xt);
    w_check_no_translation(w, "TLBI");
}

static void w_op_flush(world_t *w, fuzz_input_t *in)
{
    uint8_t k = fin_u8(in), asel = fin_u8(in);
    vm_gva_t va = w_va(w, in);
    uint16_t asid = (asel & 8) ? ref_a64_current_asid(&w->regs) : w_asids[asel & 7];
    switch (k % 5) {
    case 0:
        w_log(w, "flush-all", "", 0, 0, 0, 0);
        if (vmc_on())
            vmc_line("flush all");
        vm_mmu_flush_tlb(w->mmu);
        ref_a64_tlb_flush_all(&w->tlb);
        break;
    case 1:
        w_log(w, "flush-asid", "%llu", asid, 0, 0, 0);
        if (vmc_on())
            vmc_line("flush asid %u", asid);
        vm_mmu_flush_tlb_asid(w->mmu, asid);
        ref_a64_tlb_flush_asid(&w->tlb, asid);
        break;
    case 2:
        w_log(w, "flush-page", "va=0x%llx", va, 0, 0, 0);
        if (vmc_on())
            vmc_line("flush page 0x%llx", (unsigned long long)va);
        vm_mmu_flush_tlb_page(w->mmu, va);
        ref_a64_tlb_flush_page(&w->tlb, va);
        break;
    case 3: {
        bool glob = (k >> 3) & 1;
        w_log(w, "flush-page-asid", "va=0x%llx asid=%llu global=%llu", va, asid, glob, 0);
        /* The generic (RISC-V) part of vmmem-conform, which reads the
         * lines in Bare mode, has no such flush; the TLBs are empty there. */
        if (vmc_on() && !w->arm_mode)
            vmc_line("# flush page 0x%llx asid %u%s in Bare mode: the TLBs are empty "
                     "(the mode switch flushed them)",
                     (unsigned long long)va, asid, glob ? " global" : "");
        else if (vmc_on())
            vmc_line("flush page 0x%llx asid %u%s", (unsigned long long)va, asid,
                     glob ? " global" : "");
        vm_mmu_flush_tlb_page_asid(w->mmu, va, asid, glob);
        ref_a64_tlb_flush_page_asid(&w->tlb, va, asid, glob);
        break;
    }
    default:
        w_log(w, "flush-nonglobal", "", 0, 0, 0, 0);
        if (vmc_on() && !w->arm_mode)
            vmc_line("# flush nonglobal in Bare mode: the TLBs are empty "
                     "(the mode switch flushed them)");
        else if (vmc_on())
            vmc_line("flush nonglobal");
        vm_mmu_flush_tlb_nonglobal(w->mmu);
        ref_a64_tlb_flush_nonglobal(&w->tlb);
        break;
    }
    w_check_no_translation(w, "a TLB flush");
}

/* TLB resize (clears entries and counters) or a paging-mode switch (flushes). */
static void w_op_machine(world_t *w, fuzz_input_t *in)
{
    uint8_t b = fin_u8(in);
    if (b & 1) {
        bool arm = (b >> 1) & 1;
        w_log(w, "paging-mode", arm ? "ARM64" : "Bare", 0, 0, 0, 0);
        if (vmc_on())
            vmc_line("mode %s", arm ? "arm64" : "bare");
        vm_mmu_set_paging_mode(w->mmu, arm ? VM_PAGING_ARM64 : VM_PAGING_BARE);
        w->arm_mode = arm;
        ref_a64_tlb_flush_all(&w->tlb);  /* mmu.h: "flushes both TLBs" */
        vm_arm64_regs_t got;
        vm_mmu_arm64_regs(w->mmu, &got);
        if (!w_regs_equal(&got, &w->regs))
            w_fail(w, "vm_mmu_set_paging_mode changed the Arm registers (they keep their values)");
        w_check_no_translation(w, "vm_mmu_set_paging_mode");
        return;
    }
    size_t it = 1 + ((b >> 1) & 7), dt = 1 + ((b >> 4) & 7);
    if ((b >> 7) & 1) {
        it = 64;
        dt = 128;
    }
    w_log_entry_t *e = w_log(w, "resize-tlbs", "itlb=%llu dtlb=%llu", it, dt, 0, 0);
    if (vmc_on())
        vmc_line("tlb %zu %zu", it, dt);
    vm_err_t err = vm_mmu_resize_tlbs(w->mmu, it, dt);
    e->result = vm_strerror(err);
    uint64_t h, m;
    vm_mmu_tlb_stats(w->mmu, &h, &m);
    if (err != VM_OK || h != 0 || m != 0)
        w_fail(w, "vm_mmu_resize_tlbs(%zu, %zu): %s, stats %llu/%llu", it, dt, vm_strerror(err),
               (unsigned long long)h, (unsigned long long)m);
    w->hits = w->misses = 0;
    ref_a64_tlb_flush_all(&w->tlb);
}

/* ---- the op dispatcher ------------------------------------------------------- */

void a64w_op(uint8_t opcode, fuzz_input_t *in)
{
    world_t *w = &w_world;
    switch (opcode % A64W_N_OPS) {
    case 0: case 1: w_op_map(w, in); break;
    case 2: case 3: w_op_desc(w, in); break;
    case 4: w_op_tcr(w, in); break;
    case 5: w_op_ttbr(w, in); break;
    case 6: w_op_state(w, in); break;
    case 7: case 8: case 9: {
        vm_gva_t va = w_va(w, in);
        w_check_translate(w, va, opcode % A64W_N_OPS - 7);
        break;
    }
    case 10: {              /* the same access twice: normally a miss, then a hit */
        vm_gva_t va = w_va(w, in);
        int acc = fin_u8(in) % 3;
        w_check_translate(w, va, acc);
        w_check_translate(w, va, acc);
        break;
    }
    case 11: {              /* an access, then the same VA with another tag (one TLB entry) */
        vm_gva_t va = w_va(w, in);
        uint8_t tag = fin_u8(in), acc = fin_u8(in) % 3;
        w_check_translate(w, va, acc);
        w_check_translate(w, (va & ~(UINT64_C(0xff) << 56)) | (uint64_t)tag << 56, acc);
        break;
    }
    case 12: w_op_tlbi(w, in); break;
    case 13: w_op_flush(w, in); break;
    case 14: w_op_machine(w, in); break;
    default: {              /* translate with the other EL, then back */
        vm_gva_t va = w_va(w, in);
        int acc = fin_u8(in) % 3;
        ref_a64_regs_t next = w->regs;
        next.el = !next.el;
        w_log(w, "el-flip", "el=%llu", (unsigned long long)next.el, 0, 0, 0);
        w_write_regs(w, &next);
        w_check_translate(w, va, acc);
        break;
    }
    }
}

/* ---- setup and teardown ----------------------------------------------------------- */

static vm_mmu_t *w_machine(unsigned k)
{
    if (!w_machines[k].mmu) {
        w_machines[k].pm = vm_physmem_new(w_ram_sizes[k], false);
        if (!w_machines[k].pm)
            return NULL;
        if (vm_physmem_map_mmio(w_machines[k].pm, W_MMIO_BASE, W_MMIO_SIZE, &w_dev_ops, NULL) != VM_OK)
            return NULL;
        w_machines[k].mmu = vm_mmu_new_shared(w_machines[k].pm);
    }
    return w_machines[k].mmu;
}

/*
 * The one state every input starts from and every input leaves behind:
 * Bare mode, all Arm registers zero, TLBs flushed. At the end of an input
 * (not the start of the next) so the setters' state-dependent branches
 * belong to the input that left the state (AFL++ stability, as
 * fuzz_mmu_common.h explains).
 */
static vm_err_t w_machine_reset(vm_mmu_t *mmu)
{
    vm_arm64_regs_t zero;
    memset(&zero, 0, sizeof zero);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_BARE);
    vm_err_t err = vm_mmu_set_arm64_regs(mmu, &zero);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_BARE);
    return err;
}

void a64w_init(void)
{
    w_trace = getenv("VMMEM_FUZZ_TRACE") != NULL;
    for (unsigned k = 0; k < 3; k++) {
        vm_mmu_t *mmu = w_machine(k);
        vm_err_t err = mmu ? w_machine_reset(mmu) : VM_OK;
        if (err != VM_OK) {
            fprintf(stderr, "fuzz_translate_arm64: vm_mmu_set_arm64_regs(all zero) failed: %s\n",
                    vm_strerror(err));
            __builtin_trap();
        }
    }
}

/*
 * Config header (A64W_CONFIG_BYTES):
 *   [0] RAM size (5:0 % 3); bits 6 / 7 let range 0 / 1 have the 64KB
 *       granule (its new tables are the costliest part of an input: the
 *       builder zeroes 64 KiB each), otherwise TGn 0b10 / 0b01 mean 4KB
 *   [1] ITLB 2:0 and DTLB 5:3 sizes - 1; 7:6 == 3: the default 64/128
 *   [2] TG0 1:0 (0/3 4KB, 1 16KB, 2 64KB), TG1 3:2 (same), EPD0 4, EPD1 5, AS 6, A1 7
 *   [3] T0SZ = 16 + [3] % 24      [4] T1SZ = 16 + [4] % 24
 *   [5] TBI0 0, TBI1 1, HA 2, HD 3, HPD0 4, HPD1 5, WXN 6, PAN 7
 *   [6] IPS 2:0, PARange 5:3 (0 32 36 40 42 44 48 48), EL 6, stage 1 OFF 7
 *   [7] ASID of TTBR0 3:0, of TTBR1 7:4 (indexes into w_asids, 8+ = the index's value)
 */
bool a64w_setup(fuzz_input_t *in)
{
    world_t *w = &w_world;
    uint8_t c[A64W_CONFIG_BYTES];
    if (in->size < A64W_CONFIG_BYTES)
        return false;
    for (unsigned i = 0; i < A64W_CONFIG_BYTES; i++)
        c[i] = fin_u8(in);

    unsigned k = (c[0] & 0x3f) % 3;
    w->mmu = w_machine(k);
    if (!w->mmu)
        return false;
    vmc_start("fuzz_translate_arm64");
    if (vmc_on()) {   /* the machine as the runner builds it: RAM at 0, the device */
        vmc_line("mem %lluK", (unsigned long long)(w_ram_sizes[k] >> 10));
        vmc_line("expect mmio 0x%llx 0x%llx -> ok", (unsigned long long)W_MMIO_BASE,
                 (unsigned long long)W_MMIO_SIZE);
    }
    w->core_ram = vm_mmu_physmem(w->mmu)->ram;
    w->ram_size = w_ram_sizes[k];
    w->table_lo = w->ram_size / 2;
    w->root[0] = w->table_lo;
    w->root[1] = w->table_lo + W_TABLE_SLOT;
    w->n_ops = 0;
    w->have_walk = false;
    w->m.ram = w_mram;
    w->m.size = w->ram_size;
    w->m.mmio[0] = (struct ref_mmio){ W_MMIO_BASE, W_MMIO_SIZE };
    w->m.n_mmio = 1;
    w_dev_accesses = 0;
    ref_a64_tlb_reset(&w->tlb);
    vm_ptbuilder_init(&w->b, w->table_lo + 2 * W_TABLE_SLOT);
    /* The first page of each root is always compared at the end; the rest
     * of RAM where a descriptor was read or written (w_touch). */
    w_touch(w, w->root[0], W_PAGE);
    w_touch(w, w->root[1], W_PAGE);

    /* The fault record in a known state (AFL++ stability: the previous
     * input's last fault must not decide a branch here): in the canonical
     * Bare state, one fault (nothing at 2^62), then one success. */
    {
        uint64_t v;
        vm_gpa_t pa;
        if (vm_mmu_read(w->mmu, UINT64_C(1) << 62, 8, &v) == VM_OK ||
            vm_mmu_translate(w->mmu, 0, VM_ACCESS_READ, &pa) != VM_OK)
            w_fail(w, "Bare-mode reset probe: an unbacked read succeeded or the identity failed");
    }
    /* Small TLBs (1..8 entries) in 3 of 4 inputs: evictions are frequent
     * and the per-input resize cheap; the default 64/128 in the rest. */
    size_t it = 64, dt = 128;
    if ((c[1] >> 6) != 3) {
        it = 1 + (c[1] & 7);
        dt = 1 + ((c[1] >> 3) & 7);
    }
    if (vmc_on())
        vmc_line("tlb %zu %zu", it, dt);
    if (vm_mmu_resize_tlbs(w->mmu, it, dt) != VM_OK)
        w_fail(w, "vm_mmu_resize_tlbs(%zu, %zu) failed", it, dt);

    static const uint64_t tg0[4] = { 0, 2, 1, 0 }, tg1[4] = { 2, 1, 3, 2 }; /* 4K 16K 64K 4K */
    static const int pa_sizes[8] = { 32, 32, 36, 40, 42, 44, 48, 48 };
    ref_a64_regs_t r;
    memset(&r, 0, sizeof r);
    unsigned g0 = c[2] & 3, g1 = (c[2] >> 2) & 3;
    if (g0 == 2 && !(c[0] & 0x40))
        g0 = 0;
    if (g1 == 2 && !(c[0] & 0x80))
        g1 = 0;
    r.tcr = (uint64_t)(16 + c[3] % 24) | tg0[g0] << 14 | (uint64_t)(16 + c[4] % 24) << 16 |
            tg1[g1] << 30 | (uint64_t)((c[2] >> 4) & 1) << 7 |
            (uint64_t)((c[2] >> 5) & 1) << 23 | (uint64_t)((c[2] >> 6) & 1) << 36 |
            (uint64_t)((c[2] >> 7) & 1) << 22 | (uint64_t)(c[6] & 7) << 32 |
            (uint64_t)(c[5] & 0x3f) << 37;
    r.sctlr = ((c[6] >> 7) ? 0 : 1) | (uint64_t)((c[5] >> 6) & 1) << 19;
    r.pan = c[5] >> 7;
    r.el = (c[6] >> 6) & 1;
    r.pa_bits = pa_sizes[(c[6] >> 3) & 7];
    uint64_t a0 = (c[7] & 8) ? c[7] & 15 : w_asids[c[7] & 7];
    uint64_t a1 = (c[7] & 0x80) ? c[7] >> 4 : w_asids[(c[7] >> 4) & 7];
    r.ttbr0 = a0 << 48 | w->root[0];
    r.ttbr1 = a1 << 48 | w->root[1];
    memset(&w->regs, 0, sizeof w->regs);

    /* From the canonical state (Bare, registers zero): the config, then ARM64. */
    vm_mmu_tlb_stats(w->mmu, &w->hits, &w->misses);
    w->arm_mode = false;
    w_write_regs(w, &r);
    if (vmc_on())
        vmc_line("mode arm64");
    vm_mmu_set_paging_mode(w->mmu, VM_PAGING_ARM64);
    w->arm_mode = true;
    ref_a64_tlb_flush_all(&w->tlb);
    vm_mmu_tlb_stats(w->mmu, &w->hits, &w->misses);
    w_pool_init(w);
    if (w_trace > 0) /* the decoded header: part of the golden decode traces */
        fprintf(stderr, "config: ram=0x%llx tlbs=%zu/%zu ttbr0=0x%llx ttbr1=0x%llx tcr=0x%llx "
                        "sctlr=0x%llx el=%d pan=%d pa_bits=%d\n",
                (unsigned long long)w->ram_size, it, dt, (unsigned long long)r.ttbr0,
                (unsigned long long)r.ttbr1, (unsigned long long)r.tcr,
                (unsigned long long)r.sctlr, r.el, r.pan, r.pa_bits);
    return true;
}

FUZZ_NO_COVERAGE void a64w_teardown(void)
{
    world_t *w = &w_world;
    vm_physmem_t *pm = vm_mmu_physmem(w->mmu);
    if (w_trace < 0)
        w_trace = getenv("VMMEM_FUZZ_TRACE") != NULL;
    if (w_trace) {
        w_print_regs(w, stderr);
        w_print_log(w, stderr);
    }
    w_log(w, "end", "final RAM compare", 0, 0, 0, 0);
    for (unsigned i = 0; i < W_MAX_PAGES / 8; i++) {
        uint8_t pages = w->touched[i];
        for (unsigned bit = 0; pages && bit < 8; bit++) {
            if (!((pages >> bit) & 1))
                continue;
            uint64_t pa = (uint64_t)(i * 8 + bit) * W_PAGE;
            w_compare_range(w, pa, W_PAGE, "final RAM compare");
            memset(pm->ram + pa, 0, W_PAGE);
            memset(w_mram + pa, 0, W_PAGE);
        }
        w->touched[i] = 0;
    }
    vmc_finish();   /* the runner's own end-of-file compare replaces the one above */
    vm_err_t err = w_machine_reset(w->mmu);
    if (err != VM_OK)
        w_fail(w, "the end-of-input reset: vm_mmu_set_arm64_regs(all zero) failed: %s",
               vm_strerror(err));
    w->mmu = NULL;
}
