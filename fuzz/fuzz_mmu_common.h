/*
 * fuzz_mmu_common.h - what fuzz_translate.c and fuzz_mmu_access.c share:
 * the per-input world (core MMU + reference models), the config header,
 * the pool of interesting VAs, the page-table construction ops (builder
 * maps, raw PTE writes, satp, priv/SUM/MXR/AD, flushes, TLB resize), the
 * MMIO register-file device, the op log and the mismatch report.
 *
 * How it works. Every input resets the core machine (vm_mmu_t over a
 * vm_physmem_t) of one of four RAM sizes and builds a fresh reference
 * world: ref_mem_t over a static byte array that mirrors the core's RAM
 * (every physical write goes to both), a
 * ref_rv_state_t mirroring satp/priv/SUM/MXR/AD, a ref_tlb_t remembering
 * every leaf the core may have cached, and a ref_resv_t. Ops are decoded
 * QEMU-generic-fuzz style (opcode byte % n, fixed little-endian args,
 * values reduced into meaningful ranges) so almost every input means
 * something: VAs come from a small pool of interesting addresses (mapped
 * ones and their neighbours, canonical edges, non-canonical ones) plus a
 * tweak; physical addresses from role-based selectors (data page, table
 * page, misaligned superpage PPN, MMIO, beyond RAM).
 *
 * Deciding whether the core walked. The core's answer to a translation is
 * legal iff it equals the fresh reference walk or what a remembered leaf
 * gives (ref_tlb_legal). Which of the two the core did is told by the TLB
 * miss counter and by the core's PTE memory (a walk may set A/D): a walk
 * must agree with the fresh reference walk exactly, including the A/D
 * write, and then its leaf is recorded; a hit must be justified by a
 * remembered leaf alone (ref_tlb_legal with a fresh walk that can never
 * match), so a hit that "happens to equal" the fresh walk while skipping
 * an A/D update (BUG-CLASSES 2) is caught.
 *
 * Cost. One physmem + MMU per RAM size lives for the whole process
 * (fm_machine): creating and freeing a vm_mmu_t per input cost ~27 us under
 * ASan, more than the whole per-input budget. Each input, at its end,
 * puts it back into one canonical state through the public API (Bare,
 * satp 0, every setter, TLBs flushed: fm_machine_reset) plus white-box
 * zeroing of exactly the RAM pages it touched and dropping every
 * reservation (physmem_int.h); the next input's setup then resizes the
 * TLBs and applies its config from that state, so no state carries over
 * and no branch of one input depends on its predecessor (AFL++ stability
 * 100 %; checked by running an input after different predecessors and
 * diffing the coverage counters).
 * The core's RAM is read straight from its mapping for compares. The log
 * stores a format pointer and four integers per op; nothing is formatted
 * unless there is a mismatch (or VMMEM_FUZZ_TRACE=1 is set).
 *
 * Rejected: comparing all of RAM after every op (too slow for 4 MiB; we
 * compare the PTE words of every walk after each translation, every range
 * an access could reach after it, and all touched pages at the end, all
 * of RAM for 64 KiB inputs); formatting the op log as we go (snprintf per
 * op); a fresh vm_mmu_new per input (see Cost); reading core RAM through
 * vm_mmu_guest_slice (an instrumented byte loop per call).
 */
#ifndef VMMEM_FUZZ_MMU_COMMON_H
#define VMMEM_FUZZ_MMU_COMMON_H

#include "fuzz_mmu_world.h"
#include "mmu_int.h" /* white-box: the core's TLB entries (fm_check_tlb_contents) */
#include "core_tlb_check.h"
#include "vmc_emit_rv.h"

static const uint64_t fm_ram_sizes[4] = {UINT64_C(64) << 10, UINT64_C(256) << 10,
                                         UINT64_C(1) << 20, UINT64_C(4) << 20};

/* ---- the MMIO device: a register file that logs every access -------- */
static fm_dev_t fm_dev;

static inline bool fm_dev_access_ok(uint64_t off, uint8_t size)
{
    /* physmem.h: "size is 1, 2, 4 or 8 and the access is naturally aligned". */
    return (size == 1 || size == 2 || size == 4 || size == 8) && off % size == 0 &&
           off < FM_MMIO_SIZE && size <= FM_MMIO_SIZE - off;
}

static vm_err_t fm_dev_read(void *opaque, uint64_t off, uint8_t size, uint64_t *val)
{
    fm_dev_t *d = opaque;
    if (!fm_dev_access_ok(off, size)) {
        d->bad = "device read with a bad size/alignment/offset";
        *val = 0;
        return VM_ERR_MMIO;
    }
    *val = fm_le_load(d->regs + off, size);
    d->log[d->n % FM_DEV_LOG] = (fm_dev_op_t){off, *val, size, false};
    d->n++;
    return VM_OK;
}

static vm_err_t fm_dev_write(void *opaque, uint64_t off, uint64_t val, uint8_t size)
{
    fm_dev_t *d = opaque;
    if (!fm_dev_access_ok(off, size)) {
        d->bad = "device write with a bad size/alignment/offset";
        return VM_ERR_MMIO;
    }
    /* physmem.h: the value is truncated to size before the device sees it
     * (the MMU's store path does not go through vm_physmem_write's mask). */
    if (size < 8 && (val >> (8 * size)) != 0)
        d->bad = "device write with a value wider than its size";
    fm_le_store(d->regs + off, val, size);
    d->log[d->n % FM_DEV_LOG] = (fm_dev_op_t){off, val, size, true};
    d->n++;
    return VM_OK;
}

static const vm_mmio_ops_t fm_dev_ops = {fm_dev_read, fm_dev_write, NULL, NULL};

static uint8_t fm_mram[FM_MAX_RAM];
static uint8_t fm_model_regs[FM_MMIO_SIZE];
static fm_t fm_world;

static const char *const fm_acc_name[3] = {"read", "write", "exec"};

/* ---- op log and report ----------------------------------------------- */
static inline fm_log_entry_t *fm_log(fm_t *fm, const char *name, const char *fmt,
                                     unsigned long long a0, unsigned long long a1,
                                     unsigned long long a2, unsigned long long a3)
{
    fm_log_entry_t *e = &fm->log[fm->n_ops++ % FM_LOG];
    e->name = name;
    e->fmt = fmt;
    e->a[0] = a0;
    e->a[1] = a1;
    e->a[2] = a2;
    e->a[3] = a3;
    e->result = "";
    return e;
}

static inline const char *fm_levels_name(int levels)
{
    switch (levels) {
    case 3: return "Sv39";
    case 4: return "Sv48";
    case 5: return "Sv57";
    default: return "Bare";
    }
}

static inline const char *fm_priv_name(int priv)
{
    return priv == 0 ? "U" : priv == 1 ? "S" : "M";
}

static void fm_print_tlb_matches(const fm_t *fm, FILE *f, uint64_t va)
{
    int shown = 0;
    for (int i = 0; i < fm->tlb.n && i < REF_TLB_MAX; i++) {
        const ref_tlb_entry_t *e = &fm->tlb.e[i];
        if (!e->valid)
            continue;
        unsigned shift = 12 + 9 * (unsigned)e->level;
        if (shift < 64 && ((va ^ e->va) >> shift) != 0)
            continue;
        fprintf(f, "  remembered %s entry: va=0x%llx level=%d levels=%d asid=%u%s pte=0x%llx\n",
                e->exec_side ? "ITLB" : "DTLB", (unsigned long long)e->va, e->level, e->levels,
                e->asid, e->global ? " global" : "", (unsigned long long)e->pte);
        shown++;
    }
    if (!shown)
        fprintf(f, "  (no remembered TLB entry covers 0x%llx)\n", (unsigned long long)va);
}

/* The decoded scenario, oldest op first. */
static void fm_print_log(const fm_t *fm, FILE *f)
{
    unsigned first = fm->n_ops > FM_LOG ? fm->n_ops - FM_LOG : 0;
    fprintf(f, "scenario (%u ops%s):\n", fm->n_ops, first ? ", oldest dropped" : "");
    for (unsigned i = first; i < fm->n_ops; i++) {
        const fm_log_entry_t *e = &fm->log[i % FM_LOG];
        fprintf(f, "  #%-4u %-14s ", i, e->name);
        fprintf(f, e->fmt, e->a[0], e->a[1], e->a[2], e->a[3]);
        fprintf(f, "%s%s\n", e->result[0] ? "  -> " : "", e->result);
    }
}

