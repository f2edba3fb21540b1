/*
 * bench_world.c - builds the guest world of bench_vs_qemu (see bench_world.h).
 *
 * How: the page tables are built once by vmmem's own vm_ptbuilder in a
 * vm_physmem_t, the RAM is dumped into a host buffer (the image Unicorn maps
 * with uc_mem_map_ptr), the data pattern and probe pages are written into the
 * image and the image is restored into vmmem, so both guests see identical
 * bytes: the same Sv39 layout, leaf for leaf. The native twins get a host copy
 * of the 64 MiB data region. Every later change (the chase cycles) goes
 * through bw_write_both() and the native copy together.
 *
 * Rejected: building Unicorn's tables separately by hand (two layouts to keep
 * equal, and a difference would silently change what is compared), and giving
 * Unicorn vmmem's own RAM pointer (Unicorn would then write into vmmem's
 * memory behind its back, and vmmem's RAM layout is not public).
 *
 * Host backing: every copy is ordinary anonymous memory without
 * MADV_HUGEPAGE (vmmem is created with use_hugepages = false), so all
 * columns pay the same host-TLB cost; the rows' "2 MiB pages" are guest pages.
 */
#include "bench_world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void *host_alloc(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

bool bw_write_both(struct bench_world *w, uint64_t pa, const void *src, size_t len)
{
    if (pa > BW_RAM_SIZE || len > BW_RAM_SIZE - pa)
        return false;
    memcpy(w->image + pa, src, len);
    return vm_physmem_write_buf(w->pm, pa, src, len) == VM_OK;
}

static bool write_u64_both(struct bench_world *w, uint64_t pa, uint64_t v)
{
    return bw_write_both(w, pa, &v, sizeof v);
}

/* The Sv39 layout of bench_world.h, built by vmmem's page-table builder. */
static bool build_tables(struct bench_world *w)
{
    vm_mmu_t *mmu = vm_mmu_new_shared(w->pm);
    if (!mmu)
        return false;
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, BW_TABLES_PA);
    vm_gpa_t root = vm_ptbuilder_alloc_page(&b);
    const uint64_t rw = VM_PTE_R | VM_PTE_W | VM_PTE_A | VM_PTE_D;
    bool ok = vm_ptbuilder_map_sv39(&b, mmu, BW_CODE_VA, BW_CODE_PA, VM_PTE_X | VM_PTE_A, root) == VM_OK &&
              vm_ptbuilder_map_sv39(&b, mmu, BW_MAGIC_VA, BW_MAGIC_PA, rw, root) == VM_OK &&
              vm_ptbuilder_map_sv39(&b, mmu, BW_RO_VA, BW_RO_PA, VM_PTE_R | VM_PTE_A, root) == VM_OK &&
              vm_ptbuilder_map_sv39(&b, mmu, BW_USER_VA, BW_USER_PA, rw | VM_PTE_U, root) == VM_OK;
    for (uint64_t off = 0; ok && off < BW_BULK_SIZE; off += BW_PAGE)
        ok = vm_ptbuilder_map_sv39(&b, mmu, BW_BULK_VA + off, BW_BULK_PA + off, rw, root) == VM_OK;
    for (uint64_t off = 0; ok && off < BW_DATA_SIZE; off += BW_PAGE)
        ok = vm_ptbuilder_map_sv39(&b, mmu, BW_DATA_VA + off, BW_DATA_PA + off, rw, root) == VM_OK;
    for (uint64_t off = 0; ok && off < BW_DATA_SIZE; off += VM_PAGE_2M)
        ok = vm_ptbuilder_map(&b, mmu, VM_PAGING_SV39, BW_DATA2M_VA + off, BW_DATA_PA + off,
                              VM_PAGE_2M, rw, root) == VM_OK;
    /* The tables must stay below the bulk target they would otherwise overlap. */
    ok = ok && b.next <= BW_BULK_PA;
    vm_mmu_free(mmu);
    /* satp: MODE 8 = Sv39 (Priv. spec, satp MODE encoding), ASID 0, root PPN */
    w->satp = (UINT64_C(8) << 60) | (root >> 12);
    return ok;
}

