/*
 * test_mmu_seed.c - every SoftMmu / PagingMode / PageTableBuilder / LR-SC /
 * bulk / TLB-statistics example of the API reference (the seed document),
 * written in C against vmmem/mmu.h, plus the contract points each example
 * implies.
 *
 * How it works: each test replays one example with the seed's own numbers
 * and then checks what the example only implies, with expectations taken
 * from the contracts in mmu.h / ptbuilder.h and the RISC-V Priv. spec
 * (satp layout, PTE layout, A/D rules): e.g. after the Sv39 example the
 * leaf PTE must have A set (step 9 with hardware A/D) but not D (a read).
 * Physical memory is inspected through the physical side (read_phys,
 * guest_slice) so a bug shared by the MMU's read and write paths cannot
 * hide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define MiB (UINT64_C(1) << 20)
#define SATP_SV39 (UINT64_C(8) << 60)

static uint64_t phys64(vm_mmu_t *mmu, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(mmu, pa, 8, &v), VM_OK);
    return v;
}

/* Sv39 PTE address of `va` at level i under table base `table`
 * (Priv. spec step 2: a + va.vpn[i] * PTESIZE). */
static vm_gpa_t sv39_slot(vm_gpa_t table, vm_gva_t va, int i)
{
    return table + ((va >> (12 + 9 * i)) & 0x1ff) * 8;
}

static vm_gpa_t pte_table(uint64_t pte)
{
    return ((pte >> 10) & ((UINT64_C(1) << 44) - 1)) << 12;
}

/* Follow a 3-level Sv39 tree built by the builder to the level-0 leaf slot. */
static vm_gpa_t sv39_leaf_slot(vm_mmu_t *mmu, vm_gpa_t root, vm_gva_t va)
{
    vm_gpa_t l1 = pte_table(phys64(mmu, sv39_slot(root, va, 2)));
    vm_gpa_t l0 = pte_table(phys64(mmu, sv39_slot(l1, va, 1)));
    return sv39_slot(l0, va, 0);
}

/* ---- Bare mode ---------------------------------------------------------- */

/* SoftMmu::new example: 128 MiB, Bare, translate(0x1000, Read) == 0x1000. */
static void test_seed_bare_identity_translate(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(128 * MiB, false);
    assert_non_null(mmu);
    assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_BARE);
    assert_int_equal(vm_mmu_memory_size(mmu), 128 * MiB);

    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, 0x1000);
    /* Identity for every access kind, even past RAM (translate does not
     * check backing). */
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_EXEC, &pa), VM_OK);
    assert_int_equal(pa, 0x1000);
    assert_int_equal(vm_mmu_translate(mmu, UINT64_C(0xdead0000000), VM_ACCESS_WRITE, &pa), VM_OK);
    assert_int_equal(pa, UINT64_C(0xdead0000000));
    assert_int_equal(vm_mmu_last_fault(mmu)->kind, VM_FAULT_NONE);

    /* Bare does not count TLB statistics. */
    uint64_t hits = 1, misses = 1;
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(hits, 0);
    assert_int_equal(misses, 0);
    vm_mmu_free(mmu);
}

/* Basic-usage example: 1 MiB, write(0x100, 0xDEADBEEF, 4), read == it. */
static void test_seed_bare_write_read(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, 0x1000);

    assert_int_equal(vm_mmu_write(mmu, 0x100, 0xDEADBEEF, 4), VM_OK);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(mmu, 0x100, 4, &v), VM_OK);
    assert_int_equal(v, 0xDEADBEEF);
    /* Little-endian in guest memory (physmem.h). */
    assert_int_equal(vm_mmu_read_phys(mmu, 0x100, 1, &v), VM_OK);
    assert_int_equal(v, 0xEF);
    assert_int_equal(vm_mmu_read_phys(mmu, 0x103, 1, &v), VM_OK);
    assert_int_equal(v, 0xDE);
    /* Only 4 bytes written. */
    assert_int_equal(vm_mmu_read_phys(mmu, 0x104, 1, &v), VM_OK);
    assert_int_equal(v, 0);

    /* Size truncation and zero extension. */
    assert_int_equal(vm_mmu_write(mmu, 0x200, UINT64_C(0x1122334455667788), 2), VM_OK);
    assert_int_equal(vm_mmu_read(mmu, 0x200, 8, &v), VM_OK);
    assert_int_equal(v, 0x7788);
    /* Sizes other than 1/2/4/8 are invalid. */
    assert_int_equal(vm_mmu_read(mmu, 0x200, 3, &v), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_write(mmu, 0x200, 0, 16), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_read(mmu, 0x200, 0, &v), VM_ERR_INVALID_ARGUMENT);

    /* Past the end of RAM: access fault (load cause 5, store cause 7). */
    assert_int_equal(vm_mmu_read(mmu, 1 * MiB, 4, &v), VM_ERR_ACCESS_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_LOAD_ACCESS);
    assert_int_equal(vm_mmu_write(mmu, 1 * MiB - 2, 0, 4), VM_ERR_ACCESS_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_STORE_ACCESS);
    assert_int_equal(vm_mmu_last_fault(mmu)->kind, VM_FAULT_ACCESS);
    /* A success resets the record. */
    assert_int_equal(vm_mmu_read(mmu, 0x100, 4, &v), VM_OK);
    assert_int_equal(vm_mmu_last_fault(mmu)->kind, VM_FAULT_NONE);

    /* MemoryAccess::fetch_insn: 4 bytes. */
    assert_int_equal(vm_mmu_write(mmu, 0x3000, UINT64_C(0xAABBCCDD00000013), 8), VM_OK);
    assert_int_equal(vm_mmu_fetch_insn(mmu, 0x3000, &v), VM_OK);
    assert_int_equal(v, 0x00000013);
    vm_mmu_free(mmu);
}

