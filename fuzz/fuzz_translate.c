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
 *   6-8  translate  read / write / exec of a pool VA (+ tweak)
 *   9-11 translate  the same, then the access path against it
 *   12   flush      all / ASID / page
 *   13   resize     TLB sizes 1..8 (evictions) or the defaults
 *   14   mode       vm_mmu_set_paging_mode
 *   15   translate  the same VA twice (the second one normally hits), then
 *                   the access path against it
 *
 * Oracle, after every translate (fm_check_translate): the answer is legal
 * (fresh walk, or a remembered leaf); the TLB counters move by exactly one
 * when paging is active; a miss equals the fresh walk exactly, A/D write
 * included, and its leaf is recorded; a hit writes nothing and is
 * justified by a remembered leaf; the fault record names the kind, cause,
 * VA, and for walks the level and PTE. Ops that must not translate leave
 * the counters alone; the MMIO device is never touched (no PTE is ever
 * read from or A/D-written to a device, BUG-CLASSES 14). Ops 9-11 and 15
 * then check the access path against the translation
 * (fm_check_access_agrees: translated again, the access right after must
 * pick the same entry); half the plain translate opcodes skip it, which
 * costs three judged translations and an access per op (exec/s 15.5k ->
 * 10.4k when every translate op did it). At the end, RAM is compared with
 * the model page by page.
 *
 * Rejected: checking the core's TLB contents directly (white-box, would
 * tie the target to tlb.c's layout); the counters and memory tell us
 * whether it walked, which is all the acceptance rule needs.
 */
#include "fuzz_mmu_common.h"

/* What the bytes of an input mean, versioned (fuzz_input.h): bump it with
 * every change to this target's decoding. */
const unsigned fuzz_format_version = 2;

/*
 * The access functions against a translation just checked: the RISC-V
 * form of fuzz/world_access.h's check (the x86-64 and Arm64 worlds), which
 * the per-access oracle of fuzz_mmu_access cannot replace: that one accepts
 * any answer a remembered leaf allows, and a stale level-0 slot
 * (mmu_inline.h) whose entry was replaced by a smaller one is still such
 * an answer. Here the TLB state is fixed between a translation and the
 * access right after it, so both must pick the same entry:
 *   1. translate va again (fully judged, not logged): answer T;
 *   2. the aligned access of the same kind on the same page - vm_mmu_read
 *      of 8 bytes, vm_mmu_write of 8 bytes (a value of the check's own,
 *      see below), vm_mmu_fetch_insn - returns T's outcome, counting the
 *      same TLB events as T (the entry T used answers it, through the
 *      level-0 array or not), with T's fault record (at the aligned VA) or
 *      the bytes at T's PA;
 *   3. after a success, translate once more (judged): an access that filled
 *      an entry under a wrong tag shows there.
 * The planted values are also `w64` lines of the .vmc case and a load or
 * fetch its `expect` line, and vmmem-conform reaches the same verdict: it
 * takes the PA an access used from a translation right after it and
 * compares the bytes the access returned with the reference's bytes there.
 * A store writes no line (fuzz/world_access.h says why).
 * Skipped: T's PA outside RAM (device and unbacked PAs add rules the .vmc
 * cases and fuzz_mmu_access check). Not in fuzz_mmu_access: its store
 * would break LR reservations its model keeps.
 */
