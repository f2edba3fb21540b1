/*
 * test_mmu_mt.c - the MMU layer under real concurrency: several vCPUs, each
 * its own vm_mmu_t (vm_mmu_new_shared), over one vm_physmem_t. Label
 * "threads": ci runs it again under TSan.
 *
 *  - A/D update vs. a concurrent PTE clear (BUG-CLASSES 1): in each of many
 *    rounds a "guest kernel" thread writes a valid leaf with A=0, lets one
 *    vCPU walk it, clears it to 0 at a point that sweeps over the walk, and
 *    watches it. The Priv. spec (Virtual Address Translation Process, step
 *    9, Svadu) makes the A update an atomic compare-and-set that restarts
 *    the walk when the PTE changed, so once the kernel wrote 0 nothing but
 *    the kernel may write the PTE again: a walker writing back its stale
 *    copy with a plain store would resurrect the mapping. The race needs
 *    the two threads on two cores at once, so on a saturated machine the
 *    thread phase runs longer (up to AD_TIME_LIMIT_S), and a second phase
 *    lands the clear inside the walk as a profiling-timer signal on the
 *    walking thread itself, which needs no second core; there a walk that
 *    succeeds although its PTE was cleared mid-walk must have set A before
 *    the clear (else it skipped the re-walk after a failed compare-and-set);
 *  - D after concurrent stores and D clears (BUG-CLASSES 2): stores keep
 *    going while a thread clears D behind the TLBs' back (no sfence, which
 *    mmu.h allows); afterwards a store that follows a flush and a load (the
 *    load refills the TLB from the clean PTE) must still set D;
 *  - LR/SC through four MMUs that reach one counter through four different
 *    VAs (aliases), with a fifth vCPU plain-storing into the same granule
 *    (BUG-CLASSES 15: reservations are keyed by physical address; physmem.h:
 *    a plain store is never lost to an SC): no increment and no store lost;
 *  - per-vCPU TLBs: two MMUs with different satp/ASIDs map one VA to
 *    different PAs; each always gets its own PA and its TLB statistics count
 *    exactly its own translations;
 *  - MMIO with DMA from vCPU threads: a device whose write callback copies
 *    RAM (vm_physmem_read_buf/write_buf on the same physmem) is driven
 *    through mapped pages by vCPUs that also read RAM and hold LR
 *    reservations: no deadlock (physmem.h: callbacks run with no vmmem lock
 *    held), the DMA breaks exactly the reservations it overlaps, and RAM
 *    ends as the device wrote it.
 *
 * How it works: page tables are written as raw Sv39 PTEs on the physical
 * side, so the tests depend on nothing but physmem.h and mmu.h. Worker
 * threads never call cmocka asserts (they would longjmp across threads);
 * they count failures in atomics and keep the first message, and the main
 * thread asserts after joining. Every loop is bounded; an alarm() turns a
 * deadlock into a failing test instead of a hang. MMU_MT_FILTER=<test name>
 * runs a single test.
 *
 * Rejected: checking the A/D race only with free-running threads - on a
 * busy 2-core machine the walker and the clearing thread are seldom on a
 * CPU at the same time, and a planted plain-store write-back went unseen
 * in every run while other jobs saturated the cores; the signal phase
 * caught it in every run we tried.
 */
#ifndef _GNU_SOURCE
#define _XOPEN_SOURCE 700 /* pthread_barrier_t, sched_yield, alarm, setitimer */
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
#define TABLES UINT64_C(0x10000) /* page-table pages are handed out from here */
#define TABLES_END UINT64_C(0x100000)
#define WATCHDOG_SECONDS 60u     /* a deadlock fails the test instead of hanging ctest */

/* ---- failure bookkeeping shared by worker threads ------------------------ */

struct failures {
    unsigned long count; /* atomic */
    int have_first;      /* atomic: the first message has been claimed */
    char first[160];     /* written by the claimer only; read after join */
};

static void fail_note(struct failures *f, const char *what, uint64_t a, uint64_t b)
{
    __atomic_fetch_add(&f->count, 1, __ATOMIC_RELAXED);
    if (__atomic_exchange_n(&f->have_first, 1, __ATOMIC_ACQ_REL) == 0)
        snprintf(f->first, sizeof(f->first), "%s (0x%llx, 0x%llx)", what, (unsigned long long)a,
                 (unsigned long long)b);
}

/* Main thread, after every worker was joined. */
static void assert_no_failures(const struct failures *f)
{
    if (f->count != 0)
        print_error("%lu failure(s); first: %s\n", f->count, f->first);
    assert_int_equal(f->count, 0);
}

/* ---- raw Sv39 page tables on the physical side ----------------------------- */

struct pt {
    vm_physmem_t *pm;
    vm_gpa_t next_table; /* bump allocator for table pages */
};

static uint64_t pte_of(vm_gpa_t pa, uint64_t flags)
{
    return ((pa >> 12) << VM_PTE_PPN_SHIFT) | flags;
}

static uint64_t satp_sv39(vm_gpa_t root, uint16_t asid)
{
    return (UINT64_C(8) << 60) | ((uint64_t)asid << 44) | (root >> 12);
}

static uint64_t phys64(vm_physmem_t *pm, vm_gpa_t pa)
{
    uint64_t v = 0;
    assert_int_equal(vm_physmem_read_u64(pm, pa, &v), VM_OK);
    return v;
}

static vm_gpa_t pt_alloc(struct pt *p)
{
    vm_gpa_t t = p->next_table;
    p->next_table += 0x1000;
    assert_true(p->next_table <= TABLES_END);
    return t; /* RAM starts zeroed: an empty table */
}

static void pt_init(struct pt *p, vm_physmem_t *pm)
{
    p->pm = pm;
    p->next_table = TABLES;
}

/*
 * Map one 4 KiB page (leaf at level 0) under root; intermediate tables are
 * created as needed. Returns the leaf PTE's physical address. The leaf is
 * written as given (no V added): 0 leaves the slot empty.
 */
