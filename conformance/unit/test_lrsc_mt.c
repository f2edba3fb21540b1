/*
 * test_lrsc_mt.c - LR/SC under real concurrency (label "threads", run
 * again under TSan).
 *
 *  - increment stress: 4 hart threads each do N LR/SC increments (retrying
 *    on failure) split over two counters, one in granule G0 and one in G1;
 *    a fifth thread plain-stores a sequence number to other bytes of G0
 *    (through the function, inline and view forms in turn) and
 *    invalidates. If an SC ever succeeded after a conflicting write, or
 *    wrote back stale granule bytes, an increment or a plain store would be
 *    lost: the final counters must be exactly 2N each and the plain field
 *    must hold the last value stored;
 *  - a store racing with the SC: a plain store lands in the granule but its
 *    reservation-breaking slow path is held up (the test holds res_lock),
 *    so only the SC's compare-and-swap can notice it; the SC must fail and
 *    the store must survive;
 *  - an ordered same-value write: a write that happens-before the SC must
 *    fail it even though it leaves the granule's bytes unchanged (only the
 *    nres path can see it; the CAS cannot), through every write form: the
 *    function, bulk, inline and view.
 *
 * Worker threads count failures in atomics; the main thread asserts.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_barrier_t, sched_yield */
#endif
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vmmem/physmem.h"
#include "../../core/src/physmem_int.h" /* white-box: res_lock */

#define RAM_SIZE ((uint64_t)1 << 20)
#define G0 0x1000ULL        /* granule 0 */
#define C0 (G0 + 0)         /* u32 counter, LR/SC only */
#define PLAIN (G0 + 6)      /* u16 written with plain stores only */
#define C1 0x1008ULL        /* u64 counter in granule 1 */
#define HARTS 4
#define N_INCR 20000        /* per hart, split over C0 and C1 */
#define N_PLAIN 40000

struct stress_ctx {
    vm_physmem_t *pm;
    pthread_barrier_t start;
    unsigned long errors;      /* atomic */
    unsigned long sc_failures; /* atomic: retries observed */
};

struct hart_arg {
    struct stress_ctx *c;
    uint64_t owner;
};

/* One LR/SC increment of the counter at pa (size bytes), retried until the
 * SC succeeds. Returns false on an unexpected error. */
static bool lrsc_increment(struct stress_ctx *c, uint64_t owner, uint64_t pa, uint8_t size)
{
    for (;;) {
        uint64_t v;
        bool stored = false;
        if (vm_physmem_load_reserved(c->pm, pa, size, owner, &v) != VM_OK)
            return false;
        /* Widen the LR..SC window now and then so other threads interleave
         * even when the scheduler runs threads in long quanta. */
        if ((v & 7) == 0)
            sched_yield();
        if (vm_physmem_store_conditional(c->pm, pa, v + 1, size, owner, &stored) != VM_OK)
            return false;
        if (stored)
            return true;
        __atomic_fetch_add(&c->sc_failures, 1, __ATOMIC_RELAXED);
    }
}

