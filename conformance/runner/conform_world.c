/*
 * conform_world.c - the per-file state of vmmem-conform's extension files:
 * harts, reservations, the end-of-file checks, and which file claims a line.
 *
 * Harts. `hart N` (0..7) selects the hart the following lines act as. Each
 * hart is a core vm_mmu_t over the one physical memory (hart 0 is the
 * runner's own MMU, the others come from vm_mmu_new_shared on first use)
 * with its own TLBs, satp, privilege, SUM/MXR, A/D mode, strict alignment
 * and LR/SC owner, and a reference state and remembered-leaf table of its
 * own. Switching saves the acting hart's fields out of the runner's machine
 * and loads the selected one's, so every existing line works per hart
 * unchanged. A new hart starts as a file does: Bare, S-mode, SUM=MXR=0, A/D
 * in hardware, strict alignment off, TLBs 64/128.
 *
 * Reservations. One reference ref_resv_t per file, indexed by hart. Every
 * RAM write the reference makes (runner lines, A/D updates, data stores,
 * physical writes, DMA, the page-table builder) goes through
 * conform_ext_ram_written and breaks the reservations it touches, exactly
 * as physmem.h says a write does in the core. Physical LR/SC lines act with
 * the acting hart's `owner` id; MMU LR/SC lines with the core MMU's own
 * owner; a file uses one form or the other (the core's MMU owner ids are
 * process-wide counters that a case cannot name).
 *
 * End of file. The core's RAM must equal the reference's byte for byte and
 * every register-file device must hold the same registers on both: the
 * reference mirrors every write the core may make, so any difference is a
 * write the core made where the reference did not (a stray store, a partial
 * bulk write) or missed. Then every device mapped with a destroy callback
 * must have been destroyed exactly once.
 *
 * Rejected: a separate runner for multi-hart files (every line would need
 * two implementations); comparing all of RAM after every line (the lines
 * compare the ranges they touch; the end compare catches the rest).
 */
#define _DEFAULT_SOURCE /* mincore */
#include "conform_ext_int.h"
#include "physmem_int.h" /* the core's RAM mapping, for the final compare */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE_BYTES 4096u

/* ---- harts ------------------------------------------------------------- */

static void hart_save(const conform_view_t *v, conform_hart_t *h)
{
    h->mmu = *v->core;
    h->rv = *v->rv;
    h->tlb = *v->tlb;
    h->strict = *v->strict;
    h->hits_base = *v->hits_base;
    h->misses_base = *v->misses_base;
}

static void hart_load(const conform_view_t *v, const conform_hart_t *h)
{
    *v->core = h->mmu;
    *v->rv = h->rv;
    *v->tlb = h->tlb;
    *v->strict = h->strict;
    *v->hits_base = h->hits_base;
    *v->misses_base = h->misses_base;
}

static int hart_create(const conform_view_t *v, int n)
{
    conform_ext_t *ext = v->ext;
    conform_hart_t *h = &ext->hart[n];
    memset(h, 0, sizeof *h);
    h->tlb = conform_zalloc(sizeof *h->tlb);
    if (!h->tlb)
        return conform_malformed(v, "hart %d: out of memory", n);
    ref_tlb_reset(h->tlb);
    h->rv.priv = 1;
    h->rv.ad_hardware = true;
    h->owner = (uint64_t)n;
    if (ext->pm) {
        h->mmu = vm_mmu_new_shared(ext->pm);
        if (!h->mmu) {
            conform_zfree(h->tlb, sizeof *h->tlb);
            return conform_malformed(v, "hart %d: vm_mmu_new_shared failed", n);
        }
        vm_mmu_set_strict_align(h->mmu, false);   /* not VM_STRICT_ALIGN from the environment */
        vm_mmu_tlb_stats(h->mmu, &h->hits_base, &h->misses_base);
    }
    h->live = true;
    return 0;
}