static vm_gpa_t pt_map4k(struct pt *p, vm_gpa_t root, vm_gva_t va, uint64_t leaf)
{
    vm_gpa_t table = root;
    for (int level = 2; level > 0; level--) {
        vm_gpa_t slot = table + 8 * ((va >> (12 + 9 * level)) & 0x1ff);
        uint64_t pte = phys64(p->pm, slot);
        if (!(pte & VM_PTE_V)) {
            vm_gpa_t t = pt_alloc(p);
            assert_int_equal(vm_physmem_write_u64(p->pm, slot, pte_of(t, VM_PTE_V)), VM_OK);
            table = t;
        } else {
            table = ((pte & VM_PTE_PPN_MASK) >> VM_PTE_PPN_SHIFT) << 12;
        }
    }
    vm_gpa_t slot = table + 8 * ((va >> 12) & 0x1ff);
    assert_int_equal(vm_physmem_write_u64(p->pm, slot, leaf), VM_OK);
    return slot;
}

/* A vCPU: its own MMU over pm, S-mode, Sv39 at root with asid. */
static vm_mmu_t *vcpu_new(vm_physmem_t *pm, vm_gpa_t root, uint16_t asid)
{
    vm_mmu_t *mmu = vm_mmu_new_shared(pm);
    assert_non_null(mmu);
    vm_mmu_set_strict_align(mmu, true); /* every access here is aligned */
    vm_mmu_set_priv(mmu, VM_PRIV_S);
    vm_mmu_set_ad_mode(mmu, VM_AD_HARDWARE);
    vm_mmu_set_satp(mmu, satp_sv39(root, asid));
    return mmu;
}

/* A short busy wait that the compiler cannot drop. */
static void spin(unsigned n)
{
    for (volatile unsigned i = 0; i < n; i++)
        ;
}

/* ==== 1. A update never resurrects a cleared PTE (BUG-CLASSES 1) ========= */

#define AD_VA UINT64_C(0x40201000)    /* Sv39 vpn 1/1/1 */
#define AD_PA UINT64_C(0x205000)
#define AD_OFF UINT64_C(0x123)
#define AD_ROUNDS 60000u              /* kernel-thread rounds, one walk each */
#define AD_MAX_POLLS 10000000u        /* bound of every wait for the other thread */
#define AD_DELAYS 256u                /* clear delays swept: 0 .. AD_DELAYS-1 polls */
#define AD_PATIENT_EVERY 16u          /* every 16th round waits for A, however long */
#define AD_WATCH_READS 8u             /* re-reads of the cleared PTE per round */
#define AD_TIME_BUDGET_S 1            /* stop early on a slow (loaded, TSan) machine, */
#define AD_TIME_LIMIT_S 2             /* ... unless the threads rarely ran side by side */
#define AD_ENOUGH_RACES 1000u         /* impatient rounds in which the walk set A */

struct ad_ctx {
    vm_physmem_t *pm;
    vm_mmu_t *walker;
    vm_gpa_t leaf;           /* physical address of the leaf PTE */
    unsigned long go;        /* atomic: round the walker is asked to walk in */
    unsigned long done;      /* atomic: last round the walker finished */
    int stop;                /* atomic: the kernel thread has finished */
    unsigned long walks_ok;  /* written by the walker, read after join */
    unsigned long walks_pf;
    unsigned long a_seen;    /* written by the kernel, read after join */
    unsigned long a_raced;   /* ... of which in rounds that did not wait for A */
    unsigned long rounds;    /* written by the kernel, read after join */
    struct failures fail;
};

/* Spin until *word >= want (true), or stop is set or the bound is hit
 * (false); yield once the wait gets long (there may be fewer free cores
 * than threads). */
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

/* vCPU: per round, sfence.vma va and translate (a load): a fresh walk of
 * the PTE the kernel is about to clear. */
