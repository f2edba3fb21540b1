/*
 * bench_physical.c - the host-side physical path and bulk transfers as cells
 * of bench_vs_qemu: vm_physmem_read_u64 / write_u64 and their inline forms
 * (vmmem/physmem_inline.h) against a plain host
 * access (the native twin) and against the seed's sharded-rwlock design
 * (bench_seed.c), with 1 and 2 threads; vm_mmu_read on a TLB hit with one
 * vCPU per thread (read scaling); 1 MiB bulk transfers against memcpy.
 * (uc_mem_read / uc_mem_write are in bench_unicorn.c.)
 *
 * Every thread of a cell does the same n units; thread t works on its own
 * 32 KiB span at t * 32 KiB (bench_phys_offset), so two threads share no
 * cache line: what limits scaling is the design (a shared lock word), not
 * false sharing. Both spans lie in one 8 MiB seed shard, as neighbouring
 * guest pages do. Reads come from the data region (pattern values: the sum
 * is checked); writes go to the scratch bulk region (the last word written is
 * read back).
 *
 * Timing: with 2 threads the clock runs from a barrier that releases both to
 * the barrier both reach at the end, so the time per unit is wall time per
 * thread, and scaling = 2 x (1-thread time) / (2-thread time).
 */
#include "bench.h"
#include "bench_seed.h"

#include <pthread.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 2

struct job {
    struct bench_world *w;
    enum bench_phys_op op;
    unsigned t;          /* thread index */
    uint64_t n;          /* units */
    uint64_t salt;       /* differs per run: what the writes store */
    struct seed_mem *seed;
    vm_mmu_t *mmu;
    uint8_t *scratch;    /* host memory the native writes and the bulk reads go to */
    uint8_t *source;     /* 1 MiB the bulk writes come from */
    pthread_barrier_t *bar;
    bool counted;        /* bracket the units for callgrind */
    uint64_t sum;        /* reads: the sum of what was read */
    bool ok;
};

static uint64_t read_base(unsigned t)
{
    return BW_DATA_PA + t * BENCH_PHYS_SPAN;
}

static uint64_t write_base(unsigned t)
{
    return BW_BULK_PA + t * BENCH_PHYS_SPAN;
}

/* Branch hint of the loops below: an access failed (the run stops). */
static inline bool failed(bool f)
{
    return __builtin_expect(f, 0);
}

/* The loop of one operation; op is a constant in each caller below, so
 * every cell's loop is compiled on its own and a change to one cell's code
 * does not move another's (loop placement alone moved a cell by 1.2-1.8x). */
