/*
 * walk.c - the generic page-table walk: one level loop over a per-format
 * descriptor (walk_int.h).
 *
 * How it works
 *   The loop is the RISC-V "Virtual Address Translation Process" (Priv.
 *   spec, Supervisor-Level ISA, section "Virtual Address Translation
 *   Process"), with every format-specific decision delegated to the
 *   descriptor's hooks, so Sv39/Sv48/Sv57 (and later x86-64, Arm64) share
 *   it:
 *     canonical check; a = root; i = LEVELS-1;
 *     step 2: read the PTE at a + vpn[i]*PTESIZE, RAM only (else access
 *             fault; a device is never invoked for a PTE);
 *     step 3/4: classify: invalid -> page fault; pointer -> descend,
 *             pointer at level 0 -> page fault;
 *     step 5: misaligned superpage -> page fault;
 *     step 6/8: permission check (U bit, then R/W/X) -> page fault;
 *     step 9: A/D: Svade -> page fault; Svadu -> compare-and-swap the PTE
 *             from the value read to the value with A (and D) set; if the
 *             swap fails the PTE changed: restart from step 1;
 *     step 10: pa = leaf base | (va & page_mask).
 *   The A/D update happens before the final PA is checked for backing:
 *   the walk returns a PA even if nothing is there (the access then takes
 *   an access fault), as the spec orders.
 *
 * What was rejected
 *   - One walker function per mode (Sv39, Sv48, Sv57 copies): triples the
 *     code that must be right; the levels differ only by constants.
 *   - A plain store for the A/D write-back: it can resurrect a PTE another
 *     hart just cleared (BUG-CLASSES 1). The compare-and-swap plus re-walk
 *     is what the spec's "perform atomically" asks for.
 *   - Unbounded restarts: a guest hammering a PTE could livelock the vCPU;
 *     after WALK_MAX_RESTARTS failed swaps the access takes a page fault
 *     (the guest retries the instruction, as after any page fault).
 */
#include "walk_int.h"

#define WALK_MAX_RESTARTS 64

void walk_fault_set(vm_fault_t *f, vm_gva_t va, vm_access_t access, vm_fault_kind_t kind,
                    const char *reason, int level, vm_gpa_t pte_addr, uint64_t pte)
{
    static const uint32_t causes[VM_FAULT_MISALIGNED + 1][3] = {
        /* READ, WRITE, EXEC */
        [VM_FAULT_NONE] = {0, 0, 0},
        [VM_FAULT_PAGE] = {VM_CAUSE_LOAD_PAGE_FAULT, VM_CAUSE_STORE_PAGE_FAULT,
                           VM_CAUSE_FETCH_PAGE_FAULT},
        [VM_FAULT_ACCESS] = {VM_CAUSE_LOAD_ACCESS, VM_CAUSE_STORE_ACCESS, VM_CAUSE_FETCH_ACCESS},
        [VM_FAULT_MISALIGNED] = {VM_CAUSE_LOAD_MISALIGNED, VM_CAUSE_STORE_MISALIGNED,
                                 VM_CAUSE_FETCH_MISALIGNED},
    };
    f->va = va;
    f->access = access;
    f->kind = kind;
    f->cause = causes[kind][access];
    f->syndrome = 0;
    f->level = level;
    f->pte_addr = level >= 0 ? pte_addr : 0;
    f->pte = level >= 0 ? pte : 0;
    f->reason = reason;
}

/* Step 2: the PTE must lie wholly in RAM (PMA check); MMIO is never read. */
static bool walk_read_pte(const struct walk_format *fmt, vm_physmem_t *pm, vm_gpa_t addr,
                          uint64_t *pte)
{
    if (!physmem_ram_contains(pm, addr, fmt->pte_size))
        return false;
    *pte = physmem_load_aligned(pm, addr, fmt->pte_size);
    return true;
}

static vm_gpa_t walk_pte_addr(const struct walk_format *fmt, vm_gpa_t table, vm_gva_t va, int i)
{
    uint64_t index = (va >> fmt->level_shift[i]) & ((UINT64_C(1) << fmt->index_bits[i]) - 1);
    return table + index * fmt->pte_size;
}