static void *ad_walker(void *arg)
{
    struct ad_ctx *c = arg;

    for (unsigned long r = 1;; r++) {
        if (!ad_wait(c, &c->go, r))
            break; /* the kernel finished (or is stuck: it reports that) */
        vm_gpa_t pa = 0;
        vm_mmu_flush_tlb_page(c->walker, AD_VA);
        vm_err_t err = vm_mmu_translate(c->walker, AD_VA + AD_OFF, VM_ACCESS_READ, &pa);
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

/*
 * Guest kernel on another hart, per round: map with A=0 and start the
 * walker; wait until it set A or for a delay that sweeps 0 .. AD_DELAYS-1
 * polls over the rounds, so the clear lands at every point of the walk,
 * its read-to-update window included (every AD_PATIENT_EVERY-th round
 * waits for A, so some walks surely succeed even on a loaded machine);
 * unmap; watch the cleared PTE while the walk finishes, and once more
 * after it finished.
 */
static void *ad_kernel(void *arg)
{
    struct ad_ctx *c = arg;
    const uint64_t valid = pte_of(AD_PA, VM_PTE_V | VM_PTE_R | VM_PTE_W); /* A=D=0 */
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
        if (vm_physmem_write_u64(c->pm, c->leaf, valid) != VM_OK)
            fail_note(&c->fail, "raw PTE write failed", c->leaf, 0);
        __atomic_store_n(&c->go, r, __ATOMIC_RELEASE);
        bool patient = r % AD_PATIENT_EVERY == 0;
        unsigned delay = patient ? AD_MAX_POLLS : (unsigned)(r * 37u) % AD_DELAYS;
        for (unsigned s = 0; s < delay; s++) {
            uint64_t now = 0;
            if (vm_physmem_read_u64(c->pm, c->leaf, &now) == VM_OK && (now & VM_PTE_A)) {
                c->a_seen++;
                c->a_raced += !patient;
                break;
            }
            if (s > 10000)
                sched_yield(); /* only a patient round waits this long */
        }
        if (vm_physmem_write_u64(c->pm, c->leaf, 0) != VM_OK)
            fail_note(&c->fail, "raw PTE write failed", c->leaf, 0);
        /* Only this thread writes V=1 PTEs: the cleared PTE must stay 0
         * however the walker's compare-and-set interleaves (Priv. spec step
         * 9: the update is atomic and the walk restarts if the PTE changed). */
        for (unsigned k = 0; k <= AD_WATCH_READS; k++) {
            uint64_t now = 0;
            if (k == AD_WATCH_READS && !ad_wait(c, &c->done, r)) {
                fail_note(&c->fail, "kernel: walker stuck", r, 0);
                break;
            }
            if (vm_physmem_read_u64(c->pm, c->leaf, &now) != VM_OK)
                fail_note(&c->fail, "raw PTE read failed", c->leaf, 0);
            else if (now != 0)
                fail_note(&c->fail, "cleared PTE resurrected by the A/D update", now, r);
        }
        if (__atomic_load_n(&c->fail.count, __ATOMIC_RELAXED) != 0)
            break; /* one report is enough */
    }
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
    return NULL;
}

/*
 * The same race without needing two free cores: the "other hart's" clear
 * is a profiling-timer signal that lands at an arbitrary instruction of
 * the walk, on the walking thread itself - the exact interleaving "walker
 * read the PTE, the PTE was cleared, walker updates". CPU-time timers only
 * tick while the thread runs, so a saturated machine does not starve it.
 * (Under TSan signals are deferred to safe points: this phase then rarely
 * lands inside a walk, harmlessly.)
 */
#define AD_SIG_PERIOD_US 50
#define AD_SIG_MAX_ITERS 50000000u
#define AD_SIG_ENOUGH_HITS 400u   /* signals that cleared the PTE inside a walk */
#define AD_SIG_TIME_LIMIT_S 1

static vm_physmem_t *ad_sig_pm;
static vm_gpa_t ad_sig_leaf;
static volatile sig_atomic_t ad_sig_armed;   /* a walk of the valid PTE is running */
static volatile sig_atomic_t ad_sig_cleared; /* the handler cleared it during that walk */
static volatile sig_atomic_t ad_sig_had_a;   /* ... and the PTE it overwrote had A set */

static void ad_sig_handler(int sig)
{
    (void)sig;
    if (ad_sig_armed && !ad_sig_cleared) {
        /* Lock-free: aligned RAM accesses (no reservation is live here). */
        uint64_t old = 0;
        vm_err_t err = vm_physmem_read_u64(ad_sig_pm, ad_sig_leaf, &old);
        err = vm_physmem_write_u64(ad_sig_pm, ad_sig_leaf, 0);
        (void)err;
        ad_sig_had_a = (old & VM_PTE_A) != 0;
        ad_sig_cleared = 1;
    }
}

/* Returns the number of walks a signal interrupted; failures go to *f. */
static unsigned long ad_interrupted_walks(vm_mmu_t *mmu, vm_physmem_t *pm, vm_gpa_t leaf,
                                          struct failures *f)
{
    const uint64_t valid = pte_of(AD_PA, VM_PTE_V | VM_PTE_R | VM_PTE_W); /* A=D=0 */
    struct sigaction sa, old_sa;
    struct itimerval tv, old_tv;
    struct timespec t0, t;
    unsigned long hits = 0;

    ad_sig_pm = pm;
    ad_sig_leaf = leaf;
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
        if (vm_physmem_write_u64(pm, leaf, valid) != VM_OK)
            fail_note(f, "raw PTE write failed", leaf, 0);
        vm_mmu_flush_tlb_page(mmu, AD_VA);
        ad_sig_cleared = 0;
        ad_sig_armed = 1;
        vm_err_t err = vm_mmu_translate(mmu, AD_VA + AD_OFF, VM_ACCESS_READ, &pa);
        ad_sig_armed = 0;
        if (err != VM_OK && err != VM_ERR_PAGE_FAULT)
            fail_note(f, "translation neither success nor page fault", err, 0);
        else if (err == VM_OK && pa != AD_PA + AD_OFF)
            fail_note(f, "translation to a wrong PA", pa, AD_PA + AD_OFF);
        if (ad_sig_cleared) {
            hits++;
            if (phys64(pm, leaf) != 0)
                fail_note(f, "PTE cleared during the walk resurrected by the A/D update",
                          phys64(pm, leaf), n);
            /* A walk that succeeded although its PTE was cleared under it
             * must have set A before the clear (step 9: if the
             * compare-and-set fails, walk again - and find V=0). */
            if (err == VM_OK && !ad_sig_had_a)
                fail_note(f, "walk used a PTE whose A update failed (no re-walk)", n, 0);
        }
    }
    setitimer(ITIMER_PROF, &old_tv, NULL);
    sigaction(SIGPROF, &old_sa, NULL);
    return hits;
}

static void test_ad_update_never_resurrects_cleared_pte(void **state)
{
    (void)state;
    struct ad_ctx c;
    pthread_t tw, tk;
    struct pt p;

    alarm(WATCHDOG_SECONDS);
    memset(&c, 0, sizeof(c));
    c.pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(c.pm);
    pt_init(&p, c.pm);
    vm_gpa_t root = pt_alloc(&p);
    c.leaf = pt_map4k(&p, root, AD_VA, 0);
    c.walker = vcpu_new(c.pm, root, 1);
    /* One-entry TLBs: flush and refill cost next to nothing, so most of
     * each iteration is the walk itself, read-to-update window included. */
    assert_int_equal(vm_mmu_resize_tlbs(c.walker, 1, 1), VM_OK);
    assert_int_equal(pthread_create(&tw, NULL, ad_walker, &c), 0);
    assert_int_equal(pthread_create(&tk, NULL, ad_kernel, &c), 0);
    assert_int_equal(pthread_join(tk, NULL), 0);
    assert_int_equal(pthread_join(tw, NULL), 0);

    print_message("walks: %lu ok, %lu page faults; A seen in %lu of %lu rounds (%lu raced)\n",
                  c.walks_ok, c.walks_pf, c.a_seen, c.rounds, c.a_raced);
    assert_no_failures(&c.fail);
    /* The kernel's last write was 0; a stale write-back after its last
     * look would show here. */
    assert_int_equal(phys64(c.pm, c.leaf), 0);
    /* Not vacuous: the walker both succeeded (it set A by compare-and-swap,
     * and the kernel saw it) and faulted on the cleared PTE. */
    assert_true(c.walks_ok > 0);
    assert_true(c.walks_pf > 0);
    assert_true(c.a_seen > 0);

    unsigned long hits = ad_interrupted_walks(c.walker, c.pm, c.leaf, &c.fail);
    print_message("walks cleared by a signal mid-walk: %lu\n", hits);
    assert_no_failures(&c.fail);
    vm_mmu_free(c.walker);
    vm_physmem_free(c.pm);
    alarm(0);
}