static int select_hart(const conform_view_t *v, int n)
{
    conform_ext_t *ext = v->ext;
    if (n == ext->cur)
        return 0;
    if (!ext->hart[n].live && hart_create(v, n))
        return CONFORM_ERROR;
    hart_save(v, &ext->hart[ext->cur]);
    hart_load(v, &ext->hart[n]);
    ext->cur = n;
    return 0;
}

/* tlb ITLB DTLB: vm_mmu_resize_tlbs, which "clears entries and stats". */
static int line_tlb(const conform_view_t *v, char **tok, int ntok)
{
    uint64_t it, dt;
    if (ntok != 3 || !conform_parse_u64(tok[1], &it) || !conform_parse_u64(tok[2], &dt) ||
        it < 1 || it > 4096 || dt < 1 || dt > 4096)
        return conform_malformed(v, "expected: tlb ITLB DTLB (1..4096 entries each)");
    ref_tlb_flush_all(*v->tlb);
    *v->hits_base = *v->misses_base = 0;
    (*v->expectations)++;
    if (!*v->core)
        return CONFORM_DONE;
    vm_err_t err = vm_mmu_resize_tlbs(*v->core, (size_t)it, (size_t)dt);
    size_t ci = 0, cd = 0;
    uint64_t h = 0, m = 0;
    vm_mmu_tlb_capacity(*v->core, &ci, &cd);
    vm_mmu_tlb_stats(*v->core, &h, &m);
    if (err != VM_OK || ci != it || cd != dt || h || m)
        conform_fail(v, "tlb %llu %llu: core %s, capacity %zu/%zu, stats %llu/%llu (expected ok, "
                        "that capacity, stats cleared)",
                     (unsigned long long)it, (unsigned long long)dt, conform_err_name(err), ci, cd,
                     (unsigned long long)h, (unsigned long long)m);
    else
        conform_pass(v);
    return CONFORM_DONE;
}

int conform_world_line(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    uint64_t n;
    if (!strcmp(tok[0], "hart")) {
        if (ntok != 2 || !conform_parse_u64(tok[1], &n) || n >= CONFORM_MAX_HARTS)
            return conform_malformed(v, "expected: hart N (0..%d)", CONFORM_MAX_HARTS - 1);
        return select_hart(v, (int)n) ? CONFORM_ERROR : CONFORM_DONE;
    }
    if (!strcmp(tok[0], "owner")) {
        if (ntok != 2 || !conform_parse_u64(tok[1], &n))
            return conform_malformed(v, "expected: owner ID (the acting hart's LR/SC owner id)");
        for (int h = 0; h < CONFORM_MAX_HARTS; h++)
            if (h != ext->cur && ext->hart[h].live && ext->hart[h].owner_set &&
                ext->hart[h].owner == n)
                return conform_malformed(v, "owner 0x%llx is already hart %d's",
                                         (unsigned long long)n, h);
        ext->hart[ext->cur].owner = n;
        ext->hart[ext->cur].owner_set = true;
        return CONFORM_DONE;
    }
    if (!strcmp(tok[0], "tlb"))
        return line_tlb(v, tok, ntok);
    return CONFORM_NOT_MINE;
}

/* ---- reservations ------------------------------------------------------- */

int conform_resv_form(const conform_view_t *v, bool physical)
{
    conform_ext_t *ext = v->ext;
    *(physical ? &ext->phys_lrsc : &ext->mmu_lrsc) = true;
    if (ext->phys_lrsc && ext->mmu_lrsc)
        return conform_malformed(v, "a file uses physical LR/SC (plr, psc, preserve, pclear) or "
                                    "LR/SC through the MMU (lrN, scN), not both");
    if (physical)
        for (int h = 0; h < CONFORM_MAX_HARTS; h++)
            if (h != ext->cur && ext->hart[h].live && ext->hart[h].owner == ext->hart[ext->cur].owner)
                return conform_malformed(v, "harts %d and %d have the same owner id 0x%llx",
                                         h, ext->cur, (unsigned long long)ext->hart[h].owner);
    return 0;
}

