/*
 * bench_translated.c - the native twin and vmmem's two APIs as columns of the
 * translated-access table: the same chase and the same streams as the RISC-V
 * guest code Unicorn runs (bench_unicorn.c), access for access.
 *
 *   native  the loop over host memory: the chase follows host pointers, the
 *           streams load from the host copy of the data region.
 *   vmmem   vm_mmu_read(mmu, va, 8, &v) per load (the exported function).
 *   inline  vm_mmu_read_inline() from <vmmem/mmu_inline.h>, the fast path the
 *           caller's compiler inlines; detected with __has_include, so this
 *           file also builds against a vmmem without it (the row then says
 *           "not in this build").
 *
 * Each loop body is written once, in a static inline function with the API as
 * a constant argument, and instantiated per API, so the compiler emits a loop
 * with a direct call (or the inlined fast path) and no per-access dispatch.
 * The arithmetic of each loop is the guest program's: chase = load, count,
 * branch; sequential = add base, load, sum, advance, wrap, count, branch;
 * random = LCG step, shift, mask, add base, load, sum, count, branch.
 *
 * A failed access aborts the run with the vmmem error and the fault record:
 * a benchmark that silently measured faults would be worthless.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#if defined(__has_include)
#if __has_include(<vmmem/mmu_inline.h>)
#include <vmmem/mmu_inline.h>
#define BENCH_HAVE_INLINE 1
#endif
#endif

enum api { API_FUNCTION, API_INLINE };

static inline __attribute__((always_inline)) vm_err_t read8(vm_mmu_t *mmu, vm_gva_t va,
                                                            uint64_t *v, enum api api)
{
#ifdef BENCH_HAVE_INLINE
    if (api == API_INLINE)
        return vm_mmu_read_inline(mmu, va, 8, v);
#endif
    (void)api;
    return vm_mmu_read(mmu, va, 8, v);
}

static bool report_fault(vm_mmu_t *mmu, vm_gva_t va, vm_err_t err)
{
    const vm_fault_t *f = vm_mmu_last_fault(mmu);
    fprintf(stderr, "bench: vm_mmu_read(0x%llx) failed: %s (cause %u, %s)\n",
            (unsigned long long)va, vm_strerror(err), (unsigned)f->cause,
            f->reason ? f->reason : "-");
    return false;
}

/*
 * The loops count down and leave on the first error, so that the only loop
 * overhead per access is a decrement and a branch (as in the guest loops:
 * addi + bnez); the error is reported after the loop.
 */
static inline __attribute__((always_inline)) bool chase(vm_mmu_t *mmu, uint64_t n,
                                                        uint64_t *check, enum api api)
{
    uint64_t va = bw_slot_va(0);
    vm_err_t err = VM_OK;
    for (uint64_t left = n; left; left--) {
        /* Scoped to one access, so a hit keeps it in a register (a slow
         * call takes its address; a loop-wide variable was stored to the
         * stack on every hit: one instruction of the bench, not of vmmem). */
        uint64_t next;
        err = read8(mmu, va, &next, api);
        if (__builtin_expect(err != VM_OK, 0))
            return report_fault(mmu, va, err);
        va = next;
    }
    *check = (va - BW_DATA_VA) / BW_PAGE;
    return true;
}

static inline __attribute__((always_inline)) bool seq(vm_mmu_t *mmu, uint64_t base, uint64_t n,
                                                      uint64_t *check, enum api api)
{
    uint64_t sum = 0, off = 0, v = 0;
    vm_err_t err = VM_OK;
    for (uint64_t left = n; left; left--) {
        err = read8(mmu, base + off, &v, api);
        if (__builtin_expect(err != VM_OK, 0))
            return report_fault(mmu, base + off, err);
        sum += v;
        off = (off + 8) & (BW_DATA_SIZE - 1);
    }
    *check = sum;
    return true;
}

static inline __attribute__((always_inline)) bool rnd(vm_mmu_t *mmu, uint64_t base, uint64_t n,
                                                      uint64_t *check, enum api api)
{
    uint64_t sum = 0, x = BW_LCG_SEED, v = 0;
    vm_err_t err = VM_OK;
    for (uint64_t left = n; left; left--) {
        x = bw_lcg(x);
        uint64_t va = base + bw_rand_offset(x);
        err = read8(mmu, va, &v, api);
        if (__builtin_expect(err != VM_OK, 0))
            return report_fault(mmu, va, err);
        sum += v;
    }
    *check = sum;
    return true;
}

/* ---- vmmem engines ------------------------------------------------------- */

static bool vmmem_prepare(struct bench_world *w, const struct bench_pattern *p, void **state,
                          const char **why)
{
    (void)why;
    vm_mmu_t *mmu = vm_mmu_new_shared(w->pm);
    if (!mmu)
        return false;
    vm_mmu_set_priv(mmu, VM_PRIV_S);
    vm_mmu_set_satp(mmu, w->satp);
    if (vm_mmu_satp(mmu) != w->satp || vm_mmu_paging_mode(mmu) != VM_PAGING_SV39) {
        fprintf(stderr, "bench: vmmem did not take satp 0x%llx\n", (unsigned long long)w->satp);
        vm_mmu_free(mmu);
        return false;
    }
    /* The grown row: a DTLB that holds every page of the chase (the ITLB is
     * not used by these loads and keeps its default size). */
    if (p->grow_tlb) {
        size_t itlb, dtlb;
        vm_mmu_tlb_capacity(mmu, &itlb, &dtlb);
        if (vm_mmu_resize_tlbs(mmu, itlb, p->pages) != VM_OK) {
            fprintf(stderr, "bench: vm_mmu_resize_tlbs(%zu, %u) failed\n", itlb, p->pages);
            vm_mmu_free(mmu);
            return false;
        }
    }
    *state = mmu;
    return true;
}