/* ==== 2. D is set by stores despite concurrent D clears (BUG-CLASSES 2) == */

#define D_VA UINT64_C(0x40202000)
#define D_PA UINT64_C(0x207000)
#define D_STORERS 3
#define D_STORES 20000u
#define D_CLEARS 20000u

struct d_ctx {
    vm_physmem_t *pm;
    vm_gpa_t leaf;
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
    vm_gva_t va = D_VA + 8u * a->id; /* each vCPU owns one word of the page */

    pthread_barrier_wait(&c->start);
    for (unsigned j = 1; j <= D_STORES; j++) {
        uint64_t v = 0;
        /* Now and then drop the translation and refill it with a load, so
         * stores find TLB entries that a load filled from a clean PTE. */
        if (j % 8 == 0)
            vm_mmu_flush_tlb_page(mmu, va);
        if (vm_mmu_read(mmu, va, 8, &v) != VM_OK)
            fail_note(&c->fail, "load through the clean page failed", va, a->id);
        else if (v != j - 1)
            fail_note(&c->fail, "own word changed under the vCPU", v, j - 1);
        if (vm_mmu_write(mmu, va, j, 8) != VM_OK)
            fail_note(&c->fail, "store through the clean page failed", va, a->id);
    }
    return NULL;
}

/* The guest kernel cleaning the page: a raw PTE write, no sfence. */
static void *d_clearer(void *arg)
{
    struct d_ctx *c = arg;

    pthread_barrier_wait(&c->start);
    for (unsigned k = 0; k < D_CLEARS; k++) {
        uint64_t pte = 0;
        if (vm_physmem_read_u64(c->pm, c->leaf, &pte) != VM_OK ||
            vm_physmem_write_u64(c->pm, c->leaf, pte & ~VM_PTE_D) != VM_OK)
            fail_note(&c->fail, "raw PTE access failed", c->leaf, 0);
        spin(50);
    }
    return NULL;
}

static void test_ad_dirty_set_by_concurrent_stores(void **state)
{
    (void)state;
    struct d_ctx c;
    struct d_arg args[D_STORERS];
    pthread_t th[D_STORERS + 1];
    struct pt p;

    alarm(WATCHDOG_SECONDS);
    memset(&c, 0, sizeof(c));
    c.pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(c.pm);
    pt_init(&p, c.pm);
    vm_gpa_t root = pt_alloc(&p);
    /* Readable, writable, accessed, clean. */
    c.leaf = pt_map4k(&p, root, D_VA, pte_of(D_PA, VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_A));
    assert_int_equal(pthread_barrier_init(&c.start, NULL, D_STORERS + 1), 0);
    for (unsigned i = 0; i < D_STORERS; i++) {
        c.vcpu[i] = vcpu_new(c.pm, root, 5);
        args[i].c = &c;
        args[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, d_storer, &args[i]), 0);
    }
    assert_int_equal(pthread_create(&th[D_STORERS], NULL, d_clearer, &c), 0);
    for (unsigned i = 0; i <= D_STORERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_no_failures(&c.fail);
    for (unsigned i = 0; i < D_STORERS; i++)
        assert_int_equal(phys64(c.pm, D_PA + 8u * i), D_STORES); /* no store lost */

    /*
     * Each vCPU once more, with the kernel's clear ordered before it:
     * sfence.vma va, then a load (refills the TLB from the clean PTE), then
     * a store. Priv. spec step 9: a store with pte.d = 0 must set D (Svadu)
     * - a TLB entry filled by the load must not let the store skip it.
     */
    for (unsigned i = 0; i < D_STORERS; i++) {
        vm_gva_t va = D_VA + 8u * i;
        uint64_t v = 0;
        uint64_t pte = phys64(c.pm, c.leaf);
        assert_int_equal(vm_physmem_write_u64(c.pm, c.leaf, pte & ~VM_PTE_D), VM_OK);
        vm_mmu_flush_tlb_page(c.vcpu[i], va);
        assert_int_equal(vm_mmu_read(c.vcpu[i], va, 8, &v), VM_OK);
        assert_int_equal(v, D_STORES);
        assert_int_equal(vm_mmu_write(c.vcpu[i], va, 0xd000u + i, 8), VM_OK);
        pte = phys64(c.pm, c.leaf);
        assert_true((pte & VM_PTE_D) != 0);
        assert_true((pte & VM_PTE_A) != 0);
        assert_int_equal(phys64(c.pm, D_PA + 8u * i), 0xd000u + i);
    }

    pthread_barrier_destroy(&c.start);
    for (unsigned i = 0; i < D_STORERS; i++)
        vm_mmu_free(c.vcpu[i]);
    vm_physmem_free(c.pm);
    alarm(0);
}

/* ==== 3. LR/SC through aliases on four MMUs (BUG-CLASSES 15) ============= */

/*
 * The counter page is reached through a different VA on every vCPU. The
 * VAs are below RAM_SIZE on purpose: a reservation keyed by the VA would
 * then name real (other) RAM and produce wrong results, not just errors.
 */