__attribute__((noreturn, format(printf, 2, 3)))
static void fm_fail(fm_t *fm, const char *fmt, ...)
{
    FILE *f = stderr;
    va_list ap;
    fprintf(f, "\n==== vmmem %s: MISMATCH ====\n", fm->target);
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
    fprintf(f, "\nconfig: %s ram=0x%llx root_a=0x%llx builder@0x%llx strict=%d\n",
            fm_levels_name(fm->cfg_levels), (unsigned long long)fm->ram_size,
            (unsigned long long)fm->root_a, (unsigned long long)fm->table_lo, fm->strict);
    fprintf(f, "state now: %s root=0x%llx asid=%u priv=%s sum=%d mxr=%d ad=%s\n",
            fm_levels_name(fm->s.levels), (unsigned long long)(fm->s.root_ppn << 12), fm->s.asid,
            fm_priv_name(fm->s.priv), fm->s.sum, fm->s.mxr, fm->s.ad_hardware ? "hw" : "fault");
    fm_print_log(fm, f);
    if (fm->have_walk) {
        fprintf(f, "reference walk (fresh) of the failing access:\n");
        ref_rv_walk_print(&fm->walk, fm->walk_va, fm->walk_acc, f);
        fm_print_tlb_matches(fm, f, fm->walk_va);
    }
    if (fm->have_walk2) {
        fprintf(f, "reference walk (fresh) of the second page:\n");
        ref_rv_walk_print(&fm->walk2, fm->walk2_va, fm->walk_acc, f);
        fm_print_tlb_matches(fm, f, fm->walk2_va);
    }
    fprintf(f, "==== end of report ====\n");
    fflush(f);
    __builtin_trap();
}

/* ---- memory: model and core ------------------------------------------ */
static inline void fm_mark(uint8_t *bits, uint64_t pa)
{
    uint64_t pg = pa / FM_PAGE;
    bits[pg / 8] |= (uint8_t)(1u << (pg % 8));
}

static inline bool fm_in_ram(const fm_t *fm, uint64_t pa, uint64_t len)
{
    return pa <= fm->ram_size && len <= fm->ram_size - pa;
}

/* Note that pa's page must be compared at the end (RAM only). */
static inline void fm_touch(fm_t *fm, uint64_t pa, uint64_t len)
{
    if (len == 0 || !fm_in_ram(fm, pa, len))
        return;
    for (uint64_t p = pa & ~(uint64_t)(FM_PAGE - 1); p < pa + len; p += FM_PAGE)
        fm_mark(fm->touched, p);
}

/* A write to the model RAM: mirrors a write the core did (or must do).
 * Every RAM write breaks overlapping reservations (physmem.h). */
static void fm_model_write(fm_t *fm, uint64_t pa, const uint8_t *src, uint64_t len)
{
    if (len == 0)
        return;
    memcpy(fm_mram + pa, src, len);
    for (uint64_t p = pa & ~(uint64_t)(FM_PAGE - 1); p < pa + len; p += FM_PAGE) {
        fm_mark(fm->touched, p);
        fm_mark(fm->dirty, p);
    }
    ref_resv_write(&fm->resv, pa, len);
}

static inline void fm_model_write_u64(fm_t *fm, uint64_t pa, uint64_t v)
{
    uint8_t b[8];
    fm_le_store(b, v, 8);
    fm_model_write(fm, pa, b, 8);
}

static inline uint64_t fm_model_u64(const fm_t *fm, uint64_t pa)
{
    (void)fm;
    return fm_le_load(fm_mram + pa, 8);
}

/* Core RAM, read straight from its mapping (RAM only; vm_mmu_guest_slice
 * costs a sanitizer-instrumented byte loop per call, which halved
 * throughput). */
static inline void fm_core_bytes(fm_t *fm, uint64_t pa, void *out, uint64_t len)
{
    if (!fm_in_ram(fm, pa, len))
        fm_fail(fm, "harness bug: core RAM read at 0x%llx+%llu outside RAM",
                (unsigned long long)pa, (unsigned long long)len);
    memcpy(out, fm->core_ram + pa, len);
}

static inline uint64_t fm_core_u64(fm_t *fm, uint64_t pa)
{
    uint8_t b[8];
    fm_core_bytes(fm, pa, b, 8);
    return fm_le_load(b, 8);
}

/* Compare one RAM range of core and model; fail with `what` on a difference. */
static void fm_compare_range(fm_t *fm, uint64_t pa, uint64_t len, const char *what)
{
    if (!fm_in_ram(fm, pa, len))
        fm_fail(fm, "harness bug: compare at 0x%llx+%llu outside RAM", (unsigned long long)pa,
                (unsigned long long)len);
    const uint8_t *core = fm->core_ram + pa;
    if (memcmp(core, fm_mram + pa, len) != 0) {
        uint64_t i = 0;
        while (core[i] == fm_mram[pa + i])
            i++;
        uint64_t w = (pa + i) & ~UINT64_C(7);
        fm_fail(fm, "%s: RAM differs at PA 0x%llx: core byte 0x%02x, model 0x%02x "
                    "(8-byte word at 0x%llx: core 0x%llx, model 0x%llx)",
                what, (unsigned long long)(pa + i), core[i], fm_mram[pa + i],
                (unsigned long long)w, (unsigned long long)fm_core_u64(fm, w),
                (unsigned long long)fm_model_u64(fm, w));
    }
}

/* A physical 8-byte store to RAM, core and model alike, and a `w64` line in
 * the .vmc case (a raw PTE write, or a value an oracle plants). */
static void fm_phys_write(fm_t *fm, uint64_t pa, uint64_t v)
{
    if (vmc_on())
        vmc_line("w64 0x%llx 0x%llx", (unsigned long long)pa, (unsigned long long)v);
    vm_err_t err = vm_mmu_write_phys(fm->mmu, pa, v, 8);
    if (err != VM_OK)
        fm_fail(fm, "vm_mmu_write_phys(0x%llx, 8) to RAM failed: %s", (unsigned long long)pa,
                vm_strerror(err));
    fm_model_write_u64(fm, pa, v);
}

/* ---- TLB counters ---------------------------------------------------- */
static inline void fm_stats(fm_t *fm, uint64_t *hits, uint64_t *misses)
{
    vm_mmu_tlb_stats(fm->mmu, hits, misses);
}

/* For ops that must not translate anything: the counters stay put. */
/*
 * White-box: is the core TLB entry e (of the ITLB if exec_side) one the
 * model remembers - same side, same page and size, same physical page,
 * global only if the model's leaf is, else the same ASID - under the
 * current paging mode (vmmem flushes on a mode change, so an entry of
 * another mode is not one the core may hold)?
 */
static bool fm_entry_remembered(const void *ctx, const struct tlb_entry *e, bool exec_side)
{
    const fm_t *fm = ctx;
    return ref_tlb_remembers(&fm->tlb, exec_side, fm->s.levels, e->tag, e->shift, e->pa_base,
                             e->asid_mask == 0, e->asid);
}

/*
 * White-box: after an op that changes no translation but may drop entries
 * (a flush, a satp write, a mode change), every entry the core's two TLBs
 * still hold must be one the model remembers. A flush that keeps what it
 * should drop (an ASID flush of the wrong ASID, a tag mismatch in a flush
 * by address, a mode change that keeps the old mode's entries: BUG-CLASSES
 * 8, 9, 10) is then seen at the flush, not only if a later input happens
 * to switch back to that address space and touch that page.
 */
static void fm_check_tlb_contents(fm_t *fm, const char *op)
{
    char msg[256];
    if (fuzz_core_tlb_unjustified(fm->mmu, fm_entry_remembered, fm, op, "leaf", msg, sizeof msg))
        fm_fail(fm, "%s", msg);
}

static void fm_check_no_translation(fm_t *fm, const char *op)
{
    uint64_t h, m;
    fm_stats(fm, &h, &m);
    if (h != fm->hits || m != fm->misses)
        fm_fail(fm, "%s changed the TLB counters: hits %llu -> %llu, misses %llu -> %llu", op,
                (unsigned long long)fm->hits, (unsigned long long)h,
                (unsigned long long)fm->misses, (unsigned long long)m);
    fm_check_tlb_contents(fm, op);
}