/* ---- Sv39 --------------------------------------------------------------- */

/*
 * The Sv39 example: 16 MiB, builder at 0x10000, root 0x100000 zeroed with
 * write_phys, map 0x1000 -> 0x200000 R|W|X, set_paging_mode(Sv39), satp =
 * (8 << 60) | (root >> 12), translate(0x1000, Read) == 0x200000.
 */
static void test_seed_sv39_example(void **state)
{
    (void)state;
    const vm_gpa_t root = 0x100000;
    vm_mmu_t *mmu = vm_mmu_new(16 * MiB, false);
    assert_non_null(mmu);
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, 0x10000);
    for (uint64_t i = 0; i < 512; i++)
        assert_int_equal(vm_mmu_write_phys(mmu, root + i * 8, 0, 8), VM_OK);

    uint64_t flags = VM_PTE_R | VM_PTE_W | VM_PTE_X;
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x1000, 0x200000, flags, root), VM_OK);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_SV39);
    uint64_t satp = SATP_SV39 | (root >> 12);
    vm_mmu_set_satp(mmu, satp);
    assert_int_equal(vm_mmu_satp(mmu), satp);
    assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_SV39);

    /* The leaf before any access: flags | V, no A (the builder adds only V). */
    vm_gpa_t leaf = sv39_leaf_slot(mmu, root, 0x1000);
    assert_int_equal(phys64(mmu, leaf), flags | VM_PTE_V | ((UINT64_C(0x200000) >> 12) << 10));

    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, 0x200000);
    /* Priv. spec step 9 with hardware A/D: a read sets A, not D. */
    uint64_t pte = phys64(mmu, leaf);
    assert_true(pte & VM_PTE_A);
    assert_false(pte & VM_PTE_D);
    /* Offsets pass through (step 10: pa.pgoff = va.pgoff). */
    assert_int_equal(vm_mmu_translate(mmu, 0x1abc, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, 0x200abc);

    /* A store through the mapping sets D and lands at the PA. */
    assert_int_equal(vm_mmu_write(mmu, 0x1008, 0x55aa, 2), VM_OK);
    assert_true(phys64(mmu, leaf) & VM_PTE_D);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(mmu, 0x200008, 2, &v), VM_OK);
    assert_int_equal(v, 0x55aa);

    /* An unmapped VA: V=0 in the level-0 table -> load page fault, cause 13. */
    assert_int_equal(vm_mmu_translate(mmu, 0x2000, VM_ACCESS_READ, &pa), VM_ERR_PAGE_FAULT);
    const vm_fault_t *f = vm_mmu_last_fault(mmu);
    assert_int_equal(f->kind, VM_FAULT_PAGE);
    assert_int_equal(f->cause, VM_CAUSE_LOAD_PAGE_FAULT);
    assert_int_equal(f->va, 0x2000);
    assert_int_equal(f->level, 0);
    assert_int_equal(f->pte_addr, leaf + 8);
    assert_int_equal(f->pte, 0);

    /* The builder took two table pages (levels 1 and 0) from 0x10000. */
    assert_int_equal(b.next, 0x12000);
    vm_mmu_free(mmu);
}

/*
 * The PageTableBuilder example: 16 MiB, builder at 0x10000, map 0x1000 ->
 * 0x2000 with flags 0xF, root 0x8000; then the set_satp example
 * (8 << 60) | (0 << 44) | 0x8 - which is exactly that root.
 */
static void test_seed_builder_and_set_satp_example(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(16 * MiB, false);
    assert_non_null(mmu);
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, 0x10000);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x1000, 0x2000, 0xF, 0x8000), VM_OK);

    /* 0xF = V|R|W|X. Root slot 0 -> first builder page, a V-only pointer. */
    assert_int_equal(phys64(mmu, 0x8000), VM_PTE_V | ((UINT64_C(0x10000) >> 12) << 10));
    assert_int_equal(phys64(mmu, 0x10000), VM_PTE_V | ((UINT64_C(0x11000) >> 12) << 10));
    assert_int_equal(phys64(mmu, 0x11000 + 8), 0xF | ((UINT64_C(0x2000) >> 12) << 10));

    uint64_t satp = (UINT64_C(8) << 60) | (UINT64_C(0) << 44) | 0x8;
    vm_mmu_set_satp(mmu, satp);
    assert_int_equal(vm_mmu_satp(mmu), satp);
    assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_SV39);

    vm_gpa_t pa = 0;
    assert_int_equal(vm_mmu_translate(mmu, 0x1004, VM_ACCESS_EXEC, &pa), VM_OK);
    assert_int_equal(pa, 0x2004);
    /* No U bit: U-mode may not use the page (Priv. spec "U-mode software
     * may only access the page when U=1"). */
    vm_mmu_set_priv(mmu, VM_PRIV_U);
    assert_int_equal(vm_mmu_translate(mmu, 0x1004, VM_ACCESS_READ, &pa), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_LOAD_PAGE_FAULT);
    /* M-mode: identity whatever satp says. */
    vm_mmu_set_priv(mmu, VM_PRIV_M);
    assert_int_equal(vm_mmu_translate(mmu, 0x1004, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, 0x1004);
    vm_mmu_free(mmu);
}

