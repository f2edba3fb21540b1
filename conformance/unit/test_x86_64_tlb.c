/*
 * test_x86_64_tlb.c - the x86-64 TLB rules: PCID tagging (SDM Vol. 3A
 * 4.10.1), global pages (4.10.2.4), what is cached (4.10.2.2), the
 * invalidating operations (4.10.4.1: MOV to CR3 with and without bit 63,
 * MOV to CR0/CR4, INVLPG, INVPCID types 0-3, page faults) and the
 * registers whose changes need no invalidation in vmmem (vmmem/x86_64.h:
 * CPL, CR0.WP, CR4.SMEP/SMAP, RFLAGS.AC, PKRU take effect on the next
 * access).
 *
 * How it works: one MMU (4 MiB RAM) in VM_PAGING_X86_64 with 4-level
 * paging, paging structures written entry by entry. Whether a translation
 * is still cached is observed the way a guest could: the entry that maps
 * the page is rewritten in memory to another frame without any
 * invalidation ("retarget"); a later access that still gets the old frame
 * used a TLB entry, one that gets the new frame walked. The SDM lets a
 * processor drop any entry at any time, so the tests assert "must be gone"
 * after an invalidation the SDM requires, and "still cached" only where
 * vmmem's contract promises it (entries are kept until an invalidation
 * covers them: vmmem/mmu.h, vmmem/x86_64.h).
 *
 * Rejected: peeking at the TLB's internals (tlb.h): the tests would then
 * check the data structure, not the behaviour the guest depends on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define RAM (UINT64_C(4) << 20)
#define ROOT1 UINT64_C(0x10000)
#define ROOT2 UINT64_C(0x11000)
#define TABLES UINT64_C(0x12000)
#define TABLES_END UINT64_C(0x100000)
#define OLD UINT64_C(0x200000) /* frames a page maps first ... */
#define NEW UINT64_C(0x300000) /* ... and after a retarget */

#define E_P VM_X86_PTE_P
#define E_RW VM_X86_PTE_RW
#define E_US VM_X86_PTE_US
#define E_A VM_X86_PTE_A
#define E_D VM_X86_PTE_D
#define E_G VM_X86_PTE_G
#define E_LEAF (E_P | E_RW | E_US | E_A | E_D)
#define E_UPPER (E_P | E_RW | E_US | E_A)

#define VA1 UINT64_C(0x0000123456789000)
#define VA2 UINT64_C(0x0000123456aaa000)
#define VAK UINT64_C(0xffff888000001000) /* a "kernel" address */

struct env {
    vm_mmu_t *mmu;
    vm_gpa_t next_table;
    vm_x86_regs_t regs;
};

static void poke(struct env *e, vm_gpa_t pa, uint64_t v)
{
    assert_int_equal(vm_mmu_write_phys(e->mmu, pa, v, 8), VM_OK);
}

static uint64_t peek(struct env *e, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(e->mmu, pa, 8, &v), VM_OK);
    return v;
}

static void apply(struct env *e)
{
    assert_int_equal(vm_mmu_set_x86_regs(e->mmu, &e->regs), VM_OK);
}

static vm_gpa_t new_table(struct env *e)
{
    vm_gpa_t t = e->next_table;
    assert_true(t < TABLES_END);
    e->next_table += 0x1000;
    for (unsigned i = 0; i < 512; i++)
        poke(e, t + 8 * i, 0);
    return t;
}

/* Map the 4 KiB page va in the 4-level tree at root to `leaf`; returns the
 * address of the PTE. */
static vm_gpa_t map(struct env *e, vm_gpa_t root, vm_gva_t va, uint64_t leaf)
{
    vm_gpa_t table = root;
    for (unsigned l = 4; l > 1; l--) {
        vm_gpa_t slot = table + 8 * ((va >> (12 + 9 * (l - 1))) & 511);
        uint64_t entry = peek(e, slot);
        if (!(entry & E_P)) {
            vm_gpa_t t = new_table(e);
            poke(e, slot, t | E_UPPER);
            table = t;
        } else {
            table = entry & UINT64_C(0x000ffffffffff000);
        }
    }
    vm_gpa_t pte = table + 8 * ((va >> 12) & 511);
    poke(e, pte, leaf);
    return pte;
}