static inline __attribute__((always_inline)) void units_of(struct job *j,
                                                           const enum bench_phys_op op)
{
    uint64_t sum = 0;
    bool ok = true;
    vm_physmem_t *const pm = j->w->pm;
    const uint64_t salt = j->salt;
    const uint64_t n = j->n; /* a local: the slow paths' calls could change *j for all the
                                compiler knows, and j->n would be reloaded every access */
    const uint64_t rb = read_base(j->t), wb = write_base(j->t);
    const uint8_t *native = j->w->native + (rb - BW_DATA_PA);
    uint8_t *scratch = j->scratch + j->t * BENCH_PHYS_SPAN;
    switch (op) {
    case PHYS_NATIVE_READ:
        for (uint64_t i = 0; i < n; i++)
            sum += *(const uint64_t *)(const void *)(native + bench_phys_offset(i));
        break;
    case PHYS_NATIVE_WRITE:
        for (uint64_t i = 0; i < n; i++)
            *(uint64_t *)(void *)(scratch + bench_phys_offset(i)) = i ^ salt;
        break;
    /* The library's loops leave on the first error (ok = false) and keep
     * the value read in a per-access variable, so the only loop overhead is
     * what the native loops have: offset, sum, count, branch. (An `ok &=`
     * per access and a loop-wide `v`, whose address the slow call takes,
     * cost 5 instructions of the bench per access.) */
    case PHYS_VMMEM_READ:
        for (uint64_t i = 0; i < n; i++) {
            uint64_t x;
            if (failed(vm_physmem_read_u64(pm, rb + bench_phys_offset(i), &x) != VM_OK)) {
                ok = false;
                break;
            }
            sum += x;
        }
        break;
    case PHYS_VMMEM_WRITE:
        for (uint64_t i = 0; i < n; i++)
            if (failed(vm_physmem_write_u64(pm, wb + bench_phys_offset(i), i ^ salt) != VM_OK)) {
                ok = false;
                break;
            }
        break;
    case PHYS_INLINE_READ:
        for (uint64_t i = 0; i < n; i++) {
            uint64_t x;
            if (failed(vm_physmem_read_inline(pm, rb + bench_phys_offset(i), 8, &x) != VM_OK)) {
                ok = false;
                break;
            }
            sum += x;
        }
        break;
    case PHYS_INLINE_WRITE:
        for (uint64_t i = 0; i < n; i++)
            if (failed(vm_physmem_write_inline(pm, wb + bench_phys_offset(i), i ^ salt, 8) !=
                       VM_OK)) {
                ok = false;
                break;
            }
        break;
    case PHYS_VIEW_READ: {
        const vm_physmem_view_t v = vm_physmem_view(pm);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t x;
            if (failed(vm_physmem_view_read(&v, rb + bench_phys_offset(i), 8, &x) != VM_OK)) {
                ok = false;
                break;
            }
            sum += x;
        }
        break;
    }
    case PHYS_VIEW_WRITE: {
        const vm_physmem_view_t v = vm_physmem_view(pm);
        for (uint64_t i = 0; i < n; i++)
            if (failed(vm_physmem_view_write(&v, wb + bench_phys_offset(i), i ^ salt, 8) !=
                       VM_OK)) {
                ok = false;
                break;
            }
        break;
    }
    case PHYS_BOUND_WRITE: {
        /* The view write's bound test and store, without the load, test and
         * branch of the live-reservation count a store owes (physmem.h): not
         * something vmmem offers, but the floor of any bounds-checked store
         * in this loop, so the table shows what the reservation check costs
         * and what the bound alone does. */
        const vm_physmem_view_t v = vm_physmem_view(pm);
        for (uint64_t i = 0; i < n; i++) {
            const uint64_t pa = wb + bench_phys_offset(i), off = pa + v.ram_neg_base;
            if (__builtin_expect((pa & 7) == 0 && off < v.ram_end8, 1))
                __atomic_store_n((uint64_t *)(void *)(v.ram + off), i ^ salt, __ATOMIC_RELAXED);
            else if (failed(vm_physmem_write(pm, pa, i ^ salt, 8) != VM_OK)) {
                ok = false;
                break;
            }
        }
        break;
    }
    case PHYS_SEED_READ:
        for (uint64_t i = 0; i < n; i++) {
            uint64_t x;
            if (failed(seed_read_u64(j->seed, rb + bench_phys_offset(i), &x) != 0)) {
                ok = false;
                break;
            }
            sum += x;
        }
        break;
    case PHYS_SEED_WRITE:
        for (uint64_t i = 0; i < n; i++)
            if (failed(seed_write_u64(j->seed, wb + bench_phys_offset(i), i ^ salt) != 0)) {
                ok = false;
                break;
            }
        break;
    case PHYS_MMU_READ: {
        const uint64_t va = BW_DATA_VA + (rb - BW_DATA_PA);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t x;
            if (failed(vm_mmu_read(j->mmu, va + bench_phys_offset(i), 8, &x) != VM_OK)) {
                ok = false;
                break;
            }
            sum += x;
        }
        break;
    }
    case BULK_MEMCPY:
        for (uint64_t i = 0; i < n; i++)
            memcpy(j->scratch, j->w->native, BW_BULK_SIZE);
        break;
    case BULK_PHYS_READ:
        for (uint64_t i = 0; i < n; i++)
            ok &= vm_physmem_read_buf(j->w->pm, BW_DATA_PA, j->scratch, BW_BULK_SIZE) == VM_OK;
        break;
    case BULK_WIDE_READ: {
        /* The ceiling of a 16-byte copy out of RAM (README, "Where issue 9's
         * targets stand"): aligned SSE2 loads straight from the RAM mapping,
         * written in C. vmmem itself may not do it this way (against a vCPU's
         * concurrent store it is a data race in C11); since fb47c6a
         * vm_physmem_read_buf does the same loads as inline MOVDQA on hosts
         * whose 16-byte loads are atomic (physmem.c, ram_copy_out), so the two
         * cells should now agree there. */
#if defined(__SSE2__)
        const vm_physmem_view_t v = vm_physmem_view(pm);
        const __m128i *src = (const __m128i *)(const void *)(v.ram + (BW_DATA_PA + v.ram_neg_base));
        for (uint64_t i = 0; i < n; i++)
            for (uint64_t k = 0; k < BW_BULK_SIZE / 16; k += 4) {
                __m128i a = _mm_load_si128(src + k), b = _mm_load_si128(src + k + 1);
                __m128i c = _mm_load_si128(src + k + 2), d = _mm_load_si128(src + k + 3);
                _mm_storeu_si128((__m128i *)(void *)(j->scratch + 16 * k), a);
                _mm_storeu_si128((__m128i *)(void *)(j->scratch + 16 * k + 16), b);
                _mm_storeu_si128((__m128i *)(void *)(j->scratch + 16 * k + 32), c);
                _mm_storeu_si128((__m128i *)(void *)(j->scratch + 16 * k + 48), d);
            }
#endif
        break;
    }
    case BULK_PHYS_WRITE:
        for (uint64_t i = 0; i < n; i++)
            ok &= vm_physmem_write_buf(j->w->pm, BW_BULK_PA, j->source, BW_BULK_SIZE) == VM_OK;
        break;
    case BULK_MMU_READ:
        for (uint64_t i = 0; i < n; i++)
            ok &= vm_mmu_read_bulk(j->mmu, BW_DATA_VA, j->scratch, BW_BULK_SIZE) == VM_OK;
        break;
    case BULK_MMU_WRITE:
        for (uint64_t i = 0; i < n; i++)
            ok &= vm_mmu_write_bulk(j->mmu, BW_BULK_VA, j->source, BW_BULK_SIZE) == VM_OK;
        break;
    }
    j->sum = sum;
    j->ok = ok;
}