vm_err_t walk_translate(const struct walk_format *fmt, const struct walk_ctx *ctx, vm_gva_t va,
                        vm_access_t access, struct walk_result *out, vm_fault_t *fault)
{
    const char *reason = NULL;

    /* "Instruction fetch addresses and load and store effective addresses
     * ... must have bits 63-VA_BITS all equal to bit VA_BITS-1, or else a
     * page-fault exception will occur" (Sv39/48/57 "Addressing"). */
    if (!walk_va_canonical(fmt, va)) {
        walk_fault_set(fault, va, access, VM_FAULT_PAGE, "non-canonical VA", -1, 0, 0);
        return VM_ERR_PAGE_FAULT;
    }

    for (unsigned restarts = 0;; restarts++) {
        vm_gpa_t table = ctx->root; /* step 1 */
        int i = (int)fmt->levels - 1;
        vm_gpa_t pte_addr;
        uint64_t pte;
        bool global = false;

        if (restarts > WALK_MAX_RESTARTS) {
            walk_fault_set(fault, va, access, VM_FAULT_PAGE, "PTE kept changing during A/D update",
                           -1, 0, 0);
            return VM_ERR_PAGE_FAULT;
        }

        for (;;) {
            pte_addr = walk_pte_addr(fmt, table, va, i); /* step 2 */
            if (!walk_read_pte(fmt, ctx->pm, pte_addr, &pte)) {
                walk_fault_set(fault, va, access, VM_FAULT_ACCESS, "PTE outside RAM", i, pte_addr,
                               0);
                return VM_ERR_ACCESS_FAULT;
            }
            enum walk_pte_kind kind = fmt->classify(pte, i, &reason); /* step 3 */
            if (kind == WALK_PTE_INVALID) {
                walk_fault_set(fault, va, access, VM_FAULT_PAGE, reason, i, pte_addr, pte);
                return VM_ERR_PAGE_FAULT;
            }
            global = global || fmt->is_global(pte);
            if (kind == WALK_PTE_LEAF)
                break;
            if (i == 0) { /* step 4: "If i < 0, stop and raise a page-fault" */
                walk_fault_set(fault, va, access, VM_FAULT_PAGE, "pointer at last level", i,
                               pte_addr, pte);
                return VM_ERR_PAGE_FAULT;
            }
            table = fmt->table_addr(pte);
            i--;
        }

        uint64_t page_mask = (UINT64_C(1) << fmt->level_shift[i]) - 1;
        vm_gpa_t base = fmt->leaf_addr(pte);

        /* Step 5: "If i > 0 and pte.ppn[i-1:0] != 0, this is a misaligned
         * superpage" (BUG-CLASSES 3: never OR the low PPN bits with the VPN). */
        if ((base & page_mask) != 0) {
            walk_fault_set(fault, va, access, VM_FAULT_PAGE, "misaligned superpage", i, pte_addr,
                           pte);
            return VM_ERR_PAGE_FAULT;
        }
        /* Steps 6 and 8: U bit against priv/SUM/MXR, then R/W/X. */
        if (!fmt->permits(pte, ctx, access, &reason)) {
            walk_fault_set(fault, va, access, VM_FAULT_PAGE, reason, i, pte_addr, pte);
            return VM_ERR_PAGE_FAULT;
        }
        /* Step 9: A, and D for a store. */
        if (!ctx->speculative) {
            uint64_t want = fmt->ad_needed(pte, access, &reason);
            if (want != pte) {
                if (!ctx->ad_hardware) { /* Svade */
                    walk_fault_set(fault, va, access, VM_FAULT_PAGE, reason, i, pte_addr, pte);
                    return VM_ERR_PAGE_FAULT;
                }
                bool swapped = false;
                vm_err_t err = physmem_cmpxchg_u64(ctx->pm, pte_addr, pte, want, &swapped);
                if (err != VM_OK) {
                    /* "If a store to the PTE would violate a PMA or PMP
                     * check, raise an access-fault exception." */
                    walk_fault_set(fault, va, access, VM_FAULT_ACCESS, "PTE not writable memory",
                                   i, pte_addr, pte);
                    return VM_ERR_ACCESS_FAULT;
                }
                /* "If the comparison fails, return to step 2": we restart
                 * from the root, which re-reads this PTE and (legally, as
                 * an uncached walker would) the levels above it. */
                if (!swapped)
                    continue;
                pte = want;
            }
        }
        /* Step 10: pa.pgoff = va.pgoff; for a superpage the low VPNs pass through. */
        out->page_pa = base;
        out->page_mask = page_mask;
        out->pa = base | (va & page_mask);
        out->pte = pte;
        out->level = i;
        out->global = global;
        return VM_OK;
    }
}