/* Rewrite the PTE to map `frame`, keeping its flags, without invalidating. */
static void retarget(struct env *e, vm_gpa_t pte, vm_gpa_t frame)
{
    poke(e, pte, (peek(e, pte) & ~UINT64_C(0x000ffffffffff000)) | frame);
}

/* The PA the MMU gives for va now (the access must succeed). */
static vm_gpa_t pa_of(struct env *e, vm_gva_t va, vm_access_t acc)
{
    vm_gpa_t pa = 0;
    vm_err_t err = vm_mmu_translate(e->mmu, va, acc, &pa);
    if (err != VM_OK)
        print_error("translate 0x%llx: %s (%s)\n", (unsigned long long)va, vm_strerror(err),
                    vm_mmu_last_fault(e->mmu)->reason);
    assert_int_equal(err, VM_OK);
    return pa;
}

static uint32_t fault_code(struct env *e, vm_gva_t va, vm_access_t acc)
{
    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(e->mmu, va, acc, &pa), VM_ERR_PAGE_FAULT);
    return vm_mmu_last_fault(e->mmu)->syndrome;
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->mmu = vm_mmu_new(RAM, false);
    assert_non_null(e->mmu);
    e->next_table = ROOT1;
    assert_int_equal(new_table(e), ROOT1);
    assert_int_equal(new_table(e), ROOT2);
    assert_int_equal(e->next_table, TABLES);
    vm_mmu_set_paging_mode(e->mmu, VM_PAGING_X86_64);
    e->regs = (vm_x86_regs_t){
        .cr0 = VM_X86_CR0_PE | VM_X86_CR0_PG | VM_X86_CR0_WP,
        .cr3 = ROOT1,
        .cr4 = VM_X86_CR4_PAE | VM_X86_CR4_PGE,
        .efer = VM_X86_EFER_LME | VM_X86_EFER_NXE,
    };
    apply(e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    vm_mmu_free(e->mmu);
    free(e);
    return 0;
}

/* Turn PCIDs on (CR3[11:0] must be 0 then, 4.10.1), then load CR3 with
 * root | pcid. */
static void enable_pcid(struct env *e, vm_gpa_t root, uint16_t pcid)
{
    e->regs.cr3 = root;
    e->regs.cr4 |= VM_X86_CR4_PCIDE;
    apply(e);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, root | pcid), VM_OK);
    e->regs.cr3 = root | pcid;
}

/* ---- Caching and tags ------------------------------------------------- */

/* 4.10.2.2: a translation is cached (so a PTE change is not seen without an
 * invalidation, 4.10.4.3) and one TLB entry serves the whole page. */
static void test_x86_tlb_caches_translation(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte = map(e, ROOT1, VA1, OLD | E_LEAF);
    uint64_t h0, m0, h1, m1;
    vm_mmu_tlb_stats(e->mmu, &h0, &m0);
    assert_int_equal(pa_of(e, VA1 + 8, VM_ACCESS_READ), OLD + 8);
    retarget(e, pte, NEW);
    assert_int_equal(pa_of(e, VA1 + 0x800, VM_ACCESS_READ), OLD + 0x800);
    assert_int_equal(pa_of(e, VA1 + 0x800, VM_ACCESS_WRITE), OLD + 0x800);
    vm_mmu_tlb_stats(e->mmu, &h1, &m1);
    assert_int_equal(m1 - m0, 1);
    assert_int_equal(h1 - h0, 2);
    /* The ITLB was never filled for VA1: a fetch walks. */
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_EXEC), NEW);
}

/* 4.10.1/4.10.2.2: with CR4.PCIDE = 1 entries are associated with the
 * current PCID and only used under it. CR3 loads with bit 63 set keep the
 * new PCID's entries (4.10.4.1), so switching back finds them. */