/* Translations are active (counted) only with paging on and priv != M. */
static inline bool fm_paged(const fm_t *fm)
{
    return fm->s.levels != 0 && fm->s.priv != 3;
}

/* ---- VA pool --------------------------------------------------------- */
static inline int fm_va_bits(int levels)
{
    return 12 + 9 * levels;
}

static inline bool fm_canonical(uint64_t va, int levels)
{
    int vb = fm_va_bits(levels);
    int64_t sv = (int64_t)(va << (64 - vb)) >> (64 - vb);
    return (uint64_t)sv == va;
}

static void fm_pool_add(fm_t *fm, vm_gva_t va)
{
    for (unsigned i = 0; i < fm->n_pool; i++)
        if (fm->pool[i] == va)
            return;
    if (fm->n_pool < FM_POOL) {
        fm->pool[fm->n_pool++] = va;
    } else {
        /* keep the first 8 (canonical edges), recycle the rest */
        fm->pool[8 + fm->pool_next % (FM_POOL - 8)] = va;
        fm->pool_next++;
    }
}

static void fm_pool_init(fm_t *fm)
{
    uint64_t half = UINT64_C(1) << (fm_va_bits(fm->cfg_levels) - 1);
    fm->n_pool = 0;
    fm->pool_next = 0;
    /* canonical edges and their non-canonical neighbours (Priv. spec, Sv39
     * "bits 63-39 all equal to bit 38", likewise Sv48/Sv57) */
    fm_pool_add(fm, 0);
    fm_pool_add(fm, half - FM_PAGE);         /* top page of the low half */
    fm_pool_add(fm, (uint64_t)0 - half);     /* bottom of the high half */
    fm_pool_add(fm, (uint64_t)0 - FM_PAGE);  /* top page of the address space */
    fm_pool_add(fm, half);                   /* first non-canonical VA */
    fm_pool_add(fm, ((uint64_t)0 - half) - FM_PAGE); /* last non-canonical VA page */
    fm_pool_add(fm, UINT64_C(0x1000));
    fm_pool_add(fm, UINT64_C(0x200000));
    fm_pool_add(fm, UINT64_C(0x40000000));
    fm_pool_add(fm, UINT64_C(0x2000));
    fm_pool_add(fm, UINT64_C(0x8000000000));  /* 512 GiB: level-3 index 1 (Sv48+) */
    /* for Bare and M-mode, where VA == PA: the device, its half page, tables */
    fm_pool_add(fm, FM_MMIO_BASE);
    fm_pool_add(fm, FM_MMIO_BASE + 0x1000);
    fm_pool_add(fm, fm->table_lo);
}

/* A VA operand: a pool entry plus a tweak (2 bytes; 3 for a bit flip). */
static vm_gva_t fm_va(fm_t *fm, fuzz_input_t *in)
{
    uint8_t i = fin_u8(in), t = fin_u8(in);
    vm_gva_t va = fm->pool[i % fm->n_pool];
    int vb = fm_va_bits(fm->s.levels ? fm->s.levels : fm->cfg_levels);
    switch (t % 32) {
    case 12: return va + 1;
    case 13: return va + 6;
    case 14: return va + 0xffc;                  /* 8-byte access crosses the page */
    case 15: return va + 0xffd;
    case 16: return va + 0xffe;
    case 17: return va + 0xfff;
    case 18: return va + 0x1000;
    case 19: return va - 0x1000;
    case 20: return va + 0x800;
    case 21: return va + 0x1ff000;               /* last 4K of a 2M superpage */
    case 22: return va + 0x200000;
    case 23: return va + 0x3ffff000;             /* last 4K of a 1G superpage */
    case 24: return va + 0x40000000;
    case 25: return va ^ (UINT64_C(1) << (vb - 1)); /* flips canonicality */
    case 26: return va ^ (UINT64_C(1) << 63);
    case 11: return fin_flip(in, va, 64);        /* any one bit: offset, a VPN field, sign bits */
    case 27: case 28: case 29: case 30: case 31:
        return va + (uint64_t)(t >> 5) * 8;      /* another word of the page */
    default: return va;
    }
}

/* ---- physical address selectors ------------------------------------- */
static inline uint64_t fm_data_page(const fm_t *fm, unsigned idx)
{
    return (uint64_t)(idx % (fm->table_lo / FM_PAGE)) * FM_PAGE;
}

static inline uint64_t fm_table_page(const fm_t *fm, unsigned idx)
{
    uint64_t n = (fm->b.next - fm->table_lo) / FM_PAGE;
    return fm->table_lo + (uint64_t)(idx % (n ? n : 1)) * FM_PAGE;
}

/* A target PA for a mapping of page_size (aligned to it). */
static uint64_t fm_pick_pa(fm_t *fm, fuzz_input_t *in, uint8_t sel, uint64_t page_size)
{
    uint64_t pa;
    switch (sel % 10) {
    case 6: pa = fm_table_page(fm, sel >> 4); break;  /* page tables as data: aliasing */
    case 7: pa = FM_MMIO_BASE; break;
    case 8: pa = fm->ram_size; break;                 /* just beyond RAM */
    case 9: pa = fin_flip(in, 0, 44) << 12; break;    /* PA bit 12..55 alone: vs data page 0 */
    default: pa = fm_data_page(fm, sel >> 3); break;
    }
    return pa & ~(page_size - 1);
}

/* ---- satp ------------------------------------------------------------ */
static inline uint64_t fm_satp_of(unsigned mode, uint16_t asid, uint64_t ppn)
{
    return (uint64_t)mode << 60 | (uint64_t)asid << 44 | (ppn & ((UINT64_C(1) << 44) - 1));
}

static inline unsigned fm_mode_of_levels(int levels)
{
    return levels == 0 ? 0 : (unsigned)(levels + 5); /* 3->8, 4->9, 5->10 */
}

static inline vm_paging_mode_t fm_vm_mode(int levels)
{
    return levels == 3 ? VM_PAGING_SV39 : levels == 4 ? VM_PAGING_SV48
         : levels == 5 ? VM_PAGING_SV57 : VM_PAGING_BARE;
}

/* Write satp to both; checks the WARL rule and flushes the model TLB when
 * MODE changes (mmu.h: "A MODE change flushes both TLBs"). */
static void fm_write_satp(fm_t *fm, uint64_t satp)
{
    uint64_t before = vm_mmu_satp(fm->mmu);
    int old_levels = fm->s.levels;
    bool ok = ref_rv_write_satp(&fm->s, satp);
    vmc_rv_satp(fm, satp);
    vm_mmu_set_satp(fm->mmu, satp);
    uint64_t after = vm_mmu_satp(fm->mmu);
    if (!ok) {
        if (after != before)
            fm_fail(fm, "satp write 0x%llx with an unsupported MODE changed satp 0x%llx -> 0x%llx "
                        "(WARL: must stay unchanged)",
                    (unsigned long long)satp, (unsigned long long)before,
                    (unsigned long long)after);
        return;
    }
    if ((satp >> 60) == 0 ? (after >> 60) != 0 : after != satp)
        fm_fail(fm, "satp write 0x%llx reads back 0x%llx", (unsigned long long)satp,
                (unsigned long long)after);
    if (fm->s.levels != old_levels)
        ref_tlb_flush_all(&fm->tlb);
}

/* ---- walking the model's tables (to aim raw PTE writes) -------------- */
static inline uint64_t fm_pte_ppn(uint64_t pte)
{
    return (pte & VM_PTE_PPN_MASK) >> VM_PTE_PPN_SHIFT;
}

static inline unsigned fm_vpn(uint64_t va, int i)
{
    return (unsigned)(va >> (12 + 9 * i)) & 0x1ff;
}

static inline bool fm_is_pointer(uint64_t pte)
{
    return (pte & VM_PTE_V) && !(pte & (VM_PTE_R | VM_PTE_W | VM_PTE_X));
}

/* The slot of va's PTE at level `level` in the tree at root, following
 * the model's pointers; stops early (returning a slot at a higher level)
 * where the path breaks. Returns false if even the root is not RAM. */
