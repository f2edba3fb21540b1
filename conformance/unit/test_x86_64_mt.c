/*
 * test_x86_64_mt.c - x86-64 A/D updates under real concurrency: several
 * vCPUs (one vm_mmu_t each, vm_mmu_new_shared) over one vm_physmem_t, in
 * VM_PAGING_X86_64 with 4-level paging. Label "threads": ci runs it again
 * under TSan.
 *
 *  - A compare-and-swap never resurrects an entry another thread cleared
 *    (BUG-CLASSES 1). SDM Vol. 3A 4.8: the processor sets A in every
 *    paging-structure entry it uses and D in the entry that maps the page;
 *    the update is a locked read-modify-write of the entry, so an entry the
 *    guest kernel cleared stays cleared. vmmem commits the updates top-down
 *    by compare-and-swap from the values the walk read and walks again when
 *    one changed (walk.c). Each round a "kernel" thread maps a page with A
 *    = 0 in the PDE and the PTE, lets a vCPU walk it (alternating loads
 *    and stores), and clears either the PDE or the PTE at a moment that
 *    sweeps over the walk; a cleared entry must stay 0. As in
 *    test_mmu_mt.c, a second phase lands the clear inside the walk as a
 *    profiling-timer signal on the walking thread itself (no second core
 *    needed); there a walk that succeeded although one of its entries was
 *    cleared mid-walk must have set A in that entry before the clear.
 *  - D set under concurrent stores (BUG-CLASSES 2): vCPUs store to one
 *    page, refilling their TLBs with loads now and then, while the kernel
 *    clears D behind their backs (no INVLPG: 4.8 allows a processor not to
 *    set D again then); no store may be lost, and a store that follows
 *    INVLPG and a load (the load caches the clean PTE) must set D.
 *
 * Worker threads never call cmocka asserts; they count failures and keep
 * the first message, and the main thread asserts after joining. Every loop
 * is bounded; alarm() turns a deadlock into a failure.
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
#define TABLES UINT64_C(0x10000)
#define TABLES_END UINT64_C(0x100000)
#define WATCHDOG_SECONDS 60u

#define E_P VM_X86_PTE_P
#define E_RW VM_X86_PTE_RW
#define E_US VM_X86_PTE_US
#define E_A VM_X86_PTE_A
#define E_D VM_X86_PTE_D
#define ADDR_MASK UINT64_C(0x000ffffffffff000)

/* ---- failure bookkeeping shared by worker threads ------------------------ */

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

/* ---- raw 4-level tables ----------------------------------------------- */

static uint64_t phys64(vm_physmem_t *pm, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_physmem_read_u64(pm, pa, &v), VM_OK);
    return v;
}

struct pt {
    vm_physmem_t *pm;
    vm_gpa_t next_table;
};

static vm_gpa_t pt_alloc(struct pt *p)
{
    vm_gpa_t t = p->next_table;
    p->next_table += 0x1000;
    assert_true(p->next_table <= TABLES_END);
    return t; /* RAM starts zeroed */
}

/* Map the 4 KiB page va; slots[l] = entry address at level l (4..1). The
 * PML4E and PDPTE reference their tables with A = 1 already; the PDE and
 * PTE are left 0 for the caller to write. */
static void pt_map(struct pt *p, vm_gpa_t root, vm_gva_t va, vm_gpa_t slots[5])
{
    vm_gpa_t table = root;
    for (unsigned l = 4; l >= 1; l--) {
        vm_gpa_t slot = table + 8 * ((va >> (12 + 9 * (l - 1))) & 511);
        slots[l] = slot;
        if (l <= 2) {
            if (l == 2)
                table = pt_alloc(p);
            continue;
        }
        uint64_t entry = phys64(p->pm, slot);
        if (!(entry & E_P)) {
            vm_gpa_t t = pt_alloc(p);
            assert_int_equal(vm_physmem_write_u64(p->pm, slot, t | E_P | E_RW | E_US | E_A),
                             VM_OK);
            table = t;
        } else {
            table = entry & ADDR_MASK;
        }
    }
}