bool conform_resv_sc(conform_ext_t *ext, int hart, uint64_t pa, unsigned size, bool core_stored)
{
    if (!ext->resv_unknown[hart])
        return ref_resv_sc(&ext->resv, hart, pa, size);
    /* A stale translation may or may not have invalidated the reservation
     * (conform_mmu.c, invalidate): the core's answer decides, the rest is
     * what an SC does. */
    ext->resv_unknown[hart] = false;
    ext->resv.valid[hart] = false;
    if (core_stored)
        ref_resv_write(&ext->resv, pa, size);
    return core_stored;
}

void conform_ext_ram_written(conform_ext_t *ext, uint64_t pa, uint64_t len)
{
    if (!ext || len == 0)
        return;
    for (int h = 0; h < CONFORM_MAX_HARTS; h++) {
        uint64_t g = ext->resv.granule[h];
        uint64_t last = len - 1 > UINT64_MAX - pa ? UINT64_MAX : pa + (len - 1);
        if (ext->resv_unknown[h] && pa <= g + 7 && g <= last) {
            ext->resv_unknown[h] = false;   /* now certainly broken */
            ext->resv.valid[h] = false;
        }
    }
    ref_resv_write(&ext->resv, pa, len);
    /* the pages the reference wrote, for the final compare */
    uint64_t base = ext->ram_base, size = ext->ram_size;
    uint64_t end = len - 1 > UINT64_MAX - pa ? UINT64_MAX : pa + (len - 1);   /* last byte */
    if (ext->ref_written && size && end >= base && pa <= base + (size - 1)) {
        uint64_t lo = pa < base ? 0 : pa - base;
        uint64_t hi = end - base > size - 1 ? size - 1 : end - base;
        for (uint64_t p = lo / PAGE_BYTES; p <= hi / PAGE_BYTES; p++)
            ext->ref_written[p / 8] |= (uint8_t)(1u << (p % 8));
    }
}

/* ---- the reference's RAM ---------------------------------------------- */

void conform_ref_write(const conform_view_t *v, uint64_t pa, const uint8_t *src, uint64_t len)
{
    if (len == 0)
        return;
    memcpy(v->mem->ram + (pa - v->mem->base), src, len);
    conform_ext_ram_written(v->ext, pa, len);
}

uint64_t conform_ref_load(const conform_view_t *v, uint64_t pa, unsigned size)
{
    uint64_t x = 0;
    for (unsigned k = 0; k < size; k++)
        x |= (uint64_t)v->mem->ram[pa - v->mem->base + k] << (8 * k);
    return x;
}

uint64_t conform_ext_ref_mmio(const conform_view_t *v, uint64_t pa, unsigned size, bool write,
                              uint64_t val)
{
    int region;
    uint64_t off;
    if (ref_mem_route(v->mem, pa, size, &region, &off) != REF_ROUTE_MMIO)
        return 0;
    if (v->ext->region_dev[region] < 0)
        return 0;   /* the `mmio` dummy: reads 0, ignores writes */
    conform_device_ref_access(v, region, off, size, write, &val);
    return write ? 0 : val;
}

/* ---- per file ------------------------------------------------------------- */

conform_ext_t *conform_ext_start(const conform_view_t *v)
{
    conform_ext_t *ext = calloc(1, sizeof *ext);
    if (!ext)
        return NULL;
    ref_resv_reset(&ext->resv);
    for (int r = 0; r < REF_MAX_MMIO; r++)
        ext->region_dev[r] = -1;
    ext->pm = *v->core ? vm_mmu_physmem(*v->core) : NULL;
    ext->ram_base = v->mem->base;
    ext->ram_size = v->mem->size;
    ext->ref_written = calloc(1, (size_t)((v->mem->size + 8 * PAGE_BYTES - 1) / (8 * PAGE_BYTES)));
    if (!ext->ref_written) {
        free(ext);
        return NULL;
    }
    ext->hart[0].live = true;   /* the runner's machine; saved on the first switch */
    ext->hart[0].owner = 0;
    return ext;
}

