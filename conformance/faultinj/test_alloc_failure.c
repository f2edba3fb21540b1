/*
 * test_alloc_failure.c - every host allocation of every public function
 * that allocates is made to fail, one at a time, and the function must
 * report it (VM_ERR_OUT_OF_MEMORY, or NULL from a constructor) and leave
 * every object exactly as it was.
 *
 * How it works
 * ------------
 * The test links vmmem_allocfail, a copy of the core compiled with
 * VMMEM_ALLOC_INJECT (core/src/alloc_int.h): alloc_inject_fail_at(n) makes
 * the n-th allocation attempt from then on fail, and the library counts
 * attempts, live heap blocks and mapped bytes. For each operation:
 *
 *  1. count: on a fresh world, arm with 0 (count only), run the operation,
 *     which must succeed; K = the attempts it made. An operation that the
 *     contract says allocates must make at least one (else the sweep would
 *     prove nothing).
 *  2. sweep n = 1..K: build two identical worlds A and B (same calls in the
 *     same order), fail the n-th allocation of the operation on A, and
 *     check: the error (or NULL), no heap block or mapping leaked, and A
 *     and B are indistinguishable through the public API - the probe runs
 *     the same observations on both and the two records must be equal;
 *     then the operation, retried on A without injection, succeeds.
 *
 * "Observable state" is everything the API shows: RAM (dumped whole),
 * devices (a read through each region, and what each device saw), each
 * MMU's mode, satp, TLB sizes, hit/miss counters and fault record, the TLB
 * contents (a translation of every mapped page, and the hit/miss counters
 * after it: a dropped or added entry changes them), the A/D bits the walks
 * set, and every owner's reservation (an SC by each owner where it
 * reserved). Comparing with an untouched twin instead of with a snapshot
 * lets destructive observations (SC, translations) count too.
 *
 * Expectations come from the headers' contracts: physmem.h (map_mmio, LR
 * and reserve on allocation failure), mmu.h (constructors NULL on failure,
 * resize_tlbs, bulk transfers, LR through the MMU), ptbuilder.h (the
 * builder takes guest frames, not host memory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_int.h"
#include "vmmem/vmmem.h"

#define RAM_SIZE (UINT64_C(1) << 20)
#define ROOT UINT64_C(0x10000)
#define TABLES UINT64_C(0x11000)
#define DATA UINT64_C(0x80000)      /* data pages: DATA + perm(i) * 4 KiB */
#define VA_BASE UINT64_C(0x40000000)
#define NPAGES 24u                  /* mapped pages: more than a bulk transfer's 16 on the stack */
#define BULK_PAGES 20u
#define DEV1 UINT64_C(0x10000000)   /* mapped in every world */
#define DEV2 UINT64_C(0x10001000)   /* mapped by the map_mmio operations */
#define ASID 3u
#define RAW_OWNERS 8u               /* reservations that fill the first table */
#define NEW_OWNER 99u
#define RESV_PA UINT64_C(0x100)
#define NEW_OWNER_PA UINT64_C(0x2000)

/* ---- the world: RAM, two MMUs, devices, page tables, reservations ----- */

struct device {
    uint64_t tag;
    uint64_t reads, writes, last_write;
};

struct world {
    vm_mmu_t *mmu;   /* owns pm */
    vm_mmu_t *cpu1;  /* a second hart over the same memory */
    vm_physmem_t *pm;
    struct device dev1, dev2;
    uint8_t buf[BULK_PAGES * 4096]; /* the caller's buffer of the bulk operations */
    vm_mmu_t *made;                 /* what a constructor operation returned */
};

static vm_err_t dev_read(void *opaque, uint64_t off, uint8_t size, uint64_t *val)
{
    struct device *d = opaque;
    (void)size;
    d->reads++;
    *val = d->tag ^ off;
    return VM_OK;
}

static vm_err_t dev_write(void *opaque, uint64_t off, uint64_t val, uint8_t size)
{
    struct device *d = opaque;
    (void)off;
    (void)size;
    d->writes++;
    d->last_write = val;
    return VM_OK;
}

static const vm_mmio_ops_t dev_ops = { .read = dev_read, .write = dev_write };

static uint64_t satp_sv39(uint16_t asid, vm_gpa_t root)
{
    return (UINT64_C(8) << 60) | ((uint64_t)asid << 44) | (root >> 12);
}