/* set_satp: field layout MODE 63:60, ASID 59:44, PPN 43:0; WARL MODE. */
static void test_seed_set_satp_fields(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new_default();
    assert_non_null(mmu);
    assert_int_equal(vm_mmu_satp(mmu), 0); /* Bare at reset */

    uint64_t sv48 = (UINT64_C(9) << 60) | (UINT64_C(0xBEEF) << 44) | UINT64_C(0xABCDE12345);
    vm_mmu_set_satp(mmu, sv48);
    assert_int_equal(vm_mmu_satp(mmu), sv48);
    assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_SV48);

    uint64_t sv57 = (UINT64_C(10) << 60) | 0x42;
    vm_mmu_set_satp(mmu, sv57);
    assert_int_equal(vm_mmu_satp(mmu), sv57);
    assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_SV57);

    /* Unsupported MODEs (Sv32's 1, reserved 2..7, 11..15) leave satp
     * entirely unchanged. */
    static const uint64_t bad_modes[] = {1, 2, 7, 11, 15};
    for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
        vm_mmu_set_satp(mmu, (bad_modes[i] << 60) | (UINT64_C(1) << 44) | 0x99);
        assert_int_equal(vm_mmu_satp(mmu), sv57);
        assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_SV57);
    }

    /* set_paging_mode keeps ASID and root. */
    vm_mmu_set_paging_mode(mmu, VM_PAGING_SV39);
    assert_int_equal(vm_mmu_satp(mmu), SATP_SV39 | 0x42);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_BARE);
    assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_BARE);
    assert_int_equal(vm_mmu_satp(mmu) >> 60, 0);
    vm_mmu_free(mmu);
}

/* PagingMode: Arm64 / X86_64 start with their registers zero, i.e. with
 * translation off (x86 CR0.PG=0, Arm SCTLR_EL1.M=0): a VA is its PA
 * (vmmem/x86_64.h, vmmem/arm64.h). */
static void test_seed_paging_modes_start_untranslated(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new_default();
    assert_non_null(mmu);
    vm_gpa_t pa = 0;
    uint64_t v = 1;
    vm_mmu_set_paging_mode(mmu, VM_PAGING_ARM64);
    assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_ARM64);
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, 0x1000);
    assert_int_equal(vm_mmu_read(mmu, 0x1000, 4, &v), VM_OK);
    assert_int_equal(v, 0);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_X86_64);
    assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_X86_64);
    assert_int_equal(vm_mmu_translate(mmu, 0x2000, VM_ACCESS_EXEC, &pa), VM_OK);
    assert_int_equal(pa, 0x2000);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_BARE);
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_OK);
    /* Invalid access kind. */
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, (vm_access_t)3, &pa),
                     VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, NULL),
                     VM_ERR_INVALID_ARGUMENT);
    vm_mmu_free(mmu);
}

/* ---- MMIO --------------------------------------------------------------- */

struct uart {
    uint8_t tx_data;
    uint8_t rx_data;
    int writes;
    int destroyed;
};

static vm_err_t uart_read(void *opaque, uint64_t offset, uint8_t size, uint64_t *val)
{
    struct uart *u = opaque;
    (void)size;
    *val = offset == 0 ? u->rx_data : 0;
    return VM_OK;
}

static vm_err_t uart_write(void *opaque, uint64_t offset, uint64_t val, uint8_t size)
{
    struct uart *u = opaque;
    (void)size;
    if (offset == 0)
        u->tx_data = (uint8_t)val;
    u->writes++;
    return VM_OK;
}

static void uart_destroy(void *opaque)
{
    ((struct uart *)opaque)->destroyed++;
}

/* MMIO example: a UART at 0x1000_0000 (size 0x1000) in a 1 MiB machine. */
static void test_seed_mmio_uart(void **state)
{
    (void)state;
    static struct uart u;
    memset(&u, 0, sizeof(u));
    const vm_mmio_ops_t ops = {uart_read, uart_write, NULL, uart_destroy};
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    assert_int_equal(vm_mmu_map_mmio(mmu, 0x10000000, 0x1000, &ops, &u), VM_OK);

    assert_int_equal(vm_mmu_write(mmu, 0x10000000, 'A', 1), VM_OK);
    assert_int_equal(u.tx_data, 'A');
    u.rx_data = 0x42;
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(mmu, 0x10000000, 1, &v), VM_OK);
    assert_int_equal(v, 0x42);
    assert_int_equal(vm_mmu_read(mmu, 0x10000004, 4, &v), VM_OK);
    assert_int_equal(v, 0);
    /* A misaligned device access is an access fault, and the device is not
     * called. */
    int writes = u.writes;
    assert_int_equal(vm_mmu_write(mmu, 0x10000001, 0, 2), VM_ERR_ACCESS_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_STORE_ACCESS);
    assert_int_equal(u.writes, writes);
    /* A region does not extend RAM: the UART is not bulk memory. */
    uint8_t buf[4];
    assert_int_not_equal(vm_mmu_read_bulk(mmu, 0x10000000, buf, sizeof(buf)), VM_OK);

    vm_mmu_poll_devices(mmu); /* no poll callback: a no-op */
    vm_mmu_free(mmu);
    assert_int_equal(u.destroyed, 1);
}

