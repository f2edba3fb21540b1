/*
 * world_access.h - the access-path check that fuzz_translate_arm64 and
 * fuzz_translate_x86 share (arm64_world.c, x86_world.c): included once by
 * each, after the world's own definitions it uses - world_t with the
 * mmu, hits, misses and t_* fields, w_dev_accesses, w_fail, w_in_ram,
 * w_core_u64, w_phys_write (core, model and a `w64` line),
 * w_model_write_u64, w_vmc_access (the access's .vmc line), w_walk_reads
 * (is a word an entry of the last fresh walk, w->walk), w_pa_allowed
 * and w_check_translate_ref (which records the translation's answer in the
 * t_* fields).
 */
#ifndef VMMEM_FUZZ_WORLD_ACCESS_H
#define VMMEM_FUZZ_WORLD_ACCESS_H

/* Translate va again (counters resynchronised, not judged): it must
 * succeed with a PA the reference allows (w_pa_allowed). *walked (may be
 * NULL): whether it counted a miss. */
static uint64_t w_translate_again(world_t *w, uint64_t va, int acc, const char *when,
                                  uint64_t before, bool *walked)
{
    vm_gpa_t pa = UINT64_C(0xbad0bad0bad0bad0);
    const uint64_t misses = w->misses;
    vm_err_t err = vm_mmu_translate(w->mmu, va, (vm_access_t)acc, &pa);
    vm_mmu_tlb_stats(w->mmu, &w->hits, &w->misses);
    if (walked)
        *walked = w->misses != misses;
    if (err != VM_OK || !w_pa_allowed(w, va, acc, pa))
        w_fail(w, "translating 0x%llx %s gave %s pa=0x%llx, which no remembered entry allows "
                  "(pa=0x%llx before)",
               (unsigned long long)va, when, vm_strerror(err), (unsigned long long)pa,
               (unsigned long long)before);
    return pa;
}

/*
 * The access functions against the translation just checked (the target
 * otherwise drives vm_mmu_translate only). Right after it, the TLB state
 * is what the translation left, so an aligned access of the same kind on
 * the same page - vm_mmu_read of 8 bytes, vm_mmu_write of 8 bytes (the
 * planted value below), vm_mmu_fetch_insn - must answer as a translation would
 * now: translating again (pa2) and the access pick the same entry, or walk
 * the same tables. So: pa2 is an answer the reference allows (the fresh
 * one or a remembered entry's: with entries of several sizes covering the
 * VA the translation's own fill may have evicted the one it met first);
 * on a RAM page the access succeeds with the bytes at pa2, counting one
 * TLB event where the translation counted one and none where it counted
 * none; and translating once more afterwards still gives an allowed PA (an
 * access that filled an entry under the wrong tag is seen there). A walk
 * that faulted: the access faults the same way, counted the same. The
 * oracle above judged the translation; this extends it to the access path
 * - the level-0 slots, access_slow's dispatch, the fill. The word at pa2
 * holds a value of the check's own during the access (restored after), so
 * an access that used another PA shows even where RAM is zero everywhere;
 * not when translating again walked (the access would then walk too and
 * might read the word as a table entry), nor when the word is an entry of
 * the page's own walk (the .vmc line's fresh walk, which --ref-only
 * applies, would read the planted value; w_walk_reads). The planted
 * values are `w64` lines of the .vmc case and a load or fetch its
 * `expect read8|exec4` line: vmmem-conform learns the PA an access used by
 * translating right after it and compares the bytes, so a load from
 * another PA fails the case as well. A store writes no line: where the core legally stores
 * through a stale entry, `--ref-only` would store at the fresh walk's PA
 * and the two runs of the case would part (the planted store is undone by
 * the restoring `w64` line, so the case's memory stays right). Left to the .vmc
 * cases: a PA outside RAM (MMIO and access faults add their own rules) and
 * a fault answered from the TLB (x86-64 then drops the page's entries, so
 * the access would walk and fill what the model does not know).
 */