static void test_x86_tlb_pcid_tagging(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte1 = map(e, ROOT1, VA1, OLD | E_LEAF);
    map(e, ROOT2, VA1, (OLD + 0x1000) | E_LEAF);
    enable_pcid(e, ROOT1, 1);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    /* PCID 2, another tree: the PCID 1 entry must not be used. */
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT2 | 2), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD + 0x1000);
    /* Back to PCID 1 without a flush: its entry is still there. */
    retarget(e, pte1, NEW);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT1 | 1), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    /* The same tree under a third PCID walks afresh. */
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT1 | 3), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), NEW);
}

/* 4.10.4.1, MOV to CR3 with CR4.PCIDE = 1 and bit 63 = 0: "invalidates all
 * TLB entries associated with the PCID specified in bits 11:0 of the
 * instruction's source operand except those for global pages" - the
 * entries of other PCIDs are not named (vmmem keeps them). */
static void test_x86_tlb_cr3_load_flushes_new_pcid(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte1 = map(e, ROOT1, VA1, OLD | E_LEAF);
    vm_gpa_t pteg = map(e, ROOT1, VAK, (OLD + 0x2000) | E_LEAF | E_G);
    vm_gpa_t pte2 = map(e, ROOT2, VA2, (OLD + 0x1000) | E_LEAF);
    enable_pcid(e, ROOT2, 2);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT1 | 1), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD + 0x2000);
    retarget(e, pte1, NEW);
    retarget(e, pteg, NEW + 0x2000);
    retarget(e, pte2, NEW + 0x1000);
    /* Reload PCID 1 without bit 63: its non-global entries go, the global stays. */
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, ROOT1 | 1), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), NEW);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD + 0x2000);
    /* PCID 2's entry was not in the invalidated PCID. */
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT2 | 2), VM_OK);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    /* vm_mmu_set_x86_regs: an unchanged CR3 is no load, bit 63 makes one
     * that keeps the entries, MOV to CR3 of the same value flushes. */
    e->regs.cr3 = ROOT2 | 2;
    apply(e);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    e->regs.cr3 = ROOT2 | 2 | VM_X86_CR3_NOFLUSH;
    apply(e);
    e->regs.cr3 = ROOT2 | 2;
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, ROOT2 | 2), VM_OK);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), NEW + 0x1000);
}

/* 4.10.4.1, MOV to CR3 with CR4.PCIDE = 0: "invalidates all TLB entries
 * associated with PCID 000H except those for global pages"; a global page
 * needs G = 1 in the entry that maps it and CR4.PGE = 1 (4.10.2.4). */
static void test_x86_tlb_cr3_load_keeps_global_pages(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte1 = map(e, ROOT1, VA1, OLD | E_LEAF);
    vm_gpa_t pteg = map(e, ROOT1, VAK, (OLD + 0x2000) | E_LEAF | E_G);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_EXEC), OLD + 0x2000);
    retarget(e, pte1, NEW);
    retarget(e, pteg, NEW + 0x2000);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, ROOT1), VM_OK); /* same value: still a load */
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), NEW);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_EXEC), OLD + 0x2000);
    /* A global page is used whatever CR3 points at (here a CR3 change
     * through vm_mmu_set_x86_regs, also a load). */
    e->regs.cr3 = ROOT2;
    apply(e);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_EXEC), OLD + 0x2000);

    /* Without CR4.PGE, G is not global (turning PGE off flushes everything). */
    e->regs.cr3 = ROOT1;
    e->regs.cr4 &= ~VM_X86_CR4_PGE;
    apply(e);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_EXEC), NEW + 0x2000);
    retarget(e, pteg, OLD + 0x2000);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, ROOT1), VM_OK);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_EXEC), OLD + 0x2000);
}

/* A global entry filled under one PCID serves every PCID (4.10.2.4: "the
 * processor may use a global TLB entry ... even if the TLB entry is
 * associated with a PCID different from the current PCID"); a register
 * write that does not load CR3 invalidates nothing. */