static __attribute__((noinline)) void units_phys_native_read(struct job *j) { units_of(j, PHYS_NATIVE_READ); }
static __attribute__((noinline)) void units_phys_native_write(struct job *j) { units_of(j, PHYS_NATIVE_WRITE); }
static __attribute__((noinline)) void units_phys_vmmem_read(struct job *j) { units_of(j, PHYS_VMMEM_READ); }
static __attribute__((noinline)) void units_phys_vmmem_write(struct job *j) { units_of(j, PHYS_VMMEM_WRITE); }
static __attribute__((noinline)) void units_phys_inline_read(struct job *j) { units_of(j, PHYS_INLINE_READ); }
static __attribute__((noinline)) void units_phys_inline_write(struct job *j) { units_of(j, PHYS_INLINE_WRITE); }
static __attribute__((noinline)) void units_phys_view_read(struct job *j) { units_of(j, PHYS_VIEW_READ); }
static __attribute__((noinline)) void units_phys_view_write(struct job *j) { units_of(j, PHYS_VIEW_WRITE); }
static __attribute__((noinline)) void units_phys_bound_write(struct job *j) { units_of(j, PHYS_BOUND_WRITE); }
static __attribute__((noinline)) void units_phys_seed_read(struct job *j) { units_of(j, PHYS_SEED_READ); }
static __attribute__((noinline)) void units_phys_seed_write(struct job *j) { units_of(j, PHYS_SEED_WRITE); }
static __attribute__((noinline)) void units_phys_mmu_read(struct job *j) { units_of(j, PHYS_MMU_READ); }
static __attribute__((noinline)) void units_bulk_memcpy(struct job *j) { units_of(j, BULK_MEMCPY); }
static __attribute__((noinline)) void units_bulk_phys_read(struct job *j) { units_of(j, BULK_PHYS_READ); }
static __attribute__((noinline)) void units_bulk_wide_read(struct job *j) { units_of(j, BULK_WIDE_READ); }
static __attribute__((noinline)) void units_bulk_phys_write(struct job *j) { units_of(j, BULK_PHYS_WRITE); }
static __attribute__((noinline)) void units_bulk_mmu_read(struct job *j) { units_of(j, BULK_MMU_READ); }
static __attribute__((noinline)) void units_bulk_mmu_write(struct job *j) { units_of(j, BULK_MMU_WRITE); }