static void w_check_access_agrees(world_t *w, uint64_t va, int acc)
{
    static const char *const names[3] = { "read8", "write8", "exec4" };
    const unsigned size = acc == 2 ? 4u : 8u;
    const uint64_t ava = va & ~(uint64_t)(size - 1);
    if (w->t_err != VM_OK && w->t_dh != 0)
        return;
    vm_gpa_t pa = w->t_pa;
    bool walked = true;
    if (w->t_err == VM_OK)
        pa = w_translate_again(w, va, acc, "right after its first translation", w->t_pa, &walked);
    const uint64_t apa = pa & ~(uint64_t)(size - 1);
    const uint64_t word = apa & ~UINT64_C(7);
    if (w->t_err == VM_OK && !w_in_ram(w, word, 8))
        return;
    const bool plant = w->t_err == VM_OK && !walked && !w_walk_reads(w, word);
    uint64_t old = 0, tag = 0;
    if (w->t_err == VM_OK) {
        old = w_core_u64(w, word);
        tag = plant ? old ^ UINT64_C(0xa5c3e1f00f1e3c5a) ^ word * UINT64_C(0x9e3779b97f4a7c15) : old;
        if (plant && acc != 1)
            w_phys_write(w, word, tag);
    }
    uint64_t want = tag;
    if (size == 4)
        want = (want >> (8 * (apa & 4))) & UINT64_C(0xffffffff);

    if (acc != 1)
        w_vmc_access(w, ava, acc);
    unsigned dev_before = w_dev_accesses;
    uint64_t got = 0;
    vm_err_t err;
    if (acc == 0)
        err = vm_mmu_read(w->mmu, ava, 8, &got);
    else if (acc == 1)
        err = vm_mmu_write(w->mmu, ava, tag, 8);
    else
        err = vm_mmu_fetch_insn(w->mmu, ava, &got);
    const uint64_t now = w->t_err == VM_OK ? w_core_u64(w, word) : 0;
    if (acc == 1 && err == VM_OK)
        w_model_write_u64(w, word, tag); /* the store, as the model must see it */
    if (plant)
        w_phys_write(w, word, old);
    const vm_fault_t *f = vm_mmu_last_fault(w->mmu);
    uint64_t h, m;
    vm_mmu_tlb_stats(w->mmu, &h, &m);
    uint64_t dh = h - w->hits, dm = m - w->misses;
    w->hits = h;
    w->misses = m;
    if (w_dev_accesses != dev_before)
        w_fail(w, "%s 0x%llx touched the MMIO device after a translation to RAM", names[acc],
               (unsigned long long)ava);
    if (err != w->t_err)
        w_fail(w, "%s 0x%llx returned %s right after vm_mmu_translate(0x%llx) returned %s (pa=0x%llx)",
               names[acc], (unsigned long long)ava, vm_strerror(err), (unsigned long long)va,
               vm_strerror(w->t_err), (unsigned long long)pa);
    if (err == VM_OK) {
        if ((acc == 1 ? now : got) != want)
            w_fail(w, "%s 0x%llx %s 0x%llx; translating its VA gives pa=0x%llx, which holds 0x%llx",
                   names[acc], (unsigned long long)ava, acc == 1 ? "stored, RAM now" : "loaded",
                   (unsigned long long)(acc == 1 ? now : got), (unsigned long long)pa,
                   (unsigned long long)want);
        if (dh + dm != w->t_dh + w->t_dm)
            w_fail(w, "%s 0x%llx right after its translation counted hits +%llu misses +%llu; the "
                      "translation counted +%llu +%llu",
                   names[acc], (unsigned long long)ava, (unsigned long long)dh,
                   (unsigned long long)dm, (unsigned long long)w->t_dh,
                   (unsigned long long)w->t_dm);
        if (f->kind != VM_FAULT_NONE)
            w_fail(w, "a successful %s left fault kind %d", names[acc], (int)f->kind);
        (void)w_translate_again(w, va, acc, "after the access", pa, NULL);
        return;
    }
    const vm_fault_t *t = &w->t_fault;
    if (dh != w->t_dh || dm != w->t_dm || f->kind != t->kind || f->cause != t->cause ||
        f->syndrome != t->syndrome || f->level != t->level || f->va != ava)
        w_fail(w, "%s 0x%llx faulted with kind %d cause %u syndrome 0x%x level %d va 0x%llx, counting "
                  "hits +%llu misses +%llu; its translation just gave kind %d cause %u syndrome 0x%x "
                  "level %d, counting +%llu +%llu",
               names[acc], (unsigned long long)ava, (int)f->kind, f->cause, f->syndrome, f->level,
               (unsigned long long)f->va, (unsigned long long)dh, (unsigned long long)dm,
               (int)t->kind, t->cause, t->syndrome, t->level, (unsigned long long)w->t_dh,
               (unsigned long long)w->t_dm);
}

/* One translation checked against the reference, then the access path
 * against it. */
static void w_check_translate(world_t *w, uint64_t va, int acc)
{
    w->t_valid = false;
    w_check_translate_ref(w, va, acc);
    if (w->t_valid)
        w_check_access_agrees(w, va, acc);
}

#endif /* VMMEM_FUZZ_WORLD_ACCESS_H */
