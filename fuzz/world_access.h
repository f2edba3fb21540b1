/*
 * world_access.h - the access-path check that fuzz_translate_arm64 and
 * fuzz_translate_x86 share (arm64_world.c, x86_world.c): included once by
 * each, after the world's own definitions it uses - world_t with the
 * mmu, hits, misses and t_* fields, w_dev_accesses, w_fail, w_in_ram,
 * w_core_u64, w_pa_allowed and w_check_translate_ref (which records the
 * translation's answer in the t_* fields).
 */
#ifndef VMMEM_FUZZ_WORLD_ACCESS_H
#define VMMEM_FUZZ_WORLD_ACCESS_H

/* Translate va again (counters resynchronised, not judged): it must
 * succeed with a PA the reference allows (w_pa_allowed). */
static uint64_t w_translate_again(world_t *w, uint64_t va, int acc, const char *when,
                                  uint64_t before)
{
    vm_gpa_t pa = UINT64_C(0xbad0bad0bad0bad0);
    vm_err_t err = vm_mmu_translate(w->mmu, va, (vm_access_t)acc, &pa);
    vm_mmu_tlb_stats(w->mmu, &w->hits, &w->misses);
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
 * the same page - vm_mmu_read of 8 bytes, vm_mmu_write of the 8 bytes
 * already there, vm_mmu_fetch_insn - must answer as a translation would
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
 * - the level-0 slots, access_slow's dispatch, the fill. Left to the .vmc
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
    if (w->t_err == VM_OK)
        pa = w_translate_again(w, va, acc, "right after its first translation", w->t_pa);
    const uint64_t apa = pa & ~(uint64_t)(size - 1);
    const uint64_t word = apa & ~UINT64_C(7);
    if (w->t_err == VM_OK && !w_in_ram(w, word, 8))
        return;
    uint64_t want = w->t_err == VM_OK ? w_core_u64(w, word) : 0;
    if (size == 4)
        want = (want >> (8 * (apa & 4))) & UINT64_C(0xffffffff);

    unsigned dev_before = w_dev_accesses;
    uint64_t got = 0;
    vm_err_t err;
    if (acc == 0)
        err = vm_mmu_read(w->mmu, ava, 8, &got);
    else if (acc == 1)
        err = vm_mmu_write(w->mmu, ava, want, 8);
    else
        err = vm_mmu_fetch_insn(w->mmu, ava, &got);
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
        uint64_t now = acc == 1 ? w_core_u64(w, word) : got;
        if (now != want)
            w_fail(w, "%s 0x%llx %s 0x%llx; translating its VA gives pa=0x%llx, which holds 0x%llx",
                   names[acc], (unsigned long long)ava, acc == 1 ? "stored, RAM now" : "loaded",
                   (unsigned long long)now, (unsigned long long)pa, (unsigned long long)want);
        if (dh + dm != w->t_dh + w->t_dm)
            w_fail(w, "%s 0x%llx right after its translation counted hits +%llu misses +%llu; the "
                      "translation counted +%llu +%llu",
                   names[acc], (unsigned long long)ava, (unsigned long long)dh,
                   (unsigned long long)dm, (unsigned long long)w->t_dh,
                   (unsigned long long)w->t_dm);
        if (f->kind != VM_FAULT_NONE)
            w_fail(w, "a successful %s left fault kind %d", names[acc], (int)f->kind);
        (void)w_translate_again(w, va, acc, "after the access", pa);
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