static bool fm_slot(const fm_t *fm, uint64_t root, uint64_t va, int levels, int level,
                    uint64_t *slot)
{
    uint64_t table = root;
    if (!fm_in_ram(fm, table, FM_PAGE))
        return false;
    for (int i = levels - 1;; i--) {
        *slot = table + fm_vpn(va, i) * 8;
        if (i <= level)
            return true;
        uint64_t pte = fm_model_u64(fm, *slot);
        uint64_t next = fm_pte_ppn(pte) << 12;
        if (!fm_is_pointer(pte) || !fm_in_ram(fm, next, FM_PAGE))
            return true;
        table = next;
    }
}

/* ---- ops shared by both targets -------------------------------------- */

/* Root of the tree an op works on: the current satp root or the second tree. */
static uint64_t fm_pick_root(fm_t *fm, uint8_t sel)
{
    if (sel & 1) {
        if (!fm->root_b && fm->b.next + FM_PAGE <= fm->ram_size) {
            fm->root_b = vm_ptbuilder_alloc_page(&fm->b);
            fm_touch(fm, fm->root_b, FM_PAGE);
            if (vmc_on())   /* the second tree's root page is taken from the builder */
                vmc_line("ptbuilder 0x%llx", (unsigned long long)fm->b.next);
        }
        if (fm->root_b)
            return fm->root_b;
    }
    return fm->s.root_ppn << 12;
}

/*
 * What vm_ptbuilder_map must do (ptbuilder.h), planned from the model's
 * memory before the call: the error it must return, or the PTE slot per
 * level and which levels need a fresh table. A valid PTE without R/X is a
 * pointer (Priv. spec step 4) and is followed whatever its other bits; a
 * valid one with R or X above the target is "an existing leaf above the
 * target level".
 */
typedef struct fm_bplan {
    vm_err_t err;
    uint64_t slot[REF_MAX_LEVELS];
    uint64_t new_table[REF_MAX_LEVELS];
    bool is_new[REF_MAX_LEVELS];
    uint64_t next;                   /* builder.next after success */
} fm_bplan_t;

static void fm_builder_plan(const fm_t *fm, int levels, uint64_t va, uint64_t pa,
                            uint64_t page_size, uint64_t flags, uint64_t root, int target,
                            fm_bplan_t *p)
{
    memset(p, 0, sizeof *p);
    p->next = fm->b.next;
    if (!(flags & (VM_PTE_R | VM_PTE_X)) || ((flags & VM_PTE_W) && !(flags & VM_PTE_R)) ||
        target >= levels || !fm_canonical(va, levels) || (va & (page_size - 1)) ||
        (pa & (page_size - 1)) || (pa >> 56) || (root & (FM_PAGE - 1))) {
        p->err = VM_ERR_INVALID_ARGUMENT;
        return;
    }
    uint64_t table = root;
    bool fresh = false;
    for (int i = levels - 1; i >= target; i--) {
        p->slot[i] = table + fm_vpn(va, i) * 8;
        if (!fresh && !fm_in_ram(fm, p->slot[i], 8)) {
            p->err = VM_ERR_INVALID_ADDRESS;
            return;
        }
        if (i == target)
            break;
        uint64_t pte = fresh ? 0 : fm_model_u64(fm, p->slot[i]);
        if (pte & VM_PTE_V) {
            if (pte & (VM_PTE_R | VM_PTE_X)) {
                p->err = VM_ERR_INVALID_ARGUMENT;
                return;
            }
            table = fm_pte_ppn(pte) << 12;
            fresh = false;
            continue;
        }
        if (!fm_in_ram(fm, p->next, FM_PAGE)) {
            p->err = VM_ERR_INVALID_ADDRESS;
            return;
        }
        p->new_table[i] = p->next;
        p->is_new[i] = true;
        table = p->next;
        p->next += FM_PAGE;
        fresh = true;
    }
    p->err = VM_OK;
}

/* Map through vm_ptbuilder_map and check it against the plan: the error,
 * the builder's bump pointer, and every byte it may have written. */
static void fm_op_map(fm_t *fm, fuzz_input_t *in)
{
    vm_gva_t va0 = fm_va(fm, in);
    uint8_t psel = fin_u8(in), ssel = fin_u8(in), flags = fin_u8(in), rsel = fin_u8(in);
    static const uint64_t sizes[4] = {VM_PAGE_4K, VM_PAGE_2M, VM_PAGE_1G, VM_PAGE_512G};
    int target = (ssel & 7) < 5 ? 0 : (ssel & 7) < 7 ? 1 : 2 + ((ssel >> 3) & 1);
    uint64_t page_size = sizes[target];
    vm_gva_t va = va0 & ~(page_size - 1);
    uint64_t pa = fm_pick_pa(fm, in, psel, page_size);
    uint64_t root = fm_pick_root(fm, rsel);
    int levels = fm->cfg_levels;
    fm_log_entry_t *e = fm_log(fm, "map", "va=0x%llx pa=0x%llx size=0x%llx flags=0x%llx", va, pa,
                               page_size, flags);
    fm_pool_add(fm, va);

    fm_bplan_t plan;
    fm_builder_plan(fm, levels, va, pa, page_size, flags, root, target, &plan);
    if (vmc_on())
        vmc_line("expect ptmap sv%d 0x%llx 0x%llx 0x%llx 0x%x 0x%llx -> %s", 12 + 9 * levels,
                 (unsigned long long)va, (unsigned long long)pa, (unsigned long long)page_size,
                 flags, (unsigned long long)root, vmc_err_name(plan.err));
    uint64_t next_before = fm->b.next;
    unsigned dev_before = fm_dev.n;
    vm_err_t err = vm_ptbuilder_map(&fm->b, fm->mmu, fm_vm_mode(levels), va, pa, page_size,
                                    flags, root);
    e->result = vm_strerror(err);
    if (fm_dev.n != dev_before)
        fm_fail(fm, "vm_ptbuilder_map touched the MMIO device");
    if (err != plan.err)
        fm_fail(fm, "vm_ptbuilder_map(va=0x%llx, pa=0x%llx, size=0x%llx, flags=0x%x, root=0x%llx): "
                    "expected %s, got %s",
                (unsigned long long)va, (unsigned long long)pa, (unsigned long long)page_size,
                flags, (unsigned long long)root, vm_strerror(plan.err), vm_strerror(err));
    if (err != VM_OK) {
        /* "Errors, all leaving memory and the builder unchanged" */
        if (fm->b.next != next_before)
            fm_fail(fm, "failed vm_ptbuilder_map moved the builder: next 0x%llx -> 0x%llx",
                    (unsigned long long)next_before, (unsigned long long)fm->b.next);
        for (int i = levels - 1; i >= target; i--)
            if (plan.slot[i] && fm_in_ram(fm, plan.slot[i], 8))
                fm_compare_range(fm, plan.slot[i], 8, "failed vm_ptbuilder_map wrote a PTE");
        fm_check_no_translation(fm, "vm_ptbuilder_map");
        return;
    }
    if (fm->b.next != plan.next)
        fm_fail(fm, "vm_ptbuilder_map: builder next 0x%llx -> 0x%llx, expected 0x%llx",
                (unsigned long long)next_before, (unsigned long long)fm->b.next,
                (unsigned long long)plan.next);
    /* Apply the plan to the model, top-down as the contract describes:
     * zero each fresh table, link it; then the leaf flags | V | ppn. */
    static const uint8_t zero_page[FM_PAGE];
    for (int i = levels - 1; i > target; i--) {
        if (!plan.is_new[i])
            continue;
        fm_model_write(fm, plan.new_table[i], zero_page, FM_PAGE);
        fm_model_write_u64(fm, plan.slot[i], VM_PTE_V | (plan.new_table[i] >> 12) << VM_PTE_PPN_SHIFT);
    }
    fm_model_write_u64(fm, plan.slot[target], (pa >> 12) << VM_PTE_PPN_SHIFT | flags | VM_PTE_V);
    for (int i = levels - 1; i >= target; i--) {
        if (plan.is_new[i])
            fm_compare_range(fm, plan.new_table[i], FM_PAGE, "vm_ptbuilder_map new table");
        fm_compare_range(fm, plan.slot[i], 8, "vm_ptbuilder_map PTE on the path");
    }
    fm_check_no_translation(fm, "vm_ptbuilder_map");
}

/* A raw 8-byte PTE write (vm_mmu_write_phys): every flag combination,
 * RSW, N/PBMT/reserved bits, misaligned superpage PPNs, pointers out of RAM,
 * and the old PTE with any one bit flipped (so a PTE that differs from a
 * valid one in exactly one flag, RSW, PPN or reserved bit). */
