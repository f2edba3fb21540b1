/*
 * test_arm64_mt.c - the Arm64 walker's hardware descriptor updates under
 * real concurrency (label "threads": ci runs it again under TSan). Several
 * vCPUs, each its own vm_mmu_t (vm_mmu_new_shared), over one
 * vm_physmem_t.
 *
 * The Arm ARM requires the hardware updates of the Access flag (TCR.HA)
 * and of the dirty state (TCR.HD with DBM: AP[2] cleared by a write) to be
 * atomic read-modify-writes of the descriptor (D8 "Hardware management of
 * the Access flag and dirty state": "the PE updates the descriptor ... using
 * an atomic read-modify-write"; AArch64.CheckAndUpdateDescriptor accesses
 * it with AccType_ATOMICRW). So:
 *
 *  - a descriptor another CPU invalidated is never made valid again by a
 *    walker writing back the copy it read (BUG-CLASSES 1), for the AF
 *    update (a load through an AF = 0 page) and for the dirty update (a
 *    store to a writable-clean page); a walk that succeeds although its
 *    descriptor was cleared under it must have made its update before the
 *    clear (otherwise it used a descriptor whose update failed without
 *    walking again). Both are checked with two free-running threads and,
 *    because on a busy 2-core machine the threads seldom run side by side,
 *    again with the clear landing inside the walk as a profiling-timer
 *    signal on the walking thread itself;
 *  - two vCPUs updating different bits of one descriptor at once (one
 *    loads: sets AF; one stores: sets AF and clears AP[2]) lose neither
 *    update.
 *
 * Worker threads never call cmocka asserts; they count failures and keep
 * the first message, the main thread asserts after joining. Every loop is
 * bounded in iterations and time; alarm() turns a deadlock into a failure.
 * Tables are raw descriptors written on the physical side.
 */
#ifndef _GNU_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmmem/vmmem.h"

#define RAM_SIZE (UINT64_C(4) << 20)
#define ROOT UINT64_C(0x10000)
#define TABLES UINT64_C(0x11000)
#define VA UINT64_C(0x0000004020103000) /* level 0..3 indexes 0, 1, 0, 259 */
#define PA UINT64_C(0x200000)
#define OFF UINT64_C(0x48)
#define WATCHDOG_SECONDS 60u

#define D_PAGE UINT64_C(3)
#define D_AP_RO (UINT64_C(1) << 7)
#define D_AF (UINT64_C(1) << 10)
#define D_DBM (UINT64_C(1) << 51)

struct failures {
    unsigned long count; /* atomic */
    int have_first;      /* atomic */
    char first[160];
};

static void fail_note(struct failures *f, const char *what, uint64_t a, uint64_t b)
{
    __atomic_fetch_add(&f->count, 1, __ATOMIC_RELAXED);
    if (__atomic_exchange_n(&f->have_first, 1, __ATOMIC_ACQ_REL) == 0)
        snprintf(f->first, sizeof(f->first), "%s (0x%llx, 0x%llx)", what, (unsigned long long)a,
                 (unsigned long long)b);
}

static void assert_no_failures(const struct failures *f)
{
    if (f->count != 0)
        print_error("%lu failure(s); first: %s\n", f->count, f->first);
    assert_int_equal(f->count, 0);
}

static uint64_t phys64(vm_physmem_t *pm, vm_gpa_t pa)
{
    uint64_t v = 0;
    if (vm_physmem_read_u64(pm, pa, &v) != VM_OK)
        return UINT64_MAX;
    return v;
}

/* 4 KiB granule, T0SZ 16: tables at levels 0..2 for VA; returns the level
 * 3 slot. */
static vm_gpa_t build_tables(vm_physmem_t *pm)
{
    const vm_gpa_t l1 = TABLES, l2 = TABLES + 0x1000, l3 = TABLES + 0x2000;
    assert_int_equal(vm_physmem_write_u64(pm, ROOT + 8 * ((VA >> 39) & 511), l1 | 3), VM_OK);
    assert_int_equal(vm_physmem_write_u64(pm, l1 + 8 * ((VA >> 30) & 511), l2 | 3), VM_OK);
    assert_int_equal(vm_physmem_write_u64(pm, l2 + 8 * ((VA >> 21) & 511), l3 | 3), VM_OK);
    return l3 + 8 * ((VA >> 12) & 511);
}

