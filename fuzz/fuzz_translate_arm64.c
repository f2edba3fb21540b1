/*
 * fuzz_translate_arm64.c - differential fuzzing of AArch64 stage 1
 * translation (VM_PAGING_ARM64) against the reference model written from
 * the Arm ARM pseudocode (conformance/ref/ref_arm64.c) under the TLB-aware
 * acceptance rule for Arm (ref_tlb_arm64.c).
 *
 * Input: an 8-byte config header (RAM size, TLB sizes, granules, TxSZ,
 * EPDn/AS/A1/TBIn/HA/HD/HPDn/WXN/PAN, IPS, PARange, EL, stage 1 on/off,
 * ASIDs), then ops, one opcode byte each (% 16) followed by fixed
 * little-endian arguments:
 *
 *   0-1  map         vm_ptbuilder_map_arm64 (page or block, any granule/TxSZ)
 *   2-3  desc-write  raw descriptor at a walk's slot: every type and address
 *   4    tcr         one TCR_EL1 field (or all of it) changes
 *   5    ttbr        TTBR0/TTBR1: base and ASID
 *   6    state       EL, PAN, WXN, M, PARange, other SCTLR bits
 *   7-9  translate   read / write / exec of a pool VA (+ tweak)
 *   10   translate   the same access twice (miss, then hit)
 *   11   translate   an access, then the same VA with another tag
 *   12   tlbi        VMALLE1/ASIDE1/VAE1/VAAE1/VALE1/VAALE1 (and unknown ops)
 *   13   flush       the generic flushes (all, ASID, page, page+ASID, non-global)
 *   14   machine     TLB resize or paging-mode switch (Bare / ARM64)
 *   15   el-flip     the other EL, then an access
 *
 * The world, the decoders and the oracle are in arm64_world.c (see its
 * design comment); a mismatch prints the decoded scenario and both answers,
 * then traps.
 */
#include "arm64_world.h"

/* What the bytes of an input mean, versioned (fuzz_input.h): bump it with
 * every change to this target's decoding. */
const unsigned fuzz_format_version = 2;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    a64w_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    fin_init(&in, data, size);
    if (!a64w_setup(&in))
        return 0;
    while (!fin_done(&in))
        a64w_op(fin_u8(&in), &in);
    a64w_teardown();
    return 0;
}