/* ---- LR/SC -------------------------------------------------------------- */

/* LR/SC example: write 0x11 at 0x2000, LR -> 0x11, SC 0x22 -> true. */
static void test_seed_lrsc(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    const vm_gva_t addr = 0x2000;
    assert_int_equal(vm_mmu_write(mmu, addr, 0x11, 1), VM_OK);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_load_reserved(mmu, addr, 1, &v), VM_OK);
    assert_int_equal(v, 0x11);
    bool ok = false;
    assert_int_equal(vm_mmu_store_conditional(mmu, addr, 0x22, 1, &ok), VM_OK);
    assert_true(ok);
    assert_int_equal(vm_mmu_read(mmu, addr, 1, &v), VM_OK);
    assert_int_equal(v, 0x22);

    /* Zalrsc: the SC consumed the reservation; a second SC fails and
     * writes nothing. */
    assert_int_equal(vm_mmu_store_conditional(mmu, addr, 0x33, 1, &ok), VM_OK);
    assert_false(ok);
    assert_int_equal(vm_mmu_read(mmu, addr, 1, &v), VM_OK);
    assert_int_equal(v, 0x22);

    /* A plain store to the granule between LR and SC breaks it. */
    assert_int_equal(vm_mmu_load_reserved(mmu, addr, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_write(mmu, addr + 4, 0x1, 1), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(mmu, addr, 0x44, 8, &ok), VM_OK);
    assert_false(ok);

    /* invalidate_reservation drops it too. */
    assert_int_equal(vm_mmu_load_reserved(mmu, addr, 4, &v), VM_OK);
    vm_mmu_invalidate_reservation(mmu, addr, 4);
    assert_int_equal(vm_mmu_store_conditional(mmu, addr, 0x44, 4, &ok), VM_OK);
    assert_false(ok);

    /* Natural alignment is required whatever the strict setting:
     * misaligned LR -> cause 4, SC -> cause 6. */
    vm_mmu_set_strict_align(mmu, false);
    assert_int_equal(vm_mmu_load_reserved(mmu, addr + 2, 4, &v), VM_ERR_ALIGNMENT_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_LOAD_MISALIGNED);
    assert_int_equal(vm_mmu_store_conditional(mmu, addr + 4, 0, 8, &ok), VM_ERR_ALIGNMENT_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_STORE_MISALIGNED);
    assert_false(ok);
    /* A faulting SC also clears the reservation (Zalrsc: every SC does). */
    assert_int_equal(vm_mmu_load_reserved(mmu, addr, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(mmu, addr + 1, 0, 2, &ok), VM_ERR_ALIGNMENT_FAULT);
    assert_int_equal(vm_mmu_store_conditional(mmu, addr, 0x77, 8, &ok), VM_OK);
    assert_false(ok);
    /* Outside RAM: access fault (5 / 7). */
    assert_int_equal(vm_mmu_load_reserved(mmu, 1 * MiB, 4, &v), VM_ERR_ACCESS_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_LOAD_ACCESS);
    assert_int_equal(vm_mmu_store_conditional(mmu, 1 * MiB, 0, 4, &ok), VM_ERR_ACCESS_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_STORE_ACCESS);
    vm_mmu_free(mmu);
}

/* ---- Bulk --------------------------------------------------------------- */

/* Bulk example: 4096 x 0xAA written at 0x1000 and read back. */
static void test_seed_bulk(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    uint8_t data[4096], buf[4096];
    memset(data, 0xAA, sizeof(data));
    memset(buf, 0, sizeof(buf));
    assert_int_equal(vm_mmu_write_bulk(mmu, 0x1000, data, sizeof(data)), VM_OK);
    assert_int_equal(vm_mmu_read_bulk(mmu, 0x1000, buf, sizeof(buf)), VM_OK);
    assert_memory_equal(buf, data, sizeof(data));

    /* Exactly [0x1000, 0x2000) was written. */
    uint8_t edge[2];
    assert_int_equal(vm_mmu_guest_slice(mmu, 0x0fff, 2, edge), VM_OK);
    assert_int_equal(edge[0], 0);
    assert_int_equal(edge[1], 0xAA);
    assert_int_equal(vm_mmu_guest_slice(mmu, 0x1fff, 2, edge), VM_OK);
    assert_int_equal(edge[0], 0xAA);
    assert_int_equal(edge[1], 0);

    /* A transfer running past RAM moves nothing. */
    memset(data, 0x5C, sizeof(data));
    assert_int_equal(vm_mmu_write_bulk(mmu, 1 * MiB - 2048, data, sizeof(data)),
                     VM_ERR_ACCESS_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->va, 1 * MiB);
    assert_int_equal(vm_mmu_guest_slice(mmu, 1 * MiB - 2048, 1, edge), VM_OK);
    assert_int_equal(edge[0], 0);
    /* len 0 is a no-op. */
    assert_int_equal(vm_mmu_read_bulk(mmu, 0x1000, NULL, 0), VM_OK);
    vm_mmu_free(mmu);
}

/*
 * The bulk example through Sv39: five VA pages backed by PAs that are
 * partly contiguous (pages 1-2) and partly out of order, a transfer that
 * starts and ends mid-page; then one whose last page is unmapped: nothing
 * may be written (mmu.h: every page is translated first).
 */
static void test_seed_bulk_through_sv39(void **state)
{
    (void)state;
    const vm_gpa_t root = 0x8000;
    static const vm_gpa_t backing[5] = {0x60000, 0x42000, 0x43000, 0x51000, 0x30000};
    const vm_gva_t va = 0x7000;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, 0x10000);
    for (int i = 0; i < 5; i++)
        assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, va + (uint64_t)i * 0x1000, backing[i],
                                               VM_PTE_R | VM_PTE_W, root), VM_OK);
    vm_mmu_set_satp(mmu, SATP_SV39 | (root >> 12));

    enum { LEN = 4 * 4096 - 0x300 };
    static uint8_t data[LEN], back[LEN];
    for (size_t i = 0; i < LEN; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    const vm_gva_t start = va + 0x123;
    assert_int_equal(vm_mmu_write_bulk(mmu, start, data, LEN), VM_OK);
    /* Every byte landed at its own page's PA. */
    for (size_t i = 0; i < LEN; i += 97) {
        vm_gva_t at = start + i;
        uint64_t v = 0;
        assert_int_equal(vm_mmu_read_phys(mmu, backing[(at - va) >> 12] + (at & 0xfff), 1, &v),
                         VM_OK);
        assert_int_equal(v, data[i]);
    }
    assert_int_equal(vm_mmu_read_bulk(mmu, start, back, LEN), VM_OK);
    assert_memory_equal(back, data, LEN);

    /* Last page unmapped: page fault naming that page's first byte, and
     * no byte of the earlier pages written. */
    vm_gpa_t l1 = pte_table(phys64(mmu, sv39_slot(root, va, 2)));
    vm_gpa_t l0 = pte_table(phys64(mmu, sv39_slot(l1, va, 1)));
    assert_int_equal(vm_mmu_write_phys(mmu, sv39_slot(l0, va + 0x4000, 0), 0, 8), VM_OK);
    vm_mmu_flush_tlb(mmu);
    memset(back, 0xEE, LEN);
    assert_int_equal(vm_mmu_write_bulk(mmu, va, back, 5 * 4096), VM_ERR_PAGE_FAULT);
    const vm_fault_t *f = vm_mmu_last_fault(mmu);
    assert_int_equal(f->cause, VM_CAUSE_STORE_PAGE_FAULT);
    assert_int_equal(f->va, va + 0x4000);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read_phys(mmu, backing[1] + 0x10, 1, &v), VM_OK);
    assert_int_equal(v, data[0x1000 - 0x123 + 0x10]);
    vm_mmu_free(mmu);
}