/* A vCPU at EL1 with HA (and HD) over the tables at ROOT. */
static vm_mmu_t *vcpu_new(vm_physmem_t *pm, bool hd)
{
    vm_mmu_t *mmu = vm_mmu_new_shared(pm);
    assert_non_null(mmu);
    vm_mmu_set_strict_align(mmu, true);
    vm_arm64_regs_t r = {0};
    r.ttbr0 = ROOT | (UINT64_C(1) << VM_ARM64_TTBR_ASID_SHIFT);
    r.ttbr1 = 0;
    r.tcr = VM_ARM64_TCR_T0SZ(16) | VM_ARM64_TCR_T1SZ(16) | VM_ARM64_TCR_TG0_4K |
            VM_ARM64_TCR_TG1_4K | VM_ARM64_TCR_IPS(5) | VM_ARM64_TCR_HA |
            (hd ? VM_ARM64_TCR_HD : 0);
    r.sctlr = VM_ARM64_SCTLR_M;
    r.el = 1;
    vm_mmu_set_paging_mode(mmu, VM_PAGING_ARM64);
    assert_int_equal(vm_mmu_set_arm64_regs(mmu, &r), VM_OK);
    return mmu;
}

static uint64_t xt_va(vm_gva_t va)
{
    return (va >> 12) & ((UINT64_C(1) << 44) - 1);
}

/* ---- The two updates under test --------------------------------------- */

struct variant {
    const char *name;
    bool hd;
    vm_access_t access;
    uint64_t valid;   /* the descriptor the kernel writes: the update is pending */
    uint64_t updated; /* what the update leaves */
};

/* A load through an AF = 0 page sets AF. */
static const struct variant v_af = {
    "AF", false, VM_ACCESS_READ, PA | D_PAGE, PA | D_PAGE | D_AF,
};
/* A store to a writable-clean page clears AP[2]. */
static const struct variant v_dirty = {
    "dirty", true, VM_ACCESS_WRITE, PA | D_PAGE | D_AF | D_DBM | D_AP_RO,
    PA | D_PAGE | D_AF | D_DBM,
};

/* One access by the walker after a TLBI of the page: a fresh walk. */
static vm_err_t walk_once(vm_mmu_t *mmu, const struct variant *v, struct failures *f)
{
    vm_gpa_t pa = 0;
    if (vm_mmu_arm64_tlbi(mmu, VM_ARM64_TLBI_VAAE1, xt_va(VA)) != VM_OK)
        fail_note(f, "TLBI refused", 0, 0);
    vm_err_t err = vm_mmu_translate(mmu, VA + OFF, v->access, &pa);
    if (err == VM_OK && pa != PA + OFF)
        fail_note(f, "translation to a wrong PA", pa, PA + OFF);
    else if (err != VM_OK && err != VM_ERR_PAGE_FAULT)
        fail_note(f, "translation neither success nor fault", (uint64_t)err, 0);
    return err;
}

/* ==== 1. Free-running threads ========================================== */

#define TH_ROUNDS 40000u
#define TH_MAX_POLLS 10000000u
#define TH_DELAYS 256u
#define TH_PATIENT_EVERY 16u
#define TH_TIME_LIMIT_S 2

struct th_ctx {
    const struct variant *v;
    vm_physmem_t *pm;
    vm_mmu_t *walker;
    vm_gpa_t leaf;
    unsigned long go, done; /* atomics: rounds asked / finished */
    int stop;               /* atomic */
    unsigned long updates_seen, rounds;
    struct failures fail;
};

static bool th_wait(struct th_ctx *c, const unsigned long *word, unsigned long want)
{
    for (unsigned polls = 0; polls < TH_MAX_POLLS; polls++) {
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) >= want)
            return true;
        if (__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
            return false;
        if (polls > 10000)
            sched_yield();
    }
    return false;
}