static void test_x86_tlb_global_across_pcids(void **state)
{
    struct env *e = *state;
    vm_gpa_t pteg = map(e, ROOT1, VAK, OLD | E_LEAF | E_G);
    map(e, ROOT2, VAK, (OLD + 0x1000) | E_LEAF | E_G);
    enable_pcid(e, ROOT1, 7);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD);
    retarget(e, pteg, NEW);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, ROOT2 | 9), VM_OK);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD);
    vm_x86_regs_t r;
    vm_mmu_x86_regs(e->mmu, &r);
    assert_int_equal(r.cr3, ROOT2 | 9);
    assert_int_equal(vm_mmu_set_x86_regs(e->mmu, &r), VM_OK);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD);
}

/* ---- INVLPG and INVPCID ----------------------------------------------- */

/* 4.10.4.1, INVLPG: "invalidates any TLB entries that are for a page number
 * corresponding to the linear address and that are associated with the
 * current PCID. It also invalidates any global TLB entries with that page
 * number, regardless of PCID"; other pages stay. Vol. 2: a non-canonical
 * operand makes it a NOP. */
static void test_x86_tlb_invlpg(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte1 = map(e, ROOT1, VA1, OLD | E_LEAF);
    vm_gpa_t pte2 = map(e, ROOT1, VA2, (OLD + 0x1000) | E_LEAF);
    vm_gpa_t pteg = map(e, ROOT1, VAK, (OLD + 0x2000) | E_LEAF | E_G);
    enable_pcid(e, ROOT1, 4);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_EXEC), OLD);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD + 0x2000);
    retarget(e, pte1, NEW);
    retarget(e, pte2, NEW + 0x1000);
    retarget(e, pteg, NEW + 0x2000);
    vm_mmu_x86_invlpg(e->mmu, VA1 + 0x123);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), NEW);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_EXEC), NEW); /* ITLB too */
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    /* The global page, cached under PCID 4, invalidated from PCID 5. */
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT1 | 5), VM_OK);
    vm_mmu_x86_invlpg(e->mmu, VAK);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), NEW + 0x2000);
    vm_mmu_x86_invlpg(e->mmu, VA2 ^ (UINT64_C(1) << 60)); /* non-canonical: NOP */
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT1 | 4), VM_OK);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    vm_mmu_x86_invlpg(NULL, VA1);
}

/* Vol. 2 INVPCID: type 0 "invalidates mappings - except global translations
 * - for the linear address and PCID specified"; type 1 all mappings of the
 * PCID except global; type 2 all mappings including global; type 3 all
 * except global. */
static void test_x86_tlb_invpcid_types(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte1 = map(e, ROOT1, VA1, OLD | E_LEAF);
    vm_gpa_t pte2 = map(e, ROOT1, VA2, (OLD + 0x1000) | E_LEAF);
    vm_gpa_t pteg = map(e, ROOT1, VAK, (OLD + 0x2000) | E_LEAF | E_G);
    enable_pcid(e, ROOT1, 1);
    const uint16_t other = 6;
    /* Fill: VA1, VA2, VAK under PCID 1, VA1 under PCID 6. */
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD + 0x2000);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT1 | other), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT1 | 1), VM_OK);
    retarget(e, pte1, NEW);
    retarget(e, pte2, NEW + 0x1000);
    retarget(e, pteg, NEW + 0x2000);

    /* Type 0 for VA1 in PCID 1 (the global page VAK is not touched). */
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_ADDRESS, 1, VA1), VM_OK);
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_ADDRESS, 1, VAK), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), NEW);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD + 0x2000);
    /* Type 1 for PCID 1: VA2 goes, the global page stays, PCID 6 untouched. */
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_SINGLE, 1, 0), VM_OK);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), NEW + 0x1000);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD + 0x2000);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, VM_X86_CR3_NOFLUSH | ROOT1 | other), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    /* Type 3: every non-global entry, in every PCID. */
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_ALL, 0, 0), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), NEW);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD + 0x2000);
    /* Type 2: the global one too. */
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_ALL_GLOBAL, 0, 0), VM_OK);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), NEW + 0x2000);
}