/* A vCPU in 4-level paging at root, CPL 0, CR0.WP = 1. */
static vm_mmu_t *vcpu_new(vm_physmem_t *pm, vm_gpa_t root)
{
    vm_mmu_t *mmu = vm_mmu_new_shared(pm);
    assert_non_null(mmu);
    vm_mmu_set_strict_align(mmu, true);
    vm_mmu_set_paging_mode(mmu, VM_PAGING_X86_64);
    vm_x86_regs_t r = {
        .cr0 = VM_X86_CR0_PE | VM_X86_CR0_PG | VM_X86_CR0_WP,
        .cr3 = root,
        .cr4 = VM_X86_CR4_PAE,
        .efer = VM_X86_EFER_LME | VM_X86_EFER_NXE,
    };
    assert_int_equal(vm_mmu_set_x86_regs(mmu, &r), VM_OK);
    return mmu;
}

/* ==== 1. A/D compare-and-swap never resurrects a cleared entry ========== */

#define AD_VA UINT64_C(0x0000004080603000)
#define AD_PA UINT64_C(0x205000)
#define AD_OFF UINT64_C(0x128)
#define AD_ROUNDS 60000u
#define AD_MAX_POLLS 10000000u
#define AD_DELAYS 256u
#define AD_PATIENT_EVERY 16u
#define AD_WATCH_READS 8u
#define AD_TIME_BUDGET_S 1
#define AD_TIME_LIMIT_S 2
#define AD_ENOUGH_RACES 1000u

struct ad_ctx {
    vm_physmem_t *pm;
    vm_mmu_t *walker;
    vm_gpa_t pde, pte, pt;  /* the PDE and PTE slots, the PT the PDE references */
    unsigned long go;       /* atomic: round the walker is asked to walk in */
    unsigned long done;     /* atomic: last round the walker finished */
    int stop;               /* atomic */
    unsigned long walks_ok, walks_pf; /* walker's, read after join */
    unsigned long a_seen, a_raced, rounds; /* kernel's, read after join */
    struct failures fail;
};