/* Data page of mapped page i: out of order, so page identity is visible. */
static vm_gpa_t data_pa(unsigned i)
{
    return DATA + (uint64_t)((i * 7u) % NPAGES) * 4096u;
}

static vm_gva_t page_va(unsigned i)
{
    return VA_BASE + (uint64_t)i * 4096u;
}

/*
 * Build a world. With full_table, RAW_OWNERS raw owners hold reservations,
 * which fills the reservation table's first allocation (8 slots), so the
 * next owner's first LR must grow it; without, nobody ever reserved and
 * the first LR creates the table.
 */
static void world_setup(struct world *w, bool full_table)
{
    memset(w, 0, sizeof(*w));
    w->mmu = vm_mmu_new(RAM_SIZE, false);
    assert_non_null(w->mmu);
    w->pm = vm_mmu_physmem(w->mmu);
    w->cpu1 = vm_mmu_new_shared(w->pm);
    assert_non_null(w->cpu1);

    static uint8_t pattern[RAM_SIZE];
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)(i * 131u + (i >> 9));
    assert_int_equal(vm_physmem_write_buf(w->pm, 0, pattern, sizeof(pattern)), VM_OK);
    for (uint64_t off = 0; off < 512u * 8u; off += 8) /* an empty root table */
        assert_int_equal(vm_physmem_write_u64(w->pm, ROOT + off, 0), VM_OK);

    w->dev1.tag = UINT64_C(0x1111000000000000);
    w->dev2.tag = UINT64_C(0x2222000000000000);
    assert_int_equal(vm_physmem_map_mmio(w->pm, DEV1, 0x1000, &dev_ops, &w->dev1), VM_OK);

    /* Leaves without A and D: a walk that an operation should not have
     * done shows up as a set bit in RAM. */
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, TABLES);
    for (unsigned i = 0; i < NPAGES; i++)
        assert_int_equal(vm_ptbuilder_map_sv39(&b, w->mmu, page_va(i), data_pa(i),
                                               VM_PTE_R | VM_PTE_W | VM_PTE_X, ROOT),
                         VM_OK);
    vm_mmu_set_satp(w->mmu, satp_sv39(ASID, ROOT));
    vm_mmu_set_satp(w->cpu1, satp_sv39(ASID, ROOT));

    /* Some TLB entries, some statistics, a fault on record. */
    uint64_t v;
    assert_int_equal(vm_mmu_read(w->mmu, page_va(0), 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write(w->mmu, page_va(1), 0x5151, 8), VM_OK);
    assert_int_equal(vm_mmu_read(w->cpu1, page_va(3), 4, &v), VM_OK);
    assert_int_equal(vm_mmu_read(w->mmu, page_va(0) + 8, 8, &v), VM_OK); /* hits */
    assert_int_equal(vm_mmu_read(w->cpu1, page_va(3) + 8, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_read(w->mmu, page_va(NPAGES), 8, &v), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_read(w->cpu1, page_va(NPAGES + 1), 8, &v), VM_ERR_PAGE_FAULT);

    if (full_table)
        for (unsigned o = 1; o <= RAW_OWNERS; o++)
            assert_int_equal(vm_physmem_load_reserved(w->pm, RESV_PA + 8u * o, 8, o, &v), VM_OK);
    memset(w->buf, 0x5a, sizeof(w->buf));
}

static void world_free(struct world *w)
{
    vm_mmu_free(w->made);
    vm_mmu_free(w->cpu1);
    vm_mmu_free(w->mmu);
    memset(w, 0, sizeof(*w));
}

/* ---- probe: a record of everything the API shows ---------------------- */

struct observation {
    const char *what;
    uint64_t index;
    uint64_t value;
};

struct record {
    struct observation *obs;
    size_t len, cap;
};

static void note(struct record *r, const char *what, uint64_t index, uint64_t value)
{
    if (r->len == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4096;
        r->obs = realloc(r->obs, r->cap * sizeof(*r->obs));
        assert_non_null(r->obs);
    }
    r->obs[r->len++] = (struct observation){ what, index, value };
}

static void note_ram(struct record *r, vm_physmem_t *pm, const char *what)
{
    static uint64_t words[RAM_SIZE / 8];
    assert_int_equal(vm_physmem_dump(pm, words, sizeof(words)), VM_OK);
    for (size_t i = 0; i < RAM_SIZE / 8; i++)
        note(r, what, i * 8, words[i]);
}

static void note_mmu(struct record *r, vm_mmu_t *mmu)
{
    uint64_t hits, misses;
    size_t itlb, dtlb;
    const vm_fault_t *f = vm_mmu_last_fault(mmu);
    note(r, "paging mode", 0, (uint64_t)vm_mmu_paging_mode(mmu));
    note(r, "satp", 0, vm_mmu_satp(mmu));
    vm_mmu_tlb_capacity(mmu, &itlb, &dtlb);
    note(r, "itlb capacity", 0, itlb);
    note(r, "dtlb capacity", 0, dtlb);
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    note(r, "tlb hits", 0, hits);
    note(r, "tlb misses", 0, misses);
    note(r, "fault va", 0, f->va);
    note(r, "fault access", 0, (uint64_t)f->access);
    note(r, "fault kind", 0, (uint64_t)f->kind);
    note(r, "fault cause", 0, f->cause);
    note(r, "fault syndrome", 0, f->syndrome);
    note(r, "fault level", 0, (uint64_t)(int64_t)f->level);
    note(r, "fault pte_addr", 0, f->pte_addr);
    note(r, "fault pte", 0, f->pte);
    note(r, "fault reason", 0, (uint64_t)(uintptr_t)f->reason);
}

/* The TLB contents: a translation of every page, then the counters. A
 * lookup that hits adds a hit; one that misses walks (and fills). */
static void note_tlb(struct record *r, vm_mmu_t *mmu)
{
    for (unsigned i = 0; i < NPAGES + 2; i++) {
        vm_gpa_t pa = 0;
        vm_err_t err = vm_mmu_translate(mmu, page_va(i), VM_ACCESS_READ, &pa);
        note(r, "translate err", i, (uint64_t)err);
        note(r, "translate pa", i, pa);
    }
    uint64_t hits, misses;
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    note(r, "tlb hits after translating every page", 0, hits);
    note(r, "tlb misses after translating every page", 0, misses);
}

/* Each owner's reservation: an SC where it reserved (fails without one). */
static void note_reservations(struct record *r, struct world *w)
{
    bool stored;
    for (unsigned o = 1; o <= RAW_OWNERS; o++) {
        vm_err_t err = vm_physmem_store_conditional(w->pm, RESV_PA + 8u * o, 0xabcd, 8, o, &stored);
        note(r, "raw owner SC err", o, (uint64_t)err);
        note(r, "raw owner SC stored", o, stored);
    }
    vm_err_t err = vm_physmem_store_conditional(w->pm, NEW_OWNER_PA, 0xef, 8, NEW_OWNER, &stored);
    note(r, "new owner SC err", 0, (uint64_t)err);
    note(r, "new owner SC stored", 0, stored);
    err = vm_mmu_store_conditional(w->cpu1, page_va(2), 0x77, 8, &stored);
    note(r, "cpu1 SC err", 0, (uint64_t)err);
    note(r, "cpu1 SC stored", 0, stored);
}

static void note_devices(struct record *r, struct world *w)
{
    uint64_t v = 0;
    vm_err_t err = vm_physmem_read_u64(w->pm, DEV1 + 8, &v);
    note(r, "dev1 read err", 0, (uint64_t)err);
    note(r, "dev1 read value", 0, v);
    v = 0;
    err = vm_physmem_read_u64(w->pm, DEV2 + 8, &v);
    note(r, "dev2 read err", 0, (uint64_t)err);
    note(r, "dev2 read value", 0, v);
    note(r, "dev1 reads", 0, w->dev1.reads);
    note(r, "dev1 writes", 0, w->dev1.writes);
    note(r, "dev2 reads", 0, w->dev2.reads);
    note(r, "dev2 writes", 0, w->dev2.writes);
}

static void probe(struct world *w, struct record *r)
{
    note(r, "physmem size", 0, vm_physmem_size(w->pm));
    note(r, "physmem base", 0, vm_physmem_base(w->pm));
    note(r, "physmem hugepages", 0, (uint64_t)vm_physmem_hugepages(w->pm));
    for (size_t i = 0; i < sizeof(w->buf); i += 8) {
        uint64_t word;
        memcpy(&word, w->buf + i, 8);
        note(r, "caller buffer", i, word);
    }
    note_ram(r, w->pm, "RAM before observing");
    note_mmu(r, w->mmu);
    note_mmu(r, w->cpu1);
    note_devices(r, w);
    note_reservations(r, w);
    note_tlb(r, w->mmu);
    note_tlb(r, w->cpu1);
    note_ram(r, w->pm, "RAM after observing (A bits, SCs)");
}

static void assert_same(const struct record *a, const struct record *b, const char *op, uint64_t n)
{
    size_t len = a->len < b->len ? a->len : b->len;
    for (size_t i = 0; i < len; i++) {
        const struct observation *x = &a->obs[i], *y = &b->obs[i];
        if (x->what != y->what || x->index != y->index || x->value != y->value) {
            print_error("%s, allocation %llu failed: %s [%llu] is 0x%llx, untouched twin has 0x%llx\n",
                        op, (unsigned long long)n, x->what, (unsigned long long)x->index,
                        (unsigned long long)x->value, (unsigned long long)y->value);
            fail();
        }
    }
    assert_int_equal(a->len, b->len);
}

/* ---- the sweep ---------------------------------------------------------- */

enum expect {
    EXPECT_OOM,      /* returns VM_ERR_OUT_OF_MEMORY */
    EXPECT_NOTHING,  /* void function: only the state is checked */
};

struct operation {
    const char *name;
    bool full_table;   /* world with a full reservation table */
    bool allocates;    /* the contract says it allocates: K >= 1 */
    enum expect expect;
    vm_err_t (*run)(struct world *w);
};

static vm_err_t op_physmem_map_mmio(struct world *w)
{
    return vm_physmem_map_mmio(w->pm, DEV2, 0x1000, &dev_ops, &w->dev2);
}

static vm_err_t op_mmu_map_mmio(struct world *w)
{
    return vm_mmu_map_mmio(w->mmu, DEV2, 0x1000, &dev_ops, &w->dev2);
}

static vm_err_t op_physmem_load_reserved(struct world *w)
{
    uint64_t v;
    return vm_physmem_load_reserved(w->pm, NEW_OWNER_PA, 8, NEW_OWNER, &v);
}

static vm_err_t op_physmem_reserve(struct world *w)
{
    vm_physmem_reserve(w->pm, NEW_OWNER_PA, NEW_OWNER, 8);
    return VM_OK;
}

/* page 2: not in any TLB yet and its PTE has A clear, so a walk would show */
static vm_err_t op_mmu_load_reserved(struct world *w)
{
    uint64_t v;
    return vm_mmu_load_reserved(w->cpu1, page_va(2), 8, &v);
}

static vm_err_t op_mmu_resize_tlbs(struct world *w)
{
    return vm_mmu_resize_tlbs(w->mmu, 32, 16);
}

static vm_err_t op_mmu_read_bulk(struct world *w)
{
    return vm_mmu_read_bulk(w->mmu, page_va(2) + 8, w->buf, sizeof(w->buf) - 64);
}

static vm_err_t op_mmu_write_bulk(struct world *w)
{
    static uint8_t data[BULK_PAGES * 4096];
    memset(data, 0xc3, sizeof(data));
    return vm_mmu_write_bulk(w->mmu, page_va(2) + 8, data, sizeof(data) - 64);
}

static vm_err_t op_ptbuilder_map(struct world *w)
{
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, TABLES + 0x40000);
    return vm_ptbuilder_map_sv39(&b, w->mmu, UINT64_C(0x80000000), DATA, VM_PTE_R, ROOT);
}