static void do_units(struct job *j)
{
    switch (j->op) {
    case PHYS_NATIVE_READ: units_phys_native_read(j); break;
    case PHYS_NATIVE_WRITE: units_phys_native_write(j); break;
    case PHYS_VMMEM_READ: units_phys_vmmem_read(j); break;
    case PHYS_VMMEM_WRITE: units_phys_vmmem_write(j); break;
    case PHYS_INLINE_READ: units_phys_inline_read(j); break;
    case PHYS_INLINE_WRITE: units_phys_inline_write(j); break;
    case PHYS_VIEW_READ: units_phys_view_read(j); break;
    case PHYS_VIEW_WRITE: units_phys_view_write(j); break;
    case PHYS_BOUND_WRITE: units_phys_bound_write(j); break;
    case PHYS_SEED_READ: units_phys_seed_read(j); break;
    case PHYS_SEED_WRITE: units_phys_seed_write(j); break;
    case PHYS_MMU_READ: units_phys_mmu_read(j); break;
    case BULK_MEMCPY: units_bulk_memcpy(j); break;
    case BULK_PHYS_READ: units_bulk_phys_read(j); break;
    case BULK_WIDE_READ: units_bulk_wide_read(j); break;
    case BULK_PHYS_WRITE: units_bulk_phys_write(j); break;
    case BULK_MMU_READ: units_bulk_mmu_read(j); break;
    case BULK_MMU_WRITE: units_bulk_mmu_write(j); break;
    }
}

/* Callgrind's collect toggle is per thread: each worker brackets its own units. */
static void *worker(void *arg)
{
    struct job *j = arg;
    pthread_barrier_wait(j->bar);
    if (j->counted)
        bench_count_toggle();
    do_units(j);
    if (j->counted)
        bench_count_toggle();
    pthread_barrier_wait(j->bar);
    return NULL;
}

/* Run one round on `threads` threads; wall time per unit per thread. A
 * counted round is bracketed for callgrind (the warm-up is not). */
static bool run_round(struct job *jobs, unsigned threads, bool counted, double *ns)
{
    if (threads == 1) {
        if (counted)
            bench_count_toggle();
        double t0 = bench_now_ns();
        do_units(&jobs[0]);
        *ns = (bench_now_ns() - t0) / (double)jobs[0].n;
        if (counted)
            bench_count_toggle();
        return true;
    }
    pthread_barrier_t bar;
    pthread_t tid[MAX_THREADS];
    pthread_barrier_init(&bar, NULL, threads + 1);
    for (unsigned t = 0; t < threads; t++) {
        jobs[t].bar = &bar;
        jobs[t].counted = counted;
        if (pthread_create(&tid[t], NULL, worker, &jobs[t]) != 0)
            abort(); /* cannot happen with 2 threads; nothing to clean up that matters */
    }
    pthread_barrier_wait(&bar);
    double t0 = bench_now_ns();
    pthread_barrier_wait(&bar);
    *ns = (bench_now_ns() - t0) / (double)jobs[0].n;
    for (unsigned t = 0; t < threads; t++)
        pthread_join(tid[t], NULL);
    pthread_barrier_destroy(&bar);
    return true;
}