int conform_ext_line(const conform_view_t *v, char **tok, int ntok)
{
    int (*const parts[])(const conform_view_t *, char **, int) = {
        conform_world_line, conform_device_line, conform_phys_line, conform_mmu_line,
        conform_ptmap_line,
    };
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
        int r = parts[k](v, tok, ntok);
        if (r != CONFORM_NOT_MINE)
            return r;
    }
    return CONFORM_NOT_MINE;
}

void conform_ext_after_line(const conform_view_t *v)
{
    conform_device_compare_calls(v);
}

/* One 4 KiB page of RAM, core vs reference; false (reported) if they differ. */
static bool compare_page(const conform_view_t *v, const uint8_t *core, uint64_t off, uint64_t n)
{
    const ref_mem_t *m = v->mem;
    if (!memcmp(core + off, m->ram + off, n))
        return true;
    uint64_t i = off;
    while (core[i] == m->ram[i])
        i++;
    conform_fail(v, "final RAM compare: RAM at 0x%llx is 0x%02x in the core, 0x%02x in the "
                    "reference (a write one of them made and the other did not)",
                 (unsigned long long)(m->base + i), core[i], m->ram[i]);
    return false;
}

/*
 * All of RAM, core vs reference: the first difference is reported. Only
 * pages that either side may have written are read: those the reference
 * wrote (conform_ext_ram_written keeps a bitmap) and those resident in the
 * core's mapping (mincore: a page the core never touched is not, and reads
 * as zero like an unwritten reference page). Reading all of a 16 MiB
 * default RAM would fault in 8192 pages per file. The core's RAM is read
 * straight from its mapping (physmem_int.h).
 */
static void compare_all_ram(const conform_view_t *v)
{
    conform_ext_t *ext = v->ext;
    const ref_mem_t *m = v->mem;
    const uint8_t *core = ext->pm->ram;
    (*v->expectations)++;
    if (ext->pm->ram_size != m->size || vm_physmem_base(ext->pm) != m->base) {
        conform_fail(v, "final RAM compare: the core's RAM is %llu bytes at 0x%llx, the "
                        "reference's %llu at 0x%llx",
                     (unsigned long long)ext->pm->ram_size,
                     (unsigned long long)vm_physmem_base(ext->pm), (unsigned long long)m->size,
                     (unsigned long long)m->base);
        return;
    }
    uint64_t pages = (m->size + PAGE_BYTES - 1) / PAGE_BYTES;
    unsigned char *resident = malloc(pages);
    bool know = resident && ext->ref_written &&
                mincore((void *)(uintptr_t)core, pages * PAGE_BYTES, resident) == 0;
    for (uint64_t p = 0; p < pages; p++) {
        bool maybe = !know || (resident[p] & 1) || (ext->ref_written[p / 8] >> (p % 8) & 1);
        uint64_t off = p * PAGE_BYTES, n = m->size - off < PAGE_BYTES ? m->size - off : PAGE_BYTES;
        if (maybe && !compare_page(v, core, off, n)) {
            free(resident);
            return;
        }
    }
    free(resident);
    conform_pass(v);
}

void conform_ext_end(const conform_view_t *v, bool checks)
{
    conform_ext_t *ext = v->ext;
    if (ext->cur != 0) {
        hart_save(v, &ext->hart[ext->cur]);
        hart_load(v, &ext->hart[0]);
        ext->cur = 0;
    }
    ext->end_checks = checks;
    if (checks && ext->pm) {
        compare_all_ram(v);
        conform_device_end(v);
    }
    for (int h = 1; h < CONFORM_MAX_HARTS; h++) {
        if (!ext->hart[h].live)
            continue;
        vm_mmu_free(ext->hart[h].mmu);
        conform_zfree(ext->hart[h].tlb, sizeof *ext->hart[h].tlb);
        ext->hart[h].live = false;
    }
}

void conform_ext_free(const conform_view_t *v)
{
    conform_device_free(v);
    free(v->ext->ref_written);
    free(v->ext);
}