/* ---- TLB statistics ----------------------------------------------------- */

/*
 * TLB-statistics example: Sv39 with satp root 0 over zeroed RAM: every
 * translate of 0x1000 reads a V=0 root PTE and page-faults; faults are not
 * cached, so each of the 1000 translations is a miss: hit rate 0%.
 */
static void test_seed_tlb_stats_all_faults(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_SV39);
    for (int i = 0; i < 1000; i++) {
        vm_gpa_t pa;
        assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_ERR_PAGE_FAULT);
    }
    uint64_t hits = 0, misses = 0;
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(hits, 0);
    assert_int_equal(misses, 1000);
    assert_int_equal(hits * 10000 / (hits + misses), 0); /* 0.00% */

    /* The fault: root PTE at 0 + vpn[2](0)*8 = 0, level 2, V=0. */
    const vm_fault_t *f = vm_mmu_last_fault(mmu);
    assert_int_equal(f->kind, VM_FAULT_PAGE);
    assert_int_equal(f->cause, VM_CAUSE_LOAD_PAGE_FAULT);
    assert_int_equal(f->level, 2);
    assert_int_equal(f->pte_addr, 0);
    assert_int_equal(f->pte, 0);
    assert_non_null(f->reason);
    vm_mmu_tlb_stats(mmu, NULL, NULL); /* either pointer may be NULL */
    vm_mmu_free(mmu);
}

/* Variant with a valid mapping: one miss fills the DTLB, 999 hits. */
static void test_seed_tlb_stats_mapped(void **state)
{
    (void)state;
    const vm_gpa_t root = 0x8000;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, 0x10000);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x1000, 0x40000, VM_PTE_R, root), VM_OK);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_SV39);
    vm_mmu_set_satp(mmu, SATP_SV39 | (root >> 12));
    for (int i = 0; i < 1000; i++) {
        vm_gpa_t pa = 0;
        assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_OK);
        assert_int_equal(pa, 0x40000);
    }
    uint64_t hits = 0, misses = 0;
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(misses, 1);
    assert_int_equal(hits, 999);
    assert_int_equal(hits * 10000 / (hits + misses), 9990); /* 99.90% */

    /* vm_mmu_read of the same page is one more DTLB hit; a fetch uses the
     * ITLB (a miss, then a page fault: the page is not executable). */
    uint64_t v;
    assert_int_equal(vm_mmu_read(mmu, 0x1008, 8, &v), VM_OK);
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(hits, 1000);
    assert_int_equal(misses, 1);
    assert_int_equal(vm_mmu_fetch_insn(mmu, 0x1000, &v), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_FETCH_PAGE_FAULT);
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(hits, 1000);
    assert_int_equal(misses, 2);

    /* set_paging_mode flushes both TLBs: the next translate misses. */
    vm_mmu_set_paging_mode(mmu, VM_PAGING_SV39);
    vm_gpa_t pa;
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_OK);
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(misses, 3);
    /* Rewriting satp with the same MODE does not flush. */
    vm_mmu_set_satp(mmu, SATP_SV39 | (root >> 12));
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_OK);
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(misses, 3);
    assert_int_equal(hits, 1001);
    vm_mmu_free(mmu);
}