static void *hart(void *arg)
{
    struct hart_arg *h = arg;
    struct stress_ctx *c = h->c;

    pthread_barrier_wait(&c->start);
    for (unsigned i = 0; i < N_INCR; i++) {
        bool ok = (i & 1) ? lrsc_increment(c, h->owner, C1, 8)
                          : lrsc_increment(c, h->owner, C0, 4);
        if (!ok)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* One plain store of the u16 at PLAIN, through the function API, the
 * inline form or a view (physmem_inline.h) in turn: all three must break
 * the reservations on G0 and must never be undone by an SC. */
static vm_err_t plain_store(vm_physmem_t *pm, const vm_physmem_view_t *view, unsigned k)
{
    switch (k % 3) {
    case 0: return vm_physmem_write_u16(pm, PLAIN, (uint16_t)k);
    case 1: return vm_physmem_write_inline(pm, PLAIN, (uint16_t)k, 2);
    default: return vm_physmem_view_write(view, PLAIN, (uint16_t)k, 2);
    }
}

/* Plain stores to bytes of G0 that no SC targets. Each store must read
 * back unchanged: an SC that wrote a stale snapshot would undo it. */
static void *plain_writer(void *arg)
{
    struct stress_ctx *c = arg;
    const vm_physmem_view_t view = vm_physmem_view(c->pm);

    pthread_barrier_wait(&c->start);
    for (unsigned k = 1; k <= N_PLAIN; k++) {
        uint16_t back = 0;
        if (plain_store(c->pm, &view, k) != VM_OK ||
            vm_physmem_read_u16(c->pm, PLAIN, &back) != VM_OK)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
        else if (back != (uint16_t)k) {
            /* nobody else writes these bytes, unless an SC clobbered them */
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
        }
        if ((k & 63) == 0)
            vm_physmem_invalidate(c->pm, C1, 8); /* only forces retries */
    }
    return NULL;
}

static void test_lrsc_mt_increment_stress(void **state)
{
    (void)state;
    struct stress_ctx c = {.pm = vm_physmem_new(RAM_SIZE, false)};
    struct hart_arg args[HARTS];
    pthread_t th[HARTS + 1];
    uint32_t c0 = 0;
    uint64_t c1 = 0;
    uint16_t plain = 0;
    uint8_t b4 = 0xff, b5 = 0xff;

    assert_non_null(c.pm);
    assert_int_equal(pthread_barrier_init(&c.start, NULL, HARTS + 1), 0);
    for (int i = 0; i < HARTS; i++) {
        args[i].c = &c;
        args[i].owner = (uint64_t)i; /* hart 0 is a legal owner */
        assert_int_equal(pthread_create(&th[i], NULL, hart, &args[i]), 0);
    }
    assert_int_equal(pthread_create(&th[HARTS], NULL, plain_writer, &c), 0);
    for (int i = 0; i <= HARTS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);

    assert_int_equal(c.errors, 0);
    assert_int_equal(vm_physmem_read_u32(c.pm, C0, &c0), VM_OK);
    assert_int_equal(vm_physmem_read_u64(c.pm, C1, &c1), VM_OK);
    assert_int_equal(vm_physmem_read_u16(c.pm, PLAIN, &plain), VM_OK);
    assert_int_equal(c0, HARTS * (N_INCR / 2));
    assert_int_equal(c1, HARTS * (N_INCR / 2));
    assert_int_equal(plain, N_PLAIN);
    /* Bytes 4 and 5 of G0 are written by no one. */
    assert_int_equal(vm_physmem_read_u8(c.pm, G0 + 4, &b4), VM_OK);
    assert_int_equal(vm_physmem_read_u8(c.pm, G0 + 5, &b5), VM_OK);
    assert_int_equal(b4, 0);
    assert_int_equal(b5, 0);
    pthread_barrier_destroy(&c.start);
    vm_physmem_free(c.pm);
}

/* ---- ordered same-value write ------------------------------------------- */

#define ROUNDS 5000

struct pingpong {
    vm_physmem_t *pm;
    int turn;               /* atomic: 0 = hart's LR, 1 = writer's store, 2 = hart's SC */
    unsigned long wrong;    /* atomic: SCs that succeeded although they must fail */
    unsigned long errors;   /* atomic */
};

static void wait_turn(struct pingpong *p, int t)
{
    while (__atomic_load_n(&p->turn, __ATOMIC_ACQUIRE) != t)
        sched_yield();
}

static void *pp_hart(void *arg)
{
    struct pingpong *p = arg;

    for (unsigned r = 0; r < ROUNDS; r++) {
        uint64_t v = 0;
        bool stored = false;
        wait_turn(p, 0);
        if (vm_physmem_load_reserved(p->pm, 0x3000, 8, 7, &v) != VM_OK)
            __atomic_fetch_add(&p->errors, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&p->turn, 1, __ATOMIC_RELEASE);
        wait_turn(p, 2);
        if (vm_physmem_store_conditional(p->pm, 0x3000, v, 8, 7, &stored) != VM_OK)
            __atomic_fetch_add(&p->errors, 1, __ATOMIC_RELAXED);
        if (stored)
            __atomic_fetch_add(&p->wrong, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&p->turn, 0, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void *pp_writer(void *arg)
{
    struct pingpong *p = arg;
    const vm_physmem_view_t view = vm_physmem_view(p->pm);

    for (unsigned r = 0; r < ROUNDS; r++) {
        uint64_t v = 0;
        wait_turn(p, 1);
        /* Rewrite the bytes that are already there (in turn: the u64
         * function, the inline form, a view, a 1-byte bulk write). */
        if (r % 4 == 1) {
            if (vm_physmem_read_u64(p->pm, 0x3000, &v) != VM_OK ||
                vm_physmem_write_u64(p->pm, 0x3000, v) != VM_OK)
                __atomic_fetch_add(&p->errors, 1, __ATOMIC_RELAXED);
        } else if (r % 4 == 2) {
            if (vm_physmem_read_inline(p->pm, 0x3000, 4, &v) != VM_OK ||
                vm_physmem_write_inline(p->pm, 0x3000, v, 4) != VM_OK)
                __atomic_fetch_add(&p->errors, 1, __ATOMIC_RELAXED);
        } else if (r % 4 == 3) {
            if (vm_physmem_view_read(&view, 0x3006, 2, &v) != VM_OK ||
                vm_physmem_view_write(&view, 0x3006, v, 2) != VM_OK)
                __atomic_fetch_add(&p->errors, 1, __ATOMIC_RELAXED);
        } else {
            uint8_t b = 0;
            if (vm_physmem_read_u8(p->pm, 0x3005, &b) != VM_OK ||
                vm_physmem_write_buf(p->pm, 0x3005, &b, 1) != VM_OK)
                __atomic_fetch_add(&p->errors, 1, __ATOMIC_RELAXED);
        }
        __atomic_store_n(&p->turn, 2, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void test_lrsc_mt_ordered_same_value_write_breaks(void **state)
{
    (void)state;
    struct pingpong p = {.pm = vm_physmem_new(RAM_SIZE, false)};
    pthread_t a, b;

    assert_non_null(p.pm);
    assert_int_equal(vm_physmem_write_u64(p.pm, 0x3000, 0x0123456789abcdefULL), VM_OK);
    assert_int_equal(pthread_create(&a, NULL, pp_hart, &p), 0);
    assert_int_equal(pthread_create(&b, NULL, pp_writer, &p), 0);
    assert_int_equal(pthread_join(a, NULL), 0);
    assert_int_equal(pthread_join(b, NULL), 0);
    assert_int_equal(p.errors, 0);
    assert_int_equal(p.wrong, 0);
    vm_physmem_free(p.pm);
}

/* ---- a store racing with the SC ----------------------------------------- */

struct racing_store {
    vm_physmem_t *pm;
    uint16_t val;
};

static void *racing_store_thread(void *arg)
{
    struct racing_store *r = arg;
    /* Stores, sees nres != 0, then blocks on res_lock in the slow path. */
    if (vm_physmem_write_u16(r->pm, PLAIN, r->val) != VM_OK)
        r->val = 0;
    return NULL;
}

static void test_lrsc_mt_racing_store_fails_sc(void **state)
{
    (void)state;
    vm_physmem_t *pm = vm_physmem_new(RAM_SIZE, false);
    unsigned wrong = 0;

    assert_non_null(pm);
    for (unsigned round = 1; round <= 50; round++) {
        struct racing_store r = {.pm = pm, .val = (uint16_t)(0xbe00 + round)};
        pthread_t th;
        uint64_t v = 0;
        uint16_t back = 0;
        bool stored = true;

        assert_int_equal(vm_physmem_load_reserved(pm, C0, 4, 0, &v), VM_OK);
        pthread_mutex_lock(&pm->res_lock);
        assert_int_equal(pthread_create(&th, NULL, racing_store_thread, &r), 0);
        /* Wait until the store is visible in RAM (lock-free read). */
        while (back != r.val) {
            assert_int_equal(vm_physmem_read_u16(pm, PLAIN, &back), VM_OK);
            sched_yield();
        }
        pthread_mutex_unlock(&pm->res_lock);
        /* Whether the SC or the writer's slow path takes the lock first,
         * the store happened before the SC: the SC must fail. */
        assert_int_equal(vm_physmem_store_conditional(pm, C0, v + 1, 4, 0, &stored), VM_OK);
        wrong += stored;
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_int_equal(r.val, 0xbe00 + round);
        assert_int_equal(vm_physmem_read_u16(pm, PLAIN, &back), VM_OK);
        assert_int_equal(back, r.val); /* the store survived */
    }
    assert_int_equal(wrong, 0);
    vm_physmem_free(pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lrsc_mt_increment_stress),
        cmocka_unit_test(test_lrsc_mt_racing_store_fails_sc),
        cmocka_unit_test(test_lrsc_mt_ordered_same_value_write_breaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