static void *th_walker(void *arg)
{
    struct th_ctx *c = arg;
    for (unsigned long r = 1;; r++) {
        if (!th_wait(c, &c->go, r))
            break;
        walk_once(c->walker, c->v, &c->fail);
        __atomic_store_n(&c->done, r, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* The guest kernel on another CPU: write the descriptor with its update
 * pending, start a walk, invalidate it after a delay swept over the walk,
 * and watch that it stays invalid. */
static void *th_kernel(void *arg)
{
    struct th_ctx *c = arg;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long r = 1; r <= TH_ROUNDS; r++) {
        if (r % 1024 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec >= TH_TIME_LIMIT_S)
                break;
        }
        c->rounds = r;
        if (vm_physmem_write_u64(c->pm, c->leaf, c->v->valid) != VM_OK)
            fail_note(&c->fail, "raw descriptor write failed", c->leaf, 0);
        __atomic_store_n(&c->go, r, __ATOMIC_RELEASE);
        bool patient = r % TH_PATIENT_EVERY == 0;
        unsigned delay = patient ? TH_MAX_POLLS : (unsigned)(r * 37u) % TH_DELAYS;
        for (unsigned s = 0; s < delay; s++) {
            if (phys64(c->pm, c->leaf) == c->v->updated) {
                c->updates_seen++;
                break;
            }
            if (s > 10000)
                sched_yield();
        }
        if (vm_physmem_write_u64(c->pm, c->leaf, 0) != VM_OK)
            fail_note(&c->fail, "raw descriptor write failed", c->leaf, 0);
        for (unsigned k = 0; k <= 8; k++) {
            if (k == 8 && !th_wait(c, &c->done, r)) {
                fail_note(&c->fail, "walker stuck", r, 0);
                break;
            }
            uint64_t now = phys64(c->pm, c->leaf);
            if (now != 0)
                fail_note(&c->fail, "invalidated descriptor resurrected by the hardware update",
                          now, r);
        }
        if (__atomic_load_n(&c->fail.count, __ATOMIC_RELAXED) != 0)
            break;
    }
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void run_threads(const struct variant *v)
{
    vm_physmem_t *pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(pm);
    struct th_ctx c;
    memset(&c, 0, sizeof(c));
    c.v = v;
    c.pm = pm;
    c.leaf = build_tables(pm);
    c.walker = vcpu_new(pm, v->hd);
    pthread_t tw, tk;
    assert_int_equal(pthread_create(&tw, NULL, th_walker, &c), 0);
    assert_int_equal(pthread_create(&tk, NULL, th_kernel, &c), 0);
    pthread_join(tk, NULL);
    pthread_join(tw, NULL);
    print_message("%s: %lu rounds, update seen in %lu\n", v->name, c.rounds, c.updates_seen);
    assert_no_failures(&c.fail);
    assert_true(c.updates_seen > 0); /* the patient rounds let some walks finish */
    vm_mmu_free(c.walker);
    vm_physmem_free(pm);
}

static void test_arm64_mt_af_update_never_resurrects(void **state)
{
    (void)state;
    alarm(WATCHDOG_SECONDS);
    run_threads(&v_af);
    alarm(0);
}

static void test_arm64_mt_dirty_update_never_resurrects(void **state)
{
    (void)state;
    alarm(WATCHDOG_SECONDS);
    run_threads(&v_dirty);
    alarm(0);
}

/* ==== 2. The clear as a signal inside the walk ========================= */

#define SIG_PERIOD_US 50
#define SIG_MAX_ITERS 20000000u
#define SIG_ENOUGH_HITS 400u
#define SIG_TIME_LIMIT_S 1

static vm_physmem_t *sig_pm;
static vm_gpa_t sig_leaf;
static uint64_t sig_updated;
static volatile sig_atomic_t sig_armed, sig_cleared, sig_had_update;

static void sig_handler(int sig)
{
    (void)sig;
    if (sig_armed && !sig_cleared) {
        uint64_t old = 0;
        vm_err_t err = vm_physmem_read_u64(sig_pm, sig_leaf, &old);
        err = vm_physmem_write_u64(sig_pm, sig_leaf, 0);
        (void)err;
        sig_had_update = old == sig_updated;
        sig_cleared = 1;
    }
}

static void run_signals(const struct variant *v)
{
    vm_physmem_t *pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(pm);
    vm_gpa_t leaf = build_tables(pm);
    vm_mmu_t *mmu = vcpu_new(pm, v->hd);
    struct failures f;
    memset(&f, 0, sizeof(f));
    sig_pm = pm;
    sig_leaf = leaf;
    sig_updated = v->updated;

    struct sigaction sa, old_sa;
    struct itimerval tv, old_tv;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sig_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGPROF, &sa, &old_sa), 0);
    memset(&tv, 0, sizeof(tv));
    tv.it_interval.tv_usec = SIG_PERIOD_US;
    tv.it_value.tv_usec = SIG_PERIOD_US;
    assert_int_equal(setitimer(ITIMER_PROF, &tv, &old_tv), 0);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long hits = 0, walks = 0;
    for (unsigned n = 0; n < SIG_MAX_ITERS && hits < SIG_ENOUGH_HITS; n++) {
        if (n % 1024 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec >= SIG_TIME_LIMIT_S)
                break;
        }
        if (vm_physmem_write_u64(pm, leaf, v->valid) != VM_OK)
            fail_note(&f, "raw descriptor write failed", leaf, 0);
        sig_cleared = 0;
        sig_armed = 1;
        vm_err_t err = walk_once(mmu, v, &f);
        sig_armed = 0;
        walks++;
        if (sig_cleared) {
            hits++;
            uint64_t now = phys64(pm, leaf);
            if (now != 0)
                fail_note(&f, "descriptor cleared during the walk resurrected", now, n);
            /* A successful walk whose descriptor was cleared under it must
             * have completed its update first (else the compare-and-swap
             * failed and it had to walk again - and find it invalid). */
            if (err == VM_OK && !sig_had_update)
                fail_note(&f, "walk used a descriptor whose update failed (no re-walk)", n, 0);
        }
    }
    setitimer(ITIMER_PROF, &old_tv, NULL);
    sigaction(SIGPROF, &old_sa, NULL);
    print_message("%s: %lu walks, %lu interrupted\n", v->name, walks, hits);
    assert_no_failures(&f);
    vm_mmu_free(mmu);
    vm_physmem_free(pm);
}