/* What round r of job j must have left behind (sum, or the last word written). */
static bool check_job(struct job *j)
{
    if (!j->ok)
        return false;
    const uint64_t last = bench_phys_offset(j->n - 1), want = (j->n - 1) ^ j->salt;
    uint64_t v = 0, expect = 0;
    switch (j->op) {
    case PHYS_NATIVE_READ:
    case PHYS_VMMEM_READ:
    case PHYS_INLINE_READ:
    case PHYS_VIEW_READ:
    case PHYS_SEED_READ:
    case PHYS_MMU_READ:
        for (uint64_t i = 0; i < j->n; i++)
            expect += bw_pattern(read_base(j->t) + bench_phys_offset(i));
        return j->sum == expect;
    case PHYS_NATIVE_WRITE:
        memcpy(&v, j->scratch + j->t * BENCH_PHYS_SPAN + last, 8);
        return v == want;
    case PHYS_VMMEM_WRITE:
    case PHYS_INLINE_WRITE:
    case PHYS_VIEW_WRITE:
    case PHYS_BOUND_WRITE:
        return vm_physmem_read_u64(j->w->pm, write_base(j->t) + last, &v) == VM_OK && v == want;
    case PHYS_SEED_WRITE:
        return seed_read_u64(j->seed, write_base(j->t) + last, &v) == 0 && v == want;
    case BULK_MEMCPY:
    case BULK_PHYS_READ:
    case BULK_WIDE_READ:
    case BULK_MMU_READ:
        return memcmp(j->scratch, j->w->native, BW_BULK_SIZE) == 0;
    case BULK_PHYS_WRITE:
    case BULK_MMU_WRITE: {
        uint8_t *back = malloc(BW_BULK_SIZE);
        bool ok = back && vm_physmem_read_buf(j->w->pm, BW_BULK_PA, back, BW_BULK_SIZE) == VM_OK &&
                  memcmp(back, j->source, BW_BULK_SIZE) == 0;
        free(back);
        return ok;
    }
    }
    return false;
}

static bool needs_mmu(enum bench_phys_op op)
{
    return op == PHYS_MMU_READ || op == BULK_MMU_READ || op == BULK_MMU_WRITE;
}

static bool needs_seed(enum bench_phys_op op)
{
    return op == PHYS_SEED_READ || op == PHYS_SEED_WRITE;
}

bool bench_physical_measure(struct bench_world *w, const struct bench_cell *c, uint64_t n,
                            unsigned reps, double *ns, const char **why)
{
    const enum bench_phys_op op = (enum bench_phys_op)c->op;
#if !defined(__SSE2__)
    if (op == BULK_WIDE_READ) {
        *why = "needs SSE2";
        return false;
    }
#else
    (void)why;
#endif
    const unsigned threads = c->threads;
    struct job jobs[MAX_THREADS];
    struct seed_mem seed;
    bool seed_ready = false;
    bool ok = threads >= 1 && threads <= MAX_THREADS && n >= 1;
    uint8_t *scratch = malloc(BW_BULK_SIZE), *source = malloc(BW_BULK_SIZE);
    ok = ok && scratch && source;
    if (ok && needs_seed(op)) {
        ok = seed_ready = seed_mem_init(&seed, BW_RAM_SIZE);
        for (uint64_t off = 0; ok && off < MAX_THREADS * BENCH_PHYS_SPAN; off += 8)
            ok = seed_write_u64(&seed, BW_DATA_PA + off, bw_pattern(BW_DATA_PA + off)) == 0;
    }
    for (size_t i = 0; source && i < BW_BULK_SIZE; i++)
        source[i] = (uint8_t)(i * 131 + 7);
    for (unsigned t = 0; t < threads && t < MAX_THREADS; t++) {
        jobs[t] = (struct job){ .w = w, .op = op, .t = t, .seed = &seed, .scratch = scratch,
                                .source = source };
        if (ok && needs_mmu(op)) {
            jobs[t].mmu = vm_mmu_new_shared(w->pm);
            ok = jobs[t].mmu != NULL;
            if (ok)
                vm_mmu_set_satp(jobs[t].mmu, w->satp);
        }
    }
    double best = 0;
    for (unsigned r = 0; ok && r <= reps; r++) { /* r == 0: warm-up */
        double t;
        for (unsigned k = 0; k < threads; k++) {
            jobs[k].n = r == 0 ? (n < 8192 ? n : 8192) : n;
            jobs[k].salt = UINT64_C(0x1000) * r + 1;
        }
        ok = run_round(jobs, threads, r > 0, &t);
        for (unsigned k = 0; ok && k < threads; k++)
            ok = check_job(&jobs[k]);
        if (r == 1 || (r > 1 && t < best))
            best = t;
    }
    if (!ok)
        fprintf(stderr, "bench: %s: wrong result or setup failure\n", c->id);
    for (unsigned t = 0; t < threads && t < MAX_THREADS; t++)
        vm_mmu_free(jobs[t].mmu);
    if (seed_ready)
        seed_mem_free(&seed);
    free(scratch);
    free(source);
    *ns = best;
    return ok;
}
