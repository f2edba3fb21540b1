/*
 * fuzz_translate.c - differential fuzzing of vm_mmu_translate against the
 * reference RISC-V walker (conformance/ref/ref_rv.c) under the TLB-aware
 * acceptance rule (ref_tlb.c).
 *
 * Input: the 6-byte config header of fuzz_mmu_common.h (Sv39/48/57, RAM
 * 64K..4M, root, ASID, priv/SUM/MXR/AD mode, TLB sizes), then ops, one
 * opcode byte each (% 16) followed by fixed little-endian arguments:
 *
 *   0-1  map        builder map (4K/2M/1G/512G) of a pool VA
 *   2-3  pte-write  raw 8-byte PTE: any flags, RSW, N/PBMT/reserved bits,
 *                   misaligned superpage PPN, pointer outside RAM / in MMIO
 *   4    satp       MODE (incl. unsupported, WARL), ASID, root
 *   5    priv       priv / SUM / MXR / A-D mode
 *   6-11 translate  read / write / exec of a pool VA (+ tweak)
 *   12   flush      all / ASID / page
 *   13   resize     TLB sizes 1..8 (evictions) or the defaults
 *   14   mode       vm_mmu_set_paging_mode
 *   15   translate  the same VA twice (the second one normally hits)
 *
 * Oracle, after every translate (fm_check_translate): the answer is legal
 * (fresh walk, or a remembered leaf); the TLB counters move by exactly one
 * when paging is active; a miss equals the fresh walk exactly, A/D write
 * included, and its leaf is recorded; a hit writes nothing and is
 * justified by a remembered leaf; the fault record names the kind, cause,
 * VA, and for walks the level and PTE. Ops that must not translate leave
 * the counters alone; the MMIO device is never touched (no PTE is ever
 * read from or A/D-written to a device, BUG-CLASSES 14). At the end, RAM
 * is compared with the model page by page.
 *
 * Rejected: checking the core's TLB contents directly (white-box, would
 * tie the target to tlb.c's layout); the counters and memory tell us
 * whether it walked, which is all the acceptance rule needs.
 */
#include "fuzz_mmu_common.h"

/* What the bytes of an input mean, versioned (fuzz_input.h): bump it with
 * every change to this target's decoding. */
const unsigned fuzz_format_version = 2;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Create every machine up front (AFL++ stability: see fuzz_mmu_common.h). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fm_init_machines();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    fm_t *fm = &fm_world;

    if (size < 6)
        return 0;
    fin_init(&in, data, size);
    if (!fm_setup(fm, &in, "fuzz_translate"))
        return 0;

    while (!fin_done(&in)) {
        uint8_t op = fin_u8(&in) % 16;
        switch (op) {
        case 0: case 1: fm_op_map(fm, &in); break;
        case 2: case 3: fm_op_pte(fm, &in); break;
        case 4: fm_op_satp(fm, &in); break;
        case 5: fm_op_priv(fm, &in); break;
        case 12: fm_op_flush(fm, &in); break;
        case 13: fm_op_resize(fm, &in); break;
        case 14: fm_op_paging_mode(fm, &in); break;
        case 15: {
            vm_gva_t va = fm_va(fm, &in);
            int acc = fin_u8(&in) % 3;
            fm_check_translate(fm, va, acc);
            fm_check_translate(fm, va, acc);
            break;
        }
        default: {
            vm_gva_t va = fm_va(fm, &in);
            fm_check_translate(fm, va, op % 3);
            break;
        }
        }
        if (fm_dev.n != 0 || fm_dev.bad)
            fm_fail(fm, "the MMIO device was accessed (%u accesses%s%s): no op of this target "
                        "may reach it (page tables are never read from a device)",
                    fm_dev.n, fm_dev.bad ? ", " : "", fm_dev.bad ? fm_dev.bad : "");
    }
    fm_teardown(fm);
    return 0;
}