#define LS_PA UINT64_C(0x209000)
#define LS_COUNTER_OFF UINT64_C(0x40)  /* u32 counter: LR/SC only */
#define LS_PLAIN_OFF UINT64_C(0x44)    /* u32 in the same 8-byte granule: plain stores */
#define LS_VA(i) (UINT64_C(0x300000) + UINT64_C(0x1000) * (uint64_t)(i))
#define LS_HARTS 4
#define LS_INCR 20000u
#define LS_PLAIN_MAX 1000000u  /* the plain writer stops when the harts are done */
#define LS_PLAIN_BURST 16u      /* plain stores per burst; then wait for the harts: */
#define LS_PLAIN_PACE 8u        /* ... until they made this many increments */
#define LS_PACE_MAX_YIELDS 1000u
#define LS_MAX_RETRIES 1000000u

struct ls_ctx {
    vm_mmu_t *vcpu[LS_HARTS + 1]; /* the last one plain-stores */
    pthread_barrier_t start;
    unsigned long sc_failures; /* atomic: retries, for the record */
    int harts_running;         /* atomic */
    uint64_t plain_last;       /* last value the plain writer stored; read after join */
    struct failures fail;
};

struct ls_arg {
    struct ls_ctx *c;
    unsigned id;
};

static void *ls_hart(void *arg)
{
    struct ls_arg *a = arg;
    struct ls_ctx *c = a->c;
    vm_mmu_t *mmu = c->vcpu[a->id];
    vm_gva_t va = LS_VA(a->id) + LS_COUNTER_OFF;
    unsigned long retries = 0;

    pthread_barrier_wait(&c->start);
    for (unsigned n = 0; n < LS_INCR; n++) {
        unsigned tries = 0;
        for (;;) {
            uint64_t v = 0;
            bool stored = false;
            if (vm_mmu_load_reserved(mmu, va, 4, &v) != VM_OK) {
                fail_note(&c->fail, "LR failed", va, a->id);
                goto out;
            }
            if ((v & 7) == 0)
                sched_yield(); /* widen the LR..SC window now and then */
            if (vm_mmu_store_conditional(mmu, va, v + 1, 4, &stored) != VM_OK) {
                fail_note(&c->fail, "SC failed with an error", va, a->id);
                goto out;
            }
            if (stored)
                break;
            retries++;
            if (++tries > LS_MAX_RETRIES) {
                fail_note(&c->fail, "SC never succeeds", va, a->id);
                goto out;
            }
        }
    }
out:
    __atomic_fetch_add(&c->sc_failures, retries, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&c->harts_running, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Plain stores to the other half of the granule, through a fifth alias,
 * for as long as the harts run, paced to about two per increment so the
 * harts are not starved. */
static void *ls_plain(void *arg)
{
    struct ls_ctx *c = arg;
    vm_mmu_t *mmu = c->vcpu[LS_HARTS];
    vm_gva_t va = LS_VA(LS_HARTS) + LS_PLAIN_OFF;
    vm_gva_t counter_va = LS_VA(LS_HARTS) + LS_COUNTER_OFF;
    uint64_t k = 0, seen = 0;

    pthread_barrier_wait(&c->start);
    while (k < LS_PLAIN_MAX && __atomic_load_n(&c->harts_running, __ATOMIC_ACQUIRE) > 0) {
        uint64_t back = 0;
        k++;
        if (vm_mmu_write(mmu, va, k, 4) != VM_OK || vm_mmu_read(mmu, va, 4, &back) != VM_OK)
            fail_note(&c->fail, "plain access failed", va, k);
        else if (back != k) /* only this thread writes these bytes: an SC undid the store */
            fail_note(&c->fail, "plain store lost", back, k);
        if (k % LS_PLAIN_BURST != 0)
            continue;
        for (unsigned y = 0; y < LS_PACE_MAX_YIELDS; y++) {
            uint64_t now = 0;
            if (vm_mmu_read(mmu, counter_va, 4, &now) != VM_OK)
                fail_note(&c->fail, "counter read failed", counter_va, k);
            if (now >= seen + LS_PLAIN_PACE ||
                __atomic_load_n(&c->harts_running, __ATOMIC_ACQUIRE) == 0) {
                seen = now;
                break;
            }
            sched_yield();
        }
    }
    c->plain_last = k;
    return NULL;
}

static void test_lrsc_through_mmus_no_lost_increment(void **state)
{
    (void)state;
    struct ls_ctx c;
    struct ls_arg args[LS_HARTS];
    pthread_t th[LS_HARTS + 1];
    struct pt p;
    uint32_t counter = 0, plain = 0;

    alarm(WATCHDOG_SECONDS);
    memset(&c, 0, sizeof(c));
    vm_physmem_t *pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(pm);
    pt_init(&p, pm);
    vm_gpa_t root = pt_alloc(&p);
    for (unsigned i = 0; i <= LS_HARTS; i++) {
        pt_map4k(&p, root, LS_VA(i),
                 pte_of(LS_PA, VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_A | VM_PTE_D));
        c.vcpu[i] = vcpu_new(pm, root, (uint16_t)(10 + i));
    }
    assert_int_equal(pthread_barrier_init(&c.start, NULL, LS_HARTS + 1), 0);
    c.harts_running = LS_HARTS;
    for (unsigned i = 0; i < LS_HARTS; i++) {
        args[i].c = &c;
        args[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, ls_hart, &args[i]), 0);
    }
    assert_int_equal(pthread_create(&th[LS_HARTS], NULL, ls_plain, &c), 0);
    for (unsigned i = 0; i <= LS_HARTS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);

    print_message("SC retries: %lu, plain stores: %llu\n", c.sc_failures,
                  (unsigned long long)c.plain_last);
    assert_no_failures(&c.fail);
    assert_int_equal(vm_physmem_read_u32(pm, LS_PA + LS_COUNTER_OFF, &counter), VM_OK);
    assert_int_equal(vm_physmem_read_u32(pm, LS_PA + LS_PLAIN_OFF, &plain), VM_OK);
    assert_int_equal(counter, LS_HARTS * LS_INCR);
    assert_int_equal(plain, (uint32_t)c.plain_last);
    assert_true(c.plain_last > 0);

    pthread_barrier_destroy(&c.start);
    for (unsigned i = 0; i <= LS_HARTS; i++)
        vm_mmu_free(c.vcpu[i]);
    vm_physmem_free(pm);
    alarm(0);
}

/* ==== 4. Each vCPU has its own TLBs ====================================== */

#define TI_VA UINT64_C(0x40203000)          /* mapped by both, to different PAs */
#define TI_OWN_VA(i) (UINT64_C(0x40210000) + UINT64_C(0x1000) * (uint64_t)(i))
#define TI_PA(i) (UINT64_C(0x211000) + UINT64_C(0x10000) * (uint64_t)(i))
#define TI_OWN_PA(i) (TI_PA(i) + UINT64_C(0x3000))
#define TI_ITERS 60000u
#define TI_FLUSH_EVERY 16u                  /* TI_ITERS is a multiple */
#define TI_SYNC_EVERY 100u                  /* not a multiple of TI_FLUSH_EVERY */

struct ti_ctx {
    vm_mmu_t *vcpu[2];
    pthread_barrier_t start;
    struct failures fail;
};

struct ti_arg {
    struct ti_ctx *c;
    unsigned id;
};

static void *ti_vcpu(void *arg)
{
    struct ti_arg *a = arg;
    struct ti_ctx *c = a->c;
    vm_mmu_t *mmu = c->vcpu[a->id];

    pthread_barrier_wait(&c->start);
    for (unsigned j = 0; j < TI_ITERS; j++) {
        vm_gpa_t pa = 0;
        uint64_t off = (j * 8u) & 0xfffu;
        /* Meet now and then, so the two vCPUs' flushes and fills interleave
         * even when the scheduler would run one thread's loop after the
         * other's; the meeting points fall between flushes. */
        if (j % TI_SYNC_EVERY == 0)
            pthread_barrier_wait(&c->start);
        if (j % TI_FLUSH_EVERY == 0)
            vm_mmu_flush_tlb(mmu); /* sfence.vma on this hart only */
        if (vm_mmu_translate(mmu, TI_VA + off, VM_ACCESS_READ, &pa) != VM_OK)
            fail_note(&c->fail, "shared VA did not translate", a->id, j);
        else if (pa != TI_PA(a->id) + off)
            fail_note(&c->fail, "shared VA translated to the other vCPU's PA", pa, a->id);
        if (vm_mmu_translate(mmu, TI_OWN_VA(a->id) + off, VM_ACCESS_WRITE, &pa) != VM_OK)
            fail_note(&c->fail, "own VA did not translate", a->id, j);
        else if (pa != TI_OWN_PA(a->id) + off)
            fail_note(&c->fail, "own VA translated wrongly", pa, a->id);
    }
    return NULL;
}

static void test_vcpus_independent_tlbs(void **state)
{
    (void)state;
    struct ti_ctx c;
    struct ti_arg args[2];
    pthread_t th[2];
    struct pt p;
    const uint64_t rwad = VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_A | VM_PTE_D;

    alarm(WATCHDOG_SECONDS);
    memset(&c, 0, sizeof(c));
    vm_physmem_t *pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(pm);
    pt_init(&p, pm);
    for (unsigned i = 0; i < 2; i++) {
        vm_gpa_t root = pt_alloc(&p);
        pt_map4k(&p, root, TI_VA, pte_of(TI_PA(i), rwad));
        pt_map4k(&p, root, TI_OWN_VA(i), pte_of(TI_OWN_PA(i), rwad));
        c.vcpu[i] = vcpu_new(pm, root, (uint16_t)(1 + i)); /* ASIDs 1 and 2 */
    }
    assert_int_equal(pthread_barrier_init(&c.start, NULL, 2), 0);
    for (unsigned i = 0; i < 2; i++) {
        args[i].c = &c;
        args[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, ti_vcpu, &args[i]), 0);
    }
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_no_failures(&c.fail);

    /*
     * mmu.h: one hit or miss per page translated while paging. Each vCPU
     * translated two pages per iteration; both miss right after its own
     * flush, and otherwise hit (two pages fit any TLB of >= 2 entries; the
     * DTLB has 128). Anything the other vCPU did must not show here.
     */
    for (unsigned i = 0; i < 2; i++) {
        uint64_t hits = 0, misses = 0;
        vm_mmu_tlb_stats(c.vcpu[i], &hits, &misses);
        assert_int_equal(misses, 2u * (TI_ITERS / TI_FLUSH_EVERY));
        assert_int_equal(hits, 2u * (TI_ITERS - TI_ITERS / TI_FLUSH_EVERY));
    }
    /* The other vCPU's private page is not mapped here: no TLB leaks it. */
    for (unsigned i = 0; i < 2; i++) {
        vm_gpa_t pa = 0;
        assert_int_equal(vm_mmu_translate(c.vcpu[i], TI_OWN_VA(1 - i), VM_ACCESS_READ, &pa),
                         VM_ERR_PAGE_FAULT);
        assert_int_equal(vm_mmu_last_fault(c.vcpu[i])->cause, VM_CAUSE_LOAD_PAGE_FAULT);
    }

    pthread_barrier_destroy(&c.start);
    for (unsigned i = 0; i < 2; i++)
        vm_mmu_free(c.vcpu[i]);
    vm_physmem_free(pm);
    alarm(0);
}