static vm_err_t op_mmu_new_shared(struct world *w)
{
    w->made = vm_mmu_new_shared(w->pm);
    return w->made ? VM_OK : VM_ERR_OUT_OF_MEMORY;
}

static void sweep(const struct operation *op)
{
    struct world *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    struct record ra = { 0 }, rb = { 0 };
    assert_non_null(a);
    assert_non_null(b);

    /* 1. count */
    world_setup(a, op->full_table);
    alloc_inject_fail_at(0);
    assert_int_equal(op->run(a), VM_OK);
    uint64_t k = alloc_inject_calls();
    world_free(a);
    if (op->allocates && k == 0) {
        print_error("%s made no host allocation: the sweep would prove nothing\n", op->name);
        fail();
    }

    /* 2. sweep */
    for (uint64_t n = 1; n <= k; n++) {
        world_setup(a, op->full_table);
        world_setup(b, op->full_table);
        int64_t blocks = alloc_inject_live_blocks(), mapped = alloc_inject_mapped_bytes();
        alloc_inject_fail_at(n);
        vm_err_t err = op->run(a);
        alloc_inject_fail_at(0);
        if (op->expect == EXPECT_OOM && err != VM_ERR_OUT_OF_MEMORY) {
            print_error("%s with allocation %llu of %llu failing returned %s\n", op->name,
                        (unsigned long long)n, (unsigned long long)k, vm_strerror(err));
            fail();
        }
        assert_int_equal(alloc_inject_live_blocks(), blocks);
        assert_int_equal(alloc_inject_mapped_bytes(), mapped);
        ra.len = rb.len = 0;
        probe(a, &ra);
        probe(b, &rb);
        assert_same(&ra, &rb, op->name, n);
        /* Still usable: the same call without the failure succeeds. */
        vm_mmu_free(a->made);
        a->made = NULL;
        assert_int_equal(op->run(a), VM_OK);
        world_free(a);
        world_free(b);
    }
    free(ra.obs);
    free(rb.obs);
    free(a);
    free(b);
}

