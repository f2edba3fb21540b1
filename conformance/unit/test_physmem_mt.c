/*
 * test_physmem_mt.c - threaded tests of guest RAM and MMIO (run again
 * under TSan by ci, label "threads").
 *
 *  - aligned accesses are single-copy atomic (physmem.h): writers store
 *    values whose bytes are all equal (0x0101..01 * k); a reader that ever
 *    sees two different bytes in one value saw a torn access;
 *  - bulk reads see no torn aligned word either (physmem.h: a bulk transfer
 *    is not atomic as a whole, each aligned 8-byte word is): a writer keeps
 *    storing all-bytes-equal words into a block while readers copy it out
 *    with vm_physmem_read_buf, through the 16-byte loads (physmem.c,
 *    ram_copy_out) where the host has them and through the 8-byte path;
 *    and bulk writes store no torn word: vm_physmem_write_buf rewrites the
 *    block with all-bytes-equal words while readers load them one by one
 *    (ram_copy_in, both paths);
 *  - map_mmio while other threads access and poll: a region, once seen, is
 *    seen complete and stays; two threads racing to map the same range
 *    never both win.
 *
 * Worker threads never call cmocka asserts (they longjmp); they count
 * failures in atomics that the main thread checks.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_barrier_t, sched_yield */
#endif
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmmem/physmem.h"
#include "../../core/src/physmem_int.h" /* white-box: physmem_wide_copy */

#define RAM_SIZE ((uint64_t)1 << 20)
#define SLOT_BASE 0x4000ULL /* 64 bytes: slots for widths 1, 2, 4, 8 */

/* ---- torn-value test -------------------------------------------------- */

#define TORN_ITERS 1000000

struct torn_ctx {
    vm_physmem_t *pm;
    pthread_barrier_t start;
    unsigned long errors;    /* atomic */
    unsigned long reads_ok;  /* atomic */
};

/* 0x0101..01 * k truncated to `size` bytes: all bytes equal k. */
static uint64_t splat(uint8_t k, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)k << (8 * i);
    return v;
}

static bool all_bytes_equal(uint64_t v, unsigned size)
{
    return v == splat((uint8_t)v, size);
}

/* Address of the slot for `size`; a slot straddles no granule. */
static uint64_t slot(unsigned size, unsigned idx)
{
    return SLOT_BASE + (uint64_t)size * 16 + (uint64_t)idx * size;
}