/* Vol. 2 INVPCID, #GP(0) (VM_ERR_INVALID_ARGUMENT, nothing invalidated):
 * a type above 3; descriptor bits 63:12 (PCID above FFFH); "If CR4.PCIDE =
 * 0 ... executions with INVPCID types 0 and 1 are allowed only if the PCID
 * specified in the INVPCID descriptor is 000H"; type 0 with a non-canonical
 * linear address. */
static void test_x86_tlb_invpcid_errors(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte1 = map(e, ROOT1, VA1, OLD | E_LEAF);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    retarget(e, pte1, NEW);
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, (vm_x86_invpcid_type_t)4, 0, 0),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_ALL_GLOBAL, 0x1000, 0),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_ADDRESS, 1, VA1),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_SINGLE, 1, 0),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_ADDRESS, 0,
                                        UINT64_C(0x0000800000000000) | VA1),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_x86_invpcid(NULL, VM_X86_INVPCID_ALL, 0, 0), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    /* With PCIDE = 0, types 0/1 for PCID 0 are fine (PCID 000H is current). */
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_ADDRESS, 0, VA1), VM_OK);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), NEW);
    /* Types 2 and 3 ignore the descriptor's PCID and address otherwise. */
    assert_int_equal(vm_mmu_x86_invpcid(e->mmu, VM_X86_INVPCID_ALL, 0xfff, ~UINT64_C(0)), VM_OK);
}

/* ---- Register writes --------------------------------------------------- */

/* 4.10.4.1 MOV to CR4: "invalidates all TLB entries (including global
 * entries) ... if (1) it changes the value of CR4.PGE", and for CR4.SMEP
 * 0 -> 1; vmmem/x86_64.h adds EFER.NXE and CR4.LA57 changes. Each step
 * caches a global page, retargets its PTE and makes one change: the new
 * frame shows the entry went (a CR3 load would have kept it). */
static void test_x86_tlb_flushing_register_writes(void **state)
{
    struct env *e = *state;
    vm_gpa_t pteg = map(e, ROOT1, VAK, OLD | E_LEAF | E_G);
    /* For LA57: a PML5 table whose entry 511 (VA bits 56:48 of VAK, all
     * ones) references the PML4, so VAK translates the same way. */
    const vm_gpa_t pml5 = new_table(e);
    poke(e, pml5 + 8 * 511, ROOT1 | E_UPPER);
    vm_gpa_t frame = OLD;

    for (int step = 0; step < 6; step++) {
        assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), frame);
        frame = frame == OLD ? NEW : OLD;
        retarget(e, pteg, frame);
        switch (step) {
        case 0: e->regs.cr4 &= ~VM_X86_CR4_PGE; break;  /* PGE 1 -> 0 */
        case 1: e->regs.cr4 |= VM_X86_CR4_PGE; break;   /* PGE 0 -> 1 */
        case 2: e->regs.cr4 |= VM_X86_CR4_SMEP; break;  /* SMEP 0 -> 1 */
        case 3: e->regs.efer &= ~VM_X86_EFER_NXE; break; /* NXE */
        case 4: e->regs.cr4 |= VM_X86_CR4_LA57; e->regs.cr3 = pml5; break;
        case 5: e->regs.cr4 &= ~VM_X86_CR4_LA57; e->regs.cr3 = ROOT1; break;
        }
        apply(e);
        assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), frame);
    }
}

/* CR0.PG 1 -> 0 "invalidates all TLB entries (including global entries)"
 * (4.10.4.1); turning it back on finds nothing cached. Likewise CR4.PCIDE
 * 1 -> 0 and a MAXPHYADDR change (vmmem/x86_64.h). */