static const struct operation operations[] = {
    { "vm_physmem_map_mmio", false, true, EXPECT_OOM, op_physmem_map_mmio },
    { "vm_mmu_map_mmio", false, true, EXPECT_OOM, op_mmu_map_mmio },
    { "vm_physmem_load_reserved (first table)", false, true, EXPECT_OOM, op_physmem_load_reserved },
    { "vm_physmem_load_reserved (table full)", true, true, EXPECT_OOM, op_physmem_load_reserved },
    { "vm_physmem_reserve (table full)", true, true, EXPECT_NOTHING, op_physmem_reserve },
    { "vm_mmu_load_reserved (first table)", false, true, EXPECT_OOM, op_mmu_load_reserved },
    { "vm_mmu_load_reserved (table full)", true, true, EXPECT_OOM, op_mmu_load_reserved },
    { "vm_mmu_resize_tlbs", false, true, EXPECT_OOM, op_mmu_resize_tlbs },
    { "vm_mmu_read_bulk (20 pages)", false, true, EXPECT_OOM, op_mmu_read_bulk },
    { "vm_mmu_write_bulk (20 pages)", false, true, EXPECT_OOM, op_mmu_write_bulk },
    { "vm_mmu_new_shared", false, true, EXPECT_OOM, op_mmu_new_shared },
    { "vm_ptbuilder_map_sv39 (guest frames only)", false, false, EXPECT_OOM, op_ptbuilder_map },
};