/* ==== 5. MMIO whose device does DMA, driven from vCPU threads ============ */

#define DMA_MMIO_PA UINT64_C(0x40000000)  /* outside RAM */
#define DMA_SRC_PA UINT64_C(0x220000)
#define DMA_DST_PA UINT64_C(0x230000)
#define DMA_CHUNK 64u
#define DMA_CHUNKS 256u                   /* 16 KiB: four pages each side */
#define DMA_PAGES (DMA_CHUNKS * DMA_CHUNK / 0x1000u)
#define DMA_VA_DEV UINT64_C(0x40300000)
#define DMA_VA_SRC UINT64_C(0x40400000)
#define DMA_VA_DST UINT64_C(0x40500000)
#define DMA_SCRATCH_VA UINT64_C(0x40600000)
#define DMA_SCRATCH_PA UINT64_C(0x240000)
#define DMA_VCPUS 3u
#define DMA_PASSES 32u                    /* every chunk is copied this many times */

/* The byte the source holds at chunk c, byte k: distinct across chunks. */
static uint8_t dma_pattern(unsigned c, unsigned k)
{
    return (uint8_t)(c * 31u + k * 7u + 1u);
}

/* Register (8 bytes at offset 8*i, one per vCPU): writing c copies source
 * chunk c to destination chunk c, by DMA on the same physmem, before the
 * write returns. Reading any register returns the number of copies done. */