static void test_x86_tlb_paging_off_and_pcide_off_flush(void **state)
{
    struct env *e = *state;
    vm_gpa_t pteg = map(e, ROOT1, VAK, OLD | E_LEAF | E_G);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD);
    retarget(e, pteg, NEW);
    e->regs.cr0 &= ~VM_X86_CR0_PG;
    apply(e);
    assert_int_equal(pa_of(e, 0x5000, VM_ACCESS_READ), 0x5000); /* identity */
    e->regs.cr0 |= VM_X86_CR0_PG;
    apply(e);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), NEW);

    enable_pcid(e, ROOT1, 3);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), NEW);
    retarget(e, pteg, OLD);
    e->regs.cr4 &= ~VM_X86_CR4_PCIDE;
    e->regs.cr3 = ROOT1;
    apply(e);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD);

    retarget(e, pteg, NEW);
    e->regs.maxphyaddr = 46;
    apply(e);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), NEW);
}

/*
 * vmmem/x86_64.h: CPL, CR0.WP, CR4.SMEP, CR4.SMAP and RFLAGS.AC apply on the
 * next access without an invalidation (4.6.1 reads them on every access;
 * the TLB holds the rights, 4.10.2.2, not a verdict). Each change below
 * meets a translation cached under the old value.
 */
static void test_x86_tlb_permission_registers_apply_at_once(void **state)
{
    struct env *e = *state;
    map(e, ROOT1, VA1, OLD | E_P | E_A | E_D);                 /* supervisor, read-only */
    map(e, ROOT1, VA2, (OLD + 0x1000) | E_LEAF);               /* user, writable */
    map(e, ROOT1, VA2 + 0x1000, (OLD + 0x2000) | E_LEAF);      /* user, for fetches */
    e->regs.cr0 &= ~VM_X86_CR0_WP;
    apply(e);
    /* CR0.WP 0 -> 1: the supervisor write allowed a moment ago faults. */
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_WRITE), OLD);
    e->regs.cr0 |= VM_X86_CR0_WP;
    apply(e);
    assert_int_equal(fault_code(e, VA1, VM_ACCESS_WRITE), VM_X86_PFEC_P | VM_X86_PFEC_W);
    /* CPL 0 -> 3: the supervisor-mode page read a moment ago faults. */
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    e->regs.cpl = 3;
    apply(e);
    assert_int_equal(fault_code(e, VA1, VM_ACCESS_READ), VM_X86_PFEC_P | VM_X86_PFEC_U);
    /* CR4.SMAP on: a supervisor read of the user page faults; AC = 1
     * allows it again; AC = 0 refuses it again. */
    e->regs.cpl = 0;
    apply(e);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_READ), OLD + 0x1000);
    e->regs.cr4 |= VM_X86_CR4_SMAP;
    apply(e);
    assert_int_equal(fault_code(e, VA2, VM_ACCESS_READ), VM_X86_PFEC_P);
    e->regs.rflags |= VM_X86_RFLAGS_AC;
    apply(e);
    assert_int_equal(pa_of(e, VA2, VM_ACCESS_WRITE), OLD + 0x1000);
    e->regs.rflags &= ~VM_X86_RFLAGS_AC;
    apply(e);
    assert_int_equal(fault_code(e, VA2, VM_ACCESS_WRITE), VM_X86_PFEC_P | VM_X86_PFEC_W);
    /* CR4.SMEP: a supervisor fetch cached from the user page is refused
     * once SMEP is on (that change also flushes) and allowed at once when
     * it goes off again (that one does not). */
    assert_int_equal(pa_of(e, VA2 + 0x1000, VM_ACCESS_EXEC), OLD + 0x2000);
    e->regs.cr4 |= VM_X86_CR4_SMEP;
    apply(e);
    assert_int_equal(fault_code(e, VA2 + 0x1000, VM_ACCESS_EXEC),
                     VM_X86_PFEC_P | VM_X86_PFEC_I);
    e->regs.cr4 &= ~VM_X86_CR4_SMEP;
    apply(e);
    assert_int_equal(pa_of(e, VA2 + 0x1000, VM_ACCESS_EXEC), OLD + 0x2000);
}