static bool vmmem_run(void *state, const struct bench_pattern *p, uint64_t n, uint64_t *check)
{
    vm_mmu_t *mmu = state;
    switch (p->kind) {
    case BENCH_CHASE: return chase(mmu, n, check, API_FUNCTION);
    case BENCH_SEQ: return seq(mmu, bench_stream_base(p), n, check, API_FUNCTION);
    case BENCH_RAND: return rnd(mmu, bench_stream_base(p), n, check, API_FUNCTION);
    }
    return false;
}

static void vmmem_finish(void *state)
{
    vm_mmu_free(state);
}

const struct bench_engine bench_engine_vmmem = {
    "vmmem", "vmmem vm_mmu_read", vmmem_prepare, vmmem_run, vmmem_finish,
};

#ifdef BENCH_HAVE_INLINE
static bool inline_prepare(struct bench_world *w, const struct bench_pattern *p, void **state,
                           const char **why)
{
    return vmmem_prepare(w, p, state, why);
}

static bool inline_run(void *state, const struct bench_pattern *p, uint64_t n, uint64_t *check)
{
    vm_mmu_t *mmu = state;
    switch (p->kind) {
    case BENCH_CHASE: return chase(mmu, n, check, API_INLINE);
    case BENCH_SEQ: return seq(mmu, bench_stream_base(p), n, check, API_INLINE);
    case BENCH_RAND: return rnd(mmu, bench_stream_base(p), n, check, API_INLINE);
    }
    return false;
}
#else
static bool inline_prepare(struct bench_world *w, const struct bench_pattern *p, void **state,
                           const char **why)
{
    (void)w, (void)p, (void)state;
    *why = "no <vmmem/mmu_inline.h> in this build";
    return false;
}

static bool inline_run(void *state, const struct bench_pattern *p, uint64_t n, uint64_t *check)
{
    (void)state, (void)p, (void)n, (void)check;
    return false;
}
#endif

const struct bench_engine bench_engine_inline = {
    "inline", "vmmem inline", inline_prepare, inline_run, vmmem_finish,
};

/* ---- the native twin ------------------------------------------------------ */

static bool native_prepare(struct bench_world *w, const struct bench_pattern *p, void **state,
                           const char **why)
{
    (void)p, (void)why;
    *state = w;
    return true;
}

static bool native_run(void *state, const struct bench_pattern *p, uint64_t n, uint64_t *check)
{
    const struct bench_world *w = state;
    const uint8_t *data = w->native;
    switch (p->kind) {
    case BENCH_CHASE: {
        const uint8_t *slot = data + bw_slot_offset(0);
        for (uint64_t i = 0; i < n; i++)
            slot = *(const uint8_t *const *)(const void *)slot;
        *check = (uint64_t)(slot - data) / BW_PAGE;
        return true;
    }
    case BENCH_SEQ: {
        uint64_t sum = 0, off = 0;
        for (uint64_t i = 0; i < n; i++) {
            sum += *(const uint64_t *)(const void *)(data + off);
            off = (off + 8) & (BW_DATA_SIZE - 1);
        }
        *check = sum;
        return true;
    }
    case BENCH_RAND: {
        uint64_t sum = 0, x = BW_LCG_SEED;
        for (uint64_t i = 0; i < n; i++) {
            x = bw_lcg(x);
            sum += *(const uint64_t *)(const void *)(data + bw_rand_offset(x));
        }
        *check = sum;
        return true;
    }
    }
    return false;
}

static void native_finish(void *state)
{
    (void)state;
}

const struct bench_engine bench_engine_native = {
    "native", "native twin", native_prepare, native_run, native_finish,
};

/* ---- the layout seen through vmmem ----------------------------------------- */

static bool expect_fault(vm_mmu_t *mmu, const char *what, vm_err_t err, uint32_t cause)
{
    const vm_fault_t *f = vm_mmu_last_fault(mmu);
    bool ok = err == VM_ERR_PAGE_FAULT && f->cause == cause;
    printf("  vmmem: %-44s %s (cause %u)\n", what, ok ? "faults" : "DOES NOT FAULT AS EXPECTED",
           (unsigned)f->cause);
    return ok;
}

bool bench_vmmem_verify(struct bench_world *w)
{
    const struct bench_pattern none = { 0 };
    void *state;
    const char *why = NULL;
    if (!vmmem_prepare(w, &none, &state, &why))
        return false;
    vm_mmu_t *mmu = state;
    uint64_t v = 0;
    vm_err_t err = vm_mmu_read(mmu, BW_MAGIC_VA, 8, &v);
    bool ok = err == VM_OK && v == BW_MAGIC;
    printf("  vmmem: ld from VA 0x%llx (PA 0x%llx)          %s\n",
           (unsigned long long)BW_MAGIC_VA, (unsigned long long)BW_MAGIC_PA,
           ok ? "reads the PA's magic" : "WRONG");
    ok &= expect_fault(mmu, "ld from an unmapped page", vm_mmu_read(mmu, BW_UNMAPPED_VA, 8, &v),
                       VM_CAUSE_LOAD_PAGE_FAULT);
    ok &= expect_fault(mmu, "sd to a read-only page", vm_mmu_write(mmu, BW_RO_VA, 1, 8),
                       VM_CAUSE_STORE_PAGE_FAULT);
    ok &= expect_fault(mmu, "ld from a U page in S-mode (SUM=0)", vm_mmu_read(mmu, BW_USER_VA, 8, &v),
                       VM_CAUSE_LOAD_PAGE_FAULT);
    vmmem_finish(state);
    return ok;
}