/*
 * Global entries (seed: "supports global page entries (G flag)"): a
 * mapping is global when G is set on its leaf or on any non-leaf PTE above
 * it (Priv. spec: "for non-leaf PTEs, the global setting implies that all
 * mappings in the subsequent levels of the page table are global"). A
 * global entry serves every ASID and survives an ASID-scoped flush; a
 * non-global one serves only its ASID. The PTEs are cleared behind the
 * TLB's back after the fill, so a translation that still succeeds came
 * from the TLB.
 */
static void test_seed_global_entries(void **state)
{
    (void)state;
    const vm_gpa_t root = 0x8000;
    const vm_gva_t va_leaf_g = 0x1000, va_path_g = 0x40000000, va_local = 0x2000;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, 0x10000);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, va_leaf_g, 0x50000, VM_PTE_R | VM_PTE_G, root),
                     VM_OK);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, va_local, 0x51000, VM_PTE_R, root), VM_OK);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, va_path_g, 0x52000, VM_PTE_R, root), VM_OK);
    /* G on the root's pointer PTE for va_path_g only. */
    vm_gpa_t slot = sv39_slot(root, va_path_g, 2);
    assert_int_equal(vm_mmu_write_phys(mmu, slot, phys64(mmu, slot) | VM_PTE_G, 8), VM_OK);

    const uint64_t asid1 = UINT64_C(1) << 44, asid2 = UINT64_C(2) << 44;
    vm_mmu_set_satp(mmu, SATP_SV39 | asid1 | (root >> 12));
    vm_gpa_t pa;
    assert_int_equal(vm_mmu_translate(mmu, va_leaf_g, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(vm_mmu_translate(mmu, va_local, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(vm_mmu_translate(mmu, va_path_g, VM_ACCESS_READ, &pa), VM_OK);
    /* Unmap all three (leaf PTEs to 0) without a flush. */
    assert_int_equal(vm_mmu_write_phys(mmu, sv39_leaf_slot(mmu, root, va_leaf_g), 0, 8), VM_OK);
    assert_int_equal(vm_mmu_write_phys(mmu, sv39_leaf_slot(mmu, root, va_local), 0, 8), VM_OK);
    assert_int_equal(vm_mmu_write_phys(mmu, sv39_leaf_slot(mmu, root, va_path_g), 0, 8), VM_OK);

    /* ASID 2: only the global entries serve. */
    vm_mmu_set_satp(mmu, SATP_SV39 | asid2 | (root >> 12));
    assert_int_equal(vm_mmu_translate(mmu, va_leaf_g, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, 0x50000);
    assert_int_equal(vm_mmu_translate(mmu, va_path_g, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(pa, 0x52000);
    assert_int_equal(vm_mmu_translate(mmu, va_local, VM_ACCESS_READ, &pa), VM_ERR_PAGE_FAULT);
    /* sfence.vma x0, asid: global entries stay; ASID 1's local one goes. */
    vm_mmu_flush_tlb_asid(mmu, 1);
    vm_mmu_flush_tlb_asid(mmu, 2);
    assert_int_equal(vm_mmu_translate(mmu, va_leaf_g, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(vm_mmu_translate(mmu, va_path_g, VM_ACCESS_READ, &pa), VM_OK);
    vm_mmu_set_satp(mmu, SATP_SV39 | asid1 | (root >> 12));
    assert_int_equal(vm_mmu_translate(mmu, va_local, VM_ACCESS_READ, &pa), VM_ERR_PAGE_FAULT);
    /* sfence.vma va, x0 drops global entries too. */
    vm_mmu_flush_tlb_page(mmu, va_leaf_g + 0x123);
    assert_int_equal(vm_mmu_translate(mmu, va_leaf_g, VM_ACCESS_READ, &pa), VM_ERR_PAGE_FAULT);
    assert_int_equal(vm_mmu_translate(mmu, va_path_g, VM_ACCESS_READ, &pa), VM_OK);
    vm_mmu_flush_tlb(mmu);
    assert_int_equal(vm_mmu_translate(mmu, va_path_g, VM_ACCESS_READ, &pa), VM_ERR_PAGE_FAULT);
    vm_mmu_free(mmu);
}

/* tlb_capacity / resize_tlbs: 64/128 by default; resize clears stats. */
static void test_seed_tlb_capacity_and_resize(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    size_t itlb = 0, dtlb = 0;
    vm_mmu_tlb_capacity(mmu, &itlb, &dtlb);
    assert_int_equal(itlb, 64);
    assert_int_equal(dtlb, 128);

    vm_mmu_set_paging_mode(mmu, VM_PAGING_SV39); /* root 0, zeroed: faults count as misses */
    vm_gpa_t pa;
    for (int i = 0; i < 5; i++)
        assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_ERR_PAGE_FAULT);
    uint64_t hits = 0, misses = 0;
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(misses, 5);

    assert_int_equal(vm_mmu_resize_tlbs(mmu, 16, 4096), VM_OK);
    vm_mmu_tlb_capacity(mmu, &itlb, &dtlb);
    assert_int_equal(itlb, 16);
    assert_int_equal(dtlb, 4096);
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(hits, 0);
    assert_int_equal(misses, 0);

    /* Out of range sizes: refused, nothing changes. */
    assert_int_equal(vm_mmu_resize_tlbs(mmu, 0, 128), VM_ERR_INVALID_ARGUMENT);
    assert_int_equal(vm_mmu_resize_tlbs(mmu, 64, 4097), VM_ERR_INVALID_ARGUMENT);
    vm_mmu_tlb_capacity(mmu, &itlb, &dtlb);
    assert_int_equal(itlb, 16);
    assert_int_equal(dtlb, 4096);
    assert_int_equal(vm_mmu_resize_tlbs(mmu, 1, 1), VM_OK);
    vm_mmu_tlb_capacity(mmu, &itlb, NULL);
    assert_int_equal(itlb, 1);
    vm_mmu_free(mmu);
}

/* Resizing also drops the entries: the next access misses again. */
static void test_seed_resize_clears_entries(void **state)
{
    (void)state;
    const vm_gpa_t root = 0x8000;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    vm_ptbuilder_t b;
    vm_ptbuilder_init(&b, 0x10000);
    assert_int_equal(vm_ptbuilder_map_sv39(&b, mmu, 0x1000, 0x40000, VM_PTE_R, root), VM_OK);
    vm_mmu_set_satp(mmu, SATP_SV39 | (root >> 12));
    vm_gpa_t pa;
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_OK);
    assert_int_equal(vm_mmu_resize_tlbs(mmu, 64, 128), VM_OK);
    /* Unmap behind the TLB's back: only a TLB that kept the entry could
     * still translate. */
    vm_gpa_t l1 = pte_table(phys64(mmu, sv39_slot(root, 0x1000, 2)));
    vm_gpa_t l0 = pte_table(phys64(mmu, sv39_slot(l1, 0x1000, 1)));
    assert_int_equal(vm_mmu_write_phys(mmu, sv39_slot(l0, 0x1000, 0), 0, 8), VM_OK);
    assert_int_equal(vm_mmu_translate(mmu, 0x1000, VM_ACCESS_READ, &pa), VM_ERR_PAGE_FAULT);
    uint64_t hits, misses;
    vm_mmu_tlb_stats(mmu, &hits, &misses);
    assert_int_equal(hits, 0);
    assert_int_equal(misses, 1);
    vm_mmu_free(mmu);
}

/* ---- Constructors, guest_slice, strict alignment ------------------------ */

static void test_seed_new_default(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new_default();
    assert_non_null(mmu);
    assert_int_equal(vm_mmu_memory_size(mmu), 65536);
    assert_non_null(vm_mmu_physmem(mmu));
    assert_int_equal(vm_physmem_size(vm_mmu_physmem(mmu)), 65536);
    assert_int_equal(vm_mmu_paging_mode(mmu), VM_PAGING_BARE);
    assert_int_equal(vm_mmu_last_fault(mmu)->kind, VM_FAULT_NONE);
    uint64_t v;
    assert_int_equal(vm_mmu_read(mmu, 65536 - 8, 8, &v), VM_OK);
    assert_int_equal(vm_mmu_read(mmu, 65536, 1, &v), VM_ERR_ACCESS_FAULT);
    vm_mmu_free(mmu);
    vm_mmu_free(NULL);
}

/* new_shared: the MMU does not own the memory; two MMUs see one RAM. */
static void test_seed_new_shared(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(1 * MiB, false);
    assert_non_null(pm);
    vm_mmu_t *a = vm_mmu_new_shared(pm);
    vm_mmu_t *b = vm_mmu_new_shared(pm);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_equal(vm_mmu_physmem(a), pm);
    assert_int_equal(vm_mmu_write(a, 0x500, 0x1234, 2), VM_OK);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_read(b, 0x500, 2, &v), VM_OK);
    assert_int_equal(v, 0x1234);
    /* Each MMU is its own LR/SC owner: b's SC does not use a's reservation. */
    bool ok = true;
    assert_int_equal(vm_mmu_load_reserved(a, 0x500, 2, &v), VM_OK);
    assert_int_equal(vm_mmu_store_conditional(b, 0x500, 0x9, 2, &ok), VM_OK);
    assert_false(ok);
    assert_int_equal(vm_mmu_store_conditional(a, 0x500, 0x9, 2, &ok), VM_OK);
    assert_true(ok);
    vm_mmu_free(a);
    vm_mmu_free(b);
    /* pm is still alive and owned by us. */
    uint16_t h = 0;
    assert_int_equal(vm_physmem_read_u16(pm, 0x500, &h), VM_OK);
    assert_int_equal(h, 0x9);
    vm_physmem_free(pm);
    assert_null(vm_mmu_new_shared(NULL));
}

/* guest_slice: copy of RAM at a physical address, RAM only. */
static void test_seed_guest_slice(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    for (uint64_t i = 0; i < 16; i++)
        assert_int_equal(vm_mmu_write_phys(mmu, 0x3000 + i, 0xA0 + i, 1), VM_OK);
    uint8_t out[16];
    assert_int_equal(vm_mmu_guest_slice(mmu, 0x3000, sizeof(out), out), VM_OK);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(out[i], 0xA0 + i);
    assert_int_not_equal(vm_mmu_guest_slice(mmu, 1 * MiB - 8, 16, out), VM_OK);
    assert_int_equal(vm_mmu_guest_slice(mmu, 0x3000, 4, NULL), VM_ERR_INVALID_ARGUMENT);
    vm_mmu_free(mmu);
}

/* VM_STRICT_ALIGN=1 in the environment turns strict alignment on at creation. */
static void test_seed_strict_align_from_env(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(setenv("VM_STRICT_ALIGN", "1", 1), 0);
    vm_mmu_t *mmu = vm_mmu_new(1 * MiB, false);
    assert_int_equal(unsetenv("VM_STRICT_ALIGN"), 0);
    assert_non_null(mmu);
    assert_int_equal(vm_mmu_write(mmu, 0x100, 0x01020304, 4), VM_OK);
    assert_int_equal(vm_mmu_read(mmu, 0x101, 4, &v), VM_ERR_ALIGNMENT_FAULT);
    const vm_fault_t *f = vm_mmu_last_fault(mmu);
    assert_int_equal(f->kind, VM_FAULT_MISALIGNED);
    assert_int_equal(f->cause, VM_CAUSE_LOAD_MISALIGNED);
    assert_int_equal(f->va, 0x101);
    assert_int_equal(vm_mmu_write(mmu, 0x102, 0, 4), VM_ERR_ALIGNMENT_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_STORE_MISALIGNED);
    assert_int_equal(vm_mmu_fetch_insn(mmu, 0x102, &v), VM_ERR_ALIGNMENT_FAULT);
    assert_int_equal(vm_mmu_last_fault(mmu)->cause, VM_CAUSE_FETCH_MISALIGNED);
    /* The faulting store wrote nothing. */
    assert_int_equal(vm_mmu_read(mmu, 0x100, 4, &v), VM_OK);
    assert_int_equal(v, 0x01020304);
    /* 1-byte accesses are always aligned. */
    assert_int_equal(vm_mmu_read(mmu, 0x101, 1, &v), VM_OK);
    assert_int_equal(v, 0x03);
    /* Off again: misaligned accesses work (little-endian bytes 0x101..0x104). */
    vm_mmu_set_strict_align(mmu, false);
    assert_int_equal(vm_mmu_read(mmu, 0x101, 2, &v), VM_OK);
    assert_int_equal(v, 0x0203);
    vm_mmu_free(mmu);

    /* Anything but exactly "1" leaves it off. */
    static const char *const off_values[] = {"0", "11", "true", ""};
    for (size_t i = 0; i < sizeof(off_values) / sizeof(off_values[0]); i++) {
        assert_int_equal(setenv("VM_STRICT_ALIGN", off_values[i], 1), 0);
        mmu = vm_mmu_new(1 * MiB, false);
        assert_non_null(mmu);
        assert_int_equal(vm_mmu_read(mmu, 0x101, 4, &v), VM_OK);
        vm_mmu_free(mmu);
    }
    assert_int_equal(unsetenv("VM_STRICT_ALIGN"), 0);
    mmu = vm_mmu_new(1 * MiB, false);
    assert_non_null(mmu);
    assert_int_equal(vm_mmu_read(mmu, 0x101, 4, &v), VM_OK);
    vm_mmu_free(mmu);
}

/* Hugepage request: always succeeds (falls back), behaves like RAM. */
static void test_seed_new_with_hugepages(void **state)
{
    (void)state;
    vm_mmu_t *mmu = vm_mmu_new(4 * MiB, true);
    assert_non_null(mmu);
    assert_int_equal(vm_mmu_memory_size(mmu), 4 * MiB);
    uint64_t v = 0;
    assert_int_equal(vm_mmu_write(mmu, 3 * MiB, 0x77, 8), VM_OK);
    assert_int_equal(vm_mmu_read(mmu, 3 * MiB, 8, &v), VM_OK);
    assert_int_equal(v, 0x77);
    vm_mmu_free(mmu);
}

int main(void)
{
    /* The environment decides the strict-alignment default: start clean. */
    unsetenv("VM_STRICT_ALIGN");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_bare_identity_translate),
        cmocka_unit_test(test_seed_bare_write_read),
        cmocka_unit_test(test_seed_sv39_example),
        cmocka_unit_test(test_seed_builder_and_set_satp_example),
        cmocka_unit_test(test_seed_set_satp_fields),
        cmocka_unit_test(test_seed_paging_modes_start_untranslated),
        cmocka_unit_test(test_seed_mmio_uart),
        cmocka_unit_test(test_seed_lrsc),
        cmocka_unit_test(test_seed_bulk),
        cmocka_unit_test(test_seed_bulk_through_sv39),
        cmocka_unit_test(test_seed_tlb_stats_all_faults),
        cmocka_unit_test(test_seed_tlb_stats_mapped),
        cmocka_unit_test(test_seed_global_entries),
        cmocka_unit_test(test_seed_tlb_capacity_and_resize),
        cmocka_unit_test(test_seed_resize_clears_entries),
        cmocka_unit_test(test_seed_new_default),
        cmocka_unit_test(test_seed_new_shared),
        cmocka_unit_test(test_seed_guest_slice),
        cmocka_unit_test(test_seed_strict_align_from_env),
        cmocka_unit_test(test_seed_new_with_hugepages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