static void fm_op_pte(fm_t *fm, fuzz_input_t *in)
{
    vm_gva_t va = fm_va(fm, in);
    uint8_t lsel = fin_u8(in), flags = fin_u8(in), psel = fin_u8(in), hsel = fin_u8(in);
    int levels = fm->s.levels ? fm->s.levels : fm->cfg_levels;
    uint64_t slot;
    if ((lsel & 0xe0) == 0xe0 || !fm_slot(fm, (lsel & 0x10) && fm->root_b ? fm->root_b
                                                    : fm->s.root_ppn << 12,
                                      va, levels, lsel % levels, &slot))
        slot = fm_table_page(fm, psel) + (uint64_t)fm_vpn(va, lsel % levels) * 8;
    uint64_t old = fm_model_u64(fm, slot), ppn;
    unsigned idx = psel >> 3;
    switch (psel & 7) {
    case 0: ppn = fm_data_page(fm, idx) >> 12; break;
    case 1: ppn = fm_table_page(fm, idx) >> 12; break;
    case 2: ppn = (uint64_t)(idx & 3) << 9; break;                 /* 2M-aligned */
    case 3: ppn = ((uint64_t)(idx & 3) << 9) + 1 + (idx >> 2); break; /* misaligned superpage */
    case 4: ppn = (fm->ram_size >> 12) + idx; break;               /* beyond RAM */
    case 5: ppn = (FM_MMIO_BASE >> 12) + (idx & 1); break;
    case 6: ppn = (UINT64_C(1) << 43) | idx; break;
    default: ppn = fm_pte_ppn(old); break;                         /* keep the PPN: flags only */
    }
    uint64_t pte = ppn << VM_PTE_PPN_SHIFT | (uint64_t)flags | (uint64_t)(hsel & 3) << VM_PTE_RSW_SHIFT;
    switch ((hsel >> 2) % 16) {
    case 10: pte |= UINT64_C(1) << 63; break;                      /* N (Svnapot) */
    case 11: pte |= UINT64_C(1) << 61; break;                      /* PBMT = 1 */
    case 12: pte |= UINT64_C(2) << 61; break;                      /* PBMT = 2 */
    case 13: pte |= UINT64_C(3) << 61; break;                      /* PBMT = 3 */
    case 14: pte |= UINT64_C(1) << (54 + fin_u8(in) % 7); break;   /* one of bits 60:54 */
    case 15: pte = fin_u64(in); break;                             /* anything */
    case 9: pte = fin_flip(in, old, 64); break;                    /* the old PTE, one bit flipped */
    default: break;
    }
    fm_log_entry_t *e = fm_log(fm, "pte-write", "pa=0x%llx 0x%llx -> 0x%llx (va=0x%llx)", slot, old,
                               pte, va);
    fm_phys_write(fm, slot, pte);
    e->result = vm_strerror(VM_OK);
    fm_check_no_translation(fm, "vm_mmu_write_phys");
}

static const uint16_t fm_asids[4] = {0, 1, 5, 0xffff};

static void fm_op_satp(fm_t *fm, fuzz_input_t *in)
{
    uint8_t msel = fin_u8(in), asel = fin_u8(in), psel = fin_u8(in);
    unsigned mode;
    switch (msel % 8) {
    case 0: mode = 0; break;
    case 1: case 2: mode = fm_mode_of_levels(fm->cfg_levels); break;
    case 3: mode = 8 + (msel >> 3) % 3; break;
    case 4: mode = (msel >> 3) % 16; break;                    /* often unsupported */
    default: mode = fm_mode_of_levels(fm->s.levels); break;
    }
    /* 7: the current ASID with one of its 16 bits flipped (an ASID that
     * differs from the one the TLB was filled under in that bit alone). */
    uint16_t asid = (asel & 7) < 4 ? fm_asids[asel & 3] : (asel & 7) == 4 ? fm->s.asid
                  : (asel & 7) == 7 ? (uint16_t)(fm->s.asid ^ 1u << ((asel >> 3) & 15)) : asel >> 3;
    uint64_t ppn;
    switch (psel % 8) {
    case 0: case 1: ppn = fm->s.root_ppn; break;
    case 2: ppn = fin_flip(in, fm->s.root_ppn, 44); break;   /* one of the 44 PPN bits flipped */
    case 3: ppn = fm->root_a >> 12; break;
    case 4: ppn = fm_pick_root(fm, 1) >> 12; break;
    case 5: ppn = fm_data_page(fm, psel >> 3) >> 12; break;
    case 6: ppn = (fm->ram_size >> 12) + (psel >> 3); break;  /* root outside RAM */
    default: ppn = FM_MMIO_BASE >> 12; break;                 /* root in MMIO */
    }
    uint64_t satp = fm_satp_of(mode, asid, ppn);
    fm_log_entry_t *e = fm_log(fm, "satp", "0x%llx (mode %llu asid %llu root 0x%llx)", satp, mode,
                               asid, ppn << 12);
    fm_write_satp(fm, satp);
    e->result = fm_levels_name(fm->s.levels);
    fm_check_no_translation(fm, "satp write");
}

static void fm_op_paging_mode(fm_t *fm, fuzz_input_t *in)
{
    static const int lv[4] = {0, 3, 4, 5};
    int levels = lv[fin_u8(in) & 3];
    fm_log(fm, "paging-mode", fm_levels_name(levels), 0, 0, 0, 0);
    if (vmc_on())
        vmc_line("mode %s", levels ? (levels == 3 ? "sv39" : levels == 4 ? "sv48" : "sv57") : "bare");
    vm_mmu_set_paging_mode(fm->mmu, fm_vm_mode(levels));
    if (vm_mmu_paging_mode(fm->mmu) != fm_vm_mode(levels))
        fm_fail(fm, "vm_mmu_set_paging_mode(%s) did not stick", fm_levels_name(levels));
    fm->s.levels = levels;
    ref_tlb_flush_all(&fm->tlb); /* mmu.h: "flushes both TLBs" */
    fm_check_no_translation(fm, "vm_mmu_set_paging_mode");
}

static void fm_op_priv(fm_t *fm, fuzz_input_t *in)
{
    uint8_t b = fin_u8(in);
    bool on = (b >> 2) & 1;
    switch (b & 3) {
    case 0: {
        static const int privs[4] = {0, 1, 1, 3};
        int p = privs[(b >> 3) & 3];
        fm_log(fm, "priv", "%llu (0=U 1=S 3=M)", (unsigned long long)p, 0, 0, 0);
        if (vmc_on())
            vmc_line("priv %s", fm_priv_name(p));
        vm_mmu_set_priv(fm->mmu, (vm_priv_t)p);
        fm->s.priv = p;
        break;
    }
    case 1:
        fm_log(fm, "sum", "%llu", on, 0, 0, 0);
        if (vmc_on())
            vmc_line("sum %d", on);
        vm_mmu_set_sum(fm->mmu, on);
        fm->s.sum = on;
        break;
    case 2:
        fm_log(fm, "mxr", "%llu", on, 0, 0, 0);
        if (vmc_on())
            vmc_line("mxr %d", on);
        vm_mmu_set_mxr(fm->mmu, on);
        fm->s.mxr = on;
        break;
    default:
        fm_log(fm, "ad-mode", "%llu (0=hardware 1=fault)", on, 0, 0, 0);
        if (vmc_on())
            vmc_line("ad %s", on ? "fault" : "hw");
        vm_mmu_set_ad_mode(fm->mmu, on ? VM_AD_FAULT : VM_AD_HARDWARE);
        fm->s.ad_hardware = !on;
        break;
    }
    fm_check_no_translation(fm, "priv/SUM/MXR/AD change");
}