bool bw_init(struct bench_world *w)
{
    memset(w, 0, sizeof *w);
    w->pm = vm_physmem_new(BW_RAM_SIZE, false);
    w->image = host_alloc(BW_RAM_SIZE);
    w->native = host_alloc(BW_DATA_SIZE);
    if (!w->pm || !w->image || !w->native) {
        fprintf(stderr, "bench: out of memory for the guest world\n");
        return false;
    }
    if (!build_tables(w)) {
        fprintf(stderr, "bench: building the Sv39 tables failed\n");
        return false;
    }
    if (vm_physmem_dump(w->pm, w->image, BW_RAM_SIZE) != VM_OK)
        return false;
    for (uint64_t off = 0; off < BW_DATA_SIZE; off += 8) {
        uint64_t v = bw_pattern(BW_DATA_PA + off);
        memcpy(w->image + BW_DATA_PA + off, &v, 8);
    }
    const uint64_t magic = BW_MAGIC, ro = ~BW_MAGIC, user = BW_MAGIC ^ 0xff;
    memcpy(w->image + BW_MAGIC_PA, &magic, 8);
    memcpy(w->image + BW_RO_PA, &ro, 8);
    memcpy(w->image + BW_USER_PA, &user, 8);
    if (vm_physmem_restore(w->pm, w->image, BW_RAM_SIZE) != VM_OK)
        return false;
    memcpy(w->native, w->image + BW_DATA_PA, BW_DATA_SIZE);
    return true;
}

void bw_free(struct bench_world *w)
{
    vm_physmem_free(w->pm);
    if (w->image)
        munmap(w->image, BW_RAM_SIZE);
    if (w->native)
        munmap(w->native, BW_DATA_SIZE);
    memset(w, 0, sizeof *w);
}

/* A small deterministic generator for the cycle (xorshift64*). */
static uint64_t shuffle_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

bool bw_set_chase(struct bench_world *w, unsigned pages)
{
    if (pages > BW_MAX_CHASE_PAGES)
        return false;
    for (unsigned i = 0; i < w->chase_pages; i++) { /* the old slots get their pattern back */
        uint64_t off = (uint64_t)i * BW_PAGE + bw_slot_offset(i);
        uint64_t v = bw_pattern(BW_DATA_PA + off);
        if (!write_u64_both(w, BW_DATA_PA + off, v))
            return false;
        memcpy(w->native + off, &v, 8);
    }
    w->chase_pages = pages;
    if (!pages)
        return true;
    /* Sattolo's shuffle: a single cycle through every page, in random order,
     * so no prefetcher guesses the next page and every page is visited. */
    uint32_t order[BW_MAX_CHASE_PAGES];
    for (unsigned i = 0; i < pages; i++)
        order[i] = i;
    uint64_t s = UINT64_C(0x9e3779b97f4a7c15) ^ pages;
    for (unsigned i = pages - 1; i > 0; i--) {
        unsigned j = (unsigned)(shuffle_next(&s) % i);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (unsigned k = 0; k < pages; k++)
        w->next[order[k]] = order[(k + 1) % pages];
    for (unsigned i = 0; i < pages; i++) {
        unsigned to = w->next[i];
        uint64_t off = (uint64_t)i * BW_PAGE + bw_slot_offset(i);
        uint64_t host = (uint64_t)(uintptr_t)(w->native + (uint64_t)to * BW_PAGE + bw_slot_offset(to));
        if (!write_u64_both(w, BW_DATA_PA + off, bw_slot_va(to)))
            return false;
        memcpy(w->native + off, &host, 8);
    }
    return true;
}

unsigned bw_expect_chase(const struct bench_world *w, uint64_t steps)
{
    unsigned p = 0;
    for (uint64_t i = 0; i < steps % w->chase_pages; i++)
        p = w->next[p];
    return p;
}

uint64_t bw_expect_seq(uint64_t n)
{
    uint64_t sum = 0, off = 0;
    for (uint64_t i = 0; i < n; i++) {
        sum += bw_pattern(BW_DATA_PA + off);
        off = (off + 8) & (BW_DATA_SIZE - 1);
    }
    return sum;
}

uint64_t bw_expect_rand(uint64_t n)
{
    uint64_t sum = 0, x = BW_LCG_SEED;
    for (uint64_t i = 0; i < n; i++) {
        x = bw_lcg(x);
        sum += bw_pattern(BW_DATA_PA + bw_rand_offset(x));
    }
    return sum;
}
