/*
 * fuzz_translate_x86.c - differential fuzzing of x86-64 4-level and 5-level
 * paging (VM_PAGING_X86_64) against the reference walker written from the
 * Intel SDM Vol. 3A chapter 4 (conformance/ref/ref_x86_64.c) under the
 * TLB-aware acceptance rule for x86 (ref_tlb_x86_64.c: PCIDs, global pages,
 * the invalidations of SDM 4.10.4.1).
 *
 * Input: a 6-byte config header (RAM size, 4/5 levels, paging on/off,
 * PGE/PCIDE/SMEP/SMAP/PKE, WP, NXE, AC, CPL, PKRU, MAXPHYADDR, PCID, TLB
 * sizes), then ops, one opcode byte each (% 16) followed by fixed
 * little-endian arguments:
 *
 *   0-1  map          vm_ptbuilder_map_x86_64 (4K/2M/1G, 4 or 5 levels, every flag)
 *   2-3  entry-write  raw entry at a walk's slot: tables, leaves, reserved and
 *                     ignored bits, not present, outside RAM / in MMIO, random
 *   4    cr0          WP, PG, PE or another bit flipped (or a whole value)
 *   5    cr4          PAE/PGE/LA57/PCIDE/SMEP/SMAP/PKE/PSE or another bit flipped
 *   6    cr3          MOV to CR3 (root, PCID, bit 63) or CR3 through the block
 *   7    other        EFER (NXE, LME, ...), RFLAGS.AC, CPL, PKRU, MAXPHYADDR
 *   8-10 translate    read / write / exec of a pool VA (+ tweak)
 *   11   translate    the same access twice (miss, then hit)
 *   12   invalidate   INVLPG, INVPCID types 0-3 (and refused operands)
 *   13   flush        the generic flushes (all, PCID, page, page+PCID, non-global)
 *   14   machine      TLB resize or paging-mode switch (Bare / X86_64)
 *   15   cpl-flip     user <-> supervisor, then an access
 *
 * The world, the decoders and the oracle are in x86_world.c (see its design
 * comment); a mismatch prints the decoded scenario and both answers, then
 * traps.
 */
#include "x86_world.h"

/* What the bytes of an input mean, versioned (fuzz_input.h): bump it with
 * every change to this target's decoding (fuzz/README.md, "Input format
 * versions"). */
const unsigned fuzz_format_version = 2;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    x86w_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    fin_init(&in, data, size);
    if (!x86w_setup(&in))
        return 0;
    while (!fin_done(&in))
        x86w_op(fin_u8(&in), &in);
    x86w_teardown();
    return 0;
}