static void test_alloc_failure_every_operation_reports_and_changes_nothing(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(operations) / sizeof(operations[0]); i++)
        sweep(&operations[i]);
}

/* The builder hands out guest frames: it must never take host memory. */
static void test_alloc_failure_builder_takes_no_host_memory(void **state)
{
    struct world *w = calloc(1, sizeof(*w));
    (void)state;
    assert_non_null(w);
    world_setup(w, false);
    alloc_inject_fail_at(0);
    assert_int_equal(op_ptbuilder_map(w), VM_OK);
    assert_int_equal(alloc_inject_calls(), 0);
    world_free(w);
    free(w);
}

/* ---- constructors ------------------------------------------------------- */

struct constructor {
    const char *name;
    bool hugepages; /* a failed huge mapping falls back to a smaller one */
    vm_physmem_t *(*new_physmem)(void);
    vm_mmu_t *(*new_mmu)(void);
    uint64_t size, base;
};

static vm_physmem_t *ctor_physmem_new(void)
{
    return vm_physmem_new(64u << 10, false);
}

static vm_physmem_t *ctor_physmem_new_huge(void)
{
    return vm_physmem_new(4u << 20, true);
}

static vm_physmem_t *ctor_physmem_new_at(void)
{
    return vm_physmem_new_at(UINT64_C(1) << 30, 64u << 10, false);
}

static vm_mmu_t *ctor_mmu_new(void)
{
    return vm_mmu_new(64u << 10, false);
}

static vm_mmu_t *ctor_mmu_new_huge(void)
{
    return vm_mmu_new(4u << 20, true);
}

static vm_mmu_t *ctor_mmu_new_at(void)
{
    return vm_mmu_new_at(UINT64_C(1) << 30, 64u << 10, false);
}

static vm_mmu_t *ctor_mmu_new_default(void)
{
    return vm_mmu_new_default();
}