static void fm_op_flush(fm_t *fm, fuzz_input_t *in)
{
    uint8_t k = fin_u8(in);
    switch (k % 3) {
    case 0:
        fm_log(fm, "flush-all", "", 0, 0, 0, 0);
        if (vmc_on())
            vmc_line("flush all");
        vm_mmu_flush_tlb(fm->mmu);
        ref_tlb_flush_all(&fm->tlb);
        break;
    case 1: {
        uint16_t asid = (k >> 2) & 1 ? fm->s.asid : fm_asids[(k >> 3) & 3];
        fm_log(fm, "flush-asid", "%llu", asid, 0, 0, 0);
        if (vmc_on())
            vmc_line("flush asid %u", asid);
        vm_mmu_flush_tlb_asid(fm->mmu, asid);
        ref_tlb_flush_asid(&fm->tlb, asid);
        break;
    }
    default: {
        vm_gva_t va = fm_va(fm, in);
        fm_log(fm, "flush-page", "va=0x%llx", va, 0, 0, 0);
        if (vmc_on())
            vmc_line("flush page 0x%llx", (unsigned long long)va);
        vm_mmu_flush_tlb_page(fm->mmu, va);
        ref_tlb_flush_page(&fm->tlb, va);
        break;
    }
    }
    fm_check_no_translation(fm, "TLB flush");
}

static void fm_op_resize(fm_t *fm, fuzz_input_t *in)
{
    uint8_t b = fin_u8(in);
    size_t it = 1 + (b & 7), dt = 1 + ((b >> 3) & 7);
    if ((b >> 6) == 3) {
        it = 64;
        dt = 128;
    }
    fm_log_entry_t *e = fm_log(fm, "resize-tlbs", "itlb=%llu dtlb=%llu", it, dt, 0, 0);
    if (vmc_on())
        vmc_line("tlb %zu %zu", it, dt);
    vm_err_t err = vm_mmu_resize_tlbs(fm->mmu, it, dt);
    e->result = vm_strerror(err);
    size_t ci, cd;
    vm_mmu_tlb_capacity(fm->mmu, &ci, &cd);
    uint64_t h, m;
    fm_stats(fm, &h, &m);
    if (err != VM_OK || ci != it || cd != dt || h != 0 || m != 0)
        fm_fail(fm, "vm_mmu_resize_tlbs(%zu, %zu): %s, capacity %zu/%zu, stats %llu/%llu "
                    "(expected OK, same capacity, stats cleared)",
                it, dt, vm_strerror(err), ci, cd, (unsigned long long)h, (unsigned long long)m);
    fm->hits = fm->misses = 0;
    ref_tlb_flush_all(&fm->tlb); /* "clears entries" */
}

/* ---- setup and teardown ---------------------------------------------- */

/*
 * One physical memory and one MMU per RAM size, created on first use and
 * reset per input (vm_mmu_new + vm_mmu_free cost ~27 us under ASan, more
 * than the whole per-input budget). The reset is complete: TLBs flushed
 * (and resized back when an input changed their size), every setter
 * rewritten, the counters taken as a baseline, the RAM pages the input
 * touched re-zeroed, every reservation dropped, the device's registers
 * cleared; nothing else carries state from one input to the next.
 */
static struct fm_machine {
    vm_physmem_t *pm;
    vm_mmu_t *mmu;
} fm_machines[4];

static vm_mmu_t *fm_machine(unsigned k)
{
    struct fm_machine *mc = &fm_machines[k];
    if (!mc->mmu) {
        mc->pm = vm_physmem_new(fm_ram_sizes[k], false);
        if (!mc->pm)
            return NULL;
        if (vm_physmem_map_mmio(mc->pm, FM_MMIO_BASE, FM_MMIO_SIZE, &fm_dev_ops, &fm_dev) != VM_OK)
            return NULL;
        mc->mmu = vm_mmu_new_shared(mc->pm);
    }
    return mc->mmu;
}

/*
 * Put a machine into the one state every input starts from: Bare, satp 0,
 * S-mode, SUM/MXR off, hardware A/D, no strict alignment, TLBs flushed.
 * Called after creation and at the end of every input. Why at the end:
 * the setters' own branches depend on the state they find (every one
 * recomputes the hit path's permission bits along a mode- and
 * priv-dependent path; a flush scans the entries the last input filled),
 * so a reset at the start of the next input would record the previous
 * input's state in that input's coverage (AFL++ stability). At the end,
 * those branches belong to the input that left the state: deterministic.
 */
static void fm_machine_reset(vm_mmu_t *mmu)
{
    vm_mmu_set_paging_mode(mmu, VM_PAGING_BARE); /* flushes both TLBs */
    vm_mmu_set_satp(mmu, 0);
    vm_mmu_set_priv(mmu, VM_PRIV_S);
    vm_mmu_set_sum(mmu, false);
    vm_mmu_set_mxr(mmu, false);
    vm_mmu_set_ad_mode(mmu, VM_AD_HARDWARE);
    vm_mmu_set_strict_align(mmu, false);
}

/* All four machines at once, from LLVMFuzzerInitialize: a machine created
 * lazily makes the first input of its RAM size take extra edges. */
static int fm_trace = -1; /* VMMEM_FUZZ_TRACE=1: print every input's scenario */

static void fm_init_machines(void)
{
    fm_trace = getenv("VMMEM_FUZZ_TRACE") != NULL;
    for (unsigned k = 0; k < 4; k++) {
        vm_mmu_t *mmu = fm_machine(k);
        uint64_t v;
        /* Warm up: the first LR of an owner allocates its reservation
         * slot; take that path here, not in the first input that does LR. */
        if (mmu && vm_mmu_load_reserved(mmu, 0, 8, &v) == VM_OK)
            vm_physmem_invalidate(vm_mmu_physmem(mmu), 0, 8);
        if (mmu)
            fm_machine_reset(mmu);
    }
}

/*
 * Config header (6 bytes): mode, RAM size, root selector, ASID selector,
 * flags (priv 1:0, SUM 2, MXR 3, AD fault 4, strict 5, 7:6 == 3 for the
 * default TLB sizes), TLB sizes (itlb 2:0, dtlb 5:3, each + 1). Returns false if the MMU could not be created (host OOM).
 */