/* vmmem/x86_64.h: "CPL, CR0.WP, CR4.SMAP/PKE, RFLAGS.AC and PKRU changes
 * invalidate nothing", nor does CR4.SMEP going 1 -> 0: a cached kernel
 * (supervisor-mode) translation survives all of them. */
static void test_x86_tlb_permission_registers_invalidate_nothing(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte = map(e, ROOT1, VAK, OLD | E_P | E_RW | E_A | E_D);
    e->regs.cr4 |= VM_X86_CR4_SMEP;
    apply(e);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD);
    retarget(e, pte, NEW);
    e->regs.cpl = 3;
    apply(e);
    e->regs.cpl = 1;
    e->regs.cr0 ^= VM_X86_CR0_WP;
    e->regs.cr4 ^= VM_X86_CR4_SMAP | VM_X86_CR4_SMEP | VM_X86_CR4_PKE;
    e->regs.rflags ^= VM_X86_RFLAGS_AC;
    e->regs.pkru = UINT32_MAX;
    apply(e);
    assert_int_equal(pa_of(e, VAK, VM_ACCESS_READ), OLD);
}

/* 4.6.2 / vmmem/x86_64.h: a PKRU write takes effect on the next access
 * without an invalidation (WRPKRU does not invalidate TLBs), and so does
 * turning CR4.PKE on. */
static void test_x86_tlb_pkru_and_pke_apply_without_flush(void **state)
{
    struct env *e = *state;
    const uint64_t key3 = UINT64_C(3) << VM_X86_PTE_PKEY_SHIFT;
    map(e, ROOT1, VA1, OLD | E_LEAF | key3);
    e->regs.cpl = 3;
    e->regs.pkru = UINT32_C(1) << (2 * 3); /* AD3, but PKE = 0 */
    apply(e);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    e->regs.cr4 |= VM_X86_CR4_PKE;
    apply(e);
    assert_int_equal(fault_code(e, VA1, VM_ACCESS_READ),
                     VM_X86_PFEC_P | VM_X86_PFEC_U | VM_X86_PFEC_PK);
    e->regs.pkru = UINT32_C(2) << (2 * 3); /* WD3 */
    apply(e);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    assert_int_equal(fault_code(e, VA1, VM_ACCESS_WRITE),
                     VM_X86_PFEC_P | VM_X86_PFEC_W | VM_X86_PFEC_U | VM_X86_PFEC_PK);
    e->regs.pkru = 0;
    apply(e);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_WRITE), OLD);
    e->regs.pkru = UINT32_C(1) << (2 * 3);
    apply(e);
    assert_int_equal(fault_code(e, VA1, VM_ACCESS_WRITE),
                     VM_X86_PFEC_P | VM_X86_PFEC_W | VM_X86_PFEC_U | VM_X86_PFEC_PK);
    e->regs.cr4 &= ~VM_X86_CR4_PKE;
    apply(e);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_WRITE), OLD);
}

/* ---- Page faults and A/D --------------------------------------------- */

/* 4.10.4.1: "a page-fault exception resulting from an attempt to use a
 * linear address will invalidate any TLB entries that are for a page
 * number corresponding to that linear address and that are associated with
 * the current PCID". Here a load fills a clean entry, the PTE becomes
 * not-present behind the TLB's back; the stale entry may serve loads, but a
 * store must walk (D is clear), faults, and the fault drops the entry. */
static void test_x86_tlb_page_fault_drops_stale_entry(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte = map(e, ROOT1, VA1, OLD | E_P | E_RW | E_US | E_A);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    poke(e, pte, 0);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD); /* stale but legal */
    assert_int_equal(fault_code(e, VA1, VM_ACCESS_WRITE), VM_X86_PFEC_W);
    assert_int_equal(fault_code(e, VA1, VM_ACCESS_READ), 0);
}