static void fm_check_access_agrees(fm_t *fm, uint64_t va, int acc)
{
    static const char *const names[3] = {"read8", "write8", "exec4"};
    const unsigned size = acc == 2 ? 4u : 8u;
    const uint64_t ava = va & ~(uint64_t)(size - 1);
    fm_answer_t t;
    fm_check_translate_as(fm, va, acc, false, &t);
    const uint64_t apa = t.pa & ~(uint64_t)(size - 1);
    const uint64_t word = apa & ~UINT64_C(7);
    if (t.outcome == REF_OK && !fm_in_ram(fm, word, 8))
        return;
    /* The word at T's PA gets a value of its own for the access (restored
     * after it), so an access that used another PA shows even where RAM
     * is zero everywhere. Not when T walked (the access walks too and might
     * read the word as a PTE), nor when the word is a PTE of the page's own
     * walk (the .vmc line's fresh walk, which --ref-only applies, would read
     * the planted value). */
    bool plant = t.outcome == REF_OK && t.dm == 0;
    for (int k = 0; plant && k < fm->walk.n_steps && k < REF_MAX_LEVELS; k++)
        if ((fm->walk.steps[k].pte_addr & ~UINT64_C(7)) == word)
            plant = false;
    uint64_t old = 0, tag = 0;
    if (t.outcome == REF_OK) {
        fm_touch(fm, word, 8);
        old = fm_core_u64(fm, word);
        tag = plant ? old ^ UINT64_C(0xa5c3e1f00f1e3c5a) ^ word * UINT64_C(0x9e3779b97f4a7c15) : old;
        if (plant && acc != 1)
            fm_phys_write(fm, word, tag);
    }
    uint64_t want = tag;
    if (size == 4)
        want = (want >> (8 * (apa & 4))) & UINT64_C(0xffffffff);

    if (acc != 1)
        vmc_rv_scalar(fm, acc, ava, size, tag);
    uint64_t got = 0;
    vm_err_t err;
    if (acc == 0)
        err = vm_mmu_read(fm->mmu, ava, 8, &got);
    else if (acc == 1)
        err = vm_mmu_write(fm->mmu, ava, tag, 8);
    else
        err = vm_mmu_fetch_insn(fm->mmu, ava, &got);
    const uint64_t now = t.outcome == REF_OK ? fm_core_u64(fm, word) : 0;
    if (acc == 1 && err == VM_OK)
        fm_model_write_u64(fm, word, tag); /* the store, as the model must see it */
    if (plant)
        fm_phys_write(fm, word, old);
    const vm_fault_t *f = vm_mmu_last_fault(fm->mmu);
    uint64_t h, m;
    fm_stats(fm, &h, &m);
    const uint64_t dh = h - fm->hits, dm = m - fm->misses;
    fm->hits = h;
    fm->misses = m;
    if (fm_outcome_of(err) != t.outcome)
        fm_fail(fm, "%s 0x%llx returned %s right after translating 0x%llx gave %s pa=0x%llx",
                names[acc], (unsigned long long)ava, vm_strerror(err), (unsigned long long)va,
                ref_outcome_name(t.outcome), (unsigned long long)t.pa);
    if (dh != t.dh || dm != t.dm)
        fm_fail(fm, "%s 0x%llx counted hits +%llu misses +%llu; translating its VA right before "
                    "counted +%llu +%llu (the same TLB state answers both)",
                names[acc], (unsigned long long)ava, (unsigned long long)dh,
                (unsigned long long)dm, (unsigned long long)t.dh, (unsigned long long)t.dm);
    if (err == VM_OK) {
        if ((acc == 1 ? now : got) != want)
            fm_fail(fm, "%s 0x%llx %s 0x%llx; translating its VA gives pa=0x%llx, which holds 0x%llx",
                    names[acc], (unsigned long long)ava, acc == 1 ? "stored, RAM now" : "loaded",
                    (unsigned long long)(acc == 1 ? now : got), (unsigned long long)t.pa,
                    (unsigned long long)want);
        if (f->kind != VM_FAULT_NONE)
            fm_fail(fm, "a successful %s left fault kind %d", names[acc], (int)f->kind);
        fm_check_translate_as(fm, va, acc, false, NULL);
        return;
    }
    const vm_fault_t *tf = &t.fault;
    if (f->kind != tf->kind || f->cause != tf->cause || f->access != tf->access ||
        f->level != tf->level || f->va != ava ||
        (tf->level >= 0 && (f->pte_addr != tf->pte_addr || f->pte != tf->pte)))
        fm_fail(fm, "%s 0x%llx faulted with kind %d cause %u level %d pte@0x%llx=0x%llx va 0x%llx; "
                    "translating its VA right before gave kind %d cause %u level %d "
                    "pte@0x%llx=0x%llx",
                names[acc], (unsigned long long)ava, (int)f->kind, f->cause, f->level,
                (unsigned long long)f->pte_addr, (unsigned long long)f->pte,
                (unsigned long long)f->va, (int)tf->kind, tf->cause, tf->level,
                (unsigned long long)tf->pte_addr, (unsigned long long)tf->pte);
}

/* One translate op: the translation checked, then the access path against
 * it. After a successful store translation the load is checked first: a
 * page that may be written may be read (W without R is reserved), a store
 * slot is refilled by the store, and a load slot the store's walk left
 * stale would otherwise survive unseen until a later load. */
static int fm_check_translate_and_access(fm_t *fm, uint64_t va, int acc)
{
    int outcome = fm_check_translate(fm, va, acc);
    if (acc == 1 && outcome == REF_OK)
        fm_check_access_agrees(fm, va, 0);
    fm_check_access_agrees(fm, va, acc);
    return outcome;
}


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
            fm_check_translate_and_access(fm, va, acc);
            break;
        }
        default: {
            vm_gva_t va = fm_va(fm, &in);
            if (op < 9)
                fm_check_translate(fm, va, op % 3);
            else
                fm_check_translate_and_access(fm, va, op % 3);
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