static bool ad_wait(struct ad_ctx *c, const unsigned long *word, unsigned long want)
{
    for (unsigned polls = 0; polls < AD_MAX_POLLS; polls++) {
        if (__atomic_load_n(word, __ATOMIC_ACQUIRE) >= want)
            return true;
        if (__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
            return false;
        if (polls > 10000)
            sched_yield();
    }
    return false;
}

/* Round r's access: stores on odd rounds (they set D too), loads on even. */
static vm_access_t ad_access(unsigned long r)
{
    return (r & 1) ? VM_ACCESS_WRITE : VM_ACCESS_READ;
}

static void *ad_walker(void *arg)
{
    struct ad_ctx *c = arg;
    for (unsigned long r = 1;; r++) {
        if (!ad_wait(c, &c->go, r))
            break;
        vm_gpa_t pa = 0;
        vm_mmu_x86_invlpg(c->walker, AD_VA);
        vm_err_t err = vm_mmu_translate(c->walker, AD_VA + AD_OFF, ad_access(r), &pa);
        if (err == VM_OK) {
            c->walks_ok++;
            if (pa != AD_PA + AD_OFF)
                fail_note(&c->fail, "translation to a wrong PA", pa, AD_PA + AD_OFF);
        } else if (err == VM_ERR_PAGE_FAULT) {
            c->walks_pf++;
        } else {
            fail_note(&c->fail, "translation neither success nor page fault", err, 0);
        }
        __atomic_store_n(&c->done, r, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* Per round: write the PDE and PTE with A = D = 0, start the walker, wait
 * for A in the PTE or a sweeping delay, clear the PDE (even rounds) or the
 * PTE (odd rounds), and watch the cleared entry. */
static void *ad_kernel(void *arg)
{
    struct ad_ctx *c = arg;
    const uint64_t pde = c->pt | E_P | E_RW | E_US;
    const uint64_t pte = AD_PA | E_P | E_RW | E_US;
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long r = 1; r <= AD_ROUNDS; r++) {
        if (r % 1024 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            long secs = (long)(t.tv_sec - t0.tv_sec);
            if (secs >= AD_TIME_LIMIT_S ||
                (secs >= AD_TIME_BUDGET_S && c->a_raced >= AD_ENOUGH_RACES))
                break;
        }
        c->rounds = r;
        if (vm_physmem_write_u64(c->pm, c->pte, pte) != VM_OK ||
            vm_physmem_write_u64(c->pm, c->pde, pde) != VM_OK)
            fail_note(&c->fail, "raw entry write failed", r, 0);
        __atomic_store_n(&c->go, r, __ATOMIC_RELEASE);
        bool patient = r % AD_PATIENT_EVERY == 0;
        unsigned delay = patient ? AD_MAX_POLLS : (unsigned)(r * 37u) % AD_DELAYS;
        for (unsigned s = 0; s < delay; s++) {
            uint64_t now = 0;
            if (vm_physmem_read_u64(c->pm, c->pte, &now) == VM_OK && (now & E_A)) {
                c->a_seen++;
                c->a_raced += !patient;
                break;
            }
            if (s > 10000)
                sched_yield();
        }
        const vm_gpa_t victim = (r & 1) ? c->pte : c->pde;
        if (vm_physmem_write_u64(c->pm, victim, 0) != VM_OK)
            fail_note(&c->fail, "raw entry write failed", victim, 0);
        for (unsigned k = 0; k <= AD_WATCH_READS; k++) {
            uint64_t now = 0;
            if (k == AD_WATCH_READS && !ad_wait(c, &c->done, r)) {
                fail_note(&c->fail, "kernel: walker stuck", r, 0);
                break;
            }
            if (vm_physmem_read_u64(c->pm, victim, &now) != VM_OK)
                fail_note(&c->fail, "raw entry read failed", victim, 0);
            else if (now != 0)
                fail_note(&c->fail, "cleared entry resurrected by the A/D update", now, r);
        }
        if (__atomic_load_n(&c->fail.count, __ATOMIC_RELAXED) != 0)
            break;
    }
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The signal phase (see test_mmu_mt.c for why): SIGPROF clears the PDE or
 * the PTE at an arbitrary instruction of the walk. */
#define AD_SIG_PERIOD_US 50
#define AD_SIG_MAX_ITERS 50000000u
#define AD_SIG_ENOUGH_HITS 400u
#define AD_SIG_TIME_LIMIT_S 1

static vm_physmem_t *ad_sig_pm;
/* Written by the main thread between walks and read by the handler: a
 * relaxed atomic, published before the arming store by a signal fence (a
 * plain variable let the compiler sink its store below `ad_sig_armed = 1`,
 * so a signal in between cleared the previous round's victim and the check
 * then read this round's, untouched: a false "resurrected", 14 runs in 40
 * of a gcc -O2 build). */
static uint64_t ad_sig_victim;
static volatile sig_atomic_t ad_sig_armed;
static volatile sig_atomic_t ad_sig_cleared;
static volatile sig_atomic_t ad_sig_had_a;

static void ad_sig_handler(int sig)
{
    (void)sig;
    if (ad_sig_armed && !ad_sig_cleared) {
        uint64_t old = 0;
        const vm_gpa_t victim = __atomic_load_n(&ad_sig_victim, __ATOMIC_RELAXED);
        vm_err_t err = vm_physmem_read_u64(ad_sig_pm, victim, &old);
        err = vm_physmem_write_u64(ad_sig_pm, victim, 0);
        (void)err;
        ad_sig_had_a = (old & E_A) != 0;
        ad_sig_cleared = 1;
    }
}

static unsigned long ad_interrupted_walks(struct ad_ctx *c)
{
    const uint64_t pde = c->pt | E_P | E_RW | E_US;
    const uint64_t pte = AD_PA | E_P | E_RW | E_US;
    struct sigaction sa, old_sa;
    struct itimerval tv, old_tv;
    struct timespec t0, t;
    unsigned long hits = 0;

    ad_sig_pm = c->pm;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = ad_sig_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPROF, &sa, &old_sa) != 0)
        return 0;
    memset(&tv, 0, sizeof(tv));
    tv.it_interval.tv_usec = AD_SIG_PERIOD_US;
    tv.it_value.tv_usec = AD_SIG_PERIOD_US;
    if (setitimer(ITIMER_PROF, &tv, &old_tv) != 0) {
        sigaction(SIGPROF, &old_sa, NULL);
        return 0;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned n = 0; n < AD_SIG_MAX_ITERS && hits < AD_SIG_ENOUGH_HITS; n++) {
        vm_gpa_t pa = 0;
        if (n % 1024 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec >= AD_SIG_TIME_LIMIT_S)
                break;
        }
        if (vm_physmem_write_u64(c->pm, c->pte, pte) != VM_OK ||
            vm_physmem_write_u64(c->pm, c->pde, pde) != VM_OK)
            fail_note(&c->fail, "raw entry write failed", n, 0);
        vm_mmu_x86_invlpg(c->walker, AD_VA);
        const vm_gpa_t victim = (n & 2) ? c->pte : c->pde;
        __atomic_store_n(&ad_sig_victim, victim, __ATOMIC_RELAXED);
        ad_sig_cleared = 0;
        __atomic_signal_fence(__ATOMIC_SEQ_CST); /* victim before armed, for the handler */
        ad_sig_armed = 1;
        vm_err_t err = vm_mmu_translate(c->walker, AD_VA + AD_OFF, ad_access(n), &pa);
        ad_sig_armed = 0;
        if (err != VM_OK && err != VM_ERR_PAGE_FAULT)
            fail_note(&c->fail, "translation neither success nor page fault", err, 0);
        else if (err == VM_OK && pa != AD_PA + AD_OFF)
            fail_note(&c->fail, "translation to a wrong PA", pa, AD_PA + AD_OFF);
        if (ad_sig_cleared) {
            hits++;
            if (phys64(c->pm, victim) != 0)
                fail_note(&c->fail, "entry cleared during the walk resurrected",
                          phys64(c->pm, victim), n);
            /* Success with an entry cleared under the walk: its A must have
             * been committed before the clear (else the swap failed and the
             * re-walk finds P = 0). */
            if (err == VM_OK && !ad_sig_had_a)
                fail_note(&c->fail, "walk used an entry whose A update failed (no re-walk)", n,
                          0);
        }
    }
    setitimer(ITIMER_PROF, &old_tv, NULL);
    sigaction(SIGPROF, &old_sa, NULL);
    return hits;
}

static void test_x86_ad_never_resurrects_cleared_entry(void **state)
{
    (void)state;
    struct ad_ctx c;
    pthread_t tw, tk;
    struct pt p;
    vm_gpa_t slots[5];

    alarm(WATCHDOG_SECONDS);
    memset(&c, 0, sizeof(c));
    c.pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(c.pm);
    p.pm = c.pm;
    p.next_table = TABLES;
    vm_gpa_t root = pt_alloc(&p);
    pt_map(&p, root, AD_VA, slots);
    c.pde = slots[2];
    c.pte = slots[1];
    c.pt = c.pte & ~UINT64_C(0xfff);
    c.walker = vcpu_new(c.pm, root);
    assert_int_equal(vm_mmu_resize_tlbs(c.walker, 1, 1), VM_OK);
    assert_int_equal(pthread_create(&tw, NULL, ad_walker, &c), 0);
    assert_int_equal(pthread_create(&tk, NULL, ad_kernel, &c), 0);
    assert_int_equal(pthread_join(tk, NULL), 0);
    assert_int_equal(pthread_join(tw, NULL), 0);
    print_message("walks: %lu ok, %lu page faults; A seen in %lu of %lu rounds (%lu raced)\n",
                  c.walks_ok, c.walks_pf, c.a_seen, c.rounds, c.a_raced);
    assert_no_failures(&c.fail);
    assert_true(c.walks_ok > 0);
    assert_true(c.walks_pf > 0);
    assert_true(c.a_seen > 0);

    unsigned long hits = ad_interrupted_walks(&c);
    print_message("walks with an entry cleared by a signal mid-walk: %lu\n", hits);
    assert_no_failures(&c.fail);
    vm_mmu_free(c.walker);
    vm_physmem_free(c.pm);
    alarm(0);
}

/* ==== 2. D set under concurrent stores ================================= */

#define D_VA UINT64_C(0x00007f0000002000)
#define D_PA UINT64_C(0x207000)
#define D_STORERS 3
#define D_STORES 20000u
#define D_CLEARS 20000u

struct d_ctx {
    vm_physmem_t *pm;
    vm_gpa_t pte;
    vm_mmu_t *vcpu[D_STORERS];
    pthread_barrier_t start;
    struct failures fail;
};

struct d_arg {
    struct d_ctx *c;
    unsigned id;
};

static void *d_storer(void *arg)
{
    struct d_arg *a = arg;
    struct d_ctx *c = a->c;
    vm_mmu_t *mmu = c->vcpu[a->id];
    vm_gva_t va = D_VA + 8u * a->id;

    pthread_barrier_wait(&c->start);
    for (unsigned j = 1; j <= D_STORES; j++) {
        uint64_t v = 0;
        if (j % 8 == 0)
            vm_mmu_x86_invlpg(mmu, va);
        if (vm_mmu_read(mmu, va, 8, &v) != VM_OK)
            fail_note(&c->fail, "load failed", va, a->id);
        else if (v != j - 1)
            fail_note(&c->fail, "own word changed under the vCPU", v, j - 1);
        if (vm_mmu_write(mmu, va, j, 8) != VM_OK)
            fail_note(&c->fail, "store failed", va, a->id);
    }
    return NULL;
}

static void *d_clearer(void *arg)
{
    struct d_ctx *c = arg;
    pthread_barrier_wait(&c->start);
    for (unsigned k = 0; k < D_CLEARS; k++) {
        uint64_t pte = 0;
        if (vm_physmem_read_u64(c->pm, c->pte, &pte) != VM_OK ||
            vm_physmem_write_u64(c->pm, c->pte, pte & ~E_D) != VM_OK)
            fail_note(&c->fail, "raw PTE access failed", c->pte, 0);
        for (volatile unsigned i = 0; i < 50; i++)
            ;
    }
    return NULL;
}

static void test_x86_dirty_set_under_concurrent_stores(void **state)
{
    (void)state;
    struct d_ctx c;
    struct d_arg args[D_STORERS];
    pthread_t th[D_STORERS + 1];
    struct pt p;
    vm_gpa_t slots[5];

    alarm(WATCHDOG_SECONDS);
    memset(&c, 0, sizeof(c));
    c.pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(c.pm);
    p.pm = c.pm;
    p.next_table = TABLES;
    vm_gpa_t root = pt_alloc(&p);
    pt_map(&p, root, D_VA, slots);
    c.pte = slots[1];
    assert_int_equal(vm_physmem_write_u64(c.pm, slots[2],
                                          (slots[1] & ~UINT64_C(0xfff)) | E_P | E_RW | E_A),
                     VM_OK);
    assert_int_equal(vm_physmem_write_u64(c.pm, c.pte, D_PA | E_P | E_RW | E_A), VM_OK);
    assert_int_equal(pthread_barrier_init(&c.start, NULL, D_STORERS + 1), 0);
    for (unsigned i = 0; i < D_STORERS; i++) {
        c.vcpu[i] = vcpu_new(c.pm, root);
        args[i].c = &c;
        args[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, d_storer, &args[i]), 0);
    }
    assert_int_equal(pthread_create(&th[D_STORERS], NULL, d_clearer, &c), 0);
    for (unsigned i = 0; i <= D_STORERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_no_failures(&c.fail);
    for (unsigned i = 0; i < D_STORERS; i++)
        assert_int_equal(phys64(c.pm, D_PA + 8u * i), D_STORES);

    /* SDM 4.8 with the clear ordered first: INVLPG, a load (caches the
     * clean PTE), a store - the store must set D. */
    for (unsigned i = 0; i < D_STORERS; i++) {
        vm_gva_t va = D_VA + 8u * i;
        uint64_t v = 0;
        uint64_t pte = phys64(c.pm, c.pte);
        assert_int_equal(vm_physmem_write_u64(c.pm, c.pte, pte & ~E_D), VM_OK);
        vm_mmu_x86_invlpg(c.vcpu[i], va);
        assert_int_equal(vm_mmu_read(c.vcpu[i], va, 8, &v), VM_OK);
        assert_int_equal(v, D_STORES);
        assert_int_equal(vm_mmu_write(c.vcpu[i], va, 0xd000u + i, 8), VM_OK);
        assert_int_equal(phys64(c.pm, c.pte) & (E_A | E_D), E_A | E_D);
    }
    pthread_barrier_destroy(&c.start);
    for (unsigned i = 0; i < D_STORERS; i++)
        vm_mmu_free(c.vcpu[i]);
    vm_physmem_free(c.pm);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x86_ad_never_resurrects_cleared_entry),
        cmocka_unit_test(test_x86_dirty_set_under_concurrent_stores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