/* 4.8 and 4.10.2.2: a translation is cached only with A = 1 in every entry
 * used, and a store through an entry cached clean must set D in memory: a
 * load-filled entry never lets a store bypass the D update (BUG-CLASSES 2). */
static void test_x86_tlb_nothing_cached_that_needs_ad(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte = map(e, ROOT1, VA1, OLD | E_P | E_RW | E_US);
    /* A side-effect-free lookup (mmu.h) neither sets A nor fills. */
    vm_mmu_invalidate_reservation(e->mmu, VA1, 8);
    assert_int_equal(peek(e, pte), OLD | E_P | E_RW | E_US);
    uint64_t h0, m0, h1, m1;
    vm_mmu_tlb_stats(e->mmu, &h0, &m0);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    vm_mmu_tlb_stats(e->mmu, &h1, &m1);
    assert_int_equal(m1 - m0, 1);
    assert_int_equal(peek(e, pte), OLD | E_P | E_RW | E_US | E_A);
    assert_int_equal(vm_mmu_write(e->mmu, VA1, 1, 1), VM_OK);
    assert_int_equal(peek(e, pte), OLD | E_P | E_RW | E_US | E_A | E_D);
    /* After a flush, a load refills from the clean PTE; the store sets D again. */
    poke(e, pte, OLD | E_P | E_RW | E_US | E_A);
    vm_mmu_x86_invlpg(e->mmu, VA1);
    uint64_t v;
    assert_int_equal(vm_mmu_read(e->mmu, VA1, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write(e->mmu, VA1, 2, 1), VM_OK);
    assert_int_equal(peek(e, pte), OLD | E_P | E_RW | E_US | E_A | E_D);
}

/* vmmem/mmu.h: selecting VM_PAGING_X86_64 flushes both TLBs; x86 register
 * writes made while another mode is selected touch no TLB entry. */
static void test_x86_tlb_mode_switch(void **state)
{
    struct env *e = *state;
    vm_gpa_t pte = map(e, ROOT1, VA1, OLD | E_LEAF);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), OLD);
    retarget(e, pte, NEW);
    vm_mmu_set_paging_mode(e->mmu, VM_PAGING_X86_64);
    assert_int_equal(pa_of(e, VA1, VM_ACCESS_READ), NEW);
    /* An Sv39 translation survives x86 register writes. */
    const vm_gpa_t sv_root = new_table(e), l1 = new_table(e), l0 = new_table(e);
    const vm_gva_t sva = 0x40201000;
    poke(e, sv_root + 8 * 1, ((l1 >> 12) << 10) | VM_PTE_V);
    poke(e, l1 + 8 * 1, ((l0 >> 12) << 10) | VM_PTE_V);
    poke(e, l0 + 8 * 1, ((OLD >> 12) << 10) | VM_PTE_V | VM_PTE_R | VM_PTE_A);
    vm_mmu_set_satp(e->mmu, (UINT64_C(8) << 60) | (sv_root >> 12));
    assert_int_equal(pa_of(e, sva, VM_ACCESS_READ), OLD);
    poke(e, l0 + 8 * 1, ((NEW >> 12) << 10) | VM_PTE_V | VM_PTE_R | VM_PTE_A);
    e->regs.cr4 ^= VM_X86_CR4_PGE;
    apply(e);
    assert_int_equal(vm_mmu_x86_load_cr3(e->mmu, ROOT2), VM_OK);
    assert_int_equal(pa_of(e, sva, VM_ACCESS_READ), OLD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_x86_tlb_caches_translation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_pcid_tagging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_cr3_load_flushes_new_pcid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_cr3_load_keeps_global_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_global_across_pcids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_invlpg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_invpcid_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_invpcid_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_flushing_register_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_paging_off_and_pcide_off_flush, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_permission_registers_apply_at_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_permission_registers_invalidate_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_pkru_and_pke_apply_without_flush, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_page_fault_drops_stale_entry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_nothing_cached_that_needs_ad, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_x86_tlb_mode_switch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