static bool fm_setup(fm_t *fm, fuzz_input_t *in, const char *target)
{
    uint8_t msel = fin_u8(in), rsel = fin_u8(in), root_sel = fin_u8(in), asel = fin_u8(in);
    uint8_t fl = fin_u8(in), tsel = fin_u8(in);

    fm->target = target;
    fm->cfg_levels = 3 + msel % 3;
    fm->ram_size = fm_ram_sizes[rsel % 4];
    fm->model_regs = fm_model_regs;
    vmc_start(target);
    if (vmc_on()) {   /* the machine as the runner builds it: RAM at 0, the device */
        vmc_line("mem %lluK", (unsigned long long)(fm->ram_size >> 10));
        vmc_line("expect mmio 0x%llx 0x%x -> ok", (unsigned long long)FM_MMIO_BASE, FM_MMIO_SIZE);
    }
    fm->npages = (unsigned)(fm->ram_size / FM_PAGE);
    fm->table_lo = fm->ram_size / 2;
    fm->n_ops = 0;
    fm->have_walk = false;
    fm->have_walk2 = false;
    fm->resv_unknown = false;
    fm->root_b = 0;

    fm->mmu = fm_machine(rsel % 4);
    if (!fm->mmu)
        return false;
    fm->core_ram = vm_mmu_physmem(fm->mmu)->ram;

    fm->m.ram = fm_mram;
    fm->m.size = fm->ram_size;
    fm->m.mmio[0] = (struct ref_mmio){FM_MMIO_BASE, FM_MMIO_SIZE};
    fm->m.n_mmio = 1;
    fm_dev.n = 0;
    fm_dev.bad = NULL;
    ref_tlb_reset(&fm->tlb);
    ref_resv_reset(&fm->resv);

    vm_ptbuilder_init(&fm->b, fm->table_lo);
    uint64_t first = vm_ptbuilder_alloc_page(&fm->b);
    if (vmc_on())   /* the first table page is the default root */
        vmc_line("ptbuilder 0x%llx", (unsigned long long)fm->b.next);
    switch (root_sel >> 5) {
    case 6: fm->root_a = fm_data_page(fm, root_sel); break;
    case 7:
        fm->root_a = (root_sel & 3) == 0 ? fm->ram_size         /* PTE read: access fault */
                   : (root_sel & 3) == 1 ? FM_MMIO_BASE         /* never read a PTE from a device */
                   : fm->table_lo - FM_PAGE;  /* last data page (the builder area is its own) */
        break;
    default: fm->root_a = first; break;
    }
    fm_touch(fm, fm->root_a, FM_PAGE);

    fm->s = (ref_rv_state_t){0};
    fm_pool_init(fm);

    /* Reset the machine: Bare first, then TLBs, then every setter. Bare
     * first, whatever the last input left: set_satp flushes only on a MODE
     * change, and every setter recomputes the hit path's permission bits
     * along a branch that depends on the current mode and priv, so with the
     * previous input's mode still in place the setters below would take
     * its branches (AFL++ stability); in Bare they all take the identity
     * branch, and the config's satp below is always a MODE change. */
    vm_mmu_set_paging_mode(fm->mmu, VM_PAGING_BARE);
    vm_mmu_set_satp(fm->mmu, 0);
    /* Small TLBs (1..8 entries) in 3 of 4 inputs: evictions are frequent
     * and flushes cheap; the default 64/128 in the rest. */
    size_t want_i = 64, want_d = 128, ci, cd;
    if ((fl >> 6) != 3) {
        want_i = 1 + (tsel & 7);
        want_d = 1 + ((tsel >> 3) & 7);
    }
    /* Always a resize: fresh entries and hint arrays, exactly as a new
     * MMU has them (a flush keeps the hints, and stale hints change which
     * branches the next lookups take: AFL++ stability). */
    if (vm_mmu_resize_tlbs(fm->mmu, want_i, want_d) != VM_OK)
        fm_fail(fm, "vm_mmu_resize_tlbs(%zu, %zu) failed", want_i, want_d);
    vm_mmu_tlb_capacity(fm->mmu, &ci, &cd);
    if (vmc_on())
        vmc_line("tlb %zu %zu", want_i, want_d);
    if (ci != want_i || cd != want_d)
        fm_fail(fm, "vm_mmu_resize_tlbs(%zu, %zu) left %zu/%zu", want_i, want_d, ci, cd);
    static const int privs[4] = {0, 1, 1, 3};
    fm->s.priv = privs[fl & 3];
    vm_mmu_set_priv(fm->mmu, (vm_priv_t)fm->s.priv);
    fm->s.sum = (fl >> 2) & 1;
    vm_mmu_set_sum(fm->mmu, fm->s.sum);
    fm->s.mxr = (fl >> 3) & 1;
    vm_mmu_set_mxr(fm->mmu, fm->s.mxr);
    fm->s.ad_hardware = !((fl >> 4) & 1);
    vm_mmu_set_ad_mode(fm->mmu, fm->s.ad_hardware ? VM_AD_HARDWARE : VM_AD_FAULT);
    fm->strict = (fl >> 5) & 1;
    vm_mmu_set_strict_align(fm->mmu, fm->strict);
    if (vmc_on()) {
        vmc_line("priv %s", fm_priv_name(fm->s.priv));
        vmc_line("sum %d", fm->s.sum);
        vmc_line("mxr %d", fm->s.mxr);
        vmc_line("ad %s", fm->s.ad_hardware ? "hw" : "fault");
        vmc_line("strict %d", fm->strict);
    }

    uint16_t asid = (asel & 3) == 3 ? asel >> 2 : fm_asids[asel & 3];
    /* The fault record too: the previous input's last fault must not decide
     * which branch this input's first success takes (AFL++ stability). A
     * fault (unbacked PA in Bare mode), then a success, always. */
    {
        uint64_t v;
        vm_gpa_t pa;
        if (vm_mmu_read(fm->mmu, UINT64_C(1) << 62, 8, &v) == VM_OK ||
            vm_mmu_translate(fm->mmu, 0, VM_ACCESS_READ, &pa) != VM_OK)
            fm_fail(fm, "Bare-mode reset probe: unbacked read succeeded or identity failed");
    }
    fm_write_satp(fm, fm_satp_of(fm_mode_of_levels(fm->cfg_levels), asid, fm->root_a >> 12));
    fm_stats(fm, &fm->hits, &fm->misses);
    if (fm_trace > 0) /* the decoded header: part of the golden decode traces */
        fprintf(stderr, "config: %s ram=0x%llx root=0x%llx builder@0x%llx asid=0x%x priv=%s "
                        "sum=%d mxr=%d ad=%s strict=%d tlbs=%zu/%zu\n",
                fm_levels_name(fm->cfg_levels), (unsigned long long)fm->ram_size,
                (unsigned long long)fm->root_a, (unsigned long long)fm->table_lo, asid,
                fm_priv_name(fm->s.priv), fm->s.sum, fm->s.mxr, fm->s.ad_hardware ? "hw" : "fault",
                fm->strict, want_i, want_d);
    return true;
}

/* End of input: compare RAM and device, then reset what the input touched. */
static void fm_teardown(fm_t *fm)
{
    vm_physmem_t *pm = vm_mmu_physmem(fm->mmu);
    if (fm_trace < 0)
        fm_trace = getenv("VMMEM_FUZZ_TRACE") != NULL;
    if (fm_trace)
        fm_print_log(fm, stderr);
    fm_log(fm, "end", "final RAM compare", 0, 0, 0, 0);
    bool all = fm->npages <= 16; /* 64 KiB: compare everything (stray writes) */
    for (unsigned i = 0; i < fm->npages / 8; i++) {
        uint8_t pages = all ? 0xff : (uint8_t)(fm->touched[i] | fm->dirty[i]);
        for (unsigned bit = 0; pages && bit < 8; bit++)
            if ((pages >> bit) & 1)
                fm_compare_range(fm, (uint64_t)(i * 8 + bit) * FM_PAGE, FM_PAGE,
                                 "final RAM compare");
    }
    if (fm_dev.n && memcmp(fm_dev.regs, fm_model_regs, FM_MMIO_SIZE) != 0)
        fm_fail(fm, "final MMIO register file differs from the model");
    vmc_finish();   /* the runner's own end-of-file compare replaces the two above */

    /* Reset: RAM pages the input touched or wrote (white-box: straight
     * into the core's mapping), the device, every reservation. */
    for (unsigned i = 0; i < FM_MAX_PAGES / 8; i++) {
        uint8_t pages = (uint8_t)(fm->touched[i] | fm->dirty[i]);
        for (unsigned bit = 0; pages && bit < 8; bit++) {
            if (!((pages >> bit) & 1))
                continue;
            uint64_t pa = (uint64_t)(i * 8 + bit) * FM_PAGE;
            memset(pm->ram + pa, 0, FM_PAGE);
            memset(fm_mram + pa, 0, FM_PAGE);
        }
        fm->touched[i] = fm->dirty[i] = 0;
    }
    if (fm_dev.n) {
        memset(fm_dev.regs, 0, sizeof fm_dev.regs);
        memset(fm_model_regs, 0, sizeof fm_model_regs);
    }
    for (size_t i = 0; i < pm->res_len; i++)
        if (pm->res[i].valid)
            vm_physmem_invalidate(pm, pm->res[i].granule, VM_RESERVATION_GRANULE);
    if (__atomic_load_n(&pm->nres, __ATOMIC_RELAXED) != 0)
        fm_fail(fm, "vm_physmem_invalidate on every reserved granule left nres = %u",
                __atomic_load_n(&pm->nres, __ATOMIC_RELAXED));
    fm_machine_reset(fm->mmu);
    fm->mmu = NULL;
}

/* ---- translation oracle (both targets) ------------------------------- */

static inline int fm_outcome_of(vm_err_t err)
{
    switch (err) {
    case VM_OK: return REF_OK;
    case VM_ERR_PAGE_FAULT: return REF_PAGE_FAULT;
    case VM_ERR_ACCESS_FAULT: return REF_ACCESS_FAULT;
    case VM_ERR_ALIGNMENT_FAULT: return REF_MISALIGNED;
    default: return -1;
    }
}

static inline vm_fault_kind_t fm_kind_of(int outcome)
{
    switch (outcome) {
    case REF_PAGE_FAULT: return VM_FAULT_PAGE;
    case REF_ACCESS_FAULT: return VM_FAULT_ACCESS;
    case REF_MISALIGNED: return VM_FAULT_MISALIGNED;
    default: return VM_FAULT_NONE;
    }
}

/* The fresh reference walk (apply == false); remembers it for the report
 * and marks its PTE pages for the final compare. */
static void fm_fresh(fm_t *fm, uint64_t va, int acc, ref_rv_walk_t *w)
{
    ref_rv_translate(&fm->m, &fm->s, va, acc, false, w);
    for (int k = 0; k < w->n_steps && k < REF_MAX_LEVELS; k++)
        fm_touch(fm, w->steps[k].pte_addr, 8);
    fm->walk = *w;
    fm->walk_va = va;
    fm->walk_acc = acc;
    fm->have_walk = true;
}

