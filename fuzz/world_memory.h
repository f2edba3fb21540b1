/*
 * world_memory.h - the memory and counter helpers that fuzz_translate_arm64
 * and fuzz_translate_x86 share (arm64_world.c, x86_world.c): included once
 * by each, after the world's own definitions it uses - world_t with the
 * mmu, ram_size, core_ram, touched, hits and misses fields, W_PAGE, w_mram
 * (the model's RAM), w_fail, and w_entry_remembered (is a core TLB entry one
 * the architecture's reference TLB remembers).
 */
#ifndef VMMEM_FUZZ_WORLD_MEMORY_H
#define VMMEM_FUZZ_WORLD_MEMORY_H

static bool w_in_ram(const world_t *w, uint64_t pa, uint64_t len)
{
    return pa <= w->ram_size && len <= w->ram_size - pa;
}

FUZZ_NO_COVERAGE static void w_touch(world_t *w, uint64_t pa, uint64_t len)
{
    if (len == 0 || !w_in_ram(w, pa, len))
        return;
    for (uint64_t p = pa & ~(uint64_t)(W_PAGE - 1); p < pa + len; p += W_PAGE)
        w->touched[p / W_PAGE / 8] |= (uint8_t)(1u << (p / W_PAGE % 8));
}

static uint64_t le_load(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t w_model_u64(uint64_t pa)
{
    return le_load(w_mram + pa);
}

static void w_model_write_u64(world_t *w, uint64_t pa, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        w_mram[pa + i] = (uint8_t)(v >> (8 * i));
    w_touch(w, pa, 8);
}

static uint64_t w_core_u64(world_t *w, uint64_t pa)
{
    if (!w_in_ram(w, pa, 8))
        w_fail(w, "harness bug: core RAM read at 0x%llx outside RAM", (unsigned long long)pa);
    return le_load(w->core_ram + pa);
}

FUZZ_NO_COVERAGE static void w_compare_range(world_t *w, uint64_t pa, uint64_t len, const char *what)
{
    const uint8_t *core = w->core_ram + pa;
    if (memcmp(core, w_mram + pa, len) == 0)
        return;
    uint64_t i = 0;
    while (core[i] == w_mram[pa + i])
        i++;
    uint64_t word = (pa + i) & ~UINT64_C(7);
    w_fail(w, "%s: RAM differs at PA 0x%llx (8-byte word at 0x%llx: core 0x%llx, model 0x%llx)",
           what, (unsigned long long)(pa + i), (unsigned long long)word,
           (unsigned long long)w_core_u64(w, word), (unsigned long long)w_model_u64(word));
}

/* A physical 8-byte write to both (RAM only). */
static void w_phys_write(world_t *w, uint64_t pa, uint64_t v)
{
    if (vmc_on())
        vmc_line("w64 0x%llx 0x%llx", (unsigned long long)pa, (unsigned long long)v);
    vm_err_t err = vm_mmu_write_phys(w->mmu, pa, v, 8);
    if (err != VM_OK)
        w_fail(w, "vm_mmu_write_phys(0x%llx, 8) to RAM failed: %s", (unsigned long long)pa,
               vm_strerror(err));
    w_model_write_u64(w, pa, v);
}

/* ---- counters ------------------------------------------------------------ */


/*
 * White-box: after an op that changes no translation but may drop entries
 * (a TLB maintenance op, a register write), every entry left in the core's
 * TLBs must be one the model remembers: a flush that keeps what it should
 * drop is seen at the flush, not only if a later op comes back to that
 * address space and page (BUG-CLASSES 8, 9, 10).
 */
static void w_check_tlb_contents(world_t *w, const char *op)
{
    char msg[256];
    if (fuzz_core_tlb_unjustified(w->mmu, w_entry_remembered, w, op, "entry", msg, sizeof msg))
        w_fail(w, "%s", msg);
}

static void w_check_no_translation(world_t *w, const char *op)
{
    uint64_t h, m;
    vm_mmu_tlb_stats(w->mmu, &h, &m);
    if (h != w->hits || m != w->misses)
        w_fail(w, "%s changed the TLB counters: hits %llu -> %llu, misses %llu -> %llu", op,
               (unsigned long long)w->hits, (unsigned long long)h, (unsigned long long)w->misses,
               (unsigned long long)m);
    w_check_tlb_contents(w, op);
}

#endif /* VMMEM_FUZZ_WORLD_MEMORY_H */
