/*
 * walk.c - what every page-table walker shares: the atomic A/D commit and
 * the fault record.
 *
 * How a walk works (all three architectures)
 *   Each walker (walk_riscv.c, walk_x86_64.c, walk_arm64.c) is one short
 *   loop over the levels, written in its manual's terms, that reads entries
 *   straight from the RAM mapping (walk_read_entry in walk_int.h: RAM only,
 *   a table in a device or in a hole is an access fault, never a device
 *   call) and decides, without writing anything, either a fault or a leaf
 *   with its combined permissions. Only then are the accessed/dirty updates
 *   the architecture requires (RISC-V A/D of the leaf; x86 A of every entry
 *   used and D of the mapping entry; Arm AF and the dirty state of the
 *   leaf) committed here, each by compare-and-swap from the value the walk
 *   read. If any entry changed in between, the walk restarts from the root
 *   ("if the comparison fails, return to step 2", Priv. spec; SDM 4.8 asks
 *   for the same atomicity; Arm D8.4.7 "hardware updates ... atomic"), so a
 *   PTE another hart just cleared is never resurrected (BUG-CLASSES 1). No
 *   update is made for an access that faults.
 *
 * What was rejected
 *   - One generic level loop driven by a per-format descriptor of function
 *     pointers (the first design): x86 accumulates rights and sets A at
 *     every level, Arm starts at a level set by TxSZ and the granule and
 *     checks output-address size and hierarchical attributes per level;
 *     the hooks became per-level indirect calls on the TLB-miss path and
 *     the RISC-V walk paid for x86's and Arm's generality. The shared part
 *     is what really is the same: entry reads, the commit, the fault record.
 *   - A plain store for the A/D write-back: it can resurrect a PTE another
 *     hart just cleared (BUG-CLASSES 1).
 *   - Unbounded restarts: a guest hammering a PTE could livelock the vCPU;
 *     after WALK_MAX_RESTARTS failed swaps the walkers report a page fault
 *     (the guest retries the instruction, as after any page fault).
 */
#include "walk_int.h"

enum walk_commit_result walk_commit(vm_physmem_t *pm, const struct walk_update *u, unsigned n,
                                    unsigned *failed)
{
    for (unsigned k = 0; k < n; k++) {
        if (u[k].new == u[k].old)
            continue;
        bool swapped = false;
        if (physmem_cmpxchg_u64(pm, u[k].addr, u[k].old, u[k].new, &swapped) != VM_OK) {
            /* Priv. spec step 9: "If a store to pte would violate a PMA or
             * PMP check, raise an access-fault exception". */
            *failed = k;
            return WALK_COMMIT_FAULT;
        }
        if (!swapped)
            return WALK_COMMIT_RETRY;
    }
    return WALK_COMMIT_OK;
}

void walk_fault_fill(vm_fault_t *f, vm_gva_t va, vm_access_t access, vm_fault_kind_t kind,
                     uint32_t cause, uint32_t syndrome, const char *reason, int level,
                     vm_gpa_t pte_addr, uint64_t pte)
{
    f->va = va;
    f->access = access;
    f->kind = kind;
    f->cause = cause;
    f->syndrome = syndrome;
    f->level = level;
    f->pte_addr = level >= 0 ? pte_addr : 0;
    f->pte = level >= 0 ? pte : 0;
    f->reason = reason;
}

uint32_t walk_riscv_cause(vm_fault_kind_t kind, vm_access_t access)
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
    if ((unsigned)kind > VM_FAULT_MISALIGNED || (unsigned)access > VM_ACCESS_EXEC)
        return 0;
    return causes[kind][access];
}