static const struct constructor constructors[] = {
    { "vm_physmem_new", false, ctor_physmem_new, NULL, 64u << 10, 0 },
    { "vm_physmem_new (huge pages)", true, ctor_physmem_new_huge, NULL, 4u << 20, 0 },
    { "vm_physmem_new_at", false, ctor_physmem_new_at, NULL, 64u << 10, UINT64_C(1) << 30 },
    { "vm_mmu_new", false, NULL, ctor_mmu_new, 64u << 10, 0 },
    { "vm_mmu_new (huge pages)", true, NULL, ctor_mmu_new_huge, 4u << 20, 0 },
    { "vm_mmu_new_at", false, NULL, ctor_mmu_new_at, 64u << 10, UINT64_C(1) << 30 },
    { "vm_mmu_new_default", false, NULL, ctor_mmu_new_default, 64u << 10, 0 },
};

/* A constructed object must be complete: the right RAM, first and last
 * byte usable, and for an MMU a translation that fills its TLB. */
static void check_works(const struct constructor *c, vm_physmem_t *pm, vm_mmu_t *mmu)
{
    uint64_t v = 0;
    if (mmu)
        pm = vm_mmu_physmem(mmu);
    assert_int_equal(vm_physmem_size(pm), c->size);
    assert_int_equal(vm_physmem_base(pm), c->base);
    assert_int_equal(vm_physmem_write_u64(pm, c->base + c->size - 8, 0x0123456789abcdef), VM_OK);
    assert_int_equal(vm_physmem_read_u64(pm, c->base + c->size - 8, &v), VM_OK);
    assert_int_equal(v, 0x0123456789abcdef);
    assert_int_equal(vm_physmem_write_u8(pm, c->base, 0x42), VM_OK);
    if (mmu) {
        size_t itlb, dtlb;
        vm_mmu_tlb_capacity(mmu, &itlb, &dtlb);
        assert_int_equal(itlb, 64);
        assert_int_equal(dtlb, 128);
        assert_int_equal(vm_mmu_read(mmu, c->base, 1, &v), VM_OK);
        assert_int_equal(v, 0x42);
    }
}

static void free_made(vm_physmem_t *pm, vm_mmu_t *mmu)
{
    vm_physmem_free(pm);
    vm_mmu_free(mmu);
}

static void test_alloc_failure_constructors_return_null_and_leak_nothing(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(constructors) / sizeof(constructors[0]); i++) {
        const struct constructor *c = &constructors[i];
        int64_t blocks = alloc_inject_live_blocks(), mapped = alloc_inject_mapped_bytes();

        alloc_inject_fail_at(0);
        vm_physmem_t *pm = c->new_physmem ? c->new_physmem() : NULL;
        vm_mmu_t *mmu = c->new_mmu ? c->new_mmu() : NULL;
        uint64_t k = alloc_inject_calls();
        assert_true(pm != NULL || mmu != NULL);
        check_works(c, pm, mmu);
        free_made(pm, mmu);
        assert_int_equal(alloc_inject_live_blocks(), blocks);
        assert_int_equal(alloc_inject_mapped_bytes(), mapped);
        assert_true(k >= 2); /* the object and its RAM, at least */

        unsigned fell_back = 0;
        for (uint64_t n = 1; n <= k; n++) {
            alloc_inject_fail_at(n);
            pm = c->new_physmem ? c->new_physmem() : NULL;
            mmu = c->new_mmu ? c->new_mmu() : NULL;
            alloc_inject_fail_at(0);
            if (pm != NULL || mmu != NULL) {
                /* Only a huge-page request has a fallback (a smaller
                 * mapping); the object must then be complete. */
                if (!c->hugepages) {
                    print_error("%s with allocation %llu of %llu failing returned an object\n",
                                c->name, (unsigned long long)n, (unsigned long long)k);
                    fail();
                }
                check_works(c, pm, mmu);
                free_made(pm, mmu);
                fell_back++;
            }
            assert_int_equal(alloc_inject_live_blocks(), blocks);
            assert_int_equal(alloc_inject_mapped_bytes(), mapped);
        }
        /* With huge pages some failures have a fallback, never all. */
        assert_true(fell_back < k);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_failure_every_operation_reports_and_changes_nothing),
        cmocka_unit_test(test_alloc_failure_builder_takes_no_host_memory),
        cmocka_unit_test(test_alloc_failure_constructors_return_null_and_leak_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