static void test_arm64_mt_af_update_interrupted_walks(void **state)
{
    (void)state;
    alarm(WATCHDOG_SECONDS);
    run_signals(&v_af);
    alarm(0);
}

static void test_arm64_mt_dirty_update_interrupted_walks(void **state)
{
    (void)state;
    alarm(WATCHDOG_SECONDS);
    run_signals(&v_dirty);
    alarm(0);
}

/* ==== 3. Two vCPUs updating one descriptor ============================ */

#define BOTH_ROUNDS 20000u
#define BOTH_TIME_LIMIT_S 2

struct both_ctx {
    vm_mmu_t *mmu;
    vm_access_t access;
    pthread_barrier_t *start, *end;
    const int *quit; /* atomic: set by the main thread before the last start */
    struct failures *fail;
};

static void *both_worker(void *arg)
{
    struct both_ctx *c = arg;
    static const struct variant load = {"load", true, VM_ACCESS_READ, 0, 0};
    static const struct variant store = {"store", true, VM_ACCESS_WRITE, 0, 0};
    for (unsigned r = 0;; r++) {
        pthread_barrier_wait(c->start);
        if (__atomic_load_n(c->quit, __ATOMIC_ACQUIRE))
            break;
        if (walk_once(c->mmu, c->access == VM_ACCESS_READ ? &load : &store, c->fail) != VM_OK)
            fail_note(c->fail, "access to a valid page faulted", r, (uint64_t)c->access);
        pthread_barrier_wait(c->end);
    }
    return NULL;
}

/* A load (sets AF) and a store (sets AF, clears AP[2]) race on a fresh
 * writable-clean descriptor: afterwards both updates are in it. */
static void test_arm64_mt_concurrent_updates_both_land(void **state)
{
    (void)state;
    alarm(WATCHDOG_SECONDS);
    vm_physmem_t *pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(pm);
    vm_gpa_t leaf = build_tables(pm);
    const uint64_t fresh = PA | D_PAGE | D_DBM | D_AP_RO; /* AF = 0, clean */
    const uint64_t want = PA | D_PAGE | D_DBM | D_AF;
    struct failures f;
    memset(&f, 0, sizeof(f));
    pthread_barrier_t start, end;
    pthread_barrier_init(&start, NULL, 3);
    pthread_barrier_init(&end, NULL, 3);
    int quit = 0;
    struct both_ctx c[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        c[i] = (struct both_ctx){vcpu_new(pm, true), i == 0 ? VM_ACCESS_READ : VM_ACCESS_WRITE,
                                 &start, &end, &quit, &f};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, both_worker, &c[i]), 0);
    struct timespec t0, tn;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned done = 0;
    for (unsigned r = 0; r < BOTH_ROUNDS; r++) {
        clock_gettime(CLOCK_MONOTONIC, &tn);
        if (tn.tv_sec - t0.tv_sec >= BOTH_TIME_LIMIT_S ||
            __atomic_load_n(&f.count, __ATOMIC_RELAXED) != 0)
            break;
        if (vm_physmem_write_u64(pm, leaf, fresh) != VM_OK)
            fail_note(&f, "raw descriptor write failed", leaf, 0);
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&end);
        uint64_t now = phys64(pm, leaf);
        if (now != want)
            fail_note(&f, "an AF or dirty update was lost", now, r);
        done++;
    }
    __atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
    pthread_barrier_wait(&start);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    print_message("concurrent updates: %u rounds\n", done);
    assert_no_failures(&f);
    assert_true(done > 0);
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&end);
    for (int i = 0; i < 2; i++)
        vm_mmu_free(c[i].mmu);
    vm_physmem_free(pm);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arm64_mt_af_update_never_resurrects),
        cmocka_unit_test(test_arm64_mt_dirty_update_never_resurrects),
        cmocka_unit_test(test_arm64_mt_af_update_interrupted_walks),
        cmocka_unit_test(test_arm64_mt_dirty_update_interrupted_walks),
        cmocka_unit_test(test_arm64_mt_concurrent_updates_both_land),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
