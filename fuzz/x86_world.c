/*
 * x86_world.c - the world of fuzz_translate_x86: a core vm_mmu_t in
 * VM_PAGING_X86_64 and the reference x86-64 model (conformance/ref/
 * ref_x86_64.c, ref_tlb_x86_64.c) driven by the same decoded ops, with every
 * answer checked.
 *
 * How it works (the ideas of fuzz_mmu_common.h, in an x86 world):
 *  - Machines: one vm_physmem_t + vm_mmu_t per RAM size (256 KiB, 1 MiB,
 *    4 MiB), with an MMIO device that must never be touched, created once;
 *    each input starts from one canonical state (Bare mode, every x86
 *    register zero, TLBs flushed) and puts the machine back into it at its
 *    end (AFL++ stability), zeroing exactly the RAM pages it touched. Model
 *    RAM is a static array mirrored by every physical write.
 *  - Config header (X86W_CONFIG_BYTES): RAM size, 4- or 5-level, paging on
 *    or off, CR4.PGE/PCIDE/SMEP/SMAP/PKE, CR0.WP, EFER.NXE, RFLAGS.AC, CPL,
 *    PKRU and MAXPHYADDR from value pools, the PCID, TLB sizes. The two roots
 *    sit at the start of the table area (the upper half of RAM), the builder
 *    allocates after them.
 *  - Ops (opcode % 16): builder maps (vm_ptbuilder_map_x86_64, 4K/2M/1G, 4
 *    or 5 levels, every flag it takes); raw entry writes aimed at the slot a
 *    walk of a pool VA reads at a chosen level (tables, leaves at every
 *    level, one bit flipped, reserved-bit patterns - bits 51:MAXPHYADDR,
 *    PS in a PML4E/PML5E, 29:13 / 20:13 of large pages, XD -, ignored-bit
 *    patterns, not present with bits left over, pointers beyond RAM / into
 *    MMIO, fully random); register writes that change one register at a
 *    time, one field at a time (so every bit can differ on its own): CR0,
 *    CR4, MOV to CR3 (PCID, bit 63) and CR3 through the register block,
 *    EFER, RFLAGS, CPL, PKRU, MAXPHYADDR, including values the contract
 *    refuses; translations (read/write/exec, twice, after a CPL flip);
 *    INVLPG, INVPCID (types 0-3 and refused operands), the generic flushes;
 *    TLB resizes and paging-mode switches.
 *  - The oracle, after each translation: the TLB counters say whether the
 *    core walked (a miss) or hit. A walk must give exactly the fresh
 *    reference answer (outcome, PA, error code) and leave exactly the fresh
 *    walk's A/D update in memory (none on a fault); its translation is then
 *    remembered. A hit must be justified by a remembered entry re-checked
 *    under the current registers (ref_x86_tlb_hit_legal) and write nothing.
 *    Without paging (CR0.PG = 0, or Bare mode) the answer is the identity
 *    and nothing is counted; a non-canonical VA is #GP whatever the TLB
 *    holds, counted as one miss (mmu.h: checks made before the first table
 *    read are misses). The fault record is checked in full:
 *    kind, vector, error code, access, VA, and after a walk the level,
 *    entry address and value where it stopped. A page fault then drops the
 *    page's entries of the current PCID from the oracle (SDM 4.10.4.1).
 *    Register writes: the contract decides the error (ref_x86_regs_check),
 *    the registers read back, and the oracle drops what 4.10.4.1 says.
 *    Builder maps: the error (ptbuilder.h: nothing changed on error), the
 *    entry that maps the page, and the path copied into the model. The MMIO
 *    device must never be touched. At the end every touched RAM page is
 *    compared with the model.
 *  - A mismatch prints the decoded scenario, the registers, the fresh walk
 *    level by level, the remembered entries covering the VA and the core's
 *    fault record, then __builtin_trap().
 *  - The .vmc scenario (vmc_emit.h; only under `_replay --vmc`): each op
 *    writes the lines of conform_x86_64.c that perform it, with the
 *    answers of this oracle computed before the core runs: register lines
 *    (w_vmc_regs), w64 for raw entries, the builder's tables and entries
 *    as this oracle copies them (ptbuilder.h has its own unit tests; there
 *    is no x86 builder line), `expect ACCESS VA -> ...` listing the fresh
 *    answer and every answer a remembered entry gives (w_vmc_translate),
 *    invlpg/invpcid/flush/mode/tlb lines. On the core, the runner's
 *    reference drops no entry this oracle keeps, so the listed answers stay
 *    legal there. Two limits of the runner as it is (conform_x86_64.c):
 *    it takes "the core's answer equals the fresh walk's" for a walk, so a
 *    hit on an entry whose A is 0 in memory makes it set A where the core
 *    rightly did not (a false end-of-file RAM difference); and with
 *    --ref-only the reference's own #PF drops entries the core kept when it
 *    answered from a stale entry, so a later listed stale answer reads as
 *    illegal there. Neither shows in the committed corpus or in 400 random
 *    inputs, but of the 2005 inputs of a 60 s libFuzzer run 25 cases fail
 *    on the core for the first reason and 2003 with --ref-only for the
 *    second: conform_x86_64.c needs the walk-or-hit rule of the RISC-V part
 *    (the TLB counters) and, with --ref-only, to keep the entries when the
 *    line lists an answer other than a #PF, before ci/fuzz.sh --merge puts
 *    such inputs into corpus/fuzz_translate_x86/ (vmc_emit_<t> replays the
 *    corpus). No `expect tlb` lines: ci/vmc-shrink.py would keep such a
 *    line failing with every access before it removed.
 *
 * Rejected: reusing fuzz_mmu_common.h (its world is RISC-V's: satp, PTE
 * flags, Sv levels); predicting the builder's table allocation entry by
 * entry (the builder has its own unit tests; this target checks the walker
 * and copies the path the builder wrote, after checking the mapping entry
 * and that a refused map changed nothing); changing several registers in
 * one write (the SDM orders invalidations per instruction; one register
 * per write keeps the oracle exact); checking the core's TLB contents
 * (white box; the counters and memory tell whether it walked).
 */
#include "x86_world.h"

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
#define W_MMIO_SIZE UINT64_C(0x2000)
#define W_POOL 32
#define W_FIXED_POOL 16
#define W_LOG 192
#define W_ADDR_MASK UINT64_C(0x000ffffffffff000) /* entry bits 51:12 */

static const uint64_t w_ram_sizes[3] = { UINT64_C(256) << 10, UINT64_C(1) << 20, UINT64_C(4) << 20 };
static const uint16_t w_pcids[8] = { 0, 1, 2, 3, 5, 0x7ff, 0x800, 0xfff };
static const uint32_t w_pkrus[16] = { 0,          0xffffffff, 0x1,        0x2,        0x4,
                                      0x8,        0x400,      0x800,      0x55555555, 0xaaaaaaaa,
                                      0xc0000000, 0x3,        0xc,        0x30,       0x40000000,
                                      0x80000000 };
static const int w_maxphys[8] = { 0, 36, 39, 40, 46, 48, 52, 0 };

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
    ref_x86_regs_t regs;
    bool x86_mode;           /* the core is in VM_PAGING_X86_64 (else Bare) */
    ref_x86_tlb_t tlb;
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
    ref_x86_walk_t walk;
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

FUZZ_NO_COVERAGE static w_log_entry_t *w_log(world_t *w, const char *name, const char *fmt,
                                             unsigned long long a0, unsigned long long a1,
                                             unsigned long long a2, unsigned long long a3)
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
    const ref_x86_regs_t *r = &w->regs;
    fprintf(f, "registers: cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx rflags=0x%llx pkru=0x%x "
               "cpl=%d maxphyaddr=%d (pcid now %u, %d-level)%s\n",
            (unsigned long long)r->cr0, (unsigned long long)r->cr3, (unsigned long long)r->cr4,
            (unsigned long long)r->efer, (unsigned long long)r->rflags, r->pkru, r->cpl,
            ref_x86_maxphyaddr(r), ref_x86_current_pcid(r), ref_x86_levels(r),
            w->x86_mode ? "" : " [core in Bare mode]");
}