static void *torn_writer(void *arg)
{
    struct torn_ctx *c = arg;
    static const unsigned sizes[] = {1, 2, 4, 8};

    pthread_barrier_wait(&c->start);
    for (unsigned i = 0; i < TORN_ITERS; i++) {
        uint8_t k = (uint8_t)(i * 37 + 1);
        unsigned size = sizes[i & 3];
        uint64_t pa = slot(size, (i >> 2) & 1);
        vm_err_t err;
        /* Alternate the typed and the sized entry points. */
        switch (size) {
        case 1: err = vm_physmem_write_u8(c->pm, pa, k); break;
        case 2: err = vm_physmem_write_u16(c->pm, pa, (uint16_t)splat(k, 2)); break;
        case 4: err = vm_physmem_write_u32(c->pm, pa, (uint32_t)splat(k, 4)); break;
        default: err = vm_physmem_write(c->pm, pa, splat(k, 8), 8); break;
        }
        if (err)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *torn_reader(void *arg)
{
    struct torn_ctx *c = arg;
    static const unsigned sizes[] = {1, 2, 4, 8};
    unsigned long ok = 0;

    pthread_barrier_wait(&c->start);
    for (unsigned i = 0; i < TORN_ITERS; i++) {
        unsigned size = sizes[i & 3];
        uint64_t v = 0;
        vm_err_t err;
        switch (size) {
        case 2: {
            uint16_t h = 0;
            err = vm_physmem_read_u16(c->pm, slot(2, (i >> 2) & 1), &h);
            v = h;
            break;
        }
        case 4: {
            uint32_t w = 0;
            err = vm_physmem_read_u32(c->pm, slot(4, (i >> 2) & 1), &w);
            v = w;
            break;
        }
        default:
            err = vm_physmem_read(c->pm, slot(size, (i >> 2) & 1), (uint8_t)size, &v);
            break;
        }
        if (err || !all_bytes_equal(v, size))
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
        else
            ok++;
    }
    __atomic_fetch_add(&c->reads_ok, ok, __ATOMIC_RELAXED);
    return NULL;
}

static void test_physmem_mt_no_torn_aligned_values(void **state)
{
    (void)state;
    struct torn_ctx c = {.pm = vm_physmem_new(RAM_SIZE, false)};
    pthread_t th[4];

    assert_non_null(c.pm);
    /* The checker itself must be able to fail: a mixed value is torn. */
    assert_false(all_bytes_equal(0x0101010102020202ULL, 8));
    assert_true(all_bytes_equal(splat(0x5a, 4), 4));
    assert_int_equal(pthread_barrier_init(&c.start, NULL, 4), 0);
    assert_int_equal(pthread_create(&th[0], NULL, torn_writer, &c), 0);
    assert_int_equal(pthread_create(&th[1], NULL, torn_writer, &c), 0);
    assert_int_equal(pthread_create(&th[2], NULL, torn_reader, &c), 0);
    assert_int_equal(pthread_create(&th[3], NULL, torn_reader, &c), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.reads_ok, 2 * TORN_ITERS);
    pthread_barrier_destroy(&c.start);
    vm_physmem_free(c.pm);
}

/* ---- torn words in bulk reads ------------------------------------------- */

#define BULK_BASE 0x10000ULL
#define BULK_LEN 128u   /* small: the writer comes back to each word every 16 stores */
#define BULK_ROUNDS 200000

struct bulk_ctx {
    vm_physmem_t *pm;
    unsigned stop;           /* atomic */
    unsigned long errors;    /* atomic */
    unsigned long torn;      /* atomic */
};

static void *bulk_writer(void *arg)
{
    struct bulk_ctx *c = arg;
    for (unsigned i = 0; !__atomic_load_n(&c->stop, __ATOMIC_RELAXED); i++) {
        uint64_t pa = BULK_BASE + 8 * (uint64_t)(i % (BULK_LEN / 8));
        if (vm_physmem_write_u64(c->pm, pa, splat((uint8_t)(i * 37 + 1), 8)) != VM_OK)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* Copy the block out again and again; every aligned word must have equal
 * bytes. Odd rounds start 8 bytes in, so a word precedes the 16-byte loads. */
static void *bulk_reader(void *arg)
{
    struct bulk_ctx *c = arg;
    uint64_t buf[BULK_LEN / 8];
    for (unsigned r = 0; r < BULK_ROUNDS; r++) {
        const unsigned skip = (r & 1) * 8;
        if (vm_physmem_read_buf(c->pm, BULK_BASE + skip, buf, BULK_LEN - skip) != VM_OK) {
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
            continue;
        }
        for (unsigned i = 0; i < (BULK_LEN - skip) / 8; i++)
            if (!all_bytes_equal(buf[i], 8))
                __atomic_fetch_add(&c->torn, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* One torn-word run: nloop threads of `looper` run until stop, nfinite
 * threads of `finite` do their rounds; then stop, and no errors, no torn
 * word. wide: the 16-byte path where the host has it, else the 8-byte one. */
static void bulk_run(bool wide, void *(*looper)(void *), unsigned nloop,
                     void *(*finite)(void *), unsigned nfinite)
{
    struct bulk_ctx c = {.pm = vm_physmem_new(RAM_SIZE, false)};
    pthread_t th[4];
    const bool host_wide = physmem_wide_copy;

    assert_non_null(c.pm);
    assert_true(nloop + nfinite <= 4);
    physmem_wide_copy = wide && host_wide; /* set before any thread starts */
    for (unsigned i = 0; i < nloop + nfinite; i++)
        assert_int_equal(pthread_create(&th[i], NULL, i < nloop ? looper : finite, &c), 0);
    for (unsigned i = nloop; i < nloop + nfinite; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    __atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < nloop; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    physmem_wide_copy = host_wide;
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.torn, 0);
    vm_physmem_free(c.pm);
}

static void test_physmem_mt_bulk_read_no_torn_words(void **state)
{
    (void)state;
    bulk_run(true, bulk_writer, 1, bulk_reader, 2);  /* the 16-byte loads where the host has them */
    bulk_run(false, bulk_writer, 1, bulk_reader, 2); /* the 8-byte path */
}

/* ---- torn words in bulk writes ------------------------------------------- */

/* Write the block again and again, every word all-bytes-equal and different
 * from the last round's; odd rounds start 8 bytes in, so a word precedes
 * the 16-byte stores. */
static void *bulk_block_writer(void *arg)
{
    struct bulk_ctx *c = arg;
    uint64_t buf[BULK_LEN / 8];
    for (unsigned r = 0; r < BULK_ROUNDS; r++) {
        const unsigned skip = (r & 1) * 8;
        for (unsigned i = 0; i < BULK_LEN / 8; i++)
            buf[i] = splat((uint8_t)(r * 37 + i * 3 + 1), 8);
        if (vm_physmem_write_buf(c->pm, BULK_BASE + skip, buf, BULK_LEN - skip) != VM_OK)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* Read the block's words one at a time; every one must have equal bytes. */
static void *word_reader(void *arg)
{
    struct bulk_ctx *c = arg;
    for (unsigned i = 0; !__atomic_load_n(&c->stop, __ATOMIC_RELAXED); i++) {
        uint64_t v;
        if (vm_physmem_read_u64(c->pm, BULK_BASE + 8 * (uint64_t)(i % (BULK_LEN / 8)), &v) != VM_OK)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
        else if (!all_bytes_equal(v, 8))
            __atomic_fetch_add(&c->torn, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void test_physmem_mt_bulk_write_no_torn_words(void **state)
{
    (void)state;
    bulk_run(true, word_reader, 2, bulk_block_writer, 1);  /* the 16-byte stores where the host has them */
    bulk_run(false, word_reader, 2, bulk_block_writer, 1); /* the 8-byte path */
}

/* ---- concurrent map_mmio -------------------------------------------------- */

#define NREG 48
#define MMIO_BASE 0x40000000ULL
#define RACE_BASE 0x80000000ULL

struct mt_dev {
    unsigned id;
    unsigned long reads, polls, destroys; /* atomic */
};

static vm_err_t mt_read(void *opaque, uint64_t offset, uint8_t size, uint64_t *val)
{
    struct mt_dev *d = opaque;
    (void)size;
    __atomic_fetch_add(&d->reads, 1, __ATOMIC_RELAXED);
    *val = ((uint64_t)d->id << 16) | offset;
    return VM_OK;
}

static vm_err_t mt_write(void *opaque, uint64_t offset, uint64_t val, uint8_t size)
{
    (void)opaque;
    (void)offset;
    (void)val;
    (void)size;
    return VM_OK;
}

static void mt_poll(void *opaque)
{
    struct mt_dev *d = opaque;
    __atomic_fetch_add(&d->polls, 1, __ATOMIC_RELAXED);
}

static void mt_destroy(void *opaque)
{
    struct mt_dev *d = opaque;
    __atomic_fetch_add(&d->destroys, 1, __ATOMIC_RELAXED);
}

static const vm_mmio_ops_t mt_ops = {mt_read, mt_write, mt_poll, mt_destroy};

struct map_ctx {
    vm_physmem_t *pm;
    pthread_barrier_t start;
    struct mt_dev devs[NREG];
    struct mt_dev race[2][NREG];     /* one candidate per racer per base */
    unsigned race_wins[NREG];        /* atomic */
    unsigned long errors;            /* atomic */
    int mapper_done;                 /* atomic */
};

static void *mapper(void *arg)
{
    struct map_ctx *c = arg;

    pthread_barrier_wait(&c->start);
    for (unsigned i = 0; i < NREG; i++)
        if (vm_physmem_map_mmio(c->pm, MMIO_BASE + i * 0x1000ULL, 0x1000, &mt_ops,
                                &c->devs[i]) != VM_OK)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&c->mapper_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Two of these race to map the same NREG bases. */
static void *racer(void *arg, int who)
{
    struct map_ctx *c = arg;

    pthread_barrier_wait(&c->start);
    for (unsigned i = 0; i < NREG; i++) {
        vm_err_t err = vm_physmem_map_mmio(c->pm, RACE_BASE + i * 0x100ULL, 0x100, &mt_ops,
                                           &c->race[who][i]);
        if (err == VM_OK)
            __atomic_fetch_add(&c->race_wins[i], 1, __ATOMIC_RELAXED);
        else if (err != VM_ERR_MMIO)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *racer0(void *arg) { return racer(arg, 0); }
static void *racer1(void *arg) { return racer(arg, 1); }

/* Reads every region until the mapper is done; a region once seen must
 * stay visible and answer with its own id; RAM keeps working meanwhile. */
static void *accessor(void *arg)
{
    struct map_ctx *c = arg;
    bool seen[NREG] = {false};
    bool done = false;

    pthread_barrier_wait(&c->start);
    for (unsigned round = 0; !done; round++) {
        done = __atomic_load_n(&c->mapper_done, __ATOMIC_ACQUIRE);
        for (unsigned i = 0; i < NREG; i++) {
            uint32_t v = 0;
            vm_err_t err = vm_physmem_read_u32(c->pm, MMIO_BASE + i * 0x1000ULL + 8, &v);
            if (err == VM_OK) {
                if (v != ((i << 16) | 8))
                    __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
                seen[i] = true;
            } else if (err != VM_ERR_INVALID_ADDRESS || seen[i] || done) {
                /* after mapper_done every region must be there */
                __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
            }
        }
        uint64_t r = 0;
        if (vm_physmem_write_u64(c->pm, 0x100, round) != VM_OK ||
            vm_physmem_read_u64(c->pm, 0x100, &r) != VM_OK)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
        vm_physmem_poll_devices(c->pm);
    }
    return NULL;
}

static void test_physmem_mt_concurrent_map_mmio(void **state)
{
    (void)state;
    struct map_ctx *c = calloc(1, sizeof(*c));
    pthread_t th[5];

    assert_non_null(c);
    c->pm = vm_physmem_new(RAM_SIZE, false);
    assert_non_null(c->pm);
    for (unsigned i = 0; i < NREG; i++) {
        c->devs[i].id = i;
        c->race[0][i].id = c->race[1][i].id = 1000 + i;
    }
    assert_int_equal(pthread_barrier_init(&c->start, NULL, 5), 0);
    assert_int_equal(pthread_create(&th[0], NULL, mapper, c), 0);
    assert_int_equal(pthread_create(&th[1], NULL, accessor, c), 0);
    assert_int_equal(pthread_create(&th[2], NULL, accessor, c), 0);
    assert_int_equal(pthread_create(&th[3], NULL, racer0, c), 0);
    assert_int_equal(pthread_create(&th[4], NULL, racer1, c), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(c->errors, 0);
    for (unsigned i = 0; i < NREG; i++) {
        assert_int_equal(c->race_wins[i], 1);
        assert_true(c->devs[i].reads >= 2); /* both accessors saw it */
        assert_true(c->devs[i].polls >= 1);
    }
    vm_physmem_free(c->pm);
    for (unsigned i = 0; i < NREG; i++) {
        assert_int_equal(c->devs[i].destroys, 1);
        /* destroy ran exactly for the racer that won. */
        assert_int_equal(c->race[0][i].destroys + c->race[1][i].destroys, 1);
    }
    pthread_barrier_destroy(&c->start);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_physmem_mt_no_torn_aligned_values),
        cmocka_unit_test(test_physmem_mt_bulk_read_no_torn_words),
        cmocka_unit_test(test_physmem_mt_bulk_write_no_torn_words),
        cmocka_unit_test(test_physmem_mt_concurrent_map_mmio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