struct dma_dev {
    vm_physmem_t *pm;
    pthread_mutex_t lock; /* a device shared by vCPUs locks itself (physmem.h) */
    uint64_t copies;
    uint64_t errors;
};

static vm_err_t dma_read(void *opaque, uint64_t off, uint8_t size, uint64_t *val)
{
    struct dma_dev *d = opaque;
    (void)off;
    (void)size;
    pthread_mutex_lock(&d->lock);
    *val = d->copies;
    pthread_mutex_unlock(&d->lock);
    return VM_OK;
}

static vm_err_t dma_write(void *opaque, uint64_t off, uint64_t val, uint8_t size)
{
    struct dma_dev *d = opaque;
    uint8_t buf[DMA_CHUNK];
    vm_err_t err = VM_OK;

    if (size != 8 || off % 8 != 0 || val >= DMA_CHUNKS)
        return VM_ERR_MMIO;
    /* DMA while holding the device lock: if vmmem called us with one of its
     * locks held, a vCPU in vmmem waiting for that lock would deadlock. */
    pthread_mutex_lock(&d->lock);
    if (vm_physmem_read_buf(d->pm, DMA_SRC_PA + val * DMA_CHUNK, buf, sizeof(buf)) != VM_OK ||
        vm_physmem_write_buf(d->pm, DMA_DST_PA + val * DMA_CHUNK, buf, sizeof(buf)) != VM_OK) {
        d->errors++;
        err = VM_ERR_MMIO;
    } else {
        d->copies++;
    }
    pthread_mutex_unlock(&d->lock);
    return err;
}

static void dma_destroy(void *opaque)
{
    struct dma_dev *d = opaque;
    pthread_mutex_destroy(&d->lock);
    free(d);
}

static const vm_mmio_ops_t dma_ops = {
    .read = dma_read, .write = dma_write, .poll = NULL, .destroy = dma_destroy,
};

struct dma_ctx {
    vm_mmu_t *vcpu[DMA_VCPUS];
    pthread_barrier_t start;
    unsigned long sc_ok;  /* atomic */
    struct failures fail;
};

struct dma_arg {
    struct dma_ctx *c;
    unsigned id;
};

/*
 * Destination chunk c read through the MMU: every byte must be 0 (not
 * copied yet) or the source's - a chunk is copied by one write_buf, which
 * is not atomic as a whole, so a reader may see it half copied. With
 * `must_be_copied`, every byte must be the source's.
 */
static bool dma_chunk_ok(vm_mmu_t *mmu, unsigned c, bool must_be_copied)
{
    uint8_t buf[DMA_CHUNK];

    if (vm_mmu_read_bulk(mmu, DMA_VA_DST + (uint64_t)c * DMA_CHUNK, buf, sizeof(buf)) != VM_OK)
        return false;
    for (unsigned k = 0; k < DMA_CHUNK; k++)
        if (buf[k] != dma_pattern(c, k) && (must_be_copied || buf[k] != 0))
            return false;
    return true;
}

static void *dma_vcpu(void *arg)
{
    struct dma_arg *a = arg;
    struct dma_ctx *c = a->c;
    vm_mmu_t *mmu = c->vcpu[a->id];
    vm_gva_t reg = DMA_VA_DEV + 8u * a->id;
    vm_gva_t scratch = DMA_SCRATCH_VA + 8u * a->id;
    unsigned long sc_ok = 0;

    pthread_barrier_wait(&c->start);
    for (unsigned pass = 0; pass < DMA_PASSES; pass++) {
        for (unsigned ch = a->id; ch < DMA_CHUNKS; ch += DMA_VCPUS) {
            vm_gva_t dst_va = DMA_VA_DST + (uint64_t)ch * DMA_CHUNK;
            bool reserve_dst = (ch / DMA_VCPUS) % 2 == 0;
            uint64_t v = 0, s = 0;
            bool stored = false;

            /* Hold a reservation across the MMIO write, so the DMA's
             * write_buf finds live reservations: on the chunk it writes
             * (the SC must then fail) or on an unrelated word (must succeed). */
            vm_gva_t lr_va = reserve_dst ? dst_va : scratch;
            if (vm_mmu_load_reserved(mmu, lr_va, 8, &v) != VM_OK)
                fail_note(&c->fail, "LR failed", lr_va, a->id);
            if (vm_mmu_write(mmu, reg, ch, 8) != VM_OK)
                fail_note(&c->fail, "MMIO write failed", ch, a->id);
            if (vm_mmu_store_conditional(mmu, lr_va, reserve_dst ? ~v : v + 1, 8, &stored) !=
                VM_OK)
                fail_note(&c->fail, "SC failed with an error", lr_va, a->id);
            if (reserve_dst && stored)
                fail_note(&c->fail, "SC succeeded although the DMA wrote its granule", ch, v);
            if (!reserve_dst && !stored)
                fail_note(&c->fail, "SC failed although no write reached its granule", ch, v);
            sc_ok += stored;

            /* The device's write callback returned: the copy is complete. */
            if (!dma_chunk_ok(mmu, ch, true))
                fail_note(&c->fail, "chunk not copied after the MMIO write returned", ch, a->id);
            /* Other vCPUs' chunks (perhaps being copied right now) and the
             * source, read concurrently. */
            unsigned other = (ch * 13u + 5u) % DMA_CHUNKS;
            if (!dma_chunk_ok(mmu, other, false))
                fail_note(&c->fail, "destination chunk holds foreign bytes", other, a->id);
            if (vm_mmu_read(mmu, DMA_VA_SRC + (uint64_t)other * DMA_CHUNK + 8, 1, &s) != VM_OK ||
                s != dma_pattern(other, 8))
                fail_note(&c->fail, "source changed", other, s);
            if (vm_mmu_read(mmu, reg, 8, &s) != VM_OK)
                fail_note(&c->fail, "MMIO read failed", ch, a->id);
        }
    }
    __atomic_fetch_add(&c->sc_ok, sc_ok, __ATOMIC_RELAXED);
    return NULL;
}