/* Is (outcome, pa) justified by a remembered leaf alone (a TLB hit)? */
static inline bool fm_hit_legal(const fm_t *fm, uint64_t va, int acc, const ref_rv_walk_t *fresh,
                                int outcome, uint64_t pa)
{
    ref_rv_walk_t never = *fresh;
    never.outcome = -1; /* matches no observed outcome: only remembered leaves can justify */
    never.pa = ~pa;
    return ref_tlb_legal(&fm->tlb, &fm->s, va, acc, &never, outcome, pa);
}

/* Does the core's memory at the walk's PTE words differ from the model? */
static bool fm_walk_words_changed(fm_t *fm, const ref_rv_walk_t *w)
{
    for (int k = 0; k < w->n_steps && k < REF_MAX_LEVELS; k++) {
        uint64_t a = w->steps[k].pte_addr;
        if (fm_in_ram(fm, a, 8) && fm_core_u64(fm, a) != fm_model_u64(fm, a))
            return true;
    }
    return false;
}

/*
 * After the core walked: its PTE words must equal the model's plus the
 * fresh walk's A/D write. Applies that write to the model.
 */
static void fm_check_walk_memory(fm_t *fm, const ref_rv_walk_t *w, bool ad_done, const char *what)
{
    for (int k = 0; k < w->n_steps && k < REF_MAX_LEVELS; k++) {
        uint64_t a = w->steps[k].pte_addr;
        if (!fm_in_ram(fm, a, 8))
            continue;
        uint64_t want = fm_model_u64(fm, a);
        if (ad_done && a == w->pte_addr)
            want = w->ad_value;
        uint64_t got = fm_core_u64(fm, a);
        if (got != want)
            fm_fail(fm, "%s: PTE at 0x%llx is 0x%llx in the core, expected 0x%llx "
                        "(model before 0x%llx; the walk %s an A/D write)",
                    what, (unsigned long long)a, (unsigned long long)got,
                    (unsigned long long)want, (unsigned long long)fm_model_u64(fm, a),
                    ad_done ? "does" : "does not do");
    }
    if (ad_done && fm_model_u64(fm, w->pte_addr) != w->ad_value)
        fm_model_write_u64(fm, w->pte_addr, w->ad_value);
}

/* What one checked translation answered (fm_check_translate_as). */
typedef struct fm_answer {
    int outcome;       /* REF_OK, REF_PAGE_FAULT, REF_ACCESS_FAULT */
    uint64_t pa;       /* with REF_OK */
    uint64_t dh, dm;   /* how the TLB counters moved */
    vm_fault_t fault;  /* vm_mmu_last_fault() right after */
} fm_answer_t;

/*
 * One vm_mmu_translate checked against the reference: legal answer
 * (ref_tlb_legal), counters (one hit or miss per paged translation), walk
 * vs hit (a miss must equal the fresh walk exactly, A/D write included; a
 * hit must be justified by a remembered leaf and write nothing), fault
 * record. Returns the outcome; `out` (may be NULL) gets the whole answer.
 * `logged` false: an oracle's own translation, judged the same but not an
 * op of the input, so it stays out of the op log (and the decode view the
 * golden traces record, fuzz/input_format.py); it is still a .vmc line.
 */
static int fm_check_translate_as(fm_t *fm, uint64_t va, int acc, bool logged, fm_answer_t *out)
{
    static const char *const names[3] = {"translate-r", "translate-w", "translate-x"};
    fm_log_entry_t quiet;
    fm_log_entry_t *e = logged ? fm_log(fm, names[acc], "va=0x%llx", va, 0, 0, 0) : &quiet;
    ref_rv_walk_t fresh;
    fm_fresh(fm, va, acc, &fresh);
    fm->have_walk2 = false;
    vmc_rv_translate(fm, va, acc, &fresh);

    vm_gpa_t pa = UINT64_C(0xbad0bad0bad0bad0);
    vm_err_t err = vm_mmu_translate(fm->mmu, va, (vm_access_t)acc, &pa);
    const vm_fault_t *f = vm_mmu_last_fault(fm->mmu);
    uint64_t h, m;
    fm_stats(fm, &h, &m);
    uint64_t dh = h - fm->hits, dm = m - fm->misses;
    fm->hits = h;
    fm->misses = m;
    e->result = vm_strerror(err);

    int outcome = fm_outcome_of(err);
    if (outcome < 0 || outcome == REF_MISALIGNED)
        fm_fail(fm, "vm_mmu_translate(0x%llx, %s) returned %s; expected %s (reference)",
                (unsigned long long)va, fm_acc_name[acc], vm_strerror(err),
                ref_outcome_name(fresh.outcome));
    bool paged = fm_paged(fm);
    if (dh + dm != (paged ? 1u : 0u))
        fm_fail(fm, "TLB counters moved by hits +%llu misses +%llu for one %s translation "
                    "(expected exactly one hit or miss when paging is active, none otherwise)",
                (unsigned long long)dh, (unsigned long long)dm, paged ? "paged" : "unpaged");
    bool walked = !paged || dm == 1;
    if (!walked && fm_walk_words_changed(fm, &fresh))
        fm_fail(fm, "translate of 0x%llx counted a TLB hit but changed PTE memory",
                (unsigned long long)va);
    if (walked) {
        if (outcome != fresh.outcome || (outcome == REF_OK && pa != fresh.pa))
            fm_fail(fm, "translate %s 0x%llx walked (TLB miss): core %s pa=0x%llx, reference %s "
                        "pa=0x%llx (%s)",
                    fm_acc_name[acc], (unsigned long long)va, ref_outcome_name(outcome),
                    (unsigned long long)pa, ref_outcome_name(fresh.outcome),
                    (unsigned long long)fresh.pa, fresh.why ? fresh.why : "");
        fm_check_walk_memory(fm, &fresh, outcome == REF_OK && fresh.ad_write, "translate");
        if (paged && outcome == REF_OK)
            ref_tlb_record(&fm->tlb, &fm->s, va, acc, &fresh);
    } else if (!fm_hit_legal(fm, va, acc, &fresh, outcome, pa)) {
        fm_fail(fm, "translate %s 0x%llx hit the TLB giving %s pa=0x%llx, which no remembered "
                    "leaf justifies (fresh walk: %s pa=0x%llx)",
                fm_acc_name[acc], (unsigned long long)va, ref_outcome_name(outcome),
                (unsigned long long)pa, ref_outcome_name(fresh.outcome),
                (unsigned long long)fresh.pa);
    }

    /* The fault record (mmu.h: kind NONE after a success). */
    if (outcome == REF_OK) {
        if (f->kind != VM_FAULT_NONE)
            fm_fail(fm, "successful translate left fault kind %d", (int)f->kind);
    } else {
        int cause = ref_cause(outcome, acc);
        if (f->kind != fm_kind_of(outcome) || (int)f->cause != cause || f->va != va ||
            (int)f->access != acc)
            fm_fail(fm, "fault record: kind %d cause %u va 0x%llx access %d; expected kind %d "
                        "cause %d va 0x%llx access %d",
                    (int)f->kind, f->cause, (unsigned long long)f->va, (int)f->access,
                    (int)fm_kind_of(outcome), cause, (unsigned long long)va, acc);
        if (walked && (f->level != fresh.level ||
                       (fresh.level >= 0 && (f->pte_addr != fresh.pte_addr || f->pte != fresh.pte))))
            fm_fail(fm, "fault record of a walk: level %d pte@0x%llx=0x%llx; reference level %d "
                        "pte@0x%llx=0x%llx (%s)",
                    f->level, (unsigned long long)f->pte_addr, (unsigned long long)f->pte,
                    fresh.level, (unsigned long long)fresh.pte_addr,
                    (unsigned long long)fresh.pte, fresh.why ? fresh.why : "");
    }
    if (out) {
        out->outcome = outcome;
        out->pa = pa;
        out->dh = dh;
        out->dm = dm;
        out->fault = *f;
    }
    return outcome;
}

static int fm_check_translate(fm_t *fm, uint64_t va, int acc)
{
    return fm_check_translate_as(fm, va, acc, true, NULL);
}

#endif /* VMMEM_FUZZ_MMU_COMMON_H */