__attribute__((noreturn, format(printf, 2, 3)))
static void w_fail(world_t *w, const char *fmt, ...)
{
    FILE *f = stderr;
    va_list ap;
    fprintf(f, "\n==== vmmem fuzz_translate_x86: MISMATCH ====\n");
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
    fprintf(f, "\nconfig: ram=0x%llx roots 0x%llx 0x%llx builder from 0x%llx (now 0x%llx)\n",
            (unsigned long long)w->ram_size, (unsigned long long)w->root[0],
            (unsigned long long)w->root[1], (unsigned long long)w->b.start,
            (unsigned long long)w->b.next);
    w_print_regs(w, f);
    w_print_log(w, f);
    if (w->have_walk) {
        fprintf(f, "reference walk (fresh) of the failing access:\n");
        ref_x86_walk_print(&w->walk, &w->regs, w->walk_va, w->walk_acc, f);
        ref_x86_tlb_print_covering(&w->tlb, &w->regs, w->walk_va, f);
    }
    if (w->mmu) {
        const vm_fault_t *ft = vm_mmu_last_fault(w->mmu);
        fprintf(f, "core fault record: kind=%d va=0x%llx access=%d cause=%u error code=0x%x level=%d "
                   "entry@0x%llx=0x%016llx (%s)\n",
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
 * remembers: same side, page and size, physical page, and global only if
 * the remembered one is, else the same PCID? */
static bool w_entry_remembered(const void *ctx, const struct tlb_entry *e, bool exec_side)
{
    const world_t *w = ctx;
    return ref_x86_tlb_remembers(&w->tlb, exec_side, e->tag, e->shift, e->pa_base,
                                 e->asid_mask == 0, e->asid);
}

#include "world_memory.h" /* w_in_ram, w_phys_write, w_check_no_translation, ... */

/* ---- registers ----------------------------------------------------------- */

static void w_to_vm(const ref_x86_regs_t *r, vm_x86_regs_t *v)
{
    memset(v, 0, sizeof *v);
    v->cr0 = r->cr0;
    v->cr3 = r->cr3;
    v->cr4 = r->cr4;
    v->efer = r->efer;
    v->rflags = r->rflags;
    v->pkru = r->pkru;
    v->cpl = (uint8_t)r->cpl;
    v->maxphyaddr = (uint8_t)r->maxphyaddr;
}

static bool w_regs_equal(const vm_x86_regs_t *v, const ref_x86_regs_t *r)
{
    int m = v->maxphyaddr ? v->maxphyaddr : 52;
    return v->cr0 == r->cr0 && v->cr3 == r->cr3 && v->cr4 == r->cr4 && v->efer == r->efer &&
           v->rflags == r->rflags && v->pkru == r->pkru && v->cpl == r->cpl &&
           m == ref_x86_maxphyaddr(r);
}

static const char *w_verdict_name(int verdict)
{
    return verdict == 0                          ? "VM_OK"
           : verdict == REF_X86_REGS_UNSUPPORTED ? "VM_ERR_UNSUPPORTED"
           : verdict == REF_X86_REGS_INVALID     ? "VM_ERR_INVALID_ARGUMENT"
                                                 : "VM_ERR_INVALID_ARGUMENT or VM_ERR_UNSUPPORTED";
}

/* ---- the .vmc scenario (vmc_emit.h): register lines ---------------------- */

/* One register line of conform_x86_64.c: `NAME V`, or `NAME V -> rejected`. */
static void w_vmc_reg_line(const char *name, uint64_t v, bool rejected)
{
    vmc_line("%s 0x%llx%s", name, (unsigned long long)v, rejected ? " -> rejected" : "");
}

/*
 * A register write as .vmc register lines. conform_x86_64.c changes one
 * register per line: `cr3 V` is a MOV to CR3, every other line passes the
 * current values of the others to vm_mmu_set_x86_regs (CR3 as stored, so
 * no CR3 load). A MOV to CR3 is its own line. A block write that changes
 * CR3 (or sets bit 63) is a CR3 load with the same verdict and the same
 * invalidations (ref_x86_regs_check and ref_x86_tlb_write_regs see the
 * same operands), so it is written as `cr3 V` too. A block write of one
 * register is that register's line, refused or not; a block write that
 * changes nothing is written as the current CPL again (the same call). The
 * set-up writes several registers at once from the all-zero state: they
 * are written in an order whose every step the contract accepts (the
 * plain fields, EFER, CR4 without PCIDE, CR3, CR0, then CR4 with PCIDE,
 * which needs long mode: SDM 4.10.1 and x86_64.h). A refused write of
 * several registers has no line form (it changes nothing): a comment.
 */
static void w_vmc_regs(const ref_x86_regs_t *from, const ref_x86_regs_t *to, bool mov_cr3,
                       uint64_t cr3_operand, int verdict)
{
    if (!vmc_on())
        return;
    if (mov_cr3) {
        w_vmc_reg_line("cr3", cr3_operand, verdict != 0);
        return;
    }
    uint64_t pcide = VM_X86_CR4_PCIDE;
    struct { const char *name; uint64_t a, b; } f[9] = {
        {"maxphyaddr", (uint64_t)from->maxphyaddr, (uint64_t)to->maxphyaddr},
        {"cpl", (uint64_t)from->cpl, (uint64_t)to->cpl},
        {"rflags", from->rflags, to->rflags},
        {"pkru", from->pkru, to->pkru},
        {"efer", from->efer, to->efer},
        {"cr4", from->cr4, from->cr4},  /* the set-up's CR4 without PCIDE, below */
        {"cr3", from->cr3, to->cr3},
        {"cr0", from->cr0, to->cr0},
        {"cr4", from->cr4, to->cr4},
    };
    int changed = 0;
    for (int k = 0; k < 9; k++)
        changed += k != 5 && f[k].a != f[k].b;
    if (changed == 0) {
        w_vmc_reg_line("cpl", (uint64_t)from->cpl, verdict != 0);
        return;
    }
    if (verdict && changed > 1) {
        vmc_line("# a write of %d registers at once, refused by the contract: nothing changes", changed);
        return;
    }
    if (changed > 1)
        f[5].b = to->cr4 & ~pcide;
    ref_x86_regs_t step = *from;
    for (int k = 0; k < 9; k++) {
        uint64_t now = k == 8 ? step.cr4 : f[k].a;
        if (now == f[k].b)
            continue;
        ref_x86_regs_t next = step;
        switch (k) {
        case 0: next.maxphyaddr = (int)f[k].b; break;
        case 1: next.cpl = (int)f[k].b; break;
        case 2: next.rflags = f[k].b; break;
        case 3: next.pkru = (uint32_t)f[k].b; break;
        case 4: next.efer = f[k].b; break;
        case 5: case 8: next.cr4 = f[k].b; break;
        case 6: next.cr3 = f[k].b; break;
        default: next.cr0 = f[k].b; break;
        }
        if (!verdict && ref_x86_regs_check(&step, &next, k == 6 && (f[k].b >> 63)) != 0)
            vmc_line("# the next line's intermediate register state is refused by the contract");
        w_vmc_reg_line(f[k].name, f[k].b, verdict != 0);
        ref_x86_regs_normalise(&next);
        step = next;
    }
}

/*
 * One register write on the core: a MOV to CR3 (vm_mmu_x86_load_cr3 with
 * cr3_operand) or the register block `next` (vm_mmu_set_x86_regs). The
 * contract decides the answer (ref_x86_regs_check) and, when accepted, the
 * oracle drops what SDM 4.10.4.1 says the write invalidates. The registers
 * read back must be the new ones, or unchanged after a refusal.
 */
static void w_write_regs(world_t *w, const ref_x86_regs_t *next_in, bool mov_cr3,
                         uint64_t cr3_operand)
{
    ref_x86_regs_t next = *next_in;
    if (mov_cr3)
        next.cr3 = cr3_operand;
    bool bit63 = (next.cr3 >> 63) & 1;
    int verdict = ref_x86_regs_check(&w->regs, &next, bit63);
    w_vmc_regs(&w->regs, &next, mov_cr3, cr3_operand, verdict);
    vm_err_t err;
    if (mov_cr3) {
        err = vm_mmu_x86_load_cr3(w->mmu, cr3_operand);
    } else {
        vm_x86_regs_t want;
        w_to_vm(&next, &want);
        err = vm_mmu_set_x86_regs(w->mmu, &want);
    }
    bool err_ok = verdict == 0 ? err == VM_OK
                  : (err == VM_ERR_INVALID_ARGUMENT && (verdict & REF_X86_REGS_INVALID)) ||
                        (err == VM_ERR_UNSUPPORTED && (verdict & REF_X86_REGS_UNSUPPORTED));
    if (!err_ok)
        w_fail(w, "%s(cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx rflags=0x%llx pkru=0x%x cpl=%d "
                  "maxphyaddr=%d) returned %s; the contract (x86_64.h) says %s",
               mov_cr3 ? "vm_mmu_x86_load_cr3" : "vm_mmu_set_x86_regs", (unsigned long long)next.cr0,
               (unsigned long long)next.cr3, (unsigned long long)next.cr4,
               (unsigned long long)next.efer, (unsigned long long)next.rflags, next.pkru, next.cpl,
               next.maxphyaddr, vm_strerror(err), w_verdict_name(verdict));
    if (verdict == 0) {
        ref_x86_regs_t norm = next;
        ref_x86_regs_normalise(&norm);
        bool cr3_load = mov_cr3 || bit63 || norm.cr3 != w->regs.cr3;
        if (w->x86_mode)
            ref_x86_tlb_write_regs(&w->tlb, &w->regs, &norm, cr3_load, bit63);
        w->regs = norm;
    }
    vm_x86_regs_t got;
    vm_mmu_x86_regs(w->mmu, &got);
    if (!w_regs_equal(&got, &w->regs))
        w_fail(w, "after the register write (%s) the registers read back cr0=0x%llx cr3=0x%llx "
                  "cr4=0x%llx efer=0x%llx rflags=0x%llx pkru=0x%x cpl=%u maxphyaddr=%u",
               verdict ? "refused: nothing may change" : "accepted", (unsigned long long)got.cr0,
               (unsigned long long)got.cr3, (unsigned long long)got.cr4,
               (unsigned long long)got.efer, (unsigned long long)got.rflags, got.pkru, got.cpl,
               got.maxphyaddr);
    w_check_no_translation(w, "a register write");
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
    w->n_pool = 0;
    w->pool_next = 0;
    /* Canonical edges of 4-level (bit 47) and 5-level (bit 56) paging and
     * their non-canonical neighbours (SDM 4.5, 3.3.7.1). */
    w_pool_add(w, 0x1000);
    w_pool_add(w, UINT64_C(0x00007ffffffff000));  /* top page of the 4-level low half */
    w_pool_add(w, UINT64_C(0xffff800000000000));  /* bottom of the 4-level high half */
    w_pool_add(w, UINT64_C(0xfffffffffffff000));  /* top page of the address space */
    w_pool_add(w, UINT64_C(0x0000800000000000));  /* 4-level: non-canonical; 5-level: fine */
    w_pool_add(w, UINT64_C(0x00fffffffffff000));  /* top page of the 5-level low half */
    w_pool_add(w, UINT64_C(0xff00000000000000));  /* bottom of the 5-level high half */
    w_pool_add(w, UINT64_C(0x0100000000000000));  /* 5-level: non-canonical */
    w_pool_add(w, 0);
    w_pool_add(w, 0x200000);                      /* PDE 1: a 2 MiB page */
    w_pool_add(w, 0x40000000);                    /* PDPTE 1: a 1 GiB page */
    w_pool_add(w, UINT64_C(0x8000000000));        /* PML4E 1 */
    w_pool_add(w, UINT64_C(0x1000000000000));     /* PML5E 1 */
    w_pool_add(w, 0x2000);
    w_pool_add(w, W_MMIO_BASE);                   /* paging off: the device as data */
    w_pool_add(w, w->table_lo);                   /* paging off: the tables as data */
}

/* A VA operand: a pool entry plus a tweak (2 bytes). */
static vm_gva_t w_va(world_t *w, fuzz_input_t *in)
{
    uint8_t i = fin_u8(in), t = fin_u8(in);
    vm_gva_t va = w->pool[i % w->n_pool];
    switch (t % 32) {
    case 11: return va ^ (UINT64_C(1) << (fin_u8(in) % 64)); /* any one bit: each can differ alone */
    case 12: return va + 1;
    case 13: return va + 0xff8;
    case 14: return va + 0x1000;
    case 15: return va - 0x1000;
    case 16: return va + 0x1ff000;                   /* last 4K of a 2 MiB page */
    case 17: return va + 0x200000;
    case 18: return va + 0x3ffff000;                 /* last 4K of a 1 GiB page */
    case 19: return va + 0x40000000;
    case 20: return va + (UINT64_C(1) << 39);        /* next PML4E */
    case 21: return va + (UINT64_C(1) << 48);        /* next PML5E */
    case 22: return va ^ (UINT64_C(1) << 47);        /* flips 4-level canonicality */
    case 23: return va ^ (UINT64_C(1) << 56);        /* flips 5-level canonicality */
    case 24: return va ^ (UINT64_C(1) << 63);
    case 25: return va + (UINT64_C(1) << ((t >> 5) % 4 * 9 + 12)); /* next entry at some level */
    case 26: case 27: case 28: case 29: case 30: case 31:
        return va + (uint64_t)(t >> 5) * 8;
    default: return va;
    }
}

/* ---- physical addresses ------------------------------------------------------ */

/* A page address aligned to `align`: data pages, tables (aliasing), MMIO,
 * just beyond RAM, far beyond, above common MAXPHYADDRs. */
static uint64_t w_pick_pa(world_t *w, uint8_t sel, uint64_t align)
{
    uint64_t pa;
    switch (sel % 12) {
    case 6: pa = w->table_lo + (uint64_t)(sel >> 4) * W_PAGE; break;
    case 7: pa = W_MMIO_BASE; break;
    case 8: pa = w->ram_size; break;
    case 9: pa = UINT64_C(1) << 32; break;
    case 10: pa = UINT64_C(1) << (36 + (sel >> 4) % 16); break;  /* bits 36..51 */
    case 11: pa = 0; break;
    default: pa = (uint64_t)(sel >> 3) * W_PAGE % w->table_lo; break;
    }
    return pa & ~(align - 1);
}

/* A table address: builder tables, the roots, data, beyond RAM, MMIO. */
static uint64_t w_pick_table(world_t *w, uint8_t sel)
{
    uint64_t area = w->ram_size - w->table_lo;
    switch (sel % 8) {
    case 0: case 1: case 2:
        return w->table_lo + (uint64_t)(sel >> 3) * W_PAGE % area;
    case 3: return w->root[(sel >> 3) & 1];
    case 4: return w_pick_pa(w, sel >> 3, W_PAGE);
    case 5: return w->ram_size + (uint64_t)(sel >> 3) * W_PAGE;
    case 6: return W_MMIO_BASE;
    default: return UINT64_C(1) << (36 + (sel >> 3) % 16);
    }
}

/* ---- walking the model's tables (to aim raw writes) --------------------- */

static unsigned w_index(uint64_t va, int level)
{
    return (unsigned)(va >> (12 + 9 * (level - 1))) & 0x1ff;
}

/*
 * The slot a walk of va under `root` reads at `level` (levels deep),
 * following present entries that reference tables in the model memory;
 * where the path breaks earlier, the slot where it breaks.
 */
static uint64_t w_slot(world_t *w, uint64_t root, uint64_t va, int levels, int level)
{
    uint64_t table = root;
    for (int l = levels;; l--) {
        uint64_t slot = table + w_index(va, l) * 8;
        if (l <= level)
            return slot;
        uint64_t e = w_model_u64(slot);
        bool leaf = (l == 2 || l == 3) && ((e >> 7) & 1);
        uint64_t next = e & W_ADDR_MASK;
        if (!(e & 1) || leaf || !w_in_ram(w, next, W_PAGE))
            return slot;
        table = next;
    }
}

/* ---- op: builder map ---------------------------------------------------------- */

/* The flags vm_ptbuilder_map_x86_64 takes (ptbuilder.h), from two bytes. */
static uint64_t w_map_flags(uint8_t f, uint8_t k, bool large)
{
    uint64_t flags = 0;
    if ((f & 3) != 0)
        flags |= VM_X86_PTE_RW;             /* RW in 3 of 4 */
    if ((f & 0xc) != 0)
        flags |= VM_X86_PTE_US;             /* US in 3 of 4 */
    if (f & 0x10)
        flags |= VM_X86_PTE_A | ((k & 0x10) ? VM_X86_PTE_D : 0);
    if (f & 0x20)
        flags |= VM_X86_PTE_G;
    if (f & 0x40)
        flags |= VM_X86_PTE_XD;
    if (f & 0x80)
        flags |= (uint64_t)(k & 0xf) << VM_X86_PTE_PKEY_SHIFT;
    if (k & 0x20)
        flags |= VM_X86_PTE_PWT | VM_X86_PTE_PCD | (large ? VM_X86_PTE_PAT_LARGE : VM_X86_PTE_PS);
    return flags;
}

static void w_op_map(world_t *w, fuzz_input_t *in)
{
    vm_gva_t va0 = w_va(w, in);
    uint8_t psel = fin_u8(in), ssel = fin_u8(in), f = fin_u8(in), k = fin_u8(in);
    uint64_t page_size = ssel % 4 == 2 ? VM_PAGE_2M : ssel % 4 == 3 ? VM_PAGE_1G : VM_PAGE_4K;
    bool la57 = ref_x86_levels(&w->regs) == 5;
    if ((ssel & 0x70) == 0x70)
        la57 = !la57;                        /* a tree of the other depth */
    uint64_t root = w->root[(ssel >> 2) & 1];
    vm_gva_t va = va0 & ~(page_size - 1);
    uint64_t pa = w_pick_pa(w, psel, page_size);
    uint64_t flags = w_map_flags(f, k, page_size != VM_PAGE_4K);
    w_log_entry_t *e = w_log(w, la57 ? "map5" : "map4", "va=0x%llx pa=0x%llx size=0x%llx flags=0x%llx",
                             va, pa, page_size, flags);
    w_pool_add(w, va);

    int levels = la57 ? 5 : 4;
    int target = page_size == VM_PAGE_1G ? 3 : page_size == VM_PAGE_2M ? 2 : 1;
    /* The path the builder follows in the memory as it is now: slot[l] for
     * each level from the root down; `brk` is the level whose entry is not
     * present (the builder links a fresh table there), 0 if the path is
     * present down to the target. */
    uint64_t slot[6], table = root;
    bool on_path[6] = { false };
    int brk = 0;
    for (int l = levels; l >= target; l--) {
        slot[l] = table + w_index(va, l) * 8;
        on_path[l] = true;
        if (l == target || !w_in_ram(w, slot[l], 8))
            break;
        uint64_t entry = w_model_u64(slot[l]);
        if (!(entry & VM_X86_PTE_P)) {
            brk = l;
            break;
        }
        table = entry & W_ADDR_MASK;
    }
    uint64_t next_before = w->b.next;
    vm_err_t err = vm_ptbuilder_map_x86_64(&w->b, w->mmu, la57, va, pa, page_size, flags, root);
    e->result = vm_strerror(err);
    bool canonical = la57 ? ((int64_t)(va << 7) >> 7) == (int64_t)va
                          : ((int64_t)(va << 16) >> 16) == (int64_t)va;
    if (!canonical || (pa >> 52) != 0) {
        if (err != VM_ERR_INVALID_ARGUMENT)
            w_fail(w, "vm_ptbuilder_map_x86_64 with a %s returned %s, expected VM_ERR_INVALID_ARGUMENT",
                   canonical ? "PA at or above 2^52" : "non-canonical VA", vm_strerror(err));
    } else if (err != VM_OK && err != VM_ERR_INVALID_ARGUMENT && err != VM_ERR_INVALID_ADDRESS) {
        w_fail(w, "vm_ptbuilder_map_x86_64 returned %s", vm_strerror(err));
    }
    if (vmc_on())
        vmc_line("# vm_ptbuilder_map_x86_64(la57 %d, va 0x%llx, pa 0x%llx, size 0x%llx, flags 0x%llx, "
                 "root 0x%llx) -> %s%s", la57, (unsigned long long)va, (unsigned long long)pa,
                 (unsigned long long)page_size, (unsigned long long)flags, (unsigned long long)root,
                 vmc_err_name(err), err == VM_OK ? ", which wrote:" : ": nothing written");
    if (err != VM_OK) {
        /* ptbuilder.h: "on any error neither guest memory nor the builder changes" */
        if (w->b.next != next_before)
            w_fail(w, "a failed vm_ptbuilder_map_x86_64 moved the builder: 0x%llx -> 0x%llx",
                   (unsigned long long)next_before, (unsigned long long)w->b.next);
        for (int l = levels; l >= target; l--)
            if (on_path[l] && w_in_ram(w, slot[l], 8))
                w_compare_range(w, slot[l], 8, "a failed vm_ptbuilder_map_x86_64 wrote");
        w_check_no_translation(w, "vm_ptbuilder_map_x86_64");
        return;
    }
    /* Success: the builder wrote only slots of that path and fresh table
     * pages (one per level below `brk`, handed out in order): copy those
     * into the model, and check the entry that maps the page is exactly
     * pa | flags | P (| PS for a large page). */
    uint64_t want_pages = brk ? (uint64_t)(brk - target) : 0;
    if (w->b.next != next_before + want_pages * W_PAGE)
        w_fail(w, "vm_ptbuilder_map_x86_64 handed out %llu table pages, expected %llu (a fresh table "
                  "per level below the first entry not present)",
               (unsigned long long)((w->b.next - next_before) / W_PAGE), (unsigned long long)want_pages);
    for (uint64_t p = next_before; p < w->b.next; p += W_PAGE) {
        if (!w_in_ram(w, p, W_PAGE))
            w_fail(w, "vm_ptbuilder_map_x86_64 handed out table page 0x%llx outside RAM",
                   (unsigned long long)p);
        memcpy(w_mram + p, w->core_ram + p, W_PAGE);
        w_touch(w, p, W_PAGE);
        if (vmc_on()) {   /* the builder's effect as this oracle copies it: a zeroed table ... */
            vmc_line("expect pwritebuf 0x%llx %u fill 0 -> ok", (unsigned long long)p, W_PAGE);
            for (uint64_t a = p; a < p + W_PAGE; a += 8)
                if (w_model_u64(a) != 0)
                    vmc_line("w64 0x%llx 0x%llx", (unsigned long long)a,
                             (unsigned long long)w_model_u64(a));
        }
    }
    for (int l = levels; l >= target; l--) {
        if (!on_path[l] || !w_in_ram(w, slot[l], 8))
            continue;
        uint64_t written = w_core_u64(w, slot[l]);
        if (vmc_on() && written != w_model_u64(slot[l]))   /* ... and the entries it changed */
            vmc_line("w64 0x%llx 0x%llx", (unsigned long long)slot[l], (unsigned long long)written);
        w_model_write_u64(w, slot[l], written);
    }
    uint64_t leaf_slot = brk ? next_before + (uint64_t)(brk - 1 - target) * W_PAGE +
                                   w_index(va, target) * 8
                             : slot[target];
    uint64_t want = pa | flags | VM_X86_PTE_P | (target > 1 ? VM_X86_PTE_PS : 0);
    uint64_t leaf = w_core_u64(w, leaf_slot);
    if (leaf != want)
        w_fail(w, "vm_ptbuilder_map_x86_64: the entry that maps the page is 0x%llx at 0x%llx, "
                  "expected 0x%llx",
               (unsigned long long)leaf, (unsigned long long)leaf_slot, (unsigned long long)want);
    w_check_no_translation(w, "vm_ptbuilder_map_x86_64");
}

/* ---- op: raw entry write ------------------------------------------------ */

static void w_op_entry(world_t *w, fuzz_input_t *in)
{
    vm_gva_t va = w_va(w, in);
    uint8_t lsel = fin_u8(in), tsel = fin_u8(in), asel = fin_u8(in), hsel = fin_u8(in);
    int levels = ref_x86_levels(&w->regs);
    int level = 1 + lsel % levels;
    uint64_t root = (lsel & 0x80) ? w->root[1] : w->regs.cr3 & W_ADDR_MASK;
    if (!w_in_ram(w, root, W_PAGE))
        root = w->root[0];
    uint64_t slot = w_slot(w, root, va, levels, level);
    if (!w_in_ram(w, slot, 8))
        return;
    uint64_t old = w_model_u64(slot), v;
    /* P RW US PWT PCD A D, from asel */
    uint64_t low = 1 | (uint64_t)(asel & 0x7e);
    int m = ref_x86_maxphyaddr(&w->regs);
    switch (tsel % 10) {
    case 0: case 1:                                  /* references a table */
        v = w_pick_table(w, hsel) | low | ((asel & 0x80) ? VM_X86_PTE_XD : 0);
        break;
    case 2: case 3:                                  /* maps a page at this level */
        if (level == 1)
            v = w_pick_pa(w, hsel, W_PAGE) | low | ((tsel & 0x10) ? VM_X86_PTE_G : 0);
        else
            v = w_pick_pa(w, hsel, level == 2 ? VM_PAGE_2M : VM_PAGE_1G) | low | VM_X86_PTE_PS |
                ((tsel & 0x10) ? VM_X86_PTE_G : 0);
        v |= (uint64_t)(tsel >> 5) << 59;            /* a protection key */
        if (asel & 0x80)
            v |= VM_X86_PTE_XD;
        break;
    case 4:                                          /* one bit flipped */
        v = old ^ (UINT64_C(1) << (hsel % 64));
        break;
    case 5: {                                        /* a reserved-bit pattern */
        static const unsigned rbits[8] = { 7, 13, 20, 29, 51, 63, 0, 0 };
        unsigned b = rbits[hsel % 8];
        if (hsel % 8 == 6)
            b = (unsigned)(m < 52 ? m : 51);         /* bit MAXPHYADDR */
        else if (hsel % 8 == 7)
            b = 12 + (hsel >> 3) % 18;               /* a low address bit (29:13 / 20:13 of large pages) */
        v = old | (UINT64_C(1) << b) | 1;
        break;
    }
    case 6:                                          /* ignored bits set */
        v = old | ((uint64_t)hsel << 52 & UINT64_C(0x7ff0000000000000)) |
            ((uint64_t)(asel & 0xf) << 8) | ((tsel & 0x10) ? 0x40u : 0u);
        break;
    case 7:                                          /* not present, bits left over */
        v = ((uint64_t)hsel << 56 | (uint64_t)asel << 1 | old) & ~UINT64_C(1);
        break;
    case 8:                                          /* the same address, A/D/rights changed */
        v = (old & ~UINT64_C(0x7f)) | low;
        break;
    default:
        v = fin_u64(in);
        break;
    }
    w_log(w, "entry-write", "pa=0x%llx 0x%llx -> 0x%llx (va=0x%llx)", slot, old, v, va);
    w_phys_write(w, slot, v);
    w_check_no_translation(w, "vm_mmu_write_phys");
}

/* ---- ops: registers ------------------------------------------------------------- */

static void w_op_cr0(world_t *w, fuzz_input_t *in)
{
    uint8_t s = fin_u8(in);
    static const unsigned others[8] = { 1, 2, 3, 4, 5, 18, 29, 30 };
    ref_x86_regs_t next = w->regs;
    switch (s % 6) {
    case 0: next.cr0 ^= VM_X86_CR0_WP; break;
    case 1: next.cr0 ^= VM_X86_CR0_PG; break;
    case 2: next.cr0 ^= VM_X86_CR0_PE; break;
    case 3: next.cr0 ^= UINT64_C(1) << others[(s >> 3) & 7]; break;
    case 4: next.cr0 |= VM_X86_CR0_PG | VM_X86_CR0_PE; break;
    default: next.cr0 = fin_u32(in); break;
    }
    w_log(w, "cr0", "0x%llx -> 0x%llx", w->regs.cr0, next.cr0, 0, 0);
    w_write_regs(w, &next, false, 0);
}

static void w_op_cr4(world_t *w, fuzz_input_t *in)
{
    uint8_t s = fin_u8(in);
    static const unsigned bits[16] = { 5, 7, 12, 17, 20, 21, 22, 4, 7, 17, 20, 21, 22, 9, 16, 23 };
    ref_x86_regs_t next = w->regs;
    next.cr4 ^= UINT64_C(1) << bits[s % 16];
    if ((s & 0x30) == 0x30)
        next.cr4 ^= UINT64_C(1) << bits[(s >> 6) + 4]; /* two bits at once: SMEP/SMAP/PKE/PSE */
    w_log(w, "cr4", "0x%llx -> 0x%llx", w->regs.cr4, next.cr4, 0, 0);
    w_write_regs(w, &next, false, 0);
}

/* MOV to CR3 (vm_mmu_x86_load_cr3), or CR3 through the register block. */
static void w_op_cr3(world_t *w, fuzz_input_t *in)
{
    uint8_t s = fin_u8(in), p = fin_u8(in);
    uint64_t base = (s & 1) ? w->root[1] : w->root[0];
    if ((s & 6) == 6)
        base = w_pick_table(w, p >> 3);               /* elsewhere, beyond RAM, MMIO */
    uint64_t pcid = (p & 8) ? ref_x86_current_pcid(&w->regs) : w_pcids[p & 7];
    uint64_t v = base | pcid;
    if ((s >> 3) % 4 == 3)
        v = w->regs.cr3;                              /* the current value again */
    else if ((s >> 3) % 4 == 2)                       /* the current value with one bit of the PCID */
        v = w->regs.cr3 ^ (UINT64_C(1) << (fin_u8(in) % 52)); /* or the base (51:12) flipped */
    if (s & 0x20)
        v |= UINT64_C(1) << 63;                       /* no-flush */
    if ((s & 0xc0) == 0xc0)
        v |= UINT64_C(1) << (36 + p % 27);            /* bits 62:36: above some MAXPHYADDR */
    ref_x86_regs_t next = w->regs;
    bool mov = (s & 0x10) == 0;
    if (!mov)
        next.cr3 = v;
    w_log(w, mov ? "mov-cr3" : "regs-cr3", "0x%llx -> 0x%llx", w->regs.cr3, v, 0, 0);
    w_write_regs(w, &next, mov, v);
}

static void w_op_other_reg(world_t *w, fuzz_input_t *in)
{
    uint8_t s = fin_u8(in), v = fin_u8(in);
    ref_x86_regs_t next = w->regs;
    switch (s % 6) {
    case 0: {                                         /* EFER: NXE, LME, LMA, SCE, another bit */
        static const unsigned bits[8] = { 11, 11, 8, 10, 0, 11, 14, 12 };
        next.efer ^= UINT64_C(1) << bits[v % 8];
        w_log(w, "efer", "0x%llx -> 0x%llx", w->regs.efer, next.efer, 0, 0);
        break;
    }
    case 1:                                           /* RFLAGS: AC, or another bit */
        next.rflags ^= (v & 1) ? VM_X86_RFLAGS_AC : UINT64_C(1) << (v >> 2);
        w_log(w, "rflags", "0x%llx -> 0x%llx", w->regs.rflags, next.rflags, 0, 0);
        break;
    case 2:                                           /* CPL 0..3, rarely an invalid one */
        next.cpl = (v & 0xf0) == 0xf0 ? 4 + (v & 3) : v % 4;
        w_log(w, "cpl", "%llu -> %llu", (unsigned long long)w->regs.cpl, (unsigned long long)next.cpl, 0, 0);
        break;
    case 3: case 4:                                   /* PKRU: a pool value, or one bit flipped */
        next.pkru = (v & 0x80) ? w->regs.pkru ^ (1u << (v % 32)) : w_pkrus[v % 16];
        w_log(w, "pkru", "0x%llx -> 0x%llx", w->regs.pkru, next.pkru, 0, 0);
        break;
    default: {                                        /* MAXPHYADDR, including refused values */
        static const int vals[8] = { 0, 36, 40, 46, 52, 35, 53, 39 };
        next.maxphyaddr = vals[v % 8];
        w_log(w, "maxphyaddr", "%llu -> %llu", (unsigned long long)w->regs.maxphyaddr,
              (unsigned long long)next.maxphyaddr, 0, 0);
        break;
    }
    }
    w_write_regs(w, &next, false, 0);
}

/* ---- the translation oracle -------------------------------------------------- */

static const char *const w_acc_name[3] = { "read", "write", "exec" };

static int w_outcome_of(vm_err_t err)
{
    switch (err) {
    case VM_OK: return REF_X86_OK;
    case VM_ERR_PAGE_FAULT: return REF_X86_PAGE_FAULT;
    case VM_ERR_GP_FAULT: return REF_X86_GP_FAULT;
    case VM_ERR_ACCESS_FAULT: return REF_X86_ACCESS_FAULT;
    default: return -1;
    }
}

static vm_fault_kind_t w_kind_of(int outcome)
{
    switch (outcome) {
    case REF_X86_PAGE_FAULT: return VM_FAULT_PAGE;
    case REF_X86_GP_FAULT: return VM_FAULT_GP;
    case REF_X86_ACCESS_FAULT: return VM_FAULT_ACCESS;
    default: return VM_FAULT_NONE;
    }
}

/* Does the core's memory at the walk's entries equal the model plus `ad`? */
FUZZ_NO_COVERAGE static void w_check_walk_memory(world_t *w, const ref_x86_walk_t *fresh, bool with_ad,
                                                 const char *what, uint64_t va, int acc)
{
    for (int k = 0; k < fresh->n_steps; k++) {
        uint64_t a = fresh->steps[k].entry_addr;
        if (!w_in_ram(w, a, 8))
            continue;
        uint64_t want = w_model_u64(a);
        for (int j = 0; with_ad && j < fresh->n_ad; j++)
            if (fresh->ad[j].addr == a)
                want = fresh->ad[j].updated;
        uint64_t core = w_core_u64(w, a);
        if (core != want)
            w_fail(w, "translate %s 0x%llx (%s): the entry at 0x%llx is 0x%llx in the core, expected "
                      "0x%llx (model before 0x%llx; %s)",
                   w_acc_name[acc], (unsigned long long)va, what, (unsigned long long)a,
                   (unsigned long long)core, (unsigned long long)want,
                   (unsigned long long)w_model_u64(a),
                   with_ad ? "the walk sets A in every entry used, D in the leaf on a write"
                           : "no A/D write expected");
    }
}

/* ---- the .vmc scenario: translations -------------------------------------- */

/* The PMA check of the runner's unsized form: RAM or a well-formed MMIO access. */
static bool w_backed(const world_t *w, uint64_t pa)
{
    int region;
    uint64_t off;
    int r = ref_mem_route(&w->m, pa, 1, &region, &off);
    return r == REF_ROUTE_RAM || r == REF_ROUTE_MMIO;
}

/* One answer in conform_x86_64.c's words; `level` only when it is known
 * (1..5: the walk's), as the runner then checks it against the core. */
static void w_vmc_answer(const world_t *w, vmc_alts_t *a, const ref_x86_answer_t *ans, int level,
                         bool with_pfec)
{
    bool lv = level >= 1 && level <= 5;
    switch (ans->outcome) {
    case REF_X86_OK:
        if (w_backed(w, ans->pa))
            vmc_alts_add(a, "0x%llx", (unsigned long long)ans->pa);
        else
            vmc_alts_add(a, "access-fault");   /* the data access: nothing at the PA */
        break;
    case REF_X86_PAGE_FAULT:
        if (!with_pfec)
            vmc_alts_add(a, "page-fault");
        else if (lv)
            vmc_alts_add(a, "page-fault pfec 0x%x level %d", ans->pfec, level);
        else
            vmc_alts_add(a, "page-fault pfec 0x%x", ans->pfec);
        break;
    case REF_X86_GP_FAULT:
        vmc_alts_add(a, "general-protection");
        break;
    default:
        if (lv)
            vmc_alts_add(a, "access-fault level %d", level);
        else
            vmc_alts_add(a, "access-fault");
        break;
    }
}

/*
 * `expect read|write|exec VA -> ...` (conform_x86_64.c's unsized form: the
 * translation, then the PMA check of one byte): the fresh walk's answer
 * and every answer a remembered entry legally gives (ref_x86_tlb_answers:
 * its frame, or a #PF with its error code under the current registers);
 * without paging the identity. The level is stated only when no entry
 * covers the VA, so the core must have walked (a hit reports the level of
 * its own entry). The runner takes at most 4 alternatives: past that the
 * page faults are listed without their error codes (the runner still
 * checks the core's full fault record against the legal answers).
 */
static void w_vmc_expect(const world_t *w, const char *kind, uint64_t va, bool optional, int acc,
                         const ref_x86_walk_t *fresh)
{
    ref_x86_answer_t legal[16];
    int n = 1;
    legal[0] = (ref_x86_answer_t){ fresh->outcome, fresh->pa, fresh->pfec };
    bool covered = false;
    if (w->x86_mode) {
        n = ref_x86_tlb_answers(&w->tlb, &w->regs, va, acc, fresh, legal, 16);
        if (n > 16)
            n = 16;
        covered = ref_x86_tlb_covers(&w->tlb, &w->regs, va, acc);
    }
    vmc_alts_t a = { .n = 0 };
    for (int pass = 0; pass < 2; pass++) {
        a.n = 0;
        for (int k = 0; k < n; k++)
            w_vmc_answer(w, &a, &legal[k], k == 0 && !covered ? fresh->level : 0, pass == 0);
        if (a.n <= 4)
            break;
    }
    char buf[512];
    if (optional && a.n > 4) { /* the runner takes at most 4 */
        vmc_line("# (%s 0x%llx left out: %d answers)", kind, (unsigned long long)va, a.n);
        return;
    }
    vmc_line("expect %s 0x%llx -> %s", kind, (unsigned long long)va,
             vmc_alts_text(&a, buf, sizeof buf));
}

static void w_vmc_translate(const world_t *w, uint64_t va, int acc, const ref_x86_walk_t *fresh)
{
    static const char *const words[3] = { "read", "write", "exec" };
    if (vmc_on())
        w_vmc_expect(w, words[acc], va, false, acc, fresh);
}

/* The fresh walk of va as the model stands (the identity without paging). */
static void w_fresh_walk(world_t *w, uint64_t va, int acc, ref_x86_walk_t *fresh)
{
    if (w->x86_mode) {
        ref_x86_translate(&w->m, &w->regs, va, acc, false, fresh);
    } else {
        memset(fresh, 0, sizeof *fresh);
        fresh->outcome = REF_X86_OK;
        fresh->pa = va;
        fresh->level = -1;
    }
}

/* `expect read8|exec4 VA -> ...`: the load or fetch of world_access.h's
 * check, with the answers of a fresh walk and of every remembered entry,
 * as for a translation of its page (left out past the 4 answers a line
 * takes). */
static void w_vmc_access(world_t *w, uint64_t va, int acc)
{
    if (!vmc_on())
        return;
    ref_x86_walk_t fresh;
    w_fresh_walk(w, va, acc, &fresh);
    w_vmc_expect(w, acc == REF_EXEC ? "exec4" : "read8", va, true, acc, &fresh);
}

static void w_check_translate_ref(world_t *w, uint64_t va, int acc)
{
    static const char *const names[3] = { "translate-r", "translate-w", "translate-x" };
    w_log_entry_t *e = w_log(w, names[acc], "va=0x%llx", va, 0, 0, 0);
    bool paged = w->x86_mode && ref_x86_paging(&w->regs);
    ref_x86_walk_t fresh;
    w_fresh_walk(w, va, acc, &fresh);
    for (int k = 0; k < fresh.n_steps; k++)
        w_touch(w, fresh.steps[k].entry_addr, 8);
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
        w_fail(w, "vm_mmu_translate touched the MMIO device (paging structures never come from a device)");
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

    int outcome = w_outcome_of(err);
    if (outcome < 0)
        w_fail(w, "vm_mmu_translate(0x%llx, %s) returned %s; the reference says %s",
               (unsigned long long)va, w_acc_name[acc], vm_strerror(err),
               ref_x86_outcome_name(fresh.outcome));
    ref_x86_answer_t got = { outcome, outcome == REF_X86_OK ? pa : 0,
                             outcome == REF_X86_PAGE_FAULT ? f->syndrome : 0 };
    bool same_as_fresh = outcome == fresh.outcome && (outcome != REF_X86_OK || pa == fresh.pa) &&
                         (outcome != REF_X86_PAGE_FAULT || f->syndrome == fresh.pfec);

    if (!paged || fresh.outcome == REF_X86_GP_FAULT) {
        /* No TLB can answer: the identity without paging (nothing
         * counted), #GP for a non-canonical VA (never a hit). */
        if (!same_as_fresh)
            w_fail(w, "translate %s 0x%llx: core %s pa=0x%llx, expected %s pa=0x%llx (%s)",
                   w_acc_name[acc], (unsigned long long)va, ref_x86_outcome_name(outcome),
                   (unsigned long long)pa, ref_x86_outcome_name(fresh.outcome),
                   (unsigned long long)fresh.pa, paged ? fresh.why : "paging off: the identity");
        /* mmu.h: a check made before the first table read counts as one
         * miss; nothing counts while translation is off. */
        if (dh != 0 || dm != (paged ? 1u : 0u))
            w_fail(w, "TLB counters moved by hits +%llu misses +%llu for a %s", (unsigned long long)dh,
                   (unsigned long long)dm, paged ? "#GP (expected one miss: mmu.h, vm_mmu_tlb_stats)"
                                                  : "translation without paging (expected none)");
    } else {
        if (dh + dm != 1)
            w_fail(w, "TLB counters moved by hits +%llu misses +%llu for one paged translation "
                      "(expected one hit or one miss)",
                   (unsigned long long)dh, (unsigned long long)dm);
        if (dm == 1) {
            if (!same_as_fresh)
                w_fail(w, "translate %s 0x%llx walked (TLB miss): core %s pa=0x%llx error code 0x%x, "
                          "reference %s pa=0x%llx error code 0x%x (%s)",
                       w_acc_name[acc], (unsigned long long)va, ref_x86_outcome_name(outcome),
                       (unsigned long long)pa, got.pfec, ref_x86_outcome_name(fresh.outcome),
                       (unsigned long long)fresh.pa, fresh.pfec, fresh.why ? fresh.why : "");
            w_check_walk_memory(w, &fresh, fresh.outcome == REF_X86_OK, "a walk", va, acc);
            if (fresh.outcome == REF_X86_OK) {
                for (int j = 0; j < fresh.n_ad; j++)
                    w_model_write_u64(w, fresh.ad[j].addr, fresh.ad[j].updated);
                ref_x86_tlb_record(&w->tlb, &w->regs, va, acc, &fresh);
            }
        } else {
            if (!ref_x86_tlb_hit_legal(&w->tlb, &w->regs, va, acc, &got))
                w_fail(w, "translate %s 0x%llx hit the TLB giving %s pa=0x%llx error code 0x%x, which "
                          "no remembered entry justifies (fresh walk: %s pa=0x%llx error code 0x%x)",
                       w_acc_name[acc], (unsigned long long)va, ref_x86_outcome_name(outcome),
                       (unsigned long long)pa, got.pfec, ref_x86_outcome_name(fresh.outcome),
                       (unsigned long long)fresh.pa, fresh.pfec);
            w_check_walk_memory(w, &fresh, false, "a TLB hit", va, acc);
        }
    }

    /* The fault record (mmu.h, x86_64.h). */
    if (outcome == REF_X86_OK) {
        if (f->kind != VM_FAULT_NONE)
            w_fail(w, "a successful translate left fault kind %d", (int)f->kind);
        return;
    }
    uint32_t want_syn = outcome == REF_X86_PAGE_FAULT ? got.pfec : 0;
    if (f->kind != w_kind_of(outcome) || f->cause != ref_x86_vector(outcome) ||
        f->syndrome != want_syn || f->va != va || (int)f->access != acc)
        w_fail(w, "fault record: kind %d cause %u syndrome 0x%x va 0x%llx access %d; expected kind %d "
                  "cause %u syndrome 0x%x va 0x%llx access %d",
               (int)f->kind, f->cause, f->syndrome, (unsigned long long)f->va, (int)f->access,
               (int)w_kind_of(outcome), ref_x86_vector(outcome), want_syn, (unsigned long long)va, acc);
    bool walked = outcome == REF_X86_GP_FAULT || dm == 1;
    if (walked && (f->level != fresh.level ||
                   (fresh.level >= 0 && (f->pte_addr != fresh.entry_addr || f->pte != fresh.entry))))
        w_fail(w, "fault record of a walk: level %d entry@0x%llx=0x%llx; the walk stopped at level %d "
                  "entry@0x%llx=0x%llx (%s)",
               f->level, (unsigned long long)f->pte_addr, (unsigned long long)f->pte, fresh.level,
               (unsigned long long)fresh.entry_addr, (unsigned long long)fresh.entry,
               fresh.why ? fresh.why : "");
    /* SDM 4.10.4.1: the page fault invalidates the page's entries of the
     * current PCID (the core must have done at least that). */
    if (outcome == REF_X86_PAGE_FAULT)
        ref_x86_tlb_page_fault(&w->tlb, &w->regs, va);
}

/* pa is an answer to translating va now: the fresh walk's (w->walk, just
 * made by w_check_translate_ref) or a remembered entry's. */
static bool w_pa_allowed(world_t *w, uint64_t va, int acc, uint64_t pa)
{
    if (w->walk.outcome == REF_X86_OK && pa == w->walk.pa)
        return true;
    ref_x86_answer_t got = { REF_X86_OK, pa, 0 };
    return ref_x86_tlb_hit_legal(&w->tlb, &w->regs, va, acc, &got);
}

/* Is the 8-byte word at pa an entry the last fresh walk (w->walk) read? */
static bool w_walk_reads(const world_t *w, uint64_t pa)
{
    for (int k = 0; k < w->walk.n_steps && k < REF_X86_MAX_LEVELS; k++)
        if ((w->walk.steps[k].entry_addr & ~UINT64_C(7)) == pa)
            return true;
    return false;
}

#include "world_access.h" /* w_check_access_agrees, w_check_translate */

/* ---- ops: TLB maintenance ------------------------------------------------------ */

static void w_op_inv(world_t *w, fuzz_input_t *in)
{
    uint8_t s = fin_u8(in), p = fin_u8(in);
    vm_gva_t va = w_va(w, in);
    if ((s & 7) == 0) {
        w_log(w, "invlpg", "va=0x%llx", va, 0, 0, 0);
        if (vmc_on() && w->x86_mode)
            vmc_line("invlpg 0x%llx", (unsigned long long)va);
        else if (vmc_on())   /* conform_x86_64.c takes invlpg in an x86 mode only */
            vmc_line("# invlpg 0x%llx in Bare mode: the TLBs are empty (the mode switch flushed them)",
                     (unsigned long long)va);
        vm_mmu_x86_invlpg(w->mmu, va);
        if (w->x86_mode)
            ref_x86_tlb_invlpg(&w->tlb, &w->regs, va);
        w_check_no_translation(w, "INVLPG");
        return;
    }
    int type = (s & 0xf0) == 0xf0 ? 4 + (s >> 3 & 1) : (s >> 3) % 4;   /* 4, 5: refused */
    uint64_t pcid = (p & 8) ? ref_x86_current_pcid(&w->regs) : w_pcids[p & 7];
    if ((p & 0xf0) == 0xf0)
        pcid = 0x1000 + p;                                               /* above 0xfff: refused */
    w_log_entry_t *e = w_log(w, "invpcid", "type %llu pcid 0x%llx va 0x%llx", (unsigned long long)type,
                             pcid, va, 0);
    bool ok = ref_x86_invpcid_ok(&w->regs, type, pcid, va);
    if (vmc_on() && w->x86_mode)
        vmc_line("invpcid %d 0x%llx 0x%llx%s", type, (unsigned long long)pcid, (unsigned long long)va,
                 ok ? "" : " -> rejected");
    else if (vmc_on())
        vmc_line("# invpcid %d 0x%llx 0x%llx in Bare mode (%s): the TLBs are empty", type,
                 (unsigned long long)pcid, (unsigned long long)va, ok ? "accepted" : "refused");
    vm_err_t err = vm_mmu_x86_invpcid(w->mmu, (vm_x86_invpcid_type_t)type, (uint16_t)pcid, va);
    e->result = vm_strerror(err);
    if (err != (ok ? VM_OK : VM_ERR_INVALID_ARGUMENT))
        w_fail(w, "vm_mmu_x86_invpcid(%d, 0x%llx, 0x%llx) returned %s, expected %s", type,
               (unsigned long long)pcid, (unsigned long long)va, vm_strerror(err),
               ok ? "VM_OK" : "VM_ERR_INVALID_ARGUMENT (nothing invalidated)");
    if (ok && w->x86_mode)
        ref_x86_tlb_invpcid(&w->tlb, type, (uint16_t)pcid, va);
    w_check_no_translation(w, "INVPCID");
}

static void w_op_flush(world_t *w, fuzz_input_t *in)
{
    uint8_t k = fin_u8(in), p = fin_u8(in);
    vm_gva_t va = w_va(w, in);
    uint16_t pcid = (p & 8) ? ref_x86_current_pcid(&w->regs) : w_pcids[p & 7];
    switch (k % 5) {
    case 0:
        w_log(w, "flush-all", "", 0, 0, 0, 0);
        if (vmc_on())
            vmc_line("flush all");
        vm_mmu_flush_tlb(w->mmu);
        ref_x86_tlb_flush_all(&w->tlb);
        break;
    case 1:
        w_log(w, "flush-pcid", "%llu", pcid, 0, 0, 0);
        if (vmc_on())
            vmc_line("flush %s %u", w->x86_mode ? "pcid" : "asid", pcid);
        vm_mmu_flush_tlb_asid(w->mmu, pcid);
        ref_x86_tlb_flush_pcid(&w->tlb, pcid);
        break;
    case 2:
        w_log(w, "flush-page", "va=0x%llx", va, 0, 0, 0);
        if (vmc_on())
            vmc_line("flush page 0x%llx", (unsigned long long)va);
        vm_mmu_flush_tlb_page(w->mmu, va);
        ref_x86_tlb_flush_page(&w->tlb, va);
        break;
    case 3: {
        bool glob = (k >> 3) & 1;
        w_log(w, "flush-page-pcid", "va=0x%llx pcid=%llu global=%llu", va, pcid, glob, 0);
        /* conform_x86_64.c has no line for vm_mmu_flush_tlb_page_asid: the
         * case omits it, so its reference keeps the entries this flush
         * removes; the answers listed come from this oracle, which removed
         * them, so the case stays as strict about the core as the target. */
        if (vmc_on())
            vmc_line("# vm_mmu_flush_tlb_page_asid(0x%llx, pcid %u%s) (no line form)",
                     (unsigned long long)va, pcid, glob ? ", global too" : "");
        vm_mmu_flush_tlb_page_asid(w->mmu, va, pcid, glob);
        ref_x86_tlb_flush_page_pcid(&w->tlb, va, pcid, glob);
        break;
    }
    default:
        w_log(w, "flush-nonglobal", "", 0, 0, 0, 0);
        if (vmc_on() && w->x86_mode)
            vmc_line("flush nonglobal");
        else if (vmc_on())   /* the generic runner has no such line; the TLBs are empty */
            vmc_line("# flush nonglobal in Bare mode");
        vm_mmu_flush_tlb_nonglobal(w->mmu);
        ref_x86_tlb_flush_nonglobal(&w->tlb);
        break;
    }
    w_check_no_translation(w, "a TLB flush");
}

/* TLB resize (clears entries and counters) or a paging-mode switch (flushes). */
static void w_op_machine(world_t *w, fuzz_input_t *in)
{
    uint8_t b = fin_u8(in);
    if (b & 1) {
        bool x86 = (b >> 1) & 1;
        w_log(w, "paging-mode", x86 ? "X86_64" : "Bare", 0, 0, 0, 0);
        /* `mode x86_64[_la57]` also writes CR4.LA57: the current value, so no write */
        if (vmc_on())
            vmc_line("mode %s", !x86 ? "bare" : ref_x86_levels(&w->regs) == 5 ? "x86_64_la57" : "x86_64");
        vm_mmu_set_paging_mode(w->mmu, x86 ? VM_PAGING_X86_64 : VM_PAGING_BARE);
        w->x86_mode = x86;
        ref_x86_tlb_flush_all(&w->tlb); /* mmu.h: "flushes both TLBs" */
        vm_x86_regs_t got;
        vm_mmu_x86_regs(w->mmu, &got);
        if (!w_regs_equal(&got, &w->regs))
            w_fail(w, "vm_mmu_set_paging_mode changed the x86 registers (they keep their values)");
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
    ref_x86_tlb_flush_all(&w->tlb);
}

/* ---- the op dispatcher ------------------------------------------------------- */

void x86w_op(uint8_t opcode, fuzz_input_t *in)
{
    world_t *w = &w_world;
    switch (opcode % X86W_N_OPS) {
    case 0: case 1: w_op_map(w, in); break;
    case 2: case 3: w_op_entry(w, in); break;
    case 4: w_op_cr0(w, in); break;
    case 5: w_op_cr4(w, in); break;
    case 6: w_op_cr3(w, in); break;
    case 7: w_op_other_reg(w, in); break;
    case 8: case 9: case 10: {
        vm_gva_t va = w_va(w, in);
        w_check_translate(w, va, opcode % X86W_N_OPS - 8);
        break;
    }
    case 11: {              /* the same access twice: normally a miss, then a hit */
        vm_gva_t va = w_va(w, in);
        int acc = fin_u8(in) % 3;
        w_check_translate(w, va, acc);
        w_check_translate(w, va, acc);
        break;
    }
    case 12: w_op_inv(w, in); break;
    case 13: w_op_flush(w, in); break;
    case 14: w_op_machine(w, in); break;
    default: {              /* user <-> supervisor, then an access (no flush in between) */
        vm_gva_t va = w_va(w, in);
        int acc = fin_u8(in) % 3;
        ref_x86_regs_t next = w->regs;
        next.cpl = next.cpl == 3 ? 0 : 3;
        w_log(w, "cpl-flip", "cpl=%llu", (unsigned long long)next.cpl, 0, 0, 0);
        w_write_regs(w, &next, false, 0);
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
 * Bare mode, every x86 register zero, TLBs flushed. At the end of an input
 * (not the start of the next) so the setters' state-dependent branches
 * belong to the input that left the state (AFL++ stability, as
 * fuzz_mmu_common.h explains).
 */
static vm_err_t w_machine_reset(vm_mmu_t *mmu)
{
    vm_x86_regs_t zero;
    memset(&zero, 0, sizeof zero);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_BARE);
    vm_err_t err = vm_mmu_set_x86_regs(mmu, &zero);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_BARE);
    return err;
}

void x86w_init(void)
{
    w_trace = getenv("VMMEM_FUZZ_TRACE") != NULL;
    for (unsigned k = 0; k < 3; k++) {
        vm_mmu_t *mmu = w_machine(k);
        /* Entering X86_64 builds the walker's permission table once per
         * process: here, not in the first input (AFL++ stability). */
        if (mmu)
            vm_mmu_set_paging_mode(mmu, VM_PAGING_X86_64);
        vm_err_t err = mmu ? w_machine_reset(mmu) : VM_OK;
        if (err != VM_OK) {
            fprintf(stderr, "fuzz_translate_x86: vm_mmu_set_x86_regs(all zero) failed: %s\n",
                    vm_strerror(err));
            __builtin_trap();
        }
    }
}

/*
 * Config header (X86W_CONFIG_BYTES):
 *   [0] RAM size (% 3) 1:0, LA57 2, paging off 4:3 == 3, PGE 5, PCIDE 6, NXE 7
 *   [1] ITLB 2:0 and DTLB 5:3 sizes - 1; 7:6 == 3: the default 64/128
 *   [2] WP 0, SMEP 1, SMAP 2, PKE 3, AC 4, CPL 6:5, root B 7
 *   [3] PKRU 3:0 (w_pkrus), MAXPHYADDR 6:4 (w_maxphys)
 *   [4] PCID 2:0 (w_pcids; with PCIDE)
 *   [5] spare bits for later use (read, so the layout is stable)
 */
bool x86w_setup(fuzz_input_t *in)
{
    world_t *w = &w_world;
    uint8_t c[X86W_CONFIG_BYTES];
    if (in->size < X86W_CONFIG_BYTES)
        return false;
    for (unsigned i = 0; i < X86W_CONFIG_BYTES; i++)
        c[i] = fin_u8(in);

    unsigned k = c[0] % 3;
    w->mmu = w_machine(k);
    if (!w->mmu)
        return false;
    vmc_start("fuzz_translate_x86");
    if (vmc_on()) {   /* the machine as the runner builds it: RAM at 0, the device */
        vmc_line("mem %lluK", (unsigned long long)(w_ram_sizes[k] >> 10));
        vmc_line("expect mmio 0x%llx 0x%llx -> ok", (unsigned long long)W_MMIO_BASE,
                 (unsigned long long)W_MMIO_SIZE);
    }
    w->core_ram = vm_mmu_physmem(w->mmu)->ram;
    w->ram_size = w_ram_sizes[k];
    w->table_lo = w->ram_size / 2;
    w->root[0] = w->table_lo;
    w->root[1] = w->table_lo + W_PAGE;
    w->n_ops = 0;
    w->have_walk = false;
    w->m.ram = w_mram;
    w->m.size = w->ram_size;
    w->m.base = 0;
    w->m.mmio[0] = (struct ref_mmio){ W_MMIO_BASE, W_MMIO_SIZE };
    w->m.n_mmio = 1;
    w_dev_accesses = 0;
    ref_x86_tlb_reset(&w->tlb);
    vm_ptbuilder_init(&w->b, w->table_lo + 2 * W_PAGE);
    w_touch(w, w->root[0], W_PAGE);
    w_touch(w, w->root[1], W_PAGE);

    /* The fault record in a known state (AFL++ stability): in the
     * canonical Bare state, one fault (nothing at 2^62), then one success. */
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

    bool paging = ((c[0] >> 3) & 3) != 3;
    ref_x86_regs_t r;
    memset(&r, 0, sizeof r);
    r.cr0 = VM_X86_CR0_PE | (paging ? VM_X86_CR0_PG : 0) | ((c[2] & 1) ? VM_X86_CR0_WP : 0);
    r.cr4 = VM_X86_CR4_PAE | ((c[0] & 4) ? VM_X86_CR4_LA57 : 0) | ((c[0] & 0x20) ? VM_X86_CR4_PGE : 0) |
            ((c[0] & 0x40) && paging ? VM_X86_CR4_PCIDE : 0) | ((c[2] & 2) ? VM_X86_CR4_SMEP : 0) |
            ((c[2] & 4) ? VM_X86_CR4_SMAP : 0) | ((c[2] & 8) ? VM_X86_CR4_PKE : 0);
    r.efer = VM_X86_EFER_LME | ((c[0] & 0x80) ? VM_X86_EFER_NXE : 0);
    r.rflags = (c[2] & 0x10) ? VM_X86_RFLAGS_AC : 0;
    r.cpl = (c[2] >> 5) & 3;
    r.pkru = w_pkrus[c[3] & 15];
    r.maxphyaddr = w_maxphys[(c[3] >> 4) & 7];
    r.cr3 = w->root[c[2] >> 7];
    memset(&w->regs, 0, sizeof w->regs);
    if (ref_x86_regs_check(&w->regs, &r, false) != 0)
        w_fail(w, "harness bug: the config's register state is refused by the contract");

    /* From the canonical state (Bare, registers zero): the config (CR3's
     * PCID by a MOV to CR3 once CR4.PCIDE is on: turning PCIDE on needs
     * CR3[11:0] = 0), then X86_64. */
    vm_mmu_tlb_stats(w->mmu, &w->hits, &w->misses);
    w->x86_mode = false;
    w_write_regs(w, &r, false, 0);
    if ((r.cr4 & VM_X86_CR4_PCIDE) && w_pcids[c[4] & 7] != 0)
        w_write_regs(w, &w->regs, true, r.cr3 | w_pcids[c[4] & 7]);
    if (vmc_on())   /* `mode` also writes CR4.LA57: the value just set, so no write */
        vmc_line("mode %s", ref_x86_levels(&w->regs) == 5 ? "x86_64_la57" : "x86_64");
    vm_mmu_set_paging_mode(w->mmu, VM_PAGING_X86_64);
    w->x86_mode = true;
    ref_x86_tlb_flush_all(&w->tlb);
    vm_mmu_tlb_stats(w->mmu, &w->hits, &w->misses);
    w_pool_init(w);
    if (w_trace < 0)
        w_trace = getenv("VMMEM_FUZZ_TRACE") != NULL;
    if (w_trace > 0) /* the decoded header: part of the golden decode traces */
        fprintf(stderr, "config: ram=0x%llx tlbs=%zu/%zu cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx "
                        "rflags=0x%llx pkru=0x%x cpl=%d maxphyaddr=%d\n",
                (unsigned long long)w->ram_size, it, dt, (unsigned long long)w->regs.cr0,
                (unsigned long long)w->regs.cr3, (unsigned long long)w->regs.cr4,
                (unsigned long long)w->regs.efer, (unsigned long long)w->regs.rflags, w->regs.pkru,
                w->regs.cpl, w->regs.maxphyaddr);
    return true;
}

FUZZ_NO_COVERAGE void x86w_teardown(void)
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
        w_fail(w, "the end-of-input reset: vm_mmu_set_x86_regs(all zero) failed: %s", vm_strerror(err));
    w->mmu = NULL;
}