static void test_mmio_dma_from_vcpus(void **state)
{
    (void)state;
    struct dma_ctx c;
    struct dma_arg args[DMA_VCPUS];
    pthread_t th[DMA_VCPUS];
    struct pt p;
    const uint64_t rwad = VM_PTE_V | VM_PTE_R | VM_PTE_W | VM_PTE_A | VM_PTE_D;
    uint8_t src[DMA_CHUNKS * DMA_CHUNK], dst[DMA_CHUNKS * DMA_CHUNK];
    unsigned half = 0; /* chunks per vCPU with a reservation on the scratch word */

    alarm(WATCHDOG_SECONDS);
    memset(&c, 0, sizeof(c));
    vm_physmem_t *pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(pm);

    struct dma_dev *dev = calloc(1, sizeof(*dev));
    assert_non_null(dev);
    dev->pm = pm;
    assert_int_equal(pthread_mutex_init(&dev->lock, NULL), 0);
    assert_int_equal(vm_physmem_map_mmio(pm, DMA_MMIO_PA, 0x1000, &dma_ops, dev), VM_OK);

    for (unsigned ch = 0; ch < DMA_CHUNKS; ch++)
        for (unsigned k = 0; k < DMA_CHUNK; k++)
            src[ch * DMA_CHUNK + k] = dma_pattern(ch, k);
    assert_int_equal(vm_physmem_write_buf(pm, DMA_SRC_PA, src, sizeof(src)), VM_OK);

    pt_init(&p, pm);
    vm_gpa_t root = pt_alloc(&p);
    pt_map4k(&p, root, DMA_VA_DEV, pte_of(DMA_MMIO_PA, rwad));
    pt_map4k(&p, root, DMA_SCRATCH_VA, pte_of(DMA_SCRATCH_PA, rwad));
    for (unsigned g = 0; g < DMA_PAGES; g++) {
        pt_map4k(&p, root, DMA_VA_SRC + 0x1000u * g, pte_of(DMA_SRC_PA + 0x1000u * g, rwad));
        pt_map4k(&p, root, DMA_VA_DST + 0x1000u * g, pte_of(DMA_DST_PA + 0x1000u * g, rwad));
    }
    for (unsigned i = 0; i < DMA_VCPUS; i++)
        c.vcpu[i] = vcpu_new(pm, root, 7);

    assert_int_equal(pthread_barrier_init(&c.start, NULL, DMA_VCPUS), 0);
    for (unsigned i = 0; i < DMA_VCPUS; i++) {
        args[i].c = &c;
        args[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, dma_vcpu, &args[i]), 0);
    }
    for (unsigned i = 0; i < DMA_VCPUS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_no_failures(&c.fail);

    /* RAM is what the device made of it: the destination a copy of the
     * source, the source untouched, each scratch word counting its vCPU's
     * successful SCs. */
    assert_int_equal(dev->errors, 0);
    assert_int_equal(dev->copies, (uint64_t)DMA_PASSES * DMA_CHUNKS);
    assert_int_equal(vm_physmem_read_buf(pm, DMA_DST_PA, dst, sizeof(dst)), VM_OK);
    assert_memory_equal(dst, src, sizeof(src));
    assert_int_equal(vm_physmem_read_buf(pm, DMA_SRC_PA, dst, sizeof(dst)), VM_OK);
    assert_memory_equal(dst, src, sizeof(src));
    for (unsigned i = 0; i < DMA_VCPUS; i++) {
        unsigned mine = 0;
        for (unsigned ch = i; ch < DMA_CHUNKS; ch += DMA_VCPUS)
            mine += (ch / DMA_VCPUS) % 2 != 0;
        half += mine;
        assert_int_equal(phys64(pm, DMA_SCRATCH_PA + 8u * i), (uint64_t)DMA_PASSES * mine);
    }
    assert_int_equal(c.sc_ok, (unsigned long)DMA_PASSES * half);

    pthread_barrier_destroy(&c.start);
    for (unsigned i = 0; i < DMA_VCPUS; i++)
        vm_mmu_free(c.vcpu[i]);
    vm_physmem_free(pm); /* destroys the device */
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ad_update_never_resurrects_cleared_pte),
        cmocka_unit_test(test_ad_dirty_set_by_concurrent_stores),
        cmocka_unit_test(test_lrsc_through_mmus_no_lost_increment),
        cmocka_unit_test(test_vcpus_independent_tlbs),
        cmocka_unit_test(test_mmio_dma_from_vcpus),
    };
    /* MMU_MT_FILTER=test_name runs one test (e.g. to time it). */
    if (getenv("MMU_MT_FILTER"))
        cmocka_set_test_filter(getenv("MMU_MT_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
